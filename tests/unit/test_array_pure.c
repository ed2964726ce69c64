/*
 * The Pure FlashArray driver end to end against the array simulator: login
 * flows, resolve, ensure host, map/unmap/mappings, the SAN fabric side of the
 * life cycle, and every fault class (token expiry, 429, 5xx, latency, dropped
 * connections, lost responses).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "array.h"
#include "secret.h"
#include "tap.h"
#include "vendors.h"

#include "array_suite.h"

#define TOKEN "3bd0e1c6-aa72-4f0e-9c4b-c0ffee000001"
#define PASSWORD "pa ss'w\"rd$(x);\\"
#define PREFIX "px_1234abcd"
#define VOL1_ID "9a1b2c3d-0000-4000-8000-000000000001"
#define VOL1 PREFIX "-pvc-11111111-aaaa"
#define VOL1_SERIAL "A7B9F7ECC01E40F70001181F"
#define IQN_NEW "iqn.1998-01.com.vmware:esx-new-1a2b3c4d"
#define FC_NEW "fc.20000025b5aa0001:20000025b5aa0002"
#define IQN_K8S "iqn.1994-05.com.redhat:k8s-node1"

static const char *const pure_secret[] = {"STORAGE_TOKEN=" TOKEN, "STORAGE_USERNAME=pureuser",
					 "STORAGE_PASSWORD=" PASSWORD, "PURE_CLUSTER_PREFIX=" PREFIX};
/* The secret as MTV writes it: user and password even with a token. */
static const struct suite_vendor pure = {
	.product = "pureFlashArray", .secret = pure_secret, .n_secret = 4};

static void seed(void)
{
	const char *json =
		"{\"fabric_logins\": [\"" FC_NEW "\"],"
		" \"arrays\": {"
		"  \"fa1\": {\"users\": [{\"name\": \"pureuser\", \"password\": \"" "pa ss'w\\\"rd$(x);\\\\"
		"\", \"api_token\": \"" TOKEN "\"}],"
		"   \"volumes\": [{\"id\": \"" VOL1_ID "\", \"name\": \"" VOL1 "\", \"serial\": \"" VOL1_SERIAL
		"\", \"size\": 10737418240},"
		"                {\"name\": \"pod1::" PREFIX "-pvc-podvol\", \"size\": 1048576},"
		"                {\"name\": \"" PREFIX "-pvc-2\", \"size\": 2097152},"
		"                {\"name\": \"" PREFIX "-pvc-3\", \"size\": 2097152}],"
		"   \"hosts\": [{\"name\": \"k8s-node1\", \"initiators\": [\"" IQN_K8S "\"]},"
		"              {\"name\": \"esx-existing\", \"initiators\": [\"iqn.1998-01.com.vmware:esx-existing\"]},"
		"              {\"name\": \"partial\", \"initiators\": [\"iqn.1998-01.com.vmware:partial-1\"]},"
		"              {\"name\": \"h1\", \"initiators\": [\"iqn.1998-01.com.vmware:split-1\"]},"
		"              {\"name\": \"h2\", \"initiators\": [\"iqn.1998-01.com.vmware:split-2\"]},"
		"              {\"name\": \"g1a\", \"initiators\": [\"iqn.1998-01.com.vmware:g1a\"]},"
		"              {\"name\": \"g1b\", \"initiators\": [\"iqn.1998-01.com.vmware:g1b\"]}],"
		"   \"host_groups\": [{\"name\": \"hg1\", \"hosts\": [\"g1a\", \"g1b\"]}],"
		"   \"mappings\": [{\"volume\": \"" VOL1 "\", \"host\": \"k8s-node1\", \"lun\": 7}]},"
		"  \"fa247\": {\"vendor\": \"pure\", \"users\": [{\"name\": \"pureuser\", \"password\": \"pw\"}]},"
		"  \"fa236\": {\"vendor\": \"pure\", \"users\": [{\"name\": \"pureuser\", \"password\": \"pw\"}]}"
		"}}";

	suite_seed(json);
}

static void test_naa(void)
{
	char naa[64];
	struct xclone_error err;

	ok(xc_pure_naa("A7B9F7ECC01E40F70001181F", naa, sizeof(naa), &err) == 0 &&
		   strcmp(naa, "naa.624a9370a7b9f7ecc01e40f70001181f") == 0,
	   "NAA: naa.624a9370 + serial in lower case (forklift's test pair)");
	ok(xc_pure_naa("A7B9F7ECC01E40F70001181", naa, sizeof(naa), &err) == XC_E_PROTOCOL,
	   "NAA: a 23-digit serial is refused");
	ok(xc_pure_naa("A7B9F7ECC01E40F70001181G", naa, sizeof(naa), &err) == XC_E_PROTOCOL,
	   "NAA: a non-hex serial is refused");
	ok(xc_pure_volume_name(NULL, "pvc-1", naa, sizeof(naa), &err) == XC_E_CONFIG &&
		   strstr(err.message, "PURE_CLUSTER_PREFIX") != NULL,
	   "volume name without PURE_CLUSTER_PREFIX names the key");
}

static void test_open_info(void)
{
	struct xc_array *a = NULL;
	struct xc_array_info info;
	struct xclone_error err = {0};
	int rc;

	rc = suite_open_with("fa1", NULL, 0, &a, &err);
	is_int(rc, 0, "open with STORAGE_TOKEN: %s", err.message);
	if (rc)
		exit(tap_done());
	rc = xc_array_info(a, &info, &err);
	is_int(rc, 0, "info");
	is_str(info.vendor, "Pure Storage", "info vendor");
	is_str(info.product, "pureFlashArray", "info product");
	is_str(info.model, "FA-X70R3", "info model from /controllers");
	ok(strstr(info.version, "6.5.8") != NULL, "info version: %s", info.version);
	is_str(info.api_version, "2.36", "highest 2.x REST version chosen");
	ok(info.array_id[0] != '\0', "info array id");
	xc_array_close(a);
	ok(simarray_count_requests(&sim, "fa1", "POST", "/auth/apitoken") == 0,
	   "a token login never sends the password");

	const char *userpass[] = {"STORAGE_TOKEN="};
	rc = suite_open_with("fa1", userpass, 1, &a, &err);
	is_int(rc, 0, "open with user and password through REST 1.x: %s", err.message);
	ok(simarray_count_requests(&sim, "fa1", "POST", "/api/1.19/auth/apitoken") == 1,
	   "the API token came from the highest 1.x");
	xc_array_close(a);
}

static void test_login_variants(void)
{
	struct xc_array *a = NULL;
	struct xclone_error err = {0};
	const char *userpass[] = {"STORAGE_TOKEN=", "STORAGE_PASSWORD=pw"};
	int rc;

	/* REST 1.x is being removed from arrays: 2.47+ takes the password at /login */
	simarray_seed(&sim, "{\"arrays\": {\"fa247\": {\"api_versions\": [\"2.2\", \"2.47\"]},"
			    " \"fa236\": {\"api_versions\": [\"2.0\", \"2.36\"]}}}");
	rc = suite_open_with("fa247", userpass, 2, &a, &err);
	is_int(rc, 0, "array without REST 1.x: user and password at the 2.47 login: %s", err.message);
	ok(simarray_count_requests(&sim, "fa247", "POST", "/api/2.47/login") == 1,
	   "one login at /api/2.47/login");
	xc_array_close(a);

	rc = suite_open_with("fa236", userpass, 2, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_TOKEN"),
	   "without REST 1.x nor 2.47 a password cannot log in: the message asks for"
	   " STORAGE_TOKEN: %s",
	   err.message);
}

static void test_config_errors(void)
{
	struct xc_array *a = NULL;
	struct xclone_error err = {0};
	int rc;

	const char *nohost[] = {"STORAGE_HOSTNAME="};
	rc = suite_open_with("fa1", nohost, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_HOSTNAME"),
	   "missing STORAGE_HOSTNAME is named: %s", err.message);

	const char *nocreds[] = {"STORAGE_TOKEN=", "STORAGE_USERNAME="};
	rc = suite_open_with("fa1", nocreds, 2, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_TOKEN") &&
		   strstr(err.message, "STORAGE_USERNAME"),
	   "no token and no user is named: %s", err.message);

	const char *nopass[] = {"STORAGE_TOKEN=", "STORAGE_PASSWORD="};
	rc = suite_open_with("fa1", nopass, 2, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_PASSWORD"),
	   "user without password is named: %s", err.message);

	const char *both[] = {"STORAGE_SKIP_SSL_VERIFICATION=true"};
	rc = suite_open_with("fa1", both, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_CA_FILE") &&
		   strstr(err.message, "STORAGE_SKIP_SSL_VERIFICATION"),
	   "CA file and skip-verification together contradict: %s", err.message);

	const char *badbool[] = {"STORAGE_SKIP_SSL_VERIFICATION=maybe", "STORAGE_CA_FILE="};
	rc = suite_open_with("fa1", badbool, 2, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_SKIP_SSL_VERIFICATION"),
	   "a bad boolean is named: %s", err.message);

	const char *badtimeout[] = {"STORAGE_HTTP_TIMEOUT_SECONDS=0"};
	rc = suite_open_with("fa1", badtimeout, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_HTTP_TIMEOUT_SECONDS"),
	   "a zero timeout is named: %s", err.message);

	const char *http[] = {"STORAGE_HOSTNAME=http://127.0.0.1:1"};
	rc = suite_open_with("fa1", http, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_HOSTNAME"),
	   "a plain http:// array URL is refused: %s", err.message);

	const char *badtoken[] = {"STORAGE_TOKEN=wrong-token-0123456789"};
	rc = suite_open_with("fa1", badtoken, 1, &a, &err);
	ok(rc == XC_E_AUTH && !err.retryable, "a wrong API token is XC_E_AUTH, not retryable: %s",
	   err.message);
	ok(strstr(err.message, "wrong-token-0123456789") == NULL, "the token is not in the message");

	const char *badpass[] = {"STORAGE_TOKEN=", "STORAGE_PASSWORD=not-the-password"};
	rc = suite_open_with("fa1", badpass, 2, &a, &err);
	ok(rc == XC_E_AUTH, "a wrong password is XC_E_AUTH: %s", err.message);
	ok(strstr(err.message, "not-the-password") == NULL, "the password is not in the message");

	const char *system_ca[] = {"STORAGE_CA_FILE="};
	rc = suite_open_with("fa1", system_ca, 1, &a, &err);
	ok(rc == XC_E_CONNECT && strstr(err.message, "not trusted"),
	   "a certificate from an unknown CA is refused: %s", err.message);

	const char *skip[] = {"STORAGE_CA_FILE=", "STORAGE_SKIP_SSL_VERIFICATION=true"};
	rc = suite_open_with("fa1", skip, 2, &a, &err);
	is_int(rc, 0, "STORAGE_SKIP_SSL_VERIFICATION=true connects anyway");
	xc_array_close(a);

	const char *unused[] = {"STORAGE_HOSTNAME=127.0.0.1:1"};
	rc = suite_open_with("fa1", unused, 1, &a, &err);
	ok(rc == XC_E_CONNECT, "a closed port is XC_E_CONNECT after retries: %s", err.message);

	struct xc_secret *s = NULL;
	suite_make_secret("fa1", NULL, 0);
	xc_secret_open(&s, secret_dir, &err);
	rc = xc_array_open(&a, "pureflasharray", s, NULL, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "pureFlashArray"),
	   "an unknown product lists the known ones: %s", err.message);
	xc_secret_close(s);
}

static void test_resolve(struct xc_array *a)
{
	struct xc_lun lun;
	struct xclone_error err = {0};
	struct xc_pv pv = {.name = "pvc-11111111-aaaa", .volume_handle = VOL1_ID};
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	is_int(rc, 0, "resolve by volume handle (volume id): %s", err.message);
	is_str(lun.name, VOL1, "resolved name");
	is_str(lun.id, VOL1_ID, "resolved id");
	is_str(lun.serial, VOL1_SERIAL, "resolved serial");
	is_str(lun.naa, "naa.624a9370a7b9f7ecc01e40f70001181f", "resolved NAA id");
	ok(lun.size_bytes == 10737418240ULL, "resolved size from 'provisioned'");

	pv.volume_handle = "0b6f8bd8-ffff-4000-8000-00000000dead";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, VOL1_ID) == 0,
	   "an unknown handle falls back to <PURE_CLUSTER_PREFIX>-<pv name>: %s", err.message);

	pv.volume_handle = NULL;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, VOL1_ID) == 0, "resolve by PV name alone");

	pv.name = "pvc-podvol";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.name, "pod1::" PREFIX "-pvc-podvol") == 0,
	   "a volume in a FlashArray pod is found: %s", rc ? err.message : lun.name);

	pv.name = "pvc-absent";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "pvc-absent"),
	   "a missing volume is XC_E_NOT_FOUND naming the PV: %s", err.message);

	pv.name = "pvc-'; $(rm -rf /) \"x\" \\ ünïcode";
	pv.volume_handle = "a b&c=d?e#f";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND, "hostile PV name and handle are just not found: %s", err.message);
}

static int count_hosts_named(const char *name)
{
	cJSON *hosts = simarray_array_part(&sim, "fa1", "hosts");
	int n = cJSON_GetObjectItem(hosts, name) != NULL;

	cJSON_Delete(hosts);
	return n;
}

static void test_ensure_host(struct xc_array *a)
{
	struct xc_host_group g;
	struct xclone_error err = {0};
	const char *fresh[] = {IQN_NEW, FC_NEW};
	struct xc_host_request req = {.name = "esx-new", .initiators = fresh, .n_initiators = 2};
	int rc, posts;

	rc = xc_array_ensure_host(a, &req, &g, &err);
	is_int(rc, 0, "ensure host when none holds the initiators: %s", err.message);
	is_str(g.name, "esx-new", "created with the given name");
	ok(suite_has_initiator(&g, IQN_NEW) && suite_has_initiator(&g, "20000025B5AA0002"),
	   "the new host holds the IQN and the WWPN");
	posts = simarray_count_requests(&sim, "fa1", "POST", "/hosts?names=esx-new");
	is_int(posts, 1, "one POST /hosts");

	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-new") == 0, "ensure again: the same host");
	is_int(simarray_count_requests(&sim, "fa1", "POST", "/hosts?names="), posts,
	       "ensure again creates nothing");

	const char *existing[] = {"IQN.1998-01.com.vmware:esx-existing"};
	struct xc_host_request req2 = {.name = "other-name", .initiators = existing, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req2, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-existing") == 0,
	   "an existing host holding the initiator is reused (IQN case ignored): %s",
	   rc ? err.message : g.name);
	ok(!count_hosts_named("other-name"), "no host created for the reuse");

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

	const char *bad[] = {"iqn.1998-01.com.vmware:ok", "not an initiator; $(x)"};
	struct xc_host_request req6 = {.name = "esx-bad", .initiators = bad, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req6, &g, &err);
	ok(rc == XC_E_USAGE && !count_hosts_named("esx-bad"),
	   "a bad initiator is refused before any change: %s", err.message);

	const char *unnamed[] = {"iqn.1998-01.com.vmware:no-name-given"};
	struct xc_host_request req_default = {.name = NULL, .initiators = unnamed, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req_default, &g, &err);
	ok(rc == 0 && strncmp(g.name, "xclone-", 7) == 0 && strlen(g.name) == 15,
	   "without a name the host is called xclone-<hash>: %s", rc ? err.message : g.name);

	struct xc_host_request req7 = {.name = "bad name!", .initiators = taken, .n_initiators = 1};
	ok(xc_array_ensure_host(a, &req7, &g, &err) == XC_E_USAGE, "a bad host name is refused");

	const char *lost[] = {"iqn.1998-01.com.vmware:lost-create"};
	struct xc_host_request req8 = {.name = "esx-lost", .initiators = lost, .n_initiators = 1};
	simarray_fault(&sim, "{\"array\": \"fa1\", \"method\": \"POST\", \"path\": \"/hosts\\\\?\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_ensure_host(a, &req8, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-lost") == 0,
	   "create host whose answer is lost: success after checking: %s", err.message);
	is_int(simarray_count_requests(&sim, "fa1", "POST", "/hosts?names=esx-lost"), 1,
	       "and it was not sent twice");

	suite_case_hosts_listed(a,
				&(struct suite_hosts_expect){
					.min_n = 10,
					.max_n = SIZE_MAX,
					.kind = XC_GROUP_HOST_SET,
					.group = "hg1",
					.n_initiators = 2,
					.name = "hosts lists hosts and host groups with members"});
}

static void test_map_cycle(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-11111111-aaaa", .volume_handle = VOL1_ID};
	struct xc_lun lun;
	struct xc_mapping_list before, after;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xclone_error err = {0};
	const char *naa = "naa.624a9370a7b9f7ecc01e40f70001181f";
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &before, &err);
	ok(rc == 0 && before.n == 1 && strcmp(before.items[0].group, "k8s-node1") == 0 &&
		   before.items[0].lun_id == 7,
	   "mappings before: k8s-node1 at LUN 7");
	ok(!simarray_fabric_has(&sim, IQN_NEW, naa), "fabric: not presented to the ESXi host yet");
	ok(simarray_fabric_has(&sim, IQN_K8S, naa), "fabric: presented to the k8s node");

	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id >= 1, "map to the ESXi host: LUN %ld %s", got.lun_id, err.message);
	ok(simarray_fabric_has(&sim, IQN_NEW, naa), "fabric: the LUN is presented to the host's IQN");
	ok(simarray_fabric_has(&sim, FC_NEW, naa), "fabric: and to its FC port (fc.WWNN:WWPN)");
	long first_lun = got.lun_id;

	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == first_lun, "map twice: success, same LUN %ld", got.lun_id);
	is_int(suite_mapping_count("fa1", VOL1_ID), 2, "map twice: one connection, not two");

	rc = xc_array_unmap(a, &lun, &target, &err);
	is_int(rc, 0, "unmap: %s", err.message);
	ok(!simarray_fabric_has(&sim, IQN_NEW, naa) && !simarray_fabric_has(&sim, FC_NEW, naa),
	   "fabric: gone from the host after unmap");
	rc = xc_array_unmap(a, &lun, &target, &err);
	is_int(rc, 0, "unmap twice: success: %s", err.message);

	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after), "mappings after the cycle equal those before");
	ok(simarray_fabric_has(&sim, IQN_K8S, naa), "fabric: the k8s node kept its LUN");
	xc_mapping_list_free(&after);

	/* restore: take the k8s node's mapping away, then put it back from the record */
	struct xc_mapping k8s = before.items[0];
	rc = xc_array_unmap(a, &lun, &k8s, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, IQN_K8S, naa), "unmap the original mapping");
	rc = xc_array_restore_mappings(a, &lun, &before, &err);
	is_int(rc, 0, "restore mappings: %s", err.message);
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after), "mappings restored exactly (LUN 7 again)");
	ok(simarray_fabric_has(&sim, IQN_K8S, naa), "fabric: presented to the k8s node again");
	xc_mapping_list_free(&after);
	xc_mapping_list_free(&before);

	/* host group connection: listed once per member, reported once */
	struct xc_mapping hg = {.kind = XC_GROUP_HOST_SET, .group = "hg1", .lun_id = -1};
	rc = xc_array_map(a, &lun, &hg, &got, &err);
	ok(rc == 0 && got.lun_id == 254, "map to a host group: shared LUN counts down from 254 (%ld)",
	   got.lun_id);
	ok(simarray_fabric_has(&sim, "iqn.1998-01.com.vmware:g1a", naa) &&
		   simarray_fabric_has(&sim, "iqn.1998-01.com.vmware:g1b", naa),
	   "fabric: every member host sees the group's LUN");
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && after.n == 2 && xc_mapping_list_find(&after, XC_GROUP_HOST_SET, "hg1"),
	   "the group mapping is listed once");
	xc_mapping_list_free(&after);
	ok(xc_array_unmap(a, &lun, &hg, &err) == 0 &&
		   !simarray_fabric_has(&sim, "iqn.1998-01.com.vmware:g1a", naa),
	   "unmap the host group");

	struct xc_mapping nohost = {.kind = XC_GROUP_HOST, .group = "no-such-host", .lun_id = -1};
	rc = xc_array_map(a, &lun, &nohost, &got, &err);
	ok(rc != 0 && strstr(err.message, "Host does not exist"),
	   "map to an unknown host fails with the array's message: %s", err.message);
	is_int(suite_mapping_count("fa1", VOL1_ID), 1, "and leaves nothing behind");
}

/* delete_host: the common contract, then FlashArray's own rule: a host connected
 * only through its host group still sees the volume, so it is in use too. */
static void test_delete_host(struct xc_array *a)
{
	static const char *const fresh[] = {"iqn.1998-01.com.vmware:esx-del-1"};
	struct xc_pv pv = {.name = "pvc-11111111-aaaa", .volume_handle = VOL1_ID};
	struct xc_mapping hg = {.kind = XC_GROUP_HOST_SET, .group = "hg1", .lun_id = -1};
	struct xc_host_group member = {.kind = XC_GROUP_HOST, .name = "g1a"};
	struct xc_lun lun;
	struct xclone_error err = {0};
	int rc;

	if (!ok(xc_array_resolve(a, &pv, &lun, &err) == 0, "delete_host: LUN resolved: %s",
		err.message))
		return;
	suite_case_delete_host(a, &lun, "esx-del", fresh, 1);
	rc = xc_array_map(a, &lun, &hg, NULL, &err);
	ok(rc == 0, "delete_host: LUN mapped to host group hg1: %s", err.message);
	rc = xc_array_delete_host(a, &member, &err);
	ok(rc == XC_E_CONFLICT && suite_host_listed(a, "g1a") == 1,
	   "a host connected only through its host group is not deleted (rc %d: %s)", rc,
	   err.message);
	is_int(simarray_count_requests(&sim, "fa1", "DELETE", "/hosts?names=g1a"), 0,
	       "refused from the connection list, no DELETE sent");
	ok(xc_array_unmap(a, &lun, &hg, &err) == 0, "delete_host: host group unmapped: %s",
	   err.message);
}

/* Whether the fault tests' LUN is mapped to esx-new (1), not at all (0) or partly. */
static int fault_lun_mapped(const struct xc_lun *lun)
{
	return simarray_fabric_has(&sim, IQN_NEW, lun->naa);
}

static void test_faults(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-2"};
	struct xc_lun lun;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xc_http_stats s0, s1;
	struct xclone_error err = {0};
	int rc;

	xc_array_http_stats(a, &s0);
	simarray_fault(&sim, "{\"array\": \"fa1\", \"method\": \"GET\", \"path\": \"/volumes\","
			     " \"action\": \"expire_session\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && s1.relogins == s0.relogins + 1,
	   "session token expired mid-run: logged in again and went on: %s", err.message);

	suite_case_429(a, &(struct suite_read_target){
				  "fa1", &pv, "\"method\": \"GET\", \"path\": \"/volumes\""});
	suite_case_503_twice(a, &(struct suite_read_target){"fa1", &pv, "\"method\": \"GET\""}, NULL);

	simarray_fault(&sim, "{\"array\": \"fa1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 502, \"times\": 100, \"message\": \"gateway down\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_REMOTE && strstr(err.message, "HTTP 502") && err.http_status == 502 &&
		   err.retryable,
	   "a 5xx that persists: a clear error after the bounded retries: %s", err.message);
	simarray_clear_faults(&sim);

	simarray_fault(&sim, "{\"array\": \"fa1\", \"method\": \"GET\", \"action\": \"drop\","
			     " \"times\": 2}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && simarray_faults_left(&sim) == 0, "dropped connections on a read: sent again: %s",
	   rc ? err.message : "ok");

	rc = xc_array_resolve(a, &pv, &lun, &err);
	simarray_fault(&sim, "{\"array\": \"fa1\", \"method\": \"POST\", \"path\": \"/connections\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id >= 1, "map whose response is lost: success: %s", err.message);
	is_int(simarray_count_requests(&sim, "fa1", "POST", "volume_names=" PREFIX "-pvc-2"), 1,
	       "the lost map was checked, not sent again");
	ok(simarray_fabric_has(&sim, IQN_NEW, lun.naa), "fabric shows the mapping");

	simarray_fault(&sim, "{\"array\": \"fa1\", \"method\": \"DELETE\", \"path\": \"/connections\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, IQN_NEW, lun.naa),
	   "unmap whose response is lost: success, and gone: %s", err.message);

	simarray_fault(&sim, "{\"array\": \"fa1\", \"method\": \"POST\", \"path\": \"/connections\","
			     " \"action\": \"drop\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && simarray_fabric_has(&sim, IQN_NEW, lun.naa),
	   "map whose connection drops before the array acts: checked, sent again: %s",
	   err.message);
	is_int(simarray_count_requests(&sim, "fa1", "POST", "volume_names=" PREFIX "-pvc-2"), 3,
	       "the dropped map was sent again once");
	xc_array_unmap(a, &lun, &target, &err);

	suite_case_map_500_and_refused(
		a, &(struct suite_map_target){"fa1",
					       "\"method\": \"POST\", \"path\": \"/connections\"",
					       &lun, &target, fault_lun_mapped});
	struct xc_mapping_list now;
	rc = xc_array_mappings(a, &lun, &now, &err);
	ok(rc == 0 && now.n == 0, "and nothing half done");
	xc_mapping_list_free(&now);

	suite_case_redacted(a, "fa1", "GET", &pv, "bad token " TOKEN " and " PASSWORD,
			    (const char *const[]){TOKEN, PASSWORD}, 2);
}

static void test_timeouts(void)
{
	struct xc_pv pv = {.name = "pvc-3"};
	struct suite_timeouts t = {
		.array = "fa1",
		.pv = &pv,
		.slow_once = "\"method\": \"GET\", \"path\": \"/volumes\"",
		.slow_always = "\"method\": \"GET\", \"path\": \"/volumes\"",
	};

	suite_case_timeouts(&t);
}

int main(void)
{
	const char *arrays[] = {"pure:fa1", "pure:fa247", "pure:fa236"};
	struct xc_array *a = NULL;
	struct xclone_error err = {0};

	suite_start(&pure, arrays, 3);
	seed();
	test_naa();
	test_open_info();
	test_login_variants();
	test_config_errors();
	if (!ok(suite_open_with("fa1", NULL, 0, &a, &err) == 0, "open fa1: %s", err.message))
		return tap_done();
	test_resolve(a);
	test_ensure_host(a);
	test_map_cycle(a);
	test_delete_host(a);
	test_faults(a);
	suite_case_paging_and_reuse(a, "fa1", 4, "a host list in pages of 2 is followed to the end",
				    "20 requests on one kept-alive connection");
	xc_array_close(a);
	test_timeouts();
	return tap_done();
}
