/*
 * host.info: what a client needs to map a LUN to this host. Ten independent
 * esxcli queries run at once (esxcli.h batches), then the per-adapter ones
 * that depend on the adapter list (iSCSI names, the NVMe host NQN).
 *
 * Facts used (sources: /work/shared/esxi-samples/FACTS.md and SOURCES.md,
 * tests/sim/README.md): FC adapter UIDs are `fc.<WWNN>:<WWPN>`, which is also
 * the initiator id arrays map; the software iSCSI initiator is the Name of
 * `iscsi adapter get -A`; NVMe/TCP adapters have `tcp.vmnicN:<mac>` UIDs and
 * the host NQN comes from `nvme info get`; the PowerFlex SDC GUID is the scini
 * module's IoctlIniGuidStr parameter (kubev2v/forklift remote_esxcli.go).
 */
#include <stdlib.h>
#include <string.h>

#include "esxcli.h"
#include "ops.h"

#define SDC_GUID_PARAM "IoctlIniGuidStr"
#define SDC_DRIVER "scini"
#define BUILD_PREFIX "Releasebuild-" /* PROTOCOL.md shows the bare build number */

enum { H_HOSTNAME, H_VERSION, H_ADAPTERS, H_FS, H_EXTENTS, H_PATHS, H_MOVE, H_INIT, H_MAXHW,
       H_SCINI, H_COUNT };

static const char *const vaai_paths[] = { "/DataMover/HardwareAcceleratedMove",
					  "/DataMover/HardwareAcceleratedInit",
					  "/DataMover/MaxHWTransferSize" };

struct host_facts {
	struct ag_esx_hostname name;
	struct ag_esx_version version;
	struct ag_esx_adapter *adapters;
	size_t nadapters;
	struct ag_esx_filesystem *fs;
	size_t nfs;
	struct ag_esx_extent *extents;
	size_t nextents;
	struct ag_esx_path *paths;
	size_t npaths;
	uint64_t vaai[3];                   /* in vaai_paths order */
	char sdc_guid[AG_ESX_ID_MAX];       /* "" means null */
	char (*iqn)[AG_ESX_ID_MAX];         /* per adapter: its iSCSI name, or "" */
	char nqn[AG_ESX_ID_MAX];
};

static void facts_free(struct host_facts *f)
{
	free(f->adapters);
	free(f->fs);
	free(f->extents);
	free(f->paths);
	free(f->iqn);
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_iscsi(const struct ag_esx_adapter *a)
{
	return strcmp(a->driver, "iscsi_vmk") == 0 || starts(a->uid, "iqn.") ||
	       starts(a->uid, "iscsi.");
}

/* NVMe over a fabric (TCP, RDMA): the host NQN is its initiator id. */
static bool is_nvme_fabric(const struct ag_esx_adapter *a)
{
	return starts(a->uid, "tcp.") || starts(a->uid, "rdma.") || starts(a->uid, "nqn.") ||
	       strcmp(a->driver, "nvmetcp") == 0 || strcmp(a->driver, "nvmerdma") == 0;
}

static const char *transport_of(const struct ag_esx_adapter *a)
{
	if (starts(a->uid, "fc."))
		return "fc";
	if (is_iscsi(a))
		return "iscsi";
	if (is_nvme_fabric(a) || starts(a->driver, "nvme"))
		return "nvme";
	if (starts(a->uid, "sas."))
		return "sas";
	if (starts(a->uid, "pscsi."))
		return "pscsi";
	return "other";
}

/* --- asking the host ---------------------------------------------------------------- */

static void first_round(const struct ag_config *cfg, struct ag_hostcmd *c)
{
	static const char *const hostname[] = { "system", "hostname", "get", NULL };
	static const char *const version[] = { "system", "version", "get", NULL };
	static const char *const adapters[] = { "storage", "core", "adapter", "list", NULL };
	static const char *const fs[] = { "storage", "filesystem", "list", NULL };
	static const char *const extents[] = { "storage", "vmfs", "extent", "list", NULL };
	static const char *const paths[] = { "storage", "core", "path", "list", NULL };
	static const char *const scini[] = { "system", "module", "parameters", "list", "-m",
					     SDC_DRIVER, NULL };

	ag_esxcli_init(&c[H_HOSTNAME], cfg, hostname);
	ag_esxcli_init(&c[H_VERSION], cfg, version);
	ag_esxcli_init(&c[H_ADAPTERS], cfg, adapters);
	ag_esxcli_init(&c[H_FS], cfg, fs);
	ag_esxcli_init(&c[H_EXTENTS], cfg, extents);
	ag_esxcli_init(&c[H_PATHS], cfg, paths);
	c[H_PATHS].output_max = AG_HOSTCMD_OUT_LARGE;
	for (int i = 0; i < 3; i++) {
		const char *const words[] = { "system", "settings", "advanced", "list", "-o",
					      vaai_paths[i], NULL };
		ag_esxcli_init(&c[H_MOVE + i], cfg, words);
	}
	ag_esxcli_init(&c[H_SCINI], cfg, scini);
}

static bool has_sdc_adapter(const struct host_facts *f)
{
	for (size_t i = 0; i < f->nadapters; i++)
		if (strcmp(f->adapters[i].driver, SDC_DRIVER) == 0)
			return true;
	return false;
}

/* The SDC GUID; an absent scini module is no error unless an SDC adapter exists. */
static int take_sdc(struct host_facts *f, const struct ag_hostcmd *c, struct xp_error *err)
{
	struct ag_esx_module_param *p;
	size_t n;
	int rc;

	if (c->code != XP_OK) {
		if (!has_sdc_adapter(f))
			return 0;
		*err = c->err;
		return c->code;
	}
	rc = ag_esx_parse_module_params(c->out, c->out_len, &p, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (strcmp(p[i].name, SDC_GUID_PARAM) == 0)
			(void)ag_esx_copy(f->sdc_guid, sizeof(f->sdc_guid), p[i].value);
	free(p);
	return rc;
}

static int parse_first(struct host_facts *f, const struct ag_hostcmd *c, struct xp_error *err)
{
	int rc = ag_esx_parse_hostname(c[H_HOSTNAME].out, c[H_HOSTNAME].out_len, &f->name, err);

	if (rc == 0)
		rc = ag_esx_parse_version(c[H_VERSION].out, c[H_VERSION].out_len, &f->version, err);
	if (rc == 0)
		rc = ag_esx_parse_adapters(c[H_ADAPTERS].out, c[H_ADAPTERS].out_len, &f->adapters,
					   &f->nadapters, err);
	if (rc == 0)
		rc = ag_esx_parse_filesystems(c[H_FS].out, c[H_FS].out_len, &f->fs, &f->nfs, err);
	if (rc == 0)
		rc = ag_esx_parse_extents(c[H_EXTENTS].out, c[H_EXTENTS].out_len, &f->extents,
					  &f->nextents, err);
	if (rc == 0)
		rc = ag_esx_parse_paths(c[H_PATHS].out, c[H_PATHS].out_len, &f->paths, &f->npaths,
					err);
	for (int i = 0; rc == 0 && i < 3; i++)
		rc = ag_esx_advanced_value(c[H_MOVE + i].out, c[H_MOVE + i].out_len, vaai_paths[i],
					   &f->vaai[i], err);
	if (rc == 0)
		rc = take_sdc(f, &c[H_SCINI], err);
	return rc;
}

static int ask_first(const struct ag_config *cfg, struct host_facts *f, struct xp_error *err)
{
	struct ag_hostcmd c[H_COUNT];
	int rc;

	first_round(cfg, c);
	/* Every query but the SDC one must succeed; that one is judged in take_sdc. */
	(void)ag_hostcmd_run_all(c, H_COUNT, NULL);
	rc = 0;
	for (int i = 0; i < H_COUNT && rc == 0; i++) {
		if (i != H_SCINI && c[i].code != XP_OK) {
			*err = c[i].err;
			rc = c[i].code;
		}
	}
	if (rc == 0)
		rc = parse_first(f, c, err);
	for (int i = 0; i < H_COUNT; i++)
		ag_hostcmd_free(&c[i]);
	return rc;
}

static int take_iqn(struct host_facts *f, size_t a, const struct ag_hostcmd *c,
		    struct xp_error *err)
{
	struct ag_esx_iscsi_adapter *recs;
	size_t n;
	int rc = ag_esx_parse_iscsi_adapter(c->out, c->out_len, &recs, &n, err);

	for (size_t i = 0; rc == 0 && i < n; i++)
		if (strcmp(recs[i].adapter, f->adapters[a].name) == 0)
			(void)ag_esx_copy(f->iqn[a], sizeof(f->iqn[a]), recs[i].name);
	free(recs);
	return rc;
}

/* iSCSI names and the NVMe host NQN: queries that need the adapter list. */
static int ask_second(const struct ag_config *cfg, struct host_facts *f, struct xp_error *err)
{
	static const char *const nvme[] = { "nvme", "info", "get", NULL };
	struct ag_hostcmd *c;
	size_t *owner, n = 0;
	bool want_nqn = false;
	int rc = 0;

	f->iqn = calloc(f->nadapters + 1, sizeof(*f->iqn));
	c = calloc(f->nadapters + 1, sizeof(*c));
	owner = calloc(f->nadapters + 1, sizeof(*owner));
	if (f->iqn == NULL || c == NULL || owner == NULL) {
		rc = xp_error_set(err, XP_INTERNAL, "", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < f->nadapters; i++) {
		want_nqn = want_nqn || is_nvme_fabric(&f->adapters[i]);
		if (is_iscsi(&f->adapters[i])) {
			const char *const words[] = { "iscsi", "adapter", "get", "-A",
						      f->adapters[i].name, NULL };
			ag_esxcli_init(&c[n], cfg, words);
			owner[n++] = i;
		}
	}
	if (want_nqn)
		ag_esxcli_init(&c[n++], cfg, nvme);
	rc = ag_hostcmd_run_all(c, n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (want_nqn && i == n - 1) {
			struct ag_esx_nvme_info info;
			rc = ag_esx_parse_nvme_info(c[i].out, c[i].out_len, &info, err);
			if (rc == 0)
				(void)ag_esx_copy(f->nqn, sizeof(f->nqn), info.host_nqn);
		} else {
			rc = take_iqn(f, owner[i], &c[i], err);
		}
	}
	for (size_t i = 0; i < n; i++)
		ag_hostcmd_free(&c[i]);
out:
	free(c);
	free(owner);
	return rc;
}

/* --- the result ---------------------------------------------------------------------- */

static bool add_string(cJSON *array, const char *s)
{
	return cJSON_AddItemToArray(array, cJSON_CreateString(s));
}

static cJSON *adapter_json(const struct host_facts *f, size_t i)
{
	const struct ag_esx_adapter *a = &f->adapters[i];
	const char *transport = transport_of(a), *initiator = "";
	cJSON *o = cJSON_CreateObject(), *ini;
	bool ok = o != NULL;

	if (strcmp(transport, "fc") == 0)
		initiator = a->uid;
	else if (strcmp(transport, "iscsi") == 0)
		initiator = f->iqn[i];
	else if (is_nvme_fabric(a))
		initiator = f->nqn;
	ok = ok && cJSON_AddStringToObject(o, "name", a->name);
	ok = ok && cJSON_AddStringToObject(o, "driver", a->driver);
	ok = ok && cJSON_AddStringToObject(o, "uid", a->uid);
	ok = ok && cJSON_AddStringToObject(o, "transport", transport);
	ok = ok && (ini = cJSON_AddArrayToObject(o, "initiators")) != NULL;
	if (ok && initiator[0] != '\0')
		ok = add_string(ini, initiator);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The adapters with a path to device, each once. */
static bool extent_adapters(const struct host_facts *f, const char *device, cJSON *out)
{
	for (size_t i = 0; i < f->npaths; i++) {
		const struct ag_esx_path *p = &f->paths[i];
		bool seen = false;

		if (strcmp(p->device, device) != 0)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(f->paths[j].device, device) == 0 &&
			       strcmp(f->paths[j].adapter, p->adapter) == 0;
		if (!seen && !add_string(out, p->adapter))
			return false;
	}
	return true;
}

static cJSON *datastore_json(const struct host_facts *f, const struct ag_esx_filesystem *fs)
{
	cJSON *o = cJSON_CreateObject(), *exts;
	bool ok = o != NULL;

	ok = ok && cJSON_AddStringToObject(o, "name", fs->name);
	ok = ok && cJSON_AddStringToObject(o, "uuid", fs->uuid);
	ok = ok && cJSON_AddStringToObject(o, "type", fs->type);
	ok = ok && (exts = cJSON_AddArrayToObject(o, "extents")) != NULL;
	for (size_t i = 0; ok && i < f->nextents; i++) {
		const struct ag_esx_extent *e = &f->extents[i];
		cJSON *x, *ads;

		if (strcmp(e->uuid, fs->uuid) != 0)
			continue;
		ok = (x = cJSON_CreateObject()) != NULL && cJSON_AddItemToArray(exts, x);
		if (!ok) {
			cJSON_Delete(x);
			break;
		}
		ok = cJSON_AddStringToObject(x, "device", e->device) &&
		     cJSON_AddNumberToObject(x, "partition", (double)e->partition) &&
		     (ads = cJSON_AddArrayToObject(x, "adapters")) != NULL &&
		     extent_adapters(f, e->device, ads);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Mounted VMFS volumes (VMFS-3/5/6, not the OSDATA VMFS-L or vfat, NFS, vSAN). */
static bool is_datastore(const struct ag_esx_filesystem *fs)
{
	return fs->mounted && starts(fs->type, "VMFS-");
}

static bool add_lists(cJSON *r, const struct host_facts *f)
{
	cJSON *ads = cJSON_AddArrayToObject(r, "adapters");
	cJSON *dss = cJSON_AddArrayToObject(r, "datastores");
	bool ok = ads != NULL && dss != NULL;

	for (size_t i = 0; ok && i < f->nadapters; i++) {
		cJSON *a = adapter_json(f, i);
		ok = a != NULL && cJSON_AddItemToArray(ads, a);
		if (!ok)
			cJSON_Delete(a);
	}
	for (size_t i = 0; ok && i < f->nfs; i++) {
		cJSON *d;

		if (!is_datastore(&f->fs[i]))
			continue;
		d = datastore_json(f, &f->fs[i]);
		ok = d != NULL && cJSON_AddItemToArray(dss, d);
		if (!ok)
			cJSON_Delete(d);
	}
	return ok;
}

static cJSON *host_json(const struct host_facts *f)
{
	const char *build = f->version.build;
	cJSON *r = cJSON_CreateObject(), *vaai;
	bool ok = r != NULL;

	if (starts(build, BUILD_PREFIX))
		build += strlen(BUILD_PREFIX);
	ok = ok && cJSON_AddStringToObject(r, "hostname",
					   f->name.fqdn[0] ? f->name.fqdn : f->name.host);
	ok = ok && cJSON_AddStringToObject(r, "product", f->version.product);
	ok = ok && cJSON_AddStringToObject(r, "version", f->version.version);
	ok = ok && cJSON_AddStringToObject(r, "build", build);
	ok = ok && add_lists(r, f);
	ok = ok && (vaai = cJSON_AddObjectToObject(r, "vaai")) != NULL;
	ok = ok && cJSON_AddNumberToObject(vaai, "hardware_accelerated_move", (double)f->vaai[0]);
	ok = ok && cJSON_AddNumberToObject(vaai, "hardware_accelerated_init", (double)f->vaai[1]);
	ok = ok && cJSON_AddNumberToObject(vaai, "max_hw_transfer_size", (double)f->vaai[2]);
	if (f->sdc_guid[0] != '\0')
		ok = ok && cJSON_AddStringToObject(r, "sdc_guid", f->sdc_guid);
	else
		ok = ok && cJSON_AddNullToObject(r, "sdc_guid");
	if (!ok) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

AG_OP(op_host_info)
{
	struct host_facts f;
	int rc;

	memset(&f, 0, sizeof(f));
	rc = ask_first(ctx->cfg, &f, err);
	if (rc == 0)
		rc = ask_second(ctx->cfg, &f, err);
	if (rc == 0 && (*result = host_json(&f)) == NULL)
		rc = xp_error_set(err, XP_INTERNAL, "result", "out of memory");
	facts_free(&f);
	return rc;
}
