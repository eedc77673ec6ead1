/*
 * route_eval.c - clubos-route-eval: measure the intent classifier
 *
 * Run by hand and by `make bench` on public intent data (CLINC150):
 *
 *   clubos-route-eval --train FILE --test FILE [--threshold X]
 *
 * trains clf.c on FILE (JSON lines {"text", "label"}, label "oos" = out of
 * scope), scores every test line and prints one JSON object:
 * {"in_scope_accuracy", "oos_recall", "oos_precision", "ece", "n_test",
 *  "train_ms", "p50_us", "p99_us"}.
 * A test item is predicted out of scope when the top label is "oos" or its
 * calibrated probability is below the threshold.  ECE: 15 equal-width bins
 * over all test items of the confidence of the final prediction (the
 * probability of the label answered; for an out-of-scope answer, 1 - the
 * probability of the best in-scope label); an item is correct when the
 * final prediction ("oos" counting as a label) equals its true label.
 * Latency is the wall time of one clf_predict() call (top 2).
 *
 * Extra options tune the model (--l2, --epochs, --lr, --oos-weight, ...),
 * --sweep prints the trade-off over thresholds on stderr, --verbose the
 * model's size, --errors every wrong top label.  Errors go to stderr with exit status 2.
 */
#include "router/clf.h"
#include "router/evaltool.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Tuned on CLINC150 val (docs/classifier.md). */
#define RE_THRESHOLD_DEFAULT 0.20
#define RE_ECE_BINS 15
#define RE_OOS "oos"

struct re_set {
	clf_example *ex;
	size_t       n, cap;
};

/* re_usage - print the synopsis */
static void
re_usage(void)
{
	fprintf(stderr, "usage: clubos-route-eval --train FILE --test FILE [--threshold X]\n"
	                "       [--l2 X] [--epochs N] [--lr X] [--oos-weight X] [--holdout X]\n"
	                "       [--seed N] [--threads N] [--char-min N] [--char-max N]\n"
	                "       [--word-ngrams N] [--min-df N] [--max-features N]\n"
	                "       [--w-word X] [--w-bigram X] [--w-char X]\n"
	                "       [--sweep] [--verbose] [--errors]\n");
}

/* re_set_free - release a loaded file */
static void
re_set_free(struct re_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free((void *)(uintptr_t)s->ex[i].text);
		free((void *)(uintptr_t)s->ex[i].label);
	}
	free(s->ex);
	s->ex = NULL;
	s->n = s->cap = 0;
}

/* re_load - read JSON lines {"text","label"}; -1 with a message on stderr */
static int
re_load(const char *path, struct re_set *s)
{
	FILE   *f;
	char   *line = NULL;
	size_t  lcap = 0, lineno = 0;
	ssize_t len;
	int     rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "clubos-route-eval: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &lcap, f)) != -1) {
		cJSON *o, *t, *l;
		char  *ts, *ls;
		size_t i;
		int    blank = 1;

		lineno++;
		for (i = 0; i < (size_t)len; i++)
			if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
				blank = 0;
		if (blank)
			continue;
		o = cJSON_ParseWithLength(line, (size_t)len);
		t = cJSON_GetObjectItemCaseSensitive(o, "text");
		l = cJSON_GetObjectItemCaseSensitive(o, "label");
		if (!cJSON_IsObject(o) || !cJSON_IsString(t) || !cJSON_IsString(l) ||
		    l->valuestring[0] == '\0') {
			fprintf(stderr,
			        "clubos-route-eval: %s:%zu: not a JSON object with "
			        "string \"text\" and \"label\"\n",
			        path, lineno);
			cJSON_Delete(o);
			goto done;
		}
		if (s->n == s->cap) {
			size_t       ncap = s->cap ? s->cap * 2 : 1024;
			clf_example *nex = realloc(s->ex, ncap * sizeof(*nex));

			if (nex == NULL) {
				cJSON_Delete(o);
				fprintf(stderr, "clubos-route-eval: out of memory\n");
				goto done;
			}
			s->ex = nex;
			s->cap = ncap;
		}
		ts = strdup(t->valuestring);
		ls = strdup(l->valuestring);
		cJSON_Delete(o);
		if (ts == NULL || ls == NULL) {
			free(ts);
			free(ls);
			fprintf(stderr, "clubos-route-eval: out of memory\n");
			goto done;
		}
		s->ex[s->n].text = ts;
		s->ex[s->n].label = ls;
		s->n++;
	}
	if (ferror(f)) {
		fprintf(stderr, "clubos-route-eval: %s: read error\n", path);
		goto done;
	}
	if (s->n == 0) {
		fprintf(stderr, "clubos-route-eval: %s: no examples\n", path);
		goto done;
	}
	rc = 0;
done:
	free(line);
	fclose(f);
	return rc;
}

/* Figures of one threshold. */
struct re_fig {
	double acc, rec, prec;
	size_t nin, noos;
};

/* re_figures - in-scope accuracy and oos recall/precision at threshold th */
static void
re_figures(const struct re_set *te, const int *truth_oos, const int *top_ok, const int *top_oos,
           const double *conf, double th, struct re_fig *f)
{
	size_t i, in_ok = 0, oos_hit = 0, pred_oos = 0;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < te->n; i++) {
		int po = top_oos[i] || conf[i] < th;

		pred_oos += po;
		if (truth_oos[i]) {
			f->noos++;
			oos_hit += po;
		} else {
			f->nin++;
			in_ok += !po && top_ok[i];
		}
	}
	f->acc = f->nin ? (double)in_ok / (double)f->nin : 0;
	f->rec = f->noos ? (double)oos_hit / (double)f->noos : 0;
	f->prec = pred_oos ? (double)oos_hit / (double)pred_oos : 0;
}

/* main - parse, train, score, report */
int
main(int argc, char **argv)
{
	const char   *trainf = NULL, *testf = NULL;
	double        th = RE_THRESHOLD_DEFAULT, v, t0, train_ms, ece = 0;
	double       *lat = NULL, *conf = NULL, *best_in = NULL;
	double        bconf[RE_ECE_BINS] = {0}, bacc[RE_ECE_BINS] = {0};
	size_t        bn[RE_ECE_BINS] = {0};
	int          *truth_oos = NULL, *top_ok = NULL, *top_oos = NULL;
	int           sweep = 0, verbose = 0, errors = 0, i, rc = 2;
	struct re_set tr = {NULL, 0, 0}, te = {NULL, 0, 0};
	struct re_fig fig;
	clf_params    p;
	clf_model    *m = NULL;
	char          err[256];
	size_t        k;

	clf_params_default(&p);
	for (i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (strcmp(o, "--sweep") == 0) {
			sweep = 1;
			continue;
		}
		if (strcmp(o, "--verbose") == 0) {
			verbose = 1;
			continue;
		}
		if (strcmp(o, "--errors") == 0) {
			errors = 1;
			continue;
		}
		if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			re_usage();
			return 0;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "clubos-route-eval: %s: missing value or unknown option\n",
			        o);
			re_usage();
			return 2;
		}
		if (strcmp(o, "--train") == 0)
			trainf = argv[++i];
		else if (strcmp(o, "--test") == 0)
			testf = argv[++i];
		else if (strcmp(o, "--threshold") == 0) {
			if (et_num("clubos-route-eval", o, argv[++i], 0, 1, &th) < 0)
				return 2;
		} else {
			/* a model option: a table would hide the types; they are few */
			if (et_num("clubos-route-eval", o, argv[++i], 0, 1e9, &v) < 0)
				return 2;
			if (strcmp(o, "--l2") == 0)
				p.l2 = v;
			else if (strcmp(o, "--epochs") == 0)
				p.epochs = (int)v;
			else if (strcmp(o, "--lr") == 0)
				p.lr = v;
			else if (strcmp(o, "--oos-weight") == 0)
				p.oos_weight = v;
			else if (strcmp(o, "--holdout") == 0)
				p.holdout = v;
			else if (strcmp(o, "--seed") == 0)
				p.seed = (uint32_t)v;
			else if (strcmp(o, "--threads") == 0)
				p.threads = (int)v;
			else if (strcmp(o, "--char-min") == 0)
				p.char_min = (int)v;
			else if (strcmp(o, "--char-max") == 0)
				p.char_max = (int)v;
			else if (strcmp(o, "--word-ngrams") == 0)
				p.word_ngrams = (int)v;
			else if (strcmp(o, "--min-df") == 0)
				p.min_df = (int)v;
			else if (strcmp(o, "--max-features") == 0)
				p.max_features = (size_t)v;
			else if (strcmp(o, "--w-word") == 0)
				p.w_word = v;
			else if (strcmp(o, "--w-bigram") == 0)
				p.w_bigram = v;
			else if (strcmp(o, "--w-char") == 0)
				p.w_char = v;

			else {
				fprintf(stderr, "clubos-route-eval: unknown option %s\n", o);
				re_usage();
				return 2;
			}
		}
	}
	if (trainf == NULL || testf == NULL) {
		re_usage();
		return 2;
	}
	if (re_load(trainf, &tr) < 0 || re_load(testf, &te) < 0)
		goto done;

	t0 = et_now_us();
	m = clf_train(tr.ex, tr.n, &p, err, sizeof(err));
	train_ms = (et_now_us() - t0) / 1e3;
	if (m == NULL) {
		fprintf(stderr, "clubos-route-eval: train: %s\n", err);
		goto done;
	}
	if (verbose)
		fprintf(stderr, "model: %zu labels, %zu features, %.1f MB, T=%.4f\n",
		        clf_nlabels(m), clf_nfeatures(m), (double)clf_memory(m) / 1048576.0,
		        clf_temperature(m));

	lat = calloc(te.n, sizeof(*lat));
	conf = calloc(te.n, sizeof(*conf));
	best_in = calloc(te.n, sizeof(*best_in));
	truth_oos = calloc(te.n, sizeof(int));
	top_ok = calloc(te.n, sizeof(int));
	top_oos = calloc(te.n, sizeof(int));
	if (lat == NULL || conf == NULL || best_in == NULL || truth_oos == NULL || top_ok == NULL ||
	    top_oos == NULL) {
		fprintf(stderr, "clubos-route-eval: out of memory\n");
		goto done;
	}
	{
		clf_score warm;

		clf_predict(m, te.ex[0].text, &warm, 1);
	}
	for (k = 0; k < te.n; k++) {
		clf_score   s[2];
		const char *name;
		double      t1;
		size_t      got;

		t1 = et_now_us();
		got = clf_predict(m, te.ex[k].text, s, 2);
		lat[k] = et_now_us() - t1;
		if (got < 1) {
			fprintf(stderr, "clubos-route-eval: predict failed\n");
			goto done;
		}
		name = clf_label_name(m, s[0].label);
		conf[k] = s[0].prob;
		truth_oos[k] = strcmp(te.ex[k].label, RE_OOS) == 0;
		top_oos[k] = strcmp(name, RE_OOS) == 0;
		top_ok[k] = strcmp(name, te.ex[k].label) == 0;
		best_in[k] = !top_oos[k] ? s[0].prob : got > 1 ? s[1].prob : 0;
		if (errors && !top_ok[k])
			fprintf(stderr, "error: %s -> %s %.3f: %s\n", te.ex[k].label, name,
			        s[0].prob, te.ex[k].text);
	}
	re_figures(&te, truth_oos, top_ok, top_oos, conf, th, &fig);

	/*
	 * ECE over all items.  An item answered in scope has the confidence of
	 * its label; an item rejected as out of scope (top label "oos" or top
	 * probability under the threshold) has 1 - the probability of the best
	 * in-scope label.  It is correct when the final prediction, "oos"
	 * counting as a label, equals the true label.
	 */
	for (k = 0; k < te.n; k++) {
		int    po = top_oos[k] || conf[k] < th;
		int    ok = po ? truth_oos[k] : top_ok[k];
		double cf = po ? 1.0 - best_in[k] : conf[k];
		size_t b = (size_t)(cf * RE_ECE_BINS);

		if (b >= RE_ECE_BINS)
			b = RE_ECE_BINS - 1;
		bn[b]++;
		bconf[b] += cf;
		bacc[b] += ok;
	}
	for (k = 0; k < RE_ECE_BINS; k++) {
		double gap;

		if (bn[k] == 0)
			continue;
		gap = bacc[k] / (double)bn[k] - bconf[k] / (double)bn[k];
		ece += (double)bn[k] / (double)te.n * (gap < 0 ? -gap : gap);
		if (verbose)
			fprintf(stderr, "bin %2zu: n=%zu confidence=%.3f accuracy=%.3f\n", k, bn[k],
			        bconf[k] / (double)bn[k], bacc[k] / (double)bn[k]);
	}

	if (sweep) {
		double s;

		fprintf(stderr, "threshold in_scope_accuracy oos_recall oos_precision\n");
		for (s = 0; s < 0.951; s += 0.025) {
			struct re_fig f;

			re_figures(&te, truth_oos, top_ok, top_oos, conf, s, &f);
			fprintf(stderr, "%.3f %.4f %.4f %.4f\n", s, f.acc, f.rec, f.prec);
		}
	}

	qsort(lat, te.n, sizeof(*lat), et_dblcmp);
	printf("{\"in_scope_accuracy\": %.4f, \"oos_recall\": %.4f, \"oos_precision\": %.4f, "
	       "\"ece\": %.4f, \"n_test\": %zu, \"train_ms\": %.0f, \"p50_us\": %.1f, "
	       "\"p99_us\": %.1f}\n",
	       fig.acc, fig.rec, fig.prec, ece, te.n, train_ms, lat[(te.n - 1) / 2],
	       lat[(size_t)((double)(te.n - 1) * 0.99)]);
	rc = fflush(stdout) == 0 ? 0 : 2;
done:
	clf_free(m);
	re_set_free(&tr);
	re_set_free(&te);
	free(lat);
	free(conf);
	free(best_in);
	free(truth_oos);
	free(top_ok);
	free(top_oos);
	return rc;
}
