/*
 * Source and target rules: lexical checks first (cheap, and they keep '..' and
 * foreign prefixes from ever reaching the filesystem), then realpath() and
 * stat() on what is left.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ag_text.h"
#include "path_policy.h"

#if PATH_MAX > AG_PATH_MAX
#error "realpath() results must fit AG_PATH_MAX"
#endif

/* Files vmkfstools names after a descriptor; cloning one of them is a mistake. */
static const char *const extent_suffixes[] = {
	"-flat.vmdk", "-delta.vmdk", "-sesparse.vmdk", "-rdm.vmdk", "-rdmp.vmdk", "-ctk.vmdk",
};

static const char *const device_prefixes[] = { "naa.", "eui.", "t10." };

/* snprintf that reports truncation: 0 when the whole text fit, -1 otherwise. */
static int build(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int build(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static int too_long(struct ag_error *err, const char *what)
{
	return ag_error_set(err, AG_PATH_BAD_REQUEST, "%s path is longer than %d bytes", what,
			    AG_PATH_MAX - 1);
}

/* Bytes every path input must satisfy before it is looked at. */
static int check_input_bytes(const char *s, size_t len, const char *what, struct ag_error *err)
{
	if (len == 0)
		return ag_error_set(err, AG_PATH_BAD_REQUEST, "%s is empty", what);
	if (len >= AG_PATH_MAX)
		return too_long(err, what);
	if (ag_text_has_ctl(s, len))
		return ag_error_set(err, AG_PATH_BAD_REQUEST, "%s contains control characters", what);
	if (!ag_text_utf8_valid(s, len))
		return ag_error_set(err, AG_PATH_BAD_REQUEST, "%s is not valid UTF-8", what);
	return 0;
}

bool ag_datastore_name_valid(const char *s, size_t len)
{
	if (len == 0 || len > AG_DATASTORE_NAME_MAX)
		return false;
	if (ag_text_eq(s, len, ".") || ag_text_eq(s, len, ".."))
		return false;
	return memchr(s, '/', len) == NULL && !ag_text_has_ctl(s, len) &&
	       ag_text_utf8_valid(s, len);
}

static bool id_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '.' || c == '_' || c == '-';
}

bool ag_device_id_valid(const char *s, size_t len)
{
	bool prefix = false;

	if (len > AG_DEVICE_ID_MAX || len < 5)
		return false;
	for (size_t i = 0; i < sizeof(device_prefixes) / sizeof(device_prefixes[0]); i++)
		prefix = prefix || memcmp(s, device_prefixes[i], 4) == 0;
	if (!prefix)
		return false;
	for (size_t i = 4; i < len; i++)
		if (!id_char(s[i]))
			return false;
	return true;
}

bool ag_task_id_valid(const char *s, size_t len)
{
	if (len == 0 || len > AG_TASK_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

		if (!alnum && (i == 0 || (c != '_' && c != '-')))
			return false;
	}
	return true;
}

static int canonical_volumes(const char *vmfs_root, char *out, struct ag_error *err)
{
	char lex[AG_PATH_MAX];

	if (build(lex, sizeof(lex), "%s/volumes", vmfs_root) != 0)
		return too_long(err, "volumes");
	if (realpath(lex, out) == NULL)
		return ag_error_set(err, AG_PATH_INTERNAL, "cannot resolve the volumes folder: %s",
				    strerror(errno));
	return 0;
}

/* Maps a realpath()/stat() errno; not_found is the code for a missing file. */
static int lookup_error(int e, const char *what, int not_found, struct ag_error *err)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return ag_error_set(err, not_found, "%s does not exist", what);
	case ELOOP:
		return ag_error_set(err, AG_PATH_DENIED, "%s path has a symlink loop", what);
	case EACCES:
		return ag_error_set(err, AG_PATH_DENIED, "%s path is not accessible", what);
	case ENAMETOOLONG:
		return too_long(err, what);
	default:
		return ag_error_set(err, AG_PATH_INTERNAL, "cannot resolve %s path: %s", what,
				    strerror(e));
	}
}

/* True when resolved (canonical) names cv/uuid exactly. */
static bool resolves_to(const char *path, const char *cv, const char *uuid)
{
	char r[AG_PATH_MAX];
	size_t n = strlen(cv);

	return realpath(path, r) != NULL && strncmp(r, cv, n) == 0 && r[n] == '/' &&
	       strcmp(r + n + 1, uuid) == 0;
}

/* Smallest name under cv that is a symlink to cv/uuid, or the uuid itself. */
static void datastore_name_lookup(const char *cv, const char *uuid, char *name)
{
	DIR *d = opendir(cv);
	struct dirent *e;
	char path[AG_PATH_MAX];
	struct stat st;

	(void)ag_text_copy(name, AG_DATASTORE_NAME_MAX + 1, uuid, strlen(uuid));
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (!ag_datastore_name_valid(e->d_name, n) || strcmp(e->d_name, uuid) == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode))
			continue;
		if (build(path, sizeof(path), "%s/%s", cv, e->d_name) != 0 || !resolves_to(path, cv, uuid))
			continue;
		if (strcmp(name, uuid) == 0 || strcmp(e->d_name, name) < 0)
			(void)ag_text_copy(name, AG_DATASTORE_NAME_MAX + 1, e->d_name, n);
	}
	closedir(d);
}

/* The datastore name: the one the caller used when it is a name leading to uuid, else a lookup. */
static void datastore_name(const char *cv, const char *uuid, const char *given, size_t glen,
			   char *name)
{
	char path[AG_PATH_MAX];

	if (glen > 0 && !ag_text_eq(given, glen, uuid) && ag_datastore_name_valid(given, glen) &&
	    build(path, sizeof(path), "%s/%.*s", cv, (int)glen, given) == 0 &&
	    resolves_to(path, cv, uuid)) {
		(void)ag_text_copy(name, AG_DATASTORE_NAME_MAX + 1, given, glen);
		return;
	}
	datastore_name_lookup(cv, uuid, name);
}

/* Checks on the canonical file: a regular *.vmdk descriptor, not an extent. */
static int check_descriptor_file(const char *resolved, struct ag_error *err)
{
	const char *base = strrchr(resolved, '/') + 1;
	size_t blen = strlen(base);
	char q[128];
	struct stat st;

	if (stat(resolved, &st) != 0)
		return lookup_error(errno, "source", AG_PATH_SOURCE_NOT_FOUND, err);
	if (!S_ISREG(st.st_mode))
		return ag_error_set(err, AG_PATH_DENIED, "source is not a regular file");
	if (!ag_text_ends_with(base, blen, ".vmdk") || blen == 5)
		return ag_error_set(err, AG_PATH_DENIED, "source '%s' is not a .vmdk file",
				    ag_text_quote(q, sizeof(q), base, blen));
	for (size_t i = 0; i < sizeof(extent_suffixes) / sizeof(extent_suffixes[0]); i++)
		if (ag_text_ends_with(base, blen, extent_suffixes[i]))
			return ag_error_set(err, AG_PATH_DENIED,
					    "source '%s' is an extent file (%s): give its descriptor",
					    ag_text_quote(q, sizeof(q), base, blen),
					    extent_suffixes[i]);
	if (st.st_size > AG_DESCRIPTOR_MAX)
		return ag_error_set(err, AG_PATH_DENIED,
				    "source is %lld bytes, too large for a VMDK descriptor",
				    (long long)st.st_size);
	return 0;
}

/*
 * Resolves a lexical path whose part after volumes/ is rest; given is the
 * datastore component the caller used (a name or a UUID).
 */
static int resolve_lexical(const char *cv, const char *lex, const char *rest, size_t rlen,
			   struct ag_source *out, struct ag_error *err)
{
	char resolved[AG_PATH_MAX];
	const char *uuid, *slash, *given_end;
	size_t cvlen = strlen(cv), ulen;
	int rc;

	if (ag_text_path_has_dot_dir(rest, rlen))
		return ag_error_set(err, AG_PATH_DENIED,
				    "'.' and '..' components are not allowed in a source path");
	if (realpath(lex, resolved) == NULL)
		return lookup_error(errno, "source", AG_PATH_SOURCE_NOT_FOUND, err);
	if (strcmp(resolved, cv) == 0)
		return ag_error_set(err, AG_PATH_DENIED, "source is the volumes folder");
	if (strncmp(resolved, cv, cvlen) != 0 || resolved[cvlen] != '/')
		return ag_error_set(err, AG_PATH_DENIED, "source resolves outside the volumes folder");
	uuid = resolved + cvlen + 1;
	slash = strchr(uuid, '/');
	if (slash == NULL)
		return ag_error_set(err, AG_PATH_DENIED, "source is not a file inside a datastore");
	rc = check_descriptor_file(resolved, err);
	if (rc != 0)
		return rc;
	ulen = (size_t)(slash - uuid);
	if (!ag_datastore_name_valid(uuid, ulen))
		return ag_error_set(err, AG_PATH_DENIED, "source datastore folder name is not usable");
	(void)ag_text_copy(out->path, sizeof(out->path), resolved, strlen(resolved));
	(void)ag_text_copy(out->datastore_uuid, sizeof(out->datastore_uuid), uuid, ulen);
	given_end = memchr(rest, '/', rlen);
	datastore_name(cv, out->datastore_uuid, rest, given_end ? (size_t)(given_end - rest) : rlen,
		       out->datastore);
	return 0;
}

/* Length of prefix when (s, len) starts with it, 0 otherwise. */
static size_t starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return (len >= n && memcmp(s, prefix, n) == 0) ? n : 0;
}

int ag_source_resolve_path(const char *vmfs_root, const char *path, size_t len,
			   struct ag_source *out, struct ag_error *err)
{
	char cv[AG_PATH_MAX], prefix[AG_PATH_MAX], lex[AG_PATH_MAX];
	size_t skip;
	int rc;

	rc = check_input_bytes(path, len, "source", err);
	if (rc != 0)
		return rc;
	if (path[0] != '/')
		return ag_error_set(err, AG_PATH_BAD_REQUEST, "source path is not absolute");
	rc = canonical_volumes(vmfs_root, cv, err);
	if (rc != 0)
		return rc;
	if (build(prefix, sizeof(prefix), "%s/volumes/", vmfs_root) != 0)
		return too_long(err, "source");
	skip = starts_with(path, len, prefix);
	if (skip == 0 && build(prefix, sizeof(prefix), "%s/", cv) == 0)
		skip = starts_with(path, len, prefix);
	if (skip == 0)
		return ag_error_set(err, AG_PATH_DENIED, "source is not under %s/volumes/", vmfs_root);
	if (ag_text_copy(lex, sizeof(lex), path, len) != 0)
		return too_long(err, "source");
	return resolve_lexical(cv, lex, path + skip, len - skip, out, err);
}

int ag_source_resolve(const char *vmfs_root, const char *input, size_t len, struct ag_source *out,
		      struct ag_error *err)
{
	char cv[AG_PATH_MAX], lex[AG_PATH_MAX], q[128];
	const char *close, *rel;
	size_t dslen, rlen;
	int rc;

	rc = check_input_bytes(input, len, "source", err);
	if (rc != 0)
		return rc;
	if (input[0] == '/')
		return ag_source_resolve_path(vmfs_root, input, len, out, err);
	if (input[0] != '[')
		return ag_error_set(err, AG_PATH_BAD_REQUEST,
				    "source must be '[datastore] dir/disk.vmdk' or a path under %s/volumes/",
				    vmfs_root);
	close = memmem(input, len, "] ", 2);
	if (close == NULL)
		return ag_error_set(err, AG_PATH_BAD_REQUEST,
				    "source '[datastore] path' has no '] ' after the datastore");
	dslen = (size_t)(close - input - 1);
	if (!ag_datastore_name_valid(input + 1, dslen))
		return ag_error_set(err, AG_PATH_BAD_REQUEST, "source datastore name '%s' is not valid",
				    ag_text_quote(q, sizeof(q), input + 1, dslen));
	rel = close + 2;
	rlen = len - (size_t)(rel - input);
	if (rlen == 0 || rel[0] == '/')
		return ag_error_set(err, AG_PATH_BAD_REQUEST,
				    "source needs a relative path after '[datastore] '");
	rc = canonical_volumes(vmfs_root, cv, err);
	if (rc != 0)
		return rc;
	if (build(lex, sizeof(lex), "%s/volumes/%.*s/%.*s", vmfs_root, (int)dslen, input + 1,
		  (int)rlen, rel) != 0)
		return too_long(err, "source");
	/* rest = "<ds>/<rel>": the part after volumes/, as in the absolute form. */
	return resolve_lexical(cv, lex, lex + strlen(lex) - rlen - dslen - 1, rlen + dslen + 1, out,
			       err);
}

int ag_target_resolve(const char *vmfs_root, const char *input, size_t len,
		      ag_target_check_fn check, void *ctx, struct ag_target *out,
		      struct ag_error *err)
{
	char prefix[AG_PATH_MAX], q[128];
	const char *id = input;
	size_t idlen = len, skip;
	struct stat st;
	int rc;

	rc = check_input_bytes(input, len, "target", err);
	if (rc != 0)
		return rc;
	if (build(prefix, sizeof(prefix), "%s/devices/disks/", vmfs_root) != 0)
		return too_long(err, "target");
	if (input[0] == '/') {
		skip = starts_with(input, len, prefix);
		if (skip == 0)
			return ag_error_set(err, AG_PATH_TARGET_UNSAFE,
					    "target must be %s<id> or a bare device id", prefix);
		id += skip;
		idlen -= skip;
	}
	if (memchr(id, ':', idlen) != NULL)
		return ag_error_set(err, AG_PATH_TARGET_UNSAFE,
				    "target '%s' names a partition: give the whole device",
				    ag_text_quote(q, sizeof(q), id, idlen));
	if (!ag_device_id_valid(id, idlen))
		return ag_error_set(err, AG_PATH_TARGET_UNSAFE,
				    "target '%s' is not a whole-disk device id (naa.*, eui.* or t10.*)",
				    ag_text_quote(q, sizeof(q), id, idlen));
	memcpy(out->id, id, idlen);
	out->id[idlen] = '\0';
	if (build(out->path, sizeof(out->path), "%s%s", prefix, out->id) != 0)
		return too_long(err, "target");
	if (stat(out->path, &st) != 0)
		return lookup_error(errno, "target", AG_PATH_TARGET_NOT_FOUND, err);
	if (S_ISDIR(st.st_mode))
		return ag_error_set(err, AG_PATH_TARGET_UNSAFE, "target %s is not a device", out->id);
	return check ? check(ctx, out, err) : 0;
}

int ag_pointer_dir(const char *vmfs_root, const char *ds_uuid, char *buf, size_t cap,
		   struct ag_error *err)
{
	if (!ag_datastore_name_valid(ds_uuid, strlen(ds_uuid)))
		return ag_error_set(err, AG_PATH_BAD_REQUEST, "datastore folder name is not valid");
	if (build(buf, cap, "%s/volumes/%s/%s", vmfs_root, ds_uuid, AG_POINTER_DIR) != 0)
		return too_long(err, "pointer");
	return 0;
}

int ag_pointer_path(const char *vmfs_root, const char *ds_uuid, const char *task_id, char *buf,
		    size_t cap, struct ag_error *err)
{
	char dir[AG_PATH_MAX];
	int rc;

	if (!ag_task_id_valid(task_id, strlen(task_id)))
		return ag_error_set(err, AG_PATH_BAD_REQUEST, "task id is not valid");
	rc = ag_pointer_dir(vmfs_root, ds_uuid, dir, sizeof(dir), err);
	if (rc != 0)
		return rc;
	if (build(buf, cap, "%s/%s.vmdk", dir, task_id) != 0)
		return too_long(err, "pointer");
	return 0;
}

const char *ag_path_code_name(int code)
{
	static const char *const names[] = {
		[AG_PATH_OK] = "OK",
		[AG_PATH_BAD_REQUEST] = "BAD_REQUEST",
		[AG_PATH_DENIED] = "PATH_DENIED",
		[AG_PATH_SOURCE_NOT_FOUND] = "SOURCE_NOT_FOUND",
		[AG_PATH_SOURCE_UNSUPPORTED] = "SOURCE_UNSUPPORTED",
		[AG_PATH_TARGET_NOT_FOUND] = "TARGET_NOT_FOUND",
		[AG_PATH_TARGET_UNSAFE] = "TARGET_UNSAFE",
		[AG_PATH_INTERNAL] = "INTERNAL",
	};

	if (code >= 0 && (size_t)code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "INTERNAL";
}
