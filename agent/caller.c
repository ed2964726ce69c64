/* Per-caller restrictions (see caller.h). */
#include <string.h>

#include "caller.h"
#include "xproto.h"

void ag_caller_init(struct ag_caller *c, enum ag_mode mode)
{
	memset(c, 0, sizeof(*c));
	c->mode = mode;
	c->allowed = (UINT32_C(1) << XP_OP_COUNT) - 1;
}

int ag_caller_parse_allow(struct ag_caller *c, const char *list, struct ag_error *err)
{
	uint32_t allowed = 0;
	const char *p = list;

	if (*p == '\0')
		return ag_error_set(err, 1, "--allow needs a list of operations");
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char name[XP_OP_MAX + 1];
		enum xp_op op;

		if (len == 0 || len > XP_OP_MAX)
			return ag_error_set(err, 1, "--allow: empty or overlong operation name");
		memcpy(name, p, len);
		name[len] = '\0';
		if (xp_op_from_name(name, &op) != 0)
			return ag_error_set(err, 1, "--allow: unknown operation '%s'", name);
		if (allowed & (UINT32_C(1) << op))
			return ag_error_set(err, 1, "--allow: '%s' given twice", name);
		allowed |= UINT32_C(1) << op;
		p += len;
		if (*p == ',' && *++p == '\0')
			return ag_error_set(err, 1, "--allow: trailing comma");
	}
	c->allowed = allowed;
	return 0;
}

const char *ag_mode_name(enum ag_mode mode)
{
	switch (mode) {
	case AG_MODE_LOCAL: return "local";
	case AG_MODE_SSH: return "ssh";
	case AG_MODE_SERVE: return "serve";
	case AG_MODE_COMPAT: return "compat";
	case AG_MODE_ESXCLI: return "esxcli";
	}
	return "unknown";
}
