/*
 * api_sops.c - changing SOPs: PUT /api/sops/{slug}, POST .../rollback
 *
 * A change never rewrites history: it adds an immutable version.  Edits,
 * rollbacks and approved proposals (api_intel.c) all take the same path,
 * intelligence/journal.c: journal entry, one transaction that checks the
 * base hash (409 when the SOP moved on) and adds the version, sop.changed on
 * the bus, done.  The gateway then carries the new generation on every
 * query, so a worker that is behind reloads before answering.  A rollback
 * is a new version whose content equals the old one's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/gw.h"

#define SOP_RETRAIN_MS 60000

/* gw_sop_notify - after a change is announced: carry the new generation, retrain if needed */
void
gw_sop_notify(void *arg, const struct journal_result *r)
{
	(void)arg;
	gw_kgen_seen(r->kgen);
	if (r->examples && gw.router != NULL) {
		struct rpc_reply rep;

		/* The router retrains before answering, so the next query is routed
		 * by the new examples; on failure examples.changed still reaches it. */
		if (rpc_call(gw.router, ENV_OP_RELOAD, NULL, env_now_ms() + SOP_RETRAIN_MS, "{}", 2,
		             &rep) != 0 ||
		    rep.status != 0)
			log_msg(LOG_WARN, NULL, "sop %s: the router did not retrain now", r->slug);
		rpc_reply_clear(&rep);
	}
}

/* gw_sop_change - one change through the journal; answers the request */
void
gw_sop_change(struct gw_ctx *x, const struct journal_change *c)
{
	struct journal_result r;
	cJSON                *o;

	if (journal_apply(x->w->db, c, gw.cfg->crash_at, gw_sop_notify, NULL, &r) < 0) {
		gw_error(x, r.status, r.code, r.message);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "slug", r.slug);
	cJSON_AddNumberToObject(o, "version", r.version);
	cJSON_AddNumberToObject(o, "kgen", (double)r.kgen);
	cJSON_AddStringToObject(o, "sha256", r.sha256);
	cJSON_AddStringToObject(o, "previous_sha256", r.previous_sha256);
	cJSON_AddStringToObject(o, "author", c->author);
	cJSON_AddNumberToObject(o, "journal_id", (double)r.journal_id);
	if (c->proposal_id != 0)
		cJSON_AddNumberToObject(o, "proposal_id", (double)c->proposal_id);
	gw_json(x, 200, o);
}

/* sop_write - an edit or a rollback of slug */
static void
sop_write(struct gw_ctx *x, const char *slug, const char *content, const char *base, const char *op,
          const char *note)
{
	char                  author[48];
	struct journal_change c = {.slug = slug,
	                           .op = op,
	                           .content = content,
	                           .base_sha256 = base,
	                           .author = author,
	                           .note = note};

	snprintf(author, sizeof(author), "user:%lld", (long long)x->user_id);
	gw_sop_change(x, &c);
}

/* api_sop_put - PUT /api/sops/{slug} {"content", "base_sha256"} */
void
api_sop_put(struct gw_ctx *x)
{
	const char *content = json_str(x->body, "content"),
	           *base = json_str(x->body, "base_sha256");
	bool utf8;

	if (content == NULL || base == NULL) {
		gw_error(x, 400, "missing_field",
		         "\"content\" and \"base_sha256\" are required strings");
		return;
	}
	if (!util_is_hex(base, 64)) {
		gw_error(x, 400, "invalid_value",
		         "\"base_sha256\" must be 64 lowercase hex characters");
		return;
	}
	if (util_utf8_chars(content, strlen(content), &utf8) < 1 || !utf8 ||
	    strlen(content) > GW_SOP_MAX_CONTENT) {
		gw_error(x, 400, "invalid_length",
		         "\"content\" must be 1 character to 60 KiB of UTF-8");
		return;
	}
	sop_write(x, x->params[0], content, base, "edit", "edited through the API");
}

/* api_sop_rollback - POST /api/sops/{slug}/rollback {"version"} */
void
api_sop_rollback(struct gw_ctx *x)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->body, "version");
	char         ver[16], note[64];
	const char  *p[] = {x->params[0], ver};
	PGresult    *r;

	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble ||
	    v->valueint < 1) {
		gw_error(x, 400, "wrong_type", "\"version\" must be a whole number of 1 or more");
		return;
	}
	snprintf(ver, sizeof(ver), "%d", v->valueint);
	r = db_exec(x->w->db, "SELECT content FROM sop_versions WHERE slug = $1 AND version = $2",
	            2, p);
	if (r == NULL) {
		gw_error(x, 503, "database_unavailable", "the database is not answering");
		return;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		gw_error(x, 404, "not_found", "no such SOP version");
		return;
	}
	snprintf(note, sizeof(note), "rollback to version %s", ver);
	sop_write(x, x->params[0], db_val(r, 0, 0), NULL, "rollback", note);
	PQclear(r);
}
