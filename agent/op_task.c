/* task.get, task.watch, task.cancel, task.clean, task.list (PROTOCOL.md 5.9-5.11). */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "ops.h"
#include "task_store.h"
#include "task_watch.h"

#define CANCEL_POLL_MS 20
#define CANCEL_SLACK_MS 10000     /* beyond cancel_grace_seconds: the supervisor's own cleanup */
#define LIST_ENVELOPE_MAX 256     /* envelope, "tasks", "truncated" around the records */

/*
 * Task records (about 12 KiB) live on the handler's stack: on the heap, musl's
 * allocator maps and unmaps a fresh group for every request, which was a fifth
 * of a session-mode task.get.
 */

AG_OP(op_task_get)
{
	struct ag_store s;
	struct xp_task t;
	int rc;

	ag_store_open(&s, ctx->cfg);
	rc = ag_task_load(&s, req->args.task, &t, err);
	if (rc == 0)
		rc = ag_task_result(&t, result, err);
	return rc;
}

/* --- task.watch ------------------------------------------------------------- */

/* Waits up to ms; true when the client is gone (the output's other end closed). */
static bool wait_or_gone(int out_fd, int ms)
{
	struct pollfd p = { .fd = out_fd, .events = 0 };

	if (poll(&p, 1, ms) <= 0)
		return false;
	return (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
}

static int emit_progress(struct ag_ctx *ctx, const char *id, const struct xp_progress *ev,
			 struct xp_error *err)
{
	cJSON *data = xp_progress_to_json(ev, err);

	if (data == NULL)
		return err->code;
	return ag_emit_event(ctx, id, XP_EVENT_PROGRESS, data) == 0 ? 0 : -1;
}

/*
 * Events while the task runs, then {task}. A client that goes away ends the
 * watch quietly (the clone goes on): the handler then answers with an empty
 * result that cannot be delivered, and the session ends.
 */
AG_OP(op_task_watch)
{
	struct ag_store s;
	struct ag_watch *w = malloc(sizeof(*w));
	enum ag_watch_status st = AG_WATCH_MORE;
	struct xp_progress ev;
	bool has_event;
	int rc = w ? 0 : xp_error_set(err, XP_INTERNAL, "result", "out of memory");

	ag_store_open(&s, ctx->cfg);
	if (rc == 0)
		rc = ag_watch_start(w, &s, req->args.task, err);
	while (rc == 0) {
		if ((rc = ag_watch_step(w, &s, &st, &has_event, &ev, err)) != 0)
			break;
		if (has_event && (rc = emit_progress(ctx, req->id, &ev, err)) != 0)
			break;
		if (st == AG_WATCH_DONE) {
			rc = ag_task_result(&w->task, result, err);
			break;
		}
		if (wait_or_gone(ctx->out_fd, AG_WATCH_PERIOD_MS)) {
			rc = -1;
			break;
		}
	}
	if (rc < 0) {
		ag_log(AG_LOG_INFO, "task.watch %s: the client went away; the task goes on",
		       req->args.task);
		rc = 0;
	}
	free(w);
	return rc;
}

/* --- task.cancel ------------------------------------------------------------ */

/* Pointer files go; the record stays as it is. For records already final. */
static void remove_leftovers(const struct ag_store *s, const struct xp_task *t)
{
	struct xp_error e = { 0 };

	if (ag_task_remove_pointer(s->cfg, t->pointer, t->id, NULL, NULL, &e) != 0)
		ag_log(AG_LOG_WARN, "task %s: %s", t->id, e.message);
}

/*
 * Cancel of a task whose supervisor is gone: nobody else can stop or clean it,
 * so the canceller does, holding the task's lock; the record says canceled.
 * *held: someone else holds the lock (a reader settling it): look again later.
 */
static int cancel_orphan(const struct ag_store *s, struct xp_task *t, bool *held,
			 struct xp_error *err)
{
	int fd = -1, claimed = ag_task_claim(s, t->id, &fd), rc;

	*held = claimed == 0;
	if (claimed < 0)
		return xp_error_set(err, XP_TASK_NOT_FOUND, "args.task", "no task %s", t->id);
	if (claimed == 0)
		return 0;
	rc = ag_task_read(s, t->id, t, err);
	if (rc == 0 && !xp_task_state_final(t->state)) {
		remove_leftovers(s, t);
		t->state = XP_TASK_CANCELED;
		t->has_ended_ms = true;
		t->ended_ms = ag_now_ms();
		snprintf(t->message, sizeof(t->message), "%s",
			 "canceled by task.cancel; its supervisor was already gone");
		rc = ag_task_write(s, t, err);
	}
	close(fd);
	return rc;
}

/* Asks the supervisor to stop and waits for the final record. */
static int cancel_live(const struct ag_ctx *ctx, const struct ag_store *s, struct xp_task *t,
		       struct xp_error *err)
{
	int64_t deadline = ag_now_ms() + (int64_t)ctx->cfg->cancel_grace_s * 1000 + CANCEL_SLACK_MS;
	bool held;
	int rc;

	if ((rc = ag_task_request_cancel(s, t->id, err)) != 0)
		return rc;
	ag_log(AG_LOG_INFO, "task %s: cancel requested", t->id);
	for (;;) {
		if ((rc = ag_task_read(s, t->id, t, err)) != 0 || xp_task_state_final(t->state))
			return rc;
		if (!ag_task_supervised(s, t->id) &&
		    ((rc = cancel_orphan(s, t, &held, err)) != 0 || !held))
			return rc;
		if (ag_now_ms() > deadline)
			return xp_error_set(err, XP_TIMEOUT, "args.task",
					    "task %s did not stop within %u s", t->id,
					    ctx->cfg->cancel_grace_s + CANCEL_SLACK_MS / 1000);
		(void)poll(NULL, 0, CANCEL_POLL_MS);
	}
}

AG_OP(op_task_cancel)
{
	struct ag_store s;
	struct xp_task task;
	struct xp_task *t = &task;
	bool held = true;
	int rc;

	ag_store_open(&s, ctx->cfg);
	rc = ag_task_read(&s, req->args.task, t, err);
	if (rc == 0 && t->state == XP_TASK_LOST) {
		remove_leftovers(&s, t); /* a final state never changes; its files may go */
	} else if (rc == 0 && !xp_task_state_final(t->state)) {
		if (!ag_task_supervised(&s, t->id))
			rc = cancel_orphan(&s, t, &held, err);
		if (rc == 0 && held)
			rc = cancel_live(ctx, &s, t, err);
	}
	if (rc == 0)
		rc = ag_task_result(t, result, err);
	return rc;
}

/* --- task.clean ------------------------------------------------------------- */

static int add_removed(void *ctx, const char *path)
{
	return cJSON_AddItemToArray(ctx, cJSON_CreateString(path)) ? 0 : -1;
}

AG_OP(op_task_clean)
{
	struct ag_store s;
	struct xp_task task;
	struct xp_task *t = &task;
	cJSON *r = NULL, *removed;
	int rc;

	ag_store_open(&s, ctx->cfg);
	rc = ag_task_load(&s, req->args.task, t, err);
	if (rc == 0 && !xp_task_state_final(t->state))
		rc = xp_error_set(err, XP_TASK_ACTIVE, "args.task",
				  "task %s is %s: cancel it first", t->id,
				  xp_task_state_name(t->state));
	if (rc == 0) {
		r = cJSON_CreateObject();
		removed = cJSON_AddArrayToObject(r, "removed");
		if (r == NULL || removed == NULL || !cJSON_AddStringToObject(r, "task", t->id))
			rc = xp_error_set(err, XP_INTERNAL, "result", "out of memory");
		else
			rc = ag_task_clean(&s, t, add_removed, removed, err);
	}
	if (rc == 0) {
		ag_log(AG_LOG_INFO, "task %s cleaned", t->id);
		*result = r;
		r = NULL;
	}
	cJSON_Delete(r);
	return rc;
}

/* --- task.list -------------------------------------------------------------- */

/* Adds records newest first while the line stays under XP_LINE_MAX. */
static int list_tasks(const struct ag_store *s, const struct ag_task_ids *ids, cJSON *tasks,
		      bool *truncated, struct xp_error *err)
{
	struct xp_task *t = malloc(sizeof(*t));
	size_t used = LIST_ENVELOPE_MAX;
	int rc = t ? 0 : xp_error_set(err, XP_INTERNAL, "result", "out of memory");

	*truncated = false;
	for (size_t i = 0; rc == 0 && i < ids->n; i++) {
		struct xp_error e = { 0 };
		cJSON *json;
		char *text;

		if (ag_task_load(s, ids->id[i], t, &e) != 0)
			continue; /* cleaned meanwhile, or half made */
		json = xp_task_to_json(t, &e);
		text = json ? cJSON_PrintUnformatted(json) : NULL;
		if (text == NULL) {
			cJSON_Delete(json);
			rc = xp_error_set(err, XP_INTERNAL, "result", "out of memory");
			break;
		}
		used += strlen(text) + 1;
		free(text);
		if (used > XP_LINE_MAX) {
			cJSON_Delete(json);
			*truncated = true;
			break;
		}
		cJSON_AddItemToArray(tasks, json);
	}
	free(t);
	return rc;
}

AG_OP(op_task_list)
{
	struct ag_store s;
	struct ag_task_ids ids = { 0 };
	struct xp_error gc = { 0 };
	cJSON *r = NULL, *tasks;
	bool truncated = false;
	int rc = ag_store_create(&s, ctx->cfg, err);

	if (rc == 0 && ag_store_gc(&s, ag_now_ms(), &gc) != 0)
		ag_log(AG_LOG_WARN, "task garbage collection: %s", gc.message);
	if (rc == 0)
		rc = ag_store_list(&s, &ids, err);
	if (rc == 0) {
		r = cJSON_CreateObject();
		tasks = cJSON_AddArrayToObject(r, "tasks");
		rc = tasks ? list_tasks(&s, &ids, tasks, &truncated, err)
			   : xp_error_set(err, XP_INTERNAL, "result", "out of memory");
	}
	if (rc == 0 && !cJSON_AddBoolToObject(r, "truncated", truncated))
		rc = xp_error_set(err, XP_INTERNAL, "result", "out of memory");
	ag_task_ids_free(&ids);
	if (rc != 0) {
		cJSON_Delete(r);
		return rc;
	}
	*result = r;
	return 0;
}
