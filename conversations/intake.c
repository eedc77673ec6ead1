/*
 * intake.c - OpenPhone's events, each taken once, and the bot's answers
 *
 * The gateway stored every signed event in webhook_events before it
 * answered 200.  One worker takes the oldest unprocessed event (FOR UPDATE
 * SKIP LOCKED; woken by NOTIFY clubos_webhooks, polled every second) and
 * does all it calls for in ONE transaction that also marks it processed:
 * a crash half-way leaves it unprocessed, it is taken again, and the
 * unique provider message id keeps the text from being filed twice.
 * Events are taken in order by one worker, so two texts of a conversation
 * are answered in the order they came.
 *
 *   message.received   a customer's text: filed in the conversation of its
 *                      number (a new one after conversation_idle_s of
 *                      quiet; the customer matched by phone), then, if the
 *                      conversation is the bot's and the reply mode lets
 *                      it, answered (decide() below).  Outgoing echoes and
 *                      texts from the venue's own number are not answered.
 *   message.delivered  the part's and, once every part is, the message's
 *   message.failed     delivery status (matched by the provider's id)
 *   call.completed     an incoming call nobody answered: one text back per
 *   call.missed        caller per quiet period
 *
 * Effects outside PostgreSQL's transaction: the router may record actions
 * for a text (an emergency's alert, a pending restart) on its own
 * connection.  If this transaction then fails, the event is taken again
 * and the router asked again; that window is one statement long.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "common/ops.h"
#include "common/settings.h"
#include "common/trace.h"
#include "common/util.h"
#include "conversations/cv.h"
#include "router/emergency.h"

static const struct cfg *in_cfg;
static rpc_client       *in_router;
static pthread_t         in_thr;
static bool              in_running;
static db_conn          *in_db;
static atomic_bool       cv_stop_flag;

/*
 * What the bot says, in one place, in English and in French (Québec usage).
 * A line says what was asked for, never that it was done.  They are said in
 * the conversation's language: that of the customer's last text that read
 * in one (em_language, or a French yes or no), English until then.
 */
struct lines {
	const char *handoff, *unsure, *no_router, *yes_done, *no_done, *yes_none, *no_none;
	const char *hours;  /* from, to, from: the team's hours, then 911 */
	const char *missed; /* the text back after a missed call */
};

static const struct lines lines_en = {
    .handoff = "I've asked the team to pick this up; a person will reply here.",
    .unsure = "I'm not sure I have the right answer for that, so I've asked the team to pick "
              "this up; a person will reply here.",
    .no_router = "I can't answer automatically right now, so I've asked the team to pick this "
                 "up; a person will reply here.",
    .yes_done = "Thanks, I've asked for that now. I'll text you here once it has been done.",
    .no_done = "OK, I've cancelled that request.",
    .yes_none = "There's nothing waiting for a yes from you right now. What can I help you "
                "with?",
    .no_none = "OK. Is there anything else I can help you with?",
    .hours = " Our team answers texts from %s to %s, so a person will reply after %s. If "
             "anyone is hurt or in danger, call 911.",
    .missed = "Sorry we missed your call. You can text us here and we'll help.",
};

static const struct lines lines_fr = {
    .handoff = "J'ai demandé à l'équipe de prendre le relais; une personne vous répondra ici.",
    .unsure = "Je ne suis pas certain d'avoir la bonne réponse, alors j'ai demandé à l'équipe "
              "de prendre le relais; une personne vous répondra ici.",
    .no_router = "Je ne peux pas répondre automatiquement pour le moment, alors j'ai demandé "
                 "à l'équipe de prendre le relais; une personne vous répondra ici.",
    .yes_done = "Merci, c'est demandé. Je vous écrirai ici une fois que ce sera fait.",
    .no_done = "D'accord, j'ai annulé cette demande.",
    .yes_none = "Rien n'attend de réponse de votre part pour le moment. Comment puis-je vous "
                "aider?",
    .no_none = "D'accord. Puis-je vous aider avec autre chose?",
    .hours = " Notre équipe répond aux textos de %s à %s; une personne vous répondra après "
             "%s. Si quelqu'un est blessé ou en danger, faites le 911.",
    .missed = "Désolés d'avoir manqué votre appel. Vous pouvez nous écrire ici et nous vous "
              "aiderons.",
};

/* ============================================================ shared */

/*
 * event_trace_id - the trace id of an event's processing: the same on every
 * attempt, so that what the assistants journal for it (actions, tickets:
 * idempotency keys are the trace id and the item's place) is written once
 * even when a crash makes this daemon process the event again.
 */
static void
event_trace_id(const char *event_id, char out[33])
{
	unsigned char h[16];

	crypto_generichash(h, sizeof(h), (const unsigned char *)event_id, strlen(event_id),
	                   (const unsigned char *)"clubos-webhook-event", 20);
	sodium_bin2hex(out, 33, h, sizeof(h));
}

/* cv_stopping - the daemon is stopping: leave the loop */
bool
cv_stopping(void)
{
	return atomic_load(&cv_stop_flag);
}

/* cv_own_number - the number texts go out from: OPENPHONE_NUMBER or the venue line */
void
cv_own_number(db_conn *db, const struct cfg *c, char *out, size_t cap)
{
	PGresult *r;

	out[0] = '\0';
	if (*c->openphone_number != '\0') {
		snprintf(out, cap, "%s", c->openphone_number);
		return;
	}
	r = db_exec(db, "SELECT value FROM facility WHERE key = 'venue_line'", 0, NULL);
	if (r != NULL && PQntuples(r) == 1)
		snprintf(out, cap, "%s", db_val(r, 0, 0));
	PQclear(r);
}

/* =========================================================== helpers */

/* One event being processed. */
struct in_ev {
	const char *event_id;
	char        trace_id[33];
	char        cid[24]; /* the conversation, once known */
	char        status[16];
	char        location[48];
	int64_t     customer_id;
	int         bot_streak;
	char        lang[4]; /* the conversation's: "en" or "fr" */
	const char *phone;
};

/* lines_of - what the bot says, in the conversation's language */
static const struct lines *
lines_of(const struct in_ev *e)
{
	return strcmp(e->lang, "fr") == 0 ? &lines_fr : &lines_en;
}

/* mask - a phone number for a log line: its last 4 digits */
static const char *
mask(const char *phone)
{
	size_t n = strlen(phone);

	return n > 4 ? phone + n - 4 : "";
}

/* phone_ok - an E.164-ish number: '+' and 6..20 digits */
static bool
phone_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL || *s != '+')
		return false;
	for (s++; *s; s++, n++)
		if (!isdigit((unsigned char)*s))
			return false;
	return n >= 6 && n <= 20;
}

/* normal - text lowercased, letters, digits and single spaces only */
static void
normal(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	bool   space = false;

	for (; *s && n + 1 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c >= 0x80 || c == '\'') {
			if (space && n > 0)
				out[n++] = ' ';
			space = false;
			if (n + 1 < cap && c != '\'')
				out[n++] = (char)tolower(c);
		} else {
			space = true;
		}
	}
	out[n] = '\0';
}

/* in_list - is s one of the NULL-terminated list? */
static bool
in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* yes_no - 1 a plain yes, 0 a plain no, -1 anything else; *fr set when it
 * was said in French (may be NULL) */
static int
yes_no(const char *text, bool *fr)
{
	static const char *const yes[] = {"yes",      "y",         "yeah",    "yep",  "yup",
	                                  "ok",       "okay",      "confirm", "sure", "yes please",
	                                  "go ahead", "please do", "do it",   NULL};
	static const char *const no[] = {"no",   "n",         "nope",       "cancel", "stop",
	                                 "dont", "no thanks", "dont do it", NULL};
	/* normal() keeps accents and drops apostrophes ("d'accord" is "daccord") */
	static const char *const oui[] = {"oui",
	                                  "ouais",
	                                  "oui svp",
	                                  "oui merci",
	                                  "daccord",
	                                  "oui daccord",
	                                  "vas y",
	                                  "allez y",
	                                  "oui sil vous plaît",
	                                  "oui sil vous plait",
	                                  "confirmé",
	                                  "confirme",
	                                  "parfait",
	                                  NULL};
	static const char *const non[] = {"non",          "non merci",  "annule",     "annuler",
	                                  "laisse faire", "pas besoin", "non annule", NULL};
	char                     n[64];
	int                      v;

	if (fr != NULL)
		*fr = false;
	if (strlen(text) > 40)
		return -1;
	normal(text, n, sizeof(n));
	if ((v = in_list(n, yes) ? 1 : in_list(n, no) ? 0 : -1) >= 0)
		return v;
	v = in_list(n, oui) ? 1 : in_list(n, non) ? 0 : -1;
	if (v >= 0 && fr != NULL)
		*fr = true;
	return v;
}

/* wants_person - the customer asks for a person, or says the bot is not helping */
static bool
wants_person(const char *text)
{
	static const char *const asks[] = {
	    "real person", "human", "speak to someone", "talk to someone", "speak with someone",
	    "speak to a person", "talk to a person", "speak to a human", "talk to a human",
	    "representative", "isnt helping", "not helping", "is useless", "real people",
	    "a staff member", "live agent",
	    /* French: normal() keeps accents and drops
	     * apostrophes ("m'aide" is "maide") */
	    "une personne", "vraie personne", "humain", "parler à quelqu", "parler a quelqu",
	    "parler avec quelqu", "un employé", "un employe", "ça maide pas", "ca maide pas",
	    "ça aide pas", "ca aide pas", NULL};
	char n[OPS_TEXT_MAX + 1];

	normal(text, n, sizeof(n));
	for (const char *const *a = asks; *a; a++)
		if (strstr(n, *a) != NULL)
			return true;
	return false;
}

/* hour_of - "8 am" / "11 pm" / "23" at s: the hour 0..24, or -1 */
static int
hour_of(const char *s)
{
	int h;

	while (*s == ' ')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	h = atoi(s);
	while (isdigit((unsigned char)*s))
		s++;
	while (*s == ' ')
		s++;
	if (strncmp(s, "pm", 2) == 0 && h < 12)
		h += 12;
	else if (strncmp(s, "am", 2) == 0 && h == 12)
		h = 0;
	return h >= 0 && h <= 24 ? h : -1;
}

/*
 * team_hours - the hours the team answers texts: CLUBOS_TEAM_HOURS "H-H",
 * or "from 8 am to 11 pm" in the facility's `open`.  false when unknown
 * (then the team is taken to be there).
 */
static bool
team_hours(db_conn *db, int *from, int *to)
{
	char      buf[300] = "";
	PGresult *r;

	if (*in_cfg->team_hours != '\0') {
		snprintf(buf, sizeof(buf), "%s", in_cfg->team_hours);
		*from = hour_of(buf);
		*to = strchr(buf, '-') ? hour_of(strchr(buf, '-') + 1) : -1;
		return *from >= 0 && *to >= 0;
	}
	r = db_exec(db, "SELECT value FROM facility WHERE key = 'open'", 0, NULL);
	if (r != NULL && PQntuples(r) == 1)
		snprintf(buf, sizeof(buf), "%s", db_val(r, 0, 0));
	PQclear(r);
	{
		const char *f = strstr(buf, "from "), *t = f ? strstr(f, " to ") : NULL;

		if (f == NULL || t == NULL)
			return false;
		*from = hour_of(f + 5);
		*to = hour_of(t + 4);
	}
	return *from >= 0 && *to >= 0;
}

/* hour_name - 8 -> "8 am", 23 -> "11 pm"; in French 8 -> "8 h", 23 -> "23 h" */
static void
hour_name(int h, bool fr, char *out, size_t cap)
{
	if (fr)
		snprintf(out, cap, "%d h", h % 24);
	else
		snprintf(out, cap, "%d %s", h % 12 == 0 ? 12 : h % 12,
		         h < 12 || h == 24 ? "am" : "pm");
}

/*
 * after_hours - when a person is asked in outside the team's hours, the
 * sentence that says when one will answer (into out; "" within hours)
 */
static void
after_hours(db_conn *db, const struct lines *l, char *out, size_t cap)
{
	int       from, to, h;
	time_t    now = time(NULL);
	struct tm tm;
	char      a[16], b[16];

	out[0] = '\0';
	if (!team_hours(db, &from, &to) || (from == 0 && to == 24))
		return;
	localtime_r(&now, &tm);
	h = tm.tm_hour;
	if (from <= to ? (h >= from && h < to) : (h >= from || h < to))
		return;
	hour_name(from, l == &lines_fr, a, sizeof(a));
	hour_name(to, l == &lines_fr, b, sizeof(b));
	snprintf(out, cap, l->hours, a, b, a);
}

/* ====================================================== conversation */

/*
 * open_conversation - make sure the number has a current conversation,
 * committed on its own before the event's transaction: the router's
 * workers record actions that name it on their own connections, so it
 * must exist for them.  Only one intake worker runs, so none races it.
 */
static int
open_conversation(const char *phone)
{
	char        idle[16];
	const char *p[] = {phone,
	                   (snprintf(idle, sizeof(idle), "%d", in_cfg->conversation_idle_s), idle)};

	return db_cmd(
	    in_db,
	    "INSERT INTO conversations (channel, phone, customer_id) SELECT 'sms', $1, "
	    "(SELECT id FROM customers WHERE phone = $1) WHERE NOT EXISTS (SELECT 1 FROM "
	    "conversations WHERE channel = 'sms' AND phone = $1 AND status <> 'closed' AND "
	    "last_message_at > now() - make_interval(secs => $2::int))",
	    2, p);
}

/*
 * conversation - the number's current conversation (open_conversation made
 * it), locked FOR NO KEY UPDATE: a worker's action naming it (a foreign
 * key, which takes KEY SHARE) is not held up while the router is asked.
 */
static int
conversation(struct in_ev *e)
{
	char        idle[16];
	const char *p[] = {e->phone,
	                   (snprintf(idle, sizeof(idle), "%d", in_cfg->conversation_idle_s), idle)};
	PGresult   *r;

	r = db_exec(
	    in_db,
	    "SELECT id, status, COALESCE(location, ''), COALESCE(customer_id, 0), bot_streak, "
	    "lang FROM conversations WHERE channel = 'sms' AND phone = $1 AND status <> 'closed' "
	    "AND last_message_at > now() - make_interval(secs => $2::int) "
	    "ORDER BY last_message_at DESC LIMIT 1 FOR NO KEY UPDATE",
	    2, p);
	if (r == NULL || PQntuples(r) != 1) {
		PQclear(r);
		return -1;
	}
	snprintf(e->cid, sizeof(e->cid), "%s", db_val(r, 0, 0));
	snprintf(e->status, sizeof(e->status), "%s", db_val(r, 0, 1));
	snprintf(e->location, sizeof(e->location), "%s", db_val(r, 0, 2));
	e->customer_id = strtoll(db_val(r, 0, 3), NULL, 10);
	e->bot_streak = atoi(db_val(r, 0, 4));
	snprintf(e->lang, sizeof(e->lang), "%s", db_val(r, 0, 5));
	PQclear(r);
	return 0;
}

/* reply_answer - an outgoing bot message, with the delivery the mode gives
 * it; ans (or NULL for the desk's own lines) is the router's answer it
 * comes from: what it offered to choose from, and whether it is personal */
static int
reply_answer(struct in_ev *e, const char *text, const char *delivery, const cJSON *ans)
{
	const cJSON *offer = cJSON_GetObjectItem(ans, "clarify");
	char        *oj = cJSON_IsArray(offer) ? json_print(offer) : NULL;
	const char  *p[] = {e->cid,      text,
	                    e->trace_id, delivery,
	                    oj,          ans != NULL && ops_answer_personal(ans) ? "true" : "false"};
	int          rc = 0;

	if (db_cmd(in_db,
	           "INSERT INTO messages (conversation_id, direction, author, text, trace_id, "
	           "delivery, offer, personal) VALUES ($1, 'out', 'bot', $2, NULLIF($3, ''), $4, "
	           "$5::jsonb, $6::boolean)",
	           6, p) < 0 ||
	    db_cmd(in_db,
	           "UPDATE conversations SET bot_streak = bot_streak + 1, last_message_at = now() "
	           "WHERE id = $1",
	           1, p) < 0)
		rc = -1;
	else if (strcmp(delivery, "queued") == 0 &&
	         db_cmd(in_db, "SELECT pg_notify('clubos_outbox', $1)", 1, p) < 0)
		rc = -1;
	free(oj);
	return rc;
}

/* reply - an outgoing bot message, with the delivery the mode gives it */
static int
reply(struct in_ev *e, const char *text, const char *delivery)
{
	return reply_answer(e, text, delivery, NULL);
}

/* handoff - the conversation is a person's now, and the team is told */
static int
handoff(struct in_ev *e, const char *reason, const char *text)
{
	cJSON            *d = cJSON_CreateObject();
	char             *detail;
	struct ops_item   it = {.type = "handoff",
	                        .status = "queued",
	                        .location = *e->location ? e->location : NULL,
	                        .conversation_id = strtoll(e->cid, NULL, 10),
	                        .trace_id = *e->trace_id ? e->trace_id : NULL};
	struct ops_result res;
	int               rc;
	const char       *p[] = {e->cid, reason};

	json_add_str(d, "reason", reason);
	json_add_str(d, "message", text);
	json_add_str(d, "phone_last4", mask(e->phone));
	detail = json_print(d);
	cJSON_Delete(d);
	it.detail = detail;
	rc = db_cmd(in_db,
	            "UPDATE conversations SET status = 'human', status_reason = $2 WHERE id = $1",
	            2, p) < 0 ||
	             ops_record_in(in_db, &it, &res) < 0
	         ? -1
	         : 0;
	free(detail);
	snprintf(e->status, sizeof(e->status), "human");
	log_msg(LOG_INFO, e->trace_id, "conversation %s handed to the team (%s)", e->cid, reason);
	return rc;
}

/* ask_router - the router's answer to text in its context, or NULL */
static cJSON *
ask_router(struct in_ev *e, const char *text, const char *mid)
{
	cJSON           *q = cJSON_CreateObject(), *ans = NULL;
	struct rpc_reply rep;
	char            *out;
	const char      *why;
	int              rc;

	cJSON_AddStringToObject(q, "message", text);
	cJSON_AddStringToObject(q, "channel", "sms");
	cJSON_AddStringToObject(q, "role", "customer");
	cJSON_AddStringToObject(q, "audience", "customer");
	cJSON_AddNumberToObject(q, "user_id", 0);
	if (e->customer_id > 0)
		cJSON_AddNumberToObject(q, "customer_id", (double)e->customer_id);
	cJSON_AddStringToObject(q, "customer_phone", e->phone);
	if (*e->location)
		cJSON_AddStringToObject(q, "location", e->location);
	cJSON_AddNumberToObject(q, "conversation_id", strtod(e->cid, NULL));
	cJSON_AddItemToObject(q, "context", ops_turns(in_db, e->cid, mid, CV_CONTEXT_TURNS));
	out = json_print(q);
	cJSON_Delete(q);
	if (out == NULL)
		return NULL;
	rc = rpc_call(in_router, ENV_OP_QUERY, e->trace_id,
	              env_now_ms() + (uint64_t)in_cfg->query_timeout_ms, out, strlen(out), &rep);
	free(out);
	if (rc != 0) {
		log_msg(LOG_WARN, e->trace_id, "router: no answer (%d)", rc);
		return NULL;
	}
	if (rep.status == 0)
		ans = json_parse(rep.body, rep.len, &why);
	else
		log_msg(LOG_WARN, e->trace_id, "router answered %u", rep.status);
	rpc_reply_clear(&rep);
	if (ans != NULL && !cJSON_IsObject(ans)) {
		cJSON_Delete(ans);
		ans = NULL;
	}
	return ans;
}

/* summary - the trace's summary row, stored with this transaction (feedback needs it) */
static int
summary(struct in_ev *e, const char *text, const cJSON *ans)
{
	cJSON       *s = cJSON_CreateObject();
	const cJSON *sop = cJSON_GetObjectItem(ans, "sop");
	int          rc;

	cJSON_AddStringToObject(s, "trace_id", e->trace_id);
	cJSON_AddStringToObject(s, "role", "customer");
	cJSON_AddStringToObject(s, "channel", "sms");
	json_add_str(s, "location", *e->location ? e->location : NULL);
	json_add_str(s, "message", text);
	json_add_str(s, "route", json_str(ans, "route"));
	cJSON_AddNumberToObject(s, "confidence", json_num(ans, "confidence", 0));
	if (cJSON_IsObject(sop)) {
		json_add_str(s, "sop_slug", json_str(sop, "slug"));
		cJSON_AddNumberToObject(s, "sop_version", json_int(sop, "version", 0));
	}
	json_add_str(s, "response", json_str(ans, "response"));
	cJSON_AddNumberToObject(s, "escalation_tier",
	                        json_int(cJSON_GetObjectItem(ans, "escalation"), "tier", 0));
	json_add_str(s, "cache", json_str(ans, "cache") ? json_str(ans, "cache") : "miss");
	cJSON_AddNumberToObject(s, "at_ms", (double)env_now_ms());
	rc = trace_summary_store(in_db, s);
	cJSON_Delete(s);
	return rc;
}

/*
 * decide - the bot's turn on a customer's text in a conversation that is
 * the bot's: a yes or no to a pending action, a person asked for, a loop,
 * or the router's answer.  delivery is how a reply is stored (the mode);
 * live says whether the conversation's state may change (approval, auto).
 */
static int
decide(struct in_ev *e, const char *text, const char *mid, const char *delivery, bool live)
{
	char                hours[200], buf[OPS_TEXT_MAX + 400];
	int                 yn = yes_no(text, NULL);
	const struct lines *l = lines_of(e);
	PGresult           *r;
	cJSON              *ans;
	const char         *why = NULL, *say = NULL;
	int                 rc = 0;

	after_hours(in_db, l, hours, sizeof(hours));
	/* 1. A yes or a no answers this conversation's pending action. */
	if (yn >= 0) {
		int64_t id = live ? ops_confirm_in(in_db, strtoll(e->cid, NULL, 10), yn == 1) : 0;

		if (id < 0)
			return -1;
		if (!live) {
			/* Shadow: what would be said, without moving anything. */
			r = db_exec(
			    in_db,
			    "SELECT count(*) > 0 FROM actions WHERE conversation_id = $1 AND "
			    "status = 'pending_confirmation' AND (expires_at IS NULL OR "
			    "expires_at > now())",
			    1, (const char *const[]){e->cid});
			id = r != NULL && db_val(r, 0, 0)[0] == 't';
			PQclear(r);
		}
		say = id > 0 ? (yn ? l->yes_done : l->no_done) : (yn ? l->yes_none : l->no_none);
		log_msg(LOG_INFO, e->trace_id, "conversation %s: %s, action %lld", e->cid,
		        yn ? "yes" : "no", (long long)id);
		return reply(e, say, delivery);
	}
	/* 2. A person asked for, or a loop: hand off. */
	if (wants_person(text)) {
		why = "the customer asked for a person";
	} else if (e->bot_streak >= CV_BOT_STREAK_MAX) {
		why = "many bot replies in a row";
	} else {
		r = db_exec(
		    in_db,
		    "SELECT count(*) FROM messages WHERE conversation_id = $1 AND direction = "
		    "'in' AND lower(text) = lower($2) AND created_at > now() - interval '1 "
		    "minute'",
		    2, (const char *const[]){e->cid, text});
		if (r == NULL)
			return -1;
		if (atoi(db_val(r, 0, 0)) >= CV_REPEAT_MAX)
			why = "the same text three times in a minute";
		PQclear(r);
	}
	if (why != NULL) {
		snprintf(buf, sizeof(buf), "%s%s", l->handoff, hours);
		if (live && handoff(e, why, text) < 0)
			return -1;
		return reply(e, buf, delivery);
	}
	/* 3. The router, with the conversation's recent turns. */
	if ((ans = ask_router(e, text, mid)) == NULL) {
		snprintf(buf, sizeof(buf), "%s%s", l->no_router, hours);
		if (live && handoff(e, "the router did not answer", text) < 0)
			return -1;
		return reply(e, buf, delivery);
	}
	{
		const cJSON    *esc = cJSON_GetObjectItem(ans, "escalation");
		const cJSON    *sop = cJSON_GetObjectItem(ans, "sop");
		const char     *resp = json_str(ans, "response"), *route = json_str(ans, "route");
		int             tier = json_int(esc, "tier", 0);
		double          conf = json_num(ans, "confidence", 0);
		struct settings st;

		settings_current(in_db, &st);
		if (summary(e, text, ans) < 0) {
			cJSON_Delete(ans);
			return -1;
		}
		if (tier >= 3 || (route != NULL && strcmp(route, "emergency") == 0)) {
			/* The router recorded the alert; its answer says what
			 * was done.  A person has this conversation now. */
			if (live &&
			    db_cmd(in_db,
			           "UPDATE conversations SET status = 'human', status_reason = "
			           "'emergency' WHERE id = $1",
			           1, (const char *const[]){e->cid}) < 0)
				rc = -1;
			if (rc == 0)
				rc = reply(e, resp != NULL ? resp : l->handoff, delivery);
		} else if (cJSON_IsObject(sop) && conf < st.sop_confidence_threshold) {
			snprintf(buf, sizeof(buf), "%s%s", l->unsure, hours);
			if (live && handoff(e, "answer below the confidence threshold", text) < 0)
				rc = -1;
			if (rc == 0)
				rc = reply(e, buf, delivery);
		} else if (resp != NULL && *resp != '\0') {
			rc = reply_answer(e, resp, delivery, ans);
		}
	}
	cJSON_Delete(ans);
	return rc;
}

/* ============================================================ events */

/* on_text - message.received (and its echoes) */
static int
on_text(struct in_ev *e, const cJSON *obj)
{
	const char *pid = json_str(obj, "id"), *from = json_str(obj, "from");
	const char *dir = json_str(obj, "direction"), *raw = json_str(obj, "text");
	char        own[40], text[OPS_TEXT_MAX * 4 + 1], mid[24];
	const char *delivery = NULL, *lang;
	bool        live = false, said_fr;
	PGresult   *r;

	if (raw == NULL)
		raw = json_str(obj, "body");
	if (pid == NULL || strlen(pid) > 128 || !phone_ok(from)) {
		log_msg(LOG_WARN, e->trace_id, "event %s: a text without an id or a sender",
		        e->event_id);
		return 0;
	}
	cv_own_number(in_db, in_cfg, own, sizeof(own));
	if ((dir != NULL && strcmp(dir, "incoming") != 0 && strcmp(dir, "inbound") != 0) ||
	    strcmp(from, own) == 0 ||
	    (*in_cfg->openphone_number && strcmp(from, in_cfg->openphone_number) == 0)) {
		log_msg(LOG_INFO, e->trace_id, "event %s: our own text, not answered", e->event_id);
		return 0;
	}
	util_utf8_copy(text, sizeof(text), raw != NULL ? raw : "", OPS_TEXT_MAX);
	e->phone = from;
	if (conversation(e) < 0)
		return -1;
	r = db_exec(
	    in_db,
	    "INSERT INTO messages (conversation_id, direction, author, text, trace_id, "
	    "delivery, provider_id) VALUES ($1, 'in', 'customer', $2, $3, 'received', $4) "
	    "ON CONFLICT (provider_id) WHERE provider_id IS NOT NULL DO NOTHING RETURNING id",
	    4, (const char *const[]){e->cid, text, e->trace_id, pid});
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		log_msg(LOG_INFO, e->trace_id, "event %s: text %s seen before", e->event_id, pid);
		return 0;
	}
	snprintf(mid, sizeof(mid), "%s", db_val(r, 0, 0));
	PQclear(r);
	/* The conversation takes the language of a text that reads in one. */
	if ((lang = yes_no(text, &said_fr) >= 0 && said_fr ? "fr" : em_language(text)) != NULL)
		snprintf(e->lang, sizeof(e->lang), "%s", lang);
	if (db_cmd(in_db,
	           "UPDATE conversations SET last_message_at = now(), lang = $2 WHERE id = $1", 2,
	           (const char *const[]){e->cid, e->lang}) < 0)
		return -1;
	log_msg(LOG_INFO, e->trace_id, "conversation %s: text from ...%s (%s)", e->cid, mask(from),
	        e->status);
	if (*text == '\0')
		return 0; /* nothing to answer (a picture alone): stored only */
	/* A person has it: stored only (but for an emergency, below). */
	if (strcmp(e->status, "bot") == 0) {
		struct settings st;

		settings_current(in_db, &st);
		switch (st.sms_reply_mode) {
		case SMS_MODE_OFF:
			break;
		case SMS_MODE_SHADOW:
			delivery = "shadow";
			break;
		case SMS_MODE_APPROVAL:
		case SMS_MODE_AUTO:
			if (settings_in_rollout(st.sms_rollout_percent,
			                        strtoll(e->cid, NULL, 10))) {
				delivery = st.sms_reply_mode == SMS_MODE_AUTO ? "queued" : "draft";
				live = true;
			}
			break;
		}
	}
	/* With no reply due (replies off, outside the rollout, or a person has
	 * the conversation), an emergency still reaches the router, which
	 * pages the on-call; what it would have said is kept as a shadow. */
	if (delivery == NULL) {
		em_match em;

		if (em_check(text, &em) != EM_SURE)
			return 0;
		log_msg(LOG_WARN, e->trace_id,
		        "conversation %s: emergency, no reply due: the router is asked", e->cid);
		delivery = "shadow";
	}
	return decide(e, text, mid, delivery, live);
}

/* on_delivery - message.delivered / message.failed: the part, then the message */
static int
on_delivery(struct in_ev *e, const cJSON *obj, bool ok)
{
	const char *pid = json_str(obj, "id");
	PGresult   *r;

	if (pid == NULL)
		return 0;
	r = db_exec(in_db,
	            "UPDATE sms_parts SET status = $2 WHERE provider_id = $1 RETURNING message_id",
	            2, (const char *const[]){pid, ok ? "delivered" : "failed"});
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		const char *p[] = {db_val(r, 0, 0)};
		int         rc = ok ? db_cmd(in_db,
		                             "UPDATE messages SET delivery = 'delivered', updated_at = "
		                                     "now() WHERE id = $1 AND delivery = 'sent' AND NOT EXISTS "
		                                     "(SELECT 1 FROM sms_parts WHERE message_id = $1 AND "
		                                     "status <> 'delivered')",
		                             1, p)
		                    : db_cmd(in_db,
		                             "UPDATE messages SET delivery = 'failed', last_error = 'the "
		                                     "carrier did not deliver it', updated_at = now() WHERE id = "
		                                     "$1 AND delivery IN ('sent', 'delivered', 'sending')",
		                             1, p);

		PQclear(r);
		log_msg(LOG_INFO, e->trace_id, "delivery: %s %s", pid, ok ? "delivered" : "failed");
		return rc < 0 ? -1 : 0;
	}
	PQclear(r);
	return 0;
}

/* on_call - an incoming call nobody answered: a text back, once per quiet period */
static int
on_call(struct in_ev *e, const cJSON *obj, bool missed_event)
{
	const char     *from = json_str(obj, "from"), *dir = json_str(obj, "direction");
	const char     *status = json_str(obj, "status");
	const cJSON    *answered = cJSON_GetObjectItem(obj, "answeredAt");
	char            own[40], idle[16];
	struct settings st;
	const char     *delivery = NULL;
	PGresult       *r;
	bool            missed;

	missed =
	    missed_event ||
	    (status != NULL && (strcmp(status, "no-answer") == 0 || strcmp(status, "missed") == 0 ||
	                        strcmp(status, "busy") == 0)) ||
	    (answered != NULL && cJSON_IsNull(answered) &&
	     (status == NULL || strcmp(status, "completed") == 0));
	if (!missed || !phone_ok(from) ||
	    (dir != NULL && strcmp(dir, "incoming") != 0 && strcmp(dir, "inbound") != 0))
		return 0;
	cv_own_number(in_db, in_cfg, own, sizeof(own));
	if (strcmp(from, own) == 0)
		return 0;
	e->phone = from;
	if (conversation(e) < 0)
		return -1;
	snprintf(idle, sizeof(idle), "%d", in_cfg->conversation_idle_s);
	r = db_exec(
	    in_db,
	    "UPDATE conversations SET missed_call_at = now(), last_message_at = now() WHERE "
	    "id = $1 AND (missed_call_at IS NULL OR missed_call_at < now() - "
	    "make_interval(secs => $2::int)) RETURNING id",
	    2, (const char *const[]){e->cid, idle});
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		log_msg(LOG_INFO, e->trace_id, "missed call from ...%s: texted back already",
		        mask(from));
		return 0;
	}
	PQclear(r);
	settings_current(in_db, &st);
	if (st.sms_reply_mode == SMS_MODE_SHADOW)
		delivery = "shadow";
	else if (st.sms_reply_mode != SMS_MODE_OFF &&
	         settings_in_rollout(st.sms_rollout_percent, strtoll(e->cid, NULL, 10)))
		delivery = st.sms_reply_mode == SMS_MODE_AUTO ? "queued" : "draft";
	log_msg(LOG_INFO, e->trace_id, "missed call from ...%s: %s", mask(from),
	        delivery ? delivery : "no text (mode off)");
	/* In the language of what the caller last texted, if they have. */
	return delivery != NULL ? reply(e, lines_of(e)->missed, delivery) : 0;
}

/* process - one event's effects, inside the caller's transaction */
static int
process(struct in_ev *e, const char *type, const cJSON *ev)
{
	const cJSON *obj = cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "data"), "object");

	if (!cJSON_IsObject(obj))
		return 0;
	if (strcmp(type, "message.received") == 0)
		return on_text(e, obj);
	if (strcmp(type, "message.delivered") == 0)
		return on_delivery(e, obj, true);
	if (strcmp(type, "message.failed") == 0 || strcmp(type, "message.undelivered") == 0)
		return on_delivery(e, obj, false);
	if (strcmp(type, "call.completed") == 0 || strcmp(type, "call.missed") == 0)
		return on_call(e, obj, strcmp(type, "call.missed") == 0);
	return 0; /* stored, nothing to do */
}

/*
 * before - the next event's sender gets a conversation, committed, before
 * the event's own transaction takes it (see open_conversation)
 */
static int
before(db_conn *db)
{
	PGresult   *r;
	const char *from;
	int         rc = 0;

	r = db_exec(db,
	            "SELECT payload->'data'->'object'->>'from' FROM webhook_events WHERE "
	            "processed_at IS NULL AND type IN ('message.received', 'call.completed', "
	            "'call.missed') AND jsonb_typeof(payload->'data'->'object') = 'object' "
	            "AND COALESCE(payload->'data'->'object'->>'direction', 'incoming') IN "
	            "('incoming', 'inbound') "
	            "AND id = (SELECT min(id) FROM webhook_events WHERE processed_at IS NULL)",
	            0, NULL);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1 && !db_null(r, 0, 0) && phone_ok(from = db_val(r, 0, 0))) {
		char own[40];

		cv_own_number(db, in_cfg, own, sizeof(own));
		if (strcmp(from, own) != 0)
			rc = open_conversation(from);
	}
	PQclear(r);
	return rc;
}

/* take - the next event, processed in one transaction; 1, 0 none, -1 trouble */
static int
take(void)
{
	PGresult    *r;
	struct in_ev e = {0};
	cJSON       *ev;
	const char  *why;
	char         id[24], type[64], err[200] = "";
	int          rc;

	if (before(in_db) < 0 || db_begin(in_db) < 0)
		return -1;
	r = db_exec(in_db,
	            "SELECT id, event_id, type, payload::text, attempts FROM webhook_events "
	            "WHERE processed_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
	            0, NULL);
	if (r == NULL || PQntuples(r) == 0) {
		rc = r == NULL ? -1 : 0;
		PQclear(r);
		db_rollback(in_db);
		return rc;
	}
	snprintf(id, sizeof(id), "%s", db_val(r, 0, 0));
	snprintf(type, sizeof(type), "%s", db_val(r, 0, 2));
	e.event_id = db_val(r, 0, 1);
	event_trace_id(e.event_id, e.trace_id);
	ev = json_parse(db_val(r, 0, 3), strlen(db_val(r, 0, 3)), &why);
	rc = ev != NULL ? process(&e, type, ev) : 0;
	if (ev == NULL)
		snprintf(err, sizeof(err), "unreadable payload: %s", why);
	if (rc == 0 &&
	    db_cmd(in_db,
	           "UPDATE webhook_events SET processed_at = now(), attempts = attempts + 1, "
	           "last_error = NULLIF($2, '') WHERE id = $1",
	           2, (const char *const[]){id, err}) == 0 &&
	    db_commit(in_db) == 0) {
		cJSON_Delete(ev);
		PQclear(r);
		trace_end();
		return 1;
	}
	/* Nothing of it stands: count the attempt; an event that keeps
	 * failing is set aside (processed, with the reason) after a few. */
	db_rollback(in_db);
	log_msg(LOG_WARN, e.trace_id, "event %s (%s) not processed; will try again", id, type);
	{
		char n[8];

		snprintf(n, sizeof(n), "%d", CV_EVENT_ATTEMPTS);
		db_cmd(in_db,
		       "UPDATE webhook_events SET attempts = attempts + 1, last_error = 'failed "
		       "while processing', processed_at = CASE WHEN attempts + 1 >= $2::int THEN "
		       "now() END WHERE id = $1",
		       2, (const char *const[]){id, n});
	}
	cJSON_Delete(ev);
	PQclear(r);
	trace_end();
	return -1;
}

/* in_main - take events until told to stop */
static void *
in_main(void *arg)
{
	unsigned long seen = 0;

	(void)arg;
	while (!cv_stopping()) {
		int rc;

		if (!db_ok(in_db)) {
			db_wait_notify(in_db, 500);
			continue;
		}
		db_listen(in_db, "clubos_webhooks", &seen);
		if ((rc = take()) == 1)
			continue;
		db_wait_notify(in_db, rc < 0 ? 500 : 1000);
	}
	return NULL;
}

/* intake_start - the event worker */
int
intake_start(const struct cfg *c, rpc_client *router)
{
	in_cfg = c;
	in_router = router;
	if ((in_db = db_open(c->pg_dsn)) == NULL ||
	    pthread_create(&in_thr, NULL, in_main, NULL) != 0) {
		db_close(in_db);
		in_db = NULL;
		return -1;
	}
	in_running = true;
	return 0;
}

/* intake_stop - the event in hand finishes; the outbox stops too (shared flag) */
void
intake_stop(void)
{
	atomic_store(&cv_stop_flag, true);
	if (in_running)
		pthread_join(in_thr, NULL);
	in_running = false;
	db_close(in_db);
	in_db = NULL;
}
