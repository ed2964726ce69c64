/*
 * One device as the host sees it: `storage core device list -d`, its VAAI clone
 * status, the VMFS extents and its paths, asked at the same time; and when the
 * host does not list the device, whether it is merely detached.
 */
#include <stdlib.h>
#include <string.h>

#include "esxcli.h"
#include "host_query.h"
#include "path_policy.h"
#include "vsish.h"

#define MB_MAX (UINT64_C(1) << 30) /* 1 PiB in MB: the protocol's integer bound */

enum { Q_DEVICE, Q_VAAI, Q_EXTENTS, Q_PATHS, Q_COUNT };

/* The part each call answers (the device list is always asked). */
static const unsigned part_bit[Q_COUNT] = { 0, AG_DEV_VAAI, AG_DEV_EXTENTS, AG_DEV_PATHS };

static const char *vaai_word(const char *printed)
{
	if (strcmp(printed, "supported") == 0 || strcmp(printed, "unsupported") == 0)
		return printed;
	return "unknown";
}

/* The one record for id in device list output; *found false when there is none. */
static int pick_device(const struct ag_hostcmd *c, const char *id, struct ag_esx_device *dev,
		       bool *found, struct xp_error *err)
{
	struct ag_esx_device *recs;
	size_t n;
	int rc = ag_esx_parse_devices(c->out, c->out_len, &recs, &n, err);

	*found = false;
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n && !*found; i++) {
		if (strcmp(recs[i].id, id) == 0) {
			*dev = recs[i];
			*found = true;
		}
	}
	free(recs);
	if (*found && dev->size_mb > MB_MAX)
		return xp_error_set(err, XP_HOST_COMMAND_FAILED, "",
				    "esxcli lists %s with %llu MB, beyond what xclone handles", id,
				    (unsigned long long)dev->size_mb);
	return 0;
}

static int fill_vaai(struct ag_device *out, const struct ag_hostcmd *c, struct xp_error *err)
{
	struct ag_esx_vaai *recs;
	size_t n;
	int rc = ag_esx_parse_vaai(c->out, c->out_len, &recs, &n, err);

	if (rc != 0)
		return rc;
	(void)ag_esx_copy(out->vaai_clone, sizeof(out->vaai_clone), "unknown");
	for (size_t i = 0; i < n; i++)
		if (strcmp(recs[i].device, out->id) == 0)
			(void)ag_esx_copy(out->vaai_clone, sizeof(out->vaai_clone),
					       vaai_word(recs[i].clone));
	free(recs);
	return 0;
}

static int fill_extents(struct ag_device *out, const struct ag_hostcmd *c, struct xp_error *err)
{
	struct ag_esx_extent *recs;
	size_t n;
	int rc = ag_esx_parse_extents(c->out, c->out_len, &recs, &n, err);

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n && out->backs_datastore[0] == '\0'; i++)
		if (strcmp(recs[i].device, out->id) == 0)
			(void)ag_esx_copy(out->backs_datastore, sizeof(out->backs_datastore),
					       recs[i].volume);
	free(recs);
	return 0;
}

static int fill_paths(struct ag_device *out, const struct ag_hostcmd *c, struct xp_error *err)
{
	struct ag_esx_path *recs;
	size_t n;
	int rc = ag_esx_parse_paths(c->out, c->out_len, &recs, &n, err);

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (strcmp(recs[i].device, out->id) == 0 && strcmp(recs[i].state, "active") == 0)
			out->paths++;
	free(recs);
	return 0;
}

/*
 * `device list -d` failed: either the host does not know the device or esxcli
 * is in trouble. The full list and the detached list tell which.
 */
static int query_unlisted(const struct ag_config *cfg, struct ag_device *out,
			  struct ag_esx_device *dev, bool *listed, struct xp_error *err)
{
	static const char *const list_all[] = { "storage", "core", "device", "list", NULL };
	static const char *const detached[] = { "storage", "core", "device", "detached", "list",
						NULL };
	struct ag_hostcmd c[2];
	struct ag_esx_detached *recs = NULL;
	size_t n = 0;
	int rc;

	ag_esxcli_init(&c[0], cfg, list_all);
	c[0].output_max = AG_HOSTCMD_OUT_LARGE;
	ag_esxcli_init(&c[1], cfg, detached);
	rc = ag_hostcmd_run_all(c, 2, err);
	if (rc == 0)
		rc = pick_device(&c[0], out->id, dev, listed, err);
	if (rc == 0 && !*listed)
		rc = ag_esx_parse_detached(c[1].out, c[1].out_len, &recs, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (strcmp(recs[i].device, out->id) == 0)
			(void)ag_esx_copy(out->status, sizeof(out->status), "detached");
	free(recs);
	ag_hostcmd_free(&c[0]);
	ag_hostcmd_free(&c[1]);
	return rc;
}

static void take_device(struct ag_device *out, const struct ag_esx_device *dev)
{
	out->present = true;
	(void)ag_esx_copy(out->status, sizeof(out->status), dev->status);
	out->size_bytes = dev->size_mb << 20;
	(void)ag_esx_copy(out->vendor, sizeof(out->vendor), dev->vendor);
	(void)ag_esx_copy(out->model, sizeof(out->model), dev->model);
	out->is_local = dev->is_local;
}

/*
 * The commands of the parts asked, packed at the front of c (the device list
 * first); at[q] is where query q went, -1 when not asked.
 */
static size_t plan_calls(const struct ag_config *cfg, const char *const *const words[Q_COUNT],
			 unsigned parts, struct ag_hostcmd c[Q_COUNT], int at[Q_COUNT])
{
	size_t n = 0;

	for (int q = 0; q < Q_COUNT; q++) {
		at[q] = -1;
		if (q == Q_DEVICE || (parts & part_bit[q])) {
			ag_esxcli_init(&c[n], cfg, words[q]);
			at[q] = (int)n++;
		}
	}
	return n;
}

/* The device is listed: every part asked is needed, a failure is a failure. */
static int fill_parts(struct ag_device *out, const struct ag_hostcmd *c, const int at[Q_COUNT],
		      struct xp_error *err)
{
	static int (*const fill[Q_COUNT])(struct ag_device *, const struct ag_hostcmd *,
					  struct xp_error *) = { NULL, fill_vaai, fill_extents,
								 fill_paths };
	int rc = 0;

	for (int q = Q_VAAI; q < Q_COUNT && rc == 0; q++) {
		if (at[q] < 0)
			continue;
		if (c[at[q]].code != XP_OK)
			rc = xp_error_set(err, (enum xp_code)c[at[q]].code, "", "%s",
					  c[at[q]].err.message);
		else
			rc = fill[q](out, &c[at[q]], err);
	}
	return rc;
}

int ag_device_query(const struct ag_config *cfg, const char *id, unsigned parts,
		    struct ag_device *out, struct xp_error *err)
{
	const char *const dev_list[] = { "storage", "core", "device", "list", "-d", id, NULL };
	const char *const vaai[] = { "storage", "core", "device", "vaai", "status", "get", "-d", id,
				     NULL };
	static const char *const extents[] = { "storage", "vmfs", "extent", "list", NULL };
	const char *const paths[] = { "storage", "core", "path", "list", "-d", id, NULL };
	const char *const *const words[Q_COUNT] = { dev_list, vaai, extents, paths };
	struct ag_hostcmd c[Q_COUNT];
	struct ag_esx_device dev;
	int at[Q_COUNT];
	size_t n;
	bool listed = false;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!ag_device_id_valid(id, strlen(id)))
		return xp_error_set(err, XP_BAD_REQUEST, "device",
				    "not a device id (naa.*, eui.* or t10.*)");
	(void)ag_esx_copy(out->id, sizeof(out->id), id);
	(void)ag_esx_copy(out->vaai_clone, sizeof(out->vaai_clone), "unknown");
	n = plan_calls(cfg, words, parts, c, at);
	(void)ag_hostcmd_run_all(c, n, NULL);

	if (c[0].code == XP_OK)
		rc = pick_device(&c[0], id, &dev, &listed, err);
	else if (c[0].code == XP_TIMEOUT)
		rc = xp_error_set(err, XP_TIMEOUT, "", "%s", c[0].err.message);
	if (rc == 0 && !listed && !(parts & AG_DEV_LISTED_ONLY))
		rc = query_unlisted(cfg, out, &dev, &listed, err);
	if (rc == 0 && listed) {
		take_device(out, &dev);
		rc = fill_parts(out, c, at, err);
	}
	for (size_t i = 0; i < n; i++)
		ag_hostcmd_free(&c[i]);
	if (rc != 0) {
		char keep[sizeof(out->id)];

		memcpy(keep, out->id, sizeof(keep));
		memset(out, 0, sizeof(*out));
		memcpy(out->id, keep, sizeof(keep));
		return rc;
	}
	out->parts = parts & AG_DEV_ALL;
	return xp_error_clear(err);
}

int ag_clone_write_counter(const struct ag_config *cfg, const char *id, uint64_t *value,
			   bool *known, struct xp_error *err)
{
	return ag_vsish_clone_writes(cfg, id, value, known, err);
}
