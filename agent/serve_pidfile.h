/*
 * serve's pidfile (serve_pidfile; read by /etc/init.d/xclone-agent). Created
 * with O_EXCL once serve listens, and held under flock() for serve's lifetime:
 * liveness is the lock, not a pid check (ESXi's /proc is limited, pids get
 * reused). A pidfile nobody holds is stale and replaced; one that is held means
 * another serve runs, and this one refuses to start. Removed at a clean exit,
 * only while it is still this process's file.
 */
#ifndef XCLONE_AGENT_SERVE_PIDFILE_H
#define XCLONE_AGENT_SERVE_PIDFILE_H

#include "ag_error.h"

/* Writes our pid to path (creating its folder, one level, mode 0700); the locked fd or -1. */
int serve_pidfile_create(const char *path, struct ag_error *err);

/* Unlinks path if it is still the file behind fd, then closes fd. */
void serve_pidfile_remove(const char *path, int fd);

#endif
