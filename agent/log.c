/* Agent logging to syslog (tag xclone-agent). */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

/*
 * Set once at start-up from parsed configuration, read-only afterwards: the
 * "parsed configuration" exception to the no-globals rule.
 */
static int log_max_level = LOG_INFO;
static int log_mirror_stderr;

void ag_log_open(int max_level, int mirror_stderr)
{
	log_max_level = max_level;
	log_mirror_stderr = mirror_stderr;
	openlog("xclone-agent", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void ag_log(int level, const char *fmt, ...)
{
	va_list ap;
	char line[1024];

	if (level > log_max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	syslog(level, "%s", line);
	if (log_mirror_stderr)
		fprintf(stderr, "xclone-agent: %s\n", line);
}
