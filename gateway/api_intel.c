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
 * the router's classifier); this file forwards them with a deadline.  The
 * decisions (approve, reject) are taken here, against PostgreSQL, and an
 * approval takes the same journaled path as any SOP edit (api_sops.c).
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

/* forward - ask clubos-intelligence and pass its JSON answer on */
static void
forward(struct gw_ctx *x, int op, const char *body)
{
	struct rpc_reply rep;
	const char      *why;
	cJSON           *o;

	if (rpc_call(gw.intel, op, x->trace_id, env_now_ms() + INTEL_DEADLINE_MS, body,
	             strlen(body), &rep) != 0) {
		rpc_reply_clear(&rep);
		gw_error(x, 503, "intelligence_unavailable",
		         "the learning service (clubos-intelligence) is not answering");
		return;
	}
	o = json_parse(rep.body, rep.len, &why);
	if (o == NULL) {
		rpc_reply_clear(&rep);
		gw_error(x, 502, "bad_reply", "the learning service sent an unreadable answer");
		return;
	}
	if (rep.status != 0) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
		const char  *code = json_str(e, "code"), *msg = json_str(e, "message");

		gw_error(x, rep.status, code ? code : "intelligence_error",
		         msg ? msg : "the learning service failed");
		cJSON_Delete(o);
	} else {
		gw_json(x, 200, o);
	}
	rpc_reply_clear(&rep);
}

/* api_intel_analyze - POST /api/intelligence/analyze */
void
api_intel_analyze(struct gw_ctx *x)
{
	char body[64];

	snprintf(body, sizeof(body), "{\"by\":%lld}", (long long)x->user_id);
	forward(x, ENV_OP_INTEL_ANALYZE, body);
}

/* api_knowledge_ingest - POST /api/knowledge/ingest {"text"} */
void
api_knowledge_ingest(struct gw_ctx *x)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(x->body, "text");
	cJSON       *o;
	char        *body;
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
	body = json_print(o);
	cJSON_Delete(o);
	if (body == NULL) {
		gw_error(x, 500, "internal", "out of memory");
		return;
	}
	forward(x, ENV_OP_INTEL_INGEST, body);
	free(body);
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

/* not_pending - 409 for a decision on a proposal already decided */
static bool
not_pending(struct gw_ctx *x, const cJSON *o)
{
	const char *st = json_str(o, "status");
	char        msg[128];

	if (st != NULL && strcmp(st, "pending") == 0)
		return false;
	snprintf(msg, sizeof(msg), "the proposal is %s, not pending", st ? st : "?");
	gw_error(x, 409, "not_pending", msg);
	return true;
}

/* api_intel_approve - POST /api/intelligence/proposals/{id}/approve */
void
api_intel_approve(struct gw_ctx *x)
{
	long long             id = proposal_id(x->params[0]);
	cJSON                *o = load(x, id), *ex;
	char                 *examples, *new_sop = NULL, author[48];
	bool                  create;
	struct journal_result r;
	struct journal_change c;

	if (o == NULL)
		return;
	if (not_pending(x, o))
		goto out;
	if (json_str(o, "sop_slug") == NULL || json_str(o, "content") == NULL) {
		gw_error(x, 409, "not_applicable",
		         "this gap has no text yet: write the SOP (or give a correct_answer in "
		         "feedback), then reject this flag");
		goto out;
	}
	ex = cJSON_GetObjectItemCaseSensitive(o, "examples");
	examples = ex != NULL ? cJSON_PrintUnformatted(ex) : NULL;
	create = strcmp(json_str(o, "kind") ? json_str(o, "kind") : "", "new_topic") == 0;
	if (create && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "new_sop")))
		new_sop = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(o, "new_sop"));
	snprintf(author, sizeof(author), "user:%lld", (long long)x->user_id);
	c = (struct journal_change){.slug = json_str(o, "sop_slug"),
	                            .op = create ? "create" : "proposal",
	                            .new_sop = new_sop,
	                            .content = json_str(o, "content"),
	                            .base_sha256 = create ? NULL : json_str(o, "base_sha256"),
	                            .examples = examples,
	                            .proposal_id = id,
	                            .author = author,
	                            .note = "approved proposal"};
	if (journal_apply(x->w->db, &c, gw.cfg->crash_at, gw_sop_notify, NULL, &r) < 0) {
		free(examples);
		free(new_sop);
		if (r.status == 409 && strcmp(r.code, "sha_mismatch") == 0)
			gw_error(x, 409, "stale",
			         "the SOP changed since the proposal was made; it is now stale");
		else
			gw_error(x, r.status, r.code, r.message);
		goto out;
	}
	free(examples);
	free(new_sop);
	{
		char        ids[24], uid[24];
		const char *p[] = {ids, uid};

		snprintf(ids, sizeof(ids), "%lld", id);
		snprintf(uid, sizeof(uid), "%lld", (long long)x->user_id);
		db_cmd(x->w->db,
		       "UPDATE proposals SET decided_by = $2, decided_at = now() WHERE id = $1", 2,
		       p);
	}
	log_msg(LOG_INFO, x->trace_id, "proposal %lld approved: %s version %d", id, r.slug,
	        r.version);
	cJSON_Delete(o);
	if ((o = load(x, id)) == NULL)
		return;
	cJSON_AddNumberToObject(o, "version", r.version);
	cJSON_AddStringToObject(o, "sha256", r.sha256);
	cJSON_AddNumberToObject(o, "journal_id", (double)r.journal_id);
	gw_json(x, 200, o);
	return;
out:
	cJSON_Delete(o);
}

/* api_intel_reject - POST /api/intelligence/proposals/{id}/reject */
void
api_intel_reject(struct gw_ctx *x)
{
	long long   id = proposal_id(x->params[0]);
	cJSON      *o = load(x, id);
	char        ids[24], uid[24];
	const char *p[] = {ids, uid};
	PGresult   *r;

	if (o == NULL || not_pending(x, o)) {
		cJSON_Delete(o);
		return;
	}
	cJSON_Delete(o);
	snprintf(ids, sizeof(ids), "%lld", id);
	snprintf(uid, sizeof(uid), "%lld", (long long)x->user_id);
	r = db_exec(
	    x->w->db,
	    "UPDATE proposals SET status = 'rejected', decided_by = $2, decided_at = now(), "
	    "  updated_at = now() WHERE id = $1 AND status = 'pending' RETURNING id",
	    2, p);
	if (r == NULL) {
		gw_error(x, 503, "database_unavailable", "the database is not answering");
		return;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		gw_error(x, 409, "not_pending", "the proposal was decided meanwhile");
		return;
	}
	PQclear(r);
	log_msg(LOG_INFO, x->trace_id, "proposal %lld rejected", id);
	if ((o = load(x, id)) != NULL)
		gw_json(x, 200, o);
}
