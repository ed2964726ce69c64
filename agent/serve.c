/* `xclone-agent serve`: start-up, the poll() loop and shutdown (see serve.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "serve.h"
#include "serve_conn.h"
#include "serve_listen.h"
#include "serve_pidfile.h"
#include "serve_signal.h"
#include "serve_tls.h"
#include "serve_worker.h"

#define ACCEPT_BATCH 64           /* accepts per loop turn: a flood cannot starve clients */
#define ACCEPT_PAUSE_MS 100       /* after EMFILE and the like, let descriptors free up */
#define REFUSAL_LOG_MS 10000      /* refused connections are logged at most this often */
#define POLL_MAX_MS 60000
#define FDS_SPARE 32              /* descriptors beyond two per connection */

struct server {
	const struct ag_config *cfg;
	struct ag_caller caller;
	struct serve_worker_env env;
	SSL_CTX *tls;
	int listen_fd, sig_fd, pid_fd;
	char bound[SERVE_ADDR_TEXT_MAX];
	unsigned max_conns;
	struct serve_conn **conns;
	size_t nconns, npolled;   /* npolled: connections the current poll set covers */
	struct pollfd *pfds;
	int *sock_slot, *pipe_slot;
	unsigned long refused_unlogged;
	char refused_peer[SERVE_ADDR_TEXT_MAX];
	int64_t refusal_log_ms;
	int64_t accept_paused_until_ms;
};

static int64_t now_ms(void)
{
	return serve_clock_us() / 1000;
}

/* Descriptors 0-2 must be taken, or a socket could become a worker's stdout. */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
			(void)open("/dev/null", O_RDWR);
}

/* The command line's restrictions, narrowed by serve_read_only and serve_allow. */
static int make_caller(struct server *s, const struct ag_caller *base, struct ag_error *err)
{
	struct ag_caller allow;

	s->caller = *base;
	s->caller.mode = AG_MODE_SERVE;
	if (s->cfg->serve_read_only)
		s->caller.read_only = true;
	if (s->cfg->serve_allow[0] == '\0')
		return 0;
	ag_caller_init(&allow, AG_MODE_SERVE);
	if (ag_caller_parse_allow(&allow, s->cfg->serve_allow, err) != 0)
		return ag_error_set(err, 1, "serve_allow: %s", err->msg);
	s->caller.allowed &= allow.allowed;
	return 0;
}

/* Two descriptors per connection (socket, worker pipe): raise the limit or serve fewer. */
static unsigned fit_fd_limit(unsigned want)
{
	rlim_t need = (rlim_t)want * 2 + FDS_SPARE;
	struct rlimit rl;
	unsigned fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return want;
	rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) ? need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= need)
		return want;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return want;
	fit = rl.rlim_cur > FDS_SPARE + 2 ? (unsigned)((rl.rlim_cur - FDS_SPARE) / 2) : 1;
	if (fit > want)
		fit = want;
	ag_log(AG_LOG_WARN, "serve: the descriptor limit (%lu) allows %u connections, not "
			    "serve_max_connections = %u", (unsigned long)rl.rlim_cur, fit, want);
	return fit;
}

/* In a worker child: drops every connection's TLS state and the server's key. */
static void release_in_child(void *arg)
{
	struct server *s = arg;

	for (size_t i = 0; i < s->nconns; i++)
		if (s->conns[i] != NULL)
			serve_conn_release_in_child(s->conns[i]);
	free(s->conns);
	free(s->pfds);
	free(s->sock_slot);
	free(s->pipe_slot);
	SSL_CTX_free(s->tls);
}

static int start(struct server *s, const struct ag_caller *base)
{
	const struct ag_config *cfg = s->cfg;
	struct ag_error err = { 0 };
	size_t slots;

	ensure_std_fds();
	if (make_caller(s, base, &err) != 0)
		goto fail;
	s->max_conns = fit_fd_limit(cfg->serve_max_connections);
	slots = 2 + 2 * (size_t)s->max_conns;
	s->conns = calloc(s->max_conns, sizeof(*s->conns));
	s->pfds = calloc(slots, sizeof(*s->pfds));
	s->sock_slot = calloc(s->max_conns, sizeof(*s->sock_slot));
	s->pipe_slot = calloc(s->max_conns, sizeof(*s->pipe_slot));
	if (!s->conns || !s->pfds || !s->sock_slot || !s->pipe_slot) {
		ag_error_set(&err, 1, "out of memory");
		goto fail;
	}
	s->tls = ag_tls_server_new(cfg, &err);
	if (s->tls == NULL)
		goto fail;
	s->sig_fd = serve_signals_open(&err);
	if (s->sig_fd < 0)
		goto fail;
	s->listen_fd = serve_listen_open(cfg->serve_listen, cfg->serve_port, s->bound,
					 sizeof(s->bound), &err);
	if (s->listen_fd < 0)
		goto fail;
	s->pid_fd = serve_pidfile_create(cfg->serve_pidfile, &err);
	if (s->pid_fd < 0)
		goto fail;
	s->env = (struct serve_worker_env){ .cfg = cfg, .caller = &s->caller,
					    /* by hand the operator sees the log; under the
					       init script stderr is /dev/null */
					    .log_stderr = true,
					    .release = release_in_child, .release_arg = s };
	ag_log(AG_LOG_INFO, "serve: listening on %s (pid %ld, up to %u connections, %s%s)",
	       s->bound, (long)getpid(), s->max_conns,
	       cfg->serve_client_pins.count ? "pinned client certificates" : "any client "
					      "certificate the CA signed",
	       s->caller.read_only ? ", read-only" : "");
	return 0;
fail:
	ag_log(AG_LOG_ERROR, "serve cannot start: %s", err.msg);
	return -1;
}

/* --- the loop --------------------------------------------------------------- */

static void log_refusals(struct server *s, int64_t now)
{
	if (s->refused_unlogged == 0)
		return;
	ag_log(AG_LOG_WARN, "serve: refused %lu connection%s (latest from %s): "
			    "serve_max_connections (%u) are open",
	       s->refused_unlogged, s->refused_unlogged == 1 ? "" : "s", s->refused_peer,
	       s->max_conns);
	s->refused_unlogged = 0;
	s->refusal_log_ms = now + REFUSAL_LOG_MS;
}

static void refuse(struct server *s, int fd, const char *peer, int64_t now)
{
	close(fd);
	s->refused_unlogged++;
	snprintf(s->refused_peer, sizeof(s->refused_peer), "%s", peer);
	if (now >= s->refusal_log_ms)
		log_refusals(s, now);
}

static void accept_batch(struct server *s, int64_t now)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		char peer[SERVE_ADDR_TEXT_MAX];
		struct serve_conn *c;
		int fd = serve_listen_accept(s->listen_fd, peer, sizeof(peer));

		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				ag_log(AG_LOG_WARN, "serve: cannot accept: %s", strerror(errno));
				s->accept_paused_until_ms = now + ACCEPT_PAUSE_MS;
				return;
			}
			continue; /* the client gave up meanwhile (ECONNABORTED, ...) */
		}
		if (s->nconns >= s->max_conns) {
			refuse(s, fd, peer, now);
			continue;
		}
		c = serve_conn_new(fd, peer, s->tls, now);
		if (c == NULL) {
			ag_log(AG_LOG_ERROR, "serve: %s: out of memory for a connection", peer);
			continue;
		}
		s->conns[s->nconns++] = c;
	}
}

static void reap(struct server *s)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < s->nconns; i++) {
			struct serve_conn *c = s->conns[i];

			if (c != NULL && c->busy && c->worker.pid == pid) {
				serve_conn_worker_exited(c, status);
				break;
			}
		}
		/* Not found: the worker of a connection already closed. */
	}
}

static nfds_t build_pollset(struct server *s, int64_t now)
{
	nfds_t n = 2;

	s->pfds[0] = (struct pollfd){ .fd = s->sig_fd, .events = POLLIN };
	s->pfds[1] = (struct pollfd){ .fd = now >= s->accept_paused_until_ms ? s->listen_fd : -1,
				      .events = POLLIN };
	for (size_t i = 0; i < s->nconns; i++) {
		struct serve_conn *c = s->conns[i];
		int pfd = serve_conn_pipe_fd(c);

		s->sock_slot[i] = (int)n;
		s->pfds[n++] = (struct pollfd){ .fd = c->fd, .events = serve_conn_events(c) };
		s->pipe_slot[i] = -1;
		if (pfd >= 0) {
			s->pipe_slot[i] = (int)n;
			s->pfds[n++] = (struct pollfd){ .fd = pfd, .events = POLLIN };
		}
	}
	s->npolled = s->nconns;
	return n;
}

static int poll_timeout(const struct server *s, int64_t now)
{
	int64_t until = now + POLL_MAX_MS;

	if (s->refused_unlogged > 0 && s->refusal_log_ms < until)
		until = s->refusal_log_ms;
	if (s->accept_paused_until_ms > now && s->accept_paused_until_ms < until)
		until = s->accept_paused_until_ms;
	for (size_t i = 0; i < s->nconns; i++) {
		int64_t d;

		if (serve_conn_pending(s->conns[i]))
			return 0;
		d = serve_conn_deadline(s->conns[i], s->cfg);
		if (d < until)
			until = d;
	}
	return until <= now ? 0 : (int)(until - now);
}

/* Steps every connection that has an event, a deadline due or pending work. */
static void service(struct server *s, int64_t now)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->nconns; i++) {
		struct serve_conn *c = s->conns[i];
		short rev = 0, prev = 0;
		bool due;

		if (i < s->npolled) {
			rev = s->pfds[s->sock_slot[i]].revents;
			if (s->pipe_slot[i] >= 0)
				prev = s->pfds[s->pipe_slot[i]].revents;
		}
		due = rev || prev || serve_conn_pending(c) || serve_conn_deadline(c, s->cfg) <= now;
		if (due && !serve_conn_step(c, &s->env, now, rev)) {
			serve_conn_free(c);
			s->conns[i] = NULL; /* a worker forked later must not see it */
		}
	}
	for (size_t i = 0; i < s->nconns; i++)
		if (s->conns[i] != NULL)
			s->conns[kept++] = s->conns[i];
	s->nconns = kept;
	s->npolled = 0;
}

static int run_loop(struct server *s)
{
	for (;;) {
		int64_t now = now_ms();
		int timeout = poll_timeout(s, now);
		nfds_t n = build_pollset(s, now);
		int rc = poll(s->pfds, n, timeout);

		if (rc < 0 && errno != EINTR) {
			ag_log(AG_LOG_ERROR, "serve: poll failed: %s", strerror(errno));
			return 1;
		}
		now = now_ms();
		if (rc > 0 && s->pfds[0].revents != 0) {
			int sig = serve_signals_take(s->sig_fd);

			if (sig & SERVE_SIG_CHILD)
				reap(s);
			if (sig & SERVE_SIG_STOP)
				return 0;
		}
		if (rc > 0 && (s->pfds[1].revents & POLLIN))
			accept_batch(s, now);
		service(s, now);
		if (s->refused_unlogged > 0 && now >= s->refusal_log_ms)
			log_refusals(s, now);
	}
}

static void stop(struct server *s)
{
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->nconns > 0)
		ag_log(AG_LOG_INFO, "serve: closing %zu connection%s; running clones continue",
		       s->nconns, s->nconns == 1 ? "" : "s");
	for (size_t i = 0; i < s->nconns; i++)
		serve_conn_free(s->conns[i]);
	s->nconns = 0;
	log_refusals(s, now_ms());
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	serve_pidfile_remove(s->cfg->serve_pidfile, s->pid_fd);
	if (s->sig_fd >= 0)
		serve_signals_close(s->sig_fd);
	SSL_CTX_free(s->tls);
	free(s->conns);
	free(s->pfds);
	free(s->sock_slot);
	free(s->pipe_slot);
}

int ag_serve_run(const struct ag_config *cfg, const struct ag_caller *caller)
{
	struct server s = { .cfg = cfg, .listen_fd = -1, .sig_fd = -1, .pid_fd = -1 };
	int rc;

	if (start(&s, caller) != 0) {
		stop(&s);
		return 2;
	}
	rc = run_loop(&s);
	ag_log(AG_LOG_INFO, "serve: stopping%s", rc == 0 ? "" : " after an error");
	stop(&s);
	return rc;
}
