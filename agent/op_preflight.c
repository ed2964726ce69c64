/*
 * preflight: everything clone.start checks, without starting anything, and a
 * prediction of whether the array will do the copy (XCOPY).
 *
 * A request that is malformed or names a source outside the datastores is an
 * error (BAD_REQUEST, PATH_DENIED), as are host failures (HOST_COMMAND_FAILED,
 * TIMEOUT: retryable). Everything else that would make clone.start fail is a
 * blocker {code, message}: a missing or unsupported source, a missing, unsafe
 * or too small target. When the source cannot be read, `source` says what is
 * known: the path as given, an empty datastore and format, no chain, size 0.
 *
 * The prediction (`xcopy_expected`, `reasons` when false) follows the rules of
 * the VMFS data mover as the vSphere Storage guide states them ("Hardware
 * Acceleration Considerations"): no offload when the source has sparse
 * snapshot deltas, when /DataMover/HardwareAcceleratedMove is 0, when source
 * or target device does not support VAAI clone, or when the two are on
 * different arrays.
 *
 * Same-array heuristic: the source datastore's first extent device and the
 * target device have the same SCSI vendor and model (as esxcli prints them,
 * trimmed). Its limits: two arrays of the same model look alike (it may
 * predict offload the array then refuses: the clone still succeeds, copied by
 * the host, and the task reports xcopy_used false); an array that reports
 * different model strings for different volume kinds looks like two arrays;
 * a datastore spanning several extents is judged by its first. An RDM source
 * lives on its own LUN, which the descriptor does not name: no prediction.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ag_file.h"
#include "esxcli.h"
#include "host_query.h"
#include "ops.h"
#include "path_policy.h"
#include "vmdk.h"

#define HW_MOVE "/DataMover/HardwareAcceleratedMove"

struct preflight {
	const struct ag_config *cfg;
	const struct xp_args *args;
	/* source */
	bool src_resolved, chain_ok;
	struct ag_source src;
	struct ag_vmdk_chain chain;
	char format[32];
	/* target */
	struct ag_target tgt;
	bool tgt_listed;
	struct ag_device dev;
	/* answers */
	cJSON *reasons, *blockers;
	bool nomem;
};

static void blocker(struct preflight *p, int code, const char *message)
{
	cJSON *b = cJSON_CreateObject();

	if (b == NULL || !cJSON_AddStringToObject(b, "code", xp_code_name(code)) ||
	    !cJSON_AddStringToObject(b, "message", message) ||
	    !cJSON_AddItemToArray(p->blockers, b)) {
		cJSON_Delete(b);
		p->nomem = true;
	}
}

static void reason(struct preflight *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formats into a bounded buffer, then repairs a UTF-8 character the bound cut. */
static void text_fmt(char *out, size_t cap, const char *fmt, va_list ap)
{
	char raw[512];
	int n = vsnprintf(raw, sizeof(raw), fmt, ap);

	xp_utf8_copy(out, cap, raw, n < 0 ? 0 : strnlen(raw, sizeof(raw)));
}

static void reason(struct preflight *p, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	text_fmt(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!cJSON_AddItemToArray(p->reasons, cJSON_CreateString(text)))
		p->nomem = true;
}

static void blockerf(struct preflight *p, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void blockerf(struct preflight *p, int code, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	text_fmt(text, sizeof(text), fmt, ap);
	va_end(ap);
	blocker(p, code, text);
}

/* --- source --------------------------------------------------------------------------- */

static int path_code(int code)
{
	switch (code) {
	case AG_PATH_BAD_REQUEST:
		return XP_BAD_REQUEST;
	case AG_PATH_DENIED:
		return XP_PATH_DENIED;
	case AG_PATH_SOURCE_NOT_FOUND:
		return XP_SOURCE_NOT_FOUND;
	case AG_PATH_SOURCE_UNSUPPORTED:
		return XP_SOURCE_UNSUPPORTED;
	case AG_PATH_TARGET_NOT_FOUND:
		return XP_TARGET_NOT_FOUND;
	case AG_PATH_TARGET_UNSAFE:
		return XP_TARGET_UNSAFE;
	default:
		return XP_INTERNAL;
	}
}

/* agent/README.md's table: how a chain failure reaches the client. */
static int chain_code(int code)
{
	switch (code) {
	case AG_VMDK_E_NOT_FOUND:
		return XP_SOURCE_NOT_FOUND;
	case AG_VMDK_E_DENIED:
		return XP_PATH_DENIED;
	case AG_VMDK_E_IO:
		return XP_INTERNAL;
	default:
		return XP_SOURCE_UNSUPPORTED;
	}
}

/* The top descriptor's createType (the chain only keeps its base's). */
static void top_format(struct preflight *p)
{
	struct ag_vmdk_desc *d = malloc(sizeof(*d));
	char *buf = malloc(AG_VMDK_MAX_BYTES + 1);
	struct ag_error e = { 0 };
	size_t len = 0;
	int fd = open(p->chain.paths[0], O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (d != NULL && buf != NULL && fd >= 0 &&
	    ag_file_read_bounded(fd, buf, AG_VMDK_MAX_BYTES + 1, &len) == 0 &&
	    ag_vmdk_parse(buf, len, d, &e) == 0)
		(void)ag_esx_copy(p->format, sizeof(p->format),
				  ag_vmdk_create_type_name(d->create_type));
	if (fd >= 0)
		close(fd);
	free(d);
	free(buf);
}

static int check_source(struct preflight *p, struct xp_error *err)
{
	const char *in = p->args->source;
	struct ag_error e = { 0 };
	int rc = ag_source_resolve(p->cfg->vmfs_root, in, strlen(in), &p->src, &e);

	if (rc != 0) {
		rc = path_code(rc);
		if (rc == XP_SOURCE_NOT_FOUND || rc == XP_SOURCE_UNSUPPORTED) {
			blocker(p, rc, e.msg);
			return 0;
		}
		return xp_error_set(err, (enum xp_code)rc, "args.source", "%s", e.msg);
	}
	p->src_resolved = true;
	rc = ag_vmdk_chain_resolve(p->cfg->vmfs_root, p->src.path, &p->chain, &e);
	if (rc != 0) {
		rc = chain_code(rc);
		if (rc == XP_INTERNAL)
			return xp_error_set(err, XP_INTERNAL, "args.source", "%s", e.msg);
		blocker(p, rc, e.msg);
		return 0;
	}
	p->chain_ok = true;
	top_format(p);
	return 0;
}

/* --- target --------------------------------------------------------------------------- */

static int check_target(struct preflight *p, struct xp_error *err)
{
	const char *in = p->args->target;
	uint64_t need = p->chain_ok ? p->chain.size_bytes : 0;
	struct ag_error e = { 0 };
	struct xp_error xe = { 0 };
	int rc = ag_target_resolve(p->cfg->vmfs_root, in, strlen(in), NULL, NULL, &p->tgt, &e);

	if (rc == AG_PATH_TARGET_NOT_FOUND) {
		blockerf(p, XP_TARGET_NOT_FOUND,
			 "%s is not present on this host (map it, then device.wait)", p->tgt.id);
		return 0;
	}
	if (rc == AG_PATH_TARGET_UNSAFE || rc == AG_PATH_BAD_REQUEST) {
		p->tgt.id[0] = '\0';
		blocker(p, XP_TARGET_UNSAFE, e.msg);
		return 0;
	}
	if (rc != 0)
		return xp_error_set(err, XP_INTERNAL, "args.target", "%s", e.msg);
	rc = ag_target_check(p->cfg, p->tgt.id, need, AG_DEV_VAAI, &p->dev, &xe);
	p->tgt_listed = p->dev.present;
	if (rc == XP_TARGET_NOT_FOUND || rc == XP_TARGET_UNSAFE || rc == XP_TARGET_TOO_SMALL) {
		blocker(p, rc, xe.message);
		return 0;
	}
	if (rc != 0)
		*err = xe;
	return rc;
}

/* --- the prediction --------------------------------------------------------------------- */

/* HardwareAcceleratedMove and the device of the source datastore's first extent. */
static int host_facts(struct preflight *p, uint64_t *move, char *device, size_t cap,
		      struct xp_error *err)
{
	const char *const adv[] = { "system", "settings", "advanced", "list", "-o", HW_MOVE, NULL };
	static const char *const ext[] = { "storage", "vmfs", "extent", "list", NULL };
	struct ag_hostcmd c[2];
	struct ag_esx_extent *recs = NULL;
	uint64_t best = UINT64_MAX;
	size_t n = 0;
	int rc;

	device[0] = '\0';
	ag_esxcli_init(&c[0], p->cfg, adv);
	ag_esxcli_init(&c[1], p->cfg, ext);
	rc = ag_hostcmd_run_all(c, 2, err);
	if (rc == 0)
		rc = ag_esx_advanced_value(c[0].out, c[0].out_len, HW_MOVE, move, err);
	if (rc == 0)
		rc = ag_esx_parse_extents(c[1].out, c[1].out_len, &recs, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (strcmp(recs[i].uuid, p->src.datastore_uuid) == 0 && recs[i].number < best) {
			best = recs[i].number;
			(void)ag_esx_copy(device, cap, recs[i].device);
		}
	}
	free(recs);
	ag_hostcmd_free(&c[0]);
	ag_hostcmd_free(&c[1]);
	return rc;
}

static bool clone_supported(const struct ag_device *d)
{
	return strcmp(d->vaai_clone, "supported") == 0;
}

/* Reasons about the source datastore's device and how it compares with the target. */
static int compare_devices(struct preflight *p, const char *device, struct xp_error *err)
{
	struct ag_device s;
	int rc;

	if (device[0] == '\0') {
		reason(p, "the source datastore %s has no VMFS extent the host lists: "
			  "no array can offload the copy", p->src.datastore);
		return 0;
	}
	if (!ag_device_id_valid(device, strlen(device))) {
		reason(p, "the source datastore %s lives on %s, not on a SAN device "
			  "(naa/eui/t10): the host copies the data", p->src.datastore, device);
		return 0;
	}
	rc = ag_device_query(p->cfg, device, AG_DEV_VAAI, &s, err);
	if (rc != 0)
		return rc;
	if (!clone_supported(&s))
		reason(p, "the source datastore's device %s does not support VAAI clone (status %s)",
		       device, s.vaai_clone);
	if (!p->tgt_listed)
		return 0;
	if (!clone_supported(&p->dev))
		reason(p, "the target device %s does not support VAAI clone (status %s)", p->dev.id,
		       p->dev.vaai_clone);
	if (strcmp(s.vendor, p->dev.vendor) != 0 || strcmp(s.model, p->dev.model) != 0)
		reason(p, "the source datastore's device (%s %s) and the target (%s %s) look like "
			  "different arrays: the host copies the data",
		       s.vendor, s.model, p->dev.vendor, p->dev.model);
	return 0;
}

static int predict(struct preflight *p, struct xp_error *err)
{
	char device[AG_ESX_ID_MAX];
	uint64_t move = 0;
	int rc;

	if (!p->chain_ok) {
		reason(p, "the source cannot be read: nothing to predict");
		return 0;
	}
	if (p->chain.sparse_link)
		reason(p, "the source has a snapshot chain: sparse deltas are copied by the host");
	if (p->chain.base_format == AG_VMDK_RDM || p->chain.base_format == AG_VMDK_RDMP) {
		reason(p, "the source is a raw device mapping: its LUN is not known here, "
			  "so no offload is predicted");
		return 0;
	}
	rc = host_facts(p, &move, device, sizeof(device), err);
	if (rc != 0)
		return rc;
	if (move == 0)
		reason(p, "VAAI is off on this host (" HW_MOVE " is 0): the host copies the data");
	return compare_devices(p, device, err);
}

/* --- the result ------------------------------------------------------------------------- */

static cJSON *source_json(const struct preflight *p)
{
	cJSON *o = cJSON_CreateObject(), *chain;
	bool ok = o != NULL;

	ok = ok && cJSON_AddStringToObject(o, "path",
					   p->src_resolved ? p->src.path : p->args->source);
	ok = ok && cJSON_AddStringToObject(o, "datastore", p->src_resolved ? p->src.datastore : "");
	ok = ok && cJSON_AddStringToObject(o, "format", p->format);
	ok = ok && (chain = cJSON_AddArrayToObject(o, "chain")) != NULL;
	for (size_t i = 0; ok && p->chain_ok && i < p->chain.depth; i++)
		ok = cJSON_AddItemToArray(chain, cJSON_CreateString(p->chain.paths[i]));
	ok = ok && cJSON_AddNumberToObject(o, "size_bytes",
					   p->chain_ok ? (double)p->chain.size_bytes : 0);
	ok = ok && cJSON_AddBoolToObject(o, "sparse", p->chain_ok && p->chain.sparse_link);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *target_json(const struct preflight *p)
{
	cJSON *o = cJSON_CreateObject();
	const char *id = p->tgt.id[0] ? p->tgt.id : p->args->target;

	if (o == NULL || !cJSON_AddStringToObject(o, "device", id) ||
	    !cJSON_AddNumberToObject(o, "size_bytes", (double)p->dev.size_bytes)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Moves *item into r under key; false (item kept for the caller to free) on failure. */
static bool attach(cJSON *r, const char *key, cJSON **item)
{
	if (*item == NULL || !cJSON_AddItemToObject(r, key, *item))
		return false;
	*item = NULL;
	return true;
}

static cJSON *result_json(struct preflight *p)
{
	cJSON *r = cJSON_CreateObject(), *s = source_json(p), *t = target_json(p);
	bool expected = cJSON_GetArraySize(p->reasons) == 0 && cJSON_GetArraySize(p->blockers) == 0;
	bool ok;

	if (!expected && cJSON_GetArraySize(p->reasons) == 0)
		reason(p, "clone.start would refuse this copy (see blockers)");
	ok = r != NULL && !p->nomem && attach(r, "source", &s) && attach(r, "target", &t) &&
	     cJSON_AddBoolToObject(r, "xcopy_expected", expected) &&
	     attach(r, "reasons", &p->reasons) && attach(r, "blockers", &p->blockers);
	cJSON_Delete(s);
	cJSON_Delete(t);
	if (!ok) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

AG_OP(op_preflight)
{
	struct preflight *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL)
		return xp_error_set(err, XP_INTERNAL, "", "out of memory");
	p->cfg = ctx->cfg;
	p->args = &req->args;
	p->reasons = cJSON_CreateArray();
	p->blockers = cJSON_CreateArray();
	rc = (p->reasons == NULL || p->blockers == NULL)
		     ? xp_error_set(err, XP_INTERNAL, "", "out of memory") : 0;
	if (rc == 0)
		rc = check_source(p, err);
	if (rc == 0)
		rc = check_target(p, err);
	if (rc == 0)
		rc = predict(p, err);
	if (rc == 0 && (*result = result_json(p)) == NULL)
		rc = xp_error_set(err, XP_INTERNAL, "result", "out of memory");
	cJSON_Delete(p->reasons);
	cJSON_Delete(p->blockers);
	ag_vmdk_chain_free(&p->chain);
	free(p);
	return rc;
}
