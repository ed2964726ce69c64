/*
 * libFuzzer target: the vmkfstools output parser. The input is split as spawn's
 * line callback splits output (at '\r' and '\n', pieces of at most
 * AG_SPAWN_LINE_MAX bytes); the first byte picks the stream of each piece
 * (bit i of a rolling mask), so stdout and stderr interleave. Beyond "no crash,
 * no overread", it checks what the parser promises the task record: percent in
 * -1..100, text fields NUL-terminated, bounded, valid UTF-8, free of NUL.
 */
#include <stdint.h>
#include <string.h>

#include "clone_progress.h"
#include "xp_utf8.h"

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void check_text(const char *s, size_t cap)
{
	const char *end = memchr(s, '\0', cap);

	check(end != NULL);
	check(xp_utf8_valid(s, (size_t)(end - s), NULL));
}

static void feed(struct ag_clone_progress *p, uint8_t mask, unsigned *n, const char *s, size_t len)
{
	int before = p->percent;
	unsigned changed;

	if (len == 0)
		return;
	changed = ag_clone_progress_feed(p, (mask >> (*n % 8)) & 1 ? AG_STREAM_STDERR : AG_STREAM_STDOUT,
					 s, len);
	(*n)++;
	check(p->percent >= -1 && p->percent <= 100);
	check(((changed & AG_PROGRESS_PERCENT) != 0) == (p->percent != before));
	check(p->tail_len <= XP_STDERR_TAIL_MAX && p->tail[p->tail_len] == '\0');
	check(strlen(p->tail) == p->tail_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ag_clone_progress p;
	const char *s = (const char *)data + 1, *start;
	size_t len = size ? size - 1 : 0;
	uint8_t mask = size ? data[0] : 0;
	unsigned n = 0;

	ag_clone_progress_init(&p);
	start = s;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n') {
			feed(&p, mask, &n, start, (size_t)(s + i - start));
			start = s + i + 1;
		} else if ((size_t)(s + i - start) == AG_SPAWN_LINE_MAX) {
			feed(&p, mask, &n, start, AG_SPAWN_LINE_MAX);
			start = s + i;
		}
	}
	feed(&p, mask, &n, start, (size_t)(s + len - start));
	check_text(p.tail, sizeof(p.tail));
	check_text(p.failure, sizeof(p.failure));
	check(p.failed || p.failure[0] == '\0');
	check(!p.has_code || p.failed);
	{
		/* ag_clone_percent on the raw input must agree with its own contract. */
		size_t used = 0;
		int v = ag_clone_percent(s, len, &used);

		check(v == -1 || (v >= 0 && v <= 100 && used <= len && used >= 15));
	}
	return 0;
}
