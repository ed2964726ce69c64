/*
 * serve: signals as poll() events (the self-pipe trick; no signalfd, which
 * ESXi's userworld may lack). SIGCHLD says a worker ended; SIGTERM, SIGINT and
 * SIGHUP ask for a clean shutdown. The handler only writes one byte to a
 * non-blocking pipe; the pipe's write end is the one piece of global state
 * serve has, because a signal handler can reach nothing else.
 */
#ifndef XCLONE_AGENT_SERVE_SIGNAL_H
#define XCLONE_AGENT_SERVE_SIGNAL_H

#include "ag_error.h"

enum { SERVE_SIG_CHILD = 1, SERVE_SIG_STOP = 2 };

/* Creates the pipe and installs the handlers; returns the read end or -1 with err. */
int serve_signals_open(struct ag_error *err);

/* Drains the pipe: a mask of SERVE_SIG_* seen since the last call. */
int serve_signals_take(int read_fd);

/* Restores default handlers and closes the pipe (at exit). */
void serve_signals_close(int read_fd);

/* In a forked worker: default handlers, nothing blocked (the pipe is closed with the rest). */
void serve_signals_reset_in_child(void);

#endif
