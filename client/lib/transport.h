/*
 * The transport interface: how libxclone reaches an agent. A transport makes
 * streams; a stream carries request lines one way and answer lines the other,
 * exactly like an SSH session channel or a TLS connection to `xclone-agent
 * serve`. Everything libssh2 or OpenSSL specific stays in transport_ssh.c and
 * transport_tls.c; framing lines is chan.c's job, above this interface.
 *
 * Streams of one transport may be used by different threads at the same time;
 * a single stream is used by one thread at a time.
 */
#ifndef XCLONE_TRANSPORT_H
#define XCLONE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xclone.h"

struct xc_transport;
struct xc_stream;

struct xc_transport_ops {
	const char *name; /* "ssh", "tls" */

	/*
	 * Checks the settings and connects once, so that identity and authentication
	 * problems show at connect time. opt (defaults filled in) outlives the transport.
	 */
	int (*open)(const struct xclone_conn_options *opt, struct xc_transport **out,
		    int64_t deadline, struct xclone_error *err);

	/* A new stream with the agent started on it; reconnects when the connection is lost. */
	int (*stream_open)(struct xc_transport *t, struct xc_stream **out, int64_t deadline,
			   struct xclone_error *err);

	/* False when the stream's connection is known to be lost (do not reuse it). */
	bool (*stream_usable)(struct xc_stream *s);

	/* Writes all of buf. Errors: XC_E_CONNECT (retryable when the connection was lost), XC_E_TIMEOUT. */
	int (*stream_write)(struct xc_stream *s, const char *buf, size_t len, int64_t deadline,
			    struct xclone_error *err);

	/* Reads at most cap bytes, at least one; *got = 0 at end of stream. */
	int (*stream_read)(struct xc_stream *s, char *buf, size_t cap, size_t *got,
			   int64_t deadline, struct xclone_error *err);

	/*
	 * After end of stream without an answer: fills err with why (XC_E_AGENT with
	 * the agent's exit status and error output, or XC_E_CONNECT when the
	 * connection itself was lost) and returns its code.
	 */
	int (*stream_ended)(struct xc_stream *s, int64_t deadline, struct xclone_error *err);

	void (*stream_close)(struct xc_stream *s);

	/* Who the transport talks to (strings owned by the transport). */
	void (*peer)(struct xc_transport *t, struct xclone_peer *out);

	/* TCP connections made, and how many replaced a lost one. */
	void (*counters)(struct xc_transport *t, uint64_t *connects, uint64_t *reconnects);

	void (*close)(struct xc_transport *t);
};

extern const struct xc_transport_ops xc_transport_ssh;
extern const struct xc_transport_ops xc_transport_tls;

/* printf to the caller's log function, when one is set. */
void xc_log(const struct xclone_conn_options *opt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
