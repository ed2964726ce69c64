/*
 * Keeps musl's allocator from unmapping and remapping the same memory for every
 * request of a session.
 *
 * musl's malloc (mallocng) gives a group of slots back to the kernel as soon as
 * its last slot is freed. Everything a request allocates is freed when its
 * answer is written, so a session mapped, faulted in and unmapped the same few
 * groups for every line: two mmap and two munmap calls per task.get and a third
 * of its CPU time (measured: 71 us -> 47 us per task.get, 20 000 in a row).
 * Holding one small allocation in each size class for the session's life keeps
 * one group of each class mapped. Costs about 24 KiB of address space; harmless
 * with other allocators.
 */
#ifndef XCLONE_AGENT_HEAP_PINS_H
#define XCLONE_AGENT_HEAP_PINS_H

#define AG_HEAP_PIN_CLASSES 28

struct ag_heap_pins {
	void *slot[AG_HEAP_PIN_CLASSES];
};

/* Allocates the pins; one that fails stays NULL (the pins only save time). */
void ag_heap_pins_hold(struct ag_heap_pins *p);

void ag_heap_pins_release(struct ag_heap_pins *p);

#endif
