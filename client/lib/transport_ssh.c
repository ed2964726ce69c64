/*
 * SSH transport (libssh2): one TCP connection and SSH session per transport,
 * any number of channels on it, each running the agent's `session` mode.
 *
 * libssh2 allows one thread at a time on a session, so every libssh2 call of a
 * transport happens under its mutex, with the session in non-blocking mode.
 * A thread whose channel has nothing to read waits in one of two ways: the
 * first becomes the poller (it releases the mutex and polls the socket), the
 * others sleep on the condition variable. Whoever runs libssh2 next pulls every
 * packet waiting on the socket into the channels' queues, wakes the poller
 * through a pipe and broadcasts, so each thread then finds its own data.
 *
 * A lost connection marks the session dead: its channels fail with a retryable
 * XC_E_CONNECT and the next stream_open connects again.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libssh2.h>

#include "clock.h"
#include "fingerprint.h"
#include "hostkey.h"
#include "ssh_rsa_sha2.h"
#include "tcp.h"
#include "transport.h"

#define POLL_SLICE_MS 1000   /* longest sleep before looking at keepalives and deadlines */
#define CLOSE_GRACE_MS 2000  /* closing a channel or session politely, at most */
#define STDERR_TAIL 512      /* the agent's error output kept for messages */
#define SESSION_COMMAND "session"

struct ssh_conn {
	int fd;
	int wake[2];           /* a byte written to wake[1] ends the poller's poll() */
	LIBSSH2_SESSION *s;
	unsigned refs;         /* streams using it, +1 while it is the transport's current one */
	bool dead;
	bool polling;
	char dead_reason[160];
};

struct xc_transport {
	const struct xclone_conn_options *opt;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ssh_conn *cur;
	bool connecting;
	uint64_t connects, reconnects;
	struct xc_hostkey_verdict verdict;
};

struct xc_stream {
	struct xc_transport *t;
	struct ssh_conn *c;
	LIBSSH2_CHANNEL *ch;
	char err_tail[STDERR_TAIL + 1];
	size_t err_len;
};

/* ---- the session's socket ---------------------------------------------------- */

static void conn_mark_dead(struct ssh_conn *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	snprintf(c->dead_reason, sizeof(c->dead_reason), "%s", why);
}

static void conn_mark_dead_libssh2(struct ssh_conn *c, const char *what)
{
	char *msg = NULL, why[160];

	libssh2_session_last_error(c->s, &msg, NULL, 0);
	snprintf(why, sizeof(why), "%s: %s", what, msg ? msg : "error");
	conn_mark_dead(c, why);
}

static short conn_directions(struct ssh_conn *c)
{
	int dirs = libssh2_session_block_directions(c->s);
	short ev = 0;

	if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
		ev |= POLLIN;
	if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		ev |= POLLOUT;
	return ev ? ev : POLLIN;
}

static void wake_poller(struct ssh_conn *c)
{
	char b = 1;

	if (c->polling && write(c->wake[1], &b, 1) < 0 && errno != EAGAIN)
		return; /* a full pipe already wakes it */
}

/* After a libssh2 call that may have drained the socket: let the others look. */
static void io_done(struct xc_transport *t, struct ssh_conn *c)
{
	wake_poller(c);
	pthread_cond_broadcast(&t->cv);
}

/*
 * Bytes waiting in the socket (1 when the kernel cannot tell). A read that
 * found none cannot have queued packets for another channel, so it need not
 * wake the others: without this check, idle readers sharing a connection woke
 * each other in turn after every EAGAIN and spun (two idle watches took 60% of
 * a core, and 16 parallel disks ran 8x slower than one).
 */
static int socket_pending(const struct ssh_conn *c)
{
	int n = 0;

	return ioctl(c->fd, FIONREAD, &n) == 0 ? n : 1;
}

static void keepalive(struct ssh_conn *c)
{
	int next = 0;
	int rc = libssh2_keepalive_send(c->s, &next);

	if (rc != 0 && rc != LIBSSH2_ERROR_EAGAIN)
		conn_mark_dead_libssh2(c, "keepalive");
}

static int err_timeout(const struct xc_transport *t, struct xclone_error *err)
{
	xclone_error_set(err, XC_E_TIMEOUT, "no answer from %s within the deadline", t->opt->host);
	if (err != NULL)
		err->retryable = 1;
	return XC_E_TIMEOUT;
}

static int err_lost(const struct xc_transport *t, const struct ssh_conn *c,
		    struct xclone_error *err)
{
	xclone_error_set(err, XC_E_CONNECT, "connection to %s lost (%s)", t->opt->host,
			 c->dead_reason);
	if (err != NULL)
		err->retryable = 1;
	return XC_E_CONNECT;
}

/*
 * Called with the mutex held after libssh2 said EAGAIN: waits for the socket (as
 * poller) or for another thread's I/O, at most POLL_SLICE_MS, then returns 0 so
 * the caller tries again; or the error when the session died or the deadline passed.
 */
static int wait_io(struct xc_transport *t, struct ssh_conn *c, int64_t deadline,
		   struct xclone_error *err)
{
	if (c->dead)
		return err_lost(t, c, err);
	if (xc_expired(deadline))
		return err_timeout(t, err);
	if (!c->polling) {
		struct pollfd p[2] = { { .fd = c->fd, .events = conn_directions(c) },
				       { .fd = c->wake[0], .events = POLLIN } };
		int n;
		char drain[64];

		c->polling = true;
		pthread_mutex_unlock(&t->mu);
		n = poll(p, 2, xc_wait_ms(deadline, POLL_SLICE_MS));
		pthread_mutex_lock(&t->mu);
		c->polling = false;
		if (p[1].revents & POLLIN)
			while (read(c->wake[0], drain, sizeof(drain)) > 0)
				;
		if (n < 0 && errno != EINTR)
			conn_mark_dead(c, strerror(errno));
		else if (p[0].revents & (POLLERR | POLLNVAL))
			conn_mark_dead(c, "socket error");
		if (!c->dead)
			keepalive(c);
		pthread_cond_broadcast(&t->cv);
	} else {
		struct timespec ts;

		if (conn_directions(c) & POLLOUT)
			wake_poller(c); /* the poller may be waiting for input only */
		xc_realtime_in(&ts, xc_wait_ms(deadline, POLL_SLICE_MS));
		pthread_cond_timedwait(&t->cv, &t->mu, &ts);
	}
	return 0;
}

/* ---- connecting: TCP, handshake, host key, authentication --------------------- */

/* Waits for the socket of a session no other thread uses yet. */
static int wait_private(struct ssh_conn *c, int64_t deadline)
{
	if (xc_expired(deadline))
		return -1;
	return xc_fd_wait(c->fd, conn_directions(c), deadline, POLL_SLICE_MS) < 0 ? -1 : 0;
}

static int handshake_failed(struct xc_transport *t, struct ssh_conn *c, int rc,
			    struct xclone_error *err)
{
	char *msg = NULL;

	if (rc == LIBSSH2_ERROR_EAGAIN)
		return xclone_error_set(err, XC_E_TIMEOUT, "SSH handshake with %s port %u timed out",
					t->opt->host, t->opt->port);
	libssh2_session_last_error(c->s, &msg, NULL, 0);
	xclone_error_set(err, XC_E_CONNECT,
			 "SSH handshake with %s port %u failed: %s (is it an SSH server, and does it "
			 "offer a host key type and cipher libssh2 supports?)",
			 t->opt->host, t->opt->port, msg ? msg : "unknown error");
	if (err != NULL)
		err->retryable = rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_SOCKET_RECV ||
				 rc == LIBSSH2_ERROR_SOCKET_SEND;
	return XC_E_CONNECT;
}

static int handshake(struct xc_transport *t, struct ssh_conn *c, int64_t deadline,
		     struct xclone_error *err)
{
	char prefs[512];
	int rc;

	xc_hostkey_prefs(t->opt, prefs, sizeof(prefs));
	if (prefs[0] != '\0' && libssh2_session_method_pref(c->s, LIBSSH2_METHOD_HOSTKEY, prefs) != 0)
		xc_log(t->opt, "libssh2 supports none of the host key types known for %s (%s)",
		       t->opt->host, prefs);
	while ((rc = libssh2_session_handshake(c->s, c->fd)) == LIBSSH2_ERROR_EAGAIN) {
		if (wait_private(c, deadline) != 0)
			break;
	}
	return rc == 0 ? 0 : handshake_failed(t, c, rc, err);
}

static int verify_host(struct xc_transport *t, struct ssh_conn *c, struct xclone_error *err)
{
	size_t len = 0;
	int type = 0;
	const char *key = libssh2_session_hostkey(c->s, &len, &type);

	if (key == NULL || len == 0)
		return xclone_error_set(err, XC_E_HOSTKEY, "%s sent no host key", t->opt->host);
	return xc_hostkey_verify(t->opt, (const unsigned char *)key, len, &t->verdict, err);
}

/* The authorized_keys line for the identity's .pub file, or "" when it cannot be read. */
static void suggested_line(const char *identity, char *out, size_t cap)
{
	char path[4200], *pub = NULL, *line = NULL;
	FILE *f;
	size_t n;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s.pub", identity);
	f = fopen(path, "re");
	if (f == NULL)
		return;
	pub = calloc(1, 16385);
	n = pub ? fread(pub, 1, 16384, f) : 0;
	fclose(f);
	if (n > 0 && xclone_authorized_key_line(pub, NULL, NULL, &line, NULL) == 0) {
		snprintf(out, cap, "%s", line);
		free(line);
	}
	free(pub);
}

static int auth_refused(struct xc_transport *t, struct xclone_error *err)
{
	char line[1800];
	struct xclone_error full;
	const struct xclone_conn_options *o = t->opt;

	suggested_line(o->identity_file, line, sizeof(line));
	/* The line itself when it fits the message (Ed25519 keys do; long RSA keys may not). */
	if (line[0] != '\0' &&
	    (size_t)snprintf(full.message, sizeof(full.message),
			     "%s refused the key %s for user %s. Add this line to the host's "
			     "authorized_keys (/etc/ssh/keys-root/authorized_keys on ESXi): %s",
			     o->host, o->identity_file, o->user, line) < sizeof(full.message))
		return xclone_error_set(err, XC_E_AUTH, "%s", full.message);
	return xclone_error_set(err, XC_E_AUTH,
				"%s refused the key %s for user %s. Add its restricted line to the "
				"host's authorized_keys (/etc/ssh/keys-root/authorized_keys on ESXi): "
				"`xclone authorized-key %s.pub` prints it",
				o->host, o->identity_file, o->user, o->identity_file);
}

/*
 * RSA keys with SHA-2 signatures where libssh2 cannot (ssh_rsa_sha2.h). Returns a
 * libssh2 result (0, or negative), a positive library error code, or XC_E_AGENT
 * as "not for me": the key is not RSA, or libssh2 does this itself.
 */
static int auth_rsa_sha2(struct xc_transport *t, struct ssh_conn *c, int64_t deadline,
			 struct xclone_error *err)
{
#ifdef XC_SSH_RSA_SHA2_WORKAROUND
	static const char *const algs[] = { "rsa-sha2-512", "rsa-sha2-256" };
	const struct xclone_conn_options *o = t->opt;
	struct xc_rsa_key *key = NULL;
	int rc;

	if ((rc = xc_rsa_key_load(o->identity_file, o->passphrase, &key, err)) != 0)
		return rc;
	if (key == NULL)
		return XC_E_AGENT;
	rc = LIBSSH2_ERROR_AUTHENTICATION_FAILED;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		struct xc_rsa_signer signer = { key, algs[i] };
		void *abstract = &signer;
		unsigned char *blob = NULL;
		size_t len = 0;

		if (xc_rsa_key_blob(key, algs[i], &blob, &len) != 0) {
			rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
			break;
		}
		while ((rc = libssh2_userauth_publickey(c->s, o->user, blob, len, xc_rsa_sign,
							&abstract)) == LIBSSH2_ERROR_EAGAIN) {
			if (wait_private(c, deadline) != 0)
				break;
		}
		free(blob);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			rc = err_timeout(t, err);
		if (rc != LIBSSH2_ERROR_AUTHENTICATION_FAILED &&
		    rc != LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
			break; /* success, or a failure another algorithm will not cure */
	}
	xc_rsa_key_free(key);
	return rc;
#else
	return XC_E_AGENT;
#endif
}

static int authenticate(struct xc_transport *t, struct ssh_conn *c, int64_t deadline,
			struct xclone_error *err)
{
	const struct xclone_conn_options *o = t->opt;
	unsigned ulen = (unsigned)strlen(o->user);
	char *methods, *msg = NULL;
	int rc;

	if (access(o->identity_file, R_OK) != 0)
		return xclone_error_set(err, XC_E_CONFIG, "cannot read the SSH identity file %s: %s",
					o->identity_file, strerror(errno));
	while ((methods = libssh2_userauth_list(c->s, o->user, ulen)) == NULL &&
	       libssh2_session_last_errno(c->s) == LIBSSH2_ERROR_EAGAIN) {
		if (wait_private(c, deadline) != 0)
			return err_timeout(t, err);
	}
	if (methods == NULL && libssh2_userauth_authenticated(c->s))
		return 0; /* "none" authentication was accepted */
	if (methods == NULL)
		return handshake_failed(t, c, libssh2_session_last_errno(c->s), err);
	if (strstr(methods, "publickey") == NULL)
		return xclone_error_set(err, XC_E_AUTH,
					"%s does not accept public keys for user %s (it offers: %s)",
					o->host, o->user, methods);
	rc = auth_rsa_sha2(t, c, deadline, err);
	if (rc == XC_E_AGENT) /* not an RSA key: libssh2 reads and signs it */
		while ((rc = libssh2_userauth_publickey_fromfile_ex(c->s, o->user, ulen, NULL,
								     o->identity_file,
								     o->passphrase)) ==
		       LIBSSH2_ERROR_EAGAIN) {
			if (wait_private(c, deadline) != 0)
				return err_timeout(t, err);
		}
	else if (rc > 0)
		return rc; /* a library error code */
	if (rc == 0)
		return 0;
	if (rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED || rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
		return auth_refused(t, err);
	libssh2_session_last_error(c->s, &msg, NULL, 0);
	if (rc == LIBSSH2_ERROR_FILE)
		return xclone_error_set(err, XC_E_CONFIG,
					"cannot use the SSH identity %s: %s (%s?)", o->identity_file,
					msg ? msg : "unreadable key",
					o->passphrase ? "wrong passphrase or unsupported key format"
						      : "a passphrase is needed, or the format is unsupported");
	return handshake_failed(t, c, rc, err);
}

static void conn_free(struct ssh_conn *c)
{
	if (c == NULL)
		return;
	if (c->s != NULL) {
		if (!c->dead) {
			int64_t deadline = xc_deadline_in(CLOSE_GRACE_MS);

			while (libssh2_session_disconnect(c->s, "bye") == LIBSSH2_ERROR_EAGAIN &&
			       wait_private(c, deadline) == 0)
				;
		}
		libssh2_session_free(c->s);
	}
	if (c->fd >= 0)
		close(c->fd);
	if (c->wake[0] >= 0)
		close(c->wake[0]);
	if (c->wake[1] >= 0)
		close(c->wake[1]);
	free(c);
}

/* Called with the mutex held. */
static void conn_unref(struct ssh_conn *c)
{
	if (c != NULL && --c->refs == 0)
		conn_free(c);
}

/* A new, fully authenticated session; no other thread sees it yet. */
static int conn_new(struct xc_transport *t, struct ssh_conn **out, int64_t deadline,
		    struct xclone_error *err)
{
	const struct xclone_conn_options *o = t->opt;
	struct ssh_conn *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	c->fd = c->wake[0] = c->wake[1] = -1;
	if (pipe2(c->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		rc = xclone_error_set(err, XC_E_IO, "pipe: %s", strerror(errno));
		goto fail;
	}
	if ((rc = xc_tcp_connect(o->host, o->port, deadline, o->keepalive_ms, &c->fd, err)) != 0)
		goto fail;
	c->s = libssh2_session_init();
	if (c->s == NULL) {
		rc = xclone_error_set(err, XC_E_NOMEM, "cannot create an SSH session");
		goto fail;
	}
	libssh2_session_set_blocking(c->s, 0);
	libssh2_keepalive_config(c->s, 1, o->keepalive_ms / 1000 ? o->keepalive_ms / 1000 : 1);
	if ((rc = handshake(t, c, deadline, err)) != 0 || (rc = verify_host(t, c, err)) != 0 ||
	    (rc = authenticate(t, c, deadline, err)) != 0)
		goto fail;
	xc_log(o, "ssh: connected to %s port %u as %s (host key %s, %s)", o->host, o->port, o->user,
	       t->verdict.identity, t->verdict.source);
	*out = c;
	return 0;
fail:
	if (c->s != NULL)
		conn_mark_dead(c, "not connected"); /* no polite disconnect on a failed session */
	conn_free(c);
	return rc;
}

/* With the mutex held: the live current session, connecting when there is none. */
static int current_conn(struct xc_transport *t, int64_t deadline, struct xclone_error *err)
{
	while (t->cur == NULL || t->cur->dead) {
		struct ssh_conn *c = NULL;
		int rc;

		if (t->connecting) {
			struct timespec ts;

			if (xc_expired(deadline))
				return err_timeout(t, err);
			xc_realtime_in(&ts, xc_wait_ms(deadline, POLL_SLICE_MS));
			pthread_cond_timedwait(&t->cv, &t->mu, &ts);
			continue;
		}
		if (t->cur != NULL) {
			xc_log(t->opt, "ssh: connection to %s lost (%s); reconnecting", t->opt->host,
			       t->cur->dead_reason);
			conn_unref(t->cur);
			t->cur = NULL;
			t->reconnects++;
		}
		t->connecting = true;
		pthread_mutex_unlock(&t->mu);
		rc = conn_new(t, &c, deadline, err);
		pthread_mutex_lock(&t->mu);
		t->connecting = false;
		pthread_cond_broadcast(&t->cv);
		if (rc != 0)
			return rc;
		c->refs = 1;
		t->cur = c;
		t->connects++;
	}
	return 0;
}

/* ---- the interface -------------------------------------------------------------- */

static int ssh_open(const struct xclone_conn_options *opt, struct xc_transport **out,
		    int64_t deadline, struct xclone_error *err)
{
	struct xc_transport *t;
	int rc;

	if (opt->identity_file == NULL)
		return xclone_error_set(err, XC_E_CONFIG, "SSH needs an identity file (private key)");
	if (opt->host_key_fingerprint != NULL && !xc_fp_ssh_valid(opt->host_key_fingerprint))
		return xclone_error_set(err, XC_E_CONFIG,
					"host key fingerprint \"%.80s\" is not SHA256:<43 base64 "
					"characters> (as ssh-keygen -lf prints it)",
					opt->host_key_fingerprint);
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	t->opt = opt;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	pthread_mutex_lock(&t->mu);
	rc = current_conn(t, deadline, err);
	pthread_mutex_unlock(&t->mu);
	if (rc != 0) {
		xc_transport_ssh.close(t);
		return rc;
	}
	*out = t;
	return 0;
}

static int channel_failed(struct xc_transport *t, struct ssh_conn *c, const char *what,
			  struct xclone_error *err)
{
	char *msg = NULL;
	int e = libssh2_session_last_error(c->s, &msg, NULL, 0);

	if (e == LIBSSH2_ERROR_CHANNEL_FAILURE)
		/* The server's limit of channels per connection (OpenSSH: MaxSessions). */
		return xclone_error_set(err, XC_E_CONFLICT, "%s refused another channel: %s",
					t->opt->host, msg ? msg : "no reason given");
	if (e == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED)
		return xclone_error_set(err, XC_E_AGENT, "%s refused to start the agent (%s)",
					t->opt->host, msg ? msg : "exec denied");
	conn_mark_dead_libssh2(c, what);
	return err_lost(t, c, err);
}

static int ssh_stream_open(struct xc_transport *t, struct xc_stream **out, int64_t deadline,
			   struct xclone_error *err)
{
	struct xc_stream *st = calloc(1, sizeof(*st));
	struct ssh_conn *c;
	int rc;

	if (st == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	st->t = t;
	pthread_mutex_lock(&t->mu);
	if ((rc = current_conn(t, deadline, err)) != 0)
		goto fail;
	c = st->c = t->cur;
	c->refs++;
	while ((st->ch = libssh2_channel_open_session(c->s)) == NULL) {
		io_done(t, c);
		if (libssh2_session_last_errno(c->s) != LIBSSH2_ERROR_EAGAIN) {
			rc = channel_failed(t, c, "opening a channel", err);
			goto fail;
		}
		if ((rc = wait_io(t, c, deadline, err)) != 0)
			goto fail;
	}
	while ((rc = libssh2_channel_process_startup(st->ch, "exec", 4, SESSION_COMMAND,
						     (unsigned)strlen(SESSION_COMMAND))) ==
	       LIBSSH2_ERROR_EAGAIN) {
		io_done(t, c);
		if ((rc = wait_io(t, c, deadline, err)) != 0)
			goto fail;
	}
	io_done(t, c);
	if (rc != 0) {
		rc = channel_failed(t, c, "starting the agent", err);
		goto fail;
	}
	pthread_mutex_unlock(&t->mu);
	*out = st;
	return 0;
fail:
	pthread_mutex_unlock(&t->mu);
	xc_transport_ssh.stream_close(st);
	return rc;
}

static bool ssh_stream_usable(struct xc_stream *st)
{
	bool ok;

	pthread_mutex_lock(&st->t->mu);
	ok = !st->c->dead && !libssh2_channel_eof(st->ch);
	pthread_mutex_unlock(&st->t->mu);
	return ok;
}

/* Keeps the tail of the agent's error output (with the mutex held). */
static void drain_stderr(struct xc_stream *st)
{
	char buf[512];
	ssize_t n;

	while ((n = libssh2_channel_read_stderr(st->ch, buf, sizeof(buf))) > 0) {
		size_t keep = (size_t)n > STDERR_TAIL ? STDERR_TAIL : (size_t)n;
		size_t room = STDERR_TAIL - keep;

		if (st->err_len > room) {
			memmove(st->err_tail, st->err_tail + st->err_len - room, room);
			st->err_len = room;
		}
		memcpy(st->err_tail + st->err_len, buf + n - keep, keep);
		st->err_len += keep;
		st->err_tail[st->err_len] = '\0';
	}
}

static int ssh_stream_write(struct xc_stream *st, const char *buf, size_t len, int64_t deadline,
			    struct xclone_error *err)
{
	struct xc_transport *t = st->t;
	struct ssh_conn *c = st->c;
	size_t off = 0;
	int rc = 0;

	pthread_mutex_lock(&t->mu);
	while (off < len && rc == 0) {
		ssize_t n;

		if (c->dead) {
			rc = err_lost(t, c, err);
			break;
		}
		n = libssh2_channel_write(st->ch, buf + off, len - off);
		io_done(t, c);
		if (n > 0) {
			off += (size_t)n;
		} else if (n == LIBSSH2_ERROR_EAGAIN || n == 0) {
			rc = wait_io(t, c, deadline, err);
		} else if (n == LIBSSH2_ERROR_CHANNEL_CLOSED || n == LIBSSH2_ERROR_CHANNEL_EOF_SENT) {
			pthread_mutex_unlock(&t->mu);
			return xc_transport_ssh.stream_ended(st, deadline, err);
		} else {
			conn_mark_dead_libssh2(c, "sending");
			rc = err_lost(t, c, err);
		}
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

static int ssh_stream_read(struct xc_stream *st, char *buf, size_t cap, size_t *got,
			   int64_t deadline, struct xclone_error *err)
{
	struct xc_transport *t = st->t;
	struct ssh_conn *c = st->c;
	int rc = 0;

	*got = 0;
	pthread_mutex_lock(&t->mu);
	for (;;) {
		ssize_t n;

		if (c->dead) {
			rc = err_lost(t, c, err);
			break;
		}
		int pending = socket_pending(c);

		n = libssh2_channel_read(st->ch, buf, cap);
		drain_stderr(st);
		if (pending > 0 || n != LIBSSH2_ERROR_EAGAIN)
			io_done(t, c);
		if (n > 0) {
			*got = (size_t)n;
			break;
		}
		if (libssh2_channel_eof(st->ch))
			break; /* *got = 0: end of stream */
		if (n == LIBSSH2_ERROR_EAGAIN || n == 0) {
			if ((rc = wait_io(t, c, deadline, err)) != 0)
				break;
			continue;
		}
		conn_mark_dead_libssh2(c, "receiving");
		rc = err_lost(t, c, err);
		break;
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

/* Closes the channel politely and waits (briefly) for the agent's exit status. */
static void close_and_wait(struct xc_stream *st, int64_t deadline)
{
	struct xc_transport *t = st->t;
	struct ssh_conn *c = st->c;
	int64_t until = xc_deadline_min(deadline, xc_deadline_in(CLOSE_GRACE_MS));
	int rc;

	while (!c->dead && (rc = libssh2_channel_close(st->ch)) == LIBSSH2_ERROR_EAGAIN) {
		io_done(t, c);
		if (wait_io(t, c, until, NULL) != 0)
			return;
	}
	while (!c->dead && (rc = libssh2_channel_wait_closed(st->ch)) == LIBSSH2_ERROR_EAGAIN) {
		drain_stderr(st);
		io_done(t, c);
		if (wait_io(t, c, until, NULL) != 0)
			return;
	}
	drain_stderr(st);
}

static int ssh_stream_ended(struct xc_stream *st, int64_t deadline, struct xclone_error *err)
{
	struct xc_transport *t = st->t;
	char *signame = NULL;
	int status, rc;

	pthread_mutex_lock(&t->mu);
	if (st->c->dead) {
		rc = err_lost(t, st->c, err);
		pthread_mutex_unlock(&t->mu);
		return rc;
	}
	close_and_wait(st, deadline);
	status = libssh2_channel_get_exit_status(st->ch);
	libssh2_channel_get_exit_signal(st->ch, &signame, NULL, NULL, NULL, NULL, NULL);
	for (char *p = st->err_tail; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}
	while (st->err_len > 0 && st->err_tail[st->err_len - 1] == ' ')
		st->err_tail[--st->err_len] = '\0';
	if (signame != NULL)
		rc = xclone_error_set(err, XC_E_AGENT,
				      "the agent on %s ended without answering (killed by SIG%s)%s%s",
				      t->opt->host, signame, st->err_len ? "; its error output: " : "",
				      st->err_tail);
	else if (status == 126 || status == 127)
		rc = xclone_error_set(err, XC_E_AGENT,
				      "the agent could not be started on %s (exit status %d: %s). "
				      "Check that the authorized_keys command= names the installed "
				      "agent (" XCLONE_AGENT_PATH " from the VIB)",
				      t->opt->host, status, st->err_len ? st->err_tail : "no output");
	else
		rc = xclone_error_set(err, XC_E_AGENT,
				      "the agent on %s ended without answering (exit status %d)%s%s",
				      t->opt->host, status, st->err_len ? "; its error output: " : "",
				      st->err_tail);
	if (signame != NULL)
		libssh2_free(st->c->s, signame);
	pthread_mutex_unlock(&t->mu);
	return rc;
}

static void ssh_stream_close(struct xc_stream *st)
{
	struct xc_transport *t;
	struct ssh_conn *c;

	if (st == NULL)
		return;
	t = st->t;
	c = st->c;
	pthread_mutex_lock(&t->mu);
	if (st->ch != NULL) {
		int64_t until = xc_deadline_in(CLOSE_GRACE_MS);

		/* EOF ends the agent's session loop; then close and free the channel. */
		while (!c->dead && libssh2_channel_send_eof(st->ch) == LIBSSH2_ERROR_EAGAIN &&
		       wait_io(t, c, until, NULL) == 0)
			;
		while (!c->dead && libssh2_channel_close(st->ch) == LIBSSH2_ERROR_EAGAIN &&
		       wait_io(t, c, until, NULL) == 0)
			;
		while (libssh2_channel_free(st->ch) == LIBSSH2_ERROR_EAGAIN && !c->dead &&
		       wait_io(t, c, until, NULL) == 0)
			;
		io_done(t, c);
	}
	conn_unref(c);
	pthread_mutex_unlock(&t->mu);
	free(st);
}

static void ssh_peer(struct xc_transport *t, struct xclone_peer *out)
{
	out->transport = "ssh";
	out->host = t->opt->host;
	out->port = t->opt->port;
	out->identity = t->verdict.identity;
	out->identity_source = t->verdict.source;
}

static void ssh_counters(struct xc_transport *t, uint64_t *connects, uint64_t *reconnects)
{
	pthread_mutex_lock(&t->mu);
	*connects = t->connects;
	*reconnects = t->reconnects;
	pthread_mutex_unlock(&t->mu);
}

static void ssh_close(struct xc_transport *t)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&t->mu);
	conn_unref(t->cur);
	t->cur = NULL;
	pthread_mutex_unlock(&t->mu);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

const struct xc_transport_ops xc_transport_ssh = {
	.name = "ssh",
	.open = ssh_open,
	.stream_open = ssh_stream_open,
	.stream_usable = ssh_stream_usable,
	.stream_write = ssh_stream_write,
	.stream_read = ssh_stream_read,
	.stream_ended = ssh_stream_ended,
	.stream_close = ssh_stream_close,
	.peer = ssh_peer,
	.counters = ssh_counters,
	.close = ssh_close,
};
