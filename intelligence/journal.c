/*
 * journal.c - SOP changes through a write-ahead journal (see journal.h)
 *
 * The advisory lock is session-level and keyed by the entry: held from the
 * moment the entry is committed until it is done, by the connection doing
 * the work.  If that process dies, PostgreSQL drops its session and the
 * lock with it, which is how recovery tells an orphan from an entry a live
 * process is still working on.
 */
#include "intelligence/journal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/log.h"
#include "common/util.h"

#define JOURNAL_LOCK_CLASS "1397706832" /* 'SOPP' */

/* fail_with - fill r with an error and return -1 */
static int
fail_with(struct journal_result *r, int status, const char *code, const char *message)
{
	r->status = status;
	r->code = code;
	r->message = message;
	return -1;
}

/* crash_point - die here if the test hook says so (never in production: cfg_check) */
static void
crash_point(const char *crash_at, const char *step, int64_t id)
{
	if (crash_at == NULL || strcmp(crash_at, step) != 0)
		return;
	log_msg(LOG_WARN, NULL, "journal %lld: CLUBOS_CRASH_AT=%s, dying now", (long long)id, step);
	raise(SIGKILL);
}

/* lock_entry - take (try: only if free) the entry's advisory lock; 1 got, 0 busy, -1 error */
static int
lock_entry(db_conn *db, int64_t id, bool try)
{
	char        ids[24];
	const char *p[] = {JOURNAL_LOCK_CLASS, ids};
	PGresult   *r;
	int         got;

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	r = db_exec(db,
	            try ? "SELECT pg_try_advisory_lock($1::int, $2::int)"
	                : "SELECT pg_advisory_lock($1::int, $2::int), true",
	            2, p);
	if (r == NULL)
		return -1;
	got = strcmp(db_val(r, 0, try ? 0 : 1), "t") == 0;
	PQclear(r);
	return got;
}

/* unlock_entry - release it (a dead session releases it by itself) */
static void
unlock_entry(db_conn *db, int64_t id)
{
	char        ids[24];
	const char *p[] = {JOURNAL_LOCK_CLASS, ids};

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	db_cmd(db, "SELECT pg_advisory_unlock($1::int, $2::int)", 2, p);
}

/* set_state - move an entry on, with a reason; 0 or -1 */
static int
set_state(db_conn *db, int64_t id, const char *state, const char *reason)
{
	char        ids[24];
	const char *p[] = {ids, state, reason != NULL ? reason : ""};

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	return db_cmd(db,
	              "UPDATE sop_journal SET state = $2, reason = $3, updated_at = now() "
	              "WHERE id = $1",
	              3, p);
}

/* undo - abort an entry whose change never committed; its proposal may be approved again */
static void
undo(db_conn *db, int64_t id, const char *reason)
{
	char        ids[24];
	const char *p[] = {ids, reason};

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	if (db_begin(db) < 0 ||
	    db_cmd(db,
	           "UPDATE sop_journal SET state = 'aborted', reason = $2, updated_at = now() "
	           "WHERE id = $1 AND state = 'pending'",
	           2, p) < 0 ||
	    db_cmd(db,
	           "UPDATE proposals SET status = 'pending', updated_at = now() "
	           "WHERE id = (SELECT proposal_id FROM sop_journal WHERE id = $1) "
	           "  AND status = 'approved'",
	           1, p) < 0 ||
	    db_commit(db) < 0) {
		db_rollback(db);
		log_msg(LOG_WARN, NULL, "journal %lld: could not undo (%s); recovery will",
		        (long long)id, reason);
		return;
	}
	log_msg(LOG_INFO, NULL, "journal %lld: undone: %s", (long long)id, reason);
}

/* announce - step 3: tell everyone the SOP changed, then the caller's hook */
static void
announce(const struct journal_result *r, journal_notify_fn notify, void *arg)
{
	char ev[256];

	if (r->slug[0] != '\0') {
		snprintf(ev, sizeof(ev), "{\"slug\":\"%s\",\"version\":%d,\"kgen\":%lld}", r->slug,
		         r->version, r->kgen);
		bus_publish("sop.changed", ev);
	}
	if (r->examples) {
		snprintf(ev, sizeof(ev), "{\"kgen\":%lld}", r->kgen);
		bus_publish("examples.changed", ev);
	}
	if (notify != NULL)
		notify(arg, r);
}

/*
 * replayed - the entry an earlier asking of the same request made, if any:
 * 1 with r filled as that change's result, 0 none, -1 with r filled (still
 * in progress, or the database failed)
 */
static int
replayed(db_conn *db, const char *request_id, struct journal_result *r)
{
	const char *p[] = {request_id};
	PGresult   *q;
	int         rc = 0;

	if (request_id == NULL || *request_id == '\0')
		return 0;
	q = db_exec(
	    db,
	    "SELECT id, state, slug, coalesce(new_version, 0), coalesce(kgen, 0), sha256, "
	    "  base_sha256, jsonb_array_length(examples) > 0 OR cardinality(example_ids) > 0 "
	    "FROM sop_journal WHERE request_id = $1 AND state <> 'aborted'",
	    1, p);
	if (q == NULL)
		return fail_with(r, 503, "database_unavailable", "the database is not answering");
	if (PQntuples(q) == 1) {
		if (strcmp(db_val(q, 0, 1), "pending") == 0) {
			rc = fail_with(
			    r, 409, "in_progress",
			    "this request's change is still being made; ask again shortly");
		} else {
			r->journal_id = strtoll(db_val(q, 0, 0), NULL, 10);
			snprintf(r->slug, sizeof(r->slug), "%s", db_val(q, 0, 2));
			r->version = atoi(db_val(q, 0, 3));
			r->kgen = strtoll(db_val(q, 0, 4), NULL, 10);
			snprintf(r->sha256, sizeof(r->sha256), "%s", db_val(q, 0, 5));
			snprintf(r->previous_sha256, sizeof(r->previous_sha256), "%s",
			         db_val(q, 0, 6));
			r->examples = strcmp(db_val(q, 0, 7), "t") == 0;
			r->status = 200;
			rc = 1;
		}
	}
	PQclear(q);
	return rc;
}

/* journal_replayed - 1 with r filled when request_id already made its change, else 0 */
int
journal_replayed(db_conn *db, const char *request_id, struct journal_result *r)
{
	memset(r, 0, sizeof(*r));
	return replayed(db, request_id, r) > 0;
}

/* journal_write - step 1: the entry, committed, and its lock; -1 with r filled */
static int
journal_write(db_conn *db, const struct journal_change *c, const char *sha,
              struct journal_result *r)
{
	char        pid[24];
	PGresult   *q;
	const char *p[] = {c->slug,
	                   c->op,
	                   c->content,
	                   sha,
	                   c->examples ? c->examples : "[]",
	                   c->proposal_id ? pid : NULL,
	                   c->author,
	                   c->note,
	                   c->request_id};

	snprintf(pid, sizeof(pid), "%lld", (long long)c->proposal_id);
	if (db_begin(db) < 0)
		return fail_with(r, 503, "database_unavailable", "the database is not answering");
	if (strcmp(c->op, "create") == 0) {
		const char *pc[] = {
		    c->slug,      c->content, sha,     p[4],
		    p[5],         c->author,  c->note, c->new_sop ? c->new_sop : "{}",
		    c->request_id};

		q = db_exec(
		    db,
		    "INSERT INTO sop_journal (slug, op, base_version, base_sha256, new_sop, "
		    "  content, sha256, examples, proposal_id, author, note, request_id) "
		    "SELECT $1, 'create', 0, '', $8::jsonb, $2, $3, $4::jsonb, $5::bigint, $6, "
		    "  $7, $9 WHERE NOT EXISTS (SELECT 1 FROM sops WHERE slug = $1) "
		    "RETURNING id, base_sha256",
		    9, pc);
		if (q != NULL && PQntuples(q) == 0) {
			PQclear(q);
			db_rollback(db);
			return fail_with(r, 409, "sop_exists",
			                 "an SOP with that slug exists already");
		}
	} else {
		q = db_exec(
		    db,
		    "INSERT INTO sop_journal (slug, op, base_version, base_sha256, content, "
		    "sha256, "
		    "  examples, proposal_id, author, note, request_id) "
		    "SELECT s.slug, $2, s.version, v.sha256, $3, $4, $5::jsonb, $6::bigint, $7, "
		    "$8, "
		    "  $9 "
		    "FROM sops s JOIN sop_versions v ON v.slug = s.slug AND v.version = s.version "
		    "WHERE s.slug = $1 RETURNING id, base_sha256",
		    9, p);
	}
	if (q == NULL)
		goto unavailable;
	if (PQntuples(q) == 0) {
		PQclear(q);
		db_rollback(db);
		return fail_with(r, 404, "not_found", "no such SOP");
	}
	r->journal_id = strtoll(db_val(q, 0, 0), NULL, 10);
	snprintf(r->previous_sha256, sizeof(r->previous_sha256), "%s", db_val(q, 0, 1));
	PQclear(q);
	if (c->base_sha256 != NULL && strcmp(c->base_sha256, r->previous_sha256) != 0) {
		/* Moved on before we even started: nothing to journal. */
		db_rollback(db);
		if (c->proposal_id != 0) {
			const char *pp[] = {pid};

			db_cmd(db,
			       "UPDATE proposals SET status = 'stale', status_reason = 'the SOP "
			       "changed after the proposal was made', updated_at = now() "
			       "WHERE id = $1 AND status = 'pending'",
			       1, pp);
		}
		return fail_with(r, 409, "sha_mismatch",
		                 "the SOP changed since its base_sha256 was read");
	}
	if (c->proposal_id != 0) {
		const char *pp[] = {pid};

		q = db_exec(db,
		            "UPDATE proposals SET status = 'approved', updated_at = now() "
		            "WHERE id = $1 AND status = 'pending' RETURNING id",
		            1, pp);
		if (q == NULL)
			goto unavailable;
		if (PQntuples(q) == 0) {
			PQclear(q);
			db_rollback(db);
			return fail_with(r, 409, "not_pending",
			                 "the proposal is no longer pending");
		}
		PQclear(q);
	}
	if (lock_entry(db, r->journal_id, false) != 1 || db_commit(db) < 0)
		goto unavailable;
	return 0;
unavailable:
	db_rollback(db);
	return fail_with(r, 503, "database_unavailable", "the SOP change could not be journaled");
}

/* journal_commit - step 2: the change itself, in one transaction; -1 with r filled */
static int
journal_commit(db_conn *db, struct journal_result *r)
{
	char        ids[24];
	const char *pj[] = {ids};
	PGresult   *q;

	snprintf(ids, sizeof(ids), "%lld", (long long)r->journal_id);
	if (db_begin(db) < 0)
		goto unavailable;
	/* A new SOP: its row first (version 0), unless the slug was taken meanwhile. */
	q = db_exec(
	    db,
	    "INSERT INTO sops (slug, route, audience, escalation, actions, title, keywords, "
	    "  version) "
	    "SELECT j.slug, coalesce(j.new_sop->>'route', 'general'), "
	    "  coalesce(j.new_sop->>'audience', 'staff'), "
	    "  coalesce((j.new_sop->>'escalation')::int, 0), "
	    "  ARRAY(SELECT jsonb_array_elements_text(coalesce(j.new_sop->'actions', '[]'))), "
	    "  coalesce(j.new_sop->>'title', j.slug), coalesce(j.new_sop->>'keywords', ''), 0 "
	    "FROM sop_journal j WHERE j.id = $1 AND j.op = 'create' "
	    "ON CONFLICT (slug) DO NOTHING",
	    1, pj);
	if (q == NULL)
		goto unavailable;
	PQclear(q);
	/* Still pending: if our session was lost, a recovery may have undone the entry. */
	q = db_exec(db,
	            "SELECT coalesce(v.sha256, '') = j.base_sha256 AND s.version = j.base_version "
	            "FROM sop_journal j JOIN sops s ON s.slug = j.slug "
	            "LEFT JOIN sop_versions v ON v.slug = s.slug AND v.version = s.version "
	            "WHERE j.id = $1 AND j.state = 'pending' FOR UPDATE OF s, j",
	            1, pj);
	if (q == NULL || PQntuples(q) != 1)
		goto unavailable_q;
	if (strcmp(db_val(q, 0, 0), "t") != 0) {
		PQclear(q);
		if (db_cmd(
		        db,
		        "UPDATE sop_journal SET state = 'aborted', reason = 'stale: the SOP "
		        "changed before the change was applied', updated_at = now() WHERE id = $1",
		        1, pj) < 0 ||
		    db_cmd(
		        db,
		        "UPDATE proposals SET status = 'stale', status_reason = 'the SOP changed "
		        "after the proposal was made', updated_at = now() "
		        "WHERE id = (SELECT proposal_id FROM sop_journal WHERE id = $1)",
		        1, pj) < 0 ||
		    db_commit(db) < 0)
			goto unavailable;
		return fail_with(r, 409, "sha_mismatch", "the SOP changed since its base was read");
	}
	PQclear(q);
	q = db_exec(db,
	            "WITH j AS (SELECT * FROM sop_journal WHERE id = $1), "
	            "v AS (INSERT INTO sop_versions (slug, version, content, sha256, author, note) "
	            "  SELECT j.slug, s.version + 1, j.content, j.sha256, j.author, j.note "
	            "  FROM j JOIN sops s ON s.slug = j.slug RETURNING slug, version) "
	            "UPDATE sops SET version = v.version, updated_at = now() FROM v "
	            "WHERE sops.slug = v.slug RETURNING sops.version",
	            1, pj);
	if (q == NULL || PQntuples(q) != 1)
		goto unavailable_q;
	r->version = atoi(db_val(q, 0, 0));
	PQclear(q);
	q = db_exec(db,
	            "WITH e AS (INSERT INTO route_examples (text, label, source) "
	            "  SELECT x->>'text', x->>'label', 'proposal' "
	            "  FROM sop_journal j, jsonb_array_elements(j.examples) x "
	            "  WHERE j.id = $1 AND (x->>'label' = 'oos' OR EXISTS "
	            "    (SELECT 1 FROM sops WHERE slug = x->>'label')) "
	            "  ON CONFLICT (text, label) DO NOTHING RETURNING id) "
	            "SELECT count(*) FROM e",
	            1, pj);
	if (q == NULL)
		goto unavailable;
	r->examples = atoi(db_val(q, 0, 0)) > 0;
	PQclear(q);
	q = db_exec(db, "UPDATE knowledge_generation SET gen = gen + 1 WHERE id = 1 RETURNING gen",
	            0, NULL);
	if (q == NULL || PQntuples(q) != 1)
		goto unavailable_q;
	r->kgen = strtoll(db_val(q, 0, 0), NULL, 10);
	PQclear(q);
	{
		char        ver[16], gen[24];
		const char *p[] = {ids, ver, gen};

		snprintf(ver, sizeof(ver), "%d", r->version);
		snprintf(gen, sizeof(gen), "%lld", r->kgen);
		if (db_cmd(db,
		           "UPDATE proposals SET status = 'applied', applied_version = $2, "
		           "  updated_at = now() "
		           "WHERE id = (SELECT proposal_id FROM sop_journal WHERE id = $1)",
		           2, p) < 0 ||
		    db_cmd(db,
		           "UPDATE sop_journal SET state = 'applied', new_version = $2, kgen = $3, "
		           "  updated_at = now() WHERE id = $1",
		           3, p) < 0 ||
		    db_commit(db) < 0)
			goto unavailable;
	}
	return 0;
unavailable_q:
	PQclear(q);
unavailable:
	db_rollback(db);
	return fail_with(r, 503, "database_unavailable", "the SOP could not be changed");
}

/* finish - steps 3 and 4 of a committed change: announce it, mark it done, let go */
static void
finish(db_conn *db, const char *crash_at, journal_notify_fn notify, void *arg,
       const struct journal_result *r)
{
	crash_point(crash_at, "applied", r->journal_id);
	announce(r, notify, arg);
	crash_point(crash_at, "published", r->journal_id);
	if (set_state(db, r->journal_id, "done", NULL) < 0)
		log_msg(LOG_WARN, NULL, "journal %lld: applied but not marked done; recovery will",
		        (long long)r->journal_id);
	unlock_entry(db, r->journal_id);
}

/* examples_commit - step 2 of an examples entry: add and remove, bump, mark applied */
static int
examples_commit(db_conn *db, struct journal_result *r)
{
	char        ids[24], gen[24];
	const char *pj[] = {ids}, *pg[] = {ids, gen};
	PGresult   *q;
	int         changed;

	snprintf(ids, sizeof(ids), "%lld", (long long)r->journal_id);
	if (db_begin(db) < 0)
		goto unavailable;
	q = db_exec(db, "SELECT 1 FROM sop_journal WHERE id = $1 AND state = 'pending' FOR UPDATE",
	            1, pj);
	if (q == NULL || PQntuples(q) != 1)
		goto unavailable_q;
	PQclear(q);
	q = db_exec(db,
	            "WITH a AS (INSERT INTO route_examples (text, label, source) "
	            "  SELECT x->>'text', x->>'label', j.source "
	            "  FROM sop_journal j, jsonb_array_elements(j.examples) x "
	            "  WHERE j.id = $1 AND (x->>'label' = 'oos' OR EXISTS "
	            "    (SELECT 1 FROM sops WHERE slug = x->>'label')) "
	            "  ON CONFLICT (text, label) DO NOTHING RETURNING id), "
	            "d AS (DELETE FROM route_examples WHERE id = ANY "
	            "  (SELECT unnest(example_ids) FROM sop_journal WHERE id = $1) RETURNING id) "
	            "SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM d)",
	            1, pj);
	if (q == NULL || PQntuples(q) != 1)
		goto unavailable_q;
	changed = atoi(db_val(q, 0, 0));
	PQclear(q);
	r->examples = changed > 0;
	q = db_exec(db, "UPDATE knowledge_generation SET gen = gen + 1 WHERE id = 1 RETURNING gen",
	            0, NULL);
	if (q == NULL || PQntuples(q) != 1)
		goto unavailable_q;
	r->kgen = strtoll(db_val(q, 0, 0), NULL, 10);
	PQclear(q);
	snprintf(gen, sizeof(gen), "%lld", r->kgen);
	if (db_cmd(db,
	           "UPDATE sop_journal SET state = 'applied', kgen = $2, updated_at = now() "
	           "WHERE id = $1",
	           2, pg) < 0 ||
	    db_commit(db) < 0)
		goto unavailable;
	return 0;
unavailable_q:
	PQclear(q);
unavailable:
	db_rollback(db);
	return fail_with(r, 503, "database_unavailable", "the examples could not be changed");
}

/* journal_examples - add or remove training examples, the same four steps as an SOP change */
int
journal_examples(db_conn *db, const struct journal_examples *c, const char *crash_at,
                 journal_notify_fn notify, void *arg, struct journal_result *r)
{
	char        del[32], sha[65];
	const char *p[] = {
	    c->add != NULL ? c->add : "[]", del, c->source, c->author, c->note, sha, c->request_id};
	PGresult *q;
	int       rc;

	memset(r, 0, sizeof(*r));
	if ((rc = replayed(db, c->request_id, r)) != 0)
		return rc > 0 ? 0 : -1;
	util_sha256_hex("", 0, sha);
	if (c->delete_id > 0)
		snprintf(del, sizeof(del), "{%lld}", (long long)c->delete_id);
	else
		snprintf(del, sizeof(del), "{}");
	if (db_begin(db) < 0)
		return fail_with(r, 503, "database_unavailable", "the database is not answering");
	q = db_exec(
	    db,
	    "INSERT INTO sop_journal (slug, op, base_version, base_sha256, content, sha256, "
	    "  examples, example_ids, source, author, note, request_id) "
	    "VALUES ('', 'examples', 0, '', '', $6, $1::jsonb, $2::bigint[], $3, $4, $5, "
	    "  $7) RETURNING id",
	    7, p);
	if (q == NULL || PQntuples(q) != 1) {
		PQclear(q);
		db_rollback(db);
		return fail_with(r, 503, "database_unavailable",
		                 "the change could not be journaled");
	}
	r->journal_id = strtoll(db_val(q, 0, 0), NULL, 10);
	PQclear(q);
	if (lock_entry(db, r->journal_id, false) != 1 || db_commit(db) < 0) {
		db_rollback(db);
		return fail_with(r, 503, "database_unavailable",
		                 "the change could not be journaled");
	}
	crash_point(crash_at, "journaled", r->journal_id);
	if (examples_commit(db, r) < 0) {
		undo(db, r->journal_id, "the database failed while applying");
		unlock_entry(db, r->journal_id);
		return -1;
	}
	finish(db, crash_at, notify, arg, r);
	log_msg(LOG_INFO, NULL, "journal %lld: examples by %s (%s)%s", (long long)r->journal_id,
	        c->author, c->note, r->examples ? "" : ": nothing changed");
	r->status = 200;
	return 0;
}

/* journal_apply - make one change, all four steps; 0, or -1 with r's status and code */
int
journal_apply(db_conn *db, const struct journal_change *c, const char *crash_at,
              journal_notify_fn notify, void *arg, struct journal_result *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = replayed(db, c->request_id, r)) != 0)
		return rc > 0 ? 0 : -1;
	snprintf(r->slug, sizeof(r->slug), "%s", c->slug);
	util_sha256_hex(c->content, strlen(c->content), r->sha256);
	if (journal_write(db, c, r->sha256, r) < 0)
		return -1;
	crash_point(crash_at, "journaled", r->journal_id);
	if (journal_commit(db, r) < 0) {
		if (r->status == 503)
			undo(db, r->journal_id, "the database failed while applying");
		unlock_entry(db, r->journal_id);
		return -1;
	}
	finish(db, crash_at, notify, arg, r);
	log_msg(LOG_INFO, NULL, "journal %lld: %s %s version %d by %s (%s)",
	        (long long)r->journal_id, c->op, c->slug, r->version, c->author, c->note);
	r->status = 200;
	return 0;
}

/* recover_one - finish or undo one orphaned entry (its lock is held) */
static void
recover_one(db_conn *db, int64_t id, journal_notify_fn notify, void *arg)
{
	char                  ids[24];
	const char           *p[] = {ids};
	PGresult             *q;
	struct journal_result r;

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	q = db_exec(
	    db,
	    "SELECT state, slug, coalesce(new_version, 0), coalesce(kgen, 0), sha256, "
	    "  base_sha256, jsonb_array_length(examples) > 0 OR cardinality(example_ids) > 0 "
	    "FROM sop_journal WHERE id = $1",
	    1, p);
	if (q == NULL || PQntuples(q) != 1) {
		PQclear(q);
		return;
	}
	if (strcmp(db_val(q, 0, 0), "pending") == 0) {
		undo(db, id, "recovered: its process died before the change committed");
	} else if (strcmp(db_val(q, 0, 0), "applied") == 0) {
		memset(&r, 0, sizeof(r));
		r.status = 200;
		r.journal_id = id;
		snprintf(r.slug, sizeof(r.slug), "%s", db_val(q, 0, 1));
		r.version = atoi(db_val(q, 0, 2));
		r.kgen = strtoll(db_val(q, 0, 3), NULL, 10);
		snprintf(r.sha256, sizeof(r.sha256), "%s", db_val(q, 0, 4));
		snprintf(r.previous_sha256, sizeof(r.previous_sha256), "%s", db_val(q, 0, 5));
		r.examples = strcmp(db_val(q, 0, 6), "t") == 0;
		announce(&r, notify, arg);
		if (set_state(db, id, "done",
		              "recovered: announced again after its process died") == 0)
			log_msg(LOG_INFO, NULL, "journal %lld: %s version %d completed by recovery",
			        (long long)id, r.slug, r.version);
	}
	PQclear(q);
}

/* journal_recover - finish or undo every entry whose owner is gone; how many, or -1 */
int
journal_recover(db_conn *db, journal_notify_fn notify, void *arg)
{
	PGresult *q;
	int       n = 0;

	q = db_exec(db,
	            "SELECT id FROM sop_journal WHERE state IN ('pending', 'applied') "
	            "ORDER BY id LIMIT 100",
	            0, NULL);
	if (q == NULL)
		return -1;
	for (int i = 0; i < PQntuples(q); i++) {
		int64_t id = strtoll(db_val(q, i, 0), NULL, 10);

		if (lock_entry(db, id, true) != 1)
			continue; /* a live process is on it */
		recover_one(db, id, notify, arg);
		unlock_entry(db, id);
		n++;
	}
	PQclear(q);
	return n;
}
