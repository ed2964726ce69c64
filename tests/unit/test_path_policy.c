/*
 * Unit tests of agent/path_policy.c against a folder that mimics ESXi's /vmfs:
 * volumes/<uuid> folders, datastore-name symlinks, devices/disks/, and hostile
 * names and symlinks (escapes to /etc and outside volumes/, loops).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_fixture.h"
#include "path_policy.h"
#include "tap.h"

#define UUID_A "5f3c1a2b-0011aabb-c0ff-001122334455"
#define UUID_B "5f3c1a2b-2233ccdd-beef-66778899aabb"
#define UUID_C "5f3c1a2b-4455eeff-cafe-001122aabbcc"
#define NAA "naa.600a0980383139544924583130374851"
#define HOSTILE_DIR "it's \"q\" $(reboot); \\ ünï `id` *"
#define HOSTILE_FILE "d $(x);'y'\\z \"w\" ü.vmdk"

static char root[4096];   /* the fake /vmfs */
static char canon[4096];  /* canonical <root>/volumes */

static void build_tree(void)
{
	char p[4096], q[4096];
	static const char *const extents[] = { "disk-flat.vmdk", "disk-000001-delta.vmdk",
		"disk-000001-sesparse.vmdk", "disk-rdm.vmdk", "disk-rdmp.vmdk", "disk-ctk.vmdk" };
	char *big = calloc(1, AG_DESCRIPTOR_MAX + 1);

	fx_path(root, sizeof(root), "%s/vmfs", fx_tmpdir());
	fx_mkdirs(fx_path(p, sizeof(p), "%s/volumes/%s/vm one", root, UUID_A));
	fx_mkdirs(fx_path(p, sizeof(p), "%s/volumes/%s/%s", root, UUID_A, HOSTILE_DIR));
	fx_mkdirs(fx_path(p, sizeof(p), "%s/volumes/%s/vm", root, UUID_B));
	fx_mkdirs(fx_path(p, sizeof(p), "%s/volumes/%s/vm", root, UUID_C));
	fx_mkdirs(fx_path(p, sizeof(p), "%s/outside", root));
	fx_mkdirs(fx_path(p, sizeof(p), "%s/devices/disks/naa.dir", root));
	fx_symlink(UUID_A, fx_path(p, sizeof(p), "%s/volumes/datastore 1", root));
	fx_symlink(fx_path(q, sizeof(q), "%s/volumes/%s", root, UUID_B),
		   fx_path(p, sizeof(p), "%s/volumes/ds-b", root));
	fx_symlink(UUID_B, fx_path(p, sizeof(p), "%s/volumes/alias-b", root));
	fx_symlink("/etc", fx_path(p, sizeof(p), "%s/volumes/evil", root));
	fx_symlink("../outside", fx_path(p, sizeof(p), "%s/volumes/tmp-escape", root));
	fx_write_str(fx_path(p, sizeof(p), "%s/volumes/%s/vm one/disk.vmdk", root, UUID_A), "# Disk DescriptorFile\n");
	fx_write_str(fx_path(p, sizeof(p), "%s/volumes/%s/vm one/notes.txt", root, UUID_A), "x");
	fx_write_str(fx_path(p, sizeof(p), "%s/volumes/%s/vm one/.vmdk", root, UUID_A), "x");
	fx_write(fx_path(p, sizeof(p), "%s/volumes/%s/vm one/big.vmdk", root, UUID_A), big,
		 AG_DESCRIPTOR_MAX + 1, 0644);
	for (size_t i = 0; i < sizeof(extents) / sizeof(extents[0]); i++)
		fx_write_str(fx_path(p, sizeof(p), "%s/volumes/%s/vm one/%s", root, UUID_A, extents[i]), "x");
	fx_write_str(fx_path(p, sizeof(p), "%s/volumes/%s/%s/%s", root, UUID_A, HOSTILE_DIR, HOSTILE_FILE), "x");
	fx_write_str(fx_path(p, sizeof(p), "%s/volumes/%s/vm/b.vmdk", root, UUID_B), "x");
	fx_write_str(fx_path(p, sizeof(p), "%s/volumes/%s/vm/c.vmdk", root, UUID_C), "x");
	fx_write_str(fx_path(p, sizeof(p), "%s/outside/secret.vmdk", root), "x");
	fx_symlink("../../outside/secret.vmdk", fx_path(p, sizeof(p), "%s/volumes/%s/link-out.vmdk", root, UUID_A));
	fx_symlink("../" UUID_B "/vm/b.vmdk", fx_path(p, sizeof(p), "%s/volumes/%s/link-b.vmdk", root, UUID_A));
	fx_symlink(fx_path(q, sizeof(q), "%s/outside", root), fx_path(p, sizeof(p), "%s/volumes/%s/dir-out", root, UUID_A));
	fx_symlink("/etc/passwd", fx_path(p, sizeof(p), "%s/volumes/%s/passwd.vmdk", root, UUID_A));
	fx_symlink("loop2.vmdk", fx_path(p, sizeof(p), "%s/volumes/%s/loop1.vmdk", root, UUID_A));
	fx_symlink("loop1.vmdk", fx_path(p, sizeof(p), "%s/volumes/%s/loop2.vmdk", root, UUID_A));
	fx_write_str(fx_path(p, sizeof(p), "%s/devices/disks/%s", root, NAA), "");
	fx_write_str(fx_path(p, sizeof(p), "%s/devices/disks/eui.0123456789abcdef", root), "");
	fx_write_str(fx_path(p, sizeof(p), "%s/devices/disks/t10.ATA_____Samsung_SSD_850__S21J-1.0", root), "");
	fx_write_str(fx_path(p, sizeof(p), "%s/devices/disks/%s:1", root, NAA), "");
	if (realpath(fx_path(p, sizeof(p), "%s/volumes", root), canon) == NULL)
		exit(2);
	free(big);
}

static int source(const char *input, struct ag_source *s, struct ag_error *e)
{
	memset(s, 0, sizeof(*s));
	ag_error_clear(e);
	return ag_source_resolve(root, input, strlen(input), s, e);
}

static void test_sources_ok(void)
{
	struct ag_source s;
	struct ag_error e;
	char in[4096], want[4096];

	is_int(source("[datastore 1] vm one/disk.vmdk", &s, &e), 0, "[datastore] form resolves");
	is_str(s.path, fx_path(want, sizeof(want), "%s/%s/vm one/disk.vmdk", canon, UUID_A), "canonical path");
	is_str(s.datastore, "datastore 1", "datastore name as given");
	is_str(s.datastore_uuid, UUID_A, "datastore UUID folder");

	is_int(source(fx_path(in, sizeof(in), "%s/volumes/datastore 1/vm one/disk.vmdk", root), &s, &e), 0,
	       "absolute form through the name symlink");
	is_str(s.path, want, "same canonical path");
	is_str(s.datastore, "datastore 1", "name kept");

	is_int(source(fx_path(in, sizeof(in), "%s/volumes/%s//vm one/disk.vmdk", root, UUID_A), &s, &e), 0,
	       "absolute form by UUID (double slash tolerated)");
	is_str(s.datastore, "datastore 1", "name found from the UUID");

	is_int(source("[ds-b] vm/b.vmdk", &s, &e), 0, "absolute name symlink");
	is_str(s.datastore, "ds-b", "given name kept when it leads to the UUID");
	is_str(s.datastore_uuid, UUID_B, "B's UUID");

	is_int(source("[datastore 1] link-b.vmdk", &s, &e), 0, "symlink into another datastore is fine");
	is_str(s.datastore_uuid, UUID_B, "the datastore is where the file really is");
	is_str(s.datastore, "alias-b", "its name: the smallest name symlink to it");

	is_int(source(fx_path(in, sizeof(in), "%s/volumes/%s/vm/c.vmdk", root, UUID_C), &s, &e), 0,
	       "datastore without a name symlink");
	is_str(s.datastore, UUID_C, "name falls back to the UUID");

	is_int(source("[datastore 1] " HOSTILE_DIR "/" HOSTILE_FILE, &s, &e), 0,
	       "quotes, $(), ';', backslashes, backquotes, '*', unicode are plain names");
	is_str(s.path, fx_path(want, sizeof(want), "%s/%s/%s/%s", canon, UUID_A, HOSTILE_DIR, HOSTILE_FILE),
	       "hostile path kept byte for byte");
	is_int(source(fx_path(in, sizeof(in), "%s/%s/vm one/disk.vmdk", canon, UUID_A), &s, &e), 0,
	       "canonical volumes prefix accepted");
}

struct bad_source {
	const char *input; /* "%R" is replaced by the root */
	int code;
	const char *label;
};

static void test_sources_bad(void)
{
	static const struct bad_source cases[] = {
		{ "", AG_PATH_BAD_REQUEST, "empty" },
		{ "vm one/disk.vmdk", AG_PATH_BAD_REQUEST, "relative path" },
		{ "[datastore 1]vm one/disk.vmdk", AG_PATH_BAD_REQUEST, "no space after ]" },
		{ "[datastore 1] ", AG_PATH_BAD_REQUEST, "no path after datastore" },
		{ "[] vm/disk.vmdk", AG_PATH_BAD_REQUEST, "empty datastore" },
		{ "[a/b] vm/disk.vmdk", AG_PATH_BAD_REQUEST, "slash in datastore" },
		{ "[..] vm/disk.vmdk", AG_PATH_BAD_REQUEST, "'..' datastore" },
		{ "[datastore 1] /etc/passwd", AG_PATH_BAD_REQUEST, "absolute path after datastore" },
		{ "[datastore 1] vm one/disk.vmdk\n", AG_PATH_BAD_REQUEST, "newline" },
		{ "[datastore 1] vm\tone/disk.vmdk", AG_PATH_BAD_REQUEST, "tab" },
		{ "[datastore 1] vm one/\xff.vmdk", AG_PATH_BAD_REQUEST, "invalid UTF-8" },
		{ "[datastore 1] vm one/\xc0\xaf.vmdk", AG_PATH_BAD_REQUEST, "overlong UTF-8 slash" },
		{ "[datastore 1] ../" UUID_B "/vm/b.vmdk", AG_PATH_DENIED, "'..' inside volumes" },
		{ "[datastore 1] vm one/../vm one/disk.vmdk", AG_PATH_DENIED, "'..' in the middle" },
		{ "[datastore 1] ./vm one/disk.vmdk", AG_PATH_DENIED, "'.' component" },
		{ "[datastore 1] ../../../../../../etc/passwd", AG_PATH_DENIED, "traversal to /etc" },
		{ "/etc/passwd", AG_PATH_DENIED, "absolute path outside volumes" },
		{ "%R/outside/secret.vmdk", AG_PATH_DENIED, "root but not volumes" },
		{ "%R/volumes/../outside/secret.vmdk", AG_PATH_DENIED, "lexical escape" },
		{ "%R/volumes/evil/passwd", AG_PATH_DENIED, "name symlink to /etc" },
		{ "[evil] passwd", AG_PATH_DENIED, "[name] symlink to /etc" },
		{ "[tmp-escape] secret.vmdk", AG_PATH_DENIED, "name symlink outside volumes" },
		{ "[datastore 1] link-out.vmdk", AG_PATH_DENIED, "file symlink escaping volumes" },
		{ "[datastore 1] dir-out/secret.vmdk", AG_PATH_DENIED, "folder symlink escaping volumes" },
		{ "[datastore 1] passwd.vmdk", AG_PATH_DENIED, "file symlink to /etc/passwd" },
		{ "[datastore 1] loop1.vmdk", AG_PATH_DENIED, "symlink loop" },
		{ "[datastore 1] vm one/none.vmdk", AG_PATH_SOURCE_NOT_FOUND, "missing file" },
		{ "[nosuch] vm/disk.vmdk", AG_PATH_SOURCE_NOT_FOUND, "missing datastore" },
		{ "[datastore 1] vm one/disk.vmdk/x.vmdk", AG_PATH_SOURCE_NOT_FOUND, "file used as folder" },
		{ "[datastore 1] vm one", AG_PATH_DENIED, "a folder" },
		{ "%R/volumes/datastore 1", AG_PATH_DENIED, "a datastore" },
		{ "%R/volumes/", AG_PATH_DENIED, "the volumes folder" },
		{ "[datastore 1] vm one/notes.txt", AG_PATH_DENIED, "not .vmdk" },
		{ "[datastore 1] vm one/.vmdk", AG_PATH_DENIED, "just .vmdk" },
		{ "[datastore 1] vm one/big.vmdk", AG_PATH_DENIED, "too large for a descriptor" },
		{ "[datastore 1] vm one/disk-flat.vmdk", AG_PATH_DENIED, "-flat extent" },
		{ "[datastore 1] vm one/disk-000001-delta.vmdk", AG_PATH_DENIED, "-delta extent" },
		{ "[datastore 1] vm one/disk-000001-sesparse.vmdk", AG_PATH_DENIED, "-sesparse extent" },
		{ "[datastore 1] vm one/disk-rdm.vmdk", AG_PATH_DENIED, "-rdm extent" },
		{ "[datastore 1] vm one/disk-rdmp.vmdk", AG_PATH_DENIED, "-rdmp extent" },
		{ "[datastore 1] vm one/disk-ctk.vmdk", AG_PATH_DENIED, "-ctk file" },
	};
	char in[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ag_source s;
		struct ag_error e;
		const char *r = strstr(cases[i].input, "%R");
		int rc;

		if (r != NULL)
			fx_path(in, sizeof(in), "%s%s", root, r + 2);
		else
			fx_path(in, sizeof(in), "%s", cases[i].input);
		rc = source(in, &s, &e);
		if (!ok(rc == cases[i].code, "source %s -> %s", cases[i].label,
			ag_path_code_name(cases[i].code)))
			printf("#   got %s: %s\n", ag_path_code_name(rc), e.msg);
		ok(e.msg[0] != '\0' && strstr(e.msg, "/etc/passwd") == NULL,
		   "source %s: message given, target not revealed", cases[i].label);
	}
}

static void test_source_limits(void)
{
	struct ag_source s;
	struct ag_error e;
	char *long_in = malloc(AG_PATH_MAX + 16);
	const char nul_in[] = "[datastore 1] vm one/disk.vmdk\0/../../x";

	memset(long_in, 'a', AG_PATH_MAX + 15);
	memcpy(long_in, "[datastore 1] ", 14);
	long_in[AG_PATH_MAX + 15] = '\0';
	is_int(source(long_in, &s, &e), AG_PATH_BAD_REQUEST, "source longer than 4 KiB");
	is_int(ag_source_resolve(root, nul_in, sizeof(nul_in) - 1, &s, &e), AG_PATH_BAD_REQUEST,
	       "embedded NUL refused (explicit length)");
	free(long_in);
}

static int check_calls;

static int refuse_eui(void *ctx, const struct ag_target *t, struct ag_error *err)
{
	check_calls++;
	if (strncmp(t->id, "eui.", 4) == 0)
		return ag_error_set(err, AG_PATH_TARGET_UNSAFE, "%s backs a datastore (%s)", t->id,
				    (const char *)ctx);
	return 0;
}

static int target(const char *input, struct ag_target *t, struct ag_error *e)
{
	memset(t, 0, sizeof(*t));
	ag_error_clear(e);
	return ag_target_resolve(root, input, strlen(input), refuse_eui, "test", t, e);
}

static void test_targets(void)
{
	struct ag_target t;
	struct ag_error e;
	char in[4096], want[4096];
	static const struct {
		const char *input;
		int code;
		const char *label;
	} bad[] = {
		{ "", AG_PATH_BAD_REQUEST, "empty" },
		{ NAA ":1", AG_PATH_TARGET_UNSAFE, "partition suffix" },
		{ "naa.", AG_PATH_TARGET_UNSAFE, "prefix only" },
		{ "NAA.600a", AG_PATH_TARGET_UNSAFE, "upper-case prefix" },
		{ "sda", AG_PATH_TARGET_UNSAFE, "linux name" },
		{ "mpx.vmhba0:C0:T0:L0", AG_PATH_TARGET_UNSAFE, "mpx local device" },
		{ "vml.0200000000600a0980", AG_PATH_TARGET_UNSAFE, "vml alias" },
		{ "naa.600a/../../../etc/passwd", AG_PATH_TARGET_UNSAFE, "traversal in id" },
		{ "naa.600a $(reboot)", AG_PATH_TARGET_UNSAFE, "shell in id" },
		{ "naa.600a;reboot", AG_PATH_TARGET_UNSAFE, "semicolon in id" },
		{ "naa.600a\\x", AG_PATH_TARGET_UNSAFE, "backslash in id" },
		{ "naa.600a'x'", AG_PATH_TARGET_UNSAFE, "quote in id" },
		{ "naa.6ü", AG_PATH_TARGET_UNSAFE, "unicode in id" },
		{ "naa.600a\n", AG_PATH_BAD_REQUEST, "newline" },
		{ "/dev/sda", AG_PATH_TARGET_UNSAFE, "linux device path" },
		{ "/vmfs/devices/disks/" NAA, AG_PATH_TARGET_UNSAFE, "real /vmfs prefix when root differs" },
		{ "%R/volumes/datastore 1/vm one/disk.vmdk", AG_PATH_TARGET_UNSAFE, "a file in volumes" },
		{ "%R/devices/disks/../disks/" NAA, AG_PATH_TARGET_UNSAFE, "'..' after the prefix" },
		{ "%R/devices/disks/" NAA ":1", AG_PATH_TARGET_UNSAFE, "partition in path form" },
		{ "naa.600a0980383139544924583130370000", AG_PATH_TARGET_NOT_FOUND, "absent device" },
		{ "naa.dir", AG_PATH_TARGET_UNSAFE, "a folder is no device" },
		{ "eui.0123456789abcdef", AG_PATH_TARGET_UNSAFE, "refused by the check hook" },
	};
	char *long_id = malloc(AG_DEVICE_ID_MAX + 2);

	is_int(target(NAA, &t, &e), 0, "bare naa id");
	is_str(t.id, NAA, "id");
	is_str(t.path, fx_path(want, sizeof(want), "%s/devices/disks/%s", root, NAA), "device path");
	is_int(target(fx_path(in, sizeof(in), "%s/devices/disks/%s", root, NAA), &t, &e), 0, "path form");
	is_str(t.id, NAA, "id from path form");
	is_int(target("t10.ATA_____Samsung_SSD_850__S21J-1.0", &t, &e), 0, "t10 id with '_', '-' and '.'");
	check_calls = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *r = strstr(bad[i].input, "%R");
		int rc;

		if (r != NULL)
			fx_path(in, sizeof(in), "%s%s", root, r + 2);
		else
			fx_path(in, sizeof(in), "%s", bad[i].input);
		rc = target(in, &t, &e);
		if (!ok(rc == bad[i].code, "target %s -> %s", bad[i].label, ag_path_code_name(bad[i].code)))
			printf("#   got %s: %s\n", ag_path_code_name(rc), e.msg);
	}
	is_int(check_calls, 1, "check hook runs only once every other rule passed");
	ok(strstr(e.msg, "eui.0123456789abcdef") != NULL, "hook message names the device");
	ok(strstr(e.msg, "backs a datastore (test)") != NULL, "hook gets ctx and writes the error");
	memset(long_id, 'a', AG_DEVICE_ID_MAX + 1);
	memcpy(long_id, "naa.", 4);
	long_id[AG_DEVICE_ID_MAX + 1] = '\0';
	is_int(target(long_id, &t, &e), AG_PATH_TARGET_UNSAFE, "id of 256 bytes refused");
	ok(ag_device_id_valid(long_id, AG_DEVICE_ID_MAX), "id of 255 bytes valid");
	is_int(ag_target_resolve(root, NAA, strlen(NAA), NULL, NULL, &t, &e), 0, "no hook given");
	free(long_id);
}

static void test_pointer_and_names(void)
{
	char buf[4096], want[4096];
	struct ag_error e;
	char id64[65], id65[66];

	is_int(ag_pointer_path(root, UUID_A, "t-0123abcd_9", buf, sizeof(buf), &e), 0, "pointer path");
	is_str(buf, fx_path(want, sizeof(want), "%s/volumes/%s/.xclone/t-0123abcd_9.vmdk", root, UUID_A),
	       "pointer path layout");
	is_int(ag_pointer_dir(root, UUID_A, buf, sizeof(buf), &e), 0, "pointer dir");
	is_str(buf, fx_path(want, sizeof(want), "%s/volumes/%s/.xclone", root, UUID_A), "pointer dir layout");
	is_int(ag_pointer_path(root, UUID_A, "../../etc/x", buf, sizeof(buf), &e), AG_PATH_BAD_REQUEST,
	       "task id with traversal");
	is_int(ag_pointer_path(root, UUID_A, "", buf, sizeof(buf), &e), AG_PATH_BAD_REQUEST, "empty task id");
	is_int(ag_pointer_path(root, "..", "t1", buf, sizeof(buf), &e), AG_PATH_BAD_REQUEST, "'..' uuid");
	is_int(ag_pointer_path(root, "a/b", "t1", buf, sizeof(buf), &e), AG_PATH_BAD_REQUEST, "slash in uuid");
	is_int(ag_pointer_path(root, UUID_A, "t1", buf, 20, &e), AG_PATH_BAD_REQUEST, "small buffer reported");
	memset(id64, 'a', 64), id64[64] = '\0';
	memset(id65, 'a', 65), id65[65] = '\0';
	ok(ag_task_id_valid(id64, 64), "task id of 64");
	ok(!ag_task_id_valid(id65, 65), "task id of 65");
	ok(!ag_task_id_valid(".hidden", 7), "task id starting with '.'");
	ok(!ag_task_id_valid("-x", 2), "task id starting with '-'");
	ok(!ag_task_id_valid("a b", 3), "task id with space");
	ok(!ag_task_id_valid("a.b", 3), "task id with '.'");
	ok(ag_task_id_valid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", 36), "uuid-shaped task id");
	ok(ag_datastore_name_valid("ds 1 ü $(x);'\"", strlen("ds 1 ü $(x);'\"")), "hostile datastore name is just a name");
	ok(!ag_datastore_name_valid("a/b", 3), "slash in datastore name");
	ok(!ag_datastore_name_valid(".", 1) && !ag_datastore_name_valid("..", 2), "dot names");
	ok(!ag_datastore_name_valid("a\x7f", 2), "DEL in datastore name");
	is_str(ag_path_code_name(AG_PATH_DENIED), "PATH_DENIED", "code name");
	is_str(ag_path_code_name(99), "INTERNAL", "unknown code name");
}

int main(void)
{
	build_tree();
	test_sources_ok();
	test_sources_bad();
	test_source_limits();
	test_targets();
	test_pointer_and_names();
	return tap_done();
}
