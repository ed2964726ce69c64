/*
 * Process spawning for the agent: fork + execve with explicit argv and
 * environment, output through pipes read with poll(), a deadline enforced with
 * SIGTERM then SIGKILL, and the double-fork detach used by the task engine.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"

const char *const ag_spawn_default_env[] = {
	"PATH=/bin:/sbin:/usr/bin:/usr/sbin",
	"LC_ALL=C",
	NULL,
};

#define FD_LOOP_CAP 65536  /* last-resort close loop bound */
#define WAIT_TICK_MS 100   /* re-check the child while its pipes stay open */

/* --- descriptors ----------------------------------------------------------- */

static void close_range_loop(int lo, int hi)
{
	for (int fd = lo; fd <= hi; fd++)
		close(fd);
}

/* Linux getdents64 record, read straight from the syscall (no allocation). */
struct dirent64_rec {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/*
 * Closes what /proc/self/fd lists. Closing while listing is safe: procfs walks
 * that folder by fd number, not by position.
 */
int ag_close_fds_proc(int lowfd, int keep)
{
	char buf[2048];
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n;

	if (dir < 0)
		return -1;
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64_rec *d = (struct dirent64_rec *)(void *)(buf + off);
			int fd = 0;
			bool num = d->name[0] != '\0';

			for (const char *p = d->name; *p; p++) {
				num = num && *p >= '0' && *p <= '9';
				fd = num ? fd * 10 + (*p - '0') : fd;
			}
			if (num && fd >= lowfd && fd != keep && fd != dir)
				close(fd);
			off += d->reclen;
		}
	}
	close(dir);
	return n == 0 ? 0 : -1;
}

static int try_close_range(int lo, int hi)
{
#ifdef SYS_close_range
	if (lo > hi)
		return 0;
	return (int)syscall(SYS_close_range, (unsigned)lo, (unsigned)hi, 0u);
#else
	(void)lo, (void)hi;
	return -1;
#endif
}

void ag_close_fds_rlimit(int lowfd, int keep)
{
	struct rlimit rl;
	int hi = FD_LOOP_CAP;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)FD_LOOP_CAP)
		hi = (int)rl.rlim_cur;
	if (keep >= lowfd) {
		close_range_loop(lowfd, keep - 1);
		close_range_loop(keep + 1, hi);
	} else {
		close_range_loop(lowfd, hi);
	}
}

void ag_close_fds_from(int lowfd, int keep)
{
	if (keep < lowfd) {
		if (try_close_range(lowfd, INT32_MAX) == 0)
			return;
	} else if (try_close_range(lowfd, keep - 1) == 0 &&
		   try_close_range(keep + 1, INT32_MAX) == 0) {
		return;
	}
	if (ag_close_fds_proc(lowfd, keep) == 0)
		return;
	ag_close_fds_rlimit(lowfd, keep);
}

/* Signal dispositions back to default and an empty mask: exec keeps SIG_IGN otherwise. */
static void reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < 32; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Moves fd above 2 (close-on-exec), so dup2 onto 0-2 cannot clobber it. -1 on failure. */
static int lift_fd(int fd)
{
	return fd > 2 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* dup2 that also clears close-on-exec when src is already target. */
static int place_fd(int src, int target)
{
	if (src == target)
		return fcntl(target, F_SETFD, 0);
	return dup2(src, target) < 0 ? -1 : 0;
}

/* --- child side of ag_spawn_run --------------------------------------------- */

struct child_fds {
	int devnull, out_w, err_w, status_w;
};

/* Runs in the forked child; only async-signal-safe calls. Never returns. */
static void child_exec(const struct ag_spawn_opts *o, struct child_fds f)
{
	int e;

	if (o->own_process_group)
		(void)setpgid(0, 0);
	reset_signals();
	f.devnull = lift_fd(f.devnull);
	f.out_w = lift_fd(f.out_w);
	f.err_w = lift_fd(f.err_w);
	f.status_w = lift_fd(f.status_w);
	if (f.devnull < 0 || f.out_w < 0 || f.err_w < 0 || f.status_w < 0 ||
	    place_fd(f.devnull, 0) || place_fd(f.out_w, 1) || place_fd(f.err_w, 2))
		goto fail;
	ag_close_fds_from(3, f.status_w);
	execve(o->argv[0], (char *const *)o->argv,
	       (char *const *)(o->envp ? o->envp : ag_spawn_default_env));
fail:
	e = errno;
	(void)!write(f.status_w, &e, sizeof(e));
	_exit(127);
}

/* --- parent side: output --------------------------------------------------- */

struct tail {
	char *buf;
	size_t cap, len, dropped;
};

struct line_split {
	char buf[AG_SPAWN_LINE_MAX];
	size_t len;
};

struct stream {
	int fd;                 /* -1 once closed */
	enum ag_stream id;
	struct tail tail;
	struct line_split line;
};

struct run {
	const struct ag_spawn_opts *o;
	struct ag_spawn_result *r;
	struct stream s[2];
	bool reaped;
	bool term_sent, kill_sent;
	int64_t deadline, kill_at; /* ms on the monotonic clock; 0: none */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keeps the last cap bytes seen. */
static void tail_add(struct tail *t, const char *p, size_t n)
{
	if (n >= t->cap) {
		t->dropped += t->len + n - t->cap;
		memcpy(t->buf, p + n - t->cap, t->cap);
		t->len = t->cap;
		return;
	}
	if (t->len + n > t->cap) {
		size_t cut = t->len + n - t->cap;

		memmove(t->buf, t->buf + cut, t->len - cut);
		t->len -= cut;
		t->dropped += cut;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

static void signal_child(struct run *u, int sig)
{
	pid_t target = u->o->own_process_group ? -u->r->pid : u->r->pid;

	if (!u->reaped)
		(void)kill(target, sig);
}

/* Starts the SIGTERM-then-SIGKILL sequence once. */
static void begin_stop(struct run *u)
{
	int grace = u->o->kill_grace_ms > 0 ? u->o->kill_grace_ms : AG_SPAWN_GRACE_DEFAULT_MS;

	if (u->term_sent)
		return;
	signal_child(u, SIGTERM);
	u->term_sent = true;
	u->kill_at = now_ms() + grace;
}

static void line_emit(struct run *u, struct stream *s)
{
	size_t n = s->line.len;

	s->line.len = 0;
	if (n == 0 || u->o->on_line == NULL)
		return;
	if (u->o->on_line(u->o->ctx, s->id, s->line.buf, n) != 0 && !u->r->stopped) {
		u->r->stopped = true;
		begin_stop(u);
	}
}

static void line_add(struct run *u, struct stream *s, const char *p, size_t n)
{
	if (u->o->on_line == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' || p[i] == '\r') {
			line_emit(u, s);
			continue;
		}
		if (s->line.len == sizeof(s->line.buf))
			line_emit(u, s);
		s->line.buf[s->line.len++] = p[i];
	}
}

/* Reads what is available; closes the stream at EOF or on error. */
static void stream_read(struct run *u, struct stream *s)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(s->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			line_emit(u, s);
			close(s->fd);
			s->fd = -1;
			return;
		}
		tail_add(&s->tail, buf, (size_t)n);
		line_add(u, s, buf, (size_t)n);
		if (u->o->on_partial != NULL && u->o->on_line != NULL && s->line.len > 0)
			(void)u->o->on_partial(u->o->ctx, s->id, s->line.buf, s->line.len);
	}
}

/* --- parent side: waiting -------------------------------------------------- */

static int reap(struct run *u, int flags, struct ag_error *err)
{
	int status;
	pid_t got;

	do {
		got = waitpid(u->r->pid, &status, flags);
	} while (got < 0 && errno == EINTR);
	if (got < 0)
		return ag_error_set(err, AG_SPAWN_E_SYS, "waitpid: %s (is SIGCHLD ignored?)",
				    strerror(errno));
	if (got == 0)
		return 0;
	u->reaped = true;
	u->r->exited = WIFEXITED(status);
	u->r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	u->r->signaled = WIFSIGNALED(status);
	u->r->term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	return 0;
}

/* Deadline bookkeeping; returns how long the next wait may last (ms, -1 = forever). */
static int next_wait(struct run *u)
{
	int64_t now = now_ms(), until = -1;

	if (u->deadline && !u->term_sent && now >= u->deadline) {
		u->r->timed_out = true;
		begin_stop(u);
	}
	if (u->term_sent && !u->kill_sent && now >= u->kill_at) {
		signal_child(u, SIGKILL);
		u->kill_sent = true;
	}
	if (u->deadline && !u->term_sent)
		until = u->deadline;
	else if (u->term_sent && !u->kill_sent)
		until = u->kill_at;
	if (until < 0)
		return -1;
	return until > now ? (int)(until - now) : 0;
}

static int min_wait(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* One round: wait for output (or a tick), then see whether the child ended. */
static int run_round(struct run *u, int *sleep_ms, struct ag_error *err)
{
	struct pollfd p[2];
	nfds_t np = 0;
	int wait = next_wait(u), rc;

	for (int i = 0; i < 2; i++) {
		if (u->s[i].fd >= 0) {
			p[np].fd = u->s[i].fd;
			p[np].events = POLLIN;
			p[np].revents = 0;
			np++;
		}
	}
	/* Pipes open: the child may still exit while a grandchild holds them. */
	wait = min_wait(wait, np ? WAIT_TICK_MS : *sleep_ms);
	rc = poll(np ? p : NULL, np, wait);
	if (rc < 0 && errno != EINTR)
		return ag_error_set(err, AG_SPAWN_E_SYS, "poll: %s", strerror(errno));
	for (int i = 0; i < 2 && rc > 0; i++)
		if (u->s[i].fd >= 0)
			stream_read(u, &u->s[i]);
	if (np == 0 && *sleep_ms < 50)
		*sleep_ms *= 2;
	return reap(u, WNOHANG, err);
}

static int run_loop(struct run *u, struct ag_error *err)
{
	int sleep_ms = 1, rc = 0;

	while (rc == 0 && !u->reaped)
		rc = run_round(u, &sleep_ms, err);
	/* Drain what the child wrote before it ended; stop there even if a grandchild
	 * keeps the pipes open. */
	for (int i = 0; i < 2; i++) {
		if (u->s[i].fd >= 0) {
			stream_read(u, &u->s[i]);
			line_emit(u, &u->s[i]);
			if (u->s[i].fd >= 0)
				close(u->s[i].fd);
			u->s[i].fd = -1;
		}
	}
	if (rc != 0 && !u->reaped) {
		signal_child(u, SIGKILL);
		(void)reap(u, 0, NULL);
	}
	return rc;
}

/* --- ag_spawn_run ---------------------------------------------------------- */

/* Reads the exec status pipe: 0 when exec succeeded (EOF), else the child's errno. */
static int exec_status(int fd)
{
	int e = 0;
	ssize_t n;

	do {
		n = read(fd, &e, sizeof(e));
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(e) ? (e ? e : EIO) : 0;
}

static int check_opts(const struct ag_spawn_opts *o, struct ag_error *err)
{
	if (o->argv == NULL || o->argv[0] == NULL || o->argv[0][0] != '/')
		return ag_error_set(err, AG_SPAWN_E_ARGS, "program must be an absolute path");
	if (o->timeout_ms < 0 || o->kill_grace_ms < 0)
		return ag_error_set(err, AG_SPAWN_E_ARGS, "negative timeout");
	return 0;
}

static int alloc_tails(struct run *u, size_t cap, struct ag_error *err)
{
	for (int i = 0; i < 2; i++) {
		u->s[i].fd = -1;
		u->s[i].id = i == 0 ? AG_STREAM_STDOUT : AG_STREAM_STDERR;
		u->s[i].tail.cap = cap;
		u->s[i].tail.buf = malloc(cap + 1);
		if (u->s[i].tail.buf == NULL)
			return ag_error_set(err, AG_SPAWN_E_SYS, "out of memory");
	}
	return 0;
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

/* Hands the tails over to the result, NUL-terminated. */
static void give_output(struct run *u)
{
	struct ag_spawn_result *r = u->r;

	u->s[0].tail.buf[u->s[0].tail.len] = '\0';
	u->s[1].tail.buf[u->s[1].tail.len] = '\0';
	r->out = u->s[0].tail.buf, r->out_len = u->s[0].tail.len, r->out_dropped = u->s[0].tail.dropped;
	r->err = u->s[1].tail.buf, r->err_len = u->s[1].tail.len, r->err_dropped = u->s[1].tail.dropped;
	u->s[0].tail.buf = u->s[1].tail.buf = NULL;
}

/* Forks and execs; on success the read ends are in u->s and the pid in u->r. */
static int start_child(struct run *u, struct ag_error *err)
{
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, st[2] = { -1, -1 }, devnull, e;
	pid_t pid;
	int rc = 0;

	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || pipe2(st, O_CLOEXEC)) {
		rc = ag_error_set(err, AG_SPAWN_E_SYS, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = ag_error_set(err, AG_SPAWN_E_SYS, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(u->o, (struct child_fds){ devnull, out[1], errp[1], st[1] });
	u->r->pid = pid;
	if (u->o->own_process_group)
		(void)setpgid(pid, pid); /* also here: no window where -pid names nothing */
	close(st[1]), st[1] = -1;
	e = exec_status(st[0]);
	if (e != 0) {
		(void)reap(u, 0, NULL);
		rc = ag_error_set(err, AG_SPAWN_E_EXEC, "cannot execute %s: %s", u->o->argv[0],
				  strerror(e));
		goto out;
	}
	u->s[0].fd = out[0], out[0] = -1;
	u->s[1].fd = errp[0], errp[0] = -1;
	(void)fcntl(u->s[0].fd, F_SETFL, O_NONBLOCK);
	(void)fcntl(u->s[1].fd, F_SETFL, O_NONBLOCK);
out:
	if (devnull >= 0)
		close(devnull);
	close_pair(out), close_pair(errp), close_pair(st);
	return rc;
}

int ag_spawn_run(const struct ag_spawn_opts *o, struct ag_spawn_result *r, struct ag_error *err)
{
	struct run *u;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = check_opts(o, err);
	if (rc != 0)
		return rc;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return ag_error_set(err, AG_SPAWN_E_SYS, "out of memory");
	u->o = o;
	u->r = r;
	rc = alloc_tails(u, o->capture_max ? o->capture_max : AG_SPAWN_CAPTURE_DEFAULT, err);
	if (rc == 0)
		rc = start_child(u, err);
	if (rc == 0) {
		if (o->timeout_ms > 0)
			u->deadline = now_ms() + o->timeout_ms;
		rc = run_loop(u, err);
	}
	if (rc == 0)
		give_output(u);
	free(u->s[0].tail.buf);
	free(u->s[1].tail.buf);
	free(u);
	if (rc != 0)
		ag_spawn_result_free(r);
	return rc;
}

void ag_spawn_result_free(struct ag_spawn_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->out_len = r->err_len = 0;
}

/* --- ag_daemonize ---------------------------------------------------------- */

/* The detached process: set up, report its pid, run body. Never returns. */
static void detached_main(int (*body)(void *), void *arg, int keep_fd, int report_fd)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t self = getpid();

	report_fd = lift_fd(report_fd);
	devnull = devnull < 0 ? -1 : lift_fd(devnull);
	if (report_fd < 0 || devnull < 0 || chdir("/") != 0 || place_fd(devnull, 0) ||
	    place_fd(devnull, 1) || place_fd(devnull, 2))
		_exit(126);
	reset_signals();
	if (write(report_fd, &self, sizeof(self)) != (ssize_t)sizeof(self))
		_exit(126);
	ag_close_fds_from(3, keep_fd);
	_exit(body(arg) & 0xff);
}

int ag_daemonize(int (*body)(void *arg), void *arg, int keep_fd, pid_t *pid,
		 struct ag_error *err)
{
	int p[2], status;
	pid_t mid, got = 0;
	ssize_t n;

	if (body == NULL || (keep_fd >= 0 && keep_fd <= 2))
		return ag_error_set(err, AG_SPAWN_E_ARGS, "daemonize: no body, or keep_fd is 0-2");
	if (pipe2(p, O_CLOEXEC) != 0)
		return ag_error_set(err, AG_SPAWN_E_SYS, "pipe: %s", strerror(errno));
	mid = fork();
	if (mid < 0) {
		close_pair(p);
		return ag_error_set(err, AG_SPAWN_E_SYS, "fork: %s", strerror(errno));
	}
	if (mid == 0) {
		close(p[0]);
		if (setsid() < 0)
			_exit(126);
		mid = fork(); /* the grandchild is no session leader: it can never get a tty */
		if (mid < 0)
			_exit(126);
		if (mid > 0)
			_exit(0);
		detached_main(body, arg, keep_fd, p[1]);
	}
	close(p[1]);
	do {
		n = read(p[0], &got, sizeof(got));
	} while (n < 0 && errno == EINTR);
	close(p[0]);
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(got) || got <= 0)
		return ag_error_set(err, AG_SPAWN_E_SYS, "detached process failed to start");
	*pid = got;
	return 0;
}
