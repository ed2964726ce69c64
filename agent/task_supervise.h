/*
 * The clone supervisor: one detached process per task (ag_daemonize: double
 * fork, setsid, fds closed) that runs
 *     vmkfstools -i <source> -d rdm:<device path> <pointer>
 * with an argv array in its own process group, and is the only writer of the
 * task's status.json while it lives. It holds the task's lock (task_store.h)
 * from before it exists until it exits, which is how readers tell it is alive.
 *
 * While vmkfstools runs, a second thread (the ticker) writes the record at most
 * every 100 ms, and within 100 ms of a change (percent, state, stderr), since
 * vmkfstools may print nothing for minutes after a change; it also checks for
 * task.cancel's request every 50 ms and forwards it: SIGTERM to the process
 * group, SIGKILL after cancel_grace_seconds. Pointer files of a canceled clone
 * are removed (vmkfstools -U, else unlink; never the LUN). The final record
 * adds the end time, exit code or signal, the stderr tail, vmkfstools' failure
 * line, and xcopy_used from the target's clone-write counter before and after.
 *
 * Footprint: no cJSON tree outlives one write, the progress parser is a fixed
 * struct, output capture is bounded (XP_STDERR_TAIL_MAX).
 */
#ifndef XCLONE_AGENT_TASK_SUPERVISE_H
#define XCLONE_AGENT_TASK_SUPERVISE_H

#include <stdint.h>
#include <sys/types.h>

#include "path_policy.h"
#include "task_store.h"

#define AG_SUPERVISE_WRITE_MS 100 /* least time between two status writes */
#define AG_SUPERVISE_TICK_MS 50   /* cancel request and throttle check period */

/* Everything the supervisor needs, decided and checked by clone.start. */
struct ag_clone_plan {
	char task_id[AG_TASK_ID_MAX + 1];
	char source[AG_PATH_MAX];     /* canonical descriptor path (vmkfstools -i) */
	char device_id[AG_DEVICE_ID_MAX + 1];
	char device_path[AG_PATH_MAX];/* <vmfs_root>/devices/disks/<id> (-d rdm:) */
	char pointer[AG_PATH_MAX];    /* <vmfs_root>/volumes/<ds uuid>/.xclone/<id>.vmdk */
	uint64_t size_bytes;          /* source capacity: the bytes a success copied */
};

/*
 * Starts the supervisor of plan, detached. lock_fd is the task's lock, held by
 * the caller (ag_task_create): the supervisor inherits it, so the task is never
 * without a holder; the caller closes its own copy afterwards. *pid gets the
 * supervisor's pid. The task's record (queued) must already be written.
 */
int ag_supervise_start(const struct ag_store *s, const struct ag_clone_plan *plan, int lock_fd,
		       pid_t *pid, struct xp_error *err);

/*
 * The supervisor's work, in the calling process: runs the clone to its end and
 * writes the final record. Returns 0 when the final record was written.
 * (ag_supervise_start runs this in the detached process; tests call it directly.)
 */
int ag_supervise_run(const struct ag_store *s, const struct ag_clone_plan *plan);

#endif
