/*
 * The "progress" event that task.watch sends while a task runs:
 * data {task, state, percent, bytes?}.
 */
#ifndef XP_PROGRESS_H
#define XP_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "xp_error.h"
#include "xp_task.h"

#define XP_EVENT_PROGRESS "progress"

struct xp_progress {
	char task[XP_TASK_ID_MAX + 1];
	enum xp_task_state state;
	int64_t percent;
	bool has_bytes;
	int64_t bytes; /* bytes copied so far, when the agent knows */
};

/* The progress of a task record (copies id, state, percent, bytes). */
void xp_progress_of_task(const struct xp_task *t, struct xp_progress *p);

/* The event's data object (caller owns it), or NULL with err. */
cJSON *xp_progress_to_json(const struct xp_progress *p, struct xp_error *err);

/* A whole event line for request id (malloc'd, no newline), or NULL with err. */
char *xp_progress_event(const char *id, const struct xp_progress *p, struct xp_error *err);

/* Strict decode of an event's data (path names it in errors, e.g. "data"). */
int xp_progress_from_json(const cJSON *data, struct xp_progress *p, const char *path,
			  struct xp_error *err);

bool xp_progress_equal(const struct xp_progress *a, const struct xp_progress *b);

#endif
