/*
 * Source and target rules of DESIGN.md "Agent rules": which files the agent may
 * clone from, which devices it may write to, and where RDM pointer files go.
 * Everything given here comes from a request or from a file on a datastore and
 * is hostile until these functions say otherwise.
 *
 * Source: "[datastore] dir/disk.vmdk" or "<vmfs_root>/volumes/<ds>/dir/disk.vmdk".
 *   No '.' or '..' components. Resolved with realpath(), it must stay under
 *   <vmfs_root>/volumes/ (a datastore name is a symlink to its UUID folder:
 *   following it, or any symlink that stays inside volumes/, is fine; leaving
 *   volumes/ through any symlink is PATH_DENIED), be a regular file named
 *   *.vmdk, no larger than a descriptor can be, and not an extent file
 *   (-flat, -delta, -sesparse, -rdm, -rdmp, -ctk .vmdk); otherwise PATH_DENIED.
 * Target: "<vmfs_root>/devices/disks/<id>" or "<id>", id matching
 *   ^(naa|eui|t10)\.[0-9A-Za-z._-]+$ (so no ":N" partition), at most 255 bytes
 *   (otherwise TARGET_UNSAFE), present (otherwise TARGET_NOT_FOUND). Further
 *   checks (not backing a datastore, not in use, big enough) need esxcli: the
 *   caller passes them as an ag_target_check_fn, run after these rules.
 */
#ifndef XCLONE_AGENT_PATH_POLICY_H
#define XCLONE_AGENT_PATH_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "ag_error.h"

#define AG_PATH_MAX 4096            /* longest path, NUL included */
#define AG_DATASTORE_NAME_MAX 255   /* bytes, without NUL */
#define AG_DEVICE_ID_MAX 255        /* bytes, without NUL */
#define AG_TASK_ID_MAX 64           /* bytes, without NUL */
#define AG_DESCRIPTOR_MAX 65536     /* largest VMDK descriptor file */
#define AG_POINTER_DIR ".xclone"    /* per-datastore folder of RDM pointer files */

/*
 * Mirrors the protocol's error codes (protocol/PROTOCOL.md section 6); the
 * dispatcher maps them one to one.
 */
enum ag_path_code {
	AG_PATH_OK = 0,
	AG_PATH_BAD_REQUEST,        /* malformed input: empty, too long, control bytes, bad UTF-8, syntax */
	AG_PATH_DENIED,             /* source outside volumes/, '.'/'..', symlink escape, or not a
				     * regular .vmdk descriptor file (extent, folder, too large) */
	AG_PATH_SOURCE_NOT_FOUND,
	AG_PATH_SOURCE_UNSUPPORTED, /* not produced by these rules: for descriptor-content failures
				     * found by callers (see vmdk.h) */
	AG_PATH_TARGET_NOT_FOUND,
	AG_PATH_TARGET_UNSAFE,      /* not a whole-disk naa/eui/t10 device path (partition, other
				     * prefix, not a device), or refused by an ag_target_check_fn */
	AG_PATH_INTERNAL,           /* unexpected system error (message says which) */
};

struct ag_source {
	char path[AG_PATH_MAX];                          /* canonical, no symlinks */
	char datastore[AG_DATASTORE_NAME_MAX + 1];       /* name (symlink) of the datastore, or its UUID */
	char datastore_uuid[AG_DATASTORE_NAME_MAX + 1];  /* the folder under volumes/ */
};

struct ag_target {
	char id[AG_DEVICE_ID_MAX + 1];  /* naa.* / eui.* / t10.* */
	char path[AG_PATH_MAX];         /* <vmfs_root>/devices/disks/<id> */
};

/* Hook for the target checks that need esxcli; returns 0 or an ag_path_code. */
typedef int (*ag_target_check_fn)(void *ctx, const struct ag_target *target, struct ag_error *err);

/* Resolves a source as given in a request (either form above). */
int ag_source_resolve(const char *vmfs_root, const char *input, size_t len, struct ag_source *out,
		      struct ag_error *err);

/*
 * Same rules for an absolute path (a parent descriptor named by
 * parentFileNameHint): it must lie under <vmfs_root>/volumes/ or under that
 * folder's canonical form.
 */
int ag_source_resolve_path(const char *vmfs_root, const char *path, size_t len,
			   struct ag_source *out, struct ag_error *err);

/* Resolves a target; check (may be NULL) runs last, with ctx. */
int ag_target_resolve(const char *vmfs_root, const char *input, size_t len,
		      ag_target_check_fn check, void *ctx, struct ag_target *out,
		      struct ag_error *err);

/* <vmfs_root>/volumes/<ds_uuid>/.xclone, the folder of a datastore's pointer files. */
int ag_pointer_dir(const char *vmfs_root, const char *ds_uuid, char *buf, size_t cap,
		   struct ag_error *err);

/* <vmfs_root>/volumes/<ds_uuid>/.xclone/<task_id>.vmdk */
int ag_pointer_path(const char *vmfs_root, const char *ds_uuid, const char *task_id, char *buf,
		    size_t cap, struct ag_error *err);

/* ^(naa|eui|t10)\.[0-9A-Za-z._-]+$, at most AG_DEVICE_ID_MAX bytes. */
bool ag_device_id_valid(const char *s, size_t len);

/*
 * Task ids (also file names of pointer files and state records):
 * ^[A-Za-z0-9][A-Za-z0-9_-]*$, at most AG_TASK_ID_MAX bytes.
 */
bool ag_task_id_valid(const char *s, size_t len);

/* 1..255 bytes of UTF-8, no control characters, no '/', not "." or "..". */
bool ag_datastore_name_valid(const char *s, size_t len);

/* Stable name of a code, e.g. "PATH_DENIED". */
const char *ag_path_code_name(int code);

#endif
