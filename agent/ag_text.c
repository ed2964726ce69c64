/* Bounded text helpers for the agent's strict parsers. */
#include <string.h>

#include "ag_text.h"

int ag_text_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ag_text_hex32(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0;

	if (len == 0 || len > 8)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int d = hex_digit(s[i]);

		if (d < 0)
			return -1;
		v = (v << 4) | (uint32_t)d;
	}
	*out = v;
	return 0;
}

size_t ag_text_utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool ag_text_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = ag_text_utf8_seq(p + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

bool ag_text_has_ctl(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

void ag_text_trim(const char **s, size_t *len)
{
	const char *p = *s;
	size_t n = *len;

	while (n > 0 && (p[0] == ' ' || p[0] == '\t'))
		p++, n--;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	*s = p;
	*len = n;
}

int ag_text_copy(char *dst, size_t cap, const char *s, size_t len)
{
	if (cap == 0)
		return -1;
	if (len >= cap) {
		dst[0] = '\0';
		return -1;
	}
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

bool ag_text_eq(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

bool ag_text_ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

bool ag_text_path_has_dot_dir(const char *p, size_t len)
{
	size_t i = 0;

	while (i <= len) {
		size_t j = i;

		while (j < len && p[j] != '/')
			j++;
		if ((j - i == 1 && p[i] == '.') || (j - i == 2 && p[i] == '.' && p[i + 1] == '.'))
			return true;
		i = j + 1;
	}
	return false;
}

/* Appends one rendered unit if it fits with room left for "..." and the NUL. */
static bool quote_put(char *buf, size_t cap, size_t *at, const char *unit, size_t n)
{
	if (*at + n + 4 > cap)
		return false;
	memcpy(buf + *at, unit, n);
	*at += n;
	return true;
}

const char *ag_text_quote(char *buf, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t at = 0, i = 0;

	if (cap == 0)
		return buf;
	if (cap < 8) {
		buf[0] = '\0';
		return buf;
	}
	while (i < len) {
		char esc[4] = { '\\', 'x', 0, 0 };
		size_t n = p[i] >= 0x80 ? ag_text_utf8_seq(p + i, len - i) : 1;
		bool fits;

		if (p[i] == '\\') {
			fits = quote_put(buf, cap, &at, "\\\\", 2);
		} else if (n == 0 || (n == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
			esc[2] = hex[p[i] >> 4];
			esc[3] = hex[p[i] & 0xf];
			fits = quote_put(buf, cap, &at, esc, 4);
			n = 1;
		} else {
			fits = quote_put(buf, cap, &at, s + i, n);
		}
		if (!fits) {
			memcpy(buf + at, "...", 3);
			at += 3;
			break;
		}
		i += n;
	}
	buf[at] = '\0';
	return buf;
}
