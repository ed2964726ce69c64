/*
 * Who is asking, and what they may do. Filled once per process from the forced
 * command line (`xclone-agent ssh --read-only --allow=task.get,task.watch`) or,
 * in serve mode, from its configuration; read-only afterwards.
 *
 * The decision itself is one function, ag_request_permitted() in dispatch.c, in
 * the manner of OpenSSH sftp-server's request_permitted(): read-only callers get
 * no operation that changes the host, and an allowlist narrows further.
 */
#ifndef XCLONE_AGENT_CALLER_H
#define XCLONE_AGENT_CALLER_H

#include <stdbool.h>
#include <stdint.h>

#include "ag_error.h"

enum ag_mode { AG_MODE_LOCAL, AG_MODE_SSH, AG_MODE_SERVE, AG_MODE_COMPAT, AG_MODE_ESXCLI };

struct ag_caller {
	enum ag_mode mode;
	bool read_only;
	uint32_t allowed; /* bit per enum xp_op; every bit when no --allow was given */
};

void ag_caller_init(struct ag_caller *c, enum ag_mode mode);

/* Applies `--allow=op,op,...`: unknown or repeated names are an error. */
int ag_caller_parse_allow(struct ag_caller *c, const char *list, struct ag_error *err);

const char *ag_mode_name(enum ag_mode mode);

#endif
