/* Splitting a byte stream into protocol lines (xp_frame.h). */
#include <string.h>

#include "xp_frame.h"

void xp_framer_init(struct xp_framer *f)
{
	f->len = 0;
	f->discarding = false;
	f->skipped = 0;
	f->buf[0] = '\0';
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	}
	return true;
}

/* The line in the buffer is complete: report it (or skip it when blank). */
static enum xp_frame_status complete(struct xp_framer *f, const char **line, size_t *len)
{
	enum xp_frame_status st;

	if (f->discarding) {
		*line = NULL;
		*len = f->skipped;
		st = XP_FRAME_OVERSIZE;
	} else if (blank(f->buf, f->len)) {
		st = XP_FRAME_NONE;
	} else {
		f->buf[f->len] = '\0';
		*line = f->buf;
		*len = f->len;
		st = XP_FRAME_LINE;
	}
	f->len = 0;
	f->discarding = false;
	f->skipped = 0;
	return st;
}

static void take(struct xp_framer *f, const char *p, size_t chunk)
{
	if (f->discarding) {
		f->skipped += chunk;
	} else if (chunk > XP_LINE_MAX - f->len) {
		f->discarding = true;
		f->skipped = f->len + chunk;
		f->len = 0;
	} else {
		memcpy(f->buf + f->len, p, chunk);
		f->len += chunk;
	}
}

enum xp_frame_status xp_framer_feed(struct xp_framer *f, const char *data, size_t n, size_t *used,
				    const char **line, size_t *len)
{
	enum xp_frame_status st;

	*used = 0;
	while (*used < n) {
		const char *p = data + *used;
		const char *nl = memchr(p, '\n', n - *used);
		size_t chunk = nl ? (size_t)(nl - p) : n - *used;

		take(f, p, chunk);
		*used += chunk;
		if (nl == NULL)
			break;
		*used += 1;
		if ((st = complete(f, line, len)) != XP_FRAME_NONE)
			return st;
	}
	return XP_FRAME_NONE;
}

enum xp_frame_status xp_framer_finish(struct xp_framer *f, const char **line, size_t *len)
{
	if (!f->discarding && f->len == 0)
		return XP_FRAME_NONE;
	return complete(f, line, len);
}
