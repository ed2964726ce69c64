/*
 * xclone-agent entry point: picks the mode from argv[1] and hands over.
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("xclone-agent %s\n", XCLONE_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: xclone-agent --version | ssh | local | serve | compat ...\n");
	return 2;
}
