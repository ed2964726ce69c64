/*
 * serve: the listening socket and accept(). Plain BSD sockets with fcntl() for
 * the flags (not accept4/SOCK_NONBLOCK, whose support in ESXi's userworld is
 * unconfirmed).
 */
#ifndef XCLONE_AGENT_SERVE_LISTEN_H
#define XCLONE_AGENT_SERVE_LISTEN_H

#include <stddef.h>

#include "ag_error.h"

#define SERVE_ADDR_TEXT_MAX 64 /* "[v6 address]:port" */

/*
 * Listens on address (IPv4 or IPv6 literal) and port (0: any free one). Returns
 * the non-blocking socket, bound is set to "address:port" as bound; -1 with err.
 */
int serve_listen_open(const char *address, unsigned port, char *bound, size_t cap,
		      struct ag_error *err);

/*
 * Accepts one pending connection: the non-blocking, close-on-exec socket with
 * the peer's "address:port" in peer, or -1 when none is pending (errno EAGAIN)
 * or accept failed (errno says why).
 */
int serve_listen_accept(int listen_fd, char *peer, size_t cap);

#endif
