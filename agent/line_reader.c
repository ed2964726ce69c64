/* Bounded line reader (see line_reader.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "line_reader.h"

int ag_line_reader_init(struct ag_line_reader *r, int fd, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->max = max;
	r->buf = malloc(max + 2);
	return r->buf == NULL ? -1 : 0;
}

void ag_line_reader_free(struct ag_line_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Returns the line that starts at r->start if a '\n' ends it within the data. */
static int take_line(struct ag_line_reader *r, char **line, size_t *len)
{
	char *nl = memchr(r->buf + r->start, '\n', r->len - r->start);

	if (nl == NULL)
		return 0;
	*nl = '\0';
	*line = r->buf + r->start;
	*len = (size_t)(nl - *line);
	r->start = (size_t)(nl - r->buf) + 1;
	return 1;
}

enum ag_line_status ag_line_next(struct ag_line_reader *r, char **line, size_t *len)
{
	for (;;) {
		if (take_line(r, line, len))
			return *len > r->max ? AG_LINE_TOO_LONG : AG_LINE_OK;
		/* Compact: move the unread part to the front. */
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->len - r->start);
			r->len -= r->start;
			r->start = 0;
		}
		if (r->len > r->max)
			return AG_LINE_TOO_LONG;
		if (r->eof) {
			if (r->len == 0)
				return AG_LINE_EOF;
			r->buf[r->len] = '\0';
			*line = r->buf;
			*len = r->len;
			r->start = r->len;
			return AG_LINE_OK;
		}
		ssize_t n = read(r->fd, r->buf + r->len, r->max + 1 - r->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return AG_LINE_AGAIN;
			return AG_LINE_ERROR;
		}
		if (n == 0)
			r->eof = 1;
		r->len += (size_t)n;
	}
}
