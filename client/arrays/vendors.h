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

/* powerstore.c: Dell PowerStore REST API (/api/rest) */
extern const struct xc_array_driver xc_driver_powerstore;
/* The ESXi device id of a volume from its "wwn" (naa. + 32 hex digits, NAA type 6). */
int xc_powerstore_naa(const char *wwn, char *out, size_t size, struct xclone_error *err);
/* csi-powerstore's volume handle: <volume uuid>[/<array global id or IP>[/<protocol>
 * [/<remote global id>]]], protocol "scsi", "nfs" or, for Metro, "scsi:<remote uuid>". */
struct xc_powerstore_handle {
	char volume_id[64], array_id[64], protocol[16], remote_volume_id[64], remote_array_id[64];
};
int xc_powerstore_parse_handle(const char *handle, struct xc_powerstore_handle *out,
			       struct xclone_error *err);

/* primera3par.c: HPE 3PAR / Primera / Alletra 9000, WSAPI 1.x */
extern const struct xc_array_driver xc_driver_primera3par;
/* "naa." + the volume's WWN in lower case (32 hex digits, or 16 for NAA 5 ids). */
int xc_primera3par_naa(const char *wwn, char *out, size_t size, struct xclone_error *err);
/* The HPE CSI driver's volume name for a PV: the first 31 characters of its volume
 * handle (which is the PV name). */
int xc_primera3par_volume_name(const char *pv, char *out, size_t size, struct xclone_error *err);
/* name, or when longer than max, its first max-9 characters + "-" + 8 hex of a hash. */
void xc_primera3par_object_name(const char *name, size_t max, char *out, size_t size);

/* vantara.c: Hitachi Vantara VSP, REST API embedded in the array (/ConfigurationManager) */
extern const struct xc_array_driver xc_driver_vantara;
/* "naa." + the LDEV's naaId in lower case; checks Hitachi's prefix 60060e80 and that
 * the last 4 hex digits are ldev_id (ldev_id -1: not checked). */
int xc_vantara_naa(const char *naa_id, long ldev_id, char *out, size_t size,
		   struct xclone_error *err);
/* Storage Plug-in for Containers' volume handle 01--<protocol>--<storage device id>--
 * <LDEV id, decimal>--<nickname>. */
struct xc_vantara_handle {
	char protocol[16], storage_id[32], nickname[128];
	long ldev_id;
};
int xc_vantara_parse_handle(const char *handle, struct xc_vantara_handle *out,
			    struct xclone_error *err);

/* powermax.c: Dell PowerMax, Unisphere for PowerMax REST 9.1-10.3 */
extern const struct xc_array_driver xc_driver_powermax;
/* "naa." + the device's (effective) WWN in lower case: 32 hex digits. */
int xc_powermax_naa(const char *wwn, char *out, size_t size, struct xclone_error *err);
/* csi-powermax's volume handle <identifier>-<array id>-<device id>; for an SRDF pair
 * <identifier>-<array>:<remote array>-<device>:<remote device>. Ids upper-cased. */
struct xc_powermax_handle {
	char identifier[128], sym[16], remote_sym[16], dev[16], remote_dev[16];
};
int xc_powermax_parse_handle(const char *handle, struct xc_powermax_handle *out,
			     struct xclone_error *err);
/* The masking view and storage group xclone makes to show device dev to host (or
 * host group) group: xclone-<dev>-<group> and the same + "-SG", 64 characters at most
 * (a long group name is cut and ends with 8 hex digits of its hash). */
void xc_powermax_object_names(const char *group, const char *dev, char *mv, size_t mv_size,
			      char *sg, size_t sg_size);

/* infinibox.c: Infinidat InfiniBox, management REST API (/api/rest) */
extern const struct xc_array_driver xc_driver_infinibox;
/* "naa.6" + the volume's 31-hex-digit serial (Infinidat's company id 742b0f first),
 * lower case. */
int xc_infinibox_naa(const char *serial, char *out, size_t size, struct xclone_error *err);
/* The Infinidat CSI driver's volume handle "<volume id>$$<protocol>". */
int xc_infinibox_parse_handle(const char *handle, long long *volume_id, char *protocol,
			      size_t size, struct xclone_error *err);

/* powerflex.c: Dell PowerFlex (ScaleIO, VxFlex OS) REST gateway 3.x/4.x */
extern const struct xc_array_driver xc_driver_powerflex;
/* ESXi's device id of a volume: "eui." + the 16-hex system id + the 16-hex volume id,
 * lower case. */
int xc_powerflex_eui(const char *system_id, const char *volume_id, char *out, size_t size,
		     struct xclone_error *err);
/* csi-powerflex's volume handle <system id>-<volume id> (a bare volume id on older
 * releases; system_id "" then); NFS handles <system id>/<fs id> are refused. */
struct xc_powerflex_handle {
	char system_id[17], volume_id[17];
};
int xc_powerflex_parse_handle(const char *handle, struct xc_powerflex_handle *out,
			      struct xclone_error *err);
/* A mapping's access mode and limits, kept in struct xc_mapping.settings as
 * "accessMode=<mode>;limitIops=<n>;limitBwInMbps=<n>" (mappedSdcInfo's names); parsing
 * "" gives ReadWrite without limits. */
struct xc_powerflex_settings {
	char access_mode[32];
	unsigned long long limit_iops, limit_bw_mbps;
};
void xc_powerflex_settings_format(const struct xc_powerflex_settings *s, char *out, size_t size);
int xc_powerflex_settings_parse(const char *text, struct xc_powerflex_settings *out,
				struct xclone_error *err);

/* flashsystem.c: IBM FlashSystem / SVC (Storage Virtualize), RESTful API on port 7443 */
extern const struct xc_array_driver xc_driver_flashsystem;
/* "naa." + the vdisk_UID in lower case (32 hex digits, IBM's 6005076 first). */
int xc_flashsystem_naa(const char *uid, char *out, size_t size, struct xclone_error *err);
/* The IBM block CSI driver's volume handle: SVC:<id>;<uid>, SVC:<system>:<id>;<uid>, or
 * the legacy SVC:<uid>; uid upper-cased, ids "" when absent. */
struct xc_flashsystem_handle {
	char system_id[64], internal_id[24], uid[33];
};
int xc_flashsystem_parse_handle(const char *handle, struct xc_flashsystem_handle *out,
				struct xclone_error *err);

#endif
