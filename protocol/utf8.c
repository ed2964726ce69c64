/* UTF-8: strict validation, and copying that never produces invalid text. */
#include <string.h>

#include "xp_utf8.h"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

static bool is_cont(unsigned char b)
{
	return (b & 0xC0) == 0x80;
}

size_t xp_utf8_char(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
	size_t n;
	uint32_t v;

	if (len == 0)
		return 0;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] >= 0xC2 && u[0] <= 0xDF) {
		n = 2;
		v = u[0] & 0x1F;
	} else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
		n = 3;
		v = u[0] & 0x0F;
		if (u[0] == 0xE0)
			lo = 0xA0; /* overlong below U+0800 */
		if (u[0] == 0xED)
			hi = 0x9F; /* surrogates U+D800..U+DFFF */
	} else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
		n = 4;
		v = u[0] & 0x07;
		if (u[0] == 0xF0)
			lo = 0x90; /* overlong below U+10000 */
		if (u[0] == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (len < n || u[1] < lo || u[1] > hi)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (!is_cont(u[i]))
			return 0;
		v = (v << 6) | (u[i] & 0x3F);
	}
	*cp = v;
	return n;
}

bool xp_utf8_valid(const char *s, size_t len, size_t *bad_at)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		n = xp_utf8_char(s + i, len - i, &cp);
		if (n == 0) {
			if (bad_at != NULL)
				*bad_at = i;
			return false;
		}
		i += n;
	}
	return true;
}

bool xp_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/*
 * The one copying loop. Writes whole characters while they fit in cap - 1 bytes;
 * *all_copied says whether src was consumed entirely.
 */
static size_t copy_clean(char *dst, size_t cap, const char *src, size_t len, bool hide_controls,
			 bool *all_copied)
{
	size_t in = 0, out = 0, n;
	uint32_t cp;

	*all_copied = true;
	if (cap == 0)
		return 0;
	while (in < len) {
		const char *piece = src + in;
		size_t piece_len;

		n = xp_utf8_char(src + in, len - in, &cp);
		if (n == 0 || cp == 0) {
			piece = replacement;
			piece_len = 3;
			n = 1;
		} else if (hide_controls && xp_is_control(cp)) {
			piece = "?";
			piece_len = 1;
		} else {
			piece_len = n;
		}
		if (out + piece_len > cap - 1) {
			*all_copied = false;
			break;
		}
		memcpy(dst + out, piece, piece_len);
		out += piece_len;
		in += n;
	}
	dst[out] = '\0';
	return out;
}

size_t xp_utf8_copy(char *dst, size_t cap, const char *src, size_t len)
{
	bool all;

	return copy_clean(dst, cap, src, len, false, &all);
}

void xp_utf8_excerpt(char *dst, size_t cap, const char *src)
{
	size_t len = src ? strlen(src) : 0, out;
	bool all;

	if (cap < 4) {
		copy_clean(dst, cap, src, len, true, &all);
		return;
	}
	out = copy_clean(dst, cap, src, len, true, &all);
	if (all)
		return;
	/* Make room for the marker: cut back to a character boundary. */
	out = copy_clean(dst, cap - 3, src, len, true, &all);
	memcpy(dst + out, "...", 4);
}
