/*
 * The target policy: which devices the agent may overwrite. ag_target_check()
 * (declared in host_query.h, the contract the task engine calls) asks the host
 * and applies ag_target_policy() below, which is pure so it can be tested on
 * its own. In order, a device is refused when:
 *   - the host does not list it                  -> TARGET_NOT_FOUND
 *   - a VMFS extent lives on it                  -> TARGET_UNSAFE (the agent never
 *                                                   overwrites a datastore LUN)
 *   - it is a local device                       -> TARGET_UNSAFE (boot disks, local
 *                                                   datastores; never a SAN volume)
 *   - its status is not "on" (off, detached,
 *     dead timeout, ...)                         -> TARGET_UNSAFE
 *   - it is smaller than min_bytes               -> TARGET_TOO_SMALL
 * Not covered here (the caller's part, or a known limit): a device a running
 * task already writes (the task engine refuses it), an RDM a VM uses, and a
 * VMFS volume that is not mounted (esxcli lists no extent for it).
 */
#ifndef XCLONE_AGENT_TARGET_SAFETY_H
#define XCLONE_AGENT_TARGET_SAFETY_H

#include <stdint.h>

#include "host_query.h"
#include "xp_error.h"

/*
 * The part of the policy that also guards a detach: TARGET_UNSAFE when a VMFS
 * extent lives on the listed device or it is local; INTERNAL when the record
 * was queried without AG_DEV_EXTENTS (it could not tell). field goes to err.
 */
int ag_device_in_use(const struct ag_device *dev, const char *field, struct xp_error *err);

/* 0, or the code above with a message that starts with the device id. */
int ag_target_policy(const struct ag_device *dev, uint64_t min_bytes, struct xp_error *err);

#endif
