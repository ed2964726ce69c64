/* `xclone hello`, `xclone host-info`, `xclone rescan`: the agent and the host it runs on. */
#include <string.h>

#include "cli.h"
#include "cli_exit.h"
#include "commands.h"
#include "table.h"

static const struct cli_command_doc hello_doc = {
	"hello", C_HELLO, "", 0, 0,
	"Connect, verify the host, and show the agent's identity and what this key may do.",
	"Useful as a first check of a host: it proves the network path, the host key (or\n"
	"certificate), the key's restricted login and the installed agent.",
};

static const struct cli_command_doc host_info_doc = {
	"host-info", C_HOST_INFO, "", 0, 0,
	"Show the host's storage adapters with their initiator ids, its datastores and the\n"
	"adapters reaching each extent, and its VAAI (XCOPY) settings.",
	NULL,
};

static const struct cli_command_doc rescan_doc = {
	"rescan", C_RESCAN, "", 0, 0,
	"Rescan storage adapters so newly mapped LUNs appear (--type add) or unmapped ones go.",
	"Rescans are serialized on the host and coalesced: when one of the same scope runs,\n"
	"this one waits for it instead of starting another (then it reports 0 rescans).",
};

int cmd_hello(int argc, char **argv)
{
	struct cli_settings s;
	struct xclone_error err = { 0 };
	struct xclone_hello *h = NULL;
	struct xclone_peer peer;
	xclone_conn *c;
	int first, rc;

	if (!cli_begin(argc, argv, &hello_doc, &s, &first, &c, &rc))
		goto out;
	if (xclone_hello(c, &h, &err) != 0 || xclone_conn_peer(c, &peer, &err) != 0) {
		rc = cli_fail(&s, &err);
		goto out;
	}
	if (cli_on(&s, O_JSON)) {
		rc = out_json(stdout, json_hello(h, &peer));
		goto out;
	}
	out_kv(stdout, "agent", "%s %s (protocol %d)", h->agent, h->version, h->protocol);
	out_kv(stdout, "host", "%s (agent mode %s)", h->hostname, h->mode);
	out_kv(stdout, "connected", "%s port %u over %s", peer.host, peer.port, peer.transport);
	out_kv(stdout, "identity", "%s", peer.identity);
	out_kv(stdout, "trusted by", "%s", peer.identity_source);
	out_kv(stdout, "access", "%s", h->read_only ? "read-only" : "read-write");
	fprintf(stdout, "%-12s", "may call");
	for (size_t i = 0; i < h->n_capabilities; i++)
		fprintf(stdout, " %s", h->capabilities[i]);
	fputc('\n', stdout);
	rc = EXIT_OK;
out:
	xclone_hello_free(h);
	xclone_disconnect(c);
	cli_settings_free(&s);
	return rc;
}

static void join(char *out, size_t cap, char *const *v, size_t n, const char *sep)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && used < cap; i++)
		used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? sep : "", v[i]);
}

static void print_adapters(const struct xclone_host_info *h)
{
	static const char *const head[] = { "ADAPTER", "DRIVER", "TRANSPORT", "UID", "INITIATORS" };
	struct table t;
	char init[1024];

	table_init(&t, 5, head);
	for (size_t i = 0; i < h->n_adapters; i++) {
		const struct xclone_adapter *a = &h->adapters[i];
		const char *row[5] = { a->name, a->driver, a->transport, a->uid, init };

		join(init, sizeof(init), a->initiators, a->n_initiators, ", ");
		if (a->n_initiators == 0)
			snprintf(init, sizeof(init), "-");
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
}

static void print_datastores(const struct xclone_host_info *h)
{
	static const char *const head[] = { "DATASTORE", "TYPE", "EXTENT", "PART", "ADAPTERS" };
	struct table t;

	table_init(&t, 5, head);
	for (size_t i = 0; i < h->n_datastores; i++) {
		const struct xclone_datastore *d = &h->datastores[i];

		for (size_t k = 0; k < d->n_extents || k == 0; k++) {
			const struct xclone_extent *e = d->n_extents ? &d->extents[k] : NULL;
			char part[16], via[512];
			const char *row[5] = { k == 0 ? d->name : "", k == 0 ? d->type : "",
					       e ? e->device : "-", part, via };

			snprintf(part, sizeof(part), "%lld", e ? (long long)e->partition : 0LL);
			join(via, sizeof(via), e ? e->adapters : NULL, e ? e->n_adapters : 0, ",");
			table_add(&t, row);
		}
	}
	table_print(&t, stdout);
	table_free(&t);
}

static void print_host_info(const struct xclone_host_info *h)
{
	out_kv(stdout, "host", "%s", h->hostname);
	out_kv(stdout, "product", "%s %s build %s", h->product, h->version, h->build);
	out_kv(stdout, "XCOPY", "%s (/DataMover/HardwareAcceleratedMove = %lld)",
	       h->hardware_accelerated_move ? "enabled" : "DISABLED: clones are host copies",
	       (long long)h->hardware_accelerated_move);
	out_kv(stdout, "WRITE SAME", "%s (/DataMover/HardwareAcceleratedInit = %lld)",
	       h->hardware_accelerated_init ? "enabled" : "disabled",
	       (long long)h->hardware_accelerated_init);
	out_kv(stdout, "XCOPY size", "%lld KB per command (/DataMover/MaxHWTransferSize)",
	       (long long)h->max_hw_transfer_size);
	if (h->sdc_guid != NULL)
		out_kv(stdout, "SDC GUID", "%s (PowerFlex)", h->sdc_guid);
	fputc('\n', stdout);
	print_adapters(h);
	fputc('\n', stdout);
	print_datastores(h);
}

int cmd_host_info(int argc, char **argv)
{
	struct cli_settings s;
	struct xclone_error err = { 0 };
	struct xclone_host_info *h = NULL;
	xclone_conn *c;
	int first, rc;

	if (!cli_begin(argc, argv, &host_info_doc, &s, &first, &c, &rc))
		goto out;
	if (xclone_host_info(c, &h, &err) != 0) {
		rc = cli_fail(&s, &err);
		goto out;
	}
	if (cli_on(&s, O_JSON)) {
		rc = out_json(stdout, json_host_info(h));
	} else {
		print_host_info(h);
		rc = EXIT_OK;
	}
out:
	xclone_host_info_free(h);
	xclone_disconnect(c);
	cli_settings_free(&s);
	return rc;
}

int cmd_rescan(int argc, char **argv)
{
	struct cli_settings s;
	struct xclone_error err = { 0 };
	struct xclone_rescan r;
	xclone_conn *c;
	const char *type;
	int first, rc;
	char a[32];

	if (!cli_begin(argc, argv, &rescan_doc, &s, &first, &c, &rc))
		goto out;
	type = s.value[O_RESCAN_TYPE];
	if (type != NULL && strcmp(type, "all") != 0 && strcmp(type, "add") != 0 &&
	    strcmp(type, "delete") != 0) {
		rc = cli_bad(&s, O_RESCAN_TYPE, "expected all, add or delete");
		goto out;
	}
	if (xclone_storage_rescan(c, s.value[O_ADAPTER], type, &r, &err) != 0) {
		rc = cli_fail(&s, &err);
		goto out;
	}
	if (cli_on(&s, O_JSON)) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "rescans", (double)r.rescans);
		cJSON_AddNumberToObject(o, "waited_ms", (double)r.waited_ms);
		rc = out_json(stdout, o);
		goto out;
	}
	printf("rescanned %s (%s): %lld rescan%s run, %s%s\n",
	       s.value[O_ADAPTER] ? s.value[O_ADAPTER] : "all adapters", type ? type : "all",
	       (long long)r.rescans, r.rescans == 1 ? "" : "s", fmt_duration(r.waited_ms, a, sizeof(a)),
	       r.rescans == 0 ? " (joined a rescan already running)" : "");
	rc = EXIT_OK;
out:
	xclone_disconnect(c);
	cli_settings_free(&s);
	return rc;
}
