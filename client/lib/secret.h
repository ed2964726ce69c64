/*
 * Array credentials and settings, read by key from the environment or from a
 * mounted secret folder (Kubernetes style: one file per key, the file's content
 * is the value, one trailing newline trimmed).
 *
 * Key names are those of the MTV copy-offload secrets (STORAGE_HOSTNAME,
 * STORAGE_USERNAME, ...), so a user's secret works unchanged. Keys are looked up
 * when asked for, so a new vendor's keys need no change here.
 *
 * Precedence: a key present in the folder and in the environment with the same
 * value is fine; with different values it is contradictory and reported as
 * XC_E_CONFIG naming the key (never the values). A key present in only one of
 * them is taken from there.
 */
#ifndef XCLONE_SECRET_H
#define XCLONE_SECRET_H

#include <stddef.h>

#include "xclone_error.h"

/* Largest value accepted from a file or the environment (a CA path, a token...). */
#define XC_SECRET_VALUE_MAX 4096

struct xc_secret;

/* dir may be NULL: environment only. The folder must exist when given. */
int xc_secret_open(struct xc_secret **out, const char *dir, struct xclone_error *err);

/*
 * *value = the key's value, or NULL when the key is set nowhere. The string
 * lives until xc_secret_close. Errors: unreadable file, contradiction, bad name.
 */
int xc_secret_get(struct xc_secret *s, const char *key, const char **value,
		  struct xclone_error *err);

/* Like xc_secret_get, but a missing or empty key is XC_E_CONFIG naming it. */
int xc_secret_require(struct xc_secret *s, const char *key, const char **value,
		      struct xclone_error *err);

/* true/false/yes/no/1/0 (any case); absent → dflt; anything else → XC_E_CONFIG. */
int xc_secret_get_bool(struct xc_secret *s, const char *key, int dflt, int *out,
		       struct xclone_error *err);

/* A decimal integer in [min, max]; absent → dflt; anything else → XC_E_CONFIG. */
int xc_secret_get_uint(struct xc_secret *s, const char *key, unsigned dflt, unsigned min,
		       unsigned max, unsigned *out, struct xclone_error *err);

/* Where the secret comes from, for messages: the folder, or "the environment". */
const char *xc_secret_source(const struct xc_secret *s);

/* Wipes every value read (they may be passwords) and frees. NULL is fine. */
void xc_secret_close(struct xc_secret *s);

#endif
