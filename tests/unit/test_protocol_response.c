/*
 * Response lines (result, error, event) both ways, the task record, the progress
 * event, and result shapes.
 */
#include <inttypes.h>

#include "test_protocol_util.h"

static int decode(const char *line, struct xp_response *r, struct xp_error *err)
{
	return xp_response_decode(line, strlen(line), r, err);
}

static void reject_response(const char *line, enum xp_code code, const char *field,
			    const char *needle, const char *name)
{
	struct xp_response r;
	struct xp_error err;
	int rc = decode(line, &r, &err);

	tp_check_error(rc, &err, code, field, needle, name);
	ok(r.result == NULL && r.data == NULL, "%s: nothing left owned", name);
}

static void test_ok(void)
{
	cJSON *result = cJSON_Parse("{\"rescans\":1,\"waited_ms\":2140,\"s\":\"a \\\"b\\\" \\u00e9\"}");
	cJSON *copy = cJSON_Duplicate(result, 1);
	struct xp_response r;
	struct xp_error err;
	char *line = xp_response_ok("r-1", result, &err);

	is_str(line,
	       "{\"xclone\":1,\"id\":\"r-1\",\"ok\":true,\"result\":{\"rescans\":1,\"waited_ms\":2140,"
	       "\"s\":\"a \\\"b\\\" \xC3\xA9\"}}",
	       "ok line has the documented shape");
	if (ok(line && decode(line, &r, &err) == 0, "ok line decodes")) {
		ok(r.kind == XP_RESPONSE_RESULT && strcmp(r.id, "r-1") == 0, "kind RESULT, id r-1");
		ok(cJSON_Compare(r.result, copy, 1), "result equals what was sent");
		ok(xp_result_check(XP_OP_STORAGE_RESCAN, r.result, &err) == 0,
		   "result has storage.rescan's shape");
		xp_response_free(&r);
		ok(r.result == NULL, "xp_response_free clears result");
	}
	free(line);
	cJSON_Delete(copy);

	line = xp_response_ok("r-2", NULL, &err);
	is_str(line, "{\"xclone\":1,\"id\":\"r-2\",\"ok\":true,\"result\":{}}", "NULL result is {}");
	free(line);

	/* Each refusal below must also free the result (valgrind checks). */
	line = xp_response_ok("", cJSON_CreateObject(), &err);
	ok(line == NULL && err.code == XP_INTERNAL && strcmp(err.field, "id") == 0,
	   "a result needs a valid id");
	line = xp_response_ok("r-3", cJSON_CreateArray(), &err);
	ok(line == NULL && err.code == XP_INTERNAL && strcmp(err.field, "result") == 0,
	   "a result must be an object");
	result = cJSON_CreateObject();
	cJSON_AddStringToObject(result, "stderr", "bad \xC3");
	line = xp_response_ok("r-4", result, &err);
	tp_check_error(line ? 0 : err.code, &err, XP_INTERNAL, "result.stderr", "invalid UTF-8",
		       "a result with invalid UTF-8 is refused, naming the member");
	result = cJSON_CreateObject();
	{
		char *big = tp_repeat("x", XP_LINE_MAX);

		cJSON_AddStringToObject(result, "big", big);
		free(big);
	}
	line = xp_response_ok("r-5", result, &err);
	tp_check_error(line ? 0 : err.code, &err, XP_INTERNAL, "line", "more than the limit",
		       "a result over 64 KiB is refused");
}

static void test_error(void)
{
	struct xp_response r;
	struct xp_error err;
	char *line, *long_msg;

	for (unsigned c = XP_OK + 1; c < XP_CODE_COUNT; c++) {
		line = xp_response_error("e-1", (enum xp_code)c, "why: \"it\" failed\n", &err);
		if (!ok(line && decode(line, &r, &err) == 0, "error %s round-trips",
			xp_code_name((enum xp_code)c)))
			continue;
		ok(r.kind == XP_RESPONSE_ERROR && r.code == (enum xp_code)c &&
			   r.retryable == xp_code_retryable((enum xp_code)c) &&
			   strcmp(r.message, "why: \"it\" failed\n") == 0 && strcmp(r.id, "e-1") == 0,
		   "error %s: code, message, retryable and id intact", xp_code_name((enum xp_code)c));
		xp_response_free(&r);
		free(line);
	}
	line = xp_response_error(NULL, XP_BAD_REQUEST, "line: not JSON", &err);
	is_str(line,
	       "{\"xclone\":1,\"id\":null,\"ok\":false,\"error\":{\"code\":\"BAD_REQUEST\","
	       "\"message\":\"line: not JSON\",\"retryable\":false}}",
	       "error without id carries \"id\":null");
	if (line && decode(line, &r, &err) == 0)
		is_str(r.id, "", "\"id\":null decodes as an empty id");
	free(line);
	line = xp_response_error("e-2", XP_OK, "x", &err);
	ok(line && strstr(line, "\"INTERNAL\""), "XP_OK is sent as INTERNAL");
	free(line);
	line = xp_response_error("e-3", (enum xp_code)1000, "x", &err);
	ok(line && strstr(line, "\"INTERNAL\""), "a code outside the enum is sent as INTERNAL");
	free(line);
	line = xp_response_error("e-4", XP_HOST_COMMAND_FAILED, "esxcli said \xFF\xFE", &err);
	ok(line && decode(line, &r, &err) == 0 &&
		   strcmp(r.message, "esxcli said \xEF\xBF\xBD\xEF\xBF\xBD") == 0 && r.retryable,
	   "invalid UTF-8 in a message becomes U+FFFD; HOST_COMMAND_FAILED is retryable");
	free(line);
	long_msg = tp_repeat("\xC3\xA9", 600);
	line = xp_response_error("e-5", XP_INTERNAL, long_msg, &err);
	ok(line && decode(line, &r, &err) == 0 && strlen(r.message) == 1024 &&
		   xp_utf8_valid(r.message, strlen(r.message), NULL),
	   "a long message is cut to 1024 bytes on a character boundary");
	free(line);
	free(long_msg);
	line = xp_response_error("bad id", XP_INTERNAL, "x", &err);
	ok(line == NULL && strcmp(err.field, "id") == 0, "an invalid id is refused");
}

static void test_event(void)
{
	struct xp_response r;
	struct xp_error err;
	cJSON *data = cJSON_CreateObject();
	char *line;

	cJSON_AddNumberToObject(data, "n", 1);
	line = xp_event("w-1", "log.line_2", data, &err);
	is_str(line, "{\"xclone\":1,\"id\":\"w-1\",\"event\":\"log.line_2\",\"data\":{\"n\":1}}",
	       "event line has the documented shape");
	if (line && decode(line, &r, &err) == 0) {
		ok(r.kind == XP_RESPONSE_EVENT && strcmp(r.event, "log.line_2") == 0 &&
			   cJSON_GetObjectItem(r.data, "n") != NULL,
		   "event decodes: kind, name, data");
		ok(xp_event_check(r.event, r.data, &err) == 0, "an unknown event passes the check");
		xp_response_free(&r);
	}
	free(line);
	line = xp_event("w-1", "Progress", NULL, &err);
	ok(line == NULL && strcmp(err.field, "event") == 0, "event names are lower case");
	line = xp_event("w-1", "", NULL, &err);
	ok(line == NULL, "empty event name refused");
	line = xp_event("", "progress", cJSON_CreateObject(), &err);
	ok(line == NULL && strcmp(err.field, "id") == 0, "an event needs an id");
}

static void test_response_refusals(void)
{
	struct xp_response r;
	struct xp_error err;
	char *line, *long_msg;

	reject_response("{\"xclone\":1,\"id\":\"a\",\"ok\":true,\"event\":\"progress\",\"result\":{}}",
			XP_BAD_REQUEST, "event", "not both", "ok and event together refused");
	reject_response("{\"xclone\":1,\"id\":\"a\"}", XP_BAD_REQUEST, "ok", "missing",
			"neither ok nor event refused");
	reject_response("{\"xclone\":1,\"id\":\"a\",\"ok\":1,\"result\":{}}", XP_BAD_REQUEST, "ok",
			"expected a boolean", "non-boolean ok refused");
	reject_response("{\"xclone\":1,\"id\":\"a\",\"ok\":true}", XP_BAD_REQUEST, "result",
			"missing", "ok without result refused");
	reject_response("{\"xclone\":1,\"id\":\"a\",\"ok\":true,\"result\":[]}", XP_BAD_REQUEST,
			"result", "expected an object", "array result refused");
	reject_response("{\"xclone\":1,\"id\":null,\"ok\":true,\"result\":{}}", XP_BAD_REQUEST, "id",
			"needs the request's id", "result without id refused");
	reject_response("{\"xclone\":1,\"id\":\"a\",\"ok\":false}", XP_BAD_REQUEST, "error",
			"missing", "error without error object refused");
	reject_response("{\"xclone\":1,\"id\":\"a\",\"ok\":false,\"error\":{\"message\":\"m\","
			"\"retryable\":false}}",
			XP_BAD_REQUEST, "error.code", "missing", "error without code refused");
	reject_response("{\"xclone\":1,\"id\":\"a\",\"ok\":false,\"error\":{\"code\":\"NOPE\","
			"\"message\":\"m\",\"retryable\":false}}",
			XP_BAD_REQUEST, "error.code", "unknown error code \"NOPE\"",
			"unknown error code refused");
	reject_response("{\"xclone\":1,\"id\":\"a\",\"ok\":false,\"error\":{\"code\":\"OK\","
			"\"message\":\"m\",\"retryable\":false}}",
			XP_BAD_REQUEST, "error.code", "unknown error code \"OK\"",
			"OK is not an error code");
	reject_response("{\"xclone\":1,\"id\":\"a\",\"ok\":false,\"error\":{\"code\":\"BUSY\","
			"\"message\":\"m\",\"retryable\":\"yes\"}}",
			XP_BAD_REQUEST, "error.retryable", "expected a boolean",
			"non-boolean retryable refused");
	reject_response("{\"xclone\":1,\"id\":\"a\",\"ok\":false,\"error\":{\"code\":\"BUSY\","
			"\"retryable\":true}}",
			XP_BAD_REQUEST, "error.message", "missing", "error without message refused");
	long_msg = tp_repeat("m", 1025);
	line = tp_fmt("{\"xclone\":1,\"id\":\"a\",\"ok\":false,\"error\":{\"code\":\"BUSY\","
		      "\"message\":\"%s\",\"retryable\":true}}",
		      long_msg);
	reject_response(line, XP_BAD_REQUEST, "error.message", "longer than 1024",
			"a message over 1024 bytes refused");
	free(line);
	free(long_msg);
	reject_response("{\"xclone\":1,\"id\":\"a\",\"event\":\"Bad Name\",\"data\":{}}",
			XP_BAD_REQUEST, "event", "must match", "invalid event name refused");
	reject_response("{\"xclone\":1,\"id\":\"a\",\"event\":7,\"data\":{}}", XP_BAD_REQUEST,
			"event", "expected a string", "numeric event refused");
	reject_response("{\"xclone\":1,\"id\":\"a\",\"event\":\"progress\"}", XP_BAD_REQUEST, "data",
			"missing", "event without data refused");
	reject_response("{\"xclone\":1,\"id\":null,\"event\":\"progress\",\"data\":{}}",
			XP_BAD_REQUEST, "id", "needs the request's id", "event without id refused");
	reject_response("{\"xclone\":2,\"id\":\"a\",\"ok\":true,\"result\":{}}",
			XP_UNSUPPORTED_VERSION, "xclone", "version 2", "version 2 response refused");
	reject_response("{\"xclone\":1,\"id\":\"a\",\"ok\":true,\"result\":{\"x\":1,\"x\":1}}",
			XP_BAD_REQUEST, "result.x", "duplicate key", "duplicate key in a result refused");
	ok(decode("{\"xclone\":1,\"id\":\"a\",\"ok\":true,\"result\":{},\"future\":[1]}", &r, &err) ==
		   0,
	   "unknown envelope members in a response are ignored");
	xp_response_free(&r);
}

/* A task with every nullable member set, and hostile strings where allowed. */
static void full_task(struct xp_task *t)
{
	xp_task_init(t);
	snprintf(t->id, sizeof(t->id), "t-1732243200123-0001");
	snprintf(t->key, sizeof(t->key), "pvc \"3f2a\"/disk-0 $(x)");
	t->state = XP_TASK_FAILED;
	t->percent = 42;
	snprintf(t->source, sizeof(t->source), "[ds 1] vm \xC3\xA9 'one'; rm -rf /\\x.vmdk");
	snprintf(t->target, sizeof(t->target), "/vmfs/devices/disks/naa.624a9370c0a1b2c3d4e5f60700012345");
	snprintf(t->pointer, sizeof(t->pointer), "/vmfs/volumes/ds 1/.xclone/t-1732243200123-0001.vmdk");
	t->has_pid = true;
	t->pid = 2101234;
	t->created_ms = 1732243200123;
	t->has_started_ms = true;
	t->started_ms = 1732243200200;
	t->has_ended_ms = true;
	t->ended_ms = XP_INT_LIMIT;
	t->has_exit_code = true;
	t->exit_code = 1;
	t->has_signal = true;
	t->signal = 9;
	t->has_xcopy_used = true;
	t->xcopy_used = false;
	t->has_bytes = true;
	t->bytes = 0;
	snprintf(t->message, sizeof(t->message), "vmkfstools exited 1\nsee stderr");
	t->has_error_code = true;
	t->error_code = XP_CLONE_FAILED;
	snprintf(t->stderr_tail, sizeof(t->stderr_tail),
		 "Clone: 12%% done.Failed to clone disk: No such device or address (393225).\n\t\xE2\x9C\x93");
}

static void task_round_trip(const struct xp_task *t, const char *name)
{
	struct xp_task back;
	struct xp_error err;
	char *line = xp_task_encode(t, &err), *again, *with_nl;

	if (!ok(line != NULL, "%s: encodes", name)) {
		printf("#   %s\n", err.message);
		return;
	}
	ok(xp_task_decode(line, strlen(line), &back, &err) == 0 && xp_task_equal(t, &back),
	   "%s: decodes to an equal record", name);
	again = xp_task_encode(&back, &err);
	is_str(again, line, "%s: re-encodes to the same line", name);
	with_nl = tp_fmt("%s\n", line);
	ok(xp_task_decode(with_nl, strlen(with_nl), &back, &err) == 0,
	   "%s: status.json with a trailing newline decodes", name);
	free(with_nl);
	free(again);
	free(line);
}

static void test_task(void)
{
	struct xp_task t, back;
	struct xp_error err;
	char *line;
	cJSON *json;

	xp_task_init(&t);
	snprintf(t.id, sizeof(t.id), "t-1");
	snprintf(t.source, sizeof(t.source), "[ds] a.vmdk");
	snprintf(t.target, sizeof(t.target), "/vmfs/devices/disks/naa.1");
	snprintf(t.pointer, sizeof(t.pointer), "/vmfs/volumes/ds/.xclone/t-1.vmdk");
	t.created_ms = 1;
	line = xp_task_encode(&t, &err);
	is_str(line,
	       "{\"id\":\"t-1\",\"key\":null,\"state\":\"queued\",\"percent\":0,\"source\":\"[ds] "
	       "a.vmdk\",\"target\":\"/vmfs/devices/disks/naa.1\",\"pointer\":\"/vmfs/volumes/ds/"
	       ".xclone/t-1.vmdk\",\"pid\":null,\"created_ms\":1,\"started_ms\":null,\"ended_ms\":null,"
	       "\"exit_code\":null,\"signal\":null,\"xcopy_used\":null,\"bytes\":null,\"message\":null,"
	       "\"error_code\":null,\"stderr_tail\":null}",
	       "a new task record: every member present, nullable ones null");
	free(line);
	task_round_trip(&t, "minimal task");
	full_task(&t);
	task_round_trip(&t, "full task with hostile strings");
	for (unsigned s = 0; s < XP_TASK_STATE_COUNT; s++) {
		char *name = tp_fmt("task in state %s", xp_task_state_name((enum xp_task_state)s));

		t.state = (enum xp_task_state)s;
		task_round_trip(&t, name);
		free(name);
	}

	/* Refusals: each member missing, and wrong values. */
	full_task(&t);
	json = xp_task_to_json(&t, &err);
	for (cJSON *m = json->child; m != NULL; m = m->next) {
		cJSON *copy = cJSON_Duplicate(json, 1);
		char *name = tp_fmt("task without %s refused", m->string);
		char *field = tp_fmt("task.%s", m->string);

		cJSON_DeleteItemFromObjectCaseSensitive(copy, m->string);
		tp_check_error(xp_task_from_json(copy, &back, "task", &err), &err, XP_BAD_REQUEST,
			       field, "missing", name);
		cJSON_Delete(copy);
		free(field);
		free(name);
	}
	cJSON_Delete(json);

	static const struct {
		const char *member, *json, *needle;
	} bad[] = {
		{ "percent", "101", "out of range 0..100" },
		{ "percent", "-1", "out of range" },
		{ "percent", "50.5", "expected an integer" },
		{ "state", "\"done\"", "unknown value \"done\"" },
		{ "state", "null", "got null" },
		{ "id", "\"\"", "must not be empty" },
		{ "id", "null", "got null" },
		{ "source", "\"a\\nb\"", "control character" },
		{ "error_code", "\"OK\"", "unknown error code" },
		{ "error_code", "\"NOT_A_CODE\"", "unknown error code" },
		{ "xcopy_used", "1", "expected a boolean" },
		{ "pid", "0", "out of range" },
		{ "exit_code", "256", "out of range" },
		{ "created_ms", "null", "got null" },
		{ "bytes", "1125899906842625", "expected an integer" },
		{ "message", "5", "expected a string" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *copy, *value = cJSON_Parse(bad[i].json);
		char *field = tp_fmt("task.%s", bad[i].member);
		char *name = tp_fmt("task with %s = %s refused", bad[i].member, bad[i].json);

		full_task(&t);
		copy = xp_task_to_json(&t, &err);
		cJSON_ReplaceItemInObjectCaseSensitive(copy, bad[i].member, value);
		tp_check_error(xp_task_from_json(copy, &back, "task", &err), &err, XP_BAD_REQUEST,
			       field, bad[i].needle, name);
		cJSON_Delete(copy);
		free(field);
		free(name);
	}

	/* Equality sees every member: change one at a time. */
	{
		struct xp_task a, b;
		int differ = 0, members = 0;

		full_task(&a);
		json = xp_task_to_json(&a, &err);
		for (cJSON *m = json->child; m != NULL; m = m->next, members++) {
			cJSON *copy = cJSON_Duplicate(json, 1), *v = cJSON_GetObjectItem(copy, m->string);

			if (cJSON_IsString(v))
				cJSON_SetValuestring(v, strcmp(m->string, "state") == 0 ? "running"
							: strcmp(m->string, "error_code") == 0 ? "TIMEOUT"
											      : "other");
			else if (cJSON_IsNumber(v))
				cJSON_SetNumberValue(v, v->valuedouble == 2 ? 3 : 2);
			else if (cJSON_IsBool(v))
				v->type = cJSON_IsTrue(v) ? cJSON_False : cJSON_True;
			if (xp_task_from_json(copy, &b, "task", &err) == 0 && !xp_task_equal(&a, &b))
				differ++;
			else
				printf("# changing %s went unnoticed: %s\n", m->string, err.message);
			cJSON_Delete(copy);
		}
		cJSON_Delete(json);
		ok(members == 18 && differ == members, "xp_task_equal notices a change in any of the 18 members");
	}

	full_task(&t);
	t.percent = 101;
	ok(xp_task_encode(&t, &err) == NULL && strcmp(err.field, "percent") == 0,
	   "encoding refuses percent 101");
	full_task(&t);
	memcpy(t.stderr_tail, "\xC3(", 3);
	ok(xp_task_encode(&t, &err) == NULL && strcmp(err.field, "stderr_tail") == 0,
	   "encoding refuses invalid UTF-8 in stderr_tail");
	full_task(&t);
	xp_utf8_copy(t.stderr_tail, sizeof(t.stderr_tail), "\xC3(ok", 4);
	line = xp_task_encode(&t, &err);
	ok(line != NULL, "stderr copied with xp_utf8_copy always encodes");
	free(line);
	ok(xp_task_decode("{\"id\":1}", 8, &back, &err) == XP_BAD_REQUEST &&
		   strcmp(err.field, "id") == 0,
	   "xp_task_decode names a wrong member");
	ok(xp_task_decode("[]", 2, &back, &err) == XP_BAD_REQUEST, "xp_task_decode refuses an array");
	ok(xp_task_state_final(XP_TASK_LOST) && xp_task_state_final(XP_TASK_SUCCEEDED) &&
		   !xp_task_state_final(XP_TASK_RUNNING) && !xp_task_state_final(XP_TASK_QUEUED),
	   "final states");
}

static void test_progress(void)
{
	struct xp_progress p, back;
	struct xp_response r;
	struct xp_task t;
	struct xp_error err;
	char *line;

	full_task(&t);
	t.state = XP_TASK_RUNNING;
	t.has_bytes = false;
	xp_progress_of_task(&t, &p);
	line = xp_progress_event("w-1", &p, &err);
	is_str(line,
	       "{\"xclone\":1,\"id\":\"w-1\",\"event\":\"progress\",\"data\":{\"task\":"
	       "\"t-1732243200123-0001\",\"state\":\"running\",\"percent\":42}}",
	       "progress without bytes omits bytes");
	if (line && decode(line, &r, &err) == 0) {
		ok(xp_event_check(r.event, r.data, &err) == 0, "progress data passes the event check");
		ok(xp_progress_from_json(r.data, &back, "data", &err) == 0 && xp_progress_equal(&p, &back),
		   "progress round-trips");
		xp_response_free(&r);
	}
	free(line);
	p.has_bytes = true;
	p.bytes = 123456789;
	line = xp_progress_event("w-1", &p, &err);
	if (line && decode(line, &r, &err) == 0) {
		ok(xp_progress_from_json(r.data, &back, "data", &err) == 0 && back.has_bytes &&
			   back.bytes == 123456789,
		   "progress with bytes round-trips");
		xp_response_free(&r);
	}
	free(line);
	ok(decode("{\"xclone\":1,\"id\":\"w\",\"event\":\"progress\",\"data\":{\"task\":\"t\","
		  "\"state\":\"running\",\"percent\":101}}",
		  &r, &err) == 0,
	   "a bad progress line still decodes as an event");
	tp_check_error(xp_event_check(r.event, r.data, &err), &err, XP_BAD_REQUEST, "data.percent",
		       "out of range", "the event check refuses percent 101");
	xp_response_free(&r);
}

/* Parses text, checks it as op's result, and expects the outcome. */
static void shape_case(enum xp_op op, const char *text, const char *field, const char *needle,
		       const char *name)
{
	cJSON *result = cJSON_Parse(text);
	struct xp_error err;
	int rc = xp_result_check(op, result, &err);

	if (field == NULL) {
		if (!ok(rc == 0, "%s", name))
			printf("#   %s\n", err.message);
	} else {
		tp_check_error(rc, &err, XP_BAD_REQUEST, field, needle, name);
	}
	cJSON_Delete(result);
}

/* A host.info result: two adapters, an extent partition and sdc_guid as raw JSON. */
#define ADAPTER_FMT                                                                        \
	"{\"name\":\"vmhba64\",\"driver\":\"iscsi_vmk\",\"uid\":\"iscsi.vmhba64\","       \
	"\"transport\":\"%s\",\"initiators\":[\"iqn.1998-01.com.vmware:x\"]}"
#define HOST_FMT                                                                           \
	"{\"hostname\":\"h\",\"product\":\"VMware ESXi\",\"version\":\"8.0.3\","            \
	"\"build\":\"1\",\"adapters\":[%s,%s],\"datastores\":[{\"name\":\"ds\",\"uuid\":\"u\"," \
	"\"type\":\"VMFS-6\",\"extents\":[{\"device\":\"naa.1\",\"partition\":%s,"           \
	"\"adapters\":[\"vmhba64\"]}]}],\"vaai\":{\"hardware_accelerated_move\":1,"            \
	"\"hardware_accelerated_init\":1,\"max_hw_transfer_size\":4096},\"sdc_guid\":%s}"

static void test_shapes(void)
{
	char *a_ok = tp_fmt(ADAPTER_FMT, "iscsi"), *a_bad = tp_fmt(ADAPTER_FMT, "infiniband");
	char *text;

	text = tp_fmt(HOST_FMT, a_ok, a_ok, "1", "null");
	shape_case(XP_OP_HOST_INFO, text, NULL, NULL, "a valid host.info result passes");
	free(text);
	text = tp_fmt(HOST_FMT, a_ok, a_ok, "1", "\"guid-1\"");
	shape_case(XP_OP_HOST_INFO, text, NULL, NULL, "sdc_guid may be a string");
	free(text);
	text = tp_fmt(HOST_FMT, a_ok, a_bad, "1", "null");
	shape_case(XP_OP_HOST_INFO, text, "result.adapters[1].transport", "unexpected value",
		   "an unknown transport is refused, with its path");
	free(text);
	text = tp_fmt(HOST_FMT, a_ok, a_ok, "\"1\"", "null");
	shape_case(XP_OP_HOST_INFO, text, "result.datastores[0].extents[0].partition",
		   "expected an integer", "a string partition is refused, with its path");
	free(text);
	text = tp_fmt(HOST_FMT, a_ok, a_ok, "1", "7");
	shape_case(XP_OP_HOST_INFO, text, "result.sdc_guid", "expected a string",
		   "a numeric sdc_guid is refused");
	free(text);
	free(a_ok);
	free(a_bad);

	shape_case(XP_OP_HELLO,
		   "{\"agent\":\"xclone-agent\",\"version\":\"0.1\",\"protocol\":1,\"capabilities\":[],"
		   "\"hostname\":\"h\",\"mode\":\"ssh\",\"read_only\":true}",
		   NULL, NULL, "a valid hello result passes");
	shape_case(XP_OP_HELLO,
		   "{\"agent\":\"xclone-agent\",\"version\":\"0.1\",\"protocol\":1,\"capabilities\":[],"
		   "\"hostname\":\"h\",\"mode\":\"ssh\"}",
		   "result.read_only", "missing", "hello without read_only is refused");
	shape_case(XP_OP_HELLO,
		   "{\"agent\":\"xclone-agent\",\"version\":\"0.1\",\"protocol\":1,\"capabilities\":[1],"
		   "\"hostname\":\"h\",\"mode\":\"ssh\",\"read_only\":true}",
		   "result.capabilities[0]", "expected a string", "a numeric capability is refused");
	shape_case(XP_OP_DEVICE_DETACH, "{\"device\":\"naa.1\",\"detached\":null}", "result.detached",
		   "got null", "null where not nullable is refused");
	shape_case(XP_OP_DEVICE_DETACH, "{\"device\":\"naa.1\",\"detached\":true,\"later\":1}", NULL,
		   NULL, "unknown result members are ignored");
	shape_case(XP_OP_PREFLIGHT,
		   "{\"source\":{\"path\":\"p\",\"datastore\":\"d\",\"format\":\"vmfs\",\"chain\":[\"p\"],"
		   "\"size_bytes\":1,\"sparse\":false},\"target\":{\"device\":\"naa.1\",\"size_bytes\":2},"
		   "\"xcopy_expected\":true,\"reasons\":[],\"blockers\":[{\"code\":\"BUSY\",\"message\":\"m\"}]}",
		   NULL, NULL, "a valid preflight result passes");
	shape_case(XP_OP_PREFLIGHT,
		   "{\"source\":{\"path\":\"p\",\"datastore\":\"d\",\"format\":\"vmfs\",\"chain\":[\"p\"],"
		   "\"size_bytes\":1,\"sparse\":false},\"target\":{\"device\":\"naa.1\",\"size_bytes\":2},"
		   "\"xcopy_expected\":true,\"reasons\":[],\"blockers\":[{\"code\":\"NOPE\",\"message\":\"m\"}]}",
		   "result.blockers[0].code", "not an error code", "a blocker with an unknown code is refused");
	shape_case(XP_OP_TASK_LIST, "{\"tasks\":[{\"id\":\"t\"}]}", "result.tasks[0].key", "missing",
		   "a partial task in task.list is refused, with its path");
	shape_case(XP_OP_TASK_LIST, "{\"tasks\":[],\"truncated\":true}", NULL, NULL,
		   "an empty task list passes");
	shape_case(XP_OP_TASK_GET, "[]", "result", "expected an object", "an array result is refused");
}

int main(void)
{
	test_ok();
	test_error();
	test_event();
	test_response_refusals();
	test_task();
	test_progress();
	test_shapes();
	return tap_done();
}
