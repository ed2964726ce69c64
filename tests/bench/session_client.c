/*
 * Sequential round trips on one agent session, for bench_agent_tasks: writes one
 * request line, reads its answer line, again, N times, and prints
 * "<requests/s> <microseconds per round trip>". Two ways to reach the session:
 *
 *   session_client ssh PORT USER KEY N LINE   one libssh2 channel running `session`
 *                                              through a real sshd on 127.0.0.1
 *   session_client pipe N LINE -- PROGRAM ARG...  PROGRAM on a pipe pair (local mode)
 *
 * The first 200 round trips warm up and are not counted. Blocking I/O, no
 * threads: the figure is the latency of one request after another.
 */
#include <arpa/inet.h>
#include <libssh2.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 200

struct peer {
	LIBSSH2_CHANNEL *ch; /* NULL: the pipes below */
	int to, from;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int send_line(struct peer *p, const char *line, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = p->ch ? libssh2_channel_write(p->ch, line + done, len - done)
				  : write(p->to, line + done, len - done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Reads until the answer's newline; answers are single lines well under buf. */
static int read_answer(struct peer *p, char *buf, size_t cap)
{
	size_t got = 0;

	while (got == 0 || buf[got - 1] != '\n') {
		ssize_t n = p->ch ? libssh2_channel_read(p->ch, buf + got, cap - got)
				  : read(p->from, buf + got, cap - got);
		if (n <= 0 || (size_t)n >= cap - got)
			return -1;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return strstr(buf, "\"ok\":false") ? -1 : 0;
}

static int round_trips(struct peer *p, int n, const char *request)
{
	static char answer[1 << 16];
	size_t len = strlen(request);
	double start = 0;

	for (int i = 0; i < WARMUP + n; i++) {
		if (i == WARMUP)
			start = now_s();
		if (send_line(p, request, len) != 0 || send_line(p, "\n", 1) != 0 ||
		    read_answer(p, answer, sizeof(answer)) != 0) {
			fprintf(stderr, "session_client: round trip %d failed: %.300s\n", i, answer);
			return 1;
		}
	}
	double took = now_s() - start;
	printf("%.0f %.1f\n", n / took, took / n * 1e6);
	return 0;
}

static int over_ssh(char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[0])) };
	struct peer p = { 0 };
	LIBSSH2_SESSION *s = NULL;
	int fd, one = 1, rc = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("session_client: connect");
		goto out;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (libssh2_init(0) != 0 || (s = libssh2_session_init()) == NULL ||
	    libssh2_session_handshake(s, fd) != 0 ||
	    libssh2_userauth_publickey_fromfile(s, argv[1], NULL, argv[2], NULL) != 0 ||
	    (p.ch = libssh2_channel_open_session(s)) == NULL ||
	    libssh2_channel_exec(p.ch, "session") != 0) {
		char *msg = "no session";

		if (s != NULL)
			libssh2_session_last_error(s, &msg, NULL, 0);
		fprintf(stderr, "session_client: ssh: %s\n", msg);
		goto out;
	}
	rc = round_trips(&p, atoi(argv[3]), argv[4]);
out:
	if (p.ch != NULL)
		libssh2_channel_free(p.ch);
	if (s != NULL) {
		libssh2_session_disconnect(s, "done");
		libssh2_session_free(s);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static int over_pipes(char **argv)
{
	int in[2], out[2], rc;
	struct peer p = { 0 };
	pid_t pid;

	if (pipe(in) != 0 || pipe(out) != 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execv(argv[3], argv + 3);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	p.to = in[1];
	p.from = out[0];
	rc = pid < 0 ? 1 : round_trips(&p, atoi(argv[0]), argv[1]);
	close(p.to);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "ssh") == 0)
		return over_ssh(argv + 2);
	if (argc >= 6 && strcmp(argv[1], "pipe") == 0 && strcmp(argv[4], "--") == 0)
		return over_pipes(argv + 2);
	fprintf(stderr, "usage: session_client ssh PORT USER KEY N LINE\n"
			"       session_client pipe N LINE -- PROGRAM ARG...\n");
	return 2;
}
