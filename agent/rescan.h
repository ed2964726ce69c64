/*
 * Storage adapter rescans, serialized host-wide and coalesced.
 *
 * A rescan is slow (seconds on real hosts) and a whole-host operation, and
 * several populators may ask for one at once. All agent processes on the host
 * share two files in the state folder:
 *   rescan.lock   flock()ed for as long as a rescan runs (the lock dies with
 *                 its holder, so a killed agent never blocks the others)
 *   rescan.state  "started N" (the generation of the newest rescan that began)
 *                 and one "done GEN SCOPE TYPE" line per scope: the newest
 *                 generation that finished for that scope, written by temp
 *                 file + rename under the lock, read without it.
 * A caller notes the started generation A when it arrives, then takes the
 * lock. If meanwhile a rescan with generation > A finished whose scope covers
 * its own, that rescan began after the caller arrived and saw everything the
 * caller could want: it returns without rescanning. Otherwise it bumps
 * started, runs esxcli, records done. So N callers arriving during one rescan
 * cause one more rescan, not N.
 *
 * Scope: an adapter name or "*" (--all), and a type; "*" covers every adapter
 * and type all covers add and delete.
 */
#ifndef XCLONE_AGENT_RESCAN_H
#define XCLONE_AGENT_RESCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "xp_args.h"
#include "xp_error.h"

#define AG_RESCAN_SCOPES_MAX 16  /* "done" lines kept in rescan.state */

/* Monotonic milliseconds (for deadlines and waited_ms). */
int64_t ag_rescan_now_ms(void);

/*
 * Rescans adapter (NULL: all adapters) for type, or coalesces with a rescan
 * that covered it. deadline_ms (monotonic) bounds the wait for the lock and
 * the rescan itself; 0 means rescan_timeout_s from now. *ran is 1 when this
 * call ran esxcli, 0 when it coalesced. Errors: TIMEOUT, HOST_COMMAND_FAILED,
 * INTERNAL (state folder unusable).
 */
int ag_rescan(const struct ag_config *cfg, const char *adapter, enum xp_rescan_type type,
	      int64_t deadline_ms, int *ran, struct xp_error *err);

/*
 * The rescan.state format, exposed for tests: parse (strict; -1 on anything
 * unexpected) and whether a finished rescan newer than since covers a scope.
 */
struct ag_rescan_done {
	uint64_t gen;
	char scope[33];              /* adapter name or "*" */
	enum xp_rescan_type type;
};

struct ag_rescan_state {
	uint64_t started;
	size_t ndone;
	struct ag_rescan_done done[AG_RESCAN_SCOPES_MAX];
};

int ag_rescan_state_parse(const char *text, size_t len, struct ag_rescan_state *st);
bool ag_rescan_covered(const struct ag_rescan_state *st, uint64_t since, const char *adapter,
		       enum xp_rescan_type type);
/* Records a finished rescan, replacing the entry of the same scope or the oldest. */
void ag_rescan_state_record(struct ag_rescan_state *st, uint64_t gen, const char *adapter,
			    enum xp_rescan_type type);

#endif
