/*
 * Unit tests of agent/spawn.c. The programs spawned are this test binary itself
 * in helper mode (argv[1] == "--helper"), so each behaviour (output, exit codes,
 * signals, fds, environment, hangs, grandchildren) is exact and needs no shell.
 * Time limits in assertions are generous: they catch hangs, not slowness.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_fixture.h"
#include "spawn.h"
#include "tap.h"

extern char **environ;

static char self[4096];

/* --- helper side ----------------------------------------------------------- */

/*
 * Writes the fds open in this process (except the listing's own) as "0 1 2 ...".
 * Fds at or above the soft RLIMIT_NOFILE are skipped: valgrind keeps its own
 * there, out of the program's reach, and a program cannot open any there.
 */
static void list_fds(FILE *out)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *ent;
	int own = d ? dirfd(d) : -1;
	struct rlimit rl;
	long limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (long)rl.rlim_cur : 1L << 30;

	while (d && (ent = readdir(d)) != NULL)
		if (ent->d_name[0] != '.' && atoi(ent->d_name) != own && atol(ent->d_name) < limit)
			fprintf(out, "%s ", ent->d_name);
	if (d)
		closedir(d);
	fprintf(out, "\n");
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int helper(int argc, char **argv)
{
	const char *mode = argv[2];

	if (strcmp(mode, "args") == 0) {
		for (int i = 3; i < argc; i++)
			printf("[%s]\n", argv[i]);
	} else if (strcmp(mode, "env") == 0) {
		for (char **e = environ; *e; e++)
			printf("%s\n", *e);
	} else if (strcmp(mode, "fds") == 0) {
		list_fds(stdout);
	} else if (strcmp(mode, "stdin") == 0) {
		char buf[64];

		printf("read %zd\n", read(0, buf, sizeof(buf)));
	} else if (strcmp(mode, "progress") == 0) {
		/* vmkfstools style: progress redrawn with '\r', then a final newline */
		for (int p = 0; p <= 100; p += 25) {
			printf("Clone: %d%% done.\r", p);
			fflush(stdout);
		}
		printf("\n");
		fprintf(stderr, "warning one\r\nwarning two");
	} else if (strcmp(mode, "redraw-stall") == 0) {
		/* "\rClone: 7% done." then silence: the piece has no separator yet */
		printf("\rClone: 7%% done.");
		fflush(stdout);
		sleep_ms(300);
		printf("\n");
	} else if (strcmp(mode, "exit") == 0) {
		return atoi(argv[3]);
	} else if (strcmp(mode, "signal") == 0) {
		raise(SIGUSR1);
	} else if (strcmp(mode, "sleep") == 0) {
		printf("sleeping\n");
		fflush(stdout);
		sleep_ms(60000);
	} else if (strcmp(mode, "ignore-term") == 0) {
		signal(SIGTERM, SIG_IGN);
		printf("ignoring\n");
		fflush(stdout);
		sleep_ms(60000);
	} else if (strcmp(mode, "flood") == 0) {
		long n = atol(argv[3]);

		for (long i = 0; i < n; i++)
			putchar('0' + (int)(i % 10));
	} else if (strcmp(mode, "longline") == 0) {
		for (int i = 0; i < 10000; i++)
			putchar('x');
	} else if (strcmp(mode, "ticker") == 0) {
		for (int i = 0;; i++) {
			printf("tick %d\n", i);
			fflush(stdout);
			sleep_ms(20);
		}
	} else if (strcmp(mode, "grandchild") == 0) {
		pid_t pid = fork();

		if (pid == 0) { /* keeps stdout and stderr open long after its parent ends */
			sleep_ms(30000);
			_exit(0);
		}
		printf("%d\n", (int)pid);
	} else if (strcmp(mode, "group") == 0) {
		pid_t pid = fork();

		if (pid == 0) {
			sleep_ms(60000);
			_exit(0);
		}
		printf("%d\n", (int)pid);
		fflush(stdout);
		sleep_ms(60000);
	}
	return 0;
}

/* --- test side ------------------------------------------------------------- */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run(struct ag_spawn_opts *o, struct ag_spawn_result *r, struct ag_error *e)
{
	ag_error_clear(e);
	return ag_spawn_run(o, r, e);
}

/* Gone: no such process, or a zombie nobody reaps (orphans in some containers). */
static bool process_gone(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;
	char *paren;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return true;
	buf[0] = '\0';
	(void)!fgets(buf, sizeof(buf), f);
	fclose(f);
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] == 'Z';
}

static bool wait_gone(pid_t pid, int ms)
{
	for (int64_t end = mono_ms() + ms; mono_ms() < end; sleep_ms(20))
		if (process_gone(pid))
			return true;
	return process_gone(pid);
}

static void test_args_and_env(void)
{
	const char *argv[] = { self, "--helper", "args", "a b", "it's", "\"q\"", "$(reboot)", "x;y", "\\n",
			       "ü☃", "", "*", "`id`", NULL };
	const char *env_argv[] = { self, "--helper", "env", NULL };
	const char *myenv[] = { "A=1", "B=two words", NULL };
	struct ag_spawn_opts o = { .argv = argv };
	struct ag_spawn_result r;
	struct ag_error e;

	setenv("XCLONE_SECRET_TEST", "leak", 1);
	is_int(run(&o, &r, &e), 0, "helper runs");
	ok(r.exited && r.exit_code == 0, "exit 0");
	is_str(r.out, "[a b]\n[it's]\n[\"q\"]\n[$(reboot)]\n[x;y]\n[\\n]\n[ü☃]\n[]\n[*]\n[`id`]\n",
	       "every argument arrives literally, no shell");
	ag_spawn_result_free(&r);
	o.argv = env_argv;
	is_int(run(&o, &r, &e), 0, "env helper");
	is_str(r.out, "PATH=/bin:/sbin:/usr/bin:/usr/sbin\nLC_ALL=C\n", "default environment only");
	ag_spawn_result_free(&r);
	o.envp = myenv;
	is_int(run(&o, &r, &e), 0, "env helper with an explicit environment");
	is_str(r.out, "A=1\nB=two words\n", "explicit environment only");
	ag_spawn_result_free(&r);
}

static void test_fds_and_stdin(void)
{
	const char *fds_argv[] = { self, "--helper", "fds", NULL };
	const char *in_argv[] = { self, "--helper", "stdin", NULL };
	struct ag_spawn_opts o = { .argv = fds_argv };
	struct ag_spawn_result r;
	struct ag_error e;
	int leak[2];
	char path[4096];
	int fd;

	/* descriptors without close-on-exec, as a careless caller (or sshd) might leave them */
	(void)!pipe(leak);
	fd = open(fx_path(path, sizeof(path), "%s/open-file", fx_tmpdir()), O_CREAT | O_RDWR, 0600);
	(void)!dup2(fd, 200);
	is_int(run(&o, &r, &e), 0, "fds helper");
	is_str(r.out, "0 1 2 \n", "only fds 0, 1, 2 reach the program");
	ag_spawn_result_free(&r);
	o.argv = in_argv;
	is_int(run(&o, &r, &e), 0, "stdin helper");
	is_str(r.out, "read 0\n", "stdin is /dev/null");
	ag_spawn_result_free(&r);
	close(leak[0]), close(leak[1]), close(fd), close(200);
}

struct lines {
	int n_out, n_err, stop_at;
	char got[16][64];
};

static int collect(void *ctx, enum ag_stream s, const char *line, size_t len)
{
	struct lines *l = ctx;
	int i = l->n_out + l->n_err;

	if (i < 16)
		snprintf(l->got[i], sizeof(l->got[i]), "%c:%.*s", s == AG_STREAM_STDOUT ? 'o' : 'e',
			 (int)len, line);
	if (s == AG_STREAM_STDOUT)
		l->n_out++;
	else
		l->n_err++;
	return l->stop_at > 0 && l->n_out >= l->stop_at;
}

static void test_lines(void)
{
	const char *argv[] = { self, "--helper", "progress", NULL };
	struct lines l = { 0 };
	struct ag_spawn_opts o = { .argv = argv, .on_line = collect, .ctx = &l };
	struct ag_spawn_result r;
	struct ag_error e;
	int outs = 0;

	is_int(run(&o, &r, &e), 0, "progress helper");
	is_int(l.n_out, 5, "five progress lines split at '\\r'");
	is_int(l.n_err, 2, "two stderr lines split at '\\r\\n', last one unterminated");
	for (int i = 0; i < l.n_out + l.n_err; i++)
		outs += strcmp(l.got[i], "o:Clone: 50% done.") == 0 || strcmp(l.got[i], "e:warning two") == 0;
	is_int(outs, 2, "line text without separators");
	is_str(r.err, "warning one\r\nwarning two", "stderr captured raw");
	ok(strstr(r.out, "Clone: 100% done.\r\n") != NULL, "stdout captured raw");
	ag_spawn_result_free(&r);
}

struct partial {
	int calls;
	char seen[64];   /* the piece on_partial saw */
	int lines_then;  /* on_line calls made when it saw it */
	int lines;
};

static int partial_line(void *ctx, enum ag_stream s, const char *line, size_t len)
{
	((struct partial *)ctx)->lines++;
	return 0;
}

static int partial_piece(void *ctx, enum ag_stream s, const char *piece, size_t len)
{
	struct partial *p = ctx;

	if (p->calls++ == 0) {
		snprintf(p->seen, sizeof(p->seen), "%.*s", (int)len, piece);
		p->lines_then = p->lines;
	}
	return 0;
}

static void test_partial(void)
{
	const char *argv[] = { self, "--helper", "redraw-stall", NULL };
	struct partial p = { 0 };
	struct ag_spawn_opts o = { .argv = argv, .on_line = partial_line,
				   .on_partial = partial_piece, .ctx = &p };
	struct ag_spawn_result r;
	struct ag_error e;

	is_int(run(&o, &r, &e), 0, "redraw-then-stall helper");
	is_str(p.seen, "Clone: 7% done.", "on_partial sees the piece before its separator");
	is_int(p.lines_then, 0, "... while on_line has not had it yet");
	is_int(p.lines, 1, "the piece still reaches on_line once terminated");
	ag_spawn_result_free(&r);
}

static int count_pieces(void *ctx, enum ag_stream s, const char *line, size_t len)
{
	size_t *sizes = ctx;

	for (int i = 0; i < 4; i++) {
		if (sizes[i] == 0) {
			sizes[i] = len;
			break;
		}
	}
	return 0;
}

static void test_capture_bounds(void)
{
	const char *flood[] = { self, "--helper", "flood", "1000000", NULL };
	const char *longline[] = { self, "--helper", "longline", NULL };
	size_t sizes[4] = { 0 };
	struct ag_spawn_opts o = { .argv = flood, .capture_max = 1000 };
	struct ag_spawn_result r;
	struct ag_error e;
	bool tail_ok = true;

	is_int(run(&o, &r, &e), 0, "1 MB of output");
	is_int(r.out_len, 1000, "only the bounded tail is kept");
	is_int(r.out_dropped, 999000, "dropped bytes counted");
	for (size_t i = 0; i < r.out_len; i++)
		tail_ok = tail_ok && r.out[i] == '0' + (int)((999000 + i) % 10);
	ok(tail_ok, "the kept bytes are the last ones");
	ag_spawn_result_free(&r);
	o = (struct ag_spawn_opts){ .argv = longline, .on_line = count_pieces, .ctx = sizes };
	is_int(run(&o, &r, &e), 0, "10000-byte line");
	ok(sizes[0] == AG_SPAWN_LINE_MAX && sizes[1] == AG_SPAWN_LINE_MAX &&
		   sizes[2] == 10000 - 2 * AG_SPAWN_LINE_MAX && sizes[3] == 0,
	   "long line delivered in bounded pieces");
	ag_spawn_result_free(&r);
}

static void test_status(void)
{
	const char *exit7[] = { self, "--helper", "exit", "7", NULL };
	const char *sig[] = { self, "--helper", "signal", NULL };
	const char *missing[] = { "/nonexistent/xclone/tool", NULL };
	const char *relative[] = { "vmkfstools", NULL };
	const char *notexec[] = { NULL, NULL };
	struct ag_spawn_opts o = { .argv = exit7 };
	struct ag_spawn_result r;
	struct ag_error e;
	char path[4096];

	is_int(run(&o, &r, &e), 0, "exit 7 runs");
	ok(r.exited && r.exit_code == 7 && !r.signaled && !r.timed_out, "exit code 7 reported");
	ag_spawn_result_free(&r);
	o.argv = sig;
	is_int(run(&o, &r, &e), 0, "signal helper runs");
	ok(r.signaled && r.term_signal == SIGUSR1 && !r.exited, "death by SIGUSR1 reported");
	ag_spawn_result_free(&r);
	o.argv = missing;
	is_int(run(&o, &r, &e), AG_SPAWN_E_EXEC, "missing program");
	ok(strstr(e.msg, "No such file") != NULL, "errno text in message");
	o.argv = relative;
	is_int(run(&o, &r, &e), AG_SPAWN_E_ARGS, "relative program refused (no PATH search)");
	notexec[0] = fx_path(path, sizeof(path), "%s/not-executable", fx_tmpdir());
	fx_write_str(path, "#!/bin/sh\necho hi\n");
	o.argv = notexec;
	is_int(run(&o, &r, &e), AG_SPAWN_E_EXEC, "file without execute permission");
	o.argv = NULL;
	is_int(run(&o, &r, &e), AG_SPAWN_E_ARGS, "no argv");
}

static void test_timeouts(void)
{
	const char *sleeper[] = { self, "--helper", "sleep", NULL };
	const char *stubborn[] = { self, "--helper", "ignore-term", NULL };
	const char *ticker[] = { self, "--helper", "ticker", NULL };
	struct lines l = { .stop_at = 3 };
	struct ag_spawn_opts o = { .argv = sleeper, .timeout_ms = 300 };
	struct ag_spawn_result r;
	struct ag_error e;
	int64_t t0 = mono_ms();

	is_int(run(&o, &r, &e), 0, "sleeping program with a deadline");
	ok(r.timed_out && r.signaled && r.term_signal == SIGTERM, "SIGTERM at the deadline");
	is_str(r.out, "sleeping\n", "output before the deadline kept");
	ok(mono_ms() - t0 < 20000, "returned well before the program's own end");
	ag_spawn_result_free(&r);

	o = (struct ag_spawn_opts){ .argv = stubborn, .timeout_ms = 300, .kill_grace_ms = 300 };
	is_int(run(&o, &r, &e), 0, "program ignoring SIGTERM");
	ok(r.timed_out && r.signaled && r.term_signal == SIGKILL, "SIGKILL after the grace");
	ag_spawn_result_free(&r);

	o = (struct ag_spawn_opts){ .argv = ticker, .on_line = collect, .ctx = &l };
	is_int(run(&o, &r, &e), 0, "callback asks to stop");
	ok(r.stopped && !r.timed_out && r.signaled && r.term_signal == SIGTERM, "stopped with SIGTERM");
	ok(l.n_out >= 3, "callback saw the lines before stopping");
	ag_spawn_result_free(&r);
}

static void test_descendants(void)
{
	const char *gc[] = { self, "--helper", "grandchild", NULL };
	const char *group[] = { self, "--helper", "group", NULL };
	struct ag_spawn_opts o = { .argv = gc };
	struct ag_spawn_result r;
	struct ag_error e;
	int64_t t0 = mono_ms();
	pid_t pid;

	is_int(run(&o, &r, &e), 0, "child exits, grandchild keeps the pipes");
	ok(mono_ms() - t0 < 20000, "not held up by the grandchild's open pipes");
	ok(r.exited && r.exit_code == 0, "child status");
	pid = (pid_t)atoi(r.out);
	ok(pid > 0 && !process_gone(pid), "grandchild still alive");
	if (pid > 0)
		kill(pid, SIGKILL);
	ag_spawn_result_free(&r);

	o = (struct ag_spawn_opts){ .argv = group, .timeout_ms = 500, .own_process_group = true };
	is_int(run(&o, &r, &e), 0, "process group with a deadline");
	ok(r.timed_out && r.signaled, "group leader signalled");
	pid = (pid_t)atoi(r.out);
	ok(pid > 0 && wait_gone(pid, 10000), "the whole group got the signal");
	ag_spawn_result_free(&r);
}

static void test_sigchld_ignored(void)
{
	const char *argv[] = { self, "--helper", "exit", "0", NULL };
	struct ag_spawn_opts o = { .argv = argv };
	struct ag_spawn_result r;
	struct ag_error e;

	signal(SIGCHLD, SIG_IGN);
	is_int(run(&o, &r, &e), AG_SPAWN_E_SYS, "SIGCHLD ignored: reported, not a fake status");
	ok(strstr(e.msg, "SIGCHLD") != NULL, "message names the cause");
	signal(SIGCHLD, SIG_DFL);
}

/* --- ag_daemonize ---------------------------------------------------------- */

struct detached {
	char path[4096];
	int keep;
};

static int detached_body(void *arg)
{
	struct detached *d = arg;
	char tmp[4096], cwd[256], *fdlist = NULL;
	size_t fdlen = 0;
	FILE *f = open_memstream(&fdlist, &fdlen); /* no fd: the listing sees only inherited ones */

	list_fds(f);
	fclose(f);
	fx_path(tmp, sizeof(tmp), "%s.tmp", d->path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return 1;
	fprintf(f, "pid %d\nsid %d\npgid %d\n", (int)getpid(), (int)getsid(0), (int)getpgrp());
	fprintf(f, "cwd %s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	fprintf(f, "fds %s", fdlist);
	fclose(f);
	free(fdlist);
	if (d->keep >= 0)
		(void)!write(d->keep, "hello", 5);
	rename(tmp, d->path);
	return 0;
}

static char *wait_file(const char *path, int ms)
{
	static char text[1024];

	for (int64_t end = mono_ms() + ms; mono_ms() < end; sleep_ms(20)) {
		FILE *f = fopen(path, "r");
		size_t n;

		if (f == NULL)
			continue;
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		return text;
	}
	return NULL;
}

static void test_daemonize(void)
{
	struct detached d = { .keep = -1 };
	struct ag_error e;
	char *text, want[128], buf[8] = { 0 };
	int keep[2], status;
	pid_t pid = 0;

	fx_path(d.path, sizeof(d.path), "%s/detached-1", fx_tmpdir());
	is_int(ag_daemonize(detached_body, &d, -1, &pid, &e), 0, "daemonize");
	text = wait_file(d.path, 20000);
	ok(text != NULL, "detached body ran");
	snprintf(want, sizeof(want), "pid %d\n", (int)pid);
	ok(text && strncmp(text, want, strlen(want)) == 0, "the pid given back is the detached process");
	snprintf(want, sizeof(want), "sid %d\n", (int)getsid(0));
	ok(text && strstr(text, want) == NULL && strstr(text, "sid ") != NULL, "in a new session");
	snprintf(want, sizeof(want), "sid %d\n", (int)pid);
	ok(text && strstr(text, want) == NULL, "not a session leader (cannot get a terminal)");
	ok(text && strstr(text, "cwd /\n") != NULL, "working folder /");
	ok(text && strstr(text, "fds 0 1 2 \n") != NULL, "only fds 0-2 (on /dev/null)");
	ok(waitpid(pid, &status, WNOHANG) < 0 && errno == ECHILD, "not our child: nothing to reap");

	(void)!pipe(keep);
	d.keep = keep[1];
	fx_path(d.path, sizeof(d.path), "%s/detached-2", fx_tmpdir());
	is_int(ag_daemonize(detached_body, &d, keep[1], &pid, &e), 0, "daemonize keeping one fd");
	close(keep[1]);
	ok(read(keep[0], buf, 5) == 5 && strcmp(buf, "hello") == 0, "kept fd works in the detached process");
	close(keep[0]);
	text = wait_file(d.path, 20000);
	snprintf(want, sizeof(want), "fds 0 1 2 %d \n", keep[1]);
	ok(text && strstr(text, want) != NULL, "fds 0-2 and the kept one");
	is_int(ag_daemonize(detached_body, &d, 1, &pid, &e), AG_SPAWN_E_ARGS, "keep_fd 0-2 refused");
	is_int(ag_daemonize(NULL, &d, -1, &pid, &e), AG_SPAWN_E_ARGS, "no body refused");
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Each way of closing descriptors: lowfd and above go, keep and below stay. */
static void test_close_fds(void)
{
	static const char *const names[] = { "close_range or fallback", "/proc/self/fd", "rlimit loop" };

	for (int way = 0; way < 3; way++) {
		int fds[2], rc = 0;

		(void)!pipe(fds);
		(void)!dup2(fds[0], 300);
		(void)!dup2(fds[0], 301);
		(void)!dup2(fds[0], 302);
		if (way == 0)
			ag_close_fds_from(300, 301);
		else if (way == 1)
			rc = ag_close_fds_proc(300, 301);
		else
			ag_close_fds_rlimit(300, 301);
		is_int(rc, 0, "%s: ran", names[way]);
		ok(!fd_open(300) && !fd_open(302), "%s: fds from lowfd closed", names[way]);
		ok(fd_open(301), "%s: kept fd open", names[way]);
		ok(fd_open(fds[0]) && fd_open(fds[1]), "%s: fds below lowfd untouched", names[way]);
		(void)!dup2(fds[0], 310);
		if (way == 0)
			ag_close_fds_from(305, -1);
		else if (way == 1)
			rc = ag_close_fds_proc(305, -1);
		else
			ag_close_fds_rlimit(305, -1);
		ok(!fd_open(310) && fd_open(301), "%s: no kept fd", names[way]);
		close(fds[0]), close(fds[1]), close(301);
	}
}

int main(int argc, char **argv)
{
	ssize_t n;

	if (argc >= 3 && strcmp(argv[1], "--helper") == 0)
		return helper(argc, argv);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		printf("1..0 # SKIP /proc/self/exe unavailable\n");
		return 0;
	}
	self[n] = '\0';
	test_args_and_env();
	test_fds_and_stdin();
	test_lines();
	test_partial();
	test_capture_bounds();
	test_status();
	test_timeouts();
	test_descendants();
	test_sigchld_ignored();
	test_daemonize();
	test_close_fds();
	return tap_done();
}
