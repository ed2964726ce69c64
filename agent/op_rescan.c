/* storage.rescan: one serialized, coalesced adapter rescan (rescan.h). */
#include <stdlib.h>
#include <string.h>

#include "ag_text.h"
#include "esxcli.h"
#include "ops.h"
#include "rescan.h"

/* ADAPTER_NOT_FOUND unless the host lists an adapter of exactly that name. */
static int adapter_known(const struct ag_config *cfg, const char *name, struct xp_error *err)
{
	static const char *const words[] = { "storage", "core", "adapter", "list", NULL };
	struct ag_hostcmd c;
	struct ag_esx_adapter *recs = NULL;
	size_t n = 0;
	bool found = false;
	int rc;

	ag_esxcli_init(&c, cfg, words);
	rc = ag_hostcmd_run(&c);
	if (rc != 0)
		*err = c.err;
	else
		rc = ag_esx_parse_adapters(c.out, c.out_len, &recs, &n, err);
	for (size_t i = 0; rc == 0 && i < n && !found; i++)
		found = strcmp(recs[i].name, name) == 0;
	free(recs);
	ag_hostcmd_free(&c);
	if (rc == 0 && !found) {
		char q[96];
		rc = xp_error_set(err, XP_ADAPTER_NOT_FOUND, "args.adapter",
				  "the host has no adapter '%s'",
				  ag_text_quote(q, sizeof(q), name, strlen(name)));
	}
	return rc;
}

AG_OP(op_storage_rescan)
{
	const char *adapter = req->args.has[XP_ARG_ADAPTER] ? req->args.adapter : NULL;
	int64_t start = ag_rescan_now_ms();
	cJSON *r;
	int ran = 0, rc = 0;

	if (adapter != NULL)
		rc = adapter_known(ctx->cfg, adapter, err);
	if (rc == 0)
		rc = ag_rescan(ctx->cfg, adapter, req->args.type, 0, &ran, err);
	if (rc != 0)
		return rc;
	r = cJSON_CreateObject();
	if (r == NULL || !cJSON_AddNumberToObject(r, "rescans", ran) ||
	    !cJSON_AddNumberToObject(r, "waited_ms", (double)(ag_rescan_now_ms() - start))) {
		cJSON_Delete(r);
		return xp_error_set(err, XP_INTERNAL, "result", "out of memory");
	}
	*result = r;
	return 0;
}
