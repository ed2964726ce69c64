/*
 * The IBM FlashSystem driver end to end against the array simulator: CLI-style REST
 * commands, tokens that expire or are replaced (403 → log in again), /rest/v1 and
 * /rest, resolve by both CSI volume handle forms and by attributes, hosts (none, same,
 * part, split), volume protection checked at system and pool level, map/unmap twice,
 * mappings restored, the fabric, and every fault class.
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

#define PASSWORD "pa ss'w\"rd$(x);\\"
#define PASSWORD_JSON "pa ss'w\\\"rd$(x);\\\\"
#define UID_1 "600507680C8006BE780000000000001C"
#define NAA_1 "naa.600507680c8006be780000000000001c"
#define IQN_NEW "iqn.1998-01.com.vmware:esx-new-1a2b3c4d"
#define FC_NEW "fc.20000025b5aa0001:20000025b5aa0002"
#define IQN_K8S "iqn.1994-05.com.redhat:k8s-node1"

static const char *const flashsystem_secret[] = {"STORAGE_USERNAME=superuser",
						  "STORAGE_PASSWORD=" PASSWORD};
static const struct suite_vendor flashsystem = {
	.product = "flashsystem", .secret = flashsystem_secret, .n_secret = 2};

static void seed(void)
{
	const char *json =
		"{\"fabric_logins\": [\"" FC_NEW "\"],"
		" \"arrays\": {\"fs1\": {"
		"  \"system_id\": \"00000204ABE10050\", \"vdisk_protection_enabled\": \"yes\","
		"  \"pools\": {\"Pool0\": {\"id\": \"0\", \"vdisk_protection_enabled\": \"no\"},"
		"            \"Pool1\": {\"id\": \"1\", \"vdisk_protection_enabled\": \"yes\"}},"
		"  \"users\": [{\"name\": \"superuser\", \"password\": \"" PASSWORD_JSON "\"}],"
		"  \"volumes\": [{\"id\": 14, \"name\": \"pvc-1111\", \"uid\": \"" UID_1 "\","
		"                \"size\": 10737418240},"
		"               {\"id\": 15, \"name\": \"demo_pvc-2222\", \"size\": 2097152},"
		"               {\"id\": 16, \"name\": \"pvc-3333\", \"size\": 2097152},"
		"               {\"id\": 17, \"name\": \"pvc-protected\", \"pool\": \"Pool1\"},"
		"               {\"id\": 18, \"name\": \"pvc-mirror\", \"copies\": [\"Pool0\", \"Pool1\"]},"
		"               {\"id\": 19, \"name\": \"pvc-busy\", \"pool\": \"Pool1\", \"recent_io\": true}],"
		"  \"hosts\": [{\"name\": \"k8s-node1\", \"initiators\": [\"" IQN_K8S "\"]},"
		"             {\"name\": \"esx-existing\", \"initiators\": [\"iqn.1998-01.com.vmware:esx-existing\"]},"
		"             {\"name\": \"partial\", \"initiators\": [\"fc.20000025b5dd0001:20000025b5dd0002\"]},"
		"             {\"name\": \"h1\", \"initiators\": [\"iqn.1998-01.com.vmware:split-1\"]},"
		"             {\"name\": \"h2\", \"initiators\": [\"iqn.1998-01.com.vmware:split-2\"]}],"
		"  \"mappings\": [{\"volume\": \"pvc-1111\", \"host\": \"k8s-node1\", \"lun\": 0},"
		"               {\"volume\": \"pvc-busy\", \"host\": \"esx-existing\", \"lun\": 4}]},"
		"  \"fs0\": {\"vendor\": \"flashsystem\", \"rest_v1\": false,"
		"           \"code_level\": \"8.3.1.9 (build 150.28.2107090000000)\","
		"           \"users\": [{\"name\": \"superuser\", \"password\": \"" PASSWORD_JSON "\"}]}"
		"}}";

	suite_seed(json);
}

static void test_naa_and_handle(void)
{
	char naa[64];
	struct xc_flashsystem_handle h;
	struct xclone_error err;

	ok(xc_flashsystem_naa(UID_1, naa, sizeof(naa), &err) == 0 && strcmp(naa, NAA_1) == 0,
	   "NAA: naa. + the vdisk_UID in lower case");
	ok(xc_flashsystem_naa("600507680C8006BE780000000000001", naa, sizeof(naa), &err) ==
		   XC_E_PROTOCOL,
	   "NAA: 31 digits are refused");
	ok(xc_flashsystem_naa("624A9370A7B9F7ECC01E40F70001181F", naa, sizeof(naa), &err) ==
		   XC_E_PROTOCOL,
	   "NAA: a UID without IBM's 6005076 is refused");
	ok(xc_flashsystem_parse_handle("SVC:14;600507680c8006be780000000000001c", &h, &err) == 0 &&
		   strcmp(h.internal_id, "14") == 0 && strcmp(h.uid, UID_1) == 0 && h.system_id[0] == 0,
	   "handle: SVC:<id>;<uid> (the CSI driver's example), UID upper-cased");
	ok(xc_flashsystem_parse_handle("SVC:60050760718106998000000000000543", &h, &err) == 0 &&
		   h.internal_id[0] == 0 && strcmp(h.uid, "60050760718106998000000000000543") == 0,
	   "handle: the legacy SVC:<uid> is accepted (forklift refuses it)");
	ok(xc_flashsystem_parse_handle("SVC:sys-a:14;" UID_1, &h, &err) == 0 &&
		   strcmp(h.system_id, "sys-a") == 0 && strcmp(h.internal_id, "14") == 0,
	   "handle: SVC:<system>:<id>;<uid>");
	ok(xc_flashsystem_parse_handle("DS8K:14;" UID_1, &h, &err) == XC_E_USAGE &&
		   xc_flashsystem_parse_handle("SVC:x4;" UID_1, &h, &err) == XC_E_USAGE &&
		   xc_flashsystem_parse_handle("SVC:14;" UID_1 "00", &h, &err) == XC_E_USAGE &&
		   xc_flashsystem_parse_handle("SVC:14;;" UID_1, &h, &err) == XC_E_USAGE,
	   "handle: another array type, a non-numeric id, a long UID, two ';': refused");
}

static void test_open_info(void)
{
	struct xc_array *a = NULL;
	struct xc_array_info info;
	struct xclone_error err = {0};
	int rc;

	rc = suite_open_with("fs1", NULL, 0, &a, &err);
	is_int(rc, 0, "open: %s", err.message);
	if (rc)
		exit(tap_done());
	rc = xc_array_info(a, &info, &err);
	is_int(rc, 0, "info");
	is_str(info.vendor, "IBM", "info vendor");
	is_str(info.product, "flashsystem", "info product");
	is_str(info.model, "IBM FlashSystem 7300", "info model: the product name");
	is_str(info.array_id, "00000204ABE10050", "info array id: the system id");
	is_str(info.api_version, "/rest/v1", "REST API /rest/v1");
	ok(strncmp(info.version, "8.6", 3) == 0, "info version: the code level %s", info.version);
	xc_array_close(a);

	rc = suite_open_with("fs0", NULL, 0, &a, &err);
	rc = rc ? rc : xc_array_info(a, &info, &err);
	ok(rc == 0 && strcmp(info.api_version, "/rest") == 0,
	   "a code level without /rest/v1: /rest is used: %s", rc ? err.message : info.api_version);
	xc_array_close(a);

	const char *noport[] = {"STORAGE_HOSTNAME=127.0.0.1"};
	rc = suite_open_with("fs1", noport, 1, &a, &err);
	ok(rc == XC_E_CONNECT && strstr(err.message, "7443") != NULL,
	   "without a port in STORAGE_HOSTNAME the REST port 7443 is used: %s", err.message);
	const char *badpass[] = {"STORAGE_PASSWORD=not-the-password"};
	rc = suite_open_with("fs1", badpass, 1, &a, &err);
	ok(rc == XC_E_AUTH && strstr(err.message, "STORAGE_USERNAME") &&
		   strstr(err.message, "not-the-password") == NULL,
	   "a wrong password: XC_E_AUTH naming the keys: %s", err.message);
	const char *system_ca[] = {"STORAGE_CA_FILE="};
	rc = suite_open_with("fs1", system_ca, 1, &a, &err);
	ok(rc == XC_E_CONNECT, "TLS verification is on: an unknown CA is refused");
	const char *injected[] = {"STORAGE_PASSWORD=pw\r\nX-Auth-Username: admin"};
	int auths = simarray_count_requests(&sim, "fs1", "POST", "/auth");
	rc = suite_open_with("fs1", injected, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_PASSWORD") &&
		   simarray_count_requests(&sim, "fs1", "POST", "/auth") == auths,
	   "a password with a line break is refused, never sent in a header: %s", err.message);

	simarray_fault(&sim, "{\"array\": \"fs1\", \"method\": \"POST\", \"path\": \"/auth\","
			     " \"action\": \"status\", \"status\": 429, \"retry_after\": 1, \"times\": 2}");
	rc = suite_open_with("fs1", NULL, 0, &a, &err);
	ok(rc == 0 && simarray_faults_left(&sim) == 0,
	   "/auth throttled with 429 (several pods logging in): waited, retried: %s", err.message);
	xc_array_close(a);
}

static void test_resolve(struct xc_array *a)
{
	struct xc_lun lun;
	struct xclone_error err = {0};
	struct xc_pv pv = {.name = "pvc-1111", .volume_handle = "SVC:14;" UID_1};
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	is_int(rc, 0, "resolve by volume handle SVC:<id>;<uid>: %s", err.message);
	is_str(lun.name, "pvc-1111", "resolved name");
	is_str(lun.id, "14", "resolved id");
	is_str(lun.serial, UID_1, "resolved serial: the vdisk_UID");
	is_str(lun.naa, NAA_1, "NAA");
	ok(lun.size_bytes == 10737418240ULL, "size in bytes (lsvdisk -bytes)");

	pv.volume_handle = "SVC:600507680c8006be780000000000001c";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, "14") == 0, "resolve by the legacy SVC:<uid> handle");
	pv.volume_handle = "SVC:15;" UID_1;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "15"),
	   "a handle whose id is not the UID's volume: refused: %s", err.message);

	struct xc_attr attrs[] = {{"volume_name", "demo_pvc-2222"}, {"storage_type", "SVC"}};
	struct xc_pv pv2 = {.name = "pvc-2222", .attrs = attrs, .n_attrs = 2};
	rc = xc_array_resolve(a, &pv2, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, "15") == 0,
	   "resolve by attribute volume_name (a CSI name prefix): %s", rc ? err.message : lun.name);
	struct xc_pv pv3 = {.name = "pvc-3333"};
	rc = xc_array_resolve(a, &pv3, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, "16") == 0, "resolve by the PV name");
	struct xc_pv hostile = {.name = "pvc-*", .volume_handle = "a b&c=d?e#f;$(x)"};
	rc = xc_array_resolve(a, &hostile, &lun, &err);
	ok(rc == XC_E_NOT_FOUND, "a hostile name is no filter pattern: not found: %s", err.message);
	struct xc_pv unicode = {.name = "pvc-'\"\\ ünïcode"};
	rc = xc_array_resolve(a, &unicode, &lun, &err);
	ok(rc == XC_E_NOT_FOUND, "hostile characters: not found");
}

static int host_count(void)
{
	cJSON *hosts = simarray_array_part(&sim, "fs1", "hosts");
	int n = cJSON_GetArraySize(hosts);

	cJSON_Delete(hosts);
	return n;
}

static void test_ensure_host(struct xc_array *a)
{
	struct xc_host_group g;
	struct xclone_error err = {0};
	const char *fresh[] = {IQN_NEW, FC_NEW};
	struct xc_host_request req = {.name = "esx-new", .initiators = fresh, .n_initiators = 2};
	int rc, writes, hosts;

	rc = xc_array_ensure_host(a, &req, &g, &err);
	is_int(rc, 0, "ensure host when none holds the initiators: %s", err.message);
	is_str(g.name, "esx-new", "created with the given name");
	ok(suite_has_initiator(&g, IQN_NEW) && suite_has_initiator(&g, "20000025B5AA0002"),
	   "it holds the IQN and the WWPN (mkhost -fcwwpn, then addhostport -iscsiname)");
	writes = simarray_count_requests(&sim, "fs1", "POST", "/mkhost") +
		 simarray_count_requests(&sim, "fs1", "POST", "/addhostport");
	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-new") == 0, "ensure again: the same host");
	is_int(simarray_count_requests(&sim, "fs1", "POST", "/mkhost") +
		       simarray_count_requests(&sim, "fs1", "POST", "/addhostport"),
	       writes, "ensure again changes nothing");

	hosts = host_count();
	const char *existing[] = {"IQN.1998-01.com.vmware:ESX-existing"};
	struct xc_host_request req2 = {.name = "other-name", .initiators = existing, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req2, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-existing") == 0 && host_count() == hosts,
	   "an existing host is reused (any case): %s", rc ? err.message : g.name);

	const char *part[] = {"fc.20000025b5dd0001:20000025b5dd0002", "iqn.1998-01.com.vmware:partial-2"};
	struct xc_host_request req3 = {.name = "whatever", .initiators = part, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req3, &g, &err);
	ok(rc != 0, "an FC host cannot take an iSCSI name (protocol fcscsi): refused: %s",
	   err.message);
	const char *part_fc[] = {"fc.20000025b5dd0001:20000025b5dd0002",
				 "fc.20000025b5dd0003:20000025b5dd0004"};
	struct xc_host_request req3b = {.name = "whatever", .initiators = part_fc, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req3b, &g, &err);
	ok(rc == 0 && strcmp(g.name, "partial") == 0 && g.n_initiators == 2,
	   "a host holding part of them is completed with addhostport: %s",
	   rc ? err.message : g.name);

	const char *split[] = {"iqn.1998-01.com.vmware:split-1", "iqn.1998-01.com.vmware:split-2"};
	struct xc_host_request req4 = {.name = "x", .initiators = split, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req4, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "h1") && strstr(err.message, "h2"),
	   "initiators on two hosts: a conflict naming both: %s", err.message);

	const char *taken[] = {"iqn.1998-01.com.vmware:brand-new"};
	struct xc_host_request req5 = {.name = "esx-existing", .initiators = taken, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req5, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "esx-existing"),
	   "a name taken by an unrelated host is a conflict (forklift appends a time): %s",
	   err.message);

	const char *lost[] = {"iqn.1998-01.com.vmware:lost-create"};
	struct xc_host_request req6 = {.name = "esx-lost", .initiators = lost, .n_initiators = 1};
	writes = simarray_count_requests(&sim, "fs1", "POST", "/mkhost");
	simarray_fault(&sim, "{\"array\": \"fs1\", \"path\": \"/mkhost\", \"action\": \"lose_response\"}");
	rc = xc_array_ensure_host(a, &req6, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-lost") == 0 && g.n_initiators == 1,
	   "mkhost whose answer is lost: checked, done: %s", err.message);
	is_int(simarray_count_requests(&sim, "fs1", "POST", "/mkhost"), writes + 1, "sent once");

	struct xc_host_list list;
	rc = xc_array_hosts(a, &list, &err);
	ok(rc == 0 && list.n == (size_t)host_count(), "hosts lists every host (%zu)", list.n);
	xc_host_list_free(&list);
}

static void test_map_cycle(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-1111", .volume_handle = "SVC:14;" UID_1};
	struct xc_lun lun;
	struct xc_mapping_list before, after;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xclone_error err = {0};
	int rc, posts;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &before, &err);
	ok(rc == 0 && before.n == 1 && strcmp(before.items[0].group, "k8s-node1") == 0 &&
		   before.items[0].lun_id == 0,
	   "mappings before: k8s-node1 at SCSI id 0");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == 0,
	   "map (system protection on, the pool's off: allowed; forklift refuses): SCSI id %ld %s",
	   got.lun_id, err.message);
	ok(simarray_fabric_has(&sim, IQN_NEW, NAA_1) && simarray_fabric_has(&sim, FC_NEW, NAA_1),
	   "fabric: presented to the host's IQN and FC port");
	posts = simarray_count_requests(&sim, "fs1", "POST", "/mkvdiskhostmap");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == 0 &&
		   simarray_count_requests(&sim, "fs1", "POST", "/mkvdiskhostmap") == posts,
	   "map twice: success, nothing sent");
	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, IQN_NEW, NAA_1), "unmap: off the fabric: %s",
	   err.message);
	rc = xc_array_unmap(a, &lun, &target, &err);
	is_int(rc, 0, "unmap twice: success");
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after), "mappings after the cycle equal those before");
	xc_mapping_list_free(&after);
	struct xc_mapping k8s = before.items[0];
	rc = xc_array_unmap(a, &lun, &k8s, &err);
	rc = rc ? rc : xc_array_restore_mappings(a, &lun, &before, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after) && simarray_fabric_has(&sim, IQN_K8S, NAA_1),
	   "mappings restored exactly: %s", err.message);
	xc_mapping_list_free(&after);
	xc_mapping_list_free(&before);

	/* volume protection */
	struct xc_pv prot = {.name = "pvc-protected"};
	rc = xc_array_resolve(a, &prot, &lun, &err);
	rc = rc ? rc : xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "Pool1") && strstr(err.message, "chmdiskgrp") &&
		   strstr(err.message, "chsystem"),
	   "system and pool protection on: refused before mapping, saying how: %s", err.message);
	is_int(suite_mapping_count("fs1", "17"), 0, "nothing mapped");
	struct xc_pv mirror = {.name = "pvc-mirror"};
	rc = xc_array_resolve(a, &mirror, &lun, &err);
	rc = rc ? rc : xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "Pool1"),
	   "a mirrored volume with one copy in a protected pool: refused: %s", err.message);
	simarray_seed(&sim, "{\"arrays\": {\"fs1\": {\"vdisk_protection_enabled\": \"no\"}}}");
	rc = xc_array_resolve(a, &prot, &lun, &err);
	rc = rc ? rc : xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && suite_mapping_count("fs1", "17") == 1, "protection off at system level: mapped: %s",
	   err.message);
	ok(xc_array_unmap(a, &lun, &target, &err) == 0 && suite_mapping_count("fs1", "17") == 0,
	   "and unmapped");
	simarray_seed(&sim, "{\"arrays\": {\"fs1\": {\"vdisk_protection_enabled\": \"yes\"}}}");
	struct xc_pv busy = {.name = "pvc-busy"};
	struct xc_mapping ex = {.kind = XC_GROUP_HOST, .group = "esx-existing", .lun_id = -1};
	rc = xc_array_resolve(a, &busy, &lun, &err);
	rc = rc ? rc : xc_array_unmap(a, &lun, &ex, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "volume protection") &&
		   suite_mapping_count("fs1", "19") == 1,
	   "an unmap the array refuses for recent I/O: the reason is named: %s", err.message);

	struct xc_mapping nohost = {.kind = XC_GROUP_HOST, .group = "no-such-host", .lun_id = -1};
	rc = xc_array_resolve(a, &pv, &lun, &err);
	rc = rc ? rc : xc_array_map(a, &lun, &nohost, &got, &err);
	ok(rc != 0 && strstr(err.message, "CMMVC5754E"),
	   "map to an unknown host: the CLI's message and code: %s", err.message);
	ok(strcmp(err.remote_code, "CMMVC5754E") == 0, "the CMMVC code is the remote code");
}

/* Whether the fault tests' LUN is mapped to esx-new (1), not at all (0) or partly. */
static int fault_lun_mapped(const struct xc_lun *lun)
{
	(void)lun;
	return suite_mapping_count("fs1", "16");
}

static void test_tokens_and_faults(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-3333"};
	struct xc_lun lun;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xc_http_stats s0, s1;
	struct xclone_error err = {0};
	struct xc_array *b = NULL;
	int rc;

	xc_array_http_stats(a, &s0);
	simarray_fault(&sim, "{\"array\": \"fs1\", \"path\": \"/lsvdisk\", \"action\": \"expire_session\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && s1.relogins == s0.relogins + 1, "an expired token (403): a new one, and on: %s",
	   err.message);

	/* one valid token per user: another client's login invalidates ours */
	rc = suite_open_with("fs1", NULL, 0, &b, &err);
	xc_array_http_stats(a, &s0);
	rc = rc ? rc : xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && s1.relogins == s0.relogins + 1,
	   "a token replaced by another login of the same user: logged in again: %s", err.message);
	xc_array_close(b);

	simarray_seed(&sim, "{\"arrays\": {\"fs1\": {\"token_seconds\": 1}}}");
	simarray_fault(&sim, "{\"array\": \"fs1\", \"action\": \"expire_session\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	usleep(1500 * 1000);
	xc_array_http_stats(a, &s0);
	rc = rc ? rc : xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && s1.relogins >= s0.relogins + 1, "a token past its lifetime: renewed: %s",
	   err.message);
	simarray_seed(&sim, "{\"arrays\": {\"fs1\": {\"token_seconds\": 3600}}}");

	suite_case_429(a, &(struct suite_read_target){"fs1", &pv, "\"path\": \"/lsvdisk\""});
	suite_case_503_twice(a, &(struct suite_read_target){"fs1", &pv, "\"path\": \"/lsvdisk\""},
			     "503 twice on an ls command (a read): retried");
	simarray_fault(&sim, "{\"array\": \"fs1\", \"action\": \"status\", \"status\": 502,"
			     " \"times\": 100, \"message\": \"gateway down\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_REMOTE && strstr(err.message, "HTTP 502") && err.retryable,
	   "a 5xx that persists: a clear error after bounded retries: %s", err.message);
	simarray_fault(&sim, "{\"array\": \"fs1\", \"action\": \"drop\", \"times\": 2}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && simarray_faults_left(&sim) == 0, "dropped connections on a read: sent again");

	int maps = simarray_count_requests(&sim, "fs1", "POST", "/mkvdiskhostmap");
	simarray_fault(&sim, "{\"array\": \"fs1\", \"path\": \"/mkvdiskhostmap\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id >= 0 && suite_mapping_count("fs1", "16") == 1,
	   "map whose answer is lost: success, mapped once: %s", err.message);
	is_int(simarray_count_requests(&sim, "fs1", "POST", "/mkvdiskhostmap"), maps + 1,
	       "the lost map was checked, not sent again");
	simarray_fault(&sim, "{\"array\": \"fs1\", \"path\": \"/rmvdiskhostmap\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && suite_mapping_count("fs1", "16") == 0,
	   "unmap whose answer is lost: success: %s", err.message);
	simarray_fault(&sim, "{\"array\": \"fs1\", \"path\": \"/mkvdiskhostmap\", \"action\": \"drop\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && suite_mapping_count("fs1", "16") == 1,
	   "map whose connection drops: checked, sent again: %s", err.message);
	xc_array_unmap(a, &lun, &target, &err);
	suite_case_map_500_and_refused(
		a, &(struct suite_map_target){"fs1", "\"path\": \"/mkvdiskhostmap\"", &lun,
					       &target, fault_lun_mapped});

	suite_case_redacted(a, "fs1", "POST", &pv, "CMMVC5707E bad password " PASSWORD,
			    (const char *const[]){PASSWORD}, 1);
}

/* delete_host: the common contract (rmhost, after lshostvdiskmap), plus the array's
 * own refusal of a mapped host (CMMVC5871E) taken as the same conflict. */
static void test_delete_host(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-1111", .volume_handle = "SVC:14;" UID_1};
	const char *fresh[] = {"iqn.1998-01.com.vmware:esx-del-7c1d",
			       "fc.20000025b5de0001:20000025b5de0002"};
	struct xc_host_group g = {.kind = XC_GROUP_HOST};
	struct xc_lun lun;
	struct xclone_error err = {0};
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	if (!ok(rc == 0, "delete_host: resolve pvc-1111: %s", err.message))
		return;
	suite_case_delete_host(a, &lun, "esx-del", fresh, 2);
	ok(simarray_count_requests(&sim, "fs1", "POST", "/rmhost/esx-del") >= 2,
	   "deleted with POST /rest/v1/rmhost/<name>");

	snprintf(g.name, sizeof(g.name), "esx-existing");
	rc = xc_array_delete_host(a, &g, &err);
	ok(rc == XC_E_CONFLICT && suite_host_listed(a, "esx-existing") == 1,
	   "a host with a volume mapped (pvc-busy): XC_E_CONFLICT, kept: %s", err.message);

	struct xc_host_request req = {.name = "esx-del2", .initiators = fresh, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req, &g, &err);
	simarray_fault(&sim, "{\"array\": \"fs1\", \"path\": \"/rmhost/\", \"action\": \"status\","
			     " \"status\": 409, \"message\": \"CMMVC5871E The action failed because"
			     " one or more of the configured port names is in a mapping.\"}");
	rc = rc ? rc : xc_array_delete_host(a, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "CMMVC5871E") &&
		   suite_host_listed(a, "esx-del2") == 1,
	   "the array's refusal (mapped meanwhile, CMMVC5871E): XC_E_CONFLICT: %s", err.message);
	rc = xc_array_delete_host(a, &g, &err);
	ok(rc == 0 && suite_host_listed(a, "esx-del2") == 0, "then deleted: %s", err.message);
}

static void test_timeouts(void)
{
	struct xc_pv pv = {.name = "pvc-3333"};
	struct suite_timeouts t = {
		.array = "fs1",
		.pv = &pv,
		.slow_once = "\"path\": \"/lsvdisk\"",
		.slow_always = "\"path\": \"/lsvdisk\"",
	};

	suite_case_timeouts(&t);
}

int main(void)
{
	const char *arrays[] = {"flashsystem:fs1", "flashsystem:fs0"};
	struct xc_array *a = NULL;
	struct xclone_error err = {0};

	suite_start(&flashsystem, arrays, 2);
	seed();
	test_naa_and_handle();
	test_open_info();
	if (!ok(suite_open_with("fs1", NULL, 0, &a, &err) == 0, "open fs1: %s", err.message))
		return tap_done();
	test_resolve(a);
	test_ensure_host(a);
	test_map_cycle(a);
	test_delete_host(a);
	test_tokens_and_faults(a);
	xc_array_close(a);
	test_timeouts();
	return tap_done();
}
