/*
 * Pure Storage FlashArray driver, REST API 2.x (highest 2.x the array offers, at
 * least 2.2). Facts and sources: README.md beside this file.
 *
 * Login: an API token (STORAGE_TOKEN) is exchanged for a session token at
 * POST /api/2.x/login (header api-token → response header x-auth-token). With
 * STORAGE_USERNAME/STORAGE_PASSWORD instead, the API token is first obtained from
 * POST /api/1.x/auth/apitoken, or, on arrays without REST 1.x, the 2.47+ login
 * takes the user and password itself. A 401 logs in again once.
 *
 * Volumes: by id (the CSI volume handle), else by the PX-CSI name
 * <PURE_CLUSTER_PREFIX>-<pv name>, else that name inside a FlashArray pod
 * (<pod>::<name>). Hosts: one FlashArray host holds each initiator, so an
 * existing holder is reused (and completed with the missing initiators);
 * connections are made to hosts or host groups.
 */
#define _GNU_SOURCE /* strdup, strcasestr, getentropy, nanosleep under -std=c17 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vendors.h"

#define PURE_OUI_PREFIX "624a9370" /* NAA type 6 + Pure's OUI 24a937 + 0 */
#define PURE_SERIAL_DIGITS 24
#define PURE_MIN_MAJOR 2
#define PURE_MIN_MINOR 2          /* the oldest spec read (FA2.2) */
#define PURE_BODY_LOGIN_MINOR 47  /* 2.47 adds username/password to /login */

struct pure {
	struct xc_http *http;
	char api[16];     /* "2.36" */
	char api1[16];    /* highest 1.x, "" when the array has none */
	char *api_token;  /* STORAGE_TOKEN, or obtained from user and password */
	char *user, *password;
	char *prefix;     /* PURE_CLUSTER_PREFIX, NULL when not set */
	char array_id[XC_ARRAY_ID_MAX];
};

int xc_pure_naa(const char *serial, char *out, size_t size, struct xclone_error *err)
{
	if (serial == NULL || strlen(serial) != PURE_SERIAL_DIGITS)
		return xclone_error_set(err, XC_E_PROTOCOL,
					"FlashArray serial \"%.40s\" is not %d hex digits",
					serial ? serial : "", PURE_SERIAL_DIGITS);
	return xc_naa_from_hex(PURE_OUI_PREFIX, serial, out, size, err);
}

int xc_pure_volume_name(const char *prefix, const char *pv_name, char *out, size_t size,
			struct xclone_error *err)
{
	int n;

	if (prefix == NULL || prefix[0] == '\0')
		return xclone_error_set(err, XC_E_CONFIG,
					"secret key PURE_CLUSTER_PREFIX is missing: it is needed to"
					" find a volume by PV name (px_ + the first 8 characters of"
					" the Portworx cluster UID)");
	n = snprintf(out, size, "%s-%s", prefix, pv_name);
	if (n < 0 || (size_t)n >= size)
		return xclone_error_set(err, XC_E_USAGE, "volume name too long");
	return 0;
}

/* The first message of a FlashArray error body: {"errors":[{"message"}]} (2.x),
 * {"message"} (API gateway: 403/429), or [{"msg"}] (1.x). */
static const char *pure_error_message(const cJSON *body)
{
	const cJSON *errors = cJSON_GetObjectItemCaseSensitive(body, "errors");
	const char *m;

	if (cJSON_IsArray(errors) && (m = xc_json_str(cJSON_GetArrayItem(errors, 0), "message")))
		return m;
	if ((m = xc_json_str(body, "message")) != NULL)
		return m;
	if (cJSON_IsArray(body) && (m = xc_json_str(cJSON_GetArrayItem(body, 0), "msg")))
		return m;
	return NULL;
}

/* Whether the error answer's message contains needle (any case). */
static int pure_says(const struct xc_http_response *resp, const char *needle)
{
	cJSON *body = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	const char *m = body ? pure_error_message(body) : NULL;
	int hit = m != NULL && strcasestr(m, needle) != NULL;

	cJSON_Delete(body);
	return hit;
}

/* Whether an error answer says the object does not exist (the messages vary:
 * "Volume does not exist.", "Not found", "No such volume or snapshot"). */
static int pure_says_not_found(const struct xc_http_response *resp)
{
	if (resp->status == 404)
		return 1;
	return resp->status == 400 &&
	       (pure_says(resp, "does not exist") || pure_says(resp, "not found") ||
		pure_says(resp, "no such"));
}

/* An error answer as err; "not found" answers become XC_E_NOT_FOUND. */
static int pure_fail(struct pure *p, const struct xc_http_response *resp, struct xclone_error *err,
		     const char *what)
{
	cJSON *body = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	int rc = xc_rest_fail(p->http, err, resp->status, NULL, body ? pure_error_message(body) : NULL,
			      "FlashArray: %s", what);

	cJSON_Delete(body);
	if (pure_says_not_found(resp)) {
		rc = XC_E_NOT_FOUND;
		if (err != NULL)
			err->code = XC_E_NOT_FOUND;
	}
	return rc;
}

/* Starts "/api/<version>/<resource>". */
static void pure_path(struct xc_strbuf *sb, const struct pure *p, const char *resource)
{
	xc_sb_init(sb);
	xc_sb_addf(sb, "/api/%s/%s", p->api, resource);
}

/* Appends "<sep><key>=<escaped value>", sep '?' for the first parameter. */
static void pure_param(struct xc_strbuf *sb, const char *key, const char *value)
{
	const char *s = xc_sb_str(sb);

	xc_sb_add(sb, s != NULL && strchr(s, '?') != NULL ? "&" : "?");
	xc_sb_add(sb, key);
	xc_sb_add(sb, "=");
	xc_sb_add_escaped(sb, value);
}

static int pure_send(struct pure *p, enum xc_http_method method, const char *path,
		     const char *body, struct xc_http_response *resp, struct xclone_error *err)
{
	struct xc_http_request req = {0};

	memset(resp, 0, sizeof(*resp));
	if (path == NULL)
		return xclone_error_set(err, XC_E_USAGE, "FlashArray request path too long");
	req.method = method;
	req.path = path;
	req.body = body;
	req.idempotent = method != XC_HTTP_POST && method != XC_HTTP_PATCH;
	return xc_http_send(p->http, &req, resp, err);
}

/* GETs a collection, following continuation tokens; *items is a new JSON array.
 * A 400 "does not exist" answer is XC_E_NOT_FOUND. */
static int pure_get_items(struct pure *p, const char *first, const char *what, cJSON **items,
			  struct xclone_error *err)
{
	char *token = NULL;
	int rc = 0;

	*items = NULL;
	if (first == NULL)
		return xclone_error_set(err, XC_E_USAGE, "FlashArray request path too long");
	*items = cJSON_CreateArray();
	if (*items == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	for (unsigned page = 0; rc == 0 && page < 100000; page++) {
		struct xc_strbuf path;
		struct xc_http_response resp = {0};
		cJSON *body = NULL, *list, *item;
		const char *next;

		xc_sb_init(&path);
		xc_sb_add(&path, first);
		if (token != NULL)
			pure_param(&path, "continuation_token", token);
		rc = pure_send(p, XC_HTTP_GET, xc_sb_str(&path), NULL, &resp, err);
		xc_sb_free(&path);
		if (rc == 0 && resp.status != 200)
			rc = pure_fail(p, &resp, err, what);
		if (rc == 0)
			rc = xc_rest_json(&resp, &body, err);
		xc_http_response_free(&resp);
		if (rc)
			break;
		list = cJSON_GetObjectItemCaseSensitive(body, "items");
		if (!cJSON_IsArray(list)) {
			cJSON_Delete(body);
			rc = xclone_error_set(err, XC_E_PROTOCOL, "FlashArray: %s: answer has no items",
					      what);
			break;
		}
		while ((item = cJSON_DetachItemFromArray(list, 0)) != NULL)
			cJSON_AddItemToArray(*items, item);
		next = xc_json_str(body, "continuation_token");
		free(token);
		token = next != NULL && next[0] != '\0' ? strdup(next) : NULL;
		if (next != NULL && next[0] != '\0' && token == NULL)
			rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
		cJSON_Delete(body);
		if (token == NULL)
			break;
	}
	free(token);
	if (rc) {
		cJSON_Delete(*items);
		*items = NULL;
	}
	return rc;
}

/* ---- API version and login ---- */

static int parse_version(const char *v, int *major, int *minor)
{
	char *end;
	long a, b;

	a = strtol(v, &end, 10);
	if (end == v || *end != '.')
		return -1;
	b = strtol(end + 1, &end, 10);
	if (*end != '\0' || a < 0 || b < 0 || a > 1000 || b > 100000)
		return -1;
	*major = (int)a;
	*minor = (int)b;
	return 0;
}

/* Picks the highest 2.x (>= 2.2) and the highest 1.x from GET /api/api_version. */
static int pure_pick_versions(struct pure *p, struct xclone_error *err)
{
	struct xc_http_request req = {.method = XC_HTTP_GET, .path = "/api/api_version",
				      .idempotent = 1, .no_relogin = 1};
	struct xc_http_response resp = {0};
	cJSON *body = NULL;
	const cJSON *v;
	int best2 = -1, best1 = -1, rc;

	rc = xc_http_send(p->http, &req, &resp, err);
	if (rc == 0 && resp.status != 200)
		rc = pure_fail(p, &resp, err, "reading the REST API versions");
	if (rc == 0)
		rc = xc_rest_json(&resp, &body, err);
	xc_http_response_free(&resp);
	if (rc)
		return rc;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(body, "version"))
	{
		int major, minor;
		if (!cJSON_IsString(v) || parse_version(v->valuestring, &major, &minor) != 0)
			continue;
		if (major == PURE_MIN_MAJOR && minor >= PURE_MIN_MINOR && minor > best2)
			best2 = minor;
		if (major == 1 && minor > best1)
			best1 = minor;
	}
	cJSON_Delete(body);
	if (best2 < 0)
		return xclone_error_set(err, XC_E_REMOTE,
					"FlashArray offers no REST API 2.%d or later (Purity//FA too"
					" old?)",
					PURE_MIN_MINOR);
	snprintf(p->api, sizeof(p->api), "2.%d", best2);
	if (best1 >= 0)
		snprintf(p->api1, sizeof(p->api1), "1.%d", best1);
	return 0;
}

/* user + password → API token, through REST 1.x (POST /api/1.x/auth/apitoken). */
static int pure_fetch_api_token(struct pure *p, struct xclone_error *err)
{
	struct xc_http_request req = {.method = XC_HTTP_POST, .no_relogin = 1};
	struct xc_http_response resp = {0};
	char path[64];
	char *body = NULL;
	cJSON *in = cJSON_CreateObject(), *out = NULL;
	const char *token;
	int rc;

	if (in == NULL || !cJSON_AddStringToObject(in, "username", p->user) ||
	    !cJSON_AddStringToObject(in, "password", p->password)) {
		cJSON_Delete(in);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	rc = xc_json_print(in, &body, err);
	cJSON_Delete(in);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/api/%s/auth/apitoken", p->api1);
	req.path = path;
	req.body = body;
	req.idempotent = 1; /* asking for the token twice gives the same token */
	rc = xc_http_send(p->http, &req, &resp, err);
	/* the body held the password: wipe before freeing */
	for (volatile char *v = body; *v; v++)
		*v = '\0';
	free(body);
	if (rc == 0 && resp.status != 200) {
		rc = pure_fail(p, &resp, err, "login with STORAGE_USERNAME/STORAGE_PASSWORD refused");
		if (resp.status == 400 || resp.status == 401 || resp.status == 403) {
			rc = XC_E_AUTH;
			if (err != NULL)
				err->code = XC_E_AUTH;
		}
	}
	if (rc == 0)
		rc = xc_rest_json(&resp, &out, err);
	xc_http_response_free(&resp);
	if (rc)
		return rc;
	token = xc_json_str(out, "api_token");
	if (token == NULL || token[0] == '\0')
		rc = xclone_error_set(err, XC_E_PROTOCOL, "FlashArray login answer has no api_token");
	else if ((p->api_token = strdup(token)) == NULL)
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	else
		rc = xc_http_add_secret(p->http, p->api_token, err);
	cJSON_Delete(out);
	return rc;
}

/* POST /api/2.x/login → x-auth-token, installed as a session header. */
static int pure_login(void *ctx, struct xclone_error *err)
{
	struct pure *p = ctx;
	struct xc_http_request req = {.method = XC_HTTP_POST, .no_relogin = 1, .idempotent = 1};
	struct xc_http_response resp = {0};
	char path[64], header[XC_SECRET_VALUE_MAX + 16] = "", session[XC_SECRET_VALUE_MAX] = "";
	const char *headers[1];
	char *body = NULL;
	int rc;

	/* A login creates nothing that matters twice: safe to resend. */
	xc_http_set_header(p->http, "x-auth-token", NULL, NULL);
	snprintf(path, sizeof(path), "/api/%s/login", p->api);
	req.path = path;
	if (p->api_token == NULL && p->api1[0] != '\0') {
		rc = pure_fetch_api_token(p, err);
		if (rc)
			return rc;
	}
	if (p->api_token != NULL) {
		snprintf(header, sizeof(header), "api-token: %s", p->api_token);
		headers[0] = header;
		req.headers = headers;
		req.n_headers = 1;
	} else {
		int major = 0, minor = 0;
		cJSON *in = cJSON_CreateObject();
		parse_version(p->api, &major, &minor);
		if (minor < PURE_BODY_LOGIN_MINOR) {
			cJSON_Delete(in);
			return xclone_error_set(err, XC_E_CONFIG,
						"this FlashArray has no REST 1.x and its REST %s cannot"
						" log in with a password: set secret key STORAGE_TOKEN",
						p->api);
		}
		if (in == NULL || !cJSON_AddStringToObject(in, "username", p->user) ||
		    !cJSON_AddStringToObject(in, "password", p->password) ||
		    xc_json_print(in, &body, err) != 0) {
			cJSON_Delete(in);
			return xclone_error_set(err, XC_E_NOMEM, "out of memory");
		}
		cJSON_Delete(in);
		req.body = body;
	}
	rc = xc_http_send(p->http, &req, &resp, err);
	for (volatile char *v = header; *v; v++)
		*v = '\0';
	if (body != NULL) {
		for (volatile char *v = body; *v; v++)
			*v = '\0';
		free(body);
	}
	if (rc == 0 && resp.status != 200) {
		rc = pure_fail(p, &resp, err,
			       p->api_token ? "login refused: check STORAGE_TOKEN"
					    : "login refused: check STORAGE_USERNAME/STORAGE_PASSWORD");
		if (resp.status == 400 || resp.status == 401 || resp.status == 403) {
			rc = XC_E_AUTH;
			if (err != NULL)
				err->code = XC_E_AUTH;
		}
	}
	if (rc == 0 && xc_http_response_header(&resp, "x-auth-token", session, sizeof(session)) != 0)
		rc = xclone_error_set(err, XC_E_PROTOCOL,
				      "FlashArray login answer has no x-auth-token header");
	xc_http_response_free(&resp);
	if (rc == 0)
		rc = xc_http_set_header(p->http, "x-auth-token", session, err);
	for (volatile char *v = session; *v; v++)
		*v = '\0';
	return rc;
}

/* GET /arrays: the array's id, which LUNs carry, and its name and version. */
static int pure_read_array(struct pure *p, struct xc_array_info *info, struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *items = NULL;
	const cJSON *a;
	int rc;

	pure_path(&path, p, "arrays");
	rc = pure_get_items(p, xc_sb_str(&path), "reading the array", &items, err);
	xc_sb_free(&path);
	if (rc)
		return rc;
	a = cJSON_GetArrayItem(items, 0);
	rc = xc_copy_field(p->array_id, sizeof(p->array_id), xc_json_str(a, "id"), "array id", err);
	if (rc == 0 && info != NULL) {
		snprintf(info->array_id, sizeof(info->array_id), "%s", p->array_id);
		snprintf(info->name, sizeof(info->name), "%s", xc_json_str(a, "name") ? xc_json_str(a, "name") : "");
		snprintf(info->version, sizeof(info->version), "%s %s",
			 xc_json_str(a, "os") ? xc_json_str(a, "os") : "Purity//FA",
			 xc_json_str(a, "version") ? xc_json_str(a, "version") : "");
	}
	cJSON_Delete(items);
	return rc;
}

static int dup_secret(struct pure *p, const char *value, char **out, struct xclone_error *err)
{
	*out = strdup(value);
	if (*out == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	return xc_http_add_secret(p->http, value, err);
}

static void pure_close(void *state)
{
	struct pure *p = state;

	if (p == NULL)
		return;
	xc_wipe_free(p->api_token);
	xc_wipe_free(p->user);
	xc_wipe_free(p->password);
	free(p->prefix);
	free(p);
}

/* The credentials: STORAGE_TOKEN wins over STORAGE_USERNAME/STORAGE_PASSWORD,
 * because MTV secrets always carry the latter even when a token is given. */
static int pure_read_secret(struct pure *p, struct xc_secret *s, struct xclone_error *err)
{
	const char *token, *user, *password, *prefix;
	int rc;

	if ((rc = xc_secret_get(s, "STORAGE_TOKEN", &token, err)) ||
	    (rc = xc_secret_get(s, "STORAGE_USERNAME", &user, err)) ||
	    (rc = xc_secret_get(s, "STORAGE_PASSWORD", &password, err)) ||
	    (rc = xc_secret_get(s, "PURE_CLUSTER_PREFIX", &prefix, err)))
		return rc;
	if (prefix != NULL && prefix[0] != '\0' && (p->prefix = strdup(prefix)) == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (token != NULL && token[0] != '\0')
		return dup_secret(p, token, &p->api_token, err);
	if (user == NULL || user[0] == '\0')
		return xclone_error_set(err, XC_E_CONFIG,
					"secret key STORAGE_TOKEN is missing, and so is"
					" STORAGE_USERNAME (give an API token, or a user and password)");
	if (password == NULL || password[0] == '\0')
		return xclone_error_set(err, XC_E_CONFIG,
					"secret key STORAGE_PASSWORD is missing (STORAGE_USERNAME is"
					" set and STORAGE_TOKEN is not)");
	if ((rc = dup_secret(p, user, &p->user, err)))
		return rc;
	return dup_secret(p, password, &p->password, err);
}

static int pure_open(const struct xc_array_session *s, void **state, struct xclone_error *err)
{
	struct pure *p = calloc(1, sizeof(*p));
	int rc;

	*state = NULL;
	if (p == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	p->http = s->http;
	if ((rc = pure_read_secret(p, s->secret, err)) || (rc = pure_pick_versions(p, err)) ||
	    (rc = pure_login(p, err))) {
		pure_close(p);
		return rc;
	}
	xc_http_set_relogin(p->http, pure_login, NULL, p);
	rc = pure_read_array(p, NULL, err);
	if (rc) {
		pure_close(p);
		return rc;
	}
	*state = p;
	return 0;
}

static int pure_info(void *state, struct xc_array_info *out, struct xclone_error *err)
{
	struct pure *p = state;
	struct xc_strbuf path;
	cJSON *items = NULL;
	const cJSON *c;
	int rc;

	snprintf(out->vendor, sizeof(out->vendor), "Pure Storage");
	snprintf(out->api_version, sizeof(out->api_version), "%s", p->api);
	rc = pure_read_array(p, out, err);
	if (rc)
		return rc;
	pure_path(&path, p, "controllers");
	rc = pure_get_items(p, xc_sb_str(&path), "reading the controllers", &items, err);
	xc_sb_free(&path);
	if (rc)
		return rc;
	cJSON_ArrayForEach(c, items)
	{
		const char *model = xc_json_str(c, "model");
		if (model != NULL && model[0] != '\0') {
			snprintf(out->model, sizeof(out->model), "%s", model);
			break;
		}
	}
	cJSON_Delete(items);
	return 0;
}

/* ---- volumes ---- */

static int pure_lun_from_item(struct pure *p, const cJSON *v, struct xc_lun *out,
			      struct xclone_error *err)
{
	int rc;

	if ((rc = xc_copy_field(out->name, sizeof(out->name), xc_json_str(v, "name"), "volume name",
				err)) ||
	    (rc = xc_copy_field(out->id, sizeof(out->id), xc_json_str(v, "id"), "volume id", err)) ||
	    (rc = xc_copy_field(out->serial, sizeof(out->serial), xc_json_str(v, "serial"),
				"volume serial", err)) ||
	    (rc = xc_pure_naa(out->serial, out->naa, sizeof(out->naa), err)))
		return rc;
	if (xc_json_u64(v, "provisioned", &out->size_bytes) != 0)
		return xclone_error_set(err, XC_E_PROTOCOL, "FlashArray volume %s has no size",
					out->name);
	snprintf(out->array_id, sizeof(out->array_id), "%s", p->array_id);
	return 0;
}

/* GET /volumes?<param>=<value>&destroyed=false: *found = 0 when there is none. */
static int pure_volume_by(struct pure *p, const char *param, const char *value, struct xc_lun *out,
			  int *found, struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *items = NULL;
	int rc;

	*found = 0;
	pure_path(&path, p, "volumes");
	pure_param(&path, param, value);
	pure_param(&path, "destroyed", "false");
	rc = pure_get_items(p, xc_sb_str(&path), "looking up the volume", &items, err);
	xc_sb_free(&path);
	if (rc == XC_E_NOT_FOUND)
		return 0;
	if (rc)
		return rc;
	if (cJSON_GetArraySize(items) == 1) {
		*found = 1;
		rc = pure_lun_from_item(p, cJSON_GetArrayItem(items, 0), out, err);
	} else if (cJSON_GetArraySize(items) > 1) {
		rc = xclone_error_set(err, XC_E_CONFLICT, "FlashArray: %d volumes match %s=%.100s",
				      cJSON_GetArraySize(items), param, value);
	}
	cJSON_Delete(items);
	return rc;
}

/* A volume of that name inside a pod: "<pod>::<name>" (PX-CSI with FlashArray pods). */
static int pure_volume_in_pod(struct pure *p, const char *name, struct xc_lun *out, int *found,
			      struct xclone_error *err)
{
	struct xc_strbuf path, filter;
	cJSON *items = NULL;
	const cJSON *v, *match = NULL;
	size_t nlen = strlen(name);
	int rc = 0, matches = 0;

	*found = 0;
	/* a quote or backslash cannot be in a FlashArray name, and would break the filter */
	if (strpbrk(name, "'\\") != NULL)
		return 0;
	xc_sb_init(&filter);
	xc_sb_addf(&filter, "contains(name,'::%s')", name);
	pure_path(&path, p, "volumes");
	pure_param(&path, "filter", xc_sb_str(&filter) ? xc_sb_str(&filter) : "");
	if (filter.failed)
		path.failed = 1;
	pure_param(&path, "destroyed", "false");
	rc = pure_get_items(p, xc_sb_str(&path), "looking up the volume in pods", &items, err);
	xc_sb_free(&path);
	xc_sb_free(&filter);
	if (rc == XC_E_NOT_FOUND)
		return 0;
	if (rc)
		return rc;
	cJSON_ArrayForEach(v, items)
	{
		const char *n = xc_json_str(v, "name");
		size_t len = n ? strlen(n) : 0;
		/* contains() also matches longer names: keep exact "<pod>::<name>" */
		if (len > nlen + 2 && strcmp(n + len - nlen, name) == 0 &&
		    strncmp(n + len - nlen - 2, "::", 2) == 0) {
			match = v;
			matches++;
		}
	}
	if (matches > 1)
		rc = xclone_error_set(err, XC_E_CONFLICT,
				      "FlashArray: volume %s exists in %d pods; give the volume handle",
				      name, matches);
	else if (matches == 1 && (rc = pure_lun_from_item(p, match, out, err)) == 0)
		*found = 1;
	cJSON_Delete(items);
	return rc;
}

static int pure_resolve(void *state, const struct xc_pv *pv, struct xc_lun *out,
			struct xclone_error *err)
{
	struct pure *p = state;
	char name[XC_ARRAY_NAME_MAX];
	int found = 0, rc;

	if (pv->volume_handle != NULL && pv->volume_handle[0] != '\0') {
		rc = pure_volume_by(p, "ids", pv->volume_handle, out, &found, err);
		if (rc || found)
			return rc;
	}
	rc = xc_pure_volume_name(p->prefix, pv->name, name, sizeof(name), err);
	if (rc)
		return rc;
	rc = pure_volume_by(p, "names", name, out, &found, err);
	if (rc || found)
		return rc;
	rc = pure_volume_in_pod(p, name, out, &found, err);
	if (rc || found)
		return rc;
	return xclone_error_set(err, XC_E_NOT_FOUND,
				"FlashArray has no volume for PV %.100s (looked for id %.100s, name %s"
				" and <pod>::%s)",
				pv->name, pv->volume_handle ? pv->volume_handle : "(none)", name,
				name);
}

/* ---- hosts ---- */

/* Indexed by enum xc_initiator_kind: iSCSI, FC, NVMe. */
static const char *const pure_initiator_lists[] = {"iqns", "wwns", "nqns"};

static int pure_host_from_item(const cJSON *h, struct xc_host_group *out, struct xclone_error *err)
{
	int rc = xc_host_group_init(out, xc_json_str(h, "name"), XC_GROUP_HOST, err);

	for (size_t l = 0; rc == 0 && l < 3; l++) {
		const cJSON *v;
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(h, pure_initiator_lists[l]))
			if (cJSON_IsString(v))
				xc_host_group_add_initiator(out, v->valuestring);
	}
	return rc;
}

static int pure_list_hosts(struct pure *p, const char *name, cJSON **items,
			   struct xclone_error *err)
{
	struct xc_strbuf path;
	int rc;

	pure_path(&path, p, "hosts");
	if (name != NULL)
		pure_param(&path, "names", name);
	rc = pure_get_items(p, xc_sb_str(&path), "listing hosts", items, err);
	xc_sb_free(&path);
	return rc;
}

/* Which of ini a host item holds. */
static size_t pure_host_holds(const cJSON *h, const struct xc_initiator *ini, size_t n,
			      unsigned char *held)
{
	size_t count = 0;

	memset(held, 0, n);
	for (size_t l = 0; l < 3; l++)
		count = xc_json_initiators_held(cJSON_GetObjectItemCaseSensitive(h, pure_initiator_lists[l]),
						NULL, ini, n, held);
	return count;
}

/* The request body listing initiators: {"<prefix>iqns":[..], "<prefix>wwns":[..], ...}
 * for those not yet held (held NULL: all). FC as 16 upper-case hex digits. */
static int pure_initiator_body(const char *prefix, const struct xc_initiator *ini, size_t n,
			       const unsigned char *held, char **out, struct xclone_error *err)
{
	cJSON *body = cJSON_CreateObject();
	int rc = 0;

	if (body == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	for (size_t l = 0; l < 3 && rc == 0; l++) {
		char key[32];
		cJSON *list = NULL;
		snprintf(key, sizeof(key), "%s%s", prefix, pure_initiator_lists[l]);
		for (size_t i = 0; i < n; i++) {
			char wwn[24];
			const char *text = ini[i].id;
			if ((held && held[i]) || (size_t)ini[i].kind != l)
				continue;
			if (ini[i].kind == XC_INITIATOR_FC) {
				xc_wwn_format(ini[i].wwpn, XC_WWN_PLAIN_UPPER, wwn, sizeof(wwn));
				text = wwn;
			}
			if (list == NULL && (list = cJSON_AddArrayToObject(body, key)) == NULL)
				rc = -1;
			if (rc == 0 && !cJSON_AddItemToArray(list, cJSON_CreateString(text)))
				rc = -1;
		}
	}
	if (rc)
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	else
		rc = xc_json_print(body, out, err);
	cJSON_Delete(body);
	return rc;
}

struct pure_host_check {
	struct pure *p;
	const char *name;
	const struct xc_initiator *ini;
	size_t n;
};

/* After a lost create or update: does host `name` now hold every initiator? */
static int pure_host_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct pure_host_check *c = ctx;
	unsigned char held[XC_HOST_INITIATORS_MAX];
	cJSON *items = NULL;
	int rc = pure_list_hosts(c->p, c->name, &items, err);

	*applied = 0;
	if (rc == XC_E_NOT_FOUND)
		return 0;
	if (rc)
		return rc;
	if (cJSON_GetArraySize(items) == 1)
		*applied = pure_host_holds(cJSON_GetArrayItem(items, 0), c->ini, c->n, held) == c->n;
	cJSON_Delete(items);
	return 0;
}

/* POST /hosts (create) or PATCH /hosts (add initiators), safely against lost answers. */
static int pure_host_write(struct pure *p, enum xc_http_method method, const char *name,
			   const struct xc_initiator *ini, size_t n, const unsigned char *held,
			   struct xclone_error *err)
{
	struct pure_host_check check = {p, name, ini, n};
	struct xc_http_request req = {0};
	struct xc_http_response resp = {0};
	struct xc_strbuf path;
	char *body = NULL;
	int confirmed = 0, rc;

	rc = pure_initiator_body(method == XC_HTTP_POST ? "" : "add_", ini, n, held, &body, err);
	if (rc)
		return rc;
	pure_path(&path, p, "hosts");
	pure_param(&path, "names", name);
	req.method = method;
	req.path = xc_sb_str(&path);
	req.body = body;
	if (req.path == NULL)
		rc = xclone_error_set(err, XC_E_USAGE, "FlashArray request path too long");
	else
		rc = xc_rest_send_checked(p->http, &req, &resp, pure_host_check, &check, &confirmed,
					  err);
	if (rc == 0 && !confirmed && resp.status != 200) {
		int applied = 0;
		if (method == XC_HTTP_POST && pure_says(&resp, "already exists") &&
		    pure_host_check(&check, &applied, err) == 0 && applied) {
			rc = 0; /* made by an earlier attempt whose answer we never saw */
		} else if (method == XC_HTTP_POST && pure_says(&resp, "already exists")) {
			rc = xclone_error_set(err, XC_E_CONFLICT,
					      "FlashArray: a host named %s already exists and holds"
					      " none of these initiators: choose another name",
					      name);
		} else {
			rc = pure_fail(p, &resp, err,
				       method == XC_HTTP_POST ? "creating the host"
							      : "adding initiators to the host");
		}
	}
	if (!confirmed)
		xc_http_response_free(&resp);
	xc_sb_free(&path);
	free(body);
	return rc;
}

static int pure_ensure_host(void *state, const char *name, const struct xc_initiator *ini, size_t n,
			    struct xc_host_group *out, struct xclone_error *err)
{
	struct pure *p = state;
	unsigned char held[XC_HOST_INITIATORS_MAX], any[XC_HOST_INITIATORS_MAX] = {0};
	char holders[512] = "";
	const cJSON *h, *holder = NULL;
	cJSON *items = NULL, *final = NULL;
	size_t n_holders = 0, holder_count = 0;
	int rc;

	rc = pure_list_hosts(p, NULL, &items, err);
	if (rc)
		return rc;
	cJSON_ArrayForEach(h, items)
	{
		size_t c = pure_host_holds(h, ini, n, held);
		if (c == 0)
			continue;
		n_holders++;
		holder = h;
		holder_count = c;
		memcpy(any, held, n);
		size_t used = strlen(holders);
		snprintf(holders + used, sizeof(holders) - used, "%s%s", used ? ", " : "",
			 xc_json_str(h, "name") ? xc_json_str(h, "name") : "?");
	}
	if (n_holders > 1) {
		rc = xclone_error_set(err, XC_E_CONFLICT,
				      "FlashArray: these initiators are split across hosts %s; a"
				      " FlashArray initiator belongs to one host, so merge them first",
				      holders);
	} else if (n_holders == 0) {
		rc = pure_host_write(p, XC_HTTP_POST, name, ini, n, NULL, err);
		if (rc == 0)
			rc = xc_copy_field(out->name, sizeof(out->name), name, "host name", err);
	} else {
		rc = xc_copy_field(out->name, sizeof(out->name), xc_json_str(holder, "name"),
				   "host name", err);
		if (rc == 0 && holder_count < n)
			rc = pure_host_write(p, XC_HTTP_PATCH, out->name, ini, n, any, err);
	}
	cJSON_Delete(items);
	if (rc)
		return rc;
	/* Answer with the host as the array now lists it. */
	rc = pure_list_hosts(p, out->name, &final, err);
	if (rc == 0 && cJSON_GetArraySize(final) != 1)
		rc = xclone_error_set(err, XC_E_PROTOCOL, "FlashArray: host %s vanished", out->name);
	if (rc == 0)
		rc = pure_host_from_item(cJSON_GetArrayItem(final, 0), out, err);
	cJSON_Delete(final);
	return rc;
}

static int pure_hosts(void *state, struct xc_host_list *out, struct xclone_error *err)
{
	struct pure *p = state;
	cJSON *items = NULL;
	const cJSON *h;
	int rc = pure_list_hosts(p, NULL, &items, err);

	if (rc)
		return rc;
	cJSON_ArrayForEach(h, items)
	{
		struct xc_host_group g;
		if ((rc = pure_host_from_item(h, &g, err)) || (rc = xc_host_list_add(out, &g, err)))
			break;
	}
	/* Host groups, with the initiators of their member hosts. */
	for (h = rc == 0 ? items->child : NULL; h != NULL; h = h->next) {
		const char *group = xc_json_str(h, "host_group.name");
		struct xc_host_group g, member;
		size_t k;
		if (group == NULL || group[0] == '\0')
			continue;
		for (k = 0; k < out->n; k++)
			if (out->items[k].kind == XC_GROUP_HOST_SET &&
			    strcmp(out->items[k].name, group) == 0)
				break;
		if (k == out->n) {
			if ((rc = xc_host_group_init(&g, group, XC_GROUP_HOST_SET, err)) ||
			    (rc = xc_host_list_add(out, &g, err)))
				break;
		}
		if ((rc = pure_host_from_item(h, &member, err)))
			break;
		for (size_t i = 0; i < member.n_initiators; i++)
			xc_host_group_add_initiator(&out->items[k], member.initiators[i]);
	}
	cJSON_Delete(items);
	return rc;
}

/* ---- connections ---- */

static int pure_mappings(void *state, const struct xc_lun *lun, struct xc_mapping_list *out,
			 struct xclone_error *err)
{
	struct pure *p = state;
	struct xc_strbuf path;
	cJSON *items = NULL;
	const cJSON *c;
	int rc;

	pure_path(&path, p, "connections");
	pure_param(&path, "volume_names", lun->name);
	rc = pure_get_items(p, xc_sb_str(&path), "listing connections", &items, err);
	xc_sb_free(&path);
	if (rc)
		return rc;
	cJSON_ArrayForEach(c, items)
	{
		const char *group = xc_json_str(c, "host_group.name");
		const char *host = xc_json_str(c, "host.name");
		long lun_id = -1;
		xc_json_long(c, "lun", &lun_id);
		if (group != NULL && group[0] != '\0')
			rc = xc_mapping_list_add(out, XC_GROUP_HOST_SET, group, lun_id, err);
		else if (host != NULL && host[0] != '\0')
			rc = xc_mapping_list_add(out, XC_GROUP_HOST, host, lun_id, err);
		if (rc)
			break;
	}
	cJSON_Delete(items);
	return rc;
}

/* The mapping to target as the array lists it now; *found 0 when absent. */
static int pure_find_mapping(struct pure *p, const struct xc_lun *lun, const struct xc_mapping *t,
			     struct xc_mapping *found_out, int *found, struct xclone_error *err)
{
	struct xc_mapping_list now = {0};
	const struct xc_mapping *m;
	int rc = pure_mappings(p, lun, &now, err);

	*found = 0;
	if (rc == 0 && (m = xc_mapping_list_find(&now, t->kind, t->group)) != NULL) {
		*found = 1;
		if (found_out != NULL)
			*found_out = *m;
	}
	xc_mapping_list_free(&now);
	return rc;
}

static void pure_connection_path(struct xc_strbuf *path, const struct pure *p,
				 const struct xc_lun *lun, const struct xc_mapping *t)
{
	pure_path(path, p, "connections");
	pure_param(path, t->kind == XC_GROUP_HOST_SET ? "host_group_names" : "host_names", t->group);
	pure_param(path, "volume_names", lun->name);
}

struct pure_map_check {
	struct pure *p;
	const struct xc_lun *lun;
	const struct xc_mapping *target;
};

static int pure_map_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct pure_map_check *c = ctx;

	return pure_find_mapping(c->p, c->lun, c->target, NULL, applied, err);
}

static int pure_map(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		    struct xc_mapping *result, struct xclone_error *err)
{
	struct pure *p = state;
	struct pure_map_check check = {p, lun, target};
	struct xc_http_request req = {.method = XC_HTTP_POST};
	struct xc_http_response resp = {0};
	struct xc_strbuf path;
	char body[48];
	int confirmed = 0, found = 0, rc;

	pure_connection_path(&path, p, lun, target);
	if (target->lun_id >= 0) {
		snprintf(body, sizeof(body), "{\"lun\":%ld}", target->lun_id);
		req.body = body;
	}
	req.path = xc_sb_str(&path);
	if (req.path == NULL) {
		xc_sb_free(&path);
		return xclone_error_set(err, XC_E_USAGE, "FlashArray request path too long");
	}
	rc = xc_rest_send_checked(p->http, &req, &resp, pure_map_check, &check, &confirmed, err);
	xc_sb_free(&path);
	if (rc) {
		xc_http_response_free(&resp); /* a failed send may still hold the last answer */
		return rc;
	}
	if (!confirmed) {
		if (resp.status == 200 || resp.status == 201) {
			cJSON *b = cJSON_ParseWithLength(resp.body, resp.body_len);
			long lun_id = -1;
			if (xc_json_long(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "items"), 0),
					 "lun", &lun_id) == 0)
				result->lun_id = lun_id;
			cJSON_Delete(b);
			xc_http_response_free(&resp);
			if (result->lun_id >= 0)
				return 0;
		} else if (!(resp.status == 400 && pure_says(&resp, "already exists"))) {
			rc = pure_fail(p, &resp, err, "connecting the volume");
			xc_http_response_free(&resp);
			return rc;
		} else {
			xc_http_response_free(&resp);
		}
	}
	/* Already connected (now or by the lost request): report the array's LUN number. */
	rc = pure_find_mapping(p, lun, target, result, &found, err);
	if (rc == 0 && !found)
		rc = xclone_error_set(err, XC_E_REMOTE,
				      "FlashArray: connection of %s to %s not listed after connecting",
				      lun->name, target->group);
	return rc;
}

static int pure_unmap(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		      struct xclone_error *err)
{
	struct pure *p = state;
	struct xc_http_response resp = {0};
	struct xc_strbuf path;
	int found = 0, rc;

	pure_connection_path(&path, p, lun, target);
	rc = pure_send(p, XC_HTTP_DELETE, xc_sb_str(&path), NULL, &resp, err);
	xc_sb_free(&path);
	if (rc)
		return rc;
	if (resp.status == 200 || resp.status == 204) {
		xc_http_response_free(&resp);
		return 0;
	}
	/* An error may just mean "no such connection": then the goal is reached. */
	rc = pure_fail(p, &resp, err, "disconnecting the volume");
	xc_http_response_free(&resp);
	if (rc == XC_E_NOT_FOUND || rc == XC_E_REMOTE) {
		struct xclone_error check_err;
		if (pure_find_mapping(p, lun, target, NULL, &found, &check_err) == 0 && !found)
			return 0;
	}
	return rc;
}

/* ---- deleting a host ---- */

/* How many connections host `name` has, private or shared through its host group
 * (GET /connections?host_names= lists both); XC_E_NOT_FOUND when the host is gone. */
static int pure_host_connections(struct pure *p, const char *name, int *count, char *volume,
				 size_t size, struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *items = NULL;
	int rc;

	pure_path(&path, p, "connections");
	pure_param(&path, "host_names", name);
	rc = pure_get_items(p, xc_sb_str(&path), "listing the host's connections", &items, err);
	xc_sb_free(&path);
	if (rc)
		return rc;
	*count = cJSON_GetArraySize(items);
	snprintf(volume, size, "%s", *count > 0 ? xc_json_text(cJSON_GetArrayItem(items, 0),
								  "volume.name")
						 : "");
	cJSON_Delete(items);
	return 0;
}

/* DELETE /hosts?names=<h>: the host's IQNs/WWNs/NQNs go with it. ensure_host makes no
 * host group, so there is none to delete. Refused while any volume is connected. */
static int pure_delete_host(void *state, const struct xc_host_group *g, struct xclone_error *err)
{
	struct pure *p = state;
	struct xc_http_response resp = {0};
	struct xc_strbuf path;
	char volume[256];
	int count = 0, connected, rc;

	if (g->kind != XC_GROUP_HOST)
		return xclone_error_set(err, XC_E_USAGE,
					"FlashArray: %s is a host group; xclone makes and deletes hosts only",
					g->name);
	rc = pure_host_connections(p, g->name, &count, volume, sizeof(volume), err);
	if (rc == XC_E_NOT_FOUND)
		return 0;
	if (rc)
		return rc;
	if (count > 0)
		return xclone_error_set(err, XC_E_CONFLICT,
					"FlashArray: host %s still has %d volume connection(s) (%s);"
					" not deleted",
					g->name, count, volume);
	pure_path(&path, p, "hosts");
	pure_param(&path, "names", g->name);
	rc = pure_send(p, XC_HTTP_DELETE, xc_sb_str(&path), NULL, &resp, err);
	xc_sb_free(&path);
	if (rc)
		return rc;
	if (resp.status == 200 || resp.status == 204) {
		xc_http_response_free(&resp);
		return 0;
	}
	/* Connected between our check and the DELETE: the array's own refusal. */
	connected = resp.status == 400 && pure_says(&resp, "connect");
	rc = pure_fail(p, &resp, err, "deleting the host");
	xc_http_response_free(&resp);
	if (rc == XC_E_NOT_FOUND)
		return 0; /* already gone: the goal is reached */
	return connected ? xc_array_conflict(err) : rc;
}

const struct xc_array_driver xc_driver_pure = {
	.product = "pureFlashArray",
	.vendor = "Pure Storage",
	.open = pure_open,
	.info = pure_info,
	.resolve = pure_resolve,
	.ensure_host = pure_ensure_host,
	.hosts = pure_hosts,
	.mappings = pure_mappings,
	.map = pure_map,
	.unmap = pure_unmap,
	.delete_host = pure_delete_host,
	.close = pure_close,
};
