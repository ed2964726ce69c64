/*
 * The NetApp ONTAP driver end to end against the array simulator: SVM choice,
 * Trident LUN paths, igroups, LUN maps, the SAN fabric side of the life cycle,
 * and the fault classes.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "secret.h"
#include "tap.h"
#include "vendors.h"

#include "array_suite.h"

#define PASSWORD "ontap pa$$ 'w\"rd;\\"
#define LUN1 "/vol/trident_pvc_0f0e1111_2222/lun0"
#define LUN1_SERIAL "819TI$X101LA"
#define LUN1_NAA "naa.600a0980383139544924583130314c41"
#define ECO_ID "/svm/svm0/flexvol/trident_lun_pool_trident_ABCDEF/lun/trident_pvc_5c9d_econ"
#define ECO_LUN "/vol/trident_lun_pool_trident_ABCDEF/trident_pvc_5c9d_econ"
#define IQN_NEW "iqn.1998-01.com.vmware:esx-new-1a2b3c4d"
#define FC_NEW "fc.20000025b5bb0001:20000025b5bb0002"
#define IQN_K8S "iqn.1994-05.com.redhat:k8s-node1"

static const char *const ontap_secret[] = {"STORAGE_USERNAME=admin", "STORAGE_PASSWORD=" PASSWORD,
					  "ONTAP_SVM=svm0"};
static const struct suite_vendor ontap = {
	.product = "ontap", .secret = ontap_secret, .n_secret = 3};

static void seed(void)
{
	cJSON *spec = cJSON_Parse(
		"{\"fabric_logins\": [\"" FC_NEW "\"],"
		" \"arrays\": {\"cl1\": {"
		"  \"volumes\": ["
		"   {\"name\": \"" LUN1 "\", \"size\": 10737418240, \"svm\": \"svm0\"},"
		"   {\"name\": \"" ECO_LUN "\", \"size\": 1073741824, \"svm\": \"svm0\"},"
		"   {\"name\": \"/vol/trident_pvc_fault/lun0\", \"size\": 1048576, \"svm\": \"svm0\"},"
		"   {\"name\": \"/vol/other/lun0\", \"size\": 1048576, \"svm\": \"svm1\"}],"
		"  \"hosts\": ["
		"   {\"name\": \"k8s-node1\", \"initiators\": [\"" IQN_K8S "\"], \"os_type\": \"linux\"},"
		"   {\"name\": \"esx-existing\", \"initiators\": [\"iqn.1998-01.com.vmware:esx-existing\"]},"
		"   {\"name\": \"esx-partial\", \"initiators\": [\"iqn.1998-01.com.vmware:partial-1\"]},"
		"   {\"name\": \"foreign\", \"initiators\": [\"iqn.1998-01.com.vmware:foreign-1\"]},"
		"   {\"name\": \"linux-ig\", \"initiators\": [\"iqn.1998-01.com.vmware:linuxhost\"],"
		"    \"os_type\": \"linux\"}],"
		"  \"mappings\": [{\"volume\": \"" LUN1 "\", \"host\": \"k8s-node1\", \"lun\": 0}]}}}");
	cJSON *arr = cJSON_GetObjectItem(cJSON_GetObjectItem(spec, "arrays"), "cl1");
	cJSON *users = cJSON_AddArrayToObject(arr, "users"), *u = cJSON_CreateObject();
	char *text;

	/* the serial with '$' and the password with quotes go through cJSON */
	cJSON_AddStringToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(arr, "volumes"), 0), "serial",
				LUN1_SERIAL);
	cJSON_AddStringToObject(u, "name", "admin");
	cJSON_AddStringToObject(u, "password", PASSWORD);
	cJSON_AddItemToArray(users, u);
	text = cJSON_PrintUnformatted(spec);
	suite_seed(text);
	free(text);
	cJSON_Delete(spec);
}

static void test_naming(void)
{
	char out[512];
	struct xclone_error err;
	struct xc_attr eco[] = {{"internalID", ECO_ID}, {"internalName", "ignored"}};
	struct xc_attr san[] = {{"backendUUID", "x"}, {"internalName", "trident_pvc_abc"}};
	struct xc_attr bad[] = {{"internalID", "/svm/svm0/vol/x"}};
	struct xc_pv pv = {.name = "pvc-0f0e1111-2222"};

	ok(xc_ontap_naa(LUN1_SERIAL, out, sizeof(out), &err) == 0 && strcmp(out, LUN1_NAA) == 0,
	   "NAA: naa.600a0980 + hex of the ASCII serial (forklift's pair)");
	ok(xc_ontap_naa("HnT-OZ/GiMhK", out, sizeof(out), &err) == 0 &&
		   strcmp(out, "naa.600a0980486e542d4f5a2f47694d684b") == 0,
	   "NAA of a serial with '-' and '/'");
	ok(xc_ontap_naa("805-h{G1U6\x7fi", out, sizeof(out), &err) == 0 &&
		   strcmp(out, "naa.600a09803830352d687b473155367f69") == 0,
	   "NAA of a serial with '{' and DEL (NetApp community example)");
	ok(xc_ontap_naa("short", out, sizeof(out), &err) == XC_E_PROTOCOL, "a short serial is refused");

	ok(xc_ontap_lun_path(&pv, out, sizeof(out), &err) == 0 && strcmp(out, LUN1) == 0,
	   "no attributes: Trident's default name from the PV name: %s", out);
	pv.volume_handle = "pvc-x.y--z";
	ok(xc_ontap_lun_path(&pv, out, sizeof(out), &err) == 0 &&
		   strcmp(out, "/vol/trident_pvc_x_y_z/lun0") == 0,
	   "the handle is the PV name: '.' and '-' become '_', '__' collapses: %s", out);
	pv.attrs = san;
	pv.n_attrs = 2;
	ok(xc_ontap_lun_path(&pv, out, sizeof(out), &err) == 0 &&
		   strcmp(out, "/vol/trident_pvc_abc/lun0") == 0,
	   "ontap-san: internalName → /vol/<name>/lun0");
	pv.attrs = eco;
	ok(xc_ontap_lun_path(&pv, out, sizeof(out), &err) == 0 && strcmp(out, ECO_LUN) == 0,
	   "ontap-san-economy: internalID wins → /vol/<flexvol>/<lun>");
	pv.attrs = bad;
	pv.n_attrs = 1;
	ok(xc_ontap_lun_path(&pv, out, sizeof(out), &err) == XC_E_USAGE &&
		   strstr(err.message, "internalID"),
	   "a malformed internalID is named: %s", err.message);
}

static void test_open(void)
{
	struct xc_array *a = NULL;
	struct xc_array_info info;
	struct xclone_error err = {0};
	int rc;

	rc = suite_open_with("cl1", NULL, 0, &a, &err);
	is_int(rc, 0, "open with user, password and ONTAP_SVM: %s", err.message);
	if (rc)
		exit(tap_done());
	rc = xc_array_info(a, &info, &err);
	ok(rc == 0 && strcmp(info.vendor, "NetApp") == 0 && strcmp(info.model, "AFF-A400") == 0 &&
		   strstr(info.version, "9.14.1") && strcmp(info.product, "ontap") == 0 &&
		   info.array_id[0],
	   "info: NetApp AFF-A400, %s", info.version);
	xc_array_close(a);

	const char *nosvm[] = {"ONTAP_SVM="};
	rc = suite_open_with("cl1", nosvm, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "ONTAP_SVM") && strstr(err.message, "2 SVMs"),
	   "no ONTAP_SVM on a cluster with two SVMs: %s", err.message);
	const char *badsvm[] = {"ONTAP_SVM=svm9"};
	rc = suite_open_with("cl1", badsvm, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "svm9"), "an unknown SVM is named: %s",
	   err.message);
	const char *badpw[] = {"STORAGE_PASSWORD=wrong-pass-123"};
	rc = suite_open_with("cl1", badpw, 1, &a, &err);
	ok(rc == XC_E_AUTH && strstr(err.message, "STORAGE_PASSWORD") &&
		   !strstr(err.message, "wrong-pass-123"),
	   "a wrong password: XC_E_AUTH, password not shown: %s", err.message);
	const char *nouser[] = {"STORAGE_USERNAME="};
	rc = suite_open_with("cl1", nouser, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_USERNAME"), "missing user is named");
}

static void test_resolve(struct xc_array *a)
{
	struct xc_lun lun;
	struct xclone_error err = {0};
	struct xc_pv pv = {.name = "pvc-0f0e1111-2222", .volume_handle = "pvc-0f0e1111-2222"};
	struct xc_attr attrs[] = {{"internalName", "trident_pvc_0f0e1111_2222"},
				  {"protocol", "block"}};
	struct xc_attr eco[] = {{"internalID", ECO_ID}};
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.name, LUN1) == 0 && strcmp(lun.serial, LUN1_SERIAL) == 0 &&
		   strcmp(lun.naa, LUN1_NAA) == 0 && lun.size_bytes == 10737418240ULL &&
		   lun.id[0] && lun.array_id[0],
	   "resolve by handle: %s %s", rc ? err.message : lun.name, lun.naa);
	pv.volume_handle = NULL;
	pv.name = "some-other-name";
	pv.attrs = attrs;
	pv.n_attrs = 2;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.name, LUN1) == 0, "resolve by volume attribute internalName");
	pv.attrs = eco;
	pv.n_attrs = 1;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.name, ECO_LUN) == 0 && xc_naa_is_valid(lun.naa),
	   "resolve an ontap-san-economy LUN by internalID (serial with punctuation: %s)",
	   rc ? err.message : lun.serial);
	pv.n_attrs = 0;
	pv.name = "pvc-nope";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "/vol/trident_pvc_nope/lun0"),
	   "a missing LUN names the path looked for: %s", err.message);
	struct xc_attr hostile[] = {{"internalName", "x/../y'; $(rm -rf /) \" ü"}};
	pv.attrs = hostile;
	pv.n_attrs = 1;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND, "hostile attribute values are just not found: %s", err.message);
	struct xc_attr other_svm[] = {{"internalName", "other"}};
	pv.attrs = other_svm;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND, "a LUN of another SVM is not ours");
}

static cJSON *igroup(const char *name)
{
	cJSON *hosts = simarray_array_part(&sim, "cl1", "hosts");
	cJSON *h = cJSON_DetachItemFromObject(hosts, name);

	cJSON_Delete(hosts);
	return h;
}

static int igroup_holds(const char *name, const char *initiator)
{
	cJSON *h = igroup(name), *i;
	int found = 0;

	cJSON_ArrayForEach(i, cJSON_GetObjectItem(h, "initiators"))
		found |= strcmp(cJSON_GetStringValue(i), initiator) == 0;
	cJSON_Delete(h);
	return found;
}

static void test_ensure_host(struct xc_array *a)
{
	struct xc_host_group g;
	struct xclone_error err = {0};
	const char *fresh[] = {IQN_NEW, FC_NEW};
	struct xc_host_request req = {"esx-new", fresh, 2};
	int rc, posts;

	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-new") == 0 && g.n_initiators == 2,
	   "ensure when no igroup holds them: created: %s", rc ? err.message : g.name);
	ok(igroup_holds("esx-new", IQN_NEW) && igroup_holds("esx-new", "20:00:00:25:b5:bb:00:02"),
	   "the igroup holds the IQN and the WWPN as colon pairs");
	cJSON *h = igroup("esx-new");
	ok(h && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(h, "protocol")), "mixed") == 0 &&
		   strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(h, "os_type")), "vmware") == 0,
	   "os_type vmware, protocol mixed for iSCSI + FC");
	cJSON_Delete(h);
	posts = simarray_count_requests(&sim, "cl1", "POST", "/igroups");
	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-new") == 0 &&
		   simarray_count_requests(&sim, "cl1", "POST", "/igroups") == posts,
	   "ensure again: same igroup, nothing sent");

	const char *existing[] = {"iqn.1998-01.com.vmware:esx-existing"};
	struct xc_host_request req2 = {"esx-other", existing, 1};
	rc = xc_array_ensure_host(a, &req2, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-existing") == 0 && igroup("esx-other") == NULL,
	   "an igroup already holding them is reused");

	const char *part[] = {"iqn.1998-01.com.vmware:partial-1", "iqn.1998-01.com.vmware:partial-2"};
	struct xc_host_request req3 = {"esx-partial", part, 2};
	rc = xc_array_ensure_host(a, &req3, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-partial") == 0 && g.n_initiators == 2,
	   "our igroup holding part of them is completed: %s", rc ? err.message : g.name);

	const char *foreign[] = {"iqn.1998-01.com.vmware:foreign-1", "iqn.1998-01.com.vmware:foreign-2"};
	struct xc_host_request req4 = {"esx-f", foreign, 2};
	rc = xc_array_ensure_host(a, &req4, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-f") == 0 && g.n_initiators == 2 &&
		   !igroup_holds("foreign", foreign[1]),
	   "another igroup holding part of them is left alone; ours is created: %s",
	   rc ? err.message : g.name);

	const char *linux_ini[] = {"iqn.1998-01.com.vmware:linuxhost"};
	struct xc_host_request req5 = {"esx-l", linux_ini, 1};
	rc = xc_array_ensure_host(a, &req5, &g, &err);
	ok(rc != 0 && strstr(err.message, "5374732") && igroup("esx-l") == NULL,
	   "an initiator held by a linux igroup: ONTAP's conflict is reported: %s", err.message);

	const char *nvme[] = {"nqn.2014-08.org.nvmexpress:uuid:1234"};
	struct xc_host_request req6 = {"esx-n", nvme, 1};
	ok(xc_array_ensure_host(a, &req6, &g, &err) == XC_E_USAGE && strstr(err.message, "NVMe"),
	   "NVMe initiators are refused with the reason");

	const char *lost[] = {"iqn.1998-01.com.vmware:lost-create"};
	struct xc_host_request req7 = {"esx-lost", lost, 1};
	simarray_fault(&sim, "{\"array\": \"cl1\", \"method\": \"POST\", \"path\": \"/igroups\\\\?\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_ensure_host(a, &req7, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-lost") == 0 &&
		   simarray_count_requests(&sim, "cl1", "POST", "/igroups?") == posts + 3,
	   "create igroup whose answer is lost: checked, not sent again: %s", err.message);

	const char *lost2[] = {"iqn.1998-01.com.vmware:lost-create", "iqn.1998-01.com.vmware:lost-2"};
	struct xc_host_request req8 = {"esx-lost", lost2, 2};
	simarray_fault(&sim, "{\"array\": \"cl1\", \"method\": \"POST\", \"path\": \"/initiators\","
			     " \"action\": \"drop\"}");
	rc = xc_array_ensure_host(a, &req8, &g, &err);
	ok(rc == 0 && g.n_initiators == 2 &&
		   simarray_count_requests(&sim, "cl1", "POST", "/initiators") == 3,
	   "add initiators whose connection drops: checked, sent again: %s", err.message);

	struct xc_host_list list;
	rc = xc_array_hosts(a, &list, &err);
	ok(rc == 0 && list.n >= 8, "hosts lists the igroups (%zu)", list.n);
	xc_host_list_free(&list);
}

static void test_map_cycle(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-0f0e1111-2222"};
	struct xc_lun lun;
	struct xc_mapping_list before, after;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xclone_error err = {0};
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &before, &err);
	ok(rc == 0 && before.n == 1 && strcmp(before.items[0].group, "k8s-node1") == 0 &&
		   before.items[0].lun_id == 0,
	   "mappings before: igroup k8s-node1 at LUN 0");
	ok(simarray_fabric_has(&sim, IQN_K8S, LUN1_NAA) && !simarray_fabric_has(&sim, IQN_NEW, LUN1_NAA),
	   "fabric: presented to the node, not to the ESXi host");

	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == 0, "map to our igroup: LUN %ld %s", got.lun_id, err.message);
	ok(simarray_fabric_has(&sim, IQN_NEW, LUN1_NAA) && simarray_fabric_has(&sim, FC_NEW, LUN1_NAA),
	   "fabric: presented to the host's IQN and FC port");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == 0, "map twice: success, same LUN");
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && after.n == 2, "one map, not two");
	xc_mapping_list_free(&after);

	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, IQN_NEW, LUN1_NAA) &&
		   !simarray_fabric_has(&sim, FC_NEW, LUN1_NAA),
	   "unmap: gone from the host: %s", err.message);
	is_int(xc_array_unmap(a, &lun, &target, &err), 0, "unmap twice: success");

	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && after.n == 1 && after.items[0].lun_id == 0 &&
		   strcmp(after.items[0].group, "k8s-node1") == 0,
	   "mappings after the cycle equal those before");
	xc_mapping_list_free(&after);

	ok(xc_array_unmap(a, &lun, &before.items[0], &err) == 0 &&
		   !simarray_fabric_has(&sim, IQN_K8S, LUN1_NAA),
	   "take the original map away");
	rc = xc_array_restore_mappings(a, &lun, &before, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && after.n == 1 && after.items[0].lun_id == 0 &&
		   simarray_fabric_has(&sim, IQN_K8S, LUN1_NAA),
	   "restore puts it back exactly (LUN 0): %s", err.message);
	xc_mapping_list_free(&after);
	xc_mapping_list_free(&before);

	struct xc_mapping set = {.kind = XC_GROUP_HOST_SET, .group = "x", .lun_id = -1};
	ok(xc_array_map(a, &lun, &set, &got, &err) == XC_E_USAGE, "ONTAP has no host sets");
	struct xc_mapping nogroup = {.kind = XC_GROUP_HOST, .group = "no-such-igroup", .lun_id = -1};
	rc = xc_array_map(a, &lun, &nogroup, &got, &err);
	ok(rc != 0 && strstr(err.message, "5374878"),
	   "map to an unknown igroup: ONTAP's error: %s", err.message);
	struct xc_mapping fixed = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = 7};
	rc = xc_array_map(a, &lun, &fixed, &got, &err);
	ok(rc == 0 && got.lun_id == 7, "map with a chosen LUN number");
	xc_array_unmap(a, &lun, &fixed, &err);
}

/* delete_host: the common contract, then a DELETE whose answer is lost: sent again,
 * ONTAP answers 5374852 (no such igroup), which is the goal reached. */
static void test_delete_host(struct xc_array *a)
{
	static const char *const fresh[] = {"iqn.1998-01.com.vmware:esx-del-ontap"};
	static const char *const lost[] = {"iqn.1998-01.com.vmware:esx-del-lost"};
	struct xc_host_request req = {"esx-del-lost", lost, 1};
	struct xc_pv pv = {.name = "pvc-0f0e1111-2222"};
	struct xc_host_group g;
	struct xc_lun lun;
	struct xclone_error err = {0};
	int rc;

	if (!ok(xc_array_resolve(a, &pv, &lun, &err) == 0, "delete_host: LUN resolved: %s",
		err.message))
		return;
	suite_case_delete_host(a, &lun, "esx-del", fresh, 1);
	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0, "delete_host: igroup %s made: %s", g.name, err.message);
	simarray_fault(&sim, "{\"array\": \"cl1\", \"method\": \"DELETE\","
			     " \"path\": \"/igroups/\", \"action\": \"lose_response\"}");
	rc = xc_array_delete_host(a, &g, &err);
	ok(rc == 0 && suite_host_listed(a, "esx-del-lost") == 0,
	   "an igroup DELETE whose answer is lost: sent again, 5374852 is success: %s",
	   err.message);
	simarray_clear_faults(&sim);
}

/* Whether the fault tests' LUN is mapped to esx-new (1), not at all (0) or partly. */
static int fault_lun_mapped(const struct xc_lun *lun)
{
	return simarray_fabric_has(&sim, IQN_NEW, lun->naa);
}

static void test_faults(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-fault"};
	struct xc_lun lun;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xc_mapping_list now;
	struct xc_http_stats s0, s1;
	struct xclone_error err = {0};
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0, "resolve the fault-test LUN");

	simarray_fault(&sim, "{\"array\": \"cl1\", \"action\": \"expire_session\"}");
	rc = xc_array_mappings(a, &lun, &now, &err);
	ok(rc == XC_E_AUTH && strstr(err.message, "STORAGE_USERNAME"),
	   "401 with Basic auth: a clear login error (no session to renew): %s", err.message);
	rc = xc_array_mappings(a, &lun, &now, &err);
	ok(rc == 0, "the next call works");
	xc_mapping_list_free(&now);

	xc_array_http_stats(a, &s0);
	simarray_fault(&sim, "{\"array\": \"cl1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 429, \"retry_after\": 1}");
	simarray_fault(&sim, "{\"array\": \"cl1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 503}");
	simarray_fault(&sim, "{\"array\": \"cl1\", \"method\": \"GET\", \"action\": \"drop\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && simarray_faults_left(&sim) == 0 && s1.retries >= s0.retries + 2,
	   "429, 503 and a dropped connection on reads: retried (%u retries)",
	   s1.retries - s0.retries);

	int posts = simarray_count_requests(&sim, "cl1", "POST", "/lun-maps");
	simarray_fault(&sim, "{\"array\": \"cl1\", \"method\": \"POST\", \"path\": \"/lun-maps\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id >= 0 && simarray_fabric_has(&sim, IQN_NEW, lun.naa),
	   "map whose answer is lost: success: %s", err.message);
	is_int(simarray_count_requests(&sim, "cl1", "POST", "/lun-maps"), posts + 1,
	       "the lost map was checked, not sent again");

	simarray_fault(&sim, "{\"array\": \"cl1\", \"method\": \"DELETE\", \"action\": \"lose_response\"}");
	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, IQN_NEW, lun.naa),
	   "unmap whose answer is lost: success, and gone: %s", err.message);

	suite_case_map_500_and_refused(
		a,
		&(struct suite_map_target){"cl1", "\"method\": \"POST\", \"path\": \"/lun-maps\"",
					    &lun, &target, fault_lun_mapped});
	rc = xc_array_mappings(a, &lun, &now, &err);
	ok(rc == 0 && now.n == 0, "and nothing half done");
	xc_mapping_list_free(&now);

	simarray_fault_message(&sim, "cl1", "GET", 400, "no user admin with " PASSWORD);
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc != 0 && !strstr(err.message, PASSWORD) && strstr(err.message, "***"),
	   "the password echoed by the array is redacted: %s", err.message);

	simarray_seed(&sim, "{\"arrays\": {\"cl1\": {\"page_size\": 1}}}");
	struct xc_host_list list;
	xc_array_http_stats(a, &s0);
	rc = xc_array_hosts(a, &list, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && list.n >= 8 && s1.requests - s0.requests == list.n,
	   "igroups in pages of one: all %zu read through _links.next", list.n);
	xc_host_list_free(&list);
	simarray_seed(&sim, "{\"arrays\": {\"cl1\": {\"page_size\": null}}}");
}

static void test_timeouts(void)
{
	struct xc_pv pv = {.name = "pvc-fault"};
	struct suite_timeouts t = {
		.array = "cl1",
		.pv = &pv,
		.slow_once = "\"method\": \"GET\", \"path\": \"/luns\"",
		.slow_always = "\"method\": \"GET\", \"path\": \"/luns\"",
	};

	suite_case_timeouts(&t);
}

int main(void)
{
	const char *arrays[] = {"ontap:cl1"};
	struct xc_array *a = NULL;
	struct xclone_error err = {0};

	suite_start(&ontap, arrays, 1);
	seed();
	test_naming();
	test_open();
	if (!ok(suite_open_with("cl1", NULL, 0, &a, &err) == 0, "open cl1: %s", err.message))
		return tap_done();
	test_resolve(a);
	test_ensure_host(a);
	test_map_cycle(a);
	test_delete_host(a);
	test_faults(a);
	xc_array_close(a);
	test_timeouts();
	return tap_done();
}
