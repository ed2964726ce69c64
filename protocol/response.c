/* Response lines: result, error and event, both directions. */
#include <stddef.h>
#include <string.h>

#include "xp_envelope.h"
#include "xp_field.h"
#include "xp_json.h"
#include "xp_response.h"
#include "xp_utf8.h"

/* The error object's members, as rows over struct xp_response. */
static const struct xp_field error_rows[] = {
	{ .name = "code", .kind = XP_KIND_CODE, .offset = offsetof(struct xp_response, code),
	  .has = XP_NO_FLAG },
	{ .name = "message", .kind = XP_KIND_TEXT, .offset = offsetof(struct xp_response, message),
	  .size = sizeof(((struct xp_response *)0)->message), .has = XP_NO_FLAG, .min = 0,
	  .max = XP_MESSAGE_MAX },
	{ .name = "retryable", .kind = XP_KIND_BOOL,
	  .offset = offsetof(struct xp_response, retryable), .has = XP_NO_FLAG },
};

#define ERROR_ROWS (sizeof(error_rows) / sizeof(error_rows[0]))
#define ERROR_ALL XP_FIELDS_ALL(ERROR_ROWS)

bool xp_event_name_valid(const char *event)
{
	size_t n;

	if (event == NULL || !(event[0] >= 'a' && event[0] <= 'z'))
		return false;
	for (n = 1; event[n] != '\0'; n++) {
		char c = event[n];

		if (n >= XP_EVENT_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'))
			return false;
	}
	return true;
}

/*
 * Prints envelope + lead member ("ok" or "event") + body under name. Owns lead and
 * body on every path.
 */
static char *finish(const char *id, const char *lead_name, cJSON *lead, const char *name,
		    cJSON *body, struct xp_error *err)
{
	cJSON *root = NULL;
	char *line = NULL;

	if (body == NULL)
		body = cJSON_CreateObject();
	if (lead == NULL || body == NULL) {
		xp_error_set(err, XP_INTERNAL, name, "out of memory");
		goto out;
	}
	if (!cJSON_IsObject(body)) {
		xp_error_set(err, XP_INTERNAL, name, "must be an object, not %s",
			     xp_json_type_name(body));
		goto out;
	}
	if ((root = xp_envelope_new(id, XP_INTERNAL, err)) == NULL)
		goto out;
	if (!cJSON_AddItemToObject(root, lead_name, lead)) {
		xp_error_set(err, XP_INTERNAL, lead_name, "out of memory");
		goto out;
	}
	lead = NULL;
	if (!cJSON_AddItemToObject(root, name, body)) {
		xp_error_set(err, XP_INTERNAL, name, "out of memory");
		goto out;
	}
	body = NULL;
	line = xp_json_print_line(root, XP_INTERNAL, err);
out:
	cJSON_Delete(lead);
	cJSON_Delete(body);
	cJSON_Delete(root);
	return line;
}

/* Results and events answer a request whose id was read. */
static bool need_id(const char *id, cJSON *body, struct xp_error *err)
{
	if (xp_id_valid(id))
		return true;
	cJSON_Delete(body);
	xp_error_set(err, XP_INTERNAL, "id", "a result or event needs the request's valid id");
	return false;
}

char *xp_response_ok(const char *id, cJSON *result, struct xp_error *err)
{
	if (!need_id(id, result, err))
		return NULL;
	return finish(id, "ok", cJSON_CreateTrue(), "result", result, err);
}

char *xp_event(const char *id, const char *event, cJSON *data, struct xp_error *err)
{
	if (!need_id(id, data, err))
		return NULL;
	if (!xp_event_name_valid(event)) {
		cJSON_Delete(data);
		xp_error_set(err, XP_INTERNAL, "event", "not a valid event name");
		return NULL;
	}
	return finish(id, "event", cJSON_CreateString(event), "data", data, err);
}

char *xp_response_error(const char *id, enum xp_code code, const char *message,
			struct xp_error *err)
{
	struct xp_response r = { .kind = XP_RESPONSE_ERROR };
	cJSON *body = cJSON_CreateObject();

	r.code = (code > XP_OK && code < XP_CODE_COUNT) ? code : XP_INTERNAL;
	r.retryable = xp_code_retryable(r.code);
	/* Messages may quote host output: keep them valid UTF-8 and bounded. */
	xp_utf8_copy(r.message, sizeof(r.message), message ? message : "",
		     message ? strlen(message) : 0);
	if (body == NULL) {
		xp_error_set(err, XP_INTERNAL, "error", "out of memory");
		return NULL;
	}
	if (xp_fields_encode(error_rows, ERROR_ROWS, ERROR_ALL, ERROR_ALL, &r, body, "error", err) != 0) {
		cJSON_Delete(body);
		return NULL;
	}
	return finish(id, "ok", cJSON_CreateFalse(), "error", body, err);
}

static int take_object(cJSON *root, const char *name, cJSON **out, struct xp_error *err)
{
	cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);

	if (item == NULL)
		return xp_error_set(err, XP_BAD_REQUEST, name, "missing");
	if (!cJSON_IsObject(item))
		return xp_error_set(err, XP_BAD_REQUEST, name, "expected an object, got %s",
				    xp_json_type_name(item));
	*out = cJSON_DetachItemViaPointer(root, item);
	return 0;
}

static int decode_event(cJSON *root, const cJSON *event, struct xp_response *out,
			struct xp_error *err)
{
	out->kind = XP_RESPONSE_EVENT;
	if (!cJSON_IsString(event))
		return xp_error_set(err, XP_BAD_REQUEST, "event", "expected a string, got %s",
				    xp_json_type_name(event));
	if (!xp_event_name_valid(event->valuestring))
		return xp_error_set(err, XP_BAD_REQUEST, "event",
				    "must match [a-z][a-z0-9._]* and be at most %d bytes", XP_EVENT_MAX);
	memcpy(out->event, event->valuestring, strlen(event->valuestring) + 1);
	if (out->id[0] == '\0')
		return xp_error_set(err, XP_BAD_REQUEST, "id", "an event needs the request's id");
	return take_object(root, "data", &out->data, err);
}

static int decode_answer(cJSON *root, const cJSON *ok, struct xp_response *out,
			 struct xp_error *err)
{
	const cJSON *error;

	if (!cJSON_IsBool(ok))
		return xp_error_set(err, XP_BAD_REQUEST, "ok", "expected a boolean, got %s",
				    xp_json_type_name(ok));
	if (cJSON_IsTrue(ok)) {
		out->kind = XP_RESPONSE_RESULT;
		if (out->id[0] == '\0')
			return xp_error_set(err, XP_BAD_REQUEST, "id", "a result needs the request's id");
		return take_object(root, "result", &out->result, err);
	}
	out->kind = XP_RESPONSE_ERROR;
	error = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (error == NULL)
		return xp_error_set(err, XP_BAD_REQUEST, "error", "missing");
	return xp_fields_decode(error_rows, ERROR_ROWS, ERROR_ALL, ERROR_ALL, error, out, "error",
				err);
}

int xp_response_decode(const char *line, size_t len, struct xp_response *out,
		       struct xp_error *err)
{
	const cJSON *ok, *event;
	cJSON *root;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = xp_envelope_decode(line, len, true, &root, out->id, err)) != 0)
		return rc;
	ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
	event = cJSON_GetObjectItemCaseSensitive(root, "event");
	if (ok != NULL && event != NULL)
		rc = xp_error_set(err, XP_BAD_REQUEST, "event", "a line has either ok or event, not both");
	else if (event != NULL)
		rc = decode_event(root, event, out, err);
	else if (ok != NULL)
		rc = decode_answer(root, ok, out, err);
	else
		rc = xp_error_set(err, XP_BAD_REQUEST, "ok", "missing (neither ok nor event)");
	cJSON_Delete(root);
	if (rc != 0) {
		xp_response_free(out);
		return rc;
	}
	return xp_error_clear(err);
}

void xp_response_free(struct xp_response *r)
{
	cJSON_Delete(r->result);
	cJSON_Delete(r->data);
	r->result = NULL;
	r->data = NULL;
}
