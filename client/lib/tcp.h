/*
 * TCP for the transports: connect with a deadline, dead-peer detection, and
 * waiting on a non-blocking socket.
 */
#ifndef XCLONE_TCP_H
#define XCLONE_TCP_H

#include <stdint.h>

#include "xclone_error.h"

/*
 * Connects to host:port (every address getaddrinfo returns, in order) before
 * deadline. The socket is non-blocking, TCP_NODELAY, with TCP keepalive and
 * TCP_USER_TIMEOUT derived from keepalive_ms so a silently dead peer is noticed.
 * XC_E_CONNECT (retryable) or XC_E_TIMEOUT (retryable).
 */
int xc_tcp_connect(const char *host, unsigned port, int64_t deadline, unsigned keepalive_ms,
		   int *fd_out, struct xclone_error *err);

/*
 * Waits until fd is ready for events (POLLIN/POLLOUT), the deadline passes, or
 * cap_ms elapse. 1: ready (or in error: let the next I/O call say which),
 * 0: not yet, -1: poll failed.
 */
int xc_fd_wait(int fd, short events, int64_t deadline, int cap_ms);

#endif
