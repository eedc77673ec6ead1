/*
 * api_conversations.c - staff's side of the SMS front door
 *
 *   GET   /api/conversations?status=           the list, human first, newest first
 *   GET   /api/conversations/{id}              one, with its messages (marks it read)
 *   POST  /api/conversations/{id}/messages     {"text"}: a staff reply, sent by SMS
 *                                              through the outbox; the conversation
 *                                              becomes human
 *   POST  /api/conversations/{id}/release      back to the bot (409 once closed)
 *   POST  /api/conversations/{id}/close        done: its drafts are discarded, it
 *                                              takes no reply, and the number's next
 *                                              text starts a new conversation
 *   POST  /api/conversations/{id}/messages/{mid}/send     a draft (approval mode)
 *                                              goes out, {"text"} to edit it first
 *   POST  /api/conversations/{id}/messages/{mid}/discard  a draft is dropped
 *
 * A staff reply (or an edited draft) that follows a bot answer in the
 * same conversation is evidence for the learning loop: it is recorded as
 * feedback on that answer (helpful false, the staff text as the correct
 * answer), as POST /api/feedback records it, and announced on the bus.
 * The learning loop only ever proposes from it.
 *
 * Web chat and the kiosk (gw_chat_*, called by POST /api/query): a query
 * with "conversation_id" (null to start one) is filed in a conversation of
 * the asker's own, and its recent turns go to the router as context, as
 * an SMS conversation's do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/json.h"
#include "common/log.h"
#include "common/ops.h"
#include "common/util.h"
#include "gateway/gw.h"
#include "router/emergency.h"

#define CONV_TEXT_MAX 1600

static const char *const conv_statuses[] = {"bot", "human", "closed", NULL};

/* The JSON of one conversation row "c". */
#define CONV_JSON                                                                                  \
	"json_build_object('id', c.id, 'channel', c.channel, 'phone', c.phone, 'customer', "       \
	"(SELECT json_build_object('id', u.id, 'name', u.name) FROM customers u WHERE u.id = "     \
	"c.customer_id), 'location', c.location, 'bay', c.bay, 'status', c.status, "               \
	"'status_reason', c.status_reason, 'created_at', c.created_at, 'last_message_at', "        \
	"c.last_message_at, 'unread', (SELECT count(*) FROM messages m WHERE m.conversation_id = " \
	"c.id AND m.direction = 'in' AND m.created_at > COALESCE(c.staff_read_at, "                \
	"'-infinity')))"

/* The JSON of one message row "m". */
#define MSG_JSON                                                                                   \
	"json_build_object('id', m.id, 'direction', m.direction, 'author', m.author, 'text', "     \
	"m.text, 'created_at', m.created_at, 'trace_id', m.trace_id, 'delivery', m.delivery, "     \
	"'attempts', m.attempts, 'last_error', m.last_error)"

/* conv_id - a positive id from a path segment, or NULL */
static const char *
conv_id(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > 18 || *s < '1' || *s > '9')
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return NULL;
	return s;
}

/* blank_text - nothing but white space? */
static bool
blank_text(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

/* body_text - the "text" of an optional JSON body; false after answering 4xx */
static bool
body_text(struct gw_ctx *x, bool required, const char **out, cJSON **owned)
{
	const cJSON *v;
	const char  *why;
	cJSON       *o = x->body;
	bool         valid;
	size_t       n;

	*out = NULL;
	*owned = NULL;
	if (o == NULL && x->req->body_len > 0) {
		if (x->req->body_len > GW_MAX_BODY) {
			gw_error(x, 413, "body_too_large",
			         "the request body is larger than 64 KiB");
			return false;
		}
		if ((o = json_parse(x->req->body, x->req->body_len, &why)) == NULL ||
		    !cJSON_IsObject(o)) {
			cJSON_Delete(o);
			gw_error(x, 400, "malformed_json", "the body is not a JSON object");
			return false;
		}
		*owned = o;
	}
	v = o != NULL ? cJSON_GetObjectItemCaseSensitive(o, "text") : NULL;
	if (v == NULL || cJSON_IsNull(v)) {
		if (required)
			gw_error(x, 400, "missing_field", "\"text\" is required");
		return !required;
	}
	if (!cJSON_IsString(v)) {
		gw_error(x, 400, "wrong_type", "\"text\" must be a string");
		return false;
	}
	n = util_utf8_chars(v->valuestring, strlen(v->valuestring), &valid);
	if (!valid) {
		gw_error(x, 400, "invalid_utf8", "\"text\" is not valid UTF-8");
		return false;
	}
	if (n < 1 || n > CONV_TEXT_MAX || blank_text(v->valuestring)) {
		gw_error(x, 400, "invalid_length", "\"text\" must be 1 to 1600 characters");
		return false;
	}
	*out = v->valuestring;
	return true;
}

/*
 * learn - the staff text corrects the bot's last answer in the
 * conversation (if one came after the last staff message): feedback, as
 * POST /api/feedback stores it.  Inside the caller's transaction; the bus
 * event goes out after the commit (*event, malloc'd).
 */
static int
learn(struct gw_ctx *x, const char *cid, const char *text, const char *bot_mid, char **event)
{
	char        uid[24];
	const char *p[] = {cid, uid, text, bot_mid};
	PGresult   *r;

	*event = NULL;
	snprintf(uid, sizeof(uid), "%lld", (long long)x->user_id);
	r = db_exec(
	    x->w->db,
	    "INSERT INTO feedback (trace_id, user_id, helpful, comment, correct_answer, "
	    "route, sop_slug, sop_version) "
	    "SELECT t.trace_id, $2::bigint, false, 'staff answered this SMS conversation', "
	    "$3, t.route, t.sop_slug, t.sop_version FROM traces t WHERE t.trace_id = "
	    "(SELECT m.trace_id FROM messages m WHERE m.conversation_id = $1 AND m.author = "
	    "'bot' AND m.direction = 'out' AND m.trace_id IS NOT NULL AND ($4::bigint IS "
	    "NULL OR m.id = $4::bigint) AND m.id > COALESCE((SELECT max(s.id) FROM messages "
	    "s WHERE s.conversation_id = $1 AND s.author = 'staff' AND s.delivery NOT IN "
	    "('draft', 'discarded')), 0) ORDER BY m.id DESC LIMIT 1) "
	    "ON CONFLICT (trace_id, user_id) DO UPDATE SET helpful = false, "
	    "correct_answer = EXCLUDED.correct_answer, comment = EXCLUDED.comment, "
	    "updated_at = now() RETURNING id, trace_id, sop_slug",
	    4, p);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		cJSON *ev = cJSON_CreateObject();

		cJSON_AddNumberToObject(ev, "id", strtod(db_val(r, 0, 0), NULL));
		cJSON_AddStringToObject(ev, "trace_id", db_val(r, 0, 1));
		cJSON_AddBoolToObject(ev, "helpful", false);
		json_add_str(ev, "sop_slug", db_null(r, 0, 2) ? NULL : db_val(r, 0, 2));
		*event = json_print(ev);
		cJSON_Delete(ev);
	}
	PQclear(r);
	return 0;
}

/* announce - the feedback event, after the commit */
static void
announce(char *event)
{
	if (event != NULL)
		bus_publish("feedback", event);
	free(event);
}

/* api_conversations_list - GET /api/conversations?status= */
void
api_conversations_list(struct gw_ctx *x)
{
	char        st[16] = "";
	const char *p[] = {NULL};

	if (gw_query_param(x->req->query, "status", st, sizeof(st)) && *st != '\0') {
		bool ok = false;

		for (const char *const *s = conv_statuses; *s; s++)
			ok = ok || strcmp(*s, st) == 0;
		if (!ok) {
			gw_error(x, 400, "invalid_value", "unknown status");
			return;
		}
		p[0] = st;
	}
	gw_json_row(x,
	            db_exec(x->w->db,
	                    "SELECT COALESCE(json_agg(j ORDER BY human DESC, at DESC, id DESC), "
	                    "'[]')::text FROM (SELECT " CONV_JSON " AS j, c.status = 'human' AS "
	                    "human, c.last_message_at AS at, c.id FROM conversations c WHERE "
	                    "$1::text IS NULL OR c.status = $1 ORDER BY c.status = 'human' DESC, "
	                    "c.last_message_at DESC LIMIT 500) s",
	                    1, p),
	            200, "no conversations");
}

/* api_conversation_get - GET /api/conversations/{id}, which marks it read */
void
api_conversation_get(struct gw_ctx *x)
{
	const char *id = conv_id(x->params[0]);
	PGresult   *r;

	if (id == NULL) {
		gw_error(x, 404, "not_found", "no such conversation");
		return;
	}
	r = db_exec(x->w->db,
	            "WITH c AS (UPDATE conversations SET staff_read_at = now() WHERE id = $1 "
	            "RETURNING *) SELECT (" CONV_JSON "::jsonb || jsonb_build_object('messages', "
	            "(SELECT COALESCE(json_agg(" MSG_JSON " ORDER BY m.id), '[]') FROM messages m "
	            "WHERE m.conversation_id = c.id)))::text FROM c",
	            1, (const char *const[]){id});
	gw_json_row(x, r, 200, "no such conversation");
}

/* api_conversation_reply - POST /api/conversations/{id}/messages {"text"} */
void
api_conversation_reply(struct gw_ctx *x)
{
	const char *id = conv_id(x->params[0]), *text;
	char        uid[24], *event = NULL;
	PGresult   *r;
	cJSON      *owned;
	db_conn    *db = x->w->db;

	if (id == NULL) {
		gw_error(x, 404, "not_found", "no such conversation");
		return;
	}
	if (!body_text(x, true, &text, &owned))
		return;
	snprintf(uid, sizeof(uid), "%lld", (long long)x->user_id);
	if (db_begin(db) < 0) {
		gw_db_error(x, db);
		return;
	}
	r = db_exec(db, "SELECT status, channel FROM conversations WHERE id = $1 FOR UPDATE", 1,
	            (const char *const[]){id});
	if (r == NULL || PQntuples(r) == 0) {
		if (r == NULL)
			gw_db_error(x, db);
		else
			gw_error(x, 404, "not_found", "no such conversation");
		goto fail;
	}
	if (strcmp(db_val(r, 0, 0), "closed") == 0) {
		gw_error(x, 409, "conversation_closed", "this conversation is closed");
		goto fail;
	}
	if (strcmp(db_val(r, 0, 1), "sms") != 0) {
		gw_error(x, 409, "not_sms", "this is a web chat: replies go out by SMS only");
		goto fail;
	}
	PQclear(r);
	r = NULL;
	if (learn(x, id, text, NULL, &event) < 0 ||
	    db_cmd(db,
	           "UPDATE conversations SET status = 'human', status_reason = 'staff replied', "
	           "bot_streak = 0, last_message_at = now(), staff_read_at = now() WHERE id = $1",
	           1, (const char *const[]){id}) < 0 ||
	    (r = db_exec(db,
	                 "INSERT INTO messages (conversation_id, direction, author, author_user, "
	                 "text, trace_id, delivery) VALUES ($1, 'out', 'staff', $2, $3, $4, "
	                 "'queued') RETURNING id",
	                 4, (const char *const[]){id, uid, text, x->trace_id})) == NULL ||
	    db_cmd(db, "SELECT pg_notify('clubos_outbox', $1)", 1, (const char *const[]){id}) < 0 ||
	    db_commit(db) < 0) {
		gw_db_error(x, db);
		goto fail;
	}
	PQclear(r);
	cJSON_Delete(owned);
	announce(event);
	log_msg(LOG_INFO, x->trace_id, "conversation %s: staff reply queued", id);
	gw_json_row(x,
	            db_exec(db,
	                    "SELECT " MSG_JSON
	                    "::text FROM messages m WHERE m.conversation_id = $1 "
	                    "AND m.author = 'staff' ORDER BY m.id DESC LIMIT 1",
	                    1, (const char *const[]){id}),
	            201, "the reply could not be read back");
	return;
fail:
	PQclear(r);
	db_rollback(db);
	cJSON_Delete(owned);
	free(event);
}

/* conv_closed_or_missing - the 409 or 404 for a conversation an UPDATE did not match */
static void
conv_closed_or_missing(struct gw_ctx *x, const char *id)
{
	PGresult *r = db_exec(x->w->db, "SELECT status FROM conversations WHERE id = $1", 1,
	                      (const char *const[]){id});

	if (r == NULL)
		gw_db_error(x, x->w->db);
	else if (PQntuples(r) == 0)
		gw_error(x, 404, "not_found", "no such conversation");
	else
		gw_error(x, 409, "conversation_closed", "this conversation is closed");
	PQclear(r);
}

/* api_conversation_release - POST /api/conversations/{id}/release */
void
api_conversation_release(struct gw_ctx *x)
{
	const char *id = conv_id(x->params[0]);
	PGresult   *r;

	if (id == NULL) {
		gw_error(x, 404, "not_found", "no such conversation");
		return;
	}
	/* A closed conversation stays closed: the number may have a newer one. */
	r = db_exec(x->w->db,
	            "WITH c AS (UPDATE conversations SET status = 'bot', status_reason = "
	            "'released by staff', bot_streak = 0 WHERE id = $1 AND status <> 'closed' "
	            "RETURNING *) SELECT " CONV_JSON "::text FROM c",
	            1, (const char *const[]){id});
	if (r != NULL && PQntuples(r) == 0) {
		PQclear(r);
		conv_closed_or_missing(x, id);
		return;
	}
	gw_json_row(x, r, 200, "no such conversation");
	log_msg(LOG_INFO, x->trace_id, "conversation %s released to the bot", id);
}

/*
 * api_conversation_close - POST /api/conversations/{id}/close: the
 * conversation is done.  Its drafts are discarded in the same transaction
 * (a closed conversation sends nothing more), replies to it are refused
 * (409), and the number's next text starts a new one.  Closing a closed one
 * answers it as it is.
 */
void
api_conversation_close(struct gw_ctx *x)
{
	const char *id = conv_id(x->params[0]);
	db_conn    *db = x->w->db;
	PGresult   *d = NULL, *r = NULL;

	if (id == NULL) {
		gw_error(x, 404, "not_found", "no such conversation");
		return;
	}
	if (db_begin(db) < 0) {
		gw_db_error(x, db);
		return;
	}
	if ((d = db_exec(db,
	                 "UPDATE messages SET delivery = 'discarded', updated_at = now() WHERE "
	                 "conversation_id = $1 AND delivery = 'draft' RETURNING id",
	                 1, (const char *const[]){id})) == NULL ||
	    (r = db_exec(
	         db,
	         "WITH c AS (UPDATE conversations SET status = 'closed', status_reason = "
	         "CASE WHEN status = 'closed' THEN status_reason ELSE 'closed by staff' END, "
	         "last_message_at = now() WHERE id = $1 RETURNING *) SELECT " CONV_JSON
	         "::text FROM c",
	         1, (const char *const[]){id})) == NULL ||
	    (PQntuples(r) == 1 && db_commit(db) < 0)) {
		gw_db_error(x, db);
		goto fail;
	}
	if (PQntuples(r) == 0) {
		gw_error(x, 404, "not_found", "no such conversation");
		goto fail;
	}
	log_msg(LOG_INFO, x->trace_id, "conversation %s closed by staff (%d draft(s) discarded)",
	        id, PQntuples(d));
	PQclear(d);
	gw_json_row(x, r, 200, "no such conversation");
	return;
fail:
	PQclear(d);
	PQclear(r);
	db_rollback(db);
}

/* draft - send (optionally edited) or discard a draft reply */
static void
draft(struct gw_ctx *x, bool send)
{
	const char *id = conv_id(x->params[0]), *mid = conv_id(x->params[1]), *text = NULL;
	char        uid[24], *event = NULL;
	cJSON      *owned = NULL;
	PGresult   *r = NULL;
	db_conn    *db = x->w->db;

	if (id == NULL || mid == NULL) {
		gw_error(x, 404, "not_found", "no such message");
		return;
	}
	if (send && !body_text(x, false, &text, &owned))
		return;
	snprintf(uid, sizeof(uid), "%lld", (long long)x->user_id);
	if (db_begin(db) < 0) {
		gw_db_error(x, db);
		return;
	}
	r = db_exec(db,
	            "SELECT delivery, text FROM messages WHERE id = $1 AND conversation_id = $2 "
	            "AND direction = 'out' FOR UPDATE",
	            2, (const char *const[]){mid, id});
	if (r == NULL || PQntuples(r) == 0) {
		if (r == NULL)
			gw_db_error(x, db);
		else
			gw_error(x, 404, "not_found", "no such message in this conversation");
		goto fail;
	}
	if (strcmp(db_val(r, 0, 0), "draft") != 0) {
		gw_error(x, 409, "not_a_draft",
		         "this message is not a draft (already sent or discarded)");
		goto fail;
	}
	/* An edited draft is a person's correction of the bot's answer. */
	if (send && text != NULL && strcmp(text, db_val(r, 0, 1)) != 0 &&
	    learn(x, id, text, mid, &event) < 0) {
		gw_db_error(x, db);
		goto fail;
	}
	PQclear(r);
	r = NULL;
	if (db_cmd(db,
	           "UPDATE messages SET delivery = $3, text = COALESCE($4, text), author_user = "
	           "$5::bigint, updated_at = now() WHERE id = $1 AND conversation_id = $2",
	           5,
	           (const char *const[]){mid, id, send ? "queued" : "discarded", text, uid}) < 0 ||
	    (send && db_cmd(db, "SELECT pg_notify('clubos_outbox', $1)", 1,
	                    (const char *const[]){id}) < 0) ||
	    db_commit(db) < 0) {
		gw_db_error(x, db);
		goto fail;
	}
	cJSON_Delete(owned);
	announce(event);
	log_msg(LOG_INFO, x->trace_id, "conversation %s: draft %s %s", id, mid,
	        send ? "sent" : "discarded");
	gw_json_row(x,
	            db_exec(db, "SELECT " MSG_JSON "::text FROM messages m WHERE m.id = $1", 1,
	                    (const char *const[]){mid}),
	            200, "no such message");
	return;
fail:
	PQclear(r);
	db_rollback(db);
	cJSON_Delete(owned);
	free(event);
}

/* api_draft_send - POST /api/conversations/{id}/messages/{mid}/send */
void
api_draft_send(struct gw_ctx *x)
{
	draft(x, true);
}

/* api_draft_discard - POST /api/conversations/{id}/messages/{mid}/discard */
void
api_draft_discard(struct gw_ctx *x)
{
	draft(x, false);
}

/* ============================================================ web chat */

/*
 * gw_chat_open - the asker's conversation named by field (JSON null: a new
 * one) into cid.  0 and cid set; 0 and cid "" when the database cannot be
 * asked (a question, an emergency above all, never waits on it); -1 after
 * answering 400 or 404.
 */
int
gw_chat_open(struct gw_ctx *x, const cJSON *field, const char *channel, const char *location,
             char *cid, size_t cap)
{
	char        uid[24], want[24];
	const char *ch = channel != NULL && strcmp(channel, "kiosk") == 0 ? "kiosk" : "web";
	PGresult   *r;

	cid[0] = '\0';
	snprintf(uid, sizeof(uid), "%lld", (long long)x->user_id);
	if (cJSON_IsNull(field)) {
		r = db_exec(x->w->db,
		            "INSERT INTO conversations (channel, user_id, location, customer_id) "
		            "VALUES ($1, $2::bigint, $3, (SELECT customer_id FROM users WHERE id = "
		            "$2::bigint AND role = 'customer')) RETURNING id",
		            3, (const char *const[]){ch, uid, location});
	} else if (cJSON_IsNumber(field) && field->valuedouble >= 1 && field->valuedouble <= 9e15 &&
	           field->valuedouble == (double)(long long)field->valuedouble) {
		snprintf(want, sizeof(want), "%lld", (long long)field->valuedouble);
		r = db_exec(x->w->db,
		            "SELECT id FROM conversations WHERE id = $1::bigint AND user_id = "
		            "$2::bigint AND channel <> 'sms'",
		            2, (const char *const[]){want, uid});
		if (r != NULL && PQntuples(r) == 0) {
			PQclear(r);
			gw_error(x, 404, "not_found", "no such conversation of yours");
			return -1;
		}
	} else {
		gw_error(x, 400, "wrong_type",
		         "\"conversation_id\" must be a conversation's id, or null to start one");
		return -1;
	}
	if (r == NULL || PQntuples(r) != 1) {
		PQclear(r);
		log_msg(LOG_WARN, x->trace_id,
		        "web chat: no conversation (database): answered alone");
		return 0;
	}
	snprintf(cid, cap, "%s", db_val(r, 0, 0));
	PQclear(r);
	return 0;
}

/* gw_chat_record - the question and the router's answer (its text, what it
 * offered to choose from, if anything, and whether it came from the
 * customer's record), filed in the conversation, which takes the question's
 * language when it reads in one (the follow-ups are said in it) */
void
gw_chat_record(struct gw_ctx *x, const char *cid, const char *msg, const cJSON *ans)
{
	char         uid[24];
	const char  *who = gw_role_bit(x->role) & ROLE_STAFF ? "staff" : "customer";
	const cJSON *offer = cJSON_GetObjectItem(ans, "clarify");
	const char  *answer = json_str(ans, "response");
	char        *oj = cJSON_IsArray(offer) ? json_print(offer) : NULL;

	snprintf(uid, sizeof(uid), "%lld", (long long)x->user_id);
	/* Two statements: the question's id comes before the answer's. */
	if (db_cmd(x->w->db,
	           "INSERT INTO messages (conversation_id, direction, author, author_user, text, "
	           "trace_id, delivery) VALUES ($1, 'in', $2, $3::bigint, $4, $5, 'received')",
	           5, (const char *const[]){cid, who, uid, msg, x->trace_id}) < 0 ||
	    (answer != NULL && *answer != '\0' &&
	     db_cmd(x->w->db,
	            "INSERT INTO messages (conversation_id, direction, author, text, trace_id, "
	            "delivery, offer, personal) VALUES ($1, 'out', 'bot', $2, $3, 'delivered', "
	            "$4::jsonb, $5::boolean)",
	            5,
	            (const char *const[]){cid, answer, x->trace_id, oj,
	                                  ops_answer_personal(ans) ? "true" : "false"}) < 0) ||
	    db_cmd(x->w->db,
	           "UPDATE conversations SET last_message_at = now(), lang = COALESCE($2, lang) "
	           "WHERE id = $1",
	           2, (const char *const[]){cid, em_language(msg)}) < 0)
		log_msg(LOG_WARN, x->trace_id, "web chat: conversation %s not updated", cid);
	free(oj);
}
