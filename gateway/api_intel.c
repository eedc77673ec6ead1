/*
 * api_intel.c - the learning loop's endpoints
 *
 *   POST /api/intelligence/analyze               (admin) run an analysis now
 *   GET  /api/intelligence/proposals?status=S    (staff) proposals, newest first
 *   GET  /api/intelligence/proposals/{id}        (staff) one, with its full content
 *   POST /api/intelligence/proposals/{id}/approve (admin) apply it through the journal
 *   POST /api/intelligence/proposals/{id}/reject  (admin)
 *   POST /api/knowledge/ingest {"text"}          (admin) staff knowledge into proposals
 *
 * Analysis and intake run in clubos-intelligence (clustering, analysers,
 * the router's classifier); this file forwards them with a deadline, and
 * so the decisions (approve, reject): clubos-intelligence is the one writer
 * of knowledge, and an approval takes the same journaled path there as any
 * SOP edit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/gw.h"

#define INTEL_DEADLINE_MS 400000 /* analysis: a minute of Claude, then its last call */

static const char *const statuses[] = {"pending", "approved", "applied", "rejected",
                                       "stale",   "failed",   NULL};

/* proposal_id - the :id segment as a number, or 0 */
static long long
proposal_id(const char *s)
{
	if (*s == '\0' || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s))
		return 0;
	return strtoll(s, NULL, 10);
}

/* forward - ask clubos-intelligence (body taken) and pass its JSON answer on */
static void
forward(struct gw_ctx *x, int op, cJSON *body)
{
	cJSON *o = gw_intel_call(x, op, body, INTEL_DEADLINE_MS);

	if (o != NULL)
		gw_json(x, 200, o);
}

/* api_intel_analyze - POST /api/intelligence/analyze */
void
api_intel_analyze(struct gw_ctx *x)
{
	cJSON *body = cJSON_CreateObject();

	cJSON_AddNumberToObject(body, "by", (double)x->user_id);
	forward(x, ENV_OP_INTEL_ANALYZE, body);
}

/* api_knowledge_ingest - POST /api/knowledge/ingest {"text"} */
void
api_knowledge_ingest(struct gw_ctx *x)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(x->body, "text");
	cJSON       *o;
	bool         utf8;

	if (t == NULL) {
		gw_error(x, 400, "missing_field", "\"text\" is required");
		return;
	}
	if (!cJSON_IsString(t)) {
		gw_error(x, 400, "wrong_type", "\"text\" must be a string");
		return;
	}
	if (strlen(t->valuestring) > GW_MAX_INGEST) {
		gw_error(x, 413, "body_too_large", "\"text\" is larger than 256 KiB");
		return;
	}
	if (util_utf8_chars(t->valuestring, strlen(t->valuestring), &utf8) < 1 || !utf8) {
		gw_error(x, 400, "invalid_length",
		         "\"text\" must be 1 character to 256 KiB of UTF-8");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "text", t->valuestring);
	cJSON_AddNumberToObject(o, "by", (double)x->user_id);
	forward(x, ENV_OP_INTEL_INGEST, o);
}

/* api_intel_proposals - GET /api/intelligence/proposals[?status=S] */
void
api_intel_proposals(struct gw_ctx *x)
{
	char        status[16] = "";
	const char *p[] = {status};
	PGresult   *r;
	cJSON      *o;

	if (gw_query_param(x->req->query, "status", status, sizeof(status))) {
		bool known = false;

		for (const char *const *s = statuses; *s != NULL; s++)
			known = known || strcmp(*s, status) == 0;
		if (!known) {
			gw_error(x, 400, "invalid_value",
			         "status must be pending, approved, applied, rejected, stale or "
			         "failed");
			return;
		}
	}
	r = db_exec(x->w->db,
	            "SELECT coalesce(json_agg(proposal_json(p, false) ORDER BY p.id DESC), "
	            "  '[]')::text FROM (SELECT * FROM proposals WHERE $1 = '' OR status = $1 "
	            "  ORDER BY id DESC LIMIT 500) p",
	            1, p);
	if (r == NULL) {
		gw_error(x, 503, "database_unavailable", "the database is not answering");
		return;
	}
	o = cJSON_Parse(db_val(r, 0, 0));
	PQclear(r);
	gw_json(x, 200, o);
}

/* load - one proposal as JSON (with content), or NULL after answering */
static cJSON *
load(struct gw_ctx *x, long long id)
{
	char        ids[24];
	const char *p[] = {ids};
	PGresult   *r;
	cJSON      *o;

	snprintf(ids, sizeof(ids), "%lld", id);
	r = id == 0 ? NULL
	            : db_exec(x->w->db,
	                      "SELECT proposal_json(p, true)::text FROM proposals p "
	                      "WHERE id = $1",
	                      1, p);
	if (r == NULL && id != 0) {
		gw_error(x, 503, "database_unavailable", "the database is not answering");
		return NULL;
	}
	if (r == NULL || PQntuples(r) == 0) {
		PQclear(r);
		gw_error(x, 404, "not_found", "no such proposal");
		return NULL;
	}
	o = cJSON_Parse(db_val(r, 0, 0));
	PQclear(r);
	if (o == NULL)
		gw_error(x, 500, "internal", "out of memory");
	return o;
}

/* api_intel_proposal - GET /api/intelligence/proposals/{id} */
void
api_intel_proposal(struct gw_ctx *x)
{
	cJSON *o = load(x, proposal_id(x->params[0]));

	if (o != NULL)
		gw_json(x, 200, o);
}

/* decide - ask the knowledge owner to approve or reject proposal :id */
static void
decide(struct gw_ctx *x, const char *decision)
{
	long long id = proposal_id(x->params[0]);
	cJSON    *o = cJSON_CreateObject();

	if (id == 0) {
		cJSON_Delete(o);
		gw_error(x, 404, "not_found", "no such proposal");
		return;
	}
	cJSON_AddNumberToObject(o, "id", (double)id);
	cJSON_AddStringToObject(o, "decision", decision);
	cJSON_AddNumberToObject(o, "by", (double)x->user_id);
	if ((o = gw_intel_call(x, ENV_OP_KNOW_DECIDE, o, GW_KNOW_DEADLINE_MS)) == NULL)
		return;
	gw_kgen_seen((long long)json_num(o, "kgen", 0));
	gw_json(x, 200, o);
}

/* api_intel_approve - POST /api/intelligence/proposals/{id}/approve */
void
api_intel_approve(struct gw_ctx *x)
{
	decide(x, "approve");
}

/* api_intel_reject - POST /api/intelligence/proposals/{id}/reject */
void
api_intel_reject(struct gw_ctx *x)
{
	decide(x, "reject");
}
