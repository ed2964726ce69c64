/*
 * Strict JSON rules of protocol lines (PROTOCOL.md section 2): every malformed
 * class is refused with BAD_REQUEST and a message naming where it went wrong.
 */
#include <stdint.h>

#include "test_protocol_util.h"

/* A request whose args.source holds raw bytes `inner` (no escaping applied). */
static char *with_source(const char *inner)
{
	return tp_fmt("{\"xclone\":1,\"id\":\"j1\",\"op\":\"preflight\",\"args\":{\"source\":\"%s\","
		      "\"target\":\"/vmfs/devices/disks/naa.1\"}}",
		      inner);
}

static void test_syntax(void)
{
	struct xp_request req;

	tp_reject("", XP_BAD_REQUEST, "line", "empty line", "empty line refused");
	tp_reject(" \t\r\n", XP_BAD_REQUEST, "line", "empty line", "whitespace-only line refused");
	tp_reject("hello", XP_BAD_REQUEST, "line", "not JSON", "bare word refused as not JSON");
	tp_reject("{", XP_BAD_REQUEST, "line", "end of line", "unterminated object refused");
	tp_reject("{\"a\":}", XP_BAD_REQUEST, "a", "expected a JSON value", "member without value refused");
	tp_reject("{'a':1}", XP_BAD_REQUEST, "line", "string key", "single-quoted key refused");
	tp_reject("{\"a\":1,}", XP_BAD_REQUEST, "line", "string key", "trailing comma refused");
	tp_reject("{\"a\" 1}", XP_BAD_REQUEST, "a", "':'", "missing colon refused");
	tp_reject("{\"a\":[1 2]}", XP_BAD_REQUEST, "a[0]", "',' or ']'", "array without comma refused");
	tp_reject("{\"a\":tru}", XP_BAD_REQUEST, "a", "JSON value", "truncated literal refused");
	tp_reject("{\"a\":\"x}", XP_BAD_REQUEST, "a", "unterminated string", "unterminated string refused");
	tp_reject("[{\"xclone\":1}]", XP_BAD_REQUEST, "line", "array, expected an object",
		  "array at top refused");
	tp_reject("\"x\"", XP_BAD_REQUEST, "line", "string, expected an object", "string at top refused");
	tp_reject("42", XP_BAD_REQUEST, "line", "number, expected an object", "number at top refused");
	tp_reject("null", XP_BAD_REQUEST, "line", "literal, expected an object", "null at top refused");
	tp_reject("{\"xclone\":1,\"id\":\"a\",\"op\":\"hello\",\"args\":{}} x", XP_BAD_REQUEST, "line",
		  "trailing garbage", "trailing garbage refused");
	tp_reject("{\"xclone\":1,\"id\":\"a\",\"op\":\"hello\",\"args\":{}}{\"xclone\":1}",
		  XP_BAD_REQUEST, "line", "second JSON value", "two objects on a line refused");
	tp_reject("{\"xclone\":1,\"id\":\"a\",\"op\":\"hello\",\"args\":{}}\n{\"xclone\":1}",
		  XP_BAD_REQUEST, "line", "second JSON value", "two objects split by LF refused");
	tp_reject("{\"xclone\":1,\"id\":\"a\",\"op\":\"hello\",\"args\":{}}[]", XP_BAD_REQUEST,
		  "line", "second JSON value", "object then array refused");
	tp_reject("\xEF\xBB\xBF{\"xclone\":1,\"id\":\"a\",\"op\":\"hello\",\"args\":{}}",
		  XP_BAD_REQUEST, "line", "not JSON", "byte-order mark refused");
	tp_accept(" \t{\"xclone\":1,\"id\":\"a\",\"op\":\"hello\",\"args\":{}}\r\n", &req,
		  "JSON whitespace around the object (CRLF tail) accepted");
	static const char nul_after[] = "{\"xclone\":1,\"id\":\"a\",\"op\":\"hello\",\"args\":{}}\0";

	tp_reject_len(nul_after, sizeof(nul_after) - 1, XP_BAD_REQUEST, "line", "trailing garbage",
		      "NUL byte after the object refused");
}

static void test_size(void)
{
	const char *head = "{\"xclone\":1,\"id\":\"big\",\"op\":\"hello\",\"args\":{},\"pad\":\"";
	size_t fixed = strlen(head) + 2; /* closing quote and brace */
	char *pad = tp_repeat("x", XP_LINE_MAX - fixed);
	char *line = tp_fmt("%s%s\"}", head, pad);
	struct xp_request req;

	ok(strlen(line) == XP_LINE_MAX, "test line is exactly %d bytes", XP_LINE_MAX);
	tp_accept(line, &req, "a line of exactly 65536 bytes is accepted");
	free(line);
	line = tp_fmt("%s%sx\"}", head, pad);
	tp_reject(line, XP_BAD_REQUEST, "line", "more than the limit of 65536",
		  "a line of 65537 bytes is refused");
	free(line);
	free(pad);
}

static void test_utf8(void)
{
	static const struct {
		const char *bytes, *name;
	} bad[] = {
		{ "\xC0\xAF", "overlong 2-byte '/'" },
		{ "\xE0\x80\xAF", "overlong 3-byte '/'" },
		{ "\xF0\x80\x80\xAF", "overlong 4-byte '/'" },
		{ "\xC1\xBF", "overlong C1 lead" },
		{ "\xED\xA0\x80", "UTF-8 encoded surrogate U+D800" },
		{ "\xED\xBF\xBF", "UTF-8 encoded surrogate U+DFFF" },
		{ "\xE2\x82", "truncated 3-byte sequence" },
		{ "\xF0\x9F\x98", "truncated 4-byte sequence" },
		{ "\x80", "lone continuation byte" },
		{ "\xF4\x90\x80\x80", "above U+10FFFF" },
		{ "\xF5\x80\x80\x80", "F5 lead byte" },
		{ "\xFF", "FF byte" },
		{ "\xFE", "FE byte" },
	};
	static const struct {
		const char *bytes, *name;
	} good[] = {
		{ "caf\xC3\xA9", "2-byte e-acute" },
		{ "\xE2\x82\xAC", "3-byte euro sign" },
		{ "\xF0\x9F\x98\x80", "4-byte emoji" },
		{ "\xEF\xBF\xBF", "U+FFFF" },
		{ "\xF4\x8F\xBF\xBF", "U+10FFFF" },
		{ "\xE6\x97\xA5\xE6\x9C\xAC", "CJK" },
	};
	struct xp_request req;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *inner = tp_fmt("[ds] a%sb.vmdk", bad[i].bytes);
		char *name = tp_fmt("invalid UTF-8 refused: %s", bad[i].name);

		tp_reject_free(with_source(inner), XP_BAD_REQUEST, "args.source", "invalid UTF-8", name);
		free(inner);
		free(name);
	}
	tp_reject("{\"k\xC0\xAF\":1}", XP_BAD_REQUEST, "line", "invalid UTF-8",
		  "invalid UTF-8 in a key refused");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *line = with_source(good[i].bytes);
		char *name = tp_fmt("valid UTF-8 accepted: %s", good[i].name);

		if (tp_accept(line, &req, name))
			is_str(req.args.source, good[i].bytes, "%s arrives byte for byte", good[i].name);
		free(line);
		free(name);
	}
}

static void test_escapes(void)
{
	static const char nul_inside[] =
		"{\"xclone\":1,\"id\":\"a\",\"op\":\"task.get\",\"args\":{\"task\":\"t\0x\"}}";
	struct xp_request req;
	char *line;

	tp_reject_free(with_source("a\\u0000b"), XP_BAD_REQUEST, "args.source", "\\u0000",
		       "escaped NUL refused");
	tp_reject_free(with_source("a\\ud800b"), XP_BAD_REQUEST, "args.source", "unpaired surrogate",
		       "lone high surrogate escape refused");
	tp_reject_free(with_source("a\\udc00b"), XP_BAD_REQUEST, "args.source", "unpaired surrogate",
		       "lone low surrogate escape refused");
	tp_reject_free(with_source("a\\ud800\\u0041"), XP_BAD_REQUEST, "args.source",
		       "unpaired surrogate", "high surrogate followed by a non-surrogate refused");
	tp_reject_free(with_source("a\\ud800"), XP_BAD_REQUEST, "args.source", "unpaired surrogate",
		       "high surrogate at end of string refused");
	tp_reject_free(with_source("a\\x41"), XP_BAD_REQUEST, "args.source", "valid escape",
		       "unknown escape refused");
	tp_reject_free(with_source("a\\u12"), XP_BAD_REQUEST, "args.source", "four hex digits",
		       "short \\u escape refused");
	tp_reject_free(with_source("a\x01z"), XP_BAD_REQUEST, "args.source", "must be escaped",
		       "raw control character refused");
	tp_reject_free(with_source("a\tb"), XP_BAD_REQUEST, "args.source", "must be escaped",
		       "raw tab refused");
	line = with_source("a\\ud83d\\ude00 \\u00e9\\/\\\\\\\"");
	if (tp_accept(line, &req, "escaped surrogate pair and simple escapes accepted"))
		is_str(req.args.source, "a\xF0\x9F\x98\x80 \xC3\xA9/\\\"", "escapes decode exactly");
	free(line);
	tp_reject_len(nul_inside, sizeof(nul_inside) - 1, XP_BAD_REQUEST, "args.task", "NUL byte",
		      "raw NUL byte in a string refused");
}

/* A request with `levels` containers: envelope, args, then nested arrays in args.x. */
static char *nested(int levels)
{
	char *open = tp_repeat("[", (size_t)(levels - 2));
	char *close = tp_repeat("]", (size_t)(levels - 2));
	char *line = tp_fmt("{\"xclone\":1,\"id\":\"n\",\"op\":\"hello\",\"args\":{\"x\":%s1%s}}", open,
			    close);

	free(open);
	free(close);
	return line;
}

static void test_depth(void)
{
	struct xp_request req;
	char *line = nested(8);
	cJSON *root, *node;
	struct xp_error err;
	int depth;

	tp_accept(line, &req, "nesting of 8 levels accepted");
	free(line);
	tp_reject_free(nested(9), XP_BAD_REQUEST, "args.x[0][0][0][0][0][0]", "deeper than 8",
		       "nesting of 9 levels refused, path named");
	line = nested(9);
	ok(xp_json_check(line, strlen(line), &err) == XP_BAD_REQUEST,
	   "the byte-level check alone refuses 9 levels (before any tree is built)");
	free(line);
	tp_reject_free(nested(200), XP_BAD_REQUEST, "args.x[0][0][0][0][0][0]", "deeper than 8",
		       "nesting of 200 levels refused");
	root = cJSON_CreateObject();
	node = root;
	for (depth = 1; depth < 9; depth++)
		node = cJSON_AddObjectToObject(node, "d");
	ok(xp_json_check_tree(root, &err) == XP_BAD_REQUEST && strstr(err.message, "deeper"),
	   "in-memory tree of depth 9 refused by xp_json_check_tree");
	free(xp_json_print_line(root, XP_INTERNAL, &err));
	is_int(err.code, XP_INTERNAL, "xp_json_print_line refuses it with the caller's code");
	cJSON_Delete(root);
}

static void test_duplicates(void)
{
	cJSON *root;
	struct xp_error err;

	tp_reject("{\"xclone\":1,\"id\":\"d\",\"op\":\"hello\",\"op\":\"hello\",\"args\":{}}",
		  XP_BAD_REQUEST, "op", "duplicate key", "duplicate top-level key refused");
	tp_reject_free(tp_request("d", "task.get", "{\"task\":\"a\",\"task\":\"a\"}"), XP_BAD_REQUEST,
		  "args.task", "duplicate key", "duplicate key in args refused");
	tp_reject_free(tp_request("d", "hello", "{\"x\":[{\"y\":1},{\"z\":{\"q\":1,\"q\":2}}]}"),
		       XP_BAD_REQUEST, "args.x[1].z.q", "duplicate key",
		       "duplicate key deep inside an ignored member refused");
	tp_reject_free(tp_request("d", "task.get", "{\"task\":\"a\",\"t\\u0061sk\":\"b\"}"),
		       XP_BAD_REQUEST, "args.task", "duplicate key",
		       "keys equal after unescaping are duplicates");
	root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "a", 1);
	cJSON_AddNumberToObject(root, "a", 2);
	ok(xp_json_check_tree(root, &err) == XP_BAD_REQUEST && strcmp(err.field, "a") == 0,
	   "in-memory duplicate keys refused by xp_json_check_tree");
	cJSON_Delete(root);
}

/* A hello request whose args carry an ignored member x with the raw JSON value. */
static char *with_x(const char *value)
{
	return tp_fmt("{\"xclone\":1,\"id\":\"n\",\"op\":\"hello\",\"args\":{\"x\":%s}}", value);
}

static void test_numbers(void)
{
	static const char *const bad[] = { "+1", ".5", "01", "1.", "1e", "-", "NaN", "Infinity",
					   "0x10", "1.e5", "--1" };
	struct xp_request req;
	char *digits, *line;
	int64_t v;
	cJSON *n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *name = tp_fmt("non-JSON number '%s' refused", bad[i]);

		line = with_x(bad[i]);
		tp_reject_free(line, XP_BAD_REQUEST, "args.x", "", name);
		free(name);
	}
	digits = tp_repeat("9", 63);
	line = with_x(digits);
	tp_accept(line, &req, "a 63-character number token is accepted (ignored member)");
	free(line);
	free(digits);
	digits = tp_repeat("9", 64);
	tp_reject_free(with_x(digits), XP_BAD_REQUEST, "args.x", "longer than 63",
		       "a 64-character number token is refused");
	free(digits);

	tp_reject_free(with_x("1e400"), XP_BAD_REQUEST, "args.x", "out of the range of a double",
		       "a number that overflows a double is refused");
	line = with_x("-1e-400");
	tp_accept(line, &req, "a number that underflows to zero is accepted");
	free(line);

	n = cJSON_CreateNumber((double)XP_INT_LIMIT);
	ok(xp_json_int(n, &v) == 0 && v == XP_INT_LIMIT, "2^50 is an integer");
	cJSON_SetNumberValue(n, (double)XP_INT_LIMIT + 1);
	ok(xp_json_int(n, &v) != 0, "2^50 + 1 is out of range");
	cJSON_SetNumberValue(n, -(double)XP_INT_LIMIT);
	ok(xp_json_int(n, &v) == 0 && v == -XP_INT_LIMIT, "-2^50 is an integer");
	cJSON_SetNumberValue(n, 1.5);
	ok(xp_json_int(n, &v) != 0, "1.5 is not an integer");
	cJSON_SetNumberValue(n, 1e300);
	ok(xp_json_int(n, &v) != 0, "1e300 is not an integer in range");
	cJSON_Delete(n);
	n = cJSON_CreateTrue();
	ok(xp_json_int(n, &v) != 0, "true is not an integer");
	cJSON_Delete(n);
}

static void test_print_line(void)
{
	cJSON *root = cJSON_CreateObject();
	struct xp_error err;
	char *line;

	cJSON_AddStringToObject(root, "bad", "a\xC0\xAF");
	line = xp_json_print_line(root, XP_INTERNAL, &err);
	ok(line == NULL && err.code == XP_INTERNAL && strcmp(err.field, "bad") == 0,
	   "printing a tree with invalid UTF-8 fails, naming the member");
	cJSON_Delete(root);
	root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "nan", 0.0 / 0.0);
	line = xp_json_print_line(root, XP_INTERNAL, &err);
	ok(line == NULL && strcmp(err.field, "nan") == 0, "printing a NaN (it would become null) fails");
	cJSON_DeleteItemFromObject(root, "nan");
	cJSON_AddStringToObject(root, "s", "x\ny\"z");
	line = xp_json_print_line(root, XP_INTERNAL, &err);
	is_str(line, "{\"s\":\"x\\ny\\\"z\"}", "printing escapes control characters and quotes");
	free(line);
	cJSON_Delete(root);
}

static void test_utf8_helpers(void)
{
	char buf[8];
	size_t at = 0;

	ok(!xp_utf8_valid("ab\xE2\x82", 4, &at) && at == 2, "xp_utf8_valid reports the offset");
	xp_utf8_copy(buf, sizeof(buf), "a\xFF" "b", 3);
	is_str(buf, "a\xEF\xBF\xBD" "b", "xp_utf8_copy replaces invalid bytes with U+FFFD");
	xp_utf8_copy(buf, 5, "abc\xE2\x82\xAC", 6);
	is_str(buf, "abc", "xp_utf8_copy never cuts inside a character");
	xp_utf8_excerpt(buf, sizeof(buf), "a\nbcdefghij");
	is_str(buf, "a?bc...", "xp_utf8_excerpt hides controls and marks the cut");
}

int main(void)
{
	test_syntax();
	test_size();
	test_utf8();
	test_escapes();
	test_depth();
	test_duplicates();
	test_numbers();
	test_print_line();
	test_utf8_helpers();
	return tap_done();
}
