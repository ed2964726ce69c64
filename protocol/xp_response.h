/*
 * Response lines, written by the agent and read by the client:
 *   result {"xclone":1,"id":"r7","ok":true,"result":{...}}
 *   error  {"xclone":1,"id":"r7","ok":false,"error":{"code":"...","message":"...","retryable":false}}
 *   event  {"xclone":1,"id":"r7","event":"progress","data":{...}}
 * Every encoder returns a malloc'd line without newline (free()), or NULL with
 * err (XP_INTERNAL: out of memory, or the line would break a rule, e.g. exceed
 * XP_LINE_MAX or hold invalid UTF-8).
 */
#ifndef XP_RESPONSE_H
#define XP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "xp_codes.h"
#include "xp_error.h"
#include "xp_limits.h"

enum xp_response_kind { XP_RESPONSE_RESULT, XP_RESPONSE_ERROR, XP_RESPONSE_EVENT };

struct xp_response {
	enum xp_response_kind kind;
	char id[XP_ID_MAX + 1]; /* "" when the line carried "id":null */
	cJSON *result;          /* RESULT: owned, freed by xp_response_free */
	char event[XP_EVENT_MAX + 1];
	cJSON *data;            /* EVENT: owned */
	enum xp_code code;      /* ERROR */
	char message[XP_MESSAGE_MAX + 1];
	bool retryable;
};

/* Takes ownership of result (NULL means {}), on every path. id must be valid. */
char *xp_response_ok(const char *id, cJSON *result, struct xp_error *err);

/*
 * id NULL or "" gives "id":null (the request's id could not be read). message is
 * copied as valid UTF-8 (invalid bytes replaced) and cut to XP_MESSAGE_MAX bytes;
 * a code outside the list or XP_OK is sent as INTERNAL. retryable follows the code.
 */
char *xp_response_error(const char *id, enum xp_code code, const char *message,
			struct xp_error *err);

/* Takes ownership of data (NULL means {}). event: [a-z][a-z0-9._]*, at most XP_EVENT_MAX. */
char *xp_event(const char *id, const char *event, cJSON *data, struct xp_error *err);

/*
 * Decodes one line strictly. Returns 0 or XP_BAD_REQUEST (malformed: the message
 * names the field), XP_UNSUPPORTED_VERSION, XP_INTERNAL (out of memory). out owns
 * result/data until xp_response_free. Unknown event names are accepted (clients
 * ignore events they do not know); unknown error codes are not.
 */
int xp_response_decode(const char *line, size_t len, struct xp_response *out,
		       struct xp_error *err);

void xp_response_free(struct xp_response *r);

/* [a-z][a-z0-9._]* of at most XP_EVENT_MAX bytes. */
bool xp_event_name_valid(const char *event);

#endif
