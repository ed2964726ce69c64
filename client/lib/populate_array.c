/*
 * Populate, array level: each PV's LUN and the mappings it had before us, the
 * host object for the ESXi host's initiators, map, and afterwards unmap and
 * restore. Resolve, host object and map run on the main thread; a disk's unmap and
 * restore on the worker that finished it (the backend serializes array calls).
 *
 * Rules:
 * - The LUN's mappings are recorded before anything is mapped, once per attempt;
 *   a resumed run uses the recorded list, never a fresh one (ours would be in it).
 * - A LUN already mapped to other hosts may be in use: refused unless --force.
 * - A LUN already mapped to our host object is neither mapped nor unmapped by us.
 * - Unmap only once the host let go of the device (task cleaned, device
 *   detached); otherwise the LUN stays mapped and the run is incomplete.
 * - A host object is removed only if this key's journal says we created it, and
 *   only through the array layer (which cannot yet: the run warns instead).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "initiator.h"
#include "populate_engine.h"

int pop_array_open(struct pop_run *run, struct xclone_error *err)
{
	int rc = run->be.open_array(run->be.ctx, err);

	if (rc == 0)
		run->array_open = true;
	else
		run->array_dead = true;
	return rc;
}

/* An array call failed: a disk's problem when the array answered, the run's when not. */
static void array_failed(struct pop_run *run, const struct xclone_error *e)
{
	if (!pop_array_answered(e) || e->code == XC_E_AUTH || e->code == XC_E_CONFIG) {
		run->array_dead = true;
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

/* The disk failed at this step (its outcome decided): journal it. */
static void disk_step_failed(struct pop_run *run, struct pop_disk *d, enum pop_step step)
{
	struct xclone_error err;

	d->forward = false;
	(void)pop_record(run, d, step, MARK_FAILED, failure_data(d), &err);
	pop_phase(run, d, XCLONE_PHASE_CLEANUP, "%s", d->message);
}

static int resolve(struct pop_run *run, struct pop_disk *d)
{
	const struct pop_disk_spec *s = d->spec;
	struct xc_attr attrs[64];
	struct xc_pv pv = { s->pv_name, s->volume_handle, attrs, 0 };
	struct xclone_error err = { 0 };
	cJSON *data;
	int rc;

	for (size_t i = 0; i < s->n_attrs && i < sizeof(attrs) / sizeof(attrs[0]); i++)
		attrs[pv.n_attrs++] = (struct xc_attr){ s->attr_keys[i], s->attr_values[i] };
	rc = run->be.array_resolve(run->be.ctx, &pv, &d->lun, &err);
	if (rc != 0) {
		array_failed(run, &err);
		pop_disk_fail(d, OUT_FAILED, NULL, &err, "cannot find the LUN of PV %s", s->pv_name);
		disk_step_failed(run, d, STEP_RESOLVE);
		return rc;
	}
	data = cJSON_CreateObject();
	cJSON_AddItemToObject(data, "lun", pop_lun_json(&d->lun));
	return pop_record(run, d, STEP_RESOLVE, MARK_DONE, data, &err);
}

/* Two disks of one plan onto one LUN would overwrite each other. */
static bool lun_taken(const struct pop_run *run, const struct pop_disk *d)
{
	for (size_t i = 0; i < d->index; i++)
		if (run->disks[i].lun.naa[0] && strcmp(run->disks[i].lun.naa, d->lun.naa) == 0)
			return true;
	return false;
}

void pop_array_prepare(struct pop_run *run, struct pop_disk *d)
{
	if (!d->forward || run->array_dead || run->journal_dead)
		return;
	pop_phase(run, d, XCLONE_PHASE_PREPARE, "resolving PV %s", d->spec->pv_name);
	if (!(d->done & POP_BIT(STEP_RESOLVE)) && resolve(run, d) != 0)
		return;
	if (lun_taken(run, d)) {
		pop_disk_fail(d, OUT_UNSAFE, "TARGET_UNSAFE", NULL,
			      "PV %s (%s) is the target of another disk of this plan",
			      d->spec->pv_name, d->lun.naa);
		disk_step_failed(run, d, STEP_RESOLVE);
	}
}

/* ---- the host object --------------------------------------------------------------------- */

/* Our initiators that group g holds. */
static size_t held(const struct xc_host_group *g, const struct xc_initiator *ini, size_t n,
		   bool *which)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		bool has = false;

		for (size_t k = 0; k < g->n_initiators && !has; k++)
			has = xc_initiator_matches(&ini[i], g->initiators[k]) != 0;
		if (which != NULL)
			which[i] = has;
		count += has;
	}
	return count;
}

static const struct xc_host_group *find_group(const struct xc_host_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].name, name) == 0)
			return &l->items[i];
	return NULL;
}

static cJSON *group_done(const struct pop_run *run, const struct xc_host_group *g, bool created,
			 const bool *before, const bool *after)
{
	cJSON *o = cJSON_CreateObject(), *added = cJSON_CreateArray();

	cJSON_AddStringToObject(o, "group", g->name);
	cJSON_AddStringToObject(o, "kind", xc_group_kind_name(g->kind));
	cJSON_AddBoolToObject(o, "created", created);
	for (size_t i = 0; added != NULL && !created && i < run->n_initiators; i++)
		if (after[i] && !before[i])
			cJSON_AddItemToArray(added, cJSON_CreateString(run->initiators[i]));
	cJSON_AddItemToObject(o, "added_initiators", added);
	return o;
}

static void fail_forward_disks(struct pop_run *run, const struct xclone_error *e, const char *what)
{
	for (size_t i = 0; i < run->n; i++) {
		struct pop_disk *d = &run->disks[i];

		if (!d->forward)
			continue;
		pop_disk_fail(d, OUT_FAILED, NULL, e, "%s", what);
		disk_step_failed(run, d, STEP_MAPPINGS);
	}
}

/* Makes sure the array has a host object holding the host's initiators (run level). */
int pop_array_host_group(struct pop_run *run)
{
	struct xc_initiator ini[POP_INITIATORS_MAX];
	const char *texts[POP_INITIATORS_MAX];
	bool before[POP_INITIATORS_MAX] = { false }, after[POP_INITIATORS_MAX] = { false };
	struct xc_host_list hosts = { 0, NULL };
	const struct xc_host_group *old;
	struct xc_host_group g;
	char name[64];
	struct xclone_error err = { 0 };
	cJSON *intent;
	int rc;

	if (run->n_initiators == 0) {
		xclone_error_set(&err, XC_E_CONFIG, "host %s has no initiator on the adapters of the"
			       " source datastores", run->hostname);
		fail_forward_disks(run, &err, "cannot present a LUN to the host");
		return XC_E_CONFIG;
	}
	for (size_t i = 0; i < run->n_initiators; i++)
		texts[i] = run->initiators[i];
	rc = xc_initiators_parse(texts, run->n_initiators, ini, &err);
	if (rc == 0)
		rc = run->be.array_hosts(run->be.ctx, &hosts, &err);
	xc_host_name_sanitize(run->hostname, name, sizeof(name));
	intent = cJSON_CreateObject();
	cJSON_AddStringToObject(intent, "name", name);
	if (rc == 0)
		rc = pop_record(run, NULL, STEP_HOST_GROUP, MARK_INTENT, intent, &err);
	else
		cJSON_Delete(intent);
	if (rc == 0) {
		struct xc_host_request req = { name, texts, run->n_initiators };

		rc = run->be.array_ensure_host(run->be.ctx, &req, &g, &err);
	}
	if (rc != 0) {
		array_failed(run, &err);
		(void)pop_record(run, NULL, STEP_HOST_GROUP, MARK_FAILED, NULL, &err);
		fail_forward_disks(run, &err, "cannot set up the host object on the array");
		xc_host_list_free(&hosts);
		return rc;
	}
	old = find_group(&hosts, g.name);
	if (old != NULL)
		held(old, ini, run->n_initiators, before);
	held(&g, ini, run->n_initiators, after);
	rc = pop_record(run, NULL, STEP_HOST_GROUP, MARK_DONE,
			group_done(run, &g, old == NULL, before, after), &err);
	if (rc == 0) {
		run->group = g;
		run->have_group = true;
		run->group_owned = run->group_owned || old == NULL;
		pop_log(run, "host object %s %s", g.name, old == NULL ? "created" : "reused");
		for (size_t i = 0; old != NULL && i < run->n_initiators; i++)
			if (after[i] && !before[i])
				pop_warn(run, "initiator %s was added to host object %s; the array"
					      " layer cannot remove it again", run->initiators[i],
					 g.name);
	}
	xc_host_list_free(&hosts);
	return rc;
}

/* ---- mappings, map ----------------------------------------------------------------------- */

static bool is_ours(const struct pop_run *run, const struct xc_mapping *m)
{
	return m->kind == run->group.kind && strcmp(m->group, run->group.name) == 0;
}

static int record_mappings(struct pop_run *run, struct pop_disk *d)
{
	struct xclone_error err = { 0 };
	cJSON *data;
	int rc = run->be.array_mappings(run->be.ctx, &d->lun, &d->saved, &err);

	if (rc != 0) {
		array_failed(run, &err);
		pop_disk_fail(d, OUT_FAILED, NULL, &err, "cannot read the mappings of %s", d->lun.name);
		disk_step_failed(run, d, STEP_MAPPINGS);
		return rc;
	}
	for (size_t i = 0; i < d->saved.n; i++)
		d->mapped_before = d->mapped_before || is_ours(run, &d->saved.items[i]);
	data = cJSON_CreateObject();
	cJSON_AddItemToObject(data, "mappings", pop_mappings_json(&d->saved));
	cJSON_AddBoolToObject(data, "mapped_before", d->mapped_before);
	return pop_record(run, d, STEP_MAPPINGS, MARK_DONE, data, &err);
}

/* Mapped to someone else: a host may be using the volume. */
static const struct xc_mapping *foreign_mapping(const struct pop_run *run, const struct pop_disk *d)
{
	for (size_t i = 0; i < d->saved.n; i++)
		if (!is_ours(run, &d->saved.items[i]))
			return &d->saved.items[i];
	return NULL;
}

void pop_array_map(struct pop_run *run, struct pop_disk *d)
{
	struct xclone_error err = { 0 };
	const struct xc_mapping *other;
	struct xc_mapping made;
	cJSON *data;

	if (!d->forward || run->array_dead || run->journal_dead || !run->have_group)
		return;
	pop_phase(run, d, XCLONE_PHASE_MAP, "mapping %s to %s", d->lun.naa, run->group.name);
	if (!(d->done & POP_BIT(STEP_MAPPINGS)) && record_mappings(run, d) != 0)
		return;
	other = foreign_mapping(run, d);
	if (other != NULL && !run->opt->force && !(d->intent & POP_BIT(STEP_MAP))) {
		pop_disk_fail(d, OUT_UNSAFE, "TARGET_IN_USE", NULL,
			      "%s (PV %s) is mapped to %s %s, which may be using it (--force copies"
			      " anyway and restores the mappings)", d->lun.naa, d->spec->pv_name,
			      xc_group_kind_name(other->kind), other->group);
		disk_step_failed(run, d, STEP_MAP);
		return;
	}
	if (d->done & POP_BIT(STEP_MAP))
		return;
	if (d->mapped_before) {
		data = cJSON_CreateObject();
		cJSON_AddBoolToObject(data, "preexisting", true);
		(void)pop_record(run, d, STEP_MAP, MARK_DONE, data, &err);
		return;
	}
	memset(&d->made, 0, sizeof(d->made));
	d->made.kind = run->group.kind;
	d->made.lun_id = -1;
	snprintf(d->made.group, sizeof(d->made.group), "%s", run->group.name);
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "group", d->made.group);
	cJSON_AddStringToObject(data, "kind", xc_group_kind_name(d->made.kind));
	if (pop_record(run, d, STEP_MAP, MARK_INTENT, data, &err) != 0)
		return;
	d->intent |= POP_BIT(STEP_MAP);
	if (run->be.array_map(run->be.ctx, &d->lun, &d->made, &made, &err) != 0) {
		array_failed(run, &err);
		pop_disk_fail(d, OUT_FAILED, NULL, &err, "cannot map %s to %s", d->lun.naa,
			      d->made.group);
		disk_step_failed(run, d, STEP_MAP);
		return;
	}
	d->made.lun_id = made.lun_id;
	data = cJSON_CreateObject();
	cJSON_AddNumberToObject(data, "lun_id", (double)made.lun_id);
	if (pop_record(run, d, STEP_MAP, MARK_DONE, data, &err) == 0) {
		d->done |= POP_BIT(STEP_MAP);
		/* the time until a worker takes it is nobody's phase */
		pop_phase(run, d, XCLONE_PHASE_QUEUED, "mapped as LUN %ld", made.lun_id);
	}
}

/* ---- cleanup ----------------------------------------------------------------------------- */

static int undo_step(struct pop_run *run, struct pop_disk *d, enum pop_step step)
{
	struct xclone_error err = { 0 };
	int rc;

	if (pop_record(run, d, step, MARK_INTENT, NULL, &err) != 0)
		return -1;
	d->intent |= POP_BIT(step);
	if (step == STEP_UNMAP)
		rc = run->be.array_unmap(run->be.ctx, &d->lun, &d->made, &err);
	else
		rc = run->be.array_restore(run->be.ctx, &d->lun, &d->saved, &err);
	if (rc != 0) {
		array_failed(run, &err);
		pop_warn(run, "%s of %s (PV %s) failed, run again to finish: %s", pop_step_name(step),
			 d->lun.naa, d->spec->pv_name, err.message);
		(void)pop_record(run, d, step, MARK_FAILED, NULL, &err);
		return rc;
	}
	if (pop_record(run, d, step, MARK_DONE, NULL, &err) != 0)
		return -1;
	d->done |= POP_BIT(step);
	return 0;
}

static bool needs_unmap(const struct pop_disk *d)
{
	return (d->intent & POP_BIT(STEP_MAP)) && !d->mapped_before && !(d->done & POP_BIT(STEP_UNMAP));
}

static bool needs_restore(const struct pop_disk *d)
{
	return (d->intent & POP_BIT(STEP_MAP)) && (d->done & POP_BIT(STEP_MAPPINGS)) &&
	       d->saved.n > 0 && !(d->done & POP_BIT(STEP_RESTORE));
}

void pop_array_cleanup(struct pop_run *run, struct pop_disk *d)
{
	struct xclone_error err;
	cJSON *data;

	if (d->ended || run->journal_dead)
		return;
	if (d->host_stuck || pop_needs_task_clean(d) || pop_needs_detach(d)) {
		d->host_stuck = true; /* the host may still use the LUN: keep it mapped */
		return;
	}
	if ((needs_unmap(d) || needs_restore(d)) && (run->array_dead || !run->array_open)) {
		d->array_stuck = true;
		return;
	}
	if (needs_unmap(d) && undo_step(run, d, STEP_UNMAP) != 0) {
		d->array_stuck = true;
		return;
	}
	if (needs_restore(d) && undo_step(run, d, STEP_RESTORE) != 0) {
		d->array_stuck = true;
		return;
	}
	pop_disk_settle(run, d);
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "outcome", pop_outcome_name(d->outcome));
	if (pop_record(run, d, STEP_DISK_END, MARK_DONE, data, &err) == 0) {
		d->ended = true;
		pop_phase(run, d, d->outcome == OUT_SUCCEEDED ? XCLONE_PHASE_DONE : XCLONE_PHASE_FAILED,
			  "%s", d->outcome == OUT_SUCCEEDED ? "copied and cleaned up" : d->message);
	}
}

/*
 * Journals that the host object we created stays on the array: another populate
 * on this host reused it and still has a LUN mapped to it.
 */
static void leave_group(struct pop_run *run)
{
	struct xclone_error err = { 0 };
	cJSON *data = cJSON_CreateObject();

	cJSON_AddBoolToObject(data, "removed", false);
	cJSON_AddStringToObject(data, "reason", "a volume is still mapped to it");
	if (pop_record(run, NULL, STEP_HOST_RELEASE, MARK_DONE, data, &err) == 0)
		run->group_owned = false;
}

void pop_array_release_group(struct pop_run *run)
{
	struct xclone_error err = { 0 };
	cJSON *data;
	int rc;

	if (!run->group_owned || !run->have_group || run->journal_dead)
		return;
	for (size_t i = 0; i < run->n; i++)
		if (!run->disks[i].ended)
			return; /* a LUN may still be mapped to it */
	/*
	 * No NULL check: array_remove_host is required like every other array_*
	 * callback, and both backends (the real one, the unit test's fake) have it.
	 * A silent skip would hide a missing one by leaving host objects behind.
	 */
	if (!run->array_open || run->array_dead)
		return;
	if (pop_record(run, NULL, STEP_HOST_RELEASE, MARK_INTENT, NULL, &err) != 0)
		return;
	rc = run->be.array_remove_host(run->be.ctx, &run->group, &err);
	if (rc == XC_E_CONFLICT) {
		pop_warn(run, "host object %s was created by this populate but is left in place:"
			      " %s", run->group.name, err.message);
		leave_group(run);
		return;
	}
	if (rc != 0) {
		pop_warn(run, "cannot remove host object %s: %s", run->group.name, err.message);
		(void)pop_record(run, NULL, STEP_HOST_RELEASE, MARK_FAILED, NULL, &err);
		return;
	}
	data = cJSON_CreateObject();
	cJSON_AddBoolToObject(data, "removed", true);
	if (pop_record(run, NULL, STEP_HOST_RELEASE, MARK_DONE, data, &err) == 0)
		run->group_owned = false;
}
