/* Task records as typed results (see results.h). */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "results.h"
#include "xp_task.h"

/* The public enum follows the protocol's order. */
_Static_assert((int)XCLONE_TASK_LOST == (int)XP_TASK_LOST, "task states differ");

const char *xclone_task_state_name(enum xclone_task_state s)
{
	return xp_task_state_name((enum xp_task_state)s);
}

bool xclone_task_state_final(enum xclone_task_state s)
{
	return xp_task_state_final((enum xp_task_state)s);
}

static char *copy_or_null(struct xc_build *b, const char *s)
{
	char *d;

	if (s[0] == '\0')
		return NULL; /* the codec keeps null strings as "" */
	d = xc_arena_strdup(b->root, s);
	if (d == NULL)
		b->failed = true;
	return d;
}

static char *copy(struct xc_build *b, const char *s)
{
	char *d = xc_arena_strdup(b->root, s);

	if (d == NULL)
		b->failed = true;
	return d;
}

static void fill(struct xc_build *b, const struct xp_task *x, struct xclone_task *t)
{
	t->id = copy(b, x->id);
	t->key = copy_or_null(b, x->key);
	t->state = (enum xclone_task_state)x->state;
	t->percent = (int)x->percent;
	t->source = copy(b, x->source);
	t->target = copy(b, x->target);
	t->pointer = copy(b, x->pointer);
	t->has_pid = x->has_pid;
	t->pid = x->pid;
	t->created_ms = x->created_ms;
	t->has_started_ms = x->has_started_ms;
	t->started_ms = x->started_ms;
	t->has_ended_ms = x->has_ended_ms;
	t->ended_ms = x->ended_ms;
	t->has_exit_code = x->has_exit_code;
	t->exit_code = (int)x->exit_code;
	t->has_signal = x->has_signal;
	t->signal = (int)x->signal;
	t->xcopy_used = x->has_xcopy_used ? (x->xcopy_used ? 1 : 0) : -1;
	t->has_bytes = x->has_bytes;
	t->bytes = x->bytes;
	t->message = copy_or_null(b, x->message);
	t->error_code = x->has_error_code ? copy(b, xp_code_name(x->error_code)) : NULL;
	t->stderr_tail = copy_or_null(b, x->stderr_tail);
}

int xc_task_fill(struct xc_build *b, const cJSON *json, struct xclone_task *t,
		 struct xclone_error *err)
{
	struct xp_task *x = malloc(sizeof(*x)); /* about 7 KiB of fixed buffers */
	struct xp_error xe = { 0 };

	if (x == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (xp_task_from_json(json, x, "result.task", &xe) != 0) {
		free(x);
		return xclone_error_set(err, XC_E_PROTOCOL, "the agent sent a bad task record: %s",
					xe.message);
	}
	fill(b, x, t);
	free(x);
	return 0;
}

int xc_task_from(const cJSON *json, struct xclone_task **out, struct xclone_error *err)
{
	struct xc_build b;
	int rc;

	if (!xb_begin(&b, sizeof(struct xclone_task)))
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if ((rc = xc_task_fill(&b, json, b.root, err)) != 0) {
		xc_arena_free(b.root);
		return rc;
	}
	return xc_build_end(&b, (void **)out, err);
}

int xc_task_list_from(const cJSON *r, struct xclone_task_list **out, struct xclone_error *err)
{
	const cJSON *item;
	struct xclone_task_list *l;
	struct xc_build b;
	size_t i = 0;
	int rc;

	if (!xb_begin(&b, sizeof(*l)))
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	l = b.root;
	l->count = xb_count(r, "tasks");
	l->tasks = xb_array(&b, l->count, sizeof(*l->tasks));
	l->truncated = xb_bool(r, "truncated");
	if (l->tasks != NULL) {
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(r, "tasks")) {
			if ((rc = xc_task_fill(&b, item, &l->tasks[i++], err)) != 0) {
				xc_arena_free(b.root);
				return rc;
			}
		}
	}
	return xc_build_end(&b, (void **)out, err);
}

void xclone_task_free(struct xclone_task *t)
{
	xc_arena_free(t);
}

void xclone_task_list_free(struct xclone_task_list *l)
{
	xc_arena_free(l);
}
