/*
 * The xclone CLI's options: ONE table (opts.c) names every option, its short
 * form, argument, default, which commands take it, and whether it is a setting
 * (also read from XCLONE_<NAME> and the config file). getopt_long's table, the
 * help text, the environment and the config file are all derived from it.
 *
 * Precedence: command-line flag, then environment variable, then config file
 * (--config FILE, else $XCLONE_CONFIG, else $XDG_CONFIG_HOME/xclone/config or
 * ~/.config/xclone/config), then the default.
 */
#ifndef XCLONE_CLI_OPTS_H
#define XCLONE_CLI_OPTS_H

#include <stdbool.h>
#include <stdio.h>

/* Commands, as bits: an option lists the commands that take it. */
enum cli_cmd {
	C_HELLO = 1u << 0,
	C_HOST_INFO = 1u << 1,
	C_RESCAN = 1u << 2,
	C_DEVICE = 1u << 3,
	C_PREFLIGHT = 1u << 4,
	C_CLONE = 1u << 5,
	C_TASK = 1u << 6,
	C_AUTHKEY = 1u << 7,
};
#define C_AGENT (C_HELLO | C_HOST_INFO | C_RESCAN | C_DEVICE | C_PREFLIGHT | C_CLONE | C_TASK)
#define C_ALL (C_AGENT | C_AUTHKEY)

enum cli_opt {
	O_HOST,
	O_PORT,
	O_TRANSPORT,
	O_USER,
	O_IDENTITY,
	O_PASSPHRASE_FILE,
	O_KNOWN_HOSTS,
	O_HOST_KEY_FINGERPRINT,
	O_ACCEPT_NEW_HOST_KEY,
	O_TLS_CERT,
	O_TLS_KEY,
	O_TLS_CA,
	O_TLS_SERVER_NAME,
	O_TLS_PIN,
	O_TIMEOUT,
	O_CONNECT_TIMEOUT,
	O_RETRIES,
	O_PROGRESS,
	O_JSON,
	O_VERBOSE,
	O_CONFIG,
	O_HELP,
	O_ADAPTER,
	O_RESCAN_TYPE,
	O_WAIT_TIMEOUT,
	O_KEY,
	O_WATCH,
	O_READ_ONLY,
	O_ALLOW,
	O_AGENT_PATH,
	O_COUNT
};

struct cli_option {
	enum cli_opt id;
	const char *name;     /* --name; also the config key, and XCLONE_NAME (upper case, '-' as '_') */
	char short_name;      /* 0: none */
	const char *arg;      /* the argument's name; NULL: a switch */
	bool setting;         /* also from the environment and the config file */
	unsigned cmds;        /* enum cli_cmd bits */
	const char *dflt;     /* shown in help; NULL: none */
	const char *help;
};

/* The table, O_COUNT rows indexed by enum cli_opt. */
const struct cli_option *cli_options(void);

enum cli_source { SRC_NONE, SRC_DEFAULT, SRC_FLAG, SRC_ENV, SRC_CONFIG };

struct cli_settings {
	const char *value[O_COUNT];   /* NULL: not given; "1" for a switch that is on */
	enum cli_source source[O_COUNT];
	char origin[O_COUNT][96];     /* "--timeout", "XCLONE_TIMEOUT", "FILE line 3": for messages */
	char *owned[O_COUNT];         /* copies from the config file */
	unsigned cmd;                 /* the command's bit */
	const char *command;          /* "clone", "task watch": for messages */
};

/* What a command tells the parser and the help generator. */
struct cli_command_doc {
	const char *name;             /* "clone", "task watch" */
	unsigned cmd;                 /* its bit */
	const char *operands;         /* "SOURCE TARGET", or "" */
	int min_operands, max_operands;
	const char *summary;          /* one line */
	const char *description;      /* paragraphs, may be NULL */
};

/*
 * Parses argv (argv[0] is the command's name) into s: flags, then the
 * environment, then the config file. Returns 0 with *first at the first
 * operand; 1 when --help was given (help printed); or an exit code (usage
 * error printed to stderr).
 */
int cli_parse(int argc, char **argv, const struct cli_command_doc *doc, struct cli_settings *s,
	      int *first);

void cli_settings_free(struct cli_settings *s);

/* Writes the command's help, generated from the table. */
void cli_help(FILE *out, const struct cli_command_doc *doc);

/* Writes the reference of every option and the commands taking it (`xclone help options`). */
void cli_help_options(FILE *out);

/* The XCLONE_* variable of an option ("XCLONE_HOST"). */
void cli_env_name(const struct cli_option *o, char *out, size_t cap);

/* Values: a switch or boolean setting; a number of seconds as milliseconds; an integer. */
bool cli_on(const struct cli_settings *s, enum cli_opt o);
int cli_seconds_ms(const struct cli_settings *s, enum cli_opt o, unsigned *ms);
int cli_uint(const struct cli_settings *s, enum cli_opt o, unsigned max, unsigned *out);

/* Prints "xclone <command>: <message>" for a bad setting, naming where it came from; returns EXIT_USAGE. */
int cli_bad(const struct cli_settings *s, enum cli_opt o, const char *why);

#endif
