/* Host key trust policy (see hostkey.h). */
#include <stdio.h>
#include <string.h>

#include "fingerprint.h"
#include "hostkey.h"
#include "known_hosts.h"
#include "transport.h"

static int refuse_pinned(const char *name, const char *type, const char *seen, const char *pin,
			 struct xclone_error *err)
{
	return xclone_error_set(err, XC_E_HOSTKEY,
				"host key verification failed for %s: the server presented %s %s, "
				"not the pinned %s. Do not connect until you know why (reinstalled "
				"host, or someone in the middle); compare with the fingerprint shown "
				"on the host's console",
				name, type, seen, pin);
}

static int refuse_changed(const char *name, const char *type, const char *seen,
			  const struct xc_kh_result *r, const char *file, struct xclone_error *err)
{
	return xclone_error_set(err, XC_E_HOSTKEY,
				"host key verification failed for %s: the server presented %s %s, "
				"but %s line %u holds %s %s for it. Do not connect until you know why; "
				"if the host was reinstalled, check the new fingerprint on its console, "
				"then remove the old entry with: ssh-keygen -R '%s' -f '%s'",
				name, type, seen, file, r->line, r->known_type, r->known_fp, name, file);
}

static int refuse_unknown(const char *name, const char *type, const char *seen, const char *file,
			  struct xclone_error *err)
{
	return xclone_error_set(err, XC_E_HOSTKEY,
				"host key verification failed for %s: it is not in %s (the server "
				"presented %s %s). Check that fingerprint on the host's console, then "
				"pin it (host key fingerprint %s) or accept it once (accept new host "
				"key), which adds it to the known_hosts file",
				name, file, type, seen, seen);
}

int xc_hostkey_verify(const struct xclone_conn_options *opt, const unsigned char *blob,
		      size_t len, struct xc_hostkey_verdict *v, struct xclone_error *err)
{
	char name[300], type[64], seen[XC_FP_MAX];
	const char *file = opt->known_hosts_file;
	struct xc_kh_result r;
	int rc;

	xc_kh_lookup_name(opt->host, opt->port, name, sizeof(name));
	xc_ssh_blob_type(blob, len, type, sizeof(type));
	xc_fp_ssh(blob, len, seen);
	snprintf(v->identity, sizeof(v->identity), "%s %s", type, seen);
	if (opt->host_key_fingerprint != NULL) {
		if (!xc_fp_ssh_equal(opt->host_key_fingerprint, seen))
			return refuse_pinned(name, type, seen, opt->host_key_fingerprint, err);
		snprintf(v->source, sizeof(v->source), "pinned fingerprint");
		return 0;
	}
	if ((rc = xc_kh_check(file, name, blob, len, &r, err)) != 0)
		return rc;
	switch (r.status) {
	case XC_KH_MATCH:
		snprintf(v->source, sizeof(v->source), "%s line %u", file, r.line);
		return 0;
	case XC_KH_REVOKED:
		return xclone_error_set(err, XC_E_HOSTKEY,
					"host key verification failed for %s: its key %s %s is marked "
					"@revoked in %s line %u",
					name, type, seen, file, r.line);
	case XC_KH_MISMATCH:
		return refuse_changed(name, type, seen, &r, file, err);
	case XC_KH_NOT_FOUND:
		break;
	}
	if (!opt->accept_new_host_key)
		return refuse_unknown(name, type, seen, file, err);
	if ((rc = xc_kh_append(file, name, blob, len, err)) != 0)
		return rc;
	xc_log(opt, "added %s %s for %s to %s (trust on first use)", type, seen, name, file);
	snprintf(v->source, sizeof(v->source), "new: added to %s", file);
	return 0;
}

void xc_hostkey_prefs(const struct xclone_conn_options *opt, char *out, size_t cap)
{
	char name[300];

	out[0] = '\0';
	if (opt->host_key_fingerprint != NULL)
		return; /* any key type can be compared with a fingerprint */
	xc_kh_lookup_name(opt->host, opt->port, name, sizeof(name));
	xc_kh_hostkey_prefs(opt->known_hosts_file, name, out, cap);
}
