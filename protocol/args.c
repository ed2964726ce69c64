/* The argument table: every request argument's wire name, kind and limits. */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "xp_args.h"
#include "xp_path.h"

static_assert(sizeof(enum xp_rescan_type) == sizeof(unsigned), "WORD fields are unsigned-sized");
static_assert(XP_ARG_COUNT <= 32, "argument masks are 32 bits");

static const char *const rescan_types[] = { "all", "add", "delete", NULL };

#define ARG_STRING(e, nm, member, maxlen)                                                  \
	[e] = { .name = nm, .kind = XP_KIND_NAME, .offset = offsetof(struct xp_args, member), \
		.size = sizeof(((struct xp_args *)0)->member),                                 \
		.has = offsetof(struct xp_args, has[e]), .min = 1, .max = maxlen }

static const struct xp_field arg_rows[XP_ARG_COUNT] = {
	ARG_STRING(XP_ARG_CLIENT, "client", client, XP_CLIENT_MAX),
	ARG_STRING(XP_ARG_ADAPTER, "adapter", adapter, XP_ADAPTER_MAX),
	[XP_ARG_TYPE] = { .name = "type", .kind = XP_KIND_WORD,
			  .offset = offsetof(struct xp_args, type),
			  .has = offsetof(struct xp_args, has[XP_ARG_TYPE]),
			  .dflt = XP_RESCAN_ALL, .words = rescan_types },
	ARG_STRING(XP_ARG_DEVICE, "device", device, XP_DEVICE_MAX),
	[XP_ARG_TIMEOUT_MS] = { .name = "timeout_ms", .kind = XP_KIND_INT,
				.offset = offsetof(struct xp_args, timeout_ms),
				.has = offsetof(struct xp_args, has[XP_ARG_TIMEOUT_MS]),
				.min = 0, .max = XP_TIMEOUT_MS_MAX, .dflt = XP_TIMEOUT_MS_DEFAULT },
	ARG_STRING(XP_ARG_SOURCE, "source", source, XP_SOURCE_MAX),
	ARG_STRING(XP_ARG_TARGET, "target", target, XP_TARGET_MAX),
	ARG_STRING(XP_ARG_KEY, "key", key, XP_KEY_MAX),
	ARG_STRING(XP_ARG_TASK, "task", task, XP_TASK_ID_MAX),
};

const struct xp_field *xp_arg_fields(void)
{
	return arg_rows;
}

const char *xp_arg_name(enum xp_arg arg)
{
	return (unsigned)arg < XP_ARG_COUNT ? arg_rows[arg].name : NULL;
}

/* The row of arg and its path "args.<name>"; NULL outside the enum. */
static const struct xp_field *arg_row(enum xp_arg arg, char path[XP_PATH_BUF])
{
	if ((unsigned)arg >= XP_ARG_COUNT) {
		xp_path_join(path, XP_PATH_BUF, "args", "?");
		return NULL;
	}
	xp_path_join(path, XP_PATH_BUF, "args", arg_rows[arg].name);
	return &arg_rows[arg];
}

int xp_args_set_string(struct xp_args *args, enum xp_arg arg, const char *value,
		       struct xp_error *err)
{
	char path[XP_PATH_BUF];
	const struct xp_field *row = arg_row(arg, path);

	if (row == NULL || row->kind != XP_KIND_NAME)
		return xp_error_set(err, XP_BAD_REQUEST, path, "not a string argument");
	return xp_field_set_string(row, args, value, path, err);
}

int xp_args_set_int(struct xp_args *args, enum xp_arg arg, int64_t value, struct xp_error *err)
{
	char path[XP_PATH_BUF];
	const struct xp_field *row = arg_row(arg, path);

	if (row == NULL || row->kind != XP_KIND_INT)
		return xp_error_set(err, XP_BAD_REQUEST, path, "not an integer argument");
	return xp_field_set_int(row, args, value, path, err);
}

int xp_args_set_type(struct xp_args *args, enum xp_rescan_type type, struct xp_error *err)
{
	char path[XP_PATH_BUF];

	return xp_field_set_word(arg_row(XP_ARG_TYPE, path), args, (unsigned)type, path, err);
}

const char *xp_rescan_type_name(enum xp_rescan_type type)
{
	return (unsigned)type < XP_RESCAN_TYPE_COUNT ? rescan_types[type] : NULL;
}

int xp_rescan_type_from_name(const char *name, enum xp_rescan_type *out)
{
	for (unsigned i = 0; i < XP_RESCAN_TYPE_COUNT && name != NULL; i++) {
		if (strcmp(rescan_types[i], name) == 0) {
			*out = (enum xp_rescan_type)i;
			return 0;
		}
	}
	return -1;
}
