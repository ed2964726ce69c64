/* libxclone error values: one place that formats them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xclone_error.h"

int xclone_error_set(struct xclone_error *err, enum xclone_code code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	memset(err, 0, sizeof(*err));
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

const char *xclone_code_name(enum xclone_code code)
{
	static const char *const names[] = {
		[XC_OK] = "XC_OK",
		[XC_E_USAGE] = "XC_E_USAGE",
		[XC_E_CONFIG] = "XC_E_CONFIG",
		[XC_E_CONNECT] = "XC_E_CONNECT",
		[XC_E_AUTH] = "XC_E_AUTH",
		[XC_E_HOSTKEY] = "XC_E_HOSTKEY",
		[XC_E_TIMEOUT] = "XC_E_TIMEOUT",
		[XC_E_PROTOCOL] = "XC_E_PROTOCOL",
		[XC_E_REMOTE] = "XC_E_REMOTE",
		[XC_E_NOT_FOUND] = "XC_E_NOT_FOUND",
		[XC_E_CONFLICT] = "XC_E_CONFLICT",
		[XC_E_IO] = "XC_E_IO",
		[XC_E_NOMEM] = "XC_E_NOMEM",
		[XC_E_INTERNAL] = "XC_E_INTERNAL",
		[XC_E_AGENT] = "XC_E_AGENT",
		[XC_E_ABORTED] = "XC_E_ABORTED",
	};

	if ((size_t)code < sizeof(names) / sizeof(names[0]) && names[code] != NULL)
		return names[code];
	return "XC_E_UNKNOWN";
}
