/* The array layer: one front for every vendor driver (see array.h). */
#define _GNU_SOURCE /* strdup, strcasestr, getentropy, nanosleep under -std=c17 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_driver.h"

/* On success the error struct is cleared: messages of failures the driver
 * recovered from (a retried request, an expected "not found") do not linger. */
static int finish(int rc, struct xclone_error *err)
{
	if (rc == 0 && err != NULL)
		memset(err, 0, sizeof(*err));
	return rc;
}

struct xc_array {
	const struct xc_array_driver *drv;
	void *state;
	struct xc_http *http;
};

const char *xc_array_product_at(size_t i)
{
	const struct xc_array_driver *d = xc_array_driver_at(i);

	return d ? d->product : NULL;
}

const char *xc_group_kind_name(enum xc_group_kind k)
{
	return k == XC_GROUP_HOST_SET ? "host-set" : "host";
}

int xc_copy_field(char *dst, size_t size, const char *src, const char *what,
		  struct xclone_error *err)
{
	size_t len;

	if (src == NULL)
		return xclone_error_set(err, XC_E_PROTOCOL, "the array's answer has no %s", what);
	len = strlen(src);
	if (len >= size)
		return xclone_error_set(err, XC_E_PROTOCOL, "the array's %s is too long (%zu bytes)",
					what, len);
	memcpy(dst, src, len + 1);
	return 0;
}

/* Where the port starts in host[0..len) ("host:port", "[v6]:port"), or NULL. */
static const char *port_in(const char *host, size_t len)
{
	if (host[0] == '[') {
		const char *close = memchr(host, ']', len);
		return close != NULL && close + 1 < host + len && close[1] == ':' ? close + 2 : NULL;
	}
	const char *colon = memchr(host, ':', len);
	return colon != NULL ? colon + 1 : NULL;
}

/* The driver's port for a STORAGE_HOSTNAME without one (array_driver.h):
 * *port 0 = none; *from_key says it came from the secret, so a different port in
 * STORAGE_HOSTNAME contradicts it. */
static int driver_port(struct xc_secret *secret, const struct xc_array_driver *drv,
		       unsigned *port, int *from_key, struct xclone_error *err)
{
	int rc = 0;

	*port = 0;
	*from_key = 0;
	if (drv->port_key != NULL)
		rc = xc_secret_get_uint(secret, drv->port_key, 0, 1, 65535, port, err);
	if (rc == 0 && *port != 0)
		*from_key = 1;
	else if (rc == 0)
		*port = drv->default_port;
	return rc;
}

/* STORAGE_HOSTNAME → "https://host[:port]": a host name, IPv4, [IPv6], optional
 * port, optionally written as an https:// URL (with at most a trailing '/', or the
 * driver's REST root url_path). Without a port, the driver's port (if any) is added. */
static int base_url_from_hostname(const char *host, const struct xc_array_driver *drv,
				  unsigned port, int port_from_key, char *url, size_t size,
				  struct xclone_error *err)
{
	const char *url_path = drv->url_path;
	size_t len;
	const char *p = host;

	if (strncmp(p, "https://", 8) == 0)
		p += 8;
	else if (strstr(p, "://") != NULL)
		return xclone_error_set(err, XC_E_CONFIG,
					"secret key STORAGE_HOSTNAME must be a host name or an"
					" https:// URL");
	len = strlen(p);
	if (len > 0 && p[len - 1] == '/')
		len--;
	size_t root_len = url_path != NULL ? strlen(url_path) : 0;
	if (root_len > 0 && len > root_len && strncmp(p + len - root_len, url_path, root_len) == 0)
		len -= root_len;
	if (len == 0 || len > 255)
		return xclone_error_set(err, XC_E_CONFIG, "secret key STORAGE_HOSTNAME is empty or"
					" too long");
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (!(isalnum((unsigned char)c) || c == '.' || c == '-' || c == ':' || c == '[' ||
		      c == ']' || c == '_'))
			return xclone_error_set(err, XC_E_CONFIG,
						"secret key STORAGE_HOSTNAME is not a host name"
						" (character %zu)",
						i + 1);
	}
	const char *given = port_in(p, len);
	char port_text[12] = "";
	if (port != 0)
		snprintf(port_text, sizeof(port_text), "%u", port);
	if (given != NULL && port_from_key &&
	    ((size_t)(p + len - given) != strlen(port_text) ||
	     strncmp(given, port_text, strlen(port_text)) != 0))
		return xclone_error_set(err, XC_E_CONFIG,
					"secret keys STORAGE_HOSTNAME and %s name different ports:"
					" keep one",
					drv->port_key);
	if ((size_t)snprintf(url, size, "https://%.*s%s%s", (int)len, p,
			     given == NULL && port != 0 ? ":" : "",
			     given == NULL && port != 0 ? port_text : "") >= size)
		return xclone_error_set(err, XC_E_CONFIG, "secret key STORAGE_HOSTNAME is too long");
	return 0;
}

/* Keys whose values are secrets for every vendor. */
static const char *const secret_keys[] = {"STORAGE_PASSWORD", "STORAGE_TOKEN"};

static int open_http(struct xc_secret *secret, const struct xc_array_options *opt,
		     const struct xc_array_driver *drv, struct xc_http **out,
		     struct xclone_error *err)
{
	struct xc_http_options ho = {0};
	const char *host, *ca;
	char url[300];
	int skip = 0, port_from_key = 0, rc;
	unsigned timeout, port = 0;

	if ((rc = xc_secret_require(secret, "STORAGE_HOSTNAME", &host, err)) ||
	    (rc = driver_port(secret, drv, &port, &port_from_key, err)) ||
	    (rc = base_url_from_hostname(host, drv, port, port_from_key, url, sizeof(url), err)) ||
	    (rc = xc_secret_get_bool(secret, "STORAGE_SKIP_SSL_VERIFICATION", 0, &skip, err)) ||
	    (rc = xc_secret_get_uint(secret, "STORAGE_HTTP_TIMEOUT_SECONDS", 30, 1, 3600, &timeout,
				     err)) ||
	    (rc = xc_secret_get(secret, "STORAGE_CA_FILE", &ca, err)))
		return rc;
	if (ca != NULL && ca[0] == '\0')
		ca = NULL;
	if (skip && ca != NULL)
		return xclone_error_set(err, XC_E_CONFIG,
					"secret keys STORAGE_CA_FILE and STORAGE_SKIP_SSL_VERIFICATION"
					" contradict each other: keep one");
	ho.base_url = url;
	ho.verify_tls = !skip;
	ho.ca_file = ca;
	ho.timeout_seconds = timeout;
	ho.backoff_ms = opt ? opt->backoff_ms : 0;
	ho.user_agent = "xclone-array/1";
	rc = xc_http_open(out, &ho, err);
	if (rc)
		return rc;
	if (opt != NULL && opt->log != NULL)
		xc_http_set_log(*out, opt->log, opt->log_ctx);
	/* Whatever the driver uses, these never show in a message or log line. */
	for (size_t i = 0; i < sizeof(secret_keys) / sizeof(secret_keys[0]); i++) {
		const char *v;
		if ((rc = xc_secret_get(secret, secret_keys[i], &v, err)) ||
		    (rc = xc_http_add_secret(*out, v, err))) {
			xc_http_close(*out);
			*out = NULL;
			return rc;
		}
	}
	return 0;
}

int xc_array_open(struct xc_array **out, const char *product, struct xc_secret *secret,
		  const struct xc_array_options *opt, struct xclone_error *err)
{
	const struct xc_array_driver *drv = xc_array_driver_find(product);
	struct xc_array_session session;
	struct xc_array *a;
	int rc;

	*out = NULL;
	if (drv == NULL) {
		char known[256] = "";
		size_t used = 0;
		for (size_t i = 0; xc_array_product_at(i) != NULL; i++) {
			int n = snprintf(known + used, sizeof(known) - used, "%s%s", i ? ", " : "",
					 xc_array_product_at(i));
			if (n < 0 || (size_t)n >= sizeof(known) - used)
				break;
			used += (size_t)n;
		}
		return xclone_error_set(err, XC_E_CONFIG, "unknown storage product \"%.64s\" (known: %s)",
					product ? product : "", known);
	}
	if (secret == NULL)
		return xclone_error_set(err, XC_E_USAGE, "no secret given");
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	a->drv = drv;
	rc = open_http(secret, opt, drv, &a->http, err);
	if (rc)
		goto fail;
	session.product = drv->product;
	session.http = a->http;
	session.secret = secret;
	rc = drv->open(&session, &a->state, err);
	if (rc)
		goto fail;
	*out = a;
	return finish(0, err);
fail:
	xc_http_close(a->http);
	free(a);
	return rc;
}

void xc_array_close(struct xc_array *a)
{
	if (a == NULL)
		return;
	if (a->state != NULL)
		a->drv->close(a->state);
	xc_http_close(a->http);
	free(a);
}

void xc_array_http_stats(const struct xc_array *a, struct xc_http_stats *out)
{
	xc_http_get_stats(a->http, out);
}

int xc_array_info(struct xc_array *a, struct xc_array_info *out, struct xclone_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = a->drv->info(a->state, out, err);
	if (rc == 0)
		snprintf(out->product, sizeof(out->product), "%s", a->drv->product);
	return finish(rc, err);
}

int xc_array_resolve(struct xc_array *a, const struct xc_pv *pv, struct xc_lun *out,
		     struct xclone_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (pv == NULL || pv->name == NULL || pv->name[0] == '\0')
		return xclone_error_set(err, XC_E_USAGE, "a PersistentVolume name is needed");
	for (size_t i = 0; i < pv->n_attrs; i++)
		if (pv->attrs[i].key == NULL || pv->attrs[i].value == NULL)
			return xclone_error_set(err, XC_E_USAGE, "volume attribute %zu is incomplete",
						i + 1);
	rc = a->drv->resolve(a->state, pv, out, err);
	if (rc == 0 && !xc_device_id_is_valid(out->naa))
		return xclone_error_set(err, XC_E_INTERNAL, "driver %s built a bad device id \"%s\"",
					a->drv->product, out->naa);
	return finish(rc, err);
}

static int is_valid_host_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 63 || !isalpha((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[len - 1]))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

void xc_host_name_sanitize(const char *in, char *out, size_t size)
{
	size_t o = 0, cap = size > 64 ? 63 : (size ? size - 1 : 0);
	int dash = 0;

	if (size == 0)
		return;
	if (in == NULL || !isalpha((unsigned char)in[0])) {
		const char *prefix = "xclone-";
		for (; *prefix && o < cap; prefix++)
			out[o++] = *prefix;
		dash = 1;
	}
	for (const char *p = in ? in : ""; *p && o < cap; p++) {
		if (isalnum((unsigned char)*p) && (unsigned char)*p < 128) {
			out[o++] = *p;
			dash = 0;
		} else if (!dash) {
			out[o++] = '-';
			dash = 1;
		}
	}
	while (o > 0 && out[o - 1] == '-')
		o--;
	out[o] = '\0';
	if (o == 0 && cap >= 6)
		snprintf(out, size, "xclone");
}

/* A stable name for a host object from its initiators: xclone-<8 hex>. */
static void default_host_name(const struct xc_initiator *ini, size_t n, char *out, size_t size)
{
	unsigned hash = 2166136261u; /* FNV-1a over the ids, order-independent by xor */
	unsigned combined = 0;

	for (size_t i = 0; i < n; i++) {
		hash = 2166136261u;
		for (const char *p = ini[i].kind == XC_INITIATOR_FC ? ini[i].wwpn : ini[i].id; *p; p++)
			hash = (hash ^ (unsigned char)*p) * 16777619u;
		combined ^= hash;
	}
	snprintf(out, size, "xclone-%08x", combined);
}

#define DEFAULT_INITIATOR_KINDS \
	((1u << XC_INITIATOR_ISCSI) | (1u << XC_INITIATOR_FC) | (1u << XC_INITIATOR_NVME))

/* Keeps the initiators of the kinds the driver maps to (array_driver.h), in order;
 * *n becomes their number. None left is XC_E_USAGE naming what the driver takes. */
static int keep_driver_kinds(const struct xc_array_driver *drv, struct xc_initiator *ini,
			     size_t *n, struct xclone_error *err)
{
	unsigned kinds = drv->initiator_kinds ? drv->initiator_kinds : DEFAULT_INITIATOR_KINDS;
	char wanted[64] = "";
	size_t kept = 0;

	for (size_t i = 0; i < *n; i++)
		if (kinds & (1u << ini[i].kind))
			ini[kept++] = ini[i];
	if (kept > 0) {
		*n = kept;
		return 0;
	}
	for (unsigned k = XC_INITIATOR_ISCSI; k <= XC_INITIATOR_SDC; k++) {
		size_t used = strlen(wanted);
		if (kinds & (1u << k))
			snprintf(wanted + used, sizeof(wanted) - used, "%s%s", used ? ", " : "",
				 xc_initiator_kind_name((enum xc_initiator_kind)k));
	}
	return xclone_error_set(err, XC_E_USAGE,
				"%s maps volumes to %s initiators only, and none was given%s",
				drv->product, wanted,
				kinds == (1u << XC_INITIATOR_SDC) ? " (pass the ESXi host's SDC GUID,"
								    " host.info sdc_guid)"
								  : "");
}

int xc_array_ensure_host(struct xc_array *a, const struct xc_host_request *req,
			 struct xc_host_group *out, struct xclone_error *err)
{
	struct xc_initiator ini[XC_HOST_INITIATORS_MAX];
	char name[XC_GROUP_NAME_MAX];
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	if (req == NULL || req->n_initiators == 0)
		return xclone_error_set(err, XC_E_USAGE, "at least one initiator is needed");
	if (req->n_initiators > XC_HOST_INITIATORS_MAX)
		return xclone_error_set(err, XC_E_USAGE, "at most %d initiators",
					XC_HOST_INITIATORS_MAX);
	rc = xc_initiators_parse(req->initiators, req->n_initiators, ini, err);
	if (rc)
		return rc;
	n = req->n_initiators;
	rc = keep_driver_kinds(a->drv, ini, &n, err);
	if (rc)
		return rc;
	if (req->name != NULL) {
		if (!is_valid_host_name(req->name))
			return xclone_error_set(err, XC_E_USAGE,
						"host name \"%.80s\" must be 1-63 letters, digits or"
						" '-', starting with a letter",
						req->name);
		snprintf(name, sizeof(name), "%s", req->name);
	} else {
		default_host_name(ini, n, name, sizeof(name));
	}
	return finish(a->drv->ensure_host(a->state, name, ini, n, out, err), err);
}

int xc_array_hosts(struct xc_array *a, struct xc_host_list *out, struct xclone_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = a->drv->hosts(a->state, out, err);
	if (rc)
		xc_host_list_free(out);
	return finish(rc, err);
}

static int check_lun(const struct xc_lun *lun, struct xclone_error *err)
{
	if (lun == NULL || lun->name[0] == '\0' || lun->id[0] == '\0')
		return xclone_error_set(err, XC_E_USAGE, "a resolved LUN is needed");
	return 0;
}

static int check_target(const struct xc_mapping *t, struct xclone_error *err)
{
	if (t == NULL || t->group[0] == '\0' || memchr(t->group, '\0', sizeof(t->group)) == NULL)
		return xclone_error_set(err, XC_E_USAGE, "a host or host group name is needed");
	if (t->lun_id < -1 || t->lun_id > 16383)
		return xclone_error_set(err, XC_E_USAGE, "LUN number %ld out of range", t->lun_id);
	return 0;
}

int xc_array_mappings(struct xc_array *a, const struct xc_lun *lun, struct xc_mapping_list *out,
		      struct xclone_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_lun(lun, err)))
		return rc;
	rc = a->drv->mappings(a->state, lun, out, err);
	if (rc)
		xc_mapping_list_free(out);
	return finish(rc, err);
}

int xc_array_map(struct xc_array *a, const struct xc_lun *lun, const struct xc_mapping *target,
		 struct xc_mapping *result, struct xclone_error *err)
{
	struct xc_mapping ignored;
	int rc;

	if ((rc = check_lun(lun, err)) || (rc = check_target(target, err)))
		return rc;
	if (result == NULL)
		result = &ignored;
	*result = *target;
	return finish(a->drv->map(a->state, lun, target, result, err), err);
}

int xc_array_unmap(struct xc_array *a, const struct xc_lun *lun, const struct xc_mapping *target,
		   struct xclone_error *err)
{
	int rc;

	if ((rc = check_lun(lun, err)) || (rc = check_target(target, err)))
		return rc;
	return finish(a->drv->unmap(a->state, lun, target, err), err);
}

int xc_array_delete_host(struct xc_array *a, const struct xc_host_group *g,
			 struct xclone_error *err)
{
	if (g == NULL || g->name[0] == '\0' || memchr(g->name, '\0', sizeof(g->name)) == NULL)
		return xclone_error_set(err, XC_E_USAGE, "a host object to delete needs its name");
	if (a->drv->delete_host == NULL)
		return xclone_error_set(err, XC_E_USAGE,
					"%s: xclone creates no host objects there, so deletes none",
					a->drv->product);
	return finish(a->drv->delete_host(a->state, g, err), err);
}

int xc_array_conflict(struct xclone_error *err)
{
	if (err != NULL)
		err->code = XC_E_CONFLICT;
	return XC_E_CONFLICT;
}

int xc_array_restore_mappings(struct xc_array *a, const struct xc_lun *lun,
			      const struct xc_mapping_list *saved, struct xclone_error *err)
{
	struct xc_mapping_list now;
	struct xclone_error first = {0};
	int rc, first_rc = 0;

	rc = xc_array_mappings(a, lun, &now, err);
	if (rc)
		return rc;
	/* Try every mapping even after a failure: put back as much as possible. */
	for (size_t i = 0; i < saved->n; i++) {
		const struct xc_mapping *m = &saved->items[i];
		if (xc_mapping_list_find(&now, m->kind, m->group) != NULL)
			continue;
		struct xclone_error e;
		rc = xc_array_map(a, lun, m, NULL, &e);
		if (rc && first_rc == 0) {
			first_rc = rc;
			first = e;
		}
	}
	xc_mapping_list_free(&now);
	if (first_rc && err != NULL)
		*err = first;
	return finish(first_rc, err);
}

const char *xc_pv_attr(const struct xc_pv *pv, const char *key)
{
	for (size_t i = 0; i < pv->n_attrs; i++)
		if (strcmp(pv->attrs[i].key, key) == 0)
			return pv->attrs[i].value;
	return NULL;
}

const struct xc_mapping *xc_mapping_list_find(const struct xc_mapping_list *l,
					      enum xc_group_kind kind, const char *group)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].kind == kind && strcmp(l->items[i].group, group) == 0)
			return &l->items[i];
	return NULL;
}

#define LIST_MAX 100000 /* more mappings or hosts than this is not an array we understand */

int xc_mapping_list_add(struct xc_mapping_list *l, enum xc_group_kind kind, const char *group,
			long lun_id, struct xclone_error *err)
{
	struct xc_mapping *items, *m;
	int rc;

	if (xc_mapping_list_find(l, kind, group) != NULL)
		return 0; /* a shared mapping may be listed once per member host */
	if (l->n >= LIST_MAX)
		return xclone_error_set(err, XC_E_PROTOCOL, "too many mappings");
	items = realloc(l->items, (l->n + 1) * sizeof(*items));
	if (items == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	l->items = items;
	m = &items[l->n];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->lun_id = lun_id;
	rc = xc_copy_field(m->group, sizeof(m->group), group, "host name", err);
	if (rc)
		return rc;
	l->n++;
	return 0;
}

int xc_host_list_add(struct xc_host_list *l, const struct xc_host_group *g,
		     struct xclone_error *err)
{
	struct xc_host_group *items;

	if (l->n >= LIST_MAX)
		return xclone_error_set(err, XC_E_PROTOCOL, "too many hosts");
	items = realloc(l->items, (l->n + 1) * sizeof(*items));
	if (items == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	l->items = items;
	items[l->n++] = *g;
	return 0;
}

int xc_host_group_init(struct xc_host_group *g, const char *name, enum xc_group_kind kind,
		       struct xclone_error *err)
{
	memset(g, 0, sizeof(*g));
	g->kind = kind;
	return xc_copy_field(g->name, sizeof(g->name), name, "host name", err);
}

void xc_host_group_add_initiator(struct xc_host_group *g, const char *text)
{
	if (text == NULL || strlen(text) >= XC_INITIATOR_MAX || g->n_initiators >= XC_HOST_INITIATORS_MAX) {
		g->truncated = 1;
		return;
	}
	memcpy(g->initiators[g->n_initiators++], text, strlen(text) + 1);
}

void xc_mapping_list_free(struct xc_mapping_list *l)
{
	if (l == NULL)
		return;
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void xc_host_list_free(struct xc_host_list *l)
{
	if (l == NULL)
		return;
	free(l->items);
	l->items = NULL;
	l->n = 0;
}
