/* `xclone device get|wait|detach DEVICE`. */
#include <string.h>

#include "cli.h"
#include "cli_exit.h"
#include "commands.h"

static const struct cli_command_doc docs[] = {
	{ "device get", C_DEVICE, "DEVICE", 1, 1,
	  "Show a device (naa.*, eui.*, t10.*): presence, size, VAAI clone support, whether it\n"
	  "backs a datastore (then it can never be a clone target).",
	  NULL },
	{ "device wait", C_DEVICE, "DEVICE", 1, 1,
	  "Wait until a device is present, rescanning (coalesced) while it is not; for a LUN the\n"
	  "array has just mapped to this host.",
	  NULL },
	{ "device detach", C_DEVICE, "DEVICE", 1, 1,
	  "Set a device off and detach it, so the array can unmap the LUN without the host\n"
	  "declaring it lost. Refused (exit 5) for a device backing a datastore or in use.",
	  NULL },
};

int cmd_device(int argc, char **argv)
{
	const struct cli_command_doc *doc;
	struct cli_settings s;
	struct xclone_error err = { 0 };
	struct xclone_device *d = NULL;
	struct xclone_rescan st = { 0 };
	xclone_conn *c = NULL;
	const char *dev;
	unsigned wait_ms = 0;
	int first, rc = 0;
	bool detached = false;

	doc = cli_subcommand(argc, argv, "device", docs, sizeof(docs) / sizeof(docs[0]), &rc);
	if (doc == NULL)
		return rc;
	memset(&s, 0, sizeof(s));
	if (!cli_begin(argc - 1, argv + 1, doc, &s, &first, &c, &rc))
		goto out;
	dev = argv[1 + first];
	if (doc == &docs[0]) {
		rc = xclone_device_get(c, dev, &d, &err);
	} else if (doc == &docs[1]) {
		if (s.value[O_WAIT_TIMEOUT] != NULL &&
		    (rc = cli_seconds_ms(&s, O_WAIT_TIMEOUT, &wait_ms)) != 0)
			goto out;
		rc = xclone_device_wait(c, dev, s.value[O_WAIT_TIMEOUT] ? (int64_t)wait_ms : -1, &d,
					&st, &err);
	} else {
		rc = xclone_device_detach(c, dev, &detached, &err);
	}
	if (rc != 0) {
		rc = cli_fail(&s, &err);
		goto out;
	}
	if (cli_on(&s, O_JSON)) {
		cJSON *o = cJSON_CreateObject();

		if (doc == &docs[2]) {
			cJSON_AddStringToObject(o, "device", dev);
			cJSON_AddBoolToObject(o, "detached", detached);
		} else {
			cJSON_AddItemToObject(o, "device", json_device(d));
		}
		if (doc == &docs[1]) {
			cJSON_AddNumberToObject(o, "rescans", (double)st.rescans);
			cJSON_AddNumberToObject(o, "waited_ms", (double)st.waited_ms);
		}
		rc = out_json(stdout, o);
	} else if (doc == &docs[2]) {
		printf("%s %s\n", dev, detached ? "detached" : "was already detached");
	} else {
		print_device(stdout, d);
		if (doc == &docs[1]) {
			char a[32];

			out_kv(stdout, "waited", "%s, %lld rescan%s", fmt_duration(st.waited_ms, a, sizeof(a)),
			       (long long)st.rescans, st.rescans == 1 ? "" : "s");
		}
	}
out:
	xclone_device_free(d);
	xclone_disconnect(c);
	cli_settings_free(&s);
	return rc;
}
