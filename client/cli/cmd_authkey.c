/* `xclone authorized-key KEY.pub`: the restricted authorized_keys line for a key. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_exit.h"
#include "commands.h"

#define PUBKEY_MAX 16384

static const struct cli_command_doc doc = {
	"authorized-key", C_AUTHKEY, "PUBLIC_KEY_FILE", 1, 1,
	"Print the line to add to the ESXi host's /etc/ssh/keys-root/authorized_keys so that\n"
	"this public key can start xclone-agent and nothing else (\"-\" reads standard input).",
	"The line forces the agent (command=\"...\") and forbids port, agent and X11\n"
	"forwarding and a terminal. Add exactly one such line per key, and no other line\n"
	"with the same key: OpenSSH uses the first line that matches.",
};

/* Operation names are lower case words with dots, comma-separated: checked again by the agent. */
static bool ops_valid(const char *v)
{
	if (v[0] == '\0')
		return false;
	for (const char *p = v; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || *p == '.' || *p == ','))
			return false;
	}
	return true;
}

static int read_key(const char *path, char *buf, size_t cap)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "xclone authorized-key: cannot read %s\n", path);
		return EXIT_USAGE;
	}
	n = fread(buf, 1, cap - 1, f);
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	return 0;
}

int cmd_authorized_key(int argc, char **argv)
{
	struct cli_settings s;
	struct xclone_error err = { 0 };
	char args[512] = "", *key = NULL, *line = NULL;
	int first, rc;

	if (!cli_begin(argc, argv, &doc, &s, &first, NULL, &rc))
		goto out;
	if (s.value[O_ALLOW] != NULL && !ops_valid(s.value[O_ALLOW])) {
		rc = cli_bad(&s, O_ALLOW, "expected operation names separated by commas");
		goto out;
	}
	snprintf(args, sizeof(args), "%s%s%s%s", cli_on(&s, O_READ_ONLY) ? "--read-only" : "",
		 cli_on(&s, O_READ_ONLY) && s.value[O_ALLOW] ? " " : "",
		 s.value[O_ALLOW] ? "--allow=" : "", s.value[O_ALLOW] ? s.value[O_ALLOW] : "");
	key = malloc(PUBKEY_MAX);
	if (key == NULL) {
		rc = EXIT_INTERNAL;
		goto out;
	}
	if ((rc = read_key(argv[first], key, PUBKEY_MAX)) != 0)
		goto out;
	if (xclone_authorized_key_line(key, s.value[O_AGENT_PATH], args[0] ? args : NULL, &line,
				       &err) != 0) {
		rc = cli_fail(&s, &err);
		goto out;
	}
	if (cli_on(&s, O_JSON)) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "authorized_key", line);
		rc = out_json(stdout, o);
	} else {
		printf("%s\n", line);
		rc = EXIT_OK;
	}
out:
	free(line);
	free(key);
	cli_settings_free(&s);
	return rc;
}
