/*
 * `xclone array`: inspect and act on a storage array by hand, through the same
 * array layer libxclone's populate uses. Options are described once, in the
 * table below; --help is generated from it.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "array.h"
#include "cli_exit.h"
#include "commands.h"
#include "secret.h"

enum array_cmd {
	CMD_INFO = 1 << 0,
	CMD_RESOLVE = 1 << 1,
	CMD_HOSTS = 1 << 2,
	CMD_ENSURE_HOST = 1 << 3,
	CMD_MAPPINGS = 1 << 4,
	CMD_MAP = 1 << 5,
	CMD_UNMAP = 1 << 6,
};
#define CMD_ALL 0x7f
#define CMD_PV (CMD_RESOLVE | CMD_MAPPINGS | CMD_MAP | CMD_UNMAP)
#define CMD_TARGET (CMD_MAP | CMD_UNMAP)

static const struct {
	const char *name;
	enum array_cmd cmd;
	const char *help;
} commands[] = {
	{"info", CMD_INFO, "vendor, model, software and REST API version, array id"},
	{"resolve", CMD_RESOLVE, "the LUN of a PersistentVolume: name, id, serial, NAA id, size"},
	{"hosts", CMD_HOSTS, "hosts / initiator groups and host groups with their initiators"},
	{"ensure-host", CMD_ENSURE_HOST,
	 "the host object holding these initiators: reused, completed or created"},
	{"mappings", CMD_MAPPINGS, "the hosts and groups a PV's LUN is mapped to, with LUN numbers"},
	{"map", CMD_MAP, "map a PV's LUN to a host or host group (idempotent)"},
	{"unmap", CMD_UNMAP, "unmap a PV's LUN from a host or host group (idempotent)"},
};

enum opt_id {
	OPT_PRODUCT, OPT_SECRET_DIR, OPT_JSON, OPT_VERBOSE, OPT_HELP, OPT_PV_NAME, OPT_HANDLE,
	OPT_ATTR, OPT_INITIATOR, OPT_NAME, OPT_HOST, OPT_HOST_GROUP, OPT_LUN,
};

static const struct {
	enum opt_id id;
	const char *name;
	char short_name;
	const char *arg;     /* NULL: a flag */
	unsigned cmds;       /* commands it applies to */
	int repeat;
	const char *help;
} options[] = {
	{OPT_PRODUCT, "product", 0, "P", CMD_ALL, 0,
	 "storage product as in MTV secrets: pureFlashArray, ontap, ... (required)"},
	{OPT_SECRET_DIR, "secret-dir", 0, "DIR", CMD_ALL, 0,
	 "mounted secret folder, one file per key (default: environment variables)"},
	{OPT_JSON, "json", 0, NULL, CMD_ALL, 0, "print one JSON object per line"},
	{OPT_VERBOSE, "verbose", 'v', NULL, CMD_ALL, 0,
	 "log every HTTP request to stderr (secrets redacted)"},
	{OPT_HELP, "help", 'h', NULL, CMD_ALL, 0, "this help"},
	{OPT_PV_NAME, "pv-name", 0, "NAME", CMD_PV, 0, "the PersistentVolume's name"},
	{OPT_HANDLE, "volume-handle", 0, "H", CMD_PV, 0, "its spec.csi.volumeHandle"},
	{OPT_ATTR, "volume-attr", 0, "K=V", CMD_PV, 1,
	 "one of its spec.csi.volumeAttributes (repeatable)"},
	{OPT_INITIATOR, "initiator", 0, "ID", CMD_ENSURE_HOST, 1,
	 "iqn..., eui..., fc.WWNN:WWPN or nqn... (repeatable)"},
	{OPT_NAME, "name", 0, "NAME", CMD_ENSURE_HOST, 0,
	 "name of a host object created here (default: xclone-<hash of initiators>)"},
	{OPT_HOST, "host", 0, "NAME", CMD_TARGET, 0, "host / initiator group to map to"},
	{OPT_HOST_GROUP, "host-group", 0, "NAME", CMD_TARGET, 0, "host group / host set to map to"},
	{OPT_LUN, "lun", 0, "N", CMD_MAP, 0, "LUN number to ask for (default: the array chooses)"},
};

#define MAX_REPEAT 32

struct array_args {
	enum array_cmd cmd;
	const char *product, *secret_dir, *pv_name, *handle, *name, *host, *host_group, *lun;
	int json, verbose, help;
	struct xc_attr attrs[MAX_REPEAT];
	char attr_keys[MAX_REPEAT][256];
	size_t n_attrs;
	const char *initiators[MAX_REPEAT];
	size_t n_initiators;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: xclone array --product P [--secret-dir DIR] [--json] [-v] COMMAND"
		     " [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\nOptions:\n");
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		char left[64];
		const char *arg = options[i].arg ? options[i].arg : "";
		if (options[i].short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", options[i].short_name,
				 options[i].name, *arg ? " " : "", arg);
		else
			snprintf(left, sizeof(left), "    --%s%s%s", options[i].name, *arg ? " " : "",
				 arg);
		fprintf(out, "  %-24s %s", left, options[i].help);
		if (options[i].cmds != CMD_ALL) {
			const char *sep = " [";
			for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
				if (options[i].cmds & commands[c].cmd) {
					fprintf(out, "%s%s", sep, commands[c].name);
					sep = ", ";
				}
			fprintf(out, "]");
		}
		fprintf(out, "\n");
	}
	fprintf(out, "\nSecret keys: STORAGE_HOSTNAME, STORAGE_USERNAME, STORAGE_PASSWORD,"
		     " STORAGE_TOKEN (Pure),\nSTORAGE_SKIP_SSL_VERIFICATION,"
		     " STORAGE_HTTP_TIMEOUT_SECONDS, STORAGE_CA_FILE, PURE_CLUSTER_PREFIX,\n"
		     "ONTAP_SVM. Products:");
	for (size_t i = 0; xc_array_product_at(i) != NULL; i++)
		fprintf(out, " %s", xc_array_product_at(i));
	fprintf(out, "\nExit codes: 0 ok, 1 failed, 2 usage or settings, 3 connection or login,"
		     " 4 timeout.\n");
}

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xclone array: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(xclone array --help lists commands and options)\n");
	return EXIT_USAGE;
}

static int set_option(struct array_args *a, enum opt_id id, const char *value)
{
	switch (id) {
	case OPT_PRODUCT: a->product = value; break;
	case OPT_SECRET_DIR: a->secret_dir = value; break;
	case OPT_JSON: a->json = 1; break;
	case OPT_VERBOSE: a->verbose = 1; break;
	case OPT_HELP: a->help = 1; break;
	case OPT_PV_NAME: a->pv_name = value; break;
	case OPT_HANDLE: a->handle = value; break;
	case OPT_NAME: a->name = value; break;
	case OPT_HOST: a->host = value; break;
	case OPT_HOST_GROUP: a->host_group = value; break;
	case OPT_LUN: a->lun = value; break;
	case OPT_ATTR: {
		const char *eq = strchr(value, '=');
		if (eq == NULL || eq == value)
			return bad_usage("--volume-attr wants KEY=VALUE, got \"%s\"", value);
		if (a->n_attrs == MAX_REPEAT)
			return bad_usage("%s: too many --volume-attr", value);
		if ((size_t)(eq - value) >= sizeof(a->attr_keys[0]))
			return bad_usage("%s: attribute name too long", value);
		snprintf(a->attr_keys[a->n_attrs], sizeof(a->attr_keys[0]), "%.*s", (int)(eq - value),
			 value);
		a->attrs[a->n_attrs].key = a->attr_keys[a->n_attrs];
		a->attrs[a->n_attrs++].value = eq + 1;
		break;
	}
	case OPT_INITIATOR:
		if (a->n_initiators == MAX_REPEAT)
			return bad_usage("%s: too many --initiator", value);
		a->initiators[a->n_initiators++] = value;
		break;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct array_args *a)
{
	unsigned seen[sizeof(options) / sizeof(options[0])] = {0};
	size_t k;

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = NULL;
		char name[64];
		if (arg[0] != '-' || arg[1] == '\0') {
			if (a->cmd != 0)
				return bad_usage("unexpected argument \"%s\"", arg);
			for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
				if (strcmp(arg, commands[k].name) == 0)
					a->cmd = commands[k].cmd;
			if (a->cmd == 0)
				return bad_usage("unknown command \"%s\"", arg);
			continue;
		}
		if (arg[1] == '-') {
			const char *eq = strchr(arg, '=');
			snprintf(name, sizeof(name), "%.*s", (int)(eq ? eq - arg - 2 : (long)strlen(arg) - 2),
				 arg + 2);
			value = eq ? eq + 1 : NULL;
		} else {
			name[0] = '\0';
		}
		for (k = 0; k < sizeof(options) / sizeof(options[0]); k++)
			if ((name[0] && strcmp(name, options[k].name) == 0) ||
			    (!name[0] && arg[1] == options[k].short_name && arg[2] == '\0'))
				break;
		if (k == sizeof(options) / sizeof(options[0]))
			return bad_usage("unknown option \"%s\"", arg);
		if (options[k].arg != NULL && value == NULL) {
			if (i + 1 >= argc)
				return bad_usage("%s needs a value", arg);
			value = argv[++i];
		} else if (options[k].arg == NULL && value != NULL) {
			return bad_usage("%s takes no value", arg);
		}
		if (seen[k]++ && !options[k].repeat)
			return bad_usage("--%s given twice", options[k].name);
		int rc = set_option(a, options[k].id, value);
		if (rc)
			return rc;
	}
	if (a->help)
		return 0;
	if (a->cmd == 0)
		return bad_usage("%s", "a command is needed");
	for (k = 0; k < sizeof(options) / sizeof(options[0]); k++)
		if (seen[k] && !(options[k].cmds & a->cmd))
			return bad_usage("--%s does not apply to this command", options[k].name);
	if (a->product == NULL)
		return bad_usage("%s", "--product is required");
	if ((a->cmd & CMD_PV) && a->pv_name == NULL)
		return bad_usage("%s", "--pv-name is required");
	if ((a->cmd & CMD_TARGET) && (a->host == NULL) == (a->host_group == NULL))
		return bad_usage("%s", "give one of --host or --host-group");
	if (a->cmd == CMD_ENSURE_HOST && a->n_initiators == 0)
		return bad_usage("%s", "--initiator is required");
	return 0;
}

static int exit_code(enum xclone_code code)
{
	switch (code) {
	case XC_OK: return EXIT_OK;
	case XC_E_USAGE:
	case XC_E_CONFIG: return EXIT_USAGE;
	case XC_E_CONNECT:
	case XC_E_AUTH:
	case XC_E_HOSTKEY: return EXIT_CONNECT;
	case XC_E_TIMEOUT: return EXIT_TIMEOUT;
	case XC_E_INTERNAL: return EXIT_INTERNAL;
	default: return EXIT_FAILED;
	}
}

static int fail(const struct array_args *a, const struct xclone_error *err)
{
	fprintf(stderr, "xclone array: %s\n", err->message);
	if (a->json) {
		cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(e, "code", xclone_code_name(err->code));
		cJSON_AddStringToObject(e, "message", err->message);
		if (err->http_status)
			cJSON_AddNumberToObject(e, "http_status", err->http_status);
		char *text = cJSON_PrintUnformatted(o);
		if (text)
			printf("%s\n", text);
		free(text);
		cJSON_Delete(o);
	}
	return exit_code(err->code);
}

/* Prints a JSON object on one line and frees it. */
static void emit(cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o);

	if (text != NULL)
		printf("%s\n", text);
	free(text);
	cJSON_Delete(o);
}

static void print_info(const struct array_args *a, const struct xc_array_info *i)
{
	if (a->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "vendor", i->vendor);
		cJSON_AddStringToObject(o, "product", i->product);
		cJSON_AddStringToObject(o, "model", i->model);
		cJSON_AddStringToObject(o, "version", i->version);
		cJSON_AddStringToObject(o, "name", i->name);
		cJSON_AddStringToObject(o, "array_id", i->array_id);
		cJSON_AddStringToObject(o, "api_version", i->api_version);
		emit(o);
		return;
	}
	printf("vendor       %s\nproduct      %s\nmodel        %s\nversion      %s\n"
	       "name         %s\narray id     %s\nREST API     %s\n",
	       i->vendor, i->product, i->model, i->version, i->name, i->array_id, i->api_version);
}

static void print_lun(const struct array_args *a, const struct xc_lun *l)
{
	if (a->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", l->name);
		cJSON_AddStringToObject(o, "id", l->id);
		cJSON_AddStringToObject(o, "array_id", l->array_id);
		cJSON_AddStringToObject(o, "serial", l->serial);
		cJSON_AddStringToObject(o, "naa", l->naa);
		cJSON_AddNumberToObject(o, "size_bytes", (double)l->size_bytes);
		emit(o);
		return;
	}
	printf("name         %s\nid           %s\narray id     %s\nserial       %s\nnaa          %s\n"
	       "size         %llu bytes\n",
	       l->name, l->id, l->array_id, l->serial, l->naa, l->size_bytes);
}

static void print_group(const struct array_args *a, const struct xc_host_group *g)
{
	if (a->json) {
		cJSON *o = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(o, "initiators");
		cJSON_AddStringToObject(o, "name", g->name);
		cJSON_AddStringToObject(o, "kind", xc_group_kind_name(g->kind));
		for (size_t i = 0; i < g->n_initiators; i++)
			cJSON_AddItemToArray(list, cJSON_CreateString(g->initiators[i]));
		if (g->truncated)
			cJSON_AddBoolToObject(o, "truncated", 1);
		emit(o);
		return;
	}
	printf("%-9s %-30s", xc_group_kind_name(g->kind), g->name);
	for (size_t i = 0; i < g->n_initiators; i++)
		printf("%s%s", i ? ", " : " ", g->initiators[i]);
	printf("%s\n", g->truncated ? ", ..." : "");
}

static void print_mapping(const struct array_args *a, const struct xc_mapping *m,
			  const struct xc_lun *lun, const char *action)
{
	if (a->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "group", m->group);
		cJSON_AddStringToObject(o, "kind", xc_group_kind_name(m->kind));
		if (m->lun_id >= 0)
			cJSON_AddNumberToObject(o, "lun", (double)m->lun_id);
		cJSON_AddStringToObject(o, "naa", lun->naa);
		if (action)
			cJSON_AddStringToObject(o, "action", action);
		emit(o);
		return;
	}
	if (action != NULL && strcmp(action, "unmapped") == 0)
		printf("unmapped %s (%s) from %s %s\n", lun->name, lun->naa, xc_group_kind_name(m->kind),
		       m->group);
	else if (action != NULL)
		printf("mapped %s (%s) to %s %s as LUN %ld\n", lun->name, lun->naa,
		       xc_group_kind_name(m->kind), m->group, m->lun_id);
	else
		printf("%-9s %-30s LUN %ld\n", xc_group_kind_name(m->kind), m->group, m->lun_id);
}

static void log_stderr(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s\n", line);
}

static int run(struct xc_array *arr, const struct array_args *a, struct xclone_error *err)
{
	struct xc_pv pv = {a->pv_name, a->handle, a->attrs, a->n_attrs};
	struct xc_lun lun;
	int rc = 0;

	if (a->cmd & CMD_PV) {
		rc = xc_array_resolve(arr, &pv, &lun, err);
		if (rc)
			return rc;
	}
	switch (a->cmd) {
	case CMD_INFO: {
		struct xc_array_info info;
		if ((rc = xc_array_info(arr, &info, err)) == 0)
			print_info(a, &info);
		return rc;
	}
	case CMD_RESOLVE:
		print_lun(a, &lun);
		return 0;
	case CMD_HOSTS: {
		struct xc_host_list list;
		if ((rc = xc_array_hosts(arr, &list, err)) != 0)
			return rc;
		for (size_t i = 0; i < list.n; i++)
			print_group(a, &list.items[i]);
		xc_host_list_free(&list);
		return 0;
	}
	case CMD_ENSURE_HOST: {
		struct xc_host_request req = {a->name, a->initiators, a->n_initiators};
		struct xc_host_group g;
		if ((rc = xc_array_ensure_host(arr, &req, &g, err)) == 0)
			print_group(a, &g);
		return rc;
	}
	case CMD_MAPPINGS: {
		struct xc_mapping_list list;
		if ((rc = xc_array_mappings(arr, &lun, &list, err)) != 0)
			return rc;
		for (size_t i = 0; i < list.n; i++)
			print_mapping(a, &list.items[i], &lun, NULL);
		if (list.n == 0 && !a->json)
			printf("(%s is not mapped)\n", lun.name);
		xc_mapping_list_free(&list);
		return 0;
	}
	case CMD_MAP:
	case CMD_UNMAP: {
		struct xc_mapping target = {.kind = a->host ? XC_GROUP_HOST : XC_GROUP_HOST_SET,
					    .lun_id = -1},
				  got;
		char *end = NULL;
		snprintf(target.group, sizeof(target.group), "%s", a->host ? a->host : a->host_group);
		if (a->lun != NULL) {
			target.lun_id = strtol(a->lun, &end, 10);
			if (*a->lun == '\0' || *end != '\0' || target.lun_id < 0)
				return xclone_error_set(err, XC_E_USAGE, "--lun wants a number");
		}
		if (a->cmd == CMD_MAP) {
			if ((rc = xc_array_map(arr, &lun, &target, &got, err)) == 0)
				print_mapping(a, &got, &lun, "mapped");
		} else if ((rc = xc_array_unmap(arr, &lun, &target, err)) == 0) {
			print_mapping(a, &target, &lun, "unmapped");
		}
		return rc;
	}
	}
	return xclone_error_set(err, XC_E_INTERNAL, "no command");
}

int cmd_array(int argc, char **argv)
{
	struct array_args a;
	struct xc_secret *secret = NULL;
	struct xc_array *arr = NULL;
	struct xc_array_options opt = {0};
	struct xclone_error err = {0};
	int rc = parse_args(argc, argv, &a);

	if (rc)
		return rc;
	if (a.help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (a.verbose)
		opt.log = log_stderr;
	rc = xc_secret_open(&secret, a.secret_dir, &err);
	if (rc == 0)
		rc = xc_array_open(&arr, a.product, secret, &opt, &err);
	xc_secret_close(secret);
	if (rc == 0)
		rc = run(arr, &a, &err);
	xc_array_close(arr);
	if (rc)
		return fail(&a, &err);
	fflush(stdout);
	return ferror(stdout) ? EXIT_FAILED : EXIT_OK;
}
