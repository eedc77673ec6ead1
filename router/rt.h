/*
 * rt.h - the router daemon's internal interface
 *
 * main.c   start/stop, sockets, the bus hub
 * rt_model.c   the classifier trained from PostgreSQL, swapped live
 * rt_query.c   one query: emergency rules, classification, dispatch
 * rt_clarify.c the customer's answer to "which of these do you mean?"
 * rt_multi.c   one message, several questions: each part answered
 * rt_split.c   the parts of a message
 */
#ifndef CLUBOS_RT_H
#define CLUBOS_RT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/rpc.h"
#include <cjson/cJSON.h>

#include "router/clf.h"

#define RT_NROUTES 7
#define RT_TOPK 5

extern const char *const rt_routes[RT_NROUTES];
int                      rt_route_index(const char *route);

/* A trained model and what the router needs to read its labels. */
struct rt_model {
	clf_model *clf;
	int       *label_route; /* label index -> route index, -1 for oos */
	int64_t    kgen;        /* knowledge generation it was trained at */
	uint64_t   examples_id; /* a hash of the examples it was trained on */
	size_t     nexamples;
	int64_t    train_ms;
	int        refs;
};

int              rt_model_init(const char *pg_dsn);
int              rt_model_reload(void);
struct rt_model *rt_model_get(void);
void             rt_model_put(struct rt_model *m);
void             rt_model_shutdown(void);
/* The current model's examples_id (0 before the first): part of every
 * cache key, so that an answer routed by a model trained on other
 * examples is never served again. */
uint64_t rt_model_examples_id(void);

/* Dispatch clients, one per route; workers dial in. */
extern rpc_client       *rt_workers[RT_NROUTES];
extern const struct cfg *rt_cfg;

int rt_inflight_now(int ri);

void rt_query(void *arg, void *worker, const struct env_hdr *h, const char *body, size_t len,
              struct rpc_reply *rep);

/* Which option (0-based) of a bot turn's offer ([{slug, title}]) the
 * message picks, by place ("2", "the first one") or by a title's words;
 * -1 when it picks none and is a message of its own. */
int rt_clarify_pick(const cJSON *offer, const char *msg);

/* Is msg about another business or place (rt_elsewhere.c)?  The kind
 * ("owner", "actor", "home", "paid", "place", "world") with the words that showed it in why
 * (cap bytes), or NULL when it may be about this venue. */
const char *rt_elsewhere(const char *msg, char *why, size_t cap);

/* A message of several questions (rt_multi.c). */
#define RT_PART_MAX 512
#define RT_MULTI_MAX_PARTS 3
#define RT_PART_MIN_WORDS 3 /* a clause shorter than this is not a question */
/* The message's parts, cut at sentence ends and at "and" / "also" / "plus"
 * between clauses of three words or more: their number (0 for an empty
 * message), or -1 when there are more than max or one is too long. */
int rt_split(const char *msg, char parts[][RT_PART_MAX], int max);
int rt_words(const char *s, size_t n); /* words in a span (commas split them) */
/* A request to reword a quoted text ("rewrite this so it sounds warmer:
 * 'Your refund is pending.'"): 1 with the message minus its quoted spans
 * in out (cap bytes), so that the quote's words do not choose the topic;
 * 0 when msg asks no such thing or quotes nothing of three words. */
int rt_unquote(const char *msg, char *out, size_t cap);
/* Does msg ask for a text to be reworded (the first test rt_unquote makes,
 * cheap enough to make before allocating its output)? */
bool rt_asks_reword(const char *msg);
/* The joined answer when two or three parts are each sure of a different
 * topic (each answered by its route's worker), or NULL to answer the
 * message as one. */
cJSON *rt_multi(const char *tid, const cJSON *q, const struct rt_model *m, const char *msg,
                const struct env_hdr *h);
/* A request's deadline and the in-flight cap per connected worker, from the
 * live configuration; a slot of route ri (false when the route already has
 * per_worker times its connected workers in flight), and its release. */
void rt_dispatch_limits(const struct env_hdr *h, uint64_t *deadline, int *per_worker);
bool rt_inflight_enter(int ri, int per_worker);
void rt_inflight_leave(int ri);

/* The response cache (rt_cache.c). */
int    rt_cache_init(void);
void   rt_cache_shutdown(void);
cJSON *rt_cache_exact(const char *tid, const char *scope, const char *msg, int64_t kgen, char *key,
                      size_t keycap);
cJSON *rt_cache_similar(const struct rt_model *m, const char *scope, const char *key,
                        const char *msg, const char *label, int64_t kgen);
bool   rt_cache_store(const struct rt_model *m, const char *scope, const char *key, const char *msg,
                      const cJSON *answer);
void   rt_cache_sop_changed(const char *slug);
void   rt_cache_stats(cJSON *out);

/* Decision thresholds on calibrated probabilities. */
#define RT_ROUTE_MIN 0.30 /* below: out of scope */
#define RT_SOP_MIN 0.40   /* below: no SOP, offer a person */

#endif
