/*
 * Request arguments: every argument any operation takes, in one struct with a
 * presence flag each. Which op takes which is in the operation table (ops.c).
 */
#ifndef XP_ARGS_H
#define XP_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "xp_error.h"
#include "xp_field.h"
#include "xp_limits.h"

enum xp_arg {
	XP_ARG_CLIENT,     /* hello: the client's name and version, free form */
	XP_ARG_ADAPTER,    /* storage.rescan: "vmhba64" */
	XP_ARG_TYPE,       /* storage.rescan: all | add | delete */
	XP_ARG_DEVICE,     /* device.*: "naa.600..." */
	XP_ARG_TIMEOUT_MS, /* device.wait */
	XP_ARG_SOURCE,     /* preflight, clone.start: "[ds] dir/disk.vmdk" or a /vmfs path */
	XP_ARG_TARGET,     /* preflight, clone.start: "/vmfs/devices/disks/naa.600..." */
	XP_ARG_KEY,        /* clone.start: idempotency key */
	XP_ARG_TASK,       /* task.*: task id */
	XP_ARG_COUNT
};

#define XP_ARG_BIT(a) XP_FIELD_BIT(a)

enum xp_rescan_type { XP_RESCAN_ALL, XP_RESCAN_ADD, XP_RESCAN_DELETE, XP_RESCAN_TYPE_COUNT };

struct xp_args {
	bool has[XP_ARG_COUNT];
	char client[XP_CLIENT_MAX + 1];
	char adapter[XP_ADAPTER_MAX + 1];
	enum xp_rescan_type type;
	char device[XP_DEVICE_MAX + 1];
	int64_t timeout_ms; /* XP_TIMEOUT_MS_DEFAULT when absent */
	char source[XP_SOURCE_MAX + 1];
	char target[XP_TARGET_MAX + 1];
	char key[XP_KEY_MAX + 1];
	char task[XP_TASK_ID_MAX + 1];
};

/* The XP_ARG_COUNT rows describing struct xp_args, indexed by enum xp_arg. */
const struct xp_field *xp_arg_fields(void);

/* "source"...; NULL outside the enum. */
const char *xp_arg_name(enum xp_arg arg);

/* Copies a string argument (NAME rules: UTF-8, no control characters, length) and marks it present. */
int xp_args_set_string(struct xp_args *args, enum xp_arg arg, const char *value,
		       struct xp_error *err);

/* Sets an integer argument (range-checked) and marks it present. */
int xp_args_set_int(struct xp_args *args, enum xp_arg arg, int64_t value, struct xp_error *err);

/* Sets storage.rescan's type and marks it present. */
int xp_args_set_type(struct xp_args *args, enum xp_rescan_type type, struct xp_error *err);

const char *xp_rescan_type_name(enum xp_rescan_type type);
int xp_rescan_type_from_name(const char *name, enum xp_rescan_type *out);

#endif
