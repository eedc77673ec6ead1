/*
 * rt_query.c - one query through the router
 *
 * Emergency rules run first, on every message, and cannot be skipped.
 * Then the cache (rt_cache.c): an exact repeat is answered at once.
 * Otherwise the classifier ranks the topics (and a paraphrase of a stored
 * question may be answered from the cache); the route is the one whose
 * topics hold the most probability.  Out-of-scope messages are answered
 * here (no SOP, a person offered); everything else goes to a worker of the
 * route, with the top candidates, for the SOP answer.  Every step is
 * published on the trace bus.
 *
 * If no emergency worker answers, the router answers an emergency itself
 * and records the on-call alert and the urgent ticket: an emergency never
 * waits on a missing process.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/db.h"
#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "common/ops.h"
#include "cache/cache.h"
#include "common/trace.h"
#include "router/emergency.h"
#include "router/rt.h"

static const char rt_oos_text[] =
    "Sorry, that's not something I can help with here. I can answer questions "
    "about bookings, the bays and simulators, memberships and visiting us. If "
    "you'd like a person from our team, just ask and I'll pass your message on.";

static const char rt_emergency_fallback_text[] =
    "If anyone is hurt or in danger, call 911 now, and leave the building if "
    "it is not safe to stay. We are alerting the on-call manager now, and a "
    "person from the team will contact you.";

static pthread_mutex_t fallback_mu = PTHREAD_MUTEX_INITIALIZER;
static db_conn        *fallback_db;

/* add_candidates - the top labels with their probabilities, for the trace */
static cJSON *
candidates_json(const struct rt_model *m, const clf_score *top, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "label", clf_label_name(m->clf, top[i].label));
		cJSON_AddNumberToObject(c, "prob", top[i].prob);
		cJSON_AddItemToArray(a, c);
	}
	return a;
}

/* emergency_fallback - answer an emergency with no emergency worker */
static cJSON *
emergency_fallback(const char *trace_id, const cJSON *q, const char *slug)
{
	cJSON            *r = cJSON_CreateObject(), *esc, *acts, *a;
	char              summary[300], spool[512];
	struct ops_ticket t = {"urgent", NULL, summary, slug};
	struct ops_item   it[2] = {
	      {.type = "alert_oncall", .status = "queued"},
	      {.type = "ticket_urgent", .status = "done", .ticket = &t},
        };
	struct ops_result res[2];

	snprintf(summary, sizeof(summary), "EMERGENCY (%s): %.200s", slug, json_str(q, "message"));
	t.title = summary;
	for (size_t i = 0; i < 2; i++) {
		it[i].location = json_str(q, "location");
		it[i].bay =
		    cJSON_IsNumber(cJSON_GetObjectItem(q, "bay")) ? json_int(q, "bay", 0) : 0;
		it[i].conversation_id = (int64_t)json_num(q, "conversation_id", 0);
		it[i].trace_id = trace_id;
	}
	snprintf(spool, sizeof(spool), "%s/spool", rt_cfg->run_dir);
	pthread_mutex_lock(&fallback_mu);
	if (fallback_db == NULL)
		fallback_db = db_open(rt_cfg->pg_dsn);
	ops_record(fallback_db, spool, it, 2, res);
	pthread_mutex_unlock(&fallback_mu);
	cJSON_AddNullToObject(r, "sop");
	cJSON_AddStringToObject(r, "response", rt_emergency_fallback_text);
	esc = cJSON_AddObjectToObject(r, "escalation");
	cJSON_AddNumberToObject(esc, "tier", 3);
	cJSON_AddStringToObject(esc, "reason", "emergency");
	acts = cJSON_AddArrayToObject(r, "actions");
	for (size_t i = 0; i < 2; i++) {
		a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "type", it[i].type);
		cJSON_AddStringToObject(a, "status", res[i].status);
		if (res[i].action_id > 0)
			cJSON_AddNumberToObject(a, "id", (double)res[i].action_id);
		if (res[i].ticket_id > 0)
			cJSON_AddNumberToObject(a, "ticket_id", (double)res[i].ticket_id);
		cJSON_AddItemToArray(acts, a);
	}
	log_msg(LOG_ERROR, trace_id, "emergency answered by the router: no emergency worker");
	return r;
}

/* oos_reply - out of scope: no SOP, say so, offer a person */
static cJSON *
oos_reply(double conf)
{
	cJSON *r = cJSON_CreateObject(), *esc;

	cJSON_AddStringToObject(r, "route", "general");
	cJSON_AddNumberToObject(r, "confidence", conf);
	cJSON_AddNullToObject(r, "sop");
	cJSON_AddStringToObject(r, "response", rt_oos_text);
	esc = cJSON_AddObjectToObject(r, "escalation");
	cJSON_AddNumberToObject(esc, "tier", 0);
	cJSON_AddStringToObject(esc, "reason", "out_of_scope");
	cJSON_AddArrayToObject(r, "actions");
	return r;
}

/* reply_json - hand a finished object back as the RPC reply */
static void
reply_json(struct rpc_reply *rep, cJSON *o)
{
	rep->status = 0;
	rep->body = json_print(o);
	rep->len = rep->body != NULL ? strlen(rep->body) : 0;
	cJSON_Delete(o);
}

/* rt_query - ENV_OP_QUERY: answer one message */
void
rt_query(void *arg, void *worker, const struct env_hdr *h, const char *body, size_t len,
         struct rpc_reply *rep)
{
	const char      *tid = h->trace_id, *why, *msg, *route = NULL;
	int64_t          t0 = env_mono_us(), t1;
	cJSON           *q, *d, *r = NULL;
	struct rt_model *m = NULL;
	clf_score        top[RT_TOPK];
	size_t           ntop = 0;
	em_match         em = {0};
	int              is_em, ri = -1;
	double           conf = 0, route_prob[RT_NROUTES] = {0}, oos_prob = 0;
	int64_t          classify_us = 0, assist_us = 0, kgen = 0;
	char             scope[128] = "", key[CACHE_KEY_MAX] = "";
	bool             keep = false; /* the answer may be served again (see below) */

	(void)arg;
	(void)worker;
	if ((q = json_parse(body, len, &why)) == NULL || !cJSON_IsObject(q) ||
	    (msg = json_str(q, "message")) == NULL) {
		cJSON_Delete(q);
		rpc_reply_error(rep, 400, "bad_request", "query needs a message");
		return;
	}
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "channel", json_str(q, "channel") ? json_str(q, "channel") : "");
	cJSON_AddStringToObject(d, "audience",
	                        json_str(q, "audience") ? json_str(q, "audience") : "");
	cJSON_AddNumberToObject(d, "chars", (double)strlen(msg));
	trace_step(tid, "received", d, 0);

	/* 1. Emergency rules: always first. */
	is_em = em_check(msg, &em);
	d = cJSON_CreateObject();
	cJSON_AddBoolToObject(d, "emergency", is_em);
	if (is_em) {
		cJSON_AddStringToObject(d, "slug", em.slug);
		cJSON_AddStringToObject(d, "rule", em.rule);
	}
	trace_step(tid, "emergency_check", d, env_mono_us() - t0);

	/* 2. The cache: an exact repeat skips everything below. */
	if (!is_em) {
		const char *loc = json_str(q, "location");

		snprintf(scope, sizeof(scope), "%s|%s",
		         json_str(q, "audience") ? json_str(q, "audience") : "customer",
		         loc ? loc : "-");
		kgen = (int64_t)json_num(q, "kgen", 0);
		t1 = env_mono_us();
		if ((r = rt_cache_exact(tid, scope, msg, kgen, key, sizeof(key))) != NULL) {
			d = cJSON_CreateObject();
			cJSON_AddStringToObject(d, "tier", json_str(r, "cache"));
			cJSON_AddStringToObject(d, "match", "exact");
			trace_step(tid, "cache_hit", d, env_mono_us() - t1);
			keep = true;
			goto answered;
		}
	}

	/* 3. Classification. */
	if (!is_em) {
		t1 = env_mono_us();
		if ((m = rt_model_get()) == NULL) {
			cJSON_Delete(q);
			rpc_reply_error(rep, 503, "model_unavailable",
			                "the router has no trained model yet");
			return;
		}
		/* Route probabilities need every label, not just the top k. */
		{
			size_t     nl = clf_nlabels(m->clf);
			clf_score *all = calloc(nl, sizeof(*all));
			size_t     na = all != NULL ? clf_predict(m->clf, msg, all, nl) : 0;

			for (size_t i = 0; i < na; i++) {
				int rr = m->label_route[all[i].label];

				if (rr >= 0)
					route_prob[rr] += all[i].prob;
				else
					oos_prob += all[i].prob;
				if (i < RT_TOPK)
					top[ntop++] = all[i];
			}
			free(all);
		}
		classify_us = env_mono_us() - t1;
		/* The emergency route is reached only by the rules or by a
		 * confident classifier vote (below), never as a plain argmax:
		 * a false alarm wakes the on-call manager. */
		for (int i = 1; i < RT_NROUTES; i++)
			if (ri < 0 || route_prob[i] > route_prob[ri])
				ri = i;
		d = cJSON_CreateObject();
		cJSON_AddItemToObject(d, "candidates", candidates_json(m, top, ntop));
		cJSON_AddStringToObject(d, "route", rt_routes[ri]);
		cJSON_AddNumberToObject(d, "route_prob", route_prob[ri]);
		cJSON_AddNumberToObject(d, "oos_prob", oos_prob);
		trace_step(tid, "classified", d, classify_us);

		if (ntop > 0 && m->label_route[top[0].label] == 0 &&
		    top[0].prob >= RT_EMERGENCY_CLF_MIN) {
			is_em = 1;
			em.slug = clf_label_name(m->clf, top[0].label);
			em.rule = "classifier";
		} else if (route_prob[ri] < RT_ROUTE_MIN || oos_prob > route_prob[ri]) {
			r = oos_reply(oos_prob);
			goto answered;
		} else if (ntop > 0 && m->label_route[top[0].label] == ri &&
		           top[0].prob >= CACHE_SEMANTIC_MIN_PROB &&
		           (r = rt_cache_similar(m, scope, msg,
		                                 clf_label_name(m->clf, top[0].label), kgen)) !=
		               NULL) {
			/* A paraphrase of a stored question about the same topic. */
			d = cJSON_CreateObject();
			cJSON_AddStringToObject(d, "tier", "l1");
			cJSON_AddStringToObject(d, "match", "semantic");
			cJSON_AddNumberToObject(d, "similarity", json_num(r, "similarity", 0));
			cJSON_DeleteItemFromObject(r, "similarity");
			trace_step(tid, "cache_hit", d, env_mono_us() - t0);
			keep = true;
			goto answered;
		}
	}
	if (is_em) {
		ri = 0;
		conf = 1.0;
		cJSON *e = cJSON_AddObjectToObject(q, "emergency");

		cJSON_AddStringToObject(e, "slug", em.slug);
		cJSON_AddStringToObject(e, "rule", em.rule);
	} else {
		cJSON *cands = cJSON_AddArrayToObject(q, "candidates");

		conf = route_prob[ri];
		for (size_t i = 0; i < ntop; i++) {
			if (m->label_route[top[i].label] != ri)
				continue;
			cJSON *c = cJSON_CreateObject();

			cJSON_AddStringToObject(c, "slug", clf_label_name(m->clf, top[i].label));
			cJSON_AddNumberToObject(c, "prob", top[i].prob);
			cJSON_AddItemToArray(cands, c);
		}
	}
	route = rt_routes[ri];
	cJSON_AddStringToObject(q, "route", route);
	cJSON_AddNumberToObject(q, "route_confidence", conf);

	/* 3. Dispatch to a worker of the route. */
	{
		struct rpc_reply wr;
		char            *out = json_print(q);
		uint64_t         deadline = h->deadline_ms;
		int              rc;

		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "route", route);
		cJSON_AddNumberToObject(d, "workers", rpc_client_peers(rt_workers[ri]));
		trace_step(tid, "dispatched", d, env_mono_us() - t0);
		if (deadline == 0)
			deadline = env_now_ms() + (uint64_t)rt_cfg->query_timeout_ms;
		/* An emergency keeps a second in hand for the fallback answer. */
		if (is_em && deadline > env_now_ms() + 2000)
			deadline -= 1000;
		t1 = env_mono_us();
		rc = out != NULL ? rpc_call(rt_workers[ri], ENV_OP_ASSIST, tid, deadline, out,
		                            strlen(out), &wr)
		                 : -1;
		assist_us = env_mono_us() - t1;
		free(out);
		if (rc == 0 && wr.status == 0 && (r = json_parse(wr.body, wr.len, &why)) != NULL &&
		    cJSON_IsObject(r)) {
			rpc_reply_clear(&wr);
		} else {
			cJSON_Delete(r);
			r = NULL;
			if (rc == 0 && wr.status != 0) {
				/* The worker's own error, passed through. */
				rep->status = wr.status;
				rep->body = wr.body;
				rep->len = wr.len;
				log_msg(LOG_WARN, tid, "worker for %s answered %u", route,
				        wr.status);
				goto out;
			}
			rpc_reply_clear(&wr);
			if (is_em) {
				r = emergency_fallback(tid, q, em.slug);
			} else {
				log_msg(LOG_WARN, tid, "no answer from a %s worker (%s)", route,
				        rc == RPC_ENOPEER || rpc_client_peers(rt_workers[ri]) == 0
				            ? "none running"
				            : "timed out");
				rpc_reply_error(
				    rep, 503, "no_worker",
				    rpc_client_peers(rt_workers[ri]) == 0
				        ? "no assistant is running for this route; a person will "
				          "have to answer"
				        : "the assistant for this route did not answer in time");
				goto out;
			}
		}
		cJSON_DeleteItemFromObject(r, "route");
		cJSON_AddStringToObject(r, "route", route);
		if (!cJSON_HasObjectItem(r, "confidence"))
			cJSON_AddNumberToObject(r, "confidence", conf);
		if (!is_em)
			keep = rt_cache_store(m, scope, key, msg, r);
	}
answered : {
	cJSON *t = cJSON_AddObjectToObject(r, "timings_us");

	/* Tells the gateway it may keep this answer for exact repeats
	 * (gateway/front.c); the gateway removes the flag. */
	if (keep)
		cJSON_AddBoolToObject(r, "cacheable", true);

	cJSON_AddNumberToObject(t, "classify", (double)classify_us);
	cJSON_AddNumberToObject(t, "assist", (double)assist_us);
	cJSON_AddNumberToObject(t, "router", (double)(env_mono_us() - t0));
}
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "route", json_str(r, "route"));
	cJSON *sop = cJSON_GetObjectItem(r, "sop");
	cJSON_AddStringToObject(d, "sop", cJSON_IsObject(sop) ? json_str(sop, "slug") : "");
	trace_step(tid, "routed", d, env_mono_us() - t0);
	reply_json(rep, r);
out:
	rt_model_put(m);
	cJSON_Delete(q);
}
