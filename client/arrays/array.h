/*
 * The storage array layer: what libxclone needs from a SAN array to present a
 * Kubernetes volume's LUN to an ESXi host, the same for every vendor.
 *
 *   xc_array_open(product, secret)  log in (product names as MTV: "pureFlashArray", "ontap", ...)
 *   xc_array_info                   vendor, model, version
 *   xc_array_resolve(pv)            PersistentVolume → LUN (name, id, serial, NAA id, size)
 *   xc_array_ensure_host(initiators) the host / initiator group holding those initiators,
 *                                   created or completed when needed, reused when it exists
 *   xc_array_mappings(lun)          the groups the LUN is mapped to now
 *   xc_array_map / xc_array_unmap   idempotent: mapping twice or unmapping twice is success
 *   xc_array_delete_host(group)     removes a host object the caller created; refused
 *                                   (XC_E_CONFLICT) while a volume is mapped to it
 *   xc_array_restore_mappings       puts back mappings recorded earlier
 *   xc_array_close
 *
 * Every call returns 0 or an XC_E_* code and fills the struct xclone_error.
 * A handle is used by one thread at a time.
 */
#ifndef XCLONE_ARRAY_H
#define XCLONE_ARRAY_H

#include <stddef.h>

#include "http.h"
#include "secret.h"
#include "xclone_error.h"

#define XC_ARRAY_NAME_MAX 512       /* LUN names: ONTAP paths /vol/<volume>/<lun> are long */
#define XC_ARRAY_ID_MAX 128
#define XC_GROUP_NAME_MAX 256
#define XC_INITIATOR_MAX 224        /* an NVMe NQN is at most 223 bytes */
#define XC_HOST_INITIATORS_MAX 32

struct xc_array_info {
	char vendor[64];            /* "Pure Storage" */
	char product[32];           /* the product name it was opened with */
	char model[128];            /* "FA-X70R3", "AFF-A400" */
	char version[128];          /* array software version */
	char name[256];             /* array or cluster name */
	char array_id[XC_ARRAY_ID_MAX];
	char api_version[32];       /* REST API version in use */
};

struct xc_lun {
	char name[XC_ARRAY_NAME_MAX];   /* volume name (Pure) or LUN path (ONTAP) */
	char id[XC_ARRAY_ID_MAX];       /* the array's id of the volume / LUN */
	char array_id[XC_ARRAY_ID_MAX]; /* equal ids = same array (XCOPY possible) */
	char serial[64];
	char naa[64];                   /* exactly as ESXi shows the device: naa.… (eui.… for
	                                 * PowerFlex) */
	unsigned long long size_bytes;
};

/* A PersistentVolume as far as the array cares: spec.csi.volumeHandle and
 * spec.csi.volumeAttributes, plus its name. */
struct xc_attr {
	const char *key;
	const char *value;
};
struct xc_pv {
	const char *name;
	const char *volume_handle;      /* may be NULL */
	const struct xc_attr *attrs;
	size_t n_attrs;
};

enum xc_group_kind {
	XC_GROUP_HOST,      /* Pure host, ONTAP igroup, PowerStore host, 3PAR host */
	XC_GROUP_HOST_SET,  /* Pure host group, PowerStore host group, 3PAR host set */
};

struct xc_host_group {
	char name[XC_GROUP_NAME_MAX];
	enum xc_group_kind kind;
	size_t n_initiators;
	char initiators[XC_HOST_INITIATORS_MAX][XC_INITIATOR_MAX]; /* as the array lists them */
	int truncated;      /* the array listed more than XC_HOST_INITIATORS_MAX */
};

struct xc_host_request {
	const char *name;   /* for a group created here; NULL = derived from the initiators */
	const char *const *initiators; /* ESXi adapter ids: iqn.…, eui.…, fc.WWNN:WWPN, nqn.… */
	size_t n_initiators;
};

struct xc_mapping {
	enum xc_group_kind kind;
	char group[XC_GROUP_NAME_MAX];
	long lun_id;        /* LUN number; -1 = unknown, or "let the array choose" in xc_array_map */
	/* Settings of the mapping beyond its LUN that restoring it must put back, in the
	 * driver's own words ("" = none; PowerFlex: access mode and limits). Opaque to
	 * callers: kept with a recorded mapping and handed back to xc_array_map. */
	char settings[128];
};

struct xc_mapping_list {
	size_t n;
	struct xc_mapping *items;
};

struct xc_host_list {
	size_t n;
	struct xc_host_group *items;
};

struct xc_array_options {
	xc_http_log_fn log;     /* one line per HTTP attempt, secrets redacted; NULL = quiet */
	void *log_ctx;
	unsigned backoff_ms;    /* first retry delay; 0 = the HTTP layer's default */
};

struct xc_array;

/* The i-th product name this build knows (registry order); NULL past the end. */
const char *xc_array_product_at(size_t i);

int xc_array_open(struct xc_array **out, const char *product, struct xc_secret *secret,
		  const struct xc_array_options *opt, struct xclone_error *err);
void xc_array_close(struct xc_array *a);

int xc_array_info(struct xc_array *a, struct xc_array_info *out, struct xclone_error *err);
int xc_array_resolve(struct xc_array *a, const struct xc_pv *pv, struct xc_lun *out,
		     struct xclone_error *err);
int xc_array_ensure_host(struct xc_array *a, const struct xc_host_request *req,
			 struct xc_host_group *out, struct xclone_error *err);
int xc_array_hosts(struct xc_array *a, struct xc_host_list *out, struct xclone_error *err);
int xc_array_mappings(struct xc_array *a, const struct xc_lun *lun, struct xc_mapping_list *out,
		      struct xclone_error *err);
/* result (may be NULL) receives the mapping as the array made it (LUN number). */
int xc_array_map(struct xc_array *a, const struct xc_lun *lun, const struct xc_mapping *target,
		 struct xc_mapping *result, struct xclone_error *err);
/*
 * Deletes a host object ensure_host created (see array_driver.h's delete_host):
 * 0 when gone (already gone included); XC_E_CONFLICT while a volume is mapped to
 * it; XC_E_USAGE on a vendor whose ensure_host creates nothing.
 */
int xc_array_delete_host(struct xc_array *a, const struct xc_host_group *g,
			 struct xclone_error *err);
int xc_array_unmap(struct xc_array *a, const struct xc_lun *lun, const struct xc_mapping *target,
		   struct xclone_error *err);
/* Maps back every mapping of `saved` that is missing now, with its LUN number. */
int xc_array_restore_mappings(struct xc_array *a, const struct xc_lun *lun,
			      const struct xc_mapping_list *saved, struct xclone_error *err);

void xc_array_http_stats(const struct xc_array *a, struct xc_http_stats *out);

void xc_mapping_list_free(struct xc_mapping_list *l);
void xc_host_list_free(struct xc_host_list *l);

/* "host" / "host-set" */
const char *xc_group_kind_name(enum xc_group_kind k);

/* A host object name from free text (an ESXi host name): letters, digits and
 * '-', starting with a letter, at most 63 characters — valid on every vendor. */
void xc_host_name_sanitize(const char *in, char *out, size_t size);

#endif
