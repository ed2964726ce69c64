/*
 * The xclone CLI's commands. main.c parses the global options and dispatches to
 * one of these; each gets argv starting at its own name and returns an exit
 * code from cli_exit.h.
 */
#ifndef XCLONE_CLI_COMMANDS_H
#define XCLONE_CLI_COMMANDS_H

int cmd_array(int argc, char **argv);

#endif
