/*
 * eval.c - clubos-cache-eval: measure the semantic cache
 *
 * Run by hand and by tests/eval/cache_eval.sh, on public intent data
 * (BANKING77) and on our own near-miss pairs (tests/eval/near_miss.jsonl):
 *
 *   clubos-cache-eval --fill FILE --probe FILE [options]
 *   clubos-cache-eval [--fill FILE] --pairs FILE [options]
 *
 * It uses the router's own mechanism (cache/cache.h, router/clf.h): a
 * classifier is trained on the fill texts (clf_params_default), and each
 * fill text goes into an L1 tier under cache_key("eval", text) with its
 * label as both label and value, version 1, its clf_featurize() vector and
 * its cache_guard().  A probe is looked up exactly first; on a miss the
 * classifier's top label, if its calibrated probability reaches --min-prob,
 * picks the bucket that cache_l1_similar() scans with the probe's vector,
 * guard and --threshold.  A hit is false when the stored label (the value)
 * differs from the probe's label.  One JSON object goes to stdout:
 *
 *   {"probes", "hits", "false_hits", "false_hit_ratio", "hit_rate",
 *    "p50_us", "p99_us"}
 *
 * false_hit_ratio = false_hits / hits (0 without hits), hit_rate = hits /
 * probes; the latencies are the wall time of a whole lookup (key, exact
 * get, and on an exact miss predict + featurize + guard + similar).  A
 * text too long for a key is neither cached nor looked up (a miss).  The
 * tier holds --entries N entries (default: one per fill text, so nothing
 * is evicted).
 *
 * With --pairs FILE (JSON lines {"fill", "fill_label", "probe",
 * "probe_label"}) the classifier is trained on the --fill file (optional)
 * plus both sides of every pair, the cache holds every pair's fill side and
 * the probes are the pairs' probe sides; every false hit is listed on
 * stderr.  --sweep prints hit rate and false-hit ratio over a grid of
 * minimum probabilities and thresholds (one line each, with the counts, so
 * that several splits add up), --verbose the latency of each part,
 * --errors every false hit, --list every hit (with the fill text it most
 * likely came from).  Errors go to stderr with exit status 2.
 */
#include "cache/cache.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "router/clf.h"
#include "router/evaltool.h"

/*
 * The classifier's top label must have at least this calibrated
 * probability before its bucket is searched: the router's setting when
 * cache.h has one, else the value chosen by 10-fold cross-validation on
 * BANKING77 train (docs/cache.md).
 */
#ifdef CACHE_SEMANTIC_MIN_PROB
#define CE_MIN_PROB_DEFAULT CACHE_SEMANTIC_MIN_PROB
#else
#define CE_MIN_PROB_DEFAULT 0.99
#endif
#define CE_SCOPE "eval"
#define CE_TTL_S 86400
#define CE_ENTRIES_MAX 10000000

/* A column of a JSON lines file: its name, and whether it is a label. */
struct ce_col {
	const char *name;
	int         label; /* must be a non-empty string */
};

static const struct ce_col ce_text_cols[] = {{"text", 0}, {"label", 1}};
static const struct ce_col ce_pair_cols[] = {
    {"fill", 0}, {"fill_label", 1}, {"probe", 0}, {"probe_label", 1}};

/* The strings of a loaded file, ncol a row. */
struct ce_rows {
	char **s;
	size_t ncol, n, cap;
};

#define CE_AT(r, i, c) ((r)->s[(i) * (r)->ncol + (c)])

/* A list of (text, label) borrowed from loaded rows. */
struct ce_list {
	clf_example *ex;
	size_t       n, cap;
};

/* What happened to one probe. */
struct ce_probe {
	double us;                 /* the whole lookup */
	double us_exact;           /* cache_key + cache_l1_get */
	double us_model;           /* clf_predict + clf_featurize + cache_guard; -1 not reached */
	double us_sim;             /* cache_l1_similar; -1 not reached */
	int    keyless;            /* too long for a key: never looked up */
	int    exact, exact_false; /* exact hit, and with another label */
	int    hit, false_hit;     /* at the chosen setting */
	double prob;               /* top calibrated probability (--sweep) */
	double best;               /* best similarity in the top label's bucket; -1 none */
	int    best_false;         /* that entry's label differs from the probe's */
};

/* ce_usage - print the synopsis */
static void
ce_usage(void)
{
	fprintf(stderr,
	        "usage: clubos-cache-eval --fill FILE --probe FILE [--threshold X]\n"
	        "       [--min-prob X] [--entries N] [--sweep] [--verbose] [--errors] [--list]\n"
	        "       clubos-cache-eval [--fill FILE] --pairs FILE [same options]\n");
}

/* ce_rows_free - release a loaded file */
static void
ce_rows_free(struct ce_rows *r)
{
	for (size_t i = 0; i < r->n * r->ncol; i++)
		free(r->s[i]);
	free(r->s);
	r->s = NULL;
	r->n = r->cap = 0;
}

/* ce_line_blank - only white space */
static int
ce_line_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* ce_row_add - parse one JSON line into the next row; -1 with a message */
static int
ce_row_add(const char *path, size_t lineno, const char *line, size_t len, const struct ce_col *cols,
           struct ce_rows *r)
{
	cJSON *o = cJSON_ParseWithLength(line, len);
	size_t c;

	if (!cJSON_IsObject(o))
		goto bad;
	for (c = 0; c < r->ncol; c++) {
		cJSON *f = cJSON_GetObjectItemCaseSensitive(o, cols[c].name);

		if (!cJSON_IsString(f) || f->valuestring == NULL ||
		    (cols[c].label && f->valuestring[0] == '\0'))
			goto bad;
	}
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 1024;
		char **ns = realloc(r->s, ncap * r->ncol * sizeof(*ns));

		if (ns == NULL)
			goto oom;
		r->s = ns;
		r->cap = ncap;
	}
	for (c = 0; c < r->ncol; c++) {
		cJSON *f = cJSON_GetObjectItemCaseSensitive(o, cols[c].name);

		if ((CE_AT(r, r->n, c) = strdup(f->valuestring)) == NULL) {
			while (c-- > 0)
				free(CE_AT(r, r->n, c));
			goto oom;
		}
	}
	r->n++;
	cJSON_Delete(o);
	return 0;
bad:
	fprintf(stderr, "clubos-cache-eval: %s:%zu: not a JSON object with string", path, lineno);
	for (c = 0; c < r->ncol; c++)
		fprintf(stderr, "%s \"%s\"",
		        c == 0             ? ""
		        : c + 1 == r->ncol ? " and"
		                           : ",",
		        cols[c].name);
	fprintf(stderr, " (labels not empty)\n");
	cJSON_Delete(o);
	return -1;
oom:
	fprintf(stderr, "clubos-cache-eval: out of memory\n");
	cJSON_Delete(o);
	return -1;
}

/* ce_load - read a JSON lines file of ncol string columns; -1 with a message */
static int
ce_load(const char *path, const struct ce_col *cols, size_t ncol, struct ce_rows *r)
{
	FILE   *f;
	char   *line = NULL;
	size_t  lcap = 0, lineno = 0;
	ssize_t len;
	int     rc = -1;

	r->ncol = ncol;
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "clubos-cache-eval: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &lcap, f)) != -1) {
		lineno++;
		if (ce_line_blank(line, (size_t)len))
			continue;
		if (ce_row_add(path, lineno, line, (size_t)len, cols, r) < 0)
			goto done;
	}
	if (ferror(f)) {
		fprintf(stderr, "clubos-cache-eval: %s: read error\n", path);
		goto done;
	}
	if (r->n == 0) {
		fprintf(stderr, "clubos-cache-eval: %s: no examples\n", path);
		goto done;
	}
	rc = 0;
done:
	free(line);
	fclose(f);
	return rc;
}

/* ce_list_add - append a borrowed (text, label); -1 when out of memory */
static int
ce_list_add(struct ce_list *l, const char *text, const char *label)
{
	if (l->n == l->cap) {
		size_t       ncap = l->cap ? l->cap * 2 : 1024;
		clf_example *nex = realloc(l->ex, ncap * sizeof(*nex));

		if (nex == NULL) {
			fprintf(stderr, "clubos-cache-eval: out of memory\n");
			return -1;
		}
		l->ex = nex;
		l->cap = ncap;
	}
	l->ex[l->n].text = text;
	l->ex[l->n].label = label;
	l->n++;
	return 0;
}

/* ce_list_rows - append columns (t, l) of every row */
static int
ce_list_rows(struct ce_list *l, const struct ce_rows *r, size_t t, size_t lab)
{
	for (size_t i = 0; i < r->n; i++)
		if (ce_list_add(l, CE_AT(r, i, t), CE_AT(r, i, lab)) < 0)
			return -1;
	return 0;
}

/* ce_fill - put every fill text into the cache; -1 when out of memory */
static int
ce_fill(cache_l1 *c, const clf_model *m, const struct ce_list *fill, size_t *skipped)
{
	char key[CACHE_KEY_MAX];

	*skipped = 0;
	for (size_t i = 0; i < fill->n; i++) {
		const clf_example *e = &fill->ex[i];
		svec               v;

		if (cache_key(CE_SCOPE, e->text, key, sizeof(key)) < 0) {
			(*skipped)++; /* too long to be cached at all */
			continue;
		}
		if (clf_featurize(m, e->text, &v) < 0 ||
		    cache_l1_put(c, key, CE_SCOPE, e->label, 1, e->label, &v,
		                 cache_guard(e->text)) < 0) {
			svec_free(&v);
			fprintf(stderr, "clubos-cache-eval: out of memory filling the cache\n");
			return -1;
		}
	}
	return 0;
}

/*
 * ce_lookup - one probe the router's way, timed; fills p->hit and friends.
 * Returns -1 when out of memory.
 */
static int
ce_lookup(cache_l1 *c, const clf_model *m, const clf_example *pr, double th, double min_prob,
          struct ce_probe *p)
{
	char             key[CACHE_KEY_MAX];
	struct cache_hit hit;
	clf_score        top;
	svec             v;
	double           t0, t1, t2;
	uint64_t         guard;
	int              r = 0;

	memset(p, 0, sizeof(*p));
	p->us_model = p->us_sim = -1;
	t0 = et_now_us();
	if (cache_key(CE_SCOPE, pr->text, key, sizeof(key)) < 0) {
		/* not cacheable: the router would not look */
		p->keyless = 1;
		p->us = p->us_exact = et_now_us() - t0;
		return 0;
	}
	r = cache_l1_get(c, key, &hit);
	t1 = et_now_us();
	p->us_exact = t1 - t0;
	if (r == 1) {
		p->exact = p->hit = 1;
		p->exact_false = p->false_hit = strcmp(hit.value, pr->label) != 0;
		free(hit.value);
		p->us = t1 - t0;
		return 0;
	}
	if (clf_predict(m, pr->text, &top, 1) == 1 && top.prob >= min_prob) {
		const char *name = clf_label_name(m, top.label);

		if (clf_featurize(m, pr->text, &v) < 0)
			return -1;
		guard = cache_guard(pr->text);
		t2 = et_now_us();
		p->us_model = t2 - t1;
		r = cache_l1_similar(c, key, CE_SCOPE, name, &v, guard, th, &hit);
		p->us_sim = et_now_us() - t2;
		svec_free(&v);
		if (r == 1) {
			p->hit = 1;
			p->false_hit = strcmp(hit.value, pr->label) != 0;
			free(hit.value);
		}
	}
	p->us = et_now_us() - t0;
	return 0;
}

/*
 * ce_best - for --sweep: the top probability and the best similarity in
 * the top label's bucket at any threshold (untimed).  -1 when out of memory.
 */
static int
ce_best(cache_l1 *c, const clf_model *m, const clf_example *pr, struct ce_probe *p)
{
	char             key[CACHE_KEY_MAX];
	struct cache_hit hit;
	clf_score        top;
	svec             v;

	p->prob = -1;
	p->best = -1;
	if (p->keyless || cache_key(CE_SCOPE, pr->text, key, sizeof(key)) < 0 ||
	    clf_predict(m, pr->text, &top, 1) != 1)
		return 0;
	p->prob = top.prob;
	if (clf_featurize(m, pr->text, &v) < 0)
		return -1;
	if (cache_l1_similar(c, key, CE_SCOPE, clf_label_name(m, top.label), &v,
	                     cache_guard(pr->text), 0.0, &hit) == 1) {
		p->best = hit.similarity;
		p->best_false = strcmp(hit.value, pr->label) != 0;
		free(hit.value);
	}
	svec_free(&v);
	return 0;
}

/*
 * ce_sweep - hit rate and false-hit ratio over a grid of minimum
 * probabilities and thresholds, one line each (counts too, so that runs
 * over several splits can be added up)
 */
static void
ce_sweep(const struct ce_probe *p, size_t n)
{
	static const double mps[] = {0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995};

	fprintf(stderr, "sweep: min_prob threshold probes hits false_hits hit_rate "
	                "false_hit_ratio\n");
	for (size_t j = 0; j < sizeof(mps) / sizeof(mps[0]); j++)
		for (int ti = 300; ti <= 950; ti += 25) {
			double th = ti / 1000.0;
			size_t hits = 0, fh = 0;

			for (size_t i = 0; i < n; i++) {
				if (p[i].exact) {
					hits++;
					fh += (size_t)p[i].exact_false;
				} else if (p[i].prob >= mps[j] && p[i].best >= th) {
					hits++;
					fh += (size_t)p[i].best_false;
				}
			}
			fprintf(stderr, "sweep: %.3f %.3f %zu %zu %zu %.4f %.4f\n", mps[j], th, n,
			        hits, fh, (double)hits / (double)n,
			        hits ? (double)fh / (double)hits : 0.0);
		}
}

/* ce_pctl - the q-quantile (nearest rank below) of the non-negative values */
static double
ce_pctl(const struct ce_probe *p, size_t n, size_t field, double q, size_t *count)
{
	double *a = malloc((n ? n : 1) * sizeof(*a)), r = 0;
	size_t  k = 0;

	*count = 0;
	if (a == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		double v = *(const double *)(const void *)((const char *)&p[i] + field);

		if (v >= 0)
			a[k++] = v;
	}
	if (k > 0) {
		qsort(a, k, sizeof(*a), et_dblcmp);
		r = a[(size_t)((double)(k - 1) * q)];
	}
	*count = k;
	free(a);
	return r;
}

/* ce_breakdown - --verbose: latency of each part, and the tier's counters */
static void
ce_breakdown(cache_l1 *c, const struct ce_probe *p, size_t n)
{
	static const struct {
		const char *name;
		size_t      off;
	} parts[] = {
	    {"whole lookup", offsetof(struct ce_probe, us)},
	    {"exact (cache_key + cache_l1_get)", offsetof(struct ce_probe, us_exact)},
	    {"predict + featurize + guard", offsetof(struct ce_probe, us_model)},
	    {"cache_l1_similar alone", offsetof(struct ce_probe, us_sim)},
	};
	struct cache_stats st;
	size_t             exact = 0, k;

	for (size_t i = 0; i < n; i++)
		exact += (size_t)p[i].exact;
	for (size_t j = 0; j < sizeof(parts) / sizeof(parts[0]); j++) {
		double p50 = ce_pctl(p, n, parts[j].off, 0.5, &k);
		double p99 = ce_pctl(p, n, parts[j].off, 0.99, &k);

		fprintf(stderr, "latency %-34s n=%-6zu p50=%.1f us p99=%.1f us\n", parts[j].name, k,
		        p50, p99);
	}
	cache_l1_stats(c, &st);
	fprintf(stderr,
	        "cache: %llu entries, %llu bytes, %zu exact hits, %llu semantic hits, "
	        "%llu evictions\n",
	        (unsigned long long)st.entries, (unsigned long long)st.bytes, exact,
	        (unsigned long long)st.semantic_hits, (unsigned long long)st.evictions);
}

/* ce_explain - --errors, --list: which fill text a hit most likely came from */
static void
ce_explain(const clf_model *m, const struct ce_list *fill, const clf_example *pr,
           const struct ce_probe *p)
{
	svec        pv, fv;
	uint64_t    g = cache_guard(pr->text);
	const char *best = NULL, *blabel = "";
	double      bs = -1;
	clf_score   top;

	const char *what = p->false_hit ? "false hit" : "hit";

	if (p->exact) {
		fprintf(stderr, "%s (exact): \"%s\" [%s]\n", what, pr->text, pr->label);
		return;
	}
	if (clf_predict(m, pr->text, &top, 1) != 1 || clf_featurize(m, pr->text, &pv) < 0)
		return;
	for (size_t i = 0; i < fill->n; i++) {
		double s;

		if (strcmp(fill->ex[i].label, clf_label_name(m, top.label)) != 0 ||
		    cache_guard(fill->ex[i].text) != g ||
		    clf_featurize(m, fill->ex[i].text, &fv) < 0)
			continue;
		s = svec_dot(&pv, &fv);
		svec_free(&fv);
		if (s > bs) {
			bs = s;
			best = fill->ex[i].text;
			blabel = fill->ex[i].label;
		}
	}
	svec_free(&pv);
	fprintf(stderr, "%s (semantic, p=%.3f, cos=%.3f): \"%s\" [%s] -> \"%s\" [%s]\n", what,
	        top.prob, bs, pr->text, pr->label, best ? best : "?", blabel);
}

/* Options. */
struct ce_opts {
	const char *fillf, *probef, *pairsf;
	double      th, min_prob, entries;
	int         sweep, verbose, errors, list;
};

/* ce_args - parse the command line; 0 go on, 1 done (help), -1 error */
static int
ce_args(int argc, char **argv, struct ce_opts *o)
{
	o->th = CACHE_SEMANTIC_MIN;
	o->min_prob = CE_MIN_PROB_DEFAULT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--sweep") == 0)
			o->sweep = 1;
		else if (strcmp(a, "--verbose") == 0)
			o->verbose = 1;
		else if (strcmp(a, "--errors") == 0)
			o->errors = 1;
		else if (strcmp(a, "--list") == 0)
			o->list = 1;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			ce_usage();
			return 1;
		} else if (i + 1 >= argc) {
			fprintf(stderr, "clubos-cache-eval: %s: missing value or unknown option\n",
			        a);
			return -1;
		} else if (strcmp(a, "--fill") == 0)
			o->fillf = argv[++i];
		else if (strcmp(a, "--probe") == 0)
			o->probef = argv[++i];
		else if (strcmp(a, "--pairs") == 0)
			o->pairsf = argv[++i];
		else if (strcmp(a, "--threshold") == 0) {
			if (et_num("clubos-cache-eval", a, argv[++i], 0, 1, &o->th) < 0)
				return -1;
		} else if (strcmp(a, "--min-prob") == 0) {
			if (et_num("clubos-cache-eval", a, argv[++i], 0, 1, &o->min_prob) < 0)
				return -1;
		} else if (strcmp(a, "--entries") == 0) {
			if (et_num("clubos-cache-eval", a, argv[++i], 1, CE_ENTRIES_MAX,
			           &o->entries) < 0)
				return -1;
		} else {
			fprintf(stderr, "clubos-cache-eval: unknown option %s\n", a);
			return -1;
		}
	}
	if (o->pairsf != NULL && o->probef != NULL) {
		fprintf(stderr, "clubos-cache-eval: --pairs and --probe exclude each other\n");
		return -1;
	}
	if (o->pairsf == NULL && (o->fillf == NULL || o->probef == NULL)) {
		fprintf(stderr, "clubos-cache-eval: want --fill and --probe, or --pairs\n");
		return -1;
	}
	return 0;
}

/* main - load, train, fill, probe, report */
int
main(int argc, char **argv)
{
	struct ce_opts   o = {0};
	struct ce_rows   fr = {0}, pr = {0}, pairs = {0};
	struct ce_list   train = {0}, fill = {0}, probe = {0};
	struct ce_probe *res = NULL;
	double          *lat = NULL;
	clf_model       *m = NULL;
	cache_l1        *c = NULL;
	clf_params       prm;
	char             err[256];
	size_t           hits = 0, fh = 0, skipped, cap;
	int              rc = 2, a;

	if ((a = ce_args(argc, argv, &o)) != 0) {
		if (a < 0)
			ce_usage();
		return a > 0 ? 0 : 2;
	}
	if (o.fillf != NULL && ce_load(o.fillf, ce_text_cols, 2, &fr) < 0)
		goto done;
	if (o.probef != NULL && ce_load(o.probef, ce_text_cols, 2, &pr) < 0)
		goto done;
	if (o.pairsf != NULL && ce_load(o.pairsf, ce_pair_cols, 4, &pairs) < 0)
		goto done;
	if (ce_list_rows(&train, &fr, 0, 1) < 0)
		goto done;
	if (o.pairsf == NULL) {
		if (ce_list_rows(&fill, &fr, 0, 1) < 0 || ce_list_rows(&probe, &pr, 0, 1) < 0)
			goto done;
	} else if (ce_list_rows(&train, &pairs, 0, 1) < 0 ||
	           ce_list_rows(&train, &pairs, 2, 3) < 0 ||
	           ce_list_rows(&fill, &pairs, 0, 1) < 0 || ce_list_rows(&probe, &pairs, 2, 3) < 0)
		goto done;

	clf_params_default(&prm);
	if ((m = clf_train(train.ex, train.n, &prm, err, sizeof(err))) == NULL) {
		fprintf(stderr, "clubos-cache-eval: train: %s\n", err);
		goto done;
	}
	cap = o.entries > 0 ? (size_t)o.entries : fill.n;
	if ((c = cache_l1_new(cap, SIZE_MAX, CE_TTL_S)) == NULL) {
		fprintf(stderr, "clubos-cache-eval: out of memory\n");
		goto done;
	}
	if (ce_fill(c, m, &fill, &skipped) < 0)
		goto done;
	if (skipped > 0)
		fprintf(stderr,
		        "clubos-cache-eval: %zu fill texts too long for a key, not cached\n",
		        skipped);

	res = calloc(probe.n, sizeof(*res));
	lat = calloc(probe.n, sizeof(*lat));
	if (res == NULL || lat == NULL) {
		fprintf(stderr, "clubos-cache-eval: out of memory\n");
		goto done;
	}
	{
		clf_score warm;

		clf_predict(m, probe.ex[0].text, &warm, 1);
	}
	for (size_t i = 0; i < probe.n; i++) {
		if (ce_lookup(c, m, &probe.ex[i], o.th, o.min_prob, &res[i]) < 0) {
			fprintf(stderr, "clubos-cache-eval: out of memory\n");
			goto done;
		}
		lat[i] = res[i].us;
		hits += (size_t)res[i].hit;
		fh += (size_t)res[i].false_hit;
		if ((res[i].false_hit && (o.errors || o.pairsf != NULL)) || (res[i].hit && o.list))
			ce_explain(m, &fill, &probe.ex[i], &res[i]);
	}
	if (o.verbose)
		ce_breakdown(c, res, probe.n);
	if (o.sweep) {
		for (size_t i = 0; i < probe.n; i++)
			if (!res[i].exact && ce_best(c, m, &probe.ex[i], &res[i]) < 0) {
				fprintf(stderr, "clubos-cache-eval: out of memory\n");
				goto done;
			}
		ce_sweep(res, probe.n);
	}

	qsort(lat, probe.n, sizeof(*lat), et_dblcmp);
	printf("{\"probes\": %zu, \"hits\": %zu, \"false_hits\": %zu, \"false_hit_ratio\": %.4f, "
	       "\"hit_rate\": %.4f, \"p50_us\": %.1f, \"p99_us\": %.1f}\n",
	       probe.n, hits, fh, hits ? (double)fh / (double)hits : 0.0,
	       (double)hits / (double)probe.n, lat[(probe.n - 1) / 2],
	       lat[(size_t)((double)(probe.n - 1) * 0.99)]);
	rc = fflush(stdout) == 0 ? 0 : 2;
done:
	cache_l1_free(c);
	clf_free(m);
	free(res);
	free(lat);
	free(train.ex);
	free(fill.ex);
	free(probe.ex);
	ce_rows_free(&fr);
	ce_rows_free(&pr);
	ce_rows_free(&pairs);
	return rc;
}
