/*
 * The Infinidat InfiniBox driver end to end against the array simulator: Basic auth
 * and TLS verification, the result/error envelope (an error in a 200 answer too),
 * resolve by CSI handle and attributes, hosts (none, same, part, split), volumes
 * mapped through host clusters, map/unmap twice, mappings restored, the fabric, and
 * every fault class (401, 429, 5xx, latency, dropped connections, lost responses).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "array.h"
#include "secret.h"
#include "tap.h"
#include "vendors.h"

#include "array_suite.h"

#define PASSWORD "pa ss'w\"rd$(x);\\"
#define PASSWORD_JSON "pa ss'w\\\"rd$(x);\\\\"
#define NAA_1 "naa.6742b0f000000bbd000000000000196b"
#define IQN_NEW "iqn.1998-01.com.vmware:esx-new-1a2b3c4d"
#define FC_NEW "fc.20000025b5aa0001:20000025b5aa0002"
#define IQN_K8S "iqn.1994-05.com.redhat:k8s-node1"
#define IQN_C1A "iqn.1998-01.com.vmware:c1a"
#define FC_C1B "fc.20000025b5cc0001:20000025b5cc0002"

static const char *const infinibox_secret[] = {"STORAGE_USERNAME=admin",
						"STORAGE_PASSWORD=" PASSWORD};
static const struct suite_vendor infinibox = {
	.product = "infinibox", .secret = infinibox_secret, .n_secret = 2};

static void seed(void)
{
	const char *json =
		"{\"fabric_logins\": [\"" FC_NEW "\"],"
		" \"arrays\": {\"ib1\": {"
		"  \"serial_number\": 2811, \"system_id\": 3005,"
		"  \"users\": [{\"name\": \"admin\", \"password\": \"" PASSWORD_JSON "\"}],"
		"  \"volumes\": [{\"id\": 6507, \"name\": \"pvc-1111\", \"size\": 10737418240},"
		"               {\"id\": 200, \"name\": \"pvc-2222\", \"size\": 2097152},"
		"               {\"id\": 300, \"name\": \"pvc-3333\", \"size\": 2097152},"
		"               {\"id\": 400, \"name\": \"pvc-cluster\", \"size\": 2097152}],"
		"  \"hosts\": [{\"name\": \"k8s-node1\", \"initiators\": [\"" IQN_K8S "\"]},"
		"             {\"name\": \"esx-existing\", \"initiators\": [\"iqn.1998-01.com.vmware:esx-existing\"]},"
		"             {\"name\": \"partial\", \"initiators\": [\"iqn.1998-01.com.vmware:partial-1\"]},"
		"             {\"name\": \"h1\", \"initiators\": [\"iqn.1998-01.com.vmware:split-1\"]},"
		"             {\"name\": \"h2\", \"initiators\": [\"iqn.1998-01.com.vmware:split-2\"]},"
		"             {\"name\": \"c1a\", \"initiators\": [\"" IQN_C1A "\"], \"cluster\": \"esx-cluster\"},"
		"             {\"name\": \"c1b\", \"initiators\": [\"" FC_C1B "\"], \"cluster\": \"esx-cluster\"}],"
		"  \"mappings\": [{\"volume\": \"pvc-1111\", \"host\": \"k8s-node1\", \"lun\": 7},"
		"               {\"volume\": \"pvc-cluster\", \"host_group\": \"esx-cluster\", \"lun\": 11}]}"
		"}}";

	suite_seed(json);
}

static void test_naa_and_handle(void)
{
	char naa[64], proto[16];
	long long id = 0;
	struct xclone_error err;

	ok(xc_infinibox_naa("742b0f000000bbd000000000000196b", naa, sizeof(naa), &err) == 0 &&
		   strcmp(naa, NAA_1) == 0,
	   "NAA: naa.6 + the 31-digit serial (the CSI driver's WWID example)");
	ok(xc_infinibox_naa("742B0F000000BBD000000000000196B", naa, sizeof(naa), &err) == 0 &&
		   strcmp(naa, NAA_1) == 0,
	   "NAA: an upper-case serial is lower-cased");
	ok(xc_infinibox_naa("742b0f000000bbd000000000000196", naa, sizeof(naa), &err) ==
		   XC_E_PROTOCOL,
	   "NAA: 30 digits are refused");
	ok(xc_infinibox_naa("624a9370000000bbd000000000000196b", naa, sizeof(naa), &err) ==
		   XC_E_PROTOCOL,
	   "NAA: a serial without Infinidat's company id is refused");
	ok(xc_infinibox_parse_handle("12345$$iscsi", &id, proto, sizeof(proto), &err) == 0 &&
		   id == 12345 && strcmp(proto, "iscsi") == 0,
	   "handle: <id>$$<protocol>");
	ok(xc_infinibox_parse_handle("12345$$", &id, proto, sizeof(proto), &err) == XC_E_USAGE &&
		   xc_infinibox_parse_handle("abc$$fc", &id, proto, sizeof(proto), &err) == XC_E_USAGE &&
		   xc_infinibox_parse_handle("12$3$$fc", &id, proto, sizeof(proto), &err) == XC_E_USAGE &&
		   xc_infinibox_parse_handle("0$$fc", &id, proto, sizeof(proto), &err) == XC_E_USAGE &&
		   xc_infinibox_parse_handle("pvc-1", &id, proto, sizeof(proto), &err) == XC_E_USAGE,
	   "handle: no protocol, no number, id 0, no $$: refused");
}

static void test_open_info(void)
{
	struct xc_array *a = NULL;
	struct xc_array_info info;
	struct xclone_error err = {0};
	char url[128];
	int rc;

	rc = suite_open_with("ib1", NULL, 0, &a, &err);
	is_int(rc, 0, "open: %s", err.message);
	if (rc)
		exit(tap_done());
	rc = xc_array_info(a, &info, &err);
	is_int(rc, 0, "info");
	is_str(info.vendor, "Infinidat", "info vendor");
	is_str(info.product, "infinibox", "info product");
	is_str(info.model, "InfiniBox F6230", "info model");
	is_str(info.array_id, "2811", "info array id: the system serial");
	ok(strstr(info.version, "7.3") != NULL, "info version: %s", info.version);
	xc_array_close(a);

	/* forklift hands STORAGE_HOSTNAME to iboxapi as a URL prefix ending in '/' */
	snprintf(url, sizeof(url), "STORAGE_HOSTNAME=https://127.0.0.1:%d/", simarray_port(&sim, "ib1"));
	const char *prefix[] = {url};
	rc = suite_open_with("ib1", prefix, 1, &a, &err);
	is_int(rc, 0, "STORAGE_HOSTNAME as forklift's https://<host>/ prefix: %s", err.message);
	xc_array_close(a);
	snprintf(url, sizeof(url), "STORAGE_HOSTNAME=https://127.0.0.1:%d/api/rest/",
		 simarray_port(&sim, "ib1"));
	rc = suite_open_with("ib1", prefix, 1, &a, &err);
	is_int(rc, 0, "or with the REST root: %s", err.message);
	xc_array_close(a);

	const char *system_ca[] = {"STORAGE_CA_FILE="};
	rc = suite_open_with("ib1", system_ca, 1, &a, &err);
	ok(rc == XC_E_CONNECT && strstr(err.message, "not trusted"),
	   "TLS verification is on (forklift's client never verifies): %s", err.message);
	const char *skip[] = {"STORAGE_CA_FILE=", "STORAGE_SKIP_SSL_VERIFICATION=yes"};
	rc = suite_open_with("ib1", skip, 2, &a, &err);
	is_int(rc, 0, "unless STORAGE_SKIP_SSL_VERIFICATION says otherwise");
	xc_array_close(a);
	const char *badpass[] = {"STORAGE_PASSWORD=not-the-password"};
	rc = suite_open_with("ib1", badpass, 1, &a, &err);
	ok(rc == XC_E_AUTH && strstr(err.message, "STORAGE_USERNAME") &&
		   strstr(err.message, "UNAUTHORIZED") && strstr(err.message, "not-the-password") == NULL,
	   "a wrong password: XC_E_AUTH naming the keys, the array's code kept: %s", err.message);
	const char *nopass[] = {"STORAGE_PASSWORD="};
	rc = suite_open_with("ib1", nopass, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_PASSWORD"), "a missing password is named");
}

static void test_resolve(struct xc_array *a)
{
	struct xc_lun lun;
	struct xclone_error err = {0};
	struct xc_pv pv = {.name = "pvc-1111", .volume_handle = "6507$$iscsi"};
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	is_int(rc, 0, "resolve by CSI volume handle <id>$$<protocol>: %s", err.message);
	is_str(lun.name, "pvc-1111", "resolved name");
	is_str(lun.id, "6507", "resolved id");
	is_str(lun.naa, NAA_1, "NAA: naa.6 + serial");
	is_str(lun.array_id, "2811", "array id");
	ok(lun.size_bytes == 10737418240ULL, "size");

	struct xc_attr by_name[] = {{"Name", "pvc-2222"}, {"storage_protocol", "iscsi"}};
	struct xc_pv pv2 = {.name = "whatever", .attrs = by_name, .n_attrs = 2};
	rc = xc_array_resolve(a, &pv2, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, "200") == 0, "resolve by attribute Name (forklift's way): %s",
	   rc ? err.message : lun.name);
	struct xc_attr by_id[] = {{"ID", "300"}};
	struct xc_pv pv3 = {.name = "whatever", .attrs = by_id, .n_attrs = 1};
	rc = xc_array_resolve(a, &pv3, &lun, &err);
	ok(rc == 0 && strcmp(lun.name, "pvc-3333") == 0, "resolve by attribute ID");
	struct xc_pv pv4 = {.name = "pvc-3333"};
	rc = xc_array_resolve(a, &pv4, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, "300") == 0, "resolve by the PV name (the CSI driver's volume name)");

	struct xc_attr other[] = {{"Name", "pvc-3333"}};
	struct xc_pv pv5 = {.name = "pvc-x", .volume_handle = "200$$fc", .attrs = other, .n_attrs = 1};
	rc = xc_array_resolve(a, &pv5, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "pvc-2222"),
	   "a handle id whose volume has another Name: not the PV's volume: %s", err.message);
	struct xc_attr gone_name[] = {{"Name", "pvc-2222"}};
	struct xc_pv pv6 = {.name = "pvc-x", .volume_handle = "999$$fc", .attrs = gone_name, .n_attrs = 1};
	rc = xc_array_resolve(a, &pv6, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, "200") == 0, "a handle id that does not exist: found by Name");
	struct xc_pv pv7 = {.name = "pvc-absent", .volume_handle = "998$$fc"};
	rc = xc_array_resolve(a, &pv7, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "pvc-absent"), "not found names the PV: %s",
	   err.message);
	struct xc_pv hostile = {.name = "pvc-'; $(rm -rf /) \"x\" \\ ünïcode&name=pvc-1111",
				.volume_handle = "a b&c=d?e#f"};
	rc = xc_array_resolve(a, &hostile, &lun, &err);
	ok(rc == XC_E_NOT_FOUND, "hostile PV name and handle are just not found: %s", err.message);
}

static int host_count(void)
{
	cJSON *hosts = simarray_array_part(&sim, "ib1", "hosts");
	int n = cJSON_GetArraySize(hosts);

	cJSON_Delete(hosts);
	return n;
}

/* POSTs to exactly that path (NULL: to any host's ports). */
static int posts_exact(const char *path)
{
	cJSON *st = simarray_state(&sim), *r;
	int n = 0;

	cJSON_ArrayForEach(r, cJSON_GetObjectItem(st, "requests"))
	{
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(r, "method"));
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(r, "path"));
		if (m == NULL || p == NULL || strcmp(m, "POST") != 0)
			continue;
		if (path != NULL ? strcmp(p, path) == 0 : strstr(p, "/ports?") != NULL)
			n++;
	}
	cJSON_Delete(st);
	return n;
}

static void test_ensure_host(struct xc_array *a)
{
	struct xc_host_group g;
	struct xclone_error err = {0};
	const char *fresh[] = {IQN_NEW, FC_NEW};
	struct xc_host_request req = {.name = "esx-new", .initiators = fresh, .n_initiators = 2};
	int rc, posts, hosts;

	rc = xc_array_ensure_host(a, &req, &g, &err);
	is_int(rc, 0, "ensure host when none holds the initiators: %s", err.message);
	is_str(g.name, "esx-new", "created with the given name");
	ok(suite_has_initiator(&g, IQN_NEW) && suite_has_initiator(&g, "20:00:00:25:b5:aa:00:02"),
	   "it holds the IQN and the WWPN (as the array writes it)");
	is_int(simarray_count_requests(&sim, "ib1", "POST", "/ports?approved=true"), 2,
	       "two ports added, with approved=true");
	posts = simarray_count_requests(&sim, "ib1", "POST", "/api/rest/hosts");

	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-new") == 0, "ensure again: the same host");
	is_int(simarray_count_requests(&sim, "ib1", "POST", "/api/rest/hosts"), posts,
	       "ensure again changes nothing");

	hosts = host_count();
	const char *existing[] = {"IQN.1998-01.com.VMware:esx-existing"};
	struct xc_host_request req2 = {.name = "other-name", .initiators = existing, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req2, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-existing") == 0,
	   "an existing host is reused, IQN case ignored (forklift compares exactly): %s",
	   rc ? err.message : g.name);
	is_int(host_count(), hosts, "nothing created for the reuse");

	const char *part[] = {"iqn.1998-01.com.vmware:partial-1", "iqn.1998-01.com.vmware:partial-2"};
	struct xc_host_request req3 = {.name = "whatever", .initiators = part, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req3, &g, &err);
	ok(rc == 0 && strcmp(g.name, "partial") == 0 && g.n_initiators == 2,
	   "a host holding part of them is completed: %s", rc ? err.message : g.name);

	const char *split[] = {"iqn.1998-01.com.vmware:split-1", "iqn.1998-01.com.vmware:split-2"};
	struct xc_host_request req4 = {.name = "x", .initiators = split, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req4, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "h1") && strstr(err.message, "h2"),
	   "initiators on two hosts: a conflict naming both: %s", err.message);

	const char *taken[] = {"iqn.1998-01.com.vmware:brand-new"};
	struct xc_host_request req5 = {.name = "esx-existing", .initiators = taken, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req5, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "esx-existing"),
	   "a name taken by an unrelated host is a conflict: %s", err.message);

	const char *lost[] = {"iqn.1998-01.com.vmware:lost-create"};
	struct xc_host_request req6 = {.name = "esx-lost", .initiators = lost, .n_initiators = 1};
	simarray_fault(&sim, "{\"array\": \"ib1\", \"method\": \"POST\", \"path\": \"/api/rest/hosts$\","
			     " \"action\": \"lose_response\"}");
	simarray_fault(&sim, "{\"array\": \"ib1\", \"method\": \"POST\", \"path\": \"/ports\","
			     " \"action\": \"lose_response\"}");
	int creates = posts_exact("/api/rest/hosts"), ports = posts_exact(NULL);
	rc = xc_array_ensure_host(a, &req6, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-lost") == 0 && g.n_initiators == 1,
	   "host create and port add whose answers are lost: checked, done: %s", err.message);
	ok(posts_exact("/api/rest/hosts") == creates + 1 && posts_exact(NULL) == ports + 1,
	   "each sent once");

	suite_case_hosts_listed(
		a, &(struct suite_hosts_expect){
			   .min_n = 0,
			   .max_n = SIZE_MAX,
			   .kind = XC_GROUP_HOST_SET,
			   .group = "esx-cluster",
			   .n_initiators = 2,
			   .name = "hosts lists host clusters with their members' ports"});
}

static void test_map_cycle(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-1111", .volume_handle = "6507$$iscsi"};
	struct xc_lun lun;
	struct xc_mapping_list before, after;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xclone_error err = {0};
	int rc, posts;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &before, &err);
	ok(rc == 0 && before.n == 1 && strcmp(before.items[0].group, "k8s-node1") == 0 &&
		   before.items[0].lun_id == 7,
	   "mappings before: k8s-node1 at LUN 7");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == 1, "map: the first free LUN from 1 (%ld) %s", got.lun_id,
	   err.message);
	ok(simarray_fabric_has(&sim, IQN_NEW, NAA_1) && simarray_fabric_has(&sim, FC_NEW, NAA_1),
	   "fabric: presented to the host's IQN and FC port");
	posts = simarray_count_requests(&sim, "ib1", "POST", "/luns");
	ok(simarray_count_requests(&sim, "ib1", "POST", "/luns?approved=true") == posts,
	   "the map carried approved=true");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == 1, "map twice: success, same LUN");
	is_int(simarray_count_requests(&sim, "ib1", "POST", "/luns"), posts, "map twice sends nothing");
	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, IQN_NEW, NAA_1), "unmap: gone from the fabric: %s",
	   err.message);
	rc = xc_array_unmap(a, &lun, &target, &err);
	is_int(rc, 0, "unmap twice: success: %s", err.message);
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after), "mappings after the cycle equal those before");
	xc_mapping_list_free(&after);
	struct xc_mapping k8s = before.items[0];
	rc = xc_array_unmap(a, &lun, &k8s, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, IQN_K8S, NAA_1), "unmap the original mapping");
	rc = xc_array_restore_mappings(a, &lun, &before, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after) && simarray_fabric_has(&sim, IQN_K8S, NAA_1),
	   "mappings restored exactly (LUN 7 again): %s", err.message);
	xc_mapping_list_free(&after);
	xc_mapping_list_free(&before);

	/* a volume mapped through a host cluster */
	struct xc_pv pvc = {.name = "pvc-cluster"};
	rc = xc_array_resolve(a, &pvc, &lun, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &before, &err);
	ok(rc == 0 && before.n == 1 && before.items[0].kind == XC_GROUP_HOST_SET &&
		   strcmp(before.items[0].group, "esx-cluster") == 0 && before.items[0].lun_id == 11,
	   "a clustered mapping is the cluster's, listed once (forklift fails on it)");
	ok(simarray_fabric_has(&sim, IQN_C1A, lun.naa) && simarray_fabric_has(&sim, FC_C1B, lun.naa),
	   "fabric: every member sees the cluster's LUN");
	struct xc_mapping member = {.kind = XC_GROUP_HOST, .group = "c1a", .lun_id = -1};
	posts = simarray_count_requests(&sim, "ib1", "POST", "/luns");
	rc = xc_array_map(a, &lun, &member, &got, &err);
	ok(rc == 0 && got.lun_id == 11 &&
		   simarray_count_requests(&sim, "ib1", "POST", "/luns") == posts,
	   "map to a member host: visible through its cluster already, nothing sent: %s",
	   err.message);
	rc = xc_array_unmap(a, &lun, &member, &err);
	ok(rc == 0 && suite_mapping_count("ib1", "400") == 1 &&
		   simarray_fabric_has(&sim, IQN_C1A, lun.naa),
	   "unmap from the member host leaves the cluster's mapping alone: %s", err.message);
	struct xc_mapping cl = before.items[0];
	rc = xc_array_unmap(a, &lun, &cl, &err);
	ok(rc == 0 && suite_mapping_count("ib1", "400") == 0 &&
		   !simarray_fabric_has(&sim, FC_C1B, lun.naa),
	   "unmap the cluster: %s", err.message);
	rc = xc_array_restore_mappings(a, &lun, &before, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after), "the cluster mapping restored at LUN 11: %s",
	   err.message);
	xc_mapping_list_free(&after);
	xc_mapping_list_free(&before);
	struct xc_pv pv3 = {.name = "pvc-3333"};
	struct xc_mapping cl_new = {.kind = XC_GROUP_HOST_SET, .group = "esx-cluster", .lun_id = -1};
	rc = xc_array_resolve(a, &pv3, &lun, &err);
	rc = rc ? rc : xc_array_map(a, &lun, &cl_new, &got, &err);
	ok(rc == 0 && got.lun_id >= 11, "map to a cluster: a LUN from 11 (%ld)", got.lun_id);
	ok(xc_array_unmap(a, &lun, &cl_new, &err) == 0 && suite_mapping_count("ib1", "300") == 0,
	   "and unmap it");

	struct xc_mapping nohost = {.kind = XC_GROUP_HOST, .group = "no-such-host", .lun_id = -1};
	rc = xc_array_map(a, &lun, &nohost, &got, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "no-such-host"),
	   "map to an unknown host: not found: %s", err.message);
}

/* Whether the fault tests' LUN is mapped to esx-new (1), not at all (0) or partly. */
static int fault_lun_mapped(const struct xc_lun *lun)
{
	(void)lun;
	return suite_mapping_count("ib1", "200");
}

/* delete_host: the common contract (DELETE /hosts/<id>, without approved=true), plus
 * InfiniBox's clusters: a member host sees its cluster's LUNs, so it is in use, and a
 * host cluster is never deleted (ensure_host makes hosts only). */
static void test_delete_host(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-2222"};
	const char *fresh[] = {"iqn.1998-01.com.vmware:esx-del-3b9e",
			       "fc.20000025b5de0001:20000025b5de0002"};
	struct xc_host_group g = {.kind = XC_GROUP_HOST};
	struct xc_lun lun;
	struct xclone_error err = {0};
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	if (!ok(rc == 0, "delete_host: resolve pvc-2222: %s", err.message))
		return;
	suite_case_delete_host(a, &lun, "esx-del", fresh, 2);
	/* every unmap carries approved=true; a host deletion never does */
	ok(simarray_count_requests(&sim, "ib1", "DELETE", "/api/rest/") -
			   simarray_count_requests(&sim, "ib1", "DELETE", "approved=true") == 2,
	   "deleted twice with DELETE /api/rest/hosts/<id>, never approved");

	snprintf(g.name, sizeof(g.name), "c1a");
	rc = xc_array_delete_host(a, &g, &err);
	ok(rc == XC_E_CONFLICT && suite_host_listed(a, "c1a") == 1,
	   "a cluster member sees the cluster's LUN: XC_E_CONFLICT, kept: %s", err.message);
	g.kind = XC_GROUP_HOST_SET;
	snprintf(g.name, sizeof(g.name), "esx-cluster");
	rc = xc_array_delete_host(a, &g, &err);
	ok(rc == XC_E_USAGE && suite_host_listed(a, "esx-cluster") == 1,
	   "a host cluster is not deleted (xclone makes hosts only): %s", err.message);
}

static void test_faults(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-2222"};
	struct xc_lun lun;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xclone_error err = {0};
	int rc;

	simarray_fault(&sim, "{\"array\": \"ib1\", \"action\": \"expire_session\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_AUTH && strstr(err.message, "STORAGE_USERNAME"),
	   "401 with Basic auth: a clear login error (no session to renew): %s", err.message);

	simarray_fault(&sim, "{\"array\": \"ib1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 200, \"message\": \"internal inconsistency\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_REMOTE && strstr(err.message, "INTERNAL_ERROR") &&
		   strstr(err.message, "internal inconsistency"),
	   "an error in the body of a 200 answer is an error (forklift's client reads only the"
	   " body, others only the status): %s",
	   err.message);

	suite_case_429(a, &(struct suite_read_target){
				  "ib1", &pv, "\"method\": \"GET\", \"path\": \"/volumes\""});

	suite_case_503_twice(a, &(struct suite_read_target){"ib1", &pv, "\"method\": \"GET\""}, NULL);

	simarray_fault(&sim, "{\"array\": \"ib1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 502, \"times\": 100, \"message\": \"gateway down\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_REMOTE && strstr(err.message, "HTTP 502") && err.retryable,
	   "a 5xx that persists: a clear error after bounded retries: %s", err.message);

	simarray_fault(&sim, "{\"array\": \"ib1\", \"method\": \"GET\", \"action\": \"drop\","
			     " \"times\": 2}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && simarray_faults_left(&sim) == 0, "dropped connections on a read: sent again");

	int maps = simarray_count_requests(&sim, "ib1", "POST", "/luns?approved=true");
	simarray_fault(&sim, "{\"array\": \"ib1\", \"method\": \"POST\", \"path\": \"/luns\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id >= 1 && suite_mapping_count("ib1", "200") == 1,
	   "map whose answer is lost: success, mapped once: %s", err.message);
	is_int(simarray_count_requests(&sim, "ib1", "POST", "/luns?approved=true"), maps + 1,
	       "the lost map was checked, not sent again");
	simarray_fault(&sim, "{\"array\": \"ib1\", \"method\": \"DELETE\", \"action\": \"lose_response\"}");
	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && suite_mapping_count("ib1", "200") == 0,
	   "unmap whose answer is lost: success: %s", err.message);

	simarray_fault(&sim, "{\"array\": \"ib1\", \"method\": \"POST\", \"path\": \"/luns\","
			     " \"action\": \"drop\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && suite_mapping_count("ib1", "200") == 1,
	   "map whose connection drops: checked, sent again: %s", err.message);
	xc_array_unmap(a, &lun, &target, &err);
	suite_case_map_500_and_refused(
		a, &(struct suite_map_target){"ib1", "\"method\": \"POST\", \"path\": \"/luns\"",
					       &lun, &target, fault_lun_mapped});

	suite_case_redacted(a, "ib1", "GET", &pv, "bad password " PASSWORD,
			    (const char *const[]){PASSWORD}, 1);
}

static void test_timeouts(void)
{
	struct xc_pv pv = {.name = "pvc-3333"};
	struct suite_timeouts t = {
		.array = "ib1",
		.pv = &pv,
		.slow_once = "\"method\": \"GET\", \"path\": \"/volumes\"",
		.slow_always = "\"method\": \"GET\", \"path\": \"/volumes\"",
	};

	suite_case_timeouts(&t);
}

int main(void)
{
	const char *arrays[] = {"infinibox:ib1"};
	struct xc_array *a = NULL;
	struct xclone_error err = {0};

	suite_start(&infinibox, arrays, 1);
	seed();
	test_naa_and_handle();
	test_open_info();
	if (!ok(suite_open_with("ib1", NULL, 0, &a, &err) == 0, "open ib1: %s", err.message))
		return tap_done();
	test_resolve(a);
	test_ensure_host(a);
	test_map_cycle(a);
	test_delete_host(a);
	test_faults(a);
	suite_case_paging_and_reuse(a, "ib1", 5, "lists in pages of 2 are followed to the end",
				    "20 requests on one kept-alive connection");
	xc_array_close(a);
	test_timeouts();
	return tap_done();
}
