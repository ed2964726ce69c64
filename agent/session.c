/* The line-by-line request loop (see session.h). */
#include <stdio.h>
#include <stdlib.h>

#include "heap_pins.h"
#include "line_reader.h"
#include "log.h"
#include "session.h"

int ag_session_run(struct ag_ctx *ctx, int in_fd)
{
	struct ag_line_reader reader;
	struct ag_heap_pins pins;
	struct xp_request *req = malloc(sizeof(*req)); /* reused by every line */
	char *line;
	size_t len;
	int status = 0;

	if (req == NULL || ag_line_reader_init(&reader, in_fd, XP_LINE_MAX) != 0) {
		ag_write_error(ctx, NULL, XP_INTERNAL, "out of memory");
		free(req);
		return 1;
	}
	ag_heap_pins_hold(&pins);
	for (;;) {
		enum ag_line_status st = ag_line_next(&reader, &line, &len);

		if (st == AG_LINE_EOF)
			break;
		if (st == AG_LINE_TOO_LONG) {
			char msg[96];
			snprintf(msg, sizeof(msg), "line: longer than %d bytes; closing the session",
				 XP_LINE_MAX);
			ag_write_error(ctx, NULL, XP_BAD_REQUEST, msg);
			status = 1;
			break;
		}
		if (st != AG_LINE_OK) {
			ag_log(AG_LOG_WARN, "session input failed; closing");
			status = 1;
			break;
		}
		if (ag_dispatch_line_with(ctx, req, line, len) != 0) {
			status = 1; /* the peer is gone */
			break;
		}
	}
	ag_heap_pins_release(&pins);
	ag_line_reader_free(&reader);
	free(req);
	return status;
}
