/* NAA device id building blocks (see naa.h). */
#define _GNU_SOURCE /* strdup, strcasestr, getentropy, nanosleep under -std=c17 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "naa.h"

#define NAA_HEX_DIGITS 32
#define NAA5_HEX_DIGITS 16

static int all_hex(const char *s)
{
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* ESXi shows device ids in lower case. */
static int all_lower_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

int xc_naa_from_hex(const char *prefix, const char *hex, char *out, size_t size,
		    struct xclone_error *err)
{
	size_t plen = strlen(prefix), hlen = strlen(hex), o = 0;

	if (!all_hex(prefix) || !all_hex(hex) || plen + hlen != NAA_HEX_DIGITS)
		return xclone_error_set(err, XC_E_PROTOCOL,
					"cannot build an NAA id from serial \"%.64s\": expected %zu"
					" hex digits",
					hex, NAA_HEX_DIGITS - plen);
	if (size < 4 + NAA_HEX_DIGITS + 1)
		return xclone_error_set(err, XC_E_INTERNAL, "NAA buffer too small");
	memcpy(out, "naa.", 4);
	o = 4;
	for (size_t i = 0; i < plen; i++)
		out[o++] = (char)tolower((unsigned char)prefix[i]);
	for (size_t i = 0; i < hlen; i++)
		out[o++] = (char)tolower((unsigned char)hex[i]);
	out[o] = '\0';
	return 0;
}

int xc_naa_from_ascii(const char *prefix, const char *text, char *out, size_t size,
		      struct xclone_error *err)
{
	static const char digits[] = "0123456789abcdef";
	char hex[NAA_HEX_DIGITS + 1];
	size_t tlen = strlen(text), plen = strlen(prefix);

	if (plen >= NAA_HEX_DIGITS || tlen * 2 + plen != NAA_HEX_DIGITS)
		return xclone_error_set(err, XC_E_PROTOCOL,
					"cannot build an NAA id from serial \"%.64s\": expected %zu"
					" characters",
					text, (NAA_HEX_DIGITS - plen) / 2);
	for (size_t i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)text[i];
		hex[2 * i] = digits[c >> 4];
		hex[2 * i + 1] = digits[c & 15];
	}
	hex[2 * tlen] = '\0';
	return xc_naa_from_hex(prefix, hex, out, size, err);
}

int xc_naa_is_valid(const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	/* NAA 6 ids are 16 bytes; NAA 5 (IEEE registered) ids are 8, as older 3PAR
	 * arrays give their volumes (naa.50002ac…) */
	if (s == NULL || strncmp(s, "naa.", 4) != 0 ||
	    !(len == 4 + NAA_HEX_DIGITS || (len == 4 + NAA5_HEX_DIGITS && s[4] == '5')))
		return 0;
	return all_lower_hex(s + 4);
}

int xc_device_id_is_valid(const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (xc_naa_is_valid(s))
		return 1;
	if (s == NULL || strncmp(s, "eui.", 4) != 0 || (len != 4 + 16 && len != 4 + 32))
		return 0;
	return all_lower_hex(s + 4);
}
