/* hello, host.info, storage.rescan and device.* (see xclone.h). */
#include <string.h>

#include "call.h"
#include "results.h"

int xclone_hello(xclone_conn *c, struct xclone_hello **out, struct xclone_error *err)
{
	struct xc_call *call;
	int rc;

	if (out == NULL)
		return xclone_error_set(err, XC_E_USAGE, "no result pointer");
	if ((rc = xc_call_begin(c, out, XP_OP_HELLO, &call, err)) != 0)
		return rc;
	if ((rc = xc_call_set(call, XP_ARG_CLIENT, c->opt.client_name, err)) == 0 &&
	    (rc = xc_call_run(c, call, err)) == 0)
		rc = xc_hello_from(call->result, out, err);
	xc_call_free(call);
	if (rc == 0 && (*out)->protocol != XP_PROTOCOL_VERSION) {
		rc = xclone_error_set(err, XC_E_PROTOCOL,
				      "the agent speaks protocol %d, this library %d: upgrade one of them",
				      (*out)->protocol, XP_PROTOCOL_VERSION);
		xclone_hello_free(*out);
		*out = NULL;
	}
	return rc;
}

int xclone_host_info(xclone_conn *c, struct xclone_host_info **out, struct xclone_error *err)
{
	struct xc_call *call;
	int rc;

	if (out == NULL)
		return xclone_error_set(err, XC_E_USAGE, "no result pointer");
	if ((rc = xc_call_begin(c, out, XP_OP_HOST_INFO, &call, err)) != 0)
		return rc;
	if ((rc = xc_call_run(c, call, err)) == 0)
		rc = xc_host_info_from(call->result, out, err);
	xc_call_free(call);
	return rc;
}

static void rescan_stats(const cJSON *r, struct xclone_rescan *out)
{
	if (out == NULL)
		return;
	out->rescans = xb_int(r, "rescans");
	out->waited_ms = xb_int(r, "waited_ms");
}

static int set_rescan_type(struct xc_call *call, const char *type, struct xclone_error *err)
{
	enum xp_rescan_type t;
	struct xp_error xe = { 0 };

	if (type == NULL)
		return 0;
	if (xp_rescan_type_from_name(type, &t) != 0)
		return xclone_error_set(err, XC_E_USAGE,
					"rescan type \"%.32s\" is not one of all, add, delete", type);
	if (xp_args_set_type(&call->args, t, &xe) != 0)
		return xclone_error_set(err, XC_E_USAGE, "%s", xe.message);
	return 0;
}

int xclone_storage_rescan(xclone_conn *c, const char *adapter, const char *type,
			  struct xclone_rescan *out, struct xclone_error *err)
{
	struct xc_call *call;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if ((rc = xc_call_begin(c, NULL, XP_OP_STORAGE_RESCAN, &call, err)) != 0)
		return rc;
	if ((rc = xc_call_set(call, XP_ARG_ADAPTER, adapter, err)) == 0 &&
	    (rc = set_rescan_type(call, type, err)) == 0 && (rc = xc_call_run(c, call, err)) == 0)
		rescan_stats(call->result, out);
	xc_call_free(call);
	return rc;
}

static int need(const char *what, const char *value, struct xclone_error *err)
{
	if (value == NULL || value[0] == '\0')
		return xclone_error_set(err, XC_E_USAGE, "no %s given", what);
	return 0;
}

int xclone_device_get(xclone_conn *c, const char *device, struct xclone_device **out,
		      struct xclone_error *err)
{
	struct xc_call *call;
	int rc;

	if (out == NULL)
		return xclone_error_set(err, XC_E_USAGE, "no result pointer");
	if ((rc = xc_call_begin(c, out, XP_OP_DEVICE_GET, &call, err)) != 0)
		return rc;
	if ((rc = need("device", device, err)) == 0 &&
	    (rc = xc_call_set(call, XP_ARG_DEVICE, device, err)) == 0 &&
	    (rc = xc_call_run(c, call, err)) == 0)
		rc = xc_device_from(cJSON_GetObjectItemCaseSensitive(call->result, "device"), out, err);
	xc_call_free(call);
	return rc;
}

int xclone_device_wait(xclone_conn *c, const char *device, int64_t timeout_ms,
		       struct xclone_device **out, struct xclone_rescan *stats,
		       struct xclone_error *err)
{
	struct xc_call *call;
	int rc;

	if (stats != NULL)
		memset(stats, 0, sizeof(*stats));
	if ((rc = xc_call_begin(c, out, XP_OP_DEVICE_WAIT, &call, err)) != 0)
		return rc;
	call->extra_ms = timeout_ms < 0 ? XP_TIMEOUT_MS_DEFAULT : (uint64_t)timeout_ms;
	if ((rc = need("device", device, err)) == 0 &&
	    (rc = xc_call_set(call, XP_ARG_DEVICE, device, err)) == 0 &&
	    (timeout_ms < 0 || (rc = xc_call_set_int(call, XP_ARG_TIMEOUT_MS, timeout_ms, err)) == 0) &&
	    (rc = xc_call_run(c, call, err)) == 0) {
		rescan_stats(call->result, stats);
		if (out != NULL)
			rc = xc_device_from(cJSON_GetObjectItemCaseSensitive(call->result, "device"),
					    out, err);
	}
	xc_call_free(call);
	return rc;
}

int xclone_device_detach(xclone_conn *c, const char *device, bool *detached,
			 struct xclone_error *err)
{
	struct xc_call *call;
	int rc;

	if (detached != NULL)
		*detached = false;
	if ((rc = xc_call_begin(c, NULL, XP_OP_DEVICE_DETACH, &call, err)) != 0)
		return rc;
	if ((rc = need("device", device, err)) == 0 &&
	    (rc = xc_call_set(call, XP_ARG_DEVICE, device, err)) == 0 &&
	    (rc = xc_call_run(c, call, err)) == 0 && detached != NULL)
		*detached = xb_bool(call->result, "detached");
	xc_call_free(call);
	return rc;
}
