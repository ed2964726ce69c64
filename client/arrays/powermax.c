/*
 * Dell PowerMax driver: the Unisphere for PowerMax REST API
 * (/univmax/restapi/<version>/sloprovisioning/symmetrix/<id>/...), HTTP Basic on
 * every request. Facts and sources: README.md beside this file.
 *
 * A volume is presented by a masking view: storage group (volumes) + host
 * (initiator group) or host group + port group (array ports). To map device D to
 * host H this driver makes its own storage group and masking view, named from H
 * and D (xc_powermax_object_names), in the port group POWERMAX_PORT_GROUP_NAME;
 * what exists already under those names (an interrupted run) is reused, and unmap
 * removes exactly those objects, never anyone else's.
 */
#define _GNU_SOURCE /* strdup, strcasestr, getentropy, nanosleep under -std=c17 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vendors.h"

#define PMAX_ROOT "/univmax/restapi"
#define PMAX_API_MIN 91           /* Unisphere 9.1: the oldest shapes read */
#define PMAX_API_MAX 103          /* Unisphere 10.3 (PyU4V 10.3): the newest shapes read */
#define PMAX_CYLINDER_BYTES (15ULL * 128 * 1024) /* FBA: 15 tracks of 128 KiB */
#define PMAX_NAME_MAX 64
#define PMAX_OBJECT_PREFIX "xclone-"
#define PMAX_SG_SUFFIX "-SG"
#define PMAX_PAGES_MAX 10000

struct pmax {
	struct xc_http *http;
	char version[24];                   /* REST version in paths: "101" */
	char sym[16];                       /* POWERMAX_SYMMETRIX_ID */
	char port_group[PMAX_NAME_MAX + 1]; /* POWERMAX_PORT_GROUP_NAME */
	enum xc_initiator_kind pg_kind;     /* what the port group carries */
	char pg_protocol[16];
	char unisphere[64], model[64], ucode[64];
};

/* ---- names and ids ---- */

int xc_powermax_naa(const char *wwn, char *out, size_t size, struct xclone_error *err)
{
	if (wwn == NULL || strlen(wwn) != 32)
		return xclone_error_set(err, XC_E_PROTOCOL,
					"PowerMax WWN \"%.40s\" is not 32 hex digits", wwn ? wwn : "");
	return xc_naa_from_hex("", wwn, out, size, err);
}

static int is_dev_id(const char *s, size_t len)
{
	if (len != 5)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int is_sym_id(const char *s, size_t len)
{
	if (len != 12)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* "<local>" or "<local>:<remote>" (SRDF), each checked by valid; upper-cased. */
static int split_pair(const char *s, size_t len, int (*valid)(const char *, size_t), char *local,
		      char *remote, size_t size)
{
	const char *colon = memchr(s, ':', len);
	size_t l1 = colon ? (size_t)(colon - s) : len, l2 = colon ? len - l1 - 1 : 0;

	if (!valid(s, l1) || (colon != NULL && !valid(colon + 1, l2)) || l1 >= size || l2 >= size)
		return -1;
	for (size_t i = 0; i < l1; i++)
		local[i] = (char)toupper((unsigned char)s[i]);
	local[l1] = '\0';
	for (size_t i = 0; i < l2; i++)
		remote[i] = (char)toupper((unsigned char)colon[1 + i]);
	remote[l2] = '\0';
	return 0;
}

int xc_powermax_parse_handle(const char *handle, struct xc_powermax_handle *out,
			     struct xclone_error *err)
{
	const char *dash_dev, *dash_sym;
	size_t len = handle ? strlen(handle) : 0;

	memset(out, 0, sizeof(*out));
	dash_dev = len ? memrchr(handle, '-', len) : NULL;
	dash_sym = dash_dev ? memrchr(handle, '-', (size_t)(dash_dev - handle)) : NULL;
	if (dash_sym == NULL ||
	    split_pair(dash_dev + 1, strlen(dash_dev + 1), is_dev_id, out->dev, out->remote_dev,
		       sizeof(out->dev)) != 0 ||
	    split_pair(dash_sym + 1, (size_t)(dash_dev - dash_sym - 1), is_sym_id, out->sym,
		       out->remote_sym, sizeof(out->sym)) != 0 ||
	    (size_t)(dash_sym - handle) >= sizeof(out->identifier))
		return xclone_error_set(err, XC_E_USAGE,
					"\"%.100s\" is not a csi-powermax volume handle"
					" (<identifier>-<array id>-<device id>)",
					handle ? handle : "");
	if ((out->remote_dev[0] != '\0') != (out->remote_sym[0] != '\0'))
		return xclone_error_set(err, XC_E_USAGE,
					"volume handle \"%.100s\": an SRDF pair needs both the remote"
					" array and the remote device",
					handle);
	memcpy(out->identifier, handle, (size_t)(dash_sym - handle));
	out->identifier[dash_sym - handle] = '\0';
	return 0;
}

void xc_powermax_object_names(const char *group, const char *dev, char *mv, size_t mv_size,
			      char *sg, size_t sg_size)
{
	/* "xclone-" + dev + "-" + group + "-SG" must fit Unisphere's 64 characters */
	size_t room = PMAX_NAME_MAX - strlen(PMAX_OBJECT_PREFIX) - strlen(dev) - 1 -
		      strlen(PMAX_SG_SUFFIX);
	char part[PMAX_NAME_MAX + 1];

	if (strlen(group) <= room) {
		snprintf(part, sizeof(part), "%s", group);
	} else {
		unsigned hash = 2166136261u; /* FNV-1a: a long name keeps a short, stable tail */
		for (const char *c = group; *c; c++)
			hash = (hash ^ (unsigned char)*c) * 16777619u;
		snprintf(part, sizeof(part), "%.*s-%08x", (int)(room - 9), group, hash);
	}
	snprintf(mv, mv_size, "%s%s-%s", PMAX_OBJECT_PREFIX, dev, part);
	snprintf(sg, sg_size, "%s%s-%s%s", PMAX_OBJECT_PREFIX, dev, part, PMAX_SG_SUFFIX);
}

/* ---- requests ---- */

/* "/univmax/restapi/<v>/sloprovisioning/symmetrix/<sym>/<kind>[/<id>]" */
static void pmax_path(struct xc_strbuf *sb, const struct pmax *p, const char *kind, const char *id)
{
	xc_sb_init(sb);
	xc_sb_addf(sb, PMAX_ROOT "/%s/sloprovisioning/symmetrix/%s/%s", p->version, p->sym, kind);
	if (id != NULL) {
		xc_sb_add(sb, "/");
		xc_sb_add_escaped(sb, id);
	}
}

static void pmax_param(struct xc_strbuf *sb, const char *key, const char *value)
{
	const char *s = xc_sb_str(sb);

	xc_sb_add(sb, s != NULL && strchr(s, '?') != NULL ? "&" : "?");
	xc_sb_add(sb, key);
	xc_sb_add(sb, "=");
	xc_sb_add_escaped(sb, value);
}

/* Unisphere's not-found texts vary ("cannot be found", "Could not find"). */
static int pmax_not_found(const struct xc_http_response *resp, const char *message)
{
	return resp->status == 404 ||
	       (message != NULL && (strcasestr(message, "cannot be found") != NULL ||
				    strcasestr(message, "could not find") != NULL));
}

/* An error answer ({"message"}) as err; not-found answers are XC_E_NOT_FOUND. */
static int pmax_fail(struct pmax *p, const struct xc_http_response *resp, struct xclone_error *err,
		     const char *what)
{
	cJSON *body = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	const char *m = xc_json_str(body, "message");
	int rc = xc_rest_fail(p->http, err, resp->status, NULL, m, "PowerMax: %s%s", what,
			      resp->status == 401 ? " (check STORAGE_USERNAME/STORAGE_PASSWORD)" : "");

	if (pmax_not_found(resp, m)) {
		rc = XC_E_NOT_FOUND;
		if (err != NULL)
			err->code = XC_E_NOT_FOUND;
	}
	cJSON_Delete(body);
	return rc;
}

static int pmax_send(struct pmax *p, const struct xc_http_request *req,
		     struct xc_http_response *resp, struct xclone_error *err)
{
	memset(resp, 0, sizeof(*resp));
	if (req->path == NULL)
		return xclone_error_set(err, XC_E_USAGE, "PowerMax request path too long");
	return xc_http_send(p->http, req, resp, err);
}

/* GET path → *out (a JSON object), or the error. */
static int pmax_get(struct pmax *p, const char *path, const char *what, cJSON **out,
		    struct xclone_error *err)
{
	struct xc_http_request req = {.method = XC_HTTP_GET, .path = path, .idempotent = 1};
	struct xc_http_response resp;
	int rc = pmax_send(p, &req, &resp, err);

	*out = NULL;
	if (rc == 0 && resp.status != 200)
		rc = pmax_fail(p, &resp, err, what);
	if (rc == 0)
		rc = xc_rest_json(&resp, out, err);
	xc_http_response_free(&resp);
	return rc;
}

/* GET of one object by kind and id. */
static int pmax_get_object(struct pmax *p, const char *kind, const char *id, const char *what,
			   cJSON **out, struct xclone_error *err)
{
	struct xc_strbuf path;
	int rc;

	pmax_path(&path, p, kind, id);
	rc = pmax_get(p, xc_sb_str(&path), what, out, err);
	xc_sb_free(&path);
	return rc;
}

/* DELETE of one object; already gone is success. */
static int pmax_delete(struct pmax *p, const char *kind, const char *id, const char *what,
		       struct xclone_error *err)
{
	struct xc_strbuf path;
	struct xc_http_request req = {.method = XC_HTTP_DELETE, .idempotent = 1};
	struct xc_http_response resp;
	int rc;

	pmax_path(&path, p, kind, id);
	req.path = xc_sb_str(&path);
	rc = pmax_send(p, &req, &resp, err);
	if (rc == 0 && resp.status / 100 != 2)
		rc = pmax_fail(p, &resp, err, what);
	if (rc == XC_E_NOT_FOUND)
		rc = 0;
	xc_http_response_free(&resp);
	xc_sb_free(&path);
	return rc;
}

/* body when every step of building it succeeded, else NULL (and body freed). */
static cJSON *pmax_built(cJSON *body, int ok)
{
	if (ok && body != NULL)
		return body;
	cJSON_Delete(body);
	return NULL;
}

/* {"<outer>": {"<inner>": {"<key>": value}}} added to o (a selection in a request). */
static int pmax_add_selection(cJSON *o, const char *outer, const char *inner, const char *key,
			      const char *value)
{
	cJSON *a = cJSON_AddObjectToObject(o, outer);
	cJSON *b = a ? cJSON_AddObjectToObject(a, inner) : NULL;

	return b != NULL && cJSON_AddStringToObject(b, key, value) != NULL;
}

/*
 * A change (POST that creates, PUT that adds or removes) with a JSON body, sent
 * safely against lost answers (check reads the array). 2xx, a confirmation by the
 * check, or the status ok_status (409 "already exists" for creates) are success.
 * body is consumed.
 */
static int pmax_change(struct pmax *p, enum xc_http_method method, const char *path, cJSON *body,
		       xc_rest_check_fn check, void *ctx, long ok_status, const char *what,
		       struct xclone_error *err)
{
	struct xc_http_request req = {.method = method, .path = path};
	struct xc_http_response resp = {0};
	char *text = NULL;
	int confirmed = 0, rc;

	if (body == NULL || !cJSON_AddStringToObject(body, "executionOption", "SYNCHRONOUS")) {
		cJSON_Delete(body);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	rc = xc_json_print(body, &text, err);
	cJSON_Delete(body);
	if (rc)
		return rc;
	req.body = text;
	if (path == NULL)
		rc = xclone_error_set(err, XC_E_USAGE, "PowerMax request path too long");
	else
		rc = xc_rest_send_checked(p->http, &req, &resp, check, ctx, &confirmed, err);
	if (rc == 0 && !confirmed && resp.status / 100 != 2 && resp.status != ok_status)
		rc = pmax_fail(p, &resp, err, what);
	if (!confirmed)
		xc_http_response_free(&resp);
	free(text);
	return rc;
}

/* ---- checks after a lost answer ---- */

struct pmax_exists_check {
	struct pmax *p;
	const char *kind, *id;
};

static int pmax_exists_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct pmax_exists_check *c = ctx;
	cJSON *obj = NULL;
	int rc = pmax_get_object(c->p, c->kind, c->id, "checking", &obj, err);

	cJSON_Delete(obj);
	*applied = rc == 0;
	return rc == XC_E_NOT_FOUND ? 0 : rc;
}

/* Whether a JSON array of strings holds s. */
static int json_list_has(const cJSON *list, const char *s)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, list)
		if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0)
			return 1;
	return 0;
}

struct pmax_member_check {
	struct pmax *p;
	const char *dev, *sg;
	int want;               /* 1: the device must be in sg, 0: out of it */
};

static int pmax_member_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct pmax_member_check *c = ctx;
	cJSON *vol = NULL;
	int rc = pmax_get_object(c->p, "volume", c->dev, "checking the volume", &vol, err);

	if (rc == 0)
		*applied = json_list_has(cJSON_GetObjectItemCaseSensitive(vol, "storageGroupId"),
					 c->sg) == c->want;
	cJSON_Delete(vol);
	return rc;
}

/* ---- open, info ---- */

/* Keeps n when it is a version this driver has read and higher than *best; *newest
 * tracks the highest seen at all. */
static void pmax_consider(const cJSON *v, long *best, long *newest)
{
	char *end;
	long n;

	if (!cJSON_IsString(v))
		return;
	n = strtol(v->valuestring, &end, 10);
	if (end == v->valuestring || *end != '\0' || n < 0 || n > 9999)
		return;
	if (n >= PMAX_API_MIN && n <= PMAX_API_MAX && n > *best)
		*best = n;
	if (n > *newest)
		*newest = n;
}

/* The REST version to use: the highest the server supports within what this driver
 * has read, else the server's newest when it is newer still (the shapes used here
 * have not changed since 9.1). The request also proves the credentials. */
static int pmax_pick_version(struct pmax *p, struct xclone_error *err)
{
	cJSON *body = NULL;
	const cJSON *v;
	long best = -1, newest = -1;
	int rc = pmax_get(p, PMAX_ROOT "/version", "reading the Unisphere version", &body, err);

	if (rc)
		return rc;
	snprintf(p->unisphere, sizeof(p->unisphere), "%s",
		 xc_json_text(body, "version"));
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(body, "supported_api_versions"))
		pmax_consider(v, &best, &newest);
	pmax_consider(cJSON_GetObjectItemCaseSensitive(body, "api_version"), &best, &newest);
	cJSON_Delete(body);
	if (best < 0 && newest > PMAX_API_MAX)
		best = newest;
	if (best < 0)
		return xclone_error_set(err, XC_E_REMOTE,
					"PowerMax: Unisphere offers no REST API version %d or later",
					PMAX_API_MIN);
	snprintf(p->version, sizeof(p->version), "%ld", best);
	return 0;
}

static int pmax_read_array(struct pmax *p, struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *sym = NULL;
	int rc;

	xc_sb_init(&path);
	xc_sb_addf(&path, PMAX_ROOT "/%s/system/symmetrix/", p->version);
	xc_sb_add_escaped(&path, p->sym);
	rc = pmax_get(p, xc_sb_str(&path), "reading the array", &sym, err);
	xc_sb_free(&path);
	if (rc == XC_E_NOT_FOUND)
		return xclone_error_set(err, XC_E_CONFIG,
					"PowerMax: this Unisphere manages no array %s: check secret"
					" key POWERMAX_SYMMETRIX_ID",
					p->sym);
	if (rc)
		return rc;
	snprintf(p->model, sizeof(p->model), "%s", xc_json_text(sym, "model"));
	snprintf(p->ucode, sizeof(p->ucode), "%s", xc_json_text(sym, "ucode"));
	cJSON_Delete(sym);
	return 0;
}

/* The configured port group and what it carries: port_group_protocol (V4 arrays),
 * else type (V3 arrays return only that). */
static int pmax_read_port_group(struct pmax *p, struct xclone_error *err)
{
	static const struct {
		const char *name;
		enum xc_initiator_kind kind;
	} protocols[] = {{"SCSI_FC", XC_INITIATOR_FC}, {"Fibre", XC_INITIATOR_FC},
			 {"iSCSI", XC_INITIATOR_ISCSI}, {"NVMe_TCP", XC_INITIATOR_NVME},
			 {"NVMETCP", XC_INITIATOR_NVME}};
	cJSON *pg = NULL;
	const char *proto;
	int rc = pmax_get_object(p, "portgroup", p->port_group, "reading the port group", &pg, err);

	if (rc == XC_E_NOT_FOUND)
		return xclone_error_set(err, XC_E_CONFIG,
					"PowerMax: array %s has no port group \"%s\": check secret key"
					" POWERMAX_PORT_GROUP_NAME",
					p->sym, p->port_group);
	if (rc)
		return rc;
	proto = xc_json_str(pg, "port_group_protocol");
	if (proto == NULL || proto[0] == '\0')
		proto = xc_json_str(pg, "type");
	rc = xclone_error_set(err, XC_E_REMOTE,
			      "PowerMax: port group %s has protocol \"%s\", which this driver does"
			      " not know",
			      p->port_group, proto ? proto : "");
	for (size_t i = 0; proto != NULL && i < sizeof(protocols) / sizeof(protocols[0]); i++)
		if (strcasecmp(proto, protocols[i].name) == 0) {
			p->pg_kind = protocols[i].kind;
			snprintf(p->pg_protocol, sizeof(p->pg_protocol), "%s", proto);
			rc = 0;
		}
	cJSON_Delete(pg);
	return rc;
}

static int pmax_read_secret(struct pmax *p, struct xc_secret *s, struct xclone_error *err)
{
	const char *user, *password, *sym, *pg;
	int rc;

	if ((rc = xc_secret_require(s, "STORAGE_USERNAME", &user, err)) ||
	    (rc = xc_secret_require(s, "STORAGE_PASSWORD", &password, err)) ||
	    (rc = xc_secret_require(s, "POWERMAX_SYMMETRIX_ID", &sym, err)) ||
	    (rc = xc_secret_require(s, "POWERMAX_PORT_GROUP_NAME", &pg, err)))
		return rc;
	if (!is_sym_id(sym, strlen(sym)))
		return xclone_error_set(err, XC_E_CONFIG,
					"secret key POWERMAX_SYMMETRIX_ID must be the array's 12-digit"
					" id (e.g. 000197900046)");
	if (strlen(pg) > PMAX_NAME_MAX)
		return xclone_error_set(err, XC_E_CONFIG,
					"secret key POWERMAX_PORT_GROUP_NAME is longer than %d"
					" characters",
					PMAX_NAME_MAX);
	snprintf(p->sym, sizeof(p->sym), "%s", sym);
	snprintf(p->port_group, sizeof(p->port_group), "%s", pg);
	return xc_http_set_basic_auth(p->http, user, password, err);
}

static void pmax_close(void *state)
{
	free(state);
}

static int pmax_open(const struct xc_array_session *s, void **state, struct xclone_error *err)
{
	struct pmax *p = calloc(1, sizeof(*p));
	int rc;

	*state = NULL;
	if (p == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	p->http = s->http;
	if ((rc = pmax_read_secret(p, s->secret, err)) || (rc = pmax_pick_version(p, err)) ||
	    (rc = pmax_read_array(p, err)) || (rc = pmax_read_port_group(p, err))) {
		pmax_close(p);
		return rc;
	}
	*state = p;
	return 0;
}

static int pmax_info(void *state, struct xc_array_info *out, struct xclone_error *err)
{
	struct pmax *p = state;
	int rc = pmax_read_array(p, err);

	if (rc)
		return rc;
	snprintf(out->vendor, sizeof(out->vendor), "Dell");
	snprintf(out->model, sizeof(out->model), "%s", p->model);
	snprintf(out->version, sizeof(out->version), "PowerMaxOS %.40s (Unisphere %.40s)", p->ucode,
		 p->unisphere);
	snprintf(out->name, sizeof(out->name), "%s", p->sym);
	snprintf(out->array_id, sizeof(out->array_id), "%s", p->sym);
	snprintf(out->api_version, sizeof(out->api_version), "%s", p->version);
	return 0;
}

/* ---- volumes ---- */

static int pmax_lun_from_volume(struct pmax *p, const cJSON *v, struct xc_lun *out,
				struct xclone_error *err)
{
	const char *ident = xc_json_str(v, "volume_identifier");
	const char *wwn = xc_json_str(v, "wwn");
	const cJSON *effective = cJSON_GetObjectItemCaseSensitive(v, "has_effective_wwn");
	unsigned long long cyl = 0, mb = 0;
	int rc;

	/* migrated and SRDF/Metro devices show the host their effective WWN */
	if (cJSON_IsTrue(effective) && xc_json_str(v, "effective_wwn") != NULL)
		wwn = xc_json_str(v, "effective_wwn");
	if ((rc = xc_copy_field(out->id, sizeof(out->id), xc_json_str(v, "volumeId"), "volume id",
				err)) ||
	    (rc = xc_copy_field(out->name, sizeof(out->name),
				ident != NULL && ident[0] != '\0' ? ident : out->id, "volume name",
				err)) ||
	    (rc = xc_copy_field(out->serial, sizeof(out->serial), wwn, "volume WWN", err)) ||
	    (rc = xc_powermax_naa(wwn, out->naa, sizeof(out->naa), err)))
		return rc;
	if (xc_json_u64(v, "cap_cyl", &cyl) == 0 && cyl > 0)
		out->size_bytes = cyl * PMAX_CYLINDER_BYTES;
	else if (xc_json_u64(v, "cap_mb", &mb) == 0 && mb > 0)
		out->size_bytes = mb << 20;
	else
		return xclone_error_set(err, XC_E_PROTOCOL, "PowerMax volume %s has no size", out->id);
	snprintf(out->array_id, sizeof(out->array_id), "%s", p->sym);
	return 0;
}

/* "/univmax/restapi/common/Iterator/<id>" */
static void pmax_iterator_path(struct xc_strbuf *sb, const char *id)
{
	xc_sb_init(sb);
	xc_sb_add(sb, PMAX_ROOT "/common/Iterator/");
	xc_sb_add_escaped(sb, id);
}

/* Appends the volumeId of each result to ids; returns how many results there were. */
static size_t pmax_take_ids(const cJSON *results, cJSON *ids)
{
	const cJSON *r;
	size_t n = 0;

	cJSON_ArrayForEach(r, results)
	{
		if (xc_json_str(r, "volumeId") != NULL)
			cJSON_AddItemToArray(ids, cJSON_CreateString(xc_json_str(r, "volumeId")));
		n++;
	}
	return n;
}

/* The volume ids of GET volume?<key>=<value>: the first page comes with the list,
 * the others from its iterator (/common/Iterator/<id>/page?from=&to=, 1-based,
 * inclusive), which is deleted afterwards as Dell's clients do. */
static int pmax_volume_ids(struct pmax *p, const char *key, const char *value, cJSON **ids,
			   struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *page = NULL;
	unsigned long long count = 0, max = 0, got = 0;
	char it[128] = "";
	int rc;

	*ids = cJSON_CreateArray();
	if (*ids == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	pmax_path(&path, p, "volume", NULL);
	pmax_param(&path, key, value);
	rc = pmax_get(p, xc_sb_str(&path), "listing volumes", &page, err);
	xc_sb_free(&path);
	if (rc == 0 && (xc_json_u64(page, "count", &count) != 0 ||
			xc_json_u64(page, "maxPageSize", &max) != 0 || max == 0))
		rc = xclone_error_set(err, XC_E_PROTOCOL, "PowerMax: a volume list without count");
	if (rc == 0 && count > 0 && xc_json_copy(page, "id", it, sizeof(it)) != 0 && count > max)
		rc = xclone_error_set(err, XC_E_PROTOCOL, "PowerMax: a long volume list without"
				      " iterator id");
	if (rc == 0)
		got = pmax_take_ids(xc_json_path(page, "resultList.result"), *ids);
	for (unsigned pages = 1; rc == 0 && got < count && pages < PMAX_PAGES_MAX; pages++) {
		unsigned long long to = got + max < count ? got + max : count;
		size_t n;
		cJSON_Delete(page);
		page = NULL;
		pmax_iterator_path(&path, it);
		xc_sb_addf(&path, "/page?from=%llu&to=%llu", got + 1, to);
		rc = pmax_get(p, xc_sb_str(&path), "reading a volume list page", &page, err);
		xc_sb_free(&path);
		if (rc == 0 && (n = pmax_take_ids(cJSON_GetObjectItemCaseSensitive(page, "result"),
						  *ids)) == 0)
			rc = xclone_error_set(err, XC_E_PROTOCOL,
					      "PowerMax: an empty volume list page");
		else if (rc == 0)
			got += n;
	}
	if (count > max && it[0] != '\0') {
		struct xc_http_request req = {.method = XC_HTTP_DELETE, .idempotent = 1};
		struct xc_http_response resp;
		struct xclone_error ignored; /* the server expires it anyway */
		pmax_iterator_path(&path, it);
		req.path = xc_sb_str(&path);
		pmax_send(p, &req, &resp, &ignored);
		xc_http_response_free(&resp);
		xc_sb_free(&path);
	}
	cJSON_Delete(page);
	if (rc) {
		cJSON_Delete(*ids);
		*ids = NULL;
	}
	return rc;
}

/* Whether a volume_identifier is csi-powermax's name for PV pv_name:
 * csi-<cluster prefix of 1-3 characters>-<pv name>[-<namespace>]. */
static int is_csi_identifier(const char *ident, const char *pv_name)
{
	const char *p = ident, *dash;
	size_t plen = strlen(pv_name);

	if (strncmp(p, "csi-", 4) != 0)
		return 0;
	p += 4;
	dash = strchr(p, '-');
	if (dash == NULL || dash == p || dash - p > 3)
		return 0;
	p = dash + 1;
	return strncmp(p, pv_name, plen) == 0 && (p[plen] == '\0' || p[plen] == '-');
}

/* The volumes csi-powermax named for this PV. */
static int pmax_volume_by_pv_name(struct pmax *p, const char *pv_name, struct xc_lun *out,
				  int *found, struct xclone_error *err)
{
	struct xc_strbuf like;
	cJSON *ids = NULL, *match = NULL;
	const cJSON *id;
	int rc, matches = 0;

	*found = 0;
	xc_sb_init(&like);
	xc_sb_addf(&like, "<like>%s", pv_name);
	rc = xc_sb_str(&like) ? pmax_volume_ids(p, "volume_identifier", xc_sb_str(&like), &ids, err)
			      : xclone_error_set(err, XC_E_USAGE, "PV name too long");
	xc_sb_free(&like);
	cJSON_ArrayForEach(id, (rc == 0 ? ids : NULL))
	{
		cJSON *v = NULL;
		rc = pmax_get_object(p, "volume", id->valuestring, "reading a volume", &v, err);
		if (rc)
			break;
		const char *ident = xc_json_str(v, "volume_identifier");
		if (ident != NULL && is_csi_identifier(ident, pv_name)) {
			matches++;
			cJSON_Delete(match);
			match = v;
		} else {
			cJSON_Delete(v);
		}
	}
	if (rc == 0 && matches > 1)
		rc = xclone_error_set(err, XC_E_CONFLICT,
				      "PowerMax: %d volumes are named for PV %s; give the volume"
				      " handle",
				      matches, pv_name);
	else if (rc == 0 && matches == 1 && (rc = pmax_lun_from_volume(p, match, out, err)) == 0)
		*found = 1;
	cJSON_Delete(match);
	cJSON_Delete(ids);
	return rc;
}

/* csi-powermax keeps the array id in the volume context as <prefix>/SYMID. */
static int pmax_check_sym_attr(const struct pmax *p, const struct xc_pv *pv,
			       struct xclone_error *err)
{
	for (size_t i = 0; i < pv->n_attrs; i++) {
		const char *slash = strrchr(pv->attrs[i].key, '/');
		if (slash != NULL && strcmp(slash, "/SYMID") == 0 &&
		    strcmp(pv->attrs[i].value, p->sym) != 0)
			return xclone_error_set(err, XC_E_CONFIG,
						"PowerMax: PV %s is on array %.20s, the secret's"
						" POWERMAX_SYMMETRIX_ID is %s",
						pv->name, pv->attrs[i].value, p->sym);
	}
	return 0;
}

static int pmax_volume_by_handle(struct pmax *p, const struct xc_pv *pv,
				 const struct xc_powermax_handle *h, struct xc_lun *out,
				 struct xclone_error *err)
{
	const char *dev = h->dev;
	cJSON *v = NULL;
	int rc;

	if (strcmp(h->sym, p->sym) != 0) {
		if (strcmp(h->remote_sym, p->sym) != 0)
			return xclone_error_set(err, XC_E_CONFIG,
						"PowerMax: PV %s is on array %s%s%s, the secret's"
						" POWERMAX_SYMMETRIX_ID is %s",
						pv->name, h->sym, h->remote_sym[0] ? " and " : "",
						h->remote_sym, p->sym);
		dev = h->remote_dev; /* the SRDF partner on the array we manage */
	}
	rc = pmax_get_object(p, "volume", dev, "reading the volume", &v, err);
	if (rc == XC_E_NOT_FOUND)
		rc = xclone_error_set(err, XC_E_NOT_FOUND,
				      "PowerMax: array %s has no device %s (volume handle of PV %s)",
				      p->sym, dev, pv->name);
	/* a device id is reused after a delete: the name must still be the PV's */
	if (rc == 0 && dev == h->dev && h->identifier[0] != '\0' &&
	    strcmp(h->identifier, xc_json_text(v, "volume_identifier")) != 0)
		rc = xclone_error_set(err, XC_E_CONFLICT,
				      "PowerMax: device %s is named \"%.64s\", not \"%.64s\" as PV %s's"
				      " volume handle says: refusing a device that is not the PV's",
				      dev, xc_json_text(v, "volume_identifier"),
				      h->identifier, pv->name);
	if (rc == 0)
		rc = pmax_lun_from_volume(p, v, out, err);
	cJSON_Delete(v);
	return rc;
}

static int pmax_resolve(void *state, const struct xc_pv *pv, struct xc_lun *out,
			struct xclone_error *err)
{
	struct pmax *p = state;
	struct xc_powermax_handle h;
	struct xclone_error parse_err;
	int found = 0, rc;

	if ((rc = pmax_check_sym_attr(p, pv, err)))
		return rc;
	if (pv->volume_handle != NULL && pv->volume_handle[0] != '\0' &&
	    xc_powermax_parse_handle(pv->volume_handle, &h, &parse_err) == 0)
		return pmax_volume_by_handle(p, pv, &h, out, err);
	rc = pmax_volume_by_pv_name(p, pv->name, out, &found, err);
	if (rc || found)
		return rc;
	return xclone_error_set(err, XC_E_NOT_FOUND,
				"PowerMax: no volume for PV %.100s (volume handle %.100s; looked for"
				" volume_identifier csi-<prefix>-%.100s[-<namespace>])",
				pv->name, pv->volume_handle ? pv->volume_handle : "(none)", pv->name);
}

/* ---- hosts ---- */

static int pmax_host_from(const cJSON *h, struct xc_host_group *out, struct xclone_error *err)
{
	const cJSON *v;
	int rc = xc_host_group_init(out, xc_json_str(h, "hostId"), XC_GROUP_HOST, err);

	cJSON_ArrayForEach(v, (rc == 0 ? cJSON_GetObjectItemCaseSensitive(h, "initiator") : NULL))
		if (cJSON_IsString(v))
			xc_host_group_add_initiator(out, v->valuestring);
	return rc;
}

/* The initiator as Unisphere filters by it: the bare WWPN or the IQN. */
static const char *pmax_hba(const struct xc_initiator *ini)
{
	return ini->kind == XC_INITIATOR_FC ? ini->wwpn : ini->id;
}

/* The host (initiator group) holding this HBA, by its initiator ids
 * (<director>:<port>:<hba>); name "" when it is in none. */
static int pmax_holder(struct pmax *p, const struct xc_initiator *ini, char *name, size_t size,
		       struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *list = NULL;
	const cJSON *id;
	int rc;

	name[0] = '\0';
	pmax_path(&path, p, "initiator", NULL);
	pmax_param(&path, "initiator_hba", pmax_hba(ini));
	rc = pmax_get(p, xc_sb_str(&path), "listing initiators", &list, err);
	xc_sb_free(&path);
	const cJSON *ids = rc == 0 ? cJSON_GetObjectItemCaseSensitive(list, "initiatorId") : NULL;
	cJSON_ArrayForEach(id, ids)
	{
		cJSON *one = NULL;
		const char *host;
		if (!cJSON_IsString(id))
			continue;
		rc = pmax_get_object(p, "initiator", id->valuestring, "reading an initiator", &one,
				     err);
		if (rc)
			break;
		host = xc_json_str(one, "host");
		if (host == NULL || host[0] == '\0')
			host = xc_json_str(one, "host_id");
		if (host != NULL && host[0] != '\0')
			snprintf(name, size, "%s", host);
		cJSON_Delete(one);
		if (name[0] != '\0')
			break;
	}
	cJSON_Delete(list);
	return rc;
}

struct pmax_host_check {
	struct pmax *p;
	const char *name;
	const struct xc_initiator *ini;
	size_t n;
};

/* Does host `name` hold every initiator? */
static int pmax_host_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct pmax_host_check *c = ctx;
	unsigned char held[XC_HOST_INITIATORS_MAX] = {0};
	cJSON *h = NULL;
	int rc = pmax_get_object(c->p, "host", c->name, "checking the host", &h, err);

	*applied = rc == 0 && xc_json_initiators_held(cJSON_GetObjectItemCaseSensitive(h, "initiator"),
						      NULL, c->ini, c->n, held) == c->n;
	cJSON_Delete(h);
	return rc == XC_E_NOT_FOUND ? 0 : rc;
}

/* A JSON list of the HBAs of ini not yet held (held NULL: all). */
static cJSON *pmax_hba_list(const struct xc_initiator *ini, size_t n, const unsigned char *held)
{
	cJSON *list = cJSON_CreateArray();

	for (size_t i = 0; list != NULL && i < n; i++)
		if ((held == NULL || !held[i]) &&
		    !cJSON_AddItemToArray(list, cJSON_CreateString(pmax_hba(&ini[i])))) {
			cJSON_Delete(list);
			return NULL;
		}
	return list;
}

static int pmax_create_host(struct pmax *p, const char *name, const struct xc_initiator *ini,
			    size_t n, struct xclone_error *err)
{
	struct pmax_host_check check = {p, name, ini, n};
	struct xc_strbuf path;
	cJSON *body = cJSON_CreateObject(), *list = pmax_hba_list(ini, n, NULL);
	int applied = 0, rc;

	if (body == NULL || cJSON_AddStringToObject(body, "hostId", name) == NULL ||
	    !cJSON_AddItemToObject(body, "initiatorId", list)) {
		cJSON_Delete(list);
		body = pmax_built(body, 0);
	}
	pmax_path(&path, p, "host", NULL);
	rc = pmax_change(p, XC_HTTP_POST, xc_sb_str(&path), body, pmax_host_check, &check, 409,
			 "creating the host", err);
	xc_sb_free(&path);
	/* 409: the name exists; fine only when it is ours from an answer we never saw */
	if (rc == 0 && (rc = pmax_host_check(&check, &applied, err)) == 0 && !applied)
		rc = xclone_error_set(err, XC_E_CONFLICT,
				      "PowerMax: a host named %s already exists and holds other"
				      " initiators: choose another name",
				      name);
	return rc;
}

static int pmax_complete_host(struct pmax *p, const char *name, const struct xc_initiator *ini,
			      size_t n, struct xclone_error *err)
{
	struct pmax_host_check check = {p, name, ini, n};
	unsigned char held[XC_HOST_INITIATORS_MAX] = {0};
	struct xc_strbuf path;
	cJSON *h = NULL, *body, *add, *list;
	int rc = pmax_get_object(p, "host", name, "reading the host", &h, err);

	if (rc)
		return rc;
	size_t have = xc_json_initiators_held(cJSON_GetObjectItemCaseSensitive(h, "initiator"), NULL,
					      ini, n, held);
	cJSON_Delete(h);
	if (have == n)
		return 0;
	body = cJSON_CreateObject();
	add = body ? cJSON_AddObjectToObject(body, "editHostActionParam") : NULL;
	add = add ? cJSON_AddObjectToObject(add, "addInitiatorParam") : NULL;
	list = pmax_hba_list(ini, n, held);
	if (add == NULL || !cJSON_AddItemToObject(add, "initiator", list)) {
		cJSON_Delete(list);
		body = pmax_built(body, 0);
	}
	pmax_path(&path, p, "host", name);
	rc = pmax_change(p, XC_HTTP_PUT, xc_sb_str(&path), body, pmax_host_check, &check, 0,
			 "adding initiators to the host", err);
	xc_sb_free(&path);
	return rc;
}

static int pmax_ensure_host(void *state, const char *name, const struct xc_initiator *all,
			    size_t n_all, struct xc_host_group *out, struct xclone_error *err)
{
	struct pmax *p = state;
	struct xc_initiator ini[XC_HOST_INITIATORS_MAX];
	char holder[XC_GROUP_NAME_MAX] = "", one[XC_GROUP_NAME_MAX];
	size_t n = 0;
	cJSON *h = NULL;
	int rc = 0;

	/* A host object holds one protocol, and the port group decides which. */
	for (size_t i = 0; i < n_all; i++)
		if (all[i].kind == p->pg_kind)
			ini[n++] = all[i];
	if (n == 0)
		return xclone_error_set(err, XC_E_CONFIG,
					"PowerMax: port group %s carries %s, and none of the host's"
					" initiators is %s (POWERMAX_PORT_GROUP_NAME)",
					p->port_group, p->pg_protocol,
					xc_initiator_kind_name(p->pg_kind));
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = pmax_holder(p, &ini[i], one, sizeof(one), err);
		if (rc == 0 && one[0] != '\0' && holder[0] != '\0' && strcmp(one, holder) != 0)
			rc = xclone_error_set(err, XC_E_CONFLICT,
					      "PowerMax: these initiators are split across hosts %s"
					      " and %s; an initiator belongs to one host, so merge"
					      " them first",
					      holder, one);
		else if (rc == 0 && one[0] != '\0')
			snprintf(holder, sizeof(holder), "%s", one);
	}
	if (rc)
		return rc;
	if (holder[0] == '\0')
		rc = pmax_create_host(p, name, ini, n, err);
	else
		rc = pmax_complete_host(p, holder, ini, n, err);
	if (rc == 0)
		rc = pmax_get_object(p, "host", holder[0] ? holder : name, "reading the host", &h,
				     err);
	if (rc == 0)
		rc = pmax_host_from(h, out, err);
	cJSON_Delete(h);
	return rc;
}

/* Every id of GET <kind> → {"<key>": [...]}. */
static int pmax_list_ids(struct pmax *p, const char *kind, const char *key, cJSON **out,
			 struct xclone_error *err)
{
	cJSON *body = NULL;
	int rc = pmax_get_object(p, kind, NULL, "listing", &body, err);

	*out = NULL;
	if (rc)
		return rc;
	*out = cJSON_DetachItemFromObjectCaseSensitive(body, key);
	cJSON_Delete(body);
	if (*out == NULL)
		*out = cJSON_CreateArray(); /* an empty list may come without the key */
	return *out ? 0 : xclone_error_set(err, XC_E_NOMEM, "out of memory");
}

static int pmax_hosts(void *state, struct xc_host_list *out, struct xclone_error *err)
{
	struct pmax *p = state;
	cJSON *ids = NULL;
	const cJSON *id;
	int rc = pmax_list_ids(p, "host", "hostId", &ids, err);

	cJSON_ArrayForEach(id, (rc == 0 ? ids : NULL))
	{
		struct xc_host_group g;
		cJSON *h = NULL;
		rc = pmax_get_object(p, "host", id->valuestring, "reading a host", &h, err);
		if (rc == 0 && (rc = pmax_host_from(h, &g, err)) == 0)
			rc = xc_host_list_add(out, &g, err);
		cJSON_Delete(h);
		if (rc)
			break;
	}
	cJSON_Delete(ids);
	if (rc || (rc = pmax_list_ids(p, "hostgroup", "hostGroupId", &ids, err)))
		return rc;
	cJSON_ArrayForEach(id, ids)
	{
		struct xc_host_group g;
		const cJSON *member, *v;
		cJSON *hg = NULL;
		if ((rc = pmax_get_object(p, "hostgroup", id->valuestring, "reading a host group", &hg,
					  err)) == 0 &&
		    (rc = xc_host_group_init(&g, xc_json_str(hg, "hostGroupId"), XC_GROUP_HOST_SET,
					     err)) == 0) {
			cJSON_ArrayForEach(member, cJSON_GetObjectItemCaseSensitive(hg, "host"))
				cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(member, "initiator"))
					if (cJSON_IsString(v))
						xc_host_group_add_initiator(&g, v->valuestring);
			rc = xc_host_list_add(out, &g, err);
		}
		cJSON_Delete(hg);
		if (rc)
			break;
	}
	cJSON_Delete(ids);
	return rc;
}

/* ---- masking views ---- */

/* The LUN address a view gives the device ("host_lun_address", hex); -1 when the
 * view has no path for it (its port group and initiators do not meet). */
static int pmax_view_lun(struct pmax *p, const char *view, const char *dev, long *lun,
			 struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *body = NULL;
	const char *hla;
	int rc;

	*lun = -1;
	pmax_path(&path, p, "maskingview", view);
	xc_sb_add(&path, "/connections");
	pmax_param(&path, "volume_id", dev);
	rc = pmax_get(p, xc_sb_str(&path), "reading masking view connections", &body, err);
	xc_sb_free(&path);
	hla = rc == 0 ? xc_json_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
					    body, "maskingViewConnection"), 0),
				    "host_lun_address")
		      : NULL;
	if (hla != NULL) {
		char *end;
		long n = strtol(hla, &end, 16);
		if (end != hla && *end == '\0' && n >= 0)
			*lun = n;
	}
	cJSON_Delete(body);
	return rc;
}

/* Adds {view, kind, group, lun} for masking view `name` showing dev, to views. */
static int pmax_add_view(struct pmax *p, const char *name, const char *dev, cJSON *views,
			 struct xclone_error *err)
{
	cJSON *mv = NULL, *o;
	const char *host, *hg;
	long lun = -1;
	int rc;

	for (o = views->child; o != NULL; o = o->next)
		if (strcmp(xc_json_str(o, "view"), name) == 0)
			return 0;
	rc = pmax_get_object(p, "maskingview", name, "reading a masking view", &mv, err);
	if (rc == 0)
		rc = pmax_view_lun(p, name, dev, &lun, err);
	host = xc_json_str(mv, "hostId");
	hg = xc_json_str(mv, "hostGroupId");
	if (rc == 0 && lun >= 0 && ((hg && hg[0]) || (host && host[0]))) {
		o = cJSON_CreateObject();
		if (o == NULL || !cJSON_AddStringToObject(o, "view", name) ||
		    !cJSON_AddStringToObject(o, "group", hg && hg[0] ? hg : host) ||
		    !cJSON_AddBoolToObject(o, "host_set", hg && hg[0]) ||
		    !cJSON_AddNumberToObject(o, "lun", (double)lun) ||
		    !cJSON_AddItemToArray(views, o)) {
			cJSON_Delete(o);
			rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
		}
	}
	cJSON_Delete(mv);
	return rc;
}

/* Every masking view presenting device dev: through each storage group holding it
 * and each parent of those (cascaded groups). *views: [{view, group, host_set, lun}]. */
static int pmax_views_of(struct pmax *p, const char *dev, cJSON **views, struct xclone_error *err)
{
	cJSON *vol = NULL;
	const cJSON *sgname;
	int rc = pmax_get_object(p, "volume", dev, "reading the volume", &vol, err);

	*views = rc == 0 ? cJSON_CreateArray() : NULL;
	if (rc == 0 && *views == NULL)
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	const cJSON *groups = rc == 0 ? cJSON_GetObjectItemCaseSensitive(vol, "storageGroupId") : NULL;
	cJSON_ArrayForEach(sgname, groups)
	{
		cJSON *sg = NULL;
		const cJSON *v;
		if (!cJSON_IsString(sgname))
			continue;
		rc = pmax_get_object(p, "storagegroup", sgname->valuestring, "reading a storage group",
				     &sg, err);
		if (rc)
			break;
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(sg, "maskingview"))
			if (rc == 0 && cJSON_IsString(v))
				rc = pmax_add_view(p, v->valuestring, dev, *views, err);
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(sg, "parent_storage_group"))
		{
			cJSON *parent = NULL;
			const cJSON *pv;
			if (!cJSON_IsString(v))
				continue;
			rc = pmax_get_object(p, "storagegroup", v->valuestring, "reading a storage group",
					     &parent, err);
			if (rc)
				break;
			cJSON_ArrayForEach(pv, cJSON_GetObjectItemCaseSensitive(parent, "maskingview"))
				if (rc == 0 && cJSON_IsString(pv))
					rc = pmax_add_view(p, pv->valuestring, dev, *views, err);
			cJSON_Delete(parent);
			if (rc)
				break;
		}
		cJSON_Delete(sg);
		if (rc)
			break;
	}
	cJSON_Delete(vol);
	if (rc) {
		cJSON_Delete(*views);
		*views = NULL;
	}
	return rc;
}

static int pmax_mappings(void *state, const struct xc_lun *lun, struct xc_mapping_list *out,
			 struct xclone_error *err)
{
	struct pmax *p = state;
	cJSON *views = NULL;
	const cJSON *v;
	int rc = pmax_views_of(p, lun->id, &views, err);

	cJSON_ArrayForEach(v, (rc == 0 ? views : NULL))
	{
		long n = -1;
		xc_json_long(v, "lun", &n);
		rc = xc_mapping_list_add(out,
					 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "host_set"))
						 ? XC_GROUP_HOST_SET
						 : XC_GROUP_HOST,
					 xc_json_str(v, "group"), n, err);
		if (rc)
			break;
	}
	cJSON_Delete(views);
	return rc;
}

/* A view of views presenting to target (or, for a host, to a host group it is in),
 * or NULL. */
static const cJSON *pmax_view_for(const cJSON *views, const struct xc_mapping *t,
				  const cJSON *target_groups)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, views)
	{
		int set = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "host_set"));
		const char *group = xc_json_str(v, "group");
		if ((set == (t->kind == XC_GROUP_HOST_SET) && strcmp(group, t->group) == 0) ||
		    (set && t->kind == XC_GROUP_HOST && json_list_has(target_groups, group)))
			return v;
	}
	return NULL;
}

/* The target host or host group; its host groups (a host's) in *groups. */
static int pmax_target(struct pmax *p, const struct xc_mapping *t, cJSON **obj,
		       struct xclone_error *err)
{
	int rc = pmax_get_object(p, t->kind == XC_GROUP_HOST_SET ? "hostgroup" : "host", t->group,
				 "reading the target", obj, err);

	if (rc == XC_E_NOT_FOUND)
		rc = xclone_error_set(err, XC_E_NOT_FOUND, "PowerMax: array %s has no %s \"%s\"",
				      p->sym, t->kind == XC_GROUP_HOST_SET ? "host group" : "host",
				      t->group);
	return rc;
}

static int pmax_ensure_sg(struct pmax *p, const char *sg, struct xclone_error *err)
{
	struct pmax_exists_check check = {p, "storagegroup", sg};
	struct xc_strbuf path;
	cJSON *obj = NULL, *body;
	int rc = pmax_get_object(p, "storagegroup", sg, "reading the storage group", &obj, err);

	cJSON_Delete(obj);
	if (rc != XC_E_NOT_FOUND)
		return rc;
	/* no SRP: the volume keeps its service level from the group it lives in */
	body = cJSON_CreateObject();
	body = pmax_built(body, body != NULL && cJSON_AddStringToObject(body, "storageGroupId", sg) &&
					cJSON_AddStringToObject(body, "srpId", "None") &&
					cJSON_AddStringToObject(body, "emulation", "FBA"));
	pmax_path(&path, p, "storagegroup", NULL);
	rc = pmax_change(p, XC_HTTP_POST, xc_sb_str(&path), body, pmax_exists_check, &check, 409,
			 "creating the storage group", err);
	xc_sb_free(&path);
	return rc;
}

/* Adds (want 1) or removes (want 0) the device to or from storage group sg. */
static int pmax_set_member(struct pmax *p, const char *dev, const char *sg, int want,
			   struct xclone_error *err)
{
	struct pmax_member_check check = {p, dev, sg, want};
	struct xc_strbuf path;
	cJSON *body, *param, *ids;
	int applied = 0, rc = pmax_member_check(&check, &applied, err);

	if (rc || applied)
		return rc;
	body = cJSON_CreateObject();
	param = body ? cJSON_AddObjectToObject(body, "editStorageGroupActionParam") : NULL;
	if (want && param != NULL)
		param = cJSON_AddObjectToObject(param, "expandStorageGroupParam");
	param = param ? cJSON_AddObjectToObject(param, want ? "addSpecificVolumeParam"
							      : "removeVolumeParam")
		      : NULL;
	ids = param ? cJSON_AddArrayToObject(param, "volumeId") : NULL;
	body = pmax_built(body, ids != NULL && cJSON_AddItemToArray(ids, cJSON_CreateString(dev)) &&
					cJSON_AddObjectToObject(param, "remoteSymmSGInfoParam"));
	pmax_path(&path, p, "storagegroup", sg);
	rc = pmax_change(p, XC_HTTP_PUT, xc_sb_str(&path), body, pmax_member_check, &check, 0,
			 want ? "adding the volume to the storage group"
			      : "removing the volume from the storage group",
			 err);
	xc_sb_free(&path);
	return rc;
}

/* The view's parts must be ours: a view of that name made otherwise is not touched. */
static int pmax_check_view(struct pmax *p, const cJSON *mv, const char *name, const char *sg,
			   const struct xc_mapping *t, struct xclone_error *err)
{
	const char *group = xc_json_str(mv, t->kind == XC_GROUP_HOST_SET ? "hostGroupId" : "hostId");
	const char *pg = xc_json_str(mv, "portGroupId"), *msg = xc_json_str(mv, "storageGroupId");

	if (group == NULL || strcmp(group, t->group) != 0 || pg == NULL ||
	    strcmp(pg, p->port_group) != 0 || msg == NULL || strcmp(msg, sg) != 0)
		return xclone_error_set(err, XC_E_CONFLICT,
					"PowerMax: masking view %s exists but joins %s, %s and %s,"
					" not %s, %s and %s: left alone",
					name, msg ? msg : "?", group ? group : "?", pg ? pg : "?", sg,
					t->group, p->port_group);
	return 0;
}

static int pmax_ensure_view(struct pmax *p, const char *mv, const char *sg,
			    const struct xc_mapping *t, struct xclone_error *err)
{
	struct pmax_exists_check check = {p, "maskingview", mv};
	struct xc_strbuf path;
	cJSON *obj = NULL, *body;
	int set = t->kind == XC_GROUP_HOST_SET, ok;
	int rc = pmax_get_object(p, "maskingview", mv, "reading the masking view", &obj, err);

	if (rc == XC_E_NOT_FOUND) {
		body = cJSON_CreateObject();
		ok = body != NULL && cJSON_AddStringToObject(body, "maskingViewId", mv) &&
		     pmax_add_selection(body, "hostOrHostGroupSelection",
					set ? "useExistingHostGroupParam" : "useExistingHostParam",
					set ? "hostGroupId" : "hostId", t->group) &&
		     pmax_add_selection(body, "portGroupSelection", "useExistingPortGroupParam",
					"portGroupId", p->port_group) &&
		     pmax_add_selection(body, "storageGroupSelection", "useExistingStorageGroupParam",
					"storageGroupId", sg);
		/* restoring a mapping: its LUN address again (PyU4V's starting_lun_address) */
		if (ok && t->lun_id >= 0)
			ok = cJSON_AddNumberToObject(body, "starting_lun_address",
						     (double)t->lun_id) != NULL;
		body = pmax_built(body, ok);
		pmax_path(&path, p, "maskingview", NULL);
		rc = pmax_change(p, XC_HTTP_POST, xc_sb_str(&path), body, pmax_exists_check, &check,
				 409, "creating the masking view", err);
		xc_sb_free(&path);
		if (rc == 0)
			rc = pmax_get_object(p, "maskingview", mv, "reading the masking view", &obj,
					     err);
	}
	if (rc == 0)
		rc = pmax_check_view(p, obj, mv, sg, t, err);
	cJSON_Delete(obj);
	return rc;
}

static int pmax_map(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		    struct xc_mapping *result, struct xclone_error *err)
{
	struct pmax *p = state;
	char mv[PMAX_NAME_MAX + 1], sg[PMAX_NAME_MAX + 1];
	cJSON *views = NULL, *obj = NULL;
	const cJSON *v;
	int rc;

	/* Already visible to the target (by any view, ours or not): nothing to add, and
	 * a second view of the same device to the same initiators would be refused. */
	if ((rc = pmax_target(p, target, &obj, err)) || (rc = pmax_views_of(p, lun->id, &views, err)))
		goto out;
	v = pmax_view_for(views, target, cJSON_GetObjectItemCaseSensitive(obj, "hostGroup"));
	if (v != NULL) {
		xc_json_long(v, "lun", &result->lun_id);
		goto out;
	}
	xc_powermax_object_names(target->group, lun->id, mv, sizeof(mv), sg, sizeof(sg));
	if ((rc = pmax_ensure_sg(p, sg, err)) || (rc = pmax_set_member(p, lun->id, sg, 1, err)) ||
	    (rc = pmax_ensure_view(p, mv, sg, target, err)) ||
	    (rc = pmax_view_lun(p, mv, lun->id, &result->lun_id, err)))
		goto out;
	if (result->lun_id < 0)
		rc = xclone_error_set(err, XC_E_CONFIG,
				      "PowerMax: masking view %s gives %s no path: port group %s (%s)"
				      " and %s do not speak the same protocol",
				      mv, target->group, p->port_group, p->pg_protocol, target->group);
out:
	cJSON_Delete(obj);
	cJSON_Delete(views);
	return rc;
}

static int pmax_unmap(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		      struct xclone_error *err)
{
	struct pmax *p = state;
	char mv[PMAX_NAME_MAX + 1], sg[PMAX_NAME_MAX + 1], others[256] = "";
	cJSON *obj = NULL, *views = NULL;
	const cJSON *v;
	int rc;

	xc_powermax_object_names(target->group, lun->id, mv, sizeof(mv), sg, sizeof(sg));
	/* Only what this driver made: its view (if its parts are ours), then the device
	 * out of its storage group, then the group. */
	rc = pmax_get_object(p, "maskingview", mv, "reading the masking view", &obj, err);
	if (rc == 0 && (rc = pmax_check_view(p, obj, mv, sg, target, err)) == 0)
		rc = pmax_delete(p, "maskingview", mv, "deleting the masking view", err);
	else if (rc == XC_E_NOT_FOUND)
		rc = 0;
	cJSON_Delete(obj);
	obj = NULL;
	if (rc == 0)
		rc = pmax_get_object(p, "storagegroup", sg, "reading the storage group", &obj, err);
	if (rc == 0 && (rc = pmax_set_member(p, lun->id, sg, 0, err)) == 0)
		rc = pmax_delete(p, "storagegroup", sg, "deleting the storage group", err);
	else if (rc == XC_E_NOT_FOUND)
		rc = 0;
	cJSON_Delete(obj);
	if (rc || (rc = pmax_views_of(p, lun->id, &views, err)))
		return rc;
	/* Views made by others may still show the device to the target: say so. */
	cJSON_ArrayForEach(v, views)
	{
		int set = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "host_set"));
		size_t used = strlen(others);
		if (set == (target->kind == XC_GROUP_HOST_SET) &&
		    strcmp(xc_json_str(v, "group"), target->group) == 0)
			snprintf(others + used, sizeof(others) - used, "%s%s", used ? ", " : "",
				 xc_json_str(v, "view"));
	}
	cJSON_Delete(views);
	if (others[0] != '\0')
		return xclone_error_set(err, XC_E_CONFLICT,
					"PowerMax: device %s is still presented to %s by masking view"
					" %s, which xclone did not create: left as it is",
					lun->id, target->group, others);
	return 0;
}

/* ---- deleting a host ---- */

/* Why host h may not go: a masking view presents its storage group to it, or a
 * host group (someone else's doing: ensure_host makes none) holds it. "" when free. */
static void pmax_host_use(const cJSON *h, char *why, size_t size)
{
	const cJSON *views = cJSON_GetObjectItemCaseSensitive(h, "maskingview");
	const cJSON *groups = cJSON_GetObjectItemCaseSensitive(h, "hostGroup");
	long n = 0;

	why[0] = '\0';
	if (cJSON_GetArraySize(views) > 0)
		snprintf(why, size, "masking view %s presents volumes to it",
			 cJSON_IsString(cJSON_GetArrayItem(views, 0))
				 ? cJSON_GetArrayItem(views, 0)->valuestring
				 : "?");
	else if (xc_json_long(h, "num_of_masking_views", &n) == 0 && n > 0)
		snprintf(why, size, "%ld masking view(s) present volumes to it", n);
	else if (cJSON_GetArraySize(groups) > 0)
		snprintf(why, size, "it is in host group %s",
			 cJSON_IsString(cJSON_GetArrayItem(groups, 0))
				 ? cJSON_GetArrayItem(groups, 0)->valuestring
				 : "?");
}

/*
 * ensure_host makes one thing, the host (initiator group) with its initiators;
 * map's storage groups and masking views are unmap's to remove. So: DELETE
 * host/<name>, refused while any masking view or host group still uses it.
 */
static int pmax_delete_host(void *state, const struct xc_host_group *g, struct xclone_error *err)
{
	struct pmax *p = state;
	char why[160];
	cJSON *h = NULL;
	int rc;

	if (g->kind != XC_GROUP_HOST)
		return xclone_error_set(err, XC_E_USAGE,
					"PowerMax: %s is a host group; xclone creates hosts only",
					g->name);
	rc = pmax_get_object(p, "host", g->name, "reading the host", &h, err);
	if (rc == XC_E_NOT_FOUND)
		return 0;
	if (rc == 0)
		pmax_host_use(h, why, sizeof(why));
	cJSON_Delete(h);
	if (rc)
		return rc;
	if (why[0] != '\0')
		return xclone_error_set(err, XC_E_CONFLICT, "PowerMax: host %s is in use (%s); not"
					" deleted", g->name, why);
	rc = pmax_delete(p, "host", g->name, "deleting the host", err);
	/* in a view or group since the check: the array's refusal is the same conflict */
	if (rc == XC_E_REMOTE && err != NULL &&
	    (strcasestr(err->message, "masking view") != NULL ||
	     strcasestr(err->message, "host group") != NULL))
		rc = xc_array_conflict(err);
	return rc;
}

const struct xc_array_driver xc_driver_powermax = {
	.product = "powermax",
	.vendor = "Dell",
	.url_path = PMAX_ROOT,
	.default_port = 8443, /* Unisphere's port in every Dell example */
	.open = pmax_open,
	.info = pmax_info,
	.resolve = pmax_resolve,
	.ensure_host = pmax_ensure_host,
	.hosts = pmax_hosts,
	.mappings = pmax_mappings,
	.map = pmax_map,
	.unmap = pmax_unmap,
	.delete_host = pmax_delete_host,
	.close = pmax_close,
};
