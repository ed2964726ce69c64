/*
 * The error value every agent foundation module fills: a code from the module's
 * own enum (0 = no error), the input line it is about when there is one, and a
 * message naming what was wrong. Messages quote hostile input only through
 * ag_text_quote(), so they are safe to log and to send back.
 */
#ifndef XCLONE_AGENT_AG_ERROR_H
#define XCLONE_AGENT_AG_ERROR_H

#define AG_ERROR_MSG_MAX 512

struct ag_error {
	int code;  /* the module's enum value; 0 means no error */
	int line;  /* 1-based line of the input at fault, 0 when not about a line */
	char msg[AG_ERROR_MSG_MAX];
};

/* Fills err (when not NULL) and returns code, so callers can `return ag_error_set(...)`. */
int ag_error_set(struct ag_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same, recording the input line the error is about. */
int ag_error_set_line(struct ag_error *err, int code, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

void ag_error_clear(struct ag_error *err);

#endif
