/*
 * Identities of peers, as people compare them: SSH host keys as OpenSSH prints
 * them ("SHA256:<base64 without padding>"), TLS certificates as a SHA-256 in hex.
 */
#ifndef XCLONE_FINGERPRINT_H
#define XCLONE_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>

#define XC_FP_MAX 64 /* "SHA256:" + 43 characters + NUL, with room */

/* "SHA256:..." of an SSH public key blob. */
void xc_fp_ssh(const unsigned char *blob, size_t len, char out[XC_FP_MAX]);

/* Whether a user-given "SHA256:..." (padding optional) names this fingerprint. */
bool xc_fp_ssh_equal(const char *given, const char *fp);

/* Whether s is a well-formed "SHA256:<43 base64 characters>[=]". */
bool xc_fp_ssh_valid(const char *s);

/* The key type at the start of an SSH key blob ("ssh-ed25519"), or "" when malformed. */
void xc_ssh_blob_type(const unsigned char *blob, size_t len, char *out, size_t cap);

/*
 * Parses a SHA-256 written in hex, with or without ':' between bytes, any case,
 * optionally prefixed "sha256:" / "SHA256:". 0 and out filled, or -1.
 */
int xc_sha256_hex_parse(const char *s, unsigned char out[32]);

/* 64 lower-case hex digits. */
void xc_sha256_hex(const unsigned char digest[32], char out[65]);

#endif
