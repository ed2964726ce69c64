/*
 * The array simulator from C tests: start it in a temporary folder, seed it,
 * arm faults, read its model and the SAN fabric, stop it. Header-only (each test
 * program is standalone); include as "../sim/arrays/simarray.h" from tests/unit.
 *
 * The server runs `simarray.py serve --watch-stdin --cleanup`: it stops and deletes
 * its folder when our end of its stdin closes, so even a crashed test leaves
 * nothing behind. Tests run from the repository root (tests/run does that).
 */
#ifndef XCLONE_TESTS_SIMARRAY_H
#define XCLONE_TESTS_SIMARRAY_H

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define SIMARRAY_SCRIPT "tests/sim/arrays/simarray.py"
#define SIMARRAY_MAX 8

struct simarray {
	pid_t pid;
	int stdin_fd;
	char dir[PATH_MAX];
	char fabric[PATH_MAX + 16];
	char ca_file[PATH_MAX];
	size_t n;
	struct {
		char name[64];
		int port;
	} arrays[SIMARRAY_MAX];
};

/* Reads fd to EOF into a malloc'd string. */
static char *simarray_slurp(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t r;

	if (buf == NULL)
		return NULL;
	for (;;) {
		if (len + 1 >= cap) {
			char *p = realloc(buf, cap * 2);
			if (p == NULL) {
				free(buf);
				return NULL;
			}
			buf = p;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	return buf;
}

/* Runs python3 simarray.py argv...; *out (may be NULL) gets its stdout. */
static int simarray_exec(const char *const *args, char **out)
{
	int pipefd[2], status = 0;
	pid_t pid;
	char *text;

	if (pipe(pipefd) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		const char *argv[16] = {"python3", SIMARRAY_SCRIPT};
		size_t i = 2;
		for (; args[i - 2] != NULL && i < 15; i++)
			argv[i] = args[i - 2];
		argv[i] = NULL;
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	text = simarray_slurp(pipefd[0]);
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out != NULL)
		*out = text;
	else
		free(text);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Starts a simulator serving arrays "vendor:name", e.g. {"pure:fa1"}. */
static int simarray_start(struct simarray *s, const char *const *arrays, size_t n)
{
	int in[2], outp[2];
	const char *tmp = getenv("TMPDIR");
	char line[8192];
	size_t len = 0;
	cJSON *ready, *list, *a;

	memset(s, 0, sizeof(*s));
	s->pid = -1;
	s->stdin_fd = -1;
	snprintf(s->dir, sizeof(s->dir), "%s/xclone-simarray-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (n > SIMARRAY_MAX || mkdtemp(s->dir) == NULL)
		return -1;
	snprintf(s->fabric, sizeof(s->fabric), "%s/fabric", s->dir);
	if (pipe(in) != 0 || pipe(outp) != 0)
		return -1;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		const char *argv[40] = {"python3", SIMARRAY_SCRIPT, "serve", "--dir", s->dir,
					"--fabric", s->fabric, "--watch-stdin", "--cleanup"};
		size_t k = 9;
		for (size_t i = 0; i < n; i++) {
			argv[k++] = "--array";
			argv[k++] = arrays[i];
		}
		argv[k] = NULL;
		dup2(in[0], 0);
		dup2(outp[1], 1);
		close(in[0]);
		close(in[1]);
		close(outp[0]);
		close(outp[1]);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	s->stdin_fd = in[1];
	fcntl(s->stdin_fd, F_SETFD, FD_CLOEXEC);
	/* the ready line; 60 s is generous even on a loaded machine */
	while (len + 1 < sizeof(line)) {
		struct pollfd pfd = {outp[0], POLLIN, 0};
		ssize_t r;
		if (poll(&pfd, 1, 60000) <= 0)
			break;
		r = read(outp[0], line + len, 1);
		if (r <= 0 || line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	close(outp[0]);
	ready = cJSON_Parse(line);
	if (ready == NULL)
		return -1;
	if (cJSON_GetStringValue(cJSON_GetObjectItem(ready, "ca_file")) != NULL)
		snprintf(s->ca_file, sizeof(s->ca_file), "%s",
			 cJSON_GetStringValue(cJSON_GetObjectItem(ready, "ca_file")));
	list = cJSON_GetObjectItem(ready, "arrays");
	cJSON_ArrayForEach(a, list)
	{
		if (s->n == SIMARRAY_MAX)
			break;
		snprintf(s->arrays[s->n].name, sizeof(s->arrays[s->n].name), "%s", a->string);
		s->arrays[s->n].port = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(a, "port"));
		s->n++;
	}
	cJSON_Delete(ready);
	return s->n == n ? 0 : -1;
}

static int simarray_port(const struct simarray *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->arrays[i].name, name) == 0)
			return s->arrays[i].port;
	return -1;
}

/* simarray.py <verb> --dir D [json] */
static int simarray_ctl(const struct simarray *s, const char *verb, const char *json, char **out)
{
	const char *args[] = {verb, "--dir", s->dir, json, NULL};

	return simarray_exec(args, out);
}

static int simarray_seed(const struct simarray *s, const char *json)
{
	return simarray_ctl(s, "seed", json, NULL);
}

static int simarray_fault(const struct simarray *s, const char *json)
{
	return simarray_ctl(s, "fault", json, NULL);
}

static int simarray_clear_faults(const struct simarray *s)
{
	return simarray_ctl(s, "clear-faults", NULL, NULL);
}

/* The whole model (cJSON_Delete it), or NULL. */
static cJSON *simarray_state(const struct simarray *s)
{
	char *text = NULL;
	cJSON *st = NULL;

	if (simarray_ctl(s, "state", NULL, &text) == 0)
		st = cJSON_Parse(text);
	free(text);
	return st;
}

/* Whether the fabric presents device naa to initiator (fabric.py contract). */
static int simarray_fabric_has(const struct simarray *s, const char *initiator, const char *naa)
{
	char path[PATH_MAX * 2];
	struct stat st;

	snprintf(path, sizeof(path), "%s/maps/%s/%s", s->fabric, initiator, naa);
	return stat(path, &st) == 0;
}


/* Requests the array answered (or faulted) whose method matches and whose target
 * contains part, from the model's request log. */
static int simarray_count_requests(const struct simarray *s, const char *array, const char *method,
				   const char *part)
{
	cJSON *st = simarray_state(s), *r;
	int count = 0;

	if (st == NULL)
		return -1;
	cJSON_ArrayForEach(r, cJSON_GetObjectItem(st, "requests"))
	{
		const char *a = cJSON_GetStringValue(cJSON_GetObjectItem(r, "array"));
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(r, "method"));
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(r, "path"));
		if (a && m && p && strcmp(a, array) == 0 && strcmp(m, method) == 0 && strstr(p, part))
			count++;
	}
	cJSON_Delete(st);
	return count;
}

/* Writes one key of a mounted-secret style folder (value + newline, as kubectl does). */
static int simarray_write_key(const char *dir, const char *key, const char *value)
{
	char path[PATH_MAX + 256];
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, key) >= sizeof(path))
		return -1;
	if (value == NULL)
		return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%s\n", value);
	return fclose(f) == 0 ? 0 : -1;
}


/* Fills a mounted-secret style folder for array `name` of s: every file removed,
 * then STORAGE_HOSTNAME (the array's 127.0.0.1 port) and STORAGE_CA_FILE (the
 * simulator's CA), then each "KEY=VALUE" of kv in order ("KEY=" removes KEY). */
static int simarray_make_secret(const struct simarray *s, const char *dir, const char *name,
				const char *const *kv, size_t n)
{
	char host[64], key[128];
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX + 256];
		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		unlink(path);
	}
	closedir(d);
	snprintf(host, sizeof(host), "127.0.0.1:%d", simarray_port(s, name));
	rc |= simarray_write_key(dir, "STORAGE_HOSTNAME", host);
	rc |= simarray_write_key(dir, "STORAGE_CA_FILE", s->ca_file);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(kv[i], '=');
		if (eq == NULL || (size_t)(eq - kv[i]) >= sizeof(key))
			return -1;
		snprintf(key, sizeof(key), "%.*s", (int)(eq - kv[i]), kv[i]);
		rc |= simarray_write_key(dir, key, eq[1] ? eq + 1 : NULL);
	}
	return rc;
}

/* A JSON fault object built with cJSON (so hostile strings stay valid JSON) and armed. */
static int simarray_fault_message(const struct simarray *s, const char *array, const char *method,
				  int status, const char *message)
{
	cJSON *f = cJSON_CreateObject();
	char *text;
	int rc;

	cJSON_AddStringToObject(f, "array", array);
	cJSON_AddStringToObject(f, "method", method);
	cJSON_AddStringToObject(f, "action", "status");
	cJSON_AddNumberToObject(f, "status", status);
	cJSON_AddStringToObject(f, "message", message);
	text = cJSON_PrintUnformatted(f);
	rc = text ? simarray_fault(s, text) : -1;
	free(text);
	cJSON_Delete(f);
	return rc;
}

/* Faults still armed in the model. */
static int simarray_faults_left(const struct simarray *s)
{
	cJSON *st = simarray_state(s);
	int n = st ? cJSON_GetArraySize(cJSON_GetObjectItem(st, "faults")) : -1;

	cJSON_Delete(st);
	return n;
}

/* The model's object at arrays.<array>.<what> (e.g. "hosts"), detached copy or NULL. */
static cJSON *simarray_array_part(const struct simarray *s, const char *array, const char *what)
{
	cJSON *st = simarray_state(s), *part = NULL;

	if (st != NULL)
		part = cJSON_Duplicate(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
							  st, "arrays"), array), what), 1);
	cJSON_Delete(st);
	return part;
}

static int simarray_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Removes a folder tree (test temp folders). */
static void simarray_rmtree(const char *dir)
{
	if (dir != NULL && dir[0] != '\0')
		nftw(dir, simarray_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Stops the server; its folder goes with it (removed here too if it was killed). */
static void simarray_stop(struct simarray *s)
{
	int status;

	if (s->stdin_fd >= 0) {
		close(s->stdin_fd); /* the server stops and removes its folder */
		s->stdin_fd = -1;
	}
	if (s->pid > 0) {
		for (int i = 0; i < 200; i++) {
			if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
				s->pid = -1;
				break;
			}
			usleep(50000);
		}
		if (s->pid > 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &status, 0);
			s->pid = -1;
		}
	}
	simarray_rmtree(s->dir);
}

#endif
