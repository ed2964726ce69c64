/*
 * `xclone-agent serve`: the agent's mutual-TLS socket, the same line protocol as
 * an SSH session (agent/README.md, "serve"). One process, one poll() loop, no
 * threads: TLS connections (serve_conn.h), each running its requests one at a
 * time in forked workers (serve_worker.h).
 *
 * Start-up: the TLS files must load, the address must bind; then the pidfile is
 * written (serve_pidfile.h) and "listening on ADDR:PORT" is logged. Any failure
 * before that is logged and returns 2 without a pidfile. SIGTERM, SIGINT or
 * SIGHUP: stop accepting, close every connection (their workers are killed;
 * clone supervisors are not serve's children and keep running), remove the
 * pidfile, return 0.
 */
#ifndef XCLONE_AGENT_SERVE_H
#define XCLONE_AGENT_SERVE_H

#include "caller.h"
#include "config.h"

/*
 * Runs serve until a stop signal. caller holds the command line's restrictions
 * (--read-only, --allow); serve_read_only and serve_allow narrow them further.
 * Returns 0 after a clean shutdown, 1 when the loop failed, 2 when serve could
 * not start.
 */
int ag_serve_run(const struct ag_config *cfg, const struct ag_caller *caller);

#endif
