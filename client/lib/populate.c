/*
 * xclone_populate(): the run. Setting up (options, key, journal, plan, replay),
 * then the phases:
 *
 *   A  at the same time: the agent (connect, hello, host.info) on a thread, the
 *      array (login, each PV's LUN) on the main thread, connections for the disks
 *      opening in the background; then the host object, each LUN's mappings and
 *      the map, and one add-rescan for all disks
 *   B  worker threads (at most `parallel`), one disk each: device.wait, preflight,
 *      clone, watch, task.clean, device.detach, then at once unmap and restore;
 *      the main thread watches the stop flag and cancels running clones when set
 *   C  main thread: whatever B could not end (the disks that never reached the
 *      host), the delete-rescan, the check that no device is left (in parallel),
 *      the host object
 *
 * Every phase starts from the journal's state, so the same code runs a fresh
 * populate, a resumed one and a cleanup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "populate_engine.h"

#define WAIT_TICK_MS 100

void xclone_populate_options_init(struct xclone_populate_options *o)
{
	memset(o, 0, sizeof(*o));
	xclone_conn_options_init(&o->conn);
}

/* ---- set-up ------------------------------------------------------------------------------ */

/* The first begin record that holds a plan: the plan the key belongs to. */
static const cJSON *journal_begin(const struct xc_journal *j)
{
	for (size_t i = 0; i < xc_journal_count(j); i++) {
		const cJSON *rec = xc_journal_at(j, i);
		const cJSON *step = cJSON_GetObjectItemCaseSensitive(rec, "step");

		if (cJSON_IsString(step) && strcmp(step->valuestring, "begin") == 0 &&
		    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(rec, "plan")))
			return rec;
	}
	return NULL;
}

static int choose_key(struct pop_run *run, const struct xclone_populate_options *opt,
		      struct xclone_error *err)
{
	bool have_plan = xclone_populate_plan_count(opt->plan) > 0;

	if (opt->key != NULL && opt->key[0] != '\0') {
		if (!pop_key_valid(opt->key))
			return xclone_error_set(err, XC_E_USAGE,
						"key \"%s\" is not valid: 1 to %d characters of A-Z a-z"
						" 0-9 . _ - , starting with a letter or digit",
						opt->key, XCLONE_POPULATE_KEY_MAX);
		snprintf(run->key, sizeof(run->key), "%s", opt->key);
		return 0;
	}
	if (!have_plan)
		return xclone_error_set(err, XC_E_USAGE,
					"no disks given: give --disk/--source or --plan, or --key of"
					" an earlier run");
	return pop_key_derive(opt->conn.host, opt->conn.port, opt->plan, run->key,
			      sizeof(run->key), err);
}

static int copy_plan(struct xclone_populate_plan *to, const struct xclone_populate_plan *from,
		     struct xclone_error *err)
{
	cJSON *j = pop_plan_to_json(from);
	int rc = j ? pop_plan_from_json(to, j, "plan", err)
		   : xclone_error_set(err, XC_E_NOMEM, "out of memory");

	cJSON_Delete(j);
	return rc;
}

/* The plan to run: the caller's, which must match the journal's when there is one. */
static int choose_plan(struct pop_run *run, const struct xclone_populate_options *opt,
		       struct xclone_error *err)
{
	const cJSON *begin = journal_begin(run->j);
	const cJSON *host = begin ? cJSON_GetObjectItemCaseSensitive(begin, "host") : NULL;
	struct xclone_populate_plan *journal_plan = NULL;
	int rc = 0;

	run->plan = xclone_populate_plan_new();
	if (run->plan == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	if (begin != NULL) {
		journal_plan = xclone_populate_plan_new();
		rc = journal_plan ? pop_plan_from_json(journal_plan,
						       cJSON_GetObjectItemCaseSensitive(begin, "plan"),
						       xc_journal_path(run->j), err)
				  : xclone_error_set(err, XC_E_NOMEM, "out of memory");
		if (cJSON_IsString(host))
			snprintf(run->journal_host, sizeof(run->journal_host), "%s", host->valuestring);
	}
	if (rc == 0 && xclone_populate_plan_count(opt->plan) > 0) {
		if (journal_plan != NULL && !pop_plan_equal(journal_plan, opt->plan))
			rc = xclone_error_set(err, XC_E_CONFLICT,
					      "key %s belongs to other disks (see %s): use another"
					      " key, or give no disks to continue that run",
					      run->key, xc_journal_path(run->j));
		else
			rc = copy_plan(run->plan, opt->plan, err);
	} else if (rc == 0 && journal_plan != NULL) {
		rc = copy_plan(run->plan, journal_plan, err);
	} else if (rc == 0) {
		rc = xclone_error_set(err, XC_E_USAGE,
				      "key %s has no journal in %s: give the disks to copy", run->key,
				      run->dir);
	}
	if (rc == 0 && run->journal_host[0] != '\0' && opt->conn.host != NULL &&
	    strcmp(run->journal_host, opt->conn.host) != 0)
		rc = xclone_error_set(err, XC_E_CONFLICT,
				      "key %s ran against host %s, not %s: its clones and devices are"
				      " there", run->key, run->journal_host, opt->conn.host);
	xclone_populate_plan_free(journal_plan);
	return rc;
}

static int make_disks(struct pop_run *run, struct xclone_error *err)
{
	run->n = run->plan->n;
	run->disks = calloc(run->n ? run->n : 1, sizeof(*run->disks));
	if (run->disks == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < run->n; i++) {
		struct pop_disk *d = &run->disks[i];

		d->index = i;
		d->spec = &run->plan->disks[i];
		d->xcopy = d->xcopy_expected = -1;
		d->percent = -1;
		d->phase_since_ms = run->t0_ms;
	}
	return 0;
}

/* After replay: which disks copy in this run. An attempt that ended badly is retried. */
static void decide(struct pop_run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		struct pop_disk *d = &run->disks[i];

		if (d->attempt == 0)
			pop_disk_new_attempt(run, d, 1);
		if (d->ended && d->outcome != OUT_SUCCEEDED && !run->cleanup_only)
			pop_disk_new_attempt(run, d, d->attempt + 1);
		d->forward = !d->ended && !run->cleanup_only && d->outcome == OUT_NONE;
		d->phase = d->ended ? (d->outcome == OUT_SUCCEEDED ? XCLONE_PHASE_DONE
								   : XCLONE_PHASE_FAILED)
				    : XCLONE_PHASE_QUEUED;
	}
}

static int set_up(struct pop_run *run, const struct xclone_populate_options *opt,
		  struct xclone_error *err)
{
	const char *state = opt->state_dir && opt->state_dir[0] ? opt->state_dir
							      : XCLONE_POPULATE_STATE_DIR;
	int rc;

	if (opt->parallel > XCLONE_POPULATE_PARALLEL_MAX)
		return xclone_error_set(err, XC_E_USAGE, "parallel %u is more than %d",
					opt->parallel, XCLONE_POPULATE_PARALLEL_MAX);
	if (opt->conn.host == NULL || opt->conn.host[0] == '\0')
		return xclone_error_set(err, XC_E_USAGE, "no ESXi host given (--host)");
	rc = choose_key(run, opt, err);
	if (rc == 0 && snprintf(run->dir, sizeof(run->dir), "%s/%s", state, run->key) >=
			       (int)sizeof(run->dir))
		rc = xclone_error_set(err, XC_E_USAGE, "state folder path too long");
	if (rc == 0)
		rc = xc_journal_open(run->dir, &run->j, err);
	if (rc == 0 && xc_journal_dropped(run->j) > 0)
		pop_log(run, "journal: dropped a torn last line of %zu bytes (a crash mid-write)",
			xc_journal_dropped(run->j));
	if (rc == 0)
		rc = choose_plan(run, opt, err);
	if (rc == 0)
		rc = make_disks(run, err);
	if (rc == 0)
		rc = pop_replay(run, err);
	if (rc == 0)
		decide(run);
	return rc;
}

/* ---- the phases -------------------------------------------------------------------------- */

static bool host_work(const struct pop_disk *d)
{
	return !d->ended && (d->forward || pop_needs_task_clean(d) || pop_needs_detach(d));
}

static bool array_work(const struct pop_disk *d)
{
	return !d->ended && (d->forward || (d->intent & POP_BIT(STEP_MAP)));
}

static bool anything_to_do(const struct pop_run *run)
{
	for (size_t i = 0; i < run->n; i++)
		if (!run->disks[i].ended)
			return true;
	return run->need_delete_rescan || run->group_owned;
}

static int begin_record(struct pop_run *run, struct xclone_error *err)
{
	cJSON *data = cJSON_CreateObject();

	run->run_no++;
	if (journal_begin(run->j) == NULL)
		cJSON_AddItemToObject(data, "plan", pop_plan_to_json(run->plan));
	cJSON_AddStringToObject(data, "host", run->opt->conn.host);
	cJSON_AddNumberToObject(data, "port", run->opt->conn.port);
	cJSON_AddStringToObject(data, "product", run->opt->product ? run->opt->product : "");
	cJSON_AddNumberToObject(data, "pid", (double)getpid());
	cJSON_AddBoolToObject(data, "cleanup_only", run->cleanup_only);
	cJSON_AddStringToObject(data, "version", xclone_version());
	return pop_record(run, NULL, STEP_BEGIN, MARK_DONE, data, err);
}

static void *host_open_thread(void *arg)
{
	struct pop_run *run = arg;
	struct xclone_error err = { 0 };

	if (pop_host_open(run, &err) != 0) {
		pop_fatal(run, &err);
		pop_log(run, "agent: %s", err.message);
	}
	return NULL;
}

/* The agent (connect, hello, host.info) and the array (login, each PV's LUN) at the same
 * time: neither needs the other yet. Connections for the disks are opened meanwhile. */
static void open_sides(struct pop_run *run)
{
	struct xclone_error err = { 0 };
	bool agent = run->need_delete_rescan, array = run->group_owned, threaded = false;
	unsigned parallel = run->opt->parallel ? run->opt->parallel : XCLONE_POPULATE_PARALLEL_DEFAULT;
	unsigned busy = 0;
	pthread_t t;

	for (size_t i = 0; i < run->n; i++) {
		agent = agent || host_work(&run->disks[i]);
		array = array || array_work(&run->disks[i]);
		busy += host_work(&run->disks[i]);
	}
	if (agent && run->be.warm_up != NULL)
		run->be.warm_up(run->be.ctx, busy < parallel ? busy : parallel);
	if (agent)
		threaded = pthread_create(&t, NULL, host_open_thread, run) == 0;
	if (agent && !threaded)
		host_open_thread(run);
	if (array && pop_array_open(run, &err) != 0) {
		pop_fatal(run, &err);
		pop_log(run, "array: %s", err.message);
	}
	for (size_t i = 0; i < run->n && !pop_stopping(run) && !run->array_dead; i++)
		pop_array_prepare(run, &run->disks[i]);
	if (threaded)
		pthread_join(t, NULL);
	/* Without the agent nothing can be copied, and no LUN may be unmapped while its
	 * device may still be on the host. */
	if (run->agent_dead || run->array_dead)
		for (size_t i = 0; i < run->n; i++)
			run->disks[i].forward = false;
}

static void phase_a(struct pop_run *run)
{
	bool mapping = false, rescan = false;

	for (size_t i = 0; i < run->n; i++)
		mapping = mapping || run->disks[i].forward;
	if (!mapping || pop_stopping(run) || run->array_dead || run->journal_dead)
		return;
	if (pop_array_host_group(run) != 0)
		return;
	for (size_t i = 0; i < run->n && !pop_stopping(run); i++) {
		struct pop_disk *d = &run->disks[i];

		pop_array_map(run, d);
		rescan = rescan || (d->forward && !(d->done & POP_BIT(STEP_DEVICE)));
	}
	if (run->array_dead)
		for (size_t i = 0; i < run->n; i++)
			run->disks[i].forward = false;
	if (rescan && !pop_stopping(run) && !run->agent_dead && !run->array_dead)
		(void)pop_rescan_add(run);
}

/* ---- disks in parallel ----------------------------------------------------------------- */

struct pool {
	struct pop_run *run;
	bool (*want)(const struct pop_disk *d);
	void (*fn)(struct pop_run *run, struct pop_disk *d);
	size_t next, busy;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	struct pop_run *run = p->run;

	for (;;) {
		struct pop_disk *d = NULL;

		pthread_mutex_lock(&run->lock);
		while (p->next < run->n && d == NULL) {
			struct pop_disk *c = &run->disks[p->next++];

			if (p->want(c))
				d = c;
		}
		if (d == NULL) {
			p->busy--;
			pthread_cond_broadcast(&run->workers_done);
			pthread_mutex_unlock(&run->lock);
			return NULL;
		}
		pthread_mutex_unlock(&run->lock);
		p->fn(run, d);
	}
}

static void cancel_all(struct pop_run *run)
{
	for (size_t i = 0; i < run->n; i++)
		pop_disk_cancel(run, &run->disks[i]);
}

/* Waits for the workers; on a stop, cancels the clones they watch (each once). */
static void wait_workers(struct pool *p)
{
	struct pop_run *run = p->run;

	pthread_mutex_lock(&run->lock);
	while (p->busy > 0) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WAIT_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&run->workers_done, &run->lock, &until);
		if (pop_stopping(run) && p->busy > 0) {
			pthread_mutex_unlock(&run->lock);
			cancel_all(run);
			pthread_mutex_lock(&run->lock);
		}
	}
	pthread_mutex_unlock(&run->lock);
}

/* fn for every disk want() accepts, at most `parallel` at a time. */
static void each_disk(struct pop_run *run, bool (*want)(const struct pop_disk *d),
		      void (*fn)(struct pop_run *run, struct pop_disk *d))
{
	unsigned parallel = run->opt->parallel ? run->opt->parallel : XCLONE_POPULATE_PARALLEL_DEFAULT;
	pthread_t threads[XCLONE_POPULATE_PARALLEL_MAX];
	struct pool p = { run, want, fn, 0, 0 };
	size_t started = 0, work = 0;

	for (size_t i = 0; i < run->n; i++)
		work += want(&run->disks[i]);
	for (size_t i = 0; i < parallel && i < work; i++) {
		pthread_mutex_lock(&run->lock);
		p.busy++;
		pthread_mutex_unlock(&run->lock);
		if (pthread_create(&threads[started], NULL, worker, &p) != 0) {
			pthread_mutex_lock(&run->lock);
			p.busy--;
			pthread_mutex_unlock(&run->lock);
			break;
		}
		started++;
	}
	if (started == 0 && work > 0) { /* no thread to be had: one disk after another, here */
		p.busy = 1;
		(void)worker(&p);
	}
	wait_workers(&p);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

/* A disk's stretch on the host, then at once its array cleanup: a LUN is presented no
 * longer than needed. */
static void disk_work(struct pop_run *run, struct pop_disk *d)
{
	pop_disk_host_work(run, d);
	pop_array_cleanup(run, d);
}

static void phase_b(struct pop_run *run)
{
	each_disk(run, host_work, disk_work);
}

static void phase_c(struct pop_run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		struct pop_disk *d = &run->disks[i];

		pop_array_cleanup(run, d);
		if (!d->ended)
			pop_phase(run, d, XCLONE_PHASE_PENDING, "cleanup left to do: run again with"
				  " key %s", run->key);
	}
	pop_rescan_delete(run);
	if (run->agent_open && !run->agent_dead)
		each_disk(run, pop_needs_verify, pop_verify_gone);
	if (!run->array_dead)
		pop_array_release_group(run);
}

static void finish_record(struct pop_run *run)
{
	struct xclone_populate_result *r = NULL;
	struct xclone_error err;
	cJSON *data;

	if (run->journal_dead || pop_result_build(run, &r) != 0)
		return;
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "status", xclone_populate_status_name(r->status));
	(void)pop_record(run, NULL, STEP_FINISH, MARK_DONE, data, &err);
	xclone_populate_result_free(r);
}

static void execute(struct pop_run *run)
{
	struct xclone_error err = { 0 };

	if (!anything_to_do(run)) {
		pop_log(run, "nothing left to do: the journal says this key is finished");
		return;
	}
	if (begin_record(run, &err) != 0)
		return;
	open_sides(run);
	phase_a(run);
	phase_b(run);
	phase_c(run);
	finish_record(run);
}

/* ---- the entry point --------------------------------------------------------------------- */

static void tear_down(struct pop_run *run)
{
	if (run->be_open)
		run->be.close(run->be.ctx);
	xc_journal_close(run->j);
	for (size_t i = 0; i < run->n; i++)
		xc_mapping_list_free(&run->disks[i].saved);
	free(run->disks);
	xclone_populate_plan_free(run->plan);
	for (size_t i = 0; i < run->n_warnings; i++)
		free(run->warnings[i]);
	free(run->warnings);
	pthread_cond_destroy(&run->workers_done);
	pthread_mutex_destroy(&run->lock);
}

/* The engine on a given backend (tests give a stand-in; xclone_populate the real one). */
int pop_run_with(const struct xclone_populate_options *opt, const struct pop_backend *be,
		 struct xclone_populate_result **out, struct xclone_error *err)
{
	struct pop_run run;
	int rc;

	if (out != NULL)
		*out = NULL;
	memset(&run, 0, sizeof(run));
	run.opt = opt;
	run.be = *be;
	run.be_open = true;
	run.cleanup_only = opt->cleanup_only;
	run.t0_ms = pop_now_ms();
	pthread_mutex_init(&run.lock, NULL);
	pthread_cond_init(&run.workers_done, NULL);
	pop_crash_parse(&run.crash, getenv("XCLONE_TEST_CRASH_AT"));
	rc = set_up(&run, opt, err);
	if (rc == 0) {
		execute(&run);
		if (run.fatal.code != XC_OK) {
			rc = run.fatal.code;
			if (err != NULL)
				*err = run.fatal;
		}
	}
	if (run.j != NULL && out != NULL && pop_result_build(&run, out) != 0 && rc == 0)
		rc = xclone_error_set(err, XC_E_NOMEM, "out of memory building the result");
	else if (rc == 0 && err != NULL)
		memset(err, 0, sizeof(*err));
	tear_down(&run);
	return rc;
}

int xclone_populate(const struct xclone_populate_options *opt, struct xclone_populate_result **out,
		    struct xclone_error *err)
{
	struct pop_backend be;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (opt == NULL)
		return xclone_error_set(err, XC_E_USAGE, "no options");
	rc = pop_backend_real(opt, &be, err);
	if (rc != 0)
		return rc;
	return pop_run_with(opt, &be, out, err);
}
