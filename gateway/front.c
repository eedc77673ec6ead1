/*
 * front.c - the gateway's half of L1: exact repeats answered without a hop
 *
 * L1 lives in two processes.  The router's half holds every answer with
 * its features, for paraphrase matching, and fills from L2/L3; it is where
 * the cache policy is decided (router/rt_cache.c).  This half memoises, by
 * exact key, the answers the router marked "cacheable", so a repeated
 * question is answered here: no nng hop, no classifier, no JSON from
 * another process.  It is the same cache_l1 module, used for exact keys
 * only, and a hit reports tier "l1".
 *
 * Staleness: an entry records the knowledge generation its question was
 * asked at (in the version field) and is served only while that is still
 * the gateway's generation.  Every SOP change, rollback or examples change
 * bumps the generation, so from the very next query nothing here built
 * before the change is served; front_generation() then drops the lot, and
 * the router's half (checked per SOP version) answers and refills.
 * The caller runs the emergency rules before front_get(), as the router
 * does before its own lookup.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "gateway/gw.h"

#define FRONT_ENTRIES 10000
#define FRONT_BYTES (32u << 20)
#define FRONT_TTL_S 86400

static cache_l1 *front;

/* front_init - the table, unless the cache is switched off */
int
front_init(const struct cfg *c)
{
	if (strcmp(c->cache, "off") == 0)
		return 0;
	if ((front = cache_l1_new(FRONT_ENTRIES, FRONT_BYTES, FRONT_TTL_S)) == NULL) {
		log_error("front: out of memory");
		return -1;
	}
	return 0;
}

/* front_fini - drop the table */
void
front_fini(void)
{
	cache_l1_free(front);
	front = NULL;
}

/* front_get - the answer stored for scope and message at generation kgen, or NULL;
 * the key is written to key (empty when the message cannot be a key) */
cJSON *
front_get(const char *scope, const char *msg, long long kgen, char *key, size_t keycap)
{
	struct cache_hit hit = {0};
	const char      *why;
	cJSON           *a;

	key[0] = '\0';
	if (front == NULL || cache_key(scope, msg, key, keycap) < 0) {
		key[0] = '\0';
		return NULL;
	}
	if (cache_l1_get(front, key, &hit) != 1)
		return NULL;
	if (hit.version != kgen) {
		/* Asked before the knowledge last changed: never served. */
		free(hit.value);
		return NULL;
	}
	a = json_parse(hit.value, strlen(hit.value), &why);
	free(hit.value);
	if (a != NULL)
		cJSON_AddStringToObject(a, "cache", "l1");
	return a;
}

/* front_put - keep the router's answer if it says it may be kept; removes the flag */
void
front_put(const char *key, const char *scope, long long kgen, cJSON *ans)
{
	const cJSON *sop = cJSON_GetObjectItem(ans, "sop");
	bool         ok = json_bool(ans, "cacheable", false);
	char        *value;

	cJSON_DeleteItemFromObject(ans, "cacheable");
	if (front == NULL || !ok || key[0] == '\0' || !cJSON_IsObject(sop) ||
	    json_str(sop, "slug") == NULL || kgen < 0 || kgen > INT_MAX)
		return;
	value = cache_answer_value(ans);
	if (value != NULL)
		cache_l1_put(front, key, scope, json_str(sop, "slug"), (int)kgen, value, NULL, 0);
	free(value);
}

/* front_generation - the knowledge changed: nothing stored before can be served */
void
front_generation(void)
{
	if (front != NULL)
		cache_l1_purge_all(front);
}

/* front_stats - this half's counters (zero when off) */
void
front_stats(struct cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (front != NULL)
		cache_l1_stats(front, st);
}
