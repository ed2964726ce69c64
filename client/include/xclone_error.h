/*
 * libxclone error values. Every libxclone call returns an int (0 = success,
 * otherwise an XC_E_* code) and, when given one, fills a struct xclone_error with
 * the code and a human message that says what went wrong and, where it can, what
 * to do. Messages never contain passwords, tokens or private key material.
 */
#ifndef XCLONE_ERROR_H
#define XCLONE_ERROR_H

#include <stddef.h>

enum xclone_code {
	XC_OK = 0,
	XC_E_USAGE,       /* bad argument from the caller */
	XC_E_CONFIG,      /* missing or contradictory setting (names the key) */
	XC_E_CONNECT,     /* cannot reach the peer */
	XC_E_AUTH,        /* authentication refused (SSH key, array login) */
	XC_E_HOSTKEY,     /* peer identity does not match what is trusted */
	XC_E_TIMEOUT,     /* a deadline passed */
	XC_E_PROTOCOL,    /* the peer said something that does not parse */
	XC_E_REMOTE,      /* the agent or the array answered with an error */
	XC_E_NOT_FOUND,   /* volume, host or task does not exist */
	XC_E_CONFLICT,    /* the request contradicts the peer's state */
	XC_E_IO,          /* local file or system call failure */
	XC_E_NOMEM,
	XC_E_INTERNAL,
	XC_E_AGENT,       /* the agent could not be started or ended without answering */
	XC_E_ABORTED,     /* the caller stopped it (a watch callback returned non-zero) */
};

struct xclone_error {
	enum xclone_code code;
	char remote_code[32]; /* the agent's error code or array error id, when any */
	int http_status;      /* for array errors, 0 otherwise */
	char message[512];
	int retryable;        /* the same call may succeed when repeated unchanged */
};

/* Fills err (when not NULL; retryable cleared) and returns code. printf-style message. */
int xclone_error_set(struct xclone_error *err, enum xclone_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The stable name of a code, e.g. "XC_E_TIMEOUT". */
const char *xclone_code_name(enum xclone_code code);

#endif
