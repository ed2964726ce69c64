/* serve's request workers (see serve_worker.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "dispatch.h"
#include "log.h"
#include "serve_signal.h"
#include "serve_worker.h"
#include "spawn.h"

/* The child: becomes a plain request runner whose stdout is the pipe, then exits. */
static void run_child(const struct serve_worker_env *env, const char *line, size_t len, int out)
{
	struct ag_ctx ctx = { .cfg = env->cfg, .caller = env->caller, .out_fd = STDOUT_FILENO };
	char *copy;
	int null_fd, rc;

	serve_signals_reset_in_child();
	(void)setpgid(0, 0);
	/* The line lives in the server's connection state, which release frees. */
	copy = malloc(len + 1);
	if (copy == NULL)
		_exit(3);
	memcpy(copy, line, len);
	copy[len] = '\0';
	env->release(env->release_arg);
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0)
		_exit(3);
	ag_close_fds_from(3, -1);
	/* The syslog socket was closed with the rest: reconnect. */
	closelog();
	ag_log_open((int)env->cfg->log_level, env->log_stderr);
	rc = ag_dispatch_line(&ctx, copy, len);
	_exit(rc == 0 ? 0 : 1);
}

int serve_worker_start(struct serve_worker *w, const struct serve_worker_env *env,
		       const char *line, size_t len, struct ag_error *err)
{
	int p[2];
	pid_t pid;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (pipe2(p, O_CLOEXEC) != 0)
		return ag_error_set(err, 1, "cannot create a pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		ag_error_set(err, 1, "cannot fork a worker: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0)
		run_child(env, line, len, p[1]);
	close(p[1]);
	/* Also here, so the group exists before any kill() from this side. */
	(void)setpgid(pid, pid);
	if (fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK) != 0) {
		/* A blocking pipe would stall every connection: give this request up. */
		ag_error_set(err, 1, "cannot make the worker pipe non-blocking: %s",
			     strerror(errno));
		close(p[0]);
		w->pid = pid;
		serve_worker_kill(w);
		w->pid = 0;
		return -1;
	}
	w->pid = pid;
	w->fd = p[0];
	return 0;
}

bool serve_worker_try_reap(struct serve_worker *w)
{
	int status;

	if (!w->exited && w->pid > 0 && waitpid(w->pid, &status, WNOHANG) == w->pid) {
		w->exited = true;
		w->status = status;
	}
	return w->exited;
}

void serve_worker_kill(struct serve_worker *w)
{
	if (w->pid > 0 && !w->exited) {
		if (kill(-w->pid, SIGKILL) != 0)
			(void)kill(w->pid, SIGKILL);
	}
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
}

bool serve_worker_failed(const struct serve_worker *w)
{
	return !(WIFEXITED(w->status) && WEXITSTATUS(w->status) == 0);
}

void serve_worker_describe(const struct serve_worker *w, char *buf, size_t cap)
{
	if (WIFSIGNALED(w->status))
		snprintf(buf, cap, "signal %d", WTERMSIG(w->status));
	else if (WIFEXITED(w->status))
		snprintf(buf, cap, "exit status %d", WEXITSTATUS(w->status));
	else
		snprintf(buf, cap, "wait status %d", w->status);
}
