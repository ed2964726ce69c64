/*
 * What vmkfstools -i prints while it clones, turned into task record fields.
 *
 * Output facts (../shared/esxi-samples/FACTS.md): "Clone: NN% done." redrawn in
 * place with '\r'; on failure "Failed to clone disk: <text> (<code>)." written
 * straight after the last progress text, on the same line
 * ("Clone: 12% done.Failed to clone disk: No such device or address (393225).").
 * spawn.h's line callback already splits the output at '\r' and '\n', so this
 * parser is fed one piece at a time and never sees a separator.
 *
 * The output is not an attacker's channel, but it echoes the source path, which
 * is: a progress or failure text is only recognised at the start of a piece (or,
 * for the failure, right after a progress text), never inside "Cloning disk
 * '<path>'...". Everything kept is valid UTF-8 without NUL, bounded.
 */
#ifndef XCLONE_AGENT_CLONE_PROGRESS_H
#define XCLONE_AGENT_CLONE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spawn.h"
#include "xp_limits.h"

/* What a piece changed (bit mask returned by ag_clone_progress_feed). */
enum {
	AG_PROGRESS_PERCENT = 1, /* percent changed */
	AG_PROGRESS_FAILURE = 2, /* a failure line was (re)recorded */
	AG_PROGRESS_STDERR = 4,  /* the stderr tail grew */
};

struct ag_clone_progress {
	int percent;                      /* last "Clone: N% done.", -1 before the first */
	bool failed;                      /* a "Failed to ..." line was seen */
	bool has_code;                    /* it had the "(<code>)." ending */
	uint64_t code;                    /* vmkfstools' numeric error code */
	char failure[XP_MESSAGE_MAX + 1]; /* that line from "Failed" on */
	char tail[XP_STDERR_TAIL_MAX + 1];/* last bytes of stderr, pieces joined by '\n' */
	size_t tail_len;
	uint64_t pieces;                  /* pieces fed, both streams */
};

void ag_clone_progress_init(struct ag_clone_progress *p);

/* Feeds one piece of output (no '\r' or '\n' inside); returns AG_PROGRESS_* bits. */
unsigned ag_clone_progress_feed(struct ag_clone_progress *p, enum ag_stream stream,
				const char *piece, size_t len);

/*
 * "Clone: N% done." at the start of s (leading blanks allowed), N in 0..100
 * written without sign or leading zeros; returns N and sets *used to the bytes
 * it spans, or -1 when s does not start with one.
 */
int ag_clone_percent(const char *s, size_t len, size_t *used);

/*
 * Copies src into dst (cap bytes, NUL-terminated) as valid UTF-8: invalid bytes
 * and NUL become '?', so the length never grows; a cut keeps whole characters.
 * Returns the bytes written. For tool output going into a task record.
 */
size_t ag_clone_text_copy(char *dst, size_t cap, const char *src, size_t len);

#endif
