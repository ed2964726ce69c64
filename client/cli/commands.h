/*
 * The xclone CLI's commands. main.c finds the command and dispatches to one of
 * these; each gets argv starting at its own name, parses its own options (the
 * table in opts.c) and returns an exit code from cli_exit.h.
 */
#ifndef XCLONE_CLI_COMMANDS_H
#define XCLONE_CLI_COMMANDS_H

#include <stdio.h>

int cmd_array(int argc, char **argv);
int cmd_populate(int argc, char **argv);

int cmd_hello(int argc, char **argv);
int cmd_host_info(int argc, char **argv);
int cmd_rescan(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_preflight(int argc, char **argv);
int cmd_clone(int argc, char **argv);
int cmd_task(int argc, char **argv);
int cmd_authorized_key(int argc, char **argv);
int cmd_populate(int argc, char **argv);

/* `xclone help TOPIC` for the topics that are not commands; -1 when topic is none of them. */
int help_topic(const char *topic, FILE *out);
/* The topics, for `xclone help`. */
void help_topics(FILE *out);

#endif
