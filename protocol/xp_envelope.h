/*
 * The envelope every line carries: {"xclone":1,"id":...}. Shared by requests and
 * responses so the version rule and the id rule exist once.
 */
#ifndef XP_ENVELOPE_H
#define XP_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "xp_error.h"
#include "xp_limits.h"

/* 1 to XP_ID_MAX characters from A-Z a-z 0-9 . _ : - */
bool xp_id_valid(const char *id);

/*
 * Parses line with every strict JSON rule, then checks "xclone" (must be the
 * integer 1: another integer is XP_UNSUPPORTED_VERSION) and "id" (a valid id, or
 * null when id_nullable). id_out receives the id whenever it can be read, even
 * when something else is wrong, so an error can echo it; otherwise "". On success
 * *root is the tree (caller deletes), on failure NULL.
 */
int xp_envelope_decode(const char *line, size_t len, bool id_nullable, cJSON **root,
		       char id_out[XP_ID_MAX + 1], struct xp_error *err);

/* A new object {"xclone":1,"id":id}, with "id":null when id is NULL or "". */
cJSON *xp_envelope_new(const char *id, enum xp_code fail_code, struct xp_error *err);

#endif
