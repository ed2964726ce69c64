/* Library errors as messages and exit codes (see cli.h and cli_exit.h). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_exit.h"

/* Agent codes that mean "refused for safety": the target or source would be at risk. */
static bool unsafe(const char *remote)
{
	return strcmp(remote, "TARGET_UNSAFE") == 0 || strcmp(remote, "PATH_DENIED") == 0 ||
	       strcmp(remote, "TARGET_TOO_SMALL") == 0;
}

int cli_exit_code(const struct xclone_error *err)
{
	switch (err->code) {
	case XC_OK:
		return EXIT_OK;
	case XC_E_USAGE:
	case XC_E_CONFIG:
		return err->remote_code[0] && unsafe(err->remote_code) ? EXIT_UNSAFE : EXIT_USAGE;
	case XC_E_CONNECT:
	case XC_E_AUTH:
	case XC_E_HOSTKEY:
	case XC_E_AGENT:
		return EXIT_CONNECT;
	case XC_E_TIMEOUT:
		return EXIT_TIMEOUT;
	case XC_E_NOMEM:
	case XC_E_INTERNAL:
		return EXIT_INTERNAL;
	default:
		return err->remote_code[0] && unsafe(err->remote_code) ? EXIT_UNSAFE : EXIT_FAILED;
	}
}

/* What to do next, in the CLI's own words (the library's message says what happened). */
static const char *hint(const struct cli_settings *s, const struct xclone_error *err)
{
	bool tls = s->value[O_TRANSPORT] != NULL && strcmp(s->value[O_TRANSPORT], "tls") == 0;

	if (tls && err->code == XC_E_AUTH)
		return "the agent accepts only client certificates its serve_ca signed (and, when "
		       "serve_client_pins is set, listed there): check --tls-cert and --tls-key";
	if (tls && err->code == XC_E_HOSTKEY)
		return "the agent's certificate is not the expected one: check --tls-ca, "
		       "--tls-server-name (default: --host) or --tls-pin";
	switch (err->code) {
	case XC_E_HOSTKEY:
		return "the host's identity is not verified: check its fingerprint out of band, then "
		       "use --known-hosts, --host-key-fingerprint or --accept-new-host-key";
	case XC_E_AUTH:
		return "install the key's restricted line on the host (`xclone authorized-key "
		       "KEY.pub` prints it), or give the right --identity";
	case XC_E_AGENT:
		return "is the xclone-agent VIB installed, and does the authorized_keys command= "
		       "name it? (docs/INSTALL.md, section 3)";
	case XC_E_CONNECT:
		return "check --host and --port, and that the host's SSH service (or xclone-agent "
		       "serve) runs and the firewall lets you in";
	case XC_E_TIMEOUT:
		return err->remote_code[0] ? NULL : "the host did not answer in time: raise --timeout "
						    "or --connect-timeout, or check the network";
	default:
		return NULL;
	}
}

/* With a refused SSH key: the exact line to install, from the identity's .pub file. */
static void print_key_line(const struct cli_settings *s, const struct xclone_error *err)
{
	char path[4200], pub[16384], *line = NULL;
	const char *id = s->value[O_IDENTITY];
	FILE *f;
	size_t n;

	if (err->code != XC_E_AUTH || id == NULL || strstr(err->message, "command=\"") != NULL)
		return; /* not a refused key, or the message holds the line already */
	snprintf(path, sizeof(path), "%s.pub", id);
	if ((f = fopen(path, "re")) == NULL)
		return;
	n = fread(pub, 1, sizeof(pub) - 1, f);
	fclose(f);
	pub[n] = '\0';
	if (xclone_authorized_key_line(pub, NULL, NULL, &line, NULL) == 0)
		fprintf(stderr, "the line for %s:\n%s\n", path, line);
	free(line);
}

int cli_fail(const struct cli_settings *s, const struct xclone_error *err)
{
	int code = cli_exit_code(err);
	const char *h = hint(s, err);

	if (cli_on(s, O_JSON)) {
		cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");

		cJSON_AddStringToObject(e, "code", xclone_code_name(err->code));
		if (err->remote_code[0])
			cJSON_AddStringToObject(e, "remote_code", err->remote_code);
		else
			cJSON_AddNullToObject(e, "remote_code");
		cJSON_AddStringToObject(e, "message", err->message);
		cJSON_AddBoolToObject(e, "retryable", err->retryable != 0);
		cJSON_AddNumberToObject(e, "exit", code);
		out_json(stderr, o);
		return code;
	}
	fprintf(stderr, "xclone %s: %s\n", s->command, err->message);
	print_key_line(s, err);
	if (h != NULL)
		fprintf(stderr, "hint: %s\n", h);
	return code;
}

void cli_help_exit_codes(FILE *out)
{
	fprintf(out,
		"xclone exit codes\n\n"
		"   0  success (clone --watch, task watch: the task succeeded)\n"
		"   1  the operation ran and failed: an agent error (task not found, device busy,\n"
		"      host command failed...), or the watched task failed, was canceled or lost;\n"
		"      preflight: a blocker would stop clone.start\n"
		"   2  usage: bad command line, setting or config file; an argument the agent\n"
		"      judged malformed (BAD_REQUEST)\n"
		"   3  connection or authentication: cannot connect, host key or certificate not\n"
		"      trusted, key refused, agent missing on the host\n"
		"   4  timeout: no answer in time, or the agent's own deadline (device wait)\n"
		"   5  unsafe: refused for safety (TARGET_UNSAFE, PATH_DENIED, TARGET_TOO_SMALL),\n"
		"      also when preflight finds such a blocker\n"
		"   6  populate: the key is being run by another process, or names other disks\n"
		"      or another host\n"
		"   7  populate: stopped with work or cleanup left; run it again with the same key\n"
		"  70  internal error (a bug: please report it)\n");
}
