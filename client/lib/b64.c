/* Base64 (see b64.h), written out so that padding and errors are exact. */
#include <string.h>

#include "b64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int value_of(char c)
{
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;

	return p != NULL ? (int)(p - alphabet) : -1;
}

long xc_b64_decode(const char *text, size_t len, unsigned char *out, size_t cap)
{
	unsigned long acc = 0;
	size_t n = 0, bits = 0, i;

	while (len > 0 && text[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		int v = value_of(text[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1ul << bits) - 1;
		}
	}
	return acc != 0 ? -1 : (long)n; /* leftover bits must be zero (canonical form) */
}

int xc_b64_encode(const unsigned char *data, size_t len, char *out, size_t cap, int pad)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned long v = (unsigned long)data[i] << 16;
		size_t chunk = len - i < 3 ? len - i : 3;

		if (chunk > 1)
			v |= (unsigned long)data[i + 1] << 8;
		if (chunk > 2)
			v |= data[i + 2];
		for (size_t k = 0; k < 4; k++) {
			char c;

			if (k <= chunk)
				c = alphabet[(v >> (18 - 6 * k)) & 63];
			else if (pad)
				c = '=';
			else
				break;
			if (n + 1 >= cap)
				return -1;
			out[n++] = c;
		}
	}
	if (n >= cap)
		return -1;
	out[n] = '\0';
	return 0;
}
