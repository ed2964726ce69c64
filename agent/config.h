/*
 * Agent settings: defaults (ESXi's own paths), then /etc/xclone/agent.conf, then
 * command-line flags. One struct, filled once at start-up and read-only after.
 *
 * File format (strict): one `key = value` per line; blank lines and lines whose
 * first non-blank character is '#' are ignored; the value is the rest of the line
 * with surrounding blanks removed (no quoting: paths may hold spaces and '#').
 * An unknown key, a key given twice, a line without '=', or a bad value is an
 * error naming the file and line. The file must be owned by root (or the
 * running user) and not writable by group or others, since it names the
 * programs the agent runs as root.
 *
 * Flags: `--config FILE` picks the file (a missing default file is fine, a
 * missing explicit one is an error); each `--set key=value` overrides one key,
 * with the same validation; the same key twice in flags is an error.
 */
#ifndef XCLONE_AGENT_CONFIG_H
#define XCLONE_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ag_error.h"
#include "log.h"
#include "serve_pins.h"

#define AG_CONFIG_DEFAULT_PATH "/etc/xclone/agent.conf"
#define AG_CONFIG_PATH_MAX 1024     /* longest path setting, NUL included */
#define AG_CONFIG_FILE_MAX 65536    /* largest configuration file accepted */
#define AG_CONFIG_LINE_MAX 4096     /* longest line accepted */
#define AG_CONFIG_WORD_MAX 32       /* longest word setting (a version string) */
#define AG_CONFIG_ADDR_MAX 46       /* an IPv4 or IPv6 address literal, NUL included */
#define AG_CONFIG_LIST_MAX 512      /* a list of operation names, NUL included */

enum ag_config_code {
	AG_CONFIG_OK = 0,
	AG_CONFIG_E_SYNTAX,  /* line is not `key = value` */
	AG_CONFIG_E_KEY,     /* unknown key */
	AG_CONFIG_E_DUP,     /* key given twice */
	AG_CONFIG_E_VALUE,   /* value out of range or malformed */
	AG_CONFIG_E_FILE,    /* cannot read the file, or it is unsafe (owner, mode, size) */
};

struct ag_config {
	char vmkfstools_path[AG_CONFIG_PATH_MAX];
	char esxcli_path[AG_CONFIG_PATH_MAX];
	char vsish_path[AG_CONFIG_PATH_MAX];
	char vmfs_root[AG_CONFIG_PATH_MAX];  /* holds volumes/ and devices/disks/ */
	char state_dir[AG_CONFIG_PATH_MAX];  /* task records (status.json, locks) */
	unsigned max_clones;                 /* concurrent clones before BUSY */
	unsigned task_retention_s;           /* finished tasks kept this long */
	unsigned cancel_grace_s;             /* SIGTERM to SIGKILL on cancel */
	unsigned rescan_timeout_s;           /* bound on one adapter rescan */
	unsigned rescan_settle_timeout_s;    /* device.wait: longest wait for a device */
	unsigned esxcli_timeout_s;           /* bound on one esxcli or vsish call */
	enum ag_log_level log_level;
	char compat_wrapper_version[AG_CONFIG_WORD_MAX + 1];
	/* serve, the mutual-TLS socket (agent/README.md, "serve") */
	bool serve_enabled;                  /* read by the init script only */
	char serve_listen[AG_CONFIG_ADDR_MAX];
	unsigned serve_port;                 /* 0: any free port (tests), logged */
	char serve_cert[AG_CONFIG_PATH_MAX]; /* "" when unset: serve refuses to start */
	char serve_key[AG_CONFIG_PATH_MAX];
	char serve_ca[AG_CONFIG_PATH_MAX];
	struct ag_pins serve_client_pins;    /* none: any certificate the CA signed */
	char serve_pidfile[AG_CONFIG_PATH_MAX];
	unsigned serve_handshake_timeout_s;
	unsigned serve_idle_timeout_s;
	unsigned serve_max_connections;
	unsigned serve_max_requests_per_second; /* per connection */
	bool serve_read_only;
	char serve_allow[AG_CONFIG_LIST_MAX]; /* "op,op,..."; "" allows every operation */
	uint64_t flag_keys;                  /* keys set by --set so far (bit per key) */
};

/* ESXi's own values: /bin tools, /vmfs, /var/run/xclone, 4 clones, ... */
void ag_config_defaults(struct ag_config *cfg);

/*
 * Reads and applies a configuration file over cfg. With must_exist false a
 * missing file leaves cfg unchanged and succeeds.
 */
int ag_config_load_file(struct ag_config *cfg, const char *path, bool must_exist,
			struct ag_error *err);

/* Applies configuration text (the file's contents); name labels error messages. */
int ag_config_parse_text(struct ag_config *cfg, const char *name, const char *text, size_t len,
			 struct ag_error *err);

/* Applies one `--set` argument, "key=value". */
int ag_config_apply_flag(struct ag_config *cfg, const char *key_value, struct ag_error *err);

/*
 * The whole start-up sequence: defaults, then the file (path NULL means the
 * default path, which may be absent), then each `--set` in order.
 */
int ag_config_load(struct ag_config *cfg, const char *path, const char *const *sets, size_t nsets,
		   struct ag_error *err);

/* Writes every setting as `key = value` lines (the effective configuration). */
void ag_config_write(const struct ag_config *cfg, FILE *out);

/* Writes one line per key: name, default and meaning (for --help). */
void ag_config_usage(FILE *out);

/* Name of a log level as written in the file ("error", "warning", "info", "debug"). */
const char *ag_config_log_level_name(enum ag_log_level level);

#endif
