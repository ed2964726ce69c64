/*
 * xclone-agent entry point: parse the mode and its options, load settings, and
 * hand over. Modes:
 *   ssh      the forced command of the restricted authorized_keys line; reads
 *            SSH_ORIGINAL_COMMAND (one request, "session", or the Forklift form)
 *   local    requests on stdin, answers on stdout (operators and tests on the host)
 *   compat   the Forklift vmkfstools esxcli plugin form: `compat --clone -s S -t D`...
 *   esxcli   the VIB's `esxcli xclone ...` plugin: `esxcli task.get --task-id ID`...
 *   serve    the mutual-TLS socket (serve.h), started by /etc/init.d/xclone-agent
 * Options (every mode): --config FILE, --set key=value (repeatable);
 * ssh, local and serve also take --read-only and --allow=op,op,...
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caller.h"
#include "compat.h"
#include "config.h"
#include "dispatch.h"
#include "esxcli_plugin.h"
#include "log.h"
#include "serve.h"
#include "session.h"
#include "ssh_command.h"

#define MAX_SETS 64

struct options {
	const char *config_path;
	const char *sets[MAX_SETS];
	size_t nsets;
	int read_only;
	const char *allow;
	int print_config;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: xclone-agent --version\n"
		"       xclone-agent ssh   [--read-only] [--allow=OP,...] [--config FILE] [--set K=V]...\n"
		"       xclone-agent local [--read-only] [--allow=OP,...] [--config FILE] [--set K=V]...\n"
		"       xclone-agent serve [--read-only] [--allow=OP,...] [--config FILE] [--set K=V]...\n"
		"       xclone-agent compat [--config FILE] [--set K=V]... -- --clone -s SRC -t DEV |\n"
		"                    --task-get -i ID | --task-clean -i ID | --version\n"
		"       xclone-agent esxcli [--config FILE] [--set K=V]... OP [--NAME VALUE]...\n"
		"                    (the esxcli plugin's side; see vib/README.md)\n"
		"       xclone-agent config [--config FILE] [--set K=V]...   (print the effective settings)\n"
		"\nsettings (agent.conf keys, also --set KEY=VALUE):\n");
	ag_config_usage(out);
}

/* Parses options after the mode word; returns the index of the first operand or -1. */
static int parse_options(int argc, char **argv, struct options *o, int allow_caller_flags)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "allow", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config_path = optarg;
			break;
		case 's':
			if (o->nsets == MAX_SETS) {
				fprintf(stderr, "xclone-agent: too many --set options\n");
				return -1;
			}
			o->sets[o->nsets++] = optarg;
			break;
		case 'r':
		case 'a':
			if (!allow_caller_flags) {
				fprintf(stderr, "xclone-agent: --%s is for ssh, local and serve modes\n",
					ch == 'r' ? "read-only" : "allow");
				return -1;
			}
			if (ch == 'r')
				o->read_only = 1;
			else
				o->allow = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	return optind;
}

static int setup(struct options *o, struct ag_config *cfg, struct ag_caller *caller,
		 enum ag_mode mode)
{
	struct ag_error err = { 0 };

	if (ag_config_load(cfg, o->config_path, o->sets, o->nsets, &err) != 0) {
		fprintf(stderr, "xclone-agent: %s\n", err.msg);
		return -1;
	}
	ag_caller_init(caller, mode);
	caller->read_only = o->read_only != 0;
	if (o->allow != NULL && ag_caller_parse_allow(caller, o->allow, &err) != 0) {
		fprintf(stderr, "xclone-agent: %s\n", err.msg);
		return -1;
	}
	ag_log_open((int)cfg->log_level, mode == AG_MODE_LOCAL || mode == AG_MODE_SERVE);
	return 0;
}

/* ssh mode: the request comes from SSH_ORIGINAL_COMMAND, answers go to stdout. */
static int run_ssh(struct ag_ctx *ctx)
{
	const char *cmd = getenv("SSH_ORIGINAL_COMMAND");
	struct ag_sshcmd parsed;
	struct ag_error err = { 0 };

	if (ag_sshcmd_parse(cmd, cmd ? strlen(cmd) : 0, &parsed, &err) != 0) {
		ag_log(AG_LOG_WARN, "refused SSH command: %s", err.msg);
		if (err.code == AG_SSHCMD_E_COMPAT)
			return ag_compat_refuse(ctx, "Unknown option");
		if (err.code == AG_SSHCMD_E_FIELD)
			return ag_compat_refuse(ctx, err.msg);
		ag_write_error(ctx, NULL, XP_BAD_REQUEST, err.msg);
		return 1;
	}
	switch (parsed.mode) {
	case AG_SSHCMD_REQUEST:
		return ag_dispatch_line(ctx, parsed.request, parsed.request_len) == 0 ? 0 : 1;
	case AG_SSHCMD_SESSION:
		return ag_session_run(ctx, STDIN_FILENO);
	case AG_SSHCMD_COMPAT:
		return ag_compat_run(ctx, &parsed);
	}
	return 1;
}

static int run_compat(struct ag_ctx *ctx, int argc, char **argv)
{
	struct ag_sshcmd parsed;
	struct ag_error err = { 0 };

	if (ag_compat_parse_argv(argc, argv, &parsed, &err) != 0) {
		fprintf(stderr, "xclone-agent compat: %s\n", err.msg);
		return 2;
	}
	return ag_compat_run(ctx, &parsed);
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct ag_config cfg;
	struct ag_caller caller;
	struct ag_ctx ctx = { .cfg = &cfg, .caller = &caller, .out_fd = STDOUT_FILENO };
	const char *mode;
	int first;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	mode = argv[1];
	if (strcmp(mode, "--version") == 0) {
		printf("xclone-agent %s (protocol %d)\n", XCLONE_VERSION, XP_PROTOCOL_VERSION);
		return 0;
	}
	if (strcmp(mode, "--help") == 0 || strcmp(mode, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	/* A vanished peer must give EPIPE on write, not kill a half-written state change. */
	signal(SIGPIPE, SIG_IGN);

	if (strcmp(mode, "ssh") == 0 || strcmp(mode, "local") == 0 || strcmp(mode, "serve") == 0) {
		enum ag_mode m = strcmp(mode, "ssh") == 0     ? AG_MODE_SSH
				 : strcmp(mode, "serve") == 0 ? AG_MODE_SERVE
							      : AG_MODE_LOCAL;

		first = parse_options(argc - 1, argv + 1, &o, 1);
		if (first < 0 || first != argc - 1) {
			if (first >= 0)
				fprintf(stderr, "xclone-agent: %s takes no operands\n", mode);
			return 2;
		}
		if (setup(&o, &cfg, &caller, m) != 0)
			return 2;
		if (m == AG_MODE_SERVE)
			return ag_serve_run(&cfg, &caller);
		return m == AG_MODE_SSH ? run_ssh(&ctx) : ag_session_run(&ctx, STDIN_FILENO);
	}
	if (strcmp(mode, "compat") == 0 || strcmp(mode, "esxcli") == 0) {
		/*
		 * Their operands look like options (--clone, --task-id): only a
		 * leading --config/--set is ours, everything after is theirs.
		 */
		int i = 2;
		while (i + 1 < argc && (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "--set") == 0)) {
			if (argv[i][2] == 'c')
				o.config_path = argv[i + 1];
			else if (o.nsets < MAX_SETS)
				o.sets[o.nsets++] = argv[i + 1];
			i += 2;
		}
		if (i < argc && strcmp(argv[i], "--") == 0)
			i++;
		if (mode[0] == 'c') {
			if (setup(&o, &cfg, &caller, AG_MODE_COMPAT) != 0)
				return 2;
			return run_compat(&ctx, argc - i, argv + i);
		}
		if (setup(&o, &cfg, &caller, AG_MODE_ESXCLI) != 0)
			return 2;
		return ag_esxcli_plugin_run(&ctx, argc - i, argv + i, stdout);
	}
	if (strcmp(mode, "config") == 0) {
		first = parse_options(argc - 1, argv + 1, &o, 0);
		if (first < 0 || setup(&o, &cfg, &caller, AG_MODE_LOCAL) != 0)
			return 2;
		ag_config_write(&cfg, stdout);
		return 0;
	}
	fprintf(stderr, "xclone-agent: unknown mode '%s'\n", mode);
	usage(stderr);
	return 2;
}
