/*
 * clone.start: check everything first (source path policy and VMDK chain for the
 * size, target rules and the host's target policy with min = source size),
 * honour the idempotency key, then, under the store lock, refuse a second live
 * clone onto the same target (TARGET_UNSAFE) and clones beyond max_clones
 * (BUSY), create the task, bind the key and detach its supervisor.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_query.h"
#include "log.h"
#include "ops.h"
#include "path_policy.h"
#include "task_store.h"
#include "task_supervise.h"
#include "vmdk.h"

/* What a checked request turns into. */
struct clone_job {
	struct ag_clone_plan plan;
	char ds_uuid[AG_DATASTORE_NAME_MAX + 1];
	struct xp_task task;
};

/* agent/README.md, "Codes -> protocol errors". */
static int path_error(int code, const char *field, const struct ag_error *e,
		      struct xp_error *err)
{
	static const enum xp_code map[] = {
		[AG_PATH_BAD_REQUEST] = XP_BAD_REQUEST,
		[AG_PATH_DENIED] = XP_PATH_DENIED,
		[AG_PATH_SOURCE_NOT_FOUND] = XP_SOURCE_NOT_FOUND,
		[AG_PATH_SOURCE_UNSUPPORTED] = XP_SOURCE_UNSUPPORTED,
		[AG_PATH_TARGET_NOT_FOUND] = XP_TARGET_NOT_FOUND,
		[AG_PATH_TARGET_UNSAFE] = XP_TARGET_UNSAFE,
		[AG_PATH_INTERNAL] = XP_INTERNAL,
	};
	enum xp_code c = XP_INTERNAL;

	if (code > 0 && (size_t)code < sizeof(map) / sizeof(map[0]) && map[code] != XP_OK)
		c = map[code];
	return xp_error_set(err, c, field, "%s", e->msg);
}

static int vmdk_error(int code, const struct ag_error *e, struct xp_error *err)
{
	enum xp_code c = XP_SOURCE_UNSUPPORTED;

	if (code == AG_VMDK_E_NOT_FOUND)
		c = XP_SOURCE_NOT_FOUND;
	else if (code == AG_VMDK_E_DENIED)
		c = XP_PATH_DENIED;
	else if (code == AG_VMDK_E_IO)
		c = XP_INTERNAL;
	return xp_error_set(err, c, "args.source", "%s", e->msg);
}

/* Source: path policy, then the chain (for the size vmkfstools will copy). */
static int check_source(const struct ag_config *cfg, const char *input, struct clone_job *j,
			struct xp_error *err)
{
	struct ag_source *src = malloc(sizeof(*src));
	struct ag_vmdk_chain chain;
	struct ag_error e = { 0 };
	int rc;

	if (src == NULL)
		return xp_error_set(err, XP_INTERNAL, "args.source", "out of memory");
	rc = ag_source_resolve(cfg->vmfs_root, input, strlen(input), src, &e);
	if (rc != 0) {
		rc = path_error(rc, "args.source", &e, err);
		goto out;
	}
	rc = ag_vmdk_chain_resolve(cfg->vmfs_root, src->path, &chain, &e);
	if (rc != 0) {
		rc = vmdk_error(rc, &e, err);
		goto out;
	}
	j->plan.size_bytes = chain.size_bytes;
	ag_vmdk_chain_free(&chain);
	snprintf(j->plan.source, sizeof(j->plan.source), "%s", src->path);
	snprintf(j->ds_uuid, sizeof(j->ds_uuid), "%s", src->datastore_uuid);
out:
	free(src);
	return rc;
}

/* Target: device rules, then the host's policy (not a datastore, not in use, big enough). */
static int check_target(const struct ag_config *cfg, const char *input, struct clone_job *j,
			struct xp_error *err)
{
	struct ag_target *t = malloc(sizeof(*t));
	struct ag_error e = { 0 };
	int rc;

	if (t == NULL)
		return xp_error_set(err, XP_INTERNAL, "args.target", "out of memory");
	rc = ag_target_resolve(cfg->vmfs_root, input, strlen(input), NULL, NULL, t, &e);
	if (rc != 0)
		rc = path_error(rc, "args.target", &e, err);
	else
		rc = ag_target_check(cfg, t->id, j->plan.size_bytes, 0, NULL, err);
	if (rc == 0) {
		snprintf(j->plan.device_id, sizeof(j->plan.device_id), "%s", t->id);
		snprintf(j->plan.device_path, sizeof(j->plan.device_path), "%s", t->path);
	}
	free(t);
	return rc;
}

/* <datastore>/.xclone/, mode 0700; an existing one must be a real folder, not a link. */
static int ensure_pointer_dir(const struct ag_config *cfg, const char *uuid,
			      struct xp_error *err)
{
	char dir[AG_PATH_MAX];
	struct ag_error e = { 0 };
	struct stat st;

	if (ag_pointer_dir(cfg->vmfs_root, uuid, dir, sizeof(dir), &e) != 0)
		return xp_error_set(err, XP_INTERNAL, "args.source", "%s", e.msg);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		int code = errno == ENOSPC || errno == EDQUOT ? XP_NO_SPACE : XP_INTERNAL;

		return xp_error_set(err, code, "args.source", "cannot create %s: %s", dir,
				    strerror(errno));
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return xp_error_set(err, XP_INTERNAL, "args.source",
				    "%s is not a folder (a link?): refusing to write there", dir);
	return 0;
}

/*
 * The task the key already names, if any (*found). The same key with another
 * source or target is the client's mistake (BAD_REQUEST on args.key).
 */
static int keyed_task(const struct ag_store *s, const struct xp_args *a, struct xp_task *t,
		      bool *found, struct xp_error *err)
{
	char id[AG_TASK_ID_MAX + 1];
	int rc;

	*found = false;
	if (!a->has[XP_ARG_KEY])
		return 0;
	if ((rc = ag_key_lookup(s, a->key, id, found, err)) != 0 || !*found)
		return rc;
	rc = ag_task_load(s, id, t, err);
	if (rc == XP_TASK_NOT_FOUND) {
		*found = false; /* cleaned between the two reads: the key is free again */
		return 0;
	}
	if (rc != 0)
		return rc;
	if (strcmp(t->source, a->source) != 0 || strcmp(t->target, a->target) != 0)
		return xp_error_set(err, XP_BAD_REQUEST, "args.key",
				    "this key already names task %s, with another source or target",
				    t->id);
	return 0;
}

/* The queued record of a new task. */
static void new_record(struct xp_task *t, const struct xp_args *a, const char *id,
		       const char *pointer, int64_t now)
{
	xp_task_init(t);
	snprintf(t->id, sizeof(t->id), "%s", id);
	if (a->has[XP_ARG_KEY])
		snprintf(t->key, sizeof(t->key), "%s", a->key);
	snprintf(t->source, sizeof(t->source), "%s", a->source);
	snprintf(t->target, sizeof(t->target), "%s", a->target);
	snprintf(t->pointer, sizeof(t->pointer), "%s", pointer);
	t->created_ms = now;
}

/* Slots and target exclusivity, counted under the store lock. */
static int check_room(const struct ag_store *s, const struct clone_job *j, struct xp_error *err)
{
	char busy[AG_TASK_ID_MAX + 1];
	unsigned live;
	int rc;

	if ((rc = ag_store_census(s, j->plan.device_id, &live, busy, err)) != 0)
		return rc;
	if (busy[0] != '\0')
		return xp_error_set(err, XP_TARGET_UNSAFE, "args.target",
				    "%s is the target of task %s, which is still running",
				    j->plan.device_id, busy);
	if (live >= s->cfg->max_clones)
		return xp_error_set(err, XP_BUSY, "args",
				    "%u clones are running on this host (max_clones %u)", live,
				    s->cfg->max_clones);
	return 0;
}

/* Creates, records, binds and detaches; store lock held. */
static int create_task(struct ag_store *s, const struct xp_args *a, struct clone_job *j,
		       struct xp_error *err)
{
	struct ag_error e = { 0 };
	int64_t now = ag_now_ms();
	int lock_fd = -1, rc;
	pid_t pid;

	if ((rc = ag_task_create(s, now, j->plan.task_id, &lock_fd, err)) != 0)
		return rc;
	if (ag_pointer_path(s->cfg->vmfs_root, j->ds_uuid, j->plan.task_id, j->plan.pointer,
			    sizeof(j->plan.pointer), &e) != 0) {
		rc = xp_error_set(err, XP_INTERNAL, "args.source", "%s", e.msg);
		goto fail;
	}
	new_record(&j->task, a, j->plan.task_id, j->plan.pointer, now);
	if ((rc = ag_task_write(s, &j->task, err)) != 0)
		goto fail;
	if (a->has[XP_ARG_KEY] && (rc = ag_key_bind(s, a->key, j->plan.task_id, err)) != 0)
		goto fail;
	if ((rc = ag_supervise_start(s, &j->plan, lock_fd, &pid, err)) != 0) {
		if (a->has[XP_ARG_KEY])
			ag_key_unbind(s, a->key, j->plan.task_id);
		goto fail;
	}
	close(lock_fd); /* the supervisor holds the lock now */
	ag_log(AG_LOG_INFO, "task %s: supervisor %d clones %s onto %s", j->plan.task_id, (int)pid,
	       j->plan.source, j->plan.device_id);
	return 0;
fail:
	close(lock_fd);
	ag_task_discard(s, j->plan.task_id);
	return rc;
}

/* Under the store lock: the key again (a concurrent start may have won), room, create. */
static int start_locked(struct ag_store *s, const struct xp_args *a, struct clone_job *j,
			bool *created, struct xp_error *err)
{
	bool found;
	int rc;

	if ((rc = ag_store_lock(s, err)) != 0)
		return rc;
	rc = keyed_task(s, a, &j->task, &found, err);
	if (rc == 0 && !found) {
		rc = check_room(s, j, err);
		if (rc == 0)
			rc = create_task(s, a, j, err);
		*created = rc == 0;
	}
	ag_store_unlock(s);
	return rc;
}

/* {"task": record, "created": bool} */
static int clone_result(const struct xp_task *t, bool created, cJSON **result,
			struct xp_error *err)
{
	int rc = ag_task_result(t, result, err);

	if (rc == 0 && !cJSON_AddBoolToObject(*result, "created", created)) {
		cJSON_Delete(*result);
		*result = NULL;
		rc = xp_error_set(err, XP_INTERNAL, "result", "out of memory");
	}
	return rc;
}

AG_OP(op_clone_start)
{
	struct clone_job *j = calloc(1, sizeof(*j));
	struct xp_error gc = { 0 };
	struct ag_store s;
	bool found = false, created = false;
	int rc;

	if (j == NULL)
		return xp_error_set(err, XP_INTERNAL, "args", "out of memory");
	if ((rc = ag_store_create(&s, ctx->cfg, err)) != 0)
		goto out;
	if (ag_store_gc(&s, ag_now_ms(), &gc) != 0)
		ag_log(AG_LOG_WARN, "task garbage collection: %s", gc.message);
	/* A retry of a start that worked must not depend on the target still looking free. */
	if ((rc = keyed_task(&s, &req->args, &j->task, &found, err)) != 0)
		goto out;
	if (!found) {
		if ((rc = check_source(ctx->cfg, req->args.source, j, err)) != 0 ||
		    (rc = check_target(ctx->cfg, req->args.target, j, err)) != 0 ||
		    (rc = ensure_pointer_dir(ctx->cfg, j->ds_uuid, err)) != 0 ||
		    (rc = start_locked(&s, &req->args, j, &created, err)) != 0)
			goto out;
	}
	rc = clone_result(&j->task, created, result, err);
out:
	free(j);
	return rc;
}
