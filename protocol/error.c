/* Filling struct xp_error: the one place messages are formatted and bounded. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xp_error.h"
#include "xp_utf8.h"

int xp_error_set(struct xp_error *err, enum xp_code code, const char *field, const char *fmt, ...)
{
	char what[sizeof(err->message)];
	char full[sizeof(err->field) + sizeof(what) + 2];
	va_list ap;
	int n;

	if (err == NULL)
		return code;
	memset(err, 0, sizeof(*err));
	err->code = code;
	/* Fields may hold JSON keys from the peer: quote them safely. */
	xp_utf8_excerpt(err->field, sizeof(err->field), field ? field : "");
	va_start(ap, fmt);
	n = vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (n < 0)
		what[0] = '\0';
	if (err->field[0] != '\0')
		n = snprintf(full, sizeof(full), "%s: %s", err->field, what);
	else
		n = snprintf(full, sizeof(full), "%s", what);
	if (n < 0)
		full[0] = '\0';
	/* vsnprintf may have cut inside a character; the copy repairs that. */
	xp_utf8_copy(err->message, sizeof(err->message), full, strlen(full));
	return code;
}

int xp_error_clear(struct xp_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	return XP_OK;
}
