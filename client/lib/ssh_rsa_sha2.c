/* RSA with SHA-2 signatures for libssh2 before 1.11 (see ssh_rsa_sha2.h). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "b64.h"
#include "ssh_rsa_sha2.h"

#define KEY_FILE_MAX 65536
#define OPENSSH_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define OPENSSH_END "-----END OPENSSH PRIVATE KEY-----"
#define OPENSSH_MAGIC "openssh-key-v1"

struct xc_rsa_key {
	EVP_PKEY *pkey;
};

/* ---- reading SSH wire encodings ------------------------------------------------ */

struct rd {
	const unsigned char *p;
	size_t left;
};

static int rd_u32(struct rd *r, uint32_t *v)
{
	if (r->left < 4)
		return -1;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return 0;
}

static int rd_string(struct rd *r, const unsigned char **s, size_t *len)
{
	uint32_t n;

	if (rd_u32(r, &n) != 0 || n > r->left)
		return -1;
	*s = r->p;
	*len = n;
	r->p += n;
	r->left -= n;
	return 0;
}

static int rd_is(struct rd *r, const char *want)
{
	const unsigned char *s;
	size_t len;

	return rd_string(r, &s, &len) == 0 && len == strlen(want) && memcmp(s, want, len) == 0
		       ? 0
		       : -1;
}

static BIGNUM *rd_bn(struct rd *r)
{
	const unsigned char *s;
	size_t len;

	if (rd_string(r, &s, &len) != 0 || len > 2048 || (len > 0 && (s[0] & 0x80)))
		return NULL; /* negative or absurd */
	return BN_bin2bn(s, (int)len, NULL);
}

/* ---- building the key -------------------------------------------------------------- */

/* n, e, d, iqmp, p, q as OpenSSH stores them; CRT exponents computed. */
static EVP_PKEY *pkey_from_parts(BIGNUM *n, BIGNUM *e, BIGNUM *d, BIGNUM *iqmp, BIGNUM *p,
				 BIGNUM *q)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BN_CTX *bctx = BN_CTX_new();
	BIGNUM *dmp1 = BN_new(), *dmq1 = BN_new(), *t = BN_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (bld == NULL || bctx == NULL || dmp1 == NULL || dmq1 == NULL || t == NULL ||
	    !BN_sub(t, p, BN_value_one()) || !BN_mod(dmp1, d, t, bctx) ||
	    !BN_sub(t, q, BN_value_one()) || !BN_mod(dmq1, d, t, bctx))
		goto out;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, iqmp) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_CTX_free(bctx);
	BN_clear_free(dmp1);
	BN_clear_free(dmq1);
	BN_clear_free(t);
	return pkey;
}

/* The private part of an unencrypted openssh-key-v1 holding one RSA key. */
static int parse_openssh_private(struct rd *r, EVP_PKEY **out)
{
	uint32_t check1, check2;
	const unsigned char *type;
	size_t type_len;
	BIGNUM *n = NULL, *e = NULL, *d = NULL, *iqmp = NULL, *p = NULL, *q = NULL;
	int rc = -1;

	if (rd_u32(r, &check1) != 0 || rd_u32(r, &check2) != 0 || check1 != check2 ||
	    rd_string(r, &type, &type_len) != 0)
		return -1;
	if (type_len != 7 || memcmp(type, "ssh-rsa", 7) != 0)
		return 1; /* another key type */
	if ((n = rd_bn(r)) != NULL && (e = rd_bn(r)) != NULL && (d = rd_bn(r)) != NULL &&
	    (iqmp = rd_bn(r)) != NULL && (p = rd_bn(r)) != NULL && (q = rd_bn(r)) != NULL)
		*out = pkey_from_parts(n, e, d, iqmp, p, q);
	rc = *out != NULL ? 0 : -1;
	BN_free(n);
	BN_free(e);
	BN_clear_free(d);
	BN_clear_free(iqmp);
	BN_clear_free(p);
	BN_clear_free(q);
	return rc;
}

/* The base64 body between the OpenSSH armour lines, decoded into *der. */
static long openssh_body(const char *text, unsigned char **der)
{
	const char *begin = strstr(text, OPENSSH_BEGIN), *end;
	char *b64;
	size_t n = 0;
	long len;

	if (begin == NULL || (end = strstr(begin, OPENSSH_END)) == NULL)
		return -1;
	begin += strlen(OPENSSH_BEGIN);
	b64 = malloc((size_t)(end - begin) + 1);
	*der = malloc((size_t)(end - begin) + 1);
	if (b64 == NULL || *der == NULL) {
		free(b64);
		return -1;
	}
	for (const char *s = begin; s < end; s++) {
		if (*s != '\n' && *s != '\r' && *s != ' ' && *s != '\t')
			b64[n++] = *s;
	}
	len = xc_b64_decode(b64, n, *der, (size_t)(end - begin) + 1);
	free(b64);
	return len;
}

/* Whether the public key blob names ssh-rsa. */
static bool blob_is_rsa(const unsigned char *blob, size_t len)
{
	struct rd r = { blob, len };

	return rd_is(&r, "ssh-rsa") == 0;
}

static int load_openssh(const char *file, const char *text, EVP_PKEY **out,
			struct xclone_error *err)
{
	unsigned char *der = NULL;
	long len = openssh_body(text, &der);
	const unsigned char *cipher, *skip, *pub, *priv_p;
	size_t cipher_len, skip_len, pub_len, priv_len;
	struct rd r, priv;
	uint32_t nkeys;
	int rc = -1;

	if (len < (long)sizeof(OPENSSH_MAGIC) ||
	    memcmp(der, OPENSSH_MAGIC, sizeof(OPENSSH_MAGIC)) != 0)
		goto out;
	r.p = der + sizeof(OPENSSH_MAGIC);
	r.left = (size_t)len - sizeof(OPENSSH_MAGIC);
	if (rd_string(&r, &cipher, &cipher_len) != 0 || rd_string(&r, &skip, &skip_len) != 0 ||
	    rd_string(&r, &skip, &skip_len) != 0 || rd_u32(&r, &nkeys) != 0 || nkeys != 1 ||
	    rd_string(&r, &pub, &pub_len) != 0 || rd_string(&r, &priv_p, &priv_len) != 0)
		goto out;
	if (!blob_is_rsa(pub, pub_len)) {
		rc = 0; /* not RSA: *out stays NULL and libssh2 reads it */
		goto out;
	}
	if (cipher_len != 4 || memcmp(cipher, "none", 4) != 0) {
		rc = xclone_error_set(err, XC_E_CONFIG,
				      "%s is an RSA key in OpenSSH format with a passphrase, which "
				      "this libssh2 (before 1.11) cannot use with SHA-2 signatures: "
				      "convert it with `ssh-keygen -p -m PEM -f %s` (it keeps the "
				      "passphrase), or use an Ed25519 key",
				      file, file);
		goto out;
	}
	priv.p = priv_p;
	priv.left = priv_len;
	if (parse_openssh_private(&priv, out) == 0)
		rc = 0;
out:
	if (rc == -1)
		rc = xclone_error_set(err, XC_E_CONFIG, "%s is not a valid OpenSSH private key", file);
	if (der != NULL)
		OPENSSL_cleanse(der, len > 0 ? (size_t)len : 0);
	free(der);
	return rc;
}

static int passphrase_cb(char *buf, int size, int rwflag, void *ud)
{
	const char *p = ud;
	size_t n = p != NULL ? strlen(p) : 0;

	if (p == NULL || size <= 0 || n >= (size_t)size)
		return -1;
	memcpy(buf, p, n);
	return (int)n;
}

static int load_pem(const char *file, const char *text, const char *passphrase, EVP_PKEY **out,
		    struct xclone_error *err)
{
	BIO *bio = BIO_new_mem_buf(text, -1);
	EVP_PKEY *pkey;
	char reason[200] = "";

	if (bio == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	pkey = PEM_read_bio_PrivateKey(bio, NULL, passphrase_cb, (void *)passphrase);
	BIO_free(bio);
	if (pkey == NULL) {
		ERR_error_string_n(ERR_peek_last_error(), reason, sizeof(reason));
		ERR_clear_error();
		return xclone_error_set(err, XC_E_CONFIG, "cannot read the private key %s: %s (%s?)",
					file, reason,
					passphrase ? "wrong passphrase" : "it needs a passphrase");
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pkey); /* not RSA: libssh2 signs it */
		return 0;
	}
	*out = pkey;
	return 0;
}

int xc_rsa_key_load(const char *file, const char *passphrase, struct xc_rsa_key **key,
		    struct xclone_error *err)
{
	char *text = calloc(1, KEY_FILE_MAX + 1);
	EVP_PKEY *pkey = NULL;
	FILE *f;
	size_t n;
	int rc;

	*key = NULL;
	if (text == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	f = fopen(file, "re");
	if (f == NULL) {
		free(text);
		return xclone_error_set(err, XC_E_CONFIG, "cannot read the SSH identity %s", file);
	}
	n = fread(text, 1, KEY_FILE_MAX, f);
	fclose(f);
	if (strstr(text, OPENSSH_BEGIN) != NULL)
		rc = load_openssh(file, text, &pkey, err);
	else if (strstr(text, "-----BEGIN") != NULL)
		rc = load_pem(file, text, passphrase, &pkey, err);
	else
		rc = 0; /* not a format of ours: libssh2 will say what it thinks */
	OPENSSL_cleanse(text, n);
	free(text);
	if (rc == 0 && pkey != NULL) {
		*key = calloc(1, sizeof(**key));
		if (*key == NULL) {
			EVP_PKEY_free(pkey);
			return xclone_error_set(err, XC_E_NOMEM, "out of memory");
		}
		(*key)->pkey = pkey;
	}
	return rc;
}

/* ---- the wire forms -------------------------------------------------------------- */

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* mpint: big-endian, a leading zero byte when the top bit is set. */
static size_t put_mpint(unsigned char *p, const BIGNUM *bn)
{
	int len = BN_num_bytes(bn);
	int pad = len > 0 && BN_num_bits(bn) % 8 == 0;

	put_u32(p, (uint32_t)(len + pad));
	if (pad)
		p[4] = 0;
	BN_bn2bin(bn, p + 4 + pad);
	return 4 + (size_t)pad + (size_t)len;
}

int xc_rsa_key_blob(const struct xc_rsa_key *key, const char *alg, unsigned char **blob,
		    size_t *len)
{
	BIGNUM *n = NULL, *e = NULL;
	size_t alen = strlen(alg), cap, off = 0;
	unsigned char *p;

	if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
		BN_free(n);
		return -1;
	}
	cap = 4 + alen + 5 + (size_t)BN_num_bytes(e) + 5 + (size_t)BN_num_bytes(n);
	p = malloc(cap);
	if (p != NULL) {
		put_u32(p, (uint32_t)alen);
		memcpy(p + 4, alg, alen);
		off = 4 + alen;
		off += put_mpint(p + off, e);
		off += put_mpint(p + off, n);
	}
	BN_free(n);
	BN_free(e);
	*blob = p;
	*len = off;
	return p != NULL ? 0 : -1;
}

int xc_rsa_sign(LIBSSH2_SESSION *session, unsigned char **sig, size_t *sig_len,
		const unsigned char *data, size_t data_len, void **abstract)
{
	const struct xc_rsa_signer *s = *abstract;
	const EVP_MD *md = strcmp(s->alg, "rsa-sha2-256") == 0 ? EVP_sha256() : EVP_sha512();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = 0;
	int rc = -1;

	*sig = NULL;
	if (ctx != NULL && EVP_DigestSignInit(ctx, NULL, md, NULL, s->key->pkey) == 1 &&
	    EVP_DigestSign(ctx, NULL, &len, data, data_len) == 1 &&
	    (*sig = malloc(len)) != NULL && /* libssh2's default allocator frees it */
	    EVP_DigestSign(ctx, *sig, &len, data, data_len) == 1) {
		*sig_len = len;
		rc = 0;
	}
	if (rc != 0) {
		free(*sig);
		*sig = NULL;
		ERR_clear_error();
	}
	EVP_MD_CTX_free(ctx);
	return rc;
}

void xc_rsa_key_free(struct xc_rsa_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}
