/*
 * Unit tests of agent/task_watch.c, the non-blocking task.watch state machine:
 * no event and DONE at once for a final task, a first event, one event per
 * change (and none without a change), the change to a final state, a task that
 * disappears, and a supervisor that dies (lost). The "supervisor" is this test
 * holding the task's lock and writing records by hand.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_fixture.h"
#include "tap.h"
#include "task_watch.h"

static struct ag_config cfg;
static struct ag_store store;

static int new_task(struct xp_task *t, enum xp_task_state st)
{
	struct xp_error e = { 0 };
	int fd = -1;

	xp_task_init(t);
	if (ag_task_create(&store, ag_now_ms(), t->id, &fd, &e) != 0)
		return -1;
	snprintf(t->source, sizeof(t->source), "[ds1] vm/vm.vmdk");
	snprintf(t->target, sizeof(t->target), "naa.600a0001");
	snprintf(t->pointer, sizeof(t->pointer), "/vmfs/volumes/u/.xclone/%s.vmdk", t->id);
	t->created_ms = ag_now_ms();
	t->state = st;
	if (xp_task_state_final(st)) {
		t->has_ended_ms = true;
		t->ended_ms = t->created_ms;
	}
	ag_task_write(&store, t, &e);
	return fd;
}

struct step {
	int rc;
	enum ag_watch_status status;
	bool has_event;
	struct xp_progress ev;
};

static struct step step(struct ag_watch *w)
{
	struct step s = { 0 };
	struct xp_error e = { 0 };

	s.rc = ag_watch_step(w, &store, &s.status, &s.has_event, &s.ev, &e);
	return s;
}

/*
 * A record write, as the supervisor makes them: never two within 100 ms. The
 * watch tells writes apart by inode, size and mtime; a freed inode number can
 * come back and mtime moves in clock ticks, so writes in one tick could look
 * alike, which the supervisor's spacing rules out.
 */
static void write_task(const struct xp_task *t)
{
	struct xp_error e = { 0 };

	usleep(20 * 1000);
	ag_task_write(&store, t, &e);
}

static void test_final_at_start(struct ag_watch *w)
{
	struct xp_task t;
	struct xp_error e = { 0 };
	struct step s;
	int fd = new_task(&t, XP_TASK_SUCCEEDED);

	close(fd);
	ok(ag_watch_start(w, &store, t.id, &e) == 0, "watch of a finished task starts");
	s = step(w);
	ok(s.rc == 0 && s.status == AG_WATCH_DONE && !s.has_event, "final at start: DONE, no event");
	ok(w->task.state == XP_TASK_SUCCEEDED, "the answer is the record");
}

static void test_changes(struct ag_watch *w)
{
	struct xp_task t;
	struct xp_error e = { 0 };
	struct step s;
	int fd = new_task(&t, XP_TASK_QUEUED); /* this test plays the supervisor: lock held */

	ok(ag_watch_start(w, &store, t.id, &e) == 0, "watch starts");
	s = step(w);
	ok(s.rc == 0 && s.status == AG_WATCH_MORE && s.has_event && s.ev.state == XP_TASK_QUEUED &&
	   s.ev.percent == 0 && strcmp(s.ev.task, t.id) == 0, "first step: an event (queued, 0%%)");
	s = step(w);
	ok(s.rc == 0 && s.status == AG_WATCH_MORE && !s.has_event, "nothing changed: no event");

	t.state = XP_TASK_RUNNING;
	t.has_pid = true;
	t.pid = 1234;
	write_task(&t);
	s = step(w);
	ok(s.has_event && s.ev.state == XP_TASK_RUNNING && s.status == AG_WATCH_MORE, "state change: event");
	t.has_started_ms = true; /* a change that is not progress: no event */
	t.started_ms = t.created_ms;
	write_task(&t);
	s = step(w);
	ok(s.rc == 0 && !s.has_event, "a change outside state/percent/bytes: no event");
	t.percent = 42;
	write_task(&t);
	s = step(w);
	ok(s.has_event && s.ev.percent == 42 && !s.ev.has_bytes, "percent change: event");

	t.state = XP_TASK_SUCCEEDED;
	t.percent = 100;
	t.has_bytes = true;
	t.bytes = 8 << 20;
	t.has_ended_ms = true;
	t.ended_ms = ag_now_ms();
	write_task(&t);
	s = step(w);
	ok(s.has_event && s.ev.state == XP_TASK_SUCCEEDED && s.ev.has_bytes && s.ev.bytes == 8 << 20 &&
	   s.status == AG_WATCH_DONE, "final: the change as an event, then DONE");
	ok(w->task.state == XP_TASK_SUCCEEDED && w->task.percent == 100, "DONE carries the final record");
	close(fd);
}

static void test_lost_and_gone(struct ag_watch *w)
{
	struct xp_task t;
	struct xp_error e = { 0 };
	struct step s;
	int fd = new_task(&t, XP_TASK_RUNNING);

	ag_watch_start(w, &store, t.id, &e);
	s = step(w);
	ok(s.has_event && s.status == AG_WATCH_MORE, "running task watched");
	close(fd); /* the supervisor dies without a final record */
	s = step(w);
	ok(s.rc == 0 && s.status == AG_WATCH_DONE && s.has_event && s.ev.state == XP_TASK_LOST,
	   "supervisor gone: lost, as an event, then DONE");

	fd = new_task(&t, XP_TASK_RUNNING);
	ag_watch_start(w, &store, t.id, &e);
	step(w);
	ag_task_discard(&store, t.id);
	s = step(w);
	ok(s.rc == XP_TASK_NOT_FOUND, "task removed while watched: TASK_NOT_FOUND");
	close(fd);
	ok(ag_watch_start(w, &store, "no/such", &e) == XP_TASK_NOT_FOUND, "bad id: TASK_NOT_FOUND");
	ok(ag_watch_start(w, &store, "t-0-0001", &e) == XP_TASK_NOT_FOUND, "unknown id: TASK_NOT_FOUND");
}

int main(void)
{
	struct xp_error e = { 0 };
	static struct ag_watch w;

	ag_config_defaults(&cfg);
	fx_path(cfg.state_dir, sizeof(cfg.state_dir), "%s/state", fx_tmpdir());
	ag_store_create(&store, &cfg, &e);
	test_final_at_start(&w);
	test_changes(&w);
	test_lost_and_gone(&w);
	return tap_done();
}
