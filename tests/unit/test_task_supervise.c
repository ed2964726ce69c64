/*
 * Unit tests of agent/task_supervise.c with a fake vmkfstools and a fake vsish:
 * this binary, reached through symlinks named "vmkfstools" and "vsish" in the
 * test's temp folder (spawn passes the configured path as argv[0], so the fake
 * knows its role and its folder). The fake clone's behaviour is the source
 * file's name: ok, fast, fail40, hang, stubborn, silent, stall, stderr, killed.
 *
 * No timing assertion is tight: limits only catch hangs, and the throttle is
 * checked by counting writes against the elapsed time (a slower machine only
 * allows more writes).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_fixture.h"
#include "task_supervise.h"
#include "tap.h"

static char self[4096];

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the fakes ------------------------------------------------------------------ */

/* <folder of argv0>/counter: the clone-write counter both fakes share. */
static void counter_path(const char *argv0, char *buf, size_t cap)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", argv0);
	snprintf(buf, cap, "%s/counter", dirname(tmp));
}

static long counter_get(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int fake_vsish(const char *argv0, int argc, char **argv)
{
	char path[4096];
	long v;

	counter_path(argv0, path, sizeof(path));
	v = counter_get(path);
	if (argc != 4 || strcmp(argv[1], "-e") != 0 || v < 0) {
		fprintf(stderr, "Error: mal-formed path\n");
		return 1;
	}
	printf("scsi device stats {\n   commands:100\n   cloneWriteOps:%ld\n   cloneReadOps:0\n}\n", v);
	return 0;
}

static void out(const char *s)
{
	(void)!write(1, s, strlen(s));
}

static void progress(int from, int to, int pause_ms)
{
	char line[32];

	for (int p = from; p <= to; p++) {
		snprintf(line, sizeof(line), "\rClone: %d%% done.", p);
		out(line);
		if (pause_ms)
			sleep_ms(pause_ms);
	}
}

/* Pointer files, as `vmkfstools -d rdm:` makes them before copying. */
static void make_pointer(const char *ptr)
{
	char rdm[4096];
	int fd = open(ptr, O_WRONLY | O_CREAT | O_EXCL, 0600);

	if (fd >= 0)
		close(fd);
	snprintf(rdm, sizeof(rdm), "%.*s-rdm.vmdk", (int)(strlen(ptr) - 5), ptr);
	fd = open(rdm, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd >= 0)
		close(fd);
}

static int fake_clone(const char *argv0, const char *src, const char *ptr)
{
	char mode[64], tmp[4096], cpath[4096];
	long n;

	snprintf(tmp, sizeof(tmp), "%s", src);
	snprintf(mode, sizeof(mode), "%s", basename(tmp));
	*strrchr(mode, '.') = '\0';
	counter_path(argv0, cpath, sizeof(cpath));
	if (strcmp(mode, "silent") == 0)
		for (;;)
			pause();
	out("Destination disk format: raw disk mapping to '/x'\nCloning disk 'src'...\n");
	make_pointer(ptr);
	if (strcmp(mode, "fail40") == 0) {
		progress(0, 40, 1);
		fprintf(stderr, "DISKLIB-LIB   : something went wrong\n");
		out("Failed to clone disk: Input/output error (327689).\n");
		return 1;
	}
	if (strcmp(mode, "hang") == 0 || strcmp(mode, "stubborn") == 0) {
		if (mode[0] == 's')
			signal(SIGTERM, SIG_IGN);
		progress(0, 5, 0);
		for (;;)
			pause();
	}
	if (strcmp(mode, "killed") == 0) {
		progress(0, 3, 0);
		kill(getpid(), SIGKILL);
	}
	if (strcmp(mode, "stall") == 0) {
		progress(0, 1, 0);
		sleep_ms(3000);
	}
	if (strcmp(mode, "stderr") == 0) {
		for (int i = 0; i < 3000; i++)
			fprintf(stderr, "warning %d\n", i);
	}
	progress(0, 100, strcmp(mode, "fast") == 0 ? 4 : 0);
	out("\n");
	n = counter_get(cpath);
	if (n >= 0 && strcmp(mode, "ok") == 0) {
		FILE *f = fopen(cpath, "w");

		fprintf(f, "%ld\n", n + 25); /* the array did the copy */
		fclose(f);
	}
	return 0;
}

/* --- fixture ----------------------------------------------------------------- */

static struct ag_config cfg;
static struct ag_store store;
static char xclone_dir[4096], counter[4096];

static void setup(void)
{
	char path[4096];
	struct xp_error e = { 0 };

	ag_config_defaults(&cfg);
	fx_path(cfg.state_dir, sizeof(cfg.state_dir), "%s/state", fx_tmpdir());
	fx_path(cfg.vmfs_root, sizeof(cfg.vmfs_root), "%s/vmfs", fx_tmpdir());
	fx_path(cfg.vmkfstools_path, sizeof(cfg.vmkfstools_path), "%s/vmkfstools", fx_tmpdir());
	fx_path(cfg.vsish_path, sizeof(cfg.vsish_path), "%s/vsish", fx_tmpdir());
	fx_symlink(self, cfg.vmkfstools_path);
	fx_symlink(self, cfg.vsish_path);
	cfg.cancel_grace_s = 1;
	fx_path(xclone_dir, sizeof(xclone_dir), "%s/volumes/ds-uuid/.xclone", cfg.vmfs_root);
	fx_mkdirs(xclone_dir);
	fx_path(path, sizeof(path), "%s/devices/disks", cfg.vmfs_root);
	fx_mkdirs(path);
	fx_path(counter, sizeof(counter), "%s/counter", fx_tmpdir());
	fx_write_str(counter, "100\n");
	ag_store_create(&store, &cfg, &e);
}

/* A queued task for a fake clone in `mode`; the caller holds its lock (*lock_fd). */
static void new_plan(const char *mode, struct ag_clone_plan *p, int *lock_fd)
{
	struct xp_error e = { 0 };
	struct xp_task t;

	memset(p, 0, sizeof(*p));
	if (ag_task_create(&store, ag_now_ms(), p->task_id, lock_fd, &e) != 0) {
		printf("# create: %s\n", e.message);
		exit(2);
	}
	fx_path(p->source, sizeof(p->source), "%s/volumes/ds-uuid/%s.vmdk", cfg.vmfs_root, mode);
	snprintf(p->device_id, sizeof(p->device_id), "naa.600a0001");
	fx_path(p->device_path, sizeof(p->device_path), "%s/devices/disks/naa.600a0001",
		cfg.vmfs_root);
	fx_path(p->pointer, sizeof(p->pointer), "%s/%s.vmdk", xclone_dir, p->task_id);
	p->size_bytes = 8 << 20;
	xp_task_init(&t);
	snprintf(t.id, sizeof(t.id), "%s", p->task_id);
	snprintf(t.source, sizeof(t.source), "[ds] %s.vmdk", mode);
	snprintf(t.target, sizeof(t.target), "naa.600a0001");
	snprintf(t.pointer, sizeof(t.pointer), "%s", p->pointer);
	t.created_ms = ag_now_ms();
	ag_task_write(&store, &t, &e);
}

/* The supervisor in a forked child (it inherits the lock, as the detached one does). */
static pid_t supervise(const char *mode, struct ag_clone_plan *p)
{
	int lock_fd;
	pid_t pid;

	new_plan(mode, p, &lock_fd);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(ag_supervise_run(&store, p) == 0 ? 0 : 1);
	close(lock_fd);
	return pid;
}

static int reap(pid_t pid)
{
	int st = 0;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Polls the record until pred holds or 30 s pass. */
static bool wait_for(const char *id, struct xp_task *t, bool (*pred)(const struct xp_task *))
{
	struct xp_error e = { 0 };
	int64_t end = mono_ms() + 30000;

	while (mono_ms() < end) {
		if (ag_task_read(&store, id, t, &e) == 0 && pred(t))
			return true;
		sleep_ms(10);
	}
	return false;
}

static bool is_final(const struct xp_task *t)
{
	return xp_task_state_final(t->state);
}

/* Running past its first progress lines (the fakes that stop print up to 5%). */
static bool is_running(const struct xp_task *t)
{
	return t->state == XP_TASK_RUNNING && t->percent >= 4;
}

static bool has_pointer(const struct ag_clone_plan *p)
{
	return access(p->pointer, F_OK) == 0;
}

/* --- tests ------------------------------------------------------------------- */

static void test_success(void)
{
	struct ag_clone_plan p;
	struct xp_task t;
	pid_t pid = supervise("ok", &p);

	is_int(reap(pid), 0, "success: supervisor exits 0");
	ok(wait_for(p.task_id, &t, is_final) && t.state == XP_TASK_SUCCEEDED, "succeeded");
	is_int(t.percent, 100, "100%%");
	ok(t.has_exit_code && t.exit_code == 0 && !t.has_signal, "exit code 0, no signal");
	ok(t.has_pid && t.pid > 1 && t.has_started_ms && t.has_ended_ms &&
	   t.started_ms >= t.created_ms && t.ended_ms >= t.started_ms, "pid and times recorded");
	ok(t.has_bytes && t.bytes == 8 << 20, "bytes = source size");
	ok(t.has_xcopy_used && t.xcopy_used, "clone-write counter grew: xcopy_used true");
	ok(!t.has_error_code && t.message[0] == '\0', "no error");
	ok(has_pointer(&p), "the pointer file stays for task.clean");
}

static void test_no_vsish(void)
{
	struct ag_clone_plan p;
	struct xp_task t;
	pid_t pid;

	unlink(counter); /* the fake vsish now fails */
	pid = supervise("ok", &p);
	reap(pid);
	ok(wait_for(p.task_id, &t, is_final) && t.state == XP_TASK_SUCCEEDED && !t.has_xcopy_used,
	   "vsish cannot tell: xcopy_used null");
	fx_write_str(counter, "100\n");
	pid = supervise("fast", &p);
	reap(pid);
	ok(wait_for(p.task_id, &t, is_final) && t.has_xcopy_used && !t.xcopy_used,
	   "counter unchanged: xcopy_used false");
}

static void test_failure(void)
{
	struct ag_clone_plan p;
	struct xp_task t;
	pid_t pid = supervise("fail40", &p);

	reap(pid);
	ok(wait_for(p.task_id, &t, is_final) && t.state == XP_TASK_FAILED, "fail at 40%%: failed");
	is_int(t.percent, 40, "percent where it failed");
	ok(t.has_error_code && t.error_code == XP_CLONE_FAILED, "error code CLONE_FAILED");
	is_str(t.message, "Failed to clone disk: Input/output error (327689).",
	       "message is vmkfstools' failure line");
	ok(t.has_exit_code && t.exit_code == 1, "exit code 1");
	ok(strstr(t.stderr_tail, "DISKLIB-LIB   : something went wrong") != NULL, "stderr tail kept");

	pid = supervise("killed", &p);
	reap(pid);
	ok(wait_for(p.task_id, &t, is_final) && t.state == XP_TASK_FAILED && t.has_signal &&
	   t.signal == SIGKILL && !t.has_exit_code, "killed vmkfstools: failed with its signal");
	is_str(t.message, "vmkfstools was killed by signal 9", "message names the signal");
}

static void test_exec_failure(void)
{
	struct ag_clone_plan p;
	struct xp_task t;
	char saved[sizeof(cfg.vmkfstools_path)];
	pid_t pid;

	memcpy(saved, cfg.vmkfstools_path, sizeof(saved));
	fx_path(cfg.vmkfstools_path, sizeof(cfg.vmkfstools_path), "%s/no-such-tool", fx_tmpdir());
	pid = supervise("ok", &p);
	reap(pid);
	memcpy(cfg.vmkfstools_path, saved, sizeof(saved));
	ok(wait_for(p.task_id, &t, is_final) && t.state == XP_TASK_FAILED && t.has_error_code &&
	   t.error_code == XP_HOST_COMMAND_FAILED, "vmkfstools missing: HOST_COMMAND_FAILED");
	ok(strstr(t.message, "cannot run vmkfstools") != NULL, "message: %s", t.message);
	ok(!t.has_started_ms && !t.has_pid, "it never started: no start time, no pid");
}

static void test_stderr_tail(void)
{
	struct ag_clone_plan p;
	struct xp_task t;
	pid_t pid = supervise("stderr", &p);

	reap(pid);
	ok(wait_for(p.task_id, &t, is_final) && t.state == XP_TASK_SUCCEEDED, "noisy stderr: succeeded");
	ok(strlen(t.stderr_tail) <= XP_STDERR_TAIL_MAX && strlen(t.stderr_tail) > 1000,
	   "stderr tail bounded (%zu bytes)", strlen(t.stderr_tail));
	ok(strstr(t.stderr_tail, "warning 2999\n") != NULL && strstr(t.stderr_tail, "warning 0\n") == NULL,
	   "it is the tail");
}

static void test_cancel(void)
{
	struct ag_clone_plan p;
	struct xp_task t;
	struct xp_error e = { 0 };
	pid_t pid = supervise("hang", &p);

	ok(wait_for(p.task_id, &t, is_running), "hanging clone shows running");
	ok(has_pointer(&p), "it made its pointer files");
	ag_task_request_cancel(&store, p.task_id, &e);
	is_int(reap(pid), 0, "supervisor ends after the cancel");
	ok(wait_for(p.task_id, &t, is_final) && t.state == XP_TASK_CANCELED, "canceled");
	ok(t.has_signal && t.signal == SIGTERM, "vmkfstools got SIGTERM");
	is_str(t.message, "canceled by task.cancel", "message");
	ok(!has_pointer(&p), "partial pointer files removed");
	is_int(t.percent, 5, "percent where it stopped");

	pid = supervise("stubborn", &p);
	ok(wait_for(p.task_id, &t, is_running), "stubborn clone running");
	ag_task_request_cancel(&store, p.task_id, &e);
	reap(pid);
	ok(wait_for(p.task_id, &t, is_final) && t.state == XP_TASK_CANCELED && t.has_signal &&
	   t.signal == SIGKILL, "SIGTERM ignored: SIGKILL after cancel_grace_seconds");

	pid = supervise("hang", &p);
	ok(wait_for(p.task_id, &t, is_running), "another hanging clone running");
	kill(pid, SIGTERM); /* the supervisor itself is asked to stop */
	is_int(reap(pid), 0, "SIGTERM to the supervisor: it ends cleanly");
	ok(wait_for(p.task_id, &t, is_final) && t.state == XP_TASK_CANCELED && !has_pointer(&p),
	   "SIGTERM to the supervisor cancels the clone and removes its pointer files");
	is_str(t.message, "canceled: the supervisor received SIGTERM", "message says why");

	pid = supervise("silent", &p);
	sleep_ms(200); /* vmkfstools runs but has printed nothing: its pid is not recorded yet */
	ag_task_request_cancel(&store, p.task_id, &e);
	reap(pid);
	ok(wait_for(p.task_id, &t, is_final) && t.state == XP_TASK_CANCELED && t.has_signal,
	   "a clone that printed nothing can be canceled too");
}

static void test_cancel_before_start(void)
{
	struct ag_clone_plan p;
	struct xp_task t;
	struct xp_error e = { 0 };
	int lock_fd;
	pid_t pid;

	new_plan("ok", &p, &lock_fd);
	ag_task_request_cancel(&store, p.task_id, &e);
	pid = fork();
	if (pid == 0)
		_exit(ag_supervise_run(&store, &p) == 0 ? 0 : 1);
	close(lock_fd);
	reap(pid);
	ok(wait_for(p.task_id, &t, is_final) && t.state == XP_TASK_CANCELED && !t.has_pid &&
	   !t.has_started_ms, "cancel before start: canceled, vmkfstools never ran");
	ok(!has_pointer(&p), "no pointer file made");
}

/* Counts status.json replacements while a fast clone runs: at most one per 100 ms. */
static void test_throttle(void)
{
	struct ag_clone_plan p;
	struct xp_task t;
	char dir[4096], buf[4096];
	int lock_fd, in, writes = 0;
	int64_t start, elapsed;
	pid_t pid;

	new_plan("fast", &p, &lock_fd);
	ag_task_file(&store, p.task_id, NULL, dir, sizeof(dir), NULL);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	/* Both directions: the kernel merges back-to-back identical events. */
	if (in < 0 || inotify_add_watch(in, dir, IN_MOVED_FROM | IN_MOVED_TO) < 0) {
		ok(1, "# SKIP inotify unavailable: %s", strerror(errno));
		close(lock_fd);
		return;
	}
	start = mono_ms();
	pid = fork();
	if (pid == 0)
		_exit(ag_supervise_run(&store, &p) == 0 ? 0 : 1);
	close(lock_fd);
	reap(pid);
	elapsed = mono_ms() - start;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n <= 0)
			break;
		for (char *q = buf; q < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)(void *)q;

			writes += (ev->mask & IN_MOVED_TO) && ev->len && strcmp(ev->name, "status.json") == 0;
			q += sizeof(*ev) + ev->len;
		}
	}
	close(in);
	ok(wait_for(p.task_id, &t, is_final) && t.state == XP_TASK_SUCCEEDED, "fast clone succeeded");
	ok(writes >= 2, "records were written while it ran (%d)", writes);
	ok(writes <= elapsed / AG_SUPERVISE_WRITE_MS + 2,
	   "101 progress lines in %lld ms gave %d writes: at most one per 100 ms, plus the final",
	   (long long)elapsed, writes);
}

/*
 * A percent change followed by silence must reach the record. vmkfstools draws
 * "\rClone: 1% done." and the piece ends only at the next '\r'; the supervisor
 * takes the percent from spawn's partial-line hook meanwhile.
 */
static void test_change_then_stall(void)
{
	struct ag_clone_plan p;
	struct xp_task t;
	pid_t pid = supervise("stall", &p);
	int64_t percent = -1, end = mono_ms() + 2500;

	/* vmkfstools prints 1% and then nothing for 3 s. */
	while (percent < 1 && mono_ms() < end) {
		struct xp_error e = { 0 };

		if (ag_task_read(&store, p.task_id, &t, &e) == 0 && t.state == XP_TASK_RUNNING)
			percent = t.percent;
		sleep_ms(10);
	}
	is_int(percent, 1, "1%% is in the record while vmkfstools is silent");
	reap(pid);
	ok(wait_for(p.task_id, &t, is_final) && t.state == XP_TASK_SUCCEEDED, "then it completes");
}

/* The real detach: ag_supervise_start, then the caller lets go of the lock. */
static void test_detached(void)
{
	struct ag_clone_plan p;
	struct xp_task t;
	struct xp_error e = { 0 };
	int lock_fd;
	pid_t sup = 0;

	new_plan("ok", &p, &lock_fd);
	ok(ag_supervise_start(&store, &p, lock_fd, &sup, &e) == 0 && sup > 1, "detached: %s",
	   e.message);
	close(lock_fd);
	ok(ag_task_supervised(&store, p.task_id) || (ag_task_read(&store, p.task_id, &t, &e) == 0 &&
						      xp_task_state_final(t.state)),
	   "the lock passed to the supervisor");
	ok(wait_for(p.task_id, &t, is_final) && t.state == XP_TASK_SUCCEEDED, "detached clone succeeded");
	ok(waitpid(sup, NULL, WNOHANG) < 0 && errno == ECHILD, "the supervisor is not our child");

	/* A supervisor killed with SIGKILL: its task reads as lost, never running forever. */
	new_plan("hang", &p, &lock_fd);
	ag_supervise_start(&store, &p, lock_fd, &sup, &e);
	close(lock_fd);
	ok(wait_for(p.task_id, &t, is_running), "hanging detached clone running");
	kill(sup, SIGKILL);
	for (int i = 0; i < 500 && ag_task_supervised(&store, p.task_id); i++)
		sleep_ms(10);
	ok(ag_task_load(&store, p.task_id, &t, &e) == 0 && t.state == XP_TASK_LOST,
	   "supervisor killed: lost");
	if (t.has_pid)
		kill(-(pid_t)t.pid, SIGKILL); /* the orphaned fake vmkfstools */
}

int main(int argc, char **argv)
{
	const char *role = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	if (strcmp(role, "vsish") == 0)
		return fake_vsish(argv[0], argc, argv);
	if (strcmp(role, "vmkfstools") == 0 && argc == 6 && strcmp(argv[1], "-i") == 0)
		return fake_clone(argv[0], argv[2], argv[5]);
	if (strcmp(role, "vmkfstools") == 0)
		return 0; /* -U: leave the unlinking to the fallback */
	if (realpath("/proc/self/exe", self) == NULL)
		return 2;
	setup();
	test_success();
	test_no_vsish();
	test_failure();
	test_exec_failure();
	test_stderr_tail();
	test_cancel();
	test_cancel_before_start();
	test_throttle();
	test_change_then_stall();
	test_detached();
	return tap_done();
}
