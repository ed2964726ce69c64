/* HTTPS for array REST APIs over one libcurl easy handle (see http.h). */
#define _GNU_SOURCE /* strdup, strcasestr, getentropy, nanosleep under -std=c17 */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"

#define HTTP_MAX_SESSION_HEADERS 16
#define HTTP_MAX_SECRETS 16
#define HTTP_BODY_MAX (32u << 20)     /* a host or volume list larger than this is not sane */
#define HTTP_HEADERS_MAX (64u << 10)
#define HTTP_RETRY_AFTER_MAX_MS 60000 /* a longer wait is reported, not slept */
#define HTTP_PATH_MAX 8192

struct xc_http {
	CURL *curl;
	char *base_url;
	char *ca_file;
	char *user_agent;
	int verify_tls;
	unsigned timeout_seconds, max_attempts, backoff_ms, backoff_max_ms;
	char *headers[HTTP_MAX_SESSION_HEADERS]; /* "Name: value" */
	size_t n_headers;
	char *user, *password;
	char *secrets[HTTP_MAX_SECRETS];
	size_t n_secrets;
	xc_http_relogin_fn relogin;
	xc_http_expired_fn expired;
	void *auth_ctx;
	xc_http_definite_fn definite;
	void *definite_ctx;
	xc_http_log_fn log;
	void *log_ctx;
	struct xc_http_stats stats;
	uint64_t rng;
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *xc_http_method_name(enum xc_http_method m)
{
	switch (m) {
	case XC_HTTP_GET: return "GET";
	case XC_HTTP_POST: return "POST";
	case XC_HTTP_PUT: return "PUT";
	case XC_HTTP_PATCH: return "PATCH";
	case XC_HTTP_DELETE: return "DELETE";
	}
	return "GET";
}

static void wipe_free(char *p)
{
	if (p == NULL)
		return;
	for (volatile char *v = p; *v != '\0'; v++)
		*v = '\0';
	free(p);
}

static uint64_t next_random(struct xc_http *h)
{
	/* xorshift64: jitter only needs to differ between clients, not be secret */
	uint64_t x = h->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	h->rng = x;
	return x;
}

static void seed_random(struct xc_http *h)
{
	uint64_t seed = 0;

	if (getentropy(&seed, sizeof(seed)) != 0 || seed == 0)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)h;
	h->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

int xc_http_open(struct xc_http **out, const struct xc_http_options *opt,
		 struct xclone_error *err)
{
	struct xc_http *h;

	*out = NULL;
	if (opt == NULL || opt->base_url == NULL || strncmp(opt->base_url, "https://", 8) != 0)
		return xclone_error_set(err, XC_E_USAGE, "array URL must start with https://");
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return xclone_error_set(err, XC_E_INTERNAL, "libcurl initialisation failed: %s",
					curl_easy_strerror(curl_init_rc));
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	h->curl = curl_easy_init();
	h->base_url = strdup(opt->base_url);
	h->user_agent = strdup(opt->user_agent ? opt->user_agent : "xclone");
	h->ca_file = opt->ca_file ? strdup(opt->ca_file) : NULL;
	if (h->curl == NULL || h->base_url == NULL || h->user_agent == NULL ||
	    (opt->ca_file && h->ca_file == NULL)) {
		xc_http_close(h);
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	}
	h->verify_tls = opt->verify_tls;
	h->timeout_seconds = opt->timeout_seconds ? opt->timeout_seconds : 30;
	h->max_attempts = opt->max_attempts ? opt->max_attempts : 5;
	h->backoff_ms = opt->backoff_ms ? opt->backoff_ms : 200;
	h->backoff_max_ms = opt->backoff_max_ms ? opt->backoff_max_ms : 10000;
	seed_random(h);
	*out = h;
	return 0;
}

void xc_http_close(struct xc_http *h)
{
	if (h == NULL)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	for (size_t i = 0; i < h->n_headers; i++)
		wipe_free(h->headers[i]);
	for (size_t i = 0; i < h->n_secrets; i++)
		wipe_free(h->secrets[i]);
	wipe_free(h->user);
	wipe_free(h->password);
	free(h->base_url);
	free(h->ca_file);
	free(h->user_agent);
	free(h);
}

int xc_http_add_secret(struct xc_http *h, const char *secret, struct xclone_error *err)
{
	if (secret == NULL || secret[0] == '\0')
		return 0;
	for (size_t i = 0; i < h->n_secrets; i++)
		if (strcmp(h->secrets[i], secret) == 0)
			return 0;
	if (h->n_secrets == HTTP_MAX_SECRETS) {
		/* Forget the oldest: expired session tokens are the ones that pile up. */
		wipe_free(h->secrets[0]);
		memmove(&h->secrets[0], &h->secrets[1], (HTTP_MAX_SECRETS - 1) * sizeof(char *));
		h->n_secrets--;
	}
	h->secrets[h->n_secrets] = strdup(secret);
	if (h->secrets[h->n_secrets] == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	h->n_secrets++;
	return 0;
}

int xc_http_set_header(struct xc_http *h, const char *name, const char *value,
		       struct xclone_error *err)
{
	size_t name_len = strlen(name), i, line_len;
	char *line;
	int rc;

	if (name_len == 0 || strpbrk(name, ": \r\n") != NULL ||
	    (value != NULL && strpbrk(value, "\r\n") != NULL))
		return xclone_error_set(err, XC_E_USAGE, "bad HTTP header %s", name);
	for (i = 0; i < h->n_headers; i++)
		if (strncasecmp(h->headers[i], name, name_len) == 0 && h->headers[i][name_len] == ':')
			break;
	if (value == NULL) {
		if (i < h->n_headers) {
			wipe_free(h->headers[i]);
			h->headers[i] = h->headers[h->n_headers - 1];
			h->n_headers--;
		}
		return 0;
	}
	rc = xc_http_add_secret(h, value, err);
	if (rc)
		return rc;
	line_len = name_len + 2 + strlen(value) + 1;
	line = malloc(line_len);
	if (line == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	snprintf(line, line_len, "%s: %s", name, value);
	if (i < h->n_headers) {
		wipe_free(h->headers[i]);
		h->headers[i] = line;
		return 0;
	}
	if (h->n_headers == HTTP_MAX_SESSION_HEADERS) {
		wipe_free(line);
		return xclone_error_set(err, XC_E_INTERNAL, "too many HTTP session headers");
	}
	h->headers[h->n_headers++] = line;
	return 0;
}

int xc_http_set_basic_auth(struct xc_http *h, const char *user, const char *password,
			   struct xclone_error *err)
{
	int rc = xc_http_add_secret(h, password, err);

	if (rc)
		return rc;
	wipe_free(h->user);
	wipe_free(h->password);
	h->user = strdup(user);
	h->password = strdup(password);
	if (h->user == NULL || h->password == NULL)
		return xclone_error_set(err, XC_E_NOMEM, "out of memory");
	return 0;
}

void xc_http_set_relogin(struct xc_http *h, xc_http_relogin_fn relogin,
			 xc_http_expired_fn expired, void *ctx)
{
	h->relogin = relogin;
	h->expired = expired;
	h->auth_ctx = ctx;
}

void xc_http_set_definite(struct xc_http *h, xc_http_definite_fn definite, void *ctx)
{
	h->definite = definite;
	h->definite_ctx = ctx;
}

void xc_http_set_log(struct xc_http *h, xc_http_log_fn log, void *ctx)
{
	h->log = log;
	h->log_ctx = ctx;
}

void xc_http_get_stats(const struct xc_http *h, struct xc_http_stats *out)
{
	*out = h->stats;
}

unsigned xc_http_max_attempts(const struct xc_http *h)
{
	return h->max_attempts;
}

void xc_http_redact(const struct xc_http *h, const char *text, char *buf, size_t size)
{
	size_t out = 0;
	const char *p = text;

	if (size == 0)
		return;
	while (*p != '\0' && out + 1 < size) {
		size_t hit = 0;
		for (size_t i = 0; h != NULL && i < h->n_secrets; i++) {
			size_t len = strlen(h->secrets[i]);
			if (len > 0 && strncmp(p, h->secrets[i], len) == 0 && len > hit)
				hit = len;
		}
		if (hit > 0) {
			for (const char *m = "***"; *m != '\0' && out + 1 < size; m++)
				buf[out++] = *m;
			p += hit;
		} else {
			buf[out++] = *p++;
		}
	}
	buf[out] = '\0';
}

void xc_http_response_free(struct xc_http_response *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	free(resp->headers);
	memset(resp, 0, sizeof(*resp));
}

static void response_reset(struct xc_http_response *resp)
{
	xc_http_response_free(resp);
}

/* Appends to a growable buffer; returns 0, or -1 past the limit / out of memory. */
static int buffer_append(char **buf, size_t *len, const char *data, size_t n, size_t limit)
{
	char *p;

	if (*len + n > limit)
		return -1;
	p = realloc(*buf, *len + n + 1);
	if (p == NULL)
		return -1;
	memcpy(p + *len, data, n);
	*len += n;
	p[*len] = '\0';
	*buf = p;
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct xc_http_response *resp = userdata;
	size_t n = size * nmemb;

	if (buffer_append(&resp->body, &resp->body_len, data, n, HTTP_BODY_MAX) != 0)
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct xc_http_response *resp = userdata;
	size_t n = size * nmemb;

	/* A status line starts a new response (after 1xx or a proxy's answer). */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		free(resp->headers);
		resp->headers = NULL;
		resp->headers_len = 0;
	}
	if (buffer_append(&resp->headers, &resp->headers_len, data, n, HTTP_HEADERS_MAX) != 0)
		return 0;
	return n;
}

int xc_http_response_header(const struct xc_http_response *resp, const char *name, char *buf,
			    size_t size)
{
	size_t name_len = strlen(name);
	const char *line = resp->headers;

	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > name_len && strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
			const char *v = line + name_len + 1;
			size_t vlen = len - name_len - 1;
			while (vlen > 0 && (*v == ' ' || *v == '\t')) {
				v++;
				vlen--;
			}
			while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == ' '))
				vlen--;
			if (vlen + 1 > size)
				return -1;
			memcpy(buf, v, vlen);
			buf[vlen] = '\0';
			return 0;
		}
		line = end ? end + 1 : NULL;
	}
	return -1;
}

static void log_line(struct xc_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_line(struct xc_http *h, const char *fmt, ...)
{
	char raw[1024], clean[1024];
	va_list ap;

	if (h->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	xc_http_redact(h, raw, clean, sizeof(clean));
	h->log(h->log_ctx, clean);
}

static struct curl_slist *build_headers(const struct xc_http *h, const struct xc_http_request *req)
{
	struct curl_slist *list = NULL, *next;
	const char *fixed[] = {"Accept: application/json", "Expect:",
			       req->body ? "Content-Type: application/json" : NULL};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (fixed[i] == NULL)
			continue;
		next = curl_slist_append(list, fixed[i]);
		if (next == NULL)
			goto fail;
		list = next;
	}
	for (size_t i = 0; i < h->n_headers; i++) {
		next = curl_slist_append(list, h->headers[i]);
		if (next == NULL)
			goto fail;
		list = next;
	}
	for (size_t i = 0; i < req->n_headers; i++) {
		next = curl_slist_append(list, req->headers[i]);
		if (next == NULL)
			goto fail;
		list = next;
	}
	return list;
fail:
	curl_slist_free_all(list);
	return NULL;
}

/* The options of one attempt; everything is set again because of curl_easy_reset. */
static CURLcode setup_attempt(struct xc_http *h, const struct xc_http_request *req,
			      struct xc_http_response *resp, const char *url,
			      struct curl_slist *headers)
{
	CURL *c = h->curl;
	CURLcode rc = CURLE_OK;
	long connect_timeout = h->timeout_seconds < 10 ? (long)h->timeout_seconds : 10;

	curl_easy_reset(c); /* keeps live connections and TLS sessions */
#define SET(opt, val)                                        \
	do {                                                 \
		if (rc == CURLE_OK)                          \
			rc = curl_easy_setopt(c, opt, val); \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, h->errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "https");
#else
	SET(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* libcurl silently resends a request whose reused connection died before any
	 * answer; for a request that must not be applied twice that resend must be
	 * ours, after checking the array, so such requests get a connection of their own. */
	if (!req->idempotent)
		SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_TIMEOUT, (long)h->timeout_seconds);
	SET(CURLOPT_CONNECTTIMEOUT, connect_timeout);
	SET(CURLOPT_SSL_VERIFYPEER, h->verify_tls ? 1L : 0L);
	SET(CURLOPT_SSL_VERIFYHOST, h->verify_tls ? 2L : 0L);
	if (h->ca_file != NULL)
		SET(CURLOPT_CAINFO, h->ca_file);
	SET(CURLOPT_USERAGENT, h->user_agent);
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, resp);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, resp);
	if (h->user != NULL) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERNAME, h->user);
		SET(CURLOPT_PASSWORD, h->password);
	}
	switch (req->method) {
	case XC_HTTP_GET:
		SET(CURLOPT_HTTPGET, 1L);
		break;
	case XC_HTTP_POST:
		SET(CURLOPT_POST, 1L);
		break;
	default:
		SET(CURLOPT_CUSTOMREQUEST, xc_http_method_name(req->method));
		break;
	}
	if (req->method != XC_HTTP_GET && (req->body != NULL || req->method != XC_HTTP_DELETE)) {
		const char *body = req->body ? req->body : "";
		SET(CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		SET(CURLOPT_POSTFIELDS, body);
	}
#undef SET
	return rc;
}

enum attempt_result {
	ATTEMPT_RESPONSE,   /* a response arrived */
	ATTEMPT_NOT_SENT,   /* failed before the request left: always safe to resend */
	ATTEMPT_LOST,       /* failed after sending may have started */
	ATTEMPT_FATAL,      /* will not get better by retrying (TLS trust, local error) */
};

static enum attempt_result classify_failure(struct xc_http *h, CURLcode cc)
{
	curl_off_t pretransfer = 0;

	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_WRITE_ERROR:
	case CURLE_BAD_FUNCTION_ARGUMENT:
		return ATTEMPT_FATAL;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return ATTEMPT_NOT_SENT;
	default:
		break;
	}
	/* No pre-transfer time means the request never started going out. */
	if (curl_easy_getinfo(h->curl, CURLINFO_PRETRANSFER_TIME_T, &pretransfer) == CURLE_OK &&
	    pretransfer == 0)
		return ATTEMPT_NOT_SENT;
	return ATTEMPT_LOST;
}

static int transport_error(struct xc_http *h, CURLcode cc, const struct xc_http_request *req,
			   struct xclone_error *err)
{
	const char *detail = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);
	char clean[256];
	int rc;

	xc_http_redact(h, detail, clean, sizeof(clean));
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		rc = xclone_error_set(err, XC_E_TIMEOUT, "%s %s: no answer within %u s (%s)",
				      xc_http_method_name(req->method), req->path, h->timeout_seconds,
				      clean);
		if (err != NULL)
			err->retryable = 1;
		return rc;
	}
	if (cc == CURLE_PEER_FAILED_VERIFICATION)
		return xclone_error_set(err, XC_E_CONNECT,
					"array certificate not trusted (%s): give the array's CA"
					" (STORAGE_CA_FILE) or, at your own risk, set"
					" STORAGE_SKIP_SSL_VERIFICATION=true",
					clean);
	if (cc == CURLE_SSL_CACERT_BADFILE)
		return xclone_error_set(err, XC_E_CONFIG, "cannot load the CA file: %s", clean);
	rc = xclone_error_set(err, XC_E_CONNECT, "%s %s: %s", xc_http_method_name(req->method),
			      req->path, clean);
	if (err != NULL)
		err->retryable = classify_failure(h, cc) != ATTEMPT_FATAL;
	return rc;
}

/* Retry-After in milliseconds: delay-seconds or an HTTP date; 0 when absent. */
static unsigned retry_after_ms(const struct xc_http_response *resp)
{
	char value[128];
	char *end;
	unsigned long secs;
	time_t when, now;

	if (xc_http_response_header(resp, "Retry-After", value, sizeof(value)) != 0 || !value[0])
		return 0;
	errno = 0;
	secs = strtoul(value, &end, 10);
	if (*end == '\0' && errno == 0 && value[0] >= '0' && value[0] <= '9')
		return secs > 86400 ? 86400u * 1000u : (unsigned)secs * 1000u;
	when = curl_getdate(value, NULL);
	now = time(NULL);
	if (when <= now)
		return 0;
	return (when - now) > 86400 ? 86400u * 1000u : (unsigned)(when - now) * 1000u;
}

void xc_http_backoff(struct xc_http *h, unsigned attempt, unsigned retry_after)
{
	unsigned long long base = h->backoff_ms;
	unsigned long long delay;
	struct timespec ts;

	for (unsigned i = 1; i < attempt && base < h->backoff_max_ms; i++)
		base *= 2;
	if (base > h->backoff_max_ms)
		base = h->backoff_max_ms;
	/* Jitter in [base/2, base]: clients that failed together do not retry together. */
	delay = base / 2 + next_random(h) % (base / 2 + 1);
	if (delay < retry_after)
		delay = retry_after + next_random(h) % (h->backoff_ms + 1);
	ts.tv_sec = (time_t)(delay / 1000);
	ts.tv_nsec = (long)(delay % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int is_expired(struct xc_http *h, const struct xc_http_response *resp)
{
	if (h->expired != NULL)
		return h->expired(h->auth_ctx, resp);
	return resp->status == 401;
}

/* One request on the wire. */
static enum attempt_result attempt(struct xc_http *h, const struct xc_http_request *req,
				   struct xc_http_response *resp, const char *url, CURLcode *cc)
{
	struct curl_slist *headers = build_headers(h, req);
	long connects = 0;
	struct timespec t0, t1;

	response_reset(resp);
	h->errbuf[0] = '\0';
	if (headers == NULL) {
		*cc = CURLE_OUT_OF_MEMORY;
		return ATTEMPT_FATAL;
	}
	h->stats.attempts++;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	*cc = setup_attempt(h, req, resp, url, headers);
	if (*cc == CURLE_OK)
		*cc = curl_easy_perform(h->curl);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0)
		h->stats.connects += (unsigned)connects;
	curl_slist_free_all(headers);
	long ms = (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	if (*cc == CURLE_OK) {
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
		if (resp->body == NULL && buffer_append(&resp->body, &resp->body_len, "", 0, 1) != 0) {
			*cc = CURLE_OUT_OF_MEMORY;
			return ATTEMPT_FATAL;
		}
		log_line(h, "http: %s %s -> %ld (%ld ms)", xc_http_method_name(req->method), req->path,
			 resp->status, ms);
		return ATTEMPT_RESPONSE;
	}
	log_line(h, "http: %s %s -> %s (%ld ms)", xc_http_method_name(req->method), req->path,
		 h->errbuf[0] ? h->errbuf : curl_easy_strerror(*cc), ms);
	return classify_failure(h, *cc);
}

int xc_http_send(struct xc_http *h, const struct xc_http_request *req,
		 struct xc_http_response *resp, struct xclone_error *err)
{
	char url[HTTP_PATH_MAX + 512];
	int relogged = 0, n;
	unsigned tries = 0;
	CURLcode cc = CURLE_OK;

	memset(resp, 0, sizeof(*resp));
	n = snprintf(url, sizeof(url), "%s%s", h->base_url, req->path);
	if (n < 0 || (size_t)n >= sizeof(url))
		return xclone_error_set(err, XC_E_USAGE, "request path too long");
	h->stats.requests++;
	for (;;) {
		enum attempt_result ar = attempt(h, req, resp, url, &cc);
		unsigned wait_ms = 0;
		tries++;
		if (ar == ATTEMPT_FATAL)
			return transport_error(h, cc, req, err);
		if (ar == ATTEMPT_LOST && !req->idempotent) {
			resp->outcome_unknown = 1;
			return transport_error(h, cc, req, err);
		}
		if (ar == ATTEMPT_RESPONSE) {
			if (!req->no_relogin && h->relogin != NULL && is_expired(h, resp)) {
				if (relogged)
					return 0; /* a fresh session refused too: caller reports it */
				relogged = 1;
				h->stats.relogins++;
				log_line(h, "http: session expired, logging in again");
				int rc = h->relogin(h->auth_ctx, err);
				if (rc)
					return rc;
				continue; /* at most once per request: see relogged */
			}
			if (resp->status == 429) {
				wait_ms = retry_after_ms(resp);
				if (wait_ms > HTTP_RETRY_AFTER_MAX_MS)
					return 0; /* told to come back much later: say so */
			} else if (resp->status >= 500 && resp->status <= 599) {
				if (h->definite != NULL && h->definite(h->definite_ctx, resp))
					return 0; /* the array's own answer: neither lost nor retried */
				if (!req->idempotent) {
					resp->outcome_unknown = 1;
					return 0;
				}
				wait_ms = retry_after_ms(resp);
				if (wait_ms > HTTP_RETRY_AFTER_MAX_MS)
					return 0;
			} else {
				return 0;
			}
			if (tries >= h->max_attempts)
				return 0;
		} else if (tries >= h->max_attempts) {
			return transport_error(h, cc, req, err);
		}
		h->stats.retries++;
		xc_http_backoff(h, tries, wait_ms);
	}
}
