/*
 * clf.h - the router's intent classifier
 *
 * A multinomial logistic regression over hashed, TF-IDF weighted, L2
 * normalised text features (word unigrams and bigrams, character n-grams
 * inside words), trained in process with averaged SGD, and calibrated by
 * temperature scaling on a held-out share of the training data.  The router
 * trains one model at start-up (and on SOP changes) and scores every
 * message with clf_predict(); clubos-route-eval measures it on public data;
 * the semantic cache uses clf_featurize() for its similarity.  See
 * docs/classifier.md.
 *
 * A trained model is immutable: clf_predict(), clf_featurize() and the
 * accessors may be called from any number of threads at once.
 */
#ifndef CLUBOS_CLF_H
#define CLUBOS_CLF_H

#include <stddef.h>
#include <stdint.h>

#include "common/svec.h"

typedef struct clf_model clf_model;

typedef struct {
	const char *text;
	const char *label;
} clf_example;

typedef struct {
	double   l2;      /* regularisation strength (per example) */
	int      epochs;  /* passes of SGD over the training data */
	double   holdout; /* share held out to fit the temperature; 0 = none (T = 1) */
	uint32_t seed;    /* shuffles and splits; same seed, same model */
	int      threads; /* 1 by default; 2 fits the calibration model alongside */

	double      lr;           /* initial SGD step, decays linearly to 0 */
	const char *oos_label;    /* name of the out-of-scope class ("oos") */
	double      oos_weight;   /* loss weight of oos examples (others weigh 1) */
	int         min_df;       /* keep features seen in at least this many examples */
	size_t      max_features; /* keep at most this many (most frequent); 0 = all */
	int         char_min;     /* character n-grams inside "<word>", sizes char_min..char_max; */
	int         char_max;     /*   0 = none */
	int         word_ngrams;  /* 1 = unigrams, 2 = unigrams and bigrams */
	double      w_word;       /* weight of each feature group before normalisation */
	double      w_bigram;
	double      w_char;
} clf_params;

typedef struct {
	int    label;
	double prob; /* calibrated probability */
} clf_score;

/* The longest text looked at, in bytes after normalisation; the rest is ignored. */
#define CLF_MAX_TEXT 2048

void clf_params_default(clf_params *p);

/*
 * Train a model on n examples (texts and labels are copied as needed; the
 * caller keeps ownership of ex).  Returns NULL with a message in err on bad
 * input (no examples, fewer than two labels, NULL text or label) or when out
 * of memory.
 */
clf_model *clf_train(const clf_example *ex, size_t n, const clf_params *p, char *err,
                     size_t errlen);

/*
 * Score text: the k most probable labels, most probable first.  Returns the
 * number written (min(k, labels); 0 when m, text or top is NULL).
 * Reentrant and thread-safe on a const model; allocates nothing.
 */
size_t clf_predict(const clf_model *m, const char *text, clf_score *top, size_t k);

size_t      clf_nlabels(const clf_model *m);
const char *clf_label_name(const clf_model *m, int label);         /* NULL if out of range */
int         clf_label_index(const clf_model *m, const char *name); /* -1 if unknown */
double      clf_temperature(const clf_model *m);
size_t      clf_memory(const clf_model *m);    /* bytes held by the model */
size_t      clf_nfeatures(const clf_model *m); /* feature rows kept */
void        clf_free(clf_model *m);            /* NULL ok */

/*
 * Similarity support for the semantic cache: the sparse, L2-normalised
 * TF-IDF vector of a text.  idx are feature hashes (sorted, unique); a
 * feature the model never saw still counts, with the rarest IDF, so two
 * texts sharing an unusual word are similar.  svec_dot() of two such
 * vectors is their cosine similarity (1.0 for the same text, 0 for an empty
 * one).  clf_featurize returns 0, or -1 on NULL arguments or no memory
 * (out is then empty); free with svec_free (NULL and empty ok).
 */

int clf_featurize(const clf_model *m, const char *text, svec *out);

#endif
