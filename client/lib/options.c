/* Connection options: defaults and owned copies (see conn.h). */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"

#ifndef XCLONE_VERSION
#define XCLONE_VERSION "0.0.0"
#endif

#define DEFAULT_SSH_PORT 22
#define DEFAULT_TLS_PORT 8443
#define DEFAULT_CONNECT_MS 15000
#define DEFAULT_REQUEST_MS 60000
#define DEFAULT_KEEPALIVE_MS 15000
#define DEFAULT_ATTEMPTS 5
#define DEFAULT_BACKOFF_MS 250
#define DEFAULT_BACKOFF_MAX_MS 8000
#define DEFAULT_CHANNELS 10 /* OpenSSH's default MaxSessions */

void xclone_conn_options_init(struct xclone_conn_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->transport = XCLONE_TRANSPORT_SSH;
}

/* Keeps a copy of *s in c->owned and points *s at it. */
static int own(struct xclone_conn *c, const char **s, struct xclone_error *err)
{
	size_t i;

	if (*s == NULL)
		return 0;
	for (i = 0; i < XC_OPTION_STRINGS && c->owned[i] != NULL; i++)
		;
	if (i == XC_OPTION_STRINGS)
		return xclone_error_set(err, XC_E_INTERNAL, "too many option strings");
	c->owned[i] = strdup(*s);
	if (c->owned[i] == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	*s = c->owned[i];
	return 0;
}

static const char *home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home != NULL && home[0] == '/')
		return home;
	pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_dir : "/";
}

static unsigned or_default(unsigned v, unsigned dflt)
{
	return v != 0 ? v : dflt;
}

int xc_options_copy(struct xclone_conn *c, const struct xclone_conn_options *in,
		    struct xclone_error *err)
{
	struct xclone_conn_options *o = &c->opt;
	char known_hosts[4096], client[64];
	const char *dflt_known = known_hosts, *dflt_client = client;
	const char **strings[] = { &o->host, &o->user, &o->identity_file, &o->passphrase,
				   &o->known_hosts_file, &o->host_key_fingerprint, &o->tls_cert_file,
				   &o->tls_key_file, &o->tls_ca_file, &o->tls_server_name,
				   &o->tls_pin_sha256, &o->client_name };
	int rc;

	*o = *in;
	if (o->host == NULL || o->host[0] == '\0')
		return xclone_error_set(err, XC_E_CONFIG, "no host given");
	if (o->transport != XCLONE_TRANSPORT_SSH && o->transport != XCLONE_TRANSPORT_TLS)
		return xclone_error_set(err, XC_E_CONFIG, "unknown transport %d", (int)o->transport);
	snprintf(known_hosts, sizeof(known_hosts), "%s/.ssh/known_hosts", home_dir());
	snprintf(client, sizeof(client), "libxclone/%s", XCLONE_VERSION);
	if (o->user == NULL)
		o->user = "root";
	if (o->known_hosts_file == NULL)
		o->known_hosts_file = dflt_known;
	if (o->client_name == NULL)
		o->client_name = dflt_client;
	if (o->tls_server_name == NULL)
		o->tls_server_name = o->host;
	if (o->tls_key_file == NULL)
		o->tls_key_file = o->tls_cert_file;
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		if ((rc = own(c, strings[i], err)) != 0)
			return rc;
	}
	o->port = or_default(o->port, o->transport == XCLONE_TRANSPORT_SSH ? DEFAULT_SSH_PORT
									      : DEFAULT_TLS_PORT);
	if (o->port > 65535)
		return xclone_error_set(err, XC_E_CONFIG, "port %u is out of range", o->port);
	o->connect_timeout_ms = or_default(o->connect_timeout_ms, DEFAULT_CONNECT_MS);
	o->request_timeout_ms = or_default(o->request_timeout_ms, DEFAULT_REQUEST_MS);
	o->keepalive_ms = or_default(o->keepalive_ms, DEFAULT_KEEPALIVE_MS);
	o->max_attempts = or_default(o->max_attempts, DEFAULT_ATTEMPTS);
	o->backoff_ms = or_default(o->backoff_ms, DEFAULT_BACKOFF_MS);
	o->backoff_max_ms = or_default(o->backoff_max_ms, DEFAULT_BACKOFF_MAX_MS);
	o->max_channels = or_default(o->max_channels, DEFAULT_CHANNELS);
	return 0;
}

void xc_options_free(struct xclone_conn *c)
{
	for (size_t i = 0; i < XC_OPTION_STRINGS; i++) {
		if (c->owned[i] != NULL && c->opt.passphrase == c->owned[i])
			memset(c->owned[i], 0, strlen(c->owned[i])); /* do not leave it in freed memory */
		free(c->owned[i]);
		c->owned[i] = NULL;
	}
}
