/*
 * VMDK descriptor parser (one pass over the lines, explicit matches) and the
 * snapshot-chain walk built on it and on the source path policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ag_file.h"
#include "ag_text.h"
#include "path_policy.h"
#include "vmdk.h"

#define EXT(t) (1u << (t))
#define FLAT_FAMILY (EXT(AG_VMDK_EXT_VMFS) | EXT(AG_VMDK_EXT_FLAT) | EXT(AG_VMDK_EXT_ZERO))

static const struct {
	const char *name;
	enum ag_vmdk_create_type type;
	unsigned extents; /* extent types this createType may use */
} create_types[] = {
	{ "vmfs", AG_VMDK_CT_VMFS, FLAT_FAMILY },
	{ "vmfsPreallocated", AG_VMDK_CT_VMFS_PREALLOCATED, FLAT_FAMILY },
	{ "vmfsEagerZeroedThick", AG_VMDK_CT_VMFS_EAGER_ZEROED_THICK, FLAT_FAMILY },
	{ "vmfsSparse", AG_VMDK_CT_VMFS_SPARSE, EXT(AG_VMDK_EXT_VMFSSPARSE) },
	{ "seSparse", AG_VMDK_CT_SE_SPARSE, EXT(AG_VMDK_EXT_SESPARSE) },
	{ "vmfsRawDeviceMap", AG_VMDK_CT_VMFS_RDM, EXT(AG_VMDK_EXT_VMFSRDM) },
	{ "vmfsPassthroughRawDeviceMap", AG_VMDK_CT_VMFS_RDMP,
	  EXT(AG_VMDK_EXT_VMFSRDM) | EXT(AG_VMDK_EXT_VMFSRAW) },
	{ "vmfsRaw", AG_VMDK_CT_VMFS_RAW, EXT(AG_VMDK_EXT_VMFSRAW) },
	{ "monolithicFlat", AG_VMDK_CT_MONOLITHIC_FLAT, FLAT_FAMILY },
	{ "monolithicSparse", AG_VMDK_CT_MONOLITHIC_SPARSE, EXT(AG_VMDK_EXT_SPARSE) },
	{ "twoGbMaxExtentFlat", AG_VMDK_CT_2GB_FLAT, FLAT_FAMILY },
	{ "2GbMaxExtentFlat", AG_VMDK_CT_2GB_FLAT, FLAT_FAMILY },
	{ "twoGbMaxExtentSparse", AG_VMDK_CT_2GB_SPARSE, EXT(AG_VMDK_EXT_SPARSE) },
	{ "2GbMaxExtentSparse", AG_VMDK_CT_2GB_SPARSE, EXT(AG_VMDK_EXT_SPARSE) },
};

static const char *const extent_types[] = {
	[AG_VMDK_EXT_FLAT] = "FLAT", [AG_VMDK_EXT_SPARSE] = "SPARSE",
	[AG_VMDK_EXT_VMFS] = "VMFS", [AG_VMDK_EXT_VMFSSPARSE] = "VMFSSPARSE",
	[AG_VMDK_EXT_SESPARSE] = "SESPARSE", [AG_VMDK_EXT_VMFSRDM] = "VMFSRDM",
	[AG_VMDK_EXT_VMFSRAW] = "VMFSRAW", [AG_VMDK_EXT_ZERO] = "ZERO",
};

static const char *const access_modes[] = {
	[AG_VMDK_RW] = "RW", [AG_VMDK_RDONLY] = "RDONLY", [AG_VMDK_NOACCESS] = "NOACCESS",
};

enum header_key {
	H_VERSION, H_ENCODING, H_CID, H_PARENT_CID, H_NATIVE_SNAPSHOT, H_CREATE_TYPE,
	H_PARENT_HINT, H_CHANGE_TRACK, H_COUNT
};

static const char *const header_keys[H_COUNT] = {
	[H_VERSION] = "version", [H_ENCODING] = "encoding", [H_CID] = "CID",
	[H_PARENT_CID] = "parentCID", [H_NATIVE_SNAPSHOT] = "isNativeSnapshot",
	[H_CREATE_TYPE] = "createType", [H_PARENT_HINT] = "parentFileNameHint",
	[H_CHANGE_TRACK] = "changeTrackPath",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define DDB_KEY_MAX 128

struct parse_ctx {
	const char *text;
	struct ag_vmdk_desc *d;
	struct ag_error *err;
	int line;
	int header_line[H_COUNT]; /* line where each header key was seen, 0 = not yet */
	bool has_create_type;
	struct {
		size_t off, len;
	} ddb_keys[AG_VMDK_MAX_DDB];
};

/* Index of (s, n) in a table of names, -1 when absent. */
static int lookup(const char *const *names, size_t count, const char *s, size_t n)
{
	for (size_t i = 0; i < count; i++)
		if (names[i] != NULL && ag_text_eq(s, n, names[i]))
			return (int)i;
	return -1;
}

static int fail(struct parse_ctx *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parse_ctx *c, int code, const char *fmt, ...)
{
	char msg[AG_ERROR_MSG_MAX - 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->line > 0)
		return ag_error_set_line(c->err, code, c->line, "line %d: %s", c->line, msg);
	return ag_error_set(c->err, code, "%s", msg);
}

/* Text bytes a value or file name may hold. */
static int check_text(struct parse_ctx *c, const char *what, const char *s, size_t n)
{
	if (ag_text_has_ctl(s, n))
		return fail(c, AG_VMDK_E_SYNTAX, "%s holds control characters", what);
	if (!ag_text_utf8_valid(s, n))
		return fail(c, AG_VMDK_E_SYNTAX, "%s is not valid UTF-8", what);
	return 0;
}

/*
 * A quoted string starting at s[0] == '"': its inside goes to (*in, *inlen),
 * *used gets the bytes consumed including both quotes. The closing quote is the
 * LAST '"' of (s, n): the format has no escape, and vSphere names may hold '"'
 * (a VM called `VM "quoted"` gets files of that name), so the only reading that
 * keeps such names whole is "up to the last quote"; callers then require that
 * nothing but an optional number follows.
 */
static int quoted(struct parse_ctx *c, const char *what, const char *s, size_t n, const char **in,
		  size_t *inlen, size_t *used)
{
	const char *close = n > 1 ? memrchr(s + 1, '"', n - 1) : NULL;

	if (close == NULL)
		return fail(c, AG_VMDK_E_SYNTAX, "%s has no closing '\"'", what);
	*in = s + 1;
	*inlen = (size_t)(close - s - 1);
	*used = *inlen + 2;
	return check_text(c, what, *in, *inlen);
}

/* A key's value, quoted or bare, with nothing after it. */
static int value_text(struct parse_ctx *c, const char *key, const char *v, size_t n,
		      bool must_quote, const char **out, size_t *olen)
{
	size_t used;
	int rc;

	if (n > 0 && v[0] == '"') {
		rc = quoted(c, key, v, n, out, olen, &used);
		if (rc == 0 && used != n)
			rc = fail(c, AG_VMDK_E_SYNTAX,
				  "text after the closing quote of %s",
				  key);
		return rc;
	}
	if (must_quote)
		return fail(c, AG_VMDK_E_SYNTAX, "%s value must be in double quotes", key);
	if (n == 0)
		return fail(c, AG_VMDK_E_SYNTAX, "%s has an empty value", key);
	for (size_t i = 0; i < n; i++)
		if (v[i] == '"' || v[i] == ' ' || v[i] == '\t')
			return fail(c, AG_VMDK_E_SYNTAX, "%s has a malformed value", key);
	*out = v;
	*olen = n;
	return check_text(c, key, v, n);
}

static int store_string(struct parse_ctx *c, const char *key, char *dst, size_t cap, const char *s,
			size_t n)
{
	if (ag_text_copy(dst, cap, s, n) != 0)
		return fail(c, AG_VMDK_E_LIMIT, "%s is longer than %zu bytes", key, cap - 1);
	return 0;
}

static int store_cid(struct parse_ctx *c, const char *key, uint32_t *dst, const char *s, size_t n)
{
	if (ag_text_hex32(s, n, dst) != 0)
		return fail(c, AG_VMDK_E_SYNTAX, "%s must be 1 to 8 hexadecimal digits", key);
	return 0;
}

static int header_create_type(struct parse_ctx *c, const char *s, size_t n)
{
	char q[96];

	for (size_t i = 0; i < NELEM(create_types); i++) {
		if (ag_text_eq(s, n, create_types[i].name)) {
			c->d->create_type = create_types[i].type;
			c->has_create_type = true;
			return 0;
		}
	}
	return fail(c, AG_VMDK_E_UNSUPPORTED, "unsupported createType '%s'",
		    ag_text_quote(q, sizeof(q), s, n));
}

static int header_value(struct parse_ctx *c, enum header_key k, const char *s, size_t n)
{
	const char *name = header_keys[k];
	uint64_t v;

	switch (k) {
	case H_VERSION:
		if (ag_text_u64(s, n, 3, &v) != 0 || v == 0)
			return fail(c, AG_VMDK_E_UNSUPPORTED, "version must be 1, 2 or 3");
		c->d->version = (unsigned)v;
		return 0;
	case H_ENCODING:
		if (n != 5 || strncasecmp(s, "UTF-8", 5) != 0)
			return fail(c, AG_VMDK_E_UNSUPPORTED, "only UTF-8 descriptors are supported");
		return 0;
	case H_CID:
		return store_cid(c, name, &c->d->cid, s, n);
	case H_PARENT_CID:
		return store_cid(c, name, &c->d->parent_cid, s, n);
	case H_NATIVE_SNAPSHOT:
		if (!ag_text_eq(s, n, "yes") && !ag_text_eq(s, n, "no"))
			return fail(c, AG_VMDK_E_SYNTAX, "isNativeSnapshot must be \"yes\" or \"no\"");
		c->d->native_snapshot = ag_text_eq(s, n, "yes");
		return 0;
	case H_CREATE_TYPE:
		return header_create_type(c, s, n);
	case H_PARENT_HINT:
		if (n == 0)
			return fail(c, AG_VMDK_E_SYNTAX, "parentFileNameHint is empty");
		return store_string(c, name, c->d->parent_hint, sizeof(c->d->parent_hint), s, n);
	case H_CHANGE_TRACK:
		return store_string(c, name, c->d->change_track_path,
				    sizeof(c->d->change_track_path), s, n);
	case H_COUNT:
		break;
	}
	return fail(c, AG_VMDK_E_KEY, "unknown key");
}

static int ddb_uint(struct parse_ctx *c, const char *key, unsigned *dst, uint64_t max,
		    const char *s, size_t n)
{
	uint64_t v;

	if (ag_text_u64(s, n, max, &v) != 0)
		return fail(c, AG_VMDK_E_SYNTAX, "%s must be a whole number up to %llu", key,
			    (unsigned long long)max);
	*dst = (unsigned)v;
	return 0;
}

/* Decodes the disk database entries xclone uses; others are only checked for form. */
static int ddb_value(struct parse_ctx *c, const char *key, size_t klen, const char *s, size_t n)
{
	struct ag_vmdk_desc *d = c->d;
	char name[DDB_KEY_MAX + 1];

	(void)ag_text_copy(name, sizeof(name), key, klen);
	if (strcmp(name, "ddb.adapterType") == 0)
		return store_string(c, name, d->adapter_type, sizeof(d->adapter_type), s, n);
	if (strcmp(name, "ddb.uuid") == 0)
		return store_string(c, name, d->uuid, sizeof(d->uuid), s, n);
	if (strcmp(name, "ddb.longContentID") == 0)
		return store_string(c, name, d->long_content_id, sizeof(d->long_content_id), s, n);
	if (strcmp(name, "ddb.geometry.cylinders") == 0)
		return ddb_uint(c, name, &d->geometry_cylinders, UINT32_MAX, s, n);
	if (strcmp(name, "ddb.geometry.heads") == 0)
		return ddb_uint(c, name, &d->geometry_heads, 255, s, n);
	if (strcmp(name, "ddb.geometry.sectors") == 0)
		return ddb_uint(c, name, &d->geometry_sectors, 255, s, n);
	if (strcmp(name, "ddb.virtualHWVersion") == 0)
		return ddb_uint(c, name, &d->virtual_hw_version, 1000, s, n);
	if (strcmp(name, "ddb.thinProvisioned") == 0) {
		if (!ag_text_eq(s, n, "0") && !ag_text_eq(s, n, "1"))
			return fail(c, AG_VMDK_E_SYNTAX, "ddb.thinProvisioned must be \"0\" or \"1\"");
		d->thin_provisioned = s[0] == '1';
	}
	return 0;
}

static bool ddb_key_char(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       ch == '.' || ch == '_' || ch == '-';
}

static int ddb_entry(struct parse_ctx *c, const char *key, size_t klen, const char *v, size_t vlen)
{
	const char *s;
	size_t n, off = (size_t)(key - c->text);
	char q[96];
	int rc;

	if (klen > DDB_KEY_MAX)
		return fail(c, AG_VMDK_E_SYNTAX, "malformed disk database key");
	for (size_t i = 4; i < klen; i++)
		if (!ddb_key_char(key[i]))
			return fail(c, AG_VMDK_E_SYNTAX, "malformed disk database key '%s'",
				    ag_text_quote(q, sizeof(q), key, klen));
	for (size_t i = 0; i < c->d->n_ddb; i++)
		if (c->ddb_keys[i].len == klen && memcmp(c->text + c->ddb_keys[i].off, key, klen) == 0)
			return fail(c, AG_VMDK_E_DUP, "duplicate key '%s'",
				    ag_text_quote(q, sizeof(q), key, klen));
	if (c->d->n_ddb == AG_VMDK_MAX_DDB)
		return fail(c, AG_VMDK_E_LIMIT, "more than %d disk database entries",
			    AG_VMDK_MAX_DDB);
	c->ddb_keys[c->d->n_ddb].off = off;
	c->ddb_keys[c->d->n_ddb].len = klen;
	c->d->n_ddb++;
	(void)ag_text_copy(q, sizeof(q), key, klen < sizeof(q) ? klen : sizeof(q) - 1);
	rc = value_text(c, q, v, vlen, true, &s, &n);
	return rc != 0 ? rc : ddb_value(c, key, klen, s, n);
}

static int key_value_line(struct parse_ctx *c, const char *line, size_t len, const char *eq)
{
	const char *key = line, *v = eq + 1, *s;
	size_t klen = (size_t)(eq - line), vlen = len - klen - 1, n;
	char q[96];
	int k, rc;

	ag_text_trim(&key, &klen);
	ag_text_trim(&v, &vlen);
	if (klen > 4 && memcmp(key, "ddb.", 4) == 0)
		return ddb_entry(c, key, klen, v, vlen);
	if (klen > 11 && memcmp(key, "encryption.", 11) == 0)
		return fail(c, AG_VMDK_E_UNSUPPORTED, "encrypted virtual disks are not supported");
	k = lookup(header_keys, H_COUNT, key, klen);
	if (k < 0)
		return fail(c, AG_VMDK_E_KEY, "unknown key '%s'", ag_text_quote(q, sizeof(q), key, klen));
	if (c->header_line[k] != 0)
		return fail(c, AG_VMDK_E_DUP, "duplicate key '%s' (first on line %d)", header_keys[k],
			    c->header_line[k]);
	c->header_line[k] = c->line;
	rc = value_text(c, header_keys[k], v, vlen, false, &s, &n);
	return rc != 0 ? rc : header_value(c, (enum header_key)k, s, n);
}

/* Next blank-separated token of (*p, *n). */
static bool next_token(const char **p, size_t *n, const char **tok, size_t *tlen)
{
	size_t i = 0;

	ag_text_trim(p, n);
	while (i < *n && (*p)[i] != ' ' && (*p)[i] != '\t')
		i++;
	*tok = *p;
	*tlen = i;
	*p += i;
	*n -= i;
	return i > 0;
}

/* The part of an extent line after its type: "<file>" [offset], or nothing for ZERO. */
static int extent_file(struct parse_ctx *c, struct ag_vmdk_extent *e, const char *p, size_t n)
{
	const char *in, *tok;
	size_t inlen, used, tlen;
	int rc;

	ag_text_trim(&p, &n);
	if (e->type == AG_VMDK_EXT_ZERO)
		return n == 0 ? 0 : fail(c, AG_VMDK_E_SYNTAX, "a ZERO extent takes no file");
	if (n == 0 || p[0] != '"')
		return fail(c, AG_VMDK_E_SYNTAX, "extent file name must be in double quotes");
	rc = quoted(c, "extent file name", p, n, &in, &inlen, &used);
	if (rc != 0)
		return rc;
	if (inlen == 0)
		return fail(c, AG_VMDK_E_SYNTAX, "extent file name is empty");
	rc = store_string(c, "extent file name", e->file, sizeof(e->file), in, inlen);
	if (rc != 0)
		return rc;
	p += used;
	n -= used;
	if (n > 0 && p[0] != ' ' && p[0] != '\t')
		return fail(c, AG_VMDK_E_SYNTAX,
			    "text after the extent file name's closing quote");
	if (!next_token(&p, &n, &tok, &tlen))
		return 0;
	if (ag_text_u64(tok, tlen, UINT64_C(1) << 62, &e->offset) != 0)
		return fail(c, AG_VMDK_E_SYNTAX, "extent offset must be a whole number");
	e->has_offset = true;
	ag_text_trim(&p, &n);
	return n == 0 ? 0 : fail(c, AG_VMDK_E_SYNTAX, "unexpected text after the extent offset");
}

static int extent_line(struct parse_ctx *c, const char *line, size_t len)
{
	struct ag_vmdk_extent *e;
	const char *tok;
	size_t tlen;
	char q[96];
	int t, rc;

	if (c->d->n_extents == AG_VMDK_MAX_EXTENTS)
		return fail(c, AG_VMDK_E_LIMIT, "more than %d extents", AG_VMDK_MAX_EXTENTS);
	e = &c->d->extents[c->d->n_extents];
	next_token(&line, &len, &tok, &tlen);
	e->access = (enum ag_vmdk_access)lookup(access_modes, NELEM(access_modes), tok, tlen);
	if (!next_token(&line, &len, &tok, &tlen) ||
	    ag_text_u64(tok, tlen, AG_VMDK_SECTORS_MAX, &e->sectors) != 0 || e->sectors == 0)
		return fail(c, AG_VMDK_E_SYNTAX, "extent size must be 1 to %llu sectors",
			    (unsigned long long)AG_VMDK_SECTORS_MAX);
	if (!next_token(&line, &len, &tok, &tlen))
		return fail(c, AG_VMDK_E_SYNTAX, "extent has no type");
	t = lookup(extent_types, NELEM(extent_types), tok, tlen);
	if (t < 0)
		return fail(c, AG_VMDK_E_UNSUPPORTED, "unknown extent type '%s'",
			    ag_text_quote(q, sizeof(q), tok, tlen));
	e->type = (enum ag_vmdk_extent_type)t;
	rc = extent_file(c, e, line, len);
	if (rc == 0)
		c->d->n_extents++;
	return rc;
}

static int parse_line(struct parse_ctx *c, const char *line, size_t len)
{
	const char *p = line, *tok, *eq;
	size_t n = len, tlen;
	char q[96];

	next_token(&p, &n, &tok, &tlen);
	if (lookup(access_modes, NELEM(access_modes), tok, tlen) >= 0)
		return extent_line(c, line, len);
	eq = memchr(line, '=', len);
	if (eq == NULL)
		return fail(c, AG_VMDK_E_SYNTAX, "neither 'key=value' nor an extent: '%s'",
			    ag_text_quote(q, sizeof(q), line, len));
	return key_value_line(c, line, len, eq);
}

/* Checks that need the whole descriptor. */
static int parse_finish(struct parse_ctx *c)
{
	struct ag_vmdk_desc *d = c->d;
	static const enum header_key required[] = { H_VERSION, H_CID, H_PARENT_CID, H_CREATE_TYPE };
	unsigned allowed = 0;

	c->line = 0;
	for (size_t i = 0; i < NELEM(required); i++)
		if (c->header_line[required[i]] == 0)
			return fail(c, AG_VMDK_E_MISSING, "no %s line", header_keys[required[i]]);
	if (d->n_extents == 0)
		return fail(c, AG_VMDK_E_MISSING, "no extent lines");
	for (size_t i = 0; i < NELEM(create_types); i++)
		if (create_types[i].type == d->create_type)
			allowed = create_types[i].extents;
	for (size_t i = 0; i < d->n_extents; i++)
		if ((allowed & EXT(d->extents[i].type)) == 0)
			return fail(c, AG_VMDK_E_UNSUPPORTED, "createType %s cannot have a %s extent",
				    ag_vmdk_create_type_name(d->create_type),
				    extent_types[d->extents[i].type]);
	if (d->parent_hint[0] != '\0' && d->parent_cid == AG_VMDK_NO_PARENT)
		return fail(c, AG_VMDK_E_CHAIN, "parentFileNameHint given but parentCID is ffffffff");
	if (d->parent_hint[0] == '\0' && d->parent_cid != AG_VMDK_NO_PARENT)
		return fail(c, AG_VMDK_E_CHAIN, "parentCID given but no parentFileNameHint");
	return 0;
}

int ag_vmdk_parse(const char *text, size_t len, struct ag_vmdk_desc *desc, struct ag_error *err)
{
	struct parse_ctx *c;
	size_t pos = 0;
	int rc = 0;

	memset(desc, 0, sizeof(*desc));
	desc->thin_provisioned = -1;
	if (len > AG_VMDK_MAX_BYTES)
		return ag_error_set(err, AG_VMDK_E_LIMIT, "descriptor larger than %d bytes",
				    AG_VMDK_MAX_BYTES);
	if (memchr(text, '\0', len) != NULL)
		return ag_error_set(err, AG_VMDK_E_SYNTAX, "binary data: not a VMDK descriptor");
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ag_error_set(err, AG_VMDK_E_IO, "out of memory");
	c->text = text;
	c->d = desc;
	c->err = err;
	while (rc == 0 && pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		pos += n + (nl ? 1 : 0);
		c->line++;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		ag_text_trim(&line, &n);
		if (n == 0 || line[0] == '#')
			continue;
		rc = parse_line(c, line, n);
	}
	if (rc == 0)
		rc = parse_finish(c);
	free(c);
	return rc;
}

uint64_t ag_vmdk_size_bytes(const struct ag_vmdk_desc *desc)
{
	uint64_t sectors = 0;

	/* At most 64 extents of 2^40 sectors: the sum cannot overflow. */
	for (size_t i = 0; i < desc->n_extents; i++)
		sectors += desc->extents[i].sectors;
	return sectors * 512;
}

enum ag_vmdk_format ag_vmdk_format_of(const struct ag_vmdk_desc *desc)
{
	switch (desc->create_type) {
	case AG_VMDK_CT_VMFS_RDM:
		return AG_VMDK_RDM;
	case AG_VMDK_CT_VMFS_RDMP:
	case AG_VMDK_CT_VMFS_RAW:
		return AG_VMDK_RDMP;
	case AG_VMDK_CT_VMFS_SPARSE:
	case AG_VMDK_CT_SE_SPARSE:
	case AG_VMDK_CT_MONOLITHIC_SPARSE:
	case AG_VMDK_CT_2GB_SPARSE:
		return AG_VMDK_SPARSE;
	case AG_VMDK_CT_VMFS:
	case AG_VMDK_CT_VMFS_PREALLOCATED:
	case AG_VMDK_CT_VMFS_EAGER_ZEROED_THICK:
	case AG_VMDK_CT_MONOLITHIC_FLAT:
	case AG_VMDK_CT_2GB_FLAT:
		break;
	}
	/* Thin-ness of a flat disk is a property of its extent file, told by the DDB. */
	return desc->thin_provisioned == 1 ? AG_VMDK_THIN : AG_VMDK_THICK;
}

/* --- chain resolution ------------------------------------------------------ */

static int map_path_code(int code)
{
	switch (code) {
	case AG_PATH_DENIED:
		return AG_VMDK_E_DENIED;
	case AG_PATH_SOURCE_NOT_FOUND:
		return AG_VMDK_E_NOT_FOUND;
	case AG_PATH_INTERNAL:
		return AG_VMDK_E_IO;
	default:
		return AG_VMDK_E_UNSUPPORTED;
	}
}

/*
 * Rewrites err as "<file>: <what><message>" with code: the caller learns which
 * descriptor of the chain was at fault.
 */
static int prefix_error(struct ag_error *err, const char *path, const char *what, int code)
{
	char msg[AG_ERROR_MSG_MAX], q[160];
	const char *base = strrchr(path, '/');

	if (err == NULL)
		return code;
	base = base ? base + 1 : path;
	memcpy(msg, err->msg, sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	ag_text_quote(q, sizeof(q), base, strlen(base));
	snprintf(err->msg, sizeof(err->msg), "'%.150s': %.100s%.250s", q, what, msg);
	err->code = code;
	return code;
}

/* Reads and parses one canonical descriptor path. */
static int load_descriptor(const char *path, char *buf, struct ag_vmdk_desc *d,
			   struct ag_error *err)
{
	struct stat st;
	size_t len = 0;
	int fd, rc;

	/* O_NOFOLLOW and O_NONBLOCK: the path was canonical a moment ago; a swap for a
	 * symlink or a FIFO since then must fail, not follow or hang. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return ag_error_set(err, errno == ENOENT ? AG_VMDK_E_NOT_FOUND : AG_VMDK_E_IO,
				    "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ag_error_set(err, AG_VMDK_E_IO, "not a regular file");
	}
	rc = ag_file_read_bounded(fd, buf, AG_VMDK_MAX_BYTES + 1, &len);
	close(fd);
	if (rc != 0)
		return ag_error_set(err, AG_VMDK_E_IO, "cannot read: %s", strerror(errno));
	return ag_vmdk_parse(buf, len, d, err);
}

/* The next descriptor: the parent hint, relative to the child's folder or absolute. */
static int resolve_parent(const char *vmfs_root, const char *child, const char *hint,
			  struct ag_source *out, struct ag_error *err)
{
	char joined[AG_PATH_MAX];
	const char *slash = strrchr(child, '/');
	int n, rc;

	size_t root_len = strlen(vmfs_root);

	if (strncmp(hint, "/vmfs/", 6) == 0 &&
	    !(strncmp(hint, vmfs_root, root_len) == 0 && hint[root_len] == '/')) {
		/*
		 * ESXi writes absolute hints as /vmfs/volumes/...: that names the
		 * configured vmfs root, which is /vmfs itself on a host.
		 */
		n = snprintf(joined, sizeof(joined), "%s/%s", vmfs_root, hint + 6);
		if (n < 0 || (size_t)n >= sizeof(joined))
			return ag_error_set(err, AG_VMDK_E_LIMIT, "parent path too long");
		rc = ag_source_resolve_path(vmfs_root, joined, (size_t)n, out, err);
	} else if (hint[0] == '/') {
		rc = ag_source_resolve_path(vmfs_root, hint, strlen(hint), out, err);
	} else {
		n = snprintf(joined, sizeof(joined), "%.*s/%s", (int)(slash - child), child, hint);
		if (n < 0 || (size_t)n >= sizeof(joined))
			return ag_error_set(err, AG_VMDK_E_LIMIT, "parent path too long");
		rc = ag_source_resolve_path(vmfs_root, joined, (size_t)n, out, err);
	}
	/* A missing parent is a broken chain (SOURCE_UNSUPPORTED), not a missing source. */
	if (rc == AG_PATH_SOURCE_NOT_FOUND)
		return AG_VMDK_E_CHAIN;
	return rc == 0 ? 0 : map_path_code(rc);
}

static int chain_add(struct ag_vmdk_chain *chain, const char *path, struct ag_error *err)
{
	for (size_t i = 0; i < chain->depth; i++)
		if (strcmp(chain->paths[i], path) == 0)
			return ag_error_set(err, AG_VMDK_E_CHAIN, "parent chain loops");
	if (chain->depth == AG_VMDK_CHAIN_MAX)
		return ag_error_set(err, AG_VMDK_E_LIMIT, "chain is deeper than %d descriptors",
				    AG_VMDK_CHAIN_MAX);
	chain->paths[chain->depth] = strdup(path);
	if (chain->paths[chain->depth] == NULL)
		return ag_error_set(err, AG_VMDK_E_IO, "out of memory");
	chain->depth++;
	return 0;
}

/* One link: load, check the CID against the child's parentCID, record. */
static int chain_step(struct ag_vmdk_chain *chain, const char *path, char *buf,
		      struct ag_vmdk_desc *d, uint32_t expect_cid, struct ag_error *err)
{
	int rc = chain_add(chain, path, err);

	if (rc == 0)
		rc = load_descriptor(path, buf, d, err);
	if (rc == 0 && chain->depth > 1 && d->cid != expect_cid)
		rc = ag_error_set(err, AG_VMDK_E_CHAIN,
				  "CID %08x does not match its child's parentCID %08x", d->cid,
				  expect_cid);
	if (rc != 0)
		return prefix_error(err, path, "", rc);
	if (chain->depth == 1)
		chain->size_bytes = ag_vmdk_size_bytes(d);
	if (ag_vmdk_format_of(d) == AG_VMDK_SPARSE)
		chain->sparse_link = true;
	return 0;
}

int ag_vmdk_chain_resolve(const char *vmfs_root, const char *path, struct ag_vmdk_chain *chain,
			  struct ag_error *err)
{
	struct ag_vmdk_desc *d = calloc(1, sizeof(*d));
	struct ag_source *src = malloc(sizeof(*src));
	char *buf = malloc(AG_VMDK_MAX_BYTES + 1);
	int rc;

	memset(chain, 0, sizeof(*chain));
	if (d == NULL || src == NULL || buf == NULL) {
		rc = ag_error_set(err, AG_VMDK_E_IO, "out of memory");
		goto out;
	}
	rc = ag_source_resolve_path(vmfs_root, path, strlen(path), src, err);
	if (rc != 0) {
		rc = prefix_error(err, path, "", map_path_code(rc));
		goto out;
	}
	for (;;) {
		uint32_t expect = d->parent_cid;

		rc = chain_step(chain, src->path, buf, d, expect, err);
		if (rc != 0 || d->parent_hint[0] == '\0')
			break;
		rc = resolve_parent(vmfs_root, src->path, d->parent_hint, src, err);
		if (rc != 0) {
			rc = prefix_error(err, chain->paths[chain->depth - 1], "parentFileNameHint: ", rc);
			break;
		}
	}
	if (rc == 0) {
		chain->base_format = ag_vmdk_format_of(d);
		chain->base_create_type = d->create_type;
	}
out:
	if (rc != 0)
		ag_vmdk_chain_free(chain);
	free(d);
	free(src);
	free(buf);
	return rc;
}

void ag_vmdk_chain_free(struct ag_vmdk_chain *chain)
{
	for (size_t i = 0; i < chain->depth; i++)
		free(chain->paths[i]);
	memset(chain, 0, sizeof(*chain));
}

const char *ag_vmdk_format_name(enum ag_vmdk_format format)
{
	static const char *const names[] = {
		[AG_VMDK_THIN] = "thin", [AG_VMDK_THICK] = "thick", [AG_VMDK_RDM] = "rdm",
		[AG_VMDK_RDMP] = "rdmp", [AG_VMDK_SPARSE] = "sparse",
	};

	return (size_t)format < NELEM(names) ? names[format] : "unknown";
}

const char *ag_vmdk_create_type_name(enum ag_vmdk_create_type ct)
{
	for (size_t i = 0; i < NELEM(create_types); i++)
		if (create_types[i].type == ct)
			return create_types[i].name;
	return "unknown";
}

const char *ag_vmdk_code_name(int code)
{
	static const char *const names[] = {
		[AG_VMDK_OK] = "OK", [AG_VMDK_E_SYNTAX] = "E_SYNTAX", [AG_VMDK_E_KEY] = "E_KEY",
		[AG_VMDK_E_DUP] = "E_DUP", [AG_VMDK_E_MISSING] = "E_MISSING",
		[AG_VMDK_E_UNSUPPORTED] = "E_UNSUPPORTED", [AG_VMDK_E_LIMIT] = "E_LIMIT",
		[AG_VMDK_E_CHAIN] = "E_CHAIN", [AG_VMDK_E_NOT_FOUND] = "E_NOT_FOUND",
		[AG_VMDK_E_DENIED] = "E_DENIED", [AG_VMDK_E_IO] = "E_IO",
	};

	return code >= 0 && (size_t)code < NELEM(names) ? names[code] : "E_UNKNOWN";
}
