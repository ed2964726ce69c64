/*
 * Infinidat InfiniBox driver: the management REST API (/api/rest, InfiniBox 7.x/8.x
 * as the 8.4.6 API describes it). Facts and sources: README.md beside this file.
 *
 * HTTP Basic on every request (no session, a 401 is final). Every answer is the
 * envelope {"result", "error", "metadata"}: a call failed when the status is not 2xx
 * *or* the body carries an error, and the error's code is kept. Lists are paged.
 * Writes that may disturb hosts carry approved=true. An initiator (port) belongs to
 * one host; host clusters have LUNs of their own, which every member host sees as
 * "clustered" LUs: those are reported as the cluster's mappings and never removed
 * through a host.
 */
#define _GNU_SOURCE /* strdup, strcasestr under -std=c17 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vendors.h"

#define IBOX_ROOT "/api/rest"
#define IBOX_PAGE_SIZE 1000            /* what infinisdk and iboxapi ask for */
#define IBOX_SERIAL_DIGITS 31
#define IBOX_OUI "742b0f"              /* Infinidat's IEEE company id */

struct ibox {
	struct xc_http *http;
	char system_id[XC_ARRAY_ID_MAX];   /* the system's serial number */
};

int xc_infinibox_naa(const char *serial, char *out, size_t size, struct xclone_error *err)
{
	char lower[IBOX_SERIAL_DIGITS + 1];

	if (serial == NULL || strlen(serial) != IBOX_SERIAL_DIGITS)
		return xclone_error_set(err, XC_E_PROTOCOL,
					"InfiniBox volume serial \"%.40s\" is not %d hex digits",
					serial ? serial : "", IBOX_SERIAL_DIGITS);
	for (size_t i = 0; i <= IBOX_SERIAL_DIGITS; i++)
		lower[i] = (char)tolower((unsigned char)serial[i]);
	if (strncmp(lower, IBOX_OUI, strlen(IBOX_OUI)) != 0)
		return xclone_error_set(err, XC_E_PROTOCOL,
					"InfiniBox volume serial %.40s does not start with Infinidat's"
					" company id %s",
					serial, IBOX_OUI);
	/* NAA type 6 followed by the serial: naa.6742b0f... */
	return xc_naa_from_hex("6", lower, out, size, err);
}

int xc_infinibox_parse_handle(const char *handle, long long *volume_id, char *protocol,
			      size_t size, struct xclone_error *err)
{
	const char *sep = handle ? strstr(handle, "$$") : NULL;
	char *end;

	if (sep == NULL || sep == handle || !isdigit((unsigned char)handle[0]) ||
	    strlen(sep + 2) == 0 || strlen(sep + 2) >= size)
		goto bad;
	*volume_id = strtoll(handle, &end, 10);
	if (end != sep || *volume_id <= 0)
		goto bad;
	snprintf(protocol, size, "%s", sep + 2);
	return 0;
bad:
	return xclone_error_set(err, XC_E_USAGE,
				"volume handle \"%.120s\" is not <volume id>$$<protocol> (Infinidat"
				" CSI driver)",
				handle ? handle : "");
}

/* ---- requests and the envelope ---- */

/* The error of an answer: code, message and first reason from the envelope, the
 * status otherwise. A "NOT_FOUND" code is XC_E_NOT_FOUND whatever the status. */
static int ibox_fail(struct ibox *b, const struct xc_http_response *resp, const cJSON *body,
		     struct xclone_error *err, const char *what)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "error");
	const cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "reasons"), 0);
	const char *code = xc_json_str(e, "code"), *message = xc_json_str(e, "message");
	const char *reason = cJSON_IsString(r0) ? r0->valuestring : NULL;
	int in_2xx = resp->status >= 200 && resp->status < 300;
	char text[400];
	int rc;

	if (message != NULL)
		snprintf(text, sizeof(text), "%s%s%s%s%s%s", message, code ? " (" : "",
			 code ? code : "", code ? ")" : "", reason ? ": " : "", reason ? reason : "");
	else if (body == NULL && resp->body_len > 0)
		snprintf(text, sizeof(text), "the array answered with a body that is not JSON");
	else
		text[0] = '\0';
	rc = xc_rest_fail(b->http, err, resp->status, code, text[0] ? text : NULL,
			  "InfiniBox: %s%s%s", what,
			  resp->status == 401 ? " (check STORAGE_USERNAME/STORAGE_PASSWORD)" : "",
			  in_2xx ? " (an error in a success answer)" : "");
	if (code != NULL && strstr(code, "NOT_FOUND") != NULL) {
		rc = XC_E_NOT_FOUND;
		if (err != NULL)
			err->code = XC_E_NOT_FOUND;
	}
	return rc;
}

/* Whether the answer's error code is `code`. */
static int ibox_error_is(const cJSON *body, const char *code)
{
	const char *c = xc_json_str(cJSON_GetObjectItemCaseSensitive(body, "error"), "code");

	return c != NULL && strcmp(c, code) == 0;
}

/*
 * One answer judged: 0 with *body (owned) when the status is 2xx and the envelope
 * has no error; else the error in err (and *body kept for the caller to inspect the
 * code, when it is JSON).
 */
static int ibox_judge(struct ibox *b, struct xc_http_response *resp, cJSON **body,
		      struct xclone_error *err, const char *what)
{
	const cJSON *e;

	*body = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	e = cJSON_GetObjectItemCaseSensitive(*body, "error");
	if (resp->status >= 200 && resp->status < 300 && *body != NULL &&
	    (e == NULL || cJSON_IsNull(e)))
		return 0;
	if (resp->status >= 200 && resp->status < 300 && *body == NULL)
		return xclone_error_set(err, XC_E_PROTOCOL,
					"InfiniBox: %s: the answer is not JSON (HTTP %ld)", what,
					resp->status);
	return ibox_fail(b, resp, *body, err, what);
}

static int ibox_send(struct ibox *b, enum xc_http_method method, const char *path,
		     const char *body, cJSON **out, struct xclone_error *err, const char *what)
{
	struct xc_http_request req = {0};
	struct xc_http_response resp = {0};
	int rc;

	*out = NULL;
	if (path == NULL)
		return xclone_error_set(err, XC_E_USAGE, "InfiniBox request path too long");
	req.method = method;
	req.path = path;
	req.body = body;
	req.idempotent = method != XC_HTTP_POST;
	rc = xc_http_send(b->http, &req, &resp, err);
	if (rc == 0)
		rc = ibox_judge(b, &resp, out, err, what);
	xc_http_response_free(&resp);
	return rc;
}

/* GET one object: its "result" (inside *holder, owned; NULL on failure). */
static int ibox_get(struct ibox *b, const char *path, const char *what, cJSON **holder,
		    const cJSON **result, struct xclone_error *err)
{
	int rc = ibox_send(b, XC_HTTP_GET, path, NULL, holder, err, what);

	*result = rc == 0 ? cJSON_GetObjectItemCaseSensitive(*holder, "result") : NULL;
	if (rc) { /* the error is in err: the body is not needed */
		cJSON_Delete(*holder);
		*holder = NULL;
		return rc;
	}
	if (!cJSON_IsObject(*result)) {
		cJSON_Delete(*holder);
		*holder = NULL;
		return xclone_error_set(err, XC_E_PROTOCOL, "InfiniBox: %s: no result", what);
	}
	return rc;
}

static void ibox_param(struct xc_strbuf *sb, const char *key, const char *value)
{
	const char *s = xc_sb_str(sb);

	xc_sb_add(sb, s != NULL && strchr(s, '?') != NULL ? "&" : "?");
	xc_sb_add(sb, key);
	xc_sb_add(sb, "=");
	xc_sb_add_escaped(sb, value);
}

/* GETs every page of a list (page_size=1000, page=1..pages_total); *items is new. */
static int ibox_list(struct ibox *b, const char *first, const char *what, cJSON **items,
		     struct xclone_error *err)
{
	long pages = 1;
	int rc = 0;

	*items = NULL;
	if (first == NULL)
		return xclone_error_set(err, XC_E_USAGE, "InfiniBox request path too long");
	if ((*items = cJSON_CreateArray()) == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	for (long page = 1; rc == 0 && page <= pages && page <= 100000; page++) {
		struct xc_strbuf path;
		char num[24];
		cJSON *body = NULL, *list, *item;
		xc_sb_init(&path);
		xc_sb_add(&path, first);
		snprintf(num, sizeof(num), "%d", IBOX_PAGE_SIZE);
		ibox_param(&path, "page_size", num);
		snprintf(num, sizeof(num), "%ld", page);
		ibox_param(&path, "page", num);
		rc = ibox_send(b, XC_HTTP_GET, xc_sb_str(&path), NULL, &body, err, what);
		xc_sb_free(&path);
		if (rc) {
			cJSON_Delete(body);
			break;
		}
		list = cJSON_GetObjectItemCaseSensitive(body, "result");
		if (!cJSON_IsArray(list)) {
			rc = xclone_error_set(err, XC_E_PROTOCOL, "InfiniBox: %s: result is not a list",
					      what);
		} else {
			while ((item = cJSON_DetachItemFromArray(list, 0)) != NULL)
				cJSON_AddItemToArray(*items, item);
			if (xc_json_long(body, "metadata.pages_total", &pages) != 0)
				pages = 1;
		}
		cJSON_Delete(body);
	}
	if (rc) {
		cJSON_Delete(*items);
		*items = NULL;
	}
	return rc;
}

/* ---- open, info ---- */

static int ibox_read_system(struct ibox *b, struct xc_array_info *info, struct xclone_error *err)
{
	cJSON *holder = NULL;
	const cJSON *sys;
	double serial;
	int rc = ibox_get(b, IBOX_ROOT "/system", "reading the system", &holder, &sys, err);

	if (rc)
		return rc;
	if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(sys, "serial_number"))) {
		cJSON_Delete(holder);
		return xclone_error_set(err, XC_E_PROTOCOL, "InfiniBox system has no serial_number");
	}
	serial = cJSON_GetObjectItemCaseSensitive(sys, "serial_number")->valuedouble;
	snprintf(b->system_id, sizeof(b->system_id), "%.0f", serial);
	if (info != NULL) {
		const char *name = xc_json_str(sys, "name"), *model = xc_json_str(sys, "model");
		const char *version = xc_json_str(sys, "version");
		snprintf(info->vendor, sizeof(info->vendor), "Infinidat");
		snprintf(info->name, sizeof(info->name), "%s", name ? name : "");
		snprintf(info->model, sizeof(info->model), "%s", model ? model : "");
		snprintf(info->version, sizeof(info->version), "%s", version ? version : "");
		snprintf(info->array_id, sizeof(info->array_id), "%s", b->system_id);
		snprintf(info->api_version, sizeof(info->api_version), "REST %s",
			 version ? version : "");
	}
	cJSON_Delete(holder);
	return 0;
}

static void ibox_close(void *state)
{
	free(state);
}

static int ibox_open(const struct xc_array_session *s, void **state, struct xclone_error *err)
{
	struct ibox *b = calloc(1, sizeof(*b));
	const char *user, *password;
	int rc;

	*state = NULL;
	if (b == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	b->http = s->http;
	if ((rc = xc_secret_require(s->secret, "STORAGE_USERNAME", &user, err)) ||
	    (rc = xc_secret_require(s->secret, "STORAGE_PASSWORD", &password, err)) ||
	    (rc = xc_http_set_basic_auth(b->http, user, password, err)) ||
	    (rc = ibox_read_system(b, NULL, err))) {
		free(b);
		return rc;
	}
	*state = b;
	return 0;
}

static int ibox_info(void *state, struct xc_array_info *out, struct xclone_error *err)
{
	return ibox_read_system(state, out, err);
}

/* ---- volumes ---- */

static int ibox_lun_from(struct ibox *b, const cJSON *v, struct xc_lun *out,
			 struct xclone_error *err)
{
	long long id;
	int rc;

	if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(v, "id")))
		return xclone_error_set(err, XC_E_PROTOCOL, "InfiniBox volume has no id");
	id = (long long)cJSON_GetObjectItemCaseSensitive(v, "id")->valuedouble;
	if ((rc = xc_copy_field(out->name, sizeof(out->name), xc_json_str(v, "name"), "volume name",
				err)) ||
	    (rc = xc_copy_field(out->serial, sizeof(out->serial), xc_json_str(v, "serial"),
				"volume serial", err)) ||
	    (rc = xc_infinibox_naa(out->serial, out->naa, sizeof(out->naa), err)))
		return rc;
	if (xc_json_u64(v, "size", &out->size_bytes) != 0)
		return xclone_error_set(err, XC_E_PROTOCOL, "InfiniBox volume %s has no size",
					out->name);
	snprintf(out->id, sizeof(out->id), "%lld", id);
	snprintf(out->array_id, sizeof(out->array_id), "%s", b->system_id);
	return 0;
}

/* GET /volumes/<id>; *found 0 when there is no such volume. */
static int ibox_volume_by_id(struct ibox *b, long long id, struct xc_lun *out, int *found,
			     struct xclone_error *err)
{
	char path[96];
	cJSON *holder = NULL;
	const cJSON *v;
	int rc;

	*found = 0;
	snprintf(path, sizeof(path), IBOX_ROOT "/volumes/%lld", id);
	rc = ibox_get(b, path, "reading the volume", &holder, &v, err);
	if (rc == XC_E_NOT_FOUND)
		return 0;
	if (rc == 0 && (rc = ibox_lun_from(b, v, out, err)) == 0)
		*found = 1;
	cJSON_Delete(holder);
	return rc;
}

/* GET /volumes?name=<name>; *found 0 when there is none. */
static int ibox_volume_by_name(struct ibox *b, const char *name, struct xc_lun *out, int *found,
			       struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *items = NULL;
	int rc;

	*found = 0;
	xc_sb_init(&path);
	xc_sb_add(&path, IBOX_ROOT "/volumes");
	ibox_param(&path, "name", name);
	rc = ibox_list(b, xc_sb_str(&path), "looking up the volume", &items, err);
	xc_sb_free(&path);
	if (rc)
		return rc;
	/* the bare ?name= filter is equality for Infinidat's clients; keep exact matches */
	const cJSON *v, *match = NULL;
	int n = 0;
	cJSON_ArrayForEach(v, items)
		if (xc_json_str(v, "name") && strcmp(xc_json_str(v, "name"), name) == 0) {
			match = v;
			n++;
		}
	if (n > 1)
		rc = xclone_error_set(err, XC_E_CONFLICT, "InfiniBox: %d volumes are named %.100s", n,
				      name);
	else if (n == 1 && (rc = ibox_lun_from(b, match, out, err)) == 0)
		*found = 1;
	cJSON_Delete(items);
	return rc;
}

/*
 * The CSI driver's PV: volumeHandle "<volume id>$$<protocol>", volumeAttributes "ID"
 * and "Name" (the volume's name, which is the PV name). The id is looked up first; a
 * Name that disagrees with the volume found by id is refused (not the PV's volume).
 */
static int ibox_resolve(void *state, const struct xc_pv *pv, struct xc_lun *out,
			struct xclone_error *err)
{
	struct ibox *b = state;
	const char *name = xc_pv_attr(pv, "Name"), *id_attr = xc_pv_attr(pv, "ID");
	char protocol[32];
	long long id = 0;
	struct xclone_error ignored;
	char *end;
	int found = 0, rc;

	if (pv->volume_handle != NULL &&
	    xc_infinibox_parse_handle(pv->volume_handle, &id, protocol, sizeof(protocol),
				      &ignored) != 0)
		id = 0;
	if (id == 0 && id_attr != NULL && isdigit((unsigned char)id_attr[0])) {
		id = strtoll(id_attr, &end, 10);
		if (*end != '\0')
			id = 0;
	}
	if (id > 0) {
		rc = ibox_volume_by_id(b, id, out, &found, err);
		if (rc)
			return rc;
		if (found && name != NULL && name[0] != '\0' && strcmp(out->name, name) != 0)
			return xclone_error_set(err, XC_E_NOT_FOUND,
						"InfiniBox: volume %lld is named %.100s, not %.100s as PV"
						" %.100s says: not its volume",
						id, out->name, name, pv->name);
		if (found)
			return 0;
	}
	rc = ibox_volume_by_name(b, name && name[0] ? name : pv->name, out, &found, err);
	if (rc || found)
		return rc;
	return xclone_error_set(err, XC_E_NOT_FOUND,
				"InfiniBox has no volume for PV %.100s (looked for id %lld and name"
				" %.100s)",
				pv->name, id, name && name[0] ? name : pv->name);
}

/* ---- hosts ---- */

/* The port list body item: FC as colon-separated WWPN, iSCSI as the IQN. */
static void port_address(const struct xc_initiator *ini, char *out, size_t size)
{
	if (ini->kind == XC_INITIATOR_FC)
		xc_wwn_format(ini->wwpn, XC_WWN_COLON_LOWER, out, size);
	else
		snprintf(out, size, "%s", ini->id);
}

static size_t host_holds(const cJSON *h, const struct xc_initiator *ini, size_t n,
			 unsigned char *held)
{
	memset(held, 0, n);
	return xc_json_initiators_held(cJSON_GetObjectItemCaseSensitive(h, "ports"), "address", ini, n,
				       held);
}

static int group_from_item(const cJSON *item, enum xc_group_kind kind, const cJSON *ports,
			   struct xc_host_group *out, struct xclone_error *err)
{
	const cJSON *p;
	int rc = xc_host_group_init(out, xc_json_str(item, "name"), kind, err);

	cJSON_ArrayForEach(p, ports)
		if (rc == 0 && xc_json_str(p, "address") != NULL)
			xc_host_group_add_initiator(out, xc_json_str(p, "address"));
	return rc;
}

static int ibox_list_hosts(struct ibox *b, const char *name, cJSON **items,
			   struct xclone_error *err)
{
	struct xc_strbuf path;
	int rc;

	xc_sb_init(&path);
	xc_sb_add(&path, IBOX_ROOT "/hosts");
	if (name != NULL)
		ibox_param(&path, "name", name);
	rc = ibox_list(b, xc_sb_str(&path), "listing hosts", items, err);
	xc_sb_free(&path);
	return rc;
}

/* The host or cluster named name: its id, 0 when there is none. */
static int ibox_find(struct ibox *b, enum xc_group_kind kind, const char *name, long *id,
		     struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *items = NULL;
	const cJSON *it;
	int rc;

	*id = 0;
	xc_sb_init(&path);
	xc_sb_add(&path, kind == XC_GROUP_HOST_SET ? IBOX_ROOT "/clusters" : IBOX_ROOT "/hosts");
	ibox_param(&path, "name", name);
	rc = ibox_list(b, xc_sb_str(&path), kind == XC_GROUP_HOST_SET ? "looking up the host cluster"
								       : "looking up the host",
		       &items, err);
	xc_sb_free(&path);
	cJSON_ArrayForEach(it, (rc == 0 ? items : NULL))
		if (xc_json_str(it, "name") && strcmp(xc_json_str(it, "name"), name) == 0)
			xc_json_long(it, "id", id);
	cJSON_Delete(items);
	return rc;
}

struct port_check {
	struct ibox *b;
	const char *name;
	const struct xc_initiator *ini;  /* NULL: does the host exist */
};

/* After a lost create: does host `name` exist (and hold no port yet) / hold the port? */
static int port_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct port_check *c = ctx;
	cJSON *items = NULL;
	unsigned char held[1];
	int rc = ibox_list_hosts(c->b, c->name, &items, err);

	*applied = 0;
	/* a host of that name with ports is someone else's, not our lost create */
	if (rc == 0 && cJSON_GetArraySize(items) == 1 && c->ini == NULL)
		*applied = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				   cJSON_GetArrayItem(items, 0), "ports")) == 0;
	else if (rc == 0 && cJSON_GetArraySize(items) == 1)
		*applied = host_holds(cJSON_GetArrayItem(items, 0), c->ini, 1, held) == 1;
	cJSON_Delete(items);
	return rc;
}

/* POST, safely against lost answers; "already" answers are judged by check. */
static int ibox_post_checked(struct ibox *b, const char *path, const char *body, struct port_check *c,
			     const char *already, const char *what, struct xclone_error *err)
{
	struct xc_http_request req = {.method = XC_HTTP_POST, .path = path, .body = body};
	struct xc_http_response resp = {0};
	cJSON *out = NULL;
	int confirmed = 0, applied = 0;
	int rc = xc_rest_send_checked(b->http, &req, &resp, port_check, c, &confirmed, err);

	if (rc || confirmed)
		return rc;
	rc = ibox_judge(b, &resp, &out, err, what);
	xc_http_response_free(&resp);
	if (rc && out != NULL && ibox_error_is(out, already)) {
		struct xclone_error first = err ? *err : (struct xclone_error){0};
		if (port_check(c, &applied, err) == 0 && applied)
			rc = 0; /* made by an earlier attempt whose answer was lost */
		else if (err != NULL)
			*err = first;
	}
	cJSON_Delete(out);
	return rc;
}

static int ibox_add_port(struct ibox *b, long host_id, const char *host_name,
			 const struct xc_initiator *ini, struct xclone_error *err)
{
	struct port_check c = {b, host_name, ini};
	char path[128], address[XC_INITIATOR_MAX];
	cJSON *body = cJSON_CreateObject();
	char *text = NULL;
	int rc = 0;

	port_address(ini, address, sizeof(address));
	if (body == NULL ||
	    !cJSON_AddStringToObject(body, "type", ini->kind == XC_INITIATOR_FC ? "FC" : "ISCSI") ||
	    !cJSON_AddStringToObject(body, "address", address))
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (rc == 0)
		rc = xc_json_print(body, &text, err);
	cJSON_Delete(body);
	snprintf(path, sizeof(path), IBOX_ROOT "/hosts/%ld/ports?approved=true", host_id);
	if (rc == 0)
		rc = ibox_post_checked(b, path, text, &c, "PORT_ALREADY_BELONGS_TO_HOST",
				       "adding a port to the host", err);
	free(text);
	return rc;
}

/* POST /hosts {"name"}: the new host's id. */
static int ibox_create_host(struct ibox *b, const char *name, long *id, struct xclone_error *err)
{
	struct port_check c = {b, name, NULL};
	cJSON *body = cJSON_CreateObject();
	char *text = NULL;
	int rc = 0;

	if (body == NULL || !cJSON_AddStringToObject(body, "name", name))
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (rc == 0)
		rc = xc_json_print(body, &text, err);
	cJSON_Delete(body);
	if (rc == 0)
		rc = ibox_post_checked(b, IBOX_ROOT "/hosts", text, &c, "NAME_CONFLICT",
				       "creating the host", err);
	free(text);
	if (rc == 0)
		rc = ibox_find(b, XC_GROUP_HOST, name, id, err);
	if (rc == 0 && *id == 0)
		rc = xclone_error_set(err, XC_E_REMOTE, "InfiniBox: host %s not listed after"
					" creating it", name);
	return rc;
}

/*
 * An InfiniBox initiator belongs to one host: one host holding them all is reused, one
 * holding part is completed, none: a host is created; several holders are a conflict.
 */
static int ibox_ensure_host(void *state, const char *name, const struct xc_initiator *ini,
			    size_t n, struct xc_host_group *out, struct xclone_error *err)
{
	struct ibox *b = state;
	unsigned char held[XC_HOST_INITIATORS_MAX], have[XC_HOST_INITIATORS_MAX] = {0};
	char holders[512] = "", host_name[XC_GROUP_NAME_MAX];
	const cJSON *h, *holder = NULL;
	cJSON *items = NULL, *final = NULL;
	size_t n_holders = 0;
	long id = 0;
	int rc = ibox_list_hosts(b, NULL, &items, err);

	if (rc)
		return rc;
	cJSON_ArrayForEach(h, items)
	{
		if (host_holds(h, ini, n, held) == 0)
			continue;
		n_holders++;
		holder = h;
		memcpy(have, held, n);
		size_t used = strlen(holders);
		snprintf(holders + used, sizeof(holders) - used, "%s%s", used ? ", " : "",
			 xc_json_str(h, "name") ? xc_json_str(h, "name") : "?");
	}
	if (n_holders > 1) {
		rc = xclone_error_set(err, XC_E_CONFLICT,
				      "InfiniBox: these initiators belong to hosts %s; an InfiniBox"
				      " port belongs to one host, so merge them first",
				      holders);
	} else if (n_holders == 1) {
		rc = xc_copy_field(host_name, sizeof(host_name), xc_json_str(holder, "name"),
				   "host name", err);
		if (rc == 0 && xc_json_long(holder, "id", &id) != 0)
			rc = xclone_error_set(err, XC_E_PROTOCOL, "InfiniBox host has no id");
	} else {
		snprintf(host_name, sizeof(host_name), "%s", name);
		rc = ibox_create_host(b, name, &id, err);
		if (rc == XC_E_CONFLICT || (rc && err && strcmp(err->remote_code, "NAME_CONFLICT") == 0))
			rc = xclone_error_set(err, XC_E_CONFLICT,
					      "InfiniBox: a host named %s already exists and holds none"
					      " of these initiators: choose another name",
					      name);
	}
	cJSON_Delete(items);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (!have[i])
			rc = ibox_add_port(b, id, host_name, &ini[i], err);
	if (rc)
		return rc;
	rc = ibox_list_hosts(b, host_name, &final, err);
	if (rc == 0 && cJSON_GetArraySize(final) != 1)
		rc = xclone_error_set(err, XC_E_PROTOCOL, "InfiniBox: host %s vanished", host_name);
	if (rc == 0)
		rc = group_from_item(cJSON_GetArrayItem(final, 0), XC_GROUP_HOST,
				     cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(final, 0), "ports"),
				     out, err);
	cJSON_Delete(final);
	return rc;
}

/* Hosts, then host clusters with their members' ports. */
static int ibox_hosts(void *state, struct xc_host_list *out, struct xclone_error *err)
{
	struct ibox *b = state;
	cJSON *hosts = NULL, *clusters = NULL;
	const cJSON *h, *c, *m;
	int rc = ibox_list_hosts(b, NULL, &hosts, err);

	if (rc == 0)
		rc = ibox_list(b, IBOX_ROOT "/clusters", "listing host clusters", &clusters, err);
	cJSON_ArrayForEach(h, (rc == 0 ? hosts : NULL))
	{
		struct xc_host_group g;
		if ((rc = group_from_item(h, XC_GROUP_HOST, cJSON_GetObjectItemCaseSensitive(h, "ports"),
					  &g, err)) ||
		    (rc = xc_host_list_add(out, &g, err)))
			break;
	}
	cJSON_ArrayForEach(c, (rc == 0 ? clusters : NULL))
	{
		struct xc_host_group g;
		if ((rc = xc_host_group_init(&g, xc_json_str(c, "name"), XC_GROUP_HOST_SET, err)))
			break;
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(c, "hosts"))
		{
			long mid = -1, hid = -2;
			xc_json_long(m, "id", &mid);
			cJSON_ArrayForEach(h, hosts)
				if (xc_json_long(h, "id", &hid) == 0 && hid == mid) {
					const cJSON *p;
					cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(h, "ports"))
						if (xc_json_str(p, "address"))
							xc_host_group_add_initiator(&g, xc_json_str(p, "address"));
				}
		}
		if ((rc = xc_host_list_add(out, &g, err)))
			break;
	}
	cJSON_Delete(hosts);
	cJSON_Delete(clusters);
	return rc;
}

/* ---- LUN mappings ---- */

/* The name of host or cluster `id` in items (listed with ibox_list), or NULL. */
static const char *name_of(const cJSON *items, long id)
{
	const cJSON *it;
	long got;

	cJSON_ArrayForEach(it, items)
		if (xc_json_long(it, "id", &got) == 0 && got == id)
			return xc_json_str(it, "name");
	return NULL;
}

/* GET /volumes/<id>/luns: host LUs as hosts, clustered LUs once as their cluster. */
static int ibox_mappings(void *state, const struct xc_lun *lun, struct xc_mapping_list *out,
			 struct xclone_error *err)
{
	struct ibox *b = state;
	char path[XC_ARRAY_ID_MAX + 64];
	cJSON *lus = NULL, *hosts = NULL, *clusters = NULL;
	const cJSON *lu;
	int rc;

	if ((rc = xc_rest_numeric_id(lun->id, "InfiniBox", "volume", err)))
		return rc;
	snprintf(path, sizeof(path), IBOX_ROOT "/volumes/%s/luns", lun->id);
	if ((rc = ibox_list(b, path, "listing the volume's LUNs", &lus, err)) ||
	    (rc = ibox_list_hosts(b, NULL, &hosts, err)) ||
	    (rc = ibox_list(b, IBOX_ROOT "/clusters", "listing host clusters", &clusters, err)))
		goto done;
	cJSON_ArrayForEach(lu, lus)
	{
		long n = -1, host_id = 0, cluster_id = 0;
		int clustered = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(lu, "clustered"));
		const char *group;
		xc_json_long(lu, "lun", &n);
		xc_json_long(lu, "host_id", &host_id);
		xc_json_long(lu, "host_cluster_id", &cluster_id);
		group = clustered ? name_of(clusters, cluster_id) : name_of(hosts, host_id);
		if (group == NULL) {
			rc = xclone_error_set(err, XC_E_PROTOCOL,
					      "InfiniBox: LUN %ld of volume %s names an unknown %s %ld",
					      n, lun->name, clustered ? "host cluster" : "host",
					      clustered ? cluster_id : host_id);
			break;
		}
		enum xc_group_kind kind = clustered ? XC_GROUP_HOST_SET : XC_GROUP_HOST;
		if (xc_mapping_list_find(out, kind, group) == NULL &&
		    (rc = xc_mapping_list_add(out, kind, group, n, err)))
			break;
	}
done:
	cJSON_Delete(lus);
	cJSON_Delete(hosts);
	cJSON_Delete(clusters);
	return rc;
}

/* "/hosts/<id>" or "/clusters/<id>" */
static void target_path(char *out, size_t size, enum xc_group_kind kind, long id, const char *rest)
{
	snprintf(out, size, IBOX_ROOT "/%s/%ld%s", kind == XC_GROUP_HOST_SET ? "clusters" : "hosts",
		 id, rest);
}

/* The LU of the volume the target sees (its own, or for a host its cluster's); *n -1
 * when none. */
static int ibox_target_lu(struct ibox *b, enum xc_group_kind kind, long id,
			  const struct xc_lun *lun, long *n, int *clustered,
			  struct xclone_error *err)
{
	char path[160];
	struct xc_strbuf sb;
	cJSON *lus = NULL;
	const cJSON *lu;
	long vid;
	int rc;

	*n = -1;
	*clustered = 0;
	target_path(path, sizeof(path), kind, id, "/luns");
	xc_sb_init(&sb);
	xc_sb_add(&sb, path);
	ibox_param(&sb, "volume_id", lun->id);
	rc = ibox_list(b, xc_sb_str(&sb), "listing LUNs", &lus, err);
	xc_sb_free(&sb);
	cJSON_ArrayForEach(lu, (rc == 0 ? lus : NULL))
	{
		char vid_text[32];
		/* filter again: an array that ignores volume_id= must not mislead us */
		if (xc_json_long(lu, "volume_id", &vid) != 0)
			continue;
		snprintf(vid_text, sizeof(vid_text), "%ld", vid);
		if (strcmp(vid_text, lun->id) != 0)
			continue;
		xc_json_long(lu, "lun", n);
		*clustered = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(lu, "clustered"));
		if (!*clustered)
			break; /* its own LU wins over the cluster's */
	}
	cJSON_Delete(lus);
	return rc;
}

struct map_check {
	struct ibox *b;
	enum xc_group_kind kind;
	long id;
	const struct xc_lun *lun;
};

static int map_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct map_check *c = ctx;
	long n;
	int clustered;
	int rc = ibox_target_lu(c->b, c->kind, c->id, c->lun, &n, &clustered, err);

	*applied = rc == 0 && n >= 0;
	return rc;
}

static int ibox_map(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		    struct xc_mapping *result, struct xclone_error *err)
{
	struct ibox *b = state;
	struct map_check check = {b, target->kind, 0, lun};
	struct xc_http_request req = {.method = XC_HTTP_POST};
	struct xc_http_response resp = {0};
	char path[160], body[XC_ARRAY_ID_MAX + 64];
	cJSON *out = NULL;
	long n;
	int clustered, confirmed = 0;
	int rc = xc_rest_numeric_id(lun->id, "InfiniBox", "volume", err);

	if (rc == 0)
		rc = ibox_find(b, target->kind, target->group, &check.id, err);
	if (rc)
		return rc;
	if (check.id == 0)
		return xclone_error_set(err, XC_E_NOT_FOUND, "InfiniBox has no %s named %.100s",
					target->kind == XC_GROUP_HOST_SET ? "host cluster" : "host",
					target->group);
	/* visible already (mapped, or through the host's cluster): nothing to add */
	rc = ibox_target_lu(b, target->kind, check.id, lun, &n, &clustered, err);
	if (rc || n >= 0) {
		result->lun_id = n;
		return rc;
	}
	target_path(path, sizeof(path), target->kind, check.id, "/luns?approved=true");
	if (target->lun_id >= 0)
		snprintf(body, sizeof(body), "{\"volume_id\":%s,\"lun\":%ld}", lun->id, target->lun_id);
	else
		snprintf(body, sizeof(body), "{\"volume_id\":%s}", lun->id);
	req.path = path;
	req.body = body;
	rc = xc_rest_send_checked(b->http, &req, &resp, map_check, &check, &confirmed, err);
	if (rc == 0 && !confirmed) {
		rc = ibox_judge(b, &resp, &out, err, "mapping the volume");
		if (rc && out != NULL && ibox_error_is(out, "MAPPING_ALREADY_EXISTS"))
			rc = 0; /* a resend of a map whose answer was lost */
		else if (rc == 0 && xc_json_long(cJSON_GetObjectItemCaseSensitive(out, "result"), "lun",
						 &n) == 0) {
			result->lun_id = n;
			cJSON_Delete(out);
			xc_http_response_free(&resp);
			return 0;
		}
	}
	cJSON_Delete(out);
	xc_http_response_free(&resp);
	if (rc)
		return rc;
	rc = ibox_target_lu(b, target->kind, check.id, lun, &n, &clustered, err);
	if (rc == 0 && n < 0)
		rc = xclone_error_set(err, XC_E_REMOTE,
				      "InfiniBox: volume %s not mapped to %s after mapping it",
				      lun->name, target->group);
	result->lun_id = n;
	return rc;
}

static int ibox_unmap(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		      struct xclone_error *err)
{
	struct ibox *b = state;
	char path[XC_ARRAY_ID_MAX + 128], rest[XC_ARRAY_ID_MAX + 64];
	cJSON *out = NULL;
	long id = 0, n;
	int clustered;
	int rc = xc_rest_numeric_id(lun->id, "InfiniBox", "volume", err);

	if (rc == 0)
		rc = ibox_find(b, target->kind, target->group, &id, err);
	if (rc || id == 0)
		return rc; /* no such host: nothing is mapped to it */
	rc = ibox_target_lu(b, target->kind, id, lun, &n, &clustered, err);
	/* not mapped; or, for a host, visible through its cluster: not ours to remove */
	if (rc || n < 0 || (target->kind == XC_GROUP_HOST && clustered))
		return rc;
	snprintf(rest, sizeof(rest), "/luns/volume_id/%s?approved=true", lun->id);
	target_path(path, sizeof(path), target->kind, id, rest);
	rc = ibox_send(b, XC_HTTP_DELETE, path, NULL, &out, err, "unmapping the volume");
	cJSON_Delete(out);
	if (rc == XC_E_NOT_FOUND) {
		/* gone already (a resend after a lost answer): check, then it is the goal */
		struct xclone_error check_err;
		if (ibox_target_lu(b, target->kind, id, lun, &n, &clustered, &check_err) == 0 &&
		    (n < 0 || (target->kind == XC_GROUP_HOST && clustered)))
			rc = 0;
	}
	return rc;
}

/* ---- deleting a host ---- */

/*
 * DELETE /hosts/<id>: its ports go with it. Refused while the host sees a LU (its
 * own or its cluster's). Sent without approved=true, as iboxapi's DeleteHost does:
 * the array asks approval (APPROVAL_REQUIRED) for a deletion that would disturb a
 * host with LUNs, and xclone never approves that, so such an answer is the conflict.
 */
static int ibox_delete_host(void *state, const struct xc_host_group *g, struct xclone_error *err)
{
	struct ibox *b = state;
	char path[96];
	cJSON *lus = NULL, *out = NULL;
	long id = 0;
	int n, rc;

	if (g->kind != XC_GROUP_HOST)
		return xclone_error_set(err, XC_E_USAGE,
					"InfiniBox: %s is a host cluster; xclone creates hosts only",
					g->name);
	rc = ibox_find(b, XC_GROUP_HOST, g->name, &id, err);
	if (rc || id == 0)
		return rc; /* gone already */
	target_path(path, sizeof(path), XC_GROUP_HOST, id, "/luns");
	rc = ibox_list(b, path, "listing the host's LUNs", &lus, err);
	n = cJSON_GetArraySize(lus);
	cJSON_Delete(lus);
	if (rc == XC_E_NOT_FOUND)
		return 0; /* deleted meanwhile */
	if (rc)
		return rc;
	if (n > 0)
		return xclone_error_set(err, XC_E_CONFLICT,
					"InfiniBox: host %s still sees %d LUN%s; not deleted", g->name, n,
					n == 1 ? "" : "s");
	target_path(path, sizeof(path), XC_GROUP_HOST, id, "");
	rc = ibox_send(b, XC_HTTP_DELETE, path, NULL, &out, err, "deleting the host");
	if (rc == XC_E_NOT_FOUND) {
		rc = 0; /* a resend after a lost answer */
	} else if (rc && out != NULL && ibox_error_is(out, "APPROVAL_REQUIRED")) {
		rc = xc_array_conflict(err);
	}
	cJSON_Delete(out);
	return rc;
}

const struct xc_array_driver xc_driver_infinibox = {
	.product = "infinibox",
	.vendor = "Infinidat",
	.url_path = IBOX_ROOT,
	/* NVMe hosts see namespaces as eui. devices, which this driver does not map */
	.initiator_kinds = (1u << XC_INITIATOR_ISCSI) | (1u << XC_INITIATOR_FC),
	.open = ibox_open,
	.info = ibox_info,
	.resolve = ibox_resolve,
	.ensure_host = ibox_ensure_host,
	.hosts = ibox_hosts,
	.mappings = ibox_mappings,
	.map = ibox_map,
	.unmap = ibox_unmap,
	.delete_host = ibox_delete_host,
	.close = ibox_close,
};
