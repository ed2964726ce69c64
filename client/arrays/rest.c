/* REST helpers shared by the array drivers (see rest.h). */
#define _GNU_SOURCE /* strdup, strcasestr, getentropy, nanosleep under -std=c17 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rest.h"

void xc_sb_init(struct xc_strbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

static int sb_reserve(struct xc_strbuf *sb, size_t more)
{
	size_t need, cap;
	char *p;

	if (sb->failed)
		return -1;
	need = sb->len + more + 1;
	if (need > XC_REST_TEXT_MAX) {
		sb->failed = 1;
		return -1;
	}
	if (need <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(sb->p, cap);
	if (p == NULL) {
		sb->failed = 1;
		return -1;
	}
	sb->p = p;
	sb->cap = cap;
	return 0;
}

void xc_sb_add(struct xc_strbuf *sb, const char *s)
{
	size_t n = strlen(s);

	if (sb_reserve(sb, n) != 0)
		return;
	memcpy(sb->p + sb->len, s, n + 1);
	sb->len += n;
}

void xc_sb_addf(struct xc_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_reserve(sb, (size_t)n) != 0) {
		sb->failed = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(sb->p + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void xc_sb_add_escaped(struct xc_strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			if (sb_reserve(sb, 1) != 0)
				return;
			sb->p[sb->len++] = (char)c;
		} else {
			if (sb_reserve(sb, 3) != 0)
				return;
			sb->p[sb->len++] = '%';
			sb->p[sb->len++] = hex[c >> 4];
			sb->p[sb->len++] = hex[c & 15];
		}
		sb->p[sb->len] = '\0';
	}
}

const char *xc_sb_str(const struct xc_strbuf *sb)
{
	if (sb->failed)
		return NULL;
	return sb->p ? sb->p : "";
}

void xc_sb_free(struct xc_strbuf *sb)
{
	free(sb->p);
	memset(sb, 0, sizeof(*sb));
}

int xc_rest_json(const struct xc_http_response *resp, cJSON **out, struct xclone_error *err)
{
	*out = NULL;
	if (resp->body != NULL && resp->body_len > 0)
		*out = cJSON_ParseWithLength(resp->body, resp->body_len);
	if (*out == NULL) {
		int rc = xclone_error_set(err, XC_E_PROTOCOL,
					  "array answered HTTP %ld with a body that is not JSON",
					  resp->status);
		if (err)
			err->http_status = (int)resp->status;
		return rc;
	}
	return 0;
}

const cJSON *xc_json_path(const cJSON *obj, const char *path)
{
	char part[128];
	const char *p = path;

	while (obj != NULL && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (len >= sizeof(part) || !cJSON_IsObject(obj))
			return NULL;
		memcpy(part, p, len);
		part[len] = '\0';
		obj = cJSON_GetObjectItemCaseSensitive(obj, part);
		p = dot ? dot + 1 : p + len;
	}
	return obj;
}

const char *xc_json_str(const cJSON *obj, const char *path)
{
	const cJSON *v = xc_json_path(obj, path);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *xc_json_text(const cJSON *obj, const char *path)
{
	const char *s = xc_json_str(obj, path);

	return s != NULL ? s : "";
}

int xc_json_u64(const cJSON *obj, const char *path, unsigned long long *out)
{
	const cJSON *v = xc_json_path(obj, path);

	/* sizes up to 4 PiB fit a double exactly; negative or fractional ones are wrong */
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
	    v->valuedouble != (double)(unsigned long long)v->valuedouble)
		return -1;
	*out = (unsigned long long)v->valuedouble;
	return 0;
}

int xc_json_long(const cJSON *obj, const char *path, long *out)
{
	const cJSON *v = xc_json_path(obj, path);

	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long)v->valuedouble)
		return -1;
	*out = (long)v->valuedouble;
	return 0;
}

int xc_json_copy(const cJSON *obj, const char *path, char *buf, size_t size)
{
	const char *s = xc_json_str(obj, path);
	size_t len;

	if (s == NULL || (len = strlen(s)) >= size)
		return -1;
	memcpy(buf, s, len + 1);
	return 0;
}

size_t xc_json_initiators_held(const cJSON *arr, const char *member, const struct xc_initiator *ini,
			       size_t n, unsigned char *held)
{
	const cJSON *item;
	size_t count = 0;

	cJSON_ArrayForEach(item, arr)
	{
		const char *text = member ? xc_json_str(item, member)
					  : (cJSON_IsString(item) ? item->valuestring : NULL);
		for (size_t i = 0; text != NULL && i < n; i++)
			if (!held[i] && xc_initiator_matches(&ini[i], text))
				held[i] = 1;
	}
	for (size_t i = 0; i < n; i++)
		count += held[i] ? 1 : 0;
	return count;
}

int xc_json_print(const cJSON *obj, char **out, struct xclone_error *err)
{
	*out = cJSON_PrintUnformatted(obj);
	if (*out == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory building a request");
	return 0;
}

int xc_rest_fail(struct xc_http *h, struct xclone_error *err, long status, const char *remote_code,
		 const char *remote_msg, const char *fmt, ...)
{
	char what[256], raw[512], clean[512];
	enum xclone_code code = XC_E_REMOTE;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (status == 401 || status == 403)
		code = XC_E_AUTH;
	else if (status == 404)
		code = XC_E_NOT_FOUND;
	else if (status == 409)
		code = XC_E_CONFLICT;
	if (status == 429)
		snprintf(raw, sizeof(raw), "%s: the array is rate limiting requests%s%s (HTTP 429)",
			 what, remote_msg ? ": " : "", remote_msg ? remote_msg : "");
	else
		snprintf(raw, sizeof(raw), "%s: %s (HTTP %ld)", what,
			 remote_msg && remote_msg[0] ? remote_msg : "no error message", status);
	xc_http_redact(h, raw, clean, sizeof(clean));
	xclone_error_set(err, code, "%s", clean);
	if (err != NULL) {
		err->http_status = (int)status;
		/* a busy or failing array may answer later: the same call may then succeed */
		err->retryable = status == 429 || status >= 500;
		if (remote_code != NULL)
			snprintf(err->remote_code, sizeof(err->remote_code), "%s", remote_code);
	}
	return code;
}

int xc_rest_send_checked(struct xc_http *h, const struct xc_http_request *req,
			 struct xc_http_response *resp, xc_rest_check_fn check, void *ctx,
			 int *confirmed, struct xclone_error *err)
{
	unsigned max = xc_http_max_attempts(h);
	int rc = 0;

	*confirmed = 0;
	for (unsigned attempt = 1;; attempt++) {
		int applied = 0;
		struct xclone_error check_err;

		rc = xc_http_send(h, req, resp, err);
		if (!resp->outcome_unknown)
			return rc;
		/* No answer we can trust: look at the array before sending it again. */
		if (check(ctx, &applied, &check_err) == 0 && applied) {
			xc_http_response_free(resp);
			*confirmed = 1;
			return 0;
		}
		if (attempt >= max)
			return rc; /* rc 0: resp holds the last 5xx answer for the caller's message */
		xc_http_response_free(resp);
		xc_http_backoff(h, attempt, 0);
	}
}

void xc_wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int xc_rest_numeric_id(const char *id, const char *vendor, const char *what,
		       struct xclone_error *err)
{
	size_t len = strlen(id);

	/* 20 digits hold any 64-bit id; more is not an id of ours */
	if (len == 0 || len > 20 || strspn(id, "0123456789") != len)
		return xclone_error_set(err, XC_E_USAGE, "%s: LUN id %.40s is not a %s id", vendor,
					id, what);
	return 0;
}
