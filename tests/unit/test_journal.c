/*
 * The durable journal (client/lib/journal.c): records survive close and reopen
 * byte for byte, one process per folder (the lock dies with its owner, even by
 * SIGKILL), a torn last line is dropped, a corrupt line is refused.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal.h"
#include "tap.h"

static char root[256];

static void rm_rf(const char *path)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/rm", "rm", "-rf", "--", path, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

static cJSON *rec(int n, const char *text)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "n", n);
	cJSON_AddStringToObject(o, "text", text);
	return o;
}

static const char *text_of(const struct xc_journal *j, size_t i)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(xc_journal_at(j, i), "text");

	return cJSON_IsString(t) ? t->valuestring : NULL;
}

static void append(struct xc_journal *j, int n, const char *text)
{
	struct xclone_error err;
	cJSON *r = rec(n, text);

	ok(xc_journal_append(j, r, &err) == 0, "append record %d", n);
	cJSON_Delete(r);
}

static void test_roundtrip(void)
{
	/* quotes, backslash, $(), a newline (escaped in the line), unicode */
	static const char *hostile = "VM \"q\" 'a' $(touch x); `id` \\ \n ünï €";
	char dir[512];
	struct xc_journal *j = NULL;
	struct xclone_error err;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/state/a/key-1", root);
	ok(xc_journal_open(dir, &j, &err) == 0, "open creates the folder and its parents");
	ok(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700, "folder mode 0700");
	is_int(xc_journal_count(j), 0, "a new journal is empty");
	append(j, 1, "first");
	append(j, 2, hostile);
	{
		cJSON *arr = cJSON_CreateArray();

		ok(xc_journal_append(j, arr, &err) == XC_E_USAGE, "a non-object record is refused");
		cJSON_Delete(arr);
	}
	xc_journal_close(j);
	ok(xc_journal_open(dir, &j, &err) == 0, "reopen");
	is_int(xc_journal_count(j), 2, "both records read back");
	is_str(text_of(j, 0), "first", "record 1 intact");
	is_str(text_of(j, 1), hostile, "hostile text intact");
	is_int(xc_journal_dropped(j), 0, "nothing dropped");
	append(j, 3, "after reopen");
	xc_journal_close(j);
	ok(xc_journal_open(dir, &j, &err) == 0 && xc_journal_count(j) == 3, "appends after reopen");
	xc_journal_close(j);
}

static void test_lock(void)
{
	char dir[512], pid_text[32];
	struct xc_journal *a = NULL, *b = NULL;
	struct xclone_error err;
	int status, fds[2];
	pid_t child;

	snprintf(dir, sizeof(dir), "%s/lock", root);
	ok(xc_journal_open(dir, &a, &err) == 0, "first opener holds the folder");
	ok(xc_journal_open(dir, &b, &err) == XC_E_CONFLICT && b == NULL,
	   "a second opener is refused with XC_E_CONFLICT");
	snprintf(pid_text, sizeof(pid_text), "pid %ld", (long)getpid());
	ok(strstr(err.message, pid_text) != NULL, "the message names the holder (%s)", err.message);
	xc_journal_close(a);
	ok(xc_journal_open(dir, &b, &err) == 0, "free again once closed");
	xc_journal_close(b);

	/* a child holds it and dies by SIGKILL: the lock goes with it */
	if (pipe(fds) != 0)
		return;
	child = fork();
	if (child == 0) {
		struct xc_journal *c = NULL;
		char one = 1;

		if (xc_journal_open(dir, &c, NULL) != 0)
			_exit(3);
		(void)!write(fds[1], &one, 1);
		pause();
		_exit(0);
	}
	{
		char one = 0;

		(void)!read(fds[0], &one, 1);
		ok(one == 1, "child holds the journal");
	}
	ok(xc_journal_open(dir, &b, &err) == XC_E_CONFLICT, "held by the child");
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	ok(xc_journal_open(dir, &b, &err) == 0, "free after the holder was SIGKILLed");
	xc_journal_close(b);
	close(fds[0]);
	close(fds[1]);
}

static void write_raw(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	if (fd >= 0) {
		(void)!write(fd, data, strlen(data));
		close(fd);
	}
}

static void test_torn_and_corrupt(void)
{
	char dir[512], path[600];
	struct xc_journal *j = NULL;
	struct xclone_error err;
	struct stat before, after;

	snprintf(dir, sizeof(dir), "%s/torn", root);
	ok(xc_journal_open(dir, &j, &err) == 0, "open");
	append(j, 1, "whole");
	snprintf(path, sizeof(path), "%s", xc_journal_path(j));
	xc_journal_close(j);
	write_raw(path, "{\"n\":2,\"text\":\"cut in the midd");
	stat(path, &before);
	ok(xc_journal_open(dir, &j, &err) == 0, "a torn last line does not stop the open");
	is_int(xc_journal_count(j), 1, "the torn line is not a record");
	is_int(xc_journal_dropped(j), strlen("{\"n\":2,\"text\":\"cut in the midd"),
	       "dropped() says how many bytes");
	stat(path, &after);
	ok(after.st_size < before.st_size, "the file was cut back to the last whole line");
	append(j, 3, "next");
	xc_journal_close(j);
	ok(xc_journal_open(dir, &j, &err) == 0 && xc_journal_count(j) == 2 &&
		   text_of(j, 1) && strcmp(text_of(j, 1), "next") == 0,
	   "the next record follows the last whole line");
	xc_journal_close(j);

	write_raw(path, "{\"n\":4} trailing\n");
	ok(xc_journal_open(dir, &j, &err) == XC_E_PROTOCOL, "a complete corrupt line is refused");
	ok(strstr(err.message, "line 3") != NULL, "the message names the line (%s)", err.message);
	snprintf(path, sizeof(path), "%s/empty-lines", root);
	ok(xc_journal_open(path, &j, &err) == 0, "open another");
	snprintf(path, sizeof(path), "%s", xc_journal_path(j));
	xc_journal_close(j);
	write_raw(path, "\n\n{\"n\":1}\n");
	ok(xc_journal_open(dir, &j, &err) != 0, "the corrupt one still refuses");
	snprintf(dir, sizeof(dir), "%s/empty-lines", root);
	ok(xc_journal_open(dir, &j, &err) == 0 && xc_journal_count(j) == 1, "empty lines are skipped");
	xc_journal_close(j);
}

static void test_bad_paths(void)
{
	struct xc_journal *j = NULL;
	struct xclone_error err;
	char dir[700], file[600];
	int fd;

	snprintf(file, sizeof(file), "%s/a-file", root);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	close(fd);
	snprintf(dir, sizeof(dir), "%s/sub", file);
	ok(xc_journal_open(dir, &j, &err) == XC_E_IO && j == NULL,
	   "a path through a file is XC_E_IO (%s)", err.message);
	ok(xc_journal_open("", &j, &err) != 0, "an empty path is refused");
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/xclone-test-journal-%ld", (long)getpid());
	rm_rf(root);
	test_roundtrip();
	test_lock();
	test_torn_and_corrupt();
	test_bad_paths();
	rm_rf(root);
	return tap_done();
}
