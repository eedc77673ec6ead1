/*
 * l1.c - the in-process cache tier
 *
 * One mutex guards a chained hash table of entries by key, an LRU list,
 * and a second table of "buckets", one per scope, label and guard, which
 * is all a semantic lookup looks at: the classifier's top label and the
 * guard narrow 10,000 entries to the few dozen that may match.  Entries
 * expire after ttl_s; the least recently used go first when the entry or
 * byte limit is reached.
 *
 * A bucket of eight entries or more keeps an inverted index of their
 * vectors: for every feature, its postings (slot of an entry, value).  A
 * lookup adds up, for each feature of the probe in ascending order, probe
 * value times posting value into the score of the posting's slot: the same
 * products of two floats, added in the same order, as svec_dot's merge,
 * so every score is that function's result to the last bit, at the cost of
 * the postings the probe shares instead of a merge per entry.
 *
 * The index is rebuilt, never updated.  New entries wait on the bucket's
 * "fresh" list, compared one by one (svec_dot), until there are enough
 * of them (bucket_index, from cache_l1_put); then they give their vectors
 * to the postings.  An entry that goes leaves its postings behind, dead,
 * until they are a fifth of the bucket's (then drop rebuilds).  Slots
 * follow the order of arrival, newest first, after the fresh list, so that
 * of equally similar entries the oldest wins, as it always has.
 *
 * Bytes: an entry counts its strings and its vector (8 bytes a feature,
 * in the entry or as postings), a bucket its index beyond the live
 * postings (feature table, slots, scores, dead postings); not the bucket
 * itself, which goes with its last entry.
 */
#include "cache/cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "common/textnorm.h"

/* An entry not (yet) in its bucket's index; a dead slot in map. */
#define SLOT_FRESH UINT32_MAX

/*
 * A bucket is indexed once it holds INDEX_MIN entries, and rebuilt when
 * FRESH_MIN more have come plus one for every FRESH_DIV indexed, or when
 * the dead postings are more than a DEAD_DIV-th of the live ones.
 */
#define INDEX_MIN 8
#define FRESH_MIN 4
#define FRESH_DIV 32
#define DEAD_DIV 4

struct entry {
	char          *key, *scope, *label, *value;
	int            version;
	uint32_t       slot;  /* in bucket's index, or SLOT_FRESH */
	svec           vec;   /* while fresh; empty once indexed */
	size_t         nfeat; /* features of the vector, wherever it is */
	uint64_t       guard;
	uint64_t       expires_ms; /* monotonic clock, ms */
	size_t         bytes;
	struct entry  *hnext; /* hash chain */
	struct entry  *lru_prev, *lru_next;
	struct entry  *bnext, *bprev; /* bucket's fresh list */
	struct bucket *bucket;        /* NULL without a vector */
};

/* What a lookup needs of an indexed entry. */
struct slot {
	struct entry *e; /* NULL once dropped */
	uint64_t      expires_ms;
};

struct posting {
	uint32_t slot;
	float    val;
};

/* A cell of the feature table: a feature and where its postings start. */
struct feat {
	uint32_t key, off;
};

/*
 * The index, in one allocation (block): slot and score (room for a
 * lookup's sums) one an entry, newest first; ftab, an open-addressing
 * table of the features (linear probing) of ncell cells and one more
 * whose off ends the last; the postings, laid out in the table's order,
 * each feature's by slot.  A cell is empty when it has no postings.
 */
struct bucket {
	struct bucket  *hnext;
	uint64_t        h, guard;
	const char     *label; /* in scope[] */
	struct entry   *fresh; /* not indexed yet, newest first */
	size_t          nfresh;
	size_t          nslots, nlive; /* slots; those with an entry still */
	void           *block;
	size_t          blocksize;
	struct slot    *slot;
	double         *score;
	struct feat    *ftab;
	size_t          ncell;
	struct posting *post;
	size_t          npost, ndead;
	size_t          bytes;   /* counted in the cache's */
	char            scope[]; /* "<scope>\0<label>\0" */
};

struct cache_l1 {
	pthread_mutex_t    mu;
	struct entry     **tab;
	size_t             tabsize;
	struct bucket    **btab;
	size_t             btabsize, nbuckets;
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

/*
 * The tables are keyed by text from outside (questions, scopes), so their
 * hash is keyed too: SipHash (crypto_shorthash) with a key drawn at random
 * once per process, so nobody can choose texts that share a chain.
 */
static unsigned char  l1_hash_key[crypto_shorthash_KEYBYTES];
static pthread_once_t l1_hash_once = PTHREAD_ONCE_INIT;

/* hash_init - draw the process's hash key */
static void
hash_init(void)
{
	if (sodium_init() < 0)
		abort();
	randombytes_buf(l1_hash_key, sizeof(l1_hash_key));
}

/* keyed - the keyed hash of n bytes */
static uint64_t
keyed(const void *p, size_t n)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t      h;

	pthread_once(&l1_hash_once, hash_init);
	crypto_shorthash(out, p, n, l1_hash_key);
	memcpy(&h, out, sizeof(h));
	return h;
}

/* hash - of a string */
static uint64_t
hash(const char *s)
{
	return keyed(s, strlen(s));
}

/* cache_l1_hash - the table hash of a key (tests: it is seeded per process) */
uint64_t
cache_l1_hash(const char *key)
{
	return hash(key);
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

/*
 * mix64 - splitmix64's finalizer: every bit of x moves about half of the
 * result's, so texts whose numbers differ by one still land far apart.
 */
static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ULL;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBULL;
	x ^= x >> 31;
	return x;
}

/* has_digit - does a token hold a digit ("2", "3pm", "a1b2")? */
static bool
has_digit(const char *tok, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (tok[i] >= '0' && tok[i] <= '9')
			return true;
	return false;
}

struct guard_acc {
	uint64_t g;
	uint64_t nums; /* the tokens with digits, chained in order */
	bool     any;
};

/* guard_tok - set the bit of a guard word; chain a token with digits */
static void
guard_tok(const char *tok, size_t len, void *arg)
{
	struct guard_acc *a = arg;
	uint64_t          h = 0xCBF29CE484222325ULL; /* FNV-1a */

	for (int i = 0; guard_words[i] != NULL; i++)
		if (strlen(guard_words[i]) == len && memcmp(guard_words[i], tok, len) == 0)
			a->g |= 1ULL << (i % GUARD_WORD_BITS);
	/* "n't" endings negate whatever word carries them. */
	if (len > 3 && memcmp(tok + len - 3, "n't", 3) == 0)
		a->g |= 1ULL;
	if (!has_digit(tok, len))
		return;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)tok[i]) * 0x100000001B3ULL;
	a->nums = mix64(a->nums ^ h);
	a->any = true;
}

/* cache_guard - the bitmask of meaning-flipping words in a text, with a
 * hash of its tokens with digits in the top bits */
uint64_t
cache_guard(const char *text)
{
	char             norm[CACHE_KEY_MAX];
	struct guard_acc a = {0, 0, false};

	if (text == NULL)
		return 0;
	tn_normalise(text, norm, sizeof(norm));
	tn_tokens(norm, guard_tok, &a);
	if (a.any)
		a.g |= mix64(a.nums) >> GUARD_WORD_BITS << GUARD_WORD_BITS;
	return a.g;
}

/*
 * next_number - the next token with a digit in a key's text (tokens one
 * space apart, as cache_key writes them), its length in *len; NULL when
 * there is none left.  *p moves past it.
 */
static const char *
next_number(const char **p, size_t *len)
{
	while (**p != '\0') {
		const char *tok = *p, *end = strchr(tok, ' ');

		if (end == NULL)
			end = tok + strlen(tok);
		*p = *end == ' ' ? end + 1 : end;
		if (has_digit(tok, (size_t)(end - tok))) {
			*len = (size_t)(end - tok);
			return tok;
		}
	}
	return NULL;
}

/*
 * same_numbers - do two keys hold the same tokens with digits, in the same
 * order?  The guard's twelve bits of them only narrow the search; this is
 * what makes "bay 2" never an answer for "bay 4".  A key's text is what
 * follows its last '|': a scope may hold one, a token never does.
 */
static bool
same_numbers(const char *a, const char *b)
{
	const char *pa = strrchr(a, '|'), *pb = strrchr(b, '|');
	const char *ta, *tb;
	size_t      la = 0, lb = 0;

	pa = pa != NULL ? pa + 1 : a;
	pb = pb != NULL ? pb + 1 : b;
	for (;;) {
		ta = next_number(&pa, &la);
		tb = next_number(&pb, &lb);
		if (ta == NULL || tb == NULL)
			return ta == tb;
		if (la != lb || memcmp(ta, tb, la) != 0)
			return false;
	}
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

/* ---------------------------------------------------------------------
 * Buckets
 */

/* bucket_hash - of a scope, a label and a guard */
static uint64_t
bucket_hash(const char *scope, const char *label, uint64_t guard)
{
	const uint64_t parts[3] = {hash(scope), hash(label), guard};

	return keyed(parts, sizeof(parts));
}

/* bucket_grow - twice the bucket table once it is full; no memory, no harm */
static void
bucket_grow(cache_l1 *c)
{
	size_t          n = c->btabsize * 2;
	struct bucket **t;

	if (c->nbuckets <= c->btabsize || (t = calloc(n, sizeof(*t))) == NULL)
		return;
	for (size_t i = 0; i < c->btabsize; i++)
		for (struct bucket *b = c->btab[i], *nx; b != NULL; b = nx) {
			nx = b->hnext;
			b->hnext = t[b->h & (n - 1)];
			t[b->h & (n - 1)] = b;
		}
	free(c->btab);
	c->btab = t;
	c->btabsize = n;
}

/* bucket_get - the bucket of exactly this scope, label and guard, made if asked */
static struct bucket *
bucket_get(cache_l1 *c, const char *scope, const char *label, uint64_t guard, bool make)
{
	uint64_t       h = bucket_hash(scope, label, guard);
	size_t         ls = strlen(scope), ll;
	struct bucket *b;

	for (b = c->btab[h & (c->btabsize - 1)]; b != NULL; b = b->hnext)
		if (b->h == h && b->guard == guard && strcmp(b->scope, scope) == 0 &&
		    strcmp(b->label, label) == 0)
			return b;
	ll = strlen(label);
	if (!make || (b = calloc(1, sizeof(*b) + ls + ll + 2)) == NULL)
		return NULL;
	memcpy(b->scope, scope, ls + 1);
	b->label = b->scope + ls + 1;
	memcpy(b->scope + ls + 1, label, ll + 1);
	b->h = h;
	b->guard = guard;
	b->hnext = c->btab[h & (c->btabsize - 1)];
	c->btab[h & (c->btabsize - 1)] = b;
	c->nbuckets++;
	bucket_grow(c);
	return b;
}

/* bucket_account - bring the cache's byte count up to date with the index */
static void
bucket_account(cache_l1 *c, struct bucket *b)
{
	size_t n = b->blocksize - (b->npost - b->ndead) * sizeof(struct posting);

	c->st.bytes = c->st.bytes - b->bytes + n;
	b->bytes = n;
}

/* bucket_free - unlink an empty bucket and free it */
static void
bucket_free(cache_l1 *c, struct bucket *b)
{
	struct bucket **pp = &c->btab[b->h & (c->btabsize - 1)];

	while (*pp != NULL && *pp != b)
		pp = &(*pp)->hnext;
	if (*pp == b)
		*pp = b->hnext;
	c->nbuckets--;
	c->st.bytes -= b->bytes;
	free(b->block);
	free(b);
}

/* ---------------------------------------------------------------------
 * The index
 */

/* feat_cell - the first cell of feature k in a table of n cells */
static inline size_t
feat_cell(uint32_t k, size_t n)
{
	return (size_t)(((uint64_t)(uint32_t)(k * 2654435761u) * n) >> 32);
}

/*
 * feat_add - count n postings of feature k in a table of ncell cells, off
 * being the count (0: empty); *nf counts the features
 */
static void
feat_add(struct feat *t, size_t ncell, uint32_t k, uint32_t n, size_t *nf)
{
	size_t j = feat_cell(k, ncell);

	while (t[j].off != 0 && t[j].key != k)
		j = j + 1 < ncell ? j + 1 : 0;
	if (t[j].off == 0) {
		t[j].key = k;
		(*nf)++;
	}
	t[j].off += n;
}

/* feat_find - the cell of feature k in an index's table, or an empty one */
static inline size_t
feat_find(const struct feat *t, size_t ncell, uint32_t k)
{
	size_t j = feat_cell(k, ncell);

	while (t[j].off != t[j + 1].off && t[j].key != k)
		j = j + 1 < ncell ? j + 1 : 0;
	return j;
}

/*
 * bucket_index - rebuild the index from its live entries and the fresh
 * ones, which then give up their vectors.  0, or -1 when out of memory
 * (the bucket is as it was: still right, only slower).
 */
static int
bucket_index(cache_l1 *c, struct bucket *b)
{
	size_t          n = b->nfresh + b->nlive, nold = b->ncell;
	size_t          nkeys = 0, tcell, ncell, nf = 0, np = 0, size, s;
	uint32_t       *map = malloc((b->nslots ? b->nslots : 1) * sizeof(*map)), *cur = NULL;
	struct feat    *tt = NULL, *ftab;
	char           *block = NULL;
	struct slot    *slot;
	double         *score;
	struct posting *post;

	if (map == NULL || n >= UINT32_MAX)
		goto fail;
	/* New slots: the fresh entries, newest first, then the indexed ones. */
	s = b->nfresh;
	for (size_t i = 0; i < b->nslots; i++)
		map[i] = b->slot[i].e != NULL ? (uint32_t)s++ : SLOT_FRESH;
	/* Count the features and their live postings, in a scratch table. */
	for (size_t i = 0; i < nold; i++)
		nkeys += b->ftab[i].off != b->ftab[i + 1].off;
	for (struct entry *e = b->fresh; e != NULL; e = e->bnext)
		nkeys += e->vec.n;
	tcell = 2 * nkeys + 1;
	if ((tt = calloc(tcell, sizeof(*tt))) == NULL)
		goto fail;
	for (size_t i = 0; i < nold; i++) {
		uint32_t live = 0;

		for (uint32_t p = b->ftab[i].off; p < b->ftab[i + 1].off; p++)
			live += map[b->post[p].slot] != SLOT_FRESH;
		if (live > 0)
			feat_add(tt, tcell, b->ftab[i].key, live, &nf);
		np += live;
	}
	for (struct entry *e = b->fresh; e != NULL; e = e->bnext)
		for (size_t k = 0; k < e->vec.n; k++, np++)
			feat_add(tt, tcell, e->vec.idx[k], 1, &nf);
	if (np >= UINT32_MAX)
		goto fail;
	/* The index's table: four features in five cells at most. */
	ncell = nf + nf / 4 + 1;
	size =
	    n * (sizeof(*slot) + sizeof(*score)) + np * sizeof(*post) + (ncell + 1) * sizeof(*ftab);
	if ((cur = calloc(ncell, sizeof(*cur))) == NULL || (block = malloc(size)) == NULL)
		goto fail;
	slot = (struct slot *)(void *)block;
	score = (double *)(void *)(slot + n);
	post = (struct posting *)(void *)(score + n);
	ftab = (struct feat *)(void *)(post + np);
	for (size_t i = 0; i < ncell; i++)
		ftab[i].key = 0;
	for (size_t i = 0; i < tcell; i++)
		if (tt[i].off != 0) {
			size_t j = feat_cell(tt[i].key, ncell);

			while (cur[j] != 0)
				j = j + 1 < ncell ? j + 1 : 0;
			ftab[j].key = tt[i].key;
			cur[j] = tt[i].off;
		}
	np = 0;
	for (size_t i = 0; i < ncell; i++) {
		ftab[i].off = (uint32_t)np;
		np += cur[i];
		cur[i] = ftab[i].off; /* from now on where the next posting goes */
	}
	ftab[ncell].key = 0;
	ftab[ncell].off = (uint32_t)np;
	/* The postings, in slot order: fresh ones first. */
	s = 0;
	for (struct entry *e = b->fresh; e != NULL; e = e->bnext, s++)
		for (size_t k = 0; k < e->vec.n; k++) {
			size_t j = feat_find(ftab, ncell, e->vec.idx[k]);

			post[cur[j]].slot = (uint32_t)s;
			post[cur[j]++].val = e->vec.val[k];
		}
	for (size_t i = 0; i < nold; i++) {
		size_t j = SIZE_MAX;

		for (uint32_t p = b->ftab[i].off; p < b->ftab[i + 1].off; p++) {
			if (map[b->post[p].slot] == SLOT_FRESH)
				continue;
			if (j == SIZE_MAX)
				j = feat_find(ftab, ncell, b->ftab[i].key);
			post[cur[j]].slot = map[b->post[p].slot];
			post[cur[j]++].val = b->post[p].val;
		}
	}
	s = 0;
	for (struct entry *e = b->fresh, *nx; e != NULL; e = nx, s++) {
		nx = e->bnext;
		slot[s].e = e;
		slot[s].expires_ms = e->expires_ms;
		e->slot = (uint32_t)s;
		e->bnext = e->bprev = NULL;
		svec_free(&e->vec); /* the postings hold it now */
	}
	for (size_t i = 0; i < b->nslots; i++)
		if (b->slot[i].e != NULL) {
			slot[s] = b->slot[i];
			slot[s].e->slot = (uint32_t)s;
			s++;
		}
	free(b->block);
	b->block = block;
	b->blocksize = size;
	b->slot = slot;
	b->score = score;
	b->nslots = b->nlive = n;
	b->ftab = ftab;
	b->ncell = ncell;
	b->post = post;
	b->npost = np;
	b->ndead = 0;
	b->fresh = NULL;
	b->nfresh = 0;
	bucket_account(c, b);
	free(map);
	free(tt);
	free(cur);
	return 0;
fail:
	free(map);
	free(tt);
	free(cur);
	return -1;
}

/* Features looked up at a time before their postings are added up. */
#define SCORE_BATCH 64

/*
 * bucket_score - every slot's dot product with v, as svec_dot adds it
 * up: v's features in order, a product of two floats each.  A batch of
 * features at a time: their cells are fetched ahead, then looked up and
 * their postings fetched ahead, then added up (else each lookup's cache
 * miss would wait for the one before).
 */
static void
bucket_score(struct bucket *b, const svec *v)
{
	struct {
		const struct posting *p, *end;
		double                pv;
	} run[SCORE_BATCH];
	double            *score = b->score;
	const struct feat *ftab = b->ftab;

	memset(score, 0, b->nslots * sizeof(*score));
	if (v == NULL || v->idx == NULL)
		return;
	for (size_t i0 = 0; i0 < v->n; i0 += SCORE_BATCH) {
		size_t i1 = v->n - i0 < SCORE_BATCH ? v->n : i0 + SCORE_BATCH, nr = 0;

		for (size_t i = i0; i < i1; i++)
			__builtin_prefetch(&ftab[feat_cell(v->idx[i], b->ncell)]);
		for (size_t i = i0; i < i1; i++) {
			size_t j = feat_find(ftab, b->ncell, v->idx[i]);

			if (ftab[j].off == ftab[j + 1].off)
				continue;
			run[nr].p = b->post + ftab[j].off;
			run[nr].end = b->post + ftab[j + 1].off;
			run[nr].pv = v->val[i];
			__builtin_prefetch(run[nr].p);
			nr++;
		}
		for (size_t r = 0; r < nr; r++)
			for (const struct posting *p = run[r].p; p < run[r].end; p++)
				score[p->slot] += run[r].pv * p->val;
	}
}

/* ---------------------------------------------------------------------
 * Entries
 */

/*
 * drop - take an entry out of every structure and free it; compact: may
 * rebuild its bucket's index when too much of it is dead
 */
static void
drop(cache_l1 *c, struct entry *e, bool compact)
{
	struct entry **pp = &c->tab[hash(e->key) & (c->tabsize - 1)];
	struct bucket *b = e->bucket;

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
	if (b != NULL && e->slot == SLOT_FRESH) {
		if (e->bprev != NULL)
			e->bprev->bnext = e->bnext;
		else
			b->fresh = e->bnext;
		if (e->bnext != NULL)
			e->bnext->bprev = e->bprev;
		b->nfresh--;
	} else if (b != NULL) {
		b->slot[e->slot].e = NULL;
		b->nlive--;
		b->ndead += e->nfeat;
	}
	c->st.entries--;
	c->st.bytes -= e->bytes;
	free(e->key);
	free(e->scope);
	free(e->label);
	free(e->value);
	svec_free(&e->vec);
	free(e);
	if (b == NULL)
		return;
	if (b->nfresh == 0 && b->nlive == 0)
		bucket_free(c, b);
	else if (!compact || b->ndead <= (b->npost - b->ndead) / DEAD_DIV || bucket_index(c, b) < 0)
		bucket_account(c, b);
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

/* lookup_done - count a lookup (under the lock): a hit fills *hit and is touched */
static int
lookup_done(cache_l1 *c, struct entry *e, double sim, struct cache_hit *hit, uint64_t t0,
            uint64_t *hits)
{
	if (e != NULL && fill_hit(e, hit, sim) == 0) {
		touch(c, e);
		(*hits)++;
		c->st.hit_us_total += now_us() - t0;
		return 1;
	}
	c->st.misses++;
	return 0;
}

/* cache_l1_get - exact lookup; 1 hit, 0 miss */
int
cache_l1_get(cache_l1 *c, const char *key, struct cache_hit *hit)
{
	uint64_t      t0 = now_us();
	struct entry *e;
	int           rc;

	pthread_mutex_lock(&c->mu);
	for (e = c->tab[hash(key) & (c->tabsize - 1)]; e != NULL; e = e->hnext)
		if (strcmp(e->key, key) == 0)
			break;
	if (e != NULL && e->expires_ms <= t0 / 1000) {
		drop(c, e, true);
		c->st.expired++;
		e = NULL;
	}
	rc = lookup_done(c, e, 1.0, hit, t0, &c->st.hits);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/*
 * cache_l1_similar - the most similar entry of the same scope, label and
 * guard, whose key has the numbers of the probe's: the fresh ones compared
 * one by one, the indexed ones scored all at once, both newest first; of
 * equals the later (older) one wins
 */
int
cache_l1_similar(cache_l1 *c, const char *key, const char *scope, const char *label, const svec *v,
                 uint64_t guard, double min_sim, struct cache_hit *hit)
{
	uint64_t       t0 = now_us();
	struct bucket *b;
	struct entry  *best = NULL;
	double         best_sim = min_sim;
	uint64_t       now_ms = t0 / 1000;
	int            rc;

	pthread_mutex_lock(&c->mu);
	if ((b = bucket_get(c, scope, label, guard, false)) != NULL) {
		for (struct entry *e = b->fresh; e != NULL; e = e->bnext) {
			double s;

			if (e->expires_ms <= now_ms)
				continue;
			s = svec_dot(v, &e->vec);
			if (s >= best_sim && same_numbers(key, e->key)) {
				best_sim = s;
				best = e;
			}
		}
		if (b->nslots > 0)
			bucket_score(b, v);
		for (size_t i = 0; i < b->nslots; i++) {
			const struct slot *sl = &b->slot[i];

			if (sl->e == NULL || sl->expires_ms <= now_ms)
				continue;
			if (b->score[i] >= best_sim && same_numbers(key, sl->e->key)) {
				best_sim = b->score[i];
				best = sl->e;
			}
		}
	}
	rc = lookup_done(c, best, best_sim, hit, t0, &c->st.semantic_hits);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/*
 * cache_l1_put - store (replacing an entry of the same key); takes
 * ownership of *v (may be NULL: no semantic matching for that entry),
 * which must be as clf_featurize makes them (ids ascending, unique).
 */
int
cache_l1_put(cache_l1 *c, const char *key, const char *scope, const char *label, int version,
             const char *value, svec *v, uint64_t guard)
{
	struct entry  *e, *old;
	struct bucket *b = NULL;
	size_t         i;

	if (key == NULL || scope == NULL || label == NULL || value == NULL) {
		if (v != NULL)
			svec_free(v);
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
			svec_free(v);
		return -1;
	}
	if (v != NULL) {
		e->vec = *v;
		memset(v, 0, sizeof(*v));
	}
	e->nfeat = e->vec.n;
	e->slot = SLOT_FRESH;
	e->version = version;
	e->guard = guard;
	e->expires_ms = now_us() / 1000 + (uint64_t)c->ttl_s * 1000;
	e->bytes = sizeof(*e) + strlen(key) + strlen(scope) + strlen(label) + strlen(value) + 4 +
	           e->vec.n * sizeof(struct posting);
	pthread_mutex_lock(&c->mu);
	for (old = c->tab[i]; old != NULL; old = old->hnext)
		if (strcmp(old->key, key) == 0) {
			drop(c, old, true);
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
	/* Without a vector, never a semantic match: no bucket. */
	if (e->vec.n > 0 && (b = bucket_get(c, scope, label, guard, true)) != NULL) {
		e->bucket = b;
		e->bnext = b->fresh;
		if (e->bnext != NULL)
			e->bnext->bprev = e;
		b->fresh = e;
		b->nfresh++;
	}
	c->st.entries++;
	c->st.bytes += e->bytes;
	if (b != NULL && b->nfresh + b->nlive >= INDEX_MIN &&
	    b->nfresh >= FRESH_MIN + b->nlive / FRESH_DIV)
		bucket_index(c, b); /* on failure they stay fresh */
	while ((c->st.entries > c->max_entries || c->st.bytes > c->max_bytes) &&
	       c->lru_tail != NULL && c->lru_tail != e) {
		drop(c, c->lru_tail, true);
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
			drop(c, e, false); /* its bucket empties: no use rebuilding */
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
		drop(c, c->lru_head, false);
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
	cache_l1_purge_all(c); /* which frees the buckets too */
	free(c->tab);
	free(c->btab);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
