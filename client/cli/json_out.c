/*
 * The typed results as JSON objects, with PROTOCOL.md's member names: what
 * `--json` prints. Absent C values (NULL strings, has_* false) are JSON null.
 */
#include "cli.h"

static void add_str(cJSON *o, const char *name, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

static void add_int(cJSON *o, const char *name, bool has, int64_t v)
{
	if (has)
		cJSON_AddNumberToObject(o, name, (double)v);
	else
		cJSON_AddNullToObject(o, name);
}

cJSON *json_strings(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a != NULL && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

cJSON *json_hello(const struct xclone_hello *h, const struct xclone_peer *peer)
{
	cJSON *o = cJSON_CreateObject(), *p;

	add_str(o, "agent", h->agent);
	add_str(o, "version", h->version);
	cJSON_AddNumberToObject(o, "protocol", h->protocol);
	cJSON_AddItemToObject(o, "capabilities", json_strings(h->capabilities, h->n_capabilities));
	add_str(o, "hostname", h->hostname);
	add_str(o, "mode", h->mode);
	cJSON_AddBoolToObject(o, "read_only", h->read_only);
	if (peer != NULL && (p = cJSON_AddObjectToObject(o, "peer")) != NULL) {
		add_str(p, "transport", peer->transport);
		add_str(p, "host", peer->host);
		cJSON_AddNumberToObject(p, "port", peer->port);
		add_str(p, "identity", peer->identity);
		add_str(p, "identity_source", peer->identity_source);
	}
	return o;
}

static cJSON *json_adapter(const struct xclone_adapter *a)
{
	cJSON *o = cJSON_CreateObject();

	add_str(o, "name", a->name);
	add_str(o, "driver", a->driver);
	add_str(o, "uid", a->uid);
	add_str(o, "transport", a->transport);
	cJSON_AddItemToObject(o, "initiators", json_strings(a->initiators, a->n_initiators));
	return o;
}

static cJSON *json_datastore(const struct xclone_datastore *d)
{
	cJSON *o = cJSON_CreateObject(), *ext = cJSON_AddArrayToObject(o, "extents");

	add_str(o, "name", d->name);
	add_str(o, "uuid", d->uuid);
	add_str(o, "type", d->type);
	for (size_t i = 0; ext != NULL && i < d->n_extents; i++) {
		cJSON *e = cJSON_CreateObject();

		add_str(e, "device", d->extents[i].device);
		cJSON_AddNumberToObject(e, "partition", (double)d->extents[i].partition);
		cJSON_AddItemToObject(e, "adapters",
				      json_strings(d->extents[i].adapters, d->extents[i].n_adapters));
		cJSON_AddItemToArray(ext, e);
	}
	return o;
}

cJSON *json_host_info(const struct xclone_host_info *h)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *ad = cJSON_AddArrayToObject(o, "adapters"), *ds = cJSON_AddArrayToObject(o, "datastores");
	cJSON *vaai;

	add_str(o, "hostname", h->hostname);
	add_str(o, "product", h->product);
	add_str(o, "version", h->version);
	add_str(o, "build", h->build);
	for (size_t i = 0; ad != NULL && i < h->n_adapters; i++)
		cJSON_AddItemToArray(ad, json_adapter(&h->adapters[i]));
	for (size_t i = 0; ds != NULL && i < h->n_datastores; i++)
		cJSON_AddItemToArray(ds, json_datastore(&h->datastores[i]));
	vaai = cJSON_AddObjectToObject(o, "vaai");
	cJSON_AddNumberToObject(vaai, "hardware_accelerated_move", (double)h->hardware_accelerated_move);
	cJSON_AddNumberToObject(vaai, "hardware_accelerated_init", (double)h->hardware_accelerated_init);
	cJSON_AddNumberToObject(vaai, "max_hw_transfer_size", (double)h->max_hw_transfer_size);
	add_str(o, "sdc_guid", h->sdc_guid);
	return o;
}

cJSON *json_device(const struct xclone_device *d)
{
	cJSON *o = cJSON_CreateObject();

	add_str(o, "id", d->id);
	cJSON_AddBoolToObject(o, "present", d->present);
	add_str(o, "status", d->status);
	cJSON_AddNumberToObject(o, "size_bytes", (double)d->size_bytes);
	add_str(o, "vendor", d->vendor);
	add_str(o, "model", d->model);
	cJSON_AddBoolToObject(o, "is_local", d->is_local);
	add_str(o, "vaai_clone", d->vaai_clone);
	add_str(o, "backs_datastore", d->backs_datastore);
	cJSON_AddNumberToObject(o, "paths", (double)d->paths);
	return o;
}

cJSON *json_preflight(const struct xclone_preflight *p)
{
	cJSON *o = cJSON_CreateObject(), *src = cJSON_AddObjectToObject(o, "source");
	cJSON *tgt = cJSON_AddObjectToObject(o, "target"), *bl;

	add_str(src, "path", p->source_path);
	add_str(src, "datastore", p->source_datastore);
	add_str(src, "format", p->source_format);
	cJSON_AddItemToObject(src, "chain", json_strings(p->source_chain, p->n_source_chain));
	cJSON_AddNumberToObject(src, "size_bytes", (double)p->source_size_bytes);
	cJSON_AddBoolToObject(src, "sparse", p->source_sparse);
	add_str(tgt, "device", p->target_device);
	cJSON_AddNumberToObject(tgt, "size_bytes", (double)p->target_size_bytes);
	cJSON_AddBoolToObject(o, "xcopy_expected", p->xcopy_expected);
	cJSON_AddItemToObject(o, "reasons", json_strings(p->reasons, p->n_reasons));
	bl = cJSON_AddArrayToObject(o, "blockers");
	for (size_t i = 0; bl != NULL && i < p->n_blockers; i++) {
		cJSON *b = cJSON_CreateObject();

		add_str(b, "code", p->blockers[i].code);
		add_str(b, "message", p->blockers[i].message);
		cJSON_AddItemToArray(bl, b);
	}
	return o;
}

cJSON *json_task(const struct xclone_task *t)
{
	cJSON *o = cJSON_CreateObject();

	add_str(o, "id", t->id);
	add_str(o, "key", t->key);
	add_str(o, "state", xclone_task_state_name(t->state));
	cJSON_AddNumberToObject(o, "percent", t->percent);
	add_str(o, "source", t->source);
	add_str(o, "target", t->target);
	add_str(o, "pointer", t->pointer);
	add_int(o, "pid", t->has_pid, t->pid);
	cJSON_AddNumberToObject(o, "created_ms", (double)t->created_ms);
	add_int(o, "started_ms", t->has_started_ms, t->started_ms);
	add_int(o, "ended_ms", t->has_ended_ms, t->ended_ms);
	add_int(o, "exit_code", t->has_exit_code, t->exit_code);
	add_int(o, "signal", t->has_signal, t->signal);
	if (t->xcopy_used < 0)
		cJSON_AddNullToObject(o, "xcopy_used");
	else
		cJSON_AddBoolToObject(o, "xcopy_used", t->xcopy_used == 1);
	add_int(o, "bytes", t->has_bytes, t->bytes);
	add_str(o, "message", t->message);
	add_str(o, "error_code", t->error_code);
	add_str(o, "stderr_tail", t->stderr_tail);
	return o;
}

cJSON *json_task_list(const struct xclone_task_list *l)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "tasks");

	for (size_t i = 0; a != NULL && i < l->count; i++)
		cJSON_AddItemToArray(a, json_task(&l->tasks[i]));
	cJSON_AddBoolToObject(o, "truncated", l->truncated);
	return o;
}

cJSON *json_clean(const struct xclone_clean *c)
{
	cJSON *o = cJSON_CreateObject();

	add_str(o, "task", c->task);
	cJSON_AddItemToObject(o, "removed", json_strings(c->removed, c->n_removed));
	return o;
}
