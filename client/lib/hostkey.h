/*
 * Whether to trust an SSH server's host key: the pinned fingerprint when one is
 * given, otherwise the known_hosts file; an unknown host only when the caller
 * asked for trust on first use (its key is then appended). A different or
 * revoked key is always refused, and the message shows what was seen.
 */
#ifndef XCLONE_HOSTKEY_H
#define XCLONE_HOSTKEY_H

#include <stddef.h>

#include "xclone.h"

struct xc_hostkey_verdict {
	char identity[160];  /* "ssh-ed25519 SHA256:..." */
	char source[4200];   /* what vouched for it: "known_hosts FILE line N", ... */
};

/*
 * 0 when trusted (verdict filled), otherwise XC_E_HOSTKEY (or XC_E_IO / XC_E_CONFIG)
 * with a message naming the host, the key seen and what to do.
 */
int xc_hostkey_verify(const struct xclone_conn_options *opt, const unsigned char *blob,
		      size_t len, struct xc_hostkey_verdict *v, struct xclone_error *err);

/* Host key algorithms to ask the server for (see xc_kh_hostkey_prefs); "" for libssh2's default. */
void xc_hostkey_prefs(const struct xclone_conn_options *opt, char *out, size_t cap);

#endif
