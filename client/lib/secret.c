/* Secret keys from the environment or a mounted secret folder (see secret.h). */
#define _GNU_SOURCE /* strdup, strcasestr, getentropy, nanosleep under -std=c17 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"

#define SECRET_MAX_KEYS 64
#define SECRET_KEY_MAX 128

struct secret_entry {
	char key[SECRET_KEY_MAX];
	char *value; /* NULL when the key is set nowhere */
};

struct xc_secret {
	char dir[PATH_MAX];
	int has_dir;
	size_t n;
	struct secret_entry entries[SECRET_MAX_KEYS];
};

static int key_is_valid(const char *key)
{
	size_t i, len = strlen(key);

	if (len == 0 || len >= SECRET_KEY_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = key[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

static void wipe_free(char *p)
{
	if (p == NULL)
		return;
	/* volatile writes so the compiler keeps the wipe of a password */
	for (volatile char *v = p; *v != '\0'; v++)
		*v = '\0';
	free(p);
}

int xc_secret_open(struct xc_secret **out, const char *dir, struct xclone_error *err)
{
	struct xc_secret *s;
	struct stat st;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory reading the secret");
	if (dir != NULL && dir[0] != '\0') {
		if (strlen(dir) >= sizeof(s->dir)) {
			free(s);
			return xclone_error_set(err, XC_E_CONFIG, "secret folder path is too long");
		}
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			int e = errno;
			free(s);
			return xclone_error_set(err, XC_E_CONFIG, "secret folder %s: %s", dir,
						e ? strerror(e) : "not a folder");
		}
		memcpy(s->dir, dir, strlen(dir) + 1);
		s->has_dir = 1;
	}
	*out = s;
	return 0;
}

/* Reads <dir>/<key>: *value NULL when the file does not exist. */
static int read_key_file(const struct xc_secret *s, const char *key, char **value,
			 struct xclone_error *err)
{
	char path[PATH_MAX + SECRET_KEY_MAX + 2];
	char *buf;
	size_t len = 0;
	ssize_t r;
	int fd, n;

	*value = NULL;
	n = snprintf(path, sizeof(path), "%s/%s", s->dir, key);
	if (n < 0 || (size_t)n >= sizeof(path))
		return xclone_error_set(err, XC_E_CONFIG, "secret key %s: path too long", key);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return xclone_error_set(err, XC_E_CONFIG, "secret key %s: cannot read %s: %s", key,
					path, strerror(errno));
	}
	buf = malloc(XC_SECRET_VALUE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory reading the secret");
	}
	for (;;) {
		r = read(fd, buf + len, XC_SECRET_VALUE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len > XC_SECRET_VALUE_MAX)
			break;
	}
	close(fd);
	if (r < 0 || len > XC_SECRET_VALUE_MAX) {
		buf[len > XC_SECRET_VALUE_MAX ? XC_SECRET_VALUE_MAX : len] = '\0';
		wipe_free(buf);
		return xclone_error_set(err, XC_E_CONFIG, "secret key %s: %s", key,
					r < 0 ? "read error" : "value longer than 4096 bytes");
	}
	/* Mounted secrets and `echo >` files end with one newline: not part of the value. */
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		wipe_free(buf);
		return xclone_error_set(err, XC_E_CONFIG, "secret key %s: value holds a NUL byte", key);
	}
	*value = buf;
	return 0;
}

static struct secret_entry *find_entry(struct xc_secret *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->entries[i].key, key) == 0)
			return &s->entries[i];
	return NULL;
}

static int load_entry(struct xc_secret *s, const char *key, struct secret_entry **out,
		      struct xclone_error *err)
{
	struct secret_entry *e;
	const char *env = getenv(key);
	char *file_value = NULL;
	int rc;

	if (s->n >= SECRET_MAX_KEYS)
		return xclone_error_set(err, XC_E_INTERNAL, "too many secret keys asked for");
	if (s->has_dir) {
		rc = read_key_file(s, key, &file_value, err);
		if (rc)
			return rc;
	}
	if (env != NULL && strlen(env) > XC_SECRET_VALUE_MAX) {
		wipe_free(file_value);
		return xclone_error_set(err, XC_E_CONFIG,
					"secret key %s: environment value longer than 4096 bytes", key);
	}
	if (file_value != NULL && env != NULL && strcmp(file_value, env) != 0) {
		wipe_free(file_value);
		return xclone_error_set(err, XC_E_CONFIG,
					"secret key %s is set differently in %s and in the environment:"
					" keep one",
					key, s->dir);
	}
	e = &s->entries[s->n];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, strlen(key) + 1);
	if (file_value != NULL) {
		e->value = file_value;
	} else if (env != NULL) {
		e->value = strdup(env);
		if (e->value == NULL)
			return xclone_error_set(err, XC_E_NOMEM, "out of memory reading the secret");
	}
	s->n++;
	*out = e;
	return 0;
}

int xc_secret_get(struct xc_secret *s, const char *key, const char **value,
		  struct xclone_error *err)
{
	struct secret_entry *e;
	int rc;

	*value = NULL;
	if (s == NULL || key == NULL || !key_is_valid(key))
		return xclone_error_set(err, XC_E_USAGE, "bad secret key name");
	e = find_entry(s, key);
	if (e == NULL) {
		rc = load_entry(s, key, &e, err);
		if (rc)
			return rc;
	}
	*value = e->value;
	return 0;
}

int xc_secret_require(struct xc_secret *s, const char *key, const char **value,
		      struct xclone_error *err)
{
	int rc = xc_secret_get(s, key, value, err);

	if (rc)
		return rc;
	if (*value == NULL)
		return xclone_error_set(err, XC_E_CONFIG, "secret key %s is missing (looked in %s%s)",
					key, xc_secret_source(s),
					s->has_dir ? " and the environment" : "");
	if ((*value)[0] == '\0')
		return xclone_error_set(err, XC_E_CONFIG, "secret key %s is empty", key);
	return 0;
}

int xc_secret_get_bool(struct xc_secret *s, const char *key, int dflt, int *out,
		       struct xclone_error *err)
{
	static const char *const yes[] = {"true", "yes", "1", "on"};
	static const char *const no[] = {"false", "no", "0", "off"};
	const char *v;
	int rc = xc_secret_get(s, key, &v, err);

	*out = dflt;
	if (rc || v == NULL || v[0] == '\0')
		return rc;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return xclone_error_set(err, XC_E_CONFIG, "secret key %s must be true or false", key);
}

int xc_secret_get_uint(struct xc_secret *s, const char *key, unsigned dflt, unsigned min,
		       unsigned max, unsigned *out, struct xclone_error *err)
{
	const char *v;
	char *end;
	unsigned long n;
	int rc = xc_secret_get(s, key, &v, err);

	*out = dflt;
	if (rc || v == NULL || v[0] == '\0')
		return rc;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || n < min || n > max)
		return xclone_error_set(err, XC_E_CONFIG,
					"secret key %s must be a whole number from %u to %u", key, min,
					max);
	*out = (unsigned)n;
	return 0;
}

const char *xc_secret_source(const struct xc_secret *s)
{
	return s->has_dir ? s->dir : "the environment";
}

void xc_secret_close(struct xc_secret *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		wipe_free(s->entries[i].value);
	free(s);
}
