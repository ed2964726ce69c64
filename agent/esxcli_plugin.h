/*
 * esxcli mode (`xclone-agent esxcli OP [--NAME VALUE]...`): the executable side
 * of the VIB's esxcli plugin. The contract is vib/README.md, "esxcli plugin
 * contract"; requests go through the ordinary dispatch.
 */
#ifndef XCLONE_AGENT_ESXCLI_PLUGIN_H
#define XCLONE_AGENT_ESXCLI_PLUGIN_H

#include <stdio.h>

#include "dispatch.h"

/* argv[0] is OP. Prints the XML document to out; returns the exit status. */
int ag_esxcli_plugin_run(struct ag_ctx *ctx, int argc, char **argv, FILE *out);

#endif
