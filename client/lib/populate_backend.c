/*
 * The real populate backend: agent connections and one array session.
 *
 * Agent: a watch holds a channel for as long as its clone runs, and an SSH server
 * allows few channels per connection (OpenSSH's MaxSessions: 10), so one
 * connection cannot carry 16 disks at once. Calls go to the least busy
 * connection of a pool, and a new connection is opened when every one has
 * channels_per_connection calls in flight. The default is one call per
 * connection: libxclone's SSH transport (transport_ssh.c, wait_io) busy-waits
 * while several calls share a session (measured: 2 idle calls on one connection
 * cost 60 % of a core), and separate connections cost one handshake each.
 * Array: one session, serialized here because an array handle serves one thread
 * at a time.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "populate_backend.h"
#include "secret.h"

#define POOL_MAX 32          /* connections */
#define DEFAULT_PER_CONN 1   /* see the comment at the top */

enum slot_state { SLOT_FREE, SLOT_OPENING, SLOT_OPEN };

struct pooled {
	enum slot_state state;
	xclone_conn *conn;
	bool own;             /* closed here */
	unsigned busy;        /* calls in flight */
};

struct real {
	struct xclone_conn_options conn_opt;
	xclone_populate_connect_fn connect;
	void *connect_ud;
	const char *product, *secret_dir;
	xclone_log_fn log;
	void *log_userdata;
	unsigned per_conn;
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_changed;
	struct pooled pool[POOL_MAX];
	struct xc_secret *secret;
	struct xc_array *array;
	pthread_mutex_t array_lock;
};

/* ---- the agent: a pool of connections, each call on the least busy one ------------------ */

static int new_conn(struct real *r, xclone_conn **out, struct xclone_error *err)
{
	if (r->connect != NULL)
		return r->connect(r->connect_ud, out, err);
	return xclone_connect(out, &r->conn_opt, err);
}

/* The least busy open connection, POOL_MAX when none. */
static size_t least_busy(const struct real *r)
{
	size_t best = POOL_MAX;

	for (size_t i = 0; i < POOL_MAX; i++)
		if (r->pool[i].state == SLOT_OPEN &&
		    (best == POOL_MAX || r->pool[i].busy < r->pool[best].busy))
			best = i;
	return best;
}

static size_t free_slot(const struct real *r)
{
	for (size_t i = 0; i < POOL_MAX; i++)
		if (r->pool[i].state == SLOT_FREE)
			return i;
	return POOL_MAX;
}

static bool opening(const struct real *r)
{
	for (size_t i = 0; i < POOL_MAX; i++)
		if (r->pool[i].state == SLOT_OPENING)
			return true;
	return false;
}

/*
 * A connection for one call: the least busy one with room, else a new one (opened
 * without the lock, so other calls go on and other connections open at the same
 * time), else, the pool being full, the least busy one anyway (libxclone then waits
 * for a channel of it).
 */
static int acquire(struct real *r, size_t *slot, struct xclone_error *err)
{
	xclone_conn *c = NULL;
	size_t i;
	int rc;

	pthread_mutex_lock(&r->pool_lock);
	for (;;) {
		i = least_busy(r);
		if (i != POOL_MAX && r->pool[i].busy < r->per_conn)
			break;
		if (free_slot(r) != POOL_MAX)
			break;
		if (i != POOL_MAX)
			break;
		if (!opening(r)) {
			pthread_mutex_unlock(&r->pool_lock);
			return xclone_error_set(err, XC_E_INTERNAL, "no agent connection to use");
		}
		pthread_cond_wait(&r->pool_changed, &r->pool_lock);
	}
	if (i != POOL_MAX && (r->pool[i].busy < r->per_conn || free_slot(r) == POOL_MAX)) {
		r->pool[i].busy++;
		*slot = i;
		pthread_mutex_unlock(&r->pool_lock);
		return 0;
	}
	i = free_slot(r);
	r->pool[i] = (struct pooled){ SLOT_OPENING, NULL, true, 1 };
	pthread_mutex_unlock(&r->pool_lock);
	rc = new_conn(r, &c, err);
	pthread_mutex_lock(&r->pool_lock);
	if (rc == 0) {
		r->pool[i].conn = c;
		r->pool[i].state = SLOT_OPEN;
		*slot = i;
	} else {
		r->pool[i] = (struct pooled){ SLOT_FREE, NULL, false, 0 };
	}
	pthread_cond_broadcast(&r->pool_changed);
	pthread_mutex_unlock(&r->pool_lock);
	return rc;
}

static void *open_one(void *arg)
{
	struct real *r = arg;
	struct xclone_error err;
	xclone_conn *c = NULL;
	size_t i;

	pthread_mutex_lock(&r->pool_lock);
	i = free_slot(r);
	if (i != POOL_MAX)
		r->pool[i] = (struct pooled){ SLOT_OPENING, NULL, true, 0 };
	pthread_mutex_unlock(&r->pool_lock);
	if (i == POOL_MAX)
		return NULL;
	(void)new_conn(r, &c, &err); /* a failure shows up again in the call that needs it */
	pthread_mutex_lock(&r->pool_lock);
	r->pool[i] = c ? (struct pooled){ SLOT_OPEN, c, true, 0 }
		       : (struct pooled){ SLOT_FREE, NULL, false, 0 };
	pthread_cond_broadcast(&r->pool_changed);
	pthread_mutex_unlock(&r->pool_lock);
	return NULL;
}

/* Opens connections in detached threads until calls / per_conn exist (or are opening). */
static void warm_up(void *ctx, unsigned calls)
{
	struct real *r = ctx;
	size_t have = 0, want = (calls + r->per_conn - 1) / r->per_conn;

	pthread_mutex_lock(&r->pool_lock);
	for (size_t i = 0; i < POOL_MAX; i++)
		have += r->pool[i].state != SLOT_FREE;
	pthread_mutex_unlock(&r->pool_lock);
	for (; have < want && have < POOL_MAX; have++) {
		pthread_t t;
		pthread_attr_t a;

		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &a, open_one, r) != 0)
			have = POOL_MAX; /* no thread: the calls open what they need */
		pthread_attr_destroy(&a);
	}
}

static void release(struct real *r, size_t slot)
{
	pthread_mutex_lock(&r->pool_lock);
	r->pool[slot].busy--;
	pthread_mutex_unlock(&r->pool_lock);
}

#define ON_AGENT(ctx, call)                                     \
	do {                                                    \
		struct real *r_ = (ctx);                        \
		size_t slot_;                                   \
		int rc_ = acquire(r_, &slot_, err);             \
		xclone_conn *c = rc_ == 0 ? r_->pool[slot_].conn : NULL; \
		if (rc_ != 0)                                   \
			return rc_;                             \
		rc_ = (call);                                   \
		release(r_, slot_);                             \
		return rc_;                                     \
	} while (0)

static int open_agent(void *ctx, struct xclone_error *err)
{
	struct real *r = ctx;
	size_t slot;
	int rc;

	if (least_busy(r) != POOL_MAX)
		return 0;
	rc = acquire(r, &slot, err); /* the first connection: fail early when it cannot be had */
	if (rc == 0)
		release(r, slot);
	return rc;
}

static void array_log(void *ud, const char *line)
{
	struct real *r = ud;

	if (r->log != NULL)
		r->log(line, r->log_userdata);
}

static int open_array(void *ctx, struct xclone_error *err)
{
	struct real *r = ctx;
	struct xc_array_options ao = { .log = NULL };
	int rc;

	if (r->product == NULL || r->product[0] == '\0')
		return xclone_error_set(err, XC_E_CONFIG,
					"no storage product given (--product / XCLONE_PRODUCT: one of"
					" the MTV storageVendorProduct names, e.g. pureFlashArray)");
	if (r->log != NULL) {
		ao.log = array_log;
		ao.log_ctx = r;
	}
	rc = xc_secret_open(&r->secret, r->secret_dir, err);
	if (rc == 0)
		rc = xc_array_open(&r->array, r->product, r->secret, &ao, err);
	return rc;
}

static void close_all(void *ctx)
{
	struct real *r = ctx;

	pthread_mutex_lock(&r->pool_lock);
	while (opening(r)) /* warm-up threads still connecting */
		pthread_cond_wait(&r->pool_changed, &r->pool_lock);
	pthread_mutex_unlock(&r->pool_lock);

	for (size_t i = 0; i < POOL_MAX; i++)
		if (r->pool[i].state == SLOT_OPEN && r->pool[i].own)
			xclone_disconnect(r->pool[i].conn);
	xc_array_close(r->array);
	xc_secret_close(r->secret);
	pthread_cond_destroy(&r->pool_changed);
	pthread_mutex_destroy(&r->pool_lock);
	pthread_mutex_destroy(&r->array_lock);
	free(r);
}

static int hello(void *ctx, struct xclone_hello **out, struct xclone_error *err)
{
	ON_AGENT(ctx, xclone_hello(c, out, err));
}

static int host_info(void *ctx, struct xclone_host_info **out, struct xclone_error *err)
{
	ON_AGENT(ctx, xclone_host_info(c, out, err));
}

static int rescan(void *ctx, const char *adapter, const char *type, struct xclone_rescan *out,
		  struct xclone_error *err)
{
	ON_AGENT(ctx, xclone_storage_rescan(c, adapter, type, out, err));
}

static int device_get(void *ctx, const char *device, struct xclone_device **out,
		      struct xclone_error *err)
{
	ON_AGENT(ctx, xclone_device_get(c, device, out, err));
}

static int device_wait(void *ctx, const char *device, int64_t timeout_ms,
		       struct xclone_device **out, struct xclone_rescan *stats,
		       struct xclone_error *err)
{
	ON_AGENT(ctx, xclone_device_wait(c, device, timeout_ms, out, stats, err));
}

static int device_detach(void *ctx, const char *device, bool *detached, struct xclone_error *err)
{
	ON_AGENT(ctx, xclone_device_detach(c, device, detached, err));
}

static int preflight(void *ctx, const char *source, const char *target,
		     struct xclone_preflight **out, struct xclone_error *err)
{
	ON_AGENT(ctx, xclone_preflight(c, source, target, out, err));
}

static int clone_start(void *ctx, const char *source, const char *target, const char *key,
		       struct xclone_task **out, bool *created, struct xclone_error *err)
{
	ON_AGENT(ctx, xclone_clone_start(c, source, target, key, out, created, err));
}

static int task_get(void *ctx, const char *task, struct xclone_task **out,
		    struct xclone_error *err)
{
	ON_AGENT(ctx, xclone_task_get(c, task, out, err));
}

static int task_watch(void *ctx, const char *task, xclone_watch_fn cb, void *userdata,
		      struct xclone_task **out, struct xclone_error *err)
{
	ON_AGENT(ctx, xclone_task_watch(c, task, cb, userdata, out, err));
}

static int task_cancel(void *ctx, const char *task, struct xclone_task **out,
		       struct xclone_error *err)
{
	ON_AGENT(ctx, xclone_task_cancel(c, task, out, err));
}

static int clean_call(xclone_conn *c, const char *task, struct xclone_error *err)
{
	struct xclone_clean *cl = NULL;
	int rc = xclone_task_clean(c, task, &cl, err);

	xclone_clean_free(cl);
	return rc;
}

static int task_clean(void *ctx, const char *task, struct xclone_error *err)
{
	ON_AGENT(ctx, clean_call(c, task, err));
}

static int task_list(void *ctx, struct xclone_task_list **out, struct xclone_error *err)
{
	ON_AGENT(ctx, xclone_task_list(c, out, err));
}

/* ---- the array: one caller at a time ---------------------------------------------------- */

#define LOCKED(r, call)                                  \
	do {                                             \
		int rc_;                                 \
		pthread_mutex_lock(&(r)->array_lock);    \
		rc_ = (call);                            \
		pthread_mutex_unlock(&(r)->array_lock);  \
		return rc_;                              \
	} while (0)

static int array_resolve(void *ctx, const struct xc_pv *pv, struct xc_lun *out,
			 struct xclone_error *err)
{
	struct real *r = ctx;

	LOCKED(r, xc_array_resolve(r->array, pv, out, err));
}

static int array_hosts(void *ctx, struct xc_host_list *out, struct xclone_error *err)
{
	struct real *r = ctx;

	LOCKED(r, xc_array_hosts(r->array, out, err));
}

static int array_ensure_host(void *ctx, const struct xc_host_request *req,
			     struct xc_host_group *out, struct xclone_error *err)
{
	struct real *r = ctx;

	LOCKED(r, xc_array_ensure_host(r->array, req, out, err));
}

static int array_remove_host(void *ctx, const struct xc_host_group *group,
			     struct xclone_error *err)
{
	struct real *r = ctx;

	LOCKED(r, xc_array_delete_host(r->array, group, err));
}

static int array_mappings(void *ctx, const struct xc_lun *lun, struct xc_mapping_list *out,
			  struct xclone_error *err)
{
	struct real *r = ctx;

	LOCKED(r, xc_array_mappings(r->array, lun, out, err));
}

static int array_map(void *ctx, const struct xc_lun *lun, const struct xc_mapping *target,
		     struct xc_mapping *result, struct xclone_error *err)
{
	struct real *r = ctx;

	LOCKED(r, xc_array_map(r->array, lun, target, result, err));
}

static int array_unmap(void *ctx, const struct xc_lun *lun, const struct xc_mapping *target,
		       struct xclone_error *err)
{
	struct real *r = ctx;

	LOCKED(r, xc_array_unmap(r->array, lun, target, err));
}

static int array_restore(void *ctx, const struct xc_lun *lun, const struct xc_mapping_list *saved,
			 struct xclone_error *err)
{
	struct real *r = ctx;

	LOCKED(r, xc_array_restore_mappings(r->array, lun, saved, err));
}

int pop_backend_real(const struct xclone_populate_options *opt, struct pop_backend *out,
		     struct xclone_error *err)
{
	struct real *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	r->conn_opt = opt->conn; /* xclone_connect copies the strings it keeps */
	r->connect = opt->connect;
	r->connect_ud = opt->connect_userdata;
	r->per_conn = opt->channels_per_connection ? opt->channels_per_connection
						   : DEFAULT_PER_CONN;
	if (opt->agent != NULL)
		r->pool[0] = (struct pooled){ SLOT_OPEN, opt->agent, false, 0 };
	r->product = opt->product;
	r->secret_dir = opt->secret_dir;
	r->log = opt->log;
	r->log_userdata = opt->log_userdata;
	pthread_mutex_init(&r->array_lock, NULL);
	pthread_mutex_init(&r->pool_lock, NULL);
	pthread_cond_init(&r->pool_changed, NULL);
	*out = (struct pop_backend){
		.ctx = r,
		.open_agent = open_agent,
		.open_array = open_array,
		.warm_up = warm_up,
		.close = close_all,
		.hello = hello,
		.host_info = host_info,
		.rescan = rescan,
		.device_get = device_get,
		.device_wait = device_wait,
		.device_detach = device_detach,
		.preflight = preflight,
		.clone_start = clone_start,
		.task_get = task_get,
		.task_watch = task_watch,
		.task_cancel = task_cancel,
		.task_clean = task_clean,
		.task_list = task_list,
		.array_resolve = array_resolve,
		.array_hosts = array_hosts,
		.array_ensure_host = array_ensure_host,
		.array_mappings = array_mappings,
		.array_map = array_map,
		.array_unmap = array_unmap,
		.array_restore = array_restore,
		.array_remove_host = array_remove_host,
	};
	return 0;
}
