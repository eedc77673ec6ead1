/*
 * cache.h - the response cache: keys, the in-process tier, the guard
 *
 * Who uses what:
 *   answer.c  what an entry keeps of an answer (one shape for every tier);
 *   l1.c    the in-process tier (LRU, TTL, bounded by entries and bytes),
 *           exact and semantic lookups; linked into the router, which
 *           consults the cache, and into clubos-cache-eval;
 *   main.c  clubos-cache, the daemon that owns the shared tiers: L2 in
 *           Redis, L3 in PostgreSQL (durable; warms the tiers above).
 *
 * A key is "<scope>|<normalised text>"; the scope is the asker's audience
 * class and location ("customer|riverside"), so an answer made for staff
 * is never served to a customer.  Every entry records the SOP slug and
 * version it was built from; the router serves an entry only while that
 * version is current, and purges by slug on sop.changed.
 *
 * A semantic hit needs all of: the same scope; the same label (the
 * classifier's top topic for the probe, at CACHE_SEMANTIC_MIN_PROB or more,
 * equals the entry's topic); a cosine similarity of CACHE_SEMANTIC_MIN or
 * more; the same guard: a bitmask of words that flip meaning although
 * they change few features (not, can't, cancel, change, lock, off, ...)
 * and a hash of the numbers in the text; and those numbers themselves,
 * compared exactly on the probe's key and the entry's (bay 2 is not bay 4,
 * "2 players at 3pm" is not "3 players at 2pm").
 */
#ifndef CLUBOS_CACHE_H
#define CLUBOS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/svec.h"

#define CACHE_KEY_MAX 2200

/* What a semantic hit needs, chosen on BANKING77 (docs/cache.md): a cosine
 * similarity and a calibrated probability of the probe's top topic. */
#define CACHE_SEMANTIC_MIN 0.70
#define CACHE_SEMANTIC_MIN_PROB 0.99

/* misses counts exact and semantic lookups that found nothing. */
struct cache_stats {
	uint64_t hits, semantic_hits, misses, evictions, expired, purged;
	uint64_t entries, bytes;
	uint64_t hit_us_total; /* summed lookup time of hits, for the mean */
};

struct cache_hit {
	char  *value; /* malloc'd copy; the caller frees */
	char   label[96];
	int    version;
	double similarity; /* 1 for an exact hit */
};

typedef struct cache_l1 cache_l1;

int   cache_key(const char *scope, const char *text, char *out, size_t cap);
char *cache_answer_value(const cJSON *answer);

/*
 * What a cache.put asks to store: one entry (the object itself) or
 * {"entries": [...]} (a router's batch, at most CACHE_PUT_MAX).  Returns
 * the entries to store as an array of {key, scope, label, version, value}
 * (caller frees), each key once (the last of a key wins); an entry
 * missing a field or out of bounds is left out and counted in *refused.
 * NULL, with *why, when the request as a whole is malformed.
 */
#define CACHE_PUT_MAX 256
#define CACHE_KEY_MAX 2200
#define CACHE_LABEL_MAX 100
#ifndef CACHE_VALUE_MAX
#define CACHE_VALUE_MAX (64 * 1024)
#endif
cJSON   *cache_put_rows(const cJSON *q, int *refused, const char **why);
uint64_t cache_guard(const char *text);

cache_l1 *cache_l1_new(size_t max_entries, size_t max_bytes, int ttl_s);
uint64_t  cache_l1_hash(const char *key);
void      cache_l1_free(cache_l1 *c);
int       cache_l1_get(cache_l1 *c, const char *key, struct cache_hit *hit);
int       cache_l1_similar(cache_l1 *c, const char *key, const char *scope, const char *label,
                           const svec *v, uint64_t guard, double min_sim, struct cache_hit *hit);
int    cache_l1_put(cache_l1 *c, const char *key, const char *scope, const char *label, int version,
                    const char *value, svec *v, uint64_t guard);
size_t cache_l1_purge_label(cache_l1 *c, const char *label);
size_t cache_l1_purge_all(cache_l1 *c);
void   cache_l1_stats(cache_l1 *c, struct cache_stats *out);

/* keyset.c: the keys the remote tiers may hold, so that a question nobody
 * asked before costs no round trip.  "May hold" is true for every key
 * until the set is complete; it remembers the most recent max/2 to max. */
typedef struct cache_keyset cache_keyset;

cache_keyset *cache_keyset_new(size_t max);
void          cache_keyset_free(cache_keyset *s);
void          cache_keyset_add(cache_keyset *s, const char *key);
bool          cache_keyset_may_hold(cache_keyset *s, const char *key);
void          cache_keyset_complete(cache_keyset *s);
void          cache_keyset_reset(cache_keyset *s);
size_t        cache_keyset_state(cache_keyset *s, bool *complete, uint64_t *rotations);

#endif
