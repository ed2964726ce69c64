/*
 * NetApp ONTAP driver, ONTAP REST API (/api, ONTAP 9.8 and later; the calls used
 * here are those of Trident's REST client, which needs 9.12.1). Facts and
 * sources: README.md beside this file.
 *
 * HTTP Basic on every request (no session: a 401 is final). One SVM
 * (ONTAP_SVM, or the only SVM the user sees). LUNs are found by the path Trident
 * gives a PV; igroups (os_type vmware) hold the ESXi initiators: an igroup that
 * already holds them all is reused, the igroup named for the host is completed,
 * otherwise one is created (an initiator may sit in several ONTAP igroups).
 */
#define _GNU_SOURCE /* strdup, strcasestr under -std=c17 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vendors.h"

#define ONTAP_NAA_PREFIX "600a0980" /* clustered ONTAP; 7-Mode used 60a98000 */
#define ONTAP_SERIAL_CHARS 12
#define TRIDENT_DEFAULT_PREFIX "trident_"

/* ONTAP error codes (error.code) this driver acts on. */
#define ONTAP_E_IGROUP_EXISTS "5374023"
#define ONTAP_E_INITIATOR_IN_IGROUP "5374035"
#define ONTAP_E_LUN_ALREADY_MAPPED "1254207"
#define ONTAP_E_LUN_MAP_NOT_FOUND "5374922"
#define ONTAP_E_IGROUP_NOT_FOUND "5374852"
#define ONTAP_E_IGROUP_MAPPED "1254213"

struct ontap {
	struct xc_http *http;
	char svm[256];
	char svm_uuid[64];
	char cluster_uuid[XC_ARRAY_ID_MAX];
};

int xc_ontap_naa(const char *serial, char *out, size_t size, struct xclone_error *err)
{
	if (serial == NULL || strlen(serial) != ONTAP_SERIAL_CHARS)
		return xclone_error_set(err, XC_E_PROTOCOL, "ONTAP LUN serial \"%.40s\" is not %d"
					" characters", serial ? serial : "", ONTAP_SERIAL_CHARS);
	return xc_naa_from_ascii(ONTAP_NAA_PREFIX, serial, out, size, err);
}

/* Trident's internal volume name: <prefix><name>, '-' and '.' made '_', then each
 * "__" made "_" in one left-to-right pass (as Go's strings.Replace does). */
static int trident_internal_name(const char *name, char *out, size_t size)
{
	char tmp[XC_ARRAY_NAME_MAX];
	size_t o = 0;
	int n = snprintf(tmp, sizeof(tmp), "%s%s", TRIDENT_DEFAULT_PREFIX, name);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	for (char *p = tmp; *p; p++)
		if (*p == '-' || *p == '.')
			*p = '_';
	for (size_t i = 0; tmp[i] != '\0'; i++) {
		if (o + 1 >= size)
			return -1;
		out[o++] = tmp[i];
		if (tmp[i] == '_' && tmp[i + 1] == '_')
			i++;
	}
	out[o] = '\0';
	return 0;
}

int xc_ontap_lun_path(const struct xc_pv *pv, char *out, size_t size, struct xclone_error *err)
{
	const char *id = xc_pv_attr(pv, "internalID");
	const char *internal = xc_pv_attr(pv, "internalName");
	char derived[XC_ARRAY_NAME_MAX];
	int n;

	if (id != NULL && id[0] != '\0') {
		/* ontap-san-economy: /svm/<svm>/flexvol/<flexvol>/lun/<lun> */
		char flexvol[256], lun[256];
		const char *p = id, *q;
		if (strncmp(p, "/svm/", 5) != 0 || (q = strchr(p + 5, '/')) == NULL ||
		    strncmp(q, "/flexvol/", 9) != 0)
			goto bad_id;
		p = q + 9;
		if ((q = strchr(p, '/')) == NULL || strncmp(q, "/lun/", 5) != 0 ||
		    (size_t)(q - p) >= sizeof(flexvol) || q == p)
			goto bad_id;
		snprintf(flexvol, sizeof(flexvol), "%.*s", (int)(q - p), p);
		p = q + 5;
		if (*p == '\0' || strchr(p, '/') != NULL || strlen(p) >= sizeof(lun))
			goto bad_id;
		snprintf(lun, sizeof(lun), "%s", p);
		n = snprintf(out, size, "/vol/%s/%s", flexvol, lun);
	} else if (internal != NULL && internal[0] != '\0') {
		/* ontap-san: one FlexVol per PV holding lun0 */
		n = snprintf(out, size, "/vol/%s/lun0", internal);
	} else {
		const char *name = pv->volume_handle && pv->volume_handle[0] ? pv->volume_handle
									    : pv->name;
		if (trident_internal_name(name, derived, sizeof(derived)) != 0)
			return xclone_error_set(err, XC_E_USAGE, "PV name too long");
		n = snprintf(out, size, "/vol/%s/lun0", derived);
	}
	if (n < 0 || (size_t)n >= size)
		return xclone_error_set(err, XC_E_USAGE, "LUN path too long");
	return 0;
bad_id:
	return xclone_error_set(err, XC_E_USAGE,
				"volume attribute internalID \"%.200s\" is not"
				" /svm/<svm>/flexvol/<volume>/lun/<lun>",
				id);
}

/* error.message and error.code of an ONTAP error body; code may be a string or a number. */
static void ontap_error_fields(const cJSON *body, const char **message, char *code, size_t size)
{
	const cJSON *c = xc_json_path(body, "error.code");

	*message = xc_json_str(body, "error.message");
	code[0] = '\0';
	if (cJSON_IsString(c))
		snprintf(code, size, "%s", c->valuestring);
	else if (cJSON_IsNumber(c))
		snprintf(code, size, "%.0f", c->valuedouble);
}

/* The ONTAP error code of an answer ("" when none). */
static void ontap_error_code(const struct xc_http_response *resp, char *code, size_t size)
{
	cJSON *body = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	const char *message;

	ontap_error_fields(body, &message, code, size);
	cJSON_Delete(body);
}

static int ontap_fail(struct ontap *o, const struct xc_http_response *resp,
		      struct xclone_error *err, const char *what)
{
	cJSON *body = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	const char *message = NULL;
	char code[32], both[400];
	int rc;

	ontap_error_fields(body, &message, code, sizeof(code));
	if (message != NULL && code[0] != '\0') {
		snprintf(both, sizeof(both), "%s (error %s)", message, code);
		message = both;
	}
	/* Basic auth is checked on every call: a 401 is always the credentials */
	rc = xc_rest_fail(o->http, err, resp->status, code[0] ? code : NULL, message, "ONTAP: %s%s",
			  what,
			  resp->status == 401 ? " (check STORAGE_USERNAME/STORAGE_PASSWORD)" : "");
	cJSON_Delete(body);
	return rc;
}

static void ontap_param(struct xc_strbuf *sb, const char *key, const char *value)
{
	const char *s = xc_sb_str(sb);

	xc_sb_add(sb, s != NULL && strchr(s, '?') != NULL ? "&" : "?");
	xc_sb_add(sb, key);
	xc_sb_add(sb, "=");
	xc_sb_add_escaped(sb, value);
}

/* "/api/<resource>?svm.uuid=<svm>" */
static void ontap_path(struct xc_strbuf *sb, const struct ontap *o, const char *resource)
{
	xc_sb_init(sb);
	xc_sb_addf(sb, "/api/%s", resource);
	if (o->svm_uuid[0] != '\0')
		ontap_param(sb, "svm.uuid", o->svm_uuid);
}

static int ontap_send(struct ontap *o, enum xc_http_method method, const char *path,
		      const char *body, struct xc_http_response *resp, struct xclone_error *err)
{
	struct xc_http_request req = {0};

	memset(resp, 0, sizeof(*resp));
	if (path == NULL)
		return xclone_error_set(err, XC_E_USAGE, "ONTAP request path too long");
	req.method = method;
	req.path = path;
	req.body = body;
	req.idempotent = method != XC_HTTP_POST;
	return xc_http_send(o->http, &req, resp, err);
}

/* GETs a collection, following _links.next; *records is a new JSON array. */
static int ontap_get_records(struct ontap *o, const char *first, const char *what, cJSON **records,
			     struct xclone_error *err)
{
	char *next = NULL;
	int rc = 0;

	*records = NULL;
	if (first == NULL)
		return xclone_error_set(err, XC_E_USAGE, "ONTAP request path too long");
	*records = cJSON_CreateArray();
	if (*records == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	for (unsigned page = 0; rc == 0 && page < 100000; page++) {
		struct xc_http_response resp;
		cJSON *body = NULL, *list, *item;
		const char *href;

		rc = ontap_send(o, XC_HTTP_GET, next ? next : first, NULL, &resp, err);
		if (rc == 0 && resp.status != 200)
			rc = ontap_fail(o, &resp, err, what);
		if (rc == 0)
			rc = xc_rest_json(&resp, &body, err);
		xc_http_response_free(&resp);
		if (rc)
			break;
		list = cJSON_GetObjectItemCaseSensitive(body, "records");
		if (!cJSON_IsArray(list)) {
			cJSON_Delete(body);
			rc = xclone_error_set(err, XC_E_PROTOCOL, "ONTAP: %s: answer has no records",
					      what);
			break;
		}
		while ((item = cJSON_DetachItemFromArray(list, 0)) != NULL)
			cJSON_AddItemToArray(*records, item);
		href = xc_json_str(body, "_links.next.href");
		free(next);
		next = NULL;
		/* only follow links that stay on this API */
		if (href != NULL && strncmp(href, "/api/", 5) == 0 && (next = strdup(href)) == NULL)
			rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
		cJSON_Delete(body);
		if (next == NULL)
			break;
	}
	free(next);
	if (rc) {
		cJSON_Delete(*records);
		*records = NULL;
	}
	return rc;
}

/* ---- open and info ---- */

static int ontap_pick_svm(struct ontap *o, const char *svm, struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *records = NULL;
	const cJSON *r;
	int rc;

	xc_sb_init(&path);
	xc_sb_add(&path, "/api/svm/svms");
	ontap_param(&path, "fields", "uuid,name");
	if (svm != NULL)
		ontap_param(&path, "name", svm);
	rc = ontap_get_records(o, xc_sb_str(&path), "looking up the SVM", &records, err);
	xc_sb_free(&path);
	if (rc)
		return rc;
	if (cJSON_GetArraySize(records) != 1) {
		rc = svm ? xclone_error_set(err, XC_E_CONFIG,
					    "secret key ONTAP_SVM: no SVM named %.100s on this"
					    " cluster",
					    svm)
			 : xclone_error_set(err, XC_E_CONFIG,
					    "secret key ONTAP_SVM is missing and the cluster has %d"
					    " SVMs: name one",
					    cJSON_GetArraySize(records));
	} else {
		r = cJSON_GetArrayItem(records, 0);
		rc = xc_copy_field(o->svm_uuid, sizeof(o->svm_uuid), xc_json_str(r, "uuid"),
				   "SVM uuid", err);
		if (rc == 0)
			rc = xc_copy_field(o->svm, sizeof(o->svm), xc_json_str(r, "name"), "SVM name",
					   err);
	}
	cJSON_Delete(records);
	return rc;
}

/* GET /api/cluster: uuid (the LUNs' array id), name and version. */
static int ontap_read_cluster(struct ontap *o, struct xc_array_info *info, struct xclone_error *err)
{
	struct xc_http_response resp;
	cJSON *c = NULL;
	int rc = ontap_send(o, XC_HTTP_GET, "/api/cluster?fields=uuid,name,version", NULL, &resp, err);

	if (rc == 0 && resp.status != 200)
		rc = ontap_fail(o, &resp, err, "reading the cluster");
	if (rc == 0)
		rc = xc_rest_json(&resp, &c, err);
	xc_http_response_free(&resp);
	if (rc == 0)
		rc = xc_copy_field(o->cluster_uuid, sizeof(o->cluster_uuid), xc_json_str(c, "uuid"),
				   "cluster uuid", err);
	if (rc == 0 && info != NULL) {
		long g = 0, ma = 0, mi = 0;
		const char *name = xc_json_str(c, "name"), *full = xc_json_str(c, "version.full");
		xc_json_long(c, "version.generation", &g);
		xc_json_long(c, "version.major", &ma);
		xc_json_long(c, "version.minor", &mi);
		snprintf(info->array_id, sizeof(info->array_id), "%s", o->cluster_uuid);
		snprintf(info->name, sizeof(info->name), "%s", name ? name : "");
		snprintf(info->version, sizeof(info->version), "%s", full ? full : "");
		snprintf(info->api_version, sizeof(info->api_version), "ONTAP %ld.%ld.%ld", g, ma, mi);
	}
	cJSON_Delete(c);
	return rc;
}

static void ontap_close(void *state)
{
	free(state);
}

static int ontap_open(const struct xc_array_session *s, void **state, struct xclone_error *err)
{
	struct ontap *o = calloc(1, sizeof(*o));
	const char *user, *password, *svm;
	int rc;

	*state = NULL;
	if (o == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	o->http = s->http;
	if ((rc = xc_secret_require(s->secret, "STORAGE_USERNAME", &user, err)) ||
	    (rc = xc_secret_require(s->secret, "STORAGE_PASSWORD", &password, err)) ||
	    (rc = xc_secret_get(s->secret, "ONTAP_SVM", &svm, err)) ||
	    (rc = xc_http_set_basic_auth(o->http, user, password, err)) ||
	    (rc = ontap_pick_svm(o, svm && svm[0] ? svm : NULL, err)) ||
	    (rc = ontap_read_cluster(o, NULL, err))) {
		free(o);
		return rc;
	}
	*state = o;
	return 0;
}

static int ontap_info(void *state, struct xc_array_info *out, struct xclone_error *err)
{
	struct ontap *o = state;
	cJSON *nodes = NULL;
	const cJSON *n;
	int rc;

	snprintf(out->vendor, sizeof(out->vendor), "NetApp");
	rc = ontap_read_cluster(o, out, err);
	if (rc == 0)
		rc = ontap_get_records(o, "/api/cluster/nodes?fields=name,model", "reading the nodes",
				       &nodes, err);
	cJSON_ArrayForEach(n, (rc == 0 ? nodes : NULL))
	{
		const char *model = xc_json_str(n, "model");
		if (model != NULL && model[0] != '\0') {
			snprintf(out->model, sizeof(out->model), "%s", model);
			break;
		}
	}
	cJSON_Delete(nodes);
	return rc;
}

/* ---- LUNs ---- */

static int ontap_resolve(void *state, const struct xc_pv *pv, struct xc_lun *out,
			 struct xclone_error *err)
{
	struct ontap *o = state;
	char path_name[XC_ARRAY_NAME_MAX];
	struct xc_strbuf path;
	cJSON *records = NULL;
	const cJSON *r;
	int rc = xc_ontap_lun_path(pv, path_name, sizeof(path_name), err);

	if (rc)
		return rc;
	ontap_path(&path, o, "storage/luns");
	ontap_param(&path, "name", path_name);
	ontap_param(&path, "fields", "uuid,name,serial_number,space.size");
	rc = ontap_get_records(o, xc_sb_str(&path), "looking up the LUN", &records, err);
	xc_sb_free(&path);
	if (rc)
		return rc;
	if (cJSON_GetArraySize(records) != 1) {
		rc = xclone_error_set(err, XC_E_NOT_FOUND, "ONTAP SVM %s has no LUN %s (PV %.100s)",
				      o->svm, path_name, pv->name);
		cJSON_Delete(records);
		return rc;
	}
	r = cJSON_GetArrayItem(records, 0);
	if ((rc = xc_copy_field(out->name, sizeof(out->name), xc_json_str(r, "name"), "LUN name",
				err)) ||
	    (rc = xc_copy_field(out->id, sizeof(out->id), xc_json_str(r, "uuid"), "LUN uuid", err)) ||
	    (rc = xc_copy_field(out->serial, sizeof(out->serial), xc_json_str(r, "serial_number"),
				"LUN serial", err)) ||
	    (rc = xc_ontap_naa(out->serial, out->naa, sizeof(out->naa), err))) {
		cJSON_Delete(records);
		return rc;
	}
	if (xc_json_u64(r, "space.size", &out->size_bytes) != 0)
		rc = xclone_error_set(err, XC_E_PROTOCOL, "ONTAP LUN %s has no size", out->name);
	snprintf(out->array_id, sizeof(out->array_id), "%s", o->cluster_uuid);
	cJSON_Delete(records);
	return rc;
}

/* ---- igroups ---- */

static int ontap_list_igroups(struct ontap *o, const char *name, cJSON **records,
			      struct xclone_error *err)
{
	struct xc_strbuf path;
	int rc;

	ontap_path(&path, o, "protocols/san/igroups");
	if (name != NULL)
		ontap_param(&path, "name", name);
	ontap_param(&path, "fields", "uuid,name,protocol,os_type,initiators.name");
	rc = ontap_get_records(o, xc_sb_str(&path), "listing igroups", records, err);
	xc_sb_free(&path);
	return rc;
}

static size_t ontap_igroup_holds(const cJSON *ig, const struct xc_initiator *ini, size_t n,
				 unsigned char *held)
{
	memset(held, 0, n);
	return xc_json_initiators_held(cJSON_GetObjectItemCaseSensitive(ig, "initiators"), "name", ini,
				       n, held);
}

static int ontap_group_from_record(const cJSON *ig, struct xc_host_group *out,
				   struct xclone_error *err)
{
	const cJSON *i;
	int rc = xc_host_group_init(out, xc_json_str(ig, "name"), XC_GROUP_HOST, err);

	cJSON_ArrayForEach(i, (rc == 0 ? cJSON_GetObjectItemCaseSensitive(ig, "initiators") : NULL))
		xc_host_group_add_initiator(out, xc_json_str(i, "name"));
	return rc;
}

/* An initiator as ONTAP names it: IQN / EUI as given, WWPN as colon-separated pairs. */
static void ontap_initiator_text(const struct xc_initiator *ini, char *buf, size_t size)
{
	if (ini->kind == XC_INITIATOR_FC)
		xc_wwn_format(ini->wwpn, XC_WWN_COLON_LOWER, buf, size);
	else
		snprintf(buf, size, "%s", ini->id);
}

/* [{"name": ...}, ...] for the initiators not held (held NULL: all). */
static cJSON *ontap_initiator_records(const struct xc_initiator *ini, size_t n,
				      const unsigned char *held)
{
	cJSON *list = cJSON_CreateArray();

	for (size_t i = 0; list != NULL && i < n; i++) {
		char text[XC_INITIATOR_MAX];
		cJSON *rec;
		if (held != NULL && held[i])
			continue;
		ontap_initiator_text(&ini[i], text, sizeof(text));
		rec = cJSON_CreateObject();
		if (rec == NULL || !cJSON_AddStringToObject(rec, "name", text) ||
		    !cJSON_AddItemToArray(list, rec)) {
			cJSON_Delete(rec);
			cJSON_Delete(list);
			return NULL;
		}
	}
	return list;
}

static const char *ontap_protocol(const struct xc_initiator *ini, size_t n)
{
	int iscsi = 0, fc = 0;

	for (size_t i = 0; i < n; i++) {
		iscsi |= ini[i].kind == XC_INITIATOR_ISCSI;
		fc |= ini[i].kind == XC_INITIATOR_FC;
	}
	return iscsi && fc ? "mixed" : (fc ? "fcp" : "iscsi");
}

struct ontap_igroup_check {
	struct ontap *o;
	const char *name;
	const struct xc_initiator *ini;
	size_t n;
};

/* After an unanswered create or add: does igroup `name` hold every initiator? */
static int ontap_igroup_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct ontap_igroup_check *c = ctx;
	unsigned char held[XC_HOST_INITIATORS_MAX];
	cJSON *records = NULL;
	int rc = ontap_list_igroups(c->o, c->name, &records, err);

	*applied = rc == 0 && cJSON_GetArraySize(records) == 1 &&
		   ontap_igroup_holds(cJSON_GetArrayItem(records, 0), c->ini, c->n, held) == c->n;
	cJSON_Delete(records);
	return rc;
}

/* POST path with body, safe against lost answers; "already there" codes are success
 * when the check agrees. */
static int ontap_post_igroup(struct ontap *o, const char *path, cJSON *body, const char *exists_code,
			     struct ontap_igroup_check *check, const char *what,
			     struct xclone_error *err)
{
	struct xc_http_request req = {.method = XC_HTTP_POST, .path = path};
	struct xc_http_response resp = {0};
	char *text = NULL, code[32];
	int confirmed = 0, applied = 0, rc;

	if (path == NULL)
		return xclone_error_set(err, XC_E_USAGE, "ONTAP request path too long");
	if ((rc = xc_json_print(body, &text, err)) != 0)
		return rc;
	req.body = text;
	rc = xc_rest_send_checked(o->http, &req, &resp, ontap_igroup_check, check, &confirmed, err);
	free(text);
	if (rc || confirmed)
		return rc;
	if (resp.status != 200 && resp.status != 201) {
		ontap_error_code(&resp, code, sizeof(code));
		if (strcmp(code, exists_code) == 0 && ontap_igroup_check(check, &applied, err) == 0 &&
		    applied)
			rc = 0; /* done by an earlier attempt whose answer was lost */
		else
			rc = ontap_fail(o, &resp, err, what);
	}
	xc_http_response_free(&resp);
	return rc;
}

static int ontap_create_igroup(struct ontap *o, const char *name, const struct xc_initiator *ini,
			       size_t n, struct xclone_error *err)
{
	struct ontap_igroup_check check = {o, name, ini, n};
	struct xc_strbuf path;
	cJSON *body = cJSON_CreateObject(), *svm, *list = ontap_initiator_records(ini, n, NULL);
	int rc;

	if (body == NULL || list == NULL || !cJSON_AddItemToObject(body, "initiators", list)) {
		cJSON_Delete(list);
		cJSON_Delete(body);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	if ((svm = cJSON_AddObjectToObject(body, "svm")) == NULL ||
	    !cJSON_AddStringToObject(svm, "uuid", o->svm_uuid) ||
	    !cJSON_AddStringToObject(body, "name", name) ||
	    !cJSON_AddStringToObject(body, "os_type", "vmware") ||
	    !cJSON_AddStringToObject(body, "protocol", ontap_protocol(ini, n))) {
		cJSON_Delete(body);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	xc_sb_init(&path);
	xc_sb_add(&path, "/api/protocols/san/igroups?return_records=true");
	rc = ontap_post_igroup(o, xc_sb_str(&path), body, ONTAP_E_IGROUP_EXISTS, &check,
			       "creating the igroup", err);
	xc_sb_free(&path);
	cJSON_Delete(body);
	return rc;
}

static int ontap_add_initiators(struct ontap *o, const cJSON *ig, const struct xc_initiator *ini,
				size_t n, const unsigned char *held, struct xclone_error *err)
{
	struct ontap_igroup_check check = {o, xc_json_str(ig, "name"), ini, n};
	struct xc_strbuf path;
	cJSON *body = cJSON_CreateObject(), *list = ontap_initiator_records(ini, n, held);
	int rc;

	if (body == NULL || list == NULL || !cJSON_AddItemToObject(body, "records", list)) {
		cJSON_Delete(list);
		cJSON_Delete(body);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	xc_sb_init(&path);
	xc_sb_add(&path, "/api/protocols/san/igroups/");
	xc_sb_add_escaped(&path, xc_json_str(ig, "uuid") ? xc_json_str(ig, "uuid") : "");
	xc_sb_add(&path, "/initiators");
	rc = ontap_post_igroup(o, xc_sb_str(&path), body, ONTAP_E_INITIATOR_IN_IGROUP, &check,
			       "adding initiators to the igroup", err);
	xc_sb_free(&path);
	cJSON_Delete(body);
	return rc;
}

static int ontap_ensure_host(void *state, const char *name, const struct xc_initiator *ini,
			     size_t n, struct xc_host_group *out, struct xclone_error *err)
{
	struct ontap *o = state;
	unsigned char held[XC_HOST_INITIATORS_MAX], named_held[XC_HOST_INITIATORS_MAX];
	const cJSON *ig, *holder = NULL, *named = NULL;
	cJSON *records = NULL, *final = NULL;
	const char *chosen = name;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (ini[i].kind == XC_INITIATOR_NVME)
			return xclone_error_set(err, XC_E_USAGE,
						"ONTAP presents NVMe namespaces through NVMe"
						" subsystems, not igroups: %s is not supported",
						ini[i].id);
	rc = ontap_list_igroups(o, NULL, &records, err);
	if (rc)
		return rc;
	cJSON_ArrayForEach(ig, records)
	{
		const char *ig_name = xc_json_str(ig, "name");
		size_t c = ontap_igroup_holds(ig, ini, n, held);
		if (ig_name != NULL && strcmp(ig_name, name) == 0) {
			named = ig;
			memcpy(named_held, held, n);
		}
		/* an igroup of another OS type would present the LUN wrongly to ESXi */
		const char *os = xc_json_str(ig, "os_type");
		if (os != NULL && strcmp(os, "vmware") != 0)
			continue;
		/* prefer our own name among igroups that hold them all */
		if (c == n && (holder == NULL || (ig_name && strcmp(ig_name, name) == 0)))
			holder = ig;
	}
	if (holder != NULL)
		chosen = xc_json_str(holder, "name");
	else if (named != NULL)
		rc = ontap_add_initiators(o, named, ini, n, named_held, err);
	else
		rc = ontap_create_igroup(o, name, ini, n, err);
	if (rc == 0)
		rc = ontap_list_igroups(o, chosen, &final, err);
	if (rc == 0 && cJSON_GetArraySize(final) != 1)
		rc = xclone_error_set(err, XC_E_PROTOCOL, "ONTAP: igroup %s not listed after the change",
				      chosen);
	if (rc == 0)
		rc = ontap_group_from_record(cJSON_GetArrayItem(final, 0), out, err);
	cJSON_Delete(final);
	cJSON_Delete(records);
	return rc;
}

static int ontap_hosts(void *state, struct xc_host_list *out, struct xclone_error *err)
{
	struct ontap *o = state;
	cJSON *records = NULL;
	const cJSON *ig;
	int rc = ontap_list_igroups(o, NULL, &records, err);

	cJSON_ArrayForEach(ig, (rc == 0 ? records : NULL))
	{
		struct xc_host_group g;
		if ((rc = ontap_group_from_record(ig, &g, err)) || (rc = xc_host_list_add(out, &g, err)))
			break;
	}
	cJSON_Delete(records);
	return rc;
}

/* ---- LUN maps ---- */

/* The LUN's maps (igroup name → uuid, number); igroup NULL = all. */
static int ontap_list_maps(struct ontap *o, const struct xc_lun *lun, const char *igroup,
			   cJSON **records, struct xclone_error *err)
{
	struct xc_strbuf path;
	int rc;

	ontap_path(&path, o, "protocols/san/lun-maps");
	ontap_param(&path, "lun.uuid", lun->id);
	if (igroup != NULL)
		ontap_param(&path, "igroup.name", igroup);
	ontap_param(&path, "fields", "igroup.name,igroup.uuid,logical_unit_number");
	rc = ontap_get_records(o, xc_sb_str(&path), "listing LUN maps", records, err);
	xc_sb_free(&path);
	return rc;
}

static int ontap_mappings(void *state, const struct xc_lun *lun, struct xc_mapping_list *out,
			  struct xclone_error *err)
{
	struct ontap *o = state;
	cJSON *records = NULL;
	const cJSON *m;
	int rc = ontap_list_maps(o, lun, NULL, &records, err);

	cJSON_ArrayForEach(m, (rc == 0 ? records : NULL))
	{
		long number = -1;
		xc_json_long(m, "logical_unit_number", &number);
		if ((rc = xc_mapping_list_add(out, XC_GROUP_HOST, xc_json_str(m, "igroup.name"), number,
					      err)))
			break;
	}
	cJSON_Delete(records);
	return rc;
}

static int ontap_no_host_sets(const struct xc_mapping *target, struct xclone_error *err)
{
	if (target->kind == XC_GROUP_HOST_SET)
		return xclone_error_set(err, XC_E_USAGE,
					"ONTAP maps LUNs to igroups: give the igroup as a host, not"
					" a host group");
	return 0;
}

/* The current map of lun to igroup: *found, and its number in result. */
static int ontap_find_map(struct ontap *o, const struct xc_lun *lun, const char *igroup,
			  struct xc_mapping *result, int *found, struct xclone_error *err)
{
	cJSON *records = NULL;
	int rc = ontap_list_maps(o, lun, igroup, &records, err);

	*found = rc == 0 && cJSON_GetArraySize(records) > 0;
	if (*found && result != NULL)
		xc_json_long(cJSON_GetArrayItem(records, 0), "logical_unit_number", &result->lun_id);
	cJSON_Delete(records);
	return rc;
}

struct ontap_map_check {
	struct ontap *o;
	const struct xc_lun *lun;
	const char *igroup;
};

static int ontap_map_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct ontap_map_check *c = ctx;

	return ontap_find_map(c->o, c->lun, c->igroup, NULL, applied, err);
}

static int ontap_map(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		     struct xc_mapping *result, struct xclone_error *err)
{
	struct ontap *o = state;
	struct ontap_map_check check = {o, lun, target->group};
	struct xc_http_request req = {.method = XC_HTTP_POST,
				      .path = "/api/protocols/san/lun-maps?return_records=true"};
	struct xc_http_response resp = {0};
	cJSON *body = cJSON_CreateObject(), *svm, *l, *ig;
	char *text = NULL, code[32];
	int confirmed = 0, found = 0, rc = ontap_no_host_sets(target, err);

	if (rc == 0 &&
	    (body == NULL || (svm = cJSON_AddObjectToObject(body, "svm")) == NULL ||
	     !cJSON_AddStringToObject(svm, "uuid", o->svm_uuid) ||
	     (l = cJSON_AddObjectToObject(body, "lun")) == NULL ||
	     !cJSON_AddStringToObject(l, "uuid", lun->id) ||
	     (ig = cJSON_AddObjectToObject(body, "igroup")) == NULL ||
	     !cJSON_AddStringToObject(ig, "name", target->group) ||
	     (target->lun_id >= 0 &&
	      !cJSON_AddNumberToObject(body, "logical_unit_number", (double)target->lun_id))))
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (rc == 0)
		rc = xc_json_print(body, &text, err);
	cJSON_Delete(body);
	if (rc)
		return rc;
	req.body = text;
	rc = xc_rest_send_checked(o->http, &req, &resp, ontap_map_check, &check, &confirmed, err);
	free(text);
	if (rc)
		return rc;
	if (!confirmed && resp.status != 201 && resp.status != 200) {
		ontap_error_code(&resp, code, sizeof(code));
		if (strcmp(code, ONTAP_E_LUN_ALREADY_MAPPED) != 0) {
			rc = ontap_fail(o, &resp, err, "mapping the LUN");
			xc_http_response_free(&resp);
			return rc;
		}
	} else if (!confirmed) {
		cJSON *b = cJSON_ParseWithLength(resp.body, resp.body_len);
		long number = -1;
		int have = xc_json_long(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "records"), 0),
					"logical_unit_number", &number) == 0;
		cJSON_Delete(b);
		if (have) {
			result->lun_id = number;
			xc_http_response_free(&resp);
			return 0;
		}
	}
	xc_http_response_free(&resp);
	/* already mapped, or mapped by an attempt whose answer was lost: read the number */
	rc = ontap_find_map(o, lun, target->group, result, &found, err);
	if (rc == 0 && !found)
		rc = xclone_error_set(err, XC_E_REMOTE, "ONTAP: map of %s to %s not listed after mapping",
				      lun->name, target->group);
	return rc;
}

static int ontap_unmap(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		       struct xclone_error *err)
{
	struct ontap *o = state;
	struct xc_http_response resp;
	struct xc_strbuf path;
	cJSON *records = NULL;
	char code[32];
	int rc = ontap_no_host_sets(target, err);

	if (rc == 0)
		rc = ontap_list_maps(o, lun, target->group, &records, err);
	if (rc || cJSON_GetArraySize(records) == 0) {
		cJSON_Delete(records);
		return rc; /* not mapped: nothing to do */
	}
	xc_sb_init(&path);
	xc_sb_add(&path, "/api/protocols/san/lun-maps/");
	xc_sb_add_escaped(&path, lun->id);
	xc_sb_add(&path, "/");
	xc_sb_add_escaped(&path, xc_json_str(cJSON_GetArrayItem(records, 0), "igroup.uuid")
					 ? xc_json_str(cJSON_GetArrayItem(records, 0), "igroup.uuid")
					 : "");
	cJSON_Delete(records);
	rc = ontap_send(o, XC_HTTP_DELETE, xc_sb_str(&path), NULL, &resp, err);
	xc_sb_free(&path);
	if (rc == 0 && resp.status != 200 && resp.status != 204) {
		ontap_error_code(&resp, code, sizeof(code));
		/* a resent DELETE whose first answer was lost finds nothing: that is the goal */
		if (strcmp(code, ONTAP_E_LUN_MAP_NOT_FOUND) != 0)
			rc = ontap_fail(o, &resp, err, "unmapping the LUN");
	}
	xc_http_response_free(&resp);
	return rc;
}

/* ---- deleting an igroup ---- */

/* The igroup named g with its LUN maps (an "expensive" field, so asked for); *ig NULL
 * when there is none. */
static int ontap_igroup_with_maps(struct ontap *o, const char *name, cJSON **records,
				  const cJSON **ig, struct xclone_error *err)
{
	struct xc_strbuf path;
	int rc;

	ontap_path(&path, o, "protocols/san/igroups");
	ontap_param(&path, "name", name);
	ontap_param(&path, "fields", "uuid,name,lun_maps.lun.name");
	rc = ontap_get_records(o, xc_sb_str(&path), "listing the igroup's LUN maps", records, err);
	xc_sb_free(&path);
	*ig = rc == 0 ? cJSON_GetArrayItem(*records, 0) : NULL;
	return rc;
}

/* DELETE /api/protocols/san/igroups/{uuid}: the igroup's initiators go with it.
 * Refused while the igroup has LUN maps; allow_delete_while_mapped is never sent. */
static int ontap_delete_host(void *state, const struct xc_host_group *g, struct xclone_error *err)
{
	struct ontap *o = state;
	struct xc_http_response resp;
	struct xc_strbuf path;
	cJSON *records = NULL;
	const cJSON *ig, *maps;
	char code[32];
	int rc = ontap_igroup_with_maps(o, g->name, &records, &ig, err);

	if (rc || ig == NULL) {
		cJSON_Delete(records);
		return rc; /* no such igroup: already gone */
	}
	maps = cJSON_GetObjectItemCaseSensitive(ig, "lun_maps");
	if (cJSON_GetArraySize(maps) > 0) {
		rc = xclone_error_set(err, XC_E_CONFLICT,
				      "ONTAP: igroup %s is still mapped to %d LUN(s) (%s); not deleted",
				      g->name, cJSON_GetArraySize(maps),
				      xc_json_text(cJSON_GetArrayItem(maps, 0), "lun.name"));
		cJSON_Delete(records);
		return rc;
	}
	xc_sb_init(&path);
	xc_sb_add(&path, "/api/protocols/san/igroups/");
	xc_sb_add_escaped(&path, xc_json_text(ig, "uuid"));
	cJSON_Delete(records);
	rc = ontap_send(o, XC_HTTP_DELETE, xc_sb_str(&path), NULL, &resp, err);
	xc_sb_free(&path);
	if (rc == 0 && resp.status != 200 && resp.status != 204) {
		ontap_error_code(&resp, code, sizeof(code));
		/* gone already (a resent DELETE whose first answer was lost): the goal */
		if (strcmp(code, ONTAP_E_IGROUP_NOT_FOUND) != 0)
			rc = ontap_fail(o, &resp, err, "deleting the igroup");
		/* mapped between our check and the DELETE */
		if (strcmp(code, ONTAP_E_IGROUP_MAPPED) == 0)
			rc = xc_array_conflict(err);
	}
	xc_http_response_free(&resp);
	return rc;
}

const struct xc_array_driver xc_driver_ontap = {
	.product = "ontap",
	.vendor = "NetApp",
	.open = ontap_open,
	.info = ontap_info,
	.resolve = ontap_resolve,
	.ensure_host = ontap_ensure_host,
	.hosts = ontap_hosts,
	.mappings = ontap_mappings,
	.map = ontap_map,
	.unmap = ontap_unmap,
	.delete_host = ontap_delete_host,
	.close = ontap_close,
};
