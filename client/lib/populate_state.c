/*
 * The populate journal's records: writing them (and the crash test hook), and
 * replaying them into the run's and the disks' state after a restart.
 *
 * A record: {"seq":N,"t":ms,"run":R,"step":"map","mark":"intent","disk":0,"attempt":1,...}
 * mark "intent" is written before a side effect, "done" after it succeeded,
 * "failed" after it failed (with error_code and message). Per-disk records
 * carry the disk's attempt: an attempt that ended failed or canceled is
 * followed, in a later run, by attempt + 1, which starts from nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "populate_engine.h"

static const char *const step_names[STEP_COUNT] = {
	[STEP_BEGIN] = "begin",
	[STEP_HOST_INFO] = "host-info",
	[STEP_HOST_GROUP] = "host-group",
	[STEP_RESCAN_ADD] = "rescan-add",
	[STEP_RESCAN_DELETE] = "rescan-delete",
	[STEP_HOST_RELEASE] = "host-release",
	[STEP_FINISH] = "finish",
	[STEP_RESOLVE] = "resolve",
	[STEP_MAPPINGS] = "mappings",
	[STEP_MAP] = "map",
	[STEP_DEVICE] = "device",
	[STEP_PREFLIGHT] = "preflight",
	[STEP_CLONE] = "clone",
	[STEP_WATCH] = "watch",
	[STEP_CANCEL] = "cancel",
	[STEP_TASK_CLEAN] = "task-clean",
	[STEP_DETACH] = "detach",
	[STEP_UNMAP] = "unmap",
	[STEP_RESTORE] = "restore",
	[STEP_DISK_END] = "disk-end",
};

static const char *const mark_names[] = { "intent", "done", "failed" };

static const char *const outcome_names[] = {
	[OUT_NONE] = "none", [OUT_SUCCEEDED] = "succeeded", [OUT_FAILED] = "failed",
	[OUT_UNSAFE] = "unsafe", [OUT_CANCELED] = "canceled",
};

const char *pop_step_name(enum pop_step s)
{
	return (unsigned)s < STEP_COUNT ? step_names[s] : "?";
}

static int step_from_name(const char *name)
{
	for (int i = 0; name && i < STEP_COUNT; i++)
		if (strcmp(step_names[i], name) == 0)
			return i;
	return -1;
}

static int mark_from_name(const char *name)
{
	for (int i = 0; name && i < 3; i++)
		if (strcmp(mark_names[i], name) == 0)
			return i;
	return -1;
}

static enum pop_outcome outcome_from_name(const char *name)
{
	for (int i = 0; name && i < (int)(sizeof(outcome_names) / sizeof(outcome_names[0])); i++)
		if (strcmp(outcome_names[i], name) == 0)
			return (enum pop_outcome)i;
	return OUT_FAILED; /* an unknown word never reads as success */
}

int64_t pop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the crash hook -------------------------------------------------------------------- */

void pop_crash_parse(struct pop_crash_point *c, const char *text)
{
	char buf[64];
	char *dot, *at;
	int mark;

	memset(c, 0, sizeof(*c));
	c->disk = -1;
	if (text == NULL || text[0] == '\0' || strlen(text) >= sizeof(buf))
		return;
	snprintf(buf, sizeof(buf), "%s", text);
	at = strchr(buf, '@');
	if (at != NULL) {
		char *end;

		*at = '\0';
		c->disk = strtol(at + 1, &end, 10);
		if (*end != '\0' || c->disk < 0)
			return;
	}
	dot = strrchr(buf, '.');
	if (dot == NULL || step_from_name((*dot = '\0', buf)) < 0 ||
	    (mark = mark_from_name(dot + 1)) < 0)
		return;
	if (strlen(buf) >= sizeof(c->step))
		return;
	memcpy(c->step, buf, strlen(buf) + 1);
	c->mark = (enum pop_mark)mark;
}

/* XCLONE_TEST_CRASH_AT: dies like a SIGKILL right after the record is durable. */
static void crash_check(const struct pop_run *run, const struct pop_disk *d, enum pop_step step,
			enum pop_mark mark)
{
	if (run->crash.step[0] == '\0' || strcmp(run->crash.step, step_names[step]) != 0 ||
	    run->crash.mark != mark)
		return;
	if (run->crash.disk >= 0 && (d == NULL || (long)d->index != run->crash.disk))
		return;
	_exit(137);
}

/* ---- writing ----------------------------------------------------------------------------- */

int pop_record(struct pop_run *run, struct pop_disk *d, enum pop_step step, enum pop_mark mark,
	       cJSON *data, struct xclone_error *err)
{
	cJSON *rec = cJSON_CreateObject(), *item;
	bool ok;
	int rc;

	pthread_mutex_lock(&run->lock);
	if (run->journal_dead) {
		pthread_mutex_unlock(&run->lock);
		cJSON_Delete(rec);
		cJSON_Delete(data);
		return xclone_error_set(err, XC_E_IO, "the journal cannot be written: stopped");
	}
	ok = rec != NULL &&
	     cJSON_AddNumberToObject(rec, "seq", (double)xc_journal_count(run->j) + 1) &&
	     cJSON_AddNumberToObject(rec, "t", (double)wall_ms()) &&
	     cJSON_AddNumberToObject(rec, "run", run->run_no) &&
	     cJSON_AddStringToObject(rec, "step", step_names[step]) &&
	     cJSON_AddStringToObject(rec, "mark", mark_names[mark]);
	if (ok && d != NULL)
		ok = cJSON_AddNumberToObject(rec, "disk", (double)d->index) &&
		     cJSON_AddNumberToObject(rec, "attempt", d->attempt);
	while (ok && data != NULL && (item = data->child) != NULL) {
		cJSON_DetachItemViaPointer(data, item);
		cJSON_AddItemToObject(rec, item->string, item);
	}
	rc = ok ? xc_journal_append(run->j, rec, err)
		: xclone_error_set(err, XC_E_NOMEM, "out of memory writing the journal");
	if (rc != 0) {
		/* A journal we cannot write must stop every side effect. */
		run->journal_dead = true;
		if (run->fatal.code == XC_OK && err != NULL)
			run->fatal = *err;
	}
	pthread_mutex_unlock(&run->lock);
	cJSON_Delete(rec);
	cJSON_Delete(data);
	if (rc == 0)
		crash_check(run, d, step, mark);
	return rc;
}

/* ---- disk state -------------------------------------------------------------------------- */

void pop_disk_new_attempt(struct pop_run *run, struct pop_disk *d, unsigned attempt)
{
	xc_mapping_list_free(&d->saved);
	d->attempt = attempt;
	d->intent = d->done = 0;
	d->ended = false;
	memset(&d->lun, 0, sizeof(d->lun));
	d->mapped_before = false;
	memset(&d->made, 0, sizeof(d->made));
	d->task[0] = '\0';
	d->outcome = OUT_NONE;
	d->xcopy = d->xcopy_expected = -1;
	d->reasons[0] = '\0';
	d->has_bytes = false;
	d->bytes = 0;
	d->error_code[0] = '\0';
	d->message[0] = '\0';
	/* Attempt 1 keeps the plain key that earlier releases used; later ones are new keys,
	 * because the agent returns the first attempt's task for the same key. */
	if (attempt <= 1)
		snprintf(d->agent_key, sizeof(d->agent_key), "%s/disk-%zu", run->key, d->index);
	else
		snprintf(d->agent_key, sizeof(d->agent_key), "%s/disk-%zu/%u", run->key, d->index,
			 attempt);
}

void pop_disk_fail(struct pop_disk *d, enum pop_outcome o, const char *code,
		   const struct xclone_error *err, const char *fmt, ...)
{
	va_list ap;
	char head[POP_TEXT_MAX / 2];
	int n;

	if (d->outcome != OUT_NONE && d->outcome != OUT_SUCCEEDED)
		return; /* the first failure is the one to report */
	d->outcome = o;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	n = snprintf(d->message, sizeof(d->message), "%s", head);
	if (err != NULL && err->message[0] != '\0' && n >= 0 && (size_t)n < sizeof(d->message))
		snprintf(d->message + n, sizeof(d->message) - (size_t)n, ": %s", err->message);
	if (code != NULL)
		snprintf(d->error_code, sizeof(d->error_code), "%s", code);
	else if (err != NULL && err->remote_code[0] != '\0')
		snprintf(d->error_code, sizeof(d->error_code), "%s", err->remote_code);
	else if (err != NULL)
		snprintf(d->error_code, sizeof(d->error_code), "%s", xclone_code_name(err->code));
}

void pop_disk_settle(struct pop_run *run, struct pop_disk *d)
{
	struct xclone_error fatal;

	if (d->ended || d->outcome != OUT_NONE)
		return;
	pthread_mutex_lock(&run->lock);
	fatal = run->fatal;
	pthread_mutex_unlock(&run->lock);
	if (fatal.code != XC_OK)
		pop_disk_fail(d, OUT_FAILED, NULL, &fatal, "stopped");
	else if (run->cleanup_only)
		pop_disk_fail(d, OUT_CANCELED, "CANCELED", NULL,
			      "cleaned up (--cleanup) before the copy finished");
	else
		pop_disk_fail(d, OUT_CANCELED, "CANCELED", NULL,
			      "stopped by a signal before the copy finished");
}

void pop_warn(struct pop_run *run, const char *fmt, ...)
{
	char buf[POP_TEXT_MAX];
	char **w, *copy;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&run->lock);
	for (size_t i = 0; i < run->n_warnings; i++)
		if (strcmp(run->warnings[i], buf) == 0)
			goto out;
	copy = strdup(buf);
	w = copy ? realloc(run->warnings, (run->n_warnings + 1) * sizeof(*w)) : NULL;
	if (w == NULL) {
		free(copy);
		goto out;
	}
	run->warnings = w;
	w[run->n_warnings++] = copy;
out:
	pthread_mutex_unlock(&run->lock);
	pop_log(run, "warning: %s", buf);
}

bool pop_agent_answered(const struct xclone_error *e)
{
	return e->remote_code[0] != '\0';
}

bool pop_array_answered(const struct xclone_error *e)
{
	return e->http_status != 0;
}

void pop_fatal(struct pop_run *run, const struct xclone_error *e)
{
	pthread_mutex_lock(&run->lock);
	if (run->fatal.code == XC_OK)
		run->fatal = *e;
	pthread_mutex_unlock(&run->lock);
}

/* ---- JSON of the array's types --------------------------------------------------------- */

cJSON *pop_lun_json(const struct xc_lun *lun)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL && cJSON_AddStringToObject(o, "name", lun->name) &&
		  cJSON_AddStringToObject(o, "id", lun->id) &&
		  cJSON_AddStringToObject(o, "array_id", lun->array_id) &&
		  cJSON_AddStringToObject(o, "serial", lun->serial) &&
		  cJSON_AddStringToObject(o, "naa", lun->naa) &&
		  cJSON_AddNumberToObject(o, "size_bytes", (double)lun->size_bytes);

	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int copy_member(const cJSON *o, const char *k, char *dst, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsString(v) || strlen(v->valuestring) >= size)
		return -1;
	memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

int pop_lun_from_json(const cJSON *o, struct xc_lun *lun)
{
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(o, "size_bytes");

	memset(lun, 0, sizeof(*lun));
	if (copy_member(o, "name", lun->name, sizeof(lun->name)) != 0 ||
	    copy_member(o, "id", lun->id, sizeof(lun->id)) != 0 ||
	    copy_member(o, "array_id", lun->array_id, sizeof(lun->array_id)) != 0 ||
	    copy_member(o, "serial", lun->serial, sizeof(lun->serial)) != 0 ||
	    copy_member(o, "naa", lun->naa, sizeof(lun->naa)) != 0 || !cJSON_IsNumber(size))
		return -1;
	lun->size_bytes = (unsigned long long)size->valuedouble;
	return 0;
}

static cJSON *mapping_json(const struct xc_mapping *m)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddStringToObject(o, "kind", xc_group_kind_name(m->kind)) ||
	    !cJSON_AddStringToObject(o, "group", m->group) ||
	    !cJSON_AddNumberToObject(o, "lun", (double)m->lun_id) ||
	    !cJSON_AddStringToObject(o, "settings", m->settings)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *pop_mappings_json(const struct xc_mapping_list *l)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a != NULL && i < l->n; i++) {
		cJSON *m = mapping_json(&l->items[i]);

		if (m == NULL || !cJSON_AddItemToArray(a, m)) {
			cJSON_Delete(m);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static int kind_from_name(const char *name, enum xc_group_kind *k)
{
	if (name != NULL && strcmp(name, xc_group_kind_name(XC_GROUP_HOST)) == 0)
		*k = XC_GROUP_HOST;
	else if (name != NULL && strcmp(name, xc_group_kind_name(XC_GROUP_HOST_SET)) == 0)
		*k = XC_GROUP_HOST_SET;
	else
		return -1;
	return 0;
}

static int mapping_from_json(const cJSON *o, struct xc_mapping *m)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
	const cJSON *lun = cJSON_GetObjectItemCaseSensitive(o, "lun");

	memset(m, 0, sizeof(*m));
	m->lun_id = -1;
	if (!cJSON_IsString(kind) || kind_from_name(kind->valuestring, &m->kind) != 0 ||
	    copy_member(o, "group", m->group, sizeof(m->group)) != 0)
		return -1;
	if (cJSON_IsNumber(lun))
		m->lun_id = (long)lun->valuedouble;
	/* the driver's settings of the mapping, to restore it as it was (absent: none) */
	if (cJSON_GetObjectItemCaseSensitive(o, "settings") != NULL &&
	    copy_member(o, "settings", m->settings, sizeof(m->settings)) != 0)
		return -1;
	return 0;
}

int pop_mappings_from_json(const cJSON *a, struct xc_mapping_list *l)
{
	const cJSON *item;
	size_t n = (size_t)cJSON_GetArraySize(a), i = 0;

	memset(l, 0, sizeof(*l));
	if (!cJSON_IsArray(a))
		return -1;
	if (n == 0)
		return 0;
	l->items = calloc(n, sizeof(*l->items));
	if (l->items == NULL)
		return -1;
	cJSON_ArrayForEach(item, a) {
		if (mapping_from_json(item, &l->items[i]) != 0) {
			xc_mapping_list_free(l);
			return -1;
		}
		i++;
	}
	l->n = n;
	return 0;
}

/* ---- replay ------------------------------------------------------------------------------ */

static const char *str_of(const cJSON *rec, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool bool_of(const cJSON *rec, const char *k)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, k));
}

static int num_of(const cJSON *rec, const char *k, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, k);

	if (!cJSON_IsNumber(v))
		return -1;
	*out = (int64_t)v->valuedouble;
	return 0;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static int bad_record(size_t i, const char *why, struct xclone_error *err)
{
	return xclone_error_set(err, XC_E_PROTOCOL, "journal record %zu: %s", i + 1, why);
}

/* The outcome a disk's failure record carries (the step failed and decided the disk). */
static void apply_failure(struct pop_disk *d, const cJSON *rec)
{
	const char *o = str_of(rec, "outcome");

	if (o == NULL || d->outcome != OUT_NONE)
		return;
	d->outcome = outcome_from_name(o);
	copy_str(d->error_code, sizeof(d->error_code), str_of(rec, "error_code"));
	copy_str(d->message, sizeof(d->message), str_of(rec, "message"));
}

static int apply_done(struct pop_disk *d, enum pop_step step, const cJSON *rec)
{
	int64_t v;

	switch (step) {
	case STEP_RESOLVE:
		return pop_lun_from_json(cJSON_GetObjectItemCaseSensitive(rec, "lun"), &d->lun);
	case STEP_MAPPINGS:
		xc_mapping_list_free(&d->saved);
		d->mapped_before = bool_of(rec, "mapped_before");
		return pop_mappings_from_json(cJSON_GetObjectItemCaseSensitive(rec, "mappings"),
					      &d->saved);
	case STEP_MAP:
		if (num_of(rec, "lun_id", &v) == 0)
			d->made.lun_id = (long)v;
		return 0;
	case STEP_PREFLIGHT:
		d->xcopy_expected = bool_of(rec, "xcopy_expected") ? 1 : 0;
		copy_str(d->reasons, sizeof(d->reasons), str_of(rec, "reasons"));
		return 0;
	case STEP_CLONE:
		copy_str(d->task, sizeof(d->task), str_of(rec, "task"));
		return d->task[0] ? 0 : -1;
	case STEP_WATCH: {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(rec, "xcopy");

		d->xcopy = cJSON_IsBool(x) ? cJSON_IsTrue(x) : -1;
		d->has_bytes = num_of(rec, "bytes", &d->bytes) == 0;
		if (d->outcome == OUT_NONE)
			d->outcome = outcome_from_name(str_of(rec, "outcome"));
		if (d->message[0] == '\0')
			copy_str(d->message, sizeof(d->message), str_of(rec, "message"));
		if (d->error_code[0] == '\0')
			copy_str(d->error_code, sizeof(d->error_code), str_of(rec, "error_code"));
		return 0;
	}
	case STEP_DISK_END:
		d->ended = true;
		d->outcome = outcome_from_name(str_of(rec, "outcome"));
		return 0;
	default:
		return 0;
	}
}

static int replay_disk(struct pop_run *run, const cJSON *rec, size_t i, enum pop_step step,
		       enum pop_mark mark, struct xclone_error *err)
{
	int64_t idx, attempt;
	struct pop_disk *d;

	if (num_of(rec, "disk", &idx) != 0 || idx < 0 || (size_t)idx >= run->n ||
	    num_of(rec, "attempt", &attempt) != 0 || attempt < 1)
		return bad_record(i, "disk record without a valid disk and attempt", err);
	d = &run->disks[idx];
	if ((unsigned)attempt < d->attempt)
		return 0; /* an older attempt, already closed */
	if ((unsigned)attempt > d->attempt)
		pop_disk_new_attempt(run, d, (unsigned)attempt);
	if (mark == MARK_INTENT) {
		d->intent |= POP_BIT(step);
		if (step == STEP_MAP) {
			const char *kind = str_of(rec, "kind");

			copy_str(d->made.group, sizeof(d->made.group), str_of(rec, "group"));
			d->made.lun_id = -1;
			if (kind_from_name(kind, &d->made.kind) != 0 || d->made.group[0] == '\0')
				return bad_record(i, "map intent without group and kind", err);
		}
		if (step == STEP_DETACH || step == STEP_UNMAP)
			run->need_delete_rescan = true;
		return 0;
	}
	if (mark == MARK_FAILED) {
		apply_failure(d, rec);
		return 0;
	}
	d->done |= POP_BIT(step);
	if (apply_done(d, step, rec) != 0)
		return bad_record(i, "done record with missing or malformed data", err);
	return 0;
}

static int replay_run(struct pop_run *run, const cJSON *rec, size_t i, enum pop_step step,
		      enum pop_mark mark, struct xclone_error *err)
{
	int64_t no;

	if (step == STEP_BEGIN && num_of(rec, "run", &no) == 0 && no >= (int64_t)run->run_no)
		run->run_no = (unsigned)no;
	if (mark != MARK_DONE)
		return 0;
	if (step == STEP_HOST_GROUP) {
		const char *kind = str_of(rec, "kind");

		memset(&run->group, 0, sizeof(run->group));
		copy_str(run->group.name, sizeof(run->group.name), str_of(rec, "group"));
		if (kind_from_name(kind, &run->group.kind) != 0 || run->group.name[0] == '\0')
			return bad_record(i, "host-group record without group and kind", err);
		run->have_group = true;
		if (bool_of(rec, "created"))
			run->group_owned = true;
	} else if (step == STEP_HOST_RELEASE) {
		run->group_owned = false;
	} else if (step == STEP_RESCAN_DELETE) {
		run->need_delete_rescan = false;
	}
	return 0;
}

int pop_replay(struct pop_run *run, struct xclone_error *err)
{
	size_t n = xc_journal_count(run->j);
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		const cJSON *rec = xc_journal_at(run->j, i);
		int step = step_from_name(str_of(rec, "step"));
		int mark = mark_from_name(str_of(rec, "mark"));

		if (step < 0 || mark < 0)
			return bad_record(i, "unknown step or mark", err);
		if (step >= STEP_RESOLVE)
			rc = replay_disk(run, rec, i, (enum pop_step)step, (enum pop_mark)mark, err);
		else
			rc = replay_run(run, rec, i, (enum pop_step)step, (enum pop_mark)mark, err);
	}
	run->resumed = n > 0;
	return rc;
}

const char *pop_outcome_name(enum pop_outcome o)
{
	return outcome_names[o];
}
