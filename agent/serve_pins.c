/* Client-certificate pins of serve (see serve_pins.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ag_text.h"
#include "serve_pins.h"

#define PREFIX "SHA256:"
#define PREFIX_LEN 7

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 64 hex digits, or 32 hex pairs separated by ':' (step 2 or 3). */
static int decode_hex(const char *s, size_t len, unsigned char out[AG_PIN_LEN])
{
	size_t step = len == 2 * AG_PIN_LEN ? 2 : 3;

	if (len != 2 * AG_PIN_LEN && len != 3 * AG_PIN_LEN - 1)
		return -1;
	for (size_t i = 0; i < AG_PIN_LEN; i++) {
		const char *p = s + i * step;
		int hi = hex_value(p[0]), lo = hex_value(p[1]);

		if (hi < 0 || lo < 0)
			return -1;
		if (step == 3 && i + 1 < AG_PIN_LEN && p[2] != ':')
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard base64 of 32 bytes: 43 characters, optionally one '=' after them. */
static int decode_b64(const char *s, size_t len, unsigned char out[AG_PIN_LEN])
{
	unsigned long acc = 0;
	int bits = 0;
	size_t n = 0;

	if (len == 44 && s[43] == '=')
		len = 43;
	if (len != 43)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6 | (unsigned long)v) & 0xffffffUL;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* 43 x 6 = 258 bits: the last 2 must be zero, or the text is not canonical. */
	return n == AG_PIN_LEN && (acc & ((1UL << bits) - 1)) == 0 ? 0 : -1;
}

static int parse_item(const char *s, size_t len, unsigned char out[AG_PIN_LEN])
{
	bool prefixed = len >= PREFIX_LEN && strncasecmp(s, PREFIX, PREFIX_LEN) == 0;

	if (prefixed) {
		s += PREFIX_LEN;
		len -= PREFIX_LEN;
	}
	if (decode_hex(s, len, out) == 0)
		return 0;
	return prefixed ? decode_b64(s, len, out) : -1;
}

int ag_pins_parse(struct ag_pins *pins, const char *s, size_t len, char *why, size_t cap)
{
	size_t pos = 0;

	memset(pins, 0, sizeof(*pins));
	if (len == 0)
		return 0;
	for (;;) {
		const char *comma = memchr(s + pos, ',', len - pos);
		const char *item = s + pos;
		size_t n = comma ? (size_t)(comma - item) : len - pos;
		unsigned char digest[AG_PIN_LEN];
		char q[96];

		ag_text_trim(&item, &n);
		if (n == 0) {
			snprintf(why, cap, "has an empty item (pins are separated by single commas)");
			goto fail;
		}
		if (parse_item(item, n, digest) != 0) {
			snprintf(why, cap,
				 "item '%s' is not a SHA-256 fingerprint (SHA256:<64 hex digits>, "
				 "hex pairs with ':', or SHA256:<base64>)",
				 ag_text_quote(q, sizeof(q), item, n));
			goto fail;
		}
		if (ag_pins_match(pins, digest)) {
			snprintf(why, cap, "names the fingerprint '%s' twice",
				 ag_text_quote(q, sizeof(q), item, n));
			goto fail;
		}
		if (pins->count == AG_PINS_MAX) {
			snprintf(why, cap, "holds more than %d fingerprints", AG_PINS_MAX);
			goto fail;
		}
		memcpy(pins->sha256[pins->count++], digest, AG_PIN_LEN);
		if (comma == NULL)
			return 0;
		pos = (size_t)(comma - s) + 1;
	}
fail:
	memset(pins, 0, sizeof(*pins));
	return -1;
}

void ag_pin_format(const unsigned char sha256[AG_PIN_LEN], char out[AG_PIN_TEXT_MAX])
{
	static const char digits[] = "0123456789abcdef";

	memcpy(out, PREFIX, PREFIX_LEN);
	for (size_t i = 0; i < AG_PIN_LEN; i++) {
		out[PREFIX_LEN + 2 * i] = digits[sha256[i] >> 4];
		out[PREFIX_LEN + 2 * i + 1] = digits[sha256[i] & 15];
	}
	out[PREFIX_LEN + 2 * AG_PIN_LEN] = '\0';
}

bool ag_pins_match(const struct ag_pins *pins, const unsigned char sha256[AG_PIN_LEN])
{
	for (unsigned i = 0; i < pins->count; i++)
		if (memcmp(pins->sha256[i], sha256, AG_PIN_LEN) == 0)
			return true;
	return false;
}
