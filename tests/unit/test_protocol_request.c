/*
 * Requests: every op round-trips (encode -> decode -> equal, byte-exact strings),
 * and every way a request can be wrong is refused with the right code and a
 * message naming the field.
 */
#include <inttypes.h>

#include "test_protocol_util.h"

/* Hostile but legal strings: all must travel byte for byte. */
static const char *const hostile[] = {
	"[datastore 1] my vm/my vm.vmdk",
	"[ds] \"quoted\" 'single' `back`/d.vmdk",
	"[ds] $(rm -rf /); echo pwned | tee x & wait > y < z",
	"[ds] back\\slash\\\\double\\u0041\\n.vmdk",
	"[ds] caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80 \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D.vmdk",
	"[ds] %s%n%x {\"json\":[1,2]} *?[]! #~",
	" leading and trailing spaces ",
	"\xEF\xBF\xBF\xF4\x8F\xBF\xBF",
};

static const char *sample_string(enum xp_arg arg)
{
	switch (arg) {
	case XP_ARG_CLIENT:
		return "xclone/0.1 test";
	case XP_ARG_ADAPTER:
		return "vmhba64";
	case XP_ARG_DEVICE:
		return "naa.624a9370c0a1b2c3d4e5f60700012345";
	case XP_ARG_SOURCE:
		return "[ds-01] vm/vm.vmdk";
	case XP_ARG_TARGET:
		return "/vmfs/devices/disks/naa.624a9370c0a1b2c3d4e5f60700012345";
	case XP_ARG_KEY:
		return "pvc-1/disk-0";
	case XP_ARG_TASK:
		return "t-1-0001";
	default:
		return NULL;
	}
}

/* Sets arg to a valid sample value. */
static void set_sample(struct xp_args *args, enum xp_arg arg)
{
	struct xp_error err;
	int rc;

	if (arg == XP_ARG_TIMEOUT_MS)
		rc = xp_args_set_int(args, arg, 1234, &err);
	else if (arg == XP_ARG_TYPE)
		rc = xp_args_set_type(args, XP_RESCAN_DELETE, &err);
	else
		rc = xp_args_set_string(args, arg, sample_string(arg), &err);
	if (rc != 0)
		printf("# set_sample %s: %s\n", xp_arg_name(arg), err.message);
}

/* encode -> decode -> equal, and encode again gives the same line. */
static void round_trip(const struct xp_request *req, const char *name)
{
	struct xp_request back;
	struct xp_error err;
	char *line = xp_request_encode(req, &err), *again;

	if (!ok(line != NULL, "%s: encodes", name)) {
		printf("#   %s\n", err.message);
		return;
	}
	if (!ok(xp_request_decode(line, strlen(line), &back, &err) == 0, "%s: decodes", name)) {
		printf("#   %s\n#   line: %s\n", err.message, line);
		free(line);
		return;
	}
	ok(xp_request_equal(req, &back), "%s: decoded equals original", name);
	again = xp_request_encode(&back, &err);
	is_str(again, line, "%s: re-encoding gives the same line", name);
	free(again);
	free(line);
}

static void test_round_trip_every_op(void)
{
	for (unsigned op = 0; op < XP_OP_COUNT; op++) {
		const struct xp_op_info *info = xp_op_info((enum xp_op)op);
		struct xp_request req;
		char *name;

		xp_request_init(&req, "rt-1", (enum xp_op)op);
		for (unsigned a = 0; a < XP_ARG_COUNT; a++)
			if (info->required & XP_ARG_BIT(a))
				set_sample(&req.args, (enum xp_arg)a);
		name = tp_fmt("%s with required args", info->name);
		round_trip(&req, name);
		free(name);
		for (unsigned a = 0; a < XP_ARG_COUNT; a++)
			if (info->optional & XP_ARG_BIT(a))
				set_sample(&req.args, (enum xp_arg)a);
		name = tp_fmt("%s with all args", info->name);
		round_trip(&req, name);
		free(name);
	}
}

/* Every hostile string in every string argument of every op that takes it. */
static void test_hostile_strings(void)
{
	int failures = 0, checks = 0;

	for (unsigned op = 0; op < XP_OP_COUNT; op++) {
		const struct xp_op_info *info = xp_op_info((enum xp_op)op);
		uint32_t all = info->required | info->optional;

		for (unsigned a = 0; a < XP_ARG_COUNT; a++) {
			if (!(all & XP_ARG_BIT(a)) || xp_arg_fields()[a].kind != XP_KIND_NAME)
				continue;
			for (size_t h = 0; h < sizeof(hostile) / sizeof(hostile[0]); h++) {
				struct xp_request req, back;
				struct xp_error err;
				const char *got;
				char *line;

				if (strlen(hostile[h]) > (size_t)xp_arg_fields()[a].max)
					continue;
				xp_request_init(&req, "h-1", (enum xp_op)op);
				for (unsigned r = 0; r < XP_ARG_COUNT; r++)
					if (all & XP_ARG_BIT(r))
						set_sample(&req.args, (enum xp_arg)r);
				checks++;
				if (xp_args_set_string(&req.args, (enum xp_arg)a, hostile[h], &err) != 0 ||
				    (line = xp_request_encode(&req, &err)) == NULL) {
					printf("# %s %s: %s\n", info->name, xp_arg_name(a), err.message);
					failures++;
					continue;
				}
				got = "";
				if (xp_request_decode(line, strlen(line), &back, &err) == 0)
					got = (const char *)&back.args + xp_arg_fields()[a].offset;
				if (strcmp(got, hostile[h]) != 0 || !xp_request_equal(&req, &back)) {
					printf("# %s %s: '%s' came back as '%s'\n", info->name,
					       xp_arg_name(a), hostile[h], got);
					failures++;
				}
				free(line);
			}
		}
	}
	ok(checks > 50 && failures == 0,
	   "hostile strings round-trip byte-exact in every string arg of every op (%d checks)", checks);
}

/* A line for op whose args hold valid required args plus `name: raw_json`. */
static char *line_with_arg(enum xp_op op, const char *name, const char *raw_json)
{
	const struct xp_op_info *info = xp_op_info(op);
	cJSON *args = cJSON_CreateObject();
	char *text, *line;

	for (unsigned a = 0; a < XP_ARG_COUNT; a++) {
		if ((info->required & XP_ARG_BIT(a)) && strcmp(xp_arg_name(a), name) != 0)
			cJSON_AddStringToObject(args, xp_arg_name(a), sample_string((enum xp_arg)a));
	}
	text = cJSON_PrintUnformatted(args);
	line = tp_fmt("{\"xclone\":1,\"id\":\"a-1\",\"op\":\"%s\",\"args\":%.*s%s\"%s\":%s}}", info->name,
		      (int)strlen(text) - 1, text, strlen(text) > 2 ? "," : "", name, raw_json);
	free(text);
	cJSON_Delete(args);
	return line;
}

/* The first op that takes arg. */
static enum xp_op op_taking(enum xp_arg arg)
{
	for (unsigned op = 0; op < XP_OP_COUNT; op++) {
		const struct xp_op_info *info = xp_op_info((enum xp_op)op);

		if ((info->required | info->optional) & XP_ARG_BIT(arg))
			return (enum xp_op)op;
	}
	return XP_OP_COUNT;
}

static void reject_arg(enum xp_arg arg, const char *raw_json, const char *needle)
{
	enum xp_op op = op_taking(arg);
	char *field = tp_fmt("args.%s", xp_arg_name(arg));
	char *name = tp_fmt("%s %s = %s refused (%s)", xp_op_name(op), field, raw_json, needle);

	tp_reject_free(line_with_arg(op, xp_arg_name(arg), raw_json), XP_BAD_REQUEST, field, needle,
		       name);
	free(field);
	free(name);
}

static void test_wrong_types(void)
{
	static const struct {
		const char *json, *got;
	} not_string[] = {
		{ "1", "got a number" }, { "true", "got a boolean" }, { "null", "got null" },
		{ "[\"a\"]", "got an array" }, { "{\"a\":1}", "got an object" },
	};

	for (unsigned a = 0; a < XP_ARG_COUNT; a++) {
		if (a == XP_ARG_TIMEOUT_MS)
			continue;
		for (size_t i = 0; i < sizeof(not_string) / sizeof(not_string[0]); i++) {
			char *needle = tp_fmt("expected a string, %s", not_string[i].got);

			reject_arg((enum xp_arg)a, not_string[i].json, needle);
			free(needle);
		}
	}
	reject_arg(XP_ARG_TIMEOUT_MS, "\"1000\"", "expected an integer, got a string");
	reject_arg(XP_ARG_TIMEOUT_MS, "true", "expected an integer, got a boolean");
	reject_arg(XP_ARG_TIMEOUT_MS, "null", "expected an integer, got null");
	reject_arg(XP_ARG_TIMEOUT_MS, "1.5", "expected an integer in 0..600000");
	reject_arg(XP_ARG_TIMEOUT_MS, "1e20", "expected an integer in 0..600000");
	reject_arg(XP_ARG_TIMEOUT_MS, "-1", "out of range 0..600000");
	reject_arg(XP_ARG_TIMEOUT_MS, "600001", "out of range 0..600000");
	reject_arg(XP_ARG_TYPE, "\"ALL\"", "unknown value \"ALL\"");
	reject_arg(XP_ARG_TYPE, "\"\"", "unknown value");
}

static void test_int_values(void)
{
	struct xp_request req;
	char *line;

	line = line_with_arg(XP_OP_DEVICE_WAIT, "timeout_ms", "6e2");
	if (tp_accept(line, &req, "timeout_ms written as 6e2 is the integer 600"))
		ok(req.args.timeout_ms == 600 && req.args.has[XP_ARG_TIMEOUT_MS], "value 600, present");
	free(line);
	line = line_with_arg(XP_OP_DEVICE_WAIT, "timeout_ms", "0");
	if (tp_accept(line, &req, "timeout_ms 0 accepted"))
		ok(req.args.timeout_ms == 0, "value 0");
	free(line);
	line = tp_request("d", "device.wait", "{\"device\":\"naa.1\"}");
	if (tp_accept(line, &req, "device.wait without timeout_ms accepted"))
		ok(req.args.timeout_ms == XP_TIMEOUT_MS_DEFAULT && !req.args.has[XP_ARG_TIMEOUT_MS],
		   "absent timeout_ms reads as the default 60000, not present");
	free(line);
	line = tp_request("r", "storage.rescan", "{}");
	if (tp_accept(line, &req, "storage.rescan with no args accepted"))
		ok(req.args.type == XP_RESCAN_ALL && !req.args.has[XP_ARG_TYPE] &&
			   !req.args.has[XP_ARG_ADAPTER],
		   "absent type reads as all, adapter absent");
	free(line);
}

/* The longest string of exactly `bytes` bytes mixing 1-, 2- and 4-byte characters. */
static char *string_of(size_t bytes)
{
	char *s = malloc(bytes + 1);
	size_t i = 0;

	while (bytes - i >= 6) {
		memcpy(s + i, "\xF0\x9F\x98\x80\xC3\xA9", 6);
		i += 6;
	}
	while (i < bytes)
		s[i++] = 'a';
	s[bytes] = '\0';
	return s;
}

static void test_lengths(void)
{
	for (unsigned a = 0; a < XP_ARG_COUNT; a++) {
		const struct xp_field *row = &xp_arg_fields()[a];
		enum xp_op op = op_taking((enum xp_arg)a);
		struct xp_request req;
		struct xp_args args;
		struct xp_error err;
		char *s, *json, *line, *needle;

		if (row->kind != XP_KIND_NAME)
			continue;
		s = string_of((size_t)row->max);
		json = tp_fmt("\"%s\"", s);
		line = line_with_arg(op, row->name, json);
		needle = tp_fmt("args.%s of exactly %" PRId64 " bytes accepted", row->name, row->max);
		if (tp_accept(line, &req, needle))
			is_str((const char *)&req.args + row->offset, s, "args.%s arrives intact",
			       row->name);
		free(needle);
		memset(&args, 0, sizeof(args));
		ok(xp_args_set_string(&args, (enum xp_arg)a, s, &err) == 0 && args.has[a],
		   "setter takes args.%s of %" PRId64 " bytes", row->name, row->max);
		free(line);
		free(json);
		free(s);

		s = string_of((size_t)row->max + 1);
		json = tp_fmt("\"%s\"", s);
		needle = tp_fmt("longer than %" PRId64, row->max);
		reject_arg((enum xp_arg)a, json, needle);
		memset(&args, 0, sizeof(args));
		ok(xp_args_set_string(&args, (enum xp_arg)a, s, &err) == XP_BAD_REQUEST && !args.has[a] &&
			   strstr(err.message, needle) != NULL,
		   "setter refuses args.%s of %" PRId64 " bytes", row->name, row->max + 1);
		reject_arg((enum xp_arg)a, "\"\"", "must not be empty");
		free(needle);
		free(json);
		free(s);
	}
}

static void test_control_characters(void)
{
	static const char *const controls[] = { "\\n", "\\t", "\\u0001", "\\u001f", "\\u007f",
						"\\u0085", "\\u009f" };

	for (unsigned a = 0; a < XP_ARG_COUNT; a++) {
		if (xp_arg_fields()[a].kind != XP_KIND_NAME)
			continue;
		for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
			char *json = tp_fmt("\"a%sb\"", controls[i]);

			reject_arg((enum xp_arg)a, json, "control character U+");
			free(json);
		}
	}
}

static void test_envelope(void)
{
	struct xp_request req;
	struct xp_error err;
	char *id64 = tp_repeat("i", 64), *id65 = tp_repeat("i", 65), *line;
	int rc;

	tp_reject("{\"id\":\"e\",\"op\":\"hello\",\"args\":{}}", XP_BAD_REQUEST, "xclone", "missing",
		  "missing xclone refused");
	tp_reject("{\"xclone\":1,\"op\":\"hello\",\"args\":{}}", XP_BAD_REQUEST, "id", "missing",
		  "missing id refused");
	tp_reject("{\"xclone\":1,\"id\":\"e\",\"args\":{}}", XP_BAD_REQUEST, "op", "missing",
		  "missing op refused");
	tp_reject("{\"xclone\":1,\"id\":\"e\",\"op\":\"hello\"}", XP_BAD_REQUEST, "args", "missing",
		  "missing args refused");
	tp_reject("{\"xclone\":\"1\",\"id\":\"e\",\"op\":\"hello\",\"args\":{}}", XP_BAD_REQUEST,
		  "xclone", "expected an integer", "string xclone refused");
	tp_reject("{\"xclone\":1.5,\"id\":\"e\",\"op\":\"hello\",\"args\":{}}", XP_BAD_REQUEST,
		  "xclone", "expected an integer", "fractional xclone refused");
	tp_reject("{\"xclone\":null,\"id\":\"e\",\"op\":\"hello\",\"args\":{}}", XP_BAD_REQUEST,
		  "xclone", "got null", "null xclone refused");
	tp_reject("{\"xclone\":true,\"id\":\"e\",\"op\":\"hello\",\"args\":{}}", XP_BAD_REQUEST,
		  "xclone", "got a boolean", "boolean xclone refused");
	tp_reject("{\"xclone\":1,\"id\":7,\"op\":\"hello\",\"args\":{}}", XP_BAD_REQUEST, "id",
		  "expected a string, got a number", "numeric id refused");
	tp_reject("{\"xclone\":1,\"id\":null,\"op\":\"hello\",\"args\":{}}", XP_BAD_REQUEST, "id",
		  "got null", "null id refused in a request");
	tp_reject("{\"xclone\":1,\"id\":[\"a\"],\"op\":\"hello\",\"args\":{}}", XP_BAD_REQUEST, "id",
		  "got an array", "array id refused");
	tp_reject("{\"xclone\":1,\"id\":\"e\",\"op\":7,\"args\":{}}", XP_BAD_REQUEST, "op",
		  "expected a string, got a number", "numeric op refused");
	tp_reject("{\"xclone\":1,\"id\":\"e\",\"op\":null,\"args\":{}}", XP_BAD_REQUEST, "op",
		  "got null", "null op refused");
	tp_reject("{\"xclone\":1,\"id\":\"e\",\"op\":\"hello\",\"args\":[]}", XP_BAD_REQUEST, "args",
		  "expected an object, got an array", "array args refused");
	tp_reject("{\"xclone\":1,\"id\":\"e\",\"op\":\"hello\",\"args\":\"x\"}", XP_BAD_REQUEST,
		  "args", "got a string", "string args refused");
	tp_reject("{\"xclone\":1,\"id\":\"e\",\"op\":\"hello\",\"args\":null}", XP_BAD_REQUEST, "args",
		  "got null", "null args refused");

	static const char *const bad_ids[] = { "", "a b", "a/b", "a\\\"b", "caf\xC3\xA9", "a;b",
					       "a\\nb" };
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		char *name = tp_fmt("id '%s' refused and not echoed", bad_ids[i]);

		line = tp_request(bad_ids[i], "hello", "{}");
		rc = xp_request_decode(line, strlen(line), &req, &err);
		tp_check_error(rc, &err, XP_BAD_REQUEST, "id", "must be 1 to 64 characters", name);
		is_str(req.id, "", "refused id '%s' leaves req->id empty", bad_ids[i]);
		free(line);
		free(name);
	}
	tp_reject_free(tp_request(id65, "hello", "{}"), XP_BAD_REQUEST, "id", "1 to 64",
		       "65-character id refused");
	line = tp_request(id64, "hello", "{}");
	if (tp_accept(line, &req, "64-character id accepted"))
		is_str(req.id, id64, "64-character id intact");
	free(line);
	line = tp_request("A-z.0_9:x", "hello", "{}");
	tp_accept(line, &req, "id with every allowed punctuation accepted");
	free(line);
	free(id64);
	free(id65);
}

static void test_versions_and_ops(void)
{
	struct xp_request req;
	struct xp_error err;
	const char *line;
	int rc;

	line = "{\"xclone\":2,\"id\":\"v2\",\"op\":\"hello\",\"args\":{}}";
	rc = xp_request_decode(line, strlen(line), &req, &err);
	tp_check_error(rc, &err, XP_UNSUPPORTED_VERSION, "xclone",
		       "protocol version 2 is not supported (this side speaks 1)",
		       "version 2 refused, naming both versions");
	is_str(req.id, "v2", "the id is echoed on a version mismatch");
	tp_reject("{\"xclone\":0,\"id\":\"v0\",\"op\":\"hello\",\"args\":{}}", XP_UNSUPPORTED_VERSION,
		  "xclone", "version 0", "version 0 refused");
	tp_reject("{\"xclone\":-1,\"id\":\"v0\",\"op\":\"hello\",\"args\":{}}", XP_UNSUPPORTED_VERSION,
		  "xclone", "version -1", "version -1 refused");
	tp_accept("{\"xclone\":1.0,\"id\":\"v1\",\"op\":\"hello\",\"args\":{}}", &req,
		  "version written 1.0 is the integer 1");

	line = "{\"xclone\":1,\"id\":\"u1\",\"op\":\"task.remove\",\"args\":{}}";
	rc = xp_request_decode(line, strlen(line), &req, &err);
	tp_check_error(rc, &err, XP_UNKNOWN_OP, "op", "unknown operation \"task.remove\"",
		       "unknown op refused with UNKNOWN_OP");
	is_str(req.id, "u1", "the id is echoed for an unknown op");
	tp_reject("{\"xclone\":1,\"id\":\"u2\",\"op\":\"Hello\",\"args\":{}}", XP_UNKNOWN_OP, "op",
		  "\"Hello\"", "op names are case-sensitive");
	tp_reject("{\"xclone\":1,\"id\":\"u3\",\"op\":\"a\\nb\",\"args\":{}}", XP_UNKNOWN_OP, "op",
		  "\"a?b\"", "unknown op is quoted without control characters");

	line = "{\"xclone\":1,\"id\":\"dup\",\"op\":\"task.get\",\"args\":{\"task\":1}}";
	rc = xp_request_decode(line, strlen(line), &req, &err);
	ok(rc == XP_BAD_REQUEST && strcmp(req.id, "dup") == 0, "id echoed when an arg is wrong");
	line = "{\"xclone\":1,\"id\":\"a\",\"id\":\"b\",\"op\":\"hello\",\"args\":{}}";
	rc = xp_request_decode(line, strlen(line), &req, &err);
	ok(rc == XP_BAD_REQUEST && req.id[0] == '\0', "a duplicated id is not echoed");
}

static void test_forward_compatibility(void)
{
	struct xp_request req;

	if (tp_accept("{\"xclone\":1,\"id\":\"f\",\"trace\":{\"span\":[1,2]},\"op\":\"task.get\","
		      "\"args\":{\"task\":\"t-1\",\"source\":\"ignored\",\"future\":true}}",
		      &req, "unknown envelope and args members are ignored"))
		ok(!req.args.has[XP_ARG_SOURCE] && req.args.source[0] == '\0',
		   "an argument of another op is ignored, not stored");
	tp_reject("{\"xclone\":1,\"id\":\"f\",\"op\":\"task.get\",\"args\":{\"task\":\"t\","
		  "\"future\":1,\"future\":2}}",
		  XP_BAD_REQUEST, "args.future", "duplicate key",
		  "duplicate keys are refused even in ignored members");
}

static void test_encode_refusals(void)
{
	struct xp_request req;
	struct xp_error err;
	char *line;

	xp_request_init(&req, "e1", XP_OP_TASK_GET);
	set_sample(&req.args, XP_ARG_TASK);
	set_sample(&req.args, XP_ARG_SOURCE);
	line = xp_request_encode(&req, &err);
	tp_check_error(line ? 0 : err.code, &err, XP_BAD_REQUEST, "args.source",
		       "not an argument of task.get", "encoder refuses an arg the op does not take");
	free(line);

	xp_request_init(&req, "e2", XP_OP_CLONE_START);
	set_sample(&req.args, XP_ARG_SOURCE);
	line = xp_request_encode(&req, &err);
	tp_check_error(line ? 0 : err.code, &err, XP_BAD_REQUEST, "args.target", "missing",
		       "encoder refuses a missing required arg");
	free(line);

	xp_request_init(&req, "bad id", XP_OP_HELLO);
	line = xp_request_encode(&req, &err);
	tp_check_error(line ? 0 : err.code, &err, XP_BAD_REQUEST, "id", "1 to 64",
		       "encoder refuses an invalid id");
	free(line);

	line = tp_repeat("x", 70);
	xp_request_init(&req, line, XP_OP_HELLO);
	free(line);
	line = xp_request_encode(&req, &err);
	tp_check_error(line ? 0 : err.code, &err, XP_BAD_REQUEST, "id", "1 to 64",
		       "an id too long for xp_request_init is refused, not cut");
	free(line);

	xp_request_init(&req, "e3", (enum xp_op)99);
	line = xp_request_encode(&req, &err);
	tp_check_error(line ? 0 : err.code, &err, XP_BAD_REQUEST, "op", "not an operation",
		       "encoder refuses an op outside the enum");
	free(line);

	xp_request_init(&req, "e4", XP_OP_TASK_GET);
	memcpy(req.args.task, "t\xFF", 3);
	req.args.has[XP_ARG_TASK] = true;
	line = xp_request_encode(&req, &err);
	tp_check_error(line ? 0 : err.code, &err, XP_BAD_REQUEST, "args.task", "invalid UTF-8",
		       "encoder refuses invalid UTF-8 written into the struct");
	free(line);

	xp_request_init(&req, "e5", XP_OP_PREFLIGHT);
	set_sample(&req.args, XP_ARG_TARGET);
	memcpy(req.args.source, "a\nb", 4);
	req.args.has[XP_ARG_SOURCE] = true;
	line = xp_request_encode(&req, &err);
	tp_check_error(line ? 0 : err.code, &err, XP_BAD_REQUEST, "args.source",
		       "control character U+000A", "encoder refuses a control character");
	free(line);

	xp_request_init(&req, "e6", XP_OP_DEVICE_WAIT);
	set_sample(&req.args, XP_ARG_DEVICE);
	req.args.timeout_ms = 600001;
	req.args.has[XP_ARG_TIMEOUT_MS] = true;
	line = xp_request_encode(&req, &err);
	tp_check_error(line ? 0 : err.code, &err, XP_BAD_REQUEST, "args.timeout_ms", "out of range",
		       "encoder refuses an int out of range");
	free(line);

	xp_request_init(&req, "e7", XP_OP_STORAGE_RESCAN);
	req.args.type = (enum xp_rescan_type)7;
	req.args.has[XP_ARG_TYPE] = true;
	line = xp_request_encode(&req, &err);
	tp_check_error(line ? 0 : err.code, &err, XP_BAD_REQUEST, "args.type", "not defined",
		       "encoder refuses an undefined rescan type");
	free(line);

	tp_check_error(xp_args_set_string(&req.args, XP_ARG_TIMEOUT_MS, "1", &err), &err,
		       XP_BAD_REQUEST, "args.timeout_ms", "not a string", "string setter refuses an int arg");
	tp_check_error(xp_args_set_int(&req.args, XP_ARG_SOURCE, 1, &err), &err, XP_BAD_REQUEST,
		       "args.source", "not an integer", "int setter refuses a string arg");
	tp_check_error(xp_args_set_int(&req.args, XP_ARG_TIMEOUT_MS, -5, &err), &err, XP_BAD_REQUEST,
		       "args.timeout_ms", "out of range", "int setter checks the range");
	tp_check_error(xp_args_set_string(&req.args, XP_ARG_TASK, "", &err), &err, XP_BAD_REQUEST,
		       "args.task", "must not be empty", "string setter refuses an empty string");
}

int main(void)
{
	test_round_trip_every_op();
	test_hostile_strings();
	test_wrong_types();
	test_int_values();
	test_lengths();
	test_control_characters();
	test_envelope();
	test_versions_and_ops();
	test_forward_compatibility();
	test_encode_refusals();
	return tap_done();
}
