/*
 * knowledge.c - the one writer of SOPs, examples and proposals' decisions
 *
 * The gateway and clubosctl never write knowledge themselves: they send
 * one of these ops to clubos-intelligence, which makes the change through
 * the journal (journal.c) and answers with the result.
 *
 *   know.sop      {"slug", "op": "edit", "content", "base_sha256", "by"}
 *                 {"slug", "op": "rollback", "version", "by"}
 *   know.examples {"op": "add", "text", "label", "by"} | {"op": "delete", "id", "by"}
 *   know.decide   {"id", "decision": "approve" | "reject", "by"}
 *   know.seed     {"sops": [{"slug", "route", "audience", "escalation", "actions",
 *                  "title", "keywords", "content"}], "examples": [{"text", "label"}]}
 *
 * A change that touched the examples asks the router to retrain before the
 * answer goes back, so the next query is routed by the new model; the bus's
 * examples.changed reaches every other router.  Input was validated by the
 * gateway already; it is checked again here, since this is the owner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "intelligence/intel.h"
#include "intelligence/journal.h"

#define KNOW_RETRAIN_MS 60000
#define KNOW_MAX_TEXT 2000
#define KNOW_MAX_CONTENT (60 * 1024)

/* The outcome of a retrain asked for by the notify hook. */
struct retrain {
	struct intel *in;
	const char   *tid;
	bool          asked, ok;
	cJSON        *model; /* the router's "model" status, when it answered */
};

/* know_notify - after a change is announced: the router retrains now if examples moved */
static void
know_notify(void *arg, const struct journal_result *r)
{
	struct retrain  *rt = arg;
	struct rpc_reply rep;
	const char      *why;
	cJSON           *st;

	if (rt == NULL || !r->examples || rt->in->router == NULL)
		return;
	rt->asked = true;
	if (rpc_client_peers(rt->in->router) == 0) {
		/* No router yet: it trains on the examples as they are when it starts. */
		rt->ok = true;
		return;
	}
	if (rpc_call(rt->in->router, ENV_OP_RELOAD, rt->tid, env_now_ms() + KNOW_RETRAIN_MS, "{}",
	             2, &rep) != 0 ||
	    rep.status != 0) {
		log_msg(LOG_WARN, rt->tid, "the router did not retrain now; examples.changed will");
		rpc_reply_clear(&rep);
		return;
	}
	rt->ok = true;
	if ((st = json_parse(rep.body, rep.len, &why)) != NULL) {
		rt->model = cJSON_DetachItemFromObject(st, "model");
		cJSON_Delete(st);
	}
	rpc_reply_clear(&rep);
}

/* reply_json - answer with o (taken) */
static void
reply_json(struct rpc_reply *rep, cJSON *o)
{
	rep->body = json_print(o);
	rep->len = rep->body != NULL ? strlen(rep->body) : 0;
	if (rep->body == NULL)
		rpc_reply_error(rep, 500, "internal", "out of memory");
	cJSON_Delete(o);
}

/* result_obj - what a change answers with */
static cJSON *
result_obj(const struct journal_result *r, const char *author)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "slug", r->slug);
	cJSON_AddNumberToObject(o, "version", r->version);
	cJSON_AddNumberToObject(o, "kgen", (double)r->kgen);
	cJSON_AddStringToObject(o, "sha256", r->sha256);
	cJSON_AddStringToObject(o, "previous_sha256", r->previous_sha256);
	cJSON_AddStringToObject(o, "author", author);
	cJSON_AddNumberToObject(o, "journal_id", (double)r->journal_id);
	return o;
}

/* whole_id - a JSON number that is a positive whole id, or 0 */
static int64_t
whole_id(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 9e15 ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return 0;
	return (int64_t)v->valuedouble;
}

/* author_of - "user:<by>" for a person, else the name given */
static void
author_of(const cJSON *q, char *out, size_t cap)
{
	int64_t by = whole_id(q, "by");

	if (by > 0)
		snprintf(out, cap, "user:%lld", (long long)by);
	else
		snprintf(out, cap, "%s", json_str(q, "author") ? json_str(q, "author") : "system");
}

/* valid_text - UTF-8 of 1..max characters */
static bool
valid_text(const char *s, size_t max_chars, size_t max_bytes)
{
	bool   utf8;
	size_t n;

	if (s == NULL || strlen(s) > max_bytes)
		return false;
	n = util_utf8_chars(s, strlen(s), &utf8);
	return utf8 && n >= 1 && n <= max_chars;
}

/* know_sop_change - know.sop: an edit or a rollback */
void
know_sop_change(struct intel *in, db_conn *db, const char *tid, const char *body, size_t len,
                struct rpc_reply *rep)
{
	const char           *why, *slug, *op;
	cJSON                *q = json_parse(body, len, &why);
	struct journal_change c = {0};
	struct journal_result r;
	struct retrain        rt = {.in = in, .tid = tid};
	char                  author[48], note[64];
	PGresult             *v = NULL;

	slug = json_str(q, "slug");
	op = json_str(q, "op");
	if (slug == NULL || op == NULL) {
		rpc_reply_error(rep, 400, "missing_field", "\"slug\" and \"op\" are required");
		goto out;
	}
	author_of(q, author, sizeof(author));
	c.slug = slug;
	c.author = author;
	c.request_id = tid;
	if (strcmp(op, "edit") == 0) {
		c.op = "edit";
		c.content = json_str(q, "content");
		c.base_sha256 = json_str(q, "base_sha256");
		c.note = "edited through the API";
		if (!valid_text(c.content, KNOW_MAX_CONTENT, KNOW_MAX_CONTENT) ||
		    c.base_sha256 == NULL || !util_is_hex(c.base_sha256, 64)) {
			rpc_reply_error(rep, 400, "invalid_value",
			                "an edit needs \"content\" (UTF-8, up to 60 KiB) and "
			                "\"base_sha256\" (64 hex characters)");
			goto out;
		}
	} else if (strcmp(op, "rollback") == 0) {
		int64_t     ver = whole_id(q, "version");
		char        vs[24];
		const char *p[] = {slug, vs};

		if (ver < 1) {
			rpc_reply_error(rep, 400, "wrong_type",
			                "\"version\" must be a whole number of 1 or more");
			goto out;
		}
		snprintf(vs, sizeof(vs), "%lld", (long long)ver);
		v = db_exec(db, "SELECT content FROM sop_versions WHERE slug = $1 AND version = $2",
		            2, p);
		if (v == NULL) {
			rpc_reply_error(rep, 503, "database_unavailable",
			                "the database is not answering");
			goto out;
		}
		if (PQntuples(v) == 0) {
			rpc_reply_error(rep, 404, "not_found", "no such SOP version");
			goto out;
		}
		snprintf(note, sizeof(note), "rollback to version %s", vs);
		c.op = "rollback";
		c.content = db_val(v, 0, 0);
		c.note = note;
	} else {
		rpc_reply_error(rep, 400, "invalid_value", "\"op\" must be edit or rollback");
		goto out;
	}
	if (journal_apply(db, &c, in->cfg->crash_at, know_notify, &rt, &r) < 0)
		rpc_reply_error(rep, (uint16_t)r.status, r.code, r.message);
	else
		reply_json(rep, result_obj(&r, author));
out:
	cJSON_Delete(rt.model);
	PQclear(v);
	cJSON_Delete(q);
}

/* label_known - an SOP slug or "oos"; -1 when the database did not answer */
static int
label_known(db_conn *db, const char *label)
{
	const char *p[] = {label};
	PGresult   *r;
	int         known;

	if (strcmp(label, "oos") == 0)
		return 1;
	if ((r = db_exec(db, "SELECT 1 FROM sops WHERE slug = $1", 1, p)) == NULL)
		return -1;
	known = PQntuples(r) == 1;
	PQclear(r);
	return known;
}

/* example_add - know.examples add: the example's id, and whether it is new */
static void
example_add(struct intel *in, db_conn *db, const char *tid, const cJSON *q, const char *author,
            struct rpc_reply *rep)
{
	const char             *text = json_str(q, "text"), *label = json_str(q, "label");
	const char             *p[] = {text, label};
	struct journal_result   r;
	struct retrain          rt = {.in = in, .tid = tid};
	struct journal_examples c = {
	    .source = "api", .author = author, .note = "added through the API", .request_id = tid};
	cJSON    *arr, *o;
	PGresult *e;
	char     *add;
	int       known;

	if (!valid_text(text, KNOW_MAX_TEXT, 4 * KNOW_MAX_TEXT) || label == NULL) {
		rpc_reply_error(rep, 400, "invalid_length",
		                "\"text\" must be 1 to 2000 characters of UTF-8");
		return;
	}
	if ((known = label_known(db, label)) < 0) {
		rpc_reply_error(rep, 503, "database_unavailable", "the database is not answering");
		return;
	}
	if (known == 0) {
		rpc_reply_error(rep, 400, "unknown_label",
		                "\"label\" must be an SOP slug or \"oos\"");
		return;
	}
	arr = cJSON_CreateArray();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "text", text);
	cJSON_AddStringToObject(o, "label", label);
	cJSON_AddItemToArray(arr, o);
	c.add = add = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	if (add == NULL) {
		rpc_reply_error(rep, 500, "internal", "out of memory");
		return;
	}
	if (journal_examples(db, &c, in->cfg->crash_at, know_notify, &rt, &r) < 0) {
		rpc_reply_error(rep, (uint16_t)r.status, r.code, r.message);
		goto out;
	}
	e = db_exec(db, "SELECT id FROM route_examples WHERE text = $1 AND label = $2", 2, p);
	if (e == NULL || PQntuples(e) != 1) {
		PQclear(e);
		rpc_reply_error(rep, 503, "database_unavailable",
		                "the example could not be read back");
		goto out;
	}
	if (r.examples && !rt.ok) {
		PQclear(e);
		rpc_reply_error(rep, 503, "retrain_failed",
		                "the example is stored, but the router did not retrain; it will on "
		                "examples.changed or its next start");
		goto out;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", strtod(db_val(e, 0, 0), NULL));
	cJSON_AddStringToObject(o, "text", text);
	cJSON_AddStringToObject(o, "label", label);
	cJSON_AddBoolToObject(o, "created", r.examples);
	cJSON_AddNumberToObject(o, "kgen", (double)r.kgen);
	if (rt.model != NULL) {
		cJSON_AddItemToObject(o, "model", rt.model);
		rt.model = NULL;
	}
	PQclear(e);
	reply_json(rep, o);
out:
	cJSON_Delete(rt.model);
	free(add);
}

/* example_delete - know.examples delete */
static void
example_delete(struct intel *in, db_conn *db, const char *tid, const cJSON *q, const char *author,
               struct rpc_reply *rep)
{
	struct journal_result   r;
	struct retrain          rt = {.in = in, .tid = tid};
	struct journal_examples c = {.delete_id = whole_id(q, "id"),
	                             .source = "api",
	                             .author = author,
	                             .note = "deleted through the API",
	                             .request_id = tid};
	cJSON                  *o;

	if (c.delete_id == 0) {
		rpc_reply_error(rep, 404, "not_found", "no such example");
		return;
	}
	if (journal_examples(db, &c, in->cfg->crash_at, know_notify, &rt, &r) < 0) {
		rpc_reply_error(rep, (uint16_t)r.status, r.code, r.message);
	} else if (!r.examples) {
		rpc_reply_error(rep, 404, "not_found", "no such example");
	} else if (!rt.ok) {
		rpc_reply_error(rep, 503, "retrain_failed",
		                "the example is deleted, but the router did not retrain");
	} else {
		o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "deleted", true);
		cJSON_AddNumberToObject(o, "kgen", (double)r.kgen);
		if (rt.model != NULL) {
			cJSON_AddItemToObject(o, "model", rt.model);
			rt.model = NULL;
		}
		reply_json(rep, o);
	}
	cJSON_Delete(rt.model);
}

/* know_examples - know.examples */
void
know_examples(struct intel *in, db_conn *db, const char *tid, const char *body, size_t len,
              struct rpc_reply *rep)
{
	const char *why, *op;
	cJSON      *q = json_parse(body, len, &why);
	char        author[48];

	op = json_str(q, "op");
	author_of(q, author, sizeof(author));
	if (op != NULL && strcmp(op, "add") == 0)
		example_add(in, db, tid, q, author, rep);
	else if (op != NULL && strcmp(op, "delete") == 0)
		example_delete(in, db, tid, q, author, rep);
	else
		rpc_reply_error(rep, 400, "invalid_value", "\"op\" must be add or delete");
	cJSON_Delete(q);
}

/* proposal_obj - one proposal as the API shows it (with content), or NULL */
static cJSON *
proposal_obj(db_conn *db, int64_t id)
{
	char        ids[24];
	const char *p[] = {ids};
	PGresult   *r;
	cJSON      *o = NULL;

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	r = db_exec(db, "SELECT proposal_json(p, true)::text FROM proposals p WHERE id = $1", 1, p);
	if (r != NULL && PQntuples(r) == 1)
		o = cJSON_Parse(db_val(r, 0, 0));
	PQclear(r);
	return o;
}

/* proposal_approve - apply a pending proposal through the journal */
static void
proposal_approve(struct intel *in, db_conn *db, const char *tid, int64_t id, int64_t by, cJSON *o,
                 struct rpc_reply *rep)
{
	struct journal_change c;
	struct journal_result r;
	struct retrain        rt = {.in = in, .tid = tid};
	const cJSON          *ex = cJSON_GetObjectItemCaseSensitive(o, "examples");
	const cJSON          *ns = cJSON_GetObjectItemCaseSensitive(o, "new_sop");
	const char           *kind = json_str(o, "kind");
	bool                  create = kind != NULL && strcmp(kind, "new_topic") == 0;
	char                 *examples = NULL, *new_sop = NULL, author[48], ids[24], uid[24];
	const char           *p[] = {ids, uid};

	if (json_str(o, "sop_slug") == NULL || json_str(o, "content") == NULL) {
		rpc_reply_error(rep, 409, "not_applicable",
		                "this gap has no text yet: write the SOP (or give a correct_answer "
		                "in feedback), then reject this flag");
		return;
	}
	if (ex != NULL)
		examples = cJSON_PrintUnformatted(ex);
	if (create && cJSON_IsObject(ns))
		new_sop = cJSON_PrintUnformatted(ns);
	snprintf(author, sizeof(author), "user:%lld", (long long)by);
	c = (struct journal_change){.slug = json_str(o, "sop_slug"),
	                            .op = create ? "create" : "proposal",
	                            .new_sop = new_sop,
	                            .content = json_str(o, "content"),
	                            .base_sha256 = create ? NULL : json_str(o, "base_sha256"),
	                            .examples = examples,
	                            .proposal_id = id,
	                            .author = author,
	                            .note = "approved proposal",
	                            .request_id = tid};
	if (journal_apply(db, &c, in->cfg->crash_at, know_notify, &rt, &r) < 0) {
		if (r.status == 409 && strcmp(r.code, "sha_mismatch") == 0)
			rpc_reply_error(
			    rep, 409, "stale",
			    "the SOP changed since the proposal was made; it is now stale");
		else
			rpc_reply_error(rep, (uint16_t)r.status, r.code, r.message);
		goto out;
	}
	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	snprintf(uid, sizeof(uid), "%lld", (long long)by);
	db_cmd(db, "UPDATE proposals SET decided_by = $2, decided_at = now() WHERE id = $1", 2, p);
	log_msg(LOG_INFO, tid, "proposal %lld approved: %s version %d", (long long)id, r.slug,
	        r.version);
	if ((o = proposal_obj(db, id)) == NULL) {
		rpc_reply_error(rep, 503, "database_unavailable",
		                "the proposal could not be read back");
		goto out;
	}
	cJSON_AddNumberToObject(o, "version", r.version);
	cJSON_AddStringToObject(o, "sha256", r.sha256);
	cJSON_AddNumberToObject(o, "journal_id", (double)r.journal_id);
	cJSON_AddNumberToObject(o, "kgen", (double)r.kgen);
	reply_json(rep, o);
out:
	cJSON_Delete(rt.model);
	free(examples);
	free(new_sop);
}

/* proposal_reject - mark a pending proposal rejected */
static void
proposal_reject(db_conn *db, const char *tid, int64_t id, int64_t by, struct rpc_reply *rep)
{
	char        ids[24], uid[24];
	const char *p[] = {ids, uid};
	PGresult   *r;
	cJSON      *o;

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	snprintf(uid, sizeof(uid), "%lld", (long long)by);
	r = db_exec(
	    db,
	    "UPDATE proposals SET status = 'rejected', decided_by = $2, decided_at = now(), "
	    "  updated_at = now() WHERE id = $1 AND status = 'pending' RETURNING id",
	    2, p);
	if (r == NULL) {
		rpc_reply_error(rep, 503, "database_unavailable", "the database is not answering");
		return;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		rpc_reply_error(rep, 409, "not_pending", "the proposal was decided meanwhile");
		return;
	}
	PQclear(r);
	log_msg(LOG_INFO, tid, "proposal %lld rejected", (long long)id);
	if ((o = proposal_obj(db, id)) == NULL)
		rpc_reply_error(rep, 503, "database_unavailable",
		                "the proposal could not be read back");
	else
		reply_json(rep, o);
}

/* know_decide - know.decide: approve or reject a pending proposal */
void
know_decide(struct intel *in, db_conn *db, const char *tid, const char *body, size_t len,
            struct rpc_reply *rep)
{
	const char           *why, *decision, *st;
	cJSON                *q = json_parse(body, len, &why), *o = NULL;
	int64_t               id = whole_id(q, "id"), by = whole_id(q, "by");
	char                  msg[128];
	struct journal_result r;

	decision = json_str(q, "decision");
	if (decision == NULL ||
	    (strcmp(decision, "approve") != 0 && strcmp(decision, "reject") != 0)) {
		rpc_reply_error(rep, 400, "invalid_value",
		                "\"decision\" must be approve or reject");
		goto out;
	}
	if (id == 0 || (o = proposal_obj(db, id)) == NULL) {
		rpc_reply_error(rep, 404, "not_found", "no such proposal");
		goto out;
	}
	st = json_str(o, "status");
	if (strcmp(decision, "approve") == 0 && st != NULL && strcmp(st, "applied") == 0 &&
	    journal_replayed(db, tid, &r)) {
		/* Asked again after the answer was lost: this request applied it. */
		cJSON_AddNumberToObject(o, "version", r.version);
		cJSON_AddStringToObject(o, "sha256", r.sha256);
		cJSON_AddNumberToObject(o, "journal_id", (double)r.journal_id);
		cJSON_AddNumberToObject(o, "kgen", (double)r.kgen);
		reply_json(rep, o);
		o = NULL;
		goto out;
	}
	if (st == NULL || strcmp(st, "pending") != 0) {
		snprintf(msg, sizeof(msg), "the proposal is %s, not pending", st ? st : "?");
		rpc_reply_error(rep, 409, "not_pending", msg);
		goto out;
	}
	if (strcmp(decision, "approve") == 0)
		proposal_approve(in, db, tid, id, by, o, rep);
	else
		proposal_reject(db, tid, id, by, rep);
out:
	cJSON_Delete(o);
	cJSON_Delete(q);
}

/* seed_meta - an SOP's route, audience, escalation, actions, title and keywords as the seed
 * says; 1 when they changed, 0 when not, -1 on error */
static int
seed_meta(db_conn *db, const cJSON *s, const char *actions)
{
	char        esc[8];
	const char *p[] = {
	    json_str(s, "slug"),  json_str(s, "route"),   json_str(s, "audience"), esc, actions,
	    json_str(s, "title"), json_str(s, "keywords")};
	PGresult *r;
	int       n;

	snprintf(esc, sizeof(esc), "%d", json_int(s, "escalation", 0));
	r = db_exec(db,
	            "UPDATE sops SET route = $2, audience = $3, escalation = $4, "
	            "  actions = ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), title = $6, "
	            "  keywords = $7, updated_at = now() "
	            "WHERE slug = $1 AND (route, audience, escalation, actions, title, keywords) "
	            "  IS DISTINCT FROM ($2, $3, $4::int, "
	            "  ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), $6, $7) RETURNING 1",
	            7, p);
	if (r == NULL)
		return -1;
	n = PQntuples(r);
	PQclear(r);
	return n;
}

/* seed_sop - one SOP from the seed: created, or a new version when the seed wrote the
 * current one and now says something else (never over a person's edit); 1 changed, 0 not,
 * -1 with rep filled */
static int
seed_sop(struct intel *in, db_conn *db, const char *tid, const cJSON *s, struct rpc_reply *rep)
{
	const char           *slug = json_str(s, "slug"), *content = json_str(s, "content");
	const char           *p[] = {slug};
	struct journal_change c = {
	    .slug = slug, .content = content, .author = "seed", .note = "seeded from deploy/seed"};
	struct journal_result r;
	char                 *actions, *new_sop = NULL, sha[65];
	PGresult             *cur;
	int                   changed = 0, meta;
	cJSON                *ns;

	if (slug == NULL || !valid_text(content, KNOW_MAX_CONTENT, KNOW_MAX_CONTENT) ||
	    json_str(s, "route") == NULL || json_str(s, "audience") == NULL ||
	    json_str(s, "title") == NULL) {
		rpc_reply_error(rep, 400, "invalid_value",
		                "every seeded SOP needs slug, route, audience, title and content");
		return -1;
	}
	actions = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(s, "actions"));
	if (actions == NULL)
		actions = strdup("[]");
	cur = db_exec(db,
	              "SELECT v.sha256, v.author FROM sops s JOIN sop_versions v "
	              "  ON v.slug = s.slug AND v.version = s.version WHERE s.slug = $1",
	              1, p);
	if (cur == NULL || actions == NULL)
		goto unavailable;
	util_sha256_hex(content, strlen(content), sha);
	if (PQntuples(cur) == 0) {
		ns = cJSON_CreateObject();
		cJSON_AddStringToObject(ns, "route", json_str(s, "route"));
		cJSON_AddStringToObject(ns, "audience", json_str(s, "audience"));
		cJSON_AddNumberToObject(ns, "escalation", json_int(s, "escalation", 0));
		cJSON_AddItemToObject(
		    ns, "actions",
		    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(s, "actions"), true));
		cJSON_AddStringToObject(ns, "title", json_str(s, "title"));
		cJSON_AddStringToObject(ns, "keywords",
		                        json_str(s, "keywords") ? json_str(s, "keywords") : "");
		new_sop = cJSON_PrintUnformatted(ns);
		cJSON_Delete(ns);
		c.op = "create";
		c.new_sop = new_sop;
	} else if (strcmp(db_val(cur, 0, 1), "seed") == 0 && strcmp(db_val(cur, 0, 0), sha) != 0) {
		c.op = "edit";
		c.base_sha256 = db_val(cur, 0, 0);
	}
	if ((meta = seed_meta(db, s, actions)) < 0)
		goto unavailable;
	if (c.op != NULL) {
		if (journal_apply(db, &c, in->cfg->crash_at, NULL, NULL, &r) < 0) {
			rpc_reply_error(rep, (uint16_t)r.status, r.code, r.message);
			changed = -1;
		} else {
			changed = 1;
		}
	} else if (meta > 0) {
		/* Only what the SOP is (not its text) changed: announce that too. */
		PGresult *g = db_exec(db,
		                      "UPDATE knowledge_generation SET gen = gen + 1 WHERE id = 1 "
		                      "RETURNING gen",
		                      0, NULL);
		cJSON    *ev = cJSON_CreateObject();
		char     *evs;

		cJSON_AddStringToObject(ev, "slug", slug);
		cJSON_AddNumberToObject(ev, "kgen", g != NULL ? strtod(db_val(g, 0, 0), NULL) : 0);
		if ((evs = json_print(ev)) != NULL)
			bus_publish("sop.changed", evs);
		free(evs);
		cJSON_Delete(ev);
		PQclear(g);
		changed = 1;
	}
	log_msg(LOG_DEBUG, tid, "seed %s: %s", slug, changed > 0 ? "changed" : "as it was");
	PQclear(cur);
	free(actions);
	free(new_sop);
	return changed;
unavailable:
	PQclear(cur);
	free(actions);
	free(new_sop);
	rpc_reply_error(rep, 503, "database_unavailable", "the database is not answering");
	return -1;
}

/* know_seed - know.seed: SOPs and examples from the seed files clubosctl read */
void
know_seed(struct intel *in, db_conn *db, const char *tid, const char *body, size_t len,
          struct rpc_reply *rep)
{
	const char             *why;
	cJSON                  *q = json_parse(body, len, &why), *o;
	const cJSON            *sops, *ex, *s;
	struct journal_examples c = {
	    .source = "seed", .author = "seed", .note = "seeded from deploy/seed"};
	struct journal_result r;
	struct retrain        rt = {.in = in, .tid = tid};
	char                 *add = NULL;
	int                   versions = 0, added = 0, n;

	sops = cJSON_GetObjectItemCaseSensitive(q, "sops");
	ex = cJSON_GetObjectItemCaseSensitive(q, "examples");
	if (!cJSON_IsArray(sops) || !cJSON_IsArray(ex)) {
		rpc_reply_error(rep, 400, "invalid_value",
		                "\"sops\" and \"examples\" must be arrays");
		goto out;
	}
	cJSON_ArrayForEach(s, sops)
	{
		if ((n = seed_sop(in, db, tid, s, rep)) < 0)
			goto out;
		versions += n;
	}
	if (cJSON_GetArraySize(ex) > 0) {
		PGresult *before = db_exec(db, "SELECT count(*) FROM route_examples", 0, NULL),
		         *after;

		if ((c.add = add = cJSON_PrintUnformatted(ex)) == NULL || before == NULL) {
			PQclear(before);
			rpc_reply_error(rep, 503, "database_unavailable",
			                "the database is not answering");
			goto out;
		}
		if (journal_examples(db, &c, in->cfg->crash_at, know_notify, &rt, &r) < 0) {
			PQclear(before);
			rpc_reply_error(rep, (uint16_t)r.status, r.code, r.message);
			goto out;
		}
		after = db_exec(db, "SELECT count(*) FROM route_examples", 0, NULL);
		if (after != NULL)
			added = atoi(db_val(after, 0, 0)) - atoi(db_val(before, 0, 0));
		PQclear(before);
		PQclear(after);
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "sop_versions", versions);
	cJSON_AddNumberToObject(o, "examples", added);
	reply_json(rep, o);
out:
	cJSON_Delete(rt.model);
	free(add);
	cJSON_Delete(q);
}
