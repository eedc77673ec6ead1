/*
 * retrieval.c - a small BM25 index over SOP text
 *
 * Terms are the normalised word tokens of router/textnorm, with a light
 * suffix strip (plural s, then -ing or -ed) so "bookings" finds "booking".  A
 * handful of stop words carry no signal and are skipped.  The index is a
 * sorted term array with postings; an SOP set is a few dozen documents, so
 * the structure aims at clarity more than size.
 */
#include "assistants/retrieval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/textnorm.h"

#define RET_MAX_TERM 32
#define BM25_K1 1.2
#define BM25_B 0.75

struct posting {
	int    doc;
	double tf;
};

struct term {
	char            text[RET_MAX_TERM];
	struct posting *p;
	size_t          n, cap;
};

struct ret_index {
	struct term *terms;
	size_t       nterms, cap;
	double      *doclen;
	size_t       ndocs;
	double       avglen;
};

static const char *const stop_words[] = {
    "a",     "an",     "and",   "are",  "at",   "be",      "but",  "by",  "can",    "do",
    "does",  "for",    "from",  "has",  "have", "how",     "i",    "if",  "in",     "is",
    "it",    "its",    "me",    "my",   "of",   "on",      "or",   "our", "so",     "that",
    "the",   "there",  "this",  "to",   "u",    "us",      "was",  "we",  "what",   "when",
    "where", "which",  "who",   "will", "with", "you",     "your", "im",  "i'm",    "it's",
    "just",  "any",    "get",   "got",  "pls",  "please",  "hi",   "hey", "thanks", "would",
    "could", "should", "about", "up",   "out",  "there's", NULL};

/* is_stop - a word with no signal */
static int
is_stop(const char *w)
{
	for (const char *const *s = stop_words; *s != NULL; s++)
		if (strcmp(*s, w) == 0)
			return 1;
	return 0;
}

/* stem - strip a plural, then a common verb ending, in place */
static void
stem(char *w)
{
	size_t n = strlen(w);
	int    verb = 0;

	if (n > 3 && w[n - 1] == 's' && w[n - 2] != 's' && w[n - 2] != '\'')
		w[--n] = '\0';
	if (n > 5 && strcmp(w + n - 3, "ing") == 0) {
		n -= 3;
		verb = 1;
	} else if (n > 4 && strcmp(w + n - 2, "ed") == 0) {
		n -= 2;
		verb = 1;
	}
	/* cancelled, cancelling -> cancel */
	if (verb && n > 3 && w[n - 1] == w[n - 2] && strchr("aeiou", w[n - 1]) == NULL)
		n--;
	w[n] = '\0';
}

struct tok_acc {
	char (*toks)[RET_MAX_TERM];
	size_t n, cap;
};

/* tok_cb - collect a token */
static void
tok_cb(const char *tok, size_t len, void *arg)
{
	struct tok_acc *a = arg;
	char            w[RET_MAX_TERM];

	if (len == 0 || len >= RET_MAX_TERM)
		return;
	memcpy(w, tok, len);
	w[len] = '\0';
	if (is_stop(w))
		return;
	stem(w);
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 64;
		void  *p = realloc(a->toks, nc * sizeof(*a->toks));

		if (p == NULL)
			return;
		a->toks = p;
		a->cap = nc;
	}
	memcpy(a->toks[a->n++], w, RET_MAX_TERM);
}

/* tokens - normalise and tokenise a text */
static void
tokens(const char *text, struct tok_acc *a)
{
	size_t cap = strlen(text) + 1;
	char  *norm = malloc(cap);

	if (norm == NULL)
		return;
	tn_normalise(text, norm, cap);
	tn_tokens(norm, tok_cb, a);
	free(norm);
}

/* term_find - binary search; NULL if absent */
static struct term *
term_find(const ret_index *ix, const char *w)
{
	size_t lo = 0, hi = ix->nterms;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int    c = strcmp(ix->terms[mid].text, w);

		if (c == 0)
			return &ix->terms[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* term_add - add weight for (word, doc), inserting the term in order */
static int
term_add(ret_index *ix, const char *w, int doc, double weight)
{
	size_t       lo = 0, hi = ix->nterms;
	struct term *t;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int    c = strcmp(ix->terms[mid].text, w);

		if (c == 0) {
			lo = mid;
			goto found;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (ix->nterms == ix->cap) {
		size_t nc = ix->cap ? ix->cap * 2 : 256;
		void  *p = realloc(ix->terms, nc * sizeof(*ix->terms));

		if (p == NULL)
			return -1;
		ix->terms = p;
		ix->cap = nc;
	}
	memmove(&ix->terms[lo + 1], &ix->terms[lo], (ix->nterms - lo) * sizeof(*ix->terms));
	memset(&ix->terms[lo], 0, sizeof(ix->terms[lo]));
	memcpy(ix->terms[lo].text, w, RET_MAX_TERM);
	ix->nterms++;
found:
	t = &ix->terms[lo];
	if (t->n > 0 && t->p[t->n - 1].doc == doc) {
		t->p[t->n - 1].tf += weight;
		return 0;
	}
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 4;
		void  *p = realloc(t->p, nc * sizeof(*t->p));

		if (p == NULL)
			return -1;
		t->p = p;
		t->cap = nc;
	}
	t->p[t->n].doc = doc;
	t->p[t->n].tf = weight;
	t->n++;
	return 0;
}

/* ret_build - index n documents */
ret_index *
ret_build(const struct ret_doc *docs, size_t n)
{
	ret_index *ix = calloc(1, sizeof(*ix));
	double     total = 0;

	if (ix == NULL || (ix->doclen = calloc(n ? n : 1, sizeof(double))) == NULL) {
		free(ix);
		return NULL;
	}
	ix->ndocs = n;
	for (size_t d = 0; d < n; d++) {
		const char  *parts[3] = {docs[d].title, docs[d].keywords, docs[d].body};
		const double weights[3] = {3.0, 2.0, 1.0};

		for (int p = 0; p < 3; p++) {
			struct tok_acc a = {0};

			if (parts[p] == NULL)
				continue;
			tokens(parts[p], &a);
			for (size_t i = 0; i < a.n; i++)
				if (term_add(ix, a.toks[i], (int)d, weights[p]) < 0) {
					free(a.toks);
					ret_free(ix);
					return NULL;
				}
			ix->doclen[d] += (double)a.n * weights[p];
			free(a.toks);
		}
		total += ix->doclen[d];
	}
	ix->avglen = n ? total / (double)n : 1;
	return ix;
}

/* cmp_hit - by score, descending */
static int
cmp_hit(const void *a, const void *b)
{
	double x = ((const struct ret_hit *)a)->score, y = ((const struct ret_hit *)b)->score;

	return (x < y) - (x > y);
}

/* ret_knows - see retrieval.h */
bool
ret_knows(const ret_index *ix, const char *word)
{
	struct tok_acc a = {0};
	bool           known = true;

	if (ix == NULL || word == NULL)
		return false;
	tokens(word, &a);
	/* Every token of the word known ("Sarah-Jane" is two); a word of
	 * nothing but stop words, none at all, is known. */
	for (size_t i = 0; i < a.n && known; i++)
		known = term_find(ix, a.toks[i]) != NULL;
	free(a.toks);
	return known;
}

/* ret_search - the k best documents for a query; returns how many scored > 0 */
size_t
ret_search(const ret_index *ix, const char *query, struct ret_hit *out, size_t k)
{
	struct tok_acc  a = {0};
	struct ret_hit *all;
	size_t          known = 0, m = 0;
	int            *hits;

	if (ix == NULL || ix->ndocs == 0 || k == 0)
		return 0;
	all = calloc(ix->ndocs, sizeof(*all));
	hits = calloc(ix->ndocs, sizeof(*hits));
	if (all == NULL || hits == NULL) {
		free(all);
		free(hits);
		return 0;
	}
	tokens(query, &a);
	for (size_t d = 0; d < ix->ndocs; d++)
		all[d].doc = (int)d;
	for (size_t i = 0; i < a.n; i++) {
		const struct term *t;
		double             idf;

		/* Count each distinct query term once. */
		size_t j;
		for (j = 0; j < i; j++)
			if (strcmp(a.toks[j], a.toks[i]) == 0)
				break;
		if (j < i || (t = term_find(ix, a.toks[i])) == NULL)
			continue;
		known++;
		idf = log(1.0 + ((double)ix->ndocs - (double)t->n + 0.5) / ((double)t->n + 0.5));
		for (size_t p = 0; p < t->n; p++) {
			double tf = t->p[p].tf, dl = ix->doclen[t->p[p].doc];

			all[t->p[p].doc].score +=
			    idf * tf * (BM25_K1 + 1) /
			    (tf + BM25_K1 * (1 - BM25_B + BM25_B * dl / ix->avglen));
			hits[t->p[p].doc]++;
		}
	}
	for (size_t d = 0; d < ix->ndocs; d++)
		all[d].coverage = known ? (double)hits[d] / (double)known : 0;
	qsort(all, ix->ndocs, sizeof(*all), cmp_hit);
	for (size_t d = 0; d < ix->ndocs && m < k && all[d].score > 0; d++)
		out[m++] = all[d];
	free(a.toks);
	free(all);
	free(hits);
	return m;
}

/* ret_free - NULL ok */
void
ret_free(ret_index *ix)
{
	if (ix == NULL)
		return;
	for (size_t i = 0; i < ix->nterms; i++)
		free(ix->terms[i].p);
	free(ix->terms);
	free(ix->doclen);
	free(ix);
}
