/*
 * libFuzzer target: SSH_ORIGINAL_COMMAND classification, the Forklift
 * compatibility form, and the esxcli argv form (input split at NUL bytes).
 * Besides memory safety it checks the parser's promises, and that a parsed
 * clone command, written again the way Forklift writes it, parses the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssh_command.h"

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void check_parsed(const struct ag_sshcmd *c, const char *in, size_t len)
{
	if (c->mode == AG_SSHCMD_REQUEST) {
		check(c->request == in && c->request_len == len && in[0] == '{');
		return;
	}
	if (c->mode != AG_SSHCMD_COMPAT)
		return;
	switch (c->verb) {
	case AG_COMPAT_CLONE:
		check(c->source[0] != '\0' && c->device[0] != '\0' && strchr(c->device, ' ') == NULL);
		break;
	case AG_COMPAT_TASK_GET:
	case AG_COMPAT_TASK_CLEAN:
		check(ag_task_id_valid(c->task_id, strlen(c->task_id)));
		break;
	case AG_COMPAT_PING:
		check(c->datastore[0] == '\0');
		break;
	case AG_COMPAT_VERSION:
		break;
	case AG_COMPAT_NONE:
		check(0);
	}
}

/* A parsed clone, written back as Forklift would, must parse to the same fields. */
static void check_round_trip(const struct ag_sshcmd *c)
{
	static char buf[3 * AG_PATH_MAX];
	struct ag_sshcmd again;
	int n;

	if (c->verb != AG_COMPAT_CLONE || c->datastore[0] == '\0')
		return;
	n = snprintf(buf, sizeof(buf), "DS=%s;CMD=--clone -s %s -t %s", c->datastore, c->source, c->device);
	check(n > 0 && (size_t)n < sizeof(buf));
	check(ag_sshcmd_parse(buf, (size_t)n, &again, NULL) == 0);
	check(strcmp(again.source, c->source) == 0 && strcmp(again.device, c->device) == 0);
}

static void fuzz_argv(const char *in, size_t len)
{
	char *copy = malloc(len + 1), *argv[8];
	int argc = 0;
	struct ag_sshcmd c;
	size_t start = 0;

	memcpy(copy, in, len);
	copy[len] = '\0';
	for (size_t i = 0; i <= len && argc < 8; i++) {
		if (i == len || copy[i] == '\0') {
			argv[argc++] = copy + start;
			start = i + 1;
		}
	}
	if (ag_compat_parse_argv(argc, argv, &c, NULL) == 0)
		check_parsed(&c, copy, len);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ag_sshcmd c;
	struct ag_error err = { 0 };
	const char *in = (const char *)data;

	if (ag_sshcmd_parse(size ? in : NULL, size, &c, &err) == 0) {
		check_parsed(&c, in, size);
		check_round_trip(&c);
	} else {
		check(memchr(err.msg, '\0', sizeof(err.msg)) != NULL && err.code != 0);
	}
	fuzz_argv(in, size);
	return 0;
}
