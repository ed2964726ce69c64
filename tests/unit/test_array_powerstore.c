/*
 * The Dell PowerStore driver end to end against the array simulator: login
 * session (cookie + CSRF token, re-login on 401 and 403, logout), csi-powerstore
 * volume handles and attributes, hosts and host groups, attach/detach/mappings,
 * LUN numbers ESXi can see, the SAN fabric side of the life cycle, and every
 * fault class (session expiry, 429, 5xx, latency, dropped connections, lost
 * responses).
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

#define PASSWORD "ps pa$$ 'w\"rd $(x);\\ ü"
#define GID "PS4ebb8d4e8488"
#define VOL1_ID "a56eb403-2b46-4041-853a-b6536a5c723f"
#define VOL1 "csivol-4848f75cd8"
#define VOL1_WWN "naa.68ccf09800ac8ab0e2506d99bee29e40"
#define VOL2_ID "0b6f8bd8-1111-4000-8000-000000000002"
#define VOL2 "csivol-fault00002"
#define VOL3 "csivol-lunpick003"
#define METRO_ID "c0ffee00-3333-4000-8000-000000000003"
#define IQN_NEW "iqn.1998-01.com.vmware:esx-new-1a2b3c4d"
#define FC_NEW "fc.20000025b5ee0001:20000025b5ee0002"
#define WWPN_NEW "20:00:00:25:b5:ee:00:02"
#define IQN_K8S "iqn.1994-05.com.redhat:k8s-node1"

static const char *const powerstore_secret[] = {"STORAGE_USERNAME=admin",
					       "STORAGE_PASSWORD=" PASSWORD};
static const struct suite_vendor powerstore = {
	.product = "powerstore", .secret = powerstore_secret, .n_secret = 2};

static void seed(void)
{
	cJSON *spec = cJSON_Parse(
		"{\"fabric_logins\": [\"" FC_NEW "\"],"
		" \"arrays\": {"
		"  \"ps1\": {\"global_id\": \"" GID "\","
		"   \"volumes\": ["
		"    {\"id\": \"" VOL1_ID "\", \"name\": \"" VOL1 "\", \"wwn\": \"" VOL1_WWN "\","
		"     \"size\": 10737418240},"
		"    {\"id\": \"" VOL2_ID "\", \"name\": \"" VOL2 "\", \"size\": 1048576},"
		"    {\"name\": \"" VOL3 "\", \"size\": 1048576},"
		"    {\"id\": \"" METRO_ID "\", \"name\": \"csivol-metro\", \"size\": 1048576},"
		"    {\"name\": \"CSIVOL-CASE\", \"size\": 1048576}],"
		"   \"hosts\": ["
		"    {\"name\": \"k8s-node1\", \"initiators\": [\"" IQN_K8S "\"], \"os_type\": \"Linux\"},"
		"    {\"name\": \"esx-existing\", \"initiators\": [\"iqn.1998-01.com.vmware:esx-existing\"]},"
		"    {\"name\": \"partial\", \"initiators\": [\"iqn.1998-01.com.vmware:partial-1\"]},"
		"    {\"name\": \"h1\", \"initiators\": [\"iqn.1998-01.com.vmware:split-1\"]},"
		"    {\"name\": \"h2\", \"initiators\": [\"iqn.1998-01.com.vmware:split-2\"]},"
		"    {\"name\": \"g1a\", \"initiators\": [\"iqn.1998-01.com.vmware:g1a\"]},"
		"    {\"name\": \"g1b\", \"initiators\": [\"iqn.1998-01.com.vmware:g1b\"]}],"
		"   \"host_groups\": [{\"name\": \"hg1\", \"hosts\": [\"g1a\", \"g1b\"]}],"
		"   \"mappings\": [{\"volume\": \"" VOL1 "\", \"host\": \"k8s-node1\", \"lun\": 7}]},"
		"  \"ps2\": {\"vendor\": \"powerstore\", \"cookies\": false}"
		"}}");
	cJSON *arrays = cJSON_GetObjectItem(spec, "arrays");
	char *text;

	/* the hostile password goes through cJSON */
	for (cJSON *arr = arrays ? arrays->child : NULL; arr != NULL; arr = arr->next) {
		cJSON *users = cJSON_AddArrayToObject(arr, "users"), *u = cJSON_CreateObject();
		cJSON_AddStringToObject(u, "name", "admin");
		cJSON_AddStringToObject(u, "password", PASSWORD);
		cJSON_AddItemToArray(users, u);
	}
	text = cJSON_PrintUnformatted(spec);
	suite_seed(text);
	free(text);
	cJSON_Delete(spec);
}

static void test_ids(void)
{
	char naa[64];
	struct xc_powerstore_handle h;
	struct xclone_error err;

	ok(xc_powerstore_naa(VOL1_WWN, naa, sizeof(naa), &err) == 0 && strcmp(naa, VOL1_WWN) == 0,
	   "NAA: the volume's wwn is the ESXi device id (Dell's sample naa.68ccf098...)");
	ok(xc_powerstore_naa("NAA.68CCF09800AC8AB0E2506D99BEE29E40", naa, sizeof(naa), &err) == 0 &&
		   strcmp(naa, VOL1_WWN) == 0,
	   "NAA: lower-cased as ESXi shows it");
	ok(xc_powerstore_naa("68ccf09800ac8ab0e2506d99bee29e40", naa, sizeof(naa), &err) == 0 &&
		   strcmp(naa, VOL1_WWN) == 0,
	   "NAA: the bare 32 digits (csi-powerstore's DEVICE_WWN form) give the same id");
	ok(xc_powerstore_naa("naa.68ccf09800ac8ab0e2506d99bee29e4", naa, sizeof(naa), &err) ==
		   XC_E_PROTOCOL,
	   "NAA: 31 digits are refused");
	ok(xc_powerstore_naa("naa.58ccf09800ac8ab0e2506d99bee29e40", naa, sizeof(naa), &err) ==
		   XC_E_PROTOCOL,
	   "NAA: not NAA type 6 is refused");
	ok(xc_powerstore_naa("naa.68ccf09800ac8ab0e2506d99bee29exx", naa, sizeof(naa), &err) ==
		   XC_E_PROTOCOL,
	   "NAA: non-hex digits are refused");
	ok(xc_powerstore_naa(NULL, naa, sizeof(naa), &err) == XC_E_PROTOCOL,
	   "NAA: a volume without wwn (snapshot) is refused");

	ok(xc_powerstore_parse_handle(VOL1_ID "/" GID "/scsi", &h, &err) == 0 &&
		   strcmp(h.volume_id, VOL1_ID) == 0 && strcmp(h.array_id, GID) == 0 &&
		   strcmp(h.protocol, "scsi") == 0 && h.remote_volume_id[0] == '\0',
	   "handle: <uuid>/<global id>/scsi");
	ok(xc_powerstore_parse_handle(VOL1_ID, &h, &err) == 0 && strcmp(h.volume_id, VOL1_ID) == 0 &&
		   h.array_id[0] == '\0',
	   "handle: a legacy bare uuid");
	ok(xc_powerstore_parse_handle(VOL1_ID "/PSaaaa/scsi:" METRO_ID "/" GID, &h, &err) == 0 &&
		   strcmp(h.protocol, "scsi") == 0 && strcmp(h.remote_volume_id, METRO_ID) == 0 &&
		   strcmp(h.remote_array_id, GID) == 0,
	   "handle: Metro <uuid>/<gid>/scsi:<remote uuid>/<remote gid>");
	ok(xc_powerstore_parse_handle(VOL1_ID "/10.0.0.1/nfs", &h, &err) == 0 &&
		   strcmp(h.array_id, "10.0.0.1") == 0 && strcmp(h.protocol, "nfs") == 0,
	   "handle: an IP instead of a global id, nfs");
	ok(xc_powerstore_parse_handle("x'; $(rm -rf /)/a/b", &h, &err) == XC_E_USAGE,
	   "handle: not a uuid: refused");
	ok(xc_powerstore_parse_handle(VOL1_ID "/a/b/c/d", &h, &err) == XC_E_USAGE,
	   "handle: too many segments: refused");
	ok(xc_powerstore_parse_handle("", &h, &err) == XC_E_USAGE, "handle: empty: refused");
	ok(xc_powerstore_parse_handle("abcdef/" GID "/scsi", &h, &err) == XC_E_USAGE,
	   "handle: hex that is not a UUID: refused");
}

static void test_open_info(void)
{
	struct xc_array *a = NULL;
	struct xc_array_info info;
	struct xclone_error err = {0};
	char url[128];
	int rc;

	rc = suite_open_with("ps1", NULL, 0, &a, &err);
	is_int(rc, 0, "open with STORAGE_USERNAME/STORAGE_PASSWORD: %s", err.message);
	if (rc)
		exit(tap_done());
	rc = xc_array_info(a, &info, &err);
	is_int(rc, 0, "info: %s", err.message);
	is_str(info.vendor, "Dell", "info vendor");
	is_str(info.product, "powerstore", "info product");
	is_str(info.model, "PowerStore 1200T", "info model from /appliance");
	is_str(info.version, "PowerStoreOS 4.0.0.0", "info version from /software_installed");
	is_str(info.array_id, GID, "info array id is the cluster's global id");
	is_str(info.name, "ps1", "info cluster name");
	xc_array_close(a);
	is_int(simarray_count_requests(&sim, "ps1", "GET", "/api/rest/login_session"), 1,
	       "one login (Basic) for the whole session");
	is_int(simarray_count_requests(&sim, "ps1", "POST", "/api/rest/logout"), 1,
	       "close logs out (no session left behind for the idle timeout)");

	/* gopowerstore (hence forklift) takes the whole REST root as STORAGE_HOSTNAME */
	const char *full[] = {url};
	snprintf(url, sizeof(url), "STORAGE_HOSTNAME=https://127.0.0.1:%d/api/rest/",
		 simarray_port(&sim, "ps1"));
	rc = suite_open_with("ps1", full, 1, &a, &err);
	is_int(rc, 0, "STORAGE_HOSTNAME as forklift's https://<host>/api/rest/ works: %s",
	       err.message);
	xc_array_close(a);
	snprintf(url, sizeof(url), "STORAGE_HOSTNAME=https://127.0.0.1:%d/rest_api/v1",
		 simarray_port(&sim, "ps1"));
	rc = suite_open_with("ps1", full, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_HOSTNAME"),
	   "another path in STORAGE_HOSTNAME is refused: %s", err.message);

	rc = suite_open_with("ps2", NULL, 0, &a, &err);
	is_int(rc, 0, "an array that sets no auth_cookie: Basic on every request: %s", err.message);
	struct xc_pv pv = {.name = "pvc-x", .volume_handle = VOL1_ID};
	struct xc_lun lun;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND, "and requests go through (%s)", err.message);
	xc_array_close(a);
}

static void test_config_errors(void)
{
	struct xc_array *a = NULL;
	struct xclone_error err = {0};
	int rc;

	const char *nouser[] = {"STORAGE_USERNAME="};
	rc = suite_open_with("ps1", nouser, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_USERNAME"), "missing user is named: %s",
	   err.message);
	const char *nopass[] = {"STORAGE_PASSWORD="};
	rc = suite_open_with("ps1", nopass, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_PASSWORD"),
	   "missing password is named: %s", err.message);
	const char *badpass[] = {"STORAGE_PASSWORD=not-the-password-42"};
	int logouts = simarray_count_requests(&sim, "ps1", "POST", "/logout");
	rc = suite_open_with("ps1", badpass, 1, &a, &err);
	ok(rc == XC_E_AUTH && !err.retryable && strstr(err.message, "STORAGE_PASSWORD") &&
		   strstr(err.message, "HTTP 401"),
	   "a wrong password: XC_E_AUTH naming the keys: %s", err.message);
	ok(strstr(err.message, "not-the-password-42") == NULL, "the password is not in the message");
	is_int(simarray_count_requests(&sim, "ps1", "POST", "/logout"), logouts,
	       "no logout without a session");
	const char *system_ca[] = {"STORAGE_CA_FILE="};
	rc = suite_open_with("ps1", system_ca, 1, &a, &err);
	ok(rc == XC_E_CONNECT && strstr(err.message, "not trusted"),
	   "a certificate from an unknown CA is refused: %s", err.message);
	const char *skip[] = {"STORAGE_CA_FILE=", "STORAGE_SKIP_SSL_VERIFICATION=true"};
	rc = suite_open_with("ps1", skip, 2, &a, &err);
	is_int(rc, 0, "STORAGE_SKIP_SSL_VERIFICATION=true connects anyway");
	xc_array_close(a);
	const char *closed[] = {"STORAGE_HOSTNAME=127.0.0.1:1"};
	rc = suite_open_with("ps1", closed, 1, &a, &err);
	ok(rc == XC_E_CONNECT, "a closed port is XC_E_CONNECT after retries: %s", err.message);
}

static void test_resolve(struct xc_array *a)
{
	struct xc_lun lun;
	struct xclone_error err = {0};
	struct xc_attr name_attr[] = {{"Name", VOL1}, {"Protocol", "scsi"}};
	struct xc_pv pv = {.name = "pvc-1111", .volume_handle = VOL1_ID "/" GID "/scsi"};
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	is_int(rc, 0, "resolve by csi-powerstore volume handle: %s", err.message);
	is_str(lun.name, VOL1, "resolved name");
	is_str(lun.id, VOL1_ID, "resolved id");
	is_str(lun.naa, VOL1_WWN, "resolved NAA id = the volume's wwn");
	is_str(lun.array_id, GID, "resolved array id = the cluster's global id");
	ok(lun.size_bytes == 10737418240ULL, "resolved size");

	pv.volume_handle = VOL1_ID;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, VOL1_ID) == 0, "a legacy handle (bare uuid)");

	pv.volume_handle = NULL;
	pv.attrs = name_attr;
	pv.n_attrs = 2;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, VOL1_ID) == 0, "resolve by volume attribute Name: %s",
	   rc ? err.message : lun.name);

	pv.volume_handle = "0b6f8bd8-ffff-4000-8000-00000000dead/" GID "/scsi";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, VOL1_ID) == 0,
	   "a handle of a volume that does not exist falls back to Name: %s", err.message);

	pv.volume_handle = VOL1_ID "/PS0000000001/scsi";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "PS0000000001") && strstr(err.message, GID),
	   "a handle of another array: not found, naming both arrays: %s", err.message);

	pv.volume_handle = VOL1_ID "/PS0000000001/scsi:" METRO_ID "/" GID;
	pv.n_attrs = 0;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, METRO_ID) == 0,
	   "a Metro handle whose remote side is this array: the remote volume: %s",
	   rc ? err.message : lun.name);

	pv.volume_handle = VOL1_ID "/" GID "/nfs";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_USAGE && strstr(err.message, "NFS"), "an NFS handle: refused: %s", err.message);

	pv.volume_handle = NULL;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_USAGE && strstr(err.message, "Name"),
	   "neither handle nor Name: says what is needed: %s", err.message);

	struct xc_attr other[] = {{"Name", VOL1}, {"arrayID", "PS0000000001"}};
	pv.attrs = other;
	pv.n_attrs = 2;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "arrayID"),
	   "attribute arrayID of another array: not found: %s", err.message);

	struct xc_attr caseonly[] = {{"Name", "csivol-case"}};
	pv.attrs = caseonly;
	pv.n_attrs = 1;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "csivol-case"),
	   "a name equal but for case is not the volume: %s", err.message);

	struct xc_attr hostile[] = {{"Name", "x'; $(rm -rf /) \"y\" \\ ünï&select=*"}};
	pv.attrs = hostile;
	pv.volume_handle = "a b&c=d?e#f";
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_USAGE, "a handle that is not a uuid is refused: %s", err.message);
	pv.volume_handle = NULL;
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == XC_E_NOT_FOUND, "a hostile Name is just not found: %s", err.message);
}

static cJSON *sim_host(const char *name)
{
	cJSON *hosts = simarray_array_part(&sim, "ps1", "hosts");
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
	int rc, posts;

	rc = xc_array_ensure_host(a, &req, &g, &err);
	is_int(rc, 0, "ensure host when none holds the initiators: %s", err.message);
	ok(strcmp(g.name, "esx-new") == 0 && g.kind == XC_GROUP_HOST, "created with the given name");
	ok(suite_has_initiator(&g, IQN_NEW) && suite_has_initiator(&g, WWPN_NEW),
	   "it holds the IQN and the WWPN (PowerStore's colon form)");
	cJSON *h = sim_host("esx-new");
	ok(h && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(h, "os_type")), "ESXi") == 0,
	   "os_type ESXi");
	cJSON_Delete(h);
	posts = simarray_count_requests(&sim, "ps1", "POST", "/api/rest/host");
	is_int(posts, 1, "one POST /host");

	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-new") == 0 &&
		   simarray_count_requests(&sim, "ps1", "POST", "/api/rest/host") == posts,
	   "ensure again: the same host, nothing sent");

	const char *existing[] = {"IQN.1998-01.com.VMware:esx-existing"};
	struct xc_host_request req2 = {.name = "other-name", .initiators = existing, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req2, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-existing") == 0 && sim_host("other-name") == NULL,
	   "a host holding the initiator is reused whatever its name (IQN case ignored): %s",
	   rc ? err.message : g.name);

	const char *part[] = {"iqn.1998-01.com.vmware:partial-1", "iqn.1998-01.com.vmware:partial-2"};
	struct xc_host_request req3 = {.name = "whatever", .initiators = part, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req3, &g, &err);
	ok(rc == 0 && strcmp(g.name, "partial") == 0 && g.n_initiators == 2 &&
		   suite_has_initiator(&g, part[1]),
	   "a host holding part of them is completed: %s", rc ? err.message : g.name);
	is_int(simarray_count_requests(&sim, "ps1", "PATCH", "/api/rest/host/"), 1,
	       "with one PATCH add_initiators");

	const char *split[] = {"iqn.1998-01.com.vmware:split-1", "iqn.1998-01.com.vmware:split-2"};
	struct xc_host_request req4 = {.name = "x", .initiators = split, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req4, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "h1") && strstr(err.message, "h2"),
	   "initiators split across two hosts: a conflict naming both: %s", err.message);

	const char *taken[] = {"iqn.1998-01.com.vmware:brand-new"};
	struct xc_host_request req5 = {.name = "esx-existing", .initiators = taken, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req5, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "esx-existing"),
	   "a name taken by a host holding none of them is a conflict (not silently reused): %s",
	   err.message);

	const char *member[] = {"iqn.1998-01.com.vmware:g1a"};
	struct xc_host_request req6 = {.name = "esx-g", .initiators = member, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req6, &g, &err);
	ok(rc == 0 && g.kind == XC_GROUP_HOST_SET && strcmp(g.name, "hg1") == 0 &&
		   g.n_initiators == 2,
	   "a host in a host group: the group is what gets mapped (%s, %zu initiators)",
	   rc ? err.message : g.name, g.n_initiators);

	const char *bad[] = {"iqn.1998-01.com.vmware:ok", "not an initiator; $(x)"};
	struct xc_host_request req7 = {.name = "esx-bad", .initiators = bad, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req7, &g, &err);
	ok(rc == XC_E_USAGE && sim_host("esx-bad") == NULL,
	   "a bad initiator is refused before any change: %s", err.message);

	const char *unnamed[] = {"nqn.2014-08.org.nvmexpress:uuid:5c0ffee0-0000-4000-8000-0000000000aa"};
	struct xc_host_request req8 = {.name = NULL, .initiators = unnamed, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req8, &g, &err);
	ok(rc == 0 && strncmp(g.name, "xclone-", 7) == 0 && suite_has_initiator(&g, unnamed[0]),
	   "an NVMe host, without a name: xclone-<hash>: %s", rc ? err.message : g.name);

	const char *lost[] = {"iqn.1998-01.com.vmware:lost-create"};
	struct xc_host_request req9 = {.name = "esx-lost", .initiators = lost, .n_initiators = 1};
	posts = simarray_count_requests(&sim, "ps1", "POST", "/api/rest/host");
	simarray_fault(&sim, "{\"array\": \"ps1\", \"method\": \"POST\", \"path\": \"/api/rest/host$\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_ensure_host(a, &req9, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-lost") == 0,
	   "create host whose answer is lost: success after checking: %s", err.message);
	is_int(simarray_count_requests(&sim, "ps1", "POST", "/api/rest/host"), posts + 1,
	       "and it was not sent twice");

	const char *lost2[] = {"iqn.1998-01.com.vmware:lost-create", "iqn.1998-01.com.vmware:lost-2"};
	struct xc_host_request req10 = {.name = "esx-lost", .initiators = lost2, .n_initiators = 2};
	simarray_fault(&sim, "{\"array\": \"ps1\", \"method\": \"PATCH\", \"action\": \"drop\"}");
	rc = xc_array_ensure_host(a, &req10, &g, &err);
	ok(rc == 0 && g.n_initiators == 2 &&
		   simarray_count_requests(&sim, "ps1", "PATCH", "/api/rest/host/") == 3,
	   "add initiators whose connection drops: checked, sent again: %s", err.message);

	suite_case_hosts_listed(
		a,
		&(struct suite_hosts_expect){
			.min_n = 11,
			.max_n = SIZE_MAX,
			.kind = XC_GROUP_HOST_SET,
			.group = "hg1",
			.n_initiators = 2,
			.name = "hosts lists hosts and host groups with their members' initiators"});
}

static void test_map_cycle(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-1111", .volume_handle = VOL1_ID "/" GID "/scsi"};
	struct xc_lun lun;
	struct xc_mapping_list before, after;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xclone_error err = {0};
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &before, &err);
	ok(rc == 0 && before.n == 1 && strcmp(before.items[0].group, "k8s-node1") == 0 &&
		   before.items[0].lun_id == 7,
	   "mappings before: host k8s-node1 at LUN 7: %s", err.message);
	ok(simarray_fabric_has(&sim, IQN_K8S, VOL1_WWN) && !simarray_fabric_has(&sim, IQN_NEW, VOL1_WWN),
	   "fabric: presented to the k8s node, not to the ESXi host");

	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == 1, "map to the ESXi host: LUN %ld %s", got.lun_id, err.message);
	ok(simarray_fabric_has(&sim, IQN_NEW, VOL1_WWN) && simarray_fabric_has(&sim, FC_NEW, VOL1_WWN),
	   "fabric: the LUN is presented to the host's IQN and FC port");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == 1, "map twice: success, same LUN");
	is_int(suite_mapping_count("ps1", VOL1_ID), 2, "map twice: one mapping, not two");
	is_int(simarray_count_requests(&sim, "ps1", "POST", "/attach"), 1, "and one attach call");

	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, IQN_NEW, VOL1_WWN) &&
		   !simarray_fabric_has(&sim, FC_NEW, VOL1_WWN),
	   "unmap: gone from the host: %s", err.message);
	is_int(xc_array_unmap(a, &lun, &target, &err), 0, "unmap twice: success");

	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after), "mappings after the cycle equal those before");
	xc_mapping_list_free(&after);

	ok(xc_array_unmap(a, &lun, &before.items[0], &err) == 0 &&
		   !simarray_fabric_has(&sim, IQN_K8S, VOL1_WWN),
	   "take the original mapping away");
	rc = xc_array_restore_mappings(a, &lun, &before, &err);
	is_int(rc, 0, "restore mappings: %s", err.message);
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after) && simarray_fabric_has(&sim, IQN_K8S, VOL1_WWN),
	   "restored exactly (LUN 7 again) and presented again");
	xc_mapping_list_free(&after);
	xc_mapping_list_free(&before);

	struct xc_mapping hg = {.kind = XC_GROUP_HOST_SET, .group = "hg1", .lun_id = -1};
	rc = xc_array_map(a, &lun, &hg, &got, &err);
	ok(rc == 0 && got.lun_id == 1 &&
		   simarray_fabric_has(&sim, "iqn.1998-01.com.vmware:g1a", VOL1_WWN) &&
		   simarray_fabric_has(&sim, "iqn.1998-01.com.vmware:g1b", VOL1_WWN),
	   "map to a host group: every member sees it: %s", err.message);
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && after.n == 2 && xc_mapping_list_find(&after, XC_GROUP_HOST_SET, "hg1"),
	   "the group mapping is listed as a host-set");
	xc_mapping_list_free(&after);
	ok(xc_array_unmap(a, &lun, &hg, &err) == 0 &&
		   !simarray_fabric_has(&sim, "iqn.1998-01.com.vmware:g1a", VOL1_WWN),
	   "unmap the host group");

	struct xc_mapping member = {.kind = XC_GROUP_HOST, .group = "g1a", .lun_id = -1};
	rc = xc_array_map(a, &lun, &member, &got, &err);
	ok(rc != 0 && strstr(err.message, "host group") && suite_mapping_count("ps1", VOL1_ID) == 1,
	   "attach to a member of a host group: the array's refusal, nothing left: %s", err.message);

	struct xc_mapping nohost = {.kind = XC_GROUP_HOST, .group = "no-such-host", .lun_id = -1};
	rc = xc_array_map(a, &lun, &nohost, &got, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "no-such-host"),
	   "map to an unknown host: not found: %s", err.message);
	is_int(xc_array_unmap(a, &lun, &nohost, &err), 0, "unmap from an unknown host: nothing to do");
}

/* delete_host: the common contract on a host made for fresh initiators, plus
 * PowerStore's own rules: a host group is never deleted (ensure_host makes hosts
 * only), and a member host is in use while its group is mapped. */
static void test_delete_host(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-2222", .volume_handle = VOL2_ID "/" GID "/scsi"};
	const char *fresh[] = {"iqn.1998-01.com.vmware:esx-del-5e6f7a8b",
			       "nqn.2014-08.org.nvmexpress:uuid:5c0ffee0-0000-4000-8000-0000000000de"};
	struct xc_mapping hg = {.kind = XC_GROUP_HOST_SET, .group = "hg1", .lun_id = -1};
	struct xc_host_group g = {.kind = XC_GROUP_HOST_SET};
	struct xc_lun lun;
	struct xclone_error err = {0};
	int rc;

	rc = xc_array_resolve(a, &pv, &lun, &err);
	if (!ok(rc == 0, "delete_host: resolve %s: %s", VOL2, err.message))
		return;
	suite_case_delete_host(a, &lun, "esx-del", fresh, 2);
	ok(simarray_count_requests(&sim, "ps1", "DELETE", "/api/rest/host/") >= 2,
	   "deleted with DELETE /api/rest/host/<id>");

	/* a volume attached by someone else between the check and the DELETE */
	const char *race[] = {"iqn.1998-01.com.vmware:esx-race-9c8d7e6f"};
	struct xc_host_request rq = {"esx-race", race, 1};
	rc = xc_array_ensure_host(a, &rq, &g, &err);
	suite_fault("ps1", "\"method\": \"DELETE\"", "\"action\": \"status\", \"status\": 422");
	rc = rc ? rc : xc_array_delete_host(a, &g, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "HTTP 422") && suite_host_listed(a, "esx-race"),
	   "the array's own 422 refusal is XC_E_CONFLICT: %s", err.message);
	ok(xc_array_delete_host(a, &g, &err) == 0, "and deleted once the array agrees");

	g.kind = XC_GROUP_HOST_SET;
	snprintf(g.name, sizeof(g.name), "hg1");
	rc = xc_array_delete_host(a, &g, &err);
	ok(rc == XC_E_USAGE && suite_host_listed(a, "hg1") == 1,
	   "a host group is not deleted (xclone makes hosts only): %s", err.message);

	rc = xc_array_map(a, &lun, &hg, NULL, &err);
	g.kind = XC_GROUP_HOST;
	snprintf(g.name, sizeof(g.name), "g1a");
	rc = rc ? rc : xc_array_delete_host(a, &g, &err);
	ok(rc == XC_E_CONFLICT && suite_host_listed(a, "g1a") == 1,
	   "a member host while its group is mapped: XC_E_CONFLICT, kept: %s", err.message);
	ok(xc_array_unmap(a, &lun, &hg, &err) == 0, "unmap the host group again");
}

static void test_lun_numbers(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-3"};
	struct xc_attr attr[] = {{"Name", VOL3}};
	struct xc_lun lun;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xc_mapping fixed = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = 42};
	struct xc_mapping_list now;
	struct xclone_error err = {0};
	int rc;

	pv.attrs = attr;
	pv.n_attrs = 1;
	/* the array's own counter has run past what ESXi scans by default */
	simarray_seed(&sim, "{\"arrays\": {\"ps1\": {\"next_lun\": 1500, \"mappings\": ["
			    "{\"volume\": \"" VOL3 "\", \"host\": \"k8s-node1\"}]}}}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &now, &err);
	ok(rc == 0 && now.n == 1 && now.items[0].lun_id >= 1024,
	   "left to itself the array numbers LUNs past ESXi's Disk.MaxLUN (%ld)",
	   now.n ? now.items[0].lun_id : -1);
	xc_mapping_list_free(&now);
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id >= 1 && got.lun_id < 1024,
	   "the driver picks the lowest free LUN for the host: %ld (%s)", got.lun_id, err.message);
	xc_array_unmap(a, &lun, &target, &err);
	rc = xc_array_map(a, &lun, &fixed, &got, &err);
	ok(rc == 0 && got.lun_id == 42, "a given LUN number is used: %ld", got.lun_id);
	xc_array_unmap(a, &lun, &fixed, &err);
}

static void test_faults(struct xc_array *a)
{
	struct xc_pv pv = {.name = "pvc-2", .volume_handle = VOL2_ID "/" GID "/scsi"};
	struct xc_lun lun;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xc_mapping_list now;
	struct xc_http_stats s0, s1;
	struct xclone_error err = {0};
	int rc, attaches;

	xc_array_http_stats(a, &s0);
	simarray_fault(&sim, "{\"array\": \"ps1\", \"method\": \"GET\", \"path\": \"/volume/\","
			     " \"action\": \"expire_session\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && s1.relogins == s0.relogins + 1,
	   "session expired mid-run (401): logged in again and went on: %s", err.message);

	xc_array_http_stats(a, &s0);
	simarray_fault(&sim, "{\"array\": \"ps1\", \"method\": \"POST\", \"path\": \"/attach\","
			     " \"action\": \"status\", \"status\": 403, \"message\": \"Forbidden.\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && s1.relogins == s0.relogins + 1 && simarray_fabric_has(&sim, IQN_NEW, lun.naa),
	   "a stale CSRF token (403) on attach: logged in again, attached: %s", err.message);
	xc_array_unmap(a, &lun, &target, &err);

	suite_case_429(a, &(struct suite_read_target){
				  "ps1", &pv, "\"method\": \"GET\", \"path\": \"/volume/\""});

	suite_case_503_twice(a, &(struct suite_read_target){"ps1", &pv, "\"method\": \"GET\""}, NULL);

	simarray_fault(&sim, "{\"array\": \"ps1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 502, \"times\": 100, \"message\": \"gateway down\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_REMOTE && strstr(err.message, "HTTP 502") && strstr(err.message, "gateway down") &&
		   err.retryable && err.remote_code[0] != '\0',
	   "a 5xx that persists: a clear error with the array's message and code: %s (%s)",
	   err.message, err.remote_code);

	simarray_fault(&sim, "{\"array\": \"ps1\", \"method\": \"GET\", \"action\": \"drop\","
			     " \"times\": 2}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc == 0 && simarray_faults_left(&sim) == 0, "dropped connections on a read: sent again: %s",
	   rc ? err.message : "ok");

	attaches = simarray_count_requests(&sim, "ps1", "POST", "/attach");
	simarray_fault(&sim, "{\"array\": \"ps1\", \"method\": \"POST\", \"path\": \"/attach\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id >= 1 && simarray_fabric_has(&sim, IQN_NEW, lun.naa),
	   "attach whose response is lost: success, LUN %ld: %s", got.lun_id, err.message);
	is_int(simarray_count_requests(&sim, "ps1", "POST", "/attach"), attaches + 1,
	       "the lost attach was checked, not sent again");

	int detaches = simarray_count_requests(&sim, "ps1", "POST", "/detach");
	simarray_fault(&sim, "{\"array\": \"ps1\", \"method\": \"POST\", \"path\": \"/detach\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, IQN_NEW, lun.naa) &&
		   simarray_count_requests(&sim, "ps1", "POST", "/detach") == detaches + 2,
	   "detach whose response is lost: resent, 'not attached' is success, and gone: %s",
	   err.message);

	attaches = simarray_count_requests(&sim, "ps1", "POST", "/attach");
	simarray_fault(&sim, "{\"array\": \"ps1\", \"method\": \"POST\", \"path\": \"/attach\","
			     " \"action\": \"drop\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && simarray_fabric_has(&sim, IQN_NEW, lun.naa),
	   "attach whose connection drops before the array acts: checked, sent again: %s",
	   err.message);
	is_int(simarray_count_requests(&sim, "ps1", "POST", "/attach"), attaches + 2,
	       "the dropped attach was sent again once");
	xc_array_unmap(a, &lun, &target, &err);

	simarray_fault(&sim, "{\"array\": \"ps1\", \"method\": \"POST\", \"path\": \"/attach\","
			     " \"action\": \"status\", \"status\": 500}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && simarray_fabric_has(&sim, IQN_NEW, lun.naa),
	   "attach answered 500: checked (not applied), sent again: %s", err.message);
	xc_array_unmap(a, &lun, &target, &err);

	simarray_fault(&sim, "{\"array\": \"ps1\", \"method\": \"POST\", \"path\": \"/attach\","
			     " \"action\": \"status\", \"status\": 503, \"times\": 100}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_REMOTE && strstr(err.message, "HTTP 503"),
	   "attach refused every time: clear error: %s", err.message);
	rc = xc_array_mappings(a, &lun, &now, &err);
	ok(rc == 0 && now.n == 0 && !simarray_fabric_has(&sim, IQN_NEW, lun.naa),
	   "and nothing half done");
	xc_mapping_list_free(&now);

	simarray_fault_message(&sim, "ps1", "GET", 400, "no user admin with " PASSWORD);
	rc = xc_array_resolve(a, &pv, &lun, &err);
	ok(rc != 0 && strstr(err.message, PASSWORD) == NULL && strstr(err.message, "***") != NULL,
	   "the password echoed by the array is redacted: %s", err.message);
}

static void test_timeouts(void)
{
	struct xc_pv pv = {.name = "pvc-2", .volume_handle = VOL2_ID};
	struct suite_timeouts t = {
		.array = "ps1",
		.pv = &pv,
		.slow_once = "\"method\": \"GET\", \"path\": \"/volume/\"",
		.slow_always = "\"method\": \"GET\", \"path\": \"/volume/\"",
	};

	suite_case_timeouts(&t);
}

int main(void)
{
	const char *arrays[] = {"powerstore:ps1", "powerstore:ps2"};
	struct xc_array *a = NULL;
	struct xclone_error err = {0};

	suite_start(&powerstore, arrays, 2);
	seed();
	test_ids();
	test_open_info();
	test_config_errors();
	if (!ok(suite_open_with("ps1", NULL, 0, &a, &err) == 0, "open ps1: %s", err.message))
		return tap_done();
	test_resolve(a);
	test_ensure_host(a);
	test_map_cycle(a);
	test_delete_host(a);
	test_lun_numbers(a);
	test_faults(a);
	suite_case_paging_and_reuse(a, "ps1", 6,
				    "hosts in pages of 2 (206 + Content-Range) are read to the end",
				    "40 requests on one kept-alive connection");
	xc_array_close(a);
	test_timeouts();
	return tap_done();
}
