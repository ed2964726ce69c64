/* Populate: phases, events, the log, the result and their JSON. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "populate_engine.h"

static const char *const phase_names[XCLONE_POPULATE_PHASES] = {
	"queued", "prepare", "map", "device", "preflight", "clone", "cleanup", "done", "failed",
	"pending",
};

static const char *const status_names[] = { "ok", "failed", "unsafe", "incomplete", "interrupted" };

const char *xclone_populate_phase_name(enum xclone_populate_phase p)
{
	return (unsigned)p < XCLONE_POPULATE_PHASES ? phase_names[p] : "?";
}

const char *xclone_populate_status_name(enum xclone_populate_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s] : "?";
}

void pop_log(struct pop_run *run, const char *fmt, ...)
{
	char line[POP_TEXT_MAX + 128];
	int n;
	va_list ap;

	if (run->opt->log == NULL)
		return;
	n = snprintf(line, sizeof(line), "populate %s: ", run->key);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	run->opt->log(line, run->opt->log_userdata);
}

void pop_emit_locked(struct pop_run *run, struct pop_disk *d, const char *message)
{
	struct xclone_populate_event ev = {
		.disk = d->index,
		.source = d->spec->source,
		.pv_name = d->spec->pv_name,
		.phase = d->phase,
		.percent = d->percent,
		/* during the clone, the preflight's prediction; once it ended, what happened */
		.xcopy = d->xcopy >= 0 ? d->xcopy : d->xcopy_expected,
		.has_bytes = d->has_bytes,
		.bytes = d->bytes,
		.elapsed_ms = pop_now_ms() - run->t0_ms,
		.message = message,
	};

	if (run->opt->on_event != NULL)
		run->opt->on_event(&ev, run->opt->userdata);
}

void pop_phase(struct pop_run *run, struct pop_disk *d, enum xclone_populate_phase p,
	       const char *fmt, ...)
{
	char msg[POP_TEXT_MAX];
	int64_t now = pop_now_ms();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&run->lock);
	d->phase_ms[d->phase] += now - d->phase_since_ms;
	d->phase_since_ms = now;
	d->phase = p;
	pop_emit_locked(run, d, msg);
	pthread_mutex_unlock(&run->lock);
	pop_log(run, "disk %zu (%s): %s: %s", d->index, d->spec->pv_name,
		xclone_populate_phase_name(p), msg);
}

/* ---- the result -------------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

static enum xclone_populate_status status_of(const struct pop_run *run)
{
	bool failed = false, unsafe = false, canceled = false;

	for (size_t i = 0; i < run->n; i++) {
		const struct pop_disk *d = &run->disks[i];

		if (!d->ended)
			return XCLONE_POPULATE_INCOMPLETE;
		failed = failed || d->outcome == OUT_FAILED;
		unsafe = unsafe || d->outcome == OUT_UNSAFE;
		canceled = canceled || d->outcome == OUT_CANCELED;
	}
	if (failed)
		return XCLONE_POPULATE_FAILED;
	if (unsafe)
		return XCLONE_POPULATE_UNSAFE;
	if (canceled)
		return XCLONE_POPULATE_INTERRUPTED;
	return XCLONE_POPULATE_OK;
}

static int disk_result(const struct pop_disk *d, struct xclone_populate_disk_result *r)
{
	memset(r, 0, sizeof(*r));
	r->index = d->index;
	r->source = strdup(d->spec->source);
	r->pv_name = strdup(d->spec->pv_name);
	r->device = dup_or_null(d->lun.naa);
	r->task = dup_or_null(d->task);
	r->phase = !d->ended ? XCLONE_PHASE_PENDING
			     : d->outcome == OUT_SUCCEEDED ? XCLONE_PHASE_DONE : XCLONE_PHASE_FAILED;
	r->attempt = d->attempt;
	r->xcopy = d->xcopy;
	r->xcopy_expected = d->xcopy_expected;
	r->no_xcopy_reason = dup_or_null(d->reasons);
	r->has_bytes = d->has_bytes;
	r->bytes = d->bytes;
	memcpy(r->phase_ms, d->phase_ms, sizeof(r->phase_ms));
	r->error_code = dup_or_null(d->outcome == OUT_SUCCEEDED ? NULL : d->error_code);
	r->message = dup_or_null(d->outcome == OUT_SUCCEEDED ? NULL : d->message);
	if (!d->ended && r->message == NULL)
		r->message = strdup("cleanup left to do: run again with the same key");
	return r->source && r->pv_name ? 0 : -1;
}

int pop_result_build(struct pop_run *run, struct xclone_populate_result **out)
{
	struct xclone_populate_result *r = calloc(1, sizeof(*r));
	int64_t now = pop_now_ms();
	bool ok = r != NULL;

	if (ok) {
		r->key = strdup(run->key);
		r->journal = strdup(xc_journal_path(run->j));
		r->status = status_of(run);
		r->resumed = run->resumed;
		r->elapsed_ms = now - run->t0_ms;
		r->rescans = run->rescans;
		r->disks = calloc(run->n ? run->n : 1, sizeof(*r->disks));
		r->warnings = calloc(run->n_warnings ? run->n_warnings : 1, sizeof(char *));
		ok = r->key && r->journal && r->disks && r->warnings;
	}
	for (size_t i = 0; ok && i < run->n; i++) {
		struct pop_disk *d = &run->disks[i];

		d->phase_ms[d->phase] += now - d->phase_since_ms;
		d->phase_since_ms = now;
		ok = disk_result(d, &r->disks[i]) == 0;
		r->n_disks = i + 1;
	}
	for (size_t i = 0; ok && i < run->n_warnings; i++) {
		ok = (r->warnings[i] = strdup(run->warnings[i])) != NULL;
		r->n_warnings = i + 1;
	}
	if (!ok) {
		xclone_populate_result_free(r);
		return XC_E_NOMEM;
	}
	*out = r;
	return 0;
}

void xclone_populate_result_free(struct xclone_populate_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_disks; i++) {
		struct xclone_populate_disk_result *d = &r->disks[i];

		free(d->source);
		free(d->pv_name);
		free(d->device);
		free(d->task);
		free(d->no_xcopy_reason);
		free(d->error_code);
		free(d->message);
	}
	for (size_t i = 0; i < r->n_warnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r->disks);
	free(r->key);
	free(r->journal);
	free(r);
}

/* ---- JSON -------------------------------------------------------------------------------- */

static void add_tristate(cJSON *o, const char *k, int v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddBoolToObject(o, k, v != 0);
}

static void add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v == NULL)
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddStringToObject(o, k, v);
}

static char *print_and_free(cJSON *o)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	return s;
}

char *xclone_populate_event_json(const struct xclone_populate_event *ev)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "disk", (double)ev->disk);
	add_str_or_null(o, "source", ev->source);
	add_str_or_null(o, "pv", ev->pv_name);
	cJSON_AddStringToObject(o, "phase", xclone_populate_phase_name(ev->phase));
	if (ev->percent < 0)
		cJSON_AddNullToObject(o, "percent");
	else
		cJSON_AddNumberToObject(o, "percent", ev->percent);
	add_tristate(o, "xcopy", ev->xcopy);
	if (ev->has_bytes)
		cJSON_AddNumberToObject(o, "bytes", (double)ev->bytes);
	else
		cJSON_AddNullToObject(o, "bytes");
	cJSON_AddNumberToObject(o, "elapsed", (double)ev->elapsed_ms / 1000.0);
	add_str_or_null(o, "message", ev->message);
	return print_and_free(o);
}

static cJSON *disk_json(const struct xclone_populate_disk_result *d)
{
	cJSON *o = cJSON_CreateObject(), *ph = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "disk", (double)d->index);
	cJSON_AddStringToObject(o, "source", d->source);
	cJSON_AddStringToObject(o, "pv", d->pv_name);
	add_str_or_null(o, "device", d->device);
	add_str_or_null(o, "task", d->task);
	cJSON_AddStringToObject(o, "result", xclone_populate_phase_name(d->phase));
	cJSON_AddNumberToObject(o, "attempt", d->attempt);
	add_tristate(o, "xcopy", d->xcopy);
	add_tristate(o, "xcopy_expected", d->xcopy_expected);
	add_str_or_null(o, "why_no_xcopy", d->no_xcopy_reason);
	if (d->has_bytes)
		cJSON_AddNumberToObject(o, "bytes", (double)d->bytes);
	else
		cJSON_AddNullToObject(o, "bytes");
	for (int p = XCLONE_PHASE_PREPARE; p <= XCLONE_PHASE_CLEANUP; p++)
		cJSON_AddNumberToObject(ph, phase_names[p], (double)d->phase_ms[p] / 1000.0);
	cJSON_AddItemToObject(o, "seconds", ph);
	add_str_or_null(o, "error_code", d->error_code);
	add_str_or_null(o, "message", d->message);
	return o;
}

char *xclone_populate_result_json(const struct xclone_populate_result *r)
{
	cJSON *top = cJSON_CreateObject(), *o = cJSON_CreateObject(), *disks = cJSON_CreateArray();
	cJSON *warnings = cJSON_CreateArray();

	if (top == NULL || o == NULL || disks == NULL || warnings == NULL) {
		cJSON_Delete(top);
		cJSON_Delete(o);
		cJSON_Delete(disks);
		cJSON_Delete(warnings);
		return NULL;
	}
	cJSON_AddItemToObject(top, "summary", o);
	cJSON_AddStringToObject(o, "key", r->key);
	cJSON_AddStringToObject(o, "status", xclone_populate_status_name(r->status));
	cJSON_AddBoolToObject(o, "resumed", r->resumed);
	cJSON_AddStringToObject(o, "journal", r->journal);
	cJSON_AddNumberToObject(o, "elapsed", (double)r->elapsed_ms / 1000.0);
	cJSON_AddNumberToObject(o, "rescans", (double)r->rescans);
	for (size_t i = 0; i < r->n_disks; i++)
		cJSON_AddItemToArray(disks, disk_json(&r->disks[i]));
	cJSON_AddItemToObject(o, "disks", disks);
	for (size_t i = 0; i < r->n_warnings; i++)
		cJSON_AddItemToArray(warnings, cJSON_CreateString(r->warnings[i]));
	cJSON_AddItemToObject(o, "warnings", warnings);
	return print_and_free(top);
}
