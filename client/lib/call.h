/*
 * One agent request from start to final answer: take a channel, send the line,
 * hand events to a callback, decode and check the result against the
 * operation's shape. Lost connections are retried with backoff when the request
 * is safe to send again.
 */
#ifndef XCLONE_CALL_H
#define XCLONE_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "conn.h"
#include "xp_args.h"
#include "xp_ops.h"

/* An event line of the request; return non-zero to stop (XC_E_ABORTED). */
typedef int (*xc_event_fn)(const char *event, const cJSON *data, void *ud);
/* The connection was lost; the call is sent again after delay_ms. */
typedef int (*xc_retry_fn)(unsigned attempt, unsigned delay_ms, const struct xclone_error *why,
			   void *ud);
/* The first line arrived after a retry. */
typedef int (*xc_resumed_fn)(void *ud);

struct xc_call {
	enum xp_op op;
	struct xp_args args;
	uint64_t extra_ms;      /* added to the request timeout (device.wait's own wait) */
	bool streaming;         /* task.watch: bounded by watch_timeout_ms only */
	xc_event_fn on_event;
	xc_retry_fn on_retry;
	xc_resumed_fn on_resumed;
	void *ud;
	cJSON *result;          /* after success: the checked result (xc_call_free frees it) */
};

/* A zeroed call of op (heap: the arguments are about 5 KiB); NULL when out of memory. */
struct xc_call *xc_call_new(enum xp_op op);
void xc_call_free(struct xc_call *call);

/* Sets a string argument (protocol rules checked); value NULL leaves it absent. */
int xc_call_set(struct xc_call *call, enum xp_arg arg, const char *value, struct xclone_error *err);
int xc_call_set_int(struct xc_call *call, enum xp_arg arg, int64_t value, struct xclone_error *err);

int xc_call_run(struct xclone_conn *c, struct xc_call *call, struct xclone_error *err);



/* Checks c and out, sets *out = NULL and makes the call; for the API functions. */
int xc_call_begin(struct xclone_conn *c, void *out, enum xp_op op, struct xc_call **call,
		  struct xclone_error *err);
#endif
