/*
 * The driver test suite every tests/unit/test_array_<vendor>.c shares: the fixture
 * (array simulator, temporary secret folder, a driver opened by product name) and
 * the test cases that are the same for every vendor, parametrised by a small
 * description of the vendor. Each vendor file keeps only what is its own (NAA
 * derivation, API quirks, issue-specific cases).
 *
 * Header-only: each test program is linked standalone (as agent_fixture.h).
 * Include after "tap.h"; tests run from the repository root (tests/run does that).
 */
#ifndef XCLONE_TESTS_ARRAY_SUITE_H
#define XCLONE_TESTS_ARRAY_SUITE_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "array.h"
#include "secret.h"
#include "tap.h"

#include "../sim/arrays/simarray.h"

#define SUITE_SECRET_KEYS_MAX 32

/* What the shared cases need to know about a vendor. */
struct suite_vendor {
	const char *product;            /* as xc_array_open takes it: "pureFlashArray" */
	const char *const *secret;      /* the secret keys every open starts from, "KEY=VALUE" */
	size_t n_secret;
	/* A key that depends on the array (PowerMax, PowerFlex: its system id), written
	 * after the common ones into kv; NULL = none. */
	void (*array_key)(const char *array, char *kv, size_t size);
};

/* The fixture: one simulator and one secret folder per test program. */
static struct simarray sim;
static char secret_dir[PATH_MAX];
static const struct suite_vendor *suite_vendor_in_use;

static inline void suite_cleanup(void)
{
	simarray_stop(&sim);
	simarray_rmtree(secret_dir);
}

/* Makes the secret folder (removed at exit with the simulator) and starts the
 * simulator serving arrays ("vendor:name"). Exits the program when it cannot. */
static inline void suite_start(const struct suite_vendor *v, const char *const *arrays, size_t n)
{
	const char *tmp = getenv("TMPDIR");

	suite_vendor_in_use = v;
	snprintf(secret_dir, sizeof(secret_dir), "%s/xclone-secret-XXXXXX",
		 tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(secret_dir) == NULL)
		exit(1);
	atexit(suite_cleanup);
	if (!ok(simarray_start(&sim, arrays, n) == 0, "start the array simulator"))
		exit(tap_done());
}

/* Seeds the simulator; the program cannot go on without its model. */
static inline void suite_seed(const char *json)
{
	if (!ok(json != NULL && simarray_seed(&sim, json) == 0, "seed the simulator"))
		exit(tap_done());
}

/* The secret folder for array `name`: the vendor's keys, then the test's changes
 * ("KEY=VALUE", "KEY=" removes KEY). */
static inline void suite_make_secret(const char *name, const char *const *extra, size_t n)
{
	const struct suite_vendor *v = suite_vendor_in_use;
	const char *kv[SUITE_SECRET_KEYS_MAX];
	char own[256];
	size_t k = 0;

	for (size_t i = 0; i < v->n_secret && k < SUITE_SECRET_KEYS_MAX; i++)
		kv[k++] = v->secret[i];
	if (v->array_key != NULL && k < SUITE_SECRET_KEYS_MAX) {
		v->array_key(name, own, sizeof(own));
		kv[k++] = own;
	}
	for (size_t i = 0; i < n && k < SUITE_SECRET_KEYS_MAX; i++)
		kv[k++] = extra[i];
	simarray_make_secret(&sim, secret_dir, name, kv, k);
}

/* Opens product from the secret folder as it is now (short backoff: tests retry a lot). */
static inline int suite_open_product(const char *product, struct xc_array **a,
				     struct xclone_error *err)
{
	struct xc_secret *s = NULL;
	struct xc_array_options opt = {.backoff_ms = 20};
	int rc = xc_secret_open(&s, secret_dir, err);

	if (rc == 0)
		rc = xc_array_open(a, product, s, &opt, err);
	xc_secret_close(s);
	return rc;
}

/* Writes the secret for array `name` with the test's changes, then opens the driver. */
static inline int suite_open_with(const char *name, const char *const *extra, size_t n,
			   struct xc_array **a, struct xclone_error *err)
{
	suite_make_secret(name, extra, n);
	return suite_open_product(suite_vendor_in_use->product, a, err);
}

/* Whether the host object lists initiator `text` (arrays spell them in either case). */
static inline int suite_has_initiator(const struct xc_host_group *g, const char *text)
{
	for (size_t i = 0; i < g->n_initiators; i++)
		if (strcasecmp(g->initiators[i], text) == 0)
			return 1;
	return 0;
}

/* Same groups with the same LUN numbers and settings (PowerFlex: access mode and
 * limits), in any order. */
static inline int suite_same_mappings(const struct xc_mapping_list *a,
				      const struct xc_mapping_list *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct xc_mapping *m = xc_mapping_list_find(b, a->items[i].kind, a->items[i].group);
		if (m == NULL || m->lun_id != a->items[i].lun_id ||
		    strcmp(m->settings, a->items[i].settings) != 0)
			return 0;
	}
	return 1;
}

/* Mappings of the model's array whose "volume" is volume_id. */
static inline int suite_mapping_count(const char *array, const char *volume_id)
{
	cJSON *maps = simarray_array_part(&sim, array, "mappings"), *m;
	int n = 0;

	cJSON_ArrayForEach(m, maps)
	{
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(m, "volume"));
		if (v != NULL && strcmp(v, volume_id) == 0)
			n++;
	}
	cJSON_Delete(maps);
	return n;
}

/* Arms a fault on array: `where` is the JSON members that select requests
 * ("\"method\": \"GET\", \"path\": \"/volumes\"", or "" for all), `what` the action's. */
static inline int suite_fault(const char *array, const char *where, const char *what)
{
	char json[1024];
	int len = snprintf(json, sizeof(json), "{\"array\": \"%s\"%s%s, %s}", array,
			   where[0] ? ", " : "", where, what);

	if (len < 0 || (size_t)len >= sizeof(json))
		return -1;
	return simarray_fault(&sim, json);
}

/* Where a read fault case aims: the array, a PV that resolves, and which of its
 * reads the fault hits. */
struct suite_read_target {
	const char *array;
	const struct xc_pv *pv;
	const char *where;
};

/* 429 with Retry-After twice on the resolve's reads: waited and retried. */
static inline void suite_case_429(struct xc_array *a, const struct suite_read_target *t)
{
	struct xc_http_stats s0, s1;
	struct xc_lun lun;
	struct xclone_error err = {0};
	int rc;

	xc_array_http_stats(a, &s0);
	suite_fault(t->array, t->where,
		    "\"action\": \"status\", \"status\": 429, \"retry_after\": 1, \"times\": 2");
	rc = xc_array_resolve(a, t->pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && s1.retries >= s0.retries + 2, "429 with Retry-After: waited and retried (%u)",
	   s1.retries - s0.retries);
}

/* 503 twice on a read: retried exactly twice. name: the check's name (NULL: the usual). */
static inline void suite_case_503_twice(struct xc_array *a, const struct suite_read_target *t,
				 const char *name)
{
	struct xc_http_stats s0, s1;
	struct xc_lun lun;
	struct xclone_error err = {0};
	int rc;

	xc_array_http_stats(a, &s0);
	suite_fault(t->array, t->where, "\"action\": \"status\", \"status\": 503, \"times\": 2");
	rc = xc_array_resolve(a, t->pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && s1.retries == s0.retries + 2, "%s", name ? name : "503 twice on a read: retried");
}

/* What xc_array_hosts must list: how many entries (min..max), and one group with
 * its members' initiators. */
struct suite_hosts_expect {
	size_t min_n, max_n;
	int any_kind;               /* the group's kind is not checked */
	enum xc_group_kind kind;
	const char *group;
	size_t n_initiators;
	const char *name;           /* the check's name */
};

static inline void suite_case_hosts_listed(struct xc_array *a, const struct suite_hosts_expect *e)
{
	struct xc_host_list list;
	struct xclone_error err = {0};
	int rc = xc_array_hosts(a, &list, &err), found = 0;

	for (size_t i = 0; rc == 0 && i < list.n; i++)
		if ((e->any_kind || list.items[i].kind == e->kind) &&
		    strcmp(list.items[i].name, e->group) == 0 &&
		    list.items[i].n_initiators == e->n_initiators)
			found = 1;
	ok(rc == 0 && list.n >= e->min_n && list.n <= e->max_n && found, "%s (%zu): %s", e->name,
	   rc == 0 ? list.n : 0, err.message);
	if (rc == 0)
		xc_host_list_free(&list);
}

/* Whether xc_array_hosts lists a group of that name (-1: the listing failed). */
static inline int suite_host_listed(struct xc_array *a, const char *name)
{
	struct xc_host_list list;
	struct xclone_error err = {0};
	int found = 0;

	if (xc_array_hosts(a, &list, &err) != 0)
		return -1;
	for (size_t i = 0; i < list.n; i++)
		found |= strcmp(list.items[i].name, name) == 0;
	xc_host_list_free(&list);
	return found;
}

/*
 * delete_host's contract (array_driver.h): a host object made by ensure_host for
 * initiators the array has not seen is refused (XC_E_CONFLICT, nothing deleted)
 * while a LUN is mapped to it, deleted once unmapped, and deleting it again is
 * success. The initiators must be new to the simulated array.
 */
static inline void suite_case_delete_host(struct xc_array *a, const struct xc_lun *lun,
					  const char *name, const char *const *initiators,
					  size_t n_initiators)
{
	struct xc_host_request req = {name, initiators, n_initiators};
	struct xc_host_group g;
	struct xc_mapping target;
	struct xclone_error err = {0};
	int rc;

	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && suite_host_listed(a, g.name) == 1, "delete_host set-up: host object %s made: %s",
	   g.name, err.message);
	if (rc != 0)
		return;
	target = (struct xc_mapping){.kind = g.kind, .lun_id = -1};
	snprintf(target.group, sizeof(target.group), "%s", g.name);
	rc = xc_array_map(a, lun, &target, NULL, &err);
	ok(rc == 0, "delete_host set-up: a LUN mapped to it: %s", err.message);
	rc = xc_array_delete_host(a, &g, &err);
	ok(rc == XC_E_CONFLICT && suite_host_listed(a, g.name) == 1,
	   "delete_host while a LUN is mapped: XC_E_CONFLICT, host kept (rc %d: %s)", rc, err.message);
	rc = xc_array_unmap(a, lun, &target, &err);
	ok(rc == 0, "delete_host set-up: unmapped: %s", err.message);
	rc = xc_array_delete_host(a, &g, &err);
	ok(rc == 0 && suite_host_listed(a, g.name) == 0, "delete_host once unmapped: gone (%s)",
	   err.message);
	rc = xc_array_delete_host(a, &g, &err);
	ok(rc == 0, "delete_host again: already gone is success (%s)", err.message);
	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && suite_host_listed(a, g.name) == 1 && xc_array_delete_host(a, &g, &err) == 0 &&
	   suite_host_listed(a, g.name) == 0, "made again and deleted again: %s", err.message);
}

/* Where a map fault case aims: the array and which request of the map the fault
 * hits, the LUN and target, and how the test sees the target's mapping in the
 * simulator (1 = made, 0 = absent, anything else = half made). */
struct suite_map_target {
	const char *array;
	const char *where;
	const struct xc_lun *lun;
	const struct xc_mapping *target;
	int (*mapped)(const struct xc_lun *lun);
};

/* A map answered 500 (not applied) is checked and sent again; a map refused
 * every time is a clear error and leaves nothing behind. */
static inline void suite_case_map_500_and_refused(struct xc_array *a,
						  const struct suite_map_target *t)
{
	struct xc_mapping got;
	struct xclone_error err = {0};
	int rc;

	suite_fault(t->array, t->where, "\"action\": \"status\", \"status\": 500");
	rc = xc_array_map(a, t->lun, t->target, &got, &err);
	ok(rc == 0 && t->mapped(t->lun) == 1, "map answered 500: checked (not applied), sent again: %s",
	   err.message);
	xc_array_unmap(a, t->lun, t->target, &err);

	suite_fault(t->array, t->where, "\"action\": \"status\", \"status\": 503, \"times\": 100");
	rc = xc_array_map(a, t->lun, t->target, &got, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_REMOTE && strstr(err.message, "HTTP 503"),
	   "map refused every time: clear error: %s", err.message);
	ok(t->mapped(t->lun) == 0, "and nothing half done");
}

/* An array error that echoes the credentials: none of them reaches the message. */
static inline void suite_case_redacted(struct xc_array *a, const char *array, const char *method,
				       const struct xc_pv *pv, const char *message,
				       const char *const *secrets, size_t n)
{
	struct xc_lun lun;
	struct xclone_error err = {0};
	int rc, leaked = 0;

	simarray_fault_message(&sim, array, method, 400, message);
	rc = xc_array_resolve(a, pv, &lun, &err);
	for (size_t i = 0; i < n; i++)
		if (strstr(err.message, secrets[i]) != NULL)
			leaked = 1;
	ok(rc != 0 && !leaked && strstr(err.message, "***") != NULL,
	   "secrets echoed by the array are redacted: %s", err.message);
}

/* What the timeout case needs: the array, a PV, the read that is slow once (then
 * retried) and the one that is always slow (resolve cannot avoid it). */
struct suite_timeouts {
	const char *array;
	const struct xc_pv *pv;
	const char *slow_once;
	const char *slow_always;
};

/* With a 1 s timeout: one slow answer is retried, an always-slow array is
 * XC_E_TIMEOUT naming the timeout, latency under it is just slower. */
static inline void suite_case_timeouts(const struct suite_timeouts *t)
{
	struct xc_array *a = NULL;
	struct xc_lun lun;
	struct xclone_error err = {0};
	const char *fast[] = {"STORAGE_HTTP_TIMEOUT_SECONDS=1"};
	int rc;

	rc = suite_open_with(t->array, fast, 1, &a, &err);
	is_int(rc, 0, "open with a 1 s timeout");
	if (rc != 0)
		return;
	suite_fault(t->array, t->slow_once, "\"action\": \"latency\", \"delay_ms\": 2500");
	rc = xc_array_resolve(a, t->pv, &lun, &err);
	ok(rc == 0, "one slow answer past the timeout: retried: %s", err.message);
	suite_fault(t->array, t->slow_always,
		    "\"action\": \"latency\", \"delay_ms\": 1500, \"times\": 100");
	rc = xc_array_resolve(a, t->pv, &lun, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_TIMEOUT && strstr(err.message, "1 s"),
	   "an array that is always too slow: XC_E_TIMEOUT: %s", err.message);
	suite_fault(t->array, "", "\"action\": \"latency\", \"delay_ms\": 200, \"times\": 3");
	rc = xc_array_resolve(a, t->pv, &lun, &err);
	ok(rc == 0, "latency under the timeout is just slower");
	xc_array_close(a);
}

/* Listing hosts in pages of 2 reads every page (at least min_requests requests),
 * and 20 listings reuse one kept-alive connection. The names say how the vendor pages. */
static inline void suite_case_paging_and_reuse(struct xc_array *a, const char *array,
					unsigned min_requests, const char *paging_name,
					const char *reuse_name)
{
	struct xc_host_list list;
	struct xc_http_stats s0, s1;
	struct xclone_error err = {0};
	char json[256];
	size_t all;
	int rc;

	rc = xc_array_hosts(a, &list, &err);
	all = rc == 0 ? list.n : 0;
	if (rc == 0)
		xc_host_list_free(&list);
	snprintf(json, sizeof(json), "{\"arrays\": {\"%s\": {\"page_size\": 2}}}", array);
	simarray_seed(&sim, json);
	xc_array_http_stats(a, &s0);
	rc = xc_array_hosts(a, &list, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && list.n == all && s1.requests - s0.requests >= min_requests,
	   "%s (%zu hosts, %u requests)", paging_name, rc == 0 ? list.n : 0,
	   s1.requests - s0.requests);
	if (rc == 0)
		xc_host_list_free(&list);
	snprintf(json, sizeof(json), "{\"arrays\": {\"%s\": {\"page_size\": null}}}", array);
	simarray_seed(&sim, json);

	xc_array_http_stats(a, &s0);
	for (int i = 0; i < 20; i++)
		if (xc_array_hosts(a, &list, &err) == 0)
			xc_host_list_free(&list);
	xc_array_http_stats(a, &s1);
	ok(s1.connects - s0.connects <= 1, "%s (%u new)", reuse_name, s1.connects - s0.connects);
}

#endif
