/* The agent's bounded line reader: framing, bounds, EOF handling. */
#include <string.h>
#include <unistd.h>

#include "line_reader.h"
#include "tap.h"

/* A reader over a pipe holding `data`, writer closed. */
static int reader_over(struct ag_line_reader *r, const char *data, size_t len, size_t max)
{
	int p[2];

	if (pipe(p) != 0)
		return -1;
	if (write(p[1], data, len) != (ssize_t)len)
		return -1;
	close(p[1]);
	return ag_line_reader_init(r, p[0], max);
}

static void done(struct ag_line_reader *r)
{
	close(r->fd);
	ag_line_reader_free(r);
}

int main(void)
{
	struct ag_line_reader r;
	char *line;
	size_t len;

	ok(reader_over(&r, "a\nbb\n\nccc", 9, 16) == 0, "reader over a pipe");
	ok(ag_line_next(&r, &line, &len) == AG_LINE_OK && len == 1 && strcmp(line, "a") == 0,
	   "first line");
	ok(ag_line_next(&r, &line, &len) == AG_LINE_OK && strcmp(line, "bb") == 0, "second line");
	ok(ag_line_next(&r, &line, &len) == AG_LINE_OK && len == 0, "empty line");
	ok(ag_line_next(&r, &line, &len) == AG_LINE_OK && strcmp(line, "ccc") == 0,
	   "unterminated last line is returned at EOF");
	is_int(ag_line_next(&r, &line, &len), AG_LINE_EOF, "then EOF");
	done(&r);

	/* Exactly max bytes is accepted, max + 1 is not. */
	ok(reader_over(&r, "12345678\n123456789\n", 19, 8) == 0, "reader with max 8");
	ok(ag_line_next(&r, &line, &len) == AG_LINE_OK && len == 8, "line of exactly max bytes");
	is_int(ag_line_next(&r, &line, &len), AG_LINE_TOO_LONG, "line of max+1 bytes refused");
	done(&r);

	/* A long line without newline is refused without reading it all. */
	char big[4096];
	memset(big, 'x', sizeof(big));
	ok(reader_over(&r, big, sizeof(big), 100) == 0, "reader over 4 KiB without newline");
	is_int(ag_line_next(&r, &line, &len), AG_LINE_TOO_LONG, "unterminated oversize refused");
	done(&r);

	ok(reader_over(&r, "", 0, 8) == 0, "reader over nothing");
	is_int(ag_line_next(&r, &line, &len), AG_LINE_EOF, "immediate EOF");
	done(&r);

	/* NUL bytes inside a line are kept and counted (the protocol decoder refuses them). */
	ok(reader_over(&r, "a\0b\n", 4, 8) == 0, "reader over a line with NUL");
	ok(ag_line_next(&r, &line, &len) == AG_LINE_OK && len == 3, "NUL kept in the length");
	done(&r);
	return tap_done();
}
