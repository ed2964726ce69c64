/* Checking a JSON value against a shape (xp_schema.h). */
#include <stdlib.h>
#include <string.h>

#include "xp_json.h"
#include "xp_path.h"
#include "xp_schema.h"
#include "xp_task.h"
#include "xp_utf8.h"

static const char *type_word(enum xp_jtype type)
{
	switch (type) {
	case XP_JT_STRING:
	case XP_JT_CODE:
		return "a string";
	case XP_JT_INT:
		return "an integer";
	case XP_JT_BOOL:
		return "a boolean";
	case XP_JT_OBJECT:
	case XP_JT_TASK:
		return "an object";
	case XP_JT_ARRAY:
		return "an array";
	}
	return "a value";
}

static int wrong_type(enum xp_jtype type, const cJSON *value, const char *path,
		      struct xp_error *err)
{
	return xp_error_set(err, XP_BAD_REQUEST, path, "expected %s, got %s", type_word(type),
			    xp_json_type_name(value));
}

static int check_word(const char *const *words, const char *value, const char *path,
		      struct xp_error *err)
{
	char quoted[48];

	for (size_t i = 0; words[i] != NULL; i++) {
		if (strcmp(words[i], value) == 0)
			return 0;
	}
	xp_utf8_excerpt(quoted, sizeof(quoted), value);
	return xp_error_set(err, XP_BAD_REQUEST, path, "unexpected value \"%s\"", quoted);
}

static int check_task(const cJSON *value, const char *path, struct xp_error *err)
{
	/* A task record is ~15 KiB: keep it off the stack of this recursion. */
	struct xp_task *t = malloc(sizeof(*t));
	int rc;

	if (t == NULL)
		return xp_error_set(err, XP_INTERNAL, path, "out of memory");
	rc = xp_task_from_json(value, t, path, err);
	free(t);
	return rc;
}

static int check_typed(enum xp_jtype type, const struct xp_member *m, const cJSON *value,
		       const char *path, struct xp_error *err);

static int check_array(const struct xp_member *m, const cJSON *value, const char *path,
		       struct xp_error *err)
{
	const cJSON *elem;
	size_t i = 0;
	int rc;

	if (!cJSON_IsArray(value))
		return wrong_type(XP_JT_ARRAY, value, path, err);
	cJSON_ArrayForEach(elem, value) {
		char sub[XP_PATH_BUF];

		xp_path_join(sub, sizeof(sub), path, NULL);
		xp_path_append_index(sub, sizeof(sub), i++);
		if ((rc = check_typed(m->item, m, elem, sub, err)) != 0)
			return rc;
	}
	return 0;
}

static int check_typed(enum xp_jtype type, const struct xp_member *m, const cJSON *value,
		       const char *path, struct xp_error *err)
{
	enum xp_code code;
	int64_t v;

	switch (type) {
	case XP_JT_STRING:
		if (!cJSON_IsString(value))
			return wrong_type(type, value, path, err);
		return m->words ? check_word(m->words, value->valuestring, path, err) : 0;
	case XP_JT_CODE:
		if (!cJSON_IsString(value))
			return wrong_type(type, value, path, err);
		if (xp_code_from_name(value->valuestring, &code) != 0 || code == XP_OK)
			return xp_error_set(err, XP_BAD_REQUEST, path, "not an error code");
		return 0;
	case XP_JT_INT:
		if (xp_json_int(value, &v) != 0)
			return wrong_type(type, value, path, err);
		return 0;
	case XP_JT_BOOL:
		return cJSON_IsBool(value) ? 0 : wrong_type(type, value, path, err);
	case XP_JT_OBJECT:
		return xp_shape_check(m->shape, value, path, err);
	case XP_JT_ARRAY:
		/* Arrays of arrays do not occur in protocol 1. */
		return check_array(m, value, path, err);
	case XP_JT_TASK:
		return check_task(value, path, err);
	}
	return xp_error_set(err, XP_INTERNAL, path, "shape type %d unknown", (int)type);
}

static int check_member(const struct xp_member *m, const cJSON *object, const char *prefix,
			struct xp_error *err)
{
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(object, m->name);
	char path[XP_PATH_BUF];

	xp_path_join(path, sizeof(path), prefix, m->name);
	if (value == NULL)
		return (m->flags & XP_MEMBER_OPTIONAL) ? 0 : xp_error_set(err, XP_BAD_REQUEST, path, "missing");
	if (cJSON_IsNull(value))
		return (m->flags & XP_MEMBER_NULLABLE) ? 0 : wrong_type(m->type, value, path, err);
	return check_typed(m->type, m, value, path, err);
}

int xp_shape_check(const struct xp_shape *shape, const cJSON *value, const char *path,
		   struct xp_error *err)
{
	int rc;

	if (!cJSON_IsObject(value))
		return wrong_type(XP_JT_OBJECT, value, path, err);
	for (size_t i = 0; i < shape->count; i++) {
		if ((rc = check_member(&shape->members[i], value, path, err)) != 0)
			return rc;
	}
	return 0;
}
