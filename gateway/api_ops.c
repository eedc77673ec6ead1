/*
 * api_ops.c - actions, tickets, and Slack's callbacks
 *
 *   GET   /api/actions?status=          staff: with attempts and last_error
 *   POST  /api/actions/{id}/approve     operator, admin: pending_approval -> queued
 *   POST  /api/actions/{id}/cancel      operator, admin
 *   GET   /api/tickets?status=          staff
 *   GET   /api/tickets/{id}             staff: with actions, notes, conversation, trace
 *   PATCH /api/tickets/{id}             staff: {"status", "assignee", "note"}
 *   POST  /api/webhooks/slack           Slack (signed): url_verification, the
 *                                       escalation buttons, thread replies
 *
 * Reads are one SQL statement each that builds the JSON with PostgreSQL's
 * own json functions; every write goes through common/ops.c.  The Slack
 * signature is checked before the body is looked at: HMAC-SHA256 over
 * "v0:<timestamp>:<raw body>" with SLACK_SIGNING_SECRET, a 5-minute
 * window, compared in constant time; no secret configured answers 503.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "common/json.h"
#include "common/log.h"
#include "common/ops.h"
#include "gateway/gw.h"

#define OPS_LIST_MAX 200
#define SLACK_WINDOW_S 300

static const char *const action_statuses[] = {"pending_confirmation",
                                              "pending_approval",
                                              "queued",
                                              "running",
                                              "done",
                                              "failed",
                                              "expired",
                                              "cancelled",
                                              NULL};
static const char *const ticket_statuses[] = {"open", "in_progress", "resolved", NULL};

/* one_of - is s in the NULL-terminated list? */
static bool
one_of(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* path_id - a positive id from a path segment, or 0 */
static int64_t
path_id(const char *s)
{
	char     *end;
	long long v;

	if (s == NULL || *s < '1' || *s > '9' || strlen(s) > 18)
		return 0;
	v = strtoll(s, &end, 10);
	return *end == '\0' && v > 0 ? (int64_t)v : 0;
}

/* status_filter - ?status=, checked against list; false after answering 400 */
static bool
status_filter(struct gw_ctx *x, const char *const *list, char *out, size_t cap)
{
	*out = '\0';
	if (!gw_query_param(x->req->query, "status", out, cap) || *out == '\0') {
		*out = '\0';
		return true;
	}
	if (!one_of(out, list)) {
		gw_error(x, 400, "invalid_value", "unknown status");
		return false;
	}
	return true;
}

/* The JSON of one action row "a", with its attempts. */
#define ACTION_JSON                                                                                \
	"json_build_object('id', a.id, 'type', a.type, 'status', a.status, 'location', "           \
	"a.location, 'bay', a.bay, 'conversation_id', a.conversation_id, 'trace_id', "             \
	"a.trace_id, 'ticket_id', a.ticket_id, 'attempts', a.attempts, 'last_error', "             \
	"a.last_error, 'expires_at', a.expires_at, 'created_at', a.created_at, 'updated_at', "     \
	"a.updated_at, 'acked_by', a.acked_by, 'acked_at', a.acked_at, 'detail', a.detail, "       \
	"'attempt_log', (SELECT COALESCE(json_agg(json_build_object('n', t.n, 'provider', "        \
	"t.provider, 'started_at', t.started_at, 'finished_at', t.finished_at, 'outcome', "        \
	"t.outcome, 'http_status', t.http_status, 'error', t.error) ORDER BY t.n), '[]') "         \
	"FROM action_attempts t WHERE t.action_id = a.id))"

/* api_actions_list - GET /api/actions?status= */
void
api_actions_list(struct gw_ctx *x)
{
	char        st[32], lim[16];
	const char *p[2];

	if (!status_filter(x, action_statuses, st, sizeof(st)))
		return;
	snprintf(lim, sizeof(lim), "%d", OPS_LIST_MAX);
	p[0] = *st ? st : NULL;
	p[1] = lim;
	gw_json_row(x,
	            db_exec(x->w->db,
	                    "SELECT COALESCE(json_agg(j ORDER BY id DESC), '[]') FROM (SELECT "
	                    "a.id, " ACTION_JSON " AS j FROM actions a WHERE ($1::text IS NULL OR "
	                    "a.status = $1) ORDER BY a.id DESC LIMIT $2::int) s",
	                    2, p),
	            200, "no actions");
}

/* decide - approve or cancel */
static void
decide(struct gw_ctx *x, bool approve)
{
	int64_t id = path_id(x->params[0]);
	char    who[64];
	int     rc;

	if (id == 0) {
		gw_error(x, 404, "not_found", "no such action");
		return;
	}
	snprintf(who, sizeof(who), "user %lld", (long long)x->user_id);
	rc = ops_decide(x->w->db, id, x->user_id, who, approve);
	if (rc == OPS_NOT_FOUND)
		gw_error(x, 404, "not_found", "no such action");
	else if (rc == OPS_CONFLICT)
		gw_error(x, 409, "conflict",
		         approve ? "only an action waiting for approval can be approved"
		                 : "only an action that has not started can be cancelled");
	else if (rc < 0)
		gw_error(x, 503, "database_unavailable", "the database is not answering");
	else
		gw_json_row(x,
		            db_exec(x->w->db,
		                    "SELECT " ACTION_JSON " FROM actions a WHERE a.id = $1", 1,
		                    (const char *const[]){x->params[0]}),
		            200, "no such action");
}

void
api_action_approve(struct gw_ctx *x)
{
	decide(x, true);
}

void
api_action_cancel(struct gw_ctx *x)
{
	decide(x, false);
}

/* The JSON of one ticket row "k". */
#define TICKET_JSON                                                                                \
	"json_build_object('id', k.id, 'priority', k.priority, 'status', k.status, 'title', "      \
	"COALESCE(k.title, k.summary), 'summary', k.summary, 'location', k.location, 'bay', "      \
	"k.bay, 'sop_slug', k.sop_slug, 'conversation_id', k.conversation_id, 'trace_id', "        \
	"k.trace_id, 'assignee', k.assignee, 'notes', k.notes, 'created_at', k.created_at, "       \
	"'updated_at', k.updated_at)"

/* api_tickets_list - GET /api/tickets?status= */
void
api_tickets_list(struct gw_ctx *x)
{
	char        st[32], lim[16];
	const char *p[2];

	if (!status_filter(x, ticket_statuses, st, sizeof(st)))
		return;
	snprintf(lim, sizeof(lim), "%d", OPS_LIST_MAX);
	p[0] = *st ? st : NULL;
	p[1] = lim;
	gw_json_row(x,
	            db_exec(x->w->db,
	                    "SELECT COALESCE(json_agg(j ORDER BY id DESC), '[]') FROM (SELECT "
	                    "k.id, " TICKET_JSON " AS j FROM tickets k WHERE ($1::text IS NULL OR "
	                    "k.status = $1) ORDER BY k.id DESC LIMIT $2::int) s",
	                    2, p),
	            200, "no tickets");
}

/* api_ticket_get - GET /api/tickets/{id}: with actions, conversation and trace */
void
api_ticket_get(struct gw_ctx *x)
{
	if (path_id(x->params[0]) == 0) {
		gw_error(x, 404, "not_found", "no such ticket");
		return;
	}
	gw_json_row(
	    x,
	    db_exec(x->w->db,
	            "SELECT " TICKET_JSON "::jsonb || jsonb_build_object("
	            "'actions', (SELECT COALESCE(json_agg(" ACTION_JSON " ORDER BY a.id), '[]') "
	            "FROM actions a WHERE a.ticket_id = k.id OR (k.trace_id IS NOT NULL AND "
	            "a.trace_id = k.trace_id)), "
	            "'conversation', (SELECT json_build_object('id', c.id, 'status', c.status, "
	            "'phone', c.phone, 'channel', c.channel, 'messages', (SELECT "
	            "COALESCE(json_agg(json_build_object('id', m.id, 'direction', m.direction, "
	            "'author', m.author, 'text', m.text, 'created_at', m.created_at, 'delivery', "
	            "m.delivery) ORDER BY m.id), '[]') FROM messages m WHERE m.conversation_id = "
	            "c.id)) FROM conversations c WHERE c.id = k.conversation_id), "
	            "'trace', (SELECT COALESCE(json_agg(json_build_object('daemon', s.daemon, "
	            "'step', s.step, 'detail', s.detail, 'elapsed_us', s.elapsed_us, 'at', s.at) "
	            "ORDER BY s.at, s.id), '[]') FROM trace_steps s WHERE s.trace_id = "
	            "k.trace_id)) FROM tickets k WHERE k.id = $1",
	            1, (const char *const[]){x->params[0]}),
	    200, "no such ticket");
}

/* api_ticket_patch - PATCH /api/tickets/{id} {"status", "assignee", "note"} */
void
api_ticket_patch(struct gw_ctx *x)
{
	int64_t      id = path_id(x->params[0]);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(x->body, "status");
	const cJSON *as = cJSON_GetObjectItemCaseSensitive(x->body, "assignee");
	const cJSON *no = cJSON_GetObjectItemCaseSensitive(x->body, "note");
	char         asb[24];
	const char  *assignee = NULL;
	int          rc;

	if (id == 0) {
		gw_error(x, 404, "not_found", "no such ticket");
		return;
	}
	if (st == NULL && as == NULL && no == NULL) {
		gw_error(x, 400, "missing_field", "send \"status\", \"assignee\" or \"note\"");
		return;
	}
	if (st != NULL && (!cJSON_IsString(st) || !one_of(st->valuestring, ticket_statuses))) {
		gw_error(x, 400, "invalid_value",
		         "\"status\" must be open, in_progress or resolved");
		return;
	}
	if (no != NULL && (!cJSON_IsString(no) || *no->valuestring == '\0' ||
	                   strlen(no->valuestring) > OPS_TEXT_MAX)) {
		gw_error(x, 400, "invalid_value", "\"note\" must be a string of 1 to 2000 bytes");
		return;
	}
	if (as != NULL) {
		if (cJSON_IsNull(as)) {
			assignee = "";
		} else if (cJSON_IsNumber(as) && as->valuedouble >= 1 && as->valuedouble < 1e15 &&
		           as->valuedouble == (double)(long long)as->valuedouble) {
			snprintf(asb, sizeof(asb), "%lld", (long long)as->valuedouble);
			assignee = asb;
		} else {
			gw_error(x, 400, "invalid_value", "\"assignee\" must be a user id or null");
			return;
		}
	}
	rc = ops_ticket_patch(x->w->db, id, st ? st->valuestring : NULL, assignee,
	                      no ? no->valuestring : NULL, x->user_id);
	if (rc == OPS_NOT_FOUND)
		gw_error(x, 404, "not_found", "no such ticket");
	else if (rc < 0)
		gw_error(x, 503, "database_unavailable", "the database is not answering");
	else
		gw_json_row(x,
		            db_exec(x->w->db,
		                    "SELECT " TICKET_JSON " FROM tickets k WHERE k.id = $1", 1,
		                    (const char *const[]){x->params[0]}),
		            200, "no such ticket");
}

/* ================================================================ Slack */

/* slack_signed - the request's signature is Slack's, and recent */
static bool
slack_signed(const struct http_req *req, const char *secret)
{
	const char                  *ts = http_header(req, "X-Slack-Request-Timestamp");
	const char                  *sig = http_header(req, "X-Slack-Signature");
	unsigned char                mac[crypto_auth_hmacsha256_BYTES];
	char                         hex[2 * sizeof(mac) + 4] = "v0=";
	crypto_auth_hmacsha256_state st;
	char                        *end;
	long long                    t;

	if (ts == NULL || sig == NULL || strlen(ts) > 12 || strlen(sig) != 3 + 2 * sizeof(mac))
		return false;
	t = strtoll(ts, &end, 10);
	if (*end != '\0' || t <= 0 || llabs((long long)time(NULL) - t) > SLACK_WINDOW_S)
		return false;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"v0:", 3);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)":", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)req->body, req->body_len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex + 3, sizeof(hex) - 3, mac, sizeof(mac));
	return sodium_memcmp(hex, sig, 3 + 2 * sizeof(mac)) == 0;
}

/* form_payload - the url-decoded "payload" field of a form body; malloc'd */
static char *
form_payload(const char *body, size_t len)
{
	const char *p = body, *end = body + len;
	char       *out = NULL;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp != NULL ? amp : end;

		if ((size_t)(stop - p) > 8 && memcmp(p, "payload=", 8) == 0) {
			CURL *h = curl_easy_init();
			int   n = 0;
			char *raw, *dec;

			if (h == NULL || (raw = strndup(p + 8, (size_t)(stop - p - 8))) == NULL) {
				curl_easy_cleanup(h);
				return NULL;
			}
			for (char *c = raw; *c; c++)
				if (*c == '+')
					*c = ' ';
			dec = curl_easy_unescape(h, raw, 0, &n);
			out = dec != NULL ? strndup(dec, (size_t)n) : NULL;
			curl_free(dec);
			free(raw);
			curl_easy_cleanup(h);
			return out;
		}
		p = stop + 1;
	}
	return NULL;
}

/* slack_who - a Slack user's display name from an interactivity payload */
static void
slack_who(const cJSON *p, char *out, size_t cap)
{
	const cJSON *u = cJSON_GetObjectItem(p, "user");
	const char  *n = json_str(u, "name") ? json_str(u, "name") : json_str(u, "username");

	snprintf(out, cap, "%.60s", n != NULL ? n : "Someone");
	if (*out >= 'a' && *out <= 'z')
		*out = (char)(*out - 'a' + 'A');
}

/*
 * slack_button - the buttons under our messages: acknowledge and take
 * over (an escalation), approve and cancel (a door unlock waiting for
 * staff).  Only the workspace's people see them, and the request is
 * signed; a customer has no way to press one.
 */
static void
slack_button(struct gw_ctx *x, const cJSON *p)
{
	const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "actions"), 0);
	const char  *aid = json_str(a, "action_id"), *val = json_str(a, "value");
	const cJSON *msg = cJSON_GetObjectItem(p, "message");
	char         who[64], by[80];
	int64_t      id = path_id(val), rc;

	slack_who(p, who, sizeof(who));
	if (aid != NULL && (strcmp(aid, "approve") == 0 || strcmp(aid, "cancel") == 0)) {
		snprintf(by, sizeof(by), "slack:%s", who);
		rc = id > 0 ? ops_decide(x->w->db, id, 0, by, aid[0] == 'a') : OPS_NOT_FOUND;
	} else if (aid != NULL && (strcmp(aid, "ack") == 0 || strcmp(aid, "take_over") == 0)) {
		rc = ops_ack(x->w->db, json_str(msg, "ts"), id, who, strcmp(aid, "take_over") == 0);
	} else {
		gw_json(x, 200, cJSON_CreateObject()); /* not ours: acknowledged, ignored */
		return;
	}
	if (rc == OPS_ERROR) {
		gw_error(x, 503, "database_unavailable", "the database is not answering");
		return;
	}
	log_msg(LOG_INFO, x->trace_id, "slack: %s on action %lld (%s)", aid, (long long)id,
	        rc == OPS_NOT_FOUND  ? "unknown"
	        : rc == OPS_CONFLICT ? "already decided"
	                             : "recorded");
	gw_json(x, 200, cJSON_CreateObject());
}

/* slack_event - Events API: a staff reply in an escalation's thread */
static void
slack_event(struct gw_ctx *x, const cJSON *o)
{
	const cJSON *ev = cJSON_GetObjectItem(o, "event");
	const char  *type = json_str(ev, "type"), *thread = json_str(ev, "thread_ts");
	const char  *text = json_str(ev, "text"), *ts = json_str(ev, "ts");
	const char  *event_id = json_str(o, "event_id");
	char         key[160];
	int64_t      rc;

	/* Only people's replies in a thread: not the bot's own messages, not
	 * edits or joins (subtype), not the thread's first message. */
	if (type == NULL || strcmp(type, "message") != 0 || thread == NULL || text == NULL ||
	    *text == '\0' || strlen(text) > OPS_TEXT_MAX || json_str(ev, "subtype") != NULL ||
	    json_str(ev, "bot_id") != NULL || (ts != NULL && strcmp(ts, thread) == 0)) {
		gw_json(x, 200, cJSON_CreateObject());
		return;
	}
	/* Slack sends an event again when the answer was slow: the event id,
	 * or else the message's own ts, makes it count once. */
	snprintf(key, sizeof(key), "%.100s", event_id != NULL ? event_id : ts != NULL ? ts : "");
	rc = ops_staff_reply(x->w->db, thread, *key ? key : NULL, text);
	if (rc == OPS_ERROR) {
		gw_error(x, 503, "database_unavailable", "the database is not answering");
		return;
	}
	gw_json(x, 200, cJSON_CreateObject());
}

/* api_slack_webhook - POST /api/webhooks/slack */
void
api_slack_webhook(struct gw_ctx *x)
{
	const char *ct = http_header(x->req, "Content-Type");
	const char *why;
	cJSON      *o = NULL;
	char       *payload = NULL;

	if (*gw.cfg->slack_signing_secret == '\0') {
		gw_error(x, 503, "not_configured", "Slack callbacks are off: no signing secret");
		return;
	}
	if (!slack_signed(x->req, gw.cfg->slack_signing_secret)) {
		gw_error(x, 401, "bad_signature", "the Slack signature is missing, old or wrong");
		return;
	}
	if (ct != NULL && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
		if ((payload = form_payload(x->req->body, x->req->body_len)) == NULL ||
		    (o = json_parse(payload, strlen(payload), &why)) == NULL) {
			free(payload);
			gw_error(x, 400, "bad_request",
			         "an interactivity call carries payload=JSON");
			return;
		}
		free(payload);
		if (json_str(o, "type") != NULL &&
		    strcmp(json_str(o, "type"), "block_actions") == 0)
			slack_button(x, o);
		else
			gw_json(x, 200, cJSON_CreateObject());
		cJSON_Delete(o);
		return;
	}
	if ((o = json_parse(x->req->body, x->req->body_len, &why)) == NULL || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		gw_error(x, 400, "malformed_json", "the body is not a JSON object");
		return;
	}
	if (json_str(o, "type") != NULL && strcmp(json_str(o, "type"), "url_verification") == 0) {
		cJSON *r = cJSON_CreateObject();

		json_add_str(r, "challenge",
		             json_str(o, "challenge") ? json_str(o, "challenge") : "");
		gw_json(x, 200, r);
	} else if (json_str(o, "type") != NULL &&
	           strcmp(json_str(o, "type"), "event_callback") == 0) {
		slack_event(x, o);
	} else {
		gw_json(x, 200, cJSON_CreateObject());
	}
	cJSON_Delete(o);
}

/* =============================================================== health */

/*
 * gw_ops_health - each integration as the executor reported it: ok, off
 * (not configured, or no executor has reported) or failing (circuit open)
 */
void
gw_ops_health(struct gw_ctx *x, cJSON *components)
{
	static const char *const names[] = {"slack", "openphone", "ninjaone", "unifi_access"};
	PGresult                *r = x->w != NULL ? db_exec(x->w->db,
	                                                    "SELECT provider, configured, state FROM "
	                                                                   "provider_circuits",
	                                                    0, NULL)
	                                          : NULL;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *st = "off";

		for (int k = 0; r != NULL && k < PQntuples(r); k++)
			if (strcmp(db_val(r, k, 0), names[i]) == 0 && db_val(r, k, 1)[0] == 't')
				st = strcmp(db_val(r, k, 2), "closed") == 0 ? "ok" : "failing";
		cJSON_AddStringToObject(components, names[i], st);
	}
	PQclear(r);
}
