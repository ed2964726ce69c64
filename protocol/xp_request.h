/*
 * Requests: {"xclone":1,"id":"r7","op":"clone.start","args":{...}} <-> struct.
 */
#ifndef XP_REQUEST_H
#define XP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "xp_args.h"
#include "xp_error.h"
#include "xp_limits.h"
#include "xp_ops.h"

struct xp_request {
	char id[XP_ID_MAX + 1];
	enum xp_op op;
	struct xp_args args;
};

/* Zeroes req and sets its id and op (id is checked when encoding). */
void xp_request_init(struct xp_request *req, const char *id, enum xp_op op);

/*
 * Decodes and validates one line (without its LF; at most XP_LINE_MAX bytes).
 * Returns 0 or the xp_code: XP_BAD_REQUEST, XP_UNKNOWN_OP, XP_UNSUPPORTED_VERSION
 * (XP_INTERNAL only when memory runs out). On failure req->id still holds the
 * request's id when it could be read, "" otherwise (answer with "id":null).
 */
int xp_request_decode(const char *line, size_t len, struct xp_request *req, struct xp_error *err);

/*
 * The request as one line, malloc'd, without the trailing newline (free()).
 * NULL with XP_BAD_REQUEST when req breaks a rule (bad id, a required argument
 * missing, an argument the op does not take, a value out of its limits).
 */
char *xp_request_encode(const struct xp_request *req, struct xp_error *err);

/* Same id, op, and the same arguments of that op. */
bool xp_request_equal(const struct xp_request *a, const struct xp_request *b);

#endif
