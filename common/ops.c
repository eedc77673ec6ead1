/*
 * ops.c - the one module that writes actions and tickets
 *
 * Callers: router/rt_query.c and assistants/reply.c (ops_record), the
 * executor actions/ (claim, attempts, finish, recovery, expiry, ladder),
 * the gateway's gateway/api_ops.c (decide, tickets, Slack callbacks).
 * See ops.h for the guarantees.
 */
#include "common/ops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

/* ================================================================ basics */

/* ops_commit - COMMIT, and make sure the server really committed */
int
ops_commit(db_conn *db)
{
	PGconn   *pg = db_pg(db);
	PGresult *r;
	int       ok;

	if (pg == NULL)
		return -1;
	r = PQexec(pg, "COMMIT");
	/* COMMIT of an aborted transaction succeeds and answers ROLLBACK. */
	ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
	if (!ok)
		log_warn("ops: commit refused (%s): %s", PQcmdStatus(r), PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

/* i64 - a number as text for a parameter; NULL when zero */
static const char *
i64(char *buf, size_t cap, int64_t v)
{
	if (v == 0)
		return NULL;
	snprintf(buf, cap, "%lld", (long long)v);
	return buf;
}

/* one_id - the first column of a one-row result as a number, 0 if none */
static int64_t
one_id(PGresult *r)
{
	if (r == NULL || PQntuples(r) < 1 || db_null(r, 0, 0))
		return 0;
	return strtoll(db_val(r, 0, 0), NULL, 10);
}

/* ops_turns - the conversation's last n turns really said, oldest first (ops.h) */
cJSON *
ops_turns(db_conn *db, const char *conversation_id, const char *before_id, int n)
{
	char        ns[12];
	const char *p[] = {conversation_id, before_id, ns};
	PGresult   *r;
	cJSON      *a = cJSON_CreateArray();

	snprintf(ns, sizeof(ns), "%d", n);
	r = db_exec(db,
	            "SELECT author, text, offer, personal FROM (SELECT id, CASE WHEN direction = "
	            "'in' THEN 'customer' ELSE author END AS author, text, offer, personal FROM "
	            "messages WHERE "
	            "conversation_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint) AND "
	            "delivery NOT IN ('draft', 'shadow', 'discarded', 'failed') ORDER BY id DESC "
	            "LIMIT $3::int) t ORDER BY id",
	            3, p);
	for (int i = 0; a != NULL && r != NULL && i < PQntuples(r); i++) {
		cJSON *t = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "author", db_val(r, i, 0));
		cJSON_AddStringToObject(t, "text", db_val(r, i, 1));
		if (!PQgetisnull(r, i, 2)) {
			const char *why;
			cJSON      *o = json_parse(db_val(r, i, 2), strlen(db_val(r, i, 2)), &why);

			if (cJSON_IsArray(o))
				cJSON_AddItemToObject(t, "offer", o);
			else
				cJSON_Delete(o);
		}
		if (strcmp(db_val(r, i, 3), "t") == 0)
			cJSON_AddBoolToObject(t, "personal", true);
		cJSON_AddItemToArray(a, t);
	}
	PQclear(r);
	return a;
}

/* ops_answer_personal - see ops.h */
bool
ops_answer_personal(const cJSON *answer)
{
	const cJSON *p;
	const char  *route = json_str(answer, "route");

	if (route != NULL && strcmp(route, "customerinfo") == 0)
		return true;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(answer, "parts"))
	{
		if ((route = json_str(p, "route")) != NULL && strcmp(route, "customerinfo") == 0)
			return true;
	}
	return false;
}

/* ops_followup - an outgoing message of a conversation, queued for SMS (in the caller's
 * transaction) */
int
ops_followup(db_conn *db, int64_t conversation_id, const char *author, const char *text,
             const char *trace_id)
{
	char        cid[24];
	const char *p[] = {i64(cid, sizeof(cid), conversation_id), author, text, trace_id};

	if (conversation_id <= 0 || text == NULL)
		return 0;
	/* Only a text message goes through the outbox; on the web or a kiosk
	 * the message is there for the client to read once it is written. */
	if (db_cmd(db,
	           "INSERT INTO messages (conversation_id, direction, author, text, trace_id, "
	           "delivery) SELECT id, 'out', $2, $3, $4, CASE WHEN channel = 'sms' THEN "
	           "'queued' ELSE 'sent' END FROM conversations WHERE id = $1",
	           4, p) < 0)
		return -1;
	return db_cmd(db, "SELECT pg_notify('clubos_outbox', $1)", 1, (const char *const[]){cid});
}

/* ================================================================ record */

/* The two inserts every recorded item makes, prepared once per connection.
 * An item keyed by idem_key is written once: asked again, they return the
 * row already there. */
static const struct db_stmt insert_ticket = {
    "ops_insert_ticket",
    "WITH ins AS (INSERT INTO tickets (trace_id, priority, location, bay, summary, sop_slug, "
    "title, conversation_id, idem_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
    "COALESCE(to_timestamp($10::float8), now())) "
    "ON CONFLICT (idem_key) WHERE idem_key IS NOT NULL DO NOTHING RETURNING id) "
    "SELECT id FROM ins UNION ALL SELECT id FROM tickets WHERE idem_key = $9 LIMIT 1",
    10,
};
static const struct db_stmt insert_action = {
    "ops_insert_action",
    "WITH ins AS (INSERT INTO actions (trace_id, type, status, location, bay, detail, "
    "ticket_id, conversation_id, expires_at, idem_key, created_at) VALUES ($1, $2, $3, $4, "
    "$5, $6::jsonb, $7, $8, CASE WHEN $3 IN ('pending_confirmation', 'pending_approval') "
    "THEN COALESCE(to_timestamp($11::float8), now()) + make_interval(secs => $9::int) END, "
    "$10, COALESCE(to_timestamp($11::float8), now())) "
    "ON CONFLICT (idem_key) WHERE idem_key IS NOT NULL DO NOTHING RETURNING id) "
    "SELECT id FROM ins UNION ALL SELECT id FROM actions WHERE idem_key = $10 LIMIT 1",
    11,
};

/* insert_item - one ticket (if any) and its action; idem and at may be NULL */
static int
insert_item(db_conn *db, const struct ops_item *it, const char *idem, const char *at,
            struct ops_result *out)
{
	char        bay[16], cid[24], tid[24], ikey[100], ttl[16];
	const char *bayp = it->bay > 0 ? (snprintf(bay, sizeof(bay), "%d", it->bay), bay) : NULL;
	const char *cidp = i64(cid, sizeof(cid), it->conversation_id);
	PGresult   *r;

	out->action_id = out->ticket_id = 0;
	out->status = it->status;
	if (it->ticket != NULL) {
		const char *p[] = {it->trace_id,
		                   it->ticket->priority,
		                   it->location,
		                   bayp,
		                   it->ticket->summary,
		                   it->ticket->sop_slug,
		                   it->ticket->title,
		                   cidp,
		                   idem ? (snprintf(ikey, sizeof(ikey), "%s:t", idem), ikey) : NULL,
		                   at};

		r = db_exec_stmt(db, &insert_ticket, p);
		if ((out->ticket_id = one_id(r)) == 0) {
			PQclear(r);
			return -1;
		}
		PQclear(r);
	}
	snprintf(ttl, sizeof(ttl), "%d",
	         strcmp(it->status, "pending_approval") == 0 ? OPS_APPROVAL_TTL_S
	                                                     : OPS_CONFIRM_TTL_S);
	{
		const char *p[] = {it->trace_id,
		                   it->type,
		                   it->status,
		                   it->location,
		                   bayp,
		                   it->detail != NULL ? it->detail : "{}",
		                   i64(tid, sizeof(tid), out->ticket_id),
		                   cidp,
		                   ttl,
		                   idem,
		                   at};

		r = db_exec_stmt(db, &insert_action, p);
	}
	out->action_id = one_id(r);
	PQclear(r);
	if (out->action_id == 0)
		return -1;
	if (strcmp(it->status, "queued") == 0 &&
	    db_cmd(db, "SELECT pg_notify('clubos_actions', '')", 0, NULL) < 0)
		return -1;
	return 0;
}

/*
 * item_key - item i's idempotency key in buf (NULL when the batch has no
 * key): the batch's key, the item's type, and its ordinal among the
 * batch's items of that type, so the same request recording the same
 * kinds again matches, in whatever order (the router's emergency fallback
 * and a late emergency worker, say).
 */
static const char *
item_key(char *buf, size_t cap, const char *key, const struct ops_item *items, size_t i)
{
	size_t nth = 0;

	if (key == NULL)
		return NULL;
	for (size_t j = 0; j < i; j++)
		nth += strcmp(items[j].type, items[i].type) == 0;
	snprintf(buf, cap, "%s:%s:%zu", key, items[i].type, nth);
	return buf;
}

/* write_batch - every item in one transaction; 0 when committed */
static int
write_batch(db_conn *db, const struct ops_item *items, size_t n, const char *key, const char *at,
            struct ops_result *out)
{
	char idem[80];

	if (db == NULL)
		return -1;
	/* One action without a ticket or a notification is one statement, a
	 * transaction of its own: BEGIN and COMMIT would add two round trips
	 * to every action a customer asks for.  libpq returns its rows only
	 * after the server's ReadyForQuery, and an error raised at commit
	 * comes back as the statement's result, so success still means
	 * committed. */
	if (n == 1 && items[0].ticket == NULL && strcmp(items[0].status, "queued") != 0)
		return insert_item(db, &items[0], item_key(idem, sizeof(idem), key, items, 0), at,
		                   &out[0]);
	if (db_begin(db) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (insert_item(db, &items[i], item_key(idem, sizeof(idem), key, items, i), at,
		                &out[i]) < 0) {
			db_rollback(db);
			return -1;
		}
	}
	if (ops_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

/* item_json - an item as the spool keeps it */
static cJSON *
item_json(const struct ops_item *it)
{
	cJSON *o = cJSON_CreateObject();

	json_add_str(o, "type", it->type);
	json_add_str(o, "status", it->status);
	json_add_str(o, "location", it->location);
	cJSON_AddNumberToObject(o, "bay", it->bay);
	cJSON_AddNumberToObject(o, "conversation_id", (double)it->conversation_id);
	json_add_str(o, "trace_id", it->trace_id);
	json_add_str(o, "detail", it->detail);
	if (it->ticket != NULL) {
		cJSON *t = cJSON_AddObjectToObject(o, "ticket");

		json_add_str(t, "priority", it->ticket->priority);
		json_add_str(t, "title", it->ticket->title);
		json_add_str(t, "summary", it->ticket->summary);
		json_add_str(t, "sop_slug", it->ticket->sop_slug);
	}
	return o;
}

/* fsync_dir - make a rename or unlink in dir durable */
static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* spool_write - the batch as one file, on disk before this returns */
static int
spool_write(const char *dir, const struct ops_item *items, size_t n)
{
	char            key[33], tmp[512], path[512], at[32];
	cJSON          *o = cJSON_CreateObject(), *a;
	char           *text = NULL;
	int             fd = -1, rc = -1;
	size_t          len, off = 0;
	ssize_t         w;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(at, sizeof(at), "%.3f", (double)ts.tv_sec + ts.tv_nsec / 1e9);
	util_random_hex(key, 16);
	json_add_str(o, "key", key);
	json_add_str(o, "at", at);
	a = cJSON_AddArrayToObject(o, "items");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, item_json(&items[i]));
	if ((text = json_print(o)) == NULL || (len = strlen(text)) > OPS_SPOOL_MAX)
		goto fail;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		goto fail;
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, key) >= (int)sizeof(tmp) ||
	    snprintf(path, sizeof(path), "%s/%s.json", dir, key) >= (int)sizeof(path))
		goto fail;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		goto fail;
	while (off < len) {
		if ((w = write(fd, text + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0 || fsync_dir(dir) < 0)
		goto fail;
	rc = 0;
	log_msg(LOG_WARN, n > 0 ? items[0].trace_id : NULL,
	        "ops: PostgreSQL unavailable, %zu record(s) spooled as %s", n, key);
fail:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	free(text);
	cJSON_Delete(o);
	return rc;
}

/*
 * ops_record - write items (one transaction); spool them when PostgreSQL
 * cannot take them and spool_dir is set.  out[i] tells each one's fate.
 */
int
ops_record(db_conn *db, const char *spool_dir, const struct ops_item *items, size_t n,
           struct ops_result *out)
{
	if (n == 0)
		return OPS_RECORDED;
	/* Keyed by the request's trace id: a request asked again (a webhook
	 * event processed again after a crash, a worker's answer that came too
	 * late for the router) records its items once. */
	if (write_batch(db, items, n,
	                items[0].trace_id != NULL && *items[0].trace_id ? items[0].trace_id : NULL,
	                NULL, out) == 0)
		return OPS_RECORDED;
	for (size_t i = 0; i < n; i++) {
		out[i].action_id = out[i].ticket_id = 0;
		out[i].status = "failed";
	}
	if (spool_dir == NULL || spool_write(spool_dir, items, n) < 0) {
		log_msg(LOG_ERROR, items[0].trace_id,
		        "ops: %zu record(s) lost: no database, no spool", n);
		return OPS_FAILED;
	}
	/* Spooled: each will be written as it stands, so it keeps its status
	 * (a ticket counts as queued until it is written). */
	for (size_t i = 0; i < n; i++)
		out[i].status = strcmp(items[i].status, "done") == 0 ? "queued" : items[i].status;
	return OPS_SPOOLED;
}

/* spool_apply - write one spooled batch; 0 when it is in PostgreSQL */
static int
spool_apply(db_conn *db, const char *text, size_t len)
{
	const char       *why, *key, *at;
	cJSON            *o = json_parse(text, len, &why), *a, *e;
	struct ops_item   items[16];
	struct ops_ticket tickets[16];
	struct ops_result res[16];
	size_t            n = 0;
	int               rc = -1;

	if (o == NULL || (key = json_str(o, "key")) == NULL || !util_is_hex(key, 32) ||
	    (at = json_str(o, "at")) == NULL || !cJSON_IsArray(a = cJSON_GetObjectItem(o, "items")))
		goto bad;
	cJSON_ArrayForEach(e, a)
	{
		const cJSON *t = cJSON_GetObjectItem(e, "ticket");

		if (n == sizeof(items) / sizeof(items[0]) || json_str(e, "type") == NULL ||
		    json_str(e, "status") == NULL)
			goto bad;
		items[n] = (struct ops_item){
		    .type = json_str(e, "type"),
		    .status = json_str(e, "status"),
		    .location = json_str(e, "location"),
		    .bay = json_int(e, "bay", 0),
		    .conversation_id = (int64_t)json_num(e, "conversation_id", 0),
		    .trace_id = json_str(e, "trace_id"),
		    .detail = json_str(e, "detail"),
		};
		if (cJSON_IsObject(t)) {
			tickets[n] =
			    (struct ops_ticket){json_str(t, "priority"), json_str(t, "title"),
			                        json_str(t, "summary"), json_str(t, "sop_slug")};
			if (tickets[n].priority == NULL || tickets[n].summary == NULL)
				goto bad;
			items[n].ticket = &tickets[n];
		}
		n++;
	}
	rc = write_batch(db, items, n, key, at, res);
	cJSON_Delete(o);
	return rc;
bad:
	cJSON_Delete(o);
	return -2;
}

/*
 * ops_spool_flush - write every spooled batch that PostgreSQL will take,
 * then remove its file.  A crash between the commit and the unlink only
 * means the batch is applied again later, which its keys make a no-op.
 * Returns the number of batches written, -1 when PostgreSQL refused.
 */
int
ops_spool_flush(db_conn *db, const char *spool_dir)
{
	DIR           *d;
	struct dirent *de;
	int            done = 0;

	if ((d = opendir(spool_dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char   path[512], bad[560];
		size_t len;
		char  *text;
		int    rc;

		if (de->d_name[0] == '.' || strstr(de->d_name, ".json") == NULL)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", spool_dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if ((text = util_read_file(path, OPS_SPOOL_MAX, &len)) == NULL)
			continue;
		rc = spool_apply(db, text, len);
		free(text);
		if (rc == -1) {
			done = done > 0 ? done : -1;
			break;
		}
		if (rc == -2) {
			/* Never retried, never deleted: kept aside for a person. */
			snprintf(bad, sizeof(bad), "%s.bad", path);
			rename(path, bad);
			log_msg(LOG_ERROR, NULL, "ops: spool file %s unreadable, kept as .bad",
			        de->d_name);
			continue;
		}
		unlink(path);
		fsync_dir(spool_dir);
		log_msg(LOG_INFO, NULL, "ops: spooled batch %s written", de->d_name);
		done++;
	}
	closedir(d);
	return done;
}

/* spool_pending - does dir hold a batch to write? */
static bool
spool_pending(const char *dir)
{
	DIR           *d = opendir(dir);
	struct dirent *de;
	bool           any = false;

	if (d == NULL)
		return false;
	while (!any && (de = readdir(d)) != NULL)
		any = de->d_name[0] != '.' && strstr(de->d_name, ".json") != NULL &&
		      strstr(de->d_name, ".bad") == NULL;
	closedir(d);
	return any;
}

static struct {
	pthread_t       thr;
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	bool            running, stop;
	char            dsn[1024], dir[512];
} keeper = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* keeper_main - flush the spool while there is one; a connection only then */
static void *
keeper_main(void *arg)
{
	db_conn *db = NULL;

	(void)arg;
	pthread_mutex_lock(&keeper.mu);
	while (!keeper.stop) {
		struct timespec ts;
		int             n;

		pthread_mutex_unlock(&keeper.mu);
		if (spool_pending(keeper.dir)) {
			if (db == NULL)
				db = db_open(keeper.dsn);
			if (db != NULL && (n = ops_spool_flush(db, keeper.dir)) > 0)
				log_msg(LOG_INFO, NULL, "spool: %d batch(es) written", n);
		} else if (db != NULL) {
			db_close(db); /* idle: no connection held for nothing */
			db = NULL;
		}
		ts = util_deadline_ts(CLOCK_REALTIME, OPS_KEEPER_MS);
		pthread_mutex_lock(&keeper.mu);
		if (!keeper.stop)
			pthread_cond_timedwait(&keeper.cv, &keeper.mu, &ts);
	}
	pthread_mutex_unlock(&keeper.mu);
	db_close(db);
	return NULL;
}

/* ops_spool_keeper_start - see ops.h */
int
ops_spool_keeper_start(const char *pg_dsn, const char *spool_dir)
{
	if (keeper.running || pg_dsn == NULL || spool_dir == NULL ||
	    snprintf(keeper.dsn, sizeof(keeper.dsn), "%s", pg_dsn) >= (int)sizeof(keeper.dsn) ||
	    snprintf(keeper.dir, sizeof(keeper.dir), "%s", spool_dir) >= (int)sizeof(keeper.dir))
		return -1;
	keeper.stop = false;
	if (pthread_create(&keeper.thr, NULL, keeper_main, NULL) != 0)
		return -1;
	keeper.running = true;
	return 0;
}

/* ops_spool_keeper_stop - see ops.h */
void
ops_spool_keeper_stop(void)
{
	if (!keeper.running)
		return;
	pthread_mutex_lock(&keeper.mu);
	keeper.stop = true;
	pthread_cond_signal(&keeper.cv);
	pthread_mutex_unlock(&keeper.mu);
	pthread_join(keeper.thr, NULL);
	keeper.running = false;
}

/* ============================================================== executor */

/* ops_claimed_free - NULL-safe */
void
ops_claimed_free(struct ops_claimed *a)
{
	if (a == NULL)
		return;
	free(a->detail);
	a->detail = NULL;
}

/* copy - a result field into a fixed buffer */
static void
copy(char *dst, size_t cap, PGresult *r, int col)
{
	snprintf(dst, cap, "%s", db_null(r, 0, col) ? "" : db_val(r, 0, col));
}

/*
 * ops_claim - take the oldest ready queued action and mark it running
 * under a lease.  1 = claimed into *a, 0 = nothing ready, -1 = error.
 */
int
ops_claim(db_conn *db, int lease_s, struct ops_claimed *a)
{
	char        lease[16];
	const char *p[] = {lease};
	PGresult   *r;

	memset(a, 0, sizeof(*a));
	snprintf(lease, sizeof(lease), "%d", lease_s);
	if (db_begin(db) < 0)
		return -1;
	r = db_exec(db,
	            "UPDATE actions SET status = 'running', updated_at = now(), "
	            "lease_until = now() + make_interval(secs => $1::int) "
	            "WHERE id = (SELECT id FROM actions WHERE status = 'queued' AND "
	            "(next_attempt_at IS NULL OR next_attempt_at <= now()) ORDER BY id "
	            "FOR UPDATE SKIP LOCKED LIMIT 1) "
	            "RETURNING id, type, COALESCE(location, ''), COALESCE(bay, 0), "
	            "COALESCE(conversation_id, 0), COALESCE(ticket_id, 0), attempts, "
	            "COALESCE(trace_id, ''), detail::text, COALESCE(provider_ref, ''), page_step, "
	            "COALESCE((SELECT lang FROM conversations c WHERE c.id = "
	            "actions.conversation_id), 'en')",
	            1, p);
	if (r == NULL) {
		db_rollback(db);
		return -1;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		db_rollback(db);
		return 0;
	}
	a->id = strtoll(db_val(r, 0, 0), NULL, 10);
	copy(a->type, sizeof(a->type), r, 1);
	copy(a->location, sizeof(a->location), r, 2);
	a->bay = atoi(db_val(r, 0, 3));
	a->conversation_id = strtoll(db_val(r, 0, 4), NULL, 10);
	a->ticket_id = strtoll(db_val(r, 0, 5), NULL, 10);
	a->attempts = atoi(db_val(r, 0, 6));
	copy(a->trace_id, sizeof(a->trace_id), r, 7);
	a->detail = strdup(db_val(r, 0, 8));
	copy(a->provider_ref, sizeof(a->provider_ref), r, 9);
	a->page_step = atoi(db_val(r, 0, 10));
	copy(a->lang, sizeof(a->lang), r, 11);
	PQclear(r);
	if (ops_commit(db) < 0) {
		ops_claimed_free(a);
		return -1;
	}
	return 1;
}

/*
 * ops_attempt_begin - record that a call is about to be made (committed
 * before the call).  Returns the attempt's number, or -1.
 */
int
ops_attempt_begin(db_conn *db, int64_t action_id, const char *provider)
{
	char        id[24];
	const char *p[] = {i64(id, sizeof(id), action_id), provider};
	PGresult   *r;
	int         n;

	if (db_begin(db) < 0)
		return -1;
	r = db_exec(db,
	            "WITH a AS (UPDATE actions SET attempts = attempts + 1, updated_at = now() "
	            "WHERE id = $1 AND status = 'running' RETURNING attempts) "
	            "INSERT INTO action_attempts (action_id, n, provider) "
	            "SELECT $1, attempts, $2 FROM a RETURNING n",
	            2, p);
	n = r != NULL && PQntuples(r) == 1 ? atoi(db_val(r, 0, 0)) : -1;
	PQclear(r);
	if (n < 0 || ops_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	return n;
}

/* ops_attempt_end - the outcome of attempt n */
int
ops_attempt_end(db_conn *db, int64_t action_id, int n, const char *outcome, int http_status,
                const char *error)
{
	char        id[24], nb[16], hs[16];
	const char *p[] = {
	    i64(id, sizeof(id), action_id), (snprintf(nb, sizeof(nb), "%d", n), nb), outcome,
	    http_status > 0 ? (snprintf(hs, sizeof(hs), "%d", http_status), hs) : NULL, error};

	return db_cmd(db,
	              "UPDATE action_attempts SET finished_at = now(), outcome = $3, "
	              "http_status = $4, error = left($5, 500) WHERE action_id = $1 AND n = $2",
	              5, p);
}

/*
 * open_ticket - a ticket for an action that failed, linked to it.  When
 * the same request already has one (an emergency's urgent ticket), the
 * failure is a note on that ticket instead of a second ticket.
 */
static int
open_ticket(db_conn *db, int64_t id, const char *title)
{
	char        ids[24];
	const char *p[] = {i64(ids, sizeof(ids), id), title};

	return db_cmd(
	    db,
	    "WITH a AS (SELECT * FROM actions WHERE id = $1), "
	    "old AS (SELECT k.id FROM tickets k, a WHERE a.trace_id IS NOT NULL AND "
	    "k.trace_id = a.trace_id ORDER BY k.id LIMIT 1), "
	    "noted AS (UPDATE tickets SET updated_at = now(), notes = notes || "
	    "jsonb_build_array(jsonb_build_object('text', $2 || ': ' || "
	    "COALESCE((SELECT last_error FROM a), 'failed'), 'by', NULL, 'at', "
	    "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))) "
	    "WHERE id = (SELECT id FROM old) RETURNING id), "
	    "t AS (INSERT INTO tickets (trace_id, priority, location, bay, summary, title, "
	    "conversation_id) SELECT trace_id, CASE WHEN type IN ('alert_oncall', 'page_oncall') "
	    "THEN 'urgent' ELSE 'normal' END, location, bay, "
	    "$2 || ': ' || COALESCE(last_error, 'failed'), $2, conversation_id "
	    "FROM a WHERE NOT EXISTS (SELECT 1 FROM old) RETURNING id) "
	    "UPDATE actions SET ticket_id = COALESCE((SELECT id FROM noted), (SELECT id FROM t)) "
	    "WHERE id = $1",
	    2, p);
}

/*
 * ops_finish - close a running action (done or failed) or put it back in
 * the queue for another try; its follow-up message and ticket in the same
 * transaction.  Only an action still running is changed.
 */
int
ops_finish(db_conn *db, const struct ops_finish *f)
{
	char        id[24], ms[16], lad[16];
	const char *p[] = {i64(id, sizeof(id), f->id),
	                   f->status,
	                   f->error,
	                   (snprintf(ms, sizeof(ms), "%d", f->retry_in_ms), ms),
	                   f->provider_ref,
	                   f->ladder_s > 0 ? (snprintf(lad, sizeof(lad), "%d", f->ladder_s), lad)
	                                   : NULL};
	PGresult   *r;
	int64_t     conv;
	const char *tid;

	if (db_begin(db) < 0)
		return -1;
	r = db_exec(db,
	            "UPDATE actions SET status = $2, last_error = COALESCE(left($3, 500), "
	            "last_error), lease_until = NULL, updated_at = now(), "
	            "next_attempt_at = CASE WHEN $2 = 'queued' THEN now() + "
	            "make_interval(secs => $4::int / 1000.0) END, "
	            "provider_ref = COALESCE($5, provider_ref), "
	            "next_page_at = CASE WHEN $6::int IS NOT NULL AND acked_at IS NULL "
	            "THEN now() + make_interval(secs => $6::int) ELSE next_page_at END "
	            "WHERE id = $1 AND status = 'running' "
	            "RETURNING COALESCE(conversation_id, 0), trace_id",
	            6, p);
	if (r == NULL || PQntuples(r) != 1) {
		PQclear(r);
		db_rollback(db);
		return r == NULL ? -1 : OPS_CONFLICT;
	}
	conv = strtoll(db_val(r, 0, 0), NULL, 10);
	tid = db_null(r, 0, 1) ? NULL : db_val(r, 0, 1);
	if ((f->followup != NULL && ops_followup(db, conv, "bot", f->followup, tid) < 0) ||
	    (f->ticket_title != NULL && open_ticket(db, f->id, f->ticket_title) < 0) ||
	    (f->notify != NULL &&
	     db_cmd(db, "SELECT pg_notify($1, '')", 1, (const char *const[]){f->notify}) < 0)) {
		PQclear(r);
		db_rollback(db);
		return -1;
	}
	PQclear(r);
	if (ops_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

/* ops_defer - put a running action back without a call (an open circuit) */
int
ops_defer(db_conn *db, int64_t id, int in_ms, const char *why)
{
	char        ids[24], ms[16];
	const char *p[] = {i64(ids, sizeof(ids), id), (snprintf(ms, sizeof(ms), "%d", in_ms), ms),
	                   why};

	return db_cmd(db,
	              "UPDATE actions SET status = 'queued', lease_until = NULL, last_error = $3, "
	              "next_attempt_at = now() + make_interval(secs => $2::int / 1000.0), "
	              "updated_at = now() WHERE id = $1 AND status = 'running'",
	              3, p);
}

/*
 * ops_recover - running actions whose lease ran out: their executor died
 * mid-call.  An unfinished attempt's outcome is unknown.  If rerun(type)
 * says so the action goes back to the queue; otherwise it fails with that
 * reason, a ticket is opened and the customer is told a person will check.
 */
int
ops_recover(db_conn *db, bool (*rerun)(const char *type), int *requeued, int *failed)
{
	PGresult *r;

	*requeued = *failed = 0;
	if (db_begin(db) < 0)
		return -1;
	r = db_exec(db,
	            "SELECT a.id, a.type, EXISTS (SELECT 1 FROM action_attempts t "
	            "WHERE t.action_id = a.id AND t.finished_at IS NULL) "
	            "FROM actions a WHERE a.status = 'running' AND a.lease_until < now() "
	            "ORDER BY a.id FOR UPDATE SKIP LOCKED LIMIT 50",
	            0, NULL);
	if (r == NULL)
		goto fail;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *p[] = {db_val(r, i, 0)};
		bool        unknown = db_val(r, i, 2)[0] == 't';

		if (db_cmd(db,
		           "UPDATE action_attempts SET outcome = 'unknown', finished_at = now(), "
		           "error = 'the executor stopped during this call' "
		           "WHERE action_id = $1 AND finished_at IS NULL",
		           1, p) < 0)
			goto fail;
		if (!unknown || rerun(db_val(r, i, 1))) {
			if (db_cmd(db,
			           "UPDATE actions SET status = 'queued', lease_until = NULL, "
			           "next_attempt_at = NULL, updated_at = now() WHERE id = $1",
			           1, p) < 0)
				goto fail;
			(*requeued)++;
			continue;
		}
		if (db_cmd(db,
		           "UPDATE actions SET status = 'failed', lease_until = NULL, updated_at = "
		           "now(), last_error = 'outcome unknown: the executor stopped during the "
		           "call, and this action is not repeated blindly' WHERE id = $1",
		           1, p) < 0 ||
		    open_ticket(db, strtoll(p[0], NULL, 10), "Check the device: outcome unknown") <
		        0)
			goto fail;
		{
			PGresult *c = db_exec(db,
			                      "SELECT COALESCE(conversation_id, 0), trace_id FROM "
			                      "actions WHERE id = $1",
			                      1, p);

			if (c == NULL ||
			    ops_followup(db, strtoll(db_val(c, 0, 0), NULL, 10), "bot",
			                 "We could not confirm that this went through. "
			                 "A person from the team will check and follow "
			                 "up with you.",
			                 db_null(c, 0, 1) ? NULL : db_val(c, 0, 1)) < 0) {
				PQclear(c);
				goto fail;
			}
			PQclear(c);
		}
		(*failed)++;
	}
	PQclear(r);
	if (ops_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	if (*requeued > 0)
		db_cmd(db, "NOTIFY clubos_actions", 0, NULL);
	return 0;
fail:
	PQclear(r);
	db_rollback(db);
	return -1;
}

/* ops_expire - pending actions that waited too long; returns how many */
int
ops_expire(db_conn *db)
{
	PGresult *r = db_exec(
	    db,
	    "UPDATE actions SET status = 'expired', updated_at = now(), last_error = "
	    "CASE status WHEN 'pending_confirmation' THEN 'no confirmation in time' "
	    "ELSE 'no approval in time' END "
	    "WHERE status IN ('pending_confirmation', 'pending_approval') AND expires_at < now() "
	    "RETURNING id",
	    0, NULL);
	int n = r != NULL ? PQntuples(r) : -1;

	PQclear(r);
	return n;
}

/*
 * ops_ladder_due - alerts nobody acknowledged in time: one more page each
 * (a page_oncall action, step = how far up the ladder), up to max_steps.
 */
int
ops_ladder_due(db_conn *db, int max_steps, int ladder_s)
{
	char        mx[16], ls[16];
	const char *p[] = {(snprintf(mx, sizeof(mx), "%d", max_steps), mx),
	                   (snprintf(ls, sizeof(ls), "%d", ladder_s), ls)};
	PGresult   *r;
	int         n;

	if (db_begin(db) < 0)
		return -1;
	r = db_exec(db,
	            "WITH due AS (UPDATE actions SET page_step = page_step + 1, "
	            "next_page_at = CASE WHEN page_step + 1 < $1::int THEN now() + "
	            "make_interval(secs => $2::int) END, updated_at = now() "
	            "WHERE type = 'alert_oncall' AND acked_at IS NULL AND next_page_at <= now() "
	            "AND page_step < $1::int RETURNING id, page_step, trace_id, location, bay, "
	            "conversation_id) "
	            "INSERT INTO actions (trace_id, type, status, location, bay, conversation_id, "
	            "detail) SELECT trace_id, 'page_oncall', 'queued', location, bay, "
	            "conversation_id, jsonb_build_object('alert', id, 'step', page_step) FROM due "
	            "RETURNING id",
	            2, p);
	n = r != NULL ? PQntuples(r) : -1;
	PQclear(r);
	if (n < 0 || (n > 0 && db_cmd(db, "NOTIFY clubos_actions", 0, NULL) < 0) ||
	    ops_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	return n;
}

/* ops_circuit_save - a provider's circuit as health shows it */
int
ops_circuit_save(db_conn *db, const char *provider, const char *state, int failures,
                 const char *error)
{
	char        f[16];
	const char *p[] = {provider, state, (snprintf(f, sizeof(f), "%d", failures), f), error};

	return db_cmd(db,
	              "INSERT INTO provider_circuits (provider, state, failures, opened_at, "
	              "last_error) VALUES ($1, $2, $3::int, CASE WHEN $2 = 'open' THEN now() END, "
	              "left($4, 500)) ON CONFLICT (provider) DO UPDATE SET state = $2, "
	              "failures = $3::int, opened_at = CASE WHEN $2 = 'open' THEN now() ELSE "
	              "provider_circuits.opened_at END, last_error = COALESCE(left($4, 500), "
	              "provider_circuits.last_error), updated_at = now()",
	              4, p);
}

/*
 * ops_approval_next - an action waiting for staff approval that nobody
 * has been asked about in Slack yet; asked again after again_s if the
 * post did not go through.  1 = *a filled, 0 = none, -1 = error.
 */
int
ops_approval_next(db_conn *db, int again_s, struct ops_claimed *a)
{
	char        s[16];
	const char *p[] = {(snprintf(s, sizeof(s), "%d", again_s), s)};
	PGresult   *r;

	memset(a, 0, sizeof(*a));
	r = db_exec(
	    db,
	    "UPDATE actions SET next_attempt_at = now() + make_interval(secs => $1::int) "
	    "WHERE id = (SELECT id FROM actions WHERE status = 'pending_approval' AND "
	    "provider_ref IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= now()) "
	    "ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) "
	    "RETURNING id, type, COALESCE(location, ''), COALESCE(bay, 0), "
	    "COALESCE(conversation_id, 0), COALESCE(trace_id, '')",
	    1, p);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	a->id = strtoll(db_val(r, 0, 0), NULL, 10);
	copy(a->type, sizeof(a->type), r, 1);
	copy(a->location, sizeof(a->location), r, 2);
	a->bay = atoi(db_val(r, 0, 3));
	a->conversation_id = strtoll(db_val(r, 0, 4), NULL, 10);
	copy(a->trace_id, sizeof(a->trace_id), r, 5);
	PQclear(r);
	return 1;
}

/* ops_mark_posted - staff have been asked (the Slack message's ts) */
int
ops_mark_posted(db_conn *db, int64_t id, const char *ref)
{
	char        ids[24];
	const char *p[] = {i64(ids, sizeof(ids), id), ref};

	return db_cmd(db,
	              "UPDATE actions SET provider_ref = $2, next_attempt_at = NULL, updated_at = "
	              "now() WHERE id = $1",
	              2, p);
}

/* ops_provider_report - an executor starts: is this provider configured there? */
int
ops_provider_report(db_conn *db, const char *provider, bool configured)
{
	const char *p[] = {provider, configured ? "true" : "false"};

	return db_cmd(
	    db,
	    "INSERT INTO provider_circuits (provider, configured, state) "
	    "VALUES ($1, $2::boolean, 'closed') ON CONFLICT (provider) DO UPDATE SET "
	    "configured = $2::boolean, state = 'closed', failures = 0, updated_at = now()",
	    2, p);
}

/* ================================================================= staff */

/*
 * ops_decide - staff approve (pending_approval -> queued) or cancel
 * (anything not yet running or finished).  OPS_NOT_FOUND, OPS_CONFLICT.
 */
int
ops_decide(db_conn *db, int64_t id, int64_t user_id, const char *who, bool approve)
{
	char        ids[24], uid[24];
	const char *p[] = {i64(ids, sizeof(ids), id), i64(uid, sizeof(uid), user_id), who};
	PGresult   *r;
	int         rc;

	if (db_begin(db) < 0)
		return OPS_ERROR;
	r = db_exec(db,
	            approve ? "UPDATE actions SET status = 'queued', decided_by = $2, decided_at = "
	                      "now(), updated_at = now(), next_attempt_at = NULL, detail = detail "
	                      "|| jsonb_build_object("
	                      "'approved_by', $3::text) WHERE id = $1 AND status = "
	                      "'pending_approval' RETURNING id"
	                    : "UPDATE actions SET status = 'cancelled', decided_by = $2, "
	                      "decided_at = now(), updated_at = now(), detail = detail || "
	                      "jsonb_build_object('cancelled_by', $3::text) WHERE id = $1 AND "
	                      "status IN ('pending_confirmation', 'pending_approval', 'queued') "
	                      "RETURNING id",
	            3, p);
	if (r == NULL) {
		db_rollback(db);
		return OPS_ERROR;
	}
	rc = PQntuples(r) == 1 ? OPS_OK : OPS_CONFLICT;
	PQclear(r);
	if (rc == OPS_CONFLICT) {
		PGresult *e = db_exec(db, "SELECT 1 FROM actions WHERE id = $1", 1, p);

		rc = e == NULL ? OPS_ERROR : PQntuples(e) == 0 ? OPS_NOT_FOUND : OPS_CONFLICT;
		PQclear(e);
		db_rollback(db);
		return rc;
	}
	if ((approve && db_cmd(db, "NOTIFY clubos_actions", 0, NULL) < 0) || ops_commit(db) < 0) {
		db_rollback(db);
		return OPS_ERROR;
	}
	return OPS_OK;
}

/*
 * ops_confirm - the customer answered yes (queued) or no (cancelled) in
 * their conversation: only that conversation's newest pending
 * confirmation that has not expired, and only once.  For the SMS side.
 * Returns the action's id, 0 when nothing was waiting (a yes with nothing
 * pending, a replayed yes, a yes from another conversation), or OPS_ERROR.
 */
int64_t
ops_confirm(db_conn *db, int64_t conversation_id, bool yes)
{
	int64_t id;

	if (conversation_id <= 0)
		return 0;
	if (db_begin(db) < 0)
		return OPS_ERROR;
	id = ops_confirm_in(db, conversation_id, yes);
	if (id < 0 || ops_commit(db) < 0) {
		db_rollback(db);
		return OPS_ERROR;
	}
	return id;
}

/*
 * ops_confirm_in - ops_confirm inside the caller's transaction (the SMS
 * side answers a "yes" in the transaction that marks its event done).
 */
int64_t
ops_confirm_in(db_conn *db, int64_t conversation_id, bool yes)
{
	char        cid[24];
	const char *p[] = {i64(cid, sizeof(cid), conversation_id), yes ? "queued" : "cancelled"};
	PGresult   *r;
	int64_t     id;

	if (conversation_id <= 0)
		return 0;
	r = db_exec(db,
	            "UPDATE actions SET status = $2, decided_at = now(), updated_at = now(), "
	            "detail = detail || jsonb_build_object('confirmed', $2 = 'queued') "
	            "WHERE id = (SELECT id FROM actions WHERE conversation_id = $1 AND status = "
	            "'pending_confirmation' AND (expires_at IS NULL OR expires_at > now()) "
	            "ORDER BY id DESC LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id",
	            2, p);
	id = r != NULL ? one_id(r) : -1;
	PQclear(r);
	if (id < 0 || (id > 0 && yes && db_cmd(db, "NOTIFY clubos_actions", 0, NULL) < 0))
		return OPS_ERROR;
	return id;
}

/*
 * ops_record_in - one item inside the caller's transaction (no spool: the
 * caller's transaction is what makes it durable).  0 or -1.
 */
int
ops_record_in(db_conn *db, const struct ops_item *item, struct ops_result *out)
{
	return insert_item(db, item, NULL, NULL, out);
}

/* ops_ticket_patch - status, assignee (a user id as text, "" to clear) and a note */
int
ops_ticket_patch(db_conn *db, int64_t id, const char *status, const char *assignee,
                 const char *note, int64_t user_id)
{
	char        ids[24], uid[24];
	const char *p[] = {i64(ids, sizeof(ids), id), status, assignee, note,
	                   i64(uid, sizeof(uid), user_id)};
	PGresult   *r;
	int         rc;

	r = db_exec(db,
	            "UPDATE tickets SET status = COALESCE($2, status), "
	            "assignee = CASE WHEN $3::text IS NULL THEN assignee "
	            "WHEN $3 = '' THEN NULL ELSE $3::bigint END, "
	            "notes = CASE WHEN $4::text IS NULL THEN notes ELSE notes || "
	            "jsonb_build_array(jsonb_build_object('text', $4::text, 'by', $5::bigint, "
	            "'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))) "
	            "END, updated_at = now() WHERE id = $1 RETURNING id",
	            5, p);
	if (r == NULL)
		return OPS_ERROR;
	rc = PQntuples(r) == 1 ? OPS_OK : OPS_NOT_FOUND;
	PQclear(r);
	return rc;
}

/* alert_of - the alert an outside reference (Slack ts) or id names, locked */
static PGresult *
alert_of(db_conn *db, const char *ref, int64_t action_id)
{
	char        ids[24];
	const char *p[] = {ref, i64(ids, sizeof(ids), action_id)};

	return db_exec(db,
	               "SELECT id, COALESCE(conversation_id, 0), trace_id, acked_at IS NOT NULL "
	               "FROM actions WHERE (provider_ref = $1 OR id = $2::bigint) "
	               "ORDER BY id LIMIT 1 FOR UPDATE",
	               2, p);
}

/*
 * ops_ack - a person has seen an escalation (acknowledge) or takes the
 * conversation (take over).  The ladder stops; the customer is told once,
 * by name.  Returns the conversation id (0 if none), or an OPS_ code.
 */
int64_t
ops_ack(db_conn *db, const char *ref, int64_t action_id, const char *who, bool takeover)
{
	PGresult *r;
	int64_t   conv;
	char      text[300];
	bool      was_acked;

	if (db_begin(db) < 0)
		return OPS_ERROR;
	if ((r = alert_of(db, ref, action_id)) == NULL || PQntuples(r) != 1) {
		int rc = r == NULL ? OPS_ERROR : OPS_NOT_FOUND;

		PQclear(r);
		db_rollback(db);
		return rc;
	}
	conv = strtoll(db_val(r, 0, 1), NULL, 10);
	was_acked = db_val(r, 0, 3)[0] == 't';
	{
		const char *p[] = {db_val(r, 0, 0), who};

		if (db_cmd(db,
		           "UPDATE actions SET acked_by = COALESCE(acked_by, $2), acked_at = "
		           "COALESCE(acked_at, now()), next_page_at = NULL, updated_at = now() "
		           "WHERE id = $1",
		           2, p) < 0)
			goto fail;
	}
	if (takeover) {
		char        cid[24];
		const char *p[] = {i64(cid, sizeof(cid), conv), who};

		snprintf(text, sizeof(text),
		         "%.100s from the team is taking over this conversation and will reply "
		         "here.",
		         who);
		if (conv > 0 &&
		    (db_cmd(db,
		            "UPDATE conversations SET status = 'human', status_reason = "
		            "'taken over by ' || $2 WHERE id = $1",
		            2, p) < 0 ||
		     ops_followup(db, conv, "bot", text, db_val(r, 0, 2)) < 0))
			goto fail;
	} else if (!was_acked) {
		snprintf(text, sizeof(text), "%.100s from the team has seen this.", who);
		if (ops_followup(db, conv, "bot", text, db_val(r, 0, 2)) < 0)
			goto fail;
	}
	PQclear(r);
	if (ops_commit(db) < 0) {
		db_rollback(db);
		return OPS_ERROR;
	}
	return conv;
fail:
	PQclear(r);
	db_rollback(db);
	return OPS_ERROR;
}

/*
 * ops_staff_reply - a staff member answered in an escalation's Slack
 * thread: the text goes to the customer and the conversation is theirs.
 * An event seen before (event_id) changes nothing.  Returns the
 * conversation id, or an OPS_ code.
 */
int64_t
ops_staff_reply(db_conn *db, const char *ref, const char *event_id, const char *text)
{
	PGresult *r;
	int64_t   conv;
	char      cid[24];

	if (db_begin(db) < 0)
		return OPS_ERROR;
	if (event_id != NULL) {
		PGresult *e = db_exec(db,
		                      "INSERT INTO slack_events (event_id) VALUES ($1) "
		                      "ON CONFLICT DO NOTHING RETURNING 1",
		                      1, (const char *const[]){event_id});

		if (e == NULL || PQntuples(e) == 0) {
			int rc = e == NULL ? OPS_ERROR : OPS_CONFLICT;

			PQclear(e);
			db_rollback(db);
			return rc;
		}
		PQclear(e);
	}
	if ((r = alert_of(db, ref, 0)) == NULL || PQntuples(r) != 1 ||
	    (conv = strtoll(db_val(r, 0, 1), NULL, 10)) <= 0) {
		int rc = r == NULL ? OPS_ERROR : OPS_NOT_FOUND;

		PQclear(r);
		db_rollback(db);
		return rc;
	}
	{
		const char *p[] = {i64(cid, sizeof(cid), conv)};

		if (db_cmd(db,
		           "UPDATE conversations SET status = 'human', status_reason = "
		           "'staff replied from Slack' WHERE id = $1",
		           1, p) < 0 ||
		    ops_followup(db, conv, "staff", text, db_val(r, 0, 2)) < 0) {
			PQclear(r);
			db_rollback(db);
			return OPS_ERROR;
		}
	}
	PQclear(r);
	if (ops_commit(db) < 0) {
		db_rollback(db);
		return OPS_ERROR;
	}
	return conv;
}
