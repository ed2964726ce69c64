/*
 * libxclone's parts, without a network: base64, known_hosts matching (plain,
 * [host]:port, wildcards, negations, hashed names, @revoked), the authorized_keys
 * line, typed results built from PROTOCOL.md's own example answers, retry delays,
 * agent error mapping, and the call layer over a scripted transport (request ids,
 * events, protocol errors, which requests are sent again after a lost connection).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "arena.h"
#include "b64.h"
#include "backoff.h"
#include "call.h"
#include "conn.h"
#include "fingerprint.h"
#include "known_hosts.h"
#include "remote_error.h"
#include "results.h"
#include "tap.h"
#include "xclone.h"
#include "xproto.h"

/* ---- base64 --------------------------------------------------------------------- */

static void test_b64(void)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const padded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
					      "Zm9vYmFy" };
	unsigned char buf[16];
	char text[16];

	for (size_t i = 0; i < 7; i++) { /* RFC 4648 section 10 */
		long n;

		xc_b64_encode((const unsigned char *)plain[i], strlen(plain[i]), text, sizeof(text), 1);
		is_str(text, padded[i], "b64 encode \"%s\"", plain[i]);
		n = xc_b64_decode(padded[i], strlen(padded[i]), buf, sizeof(buf));
		ok(n == (long)strlen(plain[i]) && memcmp(buf, plain[i], (size_t)n) == 0,
		   "b64 decode %s", padded[i]);
	}
	xc_b64_encode((const unsigned char *)"fo", 2, text, sizeof(text), 0);
	is_str(text, "Zm8", "b64 encode without padding");
	ok(xc_b64_decode("Zm8", 3, buf, sizeof(buf)) == 2, "b64 decode without padding");
	ok(xc_b64_decode("Zm9", 3, buf, sizeof(buf)) == -1, "b64 refuses non-canonical trailing bits");
	ok(xc_b64_decode("Z", 1, buf, sizeof(buf)) == -1, "b64 refuses a lone character");
	ok(xc_b64_decode("Zm$v", 4, buf, sizeof(buf)) == -1, "b64 refuses a foreign character");
	ok(xc_b64_decode("Zm9vYmFy", 8, buf, 5) == -1, "b64 refuses what does not fit");
	ok(xc_b64_encode((const unsigned char *)"foobar", 6, text, 8, 1) == -1,
	   "b64 encode refuses a short buffer");
}

/* ---- fingerprints and pins ------------------------------------------------------ */

/* An SSH key blob "ssh-ed25519" + 32 bytes of seed. */
static size_t fake_blob(unsigned char *blob, unsigned char seed)
{
	static const char type[] = "ssh-ed25519";
	size_t n = 0;

	blob[n++] = 0, blob[n++] = 0, blob[n++] = 0, blob[n++] = 11;
	memcpy(blob + n, type, 11);
	n += 11;
	blob[n++] = 0, blob[n++] = 0, blob[n++] = 0, blob[n++] = 32;
	for (int i = 0; i < 32; i++)
		blob[n++] = (unsigned char)(seed + i);
	return n;
}

static void test_fingerprints(void)
{
	unsigned char blob[64], md[32], pin[32];
	size_t len = fake_blob(blob, 1);
	char fp[XC_FP_MAX], want[80], b64[64], type[32], hex[65];
	unsigned int mdlen;

	EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL);
	EVP_EncodeBlock((unsigned char *)b64, md, 32); /* OpenSSL's own encoder, padded */
	b64[43] = '\0';
	snprintf(want, sizeof(want), "SHA256:%s", b64);
	xc_fp_ssh(blob, len, fp);
	is_str(fp, want, "SSH fingerprint as OpenSSH prints it");
	ok(xc_fp_ssh_valid(fp), "it is a valid pin");
	strcat(want, "=");
	ok(xc_fp_ssh_equal(want, fp), "a pin with padding names the same key");
	want[10] = want[10] == 'A' ? 'B' : 'A';
	ok(!xc_fp_ssh_equal(want, fp), "a different pin does not");
	ok(!xc_fp_ssh_valid("SHA256:abc"), "a short pin is malformed");
	ok(!xc_fp_ssh_valid("MD5:aa:bb"), "an MD5 fingerprint is not accepted");
	xc_ssh_blob_type(blob, len, type, sizeof(type));
	is_str(type, "ssh-ed25519", "key type from the blob");
	xc_ssh_blob_type(blob, 6, type, sizeof(type));
	is_str(type, "", "a truncated blob has no type");

	xc_sha256_hex(md, hex);
	ok(xc_sha256_hex_parse(hex, pin) == 0 && memcmp(pin, md, 32) == 0, "hex pin round trip");
	{
		char colons[128] = "SHA256:";

		for (int i = 0; i < 32; i++)
			snprintf(colons + strlen(colons), sizeof(colons) - strlen(colons), "%s%02X",
				 i ? ":" : "", md[i]);
		ok(xc_sha256_hex_parse(colons, pin) == 0 && memcmp(pin, md, 32) == 0,
		   "openssl-style pin with colons and a prefix");
	}
	ok(xc_sha256_hex_parse("abcd", pin) != 0, "a short hex pin is refused");
	ok(xc_sha256_hex_parse("zz", pin) != 0, "non-hex is refused");
}

/* ---- known_hosts ---------------------------------------------------------------- */

static char tmpdir[] = "/tmp/xclone-test-parts-XXXXXX";

static const char *tmp_file(const char *name, const char *content)
{
	static char path[4][512];
	static int next;
	char *p = path[next++ % 4];
	FILE *f;

	snprintf(p, 512, "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	if (f != NULL) {
		fputs(content, f);
		fclose(f);
	}
	return p;
}

static void blob_b64(unsigned char seed, char *out, size_t cap)
{
	unsigned char blob[64];
	size_t len = fake_blob(blob, seed);

	xc_b64_encode(blob, len, out, cap, 1);
}

/* |1|salt|HMAC-SHA1(salt, name), computed here with OpenSSL directly. */
static void hashed_name(const char *name, char *out, size_t cap)
{
	unsigned char salt[20], mac[20];
	unsigned int maclen = 0;
	char s64[40], m64[40];

	for (int i = 0; i < 20; i++)
		salt[i] = (unsigned char)(7 * i + 3);
	HMAC(EVP_sha1(), salt, 20, (const unsigned char *)name, strlen(name), mac, &maclen);
	xc_b64_encode(salt, 20, s64, sizeof(s64), 1);
	xc_b64_encode(mac, 20, m64, sizeof(m64), 1);
	snprintf(out, cap, "|1|%s|%s", s64, m64);
}

static enum xc_kh_status kh(const char *file, const char *name, unsigned char seed,
			    struct xc_kh_result *r)
{
	unsigned char blob[64];
	size_t len = fake_blob(blob, seed);

	if (xc_kh_check(file, name, blob, len, r, NULL) != 0)
		return (enum xc_kh_status)-1;
	return r->status;
}

static void test_known_hosts(void)
{
	char k1[128], k2[128], k3[128], hashed[128], text[4096], name[64], prefs[256];
	struct xc_kh_result r;
	enum xc_kh_status st;
	const char *file;
	unsigned char blob[64];
	size_t len;

	blob_b64(1, k1, sizeof(k1));
	blob_b64(2, k2, sizeof(k2));
	blob_b64(3, k3, sizeof(k3));
	xc_kh_lookup_name("Esx01.Example.COM", 22, name, sizeof(name));
	is_str(name, "esx01.example.com", "port 22 looks the bare name up, lower case");
	xc_kh_lookup_name("10.0.0.5", 2222, name, sizeof(name));
	is_str(name, "[10.0.0.5]:2222", "another port looks [host]:port up");

	hashed_name("[hashed.example]:2022", hashed, sizeof(hashed));
	snprintf(text, sizeof(text),
		 "# a comment\n"
		 "\n"
		 "garbage line\n"
		 "esx01.example.com,10.0.0.1 ssh-ed25519 %s comment here\n"
		 "[10.0.0.5]:2222 ssh-ed25519 %s\n"
		 "%s ssh-ed25519 %s\n"
		 "*.lab.example,!bad.lab.example ssh-ed25519 %s\n"
		 "changed.example ssh-ed25519 %s\n"
		 "@cert-authority *.example ssh-ed25519 %s\n"
		 "@revoked esx01.example.com ssh-ed25519 %s\n"
		 "typo.example ssh-rsa %s\n"
		 "esx0?.wild ssh-ed25519 %s\n",
		 k1, k1, hashed, k2, k1, k2, k3, k3, k1, k1);
	file = tmp_file("known_hosts", text);

	st = kh(file, "esx01.example.com", 1, &r);
	ok(st == XC_KH_MATCH && r.line == 4, "plain name matches (line %u)", r.line);
	ok(kh(file, "10.0.0.1", 1, &r) == XC_KH_MATCH, "second name of a comma list matches");
	ok(kh(file, "[10.0.0.5]:2222", 1, &r) == XC_KH_MATCH, "[host]:port entry matches");
	ok(kh(file, "10.0.0.5", 1, &r) == XC_KH_NOT_FOUND, "[host]:port does not match port 22");
	ok(kh(file, "[hashed.example]:2022", 2, &r) == XC_KH_MATCH && r.line == 6,
	   "hashed name matches");
	ok(kh(file, "[hashed.example]:2023", 2, &r) == XC_KH_NOT_FOUND,
	   "hashed name of another port does not");
	ok(kh(file, "a.lab.example", 1, &r) == XC_KH_MATCH, "wildcard pattern matches");
	ok(kh(file, "bad.lab.example", 1, &r) == XC_KH_NOT_FOUND, "negated pattern rules it out");
	st = kh(file, "changed.example", 1, &r);
	ok(st == XC_KH_MISMATCH && r.line == 8, "a different key for a known host is a mismatch (line %u)",
	   r.line);
	{
		char fp2[XC_FP_MAX];

		len = fake_blob(blob, 2);
		xc_fp_ssh(blob, len, fp2);
		is_str(r.known_fp, fp2, "the mismatch names the known key's fingerprint");
		is_str(r.known_type, "ssh-ed25519", "and its type");
	}
	ok(kh(file, "other.example", 3, &r) == XC_KH_NOT_FOUND,
	   "@cert-authority lines are not host keys");
	ok(kh(file, "typo.example", 1, &r) == XC_KH_NOT_FOUND,
	   "a line whose type does not match its key is ignored");
	ok(kh(file, "esx05.wild", 1, &r) == XC_KH_MATCH, "'?' matches one character");
	ok(kh(file, "esx5.wild", 1, &r) == XC_KH_NOT_FOUND, "'?' needs exactly one");

	snprintf(text, sizeof(text), "esx01.example.com ssh-ed25519 %s\n@revoked * ssh-ed25519 %s\n",
		 k1, k1);
	file = tmp_file("revoked", text);
	ok(kh(file, "esx01.example.com", 1, &r) == XC_KH_REVOKED && r.line == 2,
	   "@revoked wins over a matching line");

	ok(kh("/nonexistent/known_hosts", "x", 1, &r) == XC_KH_NOT_FOUND, "a missing file knows nothing");

	snprintf(text, sizeof(text),
		 "h1 ssh-ed25519 %s\nh1 ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=\n"
		 "h1 ssh-dss %s\nh1 ssh-rsa AAAAB3NzaC1yc2EAAAABIw==\n",
		 k1, k1);
	file = tmp_file("prefs", text);
	xc_kh_hostkey_prefs(file, "h1", prefs, sizeof(prefs));
	is_str(prefs, "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256",
	       "host key preferences: the known types in file order, RSA as its SHA-2 algorithms, "
	       "malformed lines left out");
	xc_kh_hostkey_prefs(file, "h2", prefs, sizeof(prefs));
	is_str(prefs, "", "no preference for an unknown host");

	/* Appending: a file without final newline, then a lookup of what was added. */
	file = tmp_file("append", "first.example ssh-ed25519 AAAA");
	len = fake_blob(blob, 9);
	ok(xc_kh_append(file, "[127.0.0.1]:2200", blob, len, NULL) == 0, "append a host key");
	st = kh(file, "[127.0.0.1]:2200", 9, &r);
	ok(st == XC_KH_MATCH && r.line == 2, "the appended key is found on its own line (%u)", r.line);
	{
		char path[600];

		snprintf(path, sizeof(path), "%s/new/dir/known_hosts", tmpdir);
		ok(xc_kh_append(path, "h", blob, len, NULL) == 0 && access(path, R_OK) == 0,
		   "append creates the file and its folders");
	}
}

/* ---- the authorized_keys line ------------------------------------------------------- */

static void test_authorized_key(void)
{
	char pub[512], want[512], k1[128], *line = NULL;
	struct xclone_error err = { 0 };

	blob_b64(1, k1, sizeof(k1));
	snprintf(pub, sizeof(pub), "# a comment line\nssh-ed25519 %s populator@pod\n", k1);
	ok(xclone_authorized_key_line(pub, NULL, NULL, &line, &err) == 0, "line for a .pub file");
	snprintf(want, sizeof(want),
		 "command=\"/opt/xclone/bin/xclone-agent ssh\",no-port-forwarding,no-agent-forwarding,"
		 "no-X11-forwarding,no-pty ssh-ed25519 %s populator@pod",
		 k1);
	is_str(line, want, "the exact restricted line");
	free(line);
	ok(xclone_authorized_key_line(pub, NULL, "--read-only", &line, &err) == 0 &&
		   strstr(line, "command=\"/opt/xclone/bin/xclone-agent ssh --read-only\",") == line,
	   "read-only variant");
	free(line);
	ok(xclone_authorized_key_line(pub, "/opt/my agent/it's \"x\"", NULL, &line, &err) == 0,
	   "an agent path with spaces and quotes");
	ok(line && strstr(line, "\",no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-pty "
				"ssh-ed25519 ") != NULL,
	   "the options follow the command");
	{
		const char *want_cmd = "command=\"'/opt/my agent/it'\\''s \\\"x\\\"' ssh\",";

		ok(line && strncmp(line, want_cmd, strlen(want_cmd)) == 0,
		   "the path is shell-quoted, its double quotes escaped for sshd: %s", line ? line : "");
	}
	free(line);
	snprintf(pub, sizeof(pub), "ssh-rsa %s\n", k1);
	ok(xclone_authorized_key_line(pub, NULL, NULL, &line, &err) == XC_E_USAGE,
	   "a key whose type does not match its blob is refused: %s", err.message);
	ok(xclone_authorized_key_line("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n", NULL, NULL, &line,
				      &err) == XC_E_USAGE &&
		   strstr(err.message, "private key") != NULL,
	   "a private key is refused, saying so");
	snprintf(pub, sizeof(pub), "ssh-ed25519 %s a\nssh-ed25519 %s b\n", k1, k1);
	ok(xclone_authorized_key_line(pub, NULL, NULL, &line, &err) == XC_E_USAGE,
	   "two keys are refused");
	snprintf(pub, sizeof(pub), "ssh-ed25519 %s a\tb\x01\n", k1);
	ok(xclone_authorized_key_line(pub, NULL, NULL, &line, &err) == XC_E_USAGE,
	   "a control character in the comment is refused");
	ok(xclone_authorized_key_line("\n\n", NULL, NULL, &line, &err) == XC_E_USAGE,
	   "no key at all is refused");
	snprintf(pub, sizeof(pub), "ssh-ed25519 %s\n", k1);
	ok(xclone_authorized_key_line(pub, "relative/agent", NULL, &line, &err) == XC_E_USAGE,
	   "a relative agent path is refused");
}

/* ---- typed results from PROTOCOL.md's examples ---------------------------------------- */

/* Decodes a result line as the call layer does: strict decode, then the op's shape. */
static cJSON *result_of(enum xp_op op, const char *line)
{
	struct xp_response r;
	struct xp_error xe = { 0 };
	cJSON *res;

	if (xp_response_decode(line, strlen(line), &r, &xe) != 0 || r.kind != XP_RESPONSE_RESULT ||
	    xp_result_check(op, r.result, &xe) != 0) {
		printf("# %s\n", xe.message);
		xp_response_free(&r);
		return NULL;
	}
	res = r.result;
	r.result = NULL;
	xp_response_free(&r);
	return res;
}

static void test_results(void)
{
	cJSON *j;
	struct xclone_hello *h = NULL;
	struct xclone_host_info *hi = NULL;
	struct xclone_preflight *p = NULL;
	struct xclone_task *t = NULL;
	struct xclone_task_list *l = NULL;
	struct xclone_clean *c = NULL;
	struct xclone_device *d = NULL;

	j = result_of(XP_OP_HELLO,
		      "{\"xclone\":1,\"id\":\"h1\",\"ok\":true,\"result\":{\"agent\":\"xclone-agent\",\"version\":\"0.1.0\",\"protocol\":1,\"capabilities\":[\"hello\",\"host.info\",\"storage.rescan\",\"device.get\",\"device.wait\",\"device.detach\",\"preflight\",\"clone.start\",\"task.get\",\"task.watch\",\"task.cancel\",\"task.clean\",\"task.list\"],\"hostname\":\"esx01.lab.example\",\"mode\":\"ssh\",\"read_only\":false}}");
	ok(j && xc_hello_from(j, &h, NULL) == 0, "hello result");
	ok(h && h->n_capabilities == 13 && strcmp(h->capabilities[12], "task.list") == 0 &&
		   strcmp(h->mode, "ssh") == 0 && h->protocol == 1 && !h->read_only,
	   "hello fields");
	cJSON_Delete(j);
	xclone_hello_free(h);

	j = result_of(XP_OP_HOST_INFO,
		      "{\"xclone\":1,\"id\":\"h2\",\"ok\":true,\"result\":{\"hostname\":\"esx01.lab.example\",\"product\":\"VMware ESXi\",\"version\":\"8.0.3\",\"build\":\"24022510\",\"adapters\":[{\"name\":\"vmhba64\",\"driver\":\"iscsi_vmk\",\"uid\":\"iscsi.vmhba64\",\"transport\":\"iscsi\",\"initiators\":[\"iqn.1998-01.com.vmware:esx01-4c4c4544\"]},{\"name\":\"vmhba2\",\"driver\":\"qlnativefc\",\"uid\":\"fc.20000025b5aa0001:20000025b5bb0001\",\"transport\":\"fc\",\"initiators\":[\"fc.20000025b5aa0001:20000025b5bb0001\"]}],\"datastores\":[{\"name\":\"ds-01\",\"uuid\":\"5f69774e-f1031e44-7bdb-ac1f6bc4b812\",\"type\":\"VMFS-6\",\"extents\":[{\"device\":\"naa.624a9370c0a1b2c3d4e5f60700011111\",\"partition\":1,\"adapters\":[\"vmhba64\"]}]}],\"vaai\":{\"hardware_accelerated_move\":1,\"hardware_accelerated_init\":1,\"max_hw_transfer_size\":4096},\"sdc_guid\":null}}");
	ok(j && xc_host_info_from(j, &hi, NULL) == 0, "host.info result");
	ok(hi && hi->n_adapters == 2 && strcmp(hi->adapters[1].initiators[0],
					       "fc.20000025b5aa0001:20000025b5bb0001") == 0 &&
		   hi->n_datastores == 1 && hi->datastores[0].n_extents == 1 &&
		   hi->datastores[0].extents[0].partition == 1 &&
		   strcmp(hi->datastores[0].extents[0].adapters[0], "vmhba64") == 0 &&
		   hi->max_hw_transfer_size == 4096 && hi->sdc_guid == NULL,
	   "host.info fields, null sdc_guid as NULL");
	cJSON_Delete(j);
	xclone_host_info_free(hi);

	j = result_of(XP_OP_DEVICE_GET,
		      "{\"xclone\":1,\"id\":\"d1\",\"ok\":true,\"result\":{\"device\":{\"id\":\"naa.624a9370c0a1b2c3d4e5f60700012345\",\"present\":true,\"status\":\"on\",\"size_bytes\":107374182400,\"vendor\":\"PURE\",\"model\":\"FlashArray\",\"is_local\":false,\"vaai_clone\":\"supported\",\"backs_datastore\":null,\"paths\":4}}}");
	ok(j && xc_device_from(cJSON_GetObjectItem(j, "device"), &d, NULL) == 0 &&
		   d->size_bytes == 107374182400LL && d->paths == 4 && d->backs_datastore == NULL &&
		   d->present,
	   "device result");
	cJSON_Delete(j);
	xclone_device_free(d);

	j = result_of(XP_OP_PREFLIGHT,
		      "{\"xclone\":1,\"id\":\"p2\",\"ok\":true,\"result\":{\"source\":{\"path\":\"/vmfs/volumes/5f69774e-f1031e44-7bdb-ac1f6bc4b812/vm2/vm2-000001.vmdk\",\"datastore\":\"ds-01\",\"format\":\"vmfsSparse\",\"chain\":[\"/vmfs/volumes/5f69774e-f1031e44-7bdb-ac1f6bc4b812/vm2/vm2-000001.vmdk\",\"/vmfs/volumes/5f69774e-f1031e44-7bdb-ac1f6bc4b812/vm2/vm2.vmdk\"],\"size_bytes\":21474836480,\"sparse\":true},\"target\":{\"device\":\"naa.624a9370c0a1b2c3d4e5f60700011111\",\"size_bytes\":1099511627776},\"xcopy_expected\":false,\"reasons\":[\"the source has a snapshot chain: sparse deltas are copied by the host\"],\"blockers\":[{\"code\":\"TARGET_UNSAFE\",\"message\":\"naa.624a9370c0a1b2c3d4e5f60700011111 backs datastore ds-01\"}]}}");
	ok(j && xc_preflight_from(j, &p, NULL) == 0, "preflight result");
	ok(p && p->n_source_chain == 2 && p->source_sparse && !p->xcopy_expected &&
		   p->n_reasons == 1 && p->n_blockers == 1 &&
		   strcmp(p->blockers[0].code, "TARGET_UNSAFE") == 0 &&
		   p->target_size_bytes == 1099511627776LL,
	   "preflight fields and blockers");
	cJSON_Delete(j);
	xclone_preflight_free(p);

	j = result_of(XP_OP_TASK_GET,
		      "{\"xclone\":1,\"id\":\"g1\",\"ok\":true,\"result\":{\"task\":{\"id\":\"t-1732243200123-0001\",\"key\":\"pvc-3f2a/disk-0\",\"state\":\"running\",\"percent\":42,\"source\":\"[ds-01] vm \\\"one\\\" $(x);/vm one.vmdk\",\"target\":\"/vmfs/devices/disks/naa.624a9370c0a1b2c3d4e5f60700012345\",\"pointer\":\"/vmfs/volumes/ds-01/.xclone/t-1732243200123-0001.vmdk\",\"pid\":2101234,\"created_ms\":1732243200123,\"started_ms\":1732243200200,\"ended_ms\":null,\"exit_code\":null,\"signal\":null,\"xcopy_used\":null,\"bytes\":null,\"message\":null,\"error_code\":null,\"stderr_tail\":null}}}");
	ok(j && xc_task_from(cJSON_GetObjectItem(j, "task"), &t, NULL) == 0, "task record");
	ok(t && strcmp(t->source, "[ds-01] vm \"one\" $(x);/vm one.vmdk") == 0 &&
		   t->state == XCLONE_TASK_RUNNING && t->percent == 42 && t->has_pid &&
		   t->pid == 2101234 && t->has_started_ms && !t->has_ended_ms &&
		   t->xcopy_used == -1 && t->message == NULL && t->error_code == NULL &&
		   strcmp(t->key, "pvc-3f2a/disk-0") == 0,
	   "task fields: hostile source byte for byte, nulls as absent");
	cJSON_Delete(j);
	xclone_task_free(t);

	j = result_of(XP_OP_TASK_LIST,
		      "{\"xclone\":1,\"id\":\"l1\",\"ok\":true,\"result\":{\"tasks\":[{\"id\":\"t-1732243300000-0002\",\"key\":null,\"state\":\"failed\",\"percent\":12,\"source\":\"/vmfs/volumes/ds-01/vm3/vm3.vmdk\",\"target\":\"/vmfs/devices/disks/naa.624a9370c0a1b2c3d4e5f60700012399\",\"pointer\":\"/vmfs/volumes/ds-01/.xclone/t-1732243300000-0002.vmdk\",\"pid\":2101300,\"created_ms\":1732243300000,\"started_ms\":1732243300050,\"ended_ms\":1732243301000,\"exit_code\":1,\"signal\":null,\"xcopy_used\":false,\"bytes\":null,\"message\":\"vmkfstools exited with status 1\",\"error_code\":\"CLONE_FAILED\",\"stderr_tail\":\"Clone: 12% done.Failed to clone disk: No such device or address (393225).\\n\"}],\"truncated\":false}}");
	ok(j && xc_task_list_from(j, &l, NULL) == 0, "task.list result");
	ok(l && l->count == 1 && l->tasks[0].state == XCLONE_TASK_FAILED &&
		   l->tasks[0].key == NULL && l->tasks[0].xcopy_used == 0 &&
		   l->tasks[0].has_exit_code && l->tasks[0].exit_code == 1 &&
		   strcmp(l->tasks[0].error_code, "CLONE_FAILED") == 0 &&
		   strstr(l->tasks[0].stderr_tail, "393225") != NULL && !l->truncated,
	   "task.list fields");
	cJSON_Delete(j);
	xclone_task_list_free(l);

	j = result_of(XP_OP_TASK_CLEAN,
		      "{\"xclone\":1,\"id\":\"k1\",\"ok\":true,\"result\":{\"task\":\"t-1732243200123-0001\",\"removed\":[\"/vmfs/volumes/ds-01/.xclone/t-1732243200123-0001.vmdk\",\"/vmfs/volumes/ds-01/.xclone/t-1732243200123-0001-rdm.vmdk\",\"/scratch/xclone/tasks/t-1732243200123-0001\"]}}");
	ok(j && xc_clean_from(j, &c, NULL) == 0 && c->n_removed == 3 &&
		   strcmp(c->task, "t-1732243200123-0001") == 0,
	   "task.clean result");
	cJSON_Delete(j);
	xclone_clean_free(c);

	ok(xclone_task_state_final(XCLONE_TASK_LOST) && !xclone_task_state_final(XCLONE_TASK_QUEUED),
	   "final states");
	is_str(xclone_task_state_name(XCLONE_TASK_CANCELED), "canceled", "state names");
}

/* ---- small parts ---------------------------------------------------------------------- */

static void test_arena_backoff_errors(void)
{
	char **many;
	struct xclone_error err = { 0 };
	bool bounded = true, grows = true;
	unsigned prev_max = 0;
	void *root = xc_arena_new(64);

	many = xc_arena_alloc(root, 10000 * sizeof(char *));
	for (int i = 0; many && i < 10000; i++)
		many[i] = xc_arena_strdup(root, "a string that fills chunks quickly");
	ok(many && many[9999] && strcmp(many[9999], "a string that fills chunks quickly") == 0,
	   "arena holds ten thousand strings (freed as one)");
	xc_arena_free(root);
	xc_arena_free(NULL);

	for (unsigned a = 1; a <= 12; a++) {
		unsigned want = 100u << (a - 1 < 10 ? a - 1 : 10);
		unsigned cap = want > 3000 ? 3000 : want;

		for (int k = 0; k < 50; k++) {
			unsigned d = xc_backoff_ms(a, 100, 3000);

			if (d < cap / 2 || d > cap)
				bounded = false;
		}
		if (cap < prev_max)
			grows = false;
		prev_max = cap;
	}
	ok(bounded && grows, "backoff doubles from 100 ms, capped at 3 s, jitter within half");

	ok(xc_remote_error(XP_TASK_NOT_FOUND, "no task", 0, "task.get", &err) == XC_E_NOT_FOUND &&
		   strcmp(err.remote_code, "TASK_NOT_FOUND") == 0 && !err.retryable &&
		   strstr(err.message, "no task") != NULL,
	   "TASK_NOT_FOUND is XC_E_NOT_FOUND, code kept: %s", err.message);
	ok(xc_remote_error(XP_BUSY, "busy", 1, "clone.start", &err) == XC_E_CONFLICT && err.retryable,
	   "BUSY is a retryable conflict");
	ok(xc_remote_class(XP_TIMEOUT) == XC_E_TIMEOUT, "TIMEOUT is XC_E_TIMEOUT");
	ok(xc_remote_class(XP_TARGET_UNSAFE) == XC_E_REMOTE, "TARGET_UNSAFE stays XC_E_REMOTE");
	ok(xc_remote_class(XP_BAD_REQUEST) == XC_E_USAGE, "BAD_REQUEST is a usage error");
	is_str(xclone_code_name(XC_E_AGENT), "XC_E_AGENT", "code names");
}

/* ---- the call layer over a scripted transport ------------------------------------------ */

/*
 * Each stream answers from a script: one entry per request it receives; "@"
 * stands for the request's id; "LOST" fails the read as a lost connection; "EOF"
 * ends the stream. Every request line written is recorded.
 */
struct script {
	const char *const *steps;
	size_t n, next;
	char sent[16][256];
	size_t nsent;
	unsigned streams;
};

struct xc_transport {
	struct script *sc;
};

struct xc_stream {
	struct script *sc;
	char id[XP_ID_MAX + 1];
	char out[1024];
	size_t len, pos;
	bool dead;
};

static int fake_open(const struct xclone_conn_options *o, struct xc_transport **out, int64_t d,
		     struct xclone_error *err)
{
	return 0;
}

static int fake_stream_open(struct xc_transport *t, struct xc_stream **out, int64_t d,
			    struct xclone_error *err)
{
	*out = calloc(1, sizeof(**out));
	(*out)->sc = t->sc;
	t->sc->streams++;
	return 0;
}

static bool fake_usable(struct xc_stream *s)
{
	return !s->dead;
}

static void expand(struct xc_stream *s, const char *step)
{
	size_t n = 0;

	for (const char *p = step; *p && n + XP_ID_MAX + 2 < sizeof(s->out); p++) {
		if (*p == '@') {
			memcpy(s->out + n, s->id, strlen(s->id));
			n += strlen(s->id);
		} else {
			s->out[n++] = *p;
		}
	}
	s->out[n++] = '\n';
	s->len = n;
	s->pos = 0;
}

static int fake_write(struct xc_stream *s, const char *buf, size_t len, int64_t d,
		      struct xclone_error *err)
{
	struct script *sc = s->sc;
	const char *id = strstr(buf, "\"id\":\"");

	if (sc->nsent < 16)
		snprintf(sc->sent[sc->nsent++], 256, "%.*s", (int)len - 1, buf);
	if (id != NULL)
		snprintf(s->id, sizeof(s->id), "%.*s", (int)strcspn(id + 6, "\""), id + 6);
	if (sc->next < sc->n)
		expand(s, sc->steps[sc->next++]);
	return 0;
}

/* One line at a time, so that a LOST or EOF marker after some lines takes effect there. */
static int fake_read(struct xc_stream *s, char *buf, size_t cap, size_t *got, int64_t d,
		     struct xclone_error *err)
{
	const char *rest = s->out + s->pos;
	size_t left = s->len - s->pos, line;

	if (left >= 4 && strncmp(rest, "LOST", 4) == 0) {
		s->dead = true;
		xclone_error_set(err, XC_E_CONNECT, "connection lost (scripted)");
		err->retryable = 1;
		return XC_E_CONNECT;
	}
	if (left == 0 || (left >= 3 && strncmp(rest, "EOF", 3) == 0)) {
		*got = 0;
		return 0;
	}
	line = strcspn(rest, "\n") + 1;
	*got = line < cap ? line : cap;
	memcpy(buf, rest, *got);
	s->pos += *got;
	return 0;
}

static int fake_ended(struct xc_stream *s, int64_t d, struct xclone_error *err)
{
	return xclone_error_set(err, XC_E_AGENT, "the agent ended (scripted)");
}

static void fake_stream_close(struct xc_stream *s)
{
	free(s);
}

static void fake_peer(struct xc_transport *t, struct xclone_peer *p)
{
}

static void fake_counters(struct xc_transport *t, uint64_t *a, uint64_t *b)
{
	*a = *b = 0;
}

static void fake_close(struct xc_transport *t)
{
}

static const struct xc_transport_ops fake_ops = {
	"fake",	    fake_open,	     fake_stream_open,	fake_usable, fake_write,   fake_read,
	fake_ended, fake_stream_close, fake_peer,	fake_counters, fake_close,
};

static struct xclone_conn *fake_conn(struct script *sc, struct xc_transport *t)
{
	struct xclone_conn *c = calloc(1, sizeof(*c));
	struct xclone_conn_options o;

	xclone_conn_options_init(&o);
	o.host = "fake";
	o.backoff_ms = 1;
	o.backoff_max_ms = 2;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	xc_options_copy(c, &o, NULL);
	c->ops = &fake_ops;
	t->sc = sc;
	c->t = t;
	c->limit = 4;
	return c;
}

#define TASK_JSON                                                                                \
	"{\"id\":\"t-1\",\"key\":null,\"state\":\"succeeded\",\"percent\":100,\"source\":\"[ds] a.vmdk\"," \
	"\"target\":\"/vmfs/devices/disks/naa.1\",\"pointer\":\"/vmfs/volumes/ds/.xclone/t-1.vmdk\"," \
	"\"pid\":7,\"created_ms\":1,\"started_ms\":2,\"ended_ms\":3,\"exit_code\":0,\"signal\":null," \
	"\"xcopy_used\":true,\"bytes\":4096,\"message\":null,\"error_code\":null,\"stderr_tail\":null}"

struct seen {
	int progress, reconnecting, resumed, last_percent;
};

static int count_events(const struct xclone_event *ev, void *ud)
{
	struct seen *s = ud;

	if (ev->type == XCLONE_EVENT_PROGRESS) {
		s->progress++;
		s->last_percent = ev->percent;
	}
	s->reconnecting += ev->type == XCLONE_EVENT_RECONNECTING;
	s->resumed += ev->type == XCLONE_EVENT_RESUMED;
	return 0;
}

static int stop_at_first(const struct xclone_event *ev, void *ud)
{
	return 1;
}

static void test_calls(void)
{
	struct xclone_error err = { 0 };
	struct xclone_task *t = NULL;
	struct xclone_hello *h = NULL;
	struct xc_transport tr;
	struct seen seen = { 0 };

	{
		static const char *const steps[] = {
			"{\"xclone\":1,\"id\":\"@\",\"event\":\"progress\",\"data\":{\"task\":\"t-1\",\"state\":\"running\",\"percent\":40}}\n"
			"{\"xclone\":1,\"id\":\"@\",\"event\":\"unknown.event\",\"data\":{\"x\":1}}\n"
			"{\"xclone\":1,\"id\":\"@\",\"event\":\"progress\",\"data\":{\"task\":\"t-1\",\"state\":\"running\",\"percent\":90,\"bytes\":2048}}\n"
			"{\"xclone\":1,\"id\":\"@\",\"ok\":true,\"result\":{\"task\":" TASK_JSON "}}",
		};
		struct script sc = { steps, 1, 0, { { 0 } }, 0, 0 };
		struct xclone_conn *c = fake_conn(&sc, &tr);

		ok(xclone_task_watch(c, "t-1", count_events, &seen, &t, &err) == 0,
		   "watch: events then the final record");
		ok(seen.progress == 2 && seen.last_percent == 90, "two progress events, unknown one ignored");
		ok(t && t->state == XCLONE_TASK_SUCCEEDED && t->xcopy_used == 1 && t->bytes == 4096,
		   "final record");
		ok(strstr(sc.sent[0], "\"op\":\"task.watch\",\"args\":{\"task\":\"t-1\"}") != NULL,
		   "request line: %s", sc.sent[0]);
		xclone_task_free(t);
		xclone_disconnect(c);
	}
	{
		static const char *const steps[] = {
			"{\"xclone\":1,\"id\":\"@\",\"event\":\"progress\",\"data\":{\"task\":\"t-1\",\"state\":\"running\",\"percent\":10}}\nLOST",
			"LOST",
			"{\"xclone\":1,\"id\":\"@\",\"ok\":true,\"result\":{\"task\":" TASK_JSON "}}",
		};
		struct script sc = { steps, 3, 0, { { 0 } }, 0, 0 };
		struct xclone_conn *c = fake_conn(&sc, &tr);

		memset(&seen, 0, sizeof(seen));
		ok(xclone_task_watch(c, "t-1", count_events, &seen, &t, &err) == 0,
		   "watch survives two lost connections: %s", err.message);
		ok(seen.reconnecting == 2 && seen.resumed == 1 && sc.nsent == 3,
		   "reconnecting twice, resumed once, task.watch sent three times (%d %d %zu)",
		   seen.reconnecting, seen.resumed, sc.nsent);
		ok(sc.streams == 3, "each attempt on a new stream (%u)", sc.streams);
		xclone_task_free(t);
		xclone_disconnect(c);
	}
	{
		static const char *const steps[] = { "LOST", "never sent" };
		struct script sc = { steps, 2, 0, { { 0 } }, 0, 0 };
		struct xclone_conn *c = fake_conn(&sc, &tr);
		struct xclone_clean *k = NULL;

		ok(xclone_task_clean(c, "t-1", &k, &err) == XC_E_CONNECT && sc.nsent == 1 &&
			   !err.retryable && strstr(err.message, "may or may not") != NULL,
		   "task.clean is not sent again after a lost connection: %s", err.message);
		xclone_disconnect(c);
	}
	{
		static const char *const steps[] = {
			"{\"xclone\":1,\"id\":\"other\",\"ok\":true,\"result\":{}}",
			"{\"xclone\":1,\"id\":\"@\",\"ok\":true,\"result\":{\"agent\":\"xclone-agent\"}}",
			"{\"xclone\":1,\"id\":null,\"ok\":false,\"error\":{\"code\":\"BAD_REQUEST\",\"message\":\"line: nope\",\"retryable\":false}}",
			"{\"xclone\":1,\"id\":\"@\",\"ok\":false,\"error\":{\"code\":\"NO_SUCH_CODE\",\"message\":\"x\",\"retryable\":false}}",
			"EOF",
			"{\"xclone\":1,\"id\":\"@\",\"ok\":true,\"result\":{\"agent\":\"xclone-agent\",\"version\":\"9\",\"protocol\":2,\"capabilities\":[],\"hostname\":\"h\",\"mode\":\"ssh\",\"read_only\":false}}",
		};
		struct script sc = { steps, 6, 0, { { 0 } }, 0, 0 };
		struct xclone_conn *c = fake_conn(&sc, &tr);

		ok(xclone_hello(c, &h, &err) == XC_E_PROTOCOL && strstr(err.message, "other"),
		   "an answer to another request is a protocol error: %s", err.message);
		ok(xclone_hello(c, &h, &err) == XC_E_PROTOCOL && strstr(err.message, "result.version"),
		   "a result missing members is refused: %s", err.message);
		ok(xclone_hello(c, &h, &err) == XC_E_USAGE && strcmp(err.remote_code, "BAD_REQUEST") == 0,
		   "an error with id null answers the request in flight: %s", err.message);
		ok(xclone_hello(c, &h, &err) == XC_E_PROTOCOL, "an unknown error code is refused: %s",
		   err.message);
		ok(xclone_hello(c, &h, &err) == XC_E_AGENT && h == NULL,
		   "end of stream before an answer: the transport says why");
		ok(xclone_hello(c, &h, &err) == XC_E_PROTOCOL && strstr(err.message, "protocol 2"),
		   "another protocol version is refused: %s", err.message);
		xclone_disconnect(c);
	}
	{
		static const char *const steps[] = {
			"{\"xclone\":1,\"id\":\"@\",\"event\":\"progress\",\"data\":{\"task\":\"t-1\",\"state\":\"running\",\"percent\":1}}",
		};
		struct script sc = { steps, 1, 0, { { 0 } }, 0, 0 };
		struct xclone_conn *c = fake_conn(&sc, &tr);

		ok(xclone_task_watch(c, "t-1", stop_at_first, NULL, &t, &err) == XC_E_ABORTED && t == NULL,
		   "a callback returning non-zero stops the watch");
		xclone_disconnect(c);
	}
	{
		static const char *const steps[] = { "" };
		struct script sc = { steps, 0, 0, { { 0 } }, 0, 0 };
		struct xclone_conn *c = fake_conn(&sc, &tr);

		ok(xclone_preflight(c, "[ds] a\nb.vmdk", "/vmfs/devices/disks/naa.1", NULL, &err) ==
			   XC_E_USAGE,
		   "no result pointer is a usage error");
		{
			struct xclone_preflight *p = NULL;

			ok(xclone_preflight(c, "[ds] a\nb.vmdk", "/vmfs/devices/disks/naa.1", &p, &err) ==
				       XC_E_USAGE &&
				   strstr(err.message, "args.source") && sc.nsent == 0,
			   "a control character in a name is refused before sending: %s", err.message);
		}
		ok(xclone_device_get(c, "", &(struct xclone_device *){ NULL }, &err) == XC_E_USAGE,
		   "an empty device is refused");
		xclone_disconnect(c);
	}
}

int main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_b64();
	test_fingerprints();
	test_known_hosts();
	test_authorized_key();
	test_results();
	test_arena_backoff_errors();
	test_calls();
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmpdir);
	}
	return tap_done();
}
