/*
 * Shapes of result and event objects, as data: which members, of which JSON
 * type, which may be null or absent, which words a string may hold. Checking a
 * result against its op's shape is how both halves hold each other to
 * PROTOCOL.md. Members not in a shape are ignored (forward compatibility).
 */
#ifndef XP_SCHEMA_H
#define XP_SCHEMA_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "xp_error.h"
#include "xp_ops.h"

enum xp_jtype {
	XP_JT_STRING,
	XP_JT_INT,    /* integral number within +-XP_INT_LIMIT */
	XP_JT_BOOL,
	XP_JT_OBJECT, /* checked against `shape` */
	XP_JT_ARRAY,  /* every element of type `item` (and `shape` for objects) */
	XP_JT_TASK,   /* a task record, checked by xp_task_from_json */
	XP_JT_CODE,   /* an error code name from the closed list */
};

#define XP_MEMBER_OPTIONAL 1u /* may be absent */
#define XP_MEMBER_NULLABLE 2u /* may be null */

struct xp_member {
	const char *name;
	enum xp_jtype type;
	unsigned flags;
	enum xp_jtype item;        /* ARRAY: element type */
	const struct xp_shape *shape;
	const char *const *words;  /* STRING: allowed values (NULL-terminated), NULL: any */
};

struct xp_shape {
	const struct xp_member *members;
	size_t count;
};

/* Checks that value is an object of this shape; errors name path.member. */
int xp_shape_check(const struct xp_shape *shape, const cJSON *value, const char *path,
		   struct xp_error *err);

/* Checks a result object against the shape of op's result (path "result"). */
int xp_result_check(enum xp_op op, const cJSON *result, struct xp_error *err);

/* Checks an event's data (path "data"); events this side does not know pass. */
int xp_event_check(const char *event, const cJSON *data, struct xp_error *err);

/* The result shapes, referenced by the operation table. */
extern const struct xp_shape xp_result_hello, xp_result_host_info, xp_result_storage_rescan,
	xp_result_device_get, xp_result_device_wait, xp_result_device_detach, xp_result_preflight,
	xp_result_clone_start, xp_result_task, xp_result_task_clean, xp_result_task_list;

#endif
