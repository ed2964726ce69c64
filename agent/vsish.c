/* vsish: the device statistics node and its clone write counter (see vsish.h). */
#include <stdio.h>
#include <string.h>

#include "ag_text.h"
#include "esxcli.h"
#include "log.h"
#include "path_policy.h"
#include "vsish.h"

#define STATS_PREFIX "/storage/scsifw/devices/"

int ag_vsish_stats_node(const char *id, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, STATS_PREFIX "%s/stats", id);

	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

/* Decimal, or 0x followed by 1 to 16 hex digits. */
static int counter_value(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (len - 2 > 16)
			return -1;
		for (size_t i = 2; i < len; i++) {
			char c = s[i];
			int d = (c >= '0' && c <= '9') ? c - '0' :
				(c >= 'a' && c <= 'f') ? c - 'a' + 10 :
				(c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
			if (d < 0)
				return -1;
			v = v << 4 | (uint64_t)d;
		}
		*out = v;
		return 0;
	}
	return ag_text_u64(s, len, UINT64_MAX, out);
}

int ag_vsish_parse_counter(const char *text, size_t len, const char *name, uint64_t *value,
			   bool *found, struct xp_error *err)
{
	const char *p = text, *end = text + len;

	*found = false;
	*value = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end, *colon, *k, *v;
		size_t klen, vlen;

		colon = memchr(p, ':', (size_t)(line_end - p));
		if (colon != NULL) {
			k = p, klen = (size_t)(colon - p);
			v = colon + 1, vlen = (size_t)(line_end - v);
			ag_text_trim(&k, &klen);
			ag_text_trim(&v, &vlen);
			if (vlen > 0 && v[vlen - 1] == '\r')
				vlen--;
			if (ag_text_eq(k, klen, name)) {
				if (*found)
					return xp_error_set(err, XP_HOST_COMMAND_FAILED, "",
							    "vsish stats list %s twice", name);
				if (counter_value(v, vlen, value) != 0) {
					char q[64];
					return xp_error_set(err, XP_HOST_COMMAND_FAILED, "",
							    "vsish stats: %s is '%s', not a number",
							    name, ag_text_quote(q, sizeof(q), v, vlen));
				}
				*found = true;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int ag_vsish_clone_writes(const struct ag_config *cfg, const char *id, uint64_t *value,
			  bool *known, struct xp_error *err)
{
	char node[AG_DEVICE_ID_MAX + 64];
	const char *args[] = { "-e", "get", node, NULL };
	struct ag_hostcmd c;
	struct xp_error perr = { 0 };
	bool found = false;

	*value = 0;
	*known = false;
	if (!ag_device_id_valid(id, strlen(id)) || ag_vsish_stats_node(id, node, sizeof(node)) != 0)
		return xp_error_set(err, XP_BAD_REQUEST, "device", "not a device id");
	ag_hostcmd_init(&c, "vsish", cfg->vsish_path, args, (int)cfg->esxcli_timeout_s * 1000,
			AG_VSISH_OUT_MAX);
	if (ag_hostcmd_run(&c) != XP_OK) {
		ag_log(AG_LOG_INFO, "clone counter of %s unknown: %s", id, c.err.message);
	} else if (ag_vsish_parse_counter(c.out, c.out_len, AG_VSISH_CLONE_WRITES, value, &found,
					  &perr) != 0) {
		ag_log(AG_LOG_INFO, "clone counter of %s unknown: %s", id, perr.message);
		*value = 0;
	} else if (!found) {
		ag_log(AG_LOG_INFO, "clone counter of %s unknown: no %s line", id,
		       AG_VSISH_CLONE_WRITES);
	} else {
		*known = true;
	}
	ag_hostcmd_free(&c);
	return xp_error_clear(err);
}
