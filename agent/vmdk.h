/*
 * VMDK descriptor files: a strict one-pass parser and snapshot-chain resolution.
 * Descriptors live on datastores and are hostile input: every line must be
 * recognised, every value is bounded and checked, and each way a descriptor
 * can be wrong has its own message naming the line.
 *
 * Grammar accepted (see agent/README.md for sources):
 *   blank lines and '#' comments;
 *   header `key=value` (blanks around '=' allowed): version (1..3), encoding
 *     ("UTF-8" only), CID and parentCID (1-8 hex digits), isNativeSnapshot
 *     ("yes"/"no"), createType (enum ag_vmdk_create_type: vmfs,
 *     vmfsPreallocated, vmfsEagerZeroedThick, vmfsSparse, seSparse,
 *     vmfsRawDeviceMap, vmfsPassthroughRawDeviceMap, vmfsRaw, monolithicFlat,
 *     monolithicSparse, twoGbMaxExtentFlat, twoGbMaxExtentSparse; each with
 *     the extent types it may use), parentFileNameHint,
 *     changeTrackPath; encryption.* keys are refused (encrypted disks);
 *   extent lines `RW|RDONLY|NOACCESS <sectors> <type> "<file>" [offset]`
 *     (ZERO extents have no file), at most 64;
 *   disk database `ddb.<name> = "<value>"`, at most 256 entries; the ones
 *     xclone uses are decoded, others are checked for form only.
 * Quoted values end at the LAST '"' of the line: the format has no escape and
 * vSphere names may hold '"', so only "up to the last quote" keeps such names
 * whole; after it only an extent's offset may follow. Any key given twice is an
 * error.
 */
#ifndef XCLONE_AGENT_VMDK_H
#define XCLONE_AGENT_VMDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ag_error.h"

#define AG_VMDK_MAX_BYTES 65536          /* largest descriptor accepted */
#define AG_VMDK_MAX_EXTENTS 64
#define AG_VMDK_MAX_DDB 256
#define AG_VMDK_CHAIN_MAX 32             /* descriptors in a chain, top included */
#define AG_VMDK_NAME_MAX 1024            /* file names and hints, NUL included */
#define AG_VMDK_SECTORS_MAX (UINT64_C(1) << 40)  /* per extent: 512 TiB */
#define AG_VMDK_NO_PARENT UINT32_C(0xffffffff)

enum ag_vmdk_code {
	AG_VMDK_OK = 0,
	AG_VMDK_E_SYNTAX,      /* a line or value does not parse */
	AG_VMDK_E_KEY,         /* unknown key */
	AG_VMDK_E_DUP,         /* key given twice */
	AG_VMDK_E_MISSING,     /* a required key or the extents are missing */
	AG_VMDK_E_UNSUPPORTED, /* well-formed, but not something xclone can clone */
	AG_VMDK_E_LIMIT,       /* too large, too many extents or entries, chain too deep */
	AG_VMDK_E_CHAIN,       /* parent missing, CID mismatch, loop, inconsistent parent fields */
	AG_VMDK_E_NOT_FOUND,   /* the descriptor given does not exist */
	AG_VMDK_E_DENIED,      /* a descriptor of the chain fails the source path policy */
	AG_VMDK_E_IO,          /* cannot read a descriptor */
};

enum ag_vmdk_access { AG_VMDK_RW, AG_VMDK_RDONLY, AG_VMDK_NOACCESS };

enum ag_vmdk_extent_type {
	AG_VMDK_EXT_FLAT, AG_VMDK_EXT_SPARSE, AG_VMDK_EXT_VMFS, AG_VMDK_EXT_VMFSSPARSE,
	AG_VMDK_EXT_SESPARSE, AG_VMDK_EXT_VMFSRDM, AG_VMDK_EXT_VMFSRAW, AG_VMDK_EXT_ZERO,
};

enum ag_vmdk_create_type {
	AG_VMDK_CT_VMFS, AG_VMDK_CT_VMFS_PREALLOCATED,
	AG_VMDK_CT_VMFS_EAGER_ZEROED_THICK, AG_VMDK_CT_VMFS_SPARSE, AG_VMDK_CT_SE_SPARSE,
	AG_VMDK_CT_VMFS_RDM, AG_VMDK_CT_VMFS_RDMP, AG_VMDK_CT_VMFS_RAW,
	AG_VMDK_CT_MONOLITHIC_FLAT, AG_VMDK_CT_MONOLITHIC_SPARSE,
	AG_VMDK_CT_2GB_FLAT, AG_VMDK_CT_2GB_SPARSE,
};

/* What a disk is, as preflight reports it. */
enum ag_vmdk_format { AG_VMDK_THIN, AG_VMDK_THICK, AG_VMDK_RDM, AG_VMDK_RDMP, AG_VMDK_SPARSE };

struct ag_vmdk_extent {
	enum ag_vmdk_access access;
	uint64_t sectors;
	enum ag_vmdk_extent_type type;
	char file[AG_VMDK_NAME_MAX]; /* "" for ZERO extents */
	bool has_offset;
	uint64_t offset;
};

struct ag_vmdk_desc {
	unsigned version;
	uint32_t cid, parent_cid;
	enum ag_vmdk_create_type create_type;
	bool native_snapshot;
	char parent_hint[AG_VMDK_NAME_MAX];       /* "" when the disk has no parent */
	char change_track_path[AG_VMDK_NAME_MAX]; /* "" when absent */
	size_t n_extents;
	struct ag_vmdk_extent extents[AG_VMDK_MAX_EXTENTS];
	/* Disk database entries xclone reads ("" / 0 / -1 when absent). */
	char adapter_type[32];
	char uuid[64];
	char long_content_id[64];
	unsigned geometry_cylinders, geometry_heads, geometry_sectors;
	unsigned virtual_hw_version;
	int thin_provisioned; /* -1 absent, 0 or 1 */
	size_t n_ddb;         /* all ddb entries, decoded or not */
};

struct ag_vmdk_chain {
	size_t depth;                         /* descriptors, top first, base last */
	char *paths[AG_VMDK_CHAIN_MAX];       /* canonical paths (owned) */
	enum ag_vmdk_format base_format;
	enum ag_vmdk_create_type base_create_type;
	uint64_t size_bytes;                  /* sum of the top's extents x 512 */
	bool sparse_link;                     /* some link is vmfsSparse/seSparse (or hosted sparse) */
};

/* Parses descriptor text (at most AG_VMDK_MAX_BYTES). desc is fully overwritten. */
int ag_vmdk_parse(const char *text, size_t len, struct ag_vmdk_desc *desc, struct ag_error *err);

/* Sum of the extents' sectors x 512, in bytes. */
uint64_t ag_vmdk_size_bytes(const struct ag_vmdk_desc *desc);

enum ag_vmdk_format ag_vmdk_format_of(const struct ag_vmdk_desc *desc);

/*
 * Follows parentFileNameHint from the descriptor at path (relative to the
 * child's folder, or absolute under <vmfs_root>/volumes/) through at most
 * AG_VMDK_CHAIN_MAX descriptors. Every file must pass the source path policy;
 * each parent's CID must equal its child's parentCID; a loop is an error.
 * On success the caller frees chain with ag_vmdk_chain_free().
 */
int ag_vmdk_chain_resolve(const char *vmfs_root, const char *path, struct ag_vmdk_chain *chain,
			  struct ag_error *err);

void ag_vmdk_chain_free(struct ag_vmdk_chain *chain);

const char *ag_vmdk_format_name(enum ag_vmdk_format format);       /* "thin", "rdmp", ... */
const char *ag_vmdk_create_type_name(enum ag_vmdk_create_type ct); /* "vmfsSparse", ... */
const char *ag_vmdk_code_name(int code);                            /* "E_SYNTAX", ... */

#endif
