/*
 * The shape of every operation's result and of every event's data: PROTOCOL.md's
 * tables, as data. The operation table points at these.
 */
#include <string.h>

#include "xp_progress.h"
#include "xp_schema.h"

#define SHAPE(members) { members, sizeof(members) / sizeof(members[0]) }
#define M(n, t) { .name = n, .type = t }
#define M_WORDS(n, w) { .name = n, .type = XP_JT_STRING, .words = w }
#define M_OPTIONAL(n, t) { .name = n, .type = t, .flags = XP_MEMBER_OPTIONAL }
#define M_NULLABLE(n, t) { .name = n, .type = t, .flags = XP_MEMBER_NULLABLE }
#define M_OBJECT(n, sh) { .name = n, .type = XP_JT_OBJECT, .shape = sh }
#define M_ARRAY(n, it) { .name = n, .type = XP_JT_ARRAY, .item = it }
#define M_ARRAY_OF(n, sh) { .name = n, .type = XP_JT_ARRAY, .item = XP_JT_OBJECT, .shape = sh }

static const char *const agent_names[] = { "xclone-agent", NULL };
static const char *const modes[] = { "ssh", "serve", "local", NULL };
static const char *const transports[] = { "iscsi", "fc", "nvme", "sas", "pscsi", "other", NULL };
static const char *const vaai_clone_states[] = { "supported", "unsupported", "unknown", NULL };

static const struct xp_member hello[] = {
	M_WORDS("agent", agent_names),
	M("version", XP_JT_STRING),
	M("protocol", XP_JT_INT),
	M_ARRAY("capabilities", XP_JT_STRING),
	M("hostname", XP_JT_STRING),
	M_WORDS("mode", modes),
	M("read_only", XP_JT_BOOL),
};
const struct xp_shape xp_result_hello = SHAPE(hello);

static const struct xp_member adapter[] = {
	M("name", XP_JT_STRING),
	M("driver", XP_JT_STRING),
	M("uid", XP_JT_STRING),
	M_WORDS("transport", transports),
	M_ARRAY("initiators", XP_JT_STRING),
};
static const struct xp_shape adapter_shape = SHAPE(adapter);

static const struct xp_member extent[] = {
	M("device", XP_JT_STRING),
	M("partition", XP_JT_INT),
	M_ARRAY("adapters", XP_JT_STRING),
};
static const struct xp_shape extent_shape = SHAPE(extent);

static const struct xp_member datastore[] = {
	M("name", XP_JT_STRING),
	M("uuid", XP_JT_STRING),
	M("type", XP_JT_STRING),
	M_ARRAY_OF("extents", &extent_shape),
};
static const struct xp_shape datastore_shape = SHAPE(datastore);

static const struct xp_member vaai[] = {
	M("hardware_accelerated_move", XP_JT_INT),
	M("hardware_accelerated_init", XP_JT_INT),
	M("max_hw_transfer_size", XP_JT_INT),
};
static const struct xp_shape vaai_shape = SHAPE(vaai);

static const struct xp_member host_info[] = {
	M("hostname", XP_JT_STRING),
	M("product", XP_JT_STRING),
	M("version", XP_JT_STRING),
	M("build", XP_JT_STRING),
	M_ARRAY_OF("adapters", &adapter_shape),
	M_ARRAY_OF("datastores", &datastore_shape),
	M_OBJECT("vaai", &vaai_shape),
	M_NULLABLE("sdc_guid", XP_JT_STRING),
};
const struct xp_shape xp_result_host_info = SHAPE(host_info);

static const struct xp_member storage_rescan[] = {
	M("rescans", XP_JT_INT),
	M("waited_ms", XP_JT_INT),
};
const struct xp_shape xp_result_storage_rescan = SHAPE(storage_rescan);

static const struct xp_member device[] = {
	M("id", XP_JT_STRING),
	M("present", XP_JT_BOOL),
	M("status", XP_JT_STRING),
	M("size_bytes", XP_JT_INT),
	M("vendor", XP_JT_STRING),
	M("model", XP_JT_STRING),
	M("is_local", XP_JT_BOOL),
	M_WORDS("vaai_clone", vaai_clone_states),
	M_NULLABLE("backs_datastore", XP_JT_STRING),
	M("paths", XP_JT_INT),
};
static const struct xp_shape device_shape = SHAPE(device);

static const struct xp_member device_get[] = {
	M_OBJECT("device", &device_shape),
};
const struct xp_shape xp_result_device_get = SHAPE(device_get);

static const struct xp_member device_wait[] = {
	M_OBJECT("device", &device_shape),
	M("rescans", XP_JT_INT),
	M("waited_ms", XP_JT_INT),
};
const struct xp_shape xp_result_device_wait = SHAPE(device_wait);

static const struct xp_member device_detach[] = {
	M("device", XP_JT_STRING),
	M("detached", XP_JT_BOOL),
};
const struct xp_shape xp_result_device_detach = SHAPE(device_detach);

static const struct xp_member preflight_source[] = {
	M("path", XP_JT_STRING),
	M("datastore", XP_JT_STRING),
	M("format", XP_JT_STRING),
	M_ARRAY("chain", XP_JT_STRING),
	M("size_bytes", XP_JT_INT),
	M("sparse", XP_JT_BOOL),
};
static const struct xp_shape preflight_source_shape = SHAPE(preflight_source);

static const struct xp_member preflight_target[] = {
	M("device", XP_JT_STRING),
	M("size_bytes", XP_JT_INT),
};
static const struct xp_shape preflight_target_shape = SHAPE(preflight_target);

static const struct xp_member blocker[] = {
	M("code", XP_JT_CODE),
	M("message", XP_JT_STRING),
};
static const struct xp_shape blocker_shape = SHAPE(blocker);

static const struct xp_member preflight[] = {
	M_OBJECT("source", &preflight_source_shape),
	M_OBJECT("target", &preflight_target_shape),
	M("xcopy_expected", XP_JT_BOOL),
	M_ARRAY("reasons", XP_JT_STRING),
	M_ARRAY_OF("blockers", &blocker_shape),
};
const struct xp_shape xp_result_preflight = SHAPE(preflight);

static const struct xp_member clone_start[] = {
	M("task", XP_JT_TASK),
	M("created", XP_JT_BOOL),
};
const struct xp_shape xp_result_clone_start = SHAPE(clone_start);

static const struct xp_member task[] = {
	M("task", XP_JT_TASK),
};
const struct xp_shape xp_result_task = SHAPE(task);

static const struct xp_member task_clean[] = {
	M("task", XP_JT_STRING),
	M_ARRAY("removed", XP_JT_STRING),
};
const struct xp_shape xp_result_task_clean = SHAPE(task_clean);

static const struct xp_member task_list[] = {
	M_ARRAY("tasks", XP_JT_TASK),
	M_OPTIONAL("truncated", XP_JT_BOOL),
};
const struct xp_shape xp_result_task_list = SHAPE(task_list);

int xp_result_check(enum xp_op op, const cJSON *result, struct xp_error *err)
{
	const struct xp_op_info *info = xp_op_info(op);
	int rc;

	if (info == NULL)
		return xp_error_set(err, XP_BAD_REQUEST, "op", "%d is not an operation", (int)op);
	rc = xp_shape_check(info->result, result, "result", err);
	return rc != 0 ? rc : xp_error_clear(err);
}

int xp_event_check(const char *event, const cJSON *data, struct xp_error *err)
{
	struct xp_progress p;
	int rc;

	if (event == NULL || strcmp(event, XP_EVENT_PROGRESS) != 0)
		return xp_error_clear(err); /* PROTOCOL.md: ignore events you do not know */
	rc = xp_progress_from_json(data, &p, "data", err);
	return rc != 0 ? rc : xp_error_clear(err);
}
