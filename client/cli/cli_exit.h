/* The xclone CLI's documented exit codes (see `xclone help exit-codes`). */
#ifndef XCLONE_CLI_EXIT_H
#define XCLONE_CLI_EXIT_H

enum cli_exit {
	EXIT_OK = 0,         /* success */
	EXIT_FAILED = 1,     /* the operation ran and failed */
	EXIT_USAGE = 2,      /* bad command line or settings */
	EXIT_CONNECT = 3,    /* connection or authentication failed */
	EXIT_TIMEOUT = 4,    /* a deadline passed */
	EXIT_UNSAFE = 5,     /* refused for safety (target unsafe, blocker) */
	EXIT_KEY_IN_USE = 6, /* populate: the key is run by another process, or names other disks/host */
	EXIT_INCOMPLETE = 7, /* populate: stopped with work or cleanup left: run again with the key */
	EXIT_INTERNAL = 70,  /* a bug: please report */
};

#endif
