/* Typed results of hello, host.info, device.*, preflight and task.clean (see results.h). */
#include "arena.h"
#include "results.h"

int xc_build_end(struct xc_build *b, void **out, struct xclone_error *err)
{
	if (b->failed) {
		xc_arena_free(b->root);
		*out = NULL;
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	*out = b->root;
	return 0;
}

int xc_hello_from(const cJSON *r, struct xclone_hello **out, struct xclone_error *err)
{
	struct xc_build b;
	struct xclone_hello *h;

	if (!xb_begin(&b, sizeof(*h)))
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	h = b.root;
	h->agent = xb_str(&b, r, "agent");
	h->version = xb_str(&b, r, "version");
	h->protocol = (int)xb_int(r, "protocol");
	h->capabilities = xb_strs(&b, r, "capabilities", &h->n_capabilities);
	h->hostname = xb_str(&b, r, "hostname");
	h->mode = xb_str(&b, r, "mode");
	h->read_only = xb_bool(r, "read_only");
	return xc_build_end(&b, (void **)out, err);
}

static void fill_adapter(struct xc_build *b, const cJSON *j, struct xclone_adapter *a)
{
	a->name = xb_str(b, j, "name");
	a->driver = xb_str(b, j, "driver");
	a->uid = xb_str(b, j, "uid");
	a->transport = xb_str(b, j, "transport");
	a->initiators = xb_strs(b, j, "initiators", &a->n_initiators);
}

static void fill_datastore(struct xc_build *b, const cJSON *j, struct xclone_datastore *d)
{
	const cJSON *e;
	size_t i = 0;

	d->name = xb_str(b, j, "name");
	d->uuid = xb_str(b, j, "uuid");
	d->type = xb_str(b, j, "type");
	d->n_extents = xb_count(j, "extents");
	d->extents = xb_array(b, d->n_extents, sizeof(*d->extents));
	if (d->extents == NULL)
		return;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "extents")) {
		struct xclone_extent *x = &d->extents[i++];

		x->device = xb_str(b, e, "device");
		x->partition = xb_int(e, "partition");
		x->adapters = xb_strs(b, e, "adapters", &x->n_adapters);
	}
}

int xc_host_info_from(const cJSON *r, struct xclone_host_info **out, struct xclone_error *err)
{
	const cJSON *vaai = cJSON_GetObjectItemCaseSensitive(r, "vaai"), *item;
	struct xclone_host_info *h;
	struct xc_build b;
	size_t i;

	if (!xb_begin(&b, sizeof(*h)))
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	h = b.root;
	h->hostname = xb_str(&b, r, "hostname");
	h->product = xb_str(&b, r, "product");
	h->version = xb_str(&b, r, "version");
	h->build = xb_str(&b, r, "build");
	h->n_adapters = xb_count(r, "adapters");
	h->adapters = xb_array(&b, h->n_adapters, sizeof(*h->adapters));
	i = 0;
	if (h->adapters != NULL)
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(r, "adapters"))
			fill_adapter(&b, item, &h->adapters[i++]);
	h->n_datastores = xb_count(r, "datastores");
	h->datastores = xb_array(&b, h->n_datastores, sizeof(*h->datastores));
	i = 0;
	if (h->datastores != NULL)
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(r, "datastores"))
			fill_datastore(&b, item, &h->datastores[i++]);
	h->hardware_accelerated_move = xb_int(vaai, "hardware_accelerated_move");
	h->hardware_accelerated_init = xb_int(vaai, "hardware_accelerated_init");
	h->max_hw_transfer_size = xb_int(vaai, "max_hw_transfer_size");
	h->sdc_guid = xb_str(&b, r, "sdc_guid");
	return xc_build_end(&b, (void **)out, err);
}

int xc_device_from(const cJSON *j, struct xclone_device **out, struct xclone_error *err)
{
	struct xclone_device *d;
	struct xc_build b;

	if (!xb_begin(&b, sizeof(*d)))
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	d = b.root;
	d->id = xb_str(&b, j, "id");
	d->present = xb_bool(j, "present");
	d->status = xb_str(&b, j, "status");
	d->size_bytes = xb_int(j, "size_bytes");
	d->vendor = xb_str(&b, j, "vendor");
	d->model = xb_str(&b, j, "model");
	d->is_local = xb_bool(j, "is_local");
	d->vaai_clone = xb_str(&b, j, "vaai_clone");
	d->backs_datastore = xb_str(&b, j, "backs_datastore");
	d->paths = xb_int(j, "paths");
	return xc_build_end(&b, (void **)out, err);
}

int xc_preflight_from(const cJSON *r, struct xclone_preflight **out, struct xclone_error *err)
{
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(r, "source");
	const cJSON *tgt = cJSON_GetObjectItemCaseSensitive(r, "target"), *item;
	struct xclone_preflight *p;
	struct xc_build b;
	size_t i = 0;

	if (!xb_begin(&b, sizeof(*p)))
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	p = b.root;
	p->source_path = xb_str(&b, src, "path");
	p->source_datastore = xb_str(&b, src, "datastore");
	p->source_format = xb_str(&b, src, "format");
	p->source_chain = xb_strs(&b, src, "chain", &p->n_source_chain);
	p->source_size_bytes = xb_int(src, "size_bytes");
	p->source_sparse = xb_bool(src, "sparse");
	p->target_device = xb_str(&b, tgt, "device");
	p->target_size_bytes = xb_int(tgt, "size_bytes");
	p->xcopy_expected = xb_bool(r, "xcopy_expected");
	p->reasons = xb_strs(&b, r, "reasons", &p->n_reasons);
	p->n_blockers = xb_count(r, "blockers");
	p->blockers = xb_array(&b, p->n_blockers, sizeof(*p->blockers));
	if (p->blockers != NULL) {
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(r, "blockers")) {
			p->blockers[i].code = xb_str(&b, item, "code");
			p->blockers[i].message = xb_str(&b, item, "message");
			i++;
		}
	}
	return xc_build_end(&b, (void **)out, err);
}

int xc_clean_from(const cJSON *r, struct xclone_clean **out, struct xclone_error *err)
{
	struct xclone_clean *c;
	struct xc_build b;

	if (!xb_begin(&b, sizeof(*c)))
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	c = b.root;
	c->task = xb_str(&b, r, "task");
	c->removed = xb_strs(&b, r, "removed", &c->n_removed);
	return xc_build_end(&b, (void **)out, err);
}

void xclone_hello_free(struct xclone_hello *h)
{
	xc_arena_free(h);
}

void xclone_host_info_free(struct xclone_host_info *h)
{
	xc_arena_free(h);
}

void xclone_device_free(struct xclone_device *d)
{
	xc_arena_free(d);
}

void xclone_preflight_free(struct xclone_preflight *p)
{
	xc_arena_free(p);
}

void xclone_clean_free(struct xclone_clean *c)
{
	xc_arena_free(c);
}
