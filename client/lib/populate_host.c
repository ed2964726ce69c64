/*
 * Populate, host level: the agent's identity, which adapters carry the source
 * datastores (hence the initiators to map to and the adapters to rescan), the
 * one add-rescan after all maps, the delete-rescan after the unmaps, and the
 * check that no target device is left on the host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "populate_engine.h"

/* Every operation populate calls; a key restricted to fewer cannot populate. */
static const char *const needed_ops[] = {
	"host.info", "storage.rescan", "device.get", "device.wait", "device.detach", "preflight",
	"clone.start", "task.get", "task.watch", "task.cancel", "task.clean", "task.list",
};

static int check_hello(const struct xclone_hello *h, struct xclone_error *err)
{
	for (size_t i = 0; i < sizeof(needed_ops) / sizeof(needed_ops[0]); i++) {
		bool have = false;

		for (size_t k = 0; k < h->n_capabilities; k++)
			have = have || strcmp(h->capabilities[k], needed_ops[i]) == 0;
		if (!have)
			return xclone_error_set(err, XC_E_CONFIG,
						"the agent on %s does not let this key call %s%s: populate"
						" needs a key without --read-only or --allow restrictions",
						h->hostname, needed_ops[i],
						h->read_only ? " (read-only key)" : "");
	}
	return 0;
}

/* The datastore a source names: "[ds] dir/x.vmdk" or "/vmfs/volumes/<ds or uuid>/...". */
static bool source_datastore(const char *source, char *out, size_t size)
{
	static const char prefix[] = "/vmfs/volumes/";
	const char *end;

	if (source[0] == '[') {
		end = strstr(source, "] ");
		if (end == NULL)
			return false;
		snprintf(out, size, "%.*s", (int)(end - source - 1), source + 1);
		return true;
	}
	if (strncmp(source, prefix, sizeof(prefix) - 1) == 0) {
		source += sizeof(prefix) - 1;
		end = strchr(source, '/');
		if (end == NULL)
			return false;
		snprintf(out, size, "%.*s", (int)(end - source), source);
		return true;
	}
	return false;
}

static void add_adapter(struct pop_run *run, const char *name)
{
	for (size_t i = 0; i < run->n_adapters; i++)
		if (strcmp(run->adapters[i], name) == 0)
			return;
	if (run->n_adapters < POP_ADAPTERS_MAX && strlen(name) < sizeof(run->adapters[0]))
		snprintf(run->adapters[run->n_adapters++], sizeof(run->adapters[0]), "%s", name);
}

static void add_initiator(struct pop_run *run, const char *id)
{
	for (size_t i = 0; i < run->n_initiators; i++)
		if (strcmp(run->initiators[i], id) == 0)
			return;
	if (run->n_initiators < POP_INITIATORS_MAX && strlen(id) < sizeof(run->initiators[0]))
		snprintf(run->initiators[run->n_initiators++], sizeof(run->initiators[0]), "%s", id);
}

/* Adapters with a path to an extent of a datastore some disk reads from. */
static void adapters_of_sources(struct pop_run *run, const struct xclone_host_info *hi)
{
	char ds[512];

	for (size_t i = 0; i < run->n; i++) {
		if (!source_datastore(run->disks[i].spec->source, ds, sizeof(ds)))
			continue;
		for (size_t k = 0; k < hi->n_datastores; k++) {
			const struct xclone_datastore *d = &hi->datastores[k];

			if (strcmp(d->name, ds) != 0 && strcmp(d->uuid, ds) != 0)
				continue;
			for (size_t e = 0; e < d->n_extents; e++)
				for (size_t a = 0; a < d->extents[e].n_adapters; a++)
					add_adapter(run, d->extents[e].adapters[a]);
		}
	}
}

static void initiators_of_adapters(struct pop_run *run, const struct xclone_host_info *hi)
{
	for (size_t a = 0; a < hi->n_adapters; a++) {
		bool used = false;

		for (size_t i = 0; i < run->n_adapters; i++)
			used = used || strcmp(run->adapters[i], hi->adapters[a].name) == 0;
		for (size_t k = 0; used && k < hi->adapters[a].n_initiators; k++)
			add_initiator(run, hi->adapters[a].initiators[k]);
	}
}

/* No source datastore found on the host (its disks will fail on their own): every
 * adapter with initiators, so that cleanup still rescans where a device could be. */
static void all_adapters(struct pop_run *run, const struct xclone_host_info *hi)
{
	for (size_t a = 0; a < hi->n_adapters; a++)
		if (hi->adapters[a].n_initiators > 0)
			add_adapter(run, hi->adapters[a].name);
}

static cJSON *string_array(const char (*items)[33], size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a != NULL && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(items[i]));
	return a;
}

static cJSON *host_record(const struct pop_run *run)
{
	cJSON *o = cJSON_CreateObject(), *ini = cJSON_CreateArray();

	cJSON_AddStringToObject(o, "hostname", run->hostname);
	cJSON_AddItemToObject(o, "adapters", string_array(run->adapters, run->n_adapters));
	for (size_t i = 0; ini != NULL && i < run->n_initiators; i++)
		cJSON_AddItemToArray(ini, cJSON_CreateString(run->initiators[i]));
	cJSON_AddItemToObject(o, "initiators", ini);
	return o;
}

int pop_host_open(struct pop_run *run, struct xclone_error *err)
{
	struct xclone_hello *h = NULL;
	struct xclone_host_info *hi = NULL;
	int rc;

	rc = run->be.open_agent(run->be.ctx, err);
	if (rc == 0) {
		run->agent_open = true;
		rc = run->be.hello(run->be.ctx, &h, err);
	}
	if (rc == 0)
		rc = check_hello(h, err);
	if (rc == 0)
		rc = run->be.host_info(run->be.ctx, &hi, err);
	if (rc == 0) {
		snprintf(run->hostname, sizeof(run->hostname), "%s", hi->hostname);
		adapters_of_sources(run, hi);
		if (run->n_adapters == 0)
			all_adapters(run, hi);
		initiators_of_adapters(run, hi);
		/*
		 * PowerFlex presents volumes to the host's SDC, named by its GUID, not
		 * to a SCSI initiator; drivers that cannot use a kind drop it.
		 */
		if (hi->sdc_guid != NULL)
			add_initiator(run, hi->sdc_guid);
		pop_log(run, "host %s: adapters used %zu, initiators %zu", run->hostname,
			run->n_adapters, run->n_initiators);
		rc = pop_record(run, NULL, STEP_HOST_INFO, MARK_DONE, host_record(run), err);
	}
	xclone_hello_free(h);
	xclone_host_info_free(hi);
	if (rc != 0)
		run->agent_dead = true;
	return rc;
}

static cJSON *adapters_data(const struct pop_run *run, int64_t rescans)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "adapters", string_array(run->adapters, run->n_adapters));
	if (rescans >= 0)
		cJSON_AddNumberToObject(o, "rescans", (double)rescans);
	return o;
}

/* One rescan of type `type` per adapter used; 0 or the first failure. */
static int rescan_all(struct pop_run *run, const char *type, int64_t *ran,
		      struct xclone_error *err)
{
	int first = 0;

	*ran = 0;
	for (size_t i = 0; i < run->n_adapters; i++) {
		struct xclone_rescan r = { 0, 0 };
		struct xclone_error e = { 0 };
		int rc = run->be.rescan(run->be.ctx, run->adapters[i], type, &r, &e);

		*ran += r.rescans;
		if (rc != 0 && first == 0) {
			first = rc;
			*err = e;
		}
	}
	pthread_mutex_lock(&run->lock);
	run->rescans += *ran;
	pthread_mutex_unlock(&run->lock);
	return first;
}

int pop_rescan_add(struct pop_run *run)
{
	struct xclone_error err = { 0 };
	int64_t ran = 0;
	int rc = pop_record(run, NULL, STEP_RESCAN_ADD, MARK_INTENT, adapters_data(run, -1), &err);

	if (rc != 0)
		return rc;
	rc = rescan_all(run, "add", &ran, &err);
	if (rc != 0) {
		/* device.wait rescans on its own; this one only saves time. */
		pop_warn(run, "rescan (add) failed, waiting for devices anyway: %s", err.message);
		if (!pop_agent_answered(&err))
			run->agent_dead = true;
		return pop_record(run, NULL, STEP_RESCAN_ADD, MARK_FAILED, NULL, &err);
	}
	return pop_record(run, NULL, STEP_RESCAN_ADD, MARK_DONE, adapters_data(run, ran), &err);
}

void pop_rescan_delete(struct pop_run *run)
{
	struct xclone_error err = { 0 };
	int64_t ran = 0;

	if (!run->need_delete_rescan || !run->agent_open || run->agent_dead || run->journal_dead)
		return;
	if (pop_record(run, NULL, STEP_RESCAN_DELETE, MARK_INTENT, adapters_data(run, -1), &err))
		return;
	if (rescan_all(run, "delete", &ran, &err) != 0) {
		pop_warn(run, "rescan (delete) failed, dead paths may stay until the next rescan: %s",
			 err.message);
		(void)pop_record(run, NULL, STEP_RESCAN_DELETE, MARK_FAILED, NULL, &err);
		return;
	}
	if (pop_record(run, NULL, STEP_RESCAN_DELETE, MARK_DONE, adapters_data(run, ran), &err) == 0)
		run->need_delete_rescan = false;
}

/* After the delete rescan, no device of ours should be known to the host. */
bool pop_needs_verify(const struct pop_disk *d)
{
	return (d->done & POP_BIT(STEP_UNMAP)) && !d->mapped_before && d->lun.naa[0] != '\0';
}

void pop_verify_gone(struct pop_run *run, struct pop_disk *d)
{
	struct xclone_device *dev = NULL;
	struct xclone_error err = { 0 };

	if (run->be.device_get(run->be.ctx, d->lun.naa, &dev, &err) == 0)
		pop_warn(run, "device %s is still known to host %s (status %s) after unmap and"
			      " rescan", d->lun.naa, run->hostname, dev->status);
	xclone_device_free(dev);
}
