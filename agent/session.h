/*
 * The request loop shared by `ssh` with SSH_ORIGINAL_COMMAND=session and by
 * `local`: one request per line from in_fd, answers in order on ctx->out_fd,
 * until EOF. A line over the protocol's limit is answered with BAD_REQUEST and
 * ends the session, since the stream can no longer be trusted to be in step.
 */
#ifndef XCLONE_AGENT_SESSION_H
#define XCLONE_AGENT_SESSION_H

#include "dispatch.h"

/* 0 at a clean EOF, 1 when the session ended on an error. */
int ag_session_run(struct ag_ctx *ctx, int in_fd);

#endif
