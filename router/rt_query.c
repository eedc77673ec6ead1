/*
 * rt_query.c - one query through the router
 *
 * Emergency rules run first, on every message, and cannot be skipped; the
 * classifier's vote is weighed in once it has run (em_fuse).  A possible
 * emergency is answered like any message, with a safety line and a
 * question first, the team notified (notify_team, tier 2), and no cache.
 * Then the cache (rt_cache.c): an exact repeat is answered at once.
 * Otherwise the classifier ranks the topics (and a paraphrase of a stored
 * question may be answered from the cache); the route is the one whose
 * topics hold the most probability.  Out-of-scope messages are answered
 * here (no SOP, a person offered); everything else goes to a worker of the
 * route, with the top candidates, for the SOP answer.  Every step is
 * published on the trace bus.
 *
 * A short follow-up in a conversation (a `context` of earlier turns came
 * with it) that the classifier is not sure of alone is read together with
 * the customer's previous message, so "bay 2" after "the trackman is
 * frozen" is a TrackMan question (with_context).
 *
 * If no emergency worker answers, the router answers an emergency itself
 * and records the on-call alert and the urgent ticket: an emergency never
 * waits on a missing process.
 */
#include <pthread.h>
#include <stdatomic.h>
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
#include "common/util.h"
#include "router/emergency.h"
#include "router/rt.h"

/* A follow-up of at most this many words is read with the previous message. */
#define RT_FOLLOWUP_WORDS 4
/* ... unless the classifier is at least this sure of it alone. */
#define RT_FOLLOWUP_SURE 0.5
#define RT_CONTEXT_MAX 4200

static const char rt_oos_text[] =
    "Sorry, that's not something I can help with here. I can answer questions "
    "about bookings, the bays and simulators, memberships and visiting us. If "
    "you'd like a person from our team, just ask and I'll pass your message on.";
static const char rt_oos_text_fr[] =
    "Désolé, je ne peux pas vous aider avec ça ici. Je réponds aux questions sur les "
    "réservations, les baies et les simulateurs, les abonnements et votre visite. Si vous "
    "voulez une personne de notre équipe, demandez-le et je lui transmettrai votre message.";

static const char rt_emergency_fallback_text[] =
    "If anyone is hurt or in danger, call 911 now, and leave the building if "
    "it is not safe to stay. We are alerting the on-call manager now, and a "
    "person from the team will contact you.";

/* When the alert could not even be recorded, the answer must not say it
 * was sent. */
static const char rt_emergency_unrecorded_text[] =
    "If anyone is hurt or in danger, call 911 now, and leave the building if "
    "it is not safe to stay. Our system could not reach the on-call manager "
    "just now: please call 911 for any emergency, then the venue line.";
/* A possible emergency: the safety line and the question come first, then
 * what was really done about it, then the answer to the rest. */
static const char rt_possible_text[] =
    "If anyone is hurt or in danger, call 911 now. Is anyone in danger right now? "
    "Tell me what is happening.";
static const char rt_possible_text_fr[] =
    "Si quelqu'un est bless\xc3\xa9 ou en danger, appelez le 911 maintenant. "
    "Quelqu'un est-il en danger en ce moment? Dites-moi ce qui se passe.";
static const char rt_possible_flagged[] = "I've flagged this to our team as urgent.";
static const char rt_possible_flagged_fr[] =
    "J'ai signal\xc3\xa9 la situation \xc3\xa0 notre \xc3\xa9quipe comme urgente.";
static const char rt_possible_unflagged[] =
    "I could not reach our team from here, so please call 911 if this is urgent.";
static const char rt_possible_unflagged_fr[] =
    "Je n'ai pas pu joindre notre \xc3\xa9quipe d'ici : appelez le 911 si c'est urgent.";

static pthread_mutex_t fallback_mu = PTHREAD_MUTEX_INITIALIZER;
static db_conn        *fallback_db;

/* Requests handed to each route's workers and not yet answered.  Beyond
 * the bound a route is shed at once (503 overloaded), so a dead or slow
 * route cannot take every router thread from the others. */
static atomic_int rt_inflight[RT_NROUTES];

/* rt_inflight_now - requests in flight to route ri's workers (for status) */
int
rt_inflight_now(int ri)
{
	return ri >= 0 && ri < RT_NROUTES ? atomic_load(&rt_inflight[ri]) : 0;
}

/* rt_inflight_enter - claim a slot of route ri; false when it is full (rt.h).
 * The cap grows with the workers connected now: a route scaled out takes
 * more at once, and one without workers still holds per_worker (its calls
 * fail fast with no_worker). */
bool
rt_inflight_enter(int ri, int per_worker)
{
	int peers = rpc_client_peers(rt_workers[ri]);

	if (atomic_fetch_add(&rt_inflight[ri], 1) >= per_worker * (peers > 1 ? peers : 1)) {
		atomic_fetch_sub(&rt_inflight[ri], 1);
		return false;
	}
	return true;
}

/* rt_inflight_leave - release a slot of route ri (rt.h) */
void
rt_inflight_leave(int ri)
{
	atomic_fetch_sub(&rt_inflight[ri], 1);
}

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
	char              summary[64 + 200 * 4 + 1], spool[512];
	struct ops_ticket t = {"urgent", NULL, summary, slug};
	struct ops_item   it[2] = {
	      {.type = "alert_oncall", .status = "queued"},
	      {.type = "ticket_urgent", .status = "done", .ticket = &t},
        };
	struct ops_result res[2];

	{
		/* The customer's words, cut by characters, never inside one. */
		int n = snprintf(summary, sizeof(summary), "EMERGENCY (%.40s): ", slug);

		util_utf8_copy(summary + n, sizeof(summary) - (size_t)n, json_str(q, "message"),
		               200);
	}
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
	cJSON_AddStringToObject(r, "response",
	                        strcmp(res[0].status, "failed") != 0
	                            ? rt_emergency_fallback_text
	                            : rt_emergency_unrecorded_text);
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

/*
 * possible_emergency - a possible emergency: put the safety line and the
 * question before whatever answer r holds, raise the escalation to tier 2,
 * and record an urgent notify_team action for the staff.  The reply says
 * the team was flagged only when the action was recorded.
 */
static void
possible_emergency(const char *trace_id, const cJSON *q, cJSON *r, const em_match *em)
{
	const char *loc = json_str(q, "location"), *rest = json_str(r, "response");
	const int   fr = em->lang != NULL && strcmp(em->lang, "fr") == 0;
	char        bay[16] = "", *text;
	const char *bayp = NULL, *aid = NULL, *said;
	PGresult   *res = NULL;
	cJSON      *detail, *esc, *acts, *a;
	char       *detail_s;
	size_t      n;

	if (cJSON_IsNumber(cJSON_GetObjectItem(q, "bay"))) {
		snprintf(bay, sizeof(bay), "%d", json_int(q, "bay", 0));
		bayp = bay;
	}
	detail = cJSON_CreateObject();
	cJSON_AddStringToObject(detail, "reason", "possible_emergency");
	cJSON_AddStringToObject(detail, "category", em->slug);
	cJSON_AddStringToObject(detail, "rule", em->rule);
	cJSON_AddStringToObject(detail, "priority", "urgent");
	json_add_str(detail, "message", json_str(q, "message"));
	detail_s = json_print(detail);
	cJSON_Delete(detail);
	pthread_mutex_lock(&fallback_mu);
	if (fallback_db == NULL)
		fallback_db = db_open(rt_cfg->pg_dsn);
	if (detail_s != NULL) {
		const char *p[] = {trace_id, loc, bayp, detail_s};

		res =
		    db_exec(fallback_db,
		            "INSERT INTO actions (trace_id, type, status, location, bay, detail) "
		            "VALUES ($1, 'notify_team', 'queued', $2, $3, $4::jsonb) RETURNING id",
		            4, p);
		aid = res != NULL ? db_val(res, 0, 0) : NULL;
	}
	said = aid != NULL ? (fr ? rt_possible_flagged_fr : rt_possible_flagged)
	                   : (fr ? rt_possible_unflagged_fr : rt_possible_unflagged);
	n = strlen(rt_possible_text_fr) + strlen(said) + (rest ? strlen(rest) : 0) + 4;
	if ((text = malloc(n)) != NULL) {
		snprintf(text, n, "%s %s%s%s", fr ? rt_possible_text_fr : rt_possible_text, said,
		         rest && *rest ? "\n\n" : "", rest ? rest : "");
		cJSON_DeleteItemFromObject(r, "response");
		cJSON_AddStringToObject(r, "response", text);
		free(text);
	}
	esc = cJSON_GetObjectItem(r, "escalation");
	if (!cJSON_IsObject(esc) || json_int(esc, "tier", 0) < 2) {
		cJSON_DeleteItemFromObject(r, "escalation");
		esc = cJSON_AddObjectToObject(r, "escalation");
		cJSON_AddNumberToObject(esc, "tier", 2);
		cJSON_AddStringToObject(esc, "reason", "possible_emergency");
	}
	if (!cJSON_IsArray(acts = cJSON_GetObjectItem(r, "actions"))) {
		cJSON_DeleteItemFromObject(r, "actions");
		acts = cJSON_AddArrayToObject(r, "actions");
	}
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "type", "notify_team");
	cJSON_AddStringToObject(a, "status", aid != NULL ? "queued" : "failed");
	if (aid != NULL)
		cJSON_AddNumberToObject(a, "id", strtod(aid, NULL));
	cJSON_AddItemToArray(acts, a);
	PQclear(res);
	pthread_mutex_unlock(&fallback_mu);
	free(detail_s);
	if (aid == NULL)
		log_msg(LOG_ERROR, trace_id, "possible emergency: notify_team not recorded");
}

/* oos_reply - out of scope: no SOP, say so, offer a person */
static cJSON *
oos_reply(double conf, const char *lang)
{
	cJSON *r = cJSON_CreateObject(), *esc;
	bool   fr = lang != NULL && strcmp(lang, "fr") == 0;

	cJSON_AddStringToObject(r, "route", "general");
	cJSON_AddNumberToObject(r, "confidence", conf);
	cJSON_AddNullToObject(r, "sop");
	cJSON_AddStringToObject(r, "response", fr ? rt_oos_text_fr : rt_oos_text);
	esc = cJSON_AddObjectToObject(r, "escalation");
	cJSON_AddNumberToObject(esc, "tier", 0);
	cJSON_AddStringToObject(esc, "reason", "out_of_scope");
	cJSON_AddArrayToObject(r, "actions");
	return r;
}

/* em_trace - the emergency decision's fields for a trace step */
static void
em_trace(cJSON *d, const em_match *em)
{
	static const char *const level[] = {"none", "possible", "sure"};

	cJSON_AddStringToObject(d, "level", level[em->level]);
	if (em->slug != NULL)
		cJSON_AddStringToObject(d, "slug", em->slug);
	if (em->rule != NULL)
		cJSON_AddStringToObject(d, "rule", em->rule);
	if (em->guard != NULL)
		cJSON_AddStringToObject(d, "guard", em->guard);
}

/*
 * em_gate - the emergency decision once the classifier has voted: the
 * rules' level fused with the summed probability of the emergency topics
 * (emergency.h has the thresholds).  Returns the final level.
 */
static int
em_gate(const char *tid, em_match *em, double prob, const char *slug)
{
	cJSON *d;
	int    before = em->level;

	em_fuse(em, prob, slug);
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "classifier_prob", prob);
	cJSON_AddBoolToObject(d, "changed", em->level != before);
	em_trace(d, em);
	trace_step(tid, "emergency_vote", d, 0);
	return em->level;
}

/*
 * with_context - a short follow-up ("bay 2", "and on sunday?") that the
 * classifier is not sure of alone, read with the customer's previous
 * message from the conversation's context (the turns clubos-conversations
 * or the gateway sent, oldest first).  NULL when the message stands alone;
 * else the two joined (malloc'd).
 */
static char *
with_context(const cJSON *q, const char *msg)
{
	const cJSON *ctx = cJSON_GetObjectItem(q, "context"), *t;
	const char  *prev = NULL;
	int          words = 0;
	bool         in_word = false;
	char        *out;
	size_t       n;

	if (!cJSON_IsArray(ctx))
		return NULL;
	for (const char *s = msg; *s; s++) {
		bool sp = *s == ' ' || *s == '\t' || *s == '\n';

		if (!sp && !in_word)
			words++;
		in_word = !sp;
	}
	if (words > RT_FOLLOWUP_WORDS)
		return NULL;
	cJSON_ArrayForEach(t, ctx)
	{
		const char *a = json_str(t, "author"), *x = json_str(t, "text");

		if (a != NULL && x != NULL && strcmp(a, "customer") == 0 && *x != '\0')
			prev = x;
	}
	if (prev == NULL)
		return NULL;
	/* A short message the classifier is sure of stands alone ("what are
	 * your hours?" after a parking question is a new question). */
	{
		struct rt_model *m = rt_model_get();
		clf_score        top[1];
		bool             alone = false;

		if (m != NULL && clf_predict(m->clf, msg, top, 1) == 1)
			alone =
			    m->label_route[top[0].label] >= 0 && top[0].prob >= RT_FOLLOWUP_SURE;
		rt_model_put(m);
		if (alone)
			return NULL;
	}
	n = strlen(prev) + strlen(msg) + 2;
	if (n > RT_CONTEXT_MAX || (out = malloc(n)) == NULL)
		return NULL;
	memcpy(out, prev, strlen(prev));
	out[strlen(prev)] = ' ';
	memcpy(out + strlen(prev) + 1, msg, strlen(msg) + 1);
	return out;
}

/* last_turn_offers - is the conversation's last turn a question back? */
static bool
last_turn_offers(const cJSON *q)
{
	const cJSON *ctx = cJSON_GetObjectItem(q, "context");

	return cJSON_IsArray(ctx) && cJSON_GetArraySize(ctx) > 0 &&
	       cJSON_IsArray(cJSON_GetObjectItem(
	           cJSON_GetArrayItem(ctx, cJSON_GetArraySize(ctx) - 1), "offer"));
}

/*
 * clarified - the customer's choice after the bot asked which of two SOPs
 * they meant (the conversation's last turn, with its "offer"): the label
 * chosen, with the question it answers in *question (the customer's turn
 * before the offer, or NULL); -1 when the message chooses nothing.
 */
static int
clarified(const struct rt_model *m, const cJSON *q, const char *msg, const char **question)
{
	const cJSON *ctx = cJSON_GetObjectItem(q, "context"), *last, *offer;
	int          n = cJSON_GetArraySize(ctx), pick, label;
	const char  *who;

	*question = NULL;
	if (!cJSON_IsArray(ctx) || n == 0)
		return -1;
	last = cJSON_GetArrayItem(ctx, n - 1);
	who = json_str(last, "author");
	offer = cJSON_GetObjectItem(last, "offer");
	if (who == NULL || strcmp(who, "bot") != 0 || (pick = rt_clarify_pick(offer, msg)) < 0)
		return -1;
	label = clf_label_index(m->clf, json_str(cJSON_GetArrayItem(offer, pick), "slug"));
	/* Only an answer is chosen this way: never the emergency route. */
	if (label < 0 || m->label_route[label] <= 0)
		return -1;
	for (int i = n - 2; i >= 0 && *question == NULL; i--) {
		const cJSON *t = cJSON_GetArrayItem(ctx, i);
		const char  *a = json_str(t, "author"), *x = json_str(t, "text");

		if (a != NULL && x != NULL && strcmp(a, "customer") == 0 && *x != '\0')
			*question = x;
	}
	return label;
}

/* rt_dispatch_limits - a request's deadline (its own, or the configured
 * query timeout from now) and the in-flight cap per connected worker, read
 * once from the live configuration (rt.h) */
void
rt_dispatch_limits(const struct env_hdr *h, uint64_t *deadline, int *per_worker)
{
	const struct cfg *c = cfg_acquire();

	*deadline =
	    h->deadline_ms != 0 ? h->deadline_ms : env_now_ms() + (uint64_t)c->query_timeout_ms;
	*per_worker = c->route_max_inflight;
	cfg_release(c);
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
	const char      *em_slug = NULL; /* the classifier's likeliest emergency topic */
	int              is_em, ri = -1, picked = -1;
	double           conf = 0, route_prob[RT_NROUTES] = {0}, oos_prob = 0;
	const char      *ew_kind;
	char             ew_why[80];
	int64_t          classify_us = 0, assist_us = 0, kgen = 0;
	char             scope[128] = "", key[CACHE_KEY_MAX] = "";
	bool             keep = false; /* the answer may be served again (see below) */
	bool             read_with_context = false;
	char            *unquoted = NULL; /* msg without a text quoted to be reworded */
	const char      *cmsg;            /* what the classifier reads */

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

	/* 1. Emergency rules: always first.  A sure emergency skips everything
	 * below; a possible one is classified like any message but never
	 * answered from a cache (see em_gate). */
	em_check(msg, &em);
	is_em = em.level == EM_SURE;
	/* The language the fixed lines are said in (the rules' reading). */
	cJSON_AddStringToObject(q, "lang", em.lang != NULL ? em.lang : "en");
	d = cJSON_CreateObject();
	cJSON_AddBoolToObject(d, "emergency", is_em);
	em_trace(d, &em);
	trace_step(tid, "emergency_check", d, env_mono_us() - t0);

	/* The answer to "which of these do you mean?": the SOP chosen answers
	 * the question asked before, with no cache and no classification. */
	if (em.level == EM_NONE && last_turn_offers(q) && (m = rt_model_get()) != NULL) {
		const char *question;

		if ((picked = clarified(m, q, msg, &question)) >= 0) {
			d = cJSON_CreateObject();
			cJSON_AddStringToObject(d, "picked", clf_label_name(m->clf, picked));
			if (question != NULL) {
				cJSON_ReplaceItemInObject(q, "message",
				                          cJSON_CreateString(question));
				msg = json_str(q, "message");
				cJSON_AddStringToObject(d, "read_as", msg);
			}
			trace_step(tid, "clarified", d, env_mono_us() - t0);
			ri = m->label_route[picked];
			conf = 1.0;
		} else {
			rt_model_put(m);
			m = NULL;
		}
	}

	/* A short follow-up in a conversation is read with what the customer
	 * said before it (the emergency rules above saw the new words alone). */
	if (em.level == EM_NONE && picked < 0) {
		char *joined = with_context(q, msg);

		if (joined != NULL) {
			cJSON_ReplaceItemInObject(q, "message", cJSON_CreateString(joined));
			free(joined);
			read_with_context = true;
			msg = json_str(q, "message");
			d = cJSON_CreateObject();
			cJSON_AddStringToObject(d, "read_as", msg);
			trace_step(tid, "context", d, env_mono_us() - t0);
		}
	}

	/* 2. The cache: an exact repeat skips everything below. */
	if (em.level == EM_NONE && picked < 0) {
		const char *loc = json_str(q, "location");

		/* The scope names the model too: an answer stays tied to the
		 * examples that routed it (an example edit reroutes at once). */
		snprintf(scope, sizeof(scope), "%s|%s|%016llx",
		         json_str(q, "audience") ? json_str(q, "audience") : "customer",
		         loc ? loc : "-", (unsigned long long)rt_model_examples_id());
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

	/* 3. Classification.  A text quoted to be reworded ("rewrite this:
	 * 'Refund pending review.'") is not what the message is about. */
	cmsg = msg;
	if (!is_em && picked < 0 && rt_asks_reword(msg) &&
	    (unquoted = malloc(strlen(msg) + 1)) != NULL) {
		if (rt_unquote(msg, unquoted, strlen(msg) + 1)) {
			cmsg = unquoted;
			d = cJSON_CreateObject();
			cJSON_AddStringToObject(d, "read_as", cmsg);
			trace_step(tid, "unquoted", d, 0);
		}
	}
	if (!is_em && picked < 0) {
		t1 = env_mono_us();
		if ((m = rt_model_get()) == NULL && em.level == EM_POSSIBLE) {
			/* No classifier: the possible emergency is still answered. */
			r = oos_reply(0, em.lang);
			goto answered;
		}
		if (m == NULL) {
			cJSON_Delete(q);
			free(unquoted);
			rpc_reply_error(rep, 503, "model_unavailable",
			                "the router has no trained model yet");
			return;
		}
		/* Route probabilities need every label, not just the top k. */
		{
			size_t     nl = clf_nlabels(m->clf);
			clf_score *all = calloc(nl, sizeof(*all));
			size_t     na = all != NULL ? clf_predict(m->clf, cmsg, all, nl) : 0;

			for (size_t i = 0; i < na; i++) {
				int rr = m->label_route[all[i].label];

				if (rr >= 0)
					route_prob[rr] += all[i].prob;
				else
					oos_prob += all[i].prob;
				if (rr == 0 && em_slug == NULL)
					em_slug = clf_label_name(m->clf, all[i].label);
				if (i < RT_TOPK)
					top[ntop++] = all[i];
			}
			free(all);
		}
		classify_us = env_mono_us() - t1;
		/* The emergency route is reached only through the emergency
		 * decision (em_gate), never as a plain argmax: a false alarm
		 * wakes the on-call manager. */
		for (int i = 1; i < RT_NROUTES; i++)
			if (ri < 0 || route_prob[i] > route_prob[ri])
				ri = i;
		d = cJSON_CreateObject();
		cJSON_AddItemToObject(d, "candidates", candidates_json(m, top, ntop));
		cJSON_AddStringToObject(d, "route", rt_routes[ri]);
		cJSON_AddNumberToObject(d, "route_prob", route_prob[ri]);
		cJSON_AddNumberToObject(d, "oos_prob", oos_prob);
		trace_step(tid, "classified", d, classify_us);

		if (em_gate(tid, &em, route_prob[0], em_slug) == EM_SURE) {
			is_em = 1;
		} else if (em.level == EM_NONE &&
		           (ew_kind = rt_elsewhere(cmsg, ew_why, sizeof(ew_why))) != NULL) {
			/* Another business's appointment or charge, equipment at
			 * home: no SOP of ours answers it, however alike the words. */
			d = cJSON_CreateObject();
			cJSON_AddStringToObject(d, "kind", ew_kind);
			cJSON_AddStringToObject(d, "words", ew_why);
			trace_step(tid, "elsewhere", d, 0);
			r = oos_reply(oos_prob, em.lang);
			goto answered;
		} else if (em.level == EM_NONE && !read_with_context && cmsg == msg &&
		           (r = rt_multi(tid, q, m, msg, h)) != NULL) {
			/* Several questions, each answered (never cached). */
			goto answered;
		} else if (route_prob[ri] < RT_ROUTE_MIN || oos_prob > route_prob[ri]) {
			r = oos_reply(oos_prob, em.lang);
			goto answered;
		} else if (em.level == EM_NONE && ntop > 0 && m->label_route[top[0].label] == ri &&
		           top[0].prob >= CACHE_SEMANTIC_MIN_PROB &&
		           (r = rt_cache_similar(m, scope, key, msg,
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
	} else if (picked >= 0) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "slug", clf_label_name(m->clf, picked));
		cJSON_AddNumberToObject(c, "prob", 1.0);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(q, "candidates"), c);
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
		uint64_t         deadline;
		int              rc, max_inflight;

		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "route", route);
		cJSON_AddNumberToObject(d, "workers", rpc_client_peers(rt_workers[ri]));
		trace_step(tid, "dispatched", d, env_mono_us() - t0);
		rt_dispatch_limits(h, &deadline, &max_inflight);
		/* An emergency keeps a second in hand for the fallback answer. */
		if (is_em && deadline > env_now_ms() + 2000)
			deadline -= 1000;
		t1 = env_mono_us();
		if (!rt_inflight_enter(ri, max_inflight)) {
			/* Full: an emergency is answered here, anything else is
			 * shed at once instead of queueing behind the others. */
			free(out);
			memset(&wr, 0, sizeof(wr));
			if (is_em) {
				r = emergency_fallback(tid, q, em.slug);
				goto em_answered;
			}
			log_msg(LOG_WARN, tid, "route %s has %d requests in flight: shed", route,
			        rt_inflight_now(ri));
			rpc_reply_error(rep, 503, "overloaded",
			                "too many requests for this route are waiting; please try "
			                "again in a moment");
			goto out;
		}
		rc = out != NULL ? rpc_call(rt_workers[ri], ENV_OP_ASSIST, tid, deadline, out,
		                            strlen(out), &wr)
		                 : -1;
		rt_inflight_leave(ri);
		assist_us = env_mono_us() - t1;
		free(out);
		if (rc == 0 && wr.status == 0 && (r = json_parse(wr.body, wr.len, &why)) != NULL &&
		    cJSON_IsObject(r)) {
			rpc_reply_clear(&wr);
		} else {
			cJSON_Delete(r);
			r = NULL;
			if (rc == 0 && wr.status != 0 && !is_em && em.level == EM_NONE) {
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
			} else if (em.level == EM_POSSIBLE) {
				/* Nobody to answer the rest: the safety line and
				 * the team's notification still go out. */
				r = cJSON_CreateObject();
				cJSON_AddNullToObject(r, "sop");
				cJSON_AddStringToObject(r, "response", "");
				cJSON_AddArrayToObject(r, "actions");
				log_msg(LOG_WARN, tid, "possible emergency with no %s worker",
				        route);
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
	em_answered:
		cJSON_DeleteItemFromObject(r, "route");
		cJSON_AddStringToObject(r, "route", route);
		if (!cJSON_HasObjectItem(r, "confidence"))
			cJSON_AddNumberToObject(r, "confidence", conf);
		if (em.level == EM_NONE)
			keep = rt_cache_store(m, scope, key, msg, r);
	}
answered : {
	cJSON *t;

	/* A possible emergency: the safety line and the question first, the
	 * team notified, and never kept in a cache. */
	if (em.level == EM_POSSIBLE && !is_em) {
		possible_emergency(tid, q, r, &em);
		keep = false;
	}
	t = cJSON_AddObjectToObject(r, "timings_us");

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
	free(unquoted);
}
