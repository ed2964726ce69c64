/* serve's TLS context, client-certificate verification and pins (see serve_tls.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "ag_file.h"
#include "ag_text.h"
#include "log.h"
#include "serve_tls.h"

/* TLS 1.2 suites: ECDHE (forward secrecy) with AEAD only; TLS 1.3's are all AEAD. */
#define TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"
#define VERIFY_DEPTH 4
#define KEY_FILE_MAX 65536 /* a PEM private key; RSA 8192 is under 7 KiB */
static const unsigned char session_context[] = "xclone-serve";

/* The subject of cert in RFC 2253 form, quoted for logs (UTF-8 kept as is). */
static void describe_subject(X509 *cert, char *out, size_t cap)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;

	out[0] = '\0';
	if (bio == NULL)
		return;
	if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0,
			       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		len = BIO_get_mem_data(bio, &data);
		if (len > 0 && data != NULL)
			ag_text_quote(out, cap, data, (size_t)len);
	}
	BIO_free(bio);
}

/*
 * Replaces OpenSSL's chain check (SSL_CTX_set_cert_verify_callback): runs it,
 * then the pins, so a pin can only narrow what the CA allows. Records who the
 * client claimed to be either way, for the log.
 */
static int verify_client(X509_STORE_CTX *store, void *arg)
{
	const struct ag_pins *pins = arg;
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct ag_tls_peer *peer = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *leaf = X509_STORE_CTX_get0_cert(store);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	bool have_digest;
	int ok;

	have_digest = leaf != NULL && X509_digest(leaf, EVP_sha256(), md, &mdlen) == 1 &&
		      mdlen == AG_PIN_LEN;
	if (peer != NULL && leaf != NULL) {
		describe_subject(leaf, peer->subject, sizeof(peer->subject));
		if (have_digest)
			ag_pin_format(md, peer->pin);
	}
	ok = X509_verify_cert(store) == 1;
	if (ok && pins->count > 0 && !(have_digest && ag_pins_match(pins, md))) {
		X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
		ok = 0;
	}
	if (peer != NULL)
		peer->verify_error = ok ? X509_V_OK : X509_STORE_CTX_get_error(store);
	return ok;
}

/* Opens and closes path, so a missing or unreadable file gets the system's words. */
static int check_readable(const char *key, const char *path, struct stat *st, struct ag_error *err)
{
	int fd;

	if (path[0] == '\0')
		return ag_error_set(err, 1, "%s is not set: serve needs serve_cert, serve_key "
					    "and serve_ca", key);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return ag_error_set(err, 1, "%s %s: cannot open: %s", key, path, strerror(errno));
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return ag_error_set(err, 1, "%s %s: not a regular file", key, path);
	}
	close(fd);
	return 0;
}

/* Refuses to ask for a passphrase: serve has nobody to ask. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * Reads the key through a buffer of our own that is wiped afterwards, so no
 * stdio buffer holding the PEM text lingers in freed memory (workers are forked
 * from this process).
 */
static EVP_PKEY *read_key(const char *path)
{
	char *buf = malloc(KEY_FILE_MAX);
	size_t len = 0;
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (buf != NULL && fd >= 0 && ag_file_read_bounded(fd, buf, KEY_FILE_MAX, &len) == 0 &&
	    len < KEY_FILE_MAX && (bio = BIO_new_mem_buf(buf, (int)len)) != NULL)
		key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (fd >= 0)
		close(fd);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, KEY_FILE_MAX);
		free(buf);
	}
	return key;
}

static int load_key(SSL_CTX *ctx, const struct ag_config *cfg, struct ag_error *err)
{
	EVP_PKEY *key = read_key(cfg->serve_key);
	int rc = 0;

	if (key == NULL)
		rc = ag_error_set(err, 1, "serve_key %s: not an unencrypted PEM private key",
				  cfg->serve_key);
	else if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		rc = ag_error_set(err, 1, "serve_key %s does not belong to serve_cert %s",
				  cfg->serve_key, cfg->serve_cert);
	EVP_PKEY_free(key);
	return rc;
}

static int load_files(SSL_CTX *ctx, const struct ag_config *cfg, struct ag_error *err)
{
	STACK_OF(X509_NAME) *names;
	struct stat st;

	if (check_readable("serve_cert", cfg->serve_cert, &st, err) != 0 ||
	    check_readable("serve_ca", cfg->serve_ca, &st, err) != 0 ||
	    check_readable("serve_key", cfg->serve_key, &st, err) != 0)
		return -1;
	/* Whether VMFS keeps POSIX modes on a datastore is unconfirmed: warn, not refuse. */
	if ((st.st_mode & 077) != 0)
		ag_log(AG_LOG_WARN, "serve_key %s is readable by group or others (mode %03o); "
				    "chmod 600 it", cfg->serve_key, (unsigned)(st.st_mode & 0777));
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->serve_cert) != 1)
		return ag_error_set(err, 1, "serve_cert %s: not a PEM certificate chain",
				    cfg->serve_cert);
	if (load_key(ctx, cfg, err) != 0)
		return -1;
	if (SSL_CTX_load_verify_file(ctx, cfg->serve_ca) != 1)
		return ag_error_set(err, 1, "serve_ca %s: no PEM CA certificate in it",
				    cfg->serve_ca);
	/* Tells clients which CA to pick a certificate for. */
	names = SSL_load_client_CA_file(cfg->serve_ca);
	if (names == NULL)
		return ag_error_set(err, 1, "serve_ca %s: no PEM CA certificate in it",
				    cfg->serve_ca);
	SSL_CTX_set_client_CA_list(ctx, names);
	return 0;
}

SSL_CTX *ag_tls_server_new(const struct ag_config *cfg, struct ag_error *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		ag_error_set(err, 1, "cannot create a TLS context (out of memory?)");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_num_tickets(ctx, 0) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, session_context, sizeof(session_context) - 1) != 1) {
		ag_error_set(err, 1, "cannot configure the TLS context");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
					 SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* No SSL_MODE_RELEASE_BUFFERS: it costs an allocation per read, and the
	   connection count is bounded anyway. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (load_files(ctx, cfg, err) != 0)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, VERIFY_DEPTH);
	SSL_CTX_set_cert_verify_callback(ctx, verify_client, (void *)&cfg->serve_client_pins);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

SSL *ag_tls_accept_new(SSL_CTX *ctx, int fd, struct ag_tls_peer *peer)
{
	SSL *ssl = SSL_new(ctx);

	memset(peer, 0, sizeof(*peer));
	peer->verify_error = X509_V_OK;
	if (ssl == NULL)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_app_data(ssl, peer);
	SSL_set_accept_state(ssl);
	return ssl;
}

/* Words for the handshake failures an operator meets; OpenSSL's own text when built in. */
static void describe_reason(unsigned long e, char *buf, size_t cap)
{
	int reason = ERR_GET_REASON(e);
	const char *text = NULL;

	switch (reason) {
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_VERSION_TOO_LOW:
		text = "the client offers no TLS version this agent accepts (1.2, 1.3)";
		break;
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		text = "the client sent no certificate";
		break;
	case SSL_R_NO_SHARED_CIPHER:
		text = "no cipher in common with the client";
		break;
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_UNKNOWN_PROTOCOL:
		text = "the client does not speak TLS";
		break;
	case SSL_R_UNEXPECTED_EOF_WHILE_READING:
		text = "the client closed the connection";
		break;
	default:
		break;
	}
	if (text != NULL)
		snprintf(buf, cap, "%s", text);
	else if (reason >= SSL_AD_REASON_OFFSET && ERR_GET_LIB(e) == ERR_LIB_SSL)
		snprintf(buf, cap, "the client sent TLS alert %d", reason - SSL_AD_REASON_OFFSET);
	else if (ERR_reason_error_string(e) != NULL)
		snprintf(buf, cap, "%s", ERR_reason_error_string(e));
	else
		snprintf(buf, cap, "OpenSSL error (library %d, reason %d)", ERR_GET_LIB(e), reason);
}

void ag_tls_failure(SSL *ssl, const struct ag_tls_peer *peer, int ssl_error, char *buf,
		    size_t cap)
{
	unsigned long e = ERR_peek_last_error();

	(void)ssl;
	if (peer->verify_error == X509_V_ERR_APPLICATION_VERIFICATION)
		snprintf(buf, cap, "client certificate refused: not one of serve_client_pins");
	else if (peer->verify_error != X509_V_OK)
		snprintf(buf, cap, "client certificate refused: %s",
			 X509_verify_cert_error_string(peer->verify_error));
	else if (ssl_error == SSL_ERROR_SYSCALL && e == 0)
		snprintf(buf, cap, "%s", errno != 0 ? strerror(errno) : "the client closed the connection");
	else if (e != 0)
		describe_reason(e, buf, cap);
	else
		snprintf(buf, cap, "TLS error %d", ssl_error);
	ERR_clear_error();
}

const char *ag_tls_version(const SSL *ssl)
{
	return SSL_get_version(ssl);
}
