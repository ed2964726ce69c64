/*
 * Unit tests of agent/clone_progress.c: vmkfstools' progress and failure lines
 * (formats from ../shared/esxi-samples/FACTS.md), the bounded stderr tail, and
 * hostile text echoed in the "Cloning disk '<source>'..." line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clone_progress.h"
#include "tap.h"
#include "xp_utf8.h"

/* Feeds text the way spawn's line callback would: split at '\r' and '\n', empty pieces skipped. */
static unsigned feed_text(struct ag_clone_progress *p, enum ag_stream s, const char *text)
{
	unsigned all = 0;
	const char *start = text;

	for (const char *c = text;; c++) {
		if (*c == '\r' || *c == '\n' || *c == '\0') {
			if (c > start)
				all |= ag_clone_progress_feed(p, s, start, (size_t)(c - start));
			if (*c == '\0')
				break;
			start = c + 1;
		}
	}
	return all;
}

static int percent_of(const char *s)
{
	size_t used = 0;

	return ag_clone_percent(s, strlen(s), &used);
}

static void test_percent_grammar(void)
{
	size_t used = 0;

	is_int(percent_of("Clone: 0% done."), 0, "0%%");
	is_int(percent_of("Clone: 42% done."), 42, "42%%");
	is_int(percent_of("Clone: 100% done."), 100, "100%%");
	is_int(percent_of("  Clone: 7% done."), 7, "leading blanks are fine");
	is_int(ag_clone_percent("Clone: 12% done.Failed", 22, &used), 12, "text may follow");
	is_int(used, strlen("Clone: 12% done."), "used spans the progress text only");
	is_int(percent_of("Clone: 101% done."), -1, "over 100 refused");
	is_int(percent_of("Clone: 042% done."), -1, "leading zero refused");
	is_int(percent_of("Clone: 1000% done."), -1, "four digits refused");
	is_int(percent_of("Clone: % done."), -1, "no digits refused");
	is_int(percent_of("Clone: -5% done."), -1, "sign refused");
	is_int(percent_of("Clone: 5% done"), -1, "missing final dot refused");
	is_int(percent_of("Clone: 5%done."), -1, "missing blank refused");
	is_int(percent_of("clone: 5% done."), -1, "case matters");
	is_int(percent_of("Cloning disk 'x'..."), -1, "the cloning line is no progress");
	is_int(ag_clone_percent("Clone: 5", 8, &used), -1, "cut piece refused");
}

static void test_success_run(void)
{
	struct ag_clone_progress p;
	unsigned changed;

	ag_clone_progress_init(&p);
	is_int(p.percent, -1, "no progress before the first line");
	changed = feed_text(&p, AG_STREAM_STDOUT,
			    "Destination disk format: raw disk mapping to '/vmfs/devices/disks/naa.1'\n"
			    "Cloning disk '/vmfs/volumes/ds1/vm/vm.vmdk'...\n");
	is_int(changed, 0, "header lines change nothing");
	changed = feed_text(&p, AG_STREAM_STDOUT, "\rClone: 0% done.\rClone: 1% done.\rClone: 1% done.");
	ok(changed & AG_PROGRESS_PERCENT, "progress changes percent");
	is_int(p.percent, 1, "last progress wins");
	is_int(ag_clone_progress_feed(&p, AG_STREAM_STDOUT, "Clone: 1% done.", 15), 0,
	       "same percent again: no change");
	feed_text(&p, AG_STREAM_STDOUT, "\rClone: 100% done.\n");
	is_int(p.percent, 100, "100%% at the end");
	ok(!p.failed, "no failure");
	is_int(p.tail_len, 0, "stdout never reaches the stderr tail");
}

static void test_failure_line(void)
{
	struct ag_clone_progress p;
	unsigned changed;

	ag_clone_progress_init(&p);
	/* The real shape: the failure follows the last progress text on the same line. */
	changed = feed_text(&p, AG_STREAM_STDOUT,
			    "\rClone: 12% done.Failed to clone disk: No such device or address (393225).\n");
	ok((changed & AG_PROGRESS_PERCENT) && (changed & AG_PROGRESS_FAILURE), "percent and failure");
	is_int(p.percent, 12, "percent before the failure");
	ok(p.failed && p.has_code, "failure with its code");
	ok(p.code == 393225, "code 393225");
	is_str(p.failure, "Failed to clone disk: No such device or address (393225).",
	       "failure text from 'Failed' on");

	ag_clone_progress_init(&p);
	feed_text(&p, AG_STREAM_STDERR, "Failed to open '/vmfs/volumes/ds1/x.vmdk': Could not find the file (4).");
	ok(p.failed && p.has_code && p.code == 4, "a 'Failed to open' line counts too");
	ok(strstr(p.tail, "Could not find the file") != NULL, "and is in the stderr tail");

	ag_clone_progress_init(&p);
	feed_text(&p, AG_STREAM_STDOUT, "Failed to clone disk: cut short");
	ok(p.failed && !p.has_code, "failure without the (code). ending: text kept, no code");
	is_str(p.failure, "Failed to clone disk: cut short", "text kept");

	ag_clone_progress_init(&p);
	feed_text(&p, AG_STREAM_STDOUT, "Failed to clone disk: x (99999999999999999999999).");
	ok(p.failed && !p.has_code, "a code beyond 64 bits is no code");
}

static void test_hostile_echo(void)
{
	struct ag_clone_progress p;
	unsigned changed;

	ag_clone_progress_init(&p);
	feed_text(&p, AG_STREAM_STDOUT, "\rClone: 30% done.");
	changed = feed_text(&p, AG_STREAM_STDOUT,
			    "Cloning disk '/vmfs/volumes/ds1/Clone: 99% done.Failed to clone disk: x (1)./"
			    "$(reboot); \"q\" \\ é.vmdk'...\n");
	is_int(changed, 0, "a source path that looks like progress or failure changes nothing");
	is_int(p.percent, 30, "percent unchanged");
	ok(!p.failed, "no failure recorded");
}

static void test_tail_bounds(void)
{
	struct ag_clone_progress p;
	char line[64];

	ag_clone_progress_init(&p);
	for (int i = 0; i < 5000; i++) {
		snprintf(line, sizeof(line), "warning %d: ünïcode €", i);
		ag_clone_progress_feed(&p, AG_STREAM_STDERR, line, strlen(line));
	}
	ok(p.tail_len <= XP_STDERR_TAIL_MAX, "tail within XP_STDERR_TAIL_MAX (%zu)", p.tail_len);
	ok(p.tail_len > XP_STDERR_TAIL_MAX - 64, "tail nearly full");
	ok(strlen(p.tail) == p.tail_len, "tail NUL-terminated at its length");
	ok(xp_utf8_valid(p.tail, p.tail_len, NULL), "tail is valid UTF-8 after cuts");
	ok(p.tail_len >= 24 && strcmp(p.tail + p.tail_len - strlen("warning 4999: ünïcode €\n"),
				      "warning 4999: ünïcode €\n") == 0,
	   "tail ends with the last line");
	ok(p.pieces == 5000, "pieces counted");

	{
		/* One piece longer than the whole tail: only its end survives, whole characters. */
		size_t n = 3 * XP_STDERR_TAIL_MAX + 1;
		char *big = malloc(n + 1);

		for (size_t i = 0; i < n; i += 2)
			memcpy(big + i, "é", i + 2 <= n ? 2 : 1);
		big[n - 1] = 'Z';
		big[n] = '\0';
		ag_clone_progress_init(&p);
		ag_clone_progress_feed(&p, AG_STREAM_STDERR, big, n);
		ok(p.tail_len <= XP_STDERR_TAIL_MAX && xp_utf8_valid(p.tail, p.tail_len, NULL),
		   "overlong piece: bounded, valid UTF-8");
		ok(p.tail_len >= 2 && p.tail[p.tail_len - 2] == 'Z', "overlong piece: its end kept");
		free(big);
	}
}

static void test_bytes(void)
{
	struct ag_clone_progress p;
	const char bad[] = { 'a', '\xff', 'b', '\0', 'c', '\xc3', 0 };
	char out[8];

	ag_clone_progress_init(&p);
	ag_clone_progress_feed(&p, AG_STREAM_STDERR, bad, 6);
	is_str(p.tail, "a?b?c?\n", "invalid bytes and NUL become '?'");

	is_int(ag_clone_text_copy(out, sizeof(out), "abcdefé", 8), 6, "copy stops before a split character");
	is_str(out, "abcdef", "copy result");
	is_int(ag_clone_text_copy(out, 1, "abc", 3), 0, "cap 1: empty string");
	ag_clone_progress_init(&p);
	feed_text(&p, AG_STREAM_STDOUT, "Failed to clone disk: \xff\xfe (5).");
	ok(p.failed && p.has_code && xp_utf8_valid(p.failure, strlen(p.failure), NULL),
	   "failure text made valid UTF-8");
}

int main(void)
{
	test_percent_grammar();
	test_success_run();
	test_failure_line();
	test_hostile_echo();
	test_tail_bounds();
	test_bytes();
	return tap_done();
}
