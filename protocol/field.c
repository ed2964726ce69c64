/* The table-driven field codec (see xp_field.h). */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "xp_field.h"
#include "xp_json.h"
#include "xp_path.h"
#include "xp_utf8.h"

/* WORD and CODE fields are C enums; their storage is accessed as an unsigned. */
static_assert(sizeof(enum xp_code) == sizeof(unsigned), "enum storage is unsigned-sized");

static void *at(void *obj, size_t offset)
{
	return (char *)obj + offset;
}

static const void *cat(const void *obj, size_t offset)
{
	return (const char *)obj + offset;
}

static unsigned get_enum(const struct xp_field *row, const void *obj)
{
	unsigned v;

	memcpy(&v, cat(obj, row->offset), sizeof(v));
	return v;
}

static void set_enum(const struct xp_field *row, void *obj, unsigned v)
{
	memcpy(at(obj, row->offset), &v, sizeof(v));
}

static size_t word_count(const struct xp_field *row)
{
	size_t n = 0;

	while (row->words[n] != NULL)
		n++;
	return n;
}

bool xp_field_present(const struct xp_field *row, const void *obj)
{
	if (row->has == XP_NO_FLAG)
		return true;
	return *(const bool *)cat(obj, row->has);
}

static void set_present(const struct xp_field *row, void *obj, bool present)
{
	if (row->has != XP_NO_FLAG)
		*(bool *)at(obj, row->has) = present;
}

int xp_field_check_string(const struct xp_field *row, const char *value, const char *path,
			  struct xp_error *err)
{
	size_t len = xp_bounded_len(value, row->size), i = 0, n;
	uint32_t cp;

	if (len == row->size)
		return xp_error_set(err, XP_BAD_REQUEST, path, "not NUL-terminated within %zu bytes",
				    row->size);
	if (len == 0 && row->nullable)
		return 0; /* "" stands for null */
	if ((int64_t)len > row->max)
		return xp_error_set(err, XP_BAD_REQUEST, path, "%zu bytes, longer than %" PRId64, len,
				    row->max);
	if ((int64_t)len < row->min)
		return xp_error_set(err, XP_BAD_REQUEST, path, "must not be empty");
	while (i < len) {
		n = xp_utf8_char(value + i, len - i, &cp);
		if (n == 0)
			return xp_error_set(err, XP_BAD_REQUEST, path, "invalid UTF-8 at byte %zu", i);
		if (row->kind == XP_KIND_NAME && xp_is_control(cp))
			return xp_error_set(err, XP_BAD_REQUEST, path,
					    "control character U+%04" PRIX32 " at byte %zu", cp, i);
		i += n;
	}
	return 0;
}

/* The value checks shared by decode (after reading) and encode (before writing). */
static int check_value(const struct xp_field *row, const void *obj, const char *path,
		       struct xp_error *err)
{
	int64_t v;

	switch (row->kind) {
	case XP_KIND_NAME:
	case XP_KIND_TEXT:
		return xp_field_check_string(row, cat(obj, row->offset), path, err);
	case XP_KIND_INT:
		memcpy(&v, cat(obj, row->offset), sizeof(v));
		if (v < row->min || v > row->max)
			return xp_error_set(err, XP_BAD_REQUEST, path,
					    "%" PRId64 " is out of range %" PRId64 "..%" PRId64, v,
					    row->min, row->max);
		return 0;
	case XP_KIND_BOOL:
		return 0;
	case XP_KIND_WORD:
		if (get_enum(row, obj) >= word_count(row))
			return xp_error_set(err, XP_BAD_REQUEST, path, "value %u is not defined",
					    get_enum(row, obj));
		return 0;
	case XP_KIND_CODE:
		if (get_enum(row, obj) == XP_OK || get_enum(row, obj) >= XP_CODE_COUNT)
			return xp_error_set(err, XP_BAD_REQUEST, path, "%u is not an error code",
					    get_enum(row, obj));
		return 0;
	}
	return xp_error_set(err, XP_INTERNAL, path, "field kind %d unknown", (int)row->kind);
}

static const char *expected_type(const struct xp_field *row)
{
	switch (row->kind) {
	case XP_KIND_INT:
		return "an integer";
	case XP_KIND_BOOL:
		return "a boolean";
	default:
		return "a string";
	}
}

static int wrong_type(const struct xp_field *row, const cJSON *item, const char *path,
		      struct xp_error *err)
{
	return xp_error_set(err, XP_BAD_REQUEST, path, "expected %s, got %s", expected_type(row),
			    xp_json_type_name(item));
}

static int unknown_word(const struct xp_field *row, const char *word, const char *path,
			struct xp_error *err)
{
	char quoted[48], list[128] = "";

	xp_utf8_excerpt(quoted, sizeof(quoted), word);
	if (row->kind == XP_KIND_CODE)
		return xp_error_set(err, XP_BAD_REQUEST, path, "unknown error code \"%s\"", quoted);
	for (size_t i = 0; row->words[i] != NULL; i++) {
		size_t used = strlen(list);

		if (snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
			     row->words[i]) < 0)
			break;
	}
	return xp_error_set(err, XP_BAD_REQUEST, path, "unknown value \"%s\" (expected one of %s)",
			    quoted, list);
}

static int read_word(const struct xp_field *row, const char *word, void *obj, const char *path,
		     struct xp_error *err)
{
	enum xp_code code;

	if (row->kind == XP_KIND_CODE) {
		if (xp_code_from_name(word, &code) != 0 || code == XP_OK)
			return unknown_word(row, word, path, err);
		set_enum(row, obj, (unsigned)code);
		return 0;
	}
	for (unsigned i = 0; row->words[i] != NULL; i++) {
		if (strcmp(row->words[i], word) == 0) {
			set_enum(row, obj, i);
			return 0;
		}
	}
	return unknown_word(row, word, path, err);
}

/* Copies value into the row's buffer if it fits; the rules are checked after. */
static int copy_string(const struct xp_field *row, void *obj, const char *value, const char *path,
		       struct xp_error *err)
{
	size_t len = strlen(value);

	if (len >= row->size)
		return xp_error_set(err, XP_BAD_REQUEST, path, "%zu bytes, longer than %" PRId64, len,
				    row->max);
	memcpy(at(obj, row->offset), value, len + 1);
	return 0;
}

/* Reads a present, non-null JSON value into the row's storage. */
static int read_value(const struct xp_field *row, const cJSON *item, void *obj, const char *path,
		      struct xp_error *err)
{
	int64_t v;

	switch (row->kind) {
	case XP_KIND_NAME:
	case XP_KIND_TEXT:
		if (!cJSON_IsString(item))
			return wrong_type(row, item, path, err);
		return copy_string(row, obj, item->valuestring, path, err);
	case XP_KIND_INT:
		if (xp_json_int(item, &v) != 0) {
			if (cJSON_IsNumber(item))
				return xp_error_set(err, XP_BAD_REQUEST, path,
						    "expected an integer in %" PRId64 "..%" PRId64,
						    row->min, row->max);
			return wrong_type(row, item, path, err);
		}
		memcpy(at(obj, row->offset), &v, sizeof(v));
		return 0;
	case XP_KIND_BOOL:
		if (!cJSON_IsBool(item))
			return wrong_type(row, item, path, err);
		*(bool *)at(obj, row->offset) = cJSON_IsTrue(item);
		return 0;
	case XP_KIND_WORD:
	case XP_KIND_CODE:
		if (!cJSON_IsString(item))
			return wrong_type(row, item, path, err);
		return read_word(row, item->valuestring, obj, path, err);
	}
	return xp_error_set(err, XP_INTERNAL, path, "field kind %d unknown", (int)row->kind);
}

/* The value a row holds when the member is absent or null. */
static void clear_value(const struct xp_field *row, void *obj)
{
	switch (row->kind) {
	case XP_KIND_NAME:
	case XP_KIND_TEXT:
		*(char *)at(obj, row->offset) = '\0';
		break;
	case XP_KIND_INT:
		memcpy(at(obj, row->offset), &row->dflt, sizeof(row->dflt));
		break;
	case XP_KIND_BOOL:
		*(bool *)at(obj, row->offset) = false;
		break;
	case XP_KIND_WORD:
	case XP_KIND_CODE:
		set_enum(row, obj, (unsigned)row->dflt);
		break;
	}
	set_present(row, obj, false);
}

static int decode_row(const struct xp_field *row, bool required, const cJSON *json, void *obj,
		      const char *prefix, struct xp_error *err)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, row->name);
	char path[XP_PATH_BUF];
	int rc;

	xp_path_join(path, sizeof(path), prefix, row->name);
	clear_value(row, obj);
	if (item == NULL) {
		if (required)
			return xp_error_set(err, XP_BAD_REQUEST, path, "missing");
		return 0;
	}
	if (cJSON_IsNull(item)) {
		if (row->nullable)
			return 0;
		return wrong_type(row, item, path, err);
	}
	if ((rc = read_value(row, item, obj, path, err)) != 0)
		return rc;
	if ((rc = check_value(row, obj, path, err)) != 0)
		return rc;
	set_present(row, obj, true);
	return 0;
}

int xp_fields_decode(const struct xp_field *rows, size_t n, uint32_t allowed, uint32_t required,
		     const cJSON *json, void *obj, const char *prefix, struct xp_error *err)
{
	int rc;

	if (!cJSON_IsObject(json))
		return xp_error_set(err, XP_BAD_REQUEST, prefix && *prefix ? prefix : "value",
				    "expected an object, got %s", xp_json_type_name(json));
	for (size_t i = 0; i < n; i++) {
		if (!(allowed & XP_FIELD_BIT(i)))
			continue;
		rc = decode_row(&rows[i], (required & XP_FIELD_BIT(i)) != 0, json, obj, prefix, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static cJSON *new_value(const struct xp_field *row, const void *obj)
{
	const char *s;
	int64_t v;

	switch (row->kind) {
	case XP_KIND_NAME:
	case XP_KIND_TEXT:
		s = cat(obj, row->offset);
		if (s[0] == '\0' && row->nullable)
			return cJSON_CreateNull();
		return cJSON_CreateString(s);
	case XP_KIND_INT:
		memcpy(&v, cat(obj, row->offset), sizeof(v));
		return xp_json_new_int(v);
	case XP_KIND_BOOL:
		return cJSON_CreateBool(*(const bool *)cat(obj, row->offset));
	case XP_KIND_WORD:
		return cJSON_CreateString(row->words[get_enum(row, obj)]);
	case XP_KIND_CODE:
		return cJSON_CreateString(xp_code_name((enum xp_code)get_enum(row, obj)));
	}
	return NULL;
}

static int encode_row(const struct xp_field *row, bool required, const void *obj, cJSON *json,
		      const char *prefix, struct xp_error *err)
{
	char path[XP_PATH_BUF];
	cJSON *item;
	int rc;

	xp_path_join(path, sizeof(path), prefix, row->name);
	if (!xp_field_present(row, obj)) {
		if (!row->nullable && required)
			return xp_error_set(err, XP_BAD_REQUEST, path, "missing");
		if (!row->nullable)
			return 0;
		item = cJSON_CreateNull();
	} else {
		if ((rc = check_value(row, obj, path, err)) != 0)
			return rc;
		item = new_value(row, obj);
	}
	if (item == NULL || !cJSON_AddItemToObject(json, row->name, item)) {
		cJSON_Delete(item);
		return xp_error_set(err, XP_INTERNAL, path, "out of memory");
	}
	return 0;
}

int xp_fields_encode(const struct xp_field *rows, size_t n, uint32_t allowed, uint32_t required,
		     const void *obj, cJSON *json, const char *prefix, struct xp_error *err)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (!(allowed & XP_FIELD_BIT(i)))
			continue;
		rc = encode_row(&rows[i], (required & XP_FIELD_BIT(i)) != 0, obj, json, prefix, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static bool row_equal(const struct xp_field *row, const void *a, const void *b)
{
	switch (row->kind) {
	case XP_KIND_NAME:
	case XP_KIND_TEXT:
		return strncmp(cat(a, row->offset), cat(b, row->offset), row->size) == 0;
	case XP_KIND_INT:
		return memcmp(cat(a, row->offset), cat(b, row->offset), sizeof(int64_t)) == 0;
	case XP_KIND_BOOL:
		return *(const bool *)cat(a, row->offset) == *(const bool *)cat(b, row->offset);
	case XP_KIND_WORD:
	case XP_KIND_CODE:
		return get_enum(row, a) == get_enum(row, b);
	}
	return false;
}

bool xp_fields_equal(const struct xp_field *rows, size_t n, uint32_t allowed, const void *a,
		     const void *b)
{
	for (size_t i = 0; i < n; i++) {
		if (!(allowed & XP_FIELD_BIT(i)))
			continue;
		if (xp_field_present(&rows[i], a) != xp_field_present(&rows[i], b))
			return false;
		if (xp_field_present(&rows[i], a) && !row_equal(&rows[i], a, b))
			return false;
	}
	return true;
}

/* Stores a value already written to the row's storage: checked, then marked present. */
static int finish_set(const struct xp_field *row, void *obj, const char *path, struct xp_error *err)
{
	int rc = check_value(row, obj, path, err);

	if (rc != 0) {
		clear_value(row, obj);
		return rc;
	}
	set_present(row, obj, true);
	return xp_error_clear(err);
}

int xp_field_set_string(const struct xp_field *row, void *obj, const char *value, const char *path,
			struct xp_error *err)
{
	int rc;

	if (row->kind != XP_KIND_NAME && row->kind != XP_KIND_TEXT)
		return xp_error_set(err, XP_BAD_REQUEST, path, "not a string field");
	if ((rc = copy_string(row, obj, value ? value : "", path, err)) != 0) {
		clear_value(row, obj);
		return rc;
	}
	return finish_set(row, obj, path, err);
}

int xp_field_set_int(const struct xp_field *row, void *obj, int64_t value, const char *path,
		     struct xp_error *err)
{
	if (row->kind != XP_KIND_INT)
		return xp_error_set(err, XP_BAD_REQUEST, path, "not an integer field");
	memcpy(at(obj, row->offset), &value, sizeof(value));
	return finish_set(row, obj, path, err);
}

int xp_field_set_word(const struct xp_field *row, void *obj, unsigned value, const char *path,
		      struct xp_error *err)
{
	if (row->kind != XP_KIND_WORD && row->kind != XP_KIND_CODE)
		return xp_error_set(err, XP_BAD_REQUEST, path, "not a word field");
	set_enum(row, obj, value);
	return finish_set(row, obj, path, err);
}
