/*
 * login.c - what keeps password checks from starving everything else
 *
 * Called by api_login (api_admin.c) around each argon2id verification.
 *
 * The gate: argon2id is meant to be slow and memory-hungry, and it runs on
 * the HTTP worker threads that also answer questions.  At most
 * CLUBOS_LOGIN_CONCURRENCY checks run at once; a login beyond that is
 * answered 429 at once (login_enter fails), never queued, so a burst of
 * logins can hold at most that many workers and cores.
 *
 * The throttle: failures are counted per account (the e-mail as typed,
 * lower-cased, whether or not it exists, so the answer says nothing of who
 * has an account) and per client address.  After a few free failures each
 * further one doubles the wait before the next attempt for that key (up to
 * LOGIN_MAX_BLOCK_S); a success clears the account's count, never the
 * address's, and a key left alone for LOGIN_FORGET_S starts over.
 *
 * The counts live in Redis (ratelimit.c's back-off, "lf:login:..."), so
 * every gateway behind one address sees the same ones: guessing on the
 * other gateway buys nothing.  Keys are a SipHash of the e-mail or address
 * under a key derived from the JWT secret, which every gateway of a
 * deployment shares and nobody outside knows, so Redis never holds an
 * e-mail and nobody can aim at a key.  While Redis cannot answer, the
 * counts go to a bounded table in memory (LOGIN_SETS x LOGIN_WAYS) in this
 * gateway, and a wait there is honoured too once Redis is back.
 * CLUBOS_RATE_LIMIT=off turns the throttle off (benchmarks, bulk tests);
 * the gate stays.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "gateway/gw.h"

#define LOGIN_SETS 1024
#define LOGIN_WAYS 8
#define LOGIN_MAX_BLOCK_S 900.0
#define LOGIN_FORGET_S 3600.0

/* Failures allowed before waits begin: an account, an address (several
 * people may share one behind a venue's router). */
#define LOGIN_FREE_ACCOUNT 3
#define LOGIN_FREE_ADDR 10

struct login_slot {
	uint64_t h;             /* 0 = empty */
	unsigned failures;      /* since the last success (account) or forever (address) */
	double   blocked_until; /* no attempt for this key before this time */
	double   last;          /* the last failure */
};

static struct {
	pthread_mutex_t   mu;
	unsigned char     key[crypto_shorthash_KEYBYTES];
	struct login_slot slot[LOGIN_SETS][LOGIN_WAYS];
	atomic_int        inflight;
	int               max_inflight;
} login = {.mu = PTHREAD_MUTEX_INITIALIZER};

static const rl_backoff login_account = {LOGIN_FREE_ACCOUNT, LOGIN_MAX_BLOCK_S, LOGIN_FORGET_S};
static const rl_backoff login_addr = {LOGIN_FREE_ADDR, LOGIN_MAX_BLOCK_S, LOGIN_FORGET_S};

/* login_init - a fresh table, the key from the deployment's secret; max concurrent checks */
void
login_init(int max_concurrent, const unsigned char *secret, size_t secretlen)
{
	static const char what[] = "clubos login throttle keys";

	crypto_generichash(login.key, sizeof(login.key), (const unsigned char *)what,
	                   sizeof(what) - 1, secret, secretlen);
	memset(login.slot, 0, sizeof(login.slot));
	atomic_store(&login.inflight, 0);
	login.max_inflight = max_concurrent > 0 ? max_concurrent : 1;
}

/* login_enter - take a place to check a password; false when all are taken */
bool
login_enter(void)
{
	int n = atomic_load(&login.inflight);

	while (n < login.max_inflight)
		if (atomic_compare_exchange_weak(&login.inflight, &n, n + 1))
			return true;
	return false;
}

/* login_leave - give the place back */
void
login_leave(void)
{
	atomic_fetch_sub(&login.inflight, 1);
}

/* login_hash - the seeded hash of kind and text, ASCII case folded (never 0) */
static uint64_t
login_hash(char kind, const char *text)
{
	unsigned char buf[300];
	size_t        n = 0;
	uint64_t      h;

	buf[n++] = (unsigned char)kind;
	for (; *text != '\0' && n < sizeof(buf); text++)
		buf[n++] = (unsigned char)(*text >= 'A' && *text <= 'Z' ? *text + 32 : *text);
	crypto_shorthash((unsigned char *)&h, buf, n, login.key);
	return h != 0 ? h : 1;
}

/*
 * login_slot_get - the slot of h (locked), or NULL; with make, a new slot
 * in place of an empty one or of the one idle longest in its set.
 */
static struct login_slot *
login_slot_get(uint64_t h, bool make, double now)
{
	struct login_slot *set = login.slot[h % LOGIN_SETS], *victim = &set[0];

	for (int i = 0; i < LOGIN_WAYS; i++) {
		if (set[i].h == h) {
			if (now - set[i].last <= LOGIN_FORGET_S)
				return &set[i];
			memset(&set[i], 0, sizeof(set[i])); /* forgotten: start over */
			set[i].h = h;
			return make ? &set[i] : NULL;
		}
		if (set[i].h == 0 || set[i].last < victim->last)
			victim = &set[i];
	}
	if (!make)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->h = h;
	return victim;
}

/* login_wait - seconds before key h may try again (0 = now) */
static double
login_wait(uint64_t h, double now)
{
	struct login_slot *s = login_slot_get(h, false, now);

	return s != NULL && s->blocked_until > now ? s->blocked_until - now : 0;
}

/* login_fail - one more failure for h: past the free ones, double the wait */
static void
login_fail(uint64_t h, unsigned free_fails, double now)
{
	struct login_slot *s = login_slot_get(h, true, now);

	s->failures++;
	s->last = now;
	if (s->failures > free_fails) {
		unsigned k = s->failures - free_fails - 1;
		double   wait = (double)(1u << (k < 16 ? k : 16)); /* 1 s, 2 s, 4 s, ... */

		s->blocked_until = now + (wait < LOGIN_MAX_BLOCK_S ? wait : LOGIN_MAX_BLOCK_S);
	}
}

/* login_rkey - the shared key of h: "login:" and its hex */
static void
login_rkey(uint64_t h, char *out, size_t n)
{
	snprintf(out, n, "login:%016llx", (unsigned long long)h);
}

/* login_blocked - seconds this account or address must wait; 0 = go ahead */
double
login_blocked(const char *email, const char *addr, double now)
{
	uint64_t    he = login_hash('e', email), ha = login_hash('a', addr);
	char        ke[32], ka[32];
	const char *keys[2] = {ke, ka};
	double      a, b, shared = 0;

	if (gw.rl_off)
		return 0;
	login_rkey(he, ke, sizeof(ke));
	login_rkey(ha, ka, sizeof(ka));
	if (rl_backoff_wait(gw.rl, keys, 2, now, &shared) < 0)
		shared = 0;
	pthread_mutex_lock(&login.mu);
	a = login_wait(he, now);
	b = login_wait(ha, now);
	pthread_mutex_unlock(&login.mu);
	if (b > a)
		a = b;
	return shared > a ? shared : a;
}

/* login_count - one failure for h: in Redis, or in memory when Redis cannot take it */
static void
login_count(uint64_t h, const rl_backoff *b, double now)
{
	char   key[32];
	double wait;

	login_rkey(h, key, sizeof(key));
	if (rl_backoff_fail(gw.rl, key, b, now, &wait) == 0)
		return;
	pthread_mutex_lock(&login.mu);
	login_fail(h, b->free, now);
	pthread_mutex_unlock(&login.mu);
}

/* login_failed - a wrong password (or no such account) from addr */
void
login_failed(const char *email, const char *addr, double now)
{
	if (gw.rl_off)
		return;
	login_count(login_hash('e', email), &login_account, now);
	login_count(login_hash('a', addr), &login_addr, now);
}

/* login_succeeded - the account's failures are forgiven (not the address's) */
void
login_succeeded(const char *email, double now)
{
	uint64_t           h = login_hash('e', email);
	struct login_slot *s;
	char               key[32];

	if (gw.rl_off)
		return;
	login_rkey(h, key, sizeof(key));
	rl_backoff_clear(gw.rl, key);
	pthread_mutex_lock(&login.mu);
	if ((s = login_slot_get(h, false, now)) != NULL)
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&login.mu);
}
