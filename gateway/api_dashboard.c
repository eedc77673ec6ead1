/*
 * api_dashboard.c - what the console's dashboard shows, and one SOP
 * version's content for its diffs
 *
 * GET /api/dashboard?window=24h|7d (staff): from the traces, feedback and
 * tickets tables, over the window: questions, the share answered from an
 * SOP, the share escalated, response time p50/p99, the share of answers
 * per cache tier, the unhelpful rate per SOP, open tickets; and LLM cost
 * per hour and per day when an llm_calls table exists (skipped, as "llm":
 * null, when it does not).  One statement each, computed by PostgreSQL
 * over the indexed created_at columns.
 *
 * GET /api/sops/{slug}/versions/{version} (staff): one immutable version,
 * so the console can diff any two.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "gateway/gw.h"

/* The windows the dashboard offers, as PostgreSQL intervals. */
static const struct {
	const char *name, *interval;
} dash_windows[] = {
    {"24h", "24 hours"},
    {"7d", "7 days"},
};

#define DASH_SQL                                                                                   \
	"WITH t AS (SELECT * FROM traces WHERE created_at >= now() - $1::interval) "               \
	"SELECT json_build_object("                                                                \
	"'window', $2::text, "                                                                     \
	"'queries', (SELECT count(*) FROM t), "                                                    \
	"'answered_from_sop_rate', (SELECT avg((sop_slug IS NOT NULL)::int)::float8 FROM t), "     \
	"'escalation_rate', (SELECT avg((coalesce(escalation_tier, 0) > 0)::int)::float8 FROM "    \
	"t), "                                                                                     \
	"'response_ms', (SELECT CASE WHEN count(total_us) = 0 THEN NULL ELSE json_build_object("   \
	"  'p50', round((percentile_cont(0.5) WITHIN GROUP (ORDER BY total_us) / "                 \
	"1000.0)::numeric, "                                                                       \
	"  2), 'p99', round((percentile_cont(0.99) WITHIN GROUP (ORDER BY total_us) / "            \
	"  1000.0)::numeric, 2)) END FROM t), "                                                    \
	"'cache', (SELECT coalesce(json_object_agg(tier, share), '{}') FROM (SELECT "              \
	"  coalesce(cache, 'none') AS tier, count(*)::float8 / sum(count(*)) OVER () AS share "    \
	"  FROM t GROUP BY 1) c), "                                                                \
	"'unhelpful_by_sop', (SELECT coalesce(json_agg(json_build_object('sop', sop_slug, "        \
	"  'rate', rate, 'verdicts', n) ORDER BY rate DESC, sop_slug), '[]') FROM (SELECT "        \
	"  sop_slug, avg((NOT helpful)::int)::float8 AS rate, count(*) AS n FROM feedback "        \
	"  WHERE created_at >= now() - $1::interval AND sop_slug IS NOT NULL GROUP BY sop_slug) "  \
	"f), "                                                                                     \
	"'hourly', (SELECT coalesce(json_agg(json_build_object('hour', to_char(h, "                \
	"  'MM-DD HH24:00'), 'queries', n, 'sop_rate', sr, 'escalation_rate', er, 'p50_ms', p50, " \
	"  'p99_ms', p99) ORDER BY h), '[]') FROM (SELECT date_trunc('hour', created_at) AS h, "   \
	"  count(*) AS n, avg((sop_slug IS NOT NULL)::int)::float8 AS sr, "                        \
	"  avg((coalesce(escalation_tier, 0) > 0)::int)::float8 AS er, "                           \
	"  round((percentile_cont(0.5) WITHIN GROUP (ORDER BY total_us) / 1000.0)::numeric, 2) "   \
	"  AS p50, round((percentile_cont(0.99) WITHIN GROUP (ORDER BY total_us) / "               \
	"  1000.0)::numeric, 2) AS p99 FROM t GROUP BY 1) hh), "                                   \
	"'tickets_open', (SELECT count(*) FROM tickets WHERE status <> 'resolved'), "              \
	"'tickets_created', (SELECT count(*) FROM tickets WHERE created_at >= now() - "            \
	"  $1::interval))::text"

/* LLM cost, for a table this gateway does not own: asked only when it exists. */
#define DASH_LLM_SQL                                                                               \
	"SELECT json_build_object("                                                                \
	"'per_hour', (SELECT coalesce(json_agg(json_build_object('hour', h, 'usd', usd) ORDER BY " \
	"  h), '[]') FROM (SELECT to_char(date_trunc('hour', created_at), 'MM-DD HH24:00') AS h, " \
	"  sum(cost_usd)::float8 AS usd FROM llm_calls WHERE created_at >= now() - interval "      \
	"  '24 hours' GROUP BY 1) a), "                                                            \
	"'per_day', (SELECT coalesce(json_agg(json_build_object('day', d, 'usd', usd) ORDER BY "   \
	"d), "                                                                                     \
	"  '[]') FROM (SELECT to_char(date_trunc('day', created_at), 'YYYY-MM-DD') AS d, "         \
	"  sum(cost_usd)::float8 AS usd FROM llm_calls WHERE created_at >= now() - $1::interval "  \
	"  GROUP BY 1) b))::text"

/* dash_llm - the LLM cost object, or NULL when there is no such table */
static cJSON *
dash_llm(struct gw_ctx *x, const char *interval)
{
	PGresult *r =
	    db_exec(x->w->db,
	            "SELECT to_regclass('llm_calls') IS NOT NULL AND EXISTS (SELECT 1 FROM "
	            "information_schema.columns WHERE table_name = 'llm_calls' AND "
	            "column_name = 'cost_usd')",
	            0, NULL);
	const char *p[] = {interval};
	cJSON      *o = NULL;
	bool        have = r != NULL && PQntuples(r) == 1 && strcmp(db_val(r, 0, 0), "t") == 0;

	PQclear(r);
	if (!have)
		return NULL;
	r = db_exec(x->w->db, DASH_LLM_SQL, 1, p);
	if (r != NULL && PQntuples(r) == 1 && !db_null(r, 0, 0))
		o = cJSON_Parse(db_val(r, 0, 0));
	PQclear(r);
	return o;
}

/* api_dashboard - GET /api/dashboard?window=24h|7d */
void
api_dashboard(struct gw_ctx *x)
{
	char        win[16] = "24h";
	const char *interval = NULL;
	const char *p[2];
	PGresult   *r;
	cJSON      *o, *llm;

	if (gw_query_param(x->req->query, "window", win, sizeof(win)) && *win == '\0')
		snprintf(win, sizeof(win), "24h");
	for (size_t i = 0; i < sizeof(dash_windows) / sizeof(dash_windows[0]); i++)
		if (strcmp(dash_windows[i].name, win) == 0)
			interval = dash_windows[i].interval;
	if (interval == NULL) {
		gw_error(x, 400, "invalid_value", "\"window\" must be 24h or 7d");
		return;
	}
	p[0] = interval;
	p[1] = win;
	if ((r = db_exec(x->w->db, DASH_SQL, 2, p)) == NULL) {
		gw_db_error(x, x->w->db);
		return;
	}
	o = PQntuples(r) == 1 ? cJSON_Parse(db_val(r, 0, 0)) : NULL;
	PQclear(r);
	if (o == NULL) {
		gw_error(x, 500, "internal", "the dashboard could not be read");
		return;
	}
	llm = dash_llm(x, interval);
	cJSON_AddItemToObject(o, "llm", llm != NULL ? llm : cJSON_CreateNull());
	gw_json(x, 200, o);
}

/* api_sop_version_get - GET /api/sops/{slug}/versions/{version} */
void
api_sop_version_get(struct gw_ctx *x)
{
	const char *p[] = {x->params[0], x->params[1]};
	const char *v = x->params[1];
	PGresult   *r;
	cJSON      *o;

	if (strspn(v, "0123456789") != strlen(v) || strlen(v) > 9 || *v == '\0') {
		gw_error(x, 404, "not_found", "no such version");
		return;
	}
	r = db_exec(x->w->db,
	            "SELECT json_build_object('slug', slug, 'version', version, 'sha256', sha256, "
	            "'content', content, 'author', author, 'note', note, 'created_at', "
	            "created_at)::text FROM sop_versions WHERE slug = $1 AND version = $2::int",
	            2, p);
	if (r == NULL) {
		gw_db_error(x, x->w->db);
		return;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		gw_error(x, 404, "not_found", "no such version");
		return;
	}
	o = cJSON_Parse(db_val(r, 0, 0));
	PQclear(r);
	if (o == NULL)
		gw_error(x, 500, "internal", "the version could not be read");
	else
		gw_json(x, 200, o);
}
