/* Retry delays (see backoff.h). */
#include <sys/random.h>

#include "backoff.h"

unsigned xc_backoff_ms(unsigned attempt, unsigned base_ms, unsigned max_ms)
{
	unsigned long long d = base_ms;
	unsigned r = 0;

	for (unsigned i = 1; i < attempt && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	if (d < 2)
		return (unsigned)d;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned)attempt * 2654435761u; /* no entropy yet: any spread will do */
	return (unsigned)(d / 2 + r % (d / 2 + 1));
}
