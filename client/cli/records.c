/* Human output of task records and devices (see cli.h). */
#include "cli.h"

static const char *xcopy_word(int used)
{
	return used < 0 ? "not known yet" : used ? "used: the array copied the blocks"
						: "not used: the host copied the blocks";
}

void print_task(FILE *out, const struct xclone_task *t)
{
	char a[48], b[48], c[48];

	out_kv(out, "task", "%s", t->id);
	out_kv(out, "state", "%s (%d%%)", xclone_task_state_name(t->state), t->percent);
	out_kv(out, "source", "%s", t->source);
	out_kv(out, "target", "%s", t->target);
	if (t->key != NULL)
		out_kv(out, "key", "%s", t->key);
	out_kv(out, "xcopy", "%s", xcopy_word(t->xcopy_used));
	out_kv(out, "created", "%s", fmt_time(t->created_ms, a, sizeof(a)));
	if (t->has_started_ms)
		out_kv(out, "started", "%s", fmt_time(t->started_ms, a, sizeof(a)));
	if (t->has_ended_ms)
		out_kv(out, "ended", "%s", fmt_time(t->ended_ms, a, sizeof(a)));
	if (t->has_bytes && t->has_started_ms && t->has_ended_ms && t->ended_ms > t->started_ms)
		out_kv(out, "copied", "%s in %s (%s/s)", fmt_bytes(t->bytes, a, sizeof(a)),
		       fmt_duration(t->ended_ms - t->started_ms, b, sizeof(b)),
		       fmt_bytes(t->bytes * 1000 / (t->ended_ms - t->started_ms), c, sizeof(c)));
	else if (t->has_bytes)
		out_kv(out, "copied", "%s", fmt_bytes(t->bytes, a, sizeof(a)));
	if (t->has_pid)
		out_kv(out, "pid", "%lld", (long long)t->pid);
	if (t->has_exit_code)
		out_kv(out, "exit code", "%d", t->exit_code);
	if (t->has_signal)
		out_kv(out, "signal", "%d", t->signal);
	if (t->message != NULL)
		out_kv(out, "message", "%s", t->message);
	if (t->error_code != NULL)
		out_kv(out, "error", "%s", t->error_code);
	if (t->stderr_tail != NULL)
		out_kv(out, "stderr", "%s", t->stderr_tail);
	out_kv(out, "pointer", "%s", t->pointer);
}

void print_device(FILE *out, const struct xclone_device *d)
{
	char a[48];

	out_kv(out, "device", "%s", d->id);
	out_kv(out, "present", "%s (status %s)", d->present ? "yes" : "no", d->status);
	out_kv(out, "size", "%s (%lld bytes)", fmt_bytes(d->size_bytes, a, sizeof(a)),
	       (long long)d->size_bytes);
	out_kv(out, "vendor", "%s %s", d->vendor, d->model);
	out_kv(out, "local", "%s", d->is_local ? "yes" : "no");
	out_kv(out, "xcopy", "%s (VAAI clone status)", d->vaai_clone);
	out_kv(out, "datastore", "%s", d->backs_datastore ? d->backs_datastore
							  : "none (safe to clone onto)");
	out_kv(out, "paths", "%lld active", (long long)d->paths);
}
