/*
 * NAA device ids (SCSI VPD page 0x83, designator type 3) as ESXi shows them:
 * "naa." and 32 lower-case hex digits for the NAA type 6 (registered extended)
 * ids that SAN arrays use. Each vendor builds its id from its own serial form;
 * these are the two building blocks.
 */
#ifndef XCLONE_NAA_H
#define XCLONE_NAA_H

#include <stddef.h>

#include "xclone_error.h"

#define XC_NAA_MAX 64

/* "naa." + prefix + hex (lower-cased). hex must be hex digits; the total must be
 * 32 digits. XC_E_PROTOCOL otherwise (the array sent something unexpected). */
int xc_naa_from_hex(const char *prefix, const char *hex, char *out, size_t size,
		    struct xclone_error *err);

/* "naa." + prefix + the hex of each byte of text (ONTAP's serial form). */
int xc_naa_from_ascii(const char *prefix, const char *text, char *out, size_t size,
		      struct xclone_error *err);

/* Whether s is "naa." + 32 lower-case hex digits, or + 16 starting with 5 (NAA 5). */
int xc_naa_is_valid(const char *s);

/* Whether s is a device id as ESXi shows a SAN LUN: a valid NAA id (above), or
 * "eui." + 16 or 32 lower-case hex digits (EUI-64 / NGUID designators: PowerFlex
 * volumes, NVMe namespaces). */
int xc_device_id_is_valid(const char *s);

#endif
