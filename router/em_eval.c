/*
 * em_eval.c - clubos-emergency-eval: measure the emergency decision
 *
 * Run by `make eval` on the labelled sets in tests/eval/ and the dev set:
 *
 *   clubos-emergency-eval [--train EXAMPLES] [--errors] [--rules-only] SET...
 *
 * A set is JSON lines, either {"text", "label", "category", "slug"} with
 * label "emergency", "possible" or "not" (tests/eval/emergency*.jsonl), or
 * the dev set's {"message", "route", "sop"} (route "emergency" is an
 * emergency, anything else is not).  With --train the router's classifier
 * is trained on EXAMPLES ({"text", "label"}, deploy/seed/examples.jsonl)
 * and fused with the rules exactly as the router does (em_fuse); without
 * it, or with --rules-only, the rules alone decide.
 *
 * For every set it prints, per category: emergencies called sure, only
 * possible, and missed (and a wrong slug); near misses left alone,
 * notified (possible) and paged (a false emergency); possible ones raised
 * and dropped.  Then the totals and the latency (p50, p99) of the two
 * checks the router makes on every message before the classifier: the
 * emergency rules, and whether it is about somewhere else (rt_elsewhere).
 * Exit status 0, or 2 on bad input.
 */
#include "router/clf.h"
#include "router/emergency.h"
#include "router/evaltool.h"
#include "router/rt.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EE_MAX_CATS 64

enum ee_label { EE_EMERGENCY, EE_POSSIBLE, EE_NOT };

struct ee_cat {
	char   name[32];
	size_t n[3];       /* by label */
	size_t got[3][3];  /* [label][level] */
	size_t wrong_slug; /* emergencies caught with another slug */
};

struct ee_opts {
	const clf_model *clf;
	int              errors;
	int              sweep;
};

/*
 * The calibration sweep: how many emergencies (and possible ones) and how
 * many near misses the classifier alone would raise at each threshold,
 * without a guard and with one (whatever the rules decided).
 */
#define EE_NSTEPS 14
static const double ee_steps[EE_NSTEPS] = {0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50,
                                           0.55, 0.60, 0.65, 0.70, 0.80, 0.90, 0.95};
static size_t       ee_sw[2][2][EE_NSTEPS]; /* [guarded][near miss][step] */
static size_t       ee_swn[2][2];

static double            ee_last_prob;       /* the classifier's vote on the last message */
static double           *ee_lat, *ee_ew_lat; /* rules, rt_elsewhere: one each a message */
static size_t            ee_nlat, ee_caplat;
static const char *const ee_level_name[3] = {"none", "possible", "sure"};

/* ee_emergency_vote - the classifier's emergency probability and top topic */
static double
ee_emergency_vote(const clf_model *m, const char *text, const char **slug)
{
	clf_score top[256];
	size_t    n, i;
	double    p = 0;

	*slug = NULL;
	n = clf_predict(m, text, top, sizeof(top) / sizeof(top[0]));
	for (i = 0; i < n; i++) {
		const char *name = clf_label_name(m, top[i].label);

		if (strncmp(name, "emergency.", 10) != 0)
			continue;
		p += top[i].prob;
		if (*slug == NULL)
			*slug = name;
	}
	return p;
}

/* ee_cat_of - the category record for name, added when new */
static struct ee_cat *
ee_cat_of(struct ee_cat *cats, size_t *ncats, const char *name)
{
	size_t i;

	for (i = 0; i < *ncats; i++)
		if (strcmp(cats[i].name, name) == 0)
			return &cats[i];
	if (*ncats == EE_MAX_CATS)
		return &cats[EE_MAX_CATS - 1];
	memset(&cats[*ncats], 0, sizeof(cats[0]));
	snprintf(cats[*ncats].name, sizeof(cats[0].name), "%s", name);
	return &cats[(*ncats)++];
}

/* ee_decide - the router's decision on one message */
/* ee_median5 - the cost of one call of f on text: the median of five runs,
 * so that a preempted run on a busy machine does not pass for the code */
static double
ee_median5(void (*f)(const char *, em_match *), const char *text, em_match *m)
{
	double t0, lat[5];

	for (int r = 0; r < 5; r++) {
		t0 = et_now_us();
		f(text, m);
		lat[r] = et_now_us() - t0;
	}
	qsort(lat, 5, sizeof(lat[0]), et_dblcmp);
	return lat[2];
}

static void
ee_rules(const char *text, em_match *m)
{
	em_check(text, m);
}

static void
ee_elsewhere(const char *text, em_match *m)
{
	char why[80];

	(void)m;
	(void)rt_elsewhere(text, why, sizeof(why));
}

/* ee_decide - the router's decision on one message */
static int
ee_decide(const struct ee_opts *o, const char *text, int want, em_match *m)
{
	double      p, ew;
	const char *slug;

	ew = ee_median5(ee_elsewhere, text, m);
	if (ee_nlat == ee_caplat) {
		size_t  ncap = ee_caplat ? ee_caplat * 2 : 1024;
		double *nl = realloc(ee_lat, ncap * sizeof(*nl));
		double *ne = nl != NULL ? realloc(ee_ew_lat, ncap * sizeof(*ne)) : NULL;

		if (nl != NULL)
			ee_lat = nl;
		if (ne != NULL) {
			ee_ew_lat = ne;
			ee_caplat = ncap;
		}
	}
	if (ee_nlat < ee_caplat) {
		ee_ew_lat[ee_nlat] = ew;
		ee_lat[ee_nlat++] = ee_median5(ee_rules, text, m);
	} else {
		em_check(text, m);
	}
	if (o->clf == NULL)
		return m->level;
	p = ee_emergency_vote(o->clf, text, &slug);
	ee_last_prob = p;
	if (want >= 0) {
		int g = m->guard != NULL, nm = want == EE_NOT;

		ee_swn[g][nm]++;
		for (int i = 0; i < EE_NSTEPS; i++)
			ee_sw[g][nm][i] += p >= ee_steps[i];
	}
	return em_fuse(m, p, slug);
}

/* ee_print_sweep - the calibration table */
static void
ee_print_sweep(void)
{
	printf("classifier alone, whatever the rules say: raised at each threshold\n");
	printf("%-9s %14s %14s %14s %14s\n", "threshold", "emerg/unguard", "not/unguarded",
	       "emerg/guarded", "not/guarded");
	for (int i = 0; i < EE_NSTEPS; i++)
		printf("%-9.2f %8zu/%-5zu %8zu/%-5zu %8zu/%-5zu %8zu/%-5zu\n", ee_steps[i],
		       ee_sw[0][0][i], ee_swn[0][0], ee_sw[0][1][i], ee_swn[0][1], ee_sw[1][0][i],
		       ee_swn[1][0], ee_sw[1][1][i], ee_swn[1][1]);
	printf("\n");
}

/* ee_print - the per-category table and the totals of one set */
static void
ee_print(const char *path, const struct ee_cat *cats, size_t ncats)
{
	struct ee_cat tot;
	size_t        i, l, v;

	memset(&tot, 0, sizeof(tot));
	printf("== %s\n", path);
	printf("%-16s %5s %6s %8s %6s %5s | %5s %6s %8s %6s | %5s %6s %7s\n", "category", "emerg",
	       "sure", "possible", "missed", "slug", "not", "none", "notified", "paged", "poss",
	       "raised", "dropped");
	for (i = 0; i <= ncats; i++) {
		const struct ee_cat *c = i < ncats ? &cats[i] : &tot;

		if (i < ncats) {
			for (l = 0; l < 3; l++) {
				tot.n[l] += c->n[l];
				for (v = 0; v < 3; v++)
					tot.got[l][v] += c->got[l][v];
			}
			tot.wrong_slug += c->wrong_slug;
		}
		printf("%-16s %5zu %6zu %8zu %6zu %5zu | %5zu %6zu %8zu %6zu | %5zu %6zu %7zu\n",
		       i < ncats ? c->name : "TOTAL", c->n[EE_EMERGENCY],
		       c->got[EE_EMERGENCY][EM_SURE], c->got[EE_EMERGENCY][EM_POSSIBLE],
		       c->got[EE_EMERGENCY][EM_NONE], c->wrong_slug, c->n[EE_NOT],
		       c->got[EE_NOT][EM_NONE], c->got[EE_NOT][EM_POSSIBLE],
		       c->got[EE_NOT][EM_SURE], c->n[EE_POSSIBLE],
		       c->got[EE_POSSIBLE][EM_POSSIBLE] + c->got[EE_POSSIBLE][EM_SURE],
		       c->got[EE_POSSIBLE][EM_NONE]);
	}
	printf("emergency recall (sure)  %zu/%zu\n", tot.got[EE_EMERGENCY][EM_SURE],
	       tot.n[EE_EMERGENCY]);
	printf("emergencies dropped      %zu (possible only: %zu)\n",
	       tot.got[EE_EMERGENCY][EM_NONE], tot.got[EE_EMERGENCY][EM_POSSIBLE]);
	printf("false emergencies        %zu/%zu (notified as possible: %zu)\n",
	       tot.got[EE_NOT][EM_SURE], tot.n[EE_NOT], tot.got[EE_NOT][EM_POSSIBLE]);
	printf("possible ones dropped    %zu/%zu\n\n", tot.got[EE_POSSIBLE][EM_NONE],
	       tot.n[EE_POSSIBLE]);
}

/* ee_run - measure one set; -1 on bad input */
static int
ee_run(const struct ee_opts *o, const char *path)
{
	struct ee_cat cats[EE_MAX_CATS];
	size_t        ncats = 0, lineno = 0, lcap = 0;
	char         *line = NULL;
	ssize_t       len;
	FILE         *f;
	int           rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "clubos-emergency-eval: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &lcap, f)) != -1) {
		cJSON         *j = cJSON_ParseWithLength(line, (size_t)len);
		const cJSON   *text, *label, *cat, *slug, *route;
		struct ee_cat *c;
		enum ee_label  want;
		em_match       m;
		int            got;

		lineno++;
		text = cJSON_GetObjectItemCaseSensitive(j, "text");
		label = cJSON_GetObjectItemCaseSensitive(j, "label");
		cat = cJSON_GetObjectItemCaseSensitive(j, "category");
		slug = cJSON_GetObjectItemCaseSensitive(j, "slug");
		if ((route = cJSON_GetObjectItemCaseSensitive(j, "route")) != NULL) {
			/* The dev set's shape. */
			text = cJSON_GetObjectItemCaseSensitive(j, "message");
			slug = cJSON_GetObjectItemCaseSensitive(j, "sop");
			cat = NULL;
		}
		if (!cJSON_IsString(text) ||
		    (route == NULL && (!cJSON_IsString(label) || !cJSON_IsString(cat))) ||
		    (route != NULL && !cJSON_IsString(route))) {
			if (j != NULL || len > 1)
				fprintf(stderr,
				        "clubos-emergency-eval: %s:%zu: not a labelled message\n",
				        path, lineno);
			cJSON_Delete(j);
			if (j == NULL && len <= 1)
				continue;
			goto done;
		}
		if (route != NULL)
			want = strcmp(route->valuestring, "emergency") == 0 ? EE_EMERGENCY : EE_NOT;
		else if (strcmp(label->valuestring, "emergency") == 0)
			want = EE_EMERGENCY;
		else if (strcmp(label->valuestring, "possible") == 0)
			want = EE_POSSIBLE;
		else if (strcmp(label->valuestring, "not") == 0)
			want = EE_NOT;
		else {
			fprintf(stderr, "clubos-emergency-eval: %s:%zu: unknown label\n", path,
			        lineno);
			cJSON_Delete(j);
			goto done;
		}
		c = ee_cat_of(cats, &ncats,
		              cat != NULL ? cat->valuestring
		                          : (want == EE_EMERGENCY ? "dev-emergency" : "dev-other"));
		got = ee_decide(o, text->valuestring, o->sweep ? (int)want : -1, &m);
		c->n[want]++;
		c->got[want][got]++;
		if (want == EE_EMERGENCY && got == EM_SURE && cJSON_IsString(slug) &&
		    strcmp(slug->valuestring, m.slug) != 0)
			c->wrong_slug++;
		if (o->errors &&
		    ((want == EE_EMERGENCY && got != EM_SURE) ||
		     (want == EE_POSSIBLE && got == EM_NONE) || (want == EE_NOT && got != EM_NONE)))
			printf("  %-9s %-8s %-12s p=%.2f rule=%s guard=%s: %s\n",
			       want == EE_EMERGENCY ? "emergency"
			                            : (want == EE_POSSIBLE ? "possible" : "not"),
			       ee_level_name[got], c->name, o->clf ? ee_last_prob : 0.0,
			       m.rule ? m.rule : "-", m.guard ? m.guard : "-", text->valuestring);
		cJSON_Delete(j);
	}
	ee_print(path, cats, ncats);
	rc = 0;
done:
	free(line);
	fclose(f);
	return rc;
}

/* ee_train - the router's classifier on a file of examples, or NULL */
static clf_model *
ee_train(const char *path)
{
	clf_example *ex = NULL;
	size_t       n = 0, cap = 0, lcap = 0, i;
	char        *line = NULL, err[256];
	ssize_t      len;
	clf_params   p;
	clf_model   *m = NULL;
	FILE        *f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "clubos-emergency-eval: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	while ((len = getline(&line, &lcap, f)) != -1) {
		cJSON       *j = cJSON_ParseWithLength(line, (size_t)len);
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "text");
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "label");

		if (cJSON_IsString(t) && cJSON_IsString(l)) {
			if (n == cap) {
				size_t       ncap = cap ? cap * 2 : 1024;
				clf_example *nex = realloc(ex, ncap * sizeof(*nex));

				if (nex == NULL) {
					cJSON_Delete(j);
					goto fail;
				}
				ex = nex;
				cap = ncap;
			}
			ex[n].text = strdup(t->valuestring);
			ex[n].label = strdup(l->valuestring);
			if (ex[n].text == NULL || ex[n].label == NULL) {
				n++;
				cJSON_Delete(j);
				goto fail;
			}
			n++;
		}
		cJSON_Delete(j);
	}
	clf_params_default(&p);
	if ((m = clf_train(ex, n, &p, err, sizeof(err))) == NULL)
		fprintf(stderr, "clubos-emergency-eval: training failed: %s\n", err);
fail:
	for (i = 0; i < n; i++) {
		free((void *)(uintptr_t)ex[i].text);
		free((void *)(uintptr_t)ex[i].label);
	}
	free(ex);
	free(line);
	fclose(f);
	return m;
}

/* main - parse the options, measure every set */
int
main(int argc, char **argv)
{
	struct ee_opts o = {NULL, 0, 0};
	clf_model     *m = NULL;
	const char    *train = NULL;
	int            i, rules_only = 0, nsets = 0, rc = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--train") == 0 && i + 1 < argc)
			train = argv[++i];
		else if (strcmp(argv[i], "--errors") == 0)
			o.errors = 1;
		else if (strcmp(argv[i], "--sweep") == 0)
			o.sweep = 1;
		else if (strcmp(argv[i], "--rules-only") == 0)
			rules_only = 1;
		else if (argv[i][0] == '-')
			break;
		else
			nsets++;
	}
	if (i < argc || nsets == 0) {
		fprintf(stderr, "usage: clubos-emergency-eval [--train EXAMPLES] [--errors] "
		                "[--rules-only] [--sweep] SET...\n");
		return 2;
	}
	nsets = 0;
	if (train != NULL && !rules_only) {
		if ((m = ee_train(train)) == NULL)
			return 2;
		o.clf = m;
		printf("decision: rules fused with the classifier trained on %s\n\n", train);
	} else
		printf("decision: rules alone\n\n");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--train") == 0) {
			i++;
			continue;
		}
		if (argv[i][0] == '-')
			continue;
		nsets++;
		if (ee_run(&o, argv[i]) < 0)
			rc = 2;
	}
	if (o.sweep && o.clf != NULL)
		ee_print_sweep();
	if (ee_nlat > 0) {
		qsort(ee_lat, ee_nlat, sizeof(*ee_lat), et_dblcmp);
		qsort(ee_ew_lat, ee_nlat, sizeof(*ee_ew_lat), et_dblcmp);
		printf("rules latency over %zu messages (median of 5 runs each): p50 %.1f us, p99 "
		       "%.1f us\n",
		       ee_nlat, ee_lat[ee_nlat / 2], ee_lat[(ee_nlat * 99) / 100]);
		printf(
		    "somewhere-else check (rt_elsewhere) over the same: p50 %.1f us, p99 %.1f us\n",
		    ee_ew_lat[ee_nlat / 2], ee_ew_lat[(ee_nlat * 99) / 100]);
	}
	free(ee_lat);
	free(ee_ew_lat);
	clf_free(m);
	return nsets > 0 ? rc : 2;
}
