/* Requests and their answers, with retries (see call.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "call.h"
#include "clock.h"
#include "remote_error.h"
#include "xp_request.h"
#include "xp_response.h"
#include "xp_schema.h"

struct xc_call *xc_call_new(enum xp_op op)
{
	struct xc_call *call = calloc(1, sizeof(*call));

	if (call != NULL)
		call->op = op;
	return call;
}

void xc_call_free(struct xc_call *call)
{
	if (call == NULL)
		return;
	cJSON_Delete(call->result);
	free(call);
}

static int usage_error(const struct xp_error *xe, struct xclone_error *err)
{
	return xclone_error_set(err, xe->code == XP_INTERNAL ? XC_E_NOMEM : XC_E_USAGE, "%s",
				xe->message);
}

int xc_call_set(struct xc_call *call, enum xp_arg arg, const char *value, struct xclone_error *err)
{
	struct xp_error xe = { 0 };

	if (value == NULL)
		return 0;
	if (xp_args_set_string(&call->args, arg, value, &xe) != 0)
		return usage_error(&xe, err);
	return 0;
}

int xc_call_set_int(struct xc_call *call, enum xp_arg arg, int64_t value, struct xclone_error *err)
{
	struct xp_error xe = { 0 };

	if (xp_args_set_int(&call->args, arg, value, &xe) != 0)
		return usage_error(&xe, err);
	return 0;
}

/* Every operation may be sent again after a lost connection, except this one. */
static bool resend_safe(enum xp_op op)
{
	return op != XP_OP_TASK_CLEAN;
}

static int protocol_error(const char *op, const struct xp_error *xe, struct xclone_error *err)
{
	return xclone_error_set(err, xe->code == XP_INTERNAL ? XC_E_NOMEM : XC_E_PROTOCOL,
				"%s: the agent's answer breaks the protocol: %s", op, xe->message);
}

struct attempt {
	bool sent;      /* the request line went out */
	bool answered;  /* at least one line came back */
	bool resumed;   /* on_resumed must run at the first line */
};

#define KEEP_READING (-1) /* not an xclone_code */

/* Handles one answer line: KEEP_READING, 0 (final answer handled), or an error code. */
static int handle_line(struct xc_call *call, const char *id, const char *line, size_t len,
		       struct attempt *at, struct xclone_error *err)
{
	const char *op = xp_op_name(call->op);
	struct xp_response r;
	struct xp_error xe = { 0 };
	int rc;

	if (xp_response_decode(line, len, &r, &xe) != 0)
		return protocol_error(op, &xe, err);
	if (r.id[0] != '\0' && strcmp(r.id, id) != 0) {
		xp_response_free(&r);
		return xclone_error_set(err, XC_E_PROTOCOL,
					"%s: the agent answered request %s while %s was expected", op,
					r.id, id);
	}
	at->answered = true;
	if (at->resumed) {
		at->resumed = false;
		if (call->on_resumed != NULL && call->on_resumed(call->ud) != 0) {
			xp_response_free(&r);
			return xclone_error_set(err, XC_E_ABORTED, "%s: stopped by the caller", op);
		}
	}
	switch (r.kind) {
	case XP_RESPONSE_EVENT:
		rc = KEEP_READING;
		if (xp_event_check(r.event, r.data, &xe) != 0)
			rc = protocol_error(op, &xe, err);
		else if (call->on_event != NULL && call->on_event(r.event, r.data, call->ud) != 0)
			rc = xclone_error_set(err, XC_E_ABORTED, "%s: stopped by the caller", op);
		break;
	case XP_RESPONSE_ERROR:
		rc = xc_remote_error(r.code, r.message, r.retryable, op, err);
		break;
	case XP_RESPONSE_RESULT:
	default:
		if (xp_result_check(call->op, r.result, &xe) != 0) {
			rc = protocol_error(op, &xe, err);
			break;
		}
		call->result = r.result;
		r.result = NULL;
		rc = 0;
		break;
	}
	xp_response_free(&r);
	return rc;
}

static int send_request(struct xclone_conn *c, struct xc_call *call, struct xc_chan *ch,
			const char *id, int64_t deadline, struct xclone_error *err)
{
	struct xp_request *req = malloc(sizeof(*req));
	struct xp_error xe = { 0 };
	char *line;
	int rc;

	if (req == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	xp_request_init(req, id, call->op);
	req->args = call->args;
	line = xp_request_encode(req, &xe);
	free(req);
	if (line == NULL)
		return usage_error(&xe, err);
	xc_conn_count(c, &c->stats.requests);
	rc = xc_chan_send_line(ch, line, strlen(line), deadline, err);
	free(line);
	return rc;
}

static int attempt_once(struct xclone_conn *c, struct xc_call *call, int64_t deadline,
			struct attempt *at, struct xclone_error *err)
{
	char id[XP_ID_MAX + 1];
	struct xc_chan *ch = NULL;
	int rc;

	if ((rc = xc_pool_get(c, deadline, &ch, err)) != 0)
		return rc;
	xc_conn_next_id(c, id);
	at->sent = true; /* from here on the agent may have the request */
	rc = send_request(c, call, ch, id, deadline, err);
	while (rc == 0) {
		const char *line;
		size_t len;

		if ((rc = xc_chan_read_line(ch, deadline, &line, &len, err)) != 0)
			break;
		rc = handle_line(call, id, line, len, at, err);
		if (rc == KEEP_READING) {
			rc = 0;
			continue;
		}
		/* A final answer (result or agent error) leaves the channel ready for more. */
		xc_pool_put(c, ch, rc == 0 || err == NULL || err->remote_code[0] != '\0');
		return rc;
	}
	xc_pool_put(c, ch, false);
	return rc;
}

static int64_t call_deadline(const struct xclone_conn *c, const struct xc_call *call)
{
	if (call->streaming)
		return xc_deadline_in(c->opt.watch_timeout_ms);
	return xc_deadline_in((uint64_t)c->opt.request_timeout_ms + call->extra_ms);
}

int xc_call_run(struct xclone_conn *c, struct xc_call *call, struct xclone_error *err)
{
	struct xclone_error local;
	int64_t deadline = call_deadline(c, call);
	unsigned attempt = 1;
	int rc;

	if (err == NULL)
		err = &local; /* the retry decision reads the error */
	for (;;) {
		struct attempt at = { .resumed = attempt > 1 };
		unsigned delay;

		memset(err, 0, sizeof(*err));
		rc = attempt_once(c, call, deadline, &at, err);
		if (rc == 0 || rc != XC_E_CONNECT || !err->retryable)
			return rc;
		if (at.sent && !resend_safe(call->op)) {
			size_t n = strlen(err->message);

			snprintf(err->message + n, sizeof(err->message) - n,
				 "; %s may or may not have been applied: check before sending it again",
				 xp_op_name(call->op));
			err->retryable = 0;
			return rc;
		}
		if (at.answered)
			attempt = 1; /* it was working: a new loss gets a fresh series of retries */
		if (attempt >= c->opt.max_attempts)
			return rc;
		delay = xc_backoff_ms(attempt, c->opt.backoff_ms, c->opt.backoff_max_ms);
		if (deadline != XC_NO_DEADLINE && xc_now_ms() + delay >= deadline)
			return rc;
		xc_log(&c->opt, "%s: %s; retry %u in %u ms", xp_op_name(call->op), err->message,
		       attempt, delay);
		if (call->on_retry != NULL && call->on_retry(attempt, delay, err, call->ud) != 0)
			return xclone_error_set(err, XC_E_ABORTED, "%s: stopped by the caller",
						xp_op_name(call->op));
		xc_sleep_until(deadline, delay);
		xc_conn_count(c, &c->stats.retries);
		attempt++;
	}
}

int xc_call_begin(struct xclone_conn *c, void *out, enum xp_op op, struct xc_call **call,
		  struct xclone_error *err)
{
	if (out != NULL)
		*(void **)out = NULL;
	if (c == NULL)
		return xclone_error_set(err, XC_E_USAGE, "no connection");
	*call = xc_call_new(op);
	if (*call == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	return 0;
}
