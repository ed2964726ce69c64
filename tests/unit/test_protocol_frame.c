/*
 * Framing (PROTOCOL.md section 1): LF-separated lines, at most 65536 bytes, blank
 * lines skipped, oversize lines reported once and skipped up to their LF.
 */
#include "test_protocol_util.h"

/* Feeds all of data in chunks of `chunk` bytes; collects lines as "[line]" and oversize as "<N>". */
static char *frame_all(struct xp_framer *f, const char *data, size_t n, size_t chunk)
{
	char *out = tp_fmt("%s", "");

	for (size_t off = 0; off < n;) {
		size_t take = n - off < chunk ? n - off : chunk, used;
		const char *line;
		size_t len;
		enum xp_frame_status st = xp_framer_feed(f, data + off, take, &used, &line, &len);
		char *next;

		off += used;
		if (st == XP_FRAME_LINE)
			next = tp_fmt("%s[%.*s]", out, (int)len, line);
		else if (st == XP_FRAME_OVERSIZE)
			next = tp_fmt("%s<%zu>", out, len);
		else
			continue;
		free(out);
		out = next;
	}
	return out;
}

static void expect_frames(const char *data, size_t n, size_t chunk, const char *want,
			  const char *name)
{
	struct xp_framer *f = malloc(sizeof(*f));
	char *got;

	xp_framer_init(f);
	got = frame_all(f, data, n, chunk);
	is_str(got, want, "%s (chunks of %zu)", name, chunk);
	free(got);
	free(f);
}

static void test_basic(void)
{
	const char *two = "{\"a\":1}\n{\"b\":2}\n";
	static const size_t chunks[] = { 1, 2, 3, 7, 4096 };

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
		expect_frames(two, strlen(two), chunks[i], "[{\"a\":1}][{\"b\":2}]", "two lines");
	expect_frames("\n \r\n\t\nx\n\n", 10, 4096, "[x]", "blank lines are skipped");
	expect_frames("x\r\ny\n", 5, 4096, "[x\r][y]", "a CR before LF stays in the line");
	expect_frames("no newline yet", 14, 4096, "", "an unterminated line waits");
}

static void test_nul_kept(void)
{
	struct xp_framer *f = malloc(sizeof(*f));
	const char *line;
	size_t used, len;

	xp_framer_init(f);
	ok(xp_framer_feed(f, "a\0b\n", 4, &used, &line, &len) == XP_FRAME_LINE && used == 4 &&
		   len == 3 && memcmp(line, "a\0b", 3) == 0,
	   "a NUL byte stays in the line and counts in its length (the decoder refuses it)");
	free(f);
}

static void test_oversize(void)
{
	char *exact = tp_repeat("x", XP_LINE_MAX), *over = tp_repeat("x", XP_LINE_MAX + 1);
	char *data = tp_fmt("%s\n%s\n{}\n", exact, over);
	struct xp_framer *f = malloc(sizeof(*f));
	const char *line;
	size_t len, used, n = strlen(data);
	char *got;

	xp_framer_init(f);
	got = frame_all(f, data, n, 4096);
	ok(strncmp(got, "[xxx", 4) == 0 && strstr(got, "]<65537>[{}]") != NULL &&
		   strlen(got) == XP_LINE_MAX + 2 + strlen("<65537>[{}]"),
	   "65536 bytes is a line; 65537 is reported oversize once; the next line is intact");
	free(got);
	free(data);

	data = tp_fmt("%s%s\nz\n", over, over);
	got = frame_all(f, data, strlen(data), 1000);
	is_str(got, "<131074>[z]", "a 128 KiB line fed in pieces is one oversize report");
	free(got);
	free(data);

	xp_framer_init(f);
	ok(xp_framer_feed(f, "tail", 4, &used, &line, &len) == XP_FRAME_NONE && used == 4,
	   "a partial line is consumed");
	ok(xp_framer_finish(f, &line, &len) == XP_FRAME_LINE && len == 4 && memcmp(line, "tail", 4) == 0,
	   "at end of input the partial line is a line");
	ok(xp_framer_finish(f, &line, &len) == XP_FRAME_NONE, "finish resets the framer");
	xp_framer_feed(f, over, strlen(over), &used, &line, &len);
	ok(xp_framer_finish(f, &line, &len) == XP_FRAME_OVERSIZE && len == XP_LINE_MAX + 1,
	   "an oversize partial line at end of input is reported oversize");
	xp_framer_feed(f, "  ", 2, &used, &line, &len);
	ok(xp_framer_finish(f, &line, &len) == XP_FRAME_NONE, "a blank partial line is nothing");
	free(f);
	free(exact);
	free(over);
}

static void test_with_decoder(void)
{
	const char *stream = "{\"xclone\":1,\"id\":\"a\",\"op\":\"hello\",\"args\":{}}\r\n"
			     "{\"xclone\":1,\"id\":\"b\",\"op\":\"task.list\",\"args\":{}}\n";
	struct xp_framer *f = malloc(sizeof(*f));
	size_t off = 0, used, len, n = strlen(stream);
	const char *line;
	int decoded = 0;

	xp_framer_init(f);
	while (off < n) {
		struct xp_request req;
		struct xp_error err;

		if (xp_framer_feed(f, stream + off, n - off, &used, &line, &len) == XP_FRAME_LINE)
			decoded += xp_request_decode(line, len, &req, &err) == 0;
		off += used;
	}
	is_int(decoded, 2, "framed lines (one with CRLF) decode as requests");
	free(f);
}

int main(void)
{
	test_basic();
	test_nul_kept();
	test_oversize();
	test_with_decoder();
	return tap_done();
}
