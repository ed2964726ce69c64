/*
 * libFuzzer target: the parsers of host tool output (agent/esxcli.c, the
 * vsish counter in agent/vsish.c, the rescan state file in agent/rescan.c).
 * The first byte picks the parser, the rest is its input. Beyond "no crash,
 * no overread" (ASan/UBSan), it checks what a successful parse promises:
 * bounded counts, NUL-terminated strings of valid UTF-8 without control
 * characters, and errors that carry a code and a terminated message.
 * Seeds: tests/fuzz/corpus/esxcli/ (the simulator's golden JSON, one per parser).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ag_text.h"
#include "esxcli.h"
#include "rescan.h"
#include "vsish.h"

enum { P_HOSTNAME, P_VERSION, P_ADAPTERS, P_FS, P_EXTENTS, P_PATHS, P_DEVICES, P_VAAI,
       P_DETACHED, P_ADVANCED, P_MODULE, P_ISCSI, P_NVME, P_VSISH, P_RESCAN_STATE, P_COUNT };

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* A parsed string: terminated inside its buffer, valid UTF-8, no control characters. */
static void check_str(const char *s, size_t cap)
{
	const char *nul = memchr(s, '\0', cap);

	check(nul != NULL);
	check(ag_text_utf8_valid(s, (size_t)(nul - s)));
	check(!ag_text_has_ctl(s, (size_t)(nul - s)));
}

#define STR(x) check_str((x), sizeof(x))

static void check_error(int rc, const struct xp_error *err)
{
	check(rc == XP_HOST_COMMAND_FAILED || rc == XP_INTERNAL);
	check(err->code == (enum xp_code)rc);
	check(memchr(err->message, '\0', sizeof(err->message)) != NULL);
}

/* Runs a list parser; on success checks the count and each record with each_fn. */
#define LIST(T, fn, each)                                                    \
	do {                                                                 \
		T *r_ = NULL;                                                \
		size_t n_ = 0;                                               \
		int rc_ = fn(text, len, &r_, &n_, &err);                     \
		if (rc_ != 0) {                                              \
			check_error(rc_, &err);                              \
			check(r_ == NULL && n_ == 0);                        \
			break;                                               \
		}                                                            \
		check(n_ <= AG_ESX_RECORDS_MAX && (n_ == 0) == (r_ == NULL)); \
		for (size_t i_ = 0; i_ < n_; i_++) {                         \
			const T *x = &r_[i_];                                \
			each;                                                \
		}                                                            \
		free(r_);                                                    \
	} while (0)

static void fuzz_lists(int which, const char *text, size_t len)
{
	struct xp_error err = { 0 };

	switch (which) {
	case P_ADAPTERS:
		LIST(struct ag_esx_adapter, ag_esx_parse_adapters, { STR(x->name); STR(x->driver); STR(x->uid); });
		break;
	case P_FS:
		LIST(struct ag_esx_filesystem, ag_esx_parse_filesystems, { STR(x->name); STR(x->uuid); STR(x->type); });
		break;
	case P_EXTENTS:
		LIST(struct ag_esx_extent, ag_esx_parse_extents,
		     { STR(x->volume); STR(x->uuid); STR(x->device); check(x->partition <= (UINT64_C(1) << 53)); });
		break;
	case P_PATHS:
		LIST(struct ag_esx_path, ag_esx_parse_paths, { STR(x->device); STR(x->adapter); STR(x->state); });
		break;
	case P_DEVICES:
		LIST(struct ag_esx_device, ag_esx_parse_devices, {
			STR(x->id); STR(x->status); STR(x->vendor); STR(x->model);
			/* trimmed: no blank at either end */
			check(x->vendor[0] != ' ' && (x->vendor[0] == '\0' ||
						       x->vendor[strlen(x->vendor) - 1] != ' '));
		});
		break;
	case P_VAAI:
		LIST(struct ag_esx_vaai, ag_esx_parse_vaai, { STR(x->device); STR(x->clone); });
		break;
	case P_DETACHED:
		LIST(struct ag_esx_detached, ag_esx_parse_detached, { STR(x->device); STR(x->state); });
		break;
	case P_ADVANCED:
		LIST(struct ag_esx_advanced, ag_esx_parse_advanced, { STR(x->path); });
		break;
	case P_MODULE:
		LIST(struct ag_esx_module_param, ag_esx_parse_module_params, { STR(x->name); STR(x->value); });
		break;
	case P_ISCSI:
		LIST(struct ag_esx_iscsi_adapter, ag_esx_parse_iscsi_adapter, { STR(x->adapter); STR(x->name); });
		break;
	}
}

static void fuzz_objects(int which, const char *text, size_t len)
{
	struct xp_error err = { 0 };
	int rc;

	if (which == P_HOSTNAME) {
		struct ag_esx_hostname h;
		rc = ag_esx_parse_hostname(text, len, &h, &err);
		if (rc == 0) {
			STR(h.fqdn);
			STR(h.host);
		}
	} else if (which == P_VERSION) {
		struct ag_esx_version v;
		rc = ag_esx_parse_version(text, len, &v, &err);
		if (rc == 0) {
			STR(v.product);
			STR(v.version);
			STR(v.build);
		}
	} else {
		struct ag_esx_nvme_info nv;
		rc = ag_esx_parse_nvme_info(text, len, &nv, &err);
		if (rc == 0)
			STR(nv.host_nqn);
	}
	if (rc != 0)
		check_error(rc, &err);
}

static void fuzz_other(int which, const char *text, size_t len)
{
	struct xp_error err = { 0 };

	if (which == P_VSISH) {
		uint64_t v = 1;
		bool found = true;
		int rc = ag_vsish_parse_counter(text, len, AG_VSISH_CLONE_WRITES, &v, &found, &err);

		if (rc != 0)
			check_error(rc, &err);
		else
			check(found || v == 0);
	} else {
		struct ag_rescan_state st;

		if (ag_rescan_state_parse(text, len, &st) == 0) {
			check(st.ndone <= AG_RESCAN_SCOPES_MAX);
			for (size_t i = 0; i < st.ndone; i++) {
				check(st.done[i].gen <= st.started);
				STR(st.done[i].scope);
				check(st.done[i].type < XP_RESCAN_TYPE_COUNT);
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text;
	size_t len;
	int which;

	if (size < 1)
		return 0;
	which = data[0] % P_COUNT;
	text = (const char *)data + 1;
	len = size - 1;
	if (which == P_HOSTNAME || which == P_VERSION || which == P_NVME)
		fuzz_objects(which, text, len);
	else if (which == P_VSISH || which == P_RESCAN_STATE)
		fuzz_other(which, text, len);
	else
		fuzz_lists(which, text, len);
	return 0;
}
