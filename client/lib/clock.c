/* Monotonic time and deadlines (see clock.h). */
#include <errno.h>
#include <time.h>

#include "clock.h"

int64_t xc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t xc_deadline_in(uint64_t ms)
{
	if (ms == 0 || ms > (uint64_t)INT64_MAX / 2)
		return XC_NO_DEADLINE;
	return xc_now_ms() + (int64_t)ms;
}

int64_t xc_deadline_min(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

bool xc_expired(int64_t deadline)
{
	return deadline != XC_NO_DEADLINE && xc_now_ms() >= deadline;
}

int xc_wait_ms(int64_t deadline, int cap_ms)
{
	int64_t left;

	if (deadline == XC_NO_DEADLINE)
		return cap_ms;
	left = deadline - xc_now_ms();
	if (left <= 0)
		return 0;
	return left < cap_ms ? (int)left : cap_ms;
}

void xc_sleep_until(int64_t deadline, unsigned ms)
{
	int64_t end = xc_deadline_min(xc_now_ms() + ms, deadline);
	struct timespec ts;
	int64_t left;

	while ((left = end - xc_now_ms()) > 0) {
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		if (nanosleep(&ts, NULL) == 0)
			break;
		if (errno != EINTR)
			break;
	}
}

void xc_realtime_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}
