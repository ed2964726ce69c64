/* Retry delays: exponential with jitter, so many clients do not retry in step. */
#ifndef XCLONE_BACKOFF_H
#define XCLONE_BACKOFF_H

/*
 * The delay before retry number `attempt` (1 = first retry): base * 2^(attempt-1),
 * at most max_ms, of which a random half is taken off ("equal jitter").
 */
unsigned xc_backoff_ms(unsigned attempt, unsigned base_ms, unsigned max_ms);

#endif
