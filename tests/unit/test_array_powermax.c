/*
 * The Dell PowerMax driver end to end against the array simulator: Unisphere
 * version choice, resolve by csi-powermax volume handle and by PV name, ensure
 * host (new, existing, partial, split) within the port group's protocol, map and
 * unmap through xclone's own storage group + masking view (reused after an
 * interrupted run, others' objects never touched), restore, the SAN fabric, and
 * every fault class.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "array.h"
#include "http.h"
#include "secret.h"
#include "tap.h"
#include "vendors.h"

#include "array_suite.h"

#define PASSWORD "pa ss'w\"rd$(x);\\"
#define PASSWORD_JSON "pa ss'w\\\"rd$(x);\\\\"
#define VOL1_DEV "0012D"
#define VOL1_NAME "csi-ABC-pmax-4723028a00-ns1"
#define FC_NEW "fc.20000025b5aa0001:20000025b5aa0002"
#define WWPN_NEW "20000025b5aa0002"
#define IQN_NEW "iqn.1998-01.com.vmware:esx-new-1a2b3c4d"
#define FC_K8S "fc.20000025b5bb0001:20000025b5bb0002"
#define FC_G1A "fc.20000025b5cc0001:20000025b5cc0002"
#define FC_G1B "fc.20000025b5cc0003:20000025b5cc0004"

static char sym[32];      /* pm1's array id, read from the simulator */

/* Every secret names pm1's symmetrix id, read from the simulator once seeded. */
static void powermax_sym_key(const char *array, char *kv, size_t size)
{
	(void)array;
	snprintf(kv, size, "POWERMAX_SYMMETRIX_ID=%s", sym);
}

static const char *const powermax_secret[] = {"STORAGE_USERNAME=smc", "STORAGE_PASSWORD=" PASSWORD,
					       "POWERMAX_PORT_GROUP_NAME=PG_FC"};
static const struct suite_vendor powermax = {
	.product = "powermax",
	.secret = powermax_secret,
	.n_secret = 3,
	.array_key = powermax_sym_key};

static void read_sym(const char *array, char *out, size_t size)
{
	cJSON *id = simarray_array_part(&sim, array, "id");

	snprintf(out, size, "%s", cJSON_GetStringValue(id) ? cJSON_GetStringValue(id) : "");
	cJSON_Delete(id);
}

static void seed(void)
{
	char json[8192];
	int n = snprintf(
		json, sizeof(json),
		"{\"fabric_logins\": [\"" FC_NEW "\"],"
		" \"arrays\": {"
		" \"pm1\": {\"users\": [{\"name\": \"smc\", \"password\": \"" PASSWORD_JSON "\"}],"
		"  \"volumes\": [{\"id\": \"" VOL1_DEV "\", \"name\": \"" VOL1_NAME "\", \"size\": 10737418240},"
		"   {\"id\": \"0012E\", \"name\": \"csi-ABC-pvc-22222222\", \"size\": 1073741824},"
		"   {\"id\": \"0012F\", \"name\": \"csi-ABC-pvc-dup\", \"size\": 1048576},"
		"   {\"id\": \"00130\", \"name\": \"csi-XY-pvc-dup-ns2\", \"size\": 1048576},"
		"   {\"id\": \"00131\", \"name\": \"csi-ABC-pvc-fault\", \"size\": 2097152},"
		"   {\"id\": \"00132\", \"name\": \"csi-ABC-pvc-metro\", \"size\": 2097152,"
		"    \"effective_wwn\": \"60000970000120000999533030303939\"},"
		"   {\"id\": \"00133\", \"name\": \"csi-ABC-pvc-page-1\", \"size\": 1048576},"
		"   {\"id\": \"00134\", \"name\": \"csi-ABC-pvc-page-10\", \"size\": 1048576},"
		"   {\"id\": \"00135\", \"name\": \"csi-ABC-pvc-page-11\", \"size\": 1048576},"
		"   {\"id\": \"00136\", \"name\": \"csi-ABC-pvc-page-12\", \"size\": 1048576},"
		"   {\"id\": \"00137\", \"name\": \"csi-ABC-pvc-reuse\", \"size\": 1048576}],"
		"  \"hosts\": [{\"name\": \"k8s-node1\", \"initiators\": [\"" FC_K8S "\"]},"
		"   {\"name\": \"esx-existing\", \"initiators\": [\"21:00:00:24:FF:3A:00:01\"]},"
		"   {\"name\": \"partial\", \"initiators\": [\"fc.20000025b5dd0001:21000024ff3a0002\"]},"
		"   {\"name\": \"h1\", \"initiators\": [\"21000024ff3a0003\"]},"
		"   {\"name\": \"h2\", \"initiators\": [\"21000024ff3a0004\"]},"
		"   {\"name\": \"g1a\", \"initiators\": [\"" FC_G1A "\"]},"
		"   {\"name\": \"g1b\", \"initiators\": [\"" FC_G1B "\"]}],"
		"  \"host_groups\": [{\"name\": \"hg1\", \"hosts\": [\"g1a\", \"g1b\"]}],"
		"  \"mappings\": [{\"volume\": \"" VOL1_NAME "\", \"host\": \"k8s-node1\", \"lun\": 7}]},"
		" \"pm2\": {\"users\": [{\"name\": \"smc\", \"password\": \"" PASSWORD_JSON "\"}],"
		"  \"api_versions\": [\"104\", \"103\", \"100\"]}"
		"}}");

	if (!ok(n > 0 && (size_t)n < sizeof(json) && simarray_seed(&sim, json) == 0,
		"seed the simulator"))
		exit(tap_done());
	read_sym("pm1", sym, sizeof(sym));
	ok(strlen(sym) == 12, "the simulated array has a 12-digit id: %s", sym);
}

/* A request to the simulator as another Unisphere user would send it. */
static long admin_request(enum xc_http_method method, const char *resource)
{
	struct xc_http *h = NULL;
	struct xc_http_request req = {.method = method, .idempotent = 1};
	struct xc_http_response resp = {0};
	struct xclone_error err;
	char url[64], path[512];
	long status = -1;

	snprintf(url, sizeof(url), "https://127.0.0.1:%d", simarray_port(&sim, "pm1"));
	snprintf(path, sizeof(path), "/univmax/restapi/100/sloprovisioning/symmetrix/%s/%s", sym,
		 resource);
	struct xc_http_options o = {.base_url = url, .verify_tls = 1, .ca_file = sim.ca_file};
	if (xc_http_open(&h, &o, &err) == 0 && xc_http_set_basic_auth(h, "smc", PASSWORD, &err) == 0) {
		req.path = path;
		if (xc_http_send(h, &req, &resp, &err) == 0)
			status = resp.status;
	}
	xc_http_response_free(&resp);
	xc_http_close(h);
	return status;
}

/* Whether the simulated array has an object (storage_groups, masking_views, hosts). */
static int sim_has(const char *what, const char *name)
{
	cJSON *part = simarray_array_part(&sim, "pm1", what);
	int has = cJSON_GetObjectItem(part, name) != NULL;

	cJSON_Delete(part);
	return has;
}

static void test_ids(void)
{
	struct xc_powermax_handle h;
	struct xclone_error err;
	char naa[64], mv[80], sg[80], mv2[80], sg2[80];

	ok(xc_powermax_naa("60000970000197900046533030324538", naa, sizeof(naa), &err) == 0 &&
		   strcmp(naa, "naa.60000970000197900046533030324538") == 0,
	   "NAA: naa. + the WWN (gopowermax's sample)");
	ok(xc_powermax_naa("6000097000019790004653303032453", naa, sizeof(naa), &err) == XC_E_PROTOCOL,
	   "NAA: a 31-digit WWN is refused");
	ok(xc_powermax_naa("6000097000019790004653303032453G", naa, sizeof(naa), &err) ==
		   XC_E_PROTOCOL,
	   "NAA: a non-hex WWN is refused");

	ok(xc_powermax_parse_handle("csi-ABC-pmax-260602731A-ns1-nsx-000120000548-011AB", &h, &err) == 0 &&
		   strcmp(h.identifier, "csi-ABC-pmax-260602731A-ns1-nsx") == 0 &&
		   strcmp(h.sym, "000120000548") == 0 && strcmp(h.dev, "011AB") == 0 &&
		   h.remote_sym[0] == '\0',
	   "handle: identifier, array, device (csi-powermax's example)");
	ok(xc_powermax_parse_handle("csi-ZYA-pmax-4723028a00-powermax-000120000606-0012d", &h, &err) == 0 &&
		   strcmp(h.dev, "0012D") == 0,
	   "handle: device id upper-cased");
	ok(xc_powermax_parse_handle("csi-A-x-000120000548:000120000999-011AB:022CD", &h, &err) == 0 &&
		   strcmp(h.remote_sym, "000120000999") == 0 && strcmp(h.remote_dev, "022CD") == 0 &&
		   strcmp(h.dev, "011AB") == 0,
	   "handle: SRDF pair array:remote-device:remote");
	ok(xc_powermax_parse_handle("csi-A-x-000120000548-011AB:022CD", &h, &err) == XC_E_USAGE,
	   "handle: a remote device without a remote array is refused");
	ok(xc_powermax_parse_handle("pvc-1234", &h, &err) == XC_E_USAGE &&
		   xc_powermax_parse_handle("csi-A-x-12345-011AB", &h, &err) == XC_E_USAGE &&
		   xc_powermax_parse_handle("csi-A-x-000120000548-11AB", &h, &err) == XC_E_USAGE &&
		   xc_powermax_parse_handle("", &h, &err) == XC_E_USAGE,
	   "handle: other shapes are not csi-powermax handles");

	xc_powermax_object_names("esx01", "0012D", mv, sizeof(mv), sg, sizeof(sg));
	ok(strcmp(mv, "xclone-0012D-esx01") == 0 && strcmp(sg, "xclone-0012D-esx01-SG") == 0,
	   "object names: xclone-<device>-<host>[-SG]");
	const char *long_host = "esx-a-very-long-host-name-from-a-fully-qualified-domain-name-01";
	xc_powermax_object_names(long_host, "0012D", mv, sizeof(mv), sg, sizeof(sg));
	xc_powermax_object_names("esx-a-very-long-host-name-from-a-fully-qualified-domain-name-02",
				 "0012D", mv2, sizeof(mv2), sg2, sizeof(sg2));
	ok(strlen(sg) == 64 && strncmp(mv, "xclone-0012D-esx-a-very", 23) == 0 && strcmp(sg, sg2) != 0,
	   "object names: a long host name is cut to 64 characters with a hash (%s)", sg);
	xc_powermax_object_names(long_host, "0012D", mv2, sizeof(mv2), sg2, sizeof(sg2));
	ok(strcmp(mv, mv2) == 0, "object names: stable, so an interrupted run finds its objects");
}

static void test_open_info(void)
{
	struct xc_array *a = NULL;
	struct xc_array_info info;
	struct xclone_error err = {0};
	char url[128], sym2[32];
	int rc;

	rc = suite_open_with("pm1", NULL, 0, &a, &err);
	is_int(rc, 0, "open: %s", err.message);
	if (rc)
		exit(tap_done());
	rc = xc_array_info(a, &info, &err);
	ok(rc == 0 && strcmp(info.vendor, "Dell") == 0 && strcmp(info.product, "powermax") == 0 &&
		   strcmp(info.model, "PowerMax_8500") == 0 && strstr(info.version, "6079.175") &&
		   strcmp(info.array_id, sym) == 0,
	   "info: Dell, powermax, model, PowerMaxOS version, array id (%s)", info.version);
	is_str(info.api_version, "101", "the highest REST version offered (101 of 101/100/92)");
	xc_array_close(a);

	read_sym("pm2", sym2, sizeof(sym2));
	char symkv[64];
	snprintf(symkv, sizeof(symkv), "POWERMAX_SYMMETRIX_ID=%s", sym2);
	const char *pm2[] = {symkv};
	rc = suite_open_with("pm2", pm2, 1, &a, &err);
	ok(rc == 0 && xc_array_info(a, &info, &err) == 0 && strcmp(info.api_version, "103") == 0,
	   "a newer Unisphere: the newest version read (103 of 104/103/100): %s", err.message);
	xc_array_close(a);

	snprintf(url, sizeof(url), "STORAGE_HOSTNAME=https://127.0.0.1:%d/univmax/restapi/",
		 simarray_port(&sim, "pm1"));
	const char *asurl[] = {url};
	rc = suite_open_with("pm1", asurl, 1, &a, &err);
	is_int(rc, 0, "STORAGE_HOSTNAME as the REST root URL works: %s", err.message);
	xc_array_close(a);
}

static void test_config_errors(void)
{
	struct xc_array *a = NULL;
	struct xclone_error err = {0};
	int rc;

	const char *nosym[] = {"POWERMAX_SYMMETRIX_ID="};
	rc = suite_open_with("pm1", nosym, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "POWERMAX_SYMMETRIX_ID"),
	   "missing POWERMAX_SYMMETRIX_ID is named: %s", err.message);
	const char *badsym[] = {"POWERMAX_SYMMETRIX_ID=0001979'; x"};
	rc = suite_open_with("pm1", badsym, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "12-digit"), "a malformed array id: %s",
	   err.message);
	const char *othersym[] = {"POWERMAX_SYMMETRIX_ID=000197000000"};
	rc = suite_open_with("pm1", othersym, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "000197000000") &&
		   strstr(err.message, "POWERMAX_SYMMETRIX_ID"),
	   "an array this Unisphere does not manage: %s", err.message);
	const char *nopg[] = {"POWERMAX_PORT_GROUP_NAME="};
	rc = suite_open_with("pm1", nopg, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "POWERMAX_PORT_GROUP_NAME"),
	   "missing POWERMAX_PORT_GROUP_NAME is named: %s", err.message);
	const char *badpg[] = {"POWERMAX_PORT_GROUP_NAME=no such/pg?"};
	rc = suite_open_with("pm1", badpg, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "no such/pg?"),
	   "an unknown port group is named: %s", err.message);
	const char *nouser[] = {"STORAGE_USERNAME="};
	rc = suite_open_with("pm1", nouser, 1, &a, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "STORAGE_USERNAME"), "missing user is named: %s",
	   err.message);
	const char *badpass[] = {"STORAGE_PASSWORD=wrong " PASSWORD};
	rc = suite_open_with("pm1", badpass, 1, &a, &err);
	ok(rc == XC_E_AUTH && !err.retryable && strstr(err.message, PASSWORD) == NULL &&
		   strstr(err.message, "STORAGE_PASSWORD"),
	   "a wrong password: XC_E_AUTH naming the keys, not the value: %s", err.message);
}

static void test_resolve(struct xc_array *a)
{
	struct xc_lun lun;
	struct xclone_error err = {0};
	char handle[256];
	int rc;

	snprintf(handle, sizeof(handle), VOL1_NAME "-%s-" VOL1_DEV, sym);
	struct xc_pv pv = {.name = "pmax-4723028a00", .volume_handle = handle};
	rc = xc_array_resolve(a, &pv, &lun, &err);
	is_int(rc, 0, "resolve by volume handle: %s", err.message);
	is_str(lun.name, VOL1_NAME, "name: the volume_identifier");
	is_str(lun.id, VOL1_DEV, "id: the device id");
	is_str(lun.array_id, sym, "array id: the symmetrix id");
	ok(strncmp(lun.naa, "naa.6000097", 11) == 0 && strlen(lun.naa) == 36 &&
		   strcasecmp(lun.naa + 4, lun.serial) == 0,
	   "NAA: naa. + WWN (%s)", lun.naa);
	ok(lun.size_bytes >= 10737418240ULL && lun.size_bytes % (15 * 128 * 1024) == 0 &&
		   lun.size_bytes - 10737418240ULL < 15 * 128 * 1024,
	   "size: whole cylinders (%llu)", lun.size_bytes);

	struct xc_attr attr = {"powermax/SYMID", "000120000999"};
	struct xc_pv other_attr = {.name = "pmax-x", .attrs = &attr, .n_attrs = 1};
	rc = xc_array_resolve(a, &other_attr, &lun, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "000120000999"),
	   "a PV whose volume context names another array: %s", err.message);

	struct xc_pv other = {.name = "pmax-x",
			      .volume_handle = "csi-ABC-pmax-x-000120000999-0012D"};
	rc = xc_array_resolve(a, &other, &lun, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "000120000999") &&
		   strstr(err.message, "POWERMAX_SYMMETRIX_ID"),
	   "a handle of another array: %s", err.message);

	snprintf(handle, sizeof(handle), "csi-ABC-pvc-srdf-000120000999:%s-0AAAA:0012E", sym);
	struct xc_pv srdf = {.name = "pvc-srdf", .volume_handle = handle};
	rc = xc_array_resolve(a, &srdf, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, "0012E") == 0,
	   "an SRDF handle whose remote side is this array: the remote device: %s",
	   rc ? err.message : lun.id);

	snprintf(handle, sizeof(handle), "csi-ABC-pvc-gone-%s-0012E", sym);
	struct xc_pv reused = {.name = "pvc-gone", .volume_handle = handle};
	rc = xc_array_resolve(a, &reused, &lun, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "csi-ABC-pvc-22222222"),
	   "a device id reused by another volume is refused: %s", err.message);

	snprintf(handle, sizeof(handle), "csi-ABC-pvc-none-%s-0FFFF", sym);
	struct xc_pv missing = {.name = "pvc-none", .volume_handle = handle};
	rc = xc_array_resolve(a, &missing, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "0FFFF"), "an unknown device: %s",
	   err.message);

	struct xc_pv byname = {.name = "pvc-22222222"};
	rc = xc_array_resolve(a, &byname, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, "0012E") == 0, "resolve by PV name (csi-<prefix>-<pv name>): %s",
	   rc ? err.message : lun.id);
	struct xc_pv bad_handle = {.name = "pvc-22222222", .volume_handle = "not a handle"};
	rc = xc_array_resolve(a, &bad_handle, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, "0012E") == 0, "a handle of another shape: by PV name");

	struct xc_pv dup = {.name = "pvc-dup"};
	rc = xc_array_resolve(a, &dup, &lun, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "2 volumes"),
	   "two volumes named for the PV (with and without namespace): %s", err.message);

	struct xc_pv metro = {.name = "pvc-metro"};
	rc = xc_array_resolve(a, &metro, &lun, &err);
	is_str(lun.naa, "naa.60000970000120000999533030303939",
	       "a device with an effective WWN: ESXi sees that one");

	simarray_seed(&sim, "{\"arrays\": {\"pm1\": {\"page_size\": 1}}}");
	struct xc_pv paged = {.name = "pvc-page-1"};
	rc = xc_array_resolve(a, &paged, &lun, &err);
	ok(rc == 0 && strcmp(lun.id, "00133") == 0 &&
		   simarray_count_requests(&sim, "pm1", "GET", "/common/Iterator/") == 3 &&
		   simarray_count_requests(&sim, "pm1", "DELETE", "/common/Iterator/") == 1,
	   "a volume list in pages of one: iterator followed, then deleted: %s",
	   rc ? err.message : lun.id);
	simarray_seed(&sim, "{\"arrays\": {\"pm1\": {\"page_size\": null}}}");

	struct xc_pv absent = {.name = "pvc-absent"};
	rc = xc_array_resolve(a, &absent, &lun, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "pvc-absent"),
	   "a missing volume: XC_E_NOT_FOUND naming the PV: %s", err.message);

	struct xc_pv hostile = {.name = "pvc-'; $(rm -rf /) \"x\" \\ ünïcode <like>%",
				.volume_handle = "a b&c=d?e#f"};
	rc = xc_array_resolve(a, &hostile, &lun, &err);
	ok(rc == XC_E_NOT_FOUND, "hostile PV name and handle are just not found: %s", err.message);
}

static void test_ensure_host(struct xc_array *a)
{
	struct xc_host_group g;
	struct xclone_error err = {0};
	const char *fresh[] = {IQN_NEW, FC_NEW};
	struct xc_host_request req = {.name = "esx-new", .initiators = fresh, .n_initiators = 2};
	int rc, posts;

	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-new") == 0 && g.kind == XC_GROUP_HOST &&
		   g.n_initiators == 1 && suite_has_initiator(&g, WWPN_NEW),
	   "a new host is created with the port group's protocol only (FC, not the IQN): %s",
	   rc ? err.message : g.name);
	posts = simarray_count_requests(&sim, "pm1", "POST", "/host");
	rc = xc_array_ensure_host(a, &req, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-new") == 0 &&
		   simarray_count_requests(&sim, "pm1", "POST", "/host") == posts,
	   "ensure again: the same host, nothing created");

	const char *existing[] = {"fc.20000025b5dd0009:21000024FF3A0001"};
	struct xc_host_request req2 = {.name = "other", .initiators = existing, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req2, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-existing") == 0 && !sim_has("hosts", "other"),
	   "a host holding the WWPN (another spelling) is reused: %s", rc ? err.message : g.name);

	const char *part[] = {"21:00:00:24:ff:3a:00:02", "fc.20000025b5dd0001:21000024ff3a0005"};
	struct xc_host_request req3 = {.name = "whatever", .initiators = part, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req3, &g, &err);
	ok(rc == 0 && strcmp(g.name, "partial") == 0 && g.n_initiators == 2 &&
		   suite_has_initiator(&g, "21000024ff3a0005"),
	   "a host holding part of them is completed: %s", rc ? err.message : g.name);

	const char *split[] = {"21000024ff3a0003", "21000024ff3a0004"};
	struct xc_host_request req4 = {.name = "x", .initiators = split, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req4, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "h1") && strstr(err.message, "h2"),
	   "initiators split across two hosts: a conflict naming both: %s", err.message);

	const char *taken[] = {"21000024ff3a00ff"};
	struct xc_host_request req5 = {.name = "esx-existing", .initiators = taken, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req5, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "esx-existing"),
	   "a name taken by an unrelated host is a conflict: %s", err.message);

	const char *iscsi_only[] = {IQN_NEW};
	struct xc_host_request req6 = {.name = "esx-iscsi", .initiators = iscsi_only, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req6, &g, &err);
	ok(rc == XC_E_CONFIG && strstr(err.message, "PG_FC") &&
		   strstr(err.message, "POWERMAX_PORT_GROUP_NAME") && !sim_has("hosts", "esx-iscsi"),
	   "only iSCSI initiators for an FC port group: a clear configuration error: %s",
	   err.message);

	const char *sdc[] = {"3A7C2E5B-1F4D-4C8A-9B6E-0D2F1A3C5E7B"};
	struct xc_host_request req7 = {.name = "esx-sdc", .initiators = sdc, .n_initiators = 1};
	rc = xc_array_ensure_host(a, &req7, &g, &err);
	ok(rc == XC_E_USAGE && strstr(err.message, "powermax"),
	   "a PowerFlex SDC GUID alone is no initiator for PowerMax: %s", err.message);

	const char *bad[] = {"21000024ff3a00aa", "not an initiator; $(x)"};
	struct xc_host_request req8 = {.name = "esx-bad", .initiators = bad, .n_initiators = 2};
	rc = xc_array_ensure_host(a, &req8, &g, &err);
	ok(rc == XC_E_USAGE && !sim_has("hosts", "esx-bad"),
	   "a bad initiator is refused before any change: %s", err.message);

	const char *lost[] = {"21000024ff3a00bb"};
	struct xc_host_request req9 = {.name = "esx-lost", .initiators = lost, .n_initiators = 1};
	posts = simarray_count_requests(&sim, "pm1", "POST", "/host");
	simarray_fault(&sim, "{\"array\": \"pm1\", \"method\": \"POST\", \"path\": \"/host$\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_ensure_host(a, &req9, &g, &err);
	ok(rc == 0 && strcmp(g.name, "esx-lost") == 0, "create host whose answer is lost: %s",
	   rc ? err.message : g.name);
	is_int(simarray_count_requests(&sim, "pm1", "POST", "/host"), posts + 1,
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
	char handle[256];
	struct xc_lun lun;
	struct xc_mapping_list before, after;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xclone_error err = {0};
	int rc;

	snprintf(handle, sizeof(handle), VOL1_NAME "-%s-" VOL1_DEV, sym);
	struct xc_pv pv = {.name = "pmax-4723028a00", .volume_handle = handle};
	rc = xc_array_resolve(a, &pv, &lun, &err);
	rc = rc ? rc : xc_array_mappings(a, &lun, &before, &err);
	ok(rc == 0 && before.n == 1 && strcmp(before.items[0].group, "k8s-node1") == 0 &&
		   before.items[0].lun_id == 7,
	   "mappings before: k8s-node1 at LUN 7 (its CSI masking view): %s", err.message);
	ok(!simarray_fabric_has(&sim, FC_NEW, lun.naa), "fabric: not presented to the ESXi host yet");
	ok(simarray_fabric_has(&sim, FC_K8S, lun.naa), "fabric: presented to the k8s node");

	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id >= 1, "map to the ESXi host: LUN %ld %s", got.lun_id, err.message);
	ok(sim_has("masking_views", "xclone-" VOL1_DEV "-esx-new") &&
		   sim_has("storage_groups", "xclone-" VOL1_DEV "-esx-new-SG"),
	   "through xclone's own masking view and storage group");
	ok(simarray_fabric_has(&sim, FC_NEW, lun.naa), "fabric: presented to the host's FC port");
	long first = got.lun_id;
	int mv_posts = simarray_count_requests(&sim, "pm1", "POST", "/maskingview");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id == first &&
		   simarray_count_requests(&sim, "pm1", "POST", "/maskingview") == mv_posts,
	   "map twice: success, same LUN, nothing created");
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && after.n == 2 && xc_mapping_list_find(&after, XC_GROUP_HOST, "esx-new"),
	   "mappings lists it once");
	xc_mapping_list_free(&after);

	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, FC_NEW, lun.naa), "unmap: gone from the host: %s",
	   err.message);
	ok(!sim_has("masking_views", "xclone-" VOL1_DEV "-esx-new") &&
		   !sim_has("storage_groups", "xclone-" VOL1_DEV "-esx-new-SG") &&
		   sim_has("masking_views", "csi-mv-k8s-node1") &&
		   sim_has("storage_groups", "csi-XYZ-Bronze-SRP_1-SG"),
	   "unmap removed xclone's view and group, and nothing else");
	is_int(xc_array_unmap(a, &lun, &target, &err), 0, "unmap twice: success");
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after), "mappings after the cycle equal those before");
	xc_mapping_list_free(&after);
	ok(simarray_fabric_has(&sim, FC_K8S, lun.naa), "fabric: the k8s node kept its LUN");

	rc = xc_array_unmap(a, &lun, &before.items[0], &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "csi-mv-k8s-node1") &&
		   simarray_fabric_has(&sim, FC_K8S, lun.naa),
	   "unmapping a presentation xclone did not make is refused, naming the view: %s",
	   err.message);

	/* restore: another admin removes the k8s presentation; restore puts it back */
	ok(admin_request(XC_HTTP_DELETE, "maskingview/csi-mv-k8s-node1") == 204 &&
		   !simarray_fabric_has(&sim, FC_K8S, lun.naa),
	   "(another admin deletes the k8s node's masking view)");
	rc = xc_array_restore_mappings(a, &lun, &before, &err);
	is_int(rc, 0, "restore mappings: %s", err.message);
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && suite_same_mappings(&before, &after) && simarray_fabric_has(&sim, FC_K8S, lun.naa),
	   "restored exactly: k8s-node1 at LUN 7 again");
	xc_mapping_list_free(&after);
	xc_mapping_list_free(&before);

	struct xc_mapping hg = {.kind = XC_GROUP_HOST_SET, .group = "hg1", .lun_id = -1};
	rc = xc_array_map(a, &lun, &hg, &got, &err);
	ok(rc == 0 && got.lun_id >= 1 && simarray_fabric_has(&sim, FC_G1A, lun.naa) &&
		   simarray_fabric_has(&sim, FC_G1B, lun.naa),
	   "map to a host group: every member sees it: %s", err.message);
	rc = xc_array_mappings(a, &lun, &after, &err);
	ok(rc == 0 && after.n == 2 && xc_mapping_list_find(&after, XC_GROUP_HOST_SET, "hg1"),
	   "the group mapping is listed once");
	xc_mapping_list_free(&after);
	mv_posts = simarray_count_requests(&sim, "pm1", "POST", "/maskingview");
	struct xc_mapping member = {.kind = XC_GROUP_HOST, .group = "g1a", .lun_id = -1};
	rc = xc_array_map(a, &lun, &member, &got, &err);
	ok(rc == 0 && simarray_count_requests(&sim, "pm1", "POST", "/maskingview") == mv_posts,
	   "map to a host that sees it through its host group: nothing to add: %s", err.message);
	ok(xc_array_unmap(a, &lun, &hg, &err) == 0 && !simarray_fabric_has(&sim, FC_G1A, lun.naa),
	   "unmap the host group: %s", err.message);

	struct xc_mapping nohost = {.kind = XC_GROUP_HOST, .group = "no-such-host", .lun_id = -1};
	rc = xc_array_map(a, &lun, &nohost, &got, &err);
	ok(rc == XC_E_NOT_FOUND && strstr(err.message, "no-such-host") &&
		   !sim_has("storage_groups", "xclone-" VOL1_DEV "-no-such-host-SG"),
	   "map to an unknown host: clear error, nothing made: %s", err.message);
}

/* delete_host: the common contract on a host made for fresh FC ports, then
 * PowerMax's rules: a host some masking view still uses (the k8s node's, given
 * back by restore_mappings in test_map_cycle) or a host group holds is in use; only
 * the host goes, never a view. */
static void test_delete_host(struct xc_array *a)
{
	char handle[256];
	const char *fresh[] = {"fc.20000025b5ee0001:20000025b5ee0002",
			       "fc.20000025b5ee0003:20000025b5ee0004"};
	struct xc_host_group g = {.kind = XC_GROUP_HOST};
	struct xc_lun lun;
	struct xclone_error err = {0};
	int rc;

	snprintf(handle, sizeof(handle), VOL1_NAME "-%s-" VOL1_DEV, sym);
	struct xc_pv pv = {.name = "pmax-4723028a00", .volume_handle = handle};
	rc = xc_array_resolve(a, &pv, &lun, &err);
	if (!ok(rc == 0, "delete_host: resolve: %s", err.message))
		return;
	suite_case_delete_host(a, &lun, "esx-del", fresh, 2);
	ok(!sim_has("masking_views", "xclone-" VOL1_DEV "-esx-del") &&
		   !sim_has("storage_groups", "xclone-" VOL1_DEV "-esx-del-SG"),
	   "nothing of xclone's left for that host");

	snprintf(g.name, sizeof(g.name), "k8s-node1");
	rc = xc_array_delete_host(a, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "masking view") &&
		   sim_has("hosts", "k8s-node1") && simarray_fabric_has(&sim, FC_K8S, lun.naa),
	   "a host in someone's masking view: XC_E_CONFLICT, view and host kept: %s", err.message);
	snprintf(g.name, sizeof(g.name), "g1a");
	rc = xc_array_delete_host(a, &g, &err);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "hg1") && sim_has("hosts", "g1a"),
	   "a host in a host group: XC_E_CONFLICT, kept: %s", err.message);
	ok(admin_request(XC_HTTP_DELETE, "host/g1a") == 400 && sim_has("hosts", "g1a"),
	   "(the array itself refuses to delete a host group member)");
	/* put in a view by someone else between the check and the DELETE */
	const char *race[] = {"fc.20000025b5ee0005:20000025b5ee0006"};
	struct xc_host_request rq = {"esx-race", race, 1};
	rc = xc_array_ensure_host(a, &rq, &g, &err);
	simarray_fault_message(&sim, "pm1", "DELETE", 400,
			       "A problem occurred deleting the host resource: Initiator Group"
			       " esx-race is in masking view mv-other");
	rc = rc ? rc : xc_array_delete_host(a, &g, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_CONFLICT && strstr(err.message, "mv-other") && sim_has("hosts", "esx-race"),
	   "the array's own refusal naming a masking view is XC_E_CONFLICT: %s", err.message);
	ok(xc_array_delete_host(a, &g, &err) == 0 && !sim_has("hosts", "esx-race"),
	   "and deleted once the array agrees");

	g.kind = XC_GROUP_HOST_SET;
	snprintf(g.name, sizeof(g.name), "hg1");
	rc = xc_array_delete_host(a, &g, &err);
	ok(rc == XC_E_USAGE, "a host group is not deleted (xclone makes hosts only): %s",
	   err.message);
}

/* A run dies after making the storage group: the next run reuses it by name. */
static void test_interrupted(void)
{
	struct xc_array *a = NULL;
	struct xc_pv pv = {.name = "pvc-reuse"};
	struct xc_lun lun;
	struct xc_mapping target = {.kind = XC_GROUP_HOST, .group = "esx-new", .lun_id = -1}, got;
	struct xclone_error err = {0};
	int rc;

	rc = suite_open_with("pm1", NULL, 0, &a, &err);
	rc = rc ? rc : xc_array_resolve(a, &pv, &lun, &err);
	simarray_fault(&sim, "{\"array\": \"pm1\", \"method\": \"POST\", \"path\": \"/maskingview$\","
			     " \"action\": \"drop\", \"times\": 100}");
	rc = rc ? rc : xc_array_map(a, &lun, &target, &got, &err);
	simarray_clear_faults(&sim);
	xc_array_close(a);
	ok(rc == XC_E_CONNECT && sim_has("storage_groups", "xclone-00137-esx-new-SG") &&
		   !sim_has("masking_views", "xclone-00137-esx-new"),
	   "a run that dies while making the masking view leaves its storage group: %s",
	   err.message);

	int sg_posts = simarray_count_requests(&sim, "pm1", "POST", "/storagegroup");
	rc = suite_open_with("pm1", NULL, 0, &a, &err);
	rc = rc ? rc : xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && simarray_fabric_has(&sim, FC_NEW, lun.naa) &&
		   simarray_count_requests(&sim, "pm1", "POST", "/storagegroup") == sg_posts,
	   "the next run reuses it by name and finishes the view: %s", err.message);
	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && !sim_has("storage_groups", "xclone-00137-esx-new-SG") &&
		   !simarray_fabric_has(&sim, FC_NEW, lun.naa),
	   "and its unmap removes both");
	xc_array_close(a);
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
	ok(rc == 0, "resolve the fault-test volume: %s", err.message);

	simarray_fault(&sim, "{\"array\": \"pm1\", \"action\": \"expire_session\"}");
	rc = xc_array_mappings(a, &lun, &now, &err);
	ok(rc == XC_E_AUTH && strstr(err.message, "STORAGE_USERNAME"),
	   "401 with Basic auth: a clear login error (no session to renew): %s", err.message);
	rc = xc_array_mappings(a, &lun, &now, &err);
	ok(rc == 0, "the next call works");
	xc_mapping_list_free(&now);

	xc_array_http_stats(a, &s0);
	simarray_fault(&sim, "{\"array\": \"pm1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 429, \"retry_after\": 1}");
	simarray_fault(&sim, "{\"array\": \"pm1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 503}");
	simarray_fault(&sim, "{\"array\": \"pm1\", \"method\": \"GET\", \"action\": \"drop\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	xc_array_http_stats(a, &s1);
	ok(rc == 0 && simarray_faults_left(&sim) == 0 && s1.retries >= s0.retries + 2,
	   "429 with Retry-After, 503 and a dropped connection on reads: retried (%u)",
	   s1.retries - s0.retries);

	simarray_fault(&sim, "{\"array\": \"pm1\", \"method\": \"GET\", \"action\": \"status\","
			     " \"status\": 500, \"times\": 100, \"message\": \"A problem occurred\"}");
	rc = xc_array_resolve(a, &pv, &lun, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_REMOTE && err.retryable && err.http_status == 500 &&
		   strstr(err.message, "A problem occurred"),
	   "a 500 that persists: the array's message after bounded retries: %s", err.message);
	rc = xc_array_resolve(a, &pv, &lun, &err);

	int posts = simarray_count_requests(&sim, "pm1", "POST", "/maskingview");
	simarray_fault(&sim, "{\"array\": \"pm1\", \"method\": \"POST\", \"path\": \"/maskingview$\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && got.lun_id >= 1 && simarray_fabric_has(&sim, FC_NEW, lun.naa),
	   "map whose masking view answer is lost: success: %s", err.message);
	is_int(simarray_count_requests(&sim, "pm1", "POST", "/maskingview"), posts + 1,
	       "the lost create was checked, not sent again");

	simarray_fault(&sim, "{\"array\": \"pm1\", \"method\": \"DELETE\", \"path\": \"/maskingview/\","
			     " \"action\": \"lose_response\"}");
	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && !simarray_fabric_has(&sim, FC_NEW, lun.naa) &&
		   !sim_has("storage_groups", "xclone-00131-esx-new-SG"),
	   "unmap whose delete answer is lost: success, all gone: %s", err.message);

	simarray_fault(&sim, "{\"array\": \"pm1\", \"method\": \"PUT\", \"path\": \"/storagegroup/\","
			     " \"action\": \"lose_response\"}");
	int puts = simarray_count_requests(&sim, "pm1", "PUT", "/storagegroup/");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && simarray_fabric_has(&sim, FC_NEW, lun.naa) &&
		   simarray_count_requests(&sim, "pm1", "PUT", "/storagegroup/") == puts + 1,
	   "map whose add-volume answer is lost: checked, not sent again: %s", err.message);
	xc_array_unmap(a, &lun, &target, &err);

	simarray_fault(&sim, "{\"array\": \"pm1\", \"method\": \"POST\", \"path\": \"/storagegroup$\","
			     " \"action\": \"status\", \"status\": 500}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	ok(rc == 0 && simarray_fabric_has(&sim, FC_NEW, lun.naa),
	   "storage group create answered 500: checked (not made), sent again: %s", err.message);
	xc_array_unmap(a, &lun, &target, &err);

	simarray_fault(&sim, "{\"array\": \"pm1\", \"method\": \"POST\", \"path\": \"/maskingview$\","
			     " \"action\": \"status\", \"status\": 503, \"times\": 100}");
	rc = xc_array_map(a, &lun, &target, &got, &err);
	simarray_clear_faults(&sim);
	ok(rc == XC_E_REMOTE && strstr(err.message, "HTTP 503"), "map refused every time: %s",
	   err.message);
	rc = xc_array_mappings(a, &lun, &now, &err);
	ok(rc == 0 && now.n == 0 && !simarray_fabric_has(&sim, FC_NEW, lun.naa),
	   "and the host sees nothing");
	xc_mapping_list_free(&now);
	rc = xc_array_unmap(a, &lun, &target, &err);
	ok(rc == 0 && !sim_has("storage_groups", "xclone-00131-esx-new-SG"),
	   "the cleanup's unmap removes the half-made storage group: %s", err.message);

	simarray_fault_message(&sim, "pm1", "GET", 400, "no user smc with " PASSWORD);
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

static void test_timeouts(void)
{
	struct xc_pv pv = {.name = "pvc-fault"};
	struct suite_timeouts t = {
		.array = "pm1",
		.pv = &pv,
		.slow_once = "\"method\": \"GET\", \"path\": \"/volume\"",
		.slow_always = "\"method\": \"GET\", \"path\": \"/volume\"",
	};

	suite_case_timeouts(&t);
}

int main(void)
{
	const char *arrays[] = {"powermax:pm1", "powermax:pm2"};
	struct xc_array *a = NULL;
	struct xclone_error err = {0};

	suite_start(&powermax, arrays, 2);
	seed();
	test_ids();
	test_open_info();
	test_config_errors();
	if (!ok(suite_open_with("pm1", NULL, 0, &a, &err) == 0, "open pm1: %s", err.message))
		return tap_done();
	test_resolve(a);
	test_ensure_host(a);
	test_map_cycle(a);
	test_delete_host(a);
	test_faults(a);
	xc_array_close(a);
	test_interrupted();
	test_timeouts();
	return tap_done();
}
