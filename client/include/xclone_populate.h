/*
 * libxclone populate: copy vSphere virtual disks onto the LUNs of Kubernetes
 * PersistentVolumes, crash-safe, many disks at once (docs/POPULATE.md).
 *
 *     struct xclone_populate_plan *plan = xclone_populate_plan_new();
 *     xclone_populate_plan_add_spec(plan, "[ds1] vm/vm.vmdk=pvc-1234", &err);
 *     struct xclone_populate_options o;
 *     xclone_populate_options_init(&o);
 *     o.conn.host = "esx01"; o.conn.identity_file = "/secrets/id_ed25519"; ...
 *     o.product = "pureFlashArray"; o.secret_dir = "/secrets/array";
 *     o.plan = plan; o.key = "pvc-3f2a";
 *     rc = xclone_populate(&o, &result, &err);
 *     ... result->status, result->disks[i].xcopy ...
 *     xclone_populate_result_free(result); xclone_populate_plan_free(plan);
 *
 * For each disk: resolve the PV to its LUN and record the LUN's mappings; make
 * sure the array has a host object for the ESXi host's initiators; map; rescan
 * (once for all disks); wait for the device; preflight; clone with the agent
 * (idempotency key "<key>/disk-<n>"); watch; then clean up, always: task.clean,
 * device.detach, unmap, restore the LUN's mappings, delete-type rescan.
 *
 * Every step is journaled (fsync) in <state_dir>/<key>/journal.jsonl before its
 * side effect and after it. Running again with the same key resumes from where
 * a crashed run stopped, or, with cleanup_only, only undoes what is left. A key
 * is used by one process at a time (its folder is locked).
 *
 * xclone_global_init() must have been called. Not reentrant on one key; any
 * number of keys may run in one process.
 */
#ifndef XCLONE_POPULATE_H
#define XCLONE_POPULATE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xclone.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XCLONE_POPULATE_STATE_DIR "/var/lib/xclone/populate"
#define XCLONE_POPULATE_KEY_MAX 100      /* [A-Za-z0-9][A-Za-z0-9._-]* */
#define XCLONE_POPULATE_DISKS_MAX 256
#define XCLONE_POPULATE_PARALLEL_DEFAULT 4
#define XCLONE_POPULATE_PARALLEL_MAX 64

/* ---- what to copy ------------------------------------------------------------ */

/* A list of disks: each a VMDK source and the PersistentVolume to copy it onto. */
struct xclone_populate_plan;

struct xclone_populate_plan *xclone_populate_plan_new(void);
void xclone_populate_plan_free(struct xclone_populate_plan *p);

/*
 * Adds one disk. pv_name is the PersistentVolume's name; volume_handle its
 * spec.csi.volumeHandle (NULL: none); attrs its spec.csi.volumeAttributes as
 * "key=value" strings (n_attrs may be 0). Strings are copied.
 */
int xclone_populate_plan_add(struct xclone_populate_plan *p, const char *source,
			     const char *pv_name, const char *volume_handle,
			     const char *const *attrs, size_t n_attrs, struct xclone_error *err);

/*
 * Adds one disk from the command-line form
 *   SOURCE=PV[,handle=H][,KEY=VALUE...]
 * where SOURCE ends with ".vmdk" (the first ".vmdk=" separates it, so a source
 * may hold '=' and ','), PV is the PersistentVolume's name, handle= its volume
 * handle and every other KEY=VALUE one of its volume attributes. Values cannot
 * hold ','; use a plan file for those.
 */
int xclone_populate_plan_add_spec(struct xclone_populate_plan *p, const char *spec,
				  struct xclone_error *err);

/*
 * Adds the disks of a plan file:
 *   {"disks": [{"source": "[ds1] vm/vm.vmdk", "pv_name": "pvc-1",
 *               "volume_handle": "...", "volume_attributes": {"k": "v"}}, ...]}
 */
int xclone_populate_plan_load(struct xclone_populate_plan *p, const char *path,
			      struct xclone_error *err);

size_t xclone_populate_plan_count(const struct xclone_populate_plan *p);

/* ---- progress ---------------------------------------------------------------- */

enum xclone_populate_phase {
	XCLONE_PHASE_QUEUED,     /* not started yet (waiting for a slot) */
	XCLONE_PHASE_PREPARE,    /* PV → LUN, its mappings recorded */
	XCLONE_PHASE_MAP,        /* host object, map, rescan */
	XCLONE_PHASE_DEVICE,     /* waiting for the device on the host */
	XCLONE_PHASE_PREFLIGHT,
	XCLONE_PHASE_CLONE,      /* vmkfstools running: percent, bytes */
	XCLONE_PHASE_CLEANUP,    /* task clean, detach, unmap, restore */
	XCLONE_PHASE_DONE,       /* copied and cleaned up */
	XCLONE_PHASE_FAILED,     /* failed and cleaned up (message says why) */
	XCLONE_PHASE_PENDING,    /* stopped with cleanup left to do: run again */
};
#define XCLONE_POPULATE_PHASES (XCLONE_PHASE_PENDING + 1)

struct xclone_populate_event {
	size_t disk;                 /* index in the plan */
	const char *source;
	const char *pv_name;
	enum xclone_populate_phase phase;
	int percent;                 /* 0..100 of the clone; -1 before it started */
	int xcopy;                   /* -1 not known yet, 0 host copy, 1 the array copied */
	bool has_bytes;
	int64_t bytes;
	int64_t elapsed_ms;          /* since xclone_populate() was called */
	const char *message;         /* for humans: a step, a reconnect, a failure; may be NULL */
};

/* Called one event at a time (never concurrently), from any of the engine's threads. */
typedef void (*xclone_populate_fn)(const struct xclone_populate_event *ev, void *userdata);

/* ---- running ----------------------------------------------------------------- */

/*
 * Opens one more connection to the agent (the engine calls it one call at a time, from
 * any thread, when the connections it has are all busy). 0 or an XC_E_* code.
 */
typedef int (*xclone_populate_connect_fn)(void *userdata, xclone_conn **out,
					  struct xclone_error *err);

struct xclone_populate_options {
	struct xclone_conn_options conn;   /* how to reach the agent (xclone.h) */
	xclone_conn *agent;                /* an open connection to use first (not closed here); its
					    * host must be conn.host, the key's journal records it */
	xclone_populate_connect_fn connect;/* opens more (closed here); NULL: xclone_connect(conn) */
	void *connect_userdata;
	unsigned channels_per_connection;  /* calls in flight per connection before another is
					    * opened (a watch holds one per disk; keep it under the
					    * SSH server's MaxSessions, 10 by default); 0: 1 */
	const char *product;               /* pureFlashArray, ontap, ... (MTV storageVendorProduct) */
	const char *secret_dir;            /* mounted secret, one file per key; NULL: environment */
	const char *state_dir;             /* NULL: XCLONE_POPULATE_STATE_DIR */
	const char *key;                   /* NULL: derived from host, port and plan */
	const struct xclone_populate_plan *plan; /* NULL or empty: the plan the key's journal holds */
	unsigned parallel;                 /* disks in flight at once; 0: 4 */
	bool cleanup_only;                 /* undo what the key's journal left, copy nothing */
	bool force;                        /* copy onto a LUN already mapped to other hosts */
	bool require_xcopy;                /* fail a disk the preflight predicts a host copy for */
	unsigned device_timeout_ms;        /* device.wait bound; 0: 120000 */
	const volatile sig_atomic_t *stop; /* becomes non-zero: cancel, clean up, return */
	xclone_populate_fn on_event;
	void *userdata;
	xclone_log_fn log;                 /* one line per step; NULL: silent */
	void *log_userdata;
};

void xclone_populate_options_init(struct xclone_populate_options *o);

enum xclone_populate_status {
	XCLONE_POPULATE_OK,          /* every disk copied, everything cleaned up */
	XCLONE_POPULATE_FAILED,      /* a disk failed; everything cleaned up */
	XCLONE_POPULATE_UNSAFE,      /* a disk was refused for safety (preflight blocker); cleaned up */
	XCLONE_POPULATE_INCOMPLETE,  /* stopped with work or cleanup left: run again with the key */
	XCLONE_POPULATE_INTERRUPTED, /* stopped by opt->stop; cleaned up */
};

struct xclone_populate_disk_result {
	size_t index;
	char *source, *pv_name;
	char *device;                    /* naa.… of the PV's LUN; NULL when not resolved */
	char *task;                      /* the agent's task id; NULL when none */
	enum xclone_populate_phase phase;/* DONE, FAILED or PENDING */
	unsigned attempt;                /* 1, or more after failed runs of the same key */
	int xcopy;                       /* -1 unknown, 0 host copy, 1 the array copied */
	int xcopy_expected;              /* the preflight's prediction; -1 no preflight */
	char *no_xcopy_reason;           /* the preflight's reasons, joined; NULL */
	bool has_bytes;
	int64_t bytes;
	int64_t phase_ms[XCLONE_POPULATE_PHASES]; /* time spent per phase in this run */
	char *error_code;                /* agent or engine code (CLONE_FAILED, TARGET_UNSAFE...); NULL */
	char *message;                   /* what failed, for humans; NULL */
};

struct xclone_populate_result {
	char *key;
	char *journal;                   /* the journal file */
	enum xclone_populate_status status;
	bool resumed;                    /* the journal had work from an earlier run */
	struct xclone_populate_disk_result *disks;
	size_t n_disks;
	int64_t elapsed_ms;
	int64_t rescans;                 /* rescans the agent ran for this run */
	char **warnings;                 /* things left that need a human (never secrets) */
	size_t n_warnings;
};

/*
 * Runs (or resumes, or with cleanup_only cleans) the populate of opt->key.
 * Returns 0 when the run reached its end, whatever became of the disks
 * (*out->status says); otherwise an XC_E_* code for what stopped it:
 * XC_E_USAGE / XC_E_CONFIG (options, plan, secret), XC_E_CONFLICT (the key is
 * in use by another process, or belongs to another plan or host), XC_E_CONNECT
 * / XC_E_AUTH / XC_E_HOSTKEY (agent or array unreachable), XC_E_IO (journal).
 * *out is filled whenever the journal could be opened (NULL otherwise); its
 * status is INCOMPLETE when work is left.
 */
int xclone_populate(const struct xclone_populate_options *opt, struct xclone_populate_result **out,
		    struct xclone_error *err);

void xclone_populate_result_free(struct xclone_populate_result *r);

/* "queued", "prepare", ..., "pending" */
const char *xclone_populate_phase_name(enum xclone_populate_phase p);
/* "ok", "failed", "unsafe", "incomplete", "interrupted" */
const char *xclone_populate_status_name(enum xclone_populate_status s);

/*
 * One JSON line (no LF) for an event:
 *   {"disk":0,"source":"…","pv":"…","phase":"clone","percent":42,"xcopy":true,
 *    "bytes":1048576,"elapsed":1.234,"message":null}
 * and for a result, the summary object:
 *   {"summary":{"key":…,"status":…,"elapsed":…,"rescans":…,"disks":[…],"warnings":[…]}}
 * malloc'd (free()); NULL when out of memory.
 */
char *xclone_populate_event_json(const struct xclone_populate_event *ev);
char *xclone_populate_result_json(const struct xclone_populate_result *r);

#ifdef __cplusplus
}
#endif

#endif
