/*
 * The task record: what the agent writes as status.json and what task.* results
 * carry (PROTOCOL.md, "TASK"). Fixed-size fields; strict decode.
 */
#ifndef XP_TASK_H
#define XP_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "xp_codes.h"
#include "xp_error.h"
#include "xp_limits.h"

enum xp_task_state {
	XP_TASK_QUEUED,
	XP_TASK_RUNNING,
	XP_TASK_SUCCEEDED,
	XP_TASK_FAILED,
	XP_TASK_CANCELED,
	XP_TASK_LOST,
	XP_TASK_STATE_COUNT
};

/*
 * Nullable values: strings use "" for null; other kinds have a has_ flag that is
 * false for null.
 */
struct xp_task {
	char id[XP_TASK_ID_MAX + 1];
	char key[XP_KEY_MAX + 1]; /* idempotency key, "" = null */
	enum xp_task_state state;
	int64_t percent; /* 0..100 */
	char source[XP_SOURCE_MAX + 1];
	char target[XP_TARGET_MAX + 1];
	char pointer[XP_PATH_MAX + 1]; /* the RDM pointer file vmkfstools writes */
	bool has_pid;
	int64_t pid;
	int64_t created_ms; /* Unix time in milliseconds */
	bool has_started_ms;
	int64_t started_ms;
	bool has_ended_ms;
	int64_t ended_ms;
	bool has_exit_code;
	int64_t exit_code;
	bool has_signal;
	int64_t signal;
	bool has_xcopy_used;
	bool xcopy_used;
	bool has_bytes;
	int64_t bytes;
	char message[XP_MESSAGE_MAX + 1]; /* "" = null */
	bool has_error_code;
	enum xp_code error_code;
	char stderr_tail[XP_STDERR_TAIL_MAX + 1]; /* "" = null */
};

/* "queued"...; NULL outside the enum. */
const char *xp_task_state_name(enum xp_task_state state);
int xp_task_state_from_name(const char *name, enum xp_task_state *out);
/* succeeded, failed, canceled and lost never change again. */
bool xp_task_state_final(enum xp_task_state state);
/* The state names indexed by enum value, NULL-terminated (read-only table). */
extern const char *const xp_task_state_names[];

/* All fields null/empty, state queued. */
void xp_task_init(struct xp_task *t);

/* The record as a JSON object (caller owns it), or NULL with err. */
cJSON *xp_task_to_json(const struct xp_task *t, struct xp_error *err);

/* The record as one line of JSON without newline (status.json), malloc'd; free(). */
char *xp_task_encode(const struct xp_task *t, struct xp_error *err);

/* Strict: every field present (null where allowed), right types and limits. */
int xp_task_from_json(const cJSON *json, struct xp_task *t, const char *path,
		      struct xp_error *err);

/* Parses text (e.g. status.json, a trailing newline is fine) with every strict JSON rule. */
int xp_task_decode(const char *text, size_t len, struct xp_task *t, struct xp_error *err);

bool xp_task_equal(const struct xp_task *a, const struct xp_task *b);

#endif
