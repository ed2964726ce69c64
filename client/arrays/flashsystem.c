/*
 * IBM FlashSystem / SAN Volume Controller (Storage Virtualize 8.x) driver: the RESTful
 * API that runs CLI commands, POST https://<system>:7443/rest/v1/<command>[/<object>]
 * with the options as a JSON body (/rest/<command> on code levels without v1).
 * Facts and sources: README.md beside this file.
 *
 * A token from POST /rest/v1/auth (X-Auth-Username / X-Auth-Password) is sent as
 * X-Auth-Token; it expires (one hour by default) and the array then answers 403, so
 * a 401 or 403 logs in again once. Failed commands carry the CLI's "CMMVCnnnnE"
 * message, kept as the remote code. Before mapping a volume, volume protection is
 * checked at system *and* pool level: when both are on, the unmap after the copy
 * would be refused, so the map is refused first with a message saying how to proceed.
 */
#define _GNU_SOURCE /* strdup, strcasestr under -std=c17 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vendors.h"

#define FS_PORT 7443
#define FS_UID_DIGITS 32
#define FS_UID_PREFIX "6005076"          /* NAA type 6 + IBM's OUI 005076 */

struct flashsystem {
	struct xc_http *http;
	char *user, *password;
	const char *prefix;              /* "/rest/v1" or "/rest" */
	char system_id[XC_ARRAY_ID_MAX];
};

int xc_flashsystem_naa(const char *uid, char *out, size_t size, struct xclone_error *err)
{
	char lower[FS_UID_DIGITS + 1];

	if (uid == NULL || strlen(uid) != FS_UID_DIGITS)
		return xclone_error_set(err, XC_E_PROTOCOL,
					"FlashSystem vdisk_UID \"%.40s\" is not %d hex digits",
					uid ? uid : "", FS_UID_DIGITS);
	for (size_t i = 0; i <= FS_UID_DIGITS; i++)
		lower[i] = (char)tolower((unsigned char)uid[i]);
	if (strncmp(lower, FS_UID_PREFIX, strlen(FS_UID_PREFIX)) != 0)
		return xclone_error_set(err, XC_E_PROTOCOL,
					"FlashSystem vdisk_UID %.40s does not start with IBM's %s", uid,
					FS_UID_PREFIX);
	return xc_naa_from_hex("", lower, out, size, err);
}

static int all_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * The IBM block CSI driver's volume handle: "SVC:<internal id>;<vdisk_UID>",
 * "SVC:<system id>:<internal id>;<vdisk_UID>", or the legacy "SVC:<vdisk_UID>".
 */
int xc_flashsystem_parse_handle(const char *handle, struct xc_flashsystem_handle *out,
				struct xclone_error *err)
{
	const char *p, *semi, *colon;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (handle == NULL || strncasecmp(handle, "SVC:", 4) != 0)
		goto bad;
	p = handle + 4;
	semi = strchr(p, ';');
	if (semi != NULL) {
		const char *ids = p;
		size_t ids_len = (size_t)(semi - p);
		colon = memchr(ids, ':', ids_len);
		if (colon != NULL) {
			if ((size_t)(colon - ids) >= sizeof(out->system_id) || colon == ids)
				goto bad;
			memcpy(out->system_id, ids, (size_t)(colon - ids));
			ids_len -= (size_t)(colon - ids) + 1;
			ids = colon + 1;
		}
		if (ids_len == 0 || ids_len >= sizeof(out->internal_id) ||
		    strspn(ids, "0123456789") < ids_len)
			goto bad;
		memcpy(out->internal_id, ids, ids_len);
		p = semi + 1;
	}
	len = strlen(p);
	if (len != FS_UID_DIGITS || !all_hex(p, len))
		goto bad;
	memcpy(out->uid, p, len + 1);
	for (char *c = out->uid; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return xclone_error_set(err, XC_E_USAGE,
				"volume handle \"%.120s\" is not SVC:[<system>:]<id>;<vdisk_UID> nor"
				" SVC:<vdisk_UID> (IBM block CSI driver)",
				handle ? handle : "");
}

/* ---- commands ---- */

/* The CLI message of an answer: "CMMVCnnnnE ..." wherever it is in the body (plain
 * text, a JSON string, or an object's "message"); code gets "CMMVCnnnnE" or "". */
static void fs_message(const struct xc_http_response *resp, char *msg, size_t msg_size,
		       char *code, size_t code_size)
{
	const char *body = resp->body ? resp->body : "", *hit;
	size_t len;

	code[0] = '\0';
	snprintf(msg, msg_size, "%.*s", (int)(msg_size - 1), body);
	/* a JSON string or {"message"} around the text: take the text */
	cJSON *j = resp->body_len ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	const char *inner = cJSON_IsString(j) ? j->valuestring : xc_json_str(j, "message");
	if (inner != NULL)
		snprintf(msg, msg_size, "%s", inner);
	cJSON_Delete(j);
	len = strlen(msg);
	while (len > 0 && isspace((unsigned char)msg[len - 1]))
		msg[--len] = '\0';
	for (char *c = msg; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	hit = strstr(msg, "CMMVC");
	if (hit != NULL && strlen(hit) >= 10 && strspn(hit + 5, "0123456789") == 4 &&
	    (hit[9] == 'E' || hit[9] == 'W'))
		snprintf(code, code_size, "%.10s", hit);
}

static int fs_fail(struct flashsystem *f, const struct xc_http_response *resp,
		   struct xclone_error *err, const char *what)
{
	char msg[400], code[16];

	fs_message(resp, msg, sizeof(msg), code, sizeof(code));
	return xc_rest_fail(f->http, err, resp->status, code[0] ? code : NULL, msg[0] ? msg : NULL,
			    "FlashSystem: %s", what);
}

/* Whether a failed answer is the CLI error `code`. */
static int fs_says(const struct xc_http_response *resp, const char *code)
{
	char msg[400], got[16];

	fs_message(resp, msg, sizeof(msg), got, sizeof(got));
	return strcmp(got, code) == 0;
}

/* "<prefix>/<command>[/<escaped object>]" */
static void fs_path(struct xc_strbuf *sb, const struct flashsystem *f, const char *command,
		    const char *object)
{
	xc_sb_init(sb);
	xc_sb_addf(sb, "%s/%s", f->prefix, command);
	if (object != NULL) {
		xc_sb_add(sb, "/");
		xc_sb_add_escaped(sb, object);
	}
}

/* A removing command (rm*): removing twice only fails the second time, so it is safe
 * to resend. The answer is the caller's to judge. */
static int fs_send_rm(struct flashsystem *f, const char *command, const char *object,
		      const char *body, struct xc_http_response *resp, struct xclone_error *err)
{
	struct xc_http_request req = {.method = XC_HTTP_POST, .idempotent = 1, .body = body};
	struct xc_strbuf path;
	int rc;

	fs_path(&path, f, command, object);
	req.path = xc_sb_str(&path);
	if (req.path == NULL)
		rc = xclone_error_set(err, XC_E_USAGE, "FlashSystem request path too long");
	else
		rc = xc_http_send(f->http, &req, resp, err);
	xc_sb_free(&path);
	return rc;
}

/* A read command (ls*, idempotent): 200 and JSON into *out. */
static int fs_ls(struct flashsystem *f, const char *command, const char *object, const char *body,
		 const char *what, cJSON **out, struct xclone_error *err)
{
	struct xc_http_request req = {.method = XC_HTTP_POST, .idempotent = 1};
	struct xc_http_response resp = {0};
	struct xc_strbuf path;
	int rc;

	*out = NULL;
	fs_path(&path, f, command, object);
	req.path = xc_sb_str(&path);
	req.body = body ? body : "{}";
	if (req.path == NULL)
		rc = xclone_error_set(err, XC_E_USAGE, "FlashSystem request path too long");
	else
		rc = xc_http_send(f->http, &req, &resp, err);
	xc_sb_free(&path);
	if (rc == 0 && resp.status != 200)
		rc = fs_fail(f, &resp, err, what);
	if (rc == 0)
		rc = xc_rest_json(&resp, out, err);
	xc_http_response_free(&resp);
	return rc;
}

/* A body of options built with cJSON (values escaped): {"filtervalue": "<k>=<v>", ...}. */
static int fs_filter_body(const char *key, const char *value, int bytes, char **out,
			  struct xclone_error *err)
{
	cJSON *b = cJSON_CreateObject();
	char filter[XC_ARRAY_NAME_MAX + 64];
	int rc = 0;

	snprintf(filter, sizeof(filter), "%s=%s", key, value);
	if (b == NULL || !cJSON_AddStringToObject(b, "filtervalue", filter) ||
	    (bytes && !cJSON_AddTrueToObject(b, "bytes")))
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (rc == 0)
		rc = xc_json_print(b, out, err);
	cJSON_Delete(b);
	return rc;
}

/* ---- login ---- */

/* POST <prefix>/auth with the X-Auth headers; *status gets the HTTP status. */
static int fs_auth(struct flashsystem *f, long *status, char *token, size_t size,
		   struct xclone_error *err)
{
	struct xc_http_request req = {.method = XC_HTTP_POST, .no_relogin = 1, .idempotent = 1};
	struct xc_http_response resp = {0};
	char path[32], user[XC_SECRET_VALUE_MAX + 32], pass[XC_SECRET_VALUE_MAX + 32];
	const char *headers[2] = {user, pass};
	cJSON *out = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/auth", f->prefix);
	snprintf(user, sizeof(user), "X-Auth-Username: %s", f->user);
	snprintf(pass, sizeof(pass), "X-Auth-Password: %s", f->password);
	req.path = path;
	req.headers = headers;
	req.n_headers = 2;
	rc = xc_http_send(f->http, &req, &resp, err);
	for (volatile char *p = pass; *p; p++)
		*p = '\0';
	*status = resp.status;
	if (rc == 0 && resp.status == 200 && (rc = xc_rest_json(&resp, &out, err)) == 0 &&
	    xc_json_copy(out, "token", token, size) != 0)
		rc = xclone_error_set(err, XC_E_PROTOCOL, "FlashSystem auth answer has no token");
	else if (rc == 0 && resp.status != 200 && resp.status != 404) {
		rc = fs_fail(f, &resp, err, "login refused: check STORAGE_USERNAME/STORAGE_PASSWORD");
		if (resp.status == 401 || resp.status == 403) {
			rc = XC_E_AUTH;
			if (err != NULL)
				err->code = XC_E_AUTH;
		}
	}
	cJSON_Delete(out);
	xc_http_response_free(&resp);
	return rc;
}

/* A new token (each auth invalidates the user's previous one on the array). */
static int fs_login(void *ctx, struct xclone_error *err)
{
	struct flashsystem *f = ctx;
	char token[256] = "";
	long status = 0;
	int rc;

	xc_http_set_header(f->http, "X-Auth-Token", NULL, NULL);
	rc = fs_auth(f, &status, token, sizeof(token), err);
	if (rc == 0 && status == 404 && strcmp(f->prefix, "/rest/v1") == 0) {
		/* code levels before /rest/v1 answer the same commands under /rest */
		f->prefix = "/rest";
		rc = fs_auth(f, &status, token, sizeof(token), err);
	}
	if (rc == 0 && status != 200)
		rc = xclone_error_set(err, XC_E_REMOTE, "FlashSystem: no REST API at /rest/v1/auth"
					" nor /rest/auth (HTTP %ld): is it port %d of the system?",
					status, FS_PORT);
	if (rc == 0)
		rc = xc_http_set_header(f->http, "X-Auth-Token", token, err);
	for (volatile char *p = token; *p; p++)
		*p = '\0';
	return rc;
}

/* An expired token is 403 (IBM's 8.4.1 page); 401 is taken the same way. */
static int fs_expired(void *ctx, const struct xc_http_response *resp)
{
	(void)ctx;
	return resp->status == 401 || resp->status == 403;
}

/* ---- open, info ---- */

static int fs_read_system(struct flashsystem *f, struct xc_array_info *info,
			  struct xclone_error *err)
{
	cJSON *sys = NULL;
	int rc = fs_ls(f, "lssystem", NULL, NULL, "reading the system", &sys, err);

	if (rc == 0)
		rc = xc_copy_field(f->system_id, sizeof(f->system_id), xc_json_str(sys, "id"),
				   "system id", err);
	if (rc == 0 && info != NULL) {
		const char *name = xc_json_str(sys, "name"), *product = xc_json_str(sys, "product_name");
		const char *level = xc_json_str(sys, "code_level");
		snprintf(info->vendor, sizeof(info->vendor), "IBM");
		snprintf(info->name, sizeof(info->name), "%s", name ? name : "");
		snprintf(info->model, sizeof(info->model), "%s", product ? product : "");
		snprintf(info->version, sizeof(info->version), "%s", level ? level : "");
		snprintf(info->array_id, sizeof(info->array_id), "%s", f->system_id);
		snprintf(info->api_version, sizeof(info->api_version), "%s", f->prefix);
	}
	cJSON_Delete(sys);
	return rc;
}

static void fs_close(void *state)
{
	struct flashsystem *f = state;

	if (f == NULL)
		return;
	xc_wipe_free(f->user);
	xc_wipe_free(f->password);
	free(f);
}

/* The credentials travel in X-Auth-* headers: a control character (a line break)
 * would end the header and start another, so it is refused, never sent. */
static int header_safe(const char *key, const char *value, struct xclone_error *err)
{
	for (const unsigned char *c = (const unsigned char *)value; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return xclone_error_set(err, XC_E_CONFIG,
						"secret key %s holds a control character (a line"
						" break?), which the X-Auth headers of FlashSystem's"
						" login cannot carry",
						key);
	return 0;
}

static int fs_open(const struct xc_array_session *s, void **state, struct xclone_error *err)
{
	struct flashsystem *f = calloc(1, sizeof(*f));
	const char *user, *password;
	int rc;

	*state = NULL;
	if (f == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	f->http = s->http;
	f->prefix = "/rest/v1";
	if ((rc = xc_secret_require(s->secret, "STORAGE_USERNAME", &user, err)) ||
	    (rc = xc_secret_require(s->secret, "STORAGE_PASSWORD", &password, err)) ||
	    (rc = header_safe("STORAGE_USERNAME", user, err)) ||
	    (rc = header_safe("STORAGE_PASSWORD", password, err))) {
		fs_close(f);
		return rc;
	}
	f->user = strdup(user);
	f->password = strdup(password);
	if (f->user == NULL || f->password == NULL)
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (rc == 0)
		rc = fs_login(f, err);
	if (rc == 0) {
		xc_http_set_relogin(f->http, fs_login, fs_expired, f);
		rc = fs_read_system(f, NULL, err);
	}
	if (rc) {
		fs_close(f);
		return rc;
	}
	*state = f;
	return 0;
}

static int fs_info(void *state, struct xc_array_info *out, struct xclone_error *err)
{
	return fs_read_system(state, out, err);
}

/* ---- volumes ---- */

/* Spectrum Virtualize names: letters, digits, '_', '.', '-' (never a filter pattern). */
static int plain_name(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= 63 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					       "0123456789_.-") == len;
}

/* lsvdisk -filtervalue <key>=<value> -bytes: *found 0 when no vdisk matches. */
static int fs_vdisk_by(struct flashsystem *f, const char *key, const char *value,
		       struct xc_lun *out, int *found, struct xclone_error *err)
{
	cJSON *list = NULL;
	char *body = NULL;
	const cJSON *v;
	int rc = fs_filter_body(key, value, 1, &body, err);

	*found = 0;
	if (rc == 0)
		rc = fs_ls(f, "lsvdisk", NULL, body, "looking up the volume", &list, err);
	free(body);
	if (rc)
		return rc;
	if (cJSON_GetArraySize(list) > 1) {
		rc = xclone_error_set(err, XC_E_CONFLICT, "FlashSystem: %d volumes have %s=%.100s",
				      cJSON_GetArraySize(list), key, value);
	} else if ((v = cJSON_GetArrayItem(list, 0)) != NULL) {
		const char *cap = xc_json_str(v, "capacity");
		char *end = NULL;
		if ((rc = xc_copy_field(out->name, sizeof(out->name), xc_json_str(v, "name"),
					"volume name", err)) ||
		    (rc = xc_copy_field(out->id, sizeof(out->id), xc_json_str(v, "id"), "volume id",
					err)) ||
		    (rc = xc_copy_field(out->serial, sizeof(out->serial), xc_json_str(v, "vdisk_UID"),
					"vdisk_UID", err)) ||
		    (rc = xc_flashsystem_naa(out->serial, out->naa, sizeof(out->naa), err))) {
			cJSON_Delete(list);
			return rc;
		}
		out->size_bytes = cap ? strtoull(cap, &end, 10) : 0;
		if (cap == NULL || end == cap || *end != '\0')
			rc = xclone_error_set(err, XC_E_PROTOCOL,
					      "FlashSystem volume %s has no capacity in bytes", out->name);
		snprintf(out->array_id, sizeof(out->array_id), "%s", f->system_id);
		*found = rc == 0;
	}
	cJSON_Delete(list);
	return rc;
}

/*
 * By the CSI volume handle's vdisk_UID (either form); else the attribute volume_name,
 * else the PV name. A handle's internal id must be the vdisk found by UID.
 */
static int fs_resolve(void *state, const struct xc_pv *pv, struct xc_lun *out,
		      struct xclone_error *err)
{
	struct flashsystem *f = state;
	struct xc_flashsystem_handle h;
	struct xclone_error ignored;
	const char *name = xc_pv_attr(pv, "volume_name");
	int found = 0, rc;

	if (pv->volume_handle != NULL &&
	    xc_flashsystem_parse_handle(pv->volume_handle, &h, &ignored) == 0) {
		rc = fs_vdisk_by(f, "vdisk_UID", h.uid, out, &found, err);
		if (rc)
			return rc;
		if (found && h.internal_id[0] != '\0' && strcmp(h.internal_id, out->id) != 0)
			return xclone_error_set(err, XC_E_NOT_FOUND,
						"FlashSystem: vdisk_UID %s is volume %s, not %s as PV"
						" %.100s says",
						h.uid, out->id, h.internal_id, pv->name);
		if (found)
			return 0;
	}
	if (name == NULL || name[0] == '\0')
		name = pv->name;
	if (plain_name(name)) {
		rc = fs_vdisk_by(f, "name", name, out, &found, err);
		if (rc || found)
			return rc;
	}
	return xclone_error_set(err, XC_E_NOT_FOUND,
				"FlashSystem has no volume for PV %.100s (looked for its vdisk_UID"
				" and the name %.100s)",
				pv->name, name);
}

/* ---- hosts ---- */

/* Every host in detail (lshost, then lshost <id> for its ports); *hosts new array. */
static int fs_list_hosts(struct flashsystem *f, const char *name, cJSON **hosts,
			 struct xclone_error *err)
{
	cJSON *list = NULL;
	const cJSON *h;
	char *body = NULL;
	int rc = 0;

	*hosts = NULL;
	if (name != NULL)
		rc = fs_filter_body("name", name, 0, &body, err);
	if (rc == 0)
		rc = fs_ls(f, "lshost", NULL, body, "listing hosts", &list, err);
	free(body);
	if (rc)
		return rc;
	if ((*hosts = cJSON_CreateArray()) == NULL) {
		cJSON_Delete(list);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	cJSON_ArrayForEach(h, list)
	{
		cJSON *detail = NULL;
		const char *id = xc_json_str(h, "id");
		if (name != NULL && (xc_json_str(h, "name") == NULL || strcmp(xc_json_str(h, "name"), name)))
			continue;
		if (id == NULL || (rc = fs_ls(f, "lshost", id, NULL, "reading a host", &detail, err)))
			break;
		cJSON_AddItemToArray(*hosts, detail);
	}
	cJSON_Delete(list);
	if (rc) {
		cJSON_Delete(*hosts);
		*hosts = NULL;
	}
	return rc;
}

/* The port text of a host's "nodes" entry. */
static const char *node_port(const cJSON *node)
{
	const char *w = xc_json_str(node, "WWPN");

	return w ? w : xc_json_str(node, "iscsi_name");
}

static size_t fs_host_holds(const cJSON *host, const struct xc_initiator *ini, size_t n,
			    unsigned char *held)
{
	const cJSON *node;
	size_t count = 0;

	memset(held, 0, n);
	cJSON_ArrayForEach(node, cJSON_GetObjectItemCaseSensitive(host, "nodes"))
		for (size_t i = 0; i < n; i++)
			if (!held[i] && node_port(node) && xc_initiator_matches(&ini[i], node_port(node)))
				held[i] = 1;
	for (size_t i = 0; i < n; i++)
		count += held[i];
	return count;
}

static int fs_group_from(const cJSON *host, struct xc_host_group *out, struct xclone_error *err)
{
	const cJSON *node;
	int rc = xc_host_group_init(out, xc_json_str(host, "name"), XC_GROUP_HOST, err);

	cJSON_ArrayForEach(node, cJSON_GetObjectItemCaseSensitive(host, "nodes"))
		if (rc == 0 && node_port(node) != NULL)
			xc_host_group_add_initiator(out, node_port(node));
	return rc;
}

/* {"fcwwpn": "W1:W2"} or {"iscsiname": "a,b"} for the initiators of one kind not held,
 * plus extra options. NULL *out when there are none of that kind. */
static int fs_ports_body(enum xc_initiator_kind kind, const struct xc_initiator *ini, size_t n,
			 const unsigned char *held, const char *name, const char *protocol,
			 char **out, struct xclone_error *err)
{
	struct xc_strbuf list;
	cJSON *b;
	int rc = 0;

	*out = NULL;
	xc_sb_init(&list);
	for (size_t i = 0; i < n; i++) {
		char wwn[24];
		if (ini[i].kind != kind || (held && held[i]))
			continue;
		if (list.len > 0)
			xc_sb_add(&list, kind == XC_INITIATOR_FC ? ":" : ",");
		if (kind == XC_INITIATOR_FC) {
			xc_wwn_format(ini[i].wwpn, XC_WWN_PLAIN_UPPER, wwn, sizeof(wwn));
			xc_sb_add(&list, wwn);
		} else {
			xc_sb_add(&list, ini[i].id);
		}
	}
	if (list.len == 0 || xc_sb_str(&list) == NULL) {
		xc_sb_free(&list);
		return list.failed ? xclone_error_set(err, XC_E_USAGE, "too many initiators") : 0;
	}
	b = cJSON_CreateObject();
	if (b == NULL ||
	    !cJSON_AddStringToObject(b, kind == XC_INITIATOR_FC ? "fcwwpn" : "iscsiname",
				     xc_sb_str(&list)) ||
	    (name && !cJSON_AddStringToObject(b, "name", name)) ||
	    (protocol && !cJSON_AddStringToObject(b, "protocol", protocol)) ||
	    (name && !cJSON_AddStringToObject(b, "type", "generic")) ||
	    /* -force: FC ports that have not logged in yet; addhostport takes it for both */
	    ((kind == XC_INITIATOR_FC || name == NULL) && !cJSON_AddTrueToObject(b, "force")))
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (rc == 0)
		rc = xc_json_print(b, out, err);
	cJSON_Delete(b);
	xc_sb_free(&list);
	return rc;
}

struct fs_host_check {
	struct flashsystem *f;
	const char *name;
	const struct xc_initiator *ini;
	size_t n;
	enum xc_initiator_kind kind;
};

/* After a lost mkhost / addhostport: does host `name` hold every initiator of kind? */
static int fs_host_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct fs_host_check *c = ctx;
	unsigned char held[XC_HOST_INITIATORS_MAX];
	cJSON *hosts = NULL;
	int rc = fs_list_hosts(c->f, c->name, &hosts, err);

	*applied = 0;
	if (rc == 0 && cJSON_GetArraySize(hosts) == 1) {
		fs_host_holds(cJSON_GetArrayItem(hosts, 0), c->ini, c->n, held);
		*applied = 1;
		for (size_t i = 0; i < c->n; i++)
			if (c->ini[i].kind == c->kind && !held[i])
				*applied = 0;
	}
	cJSON_Delete(hosts);
	return rc;
}

/* mkhost or addhostport for the initiators of one kind, safely against lost answers. */
static int fs_host_write(struct flashsystem *f, const char *command, const char *object,
			 const char *body, struct fs_host_check *check, const char *already,
			 const char *what, struct xclone_error *err)
{
	struct xc_http_request req = {.method = XC_HTTP_POST, .body = body};
	struct xc_http_response resp = {0};
	struct xc_strbuf path;
	int confirmed = 0, applied = 0, rc;

	fs_path(&path, f, command, object);
	req.path = xc_sb_str(&path);
	if (req.path == NULL)
		rc = xclone_error_set(err, XC_E_USAGE, "FlashSystem request path too long");
	else
		rc = xc_rest_send_checked(f->http, &req, &resp, fs_host_check, check, &confirmed, err);
	xc_sb_free(&path);
	if (rc == 0 && !confirmed && resp.status != 200) {
		if (fs_says(&resp, already) && fs_host_check(check, &applied, err) == 0 && applied)
			rc = 0; /* done by an attempt whose answer was lost */
		else if (strcmp(command, "mkhost") == 0 && fs_says(&resp, "CMMVC6035E"))
			rc = xclone_error_set(err, XC_E_CONFLICT,
					      "FlashSystem: a host named %s already exists and holds"
					      " none of these initiators: choose another name",
					      check->name);
		else
			rc = fs_fail(f, &resp, err, what);
	}
	if (!confirmed)
		xc_http_response_free(&resp);
	return rc;
}

/* Creates host `name`: with its FC ports if it has any (mkhost cannot take FC and
 * iSCSI ports together), then the iSCSI names with addhostport. */
static int fs_create_host(struct flashsystem *f, const char *name, const struct xc_initiator *ini,
			  size_t n, struct xclone_error *err)
{
	int fc = 0, iscsi = 0, rc;
	char *body = NULL;

	for (size_t i = 0; i < n; i++) {
		fc |= ini[i].kind == XC_INITIATOR_FC;
		iscsi |= ini[i].kind == XC_INITIATOR_ISCSI;
	}
	/* "scsi" (the older protocol name, deprecated) is the one that takes both kinds */
	enum xc_initiator_kind first = fc ? XC_INITIATOR_FC : XC_INITIATOR_ISCSI;
	struct fs_host_check check = {f, name, ini, n, first};
	rc = fs_ports_body(first, ini, n, NULL, name, fc && iscsi ? "scsi" : (fc ? "fcscsi" : "iscsi"),
			   &body, err);
	if (rc == 0)
		rc = fs_host_write(f, "mkhost", NULL, body, &check, "CMMVC6035E", "creating the host",
				   err);
	free(body);
	if (rc == 0 && fc && iscsi) {
		check.kind = XC_INITIATOR_ISCSI;
		rc = fs_ports_body(XC_INITIATOR_ISCSI, ini, n, NULL, NULL, NULL, &body, err);
		if (rc == 0)
			rc = fs_host_write(f, "addhostport", name, body, &check, "CMMVC6581E",
					   "adding iSCSI names to the host", err);
		free(body);
	}
	return rc;
}

/* A Storage Virtualize port belongs to one host: reuse, complete, create, or conflict. */
static int fs_ensure_host(void *state, const char *name, const struct xc_initiator *ini, size_t n,
			  struct xc_host_group *out, struct xclone_error *err)
{
	struct flashsystem *f = state;
	unsigned char held[XC_HOST_INITIATORS_MAX], have[XC_HOST_INITIATORS_MAX] = {0};
	char holders[512] = "", host[XC_GROUP_NAME_MAX];
	cJSON *hosts = NULL, *final = NULL;
	const cJSON *h, *holder = NULL;
	size_t n_holders = 0, count = 0;
	int rc = fs_list_hosts(f, NULL, &hosts, err);

	if (rc)
		return rc;
	cJSON_ArrayForEach(h, hosts)
	{
		size_t c = fs_host_holds(h, ini, n, held);
		if (c == 0)
			continue;
		n_holders++;
		holder = h;
		count = c;
		memcpy(have, held, n);
		size_t used = strlen(holders);
		snprintf(holders + used, sizeof(holders) - used, "%s%s", used ? ", " : "",
			 xc_json_str(h, "name") ? xc_json_str(h, "name") : "?");
	}
	if (n_holders > 1) {
		rc = xclone_error_set(err, XC_E_CONFLICT,
				      "FlashSystem: these initiators belong to hosts %s; a port belongs"
				      " to one host, so merge them first",
				      holders);
	} else if (n_holders == 0) {
		snprintf(host, sizeof(host), "%s", name);
		rc = fs_create_host(f, name, ini, n, err);
	} else {
		rc = xc_copy_field(host, sizeof(host), xc_json_str(holder, "name"), "host name", err);
		for (int k = 0; rc == 0 && count < n && k < 2; k++) {
			enum xc_initiator_kind kind = k == 0 ? XC_INITIATOR_FC : XC_INITIATOR_ISCSI;
			struct fs_host_check check = {f, host, ini, n, kind};
			char *body = NULL;
			rc = fs_ports_body(kind, ini, n, have, NULL, NULL, &body, err);
			if (rc == 0 && body != NULL)
				rc = fs_host_write(f, "addhostport", host, body, &check, "CMMVC6581E",
						   "adding ports to the host", err);
			free(body);
		}
	}
	cJSON_Delete(hosts);
	if (rc)
		return rc;
	rc = fs_list_hosts(f, host, &final, err);
	if (rc == 0 && cJSON_GetArraySize(final) != 1)
		rc = xclone_error_set(err, XC_E_PROTOCOL, "FlashSystem: host %s vanished", host);
	if (rc == 0)
		rc = fs_group_from(cJSON_GetArrayItem(final, 0), out, err);
	cJSON_Delete(final);
	return rc;
}

static int fs_hosts(void *state, struct xc_host_list *out, struct xclone_error *err)
{
	cJSON *hosts = NULL;
	const cJSON *h;
	int rc = fs_list_hosts(state, NULL, &hosts, err);

	cJSON_ArrayForEach(h, (rc == 0 ? hosts : NULL))
	{
		struct xc_host_group g;
		if ((rc = fs_group_from(h, &g, err)) || (rc = xc_host_list_add(out, &g, err)))
			break;
	}
	cJSON_Delete(hosts);
	return rc;
}

/* ---- mappings ---- */

static int fs_mappings(void *state, const struct xc_lun *lun, struct xc_mapping_list *out,
		       struct xclone_error *err)
{
	struct flashsystem *f = state;
	cJSON *maps = NULL;
	const cJSON *m;
	int rc = xc_rest_numeric_id(lun->id, "FlashSystem", "vdisk", err);

	if (rc == 0)
		rc = fs_ls(f, "lsvdiskhostmap", lun->id, NULL, "listing the volume's mappings", &maps,
			   err);
	cJSON_ArrayForEach(m, (rc == 0 ? maps : NULL))
	{
		const char *host = xc_json_str(m, "host_name"), *scsi = xc_json_str(m, "SCSI_id");
		long n = scsi && isdigit((unsigned char)scsi[0]) ? strtol(scsi, NULL, 10) : -1;
		if (host != NULL && xc_mapping_list_find(out, XC_GROUP_HOST, host) == NULL &&
		    (rc = xc_mapping_list_add(out, XC_GROUP_HOST, host, n, err)))
			break;
	}
	cJSON_Delete(maps);
	return rc;
}

/* The target host's SCSI id for the volume, -1 when not mapped. */
static int fs_find_mapping(struct flashsystem *f, const struct xc_lun *lun, const char *host,
			   long *scsi, struct xclone_error *err)
{
	struct xc_mapping_list now = {0};
	const struct xc_mapping *m;
	int rc = fs_mappings(f, lun, &now, err);

	*scsi = -1;
	if (rc == 0 && (m = xc_mapping_list_find(&now, XC_GROUP_HOST, host)) != NULL)
		*scsi = m->lun_id;
	xc_mapping_list_free(&now);
	return rc;
}

/* Whether one pool (id or name) has volume protection on. */
static int pool_protected(struct flashsystem *f, const char *pool, int *on, char *name,
			  size_t size, struct xclone_error *err)
{
	cJSON *p = NULL;
	const char *enabled;
	int rc = fs_ls(f, "lsmdiskgrp", pool, NULL, "reading the volume's pool", &p, err);

	if (rc == 0) {
		enabled = xc_json_str(p, "vdisk_protection_enabled");
		*on = enabled == NULL || strcmp(enabled, "no") != 0;
		snprintf(name, size, "%s", xc_json_str(p, "name") ? xc_json_str(p, "name") : pool);
	}
	cJSON_Delete(p);
	return rc;
}

/*
 * Volume protection blocks rmvdiskhostmap after recent I/O when it is enabled on the
 * system *and* on the volume's pool (every pool of a mirrored volume's copies). The
 * copy is I/O: refuse now, before anything is mapped, rather than fail the unmap.
 */
static int fs_check_protection(struct flashsystem *f, const struct xc_lun *lun, int refused,
			       struct xclone_error *err)
{
	cJSON *sys = NULL, *vd = NULL, *copies = NULL;
	const char *sys_on, *minutes, *pool;
	char pool_name[128] = "";
	int on = 0, rc = fs_ls(f, "lssystem", NULL, NULL, "reading the system", &sys, err);

	if (rc)
		return rc;
	sys_on = xc_json_str(sys, "vdisk_protection_enabled");
	minutes = xc_json_str(sys, "vdisk_protection_time");
	if (sys_on == NULL || strcmp(sys_on, "yes") != 0)
		goto done; /* off at system level: off for every pool */
	if ((rc = fs_ls(f, "lsvdisk", lun->id, NULL, "reading the volume", &vd, err)))
		goto done;
	pool = xc_json_str(vd, "mdisk_grp_id");
	if (pool != NULL && strcmp(pool, "many") != 0) {
		rc = pool_protected(f, pool, &on, pool_name, sizeof(pool_name), err);
	} else {
		/* a mirrored volume: its copies' pools */
		const cJSON *c;
		rc = fs_ls(f, "lsvdiskcopy", lun->id, NULL, "reading the volume's copies", &copies, err);
		cJSON_ArrayForEach(c, (rc == 0 ? copies : NULL))
		{
			const char *p = xc_json_str(c, "mdisk_grp_id");
			if (p != NULL && (rc = pool_protected(f, p, &on, pool_name, sizeof(pool_name),
							      err)) == 0 && on)
				break;
		}
	}
	if (rc == 0 && on)
		rc = xclone_error_set(err, XC_E_CONFLICT,
				      "FlashSystem: volume protection is on for volume %s (system"
				      " setting and pool %s both enabled, %s minutes): %s. Turn it off"
				      " for the pool (chmdiskgrp -vdiskprotectionenabled no %s) or the"
				      " system (chsystem -vdiskprotectionenabled no), as IBM's CSI"
				      " documentation for VMs requires",
				      lun->name, pool_name, minutes ? minutes : "?",
				      refused ? "the array refuses to unmap it until that long after"
						" its last I/O"
					      : "after the copy the array would refuse to unmap it",
				      pool_name);
done:
	cJSON_Delete(sys);
	cJSON_Delete(vd);
	cJSON_Delete(copies);
	return rc;
}

struct fs_map_check {
	struct flashsystem *f;
	const struct xc_lun *lun;
	const char *host;
};

static int fs_map_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct fs_map_check *c = ctx;
	long scsi = -1;
	int rc = fs_find_mapping(c->f, c->lun, c->host, &scsi, err);

	*applied = rc == 0 && scsi >= 0;
	return rc;
}

static int fs_map(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		  struct xc_mapping *result, struct xclone_error *err)
{
	struct flashsystem *f = state;
	struct fs_map_check check = {f, lun, target->group};
	struct xc_http_request req = {.method = XC_HTTP_POST};
	struct xc_http_response resp = {0};
	struct xc_strbuf path;
	cJSON *body = NULL;
	char *text = NULL;
	long scsi = -1;
	int confirmed = 0, rc = xc_rest_numeric_id(lun->id, "FlashSystem", "vdisk", err);

	if (rc == 0 && target->kind != XC_GROUP_HOST)
		rc = xclone_error_set(err, XC_E_USAGE, "FlashSystem: map to a host, not a host set");
	if (rc == 0)
		rc = fs_find_mapping(f, lun, target->group, &scsi, err);
	if (rc || scsi >= 0) {
		result->lun_id = scsi;
		return rc;
	}
	if ((rc = fs_check_protection(f, lun, 0, err)))
		return rc;
	/* force: the volume may be mapped to other hosts (the k8s node) already */
	body = cJSON_CreateObject();
	if (body == NULL || !cJSON_AddStringToObject(body, "host", target->group) ||
	    !cJSON_AddTrueToObject(body, "force") ||
	    (target->lun_id >= 0 && !cJSON_AddNumberToObject(body, "scsi", (double)target->lun_id)))
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (rc == 0)
		rc = xc_json_print(body, &text, err);
	cJSON_Delete(body);
	fs_path(&path, f, "mkvdiskhostmap", lun->id);
	req.path = xc_sb_str(&path);
	req.body = text;
	if (rc == 0)
		rc = xc_rest_send_checked(f->http, &req, &resp, fs_map_check, &check, &confirmed, err);
	xc_sb_free(&path);
	free(text);
	if (rc == 0 && !confirmed && resp.status != 200 && !fs_says(&resp, "CMMVC5878E"))
		rc = fs_fail(f, &resp, err, "mapping the volume");
	if (!confirmed)
		xc_http_response_free(&resp);
	if (rc == 0)
		rc = fs_find_mapping(f, lun, target->group, &scsi, err);
	if (rc == 0 && scsi < 0)
		rc = xclone_error_set(err, XC_E_REMOTE,
				      "FlashSystem: volume %s not mapped to %s after mapping it",
				      lun->name, target->group);
	result->lun_id = scsi;
	return rc;
}

static int fs_unmap(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		    struct xclone_error *err)
{
	struct flashsystem *f = state;
	struct xc_http_response resp = {0};
	cJSON *body;
	char *text = NULL;
	long scsi = -1;
	int rc = xc_rest_numeric_id(lun->id, "FlashSystem", "vdisk", err);

	if (rc == 0)
		rc = fs_find_mapping(f, lun, target->group, &scsi, err);
	if (rc || scsi < 0)
		return rc;
	body = cJSON_CreateObject();
	if (body == NULL || !cJSON_AddStringToObject(body, "host", target->group))
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (rc == 0)
		rc = xc_json_print(body, &text, err);
	cJSON_Delete(body);
	if (rc == 0)
		rc = fs_send_rm(f, "rmvdiskhostmap", lun->id, text, &resp, err);
	free(text);
	if (rc == 0 && resp.status != 200) {
		struct xclone_error first;
		rc = fs_fail(f, &resp, &first, "unmapping the volume");
		/* "not mapped" (a resend after a lost answer): check, then it is the goal */
		if (fs_find_mapping(f, lun, target->group, &scsi, err) == 0 && scsi < 0)
			rc = 0;
		else if (fs_check_protection(f, lun, 1, err) == XC_E_CONFLICT)
			rc = XC_E_CONFLICT; /* err says why: volume protection */
		else if (err != NULL)
			*err = first;
	}
	xc_http_response_free(&resp);
	return rc;
}

/* ---- deleting a host ---- */

/* How many volumes host `name` has mapped (lshostvdiskmap); -1 when the host is gone. */
static int fs_host_maps(struct flashsystem *f, const char *name, int *count,
			struct xclone_error *err)
{
	cJSON *hosts = NULL, *maps = NULL;
	int rc = fs_list_hosts(f, name, &hosts, err);

	*count = -1;
	if (rc == 0 && cJSON_GetArraySize(hosts) > 0) {
		rc = fs_ls(f, "lshostvdiskmap", xc_json_str(cJSON_GetArrayItem(hosts, 0), "id"), NULL,
			   "listing the host's mappings", &maps, err);
		if (rc == 0)
			*count = cJSON_GetArraySize(maps);
	}
	cJSON_Delete(hosts);
	cJSON_Delete(maps);
	return rc;
}

/*
 * rmhost <name>: the host goes with its ports, which ensure_host gave it. Never
 * -force, which would remove its mappings too: a mapped host is refused here, and
 * the array's own refusal (CMMVC5871E, a port in a mapping) means the same.
 */
static int fs_delete_host(void *state, const struct xc_host_group *g, struct xclone_error *err)
{
	struct flashsystem *f = state;
	struct xc_http_response resp = {0};
	int maps, rc = fs_host_maps(f, g->name, &maps, err);

	if (rc || maps < 0)
		return rc; /* gone already */
	if (maps > 0)
		return xclone_error_set(err, XC_E_CONFLICT,
					"FlashSystem: host %s still has %d volume%s mapped; not deleted",
					g->name, maps, maps == 1 ? "" : "s");
	rc = fs_send_rm(f, "rmhost", g->name, "{}", &resp, err);
	if (rc == 0 && resp.status != 200) {
		struct xclone_error first;
		int mapped_now = fs_says(&resp, "CMMVC5871E");
		rc = fs_fail(f, &resp, &first, "deleting the host");
		if (mapped_now) {
			rc = xc_array_conflict(&first);
		} else if (fs_host_maps(f, g->name, &maps, err) == 0 && maps < 0) {
			rc = 0; /* "does not exist": a resend after a lost answer */
		}
		if (rc && err != NULL)
			*err = first;
	}
	xc_http_response_free(&resp);
	return rc;
}

const struct xc_array_driver xc_driver_flashsystem = {
	.product = "flashsystem",
	.vendor = "IBM",
	.default_port = FS_PORT,
	/* NVMe hosts see namespaces as eui. devices, which this driver does not map */
	.initiator_kinds = (1u << XC_INITIATOR_ISCSI) | (1u << XC_INITIATOR_FC),
	.open = fs_open,
	.info = fs_info,
	.resolve = fs_resolve,
	.ensure_host = fs_ensure_host,
	.hosts = fs_hosts,
	.mappings = fs_mappings,
	.map = fs_map,
	.unmap = fs_unmap,
	.delete_host = fs_delete_host,
	.close = fs_close,
};
