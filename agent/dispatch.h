/*
 * Request dispatch: one table of handlers indexed by operation (the op's flags —
 * mutates, streams — live in the protocol's table, protocol/ops.c), and one
 * permission check. Every request, whatever the transport, goes through
 * ag_dispatch_line().
 */
#ifndef XCLONE_AGENT_DISPATCH_H
#define XCLONE_AGENT_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "caller.h"
#include "config.h"
#include "xproto.h"

/* What a handler gets: settings, the caller, and where its output goes. */
struct ag_ctx {
	const struct ag_config *cfg;
	const struct ag_caller *caller;
	int out_fd; /* responses and events, one line each */
};

/*
 * A handler: on success returns 0 with *result set (a cJSON object it built, or
 * NULL for {}); on failure returns the xp_code with err filled. Streaming ops
 * write their events with ag_emit_event() before returning.
 */
typedef int (*ag_op_fn)(struct ag_ctx *ctx, const struct xp_request *req, cJSON **result,
			struct xp_error *err);

/* Whether caller may run op: read-only refuses mutating ops; the allowlist narrows. */
bool ag_request_permitted(const struct ag_caller *caller, enum xp_op op);

/*
 * Checks permission and runs the handler of a decoded request (the path every
 * mode shares: wire lines, esxcli plugin calls, Forklift compatibility verbs).
 * 0 with *result (NULL means {}) or the xp_code with err; logs refusals.
 */
int ag_dispatch_request(struct ag_ctx *ctx, const struct xp_request *req, cJSON **result,
			struct xp_error *err);

/*
 * Decodes one request line, checks permission, runs the handler and writes the
 * response line to ctx->out_fd. Returns 0 when a response was written (success or
 * error), -1 when the output is gone (the session should end).
 */
int ag_dispatch_line(struct ag_ctx *ctx, const char *line, size_t len);

/*
 * The same with the caller's request buffer (decoding overwrites it), so a
 * session decodes every line into one allocation instead of one per line.
 */
int ag_dispatch_line_with(struct ag_ctx *ctx, struct xp_request *req, const char *line,
			  size_t len);

/* Writes an error response for a request that never reached a handler. */
int ag_write_error(struct ag_ctx *ctx, const char *id, enum xp_code code, const char *message);

/* Writes one event line for request id; -1 when the output is gone. */
int ag_emit_event(struct ag_ctx *ctx, const char *id, const char *event, cJSON *data);

/* Writes line + '\n' completely; -1 when the fd is closed or fails. */
int ag_write_line(int fd, const char *line);

#endif
