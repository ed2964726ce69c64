/* Bounded reads of small files (configuration, VMDK descriptors). */
#ifndef XCLONE_AGENT_AG_FILE_H
#define XCLONE_AGENT_AG_FILE_H

#include <stddef.h>

/*
 * Reads from fd until EOF or cap bytes, whichever comes first; *len gets the
 * count. Callers pass cap = limit + 1 to notice a file larger than the limit.
 * 0 on success, -1 with errno on a read error.
 */
int ag_file_read_bounded(int fd, char *buf, size_t cap, size_t *len);

#endif
