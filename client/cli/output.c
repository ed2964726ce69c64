/* Printing helpers (see cli.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "cli_exit.h"

int out_json(FILE *out, cJSON *obj)
{
	char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;

	cJSON_Delete(obj);
	if (text == NULL) {
		fprintf(stderr, "xclone: out of memory\n");
		return EXIT_INTERNAL;
	}
	fprintf(out, "%s\n", text);
	fflush(out);
	free(text);
	return EXIT_OK;
}

void out_kv(FILE *out, const char *key, const char *fmt, ...)
{
	va_list ap;

	fprintf(out, "%-12s ", key);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

const char *fmt_bytes(int64_t bytes, char *buf, size_t cap)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%lld B", (long long)bytes);
	else
		snprintf(buf, cap, "%.1f %s", v, units[u]);
	return buf;
}

const char *fmt_duration(int64_t ms, char *buf, size_t cap)
{
	int64_t s = ms / 1000;

	if (ms < 0)
		snprintf(buf, cap, "?");
	else if (s < 60)
		snprintf(buf, cap, "%.1fs", (double)ms / 1000.0);
	else if (s < 3600)
		snprintf(buf, cap, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(buf, cap, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	return buf;
}

const char *fmt_time(int64_t ms, char *buf, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, cap, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "%lld", (long long)ms);
	return buf;
}
