/*
 * The numbers of protocol v1 that both halves must agree on. PROTOCOL.md states
 * each of them; change them there first.
 */
#ifndef XP_LIMITS_H
#define XP_LIMITS_H

#include <stdint.h>

#define XP_PROTOCOL_VERSION 1

/* Framing: bytes of one line, not counting its terminating LF. */
#define XP_LINE_MAX 65536
/* Containers (objects and arrays) nested in one line; the envelope is level 1. */
#define XP_DEPTH_MAX 8
/* cJSON cannot parse longer number tokens; refusing them keeps it from failing. */
#define XP_NUMBER_TOKEN_MAX 63

/*
 * Integers travel as JSON numbers. cJSON stores them as double and prints them
 * exactly only below 2^52, so v1 integers are bounded by +-2^50 (1 PiB as bytes,
 * 35 000 years as milliseconds).
 */
#define XP_INT_LIMIT ((int64_t)1 << 50)

/* Maximum lengths in bytes of UTF-8 strings (buffers are one byte larger). */
#define XP_ID_MAX 64
#define XP_OP_MAX 32
#define XP_EVENT_MAX 32
#define XP_CLIENT_MAX 128
#define XP_ADAPTER_MAX 32
#define XP_DEVICE_MAX 255
#define XP_TARGET_MAX 255
#define XP_SOURCE_MAX 4096
#define XP_PATH_MAX 4096
#define XP_KEY_MAX 128
#define XP_TASK_ID_MAX 64
#define XP_MESSAGE_MAX 1024
#define XP_STDERR_TAIL_MAX 2048
#define XP_CODE_NAME_MAX 31

/* device.wait */
#define XP_TIMEOUT_MS_DEFAULT 60000
#define XP_TIMEOUT_MS_MAX 600000

#endif
