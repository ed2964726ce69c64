/*
 * Strict pre-validation of a protocol line, one pass over the bytes, before cJSON
 * sees them. A recursive-descent recognizer of RFC 8259 whose recursion is bounded
 * by XP_DEPTH_MAX; it keeps the key path of the value it is in so every error
 * names a field.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xp_json.h"
#include "xp_limits.h"
#include "xp_path.h"
#include "xp_utf8.h"

struct frame {
	bool array;
	const char *key; /* raw bytes of the current member's key, NULL before the first */
	size_t key_len;
	size_t index; /* current element of an array */
};

struct checker {
	const char *s;
	size_t len;
	size_t pos;
	int depth;
	struct frame stack[XP_DEPTH_MAX];
	struct xp_error *err;
};

static int peek(const struct checker *c)
{
	return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

static void skip_ws(struct checker *c)
{
	int ch;

	while ((ch = peek(c)) == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
		c->pos++;
}

static void current_path(const struct checker *c, char *path, size_t cap)
{
	path[0] = '\0';
	for (int i = 0; i < c->depth; i++) {
		const struct frame *f = &c->stack[i];

		if (f->array)
			xp_path_append_index(path, cap, f->index);
		else if (f->key != NULL)
			xp_path_append_key(path, cap, f->key, f->key_len);
	}
}

__attribute__((format(printf, 2, 3))) static int fail(struct checker *c, const char *fmt, ...)
{
	char path[XP_PATH_BUF], what[160];
	va_list ap;

	current_path(c, path, sizeof(path));
	va_start(ap, fmt);
	if (vsnprintf(what, sizeof(what), fmt, ap) < 0)
		what[0] = '\0';
	va_end(ap);
	return xp_error_set(c->err, XP_BAD_REQUEST, path[0] ? path : "line", "%s (byte %zu)", what,
			    c->pos);
}

/* Describes the byte at pos for a message: 'x' when printable, else 0xNN. */
static const char *describe(const struct checker *c, char *buf, size_t cap)
{
	int ch = peek(c);

	if (ch < 0)
		snprintf(buf, cap, "end of line");
	else if (ch > 0x20 && ch < 0x7F)
		snprintf(buf, cap, "'%c'", ch);
	else
		snprintf(buf, cap, "byte 0x%02X", (unsigned)ch);
	return buf;
}

static int unexpected(struct checker *c, const char *expected)
{
	char b[16];

	return fail(c, "expected %s, found %s", expected, describe(c, b, sizeof(b)));
}

static int check_value(struct checker *c);

static long hex4(const struct checker *c, size_t at)
{
	long v = 0;

	if (at + 4 > c->len)
		return -1;
	for (size_t i = at; i < at + 4; i++) {
		char h = c->s[i];

		v <<= 4;
		if (h >= '0' && h <= '9')
			v |= h - '0';
		else if (h >= 'a' && h <= 'f')
			v |= h - 'a' + 10;
		else if (h >= 'A' && h <= 'F')
			v |= h - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* pos is at the 'u' of "\u"; consumes the escape (and its pair, for surrogates). */
static int check_unicode_escape(struct checker *c)
{
	long cp = hex4(c, c->pos + 1), low;

	if (cp < 0)
		return fail(c, "invalid \\u escape (four hex digits expected)");
	if (cp == 0)
		return fail(c, "NUL character (\\u0000) is not allowed in strings");
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail(c, "unpaired surrogate \\u%04lX", cp);
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		size_t next = c->pos + 5;

		if (next + 2 > c->len || c->s[next] != '\\' || c->s[next + 1] != 'u')
			return fail(c, "unpaired surrogate \\u%04lX", cp);
		low = hex4(c, next + 2);
		if (low < 0xDC00 || low > 0xDFFF)
			return fail(c, "unpaired surrogate \\u%04lX", cp);
		c->pos = next + 6;
		return 0;
	}
	c->pos += 5;
	return 0;
}

static int check_escape(struct checker *c)
{
	c->pos++; /* the backslash */
	switch (peek(c)) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
		c->pos++;
		return 0;
	case 'u':
		return check_unicode_escape(c);
	case -1:
		return fail(c, "unterminated string");
	default:
		return unexpected(c, "a valid escape after '\\'");
	}
}

/* pos is at the opening quote; on return just past the closing one. */
static int check_string(struct checker *c)
{
	uint32_t cp;
	size_t n;
	int ch, rc;

	c->pos++;
	for (;;) {
		ch = peek(c);
		if (ch < 0)
			return fail(c, "unterminated string");
		if (ch == '"') {
			c->pos++;
			return 0;
		}
		if (ch == '\\') {
			if ((rc = check_escape(c)) != 0)
				return rc;
			continue;
		}
		if (ch == 0)
			return fail(c, "NUL byte in string");
		if (ch < 0x20)
			return fail(c, "control character 0x%02X must be escaped", (unsigned)ch);
		if (ch < 0x80) {
			c->pos++;
			continue;
		}
		n = xp_utf8_char(c->s + c->pos, c->len - c->pos, &cp);
		if (n == 0)
			return fail(c, "invalid UTF-8 (byte 0x%02X)", (unsigned)ch);
		c->pos += n;
	}
}

static bool is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static int check_digits(struct checker *c)
{
	if (!is_digit(peek(c)))
		return unexpected(c, "a digit");
	while (is_digit(peek(c)))
		c->pos++;
	return 0;
}

static int check_number(struct checker *c)
{
	size_t start = c->pos;
	int rc;

	if (peek(c) == '-')
		c->pos++;
	if (peek(c) == '0')
		c->pos++;
	else if ((rc = check_digits(c)) != 0)
		return rc;
	if (peek(c) == '.') {
		c->pos++;
		if ((rc = check_digits(c)) != 0)
			return rc;
	}
	if (peek(c) == 'e' || peek(c) == 'E') {
		c->pos++;
		if (peek(c) == '+' || peek(c) == '-')
			c->pos++;
		if ((rc = check_digits(c)) != 0)
			return rc;
	}
	if (c->pos - start > XP_NUMBER_TOKEN_MAX) {
		c->pos = start;
		return fail(c, "number longer than %d characters", XP_NUMBER_TOKEN_MAX);
	}
	return 0;
}

static int check_literal(struct checker *c, const char *word)
{
	size_t n = strlen(word);

	if (c->len - c->pos < n || memcmp(c->s + c->pos, word, n) != 0)
		return unexpected(c, "a JSON value");
	c->pos += n;
	return 0;
}

static int enter(struct checker *c, bool array)
{
	if (c->depth == XP_DEPTH_MAX)
		return fail(c, "nesting deeper than %d levels", XP_DEPTH_MAX);
	c->stack[c->depth] = (struct frame){ .array = array };
	c->depth++;
	c->pos++; /* the opening bracket */
	skip_ws(c);
	return 0;
}

static int check_object(struct checker *c)
{
	struct frame *f;
	int rc;

	if ((rc = enter(c, false)) != 0)
		return rc;
	f = &c->stack[c->depth - 1];
	if (peek(c) == '}')
		goto done;
	for (;;) {
		size_t key_start;

		f->key = NULL; /* an error inside the key names the object */
		if (peek(c) != '"')
			return unexpected(c, "a string key");
		key_start = c->pos + 1;
		if ((rc = check_string(c)) != 0)
			return rc;
		f->key = c->s + key_start;
		f->key_len = c->pos - 1 - key_start;
		skip_ws(c);
		if (peek(c) != ':')
			return unexpected(c, "':' after the key");
		c->pos++;
		skip_ws(c);
		if ((rc = check_value(c)) != 0)
			return rc;
		skip_ws(c);
		if (peek(c) == '}')
			break;
		if (peek(c) != ',')
			return unexpected(c, "',' or '}'");
		c->pos++;
		skip_ws(c);
	}
done:
	c->pos++;
	c->depth--;
	return 0;
}

static int check_array(struct checker *c)
{
	struct frame *f;
	int rc;

	if ((rc = enter(c, true)) != 0)
		return rc;
	f = &c->stack[c->depth - 1];
	if (peek(c) == ']')
		goto done;
	for (;;) {
		if ((rc = check_value(c)) != 0)
			return rc;
		skip_ws(c);
		if (peek(c) == ']')
			break;
		if (peek(c) != ',')
			return unexpected(c, "',' or ']'");
		c->pos++;
		f->index++;
		skip_ws(c);
	}
done:
	c->pos++;
	c->depth--;
	return 0;
}

static int check_value(struct checker *c)
{
	int ch = peek(c);

	switch (ch) {
	case '{':
		return check_object(c);
	case '[':
		return check_array(c);
	case '"':
		return check_string(c);
	case 't':
		return check_literal(c, "true");
	case 'f':
		return check_literal(c, "false");
	case 'n':
		return check_literal(c, "null");
	default:
		if (ch == '-' || is_digit(ch))
			return check_number(c);
		return unexpected(c, "a JSON value");
	}
}

/* The line must hold an object; say what it holds instead. */
static int not_an_object(struct checker *c)
{
	int ch = peek(c);

	if (ch == '[')
		return fail(c, "top-level value is an array, expected an object");
	if (ch == '"')
		return fail(c, "top-level value is a string, expected an object");
	if (ch == '-' || is_digit(ch))
		return fail(c, "top-level value is a number, expected an object");
	if (ch == 't' || ch == 'f' || ch == 'n')
		return fail(c, "top-level value is a literal, expected an object");
	return unexpected(c, "'{' (the line is not JSON)");
}

int xp_json_check(const char *line, size_t len, struct xp_error *err)
{
	struct checker c = { .s = line, .len = len, .err = err };
	int rc;

	if (len > XP_LINE_MAX)
		return xp_error_set(err, XP_BAD_REQUEST, "line", "%zu bytes, more than the limit of %d",
				    len, XP_LINE_MAX);
	if (line == NULL)
		c.len = 0;
	skip_ws(&c);
	if (peek(&c) < 0)
		return fail(&c, "empty line, expected a JSON object");
	if (peek(&c) != '{')
		return not_an_object(&c);
	if ((rc = check_object(&c)) != 0)
		return rc;
	skip_ws(&c);
	if (peek(&c) == '{' || peek(&c) == '[')
		return fail(&c, "a second JSON value follows the object (one object per line)");
	if (peek(&c) >= 0)
		return fail(&c, "trailing garbage after the object");
	return xp_error_clear(err);
}
