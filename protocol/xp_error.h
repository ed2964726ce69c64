/*
 * Error values of the protocol codec: a code from the closed list, the field the
 * problem is about ("args.source", "id", "line") and a message that starts with
 * that field. The message is valid UTF-8 so it can be sent back as is.
 */
#ifndef XP_ERROR_H
#define XP_ERROR_H

#include "xp_codes.h"

struct xp_error {
	enum xp_code code;
	char field[64];
	char message[256];
};

/*
 * Fills err (when not NULL) with code, field and "field: <message>" and returns
 * code. Both strings are cut at a UTF-8 character boundary when too long.
 */
int xp_error_set(struct xp_error *err, enum xp_code code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Resets err to XP_OK with empty strings; returns XP_OK. */
int xp_error_clear(struct xp_error *err);

#endif
