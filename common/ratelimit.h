/*
 * ratelimit.h - token-bucket rate limiting, shared through Redis, kept
 * in memory while Redis is away.
 *
 * The gateway makes one rl_limiter at start-up and calls rl_take from its
 * worker threads before handling a request (per client address, per user,
 * per login e-mail, ...).  A limited request is answered 429 with
 * Retry-After = ceil(*retry_after), at least 1.  /api/health reports
 * rl_degraded as the rate limiter's component state.
 *
 * With Redis, every gateway process shares the same buckets (hash key
 * "rl:<key>", updated atomically by a Lua script).  When Redis cannot be
 * reached or answers with an error, rl_take answers from a bounded
 * in-memory table instead, marks the limiter degraded, tries Redis again
 * at most once a second, and goes back to it by itself.
 */
#ifndef CLUBOS_RATELIMIT_H
#define CLUBOS_RATELIMIT_H

#include <stddef.h>

/* Longest key accepted, in bytes (without the "rl:" prefix). */
#define RL_KEY_MAX 128

/* Most buckets the in-memory table holds; least recently used go first. */
#define RL_MEM_MAX 16384

/* Redis connect/command timeout used when rl_new is given <= 0. */
#define RL_TIMEOUT_MS 200

/* A bucket: refills rate tokens per second, holds at most burst. */
typedef struct {
	double rate;
	double burst;
} rl_rule;

typedef struct rl_limiter rl_limiter;

/*
 * rl_new - a limiter; redis_host NULL means memory only.  Tries Redis once
 * right away (timeout_ms bounds that and every later command); failing
 * that, the limiter starts degraded.  NULL only when out of memory or
 * given a bad port.  One limiter is meant to be shared by all threads.
 */
rl_limiter *rl_new(const char *redis_host, int redis_port, int timeout_ms);

/* rl_free - close Redis and free everything; rl_free(NULL) is a no-op. */
void rl_free(rl_limiter *l);

/*
 * rl_take - take one token from bucket key under rule r at time now
 * (Unix seconds, ideally with sub-second precision; every process that
 * shares a Redis should use the same clock).  Returns 1 when allowed
 * (*retry_after = 0), 0 when limited (*retry_after = seconds until a
 * token is there, > 0).  retry_after may be NULL.  A Redis failure never
 * shows here: the answer then comes from memory.  Returns -1 only for
 * bad arguments: NULL, an empty key or one longer than RL_KEY_MAX, a rule
 * whose rate or burst is not finite, rate < 1e-6/s or burst < 1.
 */
int rl_take(rl_limiter *l, const char *key, const rl_rule *r, double now, double *retry_after);

/*
 * rl_degraded - 1 while a limiter configured with Redis answers from
 * memory because Redis is failing; 0 otherwise (always 0 memory-only).
 */
int rl_degraded(const rl_limiter *l);

/*
 * A back-off after failures (wrong passwords): the first `free` failures
 * of a key cost nothing; each further one makes the key wait twice as
 * long as the one before (1 s, 2 s, 4 s, ... up to max_wait_s); a key
 * with no failure for forget_s starts over.
 */
typedef struct {
	unsigned free;
	double   max_wait_s;
	double   forget_s;
} rl_backoff;

/*
 * rl_backoff_fail / rl_backoff_wait / rl_backoff_clear - the back-off of
 * key (hash "lf:<key>" {f, until} in Redis, so every gateway shares it):
 * record a failure (*wait = the wait it starts, 0 while free), read the
 * longest wait of up to four keys now (*wait, 0 = go ahead), forget a
 * key.  Each returns 0, or -1 when there is no Redis, it cannot answer
 * right now (the limiter is then degraded, as for rl_take), or the
 * arguments are bad: the caller then keeps its own count.  `now` is Unix
 * seconds, the same clock in every process.
 */
int rl_backoff_fail(rl_limiter *l, const char *key, const rl_backoff *b, double now, double *wait);
int rl_backoff_wait(rl_limiter *l, const char *const *keys, int n, double now, double *wait);
int rl_backoff_clear(rl_limiter *l, const char *key);

/* rl_mem_count - buckets now in the in-memory table (tests, metrics). */
size_t rl_mem_count(rl_limiter *l);

#endif /* CLUBOS_RATELIMIT_H */
