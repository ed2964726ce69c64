/* `xclone help config|json|exit-codes|options`: reference pages. */
#include <string.h>

#include "cli.h"
#include "cli_exit.h"
#include "commands.h"

static void help_config(FILE *out)
{
	const struct cli_option *o = cli_options();

	fprintf(out,
		"xclone config file\n\n"
		"Where: --config FILE, else $XCLONE_CONFIG, else $XDG_CONFIG_HOME/xclone/config,\n"
		"else ~/.config/xclone/config (a missing default file is fine; a missing named one\n"
		"is an error).\n\n"
		"Format: one `key = value` per line; blank lines and lines starting with # are\n"
		"ignored; the value is the rest of the line without surrounding blanks (no\n"
		"quoting). Switches take true/false (also yes/no, on/off, 1/0). An unknown key, a\n"
		"key given twice or a line without = is an error naming the file and line.\n\n"
		"Precedence: a flag beats the environment variable, which beats the file.\n\n"
		"Example:\n"
		"  host = esx01.example.com\n"
		"  identity = /var/run/secrets/xclone/id_rsa\n"
		"  known-hosts = /var/run/secrets/xclone/known_hosts\n"
		"  timeout = 120\n\n"
		"Keys (each also the variable XCLONE_<KEY> with - as _):\n");
	for (int i = 0; i < O_COUNT; i++) {
		char env[64];

		if (!o[i].setting)
			continue;
		cli_env_name(&o[i], env, sizeof(env));
		fprintf(out, "  %-22s %-30s %s\n", o[i].name, env, o[i].help);
	}
}

static void help_json(FILE *out)
{
	fprintf(out,
		"xclone --json output\n\n"
		"One JSON object per line on stdout; member names are stable (those of\n"
		"protocol/PROTOCOL.md, the agent's contract). Absent values are null.\n\n"
		"  hello            the hello result + \"peer\": {transport, host, port, identity,\n"
		"                   identity_source}\n"
		"  host-info        the host.info result\n"
		"  rescan           {rescans, waited_ms}\n"
		"  device get       {device: {id, present, status, size_bytes, vendor, model,\n"
		"                   is_local, vaai_clone, backs_datastore, paths}}\n"
		"  device wait      {device: {...}, rescans, waited_ms}\n"
		"  device detach    {device: \"naa...\", detached}\n"
		"  preflight        the preflight result {source, target, xcopy_expected, reasons,\n"
		"                   blockers}\n"
		"  clone            {task: {...record...}, created, xcopy_expected, reasons}; a clone\n"
		"                   refused by preflight prints the preflight result instead\n"
		"  task get|cancel  {task: {...record...}}\n"
		"  task clean       {task: \"t-...\", removed: [paths]}\n"
		"  task list        {tasks: [records], truncated}\n"
		"  authorized-key   {authorized_key: \"command=...\"}\n\n"
		"Watching (task watch, clone --watch) prints events, each with \"event\":\n"
		"  {event: \"started\", task, created, xcopy_expected, reasons}    (clone --watch)\n"
		"  {event: \"progress\", task, state, percent, bytes, rate_bytes_per_s, eta_s}\n"
		"  {event: \"reconnecting\", attempt, delay_ms, reason}\n"
		"  {event: \"resumed\"}\n"
		"  {event: \"done\", task: {...final record...}}\n\n"
		"A task record: {id, key, state, percent, source, target, pointer, pid,\n"
		"created_ms, started_ms, ended_ms, exit_code, signal, xcopy_used, bytes, message,\n"
		"error_code, stderr_tail} (PROTOCOL.md section 6).\n\n"
		"Errors go to stderr as one line:\n"
		"  {error: {code: \"XC_E_...\", remote_code: \"TASK_NOT_FOUND\"|null, message,\n"
		"           retryable, exit}}\n");
}

static const struct {
	const char *name;
	const char *summary;
} topics[] = {
	{ "config", "the config file: where, format, keys" },
	{ "json", "what --json prints" },
	{ "exit-codes", "exit codes" },
	{ "options", "every option, with its variable and commands" },
};

void help_topics(FILE *out)
{
	fprintf(out, "\nhelp topics (`xclone help TOPIC`):\n");
	for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
		fprintf(out, "  %-14s %s\n", topics[i].name, topics[i].summary);
}

int help_topic(const char *topic, FILE *out)
{
	if (strcmp(topic, "config") == 0)
		help_config(out);
	else if (strcmp(topic, "json") == 0)
		help_json(out);
	else if (strcmp(topic, "exit-codes") == 0)
		cli_help_exit_codes(out);
	else if (strcmp(topic, "options") == 0)
		cli_help_options(out);
	else
		return -1;
	return EXIT_OK;
}
