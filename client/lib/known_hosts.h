/*
 * OpenSSH known_hosts files, read by our own strict parser (libssh2's stops at
 * the first line it does not understand): plain and wildcard host patterns,
 * negations, [host]:port, hashed names (|1|salt|hmac), @revoked lines.
 * @cert-authority lines are skipped (no host certificates here).
 */
#ifndef XCLONE_KNOWN_HOSTS_H
#define XCLONE_KNOWN_HOSTS_H

#include <stddef.h>

#include "fingerprint.h"
#include "xclone_error.h"

enum xc_kh_status {
	XC_KH_NOT_FOUND, /* no entry for the name */
	XC_KH_MATCH,     /* an entry holds this very key */
	XC_KH_MISMATCH,  /* entries exist for the name, none with this key */
	XC_KH_REVOKED,   /* the key is marked @revoked */
};

struct xc_kh_result {
	enum xc_kh_status status;
	unsigned line;            /* the deciding line (first differing one for MISMATCH) */
	char known_type[64];      /* MISMATCH: that line's key type */
	char known_fp[XC_FP_MAX]; /* MISMATCH: that line's key fingerprint */
};

/* The name OpenSSH stores: "host" for port 22, "[host]:port" otherwise (lower case). */
void xc_kh_lookup_name(const char *host, unsigned port, char *out, size_t cap);

/*
 * Looks blob up for name. A missing file is XC_KH_NOT_FOUND; an unreadable one
 * is XC_E_IO. Lines that do not parse are skipped (OpenSSH does the same).
 */
int xc_kh_check(const char *file, const char *name, const unsigned char *blob, size_t len,
		struct xc_kh_result *res, struct xclone_error *err);

/*
 * The SSH host key algorithms matching the key types known for name, most
 * preferred first, comma-separated (RSA gives rsa-sha2-512,rsa-sha2-256), so the
 * server is asked for a key we can check. "" when none is known.
 */
void xc_kh_hostkey_prefs(const char *file, const char *name, char *out, size_t cap);

/* Appends "name type base64" (file created 0600, folder 0700, when missing). */
int xc_kh_append(const char *file, const char *name, const unsigned char *blob, size_t len,
		 struct xclone_error *err);

#endif
