/*
 * The Dell PowerFlex driver end to end against the array simulator: token login
 * (Bearer from API 4.0, Basic before), re-login on expiry, resolve by csi-powerflex
 * volume handle, Name attribute and PV name, the ESXi host's SDC found by its GUID
 * (approved in restricted mode), map and unmap of that SDC only, the other mappings'
 * access mode and limits kept and restored exactly, MDM refusals sent as HTTP 500,
 * the SAN fabric (eui. devices presented to the GUID), and every fault class.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "array.h"
#include "initiator.h"
#include "secret.h"
#include "tap.h"
#include "vendors.h"

#include "array_suite.h"

#define PASSWORD "pa ss'w\"rd$(x);\\"
#define PASSWORD_JSON "pa ss'w\\\"rd$(x);\\\\"
#define VOL1 "c047f23800000001"
#define VOL1_NAME "k8s-0a1b2c3d4e"
#define SDC_K8S "d0f055a700000000"
#define SDC_ESX "d0f055a700000001"
#define SDC_NODE2 "d0f055a700000002"
#define SDC_OTHER "d0f055a700000003"
#define GUID_K8S "9E56672F-2F4B-4A42-BFF4-88B6846FBFDA"
#define GUID_ESX "3A7C2E5B-1F4D-4C8A-9B6E-0D2F1A3C5E7B"
#define GUID_NODE2 "CA1E5009-3DBD-471E-ADD9-AAB1DC0D19F4"
#define GUID_OTHER "0B2D4F60-1A3C-4E5F-8A9B-C0D1E2F30415"
#define K8S_SETTINGS "accessMode=ReadOnly;limitIops=500;limitBwInMbps=100"
#define LONG_PV "pvc-0123456789abcdef0123456789abcdef"

static char sys_id[32], sys2_id[32];

/* Each secret names its own array's system id (pf2's for pf2, else pf1's). */
static void powerflex_system_key(const char *array, char *kv, size_t size)
{
	snprintf(kv, size, "POWERFLEX_SYSTEM_ID=%s", strcmp(array, "pf2") == 0 ? sys2_id : sys_id);
}

static const char *const powerflex_secret[] = {"STORAGE_USERNAME=admin",
						"STORAGE_PASSWORD=" PASSWORD};
static const struct suite_vendor powerflex = {
	.product = "powerflex",
	.secret = powerflex_secret,
	.n_secret = 2,
	.array_key = powerflex_system_key};

static void read_id(const char *array, char *out, size_t size)
{
	cJSON *id = simarray_array_part(&sim, array, "id");

	snprintf(out, size, "%s", cJSON_GetStringValue(id) ? cJSON_GetStringValue(id) : "");
	cJSON_Delete(id);
}

static void seed(void)
{
	const char *json =
		"{\"arrays\": {"
		" \"pf1\": {\"users\": [{\"name\": \"admin\", \"password\": \"" PASSWORD_JSON "\"}],"
		"  \"restricted_sdc_mode\": \"Guid\","
		"  \"volumes\": [{\"id\": \"" VOL1 "\", \"name\": \"" VOL1_NAME "\", \"size\": 8589934592},"
		"   {\"id\": \"c047f23800000002\", \"name\": \"pvc-0123456789abcdef0123456789a\","
		"    \"size\": 1048576},"
		"   {\"id\": \"c047f23800000003\", \"name\": \"k8s-fault\", \"size\": 1048576}],"
		"  \"hosts\": [{\"id\": \"" SDC_K8S "\", \"initiators\": [\"" GUID_K8S "\"],"
		"     \"os_type\": \"Linux\", \"sdc_name\": \"node1\"},"
		"   {\"id\": \"" SDC_ESX "\", \"initiators\": [\"" GUID_ESX "\"], \"approved\": false,"
		"     \"sdc_name\": \"ESX-10.0.0.5\"},"
		"   {\"id\": \"" SDC_NODE2 "\", \"initiators\": [\"" GUID_NODE2 "\"], \"os_type\": \"Linux\"},"
		"   {\"id\": \"" SDC_OTHER "\", \"initiators\": [\"" GUID_OTHER "\"]}],"
		"  \"mappings\": [{\"volume\": \"" VOL1_NAME "\", \"host\": \"" SDC_K8S "\","
		"     \"access_mode\": \"ReadOnly\", \"limit_iops\": 500, \"limit_bw_mbps\": 100},"
		"   {\"volume\": \"" VOL1_NAME "\", \"host\": \"" SDC_NODE2 "\"}]},"
		" \"pf2\": {\"users\": [{\"name\": \"admin\", \"password\": \"" PASSWORD_JSON "\"}],"
		"  \"api_version\": \"3.6\", \"token_ttl\": 1,"
		"  \"volumes\": [{\"name\": \"k8s-old\", \"size\": 1048576}]}"
		"}}";

	suite_seed(json);
	read_id("pf1", sys_id, sizeof(sys_id));
	read_id("pf2", sys2_id, sizeof(sys2_id));
	ok(strlen(sys_id) == 16 && strcmp(sys_id, sys2_id) != 0, "two systems with 16-hex ids");
}

static void test_ids(void)
{
	struct xc_powerflex_handle h;
	struct xc_powerflex_settings s;
	struct xc_initiator ini;
	struct xclone_error err;
	char eui[64], text[128];

	ok(xc_powerflex_eui("14dbbf5617523654", "c047f23800000001", eui, sizeof(eui), &err) == 0 &&
		   strcmp(eui, "eui.14dbbf5617523654c047f23800000001") == 0,
	   "device id: eui. + system id + volume id (forklift's rule)");
	ok(xc_powerflex_eui("14DBBF5617523654", "C047F23800000001", eui, sizeof(eui), &err) == 0 &&
		   strcmp(eui, "eui.14dbbf5617523654c047f23800000001") == 0,
	   "device id: lower case as ESXi shows it");
	ok(xc_powerflex_eui("14dbbf561752365", "c047f23800000001", eui, sizeof(eui), &err) ==
			   XC_E_PROTOCOL &&
		   xc_powerflex_eui("14dbbf5617523654", "c047f2380000000x", eui, sizeof(eui), &err) ==
			   XC_E_PROTOCOL,
	   "device id: ids that are not 16 hex digits are refused");

	ok(xc_powerflex_parse_handle("14dbbf5617523654-c047f23800000001", &h, &err) == 0 &&
		   strcmp(h.system_id, "14dbbf5617523654") == 0 &&
		   strcmp(h.volume_id, "c047f23800000001") == 0,
	   "handle: <system id>-<volume id>");
	ok(xc_powerflex_parse_handle("C047F23800000001", &h, &err) == 0 && h.system_id[0] == '\0' &&
		   strcmp(h.volume_id, "c047f23800000001") == 0,
	   "handle: a legacy bare volume id");
	ok(xc_powerflex_parse_handle("14dbbf5617523654/4d5a6b7c-nfs", &h, &err) == XC_E_USAGE &&
		   strstr(err.message, "NFS"),
	   "handle: an NFS file system is refused as such");
	ok(xc_powerflex_parse_handle("pvc-1234", &h, &err) == XC_E_USAGE &&
		   xc_powerflex_parse_handle("", &h, &err) == XC_E_USAGE &&
		   xc_powerflex_parse_handle("x14dbbf5617523654-c047f23800000001", &h, &err) == XC_E_USAGE,
	   "handle: other shapes are refused");

	ok(xc_powerflex_settings_parse("", &s, &err) == 0 && strcmp(s.access_mode, "ReadWrite") == 0 &&
		   s.limit_iops == 0 && s.limit_bw_mbps == 0,
	   "settings: none means ReadWrite without limits");
	ok(xc_powerflex_settings_parse(K8S_SETTINGS, &s, &err) == 0 &&
		   strcmp(s.access_mode, "ReadOnly") == 0 && s.limit_iops == 500 && s.limit_bw_mbps == 100,
	   "settings: access mode and limits read");
	xc_powerflex_settings_format(&s, text, sizeof(text));
	is_str(text, K8S_SETTINGS, "settings: written back the same");
	ok(xc_powerflex_settings_parse("accessMode=Read Only", &s, &err) == XC_E_USAGE &&
		   xc_powerflex_settings_parse("limitIops=-1", &s, &err) == XC_E_USAGE &&
		   xc_powerflex_settings_parse("owner=$(x)", &s, &err) == XC_E_USAGE &&
		   xc_powerflex_settings_parse("limitIops", &s, &err) == XC_E_USAGE,
	   "settings: anything else is refused");

	ok(xc_initiator_parse("3a7c2e5b-1f4d-4c8a-9b6e-0d2f1a3c5e7b", &ini, &err) == 0 &&
		   ini.kind == XC_INITIATOR_SDC && strcmp(ini.id, GUID_ESX) == 0,
	   "initiator: an SDC GUID (any case) is kind sdc, kept upper case");
	ok(xc_initiator_parse("scini." GUID_ESX, &ini, &err) == 0 && ini.kind == XC_INITIATOR_SDC &&
		   strcmp(ini.id, GUID_ESX) == 0 && xc_initiator_matches(&ini, "3a7c2e5b-1f4d-4c8a-9b6e-0d2f1a3c5e7b"),
	   "initiator: the scini adapter's uid names the same SDC");
	ok(xc_initiator_parse("scini.not-a-guid", &ini, &err) == XC_E_USAGE,
	   "initiator: a scini uid without a GUID is refused");
}

static void test_open_info(void)
{
	struct xc_array *a = NULL;
	struct xc_array_info info;
	struct xclone_error err = {0};
	char url[128];
	int rc;

	rc = suite_open_with("pf1", NULL, 0, &a, &err);
	is_int(rc, 0, "open: %s", err.message);
	if (rc)
		exit(tap_done());
	rc = xc_array_info(a, &info, &err);
	ok(rc == 0 && strcmp(info.vendor, "Dell") == 0 && strcmp(info.product, "powerflex") == 0 &&
		   strcmp(info.array_id, sys_id) == 0 && strcmp(info.api_version, "4.5") == 0 &&
		   strstr(info.version, "R4_5") != NULL && strcmp(info.name, "pf1") == 0,
	   "info: Dell, powerflex, system id, API 4.5, version name (%s)", info.version);
	ok(simarray_count_requests(&sim, "pf1", "GET", "/api/login") == 1 &&
		   simarray_count_requests(&sim, "pf1", "GET", "/api/version") == 1,
	   "one login, one version probe");
	xc_array_close(a);
	is_int(simarray_count_requests(&sim, "pf1", "GET", "/api/logout"), 1,
	       "close logs out (the token ends now)");

	rc = suite_open_with("pf2", NULL, 0, &a, &err);
	ok(rc == 0 && xc_array_info(a, &info, &err) == 0 && strcmp(info.api_version, "3.6") == 0,
	   "a 3.6 gateway (no Bearer tokens): the token as Basic password: %s", err.message);
	xc_array_close(a);

	snprintf(url, sizeof(url), "STORAGE_HOSTNAME=https://127.0.0.1:%d/api",
		 simarray_port(&sim, "pf1"));
	const char *asurl[] = {url};
	rc = suite_open_with("pf1", asurl, 1, &a, &err);
	is_int(rc, 0, "STORAGE_HOSTNAME as goscaleio's https://<gateway>/api works: %s",
	       err.message);
	xc_array_close(a);
}

static void test_config_errors(void)
{
	struct xc_array *a = NULL;
	struct xclone_error err = {0};
	int rc;

	const char *nosys[] = {"POWERFLEX_SYSTEM_ID="};
	rc = suite_open_with("pf1", nosys, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "POWERFLEX_SYSTEM_ID"),
	   "missing POWERFLEX_SYSTEM_ID is named: %s", err.message);
	const char *byname[] = {"POWERFLEX_SYSTEM_ID=pf1"};
	rc = suite_open_with("pf1", byname, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "16-hex"), "a system name is not an id: %s",
	   err.message);
	const char *other[] = {"POWERFLEX_SYSTEM_ID=0123456789abcdef"};
	rc = suite_open_with("pf1", other, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "0123456789abcdef") && strstr(err.message, sys_id),
	   "an unknown system: the message lists those the gateway serves: %s", err.message);
	const char *nopass[] = {"STORAGE_PASSWORD="};
	rc = suite_open_with("pf1", nopass, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_PASSWORD"), "missing password: %s",
	   err.message);
	const char *badpass[] = {"STORAGE_PASSWORD=wrong " PASSWORD};
	rc = suite_open_with("pf1", badpass, 1, &a, &err);
	ok(rc == XC_E_AUTH && !err.retryable && strstr(err.message, PASSWORD) == NULL &&
		   strstr(err.message, "STORAGE_PASSWORD"),
	   "a wrong password: XC_E_AUTH naming the keys, not the value: %s", err.message);
}

static void test_resolve(struct xc_array *a)
{
	struct xc_lun lun;
	struct xclone_error err = {0};
	struct xc_http_stats s0, s1;
	char handle[64], eui[64];
	int rc;

	snprintf(handle, sizeof(handle), "%s-" VOL1, sys_id);
	snprintf(eui, sizeof(eui), "eui.%s" VOL1, sys_id);
	struct xc_pv pv = {.name = "k8s-0a1b2c3d4e", .volume_handle = handle};
	rc = xc_array_resolve(a, &pv, &lun, &err);
	is_int(rc, 0, "resolve by volume handle: %s", err.message);
	is_str(lun.name, VOL1_NAME, "name");
	is_str(lun.id, VOL1, "id: the volume id");
	is_str(lun.array_id, sys_id, "array id: the system id");
	is_str(lun.naa, eui, "device id: eui.<system><volume>, as ESXi shows it");
	ok(lun.size_bytes == 8589934592ULL, "size from sizeInKb");

	struct xc_pv other = {.name = "x", .volume_handle = "0123456789abcdef-" VOL1};
	rc = xc_array_resolve(a, &other, &lun, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "0123456789abcdef"),
	   "a handle of another system: %s", err.message);
	struct xc_pv nfs = {.name = "x", .volume_handle = "0123456789abcdef/fs-1"};
	rc = xc_array_resolve(a, &nfs, &lun, &err);
	ok(rc == XC_E_USAGE && strstr(err.message, "NFS"), "an NFS volume handle: %s", err.message);
	struct xc_pv legacy = {.name = "x", .volume_handle = VOL1};
	rc = xc_array_resolve(a, &legacy, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, VOL1) == 0, "a legacy handle (volume id only)");

	struct xc_attr attrs[] = {{"Name", VOL1_NAME}, {"StorageSystem", ""}};
	attrs[1].value = sys_id;
	struct xc_pv byattr = {.name = "pvc-x", .attrs = attrs, .n_attrs = 2};
	rc = xc_array_resolve(a, &byattr, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, VOL1) == 0, "resolve by the Name attribute (queryIdByKey): %s",
	   rc ? err.message : lun.id);
	struct xc_attr wrong_sys = {"StorageSystem", "0123456789abcdef"};
	struct xc_pv othersys = {.name = "pvc-x", .attrs = &wrong_sys, .n_attrs = 1};
	rc = xc_array_resolve(a, &othersys, &lun, &err);
	ok(rc == XC_E_CONFIG, "a StorageSystem attribute of another system: %s", err.message);

	xc_array_http_stats(a, &s0);
	struct xc_pv cut = {.name = LONG_PV, .volume_handle = "0123456789abcdef"};
	snprintf(handle, sizeof(handle), "%s-ffffffffffffffff", sys_id);
	cut.volume_handle = handle;
	rc = xc_array_resolve(a, &cut, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && strcmp(lun.id, "c047f23800000002") == 0,
	   "an unknown handle falls back to the PV name cut to 31 characters: %s",
	   rc ? err.message : lun.id);
	is_int((int)(s1.retries - s0.retries), 0,
	       "the array's \"Could not find the volume\" (HTTP 500, errorCode 79) is an answer, not"
	       " retried");

	struct xc_pv absent = {.name = "pvc-absent"};
	rc = xc_array_resolve(a, &absent, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "pvc-absent"),
	   "a missing volume: XC_E_NOT_FOUND naming the PV: %s", err.message);
	struct xc_pv hostile = {.name = "pvc-'; $(rm -rf /) \"x\" \\ ünïcode",
				.volume_handle = "a b&c=d?e#f"};
	rc = xc_array_resolve(a, &hostile, &lun, &err);
	ok(rc == XC_E_NOT_FOUND, "hostile PV name and handle are just not found: %s", err.message);
}

static void test_ensure_host(struct xc_array *a)
{
	struct xc_host_group g;
	struct xclone_error err = {0};
	int rc;

	const char *esx[] = {"iqn.1998-01.com.vmware:esx-pf", "3a7c2e5b-1f4d-4c8a-9b6e-0d2f1a3c5e7b"};
	struct xc_host_request req = {.name = "esx-pf", .initiators = esx, .n_initiators = 2};
	simarray_fault(&sim, "{\"array\": \"pf1\", \"method\": \"POST\", \"path\": \"approveSdc\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && strcmp(g.name, SDC_ESX) == 0 && g.n_initiators == 1 &&
		   strcasecmp(g.initiators[0], GUID_ESX) == 0,
	   "the ESXi host's SDC by its GUID (the IQN dropped): its id is the host: %s",
	   rc ? err.message : g.name);
	cJSON *hosts = simarray_array_part(&sim, "pf1", "hosts");
	ok(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(hosts, SDC_ESX), "approved")) &&
		   simarray_count_requests(&sim, "pf1", "POST", "approveSdc") == 1,
	   "restricted SDC mode: the unapproved SDC was approved (its lost answer checked, not"
	   " resent)");
	cJSON_Delete(hosts);
	const char *uid[] = {"scini." GUID_ESX};
	struct xc_host_request req2 = {.name = "esx-pf", .initiators = uid, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req2, &g, &err);
	ok(rc == 0 && strcmp(g.name, SDC_ESX) == 0 &&
		   simarray_count_requests(&sim, "pf1", "POST", "approveSdc") == 1,
	   "again, by the scini adapter's uid: the same SDC, nothing to approve");

	const char *iqn[] = {"iqn.1998-01.com.vmware:esx-pf"};
	struct xc_host_request req3 = {.name = "esx-pf", .initiators = iqn, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req3, &g, &err);
	ok(rc == XC_E_USAGE && strstr(err.message, "sdc_guid"),
	   "iSCSI initiators only: the message asks for the SDC GUID: %s", err.message);
	const char *unknown[] = {"11111111-2222-3333-4444-555555555555"};
	struct xc_host_request req4 = {.name = "esx-pf", .initiators = unknown, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req4, &g, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "IoctlIniGuidStr"),
	   "a GUID no SDC has: install the SDC, says the message: %s", err.message);
	const char *two[] = {GUID_ESX, GUID_OTHER};
	struct xc_host_request req5 = {.name = "esx-pf", .initiators = two, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req5, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, SDC_ESX) && strstr(err.message, SDC_OTHER),
	   "two GUIDs of two SDCs: a conflict naming both: %s", err.message);

	struct xc_host_list list;
	rc = xc_array_hosts(a, &list, &err);
	ok(rc == 0 && list.n == 4 && list.items[0].n_initiators == 1,
	   "hosts lists the SDCs with their GUIDs");
	xc_host_list_free(&list);
}

/* No delete_host: SDCs register themselves and ensure_host creates nothing, so
 * deleting is a usage error that sends nothing and leaves the SDC where it was. */
static void test_delete_host(struct xc_array *a)
{
	const char *esx[] = {GUID_ESX};
	struct xc_host_request req = {.name = "esx-pf", .initiators = esx, .n_initiators = 1};
	struct xc_host_group g;
	struct xclone_error err = {0};
	int rc, gets, posts, deletes;

	rc = xc_array_ensure_host(a, &req, &g, &err);
	if (!ok(rc == 0, "delete_host: the ESXi host's SDC: %s", err.message))
		return;
	gets = simarray_count_requests(&sim, "pf1", "GET", "/");
	posts = simarray_count_requests(&sim, "pf1", "POST", "/");
	deletes = simarray_count_requests(&sim, "pf1", "DELETE", "/");
	rc = xc_array_delete_host(a, &g, &err);
	ok(rc == XC_E_USAGE && strstr(err.message, "powerflex"),
	   "delete_host: XC_E_USAGE, xclone creates no SDCs: %s", err.message);
	ok(simarray_count_requests(&sim, "pf1", "GET", "/") == gets &&
		   simarray_count_requests(&sim, "pf1", "POST", "/") == posts &&
		   simarray_count_requests(&sim, "pf1", "DELETE", "/") == deletes,
	   "and nothing was sent to the array");
	cJSON *hosts = simarray_array_part(&sim, "pf1", "hosts");
	ok(cJSON_GetObjectItem(hosts, SDC_ESX) != NULL &&
		   cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(hosts, SDC_ESX), "approved")),
	   "the SDC is still there, still approved");
	cJSON_Delete(hosts);
}

static const struct xc_mapping *find(const struct xc_mapping_list *l, const char *sdc)
{
	return xc_mapping_list_find(l, XC_GROUP_HOST, sdc);
}

static void test_map_cycle(struct xc_array *a)
{
	char handle[64];
	struct xc_lun lun;
	struct xc_mapping_list before, after;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = SDC_ESX, .lun_id = -1}, got;
	struct xc_http_stats s0, s1;
	struct xclone_error err = {0};
	int rc;

	snprintf(handle, sizeof(handle), "%s-" VOL1, sys_id);
	struct xc_pv pv = {.name = VOL1_NAME, .volume_handle = handle};
	rc = xc_array_resolve(a, &pv, &lun, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &before, &err);
	ok(rc == 0 && before.n == 2 && find(&before, SDC_K8S) &&
		   strcmp(find(&before, SDC_K8S)->settings, K8S_SETTINGS) == 0 &&
		   find(&before, SDC_K8S)->lun_id == -1,
	   "mappings before: two CSI nodes, node1 ReadOnly with limits (%s)",
	   rc ? err.message : find(&before, SDC_K8S)->settings);
	ok(!simarray_fabric_has(&sim, GUID_ESX, lun.naa) && simarray_fabric_has(&sim, GUID_K8S, lun.naa),
	   "fabric: presented to the k8s node's SDC, not the ESXi host's yet");

	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == -1 && simarray_fabric_has(&sim, GUID_ESX, lun.naa),
	   "map to the ESXi host's SDC: the fabric presents %s to its GUID: %s", lun.naa,
	   err.message);
	int posts = simarray_count_requests(&sim, "pf1", "POST", "addMappedSdc");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && simarray_count_requests(&sim, "pf1", "POST", "addMappedSdc") == posts,
	   "map twice: success, nothing sent");
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && after.n == 3 && find(&after, SDC_ESX) &&
		   strcmp(find(&after, SDC_ESX)->settings,
			  "accessMode=ReadWrite;limitIops=0;limitBwInMbps=0") == 0,
	   "mappings lists it once, ReadWrite");
	xc_mapping_list_free(&after);

	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, GUID_ESX, lun.naa), "unmap: gone: %s", err.message);
	is_int(xc_array_unmap(a, &lun, &target, &err), 0, "unmap twice: success");
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after),
	   "the other mappings are untouched, access mode and limits included");
	xc_mapping_list_free(&after);
	ok(simarray_count_requests(&sim, "pf1", "POST", "allSdcs") == 0 &&
		   simarray_fabric_has(&sim, GUID_K8S, lun.naa) &&
		   simarray_fabric_has(&sim, GUID_NODE2, lun.naa),
	   "fabric: the CSI nodes kept theirs");

	/* restore: node1's mapping goes away; restore puts it back as it was */
	rc = xc_array_unmap(a, &lun, find(&before, SDC_K8S), &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, GUID_K8S, lun.naa), "unmap node1's mapping");
	rc = xc_array_restore_mappings(a, &lun, &before, &err);
	is_int(rc, 0, "restore mappings: %s", err.message);
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after) && simarray_fabric_has(&sim, GUID_K8S, lun.naa),
	   "restored exactly: ReadOnly, 500 IOPS, 100 MB/s (%s)",
	   rc == 0 && find(&after, SDC_K8S) ? find(&after, SDC_K8S)->settings : err.message);
	xc_mapping_list_free(&after);
	xc_mapping_list_free(&before);

	struct xc_mapping set = {.kind = XC_GROUP_HOST_SET, .group = "x", .lun_id = -1};
	ok(xc_array_map(a, &lun, &set, &got, &err) == XC_E_USAGE, "PowerFlex has no host groups");
	struct xc_mapping bad = {.kind = XC_GROUP_HOST, .group = SDC_ESX, .lun_id = -1,
				 .settings = "accessMode=$(reboot)"};
	ok(xc_array_map(a, &lun, &bad, &got, &err) == XC_E_USAGE &&
		   !simarray_fabric_has(&sim, GUID_ESX, lun.naa),
	   "unreadable settings are refused before anything is sent");
	xc_array_http_stats(a, &s0);
	struct xc_mapping nosdc = {.kind = XC_GROUP_HOST, .group = "ffffffffffffffff", .lun_id = -1};
	rc = xc_array_map(a, &lun, &nosdc, &got, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "Could not find the SDC") &&
		   s1.retries == s0.retries,
	   "map to an unknown SDC: the MDM's answer (HTTP 500) at once, not retried: %s",
	   err.message);
}

static void test_faults(struct xc_array *a)
{
	char handle[64];
	struct xc_lun lun;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = SDC_ESX, .lun_id = -1}, got;
	struct xc_mapping_list now;
	struct xc_http_stats s0, s1;
	struct xclone_error err = {0};
	int rc;

	snprintf(handle, sizeof(handle), "%s-c047f23800000003", sys_id);
	struct xc_pv pv = {.name = "k8s-fault", .volume_handle = handle};
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0, "resolve the fault-test volume: %s", err.message);

	xc_array_http_stats(a, &s0);
	simarray_fault(&sim, "{\"array\": \"pf1\", \"method\": \"GET\", \"path\": \"Volume::\","
			     " \"action\": \"expire_session\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && s1.relogins == s0.relogins + 1,
	   "token invalidated mid-run: logged in again and went on: %s", err.message);

	xc_array_http_stats(a, &s0);
	simarray_fault(&sim, "{\"array\": \"pf1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 429, \"retry_after\": 1}");
	simarray_fault(&sim, "{\"array\": \"pf1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 503}");
	simarray_fault(&sim, "{\"array\": \"pf1\", \"method\": \"GET\", \"action\": \"drop\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && simarray_faults_left(&sim) == 0 && s1.retries >= s0.retries + 2,
	   "429 with Retry-After, 503 and a dropped connection on reads: retried (%u)",
	   s1.retries - s0.retries);

	simarray_fault(&sim, "{\"array\": \"pf1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 500, \"times\": 100, \"message\": \"gateway trouble\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_REMOTE && err.retryable && strstr(err.message, "gateway trouble"),
	   "a 500 without an MDM code that persists: retried, then the message: %s", err.message);
	rc = xc_array_resolve(a, &pv, &lun, &err);

	int posts = simarray_count_requests(&sim, "pf1", "POST", "addMappedSdc");
	simarray_fault(&sim, "{\"array\": \"pf1\", \"method\": \"POST\", \"path\": \"addMappedSdc\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && simarray_fabric_has(&sim, GUID_ESX, lun.naa),
	   "map whose answer is lost: success: %s", err.message);
	is_int(simarray_count_requests(&sim, "pf1", "POST", "addMappedSdc"), posts + 1,
	       "the lost map was checked, not sent again");

	simarray_fault(&sim, "{\"array\": \"pf1\", \"method\": \"POST\", \"path\": \"removeMappedSdc\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, GUID_ESX, lun.naa),
	   "unmap whose answer is lost: success, and gone: %s", err.message);

	simarray_fault(&sim, "{\"array\": \"pf1\", \"method\": \"POST\", \"path\": \"addMappedSdc\","
			     " \"action\": \"status\", \"status\": 500}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && simarray_fabric_has(&sim, GUID_ESX, lun.naa),
	   "map answered 500 without an MDM code: checked (not applied), sent again: %s",
	   err.message);
	xc_array_unmap(a, &lun, &target, &err);

	simarray_fault(&sim, "{\"array\": \"pf1\", \"method\": \"POST\", \"path\": \"addMappedSdc\","
			     " \"action\": \"drop\", \"times\": 100}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_CONNECT, "map whose connection always drops: a clear error: %s", err.message);
	rc = xc_array_mappings(a, &lun, &now, &err);
	ok(rc == 0 && now.n == 0, "and nothing half done");
	xc_mapping_list_free(&now);

	simarray_fault_message(&sim, "pf1", "GET", 400, "bad password " PASSWORD);
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc != 0 && !strstr(err.message, PASSWORD) && strstr(err.message, "***"),
	   "the password echoed by the array is redacted: %s", err.message);

	xc_array_http_stats(a, &s0);
	for (int i = 0; i < 20; i++)
		xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(s1.connects - s0.connects <= 1, "requests reuse one kept-alive connection (%u new)",
	   s1.connects - s0.connects);
}

/* pf2 gives tokens a lifetime of one second. */
static void test_token_expiry(void)
{
	struct xc_array *a = NULL;
	struct xc_pv pv = {.name = "k8s-old"};
	struct xc_lun lun;
	struct xc_http_stats s0, s1;
	struct xclone_error err = {0};
	int rc = suite_open_with("pf2", NULL, 0, &a, &err);

	ok(rc == 0, "open pf2: %s", err.message);
	if (rc)
		return;
	xc_array_http_stats(a, &s0);
	sleep(2);
	rc = xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && s1.relogins >= s0.relogins + 1,
	   "a token past its lifetime: 401, logged in again (3.6: Basic token): %s", err.message);
	xc_array_close(a);
}

static void test_timeouts(void)
{
	struct xc_pv pv = {.name = "k8s-fault"};
	struct suite_timeouts t = {
		.array = "pf1",
		.pv = &pv,
		.slow_once = "\"method\": \"GET\", \"path\": \"Volume::\"",
		.slow_always = "\"method\": \"POST\", \"path\": \"queryIdByKey\"",
	};

	suite_case_timeouts(&t);
}

int main(void)
{
	const char *arrays[] = {"powerflex:pf1", "powerflex:pf2"};
	struct xc_array *a = NULL;
	struct xclone_error err = {0};

	suite_start(&powerflex, arrays, 2);
	seed();
	test_ids();
	test_open_info();
	test_config_errors();
	if (!ok(suite_open_with("pf1", NULL, 0, &a, &err) == 0, "open pf1: %s", err.message))
		return tap_done();
	test_resolve(a);
	test_ensure_host(a);
	test_delete_host(a);
	test_map_cycle(a);
	test_faults(a);
	xc_array_close(a);
	test_token_expiry();
	test_timeouts();
	return tap_done();
}
