/*
 * A durable, append-only journal of JSON lines in a folder of its own: the
 * memory of work that must survive a crash (populate writes "intent" before a
 * side effect and "done" after it).
 *
 *   <dir>/lock            flock held for as long as the journal is open (one
 *                         writer per folder; the kernel drops it when the
 *                         process dies, even by SIGKILL); holds the owner's pid
 *   <dir>/journal.jsonl   one JSON object per line, appended, never rewritten
 *
 * xc_journal_append returns only once the line is on disk: the file is
 * fsync'ed, and so is the folder the first time the file appears, so a record
 * that was acknowledged survives a power cut. A crash in the middle of a write
 * leaves a last line without its LF; opening the journal drops that torn tail
 * (it was never acknowledged). A complete line that does not parse is
 * corruption and is reported, never guessed around.
 *
 * A journal handle is used by one thread at a time.
 */
#ifndef XCLONE_JOURNAL_H
#define XCLONE_JOURNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "xclone_error.h"

#define XC_JOURNAL_LINE_MAX 65536

struct xc_journal;

/*
 * Creates the folder (mode 0700, parents too) when missing, takes its lock and
 * reads the records. XC_E_CONFLICT when another process holds the lock (the
 * message names its pid); XC_E_IO for file system failures; XC_E_PROTOCOL for
 * a corrupt line (the message names the line).
 */
int xc_journal_open(const char *dir, struct xc_journal **out, struct xclone_error *err);

/* Closes the file and releases the lock. NULL is fine. */
void xc_journal_close(struct xc_journal *j);

/* The records read at open plus those appended since, oldest first. */
size_t xc_journal_count(const struct xc_journal *j);
const cJSON *xc_journal_at(const struct xc_journal *j, size_t i);

/* Bytes of a torn last line dropped at open (0 when the file ended cleanly). */
size_t xc_journal_dropped(const struct xc_journal *j);

/* The journal file's path. */
const char *xc_journal_path(const struct xc_journal *j);

/* Appends one record (an object) as one line and makes it durable. */
int xc_journal_append(struct xc_journal *j, const cJSON *record, struct xclone_error *err);

#endif
