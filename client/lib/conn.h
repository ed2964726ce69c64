/*
 * The connection handle (xclone_conn) seen from inside the library: the
 * caller's options with defaults filled in, the transport, and the pool of
 * channels that lets many threads run calls at once.
 */
#ifndef XCLONE_CONN_H
#define XCLONE_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "transport.h"
#include "xclone.h"
#include "xp_limits.h"

#define XC_OPTION_STRINGS 16

struct xclone_conn {
	struct xclone_conn_options opt; /* defaults filled in; strings point into owned[] */
	char *owned[XC_OPTION_STRINGS];
	const struct xc_transport_ops *ops;
	struct xc_transport *t;
	pthread_mutex_t mu;
	pthread_cond_t cv;              /* a channel was returned */
	struct xc_chan *idle;
	unsigned open;                  /* channels idle or in use */
	unsigned limit;                 /* max_channels, lowered when the server refuses more */
	uint64_t next_id;
	struct xclone_conn_stats stats; /* requests, retries, channels_opened */
};

/* A channel for one request: an idle one, a new one, or the next one returned. */
int xc_pool_get(struct xclone_conn *c, int64_t deadline, struct xc_chan **out,
		struct xclone_error *err);

/* Returns a channel; reusable false closes it (its state is unknown after a failure). */
void xc_pool_put(struct xclone_conn *c, struct xc_chan *ch, bool reusable);

/* A request id unique on this handle: "r1", "r2", ... */
void xc_conn_next_id(struct xclone_conn *c, char out[XP_ID_MAX + 1]);

/* Adds to a statistics counter under the handle's lock. */
void xc_conn_count(struct xclone_conn *c, uint64_t *counter);

/* Fills the defaults of opt (copying strings into c->owned). */
int xc_options_copy(struct xclone_conn *c, const struct xclone_conn_options *in,
		    struct xclone_error *err);
void xc_options_free(struct xclone_conn *c);

#endif
