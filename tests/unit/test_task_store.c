/*
 * Unit tests of agent/task_store.c: layout, ids, atomic records (and NO_SPACE
 * without a corrupt record: a real tiny tmpfs when mounting works, and always
 * RLIMIT_FSIZE in a child), liveness through the task lock, keys (also bound
 * concurrently), the census, listing, pointer removal and garbage collection.
 *
 * This binary is also the fake `vmkfstools -U` (argv[1] == "-U"): it removes a
 * pointer descriptor and its -rdm file as the real tool does, or fails when the
 * descriptor says "FAIL", so both removal paths are exercised without a shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_fixture.h"
#include "task_store.h"
#include "tap.h"

static char self[4096];

/* --- fake vmkfstools -U ---------------------------------------------------------- */

static int fake_delete(const char *pointer)
{
	char text[64] = "", rdm[4096];
	FILE *f = fopen(pointer, "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

	if (f)
		fclose(f);
	text[n] = '\0';
	if (f == NULL || strncmp(text, "FAIL", 4) == 0) {
		printf("Failed to delete virtual disk: injected (1).\n");
		return 1;
	}
	snprintf(rdm, sizeof(rdm), "%.*s-rdm.vmdk", (int)(strlen(pointer) - 5), pointer);
	unlink(rdm);
	unlink(pointer);
	return 0;
}

/* --- fixture ------------------------------------------------------------------ */

static struct ag_config cfg;
static struct ag_store store;
static char vmfs[4096], xclone_dir[4096];

static void setup(void)
{
	char path[4096];

	ag_config_defaults(&cfg);
	fx_path(cfg.state_dir, sizeof(cfg.state_dir), "%s/state", fx_tmpdir());
	fx_path(vmfs, sizeof(vmfs), "%s/vmfs", fx_tmpdir());
	fx_path(cfg.vmfs_root, sizeof(cfg.vmfs_root), "%s", vmfs);
	fx_path(cfg.vmkfstools_path, sizeof(cfg.vmkfstools_path), "%s", self);
	fx_path(xclone_dir, sizeof(xclone_dir), "%s/volumes/5f69774e-f1031e44/.xclone", vmfs);
	fx_mkdirs(xclone_dir);
	fx_path(path, sizeof(path), "%s/volumes/ds 1 $(x)", vmfs);
	fx_symlink("5f69774e-f1031e44", path);
}

static void record(struct xp_task *t, const char *id, enum xp_task_state st, const char *target)
{
	xp_task_init(t);
	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->source, sizeof(t->source), "[ds 1 $(x)] vm \"q\"/vm.vmdk");
	snprintf(t->target, sizeof(t->target), "%s", target);
	fx_path(t->pointer, sizeof(t->pointer), "%s/%s.vmdk", xclone_dir, id);
	t->created_ms = ag_now_ms();
	t->state = st;
	if (xp_task_state_final(st)) {
		t->has_ended_ms = true;
		t->ended_ms = t->created_ms;
	}
}

/* A new task whose lock this process holds (fd returned), with its record written. */
static int new_task(char id[AG_TASK_ID_MAX + 1], enum xp_task_state st, const char *target)
{
	struct xp_error e = { 0 };
	struct xp_task t;
	int fd = -1;

	if (ag_task_create(&store, ag_now_ms(), id, &fd, &e) != 0) {
		printf("# create: %s\n", e.message);
		return -1;
	}
	record(&t, id, st, target);
	if (ag_task_write(&store, &t, &e) != 0)
		printf("# write: %s\n", e.message);
	return fd;
}

/* A child that holds the task's lock (as a supervisor does) until killed. */
static pid_t hold_lock(const char *id)
{
	int fds[2], fd = -1;
	pid_t pid;
	char c = 0;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (ag_task_claim(&store, id, &fd) != 1)
			_exit(3);
		(void)!write(fds[1], "x", 1);
		for (;;)
			pause();
	}
	close(fds[1]);
	(void)!read(fds[0], &c, 1);
	close(fds[0]);
	return c == 'x' ? pid : -1;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* --- tests -------------------------------------------------------------------- */

/* Readers bind to the state folder without creating it (read-only keys change nothing). */
static void test_open_creates_nothing(void)
{
	struct xp_error e = { 0 };
	struct ag_store reader;
	struct xp_task t;
	struct stat st;

	ok(stat(cfg.state_dir, &st) != 0 && errno == ENOENT, "state folder absent before the first task");
	ag_store_open(&reader, &cfg);
	is_int(ag_task_load(&reader, "t-1732243200123-0001", &t, &e), XP_TASK_NOT_FOUND,
	       "a task read in a missing state folder: TASK_NOT_FOUND");
	ok(stat(cfg.state_dir, &st) != 0 && errno == ENOENT, "reading created no folder");
}

static void test_layout_and_records(void)
{
	struct xp_error e = { 0 };
	struct xp_task t, back;
	char id[AG_TASK_ID_MAX + 1], id2[AG_TASK_ID_MAX + 1], path[4096];
	int fd, fd2;
	struct stat st;

	ok(ag_store_create(&store, &cfg, &e) == 0, "store opens (creates its folders): %s", e.message);
	fx_path(path, sizeof(path), "%s/tasks", cfg.state_dir);
	ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 077) == 0, "tasks/ is 0700");
	ok(ag_task_create(&store, 1732243200123, id, &fd, &e) == 0, "task created");
	is_str(id, "t-1732243200123-0001", "id t-<ms>-<seq>");
	ok(ag_task_create(&store, 1732243200123, id2, &fd2, &e) == 0 &&
	   strcmp(id2, "t-1732243200123-0002") == 0, "same millisecond: next sequence number");
	ok(ag_task_supervised(&store, id), "creator holds the new task's lock");
	close(fd);
	close(fd2);
	ok(!ag_task_supervised(&store, id), "closing it releases");

	record(&t, id, XP_TASK_RUNNING, "/vmfs/devices/disks/naa.1");
	t.has_pid = true;
	t.pid = 4242;
	snprintf(t.stderr_tail, sizeof(t.stderr_tail), "line 1\nline \"2\" é\n");
	ok(ag_task_write(&store, &t, &e) == 0, "record written");
	ok(ag_task_read(&store, id, &back, &e) == 0 && xp_task_equal(&t, &back), "read back equal");
	fx_path(path, sizeof(path), "%s/tasks/%s/status.json.tmp", cfg.state_dir, id);
	ok(access(path, F_OK) != 0, "no temp file left behind");

	ok(ag_task_read(&store, "t-0000000000000-0000", &back, &e) == XP_TASK_NOT_FOUND,
	   "unknown id: TASK_NOT_FOUND");
	ok(ag_task_read(&store, "../../etc", &back, &e) == XP_TASK_NOT_FOUND &&
	   strstr(e.message, "args.task") == e.message, "path-like id: TASK_NOT_FOUND on args.task");
	ok(ag_task_read(&store, "", &back, &e) == XP_TASK_NOT_FOUND, "empty id refused");
	ok(ag_task_read(&store, "a/b", &back, &e) == XP_TASK_NOT_FOUND, "id with '/' refused");

	/* A corrupt record is an error, never a guess. */
	fx_path(path, sizeof(path), "%s/tasks/%s/status.json", cfg.state_dir, id2);
	fx_write_str(path, "{\"id\":\"x\"");
	ok(ag_task_read(&store, id2, &back, &e) == XP_INTERNAL, "corrupt record: INTERNAL");
	ag_task_discard(&store, id2);
	fx_path(path, sizeof(path), "%s/tasks/%s", cfg.state_dir, id2);
	ok(access(path, F_OK) != 0, "discard removes the folder");
}

static void test_liveness(void)
{
	struct xp_error e = { 0 };
	struct xp_task t;
	char id[AG_TASK_ID_MAX + 1], fin[AG_TASK_ID_MAX + 1];
	int fd = new_task(id, XP_TASK_RUNNING, "naa.live");
	pid_t holder;

	close(fd);
	holder = hold_lock(id);
	ok(holder > 0 && ag_task_supervised(&store, id), "a holder makes the task supervised");
	ok(ag_task_load(&store, id, &t, &e) == 0 && t.state == XP_TASK_RUNNING,
	   "supervised task stays running");
	stop(holder);
	ok(!ag_task_supervised(&store, id), "holder killed: unsupervised");
	ok(ag_task_load(&store, id, &t, &e) == 0 && t.state == XP_TASK_LOST, "reported lost");
	ok(t.has_error_code && t.error_code == XP_INTERNAL && t.has_ended_ms && t.message[0],
	   "lost: error code, end time and message");
	ok(ag_task_read(&store, id, &t, &e) == 0 && t.state == XP_TASK_LOST, "lost was persisted");

	fd = new_task(fin, XP_TASK_SUCCEEDED, "naa.fin");
	close(fd);
	ok(ag_task_load(&store, fin, &t, &e) == 0 && t.state == XP_TASK_SUCCEEDED,
	   "a final record without holder stays as it is");

	/* A reader holding a probe (shared) lock does not look like a supervisor to another. */
	{
		char p[AG_TASK_ID_MAX + 1];
		int pfd = new_task(p, XP_TASK_RUNNING, "naa.p");
		int probe;
		char path[4096];

		close(pfd);
		fx_path(path, sizeof(path), "%s/tasks/%s/lock", cfg.state_dir, p);
		probe = open(path, O_RDWR);
		ok(probe >= 0 && flock(probe, LOCK_SH) == 0 && !ag_task_supervised(&store, p),
		   "a shared probe is not mistaken for a supervisor");
		ok(ag_task_load(&store, p, &t, &e) == 0 && t.state == XP_TASK_LOST,
		   "lost reported even while another reader probes");
		close(probe);
	}
}

static void test_cancel_request(void)
{
	struct xp_error e = { 0 };
	char id[AG_TASK_ID_MAX + 1];
	int fd = new_task(id, XP_TASK_RUNNING, "naa.c");

	ok(!ag_task_cancel_requested(&store, id), "no cancel request at first");
	ok(ag_task_request_cancel(&store, id, &e) == 0 && ag_task_cancel_requested(&store, id),
	   "cancel request seen");
	ok(ag_task_request_cancel(&store, "nope/..", &e) == XP_TASK_NOT_FOUND, "bad id refused");
	close(fd);
}

static void test_keys(void)
{
	struct xp_error e = { 0 };
	char id[AG_TASK_ID_MAX + 1], got[AG_TASK_ID_MAX + 1];
	const char *key = "pvc-3f2a/disk-0 \"q\" $(x) é";
	bool found = true;
	int fd = new_task(id, XP_TASK_QUEUED, "naa.k");

	close(fd);
	ok(ag_key_lookup(&store, key, got, &found, &e) == 0 && !found, "unknown key: not found");
	ok(ag_key_bind(&store, key, id, &e) == 0, "bind");
	ok(ag_key_lookup(&store, key, got, &found, &e) == 0 && found && strcmp(got, id) == 0,
	   "lookup finds the task");
	ok(ag_key_bind(&store, key, "t-1-0001", &e) == XP_INTERNAL, "binding a bound key fails");
	ok(ag_key_lookup(&store, "pvc-3f2a/disk-1", got, &found, &e) == 0 && !found,
	   "another key is not found");
	ag_key_unbind(&store, key, "t-other");
	ok(ag_key_lookup(&store, key, got, &found, &e) == 0 && found, "unbind of another id keeps it");
	ag_key_unbind(&store, key, id);
	ok(ag_key_lookup(&store, key, got, &found, &e) == 0 && !found, "unbind removes it");

	/* A key whose task is gone is stale: not found, and a new bind replaces it. */
	ok(ag_key_bind(&store, key, id, &e) == 0, "bind again");
	ag_task_discard(&store, id);
	ok(ag_key_lookup(&store, key, got, &found, &e) == 0 && !found, "key of a removed task: not found");
	fd = new_task(id, XP_TASK_QUEUED, "naa.k2");
	close(fd);
	ok(ag_key_bind(&store, key, id, &e) == 0, "stale key replaced: %s", e.message);
}

/* Many processes bind one key at once, without the store lock: link() lets one win. */
static void test_key_race(void)
{
	enum { N = 8 };
	pid_t kids[N];
	int wins = 0, pipefd[2];
	char go = 0;
	struct xp_error e = { 0 };
	char got[AG_TASK_ID_MAX + 1];
	bool found = false;

	if (pipe(pipefd) != 0)
		return;
	for (int i = 0; i < N; i++) {
		char id[AG_TASK_ID_MAX + 1];
		int fd = new_task(id, XP_TASK_QUEUED, "naa.race");

		close(fd);
		kids[i] = fork();
		if (kids[i] == 0) {
			struct xp_error ce = { 0 };

			close(pipefd[1]);
			(void)!read(pipefd[0], &go, 1); /* start together */
			_exit(ag_key_bind(&store, "the-race-key", id, &ce) == 0 ? 0 : 1);
		}
	}
	close(pipefd[0]);
	close(pipefd[1]); /* EOF releases every child at once */
	for (int i = 0; i < N; i++) {
		int st;

		waitpid(kids[i], &st, 0);
		wins += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	is_int(wins, 1, "concurrent binds of one key: exactly one wins");
	ok(ag_key_lookup(&store, "the-race-key", got, &found, &e) == 0 && found,
	   "the key names one task");
}

static void test_census_and_list(void)
{
	struct xp_error e = { 0 };
	struct ag_task_ids ids;
	char a[AG_TASK_ID_MAX + 1], b[AG_TASK_ID_MAX + 1], c[AG_TASK_ID_MAX + 1];
	char busy[AG_TASK_ID_MAX + 1];
	unsigned live = 99;
	pid_t holder;
	int fd;

	/* A fresh state folder, so earlier tests' tasks do not count. */
	fx_path(cfg.state_dir, sizeof(cfg.state_dir), "%s/state2", fx_tmpdir());
	ag_store_create(&store, &cfg, &e);
	fd = new_task(a, XP_TASK_RUNNING, "/vmfs/devices/disks/naa.600a");
	close(fd);
	holder = hold_lock(a);
	fd = new_task(b, XP_TASK_SUCCEEDED, "naa.600b");
	close(fd);
	fd = new_task(c, XP_TASK_QUEUED, "naa.600c"); /* creator keeps holding: live */

	ok(ag_store_census(&store, "naa.600a", &live, busy, &e) == 0, "census runs");
	is_int(live, 2, "live: the running and the queued task, not the finished one");
	is_str(busy, a, "the task writing naa.600a is named");
	ok(ag_store_census(&store, "naa.600b", &live, busy, &e) == 0 && busy[0] == '\0',
	   "a finished task does not hold its target");
	ok(ag_store_census(&store, "naa.600c", &live, busy, &e) == 0 && strcmp(busy, c) == 0,
	   "bare device id targets match too");

	ok(ag_store_list(&store, &ids, &e) == 0 && ids.n == 3, "list finds 3 tasks");
	ok(ids.n == 3 && strcmp(ids.id[0], c) == 0 && strcmp(ids.id[2], a) == 0, "newest first");
	ag_task_ids_free(&ids);

	stop(holder);
	close(fd);
	ok(ag_store_census(&store, NULL, &live, busy, &e) == 0 && live == 0,
	   "holders gone: nothing is live");
}

/* Pointer files as `vmkfstools -d rdm:` leaves them. */
static void make_pointer(const char *id, const char *content)
{
	char path[4096];

	fx_path(path, sizeof(path), "%s/%s.vmdk", xclone_dir, id);
	fx_write_str(path, content);
	fx_path(path, sizeof(path), "%s/%s-rdm.vmdk", xclone_dir, id);
	fx_write_str(path, "mapping");
}

static int count_removed(void *ctx, const char *path)
{
	(void)path;
	(*(int *)ctx)++;
	return 0;
}

static void test_pointer_removal(void)
{
	struct xp_error e = { 0 };
	char ptr[4096], rdm[4096], outside[4096];
	int n = 0;

	make_pointer("t-1-0001", "descriptor");
	fx_path(ptr, sizeof(ptr), "%s/t-1-0001.vmdk", xclone_dir);
	fx_path(rdm, sizeof(rdm), "%s/t-1-0001-rdm.vmdk", xclone_dir);
	ok(ag_task_remove_pointer(&cfg, ptr, "t-1-0001", count_removed, &n, &e) == 0,
	   "removal through vmkfstools -U: %s", e.message);
	ok(access(ptr, F_OK) != 0 && access(rdm, F_OK) != 0, "descriptor and mapping file gone");
	is_int(n, 2, "both reported removed");

	make_pointer("t-1-0002", "FAIL");
	fx_path(ptr, sizeof(ptr), "%s/t-1-0002.vmdk", xclone_dir);
	n = 0;
	ok(ag_task_remove_pointer(&cfg, ptr, "t-1-0002", count_removed, &n, &e) == 0 &&
	   access(ptr, F_OK) != 0 && n == 2, "vmkfstools -U fails: files unlinked instead");

	fx_path(rdm, sizeof(rdm), "%s/t-1-0003-rdm.vmdk", xclone_dir);
	fx_write_str(rdm, "half made");
	fx_path(ptr, sizeof(ptr), "%s/t-1-0003.vmdk", xclone_dir);
	n = 0;
	ok(ag_task_remove_pointer(&cfg, ptr, "t-1-0003", count_removed, &n, &e) == 0 &&
	   access(rdm, F_OK) != 0 && n == 1, "a mapping file without descriptor is removed");
	n = 0;
	ok(ag_task_remove_pointer(&cfg, ptr, "t-1-0003", count_removed, &n, &e) == 0 && n == 0,
	   "nothing there: nothing reported");

	fx_path(outside, sizeof(outside), "%s/victim.vmdk", fx_tmpdir());
	fx_write_str(outside, "keep me");
	ok(ag_task_remove_pointer(&cfg, outside, "victim", NULL, NULL, &e) == XP_INTERNAL &&
	   access(outside, F_OK) == 0, "a pointer outside volumes/*/.xclone is refused, untouched");
	fx_path(ptr, sizeof(ptr), "%s/volumes/5f69774e-f1031e44/.xclone/../.xclone/t-1-0004.vmdk", vmfs);
	ok(ag_task_remove_pointer(&cfg, ptr, "t-1-0004", NULL, NULL, &e) == XP_INTERNAL,
	   "a pointer path with '..' is refused");
	fx_path(ptr, sizeof(ptr), "%s/t-1-0005.vmdk", xclone_dir);
	ok(ag_task_remove_pointer(&cfg, ptr, "t-1-0006", NULL, NULL, &e) == XP_INTERNAL,
	   "a pointer of another task is refused");
}

static void test_clean_and_gc(void)
{
	struct xp_error e = { 0 };
	struct xp_task t;
	char old[AG_TASK_ID_MAX + 1], young[AG_TASK_ID_MAX + 1], run[AG_TASK_ID_MAX + 1];
	char orphan[AG_TASK_ID_MAX + 1], path[4096], got[AG_TASK_ID_MAX + 1];
	bool found = true;
	int n = 0, fd;
	pid_t holder;

	fx_path(cfg.state_dir, sizeof(cfg.state_dir), "%s/state3", fx_tmpdir());
	ag_store_create(&store, &cfg, &e);

	/* task.clean's work: pointer files, key and folder. */
	fd = new_task(old, XP_TASK_FAILED, "naa.g1");
	close(fd);
	ag_task_read(&store, old, &t, &e);
	snprintf(t.key, sizeof(t.key), "k-old");
	ag_task_write(&store, &t, &e);
	ag_key_bind(&store, "k-old", old, &e);
	make_pointer(old, "descriptor");
	ok(ag_task_clean(&store, &t, count_removed, &n, &e) == 0, "clean: %s", e.message);
	is_int(n, 3, "clean reports descriptor, mapping file and task folder");
	fx_path(path, sizeof(path), "%s/tasks/%s", cfg.state_dir, old);
	ok(access(path, F_OK) != 0, "task folder gone");
	ok(ag_key_lookup(&store, "k-old", got, &found, &e) == 0 && !found, "key gone");
	ok(ag_task_read(&store, old, &t, &e) == XP_TASK_NOT_FOUND, "task gone");

	/* GC: expired finished tasks go, young ones and live ones stay, orphans become lost. */
	cfg.task_retention_s = 60;
	fd = new_task(old, XP_TASK_SUCCEEDED, "naa.g2");
	close(fd);
	make_pointer(old, "descriptor");
	ag_task_read(&store, old, &t, &e);
	t.ended_ms -= 61 * 1000;
	ag_task_write(&store, &t, &e);
	fd = new_task(young, XP_TASK_CANCELED, "naa.g3");
	close(fd);
	fd = new_task(run, XP_TASK_RUNNING, "naa.g4");
	close(fd);
	holder = hold_lock(run);
	fd = new_task(orphan, XP_TASK_RUNNING, "naa.g5");
	close(fd);
	ok(ag_store_gc(&store, ag_now_ms(), &e) == 0, "gc runs");
	ok(ag_task_read(&store, old, &t, &e) == XP_TASK_NOT_FOUND, "expired task cleaned");
	fx_path(path, sizeof(path), "%s/%s.vmdk", xclone_dir, old);
	ok(access(path, F_OK) != 0, "with its pointer file");
	ok(ag_task_read(&store, young, &t, &e) == 0, "young finished task kept");
	ok(ag_task_read(&store, run, &t, &e) == 0 && t.state == XP_TASK_RUNNING, "live task kept");
	ok(ag_task_read(&store, orphan, &t, &e) == 0 && t.state == XP_TASK_LOST,
	   "orphan settled as lost");
	ok(ag_store_gc(&store, ag_now_ms() + 3600 * 1000, &e) == 0 &&
	   ag_task_read(&store, young, &t, &e) == XP_TASK_NOT_FOUND &&
	   ag_task_read(&store, orphan, &t, &e) == XP_TASK_NOT_FOUND,
	   "an hour later: the canceled and the lost task are cleaned");
	ok(ag_task_read(&store, run, &t, &e) == 0, "the live task is never cleaned");
	stop(holder);
}

/* --- NO_SPACE ------------------------------------------------------------------ */

/* A record that needs several KiB: a full stderr tail and message. */
static void grow(struct xp_task *t, int percent)
{
	memset(t->stderr_tail, 'x', XP_STDERR_TAIL_MAX);
	t->stderr_tail[XP_STDERR_TAIL_MAX] = '\0';
	memset(t->message, 'm', XP_MESSAGE_MAX);
	t->message[XP_MESSAGE_MAX] = '\0';
	t->percent = percent;
}

/*
 * In a child with a 1 KiB file size limit (SIGXFSZ ignored, so writes fail with
 * EFBIG): a big record cannot be written. Exit status bits name what went wrong.
 */
static int rlimit_child(const char *id)
{
	struct xp_error e = { 0 };
	struct xp_task t, back;
	struct rlimit rl = { 1024, 1024 };
	int bad = 0;

	signal(SIGXFSZ, SIG_IGN);
	if (ag_task_read(&store, id, &t, &e) != 0 || setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 64;
	grow(&t, 55);
	if (ag_task_write(&store, &t, &e) != XP_NO_SPACE)
		bad |= 1;
	if (strstr(e.message, "no space") == NULL)
		bad |= 2;
	if (ag_task_read(&store, id, &back, &e) != 0 || back.percent != 0 || back.message[0])
		bad |= 4;
	return bad;
}

static void test_no_space_rlimit(void)
{
	char id[AG_TASK_ID_MAX + 1];
	int fd = new_task(id, XP_TASK_RUNNING, "naa.full"), st = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(rlimit_child(id));
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) != 64, "RLIMIT_FSIZE child ran");
	ok(WIFEXITED(st) && (WEXITSTATUS(st) & 1) == 0, "RLIMIT_FSIZE: write refused with NO_SPACE");
	ok(WIFEXITED(st) && (WEXITSTATUS(st) & 2) == 0, "RLIMIT_FSIZE: message says no space");
	ok(WIFEXITED(st) && (WEXITSTATUS(st) & 4) == 0, "RLIMIT_FSIZE: old record intact");
	close(fd);
}

/* Fills the file system holding path. */
static void fill_up(const char *path)
{
	char buf[4096];
	int fd = open(path, O_WRONLY | O_CREAT, 0600);

	memset(buf, 'f', sizeof(buf));
	while (fd >= 0 && write(fd, buf, sizeof(buf)) > 0)
		;
	if (fd >= 0)
		close(fd);
}

static void test_no_space_tmpfs(void)
{
	char mnt[4096], fill[4096], id[AG_TASK_ID_MAX + 1], id2[AG_TASK_ID_MAX + 1];
	char old_state[sizeof(cfg.state_dir)];
	struct xp_error e = { 0 };
	struct xp_task t, back;
	int fd, fd2 = -1, rc;

	fx_path(mnt, sizeof(mnt), "%s/tiny", fx_tmpdir());
	fx_mkdirs(mnt);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=128k") != 0) {
		ok(1, "# SKIP tmpfs cannot be mounted here (%s); the RLIMIT_FSIZE case covers it",
		   strerror(errno));
		return;
	}
	memcpy(old_state, cfg.state_dir, sizeof(old_state));
	fx_path(cfg.state_dir, sizeof(cfg.state_dir), "%s/state", mnt);
	ag_store_create(&store, &cfg, &e);
	fd = new_task(id, XP_TASK_RUNNING, "naa.tmpfs");
	fx_path(fill, sizeof(fill), "%s/filler", mnt);
	fill_up(fill);
	ag_task_read(&store, id, &t, &e);
	grow(&t, 77);
	ok(ag_task_write(&store, &t, &e) == XP_NO_SPACE, "tmpfs full: NO_SPACE (%s)", e.message);
	ok(ag_task_read(&store, id, &back, &e) == 0 && back.percent == 0,
	   "tmpfs full: the old record is intact");
	rc = ag_task_create(&store, ag_now_ms(), id2, &fd2, &e);
	if (rc == 0) {
		record(&back, id2, XP_TASK_QUEUED, "naa.tmpfs2");
		grow(&back, 0);
		rc = ag_task_write(&store, &back, &e);
		close(fd2);
	}
	is_int(rc, XP_NO_SPACE, "tmpfs full: a new task cannot be recorded either");
	unlink(fill);
	ok(ag_task_write(&store, &t, &e) == 0 && ag_task_read(&store, id, &back, &e) == 0 &&
	   back.percent == 77, "space back: the write works");
	close(fd);
	umount2(mnt, MNT_DETACH);
	memcpy(cfg.state_dir, old_state, sizeof(old_state));
	ag_store_create(&store, &cfg, &e);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "-U") == 0)
		return fake_delete(argv[2]);
	if (realpath("/proc/self/exe", self) == NULL) {
		perror("realpath");
		return 2;
	}
	setup();
	test_open_creates_nothing();
	test_layout_and_records();
	test_liveness();
	test_cancel_request();
	test_keys();
	test_key_race();
	test_census_and_list();
	test_pointer_removal();
	test_clean_and_gc();
	test_no_space_rlimit();
	test_no_space_tmpfs();
	return tap_done();
}
