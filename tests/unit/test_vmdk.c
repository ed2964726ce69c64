/*
 * Unit tests of agent/vmdk.c: real descriptors (samples from public sources,
 * see /work/shared/esxi-samples/SOURCES.md), every named error, hostile names,
 * and chain resolution over a folder that mimics /vmfs/volumes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_fixture.h"
#include "tap.h"
#include "vmdk.h"

/* vmfs-thick: elatov.github.io, 2012-04-24 advanced-snapshot-troubleshooting post (virtuallyhyper). */
static const char thick_sample[] =
	"# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=5352cace\nparentCID=ffffffff\n"
	"isNativeSnapshot=\"no\"\ncreateType=\"vmfs\"\n\n# Extent description\n"
	"RW 268435456 VMFS \"sql-flat.vmdk\"\n\n# The Disk Data Base\n#DDB\n\n"
	"ddb.adapterType = \"lsilogic\"\nddb.geometry.sectors = \"63\"\nddb.geometry.heads = \"255\"\n"
	"ddb.geometry.cylinders = \"16709\"\n"
	"ddb.uuid = \"60 00 C2 97 ee 00 4e ed-cb 09 ab 10 91 3f 7f 99\"\n"
	"ddb.longContentID = \"abc01f80a6019b4b2fa062d35352cace\"\nddb.toolsVersion = \"8295\"\n"
	"ddb.virtualHWVersion = \"7\"\nddb.deletable = \"true\"\n";

/* vmfs-thin: intel/mfd-esxi tests/unit/test_mfd_esxi/fixtures.py (parent_vmdk). */
static const char thin_sample[] =
	"# Disk DescriptorFile\nversion=1\nCID=3729b687\nparentCID=ffffffff\ncreateType=\"vmfs\"\n\n"
	"# Extent description\nRW 41943040 VMFS \"Base_R91-flat.vmdk\"\n\n# The Disk Data Base\n#DDB\n\n"
	"ddb.adapterType = \"ide\"\nddb.deletable = \"true\"\nddb.encoding = \"UTF-8\"\n"
	"ddb.geometry.cylinders = \"41610\"\nddb.geometry.heads = \"16\"\nddb.geometry.sectors = \"63\"\n"
	"ddb.longContentID = \"f6371048ed90dd02a7e9ded6fffffffe\"\nddb.thinProvisioned = \"1\"\n"
	"ddb.uuid = \"60 00 C2 9f 9a b0 9b 9c-13 55 b8 11 fd 2c 92 9b\"\nddb.virtualHWVersion = \"6\"\n";

/* seSparse: intel/mfd-esxi fixtures (child of the thin sample). */
static const char sesparse_sample[] =
	"# Disk DescriptorFile\nversion=1\nCID=3729b687\nparentCID=3729b687\ncreateType=\"seSparse\"\n"
	"parentFileNameHint=\"Base_R91.vmdk\"\n# Extent description\n"
	"RW 41943040 SESPARSE \"Base_R91-000001-sesparse.vmdk\"\n\n# The Disk Data Base\n#DDB\n\n"
	"ddb.encoding = \"UTF-8\"\nddb.grain = \"8\"\nddb.longContentID = \"f6371048ed90dd02a7e9ded6fffffffe\"\n";

/* vmfsSparse: virtuallyhyper 2012 snapshot post (vps-000001.vmdk, with its "# cat" line). */
static const char vmfssparse_sample[] =
	"# cat vps-000001.vmdk\n# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=4f5b98ad\n"
	"parentCID=79229daf\nisNativeSnapshot=\"no\"\ncreateType=\"vmfsSparse\"\n"
	"parentFileNameHint=\"vps.vmdk\"\n# Extent description\nRW 20971520 VMFSSPARSE \"vps-000001-delta.vmdk\"\n\n"
	"# The Disk Data Base \n#DDB\n\nddb.longContentID = \"193b848abd4542a6593461434f5b98ad\"\n";

/* RDM virtual: sdbrett 2016 (createType vmfsRawDeviceMap, with a change tracking file). */
static const char rdm_sample[] =
	"# Disk DescriptorFile\nversion=3\nencoding=\"UTF-8\"\nCID=1ddd5c91\nparentCID=ffffffff\n"
	"isNativeSnapshot=\"no\"\ncreateType=\"vmfsRawDeviceMap\"\n\n# Extent description\n"
	"RW 1048576000 VMFSRDM \"RDM-rdm.vmdk\"\n\n# Change Tracking File\n"
	"changeTrackPath=\"Sever_2RDM-ctk.vmdk\"\n\n# The Disk Data Base \n#DDB\n\n"
	"ddb.adapterType = \"lsilogic\"\nddb.deletable = \"true\"\nddb.geometry.cylinders = \"65270\"\n"
	"ddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\nddb.longContentID = \"\"\n"
	"ddb.toolsVersion = \"10249\"\nddb.uuid = \"uuid\"\nddb.virtualHWVersion = \"9\"\n";

/* RDM physical: sdbrett 2016 (vmfsPassthroughRawDeviceMap). */
static const char rdmp_sample[] =
	"# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=6c6fb67d\nparentCID=ffffffff\n"
	"isNativeSnapshot=\"no\"\ncreateType=\"vmfsPassthroughRawDeviceMap\"\n\n# Extent description\n"
	"RW 1048576000 VMFSRDM \"5-rdmp.vmdk\"\n\n# The Disk Data Base \n#DDB\n\n"
	"ddb.adapterType = \"lsilogic\"\nddb.geometry.cylinders = \"65270\"\nddb.geometry.heads = \"255\"\n"
	"ddb.geometry.sectors = \"63\"\nddb.longContentID = \"\"\nddb.uuid = \"6uuid\"\n"
	"ddb.virtualHWVersion = \"11\"\n";

static struct ag_vmdk_desc *d;

static int parse(const char *text, struct ag_error *e)
{
	ag_error_clear(e);
	return ag_vmdk_parse(text, strlen(text), d, e);
}

static void test_samples(void)
{
	struct ag_error e;

	is_int(parse(thick_sample, &e), 0, "thick sample parses");
	is_int(d->version, 1, "thick: version");
	is_int(d->cid, 0x5352cace, "thick: CID");
	is_int(d->parent_cid, AG_VMDK_NO_PARENT, "thick: no parent");
	is_int(d->create_type, AG_VMDK_CT_VMFS, "thick: createType vmfs");
	is_int(d->n_extents, 1, "thick: one extent");
	is_int(d->extents[0].access, AG_VMDK_RW, "thick: RW");
	is_int(d->extents[0].sectors, 268435456, "thick: sectors");
	is_int(d->extents[0].type, AG_VMDK_EXT_VMFS, "thick: VMFS extent");
	is_str(d->extents[0].file, "sql-flat.vmdk", "thick: extent file");
	ok(!d->extents[0].has_offset, "thick: no offset");
	is_str(d->adapter_type, "lsilogic", "thick: adapter");
	is_int(d->geometry_cylinders, 16709, "thick: cylinders");
	is_int(d->geometry_heads, 255, "thick: heads");
	is_int(d->geometry_sectors, 63, "thick: sectors/track");
	is_str(d->uuid, "60 00 C2 97 ee 00 4e ed-cb 09 ab 10 91 3f 7f 99", "thick: uuid");
	is_str(d->long_content_id, "abc01f80a6019b4b2fa062d35352cace", "thick: longContentID");
	is_int(d->virtual_hw_version, 7, "thick: hw version");
	is_int(d->thin_provisioned, -1, "thick: no thinProvisioned");
	is_int(d->n_ddb, 9, "thick: all 9 ddb entries counted");
	is_int(ag_vmdk_format_of(d), AG_VMDK_THICK, "thick: format thick");
	is_int(ag_vmdk_size_bytes(d), 268435456ULL * 512, "thick: 128 GiB");

	is_int(parse(thin_sample, &e), 0, "thin sample parses");
	is_int(d->thin_provisioned, 1, "thin: thinProvisioned");
	is_int(ag_vmdk_format_of(d), AG_VMDK_THIN, "thin: format thin");
	is_str(d->adapter_type, "ide", "thin: adapter ide");

	is_int(parse(sesparse_sample, &e), 0, "seSparse sample parses");
	is_int(d->create_type, AG_VMDK_CT_SE_SPARSE, "seSparse: createType");
	is_int(d->parent_cid, 0x3729b687, "seSparse: parentCID");
	is_str(d->parent_hint, "Base_R91.vmdk", "seSparse: parent hint");
	is_int(d->extents[0].type, AG_VMDK_EXT_SESPARSE, "seSparse: extent type");
	is_int(ag_vmdk_format_of(d), AG_VMDK_SPARSE, "seSparse: format sparse");

	is_int(parse(vmfssparse_sample, &e), 0, "vmfsSparse sample parses (leading comment line)");
	is_int(d->create_type, AG_VMDK_CT_VMFS_SPARSE, "vmfsSparse: createType");
	is_int(d->parent_cid, 0x79229daf, "vmfsSparse: parentCID");
	is_str(d->parent_hint, "vps.vmdk", "vmfsSparse: hint");
	is_str(d->extents[0].file, "vps-000001-delta.vmdk", "vmfsSparse: delta file");

	is_int(parse(rdm_sample, &e), 0, "RDM virtual sample parses");
	is_int(d->version, 3, "rdm: version 3");
	is_str(d->change_track_path, "Sever_2RDM-ctk.vmdk", "rdm: change tracking path");
	is_str(d->long_content_id, "", "rdm: empty longContentID");
	is_int(ag_vmdk_format_of(d), AG_VMDK_RDM, "rdm: format rdm");
	is_int(ag_vmdk_size_bytes(d), 1048576000ULL * 512, "rdm: size");

	is_int(parse(rdmp_sample, &e), 0, "RDM physical sample parses");
	is_int(ag_vmdk_format_of(d), AG_VMDK_RDMP, "rdmp: format rdmp");
	is_str(ag_vmdk_format_name(AG_VMDK_RDMP), "rdmp", "format name");
	is_str(ag_vmdk_create_type_name(d->create_type), "vmfsPassthroughRawDeviceMap", "createType name");
}

static void test_forms(void)
{
	struct ag_error e;
	const char *hostile =
		"version=1\nCID=1\nparentCID=ffffffff\ncreateType=\"vmfs\"\n"
		"RW 8 VMFS \"it's $(reboot); `id` \\\\ ü * -flat.vmdk\"\n"
		"RDONLY 16 FLAT \"two  spaces.vmdk\" 2048\n"
		"NOACCESS 24 ZERO\n";
	const char *crlf = "version=1\r\nCID=00000001\r\nparentCID=ffffffff\r\ncreateType=\"twoGbMaxExtentFlat\"\r\n"
			   "RW 4192256 FLAT \"a-f001.vmdk\" 0\r\nRW 10 FLAT \"a-f002.vmdk\" 0\r\n";

	is_int(parse(hostile, &e), 0, "hostile extent names parse");
	is_str(d->extents[0].file, "it's $(reboot); `id` \\\\ ü * -flat.vmdk", "hostile name kept literally");
	is_int(d->extents[1].access, AG_VMDK_RDONLY, "RDONLY");
	ok(d->extents[1].has_offset, "offset present");
	is_int(d->extents[1].offset, 2048, "offset value");
	is_str(d->extents[1].file, "two  spaces.vmdk", "inner spaces kept");
	is_int(d->extents[2].type, AG_VMDK_EXT_ZERO, "ZERO extent");
	is_str(d->extents[2].file, "", "ZERO has no file");
	is_int(d->extents[2].access, AG_VMDK_NOACCESS, "NOACCESS");
	is_int(ag_vmdk_size_bytes(d), 48 * 512, "size sums all extents");

	const char *quotes = "version=1\nCID=1\nparentCID=2\ncreateType=\"vmfsSparse\"\n"
			     "parentFileNameHint=\"VM \"q\" (1).vmdk\"\n"
			     "RW 8 VMFSSPARSE \"VM \"q\" (1)-000001-delta.vmdk\" 7\n";
	is_int(parse(quotes, &e), 0, "names holding double quotes parse");
	is_str(d->extents[0].file, "VM \"q\" (1)-000001-delta.vmdk", "quoted name kept whole");
	ok(d->extents[0].has_offset && d->extents[0].offset == 7, "offset after a quoted name");
	is_str(d->parent_hint, "VM \"q\" (1).vmdk", "parent hint with quotes kept whole");

	is_int(parse(crlf, &e), 0, "CRLF descriptor with two extents");
	is_int(d->create_type, AG_VMDK_CT_2GB_FLAT, "twoGbMaxExtentFlat");
	is_int(d->n_extents, 2, "two extents");
	is_int(ag_vmdk_size_bytes(d), (4192256ULL + 10) * 512, "two extents sum");
}

struct bad {
	const char *body; /* appended to a valid header unless it starts with '!' */
	int code;
	int line;
	const char *in_msg;
};

#define HEAD "version=1\nCID=aa\nparentCID=ffffffff\ncreateType=\"vmfs\"\n"
#define EXTENT "RW 8 VMFS \"x-flat.vmdk\"\n"

static void test_errors(void)
{
	static const struct bad cases[] = {
		{ EXTENT "color=\"red\"\n", AG_VMDK_E_KEY, 6, "unknown key 'color'" },
		{ EXTENT "CID=bb\n", AG_VMDK_E_DUP, 6, "duplicate key 'CID' (first on line 2)" },
		{ EXTENT "ddb.uuid = \"a\"\nddb.uuid = \"b\"\n", AG_VMDK_E_DUP, 7, "duplicate key 'ddb.uuid'" },
		{ EXTENT "ddb.x = \"a\"\nddb.x = \"b\"\n", AG_VMDK_E_DUP, 7, "duplicate key 'ddb.x'" },
		{ "", AG_VMDK_E_MISSING, 0, "no extent lines" },
		{ "!CID=aa\nparentCID=ffffffff\ncreateType=\"vmfs\"\n" EXTENT, AG_VMDK_E_MISSING, 0, "no version" },
		{ "!version=1\nparentCID=ffffffff\ncreateType=\"vmfs\"\n" EXTENT, AG_VMDK_E_MISSING, 0, "no CID" },
		{ "!version=1\nCID=1\ncreateType=\"vmfs\"\n" EXTENT, AG_VMDK_E_MISSING, 0, "no parentCID" },
		{ "!version=1\nCID=1\nparentCID=ffffffff\n" EXTENT, AG_VMDK_E_MISSING, 0, "no createType" },
		{ "!version=1\nCID=xyz\nparentCID=ffffffff\ncreateType=\"vmfs\"\n" EXTENT, AG_VMDK_E_SYNTAX, 2, "hexadecimal" },
		{ "!version=1\nCID=123456789\nparentCID=ffffffff\ncreateType=\"vmfs\"\n" EXTENT, AG_VMDK_E_SYNTAX, 2, "1 to 8" },
		{ "!version=4\nCID=1\nparentCID=ffffffff\ncreateType=\"vmfs\"\n" EXTENT, AG_VMDK_E_UNSUPPORTED, 1, "version" },
		{ "!version=0\nCID=1\nparentCID=ffffffff\ncreateType=\"vmfs\"\n" EXTENT, AG_VMDK_E_UNSUPPORTED, 1, "version" },
		{ EXTENT "encoding=\"windows-1252\"\n", AG_VMDK_E_UNSUPPORTED, 6, "UTF-8" },
		{ EXTENT "encryption.keySafe=\"vmware:key/list/(pair/(null/...\"\n", AG_VMDK_E_UNSUPPORTED, 6, "encrypted" },
		{ "!version=1\nCID=1\nparentCID=ffffffff\ncreateType=\"streamOptimized\"\n" EXTENT,
		  AG_VMDK_E_UNSUPPORTED, 4, "unsupported createType 'streamOptimized'" },
		{ "!version=1\nCID=1\nparentCID=ffffffff\ncreateType=\"vmfs $(x)\"\n" EXTENT,
		  AG_VMDK_E_UNSUPPORTED, 4, "unsupported createType" },
		{ "RW 8 VSANSPARSE \"x.vmdk\"\n", AG_VMDK_E_UNSUPPORTED, 5, "unknown extent type 'VSANSPARSE'" },
		{ "RW 8 VMFSSPARSE \"x-delta.vmdk\"\n", AG_VMDK_E_UNSUPPORTED, 0, "createType vmfs cannot have a VMFSSPARSE extent" },
		{ "RW 0 VMFS \"x.vmdk\"\n", AG_VMDK_E_SYNTAX, 5, "extent size" },
		{ "RW 1099511627777 VMFS \"x.vmdk\"\n", AG_VMDK_E_SYNTAX, 5, "extent size" },
		{ "RW -8 VMFS \"x.vmdk\"\n", AG_VMDK_E_SYNTAX, 5, "extent size" },
		{ "RW 8\n", AG_VMDK_E_SYNTAX, 5, "no type" },
		{ "RW 8 VMFS x.vmdk\n", AG_VMDK_E_SYNTAX, 5, "double quotes" },
		{ "RW 8 VMFS \"x.vmdk\n", AG_VMDK_E_SYNTAX, 5, "no closing" },
		{ "RW 8 VMFS \"\"\n", AG_VMDK_E_SYNTAX, 5, "empty" },
		{ "RW 8 VMFS \"a\"b\".vmdk\"x\n", AG_VMDK_E_SYNTAX, 5, "after the extent file name's closing quote" },
		{ "RW 8 VMFS \"x.vmdk\" 12 13\n", AG_VMDK_E_SYNTAX, 5, "after the extent offset" },
		{ "RW 8 VMFS \"x.vmdk\" abc\n", AG_VMDK_E_SYNTAX, 5, "offset" },
		{ "RW 8 ZERO \"x.vmdk\"\n", AG_VMDK_E_SYNTAX, 5, "ZERO extent takes no file" },
		{ "RW 8 VMFS \"x\x01.vmdk\"\n", AG_VMDK_E_SYNTAX, 5, "control characters" },
		{ "RW 8 VMFS \"x\xff.vmdk\"\n", AG_VMDK_E_SYNTAX, 5, "UTF-8" },
		{ EXTENT "parentFileNameHint=\"p.vmdk\"\n", AG_VMDK_E_CHAIN, 0, "parentCID is ffffffff" },
		{ "!version=1\nCID=1\nparentCID=12\ncreateType=\"vmfsSparse\"\nRW 8 VMFSSPARSE \"d.vmdk\"\n",
		  AG_VMDK_E_CHAIN, 0, "no parentFileNameHint" },
		{ EXTENT "parentFileNameHint=\"\"\n", AG_VMDK_E_SYNTAX, 6, "empty" },
		{ EXTENT "changeTrackPath=\"x-ctk.vmdk\" extra\n", AG_VMDK_E_SYNTAX, 6, "after the closing quote" },
		{ EXTENT "parentFileNameHint=\"a\"b\" x\n", AG_VMDK_E_SYNTAX, 6, "after the closing quote" },
		{ EXTENT "isNativeSnapshot=\"maybe\"\n", AG_VMDK_E_SYNTAX, 6, "yes" },
		{ EXTENT "ddb.adapterType = lsilogic\n", AG_VMDK_E_SYNTAX, 6, "double quotes" },
		{ EXTENT "ddb. = \"x\"\n", AG_VMDK_E_KEY, 6, "unknown key 'ddb.'" },
		{ EXTENT "ddb.a$b = \"x\"\n", AG_VMDK_E_SYNTAX, 6, "malformed disk database key" },
		{ EXTENT "ddb.thinProvisioned = \"yes\"\n", AG_VMDK_E_SYNTAX, 6, "\"0\" or \"1\"" },
		{ EXTENT "ddb.geometry.heads = \"256\"\n", AG_VMDK_E_SYNTAX, 6, "whole number" },
		{ EXTENT "ddb.adapterType = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n", AG_VMDK_E_LIMIT, 6, "longer than" },
		{ EXTENT "this is not a descriptor line\n", AG_VMDK_E_SYNTAX, 6, "neither" },
		{ EXTENT "version=\n", AG_VMDK_E_DUP, 6, "duplicate" },
		{ "!version=\nCID=1\n", AG_VMDK_E_SYNTAX, 1, "empty value" },
		{ "!version=1 2\nCID=1\n", AG_VMDK_E_SYNTAX, 1, "malformed value" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[2048];
		struct ag_error e;
		int rc;

		if (cases[i].body[0] == '!')
			snprintf(text, sizeof(text), "%s", cases[i].body + 1);
		else
			snprintf(text, sizeof(text), "%s%s", HEAD, cases[i].body);
		rc = parse(text, &e);
		if (!ok(rc == cases[i].code && e.line == cases[i].line && strstr(e.msg, cases[i].in_msg),
			"error case %zu: %s at line %d", i, ag_vmdk_code_name(cases[i].code), cases[i].line))
			printf("#   got %s line %d: %s\n", ag_vmdk_code_name(rc), e.line, e.msg);
	}
}

static void test_limits(void)
{
	struct ag_error e;
	size_t cap = AG_VMDK_MAX_BYTES + 64 * 1024;
	char *t = malloc(cap);
	size_t n;

	n = (size_t)snprintf(t, cap, "%s", HEAD);
	for (int i = 0; i < AG_VMDK_MAX_EXTENTS; i++)
		n += (size_t)snprintf(t + n, cap - n, "RW 1099511627776 VMFS \"x%d-flat.vmdk\"\n", i);
	is_int(parse(t, &e), 0, "64 extents of 512 TiB accepted");
	is_int(ag_vmdk_size_bytes(d), 64ULL * 1099511627776ULL * 512, "no overflow in the size");
	n += (size_t)snprintf(t + n, cap - n, "RW 8 VMFS \"x-flat.vmdk\"\n");
	is_int(parse(t, &e), AG_VMDK_E_LIMIT, "65th extent refused");
	is_int(e.line, 69, "on its line");

	n = (size_t)snprintf(t, cap, "%s%s", HEAD, EXTENT);
	for (int i = 0; i < AG_VMDK_MAX_DDB; i++)
		n += (size_t)snprintf(t + n, cap - n, "ddb.k%d = \"v\"\n", i);
	is_int(parse(t, &e), 0, "256 ddb entries accepted");
	snprintf(t + n, cap - n, "ddb.more = \"v\"\n");
	is_int(parse(t, &e), AG_VMDK_E_LIMIT, "257th ddb entry refused");

	memset(t, '#', AG_VMDK_MAX_BYTES + 1);
	is_int(ag_vmdk_parse(t, AG_VMDK_MAX_BYTES + 1, d, &e), AG_VMDK_E_LIMIT, "over 64 KiB refused");
	memcpy(t, HEAD EXTENT "\0", sizeof(HEAD EXTENT));
	is_int(ag_vmdk_parse(t, sizeof(HEAD EXTENT), d, &e), AG_VMDK_E_SYNTAX, "NUL byte: binary data");
	ok(strstr(e.msg, "binary") != NULL, "binary message");
	is_int(ag_vmdk_parse("", 0, d, &e), AG_VMDK_E_MISSING, "empty input");
	free(t);
}

/* --- chains ---------------------------------------------------------------- */

#define UUID_A "5f3c1a2b-0011aabb-c0ff-001122334455"
#define UUID_B "5f3c1a2b-2233ccdd-beef-66778899aabb"
/* No '"': a descriptor cannot name a file holding one (see vmdk.h). */
#define HOSTILE_VM "vm it's $(reboot); `id` \\ ü *"

static char root[4096];

static void desc_file(const char *rel, const char *ct, const char *ext_type, const char *cid,
		      const char *parent_cid, const char *hint, const char *extra)
{
	char path[4096], text[8192];

	snprintf(text, sizeof(text),
		 "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=%s\nparentCID=%s\n"
		 "createType=\"%s\"\n%s%s%s# Extent description\nRW 2097152 %s \"f-%s.vmdk\"\n%s",
		 cid, parent_cid, ct, hint ? "parentFileNameHint=\"" : "", hint ? hint : "",
		 hint ? "\"\n" : "", ext_type, cid, extra ? extra : "");
	fx_write_str(fx_path(path, sizeof(path), "%s/volumes/%s", root, rel), text);
}

static void build_chains(void)
{
	char p[4096], hint[4096];

	fx_path(root, sizeof(root), "%s/vmfs", fx_tmpdir());
	fx_mkdirs(fx_path(p, sizeof(p), "%s/volumes/%s/%s", root, UUID_A, HOSTILE_VM));
	fx_mkdirs(fx_path(p, sizeof(p), "%s/volumes/%s/vm", root, UUID_A));
	fx_mkdirs(fx_path(p, sizeof(p), "%s/volumes/%s/base", root, UUID_B));
	fx_mkdirs(fx_path(p, sizeof(p), "%s/outside", root));
	fx_symlink(UUID_A, fx_path(p, sizeof(p), "%s/volumes/ds1", root));
	fx_symlink(UUID_B, fx_path(p, sizeof(p), "%s/volumes/ds2", root));

	/* thin base <- vmfsSparse (relative hint) <- seSparse (absolute hint), hostile names */
	desc_file(UUID_A "/" HOSTILE_VM "/d $(x) 'q'.vmdk", "vmfs", "VMFS", "aaaa0001", "ffffffff", NULL,
		  "ddb.thinProvisioned = \"1\"\n");
	desc_file(UUID_A "/" HOSTILE_VM "/d $(x) 'q'-000001.vmdk", "vmfsSparse", "VMFSSPARSE", "bbbb0002",
		  "aaaa0001", "d $(x) 'q'.vmdk", NULL);
	fx_path(hint, sizeof(hint), "%s/volumes/ds1/%s/d $(x) 'q'-000001.vmdk", root, HOSTILE_VM);
	desc_file(UUID_A "/" HOSTILE_VM "/d $(x) 'q'-000002.vmdk", "seSparse", "SESPARSE", "cccc0003",
		  "bbbb0002", hint, NULL);
	/* a single thick disk, an RDM, and a linked clone whose base is on another datastore */
	desc_file(UUID_A "/vm/thick.vmdk", "vmfs", "VMFS", "00000010", "ffffffff", NULL, NULL);
	desc_file(UUID_A "/vm/rdm.vmdk", "vmfsRawDeviceMap", "VMFSRDM", "00000011", "ffffffff", NULL, NULL);
	desc_file(UUID_B "/base/base.vmdk", "vmfsEagerZeroedThick", "VMFS", "00000020", "ffffffff", NULL, NULL);
	fx_path(hint, sizeof(hint), "%s/volumes/ds2/base/base.vmdk", root);
	desc_file(UUID_A "/vm/linked.vmdk", "seSparse", "SESPARSE", "00000021", "00000020", hint, NULL);
	/* the same, with the hint spelled as ESXi writes it: /vmfs/volumes/... */
	desc_file(UUID_A "/vm/linked-esxi.vmdk", "seSparse", "SESPARSE", "00000022", "00000020",
		  "/vmfs/volumes/ds2/base/base.vmdk", NULL);
	/* broken chains */
	desc_file(UUID_A "/vm/mismatch.vmdk", "vmfsSparse", "VMFSSPARSE", "00000030", "12345678", "thick.vmdk", NULL);
	desc_file(UUID_A "/vm/loop-a.vmdk", "vmfsSparse", "VMFSSPARSE", "00000041", "00000042", "loop-b.vmdk", NULL);
	desc_file(UUID_A "/vm/loop-b.vmdk", "vmfsSparse", "VMFSSPARSE", "00000042", "00000041", "loop-a.vmdk", NULL);
	desc_file(UUID_A "/vm/orphan.vmdk", "vmfsSparse", "VMFSSPARSE", "00000050", "00000051", "gone.vmdk", NULL);
	desc_file(UUID_A "/vm/up.vmdk", "vmfsSparse", "VMFSSPARSE", "00000060", "00000061",
		  "../../../../../../../etc/x.vmdk", NULL);
	desc_file(UUID_A "/vm/etc.vmdk", "vmfsSparse", "VMFSSPARSE", "00000070", "00000071", "/etc/passwd", NULL);
	fx_write_str(fx_path(p, sizeof(p), "%s/outside/out.vmdk", root),
		     "version=1\nCID=81\nparentCID=ffffffff\ncreateType=\"vmfs\"\nRW 8 VMFS \"o-flat.vmdk\"\n");
	fx_symlink("../../../outside/out.vmdk", fx_path(p, sizeof(p), "%s/volumes/%s/vm/esc.vmdk", root, UUID_A));
	desc_file(UUID_A "/vm/via-link.vmdk", "vmfsSparse", "VMFSSPARSE", "00000080", "00000081", "esc.vmdk", NULL);
	desc_file(UUID_A "/vm/bad-parent.vmdk", "vmfsSparse", "VMFSSPARSE", "00000090", "00000091", "garbage.vmdk", NULL);
	fx_write_str(fx_path(p, sizeof(p), "%s/volumes/%s/vm/garbage.vmdk", root, UUID_A), "CID=91\nhello\n");
	/* 33 links: l0 (top) ... l32 (base) */
	for (int i = 0; i <= 32; i++) {
		char rel[128], cid[16], pcid[16], h[64];

		snprintf(rel, sizeof(rel), UUID_A "/vm/l%d.vmdk", i);
		snprintf(cid, sizeof(cid), "%08x", 0x100 + i);
		snprintf(pcid, sizeof(pcid), "%08x", 0x100 + i + 1);
		snprintf(h, sizeof(h), "l%d.vmdk", i + 1);
		desc_file(rel, i == 32 ? "vmfs" : "vmfsSparse", i == 32 ? "VMFS" : "VMFSSPARSE", cid,
			  i == 32 ? "ffffffff" : pcid, i == 32 ? NULL : h, NULL);
	}
}

static int chain(const char *rel, struct ag_vmdk_chain *c, struct ag_error *e)
{
	char path[4096];

	ag_error_clear(e);
	return ag_vmdk_chain_resolve(root, fx_path(path, sizeof(path), "%s/volumes/%s", root, rel), c, e);
}

static void test_chains(void)
{
	struct ag_vmdk_chain c;
	struct ag_error e;
	char canon[4096], want[4096], p[4096];
	static const struct {
		const char *rel;
		int code;
		const char *in_msg;
	} bad[] = {
		{ "ds1/vm/mismatch.vmdk", AG_VMDK_E_CHAIN, "'thick.vmdk': CID 00000010 does not match its child's parentCID 12345678" },
		{ "ds1/vm/loop-a.vmdk", AG_VMDK_E_CHAIN, "loops" },
		{ "ds1/vm/orphan.vmdk", AG_VMDK_E_CHAIN, "'orphan.vmdk': parentFileNameHint: source does not exist" },
		{ "ds1/vm/up.vmdk", AG_VMDK_E_DENIED, "'..'" },
		{ "ds1/vm/etc.vmdk", AG_VMDK_E_DENIED, "not under" },
		{ "ds1/vm/via-link.vmdk", AG_VMDK_E_DENIED, "outside" },
		{ "ds1/vm/bad-parent.vmdk", AG_VMDK_E_SYNTAX, "'garbage.vmdk': line 2" },
		{ "ds1/vm/l0.vmdk", AG_VMDK_E_LIMIT, "deeper than 32" },
		{ "ds1/vm/none.vmdk", AG_VMDK_E_NOT_FOUND, "does not exist" },
		{ "ds1/vm/f-00000010.vmdk", AG_VMDK_E_NOT_FOUND, "does not exist" },
	};

	if (realpath(fx_path(p, sizeof(p), "%s/volumes", root), canon) == NULL)
		exit(2);
	is_int(chain("ds1/" HOSTILE_VM "/d $(x) 'q'-000002.vmdk", &c, &e), 0, "3-link snapshot chain with hostile names");
	is_int(c.depth, 3, "depth 3");
	is_str(c.paths[0], fx_path(want, sizeof(want), "%s/%s/%s/d $(x) 'q'-000002.vmdk", canon, UUID_A, HOSTILE_VM),
	       "top first, canonical");
	is_str(c.paths[1], fx_path(want, sizeof(want), "%s/%s/%s/d $(x) 'q'-000001.vmdk", canon, UUID_A, HOSTILE_VM),
	       "middle reached by an absolute hint through a name symlink");
	is_str(c.paths[2], fx_path(want, sizeof(want), "%s/%s/%s/d $(x) 'q'.vmdk", canon, UUID_A, HOSTILE_VM),
	       "base reached by a relative hint");
	is_int(c.base_format, AG_VMDK_THIN, "base is thin");
	is_int(c.base_create_type, AG_VMDK_CT_VMFS, "base createType");
	ok(c.sparse_link, "sparse links reported");
	is_int(c.size_bytes, 2097152ULL * 512, "size from the top descriptor");
	ag_vmdk_chain_free(&c);
	is_int(c.depth, 0, "free resets the chain");

	is_int(chain("ds1/vm/thick.vmdk", &c, &e), 0, "single thick disk");
	ok(c.depth == 1 && c.base_format == AG_VMDK_THICK && !c.sparse_link, "thick, depth 1, no sparse link");
	ag_vmdk_chain_free(&c);
	is_int(chain("ds1/vm/rdm.vmdk", &c, &e), 0, "rdm");
	is_int(c.base_format, AG_VMDK_RDM, "rdm format");
	ag_vmdk_chain_free(&c);
	is_int(chain("ds1/vm/linked.vmdk", &c, &e), 0, "linked clone with its base on another datastore");
	is_int(c.depth, 2, "two links");
	ok(strstr(c.paths[1], UUID_B) != NULL, "base on datastore B");
	is_int(c.base_create_type, AG_VMDK_CT_VMFS_EAGER_ZEROED_THICK, "eager-zeroed base");
	is_int(c.base_format, AG_VMDK_THICK, "thick base");
	ag_vmdk_chain_free(&c);
	is_int(chain("ds1/vm/linked-esxi.vmdk", &c, &e), 0,
	       "a /vmfs/volumes/... hint names the configured vmfs root");
	ok(c.depth == 2 && strstr(c.paths[1], UUID_B) != NULL, "... and reaches the base on datastore B");
	ag_vmdk_chain_free(&c);
	is_int(chain("ds1/vm/l1.vmdk", &c, &e), 0, "32 links accepted");
	is_int(c.depth, 32, "depth 32");
	ag_vmdk_chain_free(&c);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = chain(bad[i].rel, &c, &e);

		if (!ok(rc == bad[i].code && strstr(e.msg, bad[i].in_msg) != NULL, "chain %s -> %s",
			bad[i].rel, ag_vmdk_code_name(bad[i].code)))
			printf("#   got %s: %s\n", ag_vmdk_code_name(rc), e.msg);
		ok(c.depth == 0, "chain %s: nothing left allocated", bad[i].rel);
	}
	is_int(ag_vmdk_chain_resolve(root, "/etc/passwd", &c, &e), AG_VMDK_E_DENIED, "top outside volumes");
}

int main(void)
{
	d = malloc(sizeof(*d));
	test_samples();
	test_forms();
	test_errors();
	test_limits();
	build_chains();
	test_chains();
	free(d);
	return tap_done();
}
