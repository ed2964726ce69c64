/* Initiator ids, WWN forms, NAA ids, host names and REST helpers of the array layer. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "array.h"
#include "http.h"
#include "initiator.h"
#include "naa.h"
#include "rest.h"
#include "tap.h"

static void test_initiators(void)
{
	struct xc_initiator ini;
	struct xclone_error err;
	char buf[32];

	ok(xc_initiator_parse("IQN.1998-01.com.VMware:esx01-4f5e", &ini, &err) == 0 &&
		   ini.kind == XC_INITIATOR_ISCSI && strcmp(ini.id, "iqn.1998-01.com.vmware:esx01-4f5e") == 0,
	   "IQN: parsed and lower-cased");
	ok(xc_initiator_parse("eui.02004567A425678D", &ini, &err) == 0 && ini.kind == XC_INITIATOR_ISCSI,
	   "iSCSI EUI name");
	ok(xc_initiator_parse("eui.0200", &ini, &err) == XC_E_USAGE, "a short EUI is refused");
	ok(xc_initiator_parse("fc.20000025B5000001:20000025b5000002", &ini, &err) == 0 &&
		   ini.kind == XC_INITIATOR_FC && strcmp(ini.wwnn, "20000025b5000001") == 0 &&
		   strcmp(ini.wwpn, "20000025b5000002") == 0 &&
		   strcmp(ini.id, "fc.20000025b5000001:20000025b5000002") == 0,
	   "ESXi FC id: WWNN and WWPN");
	ok(xc_initiator_parse("21:00:00:24:FF:3A:1B:2C", &ini, &err) == 0 && ini.kind == XC_INITIATOR_FC &&
		   strcmp(ini.wwpn, "21000024ff3a1b2c") == 0 && ini.wwnn[0] == '\0',
	   "a bare colon-separated WWPN");
	ok(xc_initiator_parse("nqn.2014-08.org.nvmexpress:uuid:4c4c4544-0034-5310-8052-b4c04f4e4d32",
			      &ini, &err) == 0 && ini.kind == XC_INITIATOR_NVME,
	   "NVMe NQN");
	ok(xc_initiator_parse("fc.2000:2000", &ini, &err) == XC_E_USAGE, "a short FC id is refused");
	ok(xc_initiator_parse("iqn.1998-01.com.vmware:esx 01", &ini, &err) == XC_E_USAGE,
	   "a space in an IQN is refused");
	ok(xc_initiator_parse("iqn.x;$(reboot)", &ini, &err) == XC_E_USAGE &&
		   strstr(err.message, "iqn.x;$(reboot)"),
	   "shell characters in an IQN are refused and quoted back");
	ok(xc_initiator_parse("", &ini, &err) == XC_E_USAGE, "empty is refused");
	ok(xc_initiator_parse("21:00:00:24:ff:3a:1b", &ini, &err) == XC_E_USAGE, "7-byte WWN refused");

	const char *dup[] = {"fc.20000025b5000001:20000025b5000002", "20:00:00:25:b5:00:00:02"};
	struct xc_initiator two[2];
	ok(xc_initiators_parse(dup, 2, two, &err) == XC_E_USAGE && strstr(err.message, "twice"),
	   "the same WWPN twice is refused");

	xc_initiator_parse("fc.20000025b5000001:21000024ff3a1b2c", &ini, &err);
	ok(xc_initiator_matches(&ini, "21000024FF3A1B2C"), "WWPN matches plain upper case");
	ok(xc_initiator_matches(&ini, "21:00:00:24:ff:3a:1b:2c"), "WWPN matches colon lower case");
	ok(!xc_initiator_matches(&ini, "20000025b5000001"), "the WWNN is not the port");
	xc_wwn_format(ini.wwpn, XC_WWN_COLON_UPPER, buf, sizeof(buf));
	is_str(buf, "21:00:00:24:FF:3A:1B:2C", "WWN colon upper");
	xc_wwn_format(ini.wwpn, XC_WWN_COLON_LOWER, buf, sizeof(buf));
	is_str(buf, "21:00:00:24:ff:3a:1b:2c", "WWN colon lower");
	xc_wwn_format(ini.wwpn, XC_WWN_PLAIN_UPPER, buf, sizeof(buf));
	is_str(buf, "21000024FF3A1B2C", "WWN plain upper");
	xc_initiator_parse("iqn.1998-01.com.vmware:esx01", &ini, &err);
	ok(xc_initiator_matches(&ini, "IQN.1998-01.COM.VMWARE:ESX01"), "IQNs compare without case");
}

static void test_naa(void)
{
	char naa[64];
	struct xclone_error err;

	ok(xc_naa_from_hex("624a9370", "A7B9F7ECC01E40F70001181F", naa, sizeof(naa), &err) == 0 &&
		   strcmp(naa, "naa.624a9370a7b9f7ecc01e40f70001181f") == 0,
	   "NAA from hex");
	ok(xc_naa_from_ascii("600a0980", "819TI$X101LA", naa, sizeof(naa), &err) == 0 &&
		   strcmp(naa, "naa.600a0980383139544924583130314c41") == 0,
	   "NAA from ASCII (forklift's ONTAP pair, lower case)");
	ok(xc_naa_from_ascii("60a98000", "HnT-OZ/GiMhK", naa, sizeof(naa), &err) == 0 &&
		   strcmp(naa, "naa.60a98000486e542d4f5a2f47694d684b") == 0,
	   "NAA from ASCII (NetApp community pair)");
	ok(xc_naa_from_hex("624a9370", "A7B9", naa, sizeof(naa), &err) == XC_E_PROTOCOL,
	   "too few digits");
	ok(xc_naa_is_valid("naa.624a9370a7b9f7ecc01e40f70001181f"), "valid NAA");
	ok(!xc_naa_is_valid("naa.624A9370A7B9F7ECC01E40F70001181F"), "ESXi shows NAA ids lower case");
	ok(!xc_naa_is_valid("naa.624a9370a7b9f7ecc01e40f70001181f:1"), "no partition suffix");
}

static void test_names(void)
{
	char out[128];

	xc_host_name_sanitize("esx01.lab.example.com", out, sizeof(out));
	is_str(out, "esx01-lab-example-com", "host name from an FQDN");
	xc_host_name_sanitize("10.0.0.5", out, sizeof(out));
	is_str(out, "xclone-10-0-0-5", "host name from an address starts with a letter");
	xc_host_name_sanitize("ésx $(x) 'y'", out, sizeof(out));
	is_str(out, "xclone-sx-x-y", "host name from hostile text");
	xc_host_name_sanitize("a-very-long-esxi-host-name-that-goes-on-and-on-beyond-sixty-three-chars",
			      out, sizeof(out));
	ok(strlen(out) <= 63, "host names are at most 63 characters");
}

static void test_rest_helpers(void)
{
	struct xc_strbuf sb;
	struct xc_http *h = NULL;
	struct xc_http_options o = {.base_url = "https://127.0.0.1:1"};
	struct xclone_error err;
	char out[128];

	xc_sb_init(&sb);
	xc_sb_add(&sb, "/api/volumes?names=");
	xc_sb_add_escaped(&sb, "pod::vol a&b=c/ü");
	is_str(xc_sb_str(&sb), "/api/volumes?names=pod%3A%3Avol%20a%26b%3Dc%2F%C3%BC",
	       "query values are percent-encoded");
	xc_sb_free(&sb);

	xc_sb_init(&sb);
	for (int i = 0; i < 20000; i++)
		xc_sb_add(&sb, "xxxx");
	ok(xc_sb_str(&sb) == NULL, "a path past the limit fails instead of growing forever");
	xc_sb_free(&sb);

	ok(xc_http_open(&h, &o, &err) == 0, "http session");
	xc_http_add_secret(h, "s3cr3t", &err);
	xc_http_add_secret(h, "s3cr3t-longer", &err);
	xc_http_redact(h, "a s3cr3t b s3cr3t-longer c", out, sizeof(out));
	is_str(out, "a *** b *** c", "every registered secret is redacted, longest first");
	xc_http_close(h);
	o.base_url = "http://127.0.0.1:1";
	ok(xc_http_open(&h, &o, &err) == XC_E_USAGE, "plain http is refused");
}

int main(void)
{
	test_initiators();
	test_naa();
	test_names();
	test_rest_helpers();
	return tap_done();
}
