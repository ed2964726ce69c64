/*
 * libFuzzer target for the client side: response decode, result and event
 * shapes, task records. Properties for any input:
 *  - a decoded response re-encodes and decodes to the same kind, id and content;
 *  - checking the result against every op's shape never crashes, and a task record
 *    that decodes re-encodes to an equal record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xproto.h"

static void check_reencode(const struct xp_response *r)
{
	struct xp_response back;
	struct xp_error err;
	cJSON *copy = NULL;
	char *line;

	switch (r->kind) {
	case XP_RESPONSE_RESULT:
		copy = cJSON_Duplicate(r->result, 1);
		line = xp_response_ok(r->id, copy, &err);
		break;
	case XP_RESPONSE_EVENT:
		copy = cJSON_Duplicate(r->data, 1);
		line = xp_event(r->id, r->event, copy, &err);
		break;
	default:
		line = xp_response_error(r->id, r->code, r->message, &err);
		break;
	}
	/* A decoded line is at most 64 KiB and re-encoding never grows it past that. */
	if (line == NULL)
		abort();
	if (xp_response_decode(line, strlen(line), &back, &err) != 0 || back.kind != r->kind ||
	    strcmp(back.id, r->id) != 0)
		abort();
	if (r->kind == XP_RESPONSE_RESULT && !cJSON_Compare(back.result, r->result, 1))
		abort();
	if (r->kind == XP_RESPONSE_EVENT &&
	    (strcmp(back.event, r->event) != 0 || !cJSON_Compare(back.data, r->data, 1)))
		abort();
	if (r->kind == XP_RESPONSE_ERROR &&
	    (back.code != r->code || strcmp(back.message, r->message) != 0))
		abort();
	xp_response_free(&back);
	free(line);
}

static void check_shapes(const struct xp_response *r)
{
	struct xp_error err;

	if (r->kind == XP_RESPONSE_RESULT) {
		for (unsigned op = 0; op < XP_OP_COUNT; op++)
			xp_result_check((enum xp_op)op, r->result, &err);
	} else if (r->kind == XP_RESPONSE_EVENT) {
		xp_event_check(r->event, r->data, &err);
	}
}

static void check_task(const char *data, size_t size)
{
	struct xp_task *t = malloc(sizeof(*t)), *back = malloc(sizeof(*back));
	struct xp_error err;
	char *line;

	if (t != NULL && back != NULL && xp_task_decode(data, size, t, &err) == 0) {
		line = xp_task_encode(t, &err);
		if (line == NULL || xp_task_decode(line, strlen(line), back, &err) != 0 ||
		    !xp_task_equal(t, back))
			abort();
		free(line);
	}
	free(t);
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xp_response r;
	struct xp_error err;

	if (xp_response_decode((const char *)data, size, &r, &err) == 0) {
		check_reencode(&r);
		check_shapes(&r);
		xp_response_free(&r);
	}
	check_task((const char *)data, size);
	return 0;
}
