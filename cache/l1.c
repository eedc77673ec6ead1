/*
 * l1.c - the in-process cache tier
 *
 * One mutex guards a chained hash table of entries by key, an LRU list,
 * and a second table of "buckets" by scope and label, each a list of its
 * entries, which is all a semantic lookup scans: the classifier's top label
 * narrows 10,000 entries to the few dozen about the same topic.  Entries
 * expire after ttl_s; the least recently used go first when the entry or
 * byte limit is reached.
 */
#include "cache/cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "router/textnorm.h"

struct entry {
	char          *key, *scope, *label, *value;
	int            version;
	clf_vec        vec;
	uint64_t       guard;
	uint64_t       expires_ms; /* monotonic clock, ms */
	size_t         bytes;
	struct entry  *hnext; /* hash chain */
	struct entry  *lru_prev, *lru_next;
	struct entry  *bnext, *bprev; /* bucket list */
	struct bucket *bucket;
};

struct bucket {
	char          *name; /* scope|label */
	struct entry  *head;
	struct bucket *hnext;
};

struct cache_l1 {
	pthread_mutex_t    mu;
	struct entry     **tab;
	size_t             tabsize;
	struct bucket    **btab;
	size_t             btabsize;
	struct entry      *lru_head, *lru_tail; /* head = most recent */
	size_t             max_entries, max_bytes;
	int                ttl_s;
	struct cache_stats st;
};

/* Words that flip a request's meaning while changing few features. */
static const char *const guard_words[] = {
    "not",      "no",      "never",    "dont",    "don't",     "cant",       "can't",   "cannot",
    "won't",    "wont",    "isn't",    "isnt",    "doesn't",   "doesnt",     "didn't",  "didnt",
    "aren't",   "without", "cancel",   "change",  "move",      "reschedule", "extend",  "refund",
    "book",     "add",     "remove",   "lock",    "unlock",    "locked",     "open",    "close",
    "closed",   "buy",     "redeem",   "sell",    "start",     "stop",       "restart", "update",
    "delete",   "join",    "leave",    "before",  "after",     "more",       "less",    "first",
    "last",     "today",   "tomorrow", "tonight", "off",       "on",         "hot",     "cold",
    "up",       "down",    "early",    "late",    "cancelled", "canceled",   "changed", "booked",
    "unlocked", "opened",  "stopped",  "started", "working",   "broken",     NULL};

/* Bits 0..51 are guard words (several words may share a bit); bits 52..63
 * carry a hash of the numbers in the text. */
#define GUARD_WORD_BITS 52

static uint64_t now_us(void);

/* hash - FNV-1a */
static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct key_acc {
	char  *out;
	size_t n, cap;
	bool   overflow;
};

/* key_tok - append a token to the key, space-separated */
static void
key_tok(const char *tok, size_t len, void *arg)
{
	struct key_acc *a = arg;

	if (a->n + len + (a->n > 0 ? 1 : 0) + 1 > a->cap) {
		a->overflow = true;
		return;
	}
	if (a->n > 0 && a->out[a->n - 1] != '|')
		a->out[a->n++] = ' ';
	memcpy(a->out + a->n, tok, len);
	a->n += len;
	a->out[a->n] = '\0';
}

/* cache_key - "<scope>|<tokens of the normalised text>"; -1 if too long */
int
cache_key(const char *scope, const char *text, char *out, size_t cap)
{
	char           norm[CACHE_KEY_MAX];
	struct key_acc a = {out, 0, cap, false};
	int            n;

	if (scope == NULL || text == NULL || cap == 0)
		return -1;
	n = snprintf(out, cap, "%s|", scope);
	if (n < 0 || (size_t)n >= cap || strlen(text) >= sizeof(norm))
		return -1;
	a.n = (size_t)n;
	tn_normalise(text, norm, sizeof(norm));
	tn_tokens(norm, key_tok, &a);
	return a.overflow ? -1 : 0;
}

/* guard_tok - set the bit of a guard word, or mix a number into the top bits */
static void
guard_tok(const char *tok, size_t len, void *arg)
{
	uint64_t *g = arg;
	uint64_t  h = 0;
	bool      digits = false;

	for (int i = 0; guard_words[i] != NULL; i++)
		if (strlen(guard_words[i]) == len && memcmp(guard_words[i], tok, len) == 0)
			*g |= 1ULL << (i % GUARD_WORD_BITS);
	/* "n't" endings negate whatever word carries them. */
	if (len > 3 && memcmp(tok + len - 3, "n't", 3) == 0)
		*g |= 1ULL;
	for (size_t i = 0; i < len; i++)
		if (tok[i] >= '0' && tok[i] <= '9') {
			h = h * 31 + (uint64_t)(tok[i] - '0') + 1;
			digits = true;
		}
	if (digits)
		*g ^= ((h * 0x9E3779B97F4A7C15ULL) >> 52) << GUARD_WORD_BITS;
}

/* cache_guard - the bitmask of meaning-flipping words in a text */
uint64_t
cache_guard(const char *text)
{
	char     norm[CACHE_KEY_MAX];
	uint64_t g = 0;

	if (text == NULL)
		return 0;
	tn_normalise(text, norm, sizeof(norm));
	tn_tokens(norm, guard_tok, &g);
	return g;
}

/* cache_l1_new - an empty tier */
cache_l1 *
cache_l1_new(size_t max_entries, size_t max_bytes, int ttl_s)
{
	cache_l1 *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if (max_entries > (1u << 24))
		max_entries = 1u << 24;
	if (max_entries == 0)
		max_entries = 1;
	c->tabsize = 1;
	while (c->tabsize < max_entries * 2)
		c->tabsize <<= 1;
	c->btabsize = 1024;
	c->tab = calloc(c->tabsize, sizeof(*c->tab));
	c->btab = calloc(c->btabsize, sizeof(*c->btab));
	if (c->tab == NULL || c->btab == NULL) {
		free(c->tab);
		free(c->btab);
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	c->ttl_s = ttl_s;
	return c;
}

/* bucket_get - the bucket of scope|label, made if asked */
static struct bucket *
bucket_get(cache_l1 *c, const char *scope, const char *label, bool make)
{
	char           name[256];
	size_t         i;
	struct bucket *b;

	snprintf(name, sizeof(name), "%s|%s", scope, label);
	i = hash(name) & (c->btabsize - 1);
	for (b = c->btab[i]; b != NULL; b = b->hnext)
		if (strcmp(b->name, name) == 0)
			return b;
	if (!make || (b = calloc(1, sizeof(*b))) == NULL || (b->name = strdup(name)) == NULL) {
		free(b);
		return NULL;
	}
	b->hnext = c->btab[i];
	c->btab[i] = b;
	return b;
}

/* drop - take an entry out of every structure and free it */
static void
drop(cache_l1 *c, struct entry *e)
{
	struct entry **pp = &c->tab[hash(e->key) & (c->tabsize - 1)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp == e)
		*pp = e->hnext;
	if (e->lru_prev != NULL)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next != NULL)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
	if (e->bucket != NULL) {
		if (e->bprev != NULL)
			e->bprev->bnext = e->bnext;
		else
			e->bucket->head = e->bnext;
		if (e->bnext != NULL)
			e->bnext->bprev = e->bprev;
	}
	c->st.entries--;
	c->st.bytes -= e->bytes;
	free(e->key);
	free(e->scope);
	free(e->label);
	free(e->value);
	clf_vec_free(&e->vec);
	free(e);
}

/* touch - most recently used */
static void
touch(cache_l1 *c, struct entry *e)
{
	if (c->lru_head == e)
		return;
	e->lru_prev->lru_next = e->lru_next;
	if (e->lru_next != NULL)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
	e->lru_prev = NULL;
	e->lru_next = c->lru_head;
	c->lru_head->lru_prev = e;
	c->lru_head = e;
}

/* fill_hit - copy what the caller needs out of an entry */
static int
fill_hit(struct entry *e, struct cache_hit *hit, double sim)
{
	if ((hit->value = strdup(e->value)) == NULL)
		return -1;
	snprintf(hit->label, sizeof(hit->label), "%s", e->label);
	hit->version = e->version;
	hit->similarity = sim;
	return 0;
}

/* now_us - the monotonic clock, for expiry and the hit latency statistic */
static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* cache_l1_get - exact lookup; 1 hit, 0 miss */
int
cache_l1_get(cache_l1 *c, const char *key, struct cache_hit *hit)
{
	uint64_t      t0 = now_us();
	struct entry *e;
	int           rc = 0;

	pthread_mutex_lock(&c->mu);
	for (e = c->tab[hash(key) & (c->tabsize - 1)]; e != NULL; e = e->hnext)
		if (strcmp(e->key, key) == 0)
			break;
	if (e != NULL && e->expires_ms <= t0 / 1000) {
		drop(c, e);
		c->st.expired++;
		e = NULL;
	}
	if (e != NULL && fill_hit(e, hit, 1.0) == 0) {
		touch(c, e);
		c->st.hits++;
		c->st.hit_us_total += now_us() - t0;
		rc = 1;
	} else
		c->st.misses++;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* cache_l1_similar - the most similar entry of the same scope, label and guard */
int
cache_l1_similar(cache_l1 *c, const char *scope, const char *label, const clf_vec *v,
                 uint64_t guard, double min_sim, struct cache_hit *hit)
{
	uint64_t       t0 = now_us();
	struct bucket *b;
	struct entry  *best = NULL;
	double         best_sim = min_sim;
	uint64_t       now_ms = t0 / 1000;
	int            rc = 0;

	pthread_mutex_lock(&c->mu);
	if ((b = bucket_get(c, scope, label, false)) != NULL)
		for (struct entry *e = b->head; e != NULL; e = e->bnext) {
			double s;

			/* The bucket's name may be shortened: compare for real. */
			if (e->guard != guard || e->expires_ms <= now_ms || e->vec.n == 0 ||
			    strcmp(e->scope, scope) != 0 || strcmp(e->label, label) != 0)
				continue;
			s = clf_vec_dot(v, &e->vec);
			if (s >= best_sim) {
				best_sim = s;
				best = e;
			}
		}
	if (best != NULL && fill_hit(best, hit, best_sim) == 0) {
		touch(c, best);
		c->st.semantic_hits++;
		c->st.hit_us_total += now_us() - t0;
		rc = 1;
	} else
		c->st.misses++;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/*
 * cache_l1_put - store (replacing an entry of the same key); takes
 * ownership of *v (may be NULL: no semantic matching for that entry).
 */
int
cache_l1_put(cache_l1 *c, const char *key, const char *scope, const char *label, int version,
             const char *value, clf_vec *v, uint64_t guard)
{
	struct entry *e, *old;
	size_t        i;

	if (key == NULL || scope == NULL || label == NULL || value == NULL) {
		if (v != NULL)
			clf_vec_free(v);
		return -1;
	}
	e = calloc(1, sizeof(*e));
	i = hash(key) & (c->tabsize - 1);
	if (e == NULL || (e->key = strdup(key)) == NULL || (e->scope = strdup(scope)) == NULL ||
	    (e->label = strdup(label)) == NULL || (e->value = strdup(value)) == NULL) {
		if (e != NULL) {
			free(e->key);
			free(e->scope);
			free(e->label);
			free(e);
		}
		if (v != NULL)
			clf_vec_free(v);
		return -1;
	}
	if (v != NULL) {
		e->vec = *v;
		memset(v, 0, sizeof(*v));
	}
	e->version = version;
	e->guard = guard;
	e->expires_ms = now_us() / 1000 + (uint64_t)c->ttl_s * 1000;
	e->bytes = sizeof(*e) + strlen(key) + strlen(scope) + strlen(label) + strlen(value) + 4 +
	           e->vec.n * (sizeof(uint32_t) + sizeof(float));
	pthread_mutex_lock(&c->mu);
	for (old = c->tab[i]; old != NULL; old = old->hnext)
		if (strcmp(old->key, key) == 0) {
			drop(c, old);
			break;
		}
	e->hnext = c->tab[i];
	c->tab[i] = e;
	e->lru_next = c->lru_head;
	if (c->lru_head != NULL)
		c->lru_head->lru_prev = e;
	c->lru_head = e;
	if (c->lru_tail == NULL)
		c->lru_tail = e;
	if ((e->bucket = bucket_get(c, scope, label, true)) != NULL) {
		e->bnext = e->bucket->head;
		if (e->bnext != NULL)
			e->bnext->bprev = e;
		e->bucket->head = e;
	}
	c->st.entries++;
	c->st.bytes += e->bytes;
	while ((c->st.entries > c->max_entries || c->st.bytes > c->max_bytes) &&
	       c->lru_tail != NULL && c->lru_tail != e) {
		drop(c, c->lru_tail);
		c->st.evictions++;
	}
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* cache_l1_purge_label - drop every entry built from one SOP */
size_t
cache_l1_purge_label(cache_l1 *c, const char *label)
{
	size_t n = 0;

	pthread_mutex_lock(&c->mu);
	for (struct entry *e = c->lru_head, *nx; e != NULL; e = nx) {
		nx = e->lru_next;
		if (strcmp(e->label, label) == 0) {
			drop(c, e);
			n++;
		}
	}
	c->st.purged += n;
	pthread_mutex_unlock(&c->mu);
	return n;
}

/* cache_l1_purge_all - drop everything */
size_t
cache_l1_purge_all(cache_l1 *c)
{
	size_t n = 0;

	pthread_mutex_lock(&c->mu);
	while (c->lru_head != NULL) {
		drop(c, c->lru_head);
		n++;
	}
	c->st.purged += n;
	pthread_mutex_unlock(&c->mu);
	return n;
}

/* cache_l1_stats - a snapshot of the counters */
void
cache_l1_stats(cache_l1 *c, struct cache_stats *out)
{
	pthread_mutex_lock(&c->mu);
	*out = c->st;
	pthread_mutex_unlock(&c->mu);
}

/* cache_l1_free - NULL ok */
void
cache_l1_free(cache_l1 *c)
{
	if (c == NULL)
		return;
	cache_l1_purge_all(c);
	for (size_t i = 0; i < c->btabsize; i++)
		for (struct bucket *b = c->btab[i], *nx; b != NULL; b = nx) {
			nx = b->hnext;
			free(b->name);
			free(b);
		}
	free(c->tab);
	free(c->btab);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
