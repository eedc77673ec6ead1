/*
 * clf.c - the router's intent classifier
 *
 * Called by the router daemon (train at start-up, clf_predict per message),
 * by clubos-route-eval, and by the semantic cache (clf_featurize).
 *
 * Features.  A message is normalised (textnorm.c) and split into words;
 * apostrophes are dropped inside words ("don't" = "dont") and digits fold to
 * '0'.  Each word gives a unigram, each pair of neighbours (with start and
 * end markers) a bigram, and "<word>" gives its character n-grams of sizes
 * char_min..char_max.  Every feature is a 32-bit FNV-1a hash whose two low
 * bits name its group.  Counts become 1 + log(tf), times the IDF learnt at
 * training time, times the group weight; the vector is L2-normalised
 * counting features the model never saw (with the rarest IDF), so a
 * message made of unknown words has a small known part and scores close to
 * the class prior, which is what out-of-scope detection wants.
 *
 * Model.  Only features seen at training time (at least min_df times) get a
 * weight row; an open-addressing table maps hash to row.  Multinomial
 * logistic regression with L2, trained with SGD (step decaying linearly to
 * zero, L2 applied through a scale factor so an update touches only the
 * rows of the example) and Polyak averaging of the iterates over the second
 * half of the epochs.  Examples of the out-of-scope label may weigh more.
 *
 * Calibration.  A stratified share of the data (holdout) is set aside, a
 * model is fitted on the rest, and the temperature T minimising the
 * negative log-likelihood of the held-out part is found by golden-section
 * search on log T.  The final model is then fitted on everything and keeps
 * T: probabilities are softmax(z / T).
 *
 * Everything is deterministic for a given seed (one xorshift generator,
 * fixed iteration orders).  A model is never changed after clf_train
 * returns, so scoring needs no lock.
 */
#include "router/clf.h"
#include "common/textnorm.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLF_MAX_FEATS 8192  /* raw features looked at per text */
#define CLF_MAX_TOKENS 1024 /* words looked at per text */
#define CLF_MAX_WORD 64     /* longer words are cut for hashing */
#define CLF_MAX_LABELS 1024
#define CLF_PAD 8 /* weight rows are padded to this many floats */

#define CLF_G_WORD 0u
#define CLF_G_BIGRAM 1u
#define CLF_G_CHAR 2u

struct clf_model {
	/* feature settings, copied from the training parameters */
	int   char_min, char_max, word_ngrams;
	float gw[4]; /* group weights */

	size_t nlabels;
	size_t ncols;  /* nlabels rounded up to CLF_PAD */
	char **labels; /* sorted; NULL in the calibration model */

	size_t           nrows;
	float           *w; /* nrows x ncols */
	float           *b; /* ncols */
	float            idf_unseen;
	struct clf_slot *tab; /* hash -> row and IDF, open addressing */
	size_t           tmask;

	double temp;
	size_t bytes;
};

/* A slot of the feature table; key 0 = empty. */
struct clf_slot {
	uint32_t key;
	uint32_t row;
	float    idf;
};

/* A text as the model sees it: known rows with their weights. */
struct clf_sparse {
	uint32_t row;
	float    val;
};

static void clf_errf(char *, size_t, const char *, ...) __attribute__((format(printf, 3, 4)));

/* clf_errf - format a message into the caller's error buffer */
static void
clf_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* clf_params_default - the settings measured best on CLINC150 val */
void
clf_params_default(clf_params *p)
{
	if (p == NULL)
		return;
	memset(p, 0, sizeof(*p));
	p->l2 = 3e-6;
	p->epochs = 12;
	p->holdout = 0.1;
	p->seed = 1;
	p->threads = 1;
	p->lr = 4.0;
	p->oos_label = "oos";
	p->oos_weight = 2.0;
	p->min_df = 1;
	p->max_features = 0;
	p->char_min = 2;
	p->char_max = 5;
	p->word_ngrams = 2;
	p->w_word = 2.0;
	p->w_bigram = 2.0;
	p->w_char = 1.0;
}

/* ---------------------------------------------------------------------
 * Hashing and feature extraction
 */

#define CLF_FNV_OFF 0xcbf29ce484222325ULL
#define CLF_FNV_PRIME 0x100000001b3ULL

/* clf_fnv - continue a 64-bit FNV-1a hash over n bytes */
static uint64_t
clf_fnv(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= CLF_FNV_PRIME;
	}
	return h;
}

/* clf_key - finish a hash into a feature key carrying its group in the low bits */
static uint32_t
clf_key(uint64_t h, uint32_t group)
{
	uint32_t k;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	k = ((uint32_t)h & ~3u) | group;
	return k ? k : 4u;
}

/*
 * Scratch space for one text, on the caller's stack (about 110 KB): the
 * normalised text, its words cleaned and wrapped as "<word>" one after the
 * other, and the features.
 */
struct clf_scratch {
	char     norm[CLF_MAX_TEXT];
	char     clean[2 * CLF_MAX_TEXT + 2];
	uint16_t woff[CLF_MAX_TOKENS]; /* offset of '<' in clean */
	uint16_t wlen[CLF_MAX_TOKENS]; /* length without the brackets */
	size_t   nw, clen;
	uint32_t keys[CLF_MAX_FEATS];
	float    tf[CLF_MAX_FEATS];
	int32_t  rows[CLF_MAX_FEATS];
};

/* clf_tok_cb - keep a token: drop apostrophes, fold digits to '0' */
static void
clf_tok_cb(const char *tok, size_t len, void *arg)
{
	struct clf_scratch *sc = arg;
	size_t              i, start = sc->clen, wl = 0;

	if (sc->nw >= CLF_MAX_TOKENS || start + CLF_MAX_WORD + 2 > sizeof(sc->clean))
		return;
	sc->clean[start] = '<';
	for (i = 0; i < len && wl < CLF_MAX_WORD; i++) {
		char c = tok[i];

		if (c == '\'')
			continue;
		sc->clean[start + 1 + wl++] = (c >= '0' && c <= '9') ? '0' : c;
	}
	if (wl == 0)
		return;
	sc->clean[start + 1 + wl] = '>';
	sc->woff[sc->nw] = (uint16_t)start;
	sc->wlen[sc->nw] = (uint16_t)wl;
	sc->nw++;
	sc->clen = start + wl + 2;
}

/* clf_sort_keys - LSD radix sort of n keys, tmp holding n more */
static void
clf_sort_keys(uint32_t *a, uint32_t *tmp, size_t n)
{
	uint32_t *src = a, *dst = tmp, *t;
	size_t    cnt[256], i, sh;

	for (sh = 0; sh < 32; sh += 8) {
		size_t sum = 0;

		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[(src[i] >> sh) & 0xFF]++;
		for (i = 0; i < 256; i++) {
			size_t c = cnt[i];

			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[cnt[(src[i] >> sh) & 0xFF]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	/* four passes: the result is back in a */
}

#define CLF_SEED_BIGRAM (CLF_FNV_OFF ^ 0x5bd1e995u)
#define CLF_SEED_CHAR (CLF_FNV_OFF ^ 0x27d4eb2du)

/*
 * clf_extract - the unique feature keys of text with their counts, sorted by
 * key; returns how many (in sc->keys and sc->tf)
 */
static size_t
clf_extract(const clf_model *m, const char *text, struct clf_scratch *sc)
{
	size_t n = 0, i, j, u, nw;
	int    g;

	tn_normalise(text, sc->norm, sizeof(sc->norm));
	sc->nw = 0;
	sc->clen = 0;
	tn_tokens(sc->norm, clf_tok_cb, sc);
	nw = sc->nw;

	for (i = 0; i < nw && n < CLF_MAX_FEATS; i++)
		sc->keys[n++] = clf_key(
		    clf_fnv(CLF_FNV_OFF, sc->clean + sc->woff[i] + 1, sc->wlen[i]), CLF_G_WORD);
	if (m->word_ngrams >= 2 && nw > 0) {
		for (i = 0; i <= nw && n < CLF_MAX_FEATS; i++) {
			uint64_t h = CLF_SEED_BIGRAM;

			if (i == 0)
				h = clf_fnv(h, "<s>", 3);
			else
				h = clf_fnv(h, sc->clean + sc->woff[i - 1] + 1, sc->wlen[i - 1]);
			h = clf_fnv(h, " ", 1);
			if (i == nw)
				h = clf_fnv(h, "</s>", 4);
			else
				h = clf_fnv(h, sc->clean + sc->woff[i] + 1, sc->wlen[i]);
			sc->keys[n++] = clf_key(h, CLF_G_BIGRAM);
		}
	}
	if (m->char_min > 0) {
		for (i = 0; i < nw && n < CLF_MAX_FEATS; i++) {
			const char *buf = sc->clean + sc->woff[i];
			size_t      len = (size_t)sc->wlen[i] + 2;

			for (g = m->char_min; g <= m->char_max; g++) {
				size_t gl = (size_t)g;

				if (gl > len) {
					/* a short word is one gram of its own */
					if (g == m->char_min && n < CLF_MAX_FEATS)
						sc->keys[n++] = clf_key(
						    clf_fnv(CLF_SEED_CHAR, buf, len), CLF_G_CHAR);
					break;
				}
				for (j = 0; j + gl <= len && n < CLF_MAX_FEATS; j++)
					sc->keys[n++] = clf_key(clf_fnv(CLF_SEED_CHAR, buf + j, gl),
					                        CLF_G_CHAR);
			}
		}
	}
	if (n == 0)
		return 0;
	clf_sort_keys(sc->keys, (uint32_t *)sc->rows, n);
	for (i = 0, u = 0; i < n; u++) {
		uint32_t k = sc->keys[i];
		size_t   c = 0;

		while (i < n && sc->keys[i] == k) {
			i++;
			c++;
		}
		/* u <= i - 1 < n <= CLF_MAX_FEATS: in bounds. */
		// cppcheck-suppress arrayIndexOutOfBounds
		sc->keys[u] = k;
		// cppcheck-suppress arrayIndexOutOfBounds
		sc->tf[u] = (float)c;
	}
	return u;
}

/* clf_lookup - the table slot of a feature key, or NULL */
static const struct clf_slot *
clf_lookup(const clf_model *m, uint32_t key)
{
	size_t i;

	if (m->tab == NULL)
		return NULL;
	for (i = (key * 2654435761u) & m->tmask; m->tab[i].key != 0; i = (i + 1) & m->tmask)
		if (m->tab[i].key == key)
			return &m->tab[i];
	return NULL;
}

/*
 * clf_weigh - turn the counts in sc into normalised TF-IDF weights in place;
 * sc->rows gets each key's row or -1.  Returns the L2 norm before scaling.
 */
static double
clf_weigh(const clf_model *m, struct clf_scratch *sc, size_t n)
{
	double norm = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct clf_slot *e = clf_lookup(m, sc->keys[i]);
		double                 v =
		    (1.0 + log(sc->tf[i])) * (e ? e->idf : m->idf_unseen) * m->gw[sc->keys[i] & 3u];

		sc->rows[i] = e ? (int32_t)e->row : -1;
		sc->tf[i] = (float)v;
		norm += v * v;
	}
	norm = sqrt(norm);
	if (norm > 0)
		for (i = 0; i < n; i++)
			sc->tf[i] = (float)(sc->tf[i] / norm);
	return norm;
}

/*
 * clf_sparse_of - the known part of a text's vector, compacted to the front
 * of sc->rows / sc->tf; returns its length
 */
static size_t
clf_sparse_of(const clf_model *m, const char *text, struct clf_scratch *sc)
{
	size_t n, i, k = 0;

	n = clf_extract(m, text, sc);
	clf_weigh(m, sc, n);
	for (i = 0; i < n; i++)
		if (sc->rows[i] >= 0 && sc->tf[i] != 0) {
			sc->rows[k] = sc->rows[i];
			sc->tf[k] = sc->tf[i];
			k++;
		}
	return k;
}

#define CLF_AHEAD 4 /* rows fetched ahead of use */

/* clf_prefetch - ask for a weight row before it is needed */
static inline void
clf_prefetch(const float *row, size_t nc)
{
	size_t c;

	for (c = 0; c < nc; c += 16)
		__builtin_prefetch(row + c, 0, 1);
}

/* clf_logits - raw scores z (ncols, padding included) of the n known features in sc */
static void
clf_logits(const clf_model *m, const struct clf_scratch *sc, size_t n, float *z)
{
	size_t i, c, nc = m->ncols;

	memcpy(z, m->b, nc * sizeof(float));
	for (i = 0; i < n && i < CLF_AHEAD; i++)
		clf_prefetch(m->w + (size_t)sc->rows[i] * nc, nc);
	for (i = 0; i < n; i++) {
		const float *w = m->w + (size_t)sc->rows[i] * nc;
		float        v = sc->tf[i];

		if (i + CLF_AHEAD < n)
			clf_prefetch(m->w + (size_t)sc->rows[i + CLF_AHEAD] * nc, nc);

		for (c = 0; c < nc; c += CLF_PAD) {
			int k;

			for (k = 0; k < CLF_PAD; k++)
				z[c + k] += v * w[c + k];
		}
	}
}

/* ---------------------------------------------------------------------
 * Training
 */

/* clf_rand - xorshift64* generator */
static uint64_t
clf_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* clf_shuffle - Fisher-Yates shuffle of n indices */
static void
clf_shuffle(size_t *a, size_t n, uint64_t *rs)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = (size_t)(clf_rand(rs) % i), t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

/* A growable key -> count table used while building the vocabulary. */
struct clf_count {
	uint32_t *key;
	uint32_t *cnt;
	size_t    mask, n;
};

/* clf_count_add - count one more of key; -1 when out of memory */
static int
clf_count_add(struct clf_count *t, uint32_t key)
{
	size_t i;

	if ((t->n + 1) * 2 > t->mask + 1) {
		size_t    ncap = (t->mask + 1) * 2, j;
		uint32_t *nk = calloc(ncap, sizeof(*nk));
		uint32_t *nc = calloc(ncap, sizeof(*nc));

		if (nk == NULL || nc == NULL) {
			free(nk);
			free(nc);
			return -1;
		}
		for (j = 0; j <= t->mask; j++) {
			if (t->key[j] == 0)
				continue;
			for (i = (t->key[j] * 2654435761u) & (ncap - 1); nk[i] != 0;
			     i = (i + 1) & (ncap - 1))
				;
			nk[i] = t->key[j];
			nc[i] = t->cnt[j];
		}
		free(t->key);
		free(t->cnt);
		t->key = nk;
		t->cnt = nc;
		t->mask = ncap - 1;
	}
	for (i = (key * 2654435761u) & t->mask; t->key[i] != 0; i = (i + 1) & t->mask)
		if (t->key[i] == key) {
			t->cnt[i]++;
			return 0;
		}
	t->key[i] = key;
	t->cnt[i] = 1;
	t->n++;
	return 0;
}

struct clf_kc {
	uint32_t key, cnt;
};

/* clf_kc_bydf - most frequent first, then by key */
static int
clf_kc_bydf(const void *a, const void *b)
{
	const struct clf_kc *x = a, *y = b;

	if (x->cnt != y->cnt)
		return x->cnt > y->cnt ? -1 : 1;
	return (x->key > y->key) - (x->key < y->key);
}

/* clf_kc_bykey - ascending key */
static int
clf_kc_bykey(const void *a, const void *b)
{
	const struct clf_kc *x = a, *y = b;

	return (x->key > y->key) - (x->key < y->key);
}

/* What one fit needs: the examples it may use and their label indices. */
struct clf_job {
	const clf_example *ex;
	const int         *lab; /* label index per example */
	const size_t      *sel; /* examples of this fit */
	size_t             n;
	const clf_params  *p;
	size_t             nlabels;
	int                oos; /* index of the oos label or -1 */
	uint64_t           seed;
	/* calibration job only */
	const size_t *hold;
	size_t        nhold;
	/* results */
	clf_model *m;
	double     temp;
	int        failed;
};

/* clf_vocab - choose the feature rows and their IDF from the training texts */
static int
clf_vocab(clf_model *m, const struct clf_job *j, struct clf_scratch *sc)
{
	struct clf_count cnt = {NULL, NULL, 0, 0};
	struct clf_kc   *kc = NULL;
	size_t           i, k, nk = 0, tcap;
	int              rc = -1;

	cnt.key = calloc(1024, sizeof(uint32_t));
	cnt.cnt = calloc(1024, sizeof(uint32_t));
	if (cnt.key == NULL || cnt.cnt == NULL)
		goto fail;
	cnt.mask = 1023;
	for (i = 0; i < j->n; i++) {
		size_t n = clf_extract(m, j->ex[j->sel[i]].text, sc);

		for (k = 0; k < n; k++)
			if (clf_count_add(&cnt, sc->keys[k]) < 0)
				goto fail;
	}
	kc = malloc((cnt.n + 1) * sizeof(*kc));
	if (kc == NULL)
		goto fail;
	for (i = 0; i <= cnt.mask; i++)
		if (cnt.key[i] != 0 && cnt.cnt[i] >= (uint32_t)j->p->min_df) {
			kc[nk].key = cnt.key[i];
			kc[nk].cnt = cnt.cnt[i];
			nk++;
		}
	if (j->p->max_features > 0 && nk > j->p->max_features) {
		qsort(kc, nk, sizeof(*kc), clf_kc_bydf);
		nk = j->p->max_features;
	}
	qsort(kc, nk, sizeof(*kc), clf_kc_bykey);

	for (tcap = 16; tcap < nk * 2; tcap *= 2)
		;
	m->nrows = nk;
	m->tmask = tcap - 1;
	if ((m->tab = calloc(tcap, sizeof(*m->tab))) == NULL)
		goto fail;
	for (k = 0; k < nk; k++) {
		for (i = (kc[k].key * 2654435761u) & m->tmask; m->tab[i].key != 0;
		     i = (i + 1) & m->tmask)
			;
		m->tab[i].key = kc[k].key;
		m->tab[i].row = (uint32_t)k;
		m->tab[i].idf = (float)(log((1.0 + (double)j->n) / (1.0 + kc[k].cnt)) + 1.0);
	}
	m->idf_unseen = (float)(log(1.0 + (double)j->n) + 1.0);
	rc = 0;
fail:
	free(kc);
	free(cnt.key);
	free(cnt.cnt);
	return rc;
}

/* clf_model_new - an empty model with the feature settings of p */
static clf_model *
clf_model_new(const clf_params *p, size_t nlabels)
{
	clf_model *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->char_min = p->char_min;
	m->char_max = p->char_max;
	m->word_ngrams = p->word_ngrams;
	m->gw[CLF_G_WORD] = (float)p->w_word;
	m->gw[CLF_G_BIGRAM] = (float)p->w_bigram;
	m->gw[CLF_G_CHAR] = (float)p->w_char;
	m->gw[3] = 0;
	m->nlabels = nlabels;
	m->ncols = (nlabels + CLF_PAD - 1) / CLF_PAD * CLF_PAD;
	m->temp = 1.0;
	return m;
}

/*
 * clf_fit - fit the weights of a model on the examples of job j; the model
 * (without labels, T = 1) goes to j->m
 */
static int
clf_fit(struct clf_job *j)
{
	const clf_params   *p = j->p;
	struct clf_scratch *sc = NULL;
	clf_model          *m = NULL;
	struct clf_sparse  *xs = NULL;
	size_t             *xoff = NULL, *order = NULL;
	float              *v = NULL, *avg = NULL, *bavg = NULL, *z = NULL, *g = NULL;
	double              scale = 1.0, navg = 0;
	size_t              nc, i, k, c, tot, t = 0, steps, xcap = 0;
	int                 e, avg_from;
	uint64_t            rs = j->seed * 0x9E3779B97F4A7C15ULL + 1;

	if ((sc = malloc(sizeof(*sc))) == NULL || (m = clf_model_new(p, j->nlabels)) == NULL)
		goto fail;
	if (clf_vocab(m, j, sc) < 0)
		goto fail;
	nc = m->ncols;

	/* the training vectors, once */
	xoff = malloc((j->n + 1) * sizeof(*xoff));
	order = malloc((j->n + 1) * sizeof(*order));
	if (xoff == NULL || order == NULL)
		goto fail;
	for (i = 0, tot = 0; i < j->n; i++) {
		size_t             n = clf_sparse_of(m, j->ex[j->sel[i]].text, sc), q;
		struct clf_sparse *nx;

		if (tot + n + 1 > xcap) {
			xcap = (tot + n + 1) * 2;
			if ((nx = realloc(xs, xcap * sizeof(*xs))) == NULL)
				goto fail;
			xs = nx;
		}
		for (q = 0; q < n; q++) {
			xs[tot + q].row = (uint32_t)sc->rows[q];
			xs[tot + q].val = sc->tf[q];
		}
		xoff[i] = tot;
		tot += n;
		order[i] = i;
	}
	xoff[j->n] = tot;

	m->w = calloc(m->nrows * nc + 1, sizeof(float));
	m->b = calloc(nc, sizeof(float));
	v = calloc(m->nrows * nc + 1, sizeof(float));
	bavg = calloc(nc, sizeof(float));
	z = calloc(nc, sizeof(float));
	g = calloc(nc, sizeof(float));
	if (m->w == NULL || m->b == NULL || v == NULL || bavg == NULL || z == NULL || g == NULL)
		goto fail;
	avg = m->w; /* the averaged iterate is the model */

	steps = (size_t)p->epochs * j->n;
	avg_from = p->epochs / 2;
	for (e = 0; e < p->epochs; e++) {
		clf_shuffle(order, j->n, &rs);
		for (i = 0; i < j->n; i++, t++) {
			size_t                   ei = order[i];
			const struct clf_sparse *x = xs + xoff[ei];
			size_t                   nx = xoff[ei + 1] - xoff[ei];
			int                      y = j->lab[j->sel[ei]];
			double                   lr = p->lr * (1.0 - (double)t / (double)steps);
			double                   wt = (y == j->oos) ? p->oos_weight : 1.0;
			double                   zmax = -1e300, sum = 0;
			float                    inv = (float)(1.0 / scale), f;

			/* forward: z = b + (v x) / scale */
			for (c = 0; c < nc; c++)
				z[c] = 0;
			for (k = 0; k < nx; k++) {
				const float *w = v + (size_t)x[k].row * nc;
				float        xv = x[k].val;

				if (k + CLF_AHEAD < nx)
					clf_prefetch(v + (size_t)x[k + CLF_AHEAD].row * nc, nc);

				for (c = 0; c < nc; c += CLF_PAD) {
					int q;

					for (q = 0; q < CLF_PAD; q++)
						z[c + q] += xv * w[c + q];
				}
			}
			for (c = 0; c < j->nlabels; c++) {
				z[c] = z[c] * inv + m->b[c];
				if (z[c] > zmax)
					zmax = z[c];
			}
			for (c = 0; c < j->nlabels; c++) {
				z[c] = (float)exp(z[c] - zmax);
				sum += z[c];
			}
			for (c = 0; c < j->nlabels; c++)
				g[c] = (float)(wt * (z[c] / sum - (c == (size_t)y ? 1.0 : 0.0)));

			/* L2 shrink through the scale, then the loss step */
			scale /= (1.0 - lr * p->l2);
			f = (float)(lr * scale);
			for (k = 0; k < nx; k++) {
				float *w = v + (size_t)x[k].row * nc;
				float  a = f * x[k].val;

				for (c = 0; c < nc; c += CLF_PAD) {
					int q;

					for (q = 0; q < CLF_PAD; q++)
						w[c + q] -= a * g[c + q];
				}
			}
			for (c = 0; c < j->nlabels; c++)
				m->b[c] -= (float)(lr * g[c]);
			if (scale > 1e6) {
				for (c = 0; c < m->nrows * nc; c++)
					v[c] = (float)(v[c] / scale);
				scale = 1.0;
			}
		}
		/* Polyak average of the iterates at the end of the later epochs */
		if (e >= avg_from) {
			double keep = navg / (navg + 1), add = 1.0 / (navg + 1);

			for (c = 0; c < m->nrows * nc; c++)
				avg[c] = (float)(avg[c] * keep + v[c] / scale * add);
			for (c = 0; c < nc; c++)
				bavg[c] = (float)(bavg[c] * keep + m->b[c] * add);
			navg += 1;
		}
	}
	memcpy(m->b, bavg, nc * sizeof(float));
	m->bytes =
	    sizeof(*m) + (m->nrows * nc + nc) * sizeof(float) + (m->tmask + 1) * sizeof(*m->tab);

	free(sc);
	free(xs);
	free(xoff);
	free(order);
	free(v);
	free(bavg);
	free(z);
	free(g);
	j->m = m;
	return 0;
fail:
	free(sc);
	free(xs);
	free(xoff);
	free(order);
	free(v);
	free(bavg);
	free(z);
	free(g);
	clf_free(m);
	return -1;
}

/* clf_nll - mean negative log-likelihood of the held-out logits at temperature T */
static double
clf_nll(const float *zs, const int *ys, size_t n, size_t nl, size_t nc, double T)
{
	double tot = 0;
	size_t i, c;

	for (i = 0; i < n; i++) {
		const float *z = zs + i * nc;
		double       zmax = -1e300, sum = 0;

		for (c = 0; c < nl; c++)
			if (z[c] > zmax)
				zmax = z[c];
		for (c = 0; c < nl; c++)
			sum += exp((z[c] - zmax) / T);
		/* sum >= 1: the largest term is exp(0). */
		// cppcheck-suppress invalidFunctionArg
		tot += -((z[ys[i]] - zmax) / T - log(sum));
	}
	return tot / (double)n;
}

/* clf_calibrate - fit on the job's examples, then find T on the held-out ones */
static void *
clf_calibrate(void *arg)
{
	struct clf_job     *j = arg;
	struct clf_scratch *sc = NULL;
	float              *zs = NULL;
	int                *ys = NULL;
	double              lo = log(0.02), hi = log(50.0), a, b, fa, fb;
	const double        gr = (sqrt(5.0) - 1) / 2;
	size_t              i, nc;
	int                 it;

	j->temp = 1.0;
	if (clf_fit(j) < 0) {
		j->failed = 1;
		return NULL;
	}
	nc = j->m->ncols;
	if ((sc = malloc(sizeof(*sc))) == NULL ||
	    (zs = malloc(j->nhold * nc * sizeof(float))) == NULL ||
	    (ys = malloc(j->nhold * sizeof(int))) == NULL) {
		j->failed = 1;
		goto done;
	}
	for (i = 0; i < j->nhold; i++) {
		size_t n = clf_sparse_of(j->m, j->ex[j->hold[i]].text, sc);

		clf_logits(j->m, sc, n, zs + i * nc);
		ys[i] = j->lab[j->hold[i]];
	}
	/* golden-section search on log T */
	a = hi - gr * (hi - lo);
	b = lo + gr * (hi - lo);
	fa = clf_nll(zs, ys, j->nhold, j->nlabels, nc, exp(a));
	fb = clf_nll(zs, ys, j->nhold, j->nlabels, nc, exp(b));
	for (it = 0; it < 60; it++) {
		if (fa < fb) {
			hi = b;
			b = a;
			fb = fa;
			a = hi - gr * (hi - lo);
			fa = clf_nll(zs, ys, j->nhold, j->nlabels, nc, exp(a));
		} else {
			lo = a;
			a = b;
			fa = fb;
			b = lo + gr * (hi - lo);
			fb = clf_nll(zs, ys, j->nhold, j->nlabels, nc, exp(b));
		}
	}
	j->temp = exp((lo + hi) / 2);
done:
	free(sc);
	free(zs);
	free(ys);
	clf_free(j->m);
	j->m = NULL;
	return NULL;
}

/* clf_size_cmp - qsort order for indices */
static int
clf_size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/* clf_strcmp - qsort order for label names */
static int
clf_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* clf_check - reject parameters that cannot train a model */
static int
clf_check(const clf_params *p, char *err, size_t errlen)
{
	if (!(p->l2 >= 0 && p->l2 < 1)) {
		clf_errf(err, errlen, "l2 must be in [0, 1)");
		return -1;
	}
	if (p->epochs < 1 || p->epochs > 1000) {
		clf_errf(err, errlen, "epochs must be in 1..1000");
		return -1;
	}
	if (!(p->holdout >= 0 && p->holdout <= 0.5)) {
		clf_errf(err, errlen, "holdout must be in [0, 0.5]");
		return -1;
	}
	if (!(p->lr > 0 && p->lr <= 100)) {
		clf_errf(err, errlen, "lr must be in (0, 100]");
		return -1;
	}
	if (!(p->lr * p->l2 < 0.5)) {
		clf_errf(err, errlen, "lr * l2 must be below 0.5");
		return -1;
	}
	if (!(p->oos_weight > 0 && p->oos_weight <= 1000)) {
		clf_errf(err, errlen, "oos_weight must be in (0, 1000]");
		return -1;
	}
	if (p->char_min < 0 || p->char_max > 16 || (p->char_min > 0 && p->char_max < p->char_min)) {
		clf_errf(err, errlen,
		         "character n-gram sizes must satisfy 0 < char_min <= char_max <= 16");
		return -1;
	}
	if (p->word_ngrams < 1 || p->word_ngrams > 2) {
		clf_errf(err, errlen, "word_ngrams must be 1 or 2");
		return -1;
	}
	if (!(p->w_word >= 0 && p->w_bigram >= 0 && p->w_char >= 0)) {
		clf_errf(err, errlen, "feature group weights must be >= 0");
		return -1;
	}
	return 0;
}

/* clf_train - fit the model */
clf_model *
clf_train(const clf_example *ex, size_t n, const clf_params *pin, char *err, size_t errlen)
{
	clf_params     p;
	struct clf_job fj, cj;
	char         **names = NULL;
	int           *lab = NULL;
	size_t        *all = NULL, *fit = NULL, *hold = NULL, *byl = NULL, *lstart = NULL;
	size_t         i, nl = 0, nfit = 0, nhold = 0;
	clf_model     *m = NULL;
	pthread_t      th;
	int            threaded = 0, oos = -1;
	uint64_t       rs;

	if (pin)
		p = *pin;
	else
		clf_params_default(&p);
	if (p.min_df < 1)
		p.min_df = 1;
	if (clf_check(&p, err, errlen) < 0)
		return NULL;
	if (ex == NULL || n == 0) {
		clf_errf(err, errlen, "no training examples");
		return NULL;
	}
	if (n > 50000000) {
		clf_errf(err, errlen, "too many training examples (%zu)", n);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (ex[i].text == NULL || ex[i].label == NULL || ex[i].label[0] == '\0') {
			clf_errf(err, errlen, "example %zu has no text or no label", i);
			return NULL;
		}

	/* the label set, sorted, and each example's index in it */
	if ((names = malloc(n * sizeof(*names))) == NULL ||
	    (lab = malloc(n * sizeof(*lab))) == NULL)
		goto oom;
	for (i = 0; i < n; i++)
		names[i] = (char *)(uintptr_t)ex[i].label; /* not written through */
	qsort(names, n, sizeof(*names), clf_strcmp);
	for (i = 0; i < n; i++)
		if (nl == 0 || strcmp(names[nl - 1], names[i]) != 0)
			names[nl++] = names[i];
	if (nl < 2) {
		clf_errf(err, errlen, "need at least two labels, got %zu", nl);
		goto fail;
	}
	if (nl > CLF_MAX_LABELS) {
		clf_errf(err, errlen, "too many labels (%zu, at most %d)", nl, CLF_MAX_LABELS);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		char *const *f = bsearch(&ex[i].label, names, nl, sizeof(*names), clf_strcmp);

		lab[i] = (int)(f - names);
	}
	if (p.oos_label) {
		char *const *f = bsearch(&p.oos_label, names, nl, sizeof(*names), clf_strcmp);

		if (f)
			oos = (int)(f - names);
	}

	/* a stratified hold-out: shuffle each label's examples, set aside a share */
	if ((all = malloc(n * sizeof(*all))) == NULL || (fit = malloc(n * sizeof(*fit))) == NULL ||
	    (hold = malloc(n * sizeof(*hold))) == NULL ||
	    (byl = malloc(n * sizeof(*byl))) == NULL ||
	    (lstart = calloc(nl + 1, sizeof(*lstart))) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		all[i] = i;
		lstart[lab[i] + 1]++;
	}
	for (i = 0; i < nl; i++)
		lstart[i + 1] += lstart[i];
	{
		size_t *pos = calloc(nl, sizeof(*pos));

		if (pos == NULL)
			goto oom;
		for (i = 0; i < n; i++)
			byl[lstart[lab[i]] + pos[lab[i]]++] = i;
		free(pos);
	}
	rs = (uint64_t)p.seed * 0xD1B54A32D192ED03ULL + 7;
	for (i = 0; i < nl; i++) {
		size_t cnt = lstart[i + 1] - lstart[i], h, q;

		clf_shuffle(byl + lstart[i], cnt, &rs);
		h = (size_t)floor(p.holdout * (double)cnt + 0.5);
		if (p.holdout > 0 && h == 0 && cnt >= 5)
			h = 1;
		for (q = 0; q < cnt; q++) {
			if (q < h)
				hold[nhold++] = byl[lstart[i] + q];
			else
				fit[nfit++] = byl[lstart[i] + q];
		}
	}
	/* keep the original order within each part, for determinism across labels */
	qsort(hold, nhold, sizeof(*hold), clf_size_cmp);
	qsort(fit, nfit, sizeof(*fit), clf_size_cmp);

	memset(&fj, 0, sizeof(fj));
	fj.ex = ex;
	fj.lab = lab;
	fj.sel = all;
	fj.n = n;
	fj.p = &p;
	fj.nlabels = nl;
	fj.oos = oos;
	fj.seed = p.seed;
	cj = fj;
	cj.sel = fit;
	cj.n = nfit;
	cj.hold = hold;
	cj.nhold = nhold;
	cj.seed = (uint64_t)p.seed + 0x51ED;
	cj.temp = 1.0;

	if (nhold > 0 && nfit > 0) {
		if (p.threads > 1 && pthread_create(&th, NULL, clf_calibrate, &cj) == 0)
			threaded = 1;
		else
			clf_calibrate(&cj);
	}
	if (clf_fit(&fj) < 0) {
		if (threaded)
			pthread_join(th, NULL);
		goto oom;
	}
	if (threaded)
		pthread_join(th, NULL);
	m = fj.m;
	if (cj.failed)
		goto oom;
	m->temp = cj.temp;

	if ((m->labels = calloc(nl, sizeof(char *))) == NULL)
		goto oom;
	for (i = 0; i < nl; i++) {
		if ((m->labels[i] = strdup(names[i])) == NULL)
			goto oom;
		m->bytes += strlen(names[i]) + 1 + sizeof(char *);
	}
	free(names);
	free(lab);
	free(all);
	free(fit);
	free(hold);
	free(byl);
	free(lstart);
	return m;
oom:
	clf_errf(err, errlen, "out of memory");
fail:
	clf_free(m);
	free(names);
	free(lab);
	free(all);
	free(fit);
	free(hold);
	free(byl);
	free(lstart);
	return NULL;
}

/* ---------------------------------------------------------------------
 * Scoring and accessors
 */

/* clf_predict - the k most probable labels of text */
size_t
clf_predict(const clf_model *m, const char *text, clf_score *top, size_t k)
{
	struct clf_scratch sc;
	float              z[CLF_MAX_LABELS + CLF_PAD];
	double             zmax = -1e300, sum = 0;
	size_t             n, c, got = 0, q;

	if (m == NULL || text == NULL || top == NULL || k == 0)
		return 0;
	n = clf_sparse_of(m, text, &sc);
	clf_logits(m, &sc, n, z);
	for (c = 0; c < m->nlabels; c++)
		if (z[c] > zmax)
			zmax = z[c];
	for (c = 0; c < m->nlabels; c++)
		sum += exp((z[c] - zmax) / m->temp);
	if (k > m->nlabels)
		k = m->nlabels;
	for (c = 0; c < m->nlabels; c++) {
		double pr = exp((z[c] - zmax) / m->temp) / sum;

		if (got == k && pr <= top[k - 1].prob)
			continue;
		q = got < k ? got++ : k - 1;
		while (q > 0 && top[q - 1].prob < pr) {
			top[q] = top[q - 1];
			q--;
		}
		top[q].label = (int)c;
		top[q].prob = pr;
	}
	return got;
}

/* clf_nlabels - how many labels the model knows */
size_t
clf_nlabels(const clf_model *m)
{
	return m ? m->nlabels : 0;
}

/* clf_label_name - name of label index */
const char *
clf_label_name(const clf_model *m, int label)
{
	if (m == NULL || m->labels == NULL || label < 0 || (size_t)label >= m->nlabels)
		return NULL;
	return m->labels[label];
}

/* clf_label_index - index of a label name, -1 if unknown */
int
clf_label_index(const clf_model *m, const char *name)
{
	char *const *f;

	if (m == NULL || m->labels == NULL || name == NULL)
		return -1;
	f = bsearch(&name, m->labels, m->nlabels, sizeof(*m->labels), clf_strcmp);
	return f ? (int)(f - m->labels) : -1;
}

/* clf_temperature - the calibration temperature */
double
clf_temperature(const clf_model *m)
{
	return m ? m->temp : 1.0;
}

/* clf_memory - bytes held by the model */
size_t
clf_memory(const clf_model *m)
{
	return m ? m->bytes : 0;
}

/* clf_nfeatures - feature rows kept */
size_t
clf_nfeatures(const clf_model *m)
{
	return m ? m->nrows : 0;
}

/* clf_free - release a model; NULL is fine */
void
clf_free(clf_model *m)
{
	size_t i;

	if (m == NULL)
		return;
	if (m->labels) {
		for (i = 0; i < m->nlabels; i++)
			free(m->labels[i]);
		free(m->labels);
	}
	free(m->w);
	free(m->b);
	free(m->tab);
	free(m);
}

/* ---------------------------------------------------------------------
 * Similarity vectors
 */

/* clf_featurize - the L2-normalised TF-IDF vector of text, known or not */
int
clf_featurize(const clf_model *m, const char *text, svec *out)
{
	struct clf_scratch *sc;
	size_t              n, i, k = 0;

	if (out == NULL)
		return -1;
	out->idx = NULL;
	out->val = NULL;
	out->n = 0;
	if (m == NULL || text == NULL)
		return -1;
	if ((sc = malloc(sizeof(*sc))) == NULL)
		return -1;
	n = clf_extract(m, text, sc);
	clf_weigh(m, sc, n);
	if (n > 0) {
		out->idx = malloc(n * sizeof(*out->idx));
		out->val = malloc(n * sizeof(*out->val));
		if (out->idx == NULL || out->val == NULL)
			goto fail;
		for (i = 0; i < n; i++)
			if (sc->tf[i] != 0) {
				out->idx[k] = sc->keys[i];
				out->val[k] = sc->tf[i];
				k++;
			}
	}
	out->n = k;
	free(sc);
	return 0;
fail:
	free(sc);
	svec_free(out);
	return -1;
}
