/* Populate plans: disks to copy, their JSON form, and the populate key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "populate_plan.h"

#define SOURCE_MAX 4096      /* PROTOCOL.md: args.source */
#define PV_NAME_MAX 253      /* a Kubernetes object name */
#define HANDLE_MAX 1024
#define ATTR_MAX 1024
#define ATTRS_MAX 64
#define PLAN_FILE_MAX (4 << 20)
#define VMDK_SEP ".vmdk="

struct xclone_populate_plan *xclone_populate_plan_new(void)
{
	return calloc(1, sizeof(struct xclone_populate_plan));
}

static void spec_free(struct pop_disk_spec *d)
{
	free(d->source);
	free(d->pv_name);
	free(d->volume_handle);
	for (size_t i = 0; i < d->n_attrs; i++) {
		free(d->attr_keys[i]);
		free(d->attr_values[i]);
	}
	free(d->attr_keys);
	free(d->attr_values);
}

void xclone_populate_plan_free(struct xclone_populate_plan *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		spec_free(&p->disks[i]);
	free(p->disks);
	free(p);
}

size_t xclone_populate_plan_count(const struct xclone_populate_plan *p)
{
	return p ? p->n : 0;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int check_text(const char *what, const char *v, size_t max, bool required,
		      struct xclone_error *err)
{
	if (v == NULL || v[0] == '\0')
		return required ? xclone_error_set(err, XC_E_USAGE, "%s is empty", what) : 0;
	if (strlen(v) > max)
		return xclone_error_set(err, XC_E_USAGE, "%s is longer than %zu bytes", what, max);
	if (has_control(v))
		return xclone_error_set(err, XC_E_USAGE, "%s holds a control character", what);
	return 0;
}

static bool ends_with_vmdk(const char *s)
{
	size_t n = strlen(s);

	return n > 5 && strcmp(s + n - 5, ".vmdk") == 0;
}

static int check_disk(const char *source, const char *pv_name, const char *handle,
		      struct xclone_error *err)
{
	int rc = check_text("source", source, SOURCE_MAX, true, err);

	if (rc == 0 && !ends_with_vmdk(source))
		rc = xclone_error_set(err, XC_E_USAGE,
				      "source \"%s\" is not a .vmdk descriptor ('[datastore] dir/disk.vmdk')",
				      source);
	if (rc == 0)
		rc = check_text("PV name", pv_name, PV_NAME_MAX, true, err);
	if (rc == 0)
		rc = check_text("volume handle", handle, HANDLE_MAX, false, err);
	return rc;
}

static int grow(struct xclone_populate_plan *p, struct xclone_error *err)
{
	struct pop_disk_spec *d;
	size_t cap;

	if (p->n >= XCLONE_POPULATE_DISKS_MAX)
		return xclone_error_set(err, XC_E_USAGE, "more than %d disks in one plan",
					XCLONE_POPULATE_DISKS_MAX);
	if (p->n < p->cap)
		return 0;
	cap = p->cap ? p->cap * 2 : 8;
	d = realloc(p->disks, cap * sizeof(*d));
	if (d == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	p->disks = d;
	p->cap = cap;
	return 0;
}

/* Adds key=value as one volume attribute of d (lengths given: the text need not end). */
static int add_attr(struct pop_disk_spec *d, const char *k, size_t klen, const char *v,
		    size_t vlen, struct xclone_error *err)
{
	char **keys, **values;

	if (klen == 0)
		return xclone_error_set(err, XC_E_USAGE, "volume attribute without a name");
	if (klen > ATTR_MAX || vlen > ATTR_MAX)
		return xclone_error_set(err, XC_E_USAGE, "volume attribute longer than %d bytes",
					ATTR_MAX);
	if (d->n_attrs >= ATTRS_MAX)
		return xclone_error_set(err, XC_E_USAGE, "more than %d volume attributes", ATTRS_MAX);
	for (size_t i = 0; i < d->n_attrs; i++)
		if (strlen(d->attr_keys[i]) == klen && memcmp(d->attr_keys[i], k, klen) == 0)
			return xclone_error_set(err, XC_E_USAGE, "volume attribute %.*s given twice",
						(int)klen, k);
	keys = realloc(d->attr_keys, (d->n_attrs + 1) * sizeof(*keys));
	if (keys == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	d->attr_keys = keys;
	values = realloc(d->attr_values, (d->n_attrs + 1) * sizeof(*values));
	if (values == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	d->attr_values = values;
	keys[d->n_attrs] = strndup(k, klen);
	values[d->n_attrs] = strndup(v, vlen);
	if (keys[d->n_attrs] == NULL || values[d->n_attrs] == NULL) {
		free(keys[d->n_attrs]);
		free(values[d->n_attrs]);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	if (has_control(keys[d->n_attrs]) || has_control(values[d->n_attrs])) {
		free(keys[d->n_attrs]);
		free(values[d->n_attrs]);
		return xclone_error_set(err, XC_E_USAGE, "volume attribute holds a control character");
	}
	d->n_attrs++;
	return 0;
}

/* Appends a disk with no attributes yet; *out points at it. */
static int add_disk(struct xclone_populate_plan *p, const char *source, const char *pv_name,
		    const char *handle, struct pop_disk_spec **out, struct xclone_error *err)
{
	struct pop_disk_spec *d;
	int rc = check_disk(source, pv_name, handle, err);

	if (rc == 0)
		rc = grow(p, err);
	if (rc != 0)
		return rc;
	d = &p->disks[p->n];
	memset(d, 0, sizeof(*d));
	d->source = strdup(source);
	d->pv_name = strdup(pv_name);
	d->volume_handle = handle && handle[0] ? strdup(handle) : NULL;
	if (d->source == NULL || d->pv_name == NULL || (handle && handle[0] && !d->volume_handle)) {
		spec_free(d);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	p->n++;
	*out = d;
	return 0;
}

/* Drops the last disk (an attribute of it was refused). */
static void drop_last(struct xclone_populate_plan *p)
{
	spec_free(&p->disks[--p->n]);
}

int xclone_populate_plan_add(struct xclone_populate_plan *p, const char *source,
			     const char *pv_name, const char *volume_handle,
			     const char *const *attrs, size_t n_attrs, struct xclone_error *err)
{
	struct pop_disk_spec *d = NULL;
	int rc = add_disk(p, source, pv_name, volume_handle, &d, err);

	for (size_t i = 0; rc == 0 && i < n_attrs; i++) {
		const char *eq = strchr(attrs[i], '=');

		if (eq == NULL)
			rc = xclone_error_set(err, XC_E_USAGE,
					      "volume attribute \"%s\" is not KEY=VALUE", attrs[i]);
		else
			rc = add_attr(d, attrs[i], (size_t)(eq - attrs[i]), eq + 1, strlen(eq + 1),
				      err);
	}
	if (rc != 0 && d != NULL)
		drop_last(p);
	return rc;
}

/* The PV part of a --disk spec: NAME[,handle=H][,K=V...]. */
static int parse_pv_part(struct xclone_populate_plan *p, const char *source, const char *pv,
			 struct xclone_error *err)
{
	const char *comma = strchr(pv, ',');
	size_t nlen = comma ? (size_t)(comma - pv) : strlen(pv);
	char name[PV_NAME_MAX + 1];
	struct pop_disk_spec *d = NULL;
	int rc;

	if (nlen == 0 || nlen > PV_NAME_MAX)
		return xclone_error_set(err, XC_E_USAGE, "--disk: the PV name after '=' is %s",
					nlen == 0 ? "missing" : "too long");
	memcpy(name, pv, nlen);
	name[nlen] = '\0';
	rc = add_disk(p, source, name, NULL, &d, err);
	while (rc == 0 && comma != NULL) {
		const char *item = comma + 1, *eq;
		size_t len;

		comma = strchr(item, ',');
		len = comma ? (size_t)(comma - item) : strlen(item);
		eq = memchr(item, '=', len);
		if (eq == NULL) {
			rc = xclone_error_set(err, XC_E_USAGE, "--disk: \"%.*s\" is not KEY=VALUE",
					      (int)len, item);
		} else if ((size_t)(eq - item) == 6 && memcmp(item, "handle", 6) == 0) {
			if (d->volume_handle != NULL)
				rc = xclone_error_set(err, XC_E_USAGE, "--disk: handle= given twice");
			else if ((d->volume_handle = strndup(eq + 1, len - 7)) == NULL)
				rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
			else
				rc = check_text("volume handle", d->volume_handle, HANDLE_MAX, true,
						err);
		} else {
			rc = add_attr(d, item, (size_t)(eq - item), eq + 1,
				      len - (size_t)(eq - item) - 1, err);
		}
	}
	if (rc != 0 && d != NULL)
		drop_last(p);
	return rc;
}

int xclone_populate_plan_add_spec(struct xclone_populate_plan *p, const char *spec,
				  struct xclone_error *err)
{
	const char *sep = spec ? strstr(spec, VMDK_SEP) : NULL;
	char *source;
	int rc;

	if (sep == NULL)
		return xclone_error_set(err, XC_E_USAGE,
					"--disk \"%s\": expected SOURCE.vmdk=PV[,handle=H][,KEY=VALUE...]",
					spec ? spec : "");
	source = strndup(spec, (size_t)(sep - spec) + 5);
	if (source == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	rc = parse_pv_part(p, source, sep + strlen(VMDK_SEP), err);
	free(source);
	return rc;
}

/* ---- JSON ------------------------------------------------------------------------------ */

static bool add_str(cJSON *o, const char *k, const char *v)
{
	return v ? cJSON_AddStringToObject(o, k, v) != NULL : cJSON_AddNullToObject(o, k) != NULL;
}

static cJSON *disk_to_json(const struct pop_disk_spec *d)
{
	cJSON *o = cJSON_CreateObject(), *attrs = NULL;
	bool ok = o != NULL;

	ok = ok && add_str(o, "source", d->source) && add_str(o, "pv_name", d->pv_name) &&
	     add_str(o, "volume_handle", d->volume_handle);
	ok = ok && (attrs = cJSON_AddObjectToObject(o, "volume_attributes")) != NULL;
	for (size_t i = 0; ok && i < d->n_attrs; i++)
		ok = cJSON_AddStringToObject(attrs, d->attr_keys[i], d->attr_values[i]) != NULL;
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *pop_plan_to_json(const struct xclone_populate_plan *p)
{
	cJSON *o = cJSON_CreateObject(), *arr = NULL;
	bool ok = o != NULL && (arr = cJSON_AddArrayToObject(o, "disks")) != NULL;

	for (size_t i = 0; ok && i < p->n; i++) {
		cJSON *d = disk_to_json(&p->disks[i]);

		ok = d != NULL && cJSON_AddItemToArray(arr, d);
		if (!ok)
			cJSON_Delete(d);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static const char *opt_string(const cJSON *o, const char *k, bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v)) {
		*bad = true;
		return NULL;
	}
	return v->valuestring;
}

static int disk_from_json(struct xclone_populate_plan *p, const cJSON *o, const char *where,
			  size_t i, struct xclone_error *err)
{
	bool bad = false;
	const char *source = opt_string(o, "source", &bad), *pv = opt_string(o, "pv_name", &bad);
	const char *handle = opt_string(o, "volume_handle", &bad);
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(o, "volume_attributes"), *a;
	struct pop_disk_spec *d;
	int rc;

	if (!cJSON_IsObject(o) || bad || (attrs != NULL && !cJSON_IsObject(attrs) && !cJSON_IsNull(attrs)))
		return xclone_error_set(err, XC_E_USAGE,
					"%s: disks[%zu] must be an object with string source, pv_name,"
					" volume_handle and an object volume_attributes", where, i);
	rc = add_disk(p, source, pv, handle, &d, err);
	if (rc != 0) {
		char why[sizeof(err->message)];

		snprintf(why, sizeof(why), "%s", err ? err->message : "");
		return xclone_error_set(err, rc, "%s: disks[%zu]: %s", where, i, why);
	}
	if (!cJSON_IsObject(attrs))
		return 0;
	cJSON_ArrayForEach(a, attrs) {
		if (!cJSON_IsString(a))
			rc = xclone_error_set(err, XC_E_USAGE,
					      "%s: disks[%zu].volume_attributes.%s is not a string",
					      where, i, a->string);
		else
			rc = add_attr(d, a->string, strlen(a->string), a->valuestring,
				      strlen(a->valuestring), err);
		if (rc != 0) {
			drop_last(p);
			return rc;
		}
	}
	return 0;
}

int pop_plan_from_json(struct xclone_populate_plan *p, const cJSON *obj, const char *where,
		       struct xclone_error *err)
{
	const cJSON *disks = cJSON_GetObjectItemCaseSensitive(obj, "disks"), *d;
	size_t i = 0;
	int rc;

	if (!cJSON_IsObject(obj) || !cJSON_IsArray(disks))
		return xclone_error_set(err, XC_E_USAGE, "%s: expected {\"disks\": [...]}", where);
	cJSON_ArrayForEach(d, disks) {
		if ((rc = disk_from_json(p, d, where, i++, err)) != 0)
			return rc;
	}
	return 0;
}

int xclone_populate_plan_load(struct xclone_populate_plan *p, const char *path,
			      struct xclone_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;
	cJSON *obj = NULL;
	int rc = 0;

	if (f == NULL)
		return xclone_error_set(err, XC_E_USAGE, "cannot open plan %s: %s", path,
					strerror(errno));
	buf = malloc(PLAN_FILE_MAX + 1);
	if (buf == NULL) {
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory");
		goto out;
	}
	n = fread(buf, 1, PLAN_FILE_MAX + 1, f);
	if (ferror(f) || n > PLAN_FILE_MAX) {
		rc = xclone_error_set(err, XC_E_USAGE, "cannot read plan %s (%s)", path,
				      ferror(f) ? strerror(errno) : "larger than 4 MiB");
		goto out;
	}
	obj = cJSON_ParseWithLength(buf, n);
	if (obj == NULL) {
		rc = xclone_error_set(err, XC_E_USAGE, "plan %s is not JSON", path);
		goto out;
	}
	rc = pop_plan_from_json(p, obj, path, err);
out:
	cJSON_Delete(obj);
	free(buf);
	fclose(f);
	return rc;
}

bool pop_plan_equal(const struct xclone_populate_plan *a, const struct xclone_populate_plan *b)
{
	cJSON *ja = pop_plan_to_json(a), *jb = pop_plan_to_json(b);
	bool same = ja != NULL && jb != NULL && cJSON_Compare(ja, jb, 1);

	cJSON_Delete(ja);
	cJSON_Delete(jb);
	return same;
}

/* ---- keys ------------------------------------------------------------------------------ */

static bool key_char(char c, bool first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '.' || c == '_' || c == '-');
}

bool pop_key_valid(const char *key)
{
	size_t n = key ? strlen(key) : 0;

	if (n == 0 || n > XCLONE_POPULATE_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!key_char(key[i], i == 0))
			return false;
	return true;
}

int pop_key_derive(const char *host, unsigned port, const struct xclone_populate_plan *p,
		   char *out, size_t size, struct xclone_error *err)
{
	cJSON *j = pop_plan_to_json(p);
	char *text = j ? cJSON_PrintUnformatted(j) : NULL, head[600];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int hlen, ok;

	hlen = snprintf(head, sizeof(head), "%s\n%u\n", host ? host : "", port);
	ok = text != NULL && hlen > 0 && (size_t)hlen < sizeof(head) && size >= 19;
	if (ok) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
		     EVP_DigestUpdate(ctx, head, (size_t)hlen) == 1 &&
		     EVP_DigestUpdate(ctx, text, strlen(text)) == 1 &&
		     EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 8;
		EVP_MD_CTX_free(ctx);
	}
	if (ok) {
		snprintf(out, size, "p-");
		for (unsigned i = 0; i < 8; i++)
			snprintf(out + 2 + 2 * i, size - 2 - 2 * i, "%02x", md[i]);
	}
	free(text);
	cJSON_Delete(j);
	return ok ? 0 : xclone_error_set(err, XC_E_INTERNAL, "cannot derive the populate key");
}
