/*
 * What the host knows about a storage device, and the target policy: the
 * contract the rest of the agent (task engine, preflight, device ops) calls.
 * Everything here asks esxcli / vsish through esxcli.h and vsish.h; callers
 * never run those tools themselves.
 */
#ifndef XCLONE_AGENT_HOST_QUERY_H
#define XCLONE_AGENT_HOST_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "xp_error.h"

/* What a query asks beside `device list -d`: each part is one more esxcli call. */
enum ag_device_part {
	AG_DEV_VAAI = 1u << 0,          /* vaai_clone */
	AG_DEV_EXTENTS = 1u << 1,       /* backs_datastore */
	AG_DEV_PATHS = 1u << 2,         /* paths */
	AG_DEV_ALL = AG_DEV_VAAI | AG_DEV_EXTENTS | AG_DEV_PATHS,
	/*
	 * Not a call but one fewer: when the host does not list the device, do not
	 * ask the full and detached lists why (status stays ""). For polls that
	 * only wait for the device to show up.
	 */
	AG_DEV_LISTED_ONLY = 1u << 3,
};

struct ag_device {                 /* one device as the host sees it */
	char id[256];                  /* naa./eui./t10. id */
	unsigned parts;                /* the enum ag_device_part bits this record answers */
	bool present;                  /* listed by esxcli storage core device list */
	char status[32];               /* "on", "off", "dead timeout", ... as esxcli says */
	uint64_t size_bytes;
	char vendor[64], model[64];    /* trimmed */
	bool is_local;
	char vaai_clone[16];           /* "supported" | "unsupported" | "unknown" */
	char backs_datastore[256];     /* datastore name when a VMFS extent is on it, "" otherwise */
	int paths;
};

/*
 * present=false (and 0) when the host does not know the device. The parts not
 * asked keep their "don't know" values (vaai_clone "unknown", backs_datastore "",
 * paths 0); out->parts says which were asked, so a safety check can refuse a
 * record that never looked at the extents. The calls run at the same time.
 */
int ag_device_query(const struct ag_config *cfg, const char *id, unsigned parts,
		    struct ag_device *out, struct xp_error *err);

/*
 * The target policy: TARGET_NOT_FOUND, TARGET_UNSAFE (backs a VMFS extent, not
 * "on", local device, ...), TARGET_TOO_SMALL (< min_bytes). The query asks
 * what the policy reads plus `parts` (what the caller wants in out, which is
 * filled when not NULL).
 */
int ag_target_check(const struct ag_config *cfg, const char *id, uint64_t min_bytes,
		    unsigned parts, struct ag_device *out, struct xp_error *err);

/*
 * The device's clone write counter from vsish (the counter's name lives in
 * vsish.c only). 0 with *known=false when vsish cannot tell.
 */
int ag_clone_write_counter(const struct ag_config *cfg, const char *id, uint64_t *value,
			   bool *known, struct xp_error *err);

#endif
