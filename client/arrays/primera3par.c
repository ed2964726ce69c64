/*
 * HPE 3PAR / Primera / Alletra 9000 driver (MTV product "primera3par"), Web Services
 * API 1.x (/api/v1): 3PAR OS 3.1.3 and later, Primera / Alletra OS 4.x and later.
 * Facts and sources: README.md beside this file.
 *
 * Login: POST /api/v1/credentials {user, password} → a session key sent as
 * X-HP3PAR-WSAPI-SessionKey; an expired or invalid key is answered 403 with code 6
 * (401 is taken the same way), which logs in again once. The key is given back
 * (DELETE /credentials/<key>) at close: arrays allow few sessions.
 *
 * Volumes: the HPE CSI driver names a virtual volume after the first 31 characters
 * of the PV's volume handle (the PV name). Hosts: an initiator belongs to one
 * 3PAR host, so a host holding some is reused (and completed); a new one is
 * created with persona 8 (VMware). LUNs are exported through VLUN templates to a
 * host or to "set:<host set>".
 */
#define _GNU_SOURCE /* strdup, explicit_bzero under -std=c17 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vendors.h"

#define P3_NAME_MAX 31            /* volume and host names ("name31") */
#define P3_PERSONA_VMWARE 8       /* WSAPI numbering; the CLI numbers it 11 */
#define P3_VLUN_QUERY_BUILD 30201292L /* 3.2.1 MU2: GET /vluns?query= */
#define P3_SESSION_HEADER "X-HP3PAR-WSAPI-SessionKey"
#define P3_MIB 1048576ULL

/* WSAPI error codes this driver acts on (HP 3PAR WSAPI 1.3.1, tables 5 and 6). */
#define P3_E_INV_SESS_KEY 6
#define P3_E_EXISTENT_HOST 16
#define P3_E_NON_EXISTENT_HOST 17
#define P3_E_EXISTENT_LUN 18
#define P3_E_NON_EXISTENT_VLUN 19
/* Numbers from python-3parclient (not in the guide's tables): a name the array
 * cannot hold means there is no such volume. */
#define P3_E_EXCEEDS_LENGTH 57
#define P3_E_ILLEGAL_CHAR 69
#define P3_E_EXISTENT_PATH 73

struct p3 {
	struct xc_http *http;
	char *user, *password;
	char key[256];                /* session key; "" when none */
	int minor;                    /* WSAPI 1.<minor> */
	long build;                   /* WSAPI build, e.g. 40500021 */
	int vlun_query;               /* the array takes GET /vluns?query= */
	char array_id[XC_ARRAY_ID_MAX];
};

/* ---- names and ids ---- */

int xc_primera3par_naa(const char *wwn, char *out, size_t size, struct xclone_error *err)
{
	size_t len = wwn ? strlen(wwn) : 0;

	/* 32 hex digits (NAA 6, 60002AC…), or 16 (NAA 5, 50002AC…) on older 3PAR OS */
	if (len <= 32 && size > len + 4) {
		memcpy(out, "naa.", 4);
		for (size_t i = 0; i <= len; i++)
			out[4 + i] = (char)tolower((unsigned char)wwn[i]);
		if (xc_naa_is_valid(out))
			return 0;
		out[0] = '\0';
	}
	return xclone_error_set(err, XC_E_PROTOCOL,
				"3PAR/Primera volume WWN \"%.40s\" is neither 32 hex digits nor a"
				" 16-digit NAA 5 id",
				wwn ? wwn : "");
}

int xc_primera3par_volume_name(const char *pv, char *out, size_t size, struct xclone_error *err)
{
	size_t len = pv ? strlen(pv) : 0;

	if (len == 0)
		return xclone_error_set(err, XC_E_USAGE, "a PV name or volume handle is needed");
	if (len > P3_NAME_MAX)
		len = P3_NAME_MAX; /* what the HPE CSI driver keeps */
	if (len >= size)
		return xclone_error_set(err, XC_E_INTERNAL, "volume name buffer too small");
	memcpy(out, pv, len);
	out[len] = '\0';
	return 0;
}

void xc_primera3par_object_name(const char *name, size_t max, char *out, size_t size)
{
	size_t len = strlen(name);
	unsigned hash = 2166136261u; /* FNV-1a: the same long name always gives the same short one */

	if (size == 0)
		return;
	if (max >= size)
		max = size - 1;
	if (len <= max || max < 10) {
		snprintf(out, size, "%.*s", (int)max, name);
		return;
	}
	for (const char *p = name; *p; p++)
		hash = (hash ^ (unsigned char)*p) * 16777619u;
	snprintf(out, size, "%.*s-%08x", (int)(max - 9), name, hash);
}

/* ---- requests and errors ---- */

/* The WSAPI error code of an answer ({"code": n, "desc"}), or -1. */
static long p3_code(const struct xc_http_response *resp)
{
	cJSON *body = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	long code = -1;

	if (xc_json_long(body, "code", &code) != 0)
		code = -1;
	cJSON_Delete(body);
	return code;
}

static int p3_fail(struct p3 *p, const struct xc_http_response *resp, struct xclone_error *err,
		   const char *what)
{
	cJSON *body = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	const char *desc = xc_json_str(body, "desc");
	char code[32] = "", text[400];
	long n;
	int rc;

	if (desc == NULL)
		desc = xc_json_str(body, "message"); /* some answers carry message instead */
	if (xc_json_long(body, "code", &n) == 0)
		snprintf(code, sizeof(code), "%ld", n);
	if (desc != NULL && code[0] != '\0') {
		snprintf(text, sizeof(text), "%s (code %s)", desc, code);
		desc = text;
	}
	rc = xc_rest_fail(p->http, err, resp->status, code[0] ? code : NULL, desc, "3PAR/Primera: %s",
			  what);
	cJSON_Delete(body);
	return rc;
}

static int p3_send(struct p3 *p, enum xc_http_method method, const char *path, const char *body,
		   struct xc_http_response *resp, struct xclone_error *err)
{
	struct xc_http_request req = {0};

	memset(resp, 0, sizeof(*resp));
	if (path == NULL)
		return xclone_error_set(err, XC_E_USAGE, "3PAR/Primera request path too long");
	req.method = method;
	req.path = path;
	req.body = body;
	req.idempotent = method != XC_HTTP_POST;
	return xc_http_send(p->http, &req, resp, err);
}

/* "/api/v1/<resource>" + "/<escaped name>" when name is given. */
static void p3_path(struct xc_strbuf *sb, const char *resource, const char *name)
{
	xc_sb_init(sb);
	xc_sb_add(sb, "/api/v1/");
	xc_sb_add(sb, resource);
	if (name != NULL) {
		xc_sb_add(sb, "/");
		xc_sb_add_escaped(sb, name);
	}
}

/* GETs path; *obj is the JSON answer. *found = 0 on a 404 (obj NULL) when found is given. */
static int p3_get(struct p3 *p, const char *path, const char *what, cJSON **obj, int *found,
		  struct xclone_error *err)
{
	struct xc_http_response resp;
	int rc = p3_send(p, XC_HTTP_GET, path, NULL, &resp, err);

	*obj = NULL;
	if (found != NULL)
		*found = 1;
	if (rc == 0 && resp.status == 404 && found != NULL) {
		*found = 0;
	} else if (rc == 0 && resp.status != 200) {
		rc = p3_fail(p, &resp, err, what);
	} else if (rc == 0) {
		rc = xc_rest_json(&resp, obj, err);
	}
	xc_http_response_free(&resp);
	return rc;
}

/* GETs a collection {"total", "members"}; *members is detached from the answer. */
static int p3_get_members(struct p3 *p, const char *path, const char *what, cJSON **members,
			  struct xclone_error *err)
{
	cJSON *body = NULL;
	int rc = p3_get(p, path, what, &body, NULL, err);

	*members = NULL;
	if (rc == 0) {
		*members = cJSON_DetachItemFromObjectCaseSensitive(body, "members");
		if (!cJSON_IsArray(*members)) {
			cJSON_Delete(*members);
			*members = NULL;
			rc = xclone_error_set(err, XC_E_PROTOCOL, "3PAR/Primera: %s: answer has no"
					      " members", what);
		}
	}
	cJSON_Delete(body);
	return rc;
}

/* ---- session ---- */

/* POST /api/v1/credentials → the session key, installed as a header. */
static int p3_login(void *ctx, struct xclone_error *err)
{
	struct p3 *p = ctx;
	/* a lost answer leaves an unused session that expires by itself: safe to resend */
	struct xc_http_request req = {.method = XC_HTTP_POST, .path = "/api/v1/credentials",
				      .idempotent = 1, .no_relogin = 1};
	struct xc_http_response resp = {0};
	cJSON *in = cJSON_CreateObject(), *out = NULL;
	char *body = NULL;
	int rc;

	xc_http_set_header(p->http, P3_SESSION_HEADER, NULL, NULL);
	p->key[0] = '\0';
	if (in == NULL || !cJSON_AddStringToObject(in, "user", p->user) ||
	    !cJSON_AddStringToObject(in, "password", p->password)) {
		cJSON_Delete(in);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	rc = xc_json_print(in, &body, err);
	cJSON_Delete(in);
	if (rc)
		return rc;
	req.body = body;
	rc = xc_http_send(p->http, &req, &resp, err);
	xc_wipe_free(body); /* it held the password */
	if (rc == 0 && resp.status != 201 && resp.status != 200) {
		rc = p3_fail(p, &resp, err, "login refused: check STORAGE_USERNAME/STORAGE_PASSWORD");
		if (resp.status == 400 || resp.status == 401 || resp.status == 403) {
			rc = XC_E_AUTH;
			if (err != NULL)
				err->code = XC_E_AUTH;
		}
	}
	if (rc == 0)
		rc = xc_rest_json(&resp, &out, err);
	xc_http_response_free(&resp);
	if (rc == 0 && xc_json_copy(out, "key", p->key, sizeof(p->key)) != 0)
		rc = xclone_error_set(err, XC_E_PROTOCOL, "3PAR/Primera login answer has no session"
				      " key");
	if (rc == 0)
		rc = xc_http_set_header(p->http, P3_SESSION_HEADER, p->key, err);
	cJSON_Delete(out);
	return rc;
}

/* The WSAPI's "session key invalid or expired": 403 with code 6; 401 taken the same. */
static int p3_expired(void *ctx, const struct xc_http_response *resp)
{
	(void)ctx;
	return resp->status == 401 || (resp->status == 403 && p3_code(resp) == P3_E_INV_SESS_KEY);
}

/* DELETE /api/v1/credentials/<key>: sessions are few (tens per node), give ours back. */
static void p3_logout(struct p3 *p)
{
	struct xc_http_request req = {.method = XC_HTTP_DELETE, .idempotent = 1, .no_relogin = 1};
	struct xc_http_response resp;
	struct xclone_error ignored;
	struct xc_strbuf path;

	if (p->key[0] == '\0')
		return;
	p3_path(&path, "credentials", p->key);
	req.path = xc_sb_str(&path);
	if (req.path != NULL) {
		xc_http_send(p->http, &req, &resp, &ignored); /* best effort: it expires anyway */
		xc_http_response_free(&resp);
	}
	xc_sb_free(&path);
	explicit_bzero(p->key, sizeof(p->key));
}

/* GET /api (no session): {"major": 1, "minor", "build"}. */
static int p3_read_version(struct p3 *p, struct xclone_error *err)
{
	struct xc_http_request req = {.method = XC_HTTP_GET, .path = "/api", .idempotent = 1,
				      .no_relogin = 1};
	struct xc_http_response resp;
	cJSON *v = NULL;
	long major = 0, minor = 0;
	int rc = xc_http_send(p->http, &req, &resp, err);

	if (rc == 0 && resp.status != 200)
		rc = p3_fail(p, &resp, err,
			     "GET /api: is STORAGE_HOSTNAME the WSAPI address (3PAR: port 8080)?");
	if (rc == 0)
		rc = xc_rest_json(&resp, &v, err);
	xc_http_response_free(&resp);
	if (rc)
		return rc;
	if (xc_json_long(v, "major", &major) != 0 || xc_json_long(v, "minor", &minor) != 0 ||
	    xc_json_long(v, "build", &p->build) != 0)
		rc = xclone_error_set(err, XC_E_PROTOCOL, "GET /api did not answer a WSAPI version:"
				      " is STORAGE_HOSTNAME the WSAPI address (3PAR: port 8080)?");
	else if (major != 1)
		rc = xclone_error_set(err, XC_E_REMOTE, "3PAR/Primera WSAPI %ld.%ld is not supported"
				      " (1.x is)", major, minor);
	p->minor = (int)minor;
	p->vlun_query = p->build >= P3_VLUN_QUERY_BUILD;
	cJSON_Delete(v);
	return rc;
}

/* GET /api/v1/system: the serial number is the LUNs' array id. */
static int p3_read_system(struct p3 *p, struct xc_array_info *info, struct xclone_error *err)
{
	cJSON *s = NULL;
	const char *serial;
	long id;
	int rc = p3_get(p, "/api/v1/system", "reading the system", &s, NULL, err);

	if (rc)
		return rc;
	serial = xc_json_str(s, "serialNumber");
	if (serial != NULL && serial[0] != '\0')
		rc = xc_copy_field(p->array_id, sizeof(p->array_id), serial, "serial number", err);
	else if (xc_json_long(s, "id", &id) == 0)
		snprintf(p->array_id, sizeof(p->array_id), "%ld", id);
	else
		rc = xclone_error_set(err, XC_E_PROTOCOL, "3PAR/Primera system has no serial number");
	if (rc == 0 && info != NULL) {
		const char *name = xc_json_str(s, "name"), *model = xc_json_str(s, "model");
		const char *version = xc_json_str(s, "systemVersion");
		snprintf(info->vendor, sizeof(info->vendor), "HPE");
		snprintf(info->array_id, sizeof(info->array_id), "%s", p->array_id);
		snprintf(info->name, sizeof(info->name), "%s", name ? name : "");
		snprintf(info->model, sizeof(info->model), "%s", model ? model : "");
		snprintf(info->version, sizeof(info->version), "%s", version ? version : "");
		snprintf(info->api_version, sizeof(info->api_version), "WSAPI 1.%d (build %ld)",
			 p->minor, p->build);
	}
	cJSON_Delete(s);
	return rc;
}

static void p3_close(void *state)
{
	struct p3 *p = state;

	if (p == NULL)
		return;
	p3_logout(p);
	xc_wipe_free(p->user);
	xc_wipe_free(p->password);
	free(p);
}

static int p3_open(const struct xc_array_session *s, void **state, struct xclone_error *err)
{
	struct p3 *p = calloc(1, sizeof(*p));
	const char *user, *password;
	int rc;

	*state = NULL;
	if (p == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	p->http = s->http;
	if ((rc = xc_secret_require(s->secret, "STORAGE_USERNAME", &user, err)) ||
	    (rc = xc_secret_require(s->secret, "STORAGE_PASSWORD", &password, err)))
		goto fail;
	p->user = strdup(user);
	p->password = strdup(password);
	if (p->user == NULL || p->password == NULL) {
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = p3_read_version(p, err)) || (rc = p3_login(p, err)))
		goto fail;
	xc_http_set_relogin(p->http, p3_login, p3_expired, p);
	if ((rc = p3_read_system(p, NULL, err)))
		goto fail;
	*state = p;
	return 0;
fail:
	p3_close(p);
	return rc;
}

static int p3_info(void *state, struct xc_array_info *out, struct xclone_error *err)
{
	return p3_read_system(state, out, err);
}

/* ---- volumes ---- */

static int p3_lun_from_volume(struct p3 *p, const cJSON *v, struct xc_lun *out,
			      struct xclone_error *err)
{
	unsigned long long mib = 0;
	long id;
	int rc;

	if ((rc = xc_copy_field(out->name, sizeof(out->name), xc_json_str(v, "name"), "volume name",
				err)) ||
	    (rc = xc_copy_field(out->serial, sizeof(out->serial), xc_json_str(v, "wwn"),
				"volume WWN", err)) ||
	    (rc = xc_primera3par_naa(out->serial, out->naa, sizeof(out->naa), err)))
		return rc;
	if (xc_json_long(v, "id", &id) != 0 || xc_json_u64(v, "sizeMiB", &mib) != 0 ||
	    mib > (~0ULL) / P3_MIB)
		return xclone_error_set(err, XC_E_PROTOCOL, "3PAR/Primera volume %s has no id or"
					" size", out->name);
	snprintf(out->id, sizeof(out->id), "%ld", id);
	out->size_bytes = mib * P3_MIB;
	snprintf(out->array_id, sizeof(out->array_id), "%s", p->array_id);
	return 0;
}

/* GET /api/v1/volumes/<name>; *found 0 when the array has no such volume. */
static int p3_volume_by_name(struct p3 *p, const char *name, struct xc_lun *out, int *found,
			     struct xclone_error *err)
{
	struct xc_http_response resp;
	struct xc_strbuf path;
	cJSON *v = NULL;
	long code;
	int rc;

	*found = 0;
	p3_path(&path, "volumes", name);
	rc = p3_send(p, XC_HTTP_GET, xc_sb_str(&path), NULL, &resp, err);
	xc_sb_free(&path);
	if (rc) {
		xc_http_response_free(&resp); /* a partial answer may be held */
		return rc;
	}
	code = p3_code(&resp);
	if (resp.status == 200) {
		rc = xc_rest_json(&resp, &v, err);
		if (rc == 0 && (rc = p3_lun_from_volume(p, v, out, err)) == 0)
			*found = 1;
	} else if (!(resp.status == 404 ||
		     (resp.status == 400 && (code == P3_E_ILLEGAL_CHAR || code == P3_E_EXCEEDS_LENGTH)))) {
		/* a name the array cannot hold is a volume it does not have */
		rc = p3_fail(p, &resp, err, "looking up the volume");
	}
	xc_http_response_free(&resp);
	cJSON_Delete(v);
	return rc;
}

static int p3_resolve(void *state, const struct xc_pv *pv, struct xc_lun *out,
		      struct xclone_error *err)
{
	struct p3 *p = state;
	char by_handle[P3_NAME_MAX + 1] = "", by_name[P3_NAME_MAX + 1];
	int found = 0, rc;

	/* volumeAttributes are StorageClass parameters and the CSP's config: no array
	 * name (importVolumeName names a volume the import renamed), so they are not read. */
	if (pv->volume_handle != NULL && pv->volume_handle[0] != '\0') {
		rc = xc_primera3par_volume_name(pv->volume_handle, by_handle, sizeof(by_handle), err);
		if (rc == 0)
			rc = p3_volume_by_name(p, by_handle, out, &found, err);
		if (rc || found)
			return rc;
	}
	rc = xc_primera3par_volume_name(pv->name, by_name, sizeof(by_name), err);
	if (rc == 0 && strcmp(by_name, by_handle) != 0)
		rc = p3_volume_by_name(p, by_name, out, &found, err);
	if (rc || found)
		return rc;
	return xclone_error_set(err, XC_E_NOT_FOUND,
				"3PAR/Primera has no volume for PV %.100s (looked for %s%s%s: the HPE"
				" CSI driver names a volume after the first %d characters of the"
				" volume handle)",
				pv->name, by_handle[0] ? by_handle : "", by_handle[0] ? " and " : "",
				by_name, P3_NAME_MAX);
}

/* ---- hosts ---- */

/* Which of ini a host object holds (FCPaths[].wwn, iSCSIPaths[].name). */
static size_t p3_host_holds(const cJSON *h, const struct xc_initiator *ini, size_t n,
			    unsigned char *held)
{
	memset(held, 0, n);
	xc_json_initiators_held(cJSON_GetObjectItemCaseSensitive(h, "FCPaths"), "wwn", ini, n, held);
	return xc_json_initiators_held(cJSON_GetObjectItemCaseSensitive(h, "iSCSIPaths"), "name", ini,
				       n, held);
}

static int p3_group_from_host(const cJSON *h, struct xc_host_group *out, struct xclone_error *err)
{
	const cJSON *path;
	int rc = xc_host_group_init(out, xc_json_str(h, "name"), XC_GROUP_HOST, err);

	cJSON_ArrayForEach(path, (rc == 0 ? cJSON_GetObjectItemCaseSensitive(h, "FCPaths") : NULL))
		xc_host_group_add_initiator(out, xc_json_str(path, "wwn"));
	cJSON_ArrayForEach(path, (rc == 0 ? cJSON_GetObjectItemCaseSensitive(h, "iSCSIPaths") : NULL))
		xc_host_group_add_initiator(out, xc_json_str(path, "name"));
	return rc;
}

/* GET /api/v1/hosts/<name>; *host NULL when there is none. */
static int p3_get_host(struct p3 *p, const char *name, cJSON **host, struct xclone_error *err)
{
	struct xc_strbuf path;
	int found = 0, rc;

	p3_path(&path, "hosts", name);
	rc = p3_get(p, xc_sb_str(&path), "reading the host", host, &found, err);
	xc_sb_free(&path);
	return rc;
}

struct p3_host_check {
	struct p3 *p;
	const char *name;
	const struct xc_initiator *ini;
	size_t n;
};

/* After an unanswered create or change: does host `name` hold every initiator? */
static int p3_host_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct p3_host_check *c = ctx;
	unsigned char held[XC_HOST_INITIATORS_MAX];
	cJSON *h = NULL;
	int rc = p3_get_host(c->p, c->name, &h, err);

	*applied = rc == 0 && h != NULL && p3_host_holds(h, c->ini, c->n, held) == c->n;
	cJSON_Delete(h);
	return rc;
}

/* The initiators of one kind that skip (may be NULL) does not mark, into out. */
static size_t p3_pick(const struct xc_initiator *ini, size_t n, enum xc_initiator_kind kind,
		      const unsigned char *skip, struct xc_initiator *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (ini[i].kind == kind && (skip == NULL || !skip[i]))
			out[k++] = ini[i];
	return k;
}

/* Adds {"FCWWNs": [...]} or {"iSCSINames": [...]} (all of ini, one kind) to body. */
static int p3_paths_member(cJSON *body, const struct xc_initiator *ini, size_t n)
{
	cJSON *list;

	if (n == 0)
		return 0;
	list = cJSON_AddArrayToObject(body, ini[0].kind == XC_INITIATOR_FC ? "FCWWNs" : "iSCSINames");
	for (size_t i = 0; list != NULL && i < n; i++) {
		char wwn[24];
		const char *text = ini[i].id;
		if (ini[i].kind == XC_INITIATOR_FC) {
			/* a 3PAR FC path is the port WWN, 16 upper-case hex digits */
			xc_wwn_format(ini[i].wwpn, XC_WWN_PLAIN_UPPER, wwn, sizeof(wwn));
			text = wwn;
		}
		if (!cJSON_AddItemToArray(list, cJSON_CreateString(text)))
			return -1;
	}
	return list == NULL ? -1 : 0;
}

/* Sends a host create (POST) or path addition (PUT) safely against lost answers:
 * an answer that is not a success is still success when the host now holds the
 * initiators sent (an earlier attempt did it). */
static int p3_host_write(struct p3 *p, enum xc_http_method method, const char *path,
			 const cJSON *body, struct p3_host_check *check, const char *what,
			 struct xclone_error *err)
{
	struct xc_http_request req = {.method = method, .path = path};
	struct xc_http_response resp = {0};
	char *text = NULL;
	int confirmed = 0, applied = 0, rc;
	long code;

	if (path == NULL)
		return xclone_error_set(err, XC_E_USAGE, "3PAR/Primera request path too long");
	if ((rc = xc_json_print(body, &text, err)) != 0)
		return rc;
	req.body = text;
	rc = xc_rest_send_checked(p->http, &req, &resp, p3_host_check, check, &confirmed, err);
	free(text);
	if (rc || confirmed) {
		xc_http_response_free(&resp);
		return rc;
	}
	if (resp.status != 200 && resp.status != 201) {
		code = p3_code(&resp);
		if (p3_host_check(check, &applied, err) == 0 && applied)
			rc = 0;
		else if (code == P3_E_EXISTENT_HOST)
			rc = xclone_error_set(err, XC_E_CONFLICT,
					      "3PAR/Primera: a host named %s already exists and holds"
					      " none of these initiators: choose another name",
					      check->name);
		else if (code == P3_E_EXISTENT_PATH)
			rc = p3_fail(p, &resp, err, "an initiator already belongs to another host");
		else
			rc = p3_fail(p, &resp, err, what);
	}
	xc_http_response_free(&resp);
	return rc;
}

/* PUT /api/v1/hosts/<name> {"pathOperation": 1, ...} for the initiators held does not
 * mark, one request per kind (the WSAPI takes FC WWNs and iSCSI names apart). */
static int p3_add_paths(struct p3 *p, const char *name, const struct xc_initiator *ini, size_t n,
			const unsigned char *held, struct xclone_error *err)
{
	static const enum xc_initiator_kind kinds[] = {XC_INITIATOR_FC, XC_INITIATOR_ISCSI};
	struct xc_initiator add[XC_HOST_INITIATORS_MAX];
	struct p3_host_check check = {p, name, add, 0};
	struct xc_strbuf path;
	int rc = 0;

	p3_path(&path, "hosts", name);
	for (size_t k = 0; rc == 0 && k < 2; k++) {
		cJSON *body;
		check.n = p3_pick(ini, n, kinds[k], held, add);
		if (check.n == 0)
			continue;
		body = cJSON_CreateObject();
		if (body == NULL || !cJSON_AddNumberToObject(body, "pathOperation", 1) ||
		    p3_paths_member(body, add, check.n) != 0)
			rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
		else
			rc = p3_host_write(p, XC_HTTP_PUT, xc_sb_str(&path), body, &check,
					   "adding initiators to the host", err);
		cJSON_Delete(body);
	}
	xc_sb_free(&path);
	return rc;
}

/* POST /api/v1/hosts {name, persona 8, FCWWNs | iSCSINames}: one kind per request, so a
 * host with FC ports is created with them and gets its iSCSI names added after. */
static int p3_create_host(struct p3 *p, const char *name, const struct xc_initiator *ini, size_t n,
			  struct xclone_error *err)
{
	struct xc_initiator sent[XC_HOST_INITIATORS_MAX];
	unsigned char done[XC_HOST_INITIATORS_MAX];
	struct p3_host_check check = {p, name, sent, 0};
	enum xc_initiator_kind kind = XC_INITIATOR_ISCSI;
	cJSON *body;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (ini[i].kind == XC_INITIATOR_FC)
			kind = XC_INITIATOR_FC;
	check.n = p3_pick(ini, n, kind, NULL, sent);
	body = cJSON_CreateObject();
	if (body == NULL || !cJSON_AddStringToObject(body, "name", name) ||
	    !cJSON_AddNumberToObject(body, "persona", P3_PERSONA_VMWARE) ||
	    p3_paths_member(body, sent, check.n) != 0) {
		cJSON_Delete(body);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	rc = p3_host_write(p, XC_HTTP_POST, "/api/v1/hosts", body, &check, "creating the host", err);
	cJSON_Delete(body);
	if (rc || check.n == n)
		return rc;
	for (size_t i = 0; i < n; i++)
		done[i] = ini[i].kind == kind;
	return p3_add_paths(p, name, ini, n, done, err);
}

static int p3_list_hosts(struct p3 *p, cJSON **members, struct xclone_error *err)
{
	return p3_get_members(p, "/api/v1/hosts", "listing hosts", members, err);
}

static int p3_ensure_host(void *state, const char *name, const struct xc_initiator *ini, size_t n,
			  struct xc_host_group *out, struct xclone_error *err)
{
	struct p3 *p = state;
	unsigned char held[XC_HOST_INITIATORS_MAX], holder_held[XC_HOST_INITIATORS_MAX] = {0};
	char holders[512] = "", chosen[P3_NAME_MAX + 1];
	const cJSON *h, *holder = NULL;
	cJSON *members = NULL, *final = NULL;
	size_t n_holders = 0, holder_count = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (ini[i].kind != XC_INITIATOR_FC && ini[i].kind != XC_INITIATOR_ISCSI)
			return xclone_error_set(err, XC_E_USAGE,
						"3PAR/Primera: hosts are given FC and iSCSI initiators"
						" here, not %s %s%s",
						xc_initiator_kind_name(ini[i].kind), ini[i].id,
						ini[i].kind == XC_INITIATOR_NVME
							? " (ESXi names NVMe namespaces eui.<NGUID>,"
							  " not by the volume WWN)"
							: "");
	xc_primera3par_object_name(name, P3_NAME_MAX, chosen, sizeof(chosen));
	rc = p3_list_hosts(p, &members, err);
	cJSON_ArrayForEach(h, (rc == 0 ? members : NULL))
	{
		size_t c = p3_host_holds(h, ini, n, held);
		size_t used = strlen(holders);
		if (c == 0)
			continue;
		n_holders++;
		holder = h;
		holder_count = c;
		memcpy(holder_held, held, n);
		snprintf(holders + used, sizeof(holders) - used, "%s%s", used ? ", " : "",
			 xc_json_str(h, "name") ? xc_json_str(h, "name") : "?");
	}
	if (rc == 0 && n_holders > 1)
		rc = xclone_error_set(err, XC_E_CONFLICT,
				      "3PAR/Primera: these initiators are split across hosts %s; an"
				      " initiator belongs to one host, so merge them first",
				      holders);
	else if (rc == 0 && n_holders == 0)
		rc = p3_create_host(p, chosen, ini, n, err);
	else if (rc == 0) {
		rc = xc_copy_field(chosen, sizeof(chosen), xc_json_str(holder, "name"), "host name",
				   err);
		if (rc == 0 && holder_count < n)
			rc = p3_add_paths(p, chosen, ini, n, holder_held, err);
	}
	cJSON_Delete(members);
	/* answer with the host as the array now shows it */
	if (rc == 0)
		rc = p3_get_host(p, chosen, &final, err);
	if (rc == 0 && final == NULL)
		rc = xclone_error_set(err, XC_E_PROTOCOL, "3PAR/Primera: host %s vanished", chosen);
	if (rc == 0)
		rc = p3_group_from_host(final, out, err);
	cJSON_Delete(final);
	return rc;
}

static const cJSON *p3_find_by_name(const cJSON *members, const char *name)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, members)
	{
		const char *n = xc_json_str(m, "name");
		if (n != NULL && strcmp(n, name) == 0)
			return m;
	}
	return NULL;
}

static int p3_hosts(void *state, struct xc_host_list *out, struct xclone_error *err)
{
	struct p3 *p = state;
	cJSON *hosts = NULL, *sets = NULL;
	const cJSON *h, *s, *member;
	int rc = p3_list_hosts(p, &hosts, err);

	cJSON_ArrayForEach(h, (rc == 0 ? hosts : NULL))
	{
		struct xc_host_group g;
		if ((rc = p3_group_from_host(h, &g, err)) || (rc = xc_host_list_add(out, &g, err)))
			break;
	}
	if (rc == 0)
		rc = p3_get_members(p, "/api/v1/hostsets", "listing host sets", &sets, err);
	/* host sets, with the initiators of their member hosts */
	cJSON_ArrayForEach(s, (rc == 0 ? sets : NULL))
	{
		struct xc_host_group g, one;
		if ((rc = xc_host_group_init(&g, xc_json_str(s, "name"), XC_GROUP_HOST_SET, err)))
			break;
		cJSON_ArrayForEach(member, cJSON_GetObjectItemCaseSensitive(s, "setmembers"))
		{
			h = cJSON_IsString(member) ? p3_find_by_name(hosts, member->valuestring) : NULL;
			if (h == NULL || p3_group_from_host(h, &one, NULL) != 0)
				continue;
			for (size_t i = 0; i < one.n_initiators; i++)
				xc_host_group_add_initiator(&g, one.initiators[i]);
		}
		if ((rc = xc_host_list_add(out, &g, err)))
			break;
	}
	cJSON_Delete(sets);
	cJSON_Delete(hosts);
	return rc;
}

/* ---- VLUNs ---- */

/* The name a VLUN gives its target: the host, or "set:<host set>". */
static int p3_vlun_hostname(const struct xc_mapping *t, char *out, size_t size,
			    struct xclone_error *err)
{
	int n = snprintf(out, size, "%s%s", t->kind == XC_GROUP_HOST_SET ? "set:" : "", t->group);

	if (n < 0 || (size_t)n >= size)
		return xclone_error_set(err, XC_E_USAGE, "host name too long");
	return 0;
}

/* GET /api/v1/vluns?query="volumeName EQ <volume>"; *refused when the array answers
 * 400 (a firmware without VLUN queries: the caller lists every VLUN instead). */
static int p3_query_vluns(struct p3 *p, const char *volume, cJSON **members, int *refused,
			  struct xclone_error *err)
{
	struct xc_strbuf path, query;
	struct xclone_error qerr = {0};
	int rc;

	*refused = 0;
	xc_sb_init(&query);
	xc_sb_addf(&query, "\"volumeName EQ %s\"", volume);
	xc_sb_init(&path);
	xc_sb_add(&path, "/api/v1/vluns?query=");
	xc_sb_add_escaped(&path, xc_sb_str(&query) ? xc_sb_str(&query) : "");
	if (query.failed)
		path.failed = 1;
	rc = xc_sb_str(&path) == NULL ? xclone_error_set(&qerr, XC_E_USAGE, "volume name too long")
				       : p3_get_members(p, xc_sb_str(&path), "listing VLUNs", members,
							&qerr);
	xc_sb_free(&path);
	xc_sb_free(&query);
	if (rc && qerr.http_status == 400) {
		*refused = 1;
		return 0;
	}
	if (rc && err != NULL)
		*err = qerr;
	return rc;
}

/* The VLUN templates of a volume (what an export is; active VLUNs, one per live
 * path, derive from them). Queried by volume from 3.2.1 MU2, else all and filtered. */
static int p3_templates(struct p3 *p, const char *volume, cJSON **out, struct xclone_error *err)
{
	cJSON *members = NULL, *m;
	int refused = 0, rc = 0;

	*out = NULL;
	if (p->vlun_query && (rc = p3_query_vluns(p, volume, &members, &refused, err)) != 0)
		return rc;
	if (refused)
		p->vlun_query = 0; /* no use asking again in this session */
	if (!p->vlun_query &&
	    (rc = p3_get_members(p, "/api/v1/vluns", "listing VLUNs", &members, err)) != 0)
		return rc;
	*out = cJSON_CreateArray();
	if (*out == NULL) {
		cJSON_Delete(members);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	while ((m = cJSON_DetachItemFromArray(members, 0)) != NULL) {
		const char *v = xc_json_str(m, "volumeName");
		if (v != NULL && strcmp(v, volume) == 0 && !cJSON_IsTrue(cJSON_GetObjectItem(m, "active")))
			cJSON_AddItemToArray(*out, m);
		else
			cJSON_Delete(m);
	}
	cJSON_Delete(members);
	return 0;
}

static int p3_mappings(void *state, const struct xc_lun *lun, struct xc_mapping_list *out,
		       struct xclone_error *err)
{
	cJSON *templates = NULL;
	const cJSON *t;
	int rc = p3_templates(state, lun->name, &templates, err);

	cJSON_ArrayForEach(t, (rc == 0 ? templates : NULL))
	{
		const char *hostname = xc_json_str(t, "hostname");
		long number = -1;
		xc_json_long(t, "lun", &number);
		if (hostname == NULL || hostname[0] == '\0')
			continue; /* a port export, to every host behind the port: not a host mapping */
		if (strncmp(hostname, "set:", 4) == 0)
			rc = xc_mapping_list_add(out, XC_GROUP_HOST_SET, hostname + 4, number, err);
		else
			rc = xc_mapping_list_add(out, XC_GROUP_HOST, hostname, number, err);
		if (rc)
			break;
	}
	cJSON_Delete(templates);
	return rc;
}

/* The first template exporting volume to hostname: *found, and its LUN. */
static int p3_find_export(struct p3 *p, const char *volume, const char *hostname, int *found,
			  long *lun_id, struct xclone_error *err)
{
	cJSON *templates = NULL;
	const cJSON *t;
	int rc = p3_templates(p, volume, &templates, err);

	*found = 0;
	cJSON_ArrayForEach(t, (rc == 0 ? templates : NULL))
	{
		const char *h = xc_json_str(t, "hostname");
		if (h != NULL && strcmp(h, hostname) == 0) {
			*found = 1;
			if (lun_id != NULL)
				xc_json_long(t, "lun", lun_id);
			break;
		}
	}
	cJSON_Delete(templates);
	return rc;
}

struct p3_map_check {
	struct p3 *p;
	const char *volume;
	const char *hostname;
};

static int p3_map_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct p3_map_check *c = ctx;

	return p3_find_export(c->p, c->volume, c->hostname, applied, NULL, err);
}

/* The LUN of a created VLUN from its Location, /api/v1/vluns/<vol>,<lun>,<host>[,<port>]. */
static long p3_lun_from_location(const struct xc_http_response *resp)
{
	char loc[1024];
	const char *p, *comma;
	char *end;
	long lun;

	if (xc_http_response_header(resp, "Location", loc, sizeof(loc)) != 0 ||
	    (p = strstr(loc, "/vluns/")) == NULL || (comma = strchr(p, ',')) == NULL)
		return -1;
	lun = strtol(comma + 1, &end, 10);
	return end != comma + 1 && *end == ',' && lun >= 0 ? lun : -1;
}

static int p3_map(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		  struct xc_mapping *result, struct xclone_error *err)
{
	struct p3 *p = state;
	char hostname[XC_GROUP_NAME_MAX + 8];
	struct p3_map_check check = {p, lun->name, hostname};
	struct xc_http_request req = {.method = XC_HTTP_POST, .path = "/api/v1/vluns"};
	struct xc_http_response resp = {0};
	cJSON *body = NULL;
	char *text = NULL;
	int confirmed = 0, found = 0, auto_lun = target->lun_id < 0, rc;

	if ((rc = p3_vlun_hostname(target, hostname, sizeof(hostname), err)))
		return rc;
	/* Exported already: the array would make a second export at another LUN. */
	rc = p3_find_export(p, lun->name, hostname, &found, &result->lun_id, err);
	if (rc || found)
		return rc;
	body = cJSON_CreateObject();
	if (body == NULL || !cJSON_AddStringToObject(body, "volumeName", lun->name) ||
	    !cJSON_AddStringToObject(body, "hostname", hostname) ||
	    !cJSON_AddNumberToObject(body, "lun", auto_lun ? 0 : (double)target->lun_id) ||
	    !cJSON_AddBoolToObject(body, "autoLun", auto_lun) ||
	    (auto_lun && !cJSON_AddNumberToObject(body, "maxAutoLun", 0)))
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (rc == 0)
		rc = xc_json_print(body, &text, err);
	cJSON_Delete(body);
	if (rc)
		return rc;
	req.body = text;
	rc = xc_rest_send_checked(p->http, &req, &resp, p3_map_check, &check, &confirmed, err);
	free(text);
	if (rc) {
		xc_http_response_free(&resp);
		return rc;
	}
	if (!confirmed && (resp.status == 201 || resp.status == 200)) {
		result->lun_id = p3_lun_from_location(&resp);
		xc_http_response_free(&resp);
		if (result->lun_id >= 0)
			return 0;
	} else if (!confirmed) {
		/* e.g. 409 EXISTENT_LUN: made by an attempt whose answer we never saw? */
		rc = p3_map_check(&check, &found, err);
		if (rc == 0 && !found)
			rc = p3_fail(p, &resp, err, "exporting the volume");
		xc_http_response_free(&resp);
		if (rc)
			return rc;
	}
	rc = p3_find_export(p, lun->name, hostname, &found, &result->lun_id, err);
	if (rc == 0 && !found)
		rc = xclone_error_set(err, XC_E_REMOTE,
				      "3PAR/Primera: export of %s to %s not listed after exporting",
				      lun->name, hostname);
	return rc;
}

/* DELETE /api/v1/vluns/<volume>,<lun>,<hostname>[,<node>:<slot>:<port>] of one template. */
static int p3_delete_template(struct p3 *p, const char *volume, const char *hostname,
			      const cJSON *t, struct xclone_error *err)
{
	struct xc_http_response resp;
	struct xc_strbuf path;
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(t, "portPos");
	long number = -1, node, slot, card;
	int rc;

	if (xc_json_long(t, "lun", &number) != 0)
		return xclone_error_set(err, XC_E_PROTOCOL, "3PAR/Primera VLUN without a LUN");
	p3_path(&path, "vluns", volume);
	xc_sb_addf(&path, ",%ld,", number);
	xc_sb_add_escaped(&path, hostname);
	/* a matched set (host through one port) is named with its port */
	if (cJSON_IsObject(port) && xc_json_long(port, "node", &node) == 0 &&
	    xc_json_long(port, "slot", &slot) == 0 && xc_json_long(port, "cardPort", &card) == 0) {
		char nsp[64];
		snprintf(nsp, sizeof(nsp), "%ld:%ld:%ld", node, slot, card);
		xc_sb_add(&path, ",");
		xc_sb_add_escaped(&path, nsp);
	}
	rc = p3_send(p, XC_HTTP_DELETE, xc_sb_str(&path), NULL, &resp, err);
	xc_sb_free(&path);
	/* NON_EXISTENT_VLUN: gone already, e.g. a resend whose first answer was lost */
	if (rc == 0 && resp.status != 200 && resp.status != 204 &&
	    !(resp.status == 404 && p3_code(&resp) == P3_E_NON_EXISTENT_VLUN))
		rc = p3_fail(p, &resp, err, "removing the export");
	xc_http_response_free(&resp);
	return rc;
}

static int p3_unmap(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		    struct xclone_error *err)
{
	struct p3 *p = state;
	char hostname[XC_GROUP_NAME_MAX + 8];
	cJSON *templates = NULL;
	const cJSON *t;
	struct xclone_error first = {0};
	int rc, first_rc = 0, left = 0;

	if ((rc = p3_vlun_hostname(target, hostname, sizeof(hostname), err)) ||
	    (rc = p3_templates(p, lun->name, &templates, err)))
		return rc;
	/* every export to that target: at several LUNs or through several ports */
	cJSON_ArrayForEach(t, templates)
	{
		const char *h = xc_json_str(t, "hostname");
		struct xclone_error e;
		if (h == NULL || strcmp(h, hostname) != 0)
			continue;
		rc = p3_delete_template(p, lun->name, hostname, t, &e);
		if (rc && first_rc == 0) {
			first_rc = rc;
			first = e;
		}
	}
	cJSON_Delete(templates);
	if (first_rc == 0)
		return 0;
	/* an error answer may still have left the goal reached */
	if (p3_find_export(p, lun->name, hostname, &left, NULL, err) == 0 && !left)
		return 0;
	if (err != NULL)
		*err = first;
	return first_rc;
}

/* ---- deleting a host ---- */

/* Whether any VLUN (template or active) names host `name`; *volume: the first one's.
 * All VLUNs are listed: a query by host would need 3.2.1 MU2, and this runs once. */
static int p3_host_exported(struct p3 *p, const char *name, int *exported, char *volume,
			    size_t size, struct xclone_error *err)
{
	cJSON *members = NULL;
	const cJSON *v;
	int rc = p3_get_members(p, "/api/v1/vluns", "listing VLUNs", &members, err);

	*exported = 0;
	cJSON_ArrayForEach(v, (rc == 0 ? members : NULL))
	{
		const char *h = xc_json_str(v, "hostname");
		if (h != NULL && strcmp(h, name) == 0) {
			*exported = 1;
			snprintf(volume, size, "%s", xc_json_text(v, "volumeName"));
			break;
		}
	}
	cJSON_Delete(members);
	return rc;
}

/* DELETE /api/v1/hosts/<name>: its FC and iSCSI paths go with it; ensure_host makes
 * no host set. Refused while exported; the array's own 409s (EXPORTED_VLUN,
 * HOST_IN_SET: a set member is someone else's grouping) mean the same. */
static int p3_delete_host(void *state, const struct xc_host_group *g, struct xclone_error *err)
{
	struct p3 *p = state;
	struct xc_http_response resp;
	struct xc_strbuf path;
	char volume[P3_NAME_MAX + 1] = "";
	int exported = 0, rc;

	if (g->kind != XC_GROUP_HOST)
		return xclone_error_set(err, XC_E_USAGE,
					"3PAR/Primera: %s is a host set; xclone makes and deletes"
					" hosts only",
					g->name);
	if ((rc = p3_host_exported(p, g->name, &exported, volume, sizeof(volume), err)))
		return rc;
	if (exported)
		return xclone_error_set(err, XC_E_CONFLICT,
					"3PAR/Primera: host %s still has volume %s exported to it;"
					" not deleted",
					g->name, volume);
	p3_path(&path, "hosts", g->name);
	rc = p3_send(p, XC_HTTP_DELETE, xc_sb_str(&path), NULL, &resp, err);
	xc_sb_free(&path);
	if (rc == 0 && resp.status != 200 && resp.status != 204 &&
	    !(resp.status == 404 && p3_code(&resp) == P3_E_NON_EXISTENT_HOST)) {
		rc = p3_fail(p, &resp, err, "deleting the host");
		if (resp.status == 409)
			rc = xc_array_conflict(err);
	}
	xc_http_response_free(&resp);
	return rc;
}

const struct xc_array_driver xc_driver_primera3par = {
	.product = "primera3par",
	.vendor = "HPE",
	.open = p3_open,
	.info = p3_info,
	.resolve = p3_resolve,
	.ensure_host = p3_ensure_host,
	.hosts = p3_hosts,
	.mappings = p3_mappings,
	.map = p3_map,
	.unmap = p3_unmap,
	.delete_host = p3_delete_host,
	.close = p3_close,
};
