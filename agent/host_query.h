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

struct ag_device {                 /* one device as the host sees it */
	char id[256];                  /* naa./eui./t10. id */
	bool present;                  /* listed by esxcli storage core device list */
	char status[32];               /* "on", "off", "dead timeout", ... as esxcli says */
	uint64_t size_bytes;
	char vendor[64], model[64];    /* trimmed */
	bool is_local;
	char vaai_clone[16];           /* "supported" | "unsupported" | "unknown" */
	char backs_datastore[256];     /* datastore name when a VMFS extent is on it, "" otherwise */
	int paths;
};

/* present=false (and 0) when the host does not know the device. */
int ag_device_query(const struct ag_config *cfg, const char *id, struct ag_device *out,
		    struct xp_error *err);

/*
 * The same without VAAI status, extents and paths (vaai_clone "unknown",
 * backs_datastore "", paths 0): one esxcli call while the host lists the device,
 * for polls that only need present and status (a detach waiting for "off").
 */
int ag_device_status(const struct ag_config *cfg, const char *id, struct ag_device *out,
		     struct xp_error *err);

/*
 * The target policy: TARGET_NOT_FOUND, TARGET_UNSAFE (backs a VMFS extent, not
 * "on", local device, ...), TARGET_TOO_SMALL (< min_bytes). Fills out when not NULL.
 */
int ag_target_check(const struct ag_config *cfg, const char *id, uint64_t min_bytes,
		    struct ag_device *out, struct xp_error *err);

/*
 * The device's clone write counter from vsish (the counter's name lives in
 * vsish.c only). 0 with *known=false when vsish cannot tell.
 */
int ag_clone_write_counter(const struct ag_config *cfg, const char *id, uint64_t *value,
			   bool *known, struct xp_error *err);

#endif
