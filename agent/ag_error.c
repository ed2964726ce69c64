/* Agent error values: the one place that formats them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ag_error.h"

static int error_vset(struct ag_error *err, int code, int line, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static int error_vset(struct ag_error *err, int code, int line, const char *fmt, va_list ap)
{
	if (err == NULL)
		return code;
	err->code = code;
	err->line = line;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return code;
}

int ag_error_set(struct ag_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int ag_error_set_line(struct ag_error *err, int code, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, code, line, fmt, ap);
	va_end(ap);
	return code;
}

void ag_error_clear(struct ag_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}
