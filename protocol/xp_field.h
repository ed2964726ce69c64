/*
 * Typed fields described by tables: one row per JSON member of a C struct (its
 * name, kind, where it lives, its limits). Request arguments, task records and
 * progress events are all decoded, validated, encoded and compared through these
 * rows, so each rule is written once.
 */
#ifndef XP_FIELD_H
#define XP_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "xp_error.h"

enum xp_kind {
	XP_KIND_NAME, /* char[size]: UTF-8 without control characters */
	XP_KIND_TEXT, /* char[size]: any UTF-8 text (newlines allowed) */
	XP_KIND_INT,  /* int64_t */
	XP_KIND_BOOL, /* bool */
	XP_KIND_WORD, /* an enum stored as unsigned-sized value, one of `words` on the wire */
	XP_KIND_CODE, /* enum xp_code other than XP_OK, its name on the wire */
};

#define XP_NO_FLAG ((size_t)-1)

struct xp_field {
	const char *name;
	enum xp_kind kind;
	size_t offset;
	size_t size;               /* NAME/TEXT: buffer bytes */
	size_t has;                /* offset of a bool presence flag, or XP_NO_FLAG */
	bool nullable;             /* an absent value is written as null, not omitted */
	int64_t min, max;          /* INT: value range; NAME/TEXT: length in bytes */
	int64_t dflt;              /* INT: value when absent */
	const char *const *words;  /* WORD: names indexed by enum value, NULL-terminated */
};

/* Bit i selects row i of a table (tables have at most 32 rows). */
#define XP_FIELD_BIT(i) ((uint32_t)1 << (i))
#define XP_FIELDS_ALL(n) ((n) >= 32 ? UINT32_MAX : XP_FIELD_BIT(n) - 1)

/*
 * Reads the rows selected by `allowed` from object json into obj. A row in
 * `required` must be present (possibly null when nullable); other absent rows get
 * their flag cleared and their default. Members not in the table are ignored.
 * Errors name prefix.name.
 */
int xp_fields_decode(const struct xp_field *rows, size_t n, uint32_t allowed, uint32_t required,
		     const cJSON *json, void *obj, const char *prefix, struct xp_error *err);

/*
 * Validates and adds the rows selected by `allowed` to object json. A required row
 * without its value is an error; a non-nullable row without its value is omitted.
 */
int xp_fields_encode(const struct xp_field *rows, size_t n, uint32_t allowed, uint32_t required,
		     const void *obj, cJSON *json, const char *prefix, struct xp_error *err);

/* Whether a and b hold the same presence and values in the selected rows. */
bool xp_fields_equal(const struct xp_field *rows, size_t n, uint32_t allowed, const void *a,
		     const void *b);

/* Whether the row's value is present in obj (rows without a flag always are). */
bool xp_field_present(const struct xp_field *row, const void *obj);

/*
 * Setters for code that fills a struct by hand: the value is checked by the same
 * rules as a decoded one, then marked present. On failure the field is cleared
 * (absent, default value) and err names path.
 */
int xp_field_set_string(const struct xp_field *row, void *obj, const char *value, const char *path,
			struct xp_error *err);
int xp_field_set_int(const struct xp_field *row, void *obj, int64_t value, const char *path,
		     struct xp_error *err);
int xp_field_set_word(const struct xp_field *row, void *obj, unsigned value, const char *path,
		      struct xp_error *err);

/* Checks a NAME/TEXT value against the row's rules: the one string rule set. */
int xp_field_check_string(const struct xp_field *row, const char *value, const char *path,
			  struct xp_error *err);

#endif
