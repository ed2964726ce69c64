/* hello: who this agent is and what this caller may ask of it. */
#include <unistd.h>

#include "ops.h"

AG_OP(op_hello)
{
	cJSON *r = cJSON_CreateObject();
	cJSON *caps = cJSON_CreateArray();
	char host[256] = "";

	if (r == NULL || caps == NULL)
		goto nomem;
	cJSON_AddItemToObject(r, "capabilities", caps);
	for (int op = 0; op < XP_OP_COUNT; op++) {
		if (!ag_request_permitted(ctx->caller, (enum xp_op)op))
			continue;
		if (!cJSON_AddItemToArray(caps, cJSON_CreateString(xp_op_name((enum xp_op)op))))
			goto nomem;
	}
	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	if (!cJSON_AddStringToObject(r, "agent", "xclone-agent") ||
	    !cJSON_AddStringToObject(r, "version", XCLONE_VERSION) ||
	    !cJSON_AddNumberToObject(r, "protocol", XP_PROTOCOL_VERSION) ||
	    !cJSON_AddStringToObject(r, "hostname", host) ||
	    !cJSON_AddStringToObject(r, "mode", ag_mode_name(ctx->caller->mode)) ||
	    !cJSON_AddBoolToObject(r, "read_only", ctx->caller->read_only))
		goto nomem;
	*result = r;
	return 0;
nomem:
	cJSON_Delete(r);
	if (caps != NULL && r == NULL)
		cJSON_Delete(caps);
	return xp_error_set(err, XP_INTERNAL, "result", "out of memory");
}
