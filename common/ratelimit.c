/*
 * ratelimit.c - token buckets in Redis, with an in-memory stand-in.
 *
 * Called by the gateway's worker threads (rl_take) and its health check
 * (rl_degraded).  See ratelimit.h for the API.
 *
 * Redis side: one Lua script, loaded with SCRIPT LOAD when a connection is
 * made and run with EVALSHA (reloaded on NOSCRIPT), refills and takes from
 * the hash "rl:<key>" {tokens, ts} atomically and sets its PEXPIRE to
 * twice the time the bucket takes to fill (at least 1 s), so idle buckets
 * vanish.  The caller's clock is passed in, so every process must use the
 * same one (wall-clock seconds); a bucket never refills backwards.
 *
 * Threads: a limiter holds one Redis connection, guarded by redis_mu, so
 * Redis round trips are serialised (each is tens of microseconds on a
 * local Redis; a pool can come later if the gateway ever needs it).  Any
 * Redis failure drops the connection, marks the limiter degraded and sets
 * the next attempt one second (monotonic clock) ahead; until then rl_take
 * goes straight to memory without touching redis_mu, so a dead Redis
 * costs nothing and is not hammered.  hiredis 0.14 writes with write(2),
 * which raises SIGPIPE on a dead peer: every Redis call runs with SIGPIPE
 * blocked in the calling thread and a SIGPIPE it raised is consumed.
 *
 * Memory side: a chained hash table (SipHash with a random key, so keys
 * picked by clients cannot force collisions) of at most RL_MEM_MAX
 * buckets on an LRU list; when full, the least recently used bucket is
 * reused.  Guarded by mem_mu.
 */
#include "common/ratelimit.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <sodium.h>

/* Time between two attempts to reach a failing Redis. */
#define RL_RETRY_NS 1000000000LL

/* Bounds of a Redis bucket's lifetime, in milliseconds. */
#define RL_TTL_MIN_MS 1000LL
#define RL_TTL_MAX_MS (7LL * 24 * 3600 * 1000)

/* Slowest refill accepted, tokens per second. */
#define RL_RATE_MIN 1e-6

/* Hash chains: a power of two, one per bucket at most. */
#define RL_NCHAINS RL_MEM_MAX

/*
 * KEYS[1] = rl:<key>; ARGV = rate, burst, now (s), ttl (ms).
 * Returns {allowed 0|1, retry-after in ms}.
 */
static const char rl_lua[] =
    "local rate = tonumber(ARGV[1])\n"
    "local burst = tonumber(ARGV[2])\n"
    "local now = tonumber(ARGV[3])\n"
    "local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')\n"
    "local tokens = tonumber(b[1])\n"
    "local ts = tonumber(b[2])\n"
    "if tokens == nil or ts == nil then tokens = burst; ts = now end\n"
    "if now > ts then\n"
    "  tokens = tokens + (now - ts) * rate\n"
    "  ts = now\n"
    "end\n"
    "if tokens > burst then tokens = burst end\n"
    "local allowed = 0\n"
    "local retry = 0\n"
    "if tokens >= 1 then\n"
    "  tokens = tokens - 1\n"
    "  allowed = 1\n"
    "else\n"
    "  retry = math.ceil((1 - tokens) / rate * 1000)\n"
    "  if retry < 1 then retry = 1 end\n"
    "  if retry > 2000000000 then retry = 2000000000 end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
    "return {allowed, retry}\n";

/*
 * The back-off of rl_backoff_fail.  KEYS[1] = lf:<key>; ARGV = failures
 * free, longest wait (s), forget (ms), now (s).  Returns the wait from
 * now in ms (0 while the free failures last).
 */
static const char rl_fail_lua[] =
    "local f = redis.call('HINCRBY', KEYS[1], 'f', 1)\n"
    "local free = tonumber(ARGV[1])\n"
    "local wait = 0\n"
    "if f > free then\n"
    "  local k = f - free - 1\n"
    "  if k > 16 then k = 16 end\n"
    "  wait = 2 ^ k\n"
    "  if wait > tonumber(ARGV[2]) then wait = tonumber(ARGV[2]) end\n"
    "  redis.call('HSET', KEYS[1], 'until', tostring(tonumber(ARGV[4]) + wait))\n"
    "end\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
    "return math.floor(wait * 1000)\n";

/* The wait of rl_backoff_wait.  KEYS = lf:<key>...; ARGV[1] = now (s).
 * Returns the longest wait from now in ms (0 = none). */
static const char rl_wait_lua[] = "local now = tonumber(ARGV[1])\n"
                                  "local wait = 0\n"
                                  "for i = 1, #KEYS do\n"
                                  "  local u = tonumber(redis.call('HGET', KEYS[i], 'until'))\n"
                                  "  if u ~= nil and u - now > wait then wait = u - now end\n"
                                  "end\n"
                                  "return math.ceil(wait * 1000)\n";

enum { RL_SCRIPT_TAKE, RL_SCRIPT_FAIL, RL_SCRIPT_WAIT, RL_NSCRIPTS };
static const char *const rl_scripts[RL_NSCRIPTS] = {rl_lua, rl_fail_lua, rl_wait_lua};

typedef struct rl_entry rl_entry;

struct rl_entry {
	rl_entry *chain;         /* next in the hash chain */
	rl_entry *newer, *older; /* LRU list */
	uint64_t  hash;
	double    tokens, ts;
	size_t    klen;
	char      key[RL_KEY_MAX + 1];
};

struct rl_limiter {
	/* In-memory buckets. */
	pthread_mutex_t mem_mu;
	rl_entry      **chains;
	rl_entry       *newest, *oldest;
	size_t          count;
	unsigned char   hkey[crypto_shorthash_KEYBYTES];

	/* Redis, when host is not NULL. */
	char             *host;
	int               port;
	int               timeout_ms;
	pthread_mutex_t   redis_mu;
	redisContext     *rc; /* NULL while disconnected */
	char              sha[RL_NSCRIPTS][41];
	atomic_int        degraded;
	_Atomic long long retry_at_ns; /* monotonic; next attempt */
};

/* Saved SIGPIPE state of the calling thread around Redis I/O. */
typedef struct {
	sigset_t old;
	int      was_pending;
} rl_sigpipe;

/* ================================================================ */
/* Helpers                                                          */
/* ================================================================ */

/* rl_mono_ns - monotonic clock in nanoseconds. */
static long long
rl_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* rl_rule_ok - 1 when the rule describes a usable bucket. */
static int
rl_rule_ok(const rl_rule *r)
{
	return isfinite(r->rate) && isfinite(r->burst) && r->rate >= RL_RATE_MIN && r->burst >= 1.0;
}

/* rl_sigpipe_enter - block SIGPIPE in this thread, remembering state. */
static void
rl_sigpipe_enter(rl_sigpipe *s)
{
	sigset_t set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigemptyset(&pend);
	sigpending(&pend);
	s->was_pending = sigismember(&pend, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &set, &s->old);
}

/* rl_sigpipe_leave - consume a SIGPIPE we raised, restore the mask. */
static void
rl_sigpipe_leave(rl_sigpipe *s)
{
	struct timespec zero = {0, 0};
	sigset_t        set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigemptyset(&pend);
	sigpending(&pend);
	if (!s->was_pending && sigismember(&pend, SIGPIPE) == 1) {
		while (sigtimedwait(&set, NULL, &zero) == -1 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &s->old, NULL);
}

/* ================================================================ */
/* In-memory buckets                                                */
/* ================================================================ */

/* rl_lru_unlink - take e out of the LRU list. */
static void
rl_lru_unlink(rl_limiter *l, rl_entry *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		l->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		l->oldest = e->newer;
	e->newer = e->older = NULL;
}

/* rl_lru_push - put e at the newest end of the LRU list. */
static void
rl_lru_push(rl_limiter *l, rl_entry *e)
{
	e->older = l->newest;
	e->newer = NULL;
	if (l->newest != NULL)
		l->newest->newer = e;
	l->newest = e;
	if (l->oldest == NULL)
		l->oldest = e;
}

/* rl_chain_unlink - take e out of its hash chain. */
static void
rl_chain_unlink(rl_limiter *l, rl_entry *e)
{
	rl_entry **pp = &l->chains[e->hash & (RL_NCHAINS - 1)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->chain;
	if (*pp == e)
		*pp = e->chain;
	e->chain = NULL;
}

/* rl_mem_entry - find or make the bucket for key; NULL if out of memory. */
static rl_entry *
rl_mem_entry(rl_limiter *l, const char *key, size_t klen, const rl_rule *r, double now)
{
	uint64_t  h;
	rl_entry *e;

	crypto_shorthash((unsigned char *)&h, (const unsigned char *)key, klen, l->hkey);
	for (e = l->chains[h & (RL_NCHAINS - 1)]; e != NULL; e = e->chain) {
		if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0) {
			rl_lru_unlink(l, e);
			rl_lru_push(l, e);
			return e;
		}
	}

	if (l->count < RL_MEM_MAX) {
		e = calloc(1, sizeof(*e));
		if (e != NULL)
			l->count++;
	} else {
		e = NULL;
	}
	if (e == NULL) {
		/* Full (or out of memory): reuse the least recently used. */
		e = l->oldest;
		if (e == NULL)
			return NULL;
		rl_lru_unlink(l, e);
		rl_chain_unlink(l, e);
	}
	e->hash = h;
	e->klen = klen;
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	e->tokens = r->burst;
	e->ts = now;
	e->chain = l->chains[h & (RL_NCHAINS - 1)];
	l->chains[h & (RL_NCHAINS - 1)] = e;
	rl_lru_push(l, e);
	return e;
}

/* rl_mem_take - rl_take against the in-memory table. */
static int
rl_mem_take(rl_limiter *l, const char *key, size_t klen, const rl_rule *r, double now,
            double *retry_after)
{
	rl_entry *e;
	int       allowed = 1;

	*retry_after = 0;
	pthread_mutex_lock(&l->mem_mu);
	e = rl_mem_entry(l, key, klen, r, now);
	if (e != NULL) {
		if (now > e->ts) {
			e->tokens += (now - e->ts) * r->rate;
			e->ts = now;
		}
		if (e->tokens > r->burst)
			e->tokens = r->burst;
		if (e->tokens >= 1.0) {
			e->tokens -= 1.0;
		} else {
			allowed = 0;
			*retry_after = (1.0 - e->tokens) / r->rate;
		}
	}
	/* e == NULL: no memory at all; let the request through. */
	pthread_mutex_unlock(&l->mem_mu);
	return allowed;
}

/* rl_mem_clear - free every in-memory bucket. */
static void
rl_mem_clear(rl_limiter *l)
{
	rl_entry *e, *next;

	for (e = l->newest; e != NULL; e = next) {
		next = e->older;
		free(e);
	}
	l->newest = l->oldest = NULL;
	l->count = 0;
}

/* ================================================================ */
/* Redis buckets                                                    */
/* ================================================================ */

/* rl_redis_drop - close the connection (redis_mu held). */
static void
rl_redis_drop(rl_limiter *l)
{
	if (l->rc != NULL) {
		redisFree(l->rc);
		l->rc = NULL;
	}
}

/* rl_redis_failed - note a failure: degraded, next try in 1 s. */
static void
rl_redis_failed(rl_limiter *l, const char *what)
{
	char why[128];

	/* what may point into the context we are about to free. */
	snprintf(why, sizeof(why), "%s", what);
	rl_redis_drop(l);
	atomic_store(&l->retry_at_ns, rl_mono_ns() + RL_RETRY_NS);
	if (atomic_exchange(&l->degraded, 1) == 0)
		fprintf(stderr,
		        "ratelimit: redis %s:%d unusable (%s); "
		        "answering from memory\n",
		        l->host, l->port, why);
}

/* rl_redis_load - SCRIPT LOAD every script; 0, or -1. */
static int
rl_redis_load(rl_limiter *l)
{
	for (int i = 0; i < RL_NSCRIPTS; i++) {
		redisReply *rep = redisCommand(l->rc, "SCRIPT LOAD %s", rl_scripts[i]);
		bool        ok = rep != NULL && rep->type == REDIS_REPLY_STRING && rep->len == 40;

		if (ok) {
			memcpy(l->sha[i], rep->str, 40);
			l->sha[i][40] = '\0';
		}
		if (rep != NULL)
			freeReplyObject(rep);
		if (!ok)
			return -1;
	}
	return 0;
}

/* rl_redis_connect - connect and load the script (redis_mu held). */
static int
rl_redis_connect(rl_limiter *l)
{
	struct timeval tv;

	tv.tv_sec = l->timeout_ms / 1000;
	tv.tv_usec = (l->timeout_ms % 1000) * 1000;
	if (l->host[0] == '/')
		l->rc = redisConnectUnixWithTimeout(l->host, tv);
	else
		l->rc = redisConnectWithTimeout(l->host, l->port, tv);
	if (l->rc == NULL)
		return -1;
	if (l->rc->err != 0 || redisSetTimeout(l->rc, tv) != REDIS_OK || rl_redis_load(l) < 0) {
		rl_redis_drop(l);
		return -1;
	}
	return 0;
}

/*
 * rl_redis_enter - the connection, locked and with SIGPIPE held back,
 * connecting if need be; false (nothing held) while Redis is unusable.
 */
static bool
rl_redis_enter(rl_limiter *l, rl_sigpipe *sp)
{
	if (l->host == NULL ||
	    (atomic_load(&l->degraded) && rl_mono_ns() < atomic_load(&l->retry_at_ns)))
		return false;
	pthread_mutex_lock(&l->redis_mu);
	rl_sigpipe_enter(sp);
	if (l->rc == NULL) {
		/* Another thread may have just failed: re-check the clock. */
		bool wait =
		    atomic_load(&l->degraded) && rl_mono_ns() < atomic_load(&l->retry_at_ns);

		if (wait || rl_redis_connect(l) < 0) {
			if (!wait)
				rl_redis_failed(l, "connect");
			rl_sigpipe_leave(sp);
			pthread_mutex_unlock(&l->redis_mu);
			return false;
		}
	}
	return true;
}

/* rl_redis_leave - undo rl_redis_enter */
static void
rl_redis_leave(rl_limiter *l, rl_sigpipe *sp)
{
	rl_sigpipe_leave(sp);
	pthread_mutex_unlock(&l->redis_mu);
}

/*
 * rl_redis_script - EVALSHA script with keys then args (the connection
 * entered), loading the scripts again on NOSCRIPT.  The reply when it is
 * an integer or an array of integers; otherwise the limiter is marked
 * failed and NULL returned.
 */
static redisReply *
rl_redis_script(rl_limiter *l, int script, int nkeys, const char **argv, const size_t *lens,
                int argc)
{
	const char *av[16];
	size_t      al[16];
	char        nk[16];
	redisReply *rep = NULL;
	bool        good;

	if (argc + 3 > 16)
		return NULL;
	snprintf(nk, sizeof(nk), "%d", nkeys);
	av[0] = "EVALSHA";
	al[0] = 7;
	av[2] = nk;
	al[2] = strlen(nk);
	for (int i = 0; i < argc; i++) {
		av[3 + i] = argv[i];
		al[3 + i] = lens != NULL && lens[i] != 0 ? lens[i] : strlen(argv[i]);
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		av[1] = l->sha[script];
		al[1] = 40;
		rep = redisCommandArgv(l->rc, argc + 3, av, al);
		if (attempt == 0 && rep != NULL && rep->type == REDIS_REPLY_ERROR &&
		    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
			freeReplyObject(rep);
			rep = NULL;
			if (rl_redis_load(l) < 0)
				break;
			continue;
		}
		break;
	}
	if (rep == NULL) {
		rl_redis_failed(l, l->rc != NULL && l->rc->err != 0 ? l->rc->errstr : "no reply");
		return NULL;
	}
	good = rep->type == REDIS_REPLY_INTEGER;
	if (rep->type == REDIS_REPLY_ARRAY) {
		good = true;
		for (size_t i = 0; i < rep->elements; i++)
			good = good && rep->element[i]->type == REDIS_REPLY_INTEGER;
	}
	if (!good) {
		rl_redis_failed(l, rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
		freeReplyObject(rep);
		return NULL;
	}
	if (atomic_exchange(&l->degraded, 0) == 1)
		fprintf(stderr, "ratelimit: redis %s:%d is back\n", l->host, l->port);
	return rep;
}

/*
 * rl_redis_take - rl_take against Redis: 1 or 0, or -1 when Redis could
 * not answer (the caller then asks memory).
 */
static int
rl_redis_take(rl_limiter *l, const char *key, size_t klen, const rl_rule *r, double now,
              double *retry_after)
{
	char        rkey[RL_KEY_MAX + 4], rate[32], burst[32], nows[48], ttl[32];
	const char *argv[5] = {rkey, rate, burst, nows, ttl};
	size_t      lens[5] = {klen + 3, 0, 0, 0, 0};
	double      ttl_ms;
	redisReply *rep;
	rl_sigpipe  sp;
	int         allowed = -1;

	memcpy(rkey, "rl:", 3);
	memcpy(rkey + 3, key, klen);
	snprintf(rate, sizeof(rate), "%.17g", r->rate);
	snprintf(burst, sizeof(burst), "%.17g", r->burst);
	snprintf(nows, sizeof(nows), "%.3f", now);
	ttl_ms = ceil(r->burst / r->rate * 2000.0);
	if (!(ttl_ms >= (double)RL_TTL_MIN_MS))
		ttl_ms = (double)RL_TTL_MIN_MS;
	if (ttl_ms > (double)RL_TTL_MAX_MS)
		ttl_ms = (double)RL_TTL_MAX_MS;
	snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_ms);

	if (!rl_redis_enter(l, &sp))
		return -1;
	rep = rl_redis_script(l, RL_SCRIPT_TAKE, 1, argv, lens, 5);
	if (rep != NULL && (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	                    (rep->element[0]->integer != 0 && rep->element[0]->integer != 1)))
		rl_redis_failed(l, "unexpected reply");
	else if (rep != NULL) {
		allowed = (int)rep->element[0]->integer;
		*retry_after = allowed ? 0 : (double)rep->element[1]->integer / 1000.0;
	}
	if (rep != NULL)
		freeReplyObject(rep);
	rl_redis_leave(l, &sp);
	return allowed;
}

/* rl_backoff_key - "lf:" and key into out; false when key is empty or too long */
static bool
rl_backoff_key(const char *key, char *out, size_t *len)
{
	size_t klen = key != NULL ? strnlen(key, RL_KEY_MAX + 1) : 0;

	if (klen == 0 || klen > RL_KEY_MAX)
		return false;
	memcpy(out, "lf:", 3);
	memcpy(out + 3, key, klen);
	*len = klen + 3;
	return true;
}

/* ================================================================ */
/* API                                                              */
/* ================================================================ */

/* rl_new - a limiter, on Redis when redis_host is given. */
rl_limiter *
rl_new(const char *redis_host, int redis_port, int timeout_ms)
{
	rl_limiter *l;
	rl_sigpipe  sp;

	if (redis_host != NULL && redis_host[0] == '\0')
		redis_host = NULL;
	if (redis_host != NULL && redis_host[0] != '/' && (redis_port <= 0 || redis_port > 65535))
		return NULL;
	if (sodium_init() < 0)
		return NULL;

	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->chains = calloc(RL_NCHAINS, sizeof(*l->chains));
	if (l->chains == NULL)
		goto fail;
	if (redis_host != NULL) {
		l->host = strdup(redis_host);
		if (l->host == NULL)
			goto fail;
	}
	randombytes_buf(l->hkey, sizeof(l->hkey));
	l->port = redis_port;
	l->timeout_ms = timeout_ms > 0 ? timeout_ms : RL_TIMEOUT_MS;
	atomic_init(&l->degraded, 0);
	atomic_init(&l->retry_at_ns, 0);
	pthread_mutex_init(&l->mem_mu, NULL);
	pthread_mutex_init(&l->redis_mu, NULL);

	if (l->host != NULL) {
		rl_sigpipe_enter(&sp);
		if (rl_redis_connect(l) < 0)
			rl_redis_failed(l, "connect");
		rl_sigpipe_leave(&sp);
	}
	return l;

fail:
	free(l->chains);
	free(l);
	return NULL;
}

/* rl_free - release a limiter; NULL is a no-op. */
void
rl_free(rl_limiter *l)
{
	if (l == NULL)
		return;
	rl_redis_drop(l);
	rl_mem_clear(l);
	pthread_mutex_destroy(&l->redis_mu);
	pthread_mutex_destroy(&l->mem_mu);
	sodium_memzero(l->hkey, sizeof(l->hkey));
	free(l->chains);
	free(l->host);
	free(l);
}

/* rl_take - take a token for key: 1 allowed, 0 limited, -1 bad input. */
int
rl_take(rl_limiter *l, const char *key, const rl_rule *r, double now, double *retry_after)
{
	double dummy;
	size_t klen;
	int    rc;

	if (retry_after == NULL)
		retry_after = &dummy;
	*retry_after = 0;
	if (l == NULL || key == NULL || r == NULL || !rl_rule_ok(r) || !isfinite(now))
		return -1;
	klen = strnlen(key, RL_KEY_MAX + 1);
	if (klen == 0 || klen > RL_KEY_MAX)
		return -1;

	if (l->host != NULL) {
		rc = rl_redis_take(l, key, klen, r, now, retry_after);
		if (rc >= 0)
			return rc;
	}
	return rl_mem_take(l, key, klen, r, now, retry_after);
}

/* rl_degraded - 1 while a Redis limiter answers from memory. */
int
rl_degraded(const rl_limiter *l)
{
	if (l == NULL || l->host == NULL)
		return 0;
	return atomic_load(&l->degraded);
}

/* rl_mem_count - buckets held in memory. */
size_t
rl_mem_count(rl_limiter *l)
{
	size_t n;

	if (l == NULL)
		return 0;
	pthread_mutex_lock(&l->mem_mu);
	n = l->count;
	pthread_mutex_unlock(&l->mem_mu);
	return n;
}

/* rl_backoff_run - run a back-off script whose answer is a wait in ms; 0 with *wait, or -1 */
static int
rl_backoff_run(rl_limiter *l, int script, int nkeys, const char **argv, const size_t *lens,
               int argc, double *wait)
{
	redisReply *rep;
	rl_sigpipe  sp;
	int         rc = -1;

	if (!rl_redis_enter(l, &sp))
		return -1;
	if ((rep = rl_redis_script(l, script, nkeys, argv, lens, argc)) != NULL) {
		if (rep->type == REDIS_REPLY_INTEGER && rep->integer >= 0) {
			*wait = (double)rep->integer / 1000.0;
			rc = 0;
		} else {
			rl_redis_failed(l, "unexpected reply");
		}
		freeReplyObject(rep);
	}
	rl_redis_leave(l, &sp);
	return rc;
}

/* rl_backoff_fail - one more failure for key, shared through Redis */
int
rl_backoff_fail(rl_limiter *l, const char *key, const rl_backoff *b, double now, double *wait)
{
	char        rkey[RL_KEY_MAX + 4], fr[16], mx[32], fg[32], nows[48];
	const char *argv[5] = {rkey, fr, mx, fg, nows};
	size_t      lens[5] = {0};

	*wait = 0;
	if (l == NULL || b == NULL || !isfinite(now) || !(b->max_wait_s >= 1) ||
	    !(b->forget_s >= 1) || !rl_backoff_key(key, rkey, &lens[0]))
		return -1;
	snprintf(fr, sizeof(fr), "%u", b->free);
	snprintf(mx, sizeof(mx), "%.3f", b->max_wait_s);
	snprintf(fg, sizeof(fg), "%lld", (long long)(b->forget_s * 1000.0));
	snprintf(nows, sizeof(nows), "%.3f", now);
	return rl_backoff_run(l, RL_SCRIPT_FAIL, 1, argv, lens, 5, wait);
}

/* rl_backoff_wait - the longest wait of keys[0..n), shared through Redis */
int
rl_backoff_wait(rl_limiter *l, const char *const *keys, int n, double now, double *wait)
{
	char        rkeys[4][RL_KEY_MAX + 4], nows[48];
	const char *argv[5];
	size_t      lens[5] = {0};

	*wait = 0;
	if (l == NULL || keys == NULL || n < 1 || n > 4 || !isfinite(now))
		return -1;
	for (int i = 0; i < n; i++) {
		if (!rl_backoff_key(keys[i], rkeys[i], &lens[i]))
			return -1;
		argv[i] = rkeys[i];
	}
	snprintf(nows, sizeof(nows), "%.3f", now);
	argv[n] = nows;
	return rl_backoff_run(l, RL_SCRIPT_WAIT, n, argv, lens, n + 1, wait);
}

/* rl_backoff_clear - forget key's failures, shared through Redis */
int
rl_backoff_clear(rl_limiter *l, const char *key)
{
	char        rkey[RL_KEY_MAX + 4];
	size_t      len;
	redisReply *rep;
	rl_sigpipe  sp;
	int         rc = -1;

	if (l == NULL || !rl_backoff_key(key, rkey, &len) || !rl_redis_enter(l, &sp))
		return -1;
	rep = redisCommand(l->rc, "DEL %b", rkey, len);
	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER)
		rc = 0;
	else
		rl_redis_failed(l, rep != NULL && rep->type == REDIS_REPLY_ERROR ? rep->str
		                   : l->rc != NULL && l->rc->err != 0            ? l->rc->errstr
		                                                                 : "no reply");
	if (rep != NULL)
		freeReplyObject(rep);
	rl_redis_leave(l, &sp);
	return rc;
}
