/*
 * Monotonic time and deadlines for the client. A deadline is an absolute
 * CLOCK_MONOTONIC time in milliseconds; XC_NO_DEADLINE waits forever.
 */
#ifndef XCLONE_CLOCK_H
#define XCLONE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define XC_NO_DEADLINE INT64_MAX

int64_t xc_now_ms(void);

/* now + ms; ms == 0 gives XC_NO_DEADLINE. */
int64_t xc_deadline_in(uint64_t ms);

/* The earlier of two deadlines. */
int64_t xc_deadline_min(int64_t a, int64_t b);

bool xc_expired(int64_t deadline);

/* Milliseconds left before deadline, at least 0 and at most cap_ms (a poll() timeout). */
int xc_wait_ms(int64_t deadline, int cap_ms);

/* Sleeps ms (restarting after signals), but not past deadline. */
void xc_sleep_until(int64_t deadline, unsigned ms);

/* An absolute CLOCK_REALTIME timespec ms from now, for pthread_cond_timedwait. */
struct timespec;
void xc_realtime_in(struct timespec *ts, int ms);

#endif
