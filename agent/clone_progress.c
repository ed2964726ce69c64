/* vmkfstools clone output parser (see clone_progress.h). */
#include <string.h>

#include "ag_text.h"
#include "clone_progress.h"

#define PERCENT_PREFIX "Clone: "
#define PERCENT_SUFFIX "% done."
#define FAILURE_PREFIX "Failed to "

void ag_clone_progress_init(struct ag_clone_progress *p)
{
	memset(p, 0, sizeof(*p));
	p->percent = -1;
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

int ag_clone_percent(const char *s, size_t len, size_t *used)
{
	size_t i = 0, digits;
	unsigned value = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (!starts_with(s + i, len - i, PERCENT_PREFIX))
		return -1;
	i += strlen(PERCENT_PREFIX);
	for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9' && digits < 4; i++, digits++)
		value = value * 10 + (unsigned)(s[i] - '0');
	if (digits == 0 || digits > 3 || value > 100 || (digits > 1 && s[i - digits] == '0'))
		return -1;
	if (!starts_with(s + i, len - i, PERCENT_SUFFIX))
		return -1;
	*used = i + strlen(PERCENT_SUFFIX);
	return (int)value;
}

size_t ag_clone_text_copy(char *dst, size_t cap, const char *src, size_t len)
{
	size_t out = 0, i = 0;

	if (cap == 0)
		return 0;
	while (i < len) {
		size_t n = ag_text_utf8_seq((const unsigned char *)src + i, len - i);

		if (n == 0 || src[i] == '\0') {
			if (out + 1 >= cap)
				break;
			dst[out++] = '?';
			i++;
			continue;
		}
		if (out + n >= cap)
			break;
		memcpy(dst + out, src + i, n);
		out += n;
		i += n;
	}
	dst[out] = '\0';
	return out;
}

/* "<text> (<digits>)." at the end of a failure line: the code vmkfstools printed. */
static bool failure_code(const char *s, size_t len, uint64_t *code)
{
	size_t end, open;

	if (len < 5 || s[len - 1] != '.' || s[len - 2] != ')')
		return false;
	end = len - 2;
	open = end;
	while (open > 0 && s[open - 1] >= '0' && s[open - 1] <= '9')
		open--;
	if (open == end || open < 2 || s[open - 1] != '(' || s[open - 2] != ' ')
		return false;
	return ag_text_u64(s + open, end - open, UINT64_MAX, code) == 0;
}

static unsigned record_failure(struct ag_clone_progress *p, const char *s, size_t len)
{
	p->failed = true;
	p->has_code = failure_code(s, len, &p->code);
	if (!p->has_code)
		p->code = 0;
	ag_clone_text_copy(p->failure, sizeof(p->failure), s, len);
	return AG_PROGRESS_FAILURE;
}

/* Drops bytes from the front so that n more fit, never leaving half a character. */
static void tail_make_room(struct ag_clone_progress *p, size_t n)
{
	size_t cap = sizeof(p->tail) - 1, cut;

	if (p->tail_len + n <= cap)
		return;
	cut = p->tail_len + n - cap;
	if (cut >= p->tail_len) {
		p->tail_len = 0;
		return;
	}
	while (cut < p->tail_len && ((unsigned char)p->tail[cut] & 0xC0) == 0x80)
		cut++;
	memmove(p->tail, p->tail + cut, p->tail_len - cut);
	p->tail_len -= cut;
}

/* Appends piece + '\n', keeping the last XP_STDERR_TAIL_MAX bytes. */
static unsigned tail_add(struct ag_clone_progress *p, const char *s, size_t len)
{
	size_t cap = sizeof(p->tail) - 1;
	char clean[XP_STDERR_TAIL_MAX + 1];
	size_t n;

	if (len > cap - 1) {
		/* Only the end of an overlong piece can survive; skip to a character start. */
		size_t skip = len - (cap - 1);

		while (skip < len && ((unsigned char)s[skip] & 0xC0) == 0x80)
			skip++;
		s += skip;
		len -= skip;
	}
	n = ag_clone_text_copy(clean, sizeof(clean), s, len);
	tail_make_room(p, n + 1);
	memcpy(p->tail + p->tail_len, clean, n);
	p->tail_len += n;
	p->tail[p->tail_len++] = '\n';
	p->tail[p->tail_len] = '\0';
	return AG_PROGRESS_STDERR;
}

unsigned ag_clone_progress_feed(struct ag_clone_progress *p, enum ag_stream stream,
				const char *piece, size_t len)
{
	unsigned changed = 0;
	size_t used = 0;
	int percent;

	p->pieces++;
	if (stream == AG_STREAM_STDERR)
		changed |= tail_add(p, piece, len);
	percent = ag_clone_percent(piece, len, &used);
	if (percent >= 0) {
		if (percent != p->percent)
			changed |= AG_PROGRESS_PERCENT;
		p->percent = percent;
		piece += used;
		len -= used;
	}
	ag_text_trim(&piece, &len);
	if (starts_with(piece, len, FAILURE_PREFIX))
		changed |= record_failure(p, piece, len);
	return changed;
}
