/* TCP connect with a deadline (see tcp.h). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "tcp.h"

int xc_fd_wait(int fd, short events, int64_t deadline, int cap_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	n = poll(&p, 1, xc_wait_ms(deadline, cap_ms));
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	return n > 0 ? 1 : 0;
}

/* A peer that stops acknowledging is given up after about three keepalive periods. */
static void set_liveness(int fd, unsigned keepalive_ms)
{
	int one = 1;
	int idle = (int)(keepalive_ms / 1000 ? keepalive_ms / 1000 : 1);
	int cnt = 3;
	unsigned user_timeout = keepalive_ms * 3;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
}

/* One address: 0 connected, else errno (ETIMEDOUT when the deadline passed). */
static int connect_one(const struct addrinfo *ai, int64_t deadline, int *fd_out)
{
	int fd, so_err = 0;
	socklen_t len = sizeof(so_err);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			so_err = errno;
			close(fd);
			return so_err;
		}
		for (;;) {
			int r = xc_fd_wait(fd, POLLOUT, deadline, 1000);

			if (r < 0) {
				so_err = errno;
				break;
			}
			if (r > 0) {
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_err, &len) != 0)
					so_err = errno;
				break;
			}
			if (xc_expired(deadline)) {
				so_err = ETIMEDOUT;
				break;
			}
		}
		if (so_err != 0) {
			close(fd);
			return so_err;
		}
	}
	*fd_out = fd;
	return 0;
}

int xc_tcp_connect(const char *host, unsigned port, int64_t deadline, unsigned keepalive_ms,
		   int *fd_out, struct xclone_error *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	char service[16];
	int rc, last = 0;

	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		xclone_error_set(err, XC_E_CONNECT, "cannot resolve %s: %s", host, gai_strerror(rc));
		if (err != NULL)
			err->retryable = rc == EAI_AGAIN;
		return XC_E_CONNECT;
	}
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		last = connect_one(ai, deadline, fd_out);
		if (last == 0) {
			freeaddrinfo(res);
			set_liveness(*fd_out, keepalive_ms);
			return 0;
		}
		if (last == ETIMEDOUT && xc_expired(deadline))
			break;
	}
	freeaddrinfo(res);
	if (last == ETIMEDOUT) {
		xclone_error_set(err, XC_E_TIMEOUT, "connecting to %s port %u timed out", host, port);
	} else {
		xclone_error_set(err, XC_E_CONNECT, "cannot connect to %s port %u: %s", host, port,
				 strerror(last));
	}
	if (err != NULL)
		err->retryable = 1;
	return last == ETIMEDOUT ? XC_E_TIMEOUT : XC_E_CONNECT;
}
