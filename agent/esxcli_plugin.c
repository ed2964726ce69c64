/*
 * esxcli mode: `xclone-agent esxcli OP [--NAME VALUE]...`, run by the esxcli
 * plugin of the VIB (vib/payload/usr/lib/vmware/esxcli/ext/xclone.xml) for the
 * `esxcli xclone ...` namespace. The contract — argv form, structures, field
 * order, error reporting — is vib/README.md, "esxcli plugin contract".
 *
 * Each command becomes an ordinary protocol request and goes through the same
 * dispatch as a wire request; only the rendering differs. Values arrive from a
 * command line esxcli built (GAP-1 in vib/README.md), so argv is parsed strictly:
 * the command's options, each exactly once, nothing else.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dispatch.h"
#include "esxcli_plugin.h"
#include "xml_out.h"

enum plugin_cmd { CMD_VERSION, CMD_HOST_INFO, CMD_TASK_LIST, CMD_TASK_GET, CMD_TASK_CANCEL,
		  CMD_TASK_CLEAN, CMD_PREFLIGHT };

struct plugin_option {
	const char *flag;  /* "--task-id" */
	enum xp_arg arg;   /* the protocol argument it fills */
};

struct plugin_command {
	const char *name;  /* argv word, the protocol op's name except "version" */
	enum plugin_cmd cmd;
	enum xp_op op;
	struct plugin_option opts[2];
	size_t nopts;
};

static const struct plugin_command commands[] = {
	{ "version", CMD_VERSION, XP_OP_HELLO, { { NULL, 0 } }, 0 },
	{ "host.info", CMD_HOST_INFO, XP_OP_HOST_INFO, { { NULL, 0 } }, 0 },
	{ "task.list", CMD_TASK_LIST, XP_OP_TASK_LIST, { { NULL, 0 } }, 0 },
	{ "task.get", CMD_TASK_GET, XP_OP_TASK_GET, { { "--task-id", XP_ARG_TASK } }, 1 },
	{ "task.cancel", CMD_TASK_CANCEL, XP_OP_TASK_CANCEL, { { "--task-id", XP_ARG_TASK } }, 1 },
	{ "task.clean", CMD_TASK_CLEAN, XP_OP_TASK_CLEAN, { { "--task-id", XP_ARG_TASK } }, 1 },
	{ "preflight", CMD_PREFLIGHT, XP_OP_PREFLIGHT,
	  { { "--source", XP_ARG_SOURCE }, { "--target", XP_ARG_TARGET } }, 2 },
};

/* Field order per structure type, exactly as the plugin XML's output-spec. */
static const char *const version_fields[] = { "Status", "Message", "Version", "Protocol",
					      "Capabilities", NULL };
static const char *const adapter_fields[] = { "Adapter", "Protocol", "Initiator", "Driver",
					      "Message", NULL };
static const char *const task_fields[] = { "TaskId", "State", "Percent", "XcopyUsed", "Source",
					   "Target", "StartedAt", "FinishedAt", "Message", NULL };
static const char *const detail_fields[] = { "Status", "Message", "TaskId", "State", "Percent",
					     "BytesDone", "BytesTotal", "XcopyUsed", "Reason",
					     "Source", "Target", "StartedAt", "FinishedAt", NULL };
static const char *const action_fields[] = { "Status", "Message", "TaskId", "State", NULL };
static const char *const preflight_fields[] = { "Status", "Message", "Source", "Target",
						"SourceBytes", "TargetBytes", "XcopyExpected",
						"Reason", "Warnings", NULL };

/* A structure being filled: values by field index, rendered in order. */
struct row {
	const char *const *fields;
	char values[13][1024];
};

static void row_init(struct row *r, const char *const *fields)
{
	memset(r, 0, sizeof(*r));
	r->fields = fields;
}

static void row_set(struct row *r, const char *field, const char *value)
{
	for (size_t i = 0; r->fields[i] != NULL; i++)
		if (strcmp(r->fields[i], field) == 0) {
			snprintf(r->values[i], sizeof(r->values[i]), "%s", value ? value : "");
			return;
		}
}

static void row_print(FILE *out, const char *type, const struct row *r)
{
	ag_xml_struct_begin(out, type);
	for (size_t i = 0; r->fields[i] != NULL; i++)
		ag_xml_field(out, r->fields[i], r->values[i]);
	ag_xml_struct_end(out);
}

/* A JSON member as display text: strings as is, numbers in decimal, bools, "" for null. */
static void json_text(const cJSON *obj, const char *key, char *buf, size_t cap)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	buf[0] = '\0';
	if (cJSON_IsString(v))
		snprintf(buf, cap, "%s", v->valuestring);
	else if (cJSON_IsNumber(v))
		snprintf(buf, cap, "%.0f", v->valuedouble);
	else if (cJSON_IsBool(v))
		snprintf(buf, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
}

/* Milliseconds since the epoch (a JSON number or null) as RFC 3339 UTC. */
static void json_time(const cJSON *obj, const char *key, char *buf, size_t cap)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	struct tm tm;
	time_t secs;

	buf[0] = '\0';
	if (!cJSON_IsNumber(v))
		return;
	secs = (time_t)(v->valuedouble / 1000);
	if (gmtime_r(&secs, &tm) != NULL)
		strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Joins the strings of a JSON array with ", ". */
static void json_join(const cJSON *arr, const char *member, char *buf, size_t cap)
{
	const cJSON *item;
	size_t used = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(item, arr) {
		const cJSON *s = member ? cJSON_GetObjectItemCaseSensitive(item, member) : item;
		int n;

		if (!cJSON_IsString(s))
			continue;
		n = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", s->valuestring);
		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
}

static void fill_task(struct row *r, const cJSON *task)
{
	static const struct { const char *field, *key; } simple[] = {
		{ "TaskId", "id" }, { "State", "state" }, { "Percent", "percent" },
		{ "XcopyUsed", "xcopy_used" }, { "Source", "source" }, { "Target", "target" },
		{ "BytesDone", "bytes" },
	};
	char buf[1024];

	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		json_text(task, simple[i].key, buf, sizeof(buf));
		row_set(r, simple[i].field, buf);
	}
	json_time(task, "started_ms", buf, sizeof(buf));
	row_set(r, "StartedAt", buf);
	json_time(task, "ended_ms", buf, sizeof(buf));
	row_set(r, "FinishedAt", buf);
	json_text(task, "message", buf, sizeof(buf));
	row_set(r, "Reason", buf);
}

/* "Status"/"Message" of a single structure from the request's outcome. */
static void set_status(struct row *r, int rc, const struct xp_error *err)
{
	row_set(r, "Status", rc == 0 ? "ok" : xp_code_name(rc));
	row_set(r, "Message", rc == 0 ? "" : err->message);
}

static void render_single(FILE *out, const struct plugin_command *c, const struct xp_request *req,
			  int rc, const struct xp_error *err, const cJSON *result)
{
	struct row r;
	char buf[1024];
	const char *type;

	switch (c->cmd) {
	case CMD_VERSION:
		type = "XcloneVersion";
		row_init(&r, version_fields);
		if (rc == 0) {
			json_text(result, "version", buf, sizeof(buf));
			row_set(&r, "Version", buf);
			json_text(result, "protocol", buf, sizeof(buf));
			row_set(&r, "Protocol", buf);
			json_join(cJSON_GetObjectItemCaseSensitive(result, "capabilities"), NULL, buf,
				  sizeof(buf));
			row_set(&r, "Capabilities", buf);
		}
		break;
	case CMD_TASK_GET:
		type = "XcloneTaskDetail";
		row_init(&r, detail_fields);
		row_set(&r, "TaskId", req->args.task);
		if (rc == 0)
			fill_task(&r, cJSON_GetObjectItemCaseSensitive(result, "task"));
		break;
	case CMD_TASK_CANCEL:
	case CMD_TASK_CLEAN:
		type = "XcloneTaskAction";
		row_init(&r, action_fields);
		row_set(&r, "TaskId", req->args.task);
		if (rc == 0 && c->cmd == CMD_TASK_CANCEL) {
			json_text(cJSON_GetObjectItemCaseSensitive(result, "task"), "state", buf,
				  sizeof(buf));
			row_set(&r, "State", buf);
		}
		break;
	default: /* CMD_PREFLIGHT */
		type = "XclonePreflight";
		row_init(&r, preflight_fields);
		if (rc == 0) {
			const cJSON *src = cJSON_GetObjectItemCaseSensitive(result, "source");
			const cJSON *tgt = cJSON_GetObjectItemCaseSensitive(result, "target");
			json_text(src, "path", buf, sizeof(buf));
			row_set(&r, "Source", buf);
			json_text(src, "size_bytes", buf, sizeof(buf));
			row_set(&r, "SourceBytes", buf);
			json_text(tgt, "device", buf, sizeof(buf));
			row_set(&r, "Target", buf);
			json_text(tgt, "size_bytes", buf, sizeof(buf));
			row_set(&r, "TargetBytes", buf);
			json_text(result, "xcopy_expected", buf, sizeof(buf));
			row_set(&r, "XcopyExpected", buf);
			json_join(cJSON_GetObjectItemCaseSensitive(result, "reasons"), NULL, buf,
				  sizeof(buf));
			row_set(&r, "Reason", buf);
			json_join(cJSON_GetObjectItemCaseSensitive(result, "blockers"), "message",
				  buf, sizeof(buf));
			row_set(&r, "Warnings", buf);
		}
		break;
	}
	set_status(&r, rc, err);
	row_print(out, type, &r);
}

static void render_list(FILE *out, const struct plugin_command *c, int rc,
			const struct xp_error *err, const cJSON *result)
{
	const char *type = c->cmd == CMD_HOST_INFO ? "XcloneAdapter" : "XcloneTask";
	const char *const *fields = c->cmd == CMD_HOST_INFO ? adapter_fields : task_fields;
	const cJSON *item;
	struct row r;
	char buf[1024];

	ag_xml_list_begin(out);
	if (rc != 0) {
		/* Lists carry no status: one row whose Message is "CODE: message". */
		row_init(&r, fields);
		snprintf(buf, sizeof(buf), "%s: %s", xp_code_name(rc), err->message);
		row_set(&r, "Message", buf);
		if (c->cmd == CMD_TASK_LIST)
			row_set(&r, "State", "error");
		row_print(out, type, &r);
		ag_xml_list_end(out);
		return;
	}
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(
					 result, c->cmd == CMD_HOST_INFO ? "adapters" : "tasks")) {
		row_init(&r, fields);
		if (c->cmd == CMD_HOST_INFO) {
			json_text(item, "name", buf, sizeof(buf));
			row_set(&r, "Adapter", buf);
			json_text(item, "transport", buf, sizeof(buf));
			row_set(&r, "Protocol", buf);
			json_join(cJSON_GetObjectItemCaseSensitive(item, "initiators"), NULL, buf,
				  sizeof(buf));
			row_set(&r, "Initiator", buf);
			json_text(item, "driver", buf, sizeof(buf));
			row_set(&r, "Driver", buf);
		} else {
			fill_task(&r, item);
			json_text(item, "message", buf, sizeof(buf));
			row_set(&r, "Message", buf);
		}
		row_print(out, type, &r);
	}
	ag_xml_list_end(out);
}

/* Fills req from argv: exactly the command's options, each once. */
static int parse_args(const struct plugin_command *c, int argc, char **argv,
		      struct xp_request *req, struct xp_error *err)
{
	for (int i = 1; i < argc; i += 2) {
		const struct plugin_option *o = NULL;

		for (size_t k = 0; k < c->nopts; k++)
			if (strcmp(argv[i], c->opts[k].flag) == 0)
				o = &c->opts[k];
		if (o == NULL)
			return xp_error_set(err, XP_BAD_REQUEST, "argv",
					    "unexpected argument for %s (a value holding a single "
					    "quote cannot pass through esxcli)", c->name);
		if (i + 1 >= argc)
			return xp_error_set(err, XP_BAD_REQUEST, "argv", "%s needs a value",
					    o->flag);
		if (req->args.has[o->arg])
			return xp_error_set(err, XP_BAD_REQUEST, "argv", "%s given twice", o->flag);
		if (xp_args_set_string(&req->args, o->arg, argv[i + 1], err) != 0)
			return err->code;
	}
	for (size_t k = 0; k < c->nopts; k++)
		if (!req->args.has[c->opts[k].arg])
			return xp_error_set(err, XP_BAD_REQUEST, "argv", "%s is required",
					    c->opts[k].flag);
	return 0;
}

int ag_esxcli_plugin_run(struct ag_ctx *ctx, int argc, char **argv, FILE *out)
{
	const struct plugin_command *c = NULL;
	struct xp_request req;
	struct xp_error err = { 0 };
	cJSON *result = NULL;
	int rc;

	if (argc < 1) {
		fprintf(stderr, "xclone-agent esxcli: missing command\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			c = &commands[i];
	if (c == NULL) {
		fprintf(stderr, "xclone-agent esxcli: unknown command\n");
		return 2;
	}
	xp_request_init(&req, "esxcli", c->op);
	rc = parse_args(c, argc, argv, &req, &err);
	if (rc == 0)
		rc = ag_dispatch_request(ctx, &req, &result, &err);
	ag_xml_begin(out);
	if (c->cmd == CMD_HOST_INFO || c->cmd == CMD_TASK_LIST)
		render_list(out, c, rc, &err, result);
	else
		render_single(out, c, &req, rc, &err, result);
	ag_xml_end(out);
	cJSON_Delete(result);
	/* Errors travel inside the document; esxcli gets status 0 (vib/README.md). */
	return fflush(out) == 0 ? 0 : 1;
}
