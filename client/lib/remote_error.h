/*
 * Agent errors as library errors: the agent's code stays in err.remote_code, its
 * retryable flag in err.retryable, and the library code says what kind of
 * failure it is (XC_E_NOT_FOUND, XC_E_TIMEOUT, XC_E_CONFLICT, XC_E_USAGE,
 * XC_E_PROTOCOL, or XC_E_REMOTE for the rest).
 */
#ifndef XCLONE_REMOTE_ERROR_H
#define XCLONE_REMOTE_ERROR_H

#include "xclone_error.h"
#include "xp_codes.h"

int xc_remote_error(enum xp_code code, const char *message, int retryable, const char *op,
		    struct xclone_error *err);

/* The library code an agent code maps to. */
enum xclone_code xc_remote_class(enum xp_code code);

#endif
