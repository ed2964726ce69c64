/* Forklift compatibility (see compat.h). The task engine lands with issue 4. */
#include "compat.h"

int ag_compat_run(struct ag_ctx *ctx, const struct ag_sshcmd *cmd)
{
	ag_write_error(ctx, NULL, XP_INTERNAL, "compatibility mode is not built yet");
	return 1;
}
