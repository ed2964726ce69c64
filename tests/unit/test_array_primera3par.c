/*
 * The HPE 3PAR / Primera driver end to end against the array simulator: session
 * keys, HPE CSI volume names, NAA ids from volume WWNs (NAA 6 and the NAA 5 of
 * older 3PAR OS), hosts and host sets, VLUN templates, the SAN fabric side of the
 * life cycle, every fault class, and an array that closes every connection.
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

#define PASSWORD "3par pa ss'w\"rd$(x);\\ \xc3\xbc"
#define PV1 "pvc-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define VV1 "pvc-0f1e2d3c-4b5a-6978-8796-a5b"      /* its first 31 characters */
#define VV1_WWN "60002AC0000000000000003F000292E7" /* a public sample */
#define VV1_NAA "naa.60002ac0000000000000003f000292e7"
#define PV_IMPORTED "pvc-7a7a7a7a-0000-4000-8000-00000000abcd"
#define VV_IMPORTED "pvc-7a7a7a7a-0000-4000-8000-000"
#define VV_OLD_WWN "50002AC01ADD042F"            /* NAA 5, as older 3PAR OS gives */
#define IQN_NEW "iqn.1998-01.com.vmware:esx-new-1a2b3c4d"
#define FC_NEW "fc.20000025b5cc0001:20000025b5cc0002"
#define IQN_K8S "iqn.1994-05.com.redhat:k8s-node1"

static const char *const primera3par_secret[] = {"STORAGE_USERNAME=3paradm",
						  "STORAGE_PASSWORD=" PASSWORD};
static const struct suite_vendor primera3par = {
	.product = "primera3par", .secret = primera3par_secret, .n_secret = 2};

/* Sets the array user's password (cJSON keeps a hostile one valid JSON). */
static void set_password(const char *array, const char *password)
{
	cJSON *spec = cJSON_CreateObject(), *arr = cJSON_AddObjectToObject(
						   cJSON_AddObjectToObject(spec, "arrays"), array);
	cJSON *u = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(u, "name", "3paradm");
	cJSON_AddStringToObject(u, "password", password);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(arr, "users"), u);
	text = cJSON_PrintUnformatted(spec);
	simarray_seed(&sim, text);
	free(text);
	cJSON_Delete(spec);
}

static void seed(void)
{
	cJSON *spec = cJSON_Parse(
		"{\"fabric_logins\": [\"" FC_NEW "\"],"
		" \"arrays\": {"
		"  \"pp1\": {\"serial_number\": \"4UW0001234\","
		"   \"volumes\": [{\"name\": \"" VV1 "\", \"size\": 10737418240, \"wwn\": \"" VV1_WWN "\"},"
		"    {\"name\": \"" VV_IMPORTED "\", \"size\": 1048576},"
		"    {\"name\": \"legacy-db-vol\", \"size\": 1048576},"
		"    {\"name\": \"pvc-fault\", \"size\": 2097152}],"
		"   \"hosts\": [{\"name\": \"k8s-node1\", \"initiators\": [\"" IQN_K8S "\"], \"persona\": 2},"
		"    {\"name\": \"esx-existing\", \"initiators\": [\"iqn.1998-01.com.vmware:esx-existing\"]},"
		"    {\"name\": \"partial\", \"initiators\": [\"iqn.1998-01.com.vmware:partial-1\"]},"
		"    {\"name\": \"h1\", \"initiators\": [\"iqn.1998-01.com.vmware:split-1\"]},"
		"    {\"name\": \"h2\", \"initiators\": [\"iqn.1998-01.com.vmware:split-2\"]},"
		"    {\"name\": \"g1a\", \"initiators\": [\"iqn.1998-01.com.vmware:g1a\"]},"
		"    {\"name\": \"g1b\", \"initiators\": [\"iqn.1998-01.com.vmware:g1b\"]}],"
		"   \"host_groups\": [{\"name\": \"hs1\", \"hosts\": [\"g1a\", \"g1b\"]}],"
		"   \"mappings\": [{\"volume\": \"" VV1 "\", \"host\": \"k8s-node1\", \"lun\": 5}]},"
		"  \"tp1\": {\"wsapi\": {\"major\": 1, \"minor\": 5, \"build\": 30201200},"
		"   \"model\": \"HP_3PAR 7400\", \"system_version\": \"3.2.1.120\", \"wwn_bits\": 64,"
		"   \"expired_status\": 401,"
		"   \"volumes\": [{\"name\": \"pvc-old\", \"size\": 1048576, \"wwn\": \"" VV_OLD_WWN "\"}],"
		"   \"hosts\": [{\"name\": \"esx-old\", \"initiators\": [\"" FC_NEW "\"]}]}}}");
	char *text = cJSON_PrintUnformatted(spec);

	suite_seed(text);
	free(text);
	cJSON_Delete(spec);
	set_password("pp1", PASSWORD);
	set_password("tp1", PASSWORD);
}

static void test_names(void)
{
	char out[64], other[64];
	struct xclone_error err;

	ok(xc_primera3par_naa(VV1_WWN, out, sizeof(out), &err) == 0 && strcmp(out, VV1_NAA) == 0,
	   "NAA: naa. + the volume WWN in lower case: %s", out);
	ok(xc_primera3par_naa("60002AC000000000000000000002ACF2", out, sizeof(out), &err) == 0 &&
		   strcmp(out, "naa.60002ac000000000000000000002acf2") == 0,
	   "NAA of the Checkmk sample WWN (VV id 0)");
	ok(xc_primera3par_naa(VV_OLD_WWN, out, sizeof(out), &err) == 0 &&
		   strcmp(out, "naa.50002ac01add042f") == 0 && xc_naa_is_valid(out),
	   "a 64-bit NAA 5 WWN of older 3PAR OS gives naa.50002ac… (multipath shows 350002ac…)");
	ok(xc_primera3par_naa("60002AC01ADD042F", out, sizeof(out), &err) == XC_E_PROTOCOL,
	   "16 digits that are not NAA 5 are refused");
	ok(xc_primera3par_naa("60002AC0000000000000003F000292E", out, sizeof(out), &err) ==
		   XC_E_PROTOCOL,
	   "31 digits are refused");
	ok(xc_primera3par_naa("60002AC0000000000000003F000292EG", out, sizeof(out), &err) ==
		   XC_E_PROTOCOL,
	   "a non-hex digit is refused");
	ok(!xc_naa_is_valid("naa.60002ac01add042f") && !xc_naa_is_valid("naa.50002AC01ADD042F"),
	   "a 16-digit NAA id must be type 5 and lower case");

	ok(xc_primera3par_volume_name(PV1, out, sizeof(out), &err) == 0 && strcmp(out, VV1) == 0,
	   "HPE CSI volume name: the first 31 characters of the PV: %s", out);
	ok(xc_primera3par_volume_name("pvc-short", out, sizeof(out), &err) == 0 &&
		   strcmp(out, "pvc-short") == 0,
	   "a short name is kept");
	ok(xc_primera3par_volume_name("", out, sizeof(out), &err) == XC_E_USAGE,
	   "an empty name is refused");

	xc_primera3par_object_name("esx01", 31, out, sizeof(out));
	ok(strcmp(out, "esx01") == 0, "a short host name is kept");
	xc_primera3par_object_name("esx-0123456789-abcdefghij-klmnopqrstu", 31, out, sizeof(out));
	xc_primera3par_object_name("esx-0123456789-abcdefghij-klmnopqrstv", 31, other, sizeof(other));
	ok(strlen(out) == 31 && strncmp(out, "esx-0123456789-abcdefg-", 23) == 0 &&
		   strcmp(out, other) != 0,
	   "a long host name becomes 31 characters, distinct per name: %s", out);
	xc_primera3par_object_name("esx-0123456789-abcdefghij-klmnopqrstv", 31, out, sizeof(out));
	ok(strcmp(out, other) == 0, "and the same each time");
}

static int sessions_left(const char *array)
{
	cJSON *s = simarray_array_part(&sim, array, "sessions");
	int n = cJSON_GetArraySize(s);

	cJSON_Delete(s);
	return n;
}

static void test_open(void)
{
	struct xc_array *a = NULL;
	struct xc_array_info info;
	struct xclone_error err = {0};
	int rc;

	rc = suite_open_with("pp1", NULL, 0, &a, &err);
	is_int(rc, 0, "open with STORAGE_USERNAME and STORAGE_PASSWORD: %s", err.message);
	if (rc)
		exit(tap_done());
	rc = xc_array_info(a, &info, &err);
	ok(rc == 0 && strcmp(info.vendor, "HPE") == 0 && strcmp(info.product, "primera3par") == 0 &&
		   strcmp(info.model, "HPE Primera 630") == 0 && strcmp(info.version, "4.5.21") == 0 &&
		   strcmp(info.array_id, "4UW0001234") == 0 &&
		   strcmp(info.api_version, "WSAPI 1.10 (build 40500021)") == 0,
	   "info: %s %s %s, array id = serial number, %s", info.vendor, info.model, info.version,
	   info.api_version);
	is_int(sessions_left("pp1"), 1, "one session while open");
	xc_array_close(a);
	is_int(sessions_left("pp1"), 0, "the session key is given back at close");
	is_int(simarray_count_requests(&sim, "pp1", "DELETE", "/api/v1/credentials/"), 1,
	       "with DELETE /api/v1/credentials/<key>");

	const char *nouser[] = {"STORAGE_USERNAME="};
	rc = suite_open_with("pp1", nouser, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_USERNAME"), "a missing user is named: %s",
	   err.message);
	const char *nopass[] = {"STORAGE_PASSWORD="};
	rc = suite_open_with("pp1", nopass, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_PASSWORD"),
	   "a missing password is named: %s", err.message);
	const char *badpass[] = {"STORAGE_PASSWORD=not-the-3par-password"};
	rc = suite_open_with("pp1", badpass, 1, &a, &err);
	ok(rc == XC_E_AUTH && !err.retryable && strstr(err.message, "STORAGE_PASSWORD") &&
		   strstr(err.message, "code 5") && !strstr(err.message, "not-the-3par-password"),
	   "a wrong password: XC_E_AUTH with the WSAPI's code, password not shown: %s", err.message);
	const char *url[] = {"STORAGE_HOSTNAME="};
	rc = suite_open_with("pp1", url, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_HOSTNAME"), "no STORAGE_HOSTNAME: %s",
	   err.message);

	rc = suite_open_with("tp1", NULL, 0, &a, &err);
	ok(rc == 0 && xc_array_info(a, &info, &err) == 0 &&
		   strcmp(info.api_version, "WSAPI 1.5 (build 30201200)") == 0 &&
		   strcmp(info.model, "HP_3PAR 7400") == 0,
	   "a 3PAR OS 3.2.1 array opens too: %s", rc ? err.message : info.api_version);
	xc_array_close(a);
}

static void test_resolve(struct xc_array *a)
{
	struct xc_lun lun;
	struct xclone_error err = {0};
	struct xc_attr import[] = {{"importVolumeName", "legacy-db-vol"}, {"accessProtocol", "fc"}};
	struct xc_pv pv = {.name = PV1, .volume_handle = PV1};
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.name, VV1) == 0 && strcmp(lun.serial, VV1_WWN) == 0 &&
		   strcmp(lun.naa, VV1_NAA) == 0 && lun.size_bytes == 10737418240ULL &&
		   lun.id[0] && strcmp(lun.array_id, "4UW0001234") == 0,
	   "resolve by volume handle: %s %s", rc ? err.message : lun.name, lun.naa);
	pv.volume_handle = NULL;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.name, VV1) == 0, "resolve by PV name alone");
	pv.volume_handle = "pvc-ffffffff-ffff-4fff-8fff-ffffffffffff";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.name, VV1) == 0, "an unknown handle falls back to the PV name");

	/* importVolumeName renames the array volume after the PV: the attribute names a
	 * volume that is not this PV's, even when one of that name exists again */
	pv.name = PV_IMPORTED;
	pv.volume_handle = PV_IMPORTED;
	pv.attrs = import;
	pv.n_attrs = 2;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.name, VV_IMPORTED) == 0,
	   "an imported volume is found by its new name, not by importVolumeName: %s",
	   rc ? err.message : lun.name);
	pv.attrs = NULL;
	pv.n_attrs = 0;

	pv.name = "pvc-absent";
	pv.volume_handle = NULL;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "pvc-absent") && strstr(err.message, "31"),
	   "a missing volume: XC_E_NOT_FOUND naming what was looked for: %s", err.message);
	pv.name = "pvc-'; $(rm -rf /) \"x\" \\ \xc3\xbc\x6e\xc3\xaf\x63ode and more";
	pv.volume_handle = "a b&c=d?e#f/../g,1,h";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND, "hostile PV name and handle are just not found: %s", err.message);
}

static cJSON *host_model(const char *array, const char *name)
{
	cJSON *hosts = simarray_array_part(&sim, array, "hosts");
	cJSON *h = cJSON_DetachItemFromObject(hosts, name);

	cJSON_Delete(hosts);
	return h;
}

static void test_ensure_host(struct xc_array *a)
{
	struct xc_host_group g;
	struct xclone_error err = {0};
	const char *fresh[] = {IQN_NEW, FC_NEW};
	struct xc_host_request req = {.name = "esx-new", .initiators = fresh, .n_initiators = 2};
	int rc, posts, puts;

	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-new") == 0 && g.n_initiators == 2 &&
		   suite_has_initiator(&g, IQN_NEW) && suite_has_initiator(&g, "20000025B5CC0002"),
	   "ensure when no host holds them: created with the IQN and the WWPN: %s",
	   rc ? err.message : g.name);
	cJSON *h = host_model("pp1", "esx-new");
	ok(h && cJSON_GetNumberValue(cJSON_GetObjectItem(h, "persona")) == 8,
	   "created with persona 8 (VMware in the WSAPI's numbering)");
	cJSON_Delete(h);
	posts = simarray_count_requests(&sim, "pp1", "POST", "/api/v1/hosts");
	puts = simarray_count_requests(&sim, "pp1", "PUT", "/api/v1/hosts/esx-new");
	ok(posts == 1 && puts == 1, "one POST with the FC port, one PUT adding the iSCSI name");

	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-new") == 0 &&
		   simarray_count_requests(&sim, "pp1", "POST", "/api/v1/hosts") == posts &&
		   simarray_count_requests(&sim, "pp1", "PUT", "/api/v1/hosts/") == puts,
	   "ensure again: the same host, nothing sent");

	const char *existing[] = {"IQN.1998-01.com.vmware:esx-existing"};
	struct xc_host_request req2 = {.name = "other-name", .initiators = existing, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req2, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-existing") == 0 && host_model("pp1", "other-name") == NULL,
	   "a host holding the initiator is reused whatever its name (IQN case ignored)");

	const char *part[] = {"iqn.1998-01.com.vmware:partial-1", "iqn.1998-01.com.vmware:partial-2"};
	struct xc_host_request req3 = {.name = "whatever", .initiators = part, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req3, &g, &err);
	ok(rc == 0 && strcmp(g.name, "partial") == 0 && g.n_initiators == 2 &&
		   suite_has_initiator(&g, part[1]),
	   "a host holding part of them is completed: %s", rc ? err.message : g.name);

	const char *split[] = {"iqn.1998-01.com.vmware:split-1", "iqn.1998-01.com.vmware:split-2"};
	struct xc_host_request req4 = {.name = "x", .initiators = split, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req4, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "h1") && strstr(err.message, "h2"),
	   "initiators split across two hosts: a conflict naming both: %s", err.message);

	const char *taken[] = {"iqn.1998-01.com.vmware:brand-new"};
	struct xc_host_request req5 = {.name = "esx-existing", .initiators = taken, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req5, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "esx-existing"),
	   "a name taken by an unrelated host is a conflict: %s", err.message);

	const char *nvme[] = {"nqn.2014-08.org.nvmexpress:uuid:1234"};
	struct xc_host_request req6 = {.name = "esx-n", .initiators = nvme, .n_initiators = 1};
	ok(xc_array_ensure_host(a, &req6, &g, &err) == XC_E_USAGE && strstr(err.message, "NVMe"),
	   "NVMe initiators are refused with the reason: %s", err.message);

	const char *longname[] = {"iqn.1998-01.com.vmware:long-name"};
	struct xc_host_request req7 = {.name = "esx-with-a-rather-long-name-0123456789",
				       .initiators = longname, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req7, &g, &err);
	ok(rc == 0 && strlen(g.name) == 31 && strncmp(g.name, "esx-with-a-rather-long-", 23) == 0,
	   "a host name longer than the array's 31 characters is shortened: %s",
	   rc ? err.message : g.name);

	const char *lost[] = {"iqn.1998-01.com.vmware:lost-create"};
	struct xc_host_request req8 = {.name = "esx-lost", .initiators = lost, .n_initiators = 1};
	posts = simarray_count_requests(&sim, "pp1", "POST", "/api/v1/hosts");
	simarray_fault(&sim, "{\"array\": \"pp1\", \"method\": \"POST\", \"path\": \"/hosts$\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_ensure_host(a, &req8, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-lost") == 0 &&
		   simarray_count_requests(&sim, "pp1", "POST", "/api/v1/hosts") == posts + 1,
	   "create host whose answer is lost: checked, not sent again: %s", err.message);

	const char *lost2[] = {"iqn.1998-01.com.vmware:lost-create", "iqn.1998-01.com.vmware:lost-2"};
	struct xc_host_request req9 = {.name = "esx-lost", .initiators = lost2, .n_initiators = 2};
	simarray_fault(&sim, "{\"array\": \"pp1\", \"method\": \"PUT\", \"action\": \"drop\"}");
	rc = xc_array_ensure_host(a, &req9, &g, &err);
	ok(rc == 0 && g.n_initiators == 2 &&
		   simarray_count_requests(&sim, "pp1", "PUT", "/api/v1/hosts/esx-lost") == 2,
	   "add a path whose connection drops: checked, sent again once: %s", err.message);
	simarray_fault(&sim, "{\"array\": \"pp1\", \"method\": \"PUT\", \"action\": \"lose_response\"}");
	const char *lost3[] = {"iqn.1998-01.com.vmware:lost-create", "iqn.1998-01.com.vmware:lost-3"};
	struct xc_host_request req10 = {.name = "esx-lost", .initiators = lost3, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req10, &g, &err);
	ok(rc == 0 && suite_has_initiator(&g, lost3[1]) &&
		   simarray_count_requests(&sim, "pp1", "PUT", "/api/v1/hosts/esx-lost") == 3,
	   "add a path whose answer is lost: checked, not sent again: %s", err.message);

	suite_case_hosts_listed(
		a,
		&(struct suite_hosts_expect){
			.min_n = 11,
			.max_n = 11,
			.kind = XC_GROUP_HOST_SET,
			.group = "hs1",
			.n_initiators = 2,
			.name = "hosts lists the 10 hosts and host set hs1 with its members' initiators"});
}

/* VLUN templates of a volume in the model (exports, whatever their LUN). */
static int exports_of(const char *array, const char *volume_name)
{
	cJSON *vols = simarray_array_part(&sim, array, "volumes"), *maps, *v, *m;
	const char *id = NULL;
	int n = 0;

	cJSON_ArrayForEach(v, vols)
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(v, "name")), volume_name) == 0)
			id = v->string;
	maps = simarray_array_part(&sim, array, "mappings");
	cJSON_ArrayForEach(m, maps)
		if (id != NULL && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(m, "volume")), id) == 0)
			n++;
	cJSON_Delete(maps);
	cJSON_Delete(vols);
	return n;
}

static void test_map_cycle(struct xc_array *a)
{
	struct xc_pv pv = {.name = PV1, .volume_handle = PV1};
	struct xc_lun lun;
	struct xc_mapping_list before, after;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xclone_error err = {0};
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &before, &err);
	ok(rc == 0 && before.n == 1 && strcmp(before.items[0].group, "k8s-node1") == 0 &&
		   before.items[0].lun_id == 5,
	   "mappings before: k8s-node1 at LUN 5 (its active VLUN is not another mapping)");
	ok(simarray_fabric_has(&sim, IQN_K8S, VV1_NAA) && !simarray_fabric_has(&sim, IQN_NEW, VV1_NAA),
	   "fabric: presented to the node, not to the ESXi host");

	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == 0, "map to the ESXi host: the array picks LUN %ld %s", got.lun_id,
	   err.message);
	ok(simarray_fabric_has(&sim, IQN_NEW, VV1_NAA) && simarray_fabric_has(&sim, FC_NEW, VV1_NAA),
	   "fabric: the LUN is presented to the host's IQN and FC port (fc.WWNN:WWPN)");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == 0 && exports_of("pp1", VV1) == 2,
	   "map twice: success, same LUN, one export (the array would make a second one)");

	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, IQN_NEW, VV1_NAA) &&
		   !simarray_fabric_has(&sim, FC_NEW, VV1_NAA),
	   "unmap: gone from the host: %s", err.message);
	is_int(xc_array_unmap(a, &lun, &target, &err), 0, "unmap twice: success");
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after), "mappings after the cycle equal those before");
	ok(simarray_fabric_has(&sim, IQN_K8S, VV1_NAA), "fabric: the node kept its LUN");
	xc_mapping_list_free(&after);

	ok(xc_array_unmap(a, &lun, &before.items[0], &err) == 0 &&
		   !simarray_fabric_has(&sim, IQN_K8S, VV1_NAA),
	   "take the original export away");
	rc = xc_array_restore_mappings(a, &lun, &before, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after) && simarray_fabric_has(&sim, IQN_K8S, VV1_NAA),
	   "restore puts it back exactly (LUN 5): %s", err.message);
	xc_mapping_list_free(&after);
	xc_mapping_list_free(&before);

	struct xc_mapping set = {.kind = XC_GROUP_HOST_SET, .group = "hs1", .lun_id = -1};
	rc = xc_array_map(a, &lun, &set, &got, &err);
	ok(rc == 0 && got.lun_id >= 0 &&
		   simarray_fabric_has(&sim, "iqn.1998-01.com.vmware:g1a", VV1_NAA) &&
		   simarray_fabric_has(&sim, "iqn.1998-01.com.vmware:g1b", VV1_NAA),
	   "map to host set hs1 (set:hs1): every member sees it: %s", err.message);
	ok(simarray_count_requests(&sim, "pp1", "POST", "/api/v1/vluns") >= 2, "through POST /vluns");
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && after.n == 2 && xc_mapping_list_find(&after, XC_GROUP_HOST_SET, "hs1") &&
		   !xc_mapping_list_find(&after, XC_GROUP_HOST, "g1a"),
	   "listed once, as the host set (its members' active VLUNs are not mappings)");
	xc_mapping_list_free(&after);
	ok(xc_array_unmap(a, &lun, &set, &err) == 0 &&
		   !simarray_fabric_has(&sim, "iqn.1998-01.com.vmware:g1a", VV1_NAA),
	   "unmap the host set: %s", err.message);

	struct xc_mapping fixed = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = 9};
	rc = xc_array_map(a, &lun, &fixed, &got, &err);
	ok(rc == 0 && got.lun_id == 9, "map with a chosen LUN number");
	xc_array_unmap(a, &lun, &fixed, &err);
	struct xc_mapping clash = {.kind = XC_GROUP_HOST, .group = "k8s-node1", .lun_id = 5};
	struct xc_pv other = {.name = "pvc-fault"};
	struct xc_lun lun2;
	rc = xc_array_resolve(a, &other, &lun2, &err);
	rc = rc ? rc : xc_array_map(a, &lun2, &clash, &got, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "code 18") && exports_of("pp1", "pvc-fault") == 0,
	   "a LUN the host already uses: the array's conflict, nothing made: %s", err.message);

	struct xc_mapping nohost = {.kind = XC_GROUP_HOST, .group = "no-such-host", .lun_id = -1};
	rc = xc_array_map(a, &lun, &nohost, &got, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "host does not exist") &&
		   exports_of("pp1", VV1) == 1,
	   "map to an unknown host: the array's message, nothing left behind: %s", err.message);
}

/* A matched set (host through one port, HPE CSI's default) is unmapped with its port. */
/* delete_host: the common contract, then the array's own refusal: a host in a host
 * set (HOST_IN_SET, 409) belongs to someone's grouping and is kept. */
static void test_delete_host(struct xc_array *a)
{
	static const char *const fresh[] = {"iqn.1998-01.com.vmware:esx-del-p3"};
	struct xc_pv pv = {.name = PV1, .volume_handle = PV1};
	struct xc_host_group member = {.kind = XC_GROUP_HOST, .name = "g1a"};
	struct xc_lun lun;
	struct xclone_error err = {0};
	int rc;

	if (!ok(xc_array_resolve(a, &pv, &lun, &err) == 0, "delete_host: LUN resolved: %s",
		err.message))
		return;
	suite_case_delete_host(a, &lun, "esx-del", fresh, 1);
	rc = xc_array_delete_host(a, &member, &err);
	ok(rc == XC_E_CONFLICT && suite_host_listed(a, "g1a") == 1 && strstr(err.message, "409"),
	   "a host in host set hs1: the array's 409 HOST_IN_SET is XC_E_CONFLICT, host kept: %s",
	   err.message);
}

static void test_matched_set(struct xc_array *a)
{
	struct xc_pv pv = {.name = VV_IMPORTED};
	struct xc_lun lun;
	struct xc_mapping_list now;
	struct xc_mapping esx = {.kind = XC_GROUP_HOST, .group = "esx-existing", .lun_id = -1};
	struct xclone_error err = {0};
	int rc;

	simarray_seed(&sim, "{\"arrays\": {\"pp1\": {\"mappings\": [{\"volume\": \"" VV_IMPORTED "\","
			    " \"host\": \"esx-existing\", \"lun\": 3,"
			    " \"port\": {\"node\": 1, \"slot\": 2, \"cardPort\": 4}}]}}}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &now, &err);
	ok(rc == 0 && now.n == 1 && strcmp(now.items[0].group, "esx-existing") == 0 &&
		   now.items[0].lun_id == 3,
	   "a matched-set export is the host's mapping");
	xc_mapping_list_free(&now);
	rc = xc_array_unmap(a, &lun, &esx, &err);
	ok(rc == 0 && exports_of("pp1", VV_IMPORTED) == 0 &&
		   simarray_count_requests(&sim, "pp1", "DELETE", ",3,esx-existing,1%3A2%3A4") == 1,
	   "unmap names it with its port <vol>,3,esx-existing,1:2:4: %s", err.message);
}

/* A firmware that refuses VLUN queries despite its build: asked once, then every
 * VLUN is listed. */
static void test_query_refused(void)
{
	struct xc_array *b = NULL;
	struct xc_pv pv = {.name = PV1};
	struct xc_lun lun;
	struct xc_mapping_list now;
	struct xclone_error err = {0};
	int rc, queries;

	simarray_seed(&sim, "{\"arrays\": {\"pp1\": {\"vlun_query\": false}}}");
	queries = simarray_count_requests(&sim, "pp1", "GET", "/vluns?query=");
	rc = suite_open_with("pp1", NULL, 0, &b, &err);
	rc = rc ? rc : xc_array_resolve(b, &pv, &lun, &err);
	rc = rc ? rc : xc_array_mappings(b, &lun, &now, &err);
	ok(rc == 0 && now.n == 1 && strcmp(now.items[0].group, "k8s-node1") == 0,
	   "VLUN query refused (400): every VLUN listed and filtered: %s", err.message);
	xc_mapping_list_free(&now);
	rc = xc_array_mappings(b, &lun, &now, &err);
	ok(rc == 0 && now.n == 1 &&
		   simarray_count_requests(&sim, "pp1", "GET", "/vluns?query=") == queries + 1,
	   "and not asked again in that session");
	xc_mapping_list_free(&now);
	xc_array_close(b);
	simarray_seed(&sim, "{\"arrays\": {\"pp1\": {\"vlun_query\": true}}}");
}

/* Whether the fault tests' LUN is mapped to esx-new (1), not at all (0) or partly. */
static int fault_lun_mapped(const struct xc_lun *lun)
{
	(void)lun;
	return exports_of("pp1", "pvc-fault");
}

static void test_faults(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-fault"};
	struct xc_lun lun;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xc_mapping_list now;
	struct xc_http_stats s0, s1;
	struct xclone_error err = {0};
	int rc, posts;

	xc_array_http_stats(a, &s0);
	simarray_fault(&sim, "{\"array\": \"pp1\", \"method\": \"GET\", \"path\": \"/volumes/\","
			     " \"action\": \"expire_session\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && s1.relogins == s0.relogins + 1,
	   "session key expired mid-run (403 code 6): logged in again and went on: %s", err.message);
	is_int(sessions_left("pp1"), 1, "one session on the array, not two");

	/* the password changed on the array while we ran: the re-login is refused */
	set_password("pp1", "changed");
	simarray_fault(&sim, "{\"array\": \"pp1\", \"action\": \"expire_session\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_AUTH && strstr(err.message, "STORAGE_PASSWORD"),
	   "an expired session whose re-login is refused: a clear login error: %s", err.message);
	set_password("pp1", PASSWORD);
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0, "with the password back the next call logs in and works: %s", err.message);

	suite_case_429(a, &(struct suite_read_target){
				  "pp1", &pv, "\"method\": \"GET\", \"path\": \"/volumes/\""});

	suite_case_503_twice(a, &(struct suite_read_target){"pp1", &pv, "\"method\": \"GET\""}, NULL);
	simarray_fault(&sim, "{\"array\": \"pp1\", \"method\": \"GET\", \"action\": \"drop\","
			     " \"times\": 2}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && simarray_faults_left(&sim) == 0, "dropped connections on a read: sent again: %s",
	   rc ? err.message : "ok");

	simarray_fault(&sim, "{\"array\": \"pp1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 502, \"times\": 100, \"message\": \"gateway down\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_REMOTE && strstr(err.message, "HTTP 502") && strstr(err.message, "gateway down") &&
		   err.retryable,
	   "a 5xx that persists: a clear error after the bounded retries: %s", err.message);

	rc = xc_array_resolve(a, &pv, &lun, &err);
	posts = simarray_count_requests(&sim, "pp1", "POST", "/api/v1/vluns");
	simarray_fault(&sim, "{\"array\": \"pp1\", \"method\": \"POST\", \"path\": \"/vluns\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id >= 0 && simarray_fabric_has(&sim, IQN_NEW, lun.naa),
	   "map whose answer is lost: success, LUN %ld: %s", got.lun_id, err.message);
	ok(simarray_count_requests(&sim, "pp1", "POST", "/api/v1/vluns") == posts + 1 &&
		   exports_of("pp1", "pvc-fault") == 1,
	   "checked, not sent again: one export, not two at two LUNs");

	simarray_fault(&sim, "{\"array\": \"pp1\", \"method\": \"DELETE\", \"path\": \"/vluns/\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && exports_of("pp1", "pvc-fault") == 0 && !simarray_fabric_has(&sim, IQN_NEW, lun.naa),
	   "unmap whose answer is lost: resent, 404 NON_EXISTENT_VLUN is success: %s", err.message);

	posts = simarray_count_requests(&sim, "pp1", "POST", "/api/v1/vluns");
	simarray_fault(&sim, "{\"array\": \"pp1\", \"method\": \"POST\", \"path\": \"/vluns\","
			     " \"action\": \"drop\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && exports_of("pp1", "pvc-fault") == 1 &&
		   simarray_count_requests(&sim, "pp1", "POST", "/api/v1/vluns") == posts + 2,
	   "map whose connection drops before the array acts: checked, sent again once: %s",
	   err.message);
	xc_array_unmap(a, &lun, &target, &err);

	suite_case_map_500_and_refused(
		a, &(struct suite_map_target){"pp1", "\"method\": \"POST\", \"path\": \"/vluns\"",
					       &lun, &target, fault_lun_mapped});
	rc = xc_array_mappings(a, &lun, &now, &err);
	ok(rc == 0 && now.n == 0 && exports_of("pp1", "pvc-fault") == 0, "and nothing half done");
	xc_mapping_list_free(&now);

	simarray_fault(&sim, "{\"array\": \"pp1\", \"method\": \"DELETE\", \"path\": \"/vluns/\","
			     " \"action\": \"status\", \"status\": 503, \"times\": 100}");
	xc_array_map(a, &lun, &target, &got, &err);
	rc = xc_array_unmap(a, &lun, &target, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_REMOTE && strstr(err.message, "HTTP 503") && exports_of("pp1", "pvc-fault") == 1,
	   "unmap refused every time: a clear error, the export still listed: %s", err.message);
	ok(xc_array_unmap(a, &lun, &target, &err) == 0 && exports_of("pp1", "pvc-fault") == 0,
	   "and the next unmap removes it");

	simarray_fault_message(&sim, "pp1", "GET", 400, "no user 3paradm with " PASSWORD);
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc != 0 && !strstr(err.message, PASSWORD) && strstr(err.message, "***"),
	   "the password echoed by the array is redacted: %s", err.message);
}

static void test_connections(struct xc_array *a)
{
	struct xc_host_list list;
	struct xc_http_stats s0, s1;
	struct xclone_error err = {0};
	struct xc_array *b = NULL;

	/* the WSAPI answers "Connection: close": every request is a new connection (after
	 * one request, as an injected error answer may have left one open) */
	xc_array_hosts(a, &list, &err), xc_host_list_free(&list);
	xc_array_http_stats(a, &s0);
	for (int i = 0; i < 5; i++)
		xc_array_hosts(a, &list, &err), xc_host_list_free(&list);
	xc_array_http_stats(a, &s1);
	ok(s1.connects - s0.connects == s1.attempts - s0.attempts && s1.requests - s0.requests == 10,
	   "an array that closes every connection: one new connection per request (%u)",
	   s1.connects - s0.connects);
	simarray_seed(&sim, "{\"arrays\": {\"pp1\": {\"keep_alive\": true}}}");
	if (suite_open_with("pp1", NULL, 0, &b, &err) == 0) {
		xc_array_http_stats(b, &s0);
		for (int i = 0; i < 10; i++)
			xc_array_hosts(b, &list, &err), xc_host_list_free(&list);
		xc_array_http_stats(b, &s1);
		ok(s1.connects - s0.connects <= 1, "one that keeps them alive: 20 requests on one"
		   " connection (%u new)", s1.connects - s0.connects);
		xc_array_close(b);
	} else {
		ok(0, "open pp1 again: %s", err.message);
	}
	simarray_seed(&sim, "{\"arrays\": {\"pp1\": {\"keep_alive\": false}}}");
}

static void test_timeouts(void)
{
	struct xc_pv pv = {.name = "pvc-fault"};
	struct suite_timeouts t = {
		.array = "pp1",
		.pv = &pv,
		.slow_once = "\"method\": \"GET\", \"path\": \"/volumes/\"",
		.slow_always = "\"method\": \"GET\", \"path\": \"/volumes/\"",
	};

	suite_case_timeouts(&t);
}

/* A 3PAR OS 3.2.1 array: NAA 5 WWNs, no VLUN query, 401 for an expired key. */
static void test_old_3par(void)
{
	struct xc_array *b = NULL;
	struct xc_pv pv = {.name = "pvc-old"};
	struct xc_lun lun;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-old", .lun_id = -1}, got;
	struct xc_mapping_list now;
	struct xc_http_stats s0, s1;
	struct xclone_error err = {0};
	int rc;

	if (!ok(suite_open_with("tp1", NULL, 0, &b, &err) == 0, "open tp1: %s", err.message))
		return;
	rc = xc_array_resolve(b, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.naa, "naa.50002ac01add042f") == 0 && lun.size_bytes == 1048576,
	   "a volume with a 64-bit WWN resolves to %s", rc ? err.message : lun.naa);
	rc = xc_array_map(b, &lun, &target, &got, &err);
	ok(rc == 0 && simarray_fabric_has(&sim, FC_NEW, "naa.50002ac01add042f"),
	   "map: the fabric presents naa.50002ac01add042f to the host's FC port: %s", err.message);
	rc = xc_array_mappings(b, &lun, &now, &err);
	ok(rc == 0 && now.n == 1 && strcmp(now.items[0].group, "esx-old") == 0 &&
		   simarray_count_requests(&sim, "tp1", "GET", "query=") == 0,
	   "mappings without the VLUN query this WSAPI build lacks");
	xc_mapping_list_free(&now);
	xc_array_http_stats(b, &s0);
	simarray_fault(&sim, "{\"array\": \"tp1\", \"method\": \"DELETE\","
			     " \"action\": \"expire_session\"}");
	rc = xc_array_unmap(b, &lun, &target, &err);
	xc_array_http_stats(b, &s1);
	ok(rc == 0 && s1.relogins == s0.relogins + 1 &&
		   !simarray_fabric_has(&sim, FC_NEW, "naa.50002ac01add042f"),
	   "an expired key answered 401: logged in again, unmapped: %s", err.message);
	xc_array_close(b);
	is_int(sessions_left("tp1"), 0, "the session is given back at close");
}

int main(void)
{
	const char *arrays[] = {"primera3par:pp1", "primera3par:tp1"};
	struct xc_array *a = NULL;
	struct xclone_error err = {0};

	suite_start(&primera3par, arrays, 2);
	seed();
	test_names();
	test_open();
	if (!ok(suite_open_with("pp1", NULL, 0, &a, &err) == 0, "open pp1: %s", err.message))
		return tap_done();
	test_resolve(a);
	test_ensure_host(a);
	test_map_cycle(a);
	test_delete_host(a);
	test_matched_set(a);
	test_query_refused();
	test_faults(a);
	test_connections(a);
	xc_array_close(a);
	test_timeouts();
	test_old_3par();
	return tap_done();
}
