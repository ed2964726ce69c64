/*
 * Bounded text helpers shared by the agent's strict parsers (configuration,
 * VMDK descriptors, SSH_ORIGINAL_COMMAND, paths). Every function takes an
 * explicit length; none needs a NUL terminator and none allocates.
 */
#ifndef XCLONE_AGENT_AG_TEXT_H
#define XCLONE_AGENT_AG_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal digits only (no sign, no space), value <= max. 0 on success, -1 otherwise. */
int ag_text_u64(const char *s, size_t len, uint64_t max, uint64_t *out);

/* 1 to 8 hexadecimal digits, no prefix. 0 on success, -1 otherwise. */
int ag_text_hex32(const char *s, size_t len, uint32_t *out);

/* Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
bool ag_text_utf8_valid(const char *s, size_t len);

/* True when s holds a C0 control byte (including NUL, tab, CR, LF) or DEL. */
bool ag_text_has_ctl(const char *s, size_t len);

/* Removes spaces and tabs at both ends of (*s, *len). */
void ag_text_trim(const char **s, size_t *len);

/* Copies (s, len) into dst with a NUL; -1 (dst set to "") when it does not fit. */
int ag_text_copy(char *dst, size_t cap, const char *s, size_t len);

/* True when (s, len) equals the NUL-terminated word. */
bool ag_text_eq(const char *s, size_t len, const char *word);

/* True when (s, len) ends with the NUL-terminated suffix. */
bool ag_text_ends_with(const char *s, size_t len, const char *suffix);

/*
 * Renders untrusted bytes for an error message or a log line: printable ASCII
 * and valid UTF-8 stay as they are, anything else becomes \xNN, a backslash
 * becomes \\, and the result is cut (ending in "...") to fit cap. Returns buf.
 */
const char *ag_text_quote(char *buf, size_t cap, const char *s, size_t len);

/* True when a '/'-separated path has a "." or ".." component. */
bool ag_text_path_has_dot_dir(const char *p, size_t len);

/* Length of the UTF-8 sequence starting at s (1..4), 0 when not well-formed. */
size_t ag_text_utf8_seq(const unsigned char *s, size_t len);

#endif
