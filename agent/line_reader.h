/*
 * Bounded line reader over a file descriptor, for the request loop of SSH
 * sessions, local mode and serve connections. A line longer than the bound is
 * reported as such (AG_LINE_TOO_LONG) instead of being buffered: the caller
 * answers with an error and closes, so a peer can never make the agent hold more
 * than one bound's worth of memory per connection.
 */
#ifndef XCLONE_AGENT_LINE_READER_H
#define XCLONE_AGENT_LINE_READER_H

#include <stddef.h>
#include <sys/types.h>

enum ag_line_status {
	AG_LINE_OK,       /* a line (without its '\n', NUL-terminated) is in *line */
	AG_LINE_EOF,      /* clean end of input (a final unterminated line is returned first) */
	AG_LINE_TOO_LONG, /* more than max bytes before a newline */
	AG_LINE_ERROR,    /* read error (errno set) */
	AG_LINE_AGAIN,    /* non-blocking fd has no complete line yet */
};

struct ag_line_reader {
	int fd;
	size_t max;   /* longest accepted line, excluding '\n' */
	char *buf;    /* max + 1 bytes */
	size_t len;   /* bytes held */
	size_t start; /* start of the unread part */
	int eof;
};

int ag_line_reader_init(struct ag_line_reader *r, int fd, size_t max);
void ag_line_reader_free(struct ag_line_reader *r);

/*
 * Next line: *line points into the reader's buffer and stays valid until the
 * next call; *len is its length. Blocking or not follows the fd's mode.
 */
enum ag_line_status ag_line_next(struct ag_line_reader *r, char **line, size_t *len);

#endif
