/*
 * HTTPS for array REST APIs: one libcurl easy handle per array session, so TCP
 * and TLS connections are reused between requests.
 *
 * What this layer decides, so drivers do not each decide it differently:
 * - certificate verification (on unless told otherwise, optional CA file);
 * - timeouts per attempt;
 * - bounded retries with exponential backoff and jitter on 429 (Retry-After
 *   honoured), 5xx and connection failures, for requests marked idempotent;
 *   a non-idempotent request is retried only when the failure proves it was not
 *   applied (429, connect refused); otherwise the response says outcome_unknown
 *   and the caller checks the array's state before sending it again;
 * - one re-login then one retry when the session has expired (401 by default,
 *   or the driver's own test, e.g. 403 for arrays that answer so);
 * - redaction: values registered with xc_http_add_secret never appear in a log
 *   line or in xc_http_redact()'s output, and header values are never logged.
 */
#ifndef XCLONE_HTTP_H
#define XCLONE_HTTP_H

#include <stddef.h>

#include "xclone_error.h"

enum xc_http_method { XC_HTTP_GET, XC_HTTP_POST, XC_HTTP_PUT, XC_HTTP_PATCH, XC_HTTP_DELETE };

struct xc_http_options {
	const char *base_url;        /* "https://host[:port]", no trailing slash */
	int verify_tls;              /* 0 only when the secret says so */
	const char *ca_file;         /* PEM bundle to trust instead of the system's; NULL = system */
	unsigned timeout_seconds;    /* per attempt, whole request; 0 = 30 */
	unsigned max_attempts;       /* per request, first try included; 0 = 5 */
	unsigned backoff_ms;         /* first retry delay before jitter; 0 = 200 */
	unsigned backoff_max_ms;     /* ceiling of one delay, Retry-After included; 0 = 10000 */
	const char *user_agent;      /* NULL = "xclone" */
};

struct xc_http_request {
	enum xc_http_method method;
	const char *path;            /* appended to base_url; already URL-escaped */
	const char *body;            /* JSON text or NULL */
	int idempotent;              /* may be sent again after an unknown outcome */
	int no_relogin;              /* the login request itself: a 401 is final */
	const char *const *headers;  /* extra "Name: value" lines, never logged */
	size_t n_headers;
};

struct xc_http_response {
	long status;                 /* 0 when no response arrived */
	char *body;                  /* NUL-terminated, may be empty; owned */
	size_t body_len;
	char *headers;               /* raw header block of the final response; owned */
	size_t headers_len;
	int outcome_unknown;         /* the request may have been applied, no answer seen */
};

struct xc_http_stats {
	unsigned requests;           /* xc_http_send calls */
	unsigned attempts;           /* sends on the wire, retries included */
	unsigned retries;
	unsigned relogins;
	unsigned connects;           /* new TCP+TLS connections opened */
};

struct xc_http;

typedef int (*xc_http_relogin_fn)(void *ctx, struct xclone_error *err);
/* Returns non-zero when this response means "session expired, log in again". */
typedef int (*xc_http_expired_fn)(void *ctx, const struct xc_http_response *resp);
typedef void (*xc_http_log_fn)(void *ctx, const char *line);

int xc_http_open(struct xc_http **out, const struct xc_http_options *opt,
		 struct xclone_error *err);
void xc_http_close(struct xc_http *h);

/* A header sent with every request (e.g. a session token); replaces one of the
 * same name; value NULL removes it. The value is registered as a secret. */
int xc_http_set_header(struct xc_http *h, const char *name, const char *value,
		       struct xclone_error *err);
/* HTTP Basic credentials on every request; the password is registered as a secret. */
int xc_http_set_basic_auth(struct xc_http *h, const char *user, const char *password,
			   struct xclone_error *err);
/* A string that must never be shown (token, password). Copied. */
int xc_http_add_secret(struct xc_http *h, const char *secret, struct xclone_error *err);

/* expired may be NULL: then 401 means expired. relogin NULL: no re-login. */
void xc_http_set_relogin(struct xc_http *h, xc_http_relogin_fn relogin,
			 xc_http_expired_fn expired, void *ctx);
/* Returns non-zero when a 5xx response is the array's decided answer rather than a
 * failure (PowerFlex sends its MDM's refusals as 500 with an errorCode): such an
 * answer is returned as is, neither retried nor marked outcome_unknown. NULL (the
 * default): every 5xx is a failure. */
typedef int (*xc_http_definite_fn)(void *ctx, const struct xc_http_response *resp);
void xc_http_set_definite(struct xc_http *h, xc_http_definite_fn definite, void *ctx);
void xc_http_set_log(struct xc_http *h, xc_http_log_fn log, void *ctx);

/*
 * Sends req, retrying as described above. Returns 0 when a response arrived (any
 * status: the caller judges it), XC_E_CONNECT / XC_E_TIMEOUT when none did after
 * the allowed attempts (resp->outcome_unknown says whether it may have been
 * applied), XC_E_AUTH when the re-login failed. resp is always initialised and
 * must be freed with xc_http_response_free.
 */
int xc_http_send(struct xc_http *h, const struct xc_http_request *req,
		 struct xc_http_response *resp, struct xclone_error *err);
void xc_http_response_free(struct xc_http_response *resp);

/* The value of a response header (case-insensitive name), copied into buf;
 * returns 0 when found, -1 when absent or too long. */
int xc_http_response_header(const struct xc_http_response *resp, const char *name, char *buf,
			    size_t size);

/* Sleeps before retry number `attempt` (1 = first retry): exponential with
 * jitter, at least retry_after_ms when given. For callers that retry themselves. */
void xc_http_backoff(struct xc_http *h, unsigned attempt, unsigned retry_after_ms);
unsigned xc_http_max_attempts(const struct xc_http *h);

/* Copies text into buf with every registered secret replaced by "***". */
void xc_http_redact(const struct xc_http *h, const char *text, char *buf, size_t size);

void xc_http_get_stats(const struct xc_http *h, struct xc_http_stats *out);

const char *xc_http_method_name(enum xc_http_method m);

#endif
