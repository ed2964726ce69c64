/* Initiator ids: parsing ESXi's forms and comparing with the arrays' forms. */
#define _GNU_SOURCE /* strdup, strcasestr, getentropy, nanosleep under -std=c17 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "initiator.h"

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* 16 hex digits, alone or as 8 colon- (or dash-) separated pairs; out = lower-case hex. */
static int parse_wwn(const char *s, size_t len, char out[17])
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (is_hex(c)) {
			if (n == 16)
				return -1;
			out[n++] = (char)tolower((unsigned char)c);
		} else if ((c == ':' || c == '-') && len == 23 && i % 3 == 2) {
			continue;
		} else {
			return -1;
		}
	}
	if (n != 16)
		return -1;
	out[16] = '\0';
	return 0;
}

/* IQN and EUI names (RFC 3720/3722): lower-case letters, digits, '.', '-', ':'. */
static int valid_iscsi_chars(const char *s)
{
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == ':'))
			return 0;
	}
	return 1;
}

static int valid_nqn_chars(const char *s)
{
	for (; *s; s++) {
		char c = *s;
		if (!(isalnum((unsigned char)c) || c == '.' || c == '-' || c == ':' || c == '_'))
			return 0;
	}
	return 1;
}

/* UUID text: 8-4-4-4-12 hex digits (a PowerFlex SDC GUID). */
static int is_guid(const char *s, size_t len)
{
	if (len != 36)
		return 0;
	for (size_t i = 0; i < len; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !is_hex(s[i]))
			return 0;
	}
	return 1;
}

static int bad(struct xclone_error *err, const char *text, const char *why)
{
	return xclone_error_set(err, XC_E_USAGE, "initiator \"%.100s\": %s", text, why);
}

int xc_initiator_parse(const char *text, struct xc_initiator *out, struct xclone_error *err)
{
	size_t len = text ? strlen(text) : 0;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return bad(err, "", "empty");
	if (len >= sizeof(out->id))
		return bad(err, text, "longer than 223 characters");
	if (strncasecmp(text, "iqn.", 4) == 0 || strncasecmp(text, "eui.", 4) == 0) {
		out->kind = XC_INITIATOR_ISCSI;
		for (size_t i = 0; i < len; i++)
			out->id[i] = (char)tolower((unsigned char)text[i]);
		if (!valid_iscsi_chars(out->id) || len < 5)
			return bad(err, text, "not a valid iSCSI name");
		if (strncmp(out->id, "eui.", 4) == 0) {
			char hex[17];
			if (parse_wwn(out->id + 4, len - 4, hex) != 0 || len != 20)
				return bad(err, text, "an iSCSI EUI name is eui. and 16 hex digits");
		}
		return 0;
	}
	if (strncasecmp(text, "nqn.", 4) == 0) {
		out->kind = XC_INITIATOR_NVME;
		if (!valid_nqn_chars(text) || len < 5)
			return bad(err, text, "not a valid NVMe qualified name");
		memcpy(out->id, text, len + 1);
		return 0;
	}
	if (strncasecmp(text, "scini.", 6) == 0 || is_guid(text, len)) {
		const char *guid = strncasecmp(text, "scini.", 6) == 0 ? text + 6 : text;
		out->kind = XC_INITIATOR_SDC;
		if (!is_guid(guid, strlen(guid)))
			return bad(err, text, "a PowerFlex SDC GUID is 8-4-4-4-12 hex digits");
		for (size_t i = 0; guid[i]; i++)
			out->id[i] = (char)toupper((unsigned char)guid[i]);
		return 0;
	}
	out->kind = XC_INITIATOR_FC;
	if (strncasecmp(text, "fc.", 3) == 0) {
		const char *colon = strchr(text + 3, ':');
		if (colon == NULL || parse_wwn(text + 3, (size_t)(colon - text - 3), out->wwnn) != 0 ||
		    parse_wwn(colon + 1, strlen(colon + 1), out->wwpn) != 0)
			return bad(err, text, "an FC adapter id is fc.<16 hex WWNN>:<16 hex WWPN>");
		snprintf(out->id, sizeof(out->id), "fc.%s:%s", out->wwnn, out->wwpn);
		return 0;
	}
	if (parse_wwn(text, len, out->wwpn) == 0) {
		memcpy(out->id, out->wwpn, sizeof(out->wwpn));
		return 0;
	}
	return bad(err, text, "not an iSCSI name, FC id, NVMe NQN or SDC GUID");
}

int xc_initiators_parse(const char *const *texts, size_t n, struct xc_initiator *out,
			struct xclone_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int rc = xc_initiator_parse(texts[i], &out[i], err);
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++) {
			int same = out[i].kind == XC_INITIATOR_FC
					   ? (out[j].kind == XC_INITIATOR_FC &&
					      strcmp(out[i].wwpn, out[j].wwpn) == 0)
					   : strcmp(out[i].id, out[j].id) == 0;
			if (same)
				return bad(err, texts[i], "given twice");
		}
	}
	return 0;
}

void xc_wwn_format(const char *wwn16, enum xc_wwn_style style, char *buf, size_t size)
{
	size_t o = 0;

	if (size < 24) {
		if (size > 0)
			buf[0] = '\0';
		return;
	}
	for (size_t i = 0; i < 16 && wwn16[i]; i++) {
		char c = wwn16[i];
		if (style != XC_WWN_PLAIN_UPPER && i > 0 && i % 2 == 0)
			buf[o++] = ':';
		buf[o++] = style == XC_WWN_COLON_LOWER ? (char)tolower((unsigned char)c)
						       : (char)toupper((unsigned char)c);
	}
	buf[o] = '\0';
}

int xc_initiator_matches(const struct xc_initiator *ini, const char *array_text)
{
	char hex[17];
	size_t n = 0;

	if (array_text == NULL)
		return 0;
	switch (ini->kind) {
	case XC_INITIATOR_ISCSI:
	case XC_INITIATOR_SDC:
		return strcasecmp(ini->id, array_text) == 0;
	case XC_INITIATOR_NVME:
		return strcmp(ini->id, array_text) == 0;
	case XC_INITIATOR_FC:
		for (const char *p = array_text; *p; p++) {
			if (*p == ':' || *p == '-' || *p == ' ')
				continue;
			if (!is_hex(*p) || n == 16)
				return 0;
			hex[n++] = (char)tolower((unsigned char)*p);
		}
		return n == 16 && memcmp(hex, ini->wwpn, 16) == 0;
	}
	return 0;
}

const char *xc_initiator_kind_name(enum xc_initiator_kind k)
{
	switch (k) {
	case XC_INITIATOR_ISCSI: return "iscsi";
	case XC_INITIATOR_FC: return "fc";
	case XC_INITIATOR_NVME: return "nvme";
	case XC_INITIATOR_SDC: return "sdc";
	}
	return "unknown";
}
