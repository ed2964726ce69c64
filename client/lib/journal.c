/* The durable journal of JSON lines (see journal.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"

#define JOURNAL_FILE "journal.jsonl"
#define LOCK_FILE "lock"
#define READ_CHUNK 65536

struct xc_journal {
	char dir[PATH_MAX];
	char path[PATH_MAX];
	int fd;         /* the journal, O_APPEND */
	int lock_fd;    /* flock held */
	cJSON **recs;
	size_t n, cap;
	size_t dropped;
};

static int io_error(struct xclone_error *err, const char *what, const char *path)
{
	return xclone_error_set(err, XC_E_IO, "%s %s: %s", what, path, strerror(errno));
}

/* fsync of a folder, so that a name created in it survives a crash. */
static int sync_dir(const char *dir, struct xclone_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return io_error(err, "cannot open folder", dir);
	if (fsync(fd) != 0)
		rc = io_error(err, "cannot sync folder", dir);
	close(fd);
	return rc;
}

/* mkdir -p with mode 0700; each folder created is made durable in its parent. */
static int make_dirs(const char *dir, struct xclone_error *err)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(buf))
		return xclone_error_set(err, XC_E_USAGE, "state folder path is empty or too long");
	memcpy(buf, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		char *slash;

		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) == 0) {
			slash = strrchr(buf, '/');
			if (slash != NULL) {
				char parent[PATH_MAX];
				size_t plen = slash == buf ? 1 : (size_t)(slash - buf);

				memcpy(parent, buf, plen);
				parent[plen] = '\0';
				if (sync_dir(parent, err) != 0)
					return err ? err->code : XC_E_IO;
			}
		} else if (errno != EEXIST) {
			return io_error(err, "cannot create folder", buf);
		}
		if (i < len)
			buf[i] = '/';
	}
	return 0;
}

static int take_lock(struct xc_journal *j, struct xclone_error *err)
{
	char lock[PATH_MAX], pid[32] = "";
	ssize_t n;
	int len;

	if (snprintf(lock, sizeof(lock), "%s/%s", j->dir, LOCK_FILE) >= (int)sizeof(lock))
		return xclone_error_set(err, XC_E_USAGE, "state folder path too long");
	j->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->lock_fd < 0)
		return io_error(err, "cannot open lock", lock);
	if (flock(j->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK)
			return io_error(err, "cannot lock", lock);
		n = pread(j->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		return xclone_error_set(err, XC_E_CONFLICT,
					"%s is in use by another process (pid %s): one run per key at a time",
					j->dir, pid[0] ? pid : "unknown");
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(j->lock_fd, 0) != 0 || pwrite(j->lock_fd, pid, (size_t)len, 0) != len)
		return io_error(err, "cannot write", lock);
	return 0;
}

static int keep(struct xc_journal *j, cJSON *rec, struct xclone_error *err)
{
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 64;
		cJSON **p = realloc(j->recs, cap * sizeof(*p));

		if (p == NULL)
			return xclone_error_set(err, XC_E_NOMEM, "out of memory reading the journal");
		j->recs = p;
		j->cap = cap;
	}
	j->recs[j->n++] = rec;
	return 0;
}

static int parse_line(struct xc_journal *j, const char *line, size_t len, size_t lineno,
		      struct xclone_error *err)
{
	const char *end = NULL;
	cJSON *rec = cJSON_ParseWithLengthOpts(line, len, &end, 0);

	if (rec == NULL || !cJSON_IsObject(rec) || end != line + len) {
		cJSON_Delete(rec);
		return xclone_error_set(err, XC_E_PROTOCOL,
					"%s line %zu is corrupt (not one JSON object): the journal was"
					" changed by hand or the disk is failing; move the folder away"
					" and clean up by hand",
					j->path, lineno);
	}
	if (keep(j, rec, err) != 0) {
		cJSON_Delete(rec);
		return err ? err->code : XC_E_NOMEM;
	}
	return 0;
}

static int read_all(int fd, char **data, size_t *len, const char *path, struct xclone_error *err)
{
	size_t cap = READ_CHUNK, n = 0;
	char *buf = malloc(cap);

	if (buf == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory reading the journal");
	for (;;) {
		ssize_t got;

		if (n == cap) {
			char *p = realloc(buf, cap * 2);

			if (p == NULL) {
				free(buf);
				return xclone_error_set(err, XC_E_NOMEM,
							"out of memory reading the journal");
			}
			buf = p;
			cap *= 2;
		}
		got = pread(fd, buf + n, cap - n, (off_t)n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			free(buf);
			return io_error(err, "cannot read", path);
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*data = buf;
	*len = n;
	return 0;
}

/* Parses every complete line; a last line without LF is a torn write: cut it off. */
static int load(struct xc_journal *j, struct xclone_error *err)
{
	char *data = NULL;
	size_t len = 0, start = 0, lineno = 0;
	int rc = read_all(j->fd, &data, &len, j->path, err);

	while (rc == 0 && start < len) {
		const char *nl = memchr(data + start, '\n', len - start);

		if (nl == NULL)
			break;
		lineno++;
		if ((size_t)(nl - data) > start)
			rc = parse_line(j, data + start, (size_t)(nl - data) - start, lineno, err);
		start = (size_t)(nl - data) + 1;
	}
	if (rc == 0 && start < len) {
		j->dropped = len - start;
		if (ftruncate(j->fd, (off_t)start) != 0 || fsync(j->fd) != 0)
			rc = io_error(err, "cannot cut the torn last line of", j->path);
	}
	free(data);
	return rc;
}

int xc_journal_open(const char *dir, struct xc_journal **out, struct xclone_error *err)
{
	struct xc_journal *j;
	struct stat st;
	bool created;
	int rc;

	*out = NULL;
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory opening the journal");
	j->fd = j->lock_fd = -1;
	if (snprintf(j->dir, sizeof(j->dir), "%s", dir) >= (int)sizeof(j->dir) ||
	    snprintf(j->path, sizeof(j->path), "%s/%s", dir, JOURNAL_FILE) >= (int)sizeof(j->path)) {
		xc_journal_close(j);
		return xclone_error_set(err, XC_E_USAGE, "state folder path too long: %s", dir);
	}
	rc = make_dirs(j->dir, err);
	if (rc == 0)
		rc = take_lock(j, err);
	if (rc == 0) {
		created = stat(j->path, &st) != 0;
		j->fd = open(j->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (j->fd < 0)
			rc = io_error(err, "cannot open", j->path);
		else if (created)
			rc = sync_dir(j->dir, err);
	}
	if (rc == 0)
		rc = load(j, err);
	if (rc != 0) {
		xc_journal_close(j);
		return rc;
	}
	*out = j;
	return 0;
}

void xc_journal_close(struct xc_journal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0)
		close(j->fd);
	if (j->lock_fd >= 0)
		close(j->lock_fd); /* releases the flock */
	for (size_t i = 0; i < j->n; i++)
		cJSON_Delete(j->recs[i]);
	free(j->recs);
	free(j);
}

size_t xc_journal_count(const struct xc_journal *j)
{
	return j->n;
}

const cJSON *xc_journal_at(const struct xc_journal *j, size_t i)
{
	return i < j->n ? j->recs[i] : NULL;
}

size_t xc_journal_dropped(const struct xc_journal *j)
{
	return j->dropped;
}

const char *xc_journal_path(const struct xc_journal *j)
{
	return j->path;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int xc_journal_append(struct xc_journal *j, const cJSON *record, struct xclone_error *err)
{
	char *text;
	size_t len;
	cJSON *copy;
	int rc = 0;

	if (!cJSON_IsObject(record))
		return xclone_error_set(err, XC_E_USAGE, "a journal record must be a JSON object");
	text = cJSON_PrintUnformatted(record);
	copy = cJSON_Duplicate(record, 1);
	if (text == NULL || copy == NULL) {
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory writing the journal");
		goto out;
	}
	len = strlen(text);
	/* cJSON escapes control characters, so the only LF is the one we add. */
	if (len >= XC_JOURNAL_LINE_MAX) {
		rc = xclone_error_set(err, XC_E_INTERNAL, "journal record of %zu bytes is too long", len);
		goto out;
	}
	text[len] = '\n'; /* replaces the NUL; length is known */
	if (write_all(j->fd, text, len + 1) != 0 || fsync(j->fd) != 0) {
		rc = io_error(err, "cannot write", j->path);
		goto out;
	}
	rc = keep(j, copy, err);
	if (rc == 0)
		copy = NULL;
out:
	cJSON_Delete(copy);
	free(text);
	return rc;
}
