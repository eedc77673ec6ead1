/*
 * test_clf.c - unit tests of the intent classifier and text normalisation
 *
 * Run by `make test` (cmocka; its own main).  Covers router/textnorm.c and
 * router/clf.c: normalisation cases, a small separable set learnt exactly,
 * probabilities (sum, order, calibration, threshold), hostile input,
 * determinism, thread safety and the similarity vectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/clf.h"
#include "common/textnorm.h"

/* ---------------------------------------------------------------------
 * textnorm
 */

/* norm - normalise into a static buffer */
static const char *
norm(const char *in)
{
	static char buf[512];

	tn_normalise(in, buf, sizeof(buf));
	return buf;
}

/* test_tn_basic - lowercase, whitespace, trimming */
static void
test_tn_basic(void **state)
{
	(void)state;
	assert_string_equal(norm("  Hello   WORLD \t\n"), "hello world");
	assert_string_equal(norm(""), "");
	assert_string_equal(norm("   \t\r\n "), "");
	assert_string_equal(norm("Bay 4\tIS\r\nDark"), "bay 4 is dark");
	assert_string_equal(norm("a\x01\x7f"
	                         "b"),
	                    "a b");
}

/* test_tn_unicode - curly quotes, dashes, ellipsis, accents, odd spaces */
static void
test_tn_unicode(void **state)
{
	(void)state;
	assert_string_equal(norm("Don\xe2\x80\x99t"), "don't");            /* ’ */
	assert_string_equal(norm("\xe2\x80\x9cHi\xe2\x80\x9d"), "\"hi\""); /* “ ” */
	assert_string_equal(norm("7\xe2\x80\x93"
	                         "9pm"),
	                    "7-9pm");                             /* – */
	assert_string_equal(norm("wait\xe2\x80\xa6"), "wait..."); /* … */
	assert_string_equal(norm("Caf\xc3\xa9 \xc3\x9c"
	                         "BER"),
	                    "cafe uber"); /* é Ü */
	assert_string_equal(norm("a\xc2\xa0"
	                         "b"),
	                    "a b"); /* nbsp */
	assert_string_equal(norm("a\xe2\x80\x8b"
	                         "b"),
	                    "ab"); /* zero width */
	assert_string_equal(norm("\xef\xbc\xa8"
	                         "I"),
	                    "hi"); /* fullwidth H */
	assert_string_equal(norm("don`t"), "don't");
	/* other valid UTF-8 is kept whole; invalid bytes become spaces */
	assert_string_equal(norm("go \xf0\x9f\x8f\x8c now"), "go \xf0\x9f\x8f\x8c now");
	assert_string_equal(norm("a\xff"
	                         "b\xc3"),
	                    "a b");
	assert_string_equal(norm("\xed\xa0\x80x"), "x"); /* surrogate */
}

/* test_tn_bounds - cap is respected, UTF-8 never cut, NULLs are fine */
static void
test_tn_bounds(void **state)
{
	char   small[6];
	size_t n;

	(void)state;
	n = tn_normalise("abcdefghij", small, sizeof(small));
	assert_int_equal(n, 5);
	assert_string_equal(small, "abcde");
	n = tn_normalise("abcd\xc3\xa9z", small, sizeof(small)); /* é folds to e */
	assert_string_equal(small, "abcde");
	n = tn_normalise("abcd\xe2\x82\xac", small, sizeof(small)); /* € does not fit */
	assert_int_equal(n, 4);
	assert_string_equal(small, "abcd");
	assert_int_equal(tn_normalise("abc", small, 0), 0);
	assert_int_equal(tn_normalise("abc", NULL, 10), 0);
	n = tn_normalise(NULL, small, sizeof(small));
	assert_int_equal(n, 0);
	assert_string_equal(small, "");
	n = tn_normalise("abc", small, 1);
	assert_int_equal(n, 0);
	assert_string_equal(small, "");
}

struct toks {
	char   out[256];
	size_t n;
};

/* tok_cb - join tokens with '|' */
static void
tok_cb(const char *tok, size_t len, void *arg)
{
	struct toks *t = arg;
	size_t       used = strlen(t->out);

	snprintf(t->out + used, sizeof(t->out) - used, "%s%.*s", t->n ? "|" : "", (int)len, tok);
	t->n++;
}

/* tokens - tokenise a normalised string into "a|b|c" */
static const char *
tokens(const char *s)
{
	static struct toks t;

	memset(&t, 0, sizeof(t));
	tn_tokens(s, tok_cb, &t);
	return t.out;
}

/* test_tn_tokens - words, apostrophes, punctuation, digits */
/* tn_in_terms: whole terms of a '|' list, phrases included, nothing else */
static void
test_tn_in_terms(void **state)
{
	(void)state;
	assert_true(tn_in_terms("smoke|on fire|fire", "fire", 4));
	assert_true(tn_in_terms("smoke|on fire|fire", "on fire", 7));
	assert_true(tn_in_terms("smoke|on fire|fire", "smoke", 5));
	assert_true(tn_in_terms("smoke|on fire|fire", "fire alarm", 4)); /* n bytes of word */
	assert_false(tn_in_terms("fire alarm|smoke", "fire", 4));
	assert_false(tn_in_terms("smoke|fire", "fir", 3));
	assert_false(tn_in_terms("smoke|fire", "fires", 5));
	assert_false(tn_in_terms("", "fire", 4));
	assert_false(tn_in_terms(NULL, "fire", 4));
	assert_true(tn_in_terms("a||b", "b", 1));
}

static void
test_tn_tokens(void **state)
{
	(void)state;
	assert_string_equal(tokens("can't book bay 4, at 7pm!"), "can't|book|bay|4|at|7pm");
	assert_string_equal(tokens("'quoted' words''"), "quoted|words");
	assert_string_equal(tokens("--- ... '' !!"), "");
	assert_string_equal(tokens(""), "");
	assert_string_equal(tokens("e-mail gmail.com"), "e|mail|gmail|com");
	assert_string_equal(tokens("caf\xc3\xa9s ok"), "caf\xc3\xa9s|ok");
	tn_tokens(NULL, tok_cb, NULL);
	tn_tokens("abc", NULL, NULL);
}

/* ---------------------------------------------------------------------
 * A small, separable data set
 */

static const clf_example toy[] = {
    {"what is the weather today", "weather"},
    {"will it rain tomorrow", "weather"},
    {"is it going to be sunny this weekend", "weather"},
    {"how cold is it outside", "weather"},
    {"weather forecast for saturday", "weather"},
    {"do i need an umbrella today", "weather"},
    {"is it snowing right now", "weather"},
    {"what's the temperature outside", "weather"},
    {"book a bay for tonight at 8", "booking"},
    {"i want to reserve a simulator for two hours", "booking"},
    {"can i book a bay tomorrow morning", "booking"},
    {"reserve bay 3 for saturday afternoon", "booking"},
    {"make a booking for four people", "booking"},
    {"is there a bay free tonight to book", "booking"},
    {"i'd like to book a session next friday", "booking"},
    {"schedule a simulator reservation for sunday", "booking"},
    {"play some music", "music"},
    {"put on a song by the beatles", "music"},
    {"turn the music up", "music"},
    {"play my playlist", "music"},
    {"can you play some jazz", "music"},
    {"next song please", "music"},
    {"skip this track", "music"},
    {"play rock music in bay 2", "music"},
    {"hello there", "greeting"},
    {"hi how are you", "greeting"},
    {"good morning", "greeting"},
    {"hey", "greeting"},
    {"good evening to you", "greeting"},
    {"hello friend", "greeting"},
    {"hi there", "greeting"},
    {"hey how's it going", "greeting"},
    {"who won the hockey game", "oos"},
    {"help me with my math homework", "oos"},
    {"what is the capital of peru", "oos"},
    {"recommend a movie", "oos"},
    {"how do i fix my car engine", "oos"},
    {"write me a poem about cats", "oos"},
};
#define NTOY (sizeof(toy) / sizeof(toy[0]))

static clf_model *toy_model;

/* toy_params - quick settings for the small set */
static void
toy_params(clf_params *p)
{
	clf_params_default(p);
	p->epochs = 30;
	p->seed = 7;
	p->holdout = 0.15;
}

/* setup_toy - train once for the tests that only read the model */
static int
setup_toy(void **state)
{
	clf_params p;
	char       err[128];

	(void)state;
	toy_params(&p);
	toy_model = clf_train(toy, NTOY, &p, err, sizeof(err));
	return toy_model ? 0 : -1;
}

/* teardown_toy - free the shared model */
static int
teardown_toy(void **state)
{
	(void)state;
	clf_free(toy_model);
	toy_model = NULL;
	return 0;
}

/* top_label - name of the most probable label */
static const char *
top_label(const clf_model *m, const char *text, double *prob)
{
	clf_score s;

	assert_int_equal(clf_predict(m, text, &s, 1), 1);
	if (prob)
		*prob = s.prob;
	return clf_label_name(m, s.label);
}

/* test_toy_learnt - every training item and close paraphrases come back right */
static void
test_toy_learnt(void **state)
{
	size_t i;

	(void)state;
	assert_int_equal(clf_nlabels(toy_model), 5);
	for (i = 0; i < NTOY; i++)
		assert_string_equal(top_label(toy_model, toy[i].text, NULL), toy[i].label);
	assert_string_equal(top_label(toy_model, "WILL IT RAIN on saturday?", NULL), "weather");
	assert_string_equal(top_label(toy_model, "book me a bay for 2 hours tonight", NULL),
	                    "booking");
	assert_string_equal(top_label(toy_model, "play a jazz song", NULL), "music");
	assert_string_equal(top_label(toy_model, "hello, good morning!", NULL), "greeting");
}

/* test_toy_probs - top-k is sorted, sums to 1 over all labels, k is clamped */
static void
test_toy_probs(void **state)
{
	clf_score s[8];
	size_t    n, i;
	double    sum = 0;

	(void)state;
	n = clf_predict(toy_model, "is it sunny tomorrow", s, 8);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		assert_true(s[i].prob >= 0 && s[i].prob <= 1);
		assert_true(s[i].label >= 0 && s[i].label < 5);
		if (i > 0)
			assert_true(s[i - 1].prob >= s[i].prob);
		sum += s[i].prob;
	}
	assert_true(fabs(sum - 1.0) < 1e-6);
	n = clf_predict(toy_model, "is it sunny tomorrow", s, 2);
	assert_int_equal(n, 2);
	assert_int_equal(clf_predict(toy_model, "x", s, 0), 0);
	assert_int_equal(clf_predict(NULL, "x", s, 1), 0);
	assert_int_equal(clf_predict(toy_model, NULL, s, 1), 0);
	assert_int_equal(clf_predict(toy_model, "x", NULL, 1), 0);
}

/* test_toy_calibration - sure of clear items, unsure of gibberish */
static void
test_toy_calibration(void **state)
{
	double      p_clear, p_gib;
	const char *g;

	(void)state;
	assert_true(clf_temperature(toy_model) > 0.01 && clf_temperature(toy_model) < 100);
	top_label(toy_model, "will it rain tomorrow", &p_clear);
	g = top_label(toy_model, "qzxv blorf wibble snark", &p_gib);
	assert_true(p_clear > 0.5);
	assert_true(p_gib < p_clear);
	/* the router's rule: top label oos or top probability under the threshold */
	assert_true(strcmp(g, "oos") == 0 || p_gib < 0.5);
}

/* test_toy_threshold - a threshold separates in-scope from nonsense */
static void
test_toy_threshold(void **state)
{
	static const char *const in[] = {
	    "what is the weather today",
	    "book a bay for tonight",
	    "play some music",
	    "hello there",
	};
	static const char *const out[] = {"zzzz", "", "1234 5678", "\xf0\x9f\x8f\x8c"};
	const double             th = 0.35;
	size_t                   i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		double      p;
		const char *l = top_label(toy_model, in[i], &p);

		assert_true(strcmp(l, "oos") != 0 && p >= th);
	}
	for (i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		double      p, q;
		const char *l = top_label(toy_model, out[i], &p);

		top_label(toy_model, in[0], &q);
		assert_true(strcmp(l, "oos") == 0 || p < q);
	}
}

/* test_toy_hostile - unknown words, empty, huge and broken input do not crash */
static void
test_toy_hostile(void **state)
{
	clf_score s[3];
	char     *big;
	size_t    i;

	(void)state;
	assert_int_equal(clf_predict(toy_model, "", s, 3), 3);
	assert_int_equal(clf_predict(toy_model, "xylophonic quasar grumbles", s, 3), 3);
	assert_int_equal(clf_predict(toy_model, "\xff\xfe\xc3\x28\xe2\x82", s, 3), 3);
	assert_int_equal(clf_predict(toy_model, "''''''----!!!!", s, 3), 3);
	big = malloc(10 * 1024 + 1);
	assert_non_null(big);
	for (i = 0; i < 10 * 1024; i++)
		big[i] = "abcdefgh ij'KLM\xc3\xa9"[i % 16];
	big[10 * 1024] = '\0';
	assert_int_equal(clf_predict(toy_model, big, s, 3), 3);
	memset(big, 'a', 10 * 1024); /* one enormous word */
	assert_int_equal(clf_predict(toy_model, big, s, 3), 3);
	memset(big, ' ', 10 * 1024);
	assert_int_equal(clf_predict(toy_model, big, s, 3), 3);
	for (i = 0; i < 10 * 1024; i++) /* thousands of tiny words */
		big[i] = (i % 2) ? ' ' : (char)('a' + i % 26);
	assert_int_equal(clf_predict(toy_model, big, s, 3), 3);
	free(big);
}

/* test_toy_labels - names and indices round-trip */
static void
test_toy_labels(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < clf_nlabels(toy_model); i++) {
		const char *n = clf_label_name(toy_model, (int)i);

		assert_non_null(n);
		assert_int_equal(clf_label_index(toy_model, n), (int)i);
	}
	assert_int_equal(clf_label_index(toy_model, "nope"), -1);
	assert_int_equal(clf_label_index(toy_model, NULL), -1);
	assert_int_equal(clf_label_index(NULL, "music"), -1);
	assert_null(clf_label_name(toy_model, -1));
	assert_null(clf_label_name(toy_model, 99));
	assert_null(clf_label_name(NULL, 0));
	assert_int_equal(clf_nlabels(NULL), 0);
	assert_true(clf_memory(toy_model) > 0);
	assert_true(clf_nfeatures(toy_model) > 0);
	clf_free(NULL);
}

/* test_determinism - same seed, same model, whatever the thread count */
static void
test_determinism(void **state)
{
	static const char *const probe[] = {
	    "will it rain", "book bay 2", "play jazz", "hi", "what is the capital of chile", "qqq",
	};
	clf_params p;
	clf_model *a, *b;
	char       err[128];
	size_t     i, k;

	(void)state;
	toy_params(&p);
	a = clf_train(toy, NTOY, &p, err, sizeof(err));
	p.threads = 2;
	b = clf_train(toy, NTOY, &p, err, sizeof(err));
	assert_non_null(a);
	assert_non_null(b);
	assert_true(clf_temperature(a) == clf_temperature(b));
	for (i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		clf_score sa[5], sb[5], sc[5];

		assert_int_equal(clf_predict(a, probe[i], sa, 5), 5);
		assert_int_equal(clf_predict(b, probe[i], sb, 5), 5);
		assert_int_equal(clf_predict(toy_model, probe[i], sc, 5), 5);
		for (k = 0; k < 5; k++) {
			assert_int_equal(sa[k].label, sb[k].label);
			assert_true(sa[k].prob == sb[k].prob);
			assert_int_equal(sa[k].label, sc[k].label);
			assert_true(sa[k].prob == sc[k].prob);
		}
	}
	clf_free(a);
	clf_free(b);
}

/* test_train_errors - bad input is refused with a message */
static void
test_train_errors(void **state)
{
	clf_example one[] = {{"a", "x"}, {"b", "x"}};
	clf_example bad[] = {{"a", "x"}, {NULL, "y"}};
	clf_example nolab[] = {{"a", "x"}, {"b", ""}};
	clf_params  p;
	char        err[128];

	(void)state;
	err[0] = '\0';
	assert_null(clf_train(NULL, 3, NULL, err, sizeof(err)));
	assert_true(err[0] != '\0');
	assert_null(clf_train(toy, 0, NULL, err, sizeof(err)));
	assert_null(clf_train(one, 2, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "two labels"));
	assert_null(clf_train(bad, 2, NULL, err, sizeof(err)));
	assert_null(clf_train(nolab, 2, NULL, NULL, 0));
	clf_params_default(&p);
	p.epochs = 0;
	assert_null(clf_train(toy, NTOY, &p, err, sizeof(err)));
	clf_params_default(&p);
	p.char_min = 5;
	p.char_max = 3;
	assert_null(clf_train(toy, NTOY, &p, err, sizeof(err)));
	clf_params_default(&p);
	p.holdout = 0.9;
	assert_null(clf_train(toy, NTOY, &p, err, sizeof(err)));
	clf_params_default(&p);
	p.l2 = -1;
	assert_null(clf_train(toy, NTOY, &p, err, sizeof(err)));
	clf_params_default(NULL);
}

/* test_no_holdout - holdout 0 keeps T = 1; two examples are enough */
static void
test_no_holdout(void **state)
{
	clf_example two[] = {{"yes", "a"}, {"no", "b"}};
	clf_params  p;
	clf_model  *m;

	(void)state;
	clf_params_default(&p);
	p.holdout = 0;
	m = clf_train(two, 2, &p, NULL, 0);
	assert_non_null(m);
	assert_true(clf_temperature(m) == 1.0);
	assert_string_equal(top_label(m, "yes", NULL), "a");
	assert_string_equal(top_label(m, "no", NULL), "b");
	clf_free(m);
	/* with the default holdout, tiny labels stay whole: still trains */
	clf_params_default(&p);
	m = clf_train(two, 2, &p, NULL, 0);
	assert_non_null(m);
	clf_free(m);
}

struct worker {
	const char *text;
	clf_score   want;
	int         ok;
};

/* worker_run - predict many times and compare with the serial answer */
static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	int            i;

	w->ok = 1;
	for (i = 0; i < 2000; i++) {
		clf_score s;

		if (clf_predict(toy_model, w->text, &s, 1) != 1 || s.label != w->want.label ||
		    s.prob != w->want.prob)
			w->ok = 0;
	}
	return NULL;
}

/* test_threads - concurrent predictions on one model agree with serial ones */
static void
test_threads(void **state)
{
	static const char *const texts[] = {
	    "will it rain", "book a bay", "play a song", "hello", "", "what",
	};
	struct worker w[6];
	pthread_t     th[6];
	size_t        i;

	(void)state;
	for (i = 0; i < 6; i++) {
		w[i].text = texts[i];
		assert_int_equal(clf_predict(toy_model, texts[i], &w[i].want, 1), 1);
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_true(w[i].ok);
	}
}

/* test_vectors - cosine 1 for the same text, lower for others, 0 for nothing */
static void
test_vectors(void **state)
{
	svec   a, b, c, d, e;
	double n2;
	size_t i;

	(void)state;
	assert_int_equal(clf_featurize(toy_model, "Can I book a bay tonight?", &a), 0);
	assert_int_equal(clf_featurize(toy_model, "can i book a bay tonight", &b), 0);
	assert_int_equal(clf_featurize(toy_model, "can i book a bay tomorrow night", &c), 0);
	assert_int_equal(clf_featurize(toy_model, "play some jazz music", &d), 0);
	assert_int_equal(clf_featurize(toy_model, "", &e), 0);
	assert_true(a.n > 0);
	for (i = 1; i < a.n; i++)
		assert_true(a.idx[i - 1] < a.idx[i]);
	for (i = 0, n2 = 0; i < a.n; i++)
		n2 += (double)a.val[i] * a.val[i];
	assert_true(fabs(n2 - 1.0) < 1e-5);
	assert_true(fabs(svec_dot(&a, &a) - 1.0) < 1e-5);
	assert_true(fabs(svec_dot(&a, &b) - 1.0) < 1e-5); /* same after normalising */
	assert_true(svec_dot(&a, &c) < 0.99);
	assert_true(svec_dot(&a, &c) > svec_dot(&a, &d));
	assert_true(svec_dot(&a, &d) < 0.3);
	assert_int_equal(e.n, 0);
	assert_true(svec_dot(&a, &e) == 0);
	assert_true(fabs(svec_dot(&a, &c) - svec_dot(&c, &a)) < 1e-12);
	/* unknown words still make texts similar */
	{
		svec u, v;

		assert_int_equal(clf_featurize(toy_model, "zorblax quintessence", &u), 0);
		assert_int_equal(clf_featurize(toy_model, "zorblax quintessence!", &v), 0);
		assert_true(fabs(svec_dot(&u, &v) - 1.0) < 1e-5);
		svec_free(&u);
		svec_free(&v);
	}
	assert_int_equal(clf_featurize(NULL, "x", &e), -1);
	assert_int_equal(clf_featurize(toy_model, NULL, &e), -1);
	assert_int_equal(clf_featurize(toy_model, "x", NULL), -1);
	assert_true(svec_dot(NULL, &a) == 0);
	svec_free(&a);
	svec_free(&b);
	svec_free(&c);
	svec_free(&d);
	svec_free(&e);
	svec_free(&e);
	svec_free(NULL);
}

/* main - run the groups */
int
main(void)
{
	const struct CMUnitTest tn[] = {
	    cmocka_unit_test(test_tn_basic),    cmocka_unit_test(test_tn_unicode),
	    cmocka_unit_test(test_tn_bounds),   cmocka_unit_test(test_tn_tokens),
	    cmocka_unit_test(test_tn_in_terms),
	};
	const struct CMUnitTest clf[] = {
	    cmocka_unit_test(test_toy_learnt),      cmocka_unit_test(test_toy_probs),
	    cmocka_unit_test(test_toy_calibration), cmocka_unit_test(test_toy_threshold),
	    cmocka_unit_test(test_toy_hostile),     cmocka_unit_test(test_toy_labels),
	    cmocka_unit_test(test_determinism),     cmocka_unit_test(test_train_errors),
	    cmocka_unit_test(test_no_holdout),      cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_vectors),
	};
	int fails = 0;

	fails += cmocka_run_group_tests_name("textnorm", tn, NULL, NULL);
	fails += cmocka_run_group_tests_name("clf", clf, setup_toy, teardown_toy);
	return fails ? 1 : 0;
}
