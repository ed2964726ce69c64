/*
 * The populate plan (which disks go onto which PersistentVolumes), its JSON
 * form as the journal keeps it, and the populate key.
 */
#ifndef XCLONE_POPULATE_PLAN_H
#define XCLONE_POPULATE_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "xclone_populate.h"

struct pop_disk_spec {
	char *source;
	char *pv_name;
	char *volume_handle;     /* NULL: none */
	char **attr_keys;
	char **attr_values;
	size_t n_attrs;
};

struct xclone_populate_plan {
	struct pop_disk_spec *disks;
	size_t n, cap;
};

/* {"disks":[{"source","pv_name","volume_handle","volume_attributes"}...]}, keys in that order. */
cJSON *pop_plan_to_json(const struct xclone_populate_plan *p);
/* Adds the disks of such an object (a plan file or a journal record). */
int pop_plan_from_json(struct xclone_populate_plan *p, const cJSON *obj, const char *where,
		       struct xclone_error *err);
/* Same disks, same order, same PVs. */
bool pop_plan_equal(const struct xclone_populate_plan *a, const struct xclone_populate_plan *b);

/* [A-Za-z0-9][A-Za-z0-9._-]{0,99}: safe as a folder name and inside the agent's key. */
bool pop_key_valid(const char *key);
/* "p-" + 16 hex digits of SHA-256(host, port, plan): the same command, the same key. */
int pop_key_derive(const char *host, unsigned port, const struct xclone_populate_plan *p,
		   char *out, size_t size, struct xclone_error *err);

#endif
