/*
 * Helpers shared by the test_protocol_*.c programs (header-only, like tap.h):
 * building lines and checking that the codec refuses them the right way.
 */
#ifndef TEST_PROTOCOL_UTIL_H
#define TEST_PROTOCOL_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "xproto.h"

/* printf into a fresh malloc'd string; aborts on failure (tests only). */
__attribute__((format(printf, 1, 2))) static inline char *tp_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		abort();
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* n copies of the string unit, concatenated (malloc'd). */
static inline char *tp_repeat(const char *unit, size_t n)
{
	size_t len = strlen(unit);
	char *s = malloc(len * n + 1);

	if (s == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, unit, len);
	s[len * n] = '\0';
	return s;
}

/* A request line with the given op and args object text. */
static inline char *tp_request(const char *id, const char *op, const char *args)
{
	return tp_fmt("{\"xclone\":1,\"id\":\"%s\",\"op\":\"%s\",\"args\":%s}", id, op, args);
}

/*
 * Checks that err says code, names field, and that the message starts with
 * "field: " and contains needle.
 */
static inline void tp_check_error(int rc, const struct xp_error *err, enum xp_code code,
				  const char *field, const char *needle, const char *name)
{
	size_t flen = strlen(field);
	int good = rc == (int)code && err->code == code && strcmp(err->field, field) == 0 &&
		   strncmp(err->message, field, flen) == 0 && err->message[flen] == ':' &&
		   strstr(err->message, needle) != NULL;

	if (!ok(good, "%s", name))
		printf("#   got rc=%d code=%s field='%s' message='%s'\n#   want %s, field '%s', '%s'\n",
		       rc, xp_code_name(err->code), err->field, err->message, xp_code_name(code), field,
		       needle);
}

/* Decodes line (len bytes) as a request and expects the refusal described. */
static inline void tp_reject_len(const char *line, size_t len, enum xp_code code, const char *field,
				 const char *needle, const char *name)
{
	struct xp_request req;
	struct xp_error err;
	int rc = xp_request_decode(line, len, &req, &err);

	tp_check_error(rc, &err, code, field, needle, name);
}

static inline void tp_reject(const char *line, enum xp_code code, const char *field,
			     const char *needle, const char *name)
{
	tp_reject_len(line, strlen(line), code, field, needle, name);
}

/* Same, and frees the line (for tp_fmt/tp_request results). */
static inline void tp_reject_free(char *line, enum xp_code code, const char *field,
				  const char *needle, const char *name)
{
	tp_reject(line, code, field, needle, name);
	free(line);
}

/* Decodes line as a request and expects success; returns whether it was. */
static inline int tp_accept(const char *line, struct xp_request *req, const char *name)
{
	struct xp_error err;
	int rc = xp_request_decode(line, strlen(line), req, &err);

	if (!ok(rc == 0, "%s", name))
		printf("#   refused: %s: %s\n", xp_code_name(err.code), err.message);
	return rc == 0;
}

#endif
