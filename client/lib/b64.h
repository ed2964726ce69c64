/* Base64 (RFC 4648, standard alphabet) for key blobs, fingerprints and hashed host names. */
#ifndef XCLONE_B64_H
#define XCLONE_B64_H

#include <stddef.h>

/*
 * Decodes text[0..len) (padding optional, no whitespace) into out (cap bytes).
 * Returns the decoded length, or -1 when the text is not base64 or does not fit.
 */
long xc_b64_decode(const char *text, size_t len, unsigned char *out, size_t cap);

/* Encodes data into out (NUL-terminated); pad 0 drops the '='. -1 when cap is too small. */
int xc_b64_encode(const unsigned char *data, size_t len, char *out, size_t cap, int pad);

#endif
