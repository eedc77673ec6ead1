/*
 * rt_multi.c - one message, several questions: each part answered
 *
 * "What are your hours? And where do I park?" asks two things.  The
 * message is cut into parts at sentence ends and at "and" / "also" / "plus"
 * between clauses of three words or more (rt_split.c); each part is
 * classified alone.  When two or three parts are each, on their own, sure
 * of a different topic, each goes to its route's worker as a question of
 * its own, and the answers are joined: the most urgent first (by
 * escalation tier), otherwise in the order asked.  Parts nobody is sure of
 * are left to the whole answer: if fewer than two parts are sure, the
 * message is answered as one, as before.  Emergencies never come here:
 * the rules and the fusion decide first, and a possible emergency is
 * answered whole.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "common/trace.h"
#include "router/rt.h"

#define MULTI_SURE 0.80 /* each part's own classifier vote */

struct part {
	const char *text;
	int         label, route, order;
	double      prob;
	cJSON      *answer;
};

/* ask - one part to its route's worker; its answer, or NULL */
static cJSON *
ask(const char *tid, const cJSON *q, const struct rt_model *m, const struct part *p,
    uint64_t deadline, int max_inflight)
{
	cJSON           *sub = cJSON_Duplicate(q, true), *c, *a = NULL;
	struct rpc_reply rep;
	char            *out;
	const char      *why;
	int              rc;

	if (sub == NULL)
		return NULL;
	cJSON_DeleteItemFromObject(sub, "context");
	cJSON_ReplaceItemInObject(sub, "message", cJSON_CreateString(p->text));
	cJSON_DeleteItemFromObject(sub, "candidates");
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "slug", clf_label_name(m->clf, p->label));
	cJSON_AddNumberToObject(c, "prob", p->prob);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(sub, "candidates"), c);
	cJSON_DeleteItemFromObject(sub, "route");
	cJSON_AddStringToObject(sub, "route", rt_routes[p->route]);
	cJSON_DeleteItemFromObject(sub, "route_confidence");
	cJSON_AddNumberToObject(sub, "route_confidence", p->prob);
	out = json_print(sub);
	cJSON_Delete(sub);
	if (out == NULL || !rt_inflight_enter(p->route, max_inflight)) {
		free(out);
		return NULL;
	}
	rc = rpc_call(rt_workers[p->route], ENV_OP_ASSIST, tid, deadline, out, strlen(out), &rep);
	rt_inflight_leave(p->route);
	free(out);
	if (rc == 0 && rep.status == 0 && (a = json_parse(rep.body, rep.len, &why)) != NULL &&
	    !cJSON_IsObject(a)) {
		cJSON_Delete(a);
		a = NULL;
	}
	rpc_reply_clear(&rep);
	if (a != NULL) {
		cJSON_DeleteItemFromObject(a, "route");
		cJSON_AddStringToObject(a, "route", rt_routes[p->route]);
	}
	return a;
}

/* urgency - a part's escalation tier */
static int
urgency(const struct part *p)
{
	return json_int(cJSON_GetObjectItem(p->answer, "escalation"), "tier", 0);
}

/* by_urgency - the most urgent first, then in the order asked */
static int
by_urgency(const void *a, const void *b)
{
	const struct part *x = a, *y = b;

	if (urgency(x) != urgency(y))
		return urgency(y) - urgency(x);
	return x->order - y->order;
}

/* Says what is so: nothing has been passed on, the asker may ask again or
 * ask for a person (tier 1 shows the team the question). */
static const char rt_multi_rest[] = "I couldn't answer the rest of your message just now. Ask "
                                    "me again, or ask for a person from our team.";

/* merge - one answer from the parts' answers (n >= 1, sorted); lost says
 * some sure part got no answer */
static cJSON *
merge(struct part *p, int n, bool lost)
{
	cJSON *r = cJSON_CreateObject(), *acts = cJSON_CreateArray(), *list = cJSON_CreateArray();
	size_t len = sizeof(rt_multi_rest) + 2;
	char  *text;
	double conf = 1.0;

	for (int i = 0; i < n; i++)
		len += strlen(json_str(p[i].answer, "response") ? json_str(p[i].answer, "response")
		                                                : "") +
		       2;
	if ((text = calloc(1, len)) == NULL) {
		cJSON_Delete(r);
		cJSON_Delete(acts);
		cJSON_Delete(list);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		const char  *resp = json_str(p[i].answer, "response");
		const cJSON *a, *sop = cJSON_GetObjectItem(p[i].answer, "sop");
		cJSON       *one = cJSON_CreateObject();

		if (resp != NULL && *resp != '\0') {
			if (*text != '\0')
				strcat(text, "\n\n");
			strcat(text, resp);
		}
		cJSON_ArrayForEach(a, cJSON_GetObjectItem(p[i].answer, "actions"))
		    cJSON_AddItemToArray(acts, cJSON_Duplicate(a, true));
		if (json_num(p[i].answer, "confidence", 0) < conf)
			conf = json_num(p[i].answer, "confidence", 0);
		cJSON_AddStringToObject(one, "message", p[i].text);
		cJSON_AddStringToObject(one, "route", rt_routes[p[i].route]);
		cJSON_AddItemToObject(one, "sop",
		                      cJSON_IsObject(sop) ? cJSON_Duplicate(sop, true)
		                                          : cJSON_CreateNull());
		cJSON_AddItemToArray(list, one);
	}
	if (lost) {
		strcat(text, "\n\n");
		strcat(text, rt_multi_rest);
	}
	/* The first (most urgent) part names the answer's route, SOP and
	 * escalation (at least a person's attention when a part was lost);
	 * "parts" has every one. */
	cJSON_AddStringToObject(r, "route", rt_routes[p[0].route]);
	cJSON_AddItemToObject(r, "sop",
	                      cJSON_Duplicate(cJSON_GetObjectItem(p[0].answer, "sop"), true));
	cJSON_AddStringToObject(r, "response", text);
	if (lost && urgency(&p[0]) < 1) {
		cJSON *e = cJSON_AddObjectToObject(r, "escalation");

		cJSON_AddNumberToObject(e, "tier", 1);
		cJSON_AddStringToObject(e, "reason", "part_unanswered");
	} else {
		cJSON_AddItemToObject(
		    r, "escalation",
		    cJSON_Duplicate(cJSON_GetObjectItem(p[0].answer, "escalation"), true));
	}
	cJSON_AddItemToObject(r, "actions", acts);
	cJSON_AddNumberToObject(r, "confidence", conf);
	cJSON_AddItemToObject(r, "parts", list);
	free(text);
	return r;
}

/* rt_multi - the joined answer to a message of several questions, or NULL (rt.h) */
cJSON *
rt_multi(const char *tid, const cJSON *q, const struct rt_model *m, const char *msg,
         const struct env_hdr *h)
{
	uint64_t    deadline;
	int         max_inflight;
	char        parts[RT_MULTI_MAX_PARTS][RT_PART_MAX];
	struct part sure[RT_MULTI_MAX_PARTS];
	int         n = rt_split(msg, parts, RT_MULTI_MAX_PARTS), ns = 0, done = 0;
	cJSON      *r, *d;
	int64_t     t0 = env_mono_us();

	if (n < 2)
		return NULL;
	for (int i = 0; i < n; i++) {
		clf_score top[1];
		int       route;
		bool      seen = false;

		if (rt_words(parts[i], strlen(parts[i])) < RT_PART_MIN_WORDS - 1 ||
		    clf_predict(m->clf, parts[i], top, 1) != 1 || top[0].prob < MULTI_SURE)
			continue;
		route = m->label_route[top[0].label];
		if (route <= 0) /* out of scope, or the emergency route (never by argmax) */
			continue;
		for (int k = 0; k < ns; k++)
			seen = seen || sure[k].label == top[0].label;
		if (!seen)
			sure[ns++] =
			    (struct part){parts[i], top[0].label, route, i, top[0].prob, NULL};
	}
	if (ns < 2)
		return NULL;
	rt_dispatch_limits(h, &deadline, &max_inflight);
	for (int i = 0; i < ns; i++) {
		sure[i].answer = ask(tid, q, m, &sure[i], deadline, max_inflight);
		if (sure[i].answer != NULL)
			sure[done++] = sure[i];
	}
	if (done == 0)
		return NULL; /* the whole message is answered as one */
	qsort(sure, (size_t)done, sizeof(*sure), by_urgency);
	r = merge(sure, done, done < ns);
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "parts", ns);
	cJSON_AddNumberToObject(d, "answered", done);
	if (r != NULL)
		cJSON_AddItemToObject(d, "answers",
		                      cJSON_Duplicate(cJSON_GetObjectItem(r, "parts"), true));
	trace_step(tid, "multi_intent", d, env_mono_us() - t0);
	if (done < ns)
		log_msg(LOG_WARN, tid, "%d of %d parts of the message answered", done, ns);
	for (int i = 0; i < done; i++)
		cJSON_Delete(sure[i].answer);
	return r;
}
