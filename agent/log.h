/*
 * Agent logging: syslog with the tag "xclone-agent" (ESXi forwards it to
 * /var/log/syslog.log), optionally mirrored to stderr in local mode.
 * Callers never pass secrets: requests are logged by operation name and id only.
 */
#ifndef XCLONE_AGENT_LOG_H
#define XCLONE_AGENT_LOG_H

#include <syslog.h>

enum ag_log_level { AG_LOG_ERROR = LOG_ERR, AG_LOG_WARN = LOG_WARNING,
		    AG_LOG_INFO = LOG_INFO, AG_LOG_DEBUG = LOG_DEBUG };

/* Opens syslog; max_level filters (messages above it are dropped). */
void ag_log_open(int max_level, int mirror_stderr);
void ag_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
