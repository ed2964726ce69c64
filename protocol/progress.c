/* The progress event's data <-> struct xp_progress. */
#include <stddef.h>
#include <string.h>

#include "xp_field.h"
#include "xp_progress.h"
#include "xp_response.h"

static const struct xp_field progress_rows[] = {
	{ .name = "task", .kind = XP_KIND_NAME, .offset = offsetof(struct xp_progress, task),
	  .size = sizeof(((struct xp_progress *)0)->task), .has = XP_NO_FLAG, .min = 1,
	  .max = XP_TASK_ID_MAX },
	{ .name = "state", .kind = XP_KIND_WORD, .offset = offsetof(struct xp_progress, state),
	  .has = XP_NO_FLAG, .words = xp_task_state_names },
	{ .name = "percent", .kind = XP_KIND_INT, .offset = offsetof(struct xp_progress, percent),
	  .has = XP_NO_FLAG, .min = 0, .max = 100 },
	{ .name = "bytes", .kind = XP_KIND_INT, .offset = offsetof(struct xp_progress, bytes),
	  .has = offsetof(struct xp_progress, has_bytes), .min = 0, .max = XP_INT_LIMIT },
};

#define PROGRESS_ROWS (sizeof(progress_rows) / sizeof(progress_rows[0]))
#define PROGRESS_ALL XP_FIELDS_ALL(PROGRESS_ROWS)
/* bytes is optional: the agent sends it only when it knows. */
#define PROGRESS_REQUIRED (PROGRESS_ALL & ~XP_FIELD_BIT(3))

void xp_progress_of_task(const struct xp_task *t, struct xp_progress *p)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->task, t->id, sizeof(p->task));
	p->state = t->state;
	p->percent = t->percent;
	p->has_bytes = t->has_bytes;
	p->bytes = t->bytes;
}

cJSON *xp_progress_to_json(const struct xp_progress *p, struct xp_error *err)
{
	cJSON *json = cJSON_CreateObject();

	if (json == NULL) {
		xp_error_set(err, XP_INTERNAL, "data", "out of memory");
		return NULL;
	}
	if (xp_fields_encode(progress_rows, PROGRESS_ROWS, PROGRESS_ALL, PROGRESS_REQUIRED, p, json,
			     "data", err) != 0) {
		cJSON_Delete(json);
		return NULL;
	}
	return json;
}

char *xp_progress_event(const char *id, const struct xp_progress *p, struct xp_error *err)
{
	cJSON *data = xp_progress_to_json(p, err);

	if (data == NULL)
		return NULL;
	return xp_event(id, XP_EVENT_PROGRESS, data, err);
}

int xp_progress_from_json(const cJSON *data, struct xp_progress *p, const char *path,
			  struct xp_error *err)
{
	memset(p, 0, sizeof(*p));
	return xp_fields_decode(progress_rows, PROGRESS_ROWS, PROGRESS_ALL, PROGRESS_REQUIRED, data,
				p, path, err);
}

bool xp_progress_equal(const struct xp_progress *a, const struct xp_progress *b)
{
	return xp_fields_equal(progress_rows, PROGRESS_ROWS, PROGRESS_ALL, a, b);
}
