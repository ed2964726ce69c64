/*
 * Dell PowerStore driver, PowerStore REST API (/api/rest; PowerStoreOS 2.x to 4.x
 * share the calls used here). Facts and sources: README.md beside this file.
 *
 * Login: GET /api/rest/login_session with HTTP Basic → an auth_cookie and a CSRF
 * token (DELL-EMC-TOKEN) sent on every later request, so the password crosses the
 * wire once per session. The array answers 401 or 403 when the session or token
 * has gone stale: both log in again once. close() logs out.
 *
 * Volumes: by the UUID in csi-powerstore's volume handle (checked against the
 * cluster's global id), else by the volume attribute Name. The volume's "wwn" is
 * the ESXi device id. Hosts: a PowerStore initiator belongs to one host, so the
 * host holding the ESXi initiators is reused and completed; a host in a host group
 * is mapped through its group (PowerStore refuses attaching to a member host).
 * Attach chooses the lowest LUN number the host does not use, so it stays under
 * ESXi's default Disk.MaxLUN (1024) instead of the array's ever-growing counter.
 */
#define _GNU_SOURCE /* strdup, strcasestr under -std=c17 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "vendors.h"

#define PS_ROOT "/api/rest"
#define PS_PAGE "1000"          /* rows asked per page (the array allows 1..2000) */
#define PS_PAGES_MAX 100000
#define PS_ESXI_LUN_LIMIT 1024  /* ESXi Disk.MaxLUN default: LUN numbers 0..1023 are scanned */
#define PS_ID_MAX 64
#define PS_VOLUME_FIELDS "id,name,size,wwn,type,state,appliance_id"
#define PS_HOST_FIELDS "id,name,host_group_id,host_initiators"
#define PS_MAP_FIELDS "id,volume_id,host_id,host_group_id,logical_unit_number"

struct ps {
	struct xc_http *http;
	char *user, *password;      /* kept for re-login, wiped at close */
	char global_id[XC_ARRAY_ID_MAX];
	char cluster_name[256];
	int logged_in;
};

/* A host or host group as attach/detach address it. */
struct ps_target {
	int is_group;
	char id[PS_ID_MAX];
	char group_id[PS_ID_MAX];   /* a host's own host group, "" when none */
};

static void wipe(char *s, size_t size)
{
	for (volatile char *v = s; size > 0; v++, size--)
		*v = '\0';
}

/* ---- identifiers ---- */

int xc_powerstore_naa(const char *wwn, char *out, size_t size, struct xclone_error *err)
{
	const char *hex = wwn;

	if (hex != NULL && strncasecmp(hex, "naa.", 4) == 0)
		hex += 4;
	/* NAA type 6 (registered extended): what PowerStore hands out, 128 bits */
	if (hex == NULL || strlen(hex) != 32 || hex[0] != '6')
		return xclone_error_set(err, XC_E_PROTOCOL,
					"PowerStore volume WWN \"%.48s\" is not naa. + 32 hex digits"
					" of NAA type 6",
					wwn ? wwn : "(null)");
	return xc_naa_from_hex("", hex, out, size, err);
}

/* Copies the next '/'-separated segment of *p into buf; advances *p past it. */
static int next_segment(const char **p, char *buf, size_t size)
{
	const char *end = strchr(*p, '/');
	size_t len = end ? (size_t)(end - *p) : strlen(*p);

	if (len >= size)
		return -1;
	memcpy(buf, *p, len);
	buf[len] = '\0';
	*p = end ? end + 1 : *p + len;
	return 0;
}

int xc_powerstore_parse_handle(const char *handle, struct xc_powerstore_handle *out,
			       struct xclone_error *err)
{
	const char *p = handle;
	char proto[96] = "";

	memset(out, 0, sizeof(*out));
	if (handle == NULL || handle[0] == '\0' ||
	    next_segment(&p, out->volume_id, sizeof(out->volume_id)) != 0 ||
	    next_segment(&p, out->array_id, sizeof(out->array_id)) != 0 ||
	    next_segment(&p, proto, sizeof(proto)) != 0 ||
	    next_segment(&p, out->remote_array_id, sizeof(out->remote_array_id)) != 0 || *p != '\0')
		goto bad;
	/* a volume id is a UUID: 8-4-4-4-12 hex digits */
	if (strlen(out->volume_id) != 36)
		goto bad;
	for (size_t i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? out->volume_id[i] != '-'
							      : !isxdigit((unsigned char)out->volume_id[i]))
			goto bad;
	/* Metro: scsi:<remote volume uuid> */
	const char *colon = strchr(proto, ':');
	const char *remote = colon ? colon + 1 : "";
	size_t plen = colon ? (size_t)(colon - proto) : strlen(proto), rlen = strlen(remote);
	if (plen >= sizeof(out->protocol) || rlen >= sizeof(out->remote_volume_id))
		goto bad;
	memcpy(out->protocol, proto, plen);
	out->protocol[plen] = '\0';
	memcpy(out->remote_volume_id, remote, rlen + 1);
	return 0;
bad:
	return xclone_error_set(err, XC_E_USAGE,
				"volume handle \"%.120s\" is not csi-powerstore's"
				" <volume uuid>/<array global id>/<protocol>",
				handle ? handle : "");
}

/* ---- errors ---- */

/* code and message_l10n of the first message of an error body {"messages": [...]};
 * Dell's clients also meet "messages" as a string holding that array. */
static void ps_error_fields(const struct xc_http_response *resp, char *code, size_t csize,
			    char *msg, size_t msize)
{
	cJSON *body = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, "messages");
	cJSON *inner = NULL;
	const cJSON *first;

	code[0] = msg[0] = '\0';
	if (cJSON_IsString(list))
		list = inner = cJSON_Parse(list->valuestring);
	first = cJSON_IsArray(list) ? cJSON_GetArrayItem(list, 0) : NULL;
	if (xc_json_str(first, "code") != NULL)
		snprintf(code, csize, "%s", xc_json_str(first, "code"));
	if (xc_json_str(first, "message_l10n") != NULL)
		snprintf(msg, msize, "%s", xc_json_str(first, "message_l10n"));
	else if (resp->body != NULL && resp->body_len > 0 && body == NULL)
		snprintf(msg, msize, "unknown error: %.200s", resp->body);
	cJSON_Delete(inner);
	cJSON_Delete(body);
}

static int ps_fail(struct ps *p, const struct xc_http_response *resp, struct xclone_error *err,
		   const char *what)
{
	char code[64], msg[400], both[480];

	ps_error_fields(resp, code, sizeof(code), msg, sizeof(msg));
	if (code[0] && msg[0])
		snprintf(both, sizeof(both), "%s (%s)", msg, code);
	else
		snprintf(both, sizeof(both), "%s", msg);
	return xc_rest_fail(p->http, err, resp->status, code[0] ? code : NULL, both[0] ? both : NULL,
			    "PowerStore: %s", what);
}

/* ---- requests ---- */

static void ps_path(struct xc_strbuf *sb, const char *resource)
{
	xc_sb_init(sb);
	xc_sb_add(sb, PS_ROOT "/");
	xc_sb_add(sb, resource);
}

/* "/api/rest/<type>/<id>[/<action>]" */
static void ps_instance_path(struct xc_strbuf *sb, const char *type, const char *id,
			     const char *action)
{
	ps_path(sb, type);
	xc_sb_add(sb, "/");
	xc_sb_add_escaped(sb, id);
	if (action != NULL) {
		xc_sb_add(sb, "/");
		xc_sb_add(sb, action);
	}
}

/* Appends "<sep><key>=<value>"; value is one of this file's constants (select lists,
 * numbers), written as the guide writes them: "select=id,name". */
static void ps_param(struct xc_strbuf *sb, const char *key, const char *value)
{
	const char *s = xc_sb_str(sb);

	xc_sb_addf(sb, "%s%s=%s", s != NULL && strchr(s, '?') != NULL ? "&" : "?", key, value);
}

/* A filter "<key>=eq.<value>", value escaped (names come from users; the array
 * compares case-insensitively). */
static void ps_filter_eq(struct xc_strbuf *sb, const char *key, const char *value)
{
	const char *s = xc_sb_str(sb);

	xc_sb_addf(sb, "%s%s=eq.", s != NULL && strchr(s, '?') != NULL ? "&" : "?", key);
	xc_sb_add_escaped(sb, value);
}

static int ps_send(struct ps *p, enum xc_http_method method, const char *path, const char *body,
		   int idempotent, struct xc_http_response *resp, struct xclone_error *err)
{
	struct xc_http_request req = {0};

	memset(resp, 0, sizeof(*resp));
	if (path == NULL)
		return xclone_error_set(err, XC_E_USAGE, "PowerStore request path too long");
	req.method = method;
	req.path = path;
	req.body = body;
	req.idempotent = idempotent;
	return xc_http_send(p->http, &req, resp, err);
}

/* "first-last/total" of a 206 answer; -1 when absent or malformed. */
static int ps_content_range(const struct xc_http_response *resp, long *last, long *total)
{
	char value[96];
	long first;
	char tail;

	if (xc_http_response_header(resp, "Content-Range", value, sizeof(value)) != 0 ||
	    sscanf(value, "%ld-%ld/%ld%c", &first, last, total, &tail) != 3 || first < 0 ||
	    *last < first || *total <= *last)
		return -1;
	return 0;
}

/* GETs a collection (path with its select=, no paging), every page of it:
 * limit/offset until the 206 answers' Content-Range says the end. *rows is a new
 * JSON array. */
static int ps_get_list(struct ps *p, const char *first, const char *what, cJSON **rows,
		       struct xclone_error *err)
{
	long offset = 0;
	int rc = 0;

	*rows = NULL;
	if (first == NULL)
		return xclone_error_set(err, XC_E_USAGE, "PowerStore request path too long");
	*rows = cJSON_CreateArray();
	if (*rows == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	for (unsigned page = 0; rc == 0 && page < PS_PAGES_MAX; page++) {
		struct xc_strbuf path;
		struct xc_http_response resp;
		cJSON *body = NULL, *item;
		long last = -1, total = -1;
		char num[24];

		xc_sb_init(&path);
		xc_sb_add(&path, first);
		ps_param(&path, "limit", PS_PAGE);
		snprintf(num, sizeof(num), "%ld", offset);
		ps_param(&path, "offset", num);
		rc = ps_send(p, XC_HTTP_GET, xc_sb_str(&path), NULL, 1, &resp, err);
		xc_sb_free(&path);
		if (rc == 0 && resp.status == 416 && offset > 0) {
			xc_http_response_free(&resp); /* past the end: the list shrank meanwhile */
			break;
		}
		if (rc == 0 && resp.status != 200 && resp.status != 206)
			rc = ps_fail(p, &resp, err, what);
		if (rc == 0 && resp.status == 206 && ps_content_range(&resp, &last, &total) != 0)
			rc = xclone_error_set(err, XC_E_PROTOCOL,
					      "PowerStore: %s: a partial answer without a valid"
					      " Content-Range",
					      what);
		if (rc == 0)
			rc = xc_rest_json(&resp, &body, err);
		xc_http_response_free(&resp);
		if (rc)
			break;
		if (!cJSON_IsArray(body)) {
			cJSON_Delete(body);
			rc = xclone_error_set(err, XC_E_PROTOCOL, "PowerStore: %s: answer is not a list",
					      what);
			break;
		}
		int got = cJSON_GetArraySize(body);
		while ((item = cJSON_DetachItemFromArray(body, 0)) != NULL)
			cJSON_AddItemToArray(*rows, item);
		cJSON_Delete(body);
		if (last < 0 || last + 1 >= total || got == 0)
			break;
		offset = last + 1;
	}
	if (rc) {
		cJSON_Delete(*rows);
		*rows = NULL;
	}
	return rc;
}

/* GETs one instance; *obj NULL (and 0) when the array says 404. */
static int ps_get_one(struct ps *p, const char *path, const char *what, cJSON **obj,
		      struct xclone_error *err)
{
	struct xc_http_response resp;
	int rc = ps_send(p, XC_HTTP_GET, path, NULL, 1, &resp, err);

	*obj = NULL;
	if (rc == 0 && resp.status == 404) {
		xc_http_response_free(&resp);
		return 0;
	}
	if (rc == 0 && resp.status != 200)
		rc = ps_fail(p, &resp, err, what);
	if (rc == 0)
		rc = xc_rest_json(&resp, obj, err);
	xc_http_response_free(&resp);
	if (rc == 0 && !cJSON_IsObject(*obj)) {
		cJSON_Delete(*obj);
		*obj = NULL;
		rc = xclone_error_set(err, XC_E_PROTOCOL, "PowerStore: %s: answer is not an object",
				      what);
	}
	return rc;
}

/* ---- session ---- */

/* The value of cookie `name` among the answer's Set-Cookie lines, or -1. */
static int ps_set_cookie(const struct xc_http_response *resp, const char *name, char *buf,
			 size_t size)
{
	size_t nlen = strlen(name);

	for (const char *line = resp->headers; line != NULL && *line; ) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > 11 && strncasecmp(line, "Set-Cookie:", 11) == 0) {
			const char *v = line + 11, *stop = line + len;
			while (v < stop && (*v == ' ' || *v == '\t'))
				v++;
			if ((size_t)(stop - v) > nlen && strncmp(v, name, nlen) == 0 && v[nlen] == '=') {
				const char *val = v + nlen + 1, *semi = val;
				while (semi < stop && *semi != ';' && *semi != '\r')
					semi++;
				if ((size_t)(semi - val) + 1 > size || semi == val)
					return -1;
				memcpy(buf, val, (size_t)(semi - val));
				buf[semi - val] = '\0';
				return 0;
			}
		}
		line = end ? end + 1 : NULL;
	}
	return -1;
}

/* "Authorization: Basic <base64 user:password>", malloc'd, registered as a secret. */
static int ps_basic_header(struct ps *p, char **out, struct xclone_error *err)
{
	size_t ulen = strlen(p->user), plen = strlen(p->password), cap;
	char *pair = malloc(ulen + plen + 2), *line;
	int rc = 0;

	*out = NULL;
	cap = 32 + 4 * ((ulen + plen + 1) / 3 + 1);
	line = malloc(cap);
	if (pair == NULL || line == NULL) {
		free(pair);
		free(line);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	memcpy(pair, p->user, ulen);
	pair[ulen] = ':';
	memcpy(pair + ulen + 1, p->password, plen + 1);
	memcpy(line, "Authorization: Basic ", 21);
	if (xc_b64_encode((const unsigned char *)pair, ulen + plen + 1, line + 21, cap - 21, 1) != 0)
		rc = xclone_error_set(err, XC_E_INTERNAL, "base64 buffer too small");
	wipe(pair, ulen + plen + 1);
	free(pair);
	if (rc == 0)
		rc = xc_http_add_secret(p->http, line + 21, err);
	if (rc) {
		xc_wipe_free(line);
		return rc;
	}
	*out = line;
	return 0;
}

/* GET login_session with Basic → auth_cookie + DELL-EMC-TOKEN on every later request. */
static int ps_login(void *ctx, struct xclone_error *err)
{
	struct ps *p = ctx;
	struct xc_http_request req = {.method = XC_HTTP_GET, .idempotent = 1, .no_relogin = 1,
				      .path = PS_ROOT "/login_session?select=id,idle_timeout"};
	struct xc_http_response resp = {0};
	char token[1024] = "", cookie[1024] = "", cookie_line[1100] = "";
	const char *headers[1];
	char *auth = NULL;
	int rc;

	xc_http_set_header(p->http, "Cookie", NULL, NULL);
	xc_http_set_header(p->http, "DELL-EMC-TOKEN", NULL, NULL);
	rc = ps_basic_header(p, &auth, err);
	if (rc)
		return rc;
	headers[0] = auth;
	req.headers = headers;
	req.n_headers = 1;
	rc = xc_http_send(p->http, &req, &resp, err);
	xc_wipe_free(auth);
	if (rc == 0 && (resp.status == 401 || resp.status == 403)) {
		ps_fail(p, &resp, err, "login refused: check STORAGE_USERNAME/STORAGE_PASSWORD");
		rc = XC_E_AUTH;
		if (err != NULL)
			err->code = XC_E_AUTH;
	} else if (rc == 0 && resp.status != 200) {
		rc = ps_fail(p, &resp, err, "logging in");
	}
	if (rc == 0 && xc_http_response_header(&resp, "DELL-EMC-TOKEN", token, sizeof(token)) != 0)
		rc = xclone_error_set(err, XC_E_PROTOCOL,
				      "PowerStore login answer has no DELL-EMC-TOKEN header");
	if (rc == 0 && ps_set_cookie(&resp, "auth_cookie", cookie, sizeof(cookie)) == 0) {
		snprintf(cookie_line, sizeof(cookie_line), "auth_cookie=%s", cookie);
		if ((rc = xc_http_add_secret(p->http, cookie, err)) == 0)
			rc = xc_http_set_header(p->http, "Cookie", cookie_line, err);
	} else if (rc == 0) {
		/* no session cookie: the guide says to send the credentials every time */
		rc = xc_http_set_basic_auth(p->http, p->user, p->password, err);
	}
	if (rc == 0)
		rc = xc_http_set_header(p->http, "DELL-EMC-TOKEN", token, err);
	xc_http_response_free(&resp);
	wipe(token, sizeof(token));
	wipe(cookie, sizeof(cookie));
	wipe(cookie_line, sizeof(cookie_line));
	if (rc == 0)
		p->logged_in = 1;
	return rc;
}

/* A stale session cookie is refused 401, a stale CSRF token 403 (what Dell's Go
 * client re-logs in on): either means log in again. */
static int ps_expired(void *ctx, const struct xc_http_response *resp)
{
	(void)ctx;
	return resp->status == 401 || resp->status == 403;
}

static void ps_logout(struct ps *p)
{
	/* idempotent: a second logout is merely refused, and the kept-alive connection serves */
	struct xc_http_request req = {.method = XC_HTTP_POST, .path = PS_ROOT "/logout",
				      .no_relogin = 1, .idempotent = 1};
	struct xc_http_response resp;
	struct xclone_error ignored;

	/* Sessions otherwise live for the array's idle timeout: do not pile them up. */
	xc_http_send(p->http, &req, &resp, &ignored);
	xc_http_response_free(&resp);
}

/* ---- open, info ---- */

/* GET cluster: global_id (the LUNs' array id, and what volume handles name) and name. */
static int ps_read_cluster(struct ps *p, struct xclone_error *err)
{
	cJSON *rows = NULL;
	const cJSON *c;
	int rc = ps_get_list(p, PS_ROOT "/cluster?select=id,global_id,name,state", "reading the cluster",
			     &rows, err);

	if (rc)
		return rc;
	c = cJSON_GetArrayItem(rows, 0);
	rc = xc_copy_field(p->global_id, sizeof(p->global_id), xc_json_str(c, "global_id"),
			   "cluster global_id", err);
	if (rc == 0)
		snprintf(p->cluster_name, sizeof(p->cluster_name), "%s",
			 xc_json_str(c, "name") ? xc_json_str(c, "name") : "");
	cJSON_Delete(rows);
	return rc;
}

static void ps_close(void *state)
{
	struct ps *p = state;

	if (p == NULL)
		return;
	if (p->logged_in)
		ps_logout(p);
	xc_wipe_free(p->user);
	xc_wipe_free(p->password);
	free(p);
}

static int ps_open(const struct xc_array_session *s, void **state, struct xclone_error *err)
{
	struct ps *p = calloc(1, sizeof(*p));
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
	if ((rc = xc_http_add_secret(p->http, password, err)) || (rc = ps_login(p, err)))
		goto fail;
	xc_http_set_relogin(p->http, ps_login, ps_expired, p);
	if ((rc = ps_read_cluster(p, err)))
		goto fail;
	*state = p;
	return 0;
fail:
	xc_http_set_relogin(p->http, NULL, NULL, NULL);
	ps_close(p);
	return rc;
}

static int ps_info(void *state, struct xc_array_info *out, struct xclone_error *err)
{
	struct ps *p = state;
	cJSON *sw = NULL, *app = NULL;
	const cJSON *r, *release = NULL;
	int rc;

	snprintf(out->vendor, sizeof(out->vendor), "Dell");
	if ((rc = ps_read_cluster(p, err)) ||
	    (rc = ps_get_list(p, PS_ROOT "/software_installed?select=id,release_version,is_cluster",
			      "reading the software version", &sw, err)) ||
	    (rc = ps_get_list(p, PS_ROOT "/appliance?select=id,name,model",
			      "reading the appliances", &app, err)))
		goto done;
	snprintf(out->array_id, sizeof(out->array_id), "%s", p->global_id);
	snprintf(out->name, sizeof(out->name), "%s", p->cluster_name);
	cJSON_ArrayForEach(r, sw)
	{
		/* the cluster-wide row; appliances may differ during an upgrade */
		if (release == NULL || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "is_cluster")))
			release = r;
	}
	if (xc_json_str(release, "release_version") != NULL) {
		snprintf(out->version, sizeof(out->version), "PowerStoreOS %s",
			 xc_json_str(release, "release_version"));
		snprintf(out->api_version, sizeof(out->api_version), "%s",
			 xc_json_str(release, "release_version"));
	}
	if (xc_json_str(cJSON_GetArrayItem(app, 0), "model") != NULL)
		snprintf(out->model, sizeof(out->model), "%s",
			 xc_json_str(cJSON_GetArrayItem(app, 0), "model"));
done:
	cJSON_Delete(sw);
	cJSON_Delete(app);
	return rc;
}

/* ---- volumes ---- */

static int ps_lun_from_volume(struct ps *p, const cJSON *v, struct xc_lun *out,
			      struct xclone_error *err)
{
	int rc;

	if ((rc = xc_copy_field(out->name, sizeof(out->name), xc_json_str(v, "name"), "volume name",
				err)) ||
	    (rc = xc_copy_field(out->id, sizeof(out->id), xc_json_str(v, "id"), "volume id", err)))
		return rc;
	if (xc_json_str(v, "wwn") == NULL)
		return xclone_error_set(err, XC_E_PROTOCOL,
					"PowerStore volume %s has no WWN (a snapshot?)", out->name);
	if ((rc = xc_powerstore_naa(xc_json_str(v, "wwn"), out->naa, sizeof(out->naa), err)))
		return rc;
	/* no serial field in REST: the WWN's 32 hex digits are the volume's identity */
	snprintf(out->serial, sizeof(out->serial), "%s", out->naa + 4);
	if (xc_json_u64(v, "size", &out->size_bytes) != 0)
		return xclone_error_set(err, XC_E_PROTOCOL, "PowerStore volume %s has no size",
					out->name);
	snprintf(out->array_id, sizeof(out->array_id), "%s", p->global_id);
	return 0;
}

static int ps_volume_by_id(struct ps *p, const char *id, struct xc_lun *out, int *found,
			   struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *v = NULL;
	int rc;

	*found = 0;
	ps_instance_path(&path, "volume", id, NULL);
	ps_param(&path, "select", PS_VOLUME_FIELDS);
	rc = ps_get_one(p, xc_sb_str(&path), "looking up the volume", &v, err);
	xc_sb_free(&path);
	if (rc == 0 && v != NULL) {
		*found = 1;
		rc = ps_lun_from_volume(p, v, out, err);
	}
	cJSON_Delete(v);
	return rc;
}

static int ps_volume_by_name(struct ps *p, const char *name, struct xc_lun *out, int *found,
			     struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *rows = NULL;
	const cJSON *v, *match = NULL;
	int matches = 0, rc;

	*found = 0;
	ps_path(&path, "volume");
	ps_param(&path, "select", PS_VOLUME_FIELDS);
	ps_filter_eq(&path, "name", name);
	rc = ps_get_list(p, xc_sb_str(&path), "looking up the volume by name", &rows, err);
	xc_sb_free(&path);
	if (rc)
		return rc;
	/* the array's eq. ignores case: keep the exact name */
	cJSON_ArrayForEach(v, rows)
	{
		if (xc_json_str(v, "name") != NULL && strcmp(xc_json_str(v, "name"), name) == 0) {
			match = v;
			matches++;
		}
	}
	if (matches > 1)
		rc = xclone_error_set(err, XC_E_CONFLICT, "PowerStore: %d volumes are named %.200s",
				      matches, name);
	else if (matches == 1 && (rc = ps_lun_from_volume(p, match, out, err)) == 0)
		*found = 1;
	cJSON_Delete(rows);
	return rc;
}

/* Whether an array id from a handle or attribute names another array. IP addresses
 * (legacy handles) and empty ids name nothing we can compare. */
static int ps_other_array(const struct ps *p, const char *id)
{
	if (id == NULL || id[0] == '\0' || strchr(id, '.') != NULL || strchr(id, ':') != NULL)
		return 0;
	return strcasecmp(id, p->global_id) != 0;
}

/* The volume id to look up from the handle: the local one, or Metro's remote one
 * when this array is the Metro peer. "" when the handle names another array. */
static int ps_handle_volume(struct ps *p, const struct xc_pv *pv, char *id, size_t size,
			    struct xclone_error *err)
{
	struct xc_powerstore_handle h;
	int rc;

	id[0] = '\0';
	if (pv->volume_handle == NULL || pv->volume_handle[0] == '\0')
		return 0;
	if ((rc = xc_powerstore_parse_handle(pv->volume_handle, &h, err)))
		return rc;
	if (strcasecmp(h.protocol, "nfs") == 0)
		return xclone_error_set(err, XC_E_USAGE,
					"PV %.100s is a PowerStore NFS file system, not a block"
					" volume: it has no LUN to copy into",
					pv->name);
	if (!ps_other_array(p, h.array_id))
		snprintf(id, size, "%s", h.volume_id);
	else if (h.remote_volume_id[0] != '\0' && !ps_other_array(p, h.remote_array_id))
		snprintf(id, size, "%s", h.remote_volume_id);
	else
		return xclone_error_set(err, XC_E_NOT_FOUND,
					"PV %.100s lives on PowerStore %s, this array is %s: use"
					" that array's secret",
					pv->name, h.array_id, p->global_id);
	return 0;
}

static int ps_resolve(void *state, const struct xc_pv *pv, struct xc_lun *out,
		      struct xclone_error *err)
{
	struct ps *p = state;
	const char *name = xc_pv_attr(pv, "Name"), *array = xc_pv_attr(pv, "arrayID");
	char id[PS_ID_MAX];
	int found = 0, rc;

	if ((rc = ps_handle_volume(p, pv, id, sizeof(id), err)))
		return rc;
	if (id[0] != '\0') {
		rc = ps_volume_by_id(p, id, out, &found, err);
		if (rc || found)
			return rc;
	}
	if (name != NULL && name[0] != '\0') {
		if (ps_other_array(p, array))
			return xclone_error_set(err, XC_E_NOT_FOUND,
						"PV %.100s lives on PowerStore %.64s (volume attribute"
						" arrayID), this array is %s",
						pv->name, array, p->global_id);
		rc = ps_volume_by_name(p, name, out, &found, err);
		if (rc || found)
			return rc;
	}
	if (id[0] == '\0' && (name == NULL || name[0] == '\0'))
		return xclone_error_set(err, XC_E_USAGE,
					"PV %.100s: PowerStore volumes are found by the CSI volume"
					" handle or the volume attribute Name; give one",
					pv->name);
	return xclone_error_set(err, XC_E_NOT_FOUND,
				"PowerStore has no volume for PV %.100s (looked for id %s, name %.200s)",
				pv->name, id[0] ? id : "(none)", name ? name : "(none)");
}

/* ---- hosts ---- */

static int ps_list_hosts(struct ps *p, const char *key, const char *value, cJSON **rows,
			 struct xclone_error *err)
{
	struct xc_strbuf path;
	int rc;

	ps_path(&path, "host");
	ps_param(&path, "select", PS_HOST_FIELDS);
	if (key != NULL)
		ps_filter_eq(&path, key, value);
	ps_param(&path, "order", "name");
	rc = ps_get_list(p, xc_sb_str(&path), "listing hosts", rows, err);
	xc_sb_free(&path);
	return rc;
}

/* The host named exactly name among rows, or NULL. */
static const cJSON *ps_named(const cJSON *rows, const char *name)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, rows)
		if (xc_json_str(r, "name") != NULL && strcmp(xc_json_str(r, "name"), name) == 0)
			return r;
	return NULL;
}

static size_t ps_host_holds(const cJSON *h, const struct xc_initiator *ini, size_t n,
			    unsigned char *held)
{
	memset(held, 0, n);
	return xc_json_initiators_held(cJSON_GetObjectItemCaseSensitive(h, "host_initiators"),
				       "port_name", ini, n, held);
}

static void ps_add_initiators(struct xc_host_group *g, const cJSON *h)
{
	const cJSON *i;

	cJSON_ArrayForEach(i, cJSON_GetObjectItemCaseSensitive(h, "host_initiators"))
		if (xc_json_str(i, "port_name") != NULL)
			xc_host_group_add_initiator(g, xc_json_str(i, "port_name"));
}

/* [{"port_name", "port_type"}] for the initiators not held (held NULL: all):
 * IQN/EUI and NQN as ESXi gives them, FC as the WWPN in lower-case colon pairs. */
static cJSON *ps_initiator_list(const struct xc_initiator *ini, size_t n,
				const unsigned char *held)
{
	static const char *const port_types[] = {"iSCSI", "FC", "NVMe"}; /* by xc_initiator_kind */
	cJSON *list = cJSON_CreateArray();

	for (size_t i = 0; list != NULL && i < n; i++) {
		char wwpn[24];
		const char *name = ini[i].id;
		cJSON *o;
		if (held != NULL && held[i])
			continue;
		if (ini[i].kind == XC_INITIATOR_FC) {
			xc_wwn_format(ini[i].wwpn, XC_WWN_COLON_LOWER, wwpn, sizeof(wwpn));
			name = wwpn;
		}
		o = cJSON_CreateObject();
		if (o == NULL || !cJSON_AddStringToObject(o, "port_name", name) ||
		    !cJSON_AddStringToObject(o, "port_type", port_types[ini[i].kind]) ||
		    !cJSON_AddItemToArray(list, o)) {
			cJSON_Delete(o);
			cJSON_Delete(list);
			return NULL;
		}
	}
	return list;
}

struct ps_host_check {
	struct ps *p;
	const char *name;
	const struct xc_initiator *ini;
	size_t n;
};

/* After a lost create or update: does host `name` hold every initiator now? */
static int ps_host_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct ps_host_check *c = ctx;
	unsigned char held[XC_HOST_INITIATORS_MAX];
	cJSON *rows = NULL;
	const cJSON *h;
	int rc = ps_list_hosts(c->p, "name", c->name, &rows, err);

	h = rc == 0 ? ps_named(rows, c->name) : NULL;
	*applied = h != NULL && ps_host_holds(h, c->ini, c->n, held) == c->n;
	cJSON_Delete(rows);
	return rc;
}

/* POST host (create) or PATCH host/<id> (add_initiators), safe against lost answers. */
static int ps_host_write(struct ps *p, const char *host_id, const char *name,
			 const struct xc_initiator *ini, size_t n, const unsigned char *held,
			 struct xclone_error *err)
{
	struct ps_host_check check = {p, name, ini, n};
	struct xc_http_request req = {.method = host_id ? XC_HTTP_PATCH : XC_HTTP_POST};
	struct xc_http_response resp = {0};
	struct xc_strbuf path;
	cJSON *body = cJSON_CreateObject(), *list = ps_initiator_list(ini, n, held);
	char *text = NULL;
	int confirmed = 0, applied = 0, rc = 0;

	if (body == NULL || list == NULL ||
	    !cJSON_AddItemToObject(body, host_id ? "add_initiators" : "initiators", list)) {
		cJSON_Delete(list);
		cJSON_Delete(body);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	if (host_id == NULL &&
	    (!cJSON_AddStringToObject(body, "name", name) ||
	     !cJSON_AddStringToObject(body, "os_type", "ESXi") ||
	     !cJSON_AddStringToObject(body, "description", "ESXi host, created by xclone")))
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (rc == 0)
		rc = xc_json_print(body, &text, err);
	cJSON_Delete(body);
	if (rc)
		return rc;
	if (host_id != NULL)
		ps_instance_path(&path, "host", host_id, NULL);
	else
		ps_path(&path, "host");
	req.path = xc_sb_str(&path);
	req.body = text;
	if (req.path == NULL)
		rc = xclone_error_set(err, XC_E_USAGE, "PowerStore request path too long");
	else
		rc = xc_rest_send_checked(p->http, &req, &resp, ps_host_check, &check, &confirmed,
					  err);
	if (rc == 0 && !confirmed && (resp.status < 200 || resp.status > 299)) {
		/* refused because an earlier attempt, whose answer was lost, did it? */
		struct xclone_error check_err;
		if (ps_host_check(&check, &applied, &check_err) == 0 && applied)
			rc = 0;
		else
			rc = ps_fail(p, &resp, err,
				     host_id ? "adding initiators to the host" : "creating the host");
	}
	xc_http_response_free(&resp);
	xc_sb_free(&path);
	free(text);
	return rc;
}

/* out = host group gid: its name and every member's initiators. */
static int ps_group_result(struct ps *p, const char *gid, struct xc_host_group *out,
			   struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *g = NULL, *members = NULL;
	const cJSON *h;
	int rc;

	ps_instance_path(&path, "host_group", gid, NULL);
	ps_param(&path, "select", "id,name");
	rc = ps_get_one(p, xc_sb_str(&path), "reading the host group", &g, err);
	xc_sb_free(&path);
	if (rc == 0 && g == NULL)
		rc = xclone_error_set(err, XC_E_REMOTE, "PowerStore: host group %s vanished", gid);
	if (rc == 0)
		rc = xc_host_group_init(out, xc_json_str(g, "name"), XC_GROUP_HOST_SET, err);
	if (rc == 0)
		rc = ps_list_hosts(p, "host_group_id", gid, &members, err);
	cJSON_ArrayForEach(h, (rc == 0 ? members : NULL))
		ps_add_initiators(out, h);
	cJSON_Delete(members);
	cJSON_Delete(g);
	return rc;
}

/* out = host `name` as the array lists it now, or its host group if it has one. */
static int ps_host_result(struct ps *p, const char *name, struct xc_host_group *out,
			  struct xclone_error *err)
{
	cJSON *rows = NULL;
	const cJSON *h;
	const char *gid;
	int rc = ps_list_hosts(p, "name", name, &rows, err);

	h = rc == 0 ? ps_named(rows, name) : NULL;
	if (rc == 0 && h == NULL)
		rc = xclone_error_set(err, XC_E_REMOTE, "PowerStore: host %s not listed after the"
					" change", name);
	gid = h != NULL ? xc_json_str(h, "host_group_id") : NULL;
	if (rc == 0 && gid != NULL && gid[0] != '\0') {
		rc = ps_group_result(p, gid, out, err);
	} else if (rc == 0) {
		rc = xc_host_group_init(out, name, XC_GROUP_HOST, err);
		if (rc == 0)
			ps_add_initiators(out, h);
	}
	cJSON_Delete(rows);
	return rc;
}

static int ps_ensure_host(void *state, const char *name, const struct xc_initiator *ini, size_t n,
			  struct xc_host_group *out, struct xclone_error *err)
{
	struct ps *p = state;
	unsigned char held[XC_HOST_INITIATORS_MAX], holder_held[XC_HOST_INITIATORS_MAX];
	char holders[512] = "", holder_name[XC_GROUP_NAME_MAX] = "", holder_id[PS_ID_MAX] = "";
	const cJSON *h;
	cJSON *rows = NULL;
	size_t n_holders = 0, holder_count = 0;
	int rc = ps_list_hosts(p, NULL, NULL, &rows, err);

	if (rc)
		return rc;
	cJSON_ArrayForEach(h, rows)
	{
		size_t c = ps_host_holds(h, ini, n, held), used = strlen(holders);
		const char *hn = xc_json_str(h, "name") ? xc_json_str(h, "name") : "?";
		if (c == 0)
			continue;
		n_holders++;
		holder_count = c;
		memcpy(holder_held, held, n);
		snprintf(holder_name, sizeof(holder_name), "%s", hn);
		snprintf(holder_id, sizeof(holder_id), "%s",
			 xc_json_str(h, "id") ? xc_json_str(h, "id") : "");
		snprintf(holders + used, sizeof(holders) - used, "%s%s", used ? ", " : "", hn);
	}
	if (n_holders > 1) {
		rc = xclone_error_set(err, XC_E_CONFLICT,
				      "PowerStore: these initiators are split across hosts %s; a"
				      " PowerStore initiator belongs to one host, so merge them first",
				      holders);
	} else if (n_holders == 1) {
		snprintf(out->name, sizeof(out->name), "%s", holder_name);
		if (holder_count < n)
			rc = ps_host_write(p, holder_id, holder_name, ini, n, holder_held, err);
	} else if (ps_named(rows, name) != NULL) {
		rc = xclone_error_set(err, XC_E_CONFLICT,
				      "PowerStore: a host named %s already exists and holds none of"
				      " these initiators: choose another name",
				      name);
	} else {
		snprintf(out->name, sizeof(out->name), "%s", name);
		rc = ps_host_write(p, NULL, name, ini, n, NULL, err);
	}
	cJSON_Delete(rows);
	if (rc)
		return rc;
	snprintf(holder_name, sizeof(holder_name), "%s", out->name);
	return ps_host_result(p, holder_name, out, err);
}

static int ps_hosts(void *state, struct xc_host_list *out, struct xclone_error *err)
{
	struct ps *p = state;
	cJSON *hosts = NULL, *groups = NULL;
	const cJSON *h, *g;
	int rc = ps_list_hosts(p, NULL, NULL, &hosts, err);

	if (rc == 0)
		rc = ps_get_list(p, PS_ROOT "/host_group?select=id,name&order=name", "listing host groups",
				 &groups, err);
	cJSON_ArrayForEach(h, (rc == 0 ? hosts : NULL))
	{
		struct xc_host_group one;
		if ((rc = xc_host_group_init(&one, xc_json_str(h, "name"), XC_GROUP_HOST, err)))
			break;
		ps_add_initiators(&one, h);
		if ((rc = xc_host_list_add(out, &one, err)))
			break;
	}
	cJSON_ArrayForEach(g, (rc == 0 ? groups : NULL))
	{
		struct xc_host_group set;
		const char *gid = xc_json_str(g, "id");
		if ((rc = xc_host_group_init(&set, xc_json_str(g, "name"), XC_GROUP_HOST_SET, err)))
			break;
		cJSON_ArrayForEach(h, hosts)
			if (gid != NULL && xc_json_str(h, "host_group_id") != NULL &&
			    strcmp(xc_json_str(h, "host_group_id"), gid) == 0)
				ps_add_initiators(&set, h);
		if ((rc = xc_host_list_add(out, &set, err)))
			break;
	}
	cJSON_Delete(hosts);
	cJSON_Delete(groups);
	return rc;
}

/* ---- mappings ---- */

/* host_volume_mapping rows of the volume, optionally only those of key=eq.value. */
static int ps_list_maps(struct ps *p, const char *volume_id, const char *key, const char *value,
			cJSON **rows, struct xclone_error *err)
{
	struct xc_strbuf path;
	int rc;

	ps_path(&path, "host_volume_mapping");
	ps_param(&path, "select", PS_MAP_FIELDS);
	if (volume_id != NULL)
		ps_filter_eq(&path, "volume_id", volume_id);
	if (key != NULL)
		ps_filter_eq(&path, key, value);
	ps_param(&path, "order", "id");
	rc = ps_get_list(p, xc_sb_str(&path), "listing volume mappings", rows, err);
	xc_sb_free(&path);
	return rc;
}

/* The name of host or host_group `id`. */
static int ps_name_of(struct ps *p, const char *type, const char *id, char *name, size_t size,
		      struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *o = NULL;
	int rc;

	ps_instance_path(&path, type, id, NULL);
	ps_param(&path, "select", "id,name");
	rc = ps_get_one(p, xc_sb_str(&path), "reading a mapped host", &o, err);
	xc_sb_free(&path);
	if (rc == 0 && o == NULL)
		rc = xclone_error_set(err, XC_E_REMOTE, "PowerStore: mapped %s %s vanished", type, id);
	if (rc == 0)
		rc = xc_copy_field(name, size, xc_json_str(o, "name"), "host name", err);
	cJSON_Delete(o);
	return rc;
}

static int ps_mappings(void *state, const struct xc_lun *lun, struct xc_mapping_list *out,
		       struct xclone_error *err)
{
	struct ps *p = state;
	cJSON *rows = NULL;
	const cJSON *r;
	int rc = ps_list_maps(p, lun->id, NULL, NULL, &rows, err);

	/* a row is a host mapping or a host-group mapping, never both */
	cJSON_ArrayForEach(r, (rc == 0 ? rows : NULL))
	{
		const char *gid = xc_json_str(r, "host_group_id"), *hid = xc_json_str(r, "host_id");
		int is_group = gid != NULL && gid[0] != '\0';
		char name[XC_GROUP_NAME_MAX];
		long number = -1;
		if (!is_group && (hid == NULL || hid[0] == '\0'))
			continue;
		xc_json_long(r, "logical_unit_number", &number);
		if ((rc = ps_name_of(p, is_group ? "host_group" : "host", is_group ? gid : hid, name,
				     sizeof(name), err)) ||
		    (rc = xc_mapping_list_add(out, is_group ? XC_GROUP_HOST_SET : XC_GROUP_HOST, name,
					      number, err)))
			break;
	}
	cJSON_Delete(rows);
	return rc;
}

/* The host or host group a mapping names; *found 0 when the array has none. */
static int ps_find_target(struct ps *p, const struct xc_mapping *t, struct ps_target *out,
			  int *found, struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *rows = NULL;
	const cJSON *r;
	int rc;

	memset(out, 0, sizeof(*out));
	*found = 0;
	out->is_group = t->kind == XC_GROUP_HOST_SET;
	ps_path(&path, out->is_group ? "host_group" : "host");
	ps_param(&path, "select", out->is_group ? "id,name" : "id,name,host_group_id");
	ps_filter_eq(&path, "name", t->group);
	rc = ps_get_list(p, xc_sb_str(&path), out->is_group ? "looking up the host group"
							     : "looking up the host",
			 &rows, err);
	xc_sb_free(&path);
	r = rc == 0 ? ps_named(rows, t->group) : NULL;
	if (r != NULL) {
		rc = xc_copy_field(out->id, sizeof(out->id), xc_json_str(r, "id"), "host id", err);
		if (rc == 0 && xc_json_str(r, "host_group_id") != NULL)
			snprintf(out->group_id, sizeof(out->group_id), "%s",
				 xc_json_str(r, "host_group_id"));
		*found = rc == 0;
	}
	cJSON_Delete(rows);
	return rc;
}

/* Whether the volume is mapped to target now, and at which LUN number. */
static int ps_find_row(struct ps *p, const struct xc_lun *lun, const struct ps_target *t,
		       long *lun_id, int *found, struct xclone_error *err)
{
	cJSON *rows = NULL;
	int rc = ps_list_maps(p, lun->id, t->is_group ? "host_group_id" : "host_id", t->id, &rows,
			      err);

	*found = rc == 0 && cJSON_GetArraySize(rows) > 0;
	if (*found && lun_id != NULL)
		xc_json_long(cJSON_GetArrayItem(rows, 0), "logical_unit_number", lun_id);
	cJSON_Delete(rows);
	return rc;
}

/* Marks the LUN numbers below the ESXi limit used by rows. */
static void ps_mark_used(const cJSON *rows, unsigned char *used)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, rows)
	{
		long n = -1;
		if (xc_json_long(r, "logical_unit_number", &n) == 0 && n >= 0 &&
		    n < PS_ESXI_LUN_LIMIT)
			used[n] = 1;
	}
}

/* The lowest LUN number, from 1, that none of the target's initiators sees yet; -1
 * when all below ESXi's Disk.MaxLUN are taken (then the array chooses). Without
 * this the array counts up across all attaches and wraps only at 16384, and ESXi
 * (Disk.MaxLUN 1024 by default) never sees the LUN (Dell KB 000199943). */
static int ps_pick_lun(struct ps *p, const struct ps_target *t, long *out,
		       struct xclone_error *err)
{
	unsigned char used[PS_ESXI_LUN_LIMIT] = {0};
	cJSON *rows = NULL, *members = NULL;
	const cJSON *m;
	int rc;

	*out = -1;
	/* what the target sees: its own mappings and, for a host, its group's */
	rc = ps_list_maps(p, NULL, t->is_group ? "host_group_id" : "host_id", t->id, &rows, err);
	if (rc == 0)
		ps_mark_used(rows, used);
	cJSON_Delete(rows);
	if (rc == 0 && !t->is_group && t->group_id[0] != '\0') {
		rc = ps_list_maps(p, NULL, "host_group_id", t->group_id, &rows, err);
		if (rc == 0)
			ps_mark_used(rows, used);
		cJSON_Delete(rows);
	}
	/* for a group: each member's own mappings too */
	if (rc == 0 && t->is_group)
		rc = ps_list_hosts(p, "host_group_id", t->id, &members, err);
	cJSON_ArrayForEach(m, (rc == 0 ? members : NULL))
	{
		if (xc_json_str(m, "id") == NULL)
			continue;
		if ((rc = ps_list_maps(p, NULL, "host_id", xc_json_str(m, "id"), &rows, err)))
			break;
		ps_mark_used(rows, used);
		cJSON_Delete(rows);
	}
	cJSON_Delete(members);
	for (long n = 1; rc == 0 && n < PS_ESXI_LUN_LIMIT; n++)
		if (!used[n]) {
			*out = n;
			break;
		}
	return rc;
}

struct ps_map_check {
	struct ps *p;
	const struct xc_lun *lun;
	const struct ps_target *t;
};

static int ps_map_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct ps_map_check *c = ctx;

	return ps_find_row(c->p, c->lun, c->t, NULL, applied, err);
}

/* POST <host|host_group>/<id>/<attach|detach> {"volume_id"[, "logical_unit_number"]}. */
static int ps_action(struct ps *p, const struct ps_target *t, const char *action,
		     const struct xc_lun *lun, long lun_id, struct xc_http_response *resp,
		     int *confirmed, struct xclone_error *err)
{
	struct ps_map_check check = {p, lun, t};
	struct xc_http_request req = {.method = XC_HTTP_POST};
	struct xc_strbuf path;
	cJSON *body = cJSON_CreateObject();
	char *text = NULL;
	int rc = 0;

	memset(resp, 0, sizeof(*resp));
	*confirmed = 0;
	if (body == NULL || !cJSON_AddStringToObject(body, "volume_id", lun->id) ||
	    (lun_id >= 0 && !cJSON_AddNumberToObject(body, "logical_unit_number", (double)lun_id)))
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (rc == 0)
		rc = xc_json_print(body, &text, err);
	cJSON_Delete(body);
	if (rc)
		return rc;
	ps_instance_path(&path, t->is_group ? "host_group" : "host", t->id, action);
	req.path = xc_sb_str(&path);
	req.body = text;
	if (req.path == NULL)
		rc = xclone_error_set(err, XC_E_USAGE, "PowerStore request path too long");
	else if (strcmp(action, "attach") == 0)
		rc = xc_rest_send_checked(p->http, &req, resp, ps_map_check, &check, confirmed,
					  err);
	else /* detaching twice only earns a "not attached" answer: safe to resend */
		rc = ps_send(p, XC_HTTP_POST, req.path, text, 1, resp, err);
	xc_sb_free(&path);
	free(text);
	return rc;
}

static int ps_target_or_fail(struct ps *p, const struct xc_mapping *target, struct ps_target *t,
			     int *found, struct xclone_error *err)
{
	int rc = ps_find_target(p, target, t, found, err);

	if (rc == 0 && !*found)
		rc = xclone_error_set(err, XC_E_NOT_FOUND, "PowerStore has no %s named %s",
				      target->kind == XC_GROUP_HOST_SET ? "host group" : "host",
				      target->group);
	return rc;
}

static int ps_map(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		  struct xc_mapping *result, struct xclone_error *err)
{
	struct ps *p = state;
	struct ps_target t;
	struct xc_http_response resp;
	long lun_id = target->lun_id;
	int found = 0, confirmed = 0, rc = ps_target_or_fail(p, target, &t, &found, err);

	/* already mapped (a second map, or a retry of the whole step): report it */
	if (rc == 0)
		rc = ps_find_row(p, lun, &t, &result->lun_id, &found, err);
	if (rc || found)
		return rc;
	if (lun_id < 0 && (rc = ps_pick_lun(p, &t, &lun_id, err)))
		return rc;
	rc = ps_action(p, &t, "attach", lun, lun_id, &resp, &confirmed, err);
	if (rc == 0 && !confirmed && (resp.status < 200 || resp.status > 299)) {
		/* e.g. "already attached" after an earlier attempt whose answer was lost */
		struct xclone_error check_err;
		if (ps_find_row(p, lun, &t, NULL, &found, &check_err) != 0 || !found)
			rc = ps_fail(p, &resp, err, "attaching the volume");
	}
	xc_http_response_free(&resp);
	if (rc)
		return rc;
	/* the number as the array made it */
	rc = ps_find_row(p, lun, &t, &result->lun_id, &found, err);
	if (rc == 0 && !found)
		rc = xclone_error_set(err, XC_E_REMOTE,
				      "PowerStore: attach of %s to %s not listed after attaching",
				      lun->name, target->group);
	return rc;
}

static int ps_unmap(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		    struct xclone_error *err)
{
	struct ps *p = state;
	struct ps_target t;
	struct xc_http_response resp;
	int found = 0, confirmed = 0, rc = ps_find_target(p, target, &t, &found, err);

	/* no such host or no such mapping: nothing is presented, the goal is reached */
	if (rc == 0 && found)
		rc = ps_find_row(p, lun, &t, NULL, &found, err);
	if (rc || !found)
		return rc;
	rc = ps_action(p, &t, "detach", lun, -1, &resp, &confirmed, err);
	if (rc == 0 && (resp.status < 200 || resp.status > 299)) {
		struct xclone_error check_err;
		if (ps_find_row(p, lun, &t, NULL, &found, &check_err) != 0 || found)
			rc = ps_fail(p, &resp, err, "detaching the volume");
	}
	xc_http_response_free(&resp);
	return rc;
}

/* ---- deleting a host ---- */

/* Whether a volume reaches host t: attached to it or to its host group. */
static int ps_host_in_use(struct ps *p, const struct ps_target *t, int *in_use,
			  struct xclone_error *err)
{
	cJSON *rows = NULL;
	int rc = ps_list_maps(p, NULL, "host_id", t->id, &rows, err);

	*in_use = rc == 0 && cJSON_GetArraySize(rows) > 0;
	cJSON_Delete(rows);
	if (rc == 0 && !*in_use && t->group_id[0] != '\0') {
		rc = ps_list_maps(p, NULL, "host_group_id", t->group_id, &rows, err);
		*in_use = rc == 0 && cJSON_GetArraySize(rows) > 0;
		cJSON_Delete(rows);
	}
	return rc;
}

/* DELETE host/<id>: its initiators go with it. ensure_host makes hosts only, never
 * host groups, so a group g is not ours to delete. Deleting twice only earns a 404,
 * which is the goal reached: safe to resend. */
static int ps_delete_host(void *state, const struct xc_host_group *g, struct xclone_error *err)
{
	struct ps *p = state;
	struct ps_target t;
	struct xc_mapping target = {0};
	struct xc_http_response resp;
	struct xc_strbuf path;
	int found = 0, in_use = 0, rc;

	if (g->kind != XC_GROUP_HOST)
		return xclone_error_set(err, XC_E_USAGE,
					"PowerStore: %s is a host group; xclone creates hosts only",
					g->name);
	target.kind = XC_GROUP_HOST;
	snprintf(target.group, sizeof(target.group), "%s", g->name);
	rc = ps_find_target(p, &target, &t, &found, err);
	if (rc == 0 && found)
		rc = ps_host_in_use(p, &t, &in_use, err);
	if (rc || !found)
		return rc; /* not found: already gone */
	if (in_use)
		return xclone_error_set(err, XC_E_CONFLICT,
					"PowerStore: host %s still sees volumes (attached to it"
					" or to its host group); not deleted",
					g->name);
	ps_instance_path(&path, "host", t.id, NULL);
	rc = ps_send(p, XC_HTTP_DELETE, xc_sb_str(&path), NULL, 1, &resp, err);
	xc_sb_free(&path);
	if (rc == 0 && resp.status != 204 && resp.status != 200 && resp.status != 404) {
		rc = ps_fail(p, &resp, err, "deleting the host");
		/* attached meanwhile: the array's refusal (422) is the same conflict */
		if (resp.status == 422)
			rc = xc_array_conflict(err);
	}
	xc_http_response_free(&resp);
	return rc;
}

const struct xc_array_driver xc_driver_powerstore = {
	.product = "powerstore",
	.vendor = "Dell",
	.url_path = PS_ROOT,
	.open = ps_open,
	.info = ps_info,
	.resolve = ps_resolve,
	.ensure_host = ps_ensure_host,
	.hosts = ps_hosts,
	.mappings = ps_mappings,
	.map = ps_map,
	.unmap = ps_unmap,
	.delete_host = ps_delete_host,
	.close = ps_close,
};
