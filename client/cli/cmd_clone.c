/* `xclone preflight SOURCE TARGET` and `xclone clone SOURCE TARGET [--watch]`. */
#include <string.h>

#include "cli.h"
#include "cli_exit.h"
#include "commands.h"

#define OPERANDS_HELP                                                                          \
	"SOURCE is a VMDK descriptor, \"[datastore] dir/disk.vmdk\" or\n"                        \
	"/vmfs/volumes/<datastore>/dir/disk.vmdk (quote it: names with spaces, quotes, $()\n"    \
	"and unicode are passed to the agent byte for byte). TARGET is the whole-disk\n"          \
	"device /vmfs/devices/disks/<naa.*|eui.*|t10.*> of the volume to fill; it must not\n"    \
	"back a datastore."

static const struct cli_command_doc preflight_doc = {
	"preflight", C_PREFLIGHT, "SOURCE TARGET", 2, 2,
	"Check what a clone of SOURCE onto TARGET would do, without starting it: the source\n"
	"chain and size, the target, whether the array will copy (XCOPY) and why not.",
	OPERANDS_HELP "\n\nExit status 0 when a clone could start, 1 when a blocker would stop\n"
		      "it, 5 when a blocker is a safety refusal.",
};

static const struct cli_command_doc clone_doc = {
	"clone", C_CLONE, "SOURCE TARGET", 2, 2,
	"Start a clone of SOURCE onto TARGET on the host (vmkfstools -i ... -d rdm:...), after\n"
	"a preflight; with --watch, follow it until it ends.",
	OPERANDS_HELP "\n\nThe clone runs detached on the host: it survives this command, a lost\n"
		      "connection or Ctrl-C. Give --key to make the command safe to repeat: the\n"
		      "same key returns the task already started.",
};

static bool blocker_unsafe(const char *code)
{
	return strcmp(code, "TARGET_UNSAFE") == 0 || strcmp(code, "PATH_DENIED") == 0 ||
	       strcmp(code, "TARGET_TOO_SMALL") == 0;
}

/* 0 without blockers; 5 when one is a safety refusal; 1 otherwise. */
static int blockers_exit(const struct xclone_preflight *p)
{
	int rc = p->n_blockers ? EXIT_FAILED : EXIT_OK;

	for (size_t i = 0; i < p->n_blockers; i++) {
		if (blocker_unsafe(p->blockers[i].code))
			rc = EXIT_UNSAFE;
	}
	return rc;
}

static void print_preflight(FILE *out, const struct xclone_preflight *p)
{
	char a[32], b[32];

	out_kv(out, "source", "%s", p->source_path);
	out_kv(out, "datastore", "%s", p->source_datastore);
	out_kv(out, "format", "%s%s", p->source_format, p->source_sparse ? " (sparse chain)" : "");
	for (size_t i = 0; i < p->n_source_chain; i++)
		out_kv(out, i ? "" : "chain", "%s", p->source_chain[i]);
	out_kv(out, "size", "%s", fmt_bytes(p->source_size_bytes, a, sizeof(a)));
	out_kv(out, "target", "%s (%s)", p->target_device, fmt_bytes(p->target_size_bytes, b, sizeof(b)));
	out_kv(out, "XCOPY", "%s", p->xcopy_expected ? "expected: the array will copy"
						     : "not expected: the host will copy");
	for (size_t i = 0; i < p->n_reasons; i++)
		out_kv(out, i ? "" : "because", "%s", p->reasons[i]);
	for (size_t i = 0; i < p->n_blockers; i++)
		out_kv(out, i ? "" : "BLOCKED", "%s: %s", p->blockers[i].code, p->blockers[i].message);
}

int cmd_preflight(int argc, char **argv)
{
	struct cli_settings s;
	struct xclone_error err = { 0 };
	struct xclone_preflight *p = NULL;
	xclone_conn *c;
	int first, rc;

	if (!cli_begin(argc, argv, &preflight_doc, &s, &first, &c, &rc))
		goto out;
	if (xclone_preflight(c, argv[first], argv[first + 1], &p, &err) != 0) {
		rc = cli_fail(&s, &err);
		goto out;
	}
	if (cli_on(&s, O_JSON)) {
		rc = out_json(stdout, json_preflight(p));
	} else {
		print_preflight(stdout, p);
		rc = EXIT_OK;
	}
	if (rc == EXIT_OK)
		rc = blockers_exit(p);
out:
	xclone_preflight_free(p);
	xclone_disconnect(c);
	cli_settings_free(&s);
	return rc;
}

static int print_started(const struct cli_settings *s, const struct xclone_task *t, bool created,
			 const struct xclone_preflight *p)
{
	cJSON *o;

	if (!cli_on(s, O_JSON)) {
		printf("%s %s: %s\n", created ? "started" : "already started (same key)", t->id,
		       xclone_task_state_name(t->state));
		if (p != NULL)
			printf("XCOPY %s\n", p->xcopy_expected ? "expected: the array will copy"
							       : "not expected: the host will copy");
		if (!cli_on(s, O_WATCH))
			printf("follow it with: xclone task watch %s\n", t->id);
		fflush(stdout);
		return EXIT_OK;
	}
	o = cJSON_CreateObject();
	if (cli_on(s, O_WATCH))
		cJSON_AddStringToObject(o, "event", "started");
	cJSON_AddItemToObject(o, "task", json_task(t));
	cJSON_AddBoolToObject(o, "created", created);
	if (p != NULL) {
		cJSON_AddBoolToObject(o, "xcopy_expected", p->xcopy_expected);
		cJSON_AddItemToObject(o, "reasons", json_strings(p->reasons, p->n_reasons));
	}
	return out_json(stdout, o);
}

int cmd_clone(int argc, char **argv)
{
	struct cli_settings s;
	struct xclone_error err = { 0 };
	struct xclone_preflight *p = NULL;
	struct xclone_task *t = NULL;
	xclone_conn *c;
	bool created = false;
	int first, rc;

	if (!cli_begin(argc, argv, &clone_doc, &s, &first, &c, &rc))
		goto out;
	/* The preflight shows every blocker at once, and tells the watch what to expect. */
	if (xclone_preflight(c, argv[first], argv[first + 1], &p, &err) != 0) {
		rc = cli_fail(&s, &err);
		goto out;
	}
	if (p->n_blockers > 0) {
		if (cli_on(&s, O_JSON))
			out_json(stdout, json_preflight(p));
		else
			print_preflight(stderr, p);
		fprintf(stderr, "xclone clone: not started: %s\n", p->blockers[0].message);
		rc = blockers_exit(p);
		goto out;
	}
	if (xclone_clone_start(c, argv[first], argv[first + 1], s.value[O_KEY], &t, &created, &err) != 0) {
		rc = cli_fail(&s, &err);
		goto out;
	}
	if ((rc = print_started(&s, t, created, p)) != 0 || !cli_on(&s, O_WATCH))
		goto out;
	{
		struct watch_hint hint = { p->source_size_bytes, p->xcopy_expected ? 1 : 0 };

		rc = cli_watch(&s, c, t->id, &hint);
	}
out:
	xclone_task_free(t);
	xclone_preflight_free(p);
	xclone_disconnect(c);
	cli_settings_free(&s);
	return rc;
}
