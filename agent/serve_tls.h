/*
 * serve: the OpenSSL side. One server context built from the settings: TLS 1.2
 * and 1.3 only, forward-secret AEAD ciphers, no session resumption (every
 * connection proves its client certificate afresh), a client certificate
 * required and verified against serve_ca, then checked against
 * serve_client_pins when any are set.
 *
 * Only OpenSSL 3.0 functions that survive `no-deprecated` are used, and nothing
 * relies on OpenSSL's error strings: the musl build has them compiled out
 * (`no-err`, scripts/deps.sh), so failures are explained from reason codes here.
 */
#ifndef XCLONE_AGENT_SERVE_TLS_H
#define XCLONE_AGENT_SERVE_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "ag_error.h"
#include "config.h"
#include "serve_pins.h"

#define AG_TLS_SUBJECT_MAX 256

/* Who the client's certificate says it is; filled during the handshake. */
struct ag_tls_peer {
	char subject[AG_TLS_SUBJECT_MAX]; /* RFC 2253, hostile bytes quoted; "" when none */
	char pin[AG_PIN_TEXT_MAX];        /* SHA256:<hex> of the certificate; "" when none */
	int verify_error;                 /* X509_V_OK or why the certificate was refused */
};

/*
 * The server context for cfg (serve_cert, serve_key, serve_ca and
 * serve_client_pins, which must outlive it). NULL with err filled when a file is
 * missing, unreadable or not what it should be.
 */
SSL_CTX *ag_tls_server_new(const struct ag_config *cfg, struct ag_error *err);

/*
 * A server-side connection on the socket fd; the handshake fills *peer (which must
 * outlive the SSL object). NULL when out of memory.
 */
SSL *ag_tls_accept_new(SSL_CTX *ctx, int fd, struct ag_tls_peer *peer);

/*
 * Why the last TLS call failed, in words, for the log: the certificate check's
 * verdict, or a handshake reason code (protocol version, no certificate, not
 * TLS at all...). ssl_error is SSL_get_error()'s value.
 */
void ag_tls_failure(SSL *ssl, const struct ag_tls_peer *peer, int ssl_error, char *buf,
		    size_t cap);

/* The negotiated protocol version ("TLSv1.3"). */
const char *ag_tls_version(const SSL *ssl);

#endif
