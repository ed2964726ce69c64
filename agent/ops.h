/*
 * The agent's operation handlers (signature: ag_op_fn in dispatch.h), one file
 * per family: op_hello.c, op_host.c, op_rescan.c, op_device.c, op_preflight.c,
 * op_clone.c, op_task.c. dispatch.c maps operations to them in one table.
 */
#ifndef XCLONE_AGENT_OPS_H
#define XCLONE_AGENT_OPS_H

#include "dispatch.h"

#define AG_OP(name) int name(struct ag_ctx *ctx, const struct xp_request *req, cJSON **result, \
			     struct xp_error *err)

AG_OP(op_hello);
AG_OP(op_host_info);
AG_OP(op_storage_rescan);
AG_OP(op_device_get);
AG_OP(op_device_wait);
AG_OP(op_device_detach);
AG_OP(op_preflight);
AG_OP(op_clone_start);
AG_OP(op_task_get);
AG_OP(op_task_watch);
AG_OP(op_task_cancel);
AG_OP(op_task_clean);
AG_OP(op_task_list);

#endif
