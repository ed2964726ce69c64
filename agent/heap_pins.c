/* One live allocation per small malloc size class for a session (see heap_pins.h). */
#include <stdlib.h>

#include "heap_pins.h"

/*
 * musl mallocng's size classes up to 4 KiB, in 16-byte units (src/malloc/mallocng/
 * malloc.c, size_classes[]). A slot of class c holds 16 * c - 4 bytes; asking for
 * exactly that lands in class c.
 */
static const unsigned short class_units[AG_HEAP_PIN_CLASSES] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 18, 20,
	25, 31, 36, 42, 50, 63, 72, 84, 102, 127, 146, 170, 204, 255,
};

void ag_heap_pins_hold(struct ag_heap_pins *p)
{
	for (int i = 0; i < AG_HEAP_PIN_CLASSES; i++)
		p->slot[i] = malloc((size_t)class_units[i] * 16 - 4);
}

void ag_heap_pins_release(struct ag_heap_pins *p)
{
	for (int i = 0; i < AG_HEAP_PIN_CLASSES; i++) {
		free(p->slot[i]);
		p->slot[i] = NULL;
	}
}
