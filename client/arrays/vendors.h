/*
 * Every vendor driver of this build, and the vendor-specific functions that
 * have unit tests of their own (NAA ids, CSI naming). One block per vendor.
 */
#ifndef XCLONE_VENDORS_H
#define XCLONE_VENDORS_H

#include <stddef.h>

#include "array_driver.h"

/* pure.c: Pure Storage FlashArray, REST 2.x */
extern const struct xc_array_driver xc_driver_pure;
/* "naa.624a9370" + the 24-hex-digit serial in lower case. */
int xc_pure_naa(const char *serial, char *out, size_t size, struct xclone_error *err);
/* PX-CSI volume name: "<prefix>-<pv name>". */
int xc_pure_volume_name(const char *prefix, const char *pv_name, char *out, size_t size,
			struct xclone_error *err);

/* ontap.c: NetApp ONTAP 9 REST */
extern const struct xc_array_driver xc_driver_ontap;
/* "naa.600a0980" + hex of the 12 ASCII bytes of the serial, lower case. */
int xc_ontap_naa(const char *serial, char *out, size_t size, struct xclone_error *err);
/* The LUN path Trident gives a PV: from volumeAttributes internalID
 * (/svm/<svm>/flexvol/<vol>/lun/<lun>, ontap-san-economy), else internalName
 * (/vol/<internalName>/lun0, ontap-san), else from the PV name with Trident's
 * default storage prefix "trident". */
int xc_ontap_lun_path(const struct xc_pv *pv, char *out, size_t size, struct xclone_error *err);

#endif
