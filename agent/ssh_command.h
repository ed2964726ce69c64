/*
 * SSH_ORIGINAL_COMMAND: what the client asked for when sshd runs the forced
 * command `xclone-agent ssh`. Exactly one of:
 *   - one JSON request line: starts with '{'; returned untouched (pointer and
 *     length into the input) for the protocol decoder;
 *   - the word "session": requests follow on stdin, one per line;
 *   - the Forklift vmkfstools-wrapper form "DS=<datastore>;CMD=<args>", args
 *     being exactly what Forklift's populator sends (see README-compat.md):
 *       --clone -s <source> -t <device>
 *       --task-get -i <task id>
 *       --task-clean -i <task id>
 *       --version
 *     An empty datastore ("DS=;CMD=...") is Forklift's connectivity probe and
 *     answers SSH_OK whatever follows.
 * Anything else is an error and nothing is executed. The whole value is at most
 * 64 KiB and holds no NUL, CR or LF. Nothing here applies shell rules: the
 * source ends at the last " -t " (a device id never holds a space), so a path
 * with spaces, quotes, '$()', ';' or backslashes is taken literally.
 */
#ifndef XCLONE_AGENT_SSH_COMMAND_H
#define XCLONE_AGENT_SSH_COMMAND_H

#include <stddef.h>

#include "ag_error.h"
#include "path_policy.h"

#define AG_SSHCMD_MAX 65536 /* bytes of SSH_ORIGINAL_COMMAND accepted */

enum ag_sshcmd_code {
	AG_SSHCMD_OK = 0,
	AG_SSHCMD_E_EMPTY,    /* unset or empty */
	AG_SSHCMD_E_TOO_LONG, /* more than AG_SSHCMD_MAX bytes */
	AG_SSHCMD_E_BYTES,    /* NUL, CR or LF */
	AG_SSHCMD_E_UNKNOWN,  /* not a request, "session" or "DS=...;CMD=..." */
	AG_SSHCMD_E_COMPAT,   /* compatibility form with an unknown verb or wrong arguments */
	AG_SSHCMD_E_FIELD,    /* a datastore, task id, source or device value is malformed */
};

enum ag_sshcmd_mode { AG_SSHCMD_REQUEST, AG_SSHCMD_SESSION, AG_SSHCMD_COMPAT };

enum ag_compat_verb {
	AG_COMPAT_NONE,       /* not the compatibility form */
	AG_COMPAT_PING,       /* empty DS: answer "SSH_OK" */
	AG_COMPAT_CLONE,      /* source, device */
	AG_COMPAT_TASK_GET,   /* task_id */
	AG_COMPAT_TASK_CLEAN, /* task_id */
	AG_COMPAT_VERSION,
};

struct ag_sshcmd {
	enum ag_sshcmd_mode mode;
	const char *request;  /* REQUEST: the line, inside the parsed input */
	size_t request_len;
	enum ag_compat_verb verb;
	char datastore[AG_DATASTORE_NAME_MAX + 1]; /* COMPAT: DS=, "" for PING */
	char source[AG_PATH_MAX];                  /* CLONE: as given, for the path policy */
	char device[AG_PATH_MAX];                  /* CLONE: as given, for the path policy */
	char task_id[AG_TASK_ID_MAX + 1];          /* TASK_GET, TASK_CLEAN */
};

/* Classifies and parses cmd (NULL means unset). out->request points into cmd. */
int ag_sshcmd_parse(const char *cmd, size_t len, struct ag_sshcmd *out, struct ag_error *err);

/*
 * The esxcli plugin form of the same verbs (`xclone-agent compat <args>`):
 * args is exactly one of the argument lists above, one argument per element.
 * Sets mode COMPAT with an empty datastore.
 */
int ag_compat_parse_argv(int argc, char *const argv[], struct ag_sshcmd *out,
			 struct ag_error *err);

const char *ag_compat_verb_name(enum ag_compat_verb verb); /* "clone", "task-get", ... */
const char *ag_sshcmd_code_name(int code);                 /* "E_EMPTY", ... */

#endif
