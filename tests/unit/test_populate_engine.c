/*
 * The populate engine's state machine (client/lib/populate*.c) against an
 * in-memory stand-in for the agent and the array (this file's fake backend).
 *
 * The fake keeps its world (LUNs, mappings, host object, devices on the host,
 * tasks) in shared memory, so a child process can run the engine, die at a
 * journaled step (XCLONE_TEST_CRASH_AT, the engine's test hook, exits 137), and
 * the parent can run the same key again and check what the crash left behind:
 * the copy completes, exactly one clone per disk was ever started, nothing leaks.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "journal.h"
#include "populate_backend.h"
#include "populate_engine.h"
#include "tap.h"

#define NLUNS 8
#define NTASKS 64
#define GROUP "esx-fake"
#define INITIATOR "iqn.1998-01.com.vmware:esx-fake-01"
#define FOREIGN "k8s-node-1"

struct flun {
	char pv[32], naa[64];
	bool mapped;          /* to our host object */
	bool foreign;         /* to another host (the test's seeded state) */
	bool foreign_before;
	bool present;         /* the device is on the host */
};

struct ftask {
	char id[32], key[POP_AGENT_KEY_MAX];
	int lun;
	enum xclone_task_state state;
	int percent;
	bool cleaned;
};

struct fake {
	pthread_mutex_t lock;
	struct flun luns[NLUNS];
	int n_luns;
	bool host_exists, host_created;
	int host_removals;      /* array_remove_host calls that deleted the host object */
	struct ftask tasks[NTASKS];
	int n_tasks;
	int rescans, watching, max_watching;
	/* faults */
	int busy_left;          /* clone.start answers BUSY this many times */
	int fail_percent;       /* a clone fails here (0: never) */
	int hang_percent;       /* a clone stops here until canceled (0: never) */
	bool lose_agent_in_watch;
	bool array_down;
	bool host_shared;       /* another populate has a LUN mapped to the host object */
	char blocked_pv[32];    /* preflight reports a blocker for this PV */
	volatile sig_atomic_t stop;
	int stop_at_percent;    /* the event callback sets stop here (0: never) */
};

static struct fake *F;
static char root[256];
static int state_no;

/* ---- the fake world ---------------------------------------------------------------------- */

/* Robust: a child that dies at the crash hook may hold it; the model stays consistent
 * because every change under it is a few assignments. */
static void lock(void)
{
	if (pthread_mutex_lock(&F->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&F->lock);
}

static void unlock(void)
{
	pthread_mutex_unlock(&F->lock);
}

static void world(int n, bool host_exists)
{
	pthread_mutexattr_t a;

	memset(F, 0, sizeof(*F));
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&F->lock, &a);
	F->n_luns = n;
	F->host_exists = host_exists;
	for (int i = 0; i < n; i++) {
		snprintf(F->luns[i].pv, sizeof(F->luns[i].pv), "pvc-%d", i);
		snprintf(F->luns[i].naa, sizeof(F->luns[i].naa), "naa.624a9370000000000000000000000%03d", i);
	}
}

static int find_lun_naa(const char *naa)
{
	for (int i = 0; i < F->n_luns; i++)
		if (strcmp(F->luns[i].naa, naa) == 0)
			return i;
	return -1;
}

static int agent_error(struct xclone_error *err, enum xclone_code code, const char *remote,
		       const char *msg)
{
	xclone_error_set(err, code, "%s (agent error %s)", msg, remote);
	snprintf(err->remote_code, sizeof(err->remote_code), "%s", remote);
	return code;
}

static int array_down(struct xclone_error *err)
{
	return xclone_error_set(err, XC_E_CONNECT, "cannot reach the array (fake)");
}

static int f_open(void *ctx, struct xclone_error *err)
{
	return 0;
}

static void f_close(void *ctx)
{
}

static int f_hello(void *ctx, struct xclone_hello **out, struct xclone_error *err)
{
	static const char *const ops[] = { "hello", "host.info", "storage.rescan", "device.get",
					   "device.wait", "device.detach", "preflight", "clone.start",
					   "task.get", "task.watch", "task.cancel", "task.clean",
					   "task.list" };
	struct xclone_hello *h = xc_arena_new(sizeof(*h));

	h->agent = xc_arena_strdup(h, "xclone-agent");
	h->hostname = xc_arena_strdup(h, "esx-fake");
	h->protocol = 1;
	h->capabilities = xc_arena_alloc(h, sizeof(ops));
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		h->capabilities[i] = xc_arena_strdup(h, ops[i]);
	h->n_capabilities = sizeof(ops) / sizeof(ops[0]);
	*out = h;
	return 0;
}

static int f_host_info(void *ctx, struct xclone_host_info **out, struct xclone_error *err)
{
	struct xclone_host_info *h = xc_arena_new(sizeof(*h));

	h->hostname = xc_arena_strdup(h, "esx-fake");
	h->n_adapters = 1;
	h->adapters = xc_arena_alloc(h, sizeof(*h->adapters));
	h->adapters[0].name = xc_arena_strdup(h, "vmhba64");
	h->adapters[0].n_initiators = 1;
	h->adapters[0].initiators = xc_arena_alloc(h, sizeof(char *));
	h->adapters[0].initiators[0] = xc_arena_strdup(h, INITIATOR);
	h->n_datastores = 1;
	h->datastores = xc_arena_alloc(h, sizeof(*h->datastores));
	h->datastores[0].name = xc_arena_strdup(h, "ds1");
	h->datastores[0].uuid = xc_arena_strdup(h, "5f69774e-f1031e44-7bdb-ac1f6bc4b812");
	h->datastores[0].n_extents = 1;
	h->datastores[0].extents = xc_arena_alloc(h, sizeof(struct xclone_extent));
	h->datastores[0].extents[0].n_adapters = 1;
	h->datastores[0].extents[0].adapters = xc_arena_alloc(h, sizeof(char *));
	h->datastores[0].extents[0].adapters[0] = xc_arena_strdup(h, "vmhba64");
	*out = h;
	return 0;
}

static int f_rescan(void *ctx, const char *adapter, const char *type, struct xclone_rescan *out,
		    struct xclone_error *err)
{
	lock();
	F->rescans++;
	for (int i = 0; i < F->n_luns && strcmp(type, "delete") != 0; i++)
		F->luns[i].present = F->luns[i].present || F->luns[i].mapped;
	unlock();
	if (out)
		*out = (struct xclone_rescan){ 1, 1 };
	return 0;
}

static struct xclone_device *device_of(int i)
{
	struct xclone_device *d = xc_arena_new(sizeof(*d));

	d->id = xc_arena_strdup(d, F->luns[i].naa);
	d->present = true;
	d->status = xc_arena_strdup(d, "on");
	d->size_bytes = 64 << 20;
	return d;
}

static int f_device_get(void *ctx, const char *dev, struct xclone_device **out,
			struct xclone_error *err)
{
	int i = find_lun_naa(dev), rc = 0;

	lock();
	if (i < 0 || !F->luns[i].present)
		rc = agent_error(err, XC_E_NOT_FOUND, "DEVICE_NOT_FOUND", "unknown device");
	else
		*out = device_of(i);
	unlock();
	return rc;
}

static int f_device_wait(void *ctx, const char *dev, int64_t timeout, struct xclone_device **out,
			 struct xclone_rescan *st, struct xclone_error *err)
{
	int i = find_lun_naa(dev), rc = 0;

	lock();
	if (i >= 0 && F->luns[i].mapped)
		F->luns[i].present = true;
	if (i < 0 || !F->luns[i].present)
		rc = agent_error(err, XC_E_TIMEOUT, "TIMEOUT", "did not appear");
	else
		*out = device_of(i);
	unlock();
	if (st)
		*st = (struct xclone_rescan){ 0, 0 };
	return rc;
}

static int f_device_detach(void *ctx, const char *dev, bool *detached, struct xclone_error *err)
{
	int i = find_lun_naa(dev);

	lock();
	if (i >= 0)
		F->luns[i].present = false;
	unlock();
	return 0;
}

static int f_preflight(void *ctx, const char *source, const char *target,
		       struct xclone_preflight **out, struct xclone_error *err)
{
	struct xclone_preflight *p = xc_arena_new(sizeof(*p));
	int i = find_lun_naa(target);

	p->xcopy_expected = true;
	if (i >= 0 && strcmp(F->luns[i].pv, F->blocked_pv) == 0) {
		p->n_blockers = 1;
		p->blockers = xc_arena_alloc(p, sizeof(*p->blockers));
		p->blockers[0].code = xc_arena_strdup(p, "TARGET_TOO_SMALL");
		p->blockers[0].message = xc_arena_strdup(p, "the target is smaller than the source");
	}
	*out = p;
	return 0;
}

static struct xclone_task *task_of(const struct ftask *t)
{
	struct xclone_task *r = xc_arena_new(sizeof(*r));

	r->id = xc_arena_strdup(r, t->id);
	r->key = xc_arena_strdup(r, t->key);
	r->state = t->state;
	r->percent = t->percent;
	r->xcopy_used = t->state == XCLONE_TASK_SUCCEEDED ? 1 : -1;
	r->has_bytes = t->state == XCLONE_TASK_SUCCEEDED;
	r->bytes = 4 << 20;
	if (t->state == XCLONE_TASK_FAILED) {
		r->error_code = xc_arena_strdup(r, "CLONE_FAILED");
		r->message = xc_arena_strdup(r, "vmkfstools exited with status 1");
	}
	return r;
}

static struct ftask *find_task(const char *id)
{
	for (int i = 0; i < F->n_tasks; i++)
		if (strcmp(F->tasks[i].id, id) == 0 && !F->tasks[i].cleaned)
			return &F->tasks[i];
	return NULL;
}

static int f_clone_start(void *ctx, const char *source, const char *target, const char *key,
			 struct xclone_task **out, bool *created, struct xclone_error *err)
{
	struct ftask *t = NULL;
	int i = find_lun_naa(target), rc = 0;

	lock();
	if (F->busy_left > 0) {
		F->busy_left--;
		unlock();
		return agent_error(err, XC_E_CONFLICT, "BUSY", "too many clones");
	}
	for (int k = 0; k < F->n_tasks && t == NULL; k++)
		if (strcmp(F->tasks[k].key, key) == 0 && !F->tasks[k].cleaned)
			t = &F->tasks[k];
	if (created)
		*created = t == NULL;
	if (i < 0 || !F->luns[i].present) {
		rc = agent_error(err, XC_E_NOT_FOUND, "TARGET_NOT_FOUND", "no such device");
	} else if (t == NULL) {
		t = &F->tasks[F->n_tasks];
		snprintf(t->id, sizeof(t->id), "t-%d", F->n_tasks);
		snprintf(t->key, sizeof(t->key), "%s", key);
		t->lun = i;
		t->state = XCLONE_TASK_RUNNING;
		F->n_tasks++; /* last: a task half made by a dying child does not exist */
	}
	if (rc == 0)
		*out = task_of(t);
	unlock();
	return rc;
}

static int f_task_get(void *ctx, const char *id, struct xclone_task **out, struct xclone_error *err)
{
	struct ftask *t;
	int rc = 0;

	lock();
	t = find_task(id);
	if (t == NULL)
		rc = agent_error(err, XC_E_NOT_FOUND, "TASK_NOT_FOUND", "no task");
	else
		*out = task_of(t);
	unlock();
	return rc;
}

/* Progress by tens; fails, hangs, or loses the connection as the faults say. */
static int f_task_watch(void *ctx, const char *id, xclone_watch_fn cb, void *ud,
			struct xclone_task **out, struct xclone_error *err)
{
	struct ftask *t;

	lock();
	F->watching++;
	F->max_watching = F->watching > F->max_watching ? F->watching : F->max_watching;
	unlock();
	for (;;) {
		struct xclone_event ev = { .type = XCLONE_EVENT_PROGRESS };
		bool final;

		lock();
		t = find_task(id);
		if (t == NULL) {
			F->watching--;
			unlock();
			return agent_error(err, XC_E_NOT_FOUND, "TASK_NOT_FOUND", "no task");
		}
		if (F->lose_agent_in_watch && t->percent >= 30) {
			F->watching--;
			unlock();
			return xclone_error_set(err, XC_E_CONNECT, "connection lost (fake)");
		}
		if (t->state == XCLONE_TASK_RUNNING) {
			if (F->fail_percent && t->percent >= F->fail_percent)
				t->state = XCLONE_TASK_FAILED;
			else if (t->percent >= 100)
				t->state = XCLONE_TASK_SUCCEEDED;
			else if (!(F->hang_percent && t->percent >= F->hang_percent))
				t->percent += 10;
		}
		final = xclone_task_state_final(t->state);
		ev.task = t->id;
		ev.state = t->state;
		ev.percent = t->percent;
		if (final) {
			F->watching--;
			*out = task_of(t);
		}
		unlock();
		if (final)
			return 0;
		if (cb)
			cb(&ev, ud);
		usleep(2000);
	}
}

static int f_task_cancel(void *ctx, const char *id, struct xclone_task **out,
			 struct xclone_error *err)
{
	struct ftask *t;
	int rc = 0;

	lock();
	t = find_task(id);
	if (t == NULL) {
		rc = agent_error(err, XC_E_NOT_FOUND, "TASK_NOT_FOUND", "no task");
	} else {
		if (!xclone_task_state_final(t->state))
			t->state = XCLONE_TASK_CANCELED;
		*out = task_of(t);
	}
	unlock();
	return rc;
}

static int f_task_clean(void *ctx, const char *id, struct xclone_error *err)
{
	struct ftask *t;
	int rc = 0;

	lock();
	t = find_task(id);
	if (t == NULL)
		rc = agent_error(err, XC_E_NOT_FOUND, "TASK_NOT_FOUND", "no task");
	else if (!xclone_task_state_final(t->state))
		rc = agent_error(err, XC_E_CONFLICT, "TASK_ACTIVE", "the task runs");
	else
		t->cleaned = true;
	unlock();
	return rc;
}

static int f_task_list(void *ctx, struct xclone_task_list **out, struct xclone_error *err)
{
	struct xclone_task_list *l = xc_arena_new(sizeof(*l));

	lock();
	l->tasks = xc_arena_alloc(l, sizeof(*l->tasks) * (size_t)(F->n_tasks + 1));
	for (int i = 0; i < F->n_tasks; i++) {
		if (F->tasks[i].cleaned)
			continue;
		l->tasks[l->count].id = xc_arena_strdup(l, F->tasks[i].id);
		l->tasks[l->count].key = xc_arena_strdup(l, F->tasks[i].key);
		l->tasks[l->count].state = F->tasks[i].state;
		l->count++;
	}
	unlock();
	*out = l;
	return 0;
}

static int f_resolve(void *ctx, const struct xc_pv *pv, struct xc_lun *out,
		     struct xclone_error *err)
{
	if (F->array_down)
		return array_down(err);
	for (int i = 0; i < F->n_luns; i++) {
		if (strcmp(F->luns[i].pv, pv->name) != 0)
			continue;
		memset(out, 0, sizeof(*out));
		snprintf(out->name, sizeof(out->name), "px-%s", pv->name);
		snprintf(out->naa, sizeof(out->naa), "%s", F->luns[i].naa);
		snprintf(out->array_id, sizeof(out->array_id), "fa1");
		out->size_bytes = 64 << 20;
		return 0;
	}
	xclone_error_set(err, XC_E_NOT_FOUND, "Volume does not exist.");
	err->http_status = 400;
	return XC_E_NOT_FOUND;
}

static void group_of(struct xc_host_group *g)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), GROUP);
	g->kind = XC_GROUP_HOST;
	g->n_initiators = 1;
	snprintf(g->initiators[0], sizeof(g->initiators[0]), INITIATOR);
}

static int f_hosts(void *ctx, struct xc_host_list *out, struct xclone_error *err)
{
	memset(out, 0, sizeof(*out));
	if (F->array_down)
		return array_down(err);
	if (F->host_exists) {
		out->items = calloc(1, sizeof(*out->items));
		group_of(&out->items[0]);
		out->n = 1;
	}
	return 0;
}

static int f_ensure_host(void *ctx, const struct xc_host_request *req, struct xc_host_group *out,
			 struct xclone_error *err)
{
	if (F->array_down)
		return array_down(err);
	lock();
	if (!F->host_exists)
		F->host_exists = F->host_created = true;
	unlock();
	group_of(out);
	return 0;
}

static int f_mappings(void *ctx, const struct xc_lun *lun, struct xc_mapping_list *out,
		      struct xclone_error *err)
{
	int i = find_lun_naa(lun->naa);

	memset(out, 0, sizeof(*out));
	if (F->array_down)
		return array_down(err);
	out->items = calloc(2, sizeof(*out->items));
	if (F->luns[i].mapped) {
		out->items[out->n].kind = XC_GROUP_HOST;
		snprintf(out->items[out->n++].group, sizeof(out->items[0].group), GROUP);
	}
	if (F->luns[i].foreign) {
		out->items[out->n].kind = XC_GROUP_HOST;
		out->items[out->n].lun_id = 3;
		snprintf(out->items[out->n++].group, sizeof(out->items[0].group), FOREIGN);
	}
	return 0;
}

static int f_map(void *ctx, const struct xc_lun *lun, const struct xc_mapping *target,
		 struct xc_mapping *result, struct xclone_error *err)
{
	int i = find_lun_naa(lun->naa);

	if (F->array_down)
		return array_down(err);
	lock();
	F->luns[i].mapped = true;
	unlock();
	*result = *target;
	result->lun_id = 1;
	return 0;
}

static int f_unmap(void *ctx, const struct xc_lun *lun, const struct xc_mapping *target,
		   struct xclone_error *err)
{
	int i = find_lun_naa(lun->naa);

	if (F->array_down)
		return array_down(err);
	lock();
	if (strcmp(target->group, GROUP) == 0)
		F->luns[i].mapped = false;
	else
		F->luns[i].foreign = false;
	unlock();
	return 0;
}

static int f_restore(void *ctx, const struct xc_lun *lun, const struct xc_mapping_list *saved,
		     struct xclone_error *err)
{
	int i = find_lun_naa(lun->naa);

	if (F->array_down)
		return array_down(err);
	for (size_t k = 0; k < saved->n; k++)
		if (strcmp(saved->items[k].group, FOREIGN) == 0)
			F->luns[i].foreign = true;
	return 0;
}

/* array_driver.h's delete_host contract: 0 when deleted or already gone; XC_E_CONFLICT,
 * deleting nothing, while a volume is still mapped to the host object. */
static int f_remove_host(void *ctx, const struct xc_host_group *group, struct xclone_error *err)
{
	int rc = 0;

	if (F->array_down)
		return array_down(err);
	lock();
	for (int i = 0; i < F->n_luns && rc == 0; i++)
		if (F->luns[i].mapped)
			rc = xclone_error_set(err, XC_E_CONFLICT, "host %s still has %s mapped (fake)",
					      group->name, F->luns[i].naa);
	if (rc == 0 && F->host_shared)
		rc = xclone_error_set(err, XC_E_CONFLICT,
				      "host %s still has another populate's LUN mapped (fake)",
				      group->name);
	if (rc == 0 && strcmp(group->name, GROUP) == 0 && F->host_exists) {
		F->host_exists = false;
		F->host_removals++;
	}
	unlock();
	return rc;
}

static const struct pop_backend fake_backend = {
	.open_agent = f_open, .open_array = f_open, .close = f_close,
	.hello = f_hello, .host_info = f_host_info, .rescan = f_rescan,
	.device_get = f_device_get, .device_wait = f_device_wait, .device_detach = f_device_detach,
	.preflight = f_preflight, .clone_start = f_clone_start, .task_get = f_task_get,
	.task_watch = f_task_watch, .task_cancel = f_task_cancel, .task_clean = f_task_clean,
	.task_list = f_task_list, .array_resolve = f_resolve, .array_hosts = f_hosts,
	.array_ensure_host = f_ensure_host, .array_mappings = f_mappings, .array_map = f_map,
	.array_unmap = f_unmap, .array_restore = f_restore, .array_remove_host = f_remove_host,
};

/* ---- running the engine ------------------------------------------------------------------ */

struct runcfg {
	const char *key;
	int n;                  /* disks pvc-0..n-1 from [ds1] vm/vm_<i>.vmdk; 0: none given */
	bool cleanup, force;
	unsigned parallel;
};

static void on_event(const struct xclone_populate_event *ev, void *ud)
{
	if (F->stop_at_percent && ev->phase == XCLONE_PHASE_CLONE && ev->percent >= F->stop_at_percent)
		F->stop = 1; /* as a SIGINT handler would */
}

static int run(const struct runcfg *c, struct xclone_populate_result **out, struct xclone_error *err)
{
	struct xclone_populate_options o;
	struct xclone_populate_plan *plan = xclone_populate_plan_new();
	struct pop_backend be = fake_backend;
	char state[300];
	int rc;

	for (int i = 0; i < c->n; i++) {
		char spec[128];

		snprintf(spec, sizeof(spec), "[ds1] vm/vm_%d.vmdk=pvc-%d", i, i);
		xclone_populate_plan_add_spec(plan, spec, NULL);
	}
	snprintf(state, sizeof(state), "%s/state-%d", root, state_no);
	xclone_populate_options_init(&o);
	o.conn.host = "esx-fake";
	o.state_dir = state;
	o.key = c->key;
	o.plan = plan;
	o.cleanup_only = c->cleanup;
	o.force = c->force;
	o.parallel = c->parallel;
	o.stop = &F->stop;
	o.on_event = on_event;
	rc = pop_run_with(&o, &be, out, err);
	xclone_populate_plan_free(plan);
	return rc;
}

/* Nothing left anywhere: no mapping of ours, foreign ones as before, no device, no task,
 * no host object the run created (unless another populate still uses it). */
static bool no_leaks(const char *what)
{
	bool clean = true;

	if (F->host_created && F->host_exists && !F->host_shared) {
		printf("#   %s: the host object this populate created is still there\n", what);
		clean = false;
	}

	for (int i = 0; i < F->n_luns; i++) {
		if (F->luns[i].mapped || F->luns[i].present || F->luns[i].foreign != F->luns[i].foreign_before) {
			printf("#   %s: LUN %d mapped %d present %d foreign %d (before %d)\n", what, i,
			       F->luns[i].mapped, F->luns[i].present, F->luns[i].foreign,
			       F->luns[i].foreign_before);
			clean = false;
		}
	}
	for (int i = 0; i < F->n_tasks; i++) {
		if (!F->tasks[i].cleaned) {
			printf("#   %s: task %s not cleaned\n", what, F->tasks[i].id);
			clean = false;
		}
	}
	return ok(clean, "%s: nothing left behind", what);
}

/* No key was ever given two clones. */
static bool one_clone_per_key(void)
{
	for (int i = 0; i < F->n_tasks; i++)
		for (int k = i + 1; k < F->n_tasks; k++)
			if (strcmp(F->tasks[i].key, F->tasks[k].key) == 0)
				return false;
	return true;
}

static const char *disk_phase(const struct xclone_populate_result *r, size_t i)
{
	return r && i < r->n_disks ? xclone_populate_phase_name(r->disks[i].phase) : "(none)";
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_fresh_and_rerun(void)
{
	struct runcfg c = { "fresh", 3, false, false, 2 };
	struct xclone_populate_result *r = NULL;
	struct xclone_error err;
	int rc;

	world(3, true);
	state_no++;
	rc = run(&c, &r, &err);
	is_int(rc, 0, "a fresh populate of 3 disks returns 0");
	ok(r && r->status == XCLONE_POPULATE_OK, "status ok (%s)",
	   r ? xclone_populate_status_name(r->status) : "-");
	is_int(F->n_tasks, 3, "three clones started");
	ok(r && r->disks[0].xcopy == 1 && r->disks[0].has_bytes, "result: xcopy and bytes");
	is_str(disk_phase(r, 2), "done", "disk 2 done");
	ok(r && r->disks[1].phase_ms[XCLONE_PHASE_CLONE] >= 0 && r->rescans >= 2,
	   "phase times and rescans (add + delete) reported");
	is_int(F->max_watching <= 2, 1, "never more than --parallel 2 clones watched at once");
	no_leaks("fresh run");
	ok(!F->host_created, "the existing host object was reused");
	xclone_populate_result_free(r);

	rc = run(&c, &r, &err);
	ok(rc == 0 && r && r->status == XCLONE_POPULATE_OK && F->n_tasks == 3,
	   "running the finished key again copies nothing and says ok");
	xclone_populate_result_free(r);

	c.n = 2;
	rc = run(&c, &r, &err);
	is_int(rc, XC_E_CONFLICT, "the same key with other disks is refused");
	ok(strstr(err.message, "belongs to other disks") != NULL, "and says why (%s)", err.message);
	xclone_populate_result_free(r);
}

static void test_lock_conflict(void)
{
	struct runcfg c = { "locked", 1, false, false, 0 };
	struct xclone_populate_result *r = NULL;
	struct xclone_error err;
	struct xc_journal *j = NULL;
	char dir[400];

	world(1, true);
	state_no++;
	snprintf(dir, sizeof(dir), "%s/state-%d/locked", root, state_no);
	ok(xc_journal_open(dir, &j, &err) == 0, "another holder takes the key's journal");
	is_int(run(&c, &r, &err), XC_E_CONFLICT, "a second populate of the key is refused");
	is_int(F->n_tasks, 0, "and starts nothing");
	xclone_populate_result_free(r);
	xc_journal_close(j);
}

/* The reference journal's (step, mark) pairs: where a crash can happen. */
struct point {
	char step[32], mark[8];
	long disk;
};

static size_t crash_points(const char *key, struct point *pts, size_t max)
{
	char dir[400];
	struct xc_journal *j = NULL;
	size_t n = 0;

	snprintf(dir, sizeof(dir), "%s/state-%d/%s", root, state_no, key);
	if (xc_journal_open(dir, &j, NULL) != 0)
		return 0;
	for (size_t i = 0; i < xc_journal_count(j) && n < max; i++) {
		const cJSON *r = xc_journal_at(j, i);
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(r, "step");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "mark");
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(r, "disk");
		bool seen = false;

		for (size_t k = 0; k < n; k++)
			seen = seen || (strcmp(pts[k].step, s->valuestring) == 0 &&
					strcmp(pts[k].mark, m->valuestring) == 0 &&
					pts[k].disk == (cJSON_IsNumber(d) ? (long)d->valuedouble : -1));
		if (seen)
			continue;
		snprintf(pts[n].step, sizeof(pts[n].step), "%s", s->valuestring);
		snprintf(pts[n].mark, sizeof(pts[n].mark), "%s", m->valuestring);
		pts[n].disk = cJSON_IsNumber(d) ? (long)d->valuedouble : -1;
		n++;
	}
	xc_journal_close(j);
	return n;
}

/* Runs the engine in a child that dies at the point; returns the child's exit status. */
static int crash_child(const struct runcfg *c, const struct point *p)
{
	char at[64];
	int status = 0;
	pid_t pid;

	if (p->disk >= 0)
		snprintf(at, sizeof(at), "%.31s.%.7s@%ld", p->step, p->mark, p->disk);
	else
		snprintf(at, sizeof(at), "%.31s.%.7s", p->step, p->mark);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct xclone_populate_result *r = NULL;
		struct xclone_error err;

		setenv("XCLONE_TEST_CRASH_AT", at, 1);
		alarm(60); /* a hook that never fires must not hang the test */
		run(c, &r, &err);
		_exit(0); /* the hook did not fire */
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_crash_everywhere(void)
{
	struct runcfg c = { "ref", 2, false, false, 2 };
	struct xclone_populate_result *r = NULL;
	struct xclone_error err;
	struct point pts[128];
	size_t n;

	world(2, true);
	state_no++;
	run(&c, &r, &err);
	xclone_populate_result_free(r);
	n = crash_points("ref", pts, 128);
	ok(n >= 20, "the reference run journaled %zu distinct points", n);
	for (size_t i = 0; i < n; i++) {
		struct runcfg cc = { "crash", 2, false, false, 2 };
		char what[128];
		int status, rc;

		if (strcmp(pts[i].step, "finish") == 0)
			continue; /* nothing follows it */
		world(2, true);
		state_no++;
		status = crash_child(&cc, &pts[i]);
		snprintf(what, sizeof(what), "crash at %.31s.%.7s%s%ld", pts[i].step, pts[i].mark,
			 pts[i].disk >= 0 ? " disk " : "", pts[i].disk >= 0 ? pts[i].disk : 0L);
		is_int(status, 137, "%s: the child died at the hook", what);
		rc = run(&cc, &r, &err);
		ok(rc == 0 && r && r->status == XCLONE_POPULATE_OK, "%s: the rerun completes (%s)",
		   what, r ? xclone_populate_status_name(r->status) : err.message);
		ok(one_clone_per_key() && F->n_tasks == 2, "%s: one clone per disk (%d started)",
		   what, F->n_tasks);
		no_leaks(what);
		xclone_populate_result_free(r);
	}
}

static void test_cleanup_only(void)
{
	struct runcfg c = { "half", 2, false, false, 2 };
	struct runcfg clean = { "half", 0, true, false, 2 };
	struct point p = { "clone", "done", 1 };
	struct xclone_populate_result *r = NULL;
	struct xclone_error err;
	int rc;

	world(2, true);
	F->hang_percent = 50; /* the clones are mid-way when the client dies */
	state_no++;
	is_int(crash_child(&c, &p), 137, "cleanup: the first run died while its clones ran");
	/* disk 1's clone runs; disk 0 may or may not have reached its own yet */
	ok(F->n_tasks >= 1 && F->luns[0].mapped && F->luns[1].mapped,
	   "cleanup: it left a running clone and mappings");
	rc = run(&clean, &r, &err);
	ok(rc == 0 && r && r->status == XCLONE_POPULATE_INTERRUPTED,
	   "--cleanup: ends the key's work (%s)", r ? xclone_populate_status_name(r->status) : err.message);
	ok(r && r->disks[0].phase == XCLONE_PHASE_FAILED && r->disks[0].error_code &&
		   strcmp(r->disks[0].error_code, "CANCELED") == 0,
	   "--cleanup: the disks are canceled");
	ok(F->tasks[0].state == XCLONE_TASK_CANCELED, "--cleanup: the running clone was canceled");
	no_leaks("--cleanup");
	xclone_populate_result_free(r);
	F->hang_percent = 0;
	rc = run(&c, &r, &err);
	ok(rc == 0 && r && r->status == XCLONE_POPULATE_OK && r->disks[0].attempt == 2,
	   "then the same command copies again (attempt 2)");
	{
		bool own = false;

		for (int i = 0; i < F->n_tasks; i++)
			own = own || strcmp(F->tasks[i].key, "half/disk-1/2") == 0;
		ok(own, "attempt 2 has its own agent key (half/disk-1/2)");
	}
	no_leaks("attempt 2");
	xclone_populate_result_free(r);
}

static void test_failures(void)
{
	struct runcfg c = { "fail", 2, false, false, 2 };
	struct xclone_populate_result *r = NULL;
	struct xclone_error err;
	int rc;

	world(2, true);
	F->fail_percent = 50;
	state_no++;
	rc = run(&c, &r, &err);
	ok(rc == 0 && r && r->status == XCLONE_POPULATE_FAILED, "a clone failing at 50%%: status failed");
	ok(r && r->disks[0].error_code && strcmp(r->disks[0].error_code, "CLONE_FAILED") == 0 &&
		   strstr(r->disks[0].message, "50%") != NULL,
	   "the disk says CLONE_FAILED at 50%% (%s)", r && r->disks[0].message ? r->disks[0].message : "");
	no_leaks("clone failed");
	xclone_populate_result_free(r);

	world(2, true);
	snprintf(F->blocked_pv, sizeof(F->blocked_pv), "pvc-1");
	c.key = "blocked";
	state_no++;
	rc = run(&c, &r, &err);
	ok(rc == 0 && r && r->status == XCLONE_POPULATE_UNSAFE, "a preflight blocker: status unsafe");
	ok(r && r->disks[1].error_code && strcmp(r->disks[1].error_code, "TARGET_TOO_SMALL") == 0 &&
		   r->disks[0].phase == XCLONE_PHASE_DONE,
	   "the blocked disk fails with the blocker's code, the other is copied");
	is_int(F->n_tasks, 1, "no clone for the blocked disk");
	no_leaks("blocker");
	xclone_populate_result_free(r);

	world(2, true);
	F->luns[0].foreign = F->luns[0].foreign_before = true;
	c.key = "foreign";
	state_no++;
	rc = run(&c, &r, &err);
	ok(rc == 0 && r && r->status == XCLONE_POPULATE_UNSAFE && r->disks[0].error_code &&
		   strcmp(r->disks[0].error_code, "TARGET_IN_USE") == 0,
	   "a LUN mapped to another host is refused (TARGET_IN_USE)");
	no_leaks("in use");
	xclone_populate_result_free(r);
	c.force = true;
	c.key = "foreign-forced";
	rc = run(&c, &r, &err);
	ok(rc == 0 && r && r->status == XCLONE_POPULATE_OK, "--force copies onto it");
	ok(F->luns[0].foreign, "and its mapping to the other host is still there");
	no_leaks("forced");
	xclone_populate_result_free(r);

	world(2, true);
	F->busy_left = 3;
	c = (struct runcfg){ "busy", 2, false, false, 2 };
	state_no++;
	rc = run(&c, &r, &err);
	ok(rc == 0 && r && r->status == XCLONE_POPULATE_OK && F->busy_left == 0,
	   "BUSY answers are waited out");
	xclone_populate_result_free(r);
}

static void test_lost_sides(void)
{
	struct runcfg c = { "lost", 2, false, false, 2 };
	struct xclone_populate_result *r = NULL;
	struct xclone_error err;
	int rc;

	world(2, true);
	F->lose_agent_in_watch = true;
	state_no++;
	rc = run(&c, &r, &err);
	is_int(rc, XC_E_CONNECT, "the agent lost for good mid-clone: XC_E_CONNECT");
	ok(r && r->status == XCLONE_POPULATE_INCOMPLETE, "status incomplete");
	ok(F->luns[0].mapped && F->luns[0].present,
	   "the LUN stays mapped while its device may still be on the host");
	xclone_populate_result_free(r);
	F->lose_agent_in_watch = false;
	rc = run(&c, &r, &err);
	ok(rc == 0 && r && r->status == XCLONE_POPULATE_OK && r->resumed, "the rerun finishes it");
	ok(one_clone_per_key() && F->n_tasks == 2, "with the same two clones");
	no_leaks("agent lost");
	xclone_populate_result_free(r);

	world(2, true);
	F->array_down = true;
	c.key = "array-down";
	state_no++;
	rc = run(&c, &r, &err);
	is_int(rc, XC_E_CONNECT, "the array unreachable: XC_E_CONNECT");
	ok(r && r->status == XCLONE_POPULATE_FAILED && F->n_tasks == 0,
	   "nothing started, the disks failed cleanly");
	no_leaks("array down");
	xclone_populate_result_free(r);
}

static void test_stop(void)
{
	struct runcfg c = { "stop", 3, false, false, 3 };
	struct xclone_populate_result *r = NULL;
	struct xclone_error err;
	int rc;

	world(3, true);
	F->hang_percent = 60;
	F->stop_at_percent = 40;
	state_no++;
	rc = run(&c, &r, &err);
	ok(rc == 0 && r && r->status == XCLONE_POPULATE_INTERRUPTED,
	   "a stop mid-clone: status interrupted (%s)", r ? xclone_populate_status_name(r->status) : "");
	ok(F->tasks[0].state == XCLONE_TASK_CANCELED, "the clones were canceled");
	no_leaks("stopped");
	xclone_populate_result_free(r);
}

/* The key's host-release done record: 1 removed, 0 left in place, -1 none. */
static int journal_host_removed(const char *key)
{
	char dir[400];
	struct xc_journal *j = NULL;
	int removed = -1;

	snprintf(dir, sizeof(dir), "%s/state-%d/%s", root, state_no, key);
	if (xc_journal_open(dir, &j, NULL) != 0)
		return -1;
	for (size_t i = 0; i < xc_journal_count(j); i++) {
		const cJSON *r = xc_journal_at(j, i);
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(r, "step");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "mark");

		if (cJSON_IsString(s) && strcmp(s->valuestring, "host-release") == 0 &&
		    cJSON_IsString(m) && strcmp(m->valuestring, "done") == 0)
			removed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "removed"));
	}
	xc_journal_close(j);
	return removed;
}

static void test_host_created(void)
{
	struct runcfg c = { "newhost", 1, false, false, 0 };
	struct xclone_populate_result *r = NULL;
	struct xclone_error err;
	int rc;

	world(1, false);
	state_no++;
	rc = run(&c, &r, &err);
	ok(rc == 0 && r && r->status == XCLONE_POPULATE_OK && F->host_created,
	   "no host object: one is created");
	ok(!F->host_exists && F->host_removals == 1,
	   "and removed once the disk is done (%d removals)", F->host_removals);
	ok(r && r->n_warnings == 0, "without a warning (%zu)", r ? r->n_warnings : 0);
	is_int(journal_host_removed("newhost"), 1, "the journal says removed=true");
	no_leaks("new host");
	xclone_populate_result_free(r);

	world(1, false);
	F->host_shared = true; /* another populate on the host reused it meanwhile */
	c.key = "sharedhost";
	state_no++;
	rc = run(&c, &r, &err);
	ok(rc == 0 && r && r->status == XCLONE_POPULATE_OK && F->host_created,
	   "a created host object still in use by another populate: the copy is ok (%s)",
	   r ? xclone_populate_status_name(r->status) : err.message);
	ok(F->host_exists && F->host_removals == 0, "the host object is left in place");
	ok(r && r->n_warnings == 1 && strstr(r->warnings[0], "left in place") != NULL &&
		   strstr(r->warnings[0], "another populate") != NULL,
	   "and the run warns, with the array's answer (%s)",
	   r && r->n_warnings ? r->warnings[0] : "no warning");
	is_int(journal_host_removed("sharedhost"), 0, "the journal says removed=false");
	no_leaks("shared host");
	xclone_populate_result_free(r);

	/* SIGKILL between the host-release intent and its result: the rerun removes it. */
	world(1, false);
	c.key = "hostcrash";
	state_no++;
	is_int(crash_child(&c, &(struct point){ "host-release", "intent", -1 }), 137,
	       "crash at host-release.intent: the child died at the hook");
	ok(F->host_exists && F->host_removals == 0 && journal_host_removed("hostcrash") == -1,
	   "crash at host-release.intent: the host object is still there, no result journaled");
	rc = run(&c, &r, &err);
	ok(rc == 0 && r && r->status == XCLONE_POPULATE_OK && r->resumed,
	   "crash at host-release.intent: the rerun completes (%s)",
	   r ? xclone_populate_status_name(r->status) : err.message);
	ok(!F->host_exists && F->host_removals == 1 && journal_host_removed("hostcrash") == 1,
	   "crash at host-release.intent: the rerun removed the host object (%d removals)",
	   F->host_removals);
	ok(F->n_tasks == 1, "crash at host-release.intent: no second clone");
	no_leaks("crash at host-release.intent");
	xclone_populate_result_free(r);
}

static void test_plan_parsing(void)
{
	struct xclone_populate_plan *p = xclone_populate_plan_new();
	struct xclone_error err;

	ok(xclone_populate_plan_add_spec(p, "[DS ü] VM 'a'=b, c/x.vmdk=pvc-1,handle=h1,k=v=w",
					 &err) == 0,
	   "a source with '=' and ',' and an attribute with '='");
	is_str(p->disks[0].source, "[DS ü] VM 'a'=b, c/x.vmdk", "source split at .vmdk=");
	is_str(p->disks[0].volume_handle, "h1", "handle=");
	ok(p->disks[0].n_attrs == 1 && strcmp(p->disks[0].attr_values[0], "v=w") == 0, "attribute");
	ok(xclone_populate_plan_add_spec(p, "[ds] a.vmdk", &err) == XC_E_USAGE, "no PV: refused");
	ok(xclone_populate_plan_add_spec(p, "[ds] a.vmdk=pvc,oops", &err) == XC_E_USAGE,
	   "an item without '=': refused");
	ok(xclone_populate_plan_add_spec(p, "[ds] a.vmdk=pvc,k=1,k=2", &err) == XC_E_USAGE,
	   "an attribute twice: refused");
	is_int(xclone_populate_plan_count(p), 1, "refused disks are not added");
	ok(pop_key_valid("pvc-3f2a.x_1") && !pop_key_valid("a/b") && !pop_key_valid("-a") &&
		   !pop_key_valid(""),
	   "key syntax");
	xclone_populate_plan_free(p);
}

int main(void)
{
	F = mmap(NULL, sizeof(*F), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (F == MAP_FAILED)
		return 1;
	snprintf(root, sizeof(root), "/tmp/xclone-test-populate-%ld", (long)getpid());
	test_plan_parsing();
	test_fresh_and_rerun();
	test_lock_conflict();
	test_failures();
	test_lost_sides();
	test_stop();
	test_host_created();
	test_cleanup_only();
	test_crash_everywhere();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", root);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", root);
	}
	return tap_done();
}
