/* Aligned text tables for human output: columns as wide as their widest cell. */
#ifndef XCLONE_CLI_TABLE_H
#define XCLONE_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_COLS_MAX 8

struct table {
	size_t ncols;
	const char *head[TABLE_COLS_MAX];
	char **cells;    /* nrows * ncols copies */
	size_t nrows, cap;
	int failed;      /* out of memory: printing says so */
};

void table_init(struct table *t, size_t ncols, const char *const *head);
/* Adds a row of ncols cells (copied; control characters become spaces; NULL prints "-"). */
void table_add(struct table *t, const char *const *row);
/* Prints it (the last column unpadded); returns 0, or -1 when a row was lost to memory. */
int table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

/* Display width of UTF-8 text, in characters. */
size_t utf8_width(const char *s);

#endif
