/*
 * Agent settings: one table of keys drives defaults, the file parser, --set,
 * the effective-configuration dump and the usage text, so a key is declared
 * once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ag_file.h"
#include "ag_text.h"
#include "config.h"

enum key_kind {
	KEY_PROGRAM, /* absolute path of a program */
	KEY_DIR,     /* absolute path of a folder, not "/" */
	KEY_UINT,    /* decimal integer within [min, max] */
	KEY_LOG_LEVEL,
	KEY_WORD,    /* 1..AG_CONFIG_WORD_MAX of [0-9A-Za-z.+-] (version strings) */
	KEY_FILE,    /* absolute path of a file */
	KEY_FILE_OPT, /* absolute path of a file, or empty for "not set" */
	KEY_BOOL,    /* true or false */
	KEY_ADDRESS, /* an IPv4 or IPv6 address literal */
	KEY_PINS,    /* SHA-256 certificate fingerprints (serve_pins.h) */
	KEY_OPLIST,  /* empty, or operation names separated by commas */
};

struct key_spec {
	const char *name;
	enum key_kind kind;
	size_t offset; /* of the field in struct ag_config */
	unsigned min, max;
	const char *default_value;
	const char *help;
};

#define FIELD(f) offsetof(struct ag_config, f)

static const struct key_spec keys[] = {
	{ "vmkfstools_path", KEY_PROGRAM, FIELD(vmkfstools_path), 0, 0, "/bin/vmkfstools",
	  "vmkfstools program (clones)" },
	{ "esxcli_path", KEY_PROGRAM, FIELD(esxcli_path), 0, 0, "/bin/esxcli",
	  "esxcli program (host storage queries and actions)" },
	{ "vsish_path", KEY_PROGRAM, FIELD(vsish_path), 0, 0, "/bin/vsish",
	  "vsish program (device clone-write counters)" },
	{ "vmfs_root", KEY_DIR, FIELD(vmfs_root), 0, 0, "/vmfs",
	  "folder holding volumes/ and devices/disks/" },
	{ "state_dir", KEY_DIR, FIELD(state_dir), 0, 0, "/var/run/xclone",
	  "task records; on ESXi a ramdisk folder, emptied at reboot" },
	{ "max_clones", KEY_UINT, FIELD(max_clones), 1, 64, "4",
	  "clones running at once before clone.start answers BUSY" },
	{ "task_retention_seconds", KEY_UINT, FIELD(task_retention_s), 60, 2592000, "86400",
	  "finished tasks are garbage-collected after this long" },
	{ "cancel_grace_seconds", KEY_UINT, FIELD(cancel_grace_s), 1, 600, "10",
	  "task.cancel: SIGTERM, then SIGKILL after this long" },
	{ "rescan_timeout_seconds", KEY_UINT, FIELD(rescan_timeout_s), 5, 3600, "300",
	  "bound on one storage adapter rescan" },
	{ "rescan_settle_timeout_seconds", KEY_UINT, FIELD(rescan_settle_timeout_s), 1, 3600, "120",
	  "device.wait: longest wait for a device to appear after rescans" },
	{ "esxcli_timeout_seconds", KEY_UINT, FIELD(esxcli_timeout_s), 5, 3600, "120",
	  "bound on one esxcli or vsish call" },
	{ "log_level", KEY_LOG_LEVEL, FIELD(log_level), 0, 0, "info",
	  "error, warning, info or debug" },
	/*
	 * What the Forklift compatibility answers report as the wrapper's version:
	 * MTV reinstalls its own VIB unless this equals its release's VibVersion
	 * (vib/README.md, "Compatibility namespace").
	 */
	{ "compat_wrapper_version", KEY_WORD, FIELD(compat_wrapper_version), 0, 0, "0.3.3",
	  "version the Forklift-compatible interface reports" },
	/* serve: the mutual-TLS socket (agent/README.md, "serve"). */
	{ "serve_enabled", KEY_BOOL, FIELD(serve_enabled), 0, 0, "false",
	  "true lets /etc/init.d/xclone-agent start serve" },
	{ "serve_listen", KEY_ADDRESS, FIELD(serve_listen), 0, 0, "0.0.0.0",
	  "address serve listens on (IPv4 or IPv6 literal)" },
	{ "serve_port", KEY_UINT, FIELD(serve_port), 0, 65535, "8443",
	  "TCP port of serve (0: any free port, logged; for tests)" },
	{ "serve_cert", KEY_FILE_OPT, FIELD(serve_cert), 0, 0, "",
	  "serve's certificate chain (PEM); required by serve" },
	{ "serve_key", KEY_FILE_OPT, FIELD(serve_key), 0, 0, "",
	  "private key of serve_cert (PEM, mode 0600); required by serve" },
	{ "serve_ca", KEY_FILE_OPT, FIELD(serve_ca), 0, 0, "",
	  "CA certificates that sign client certificates (PEM); required by serve" },
	{ "serve_client_pins", KEY_PINS, FIELD(serve_client_pins), 0, 0, "",
	  "SHA256:<hex> fingerprints of the only client certificates accepted (comma-separated)" },
	{ "serve_pidfile", KEY_FILE, FIELD(serve_pidfile), 0, 0, "/var/run/xclone/serve.pid",
	  "serve's process id, written once it listens" },
	{ "serve_handshake_timeout_seconds", KEY_UINT, FIELD(serve_handshake_timeout_s), 1, 300,
	  "10", "a connection must finish its TLS handshake within this long" },
	{ "serve_idle_timeout_seconds", KEY_UINT, FIELD(serve_idle_timeout_s), 2, 86400, "300",
	  "a connection that sends no complete request (or reads no answer) this long is closed" },
	{ "serve_max_connections", KEY_UINT, FIELD(serve_max_connections), 1, 256, "32",
	  "connections served at once; more are closed at once" },
	{ "serve_max_requests_per_second", KEY_UINT, FIELD(serve_max_requests_per_second), 1,
	  100000, "50", "requests started per second on one connection; more wait their turn" },
	{ "serve_read_only", KEY_BOOL, FIELD(serve_read_only), 0, 0, "false",
	  "true refuses serve's clients every operation that changes the host" },
	{ "serve_allow", KEY_OPLIST, FIELD(serve_allow), 0, 0, "",
	  "operations serve's clients may run (comma-separated; empty: all)" },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(NKEYS <= 64, "flag_keys has one bit per key");

static const struct {
	const char *name;
	enum ag_log_level level;
} log_levels[] = {
	{ "error", AG_LOG_ERROR },
	{ "warning", AG_LOG_WARN },
	{ "info", AG_LOG_INFO },
	{ "debug", AG_LOG_DEBUG },
};

static const struct key_spec *key_find(const char *name, size_t len, size_t *index)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (ag_text_eq(name, len, keys[i].name)) {
			*index = i;
			return &keys[i];
		}
	}
	return NULL;
}

static int set_path(char *field, const struct key_spec *k, const char *v, size_t n, char *why,
		    size_t cap)
{
	if (n == 0 && k->kind == KEY_FILE_OPT) {
		field[0] = '\0';
		return 0;
	}
	while (n > 1 && v[n - 1] == '/')
		n--;
	if (n == 0 || v[0] != '/') {
		snprintf(why, cap, "must be an absolute path");
		return -1;
	}
	if (k->kind != KEY_PROGRAM && n == 1) {
		snprintf(why, cap, "must not be the root folder");
		return -1;
	}
	if (ag_text_has_ctl(v, n) || !ag_text_utf8_valid(v, n)) {
		snprintf(why, cap, "must be UTF-8 text without control characters");
		return -1;
	}
	if (ag_text_path_has_dot_dir(v, n) || memmem(v, n, "//", 2) != NULL) {
		snprintf(why, cap, "must not contain empty, '.' or '..' components");
		return -1;
	}
	if (ag_text_copy(field, AG_CONFIG_PATH_MAX, v, n) != 0) {
		snprintf(why, cap, "is longer than %d bytes", AG_CONFIG_PATH_MAX - 1);
		return -1;
	}
	return 0;
}

static int set_uint(unsigned *field, const struct key_spec *k, const char *v, size_t n, char *why,
		    size_t cap)
{
	uint64_t x;

	if (ag_text_u64(v, n, k->max, &x) != 0 || x < k->min) {
		snprintf(why, cap, "must be a whole number from %u to %u", k->min, k->max);
		return -1;
	}
	*field = (unsigned)x;
	return 0;
}

static int set_log_level(enum ag_log_level *field, const char *v, size_t n, char *why, size_t cap)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
		if (ag_text_eq(v, n, log_levels[i].name)) {
			*field = log_levels[i].level;
			return 0;
		}
	}
	snprintf(why, cap, "must be error, warning, info or debug");
	return -1;
}

/* Validates and stores one value; on failure writes the reason into why. */
static int set_word(char *field, const char *v, size_t n, char *why, size_t cap)
{
	if (n == 0 || n > AG_CONFIG_WORD_MAX) {
		snprintf(why, cap, "must be 1 to %d characters", AG_CONFIG_WORD_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      c == '.' || c == '+' || c == '-')) {
			snprintf(why, cap, "may hold only letters, digits, '.', '+' and '-'");
			return -1;
		}
	}
	memcpy(field, v, n);
	field[n] = '\0';
	return 0;
}

static int set_bool(bool *field, const char *v, size_t n, char *why, size_t cap)
{
	if (ag_text_eq(v, n, "true") || ag_text_eq(v, n, "false")) {
		*field = v[0] == 't';
		return 0;
	}
	snprintf(why, cap, "must be true or false");
	return -1;
}

static int set_address(char *field, const char *v, size_t n, char *why, size_t cap)
{
	unsigned char bin[16];
	char text[AG_CONFIG_ADDR_MAX];

	if (ag_text_copy(text, sizeof(text), v, n) != 0 ||
	    (inet_pton(AF_INET, text, bin) != 1 && inet_pton(AF_INET6, text, bin) != 1)) {
		snprintf(why, cap, "must be an IPv4 or IPv6 address (0.0.0.0 or :: for every one)");
		return -1;
	}
	memcpy(field, text, n + 1);
	return 0;
}

/* Operation names are checked against the protocol when serve starts (caller.c). */
static int set_oplist(char *field, const char *v, size_t n, char *why, size_t cap)
{
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'a' && c <= 'z') || c == '.' || c == '_' || c == ',')) {
			snprintf(why, cap, "must be operation names separated by commas");
			return -1;
		}
	}
	if (ag_text_copy(field, AG_CONFIG_LIST_MAX, v, n) != 0) {
		snprintf(why, cap, "is longer than %d bytes", AG_CONFIG_LIST_MAX - 1);
		return -1;
	}
	return 0;
}

static int set_value(struct ag_config *cfg, const struct key_spec *k, const char *v, size_t n,
		     char *why, size_t cap)
{
	char *field = (char *)cfg + k->offset;

	switch (k->kind) {
	case KEY_PROGRAM:
	case KEY_DIR:
	case KEY_FILE:
	case KEY_FILE_OPT:
		return set_path(field, k, v, n, why, cap);
	case KEY_UINT:
		return set_uint((unsigned *)(void *)field, k, v, n, why, cap);
	case KEY_LOG_LEVEL:
		return set_log_level((enum ag_log_level *)(void *)field, v, n, why, cap);
	case KEY_WORD:
		return set_word(field, v, n, why, cap);
	case KEY_BOOL:
		return set_bool((bool *)(void *)field, v, n, why, cap);
	case KEY_ADDRESS:
		return set_address(field, v, n, why, cap);
	case KEY_PINS:
		return ag_pins_parse((struct ag_pins *)(void *)field, v, n, why, cap);
	case KEY_OPLIST:
		return set_oplist(field, v, n, why, cap);
	}
	snprintf(why, cap, "has an unknown kind");
	return -1;
}

void ag_config_defaults(struct ag_config *cfg)
{
	char why[128];

	memset(cfg, 0, sizeof(*cfg));
	/* The defaults pass their own validation (checked by the unit test). */
	for (size_t i = 0; i < NKEYS; i++)
		(void)set_value(cfg, &keys[i], keys[i].default_value, strlen(keys[i].default_value),
				why, sizeof(why));
}

/* Splits one line into key and value; -1 when there is no '=' or no key. */
static int split_key_value(const char *line, size_t len, const char **key, size_t *klen,
			   const char **val, size_t *vlen)
{
	const char *eq = memchr(line, '=', len);

	if (eq == NULL)
		return -1;
	*key = line;
	*klen = (size_t)(eq - line);
	*val = eq + 1;
	*vlen = len - *klen - 1;
	ag_text_trim(key, klen);
	ag_text_trim(val, vlen);
	return *klen == 0 ? -1 : 0;
}

static int parse_line(struct ag_config *cfg, const char *name, int lineno, const char *line,
		      size_t len, int *seen, struct ag_error *err)
{
	const char *key, *val;
	size_t klen, vlen, idx;
	const struct key_spec *k;
	char q[96], why[128];

	if (split_key_value(line, len, &key, &klen, &val, &vlen) != 0)
		return ag_error_set_line(err, AG_CONFIG_E_SYNTAX, lineno,
					 "%s:%d: expected 'key = value', got '%s'", name, lineno,
					 ag_text_quote(q, sizeof(q), line, len));
	k = key_find(key, klen, &idx);
	if (k == NULL)
		return ag_error_set_line(err, AG_CONFIG_E_KEY, lineno, "%s:%d: unknown key '%s'",
					 name, lineno, ag_text_quote(q, sizeof(q), key, klen));
	if (seen[idx] != 0)
		return ag_error_set_line(err, AG_CONFIG_E_DUP, lineno,
					 "%s:%d: duplicate key '%s' (first set on line %d)", name,
					 lineno, k->name, seen[idx]);
	seen[idx] = lineno;
	if (set_value(cfg, k, val, vlen, why, sizeof(why)) != 0)
		return ag_error_set_line(err, AG_CONFIG_E_VALUE, lineno, "%s:%d: %s %s (got '%s')",
					 name, lineno, k->name, why,
					 ag_text_quote(q, sizeof(q), val, vlen));
	return 0;
}

int ag_config_parse_text(struct ag_config *cfg, const char *name, const char *text, size_t len,
			 struct ag_error *err)
{
	int seen[NKEYS] = { 0 };
	size_t pos = 0;
	int lineno = 0;

	if (len > AG_CONFIG_FILE_MAX)
		return ag_error_set(err, AG_CONFIG_E_FILE, "%s: larger than %d bytes", name,
				    AG_CONFIG_FILE_MAX);
	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		int rc;

		pos += n + (nl ? 1 : 0);
		lineno++;
		if (n > AG_CONFIG_LINE_MAX)
			return ag_error_set_line(err, AG_CONFIG_E_SYNTAX, lineno,
						 "%s:%d: line longer than %d bytes", name, lineno,
						 AG_CONFIG_LINE_MAX);
		if (memchr(line, '\0', n) != NULL)
			return ag_error_set_line(err, AG_CONFIG_E_SYNTAX, lineno,
						 "%s:%d: NUL byte in line", name, lineno);
		if (n > 0 && line[n - 1] == '\r')
			n--; /* tolerate CRLF files */
		ag_text_trim(&line, &n);
		if (n == 0 || line[0] == '#')
			continue;
		rc = parse_line(cfg, name, lineno, line, n, seen, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Refuses a file root would run programs from if someone else could edit it. */
static int check_file_safe(const char *path, const struct stat *st, struct ag_error *err)
{
	if (!S_ISREG(st->st_mode))
		return ag_error_set(err, AG_CONFIG_E_FILE, "%s: not a regular file", path);
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return ag_error_set(err, AG_CONFIG_E_FILE,
				    "%s: owned by uid %u, expected root or the running user", path,
				    (unsigned)st->st_uid);
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return ag_error_set(err, AG_CONFIG_E_FILE,
				    "%s: writable by group or others (mode %03o)", path,
				    (unsigned)(st->st_mode & 0777));
	if (st->st_size > AG_CONFIG_FILE_MAX)
		return ag_error_set(err, AG_CONFIG_E_FILE, "%s: larger than %d bytes", path,
				    AG_CONFIG_FILE_MAX);
	return 0;
}

int ag_config_load_file(struct ag_config *cfg, const char *path, bool must_exist,
			struct ag_error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	/* O_NONBLOCK: a FIFO given as --config must not hang the open. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return ag_error_set(err, AG_CONFIG_E_FILE, "%s: cannot open: %s", path,
				    strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = ag_error_set(err, AG_CONFIG_E_FILE, "%s: cannot stat: %s", path,
				  strerror(errno));
		goto out;
	}
	rc = check_file_safe(path, &st, err);
	if (rc != 0)
		goto out;
	/* One byte more than allowed, so a file that grew is still caught. */
	buf = malloc(AG_CONFIG_FILE_MAX + 1);
	if (buf == NULL) {
		rc = ag_error_set(err, AG_CONFIG_E_FILE, "%s: out of memory", path);
		goto out;
	}
	if (ag_file_read_bounded(fd, buf, AG_CONFIG_FILE_MAX + 1, &len) != 0) {
		rc = ag_error_set(err, AG_CONFIG_E_FILE, "%s: cannot read: %s", path,
				  strerror(errno));
		goto out;
	}
	rc = ag_config_parse_text(cfg, path, buf, len, err);
out:
	free(buf);
	close(fd);
	return rc;
}

int ag_config_apply_flag(struct ag_config *cfg, const char *key_value, struct ag_error *err)
{
	const char *key, *val;
	size_t klen, vlen, idx, len = strlen(key_value);
	const struct key_spec *k;
	char q[96], why[128];

	if (split_key_value(key_value, len, &key, &klen, &val, &vlen) != 0)
		return ag_error_set(err, AG_CONFIG_E_SYNTAX, "--set: expected key=value, got '%s'",
				    ag_text_quote(q, sizeof(q), key_value, len));
	k = key_find(key, klen, &idx);
	if (k == NULL)
		return ag_error_set(err, AG_CONFIG_E_KEY, "--set: unknown key '%s'",
				    ag_text_quote(q, sizeof(q), key, klen));
	if (cfg->flag_keys & (UINT64_C(1) << idx))
		return ag_error_set(err, AG_CONFIG_E_DUP, "--set: key '%s' given twice", k->name);
	if (set_value(cfg, k, val, vlen, why, sizeof(why)) != 0)
		return ag_error_set(err, AG_CONFIG_E_VALUE, "--set: %s %s (got '%s')", k->name, why,
				    ag_text_quote(q, sizeof(q), val, vlen));
	cfg->flag_keys |= UINT64_C(1) << idx;
	return 0;
}

int ag_config_load(struct ag_config *cfg, const char *path, const char *const *sets, size_t nsets,
		   struct ag_error *err)
{
	int rc;

	ag_config_defaults(cfg);
	rc = ag_config_load_file(cfg, path ? path : AG_CONFIG_DEFAULT_PATH, path != NULL, err);
	for (size_t i = 0; rc == 0 && i < nsets; i++)
		rc = ag_config_apply_flag(cfg, sets[i], err);
	return rc;
}

const char *ag_config_log_level_name(enum ag_log_level level)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (log_levels[i].level == level)
			return log_levels[i].name;
	return "unknown";
}

static void write_pins(const char *name, const struct ag_pins *pins, FILE *out)
{
	char text[AG_PIN_TEXT_MAX];

	fprintf(out, "%s = ", name);
	for (unsigned i = 0; i < pins->count; i++) {
		ag_pin_format(pins->sha256[i], text);
		fprintf(out, "%s%s", i == 0 ? "" : ",", text);
	}
	fputc('\n', out);
}

void ag_config_write(const struct ag_config *cfg, FILE *out)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const char *field = (const char *)cfg + keys[i].offset;

		switch (keys[i].kind) {
		case KEY_PROGRAM:
		case KEY_DIR:
		case KEY_WORD:
		case KEY_FILE:
		case KEY_FILE_OPT:
		case KEY_ADDRESS:
		case KEY_OPLIST:
			fprintf(out, "%s = %s\n", keys[i].name, field);
			break;
		case KEY_BOOL:
			fprintf(out, "%s = %s\n", keys[i].name,
				*(const bool *)(const void *)field ? "true" : "false");
			break;
		case KEY_PINS:
			write_pins(keys[i].name, (const struct ag_pins *)(const void *)field, out);
			break;
		case KEY_UINT:
			fprintf(out, "%s = %u\n", keys[i].name, *(const unsigned *)(const void *)field);
			break;
		case KEY_LOG_LEVEL:
			fprintf(out, "%s = %s\n", keys[i].name,
				ag_config_log_level_name(*(const enum ag_log_level *)(const void *)field));
			break;
		}
	}
}

void ag_config_usage(FILE *out)
{
	for (size_t i = 0; i < NKEYS; i++)
		fprintf(out, "  %-30s %s (%s%s)\n", keys[i].name, keys[i].help,
			keys[i].default_value[0] ? "default " : "no default",
			keys[i].default_value);
}
