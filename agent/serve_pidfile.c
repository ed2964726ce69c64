/* serve's pidfile (see serve_pidfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "serve_pidfile.h"

/* Creates the pidfile's folder when only its last component is missing. */
static void make_parent(const char *path)
{
	char dir[AG_CONFIG_PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (n == 0 || n >= sizeof(dir))
		return;
	memcpy(dir, path, n);
	dir[n] = '\0';
	(void)mkdir(dir, 0700);
}

/*
 * A pidfile already exists: if nobody holds its lock it is stale, and is
 * unlinked (0: try again); -1 with err when another serve holds it.
 */
static int clear_stale(const char *path, struct ag_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	int rc;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0; /* gone meanwhile */
		return ag_error_set(err, 1, "pidfile %s exists and cannot be opened: %s", path,
				    strerror(errno));
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK
			     ? ag_error_set(err, 1, "another serve is running (it holds %s)", path)
			     : ag_error_set(err, 1, "pidfile %s exists and cannot be locked (%s): "
						    "remove it if no serve runs", path,
					    strerror(errno));
		close(fd);
		return rc;
	}
	rc = unlink(path) == 0 || errno == ENOENT
		     ? 0
		     : ag_error_set(err, 1, "cannot remove the stale pidfile %s: %s", path,
				    strerror(errno));
	close(fd);
	return rc;
}

static int write_pid(int fd, const char *path, struct ag_error *err)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());

	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		return ag_error_set(err, 1, "cannot lock the pidfile %s: %s", path,
				    strerror(errno));
	if (write(fd, text, (size_t)n) != n)
		return ag_error_set(err, 1, "cannot write the pidfile %s: %s", path,
				    strerror(errno));
	return 0;
}

int serve_pidfile_create(const char *path, struct ag_error *err)
{
	make_parent(path);
	/* Two rounds: a stale file found in the first is gone in the second. */
	for (int round = 0; round < 2; round++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
			      0644);

		if (fd >= 0) {
			if (write_pid(fd, path, err) == 0)
				return fd;
			unlink(path);
			close(fd);
			return -1;
		}
		if (errno != EEXIST) {
			ag_error_set(err, 1, "cannot create the pidfile %s: %s", path,
				     strerror(errno));
			return -1;
		}
		if (clear_stale(path, err) != 0)
			return -1;
	}
	ag_error_set(err, 1, "pidfile %s keeps reappearing: is another serve starting?", path);
	return -1;
}

void serve_pidfile_remove(const char *path, int fd)
{
	struct stat mine, now;

	if (fd < 0)
		return;
	if (fstat(fd, &mine) == 0 && lstat(path, &now) == 0 && mine.st_dev == now.st_dev &&
	    mine.st_ino == now.st_ino)
		unlink(path);
	close(fd);
}
