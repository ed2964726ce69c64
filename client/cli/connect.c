/* Connecting from the CLI's settings (see cli.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_exit.h"

#define PASSPHRASE_MAX 1024

static void log_line(const char *line, void *ud)
{
	fprintf(stderr, "xclone: %s\n", line);
}

/* The first of the usual key files that exists, like ssh does. */
static const char *default_identity(char *buf, size_t cap)
{
	static const char *const names[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	const char *home = getenv("HOME");

	for (size_t i = 0; home != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(buf, cap, "%s/.ssh/%s", home, names[i]);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	return NULL;
}

/* The first line of the passphrase file, into buf. */
static int read_passphrase(const struct cli_settings *s, char *buf, size_t cap)
{
	FILE *f = fopen(s->value[O_PASSPHRASE_FILE], "re");
	size_t n;

	if (f == NULL)
		return cli_bad(s, O_PASSPHRASE_FILE, "cannot be read");
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static int transport_of(const struct cli_settings *s, enum xclone_transport *t)
{
	const char *v = s->value[O_TRANSPORT];

	if (v == NULL || strcmp(v, "ssh") == 0)
		*t = XCLONE_TRANSPORT_SSH;
	else if (strcmp(v, "tls") == 0)
		*t = XCLONE_TRANSPORT_TLS;
	else
		return cli_bad(s, O_TRANSPORT, "expected ssh or tls");
	return 0;
}

static int fill_options(struct cli_settings *s, struct xclone_conn_options *o, char *idbuf,
			size_t idcap)
{
	unsigned port = 0, retries = 4;
	int rc;

	xclone_conn_options_init(o);
	if ((rc = transport_of(s, &o->transport)) != 0)
		return rc;
	o->host = s->value[O_HOST];
	if (o->host == NULL) {
		fprintf(stderr, "xclone %s: no host: give --host, XCLONE_HOST or `host =` in the config "
				"file\n", s->command);
		return EXIT_USAGE;
	}
	if ((rc = cli_uint(s, O_PORT, 65535, &port)) != 0 ||
	    (rc = cli_uint(s, O_RETRIES, 100, &retries)) != 0 ||
	    (rc = cli_seconds_ms(s, O_TIMEOUT, &o->request_timeout_ms)) != 0 ||
	    (rc = cli_seconds_ms(s, O_CONNECT_TIMEOUT, &o->connect_timeout_ms)) != 0)
		return rc;
	o->port = port;
	o->max_attempts = retries + 1;
	o->user = s->value[O_USER];
	o->identity_file = s->value[O_IDENTITY];
	if (o->identity_file == NULL && o->transport == XCLONE_TRANSPORT_SSH)
		o->identity_file = default_identity(idbuf, idcap);
	if (o->identity_file == NULL && o->transport == XCLONE_TRANSPORT_SSH) {
		fprintf(stderr, "xclone %s: no SSH key: give --identity (none of ~/.ssh/id_ed25519, "
				"id_ecdsa, id_rsa exists)\n", s->command);
		return EXIT_USAGE;
	}
	o->known_hosts_file = s->value[O_KNOWN_HOSTS];
	o->host_key_fingerprint = s->value[O_HOST_KEY_FINGERPRINT];
	o->accept_new_host_key = cli_on(s, O_ACCEPT_NEW_HOST_KEY);
	o->tls_cert_file = s->value[O_TLS_CERT];
	o->tls_key_file = s->value[O_TLS_KEY];
	o->tls_ca_file = s->value[O_TLS_CA];
	o->tls_server_name = s->value[O_TLS_SERVER_NAME];
	o->tls_pin_sha256 = s->value[O_TLS_PIN];
	o->max_channels = 4;
	if (cli_on(s, O_VERBOSE))
		o->log = log_line;
	return 0;
}

int cli_connect(struct cli_settings *s, xclone_conn **out)
{
	struct xclone_conn_options o;
	struct xclone_error err = { 0 };
	char idbuf[4096], client[128], pass[PASSPHRASE_MAX];
	int rc;

	*out = NULL;
	if ((rc = fill_options(s, &o, idbuf, sizeof(idbuf))) != 0)
		return rc;
	if (s->value[O_PASSPHRASE_FILE] != NULL) {
		if ((rc = read_passphrase(s, pass, sizeof(pass))) != 0)
			return rc;
		o.passphrase = pass;
	}
	snprintf(client, sizeof(client), "xclone/%s %s", xclone_version(), s->command);
	o.client_name = client;
	rc = xclone_connect(out, &o, &err);
	memset(pass, 0, sizeof(pass));
	if (rc != 0)
		return cli_fail(s, &err);
	return 0;
}

bool cli_begin(int argc, char **argv, const struct cli_command_doc *doc, struct cli_settings *s,
	       int *first, xclone_conn **c, int *exit_code)
{
	int rc = cli_parse(argc, argv, doc, s, first);

	if (c != NULL)
		*c = NULL;
	if (rc == 1) {
		*exit_code = EXIT_OK; /* --help */
		return false;
	}
	if (rc == 0 && c != NULL)
		rc = cli_connect(s, c);
	*exit_code = rc;
	return rc == 0;
}

const struct cli_command_doc *cli_subcommand(int argc, char **argv, const char *group,
					     const struct cli_command_doc *docs, size_t n,
					     int *exit_code)
{
	bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
	FILE *out = help ? stdout : stderr;

	for (size_t i = 0; argc >= 2 && !help && i < n; i++) {
		const char *sub = strchr(docs[i].name, ' ');

		if (sub != NULL && strcmp(sub + 1, argv[1]) == 0)
			return &docs[i];
	}
	if (argc >= 2 && !help)
		fprintf(stderr, "xclone %s: unknown subcommand \"%s\"\n\n", group, argv[1]);
	fprintf(out, "usage: xclone %s <subcommand> [options] ...\n\nsubcommands:\n", group);
	for (size_t i = 0; i < n; i++) /* the summary's first line */
		fprintf(out, "  %-16s %.*s\n", docs[i].name, (int)strcspn(docs[i].summary, "\n"),
			docs[i].summary);
	fprintf(out, "\n`xclone %s <subcommand> --help` lists its options.\n", group);
	*exit_code = help ? EXIT_OK : EXIT_USAGE;
	return NULL;
}
