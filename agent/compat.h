/*
 * The Forklift vmkfstools-wrapper compatibility interface: answers the verbs of
 * ssh_command.h (clone, task-get, task-clean, version, and the SSH_OK probe) in
 * the wrapper's XML envelope with its JSON message, so an unmodified MTV
 * populator can drive xclone-agent. See README-compat.md for the sourced format.
 */
#ifndef XCLONE_AGENT_COMPAT_H
#define XCLONE_AGENT_COMPAT_H

#include "dispatch.h"
#include "ssh_command.h"

/* Writes the answer to ctx->out_fd; returns the process exit status. */
int ag_compat_run(struct ag_ctx *ctx, const struct ag_sshcmd *cmd);

/*
 * A "DS=...;CMD=..." command that does not parse: answered in the wrapper's XML
 * envelope (status 1) as the wrapper would, not as a JSON protocol error.
 */
int ag_compat_refuse(struct ag_ctx *ctx, const char *message);

#endif
