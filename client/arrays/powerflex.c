/*
 * Dell PowerFlex (ScaleIO / VxFlex OS) driver: the REST gateway under /api (3.x
 * gateway, 4.x PowerFlex Manager). Facts and sources: README.md beside this file.
 *
 * Login: GET /api/login with Basic user:password gives a token; every later request
 * carries it (Bearer from API 4.0, else Basic with the token as password); 401 or
 * 403 logs in again once. The gateway sends its MDM's refusals as HTTP 500 with an
 * errorCode: those are answers (xc_http_set_definite), not failures to retry.
 *
 * PowerFlex maps a volume to an SDC (the host's kernel client, named by a GUID), not
 * to SCSI initiators: ensure_host finds the ESXi host's SDC by the GUID the agent
 * reports (host.info sdc_guid) and the "host" is that SDC's id. Map and unmap touch
 * only that SDC's mapping; the others keep theirs, access mode and limits included,
 * and a recorded mapping is put back with them.
 */
#define _GNU_SOURCE /* strdup, strcasestr, getentropy, nanosleep under -std=c17 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "vendors.h"

#define PFLEX_ID_DIGITS 16
#define PFLEX_NAME_MAX 31          /* csi-powerflex cuts volume names to this */
#define PFLEX_BEARER_MAJOR 4       /* goscaleio: Bearer from 4.0, Basic before */
#define PFLEX_TOKEN_MAX 2048
/* base64 of "<user>:<password>", both secret values */
#define PFLEX_BASIC_MAX ((2 * XC_SECRET_VALUE_MAX + 2) / 3 * 4 + 8)
#define PFLEX_HEADER_MAX (PFLEX_BASIC_MAX + 32)

struct pflex {
	struct xc_http *http;
	char *user, *password;          /* kept for the re-login */
	char system[PFLEX_ID_DIGITS + 1]; /* POWERFLEX_SYSTEM_ID, lower case */
	char api[32];                   /* "4.5" */
	int major;
	char system_name[128], version_name[128], restricted[32];
};

/* ---- ids and settings ---- */

static int is_id(const char *s, size_t len)
{
	if (len != PFLEX_ID_DIGITS)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static void lower_copy(char *dst, const char *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[len] = '\0';
}

int xc_powerflex_eui(const char *system_id, const char *volume_id, char *out, size_t size,
		     struct xclone_error *err)
{
	if (system_id == NULL || volume_id == NULL || !is_id(system_id, strlen(system_id)) ||
	    !is_id(volume_id, strlen(volume_id)))
		return xclone_error_set(err, XC_E_PROTOCOL,
					"PowerFlex ids \"%.20s\" / \"%.20s\" are not 16 hex digits"
					" each",
					system_id ? system_id : "", volume_id ? volume_id : "");
	if (size < 4 + 2 * PFLEX_ID_DIGITS + 1)
		return xclone_error_set(err, XC_E_INTERNAL, "device id buffer too small");
	memcpy(out, "eui.", 4);
	lower_copy(out + 4, system_id, PFLEX_ID_DIGITS);
	lower_copy(out + 4 + PFLEX_ID_DIGITS, volume_id, PFLEX_ID_DIGITS);
	return 0;
}

int xc_powerflex_parse_handle(const char *handle, struct xc_powerflex_handle *out,
			      struct xclone_error *err)
{
	const char *dash = handle ? strrchr(handle, '-') : NULL;
	const char *vol = dash ? dash + 1 : handle;

	memset(out, 0, sizeof(*out));
	if (handle != NULL && strchr(handle, '/') != NULL)
		return xclone_error_set(err, XC_E_USAGE,
					"volume handle \"%.100s\" is a PowerFlex NFS file system, not"
					" a block volume",
					handle);
	if (vol == NULL || !is_id(vol, strlen(vol)) ||
	    (dash != NULL && !is_id(handle, (size_t)(dash - handle))))
		return xclone_error_set(err, XC_E_USAGE,
					"\"%.100s\" is not a csi-powerflex volume handle (<system"
					" id>-<volume id>)",
					handle ? handle : "");
	lower_copy(out->volume_id, vol, PFLEX_ID_DIGITS);
	if (dash != NULL)
		lower_copy(out->system_id, handle, PFLEX_ID_DIGITS);
	return 0;
}

void xc_powerflex_settings_format(const struct xc_powerflex_settings *s, char *out, size_t size)
{
	snprintf(out, size, "accessMode=%s;limitIops=%llu;limitBwInMbps=%llu", s->access_mode,
		 s->limit_iops, s->limit_bw_mbps);
}

/* A decimal number below 2^53 (what JSON carries exactly). */
static int parse_count(const char *s, size_t len, unsigned long long *out)
{
	unsigned long long v = 0;

	if (len == 0 || len > 15)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int xc_powerflex_settings_parse(const char *text, struct xc_powerflex_settings *out,
				struct xclone_error *err)
{
	const char *p = text;

	memset(out, 0, sizeof(*out));
	snprintf(out->access_mode, sizeof(out->access_mode), "ReadWrite");
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ';'), *eq = strchr(p, '=');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (eq == NULL || eq >= p + len)
			goto bad;
		size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
		if (klen == 10 && strncmp(p, "accessMode", 10) == 0) {
			if (vlen == 0 || vlen >= sizeof(out->access_mode))
				goto bad;
			for (size_t i = 0; i < vlen; i++)
				if (!isalpha((unsigned char)eq[1 + i]))
					goto bad;
			memcpy(out->access_mode, eq + 1, vlen);
			out->access_mode[vlen] = '\0';
		} else if (klen == 9 && strncmp(p, "limitIops", 9) == 0) {
			if (parse_count(eq + 1, vlen, &out->limit_iops) != 0)
				goto bad;
		} else if (klen == 13 && strncmp(p, "limitBwInMbps", 13) == 0) {
			if (parse_count(eq + 1, vlen, &out->limit_bw_mbps) != 0)
				goto bad;
		} else {
			goto bad;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
bad:
	return xclone_error_set(err, XC_E_USAGE, "PowerFlex mapping settings \"%.100s\" are not"
				" accessMode=…;limitIops=n;limitBwInMbps=n",
				text);
}

/* ---- requests ---- */

/* MDM error codes that are the array's answer, not a failure (os-brick, siolib):
 * not found (3, 78, 79), already mapped (81), not mapped (84), name in use (99),
 * volume mapped (104), only a single SDC (306). */
static const long definite_codes[] = {3, 78, 79, 81, 84, 99, 104, 306};

static long pflex_error_code(const struct xc_http_response *resp, char *msg, size_t size)
{
	cJSON *body = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	long code = -1;

	if (msg != NULL && size > 0)
		snprintf(msg, size, "%s", xc_json_text(body, "message"));
	if (xc_json_long(body, "errorCode", &code) != 0)
		code = -1;
	cJSON_Delete(body);
	return code;
}

static int pflex_definite(void *ctx, const struct xc_http_response *resp)
{
	char msg[128];
	long code = pflex_error_code(resp, msg, sizeof(msg));

	(void)ctx;
	if (resp->status != 500)
		return 0;
	for (size_t i = 0; i < sizeof(definite_codes) / sizeof(definite_codes[0]); i++)
		if (code == definite_codes[i])
			return 1;
	return strncmp(msg, "Could not find", 14) == 0;
}

/* An error answer ({"message", "httpStatusCode", "errorCode"}, or a 4.x HTML page)
 * as err; the MDM's code goes into remote_code. */
static int pflex_fail(struct pflex *p, const struct xc_http_response *resp,
		      struct xclone_error *err, const char *what)
{
	char msg[512], code_text[24] = "";
	long code = pflex_error_code(resp, msg, sizeof(msg));
	int rc;

	if (code >= 0)
		snprintf(code_text, sizeof(code_text), "%ld", code);
	rc = xc_rest_fail(p->http, err, resp->status, code >= 0 ? code_text : NULL, msg,
			  "PowerFlex: %s%s", what,
			  resp->status == 401 ? " (check STORAGE_USERNAME/STORAGE_PASSWORD)" : "");
	if (code == 3 || code == 78 || code == 79 || strncmp(msg, "Could not find", 14) == 0) {
		rc = XC_E_NOT_FOUND;
		if (err != NULL)
			err->code = XC_E_NOT_FOUND;
	}
	return rc;
}

static int pflex_send(struct pflex *p, enum xc_http_method method, const char *path,
		      const char *body, int idempotent, struct xc_http_response *resp,
		      struct xclone_error *err)
{
	struct xc_http_request req = {.method = method, .path = path, .body = body,
				      .idempotent = idempotent};

	memset(resp, 0, sizeof(*resp));
	if (path == NULL)
		return xclone_error_set(err, XC_E_USAGE, "PowerFlex request path too long");
	return xc_http_send(p->http, &req, resp, err);
}

/* GET (or a read-only POST such as queryIdByKey) → *out JSON; other answers → err. */
static int pflex_read(struct pflex *p, enum xc_http_method method, const char *path,
		      const char *body, const char *what, cJSON **out, struct xclone_error *err)
{
	struct xc_http_response resp;
	int rc = pflex_send(p, method, path, body, 1, &resp, err);

	*out = NULL;
	if (rc == 0 && resp.status != 200)
		rc = pflex_fail(p, &resp, err, what);
	if (rc == 0)
		rc = xc_rest_json(&resp, out, err);
	xc_http_response_free(&resp);
	return rc;
}

/* "/api/instances/<Type>::<id>[<tail>]" */
static void pflex_instance(struct xc_strbuf *sb, const char *type, const char *id,
			   const char *tail)
{
	xc_sb_init(sb);
	xc_sb_addf(sb, "/api/instances/%s::", type);
	xc_sb_add_escaped(sb, id);
	if (tail != NULL)
		xc_sb_add(sb, tail);
}

static int pflex_get_instance(struct pflex *p, const char *type, const char *id, const char *tail,
			      const char *what, cJSON **out, struct xclone_error *err)
{
	struct xc_strbuf path;
	int rc;

	pflex_instance(&path, type, id, tail);
	rc = pflex_read(p, XC_HTTP_GET, xc_sb_str(&path), NULL, what, out, err);
	xc_sb_free(&path);
	return rc;
}

/* An action whose repetition could differ (map, unmap, approve), safely against a
 * lost answer: check reads the array. *code gets the MDM's errorCode of a 500
 * answer (-1 for none or success). */
static int pflex_action(struct pflex *p, const char *type, const char *id, const char *action,
			cJSON *body, xc_rest_check_fn check, void *ctx, long *code,
			struct xc_http_response *resp, struct xclone_error *err)
{
	struct xc_http_request req = {.method = XC_HTTP_POST};
	struct xc_strbuf path;
	char *text = NULL;
	int confirmed = 0, rc;

	*code = -1;
	memset(resp, 0, sizeof(*resp));
	if (body == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	rc = xc_json_print(body, &text, err);
	cJSON_Delete(body);
	if (rc)
		return rc;
	pflex_instance(&path, type, id, "/action/");
	xc_sb_add(&path, action);
	req.path = xc_sb_str(&path);
	req.body = text;
	if (req.path == NULL)
		rc = xclone_error_set(err, XC_E_USAGE, "PowerFlex request path too long");
	else
		rc = xc_rest_send_checked(p->http, &req, resp, check, ctx, &confirmed, err);
	if (rc == 0 && !confirmed && resp->status != 200)
		*code = pflex_error_code(resp, NULL, 0);
	if (confirmed)
		resp->status = 200; /* the check saw the effect: as good as the answer */
	xc_sb_free(&path);
	free(text);
	return rc;
}

/* ---- login ---- */

static int set_auth_header(struct pflex *p, const char *scheme, const char *value,
			   struct xclone_error *err)
{
	char line[PFLEX_HEADER_MAX];
	int rc;

	snprintf(line, sizeof(line), "%s %s", scheme, value);
	rc = xc_http_set_header(p->http, "Authorization", line, err);
	for (volatile char *v = line; *v; v++)
		*v = '\0';
	return rc;
}

/* Basic credentials in base64 for "user:secret". */
static int basic_value(const char *user, const char *secret, char *out, size_t size,
		       struct xclone_error *err)
{
	char plain[2 * XC_SECRET_VALUE_MAX + 2];
	int n = snprintf(plain, sizeof(plain), "%s:%s", user, secret);
	int rc = 0;

	if (n < 0 || (size_t)n >= sizeof(plain) ||
	    xc_b64_encode((const unsigned char *)plain, (size_t)n, out, size, 1) != 0)
		rc = xclone_error_set(err, XC_E_CONFIG, "PowerFlex credentials too long");
	for (volatile char *v = plain; *v; v++)
		*v = '\0';
	return rc;
}

/* The body of /api/login and /api/version: a JSON string. */
static int json_string_body(const struct xc_http_response *resp, char *out, size_t size,
			    const char *what, struct xclone_error *err)
{
	cJSON *s = cJSON_ParseWithLength(resp->body, resp->body_len);
	int rc = 0;

	if (!cJSON_IsString(s) || s->valuestring[0] == '\0' || strlen(s->valuestring) >= size)
		rc = xclone_error_set(err, XC_E_PROTOCOL, "PowerFlex: %s is not a JSON string", what);
	else
		snprintf(out, size, "%s", s->valuestring);
	if (cJSON_IsString(s))
		for (volatile char *v = s->valuestring; *v; v++)
			*v = '\0';
	cJSON_Delete(s);
	return rc;
}

/* GET /api/version with the new token as Basic password: the API version decides
 * how later requests carry the token. */
static int pflex_read_version(struct pflex *p, const char *basic, struct xclone_error *err)
{
	char header[PFLEX_HEADER_MAX];
	const char *headers[] = {header};
	struct xc_http_request req = {.method = XC_HTTP_GET, .path = "/api/version",
				      .idempotent = 1, .no_relogin = 1, .headers = headers,
				      .n_headers = 1};
	struct xc_http_response resp;
	int rc;

	snprintf(header, sizeof(header), "Authorization: Basic %s", basic);
	rc = xc_http_send(p->http, &req, &resp, err);
	for (volatile char *v = header; *v; v++)
		*v = '\0';
	if (rc == 0 && resp.status != 200)
		rc = pflex_fail(p, &resp, err, "reading the API version");
	if (rc == 0)
		rc = json_string_body(&resp, p->api, sizeof(p->api), "the API version", err);
	xc_http_response_free(&resp);
	if (rc == 0) {
		char *end;
		long major = strtol(p->api, &end, 10);
		if (end == p->api || *end != '.' || major < 1 || major > 99)
			return xclone_error_set(err, XC_E_PROTOCOL,
						"PowerFlex: API version \"%.20s\" is not"
						" <major>.<minor>",
						p->api);
		p->major = (int)major;
	}
	return rc;
}

/* GET /api/login with user:password → token; installed as the session's
 * Authorization header. Also the re-login hook. */
static int pflex_login(void *ctx, struct xclone_error *err)
{
	struct pflex *p = ctx;
	char header[PFLEX_HEADER_MAX], basic[PFLEX_BASIC_MAX] = "", token[PFLEX_TOKEN_MAX] = "";
	const char *headers[] = {header};
	struct xc_http_request req = {.method = XC_HTTP_GET, .path = "/api/login", .idempotent = 1,
				      .no_relogin = 1, .headers = headers, .n_headers = 1};
	struct xc_http_response resp;
	int rc;

	xc_http_set_header(p->http, "Authorization", NULL, NULL); /* not the stale token */
	rc = basic_value(p->user, p->password, basic, sizeof(basic), err);
	if (rc)
		return rc;
	snprintf(header, sizeof(header), "Authorization: Basic %s", basic);
	rc = xc_http_send(p->http, &req, &resp, err);
	for (volatile char *v = header; *v; v++)
		*v = '\0';
	if (rc == 0 && resp.status != 200) {
		rc = pflex_fail(p, &resp, err, "login refused");
		if (resp.status == 400 || resp.status == 401 || resp.status == 403) {
			rc = XC_E_AUTH;
			if (err != NULL)
				err->code = XC_E_AUTH;
		}
	}
	if (rc == 0)
		rc = json_string_body(&resp, token, sizeof(token), "the login answer", err);
	xc_http_response_free(&resp);
	if (rc == 0)
		rc = xc_http_add_secret(p->http, token, err);
	if (rc == 0)
		rc = basic_value("", token, basic, sizeof(basic), err);
	if (rc == 0 && p->major == 0)
		rc = pflex_read_version(p, basic, err);
	if (rc == 0)
		rc = p->major >= PFLEX_BEARER_MAJOR ? set_auth_header(p, "Bearer", token, err)
						    : set_auth_header(p, "Basic", basic, err);
	for (volatile char *v = token; *v; v++)
		*v = '\0';
	for (volatile char *v = basic; *v; v++)
		*v = '\0';
	return rc;
}

/* 401 is the documented "log in again"; os-brick also re-logs in on 403. */
static int pflex_expired(void *ctx, const struct xc_http_response *resp)
{
	(void)ctx;
	return resp->status == 401 || resp->status == 403;
}

/* ---- open, close, info ---- */

static int pflex_read_system(struct pflex *p, struct xclone_error *err)
{
	char seen[256] = "";
	cJSON *list = NULL;
	const cJSON *s, *mine = NULL;
	int rc = pflex_read(p, XC_HTTP_GET, "/api/types/System/instances", NULL, "listing systems",
			    &list, err);

	cJSON_ArrayForEach(s, (rc == 0 ? list : NULL))
	{
		const char *id = xc_json_str(s, "id");
		size_t used = strlen(seen);
		if (id != NULL && strcasecmp(id, p->system) == 0)
			mine = s;
		else if (id != NULL)
			snprintf(seen + used, sizeof(seen) - used, "%s%.16s", used ? ", " : "", id);
	}
	if (rc == 0 && mine == NULL)
		rc = xclone_error_set(err, XC_E_CONFIG,
				      "PowerFlex: this gateway serves no system %s (it serves: %s):"
				      " check secret key POWERFLEX_SYSTEM_ID",
				      p->system, seen[0] ? seen : "none");
	if (rc == 0) {
		snprintf(p->system_name, sizeof(p->system_name), "%s",
			 xc_json_text(mine, "name"));
		snprintf(p->version_name, sizeof(p->version_name), "%s",
			 xc_json_text(mine, "systemVersionName"));
		const char *mode = xc_json_str(mine, "restrictedSdcMode");
		snprintf(p->restricted, sizeof(p->restricted), "%s", mode ? mode : "None");
	}
	cJSON_Delete(list);
	return rc;
}

static int dup_secret(struct pflex *p, const char *value, char **out, struct xclone_error *err)
{
	*out = strdup(value);
	if (*out == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	return xc_http_add_secret(p->http, value, err);
}

static int pflex_read_secret(struct pflex *p, struct xc_secret *s, struct xclone_error *err)
{
	const char *user, *password, *system;
	int rc;

	if ((rc = xc_secret_require(s, "STORAGE_USERNAME", &user, err)) ||
	    (rc = xc_secret_require(s, "STORAGE_PASSWORD", &password, err)) ||
	    (rc = xc_secret_require(s, "POWERFLEX_SYSTEM_ID", &system, err)))
		return rc;
	if (!is_id(system, strlen(system)))
		return xclone_error_set(err, XC_E_CONFIG,
					"secret key POWERFLEX_SYSTEM_ID must be the system's 16-hex-digit"
					" id (its name will not do)");
	lower_copy(p->system, system, PFLEX_ID_DIGITS);
	if ((rc = dup_secret(p, user, &p->user, err)))
		return rc;
	return dup_secret(p, password, &p->password, err);
}

static void pflex_close(void *state)
{
	struct pflex *p = state;

	if (p == NULL)
		return;
	if (p->major > 0) {
		/* ends the token now rather than at its expiry; a failure changes nothing */
		struct xc_http_request req = {.method = XC_HTTP_GET, .path = "/api/logout",
					      .no_relogin = 1};
		struct xc_http_response resp;
		struct xclone_error ignored;
		xc_http_send(p->http, &req, &resp, &ignored);
		xc_http_response_free(&resp);
	}
	xc_wipe_free(p->user);
	xc_wipe_free(p->password);
	free(p);
}

static int pflex_open(const struct xc_array_session *s, void **state, struct xclone_error *err)
{
	struct pflex *p = calloc(1, sizeof(*p));
	int rc;

	*state = NULL;
	if (p == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	p->http = s->http;
	xc_http_set_definite(p->http, pflex_definite, p);
	if ((rc = pflex_read_secret(p, s->secret, err)) || (rc = pflex_login(p, err))) {
		pflex_close(p);
		return rc;
	}
	xc_http_set_relogin(p->http, pflex_login, pflex_expired, p);
	if ((rc = pflex_read_system(p, err))) {
		pflex_close(p);
		return rc;
	}
	*state = p;
	return 0;
}

static int pflex_info(void *state, struct xc_array_info *out, struct xclone_error *err)
{
	struct pflex *p = state;
	int rc = pflex_read_system(p, err);

	if (rc)
		return rc;
	snprintf(out->vendor, sizeof(out->vendor), "Dell");
	snprintf(out->model, sizeof(out->model), "PowerFlex");
	snprintf(out->version, sizeof(out->version), "%s", p->version_name);
	snprintf(out->name, sizeof(out->name), "%s", p->system_name);
	snprintf(out->array_id, sizeof(out->array_id), "%s", p->system);
	snprintf(out->api_version, sizeof(out->api_version), "%s", p->api);
	return 0;
}

/* ---- volumes ---- */

static int pflex_lun_from(struct pflex *p, const cJSON *v, struct xc_lun *out,
			  struct xclone_error *err)
{
	unsigned long long kb = 0;
	int rc;

	if ((rc = xc_copy_field(out->name, sizeof(out->name), xc_json_str(v, "name"), "volume name",
				err)) ||
	    (rc = xc_copy_field(out->id, sizeof(out->id), xc_json_str(v, "id"), "volume id", err)) ||
	    (rc = xc_copy_field(out->serial, sizeof(out->serial), out->id, "volume id", err)) ||
	    (rc = xc_powerflex_eui(p->system, out->id, out->naa, sizeof(out->naa), err)))
		return rc;
	if (xc_json_u64(v, "sizeInKb", &kb) != 0 || kb == 0)
		return xclone_error_set(err, XC_E_PROTOCOL, "PowerFlex volume %s has no size",
					out->id);
	out->size_bytes = kb * 1024;
	snprintf(out->array_id, sizeof(out->array_id), "%s", p->system);
	return 0;
}

/* GET Volume::<id> → the LUN; *found 0 when the volume does not exist. */
static int pflex_volume_by_id(struct pflex *p, const char *id, struct xc_lun *out, int *found,
			      struct xclone_error *err)
{
	cJSON *v = NULL;
	int rc = pflex_get_instance(p, "Volume", id, NULL, "reading the volume", &v, err);

	*found = 0;
	if (rc == XC_E_NOT_FOUND)
		return 0;
	if (rc == 0 && (rc = pflex_lun_from(p, v, out, err)) == 0)
		*found = 1;
	cJSON_Delete(v);
	return rc;
}

/* queryIdByKey {"name"} → the volume's id (a JSON string), then the volume. */
static int pflex_volume_by_name(struct pflex *p, const char *name, struct xc_lun *out, int *found,
				struct xclone_error *err)
{
	cJSON *body = cJSON_CreateObject(), *id = NULL;
	char *text = NULL;
	int rc;

	*found = 0;
	if (body == NULL || cJSON_AddStringToObject(body, "name", name) == NULL) {
		cJSON_Delete(body);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	rc = xc_json_print(body, &text, err);
	cJSON_Delete(body);
	if (rc == 0)
		rc = pflex_read(p, XC_HTTP_POST, "/api/types/Volume/instances/action/queryIdByKey",
				text, "looking up the volume by name", &id, err);
	free(text);
	if (rc == XC_E_NOT_FOUND)
		return 0;
	if (rc == 0 && (!cJSON_IsString(id) || !is_id(id->valuestring, strlen(id->valuestring))))
		rc = xclone_error_set(err, XC_E_PROTOCOL, "PowerFlex: queryIdByKey gave no volume id");
	if (rc == 0)
		rc = pflex_volume_by_id(p, id->valuestring, out, found, err);
	cJSON_Delete(id);
	return rc;
}

static int pflex_resolve(void *state, const struct xc_pv *pv, struct xc_lun *out,
			 struct xclone_error *err)
{
	struct pflex *p = state;
	struct xc_powerflex_handle h;
	struct xclone_error parse_err;
	const char *system = xc_pv_attr(pv, "StorageSystem"), *name = xc_pv_attr(pv, "Name");
	char cut[PFLEX_NAME_MAX + 1];
	int found = 0, rc;

	if (system != NULL && strcasecmp(system, p->system) != 0)
		return xclone_error_set(err, XC_E_CONFIG,
					"PowerFlex: PV %s is on system %.40s, the secret's"
					" POWERFLEX_SYSTEM_ID is %s",
					pv->name, system, p->system);
	if (pv->volume_handle != NULL && pv->volume_handle[0] != '\0') {
		rc = xc_powerflex_parse_handle(pv->volume_handle, &h, &parse_err);
		if (rc != 0 && strchr(pv->volume_handle, '/') != NULL) {
			if (err != NULL)
				*err = parse_err; /* an NFS handle: no name will find a block volume */
			return rc;
		}
		if (rc == 0 && h.system_id[0] != '\0' && strcmp(h.system_id, p->system) != 0)
			return xclone_error_set(err, XC_E_CONFIG,
						"PowerFlex: PV %s is on system %s, the secret's"
						" POWERFLEX_SYSTEM_ID is %s",
						pv->name, h.system_id, p->system);
		if (rc == 0 && ((rc = pflex_volume_by_id(p, h.volume_id, out, &found, err)) || found))
			return rc;
	}
	/* csi-powerflex puts the array's volume name in the volume context as Name; the
	 * name is the PV name cut to 31 characters otherwise */
	if (name != NULL && name[0] != '\0' &&
	    ((rc = pflex_volume_by_name(p, name, out, &found, err)) || found))
		return rc;
	snprintf(cut, sizeof(cut), "%s", pv->name);
	if ((rc = pflex_volume_by_name(p, cut, out, &found, err)) || found)
		return rc;
	return xclone_error_set(err, XC_E_NOT_FOUND,
				"PowerFlex: no volume for PV %.100s (looked for volume handle %.100s,"
				" Name %.40s, name %s)",
				pv->name, pv->volume_handle ? pv->volume_handle : "(none)",
				name ? name : "(none)", cut);
}

/* ---- SDCs ---- */

static int pflex_sdcs(struct pflex *p, cJSON **list, struct xclone_error *err)
{
	return pflex_get_instance(p, "System", p->system, "/relationships/Sdc", "listing SDCs", list,
				  err);
}

static int pflex_group_from(const cJSON *sdc, struct xc_host_group *out, struct xclone_error *err)
{
	int rc = xc_host_group_init(out, xc_json_str(sdc, "id"), XC_GROUP_HOST, err);

	if (rc == 0 && xc_json_str(sdc, "sdcGuid") != NULL)
		xc_host_group_add_initiator(out, xc_json_str(sdc, "sdcGuid"));
	return rc;
}

struct pflex_approve_check {
	struct pflex *p;
	const char *sdc_id;
};

static int pflex_approve_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct pflex_approve_check *c = ctx;
	cJSON *sdc = NULL;
	int rc = pflex_get_instance(c->p, "Sdc", c->sdc_id, NULL, "checking the SDC", &sdc, err);

	*applied = rc == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sdc, "sdcApproved"));
	cJSON_Delete(sdc);
	return rc;
}

/* In restricted SDC mode an SDC maps nothing until approved: approve the ESXi host's
 * own SDC (what csi-powerflex does for its nodes). */
static int pflex_approve(struct pflex *p, const cJSON *sdc, struct xclone_error *err)
{
	struct pflex_approve_check check = {p, xc_json_str(sdc, "id")};
	struct xc_http_response resp;
	cJSON *body;
	long code;
	int rc;

	if (strcasecmp(p->restricted, "None") == 0 || p->restricted[0] == '\0' ||
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sdc, "sdcApproved")))
		return 0;
	body = cJSON_CreateObject();
	if (body != NULL &&
	    cJSON_AddStringToObject(body, "sdcGuid", xc_json_text(sdc, "sdcGuid")) == NULL) {
		cJSON_Delete(body);
		body = NULL;
	}
	rc = pflex_action(p, "System", p->system, "approveSdc", body, pflex_approve_check, &check,
			  &code, &resp, err);
	if (rc == 0 && resp.status != 200)
		rc = pflex_fail(p, &resp, err, "approving the ESXi host's SDC");
	xc_http_response_free(&resp);
	return rc;
}

static int pflex_ensure_host(void *state, const char *name, const struct xc_initiator *ini,
			     size_t n, struct xc_host_group *out, struct xclone_error *err)
{
	struct pflex *p = state;
	cJSON *list = NULL;
	const cJSON *sdc, *found = NULL;
	int rc = pflex_sdcs(p, &list, err);

	(void)name; /* an SDC names itself when it registers: nothing to create */
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const cJSON *hit = NULL;
		cJSON_ArrayForEach(sdc, list)
			if (xc_json_str(sdc, "sdcGuid") != NULL &&
			    xc_initiator_matches(&ini[i], xc_json_str(sdc, "sdcGuid")))
				hit = sdc;
		if (hit == NULL)
			rc = xclone_error_set(err, XC_E_NOT_FOUND,
					      "PowerFlex: no SDC with GUID %s is known to system %s:"
					      " install the SDC on the ESXi host and give it the MDM"
					      " addresses (scini IoctlIniGuidStr, IoctlMdmIPStr)",
					      ini[i].id, p->system);
		else if (found != NULL && hit != found)
			rc = xclone_error_set(err, XC_E_CONFLICT,
					      "PowerFlex: these GUIDs are two SDCs (%s, %s); one ESXi"
					      " host has one SDC",
					      xc_json_str(found, "id"), xc_json_str(hit, "id"));
		found = hit;
	}
	if (rc == 0)
		rc = pflex_approve(p, found, err);
	if (rc == 0)
		rc = pflex_group_from(found, out, err);
	cJSON_Delete(list);
	return rc;
}

static int pflex_hosts(void *state, struct xc_host_list *out, struct xclone_error *err)
{
	struct pflex *p = state;
	cJSON *list = NULL;
	const cJSON *sdc;
	int rc = pflex_sdcs(p, &list, err);

	cJSON_ArrayForEach(sdc, (rc == 0 ? list : NULL))
	{
		struct xc_host_group g;
		if ((rc = pflex_group_from(sdc, &g, err)) || (rc = xc_host_list_add(out, &g, err)))
			break;
	}
	cJSON_Delete(list);
	return rc;
}

/* ---- mappings ---- */

/* The volume's mappedSdcInfo (detached, to be freed), or the error. */
static int pflex_mapped(struct pflex *p, const char *volume_id, cJSON **info,
			struct xclone_error *err)
{
	cJSON *v = NULL;
	int rc = pflex_get_instance(p, "Volume", volume_id, NULL, "reading the volume", &v, err);

	*info = NULL;
	if (rc == 0)
		*info = cJSON_DetachItemFromObjectCaseSensitive(v, "mappedSdcInfo");
	if (rc == 0 && *info == NULL)
		*info = cJSON_CreateArray(); /* never mapped: the field may be absent */
	cJSON_Delete(v);
	if (rc == 0 && *info == NULL)
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
	return rc;
}

static const cJSON *pflex_mapping_of(const cJSON *info, const char *sdc_id)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, info)
		if (xc_json_str(m, "sdcId") != NULL && strcmp(xc_json_str(m, "sdcId"), sdc_id) == 0)
			return m;
	return NULL;
}

static int pflex_mappings(void *state, const struct xc_lun *lun, struct xc_mapping_list *out,
			  struct xclone_error *err)
{
	struct pflex *p = state;
	cJSON *info = NULL;
	const cJSON *m;
	int rc = pflex_mapped(p, lun->id, &info, err);

	cJSON_ArrayForEach(m, (rc == 0 ? info : NULL))
	{
		struct xc_powerflex_settings s = {0};
		unsigned long long iops = 0, bw = 0;
		const char *mode = xc_json_str(m, "accessMode");
		xc_json_u64(m, "limitIops", &iops);
		xc_json_u64(m, "limitBwInMbps", &bw);
		snprintf(s.access_mode, sizeof(s.access_mode), "%s", mode ? mode : "ReadWrite");
		s.limit_iops = iops;
		s.limit_bw_mbps = bw;
		rc = xc_mapping_list_add(out, XC_GROUP_HOST, xc_json_str(m, "sdcId"), -1, err);
		if (rc)
			break;
		xc_powerflex_settings_format(&s, out->items[out->n - 1].settings,
					     sizeof(out->items[0].settings));
	}
	cJSON_Delete(info);
	return rc;
}

struct pflex_map_check {
	struct pflex *p;
	const char *volume_id, *sdc_id;
	int want;                       /* 1: mapped, 0: unmapped */
};

static int pflex_map_check(void *ctx, int *applied, struct xclone_error *err)
{
	struct pflex_map_check *c = ctx;
	cJSON *info = NULL;
	int rc = pflex_mapped(c->p, c->volume_id, &info, err);

	if (rc == 0)
		*applied = (pflex_mapping_of(info, c->sdc_id) != NULL) == c->want;
	cJSON_Delete(info);
	return rc;
}

static int pflex_check_target(const struct xc_mapping *t, struct xclone_error *err)
{
	if (t->kind == XC_GROUP_HOST_SET)
		return xclone_error_set(err, XC_E_USAGE,
					"PowerFlex maps volumes to SDCs; it has no host groups");
	return 0;
}

/* Sets a mapping's limits (iops, bandwidth); setting them twice is harmless. */
static int pflex_set_limits(struct pflex *p, const struct xc_lun *lun, const char *sdc_id,
			    const struct xc_powerflex_settings *s, struct xclone_error *err)
{
	char iops[24], kbps[24], *body = NULL;
	struct xc_strbuf path;
	struct xc_http_response resp = {0};
	cJSON *o = cJSON_CreateObject();
	int rc;

	/* numbers as strings, as goscaleio sends them; the API takes bandwidth in Kbps */
	snprintf(iops, sizeof(iops), "%llu", s->limit_iops);
	snprintf(kbps, sizeof(kbps), "%llu", s->limit_bw_mbps * 1024);
	if (o == NULL || !cJSON_AddStringToObject(o, "sdcId", sdc_id) ||
	    !cJSON_AddStringToObject(o, "iopsLimit", iops) ||
	    !cJSON_AddStringToObject(o, "bandwidthLimitInKbps", kbps)) {
		cJSON_Delete(o);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	rc = xc_json_print(o, &body, err);
	cJSON_Delete(o);
	if (rc)
		return rc;
	pflex_instance(&path, "Volume", lun->id, "/action/setMappedSdcLimits");
	rc = pflex_send(p, XC_HTTP_POST, xc_sb_str(&path), body, 1, &resp, err);
	free(body);
	if (rc == 0 && resp.status != 200)
		rc = pflex_fail(p, &resp, err, "setting the mapping's limits");
	xc_http_response_free(&resp);
	xc_sb_free(&path);
	return rc;
}

static int pflex_map(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		     struct xc_mapping *result, struct xclone_error *err)
{
	struct pflex *p = state;
	struct pflex_map_check check = {p, lun->id, target->group, 1};
	struct xc_powerflex_settings s;
	struct xc_http_response resp;
	cJSON *body;
	long code;
	int applied = 0, rc;

	if ((rc = pflex_check_target(target, err)) ||
	    (rc = xc_powerflex_settings_parse(target->settings, &s, err)) ||
	    (rc = pflex_map_check(&check, &applied, err)) || applied)
		goto done;
	/* allowMultipleMappings: the volume keeps the mappings it has (the CSI node's) */
	body = cJSON_CreateObject();
	if (body != NULL && (!cJSON_AddStringToObject(body, "sdcId", target->group) ||
			     !cJSON_AddStringToObject(body, "allowMultipleMappings", "TRUE") ||
			     !cJSON_AddStringToObject(body, "accessMode", s.access_mode))) {
		cJSON_Delete(body);
		body = NULL;
	}
	rc = pflex_action(p, "Volume", lun->id, "addMappedSdc", body, pflex_map_check, &check, &code,
			  &resp, err);
	if (rc == 0 && resp.status != 200 && code != 81 /* already mapped to this SDC */)
		rc = pflex_fail(p, &resp, err, "mapping the volume to the SDC");
	xc_http_response_free(&resp);
	if (rc == 0 && (s.limit_iops != 0 || s.limit_bw_mbps != 0))
		rc = pflex_set_limits(p, lun, target->group, &s, err);
done:
	result->lun_id = -1; /* an SDC mapping has no LUN number */
	return rc;
}

static int pflex_unmap(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		       struct xclone_error *err)
{
	struct pflex *p = state;
	struct pflex_map_check check = {p, lun->id, target->group, 0};
	struct xc_http_response resp;
	cJSON *body;
	long code;
	int applied = 0, rc;

	if ((rc = pflex_check_target(target, err)) || (rc = pflex_map_check(&check, &applied, err)) ||
	    applied)
		return rc;
	/* this SDC only: never allSdcs, which would take the CSI nodes' mappings too */
	body = cJSON_CreateObject();
	if (body != NULL && !cJSON_AddStringToObject(body, "sdcId", target->group)) {
		cJSON_Delete(body);
		body = NULL;
	}
	rc = pflex_action(p, "Volume", lun->id, "removeMappedSdc", body, pflex_map_check, &check,
			  &code, &resp, err);
	if (rc == 0 && resp.status != 200 && code != 84 /* not mapped to this SDC */)
		rc = pflex_fail(p, &resp, err, "unmapping the volume from the SDC");
	xc_http_response_free(&resp);
	return rc;
}

/* No delete_host: an SDC registers itself with the MDM when it is installed, and
 * ensure_host only finds it (and approves it in restricted mode, a flag on the SDC,
 * not an object); it creates nothing, so there is nothing of xclone's to delete.
 * Removing an SDC would cut the ESXi host off from every PowerFlex volume. */
const struct xc_array_driver xc_driver_powerflex = {
	.product = "powerflex",
	.vendor = "Dell",
	.url_path = "/api", /* goscaleio's users give https://<gateway>/api */
	.initiator_kinds = 1u << XC_INITIATOR_SDC,
	.open = pflex_open,
	.info = pflex_info,
	.resolve = pflex_resolve,
	.ensure_host = pflex_ensure_host,
	.hosts = pflex_hosts,
	.mappings = pflex_mappings,
	.map = pflex_map,
	.unmap = pflex_unmap,
	.close = pflex_close,
};
