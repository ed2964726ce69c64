/*
 * Unit tests of agent/ssh_command.c: classification of SSH_ORIGINAL_COMMAND,
 * the exact command strings Forklift's populator sends (README-compat.md), the
 * esxcli argv form, and hostile input.
 */
#include <stdlib.h>
#include <string.h>

#include "ssh_command.h"
#include "tap.h"

static struct ag_sshcmd c;
static struct ag_error e;

static int parse(const char *s)
{
	ag_error_clear(&e);
	return ag_sshcmd_parse(s, s ? strlen(s) : 0, &c, &e);
}

static void test_modes(void)
{
	const char *req = "{\"xclone\":1,\"id\":\"r1\",\"op\":\"task.get\",\"args\":{\"task\":\"$(reboot); 'x' \\\\ ü\"}}";
	char *big = malloc(AG_SSHCMD_MAX + 2);

	is_int(parse(NULL), AG_SSHCMD_E_EMPTY, "unset");
	is_int(parse(""), AG_SSHCMD_E_EMPTY, "empty");
	ok(strstr(e.msg, "expected a JSON request") != NULL, "empty: message says what is expected");
	is_int(parse("session"), 0, "session");
	is_int(c.mode, AG_SSHCMD_SESSION, "session mode");
	is_int(parse("session "), AG_SSHCMD_E_UNKNOWN, "session with a trailing space");
	is_int(parse("Session"), AG_SSHCMD_E_UNKNOWN, "Session capitalised");
	is_int(parse(" session"), AG_SSHCMD_E_UNKNOWN, "leading space");
	is_int(parse(req), 0, "JSON request");
	is_int(c.mode, AG_SSHCMD_REQUEST, "request mode");
	ok(c.request == req, "request points into the input, untouched");
	is_int(c.request_len, strlen(req), "request length");
	is_int(parse("{\"a\":1}\n{\"b\":2}"), AG_SSHCMD_E_BYTES, "two lines");
	is_int(parse("{\"a\":1}\r"), AG_SSHCMD_E_BYTES, "carriage return");
	is_int(ag_sshcmd_parse("{\"a\":\0}", 7, &c, &e), AG_SSHCMD_E_BYTES, "NUL byte");
	is_int(parse(" {\"a\":1}"), AG_SSHCMD_E_UNKNOWN, "request must start with '{'");
	is_int(parse("[1,2]"), AG_SSHCMD_E_UNKNOWN, "JSON array is not a request");
	is_int(parse("ls -la /"), AG_SSHCMD_E_UNKNOWN, "a shell command");
	is_int(parse("/bin/sh"), AG_SSHCMD_E_UNKNOWN, "a shell");
	is_int(parse("scp -t /tmp"), AG_SSHCMD_E_UNKNOWN, "scp");
	is_int(parse("internal-sftp"), AG_SSHCMD_E_UNKNOWN, "sftp subsystem name");
	memset(big, ' ', AG_SSHCMD_MAX + 1);
	big[0] = '{';
	big[AG_SSHCMD_MAX] = '\0';
	is_int(parse(big), 0, "request of exactly 64 KiB");
	big[AG_SSHCMD_MAX] = ' ';
	big[AG_SSHCMD_MAX + 1] = '\0';
	is_int(parse(big), AG_SSHCMD_E_TOO_LONG, "request over 64 KiB");
	free(big);
}

/* The strings Forklift's ssh_client.go builds: "DS=%s;CMD=%s" with args joined by spaces. */
static void test_forklift_strings(void)
{
	is_int(parse("DS=;CMD=status test-task-id"), 0, "connectivity probe (sshutils.go)");
	is_int(c.mode, AG_SSHCMD_COMPAT, "compat mode");
	is_int(c.verb, AG_COMPAT_PING, "empty DS answers SSH_OK");
	is_int(parse("DS=;CMD="), 0, "probe with empty CMD");
	is_int(c.verb, AG_COMPAT_PING, "still a ping");

	is_int(parse("DS=datastore1;CMD=--version"), 0, "version");
	is_int(c.verb, AG_COMPAT_VERSION, "version verb");
	is_str(c.datastore, "datastore1", "datastore kept");

	is_int(parse("DS=datastore1;CMD=--task-get -i 6e1f4a2c-9b0d-4c3e-8f7a-1d2b3c4d5e6f"), 0, "task-get");
	is_int(c.verb, AG_COMPAT_TASK_GET, "task-get verb");
	is_str(c.task_id, "6e1f4a2c-9b0d-4c3e-8f7a-1d2b3c4d5e6f", "task id");
	is_int(parse("DS=datastore1;CMD=--task-clean -i 6e1f4a2c"), 0, "task-clean");
	is_int(c.verb, AG_COMPAT_TASK_CLEAN, "task-clean verb");
	is_str(c.task_id, "6e1f4a2c", "task id");

	is_int(parse("DS=eco-iscsi-ds3;CMD=--clone -s /vmfs/volumes/eco-iscsi-ds3/vm10disks - cloned/"
		     "vm10disks - cloned_1.vmdk -t /vmfs/devices/disks/naa.600a0980383139544924583130374851"),
	       0, "clone with spaces and ' - ' in the path (Forklift MTV-5363 example)");
	is_int(c.verb, AG_COMPAT_CLONE, "clone verb");
	is_str(c.source, "/vmfs/volumes/eco-iscsi-ds3/vm10disks - cloned/vm10disks - cloned_1.vmdk",
	       "source whole");
	is_str(c.device, "/vmfs/devices/disks/naa.600a0980383139544924583130374851", "device");
	is_str(c.datastore, "eco-iscsi-ds3", "datastore");
}

static void test_hostile_compat(void)
{
	static const struct {
		const char *cmd;
		const char *source;
	} good[] = {
		{ "DS=ds;CMD=--clone -s /vmfs/volumes/ds/a -t b.vmdk -t naa.1", "/vmfs/volumes/ds/a -t b.vmdk" },
		{ "DS=ds;CMD=--clone -s /vmfs/volumes/ds/it's \"q\".vmdk -t naa.1", "/vmfs/volumes/ds/it's \"q\".vmdk" },
		{ "DS=ds;CMD=--clone -s /vmfs/volumes/ds/$(reboot); rm -rf /.vmdk -t naa.1",
		  "/vmfs/volumes/ds/$(reboot); rm -rf /.vmdk" },
		{ "DS=ds;CMD=--clone -s /vmfs/volumes/ds/a\\b\\\\c `id` *.vmdk -t naa.1",
		  "/vmfs/volumes/ds/a\\b\\\\c `id` *.vmdk" },
		{ "DS=ds;CMD=--clone -s /vmfs/volumes/ds/ünï cødé ☃.vmdk -t naa.1", "/vmfs/volumes/ds/ünï cødé ☃.vmdk" },
		{ "DS=ds;CMD=--clone -s  leading space.vmdk -t naa.1", " leading space.vmdk" },
		{ "DS=ds;CMD=--clone -s ;CMD=--version -t naa.1", ";CMD=--version" },
	};
	static const struct {
		const char *cmd;
		int code;
		const char *label;
	} bad[] = {
		{ "DS=ds", AG_SSHCMD_E_COMPAT, "no ';'" },
		{ "DS=ds;", AG_SSHCMD_E_COMPAT, "no CMD=" },
		{ "DS=ds;cmd=--version", AG_SSHCMD_E_COMPAT, "lower-case cmd" },
		{ "DS=ds; CMD=--version", AG_SSHCMD_E_COMPAT, "space before CMD" },
		{ "DS=ds;CMD=", AG_SSHCMD_E_COMPAT, "empty CMD" },
		{ "DS=ds;CMD=--version extra", AG_SSHCMD_E_COMPAT, "version with extra" },
		{ "DS=ds;CMD=--version; reboot", AG_SSHCMD_E_COMPAT, "chained command" },
		{ "DS=ds;CMD=-v", AG_SSHCMD_E_COMPAT, "short -v (not what Forklift sends)" },
		{ "DS=ds;CMD=--task-get", AG_SSHCMD_E_COMPAT, "task-get without id" },
		{ "DS=ds;CMD=--task-get  -i x", AG_SSHCMD_E_COMPAT, "double space" },
		{ "DS=ds;CMD=--task-get --task-id x", AG_SSHCMD_E_COMPAT, "long option" },
		{ "DS=ds;CMD=--task-get -i ", AG_SSHCMD_E_FIELD, "empty id" },
		{ "DS=ds;CMD=--task-get -i ../../etc/passwd", AG_SSHCMD_E_FIELD, "traversal id" },
		{ "DS=ds;CMD=--task-get -i abc;reboot", AG_SSHCMD_E_FIELD, "id with ';'" },
		{ "DS=ds;CMD=--task-clean -i $(reboot)", AG_SSHCMD_E_FIELD, "id with $()" },
		{ "DS=ds;CMD=--task-clean -i a b", AG_SSHCMD_E_FIELD, "id with space" },
		{ "DS=ds;CMD=--clone -s /vmfs/volumes/ds/x.vmdk", AG_SSHCMD_E_COMPAT, "clone without -t" },
		{ "DS=ds;CMD=--clone -t naa.1 -s /vmfs/volumes/ds/x.vmdk", AG_SSHCMD_E_COMPAT, "clone args reordered" },
		{ "DS=ds;CMD=--clone -s  -t naa.1", AG_SSHCMD_E_FIELD, "empty source" },
		{ "DS=ds;CMD=--clone -s x.vmdk -t ", AG_SSHCMD_E_FIELD, "empty device" },
		{ "DS=ds;CMD=--clone -s x.vmdk -t naa.1 x", AG_SSHCMD_E_FIELD, "device with a space" },
		{ "DS=ds;CMD=--clone -s x\ty.vmdk -t naa.1", AG_SSHCMD_E_FIELD, "tab in source" },
		{ "DS=ds;CMD=--clone -s x\xff.vmdk -t naa.1", AG_SSHCMD_E_FIELD, "invalid UTF-8 in source" },
		{ "DS=ds;CMD=rm -rf /", AG_SSHCMD_E_COMPAT, "arbitrary command" },
		{ "DS=ds;CMD=--clone; reboot", AG_SSHCMD_E_COMPAT, "clone then reboot" },
		{ "DS=a/b;CMD=--version", AG_SSHCMD_E_FIELD, "slash in datastore" },
		{ "DS=..;CMD=--version", AG_SSHCMD_E_FIELD, "'..' datastore" },
		{ "DS=a\x01;CMD=--version", AG_SSHCMD_E_FIELD, "control byte in datastore" },
		{ "ds=x;CMD=--version", AG_SSHCMD_E_UNKNOWN, "lower-case ds" },
		{ "CMD=--version;DS=x", AG_SSHCMD_E_UNKNOWN, "fields swapped" },
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int rc = parse(good[i].cmd);

		if (!ok(rc == 0 && c.verb == AG_COMPAT_CLONE, "hostile source %zu parses", i))
			printf("#   %s\n", e.msg);
		is_str(c.source, good[i].source, "hostile source %zu taken literally", i);
		is_str(c.device, "naa.1", "hostile source %zu: device", i);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i].cmd);

		if (!ok(rc == bad[i].code, "compat %s -> %s", bad[i].label, ag_sshcmd_code_name(bad[i].code)))
			printf("#   got %s: %s\n", ag_sshcmd_code_name(rc), e.msg);
	}
	is_int(parse("DS=my datastore ü;CMD=--version"), 0, "datastore with spaces and unicode");
	is_str(c.datastore, "my datastore ü", "datastore name kept");
	is_int(parse("DS=;CMD=anything $(reboot); at all"), 0, "probe ignores what follows");
	is_int(c.verb, AG_COMPAT_PING, "probe verb");
	ok(c.source[0] == '\0' && c.task_id[0] == '\0', "probe carries no fields");
}

static void test_argv(void)
{
	char *clone[] = { "--clone", "-s", "/vmfs/volumes/ds/it's $(x); \"q\" \\ ü.vmdk", "-t", "naa.6", NULL };
	char *get[] = { "--task-get", "-i", "abc-1", NULL };
	char *clean[] = { "--task-clean", "-i", "abc-1", NULL };
	char *ver[] = { "--version", NULL };
	char *bad1[] = { "--clone", "-s", "x", NULL };
	char *bad2[] = { "--task-get", "-i", "a/b", NULL };
	char *bad3[] = { "--clone", "-t", "naa.6", "-s", "x", NULL };
	char *bad4[] = { "--version", "--version", NULL };

	is_int(ag_compat_parse_argv(5, clone, &c, &e), 0, "argv clone");
	is_str(c.source, "/vmfs/volumes/ds/it's $(x); \"q\" \\ ü.vmdk", "argv source literal");
	is_str(c.device, "naa.6", "argv device");
	is_int(c.mode, AG_SSHCMD_COMPAT, "argv: compat mode");
	is_int(ag_compat_parse_argv(3, get, &c, &e), 0, "argv task-get");
	is_int(c.verb, AG_COMPAT_TASK_GET, "argv task-get verb");
	is_int(ag_compat_parse_argv(3, clean, &c, &e), 0, "argv task-clean");
	is_int(c.verb, AG_COMPAT_TASK_CLEAN, "argv task-clean verb");
	is_int(ag_compat_parse_argv(1, ver, &c, &e), 0, "argv version");
	is_int(ag_compat_parse_argv(3, bad1, &c, &e), AG_SSHCMD_E_COMPAT, "argv clone without -t");
	is_int(ag_compat_parse_argv(3, bad2, &c, &e), AG_SSHCMD_E_FIELD, "argv bad id");
	is_int(ag_compat_parse_argv(5, bad3, &c, &e), AG_SSHCMD_E_COMPAT, "argv reordered");
	is_int(ag_compat_parse_argv(2, bad4, &c, &e), AG_SSHCMD_E_COMPAT, "argv extra");
	is_int(ag_compat_parse_argv(0, ver, &c, &e), AG_SSHCMD_E_COMPAT, "argv empty");
	is_str(ag_compat_verb_name(AG_COMPAT_TASK_CLEAN), "task-clean", "verb name");
	is_str(ag_sshcmd_code_name(AG_SSHCMD_E_FIELD), "E_FIELD", "code name");
}

int main(void)
{
	test_modes();
	test_forklift_strings();
	test_hostile_compat();
	test_argv();
	return tap_done();
}
