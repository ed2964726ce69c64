/* Aligned tables (see table.h). */
#include <stdlib.h>
#include <string.h>

#include "table.h"

void table_init(struct table *t, size_t ncols, const char *const *head)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > TABLE_COLS_MAX ? TABLE_COLS_MAX : ncols;
	for (size_t i = 0; i < t->ncols; i++)
		t->head[i] = head[i];
}

size_t utf8_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++; /* count lead bytes only */
	}
	return n;
}

static char *clean_copy(const char *s)
{
	char *d = strdup(s != NULL ? s : "-");

	for (char *p = d; p != NULL && *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	return d;
}

void table_add(struct table *t, const char *const *row)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **cells = realloc(t->cells, cap * t->ncols * sizeof(char *));

		if (cells == NULL) {
			t->failed = 1;
			return;
		}
		t->cells = cells;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		char *c = clean_copy(row[i]);

		if (c == NULL)
			t->failed = 1;
		t->cells[t->nrows * t->ncols + i] = c;
	}
	t->nrows++;
}

static void print_cell(FILE *out, const char *s, size_t width, int last)
{
	fputs(s, out);
	if (last)
		return;
	for (size_t w = utf8_width(s); w < width + 2; w++)
		fputc(' ', out);
}

int table_print(const struct table *t, FILE *out)
{
	size_t width[TABLE_COLS_MAX] = { 0 };

	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = utf8_width(t->head[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t w = s ? utf8_width(s) : 0;

			if (w > width[c])
				width[c] = w;
		}
	}
	for (size_t c = 0; c < t->ncols; c++)
		print_cell(out, t->head[c], width[c], c + 1 == t->ncols);
	fputc('\n', out);
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			print_cell(out, s ? s : "?", width[c], c + 1 == t->ncols);
		}
		fputc('\n', out);
	}
	if (t->failed)
		fprintf(out, "(rows missing: out of memory)\n");
	return t->failed ? -1 : 0;
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
