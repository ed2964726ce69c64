/* Request dispatch and the permission check (see dispatch.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dispatch.h"
#include "log.h"
#include "ops.h"

/*
 * Indexed by enum xp_op; the protocol's table says which ops mutate. A row left
 * NULL answers INTERNAL "operation missing from this build".
 */
static const ag_op_fn handlers[XP_OP_COUNT] = {
	[XP_OP_HELLO] = op_hello,
	[XP_OP_HOST_INFO] = op_host_info,
	[XP_OP_STORAGE_RESCAN] = op_storage_rescan,
	[XP_OP_DEVICE_GET] = op_device_get,
	[XP_OP_DEVICE_WAIT] = op_device_wait,
	[XP_OP_DEVICE_DETACH] = op_device_detach,
	[XP_OP_PREFLIGHT] = op_preflight,
	[XP_OP_CLONE_START] = op_clone_start,
	[XP_OP_TASK_GET] = op_task_get,
	[XP_OP_TASK_WATCH] = op_task_watch,
	[XP_OP_TASK_CANCEL] = op_task_cancel,
	[XP_OP_TASK_CLEAN] = op_task_clean,
	[XP_OP_TASK_LIST] = op_task_list,
};

bool ag_request_permitted(const struct ag_caller *caller, enum xp_op op)
{
	if ((unsigned)op >= XP_OP_COUNT)
		return false;
	if (caller->read_only && xp_op_mutates(op))
		return false;
	return (caller->allowed & (UINT32_C(1) << op)) != 0;
}

/*
 * One writev for the line and its newline: behind sshd every write becomes
 * its own channel packet, and a reader waiting for '\n' would otherwise pay a
 * second trip through sshd and the client for each answer.
 */
int ag_write_line(int fd, const char *line)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)line, .iov_len = strlen(line) },
		{ .iov_base = "\n", .iov_len = 1 },
	};
	struct iovec *v = iov;
	int count = 2;

	while (count > 0) {
		ssize_t n = writev(fd, v, count);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		while (count > 0 && (size_t)n >= v->iov_len) {
			n -= (ssize_t)v->iov_len;
			v++;
			count--;
		}
		if (count > 0) {
			v->iov_base = (char *)v->iov_base + n;
			v->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Writes a line the codec built (NULL when encoding failed), freeing it. */
static int write_encoded(struct ag_ctx *ctx, const char *id, char *line, const struct xp_error *e)
{
	int rc;

	if (line == NULL) {
		ag_log(AG_LOG_ERROR, "cannot encode a response: %s", e->message);
		line = xp_response_error(id, XP_INTERNAL, "the agent could not encode its answer",
					 NULL);
		if (line == NULL)
			return -1;
	}
	rc = ag_write_line(ctx->out_fd, line);
	free(line);
	return rc;
}

int ag_write_error(struct ag_ctx *ctx, const char *id, enum xp_code code, const char *message)
{
	struct xp_error e = { 0 };

	return write_encoded(ctx, id, xp_response_error(id, code, message, &e), &e);
}

int ag_emit_event(struct ag_ctx *ctx, const char *id, const char *event, cJSON *data)
{
	struct xp_error e = { 0 };

	return write_encoded(ctx, id, xp_event(id, event, data, &e), &e);
}

int ag_dispatch_request(struct ag_ctx *ctx, const struct xp_request *req, cJSON **result,
			struct xp_error *err)
{
	const char *op = xp_op_name(req->op);
	int rc;

	*result = NULL;
	if (!ag_request_permitted(ctx->caller, req->op)) {
		ag_log(AG_LOG_WARN, "denied %s (id %s) for this %s caller%s", op, req->id,
		       ag_mode_name(ctx->caller->mode),
		       ctx->caller->read_only ? " (read-only)" : "");
		return xp_error_set(err, XP_DENIED, "op",
				    "this key or connection may not run %s", op);
	}
	if (handlers[req->op] == NULL)
		return xp_error_set(err, XP_INTERNAL, "op", "%s is missing from this build", op);
	ag_log(AG_LOG_DEBUG, "%s (id %s)", op, req->id);
	rc = handlers[req->op](ctx, req, result, err);
	if (rc != 0) {
		ag_log(xp_code_retryable(rc) ? AG_LOG_INFO : AG_LOG_WARN, "%s (id %s) failed: %s %s",
		       op, req->id, xp_code_name(rc), err->message);
		cJSON_Delete(*result);
		*result = NULL;
	}
	return rc;
}

int ag_dispatch_line_with(struct ag_ctx *ctx, struct xp_request *req, const char *line,
			  size_t len)
{
	struct xp_error err = { 0 };
	cJSON *result = NULL;
	int rc;

	rc = xp_request_decode(line, len, req, &err);
	if (rc != 0) {
		ag_log(AG_LOG_INFO, "refused a request (%s): %s", xp_code_name(rc), err.message);
		return ag_write_error(ctx, req->id, rc, err.message);
	}
	rc = ag_dispatch_request(ctx, req, &result, &err);
	if (rc != 0)
		return ag_write_error(ctx, req->id, rc, err.message);
	return write_encoded(ctx, req->id, xp_response_ok(req->id, result, &err), &err);
}

int ag_dispatch_line(struct ag_ctx *ctx, const char *line, size_t len)
{
	/* xp_request holds every argument buffer (about 5 KiB): keep it off the stack. */
	struct xp_request *req = malloc(sizeof(*req));
	int rc;

	if (req == NULL)
		return ag_write_error(ctx, NULL, XP_INTERNAL, "out of memory");
	rc = ag_dispatch_line_with(ctx, req, line, len);
	free(req);
	return rc;
}
