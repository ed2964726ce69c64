/* The restricted authorized_keys line (see xclone_authorized_key_line in xclone.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "fingerprint.h"
#include "xclone.h"
#include "xp_utf8.h"

#define RESTRICTIONS "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-pty"
#define PUBKEY_MAX 16384

/* Refuses control characters: the line must stay one line and one option string. */
static int check_text(const char *what, const char *s, struct xclone_error *err)
{
	size_t len = strlen(s), i = 0;

	if (!xp_utf8_valid(s, len, NULL))
		return xclone_error_set(err, XC_E_USAGE, "%s is not valid UTF-8", what);
	while (i < len) {
		uint32_t cp;
		size_t n = xp_utf8_char(s + i, len - i, &cp);

		if (n == 0 || xp_is_control(cp))
			return xclone_error_set(err, XC_E_USAGE, "%s holds a control character", what);
		i += n;
	}
	return 0;
}

/* The first key line of a .pub file, split into type, base64 and comment (in place). */
static int split_pubkey(char *text, char **type, char **b64, char **comment,
			struct xclone_error *err)
{
	char *line = text, *next, *p;

	for (;; line = next) {
		next = line + strcspn(line, "\n");
		if (*next == '\n')
			*next++ = '\0';
		line += strspn(line, " \t\r");
		line[strcspn(line, "\r")] = '\0';
		if (*line != '\0' && *line != '#')
			break;
		if (*next == '\0')
			return xclone_error_set(err, XC_E_USAGE, "no public key in the given text");
	}
	if (strncmp(line, "-----BEGIN", 10) == 0)
		return xclone_error_set(err, XC_E_USAGE,
					"that is a private key: give the public key (the .pub file)");
	next += strspn(next, " \t\r\n");
	if (*next != '\0')
		return xclone_error_set(err, XC_E_USAGE, "more than one key: give one public key");
	*type = line;
	p = line + strcspn(line, " \t");
	if (*p == '\0')
		return xclone_error_set(err, XC_E_USAGE, "not an OpenSSH public key (\"type base64 comment\")");
	*p++ = '\0';
	p += strspn(p, " \t");
	*b64 = p;
	p += strcspn(p, " \t");
	if (*p != '\0') {
		*p++ = '\0';
		p += strspn(p, " \t");
	}
	*comment = p;
	return 0;
}

static int check_blob(const char *type, const char *b64, struct xclone_error *err)
{
	unsigned char *blob = malloc(PUBKEY_MAX);
	char blob_type[64] = "";
	long n;

	if (blob == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	n = xc_b64_decode(b64, strlen(b64), blob, PUBKEY_MAX);
	if (n > 0)
		xc_ssh_blob_type(blob, (size_t)n, blob_type, sizeof(blob_type));
	free(blob);
	if (n <= 0)
		return xclone_error_set(err, XC_E_USAGE, "the key's base64 part does not decode");
	if (strcmp(blob_type, type) != 0)
		return xclone_error_set(err, XC_E_USAGE, "the key says it is %s but holds %s", type,
					blob_type[0] ? blob_type : "something else");
	return 0;
}

/* Whether s needs no quoting for the shell that runs the forced command. */
static bool shell_plain(const char *s)
{
	return s[0] != '\0' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					 "0123456789/._+-") == strlen(s);
}

/* s in single quotes for sh ('\'' for a quote inside), malloc'd. */
static char *shell_quote(const char *s)
{
	size_t n = 3;
	char *q, *d;

	for (const char *p = s; *p != '\0'; p++)
		n += *p == '\'' ? 4 : 1;
	q = malloc(n);
	if (q == NULL)
		return NULL;
	d = q;
	*d++ = '\'';
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(d, "'\\''", 4);
			d += 4;
		} else {
			*d++ = *p;
		}
	}
	*d++ = '\'';
	*d = '\0';
	return q;
}

/* OpenSSH's command="..." knows one escape, \" (auth-options.c, opt_dequote). */
static size_t quoted_len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '"' ? 2 : 1;
	return n;
}

static void append_quoted(char *dst, const char *s)
{
	dst += strlen(dst);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			*dst++ = '\\';
		*dst++ = *s;
	}
	*dst = '\0';
}

int xclone_authorized_key_line(const char *pubkey, const char *agent_path, const char *agent_args,
			       char **out, struct xclone_error *err)
{
	char *text = NULL, *type = NULL, *b64 = NULL, *comment = NULL, *line = NULL, *path = NULL;
	size_t cap;
	int rc;

	*out = NULL;
	if (pubkey == NULL || strlen(pubkey) > PUBKEY_MAX)
		return xclone_error_set(err, XC_E_USAGE, "no public key, or one larger than %d bytes",
					PUBKEY_MAX);
	if (agent_path == NULL)
		agent_path = XCLONE_AGENT_PATH;
	if ((rc = check_text("the agent path", agent_path, err)) != 0 ||
	    (agent_args != NULL && (rc = check_text("the agent arguments", agent_args, err)) != 0))
		return rc;
	if (agent_path[0] != '/')
		return xclone_error_set(err, XC_E_USAGE, "the agent path must be absolute");
	text = strdup(pubkey);
	if (text == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	/* sshd hands the command to the user's shell: a path with blanks or quotes is quoted. */
	path = shell_plain(agent_path) ? strdup(agent_path) : shell_quote(agent_path);
	if (path == NULL) {
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
		goto done;
	}
	if ((rc = split_pubkey(text, &type, &b64, &comment, err)) != 0 ||
	    (rc = check_text("the key's comment", comment, err)) != 0 ||
	    (rc = check_blob(type, b64, err)) != 0)
		goto done;
	cap = strlen("command=\"") + quoted_len(path) + strlen(" ssh ") +
	      (agent_args ? quoted_len(agent_args) : 0) + strlen("\",") + strlen(RESTRICTIONS) +
	      strlen(type) + strlen(b64) + strlen(comment) + 8;
	line = malloc(cap);
	if (line == NULL) {
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
		goto done;
	}
	snprintf(line, cap, "command=\"");
	append_quoted(line, path);
	append_quoted(line, " ssh");
	if (agent_args != NULL && agent_args[0] != '\0') {
		append_quoted(line, " ");
		append_quoted(line, agent_args);
	}
	snprintf(line + strlen(line), cap - strlen(line), "\",%s %s %s%s%s", RESTRICTIONS, type, b64,
		 comment[0] ? " " : "", comment);
	*out = line;
done:
	free(path);
	free(text);
	return rc;
}
