/*
 * serve: request workers. Requests may block for minutes (device.wait,
 * task.watch), and serve is one process with poll(), so each request line runs
 * in a forked child that calls ag_dispatch_line() with its output on a pipe; the
 * server relays that pipe into the connection. The child leads its own process
 * group so that, when its connection goes away, one kill() also ends the host
 * tool it may be running. A clone's supervisor is no part of that group (it
 * detaches with setsid, spawn.h) and is never signalled by serve.
 *
 * Before it runs the request the child drops what only the server needs: every
 * other descriptor (sockets, the pidfile), its signal handlers, and the TLS state
 * with the server's private key (the `release` callback), so a supervisor forked
 * from it later never carries the key.
 */
#ifndef XCLONE_AGENT_SERVE_WORKER_H
#define XCLONE_AGENT_SERVE_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ag_error.h"
#include "caller.h"
#include "config.h"

struct serve_worker_env {
	const struct ag_config *cfg;
	const struct ag_caller *caller;
	bool log_stderr;              /* mirror the child's log lines to stderr */
	void (*release)(void *arg);   /* frees the server's state in the child */
	void *release_arg;
};

struct serve_worker {
	pid_t pid;   /* 0 when none */
	int fd;      /* read end of the output pipe, non-blocking; -1 after EOF */
	bool exited; /* reaped; status holds the wait status */
	int status;
};

/*
 * Forks a worker for one request line (copied by the child before release
 * runs). 0 with *w filled, or -1 with err.
 */
int serve_worker_start(struct serve_worker *w, const struct serve_worker_env *env,
		       const char *line, size_t len, struct ag_error *err);

/*
 * Reaps the worker if it has exited (after its pipe reached EOF it usually has),
 * sparing a trip through SIGCHLD and poll(); true once w->exited.
 */
bool serve_worker_try_reap(struct serve_worker *w);

/* Kills the worker's process group (and the worker); closes the pipe. */
void serve_worker_kill(struct serve_worker *w);

/* Whether a reaped worker ended without its response (crash, kill, exit != 0). */
bool serve_worker_failed(const struct serve_worker *w);

/* Describes how a failed worker ended ("signal 9", "exit status 1"). */
void serve_worker_describe(const struct serve_worker *w, char *buf, size_t cap);

#endif
