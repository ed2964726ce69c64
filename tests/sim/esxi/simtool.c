/*
 * simtool: esxcli, vmkfstools and vsish of a simulated ESXi host root, when a tool
 * server (tests/sim/esxi/toolserver.py) keeps the simulator's Python warm.
 *
 * Copied (not linked) to ROOT/bin/<tool>, so /proc/self/exe names the tool and the
 * root. It hands argv, its umask, its working directory and fds 0-2 to the server,
 * which forks a child that runs the tool on those very fds; this process then waits
 * and ends as the child ended (exit code, or the same signal). SIGTERM, SIGINT and
 * SIGHUP are passed on to the child; if this process dies (SIGKILL), the server sees
 * the connection close and kills the child. Without a server, or when it refuses,
 * the plain Python tool ROOT/bin/.<tool>.py is exec'd with the same argv instead,
 * so a root works either way. Test fixture only: nothing here ships.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The protocol; toolserver.py holds the same constants. */
#define REQ_MAGIC 0x31545358u   /* "XST1" */
#define REQ_MAX (1u << 20)      /* argv beyond this goes to the plain tool */
#define NAME_MAX_LEN 100        /* abstract socket name, without its leading NUL */
enum { REC_STARTED = 1, REC_EXITED = 2, REC_SIGNALED = 3 };

struct rec {
	int32_t kind, value;
};

struct tool {
	char root[PATH_MAX];
	char script[PATH_MAX];  /* ROOT/bin/.<tool>.py */
	char name[NAME_MAX + 1];
};

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP };

/* ROOT and the tool's name from /proc/self/exe = ROOT/bin/<tool>. */
static int locate(struct tool *t)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *base, *bin;

	if (n <= 0 || (size_t)n >= sizeof(exe) - 1)
		return -1;
	exe[n] = '\0';
	base = strrchr(exe, '/');
	if (base == NULL || strlen(base + 1) > NAME_MAX)
		return -1;
	*base = '\0';
	strcpy(t->name, base + 1);
	if (snprintf(t->script, sizeof(t->script), "%s/.%s.py", exe, t->name) >= (int)sizeof(t->script))
		return -1;
	bin = strrchr(exe, '/');
	if (bin == NULL)
		return -1;
	*bin = '\0';
	strcpy(t->root, exe);
	return 0;
}

/* The plain Python tool, same argv, original signal mask. */
_Noreturn static void run_plain(const struct tool *t, char **argv, const sigset_t *mask)
{
	if (sigprocmask(SIG_SETMASK, mask, NULL) == 0)
		execv(t->script, argv);
	fprintf(stderr, "simtool: cannot run %s: %s\n", t->script, strerror(errno));
	exit(127);
}

/* The server's abstract socket name from ROOT/etc/toolserver.addr; its length or -1. */
static ssize_t read_addr(const struct tool *t, char *name)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/etc/toolserver.addr", t->root) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, name, NAME_MAX_LEN + 1);
	close(fd);
	if (n > 0 && name[n - 1] == '\n')
		n--;
	if (n <= 0 || n > NAME_MAX_LEN || memchr(name, '\0', (size_t)n) != NULL)
		return -1;
	return n;
}

static int connect_server(const char *name, size_t len)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path + 1, name, len);   /* sun_path[0] = '\0': abstract name */
	if (connect(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len))) {
		close(fd);
		return -1;
	}
	return fd;
}

struct buf {
	char *p;
	size_t len;
};

/* Appends s and its NUL; -1 when the request would pass REQ_MAX. */
static int put(struct buf *b, const char *s)
{
	size_t n = strlen(s) + 1;

	if (n > REQ_MAX - b->len)
		return -1;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

/* Header (magic, payload length), then NUL-terminated: tool, umask (octal), argc, args. */
static int build_request(const struct tool *t, int argc, char **argv, struct buf *b)
{
	uint32_t head[2] = { REQ_MAGIC, 0 };
	char num[2][16];
	mode_t mask = umask(0);

	umask(mask);
	snprintf(num[0], sizeof(num[0]), "%o", (unsigned)mask);
	snprintf(num[1], sizeof(num[1]), "%d", argc - 1);
	b->len = sizeof(head);
	if (put(b, t->name) || put(b, num[0]) || put(b, num[1]))
		return -1;
	for (int i = 1; i < argc; i++)
		if (put(b, argv[i]))
			return -1;
	head[1] = (uint32_t)(b->len - sizeof(head));
	memcpy(b->p, head, sizeof(head));
	return 0;
}

/* The request with fds 0, 1, 2 and the working directory attached to its first byte. */
static int send_request(int sock, const struct buf *b, int cwd)
{
	int fds[4] = { 0, 1, 2, cwd };
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = { .iov_base = b->p, .iov_len = b->len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	size_t off;
	ssize_t n;

	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	if (n <= 0)
		return -1;
	for (off = (size_t)n; off < b->len; off += (size_t)n) {
		n = send(sock, b->p + off, b->len - off, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
	}
	return 0;
}

/* One record: 0, 1 at EOF (the server is gone), -1 on error. */
static int read_rec(int sock, struct rec *r)
{
	ssize_t n = recv(sock, r, sizeof(*r), MSG_WAITALL);

	if (n == (ssize_t)sizeof(*r))
		return 0;
	return n == 0 ? 1 : -1;
}

/* Connects and starts the tool in the server: the socket, or -1 (nothing started). */
static int start_remote(const struct tool *t, int argc, char **argv)
{
	char name[NAME_MAX_LEN + 1];
	ssize_t len = read_addr(t, name);
	struct buf b = { .p = len < 0 ? NULL : malloc(REQ_MAX), .len = 0 };
	int sock = -1, cwd = -1;
	struct rec r;

	if (b.p == NULL || build_request(t, argc, argv, &b))
		goto out;
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	sock = cwd < 0 ? -1 : connect_server(name, (size_t)len);
	if (sock >= 0 && (send_request(sock, &b, cwd) || read_rec(sock, &r) || r.kind != REC_STARTED)) {
		close(sock);
		sock = -1;
	}
out:
	if (cwd >= 0)
		close(cwd);
	free(b.p);
	return sock;
}

/* Ends this process the way the child ended. */
_Noreturn static void end_like(const struct rec *r)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	struct rlimit nocore = { 0, 0 };
	sigset_t one;

	if (r->kind == REC_EXITED)
		exit(r->value & 0xff);
	/* The child dumped core if it had to; a second dump of this process helps no one. */
	(void)setrlimit(RLIMIT_CORE, &nocore);
	(void)sigaction(r->value, &dfl, NULL);  /* fails for SIGKILL, which needs none */
	if (sigemptyset(&one) == 0 && sigaddset(&one, r->value) == 0)
		(void)sigprocmask(SIG_UNBLOCK, &one, NULL);
	raise(r->value);
	exit(128 + (r->value & 0x7f));  /* not a signal that ends a process */
}

/* Passes the signals this process receives on; returns when the child has ended. */
static int relay(int sock, int sigfd)
{
	struct signalfd_siginfo si;
	struct rec r;
	int32_t sig;

	for (;;) {
		struct pollfd p[2] = { { .fd = sock, .events = POLLIN }, { .fd = sigfd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((p[1].revents & POLLIN) && read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			sig = (int32_t)si.ssi_signo;
			(void)send(sock, &sig, sizeof(sig), MSG_NOSIGNAL);  /* a gone server shows as EOF */
		}
		if (p[0].revents == 0)
			continue;
		if (read_rec(sock, &r) == 0 && (r.kind == REC_EXITED || r.kind == REC_SIGNALED))
			end_like(&r);
		break;
	}
	fprintf(stderr, "simtool: lost the tool server before the tool ended\n");
	return 255;
}

int main(int argc, char **argv)
{
	sigset_t fwd, old;
	struct tool t;
	int sigfd, sock;

	if (argc < 1 || locate(&t)) {
		fprintf(stderr, "simtool: cannot tell its host root from /proc/self/exe\n");
		return 127;
	}
	/* Blocked from the start: a signal before the child runs waits, then is passed on
	 * (or, on the plain path, unblocked before exec and acted on as before). */
	sigemptyset(&fwd);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&fwd, forwarded[i]);
	if (sigprocmask(SIG_BLOCK, &fwd, &old))
		run_plain(&t, argv, &old);
	sigfd = signalfd(-1, &fwd, SFD_CLOEXEC);
	sock = sigfd < 0 ? -1 : start_remote(&t, argc, argv);
	if (sock < 0)
		run_plain(&t, argv, &old);
	return relay(sock, sigfd);
}
