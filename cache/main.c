/*
 * clubos-cache - the shared tiers of the response cache
 *
 * Serves cache.get, cache.put, cache.invalidate and cache.stats on
 * cache.ipc.  L2 is Redis (fast, shared by every router, lost on a
 * restart); L3 is PostgreSQL (durable: it survives restarts of everything
 * and warms the tiers above).  A get tries L2, then L3, and copies an L3
 * hit into L2.  A put writes both.  Invalidation by SOP slug (on the
 * sop.changed event, and on request) removes an SOP's entries from both;
 * the version recorded in every entry makes an old one harmless even
 * before the purge arrives, because the router checks it.
 *
 * Degradation: with Redis down, gets and puts go to L3 alone and nothing
 * fails; Redis is retried at most once a second.  With PostgreSQL down,
 * L2 still serves.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "common/bus.h"
#include "common/daemon.h"
#include "common/conns.h"
#include "common/db.h"
#include "common/env.h"
#include "common/json.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/rpc.h"
#include "common/trace.h"

#define CACHE_TTL_S 86400

static const struct cfg *cc_cfg;
static rpc_server       *cc_server;
static bus_sub          *cc_events;
static pthread_t         cc_events_thr;
static atomic_bool       cc_stopping;

static struct {
	atomic_ullong l2_hits, l2_misses, l3_hits, l3_misses, puts, invalidations, errors;
	atomic_ullong l2_hit_us, l3_hit_us;
} cc_st;

/* reply_obj - answer with a JSON object (takes ownership) */
static void
reply_obj(struct rpc_reply *rep, cJSON *o)
{
	rep->body = json_print(o);
	rep->len = rep->body != NULL ? strlen(rep->body) : 0;
	cJSON_Delete(o);
}

/* l2_key - the Redis key of a cache key */
static void
l2_key(const char *key, char *out, size_t cap)
{
	snprintf(out, cap, "cache:%s", key);
}

/*
 * The L2 entries of one SOP are listed in a Redis set, so that a change
 * to the SOP finds and drops them.  The set is bounded: an entry is put
 * in L2 only once its key is in the set (invalidation must find every
 * one), and with the set at CACHE_INDEX_MAX the entry stays in L3 alone.
 * The set expires with the longest-lived entry it can list.
 */
#define CACHE_INDEX_MAX 20000

/* One round trip: list the key in its SOP's index unless the index is
 * full, keep the index alive as long as any entry it can list, then SET. */
static const char l2_store_lua[] =
    "if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end\n"
    "redis.call('SADD', KEYS[1], KEYS[2])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])\n"
    "return 1\n";

/* l2_store - SET an L2 entry once its SOP's index lists it */
static void
l2_store(struct conns *w, const char *rk, const char *text, const char *ttl, const char *label)
{
	char        idx[160], max[16], maxttl[16];
	redisReply *r;

	snprintf(idx, sizeof(idx), "cache-by-sop:%s", label);
	snprintf(max, sizeof(max), "%d", CACHE_INDEX_MAX);
	snprintf(maxttl, sizeof(maxttl), "%d", CACHE_TTL_S);
	{
		const char *argv[] = {"EVAL", l2_store_lua, "2", idx, rk, max, maxttl, text, ttl};

		if ((r = kv_cmdargv(w->kv, 9, argv, NULL)) != NULL)
			freeReplyObject(r);
	}
}

/* l2_flush - drop every L2 entry and index, a SCAN page at a time (never
 * KEYS: it blocks Redis for as long as the keyspace is large) */
static void
l2_flush(struct conns *w)
{
	char cursor[32] = "0";

	for (int pages = 0; pages < 100000; pages++) {
		const char *scan[] = {"SCAN", cursor, "MATCH", "cache*", "COUNT", "500"};
		redisReply *r = kv_cmdargv(w->kv, 6, scan, NULL);

		if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			if (r != NULL)
				freeReplyObject(r);
			return;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			const redisReply *k = r->element[1]->element[i];
			const char       *del[] = {"UNLINK", k->str};
			redisReply       *d;

			if (k->type == REDIS_REPLY_STRING &&
			    (d = kv_cmdargv(w->kv, 2, del, NULL)) != NULL)
				freeReplyObject(d);
		}
		freeReplyObject(r);
		if (strcmp(cursor, "0") == 0)
			return;
	}
}

/* L3's two statements, run on every miss and every store, prepared once
 * per connection: the lookup counts the hit and never returns an expired
 * entry; the store replaces an older entry under the same key. */
static const struct db_stmt l3_get = {
    "cache_l3_get",
    "UPDATE cache_entries SET hits = hits + 1 WHERE key = $1 AND expires_at > now() "
    "RETURNING json_build_object('label', sop_slug, 'version', sop_version, "
    "'scope', scope, 'value', value, "
    "'ttl', greatest(1, extract(epoch FROM expires_at - now())::int))::text",
    1,
};
static const struct db_stmt l3_put = {
    "cache_l3_put",
    "INSERT INTO cache_entries (key, scope, sop_slug, sop_version, value, expires_at) "
    "SELECT x.key, x.scope, x.label, x.version, x.value, now() + make_interval(secs => $2::int) "
    "FROM jsonb_to_recordset($1::jsonb) AS "
    "x(key text, scope text, label text, version int, value text) "
    "ON CONFLICT (key) DO UPDATE SET scope = EXCLUDED.scope, sop_slug = EXCLUDED.sop_slug, "
    "sop_version = EXCLUDED.sop_version, value = EXCLUDED.value, "
    "expires_at = EXCLUDED.expires_at, created_at = now()",
    2,
};

/* cc_get - L2, then L3 (copied up into L2) */
static void
cc_get(struct conns *w, const cJSON *q, struct rpc_reply *rep)
{
	const char *key = json_str(q, "key");
	char        rk[CACHE_VALUE_MAX / 16];
	int64_t     t0 = env_mono_us();
	cJSON      *o = cJSON_CreateObject();
	redisReply *r;
	PGresult   *pr;

	if (key == NULL || strlen(key) > 2200) {
		cJSON_Delete(o);
		rpc_reply_error(rep, 400, "bad_request", "cache.get needs a key");
		return;
	}
	l2_key(key, rk, sizeof(rk));
	{
		const char *argv[] = {"GET", rk};

		r = kv_cmdargv(w->kv, 2, argv, NULL);
	}
	if (r != NULL && r->type == REDIS_REPLY_STRING) {
		const char *why;
		cJSON      *e = json_parse(r->str, r->len, &why);

		freeReplyObject(r);
		if (e != NULL) {
			cJSON_AddStringToObject(e, "tier", "l2");
			cJSON_AddBoolToObject(e, "hit", true);
			atomic_fetch_add(&cc_st.l2_hits, 1);
			atomic_fetch_add(&cc_st.l2_hit_us,
			                 (unsigned long long)(env_mono_us() - t0));
			cJSON_Delete(o);
			reply_obj(rep, e);
			return;
		}
	} else if (r != NULL)
		freeReplyObject(r);
	atomic_fetch_add(&cc_st.l2_misses, 1);
	{
		const char *p[] = {key};

		pr = db_exec_stmt(w->db, &l3_get, p);
	}
	if (pr != NULL && PQntuples(pr) == 1) {
		const char *why;
		cJSON      *e = json_parse(db_val(pr, 0, 0), strlen(db_val(pr, 0, 0)), &why);

		if (e != NULL) {
			char *text, ttl[16];

			/* Warm L2 for the next asker, listed like any other entry. */
			snprintf(ttl, sizeof(ttl), "%d", json_int(e, "ttl", 60));
			cJSON_DeleteItemFromObject(e, "ttl");
			if (json_str(e, "label") != NULL && (text = json_print(e)) != NULL) {
				l2_store(w, rk, text, ttl, json_str(e, "label"));
				free(text);
			}
			cJSON_AddStringToObject(e, "tier", "l3");
			cJSON_AddBoolToObject(e, "hit", true);
			atomic_fetch_add(&cc_st.l3_hits, 1);
			atomic_fetch_add(&cc_st.l3_hit_us,
			                 (unsigned long long)(env_mono_us() - t0));
			PQclear(pr);
			cJSON_Delete(o);
			reply_obj(rep, e);
			return;
		}
	}
	PQclear(pr);
	atomic_fetch_add(&cc_st.l3_misses, 1);
	cJSON_AddBoolToObject(o, "hit", false);
	reply_obj(rep, o);
}

/*
 * cc_put - write entries to L2 and L3: one entry (the object itself), or
 * {"entries": [...]}, the router's batch.  L2 takes them one by one; L3
 * in one statement (one commit for the batch, not one per answer), the
 * last of a key kept when a batch holds it twice.  A malformed entry in a
 * batch is refused alone and counted.
 */
static void
cc_put(struct conns *w, const cJSON *q, struct rpc_reply *rep)
{
	const char *why = NULL;
	int         refused = 0, n;
	cJSON      *rows = cache_put_rows(q, &refused, &why), *e, *o;
	char        ttl[16];
	char       *text;

	if (rows == NULL) {
		rpc_reply_error(rep, 400, "bad_request", why);
		return;
	}
	snprintf(ttl, sizeof(ttl), "%d", CACHE_TTL_S);
	cJSON_ArrayForEach(e, rows)
	{
		char rk[CACHE_VALUE_MAX / 16];

		l2_key(json_str(e, "key"), rk, sizeof(rk));
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "label", json_str(e, "label"));
		cJSON_AddNumberToObject(o, "version", json_int(e, "version", 0));
		cJSON_AddStringToObject(o, "scope", json_str(e, "scope"));
		cJSON_AddStringToObject(o, "value", json_str(e, "value"));
		if ((text = json_print(o)) != NULL) {
			l2_store(w, rk, text, ttl, json_str(e, "label"));
			free(text);
		}
		cJSON_Delete(o);
	}
	n = cJSON_GetArraySize(rows);
	if (n > 0 && (text = json_print(rows)) != NULL) {
		const char *p[] = {text, ttl};

		PGresult *ir = db_exec_stmt(w->db, &l3_put, p);

		if (ir == NULL)
			atomic_fetch_add(&cc_st.errors, 1);
		PQclear(ir);
		free(text);
	}
	cJSON_Delete(rows);
	atomic_fetch_add(&cc_st.puts, (unsigned long long)n);
	atomic_fetch_add(&cc_st.errors, (unsigned long long)refused);
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", true);
	cJSON_AddNumberToObject(o, "stored", n);
	cJSON_AddNumberToObject(o, "refused", refused);
	reply_obj(rep, o);
}

/* invalidate - drop one SOP's entries (or all, label NULL) from L2 and L3 */
static long
invalidate(struct conns *w, const char *label)
{
	char        idx[160];
	redisReply *r;
	long        n = 0;
	PGresult   *pr;

	if (label != NULL) {
		const char *smembers[] = {"SMEMBERS", idx};

		snprintf(idx, sizeof(idx), "cache-by-sop:%s", label);
		if ((r = kv_cmdargv(w->kv, 2, smembers, NULL)) != NULL) {
			if (r->type == REDIS_REPLY_ARRAY)
				for (size_t i = 0; i < r->elements; i++) {
					const char *del[] = {"DEL", r->element[i]->str};
					redisReply *d = kv_cmdargv(w->kv, 2, del, NULL);

					if (d != NULL)
						freeReplyObject(d);
				}
			freeReplyObject(r);
			const char *del[] = {"DEL", idx};
			if ((r = kv_cmdargv(w->kv, 2, del, NULL)) != NULL)
				freeReplyObject(r);
		}
		const char *p[] = {label};
		pr = db_exec(w->db, "DELETE FROM cache_entries WHERE sop_slug = $1", 1, p);
	} else {
		l2_flush(w);
		pr = db_exec(w->db, "DELETE FROM cache_entries", 0, NULL);
	}
	if (pr != NULL)
		n = strtol(PQcmdTuples(pr), NULL, 10);
	PQclear(pr);
	atomic_fetch_add(&cc_st.invalidations, 1);
	return n;
}

/* cc_stats - counters of the shared tiers */
static void
cc_stats(struct conns *w, struct rpc_reply *rep)
{
	cJSON *o = cJSON_CreateObject(), *l2 = cJSON_AddObjectToObject(o, "l2"),
	      *l3 = cJSON_AddObjectToObject(o, "l3");
	PGresult *r =
	    db_exec(w->db, "SELECT count(*) FROM cache_entries WHERE expires_at > now()", 0, NULL);

	cJSON_AddNumberToObject(l2, "hits", (double)atomic_load(&cc_st.l2_hits));
	cJSON_AddNumberToObject(l2, "misses", (double)atomic_load(&cc_st.l2_misses));
	cJSON_AddNumberToObject(l2, "hit_us_total", (double)atomic_load(&cc_st.l2_hit_us));
	cJSON_AddBoolToObject(l2, "up", kv_ping(w->kv));
	cJSON_AddNumberToObject(l3, "hits", (double)atomic_load(&cc_st.l3_hits));
	cJSON_AddNumberToObject(l3, "misses", (double)atomic_load(&cc_st.l3_misses));
	cJSON_AddNumberToObject(l3, "hit_us_total", (double)atomic_load(&cc_st.l3_hit_us));
	cJSON_AddNumberToObject(l3, "entries", r != NULL ? strtod(db_val(r, 0, 0), NULL) : -1);
	cJSON_AddNumberToObject(o, "puts", (double)atomic_load(&cc_st.puts));
	cJSON_AddNumberToObject(o, "invalidations", (double)atomic_load(&cc_st.invalidations));
	cJSON_AddNumberToObject(o, "errors", (double)atomic_load(&cc_st.errors));
	PQclear(r);
	reply_obj(rep, o);
}

/*
 * cc_keys - a page of the keys L3 holds (live ones, in key order), for a
 * router loading the set of keys worth a remote lookup (cache/keyset.c):
 * {"after": "<last key of the previous page>"} -> {"keys": [...], "more": b}.
 * A page stops at CACHE_KEYS_PAGE keys or CACHE_KEYS_BYTES of them.
 */
#define CACHE_KEYS_PAGE 2000
#define CACHE_KEYS_BYTES (256 * 1024)
static void
cc_keys(struct conns *w, const cJSON *q, struct rpc_reply *rep)
{
	const char *after = json_str(q, "after");
	char        lim[16];
	const char *p[] = {after != NULL ? after : "", lim};
	PGresult   *r;
	cJSON      *o, *keys;
	size_t      bytes = 0;
	int         n, i;

	if (after != NULL && strlen(after) > CACHE_KEY_MAX) {
		rpc_reply_error(rep, 400, "bad_request", "after is longer than any key");
		return;
	}
	snprintf(lim, sizeof(lim), "%d", CACHE_KEYS_PAGE);
	r = db_exec(w->db,
	            "SELECT key FROM cache_entries WHERE key > $1 AND expires_at > now() "
	            "ORDER BY key LIMIT $2::int",
	            2, p);
	if (r == NULL) {
		rpc_reply_error(rep, 503, "unavailable", "L3 cannot be read now");
		return;
	}
	o = cJSON_CreateObject();
	keys = cJSON_AddArrayToObject(o, "keys");
	n = PQntuples(r);
	for (i = 0; i < n && bytes < CACHE_KEYS_BYTES; i++) {
		cJSON_AddItemToArray(keys, cJSON_CreateString(db_val(r, i, 0)));
		bytes += (size_t)PQgetlength(r, i, 0) + 8;
	}
	cJSON_AddBoolToObject(o, "more", i < n || n == CACHE_KEYS_PAGE);
	PQclear(r);
	reply_obj(rep, o);
}

/* cc_dispatch - the op table */
static void
cc_dispatch(void *arg, void *worker, const struct env_hdr *h, const char *body, size_t len,
            struct rpc_reply *rep)
{
	struct conns *w = worker;
	const char   *why;
	cJSON        *q = NULL;

	(void)arg;
	if (h->op != ENV_OP_PING && (q = json_parse(body, len, &why)) == NULL) {
		rpc_reply_error(rep, 400, "bad_request", why);
		return;
	}
	switch (h->op) {
	case ENV_OP_PING:
		rep->body = strdup("{\"ok\":true}");
		rep->len = rep->body != NULL ? strlen(rep->body) : 0;
		break;
	case ENV_OP_CACHE_GET:
		cc_get(w, q, rep);
		break;
	case ENV_OP_CACHE_PUT:
		cc_put(w, q, rep);
		break;
	case ENV_OP_CACHE_INVALIDATE: {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "removed", (double)invalidate(w, json_str(q, "label")));
		reply_obj(rep, o);
		break;
	}
	case ENV_OP_CACHE_STATS:
		cc_stats(w, rep);
		break;
	case ENV_OP_CACHE_KEYS:
		cc_keys(w, q, rep);
		break;
	default:
		rpc_reply_error(rep, 400, "unknown_op", "the cache does not serve this op");
	}
	cJSON_Delete(q);
}

/* worker_init - each worker thread's own connections */
static void *
worker_init(void *arg, int idx)
{
	struct conns *w = conns_open(cc_cfg, 100);

	(void)arg;
	(void)idx;
	/* The first statement on a new server session reads the table's
	 * catalog entries, tens of milliseconds under load: pay that now,
	 * not inside the router's 50 ms budget for the first lookup. */
	if (w != NULL && w->db != NULL)
		db_cmd(w->db,
		       "UPDATE cache_entries SET hits = hits WHERE false RETURNING "
		       "json_build_object('label', sop_slug)::text",
		       0, NULL);
	return w;
}

/* worker_fini - close them */
static void
worker_fini(void *arg, void *worker)
{
	(void)arg;
	conns_close(worker);
}

/* events_main - purge an SOP's entries when it changes */
static void *
events_main(void *arg)
{
	struct conns *w = worker_init(NULL, -1);

	(void)arg;
	while (w != NULL && !atomic_load(&cc_stopping)) {
		char       *topic, *json;
		const char *why;
		cJSON      *e;
		int         rc = bus_sub_recv(cc_events, 200, &topic, &json);

		if (rc < 0)
			break;
		if (rc > 0)
			continue;
		if ((e = json_parse(json, strlen(json), &why)) != NULL &&
		    json_str(e, "slug") != NULL)
			log_info("sop %s changed: %ld entries removed from L3", json_str(e, "slug"),
			         invalidate(w, json_str(e, "slug")));
		cJSON_Delete(e);
		free(topic);
		free(json);
	}
	worker_fini(NULL, w);
	return NULL;
}

/* cc_start - sockets, bus, workers */
static int
cc_start(const struct cfg *c)
{
	static const char *const topics[] = {"sop.changed", NULL};
	struct rpc_server_ops    ops = {
	       .handle = cc_dispatch, .worker_init = worker_init, .worker_fini = worker_fini};
	char url[256];

	cc_cfg = c;
	cfg_url(c, "bus-in", url, sizeof(url));
	bus_pub_open(url);
	cfg_url(c, "events", url, sizeof(url));
	if ((cc_events = bus_sub_open(url, topics)) == NULL ||
	    pthread_create(&cc_events_thr, NULL, events_main, NULL) != 0)
		return -1;
	cfg_listen_url(c, "cache", url, sizeof(url));
	if ((cc_server = rpc_server_start(url, true, c->workers, &ops)) == NULL)
		return -1;
	return 0;
}

/* cc_stop - finish in-flight requests, then close */
static void
cc_stop(int deadline_ms)
{
	rpc_server_stop(cc_server, deadline_ms);
	atomic_store(&cc_stopping, true);
	pthread_join(cc_events_thr, NULL);
	bus_sub_close(cc_events);
	bus_pub_close();
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .name = "clubos-cache",
	    .start = cc_start,
	    .stop = cc_stop,
	};

	return daemon_main(argc, argv, &ops);
}
