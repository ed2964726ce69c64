/*
 * Strict JSON for protocol lines, on top of cJSON. cJSON alone accepts too much
 * (invalid UTF-8, duplicate keys, "+1", ".5", a BOM, unlimited nesting), so every
 * line goes through xp_json_check first and xp_json_parse adds the duplicate-key
 * rule on the tree. Encoders use xp_json_print_line so no side ever sends a line
 * the other side's decoder would refuse.
 */
#ifndef XP_JSON_H
#define XP_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "xp_error.h"

/*
 * Validates line[0..len) as one protocol line: at most XP_LINE_MAX bytes, exactly
 * one JSON object (RFC 8259 grammar, JSON whitespace around it allowed), valid
 * UTF-8, no NUL (raw or \u0000), surrogate escapes paired, nesting at most
 * XP_DEPTH_MAX, number tokens at most XP_NUMBER_TOKEN_MAX characters.
 * Returns 0 or XP_BAD_REQUEST with the field path where it went wrong.
 */
int xp_json_check(const char *line, size_t len, struct xp_error *err);

/* xp_json_check, cJSON parse, then no duplicate key in any object. *out on 0. */
int xp_json_parse(const char *line, size_t len, cJSON **out, struct xp_error *err);

/*
 * xp_json_check and cJSON parse only: for decoders that look at the tree (to echo
 * a request id) before applying xp_json_check_tree themselves.
 */
int xp_json_parse_syntax(const char *line, size_t len, cJSON **out, struct xp_error *err);

/* Depth and duplicate keys of a tree built in memory; 0 or XP_BAD_REQUEST. */
int xp_json_check_tree(const cJSON *root, struct xp_error *err);

/*
 * Prints root on one line and verifies it passes xp_json_check (size, UTF-8 of
 * every string, depth) and xp_json_check_tree. Returns malloc'd text (free()),
 * or NULL with err->code = fail_code and the reason.
 */
char *xp_json_print_line(const cJSON *root, enum xp_code fail_code, struct xp_error *err);

/* "a string", "a number", "an object", "an array", "a boolean", "null", "nothing" (NULL). */
const char *xp_json_type_name(const cJSON *item);

/* 0 when item is a number with an integral value within +-XP_INT_LIMIT. */
int xp_json_int(const cJSON *item, int64_t *out);

/* A number node holding v (|v| <= XP_INT_LIMIT prints exactly), or NULL. */
cJSON *xp_json_new_int(int64_t v);

#endif
