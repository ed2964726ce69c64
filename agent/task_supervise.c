/* The clone supervisor (see task_supervise.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clone_progress.h"
#include "host_query.h"
#include "log.h"
#include "spawn.h"
#include "task_supervise.h"

#define FINAL_WRITE_TRIES 50 /* x 100 ms: how long a full state folder is waited out */

/*
 * Set by the SIGTERM handler: someone (an operator, a host shutdown) asks the
 * supervisor itself to stop. A handler can reach nothing else, hence the one
 * process-wide variable; the ticker reads it like a cancel request.
 */
static volatile sig_atomic_t term_received;

static void on_sigterm(int sig)
{
	(void)sig;
	term_received = 1;
}

struct sup {
	struct ag_store store;             /* the supervisor's own copy, no store lock */
	const struct ag_clone_plan *plan;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Guarded by mu from here on. */
	struct xp_task rec;                /* what status.json should say */
	struct ag_clone_progress prog;
	struct ag_spawn_result res;        /* res.pid is set before the first line */
	bool dirty, stop, cancel, term_sent, kill_sent;
	pid_t pid;                         /* vmkfstools, known from its first line */
	int64_t start_ms;                  /* when vmkfstools was started (epoch ms) */
	int64_t last_write, term_at;       /* monotonic ms */
	struct xp_task *snap;              /* the ticker's copy for writing (heap) */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copies the parser's stderr tail into the record (it is kept valid UTF-8). */
static void record_tail(struct xp_task *t, const struct ag_clone_progress *p)
{
	memcpy(t->stderr_tail, p->tail, p->tail_len + 1);
}

/* --- the line callback (main thread, inside ag_spawn_run) ------------------- */

static int on_line(void *ctx, enum ag_stream stream, const char *line, size_t len)
{
	struct sup *u = ctx;
	unsigned changed;
	int stop;

	pthread_mutex_lock(&u->mu);
	if (u->pid == 0) {
		/* The first line: vmkfstools runs (it prints its format line at once). */
		u->pid = u->res.pid;
		u->rec.state = XP_TASK_RUNNING;
		u->rec.has_pid = true;
		u->rec.pid = u->pid;
		u->rec.has_started_ms = true;
		u->rec.started_ms = u->start_ms;
		u->dirty = true;
	}
	changed = ag_clone_progress_feed(&u->prog, stream, line, len);
	if (changed & AG_PROGRESS_PERCENT)
		u->rec.percent = u->prog.percent;
	if (changed & AG_PROGRESS_STDERR)
		record_tail(&u->rec, &u->prog);
	if (changed)
		u->dirty = true;
	stop = u->cancel;
	pthread_cond_signal(&u->cv);
	pthread_mutex_unlock(&u->mu);
	/* A cancel that came before the pid was known: spawn stops the group itself. */
	return stop;
}

/*
 * The unterminated piece after a read: a "Clone: N% done." drawn with a leading
 * '\r' is complete before its separator arrives, so the record shows N while
 * vmkfstools is silent. Only the percent is taken from it; the whole piece
 * still reaches on_line (and the failure and tail parsing) once terminated.
 */
static int on_partial(void *ctx, enum ag_stream stream, const char *piece, size_t len)
{
	struct sup *u = ctx;
	size_t used;
	int percent = ag_clone_percent(piece, len, &used);

	if (percent < 0 || stream != AG_STREAM_STDOUT)
		return 0;
	pthread_mutex_lock(&u->mu);
	if (u->pid != 0 && percent != u->rec.percent) {
		u->rec.percent = percent;
		u->dirty = true;
		pthread_cond_signal(&u->cv);
	}
	pthread_mutex_unlock(&u->mu);
	return 0;
}

/* --- the ticker thread ------------------------------------------------------ */

/*
 * Forwards a cancel to vmkfstools' process group: SIGTERM, SIGKILL after the
 * grace. (Between spawn reaping vmkfstools and the ticker stopping lies a
 * window of microseconds in which the group id could name a new group; it
 * would have to be reused in that instant.)
 */
static void forward_cancel(struct sup *u, int64_t now)
{
	/*
	 * Before its first line the pid is only in spawn's result, stored by this
	 * process's main thread when it forked (an aligned int: read it atomically).
	 */
	pid_t pid = u->pid ? u->pid : __atomic_load_n(&u->res.pid, __ATOMIC_RELAXED);

	if (!u->cancel || pid <= 0)
		return;
	if (!u->term_sent) {
		if (kill(-pid, SIGTERM) != 0)
			return; /* its group is not set up yet: next tick */
		u->term_sent = true;
		u->term_at = now;
		ag_log(AG_LOG_INFO, "task %s: cancel: SIGTERM to vmkfstools (pid %d)",
		       u->plan->task_id, (int)pid);
	} else if (!u->kill_sent &&
		   now - u->term_at >= (int64_t)u->store.cfg->cancel_grace_s * 1000) {
		(void)kill(-pid, SIGKILL);
		u->kill_sent = true;
		ag_log(AG_LOG_WARN, "task %s: vmkfstools ignored SIGTERM; SIGKILL",
		       u->plan->task_id);
	}
}

/* Writes the record if it changed and the last write is old enough. Called with mu held. */
static void flush_if_due(struct sup *u, int64_t now)
{
	struct xp_error e = { 0 };
	int rc;

	if (!u->dirty || now - u->last_write < AG_SUPERVISE_WRITE_MS)
		return;
	memcpy(u->snap, &u->rec, sizeof(*u->snap));
	u->dirty = false;
	u->last_write = now;
	pthread_mutex_unlock(&u->mu);
	rc = ag_task_write(&u->store, u->snap, &e);
	pthread_mutex_lock(&u->mu);
	if (rc != 0) {
		/* Keep the change pending: the next tick tries again (ENOSPC may pass). */
		u->dirty = true;
		ag_log(AG_LOG_WARN, "task %s: %s", u->plan->task_id, e.message);
	}
}

static void wait_tick(struct sup *u)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += AG_SUPERVISE_TICK_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	(void)pthread_cond_timedwait(&u->cv, &u->mu, &ts);
}

static void *ticker(void *arg)
{
	struct sup *u = arg;

	pthread_mutex_lock(&u->mu);
	while (!u->stop) {
		bool asked;

		wait_tick(u);
		if (u->stop)
			break;
		if (!u->cancel) {
			pthread_mutex_unlock(&u->mu);
			asked = term_received ||
				ag_task_cancel_requested(&u->store, u->plan->task_id);
			pthread_mutex_lock(&u->mu);
			u->cancel = asked;
		}
		forward_cancel(u, mono_ms());
		flush_if_due(u, mono_ms());
	}
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

/* --- outcome ---------------------------------------------------------------- */

/* The target's clone-write counter; false when vsish cannot tell. */
static bool clone_writes(const struct sup *u, uint64_t *value)
{
	struct xp_error e = { 0 };
	bool known = false;

	if (ag_clone_write_counter(u->store.cfg, u->plan->device_id, value, &known, &e) != 0) {
		ag_log(AG_LOG_INFO, "task %s: clone-write counter unknown: %s", u->plan->task_id,
		       e.message);
		return false;
	}
	return known;
}

static void set_message(struct xp_task *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_message(struct xp_task *t, const char *fmt, ...)
{
	va_list ap;
	char raw[XP_MESSAGE_MAX + 1];

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	ag_clone_text_copy(t->message, sizeof(t->message), raw, strlen(raw));
}

static void fail(struct xp_task *t, enum xp_code code)
{
	t->state = XP_TASK_FAILED;
	t->has_error_code = true;
	t->error_code = code;
}

/* Removes the partial pointer files of a canceled clone; notes a failure in the message. */
static void remove_partial_pointer(struct sup *u, struct xp_task *t)
{
	struct xp_error e = { 0 };

	if (ag_task_remove_pointer(u->store.cfg, u->plan->pointer, u->plan->task_id, NULL, NULL,
				   &e) != 0)
		set_message(t, "%s; partial pointer files remain: %s", t->message, e.message);
}

/* The final state from how vmkfstools ended (or could not start). */
static void settle(struct sup *u, struct xp_task *t, int spawn_rc, const struct ag_error *se)
{
	const struct ag_spawn_result *r = &u->res;

	t->has_ended_ms = true;
	t->ended_ms = ag_now_ms();
	if (spawn_rc != 0) {
		fail(t, XP_HOST_COMMAND_FAILED);
		set_message(t, "cannot run vmkfstools: %s", se->msg);
		return;
	}
	if (!t->has_started_ms) {
		/* It ran, but printed nothing. */
		t->has_started_ms = true;
		t->started_ms = u->start_ms;
	}
	t->has_exit_code = r->exited;
	t->exit_code = r->exited ? r->exit_code : 0;
	t->has_signal = r->signaled;
	t->signal = r->signaled ? r->term_signal : 0;
	if (r->exited && r->exit_code == 0) {
		t->state = XP_TASK_SUCCEEDED;
		t->percent = 100;
		t->has_bytes = true;
		t->bytes = (int64_t)u->plan->size_bytes;
	} else if (u->cancel) {
		t->state = XP_TASK_CANCELED;
		set_message(t, "%s", term_received ? "canceled: the supervisor received SIGTERM"
						   : "canceled by task.cancel");
		remove_partial_pointer(u, t);
	} else if (u->prog.failed) {
		fail(t, XP_CLONE_FAILED);
		set_message(t, "%s", u->prog.failure);
	} else if (r->exited) {
		fail(t, XP_CLONE_FAILED);
		set_message(t, "vmkfstools exited with status %d", r->exit_code);
	} else {
		fail(t, XP_CLONE_FAILED);
		set_message(t, "vmkfstools was killed by signal %d", r->term_signal);
	}
}

/* The final record must land: a full state folder is waited out for a while. */
static int write_final(struct sup *u, const struct xp_task *t)
{
	struct xp_error e = { 0 };

	for (int i = 0; i < FINAL_WRITE_TRIES; i++) {
		if (ag_task_write(&u->store, t, &e) == 0)
			return 0;
		if (e.code != XP_NO_SPACE)
			break;
		(void)poll(NULL, 0, 100);
	}
	ag_log(AG_LOG_ERROR, "task %s: cannot record its outcome (%s): it will read as lost",
	       u->plan->task_id, e.message);
	return -1;
}

/* --- running ---------------------------------------------------------------- */

static int run_vmkfstools(struct sup *u, struct ag_error *se)
{
	char rdm[AG_PATH_MAX + 8];
	const char *argv[] = { u->store.cfg->vmkfstools_path, "-i", u->plan->source, "-d", rdm,
			       u->plan->pointer, NULL };
	struct ag_spawn_opts o = {
		.argv = argv,
		.kill_grace_ms = (int)u->store.cfg->cancel_grace_s * 1000,
		.capture_max = XP_STDERR_TAIL_MAX,
		.on_line = on_line,
		.on_partial = on_partial,
		.ctx = u,
		.own_process_group = true,
	};

	snprintf(rdm, sizeof(rdm), "rdm:%s", u->plan->device_path);
	return ag_spawn_run(&o, &u->res, se);
}

static int sup_init(struct sup *u, const struct ag_store *s, const struct ag_clone_plan *plan)
{
	pthread_condattr_t ca;
	struct xp_error e = { 0 };

	memset(u, 0, sizeof(*u));
	u->store.cfg = s->cfg;
	u->store.lock_fd = -1;
	u->plan = plan;
	u->snap = malloc(sizeof(*u->snap));
	if (u->snap == NULL)
		return -1;
	ag_clone_progress_init(&u->prog);
	if (ag_task_read(&u->store, plan->task_id, &u->rec, &e) != 0) {
		ag_log(AG_LOG_ERROR, "task %s: cannot read its record: %s", plan->task_id,
		       e.message);
		free(u->snap);
		return -1;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&u->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&u->mu, NULL);
	return 0;
}

static void sup_free(struct sup *u)
{
	pthread_cond_destroy(&u->cv);
	pthread_mutex_destroy(&u->mu);
	ag_spawn_result_free(&u->res);
	free(u->snap);
}

static void stop_ticker(struct sup *u, pthread_t th)
{
	pthread_mutex_lock(&u->mu);
	u->stop = true;
	pthread_cond_signal(&u->cv);
	pthread_mutex_unlock(&u->mu);
	pthread_join(th, NULL);
}

/* Runs vmkfstools under the ticker; fills the record's final state. */
static void run_clone(struct sup *u, struct xp_task *final)
{
	struct ag_error se = { 0 };
	pthread_t th;
	int rc;

	u->start_ms = ag_now_ms();
	if (pthread_create(&th, NULL, ticker, u) != 0) {
		*final = u->rec;
		fail(final, XP_INTERNAL);
		final->has_ended_ms = true;
		final->ended_ms = ag_now_ms();
		set_message(final, "cannot start the supervisor's progress thread");
		return;
	}
	rc = run_vmkfstools(u, &se);
	stop_ticker(u, th);
	*final = u->rec;
	record_tail(final, &u->prog);
	settle(u, final, rc, &se);
}

int ag_supervise_run(const struct ag_store *s, const struct ag_clone_plan *plan)
{
	struct sigaction sa;
	struct sup *u = malloc(sizeof(*u));
	struct xp_task *final = malloc(sizeof(*final));
	uint64_t before = 0, after = 0;
	bool known_before, known_after;
	int rc = -1;

	if (u == NULL || final == NULL || sup_init(u, s, plan) != 0) {
		free(u);
		free(final);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigterm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	known_before = clone_writes(u, &before);
	if (term_received || ag_task_cancel_requested(&u->store, plan->task_id)) {
		*final = u->rec;
		final->state = XP_TASK_CANCELED;
		final->has_ended_ms = true;
		final->ended_ms = ag_now_ms();
		set_message(final, "canceled by task.cancel before vmkfstools started");
	} else {
		run_clone(u, final);
		known_after = final->has_started_ms && clone_writes(u, &after);
		final->has_xcopy_used = known_before && known_after;
		final->xcopy_used = final->has_xcopy_used && after > before;
	}
	rc = write_final(u, final);
	ag_log(AG_LOG_INFO, "task %s: %s", plan->task_id, xp_task_state_name(final->state));
	sup_free(u);
	free(u);
	free(final);
	return rc;
}

/* --- detaching -------------------------------------------------------------- */

struct start_arg {
	const struct ag_store *store;
	const struct ag_clone_plan *plan;
};

/* The detached process: a fresh syslog connection (daemonize closed the old one). */
static int supervisor_main(void *arg)
{
	const struct start_arg *a = arg;

	closelog();
	ag_log_open((int)a->store->cfg->log_level, 0);
	return ag_supervise_run(a->store, a->plan) == 0 ? 0 : 1;
}

int ag_supervise_start(const struct ag_store *s, const struct ag_clone_plan *plan, int lock_fd,
		       pid_t *pid, struct xp_error *err)
{
	struct start_arg a = { s, plan };
	struct ag_error e = { 0 };

	if (ag_daemonize(supervisor_main, &a, lock_fd, pid, &e) != 0)
		return xp_error_set(err, XP_INTERNAL, "task", "cannot start the supervisor: %s",
				    e.msg);
	return 0;
}
