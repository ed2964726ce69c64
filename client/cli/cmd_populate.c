/*
 * `xclone populate`: copy VMDKs onto PersistentVolumes' LUNs with libxclone's
 * populate engine (xclone_populate.h): a live view of every disk (a block of
 * bars on a terminal, plain lines otherwise, JSON lines with --json), then a
 * summary (a table, or one JSON object). docs/POPULATE.md is the manual.
 *
 * Options: the connection options come from the CLI's table (opts.c); the
 * populate options below are ours, each also read from XCLONE_<NAME>.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_exit.h"
#include "commands.h"
#include "table.h"
#include "xclone_populate.h"

/* Exit codes beyond cli_exit.h, documented in docs/POPULATE.md. */

#define DISKS_MAX XCLONE_POPULATE_DISKS_MAX
#define ATTRS_MAX 64
#define REDRAW_MS 100
#define CHANNELS_PER_CONNECTION 1 /* libxclone's SSH sessions busy-wait when shared */
#define BAR_WIDTH 20

/* ---- our options ------------------------------------------------------------------------- */

enum popt {
	P_SOURCE, P_PV_NAME, P_VOLUME_HANDLE, P_VOLUME_ATTR, P_DISK, P_PLAN, P_PRODUCT,
	P_SECRET_DIR, P_STATE_DIR, P_KEY, P_PARALLEL, P_DEVICE_TIMEOUT, P_CLEANUP, P_FORCE,
	P_REQUIRE_XCOPY, P_COUNT
};

static const struct popt_def {
	const char *name;
	const char *arg;      /* NULL: a switch */
	bool repeat;          /* repeatable; from the environment: one value per line */
	const char *dflt;
	const char *help;
} popts[P_COUNT] = {
	[P_SOURCE] = { "source", "SOURCE", false, NULL,
		       "one disk: its VMDK, '[datastore] dir/disk.vmdk' (with --pv-name)" },
	[P_PV_NAME] = { "pv-name", "NAME", false, NULL, "one disk: the PersistentVolume to fill" },
	[P_VOLUME_HANDLE] = { "volume-handle", "H", false, NULL,
			      "one disk: the PV's spec.csi.volumeHandle" },
	[P_VOLUME_ATTR] = { "volume-attr", "K=V", true, NULL,
			    "one disk: one of the PV's spec.csi.volumeAttributes (repeatable)" },
	[P_DISK] = { "disk", "SOURCE=PV[,handle=H][,K=V...]", true, NULL,
		     "a disk (repeatable): SOURCE ends with .vmdk; PV, its volume handle, attributes" },
	[P_PLAN] = { "plan", "FILE", false, NULL,
		     "the disks as JSON: {\"disks\":[{\"source\",\"pv_name\",\"volume_handle\","
		     "\"volume_attributes\"}]}" },
	[P_PRODUCT] = { "product", "P", false, NULL,
			"storage product as MTV names it: pureFlashArray, ontap, ... (required)" },
	[P_SECRET_DIR] = { "secret-dir", "DIR", false, "STORAGE_* from the environment",
			   "mounted MTV copy-offload secret: one file per key" },
	[P_STATE_DIR] = { "state-dir", "DIR", false, XCLONE_POPULATE_STATE_DIR,
			  "where the journals live, one folder per key" },
	[P_KEY] = { "key", "KEY", false, "derived from --host, --port and the disks",
		    "names this populate: the same key resumes or cleans up a run" },
	[P_PARALLEL] = { "parallel", "N", false, "4", "disks copied at once (1 to 64)" },
	[P_DEVICE_TIMEOUT] = { "device-timeout", "SECONDS", false, "120",
			       "how long the host may take to show a mapped LUN" },
	[P_CLEANUP] = { "cleanup", NULL, false, "off",
			"only undo what the key's journal left (needs --key); copy nothing" },
	[P_FORCE] = { "force", NULL, false, "off",
		      "copy onto a LUN already mapped to other hosts (its mappings are restored)" },
	[P_REQUIRE_XCOPY] = { "require-xcopy", NULL, false, "off",
			      "fail a disk the preflight says the array will not copy" },
};

struct pargs {
	const char *value[P_COUNT];
	char origin[P_COUNT][48];
	const char *disks[DISKS_MAX];
	size_t n_disks;
	const char *attrs[ATTRS_MAX];
	size_t n_attrs;
	char *env_copies[P_COUNT];
};

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xclone populate: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see `xclone populate --help`)\n");
	return EXIT_USAGE;
}

static void env_name(enum popt p, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "XCLONE_%s", popts[p].name);

	for (size_t i = 0; i < n && i < cap; i++)
		out[i] = out[i] == '-' ? '_' : (char)(out[i] >= 'a' && out[i] <= 'z' ? out[i] - 32 : out[i]);
}

static int add_value(struct pargs *a, enum popt p, const char *v, const char *origin)
{
	if (p == P_DISK || p == P_VOLUME_ATTR) {
		const char **list = p == P_DISK ? a->disks : a->attrs;
		size_t *n = p == P_DISK ? &a->n_disks : &a->n_attrs;
		size_t max = p == P_DISK ? DISKS_MAX : ATTRS_MAX;

		if (*n == max)
			return usage("more than %zu %s", max, origin);
		list[(*n)++] = v;
	} else if (a->value[p] != NULL) {
		return usage("%s given twice", origin);
	} else {
		a->value[p] = v;
	}
	snprintf(a->origin[p], sizeof(a->origin[p]), "%s", origin);
	return 0;
}

static int find_popt(const char *name, size_t len)
{
	for (int i = 0; i < P_COUNT; i++)
		if (strlen(popts[i].name) == len && strncmp(popts[i].name, name, len) == 0)
			return i;
	return -1;
}

/* Takes our options out of argv; the rest (argv[0] first) goes to the CLI's parser. */
static int split_args(int argc, char **argv, struct pargs *a, char **rest, int *nrest)
{
	int n = 0;

	rest[n++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq;
		char origin[48];
		int p, rc;

		if (strcmp(arg, "--") == 0) {
			while (i < argc)
				rest[n++] = argv[i++];
			break;
		}
		eq = strchr(arg, '=');
		p = strncmp(arg, "--", 2) == 0
			    ? find_popt(arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2))
			    : -1;
		if (p < 0) {
			rest[n++] = argv[i];
			continue;
		}
		snprintf(origin, sizeof(origin), "--%s", popts[p].name);
		if (popts[p].arg == NULL && eq != NULL)
			return usage("%s takes no value", origin);
		if (popts[p].arg != NULL && eq == NULL && i + 1 >= argc)
			return usage("%s needs a value (%s)", origin, popts[p].arg);
		rc = add_value(a, (enum popt)p,
			       popts[p].arg == NULL ? "1" : eq ? eq + 1 : argv[++i], origin);
		if (rc != 0)
			return rc;
	}
	rest[n] = NULL;
	*nrest = n;
	return 0;
}

/* XCLONE_<NAME> for each option not given as a flag; lists are one value per line. */
static int read_env(struct pargs *a)
{
	for (int p = 0; p < P_COUNT; p++) {
		char name[64], *v, *line, *next;
		int rc;

		env_name((enum popt)p, name, sizeof(name));
		v = getenv(name);
		if (v == NULL || v[0] == '\0' || a->origin[p][0] != '\0')
			continue;
		if (!popts[p].repeat) {
			if ((rc = add_value(a, (enum popt)p, v, name)) != 0)
				return rc;
			continue;
		}
		a->env_copies[p] = strdup(v);
		if (a->env_copies[p] == NULL)
			return EXIT_INTERNAL;
		for (line = a->env_copies[p]; line != NULL; line = next) {
			next = strchr(line, '\n');
			if (next != NULL)
				*next++ = '\0';
			if (line[0] != '\0' && (rc = add_value(a, (enum popt)p, line, name)) != 0)
				return rc;
		}
	}
	return 0;
}

static bool switch_on(const struct pargs *a, enum popt p)
{
	const char *v = a->value[p];

	return v != NULL && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
			     strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0);
}

static int number(const struct pargs *a, enum popt p, unsigned min, unsigned max, unsigned *out)
{
	const char *v = a->value[p];
	char *end;
	unsigned long n;

	if (v == NULL)
		return 0;
	n = strtoul(v, &end, 10);
	if (end == v || *end != '\0' || v[0] == '-' || n < min || n > max)
		return usage("%s \"%s\": expected a whole number from %u to %u", a->origin[p], v, min,
			     max);
	*out = (unsigned)n;
	return 0;
}

static int build_plan(const struct pargs *a, struct xclone_populate_plan *plan)
{
	struct xclone_error err = { 0 };
	int rc = 0;

	if (a->value[P_SOURCE] != NULL || a->value[P_PV_NAME] != NULL) {
		if (a->value[P_SOURCE] == NULL || a->value[P_PV_NAME] == NULL)
			return usage("--source and --pv-name go together");
		rc = xclone_populate_plan_add(plan, a->value[P_SOURCE], a->value[P_PV_NAME],
					      a->value[P_VOLUME_HANDLE], a->attrs, a->n_attrs, &err);
	} else if (a->value[P_VOLUME_HANDLE] != NULL || a->n_attrs > 0) {
		return usage("--volume-handle and --volume-attr describe the PV of --source/--pv-name;"
			     " with --disk write SOURCE=PV,handle=H,K=V");
	}
	for (size_t i = 0; rc == 0 && i < a->n_disks; i++)
		rc = xclone_populate_plan_add_spec(plan, a->disks[i], &err);
	if (rc == 0 && a->value[P_PLAN] != NULL)
		rc = xclone_populate_plan_load(plan, a->value[P_PLAN], &err);
	if (rc != 0)
		return usage("%s", err.message);
	return 0;
}

/* ---- the live view ----------------------------------------------------------------------- */

enum vmode { V_NONE, V_LINES, V_BAR, V_JSON };

struct row {
	char source[160], pv[96];
	enum xclone_populate_phase phase;
	int percent, xcopy, last_tenth;
	bool has_bytes;
	int64_t bytes;
	char note[160];
};

struct view {
	enum vmode mode;
	struct row *rows;
	size_t n, drawn;
	int64_t last_draw;
	unsigned width;
	bool failed_output;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int view_mode(const struct cli_settings *s, enum vmode *mode)
{
	const char *v = s->value[O_PROGRESS], *term = getenv("TERM");
	bool tty = isatty(STDERR_FILENO) && !(term != NULL && strcmp(term, "dumb") == 0);

	if (cli_on(s, O_JSON))
		*mode = V_JSON;
	else if (v == NULL || strcmp(v, "auto") == 0)
		*mode = tty ? V_BAR : V_LINES;
	else if (strcmp(v, "bar") == 0)
		*mode = V_BAR;
	else if (strcmp(v, "lines") == 0)
		*mode = V_LINES;
	else if (strcmp(v, "none") == 0)
		*mode = V_NONE;
	else
		return cli_bad(s, O_PROGRESS, "expected auto, bar, lines or none");
	return 0;
}

static unsigned terminal_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 100;
}

static bool lead_byte(char c)
{
	return ((unsigned char)c & 0xC0) != 0x80;
}

/* Where the n-th character (from 0) of s starts (UTF-8). */
static const char *char_at(const char *s, size_t n)
{
	size_t seen = 0;

	for (; *s != '\0'; s++)
		if (lead_byte(*s) && seen++ == n)
			break;
	return s;
}

/* The last `cols` characters of s, with "…" in front when cut (file names keep their end). */
static void tail_chars(const char *s, size_t cols, char *out, size_t cap)
{
	size_t w = utf8_width(s);

	if (w <= cols || cols < 2)
		snprintf(out, cap, "%s", s);
	else
		snprintf(out, cap, "…%s", char_at(s, w - cols + 1));
}

/* The first `cols` characters of s, with "…" at the end when cut. */
static void head_chars(const char *s, size_t cols, char *out, size_t cap)
{
	size_t w = utf8_width(s);

	if (w <= cols || cols < 2)
		snprintf(out, cap, "%s", s);
	else
		snprintf(out, cap, "%.*s…", (int)(char_at(s, cols - 1) - s), s);
}

static const char *xcopy_word(int x)
{
	return x > 0 ? "xcopy" : x == 0 ? "host copy" : "";
}

static struct row *row_of(struct view *v, const struct xclone_populate_event *ev)
{
	if (ev->disk >= v->n) {
		size_t n = ev->disk + 1;
		struct row *r = realloc(v->rows, n * sizeof(*r));

		if (r == NULL)
			return NULL;
		memset(r + v->n, 0, (n - v->n) * sizeof(*r));
		for (size_t i = v->n; i < n; i++)
			r[i].last_tenth = -1;
		v->rows = r;
		v->n = n;
	}
	return &v->rows[ev->disk];
}

static void draw_row(const struct view *v, const struct row *r, size_t i)
{
	char bar[BAR_WIDTH + 1], bytes[32] = "", line[512], shown[520];
	int filled = r->percent > 0 ? r->percent * BAR_WIDTH / 100 : 0;

	for (int k = 0; k < BAR_WIDTH; k++)
		bar[k] = k < filled ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	if (r->has_bytes)
		fmt_bytes(r->bytes, bytes, sizeof(bytes));
	snprintf(line, sizeof(line), "%3zu %-9s [%s] %3d%%  %-9s %-10s %s", i,
		 xclone_populate_phase_name(r->phase), bar, r->percent > 0 ? r->percent : 0,
		 xcopy_word(r->xcopy), bytes, r->note[0] ? r->note : r->pv);
	head_chars(line, v->width - 1, shown, sizeof(shown)); /* no wrap: redraws count lines */
	fprintf(stderr, "\r\033[K%s\n", shown);
}

static void redraw(struct view *v, bool force)
{
	int64_t now = now_ms();

	if (!force && now - v->last_draw < REDRAW_MS)
		return;
	v->last_draw = now;
	if (v->drawn > 0)
		fprintf(stderr, "\033[%zuA", v->drawn);
	for (size_t i = 0; i < v->n; i++)
		draw_row(v, &v->rows[i], i);
	v->drawn = v->n;
	fflush(stderr);
}

static void print_line(struct row *r, const struct xclone_populate_event *ev, bool phase_changed)
{
	char bytes[32] = "";

	if (ev->phase == XCLONE_PHASE_CLONE && ev->percent >= 0 && !phase_changed &&
	    ev->message == NULL) {
		if (ev->percent / 10 == r->last_tenth)
			return; /* lines mode: every tenth of the way */
		r->last_tenth = ev->percent / 10;
		if (ev->has_bytes)
			fmt_bytes(ev->bytes, bytes, sizeof(bytes));
		fprintf(stderr, "disk %zu (%s): clone %d%%%s%s%s%s\n", ev->disk, r->pv, ev->percent,
			ev->xcopy >= 0 ? ", " : "", xcopy_word(ev->xcopy), bytes[0] ? ", " : "", bytes);
	} else if (ev->message != NULL) {
		fprintf(stderr, "disk %zu (%s): %s: %s\n", ev->disk, r->pv,
			xclone_populate_phase_name(ev->phase), ev->message);
	}
	fflush(stderr);
}

static void on_event(const struct xclone_populate_event *ev, void *ud)
{
	struct view *v = ud;
	struct row *r;
	bool changed;
	char *line;

	if (v->mode == V_JSON) {
		line = xclone_populate_event_json(ev);
		if (line == NULL || printf("%s\n", line) < 0 || fflush(stdout) != 0)
			v->failed_output = true;
		free(line);
		return;
	}
	if (v->mode == V_NONE || (r = row_of(v, ev)) == NULL)
		return;
	changed = r->phase != ev->phase;
	snprintf(r->source, sizeof(r->source), "%s", ev->source ? ev->source : "");
	snprintf(r->pv, sizeof(r->pv), "%s", ev->pv_name ? ev->pv_name : "");
	r->phase = ev->phase;
	r->percent = ev->percent;
	r->xcopy = ev->xcopy;
	r->has_bytes = ev->has_bytes;
	r->bytes = ev->bytes;
	if (ev->message != NULL)
		snprintf(r->note, sizeof(r->note), "%s", ev->message);
	else if (ev->phase == XCLONE_PHASE_CLONE)
		r->note[0] = '\0';
	if (v->mode == V_LINES)
		print_line(r, ev, changed);
	else
		redraw(v, changed);
}

/* ---- the summary ------------------------------------------------------------------------- */

static const char *result_word(const struct xclone_populate_disk_result *d)
{
	return xclone_populate_phase_name(d->phase);
}

static void summary_table(const struct xclone_populate_result *r)
{
	static const char *const head[] = { "#", "SOURCE", "PV", "RESULT", "COPY", "SIZE", "CLONE",
					    "TOTAL" };
	static const char *const thead[] = { "#", "PREPARE", "MAP", "DEVICE", "PREFLIGHT", "CLONE",
					     "CLEANUP" };
	struct table t, times;

	table_init(&t, 8, head);
	table_init(&times, 7, thead);
	for (size_t i = 0; i < r->n_disks; i++) {
		const struct xclone_populate_disk_result *d = &r->disks[i];
		char idx[16], src[96], size[32] = "-", clone[32], total[32], ph[6][32];
		int64_t sum = 0;
		const char *row[8], *trow[7];

		for (int p = XCLONE_PHASE_PREPARE; p <= XCLONE_PHASE_CLEANUP; p++) {
			sum += d->phase_ms[p];
			fmt_duration(d->phase_ms[p], ph[p - XCLONE_PHASE_PREPARE], sizeof(ph[0]));
		}
		snprintf(idx, sizeof(idx), "%zu", d->index);
		tail_chars(d->source, 40, src, sizeof(src));
		if (d->has_bytes)
			fmt_bytes(d->bytes, size, sizeof(size));
		row[0] = idx, row[1] = src, row[2] = d->pv_name, row[3] = result_word(d);
		row[4] = d->xcopy > 0 ? "XCOPY" : d->xcopy == 0 ? "host" : "-";
		row[5] = size;
		row[6] = fmt_duration(d->phase_ms[XCLONE_PHASE_CLONE], clone, sizeof(clone));
		row[7] = fmt_duration(sum, total, sizeof(total));
		table_add(&t, row);
		trow[0] = idx;
		for (int k = 0; k < 6; k++)
			trow[k + 1] = ph[k];
		table_add(&times, trow);
	}
	table_print(&t, stdout);
	printf("\ntime per phase (this run):\n");
	table_print(&times, stdout);
	table_free(&t);
	table_free(&times);
}

static void print_summary(const struct xclone_populate_result *r)
{
	char took[32];

	printf("\n");
	summary_table(r);
	for (size_t i = 0; i < r->n_disks; i++) {
		const struct xclone_populate_disk_result *d = &r->disks[i];

		if (d->phase != XCLONE_PHASE_DONE)
			printf("disk %zu (attempt %u): %s%s%s\n", d->index, d->attempt,
			       d->error_code ? d->error_code : "", d->error_code ? ": " : "",
			       d->message ? d->message : "");
		else if (d->xcopy == 0 && d->no_xcopy_reason != NULL)
			printf("disk %zu: copied by the host: %s\n", d->index, d->no_xcopy_reason);
	}
	for (size_t i = 0; i < r->n_warnings; i++)
		printf("warning: %s\n", r->warnings[i]);
	printf("populate %s: %s in %s, %lld rescan%s%s; journal %s\n", r->key,
	       xclone_populate_status_name(r->status), fmt_duration(r->elapsed_ms, took, sizeof(took)),
	       (long long)r->rescans, r->rescans == 1 ? "" : "s", r->resumed ? ", resumed" : "",
	       r->journal);
	if (r->status == XCLONE_POPULATE_INCOMPLETE)
		printf("work is left: run the same command again (or `xclone populate --cleanup"
		       " --key %s ...`) to finish it\n", r->key);
}

static int print_result(enum vmode mode, const struct xclone_populate_result *r)
{
	char *json;

	if (mode == V_JSON) {
		json = xclone_populate_result_json(r);
		if (json == NULL)
			return EXIT_INTERNAL;
		printf("%s\n", json);
		free(json);
	} else {
		print_summary(r);
	}
	return fflush(stdout) == 0 ? 0 : EXIT_INTERNAL;
}

/* ---- signals ----------------------------------------------------------------------------- */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig; /* the engine polls it: cancel, clean up, return */
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* ---- the command ------------------------------------------------------------------------- */

/* The description part of --help: what populate does and its own options (from popts). */
static const char *options_help(char *help_text, size_t size)
{
	size_t n = 0;

	n += (size_t)snprintf(help_text + n, size - n,
			      "Copies each disk onto its PV's LUN: resolves the PV on the array, maps"
			      " it to the\nhost, clones with the agent (XCOPY when the array can),"
			      " and cleans up on every\npath. Journaled in --state-dir/KEY: after a"
			      " crash, run the same command again.\nExit codes: 0 ok, 1 a disk failed,"
			      " 2 usage, 3 connection, 4 timeout, 5 unsafe,\n6 key in use or"
			      " mismatched, 7 incomplete (run again), 128+N stopped by signal N.\n"
			      "docs/POPULATE.md has the details.\n\npopulate options (also from the"
			      " environment; lists: one value per line):\n");
	for (int p = 0; p < P_COUNT && n < size; p++) {
		char left[64], env[48];

		snprintf(left, sizeof(left), "    --%s%s%s", popts[p].name, popts[p].arg ? " " : "",
			 popts[p].arg ? popts[p].arg : "");
		env_name((enum popt)p, env, sizeof(env));
		n += (size_t)snprintf(help_text + n, size - n, "  %-36s %s\n%-40s env %s%s%s\n",
				      left, popts[p].help, "", env, popts[p].dflt ? ", default: " : "",
				      popts[p].dflt ? popts[p].dflt : "");
	}
	if (n < size)
		snprintf(help_text + n, size - n,
			 "\nThe array secret: STORAGE_HOSTNAME, STORAGE_USERNAME, STORAGE_PASSWORD and"
			 " the\nvendor's keys (PURE_CLUSTER_PREFIX, ONTAP_SVM, ...) exactly as in MTV's"
			 " secret.");
	return help_text;
}

static int exit_of(int rc, const struct xclone_error *err, const struct xclone_populate_result *r,
		   bool cleanup_only)
{
	if (r != NULL && r->status == XCLONE_POPULATE_INCOMPLETE)
		return EXIT_INCOMPLETE;
	if (cleanup_only && rc == 0)
		return EXIT_OK; /* nothing left: what --cleanup is for */
	if (stop_signal != 0 && (r == NULL || r->status != XCLONE_POPULATE_OK))
		return 128 + stop_signal;
	if (rc != 0)
		return err->code == XC_E_CONFLICT ? EXIT_KEY_IN_USE : cli_exit_code(err);
	switch (r->status) {
	case XCLONE_POPULATE_OK:
		return EXIT_OK;
	case XCLONE_POPULATE_UNSAFE:
		return EXIT_UNSAFE;
	case XCLONE_POPULATE_INTERRUPTED:
		return 128 + (stop_signal ? stop_signal : SIGTERM);
	default:
		return EXIT_FAILED;
	}
}

static void log_line(const char *line, void *ud)
{
	fprintf(stderr, "xclone: %s\n", line);
}

/* More connections for many disks at once (the engine asks, one at a time). */
static int connect_more(void *ud, xclone_conn **out, struct xclone_error *err)
{
	if (cli_connect(ud, out) != 0) /* it printed why */
		return xclone_error_set(err, XC_E_CONNECT, "cannot open another connection to the agent");
	return 0;
}

static int run(struct cli_settings *s, const struct pargs *a, struct xclone_populate_plan *plan,
	       enum vmode mode)
{
	struct xclone_populate_options o;
	struct xclone_populate_result *r = NULL;
	struct xclone_error err = { 0 };
	struct view v = { .mode = mode, .width = terminal_width() };
	unsigned port = 0, timeout_s = 120;
	xclone_conn *c = NULL;
	int rc;

	xclone_populate_options_init(&o);
	if ((rc = cli_uint(s, O_PORT, 65535, &port)) != 0 ||
	    (rc = number(a, P_PARALLEL, 1, XCLONE_POPULATE_PARALLEL_MAX, &o.parallel)) != 0 ||
	    (rc = number(a, P_DEVICE_TIMEOUT, 1, 600, &timeout_s)) != 0)
		return rc;
	if ((rc = cli_connect(s, &c)) != 0)
		return rc;
	o.conn.host = s->value[O_HOST];
	o.conn.port = port;
	o.agent = c;
	o.connect = connect_more;
	o.connect_userdata = s;
	o.channels_per_connection = CHANNELS_PER_CONNECTION;
	o.product = a->value[P_PRODUCT];
	o.secret_dir = a->value[P_SECRET_DIR];
	o.state_dir = a->value[P_STATE_DIR];
	o.key = a->value[P_KEY];
	o.plan = plan;
	o.cleanup_only = switch_on(a, P_CLEANUP);
	o.force = switch_on(a, P_FORCE);
	o.require_xcopy = switch_on(a, P_REQUIRE_XCOPY);
	o.device_timeout_ms = timeout_s * 1000;
	o.stop = &stop_signal;
	o.on_event = on_event;
	o.userdata = &v;
	if (cli_on(s, O_VERBOSE))
		o.log = log_line;
	catch_signals();
	rc = xclone_populate(&o, &r, &err);
	if (v.mode == V_BAR && v.drawn > 0)
		redraw(&v, true);
	if (rc != 0)
		(void)cli_fail(s, &err);
	if (r != NULL && print_result(mode, r) != 0)
		v.failed_output = true;
	rc = exit_of(rc, &err, r, o.cleanup_only);
	if (v.failed_output && rc == EXIT_OK)
		rc = EXIT_INTERNAL; /* stdout went away: the caller cannot know what happened */
	xclone_populate_result_free(r);
	free(v.rows);
	xclone_disconnect(c);
	return rc;
}

int cmd_populate(int argc, char **argv)
{
	struct cli_command_doc doc = {
		"populate", C_HELLO | C_TASK, "", 0, 0,
		"Copy vSphere disks onto Kubernetes PersistentVolumes, crash-safe, many at once.",
		NULL,
	};
	char help_text[6144];
	struct pargs a;
	struct cli_settings s = { 0 };
	struct xclone_populate_plan *plan = NULL;
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	enum vmode mode = V_NONE;
	int nrest = 0, first, rc;

	memset(&a, 0, sizeof(a));
	doc.description = options_help(help_text, sizeof(help_text));
	if (rest == NULL)
		return EXIT_INTERNAL;
	rc = split_args(argc, argv, &a, rest, &nrest);
	if (rc == 0) {
		rc = cli_parse(nrest, rest, &doc, &s, &first);
		if (rc == 1) {
			free(rest);
			return EXIT_OK; /* --help */
		}
	}
	if (rc == 0)
		rc = read_env(&a);
	if (rc == 0 && (plan = xclone_populate_plan_new()) == NULL)
		rc = EXIT_INTERNAL;
	if (rc == 0)
		rc = build_plan(&a, plan);
	if (rc == 0 && switch_on(&a, P_CLEANUP) && a.value[P_KEY] == NULL)
		rc = usage("--cleanup needs --key (the key of the run to clean up)");
	if (rc == 0 && switch_on(&a, P_CLEANUP) && xclone_populate_plan_count(plan) > 0)
		rc = usage("--cleanup takes the disks from the key's journal: give no disks");
	if (rc == 0)
		rc = view_mode(&s, &mode);
	if (rc == 0)
		rc = run(&s, &a, plan, mode);
	cli_settings_free(&s);
	xclone_populate_plan_free(plan);
	for (int p = 0; p < P_COUNT; p++)
		free(a.env_copies[p]);
	free(rest);
	return rc;
}
