/*
 * Running the host's tools (vmkfstools, esxcli, vsish) and detaching the clone
 * supervisor. Never a shell: the program gets an argv array through execve(),
 * an explicit small environment, stdin from /dev/null, no inherited file
 * descriptor beyond 0-2, and a deadline after which it is sent SIGTERM, then
 * SIGKILL. Only poll() is used for waiting (ESXi 7 has no epoll_pwait), and only
 * functions musl provides.
 *
 * The caller must not leave SIGCHLD ignored (SIG_IGN): the exit status would be
 * lost and ag_spawn_run() reports an error.
 */
#ifndef XCLONE_AGENT_SPAWN_H
#define XCLONE_AGENT_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ag_error.h"

#define AG_SPAWN_LINE_MAX 4096          /* longer lines reach the callback in pieces */
#define AG_SPAWN_CAPTURE_DEFAULT 65536  /* tail kept per stream when capture_max is 0 */
#define AG_SPAWN_GRACE_DEFAULT_MS 2000  /* SIGTERM to SIGKILL when kill_grace_ms is 0 */

enum ag_spawn_code {
	AG_SPAWN_OK = 0,
	AG_SPAWN_E_ARGS, /* bad options (argv missing, program not an absolute path) */
	AG_SPAWN_E_EXEC, /* the program could not be executed (message has errno text) */
	AG_SPAWN_E_SYS,  /* pipe, fork, poll or wait failed */
};

enum ag_stream { AG_STREAM_STDOUT = 1, AG_STREAM_STDERR = 2 };

/*
 * Called with each output line, split at '\n' and at '\r' (vmkfstools redraws
 * its progress with '\r'); the separator is not included and empty pieces are
 * skipped. Returning non-zero stops the program (SIGTERM, then SIGKILL).
 */
typedef int (*ag_line_fn)(void *ctx, enum ag_stream stream, const char *line, size_t len);

struct ag_spawn_opts {
	const char *const *argv;  /* argv[0]: absolute path of the program; NULL-terminated */
	const char *const *envp;  /* NULL: ag_spawn_default_env */
	int timeout_ms;           /* 0: no deadline */
	int kill_grace_ms;        /* SIGTERM to SIGKILL; 0: AG_SPAWN_GRACE_DEFAULT_MS */
	size_t capture_max;       /* tail bytes kept per stream; 0: AG_SPAWN_CAPTURE_DEFAULT */
	ag_line_fn on_line;       /* optional */
	/*
	 * Optional, with on_line: after each read, the piece still waiting for its
	 * separator (not consumed; it reaches on_line once terminated). vmkfstools
	 * draws "\rClone: N% done." and then may stay silent: this is how a caller
	 * sees N before the next '\r'. The return value is ignored.
	 */
	ag_line_fn on_partial;
	void *ctx;
	bool own_process_group;   /* child leads its own group; signals go to the group */
};

struct ag_spawn_result {
	pid_t pid;
	bool exited;              /* exit_code is valid */
	int exit_code;
	bool signaled;            /* term_signal is valid */
	int term_signal;
	bool timed_out;           /* the deadline passed and the program was signalled */
	bool stopped;             /* the line callback asked to stop */
	char *out, *err;          /* NUL-terminated tails of stdout and stderr */
	size_t out_len, err_len;
	size_t out_dropped, err_dropped; /* bytes cut from the front to keep the tail */
};

/* PATH=/bin:/sbin:/usr/bin:/usr/sbin and LC_ALL=C (stable tool output). */
extern const char *const ag_spawn_default_env[];

/*
 * Runs the program to its end (or its deadline). 0 when it ran, whatever its
 * exit status; r then holds the status and output, freed by ag_spawn_result_free.
 */
int ag_spawn_run(const struct ag_spawn_opts *opts, struct ag_spawn_result *r,
		 struct ag_error *err);

void ag_spawn_result_free(struct ag_spawn_result *r);

/*
 * Starts body(arg) in a detached process: double fork, setsid, cwd "/", fds
 * 0-2 on /dev/null, every other fd closed except keep_fd (-1 for none; it must
 * be above 2), signal dispositions and mask reset. Its exit status is body's
 * return value. In the caller, *pid gets the detached process's pid once that
 * process is set up (reported through a pipe); the intermediate child is reaped.
 */
int ag_daemonize(int (*body)(void *arg), void *arg, int keep_fd, pid_t *pid,
		 struct ag_error *err);

/*
 * Closes every fd >= lowfd except keep (-1: none). Async-signal-safe, for use
 * between fork and exec: close_range(2) when the kernel has it, else
 * /proc/self/fd, else every fd below RLIMIT_NOFILE (capped).
 */
void ag_close_fds_from(int lowfd, int keep);

/* The two fallbacks of ag_close_fds_from, separately (ESXi may lack close_range
 * and /proc): -1 when /proc/self/fd cannot be read; the loop never fails. */
int ag_close_fds_proc(int lowfd, int keep);
void ag_close_fds_rlimit(int lowfd, int keep);

#endif
