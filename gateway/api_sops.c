/*
 * api_sops.c - changing SOPs: PUT /api/sops/{slug}, POST .../rollback
 *
 * A change never rewrites history: it adds an immutable version, in one
 * transaction that also checks the caller's base hash (409 when the SOP
 * moved on), moves the SOP's current version and bumps the knowledge
 * generation.  After the commit the gateway carries the new generation on
 * every query (a worker that is behind reloads before answering) and
 * publishes sop.changed for everyone else.  A rollback is a new version
 * whose content equals the old one's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/gw.h"

#define SOP_MAX_CONTENT (60 * 1024)

/*
 * sop_write - add a version of slug with content, if the current version's
 * hash is base (NULL: no check).  Answers the request.
 */
static void
sop_write(struct gw_ctx *x, const char *slug, const char *content, const char *base,
          const char *note)
{
	char        sha[65], author[48];
	PGresult   *cur = NULL, *ins = NULL, *gen = NULL;
	const char *p1[] = {slug};
	long long   kgen;
	cJSON      *o;

	util_sha256_hex(content, strlen(content), sha);
	snprintf(author, sizeof(author), "user:%lld", (long long)x->user_id);
	if (db_begin(x->w->db) < 0)
		goto unavailable;
	cur = db_exec(
	    x->w->db,
	    "SELECT s.version, v.sha256 FROM sops s JOIN sop_versions v "
	    "  ON v.slug = s.slug AND v.version = s.version WHERE s.slug = $1 FOR UPDATE OF s",
	    1, p1);
	if (cur == NULL)
		goto unavailable;
	if (PQntuples(cur) == 0) {
		db_rollback(x->w->db);
		PQclear(cur);
		gw_error(x, 404, "not_found", "no such SOP");
		return;
	}
	if (base != NULL && strcmp(base, db_val(cur, 0, 1)) != 0) {
		db_rollback(x->w->db);
		PQclear(cur);
		gw_error(x, 409, "sha_mismatch",
		         "the SOP changed since base_sha256 was read; fetch it again and reapply");
		return;
	}
	{
		const char *p[] = {slug, content, sha, author, note};

		ins = db_exec(x->w->db,
		              "WITH v AS (INSERT INTO sop_versions (slug, version, content, "
		              "sha256, author, note) "
		              "  SELECT $1, version + 1, $2, $3, $4, $5 FROM sops WHERE slug = $1 "
		              "  RETURNING version) "
		              "UPDATE sops SET version = v.version, updated_at = now() FROM v "
		              "WHERE sops.slug = $1 RETURNING sops.version",
		              5, p);
	}
	gen = db_exec(x->w->db,
	              "UPDATE knowledge_generation SET gen = gen + 1 WHERE id = 1 RETURNING gen", 0,
	              NULL);
	if (ins == NULL || gen == NULL || PQntuples(ins) != 1 || db_commit(x->w->db) < 0)
		goto unavailable;
	kgen = strtoll(db_val(gen, 0, 0), NULL, 10);
	{
		long long cur_gen = atomic_load(&gw.kgen);

		while (kgen > cur_gen && !atomic_compare_exchange_weak(&gw.kgen, &cur_gen, kgen))
			;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "slug", slug);
	cJSON_AddNumberToObject(o, "version", atoi(db_val(ins, 0, 0)));
	cJSON_AddNumberToObject(o, "kgen", (double)kgen);
	{
		char *ev = json_print(o);

		if (ev != NULL)
			bus_publish("sop.changed", ev);
		free(ev);
	}
	cJSON_AddStringToObject(o, "sha256", sha);
	cJSON_AddStringToObject(o, "previous_sha256", db_val(cur, 0, 1));
	cJSON_AddStringToObject(o, "author", author);
	log_msg(LOG_INFO, x->trace_id, "sop %s: version %s by %s (%s)", slug, db_val(ins, 0, 0),
	        author, note);
	PQclear(cur);
	PQclear(ins);
	PQclear(gen);
	gw_json(x, 200, o);
	return;
unavailable:
	db_rollback(x->w->db);
	PQclear(cur);
	PQclear(ins);
	PQclear(gen);
	gw_error(x, 503, "database_unavailable", "the SOP could not be changed");
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
	    strlen(content) > SOP_MAX_CONTENT) {
		gw_error(x, 400, "invalid_length",
		         "\"content\" must be 1 character to 60 KiB of UTF-8");
		return;
	}
	sop_write(x, x->params[0], content, base, "edited through the API");
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
	sop_write(x, x->params[0], db_val(r, 0, 0), NULL, note);
	PQclear(r);
}
