/*
 * Hitachi Vantara VSP driver: the REST API embedded in the array
 * (https://<array>/ConfigurationManager/v1/objects/..., API version 1.9 or later).
 * Facts and sources: README.md beside this file.
 *
 * Sessions: POST /v1/objects/sessions with HTTP Basic gives a token sent as
 * "Authorization: Session <token>"; sessions die after a few idle minutes, so a 401
 * logs in again, and close discards ours (an array holds at most 64).
 *
 * Host groups live on ports. xclone's "host" for an ESXi host is the set of host
 * groups that register its initiators on the ports they are logged in to; a set is
 * named by its host group name when it is exactly the host groups of that name, else
 * by the list of their ids ("CL1-A,1:CL2-B,2", HOSTGROUP_ID_LIST's form), so that
 * mappings, map and unmap speak of the same sets. Writes are jobs: each is waited for.
 */
#define _GNU_SOURCE /* strdup, strcasestr, getentropy, nanosleep under -std=c17 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "b64.h"
#include "vendors.h"

#define VSP_ROOT "/ConfigurationManager"
#define VSP_OBJ VSP_ROOT "/v1/objects"
#define VSP_NAA_PREFIX "60060e80"      /* NAA type 6 + Hitachi's OUI 0060e8 */
#define VSP_NAA_HEX 32
#define VSP_MIN_API_MAJOR 1
#define VSP_MIN_API_MINOR 9            /* forklift's minimum */
#define VSP_ALIVE_SECONDS 300          /* the longest session the guide allows */
#define VSP_JOB_WAIT_SECONDS 600       /* Cinder waits up to 10 minutes for a path */
#define VSP_HG_NAME_MAX 32             /* iSCSI target names; FC host groups allow 64 */
#define VSP_HOST_MODE "VMWARE_EX"
#define VSP_PORT_MAX 128

struct vantara {
	struct xc_http *http;
	char *user, *password;
	char *hostgroup_list;        /* HOSTGROUP_ID_LIST, NULL when not set */
	long session_id;             /* ours, -1 when none */
	char storage_id[32];         /* storageDeviceId */
	char serial[32], model[64], micro[64], api_version[32];
};

/* One host group as the array lists it, with which of the caller's initiators it
 * registers (bit i = ini[i]). */
struct vsp_hg {
	char port[16];
	int number;
	char name[72];
	int iscsi;
	unsigned held;
	int loaded;          /* its initiators were read */
};

struct vsp_port {
	char id[16];
	int iscsi;           /* 1 iSCSI, 0 FC / FCoE */
	unsigned logged;     /* bit i: ini[i] is logged in to this port */
};

struct vsp_inventory {
	struct vsp_hg *hgs;
	size_t n, cap;
	struct vsp_port ports[VSP_PORT_MAX];
	size_t n_ports;
};

/* A set of host groups: indexes into an inventory. */
struct vsp_set {
	size_t idx[VSP_PORT_MAX * 2];
	size_t n;
};

/* ---- NAA and volume handle ---- */

int xc_vantara_naa(const char *naa_id, long ldev_id, char *out, size_t size,
		   struct xclone_error *err)
{
	char lower[VSP_NAA_HEX + 1], tail[8];
	int rc;

	if (naa_id == NULL || strlen(naa_id) != VSP_NAA_HEX)
		return xclone_error_set(err, XC_E_PROTOCOL,
					"Vantara LDEV naaId \"%.40s\" is not %d hex digits (microcode"
					" too old to report it?)",
					naa_id ? naa_id : "", VSP_NAA_HEX);
	for (size_t i = 0; i <= VSP_NAA_HEX; i++)
		lower[i] = (char)tolower((unsigned char)naa_id[i]);
	if (strncmp(lower, VSP_NAA_PREFIX, strlen(VSP_NAA_PREFIX)) != 0)
		return xclone_error_set(err, XC_E_PROTOCOL,
					"Vantara LDEV naaId %.40s does not start with %s", naa_id,
					VSP_NAA_PREFIX);
	/* the last 4 hex digits are the LDEV id: a mismatch means the wrong LDEV */
	snprintf(tail, sizeof(tail), "%04lx", (unsigned long)ldev_id & 0xffff);
	if (ldev_id >= 0 && strcmp(lower + VSP_NAA_HEX - 4, tail) != 0)
		return xclone_error_set(err, XC_E_PROTOCOL,
					"Vantara LDEV %ld has naaId %.40s, which names LDEV 0x%s", ldev_id,
					naa_id, lower + VSP_NAA_HEX - 4);
	rc = xc_naa_from_hex("", lower, out, size, err);
	return rc;
}

/* "01--<protocol>--<storageDeviceId>--<ldevId>--<nickname>" (HSPC). */
int xc_vantara_parse_handle(const char *handle, struct xc_vantara_handle *out,
			    struct xclone_error *err)
{
	const char *p = handle, *field[4];
	size_t len[4];
	char num[16];
	char *end;

	memset(out, 0, sizeof(*out));
	if (handle == NULL || strncmp(handle, "01--", 4) != 0)
		goto bad;
	p = handle + 4;
	for (int i = 0; i < 3; i++) {
		const char *sep = strstr(p, "--");
		if (sep == NULL || sep == p)
			goto bad;
		field[i] = p;
		len[i] = (size_t)(sep - p);
		p = sep + 2;
	}
	/* the nickname is the rest: it may itself contain "--" */
	field[3] = p;
	len[3] = strlen(p);
	if (len[0] >= sizeof(out->protocol) || len[1] >= sizeof(out->storage_id) ||
	    len[2] >= sizeof(num) || len[3] >= sizeof(out->nickname))
		goto bad;
	memcpy(out->protocol, field[0], len[0]);
	memcpy(out->storage_id, field[1], len[1]);
	memcpy(num, field[2], len[2]);
	num[len[2]] = '\0';
	memcpy(out->nickname, field[3], len[3]);
	if (!isdigit((unsigned char)num[0]))
		goto bad;
	out->ldev_id = strtol(num, &end, 10);
	if (*end != '\0' || out->ldev_id < 0 || out->ldev_id > 65535)
		goto bad;
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return xclone_error_set(err, XC_E_USAGE,
				"volume handle \"%.120s\" is not 01--<protocol>--<storage id>--<LDEV"
				" id>--<nickname> (Hitachi Storage Plug-in for Containers)",
				handle ? handle : "");
}

/* ---- errors ---- */

struct vsp_error {
	const char *message, *message_id, *code;
	char ssb[16];        /* "B958,015A" or "" */
};

/* The fields of an error body (or of a failed job's "error"). */
static void vsp_error_fields(const cJSON *body, struct vsp_error *e)
{
	const char *s1 = xc_json_str(body, "errorCode.SSB1"), *s2 = xc_json_str(body, "errorCode.SSB2");

	memset(e, 0, sizeof(*e));
	e->message = xc_json_str(body, "message");
	e->message_id = xc_json_str(body, "messageId");
	e->code = xc_json_str(body, "errorCode.errorCode");
	if (s1 != NULL && s2 != NULL) {
		snprintf(e->ssb, sizeof(e->ssb), "%.6s,%.6s", s1, s2);
		for (char *c = e->ssb; *c; c++)
			*c = (char)toupper((unsigned char)*c);
	}
}

/* Whether an error names "the object does not exist". */
static int vsp_error_is_gone(const struct vsp_error *e)
{
	return (e->code != NULL && strcmp(e->code, "EX_ENOOBJ") == 0) ||
	       (e->message_id != NULL && strcmp(e->message_id, "KART30013-E") == 0);
}

static int vsp_fail_with(struct vantara *v, long status, const struct vsp_error *e,
			 struct xclone_error *err, const char *what)
{
	char msg[400];

	snprintf(msg, sizeof(msg), "%s%s%s%s%s%s", e->message ? e->message : "no error message",
		 e->message_id ? " (" : "", e->message_id ? e->message_id : "",
		 e->ssb[0] ? " SSB " : "", e->ssb, e->message_id ? ")" : "");
	return xc_rest_fail(v->http, err, status, e->message_id ? e->message_id : e->code,
			    e->message || e->message_id ? msg : NULL, "Vantara: %s%s", what,
			    status == 401 ? " (check STORAGE_USERNAME/STORAGE_PASSWORD)" : "");
}

/* An error answer as err. The body may be JSON or, from a proxy, an HTML page. */
static int vsp_fail(struct vantara *v, const struct xc_http_response *resp,
		    struct xclone_error *err, const char *what)
{
	cJSON *body = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	struct vsp_error e;
	int rc;

	vsp_error_fields(body, &e);
	if (body == NULL && resp->body_len > 0)
		e.message = "the array answered with a page that is not JSON";
	rc = vsp_fail_with(v, resp->status, &e, err, what);
	cJSON_Delete(body);
	return rc;
}

/* ---- requests ---- */

static int vsp_send(struct vantara *v, enum xc_http_method method, const char *path,
		    const char *body, struct xc_http_response *resp, struct xclone_error *err)
{
	struct xc_http_request req = {0};

	memset(resp, 0, sizeof(*resp));
	if (path == NULL)
		return xclone_error_set(err, XC_E_USAGE, "Vantara request path too long");
	req.method = method;
	req.path = path;
	req.body = body;
	req.idempotent = method != XC_HTTP_POST;
	return xc_http_send(v->http, &req, resp, err);
}

/* GET path expecting 200 and a JSON object; *out owned by the caller. */
static int vsp_get(struct vantara *v, const char *path, const char *what, cJSON **out,
		   struct xclone_error *err)
{
	struct xc_http_response resp;
	int rc = vsp_send(v, XC_HTTP_GET, path, NULL, &resp, err);

	*out = NULL;
	if (rc == 0 && resp.status != 200)
		rc = vsp_fail(v, &resp, err, what);
	if (rc == 0)
		rc = xc_rest_json(&resp, out, err);
	xc_http_response_free(&resp);
	return rc;
}

/* GET a list: its "data" array (the whole answer kept in *holder). */
static int vsp_list(struct vantara *v, const char *path, const char *what, cJSON **holder,
		    const cJSON **data, struct xclone_error *err)
{
	int rc = vsp_get(v, path, what, holder, err);

	if (rc)
		return rc;
	*data = cJSON_GetObjectItemCaseSensitive(*holder, "data");
	if (!cJSON_IsArray(*data)) {
		cJSON_Delete(*holder);
		*holder = NULL;
		return xclone_error_set(err, XC_E_PROTOCOL, "Vantara: %s: answer has no data", what);
	}
	return 0;
}

static void vsp_param(struct xc_strbuf *sb, const char *key, const char *value)
{
	const char *s = xc_sb_str(sb);

	xc_sb_add(sb, s != NULL && strchr(s, '?') != NULL ? "&" : "?");
	xc_sb_add(sb, key);
	xc_sb_add(sb, "=");
	xc_sb_add_escaped(sb, value);
}

/* ---- sessions ---- */

static void wipe(char *s)
{
	for (volatile char *p = s; p != NULL && *p; p++)
		*p = '\0';
}

/* POST /sessions with HTTP Basic: a session token for every later request. */
static int vsp_login(void *ctx, struct xclone_error *err)
{
	struct vantara *v = ctx;
	struct xc_http_request req = {.method = XC_HTTP_POST, .path = VSP_OBJ "/sessions",
				      .no_relogin = 1, .idempotent = 1};
	struct xc_http_response resp = {0};
	char pair[2 * XC_SECRET_VALUE_MAX + 2], b64[4 * XC_SECRET_VALUE_MAX];
	char header[sizeof(b64) + 32], body[64], auth[256];
	const char *headers[1] = {header};
	cJSON *out = NULL;
	const char *token;
	int rc;

	/* an abandoned session expires by itself: creating one again is harmless */
	xc_http_set_header(v->http, "Authorization", NULL, NULL);
	v->session_id = -1;
	snprintf(pair, sizeof(pair), "%s:%s", v->user, v->password);
	rc = xc_b64_encode((const unsigned char *)pair, strlen(pair), b64, sizeof(b64), 1);
	wipe(pair);
	if (rc != 0)
		return xclone_error_set(err, XC_E_CONFIG, "STORAGE_USERNAME/STORAGE_PASSWORD too long");
	snprintf(header, sizeof(header), "Authorization: Basic %s", b64);
	wipe(b64);
	snprintf(body, sizeof(body), "{\"aliveTime\":%d}", VSP_ALIVE_SECONDS);
	req.body = body;
	req.headers = headers;
	req.n_headers = 1;
	rc = xc_http_send(v->http, &req, &resp, err);
	wipe(header);
	if (rc == 0 && resp.status != 200) {
		rc = vsp_fail(v, &resp, err, "creating a session refused");
		if (resp.status == 401 || resp.status == 403) {
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
	token = xc_json_str(out, "token");
	/* the token goes into a header: printable characters only */
	if (token == NULL || token[0] == '\0' || strlen(token) > 200 ||
	    strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") !=
		    strlen(token) ||
	    xc_json_long(out, "sessionId", &v->session_id) != 0) {
		cJSON_Delete(out);
		return xclone_error_set(err, XC_E_PROTOCOL,
					"Vantara session answer has no token or sessionId");
	}
	snprintf(auth, sizeof(auth), "Session %s", token);
	cJSON_Delete(out);
	rc = xc_http_set_header(v->http, "Authorization", auth, err);
	wipe(auth);
	return rc;
}

/* Discards our session (best effort: it expires by itself anyway). */
static void vsp_logout(struct vantara *v)
{
	struct xc_http_request req = {.method = XC_HTTP_DELETE, .no_relogin = 1, .idempotent = 1};
	struct xc_http_response resp = {0};
	struct xclone_error ignored;
	char path[128];

	if (v->session_id < 0)
		return;
	snprintf(path, sizeof(path), VSP_OBJ "/sessions/%ld", v->session_id);
	req.path = path;
	xc_http_send(v->http, &req, &resp, &ignored);
	xc_http_response_free(&resp);
	v->session_id = -1;
}

/* ---- jobs ---- */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits until the job `job` (an answer to a write) has completed; *final is the
 * completed job (owned by the caller). */
static int vsp_job_wait(struct vantara *v, cJSON *job, cJSON **final, const char *what,
			struct xclone_error *err)
{
	double deadline = now_seconds() + VSP_JOB_WAIT_SECONDS;
	long id = -1;
	int rc = 0;

	*final = NULL;
	if (xc_json_long(job, "jobId", &id) != 0) {
		cJSON_Delete(job);
		return xclone_error_set(err, XC_E_PROTOCOL, "Vantara: %s: answer is not a job", what);
	}
	for (unsigned attempt = 1;; attempt++) {
		const char *status = xc_json_str(job, "status");
		char path[96];
		if (status != NULL && strcmp(status, "Completed") == 0) {
			*final = job;
			return 0;
		}
		if (now_seconds() > deadline) {
			cJSON_Delete(job);
			return xclone_error_set(err, XC_E_TIMEOUT,
						"Vantara: %s: job %ld not completed after %d s", what, id,
						VSP_JOB_WAIT_SECONDS);
		}
		cJSON_Delete(job);
		job = NULL;
		/* at most ~10 s between polls: the backoff's own ceiling */
		xc_http_backoff(v->http, attempt < 8 ? attempt : 8, 0);
		snprintf(path, sizeof(path), VSP_OBJ "/jobs/%ld", id);
		rc = vsp_get(v, path, "reading a job", &job, err);
		if (rc)
			return rc;
	}
}

/* The outcome of a completed job: 0 when it succeeded, else its error in *e (whose
 * strings live in job). */
static int vsp_job_failed(const cJSON *job, struct vsp_error *e)
{
	const char *state = xc_json_str(job, "state");

	memset(e, 0, sizeof(*e));
	if (state != NULL && strcmp(state, "Succeeded") == 0)
		return 0;
	vsp_error_fields(cJSON_GetObjectItemCaseSensitive(job, "error"), e);
	if (e->message == NULL)
		e->message = "the job failed";
	return 1;
}

/* The last comma field of the job's first affected resource (".../luns/CL1-A,1,5" → 5). */
static long vsp_job_last_number(const cJSON *job)
{
	const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(job, "affectedResources"), 0);
	const char *s = cJSON_IsString(r) ? r->valuestring : NULL, *comma;
	char *end;
	long n;

	if (s == NULL || (comma = strrchr(s, ',')) == NULL)
		return -1;
	n = strtol(comma + 1, &end, 10);
	return *end == '\0' && end != comma + 1 ? n : -1;
}

/*
 * Sends a write and waits for its job. POSTs go through xc_rest_send_checked with
 * check; a DELETE may be resent. *job is the completed job (caller frees), or NULL
 * when check confirmed a lost request's effect. A synchronous error answer is
 * returned in *sync_error (owned) with status *sync_status, rc 0, for the caller.
 */
struct vsp_write {
	enum xc_http_method method;
	const char *path, *body, *what;
	xc_rest_check_fn check;
	void *ctx;
};

static int vsp_write(struct vantara *v, const struct vsp_write *w, cJSON **job,
		     long *sync_status, cJSON **sync_error, struct xclone_error *err)
{
	struct xc_http_request req = {.method = w->method, .path = w->path, .body = w->body};
	struct xc_http_response resp = {0};
	cJSON *answer = NULL;
	int confirmed = 0, rc;

	*job = NULL;
	*sync_error = NULL;
	*sync_status = 0;
	req.idempotent = w->method != XC_HTTP_POST;
	if (req.idempotent)
		rc = xc_http_send(v->http, &req, &resp, err);
	else
		rc = xc_rest_send_checked(v->http, &req, &resp, w->check, w->ctx, &confirmed, err);
	if (rc || confirmed)
		return rc;
	if (resp.status != 202 && resp.status != 200 && resp.status != 201) {
		*sync_status = resp.status;
		*sync_error = resp.body ? cJSON_ParseWithLength(resp.body, resp.body_len) : NULL;
		if (*sync_error == NULL) /* not JSON: report it as it is */
			rc = vsp_fail(v, &resp, err, w->what);
		xc_http_response_free(&resp);
		return rc;
	}
	rc = xc_rest_json(&resp, &answer, err);
	xc_http_response_free(&resp);
	if (rc)
		return rc;
	return vsp_job_wait(v, answer, job, w->what, err);
}

/* A DELETE and its job. "The object does not exist" (a resend after a lost answer,
 * or gone meanwhile) is the goal reached. */
static int vsp_delete(struct vantara *v, const char *path, const char *what,
		      struct xclone_error *err)
{
	struct vsp_write w = {XC_HTTP_DELETE, path, NULL, what, NULL, NULL};
	cJSON *job = NULL, *sync = NULL;
	struct vsp_error e;
	long status;
	int rc = vsp_write(v, &w, &job, &status, &sync, err);

	if (rc == 0 && (job != NULL || sync != NULL)) {
		int failed = job != NULL ? vsp_job_failed(job, &e) : 1;
		if (sync != NULL)
			vsp_error_fields(sync, &e);
		if (failed && !vsp_error_is_gone(&e))
			rc = vsp_fail_with(v, sync ? status : 409, &e, err, what);
	}
	cJSON_Delete(job);
	cJSON_Delete(sync);
	return rc;
}

/* ---- open, info, close ---- */

static void vsp_close(void *state)
{
	struct vantara *v = state;

	if (v == NULL)
		return;
	vsp_logout(v);
	wipe(v->user);
	wipe(v->password);
	free(v->user);
	free(v->password);
	free(v->hostgroup_list);
	free(v);
}

static int dup_key(struct xc_secret *s, const char *key, int required, char **out,
		   struct xclone_error *err)
{
	const char *value = NULL;
	int rc = required ? xc_secret_require(s, key, &value, err) : xc_secret_get(s, key, &value, err);

	*out = NULL;
	if (rc || value == NULL || value[0] == '\0')
		return rc;
	*out = strdup(value);
	return *out ? 0 : xclone_error_set(err, XC_E_NOMEM, "out of memory");
}

/* One "<port>,<number>" of HOSTGROUP_ID_LIST: CL<n>-<letter(s)>, 0..254. */
static int parse_hg_id(const char *s, size_t len, char *port, size_t port_size, int *number)
{
	const char *comma = memchr(s, ',', len);
	char num[8];
	char *end;
	long n;

	if (comma == NULL || (size_t)(comma - s) >= port_size || comma == s ||
	    len - (size_t)(comma - s) - 1 == 0 || len - (size_t)(comma - s) - 1 >= sizeof(num))
		return -1;
	memcpy(port, s, (size_t)(comma - s));
	port[comma - s] = '\0';
	if (strncmp(port, "CL", 2) != 0 || strchr(port, '-') == NULL)
		return -1;
	for (const char *c = port; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-')
			return -1;
	memcpy(num, comma + 1, len - (size_t)(comma - s) - 1);
	num[len - (size_t)(comma - s) - 1] = '\0';
	if (!isdigit((unsigned char)num[0]))
		return -1;
	n = strtol(num, &end, 10);
	if (*end != '\0' || n < 0 || n > 254)
		return -1;
	*number = (int)n;
	return 0;
}

/* Calls fn for each "<port>,<number>" of a ':'-separated list (items trimmed). */
typedef int (*vsp_hg_fn)(void *ctx, const char *port, int number);

static int each_hg_id(const char *list, vsp_hg_fn fn, void *ctx)
{
	const char *p = list;

	while (*p) {
		const char *colon = strchr(p, ':'), *end = colon ? colon : p + strlen(p);
		char port[16];
		int number, rc;
		while (p < end && isspace((unsigned char)*p))
			p++;
		const char *last = end;
		while (last > p && isspace((unsigned char)last[-1]))
			last--;
		if (parse_hg_id(p, (size_t)(last - p), port, sizeof(port), &number) != 0)
			return -1;
		if (fn != NULL && (rc = fn(ctx, port, number)) != 0)
			return rc;
		p = colon ? colon + 1 : end;
	}
	return 0;
}

static int vsp_read_secret(struct vantara *v, struct xc_secret *s, char **storage_id,
			   struct xclone_error *err)
{
	int rc;

	if ((rc = dup_key(s, "STORAGE_USERNAME", 1, &v->user, err)) ||
	    (rc = dup_key(s, "STORAGE_PASSWORD", 1, &v->password, err)) ||
	    (rc = dup_key(s, "HOSTGROUP_ID_LIST", 0, &v->hostgroup_list, err)) ||
	    (rc = dup_key(s, "STORAGE_ID", 0, storage_id, err)))
		return rc;
	if (v->hostgroup_list != NULL && each_hg_id(v->hostgroup_list, NULL, NULL) != 0)
		return xclone_error_set(err, XC_E_CONFIG,
					"secret key HOSTGROUP_ID_LIST is not a ':'-separated list of"
					" <port>,<host group number> (CL1-A,1:CL2-B,2)");
	return xc_http_add_secret(v->http, v->password, err);
}

/* GET configuration/version: the API version, at least 1.9. */
static int vsp_check_version(struct vantara *v, struct xclone_error *err)
{
	cJSON *body = NULL;
	const char *ver;
	int major = 0, minor = 0;
	int rc = vsp_get(v, VSP_ROOT "/configuration/version", "reading the API version", &body, err);

	if (rc)
		return rc;
	ver = xc_json_str(body, "apiVersion");
	if (ver == NULL || sscanf(ver, "%d.%d", &major, &minor) != 2) {
		rc = xclone_error_set(err, XC_E_PROTOCOL, "Vantara: the answer has no apiVersion");
	} else if (major < VSP_MIN_API_MAJOR ||
		   (major == VSP_MIN_API_MAJOR && minor < VSP_MIN_API_MINOR)) {
		rc = xclone_error_set(err, XC_E_REMOTE,
				      "Vantara REST API %s is older than %d.%d (update the"
				      " microcode)",
				      ver, VSP_MIN_API_MAJOR, VSP_MIN_API_MINOR);
	} else {
		snprintf(v->api_version, sizeof(v->api_version), "%s", ver);
	}
	cJSON_Delete(body);
	return rc;
}

/* Whether STORAGE_ID names this array: its storageDeviceId, or its serial number
 * (forklift's README calls the key the serial number), leading zeros aside. */
static int storage_id_matches(const struct vantara *v, const char *given)
{
	const char *a = given, *b = v->serial;

	if (strcmp(given, v->storage_id) == 0)
		return 1;
	while (*a == '0' && a[1] != '\0')
		a++;
	while (*b == '0' && b[1] != '\0')
		b++;
	return strcmp(a, b) == 0;
}

/* GET /storages: the array's storageDeviceId, serial and model. */
static int vsp_read_storage(struct vantara *v, const char *storage_key, struct xclone_error *err)
{
	cJSON *holder = NULL;
	const cJSON *data, *s;
	double serial = 0;
	int rc = vsp_list(v, VSP_OBJ "/storages", "reading the storage system", &holder, &data, err);

	if (rc)
		return rc;
	if (cJSON_GetArraySize(data) != 1) {
		rc = xclone_error_set(err, XC_E_CONFIG,
				      "secret key STORAGE_HOSTNAME: this REST server manages %d"
				      " storage systems (an Ops Center API Configuration Manager"
				      " server); give the address of the array's own REST API",
				      cJSON_GetArraySize(data));
		goto done;
	}
	s = cJSON_GetArrayItem(data, 0);
	if ((rc = xc_copy_field(v->storage_id, sizeof(v->storage_id),
				xc_json_str(s, "storageDeviceId"), "storageDeviceId", err)))
		goto done;
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(s, "serialNumber")))
		serial = cJSON_GetObjectItemCaseSensitive(s, "serialNumber")->valuedouble;
	snprintf(v->serial, sizeof(v->serial), "%.0f", serial);
	snprintf(v->model, sizeof(v->model), "%s", xc_json_str(s, "model") ? xc_json_str(s, "model") : "");
	snprintf(v->micro, sizeof(v->micro), "%s",
		 xc_json_str(s, "dkcMicroVersion") ? xc_json_str(s, "dkcMicroVersion") : "");
	if (storage_key != NULL && !storage_id_matches(v, storage_key))
		rc = xclone_error_set(err, XC_E_CONFIG,
				      "secret key STORAGE_ID (%.40s) does not name this array"
				      " (storage device id %s, serial %s)",
				      storage_key, v->storage_id, v->serial);
done:
	cJSON_Delete(holder);
	return rc;
}

static int vsp_open(const struct xc_array_session *s, void **state, struct xclone_error *err)
{
	struct vantara *v = calloc(1, sizeof(*v));
	char *storage_key = NULL;
	int rc;

	*state = NULL;
	if (v == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	v->http = s->http;
	v->session_id = -1;
	if ((rc = vsp_read_secret(v, s->secret, &storage_key, err)) ||
	    (rc = vsp_check_version(v, err)) || (rc = vsp_login(v, err))) {
		free(storage_key);
		vsp_close(v);
		return rc;
	}
	xc_http_set_relogin(v->http, vsp_login, NULL, v);
	rc = vsp_read_storage(v, storage_key, err);
	free(storage_key);
	if (rc) {
		vsp_close(v);
		return rc;
	}
	*state = v;
	return 0;
}

static int vsp_info(void *state, struct xc_array_info *out, struct xclone_error *err)
{
	struct vantara *v = state;
	int rc = vsp_read_storage(v, NULL, err);

	if (rc)
		return rc;
	snprintf(out->vendor, sizeof(out->vendor), "Hitachi Vantara");
	snprintf(out->model, sizeof(out->model), "%s", v->model);
	snprintf(out->version, sizeof(out->version), "%s", v->micro);
	snprintf(out->name, sizeof(out->name), "%s %s", v->model, v->serial);
	snprintf(out->array_id, sizeof(out->array_id), "%s", v->storage_id);
	snprintf(out->api_version, sizeof(out->api_version), "%s", v->api_version);
	return 0;
}

/* ---- LDEVs ---- */

static int vsp_get_ldev(struct vantara *v, long ldev, cJSON **out, struct xclone_error *err)
{
	char path[96];

	snprintf(path, sizeof(path), VSP_OBJ "/ldevs/%ld", ldev);
	return vsp_get(v, path, "reading the LDEV", out, err);
}

static int vsp_resolve(void *state, const struct xc_pv *pv, struct xc_lun *out,
		       struct xclone_error *err)
{
	struct vantara *v = state;
	struct xc_vantara_handle h;
	struct xclone_error handle_err;
	const char *dec = xc_pv_attr(pv, "ldevIDDec"), *nick = xc_pv_attr(pv, "nickname");
	const char *label, *emulation;
	unsigned long long blocks = 0;
	cJSON *ldev = NULL;
	char *end;
	int rc;

	if (pv->volume_handle != NULL &&
	    xc_vantara_parse_handle(pv->volume_handle, &h, &handle_err) == 0) {
		if (strcmp(h.storage_id, v->storage_id) != 0)
			return xclone_error_set(err, XC_E_NOT_FOUND,
						"Vantara: PV %.100s is on storage system %s, this array"
						" is %s",
						pv->name, h.storage_id, v->storage_id);
	} else if (dec != NULL && dec[0] != '\0') {
		memset(&h, 0, sizeof(h));
		h.ldev_id = strtol(dec, &end, 10);
		if (!isdigit((unsigned char)dec[0]) || *end != '\0' || h.ldev_id > 65535)
			return xclone_error_set(err, XC_E_USAGE,
						"volume attribute ldevIDDec \"%.40s\" is not an LDEV"
						" number",
						dec);
		snprintf(h.nickname, sizeof(h.nickname), "%s", nick ? nick : "");
	} else {
		return xclone_error_set(err, XC_E_NOT_FOUND,
					"Vantara: PV %.100s has no Storage Plug-in for Containers"
					" volume handle (01--<protocol>--<storage id>--<LDEV>--<nickname>)"
					" nor an ldevIDDec attribute",
					pv->name);
	}
	rc = vsp_get_ldev(v, h.ldev_id, &ldev, err);
	if (rc)
		return rc;
	emulation = xc_json_str(ldev, "emulationType");
	label = xc_json_str(ldev, "label");
	if (emulation == NULL || strcmp(emulation, "NOT DEFINED") == 0) {
		rc = xclone_error_set(err, XC_E_NOT_FOUND, "Vantara: LDEV %ld (PV %.100s) is not defined",
				      h.ldev_id, pv->name);
	} else if (h.nickname[0] != '\0' && (label == NULL || strcmp(label, h.nickname) != 0)) {
		/* the PV's LDEV was deleted and its number reused: never touch that one */
		rc = xclone_error_set(err, XC_E_NOT_FOUND,
				      "Vantara: LDEV %ld is labelled \"%.64s\", not \"%.64s\" as PV"
				      " %.100s says: not its volume",
				      h.ldev_id, label ? label : "", h.nickname, pv->name);
	} else if (xc_json_u64(ldev, "blockCapacity", &blocks) != 0) {
		rc = xclone_error_set(err, XC_E_PROTOCOL, "Vantara: LDEV %ld has no blockCapacity",
				      h.ldev_id);
	} else if ((rc = xc_vantara_naa(xc_json_str(ldev, "naaId"), h.ldev_id, out->naa,
					sizeof(out->naa), err)) == 0) {
		snprintf(out->name, sizeof(out->name), "%s",
			 label && label[0] ? label : "(no label)");
		snprintf(out->id, sizeof(out->id), "%ld", h.ldev_id);
		snprintf(out->serial, sizeof(out->serial), "%s", out->naa + 4);
		snprintf(out->array_id, sizeof(out->array_id), "%s", v->storage_id);
		out->size_bytes = blocks * 512ULL;
	}
	cJSON_Delete(ldev);
	return rc;
}

/* ---- the host group inventory ---- */

static void inventory_free(struct vsp_inventory *inv)
{
	free(inv->hgs);
	memset(inv, 0, sizeof(*inv));
}

static struct vsp_port *inventory_port(struct vsp_inventory *inv, const char *id)
{
	for (size_t i = 0; i < inv->n_ports; i++)
		if (strcmp(inv->ports[i].id, id) == 0)
			return &inv->ports[i];
	return NULL;
}

/* GET /ports (?detailInfoType=logins when ini is given: which of ini log in where). */
static int inventory_ports(struct vantara *v, struct vsp_inventory *inv,
			   const struct xc_initiator *ini, size_t n, struct xclone_error *err)
{
	cJSON *holder = NULL;
	const cJSON *data, *p;
	int rc = vsp_list(v, ini ? VSP_OBJ "/ports?detailInfoType=logins" : VSP_OBJ "/ports",
			  "listing ports", &holder, &data, err);

	if (rc)
		return rc;
	cJSON_ArrayForEach(p, data)
	{
		const char *id = xc_json_str(p, "portId"), *type = xc_json_str(p, "portType");
		const cJSON *login;
		struct vsp_port *port;
		if (id == NULL || type == NULL || strlen(id) >= sizeof(port->id) ||
		    inv->n_ports == VSP_PORT_MAX)
			continue;
		if (strcmp(type, "FIBRE") != 0 && strcmp(type, "FCoE") != 0 && strcmp(type, "ISCSI") != 0)
			continue; /* NVMe/TCP, remote-copy and other ports carry no LU paths here */
		port = &inv->ports[inv->n_ports++];
		memset(port, 0, sizeof(*port));
		snprintf(port->id, sizeof(port->id), "%s", id);
		port->iscsi = strcmp(type, "ISCSI") == 0;
		cJSON_ArrayForEach(login, cJSON_GetObjectItemCaseSensitive(p, "logins"))
		{
			const char *who = xc_json_str(login, port->iscsi ? "loginIscsiName" : "loginWwn");
			for (size_t i = 0; who != NULL && i < n; i++)
				if (xc_initiator_matches(&ini[i], who))
					port->logged |= 1u << i;
		}
	}
	cJSON_Delete(holder);
	return 0;
}

/* Adds a host group to the inventory (not yet read: held unknown). */
static int inventory_append(struct vsp_inventory *inv, const struct vsp_port *port, int number,
			    const char *name, struct xclone_error *err)
{
	struct vsp_hg *hg;

	if (strlen(name) >= sizeof(hg->name))
		return xclone_error_set(err, XC_E_PROTOCOL, "Vantara: host group name too long");
	if (inv->n == inv->cap) {
		size_t cap = inv->cap ? inv->cap * 2 : 64;
		struct vsp_hg *grown = realloc(inv->hgs, cap * sizeof(*grown));
		if (grown == NULL)
			return xclone_error_set(err, XC_E_NOMEM, "out of memory");
		inv->hgs = grown;
		inv->cap = cap;
	}
	hg = &inv->hgs[inv->n++];
	memset(hg, 0, sizeof(*hg));
	snprintf(hg->port, sizeof(hg->port), "%s", port->id);
	snprintf(hg->name, sizeof(hg->name), "%s", name);
	hg->number = number;
	hg->iscsi = port->iscsi;
	return 0;
}

/* GET /host-groups: every host group of the array's LU-path ports. */
static int inventory_host_groups(struct vantara *v, struct vsp_inventory *inv,
				 struct xclone_error *err)
{
	cJSON *holder = NULL;
	const cJSON *data, *g;
	int rc = vsp_list(v, VSP_OBJ "/host-groups", "listing host groups", &holder, &data, err);

	if (rc)
		return rc;
	cJSON_ArrayForEach(g, data)
	{
		const char *port = xc_json_str(g, "portId"), *name = xc_json_str(g, "hostGroupName");
		const struct vsp_port *p = port ? inventory_port(inv, port) : NULL;
		long number;
		if (p == NULL || name == NULL || xc_json_long(g, "hostGroupNumber", &number) != 0)
			continue;
		if ((rc = inventory_append(inv, p, (int)number, name, err)) != 0)
			break;
	}
	cJSON_Delete(holder);
	return rc;
}

static int inventory_load(struct vantara *v, struct vsp_inventory *inv,
			  const struct xc_initiator *ini, size_t n, struct xclone_error *err)
{
	int rc;

	memset(inv, 0, sizeof(*inv));
	if ((rc = inventory_ports(v, inv, ini, n, err)) || (rc = inventory_host_groups(v, inv, err)))
		inventory_free(inv);
	return rc;
}

static long inventory_find(const struct vsp_inventory *inv, const char *port, int number)
{
	for (size_t i = 0; i < inv->n; i++)
		if (inv->hgs[i].number == number && strcmp(inv->hgs[i].port, port) == 0)
			return (long)i;
	return -1;
}

/* The initiators host group hg registers: each one is passed to fn (as listed). */
typedef void (*vsp_initiator_fn)(void *ctx, const char *text);

/* "<collection>?portId=<port>&hostGroupNumber=<n>": what one host group holds. */
static void hg_list_path(struct xc_strbuf *sb, const char *collection, const struct vsp_hg *hg)
{
	char number[16];

	snprintf(number, sizeof(number), "%d", hg->number);
	xc_sb_init(sb);
	xc_sb_add(sb, collection);
	vsp_param(sb, "portId", hg->port);
	vsp_param(sb, "hostGroupNumber", number);
}

static int hg_initiators(struct vantara *v, const struct vsp_hg *hg, vsp_initiator_fn fn,
			 void *ctx, struct xclone_error *err)
{
	struct xc_strbuf path;
	cJSON *holder = NULL;
	const cJSON *data, *item;
	int rc;

	hg_list_path(&path, hg->iscsi ? VSP_OBJ "/host-iscsis" : VSP_OBJ "/host-wwns", hg);
	rc = vsp_list(v, xc_sb_str(&path), "listing a host group's initiators", &holder, &data, err);
	xc_sb_free(&path);
	if (rc)
		return rc;
	cJSON_ArrayForEach(item, data)
	{
		const char *text = xc_json_str(item, hg->iscsi ? "iscsiName" : "hostWwn");
		if (text != NULL)
			fn(ctx, text);
	}
	cJSON_Delete(holder);
	return 0;
}

struct held_ctx {
	struct vsp_hg *hg;
	const struct xc_initiator *ini;
	size_t n;
};

static void mark_held(void *ctx, const char *text)
{
	struct held_ctx *c = ctx;

	for (size_t i = 0; i < c->n; i++)
		if (xc_initiator_matches(&c->ini[i], text))
			c->hg->held |= 1u << i;
}

/* Reads which of ini host group i registers (once). */
static int inventory_read_held(struct vantara *v, struct vsp_inventory *inv, size_t i,
			       const struct xc_initiator *ini, size_t n, struct xclone_error *err)
{
	struct held_ctx c = {&inv->hgs[i], ini, n};
	int rc;

	if (inv->hgs[i].loaded)
		return 0;
	inv->hgs[i].held = 0;
	rc = hg_initiators(v, &inv->hgs[i], mark_held, &c, err);
	if (rc == 0)
		inv->hgs[i].loaded = 1;
	return rc;
}

/* ---- sets of host groups and their names ---- */

static int set_has(const struct vsp_set *s, size_t i)
{
	for (size_t k = 0; k < s->n; k++)
		if (s->idx[k] == i)
			return 1;
	return 0;
}

static int set_add(struct vsp_set *s, size_t i)
{
	if (set_has(s, i))
		return 0;
	if (s->n == sizeof(s->idx) / sizeof(s->idx[0]))
		return -1;
	s->idx[s->n++] = i;
	return 0;
}

static int cmp_hg_index(const struct vsp_inventory *inv, size_t a, size_t b)
{
	int c = strcmp(inv->hgs[a].port, inv->hgs[b].port);

	return c ? c : inv->hgs[a].number - inv->hgs[b].number;
}

/*
 * The name of a set: the host group name when the set is exactly the host groups of
 * that name, else "CL1-A,1:CL2-B,2" (its ids, sorted). Every call that names or
 * reads a set uses this, so mappings, map and unmap agree.
 */
static int set_name(const struct vsp_inventory *inv, const struct vsp_set *s, char *out,
		    size_t size, struct xclone_error *err)
{
	struct vsp_set sorted = *s;
	const char *common = s->n ? inv->hgs[s->idx[0]].name : NULL;
	size_t used = 0, named = 0;

	for (size_t k = 0; common != NULL && k < s->n; k++)
		if (strcmp(inv->hgs[s->idx[k]].name, common) != 0)
			common = NULL;
	for (size_t i = 0; common != NULL && i < inv->n; i++)
		named += strcmp(inv->hgs[i].name, common) == 0;
	if (common != NULL && named == s->n && strchr(common, ',') == NULL)
		return xc_copy_field(out, size, common, "host group name", err);
	/* insertion sort: a handful of host groups */
	for (size_t a = 1; a < sorted.n; a++)
		for (size_t b = a; b > 0 && cmp_hg_index(inv, sorted.idx[b - 1], sorted.idx[b]) > 0; b--) {
			size_t t = sorted.idx[b];
			sorted.idx[b] = sorted.idx[b - 1];
			sorted.idx[b - 1] = t;
		}
	out[0] = '\0';
	for (size_t k = 0; k < sorted.n; k++) {
		const struct vsp_hg *hg = &inv->hgs[sorted.idx[k]];
		int w = snprintf(out + used, size - used, "%s%s,%d", k ? ":" : "", hg->port, hg->number);
		if (w < 0 || (size_t)w >= size - used)
			return xclone_error_set(err, XC_E_PROTOCOL,
						"Vantara: too many host groups to name in one set");
		used += (size_t)w;
	}
	return 0;
}

struct set_parse {
	const struct vsp_inventory *inv;
	struct vsp_set *set;
	const char *missing;
	char missing_buf[32];
};

static int add_listed(void *ctx, const char *port, int number)
{
	struct set_parse *p = ctx;
	long i = inventory_find(p->inv, port, number);

	if (i < 0) {
		snprintf(p->missing_buf, sizeof(p->missing_buf), "%s,%d", port, number);
		p->missing = p->missing_buf;
		return 1;
	}
	return set_add(p->set, (size_t)i) == 0 ? 0 : 2;
}

/* Every host group named name. */
static int set_of_name(const struct vsp_inventory *inv, const char *name, struct vsp_set *out,
		       struct xclone_error *err)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < inv->n; i++)
		if (strcmp(inv->hgs[i].name, name) == 0 && set_add(out, i) != 0)
			return xclone_error_set(err, XC_E_USAGE, "too many host groups");
	if (out->n == 0)
		return xclone_error_set(err, XC_E_NOT_FOUND, "Vantara: no host group named %.100s",
					name);
	return 0;
}

/* The set a name stands for: an id list, or every host group of that name. */
static int set_from_name(const struct vsp_inventory *inv, const char *name, struct vsp_set *out,
			 struct xclone_error *err)
{
	struct set_parse p = {inv, out, NULL, ""};

	memset(out, 0, sizeof(*out));
	if (strchr(name, ',') != NULL) {
		int rc = each_hg_id(name, add_listed, &p);
		if (rc < 0)
			return xclone_error_set(err, XC_E_USAGE,
						"\"%.100s\" is neither a host group name nor a list of"
						" <port>,<number>",
						name);
		if (rc == 1)
			return xclone_error_set(err, XC_E_NOT_FOUND,
						"Vantara: host group %s does not exist", p.missing);
		if (rc == 2)
			return xclone_error_set(err, XC_E_USAGE, "too many host groups");
		return 0;
	}
	return set_of_name(inv, name, out, err);
}

/* ---- writes on host groups ---- */

struct hg_check {
	struct vantara *v;
	const char *port, *name;
	const char *initiator;   /* NULL: check the host group exists */
	int number;
};

/* After a lost create: does the host group (or the initiator in it) exist now? */
static int hg_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct hg_check *c = ctx;
	struct vsp_inventory inv;
	int rc = inventory_load(c->v, &inv, NULL, 0, err);

	*applied = 0;
	if (rc)
		return rc;
	for (size_t i = 0; i < inv.n; i++) {
		struct vsp_hg *hg = &inv.hgs[i];
		if (strcmp(hg->port, c->port) != 0)
			continue;
		if (c->initiator == NULL && strcmp(hg->name, c->name) == 0) {
			c->number = hg->number;
			*applied = 1;
		} else if (c->initiator != NULL && hg->number == c->number) {
			struct xc_initiator ini;
			struct xclone_error ignored;
			if (xc_initiator_parse(c->initiator, &ini, &ignored) == 0 &&
			    (rc = inventory_read_held(c->v, &inv, i, &ini, 1, err)) == 0)
				*applied = hg->held != 0;
		}
	}
	inventory_free(&inv);
	return rc;
}

/* Runs a write on a host group; a failure the check then shows as done is success. */
static int hg_write(struct vantara *v, const char *path, const char *body, struct hg_check *c,
		    const char *what, long *number, struct xclone_error *err)
{
	struct vsp_write w = {XC_HTTP_POST, path, body, what, hg_check, c};
	cJSON *job = NULL, *sync = NULL;
	struct vsp_error e;
	long status;
	int applied = 0, rc = vsp_write(v, &w, &job, &status, &sync, err);

	if (rc)
		return rc;
	if (job == NULL && sync == NULL) { /* a lost request, found applied */
		*number = c->number;
		return 0;
	}
	if (job != NULL && !vsp_job_failed(job, &e)) {
		*number = vsp_job_last_number(job);
		cJSON_Delete(job);
		if (*number < 0 && c->initiator == NULL)
			return xclone_error_set(err, XC_E_PROTOCOL,
						"Vantara: %s: the job names no host group", what);
		return 0;
	}
	if (sync != NULL)
		vsp_error_fields(sync, &e);
	/* "already there" (an earlier attempt whose answer was lost) is the goal */
	if (hg_check(c, &applied, err) == 0 && applied) {
		*number = c->number;
		rc = 0;
	} else {
		rc = vsp_fail_with(v, sync ? status : 409, &e, err, what);
	}
	cJSON_Delete(job);
	cJSON_Delete(sync);
	return rc;
}

/* A new host group named name on port, host mode VMware with the XCOPY options. */
static int hg_create(struct vantara *v, const struct vsp_port *port, const char *name,
		     int *number, struct xclone_error *err)
{
	struct hg_check c = {v, port->id, name, NULL, -1};
	cJSON *body = cJSON_CreateObject(), *opts;
	char *text = NULL;
	long made = -1;
	int rc = 0;

	/* host mode options 54 (EXTENDED_COPY) and 63 (VSTORAGE_APIS_ON_T10_STANDARDS):
	 * what XCOPY from ESXi needs */
	if (body == NULL || !cJSON_AddStringToObject(body, "portId", port->id) ||
	    !cJSON_AddStringToObject(body, "hostGroupName", name) ||
	    !cJSON_AddStringToObject(body, "hostMode", VSP_HOST_MODE) ||
	    (opts = cJSON_AddArrayToObject(body, "hostModeOptions")) == NULL ||
	    !cJSON_AddItemToArray(opts, cJSON_CreateNumber(54)) ||
	    !cJSON_AddItemToArray(opts, cJSON_CreateNumber(63)))
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (rc == 0)
		rc = xc_json_print(body, &text, err);
	cJSON_Delete(body);
	if (rc == 0)
		rc = hg_write(v, VSP_OBJ "/host-groups", text, &c, "creating a host group", &made, err);
	free(text);
	if (rc == 0)
		*number = (int)made;
	return rc;
}

/* Registers one initiator in a host group (WWPN as 16 hex digits, or the IQN). */
static int hg_add_initiator(struct vantara *v, const struct vsp_hg *hg,
			    const struct xc_initiator *ini, struct xclone_error *err)
{
	struct hg_check c = {v, hg->port, hg->name, ini->id, hg->number};
	char body[XC_INITIATOR_MAX + 128];
	long ignored;

	if (hg->iscsi) {
		cJSON *b = cJSON_CreateObject();
		char *text = NULL;
		int rc = 0;
		if (b == NULL || !cJSON_AddStringToObject(b, "iscsiName", ini->id) ||
		    !cJSON_AddStringToObject(b, "portId", hg->port) ||
		    !cJSON_AddNumberToObject(b, "hostGroupNumber", hg->number))
			rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
		if (rc == 0)
			rc = xc_json_print(b, &text, err);
		cJSON_Delete(b);
		if (rc == 0)
			rc = hg_write(v, VSP_OBJ "/host-iscsis", text, &c,
				      "adding an iSCSI name to a host group", &ignored, err);
		free(text);
		return rc;
	}
	snprintf(body, sizeof(body), "{\"hostWwn\":\"%s\",\"portId\":\"%s\",\"hostGroupNumber\":%d}",
		 ini->wwpn, hg->port, hg->number);
	return hg_write(v, VSP_OBJ "/host-wwns", body, &c, "adding a WWN to a host group", &ignored,
			err);
}

/* ---- hosts ---- */

struct collect_ctx {
	struct xc_host_group *g;
};

static void collect_initiator(void *ctx, const char *text)
{
	struct collect_ctx *c = ctx;

	for (size_t i = 0; i < c->g->n_initiators; i++)
		if (strcasecmp(c->g->initiators[i], text) == 0)
			return;
	xc_host_group_add_initiator(c->g, text);
}

/* g = the set named name, with every initiator its host groups register. */
static int describe_set(struct vantara *v, const struct vsp_inventory *inv,
			const struct vsp_set *s, struct xc_host_group *g, struct xclone_error *err)
{
	struct collect_ctx c = {g};
	char name[XC_GROUP_NAME_MAX];
	int rc = set_name(inv, s, name, sizeof(name), err);

	if (rc == 0)
		rc = xc_host_group_init(g, name, XC_GROUP_HOST, err);
	for (size_t k = 0; rc == 0 && k < s->n; k++)
		rc = hg_initiators(v, &inv->hgs[s->idx[k]], collect_initiator, &c, err);
	return rc;
}

/* HOSTGROUP_ID_LIST given: those host groups are the host; nothing is changed. */
static int ensure_listed(struct vantara *v, struct vsp_inventory *inv,
			 const struct xc_initiator *ini, size_t n, struct xc_host_group *out,
			 struct xclone_error *err)
{
	struct vsp_set s;
	unsigned held = 0;
	int rc = set_from_name(inv, v->hostgroup_list, &s, err);

	if (rc) {
		if (rc == XC_E_NOT_FOUND && err != NULL)
			err->code = XC_E_CONFIG;
		return rc == XC_E_NOT_FOUND ? XC_E_CONFIG : rc;
	}
	for (size_t k = 0; k < s.n && rc == 0; k++) {
		rc = inventory_read_held(v, inv, s.idx[k], ini, n, err);
		held |= inv->hgs[s.idx[k]].held;
	}
	if (rc)
		return rc;
	if (held == 0)
		return xclone_error_set(err, XC_E_CONFIG,
					"secret key HOSTGROUP_ID_LIST: its host groups register none"
					" of this host's initiators, so it would never see the LUN");
	return describe_set(v, inv, &s, out, err);
}

/* The name for host groups created here: the caller's, at most 32 characters (iSCSI
 * target names are limited to 32), or the common name of those the host already has. */
static void creation_name(const struct vsp_inventory *inv, const struct vsp_set *s,
			  const char *requested, char *out, size_t size)
{
	const char *common = s->n ? inv->hgs[s->idx[0]].name : NULL;

	for (size_t k = 0; common != NULL && k < s->n; k++)
		if (strcmp(inv->hgs[s->idx[k]].name, common) != 0)
			common = NULL;
	if (common != NULL && strlen(common) <= VSP_HG_NAME_MAX && strlen(common) < size) {
		memcpy(out, common, strlen(common) + 1);
		return;
	}
	xc_primera3par_object_name(requested, VSP_HG_NAME_MAX, out, size);
}

/* Makes sure initiator ini (the i-th) is registered on port: in the host's host
 * group there, or in a new one named new_name that joins the set s. */
static int register_on_port(struct vantara *v, struct vsp_inventory *inv, struct vsp_set *s,
			    const struct vsp_port *port, const struct xc_initiator *ini, size_t i,
			    const char *new_name, struct xclone_error *err)
{
	long target = -1;
	int number, rc;

	for (size_t k = 0; k < inv->n; k++) {
		if (strcmp(inv->hgs[k].port, port->id) != 0)
			continue;
		if (inv->hgs[k].held & (1u << i))
			return 0; /* registered already */
		if (target < 0 && set_has(s, k))
			target = (long)k;
	}
	for (size_t k = 0; target < 0 && k < inv->n; k++)
		if (strcmp(inv->hgs[k].port, port->id) == 0 && strcmp(inv->hgs[k].name, new_name) == 0)
			return xclone_error_set(err, XC_E_CONFLICT,
						"Vantara: port %s has a host group named %s that holds"
						" none of this host's initiators: choose another name",
						port->id, new_name);
	if (target < 0) {
		if ((rc = hg_create(v, port, new_name, &number, err)) ||
		    (rc = inventory_append(inv, port, number, new_name, err)))
			return rc;
		target = (long)inv->n - 1;
		inv->hgs[target].loaded = 1; /* new: it registers nothing yet */
		if (set_add(s, (size_t)target) != 0)
			return xclone_error_set(err, XC_E_USAGE, "too many host groups");
	}
	rc = hg_add_initiator(v, &inv->hgs[target], ini, err);
	if (rc == 0)
		inv->hgs[target].held |= 1u << i;
	return rc;
}

/*
 * Discovery: on every port an initiator is logged in to, it must be registered in a
 * host group. Registered already → that host group is the host's; else it is added
 * to the host's host group on that port, or to a new one named for the host.
 */
static int ensure_discovered(struct vantara *v, struct vsp_inventory *inv, const char *name,
			     const struct xc_initiator *ini, size_t n, struct xc_host_group *out,
			     struct xclone_error *err)
{
	struct vsp_set s = {0};
	unsigned logged_any = 0;
	char new_name[VSP_HG_NAME_MAX + 1];
	int rc = 0;

	for (size_t p = 0; p < inv->n_ports; p++)
		logged_any |= inv->ports[p].logged;
	if (logged_any == 0)
		return xclone_error_set(err, XC_E_NOT_FOUND,
					"Vantara: none of the host's initiators is logged in to a port"
					" of this array (FC zoning, or the iSCSI adapter's discovery"
					" address); or give HOSTGROUP_ID_LIST");
	/* which host groups on those ports register them already */
	for (size_t i = 0; i < inv->n && rc == 0; i++) {
		const struct vsp_port *p = inventory_port(inv, inv->hgs[i].port);
		if (p == NULL || p->logged == 0)
			continue;
		rc = inventory_read_held(v, inv, i, ini, n, err);
		if (rc == 0 && inv->hgs[i].held != 0 && set_add(&s, i) != 0)
			rc = xclone_error_set(err, XC_E_USAGE, "too many host groups");
	}
	if (rc)
		return rc;
	creation_name(inv, &s, name, new_name, sizeof(new_name));
	for (size_t p = 0; p < inv->n_ports && rc == 0; p++)
		for (size_t i = 0; i < n && rc == 0; i++)
			if (inv->ports[p].logged & (1u << i))
				rc = register_on_port(v, inv, &s, &inv->ports[p], &ini[i], i, new_name,
						      err);
	if (rc)
		return rc;
	return describe_set(v, inv, &s, out, err);
}

static int vsp_ensure_host(void *state, const char *name, const struct xc_initiator *ini, size_t n,
			   struct xc_host_group *out, struct xclone_error *err)
{
	struct vantara *v = state;
	struct vsp_inventory inv;
	int rc = inventory_load(v, &inv, ini, n, err);

	if (rc)
		return rc;
	if (v->hostgroup_list != NULL)
		rc = ensure_listed(v, &inv, ini, n, out, err);
	else
		rc = ensure_discovered(v, &inv, name, ini, n, out, err);
	inventory_free(&inv);
	return rc;
}

/* Every set of same-named host groups, with their initiators. */
static int vsp_hosts(void *state, struct xc_host_list *out, struct xclone_error *err)
{
	struct vantara *v = state;
	struct vsp_inventory inv;
	int rc = inventory_load(v, &inv, NULL, 0, err);

	for (size_t i = 0; rc == 0 && i < inv.n; i++) {
		struct vsp_set s;
		struct xc_host_group g;
		size_t first = i;
		/* each name once: at its first host group */
		for (size_t k = 0; k < i; k++)
			if (strcmp(inv.hgs[k].name, inv.hgs[i].name) == 0)
				first = k;
		if (first != i)
			continue;
		if ((rc = set_of_name(&inv, inv.hgs[i].name, &s, err)) == 0 &&
		    (rc = describe_set(v, &inv, &s, &g, err)) == 0)
			rc = xc_host_list_add(out, &g, err);
	}
	inventory_free(&inv);
	return rc;
}

/* ---- LU paths ---- */

/* One LU path of an LDEV, as its "ports" list gives it. */
struct vsp_path {
	size_t hg;     /* inventory index */
	long lun;
};

struct vsp_paths {
	struct vsp_path items[VSP_PORT_MAX * 2];
	size_t n;
};

/* The LDEV's LU paths on host groups of the inventory. */
static int ldev_paths(struct vantara *v, const struct vsp_inventory *inv, const struct xc_lun *lun,
		      struct vsp_paths *out, struct xclone_error *err)
{
	cJSON *ldev = NULL;
	const cJSON *p;
	char *end;
	long id = strtol(lun->id, &end, 10);
	int rc;

	memset(out, 0, sizeof(*out));
	if (*end != '\0' || end == lun->id)
		return xclone_error_set(err, XC_E_USAGE, "Vantara: LUN id %.40s is not an LDEV number",
					lun->id);
	rc = vsp_get_ldev(v, id, &ldev, err);
	if (rc)
		return rc;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(ldev, "ports"))
	{
		const char *port = xc_json_str(p, "portId");
		long number, l;
		long i = port && xc_json_long(p, "hostGroupNumber", &number) == 0
				 ? inventory_find(inv, port, (int)number)
				 : -1;
		if (i < 0 || xc_json_long(p, "lun", &l) != 0 ||
		    out->n == sizeof(out->items) / sizeof(out->items[0]))
			continue;
		out->items[out->n].hg = (size_t)i;
		out->items[out->n++].lun = l;
	}
	cJSON_Delete(ldev);
	return 0;
}

static long path_lun(const struct vsp_paths *paths, size_t hg)
{
	for (size_t k = 0; k < paths->n; k++)
		if (paths->items[k].hg == hg)
			return paths->items[k].lun;
	return -1;
}

/* The LDEV's paths as mappings: one per (host group name, LUN), each named by
 * set_name, so a mapping read here can be given back to map exactly. */
static int mappings_from_paths(const struct vsp_inventory *inv, const struct vsp_paths *paths,
			       struct xc_mapping_list *out, struct xclone_error *err)
{
	unsigned char done[VSP_PORT_MAX * 2] = {0};
	int rc = 0;

	for (size_t k = 0; k < paths->n && rc == 0; k++) {
		struct vsp_set s = {0};
		char name[XC_GROUP_NAME_MAX];
		if (done[k])
			continue;
		for (size_t j = k; j < paths->n; j++)
			if (!done[j] && paths->items[j].lun == paths->items[k].lun &&
			    strcmp(inv->hgs[paths->items[j].hg].name,
				   inv->hgs[paths->items[k].hg].name) == 0) {
				done[j] = 1;
				set_add(&s, paths->items[j].hg);
			}
		if ((rc = set_name(inv, &s, name, sizeof(name), err)) == 0)
			rc = xc_mapping_list_add(out, XC_GROUP_HOST, name, paths->items[k].lun, err);
	}
	return rc;
}

static int vsp_mappings(void *state, const struct xc_lun *lun, struct xc_mapping_list *out,
			struct xclone_error *err)
{
	struct vantara *v = state;
	struct vsp_inventory inv;
	struct vsp_paths paths;
	int rc = inventory_load(v, &inv, NULL, 0, err);

	if (rc == 0 && (rc = ldev_paths(v, &inv, lun, &paths, err)) == 0)
		rc = mappings_from_paths(&inv, &paths, out, err);
	inventory_free(&inv);
	return rc;
}

struct path_check {
	struct vantara *v;
	const struct vsp_inventory *inv;
	const struct xc_lun *lun;
	size_t hg;
};

/* After a lost POST /luns: does the LDEV have a path on that host group now? */
static int path_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct path_check *c = ctx;
	struct vsp_paths paths;
	int rc = ldev_paths(c->v, c->inv, c->lun, &paths, err);

	*applied = rc == 0 && path_lun(&paths, c->hg) >= 0;
	return rc;
}

/* Adds the LDEV's path on one host group; *lun in: the LUN wanted (-1: the array's
 * choice), out: the LUN it got. *in_use: the LUN was taken there (B958,0947). */
static int path_add(struct vantara *v, const struct vsp_inventory *inv, const struct xc_lun *lun,
		    size_t hg, long *lun_no, int *in_use, struct xclone_error *err)
{
	const struct vsp_hg *g = &inv->hgs[hg];
	struct path_check c = {v, inv, lun, hg};
	struct vsp_write w = {XC_HTTP_POST, VSP_OBJ "/luns", NULL, "adding an LU path", path_check, &c};
	char body[XC_ARRAY_ID_MAX + 160];
	cJSON *job = NULL, *sync = NULL;
	struct vsp_error e;
	long status;
	int rc;

	*in_use = 0;
	if (*lun_no >= 0)
		snprintf(body, sizeof(body),
			 "{\"ldevId\":%s,\"portId\":\"%s\",\"hostGroupNumber\":%d,\"lun\":%ld}",
			 lun->id, g->port, g->number, *lun_no);
	else
		snprintf(body, sizeof(body), "{\"ldevId\":%s,\"portId\":\"%s\",\"hostGroupNumber\":%d}",
			 lun->id, g->port, g->number);
	w.body = body;
	rc = vsp_write(v, &w, &job, &status, &sync, err);
	if (rc)
		return rc;
	if (job != NULL && !vsp_job_failed(job, &e)) {
		*lun_no = vsp_job_last_number(job);
		cJSON_Delete(job);
		if (*lun_no >= 0)
			return 0;
	} else if (job != NULL || sync != NULL) {
		if (sync != NULL)
			vsp_error_fields(sync, &e);
		if (strcmp(e.ssb, "B958,0947") == 0) {
			*in_use = 1;
			rc = vsp_fail_with(v, sync ? status : 409, &e, err, "adding an LU path");
		} else if (strcmp(e.ssb, "B958,015A") != 0) {
			/* anything but "the path is already defined" is a failure */
			rc = vsp_fail_with(v, sync ? status : 409, &e, err, "adding an LU path");
		}
		cJSON_Delete(job);
		cJSON_Delete(sync);
		if (rc)
			return rc;
	}
	/* already defined, or made by a request whose answer was lost: its LUN */
	struct vsp_paths paths;
	if ((rc = ldev_paths(v, inv, lun, &paths, err)) != 0)
		return rc;
	*lun_no = path_lun(&paths, hg);
	if (*lun_no < 0)
		return xclone_error_set(err, XC_E_REMOTE,
					"Vantara: the LU path of LDEV %s on %s,%d is not listed after"
					" adding it",
					lun->id, g->port, g->number);
	return 0;
}

/* Maps the LDEV to every host group of the target set that lacks a path, with one
 * LUN number on all of them when the array allows it. */
static int vsp_map(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		   struct xc_mapping *result, struct xclone_error *err)
{
	struct vantara *v = state;
	struct vsp_inventory inv;
	struct vsp_paths paths;
	struct vsp_set s;
	long want = target->lun_id, first = -1;
	int rc = inventory_load(v, &inv, NULL, 0, err);

	if (rc == 0)
		rc = set_from_name(&inv, target->group, &s, err);
	if (rc == 0)
		rc = ldev_paths(v, &inv, lun, &paths, err);
	for (size_t k = 0; rc == 0 && k < s.n; k++) {
		long got = path_lun(&paths, s.idx[k]);
		int in_use = 0;
		if (got < 0) {
			got = want;
			rc = path_add(v, &inv, lun, s.idx[k], &got, &in_use, err);
			if (rc && in_use && target->lun_id < 0) {
				/* our own choice of one number for all: let the array pick */
				got = -1;
				rc = path_add(v, &inv, lun, s.idx[k], &got, &in_use, err);
			}
		}
		if (rc == 0 && first < 0) {
			first = got;
			if (want < 0)
				want = got;
		}
	}
	if (rc == 0)
		result->lun_id = first;
	inventory_free(&inv);
	return rc;
}

/* Deletes the LDEV's paths on every host group of the target set. */
static int vsp_unmap(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		     struct xclone_error *err)
{
	struct vantara *v = state;
	struct vsp_inventory inv;
	struct vsp_paths paths;
	struct vsp_set s;
	int rc = inventory_load(v, &inv, NULL, 0, err);

	if (rc == 0)
		rc = set_from_name(&inv, target->group, &s, err);
	if (rc == XC_E_NOT_FOUND && strchr(target->group, ',') == NULL)
		rc = 0; /* no host group of that name: nothing is mapped to it */
	if (rc == 0)
		rc = ldev_paths(v, &inv, lun, &paths, err);
	for (size_t k = 0; rc == 0 && k < paths.n; k++) {
		const struct vsp_hg *g = &inv.hgs[paths.items[k].hg];
		char path[128];
		if (!set_has(&s, paths.items[k].hg))
			continue;
		snprintf(path, sizeof(path), VSP_OBJ "/luns/%s,%d,%ld", g->port, g->number,
			 paths.items[k].lun);
		rc = vsp_delete(v, path, "deleting an LU path", err);
	}
	inventory_free(&inv);
	return rc;
}

/* ---- deleting a host ---- */

/* How many LU paths host group hg has (GET /luns of it); -1 when it is gone. */
static int hg_path_count(struct vantara *v, const struct vsp_hg *hg, int *count,
			 struct xclone_error *err)
{
	struct xc_strbuf path;
	struct xclone_error lookup;
	cJSON *holder = NULL;
	const cJSON *data;
	int rc;

	*count = -1;
	hg_list_path(&path, VSP_OBJ "/luns", hg);
	rc = vsp_list(v, xc_sb_str(&path), "listing a host group's LU paths", &holder, &data, &lookup);
	xc_sb_free(&path);
	if (rc == 0)
		*count = cJSON_GetArraySize(data);
	else if (rc != XC_E_NOT_FOUND && err != NULL)
		*err = lookup;
	cJSON_Delete(holder);
	return rc == XC_E_NOT_FOUND ? 0 : rc;
}

/* The host groups ensure_host made for host object `name`: every host group of that
 * name. The caller deletes only a host object it created, one whose name was new:
 * then each host group of that name is one ensure_host created, none predates it.
 * Empty when none is left. */
static int made_for(struct vantara *v, const struct vsp_inventory *inv, const char *name,
		    struct vsp_set *s, struct xclone_error *err)
{
	struct xclone_error lookup;
	int rc;

	/* a list of ids names host groups of several names, which ensure_host only reuses:
	 * it creates host groups under one name. HOSTGROUP_ID_LIST: it creates none. */
	if (v->hostgroup_list != NULL || strchr(name, ',') != NULL)
		return xclone_error_set(err, XC_E_USAGE,
					"Vantara: host object %.100s is host groups xclone did not"
					" create (%s); none deleted",
					name, v->hostgroup_list ? "HOSTGROUP_ID_LIST names them"
								: "they have several names");
	rc = set_of_name(inv, name, s, &lookup);
	if (rc == XC_E_NOT_FOUND) {
		s->n = 0;
		return 0;
	}
	if (rc && err != NULL)
		*err = lookup;
	for (size_t k = 0; rc == 0 && k < s->n; k++)
		if (inv->hgs[s->idx[k]].number == 0)
			rc = xclone_error_set(err, XC_E_USAGE,
					      "Vantara: %s,0 is port %s's default host group, which"
					      " xclone never creates; none deleted",
					      inv->hgs[s->idx[k]].port, inv->hgs[s->idx[k]].port);
	return rc;
}

/*
 * DELETE /host-groups/<port>,<number> for each host group ensure_host made for the
 * host: its WWNs / iSCSI names go with it. In use, and refused before anything is
 * deleted, while any of them has an LU path; the array's own refusal of a host group
 * with LU paths is the same conflict.
 */
static int vsp_delete_host(void *state, const struct xc_host_group *g, struct xclone_error *err)
{
	struct vantara *v = state;
	struct vsp_inventory inv;
	struct vsp_set s = {0};
	int paths = 0, rc = inventory_load(v, &inv, NULL, 0, err);

	if (rc == 0)
		rc = made_for(v, &inv, g->name, &s, err);
	for (size_t k = 0; rc == 0 && k < s.n; k++) {
		const struct vsp_hg *hg = &inv.hgs[s.idx[k]];
		if ((rc = hg_path_count(v, hg, &paths, err)) == 0 && paths > 0)
			rc = xclone_error_set(err, XC_E_CONFLICT,
					      "Vantara: host group %s,%d of %s still has %d LU path%s;"
					      " nothing deleted",
					      hg->port, hg->number, g->name, paths, paths == 1 ? "" : "s");
	}
	for (size_t k = 0; rc == 0 && k < s.n; k++) {
		const struct vsp_hg *hg = &inv.hgs[s.idx[k]];
		char path[96];
		snprintf(path, sizeof(path), VSP_OBJ "/host-groups/%s,%d", hg->port, hg->number);
		rc = vsp_delete(v, path, "deleting a host group", err);
		if (rc && hg_path_count(v, hg, &paths, NULL) == 0 && paths > 0)
			rc = xc_array_conflict(err); /* an LU path added meanwhile */
	}
	inventory_free(&inv);
	return rc;
}

const struct xc_array_driver xc_driver_vantara = {
	.product = "vantara",
	.vendor = "Hitachi Vantara",
	.url_path = VSP_ROOT,
	.port_key = "STORAGE_PORT",
	/* NVMe/TCP hosts see namespaces as eui. devices, which this driver does not map */
	.initiator_kinds = (1u << XC_INITIATOR_ISCSI) | (1u << XC_INITIATOR_FC),
	.open = vsp_open,
	.info = vsp_info,
	.resolve = vsp_resolve,
	.ensure_host = vsp_ensure_host,
	.hosts = vsp_hosts,
	.mappings = vsp_mappings,
	.map = vsp_map,
	.unmap = vsp_unmap,
	.delete_host = vsp_delete_host,
	.close = vsp_close,
};
