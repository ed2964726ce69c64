/* Typed results from checked JSON (see build.h). */
#include "arena.h"
#include "build.h"
#include "xp_json.h"

bool xb_begin(struct xc_build *b, size_t size)
{
	b->root = xc_arena_new(size);
	b->failed = b->root == NULL;
	return !b->failed;
}

char *xb_str(struct xc_build *b, const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
	char *s;

	if (!cJSON_IsString(item))
		return NULL;
	s = xc_arena_strdup(b->root, item->valuestring);
	if (s == NULL)
		b->failed = true;
	return s;
}

int64_t xb_int(const cJSON *obj, const char *name)
{
	int64_t v = 0;

	if (xp_json_int(cJSON_GetObjectItemCaseSensitive(obj, name), &v) != 0)
		return 0;
	return v;
}

bool xb_bool(const cJSON *obj, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

size_t xb_count(const cJSON *obj, const char *name)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsArray(arr) ? (size_t)cJSON_GetArraySize(arr) : 0;
}

void *xb_array(struct xc_build *b, size_t count, size_t elem)
{
	void *p;

	if (count == 0)
		return NULL;
	if (elem != 0 && count > SIZE_MAX / elem) {
		b->failed = true;
		return NULL;
	}
	p = xc_arena_alloc(b->root, count * elem);
	if (p == NULL)
		b->failed = true;
	return p;
}

char **xb_strs(struct xc_build *b, const cJSON *obj, const char *name, size_t *n)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, name), *item;
	char **out;
	size_t i = 0;

	*n = xb_count(obj, name);
	out = xb_array(b, *n, sizeof(char *));
	if (out == NULL)
		return NULL;
	cJSON_ArrayForEach(item, arr) {
		out[i] = cJSON_IsString(item) ? xc_arena_strdup(b->root, item->valuestring) : NULL;
		if (out[i] == NULL)
			b->failed = true;
		i++;
	}
	return out;
}
