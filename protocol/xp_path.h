/*
 * Field paths for error messages: "args.source", "result.adapters[2].name".
 * Bounded; a path that does not fit is cut (it only ever names things).
 */
#ifndef XP_PATH_H
#define XP_PATH_H

#include <stddef.h>

#define XP_PATH_BUF 160

/* Appends ".key" (just "key" to an empty path); key is key_len raw bytes. */
void xp_path_append_key(char *path, size_t cap, const char *key, size_t key_len);

/* Appends "[index]". */
void xp_path_append_index(char *path, size_t cap, size_t index);

/* strnlen without POSIX: bytes before the first NUL, at most cap. */
size_t xp_bounded_len(const char *s, size_t cap);

/* path = prefix, then ".key" appended: the common case for named fields. */
void xp_path_join(char *path, size_t cap, const char *prefix, const char *key);

#endif
