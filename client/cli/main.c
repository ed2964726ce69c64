/*
 * xclone: the command-line tool. main() only finds the command; each command
 * parses its own options (getopt_long, from the one table in opts.c) and uses
 * libxclone's public API.
 */
#include <stdio.h>
#include <string.h>

#include "cli_exit.h"
#include "commands.h"
#include "xclone.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{ "hello", cmd_hello, "check the connection: agent identity, host key, permissions" },
	{ "host-info", cmd_host_info, "adapters and initiator ids, datastores, VAAI settings" },
	{ "rescan", cmd_rescan, "rescan storage adapters (new or removed LUNs)" },
	{ "device", cmd_device, "device get|wait|detach DEVICE" },
	{ "preflight", cmd_preflight, "what a clone would do, and whether the array will copy" },
	{ "clone", cmd_clone, "start a clone of a VMDK onto a device (--watch to follow it)" },
	{ "task", cmd_task, "task get|watch|cancel|clean TASK, task list" },
	{ "authorized-key", cmd_authorized_key, "the restricted authorized_keys line for a key" },
	{ "populate", cmd_populate, "copy VM disks onto volumes end to end (xclone populate --help)" },
	{ "array", cmd_array, "inspect and act on a storage array (xclone array --help)" },
	{ "populate", cmd_populate, "copy VMDKs onto PersistentVolumes: map, clone, clean up, resumable" },
	{ "help", cmd_help, "this help, `xclone help <command>` or `xclone help <topic>`" },
	{ "version", cmd_version, "print the version" },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int cmd_version(int argc, char **argv)
{
	printf("xclone %s (libxclone %s)\n", XCLONE_VERSION, xclone_version());
	return EXIT_OK;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: xclone <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	help_topics(out);
	fprintf(out, "\n`xclone <command> --help` describes a command's options.\n");
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;
	char *help_argv[] = { NULL, "--help", NULL };

	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	if (help_topic(argv[1], stdout) == EXIT_OK)
		return EXIT_OK;
	c = find_command(argv[1]);
	if (c == NULL || c->run == cmd_help) {
		fprintf(stderr, "xclone: no command or help topic '%s' (see `xclone help`)\n", argv[1]);
		return EXIT_USAGE;
	}
	help_argv[0] = argv[1];
	return c->run(2, help_argv);
}

int main(int argc, char **argv)
{
	const struct command *c;
	struct xclone_error err = { 0 };
	int rc;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, argv + 1);
	c = find_command(argv[1]);
	if (c == NULL) {
		fprintf(stderr, "xclone: unknown command '%s' (see `xclone help`)\n", argv[1]);
		return EXIT_USAGE;
	}
	if (xclone_global_init(&err) != 0) {
		fprintf(stderr, "xclone: %s\n", err.message);
		return EXIT_INTERNAL;
	}
	rc = c->run(argc - 1, argv + 1);
	xclone_global_cleanup();
	return rc;
}
