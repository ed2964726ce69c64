/*
 * Populate, one disk on the ESXi host (runs on a worker thread): wait for the
 * device, preflight, clone with the disk's idempotency key, watch, then let go
 * of everything on the host: task.clean (pointer file and task folder) and
 * device.detach. The array side (unmap, restore) follows on the same thread
 * (populate_array.c).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "populate_engine.h"

#define BUSY_FIRST_MS 250
#define BUSY_MAX_MS 4000
#define DEVICE_TIMEOUT_MS 120000

bool pop_stopping(const struct pop_run *run)
{
	return run->opt->stop != NULL && *run->opt->stop != 0;
}

static bool agent_usable(const struct pop_run *run)
{
	return run->agent_open && !run->agent_dead && !run->journal_dead;
}

static bool may_go_on(const struct pop_run *run, const struct pop_disk *d)
{
	return d->forward && agent_usable(run) && !pop_stopping(run) && d->outcome == OUT_NONE;
}

/* An agent call failed: the disk's problem when the agent answered, the run's when not. */
static void agent_failed(struct pop_run *run, const struct xclone_error *e)
{
	if (!pop_agent_answered(e)) {
		run->agent_dead = true;
		pop_fatal(run, e);
	}
}

static cJSON *failure_data(const struct pop_disk *d)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "outcome", pop_outcome_name(d->outcome));
	cJSON_AddStringToObject(o, "error_code", d->error_code);
	cJSON_AddStringToObject(o, "message", d->message);
	return o;
}

/* The step failed. When the agent answered, the disk's outcome is decided. */
static void step_failed(struct pop_run *run, struct pop_disk *d, enum pop_step step,
			const struct xclone_error *e, const char *what)
{
	struct xclone_error err;

	agent_failed(run, e);
	if (pop_agent_answered(e) || e->code == XC_E_USAGE) {
		pop_disk_fail(d, OUT_FAILED, NULL, e, "%s", what);
		(void)pop_record(run, d, step, MARK_FAILED, failure_data(d), &err);
	} else {
		(void)pop_record(run, d, step, MARK_FAILED, NULL, &err);
		pop_log(run, "disk %zu: %s: %s", d->index, what, e->message);
	}
	d->forward = false;
}

static int device_step(struct pop_run *run, struct pop_disk *d)
{
	unsigned timeout = run->opt->device_timeout_ms ? run->opt->device_timeout_ms
						       : DEVICE_TIMEOUT_MS;
	struct xclone_device *dev = NULL;
	struct xclone_rescan st = { 0, 0 };
	struct xclone_error err = { 0 };
	cJSON *data;
	int rc;

	pop_phase(run, d, XCLONE_PHASE_DEVICE, "waiting for %s on the host", d->lun.naa);
	if (pop_record(run, d, STEP_DEVICE, MARK_INTENT, NULL, &err) != 0)
		return -1;
	d->intent |= POP_BIT(STEP_DEVICE);
	rc = run->be.device_wait(run->be.ctx, d->lun.naa, timeout, &dev, &st, &err);
	pthread_mutex_lock(&run->lock);
	run->rescans += st.rescans;
	pthread_mutex_unlock(&run->lock);
	if (rc != 0) {
		step_failed(run, d, STEP_DEVICE, &err, "the device did not appear on the host");
		return rc;
	}
	data = cJSON_CreateObject();
	cJSON_AddNumberToObject(data, "size_bytes", (double)dev->size_bytes);
	cJSON_AddNumberToObject(data, "paths", (double)dev->paths);
	cJSON_AddNumberToObject(data, "rescans", (double)st.rescans);
	xclone_device_free(dev);
	rc = pop_record(run, d, STEP_DEVICE, MARK_DONE, data, &err);
	if (rc == 0)
		d->done |= POP_BIT(STEP_DEVICE);
	return rc;
}

static void join_reasons(const struct xclone_preflight *p, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < p->n_reasons && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s", i ? "; " : "", p->reasons[i]);
}

static int preflight_step(struct pop_run *run, struct pop_disk *d)
{
	struct xclone_preflight *p = NULL;
	struct xclone_error err = { 0 };
	cJSON *data;
	int rc;

	pop_phase(run, d, XCLONE_PHASE_PREFLIGHT, "preflight");
	rc = run->be.preflight(run->be.ctx, d->spec->source, d->lun.naa, &p, &err);
	if (rc != 0) {
		step_failed(run, d, STEP_PREFLIGHT, &err, "preflight failed");
		return rc;
	}
	d->xcopy_expected = p->xcopy_expected ? 1 : 0;
	join_reasons(p, d->reasons, sizeof(d->reasons));
	if (p->n_blockers > 0) {
		pop_disk_fail(d, OUT_UNSAFE, p->blockers[0].code, NULL, "refused by preflight: %s",
			      p->blockers[0].message);
	} else if (run->opt->require_xcopy && !p->xcopy_expected) {
		pop_disk_fail(d, OUT_FAILED, "XCOPY_UNAVAILABLE", NULL,
			      "the array would not copy this disk (%s) and XCOPY is required",
			      d->reasons[0] ? d->reasons : "no reason given");
	}
	xclone_preflight_free(p);
	if (d->outcome != OUT_NONE) {
		(void)pop_record(run, d, STEP_PREFLIGHT, MARK_FAILED, failure_data(d), &err);
		d->forward = false;
		return -1;
	}
	data = cJSON_CreateObject();
	cJSON_AddBoolToObject(data, "xcopy_expected", d->xcopy_expected == 1);
	cJSON_AddStringToObject(data, "reasons", d->reasons);
	rc = pop_record(run, d, STEP_PREFLIGHT, MARK_DONE, data, &err);
	if (rc == 0)
		d->done |= POP_BIT(STEP_PREFLIGHT);
	return rc;
}

/* Sleeps ms, waking early when the run is stopped. */
static void nap(const struct pop_run *run, unsigned ms)
{
	for (unsigned slept = 0; slept < ms && !pop_stopping(run); slept += 50)
		(void)poll(NULL, 0, 50);
}

static int clone_step(struct pop_run *run, struct pop_disk *d)
{
	struct xclone_task *t = NULL;
	struct xclone_error err = { 0 };
	unsigned delay = BUSY_FIRST_MS;
	bool created = false, told = false;
	cJSON *data;
	int rc;

	pop_phase(run, d, XCLONE_PHASE_CLONE, "starting the clone");
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "key", d->agent_key);
	if (pop_record(run, d, STEP_CLONE, MARK_INTENT, data, &err) != 0)
		return -1;
	d->intent |= POP_BIT(STEP_CLONE);
	/* The same key gives the same task: retrying after BUSY or a crash never clones twice. */
	while ((rc = run->be.clone_start(run->be.ctx, d->spec->source, d->lun.naa, d->agent_key, &t,
					 &created, &err)) != 0 &&
	       strcmp(err.remote_code, "BUSY") == 0 && !pop_stopping(run)) {
		if (!told) {
			pthread_mutex_lock(&run->lock);
			pop_emit_locked(run, d, "the host runs as many clones as it allows: waiting");
			pthread_mutex_unlock(&run->lock);
			told = true;
		}
		nap(run, delay);
		delay = delay * 2 > BUSY_MAX_MS ? BUSY_MAX_MS : delay * 2;
	}
	if (rc != 0) {
		if (strcmp(err.remote_code, "BUSY") == 0)
			return rc; /* stopped while waiting for a slot: nothing was started */
		step_failed(run, d, STEP_CLONE, &err, "the clone could not start");
		return rc;
	}
	snprintf(d->task, sizeof(d->task), "%s", t->id);
	xclone_task_free(t);
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "task", d->task);
	cJSON_AddBoolToObject(data, "created", created);
	rc = pop_record(run, d, STEP_CLONE, MARK_DONE, data, &err);
	if (rc == 0)
		d->done |= POP_BIT(STEP_CLONE);
	return rc;
}

struct watch_ctx {
	struct pop_run *run;
	struct pop_disk *d;
};

static int on_watch(const struct xclone_event *ev, void *ud)
{
	struct watch_ctx *w = ud;
	char msg[POP_TEXT_MAX];

	pthread_mutex_lock(&w->run->lock);
	if (ev->type == XCLONE_EVENT_PROGRESS) {
		w->d->percent = ev->percent;
		if (ev->has_bytes) {
			w->d->has_bytes = true;
			w->d->bytes = ev->bytes;
		}
		pop_emit_locked(w->run, w->d, NULL);
	} else if (ev->type == XCLONE_EVENT_RECONNECTING) {
		snprintf(msg, sizeof(msg), "connection lost (%s): reconnecting in %u ms, attempt %u",
			 ev->reason ? ev->reason : "?", ev->delay_ms, ev->attempt);
		pop_emit_locked(w->run, w->d, msg);
	} else {
		pop_emit_locked(w->run, w->d, "watching again on a new connection");
	}
	pthread_mutex_unlock(&w->run->lock);
	return 0; /* a stop is acted on by canceling the task (pop_disk_cancel) */
}

static void take_final(struct pop_disk *d, const struct xclone_task *t)
{
	enum pop_outcome outcome = t->state == XCLONE_TASK_CANCELED ? OUT_CANCELED : OUT_FAILED;
	const char *code = "CLONE_FAILED";
	char what[POP_TEXT_MAX / 2];

	d->xcopy = t->xcopy_used;
	d->has_bytes = t->has_bytes || d->has_bytes;
	if (t->has_bytes)
		d->bytes = t->bytes;
	d->percent = t->percent;
	if (t->state == XCLONE_TASK_SUCCEEDED) {
		d->outcome = OUT_SUCCEEDED;
		return;
	}
	snprintf(what, sizeof(what), "clone %s at %d%%%s%s", xclone_task_state_name(t->state),
		 t->percent, t->message ? ": " : "", t->message ? t->message : "");
	if (t->state == XCLONE_TASK_CANCELED)
		code = "CANCELED";
	else if (t->error_code != NULL)
		code = t->error_code;
	if (t->stderr_tail != NULL && t->stderr_tail[0] != '\0')
		pop_disk_fail(d, outcome, code, NULL, "%s (vmkfstools: %.300s)", what, t->stderr_tail);
	else
		pop_disk_fail(d, outcome, code, NULL, "%s", what);
}

static int watch_step(struct pop_run *run, struct pop_disk *d)
{
	struct watch_ctx w = { run, d };
	struct xclone_task *t = NULL;
	struct xclone_error err = { 0 };
	cJSON *data;
	int rc;

	if (d->phase != XCLONE_PHASE_CLONE)
		pop_phase(run, d, XCLONE_PHASE_CLONE, "watching task %s", d->task);
	pthread_mutex_lock(&run->lock);
	d->watching = true;
	pthread_mutex_unlock(&run->lock);
	rc = run->be.task_watch(run->be.ctx, d->task, on_watch, &w, &t, &err);
	pthread_mutex_lock(&run->lock);
	d->watching = false;
	pthread_mutex_unlock(&run->lock);
	if (rc != 0) {
		step_failed(run, d, STEP_WATCH, &err, "lost track of the clone");
		return rc;
	}
	take_final(d, t);
	xclone_task_free(t);
	data = failure_data(d);
	if (d->xcopy >= 0)
		cJSON_AddBoolToObject(data, "xcopy", d->xcopy == 1);
	if (d->has_bytes)
		cJSON_AddNumberToObject(data, "bytes", (double)d->bytes);
	rc = pop_record(run, d, STEP_WATCH, MARK_DONE, data, &err);
	if (rc == 0)
		d->done |= POP_BIT(STEP_WATCH);
	d->forward = false;
	return rc;
}

static void forward(struct pop_run *run, struct pop_disk *d)
{
	if (!(d->done & POP_BIT(STEP_MAP))) {
		d->forward = false; /* never presented to the host: nothing to wait for */
		return;
	}
	if (may_go_on(run, d) && !(d->done & POP_BIT(STEP_DEVICE)) && device_step(run, d) != 0)
		return;
	if (may_go_on(run, d) && !(d->done & POP_BIT(STEP_PREFLIGHT)) &&
	    preflight_step(run, d) != 0)
		return;
	if (may_go_on(run, d) && !(d->done & POP_BIT(STEP_CLONE)) && clone_step(run, d) != 0)
		return;
	if (may_go_on(run, d) && !(d->done & POP_BIT(STEP_WATCH)))
		(void)watch_step(run, d);
}

/* ---- cleanup on the host ----------------------------------------------------------------- */

/* A clone whose start was journaled but not its answer: find it by key. */
static int find_task(struct pop_run *run, struct pop_disk *d, struct xclone_error *err)
{
	struct xclone_task_list *l = NULL;
	int rc = run->be.task_list(run->be.ctx, &l, err);

	for (size_t i = 0; rc == 0 && i < l->count; i++)
		if (l->tasks[i].key != NULL && strcmp(l->tasks[i].key, d->agent_key) == 0)
			snprintf(d->task, sizeof(d->task), "%s", l->tasks[i].id);
	if (rc == 0 && l->truncated && d->task[0] == '\0')
		pop_warn(run, "the agent's task list was truncated: task of key %s not seen",
			 d->agent_key);
	xclone_task_list_free(l);
	return rc;
}

static int cancel_task(struct pop_run *run, struct pop_disk *d)
{
	struct xclone_task *t = NULL;
	struct xclone_error err = { 0 };
	int rc;

	if (pop_record(run, d, STEP_CANCEL, MARK_INTENT, NULL, &err) != 0)
		return -1;
	rc = run->be.task_cancel(run->be.ctx, d->task, &t, &err);
	if (rc != 0 && err.code != XC_E_NOT_FOUND) {
		agent_failed(run, &err);
		(void)pop_record(run, d, STEP_CANCEL, MARK_FAILED, NULL, &err);
		return rc;
	}
	if (t != NULL && d->outcome == OUT_NONE)
		take_final(d, t);
	xclone_task_free(t);
	return pop_record(run, d, STEP_CANCEL, MARK_DONE, NULL, &err);
}

void pop_disk_cancel(struct pop_run *run, struct pop_disk *d)
{
	bool go;

	pthread_mutex_lock(&run->lock);
	go = d->watching && !d->cancel_asked && d->task[0] != '\0';
	d->cancel_asked = d->cancel_asked || go;
	pthread_mutex_unlock(&run->lock);
	if (go && agent_usable(run))
		(void)cancel_task(run, d);
}

static int clean_task(struct pop_run *run, struct pop_disk *d)
{
	struct xclone_error err = { 0 };
	cJSON *data;
	int rc = 0;

	if (d->task[0] == '\0' && (rc = find_task(run, d, &err)) != 0) {
		agent_failed(run, &err);
		return rc;
	}
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "task", d->task);
	if (pop_record(run, d, STEP_TASK_CLEAN, MARK_INTENT, data, &err) != 0)
		return -1;
	if (d->task[0] != '\0') {
		rc = run->be.task_clean(run->be.ctx, d->task, &err);
		if (rc == XC_E_CONFLICT && strcmp(err.remote_code, "TASK_ACTIVE") == 0 &&
		    cancel_task(run, d) == 0)
			rc = run->be.task_clean(run->be.ctx, d->task, &err);
		if (rc == XC_E_NOT_FOUND)
			rc = 0; /* cleaned already (a resumed run) */
	}
	if (rc != 0) {
		agent_failed(run, &err);
		pop_warn(run, "cannot clean task %s of disk %zu: %s", d->task, d->index, err.message);
		(void)pop_record(run, d, STEP_TASK_CLEAN, MARK_FAILED, NULL, &err);
		return rc;
	}
	rc = pop_record(run, d, STEP_TASK_CLEAN, MARK_DONE, NULL, &err);
	if (rc == 0)
		d->done |= POP_BIT(STEP_TASK_CLEAN);
	return rc;
}

static int detach(struct pop_run *run, struct pop_disk *d)
{
	struct xclone_error err = { 0 };
	int rc;

	if (pop_record(run, d, STEP_DETACH, MARK_INTENT, NULL, &err) != 0)
		return -1;
	d->intent |= POP_BIT(STEP_DETACH);
	pthread_mutex_lock(&run->lock);
	run->need_delete_rescan = true;
	pthread_mutex_unlock(&run->lock);
	rc = run->be.device_detach(run->be.ctx, d->lun.naa, NULL, &err);
	if (rc == XC_E_NOT_FOUND)
		rc = 0; /* never appeared, or already gone */
	if (rc != 0) {
		agent_failed(run, &err);
		pop_warn(run, "cannot detach %s from the host: %s", d->lun.naa, err.message);
		(void)pop_record(run, d, STEP_DETACH, MARK_FAILED, NULL, &err);
		return rc;
	}
	rc = pop_record(run, d, STEP_DETACH, MARK_DONE, NULL, &err);
	if (rc == 0)
		d->done |= POP_BIT(STEP_DETACH);
	return rc;
}

static void host_cleanup(struct pop_run *run, struct pop_disk *d)
{
	bool task = pop_needs_task_clean(d), device = pop_needs_detach(d);

	if (d->ended || (!task && !device))
		return;
	if (!agent_usable(run)) {
		d->host_stuck = true;
		return;
	}
	pop_phase(run, d, XCLONE_PHASE_CLEANUP, "cleaning up on the host");
	if (task && clean_task(run, d) != 0) {
		d->host_stuck = true;
		return;
	}
	if (device && detach(run, d) != 0)
		d->host_stuck = true;
}

bool pop_needs_task_clean(const struct pop_disk *d)
{
	return !d->ended && (d->intent & POP_BIT(STEP_CLONE)) && !(d->done & POP_BIT(STEP_TASK_CLEAN));
}

/* Once mapped, any rescan (ours, or anyone's) may have brought the device up on the
 * host: detach it whether or not we waited for it. A LUN that was ours before stays. */
bool pop_needs_detach(const struct pop_disk *d)
{
	return !d->ended && !d->mapped_before && !(d->done & POP_BIT(STEP_DETACH)) &&
	       (d->intent & (POP_BIT(STEP_MAP) | POP_BIT(STEP_DEVICE)));
}

void pop_disk_host_work(struct pop_run *run, struct pop_disk *d)
{
	if (d->forward)
		forward(run, d);
	host_cleanup(run, d);
}
