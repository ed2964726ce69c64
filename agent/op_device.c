/*
 * device.get, device.wait and device.detach: one device as the host sees it,
 * waiting for a newly mapped one (rescanning with backoff), and letting go of
 * one before the array unmaps it.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "esxcli.h"
#include "host_query.h"
#include "ops.h"
#include "path_policy.h"
#include "rescan.h"
#include "target_safety.h"

#define WAIT_FIRST_NAP_MS 250   /* device.wait: pause before the second rescan ... */
#define WAIT_MAX_NAP_MS 4000    /* ... doubling up to this */
#define OFF_FIRST_NAP_MS 50     /* device.detach: polling for status off */
#define OFF_MAX_NAP_MS 1000

/* PROTOCOL.md: present means usable now (known, attached, status on). */
static bool usable(const struct ag_device *d)
{
	return d->present && strcmp(d->status, "on") == 0;
}

static bool known(const struct ag_device *d)
{
	return d->present || d->status[0] != '\0';
}

static cJSON *device_json(const struct ag_device *d)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL;

	ok = ok && cJSON_AddStringToObject(o, "id", d->id);
	ok = ok && cJSON_AddBoolToObject(o, "present", usable(d));
	ok = ok && cJSON_AddStringToObject(o, "status", d->status);
	ok = ok && cJSON_AddNumberToObject(o, "size_bytes", (double)d->size_bytes);
	ok = ok && cJSON_AddStringToObject(o, "vendor", d->vendor);
	ok = ok && cJSON_AddStringToObject(o, "model", d->model);
	ok = ok && cJSON_AddBoolToObject(o, "is_local", d->is_local);
	ok = ok && cJSON_AddStringToObject(o, "vaai_clone", d->vaai_clone);
	if (d->backs_datastore[0] != '\0')
		ok = ok && cJSON_AddStringToObject(o, "backs_datastore", d->backs_datastore);
	else
		ok = ok && cJSON_AddNullToObject(o, "backs_datastore");
	ok = ok && cJSON_AddNumberToObject(o, "paths", d->paths);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* {"device": {...}} plus, for device.wait, rescans and waited_ms (rescans < 0: none). */
static int device_result(const struct ag_device *d, int rescans, int64_t waited_ms,
			 cJSON **result, struct xp_error *err)
{
	cJSON *r = cJSON_CreateObject(), *dj = device_json(d);
	bool ok = r != NULL && dj != NULL && cJSON_AddItemToObject(r, "device", dj);

	if (ok)
		dj = NULL;
	if (ok && rescans >= 0) {
		ok = cJSON_AddNumberToObject(r, "rescans", rescans) &&
		     cJSON_AddNumberToObject(r, "waited_ms", (double)waited_ms);
	}
	if (!ok) {
		cJSON_Delete(r);
		cJSON_Delete(dj);
		return xp_error_set(err, XP_INTERNAL, "result", "out of memory");
	}
	*result = r;
	return 0;
}

static int check_device_arg(const struct xp_request *req, struct xp_error *err)
{
	const char *id = req->args.device;

	if (!ag_device_id_valid(id, strlen(id)))
		return xp_error_set(err, XP_BAD_REQUEST, "args.device",
				    "not a device id (naa.*, eui.* or t10.*, no partition)");
	return 0;
}

static int not_found(const char *id, struct xp_error *err)
{
	return xp_error_set(err, XP_DEVICE_NOT_FOUND, "args.device", "the host does not know %s",
			    id);
}

static void nap(int64_t ms)
{
	if (ms > 0)
		(void)poll(NULL, 0, (int)ms);
}

AG_OP(op_device_get)
{
	struct ag_device d;
	int rc = check_device_arg(req, err);

	if (rc == 0)
		rc = ag_device_query(ctx->cfg, req->args.device, AG_DEV_ALL, &d, err);
	if (rc == 0 && !known(&d))
		rc = not_found(d.id, err);
	if (rc != 0)
		return rc;
	return device_result(&d, -1, 0, result, err);
}

/* --- device.wait ---------------------------------------------------------------------- */

struct waiter {
	const struct ag_config *cfg;
	const char *id;
	int64_t start, deadline;
	int rescans;
	struct ag_device dev;
	int look_rc, rescan_rc;      /* the last look's / rescan's failure, 0 after a good one */
	struct xp_error look_err, rescan_err;
};

/* One look; 1 when the device is usable, 0 when not (yet), else a fatal code. */
static int look(struct waiter *w, unsigned parts)
{
	w->look_rc = ag_device_query(w->cfg, w->id, parts, &w->dev, &w->look_err);
	if (w->look_rc == XP_HOST_COMMAND_FAILED || w->look_rc == XP_TIMEOUT)
		return 0; /* the host may recover before the deadline */
	if (w->look_rc != 0)
		return -1;
	return usable(&w->dev) ? 1 : 0;
}

/*
 * The first look asks everything: a device mapped and rescanned by the caller
 * is usually there at once. Later polls ask the device list alone (one esxcli
 * call), and everything once the device shows up.
 */
static int look_again(struct waiter *w)
{
	int seen = look(w, AG_DEV_LISTED_ONLY);

	return seen == 1 ? look(w, AG_DEV_ALL) : seen;
}

static void rescan_once(struct waiter *w)
{
	int ran = 0;

	w->rescan_rc = ag_rescan(w->cfg, NULL, XP_RESCAN_ADD, w->deadline, &ran, &w->rescan_err);
	w->rescans += ran;
}

/* The deadline passed: the host's own failure if there was one, else TIMEOUT. */
static int wait_failed(struct waiter *w, struct xp_error *err)
{
	int64_t waited = ag_rescan_now_ms() - w->start;

	if (w->look_rc != 0) {
		*err = w->look_err;
		return w->look_rc;
	}
	if (w->rescan_rc == XP_HOST_COMMAND_FAILED) {
		*err = w->rescan_err;
		return w->rescan_rc;
	}
	if (!known(&w->dev))
		return xp_error_set(err, XP_TIMEOUT, "args.device",
				    "%s did not appear within %lld ms (%d rescans)", w->id,
				    (long long)waited, w->rescans);
	return xp_error_set(err, XP_TIMEOUT, "args.device",
			    "%s is known but not usable after %lld ms (status '%s', %d rescans)",
			    w->id, (long long)waited, w->dev.status, w->rescans);
}

AG_OP(op_device_wait)
{
	struct waiter w = { .cfg = ctx->cfg, .id = req->args.device };
	int64_t timeout = req->args.timeout_ms;
	int64_t bound = (int64_t)ctx->cfg->rescan_settle_timeout_s * 1000;
	int64_t pause = 0;
	int rc = check_device_arg(req, err), seen;

	if (rc != 0)
		return rc;
	w.start = ag_rescan_now_ms();
	w.deadline = w.start + (timeout < bound ? timeout : bound);
	/* Look; rescan at once; then look, pause (growing), rescan, until the deadline. */
	seen = look(&w, AG_DEV_ALL);
	while (seen == 0 && ag_rescan_now_ms() < w.deadline) {
		int64_t left = w.deadline - ag_rescan_now_ms();

		nap(pause < left ? pause : left);
		if (ag_rescan_now_ms() >= w.deadline)
			break;
		rescan_once(&w);
		pause = pause == 0 ? WAIT_FIRST_NAP_MS : pause * 2;
		pause = pause > WAIT_MAX_NAP_MS ? WAIT_MAX_NAP_MS : pause;
		seen = look_again(&w);
	}
	if (seen == 0 && w.look_rc == 0 && w.dev.parts != AG_DEV_ALL)
		seen = look(&w, AG_DEV_ALL); /* a poll's record: ask why the device is missing */
	if (seen < 0) {
		*err = w.look_err;
		return w.look_rc;
	}
	if (seen == 0)
		return wait_failed(&w, err);
	return device_result(&w.dev, w.rescans, ag_rescan_now_ms() - w.start, result, err);
}

/* --- device.detach -------------------------------------------------------------------- */

static int esxcli_do(const struct ag_config *cfg, const char *const *words, struct xp_error *err)
{
	struct ag_hostcmd c;
	int rc;

	ag_esxcli_init(&c, cfg, words);
	rc = ag_hostcmd_run(&c);
	if (rc != 0)
		*err = c.err;
	ag_hostcmd_free(&c);
	return rc;
}

/* After `set --state off`: polls until the host reports the device off (or gone). */
static int wait_off(const struct ag_config *cfg, const char *id, struct xp_error *err)
{
	int64_t deadline = ag_rescan_now_ms() + (int64_t)cfg->esxcli_timeout_s * 1000;
	int64_t pause = OFF_FIRST_NAP_MS;
	struct ag_device d;
	int rc;

	while ((rc = ag_device_query(cfg, id, AG_DEV_LISTED_ONLY, &d, err)) == 0 && d.present &&
	       strcmp(d.status, "off") != 0) {
		if (ag_rescan_now_ms() >= deadline)
			return xp_error_set(err, XP_TIMEOUT, "args.device",
					    "%s still has status '%s' after it was set off", id,
					    d.status);
		nap(pause);
		pause = pause * 2 > OFF_MAX_NAP_MS ? OFF_MAX_NAP_MS : pause * 2;
	}
	return rc;
}

/* Whether the host keeps detached configuration for id. */
static int in_detached_list(const struct ag_config *cfg, const char *id, bool *listed,
			    struct xp_error *err)
{
	static const char *const words[] = { "storage", "core", "device", "detached", "list",
					     NULL };
	struct ag_hostcmd c;
	struct ag_esx_detached *recs = NULL;
	size_t n = 0;
	int rc;

	*listed = false;
	ag_esxcli_init(&c, cfg, words);
	rc = ag_hostcmd_run(&c);
	if (rc != 0)
		*err = c.err;
	else
		rc = ag_esx_parse_detached(c.out, c.out_len, &recs, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		*listed = *listed || strcmp(recs[i].device, id) == 0;
	free(recs);
	ag_hostcmd_free(&c);
	return rc;
}

AG_OP(op_device_detach)
{
	const char *id = req->args.device;
	const char *const set_off[] = { "storage", "core", "device", "set", "--state", "off",
					"-d", id, NULL };
	const char *const forget[] = { "storage", "core", "device", "detached", "remove", "-d", id,
				       NULL };
	struct ag_device d;
	bool detached = false, configured = false;
	cJSON *r;
	int rc = check_device_arg(req, err);

	if (rc == 0)
		rc = ag_device_query(ctx->cfg, id, AG_DEV_EXTENTS, &d, err);
	if (rc == 0 && !known(&d))
		rc = not_found(id, err);
	if (rc == 0 && d.present)
		rc = ag_device_in_use(&d, "args.device", err);
	if (rc == 0 && d.present && strcmp(d.status, "off") != 0) {
		rc = esxcli_do(ctx->cfg, set_off, err);
		if (rc == 0)
			rc = wait_off(ctx->cfg, id, err);
		detached = rc == 0;
	}
	/* Setting a device off records it in the detached list; no need to ask. */
	if (rc == 0)
		configured = detached || (!d.present && strcmp(d.status, "detached") == 0);
	if (rc == 0 && !configured)
		rc = in_detached_list(ctx->cfg, id, &configured, err);
	if (rc == 0 && configured)
		rc = esxcli_do(ctx->cfg, forget, err);
	if (rc != 0)
		return rc;
	r = cJSON_CreateObject();
	if (r == NULL || !cJSON_AddStringToObject(r, "device", id) ||
	    !cJSON_AddBoolToObject(r, "detached", detached)) {
		cJSON_Delete(r);
		return xp_error_set(err, XP_INTERNAL, "result", "out of memory");
	}
	*result = r;
	return 0;
}
