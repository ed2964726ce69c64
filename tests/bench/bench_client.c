/*
 * libxclone benchmark (run by bench_client, which builds this file against
 * $BUILD/libxclone.a and runs it inside tests/integration/test_client_fixture.py):
 * requests per second over one SSH connection (one thread, then eight), 32
 * concurrent watches of one clone on one connection, the cost of opening a
 * new connection for every request, and task.get of a finished task one after
 * another on a connection limited to one channel (the agent's session-mode
 * figure of issue 4: one `session` channel through a real sshd). Figures are
 * printed beside their targets, never asserted.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xclone.h"

#define REQUESTS 2000
#define THREADS 8
#define WATCHES 32
#define FRESH 40

static const char *env(const char *n)
{
	const char *v = getenv(n);

	return v ? v : "";
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void opts(struct xclone_conn_options *o, unsigned channels)
{
	xclone_conn_options_init(o);
	o->host = env("XCT_HOST");
	o->port = (unsigned)atoi(env("XCT_PORT"));
	o->user = env("XCT_USER");
	o->identity_file = env("XCT_KEY");
	o->known_hosts_file = env("XCT_KNOWN_HOSTS");
	o->max_channels = channels;
	o->request_timeout_ms = 120000;
}

static void report(const char *what, double value, const char *unit, const char *target)
{
	printf("%-58s %10.1f %-6s (target %s)\n", what, value, unit, target);
}

static int hellos(xclone_conn *c, int n)
{
	int good = 0;

	for (int i = 0; i < n; i++) {
		struct xclone_hello *h = NULL;
		struct xclone_error err;

		if (xclone_hello(c, &h, &err) == 0)
			good++;
		xclone_hello_free(h);
	}
	return good;
}

struct worker {
	xclone_conn *c;
	int n, good;
	const char *task;
	int events;
	enum xclone_task_state final;
};

static void *hello_worker(void *ud)
{
	struct worker *w = ud;

	w->good = hellos(w->c, w->n);
	return NULL;
}

static int count(const struct xclone_event *ev, void *ud)
{
	((struct worker *)ud)->events++;
	return 0;
}

static void *watch_worker(void *ud)
{
	struct worker *w = ud;
	struct xclone_task *t = NULL;
	struct xclone_error err;

	w->final = XCLONE_TASK_LOST;
	if (xclone_task_watch(w->c, w->task, count, w, &t, &err) == 0)
		w->final = t->state;
	else
		fprintf(stderr, "watch: %s\n", err.message);
	xclone_task_free(t);
	return NULL;
}

static int bench_requests(void)
{
	struct xclone_conn_options o;
	struct xclone_error err;
	struct xclone_conn_stats st;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	xclone_conn *c;
	double t0, one, many;
	int good = 0;

	opts(&o, THREADS);
	if (xclone_connect(&c, &o, &err) != 0) {
		fprintf(stderr, "connect: %s\n", err.message);
		return 1;
	}
	hellos(c, 20); /* warm up */
	t0 = now_s();
	good = hellos(c, REQUESTS);
	one = now_s() - t0;
	report("hello requests/s, one thread, one SSH connection", good / one, "req/s", ">= 300");
	report("  latency per request", one / REQUESTS * 1000.0, "ms", "<= 3");
	t0 = now_s();
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .c = c, .n = REQUESTS / THREADS };
		pthread_create(&th[i], NULL, hello_worker, &w[i]);
	}
	good = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		good += w[i].good;
	}
	many = now_s() - t0;
	xclone_conn_stats(c, &st);
	report("hello requests/s, 8 threads, one SSH connection", good / many, "req/s", ">= 600");
	printf("  (%llu TCP connection(s), %llu channels, %llu requests, %d of %d answered)\n",
	       (unsigned long long)st.connects, (unsigned long long)st.channels_opened,
	       (unsigned long long)st.requests, good, REQUESTS);
	xclone_disconnect(c);

	t0 = now_s();
	good = 0;
	for (int i = 0; i < FRESH; i++) {
		if (xclone_connect(&c, &o, &err) == 0) {
			good += hellos(c, 1);
			xclone_disconnect(c);
		}
	}
	many = now_s() - t0;
	report("a new SSH connection per request (connect+hello+close)", many / FRESH * 1000.0, "ms",
	       "reference: kept connection >= 10x cheaper");
	report("  ratio new-connection cost / kept-connection cost", (many / FRESH) / (one / REQUESTS),
	       "x", ">= 10");
	return good == FRESH ? 0 : 1;
}

/* Sequential task.get on one channel: the agent's session loop behind sshd. */
static int bench_task_get(const char *task)
{
	struct xclone_conn_options o;
	struct xclone_error err;
	struct xclone_conn_stats st;
	xclone_conn *c;
	double t0 = now_s(), took;
	int good = 0;

	opts(&o, 1);
	if (xclone_connect(&c, &o, &err) != 0) {
		fprintf(stderr, "connect: %s\n", err.message);
		return 1;
	}
	for (int i = 0; i < REQUESTS + 20; i++) {
		struct xclone_task *t = NULL;

		if (i == 20) /* the first 20 warm up */
			t0 = now_s();
		if (xclone_task_get(c, task, &t, &err) == 0 && t->state == XCLONE_TASK_SUCCEEDED)
			good += i >= 20;
		else if (i < 21)
			fprintf(stderr, "task.get: %s\n", err.message);
		xclone_task_free(t);
	}
	took = now_s() - t0;
	xclone_conn_stats(c, &st);
	report("task.get requests/s, sequential, one SSH session channel", good / took, "req/s",
	       ">= 5000");
	printf("  (%llu TCP connection(s), %llu channel(s), %d of %d answered)\n",
	       (unsigned long long)st.connects, (unsigned long long)st.channels_opened, good,
	       REQUESTS);
	xclone_disconnect(c);
	return good == REQUESTS ? 0 : 1;
}

static int bench_watches(void)
{
	struct xclone_conn_options o;
	struct xclone_error err;
	struct xclone_conn_stats st;
	struct xclone_task *t = NULL;
	struct worker w[WATCHES];
	pthread_t th[WATCHES];
	xclone_conn *c;
	double t0, wall;
	int done = 0, events = 0;

	opts(&o, WATCHES + 1);
	if (xclone_connect(&c, &o, &err) != 0 ||
	    xclone_clone_start(c, env("XCT_SOURCE_BIG"), env("XCT_TARGET_SLOW"), NULL, &t, NULL,
			       &err) != 0) {
		fprintf(stderr, "watch set-up: %s\n", err.message);
		return 1;
	}
	t0 = now_s();
	for (int i = 0; i < WATCHES; i++) {
		w[i] = (struct worker){ .c = c, .task = t->id };
		pthread_create(&th[i], NULL, watch_worker, &w[i]);
	}
	for (int i = 0; i < WATCHES; i++) {
		pthread_join(th[i], NULL);
		done += w[i].final == XCLONE_TASK_SUCCEEDED;
		events += w[i].events;
	}
	wall = now_s() - t0;
	xclone_conn_stats(c, &st);
	report("concurrent watches of one clone, all to success", done, "of 32", "32");
	report("  TCP connections used by them", (double)st.connects, "conn", "1");
	report("  SSH channels opened", (double)st.channels_opened, "chan", ">= 32");
	report("  progress events delivered, all watches", events, "events", ">= 10 per watch");
	report("  wall time (the clone is a throttled 48 MiB host copy)", wall, "s", "~6");
	xclone_disconnect(c);
	if (done == WATCHES && bench_task_get(t->id) != 0)
		done = 0;
	xclone_task_free(t);
	return done == WATCHES ? 0 : 1;
}

int main(void)
{
	struct xclone_error err;
	int rc;

	if (xclone_global_init(&err) != 0)
		return 1;
	rc = bench_requests();
	rc |= bench_watches();
	xclone_global_cleanup();
	return rc;
}
