/* task.get, task.cancel, task.clean, task.list (see xclone.h). */
#include "call.h"
#include "results.h"

static int task_call(xclone_conn *c, enum xp_op op, const char *task, struct xc_call **call,
		     void *out, struct xclone_error *err)
{
	int rc;

	if ((rc = xc_call_begin(c, out, op, call, err)) != 0)
		return rc;
	if (task == NULL || task[0] == '\0')
		return xclone_error_set(err, XC_E_USAGE, "no task given");
	if ((rc = xc_call_set(*call, XP_ARG_TASK, task, err)) != 0)
		return rc;
	return xc_call_run(c, *call, err);
}

/* task.get and task.cancel: both answer with the record. */
static int task_record(xclone_conn *c, enum xp_op op, const char *task, struct xclone_task **out,
		       struct xclone_error *err)
{
	struct xc_call *call = NULL;
	int rc;

	if ((rc = task_call(c, op, task, &call, out, err)) == 0 && out != NULL)
		rc = xc_task_from(cJSON_GetObjectItemCaseSensitive(call->result, "task"), out, err);
	xc_call_free(call);
	return rc;
}

int xclone_task_get(xclone_conn *c, const char *task, struct xclone_task **out,
		    struct xclone_error *err)
{
	if (out == NULL)
		return xclone_error_set(err, XC_E_USAGE, "no result pointer");
	return task_record(c, XP_OP_TASK_GET, task, out, err);
}

int xclone_task_cancel(xclone_conn *c, const char *task, struct xclone_task **out,
		       struct xclone_error *err)
{
	return task_record(c, XP_OP_TASK_CANCEL, task, out, err);
}

int xclone_task_clean(xclone_conn *c, const char *task, struct xclone_clean **out,
		      struct xclone_error *err)
{
	struct xc_call *call = NULL;
	int rc;

	if ((rc = task_call(c, XP_OP_TASK_CLEAN, task, &call, out, err)) == 0 && out != NULL)
		rc = xc_clean_from(call->result, out, err);
	xc_call_free(call);
	return rc;
}

int xclone_task_list(xclone_conn *c, struct xclone_task_list **out, struct xclone_error *err)
{
	struct xc_call *call;
	int rc;

	if (out == NULL)
		return xclone_error_set(err, XC_E_USAGE, "no result pointer");
	if ((rc = xc_call_begin(c, out, XP_OP_TASK_LIST, &call, err)) != 0)
		return rc;
	if ((rc = xc_call_run(c, call, err)) == 0)
		rc = xc_task_list_from(call->result, out, err);
	xc_call_free(call);
	return rc;
}
