/*
 * api_llm.c - the generative tier as the gateway shows it
 *
 * The assistant workers make the calls and write one llm_calls row each
 * (assistants/llm.c) and their state to llm_status; the gateway only
 * reads: GET /api/llm/stats (admin), components.llm of /api/health, and
 * the clubos_llm_* series of /metrics (through /metrics' one-second
 * cache, so a scrape costs at most a few aggregate queries a second).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/settings.h"
#include "gateway/gw.h"

/* A row of llm_status counts while its worker refreshed it this recently. */
#define LLM_STATUS_FRESH "interval '10 minutes'"

/* llm_state - off, ok, failing or over_budget: the settings, then the workers' */
static const char *
llm_state(db_conn *db)
{
	struct settings s;
	PGresult       *r;
	const char     *st = "off";

	settings_current(db, &s);
	if (s.llm_mode == LLM_MODE_OFF)
		return "off";
	r = db_exec(db,
	            "SELECT bool_or(state = 'over_budget'), bool_or(state = 'failing'), "
	            "count(*) FROM llm_status WHERE updated_at > now() - " LLM_STATUS_FRESH,
	            0, NULL);
	if (r != NULL && PQntuples(r) == 1 && atol(db_val(r, 0, 2)) > 0)
		st = db_val(r, 0, 0)[0] == 't'   ? "over_budget"
		     : db_val(r, 0, 1)[0] == 't' ? "failing"
		                                 : "ok";
	PQclear(r);
	return st;
}

/* gw_llm_health - components.llm: ok, off, failing or over_budget */
void
gw_llm_health(struct gw_ctx *x, cJSON *components)
{
	cJSON_AddStringToObject(components, "llm", x->w != NULL ? llm_state(x->w->db) : "off");
}

/* The totals every view shows. */
struct llm_totals {
	PGresult *by_outcome, *rejections, *shadow, *today;
};

/* totals_read - the totals (kept by a trigger: migrations/0015_llm_totals.sql)
 * and today's cost (one index range); each result may be NULL */
static void
totals_read(db_conn *db, struct llm_totals *t)
{
	t->by_outcome = db_exec(db,
	                        "SELECT key, calls, prompt_tokens, completion_tokens, cost_usd "
	                        "FROM llm_totals WHERE kind = 'outcome' AND calls > 0 ORDER BY 1",
	                        0, NULL);
	t->rejections = db_exec(db,
	                        "SELECT key, calls FROM llm_totals WHERE kind = 'rejection' AND "
	                        "calls > 0 ORDER BY 1",
	                        0, NULL);
	t->shadow = db_exec(db,
	                    "SELECT COALESCE(sum(calls), 0), COALESCE(sum(calls) FILTER (WHERE key "
	                    "= 'agreed'), 0) FROM llm_totals WHERE kind = 'shadow'",
	                    0, NULL);
	t->today = db_exec(db,
	                   "SELECT COALESCE(sum(cost_usd), 0), count(*) FROM llm_calls WHERE "
	                   "created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME "
	                   "ZONE 'UTC'",
	                   0, NULL);
}

/* totals_clear - free the results */
static void
totals_clear(struct llm_totals *t)
{
	PQclear(t->by_outcome);
	PQclear(t->rejections);
	PQclear(t->shadow);
	PQclear(t->today);
}

/* api_llm_stats - GET /api/llm/stats: calls, tokens, cost, rejections, shadow agreement */
void
api_llm_stats(struct gw_ctx *x)
{
	struct llm_totals t;
	struct settings   s;
	cJSON            *o, *oc, *rj, *sh, *tok;
	double            pin = 0, pout = 0, cost = 0, calls = 0;

	totals_read(x->w->db, &t);
	if (t.by_outcome == NULL || t.rejections == NULL || t.shadow == NULL || t.today == NULL) {
		totals_clear(&t);
		gw_db_error(x, x->w->db);
		return;
	}
	settings_current(x->w->db, &s);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mode", settings_llm_mode_name(s.llm_mode));
	cJSON_AddNumberToObject(o, "rollout_percent", s.llm_rollout_percent);
	cJSON_AddStringToObject(o, "state", llm_state(x->w->db));
	oc = cJSON_AddObjectToObject(o, "outcomes");
	for (int i = 0; i < PQntuples(t.by_outcome); i++) {
		double n = strtod(db_val(t.by_outcome, i, 1), NULL);

		cJSON_AddNumberToObject(oc, db_val(t.by_outcome, i, 0), n);
		calls += n;
		pin += strtod(db_val(t.by_outcome, i, 2), NULL);
		pout += strtod(db_val(t.by_outcome, i, 3), NULL);
		cost += strtod(db_val(t.by_outcome, i, 4), NULL);
	}
	cJSON_AddNumberToObject(o, "calls", calls);
	tok = cJSON_AddObjectToObject(o, "tokens");
	cJSON_AddNumberToObject(tok, "prompt", pin);
	cJSON_AddNumberToObject(tok, "completion", pout);
	cJSON_AddNumberToObject(o, "cost_usd", cost);
	cJSON_AddNumberToObject(o, "cost_usd_today", strtod(db_val(t.today, 0, 0), NULL));
	rj = cJSON_AddObjectToObject(o, "rejections");
	for (int i = 0; i < PQntuples(t.rejections); i++)
		cJSON_AddNumberToObject(rj, db_val(t.rejections, i, 0),
		                        strtod(db_val(t.rejections, i, 1), NULL));
	sh = cJSON_AddObjectToObject(o, "shadow");
	{
		double pairs = strtod(db_val(t.shadow, 0, 0), NULL);
		double agreed = strtod(db_val(t.shadow, 0, 1), NULL);

		cJSON_AddNumberToObject(sh, "pairs", pairs);
		cJSON_AddNumberToObject(sh, "agreed", agreed);
		if (pairs > 0)
			cJSON_AddNumberToObject(sh, "agreement_rate", agreed / pairs);
		else
			cJSON_AddNullToObject(sh, "agreement_rate");
	}
	totals_clear(&t);
	gw_json(x, 200, o);
}

/* A growable text for the series. */
struct text {
	char  *p;
	size_t len, cap;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* add - append one formatted piece (dropped when out of memory) */
static void
add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int     n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (t->len + (size_t)n < t->cap)
			break;
		char *np = realloc(t->p, t->cap * 2 + (size_t)n);

		if (np == NULL)
			return;
		t->p = np;
		t->cap = t->cap * 2 + (size_t)n;
	}
	t->len += (size_t)n;
}

/* gw_llm_metrics - the clubos_llm_* series (malloc'd text, NULL on OOM) */
char *
gw_llm_metrics(struct gw_ctx *x)
{
	struct llm_totals t;
	struct text       s = {.cap = 2048};
	double            pin = 0, pout = 0, cost = 0;

	if ((s.p = malloc(s.cap)) == NULL)
		return NULL;
	s.p[0] = '\0';
	if (x->w == NULL)
		return s.p;
	totals_read(x->w->db, &t);
	add(&s, "# HELP clubos_llm_calls_total Generative tier calls, by outcome.\n"
	        "# TYPE clubos_llm_calls_total counter\n");
	for (int i = 0; t.by_outcome != NULL && i < PQntuples(t.by_outcome); i++) {
		add(&s, "clubos_llm_calls_total{outcome=\"%s\"} %s\n", db_val(t.by_outcome, i, 0),
		    db_val(t.by_outcome, i, 1));
		pin += strtod(db_val(t.by_outcome, i, 2), NULL);
		pout += strtod(db_val(t.by_outcome, i, 3), NULL);
		cost += strtod(db_val(t.by_outcome, i, 4), NULL);
	}
	add(&s,
	    "# HELP clubos_llm_tokens_total Tokens the model read and wrote.\n"
	    "# TYPE clubos_llm_tokens_total counter\n"
	    "clubos_llm_tokens_total{kind=\"prompt\"} %.0f\n"
	    "clubos_llm_tokens_total{kind=\"completion\"} %.0f\n"
	    "# HELP clubos_llm_cost_usd_total What the model cost, by the configured prices.\n"
	    "# TYPE clubos_llm_cost_usd_total counter\n"
	    "clubos_llm_cost_usd_total %.6f\n"
	    "# HELP clubos_llm_rejections_total Model replies a guardrail refused, by rule.\n"
	    "# TYPE clubos_llm_rejections_total counter\n",
	    pin, pout, cost);
	for (int i = 0; t.rejections != NULL && i < PQntuples(t.rejections); i++)
		add(&s, "clubos_llm_rejections_total{rule=\"%s\"} %s\n", db_val(t.rejections, i, 0),
		    db_val(t.rejections, i, 1));
	if (t.shadow != NULL && PQntuples(t.shadow) == 1) {
		double pairs = strtod(db_val(t.shadow, 0, 0), NULL);
		double agreed = strtod(db_val(t.shadow, 0, 1), NULL);

		add(&s,
		    "# HELP clubos_llm_shadow_pairs_total Shadow-mode answers stored beside the "
		    "local one.\n"
		    "# TYPE clubos_llm_shadow_pairs_total counter\n"
		    "clubos_llm_shadow_pairs_total %.0f\n"
		    "# HELP clubos_llm_shadow_agreement_ratio Share of shadow pairs where the "
		    "model "
		    "chose the same SOP and escalation and passed every guardrail.\n"
		    "# TYPE clubos_llm_shadow_agreement_ratio gauge\n"
		    "clubos_llm_shadow_agreement_ratio %.4f\n",
		    pairs, pairs > 0 ? agreed / pairs : 0.0);
	}
	totals_clear(&t);
	return s.p;
}
