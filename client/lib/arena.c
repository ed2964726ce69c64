/* Result arenas (see arena.h). */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define CHUNK_MIN 4096

struct chunk {
	struct chunk *next; /* first chunk: the list of the others */
	size_t used, cap;
	alignas(max_align_t) unsigned char data[];
};

static struct chunk *chunk_of(void *root)
{
	return (struct chunk *)((unsigned char *)root - offsetof(struct chunk, data));
}

static size_t round_up(size_t n)
{
	size_t a = alignof(max_align_t);

	return (n + a - 1) / a * a;
}

static struct chunk *chunk_new(size_t want)
{
	size_t cap = want > CHUNK_MIN ? want : CHUNK_MIN;
	struct chunk *c;

	if (cap > SIZE_MAX - sizeof(*c))
		return NULL;
	c = calloc(1, sizeof(*c) + cap);
	if (c != NULL)
		c->cap = cap;
	return c;
}

void *xc_arena_new(size_t size)
{
	struct chunk *c = chunk_new(round_up(size));

	if (c == NULL)
		return NULL;
	c->used = round_up(size);
	return c->data;
}

void *xc_arena_alloc(void *root, size_t size)
{
	struct chunk *head = chunk_of(root), *c = head->next;
	size_t need = round_up(size ? size : 1);

	if (head->cap - head->used >= need) {
		c = head;
	} else if (c == NULL || c->cap - c->used < need) {
		c = chunk_new(need);
		if (c == NULL)
			return NULL;
		c->next = head->next;
		head->next = c;
	}
	c->used += need;
	return c->data + c->used - need;
}

char *xc_arena_strdup(void *root, const char *s)
{
	size_t len;
	char *d;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	d = xc_arena_alloc(root, len + 1);
	if (d != NULL)
		memcpy(d, s, len + 1);
	return d;
}

void xc_arena_free(void *root)
{
	struct chunk *head, *c, *next;

	if (root == NULL)
		return;
	head = chunk_of(root);
	for (c = head->next; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(head);
}
