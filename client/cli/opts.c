/* The CLI's one option table, its parser, environment, config file and help (see opts.h). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_exit.h"
#include "opts.h"

#define CONFIG_MAX 65536

static const struct cli_option options[O_COUNT] = {
	{ O_HOST, "host", 'H', "HOST", true, C_AGENT, NULL,
	  "the ESXi host running xclone-agent (name or address); required" },
	{ O_PORT, "port", 'p', "PORT", true, C_AGENT, "22 (ssh), 8443 (tls)",
	  "TCP port of the host's SSH service or of `xclone-agent serve`" },
	{ O_TRANSPORT, "transport", 0, "ssh|tls", true, C_AGENT, "ssh",
	  "ssh: the restricted key's forced command; tls: xclone-agent serve, mutual TLS" },
	{ O_USER, "user", 'u', "USER", true, C_AGENT, "root", "SSH user whose authorized_keys holds the key" },
	{ O_IDENTITY, "identity", 'i', "FILE", true, C_AGENT,
	  "~/.ssh/id_ed25519, id_ecdsa or id_rsa, the first that exists",
	  "SSH private key (Ed25519, ECDSA, or RSA signing with rsa-sha2-512/256)" },
	{ O_PASSPHRASE_FILE, "passphrase-file", 0, "FILE", true, C_AGENT, NULL,
	  "file whose first line is the passphrase of the SSH key or the TLS key" },
	{ O_KNOWN_HOSTS, "known-hosts", 0, "FILE", true, C_AGENT, "~/.ssh/known_hosts",
	  "OpenSSH known_hosts file the host key must be in (hashed names and [host]:port work)" },
	{ O_HOST_KEY_FINGERPRINT, "host-key-fingerprint", 0, "SHA256:...", true, C_AGENT, NULL,
	  "pin the host key instead (as `ssh-keygen -lf` prints it); known_hosts is then not read" },
	{ O_ACCEPT_NEW_HOST_KEY, "accept-new-host-key", 0, NULL, true, C_AGENT, "off",
	  "trust an unknown host's key once and add it to known_hosts (a changed key is still refused)" },
	{ O_TLS_CERT, "tls-cert", 0, "FILE", true, C_AGENT, NULL,
	  "TLS: client certificate (PEM, chain allowed); required with --transport tls" },
	{ O_TLS_KEY, "tls-key", 0, "FILE", true, C_AGENT, "the --tls-cert file", "TLS: its private key (PEM)" },
	{ O_TLS_CA, "tls-ca", 0, "FILE", true, C_AGENT, NULL,
	  "TLS: CA certificate(s) that signed the agent's certificate" },
	{ O_TLS_SERVER_NAME, "tls-server-name", 0, "NAME", true, C_AGENT, "--host",
	  "TLS: name (or address) the agent's certificate must hold" },
	{ O_TLS_PIN, "tls-pin", 0, "SHA256", true, C_AGENT, NULL,
	  "TLS: SHA-256 of the agent's certificate (hex, ':' allowed), checked with or instead of --tls-ca" },
	{ O_TIMEOUT, "timeout", 't', "SECONDS", true, C_AGENT, "60",
	  "longest wait for one answer (device wait adds its own --wait-timeout)" },
	{ O_CONNECT_TIMEOUT, "connect-timeout", 0, "SECONDS", true, C_AGENT, "15",
	  "longest wait to connect, verify the host and log in" },
	{ O_RETRIES, "retries", 0, "N", true, C_AGENT, "4",
	  "retries of a failed or lost connection, with exponential backoff" },
	{ O_PROGRESS, "progress", 0, "auto|bar|lines|none", true, C_CLONE | C_TASK, "auto",
	  "how watching shows progress: auto is a bar on a terminal, lines otherwise" },
	{ O_JSON, "json", 'j', NULL, true, C_ALL, "off",
	  "print one JSON object per line (see `xclone help json`); errors too, on stderr" },
	{ O_VERBOSE, "verbose", 'v', NULL, true, C_AGENT, "off", "log connections and retries to stderr" },
	{ O_CONFIG, "config", 'c', "FILE", false, C_ALL, "~/.config/xclone/config",
	  "settings file (see `xclone help config`); also $XCLONE_CONFIG" },
	{ O_HELP, "help", 'h', NULL, false, C_ALL, NULL, "this help" },
	{ O_ADAPTER, "adapter", 'a', "NAME", false, C_RESCAN, "all adapters", "adapter to rescan (vmhba64)" },
	{ O_RESCAN_TYPE, "type", 0, "all|add|delete", false, C_RESCAN, "all",
	  "add: look for new devices; delete: drop removed ones" },
	{ O_WAIT_TIMEOUT, "wait-timeout", 0, "SECONDS", false, C_DEVICE, "60",
	  "device wait: how long the agent may wait for the device (0: look once)" },
	{ O_KEY, "key", 'k', "KEY", false, C_CLONE, "made up",
	  "idempotency key: the same key returns the same task instead of a second clone" },
	{ O_WATCH, "watch", 'w', NULL, false, C_CLONE, "off", "follow the clone until it ends" },
	{ O_READ_ONLY, "read-only", 0, NULL, false, C_AUTHKEY, "off",
	  "the key may only read (hello, host-info, device get, preflight, task get|watch|list)" },
	{ O_ALLOW, "allow", 0, "OP,...", false, C_AUTHKEY, "every operation",
	  "the key may call only these protocol operations (task.get,task.watch,...)" },
	{ O_AGENT_PATH, "agent-path", 0, "PATH", false, C_AUTHKEY, "/opt/xclone/bin/xclone-agent",
	  "where the VIB installed the agent" },
};

const struct cli_option *cli_options(void)
{
	return options;
}

void cli_env_name(const struct cli_option *o, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "XCLONE_%s", o->name);

	for (size_t i = 0; i < n && i < cap; i++)
		out[i] = out[i] == '-' ? '_' : (char)toupper((unsigned char)out[i]);
}

static bool takes(const struct cli_option *o, unsigned cmd)
{
	return (o->cmds & cmd) != 0;
}

/* ---- values -------------------------------------------------------------------- */

int cli_bad(const struct cli_settings *s, enum cli_opt o, const char *why)
{
	fprintf(stderr, "xclone %s: %s \"%s\": %s\n", s->command, s->origin[o],
		s->value[o] ? s->value[o] : "", why);
	return EXIT_USAGE;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

bool cli_on(const struct cli_settings *s, enum cli_opt o)
{
	bool on = false;

	return s->value[o] != NULL && parse_bool(s->value[o], &on) == 0 && on;
}

int cli_seconds_ms(const struct cli_settings *s, enum cli_opt o, unsigned *ms)
{
	const char *v = s->value[o];
	char *end;
	double d;

	if (v == NULL)
		return 0;
	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !isfinite(d) || d < 0 || d > 86400.0 * 7)
		return cli_bad(s, o, "expected seconds (0 to 604800, decimals allowed)");
	*ms = (unsigned)(d * 1000.0 + 0.5);
	return 0;
}

int cli_uint(const struct cli_settings *s, enum cli_opt o, unsigned max, unsigned *out)
{
	const char *v = s->value[o];
	char *end;
	unsigned long n;

	if (v == NULL)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n > max) {
		char why[64];

		snprintf(why, sizeof(why), "expected a whole number from 0 to %u", max);
		return cli_bad(s, o, why);
	}
	*out = (unsigned)n;
	return 0;
}

/* ---- the command line ------------------------------------------------------------ */

static void set_value(struct cli_settings *s, enum cli_opt o, const char *v, enum cli_source src,
		      const char *origin)
{
	s->value[o] = v;
	s->source[o] = src;
	snprintf(s->origin[o], sizeof(s->origin[o]), "%s", origin);
}

static int parse_flags(int argc, char **argv, const struct cli_command_doc *doc,
		       struct cli_settings *s, int *first)
{
	struct option longopts[O_COUNT + 1];
	char shorts[3 * O_COUNT + 2] = ":"; /* permute: options may follow operands */
	size_t n = 0, sl = strlen(shorts);
	int ch, idx;

	for (int i = 0; i < O_COUNT; i++) {
		const struct cli_option *o = &options[i];

		if (!takes(o, doc->cmd))
			continue;
		longopts[n++] = (struct option){ o->name, o->arg ? required_argument : no_argument,
						 NULL, 1000 + i };
		if (o->short_name) {
			shorts[sl++] = o->short_name;
			if (o->arg)
				shorts[sl++] = ':';
		}
	}
	longopts[n] = (struct option){ 0 };
	shorts[sl] = '\0';
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shorts, longopts, &idx)) != -1) {
		const struct cli_option *o = NULL;
		char origin[64];

		if (ch == '?' || ch == ':') {
			fprintf(stderr, "xclone %s: %s option %s (see `xclone %s --help`)\n",
				doc->name, ch == ':' ? "missing the argument of" : "unknown",
				argv[optind - 1], doc->name);
			return EXIT_USAGE;
		}
		if (ch >= 1000) {
			o = &options[ch - 1000];
		} else {
			for (int i = 0; i < O_COUNT && o == NULL; i++) {
				if (options[i].short_name == ch && takes(&options[i], doc->cmd))
					o = &options[i];
			}
		}
		if (o == NULL)
			return EXIT_INTERNAL;
		if (s->source[o->id] == SRC_FLAG) {
			fprintf(stderr, "xclone %s: --%s given twice\n", doc->name, o->name);
			return EXIT_USAGE;
		}
		snprintf(origin, sizeof(origin), "--%s", o->name);
		set_value(s, o->id, o->arg ? optarg : "1", SRC_FLAG, origin);
	}
	*first = optind;
	return 0;
}

/* ---- the environment ---------------------------------------------------------------- */

static void read_env(struct cli_settings *s, unsigned cmd)
{
	for (int i = 0; i < O_COUNT; i++) {
		const struct cli_option *o = &options[i];
		char name[64];
		const char *v;

		if (!o->setting || !takes(o, cmd) || s->source[i] != SRC_NONE)
			continue;
		cli_env_name(o, name, sizeof(name));
		v = getenv(name);
		if (v != NULL && v[0] != '\0')
			set_value(s, o->id, v, SRC_ENV, name);
	}
}

/* ---- the config file ---------------------------------------------------------------- */

static const struct cli_option *setting_named(const char *name)
{
	for (int i = 0; i < O_COUNT; i++) {
		if (options[i].setting && strcmp(options[i].name, name) == 0)
			return &options[i];
	}
	return NULL;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* One "key = value" line; a setting given by flag or environment keeps that value. */
static int config_line(struct cli_settings *s, const char *file, unsigned lineno, char *line,
		       bool seen[O_COUNT])
{
	char *eq = strchr(line, '='), *key, *value, origin[96];
	const struct cli_option *o;

	if (eq == NULL) {
		fprintf(stderr, "xclone: %s line %u: expected `key = value`\n", file, lineno);
		return EXIT_USAGE;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	o = setting_named(key);
	if (o == NULL) {
		fprintf(stderr, "xclone: %s line %u: unknown setting \"%s\" (see `xclone help config`)\n",
			file, lineno, key);
		return EXIT_USAGE;
	}
	if (seen[o->id]) {
		fprintf(stderr, "xclone: %s line %u: \"%s\" given twice\n", file, lineno, key);
		return EXIT_USAGE;
	}
	seen[o->id] = true;
	if (s->source[o->id] != SRC_NONE || !takes(o, s->cmd))
		return 0;
	s->owned[o->id] = strdup(value);
	if (s->owned[o->id] == NULL)
		return EXIT_INTERNAL;
	snprintf(origin, sizeof(origin), "%.70s line %u", file, lineno);
	set_value(s, o->id, s->owned[o->id], SRC_CONFIG, origin);
	return 0;
}

static int parse_config_text(struct cli_settings *s, const char *file, char *text)
{
	bool seen[O_COUNT] = { false };
	unsigned lineno = 0;
	char *line = text, *next;
	int rc;

	for (; line != NULL && *line != '\0'; line = next) {
		char *t;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		t = trim(line);
		if (*t == '\0' || *t == '#')
			continue;
		if ((rc = config_line(s, file, lineno, t, seen)) != 0)
			return rc;
	}
	return 0;
}

static void default_config_path(char *out, size_t cap)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (xdg != NULL && xdg[0] == '/')
		snprintf(out, cap, "%s/xclone/config", xdg);
	else
		snprintf(out, cap, "%s/.config/xclone/config", home ? home : "");
}

static int read_config(struct cli_settings *s)
{
	char path[4096], *text;
	const char *file = s->value[O_CONFIG];
	bool must_exist = file != NULL;
	FILE *f;
	size_t n;
	int rc;

	if (file == NULL && (file = getenv("XCLONE_CONFIG")) != NULL && file[0] != '\0')
		must_exist = true;
	if (file == NULL || file[0] == '\0') {
		default_config_path(path, sizeof(path));
		file = path;
	}
	f = fopen(file, "re");
	if (f == NULL) {
		if (!must_exist && errno == ENOENT)
			return 0;
		fprintf(stderr, "xclone: cannot read config file %s: %s\n", file, strerror(errno));
		return EXIT_USAGE;
	}
	text = calloc(1, CONFIG_MAX + 1);
	n = text ? fread(text, 1, CONFIG_MAX + 1, f) : 0;
	fclose(f);
	if (text == NULL)
		return EXIT_INTERNAL;
	if (n > CONFIG_MAX) {
		free(text);
		fprintf(stderr, "xclone: config file %s is larger than %d bytes\n", file, CONFIG_MAX);
		return EXIT_USAGE;
	}
	text[n] = '\0';
	rc = parse_config_text(s, file, text);
	free(text);
	return rc;
}

int cli_parse(int argc, char **argv, const struct cli_command_doc *doc, struct cli_settings *s,
	      int *first)
{
	int rc, operands;

	memset(s, 0, sizeof(*s));
	s->cmd = doc->cmd;
	s->command = doc->name;
	if ((rc = parse_flags(argc, argv, doc, s, first)) != 0)
		return rc;
	if (s->value[O_HELP] != NULL) {
		cli_help(stdout, doc);
		return 1;
	}
	read_env(s, doc->cmd);
	if ((rc = read_config(s)) != 0)
		return rc;
	/* An empty value means "not set", yet still overrides the sources below it. */
	for (int i = 0; i < O_COUNT; i++) {
		if (s->value[i] != NULL && s->value[i][0] == '\0')
			s->value[i] = NULL;
	}
	operands = argc - *first;
	if (operands < doc->min_operands || operands > doc->max_operands) {
		fprintf(stderr, "usage: xclone %s [options] %s\n(see `xclone %s --help`)\n", doc->name,
			doc->operands, doc->name);
		return EXIT_USAGE;
	}
	return 0;
}

void cli_settings_free(struct cli_settings *s)
{
	for (int i = 0; i < O_COUNT; i++) {
		free(s->owned[i]);
		s->owned[i] = NULL;
	}
}

/* ---- help ---------------------------------------------------------------------------- */

static void option_line(FILE *out, const struct cli_option *o)
{
	char left[64], env[48];

	if (o->short_name)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
	fprintf(out, "  %-36s %s\n", left, o->help);
	if (o->dflt != NULL)
		fprintf(out, "  %-36s   default: %s\n", "", o->dflt);
	if (o->setting) {
		cli_env_name(o, env, sizeof(env));
		fprintf(out, "  %-36s   env %s, config key \"%s\"\n", "", env, o->name);
	}
}

void cli_help(FILE *out, const struct cli_command_doc *doc)
{
	fprintf(out, "usage: xclone %s [options]%s%s\n\n%s\n", doc->name, doc->operands[0] ? " " : "",
		doc->operands, doc->summary);
	if (doc->description != NULL)
		fprintf(out, "\n%s\n", doc->description);
	fprintf(out, "\noptions:\n");
	for (int i = 0; i < O_COUNT; i++) {
		if (takes(&options[i], doc->cmd))
			option_line(out, &options[i]);
	}
	fprintf(out, "\nSettings come from flags, then XCLONE_* variables, then the config file.\n"
		     "Exit codes: `xclone help exit-codes`; JSON output: `xclone help json`.\n");
}

void cli_help_options(FILE *out)
{
	static const struct {
		unsigned bit;
		const char *name;
	} cmds[] = {
		{ C_HELLO, "hello" },         { C_HOST_INFO, "host-info" }, { C_RESCAN, "rescan" },
		{ C_DEVICE, "device" },       { C_PREFLIGHT, "preflight" }, { C_CLONE, "clone" },
		{ C_TASK, "task" },           { C_AUTHKEY, "authorized-key" },
	};

	fprintf(out, "Every option of xclone (flags; settings also from XCLONE_* and the config file):\n\n");
	for (int i = 0; i < O_COUNT; i++) {
		const struct cli_option *o = &options[i];

		option_line(out, o);
		if (o->cmds == C_ALL) {
			fprintf(out, "  %-36s   commands: all\n", "");
		} else if (o->cmds == C_AGENT) {
			fprintf(out, "  %-36s   commands: all that talk to the agent\n", "");
		} else {
			fprintf(out, "  %-36s   commands:", "");
			for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
				if (o->cmds & cmds[k].bit)
					fprintf(out, " %s", cmds[k].name);
			}
			fprintf(out, "\n");
		}
	}
}
