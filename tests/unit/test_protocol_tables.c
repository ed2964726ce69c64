/*
 * The protocol's tables: operations, error codes, task states, arguments. Names
 * are unique and map both ways; flags say what PROTOCOL.md says.
 */
#include "test_protocol_util.h"

static void test_ops(void)
{
	static const char *const mutating[] = { "storage.rescan", "device.wait", "device.detach",
						"clone.start", "task.cancel", "task.clean" };
	int names_ok = 1, mutating_count = 0;
	enum xp_op op;

	for (unsigned i = 0; i < XP_OP_COUNT; i++) {
		const struct xp_op_info *info = xp_op_info((enum xp_op)i);

		if (info == NULL || info->op != (enum xp_op)i || xp_op_from_name(info->name, &op) != 0 ||
		    op != (enum xp_op)i || info->result == NULL || (info->required & info->optional))
			names_ok = 0;
		mutating_count += info && info->mutates;
	}
	ok(names_ok, "every op row: index = enum, name maps back, a result shape, no arg both required and optional");
	is_int(XP_OP_COUNT, 13, "protocol 1 has the 13 operations of DESIGN.md");
	is_int(mutating_count, 6, "six operations mutate");
	for (size_t i = 0; i < sizeof(mutating) / sizeof(mutating[0]); i++)
		ok(xp_op_from_name(mutating[i], &op) == 0 && xp_op_mutates(op), "%s mutates", mutating[i]);
	ok(xp_op_from_name("task.get", &op) == 0 && !xp_op_mutates(op), "task.get does not mutate");
	ok(xp_op_mutates((enum xp_op)77), "an op outside the enum counts as mutating (fail closed)");
	ok(xp_op_from_name("task.watch", &op) == 0 && xp_op_info(op)->streams, "task.watch streams");
	ok(xp_op_from_name("nope", &op) == -1 && xp_op_from_name(NULL, &op) == -1,
	   "unknown and NULL op names are not found");
	ok(xp_op_name((enum xp_op)XP_OP_COUNT) == NULL && xp_op_info((enum xp_op)-1) == NULL,
	   "no name or row outside the enum");
	ok(xp_op_from_name("clone.start", &op) == 0 &&
		   xp_op_info(op)->required == (XP_ARG_BIT(XP_ARG_SOURCE) | XP_ARG_BIT(XP_ARG_TARGET)) &&
		   xp_op_info(op)->optional == XP_ARG_BIT(XP_ARG_KEY),
	   "clone.start requires source and target, takes key");
}

static void test_codes(void)
{
	int ok_rows = 1;
	enum xp_code code;

	for (unsigned i = 0; i < XP_CODE_COUNT; i++) {
		const char *name = xp_code_name((enum xp_code)i);

		if (xp_code_from_name(name, &code) != 0 || code != (enum xp_code)i ||
		    xp_code_when((enum xp_code)i)[0] == '\0')
			ok_rows = 0;
		for (unsigned j = 0; j < i; j++)
			if (strcmp(name, xp_code_name((enum xp_code)j)) == 0)
				ok_rows = 0;
		ok(xp_code_retryable((enum xp_code)i) ==
			   (i == XP_BUSY || i == XP_HOST_COMMAND_FAILED || i == XP_TIMEOUT),
		   "%s retryable is %s", name, xp_code_retryable((enum xp_code)i) ? "yes" : "no");
	}
	ok(ok_rows, "every code has a unique name that maps back and a 'when' sentence");
	is_str(xp_code_name(XP_TASK_ACTIVE), "TASK_ACTIVE", "names are the wire names");
	is_str(xp_code_name((enum xp_code)500), "INTERNAL", "a value outside the enum names INTERNAL");
	ok(xp_code_from_name("busy", &code) == -1, "code names are case-sensitive");
}

static void test_states_and_args(void)
{
	enum xp_task_state st;
	enum xp_rescan_type type;
	enum xp_arg a;

	for (unsigned i = 0; i < XP_TASK_STATE_COUNT; i++)
		ok(xp_task_state_from_name(xp_task_state_name((enum xp_task_state)i), &st) == 0 &&
			   st == (enum xp_task_state)i,
		   "state %s maps back", xp_task_state_name((enum xp_task_state)i));
	ok(xp_task_state_from_name("RUNNING", &st) == -1 && xp_task_state_name(XP_TASK_STATE_COUNT) == NULL,
	   "state names are exact; none outside the enum");
	for (unsigned i = 0; i < XP_RESCAN_TYPE_COUNT; i++)
		ok(xp_rescan_type_from_name(xp_rescan_type_name((enum xp_rescan_type)i), &type) == 0 &&
			   type == (enum xp_rescan_type)i,
		   "rescan type %s maps back", xp_rescan_type_name((enum xp_rescan_type)i));
	for (a = 0; a < XP_ARG_COUNT; a++)
		is_str(xp_arg_fields()[a].name, xp_arg_name(a), "argument row %d is %s", (int)a,
		       xp_arg_name(a));
	ok(xp_arg_name(XP_ARG_COUNT) == NULL, "no argument outside the enum");
}

int main(void)
{
	test_ops();
	test_codes();
	test_states_and_args();
	return tap_done();
}
