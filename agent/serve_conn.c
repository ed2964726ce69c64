/* One serve connection (see serve_conn.h). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "log.h"
#include "serve_conn.h"

/* Work done in one step before the loop moves on to other connections. */
#define STEP_ROUNDS 64

int64_t serve_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void conn_log(const struct serve_conn *c, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void conn_log(const struct serve_conn *c, int level, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ag_log(level, "serve: %s: %s", c->peer, msg);
}

/* Marks the connection failed; the step ends it with this reason. */
static void set_broken(struct serve_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_broken(struct serve_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->broken)
		return;
	c->broken = true;
	va_start(ap, fmt);
	vsnprintf(c->close_reason, sizeof(c->close_reason), fmt, ap);
	va_end(ap);
}

struct serve_conn *serve_conn_new(int fd, const char *peer, SSL_CTX *tls, int64_t now_ms)
{
	struct serve_conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->ssl = ag_tls_accept_new(tls, fd, &c->id);
	if (c->ssl == NULL) {
		close(fd);
		free(c);
		return NULL;
	}
	c->phase = SERVE_HANDSHAKE;
	c->accepted_ms = c->progress_ms = now_ms;
	c->read_wants = POLLIN;
	c->write_wants = POLLOUT;
	c->worker.fd = -1;
	xp_framer_init(&c->framer);
	return c;
}

void serve_conn_free(struct serve_conn *c)
{
	if (c == NULL)
		return;
	if (c->busy)
		serve_worker_kill(&c->worker);
	if (c->phase == SERVE_OPEN && !c->broken)
		(void)SSL_shutdown(c->ssl); /* best effort: the socket is non-blocking */
	SSL_free(c->ssl);
	ERR_clear_error();
	close(c->fd);
	free(c);
}

void serve_conn_release_in_child(struct serve_conn *c)
{
	SSL_free(c->ssl);
	free(c);
}

void serve_conn_worker_exited(struct serve_conn *c, int status)
{
	c->worker.exited = true;
	c->worker.status = status;
}

/* --- output ----------------------------------------------------------------- */

/* Queues an error line of serve's own (the room past SERVE_RELAY_MAX is for this). */
static void append_error(struct serve_conn *c, const char *id, enum xp_code code,
			 const char *message)
{
	struct xp_error e = { 0 };
	char *line = xp_response_error(id != NULL && id[0] != '\0' ? id : NULL, code, message, &e);
	size_t n = line ? strlen(line) : 0;

	if (line == NULL || c->out_len + n + 1 > sizeof(c->out)) {
		set_broken(c, "cannot queue an error answer");
		free(line);
		return;
	}
	memcpy(c->out + c->out_len, line, n);
	c->out[c->out_len + n] = '\n';
	c->out_len += n + 1;
	c->out_ready = c->out_len;
	free(line);
}

static bool tls_write(struct serve_conn *c, int64_t now_ms)
{
	bool moved = false;

	while (c->out_ready > 0 && !c->broken) {
		int n, e;

		ERR_clear_error();
		errno = 0;
		n = SSL_write(c->ssl, c->out, (int)c->out_ready);
		if (n > 0) {
			memmove(c->out, c->out + n, c->out_len - (size_t)n);
			c->out_len -= (size_t)n;
			c->out_ready -= (size_t)n;
			c->write_wants = POLLOUT;
			c->progress_ms = now_ms;
			moved = true;
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
			c->write_wants = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
			break;
		}
		set_broken(c, "cannot send: %s", errno ? strerror(errno) : "TLS error");
		moved = true;
	}
	return moved;
}

/* --- input ------------------------------------------------------------------ */

static bool can_read(const struct serve_conn *c)
{
	return !c->in_closed && !c->broken && (c->in_len < sizeof(c->in) || c->in_pos > 0);
}

static bool tls_read(struct serve_conn *c)
{
	bool moved = false;

	while (can_read(c)) {
		int n, e;

		/* Once closing, whatever else arrives is dropped unread. */
		if (c->close_after_flush || c->in_pos == c->in_len)
			c->in_pos = c->in_len = 0;
		if (c->in_pos > 0 && c->in_len == sizeof(c->in)) {
			memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
			c->in_len -= c->in_pos;
			c->in_pos = 0;
		}
		ERR_clear_error();
		errno = 0;
		n = SSL_read(c->ssl, c->in + c->in_len, (int)(sizeof(c->in) - c->in_len));
		if (n > 0) {
			c->in_len += (size_t)n;
			moved = true;
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			c->read_wants = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
			break;
		}
		if (e == SSL_ERROR_ZERO_RETURN)
			c->in_closed = true;
		else if (e == SSL_ERROR_SYSCALL && errno != 0)
			set_broken(c, "connection lost: %s", strerror(errno));
		else
			set_broken(c, "connection lost (closed without TLS close_notify)");
		moved = true;
	}
	return moved;
}

/* --- requests --------------------------------------------------------------- */

/* Pacing (GCRA): up to one second's worth of requests at once, then one per interval. */
static int64_t rate_interval_us(const struct ag_config *cfg)
{
	return 1000000 / (int64_t)cfg->serve_max_requests_per_second;
}

static int64_t rate_next_us(const struct serve_conn *c, const struct ag_config *cfg)
{
	return c->rate_tat_us - (1000000 - rate_interval_us(cfg));
}

static void rate_take(struct serve_conn *c, const struct ag_config *cfg, int64_t now_us)
{
	c->rate_tat_us = (c->rate_tat_us > now_us ? c->rate_tat_us : now_us) + rate_interval_us(cfg);
}

static void refuse_oversize(struct serve_conn *c)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "line: longer than %d bytes; closing the connection",
		 XP_LINE_MAX);
	conn_log(c, AG_LOG_WARN, "request line longer than %d bytes", XP_LINE_MAX);
	append_error(c, NULL, XP_BAD_REQUEST, msg);
	c->close_after_flush = true;
	snprintf(c->close_reason, sizeof(c->close_reason), "request line too long");
}

static void start_request(struct serve_conn *c, const struct serve_worker_env *env,
			  const char *line, size_t len, int64_t now_ms)
{
	struct xp_request *req = calloc(1, sizeof(*req));
	struct xp_error xerr = { 0 };
	struct ag_error err = { 0 };

	/* Only for the id: the worker answers the request, errors included. */
	c->req_id[0] = '\0';
	if (req != NULL) {
		(void)xp_request_decode(line, len, req, &xerr);
		snprintf(c->req_id, sizeof(c->req_id), "%s", req->id);
		free(req);
	}
	rate_take(c, env->cfg, serve_clock_us());
	c->requests++;
	c->progress_ms = now_ms;
	if (serve_worker_start(&c->worker, env, line, len, &err) != 0) {
		conn_log(c, AG_LOG_ERROR, "cannot run request %s: %s", c->req_id, err.msg);
		append_error(c, c->req_id, XP_INTERNAL, "the agent could not start this request");
		return;
	}
	c->busy = true;
}

/* Frames the next request line and starts it, when nothing is in flight. */
static bool next_request(struct serve_conn *c, const struct serve_worker_env *env, int64_t now_ms)
{
	const char *line = NULL;
	size_t len = 0, used = 0;
	enum xp_frame_status st;

	if (c->busy || c->close_after_flush || c->broken)
		return false;
	if (rate_next_us(c, env->cfg) > serve_clock_us())
		return false;
	if (c->in_pos < c->in_len) {
		/* Consumes at least one byte: up to the first LF, or everything. */
		st = xp_framer_feed(&c->framer, c->in + c->in_pos, c->in_len - c->in_pos, &used,
				    &line, &len);
		c->in_pos += used;
	} else if (c->in_closed && !c->in_finished) {
		/* close_notify vouches for the end: a last line without LF still counts. */
		st = xp_framer_finish(&c->framer, &line, &len);
		c->in_finished = true;
	} else {
		return false;
	}
	if (st == XP_FRAME_LINE)
		start_request(c, env, line, len, now_ms);
	else if (st == XP_FRAME_OVERSIZE || c->framer.discarding)
		refuse_oversize(c); /* at once: no need to wait for the LF */
	return true;
}

/* Moves the worker's output into the answer buffer, whole lines becoming sendable. */
static bool relay(struct serve_conn *c)
{
	bool moved = false;

	while (c->busy && c->worker.fd >= 0 && c->out_len < SERVE_RELAY_MAX) {
		ssize_t n = read(c->worker.fd, c->out + c->out_len, SERVE_RELAY_MAX - c->out_len);

		if (n > 0) {
			const char *nl = memrchr(c->out + c->out_len, '\n', (size_t)n);

			c->out_len += (size_t)n;
			if (nl != NULL)
				c->out_ready = (size_t)(nl - c->out) + 1;
			moved = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		close(c->worker.fd); /* EOF, or an error that is as good as one */
		c->worker.fd = -1;
		moved = true;
	}
	if (c->busy && c->worker.fd >= 0 && c->out_len >= SERVE_RELAY_MAX && c->out_ready == 0) {
		conn_log(c, AG_LOG_ERROR, "request %s: the worker wrote a line over %d bytes; "
					  "killed it", c->req_id, XP_LINE_MAX);
		serve_worker_kill(&c->worker);
		moved = true;
	}
	return moved;
}

/* Once the worker is reaped and its output drained: answers for it if it could not. */
static bool finish_request(struct serve_conn *c, int64_t now_ms)
{
	char how[48], msg[128];

	if (!c->busy || c->worker.fd >= 0 || !serve_worker_try_reap(&c->worker))
		return false;
	c->busy = false;
	c->out_len = c->out_ready; /* a half-written line is never sent */
	if (serve_worker_failed(&c->worker)) {
		serve_worker_describe(&c->worker, how, sizeof(how));
		conn_log(c, AG_LOG_ERROR, "request %s: its worker ended without an answer (%s)",
			 c->req_id, how);
		snprintf(msg, sizeof(msg), "the agent's worker for this request ended abnormally (%s)",
			 how);
		append_error(c, c->req_id, XP_INTERNAL, msg);
	}
	memset(&c->worker, 0, sizeof(c->worker));
	c->worker.fd = -1;
	c->progress_ms = now_ms;
	return true;
}

/* --- phases ----------------------------------------------------------------- */

static bool step_handshake(struct serve_conn *c, int64_t now_ms)
{
	char why[192];
	int rc, e;

	ERR_clear_error();
	errno = 0;
	rc = SSL_accept(c->ssl);
	if (rc == 1) {
		c->phase = SERVE_OPEN;
		c->progress_ms = now_ms;
		c->read_wants = POLLIN;
		conn_log(c, AG_LOG_INFO, "accepted (%s), client certificate \"%s\" %s",
			 ag_tls_version(c->ssl), c->id.subject, c->id.pin);
		return true;
	}
	e = SSL_get_error(c->ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->read_wants = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		return true;
	}
	ag_tls_failure(c->ssl, &c->id, e, why, sizeof(why));
	if (c->id.pin[0] != '\0')
		conn_log(c, AG_LOG_WARN, "refused: %s (client certificate \"%s\" %s)", why,
			 c->id.subject, c->id.pin);
	else
		conn_log(c, AG_LOG_WARN, "refused: %s", why);
	return false;
}

static void begin_linger(struct serve_conn *c, int64_t now_ms)
{
	conn_log(c, AG_LOG_INFO, "closed after %lu request%s: %s", c->requests,
		 c->requests == 1 ? "" : "s", c->close_reason);
	ERR_clear_error();
	(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
	(void)shutdown(c->fd, SHUT_WR);
	c->phase = SERVE_LINGER;
	c->linger_until_ms = now_ms + SERVE_LINGER_MS;
}

/* Reads and drops what the client still sends, until it closes or time is up. */
static bool step_linger(struct serve_conn *c, int64_t now_ms)
{
	char scratch[4096];

	/* Bounded per step, so a client that keeps sending cannot hold the loop. */
	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(c->fd, scratch, sizeof(scratch), 0);

		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		return false; /* the client closed too, or the connection failed */
	}
	return now_ms < c->linger_until_ms;
}

static bool idle_counts(const struct serve_conn *c)
{
	/* Waiting for our own worker is not the client's idleness; an unread answer is. */
	return !c->busy || c->out_ready > 0;
}

static bool end(struct serve_conn *c, int level, const char *reason)
{
	conn_log(c, level, "closed after %lu request%s: %s", c->requests,
		 c->requests == 1 ? "" : "s", reason);
	return false;
}

/*
 * Before TLS 1.3 close_notify closes both ways: answer with ours at once and
 * drop pending writes (RFC 5246 7.2.1). TLS 1.3 made it a half-close (RFC 8446
 * 6.1), so there the answers still go out.
 */
static void close_tls12(struct serve_conn *c, int64_t now_ms)
{
	if (c->busy) {
		serve_worker_kill(&c->worker);
		c->busy = false;
	}
	c->out_len = c->out_ready = 0;
	snprintf(c->close_reason, sizeof(c->close_reason),
		 "the client closed (TLS 1.2: pending answers dropped)");
	begin_linger(c, now_ms);
}

/* After a step's work: closing, lingering or an idle timeout. False: free it now. */
static bool check_end(struct serve_conn *c, const struct ag_config *cfg, int64_t now_ms)
{
	if (c->in_closed && SSL_version(c->ssl) < TLS1_3_VERSION) {
		close_tls12(c, now_ms);
		return true;
	}
	if (!c->busy && c->out_len == 0 &&
	    (c->close_after_flush || (c->in_closed && c->in_finished))) {
		if (!c->close_after_flush)
			snprintf(c->close_reason, sizeof(c->close_reason), "the client closed");
		begin_linger(c, now_ms);
		return true;
	}
	if (idle_counts(c) && now_ms - c->progress_ms >= (int64_t)cfg->serve_idle_timeout_s * 1000)
		return end(c, AG_LOG_WARN, c->out_ready > 0 ? "the client reads no answers (idle timeout)"
							    : "no complete request (idle timeout)");
	return true;
}

static bool step_open(struct serve_conn *c, const struct serve_worker_env *env, int64_t now_ms)
{
	int round;

	for (round = 0; round < STEP_ROUNDS; round++) {
		bool moved = tls_read(c);

		moved |= relay(c);
		moved |= finish_request(c, now_ms);
		if (!c->broken)
			moved |= next_request(c, env, now_ms);
		if (!c->broken)
			moved |= tls_write(c, now_ms);
		if (c->broken)
			return end(c, AG_LOG_INFO, c->close_reason);
		if (!moved)
			break;
	}
	c->more = round == STEP_ROUNDS;
	return check_end(c, env->cfg, now_ms);
}

bool serve_conn_step(struct serve_conn *c, const struct serve_worker_env *env, int64_t now_ms,
		     short revents)
{
	const struct ag_config *cfg = env->cfg;

	c->more = false;
	if (c->phase == SERVE_LINGER)
		return step_linger(c, now_ms);
	/* An error or hang-up that nothing else would consume must not spin poll(). */
	if ((revents & POLLERR) || ((revents & POLLHUP) && !(revents & POLLIN)))
		set_broken(c, "connection reset");
	if (c->phase == SERVE_HANDSHAKE) {
		if (c->broken)
			return end(c, AG_LOG_INFO, "connection reset during the TLS handshake");
		if (!step_handshake(c, now_ms))
			return false;
		if (c->phase == SERVE_HANDSHAKE) {
			if (now_ms - c->accepted_ms >= (int64_t)cfg->serve_handshake_timeout_s * 1000)
				return end(c, AG_LOG_WARN, "TLS handshake not finished in time "
							   "(serve_handshake_timeout_seconds)");
			return true;
		}
	}
	if (c->broken)
		return end(c, AG_LOG_INFO, c->close_reason);
	return step_open(c, env, now_ms);
}

short serve_conn_events(const struct serve_conn *c)
{
	short ev = 0;

	switch (c->phase) {
	case SERVE_HANDSHAKE:
		return c->read_wants;
	case SERVE_LINGER:
		return POLLIN;
	case SERVE_OPEN:
		if (can_read(c))
			ev |= c->read_wants;
		if (c->out_ready > 0)
			ev |= c->write_wants;
		break;
	}
	return ev;
}

int serve_conn_pipe_fd(const struct serve_conn *c)
{
	if (c->phase == SERVE_OPEN && c->busy && c->worker.fd >= 0 && c->out_len < SERVE_RELAY_MAX)
		return c->worker.fd;
	return -1;
}

int64_t serve_conn_deadline(const struct serve_conn *c, const struct ag_config *cfg)
{
	int64_t d = INT64_MAX;

	switch (c->phase) {
	case SERVE_HANDSHAKE:
		return c->accepted_ms + (int64_t)cfg->serve_handshake_timeout_s * 1000;
	case SERVE_LINGER:
		return c->linger_until_ms;
	case SERVE_OPEN:
		if (idle_counts(c))
			d = c->progress_ms + (int64_t)cfg->serve_idle_timeout_s * 1000;
		/* Lines held back by pacing: wake when the next may start. */
		if (!c->busy && !c->close_after_flush && c->in_pos < c->in_len) {
			int64_t wake = (rate_next_us(c, cfg) + 999) / 1000;
			if (wake < d)
				d = wake;
		}
		break;
	}
	return d;
}

bool serve_conn_pending(const struct serve_conn *c)
{
	return c->more || (c->busy && c->worker.exited && c->worker.fd < 0);
}
