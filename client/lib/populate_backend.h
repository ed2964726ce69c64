/*
 * What the populate engine needs from the world: the agent's operations
 * (xclone.h) and the array layer's (array.h), behind one table so that the
 * engine's state machine can be tested against an in-memory stand-in
 * (tests/unit/test_populate_engine.c). populate_backend.c is the real one.
 *
 * Contract for every backend:
 * - calls have the signatures and error conventions of the functions they
 *   stand for (xclone_* and xc_array_*), including idempotency: map, unmap,
 *   restore, detach, task.clean of a cleaned task (TASK_NOT_FOUND) may repeat;
 * - agent calls may run from many threads at once; array calls are serialized
 *   by the backend (an array session serves one thread at a time);
 * - open_agent / open_array are called at most once each, before the calls of
 *   that half; close releases whatever was opened.
 */
#ifndef XCLONE_POPULATE_BACKEND_H
#define XCLONE_POPULATE_BACKEND_H

#include "array.h"
#include "xclone.h"
#include "xclone_populate.h"

struct pop_backend {
	void *ctx;

	int (*open_agent)(void *ctx, struct xclone_error *err);
	int (*open_array)(void *ctx, struct xclone_error *err);
	/* Starts opening connections in the background so that `calls` calls can run at once
	 * when the disks get there (a hint: may be NULL, failures show up in later calls). */
	void (*warm_up)(void *ctx, unsigned calls);
	void (*close)(void *ctx);

	/* the agent */
	int (*hello)(void *ctx, struct xclone_hello **out, struct xclone_error *err);
	int (*host_info)(void *ctx, struct xclone_host_info **out, struct xclone_error *err);
	int (*rescan)(void *ctx, const char *adapter, const char *type, struct xclone_rescan *out,
		      struct xclone_error *err);
	int (*device_get)(void *ctx, const char *device, struct xclone_device **out,
			  struct xclone_error *err);
	int (*device_wait)(void *ctx, const char *device, int64_t timeout_ms,
			   struct xclone_device **out, struct xclone_rescan *stats,
			   struct xclone_error *err);
	int (*device_detach)(void *ctx, const char *device, bool *detached,
			     struct xclone_error *err);
	int (*preflight)(void *ctx, const char *source, const char *target,
			 struct xclone_preflight **out, struct xclone_error *err);
	int (*clone_start)(void *ctx, const char *source, const char *target, const char *key,
			   struct xclone_task **out, bool *created, struct xclone_error *err);
	int (*task_get)(void *ctx, const char *task, struct xclone_task **out,
			struct xclone_error *err);
	int (*task_watch)(void *ctx, const char *task, xclone_watch_fn cb, void *userdata,
			  struct xclone_task **out, struct xclone_error *err);
	int (*task_cancel)(void *ctx, const char *task, struct xclone_task **out,
			   struct xclone_error *err);
	int (*task_clean)(void *ctx, const char *task, struct xclone_error *err);
	int (*task_list)(void *ctx, struct xclone_task_list **out, struct xclone_error *err);

	/* the array */
	int (*array_resolve)(void *ctx, const struct xc_pv *pv, struct xc_lun *out,
			     struct xclone_error *err);
	int (*array_hosts)(void *ctx, struct xc_host_list *out, struct xclone_error *err);
	int (*array_ensure_host)(void *ctx, const struct xc_host_request *req,
				 struct xc_host_group *out, struct xclone_error *err);
	int (*array_mappings)(void *ctx, const struct xc_lun *lun, struct xc_mapping_list *out,
			      struct xclone_error *err);
	int (*array_map)(void *ctx, const struct xc_lun *lun, const struct xc_mapping *target,
			 struct xc_mapping *result, struct xclone_error *err);
	int (*array_unmap)(void *ctx, const struct xc_lun *lun, const struct xc_mapping *target,
			   struct xclone_error *err);
	int (*array_restore)(void *ctx, const struct xc_lun *lun,
			     const struct xc_mapping_list *saved, struct xclone_error *err);
	/*
	 * Removes a host object we created: 0 when gone, XC_E_CONFLICT while a volume
	 * is still mapped to it (left in place). Required: a backend whose array
	 * creates nothing (PowerFlex) answers through the driver, not with NULL.
	 */
	int (*array_remove_host)(void *ctx, const struct xc_host_group *group,
				 struct xclone_error *err);
};

/* The real backend: libxclone's agent connection and the array layer. */
int pop_backend_real(const struct xclone_populate_options *opt, struct pop_backend *out,
		     struct xclone_error *err);

#endif
