/*
 * The contract between the array layer (array.c) and one vendor's driver.
 * A driver is one file, <vendor>.c, defining one const struct xc_array_driver
 * and listed in registry.c / vendors.h. README.md beside this file says how to
 * add one.
 *
 * The layer has already: opened the HTTPS session from the common secret keys
 * (STORAGE_HOSTNAME, STORAGE_SKIP_SSL_VERIFICATION, STORAGE_CA_FILE,
 * STORAGE_HTTP_TIMEOUT_SECONDS), validated and parsed the arguments (initiators,
 * names), and will close the session after the driver's close.
 * A driver: logs in (and installs its re-login hook), reads its own keys from
 * the secret, speaks its REST dialect, makes map/unmap/ensure_host idempotent,
 * and sends non-idempotent requests through xc_rest_send_checked.
 */
#ifndef XCLONE_ARRAY_DRIVER_H
#define XCLONE_ARRAY_DRIVER_H

#include "array.h"
#include "http.h"
#include "initiator.h"
#include "naa.h"
#include "rest.h"
#include "secret.h"

struct xc_array_session {
	const char *product;
	struct xc_http *http;       /* owned by the layer */
	struct xc_secret *secret;   /* owned by the caller, valid during open only */
};

struct xc_array_driver {
	const char *product;        /* MTV storageVendorProduct, e.g. "pureFlashArray" */
	const char *vendor;         /* "Pure Storage" */
	/* A REST root STORAGE_HOSTNAME may end with, dropped from it (MTV secrets for
	 * PowerStore give gopowerstore's base URL https://<host>/api/rest); NULL: none. */
	const char *url_path;
	/* When STORAGE_HOSTNAME names no port: the secret key holding it (MTV's Vantara
	 * secrets give STORAGE_PORT), else default_port (FlashSystem's REST API listens
	 * on 7443); NULL / 0: https' 443. A port in both places must agree. */
	const char *port_key;
	unsigned default_port;
	/* The initiator kinds the driver maps to, as bits 1u << XC_INITIATOR_*; 0 = iSCSI, FC
	 * and NVMe. The layer drops the others from ensure_host's list (so a caller may pass
	 * every id the host has, the SDC GUID included) and refuses a list left empty. */
	unsigned initiator_kinds;
	int (*open)(const struct xc_array_session *s, void **state, struct xclone_error *err);
	int (*info)(void *state, struct xc_array_info *out, struct xclone_error *err);
	int (*resolve)(void *state, const struct xc_pv *pv, struct xc_lun *out,
		       struct xclone_error *err);
	/* name: valid for every vendor (xc_host_name_sanitize rules); ini: parsed, distinct. */
	int (*ensure_host)(void *state, const char *name, const struct xc_initiator *ini, size_t n,
			   struct xc_host_group *out, struct xclone_error *err);
	int (*hosts)(void *state, struct xc_host_list *out, struct xclone_error *err);
	int (*mappings)(void *state, const struct xc_lun *lun, struct xc_mapping_list *out,
			struct xclone_error *err);
	int (*map)(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		   struct xc_mapping *result, struct xclone_error *err);
	int (*unmap)(void *state, const struct xc_lun *lun, const struct xc_mapping *target,
		     struct xclone_error *err);
	/*
	 * Deletes host object g (as ensure_host returned it; the caller deletes only what
	 * it created) together with what ensure_host made for it alone (its initiators,
	 * a per-host group). 0 when deleted or already gone. XC_E_CONFLICT, deleting
	 * nothing, while a volume is still mapped to it: another populate on the same
	 * host may be using it. Never forces the array (no "delete while mapped" flags).
	 * NULL: ensure_host never creates anything on this vendor.
	 */
	int (*delete_host)(void *state, const struct xc_host_group *g, struct xclone_error *err);
	void (*close)(void *state);
};

/* The registry (registry.c). */
const struct xc_array_driver *xc_array_driver_find(const char *product);
const struct xc_array_driver *xc_array_driver_at(size_t i);

/* Helpers for drivers filling the layer's types. */
const char *xc_pv_attr(const struct xc_pv *pv, const char *key);
int xc_mapping_list_add(struct xc_mapping_list *l, enum xc_group_kind kind, const char *group,
			long lun_id, struct xclone_error *err);
/* The mapping of l with that kind and group, or NULL. */
const struct xc_mapping *xc_mapping_list_find(const struct xc_mapping_list *l,
					      enum xc_group_kind kind, const char *group);
int xc_host_list_add(struct xc_host_list *l, const struct xc_host_group *g,
		     struct xclone_error *err);
/* Fills g's name and kind; XC_E_PROTOCOL when the array's name is too long. */
int xc_host_group_init(struct xc_host_group *g, const char *name, enum xc_group_kind kind,
		       struct xclone_error *err);
/* Appends an initiator as the array wrote it; past the limit sets g->truncated. */
void xc_host_group_add_initiator(struct xc_host_group *g, const char *text);
/* Copies src into a fixed buffer; XC_E_PROTOCOL naming what when too long. */
int xc_copy_field(char *dst, size_t size, const char *src, const char *what,
		  struct xclone_error *err);
/* For delete_host: the array refused a request because a volume is mapped to the
 * host meanwhile. Turns err, already filled in by the driver (message, HTTP status,
 * the array's code kept), into that conflict; err may be NULL. Returns XC_E_CONFLICT. */
int xc_array_conflict(struct xclone_error *err);

#endif
