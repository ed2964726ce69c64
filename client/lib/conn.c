/* Connection handles and their channel pool (see conn.h and xclone.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "clock.h"
#include "conn.h"

static const struct xc_transport_ops *transport_of(enum xclone_transport t)
{
	return t == XCLONE_TRANSPORT_TLS ? &xc_transport_tls : &xc_transport_ssh;
}

/* Transport and first channel: a TLS peer's identity is checked here, and the first call is quick. */
static int connect_once(struct xclone_conn *c, int64_t deadline, struct xclone_error *err)
{
	struct xc_chan *first = NULL;
	int rc;

	if ((rc = c->ops->open(&c->opt, &c->t, deadline, err)) != 0) {
		c->t = NULL;
		return rc;
	}
	if ((rc = xc_pool_get(c, deadline, &first, err)) != 0) {
		c->ops->close(c->t);
		c->t = NULL;
		return rc;
	}
	xc_pool_put(c, first, true);
	return 0;
}

int xclone_connect(xclone_conn **out, const struct xclone_conn_options *opt,
		   struct xclone_error *err)
{
	struct xclone_error local;
	struct xclone_conn *c;
	int64_t deadline;
	int rc;

	*out = NULL;
	if (err == NULL)
		err = &local; /* the retry decision reads the error */
	if (opt == NULL)
		return xclone_error_set(err, XC_E_USAGE, "no options given");
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if ((rc = xc_options_copy(c, opt, err)) != 0)
		goto fail;
	c->ops = transport_of(c->opt.transport);
	c->limit = c->opt.max_channels;
	deadline = xc_deadline_in(c->opt.connect_timeout_ms);
	for (unsigned attempt = 1;; attempt++) {
		unsigned delay;

		memset(err, 0, sizeof(*err));
		if ((rc = connect_once(c, deadline, err)) == 0)
			break;
		if (rc != XC_E_CONNECT || !err->retryable || attempt >= c->opt.max_attempts)
			goto fail;
		delay = xc_backoff_ms(attempt, c->opt.backoff_ms, c->opt.backoff_max_ms);
		if (xc_now_ms() + delay >= deadline)
			goto fail;
		xc_log(&c->opt, "%s; retry %u in %u ms", err->message, attempt, delay);
		xc_sleep_until(deadline, delay);
	}
	*out = c;
	return 0;
fail:
	xclone_disconnect(c);
	return rc;
}

void xclone_disconnect(xclone_conn *c)
{
	struct xc_chan *ch, *next;

	if (c == NULL)
		return;
	for (ch = c->idle; ch != NULL; ch = next) {
		next = ch->next;
		xc_chan_close(ch);
	}
	if (c->t != NULL)
		c->ops->close(c->t);
	xc_options_free(c);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static int pool_busy(struct xclone_conn *c, struct xclone_error *err)
{
	xclone_error_set(err, XC_E_TIMEOUT,
			 "all %u channels to %s stayed busy until the deadline (raise max channels, "
			 "or the server's MaxSessions)",
			 c->limit, c->opt.host);
	if (err != NULL)
		err->retryable = 1;
	return XC_E_TIMEOUT;
}

/* With the lock held: open one more channel (the lock is released meanwhile). */
static int pool_open(struct xclone_conn *c, int64_t deadline, struct xc_chan **out,
		     struct xclone_error *err)
{
	int rc;

	c->open++;
	pthread_mutex_unlock(&c->mu);
	rc = xc_chan_open(c->ops, c->t, out, deadline, err);
	pthread_mutex_lock(&c->mu);
	if (rc == 0) {
		c->stats.channels_opened++;
		return 0;
	}
	c->open--;
	pthread_cond_broadcast(&c->cv);
	return rc;
}

int xc_pool_get(struct xclone_conn *c, int64_t deadline, struct xc_chan **out,
		struct xclone_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		struct timespec ts;

		if (c->idle != NULL) {
			struct xc_chan *ch = c->idle;

			c->idle = ch->next;
			ch->next = NULL;
			pthread_mutex_unlock(&c->mu);
			if (xc_chan_reusable(ch)) {
				*out = ch;
				return 0;
			}
			xc_chan_close(ch); /* its connection was lost while it was idle */
			pthread_mutex_lock(&c->mu);
			c->open--;
			continue;
		}
		if (c->open < c->limit) {
			rc = pool_open(c, deadline, out, err);
			if (rc == XC_E_CONFLICT && c->open > 0) {
				/* The server allows no more channels: wait for one of ours. */
				xc_log(&c->opt, "%s allows %u channels per connection; waiting for one",
				       c->opt.host, c->open);
				c->limit = c->open;
				continue;
			}
			break;
		}
		if (xc_expired(deadline)) {
			rc = pool_busy(c, err);
			break;
		}
		xc_realtime_in(&ts, xc_wait_ms(deadline, 1000));
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void xc_pool_put(struct xclone_conn *c, struct xc_chan *ch, bool reusable)
{
	if (ch == NULL)
		return;
	if (reusable && xc_chan_reusable(ch)) {
		pthread_mutex_lock(&c->mu);
		ch->next = c->idle;
		c->idle = ch;
	} else {
		xc_chan_close(ch);
		pthread_mutex_lock(&c->mu);
		c->open--;
	}
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void xc_conn_next_id(struct xclone_conn *c, char out[XP_ID_MAX + 1])
{
	uint64_t n;

	pthread_mutex_lock(&c->mu);
	n = ++c->next_id;
	pthread_mutex_unlock(&c->mu);
	snprintf(out, XP_ID_MAX + 1, "r%llu", (unsigned long long)n);
}

void xc_conn_count(struct xclone_conn *c, uint64_t *counter)
{
	pthread_mutex_lock(&c->mu);
	(*counter)++;
	pthread_mutex_unlock(&c->mu);
}

int xclone_conn_peer(xclone_conn *c, struct xclone_peer *out, struct xclone_error *err)
{
	if (c == NULL || out == NULL)
		return xclone_error_set(err, XC_E_USAGE, "no connection");
	memset(out, 0, sizeof(*out));
	c->ops->peer(c->t, out);
	return 0;
}

void xclone_conn_stats(xclone_conn *c, struct xclone_conn_stats *out)
{
	uint64_t connects = 0, reconnects = 0;

	c->ops->counters(c->t, &connects, &reconnects);
	pthread_mutex_lock(&c->mu);
	*out = c->stats;
	pthread_mutex_unlock(&c->mu);
	out->connects = connects;
	out->reconnects = reconnects;
}
