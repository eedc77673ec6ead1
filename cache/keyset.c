/*
 * keyset.c - which keys the remote tiers (L2, L3) may hold
 *
 * Every L1 miss used to cost a round trip to clubos-cache, a Redis GET and
 * a PostgreSQL lookup, though nearly every miss is a question nobody asked
 * before.  The router keeps this set instead: the keys L3 held when it was
 * loaded, plus every key the router has since queued for storing.  A key
 * that is not in a complete set is not looked up remotely.
 *
 * Until the set is marked complete (the load from L3 is done) every key
 * may be held.  After that a wrong "no" costs only a recomputed answer
 * (another router's store made while this one was running, or a key the
 * set has forgotten), never a wrong one; a wrong "yes" costs only the
 * lookup every miss used to do.
 *
 * Memory is bounded by forgetting the oldest: two generations of up to
 * max/2 keys each; when the newer fills, the older is emptied and becomes
 * the newer.  So the most recent max/2 to max keys are always known.
 *
 * Keys are kept as 64-bit SipHash fingerprints (libsodium's
 * crypto_shorthash, keyed per set), in open-addressed tables at most half
 * full, so nobody outside can choose keys that collide.  One mutex: a
 * lookup is a handful of probes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cache/cache.h"

struct gen {
	uint64_t *slot; /* 0 = empty */
	size_t    n;
};

struct cache_keyset {
	pthread_mutex_t mu;
	struct gen      g[2]; /* g[cur] takes new keys */
	int             cur;
	size_t          mask; /* slots per generation - 1 */
	size_t          half; /* keys per generation */
	bool            complete;
	uint64_t        rotations;
	unsigned char   key[crypto_shorthash_KEYBYTES];
};

/* fingerprint - the key's keyed hash, never 0 (0 marks an empty slot) */
static uint64_t
fingerprint(const cache_keyset *s, const char *key)
{
	uint64_t h;

	crypto_shorthash((unsigned char *)&h, (const unsigned char *)key, strlen(key), s->key);
	return h != 0 ? h : 1;
}

/* find - the slot of f in a generation, or the empty slot where it would go */
static size_t
find(const cache_keyset *s, const struct gen *g, uint64_t f)
{
	size_t i;

	for (i = (size_t)f & s->mask; g->slot[i] != 0 && g->slot[i] != f; i = (i + 1) & s->mask)
		;
	return i;
}

/* cache_keyset_new - an empty, incomplete set remembering at least max/2
 * and at most max keys (max >= 2) */
cache_keyset *
cache_keyset_new(size_t max)
{
	cache_keyset *s;
	size_t        slots = 16;

	if (max < 2 || max > ((size_t)1 << 28) || sodium_init() < 0)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->half = max / 2;
	while (slots < s->half * 2)
		slots <<= 1;
	s->g[0].slot = calloc(slots, sizeof(uint64_t));
	s->g[1].slot = calloc(slots, sizeof(uint64_t));
	if (s->g[0].slot == NULL || s->g[1].slot == NULL) {
		free(s->g[0].slot);
		free(s->g[1].slot);
		free(s);
		return NULL;
	}
	s->mask = slots - 1;
	randombytes_buf(s->key, sizeof(s->key));
	pthread_mutex_init(&s->mu, NULL);
	return s;
}

/* cache_keyset_free - release it (NULL is fine) */
void
cache_keyset_free(cache_keyset *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->mu);
	free(s->g[0].slot);
	free(s->g[1].slot);
	free(s);
}

/* cache_keyset_add - note that the remote tiers may now hold key */
void
cache_keyset_add(cache_keyset *s, const char *key)
{
	uint64_t    f;
	struct gen *g;
	size_t      i;

	if (s == NULL || key == NULL)
		return;
	f = fingerprint(s, key);
	pthread_mutex_lock(&s->mu);
	if (s->g[!s->cur].slot[find(s, &s->g[!s->cur], f)] == f)
		goto out; /* known, in the older generation */
	g = &s->g[s->cur];
	i = find(s, g, f);
	if (g->slot[i] == f)
		goto out;
	if (g->n >= s->half) {
		/* The newer generation is full: forget the older, start afresh. */
		s->cur = !s->cur;
		g = &s->g[s->cur];
		memset(g->slot, 0, (s->mask + 1) * sizeof(uint64_t));
		g->n = 0;
		s->rotations++;
		i = find(s, g, f);
	}
	g->slot[i] = f;
	g->n++;
out:
	pthread_mutex_unlock(&s->mu);
}

/* cache_keyset_may_hold - false only when the set is complete and does
 * not know key */
bool
cache_keyset_may_hold(cache_keyset *s, const char *key)
{
	uint64_t f;
	bool     hold;

	if (s == NULL || key == NULL)
		return true;
	f = fingerprint(s, key);
	pthread_mutex_lock(&s->mu);
	hold = !s->complete || s->g[0].slot[find(s, &s->g[0], f)] == f ||
	       s->g[1].slot[find(s, &s->g[1], f)] == f;
	pthread_mutex_unlock(&s->mu);
	return hold;
}

/* cache_keyset_complete - everything the remote tiers held is now in the
 * set: from here on, a key it does not know is not looked up */
void
cache_keyset_complete(cache_keyset *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->complete = true;
	pthread_mutex_unlock(&s->mu);
}

/* cache_keyset_reset - empty and incomplete again (before a reload) */
void
cache_keyset_reset(cache_keyset *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < 2; i++) {
		memset(s->g[i].slot, 0, (s->mask + 1) * sizeof(uint64_t));
		s->g[i].n = 0;
	}
	s->complete = false;
	pthread_mutex_unlock(&s->mu);
}

/* cache_keyset_state - the keys it knows; whether it is complete, and how
 * often it has forgotten its older half */
size_t
cache_keyset_state(cache_keyset *s, bool *complete, uint64_t *rotations)
{
	size_t n;

	if (s == NULL) {
		*complete = false;
		*rotations = 0;
		return 0;
	}
	pthread_mutex_lock(&s->mu);
	n = s->g[0].n + s->g[1].n;
	*complete = s->complete;
	*rotations = s->rotations;
	pthread_mutex_unlock(&s->mu);
	return n;
}
