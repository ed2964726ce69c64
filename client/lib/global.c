/* One-time library initialisation (see xclone.h). */
#include <curl/curl.h>
#include <libssh2.h>
#include <openssl/ssl.h>

#include "xclone.h"

#ifndef XCLONE_VERSION
#define XCLONE_VERSION "0.0.0"
#endif

int xclone_global_init(struct xclone_error *err)
{
	if (OPENSSL_init_ssl(0, NULL) != 1)
		return xclone_error_set(err, XC_E_INTERNAL, "OpenSSL initialisation failed");
	if (libssh2_init(0) != 0)
		return xclone_error_set(err, XC_E_INTERNAL, "libssh2 initialisation failed");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		libssh2_exit();
		return xclone_error_set(err, XC_E_INTERNAL, "libcurl initialisation failed");
	}
	return 0;
}

void xclone_global_cleanup(void)
{
	curl_global_cleanup();
	libssh2_exit();
}

const char *xclone_version(void)
{
	return XCLONE_VERSION;
}
