/*
 * reply.c - one request to an assistant: pick the SOP and build the answer
 *
 * The SOP is the router's best candidate within this route when it is
 * confident; otherwise the retrieval index may confirm one of the
 * candidates; otherwise, when two candidates are close, the reply asks
 * which one the asker means; otherwise there is no SOP and the reply
 * offers a person.
 * The asker's audience is checked against the SOP's before any of its text
 * is used.  Actions the SOP names are written to the actions journal
 * (common/ops.c) with an honest status: nothing here talks to a device or
 * a phone, so what needs one is queued for the executor (clubos-actions)
 * or waits for a confirmation or an approval.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "assistants/as.h"
#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "common/ops.h"
#include "common/settings.h"
#include "common/trace.h"
#include "common/util.h"

/* The classifier alone must reach the admin's sop_confidence_threshold
 * (settings; 0.40 unless changed: on the dev set the lowest with no wrong
 * SOP, README "Figures"). */
#define AS_SOP_MIN_DEFAULT 0.40 /* settings_defaults' sop_confidence_threshold */
#define AS_SOP_MIN_AGREE 0.15   /* classifier and retrieval agree */
#define AS_RET_COVERAGE 0.50

static const char as_low_conf_text[] =
    "I'm not completely sure what you need. Could you tell me a little more? "
    "If you'd rather, a person from our team can take it from here: just ask.";

/* Two SOPs this close ask the customer which one they mean. */
#define AS_CLARIFY_MIN 0.15   /* each is a real candidate */
#define AS_CLARIFY_CLOSE 0.50 /* nothing sure: the second has half the first's vote */
#define AS_CLARIFY_TIE 0.80   /* the first is sure, but the second nearly as much */

static const char as_not_allowed_text[] =
    "That's internal information I can't share here. If you need it, a person "
    "from our team can help.";

/* The same lines in French, for a message the router read as French. */
static const char as_low_conf_text_fr[] =
    "Je ne suis pas certain de bien comprendre ce dont vous avez besoin. Pouvez-vous m'en dire "
    "un peu plus? Si vous préférez, une personne de notre équipe peut prendre le relais : il "
    "suffit de le demander.";
static const char as_not_allowed_text_fr[] =
    "C'est une information interne que je ne peux pas partager ici. Si vous en avez besoin, "
    "une personne de notre équipe peut vous aider.";

/* french - did the router read the message as French? */
static bool
french(const cJSON *q)
{
	const char *l = json_str(q, "lang");

	return l != NULL && strcmp(l, "fr") == 0;
}

/* What each action type means here: its status, and a ticket if any. */
static const struct action_rule {
	const char *type;
	const char *status;
	const char *ticket; /* priority of the ticket it opens, or NULL */
} action_rules[] = {
    {"alert_oncall", "queued", NULL},
    {"handoff", "queued", NULL},
    {"handoff_on_request", "queued", NULL},
    {"notify_team", "queued", NULL},
    {"projector_reset_request", "queued", NULL},
    {"reboot_pc_request", "pending_confirmation", NULL},
    {"restart_trackman_request", "pending_confirmation", NULL},
    {"ticket_normal", "done", "normal"},
    {"ticket_urgent", "done", "urgent"},
    {"unlock_door_request", "pending_approval", NULL},
};

static const char *const person_words[] = {
    "person",       "human",      "someone",    "somebody", "staff",        "agent",
    "real",         "manager",    "talk to",    "speak to", "une personne", "un humain",
    "quelqu'un de", "un employé", "un employe", "parler à", "parler a",     NULL};

/* as_audience_allows - may this asker read an SOP of that audience? */
bool
as_audience_allows(const char *asker, const char *sop)
{
	if (strcmp(sop, "all") == 0)
		return true;
	if (strcmp(sop, "staff") == 0)
		return strcmp(asker, "staff") == 0 || strcmp(asker, "admin") == 0;
	return strcmp(asker, "admin") == 0;
}

/* asks_for_person - does the message ask for a human? */
static bool
asks_for_person(const char *msg)
{
	for (const char *const *w = person_words; *w != NULL; w++)
		if (strcasestr(msg, *w) != NULL)
			return true;
	return false;
}

/* action_item - what one of the SOP's actions records (ticket in *t if any) */
static void
action_item(const char *type, const struct as_asker *a, const struct as_sop *sop,
            const char *summary, int64_t conv, const char *tid, const char *detail,
            struct ops_item *it, struct ops_ticket *t)
{
	const struct action_rule *rule = NULL;

	for (size_t i = 0; i < sizeof(action_rules) / sizeof(action_rules[0]); i++)
		if (strcmp(action_rules[i].type, type) == 0)
			rule = &action_rules[i];
	*it = (struct ops_item){
	    .type = strcmp(type, "handoff_on_request") == 0 ? "handoff" : type,
	    .status = rule != NULL ? rule->status : "queued",
	    .location = a->location,
	    .bay = a->bay,
	    .conversation_id = conv,
	    .trace_id = tid,
	    .detail = detail,
	};
	if (rule != NULL && rule->ticket != NULL) {
		*t = (struct ops_ticket){rule->ticket, sop->title, summary, sop->slug};
		it->ticket = t;
	}
}

/* record_actions - journal the SOP's actions in one transaction (or spool them) */
static void
record_actions(db_conn *db, const struct as_asker *a, const struct as_sop *sop, const char *msg,
               int64_t conv, const char *tid, cJSON *acts)
{
	struct ops_item   items[AS_MAX_ACTIONS];
	struct ops_ticket tickets[AS_MAX_ACTIONS];
	struct ops_result res[AS_MAX_ACTIONS];
	char              summary[128 * 4 + 300 * 4 + 8], spool[512];
	cJSON            *det = cJSON_CreateObject();
	char             *dj;
	size_t            n = 0;

	cJSON_AddStringToObject(det, "sop", sop->slug);
	cJSON_AddStringToObject(det, "channel", a->channel ? a->channel : "");
	dj = json_print(det);
	cJSON_Delete(det);
	{
		/* The title and the customer's words, each cut by characters. */
		size_t tl = util_utf8_copy(summary, 128 * 4 + 1, sop->title, 128);

		memcpy(summary + tl, ": ", 3);
		util_utf8_copy(summary + tl + 2, sizeof(summary) - tl - 2, msg, 300);
	}
	for (int i = 0; i < sop->nactions && n < AS_MAX_ACTIONS; i++) {
		if (strcmp(sop->actions[i], "handoff_on_request") == 0 && !asks_for_person(msg))
			continue;
		action_item(sop->actions[i], a, sop, summary, conv, tid, dj, &items[n],
		            &tickets[n]);
		n++;
	}
	snprintf(spool, sizeof(spool), "%s/spool", as_cfg->run_dir);
	if (ops_record(db, spool, items, n, res) == OPS_FAILED)
		log_msg(LOG_ERROR, tid, "actions for %s not journaled", sop->slug);
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "type", items[i].type);
		cJSON_AddStringToObject(o, "status", res[i].status);
		if (res[i].action_id > 0)
			cJSON_AddNumberToObject(o, "id", (double)res[i].action_id);
		if (res[i].ticket_id > 0)
			cJSON_AddNumberToObject(o, "ticket_id", (double)res[i].ticket_id);
		cJSON_AddItemToArray(acts, o);
	}
	free(dj);
}

/* choose_sop - the SOP that answers, or NULL; *conf gets its confidence */
static const struct as_sop *
choose_sop(const struct as_kb *kb, const cJSON *q, const char *msg, double min_conf, double *conf,
           cJSON *trace)
{
	const cJSON         *em = cJSON_GetObjectItem(q, "emergency");
	const cJSON         *cands = cJSON_GetObjectItem(q, "candidates");
	const cJSON         *c0 = cJSON_GetArrayItem(cands, 0);
	struct ret_hit       hits[3];
	size_t               nh;
	const struct as_sop *s;

	if (cJSON_IsObject(em)) {
		const char *slug = json_str(em, "slug");

		*conf = 1.0;
		s = slug != NULL ? as_kb_sop(kb, slug) : NULL;
		return s != NULL ? s : (kb->nsops > 0 ? &kb->sops[0] : NULL);
	}
	nh = ret_search(kb->index, msg, hits, 3);
	if (nh > 0) {
		cJSON_AddStringToObject(trace, "retrieval_top", kb->sops[hits[0].doc].slug);
		cJSON_AddNumberToObject(trace, "retrieval_score", hits[0].score);
		cJSON_AddNumberToObject(trace, "retrieval_coverage", hits[0].coverage);
	}
	if (cJSON_IsObject(c0) && json_num(c0, "prob", 0) >= min_conf &&
	    (s = as_kb_sop(kb, json_str(c0, "slug"))) != NULL) {
		*conf = json_num(c0, "prob", 0);
		return s;
	}
	/* A weaker classifier vote that retrieval backs up: part of the
	 * default policy.  An admin who raises sop_confidence_threshold above
	 * the default asks for stricter answers, and this path closes. */
	if (nh > 0 && hits[0].coverage >= AS_RET_COVERAGE && min_conf <= AS_SOP_MIN_DEFAULT) {
		const cJSON *c;

		cJSON_ArrayForEach(c, cands)
		{
			if (json_num(c, "prob", 0) >= AS_SOP_MIN_AGREE &&
			    json_str(c, "slug") != NULL &&
			    strcmp(json_str(c, "slug"), kb->sops[hits[0].doc].slug) == 0) {
				*conf = json_num(c, "prob", 0);
				return &kb->sops[hits[0].doc];
			}
		}
	}
	return NULL;
}

/*
 * clarify - two candidates the asker may read whose votes are close (the
 * second has at least ratio of the first's) and together reach the
 * confidence threshold, as a question back ("which of these do you
 * mean?") with the offer the conversation keeps, so that the next message
 * can pick one (router/rt_clarify.c).  False when no two are that close.
 */
static bool
clarify(const struct as_kb *kb, const cJSON *q, const struct as_asker *a, double min_conf,
        double ratio, cJSON *r, double *conf)
{
	const struct as_sop *opt[2];
	double               p[2];
	int                  n = 0;
	const cJSON         *c;
	char                 text[1024];
	cJSON               *offer;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(q, "candidates"))
	{
		const struct as_sop *s = as_kb_sop(kb, json_str(c, "slug"));
		double               pr = json_num(c, "prob", 0);

		if (n == 2 || pr < AS_CLARIFY_MIN)
			break;
		if (s != NULL && as_audience_allows(a->audience, s->audience)) {
			opt[n] = s;
			p[n++] = pr;
		}
	}
	if (n < 2 || p[1] < ratio * p[0] || p[0] + p[1] < min_conf)
		return false;
	if (json_num(q, "conversation_id", 0) > 0)
		snprintf(text, sizeof(text),
		         french(q)
		             ? "Je veux répondre à la bonne question. Laquelle voulez-vous dire?\n"
		               "1. %s\n2. %s\nRépondez 1 ou 2, ou dites-m'en un peu plus."
		             : "I want to answer the right question. Which one do you mean?\n"
		               "1. %s\n2. %s\nReply 1 or 2, or tell me a little more.",
		         opt[0]->title, opt[1]->title);
	else
		snprintf(text, sizeof(text),
		         french(q)
		             ? "Je veux répondre à la bonne question. Voulez-vous dire « %s » ou "
		               "« %s »? Dites-moi laquelle, ou un peu plus, et je vous répondrai."
		             : "I want to answer the right question. Do you mean \"%s\" or "
		               "\"%s\"? Tell me which one, or a little more, and I'll answer.",
		         opt[0]->title, opt[1]->title);
	cJSON_AddNullToObject(r, "sop");
	cJSON_AddStringToObject(r, "response", text);
	offer = cJSON_AddArrayToObject(r, "clarify");
	for (int i = 0; i < 2; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "slug", opt[i]->slug);
		cJSON_AddStringToObject(o, "title", opt[i]->title);
		cJSON_AddItemToArray(offer, o);
	}
	*conf = p[0];
	return true;
}

/* may_clarify - may this answer become a question back?  Never for an
 * emergency; for a chosen SOP only when retrieval does not back it. */
static bool
may_clarify(const cJSON *q, const struct as_sop *sop, const cJSON *trace)
{
	const char *top = json_str(trace, "retrieval_top");

	if (cJSON_IsObject(cJSON_GetObjectItem(q, "emergency")))
		return false;
	return sop == NULL || top == NULL || strcmp(top, sop->slug) != 0 ||
	       json_num(trace, "retrieval_coverage", 0) < AS_RET_COVERAGE;
}

/* as_asker_read - read the asker the gateway vouched for (pointers into q) */
void
as_asker_read(const cJSON *q, struct as_asker *a)
{
	memset(a, 0, sizeof(*a));
	a->role = json_str(q, "role") ? json_str(q, "role") : "customer";
	a->audience = json_str(q, "audience") ? json_str(q, "audience") : "customer";
	a->channel = json_str(q, "channel");
	a->location = json_str(q, "location");
	a->bay = json_int(q, "bay", 0);
	a->user_id = (int64_t)json_num(q, "user_id", 0);
	a->customer_id = (int64_t)json_num(q, "customer_id", 0);
	a->customer_phone = json_str(q, "customer_phone");
}

/* escalation - the escalation object */
static void
add_escalation(cJSON *r, int tier, const char *reason)
{
	cJSON *e = cJSON_AddObjectToObject(r, "escalation");

	cJSON_AddNumberToObject(e, "tier", tier);
	cJSON_AddStringToObject(e, "reason", reason);
}

/* as_assist - ENV_OP_ASSIST: build the answer for one message */
void
as_assist(void *arg, void *worker, const struct env_hdr *h, const char *body, size_t len,
          struct rpc_reply *rep)
{
	db_conn             *db = worker;
	const char          *why, *msg, *tid = h->trace_id;
	cJSON               *q, *r, *acts, *tr;
	struct as_kb        *kb;
	const struct as_sop *sop;
	struct as_asker      a;
	double               conf = 0;
	int64_t              t0 = env_mono_us();
	struct settings      set;

	(void)arg;
	if (h->op != ENV_OP_ASSIST && h->op != ENV_OP_PING) {
		rpc_reply_error(rep, 400, "unknown_op", "an assistant serves assist and ping");
		return;
	}
	if (h->op == ENV_OP_PING) {
		rep->body = strdup("{\"ok\":true}");
		rep->len = rep->body ? strlen(rep->body) : 0;
		return;
	}
	if ((q = json_parse(body, len, &why)) == NULL || (msg = json_str(q, "message")) == NULL) {
		cJSON_Delete(q);
		rpc_reply_error(rep, 400, "bad_request", "assist needs a message");
		return;
	}
	as_asker_read(q, &a);
	kb = as_kb_get();
	/* The gateway knows of a newer SOP change than we have loaded: catch up
	 * before answering, so no answer is built from a replaced version. */
	if (kb == NULL || (int64_t)json_num(q, "kgen", 0) > kb->kgen) {
		as_kb_put(kb);
		as_kb_reload(db);
		kb = as_kb_get();
	}
	if (kb == NULL) {
		cJSON_Delete(q);
		rpc_reply_error(rep, 503, "knowledge_unavailable", "the SOPs could not be loaded");
		return;
	}
	tr = cJSON_CreateObject();
	settings_current(db, &set);
	sop = choose_sop(kb, q, msg, set.sop_confidence_threshold, &conf, tr);
	r = cJSON_CreateObject();
	acts = cJSON_CreateArray();
	if (may_clarify(q, sop, tr) &&
	    clarify(kb, q, &a, set.sop_confidence_threshold,
	            sop == NULL ? AS_CLARIFY_CLOSE : AS_CLARIFY_TIE, r, &conf)) {
		sop = NULL;
		add_escalation(r, 0, "clarify");
	} else if (sop == NULL) {
		cJSON_AddNullToObject(r, "sop");
		cJSON_AddStringToObject(r, "response",
		                        french(q) ? as_low_conf_text_fr : as_low_conf_text);
		add_escalation(r, 1, "low_confidence");
	} else if (!as_audience_allows(a.audience, sop->audience)) {
		cJSON_AddNullToObject(r, "sop");
		/* Never another SOP's answer in its place: a plain refusal, and
		 * the team sees the question (tier 1) in case the asker needs it. */
		cJSON_AddStringToObject(r, "response",
		                        french(q) ? as_not_allowed_text_fr : as_not_allowed_text);
		add_escalation(r, 1, "restricted");
		cJSON_AddStringToObject(tr, "withheld", sop->slug);
	} else {
		cJSON *so = cJSON_AddObjectToObject(r, "sop");
		char  *text = as_render(kb, sop->content, a.location), *personal = NULL;

		cJSON_AddStringToObject(so, "slug", sop->slug);
		cJSON_AddNumberToObject(so, "version", sop->version);
		if (strcmp(as_route, "customerinfo") == 0)
			personal = as_customer_answer(db, &a, sop->slug, msg, tid);
		if (personal != NULL && text != NULL) {
			size_t n = strlen(text) + strlen(personal) + 3;
			char  *both = malloc(n);

			if (both != NULL)
				snprintf(both, n, "%s\n\n%s", text, personal);
			free(text);
			text = both;
		}
		free(personal);
		cJSON_AddStringToObject(r, "response", text ? text : "");
		free(text);
		if (cJSON_IsObject(cJSON_GetObjectItem(q, "emergency")))
			add_escalation(r, 3, "emergency");
		else
			add_escalation(r, sop->escalation, sop->escalation > 0 ? "sop" : "none");
		/* All of an answer's actions are journaled in one transaction: one
		 * commit, and either all of them are recorded (or spooled) or none is. */
		if (sop->nactions > 0)
			record_actions(db, &a, sop, msg, (int64_t)json_num(q, "conversation_id", 0),
			               tid, acts);
	}
	/* The generative tier may reword the answer or, when nothing here was
	 * sure, pick among the candidates (llm.c); it decides nothing else. */
	as_llm_after(db, h, q, kb, &a, sop, conf, r, acts);
	if (cJSON_IsObject(cJSON_GetObjectItem(r, "sop")))
		cJSON_DeleteItemFromObject(r, "clarify"); /* the model chose one */
	cJSON_AddItemToObject(r, "actions", acts);
	cJSON_AddNumberToObject(r, "confidence", conf);
	cJSON_AddStringToObject(tr, "sop", sop ? sop->slug : "");
	cJSON_AddNumberToObject(tr, "version", sop ? sop->version : 0);
	cJSON_AddNumberToObject(tr, "confidence", conf);
	trace_step(tid, "answered", tr, env_mono_us() - t0);
	as_kb_put(kb);
	cJSON_Delete(q);
	rep->body = json_print(r);
	rep->len = rep->body ? strlen(rep->body) : 0;
	cJSON_Delete(r);
}
