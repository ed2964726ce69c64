/*
 * The task engine's state folder (setting state_dir), the one place that knows
 * its layout:
 *
 *   <state>/lock                      flock: creating tasks, counting slots, keys, GC
 *   <state>/tasks/<id>/status.json    the task record (protocol/xp_task.h), one line,
 *                                     replaced by temp file + fsync + rename
 *   <state>/tasks/<id>/lock           flock held exclusively by the task's supervisor
 *                                     for its whole life (taken before it exists)
 *   <state>/tasks/<id>/cancel         present once task.cancel asked for a stop
 *   <state>/keys/<sha-256 of key, hex>  idempotency key -> task id, made with link()
 *
 * Liveness without pids: a record that is not final while nobody holds the
 * task's lock belongs to a supervisor that died (killed, host rebooted); readers
 * report it `lost` and persist that. Readers probe with a shared lock, so they
 * never look alive to each other.
 *
 * Errors are protocol codes (xp_error): TASK_NOT_FOUND, NO_SPACE (ENOSPC, EDQUOT,
 * EFBIG on the state folder), INTERNAL.
 */
#ifndef XCLONE_AGENT_TASK_STORE_H
#define XCLONE_AGENT_TASK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "path_policy.h"
#include "xproto.h"

#define AG_STORE_PATH_MAX (AG_CONFIG_PATH_MAX + 128) /* any file of the state folder */
#define AG_GC_BATCH 16 /* expired tasks cleaned per call, so GC never holds a request long */

struct ag_store {
	const struct ag_config *cfg;
	int lock_fd; /* <state>/lock while ag_store_lock() holds it, else -1 */
};

/* Milliseconds since the epoch (task timestamps). */
int64_t ag_now_ms(void);

/*
 * Binds s to the state folder without touching it: for requests that only read
 * tasks (a missing folder reads as "no such task"), so they create nothing and
 * a session's task.get costs no mkdir calls.
 */
void ag_store_open(struct ag_store *s, const struct ag_config *cfg);

/* The same, creating the folders when missing (clone.start, task.list's GC). No lock is taken. */
int ag_store_create(struct ag_store *s, const struct ag_config *cfg, struct xp_error *err);

/* The store-wide lock (blocking); ag_store_unlock releases it for every holder. */
int ag_store_lock(struct ag_store *s, struct xp_error *err);
void ag_store_unlock(struct ag_store *s);

/* <state>/tasks/<id>[/<name>]; TASK_NOT_FOUND when id is not a valid task id. */
int ag_task_file(const struct ag_store *s, const char *id, const char *name, char *buf,
		 size_t cap, struct xp_error *err);

/*
 * A new task folder with a fresh id ("t-<ms>-<seq>") and its lock, held (the
 * caller hands *lock_fd to the supervisor). Call with the store lock held.
 */
int ag_task_create(const struct ag_store *s, int64_t now_ms, char id[AG_TASK_ID_MAX + 1],
		   int *lock_fd, struct xp_error *err);

/* Removes a folder ag_task_create made when the task could not start. */
void ag_task_discard(const struct ag_store *s, const char *id);

/* Writes status.json atomically; the old record stays whole on any failure. */
int ag_task_write(const struct ag_store *s, const struct xp_task *t, struct xp_error *err);

/* Reads status.json as it is. */
int ag_task_read(const struct ag_store *s, const char *id, struct xp_task *t,
		 struct xp_error *err);

/* ag_task_read, then liveness: a non-final record without supervisor becomes lost. */
int ag_task_load(const struct ag_store *s, const char *id, struct xp_task *t,
		 struct xp_error *err);

/* Whether someone holds the task's lock (its supervisor, or its creator). */
bool ag_task_supervised(const struct ag_store *s, const char *id);

/*
 * Takes the task's lock exclusively without waiting. 1 with *fd (close it to
 * release) when nobody held it; 0 when someone does; -1 when the folder is gone.
 */
int ag_task_claim(const struct ag_store *s, const char *id, int *fd);

/* {"task": record}, the result of every task operation. */
int ag_task_result(const struct xp_task *t, cJSON **result, struct xp_error *err);

/* Marks t lost (state, end time, error code, message). */
void ag_task_mark_lost(struct xp_task *t, int64_t now_ms);

/* task.cancel's request to the supervisor, and the supervisor's check for it. */
int ag_task_request_cancel(const struct ag_store *s, const char *id, struct xp_error *err);
bool ag_task_cancel_requested(const struct ag_store *s, const char *id);

/* --- idempotency keys ------------------------------------------------------ */

/* *found and the task id the key names (a key whose task is gone is not found). */
int ag_key_lookup(const struct ag_store *s, const char *key, char id[AG_TASK_ID_MAX + 1],
		  bool *found, struct xp_error *err);

/* Binds key to id (atomic: link()); call with the store lock held after a lookup. */
int ag_key_bind(const struct ag_store *s, const char *key, const char *id,
		struct xp_error *err);

/* Removes key's entry if it still names id. */
void ag_key_unbind(const struct ag_store *s, const char *key, const char *id);

/* --- all tasks ------------------------------------------------------------- */

struct ag_task_ids {
	char (*id)[AG_TASK_ID_MAX + 1];
	size_t n, cap;
};

/* Every task folder's id, newest first (by the time in the id). */
int ag_store_list(const struct ag_store *s, struct ag_task_ids *ids, struct xp_error *err);
void ag_task_ids_free(struct ag_task_ids *ids);

/*
 * Live tasks (lock held, record not final) for the max_clones bound, and
 * whether one of them writes to device_id (NULL: do not look). Call with the
 * store lock held so the count cannot change before the new task exists.
 */
int ag_store_census(const struct ag_store *s, const char *device_id, unsigned *live,
		    char busy_task[AG_TASK_ID_MAX + 1], struct xp_error *err);

/* --- cleaning -------------------------------------------------------------- */

/* Receives each path a clean removed. */
typedef int (*ag_removed_fn)(void *ctx, const char *path);

/*
 * Removes a task's RDM pointer files: `vmkfstools -U <pointer>` (which removes
 * the descriptor and its -rdm/-rdmp mapping file, never the LUN), and unlinks
 * what is left if that fails. pointer must be <vmfs_root>/volumes/<ds>/.xclone/
 * <id>.vmdk. HOST_COMMAND_FAILED when a file stays.
 */
int ag_task_remove_pointer(const struct ag_config *cfg, const char *pointer, const char *id,
			   ag_removed_fn fn, void *ctx, struct xp_error *err);

/* Pointer files, key entry and folder of a final task (the caller checked). */
int ag_task_clean(struct ag_store *s, const struct xp_task *t, ag_removed_fn fn, void *ctx,
		  struct xp_error *err);

/* Settles lost tasks and cleans final ones older than task_retention_seconds. */
int ag_store_gc(struct ag_store *s, int64_t now_ms, struct xp_error *err);

#endif
