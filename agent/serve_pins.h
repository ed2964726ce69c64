/*
 * serve: the setting `serve_client_pins`, SHA-256 fingerprints of the only client
 * certificates serve accepts (after the CA has verified them). libc only, so the
 * configuration parser can validate the setting without OpenSSL.
 *
 * Grammar: items separated by ',' (blanks around an item are ignored); empty text
 * means "no pins" (any certificate the CA signed). One item is the SHA-256 of the
 * certificate's DER encoding, written as
 *   SHA256:<64 hex digits>           what `xclone-certs pin` and `config` print
 *   SHA256:<32 hex pairs with ':'>   what `openssl x509 -fingerprint -sha256` prints
 *   SHA256:<base64, 43 or 44 chars>  OpenSSH's style (padding optional)
 * The prefix is case-insensitive and may be left out for the two hex forms. A
 * repeated fingerprint is an error (a typo is likelier than intent).
 */
#ifndef XCLONE_AGENT_SERVE_PINS_H
#define XCLONE_AGENT_SERVE_PINS_H

#include <stdbool.h>
#include <stddef.h>

#define AG_PINS_MAX 16
#define AG_PIN_LEN 32                  /* bytes of a SHA-256 digest */
#define AG_PIN_TEXT_MAX (7 + 64 + 1)   /* "SHA256:" + hex + NUL */

struct ag_pins {
	unsigned count;
	unsigned char sha256[AG_PINS_MAX][AG_PIN_LEN];
};

/*
 * Parses the setting's text into pins (cleared first). 0 on success; -1 with the
 * reason in why (the item is quoted safely) otherwise, pins then left empty.
 */
int ag_pins_parse(struct ag_pins *pins, const char *s, size_t len, char *why, size_t cap);

/* "SHA256:<64 lowercase hex digits>" into out (AG_PIN_TEXT_MAX bytes). */
void ag_pin_format(const unsigned char sha256[AG_PIN_LEN], char out[AG_PIN_TEXT_MAX]);

/* Whether the digest is one of the pins. */
bool ag_pins_match(const struct ag_pins *pins, const unsigned char sha256[AG_PIN_LEN]);

#endif
