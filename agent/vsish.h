/*
 * vsish, the VMkernel's statistics shell: the one node xclone reads, a
 * device's SCSI statistics, and the one counter it needs from it.
 *
 * THE ASSUMPTION, kept here only: the clone (XCOPY) write counter of a device
 * is the `cloneWriteOps` line of `vsish -e get /storage/scsifw/devices/<id>/stats`
 * ("name:value", decimal, or 0x-hex with -r). Public scripts grep that name
 * (kubev2v/forklift's vmkfstools-wrapper; tests/sim/esxi/esxsim/stats.py cites
 * them); no full real sample of the node with clone counters is published.
 */
#ifndef XCLONE_AGENT_VSISH_H
#define XCLONE_AGENT_VSISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "xp_error.h"

#define AG_VSISH_CLONE_WRITES "cloneWriteOps"
#define AG_VSISH_OUT_MAX (64u * 1024)

/* "/storage/scsifw/devices/<id>/stats"; -1 when it does not fit. */
int ag_vsish_stats_node(const char *id, char *buf, size_t cap);

/*
 * Finds the line "<name>:<value>" (blanks around either allowed) in a stats
 * node's text. 0 with *found false when no line has that name; a name given
 * twice or a value that is not a decimal or 0x-hex 64-bit number is
 * XP_HOST_COMMAND_FAILED.
 */
int ag_vsish_parse_counter(const char *text, size_t len, const char *name, uint64_t *value,
			   bool *found, struct xp_error *err);

/*
 * Runs `vsish -e get <stats node>` and reads the clone write counter. Any
 * failure of vsish (no such node, not installed, timeout, unparsable output)
 * means "cannot tell": 0 with *known false, the reason logged. Only a device
 * id that is not one gives XP_BAD_REQUEST.
 */
int ag_vsish_clone_writes(const struct ag_config *cfg, const char *id, uint64_t *value,
			  bool *known, struct xp_error *err);

#endif
