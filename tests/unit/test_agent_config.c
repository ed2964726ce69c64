/* Unit tests of agent/config.c: defaults, strict file parsing, --set, file safety. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent_fixture.h"
#include "config.h"
#include "tap.h"

static int parse(struct ag_config *cfg, const char *text, struct ag_error *err)
{
	ag_config_defaults(cfg);
	ag_error_clear(err);
	return ag_config_parse_text(cfg, "agent.conf", text, strlen(text), err);
}

static void test_defaults(void)
{
	struct ag_config c;

	ag_config_defaults(&c);
	is_str(c.vmkfstools_path, "/bin/vmkfstools", "default vmkfstools path");
	is_str(c.esxcli_path, "/bin/esxcli", "default esxcli path");
	is_str(c.vsish_path, "/bin/vsish", "default vsish path");
	is_str(c.vmfs_root, "/vmfs", "default vmfs root");
	is_str(c.state_dir, "/var/run/xclone", "default state dir");
	is_int(c.max_clones, 4, "default max clones");
	is_int(c.task_retention_s, 86400, "default retention");
	is_int(c.cancel_grace_s, 10, "default cancel grace");
	is_int(c.rescan_timeout_s, 300, "default rescan timeout");
	is_int(c.rescan_settle_timeout_s, 120, "default rescan settle timeout");
	is_int(c.esxcli_timeout_s, 120, "default esxcli timeout");
	is_int(c.log_level, AG_LOG_INFO, "default log level");
	is_int(c.flag_keys, 0, "no flags yet");
}

static void test_valid_file(void)
{
	struct ag_config c;
	struct ag_error e;
	const char *text =
		"# xclone agent settings\r\n"
		"\n"
		"   # indented comment\n"
		"vmkfstools_path = /opt/sim/bin/vmk fstools #1\n"
		"esxcli_path=/opt/sim/it's \"q\" $(reboot); \\x ü/esxcli\r\n"
		"\tvmfs_root\t=\t/tmp/sim root/\t\n"
		"state_dir = /var/run/xclone-test\n"
		"max_clones = 64\n"
		"task_retention_seconds = 60\n"
		"cancel_grace_seconds = 1\n"
		"rescan_timeout_seconds = 3600\n"
		"rescan_settle_timeout_seconds = 7\n"
		"esxcli_timeout_seconds = 5\n"
		"log_level = debug"; /* last line without newline */

	is_int(parse(&c, text, &e), 0, "valid file parses");
	is_str(c.vmkfstools_path, "/opt/sim/bin/vmk fstools #1", "spaces and '#' are part of a value");
	is_str(c.esxcli_path, "/opt/sim/it's \"q\" $(reboot); \\x ü/esxcli",
	       "quotes, $(), ';', backslash, unicode are plain text");
	is_str(c.vmfs_root, "/tmp/sim root", "tabs trimmed, trailing slash removed");
	is_str(c.state_dir, "/var/run/xclone-test", "state dir set");
	is_int(c.max_clones, 64, "max clones at upper bound");
	is_int(c.task_retention_s, 60, "retention at lower bound");
	is_int(c.cancel_grace_s, 1, "grace set");
	is_int(c.rescan_timeout_s, 3600, "rescan timeout set");
	is_int(c.rescan_settle_timeout_s, 7, "settle timeout set");
	is_int(c.esxcli_timeout_s, 5, "esxcli timeout set");
	is_int(c.log_level, AG_LOG_DEBUG, "log level debug");
	is_str(c.vsish_path, "/bin/vsish", "unset key keeps its default");
}

struct bad_case {
	const char *text;
	int code;
	int line;
	const char *in_msg; /* substring the message must contain */
};

static void test_bad_files(void)
{
	static const struct bad_case cases[] = {
		{ "max_clones = 4\nfoo = 1\n", AG_CONFIG_E_KEY, 2, "agent.conf:2: unknown key 'foo'" },
		{ "MAX_CLONES = 4\n", AG_CONFIG_E_KEY, 1, "unknown key" },
		{ "max_clones = 4\n\nmax_clones = 5\n", AG_CONFIG_E_DUP, 3, "first set on line 1" },
		{ "just words\n", AG_CONFIG_E_SYNTAX, 1, "expected 'key = value'" },
		{ "= 4\n", AG_CONFIG_E_SYNTAX, 1, "expected 'key = value'" },
		{ "max_clones = 0\n", AG_CONFIG_E_VALUE, 1, "from 1 to 64" },
		{ "max_clones = 65\n", AG_CONFIG_E_VALUE, 1, "from 1 to 64" },
		{ "max_clones = 4x\n", AG_CONFIG_E_VALUE, 1, "whole number" },
		{ "max_clones = -1\n", AG_CONFIG_E_VALUE, 1, "whole number" },
		{ "max_clones = 99999999999999999999999\n", AG_CONFIG_E_VALUE, 1, "whole number" },
		{ "max_clones =\n", AG_CONFIG_E_VALUE, 1, "whole number" },
		{ "task_retention_seconds = 59\n", AG_CONFIG_E_VALUE, 1, "from 60" },
		{ "log_level = verbose\n", AG_CONFIG_E_VALUE, 1, "error, warning, info or debug" },
		{ "vmkfstools_path = bin/vmkfstools\n", AG_CONFIG_E_VALUE, 1, "absolute path" },
		{ "vmkfstools_path =\n", AG_CONFIG_E_VALUE, 1, "absolute path" },
		{ "vmfs_root = /\n", AG_CONFIG_E_VALUE, 1, "root folder" },
		{ "state_dir = /var/../etc\n", AG_CONFIG_E_VALUE, 1, "'..'" },
		{ "state_dir = /var/./run\n", AG_CONFIG_E_VALUE, 1, "'.'" },
		{ "state_dir = /var//run\n", AG_CONFIG_E_VALUE, 1, "empty" },
		{ "esxcli_path = /bin/es\x01xcli\n", AG_CONFIG_E_VALUE, 1, "control characters" },
		{ "esxcli_path = /bin/\xff\xfe\n", AG_CONFIG_E_VALUE, 1, "UTF-8" },
		{ "# ok\nlog_level = info\nvsish_path = /bin/vsish\nbad line here\n", AG_CONFIG_E_SYNTAX, 4,
		  "agent.conf:4:" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ag_config c;
		struct ag_error e;
		int rc = parse(&c, cases[i].text, &e);

		is_int(rc, cases[i].code, "bad file %zu: code", i);
		is_int(e.line, cases[i].line, "bad file %zu: line", i);
		if (!ok(strstr(e.msg, cases[i].in_msg) != NULL, "bad file %zu: message names the fault", i))
			printf("#   message: %s\n", e.msg);
	}
}

static void test_limits(void)
{
	struct ag_config c;
	struct ag_error e;
	size_t big = AG_CONFIG_FILE_MAX + 1;
	char *text = malloc(big + 1);
	char nul_text[] = "max_clones = 4\nlog_level = i\0nfo\n";

	memset(text, '#', big);
	text[big] = '\0';
	ag_config_defaults(&c);
	is_int(ag_config_parse_text(&c, "f", text, big, &e), AG_CONFIG_E_FILE, "file over 64 KiB refused");
	memset(text, ' ', AG_CONFIG_LINE_MAX + 1);
	memcpy(text + AG_CONFIG_LINE_MAX + 1, "\n", 2);
	is_int(ag_config_parse_text(&c, "f", text, strlen(text), &e), AG_CONFIG_E_SYNTAX,
	       "line over 4 KiB refused");
	ok(strstr(e.msg, "longer than") != NULL, "long line message");
	is_int(ag_config_parse_text(&c, "f", nul_text, sizeof(nul_text) - 1, &e), AG_CONFIG_E_SYNTAX,
	       "NUL byte refused");
	is_int(e.line, 2, "NUL byte line number");
	free(text);
}

static void test_flags(void)
{
	struct ag_config c;
	struct ag_error e;

	ag_config_defaults(&c);
	is_int(ag_config_apply_flag(&c, "max_clones=9", &e), 0, "--set max_clones=9");
	is_int(c.max_clones, 9, "flag value applied");
	is_int(ag_config_apply_flag(&c, "max_clones=10", &e), AG_CONFIG_E_DUP, "same flag twice refused");
	is_int(ag_config_apply_flag(&c, "vmfs_root = /tmp/a b", &e), 0, "--set with blanks and spaces");
	is_str(c.vmfs_root, "/tmp/a b", "flag path value");
	is_int(ag_config_apply_flag(&c, "nosuch=1", &e), AG_CONFIG_E_KEY, "unknown flag key refused");
	ok(strstr(e.msg, "nosuch") != NULL, "message names the key");
	is_int(ag_config_apply_flag(&c, "max_clones", &e), AG_CONFIG_E_SYNTAX, "flag without '='");
	is_int(ag_config_apply_flag(&c, "log_level=loud", &e), AG_CONFIG_E_VALUE, "bad flag value");
	ok(strstr(e.msg, "--set: log_level") != NULL, "flag error names --set and key");
}

static void test_files(void)
{
	char path[4096], dir[4096];
	struct ag_config c;
	struct ag_error e;
	const char *sets[] = { "log_level=error", "state_dir=/run/x" };

	fx_path(path, sizeof(path), "%s/agent.conf", fx_tmpdir());
	fx_write_str(path, "max_clones = 7\nlog_level = warning\n");
	chmod(path, 0600);
	ag_config_defaults(&c);
	is_int(ag_config_load_file(&c, path, true, &e), 0, "file 0600 loads");
	is_int(c.max_clones, 7, "value from file");
	chmod(path, 0664);
	is_int(ag_config_load_file(&c, path, true, &e), AG_CONFIG_E_FILE, "group-writable file refused");
	ok(strstr(e.msg, "writable by group or others") != NULL, "unsafe mode message");
	chmod(path, 0646);
	is_int(ag_config_load_file(&c, path, true, &e), AG_CONFIG_E_FILE, "world-writable file refused");
	chmod(path, 0644);

	fx_path(dir, sizeof(dir), "%s/nosuch.conf", fx_tmpdir());
	ag_config_defaults(&c);
	is_int(ag_config_load_file(&c, dir, false, &e), 0, "missing optional file is fine");
	is_int(c.max_clones, 4, "missing optional file leaves defaults");
	is_int(ag_config_load_file(&c, dir, true, &e), AG_CONFIG_E_FILE, "missing --config file refused");
	is_int(ag_config_load_file(&c, fx_tmpdir(), true, &e), AG_CONFIG_E_FILE, "a folder is refused");
	fx_path(dir, sizeof(dir), "%s/fifo", fx_tmpdir());
	ok(mkfifo(dir, 0600) == 0 && ag_config_load_file(&c, dir, true, &e) == AG_CONFIG_E_FILE,
	   "a FIFO is refused without blocking");

	is_int(ag_config_load(&c, path, sets, 2, &e), 0, "defaults + file + flags");
	is_int(c.max_clones, 7, "file value kept");
	is_int(c.log_level, AG_LOG_ERROR, "flag overrides file");
	is_str(c.state_dir, "/run/x", "flag sets a key the file did not");
	is_int(ag_config_load(&c, dir, NULL, 0, &e), AG_CONFIG_E_FILE, "explicit missing file refused");
}

static void test_round_trip(void)
{
	struct ag_config a, b;
	struct ag_error e;
	char *text = NULL, *usage = NULL;
	size_t len = 0, ulen = 0;
	FILE *f = open_memstream(&text, &len);

	ag_config_defaults(&a);
	(void)ag_config_apply_flag(&a, "vmfs_root=/tmp/ü $(x); 'y'", &e);
	(void)ag_config_apply_flag(&a, "log_level=warning", &e);
	ag_config_write(&a, f);
	fclose(f);
	ag_config_defaults(&b);
	is_int(ag_config_parse_text(&b, "dump", text, len, &e), 0, "written configuration parses back");
	b.flag_keys = a.flag_keys;
	ok(memcmp(&a, &b, sizeof(a)) == 0, "round trip gives the same settings");
	f = open_memstream(&usage, &ulen);
	ag_config_usage(f);
	fclose(f);
	ok(strstr(usage, "rescan_settle_timeout_seconds") && strstr(usage, "vmkfstools_path") &&
		   strstr(usage, "(default /var/run/xclone)"),
	   "usage lists keys with defaults");
	is_str(ag_config_log_level_name(AG_LOG_WARN), "warning", "log level name");
	free(text);
	free(usage);
}

int main(void)
{
	test_defaults();
	test_valid_file();
	test_bad_files();
	test_limits();
	test_flags();
	test_files();
	test_round_trip();
	return tap_done();
}
