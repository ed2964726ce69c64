/*
 * xclone: the command-line tool. main() only finds the command; each command
 * parses its own options (getopt_long) and uses libxclone's public API.
 */
#include <stdio.h>
#include <string.h>

#include "cli_exit.h"
#include "commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{ "help", cmd_help, "show this help, or `xclone help <command>`" },
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
	printf("xclone %s\n", XCLONE_VERSION);
	return EXIT_OK;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: xclone <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
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
	c = find_command(argv[1]);
	if (c == NULL || c->run == cmd_help) {
		fprintf(stderr, "xclone: no command '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	help_argv[0] = argv[1];
	return c->run(2, help_argv);
}

int main(int argc, char **argv)
{
	const struct command *c;

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
	return c->run(argc - 1, argv + 1);
}
