/*
 * Forklift compatibility (see compat.h and README-compat.md): the wrapper's
 * verbs answered in its exact format, on top of the task engine, so a task
 * started here is the same task task.get shows.
 *
 * The answer is the wrapper's document, byte for byte where the wrapper is
 * well-formed (kubev2v/forklift vmkfstools_wrapper.sh, xml_output): a 4-space
 * indented esxcli XML envelope with fields status and message, the message a
 * JSON object written with ", " and ": " separators. Unlike the wrapper, the
 * message is XML-escaped, so '<' and '&' in a path cannot break the document.
 *
 * Each verb runs the protocol operation it stands for (clone.start, task.get,
 * task.clean), with the caller's permissions. Differences from the wrapper,
 * all on paths the wrapper could not take: a source with spaces works; clean of
 * a running task cancels it first instead of deleting files under it.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "ops.h"
#include "task_store.h"

#define COMPAT_ID "compat"
#define PID_WAIT_MS 2000 /* how long --clone waits for vmkfstools' pid */

/* --- output buffer ---------------------------------------------------------- */

struct obuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void ob_add(struct obuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void ob_str(struct obuf *b, const char *s)
{
	ob_add(b, s, strlen(s));
}

static void ob_fmt(struct obuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ob_fmt(struct obuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		ob_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A JSON string literal, escaped as the wrapper's escape_json does, plus the rest of C0. */
static void ob_json_str(struct obuf *b, const char *s)
{
	ob_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			ob_add(b, esc, 2);
		} else if (c == '\n') {
			ob_str(b, "\\n");
		} else if (c == '\r') {
			ob_str(b, "\\r");
		} else if (c == '\t') {
			ob_str(b, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			ob_fmt(b, "\\u%04x", c);
		} else {
			ob_add(b, s, 1);
		}
	}
	ob_add(b, "\"", 1);
}

/* Text inside an XML element. */
static void ob_xml(struct obuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			ob_str(b, "&amp;");
		else if (*s == '<')
			ob_str(b, "&lt;");
		else if (*s == '>')
			ob_str(b, "&gt;");
		else
			ob_add(b, s, 1);
	}
}

/* The wrapper's xml_output, written to out_fd. 0 when status is 0 and it was written. */
static int answer(const struct ag_ctx *ctx, int status, const char *message)
{
	struct obuf b = { 0 };
	int rc;

	ob_str(&b, "<?xml version=\"1.0\" ?>\n"
		   "<output xmlns=\"http://www.vmware.com/Products/ESX/5.0/esxcli/\">\n"
		   "    <structure typeName=\"result\">\n");
	ob_fmt(&b, "        <field name=\"status\"><string>%d</string></field>\n", status);
	ob_str(&b, "        <field name=\"message\"><string>");
	ob_xml(&b, message);
	ob_str(&b, "</string></field>\n"
		   "    </structure>\n"
		   "</output>");
	rc = b.oom ? -1 : ag_write_line(ctx->out_fd, b.p);
	free(b.p);
	return rc == 0 ? status : 1;
}

/* Failure answer whose message is the JSON the wrapper uses: {"taskId", "stdErr", "xcopyUsed"}. */
static int answer_task_error(const struct ag_ctx *ctx, const char *id, const struct xp_error *e)
{
	struct obuf m = { 0 };
	char text[sizeof(e->message) + XP_CODE_NAME_MAX + 4];
	int rc;

	snprintf(text, sizeof(text), "%s: %s", xp_code_name(e->code), e->message);
	ob_str(&m, "{\"taskId\": ");
	ob_json_str(&m, id);
	ob_str(&m, ", \"stdErr\": ");
	ob_json_str(&m, text);
	ob_str(&m, ", \"xcopyUsed\": false}");
	rc = m.oom ? answer(ctx, 1, "out of memory") : answer(ctx, 1, m.p);
	free(m.p);
	return rc;
}

/* Plain-text failure, as the wrapper's "Path validation error: ..." answers. */
static int answer_error(const struct ag_ctx *ctx, const struct xp_error *e)
{
	char text[sizeof(e->message) + XP_CODE_NAME_MAX + 4];

	snprintf(text, sizeof(text), "%s: %s", xp_code_name(e->code), e->message);
	return answer(ctx, 1, text);
}

/* --- running operations ----------------------------------------------------- */

/* Runs op with the caller's permissions; *result owned by the caller on 0. */
static int call(struct ag_ctx *ctx, enum xp_op op, ag_op_fn fn, const struct ag_sshcmd *cmd,
		cJSON **result, struct xp_error *err)
{
	struct xp_request *req = calloc(1, sizeof(*req));
	int rc;

	*result = NULL;
	if (req == NULL)
		return xp_error_set(err, XP_INTERNAL, "args", "out of memory");
	xp_request_init(req, COMPAT_ID, op);
	if (!ag_request_permitted(ctx->caller, op)) {
		rc = xp_error_set(err, XP_DENIED, "op", "this key may not run %s", xp_op_name(op));
	} else if (op == XP_OP_CLONE_START) {
		rc = xp_args_set_string(&req->args, XP_ARG_SOURCE, cmd->source, err);
		if (rc == 0)
			rc = xp_args_set_string(&req->args, XP_ARG_TARGET, cmd->device, err);
	} else {
		rc = xp_args_set_string(&req->args, XP_ARG_TASK, cmd->task_id, err);
	}
	if (rc == 0) {
		ag_log(AG_LOG_DEBUG, "compat %s -> %s", ag_compat_verb_name(cmd->verb),
		       xp_op_name(op));
		rc = fn(ctx, req, result, err);
	}
	free(req);
	return rc;
}

/* The task record inside a {"task": ...} result. */
static int result_task(const cJSON *result, struct xp_task *t, struct xp_error *err)
{
	return xp_task_from_json(cJSON_GetObjectItemCaseSensitive(result, "task"), t, "result.task",
				 err);
}

/* --- the wrapper's fields --------------------------------------------------- */

/* exitCode: "" while running, then what `sh -c vmkfstools` would have exited with. */
static void exit_code_text(const struct xp_task *t, char *buf, size_t cap)
{
	if (!xp_task_state_final(t->state))
		snprintf(buf, cap, "%s", "");
	else if (t->state == XP_TASK_SUCCEEDED)
		snprintf(buf, cap, "0");
	else if (t->has_signal)
		snprintf(buf, cap, "%d", 128 + (int)t->signal);
	else if (t->has_exit_code && t->exit_code != 0)
		snprintf(buf, cap, "%d", (int)t->exit_code);
	else
		snprintf(buf, cap, "1"); /* never ran, or lost: the wrapper's "assume failure" */
}

/* lastLine: vmkfstools' last '\r'-separated text, rebuilt from the record. */
static void last_line(const struct xp_task *t, struct obuf *b)
{
	if (!t->has_started_ms)
		return;
	ob_fmt(b, "Clone: %d%% done.", (int)t->percent);
	if (t->state == XP_TASK_FAILED && t->error_code == XP_CLONE_FAILED &&
	    strncmp(t->message, "Failed to ", 10) == 0)
		ob_str(b, t->message);
}

static void task_get_json(const struct xp_task *t, struct obuf *m)
{
	char code[16];
	struct obuf line = { 0 };
	const char *err_text = t->stderr_tail;

	exit_code_text(t, code, sizeof(code));
	last_line(t, &line);
	if (err_text[0] == '\0' && (t->state == XP_TASK_FAILED || t->state == XP_TASK_LOST))
		err_text = t->message; /* the populator shows stdErr when a clone fails */
	ob_str(m, "{\"taskId\": ");
	ob_json_str(m, t->id);
	ob_fmt(m, ", \"pid\": %lld, \"exitCode\": ", t->has_pid ? (long long)t->pid : 0LL);
	ob_json_str(m, code);
	ob_str(m, ", \"lastLine\": ");
	ob_json_str(m, line.p ? line.p : "");
	ob_str(m, ", \"xcopyUsed\": ");
	ob_str(m, !t->has_xcopy_used ? "null" : t->xcopy_used ? "true" : "false");
	ob_str(m, ", \"stdErr\": ");
	ob_json_str(m, err_text);
	ob_str(m, "}");
	m->oom |= line.oom;
	free(line.p);
}

/* --- verbs ------------------------------------------------------------------ */

/* Waits briefly for vmkfstools' pid, which the wrapper's answer carries. */
static void wait_for_pid(const struct ag_ctx *ctx, struct xp_task *t)
{
	struct ag_store s;
	struct xp_error e = { 0 };
	int64_t until = ag_now_ms() + PID_WAIT_MS;

	ag_store_open(&s, ctx->cfg);
	while (!t->has_pid && !xp_task_state_final(t->state) && ag_now_ms() < until) {
		(void)usleep(10000);
		if (ag_task_load(&s, t->id, t, &e) != 0)
			return;
	}
}

static int verb_clone(struct ag_ctx *ctx, const struct ag_sshcmd *cmd, struct xp_task *t)
{
	struct xp_error e = { 0 };
	struct obuf m = { 0 };
	cJSON *result;
	int rc = call(ctx, XP_OP_CLONE_START, op_clone_start, cmd, &result, &e);

	if (rc == 0)
		rc = result_task(result, t, &e);
	cJSON_Delete(result);
	if (rc != 0)
		return answer_error(ctx, &e);
	wait_for_pid(ctx, t);
	ob_str(&m, "{\"taskId\": ");
	ob_json_str(&m, t->id);
	ob_fmt(&m, ", \"pid\": %lld, \"xcopyUsed\": false}", t->has_pid ? (long long)t->pid : 0LL);
	rc = m.oom ? answer(ctx, 1, "out of memory") : answer(ctx, 0, m.p);
	free(m.p);
	return rc;
}

static int verb_task_get(struct ag_ctx *ctx, const struct ag_sshcmd *cmd, struct xp_task *t)
{
	struct xp_error e = { 0 };
	struct obuf m = { 0 };
	cJSON *result;
	int rc = call(ctx, XP_OP_TASK_GET, op_task_get, cmd, &result, &e);

	if (rc == 0)
		rc = result_task(result, t, &e);
	cJSON_Delete(result);
	if (rc != 0)
		return answer_task_error(ctx, cmd->task_id, &e);
	task_get_json(t, &m);
	rc = m.oom ? answer(ctx, 1, "out of memory") : answer(ctx, 0, m.p);
	free(m.p);
	return rc;
}

/* Clean; a running task is canceled first (the populator abandons it). */
static int verb_task_clean(struct ag_ctx *ctx, const struct ag_sshcmd *cmd)
{
	struct xp_error e = { 0 };
	cJSON *result;
	int rc = call(ctx, XP_OP_TASK_CLEAN, op_task_clean, cmd, &result, &e);

	cJSON_Delete(result);
	if (rc == XP_TASK_ACTIVE) {
		xp_error_clear(&e);
		rc = call(ctx, XP_OP_TASK_CANCEL, op_task_cancel, cmd, &result, &e);
		cJSON_Delete(result);
		if (rc == 0)
			rc = call(ctx, XP_OP_TASK_CLEAN, op_task_clean, cmd, &result, &e);
		cJSON_Delete(result);
	}
	if (rc != 0)
		return answer_task_error(ctx, cmd->task_id, &e);
	return answer(ctx, 0, "");
}

/* The wrapper release this agent answers as (setting compat_wrapper_version): MTV
 * compares it with its own VibVersion and reinstalls its VIB when they differ. */
static int verb_version(const struct ag_ctx *ctx)
{
	struct obuf m = { 0 };
	int rc;

	ob_str(&m, "{\"version\": ");
	ob_json_str(&m, ctx->cfg->compat_wrapper_version);
	ob_str(&m, "}");
	rc = m.oom ? answer(ctx, 1, "out of memory") : answer(ctx, 0, m.p);
	free(m.p);
	return rc;
}

static int run_verb(struct ag_ctx *ctx, const struct ag_sshcmd *cmd)
{
	struct xp_task *t;
	int rc;

	switch (cmd->verb) {
	case AG_COMPAT_PING:
		return ag_write_line(ctx->out_fd, "SSH_OK") == 0 ? 0 : 1;
	case AG_COMPAT_VERSION:
		return verb_version(ctx);
	case AG_COMPAT_TASK_CLEAN:
		return verb_task_clean(ctx, cmd);
	case AG_COMPAT_CLONE:
	case AG_COMPAT_TASK_GET:
		t = malloc(sizeof(*t));
		if (t == NULL)
			return answer(ctx, 1, "out of memory");
		rc = cmd->verb == AG_COMPAT_CLONE ? verb_clone(ctx, cmd, t)
						   : verb_task_get(ctx, cmd, t);
		free(t);
		return rc;
	case AG_COMPAT_NONE:
		break;
	}
	return answer(ctx, 1, "Unknown option");
}

int ag_compat_refuse(struct ag_ctx *ctx, const char *message)
{
	return answer(ctx, 1, message) != 0;
}

int ag_compat_run(struct ag_ctx *ctx, const struct ag_sshcmd *cmd)
{
	/*
	 * The wrapper's script ends with `exit ${exit_code}` in both of its forms
	 * (SSH and the esxcli plugin), so xclone exits non-zero on failure too
	 * (vib/README.md, "Compatibility namespace").
	 */
	return run_verb(ctx, cmd) != 0;
}
