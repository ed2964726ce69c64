/*
 * SSH_ORIGINAL_COMMAND classification and the Forklift compatibility verbs.
 * Matches are exact: the compatibility grammar is what Forklift's Go populator
 * writes (verb and arguments joined by single spaces), nothing more.
 */
#include <string.h>

#include "ag_text.h"
#include "ssh_command.h"

static const char *const compat_verbs[] = {
	[AG_COMPAT_NONE] = "none",         [AG_COMPAT_PING] = "ping",
	[AG_COMPAT_CLONE] = "clone",       [AG_COMPAT_TASK_GET] = "task-get",
	[AG_COMPAT_TASK_CLEAN] = "task-clean", [AG_COMPAT_VERSION] = "version",
};

/* Prefix match; advances (*s, *n) past prefix when it matches. */
static int eat(const char **s, size_t *n, const char *prefix)
{
	size_t k = strlen(prefix);

	if (*n < k || memcmp(*s, prefix, k) != 0)
		return 0;
	*s += k;
	*n -= k;
	return 1;
}

/* A value copied into a field: bounded, UTF-8, no control characters. */
static int set_field(char *dst, size_t cap, const char *what, const char *s, size_t n,
		     struct ag_error *err)
{
	if (n == 0)
		return ag_error_set(err, AG_SSHCMD_E_FIELD, "%s is empty", what);
	if (ag_text_has_ctl(s, n) || !ag_text_utf8_valid(s, n))
		return ag_error_set(err, AG_SSHCMD_E_FIELD,
				    "%s must be UTF-8 without control characters", what);
	if (ag_text_copy(dst, cap, s, n) != 0)
		return ag_error_set(err, AG_SSHCMD_E_FIELD, "%s is longer than %zu bytes", what,
				    cap - 1);
	return 0;
}

static int set_task(struct ag_sshcmd *out, enum ag_compat_verb verb, const char *id, size_t n,
		    struct ag_error *err)
{
	char q[96];

	if (!ag_task_id_valid(id, n))
		return ag_error_set(err, AG_SSHCMD_E_FIELD, "task id '%s' is not valid",
				    ag_text_quote(q, sizeof(q), id, n));
	memcpy(out->task_id, id, n);
	out->task_id[n] = '\0';
	out->verb = verb;
	return 0;
}

static int set_clone(struct ag_sshcmd *out, const char *src, size_t slen, const char *dev,
		     size_t dlen, struct ag_error *err)
{
	int rc = set_field(out->source, sizeof(out->source), "clone source", src, slen, err);

	if (rc == 0)
		rc = set_field(out->device, sizeof(out->device), "clone target", dev, dlen, err);
	if (rc == 0 && memchr(dev, ' ', dlen) != NULL)
		rc = ag_error_set(err, AG_SSHCMD_E_FIELD, "clone target holds a space");
	if (rc == 0)
		out->verb = AG_COMPAT_CLONE;
	return rc;
}

/* Last occurrence of needle in (s, n), NULL when absent. */
static const char *last_of(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = n; i >= k; i--)
		if (memcmp(s + i - k, needle, k) == 0)
			return s + i - k;
	return NULL;
}

/* The CMD= part: one of the four argument lists. */
static int compat_args(struct ag_sshcmd *out, const char *s, size_t n, struct ag_error *err)
{
	const char *t;
	char q[96];

	if (ag_text_eq(s, n, "--version")) {
		out->verb = AG_COMPAT_VERSION;
		return 0;
	}
	if (eat(&s, &n, "--task-get -i "))
		return set_task(out, AG_COMPAT_TASK_GET, s, n, err);
	if (eat(&s, &n, "--task-clean -i "))
		return set_task(out, AG_COMPAT_TASK_CLEAN, s, n, err);
	if (eat(&s, &n, "--clone -s ")) {
		/* The device never holds a space, so the last " -t " ends the source. */
		t = last_of(s, n, " -t ");
		if (t == NULL)
			return ag_error_set(err, AG_SSHCMD_E_COMPAT,
					    "--clone needs -s <source> -t <device>");
		return set_clone(out, s, (size_t)(t - s), t + 4, n - (size_t)(t - s) - 4, err);
	}
	return ag_error_set(err, AG_SSHCMD_E_COMPAT, "unknown compatibility command '%s'",
			    ag_text_quote(q, sizeof(q), s, n));
}

/* "DS=<datastore>;CMD=<args>": the datastore ends at the first ';', as in Forklift. */
static int compat_form(struct ag_sshcmd *out, const char *s, size_t n, struct ag_error *err)
{
	const char *rest = memchr(s, ';', n);
	size_t dslen, rn;
	char q[96];

	out->mode = AG_SSHCMD_COMPAT;
	if (rest == NULL)
		return ag_error_set(err, AG_SSHCMD_E_COMPAT, "expected DS=<datastore>;CMD=<arguments>");
	dslen = (size_t)(rest - s);
	rn = n - dslen;
	if (!eat(&rest, &rn, ";CMD="))
		return ag_error_set(err, AG_SSHCMD_E_COMPAT, "expected ';CMD=' after the datastore");
	if (dslen == 0) {
		out->verb = AG_COMPAT_PING;
		return 0;
	}
	if (!ag_datastore_name_valid(s, dslen))
		return ag_error_set(err, AG_SSHCMD_E_FIELD, "datastore name '%s' is not valid",
				    ag_text_quote(q, sizeof(q), s, dslen));
	memcpy(out->datastore, s, dslen);
	out->datastore[dslen] = '\0';
	return compat_args(out, rest, rn, err);
}

int ag_sshcmd_parse(const char *cmd, size_t len, struct ag_sshcmd *out, struct ag_error *err)
{
	memset(out, 0, sizeof(*out));
	if (cmd == NULL || len == 0)
		return ag_error_set(err, AG_SSHCMD_E_EMPTY,
				    "no command: expected a JSON request, 'session' or DS=...;CMD=...");
	if (len > AG_SSHCMD_MAX)
		return ag_error_set(err, AG_SSHCMD_E_TOO_LONG, "command longer than %d bytes",
				    AG_SSHCMD_MAX);
	if (memchr(cmd, '\0', len) || memchr(cmd, '\n', len) || memchr(cmd, '\r', len))
		return ag_error_set(err, AG_SSHCMD_E_BYTES, "command holds a NUL, CR or LF byte");
	if (cmd[0] == '{') {
		out->mode = AG_SSHCMD_REQUEST;
		out->request = cmd;
		out->request_len = len;
		return 0;
	}
	if (ag_text_eq(cmd, len, "session")) {
		out->mode = AG_SSHCMD_SESSION;
		return 0;
	}
	if (len >= 3 && memcmp(cmd, "DS=", 3) == 0)
		return compat_form(out, cmd + 3, len - 3, err);
	return ag_error_set(err, AG_SSHCMD_E_UNKNOWN,
			    "unknown command: expected a JSON request, 'session' or DS=...;CMD=...");
}

static bool arg_is(char *const argv[], int i, const char *word)
{
	return strcmp(argv[i], word) == 0;
}

int ag_compat_parse_argv(int argc, char *const argv[], struct ag_sshcmd *out,
			 struct ag_error *err)
{
	memset(out, 0, sizeof(*out));
	out->mode = AG_SSHCMD_COMPAT;
	if (argc == 1 && arg_is(argv, 0, "--version")) {
		out->verb = AG_COMPAT_VERSION;
		return 0;
	}
	if (argc == 3 && arg_is(argv, 0, "--task-get") && arg_is(argv, 1, "-i"))
		return set_task(out, AG_COMPAT_TASK_GET, argv[2], strlen(argv[2]), err);
	if (argc == 3 && arg_is(argv, 0, "--task-clean") && arg_is(argv, 1, "-i"))
		return set_task(out, AG_COMPAT_TASK_CLEAN, argv[2], strlen(argv[2]), err);
	if (argc == 5 && arg_is(argv, 0, "--clone") && arg_is(argv, 1, "-s") && arg_is(argv, 3, "-t"))
		return set_clone(out, argv[2], strlen(argv[2]), argv[4], strlen(argv[4]), err);
	return ag_error_set(err, AG_SSHCMD_E_COMPAT,
			    "expected --clone -s <source> -t <device>, --task-get -i <id>, "
			    "--task-clean -i <id> or --version");
}

const char *ag_compat_verb_name(enum ag_compat_verb verb)
{
	return (size_t)verb < sizeof(compat_verbs) / sizeof(compat_verbs[0]) ? compat_verbs[verb]
									       : "unknown";
}

const char *ag_sshcmd_code_name(int code)
{
	static const char *const names[] = {
		[AG_SSHCMD_OK] = "OK",           [AG_SSHCMD_E_EMPTY] = "E_EMPTY",
		[AG_SSHCMD_E_TOO_LONG] = "E_TOO_LONG", [AG_SSHCMD_E_BYTES] = "E_BYTES",
		[AG_SSHCMD_E_UNKNOWN] = "E_UNKNOWN", [AG_SSHCMD_E_COMPAT] = "E_COMPAT",
		[AG_SSHCMD_E_FIELD] = "E_FIELD",
	};

	return code >= 0 && (size_t)code < sizeof(names) / sizeof(names[0]) ? names[code]
									     : "E_UNKNOWN";
}
