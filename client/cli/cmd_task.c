/* `xclone task get|watch|cancel|clean TASK` and `xclone task list`. */
#include <string.h>

#include "cli.h"
#include "cli_exit.h"
#include "commands.h"
#include "table.h"

enum { T_GET, T_WATCH, T_CANCEL, T_CLEAN, T_LIST };

static const struct cli_command_doc docs[] = {
	[T_GET] = { "task get", C_TASK, "TASK", 1, 1, "Show a task's record.", NULL },
	[T_WATCH] = { "task watch", C_TASK, "TASK", 1, 1,
		      "Follow a task until it ends: a live bar on a terminal, progress lines\n"
		      "otherwise. A lost connection is re-established and the watch resumed.",
		      "Exit status 0 when the task succeeded, 1 when it failed, was canceled or lost." },
	[T_CANCEL] = { "task cancel", C_TASK, "TASK", 1, 1,
		       "Stop a clone (SIGTERM to vmkfstools, SIGKILL after a grace period); returns\n"
		       "once the task is final.",
		       NULL },
	[T_CLEAN] = { "task clean", C_TASK, "TASK", 1, 1,
		      "Remove what a finished task left on the host: its RDM pointer file and state.",
		      "Refused while the task runs (TASK_ACTIVE). Run it after the LUN is detached." },
	[T_LIST] = { "task list", C_TASK, "", 0, 0, "List the host's tasks, newest first.", NULL },
};

static const char *xcopy_cell(int used)
{
	return used < 0 ? "?" : used ? "yes" : "no";
}

static void print_list(const struct xclone_task_list *l)
{
	static const char *const head[] = { "TASK", "STATE", "%", "XCOPY", "CREATED", "SOURCE",
					     "TARGET" };
	struct table t;

	table_init(&t, 7, head);
	for (size_t i = 0; i < l->count; i++) {
		const struct xclone_task *k = &l->tasks[i];
		char pct[8], when[40];
		const char *row[7] = { k->id, xclone_task_state_name(k->state), pct,
				       xcopy_cell(k->xcopy_used), when, k->source, k->target };

		snprintf(pct, sizeof(pct), "%d", k->percent);
		fmt_time(k->created_ms, when, sizeof(when));
		table_add(&t, row);
	}
	if (l->count == 0)
		printf("no tasks\n");
	else
		table_print(&t, stdout);
	if (l->truncated)
		printf("(more tasks exist: the agent's answer holds the newest that fit)\n");
	table_free(&t);
}

static int do_list(const struct cli_settings *s, xclone_conn *c)
{
	struct xclone_error err = { 0 };
	struct xclone_task_list *l = NULL;
	int rc;

	if (xclone_task_list(c, &l, &err) != 0)
		return cli_fail(s, &err);
	if (cli_on(s, O_JSON)) {
		rc = out_json(stdout, json_task_list(l));
	} else {
		print_list(l);
		rc = EXIT_OK;
	}
	xclone_task_list_free(l);
	return rc;
}

static int do_clean(const struct cli_settings *s, xclone_conn *c, const char *task)
{
	struct xclone_error err = { 0 };
	struct xclone_clean *k = NULL;
	int rc = EXIT_OK;

	if (xclone_task_clean(c, task, &k, &err) != 0)
		return cli_fail(s, &err);
	if (cli_on(s, O_JSON)) {
		rc = out_json(stdout, json_clean(k));
	} else {
		printf("cleaned %s: removed %zu path%s\n", k->task, k->n_removed,
		       k->n_removed == 1 ? "" : "s");
		for (size_t i = 0; i < k->n_removed; i++)
			printf("  %s\n", k->removed[i]);
	}
	xclone_clean_free(k);
	return rc;
}

/* task get and task cancel print the record. */
static int do_record(const struct cli_settings *s, xclone_conn *c, int which, const char *task)
{
	struct xclone_error err = { 0 };
	struct xclone_task *t = NULL;
	int rc;

	rc = which == T_GET ? xclone_task_get(c, task, &t, &err) : xclone_task_cancel(c, task, &t, &err);
	if (rc != 0)
		return cli_fail(s, &err);
	if (cli_on(s, O_JSON)) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddItemToObject(o, "task", json_task(t));
		rc = out_json(stdout, o);
	} else {
		print_task(stdout, t);
		rc = EXIT_OK;
	}
	xclone_task_free(t);
	return rc;
}

int cmd_task(int argc, char **argv)
{
	const struct cli_command_doc *doc;
	struct cli_settings s;
	struct watch_hint hint = { 0, -1 };
	xclone_conn *c = NULL;
	const char *task;
	int first, rc = 0, which;

	doc = cli_subcommand(argc, argv, "task", docs, sizeof(docs) / sizeof(docs[0]), &rc);
	if (doc == NULL)
		return rc;
	which = (int)(doc - docs);
	if (!cli_begin(argc - 1, argv + 1, doc, &s, &first, &c, &rc))
		goto out;
	task = argv[1 + first];
	switch (which) {
	case T_LIST:
		rc = do_list(&s, c);
		break;
	case T_CLEAN:
		rc = do_clean(&s, c, task);
		break;
	case T_WATCH:
		rc = cli_watch(&s, c, task, &hint);
		break;
	default:
		rc = do_record(&s, c, which, task);
		break;
	}
out:
	xclone_disconnect(c);
	cli_settings_free(&s);
	return rc;
}
