/* Line channels over transport streams (see chan.h). */
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "xp_limits.h"

int xc_chan_open(const struct xc_transport_ops *ops, struct xc_transport *t, struct xc_chan **out,
		 int64_t deadline, struct xclone_error *err)
{
	struct xc_chan *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	c->ops = ops;
	xp_framer_init(&c->framer);
	if ((rc = ops->stream_open(t, &c->s, deadline, err)) != 0) {
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int xc_chan_send_line(struct xc_chan *c, const char *line, size_t len, int64_t deadline,
		      struct xclone_error *err)
{
	char small[4096], *buf = small;
	int rc;

	if (len + 1 > sizeof(small) && (buf = malloc(len + 1)) == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	memcpy(buf, line, len);
	buf[len] = '\n';
	rc = c->ops->stream_write(c->s, buf, len + 1, deadline, err);
	if (buf != small)
		free(buf);
	return rc;
}

static int oversize(size_t len, struct xclone_error *err)
{
	return xclone_error_set(err, XC_E_PROTOCOL,
				"the agent sent a line of %zu bytes, over the protocol's %d", len,
				XP_LINE_MAX);
}

int xc_chan_read_line(struct xc_chan *c, int64_t deadline, const char **line, size_t *len,
		      struct xclone_error *err)
{
	for (;;) {
		size_t used = 0, got = 0;
		enum xp_frame_status st;
		int rc;

		if (c->pos < c->len) {
			st = xp_framer_feed(&c->framer, c->buf + c->pos, c->len - c->pos, &used, line,
					    len);
			c->pos += used;
			if (st == XP_FRAME_LINE)
				return 0;
			if (st == XP_FRAME_OVERSIZE)
				return oversize(*len, err);
			continue;
		}
		if ((rc = c->ops->stream_read(c->s, c->buf, sizeof(c->buf), &got, deadline, err)) != 0)
			return rc;
		if (got == 0) {
			st = xp_framer_finish(&c->framer, line, len);
			if (st == XP_FRAME_LINE)
				return 0;
			if (st == XP_FRAME_OVERSIZE)
				return oversize(*len, err);
			return c->ops->stream_ended(c->s, deadline, err);
		}
		c->pos = 0;
		c->len = got;
	}
}

bool xc_chan_reusable(struct xc_chan *c)
{
	return c->pos == c->len && c->framer.len == 0 && !c->framer.discarding &&
	       c->ops->stream_usable(c->s);
}

void xc_chan_close(struct xc_chan *c)
{
	if (c == NULL)
		return;
	c->ops->stream_close(c->s);
	free(c);
}
