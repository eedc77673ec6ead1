/*
 * rt_cache.c - the router's side of the response cache
 *
 * The router consults the cache because it is where a hit saves the most:
 * after the emergency rules (which always run, and whose answers are never
 * cached) and before the classifier and the worker hop.  L1 lives here, in
 * process; L2 and L3 are behind clubos-cache.  The order:
 *
 *   1. exact key in L1;
 *   2. exact key in L2/L3 (clubos-cache), copied into L1, asked only when
 *      the remote tiers may hold the key (cache/keyset.c: the keys L3
 *      held at start, loaded a page at a time, and every key stored
 *      since), so a question nobody asked before costs no round trip;
 *   3. after classification: a semantic match in L1 (same scope, same
 *      topic, same guard, cosine >= CACHE_SEMANTIC_MIN).
 *
 * An entry is served only while the SOP version it was built from is the
 * current one (the version map below, refreshed on sop.changed and
 * whenever a request carries a newer knowledge generation), so no tier
 * can serve an answer built from an older version.  Only plain SOP answers
 * are stored: no emergencies, no customerinfo (personal data), no
 * escalations or actions, no errors, nothing below CACHE_STORE_MIN.
 * Stores to L2/L3 go through a bounded queue and a thread, off the
 * request path, in batches of what queued meanwhile.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "cache/cache.h"
#include "common/db.h"
#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "common/settings.h"
#include "common/trace.h"
#include "router/rt.h"

#define CACHE_L1_ENTRIES 20000
#define CACHE_L1_BYTES (64u << 20)
#define CACHE_TTL_S 86400
#define CACHE_STORE_MIN 0.50
#define CACHE_REMOTE_MS 50
#define CACHE_QUEUE_MAX 1024
#define CACHE_PUT_BATCH 64     /* stores per cache.put (clubos-cache takes 256) */
#define CACHE_KNOWN_MAX 400000 /* keys the remote tiers may hold: 8 MB */

/* The current version of every SOP. */
struct sopver {
	int64_t kgen;
	size_t  n;
	char (*slug)[96];
	int *version;
};

struct put_job {
	struct put_job *next;
	char           *body;
};

static cache_l1       *l1;
static rpc_client     *remote;
static pthread_mutex_t ver_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sopver   ver;
static db_conn        *ver_db;
static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  q_cv = PTHREAD_COND_INITIALIZER;
static struct put_job *q_head, *q_tail;
static size_t          q_len;
static bool            q_stop;
static pthread_t       q_thr;
static atomic_ullong   remote_hits[2], remote_misses, remote_skipped, dropped_puts;
static cache_keyset   *known;
static pthread_t       known_thr;
static atomic_bool     known_stop;

/* ver_reload - read the current versions (ver_mu held) */
static int
ver_reload(void)
{
	PGresult *r, *g;
	size_t    n;

	if (ver_db == NULL)
		ver_db = db_open(rt_cfg->pg_dsn);
	g = db_exec(ver_db, "SELECT gen FROM knowledge_generation WHERE id = 1", 0, NULL);
	r = db_exec(ver_db, "SELECT slug, version FROM sops ORDER BY slug", 0, NULL);
	if (r == NULL || g == NULL || PQntuples(g) != 1) {
		PQclear(r);
		PQclear(g);
		return -1;
	}
	n = (size_t)PQntuples(r);
	free(ver.slug);
	free(ver.version);
	ver.slug = calloc(n + 1, sizeof(*ver.slug));
	ver.version = calloc(n + 1, sizeof(int));
	ver.n = ver.slug != NULL && ver.version != NULL ? n : 0;
	for (size_t i = 0; i < ver.n; i++) {
		snprintf(ver.slug[i], sizeof(ver.slug[i]), "%s", db_val(r, (int)i, 0));
		ver.version[i] = atoi(db_val(r, (int)i, 1));
	}
	ver.kgen = strtoll(db_val(g, 0, 0), NULL, 10);
	PQclear(r);
	PQclear(g);
	return 0;
}

/* current_version - the live version of an SOP (catching up to kgen first); -1 unknown */
static int
current_version(const char *slug, int64_t kgen)
{
	int v = -1;

	pthread_mutex_lock(&ver_mu);
	if (kgen > ver.kgen)
		ver_reload();
	for (size_t i = 0; i < ver.n; i++)
		if (strcmp(ver.slug[i], slug) == 0) {
			v = ver.version[i];
			break;
		}
	pthread_mutex_unlock(&ver_mu);
	return v;
}

/* put_body - {"entries": [...]} of up to CACHE_PUT_BATCH queued stores
 * (q_mu held; they leave the queue); NULL when empty or out of memory */
static char *
put_body(void)
{
	size_t          len = sizeof("{\"entries\":[]}"), off = 0;
	int             n = 0;
	struct put_job *j, *last = NULL, *rest;
	char           *body;

	for (j = q_head; j != NULL && n < CACHE_PUT_BATCH; j = j->next, n++) {
		len += strlen(j->body) + 1;
		last = j;
	}
	if (last == NULL)
		return NULL;
	rest = last->next;
	if ((body = malloc(len)) != NULL) {
		off = (size_t)sprintf(body, "{\"entries\":[");
		for (j = q_head; j != rest; j = j->next)
			off += (size_t)sprintf(body + off, "%s%s", j == q_head ? "" : ",", j->body);
		strcpy(body + off, "]}");
	}
	/* Taken, sent or not: a store is worth one try. */
	while (q_head != rest) {
		j = q_head;
		q_head = j->next;
		q_len--;
		free(j->body);
		free(j);
	}
	if (q_head == NULL)
		q_tail = NULL;
	return body;
}

/* put_main - send queued stores to clubos-cache, a batch per call (one
 * round trip and one L3 commit for all that queued while the last went) */
static void *
put_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&q_mu);
	for (;;) {
		struct rpc_reply rep;
		char            *body;

		while (q_head == NULL && !q_stop)
			pthread_cond_wait(&q_cv, &q_mu);
		if (q_head == NULL)
			break;
		body = put_body();
		pthread_mutex_unlock(&q_mu);
		if (body != NULL && rpc_client_peers(remote) > 0 &&
		    rpc_call(remote, ENV_OP_CACHE_PUT, NULL, env_now_ms() + 1000, body,
		             strlen(body), &rep) == 0)
			rpc_reply_clear(&rep);
		free(body);
		pthread_mutex_lock(&q_mu);
	}
	pthread_mutex_unlock(&q_mu);
	return NULL;
}

/* known_page - one page of L3's keys into the set; 1 more to come, 0 done, -1 failed */
static int
known_page(char **after)
{
	struct rpc_reply rep;
	cJSON           *q = cJSON_CreateObject(), *o, *k;
	char            *body;
	const char      *why, *last = NULL;
	int              more = -1;

	cJSON_AddStringToObject(q, "after", *after != NULL ? *after : "");
	body = json_print(q);
	cJSON_Delete(q);
	if (body == NULL || rpc_call(remote, ENV_OP_CACHE_KEYS, NULL, env_now_ms() + 5000, body,
	                             strlen(body), &rep) != 0) {
		free(body);
		return -1;
	}
	free(body);
	if (rep.status == 0 && (o = json_parse(rep.body, rep.len, &why)) != NULL) {
		cJSON_ArrayForEach(k, cJSON_GetObjectItem(o, "keys"))
		{
			if (cJSON_IsString(k)) {
				cache_keyset_add(known, k->valuestring);
				last = k->valuestring;
			}
		}
		more = json_bool(o, "more", false) && last != NULL ? 1 : 0;
		if (more) {
			free(*after);
			if ((*after = strdup(last)) == NULL)
				more = -1;
		}
		cJSON_Delete(o);
	}
	rpc_reply_clear(&rep);
	return more;
}

/* known_main - load the keys L3 holds (retrying until clubos-cache and
 * PostgreSQL answer), then mark the set complete; until then every L1
 * miss is looked up remotely, as if the set did not exist */
static void *
known_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&known_stop)) {
		char   *after = NULL;
		int     rc = -1;
		int64_t t0 = env_mono_us();

		if (rpc_client_peers(remote) > 0)
			while (!atomic_load(&known_stop) && (rc = known_page(&after)) == 1)
				;
		free(after);
		if (rc == 0) {
			bool     complete;
			uint64_t rot;

			cache_keyset_complete(known);
			log_msg(LOG_INFO, NULL, "cache: %zu stored keys loaded in %lld ms",
			        cache_keyset_state(known, &complete, &rot),
			        (long long)(env_mono_us() - t0) / 1000);
			return NULL;
		}
		for (int i = 0; i < 10 && !atomic_load(&known_stop); i++)
			nng_msleep(100);
	}
	return NULL;
}

/* rt_cache_init - the L1 tier, the clubos-cache client, the version map */
int
rt_cache_init(void)
{
	char url[256];

	if ((l1 = cache_l1_new(CACHE_L1_ENTRIES, CACHE_L1_BYTES, CACHE_TTL_S)) == NULL)
		return -1;
	cfg_url(rt_cfg, "cache", url, sizeof(url));
	if ((remote = rpc_client_open(url, false)) == NULL)
		return -1;
	if ((known = cache_keyset_new(CACHE_KNOWN_MAX)) == NULL)
		return -1;
	pthread_mutex_lock(&ver_mu);
	ver_reload();
	pthread_mutex_unlock(&ver_mu);
	if (pthread_create(&known_thr, NULL, known_main, NULL) != 0)
		return -1;
	return pthread_create(&q_thr, NULL, put_main, NULL) == 0 ? 0 : -1;
}

/* rt_cache_shutdown - drain the queue, close */
void
rt_cache_shutdown(void)
{
	pthread_mutex_lock(&q_mu);
	q_stop = true;
	pthread_cond_signal(&q_cv);
	pthread_mutex_unlock(&q_mu);
	pthread_join(q_thr, NULL);
	atomic_store(&known_stop, true);
	pthread_join(known_thr, NULL);
	cache_keyset_free(known);
	rpc_client_close(remote);
	cache_l1_free(l1);
	db_close(ver_db);
	free(ver.slug);
	free(ver.version);
}

/* settings_now - the admin's settings, read through the settings cache */
static struct settings
settings_now(void)
{
	struct settings s;

	pthread_mutex_lock(&ver_mu);
	if (ver_db == NULL)
		ver_db = db_open(rt_cfg->pg_dsn);
	settings_current(ver_db, &s);
	pthread_mutex_unlock(&ver_mu);
	return s;
}

/* answer_from - the stored answer, if built from the current version and
 * still as confident as the admin now asks (a raised threshold retires
 * weaker answers stored before it) */
static cJSON *
answer_from(struct cache_hit *hit, int64_t kgen, const char *tier)
{
	const char *why;
	cJSON      *a;

	if (current_version(hit->label, kgen) != hit->version) {
		free(hit->value);
		return NULL;
	}
	a = json_parse(hit->value, strlen(hit->value), &why);
	free(hit->value);
	if (a != NULL) {
		struct settings set = settings_now();
		const char     *by = json_str(a, "composed_by");

		if (!settings_serves_stored(&set, json_num(a, "confidence", 0),
		                            by != NULL && strcmp(by, "llm") == 0)) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	if (a != NULL) {
		cJSON_DeleteItemFromObject(a, "cache");
		cJSON_AddStringToObject(a, "cache", tier);
	}
	return a;
}

/* rt_cache_exact - steps 1 and 2; the key is written to key for a later store */
cJSON *
rt_cache_exact(const char *tid, const char *scope, const char *msg, int64_t kgen, char *key,
               size_t keycap)
{
	struct cache_hit hit = {0};
	struct rpc_reply rep;
	cJSON           *a, *q;
	char            *body;

	if (strcmp(rt_cfg->cache, "off") == 0 || cache_key(scope, msg, key, keycap) < 0) {
		key[0] = '\0';
		return NULL;
	}
	if (cache_l1_get(l1, key, &hit) == 1) {
		if ((a = answer_from(&hit, kgen, "l1")) != NULL)
			return a;
		/* Built from an older version: it will never be served again. */
		cache_l1_purge_label(l1, hit.label);
	}
	if (rpc_client_peers(remote) == 0)
		return NULL;
	if (!cache_keyset_may_hold(known, key)) {
		atomic_fetch_add(&remote_skipped, 1);
		return NULL;
	}
	q = cJSON_CreateObject();
	cJSON_AddStringToObject(q, "key", key);
	body = json_print(q);
	cJSON_Delete(q);
	if (body == NULL || rpc_call(remote, ENV_OP_CACHE_GET, tid, env_now_ms() + CACHE_REMOTE_MS,
	                             body, strlen(body), &rep) != 0) {
		free(body);
		return NULL;
	}
	free(body);
	a = NULL;
	if (rep.status == 0) {
		const char *why;
		cJSON      *e = json_parse(rep.body, rep.len, &why);

		if (e != NULL && json_bool(e, "hit", false) && json_str(e, "value") != NULL &&
		    json_str(e, "label") != NULL) {
			const char *tier = json_str(e, "tier") ? json_str(e, "tier") : "l2";

			hit.value = strdup(json_str(e, "value"));
			snprintf(hit.label, sizeof(hit.label), "%s", json_str(e, "label"));
			hit.version = json_int(e, "version", 0);
			/* Fill L1 (exact only: semantic matching needs the features,
			 * which the entry gets when it is next stored here). */
			if (hit.value != NULL)
				cache_l1_put(l1, key, scope, hit.label, hit.version, hit.value,
				             NULL, cache_guard(msg));
			if (hit.value != NULL && (a = answer_from(&hit, kgen, tier)) != NULL)
				atomic_fetch_add(&remote_hits[strcmp(tier, "l3") == 0], 1);
		} else
			atomic_fetch_add(&remote_misses, 1);
		cJSON_Delete(e);
	}
	rpc_reply_clear(&rep);
	return a;
}

/* rt_cache_similar - step 3: a paraphrase of a stored question, same topic */
cJSON *
rt_cache_similar(const struct rt_model *m, const char *scope, const char *key, const char *msg,
                 const char *label, int64_t kgen)
{
	struct cache_hit hit = {0};
	svec             v = {0};
	cJSON           *a = NULL;

	if (strcmp(rt_cfg->cache, "off") == 0 || key == NULL || *key == '\0' ||
	    clf_featurize(m->clf, msg, &v) < 0)
		return NULL;
	if (cache_l1_similar(l1, key, scope, label, &v, cache_guard(msg), CACHE_SEMANTIC_MIN,
	                     &hit) == 1 &&
	    (a = answer_from(&hit, kgen, "l1")) != NULL)
		cJSON_AddNumberToObject(a, "similarity", hit.similarity);
	svec_free(&v);
	return a;
}

/* cacheable - a plain SOP answer, confident, with nothing to act on */
static bool
cacheable(const cJSON *a)
{
	const cJSON *sop = cJSON_GetObjectItem(a, "sop");
	const char  *route = json_str(a, "route");

	const char *by = json_str(a, "composed_by");

	/* A model's answer is for the askers in the rollout: shared through
	 * the cache only when everyone is. */
	if (by != NULL && strcmp(by, "llm") == 0 && settings_now().llm_rollout_percent < 100)
		return false;
	return cJSON_IsObject(sop) && route != NULL && strcmp(route, "emergency") != 0 &&
	       strcmp(route, "customerinfo") != 0 &&
	       json_int(cJSON_GetObjectItem(a, "escalation"), "tier", 1) == 0 &&
	       cJSON_GetArraySize(cJSON_GetObjectItem(a, "actions")) == 0 &&
	       json_num(a, "confidence", 0) >= CACHE_STORE_MIN;
}

/* rt_cache_store - keep a fresh answer in L1 and queue it for L2/L3; true if kept */
bool
rt_cache_store(const struct rt_model *m, const char *scope, const char *key, const char *msg,
               const cJSON *answer)
{
	cJSON          *q;
	char           *value;
	svec            v = {0};
	const cJSON    *sop = cJSON_GetObjectItem(answer, "sop");
	struct put_job *j;

	if (key == NULL || *key == '\0' || !cacheable(answer))
		return false;
	if ((value = cache_answer_value(answer)) == NULL)
		return false;
	if (m != NULL)
		clf_featurize(m->clf, msg, &v);
	cache_l1_put(l1, key, scope, json_str(sop, "slug"), json_int(sop, "version", 0), value,
	             m != NULL ? &v : NULL, cache_guard(msg));
	q = cJSON_CreateObject();
	cJSON_AddStringToObject(q, "key", key);
	cJSON_AddStringToObject(q, "scope", scope);
	cJSON_AddStringToObject(q, "label", json_str(sop, "slug"));
	cJSON_AddNumberToObject(q, "version", json_int(sop, "version", 0));
	cJSON_AddStringToObject(q, "value", value);
	free(value);
	if ((j = calloc(1, sizeof(*j))) == NULL || (j->body = json_print(q)) == NULL) {
		free(j);
		cJSON_Delete(q);
		return true;
	}
	cJSON_Delete(q);
	pthread_mutex_lock(&q_mu);
	if (q_len >= CACHE_QUEUE_MAX) {
		pthread_mutex_unlock(&q_mu);
		atomic_fetch_add(&dropped_puts, 1);
		free(j->body);
		free(j);
		return true;
	}
	/* Known before it is stored: a lookup meanwhile misses, no harm. */
	cache_keyset_add(known, key);
	if (q_tail != NULL)
		q_tail->next = j;
	else
		q_head = j;
	q_tail = j;
	q_len++;
	pthread_cond_signal(&q_cv);
	pthread_mutex_unlock(&q_mu);
	return true;
}

/* rt_cache_sop_changed - an SOP changed: new versions, and drop its L1 entries */
void
rt_cache_sop_changed(const char *slug)
{
	pthread_mutex_lock(&ver_mu);
	ver_reload();
	pthread_mutex_unlock(&ver_mu);
	if (slug != NULL)
		cache_l1_purge_label(l1, slug);
	else
		cache_l1_purge_all(l1);
}

/* rt_cache_stats - L1 counters and what this router saw of L2/L3 */
void
rt_cache_stats(cJSON *out)
{
	struct cache_stats st;
	cJSON             *o = cJSON_AddObjectToObject(out, "cache");

	cache_l1_stats(l1, &st);
	cJSON_AddNumberToObject(o, "l1_hits", (double)st.hits);
	cJSON_AddNumberToObject(o, "l1_semantic_hits", (double)st.semantic_hits);
	cJSON_AddNumberToObject(o, "l1_misses", (double)st.misses);
	cJSON_AddNumberToObject(o, "l1_evictions", (double)st.evictions);
	cJSON_AddNumberToObject(o, "l1_entries", (double)st.entries);
	cJSON_AddNumberToObject(o, "l1_bytes", (double)st.bytes);
	cJSON_AddNumberToObject(o, "l1_hit_us_total", (double)st.hit_us_total);
	cJSON_AddNumberToObject(o, "l2_hits", (double)atomic_load(&remote_hits[0]));
	cJSON_AddNumberToObject(o, "l3_hits", (double)atomic_load(&remote_hits[1]));
	cJSON_AddNumberToObject(o, "remote_misses", (double)atomic_load(&remote_misses));
	cJSON_AddNumberToObject(o, "remote_skipped", (double)atomic_load(&remote_skipped));
	cJSON_AddNumberToObject(o, "dropped_puts", (double)atomic_load(&dropped_puts));
	{
		bool     complete;
		uint64_t rot;
		size_t   n = cache_keyset_state(known, &complete, &rot);

		cJSON_AddNumberToObject(o, "known_keys", (double)n);
		cJSON_AddBoolToObject(o, "known_complete", complete);
		cJSON_AddNumberToObject(o, "known_rotations", (double)rot);
	}
	cJSON_AddNumberToObject(o, "remote_peers", rpc_client_peers(remote));
}
