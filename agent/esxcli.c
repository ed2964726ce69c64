/*
 * Host tool runs (spawn.h, argv arrays, several at once) and the strict
 * parsers of esxcli's JSON output (see esxcli.h).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ag_text.h"
#include "esxcli.h"
#include "spawn.h"

#define KILL_GRACE_MS 1000    /* esxcli gets this long between SIGTERM and SIGKILL */
#define EXCERPT_MAX 160       /* bytes of a tool's own error text in our message */
#define LABEL_MAX 160
#define JSON_INT_MAX (UINT64_C(1) << 53) /* integers a double holds exactly */

/* --- setting up a run --------------------------------------------------------------- */

/* Appends a NULL-terminated list; one too many marks the run as refused. */
static void append_args(struct ag_hostcmd *c, const char *const *args)
{
	for (size_t i = 0; args != NULL && args[i] != NULL; i++) {
		if (c->nargs >= AG_HOSTCMD_ARGS_MAX) {
			c->nargs = AG_HOSTCMD_ARGS_MAX + 1; /* ag_hostcmd_run refuses it */
			return;
		}
		c->args[c->nargs++] = args[i];
	}
}

void ag_hostcmd_init(struct ag_hostcmd *c, const char *tool, const char *program,
		     const char *const *args, int timeout_ms, size_t output_max)
{
	memset(c, 0, sizeof(*c));
	c->tool = tool;
	c->program = program;
	c->timeout_ms = timeout_ms;
	c->output_max = output_max;
	append_args(c, args);
}

void ag_esxcli_init(struct ag_hostcmd *c, const struct ag_config *cfg, const char *const *words)
{
	static const char *const formatter[] = { "--formatter=json", NULL };

	ag_hostcmd_init(c, "esxcli", cfg->esxcli_path, formatter, (int)cfg->esxcli_timeout_s * 1000,
			AG_HOSTCMD_OUT_SMALL);
	c->skip_label = 1;
	append_args(c, words);
}

/* True when an argument can be shown as it is (the usual vmhba64, naa.x, -d). */
static bool plain_word(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		char ch = *s;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || strchr("._-/:=", ch) != NULL;
		if (!ok)
			return false;
	}
	return true;
}

const char *ag_hostcmd_label(const struct ag_hostcmd *c, char *buf, size_t cap)
{
	size_t at;
	int n;

	n = snprintf(buf, cap, "%s", c->tool ? c->tool : "command");
	at = n < 0 ? 0 : (size_t)n;
	for (size_t i = c->skip_label; i < c->nargs && i < AG_HOSTCMD_ARGS_MAX && at < cap; i++) {
		char q[96];
		const char *a = c->args[i];

		if (plain_word(a))
			n = snprintf(buf + at, cap - at, " %s", a);
		else
			n = snprintf(buf + at, cap - at, " '%s'", ag_text_quote(q, sizeof(q), a, strlen(a)));
		if (n < 0)
			break;
		at += (size_t)n;
	}
	return buf;
}

int ag_esx_copy(char *dst, size_t cap, const char *s)
{
	return ag_text_copy(dst, cap, s, strlen(s));
}

/* --- running ------------------------------------------------------------------------ */

/* The last non-blank line of a tool's error output, rendered safely. */
static const char *excerpt(const char *text, size_t len, char *buf, size_t cap)
{
	const char *start;
	size_t n;

	while (len > 0 && strchr(" \t\r\n", text[len - 1]) != NULL)
		len--;
	start = text + len;
	while (start > text && start[-1] != '\n' && start[-1] != '\r')
		start--;
	n = (size_t)(text + len - start);
	ag_text_trim(&start, &n);
	return ag_text_quote(buf, cap, start, n);
}

static int fail(struct ag_hostcmd *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ag_hostcmd *c, int code, const char *fmt, ...)
{
	char label[LABEL_MAX], what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	c->code = code;
	return xp_error_set(&c->err, code, "", "%s %s", ag_hostcmd_label(c, label, sizeof(label)),
			    what);
}

/* Turns a finished run into c->code and c->out. */
static int judge(struct ag_hostcmd *c, struct ag_spawn_result *r)
{
	char ex[EXCERPT_MAX];

	if (r->timed_out)
		return fail(c, XP_TIMEOUT, "did not finish within %d ms", c->timeout_ms);
	if (!r->exited)
		return fail(c, XP_HOST_COMMAND_FAILED, "was killed by signal %d", r->term_signal);
	if (r->exit_code != 0) {
		/* esxcli prints its errors on stderr; some tools use stdout. */
		bool use_err = r->err_len > 0;
		return fail(c, XP_HOST_COMMAND_FAILED, "failed (exit %d): %s", r->exit_code,
			    excerpt(use_err ? r->err : r->out, use_err ? r->err_len : r->out_len, ex,
				    sizeof(ex)));
	}
	if (r->out_dropped > 0 || r->out_len > c->output_max)
		return fail(c, XP_HOST_COMMAND_FAILED, "printed more than %zu bytes", c->output_max);
	c->out = r->out;
	c->out_len = r->out_len;
	r->out = NULL;
	c->code = XP_OK;
	return xp_error_clear(&c->err);
}

int ag_hostcmd_run(struct ag_hostcmd *c)
{
	const char *argv[AG_HOSTCMD_ARGS_MAX + 2];
	struct ag_spawn_opts o = { 0 };
	struct ag_spawn_result r;
	struct ag_error e = { 0 };
	char ex[EXCERPT_MAX];
	int rc;

	free(c->out);
	c->out = NULL;
	c->out_len = 0;
	if (c->nargs > AG_HOSTCMD_ARGS_MAX || c->program == NULL)
		return fail(c, XP_INTERNAL, "has too many arguments or no program");
	argv[0] = c->program;
	memcpy(argv + 1, c->args, c->nargs * sizeof(argv[0]));
	argv[c->nargs + 1] = NULL;
	o.argv = argv;
	o.timeout_ms = c->timeout_ms;
	o.kill_grace_ms = KILL_GRACE_MS;
	o.capture_max = c->output_max + 1; /* one byte more shows output that was too long */
	if (ag_spawn_run(&o, &r, &e) != 0)
		return fail(c, e.code == AG_SPAWN_E_EXEC ? XP_HOST_COMMAND_FAILED : XP_INTERNAL,
			    "could not run: %s", ag_text_quote(ex, sizeof(ex), e.msg, strlen(e.msg)));
	rc = judge(c, &r);
	ag_spawn_result_free(&r);
	return rc;
}

struct batch {
	struct ag_hostcmd *cs;
	size_t n;
	atomic_size_t next;
};

static void *batch_worker(void *arg)
{
	struct batch *b = arg;
	size_t i;

	while ((i = atomic_fetch_add(&b->next, 1)) < b->n)
		(void)ag_hostcmd_run(&b->cs[i]);
	return NULL;
}

int ag_hostcmd_run_all(struct ag_hostcmd *cs, size_t n, struct xp_error *err)
{
	pthread_t threads[AG_HOSTCMD_PARALLEL];
	struct batch b = { .cs = cs, .n = n };
	size_t want = n < AG_HOSTCMD_PARALLEL ? n : AG_HOSTCMD_PARALLEL, started = 0;

	atomic_init(&b.next, 0);
	/* This thread is one of the workers; a thread that cannot start just means less overlap. */
	while (want > 1 && started < want - 1 &&
	       pthread_create(&threads[started], NULL, batch_worker, &b) == 0)
		started++;
	(void)batch_worker(&b);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	for (size_t i = 0; i < n; i++) {
		if (cs[i].code != XP_OK) {
			if (err != NULL)
				*err = cs[i].err;
			return cs[i].code;
		}
	}
	return xp_error_clear(err);
}

void ag_hostcmd_free(struct ag_hostcmd *c)
{
	free(c->out);
	c->out = NULL;
	c->out_len = 0;
}

/* --- strict JSON records ------------------------------------------------------------ */

enum field_kind { FK_STR, FK_TRIM, FK_U64, FK_BOOL };

struct field {
	const char *key;        /* the member, as --formatter=json names it */
	enum field_kind kind;
	size_t off, cap;        /* where it goes in the record; buffer bytes for strings */
};

#define F(T, m, key, kind) { key, kind, offsetof(T, m), sizeof(((T *)0)->m) }

struct shape {
	const char *cmd;        /* "storage core device list", for messages */
	bool object;            /* the output is one object, not an array of them */
	size_t size;            /* bytes of one record */
	const struct field *fields;
	size_t nfields;
};

static int bad(const struct shape *s, struct xp_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(const struct shape *s, struct xp_error *err, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return xp_error_set(err, XP_HOST_COMMAND_FAILED, "",
			    "esxcli %s printed what does not parse: %s", s->cmd, what);
}

/* The member named key: 0 and *out when present once, 1 when absent, -1 when repeated. */
static int member(const cJSON *obj, const char *key, const cJSON **out)
{
	int found = 0;

	*out = NULL;
	for (const cJSON *c = obj->child; c != NULL; c = c->next) {
		if (c->string == NULL || strcmp(c->string, key) != 0)
			continue;
		if (found++)
			return -1;
		*out = c;
	}
	return found ? 0 : 1;
}

static const char *set_string(const struct field *f, const cJSON *v, char *dst)
{
	const char *s;
	size_t len;

	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return "is not a string";
	s = v->valuestring;
	len = strlen(s);
	if (f->kind == FK_TRIM)
		ag_text_trim(&s, &len);
	if (!ag_text_utf8_valid(s, len))
		return "is not valid UTF-8";
	if (ag_text_has_ctl(s, len))
		return "holds control characters";
	if (ag_text_copy(dst, f->cap, s, len) != 0)
		return "is too long";
	return NULL;
}

static const char *set_u64(const cJSON *v, uint64_t *dst)
{
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		/* Written so that NaN fails too. */
		if (!(d >= 0 && d <= (double)JSON_INT_MAX) || (double)(uint64_t)d != d)
			return "is not a non-negative integer";
		*dst = (uint64_t)d;
		return NULL;
	}
	if (cJSON_IsString(v) && v->valuestring != NULL &&
	    ag_text_u64(v->valuestring, strlen(v->valuestring), JSON_INT_MAX, dst) == 0)
		return NULL;
	return "is not a non-negative integer";
}

static const char *set_bool(const cJSON *v, bool *dst)
{
	if (cJSON_IsBool(v)) {
		*dst = cJSON_IsTrue(v);
		return NULL;
	}
	if (cJSON_IsString(v) && v->valuestring != NULL) {
		if (strcmp(v->valuestring, "true") == 0 || strcmp(v->valuestring, "false") == 0) {
			*dst = v->valuestring[0] == 't';
			return NULL;
		}
	}
	return "is not a boolean";
}

/* Fills one record from one object. */
static int take_record(const struct shape *s, const cJSON *obj, size_t index, char *rec,
		       struct xp_error *err)
{
	if (!cJSON_IsObject(obj))
		return bad(s, err, "record %zu is not an object", index);
	for (size_t i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];
		const cJSON *v;
		const char *why = NULL;
		int m = member(obj, f->key, &v);

		if (m != 0)
			return bad(s, err, "record %zu: \"%s\" is %s", index, f->key,
				   m < 0 ? "given twice" : "missing");
		if (f->kind == FK_STR || f->kind == FK_TRIM)
			why = set_string(f, v, rec + f->off);
		else if (f->kind == FK_U64)
			why = set_u64(v, (uint64_t *)(void *)(rec + f->off));
		else
			why = set_bool(v, (bool *)(void *)(rec + f->off));
		if (why != NULL)
			return bad(s, err, "record %zu: \"%s\" %s", index, f->key, why);
	}
	return 0;
}

/* The text as one JSON value with nothing after it. */
static int parse_json(const struct shape *s, const char *text, size_t len, cJSON **root,
		      struct xp_error *err)
{
	const char *end = NULL;

	*root = NULL;
	if (memchr(text, '\0', len) != NULL || memmem(text, len, "\\u0000", 6) != NULL)
		return bad(s, err, "it holds a NUL character");
	*root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (*root == NULL) {
		size_t at = (end != NULL && end >= text && end <= text + len) ? (size_t)(end - text) : 0;
		return bad(s, err, "not JSON (byte %zu)", at);
	}
	while (end < text + len && strchr(" \t\r\n", *end) != NULL)
		end++;
	if (end != text + len) {
		cJSON_Delete(*root);
		*root = NULL;
		return bad(s, err, "text follows the JSON value (byte %zu)", (size_t)(end - text));
	}
	return 0;
}

/* An array of records: *out (malloc'd, NULL when empty) and *n. */
static int parse_list(const struct shape *s, const char *text, size_t len, void **out, size_t *n,
		      struct xp_error *err)
{
	cJSON *root;
	char *items = NULL;
	size_t count, i = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = parse_json(s, text, len, &root, err);
	if (rc != 0)
		return rc;
	if (!cJSON_IsArray(root)) {
		rc = bad(s, err, "expected an array of records");
		goto out;
	}
	count = (size_t)cJSON_GetArraySize(root);
	if (count > AG_ESX_RECORDS_MAX) {
		rc = bad(s, err, "more than %d records", AG_ESX_RECORDS_MAX);
		goto out;
	}
	if (count > 0 && (items = calloc(count, s->size)) == NULL) {
		rc = xp_error_set(err, XP_INTERNAL, "", "out of memory");
		goto out;
	}
	for (const cJSON *c = root->child; c != NULL; c = c->next, i++) {
		rc = take_record(s, c, i, items + i * s->size, err);
		if (rc != 0)
			goto out;
	}
	*out = items;
	*n = count;
	items = NULL;
out:
	free(items);
	cJSON_Delete(root);
	return rc;
}

static int parse_object(const struct shape *s, const char *text, size_t len, void *out,
			struct xp_error *err)
{
	cJSON *root;
	int rc = parse_json(s, text, len, &root, err);

	if (rc != 0)
		return rc;
	memset(out, 0, s->size);
	rc = take_record(s, root, 0, out, err);
	cJSON_Delete(root);
	return rc;
}

/* --- one parser per command --------------------------------------------------------- */

#define SHAPE(name, cmd, is_object, T, fields) \
	static const struct shape name = { cmd, is_object, sizeof(T), fields, \
					   sizeof(fields) / sizeof(fields[0]) }

static const struct field hostname_fields[] = {
	F(struct ag_esx_hostname, fqdn, "FullyQualifiedDomainName", FK_STR),
	F(struct ag_esx_hostname, host, "HostName", FK_STR),
};
SHAPE(hostname_shape, "system hostname get", true, struct ag_esx_hostname, hostname_fields);

int ag_esx_parse_hostname(const char *text, size_t len, struct ag_esx_hostname *out,
			  struct xp_error *err)
{
	return parse_object(&hostname_shape, text, len, out, err);
}

static const struct field version_fields[] = {
	F(struct ag_esx_version, product, "Product", FK_STR),
	F(struct ag_esx_version, version, "Version", FK_STR),
	F(struct ag_esx_version, build, "Build", FK_STR),
};
SHAPE(version_shape, "system version get", true, struct ag_esx_version, version_fields);

int ag_esx_parse_version(const char *text, size_t len, struct ag_esx_version *out,
			 struct xp_error *err)
{
	return parse_object(&version_shape, text, len, out, err);
}

static const struct field adapter_fields[] = {
	F(struct ag_esx_adapter, name, "HBAName", FK_STR),
	F(struct ag_esx_adapter, driver, "Driver", FK_STR),
	F(struct ag_esx_adapter, uid, "UID", FK_STR),
};
SHAPE(adapter_shape, "storage core adapter list", false, struct ag_esx_adapter, adapter_fields);

int ag_esx_parse_adapters(const char *text, size_t len, struct ag_esx_adapter **out, size_t *n,
			  struct xp_error *err)
{
	void *items;
	int rc = parse_list(&adapter_shape, text, len, &items, n, err);

	*out = items;
	return rc;
}

static const struct field fs_fields[] = {
	F(struct ag_esx_filesystem, name, "VolumeName", FK_STR),
	F(struct ag_esx_filesystem, uuid, "UUID", FK_STR),
	F(struct ag_esx_filesystem, type, "Type", FK_STR),
	F(struct ag_esx_filesystem, mounted, "Mounted", FK_BOOL),
};
SHAPE(fs_shape, "storage filesystem list", false, struct ag_esx_filesystem, fs_fields);

int ag_esx_parse_filesystems(const char *text, size_t len, struct ag_esx_filesystem **out,
			     size_t *n, struct xp_error *err)
{
	void *items;
	int rc = parse_list(&fs_shape, text, len, &items, n, err);

	*out = items;
	return rc;
}

static const struct field extent_fields[] = {
	F(struct ag_esx_extent, volume, "VolumeName", FK_STR),
	F(struct ag_esx_extent, uuid, "VMFSUUID", FK_STR),
	F(struct ag_esx_extent, number, "ExtentNumber", FK_U64),
	F(struct ag_esx_extent, device, "DeviceName", FK_STR),
	F(struct ag_esx_extent, partition, "Partition", FK_U64),
};
SHAPE(extent_shape, "storage vmfs extent list", false, struct ag_esx_extent, extent_fields);

int ag_esx_parse_extents(const char *text, size_t len, struct ag_esx_extent **out, size_t *n,
			 struct xp_error *err)
{
	void *items;
	int rc = parse_list(&extent_shape, text, len, &items, n, err);

	*out = items;
	return rc;
}

static const struct field path_fields[] = {
	F(struct ag_esx_path, device, "Device", FK_STR),
	F(struct ag_esx_path, adapter, "Adapter", FK_STR),
	F(struct ag_esx_path, state, "State", FK_STR),
};
SHAPE(path_shape, "storage core path list", false, struct ag_esx_path, path_fields);

int ag_esx_parse_paths(const char *text, size_t len, struct ag_esx_path **out, size_t *n,
		       struct xp_error *err)
{
	void *items;
	int rc = parse_list(&path_shape, text, len, &items, n, err);

	*out = items;
	return rc;
}

static const struct field device_fields[] = {
	F(struct ag_esx_device, id, "Device", FK_STR),
	F(struct ag_esx_device, status, "Status", FK_TRIM),
	F(struct ag_esx_device, size_mb, "Size", FK_U64),
	F(struct ag_esx_device, vendor, "Vendor", FK_TRIM),
	F(struct ag_esx_device, model, "Model", FK_TRIM),
	F(struct ag_esx_device, is_local, "IsLocal", FK_BOOL),
};
SHAPE(device_shape, "storage core device list", false, struct ag_esx_device, device_fields);

int ag_esx_parse_devices(const char *text, size_t len, struct ag_esx_device **out, size_t *n,
			 struct xp_error *err)
{
	void *items;
	int rc = parse_list(&device_shape, text, len, &items, n, err);

	*out = items;
	return rc;
}

static const struct field vaai_fields[] = {
	F(struct ag_esx_vaai, device, "Device", FK_STR),
	F(struct ag_esx_vaai, clone, "CloneStatus", FK_TRIM),
};
SHAPE(vaai_shape, "storage core device vaai status get", false, struct ag_esx_vaai, vaai_fields);

int ag_esx_parse_vaai(const char *text, size_t len, struct ag_esx_vaai **out, size_t *n,
		      struct xp_error *err)
{
	void *items;
	int rc = parse_list(&vaai_shape, text, len, &items, n, err);

	*out = items;
	return rc;
}

static const struct field detached_fields[] = {
	F(struct ag_esx_detached, device, "DeviceUID", FK_STR),
	F(struct ag_esx_detached, state, "State", FK_TRIM),
};
SHAPE(detached_shape, "storage core device detached list", false, struct ag_esx_detached,
      detached_fields);

int ag_esx_parse_detached(const char *text, size_t len, struct ag_esx_detached **out, size_t *n,
			  struct xp_error *err)
{
	void *items;
	int rc = parse_list(&detached_shape, text, len, &items, n, err);

	*out = items;
	return rc;
}

static const struct field advanced_fields[] = {
	F(struct ag_esx_advanced, path, "Path", FK_STR),
	F(struct ag_esx_advanced, int_value, "IntValue", FK_U64),
};
SHAPE(advanced_shape, "system settings advanced list", false, struct ag_esx_advanced,
      advanced_fields);

int ag_esx_parse_advanced(const char *text, size_t len, struct ag_esx_advanced **out, size_t *n,
			  struct xp_error *err)
{
	void *items;
	int rc = parse_list(&advanced_shape, text, len, &items, n, err);

	*out = items;
	return rc;
}

int ag_esx_advanced_value(const char *text, size_t len, const char *path, uint64_t *value,
			  struct xp_error *err)
{
	struct ag_esx_advanced *recs;
	size_t n, found = 0;
	int rc = ag_esx_parse_advanced(text, len, &recs, &n, err);

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(recs[i].path, path) == 0) {
			*value = recs[i].int_value;
			found++;
		}
	}
	free(recs);
	if (found != 1)
		return bad(&advanced_shape, err, "%s is listed %zu times, expected once", path, found);
	return 0;
}

static const struct field module_fields[] = {
	F(struct ag_esx_module_param, name, "Name", FK_STR),
	F(struct ag_esx_module_param, value, "Value", FK_TRIM),
};
SHAPE(module_shape, "system module parameters list", false, struct ag_esx_module_param,
      module_fields);

int ag_esx_parse_module_params(const char *text, size_t len, struct ag_esx_module_param **out,
			       size_t *n, struct xp_error *err)
{
	void *items;
	int rc = parse_list(&module_shape, text, len, &items, n, err);

	*out = items;
	return rc;
}

static const struct field iscsi_fields[] = {
	F(struct ag_esx_iscsi_adapter, adapter, "Adapter", FK_STR),
	F(struct ag_esx_iscsi_adapter, name, "Name", FK_TRIM),
};
SHAPE(iscsi_shape, "iscsi adapter get", false, struct ag_esx_iscsi_adapter, iscsi_fields);

int ag_esx_parse_iscsi_adapter(const char *text, size_t len, struct ag_esx_iscsi_adapter **out,
			       size_t *n, struct xp_error *err)
{
	void *items;
	int rc = parse_list(&iscsi_shape, text, len, &items, n, err);

	*out = items;
	return rc;
}

static const struct field nvme_fields[] = {
	F(struct ag_esx_nvme_info, host_nqn, "HostNQN", FK_TRIM),
};
SHAPE(nvme_shape, "nvme info get", true, struct ag_esx_nvme_info, nvme_fields);

int ag_esx_parse_nvme_info(const char *text, size_t len, struct ag_esx_nvme_info *out,
			   struct xp_error *err)
{
	return parse_object(&nvme_shape, text, len, out, err);
}
