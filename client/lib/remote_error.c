/* Agent errors as library errors (see remote_error.h). */
#include <stdio.h>

#include "remote_error.h"

enum xclone_code xc_remote_class(enum xp_code code)
{
	switch (code) {
	case XP_TASK_NOT_FOUND:
	case XP_DEVICE_NOT_FOUND:
	case XP_SOURCE_NOT_FOUND:
	case XP_TARGET_NOT_FOUND:
	case XP_ADAPTER_NOT_FOUND:
		return XC_E_NOT_FOUND;
	case XP_TIMEOUT:
		return XC_E_TIMEOUT;
	case XP_BUSY:
	case XP_TASK_ACTIVE:
		return XC_E_CONFLICT;
	case XP_BAD_REQUEST:
		return XC_E_USAGE; /* the agent judged an argument: a name, a path, a device id */
	case XP_UNKNOWN_OP:
	case XP_UNSUPPORTED_VERSION:
		return XC_E_PROTOCOL;
	default:
		return XC_E_REMOTE;
	}
}

int xc_remote_error(enum xp_code code, const char *message, int retryable, const char *op,
		    struct xclone_error *err)
{
	enum xclone_code xc = xc_remote_class(code);

	xclone_error_set(err, xc, "%s: %s (agent error %s)", op, message, xp_code_name(code));
	if (err != NULL) {
		snprintf(err->remote_code, sizeof(err->remote_code), "%s", xp_code_name(code));
		err->retryable = retryable;
	}
	return xc;
}
