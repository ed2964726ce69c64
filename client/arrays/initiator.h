/*
 * Host initiator ids as ESXi reports them, parsed once, and compared with the
 * many ways arrays write them (WWPNs with or without colons, any case).
 */
#ifndef XCLONE_INITIATOR_H
#define XCLONE_INITIATOR_H

#include <stddef.h>

#include "array.h"
#include "xclone_error.h"

/* SDC: a PowerFlex SDC GUID (host.info sdc_guid), the identity PowerFlex maps volumes
 * to instead of SCSI initiators. */
enum xc_initiator_kind { XC_INITIATOR_ISCSI, XC_INITIATOR_FC, XC_INITIATOR_NVME, XC_INITIATOR_SDC };

struct xc_initiator {
	enum xc_initiator_kind kind;
	/* iSCSI: iqn.… / eui.… in lower case; FC: fc.<wwnn>:<wwpn> (or the bare WWPN when
	 * no WWNN was given), lower-case hex; NVMe: the NQN unchanged; SDC: the GUID in
	 * upper case. */
	char id[XC_INITIATOR_MAX];
	char wwpn[17];  /* FC only: 16 lower-case hex digits */
	char wwnn[17];  /* FC only, may be empty */
};

/* Accepts iqn.…, eui.<16 hex>, nqn.…, fc.<16 hex>:<16 hex>, a bare WWPN (16 hex
 * digits, optionally in colon-separated pairs), and a PowerFlex SDC GUID (UUID text,
 * bare or as the scini adapter's uid "scini.<GUID>"). Anything else is XC_E_USAGE. */
int xc_initiator_parse(const char *text, struct xc_initiator *out, struct xclone_error *err);

/* Parses a list; duplicates are an XC_E_USAGE error. */
int xc_initiators_parse(const char *const *texts, size_t n, struct xc_initiator *out,
			struct xclone_error *err);

enum xc_wwn_style {
	XC_WWN_PLAIN_UPPER,  /* 21000024FF3A1B2C */
	XC_WWN_COLON_LOWER,  /* 21:00:00:24:ff:3a:1b:2c */
	XC_WWN_COLON_UPPER,  /* 21:00:00:24:FF:3A:1B:2C */
};
/* buf needs 24 bytes. */
void xc_wwn_format(const char *wwn16, enum xc_wwn_style style, char *buf, size_t size);

/* Whether an initiator as an array lists it (any case; WWNs with or without
 * separators) is this initiator. */
int xc_initiator_matches(const struct xc_initiator *ini, const char *array_text);

const char *xc_initiator_kind_name(enum xc_initiator_kind k);

#endif
