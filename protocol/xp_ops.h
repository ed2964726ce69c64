/*
 * The operations of protocol v1: one table (ops.c) with each op's wire name, the
 * arguments it requires and accepts, whether it changes the host (the agent's
 * permission check reads this flag), whether it streams events, and the shape of
 * its result.
 */
#ifndef XP_OPS_H
#define XP_OPS_H

#include <stdbool.h>
#include <stdint.h>

enum xp_op {
	XP_OP_HELLO,
	XP_OP_HOST_INFO,
	XP_OP_STORAGE_RESCAN,
	XP_OP_DEVICE_GET,
	XP_OP_DEVICE_WAIT,
	XP_OP_DEVICE_DETACH,
	XP_OP_PREFLIGHT,
	XP_OP_CLONE_START,
	XP_OP_TASK_GET,
	XP_OP_TASK_WATCH,
	XP_OP_TASK_CANCEL,
	XP_OP_TASK_CLEAN,
	XP_OP_TASK_LIST,
	XP_OP_COUNT
};

struct xp_shape;

struct xp_op_info {
	const char *name;
	enum xp_op op;
	bool mutates;                  /* changes host or task state: refused in read-only mode */
	bool streams;                  /* may send events before its final response */
	uint32_t required;             /* XP_ARG_BIT() of the arguments that must be present */
	uint32_t optional;             /* ... and of those that may be */
	const struct xp_shape *result; /* what its result object holds */
};

/* The row of op, or NULL outside the enum. */
const struct xp_op_info *xp_op_info(enum xp_op op);

/* "clone.start"...; NULL outside the enum. */
const char *xp_op_name(enum xp_op op);

/* 0 and *out when name is an operation (case-sensitive), otherwise -1. */
int xp_op_from_name(const char *name, enum xp_op *out);

bool xp_op_mutates(enum xp_op op);

#endif
