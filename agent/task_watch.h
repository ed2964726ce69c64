/*
 * task.watch as a small state machine that never blocks: ag_watch_start, then
 * ag_watch_step every AG_WATCH_PERIOD_MS or sooner, until it reports DONE. The
 * SSH/local handler loops over it with a short sleep; a future single-process
 * poll() server can drive many watches from one loop.
 *
 * Each step looks at status.json's identity (inode, size, mtime) and re-reads
 * the record only when it changed: no inotify on ESXi. Every write is a rename
 * and the supervisor writes at most every 100 ms, more than a clock tick, so
 * no two writes look alike. A record that is not final is also checked for
 * liveness, so a watch on a task whose supervisor died ends with `lost`.
 */
#ifndef XCLONE_AGENT_TASK_WATCH_H
#define XCLONE_AGENT_TASK_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "task_store.h"

#define AG_WATCH_PERIOD_MS 50 /* longest pause between two steps */

enum ag_watch_status {
	AG_WATCH_MORE, /* not final yet: step again later */
	AG_WATCH_DONE, /* final: w->task is the record to answer with */
};

struct ag_watch {
	char id[AG_TASK_ID_MAX + 1];
	struct xp_task task;     /* the record as last read */
	bool seen;               /* status.json was read at least once */
	ino_t ino;               /* identity of the status.json last read */
	off_t size;
	int64_t mtime_ns;
	bool sent;               /* a progress event went out */
	struct xp_progress last; /* the last one */
};

/* Reads the task once; TASK_NOT_FOUND when it does not exist. */
int ag_watch_start(struct ag_watch *w, const struct ag_store *s, const char *id,
		   struct xp_error *err);

/*
 * One step. *status says whether to continue; *has_event with *ev when a
 * progress event is due (on the first step of a task that is not final, and on
 * every change of state, percent or bytes, the change to a final state
 * included). A task cleaned while watched is TASK_NOT_FOUND.
 */
int ag_watch_step(struct ag_watch *w, const struct ag_store *s, enum ag_watch_status *status,
		  bool *has_event, struct xp_progress *ev, struct xp_error *err);

#endif
