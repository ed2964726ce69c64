/*
 * The closed list of protocol error codes (PROTOCOL.md, "Error codes"). The wire
 * carries the name; the table in codes.c is the one place names, retryability and
 * the rule for when each code is used are written down.
 */
#ifndef XP_CODES_H
#define XP_CODES_H

#include <stdbool.h>

enum xp_code {
	XP_OK = 0,
	XP_BAD_REQUEST,
	XP_UNKNOWN_OP,
	XP_UNSUPPORTED_VERSION,
	XP_DENIED,
	XP_PATH_DENIED,
	XP_SOURCE_NOT_FOUND,
	XP_SOURCE_UNSUPPORTED,
	XP_TARGET_NOT_FOUND,
	XP_TARGET_UNSAFE,
	XP_TARGET_TOO_SMALL,
	XP_DEVICE_NOT_FOUND,
	XP_ADAPTER_NOT_FOUND,
	XP_BUSY,
	XP_TASK_NOT_FOUND,
	XP_TASK_ACTIVE,
	XP_CLONE_FAILED,
	XP_HOST_COMMAND_FAILED,
	XP_TIMEOUT,
	XP_NO_SPACE,
	XP_INTERNAL,
	XP_CODE_COUNT
};

/* "BAD_REQUEST" ...; "INTERNAL" for a value outside the enum. */
const char *xp_code_name(enum xp_code code);

/* 0 and *out set when name is on the list (case-sensitive), otherwise -1. */
int xp_code_from_name(const char *name, enum xp_code *out);

/* Whether the same request may succeed when sent again unchanged. */
bool xp_code_retryable(enum xp_code code);

/* One sentence: when the agent answers with this code. */
const char *xp_code_when(enum xp_code code);

#endif
