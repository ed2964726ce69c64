/*
 * UTF-8 validation and safe copying. Strict (RFC 3629): no overlong forms, no
 * surrogates, nothing above U+10FFFF, no truncated sequences.
 */
#ifndef XP_UTF8_H
#define XP_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the valid sequence at s (len bytes available), 0 when invalid. */
size_t xp_utf8_char(const char *s, size_t len, uint32_t *cp);

/* true when s[0..len) is valid UTF-8; otherwise *bad_at (if not NULL) = offset. */
bool xp_utf8_valid(const char *s, size_t len, size_t *bad_at);

/* C0 controls, DEL and C1 controls: what "control character" means in PROTOCOL.md. */
bool xp_is_control(uint32_t cp);

/*
 * Copies src[0..len) into dst (cap bytes, always NUL-terminated when cap > 0),
 * replacing invalid sequences and NUL with U+FFFD and stopping at the last whole
 * character that fits. Returns the bytes written. For free text from the host
 * (stderr of vmkfstools) before it goes into a task record.
 */
size_t xp_utf8_copy(char *dst, size_t cap, const char *src, size_t len);

/*
 * Like xp_utf8_copy from a C string, but control characters become '?' and a cut
 * is marked with "...": for quoting untrusted text inside an error message.
 */
void xp_utf8_excerpt(char *dst, size_t cap, const char *src);

#endif
