/*
 * What every REST driver needs besides the HTTP session: building request
 * paths with escaped query values, reading JSON answers, turning an error
 * answer into a struct xclone_error, and sending a non-idempotent request
 * safely (see xc_rest_send_checked).
 */
#ifndef XCLONE_REST_H
#define XCLONE_REST_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "initiator.h"
#include "xclone_error.h"

#define XC_REST_TEXT_MAX 65536

/* A growable string with a hard limit; after any failure it stays failed and
 * xc_sb_str returns NULL, so callers check once at the end. */
struct xc_strbuf {
	char *p;
	size_t len, cap;
	int failed;
};

void xc_sb_init(struct xc_strbuf *sb);
void xc_sb_add(struct xc_strbuf *sb, const char *s);
void xc_sb_addf(struct xc_strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Percent-encodes everything but RFC 3986 unreserved characters. */
void xc_sb_add_escaped(struct xc_strbuf *sb, const char *s);
const char *xc_sb_str(const struct xc_strbuf *sb);
void xc_sb_free(struct xc_strbuf *sb);

/* Clears a secret string (password, token) before freeing it; NULL is fine. */
void xc_wipe_free(char *s);

/* An array id that goes into URLs and bodies and must be a decimal number
 * (FlashSystem vdisk, InfiniBox volume): XC_E_USAGE "<vendor>: LUN id ... is
 * not a <what> id" otherwise. */
int xc_rest_numeric_id(const char *id, const char *vendor, const char *what,
		       struct xclone_error *err);

/* Parses the body; XC_E_PROTOCOL (with the status) when it is not JSON. */
int xc_rest_json(const struct xc_http_response *resp, cJSON **out, struct xclone_error *err);

/* Dotted-path lookups ("space.size"); NULL / -1 when missing or of another type. */
const cJSON *xc_json_path(const cJSON *obj, const char *path);
const char *xc_json_str(const cJSON *obj, const char *path);
/* Like xc_json_str, but "" when missing (for messages and fields that may be absent). */
const char *xc_json_text(const cJSON *obj, const char *path);
int xc_json_u64(const cJSON *obj, const char *path, unsigned long long *out);
int xc_json_long(const cJSON *obj, const char *path, long *out);
/* Copies a string member into buf; -1 when missing or too long. */
int xc_json_copy(const cJSON *obj, const char *path, char *buf, size_t size);

/* Marks held[i] = 1 for each ini[i] found in arr, a JSON array of strings or,
 * with member != NULL, of objects whose string member names the initiator.
 * Returns how many of ini are marked now. */
size_t xc_json_initiators_held(const cJSON *arr, const char *member, const struct xc_initiator *ini,
			       size_t n, unsigned char *held);

/* Body text as JSON, or XC_E_NOMEM. *out is malloc'd (cJSON_PrintUnformatted). */
int xc_json_print(const cJSON *obj, char **out, struct xclone_error *err);

/* Turns an error answer into err: the code follows the status (401/403 → AUTH,
 * 404 → NOT_FOUND, 409 → CONFLICT, 429 → REMOTE, else REMOTE), the message is
 * "<what>: <array message> (HTTP n)", redacted. remote_code/remote_msg may be NULL. */
int xc_rest_fail(struct xc_http *h, struct xclone_error *err, long status, const char *remote_code,
		 const char *remote_msg, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Whether the array has already done what req asked: *applied = 1 if so. */
typedef int (*xc_rest_check_fn)(void *ctx, int *applied, struct xclone_error *err);

/*
 * Sends a request that must not be applied twice (POST that creates, PATCH that
 * adds). When its outcome is unknown (no answer, or a 5xx), calls check: if the
 * array shows the effect, returns 0 with *confirmed = 1 and an empty resp;
 * otherwise waits and sends again, within the session's attempt budget. Any
 * other answer is returned as is (0, *confirmed = 0) for the caller to judge.
 */
int xc_rest_send_checked(struct xc_http *h, const struct xc_http_request *req,
			 struct xc_http_response *resp, xc_rest_check_fn check, void *ctx,
			 int *confirmed, struct xclone_error *err);

#endif
