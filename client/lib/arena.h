/*
 * Result memory: every typed result (struct xclone_hello, ...) lives in one arena
 * whose first allocation is the result struct itself, so freeing the result is
 * one call that cannot leak a member, whatever path built it.
 */
#ifndef XCLONE_ARENA_H
#define XCLONE_ARENA_H

#include <stddef.h>

/* A new arena whose first object (size bytes, zeroed) is returned; NULL: no memory. */
void *xc_arena_new(size_t size);

/* Zeroed memory in root's arena, NULL when out of memory. */
void *xc_arena_alloc(void *root, size_t size);

/* A copy of s (NULL gives NULL; check the source before calling) in root's arena. */
char *xc_arena_strdup(void *root, const char *s);

/* Frees root's arena and everything allocated in it. NULL is fine. */
void xc_arena_free(void *root);

#endif
