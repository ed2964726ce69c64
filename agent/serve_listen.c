/* serve's listening socket (see serve_listen.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve_listen.h"

#define BACKLOG 256

static int set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void format_addr(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(out, cap, "%s:%u", host, (unsigned)ntohs(a->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(out, cap, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
	} else {
		snprintf(out, cap, "(address family %d)", (int)ss->ss_family);
	}
}

/* Fills ss from an address literal and port; its length, or 0 when not a literal. */
static socklen_t make_addr(const char *address, unsigned port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, address, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((unsigned short)port);
		return sizeof(*a4);
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET6, address, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((unsigned short)port);
		return sizeof(*a6);
	}
	return 0;
}

int serve_listen_open(const char *address, unsigned port, char *bound, size_t cap,
		      struct ag_error *err)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(address, port, &ss);
	int fd, one = 1;

	if (len == 0) {
		ag_error_set(err, 1, "serve_listen %s is not an address literal", address);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0) {
		ag_error_set(err, 1, "cannot create a socket: %s", strerror(errno));
		return -1;
	}
	/* SO_REUSEADDR: a restart must not wait out the old connections' TIME_WAIT. */
	if (set_flags(fd) != 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
		ag_error_set(err, 1, "cannot set up the socket: %s", strerror(errno));
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		ag_error_set(err, 1, "cannot listen on %s port %u: %s", address, port,
			     strerror(errno));
		goto fail;
	}
	if (listen(fd, BACKLOG) != 0) {
		ag_error_set(err, 1, "cannot listen on %s port %u: %s", address, port,
			     strerror(errno));
		goto fail;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		ag_error_set(err, 1, "cannot read the bound address: %s", strerror(errno));
		goto fail;
	}
	format_addr(&ss, bound, cap);
	return fd;
fail:
	close(fd);
	return -1;
}

int serve_listen_accept(int listen_fd, char *peer, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd, one = 1;

	do
		fd = accept(listen_fd, (struct sockaddr *)&ss, &len);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -1;
	if (set_flags(fd) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	/* Answers are whole lines written at once: no reason to wait for more. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	format_addr(&ss, peer, cap);
	return fd;
}
