/* Serialized, coalesced adapter rescans (see rescan.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ag_file.h"
#include "ag_text.h"
#include "esxcli.h"
#include "log.h"
#include "rescan.h"

#define LOCK_NAME "rescan.lock"
#define STATE_NAME "rescan.state"
#define STATE_TMP_NAME "rescan.state.tmp"
#define STATE_MAX 4096
#define LOCK_POLL_MAX_MS 50
#define ALL_ADAPTERS "*"

int64_t ag_rescan_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- rescan.state ------------------------------------------------------------------- */

/* Scopes written to the state file: "*" or a plain adapter name. */
static bool scope_ok(const char *s, size_t len)
{
	if (len == 1 && s[0] == '*')
		return true;
	if (len == 0 || len > 32)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-' || c == ':'))
			return false;
	}
	return true;
}

/* Splits the next space-separated word off (*s, *len). */
static bool next_word(const char **s, size_t *len, const char **w, size_t *wlen)
{
	const char *sp = memchr(*s, ' ', *len);

	*w = *s;
	*wlen = sp ? (size_t)(sp - *s) : *len;
	*s += *wlen + (sp ? 1 : 0);
	*len -= *wlen + (sp ? 1 : 0);
	return *wlen > 0;
}

static int parse_done(const char *line, size_t len, struct ag_rescan_done *d)
{
	const char *w;
	size_t wlen;
	char type[16];

	if (!next_word(&line, &len, &w, &wlen) || !ag_text_eq(w, wlen, "done") ||
	    !next_word(&line, &len, &w, &wlen) || ag_text_u64(w, wlen, UINT64_MAX, &d->gen) != 0 ||
	    !next_word(&line, &len, &w, &wlen) || !scope_ok(w, wlen) ||
	    ag_text_copy(d->scope, sizeof(d->scope), w, wlen) != 0 ||
	    !next_word(&line, &len, &w, &wlen) || len != 0 ||
	    ag_text_copy(type, sizeof(type), w, wlen) != 0 ||
	    xp_rescan_type_from_name(type, &d->type) != 0)
		return -1;
	return 0;
}

int ag_rescan_state_parse(const char *text, size_t len, struct ag_rescan_state *st)
{
	const char *p = text, *end = text + len;
	bool first = true;

	memset(st, 0, sizeof(*st));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n, wlen;
		const char *w;

		if (nl == NULL)
			return -1; /* every line ends with LF: a cut file is not trusted */
		n = (size_t)(nl - p);
		if (first) {
			if (!next_word(&p, &n, &w, &wlen) || !ag_text_eq(w, wlen, "started") ||
			    ag_text_u64(p, n, UINT64_MAX, &st->started) != 0)
				return -1;
			first = false;
		} else {
			if (st->ndone == AG_RESCAN_SCOPES_MAX ||
			    parse_done(p, n, &st->done[st->ndone]) != 0 ||
			    st->done[st->ndone].gen > st->started)
				return -1;
			st->ndone++;
		}
		p = nl + 1;
	}
	return 0;
}

bool ag_rescan_covered(const struct ag_rescan_state *st, uint64_t since, const char *adapter,
		       enum xp_rescan_type type)
{
	const char *scope = adapter ? adapter : ALL_ADAPTERS;

	for (size_t i = 0; i < st->ndone; i++) {
		const struct ag_rescan_done *d = &st->done[i];

		if (d->gen <= since)
			continue;
		if (strcmp(d->scope, ALL_ADAPTERS) != 0 && strcmp(d->scope, scope) != 0)
			continue;
		if (d->type == XP_RESCAN_ALL || d->type == type)
			return true;
	}
	return false;
}

void ag_rescan_state_record(struct ag_rescan_state *st, uint64_t gen, const char *adapter,
			    enum xp_rescan_type type)
{
	const char *scope = adapter ? adapter : ALL_ADAPTERS;
	size_t slot = st->ndone;

	if (!scope_ok(scope, strlen(scope)))
		return; /* an odd adapter name is rescanned, just never coalesced */
	for (size_t i = 0; i < st->ndone; i++) {
		if (strcmp(st->done[i].scope, scope) == 0 && st->done[i].type == type) {
			slot = i;
			break;
		}
	}
	if (slot == AG_RESCAN_SCOPES_MAX) {
		slot = 0;
		for (size_t i = 1; i < st->ndone; i++)
			if (st->done[i].gen < st->done[slot].gen)
				slot = i;
	}
	if (slot == st->ndone)
		st->ndone++;
	st->done[slot].gen = gen;
	(void)ag_esx_copy(st->done[slot].scope, sizeof(st->done[slot].scope), scope);
	st->done[slot].type = type;
}

/* --- files in the state folder ------------------------------------------------------ */

static int state_path(const struct ag_config *cfg, const char *name, char *buf, size_t cap,
		      struct xp_error *err)
{
	int n = snprintf(buf, cap, "%s/%s", cfg->state_dir, name);

	if (n < 0 || (size_t)n >= cap)
		return xp_error_set(err, XP_INTERNAL, "", "state folder path is too long");
	return 0;
}

/* The state as last written; an absent or damaged file reads as nothing done. */
static void read_state(const struct ag_config *cfg, struct ag_rescan_state *st)
{
	char path[AG_CONFIG_PATH_MAX + 32], buf[STATE_MAX + 1];
	size_t len = 0;
	int fd;

	memset(st, 0, sizeof(*st));
	if (state_path(cfg, STATE_NAME, path, sizeof(path), NULL) != 0)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	if (ag_file_read_bounded(fd, buf, sizeof(buf), &len) != 0 || len > STATE_MAX ||
	    ag_rescan_state_parse(buf, len, st) != 0) {
		ag_log(AG_LOG_WARN, "%s is damaged; starting the rescan count again", path);
		memset(st, 0, sizeof(*st));
	}
	close(fd);
}

static int write_state(const struct ag_config *cfg, const struct ag_rescan_state *st,
		       struct xp_error *err)
{
	char path[AG_CONFIG_PATH_MAX + 32], tmp[AG_CONFIG_PATH_MAX + 32], buf[STATE_MAX];
	size_t at;
	int n, fd, rc;

	n = snprintf(buf, sizeof(buf), "started %llu\n", (unsigned long long)st->started);
	at = (size_t)n;
	for (size_t i = 0; i < st->ndone; i++) {
		n = snprintf(buf + at, sizeof(buf) - at, "done %llu %s %s\n",
			     (unsigned long long)st->done[i].gen, st->done[i].scope,
			     xp_rescan_type_name(st->done[i].type));
		if (n < 0 || (size_t)n >= sizeof(buf) - at)
			return xp_error_set(err, XP_INTERNAL, "", "rescan state does not fit");
		at += (size_t)n;
	}
	rc = state_path(cfg, STATE_NAME, path, sizeof(path), err);
	if (rc == 0)
		rc = state_path(cfg, STATE_TMP_NAME, tmp, sizeof(tmp), err);
	if (rc != 0)
		return rc;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return xp_error_set(err, errno == ENOSPC ? XP_NO_SPACE : XP_INTERNAL, "",
				    "cannot write %s: %s", tmp, strerror(errno));
	rc = write(fd, buf, at) == (ssize_t)at ? 0 : -1;
	if (close(fd) != 0 || rc != 0 || rename(tmp, path) != 0)
		return xp_error_set(err, errno == ENOSPC ? XP_NO_SPACE : XP_INTERNAL, "",
				    "cannot write %s: %s", path, strerror(errno));
	return 0;
}

/* Opens (creating the folder and file when needed) the lock file. */
static int open_lock(const struct ag_config *cfg, int *fd, struct xp_error *err)
{
	char path[AG_CONFIG_PATH_MAX + 32];
	int rc = state_path(cfg, LOCK_NAME, path, sizeof(path), err);

	if (rc != 0)
		return rc;
	if (mkdir(cfg->state_dir, 0700) != 0 && errno != EEXIST)
		return xp_error_set(err, XP_INTERNAL, "", "cannot create %s: %s", cfg->state_dir,
				    strerror(errno));
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return xp_error_set(err, XP_INTERNAL, "", "cannot open %s: %s", path,
				    strerror(errno));
	return 0;
}

/* Waits for the exclusive lock until the deadline, polling (flock has no timeout). */
static int lock_until(int fd, int64_t deadline, struct xp_error *err)
{
	int nap = 2;

	for (;;) {
		int64_t now;

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return xp_error_set(err, XP_INTERNAL, "", "cannot lock the rescan lock: %s",
					    strerror(errno));
		now = ag_rescan_now_ms();
		if (now >= deadline)
			return xp_error_set(err, XP_TIMEOUT, "",
					    "another rescan held the host's rescan lock until the deadline");
		(void)poll(NULL, 0, (int)(deadline - now < nap ? deadline - now : nap));
		nap = nap * 2 > LOCK_POLL_MAX_MS ? LOCK_POLL_MAX_MS : nap * 2;
	}
}

/* --- the rescan ---------------------------------------------------------------------- */

static int run_rescan(const struct ag_config *cfg, const char *adapter, enum xp_rescan_type type,
		      int64_t deadline, struct xp_error *err)
{
	const char *words[10] = { "storage", "core", "adapter", "rescan" };
	size_t n = 4;
	int64_t left = deadline - ag_rescan_now_ms();
	int64_t bound = (int64_t)cfg->rescan_timeout_s * 1000;
	struct ag_hostcmd c;
	int rc;

	if (adapter != NULL) {
		words[n++] = "--adapter";
		words[n++] = adapter;
	} else {
		words[n++] = "--all";
	}
	/* Type all is the command's default: leave it out (the sampled form is `rescan --all`). */
	if (type != XP_RESCAN_ALL) {
		words[n++] = "--type";
		words[n++] = xp_rescan_type_name(type);
	}
	words[n] = NULL;
	if (left <= 0)
		return xp_error_set(err, XP_TIMEOUT, "", "no time left to rescan");
	ag_esxcli_init(&c, cfg, words);
	c.timeout_ms = (int)(left < bound ? left : bound);
	rc = ag_hostcmd_run(&c);
	if (rc != 0)
		*err = c.err;
	ag_hostcmd_free(&c);
	return rc;
}

int ag_rescan(const struct ag_config *cfg, const char *adapter, enum xp_rescan_type type,
	      int64_t deadline_ms, int *ran, struct xp_error *err)
{
	struct ag_rescan_state st;
	uint64_t arrived, gen;
	int fd = -1, rc;

	*ran = 0;
	if (deadline_ms == 0)
		deadline_ms = ag_rescan_now_ms() + (int64_t)cfg->rescan_timeout_s * 1000;
	read_state(cfg, &st);
	arrived = st.started;
	rc = open_lock(cfg, &fd, err);
	if (rc == 0)
		rc = lock_until(fd, deadline_ms, err);
	if (rc != 0)
		goto out;
	read_state(cfg, &st);
	if (ag_rescan_covered(&st, arrived, adapter, type))
		goto out; /* a rescan that began after we arrived has finished: ours is done */
	gen = ++st.started;
	rc = write_state(cfg, &st, err);
	if (rc == 0)
		rc = run_rescan(cfg, adapter, type, deadline_ms, err);
	if (rc == 0) {
		*ran = 1;
		ag_rescan_state_record(&st, gen, adapter, type);
		rc = write_state(cfg, &st, err);
	}
out:
	if (fd >= 0)
		close(fd); /* releases the lock */
	return rc == 0 ? xp_error_clear(err) : rc;
}
