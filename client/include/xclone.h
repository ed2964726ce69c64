/*
 * libxclone: the client library of xclone-agent (protocol/PROTOCOL.md, version 1).
 *
 *     struct xclone_error err;
 *     struct xclone_conn_options opt;
 *     xclone_conn *c;
 *     struct xclone_hello *h;
 *
 *     xclone_global_init(&err);                 once per process
 *     xclone_conn_options_init(&opt);
 *     opt.host = "esx01.example.com";
 *     opt.identity_file = "/secrets/id_rsa";
 *     opt.known_hosts_file = "/secrets/known_hosts";
 *     if (xclone_connect(&c, &opt, &err) != 0) { puts(err.message); ... }
 *     if (xclone_hello(c, &h, &err) == 0) { ...; xclone_hello_free(h); }
 *     xclone_disconnect(c);
 *
 * Conventions
 * - Every call returns 0 or an XC_E_* code (xclone_error.h) and, when given an
 *   error struct, fills it with the code and a message saying what went wrong and
 *   what to do. Agent errors carry the agent's code in err.remote_code
 *   ("TARGET_UNSAFE"...); err.retryable says whether the same call may succeed
 *   when repeated.
 * - Results are returned in memory the library allocates; each result type has
 *   its own xclone_*_free (NULL is fine). Strings are UTF-8; a member documented
 *   "NULL = null" is NULL when the agent sent null.
 * - No global state except what xclone_global_init() sets up (libssh2, libcurl
 *   and OpenSSL initialisation); call it once before any thread uses the library.
 *
 * Thread safety
 * - A connection handle is internally locked: any number of threads may call any
 *   function on the same xclone_conn at the same time. Each call runs on its own
 *   channel (an SSH channel on the connection's one TCP connection, or its own TLS
 *   connection), taken from a pool of at most `max_channels`; a call that finds
 *   them all busy waits for one within its deadline. Thirty-two threads watching
 *   thirty-two tasks therefore share one SSH connection.
 * - xclone_disconnect() must not run while another call on the handle runs.
 * - A watch callback runs on the thread that called xclone_task_watch(), with no
 *   library lock held: it may call other functions on the same handle.
 *
 * Transports
 * - SSH (libssh2): public-key authentication (RSA with rsa-sha2-256/512, Ed25519,
 *   ECDSA) from a key file, with or without passphrase. The agent runs as the
 *   restricted key's forced command; each channel starts it with
 *   SSH_ORIGINAL_COMMAND="session" and carries many requests.
 *   The server's host key must match the pinned fingerprint when one is given,
 *   otherwise an entry of the known_hosts file (OpenSSH format, hashed names and
 *   [host]:port included). An unknown host is refused unless accept_new_host_key
 *   is set: then its key is appended to known_hosts (trust on first use). A
 *   different key is always refused.
 * - TLS (OpenSSL, TLS 1.2 or later): client certificate and key, the CA that
 *   signed the agent's certificate, the name to verify (default: host), or a
 *   pinned SHA-256 of the agent's certificate. Same line protocol.
 *
 * Failures
 * - A connection that cannot be made or is lost is retried with exponential
 *   backoff and jitter (`max_attempts`, `backoff_ms`, `backoff_max_ms`) when the
 *   request is safe to send again: every operation except task.clean once it was
 *   sent. clone.start is made safe by its idempotency key (the library makes one
 *   up when the caller gives none).
 * - A watch whose connection drops reconnects and re-issues task.watch (which is
 *   idempotent), reporting XCLONE_EVENT_RECONNECTING and XCLONE_EVENT_RESUMED to
 *   its callback.
 * - Authentication, host identity and agent errors are never retried.
 */
#ifndef XCLONE_H
#define XCLONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xclone_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- library ------------------------------------------------------------- */

/* Once per process, before any other call (libssh2_init, curl_global_init). */
int xclone_global_init(struct xclone_error *err);
/* At exit, after every handle is closed. */
void xclone_global_cleanup(void);
/* The library's release, "0.1.0". */
const char *xclone_version(void);

/* ---- connections ----------------------------------------------------------- */

enum xclone_transport { XCLONE_TRANSPORT_SSH, XCLONE_TRANSPORT_TLS };

/* Receives one line of the library's log (connections, retries); never secrets. */
typedef void (*xclone_log_fn)(const char *line, void *userdata);

struct xclone_conn_options {
	enum xclone_transport transport;
	const char *host;                /* name or address (required) */
	unsigned port;                   /* 0: 22 for SSH, 8443 for TLS */

	/* SSH */
	const char *user;                /* NULL: "root" */
	const char *identity_file;       /* private key file (required for SSH) */
	const char *passphrase;          /* of the key, NULL when it has none */
	const char *known_hosts_file;    /* NULL: ~/.ssh/known_hosts */
	const char *host_key_fingerprint;/* "SHA256:<base64>": pin instead of known_hosts */
	bool accept_new_host_key;        /* trust on first use: append an unknown host's key */

	/* TLS */
	const char *tls_cert_file;       /* client certificate chain, PEM (required for TLS) */
	const char *tls_key_file;        /* its private key, PEM; NULL: in tls_cert_file */
	const char *tls_ca_file;         /* CA that signed the agent's certificate, PEM */
	const char *tls_server_name;     /* name to verify and send (SNI); NULL: host */
	const char *tls_pin_sha256;      /* SHA-256 of the agent's certificate (hex, ':' allowed) */

	/* time, in milliseconds */
	unsigned connect_timeout_ms;     /* TCP connect + handshake + authentication; 0: 15000 */
	unsigned request_timeout_ms;     /* one request's answer (device.wait adds its own wait); 0: 60000 */
	unsigned watch_timeout_ms;       /* a whole task.watch; 0: none */
	unsigned keepalive_ms;           /* SSH keepalive and TCP dead-peer detection; 0: 15000 */

	/* retries of lost or failed connections */
	unsigned max_attempts;           /* per call, first included; 0: 5 */
	unsigned backoff_ms;             /* first delay before jitter; 0: 250 */
	unsigned backoff_max_ms;         /* longest delay; 0: 8000 */

	unsigned max_channels;           /* concurrent calls on one handle; 0: 10 (OpenSSH's MaxSessions) */
	const char *client_name;         /* sent in hello; NULL: "libxclone/<version>" */

	xclone_log_fn log;               /* NULL: silent */
	void *log_userdata;
};

typedef struct xclone_conn xclone_conn;

/* Sets every member to its default (zero / NULL). */
void xclone_conn_options_init(struct xclone_conn_options *opt);

/*
 * Copies the options (strings included: the caller may free them afterwards),
 * connects, verifies the peer's identity, authenticates and opens the first
 * channel. XC_E_CONNECT, XC_E_HOSTKEY (the message shows the fingerprint seen),
 * XC_E_AUTH (the message shows the authorized_keys line to install when the
 * identity's .pub file is at hand), XC_E_TIMEOUT, XC_E_CONFIG.
 */
int xclone_connect(xclone_conn **out, const struct xclone_conn_options *opt,
		   struct xclone_error *err);

/* Closes every channel and the connection; frees the handle. NULL is fine. */
void xclone_disconnect(xclone_conn *c);

/* Who the handle talks to. Strings live as long as the handle. */
struct xclone_peer {
	const char *transport;           /* "ssh" or "tls" */
	const char *host;
	unsigned port;
	const char *identity;            /* "ssh-ed25519 SHA256:...", or "sha256:<hex> CN=..." for TLS */
	const char *identity_source;     /* "known_hosts FILE line N", "pinned fingerprint", "CA FILE", ... */
};
int xclone_conn_peer(xclone_conn *c, struct xclone_peer *out, struct xclone_error *err);

struct xclone_conn_stats {
	uint64_t connects;               /* TCP connections made (SSH: sessions; TLS: one per channel) */
	uint64_t channels_opened;
	uint64_t requests;               /* request lines sent, retries included */
	uint64_t retries;                /* calls sent again after a lost connection */
	uint64_t reconnects;             /* connections replaced after one was lost */
};
void xclone_conn_stats(xclone_conn *c, struct xclone_conn_stats *out);

/* ---- typed results --------------------------------------------------------- */

struct xclone_hello {
	char *agent;                     /* "xclone-agent" */
	char *version;
	int protocol;                    /* 1 (anything else is refused with XC_E_PROTOCOL) */
	char **capabilities;             /* operations this caller may call */
	size_t n_capabilities;
	char *hostname;
	char *mode;                      /* "ssh", "serve", "local" */
	bool read_only;
};

struct xclone_adapter {
	char *name, *driver, *uid;
	char *transport;                 /* iscsi, fc, nvme, sas, pscsi, other */
	char **initiators;               /* IQN, fc.WWNN:WWPN, NQN */
	size_t n_initiators;
};

struct xclone_extent {
	char *device;
	int64_t partition;
	char **adapters;
	size_t n_adapters;
};

struct xclone_datastore {
	char *name, *uuid, *type;
	struct xclone_extent *extents;
	size_t n_extents;
};

struct xclone_host_info {
	char *hostname, *product, *version, *build;
	struct xclone_adapter *adapters;
	size_t n_adapters;
	struct xclone_datastore *datastores;
	size_t n_datastores;
	int64_t hardware_accelerated_move;   /* 1: XCOPY offload enabled */
	int64_t hardware_accelerated_init;
	int64_t max_hw_transfer_size;        /* KB */
	char *sdc_guid;                      /* NULL = null */
};

struct xclone_rescan {
	int64_t rescans;                 /* rescans this request ran (0: coalesced) */
	int64_t waited_ms;
};

struct xclone_device {
	char *id;
	bool present;
	char *status;
	int64_t size_bytes;
	char *vendor, *model;
	bool is_local;
	char *vaai_clone;                /* supported, unsupported, unknown */
	char *backs_datastore;           /* NULL = null */
	int64_t paths;
};

struct xclone_blocker {
	char *code;                      /* the error code clone.start would return */
	char *message;
};

struct xclone_preflight {
	char *source_path, *source_datastore, *source_format;
	char **source_chain;
	size_t n_source_chain;
	int64_t source_size_bytes;
	bool source_sparse;
	char *target_device;
	int64_t target_size_bytes;
	bool xcopy_expected;
	char **reasons;
	size_t n_reasons;
	struct xclone_blocker *blockers;
	size_t n_blockers;
};

enum xclone_task_state {
	XCLONE_TASK_QUEUED,
	XCLONE_TASK_RUNNING,
	XCLONE_TASK_SUCCEEDED,
	XCLONE_TASK_FAILED,
	XCLONE_TASK_CANCELED,
	XCLONE_TASK_LOST,
};

/* The task record (PROTOCOL.md section 6). has_* false: the agent sent null. */
struct xclone_task {
	char *id;
	char *key;                       /* NULL = null */
	enum xclone_task_state state;
	int percent;
	char *source, *target, *pointer;
	bool has_pid;
	int64_t pid;
	int64_t created_ms;
	bool has_started_ms;
	int64_t started_ms;
	bool has_ended_ms;
	int64_t ended_ms;
	bool has_exit_code;
	int exit_code;
	bool has_signal;
	int signal;
	int xcopy_used;                  /* -1 not known yet, 0 host copy, 1 the array copied */
	bool has_bytes;
	int64_t bytes;
	char *message;                   /* NULL = null */
	char *error_code;                /* NULL = null */
	char *stderr_tail;               /* NULL = null */
};

struct xclone_task_list {
	struct xclone_task *tasks;       /* newest first */
	size_t count;
	bool truncated;                  /* the agent could not fit every record */
};

struct xclone_clean {
	char *task;
	char **removed;                  /* paths the agent removed */
	size_t n_removed;
};

void xclone_hello_free(struct xclone_hello *h);
void xclone_host_info_free(struct xclone_host_info *h);
void xclone_device_free(struct xclone_device *d);
void xclone_preflight_free(struct xclone_preflight *p);
void xclone_task_free(struct xclone_task *t);
void xclone_task_list_free(struct xclone_task_list *l);
void xclone_clean_free(struct xclone_clean *c);

/* "queued", "running", ...; NULL outside the enum. */
const char *xclone_task_state_name(enum xclone_task_state s);
/* succeeded, failed, canceled and lost never change again. */
bool xclone_task_state_final(enum xclone_task_state s);

/* ---- one call per agent operation ------------------------------------------ */

/* hello: the agent's identity and what this caller may do. */
int xclone_hello(xclone_conn *c, struct xclone_hello **out, struct xclone_error *err);

/* host.info: adapters with initiator ids, datastores and their extents, VAAI settings. */
int xclone_host_info(xclone_conn *c, struct xclone_host_info **out, struct xclone_error *err);

/* storage.rescan; adapter NULL: all; type NULL: "all" ("add", "delete"). out may be NULL. */
int xclone_storage_rescan(xclone_conn *c, const char *adapter, const char *type,
			  struct xclone_rescan *out, struct xclone_error *err);

/* device.get: XC_E_NOT_FOUND (DEVICE_NOT_FOUND) when the host does not know it. */
int xclone_device_get(xclone_conn *c, const char *device, struct xclone_device **out,
		      struct xclone_error *err);

/*
 * device.wait: until the device is present, rescanning; timeout_ms < 0: the
 * agent's default (60 s), 0: look once. stats may be NULL.
 */
int xclone_device_wait(xclone_conn *c, const char *device, int64_t timeout_ms,
		       struct xclone_device **out, struct xclone_rescan *stats,
		       struct xclone_error *err);

/* device.detach; *detached false when it already was. detached may be NULL. */
int xclone_device_detach(xclone_conn *c, const char *device, bool *detached,
			 struct xclone_error *err);

/* preflight: what clone.start would do, and whether the array will copy. */
int xclone_preflight(xclone_conn *c, const char *source, const char *target,
		     struct xclone_preflight **out, struct xclone_error *err);

/*
 * clone.start. key NULL: the library makes up a unique key, so that the call can
 * be retried safely after a lost connection. created may be NULL.
 */
int xclone_clone_start(xclone_conn *c, const char *source, const char *target, const char *key,
		       struct xclone_task **out, bool *created, struct xclone_error *err);

int xclone_task_get(xclone_conn *c, const char *task, struct xclone_task **out,
		    struct xclone_error *err);

/* task.cancel: returns once the task is final. */
int xclone_task_cancel(xclone_conn *c, const char *task, struct xclone_task **out,
		       struct xclone_error *err);

/* task.clean: XC_E_CONFLICT (TASK_ACTIVE) while the task runs. */
int xclone_task_clean(xclone_conn *c, const char *task, struct xclone_clean **out,
		      struct xclone_error *err);

int xclone_task_list(xclone_conn *c, struct xclone_task_list **out, struct xclone_error *err);

/* ---- watching a task ------------------------------------------------------- */

enum xclone_event_type {
	XCLONE_EVENT_PROGRESS,     /* the agent reported progress */
	XCLONE_EVENT_RECONNECTING, /* the connection was lost; retrying after delay_ms */
	XCLONE_EVENT_RESUMED,      /* the watch runs again on a new connection */
};

struct xclone_event {
	enum xclone_event_type type;
	/* PROGRESS */
	const char *task;
	enum xclone_task_state state;
	int percent;
	bool has_bytes;
	int64_t bytes;
	/* RECONNECTING */
	unsigned attempt;          /* 1 for the first retry */
	unsigned delay_ms;
	const char *reason;        /* why the connection was lost */
};

/* Return 0 to go on; anything else ends the watch with XC_E_ABORTED. */
typedef int (*xclone_watch_fn)(const struct xclone_event *ev, void *userdata);

/*
 * task.watch: calls cb for every event until the task is final, then returns its
 * final record in *out (out may be NULL). The task keeps running whatever happens
 * to the watch. cb may be NULL.
 */
int xclone_task_watch(xclone_conn *c, const char *task, xclone_watch_fn cb, void *userdata,
		      struct xclone_task **out, struct xclone_error *err);

/* ---- helpers ------------------------------------------------------------ */

#define XCLONE_AGENT_PATH "/opt/xclone/bin/xclone-agent"

/*
 * The restricted authorized_keys line that lets a public key start the agent and
 * nothing else:
 *   command="<agent_path> ssh[ <agent_args>]",no-port-forwarding,no-agent-forwarding,
 *   no-X11-forwarding,no-pty <type> <base64> [comment]
 * pubkey is the text of an OpenSSH .pub file (one key). agent_path NULL: the VIB's
 * path; agent_args e.g. "--read-only" or "--allow=task.get,task.watch", NULL for
 * none. *out is malloc'd (free()). XC_E_USAGE when pubkey is not one public key.
 */
int xclone_authorized_key_line(const char *pubkey, const char *agent_path, const char *agent_args,
			       char **out, struct xclone_error *err);

#ifdef __cplusplus
}
#endif

#endif
