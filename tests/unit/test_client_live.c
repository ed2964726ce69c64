/*
 * libxclone against the real agent behind a real sshd (and `xclone-agent serve`)
 * over the ESXi simulator: every operation, host identity (known_hosts match,
 * mismatch with the fingerprint shown, pins, trust on first use, hashed names),
 * keys (Ed25519, RSA with SHA-2, passphrase, unknown, read-only), the agent
 * missing, timeouts, many threads on one connection, parallel watches, and a
 * watch that survives its connection being killed.
 *
 * Run without XCT_* in the environment (as tests/run does) it starts itself
 * under tests/integration/test_client_fixture.py, which builds that world in a
 * temp folder and removes it afterwards. XCT_QUICK=1 (the valgrind run) leaves
 * out the slow parallel-watch tests.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "xclone.h"

#define FIXTURE "tests/integration/test_client_fixture.py"

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL ? v : "";
}

static bool quick(void)
{
	return getenv("XCT_QUICK") != NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void base(struct xclone_conn_options *o)
{
	xclone_conn_options_init(o);
	o->host = env("XCT_HOST");
	o->port = (unsigned)atoi(env("XCT_PORT"));
	o->user = env("XCT_USER");
	o->identity_file = env("XCT_KEY");
	o->known_hosts_file = env("XCT_KNOWN_HOSTS");
	o->connect_timeout_ms = 30000;
	o->backoff_ms = 50;
	o->backoff_max_ms = 400;
	o->max_attempts = 6;
}

static void tls_base(struct xclone_conn_options *o)
{
	xclone_conn_options_init(o);
	o->transport = XCLONE_TRANSPORT_TLS;
	o->host = env("XCT_HOST");
	o->port = (unsigned)atoi(env("XCT_TLS_PORT"));
	o->tls_cert_file = env("XCT_TLS_CERT");
	o->tls_key_file = env("XCT_TLS_KEY");
	o->tls_ca_file = env("XCT_TLS_CA");
	o->connect_timeout_ms = 30000;
	o->backoff_ms = 100;
	o->backoff_max_ms = 1000;
	o->max_attempts = 12;
}

/* Connects and says hello; the code, with the error in err. */
static int hello_with(const struct xclone_conn_options *o, struct xclone_error *err,
		      struct xclone_hello **out)
{
	xclone_conn *c = NULL;
	struct xclone_hello *h = NULL;
	int rc = xclone_connect(&c, o, err);

	if (rc == 0)
		rc = xclone_hello(c, &h, err);
	if (out != NULL)
		*out = h;
	else
		xclone_hello_free(h);
	xclone_disconnect(c);
	return rc;
}

/* The fingerprint ssh-keygen prints for the server's host key: an independent reference. */
static void host_fingerprint(char *out, size_t cap)
{
	char path[512], cmd[700];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/host.pub", env("XCT_TMP"));
	f = fopen(path, "w");
	if (f == NULL)
		return;
	fprintf(f, "%s\n", env("XCT_HOST_PUB"));
	fclose(f);
	snprintf(cmd, sizeof(cmd), "ssh-keygen -l -E sha256 -f '%s'", path);
	f = popen(cmd, "r");
	if (f == NULL)
		return;
	if (fscanf(f, "%*d %255s", out) != 1) /* "256 SHA256:... comment (ED25519)" */
		out[0] = '\0';
	pclose(f);
	(void)cap;
}

static const char *write_file(const char *name, const char *text)
{
	static char path[4][512];
	static int n;
	char *p = path[n++ % 4];
	FILE *f;

	snprintf(p, 512, "%s/%s", env("XCT_TMP"), name);
	f = fopen(p, "w");
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
	return p;
}

static bool file_has(const char *path, const char *needle)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* ---- identity ------------------------------------------------------------------- */

static void test_host_identity(void)
{
	struct xclone_conn_options o;
	struct xclone_error err = { 0 };
	char fp[256], text[2048], other[600], pubfile[600], kh[600];
	const char *file;
	FILE *f;

	host_fingerprint(fp, sizeof(fp));
	ok(strncmp(fp, "SHA256:", 7) == 0, "reference fingerprint from ssh-keygen: %s", fp);

	/* known_hosts holding another key for [127.0.0.1]:port */
	snprintf(pubfile, sizeof(pubfile), "%s.pub", env("XCT_KEY_UNKNOWN"));
	f = fopen(pubfile, "r");
	if (f == NULL || fgets(other, sizeof(other), f) == NULL)
		other[0] = '\0';
	if (f != NULL)
		fclose(f);
	other[strcspn(other, "\n")] = '\0';
	snprintf(text, sizeof(text), "# first line\n[%s]:%s %s\n", env("XCT_HOST"), env("XCT_PORT"),
		 other);
	base(&o);
	o.known_hosts_file = write_file("kh_changed", text);
	ok(hello_with(&o, &err, NULL) == XC_E_HOSTKEY, "a changed host key is refused");
	ok(strstr(err.message, fp) != NULL, "the message shows the fingerprint seen: %s", err.message);
	ok(strstr(err.message, "line 2") != NULL && strstr(err.message, "ssh-keygen -R") != NULL,
	   "and the known_hosts line, and how to remove it");
	o.accept_new_host_key = true;
	ok(hello_with(&o, &err, NULL) == XC_E_HOSTKEY, "accepting new keys never accepts a changed one");

	base(&o);
	o.host_key_fingerprint = fp;
	o.known_hosts_file = "/nonexistent/known_hosts";
	ok(hello_with(&o, &err, NULL) == 0, "the pinned fingerprint is enough: %s", err.message);
	o.host_key_fingerprint = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	ok(hello_with(&o, &err, NULL) == XC_E_HOSTKEY && strstr(err.message, fp) != NULL,
	   "a wrong pin is refused, showing the key seen");
	o.host_key_fingerprint = "SHA256:short";
	ok(hello_with(&o, &err, NULL) == XC_E_CONFIG, "a malformed pin is a configuration error");

	/* unknown host, then trust on first use */
	snprintf(kh, sizeof(kh), "%s/tofu/known_hosts", env("XCT_TMP"));
	base(&o);
	o.known_hosts_file = kh;
	ok(hello_with(&o, &err, NULL) == XC_E_HOSTKEY && strstr(err.message, "not in") != NULL &&
		   strstr(err.message, fp) != NULL,
	   "an unknown host is refused unless asked: %s", err.message);
	o.accept_new_host_key = true;
	ok(hello_with(&o, &err, NULL) == 0, "accept-new adds it");
	snprintf(text, sizeof(text), "[%s]:%s ssh-ed25519 ", env("XCT_HOST"), env("XCT_PORT"));
	ok(file_has(kh, text), "known_hosts now holds [host]:port and the key");
	o.accept_new_host_key = false;
	ok(hello_with(&o, &err, NULL) == 0, "and the next connection is verified by it");
	{
		char cmd[800];

		snprintf(cmd, sizeof(cmd), "ssh-keygen -q -H -f '%s' >/dev/null 2>&1", kh);
		ok(system(cmd) == 0 && !file_has(kh, text), "ssh-keygen hashed the names");
		ok(hello_with(&o, &err, NULL) == 0, "a hashed known_hosts entry verifies too: %s",
		   err.message);
	}
	snprintf(text, sizeof(text), "*,![%s]:%s %s\n", env("XCT_HOST"), env("XCT_PORT"),
		 strchr(env("XCT_HOST_PUB"), ' ') ? env("XCT_HOST_PUB") : "");
	base(&o);
	file = write_file("kh_negated", text);
	o.known_hosts_file = file;
	ok(hello_with(&o, &err, NULL) == XC_E_HOSTKEY, "a negated pattern does not vouch for the host");
}

static void test_keys(void)
{
	struct xclone_conn_options o;
	struct xclone_error err = { 0 };
	struct xclone_hello *h = NULL;
	char pub[600], b64[600] = "";
	FILE *f;

	base(&o);
	ok(hello_with(&o, &err, &h) == 0, "Ed25519 key: hello");
	ok(h && strcmp(h->agent, "xclone-agent") == 0 && h->protocol == 1 &&
		   strcmp(h->mode, "ssh") == 0 && !h->read_only && h->n_capabilities == 13,
	   "hello: agent, protocol 1, ssh mode, 13 operations");
	xclone_hello_free(h);

	base(&o);
	o.identity_file = env("XCT_KEY_RSA");
	ok(hello_with(&o, &err, NULL) == 0, "RSA key (the server takes only rsa-sha2 signatures): %s",
	   err.message);

	base(&o);
	o.identity_file = env("XCT_KEY_PASS");
	o.passphrase = env("XCT_PASSPHRASE");
	ok(hello_with(&o, &err, NULL) == 0, "Ed25519 key with a passphrase of quotes and $(): %s",
	   err.message);
	o.passphrase = NULL;
	ok(hello_with(&o, &err, NULL) == XC_E_CONFIG, "without its passphrase: %s", err.message);
	o.passphrase = "wrong";
	ok(hello_with(&o, &err, NULL) == XC_E_CONFIG, "with a wrong one");

	base(&o);
	o.identity_file = env("XCT_KEY_UNKNOWN");
	snprintf(pub, sizeof(pub), "%s.pub", env("XCT_KEY_UNKNOWN"));
	f = fopen(pub, "r");
	if (f != NULL) {
		if (fscanf(f, "%*s %599s", b64) != 1)
			b64[0] = '\0';
		fclose(f);
	}
	ok(hello_with(&o, &err, NULL) == XC_E_AUTH, "an unknown key is refused");
	ok(strstr(err.message,
		  "command=\"/opt/xclone/bin/xclone-agent ssh\",no-port-forwarding,no-agent-forwarding,"
		  "no-X11-forwarding,no-pty ssh-ed25519 ") != NULL &&
		   b64[0] && strstr(err.message, b64) != NULL,
	   "the message holds the authorized_keys line to install: %s", err.message);

	base(&o);
	o.identity_file = "/nonexistent/id_ed25519";
	ok(hello_with(&o, &err, NULL) == XC_E_CONFIG, "a missing key file: %s", err.message);

	base(&o);
	o.identity_file = env("XCT_KEY_MISSING");
	ok(hello_with(&o, &err, NULL) == XC_E_AGENT && strstr(err.message, "127") != NULL,
	   "agent missing: the exit status and what to check: %s", err.message);
}

static void test_timeouts(void)
{
	struct xclone_conn_options o;
	struct xclone_error err = { 0 };
	int64_t t0;
	int rc;

	base(&o);
	o.identity_file = env("XCT_KEY_SILENT");
	o.request_timeout_ms = 1500;
	t0 = now_ms();
	rc = hello_with(&o, &err, NULL);
	ok(rc == XC_E_TIMEOUT, "a forced command that never answers: timeout (%s)", err.message);
	ok(now_ms() - t0 >= 1400, "not before the deadline");

	base(&o);
	o.port = (unsigned)atoi(env("XCT_SILENT_PORT"));
	o.connect_timeout_ms = 1500;
	ok(hello_with(&o, &err, NULL) == XC_E_TIMEOUT,
	   "a server that never says its SSH banner: handshake timeout (%s)", err.message);

	base(&o);
	o.port = 1;
	o.max_attempts = 3;
	o.backoff_ms = 20;
	ok(hello_with(&o, &err, NULL) == XC_E_CONNECT && err.retryable,
	   "connection refused, after retries: %s", err.message);
}

/* ---- operations ---------------------------------------------------------------- */

static xclone_conn *conn_or_null(struct xclone_conn_options *o)
{
	struct xclone_error err = { 0 };
	xclone_conn *c = NULL;

	if (xclone_connect(&c, o, &err) != 0)
		printf("# connect: %s\n", err.message);
	return c;
}

struct progress_log {
	int events, last_percent, reconnecting, resumed;
	bool monotonic;
	enum xclone_task_state last_state;
	int kill_at;          /* percent at which to cut the connection; -1: never */
	bool killed;
	void (*cut)(void);
};

static int on_progress(const struct xclone_event *ev, void *ud)
{
	struct progress_log *p = ud;

	if (ev->type == XCLONE_EVENT_RECONNECTING) {
		p->reconnecting++;
		return 0;
	}
	if (ev->type == XCLONE_EVENT_RESUMED) {
		p->resumed++;
		return 0;
	}
	if (ev->percent < p->last_percent)
		p->monotonic = false;
	p->events++;
	p->last_percent = ev->percent;
	p->last_state = ev->state;
	if (p->kill_at >= 0 && !p->killed && ev->percent >= p->kill_at) {
		p->killed = true;
		p->cut();
	}
	return 0;
}

static void test_operations(void)
{
	struct xclone_conn_options o;
	struct xclone_error err = { 0 };
	struct xclone_host_info *hi = NULL;
	struct xclone_device *d = NULL;
	struct xclone_rescan r;
	struct xclone_preflight *p = NULL;
	struct xclone_task *t = NULL, *t2 = NULL, *w = NULL;
	struct xclone_task_list *l = NULL;
	struct xclone_clean *k = NULL;
	struct progress_log pl = { .monotonic = true, .kill_at = -1 };
	bool created = true, detached = false, found = false, was_final = false;
	char key[64], datastore_target[600];
	xclone_conn *c;

	base(&o);
	c = conn_or_null(&o);
	if (!ok(c != NULL, "connect for the operations"))
		return;
	snprintf(key, sizeof(key), "live-%d", (int)getpid());
	snprintf(datastore_target, sizeof(datastore_target), "%s", env("XCT_TARGET_FAST"));
	{
		char *slash = strrchr(datastore_target, '/');

		if (slash != NULL)
			snprintf(slash + 1, sizeof(datastore_target) - (size_t)(slash + 1 - datastore_target),
				 "%s", env("XCT_DEVICE_DATASTORE"));
	}

	ok(xclone_host_info(c, &hi, &err) == 0, "host.info: %s", err.message);
	for (size_t i = 0; hi && i < hi->n_datastores; i++)
		found |= strcmp(hi->datastores[i].name, "ds1") == 0 && hi->datastores[i].n_extents == 1;
	ok(hi && hi->n_adapters >= 2 && found && hi->hardware_accelerated_move == 1,
	   "host.info: adapters, ds1 with its extent, XCOPY enabled");
	found = false;
	for (size_t i = 0; hi && i < hi->n_adapters; i++)
		found |= strcmp(hi->adapters[i].name, "vmhba64") == 0 &&
			 hi->adapters[i].n_initiators == 1 &&
			 strncmp(hi->adapters[i].initiators[0], "iqn.", 4) == 0;
	ok(found, "host.info: the iSCSI adapter's IQN");
	xclone_host_info_free(hi);

	ok(xclone_storage_rescan(c, "vmhba64", "add", &r, &err) == 0 && r.rescans >= 0 &&
		   r.waited_ms >= 0,
	   "storage.rescan vmhba64 add: %s", err.message);
	ok(xclone_storage_rescan(c, "vmhba99", NULL, &r, &err) == XC_E_NOT_FOUND &&
		   strcmp(err.remote_code, "ADAPTER_NOT_FOUND") == 0,
	   "storage.rescan of a missing adapter: %s", err.message);
	ok(xclone_storage_rescan(c, NULL, "sideways", &r, &err) == XC_E_USAGE,
	   "a rescan type outside all|add|delete is refused here");

	ok(xclone_device_get(c, env("XCT_DEVICE"), &d, &err) == 0 && d->present &&
		   d->size_bytes == 64 << 20 && d->backs_datastore == NULL,
	   "device.get: present, 64 MiB, no datastore: %s", err.message);
	xclone_device_free(d);
	d = NULL;
	ok(xclone_device_get(c, "naa.6000000000000000000000000000dead", &d, &err) == XC_E_NOT_FOUND &&
		   strcmp(err.remote_code, "DEVICE_NOT_FOUND") == 0 && d == NULL,
	   "device.get of an unknown device");
	ok(xclone_device_get(c, env("XCT_DEVICE_DATASTORE"), &d, &err) == 0 &&
		   d->backs_datastore != NULL && strcmp(d->backs_datastore, "ds1") == 0,
	   "device.get: the datastore's LUN says so");
	xclone_device_free(d);
	d = NULL;
	ok(xclone_device_wait(c, env("XCT_DEVICE"), 5000, &d, &r, &err) == 0 && d->present,
	   "device.wait on a present device: %s", err.message);
	xclone_device_free(d);
	d = NULL;
	ok(xclone_device_wait(c, env("XCT_DEVICE_UNMAPPED"), 0, &d, &r, &err) != 0 && d == NULL,
	   "device.wait on an unmapped LUN, looking once: %s (%s)", err.message, err.remote_code);

	ok(xclone_preflight(c, env("XCT_SOURCE"), env("XCT_TARGET_FAST"), &p, &err) == 0 &&
		   p->xcopy_expected && p->n_blockers == 0 && p->source_size_bytes == 16 << 20 &&
		   strcmp(p->source_datastore, "ds1") == 0,
	   "preflight: XCOPY expected, no blocker: %s", err.message);
	xclone_preflight_free(p);
	p = NULL;
	ok(xclone_preflight(c, env("XCT_SOURCE_HOSTILE"), env("XCT_TARGET_FAST"), &p, &err) == 0 &&
		   p->n_blockers == 0,
	   "preflight of a disk whose names hold quotes, $(), ;, \\ and unicode: %s",
	   p && p->n_blockers ? p->blockers[0].message : err.message);
	ok(p && strcmp(p->source_datastore, "DS \"q\" $(touch xclone-pwned); `id` ünï €") == 0,
	   "its datastore name arrives byte for byte: %s", p ? p->source_datastore : "-");
	xclone_preflight_free(p);
	p = NULL;
	ok(xclone_preflight(c, env("XCT_SOURCE_HOSTILE_DS"), env("XCT_TARGET_FAST"), &p, &err) == 0 &&
		   p->n_blockers == 0,
	   "the same disk as [datastore] path: %s", p && p->n_blockers ? p->blockers[0].message : err.message);
	xclone_preflight_free(p);
	p = NULL;
	ok(xclone_preflight(c, env("XCT_SOURCE"), datastore_target, &p, &err) == 0 &&
		   p->n_blockers >= 1 && strcmp(p->blockers[0].code, "TARGET_UNSAFE") == 0,
	   "preflight onto a datastore's LUN: blocked TARGET_UNSAFE");
	xclone_preflight_free(p);
	p = NULL;
	ok(xclone_clone_start(c, env("XCT_SOURCE"), datastore_target, NULL, &t, NULL, &err) != 0 &&
		   strcmp(err.remote_code, "TARGET_UNSAFE") == 0 && t == NULL,
	   "clone.start onto a datastore's LUN is refused: %s", err.message);

	ok(xclone_clone_start(c, env("XCT_SOURCE"), env("XCT_TARGET_FAST"), key, &t, &created,
			      &err) == 0 && created,
	   "clone.start: %s", err.message);
	if (t == NULL) {
		xclone_disconnect(c);
		return;
	}
	ok(xclone_clone_start(c, env("XCT_SOURCE"), env("XCT_TARGET_FAST"), key, &t2, &created,
			      &err) == 0 && !created && strcmp(t2->id, t->id) == 0,
	   "the same key returns the same task");
	xclone_task_free(t2);
	t2 = NULL;
	/* A small XCOPY clone may be over before the watch starts (slow under valgrind):
	 * then the watch has no progress to report, only the final state. */
	ok(xclone_task_get(c, t->id, &t2, &err) == 0, "task.get before the watch: %s", err.message);
	was_final = t2 != NULL && t2->state != XCLONE_TASK_QUEUED && t2->state != XCLONE_TASK_RUNNING;
	xclone_task_free(t2);
	t2 = NULL;
	ok(xclone_task_watch(c, t->id, on_progress, &pl, &w, &err) == 0 &&
		   w->state == XCLONE_TASK_SUCCEEDED && w->percent == 100,
	   "task.watch until succeeded: %s", err.message);
	ok((pl.events >= 1 || was_final) && pl.monotonic,
	   "progress events, percent never going back (%d%s)", pl.events,
	   was_final ? ", the clone had ended before the watch" : "");
	ok(w && w->xcopy_used == 1 && w->has_exit_code && w->exit_code == 0,
	   "the array copied it (XCOPY), vmkfstools exited 0");
	xclone_task_free(w);
	w = NULL;
	ok(xclone_task_watch(c, t->id, NULL, NULL, &w, &err) == 0 && w->state == XCLONE_TASK_SUCCEEDED,
	   "watching a final task answers at once");
	xclone_task_free(w);
	ok(xclone_task_get(c, t->id, &t2, &err) == 0 && strcmp(t2->key, key) == 0 &&
		   strcmp(t2->source, env("XCT_SOURCE")) == 0,
	   "task.get: key and source as given");
	xclone_task_free(t2);
	t2 = NULL;
	found = false;
	ok(xclone_task_list(c, &l, &err) == 0, "task.list: %s", err.message);
	for (size_t i = 0; l && i < l->count; i++)
		found |= strcmp(l->tasks[i].id, t->id) == 0;
	ok(found, "task.list holds the task");
	xclone_task_list_free(l);
	ok(xclone_task_cancel(c, t->id, &t2, &err) == 0 && t2->state == XCLONE_TASK_SUCCEEDED,
	   "task.cancel of a final task returns it unchanged");
	xclone_task_free(t2);
	t2 = NULL;
	ok(xclone_task_clean(c, t->id, &k, &err) == 0 && k->n_removed >= 1, "task.clean: %s",
	   err.message);
	xclone_clean_free(k);
	ok(xclone_task_get(c, t->id, &t2, &err) == XC_E_NOT_FOUND &&
		   strcmp(err.remote_code, "TASK_NOT_FOUND") == 0,
	   "a cleaned task is gone");
	xclone_task_free(t);
	t = NULL;

	/* a slow host copy, canceled while it runs */
	ok(xclone_clone_start(c, env("XCT_SOURCE_BIG"), env("XCT_TARGET_SLOW"), NULL, &t, NULL,
			      &err) == 0,
	   "clone.start of a slow host copy");
	if (t != NULL) {
		ok(xclone_task_clean(c, t->id, &k, &err) == XC_E_CONFLICT &&
			   strcmp(err.remote_code, "TASK_ACTIVE") == 0,
		   "task.clean of a running task: TASK_ACTIVE");
		ok(xclone_task_cancel(c, t->id, &t2, &err) == 0 && t2->state == XCLONE_TASK_CANCELED,
		   "task.cancel stops it: %s", err.message);
		xclone_task_free(t2);
		t2 = NULL;
		ok(xclone_task_clean(c, t->id, &k, &err) == 0, "then it can be cleaned");
		xclone_clean_free(k);
		xclone_task_free(t);
	}
	ok(xclone_device_detach(c, env("XCT_DEVICE_DATASTORE"), &detached, &err) != 0 &&
		   strcmp(err.remote_code, "TARGET_UNSAFE") == 0,
	   "device.detach of a datastore's LUN is refused");
	ok(xclone_device_detach(c, env("XCT_DEVICE"), &detached, &err) == 0 && detached,
	   "device.detach: %s", err.message);
	/* PROTOCOL.md 5.6: detached:false when it already was. */
	{
		int rc = xclone_device_detach(c, env("XCT_DEVICE"), &detached, &err);

		ok((rc == 0 && !detached) || (rc == XC_E_NOT_FOUND &&
					      strcmp(err.remote_code, "DEVICE_NOT_FOUND") == 0),
		   "detaching again: already detached, or gone from the host");
		if (rc != 0)
			printf("# the agent answered %s where PROTOCOL.md 5.6 says detached:false\n",
			       err.remote_code);
	}
	xclone_disconnect(c);
}

static void test_read_only(void)
{
	struct xclone_conn_options o;
	struct xclone_error err = { 0 };
	struct xclone_hello *h = NULL;
	struct xclone_task *t = NULL;
	struct xclone_task_list *l = NULL;
	xclone_conn *c;
	bool can_start = false;

	base(&o);
	o.identity_file = env("XCT_KEY_READONLY");
	c = conn_or_null(&o);
	if (!ok(c != NULL, "read-only key connects"))
		return;
	ok(xclone_hello(c, &h, &err) == 0 && h->read_only, "hello says read-only");
	for (size_t i = 0; h && i < h->n_capabilities; i++)
		can_start |= strcmp(h->capabilities[i], "clone.start") == 0;
	ok(!can_start, "clone.start is not among its capabilities");
	ok(xclone_clone_start(c, env("XCT_SOURCE"), env("XCT_TARGET_FAST2"), NULL, &t, NULL, &err) ==
			   XC_E_REMOTE &&
		   strcmp(err.remote_code, "DENIED") == 0,
	   "clone.start is DENIED");
	ok(xclone_task_list(c, &l, &err) == 0, "task.list is allowed");
	xclone_task_list_free(l);
	xclone_hello_free(h);
	xclone_disconnect(c);
}

/* ---- many threads, one connection ------------------------------------------------- */

struct hammer {
	xclone_conn *c;
	int ok_count;
};

static void *hammer_hello(void *ud)
{
	struct hammer *hm = ud;

	for (int i = 0; i < 10; i++) {
		struct xclone_hello *h = NULL;
		struct xclone_error err = { 0 };

		if (xclone_hello(hm->c, &h, &err) == 0)
			hm->ok_count++;
		else
			printf("# hello: %s\n", err.message);
		xclone_hello_free(h);
	}
	return NULL;
}

struct watcher {
	xclone_conn *c;
	const char *task;
	int rc;
	enum xclone_task_state state;
	struct progress_log log;
};

static void *watch_thread(void *ud)
{
	struct watcher *w = ud;
	struct xclone_task *t = NULL;
	struct xclone_error err = { 0 };

	w->log.monotonic = true;
	w->log.kill_at = -1;
	w->rc = xclone_task_watch(w->c, w->task, on_progress, &w->log, &t, &err);
	if (w->rc != 0)
		printf("# watch: %s\n", err.message);
	w->state = t ? t->state : XCLONE_TASK_LOST;
	xclone_task_free(t);
	return NULL;
}

static void test_threads(void)
{
	struct xclone_conn_options o;
	struct xclone_conn_stats st;
	struct hammer hm[8];
	pthread_t th[8];
	xclone_conn *c;
	int total = 0;

	base(&o);
	o.max_channels = 4;
	c = conn_or_null(&o);
	if (!ok(c != NULL, "connect for the threads"))
		return;
	for (int i = 0; i < 8; i++) {
		hm[i] = (struct hammer){ c, 0 };
		pthread_create(&th[i], NULL, hammer_hello, &hm[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		total += hm[i].ok_count;
	}
	xclone_conn_stats(c, &st);
	ok(total == 80, "8 threads x 10 hellos on one handle (%d answered)", total);
	ok(st.connects == 1 && st.channels_opened <= 4,
	   "over one TCP connection, at most 4 channels (%llu connects, %llu channels)",
	   (unsigned long long)st.connects, (unsigned long long)st.channels_opened);
	xclone_disconnect(c);

	if (quick())
		return;
	{
		struct xclone_task *t = NULL;
		struct xclone_error err = { 0 };
		struct watcher ws[6];
		pthread_t wt[6];
		int done = 0;

		base(&o);
		o.max_channels = 8;
		c = conn_or_null(&o);
		if (c == NULL ||
		    xclone_clone_start(c, env("XCT_SOURCE_BIG"), env("XCT_TARGET_SLOW"), NULL, &t, NULL,
				       &err) != 0) {
			ok(0, "slow clone for parallel watches");
			xclone_disconnect(c);
			return;
		}
		for (int i = 0; i < 6; i++) {
			memset(&ws[i], 0, sizeof(ws[i]));
			ws[i].c = c;
			ws[i].task = t->id;
			pthread_create(&wt[i], NULL, watch_thread, &ws[i]);
		}
		for (int i = 0; i < 6; i++) {
			pthread_join(wt[i], NULL);
			done += ws[i].rc == 0 && ws[i].state == XCLONE_TASK_SUCCEEDED &&
				ws[i].log.monotonic && ws[i].log.events > 1;
		}
		xclone_conn_stats(c, &st);
		ok(done == 6, "6 parallel watches of a running clone all see it succeed (%d)", done);
		ok(st.connects == 1 && st.channels_opened >= 6,
		   "on one connection, one channel each (%llu connects, %llu channels)",
		   (unsigned long long)st.connects, (unsigned long long)st.channels_opened);
		xclone_task_free(t);
		xclone_disconnect(c);
	}
}

/* ---- lost connections -------------------------------------------------------------- */

/* The processes whose parent is ppid (read from /proc), up to max. */
static size_t children_of(pid_t ppid, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;

	while (d != NULL && n < max && (e = readdir(d)) != NULL) {
		char path[300], buf[512], *close;
		FILE *f;
		int parent = 0;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		buf[0] = '\0';
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
		close = strrchr(buf, ')'); /* "pid (comm) state ppid ..." */
		if (close != NULL && sscanf(close + 1, " %*c %d", &parent) == 1 && parent == ppid)
			out[n++] = (pid_t)atoi(e->d_name);
	}
	if (d != NULL)
		closedir(d);
	return n;
}

/* sshd's per-connection processes (children of the test's own listener): the connection dies. */
static void kill_sshd_sessions(void)
{
	pid_t kids[64];
	size_t n = children_of((pid_t)atoi(env("XCT_SSHD_PID")), kids, 64);

	for (size_t i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	if (n == 0)
		printf("# no sshd session to kill\n");
}

static void restart_serve(void)
{
	kill((pid_t)atoi(env("XCT_FIXTURE_PID")), SIGUSR1);
}

static void test_watch_resume(const char *what, struct xclone_conn_options *o, void (*cut)(void))
{
	struct xclone_error err = { 0 };
	struct xclone_task *t = NULL, *w = NULL;
	struct progress_log pl = { .monotonic = true, .kill_at = 20, .cut = cut };
	struct xclone_conn_stats st;
	xclone_conn *c = conn_or_null(o);

	if (c == NULL ||
	    xclone_clone_start(c, env("XCT_SOURCE_BIG"), env("XCT_TARGET_SLOW"), NULL, &t, NULL, &err) != 0) {
		ok(0, "%s: slow clone to watch", what);
		xclone_disconnect(c);
		return;
	}
	ok(xclone_task_watch(c, t->id, on_progress, &pl, &w, &err) == 0 &&
		   w->state == XCLONE_TASK_SUCCEEDED,
	   "%s: the watch ends with the task's success: %s", what, err.message);
	ok(pl.killed && pl.reconnecting >= 1 && pl.resumed >= 1,
	   "%s: cut at %d%%, reported reconnecting (%d) and resumed (%d)", what, pl.kill_at,
	   pl.reconnecting, pl.resumed);
	ok(pl.monotonic && w != NULL && w->percent == 100,
	   "%s: progress went on where it was, to 100%%", what);
	xclone_conn_stats(c, &st);
	ok(st.retries >= 1, "%s: the call was sent again (%llu retries, %llu reconnects)", what,
	   (unsigned long long)st.retries, (unsigned long long)st.reconnects);
	xclone_task_free(t);
	xclone_task_free(w);
	xclone_disconnect(c);
}

/* ---- TLS to xclone-agent serve ------------------------------------------------------ */

static void test_tls(void)
{
	struct xclone_conn_options o;
	struct xclone_error err = { 0 };
	struct xclone_hello *h = NULL;
	struct xclone_task_list *l = NULL;
	xclone_conn *c;

	if (env("XCT_TLS_PORT")[0] == '\0') {
		ok(1, "# SKIP no TLS server in this fixture");
		return;
	}
	tls_base(&o);
	ok(hello_with(&o, &err, &h) == 0, "TLS: hello over mutual TLS: %s", err.message);
	ok(h && (strcmp(h->mode, "serve") == 0 || strcmp(h->mode, "local") == 0),
	   "TLS: the agent's mode is %s", h ? h->mode : "-");
	xclone_hello_free(h);
	tls_base(&o);
	o.tls_server_name = "localhost";
	ok(hello_with(&o, &err, NULL) == 0, "TLS: the certificate also names localhost");
	o.tls_server_name = "elsewhere.example";
	ok(hello_with(&o, &err, NULL) == XC_E_HOSTKEY, "TLS: a wrong name is refused: %s", err.message);
	tls_base(&o);
	o.tls_ca_file = env("XCT_TLS_OTHER_CA");
	ok(hello_with(&o, &err, NULL) == XC_E_HOSTKEY, "TLS: another CA is refused");
	tls_base(&o);
	o.tls_ca_file = NULL;
	o.tls_pin_sha256 = env("XCT_TLS_PIN");
	ok(hello_with(&o, &err, NULL) == 0, "TLS: the pinned certificate alone: %s", err.message);
	o.tls_pin_sha256 = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff";
	ok(hello_with(&o, &err, NULL) == XC_E_HOSTKEY && strstr(err.message, env("XCT_TLS_PIN")),
	   "TLS: another pin is refused, showing the certificate's: %s", err.message);
	tls_base(&o);
	o.tls_cert_file = env("XCT_TLS_STRANGER_CERT");
	o.tls_key_file = env("XCT_TLS_STRANGER_KEY");
	ok(hello_with(&o, &err, NULL) == XC_E_AUTH, "TLS: a client certificate of another CA is refused: %s",
	   err.message);
	tls_base(&o);
	o.tls_key_file = env("XCT_TLS_STRANGER_KEY");
	ok(hello_with(&o, &err, NULL) == XC_E_CONFIG, "TLS: a key not matching the certificate");
	if (env("XCT_TLS_OLD_PORT")[0] != '\0') {
		tls_base(&o);
		o.port = (unsigned)atoi(env("XCT_TLS_OLD_PORT"));
		o.max_attempts = 1;
		ok(hello_with(&o, &err, NULL) == XC_E_CONNECT, "TLS: a server below TLS 1.2 is refused: %s",
		   err.message);
	}
	tls_base(&o);
	c = conn_or_null(&o);
	ok(c != NULL && xclone_task_list(c, &l, &err) == 0, "TLS: task.list");
	xclone_task_list_free(l);
	xclone_disconnect(c);
	if (!quick()) {
		tls_base(&o);
		test_watch_resume(strcmp(env("XCT_TLS_REAL"), "1") == 0 ? "TLS, serve restarted"
									: "TLS, connections cut",
				  &o, restart_serve);
	}
}

/* Without the fixture's environment: run again inside it. */
static int run_in_fixture(char **argv)
{
	char *args[] = { "/usr/bin/python3", FIXTURE, "--", argv[0], NULL };

	if (access("/usr/sbin/sshd", X_OK) != 0 || access(FIXTURE, R_OK) != 0) {
		printf("1..0 # SKIP needs /usr/sbin/sshd and %s (run from the repository root)\n", FIXTURE);
		return 0;
	}
	fflush(stdout);
	execv(args[0], args);
	perror("execv python3");
	return 1;
}

int main(int argc, char **argv)
{
	struct xclone_error err = { 0 };
	struct xclone_conn_options o;

	if (getenv("XCT_HOST") == NULL)
		return run_in_fixture(argv);
	signal(SIGPIPE, SIG_IGN);
	if (xclone_global_init(&err) != 0) {
		printf("Bail out! %s\n", err.message);
		return 1;
	}
	test_keys();
	test_host_identity();
	test_timeouts();
	test_operations();
	test_read_only();
	test_threads();
	base(&o);
	test_watch_resume("SSH, sshd's session killed", &o, kill_sshd_sessions);
	test_tls();
	xclone_global_cleanup();
	return tap_done();
}
