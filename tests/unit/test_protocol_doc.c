/*
 * PROTOCOL.md and the codec agree: every example line decodes (requests, results
 * checked against their op's shape, events), every refused example gets exactly
 * the documented answer, and the operation, argument and error code tables say
 * what the C tables say. Runs from the repository root (tests/run does).
 */
#include "test_protocol_util.h"

#define DOC "protocol/PROTOCOL.md"
#define SEND "\xE2\x86\x92 "    /* → */
#define ANSWER "\xE2\x86\x90 "  /* ← */
#define REFUSED "\xE2\x86\x9B " /* ↛ */

struct pending {
	char id[XP_ID_MAX + 1];
	enum xp_op op;
};

struct doc_state {
	struct pending sent[64];
	size_t nsent;
	char *refusal; /* the answer the last ↛ line must get */
	int requests, answers, refusals;
	unsigned ops_seen; /* bit per op with a → example */
};

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void on_send(struct doc_state *st, const char *line, int lineno)
{
	struct xp_request req;
	struct xp_error err;

	st->requests++;
	if (!ok(xp_request_decode(line, strlen(line), &req, &err) == 0,
		"line %d: the example request decodes", lineno)) {
		printf("#   %s\n", err.message);
		return;
	}
	st->ops_seen |= 1u << req.op;
	if (st->nsent < sizeof(st->sent) / sizeof(st->sent[0])) {
		memcpy(st->sent[st->nsent].id, req.id, sizeof(req.id));
		st->sent[st->nsent++].op = req.op;
	}
}

static void on_refused(struct doc_state *st, const char *line, int lineno)
{
	struct xp_request req;
	struct xp_error err, err2;

	st->refusals++;
	ok(xp_request_decode(line, strlen(line), &req, &err) != 0,
	   "line %d: the refused example is refused", lineno);
	free(st->refusal);
	st->refusal = xp_response_error(req.id, err.code, err.message, &err2);
}

static const struct pending *find_sent(const struct doc_state *st, const char *id)
{
	for (size_t i = 0; i < st->nsent; i++)
		if (strcmp(st->sent[i].id, id) == 0)
			return &st->sent[i];
	return NULL;
}

static void check_answer(const struct doc_state *st, const struct xp_response *r, int lineno)
{
	const struct pending *p = find_sent(st, r->id);
	struct xp_error err;
	int rc = 0;

	if (r->kind == XP_RESPONSE_RESULT) {
		if (!ok(p != NULL, "line %d: the result answers an example request", lineno))
			return;
		rc = xp_result_check(p->op, r->result, &err);
		if (!ok(rc == 0, "line %d: the %s result has its documented shape", lineno,
			xp_op_name(p->op)))
			printf("#   %s\n", err.message);
	} else if (r->kind == XP_RESPONSE_EVENT) {
		rc = xp_event_check(r->event, r->data, &err);
		if (!ok(rc == 0 && p != NULL && xp_op_info(p->op)->streams,
			"line %d: the %s event is valid and answers a streaming op", lineno, r->event))
			printf("#   %s\n", err.message);
	} else {
		ok(p != NULL || r->id[0] == '\0', "line %d: the error answers an example request",
		   lineno);
	}
}

static void on_answer(struct doc_state *st, const char *line, int lineno)
{
	struct xp_response r;
	struct xp_error err;

	st->answers++;
	if (st->refusal != NULL) {
		is_str(line, st->refusal, "line %d: the refusal is answered exactly as documented",
		       lineno);
		free(st->refusal);
		st->refusal = NULL;
		return;
	}
	if (!ok(xp_response_decode(line, strlen(line), &r, &err) == 0,
		"line %d: the example answer decodes", lineno)) {
		printf("#   %s\n", err.message);
		return;
	}
	check_answer(st, &r, lineno);
	xp_response_free(&r);
}

static void test_examples(char *doc)
{
	struct doc_state st = { 0 };
	int lineno = 0;

	for (char *line = strtok(doc, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		lineno++;
		if (starts(line, SEND))
			on_send(&st, line + strlen(SEND), lineno);
		else if (starts(line, REFUSED))
			on_refused(&st, line + strlen(REFUSED), lineno);
		else if (starts(line, ANSWER))
			on_answer(&st, line + strlen(ANSWER), lineno);
	}
	ok(st.requests >= XP_OP_COUNT && st.answers > st.requests && st.refusals >= 15,
	   "the document has examples (%d requests, %d answers, %d refusals)", st.requests,
	   st.answers, st.refusals);
	is_int(st.ops_seen, (1u << XP_OP_COUNT) - 1, "every operation has an example request");
	free(st.refusal);
}

/* The cells of a markdown table row, trimmed, backticks and ** removed; returns the count. */
static int cells(const char *row, char out[][128], int max)
{
	int n = 0;
	const char *p = row + 1;

	while (n < max && *p) {
		const char *end = strchr(p, '|');
		size_t k = 0;

		if (end == NULL)
			break;
		for (const char *q = p; q < end && k < 127; q++)
			if (*q != '`' && *q != '*' && !(k == 0 && *q == ' '))
				out[n][k++] = *q;
		while (k > 0 && out[n][k - 1] == ' ')
			k--;
		out[n][k] = '\0';
		n++;
		p = end + 1;
	}
	return n;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

/* The "args" cell of an op row, from the C table: "`source`, `target`, `key?`". */
static void args_cell(const struct xp_op_info *info, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (unsigned a = 0; a < XP_ARG_COUNT; a++) {
		bool req = info->required & XP_ARG_BIT(a), opt = info->optional & XP_ARG_BIT(a);
		size_t used = strlen(buf);

		if (req || opt)
			snprintf(buf + used, cap - used, "%s%s%s", used ? ", " : "", xp_arg_name(a),
				 opt ? "?" : "");
	}
	if (buf[0] == '\0')
		snprintf(buf, cap, "\xE2\x80\x94"); /* — */
}

static void test_tables(const char *doc)
{
	unsigned ops_rows = 0, code_rows = 0, arg_rows = 0;
	const char *p = doc;
	char table[128] = ""; /* first header cell of the table being read */

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char row[1024], c[8][128], want[128];
		enum xp_op op;
		enum xp_code code;
		int n;

		snprintf(row, sizeof(row), "%.*s", (int)len, p);
		p = nl ? nl + 1 : NULL;
		if (starts(row, "| ") && !starts(row, "| `") && cells(row, c, 8) > 0)
			snprintf(table, sizeof(table), "%s", c[0]);
		if (!starts(row, "| `"))
			continue;
		n = cells(row, c, 8);
		if (strcmp(table, "op") == 0 && n == 5 && xp_op_from_name(c[0], &op) == 0) {
			const struct xp_op_info *info = xp_op_info(op);

			args_cell(info, want, sizeof(want));
			ok(strcmp(c[1], want) == 0 && strcmp(c[2], yes_no(info->mutates)) == 0 &&
				   strcmp(c[3], yes_no(info->streams)) == 0,
			   "operation table row %s matches the C table (args '%s', mutates, streams)",
			   c[0], want);
			ops_rows |= 1u << op;
		} else if (strcmp(table, "code") == 0 && n == 3 && xp_code_from_name(c[0], &code) == 0) {
			ok(strcmp(c[1], yes_no(xp_code_retryable(code))) == 0,
			   "error code row %s: retryable %s", c[0], c[1]);
			code_rows |= 1u << code;
		} else if (strcmp(table, "arg") == 0 && n == 3) {
			for (unsigned a = 0; a < XP_ARG_COUNT; a++) {
				const struct xp_field *f = &xp_arg_fields()[a];

				if (strcmp(c[0], f->name) != 0)
					continue;
				if (f->kind == XP_KIND_NAME)
					snprintf(want, sizeof(want), "%lld", (long long)f->max);
				else if (f->kind == XP_KIND_INT)
					snprintf(want, sizeof(want), "int %lld..%lld", (long long)f->min,
						 (long long)f->max);
				else
					snprintf(want, sizeof(want), "word");
				is_str(c[1], want, "argument table row %s: limit", c[0]);
				arg_rows |= 1u << a;
			}
		}
	}
	is_int(ops_rows, (1u << XP_OP_COUNT) - 1, "the operation table lists every op");
	is_int(code_rows, ((1u << XP_CODE_COUNT) - 1) & ~1u, "the error code table lists every code");
	is_int(arg_rows, (1u << XP_ARG_COUNT) - 1, "the argument table lists every argument");
}

int main(void)
{
	char *doc = read_file(DOC);

	if (!ok(doc != NULL, "%s is readable (run from the repository root)", DOC))
		return tap_done();
	test_tables(doc);
	test_examples(doc); /* tokenizes doc in place: last */
	free(doc);
	return tap_done();
}
