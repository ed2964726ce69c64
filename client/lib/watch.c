/* task.watch with resumption after lost connections (see xclone.h). */
#include <string.h>

#include "call.h"
#include "results.h"
#include "xp_progress.h"

struct watch {
	xclone_watch_fn cb;
	void *ud;
};

static int on_event(const char *event, const cJSON *data, void *ud)
{
	struct watch *w = ud;
	struct xp_progress p;
	struct xclone_event ev = { .type = XCLONE_EVENT_PROGRESS };

	if (strcmp(event, XP_EVENT_PROGRESS) != 0 || w->cb == NULL)
		return 0; /* PROTOCOL.md: ignore events you do not know */
	if (xp_progress_from_json(data, &p, "data", NULL) != 0)
		return 0; /* the call layer has checked it already */
	ev.task = p.task;
	ev.state = (enum xclone_task_state)p.state;
	ev.percent = (int)p.percent;
	ev.has_bytes = p.has_bytes;
	ev.bytes = p.bytes;
	return w->cb(&ev, w->ud);
}

static int on_retry(unsigned attempt, unsigned delay_ms, const struct xclone_error *why, void *ud)
{
	struct watch *w = ud;
	struct xclone_event ev = { .type = XCLONE_EVENT_RECONNECTING, .attempt = attempt,
				   .delay_ms = delay_ms, .reason = why->message };

	return w->cb != NULL ? w->cb(&ev, w->ud) : 0;
}

static int on_resumed(void *ud)
{
	struct watch *w = ud;
	struct xclone_event ev = { .type = XCLONE_EVENT_RESUMED };

	return w->cb != NULL ? w->cb(&ev, w->ud) : 0;
}

int xclone_task_watch(xclone_conn *c, const char *task, xclone_watch_fn cb, void *userdata,
		      struct xclone_task **out, struct xclone_error *err)
{
	struct watch w = { cb, userdata };
	struct xc_call *call;
	int rc;

	if ((rc = xc_call_begin(c, out, XP_OP_TASK_WATCH, &call, err)) != 0)
		return rc;
	call->streaming = true;
	call->on_event = on_event;
	call->on_retry = on_retry;
	call->on_resumed = on_resumed;
	call->ud = &w;
	if (task == NULL || task[0] == '\0')
		rc = xclone_error_set(err, XC_E_USAGE, "no task given");
	else if ((rc = xc_call_set(call, XP_ARG_TASK, task, err)) == 0 &&
		 (rc = xc_call_run(c, call, err)) == 0 && out != NULL)
		rc = xc_task_from(cJSON_GetObjectItemCaseSensitive(call->result, "task"), out, err);
	xc_call_free(call);
	return rc;
}
