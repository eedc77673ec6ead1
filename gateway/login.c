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
 * address's, and a key left alone for LOGIN_FORGET_S starts over.  The
 * table is in memory, per gateway, bounded (LOGIN_SETS x LOGIN_WAYS), and
 * keyed by a seeded SipHash so nobody outside can aim at one bucket.
 * CLUBOS_RATE_LIMIT=off turns the throttle off (benchmarks, bulk tests);
 * the gate stays.
 */
#include <pthread.h>
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

/* login_init - a fresh table and key; max concurrent password checks */
void
login_init(int max_concurrent)
{
	randombytes_buf(login.key, sizeof(login.key));
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

/* login_blocked - seconds this account or address must wait; 0 = go ahead */
double
login_blocked(const char *email, const char *addr, double now)
{
	double a, b;

	if (gw.rl_off)
		return 0;
	pthread_mutex_lock(&login.mu);
	a = login_wait(login_hash('e', email), now);
	b = login_wait(login_hash('a', addr), now);
	pthread_mutex_unlock(&login.mu);
	return a > b ? a : b;
}

/* login_failed - a wrong password (or no such account) from addr */
void
login_failed(const char *email, const char *addr, double now)
{
	if (gw.rl_off)
		return;
	pthread_mutex_lock(&login.mu);
	login_fail(login_hash('e', email), LOGIN_FREE_ACCOUNT, now);
	login_fail(login_hash('a', addr), LOGIN_FREE_ADDR, now);
	pthread_mutex_unlock(&login.mu);
}

/* login_succeeded - the account's failures are forgiven (not the address's) */
void
login_succeeded(const char *email, double now)
{
	struct login_slot *s;

	if (gw.rl_off)
		return;
	pthread_mutex_lock(&login.mu);
	if ((s = login_slot_get(login_hash('e', email), false, now)) != NULL)
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&login.mu);
}
