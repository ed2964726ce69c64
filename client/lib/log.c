/* The library's log: one line at a time to the caller's function (see transport.h). */
#include <stdarg.h>
#include <stdio.h>

#include "transport.h"

void xc_log(const struct xclone_conn_options *opt, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (opt == NULL || opt->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	opt->log(line, opt->log_userdata);
}
