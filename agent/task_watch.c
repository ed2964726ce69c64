/* task.watch state machine (see task_watch.h). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "task_watch.h"

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Re-reads the record when status.json is not the file read last time. */
static int refresh(struct ag_watch *w, const struct ag_store *s, struct xp_error *err)
{
	char path[AG_STORE_PATH_MAX];
	struct stat st;
	int rc;

	if ((rc = ag_task_file(s, w->id, "status.json", path, sizeof(path), err)) != 0)
		return rc;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return xp_error_set(err, XP_TASK_NOT_FOUND, "args.task", "no task %s",
					    w->id);
		return xp_error_set(err, XP_INTERNAL, "state_dir", "cannot stat %s: %s", path,
				    strerror(errno));
	}
	if (w->seen && st.st_ino == w->ino && st.st_size == w->size && mtime_ns(&st) == w->mtime_ns)
		return 0;
	if ((rc = ag_task_read(s, w->id, &w->task, err)) != 0)
		return rc;
	w->seen = true;
	w->ino = st.st_ino;
	w->size = st.st_size;
	w->mtime_ns = mtime_ns(&st);
	return 0;
}

int ag_watch_start(struct ag_watch *w, const struct ag_store *s, const char *id,
		   struct xp_error *err)
{
	memset(w, 0, sizeof(*w));
	if (strlen(id) >= sizeof(w->id))
		return xp_error_set(err, XP_TASK_NOT_FOUND, "args.task", "no such task");
	memcpy(w->id, id, strlen(id) + 1);
	return refresh(w, s, err); /* the id is checked where it becomes a path */
}

int ag_watch_step(struct ag_watch *w, const struct ag_store *s, enum ag_watch_status *status,
		  bool *has_event, struct xp_progress *ev, struct xp_error *err)
{
	bool final;
	int rc;

	*has_event = false;
	*status = AG_WATCH_MORE;
	if ((rc = refresh(w, s, err)) != 0)
		return rc;
	/* No write for a while and nobody holds the lock: the supervisor is gone. */
	if (!xp_task_state_final(w->task.state) && !ag_task_supervised(s, w->id) &&
	    (rc = ag_task_load(s, w->id, &w->task, err)) != 0)
		return rc;
	final = xp_task_state_final(w->task.state);
	if (final && !w->sent) {
		/* Final when the watch began: the answer comes at once, no event. */
		*status = AG_WATCH_DONE;
		return 0;
	}
	xp_progress_of_task(&w->task, ev);
	if (!w->sent || !xp_progress_equal(ev, &w->last)) {
		*has_event = true;
		w->sent = true;
		w->last = *ev;
	}
	if (final)
		*status = AG_WATCH_DONE;
	return 0;
}
