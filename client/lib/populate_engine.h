/*
 * Inside the populate engine (xclone_populate.h is the outside). The files:
 *
 *   populate.c          xclone_populate(): options, key, the run's phases, threads, stop
 *   populate_state.c    journal records: writing (intent / done / failed, crash hook)
 *                       and replaying them into the state below
 *   populate_host.c     host level: hello, host.info → adapters and initiators, rescans,
 *                       the device check at the end
 *   populate_array.c    array level: resolve, mappings, host object, map, unmap, restore
 *   populate_disk.c     one disk on the host: device.wait, preflight, clone, watch,
 *                       task.clean, device.detach
 *   populate_result.c   results, events, their JSON
 *   populate_plan.c     the plan and the key
 *   populate_backend.c  the real agent connection and array session
 *
 * Locking: run->lock guards the journal, the disks' state, warnings and event
 * delivery. Backend calls are made without it.
 */
#ifndef XCLONE_POPULATE_ENGINE_H
#define XCLONE_POPULATE_ENGINE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "array.h"
#include "journal.h"
#include "populate_backend.h"
#include "populate_plan.h"
#include "xclone_populate.h"

/* Journal steps. The names are the journal's "step" values and the crash hook's. */
enum pop_step {
	/* run level */
	STEP_BEGIN,
	STEP_HOST_INFO,
	STEP_HOST_GROUP,
	STEP_RESCAN_ADD,
	STEP_RESCAN_DELETE,
	STEP_HOST_RELEASE,
	STEP_FINISH,
	/* per disk, in the order they happen */
	STEP_RESOLVE,
	STEP_MAPPINGS,
	STEP_MAP,
	STEP_DEVICE,
	STEP_PREFLIGHT,
	STEP_CLONE,
	STEP_WATCH,
	STEP_CANCEL,
	STEP_TASK_CLEAN,
	STEP_DETACH,
	STEP_UNMAP,
	STEP_RESTORE,
	STEP_DISK_END,
	STEP_COUNT
};

enum pop_mark { MARK_INTENT, MARK_DONE, MARK_FAILED };

#define POP_BIT(step) (1u << (step))
#define POP_ADAPTERS_MAX 16
#define POP_INITIATORS_MAX XC_HOST_INITIATORS_MAX
#define POP_AGENT_KEY_MAX (XCLONE_POPULATE_KEY_MAX + 32)
#define POP_TASK_MAX 65
#define POP_TEXT_MAX 1024

/* Outcome of a disk's attempt. */
enum pop_outcome { OUT_NONE, OUT_SUCCEEDED, OUT_FAILED, OUT_UNSAFE, OUT_CANCELED };

struct pop_disk {
	size_t index;
	const struct pop_disk_spec *spec;
	char agent_key[POP_AGENT_KEY_MAX];

	/* replayed from the journal (this attempt) and kept up to date */
	unsigned attempt;
	unsigned intent, done;          /* POP_BIT(step) of this attempt */
	bool ended;                     /* STEP_DISK_END done for this attempt */
	struct xc_lun lun;              /* STEP_RESOLVE done */
	struct xc_mapping_list saved;   /* STEP_MAPPINGS done: the LUN's mappings before us */
	bool mapped_before;             /* our host object was among them: never unmap */
	struct xc_mapping made;         /* STEP_MAP: the mapping we asked for */
	char task[POP_TASK_MAX];        /* STEP_CLONE done */
	enum pop_outcome outcome;
	int xcopy, xcopy_expected;      /* -1 unknown */
	char reasons[POP_TEXT_MAX];
	bool has_bytes;
	int64_t bytes;
	char error_code[32];
	char message[POP_TEXT_MAX];

	/* this run only */
	bool forward;                   /* copy steps to do in this run */
	bool host_stuck;                /* host-side cleanup could not finish: keep the LUN mapped */
	bool array_stuck;               /* array-side cleanup could not finish */
	bool watching;
	bool cancel_asked;
	enum xclone_populate_phase phase;
	int percent;
	int64_t phase_since_ms;
	int64_t phase_ms[XCLONE_POPULATE_PHASES];
};

struct pop_crash_point {
	char step[32];                  /* "" = no crash hook */
	enum pop_mark mark;
	long disk;                      /* -1: any */
};

struct pop_run {
	const struct xclone_populate_options *opt;
	struct pop_backend be;
	bool be_open;
	struct xc_journal *j;
	pthread_mutex_t lock;
	char key[XCLONE_POPULATE_KEY_MAX + 1];
	char dir[PATH_MAX];
	struct xclone_populate_plan *plan;  /* owned */
	struct pop_disk *disks;
	size_t n;
	int64_t t0_ms;
	unsigned run_no;
	bool resumed;
	bool cleanup_only;
	struct pop_crash_point crash;

	/* journal facts */
	char journal_host[256];
	bool group_owned;                   /* a host object we created and did not release */
	struct xc_host_group group;         /* the host object in use (name, kind) */
	bool have_group;
	bool need_delete_rescan;

	/* host */
	bool agent_open, array_open;
	_Atomic bool agent_dead, array_dead, journal_dead; /* set by any thread */
	char hostname[256];
	char adapters[POP_ADAPTERS_MAX][33];
	size_t n_adapters;
	char initiators[POP_INITIATORS_MAX][XC_INITIATOR_MAX];
	size_t n_initiators;
	int64_t rescans;

	pthread_cond_t workers_done;        /* a worker of each_disk() ended */

	char **warnings;
	size_t n_warnings;
	struct xclone_error fatal;          /* first error that stopped the run */
};

/* ---- populate.c ---- */
/* The engine on a given backend (tests give a stand-in; xclone_populate the real one). */
int pop_run_with(const struct xclone_populate_options *opt, const struct pop_backend *be,
		 struct xclone_populate_result **out, struct xclone_error *err);

/* ---- populate_state.c ---- */
const char *pop_step_name(enum pop_step s);
const char *pop_outcome_name(enum pop_outcome o);
int64_t pop_now_ms(void);
/* Writes {seq, t, run, step, mark[, disk, attempt]} + data's members (consumed, may be
 * NULL); then the crash hook. Takes run->lock. A failure marks the journal dead. */
int pop_record(struct pop_run *run, struct pop_disk *d, enum pop_step step, enum pop_mark mark,
	       cJSON *data, struct xclone_error *err);
/* Rebuilds run and disk state from the journal's records. */
int pop_replay(struct pop_run *run, struct xclone_error *err);
/* Reads XCLONE_TEST_CRASH_AT (a test hook, docs/POPULATE.md). */
void pop_crash_parse(struct pop_crash_point *c, const char *text);
/* Starts attempt n of a disk: forgets the previous attempt's state. */
void pop_disk_new_attempt(struct pop_run *run, struct pop_disk *d, unsigned attempt);
/* Records why a disk failed (first failure wins) and its outcome. */
/* A disk that will not copy further in this run gets an outcome: the run's fatal
 * error, the stop, or --cleanup. */
void pop_disk_settle(struct pop_run *run, struct pop_disk *d);
void pop_disk_fail(struct pop_disk *d, enum pop_outcome o, const char *code,
		   const struct xclone_error *err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void pop_warn(struct pop_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* JSON helpers shared by the step files. */
cJSON *pop_lun_json(const struct xc_lun *lun);
int pop_lun_from_json(const cJSON *o, struct xc_lun *lun);
cJSON *pop_mappings_json(const struct xc_mapping_list *l);
int pop_mappings_from_json(const cJSON *a, struct xc_mapping_list *l);

/* ---- populate_result.c ---- */
/* Moves a disk to a phase (times it) and tells the caller; takes run->lock. */
void pop_phase(struct pop_run *run, struct pop_disk *d, enum xclone_populate_phase p,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* An event without a phase change (progress, reconnects); run->lock must be held. */
void pop_emit_locked(struct pop_run *run, struct pop_disk *d, const char *message);
void pop_log(struct pop_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pop_result_build(struct pop_run *run, struct xclone_populate_result **out);

/* ---- error classes ---- */
/* The agent answered (an agent error), as opposed to a lost or refused connection. */
bool pop_agent_answered(const struct xclone_error *e);
/* The array answered with an HTTP status, as opposed to no answer at all. */
bool pop_array_answered(const struct xclone_error *e);
/* Remembers the first error that stops the whole run. */
void pop_fatal(struct pop_run *run, const struct xclone_error *e);

/* ---- populate_host.c ---- */
int pop_host_open(struct pop_run *run, struct xclone_error *err);
int pop_rescan_add(struct pop_run *run);
void pop_rescan_delete(struct pop_run *run);
bool pop_needs_verify(const struct pop_disk *d);
void pop_verify_gone(struct pop_run *run, struct pop_disk *d);

/* ---- populate_array.c ---- */
int pop_array_open(struct pop_run *run, struct xclone_error *err);
void pop_array_prepare(struct pop_run *run, struct pop_disk *d);
int pop_array_host_group(struct pop_run *run);
void pop_array_map(struct pop_run *run, struct pop_disk *d);
/* Unmap, restore, disk-end once the host let go of the LUN; from any thread. */
void pop_array_cleanup(struct pop_run *run, struct pop_disk *d);
void pop_array_release_group(struct pop_run *run);

/* ---- populate_disk.c ---- */
/* Forward host steps of one disk (when d->forward), then its host-side cleanup. */
void pop_disk_host_work(struct pop_run *run, struct pop_disk *d);
/* Host-side cleanup this disk still needs. */
bool pop_needs_task_clean(const struct pop_disk *d);
bool pop_needs_detach(const struct pop_disk *d);
/* Asks the agent to cancel a running clone (the stop path, from the main thread). */
void pop_disk_cancel(struct pop_run *run, struct pop_disk *d);
bool pop_stopping(const struct pop_run *run);

#endif
