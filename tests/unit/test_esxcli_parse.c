/*
 * Unit tests of the esxcli/vsish output parsers (agent/esxcli.c, agent/vsish.c),
 * the rescan state format (agent/rescan.c) and the target policy
 * (agent/target_safety.c): the simulator's golden files
 * (tests/sim/esxi/golden/esxcli.*.json.txt, the contract the simulator pins), the
 * real JSON sample in /work/shared/esxi-samples (AnalogJ/scrutiny issue 388),
 * and every way the parsers must refuse what they are given.
 * Run from the repository root (tests/run does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esxcli.h"
#include "rescan.h"
#include "tap.h"
#include "target_safety.h"
#include "vsish.h"

#define GOLDEN "tests/sim/esxi/golden/"
#define REAL GOLDEN "real/"                     /* verbatim copies of public samples */
#define SAMPLES "/work/shared/esxi-samples/"     /* the full set, where present */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

static char *golden(const char *name, size_t *len)
{
	char path[512];
	char *text;

	snprintf(path, sizeof(path), GOLDEN "esxcli.%s.json.txt", name);
	text = slurp(path, len);
	if (text == NULL) {
		printf("# cannot read %s\n", path);
		exit(2);
	}
	return text;
}

/* Replaces every occurrence of what (same length as with) in place. */
static void replace_all(char *text, const char *what, const char *with)
{
	size_t n = strlen(what);

	for (char *p = strstr(text, what); p != NULL; p = strstr(p + n, what))
		memcpy(p, with, n);
}

static void test_system(void)
{
	struct ag_esx_hostname h;
	struct ag_esx_version v;
	struct ag_esx_nvme_info nv;
	struct xp_error err = { 0 };
	size_t len;
	char *t;

	t = golden("system-hostname-get", &len);
	is_int(ag_esx_parse_hostname(t, len, &h, &err), 0, "hostname: golden parses");
	is_str(h.fqdn, "esxgold.lab.example", "hostname: fully qualified name");
	is_str(h.host, "esxgold", "hostname: host name");
	free(t);

	t = golden("system-version-get", &len);
	is_int(ag_esx_parse_version(t, len, &v, &err), 0, "version: golden parses");
	is_str(v.product, "VMware ESXi", "version: product");
	is_str(v.version, "8.0.3", "version: version");
	is_str(v.build, "Releasebuild-24022510", "version: build as printed");
	free(t);

	t = golden("nvme-info-get", &len);
	is_int(ag_esx_parse_nvme_info(t, len, &nv, &err), 0, "nvme info: golden parses");
	is_str(nv.host_nqn, "nqn.2014-08.org.nvmexpress:uuid:5ffefdd7-0a51-3700-0b16-001e6792303a",
	       "nvme info: host NQN");
	free(t);
}

static void test_adapters(void)
{
	struct ag_esx_adapter *a;
	struct ag_esx_iscsi_adapter *is;
	struct ag_esx_module_param *mp;
	struct xp_error err = { 0 };
	size_t len, n;
	char *t;

	t = golden("storage-core-adapter-list", &len);
	is_int(ag_esx_parse_adapters(t, len, &a, &n, &err), 0, "adapter list: golden parses");
	is_int(n, 6, "adapter list: six adapters");
	if (n == 6) {
		is_str(a[0].name, "vmhba0", "adapter list: first name");
		is_str(a[0].driver, "pvscsi", "adapter list: first driver");
		is_str(a[1].uid, "fc.20000025b5000046:20010025b5000046", "adapter list: FC UID");
		is_str(a[4].uid, "iqn.1998-01.com.vmware:esxgold-3c1f2a9b", "adapter list: iSCSI UID");
		is_str(a[5].driver, "nvmetcp", "adapter list: NVMe/TCP driver");
	}
	free(a);
	free(t);

	t = golden("iscsi-adapter-get", &len);
	is_int(ag_esx_parse_iscsi_adapter(t, len, &is, &n, &err), 0, "iscsi adapter get: parses");
	ok(n == 1 && strcmp(is[0].adapter, "vmhba64") == 0, "iscsi adapter get: the adapter");
	ok(n == 1 && strcmp(is[0].name, "iqn.1998-01.com.vmware:esxgold-3c1f2a9b") == 0,
	   "iscsi adapter get: the IQN");
	free(is);
	free(t);

	t = golden("system-module-parameters-list-scini", &len);
	is_int(ag_esx_parse_module_params(t, len, &mp, &n, &err), 0, "scini parameters: parse");
	ok(n == 2 && strcmp(mp[0].name, "IoctlIniGuidStr") == 0 &&
	   strcmp(mp[0].value, "3A7C2E5B-1F4D-4C8A-9B6E-0D2F1A3C5E7B") == 0,
	   "scini parameters: the SDC GUID");
	ok(n == 2 && mp[1].value[0] == '\0', "scini parameters: an empty value stays empty");
	free(mp);
	free(t);
}

static void test_storage(void)
{
	struct ag_esx_filesystem *fs;
	struct ag_esx_extent *ex;
	struct ag_esx_path *p;
	struct xp_error err = { 0 };
	size_t len, n, a02 = 0;
	char *t;

	/* golden_cases masks free space ("FREE"), which varies from run to run. */
	t = golden("storage-filesystem-list", &len);
	replace_all(t, "FREE", "1024");
	is_int(ag_esx_parse_filesystems(t, len, &fs, &n, &err), 0, "filesystem list: parses");
	is_int(n, 5, "filesystem list: five volumes");
	if (n == 5) {
		is_str(fs[0].type, "VMFSOS", "filesystem list: OSDATA type");
		is_str(fs[1].type, "vfat", "filesystem list: bootbank type");
		is_str(fs[4].name, "gold fc \"prod\" (\xc3\xbc)", "filesystem list: \\u00fc decoded to UTF-8");
		is_str(fs[4].uuid, "6560c2a1-5b3e2d40-7f1a-00505681b2c4", "filesystem list: UUID");
		ok(fs[4].mounted, "filesystem list: mounted");
	}
	free(fs);
	free(t);

	t = golden("storage-vmfs-extent-list", &len);
	is_int(ag_esx_parse_extents(t, len, &ex, &n, &err), 0, "extent list: parses");
	is_int(n, 3, "extent list: three extents");
	if (n == 3) {
		is_str(ex[0].device, "mpx.vmhba0:C0:T0:L0", "extent list: OSDATA on the local disk");
		is_int(ex[0].partition, 7, "extent list: partition 7");
		is_str(ex[1].volume, "gold-iscsi", "extent list: volume name");
		is_str(ex[2].uuid, "6560c2a1-5b3e2d40-7f1a-00505681b2c4", "extent list: VMFS UUID");
		is_int(ex[2].number, 0, "extent list: extent number");
	}
	free(ex);
	free(t);

	t = golden("storage-core-path-list", &len);
	is_int(ag_esx_parse_paths(t, len, &p, &n, &err), 0, "path list: parses");
	for (size_t i = 0; i < n; i++)
		a02 += strcmp(p[i].device, "naa.624a93700e1b2c3d4e5f607182930a02") == 0 &&
		       strcmp(p[i].state, "active") == 0;
	is_int(a02, 2, "path list: the FC datastore LUN has two active paths");
	ok(n > 0 && strcmp(p[0].adapter, "vmhba65") == 0, "path list: adapter of the first path");
	free(p);
	free(t);
}

static void test_devices(void)
{
	struct ag_esx_device *d;
	struct ag_esx_vaai *v;
	struct ag_esx_detached *dt;
	struct xp_error err = { 0 };
	size_t len, n;
	char *t;

	t = golden("storage-core-device-list", &len);
	is_int(ag_esx_parse_devices(t, len, &d, &n, &err), 0, "device list: parses");
	is_int(n, 7, "device list: seven devices");
	if (n == 7) {
		is_str(d[1].id, "mpx.vmhba0:C0:T0:L0", "device list: the local disk");
		ok(d[1].is_local, "device list: IsLocal true");
		is_str(d[1].vendor, "VMware", "device list: vendor padding trimmed");
		is_str(d[1].model, "Virtual disk", "device list: model padding trimmed");
		is_int(d[2].size_mb, 102400, "device list: size in MB");
		ok(!d[2].is_local, "device list: SAN LUN is not local");
		is_str(d[5].status, "off", "device list: status off");
		is_str(d[6].status, "on", "device list: status on");
	}
	free(d);
	free(t);

	t = golden("storage-core-device-list-d-off", &len);
	is_int(ag_esx_parse_devices(t, len, &d, &n, &err), 0, "device list -d: parses");
	ok(n == 1 && strcmp(d[0].status, "off") == 0, "device list -d: one record, off");
	free(d);
	free(t);

	t = golden("storage-core-device-vaai-status-get", &len);
	is_int(ag_esx_parse_vaai(t, len, &v, &n, &err), 0, "vaai status: parses");
	ok(n == 6 && strcmp(v[4].clone, "unsupported") == 0 && strcmp(v[3].clone, "supported") == 0,
	   "vaai status: clone statuses");
	free(v);
	free(t);

	t = golden("storage-core-device-detached-list", &len);
	is_int(ag_esx_parse_detached(t, len, &dt, &n, &err), 0, "detached list: parses");
	ok(n == 1 && strcmp(dt[0].device, "naa.624a93700e1b2c3d4e5f607182930a11") == 0 &&
	   strcmp(dt[0].state, "off") == 0, "detached list: the device and its state");
	free(dt);
	free(t);
}

static void test_advanced(void)
{
	static const struct { const char *file, *path; uint64_t want; } cases[] = {
		{ "system-settings-advanced-list-o-HardwareAcceleratedMove",
		  "/DataMover/HardwareAcceleratedMove", 1 },
		{ "system-settings-advanced-list-o-HardwareAcceleratedInit",
		  "/DataMover/HardwareAcceleratedInit", 1 },
		{ "system-settings-advanced-list-o-MaxHWTransferSize", "/DataMover/MaxHWTransferSize",
		  4096 },
	};
	struct xp_error err = { 0 };
	uint64_t v;
	size_t len;

	for (size_t i = 0; i < 3; i++) {
		char *t = golden(cases[i].file, &len);

		v = 0;
		is_int(ag_esx_advanced_value(t, len, cases[i].path, &v, &err), 0, "advanced %s parses",
		       cases[i].path);
		is_int(v, cases[i].want, "advanced %s value", cases[i].path);
		if (i == 0) {
			is_int(ag_esx_advanced_value(t, len, "/DataMover/MaxHWTransferSize", &v, &err),
			       XP_HOST_COMMAND_FAILED, "advanced: a path the output lacks is an error");
			ok(strstr(err.message, "listed 0 times") != NULL, "advanced: message says so (%s)",
			   err.message);
		}
		free(t);
	}
}

/*
 * The real JSON sample (scrutiny issue 388) is a fragment of one device's
 * record; the CSV sample of the same page lists that device's Vendor. Joined,
 * they are a record as ESXi printed it.
 */
static void test_real_json_sample(void)
{
	size_t la, lb, lc;
	char *a = slurp(SAMPLES "esxcli-formatter-json.storage-core-device-list.fragment-A.scrutiny-388.txt", &la);
	char *b = slurp(REAL "esxcli-formatter-json.storage-core-device-list.fragment-B.scrutiny-388.txt", &lb);
	char *c = slurp(REAL "esxcli-formatter-csv.format-param-fields.storage-core-device-list.scrutiny-388.txt", &lc);
	struct ag_esx_device *d = NULL;
	struct xp_error err = { 0 };
	char *json, *cut, *start;
	size_t n = 0, jl;

	if (!ok(b && c, "real samples are readable")) {
		free(a), free(b), free(c);
		return;
	}
	if (a != NULL && (start = strchr(a, '[')) != NULL) {
		is_int(ag_esx_parse_devices(start, strlen(start), &d, &n, &err),
		       XP_HOST_COMMAND_FAILED, "real fragment A (cut mid-string) is refused");
		ok(strstr(err.message, "not JSON") != NULL, "... as not JSON (%s)", err.message);
	} else {
		ok(1, "real fragment A # SKIP " SAMPLES " is not on this machine");
	}
	ok(strstr(c, "naa.6589cfc000000b6136c98e7be4a2025f,FreeNAS ,iSCSI Disk      ,") != NULL,
	   "the CSV sample lists fragment B's device with vendor 'FreeNAS '");
	cut = strrchr(b, '\n');
	while (cut != NULL && cut > b && cut[-1] != ',')
		cut--;
	*cut = '\0'; /* drop the last, cut-off member and its comma */
	cut[-1] = '\0';
	memset(&err, 0, sizeof(err));
	jl = strlen(b) + 64;
	json = malloc(jl);
	snprintf(json, jl, "[\n  {\n%s,\n    \"Vendor\": \"FreeNAS \"\n  }\n]\n", b);
	is_int(ag_esx_parse_devices(json, strlen(json), &d, &n, &err), 0,
	       "real fragment B + its vendor parses (%s)", err.message);
	ok(n == 1, "... one device");
	if (n == 1) {
		is_str(d[0].id, "naa.6589cfc000000b6136c98e7be4a2025f", "real sample: device id");
		is_int(d[0].size_mb, 4194304, "real sample: size in MB");
		is_str(d[0].status, "on", "real sample: status");
		is_str(d[0].model, "iSCSI Disk", "real sample: model, padding trimmed");
		is_str(d[0].vendor, "FreeNAS", "real sample: vendor, padding trimmed");
		ok(!d[0].is_local, "real sample: not local");
	}
	free(d);
	free(json);
	free(a), free(b), free(c);
}

/* One device record with one member replaced (or added). */
static int device_with(const char *member, struct xp_error *err)
{
	char json[2048];
	struct ag_esx_device *d = NULL;
	size_t n;
	int rc;

	snprintf(json, sizeof(json),
		 "[{\"Device\":\"naa.1\",\"Status\":\"on\",\"Size\":10,\"Vendor\":\"V\",\"Model\":\"M\","
		 "\"IsLocal\":false%s%s}]", member[0] ? "," : "", member);
	rc = ag_esx_parse_devices(json, strlen(json), &d, &n, err);
	free(d);
	return rc;
}

static void test_strictness(void)
{
	static const struct { const char *text, *why; } refused[] = {
		{ "", "not JSON" },
		{ "[{\"Device\":\"naa.1\"}", "not JSON" },
		{ "[] []", "text follows" },
		{ "{}", "expected an array" },
		{ "[1]", "not an object" },
		{ "[{\"Device\":\"naa.1\",\"Device\":\"naa.2\",\"Status\":\"on\",\"Size\":1,\"Vendor\":\"\","
		  "\"Model\":\"\",\"IsLocal\":false}]", "given twice" },
		{ "[{\"Status\":\"on\",\"Size\":1,\"Vendor\":\"\",\"Model\":\"\",\"IsLocal\":false}]",
		  "\"Device\" is missing" },
		{ "[{\"Device\":7,\"Status\":\"on\",\"Size\":1,\"Vendor\":\"\",\"Model\":\"\",\"IsLocal\":false}]",
		  "is not a string" },
		{ "[{\"Device\":\"naa\\u0001\",\"Status\":\"on\",\"Size\":1,\"Vendor\":\"\",\"Model\":\"\","
		  "\"IsLocal\":false}]", "control characters" },
		{ "[{\"Device\":\"naa\\u0000x\",\"Status\":\"on\",\"Size\":1,\"Vendor\":\"\",\"Model\":\"\","
		  "\"IsLocal\":false}]", "NUL" },
		{ "[{\"Device\":\"naa\xff\",\"Status\":\"on\",\"Size\":1,\"Vendor\":\"\",\"Model\":\"\","
		  "\"IsLocal\":false}]", "UTF-8" },
		{ "[{\"Device\":\"naa.1\",\"Status\":\"on\",\"Size\":-1,\"Vendor\":\"\",\"Model\":\"\","
		  "\"IsLocal\":false}]", "non-negative integer" },
		{ "[{\"Device\":\"naa.1\",\"Status\":\"on\",\"Size\":1.5,\"Vendor\":\"\",\"Model\":\"\","
		  "\"IsLocal\":false}]", "non-negative integer" },
		{ "[{\"Device\":\"naa.1\",\"Status\":\"on\",\"Size\":1e300,\"Vendor\":\"\",\"Model\":\"\","
		  "\"IsLocal\":false}]", "non-negative integer" },
		{ "[{\"Device\":\"naa.1\",\"Status\":\"on\",\"Size\":\"12a\",\"Vendor\":\"\",\"Model\":\"\","
		  "\"IsLocal\":false}]", "non-negative integer" },
		{ "[{\"Device\":\"naa.1\",\"Status\":\"on\",\"Size\":1,\"Vendor\":\"\",\"Model\":\"\","
		  "\"IsLocal\":\"yes\"}]", "not a boolean" },
	};
	struct ag_esx_device *d;
	struct xp_error err = { 0 };
	char longer[400];
	size_t n;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *t = refused[i].text;
		size_t len = strlen(t);
		int rc;

		d = NULL;
		rc = ag_esx_parse_devices(t, len, &d, &n, &err);
		ok(rc == XP_HOST_COMMAND_FAILED && strstr(err.message, refused[i].why) != NULL &&
		   strncmp(err.message, "esxcli storage core device list printed", 39) == 0,
		   "refused %zu: %s (%s)", i, refused[i].why, err.message);
		free(d);
	}
	is_int(ag_esx_parse_devices("[{\"Device\":\"a\0b\"}]", 18, &d, &n, &err),
	       XP_HOST_COMMAND_FAILED, "a raw NUL byte is refused");
	is_int(device_with("", &err), 0, "the minimal record parses");
	is_int(device_with("\"Extra\":{\"nested\":[1,2,3]},\"Other\":null", &err), 0,
	       "members the agent does not read are ignored, whatever their type");
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	{
		char json[1024];
		snprintf(json, sizeof(json),
			 "[{\"Device\":\"naa.1\",\"Status\":\"on\",\"Size\":1,\"Vendor\":\"%s\","
			 "\"Model\":\"\",\"IsLocal\":false}]", longer);
		is_int(ag_esx_parse_devices(json, strlen(json), &d, &n, &err), XP_HOST_COMMAND_FAILED,
		       "a string longer than its buffer is refused");
		ok(strstr(err.message, "\"Vendor\" is too long") != NULL, "... naming the member (%s)",
		   err.message);
	}
	{
		const char *t = "[{\"Device\":\"naa.1\",\"Status\":\" on \",\"Size\":\"2048\",\"Vendor\":\"V\","
				"\"Model\":\"M\",\"IsLocal\":\"true\"}]";
		d = NULL;
		is_int(ag_esx_parse_devices(t, strlen(t), &d, &n, &err), 0,
		       "numbers and booleans given as strings are accepted");
		ok(d != NULL && d[0].size_mb == 2048 && d[0].is_local && strcmp(d[0].status, "on") == 0,
		   "... with their values, status trimmed");
		free(d);
	}
	d = (void *)1;
	is_int(ag_esx_parse_devices("[ ]\n", 4, &d, &n, &err), 0, "an empty list parses");
	ok(d == NULL && n == 0, "... to nothing");
	{
		struct ag_esx_hostname h;
		is_int(ag_esx_parse_hostname("[]", 2, &h, &err), XP_HOST_COMMAND_FAILED,
		       "a single-object command refuses an array");
	}
}

static void test_many_records(void)
{
	size_t count = AG_ESX_RECORDS_MAX + 1, cap = count * 3 + 8, at = 0;
	char *json = malloc(cap);
	struct ag_esx_vaai *v = NULL;
	struct xp_error err = { 0 };
	size_t n;

	json[at++] = '[';
	for (size_t i = 0; i < count; i++) {
		memcpy(json + at, i ? ",{}" : "{}", i ? 3 : 2);
		at += i ? 3 : 2;
	}
	json[at++] = ']';
	is_int(ag_esx_parse_vaai(json, at, &v, &n, &err), XP_HOST_COMMAND_FAILED,
	       "more than AG_ESX_RECORDS_MAX records are refused");
	ok(strstr(err.message, "more than") != NULL, "... saying so (%s)", err.message);
	free(json);
}

static void test_vsish(void)
{
	struct xp_error err = { 0 };
	uint64_t v = 7;
	bool found = true;
	size_t len;
	char *t = slurp(GOLDEN "vsish.stats.txt", &len);
	char node[300];

	ok(t != NULL, "vsish golden stats readable");
	is_int(ag_vsish_parse_counter(t, len, AG_VSISH_CLONE_WRITES, &v, &found, &err), 0,
	       "vsish stats parse");
	ok(found && v == 39025, "vsish: cloneWriteOps 39025 (got %llu)", (unsigned long long)v);
	is_int(ag_vsish_parse_counter(t, len, "cloneWriteBlocks", &v, &found, &err), 0,
	       "vsish: another counter");
	ok(found && v == 8192, "vsish: cloneWriteBlocks 8192");
	is_int(ag_vsish_parse_counter(t, len, "cloneWrite", &v, &found, &err), 0,
	       "vsish: a prefix is not a name");
	ok(!found && v == 0, "vsish: absent counter: not found, 0");
	free(t);
	t = slurp(GOLDEN "vsish.stats-raw.txt", &len);
	is_int(ag_vsish_parse_counter(t, len, AG_VSISH_CLONE_WRITES, &v, &found, &err), 0,
	       "vsish -r stats parse");
	ok(found && v == 0x9871, "vsish -r: 0x hex value");
	free(t);
	is_int(ag_vsish_parse_counter("a:1\ncloneWriteOps:2\ncloneWriteOps:3\n", 36,
				      AG_VSISH_CLONE_WRITES, &v, &found, &err),
	       XP_HOST_COMMAND_FAILED, "vsish: a counter listed twice is refused");
	is_int(ag_vsish_parse_counter("   cloneWriteOps:12x\n", 21, AG_VSISH_CLONE_WRITES, &v,
				      &found, &err),
	       XP_HOST_COMMAND_FAILED, "vsish: a value that is not a number is refused");
	is_int(ag_vsish_parse_counter("cloneWriteOps:0x10000000000000000\n", 34,
				      AG_VSISH_CLONE_WRITES, &v, &found, &err),
	       XP_HOST_COMMAND_FAILED, "vsish: a hex value over 64 bits is refused");
	is_int(ag_vsish_stats_node("naa.1", node, sizeof(node)), 0, "vsish node builds");
	is_str(node, "/storage/scsifw/devices/naa.1/stats", "vsish node path");
}

static void test_rescan_state(void)
{
	struct ag_rescan_state st;
	static const char *const bad[] = {
		"started 3",                       /* no LF */
		"start 3\n",
		"started x\n",
		"started 3\ndone 4 * all\n",       /* finished before it started */
		"started 3\ndone 2 vm hba all\n",
		"started 3\ndone 2 $(x) all\n",
		"started 3\ndone 2 * everything\n",
		"started 3\ndone 2 *\n",
		"done 1 * all\n",
	};

	is_int(ag_rescan_state_parse("", 0, &st), 0, "rescan state: empty is nothing done");
	is_int(ag_rescan_state_parse("started 9\ndone 9 * all\ndone 7 vmhba64 add\n", 42, &st), 0,
	       "rescan state: parses");
	ok(st.started == 9 && st.ndone == 2 && st.done[1].type == XP_RESCAN_ADD &&
	   strcmp(st.done[1].scope, "vmhba64") == 0, "rescan state: values");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(ag_rescan_state_parse(bad[i], strlen(bad[i]), &st), -1,
		       "rescan state: refuses case %zu", i);

	memset(&st, 0, sizeof(st));
	st.started = 5;
	ag_rescan_state_record(&st, 5, "vmhba64", XP_RESCAN_ADD);
	ok(ag_rescan_covered(&st, 4, "vmhba64", XP_RESCAN_ADD), "covered: same scope, newer");
	ok(!ag_rescan_covered(&st, 5, "vmhba64", XP_RESCAN_ADD),
	   "not covered: the rescan began before the caller arrived");
	ok(!ag_rescan_covered(&st, 4, NULL, XP_RESCAN_ADD), "not covered: one adapter is not all");
	ok(!ag_rescan_covered(&st, 4, "vmhba2", XP_RESCAN_ADD), "not covered: another adapter");
	ok(!ag_rescan_covered(&st, 4, "vmhba64", XP_RESCAN_DELETE), "not covered: add is not delete");
	ok(!ag_rescan_covered(&st, 4, "vmhba64", XP_RESCAN_ALL), "not covered: add is not all");
	ag_rescan_state_record(&st, 6, NULL, XP_RESCAN_ALL);
	ok(ag_rescan_covered(&st, 5, "vmhba2", XP_RESCAN_DELETE), "covered: all adapters, type all");
	ok(ag_rescan_covered(&st, 5, NULL, XP_RESCAN_ADD), "covered: --all covers --all add");
	ag_rescan_state_record(&st, 7, "vmhba64", XP_RESCAN_ADD);
	is_int(st.ndone, 2, "record: the same scope replaces its entry");
	for (unsigned i = 0; i < AG_RESCAN_SCOPES_MAX + 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "vmhba%u", 100 + i);
		ag_rescan_state_record(&st, 8 + i, name, XP_RESCAN_ADD);
	}
	is_int(st.ndone, AG_RESCAN_SCOPES_MAX, "record: bounded number of scopes");
	ok(!ag_rescan_covered(&st, 5, NULL, XP_RESCAN_ADD), "record: the oldest entries were dropped");
	ag_rescan_state_record(&st, 99, "odd name", XP_RESCAN_ADD);
	ok(!ag_rescan_covered(&st, 98, "odd name", XP_RESCAN_ADD),
	   "record: an adapter name unfit for the file is never coalesced");
}

static void test_target_policy(void)
{
	struct ag_device d;
	struct xp_error err = { 0 };

	memset(&d, 0, sizeof(d));
	snprintf(d.id, sizeof(d.id), "naa.1");
	is_int(ag_target_policy(&d, 0, &err), XP_TARGET_NOT_FOUND, "policy: unknown device");
	ok(strncmp(err.message, "naa.1 is not present", 20) == 0, "policy: message (%s)", err.message);
	snprintf(d.status, sizeof(d.status), "detached");
	is_int(ag_target_policy(&d, 0, &err), XP_TARGET_UNSAFE, "policy: detached device");
	d.present = true;
	snprintf(d.status, sizeof(d.status), "on");
	d.size_bytes = 1 << 20;
	d.parts = AG_DEV_VAAI;
	is_int(ag_target_policy(&d, 1 << 20, &err), XP_INTERNAL,
	       "policy: a record queried without extents is refused (it cannot tell)");
	d.parts = AG_DEV_EXTENTS;
	is_int(ag_target_policy(&d, 1 << 20, &err), 0, "policy: on, big enough");
	is_int(ag_target_policy(&d, (1 << 20) + 1, &err), XP_TARGET_TOO_SMALL, "policy: too small");
	ok(strstr(err.message, "1048576 bytes") != NULL, "policy: size in the message (%s)",
	   err.message);
	snprintf(d.status, sizeof(d.status), "dead timeout");
	is_int(ag_target_policy(&d, 0, &err), XP_TARGET_UNSAFE, "policy: dead device");
	snprintf(d.status, sizeof(d.status), "off");
	is_int(ag_target_policy(&d, 0, &err), XP_TARGET_UNSAFE, "policy: device off");
	snprintf(d.status, sizeof(d.status), "on");
	d.is_local = true;
	is_int(ag_target_policy(&d, 0, &err), XP_TARGET_UNSAFE, "policy: local device");
	snprintf(d.backs_datastore, sizeof(d.backs_datastore), "ds \"1\"");
	is_int(ag_target_policy(&d, UINT64_MAX, &err), XP_TARGET_UNSAFE,
	       "policy: a datastore device is unsafe before anything else");
	is_str(err.message, "naa.1 backs datastore ds \"1\"", "policy: datastore message");
}

static void test_label(void)
{
	struct ag_hostcmd c;
	struct ag_config cfg;
	const char *const words[] = { "storage", "core", "adapter", "rescan", "--adapter",
				      "vm hba'$(x)\n", NULL };
	char buf[200];

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.esxcli_path, sizeof(cfg.esxcli_path), "/bin/esxcli");
	cfg.esxcli_timeout_s = 5;
	ag_esxcli_init(&c, &cfg, words);
	is_int(c.nargs, 7, "esxcli: --formatter=json plus the words");
	is_str(c.args[0], "--formatter=json", "esxcli: JSON formatter first");
	is_str(ag_hostcmd_label(&c, buf, sizeof(buf)),
	       "esxcli storage core adapter rescan --adapter 'vm hba'$(x)\\x0a'",
	       "label: odd arguments quoted, control bytes escaped");
	is_int(c.timeout_ms, 5000, "esxcli: timeout from the settings");
}

int main(void)
{
	test_system();
	test_adapters();
	test_storage();
	test_devices();
	test_advanced();
	test_real_json_sample();
	test_strictness();
	test_many_records();
	test_vsish();
	test_rescan_state();
	test_target_policy();
	test_label();
	return tap_done();
}
