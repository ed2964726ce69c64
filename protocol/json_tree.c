/*
 * Rules checked on a cJSON tree: no object has a key twice (cJSON keeps both, the
 * protocol forbids it at any level), every number is finite (1e400 parses to
 * infinity, which cJSON would print as null), and nesting stays within
 * XP_DEPTH_MAX (for trees built in memory, which never went through
 * xp_json_check).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xp_json.h"
#include "xp_limits.h"
#include "xp_path.h"

static const char *key_of(const cJSON *item)
{
	return item->string != NULL ? item->string : "";
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int duplicate(const char *path, const char *key, struct xp_error *err)
{
	char at[XP_PATH_BUF];

	xp_path_join(at, sizeof(at), path, key);
	return xp_error_set(err, XP_BAD_REQUEST, at, "duplicate key");
}

/* Sorting makes this O(n log n): a 64 KiB line can hold ~10 000 keys. */
static int check_unique_keys(const cJSON *object, const char *path, struct xp_error *err)
{
	const char **keys;
	const cJSON *item;
	size_t n = 0, i = 0;
	int rc = 0;

	cJSON_ArrayForEach(item, object)
		n++;
	if (n < 2)
		return 0;
	keys = malloc(n * sizeof(*keys));
	if (keys == NULL)
		return xp_error_set(err, XP_INTERNAL, path, "out of memory checking keys");
	cJSON_ArrayForEach(item, object)
		keys[i++] = key_of(item);
	qsort(keys, n, sizeof(*keys), cmp_keys);
	for (i = 1; i < n; i++) {
		if (strcmp(keys[i - 1], keys[i]) == 0) {
			rc = duplicate(path, keys[i], err);
			break;
		}
	}
	free(keys);
	return rc;
}

static int check_node(const cJSON *node, int depth, const char *path, struct xp_error *err)
{
	const cJSON *child;
	size_t index = 0;
	int rc;

	if (cJSON_IsNumber(node) && !isfinite(node->valuedouble))
		return xp_error_set(err, XP_BAD_REQUEST, path[0] ? path : "line",
				    "number out of the range of a double");
	if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
		return 0;
	if (depth > XP_DEPTH_MAX)
		return xp_error_set(err, XP_BAD_REQUEST, path[0] ? path : "line",
				    "nesting deeper than %d levels", XP_DEPTH_MAX);
	if (cJSON_IsObject(node) && (rc = check_unique_keys(node, path, err)) != 0)
		return rc;
	cJSON_ArrayForEach(child, node) {
		char sub[XP_PATH_BUF];

		if (cJSON_IsObject(node)) {
			xp_path_join(sub, sizeof(sub), path, key_of(child));
		} else {
			xp_path_join(sub, sizeof(sub), path, NULL);
			xp_path_append_index(sub, sizeof(sub), index++);
		}
		if ((rc = check_node(child, depth + 1, sub, err)) != 0)
			return rc;
	}
	return 0;
}

int xp_json_check_tree(const cJSON *root, struct xp_error *err)
{
	int rc = check_node(root, 1, "", err);

	return rc != 0 ? rc : xp_error_clear(err);
}
