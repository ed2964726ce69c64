/*
 * The real populate backend: one agent connection (thread-safe, channels
 * pooled by libxclone) and one array session, serialized here because an
 * array handle serves one thread at a time.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "populate_backend.h"
#include "secret.h"

struct real {
	struct xclone_conn_options conn_opt;
	const char *product, *secret_dir;
	xclone_log_fn log;
	void *log_userdata;
	xclone_conn *conn;
	bool own_conn;                  /* false: the caller's connection, not closed here */
	struct xc_secret *secret;
	struct xc_array *array;
	pthread_mutex_t array_lock;
};

static int open_agent(void *ctx, struct xclone_error *err)
{
	struct real *r = ctx;
	int rc;

	if (r->conn != NULL)
		return 0;
	rc = xclone_connect(&r->conn, &r->conn_opt, err);
	r->own_conn = rc == 0;
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

	if (r->own_conn)
		xclone_disconnect(r->conn);
	xc_array_close(r->array);
	xc_secret_close(r->secret);
	pthread_mutex_destroy(&r->array_lock);
	free(r);
}

/* ---- the agent: libxclone's calls, as they are ---------------------------------------- */

static int hello(void *ctx, struct xclone_hello **out, struct xclone_error *err)
{
	return xclone_hello(((struct real *)ctx)->conn, out, err);
}

static int host_info(void *ctx, struct xclone_host_info **out, struct xclone_error *err)
{
	return xclone_host_info(((struct real *)ctx)->conn, out, err);
}

static int rescan(void *ctx, const char *adapter, const char *type, struct xclone_rescan *out,
		  struct xclone_error *err)
{
	return xclone_storage_rescan(((struct real *)ctx)->conn, adapter, type, out, err);
}

static int device_get(void *ctx, const char *device, struct xclone_device **out,
		      struct xclone_error *err)
{
	return xclone_device_get(((struct real *)ctx)->conn, device, out, err);
}

static int device_wait(void *ctx, const char *device, int64_t timeout_ms,
		       struct xclone_device **out, struct xclone_rescan *stats,
		       struct xclone_error *err)
{
	return xclone_device_wait(((struct real *)ctx)->conn, device, timeout_ms, out, stats, err);
}

static int device_detach(void *ctx, const char *device, bool *detached, struct xclone_error *err)
{
	return xclone_device_detach(((struct real *)ctx)->conn, device, detached, err);
}

static int preflight(void *ctx, const char *source, const char *target,
		     struct xclone_preflight **out, struct xclone_error *err)
{
	return xclone_preflight(((struct real *)ctx)->conn, source, target, out, err);
}

static int clone_start(void *ctx, const char *source, const char *target, const char *key,
		       struct xclone_task **out, bool *created, struct xclone_error *err)
{
	return xclone_clone_start(((struct real *)ctx)->conn, source, target, key, out, created,
				  err);
}

static int task_get(void *ctx, const char *task, struct xclone_task **out,
		    struct xclone_error *err)
{
	return xclone_task_get(((struct real *)ctx)->conn, task, out, err);
}

static int task_watch(void *ctx, const char *task, xclone_watch_fn cb, void *userdata,
		      struct xclone_task **out, struct xclone_error *err)
{
	return xclone_task_watch(((struct real *)ctx)->conn, task, cb, userdata, out, err);
}

static int task_cancel(void *ctx, const char *task, struct xclone_task **out,
		       struct xclone_error *err)
{
	return xclone_task_cancel(((struct real *)ctx)->conn, task, out, err);
}

static int task_clean(void *ctx, const char *task, struct xclone_error *err)
{
	struct xclone_clean *c = NULL;
	int rc = xclone_task_clean(((struct real *)ctx)->conn, task, &c, err);

	xclone_clean_free(c);
	return rc;
}

static int task_list(void *ctx, struct xclone_task_list **out, struct xclone_error *err)
{
	return xclone_task_list(((struct real *)ctx)->conn, out, err);
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
	r->conn = opt->agent;
	r->product = opt->product;
	r->secret_dir = opt->secret_dir;
	r->log = opt->log;
	r->log_userdata = opt->log_userdata;
	pthread_mutex_init(&r->array_lock, NULL);
	*out = (struct pop_backend){
		.ctx = r,
		.open_agent = open_agent,
		.open_array = open_array,
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
		/* GAP: the array layer (array.h) has no call to delete a host object or
		 * remove initiators; the engine reports what it leaves instead. */
		.array_remove_host = NULL,
	};
	return 0;
}
