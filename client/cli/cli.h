/*
 * What the xclone commands share: connecting from settings, turning library
 * errors into messages and exit codes, and printing (human or JSON lines).
 * Everything here uses libxclone's public API only.
 */
#ifndef XCLONE_CLI_H
#define XCLONE_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "opts.h"
#include "xclone.h"

/* ---- connecting (connect.c) ---- */

/* Connects with the settings; on failure prints why (and what to do) and returns the exit code. */
int cli_connect(struct cli_settings *s, xclone_conn **out);

/* ---- errors (errors.c) ---- */

/* The exit code of a library error (`xclone help exit-codes`). */
int cli_exit_code(const struct xclone_error *err);

/* Prints err (human, or one JSON line with --json) on stderr; returns its exit code. */
int cli_fail(const struct cli_settings *s, const struct xclone_error *err);

/* Prints the exit code table. */
void cli_help_exit_codes(FILE *out);

/* ---- output (output.c) ---- */

/* Prints obj on one line (no spaces) and deletes it; NULL means out of memory (exit 70). */
int out_json(FILE *out, cJSON *obj);
/* Aligned "key   value" lines. */
void out_kv(FILE *out, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "40.0 GiB" */
const char *fmt_bytes(int64_t bytes, char *buf, size_t cap);
/* "1m02s", "3.2s" */
const char *fmt_duration(int64_t ms, char *buf, size_t cap);
/* "2024-11-22 03:20:00Z" from Unix milliseconds */
const char *fmt_time(int64_t ms, char *buf, size_t cap);

/* ---- JSON of the typed results (json_out.c): PROTOCOL.md's names ---- */

cJSON *json_hello(const struct xclone_hello *h, const struct xclone_peer *peer);
cJSON *json_host_info(const struct xclone_host_info *h);
cJSON *json_device(const struct xclone_device *d);
cJSON *json_preflight(const struct xclone_preflight *p);
cJSON *json_task(const struct xclone_task *t);
cJSON *json_task_list(const struct xclone_task_list *l);
cJSON *json_clean(const struct xclone_clean *c);
cJSON *json_strings(char *const *v, size_t n);

/* ---- human output of records (records.c) ---- */

void print_task(FILE *out, const struct xclone_task *t);
void print_device(FILE *out, const struct xclone_device *d);

/* ---- watching a task (watching.c) ---- */

struct watch_hint {
	int64_t size_bytes;  /* 0: unknown */
	int xcopy_expected;  /* -1 unknown, 0 no, 1 yes */
};

/*
 * Follows task until it is final, showing progress as --progress and --json say,
 * then prints the final record. Returns the exit code: 0 when it succeeded.
 */
int cli_watch(const struct cli_settings *s, xclone_conn *c, const char *task,
	      const struct watch_hint *hint);

/* The exit code a final task state means. */
int cli_task_exit(const struct xclone_task *t);



/* ---- starting a command (connect.c) ---- */

/*
 * Parses argv with doc and, when need_conn, connects. True: go on (*first is the
 * first operand). False: stop and return *exit_code (help printed, bad usage,
 * cannot connect).
 */
bool cli_begin(int argc, char **argv, const struct cli_command_doc *doc, struct cli_settings *s,
	       int *first, xclone_conn **c, int *exit_code);

/* A command with subcommands ("device get"): finds argv[1] among docs[0..n). */
const struct cli_command_doc *cli_subcommand(int argc, char **argv, const char *group,
					     const struct cli_command_doc *docs, size_t n,
					     int *exit_code);

#endif
