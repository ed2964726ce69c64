/*
 * libFuzzer target: the VMDK descriptor parser. Beyond "no crash, no overread"
 * (ASan/UBSan), it checks what a successful parse promises the caller.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmdk.h"

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void check_string(const char *s, size_t cap)
{
	check(memchr(s, '\0', cap) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ag_vmdk_desc *d;
	struct ag_error err = { 0 };
	int rc;

	if (d == NULL)
		d = malloc(sizeof(*d));
	rc = ag_vmdk_parse((const char *)data, size, d, &err);
	check_string(err.msg, sizeof(err.msg));
	if (rc != 0) {
		check(err.code == rc && rc > AG_VMDK_OK && rc <= AG_VMDK_E_IO);
		return 0;
	}
	check(d->n_extents >= 1 && d->n_extents <= AG_VMDK_MAX_EXTENTS);
	check(d->n_ddb <= AG_VMDK_MAX_DDB);
	check(d->version >= 1 && d->version <= 3);
	check((d->parent_hint[0] != '\0') == (d->parent_cid != AG_VMDK_NO_PARENT));
	check_string(d->parent_hint, sizeof(d->parent_hint));
	check_string(d->change_track_path, sizeof(d->change_track_path));
	check_string(d->adapter_type, sizeof(d->adapter_type));
	for (size_t i = 0; i < d->n_extents; i++) {
		const struct ag_vmdk_extent *e = &d->extents[i];

		check(e->sectors >= 1 && e->sectors <= AG_VMDK_SECTORS_MAX);
		check_string(e->file, sizeof(e->file));
		check((e->type == AG_VMDK_EXT_ZERO) == (e->file[0] == '\0'));
		/* A name may hold '"' (it runs to the line's last quote), never a line break. */
		check(strpbrk(e->file, "\r\n") == NULL);
	}
	check(ag_vmdk_size_bytes(d) / 512 >= d->extents[0].sectors);
	check(ag_vmdk_format_name(ag_vmdk_format_of(d))[0] != 'u');
	return 0;
}
