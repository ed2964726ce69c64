/*
 * RSA public-key authentication with SHA-2 signatures (RFC 8332: rsa-sha2-512,
 * rsa-sha2-256) for libssh2 releases before 1.11, which sign RSA only with SHA-1
 * ("ssh-rsa"), an algorithm OpenSSH 8.8 and later refuse by default.
 *
 * How: the key is loaded and the signature made with OpenSSL, through libssh2's
 * public libssh2_userauth_publickey() and its sign callback. libssh2 1.10 takes
 * the request's algorithm name from the type string at the start of the public
 * key blob, so the blob handed to it names "rsa-sha2-512" (followed by the usual
 * e and n). OpenSSH reads such a blob as an RSA key (its key-type table maps the
 * rsa-sha2-* names to RSA) and checks the signature with that algorithm.
 * GAP: verified against OpenSSH 9.2 in the tests; relies on the ESXi host's
 * sshd being OpenSSH. With libssh2 1.11 or later this file is unused and
 * libssh2's own rsa-sha2 support applies.
 *
 * Key formats: PEM/PKCS#8 (encrypted or not) through OpenSSL, and the OpenSSH
 * format without passphrase. An OpenSSH-format RSA key with a passphrase cannot
 * be read here (its bcrypt KDF is not in OpenSSL): the error says how to convert it.
 */
#ifndef XCLONE_SSH_RSA_SHA2_H
#define XCLONE_SSH_RSA_SHA2_H

#include <stddef.h>

#include <libssh2.h>

#include "xclone_error.h"

#if LIBSSH2_VERSION_NUM < 0x010b00
#define XC_SSH_RSA_SHA2_WORKAROUND 1
#endif

struct xc_rsa_key;

/* The signer libssh2 hands back to xc_rsa_sign through its abstract pointer. */
struct xc_rsa_signer {
	const struct xc_rsa_key *key;
	const char *alg; /* "rsa-sha2-512" or "rsa-sha2-256" */
};

/*
 * Loads file when it holds an RSA private key: 0 and *key set; 0 and *key NULL
 * when it holds another kind of key (libssh2 handles those); otherwise XC_E_CONFIG
 * (unreadable, wrong passphrase, unsupported format).
 */
int xc_rsa_key_load(const char *file, const char *passphrase, struct xc_rsa_key **key,
		    struct xclone_error *err);

/* The public key blob named alg (see above): malloc'd into *blob; 0 or -1. */
int xc_rsa_key_blob(const struct xc_rsa_key *key, const char *alg, unsigned char **blob,
		    size_t *len);

/* libssh2's sign callback: *abstract is a struct xc_rsa_signer *. */
int xc_rsa_sign(LIBSSH2_SESSION *session, unsigned char **sig, size_t *sig_len,
		const unsigned char *data, size_t data_len, void **abstract);

void xc_rsa_key_free(struct xc_rsa_key *key);

#endif
