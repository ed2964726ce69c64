/* The task record <-> JSON, through one field table. */
#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "xp_field.h"
#include "xp_json.h"
#include "xp_task.h"

static_assert(sizeof(enum xp_task_state) == sizeof(unsigned), "WORD fields are unsigned-sized");

const char *const xp_task_state_names[] = {
	"queued", "running", "succeeded", "failed", "canceled", "lost", NULL,
};

#define T_OFF(m) .offset = offsetof(struct xp_task, m)
#define T_STR(m) T_OFF(m), .size = sizeof(((struct xp_task *)0)->m), .has = XP_NO_FLAG
#define T_HAS(m) .has = offsetof(struct xp_task, has_##m)

static const struct xp_field task_rows[] = {
	{ .name = "id", .kind = XP_KIND_NAME, T_STR(id), .min = 1, .max = XP_TASK_ID_MAX },
	{ .name = "key", .kind = XP_KIND_NAME, T_STR(key), .nullable = true, .min = 1,
	  .max = XP_KEY_MAX },
	{ .name = "state", .kind = XP_KIND_WORD, T_OFF(state), .has = XP_NO_FLAG,
	  .words = xp_task_state_names },
	{ .name = "percent", .kind = XP_KIND_INT, T_OFF(percent), .has = XP_NO_FLAG, .min = 0,
	  .max = 100 },
	{ .name = "source", .kind = XP_KIND_NAME, T_STR(source), .min = 1, .max = XP_SOURCE_MAX },
	{ .name = "target", .kind = XP_KIND_NAME, T_STR(target), .min = 1, .max = XP_TARGET_MAX },
	{ .name = "pointer", .kind = XP_KIND_NAME, T_STR(pointer), .min = 1, .max = XP_PATH_MAX },
	{ .name = "pid", .kind = XP_KIND_INT, T_OFF(pid), T_HAS(pid), .nullable = true, .min = 1,
	  .max = XP_INT_LIMIT },
	{ .name = "created_ms", .kind = XP_KIND_INT, T_OFF(created_ms), .has = XP_NO_FLAG,
	  .min = 0, .max = XP_INT_LIMIT },
	{ .name = "started_ms", .kind = XP_KIND_INT, T_OFF(started_ms), T_HAS(started_ms),
	  .nullable = true, .min = 0, .max = XP_INT_LIMIT },
	{ .name = "ended_ms", .kind = XP_KIND_INT, T_OFF(ended_ms), T_HAS(ended_ms),
	  .nullable = true, .min = 0, .max = XP_INT_LIMIT },
	{ .name = "exit_code", .kind = XP_KIND_INT, T_OFF(exit_code), T_HAS(exit_code),
	  .nullable = true, .min = 0, .max = 255 },
	{ .name = "signal", .kind = XP_KIND_INT, T_OFF(signal), T_HAS(signal), .nullable = true,
	  .min = 1, .max = 255 },
	{ .name = "xcopy_used", .kind = XP_KIND_BOOL, T_OFF(xcopy_used), T_HAS(xcopy_used),
	  .nullable = true },
	{ .name = "bytes", .kind = XP_KIND_INT, T_OFF(bytes), T_HAS(bytes), .nullable = true,
	  .min = 0, .max = XP_INT_LIMIT },
	{ .name = "message", .kind = XP_KIND_TEXT, T_STR(message), .nullable = true, .min = 0,
	  .max = XP_MESSAGE_MAX },
	{ .name = "error_code", .kind = XP_KIND_CODE, T_OFF(error_code), T_HAS(error_code),
	  .nullable = true },
	{ .name = "stderr_tail", .kind = XP_KIND_TEXT, T_STR(stderr_tail), .nullable = true,
	  .min = 0, .max = XP_STDERR_TAIL_MAX },
};

#define TASK_ROWS (sizeof(task_rows) / sizeof(task_rows[0]))
#define TASK_ALL XP_FIELDS_ALL(TASK_ROWS)

const char *xp_task_state_name(enum xp_task_state state)
{
	return (unsigned)state < XP_TASK_STATE_COUNT ? xp_task_state_names[state] : NULL;
}

int xp_task_state_from_name(const char *name, enum xp_task_state *out)
{
	for (unsigned i = 0; i < XP_TASK_STATE_COUNT && name != NULL; i++) {
		if (strcmp(xp_task_state_names[i], name) == 0) {
			*out = (enum xp_task_state)i;
			return 0;
		}
	}
	return -1;
}

bool xp_task_state_final(enum xp_task_state state)
{
	return state == XP_TASK_SUCCEEDED || state == XP_TASK_FAILED ||
	       state == XP_TASK_CANCELED || state == XP_TASK_LOST;
}

void xp_task_init(struct xp_task *t)
{
	memset(t, 0, sizeof(*t));
	t->state = XP_TASK_QUEUED;
}

cJSON *xp_task_to_json(const struct xp_task *t, struct xp_error *err)
{
	cJSON *json = cJSON_CreateObject();

	if (json == NULL) {
		xp_error_set(err, XP_INTERNAL, "task", "out of memory");
		return NULL;
	}
	if (xp_fields_encode(task_rows, TASK_ROWS, TASK_ALL, TASK_ALL, t, json, "", err) != 0) {
		cJSON_Delete(json);
		return NULL;
	}
	return json;
}

char *xp_task_encode(const struct xp_task *t, struct xp_error *err)
{
	cJSON *json = xp_task_to_json(t, err);
	char *line;

	if (json == NULL)
		return NULL;
	line = xp_json_print_line(json, XP_BAD_REQUEST, err);
	cJSON_Delete(json);
	return line;
}

int xp_task_from_json(const cJSON *json, struct xp_task *t, const char *path,
		      struct xp_error *err)
{
	xp_task_init(t);
	return xp_fields_decode(task_rows, TASK_ROWS, TASK_ALL, TASK_ALL, json, t, path, err);
}

int xp_task_decode(const char *text, size_t len, struct xp_task *t, struct xp_error *err)
{
	cJSON *json;
	int rc;

	xp_task_init(t);
	if ((rc = xp_json_parse(text, len, &json, err)) != 0)
		return rc;
	rc = xp_task_from_json(json, t, "", err);
	cJSON_Delete(json);
	return rc;
}

bool xp_task_equal(const struct xp_task *a, const struct xp_task *b)
{
	return xp_fields_equal(task_rows, TASK_ROWS, TASK_ALL, a, b);
}
