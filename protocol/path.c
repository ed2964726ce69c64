/* Bounded field paths for messages. */
#include <stdio.h>
#include <string.h>

#include "xp_path.h"

size_t xp_bounded_len(const char *s, size_t cap)
{
	const char *nul = memchr(s, '\0', cap);

	return nul != NULL ? (size_t)(nul - s) : cap;
}

void xp_path_append_key(char *path, size_t cap, const char *key, size_t key_len)
{
	size_t used = xp_bounded_len(path, cap);

	if (used + 1 >= cap)
		return;
	if (used > 0)
		path[used++] = '.';
	if (key_len > cap - 1 - used)
		key_len = cap - 1 - used;
	memcpy(path + used, key, key_len);
	path[used + key_len] = '\0';
}

void xp_path_append_index(char *path, size_t cap, size_t index)
{
	size_t used = xp_bounded_len(path, cap);

	if (used + 1 >= cap)
		return;
	/* Cut output is fine here: the path only names the place. */
	if (snprintf(path + used, cap - used, "[%zu]", index) < 0)
		path[used] = '\0';
}

void xp_path_join(char *path, size_t cap, const char *prefix, const char *key)
{
	if (cap == 0)
		return;
	path[0] = '\0';
	if (prefix != NULL)
		xp_path_append_key(path, cap, prefix, strlen(prefix));
	if (key != NULL)
		xp_path_append_key(path, cap, key, strlen(key));
}
