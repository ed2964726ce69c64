/*
 * The Hitachi Vantara driver end to end against the array simulator: sessions,
 * STORAGE_ID / STORAGE_PORT / HOSTGROUP_ID_LIST, resolve by HSPC handle and by
 * attributes, host groups per port (new, existing, partial, mixed names), LU paths
 * as asynchronous jobs, the SAN fabric side of the life cycle, and every fault
 * class (session expiry, 429, 5xx, HTML error pages, latency, dropped connections,
 * lost responses).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "array.h"
#include "secret.h"
#include "tap.h"
#include "vendors.h"

#include "array_suite.h"

#define USER "maintenance"
#define PASSWORD "pa ss'w\"rd$(x);\\"
#define PASSWORD_JSON "pa ss'w\\\"rd$(x);\\\\"
#define SDID "886000123456"
#define FC_NEW "fc.20000025b5aa0001:20000025b5aa0002"
#define WWPN_NEW "20000025b5aa0002"
#define IQN_NEW "iqn.1998-01.com.vmware:esx-new-1a2b3c4d"
#define FC_K8S "fc.20000025b5bb0001:20000025b5bb0002"
#define FC_E "fc.20000025b5cc0001:20000025b5cc0002"
#define FC_P "fc.20000025b5dd0001:20000025b5dd0002"
#define FC_M "fc.20000025b5ee0001:20000025b5ee0002"
#define FC_C "fc.20000025b5ff0001:20000025b5ff0002"
#define IQN_M "iqn.1998-01.com.vmware:mixed-3"
#define FC_L "fc.20000025b5110001:20000025b5110002"
#define IQN_P2 "iqn.1998-01.com.vmware:partial-2"
#define HANDLE_100 "01--fc--" SDID "--100--spc-aaaa1111"
#define FC_D "fc.20000025b5de0001:20000025b5de0002"
#define IQN_D "iqn.1998-01.com.vmware:esx-del-4f2a"

static const char *const vantara_secret[] = {"STORAGE_USERNAME=" USER,
					      "STORAGE_PASSWORD=" PASSWORD, "STORAGE_ID=123456"};
static const struct suite_vendor vantara = {
	.product = "vantara", .secret = vantara_secret, .n_secret = 3};

static void seed(void)
{
	const char *json =
		"{\"fabric_logins\": [\"" FC_NEW "\", \"" FC_C "\", \"" FC_L "\", \"" FC_D "\"],"
		" \"arrays\": {\"vsp1\": {"
		"  \"serial_number\": 123456, \"model_code\": \"886000\", \"job_ms\": 120,"
		"  \"iscsi_logins\": {\"CL1-B\": [\"" IQN_NEW "\", \"" IQN_P2 "\", \"" IQN_D "\"],"
		"                    \"CL2-B\": [\"" IQN_D "\"]},"
		"  \"users\": [{\"name\": \"" USER "\", \"password\": \"" PASSWORD_JSON "\"}],"
		"  \"volumes\": [{\"id\": 100, \"name\": \"spc-aaaa1111\", \"size\": 10737418240},"
		"               {\"id\": 200, \"name\": \"spc-bbbb2222\", \"size\": 2097152},"
		"               {\"id\": 300, \"name\": \"spc-cccc3333\", \"size\": 2097152},"
		"               {\"id\": 400, \"name\": \"spc-dddd4444\", \"size\": 2097152},"
		"               {\"id\": 500, \"name\": \"spc-eeee5555\", \"size\": 2097152}],"
		"  \"hosts\": [{\"name\": \"k8s-node1\", \"port\": \"CL1-A\", \"number\": 1,"
		"              \"initiators\": [\"" FC_K8S "\"]},"
		"             {\"name\": \"k8s-node1\", \"port\": \"CL2-A\", \"number\": 1,"
		"              \"initiators\": [\"" FC_K8S "\"]},"
		"             {\"name\": \"esx-existing\", \"port\": \"CL1-A\", \"number\": 2,"
		"              \"initiators\": [\"" FC_E "\"]},"
		"             {\"name\": \"esx-existing\", \"port\": \"CL2-A\", \"number\": 2,"
		"              \"initiators\": [\"" FC_E "\"]},"
		"             {\"name\": \"partial\", \"port\": \"CL1-A\", \"number\": 3,"
		"              \"initiators\": [\"" FC_P "\"]},"
		"             {\"name\": \"mA\", \"port\": \"CL1-A\", \"number\": 4,"
		"              \"initiators\": [\"" FC_M "\"]},"
		"             {\"name\": \"mB\", \"port\": \"CL2-A\", \"number\": 4,"
		"              \"initiators\": [\"" FC_M "\"]},"
		"             {\"name\": \"mC\", \"port\": \"CL1-B\", \"number\": 5,"
		"              \"initiators\": [\"" IQN_M "\"]}],"
		"  \"mappings\": [{\"volume\": \"spc-aaaa1111\", \"host\": \"CL1-A,1\", \"lun\": 7},"
		"               {\"volume\": \"spc-aaaa1111\", \"host\": \"CL2-A,1\", \"lun\": 7},"
		"               {\"volume\": \"spc-dddd4444\", \"host\": \"CL1-A,1\", \"lun\": 9}]},"
		"  \"vsp2\": {\"vendor\": \"vantara\", \"users\": [{\"name\": \"u\", \"password\": \"pw\"}],"
		"            \"storages_extra\": [{\"storageDeviceId\": \"900000000001\"}]}"
		"}}";

	suite_seed(json);
}

static void test_naa_and_handle(void)
{
	char naa[64];
	struct xc_vantara_handle h;
	struct xclone_error err;

	ok(xc_vantara_naa("60060E8028273D005080273D00000102", 258, naa, sizeof(naa), &err) == 0 &&
		   strcmp(naa, "naa.60060e8028273d005080273d00000102") == 0,
	   "NAA: naa. + naaId in lower case (hv-ansible's LDEV 0x0102 example)");
	ok(xc_vantara_naa("60060e8028273d005080273d00000102", 259, naa, sizeof(naa), &err) ==
		   XC_E_PROTOCOL,
	   "NAA: a naaId whose last 4 digits are another LDEV is refused: %s", err.message);
	ok(xc_vantara_naa("600507680c8006be780000000000001c", -1, naa, sizeof(naa), &err) ==
		   XC_E_PROTOCOL,
	   "NAA: another vendor's prefix is refused");
	ok(xc_vantara_naa("60060e8028273d005080273d0000010", 258, naa, sizeof(naa), &err) ==
		   XC_E_PROTOCOL && strstr(err.message, "32 hex"),
	   "NAA: 31 digits are refused");
	ok(xc_vantara_naa(NULL, 1, naa, sizeof(naa), &err) == XC_E_PROTOCOL,
	   "NAA: no naaId (old microcode) is a clear error: %s", err.message);

	ok(xc_vantara_parse_handle("01--fc--ABC123DEF456--100--vol1", &h, &err) == 0 &&
		   strcmp(h.protocol, "fc") == 0 && strcmp(h.storage_id, "ABC123DEF456") == 0 &&
		   h.ldev_id == 100 && strcmp(h.nickname, "vol1") == 0,
	   "handle: forklift's example parses");
	ok(xc_vantara_parse_handle("01--iscsi--886000123456--65279--a--b", &h, &err) == 0 &&
		   h.ldev_id == 65279 && strcmp(h.nickname, "a--b") == 0,
	   "handle: a nickname may hold \"--\"");
	ok(xc_vantara_parse_handle("02--fc--X--1--n", &h, &err) == XC_E_USAGE,
	   "handle: another version prefix is refused");
	ok(xc_vantara_parse_handle("01--fc--X--0x10--n", &h, &err) == XC_E_USAGE,
	   "handle: a hex LDEV id is refused (the handle's id is decimal)");
	ok(xc_vantara_parse_handle("01--fc--X--100", &h, &err) == XC_E_USAGE,
	   "handle: four fields are refused");
	ok(xc_vantara_parse_handle("01--fc--X--99999--n", &h, &err) == XC_E_USAGE,
	   "handle: an LDEV id past 65535 is refused");
}

static int live_sessions(const char *array)
{
	cJSON *s = simarray_array_part(&sim, array, "sessions");
	int n = cJSON_GetArraySize(s);

	cJSON_Delete(s);
	return n;
}

static void test_open_info(void)
{
	struct xc_array *a = NULL;
	struct xc_array_info info;
	struct xclone_error err = {0};
	char host[64], url[128];
	int rc;

	rc = suite_open_with("vsp1", NULL, 0, &a, &err);
	is_int(rc, 0, "open: %s", err.message);
	if (rc)
		exit(tap_done());
	rc = xc_array_info(a, &info, &err);
	is_int(rc, 0, "info");
	is_str(info.vendor, "Hitachi Vantara", "info vendor");
	is_str(info.product, "vantara", "info product");
	is_str(info.model, "VSP G900", "info model");
	is_str(info.array_id, SDID, "info array id: the storage device id");
	is_str(info.api_version, "1.9.0", "info API version");
	ok(strstr(info.version, "88-08") != NULL, "info version is the microcode: %s", info.version);
	is_int(live_sessions("vsp1"), 1, "one session while open");
	xc_array_close(a);
	is_int(live_sessions("vsp1"), 0, "close discards the session (an array holds at most 64)");

	const char *by_id[] = {"STORAGE_ID=" SDID};
	rc = suite_open_with("vsp1", by_id, 1, &a, &err);
	is_int(rc, 0, "STORAGE_ID as the storage device id: %s", err.message);
	xc_array_close(a);
	const char *zeros[] = {"STORAGE_ID=000123456"};
	rc = suite_open_with("vsp1", zeros, 1, &a, &err);
	is_int(rc, 0, "STORAGE_ID as the serial with leading zeros: %s", err.message);
	xc_array_close(a);
	const char *other[] = {"STORAGE_ID=654321"};
	rc = suite_open_with("vsp1", other, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_ID") && strstr(err.message, SDID),
	   "a STORAGE_ID of another array is refused: %s", err.message);

	/* a DNS name with STORAGE_PORT, forklift's IPv4-only regex notwithstanding */
	snprintf(host, sizeof(host), "STORAGE_HOSTNAME=localhost");
	char port[32];
	snprintf(port, sizeof(port), "STORAGE_PORT=%d", simarray_port(&sim, "vsp1"));
	const char *dns[] = {host, port};
	rc = suite_open_with("vsp1", dns, 2, &a, &err);
	is_int(rc, 0, "STORAGE_HOSTNAME a DNS name, the port in STORAGE_PORT: %s", err.message);
	xc_array_close(a);
	snprintf(url, sizeof(url), "STORAGE_HOSTNAME=https://localhost:%d/ConfigurationManager/",
		 simarray_port(&sim, "vsp1"));
	const char *full[] = {url};
	rc = suite_open_with("vsp1", full, 1, &a, &err);
	is_int(rc, 0, "STORAGE_HOSTNAME as the REST root URL: %s", err.message);
	xc_array_close(a);
	const char *clash[] = {"STORAGE_PORT=1"};
	rc = suite_open_with("vsp1", clash, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_PORT"),
	   "a port in STORAGE_HOSTNAME and another in STORAGE_PORT contradict: %s", err.message);
	const char *badport[] = {"STORAGE_HOSTNAME=localhost", "STORAGE_PORT=http"};
	rc = suite_open_with("vsp1", badport, 2, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_PORT"), "a bad STORAGE_PORT is named: %s",
	   err.message);

	const char *badlist[] = {"HOSTGROUP_ID_LIST=CL1-A:CL2-B,2"};
	rc = suite_open_with("vsp1", badlist, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "HOSTGROUP_ID_LIST"),
	   "a malformed HOSTGROUP_ID_LIST is named: %s", err.message);
	const char *badpass[] = {"STORAGE_PASSWORD=not-the-password"};
	rc = suite_open_with("vsp1", badpass, 1, &a, &err);
	ok(rc == XC_E_AUTH && strstr(err.message, "not-the-password") == NULL,
	   "a wrong password is XC_E_AUTH, not echoed: %s", err.message);
	const char *nouser[] = {"STORAGE_USERNAME="};
	rc = suite_open_with("vsp1", nouser, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_USERNAME"), "a missing user is named");
	const char *system_ca[] = {"STORAGE_CA_FILE="};
	rc = suite_open_with("vsp1", system_ca, 1, &a, &err);
	ok(rc == XC_E_CONNECT, "TLS verification is on: an unknown CA is refused: %s", err.message);

	const char *cm[] = {"STORAGE_USERNAME=u", "STORAGE_PASSWORD=pw", "STORAGE_ID="};
	rc = suite_open_with("vsp2", cm, 3, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "Configuration Manager"),
	   "a REST server managing several arrays is named as such: %s", err.message);

	/* sessions are limited: each open must give its session back */
	simarray_seed(&sim, "{\"arrays\": {\"vsp1\": {\"max_sessions\": 2}}}");
	int opened = 0;
	for (int i = 0; i < 4; i++) {
		if (suite_open_with("vsp1", NULL, 0, &a, &err) == 0)
			opened++;
		xc_array_close(a);
	}
	is_int(opened, 4, "four opens in a row on an array allowing 2 sessions");
	struct xc_array *held[2] = {NULL, NULL};
	suite_open_with("vsp1", NULL, 0, &held[0], &err);
	suite_open_with("vsp1", NULL, 0, &held[1], &err);
	rc = suite_open_with("vsp1", NULL, 0, &a, &err);
	ok(rc == XC_E_REMOTE && strstr(err.message, "maximum number of sessions") && err.retryable,
	   "a third session while two are open: retried, then a clear error: %s", err.message);
	xc_array_close(held[0]);
	xc_array_close(held[1]);
	simarray_seed(&sim, "{\"arrays\": {\"vsp1\": {\"max_sessions\": 64}}}");
}

static void test_resolve(struct xc_array *a)
{
	struct xc_lun lun;
	struct xclone_error err = {0};
	struct xc_pv pv = {.name = "pvc-1111", .volume_handle = HANDLE_100};
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	is_int(rc, 0, "resolve by HSPC volume handle: %s", err.message);
	is_str(lun.name, "spc-aaaa1111", "resolved name: the LDEV label");
	is_str(lun.id, "100", "resolved id: the LDEV number");
	is_str(lun.array_id, SDID, "resolved array id");
	ok(strncmp(lun.naa, "naa.60060e80", 12) == 0 && strcmp(lun.naa + 32, "0064") == 0,
	   "NAA lower case, ending with LDEV 0x0064: %s", lun.naa);
	ok(lun.size_bytes == 10737418240ULL, "size from blockCapacity x 512");

	struct xc_attr attrs[] = {{"ldevIDDec", "200"}, {"nickname", "spc-bbbb2222"}};
	struct xc_pv by_attr = {.name = "pvc-2222", .attrs = attrs, .n_attrs = 2};
	rc = xc_array_resolve(a, &by_attr, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, "200") == 0, "resolve by attributes ldevIDDec + nickname: %s",
	   rc ? err.message : lun.name);

	struct xc_attr wrong[] = {{"ldevIDDec", "200"}, {"nickname", "spc-someone-else"}};
	struct xc_pv reused = {.name = "pvc-2222", .attrs = wrong, .n_attrs = 2};
	rc = xc_array_resolve(a, &reused, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "spc-bbbb2222"),
	   "an LDEV whose label is not the PV's nickname is not its volume: %s", err.message);

	pv.volume_handle = "01--fc--886000999999--100--spc-aaaa1111";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "886000999999"),
	   "a handle naming another storage system: not found here: %s", err.message);
	pv.volume_handle = "01--fc--" SDID "--4242--gone";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "4242"),
	   "an undefined LDEV is XC_E_NOT_FOUND: %s", err.message);
	pv.volume_handle = "pvc-'; $(rm -rf /) \"x\" \\ ünïcode";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND, "a hostile handle that is no HSPC handle: not found: %s",
	   err.message);
}

/* The model's host groups named name: count, and the ids in ids. */
static int host_groups_named(const char *array, const char *name)
{
	cJSON *hosts = simarray_array_part(&sim, array, "hosts"), *h;
	int n = 0;

	cJSON_ArrayForEach(h, hosts)
	{
		const char *hn = cJSON_GetStringValue(cJSON_GetObjectItem(h, "hostGroupName"));
		n += hn && strcmp(hn, name) == 0;
	}
	cJSON_Delete(hosts);
	return n;
}

/* The id of the model's host group named name on port ("" when none). */
static void host_group_on(const char *name, const char *port, char *id, size_t size)
{
	cJSON *hosts = simarray_array_part(&sim, "vsp1", "hosts"), *h;

	id[0] = '\0';
	cJSON_ArrayForEach(h, hosts)
	{
		const char *hn = cJSON_GetStringValue(cJSON_GetObjectItem(h, "hostGroupName"));
		const char *hp = cJSON_GetStringValue(cJSON_GetObjectItem(h, "portId"));
		if (hn && hp && strcmp(hn, name) == 0 && strcmp(hp, port) == 0)
			snprintf(id, size, "%s", h->string);
	}
	cJSON_Delete(hosts);
}

static void test_ensure_host(struct xc_array *a)
{
	struct xc_host_group g;
	struct xclone_error err = {0};
	const char *fresh[] = {FC_NEW, IQN_NEW};
	struct xc_host_request req = {.name = "esx-new", .initiators = fresh, .n_initiators = 2};
	int rc, posts;

	rc = xc_array_ensure_host(a, &req, &g, &err);
	is_int(rc, 0, "ensure host when no host group holds the initiators: %s", err.message);
	is_str(g.name, "esx-new", "named as asked");
	ok(suite_has_initiator(&g, WWPN_NEW) && suite_has_initiator(&g, IQN_NEW) && g.n_initiators == 2,
	   "it holds the WWPN and the IQN");
	is_int(host_groups_named("vsp1", "esx-new"), 3,
	       "one host group per port each initiator is logged in to (2 FC, 1 iSCSI)");
	cJSON *hosts = simarray_array_part(&sim, "vsp1", "hosts"), *h;
	int vmware = 0;
	cJSON_ArrayForEach(h, hosts)
	{
		const char *hn = cJSON_GetStringValue(cJSON_GetObjectItem(h, "hostGroupName"));
		cJSON *opts = cJSON_GetObjectItem(h, "hostModeOptions");
		if (hn && strcmp(hn, "esx-new") == 0 &&
		    strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(h, "hostMode")), "VMWARE_EX") == 0 &&
		    cJSON_GetArraySize(opts) == 2)
			vmware++;
	}
	cJSON_Delete(hosts);
	is_int(vmware, 3, "created with host mode VMWARE_EX and options 54, 63 (XCOPY)");
	ok(simarray_count_requests(&sim, "vsp1", "GET", "/jobs/") > 0,
	   "the creations were jobs, and they were waited for");
	posts = simarray_count_requests(&sim, "vsp1", "POST", "/host-");

	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-new") == 0, "ensure again: the same host");
	is_int(simarray_count_requests(&sim, "vsp1", "POST", "/host-"), posts,
	       "ensure again changes nothing");

	const char *existing[] = {FC_E};
	struct xc_host_request req2 = {.name = "other-name", .initiators = existing, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req2, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-existing") == 0,
	   "host groups registering the WWPN on every port are reused: %s", rc ? err.message : g.name);
	is_int(host_groups_named("vsp1", "other-name"), 0, "nothing created for the reuse");

	const char *part[] = {FC_P, IQN_P2};
	struct xc_host_request req3 = {.name = "whatever", .initiators = part, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req3, &g, &err);
	ok(rc == 0 && strcmp(g.name, "partial") == 0 && g.n_initiators == 2,
	   "a host registered on one port is completed on the others, under its own name: %s",
	   rc ? err.message : g.name);
	is_int(host_groups_named("vsp1", "partial"), 3,
	       "partial now has host groups on CL1-A, CL2-A and CL1-B");

	const char *mixed[] = {IQN_M, FC_M};
	struct xc_host_request req4 = {.name = "x", .initiators = mixed, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req4, &g, &err);
	ok(rc == 0 && strcmp(g.name, "CL1-A,4:CL1-B,5:CL2-A,4") == 0,
	   "host groups of different names: the set is named by its ids: %s",
	   rc ? err.message : g.name);

	const char *clash[] = {FC_C};
	struct xc_host_request req5 = {.name = "esx-existing", .initiators = clash, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req5, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "esx-existing"),
	   "a name another host's host group has on the port: a conflict: %s", err.message);

	const char *nowhere[] = {"fc.20000025b5990001:20000025b5990002", "iqn.1998-01.com.vmware:x"};
	struct xc_host_request req6 = {.name = "esx-nowhere", .initiators = nowhere, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req6, &g, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "logged in"),
	   "initiators logged in to no port: a clear error: %s", err.message);

	const char *lost[] = {FC_L};
	struct xc_host_request req7 = {.name = "esx-lost", .initiators = lost, .n_initiators = 1};
	simarray_fault(&sim, "{\"array\": \"vsp1\", \"method\": \"POST\", \"path\": \"/host-groups$\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_ensure_host(a, &req7, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-lost") == 0 && g.n_initiators == 1,
	   "a host group creation whose answer is lost: checked, and completed: %s", err.message);
	is_int(host_groups_named("vsp1", "esx-lost"), 2, "and not created twice per port");

	suite_case_hosts_listed(
		a, &(struct suite_hosts_expect){
			   .min_n = 0,
			   .max_n = SIZE_MAX,
			   .any_kind = 1,
			   .group = "esx-new",
			   .n_initiators = 2,
			   .name = "hosts lists host groups by name with their initiators"});
}

static void test_hostgroup_list(void)
{
	struct xc_array *a = NULL;
	struct xc_host_group g;
	struct xclone_error err = {0};
	const char *fc[] = {FC_E};
	struct xc_host_request req = {.name = "ignored", .initiators = fc, .n_initiators = 1};
	int posts = simarray_count_requests(&sim, "vsp1", "POST", "/host-");
	int rc;

	const char *both[] = {"HOSTGROUP_ID_LIST= CL1-A,2 : CL2-A,2 "};
	rc = suite_open_with("vsp1", both, 1, &a, &err);
	rc = rc ? rc : xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-existing") == 0,
	   "HOSTGROUP_ID_LIST (items trimmed): those host groups are the host: %s",
	   rc ? err.message : g.name);
	xc_array_close(a);

	const char *one[] = {"HOSTGROUP_ID_LIST=CL1-A,2"};
	rc = suite_open_with("vsp1", one, 1, &a, &err);
	rc = rc ? rc : xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && strcmp(g.name, "CL1-A,2") == 0,
	   "a list of part of a name's host groups is named by its ids: %s",
	   rc ? err.message : g.name);
	xc_array_close(a);

	const char *missing[] = {"HOSTGROUP_ID_LIST=CL1-A,2:CL7-A,9"};
	rc = suite_open_with("vsp1", missing, 1, &a, &err);
	rc = rc ? rc : xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "CL7-A,9"),
	   "a listed host group that does not exist is named: %s", err.message);
	xc_array_close(a);

	const char *others[] = {"HOSTGROUP_ID_LIST=CL1-A,1"};
	rc = suite_open_with("vsp1", others, 1, &a, &err);
	rc = rc ? rc : xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "none of this host"),
	   "listed host groups that register none of the host's initiators: refused: %s",
	   err.message);
	xc_array_close(a);
	is_int(simarray_count_requests(&sim, "vsp1", "POST", "/host-"), posts,
	       "with HOSTGROUP_ID_LIST nothing is created");
}

static int path_count(const char *ldev)
{
	cJSON *maps = simarray_array_part(&sim, "vsp1", "mappings"), *m;
	int n = 0;

	cJSON_ArrayForEach(m, maps)
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(m, "volume")), ldev) == 0)
			n++;
	cJSON_Delete(maps);
	return n;
}

static void test_map_cycle(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-1111", .volume_handle = HANDLE_100};
	struct xc_lun lun;
	struct xc_mapping_list before, after;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xclone_error err = {0};
	int rc, posts;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &before, &err);
	ok(rc == 0 && before.n == 1 && strcmp(before.items[0].group, "k8s-node1") == 0 &&
		   before.items[0].lun_id == 7,
	   "mappings before: k8s-node1 (both its host groups) at LUN 7");
	ok(!simarray_fabric_has(&sim, IQN_NEW, lun.naa), "fabric: not presented to the ESXi host yet");
	ok(simarray_fabric_has(&sim, FC_K8S, lun.naa), "fabric: presented to the k8s node");

	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == 0, "map to the ESXi host: LUN %ld %s", got.lun_id, err.message);
	is_int(path_count("100"), 5, "an LU path on each of its 3 host groups");
	ok(simarray_fabric_has(&sim, IQN_NEW, lun.naa) && simarray_fabric_has(&sim, FC_NEW, lun.naa),
	   "fabric: the LUN is presented to the host's IQN and FC port (the jobs were waited for)");
	posts = simarray_count_requests(&sim, "vsp1", "POST", "/luns");

	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == 0, "map twice: success, same LUN");
	is_int(simarray_count_requests(&sim, "vsp1", "POST", "/luns"), posts, "map twice adds nothing");
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && after.n == 2 && xc_mapping_list_find(&after, XC_GROUP_HOST, "esx-new") &&
		   xc_mapping_list_find(&after, XC_GROUP_HOST, "esx-new")->lun_id == 0,
	   "mappings list esx-new once, one LUN on all its paths");
	xc_mapping_list_free(&after);

	rc = xc_array_unmap(a, &lun, &target, &err);
	is_int(rc, 0, "unmap: %s", err.message);
	ok(!simarray_fabric_has(&sim, IQN_NEW, lun.naa) && !simarray_fabric_has(&sim, FC_NEW, lun.naa),
	   "fabric: gone from the host after unmap");
	rc = xc_array_unmap(a, &lun, &target, &err);
	is_int(rc, 0, "unmap twice: success: %s", err.message);
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after), "mappings after the cycle equal those before");
	ok(simarray_fabric_has(&sim, FC_K8S, lun.naa), "fabric: the k8s node kept its LUN");
	xc_mapping_list_free(&after);

	struct xc_mapping k8s = before.items[0];
	rc = xc_array_unmap(a, &lun, &k8s, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, FC_K8S, lun.naa) && path_count("100") == 0,
	   "unmap the original mapping (both paths)");
	rc = xc_array_restore_mappings(a, &lun, &before, &err);
	is_int(rc, 0, "restore mappings: %s", err.message);
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after) && path_count("100") == 2,
	   "mappings restored exactly (both paths, LUN 7)");
	xc_mapping_list_free(&after);
	xc_mapping_list_free(&before);

	/* an original mapping on part of a name's host groups is restored on that part only */
	struct xc_pv pv4 = {.name = "pvc-4444", .volume_handle = "01--fc--" SDID "--400--spc-dddd4444"};
	rc = xc_array_resolve(a, &pv4, &lun, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &before, &err);
	ok(rc == 0 && before.n == 1 && strcmp(before.items[0].group, "CL1-A,1") == 0 &&
		   before.items[0].lun_id == 9,
	   "a path on one of k8s-node1's two host groups reads as CL1-A,1: %s",
	   before.n ? before.items[0].group : "none");
	rc = xc_array_unmap(a, &lun, &before.items[0], &err);
	rc = rc ? rc : xc_array_restore_mappings(a, &lun, &before, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after) && path_count("400") == 1,
	   "and is restored on that host group alone");
	xc_mapping_list_free(&after);
	xc_mapping_list_free(&before);

	/* one LUN number for all paths when possible, the array's choice when not */
	struct xc_pv pv2 = {.name = "pvc-2222", .volume_handle = "01--fc--" SDID "--200--spc-bbbb2222"};
	struct xc_mapping one = {.kind = XC_GROUP_HOST, .lun_id = 0};
	host_group_on("esx-new", "CL2-A", one.group, sizeof(one.group));
	rc = xc_array_resolve(a, &pv2, &lun, &err);
	rc = rc ? rc : xc_array_map(a, &lun, &one, &got, &err);
	ok(rc == 0 && got.lun_id == 0, "map another LDEV at LUN 0 on one host group (%s): %s",
	   one.group, err.message);
	struct xc_pv pv3 = {.name = "pvc-3333", .volume_handle = "01--fc--" SDID "--300--spc-cccc3333"};
	rc = xc_array_resolve(a, &pv3, &lun, &err);
	rc = rc ? rc : xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && path_count("300") == 3,
	   "map where LUN 0 is taken on one host group: the array picks another there: %s",
	   err.message);
	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && path_count("300") == 0, "and unmap removes all three paths");
	rc = xc_array_resolve(a, &pv2, &lun, &err);
	xc_array_unmap(a, &lun, &one, &err);

	struct xc_mapping nohost = {.kind = XC_GROUP_HOST, .group = "no-such-host", .lun_id = -1};
	rc = xc_array_map(a, &lun, &nohost, &got, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "no-such-host"),
	   "map to an unknown host group name fails clearly: %s", err.message);
	rc = xc_array_unmap(a, &lun, &nohost, &err);
	is_int(rc, 0, "unmap from a name no host group has: nothing to do");
}

/* Whether the fault tests' LUN is mapped to esx-new (1), not at all (0) or partly. */
static int fault_lun_mapped(const struct xc_lun *lun)
{
	int paths = path_count("500");

	(void)lun;
	return paths == 3 ? 1 : paths == 0 ? 0 : -1;
}

/* delete_host: the common contract on host groups ensure_host made on every port the
 * initiators log in to (2 FC, 2 iSCSI: all four go, LU paths checked on each first),
 * and Vantara's rule that host groups xclone did not make stay: a set named by its ids
 * mixes names, so it holds host groups that predate xclone, and none is deleted. */
static void test_delete_host(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pv-del", .volume_handle = "01--fc--" SDID "--500--spc-eeee5555"};
	const char *fresh[] = {FC_D, IQN_D};
	struct xc_host_group g = {.kind = XC_GROUP_HOST};
	struct xc_lun lun;
	struct xclone_error err = {0};
	char id[32];
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	if (!ok(rc == 0, "delete_host: resolve LDEV 500: %s", err.message))
		return;
	suite_case_delete_host(a, &lun, "esx-del", fresh, 2);
	is_int(host_groups_named("vsp1", "esx-del"), 0, "every host group esx-del made is gone");
	ok(simarray_count_requests(&sim, "vsp1", "DELETE", "/host-groups/") >= 8,
	   "deleted with DELETE /host-groups/<port>,<number>, one per port, twice");

	snprintf(g.name, sizeof(g.name), "CL1-A,4:CL1-B,5:CL2-A,4");
	rc = xc_array_delete_host(a, &g, &err);
	host_group_on("mC", "CL1-B", id, sizeof(id));
	ok(rc == XC_E_USAGE && host_groups_named("vsp1", "mA") == 1 && strcmp(id, "CL1-B,5") == 0,
	   "host groups of several names (some predate xclone): none deleted: %s", err.message);
}

static void test_faults(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-5555", .volume_handle = "01--fc--" SDID "--500--spc-eeee5555"};
	struct xc_lun lun;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xc_http_stats s0, s1;
	struct xclone_error err = {0};
	int rc;

	xc_array_http_stats(a, &s0);
	simarray_fault(&sim, "{\"array\": \"vsp1\", \"method\": \"GET\", \"path\": \"/ldevs/\","
			     " \"action\": \"expire_session\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && s1.relogins == s0.relogins + 1,
	   "session discarded on the array: a new session, and on: %s", err.message);

	/* sessions die when idle: after the array's alive time, the next call renews it */
	simarray_seed(&sim, "{\"arrays\": {\"vsp1\": {\"session_alive_max\": 1}}}");
	simarray_fault(&sim, "{\"array\": \"vsp1\", \"action\": \"expire_session\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err); /* a new session, with the short life */
	xc_array_http_stats(a, &s0);
	usleep(1600 * 1000);
	rc = xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && s1.relogins >= s0.relogins + 1,
	   "an idle session timed out by the array: renewed: %s", err.message);
	simarray_seed(&sim, "{\"arrays\": {\"vsp1\": {\"session_alive_max\": 300}}}");

	suite_case_429(a, &(struct suite_read_target){
				  "vsp1", &pv, "\"method\": \"GET\", \"path\": \"/ldevs/\""});

	xc_array_http_stats(a, &s0);
	simarray_fault(&sim, "{\"array\": \"vsp1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 503, \"times\": 2, \"message\": \"busy\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && s1.retries == s0.retries + 2, "503 (KART00003-E busy) twice on a read: retried");

	simarray_fault(&sim, "{\"array\": \"vsp1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 502, \"times\": 100, \"message\": \"gateway down\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_REMOTE && strstr(err.message, "not JSON") && strstr(err.message, "502") &&
		   err.retryable,
	   "a 5xx HTML page that persists: a clear error after bounded retries: %s", err.message);

	simarray_fault(&sim, "{\"array\": \"vsp1\", \"method\": \"GET\", \"action\": \"drop\","
			     " \"times\": 2}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && simarray_faults_left(&sim) == 0, "dropped connections on a read: sent again");

	simarray_fault(&sim, "{\"array\": \"vsp1\", \"method\": \"POST\", \"path\": \"/luns$\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id >= 0 && path_count("500") == 3,
	   "map whose answer is lost: success, one path per host group: %s", err.message);
	ok(simarray_fabric_has(&sim, FC_NEW, lun.naa), "fabric shows the mapping");

	simarray_fault(&sim, "{\"array\": \"vsp1\", \"method\": \"DELETE\", \"path\": \"/luns/\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && path_count("500") == 0 && !simarray_fabric_has(&sim, FC_NEW, lun.naa),
	   "unmap whose answer is lost: success, and gone: %s", err.message);

	simarray_fault(&sim, "{\"array\": \"vsp1\", \"method\": \"POST\", \"path\": \"/luns$\","
			     " \"action\": \"drop\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && path_count("500") == 3,
	   "map whose connection drops before the array acts: checked, sent again: %s", err.message);
	xc_array_unmap(a, &lun, &target, &err);

	suite_case_map_500_and_refused(
		a, &(struct suite_map_target){"vsp1", "\"method\": \"POST\", \"path\": \"/luns$\"",
					       &lun, &target, fault_lun_mapped});

	suite_case_redacted(a, "vsp1", "GET", &pv, "bad password " PASSWORD,
			    (const char *const[]){PASSWORD}, 1);
}

static void test_timeouts(void)
{
	struct xc_pv pv = {.name = "pvc-1111", .volume_handle = HANDLE_100};
	struct suite_timeouts t = {
		.array = "vsp1",
		.pv = &pv,
		.slow_once = "\"method\": \"GET\", \"path\": \"/ldevs/\"",
		.slow_always = "\"method\": \"GET\", \"path\": \"/ldevs/\"",
	};

	suite_case_timeouts(&t);
}

int main(void)
{
	const char *arrays[] = {"vantara:vsp1", "vantara:vsp2"};
	struct xc_array *a = NULL;
	struct xclone_error err = {0};

	suite_start(&vantara, arrays, 2);
	seed();
	test_naa_and_handle();
	test_open_info();
	if (!ok(suite_open_with("vsp1", NULL, 0, &a, &err) == 0, "open vsp1: %s", err.message))
		return tap_done();
	test_resolve(a);
	test_ensure_host(a);
	test_hostgroup_list();
	test_map_cycle(a);
	test_delete_host(a);
	test_faults(a);
	xc_array_close(a);
	test_timeouts();
	return tap_done();
}
