/*
 * A channel: one transport stream with line framing on top (the protocol's
 * framer, shared with the agent). The connection's pool hands channels out, one
 * caller at a time.
 */
#ifndef XCLONE_CHAN_H
#define XCLONE_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport.h"
#include "xp_frame.h"

struct xc_chan {
	const struct xc_transport_ops *ops;
	struct xc_stream *s;
	struct xp_framer framer;
	char buf[16384];     /* bytes read and not framed yet */
	size_t pos, len;
	struct xc_chan *next; /* the pool's idle list */
};

int xc_chan_open(const struct xc_transport_ops *ops, struct xc_transport *t, struct xc_chan **out,
		 int64_t deadline, struct xclone_error *err);

/* Sends line[0..len) and its LF in one write. */
int xc_chan_send_line(struct xc_chan *c, const char *line, size_t len, int64_t deadline,
		      struct xclone_error *err);

/*
 * The next line (without LF, NUL-terminated, valid until the next call). At end
 * of stream: the transport's account of why (XC_E_AGENT / XC_E_CONNECT); a line
 * over the protocol's limit: XC_E_PROTOCOL.
 */
int xc_chan_read_line(struct xc_chan *c, int64_t deadline, const char **line, size_t *len,
		      struct xclone_error *err);

/* Whether the channel can carry another request: nothing unread, connection alive. */
bool xc_chan_reusable(struct xc_chan *c);

void xc_chan_close(struct xc_chan *c);

#endif
