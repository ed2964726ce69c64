/*
 * Following a task: a live bar on a terminal, plain lines otherwise, JSON
 * events with --json; progress goes to stderr, the final record to stdout.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_exit.h"

#define BAR_WIDTH 24

enum pmode { PM_NONE, PM_LINES, PM_BAR, PM_JSON };

struct watch_ui {
	enum pmode mode;
	const struct watch_hint *hint;
	int64_t t0, b0;
	int p0;
	bool have0, bar_open;
	int last_percent;
	enum xclone_task_state last_state;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int mode_of(const struct cli_settings *s, enum pmode *mode)
{
	const char *v = s->value[O_PROGRESS];
	const char *term = getenv("TERM");
	bool tty = isatty(STDERR_FILENO) && !(term != NULL && strcmp(term, "dumb") == 0);

	if (cli_on(s, O_JSON))
		*mode = PM_JSON;
	else if (v == NULL || strcmp(v, "auto") == 0)
		*mode = tty ? PM_BAR : PM_LINES;
	else if (strcmp(v, "bar") == 0)
		*mode = PM_BAR;
	else if (strcmp(v, "lines") == 0)
		*mode = PM_LINES;
	else if (strcmp(v, "none") == 0)
		*mode = PM_NONE;
	else
		return cli_bad(s, O_PROGRESS, "expected auto, bar, lines or none");
	return 0;
}

/* Rate (bytes/s, < 0 unknown) and time left (s, < 0 unknown) since the first event. */
static void rate_eta(struct watch_ui *ui, const struct xclone_event *ev, double *bps, double *eta)
{
	int64_t now = now_ms();
	double dt;

	*bps = *eta = -1;
	if (!ui->have0) {
		ui->have0 = true;
		ui->t0 = now;
		ui->p0 = ev->percent;
		ui->b0 = ev->has_bytes ? ev->bytes : -1;
		return;
	}
	dt = (double)(now - ui->t0) / 1000.0;
	if (dt < 0.2 || ev->percent <= ui->p0)
		return;
	if (ev->has_bytes && ui->b0 >= 0)
		*bps = (double)(ev->bytes - ui->b0) / dt;
	else if (ui->hint->size_bytes > 0)
		*bps = (double)(ev->percent - ui->p0) / 100.0 * (double)ui->hint->size_bytes / dt;
	*eta = (100.0 - ev->percent) / ((ev->percent - ui->p0) / dt);
}

static const char *xcopy_label(const struct watch_hint *h)
{
	return h->xcopy_expected > 0	? "XCOPY: the array copies"
	       : h->xcopy_expected == 0 ? "host copy (no XCOPY)"
					: "";
}

static void show_progress(struct watch_ui *ui, const struct xclone_event *ev)
{
	double bps, eta;
	char rate[48] = "", left[48] = "", tmp[48];
	int filled = ev->percent * BAR_WIDTH / 100;

	rate_eta(ui, ev, &bps, &eta);
	if (bps >= 0)
		snprintf(rate, sizeof(rate), "%s/s", fmt_bytes((int64_t)bps, tmp, sizeof(tmp)));
	if (eta >= 0)
		snprintf(left, sizeof(left), "ETA %s", fmt_duration((int64_t)(eta * 1000), tmp, sizeof(tmp)));
	if (ui->mode == PM_BAR) {
		fprintf(stderr, "\r\033[K[");
		for (int i = 0; i < BAR_WIDTH; i++)
			fputc(i < filled ? '#' : '.', stderr);
		fprintf(stderr, "] %3d%%  %-8s %-12s %-14s %s", ev->percent,
			xclone_task_state_name(ev->state), rate, left, xcopy_label(ui->hint));
		ui->bar_open = true;
	} else {
		fprintf(stderr, "%s: %s %d%%%s%s%s%s%s%s\n", ev->task, xclone_task_state_name(ev->state),
			ev->percent, rate[0] ? ", " : "", rate, left[0] ? ", " : "", left,
			xcopy_label(ui->hint)[0] ? ", " : "", xcopy_label(ui->hint));
	}
	fflush(stderr);
}

static void end_bar(struct watch_ui *ui)
{
	if (ui->bar_open) {
		fputc('\n', stderr);
		ui->bar_open = false;
	}
}

static int json_event(struct watch_ui *ui, const struct xclone_event *ev)
{
	cJSON *o = cJSON_CreateObject();
	double bps, eta;

	switch (ev->type) {
	case XCLONE_EVENT_PROGRESS:
		rate_eta(ui, ev, &bps, &eta);
		cJSON_AddStringToObject(o, "event", "progress");
		cJSON_AddStringToObject(o, "task", ev->task);
		cJSON_AddStringToObject(o, "state", xclone_task_state_name(ev->state));
		cJSON_AddNumberToObject(o, "percent", ev->percent);
		if (ev->has_bytes)
			cJSON_AddNumberToObject(o, "bytes", (double)ev->bytes);
		else
			cJSON_AddNullToObject(o, "bytes");
		if (bps >= 0)
			cJSON_AddNumberToObject(o, "rate_bytes_per_s", (double)(int64_t)bps);
		else
			cJSON_AddNullToObject(o, "rate_bytes_per_s");
		if (eta >= 0)
			cJSON_AddNumberToObject(o, "eta_s", (double)(int64_t)(eta + 0.5));
		else
			cJSON_AddNullToObject(o, "eta_s");
		break;
	case XCLONE_EVENT_RECONNECTING:
		cJSON_AddStringToObject(o, "event", "reconnecting");
		cJSON_AddNumberToObject(o, "attempt", ev->attempt);
		cJSON_AddNumberToObject(o, "delay_ms", ev->delay_ms);
		cJSON_AddStringToObject(o, "reason", ev->reason ? ev->reason : "");
		break;
	case XCLONE_EVENT_RESUMED:
		cJSON_AddStringToObject(o, "event", "resumed");
		break;
	}
	return out_json(stdout, o) == 0 ? 0 : -1;
}

static int on_event(const struct xclone_event *ev, void *ud)
{
	struct watch_ui *ui = ud;

	if (ui->mode == PM_JSON)
		return json_event(ui, ev);
	if (ui->mode == PM_NONE)
		return 0;
	switch (ev->type) {
	case XCLONE_EVENT_PROGRESS:
		show_progress(ui, ev);
		break;
	case XCLONE_EVENT_RECONNECTING:
		end_bar(ui);
		fprintf(stderr, "xclone: connection lost (%s); reconnecting in %.1f s (attempt %u)\n",
			ev->reason ? ev->reason : "?", ev->delay_ms / 1000.0, ev->attempt);
		break;
	case XCLONE_EVENT_RESUMED:
		end_bar(ui);
		fprintf(stderr, "xclone: reconnected; watching again\n");
		break;
	}
	return 0;
}

int cli_task_exit(const struct xclone_task *t)
{
	return t->state == XCLONE_TASK_SUCCEEDED ? EXIT_OK : EXIT_FAILED;
}

int cli_watch(const struct cli_settings *s, xclone_conn *c, const char *task,
	      const struct watch_hint *hint)
{
	struct watch_ui ui = { .hint = hint };
	struct xclone_error err = { 0 };
	struct xclone_task *t = NULL;
	int rc;

	if ((rc = mode_of(s, &ui.mode)) != 0)
		return rc;
	if (ui.mode == PM_BAR || ui.mode == PM_LINES)
		fprintf(stderr, "watching %s (Ctrl-C stops watching; the clone goes on)\n", task);
	rc = xclone_task_watch(c, task, on_event, &ui, &t, &err);
	end_bar(&ui);
	if (rc != 0)
		return cli_fail(s, &err);
	if (ui.mode == PM_JSON) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "event", "done");
		cJSON_AddItemToObject(o, "task", json_task(t));
		rc = out_json(stdout, o);
	} else {
		print_task(stdout, t);
	}
	if (rc == 0)
		rc = cli_task_exit(t);
	xclone_task_free(t);
	return rc;
}
