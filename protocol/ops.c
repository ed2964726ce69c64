/* The operation table: the single list of what the protocol can be asked to do. */
#include <string.h>

#include "xp_args.h"
#include "xp_ops.h"
#include "xp_schema.h"

#define A(x) XP_ARG_BIT(XP_ARG_##x)

static const struct xp_op_info ops[XP_OP_COUNT] = {
	/* name              op                    mutates streams required            optional                 result */
	{ "hello",          XP_OP_HELLO,          false, false, 0,                   A(CLIENT),               &xp_result_hello },
	{ "host.info",      XP_OP_HOST_INFO,      false, false, 0,                   0,                       &xp_result_host_info },
	{ "storage.rescan", XP_OP_STORAGE_RESCAN, true,  false, 0,                   A(ADAPTER) | A(TYPE),    &xp_result_storage_rescan },
	{ "device.get",     XP_OP_DEVICE_GET,     false, false, A(DEVICE),           0,                       &xp_result_device_get },
	{ "device.wait",    XP_OP_DEVICE_WAIT,    true,  false, A(DEVICE),           A(TIMEOUT_MS),           &xp_result_device_wait },
	{ "device.detach",  XP_OP_DEVICE_DETACH,  true,  false, A(DEVICE),           0,                       &xp_result_device_detach },
	{ "preflight",      XP_OP_PREFLIGHT,      false, false, A(SOURCE) | A(TARGET), 0,                     &xp_result_preflight },
	{ "clone.start",    XP_OP_CLONE_START,    true,  false, A(SOURCE) | A(TARGET), A(KEY),                &xp_result_clone_start },
	{ "task.get",       XP_OP_TASK_GET,       false, false, A(TASK),             0,                       &xp_result_task },
	{ "task.watch",     XP_OP_TASK_WATCH,     false, true,  A(TASK),             0,                       &xp_result_task },
	{ "task.cancel",    XP_OP_TASK_CANCEL,    true,  false, A(TASK),             0,                       &xp_result_task },
	{ "task.clean",     XP_OP_TASK_CLEAN,     true,  false, A(TASK),             0,                       &xp_result_task_clean },
	{ "task.list",      XP_OP_TASK_LIST,      false, false, 0,                   0,                       &xp_result_task_list },
};

const struct xp_op_info *xp_op_info(enum xp_op op)
{
	return (unsigned)op < XP_OP_COUNT ? &ops[op] : NULL;
}

const char *xp_op_name(enum xp_op op)
{
	return (unsigned)op < XP_OP_COUNT ? ops[op].name : NULL;
}

int xp_op_from_name(const char *name, enum xp_op *out)
{
	for (unsigned i = 0; i < XP_OP_COUNT && name != NULL; i++) {
		if (strcmp(ops[i].name, name) == 0) {
			*out = ops[i].op;
			return 0;
		}
	}
	return -1;
}

bool xp_op_mutates(enum xp_op op)
{
	/* Unknown ops count as mutating: a permission check must fail closed. */
	return (unsigned)op < XP_OP_COUNT ? ops[op].mutates : true;
}
