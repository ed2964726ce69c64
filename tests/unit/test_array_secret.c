/* Secret keys from the environment and from a mounted secret folder. */
#define _GNU_SOURCE
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"
#include "tap.h"

static char dir[PATH_MAX];

static void put(const char *key, const char *data, size_t len)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		fprintf(stderr, "cannot write %s\n", path);
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	if (dir[0])
		nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	struct xc_secret *s = NULL;
	struct xclone_error err;
	const char *v;
	int b;
	unsigned u;
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/xclone-secret-test-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	atexit(cleanup);
	unsetenv("STORAGE_HOSTNAME");
	unsetenv("STORAGE_PASSWORD");
	unsetenv("STORAGE_TOKEN");

	/* environment only */
	setenv("STORAGE_HOSTNAME", "array.example.com", 1);
	ok(xc_secret_open(&s, NULL, &err) == 0, "open without a folder");
	ok(xc_secret_get(s, "STORAGE_HOSTNAME", &v, &err) == 0 && v && strcmp(v, "array.example.com") == 0,
	   "a key from the environment");
	ok(xc_secret_get(s, "STORAGE_TOKEN", &v, &err) == 0 && v == NULL, "an absent key is NULL");
	ok(xc_secret_require(s, "STORAGE_TOKEN", &v, &err) == XC_E_CONFIG &&
		   strstr(err.message, "STORAGE_TOKEN") && strstr(err.message, "environment"),
	   "a required absent key names itself and where it was looked for: %s", err.message);
	ok(xc_secret_get(s, "storage_hostname", &v, &err) == XC_E_USAGE, "key names are upper case");
	ok(xc_secret_get(s, "../etc/passwd", &v, &err) == XC_E_USAGE, "no path in a key name");
	xc_secret_close(s);
	unsetenv("STORAGE_HOSTNAME");

	/* folder: one file per key, one trailing newline trimmed */
	put("STORAGE_HOSTNAME", "10.0.0.5\n", 9);
	put("STORAGE_PASSWORD", "  p@ss w0rd \"'$(x);\\ \n", 22);
	put("STORAGE_TOKEN", "tok\r\n", 5);
	put("ONTAP_SVM", "", 0);
	put("STORAGE_SKIP_SSL_VERIFICATION", "TRUE\n", 5);
	put("STORAGE_HTTP_TIMEOUT_SECONDS", "45\n", 3);
	put("PURE_CLUSTER_PREFIX", "px_1\n\n", 6);
	ok(xc_secret_open(&s, dir, &err) == 0, "open a secret folder");
	ok(xc_secret_get(s, "STORAGE_HOSTNAME", &v, &err) == 0 && strcmp(v, "10.0.0.5") == 0,
	   "trailing newline trimmed");
	ok(xc_secret_get(s, "STORAGE_PASSWORD", &v, &err) == 0 &&
		   strcmp(v, "  p@ss w0rd \"'$(x);\\ ") == 0,
	   "spaces, quotes and shell characters kept as they are");
	ok(xc_secret_get(s, "STORAGE_TOKEN", &v, &err) == 0 && strcmp(v, "tok") == 0,
	   "a CRLF ending is trimmed");
	ok(xc_secret_get(s, "PURE_CLUSTER_PREFIX", &v, &err) == 0 && strcmp(v, "px_1\n") == 0,
	   "only one newline is trimmed");
	ok(xc_secret_require(s, "ONTAP_SVM", &v, &err) == XC_E_CONFIG && strstr(err.message, "empty"),
	   "an empty required key is an error: %s", err.message);
	ok(xc_secret_get_bool(s, "STORAGE_SKIP_SSL_VERIFICATION", 0, &b, &err) == 0 && b == 1,
	   "booleans ignore case");
	ok(xc_secret_get_uint(s, "STORAGE_HTTP_TIMEOUT_SECONDS", 30, 1, 3600, &u, &err) == 0 && u == 45,
	   "numbers");
	ok(xc_secret_get_uint(s, "NOT_SET_ANYWHERE", 30, 1, 3600, &u, &err) == 0 && u == 30,
	   "an absent number takes the default");
	xc_secret_close(s);

	put("STORAGE_SKIP_SSL_VERIFICATION", "yes please", 10);
	put("STORAGE_HTTP_TIMEOUT_SECONDS", "30s", 3);
	xc_secret_open(&s, dir, &err);
	ok(xc_secret_get_bool(s, "STORAGE_SKIP_SSL_VERIFICATION", 0, &b, &err) == XC_E_CONFIG &&
		   strstr(err.message, "STORAGE_SKIP_SSL_VERIFICATION"),
	   "a bad boolean names the key");
	ok(xc_secret_get_uint(s, "STORAGE_HTTP_TIMEOUT_SECONDS", 30, 1, 3600, &u, &err) == XC_E_CONFIG &&
		   strstr(err.message, "STORAGE_HTTP_TIMEOUT_SECONDS"),
	   "a bad number names the key");
	xc_secret_close(s);

	/* both places */
	setenv("STORAGE_HOSTNAME", "10.0.0.5", 1);
	setenv("STORAGE_PASSWORD", "something else", 1);
	setenv("STORAGE_USERNAME", "admin", 1);
	xc_secret_open(&s, dir, &err);
	ok(xc_secret_get(s, "STORAGE_HOSTNAME", &v, &err) == 0 && strcmp(v, "10.0.0.5") == 0,
	   "the same value in the folder and the environment is fine");
	ok(xc_secret_get(s, "STORAGE_PASSWORD", &v, &err) == XC_E_CONFIG &&
		   strstr(err.message, "STORAGE_PASSWORD") && !strstr(err.message, "something else") &&
		   !strstr(err.message, "p@ss"),
	   "different values contradict: the key is named, the values are not: %s", err.message);
	ok(xc_secret_get(s, "STORAGE_USERNAME", &v, &err) == 0 && strcmp(v, "admin") == 0,
	   "a key only in the environment is taken from there");
	xc_secret_close(s);

	/* a value too long, a NUL byte, a missing folder */
	{
		static char big[XC_SECRET_VALUE_MAX + 10];
		memset(big, 'a', sizeof(big));
		put("STORAGE_TOKEN", big, sizeof(big));
		put("STORAGE_HOSTNAME", "a\0b", 3);
		unsetenv("STORAGE_HOSTNAME");
		xc_secret_open(&s, dir, &err);
		ok(xc_secret_get(s, "STORAGE_TOKEN", &v, &err) == XC_E_CONFIG &&
			   strstr(err.message, "STORAGE_TOKEN"),
		   "an over-long value is refused");
		ok(xc_secret_get(s, "STORAGE_HOSTNAME", &v, &err) == XC_E_CONFIG,
		   "a value with a NUL byte is refused");
		xc_secret_close(s);
	}
	ok(xc_secret_open(&s, "/nonexistent/secret/dir", &err) == XC_E_CONFIG && s == NULL,
	   "a missing folder is an error");
	xc_secret_close(NULL);
	return tap_done();
}
