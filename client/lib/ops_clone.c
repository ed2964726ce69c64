/* preflight and clone.start (see xclone.h). */
#include <stdio.h>
#include <sys/random.h>

#include "call.h"
#include "results.h"

static int need(const char *what, const char *value, struct xclone_error *err)
{
	if (value == NULL || value[0] == '\0')
		return xclone_error_set(err, XC_E_USAGE, "no %s given", what);
	return 0;
}

static int set_source_target(struct xc_call *call, const char *source, const char *target,
			     struct xclone_error *err)
{
	int rc;

	if ((rc = need("source", source, err)) != 0 || (rc = need("target", target, err)) != 0 ||
	    (rc = xc_call_set(call, XP_ARG_SOURCE, source, err)) != 0)
		return rc;
	return xc_call_set(call, XP_ARG_TARGET, target, err);
}

int xclone_preflight(xclone_conn *c, const char *source, const char *target,
		     struct xclone_preflight **out, struct xclone_error *err)
{
	struct xc_call *call;
	int rc;

	if (out == NULL)
		return xclone_error_set(err, XC_E_USAGE, "no result pointer");
	if ((rc = xc_call_begin(c, out, XP_OP_PREFLIGHT, &call, err)) != 0)
		return rc;
	if ((rc = set_source_target(call, source, target, err)) == 0 &&
	    (rc = xc_call_run(c, call, err)) == 0)
		rc = xc_preflight_from(call->result, out, err);
	xc_call_free(call);
	return rc;
}

/* "xclone-<32 hex digits>": unique enough that two clients never share one. */
static int random_key(char *out, size_t cap, struct xclone_error *err)
{
	unsigned char r[16];
	int n = snprintf(out, cap, "xclone-");

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return xclone_error_set(err, XC_E_IO, "no random bytes for an idempotency key");
	for (size_t i = 0; i < sizeof(r); i++)
		n += snprintf(out + n, cap - (size_t)n, "%02x", r[i]);
	return 0;
}

int xclone_clone_start(xclone_conn *c, const char *source, const char *target, const char *key,
		       struct xclone_task **out, bool *created, struct xclone_error *err)
{
	struct xc_call *call;
	char made[64];
	int rc;

	if (created != NULL)
		*created = false;
	if ((rc = xc_call_begin(c, out, XP_OP_CLONE_START, &call, err)) != 0)
		return rc;
	if (key == NULL && (rc = random_key(made, sizeof(made), err)) == 0)
		key = made;
	if (rc == 0 && (rc = set_source_target(call, source, target, err)) == 0 &&
	    (rc = xc_call_set(call, XP_ARG_KEY, key, err)) == 0 &&
	    (rc = xc_call_run(c, call, err)) == 0) {
		if (created != NULL)
			*created = xb_bool(call->result, "created");
		if (out != NULL)
			rc = xc_task_from(cJSON_GetObjectItemCaseSensitive(call->result, "task"), out,
					  err);
	}
	xc_call_free(call);
	return rc;
}
