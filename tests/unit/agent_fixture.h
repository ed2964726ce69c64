/*
 * Temp-folder fixtures for the agent's unit tests: a private folder per test
 * program (removed at exit, pass or fail), files and symlinks built inside it.
 * Header-only; each test program gets its own copy.
 */
#ifndef XCLONE_TESTS_AGENT_FIXTURE_H
#define XCLONE_TESTS_AGENT_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fx_root[4096];

static inline int fx_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static inline void fx_rm_rf(const char *path)
{
	nftw(path, fx_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void fx_cleanup(void)
{
	if (fx_root[0] != '\0')
		fx_rm_rf(fx_root);
}

/* Creates the program's private folder (under $TMPDIR or /tmp) once; removed at exit. */
static inline const char *fx_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	if (fx_root[0] != '\0')
		return fx_root;
	snprintf(fx_root, sizeof(fx_root), "%s/xclone-unit-XXXXXX", base && *base ? base : "/tmp");
	if (mkdtemp(fx_root) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	atexit(fx_cleanup);
	return fx_root;
}

/* snprintf into a path buffer; exits on truncation (a broken fixture, not a test result). */
static inline const char *fx_path(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline const char *fx_path(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap) {
		fprintf(stderr, "fixture path too long\n");
		exit(2);
	}
	return buf;
}

/* mkdir -p; exits on failure. */
static inline void fx_mkdirs(const char *path)
{
	char tmp[4096];

	fx_path(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		goto fail;
	return;
fail:
	perror(tmp);
	exit(2);
}

/* Writes a file (creating or truncating it) with the given mode; exits on failure. */
static inline void fx_write(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || fchmod(fd, mode) != 0) {
		perror(path);
		exit(2);
	}
	close(fd);
}

static inline void fx_write_str(const char *path, const char *text)
{
	fx_write(path, text, strlen(text), 0644);
}

static inline void fx_symlink(const char *target, const char *link)
{
	if (symlink(target, link) != 0) {
		perror(link);
		exit(2);
	}
}

#endif
