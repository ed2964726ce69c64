/* The task engine's state folder (see task_store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "ag_file.h"
#include "ag_text.h"
#include "log.h"
#include "spawn.h"
#include "task_store.h"

#define STATUS_FILE "status.json"
#define STATUS_TMP "status.json.tmp"
#define LOCK_FILE "lock"
#define CANCEL_FILE "cancel"
#define KEY_HEX_LEN (SHA256_DIGEST_LENGTH * 2)
#define KEY_FILE_MAX 128 /* a task id and a newline */

int64_t ag_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* snprintf into a path buffer: 0 when it fit, -1 when it was cut. */
static int path_fmt(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int path_fmt(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

/* ENOSPC and friends are the ramdisk being full: the one failure callers can act on. */
static int fs_error(struct xp_error *err, int e, const char *what, const char *path)
{
	if (e == ENOSPC || e == EDQUOT || e == EFBIG)
		return xp_error_set(err, XP_NO_SPACE, "state_dir",
				    "the state folder is full (no space left): cannot %s %s (%s)",
				    what, path, strerror(e));
	return xp_error_set(err, XP_INTERNAL, "state_dir", "cannot %s %s: %s", what, path,
			    strerror(e));
}

/* Moves fd above 2 so ag_daemonize can keep it; closes the original. */
static int fd_above_stdio(int fd)
{
	int high;

	if (fd < 0 || fd > 2)
		return fd;
	high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return high;
}

/* --- layout ----------------------------------------------------------------- */

static int mkdir_0700(const char *path, struct xp_error *err)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return fs_error(err, errno, "create folder", path);
}

void ag_store_open(struct ag_store *s, const struct ag_config *cfg)
{
	s->cfg = cfg;
	s->lock_fd = -1;
}

int ag_store_create(struct ag_store *s, const struct ag_config *cfg, struct xp_error *err)
{
	char path[AG_STORE_PATH_MAX];
	int rc;

	ag_store_open(s, cfg);
	if ((rc = mkdir_0700(cfg->state_dir, err)) != 0)
		return rc;
	if (path_fmt(path, sizeof(path), "%s/tasks", cfg->state_dir) != 0)
		return xp_error_set(err, XP_INTERNAL, "state_dir", "state folder path too long");
	if ((rc = mkdir_0700(path, err)) != 0)
		return rc;
	if (path_fmt(path, sizeof(path), "%s/keys", cfg->state_dir) != 0)
		return xp_error_set(err, XP_INTERNAL, "state_dir", "state folder path too long");
	return mkdir_0700(path, err);
}

int ag_store_lock(struct ag_store *s, struct xp_error *err)
{
	char path[AG_STORE_PATH_MAX];
	int fd;

	if (path_fmt(path, sizeof(path), "%s/%s", s->cfg->state_dir, LOCK_FILE) != 0)
		return xp_error_set(err, XP_INTERNAL, "state_dir", "state folder path too long");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fs_error(err, errno, "open", path);
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			int e = errno;

			close(fd);
			return fs_error(err, e, "lock", path);
		}
	}
	s->lock_fd = fd;
	return 0;
}

void ag_store_unlock(struct ag_store *s)
{
	if (s->lock_fd < 0)
		return;
	/* Explicit unlock: a detached child may still hold a copy of this descriptor. */
	(void)flock(s->lock_fd, LOCK_UN);
	close(s->lock_fd);
	s->lock_fd = -1;
}

int ag_task_file(const struct ag_store *s, const char *id, const char *name, char *buf,
		 size_t cap, struct xp_error *err)
{
	int rc;

	if (!ag_task_id_valid(id, strlen(id))) {
		char q[96];

		return xp_error_set(err, XP_TASK_NOT_FOUND, "args.task", "no task %s",
				    ag_text_quote(q, sizeof(q), id, strlen(id)));
	}
	if (name == NULL)
		rc = path_fmt(buf, cap, "%s/tasks/%s", s->cfg->state_dir, id);
	else
		rc = path_fmt(buf, cap, "%s/tasks/%s/%s", s->cfg->state_dir, id, name);
	if (rc != 0)
		return xp_error_set(err, XP_INTERNAL, "state_dir", "task path too long");
	return 0;
}

/* --- records ---------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = EIO;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* data + '\n' into a new file at path, on disk when this returns 0 (else errno). */
static int write_synced(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int e;

	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) != 0 || write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* Temp file in the same folder, fsync, rename: readers see the old or the new file. */
static int write_atomic(const char *tmp, const char *path, const char *data, size_t len,
			struct xp_error *err)
{
	int e;

	if (write_synced(tmp, data, len) == 0 && rename(tmp, path) == 0)
		return 0;
	e = errno;
	unlink(tmp);
	return fs_error(err, e, "write", path);
}

int ag_task_write(const struct ag_store *s, const struct xp_task *t, struct xp_error *err)
{
	char path[AG_STORE_PATH_MAX], tmp[AG_STORE_PATH_MAX];
	struct xp_error e = { 0 };
	char *line;
	int rc;

	if ((rc = ag_task_file(s, t->id, STATUS_FILE, path, sizeof(path), err)) != 0 ||
	    (rc = ag_task_file(s, t->id, STATUS_TMP, tmp, sizeof(tmp), err)) != 0)
		return rc;
	line = xp_task_encode(t, &e);
	if (line == NULL)
		return xp_error_set(err, XP_INTERNAL, "task", "cannot encode task %s: %s", t->id,
				    e.message);
	rc = write_atomic(tmp, path, line, strlen(line), err);
	free(line);
	return rc;
}

/* The whole of a small file, malloc'd and NUL-terminated. ENOENT comes back as -1/errno. */
static int read_small(const char *path, size_t max, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	char *buf = NULL;
	int e;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 2);
	if (buf == NULL || ag_file_read_bounded(fd, buf, (size_t)st.st_size + 1, len) != 0)
		goto fail;
	buf[*len] = '\0';
	close(fd);
	*text = buf;
	return 0;
fail:
	e = errno;
	free(buf);
	close(fd);
	errno = e;
	return -1;
}

int ag_task_read(const struct ag_store *s, const char *id, struct xp_task *t,
		 struct xp_error *err)
{
	char path[AG_STORE_PATH_MAX];
	struct xp_error e = { 0 };
	char *text;
	size_t len;
	int rc;

	if ((rc = ag_task_file(s, id, STATUS_FILE, path, sizeof(path), err)) != 0)
		return rc;
	if (read_small(path, XP_LINE_MAX, &text, &len) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return xp_error_set(err, XP_TASK_NOT_FOUND, "args.task", "no task %s", id);
		return fs_error(err, errno, "read", path);
	}
	rc = xp_task_decode(text, len, t, &e);
	free(text);
	if (rc != 0)
		return xp_error_set(err, XP_INTERNAL, "task", "record of task %s is unreadable: %s",
				    id, e.message);
	if (strcmp(t->id, id) != 0)
		return xp_error_set(err, XP_INTERNAL, "task", "record of task %s names task %s", id,
				    t->id);
	return 0;
}

/* --- liveness --------------------------------------------------------------- */

/* The task's lock file; create is only for ag_task_create (probes must not revive a folder). */
static int open_task_lock(const struct ag_store *s, const char *id, int create)
{
	char path[AG_STORE_PATH_MAX];

	if (ag_task_file(s, id, LOCK_FILE, path, sizeof(path), NULL) != 0)
		return -1;
	return fd_above_stdio(open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | create, 0600));
}

bool ag_task_supervised(const struct ag_store *s, const char *id)
{
	int fd = open_task_lock(s, id, 0);
	bool held;

	if (fd < 0)
		return false;
	held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

static int claim(const struct ag_store *s, const char *id, int create, int *fd)
{
	int lock = open_task_lock(s, id, create);

	if (lock < 0)
		return -1;
	if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
		close(lock);
		return 0;
	}
	*fd = lock;
	return 1;
}

int ag_task_claim(const struct ag_store *s, const char *id, int *fd)
{
	return claim(s, id, 0, fd);
}

int ag_task_create(const struct ag_store *s, int64_t now_ms, char id[AG_TASK_ID_MAX + 1],
		   int *lock_fd, struct xp_error *err)
{
	char dir[AG_STORE_PATH_MAX];
	int rc;

	for (unsigned seq = 1; seq <= 9999; seq++) {
		snprintf(id, AG_TASK_ID_MAX + 1, "t-%" PRId64 "-%04u", now_ms, seq);
		if ((rc = ag_task_file(s, id, NULL, dir, sizeof(dir), err)) != 0)
			return rc;
		if (mkdir(dir, 0700) != 0) {
			if (errno == EEXIST)
				continue;
			return fs_error(err, errno, "create task folder", dir);
		}
		rc = claim(s, id, O_CREAT | O_EXCL, lock_fd);
		if (rc == 1)
			return 0;
		rc = rc == 0 ? EAGAIN : errno;
		ag_task_discard(s, id);
		return fs_error(err, rc, "lock new task", dir);
	}
	return xp_error_set(err, XP_BUSY, "state_dir", "too many tasks created in one millisecond");
}

int ag_task_result(const struct xp_task *t, cJSON **result, struct xp_error *err)
{
	cJSON *r = cJSON_CreateObject();
	cJSON *json = r ? xp_task_to_json(t, err) : NULL;

	if (r == NULL || json == NULL || !cJSON_AddItemToObject(r, "task", json)) {
		cJSON_Delete(r);
		cJSON_Delete(json);
		if (err->code == XP_OK)
			xp_error_set(err, XP_INTERNAL, "result", "out of memory");
		return err->code;
	}
	*result = r;
	return 0;
}

void ag_task_mark_lost(struct xp_task *t, int64_t now_ms)
{
	t->state = XP_TASK_LOST;
	t->has_ended_ms = true;
	t->ended_ms = now_ms;
	t->has_error_code = true;
	t->error_code = XP_INTERNAL;
	snprintf(t->message, sizeof(t->message), "%s",
		 "the task's supervisor ended without recording an outcome "
		 "(agent killed or host restarted)");
}

/*
 * The record was read as not final and nobody holds the lock: claim it, read
 * again (the supervisor may have finished in between) and persist `lost` if it
 * is still not final. A reader that cannot claim reports lost without writing.
 */
static int settle_lost(const struct ag_store *s, const char *id, struct xp_task *t,
		       struct xp_error *err)
{
	struct xp_error e = { 0 };
	int fd = -1, rc, claimed = ag_task_claim(s, id, &fd);

	if (claimed == 1) {
		rc = ag_task_read(s, id, t, err);
		if (rc == 0 && !xp_task_state_final(t->state)) {
			ag_task_mark_lost(t, ag_now_ms());
			if (ag_task_write(s, t, &e) != 0)
				ag_log(AG_LOG_WARN, "task %s is lost; cannot record it: %s", id,
				       e.message);
			else
				ag_log(AG_LOG_WARN, "task %s is lost: its supervisor is gone", id);
		}
		close(fd);
		return rc;
	}
	if (claimed < 0)
		return xp_error_set(err, XP_TASK_NOT_FOUND, "args.task", "no task %s", id);
	ag_task_mark_lost(t, ag_now_ms());
	return 0;
}

int ag_task_load(const struct ag_store *s, const char *id, struct xp_task *t,
		 struct xp_error *err)
{
	int rc = ag_task_read(s, id, t, err);

	if (rc != 0 || xp_task_state_final(t->state) || ag_task_supervised(s, id))
		return rc;
	return settle_lost(s, id, t, err);
}

int ag_task_request_cancel(const struct ag_store *s, const char *id, struct xp_error *err)
{
	char path[AG_STORE_PATH_MAX];
	int rc, fd;

	if ((rc = ag_task_file(s, id, CANCEL_FILE, path, sizeof(path), err)) != 0)
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fs_error(err, errno, "create", path);
	close(fd);
	return 0;
}

bool ag_task_cancel_requested(const struct ag_store *s, const char *id)
{
	char path[AG_STORE_PATH_MAX];

	return ag_task_file(s, id, CANCEL_FILE, path, sizeof(path), NULL) == 0 &&
	       access(path, F_OK) == 0;
}

void ag_task_discard(const struct ag_store *s, const char *id)
{
	static const char *const files[] = { STATUS_FILE, STATUS_TMP, LOCK_FILE, CANCEL_FILE };
	char path[AG_STORE_PATH_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (ag_task_file(s, id, files[i], path, sizeof(path), NULL) == 0)
			unlink(path);
	if (ag_task_file(s, id, NULL, path, sizeof(path), NULL) == 0)
		rmdir(path);
}

/* --- idempotency keys --------------------------------------------------------- */

/* <state>/keys/<hex sha-256 of key> */
static int key_path(const struct ag_store *s, const char *key, char *buf, size_t cap)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[KEY_HEX_LEN + 1];

	SHA256((const unsigned char *)key, strlen(key), md);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return path_fmt(buf, cap, "%s/keys/%s", s->cfg->state_dir, hex);
}

/* The task id a key file holds; -1 (errno) when unreadable or malformed. */
static int key_read(const char *path, char id[AG_TASK_ID_MAX + 1])
{
	char *text;
	size_t len;

	if (read_small(path, KEY_FILE_MAX, &text, &len) != 0)
		return -1;
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (!ag_task_id_valid(text, len)) {
		free(text);
		errno = EINVAL;
		return -1;
	}
	memcpy(id, text, len);
	id[len] = '\0';
	free(text);
	return 0;
}

static bool task_exists(const struct ag_store *s, const char *id)
{
	char path[AG_STORE_PATH_MAX];

	return ag_task_file(s, id, STATUS_FILE, path, sizeof(path), NULL) == 0 &&
	       access(path, F_OK) == 0;
}

int ag_key_lookup(const struct ag_store *s, const char *key, char id[AG_TASK_ID_MAX + 1],
		  bool *found, struct xp_error *err)
{
	char path[AG_STORE_PATH_MAX];

	*found = false;
	if (key_path(s, key, path, sizeof(path)) != 0)
		return xp_error_set(err, XP_INTERNAL, "state_dir", "key path too long");
	if (key_read(path, id) != 0) {
		if (errno == ENOENT)
			return 0;
		return xp_error_set(err, XP_INTERNAL, "args.key", "key index entry unreadable: %s",
				    strerror(errno));
	}
	*found = task_exists(s, id);
	return 0;
}

int ag_key_bind(const struct ag_store *s, const char *key, const char *id,
		struct xp_error *err)
{
	char path[AG_STORE_PATH_MAX], tmp[AG_STORE_PATH_MAX], data[AG_TASK_ID_MAX + 2];
	int e = 0;

	if (key_path(s, key, path, sizeof(path)) != 0 ||
	    path_fmt(tmp, sizeof(tmp), "%s/keys/.%s.tmp", s->cfg->state_dir, id) != 0)
		return xp_error_set(err, XP_INTERNAL, "state_dir", "key path too long");
	snprintf(data, sizeof(data), "%s", id);
	if (write_synced(tmp, data, strlen(data)) != 0) {
		e = errno;
		unlink(tmp);
		return fs_error(err, e, "write", tmp);
	}
	/* A key whose task was cleaned behind our back is stale: drop it once. */
	for (int attempt = 0; attempt < 2; attempt++) {
		char old[AG_TASK_ID_MAX + 1];

		if (link(tmp, path) == 0) {
			e = 0;
			break;
		}
		e = errno;
		if (e != EEXIST || (key_read(path, old) == 0 && task_exists(s, old)))
			break;
		unlink(path);
	}
	unlink(tmp);
	if (e == EEXIST)
		return xp_error_set(err, XP_INTERNAL, "args.key",
				    "key index entry appeared under the store lock");
	return e ? fs_error(err, e, "bind key in", path) : 0;
}

void ag_key_unbind(const struct ag_store *s, const char *key, const char *id)
{
	char path[AG_STORE_PATH_MAX], old[AG_TASK_ID_MAX + 1];

	if (key_path(s, key, path, sizeof(path)) == 0 && key_read(path, old) == 0 &&
	    strcmp(old, id) == 0)
		unlink(path);
}

/* --- all tasks -------------------------------------------------------------- */

static int ids_add(struct ag_task_ids *ids, const char *id)
{
	size_t len = strlen(id);

	if (len > AG_TASK_ID_MAX)
		return 0; /* not a task's folder */
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 32;
		void *p = realloc(ids->id, cap * sizeof(*ids->id));

		if (p == NULL)
			return -1;
		ids->id = p;
		ids->cap = cap;
	}
	memcpy(ids->id[ids->n++], id, len + 1);
	return 0;
}

/* Creation time and sequence from "t-<ms>-<seq>"; 0 for ids of another shape. */
static void id_order(const char *id, uint64_t *ms, uint64_t *seq)
{
	const char *dash = id[0] == 't' && id[1] == '-' ? strchr(id + 2, '-') : NULL;

	*ms = *seq = 0;
	if (dash == NULL || ag_text_u64(id + 2, (size_t)(dash - id - 2), UINT64_MAX, ms) != 0 ||
	    ag_text_u64(dash + 1, strlen(dash + 1), UINT64_MAX, seq) != 0)
		*ms = *seq = 0;
}

static int newest_first(const void *a, const void *b)
{
	uint64_t ma, sa, mb, sb;

	id_order(a, &ma, &sa);
	id_order(b, &mb, &sb);
	if (ma != mb)
		return ma < mb ? 1 : -1;
	if (sa != sb)
		return sa < sb ? 1 : -1;
	return -strcmp(a, b);
}

int ag_store_list(const struct ag_store *s, struct ag_task_ids *ids, struct xp_error *err)
{
	char path[AG_STORE_PATH_MAX];
	struct dirent *ent;
	DIR *d;

	memset(ids, 0, sizeof(*ids));
	if (path_fmt(path, sizeof(path), "%s/tasks", s->cfg->state_dir) != 0)
		return xp_error_set(err, XP_INTERNAL, "state_dir", "state folder path too long");
	d = opendir(path);
	if (d == NULL)
		return fs_error(err, errno, "list", path);
	while ((ent = readdir(d)) != NULL) {
		if (!ag_task_id_valid(ent->d_name, strlen(ent->d_name)))
			continue;
		if (ids_add(ids, ent->d_name) != 0) {
			closedir(d);
			ag_task_ids_free(ids);
			return xp_error_set(err, XP_INTERNAL, "state_dir", "out of memory");
		}
	}
	closedir(d);
	if (ids->n > 1)
		qsort(ids->id, ids->n, sizeof(*ids->id), newest_first);
	return 0;
}

void ag_task_ids_free(struct ag_task_ids *ids)
{
	free(ids->id);
	memset(ids, 0, sizeof(*ids));
}

/* The device id a record's target names ("/…/naa.x" or "naa.x"). */
static const char *target_device(const char *target)
{
	const char *slash = strrchr(target, '/');

	return slash ? slash + 1 : target;
}

int ag_store_census(const struct ag_store *s, const char *device_id, unsigned *live,
		    char busy_task[AG_TASK_ID_MAX + 1], struct xp_error *err)
{
	struct ag_task_ids ids;
	struct xp_task *t;
	int rc;

	*live = 0;
	busy_task[0] = '\0';
	if ((rc = ag_store_list(s, &ids, err)) != 0)
		return rc;
	t = malloc(sizeof(*t));
	if (t == NULL) {
		ag_task_ids_free(&ids);
		return xp_error_set(err, XP_INTERNAL, "state_dir", "out of memory");
	}
	for (size_t i = 0; i < ids.n; i++) {
		struct xp_error e = { 0 };

		if (!ag_task_supervised(s, ids.id[i]) || ag_task_read(s, ids.id[i], t, &e) != 0 ||
		    xp_task_state_final(t->state))
			continue;
		(*live)++;
		if (device_id != NULL && strcmp(target_device(t->target), device_id) == 0)
			snprintf(busy_task, AG_TASK_ID_MAX + 1, "%s", t->id);
	}
	free(t);
	ag_task_ids_free(&ids);
	return 0;
}

/* --- cleaning --------------------------------------------------------------- */

/* pointer == <vmfs_root>/volumes/<one component>/.xclone/<id>.vmdk, nothing else. */
static bool pointer_shape_ok(const struct ag_config *cfg, const char *pointer, const char *id)
{
	char prefix[AG_STORE_PATH_MAX], suffix[AG_TASK_ID_MAX + 32];
	size_t plen, slen, len = strlen(pointer);
	const char *ds;

	if (path_fmt(prefix, sizeof(prefix), "%s/volumes/", cfg->vmfs_root) != 0 ||
	    path_fmt(suffix, sizeof(suffix), "/%s/%s.vmdk", AG_POINTER_DIR, id) != 0)
		return false;
	plen = strlen(prefix);
	slen = strlen(suffix);
	if (len <= plen + slen || strncmp(pointer, prefix, plen) != 0 ||
	    strcmp(pointer + len - slen, suffix) != 0)
		return false;
	ds = pointer + plen;
	return ag_datastore_name_valid(ds, len - plen - slen);
}

static bool lexists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* <stem>.vmdk, <stem>-rdm.vmdk, <stem>-rdmp.vmdk: what `vmkfstools -d rdm[p]:` creates. */
static int pointer_files(const char *pointer, char files[3][AG_STORE_PATH_MAX])
{
	size_t stem = strlen(pointer) - strlen(".vmdk");

	if (path_fmt(files[0], AG_STORE_PATH_MAX, "%s", pointer) != 0 ||
	    path_fmt(files[1], AG_STORE_PATH_MAX, "%.*s-rdm.vmdk", (int)stem, pointer) != 0 ||
	    path_fmt(files[2], AG_STORE_PATH_MAX, "%.*s-rdmp.vmdk", (int)stem, pointer) != 0)
		return -1;
	return 0;
}

/* vmkfstools -U <pointer>: the tool's own way to delete a disk (for an RDM, never the LUN). */
static void vmkfstools_delete(const struct ag_config *cfg, const char *pointer)
{
	const char *argv[] = { cfg->vmkfstools_path, "-U", pointer, NULL };
	struct ag_spawn_opts o = { .argv = argv, .timeout_ms = (int)cfg->esxcli_timeout_s * 1000,
				   .capture_max = 1024 };
	struct ag_spawn_result r;
	struct ag_error e = { 0 };

	if (ag_spawn_run(&o, &r, &e) != 0) {
		ag_log(AG_LOG_WARN, "vmkfstools -U %s: %s", pointer, e.msg);
		return;
	}
	if (!r.exited || r.exit_code != 0)
		ag_log(AG_LOG_WARN, "vmkfstools -U %s failed (status %d): %.200s", pointer,
		       r.exited ? r.exit_code : 128 + r.term_signal, r.out);
	ag_spawn_result_free(&r);
}

int ag_task_remove_pointer(const struct ag_config *cfg, const char *pointer, const char *id,
			   ag_removed_fn fn, void *ctx, struct xp_error *err)
{
	char files[3][AG_STORE_PATH_MAX];
	bool before[3];
	int rc = 0;

	if (!pointer_shape_ok(cfg, pointer, id) || pointer_files(pointer, files) != 0)
		return xp_error_set(err, XP_INTERNAL, "task.pointer",
				    "task %s records a pointer outside its .xclone folder", id);
	for (int i = 0; i < 3; i++)
		before[i] = lexists(files[i]);
	if (before[0])
		vmkfstools_delete(cfg, pointer);
	for (int i = 0; i < 3; i++) {
		/* What -U left (or could not reach without a descriptor) is unlinked. */
		if (lexists(files[i]) && unlink(files[i]) != 0 && errno != ENOENT) {
			rc = xp_error_set(err, XP_HOST_COMMAND_FAILED, "task.pointer",
					  "cannot remove %s: %s", files[i], strerror(errno));
			continue;
		}
		if (before[i] && fn != NULL && fn(ctx, files[i]) != 0)
			rc = xp_error_set(err, XP_INTERNAL, "result", "out of memory");
	}
	return rc;
}

/* Removes the task folder and what it holds (files only: the store makes no folders there). */
static int remove_task_dir(const struct ag_store *s, const char *id, struct xp_error *err)
{
	char dir[AG_STORE_PATH_MAX];
	struct dirent *ent;
	DIR *d;
	int rc;

	if ((rc = ag_task_file(s, id, NULL, dir, sizeof(dir), err)) != 0)
		return rc;
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : fs_error(err, errno, "open", dir);
	while ((ent = readdir(d)) != NULL)
		if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0)
			(void)unlinkat(dirfd(d), ent->d_name, 0);
	closedir(d);
	if (rmdir(dir) != 0 && errno != ENOENT)
		return fs_error(err, errno, "remove", dir);
	return 0;
}

int ag_task_clean(struct ag_store *s, const struct xp_task *t, ag_removed_fn fn, void *ctx,
		  struct xp_error *err)
{
	char dir[AG_STORE_PATH_MAX];
	int rc;

	if ((rc = ag_task_file(s, t->id, NULL, dir, sizeof(dir), err)) != 0)
		return rc;
	/* Outside the store lock: vmkfstools -U may take a while. */
	if ((rc = ag_task_remove_pointer(s->cfg, t->pointer, t->id, fn, ctx, err)) != 0)
		return rc;
	if ((rc = ag_store_lock(s, err)) != 0)
		return rc;
	if (t->key[0] != '\0')
		ag_key_unbind(s, t->key, t->id);
	rc = remove_task_dir(s, t->id, err);
	ag_store_unlock(s);
	if (rc == 0 && fn != NULL && fn(ctx, dir) != 0)
		rc = xp_error_set(err, XP_INTERNAL, "result", "out of memory");
	return rc;
}

/* A final task past its retention time. */
static bool expired(const struct xp_task *t, int64_t now_ms, unsigned retention_s)
{
	int64_t end = t->has_ended_ms ? t->ended_ms : t->created_ms;

	return xp_task_state_final(t->state) && now_ms - end >= (int64_t)retention_s * 1000;
}

int ag_store_gc(struct ag_store *s, int64_t now_ms, struct xp_error *err)
{
	struct ag_task_ids ids;
	struct xp_task *t;
	unsigned cleaned = 0;
	int rc;

	if ((rc = ag_store_list(s, &ids, err)) != 0)
		return rc;
	t = malloc(sizeof(*t));
	if (t == NULL) {
		ag_task_ids_free(&ids);
		return xp_error_set(err, XP_INTERNAL, "state_dir", "out of memory");
	}
	/* Oldest first: they are the ones that expire. */
	for (size_t i = ids.n; i-- > 0 && cleaned < AG_GC_BATCH;) {
		struct xp_error e = { 0 };

		if (ag_task_load(s, ids.id[i], t, &e) != 0 ||
		    !expired(t, now_ms, s->cfg->task_retention_s))
			continue;
		if (ag_task_clean(s, t, NULL, NULL, &e) != 0)
			ag_log(AG_LOG_WARN, "cannot clean expired task %s: %s", t->id, e.message);
		else
			ag_log(AG_LOG_INFO, "cleaned expired task %s", t->id);
		cleaned++;
	}
	free(t);
	ag_task_ids_free(&ids);
	return 0;
}
