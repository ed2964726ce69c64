/*
 * Building typed results from checked JSON (the codec has already checked each
 * result against its operation's shape, so types are known to be right). The
 * builder's allocation failures are sticky: check `failed` once at the end.
 */
#ifndef XCLONE_BUILD_H
#define XCLONE_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct xc_build {
	void *root;  /* the result struct, first object of its arena */
	bool failed; /* an allocation failed */
};

/* Starts a result of size bytes; false when out of memory. */
bool xb_begin(struct xc_build *b, size_t size);

/* A copy of the string member name (NULL when absent or null). */
char *xb_str(struct xc_build *b, const cJSON *obj, const char *name);
int64_t xb_int(const cJSON *obj, const char *name);
bool xb_bool(const cJSON *obj, const char *name);
/* The array member name of strings, copied; *n its length. */
char **xb_strs(struct xc_build *b, const cJSON *obj, const char *name, size_t *n);
/* count zeroed elements of elem bytes (NULL for 0). */
void *xb_array(struct xc_build *b, size_t count, size_t elem);
/* The number of elements of array member name (0 when absent). */
size_t xb_count(const cJSON *obj, const char *name);

#endif
