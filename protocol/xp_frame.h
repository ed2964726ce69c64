/*
 * Framing: one JSON object per line, LF-terminated, at most XP_LINE_MAX bytes
 * before the LF. xp_framer splits a byte stream into lines without doing any I/O,
 * so the agent's stdin/TLS loops and the client's transports frame identically.
 */
#ifndef XP_FRAME_H
#define XP_FRAME_H

#include <stdbool.h>
#include <stddef.h>

#include "xp_limits.h"

struct xp_framer {
	char buf[XP_LINE_MAX + 1]; /* the line being assembled (+ a NUL) */
	size_t len;
	bool discarding;           /* inside a line that is already too long */
	size_t skipped;            /* its length so far */
};

enum xp_frame_status {
	XP_FRAME_NONE,     /* all input consumed, no complete line yet */
	XP_FRAME_LINE,     /* *line, *len: a complete line without its LF, NUL-terminated */
	XP_FRAME_OVERSIZE, /* a line longer than XP_LINE_MAX ended; *len is its length */
};

void xp_framer_init(struct xp_framer *f);

/*
 * Consumes data[0..n) up to and including the first LF that completes a line, and
 * sets *used to the bytes consumed: call again with the rest until XP_FRAME_NONE.
 * A line is valid until the next call. Lines holding only spaces, tabs and CRs are
 * skipped (a blank line is not a request). An oversize line is reported once,
 * when its LF arrives, and its bytes are never buffered.
 */
enum xp_frame_status xp_framer_feed(struct xp_framer *f, const char *data, size_t n, size_t *used,
				    const char **line, size_t *len);

/*
 * At end of input: a last line without LF is still a line (XP_FRAME_LINE or
 * XP_FRAME_OVERSIZE), otherwise XP_FRAME_NONE. Resets the framer.
 */
enum xp_frame_status xp_framer_finish(struct xp_framer *f, const char **line, size_t *len);

#endif
