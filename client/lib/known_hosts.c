/* known_hosts parsing, matching and appending (see known_hosts.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "b64.h"
#include "known_hosts.h"

#define BLOB_MAX 16384 /* the largest public key blob we accept (RSA 16384 bits fits) */
#define HASH_MAGIC "|1|"

struct kh_line {
	const char *marker; /* "@revoked", "@cert-authority" or NULL */
	char *hosts;
	char *type;
	char *key;
};

void xc_kh_lookup_name(const char *host, unsigned port, char *out, size_t cap)
{
	if (port == 22 || port == 0)
		snprintf(out, cap, "%s", host);
	else
		snprintf(out, cap, "[%s]:%u", host, port);
	for (char *p = out; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* Splits a line into its fields in place; false for comments, blanks, short lines. */
static bool split_line(char *line, struct kh_line *kl)
{
	char *fields[4] = { NULL };
	char *save = NULL, *tok;
	int n = 0;

	memset(kl, 0, sizeof(*kl));
	line[strcspn(line, "\r\n")] = '\0';
	for (tok = strtok_r(line, " \t", &save); tok != NULL && n < 4;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (n == 0 && tok[0] == '#')
			return false;
		fields[n++] = tok;
	}
	if (n >= 1 && fields[0][0] == '@') {
		if (n < 4)
			return false;
		kl->marker = fields[0];
		kl->hosts = fields[1];
		kl->type = fields[2];
		kl->key = fields[3];
		return true;
	}
	if (n < 3)
		return false;
	kl->hosts = fields[0];
	kl->type = fields[1];
	kl->key = fields[2];
	return true;
}

/* OpenSSH's wildcard match: '*' any run, '?' one character; case-insensitive. */
static bool wildcard_match(const char *s, const char *p, size_t plen)
{
	if (plen == 0)
		return *s == '\0';
	if (*p == '*') {
		for (;; s++) {
			if (wildcard_match(s, p + 1, plen - 1))
				return true;
			if (*s == '\0')
				return false;
		}
	}
	if (*s == '\0')
		return false;
	if (*p != '?' && tolower((unsigned char)*p) != tolower((unsigned char)*s))
		return false;
	return wildcard_match(s + 1, p + 1, plen - 1);
}

/* |1|base64(salt)|base64(HMAC-SHA1(salt, name)) */
static bool hashed_match(const char *pattern, const char *name)
{
	unsigned char salt[64], want[64], got[EVP_MAX_MD_SIZE];
	unsigned int gotlen = 0;
	const char *salt_b64 = pattern + strlen(HASH_MAGIC);
	const char *bar = strchr(salt_b64, '|');
	long slen, wlen;

	if (bar == NULL)
		return false;
	slen = xc_b64_decode(salt_b64, (size_t)(bar - salt_b64), salt, sizeof(salt));
	wlen = xc_b64_decode(bar + 1, strlen(bar + 1), want, sizeof(want));
	if (slen <= 0 || wlen != 20)
		return false;
	if (HMAC(EVP_sha1(), salt, (int)slen, (const unsigned char *)name, strlen(name), got,
		 &gotlen) == NULL || gotlen != 20)
		return false;
	return CRYPTO_memcmp(got, want, 20) == 0;
}

/* 1: a pattern matches name; 0: none does; a matching negation rules the line out. */
static bool hosts_match(const char *hosts, const char *name)
{
	bool found = false;
	const char *p = hosts;

	if (strncmp(hosts, HASH_MAGIC, strlen(HASH_MAGIC)) == 0)
		return hashed_match(hosts, name);
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		bool negated = *p == '!';
		const char *pat = negated ? p + 1 : p;
		size_t plen = negated ? len - 1 : len;

		if (plen > 0 && wildcard_match(name, pat, plen)) {
			if (negated)
				return false;
			found = true;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return found;
}

/* Decodes the line's key; 0 when it is well formed and its type matches the blob's. */
static long line_blob(const struct kh_line *kl, unsigned char *buf, size_t cap)
{
	char type[64];
	long n = xc_b64_decode(kl->key, strlen(kl->key), buf, cap);

	if (n <= 0)
		return -1;
	xc_ssh_blob_type(buf, (size_t)n, type, sizeof(type));
	return strcmp(type, kl->type) == 0 ? n : -1;
}

typedef void (*kh_visit_fn)(const struct kh_line *kl, unsigned lineno, const unsigned char *blob,
			    size_t len, void *ctx);

/* Calls visit for every well-formed line naming name; -1 with errno when unreadable. */
static int kh_scan(const char *file, const char *name, kh_visit_fn visit, void *ctx)
{
	FILE *f = fopen(file, "re");
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	unsigned char *blob;

	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	blob = malloc(BLOB_MAX);
	if (blob == NULL) {
		fclose(f);
		errno = ENOMEM;
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		struct kh_line kl;
		long n;

		lineno++;
		if (!split_line(line, &kl) || !hosts_match(kl.hosts, name))
			continue;
		if (kl.marker != NULL && strcmp(kl.marker, "@revoked") != 0)
			continue; /* @cert-authority: host certificates are not used */
		n = line_blob(&kl, blob, BLOB_MAX);
		if (n > 0)
			visit(&kl, lineno, blob, (size_t)n, ctx);
	}
	free(line);
	free(blob);
	fclose(f);
	return 0;
}

struct check_ctx {
	const unsigned char *blob;
	size_t len;
	struct xc_kh_result *res;
	bool matched, mismatched;
	unsigned match_line;
};

static void check_visit(const struct kh_line *kl, unsigned lineno, const unsigned char *blob,
			size_t len, void *vctx)
{
	struct check_ctx *c = vctx;
	bool same = len == c->len && memcmp(blob, c->blob, len) == 0;

	if (kl->marker != NULL) {
		if (same && c->res->status != XC_KH_REVOKED) {
			c->res->status = XC_KH_REVOKED;
			c->res->line = lineno;
		}
		return;
	}
	if (same && !c->matched) {
		c->matched = true;
		c->match_line = lineno;
	} else if (!same && !c->mismatched) {
		c->mismatched = true;
		c->res->line = lineno;
		snprintf(c->res->known_type, sizeof(c->res->known_type), "%s", kl->type);
		xc_fp_ssh(blob, len, c->res->known_fp);
	}
}

int xc_kh_check(const char *file, const char *name, const unsigned char *blob, size_t len,
		struct xc_kh_result *res, struct xclone_error *err)
{
	struct check_ctx c = { .blob = blob, .len = len, .res = res };

	memset(res, 0, sizeof(*res));
	res->status = XC_KH_NOT_FOUND;
	if (kh_scan(file, name, check_visit, &c) != 0)
		return xclone_error_set(err, XC_E_IO, "cannot read known_hosts file %s: %s", file,
					strerror(errno));
	if (res->status == XC_KH_REVOKED)
		return 0;
	if (c.matched) {
		res->status = XC_KH_MATCH;
		res->line = c.match_line;
	} else if (c.mismatched) {
		res->status = XC_KH_MISMATCH;
	}
	return 0;
}

struct prefs_ctx {
	char *out;
	size_t cap;
};

static void add_pref(struct prefs_ctx *p, const char *alg)
{
	size_t used = strlen(p->out);
	const char *s = p->out;
	size_t alen = strlen(alg);

	while (*s != '\0') { /* already listed? */
		size_t len = strcspn(s, ",");

		if (len == alen && strncmp(s, alg, len) == 0)
			return;
		s += len + (s[len] == ',');
	}
	snprintf(p->out + used, p->cap - used, "%s%s", used ? "," : "", alg);
}

static void prefs_visit(const struct kh_line *kl, unsigned lineno, const unsigned char *blob,
			size_t len, void *vctx)
{
	if (kl->marker != NULL)
		return;
	if (strcmp(kl->type, "ssh-rsa") == 0) {
		add_pref(vctx, "rsa-sha2-512");
		add_pref(vctx, "rsa-sha2-256");
	} else {
		add_pref(vctx, kl->type);
	}
}

void xc_kh_hostkey_prefs(const char *file, const char *name, char *out, size_t cap)
{
	struct prefs_ctx p = { out, cap };

	out[0] = '\0';
	if (kh_scan(file, name, prefs_visit, &p) != 0)
		out[0] = '\0';
}

/* mkdir -p of file's folder, 0700 for what it creates. */
static int make_parent(const char *file)
{
	char dir[4096];
	size_t len = strlen(file);

	if (len >= sizeof(dir))
		return -1;
	memcpy(dir, file, len + 1);
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/* Whether the file's last byte is a newline (or the file is empty). */
static bool ends_with_newline(int fd)
{
	char c = '\n';
	off_t end = lseek(fd, 0, SEEK_END);

	if (end <= 0)
		return true;
	return pread(fd, &c, 1, end - 1) == 1 && c == '\n';
}

int xc_kh_append(const char *file, const char *name, const unsigned char *blob, size_t len,
		 struct xclone_error *err)
{
	char type[64], *b64 = NULL, *line = NULL;
	size_t b64cap = (len + 2) / 3 * 4 + 1, linecap;
	int fd = -1, rc = 0, n;

	xc_ssh_blob_type(blob, len, type, sizeof(type));
	if (type[0] == '\0')
		return xclone_error_set(err, XC_E_PROTOCOL, "the server's host key is malformed");
	b64 = malloc(b64cap);
	linecap = strlen(name) + strlen(type) + b64cap + 4;
	line = malloc(linecap);
	if (b64 == NULL || line == NULL) {
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
		goto out;
	}
	if (xc_b64_encode(blob, len, b64, b64cap, 1) != 0 || make_parent(file) != 0 ||
	    (fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		rc = xclone_error_set(err, XC_E_IO, "cannot add the host key to %s: %s", file,
				      strerror(errno));
		goto out;
	}
	n = snprintf(line, linecap, "%s%s %s %s\n", ends_with_newline(fd) ? "" : "\n", name, type,
		     b64);
	if (n < 0 || (size_t)n >= linecap || write(fd, line, (size_t)n) != n)
		rc = xclone_error_set(err, XC_E_IO, "cannot add the host key to %s: %s", file,
				      strerror(errno));
out:
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = xclone_error_set(err, XC_E_IO, "cannot add the host key to %s: %s", file,
				      strerror(errno));
	free(b64);
	free(line);
	return rc;
}
