/* Peer identities (see fingerprint.h). */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "b64.h"
#include "fingerprint.h"

#define FP_PREFIX "SHA256:"

void xc_fp_ssh(const unsigned char *blob, size_t len, char out[XC_FP_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t plen = strlen(FP_PREFIX);

	memcpy(out, FP_PREFIX, plen + 1);
	if (EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    xc_b64_encode(md, mdlen, out + plen, XC_FP_MAX - plen, 0) != 0)
		out[plen] = '\0';
}

static size_t unpadded_len(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '=')
		n--;
	return n;
}

bool xc_fp_ssh_valid(const char *s)
{
	size_t plen = strlen(FP_PREFIX);
	unsigned char md[40];

	if (s == NULL || strncmp(s, FP_PREFIX, plen) != 0)
		return false;
	return xc_b64_decode(s + plen, strlen(s + plen), md, sizeof(md)) == 32;
}

bool xc_fp_ssh_equal(const char *given, const char *fp)
{
	size_t n;

	if (!xc_fp_ssh_valid(given))
		return false;
	n = unpadded_len(given);
	return n == unpadded_len(fp) && memcmp(given, fp, n) == 0;
}

void xc_ssh_blob_type(const unsigned char *blob, size_t len, char *out, size_t cap)
{
	uint32_t n;

	out[0] = '\0';
	if (len < 4 || cap == 0)
		return;
	n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
	if (n == 0 || n > len - 4 || n >= cap)
		return;
	for (uint32_t i = 0; i < n; i++) {
		if (!isgraph(blob[4 + i]))
			return;
	}
	memcpy(out, blob + 4, n);
	out[n] = '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int xc_sha256_hex_parse(const char *s, unsigned char out[32])
{
	size_t n = 0;

	if (s == NULL)
		return -1;
	if (strncasecmp(s, "sha256:", 7) == 0)
		s += 7;
	while (*s != '\0') {
		int hi, lo;

		if (*s == ':') {
			s++;
			continue;
		}
		hi = hexval((unsigned char)s[0]);
		lo = hi >= 0 ? hexval((unsigned char)s[1]) : -1;
		if (lo < 0 || n == 32)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	return n == 32 ? 0 : -1;
}

void xc_sha256_hex(const unsigned char digest[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}
