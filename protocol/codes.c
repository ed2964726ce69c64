/* The error code table: name on the wire, retryable, and when it is used. */
#include <string.h>

#include "xp_codes.h"

struct code_row {
	const char *name;
	bool retryable;
	const char *when;
};

static const struct code_row codes[XP_CODE_COUNT] = {
	[XP_OK] = { "OK", false, "Not an error; never sent in an error object." },
	[XP_BAD_REQUEST] = { "BAD_REQUEST", false,
		"The line breaks this document: framing, JSON, envelope, or an argument's "
		"type, length or syntax; the message names the field." },
	[XP_UNKNOWN_OP] = { "UNKNOWN_OP", false, "The op is not one of the operations of protocol 1." },
	[XP_UNSUPPORTED_VERSION] = { "UNSUPPORTED_VERSION", false,
		"The envelope's xclone version is an integer other than 1." },
	[XP_DENIED] = { "DENIED", false,
		"The op exists but is not permitted for this caller (read-only mode, op allowlist)." },
	[XP_PATH_DENIED] = { "PATH_DENIED", false,
		"The source resolves outside /vmfs/volumes or is not a regular .vmdk descriptor file." },
	[XP_SOURCE_NOT_FOUND] = { "SOURCE_NOT_FOUND", false,
		"The source datastore or descriptor file does not exist." },
	[XP_SOURCE_UNSUPPORTED] = { "SOURCE_UNSUPPORTED", false,
		"The source disk cannot be cloned: unreadable descriptor, missing chain member, "
		"or a format vmkfstools cannot copy from." },
	[XP_TARGET_NOT_FOUND] = { "TARGET_NOT_FOUND", false,
		"The target device is not present on the host (map it and wait for it first)." },
	[XP_TARGET_UNSAFE] = { "TARGET_UNSAFE", false,
		"The target is not a whole disk /vmfs/devices/disks/<naa|eui|t10 id>, backs a VMFS "
		"datastore, or is in use." },
	[XP_TARGET_TOO_SMALL] = { "TARGET_TOO_SMALL", false,
		"The target device is smaller than the source disk's capacity." },
	[XP_DEVICE_NOT_FOUND] = { "DEVICE_NOT_FOUND", false,
		"device.get or device.detach name a device the host does not know." },
	[XP_ADAPTER_NOT_FOUND] = { "ADAPTER_NOT_FOUND", false,
		"storage.rescan names an adapter the host does not have." },
	[XP_BUSY] = { "BUSY", true,
		"The host's bound of concurrent clones is reached, or the resource is locked; retry later." },
	[XP_TASK_NOT_FOUND] = { "TASK_NOT_FOUND", false, "No task with this id exists (or it was cleaned)." },
	[XP_TASK_ACTIVE] = { "TASK_ACTIVE", false,
		"task.clean of a task that is queued or running; cancel it or wait first." },
	[XP_CLONE_FAILED] = { "CLONE_FAILED", false,
		"The clone itself failed (vmkfstools exited non-zero); appears as a task's error_code." },
	[XP_HOST_COMMAND_FAILED] = { "HOST_COMMAND_FAILED", true,
		"esxcli, vmkfstools or vsish could not run, failed, or printed output that does not parse." },
	[XP_TIMEOUT] = { "TIMEOUT", true,
		"A deadline passed: device.wait's timeout_ms, or a host command's own deadline." },
	[XP_NO_SPACE] = { "NO_SPACE", false,
		"The agent's state folder or the datastore holding the RDM pointer file is full." },
	[XP_INTERNAL] = { "INTERNAL", false,
		"A bug or resource exhaustion in the agent; the message says what failed." },
};

static const struct code_row *code_row(enum xp_code code)
{
	if ((unsigned)code >= XP_CODE_COUNT)
		return &codes[XP_INTERNAL];
	return &codes[code];
}

const char *xp_code_name(enum xp_code code)
{
	return code_row(code)->name;
}

int xp_code_from_name(const char *name, enum xp_code *out)
{
	for (unsigned i = 0; i < XP_CODE_COUNT && name != NULL; i++) {
		if (strcmp(codes[i].name, name) == 0) {
			*out = (enum xp_code)i;
			return 0;
		}
	}
	return -1;
}

bool xp_code_retryable(enum xp_code code)
{
	return code_row(code)->retryable;
}

const char *xp_code_when(enum xp_code code)
{
	return code_row(code)->when;
}
