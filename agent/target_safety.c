/* The target policy (see target_safety.h). */
#include <string.h>

#include "path_policy.h"
#include "target_safety.h"

int ag_device_in_use(const struct ag_device *dev, const char *field, struct xp_error *err)
{
	if (!(dev->parts & AG_DEV_EXTENTS)) /* "" would read as "backs nothing" */
		return xp_error_set(err, XP_INTERNAL, field,
				    "%s: the safety check was given a record without extents",
				    dev->id);
	if (dev->backs_datastore[0] != '\0')
		return xp_error_set(err, XP_TARGET_UNSAFE, field, "%s backs datastore %s", dev->id,
				    dev->backs_datastore);
	if (dev->is_local)
		return xp_error_set(err, XP_TARGET_UNSAFE, field, "%s is a local device", dev->id);
	return 0;
}

int ag_target_policy(const struct ag_device *dev, uint64_t min_bytes, struct xp_error *err)
{
	int rc;

	if (!dev->present && strcmp(dev->status, "detached") == 0)
		return xp_error_set(err, XP_TARGET_UNSAFE, "",
				    "%s is detached on this host (status off)", dev->id);
	if (!dev->present)
		return xp_error_set(err, XP_TARGET_NOT_FOUND, "",
				    "%s is not present on this host (map it, then device.wait)",
				    dev->id);
	if ((rc = ag_device_in_use(dev, "", err)) != 0)
		return rc;
	if (strcmp(dev->status, "on") != 0)
		return xp_error_set(err, XP_TARGET_UNSAFE, "", "%s has status '%s', not 'on'",
				    dev->id, dev->status);
	if (dev->size_bytes < min_bytes)
		return xp_error_set(err, XP_TARGET_TOO_SMALL, "",
				    "%s holds %llu bytes, the source needs %llu", dev->id,
				    (unsigned long long)dev->size_bytes,
				    (unsigned long long)min_bytes);
	return xp_error_clear(err);
}

int ag_target_check(const struct ag_config *cfg, const char *id, uint64_t min_bytes,
		    unsigned parts, struct ag_device *out, struct xp_error *err)
{
	struct ag_device dev;
	int rc;

	if (!ag_device_id_valid(id, strlen(id)))
		return xp_error_set(err, XP_TARGET_UNSAFE, "",
				    "the target is not a whole-disk device id (naa.*, eui.* or t10.*)");
	rc = ag_device_query(cfg, id, parts | AG_DEV_EXTENTS, &dev, err);
	if (rc == 0)
		rc = ag_target_policy(&dev, min_bytes, err);
	if (out != NULL)
		*out = dev;
	return rc;
}
