/*
 * Unit tests of the host tool layer against real programs and the ESXi host
 * simulator: ag_hostcmd_run / ag_hostcmd_run_all failure modes, and the
 * contract of host_query.h (ag_device_query, ag_target_check,
 * ag_clone_write_counter) and rescan.h (ag_rescan, its state file and its
 * coalescing across threads) on a host built from scenarios/golden.json.
 * Run from the repository root (tests/run does); needs python3 for the simulator.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_fixture.h"
#include "esxcli.h"
#include "host_query.h"
#include "rescan.h"
#include "spawn.h"
#include "tap.h"

#define FREE_LUN "naa.624a93700e1b2c3d4e5f607182930a10"   /* 1 GiB, VAAI clone supported */
#define NOCLONE_LUN "naa.624a93700e1b2c3d4e5f607182930a11" /* 512 MiB, VAAI clone unsupported */
#define DS_LUN "naa.624a93700e1b2c3d4e5f607182930a01"      /* backs gold-iscsi */
#define FC_DS_LUN "naa.624a93700e1b2c3d4e5f607182930a02"   /* backs the FC datastore, 2 paths */

static char root[4096];
static struct ag_config cfg;

static void run_or_die(const char *const *argv)
{
	struct ag_spawn_opts o = { .argv = argv, .timeout_ms = 120000 };
	struct ag_spawn_result r;
	struct ag_error e = { 0 };

	if (ag_spawn_run(&o, &r, &e) != 0 || !r.exited || r.exit_code != 0) {
		printf("# %s failed: %s %s\n", argv[0], e.msg, r.err ? r.err : "");
		exit(2);
	}
	ag_spawn_result_free(&r);
}

static void make_host(void)
{
	char cwd[2048], mkhost[4096], scenario[4096], state[4096];

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		exit(2);
	fx_path(mkhost, sizeof(mkhost), "%s/tests/sim/esxi/mkhost", cwd);
	fx_path(scenario, sizeof(scenario), "%s/tests/sim/esxi/scenarios/golden.json", cwd);
	fx_path(root, sizeof(root), "%s/host", fx_tmpdir());
	run_or_die((const char *const[]){ mkhost, scenario, root, NULL });
	memset(&cfg, 0, sizeof(cfg));
	fx_path(cfg.esxcli_path, sizeof(cfg.esxcli_path), "%s/bin/esxcli", root);
	fx_path(cfg.vsish_path, sizeof(cfg.vsish_path), "%s/bin/vsish", root);
	fx_path(cfg.vmkfstools_path, sizeof(cfg.vmkfstools_path), "%s/bin/vmkfstools", root);
	fx_path(cfg.vmfs_root, sizeof(cfg.vmfs_root), "%s/vmfs", root);
	fx_path(state, sizeof(state), "%s/state", fx_tmpdir());
	fx_path(cfg.state_dir, sizeof(cfg.state_dir), "%s", state);
	cfg.esxcli_timeout_s = 60;
	cfg.rescan_timeout_s = 60;
	cfg.rescan_settle_timeout_s = 60;
}

static void set_faults(const char *json)
{
	char path[4096];

	fx_path(path, sizeof(path), "%s/faults.json", root);
	fx_write_str(path, json);
	fx_path(path, sizeof(path), "%s/etc/fault-counters.json", root);
	unlink(path);
}

static int esxcli(const char *const *words)
{
	struct ag_hostcmd c;
	int rc;

	ag_esxcli_init(&c, &cfg, words);
	rc = ag_hostcmd_run(&c);
	ag_hostcmd_free(&c);
	return rc;
}

/* --- ag_hostcmd with ordinary programs ------------------------------------------------ */

static void test_hostcmd(void)
{
	struct ag_hostcmd c, many[12];
	struct xp_error err = { 0 };
	char nums[12][16];
	bool all_right = true;

	ag_hostcmd_init(&c, "echo", "/bin/echo", (const char *const[]){ "a b", "$(c);", NULL }, 5000,
			1024);
	is_int(ag_hostcmd_run(&c), XP_OK, "hostcmd: /bin/echo runs");
	is_str(c.out, "a b $(c);\n", "hostcmd: arguments arrive as they are, no shell");
	ag_hostcmd_free(&c);

	ag_hostcmd_init(&c, "nothing", "/nonexistent/tool", NULL, 5000, 1024);
	is_int(ag_hostcmd_run(&c), XP_HOST_COMMAND_FAILED, "hostcmd: a missing program fails");
	ok(strstr(c.err.message, "could not run") != NULL, "... 'could not run' (%s)", c.err.message);

	ag_hostcmd_init(&c, "ls", "/bin/ls", (const char *const[]){ "/nonexistent-xclone", NULL },
			5000, 1024);
	is_int(ag_hostcmd_run(&c), XP_HOST_COMMAND_FAILED, "hostcmd: non-zero exit fails");
	ok(strstr(c.err.message, "failed (exit 2)") != NULL &&
	   strstr(c.err.message, "nonexistent-xclone") != NULL,
	   "... with the exit status and the tool's own words (%s)", c.err.message);
	ok(c.out == NULL, "... and no output handed over");

	ag_hostcmd_init(&c, "sleep", "/bin/sleep", (const char *const[]){ "30", NULL }, 300, 1024);
	is_int(ag_hostcmd_run(&c), XP_TIMEOUT, "hostcmd: past its deadline: TIMEOUT");
	ok(strstr(c.err.message, "did not finish within 300 ms") != NULL, "... saying so (%s)",
	   c.err.message);

	ag_hostcmd_init(&c, "head", "/usr/bin/head",
			(const char *const[]){ "-c", "5000", "/dev/zero", NULL }, 5000, 4096);
	is_int(ag_hostcmd_run(&c), XP_HOST_COMMAND_FAILED, "hostcmd: too much output fails");
	ok(strstr(c.err.message, "printed more than 4096 bytes") != NULL, "... saying so (%s)",
	   c.err.message);

	for (int i = 0; i < 12; i++) {
		snprintf(nums[i], sizeof(nums[i]), "%d", i);
		ag_hostcmd_init(&many[i], "echo", "/bin/echo", (const char *const[]){ nums[i], NULL },
				5000, 1024);
	}
	many[7].program = "/nonexistent/tool";
	is_int(ag_hostcmd_run_all(many, 12, &err), XP_HOST_COMMAND_FAILED,
	       "run_all: the failing command's code");
	ok(strstr(err.message, "could not run") != NULL, "run_all: its message (%s)", err.message);
	for (int i = 0; i < 12; i++) {
		char want[8];

		snprintf(want, sizeof(want), "%d\n", i);
		if (i != 7)
			all_right = all_right && many[i].code == XP_OK && strcmp(many[i].out, want) == 0;
		ag_hostcmd_free(&many[i]);
	}
	ok(all_right, "run_all: every other command ran with its own arguments and output");
	is_int(ag_hostcmd_run_all(many, 0, &err), 0, "run_all: nothing to run is fine");
}

/* --- host_query.h on the simulator ------------------------------------------------------ */

static void test_device_query(void)
{
	struct ag_device d;
	struct xp_error err = { 0 };

	is_int(ag_device_query(&cfg, FREE_LUN, AG_DEV_ALL, &d, &err), 0, "query: free LUN (%s)",
	       err.message);
	ok(d.present && strcmp(d.status, "on") == 0, "query: present, on");
	is_int(d.size_bytes, 1024ull << 20, "query: size in bytes");
	is_str(d.vendor, "SIMARRAY", "query: vendor trimmed");
	is_str(d.model, "SimLUN", "query: model trimmed");
	ok(!d.is_local, "query: not local");
	is_str(d.vaai_clone, "supported", "query: VAAI clone supported");
	is_str(d.backs_datastore, "", "query: backs no datastore");
	is_int(d.paths, 1, "query: one active path");

	is_int(ag_device_query(&cfg, FC_DS_LUN, AG_DEV_ALL, &d, &err), 0, "query: FC datastore LUN");
	is_str(d.backs_datastore, "gold fc \"prod\" (\xc3\xbc)", "query: its datastore, hostile name");
	is_int(d.paths, 2, "query: two active paths");

	is_int(ag_device_query(&cfg, NOCLONE_LUN, AG_DEV_ALL, &d, &err), 0,
	       "query: LUN without VAAI clone");
	is_str(d.vaai_clone, "unsupported", "query: VAAI clone unsupported");

	is_int(ag_device_query(&cfg, "naa.6000000000000000000000000000dead", AG_DEV_ALL, &d, &err), 0,
	       "query: an unknown device is no error");
	ok(!d.present && d.status[0] == '\0' && d.size_bytes == 0, "query: unknown: not present, no status");
	is_int(ag_device_query(&cfg, "mpx.vmhba0:C0:T0:L0", AG_DEV_ALL, &d, &err), XP_BAD_REQUEST,
	       "query: not a naa/eui/t10 id: BAD_REQUEST");
	is_int(ag_device_query(&cfg, "naa.1 $(x)", AG_DEV_ALL, &d, &err), XP_BAD_REQUEST,
	       "query: hostile id: BAD_REQUEST");

	set_faults("{\"esxcli_fail\":[{\"command\":\"storage vmfs extent list\",\"times\":1,"
		   "\"message\":\"Error: injected extent failure\"}]}");
	is_int(ag_device_query(&cfg, FREE_LUN, AG_DEV_ALL, &d, &err), XP_HOST_COMMAND_FAILED,
	       "query: a failing esxcli is HOST_COMMAND_FAILED");
	ok(strstr(err.message, "injected extent failure") != NULL &&
	   strstr(err.message, "esxcli storage vmfs extent list") != NULL,
	   "... naming the command and quoting it (%s)", err.message);
	ok(!d.present, "... and the device is not reported");
	is_int(ag_device_query(&cfg, FREE_LUN, AG_DEV_ALL, &d, &err), 0,
	       "query: the next call works again");
	set_faults("{\"esxcli_fail\":[{\"command\":\"storage core device list\",\"times\":1}]}");
	is_int(ag_device_query(&cfg, FREE_LUN, AG_DEV_ALL, &d, &err), 0,
	       "query: one failed 'device list -d' is recovered by the full list");
	ok(d.present && d.paths == 1, "... with the device's facts");
	set_faults("{}");
}

/* A query runs only the calls of the parts asked: an armed failure of the others stays armed. */
static void test_device_query_parts(void)
{
	const char *gone = "naa.6000000000000000000000000000dead";
	struct ag_device d;
	struct xp_error err = { 0 };

	set_faults("{\"esxcli_fail\":[{\"command\":\"storage core path list\",\"times\":1},"
		   "{\"command\":\"storage core device vaai\",\"times\":1}]}");
	is_int(ag_device_query(&cfg, FREE_LUN, AG_DEV_EXTENTS, &d, &err), 0,
	       "parts: extents alone (%s)", err.message);
	ok(d.present && d.parts == AG_DEV_EXTENTS, "parts: the record says what it answers");
	ok(strcmp(d.vaai_clone, "unknown") == 0 && d.paths == 0,
	   "parts: VAAI and paths not asked keep their don't-know values");
	is_int(ag_device_query(&cfg, DS_LUN, AG_DEV_EXTENTS, &d, &err), 0, "parts: datastore LUN");
	is_str(d.backs_datastore, "gold-iscsi", "parts: extents answered");
	is_int(ag_device_query(&cfg, FREE_LUN, AG_DEV_ALL, &d, &err), XP_HOST_COMMAND_FAILED,
	       "parts: the failures armed for paths and VAAI were not used before");
	set_faults("{}");

	is_int(ag_device_query(&cfg, gone, AG_DEV_LISTED_ONLY, &d, &err), 0,
	       "parts: listed only, unknown device");
	ok(!d.present && d.status[0] == '\0', "parts: listed only: absent, nothing asked why");
	set_faults("{\"esxcli_fail\":[{\"command\":\"storage core device detached list\","
		   "\"times\":1}]}");
	is_int(ag_device_query(&cfg, gone, AG_DEV_LISTED_ONLY, &d, &err), 0,
	       "parts: listed only never asks the detached list");
	is_int(ag_device_query(&cfg, gone, 0, &d, &err), XP_HOST_COMMAND_FAILED,
	       "parts: without it, an absent device asks the detached list");
	set_faults("{}");
}

static void test_target_check(void)
{
	struct ag_device d;
	struct xp_error err = { 0 };
	const char *const off[] = { "storage", "core", "device", "set", "--state", "off", "-d",
				    NOCLONE_LUN, NULL };

	is_int(ag_target_check(&cfg, FREE_LUN, 1024ull << 20, AG_DEV_VAAI, &d, &err), 0,
	       "target: a free LUN as big as needed");
	ok(d.present && d.size_bytes == 1024ull << 20, "target: out filled");
	is_int(ag_target_check(&cfg, FREE_LUN, (1024ull << 20) + 1, 0, NULL, &err), XP_TARGET_TOO_SMALL,
	       "target: one byte too small");
	is_int(ag_target_check(&cfg, DS_LUN, 0, 0, &d, &err), XP_TARGET_UNSAFE,
	       "target: a datastore LUN is unsafe");
	is_str(err.message, DS_LUN " backs datastore gold-iscsi", "target: message");
	is_int(ag_target_check(&cfg, "naa.6000000000000000000000000000dead", 0, 0, NULL, &err),
	       XP_TARGET_NOT_FOUND, "target: unknown device");
	is_int(ag_target_check(&cfg, FREE_LUN ":1", 0, 0, NULL, &err), XP_TARGET_UNSAFE,
	       "target: a partition is unsafe");
	is_int(esxcli(off), 0, "sim: set a LUN off");
	is_int(ag_target_check(&cfg, NOCLONE_LUN, 0, 0, &d, &err), XP_TARGET_UNSAFE,
	       "target: a device set off is unsafe");
	ok(d.present && strcmp(d.status, "off") == 0, "target: status off reported (%s)", d.status);
}

static void test_clone_counter(void)
{
	char src[4096], dev[4096], ptr[4096], vsish[4096];
	uint64_t v = 99;
	bool known = false;
	struct xp_error err = { 0 };

	is_int(ag_clone_write_counter(&cfg, FREE_LUN, &v, &known, &err), 0, "counter: reads");
	ok(known && v == 0, "counter: known, 0 before any clone");
	fx_path(src, sizeof(src), "%s/vmfs/volumes/gold-iscsi/vm1/vm1.vmdk", root);
	fx_path(dev, sizeof(dev), "rdm:%s/vmfs/devices/disks/%s", root, FREE_LUN);
	fx_path(ptr, sizeof(ptr), "%s/vmfs/volumes/gold-iscsi/vm1/xclone-test.vmdk", root);
	run_or_die((const char *const[]){ cfg.vmkfstools_path, "-i", src, "-d", dev, ptr, NULL });
	is_int(ag_clone_write_counter(&cfg, FREE_LUN, &v, &known, &err), 0,
	       "counter: reads after an offloaded clone");
	ok(known && v > 0, "counter: grew (%llu)", (unsigned long long)v);
	is_int(ag_clone_write_counter(&cfg, "naa.6000000000000000000000000000dead", &v, &known, &err),
	       0, "counter: unknown device is no error");
	ok(!known && v == 0, "counter: unknown device: cannot tell, 0");
	memcpy(vsish, cfg.vsish_path, sizeof(vsish));
	fx_path(cfg.vsish_path, sizeof(cfg.vsish_path), "/nonexistent/vsish");
	is_int(ag_clone_write_counter(&cfg, FREE_LUN, &v, &known, &err), 0,
	       "counter: missing vsish is no error");
	ok(!known, "counter: missing vsish: cannot tell");
	memcpy(cfg.vsish_path, vsish, sizeof(vsish));
	is_int(ag_clone_write_counter(&cfg, "naa.1;reboot", &v, &known, &err), XP_BAD_REQUEST,
	       "counter: hostile id refused");
}

/* --- rescan.h ------------------------------------------------------------------------------ */

static char *read_state(void)
{
	static char buf[4096];
	char path[4096];
	FILE *f;
	size_t n;

	fx_path(path, sizeof(path), "%s/rescan.state", cfg.state_dir);
	f = fopen(path, "r");
	if (f == NULL)
		return strcpy(buf, "(none)");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

struct racer {
	pthread_barrier_t *go;
	int ran, rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct xp_error err = { 0 };

	pthread_barrier_wait(r->go);
	r->rc = ag_rescan(&cfg, NULL, XP_RESCAN_ALL, 0, &r->ran, &err);
	return NULL;
}

static void test_rescan(void)
{
	struct xp_error err = { 0 };
	struct racer racers[6];
	pthread_t t[6];
	pthread_barrier_t go;
	int ran = -1, total = 0, failed = 0;

	is_int(ag_rescan(&cfg, NULL, XP_RESCAN_ALL, 0, &ran, &err), 0, "rescan: --all runs (%s)",
	       err.message);
	is_int(ran, 1, "rescan: it ran");
	is_str(read_state(), "started 1\ndone 1 * all\n", "rescan: state recorded");
	is_int(ag_rescan(&cfg, "vmhba64", XP_RESCAN_ADD, 0, &ran, &err), 0, "rescan: one adapter, add");
	is_int(ran, 1, "rescan: a later request is not coalesced with an earlier rescan");
	is_str(read_state(), "started 2\ndone 1 * all\ndone 2 vmhba64 add\n", "rescan: both scopes kept");

	set_faults("{\"esxcli_fail\":[{\"command\":\"storage core adapter rescan\",\"times\":1,"
		   "\"message\":\"Error: injected rescan failure\"}]}");
	is_int(ag_rescan(&cfg, NULL, XP_RESCAN_ADD, 0, &ran, &err), XP_HOST_COMMAND_FAILED,
	       "rescan: esxcli failing is HOST_COMMAND_FAILED");
	ok(strstr(err.message, "injected rescan failure") != NULL, "... with its words (%s)",
	   err.message);
	is_int(ran, 0, "rescan: a failed rescan did not run");
	is_str(read_state(), "started 3\ndone 1 * all\ndone 2 vmhba64 add\n",
	       "rescan: a failed rescan is started, never done");

	set_faults("{\"rescan_ms\": 300}");
	pthread_barrier_init(&go, NULL, 6);
	for (int i = 0; i < 6; i++) {
		racers[i] = (struct racer){ .go = &go, .ran = -1, .rc = -1 };
		pthread_create(&t[i], NULL, race, &racers[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		total += racers[i].ran;
		failed += racers[i].rc != 0;
	}
	pthread_barrier_destroy(&go);
	is_int(failed, 0, "coalescing: six concurrent rescans all succeed");
	ok(total >= 1 && total <= 3, "coalescing: six requests, %d real rescans", total);
	set_faults("{\"rescan_ms\": 8000}");
	cfg.rescan_timeout_s = 1;
	is_int(ag_rescan(&cfg, NULL, XP_RESCAN_ALL, 0, &ran, &err), XP_TIMEOUT,
	       "rescan: a rescan past its deadline is TIMEOUT");
	cfg.rescan_timeout_s = 60;
	set_faults("{}");
}

int main(void)
{
	test_hostcmd();
	make_host();
	test_device_query();
	test_device_query_parts();
	test_target_check();
	test_clone_counter();
	test_rescan();
	return tap_done();
}
