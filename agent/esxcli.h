/*
 * The host's tools as the agent uses them: running esxcli (and vsish) through
 * spawn.h with an argv array, several at a time when they do not depend on
 * each other, and parsing esxcli's `--formatter=json` output into typed
 * records, one parser per command.
 *
 * Output is hostile input like everything else: the JSON must be one value of
 * the expected shape; every member the agent reads must be present once, of
 * the right type, within its buffer, valid UTF-8 without control characters;
 * record counts are bounded. Members the agent does not read are ignored
 * (releases add fields). Numbers may come as JSON numbers or as decimal strings
 * (esxcli prints some counters as strings, e.g. "Patch": "0"). Anything else is
 * HOST_COMMAND_FAILED naming the command, the record and the member.
 *
 * What is known about each command's output, and from where, is in
 * /work/shared/esxi-samples/FACTS.md; the simulator's golden files
 * (tests/sim/esxi/golden/) are the test oracle.
 */
#ifndef XCLONE_AGENT_ESXCLI_H
#define XCLONE_AGENT_ESXCLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "xp_error.h"

#define AG_HOSTCMD_ARGS_MAX 15                /* arguments after the program */
#define AG_HOSTCMD_OUT_SMALL (256u * 1024)     /* output bound of a one-object command */
#define AG_HOSTCMD_OUT_LARGE (8u * 1024 * 1024) /* ... of a host-wide list (paths, devices) */
#define AG_HOSTCMD_PARALLEL 6                 /* tools running at once in one batch */
#define AG_ESX_RECORDS_MAX 16384              /* records accepted from one list */

/* One run of a host tool: set up with ag_esxcli_init / ag_hostcmd_init, run, read, free. */
struct ag_hostcmd {
	const char *program;                          /* absolute path, from the settings */
	const char *args[AG_HOSTCMD_ARGS_MAX + 1];    /* NULL-terminated, after argv[0] */
	size_t nargs;
	size_t skip_label;   /* leading args left out of messages ("--formatter=json") */
	const char *tool;    /* "esxcli" or "vsish", for messages */
	size_t output_max;   /* bytes of stdout accepted */
	int timeout_ms;
	/* Filled by the run: */
	int code;            /* XP_OK, XP_HOST_COMMAND_FAILED, XP_TIMEOUT or XP_INTERNAL */
	struct xp_error err;
	char *out;           /* stdout, NUL-terminated (owned) */
	size_t out_len;
};

/*
 * `esxcli --formatter=json <words...>`: the words are a NULL-terminated list
 * (command words, then options and their values, each one argv element).
 * Timeout esxcli_timeout_s, output bound AG_HOSTCMD_OUT_SMALL.
 */
void ag_esxcli_init(struct ag_hostcmd *c, const struct ag_config *cfg, const char *const *words);

/* Any tool: program and a NULL-terminated argument list. */
void ag_hostcmd_init(struct ag_hostcmd *c, const char *tool, const char *program,
		     const char *const *args, int timeout_ms, size_t output_max);

/* Runs one command to its end; returns c->code (c->err says why). */
int ag_hostcmd_run(struct ag_hostcmd *c);

/*
 * Runs n independent commands, up to AG_HOSTCMD_PARALLEL at once (one thread
 * each waiting on its child). Each gets its own code and output. Returns the
 * first failure's code in array order (copied to err), 0 when all succeeded.
 */
int ag_hostcmd_run_all(struct ag_hostcmd *cs, size_t n, struct xp_error *err);

void ag_hostcmd_free(struct ag_hostcmd *c);

/* "esxcli storage core device list -d 'naa.1'": the command as messages show it. */
const char *ag_hostcmd_label(const struct ag_hostcmd *c, char *buf, size_t cap);

/* Copies a NUL-terminated string; -1 (dst "") when it does not fit. */
int ag_esx_copy(char *dst, size_t cap, const char *s);

/* --- parsed records -------------------------------------------------------- */

#define AG_ESX_ID_MAX 256        /* device ids, UIDs, IQNs, NQNs: buffer bytes */
#define AG_ESX_NAME_MAX 256      /* datastore names */
#define AG_ESX_ADAPTER_MAX 33    /* vmhbaNN: 32 bytes, as the protocol allows */

struct ag_esx_hostname {
	char fqdn[AG_ESX_NAME_MAX];
	char host[AG_ESX_NAME_MAX];
};

struct ag_esx_version {
	char product[64];
	char version[32];
	char build[64];
};

struct ag_esx_adapter {
	char name[AG_ESX_ADAPTER_MAX];
	char driver[64];
	char uid[AG_ESX_ID_MAX];
};

struct ag_esx_filesystem {
	char name[AG_ESX_NAME_MAX];
	char uuid[128];
	char type[32];
	bool mounted;
};

struct ag_esx_extent {
	char volume[AG_ESX_NAME_MAX];
	char uuid[128];
	uint64_t number;
	char device[AG_ESX_ID_MAX];
	uint64_t partition;
};

struct ag_esx_path {
	char device[AG_ESX_ID_MAX];
	char adapter[AG_ESX_ADAPTER_MAX];
	char state[32];
};

struct ag_esx_device {
	char id[AG_ESX_ID_MAX];
	char status[32];
	uint64_t size_mb;        /* esxcli prints MB */
	char vendor[64];         /* trimmed */
	char model[64];          /* trimmed */
	bool is_local;
};

struct ag_esx_vaai {
	char device[AG_ESX_ID_MAX];
	char clone[16];          /* "supported", "unsupported", "unknown" as printed */
};

struct ag_esx_detached {
	char device[AG_ESX_ID_MAX];
	char state[16];
};

struct ag_esx_advanced {
	char path[128];
	uint64_t int_value;
};

struct ag_esx_module_param {
	char name[64];
	char value[AG_ESX_ID_MAX];
};

struct ag_esx_iscsi_adapter {
	char adapter[AG_ESX_ADAPTER_MAX];
	char name[AG_ESX_ID_MAX];  /* the IQN */
};

struct ag_esx_nvme_info {
	char host_nqn[AG_ESX_ID_MAX];
};

/*
 * Parsers, one per command. Single-object commands fill *out; list commands
 * allocate *out (free()) with *n records, NULL when there are none. All return
 * 0 or XP_HOST_COMMAND_FAILED (XP_INTERNAL when memory runs out).
 */
int ag_esx_parse_hostname(const char *text, size_t len, struct ag_esx_hostname *out,
			  struct xp_error *err);                      /* system hostname get */
int ag_esx_parse_version(const char *text, size_t len, struct ag_esx_version *out,
			 struct xp_error *err);                       /* system version get */
int ag_esx_parse_adapters(const char *text, size_t len, struct ag_esx_adapter **out, size_t *n,
			  struct xp_error *err);                      /* storage core adapter list */
int ag_esx_parse_filesystems(const char *text, size_t len, struct ag_esx_filesystem **out,
			     size_t *n, struct xp_error *err);        /* storage filesystem list */
int ag_esx_parse_extents(const char *text, size_t len, struct ag_esx_extent **out, size_t *n,
			 struct xp_error *err);                       /* storage vmfs extent list */
int ag_esx_parse_paths(const char *text, size_t len, struct ag_esx_path **out, size_t *n,
		       struct xp_error *err);                         /* storage core path list */
int ag_esx_parse_devices(const char *text, size_t len, struct ag_esx_device **out, size_t *n,
			 struct xp_error *err);                       /* storage core device list */
int ag_esx_parse_vaai(const char *text, size_t len, struct ag_esx_vaai **out, size_t *n,
		      struct xp_error *err);       /* storage core device vaai status get */
int ag_esx_parse_detached(const char *text, size_t len, struct ag_esx_detached **out, size_t *n,
			  struct xp_error *err);   /* storage core device detached list */
int ag_esx_parse_advanced(const char *text, size_t len, struct ag_esx_advanced **out, size_t *n,
			  struct xp_error *err);   /* system settings advanced list */
int ag_esx_parse_module_params(const char *text, size_t len, struct ag_esx_module_param **out,
			       size_t *n, struct xp_error *err); /* system module parameters list */
int ag_esx_parse_iscsi_adapter(const char *text, size_t len, struct ag_esx_iscsi_adapter **out,
			       size_t *n, struct xp_error *err); /* iscsi adapter get */
int ag_esx_parse_nvme_info(const char *text, size_t len, struct ag_esx_nvme_info *out,
			   struct xp_error *err);                     /* nvme info get */

/* One advanced setting's integer from `advanced list -o <path>` output. */
int ag_esx_advanced_value(const char *text, size_t len, const char *path, uint64_t *value,
			  struct xp_error *err);

#endif
