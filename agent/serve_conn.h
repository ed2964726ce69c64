/*
 * serve: one client connection, as a state machine the poll loop drives.
 *
 *   handshake -- TLS accept, bounded by serve_handshake_timeout_seconds
 *   open      -- request lines in, answer lines out: one request in flight at a
 *                time (a forked worker, serve_worker.h), answers in request order
 *   linger    -- our close_notify is sent and our side shut; the client's last
 *                bytes are read and dropped for a moment, so closing never turns
 *                into a reset that would destroy the answer just sent
 *
 * Limits: a line over XP_LINE_MAX gets BAD_REQUEST (id null) and the connection
 * is closed; serve_max_requests_per_second paces request starts (lines wait,
 * nothing is refused); a client that completes no request line and reads no
 * answer for serve_idle_timeout_seconds is dropped (so is one trickling bytes).
 * A request in flight does not count as idleness: device.wait may take minutes.
 *
 * Ends: the client's close_notify means "no more requests" (the lines already
 * sent are answered, then serve closes); a connection that breaks (reset, EOF
 * without close_notify, a failed write) is closed at once and its worker killed.
 */
#ifndef XCLONE_AGENT_SERVE_CONN_H
#define XCLONE_AGENT_SERVE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "serve_listen.h"
#include "serve_tls.h"
#include "serve_worker.h"
#include "xproto.h"

#define SERVE_IN_MAX 16384                  /* TLS plaintext read ahead of the framer */
#define SERVE_RELAY_MAX (XP_LINE_MAX + 1)   /* worker output held: one whole line */
#define SERVE_OUT_MAX (SERVE_RELAY_MAX + 4096) /* + room for an error line of serve's own */
#define SERVE_LINGER_MS 2000

enum serve_phase { SERVE_HANDSHAKE, SERVE_OPEN, SERVE_LINGER };

struct serve_conn {
	int fd;
	SSL *ssl;
	char peer[SERVE_ADDR_TEXT_MAX];
	struct ag_tls_peer id;
	enum serve_phase phase;
	int64_t accepted_ms;
	int64_t progress_ms;        /* last request line completed or answer bytes sent */
	int64_t linger_until_ms;
	short read_wants, write_wants; /* poll events the last SSL_read / SSL_write asked for */
	unsigned long requests;

	/* input */
	char in[SERVE_IN_MAX];
	size_t in_pos, in_len;
	bool in_closed;             /* close_notify received: no more requests */
	bool in_finished;           /* ... and the framer has given its last line */
	bool broken;                /* the connection failed: close now */
	struct xp_framer framer;

	/* the request in flight */
	bool busy;
	struct serve_worker worker;
	char req_id[XP_ID_MAX + 1];
	int64_t rate_tat_us;        /* pacing: theoretical arrival time of the next request */

	/* output */
	char out[SERVE_OUT_MAX];
	size_t out_len;             /* bytes held */
	size_t out_ready;           /* of those, bytes up to the last LF: sendable */
	bool close_after_flush;
	bool more;                  /* a step stopped for fairness with work left */
	char close_reason[128];
};

/* Monotonic clock, microseconds. */
int64_t serve_clock_us(void);

/* A connection for an accepted socket (it takes fd over); NULL when out of memory. */
struct serve_conn *serve_conn_new(int fd, const char *peer, SSL_CTX *tls, int64_t now_ms);

/* Closes the connection now: kills its worker, best-effort close_notify, frees. */
void serve_conn_free(struct serve_conn *c);

/* In a worker child: frees the connection's memory and TLS state, touching no fd. */
void serve_conn_release_in_child(struct serve_conn *c);

/*
 * Does everything the connection can do now without blocking; revents are the
 * socket's poll() results (0 when woken for another reason). Returns false when
 * the connection is finished (the caller frees it).
 */
bool serve_conn_step(struct serve_conn *c, const struct serve_worker_env *env, int64_t now_ms,
		     short revents);

/* Records that its worker was reaped with status. */
void serve_conn_worker_exited(struct serve_conn *c, int status);

/* poll() events wanted on the socket, and the worker pipe to poll (-1: none). */
short serve_conn_events(const struct serve_conn *c);
int serve_conn_pipe_fd(const struct serve_conn *c);

/* When it next needs a step without any event (timeouts, pacing); INT64_MAX if never. */
int64_t serve_conn_deadline(const struct serve_conn *c, const struct ag_config *cfg);

/* Whether it needs a step now even without events (its worker was reaped). */
bool serve_conn_pending(const struct serve_conn *c);

#endif
