/* serve's signals through a self-pipe (see serve_signal.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "serve_signal.h"

static const int handled[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };
#define NHANDLED (sizeof(handled) / sizeof(handled[0]))

/* Written only by serve_signals_open/close; read by the handler. */
static volatile sig_atomic_t wake_fd = -1;

static void on_signal(int sig)
{
	int saved = errno;
	char b = sig == SIGCHLD ? (char)SERVE_SIG_CHILD : (char)SERVE_SIG_STOP;

	/* A full pipe already holds a wake-up: losing this byte loses nothing. */
	if (wake_fd >= 0)
		(void)!write(wake_fd, &b, 1);
	errno = saved;
}

static int set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int serve_signals_open(struct ag_error *err)
{
	int p[2];
	struct sigaction sa;

	if (pipe(p) != 0) {
		ag_error_set(err, 1, "cannot create the signal pipe: %s", strerror(errno));
		return -1;
	}
	if (set_flags(p[0]) != 0 || set_flags(p[1]) != 0) {
		ag_error_set(err, 1, "cannot set up the signal pipe: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	wake_fd = p[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NHANDLED; i++) {
		if (sigaction(handled[i], &sa, NULL) != 0) {
			ag_error_set(err, 1, "cannot install a signal handler: %s", strerror(errno));
			serve_signals_close(p[0]);
			return -1;
		}
	}
	return p[0];
}

int serve_signals_take(int read_fd)
{
	char buf[64];
	int mask = 0;
	ssize_t n;

	while ((n = read(read_fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		for (ssize_t i = 0; i < n; i++)
			mask |= buf[i];
	return mask;
}

static void restore_defaults(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NHANDLED; i++)
		sigaction(handled[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void serve_signals_close(int read_fd)
{
	int w = wake_fd;

	restore_defaults();
	wake_fd = -1;
	if (w >= 0)
		close(w);
	if (read_fd >= 0)
		close(read_fd);
}

void serve_signals_reset_in_child(void)
{
	restore_defaults();
	wake_fd = -1;
}
