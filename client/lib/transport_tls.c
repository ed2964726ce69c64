/*
 * TLS transport (OpenSSL) to `xclone-agent serve`: mutual TLS 1.2 or later, one
 * TLS connection per stream (the agent answers a connection's requests in
 * order, so parallel calls need parallel connections). Sessions are resumed to
 * make the next connection's handshake cheap.
 *
 * The agent is trusted when its certificate chains to the given CA and names the
 * expected host, and/or when its SHA-256 equals the pinned one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "fingerprint.h"
#include "tcp.h"
#include "transport.h"

#define POLL_SLICE_MS 1000

struct xc_transport {
	const struct xclone_conn_options *opt;
	SSL_CTX *ctx;
	bool has_pin;
	unsigned char pin[32];
	pthread_mutex_t mu;     /* resume, counters, identity */
	SSL_SESSION *resume;
	uint64_t connects;
	char identity[320];
	char source[4200];
};

struct xc_stream {
	struct xc_transport *t;
	int fd;
	SSL *ssl;
	bool dead;
};

/* ---- errors --------------------------------------------------------------------- */

/* The last OpenSSL error as text, and its reason code (0 when none). */
static int ssl_reason(char *buf, size_t cap)
{
	unsigned long e = ERR_peek_last_error();

	buf[0] = '\0';
	if (e == 0)
		return 0;
	ERR_error_string_n(e, buf, cap);
	ERR_clear_error();
	return ERR_GET_REASON(e);
}

/* Alerts by which a server says it does not accept our certificate. */
static bool refused_our_cert(int reason)
{
	switch (reason) {
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
	case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
		return true;
	default:
		return false;
	}
}

static int ssl_failure(struct xc_stream *s, const char *what, struct xclone_error *err)
{
	const struct xclone_conn_options *o = s->t->opt;
	char text[256];
	int reason = ssl_reason(text, sizeof(text));

	s->dead = true;
	if (refused_our_cert(reason))
		return xclone_error_set(err, XC_E_AUTH,
					"%s port %u refused our client certificate %s (%s): the agent's "
					"serve_ca must be the CA that signed it, and its serve_client_pins "
					"(if set) must list it",
					o->host, o->port, o->tls_cert_file, text);
	if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
	    reason == SSL_R_WRONG_VERSION_NUMBER)
		return xclone_error_set(err, XC_E_CONNECT,
					"%s port %u does not speak TLS 1.2 or later (%s)", o->host,
					o->port, text);
	xclone_error_set(err, XC_E_CONNECT, "TLS %s with %s port %u failed: %s", what, o->host,
			 o->port, text[0] ? text : strerror(errno));
	if (err != NULL)
		err->retryable = 1;
	return XC_E_CONNECT;
}

static int not_trusted(struct xc_stream *s, long verify, struct xclone_error *err)
{
	const struct xclone_conn_options *o = s->t->opt;

	s->dead = true;
	ERR_clear_error();
	return xclone_error_set(err, XC_E_HOSTKEY,
				"the agent's certificate on %s port %u is not trusted: %s (CA file %s, "
				"expected name %s)",
				o->host, o->port, X509_verify_cert_error_string(verify),
				o->tls_ca_file ? o->tls_ca_file : "none", o->tls_server_name);
}

static int err_timeout(struct xc_stream *s, struct xclone_error *err)
{
	xclone_error_set(err, XC_E_TIMEOUT, "no answer from %s within the deadline", s->t->opt->host);
	if (err != NULL)
		err->retryable = 1;
	return XC_E_TIMEOUT;
}

/* ---- the context ---------------------------------------------------------------- */

static int passphrase_cb(char *buf, int size, int rwflag, void *ud)
{
	const char *p = ud;
	size_t n = p != NULL ? strlen(p) : 0;

	if (p == NULL || size <= 0 || n >= (size_t)size)
		return 0;
	memcpy(buf, p, n);
	return (int)n;
}

static int ctx_failed(const char *what, const char *file, struct xclone_error *err)
{
	char text[256];

	ssl_reason(text, sizeof(text));
	return xclone_error_set(err, XC_E_CONFIG, "TLS: cannot load the %s %s: %s", what, file, text);
}

static int make_ctx(struct xc_transport *t, struct xclone_error *err)
{
	const struct xclone_conn_options *o = t->opt;

	t->ctx = SSL_CTX_new(TLS_client_method());
	if (t->ctx == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "TLS: cannot create a context");
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_CLIENT);
	SSL_CTX_set_default_passwd_cb(t->ctx, passphrase_cb);
	SSL_CTX_set_default_passwd_cb_userdata(t->ctx, (void *)o->passphrase);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, o->tls_cert_file) != 1)
		return ctx_failed("client certificate", o->tls_cert_file, err);
	if (SSL_CTX_use_PrivateKey_file(t->ctx, o->tls_key_file, SSL_FILETYPE_PEM) != 1)
		return ctx_failed("client key", o->tls_key_file, err);
	if (SSL_CTX_check_private_key(t->ctx) != 1)
		return ctx_failed("client key (it does not match the certificate)", o->tls_key_file,
				  err);
	if (o->tls_ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(t->ctx, o->tls_ca_file, NULL) != 1)
			return ctx_failed("CA file", o->tls_ca_file, err);
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL); /* the pin decides */
	}
	return 0;
}

static int tls_open(const struct xclone_conn_options *opt, struct xc_transport **out,
		    int64_t deadline, struct xclone_error *err)
{
	struct xc_transport *t;
	int rc;

	if (opt->tls_cert_file == NULL)
		return xclone_error_set(err, XC_E_CONFIG,
					"TLS needs a client certificate (and its key): the agent "
					"accepts only clients its CA signed");
	if (opt->tls_ca_file == NULL && opt->tls_pin_sha256 == NULL)
		return xclone_error_set(err, XC_E_CONFIG,
					"TLS needs a CA file or a pinned certificate SHA-256 to check "
					"the agent's identity");
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	t->opt = opt;
	pthread_mutex_init(&t->mu, NULL);
	if (opt->tls_pin_sha256 != NULL) {
		if (xc_sha256_hex_parse(opt->tls_pin_sha256, t->pin) != 0) {
			rc = xclone_error_set(err, XC_E_CONFIG,
					      "TLS pin \"%.100s\" is not a SHA-256 in hex (64 digits, "
					      "':' between bytes allowed)",
					      opt->tls_pin_sha256);
			goto fail;
		}
		t->has_pin = true;
	}
	if ((rc = make_ctx(t, err)) != 0)
		goto fail;
	*out = t;
	return 0;
fail:
	xc_transport_tls.close(t);
	return rc;
}

/* ---- streams ---------------------------------------------------------------------- */

/* Waits for what OpenSSL asked for; 0 to try again, else the error. */
static int wait_for(struct xc_stream *s, int ssl_err, int64_t deadline, struct xclone_error *err)
{
	short ev = ssl_err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;

	if (xc_expired(deadline))
		return err_timeout(s, err);
	if (xc_fd_wait(s->fd, ev, deadline, POLL_SLICE_MS) < 0) {
		s->dead = true;
		return xclone_error_set(err, XC_E_CONNECT, "poll: %s", strerror(errno));
	}
	return 0;
}

static int set_expected_name(struct xc_stream *s, struct xclone_error *err)
{
	const char *name = s->t->opt->tls_server_name;
	X509_VERIFY_PARAM *param = SSL_get0_param(s->ssl);
	unsigned char addr[16];
	bool is_ip = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
	int ok;

	if (s->t->opt->tls_ca_file == NULL)
		return 0; /* pinned: the certificate itself is the identity */
	if (is_ip) {
		ok = X509_VERIFY_PARAM_set1_ip_asc(param, name);
	} else {
		ok = X509_VERIFY_PARAM_set1_host(param, name, 0) &&
		     SSL_set_tlsext_host_name(s->ssl, name);
	}
	return ok ? 0 : xclone_error_set(err, XC_E_CONFIG, "TLS: bad server name %.100s", name);
}

static void describe_peer(struct xc_stream *s, X509 *cert, const unsigned char digest[32])
{
	struct xc_transport *t = s->t;
	char hex[65], subject[200] = "";

	xc_sha256_hex(digest, hex);
	X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
	pthread_mutex_lock(&t->mu);
	snprintf(t->identity, sizeof(t->identity), "sha256:%s %s", hex, subject);
	if (t->has_pin && t->opt->tls_ca_file != NULL)
		snprintf(t->source, sizeof(t->source), "pinned SHA-256 and CA %s",
			 t->opt->tls_ca_file);
	else if (t->has_pin)
		snprintf(t->source, sizeof(t->source), "pinned SHA-256");
	else
		snprintf(t->source, sizeof(t->source), "CA %s, name %s", t->opt->tls_ca_file,
			 t->opt->tls_server_name);
	pthread_mutex_unlock(&t->mu);
}

static int check_peer(struct xc_stream *s, struct xclone_error *err)
{
	X509 *cert = SSL_get1_peer_certificate(s->ssl);
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char hex[65], want[65];
	int rc = 0;

	if (cert == NULL)
		return xclone_error_set(err, XC_E_HOSTKEY, "%s sent no certificate", s->t->opt->host);
	if (X509_digest(cert, EVP_sha256(), digest, &len) != 1 || len != 32) {
		rc = xclone_error_set(err, XC_E_INTERNAL, "cannot hash the agent's certificate");
	} else if (s->t->has_pin && CRYPTO_memcmp(digest, s->t->pin, 32) != 0) {
		xc_sha256_hex(digest, hex);
		xc_sha256_hex(s->t->pin, want);
		rc = xclone_error_set(err, XC_E_HOSTKEY,
				      "the agent's certificate on %s port %u has SHA-256 %s, not the "
				      "pinned %s. Do not connect until you know why",
				      s->t->opt->host, s->t->opt->port, hex, want);
	} else {
		describe_peer(s, cert, digest);
	}
	X509_free(cert);
	return rc;
}

/*
 * TLS 1.3 clients finish their handshake before the server has judged their
 * certificate; a server that refuses it says so in an alert right after. Reading
 * briefly (the server's session tickets arrive then too) turns that alert into
 * XC_E_AUTH now rather than a reset connection at the first request.
 */
#define VERDICT_WAIT_MS 250

static int await_verdict(struct xc_stream *s, int64_t deadline, struct xclone_error *err)
{
	int64_t until = xc_deadline_min(deadline, xc_now_ms() + VERDICT_WAIT_MS);
	char byte;
	size_t n = 0;

	if (SSL_version(s->ssl) < TLS1_3_VERSION)
		return 0;
	while (xc_fd_wait(s->fd, POLLIN, until, VERDICT_WAIT_MS) > 0) {
		int r = SSL_read_ex(s->ssl, &byte, 0, &n), e = SSL_get_error(s->ssl, r);

		if (r == 1 || e == SSL_ERROR_WANT_READ)
			continue; /* tickets; go on while the socket has more */
		if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL)
			return ssl_failure(s, "handshake", err);
		break;
	}
	ERR_clear_error();
	return 0;
}

static int handshake(struct xc_stream *s, int64_t deadline, struct xclone_error *err)
{
	for (;;) {
		int r = SSL_connect(s->ssl), e, rc;
		long verify;

		if (r == 1) {
			rc = check_peer(s, err);
			return rc != 0 ? rc : await_verdict(s, deadline, err);
		}
		e = SSL_get_error(s->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if ((rc = wait_for(s, e, deadline, err)) != 0)
				return rc;
			continue;
		}
		verify = SSL_get_verify_result(s->ssl);
		if (verify != X509_V_OK)
			return not_trusted(s, verify, err);
		return ssl_failure(s, "handshake", err);
	}
}

static void tls_stream_close(struct xc_stream *s);

static int tls_stream_open(struct xc_transport *t, struct xc_stream **out, int64_t deadline,
			   struct xclone_error *err)
{
	struct xc_stream *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	s->t = t;
	s->fd = -1;
	if ((rc = xc_tcp_connect(t->opt->host, t->opt->port, deadline, t->opt->keepalive_ms, &s->fd,
				 err)) != 0)
		goto fail;
	pthread_mutex_lock(&t->mu);
	t->connects++;
	pthread_mutex_unlock(&t->mu);
	s->ssl = SSL_new(t->ctx);
	if (s->ssl == NULL || SSL_set_fd(s->ssl, s->fd) != 1) {
		rc = xclone_error_set(err, XC_E_NOMEM, "TLS: cannot create a connection");
		goto fail;
	}
	if ((rc = set_expected_name(s, err)) != 0)
		goto fail;
	pthread_mutex_lock(&t->mu);
	if (t->resume != NULL)
		SSL_set_session(s->ssl, t->resume);
	pthread_mutex_unlock(&t->mu);
	if ((rc = handshake(s, deadline, err)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	s->dead = true;
	tls_stream_close(s);
	return rc;
}

static bool tls_stream_usable(struct xc_stream *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };

	/* An idle connection has nothing to read; anything there is the server closing it. */
	return !s->dead && SSL_pending(s->ssl) == 0 && poll(&p, 1, 0) == 0;
}

static int tls_stream_write(struct xc_stream *s, const char *buf, size_t len, int64_t deadline,
			    struct xclone_error *err)
{
	size_t off = 0;

	while (off < len) {
		size_t n = 0;
		int r = SSL_write_ex(s->ssl, buf + off, len - off, &n), e, rc;

		if (r == 1) {
			off += n;
			continue;
		}
		e = SSL_get_error(s->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if ((rc = wait_for(s, e, deadline, err)) != 0)
				return rc;
			continue;
		}
		return ssl_failure(s, "send", err);
	}
	return 0;
}

static int tls_stream_read(struct xc_stream *s, char *buf, size_t cap, size_t *got,
			   int64_t deadline, struct xclone_error *err)
{
	*got = 0;
	for (;;) {
		int r = SSL_read_ex(s->ssl, buf, cap, got), e, rc;

		if (r == 1)
			return 0;
		e = SSL_get_error(s->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if ((rc = wait_for(s, e, deadline, err)) != 0)
				return rc;
			continue;
		}
		if (e == SSL_ERROR_ZERO_RETURN) {
			*got = 0;
			return 0;
		}
		if (e == SSL_ERROR_SSL &&
		    ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			s->dead = true;
			*got = 0; /* closed without close_notify: still the end of the stream */
			return 0;
		}
		return ssl_failure(s, "receive", err);
	}
}

static int tls_stream_ended(struct xc_stream *s, int64_t deadline, struct xclone_error *err)
{
	s->dead = true;
	xclone_error_set(err, XC_E_CONNECT, "%s port %u closed the connection without answering",
			 s->t->opt->host, s->t->opt->port);
	if (err != NULL)
		err->retryable = 1;
	return XC_E_CONNECT;
}

static void tls_stream_close(struct xc_stream *s)
{
	struct xc_transport *t;

	if (s == NULL)
		return;
	t = s->t;
	if (s->ssl != NULL) {
		if (!s->dead) {
			SSL_SESSION *sess = SSL_get1_session(s->ssl);

			SSL_shutdown(s->ssl); /* one try: the socket is non-blocking */
			pthread_mutex_lock(&t->mu);
			if (sess != NULL && SSL_SESSION_is_resumable(sess)) {
				SSL_SESSION_free(t->resume);
				t->resume = sess;
				sess = NULL;
			}
			pthread_mutex_unlock(&t->mu);
			SSL_SESSION_free(sess);
		}
		SSL_free(s->ssl);
	}
	if (s->fd >= 0)
		close(s->fd);
	ERR_clear_error();
	free(s);
}

static void tls_peer(struct xc_transport *t, struct xclone_peer *out)
{
	out->transport = "tls";
	out->host = t->opt->host;
	out->port = t->opt->port;
	out->identity = t->identity;
	out->identity_source = t->source;
}

static void tls_counters(struct xc_transport *t, uint64_t *connects, uint64_t *reconnects)
{
	pthread_mutex_lock(&t->mu);
	*connects = t->connects;
	*reconnects = 0; /* every stream is its own connection */
	pthread_mutex_unlock(&t->mu);
}

static void tls_close(struct xc_transport *t)
{
	if (t == NULL)
		return;
	SSL_SESSION_free(t->resume);
	SSL_CTX_free(t->ctx);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

const struct xc_transport_ops xc_transport_tls = {
	.name = "tls",
	.open = tls_open,
	.stream_open = tls_stream_open,
	.stream_usable = tls_stream_usable,
	.stream_write = tls_stream_write,
	.stream_read = tls_stream_read,
	.stream_ended = tls_stream_ended,
	.stream_close = tls_stream_close,
	.peer = tls_peer,
	.counters = tls_counters,
	.close = tls_close,
};
