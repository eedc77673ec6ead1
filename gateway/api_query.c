/*
 * api_query.c - POST /api/query, POST /api/feedback, GET /api/traces/{id}
 *
 * The query handler validates the body field by field (the contract's
 * types and limits), says who is asking (role, audience, linked customer),
 * and asks the router, with a deadline.  The answer's summary is stored
 * through the trace writer, off the request path.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "common/bus.h"
#include "common/env.h"
#include "common/json.h"
#include "common/settings.h"
#include "common/log.h"
#include "common/ops.h"
#include "common/trace.h"
#include "common/util.h"
#include "gateway/gw.h"
#include "router/emergency.h"

static const char *const channels[] = {"sms", "web", "kiosk", "operator", NULL};

/* known_channel - one of the contract's channels? */
static bool
known_channel(const char *c)
{
	for (const char *const *p = channels; *p != NULL; p++)
		if (strcmp(*p, c) == 0)
			return true;
	return false;
}

/* default_channel - where a role's messages come from when unsaid */
static const char *
default_channel(const char *role)
{
	if (strcmp(role, "kiosk") == 0)
		return "kiosk";
	if (strcmp(role, "customer") == 0)
		return "web";
	return "operator";
}

/* check_text - a string field's type, UTF-8 and length in characters */
static bool
check_text(struct gw_ctx *x, const char *field, bool required, size_t minc, size_t maxc,
           const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->body, field);
	char         msg[160];
	size_t       n;
	bool         valid;

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v)) {
		if (!required)
			return true;
		snprintf(msg, sizeof(msg), "\"%s\" is required", field);
		gw_error(x, 400, "missing_field", msg);
		return false;
	}
	if (!cJSON_IsString(v)) {
		snprintf(msg, sizeof(msg), "\"%s\" must be a string", field);
		gw_error(x, 400, "wrong_type", msg);
		return false;
	}
	n = util_utf8_chars(v->valuestring, strlen(v->valuestring), &valid);
	if (!valid) {
		snprintf(msg, sizeof(msg), "\"%s\" is not valid UTF-8", field);
		gw_error(x, 400, "invalid_utf8", msg);
		return false;
	}
	if (n < minc || n > maxc) {
		snprintf(msg, sizeof(msg), "\"%s\" must be %zu to %zu characters", field, minc,
		         maxc);
		gw_error(x, 400, "invalid_length", msg);
		return false;
	}
	*out = v->valuestring;
	return true;
}

/* gw_db_error - answer the last database failure: 400 or 409 when the
 * input was at fault, 503 when the database is (db_error_status) */
void
gw_db_error(struct gw_ctx *x, const db_conn *db)
{
	const char *code, *message;
	int         status = db_error_status(db, &code, &message);

	gw_error(x, status, code, message);
}

/* blank - only white space? */
static bool
blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

/* linked_customer - the customer record a customer login is linked to */
static int64_t
linked_customer(struct gw_ctx *x)
{
	char        id[24];
	const char *p[] = {id};
	PGresult   *r;
	int64_t     cid = 0;

	snprintf(id, sizeof(id), "%lld", (long long)x->user_id);
	r = db_exec(x->w->db, "SELECT customer_id FROM users WHERE id = $1", 1, p);
	if (r != NULL && PQntuples(r) == 1 && !db_null(r, 0, 0))
		cid = strtoll(db_val(r, 0, 0), NULL, 10);
	PQclear(r);
	return cid;
}

/*
 * Locations change only by migration or by hand, yet a kiosk names one on
 * every message: known ones are remembered for LOC_KEEP_MS, so a repeat
 * answered in the gateway needs no database round trip.  An unknown slug
 * is always looked up (a new location works at once).
 */
#define LOC_KEEP_MS 30000
#define LOC_SLOTS 64

static struct {
	pthread_mutex_t mu;
	struct {
		char     slug[41];
		int      bays;
		uint64_t until_ms;
	} slot[LOC_SLOTS];
	unsigned next;
} locs = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* location_bays - the number of bays of a location; -1 unknown, -2 database down */
static int
location_bays(struct gw_ctx *x, const char *slug)
{
	const char *p[] = {slug};
	uint64_t    now = env_now_ms();
	PGresult   *r;
	int         bays = -1;

	pthread_mutex_lock(&locs.mu);
	for (unsigned i = 0; i < LOC_SLOTS; i++)
		if (locs.slot[i].until_ms > now && strcmp(locs.slot[i].slug, slug) == 0) {
			bays = locs.slot[i].bays;
			break;
		}
	pthread_mutex_unlock(&locs.mu);
	if (bays >= 0)
		return bays;
	if ((r = db_exec(x->w->db, "SELECT bays FROM locations WHERE slug = $1", 1, p)) == NULL)
		return -2;
	if (PQntuples(r) == 1)
		bays = atoi(db_val(r, 0, 0));
	PQclear(r);
	if (bays >= 0 && strlen(slug) < sizeof(locs.slot[0].slug)) {
		pthread_mutex_lock(&locs.mu);
		unsigned i = locs.next++ % LOC_SLOTS;

		snprintf(locs.slot[i].slug, sizeof(locs.slot[i].slug), "%s", slug);
		locs.slot[i].bays = bays;
		locs.slot[i].until_ms = now + LOC_KEEP_MS;
		pthread_mutex_unlock(&locs.mu);
	}
	return bays;
}

/* api_query - POST /api/query */
void
api_query(struct gw_ctx *x)
{
	const char      *msg, *channel, *location, *phone;
	const cJSON     *bay = cJSON_GetObjectItemCaseSensitive(x->body, "bay");
	cJSON           *rq, *ans = NULL, *sum;
	struct rpc_reply rep;
	char            *out, scope[128], key[CACHE_KEY_MAX], chat[24] = "";
	int              rc, bays = 0, is_em;
	int64_t          total;
	long long        kgen;
	em_match         em;

	if (!check_text(x, "message", true, 1, GW_MAX_MESSAGE, &msg) ||
	    !check_text(x, "channel", false, 1, 16, &channel) ||
	    !check_text(x, "location", false, 1, 40, &location) ||
	    !check_text(x, "customer_phone", false, 3, 32, &phone))
		return;
	if (blank(msg)) {
		gw_error(x, 400, "invalid_length", "\"message\" must not be blank");
		return;
	}
	if (channel != NULL && !known_channel(channel)) {
		gw_error(x, 400, "invalid_value",
		         "\"channel\" must be one of sms, web, kiosk, operator");
		return;
	}
	if (bay != NULL && !cJSON_IsNull(bay) &&
	    (!cJSON_IsNumber(bay) || bay->valuedouble != (double)(int)bay->valuedouble)) {
		gw_error(x, 400, "wrong_type", "\"bay\" must be a whole number");
		return;
	}

	/* The emergency rules come before any lookup: an emergency is answered
	 * with the database down, and a location or bay that cannot be checked
	 * (or is wrong) goes with it as the asker said it or not at all, never
	 * as a reason to refuse. */
	is_em = em_check(msg, &em);
	/* Web chat: the asker's conversation, whose turns give context.  An
	 * emergency does not wait for a database connection to open. */
	if (cJSON_HasObjectItem(x->body, "conversation_id") &&
	    !(is_em && (db_pg(x->w->db) == NULL || PQstatus(db_pg(x->w->db)) != CONNECTION_OK)) &&
	    gw_chat_open(x, cJSON_GetObjectItemCaseSensitive(x->body, "conversation_id"), channel,
	                 NULL, chat, sizeof(chat)) < 0)
		return;
	if (location != NULL && (bays = location_bays(x, location)) < 0) {
		if (is_em && bays == -2) {
			log_msg(LOG_WARN, x->trace_id,
			        "emergency: location %s not checked (database down)", location);
			bays = 64;
		} else if (is_em) {
			log_msg(LOG_WARN, x->trace_id, "emergency: unknown location dropped");
			location = NULL;
		} else if (bays == -2) {
			gw_db_error(x, x->w->db);
			return;
		} else {
			gw_error(x, 400, "unknown_location",
			         "\"location\" is not a known location");
			return;
		}
	}
	if (cJSON_IsNumber(bay) &&
	    (bay->valueint < 1 || bay->valueint > (location != NULL ? bays : 64))) {
		if (!is_em) {
			gw_error(x, 400, "invalid_value", "\"bay\" is not a bay of that location");
			return;
		}
		bay = NULL;
	}

	/* The emergency rules first, always; then an exact repeat is answered
	 * here, from the gateway's half of L1, without a hop (front.c). */
	snprintf(scope, sizeof(scope), "%s|%s", gw_audience(x->role),
	         location != NULL ? location : "-");
	kgen = atomic_load(&gw.kgen);
	if (!is_em && *chat == '\0' &&
	    (ans = front_get(scope, msg, kgen, key, sizeof(key))) != NULL) {
		struct settings set;
		const char     *by = json_str(ans, "composed_by");

		/* A raised sop_confidence_threshold retires weaker stored answers,
		 * and the generative tier turned off or down its answers. */
		settings_current(x->w->db, &set);
		if (!settings_serves_stored(&set, json_num(ans, "confidence", 0),
		                            by != NULL && strcmp(by, "llm") == 0)) {
			cJSON_Delete(ans);
			ans = NULL;
		}
	}
	if (is_em || *chat != '\0') {
		key[0] = '\0';
	} else if (ans != NULL) {
		cJSON *d = cJSON_CreateObject();

		cJSON_AddBoolToObject(d, "emergency", false);
		trace_step(x->trace_id, "emergency_check", d, env_mono_us() - x->t0_us);
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "tier", "l1");
		cJSON_AddStringToObject(d, "match", "exact");
		trace_step(x->trace_id, "cache_hit", d, env_mono_us() - x->t0_us);
		goto answered;
	}

	rq = cJSON_CreateObject();
	cJSON_AddStringToObject(rq, "message", msg);
	cJSON_AddStringToObject(rq, "channel", channel ? channel : default_channel(x->role));
	json_add_str(rq, "location", location);
	if (cJSON_IsNumber(bay))
		cJSON_AddNumberToObject(rq, "bay", bay->valueint);
	cJSON_AddStringToObject(rq, "role", x->role);
	cJSON_AddStringToObject(rq, "audience", gw_audience(x->role));
	cJSON_AddNumberToObject(rq, "user_id", (double)x->user_id);
	if (strcmp(x->role, "customer") == 0)
		cJSON_AddNumberToObject(rq, "customer_id", (double)linked_customer(x));
	else if (phone != NULL)
		/* Only staff may name a customer; a customer's own record is
		 * found through their login, whatever number they type. */
		cJSON_AddStringToObject(rq, "customer_phone", phone);
	cJSON_AddNumberToObject(rq, "kgen", (double)kgen);
	if (*chat != '\0') {
		cJSON_AddNumberToObject(rq, "conversation_id", strtod(chat, NULL));
		cJSON_AddItemToObject(rq, "context",
		                      ops_turns(x->w->db, chat, NULL, GW_CHAT_TURNS));
	}
	out = json_print(rq);
	cJSON_Delete(rq);
	if (out == NULL) {
		gw_error(x, 500, "internal", "out of memory");
		return;
	}
	{
		/* The live configuration, once for this request (a reload may
		 * swap it meanwhile; this one stays valid until released). */
		const struct cfg *c = cfg_acquire();
		uint64_t          deadline = env_now_ms() + (uint64_t)c->query_timeout_ms;

		cfg_release(c);
		rc = rpc_call(gw.router, ENV_OP_QUERY, x->trace_id, deadline, out, strlen(out),
		              &rep);
	}
	free(out);
	if (rc != 0) {
		if (rc == RPC_ENOPEER || rpc_client_peers(gw.router) == 0)
			gw_error(x, 503, "router_unavailable", "the router is not running");
		else
			gw_error(x, 503, "timeout", "no answer in time; please try again");
		return;
	}
	if (rep.status != 0) {
		/* The router's own error, already in the contract's shape. */
		x->res->status = rep.status;
		x->res->body = rep.body;
		x->res->len = rep.len;
		return;
	}
	{
		const char *why;

		ans = json_parse(rep.body, rep.len, &why);
		rpc_reply_clear(&rep);
		if (ans == NULL) {
			gw_error(x, 500, "internal", "the router's answer could not be read");
			return;
		}
	}
	front_put(key, scope, kgen, ans);
answered:
	total = env_mono_us() - x->t0_us;
	cJSON_AddStringToObject(ans, "trace_id", x->trace_id);
	if (!cJSON_HasObjectItem(ans, "cache"))
		cJSON_AddStringToObject(ans, "cache", "miss");
	{
		cJSON *t = cJSON_GetObjectItem(ans, "timings_us");

		if (!cJSON_IsObject(t))
			t = cJSON_AddObjectToObject(ans, "timings_us");
		cJSON_DeleteItemFromObject(t, "total");
		cJSON_AddNumberToObject(t, "total", (double)(total > 0 ? total : 1));
	}
	metrics_query(json_str(ans, "route"), json_str(ans, "cache"), total);

	sum = cJSON_CreateObject();
	cJSON_AddNumberToObject(sum, "user_id", (double)x->user_id);
	cJSON_AddStringToObject(sum, "role", x->role);
	cJSON_AddStringToObject(sum, "channel", channel ? channel : default_channel(x->role));
	json_add_str(sum, "location", location);
	cJSON_AddStringToObject(sum, "message", msg);
	json_add_str(sum, "route", json_str(ans, "route"));
	cJSON_AddNumberToObject(sum, "confidence", json_num(ans, "confidence", 0));
	{
		const cJSON *sop = cJSON_GetObjectItem(ans, "sop");

		if (cJSON_IsObject(sop)) {
			json_add_str(sum, "sop_slug", json_str(sop, "slug"));
			cJSON_AddNumberToObject(sum, "sop_version", json_int(sop, "version", 0));
		}
	}
	json_add_str(sum, "response", json_str(ans, "response"));
	cJSON_AddNumberToObject(sum, "escalation_tier",
	                        json_int(cJSON_GetObjectItem(ans, "escalation"), "tier", 0));
	json_add_str(sum, "cache", json_str(ans, "cache"));
	cJSON_AddNumberToObject(sum, "total_us", (double)total);
	trace_summary(x->trace_id, sum);
	if (*chat != '\0') {
		gw_chat_record(x, chat, msg, ans);
		cJSON_AddNumberToObject(ans, "conversation_id", strtod(chat, NULL));
	}
	{
		cJSON *d = cJSON_CreateObject();

		cJSON_AddStringToObject(d, "route", json_str(ans, "route"));
		cJSON_AddNumberToObject(d, "status", 200);
		trace_step(x->trace_id, "responded", d, total);
	}
	gw_json(x, 200, ans);
}

/* api_feedback - POST /api/feedback: store (or replace) a verdict on an answer */
void
api_feedback(struct gw_ctx *x)
{
	const char  *tid, *comment, *correct;
	const cJSON *helpful = cJSON_GetObjectItemCaseSensitive(x->body, "helpful");
	char         uid[24];
	PGresult    *r;

	if (!check_text(x, "trace_id", true, 32, 32, &tid) ||
	    !check_text(x, "comment", false, 0, 2000, &comment) ||
	    !check_text(x, "correct_answer", false, 1, 4000, &correct))
		return;
	if (!util_is_hex(tid, 32)) {
		gw_error(x, 400, "invalid_value",
		         "\"trace_id\" must be 32 lowercase hex characters");
		return;
	}
	if (helpful == NULL) {
		gw_error(x, 400, "missing_field", "\"helpful\" is required");
		return;
	}
	if (!cJSON_IsBool(helpful)) {
		gw_error(x, 400, "wrong_type", "\"helpful\" must be true or false");
		return;
	}
	/* The summary may still be in this gateway's write queue. */
	trace_flush();
	snprintf(uid, sizeof(uid), "%lld", (long long)x->user_id);
	for (int attempt = 0;; attempt++) {
		const char *p[] = {tid, uid, cJSON_IsTrue(helpful) ? "true" : "false", comment,
		                   correct};
		cJSON      *sum;

		r = db_exec(
		    x->w->db,
		    "INSERT INTO feedback (trace_id, user_id, helpful, comment, correct_answer, "
		    "  route, sop_slug, sop_version) "
		    "SELECT t.trace_id, $2, $3, $4, $5, t.route, t.sop_slug, t.sop_version "
		    "FROM traces t WHERE t.trace_id = $1 "
		    "ON CONFLICT (trace_id, user_id) DO UPDATE SET helpful = EXCLUDED.helpful, "
		    "  comment = EXCLUDED.comment, correct_answer = EXCLUDED.correct_answer, "
		    "  updated_at = now() "
		    "RETURNING id, sop_slug, sop_version",
		    5, p);
		if (r == NULL || PQntuples(r) > 0 || attempt > 0)
			break;
		/* No stored answer: the writer may be behind, or had to keep the
		 * summary aside under load.  Then store it here, and try again. */
		if ((sum = trace_summary_claim(tid)) == NULL)
			break;
		if (trace_summary_store(x->w->db, sum) < 0) {
			cJSON_Delete(sum);
			PQclear(r);
			gw_db_error(x, x->w->db);
			return;
		}
		cJSON_Delete(sum);
		PQclear(r);
	}
	if (r == NULL) {
		gw_db_error(x, x->w->db);
		return;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		gw_error(x, 404, "unknown_trace", "no answer has that trace id");
		return;
	}
	{
		cJSON *o = cJSON_CreateObject(), *ev;
		char  *text;

		cJSON_AddNumberToObject(o, "id", strtod(db_val(r, 0, 0), NULL));
		cJSON_AddStringToObject(o, "trace_id", tid);
		cJSON_AddBoolToObject(o, "helpful", cJSON_IsTrue(helpful));
		ev = cJSON_Duplicate(o, 1);
		json_add_str(ev, "sop_slug", db_null(r, 0, 1) ? NULL : db_val(r, 0, 1));
		if ((text = json_print(ev)) != NULL)
			bus_publish("feedback", text);
		free(text);
		cJSON_Delete(ev);
		PQclear(r);
		gw_json(x, 200, o);
	}
}

/* api_trace_get - GET /api/traces/{id}: the summary and every stored step */
void
api_trace_get(struct gw_ctx *x)
{
	const char *p[] = {x->params[0]};
	PGresult   *s, *st;
	cJSON      *o, *steps;

	if (!util_is_hex(x->params[0], 32)) {
		gw_error(x, 404, "unknown_trace", "no trace has that id");
		return;
	}
	trace_flush();
	s = db_exec(
	    x->w->db,
	    "SELECT row_to_json(t)::text FROM (SELECT trace_id, user_id, role, channel, location, "
	    "  message, route, confidence, sop_slug, sop_version, response, escalation_tier, "
	    "  cache, total_us, created_at FROM traces WHERE trace_id = $1) t",
	    1, p);
	st = db_exec(
	    x->w->db,
	    "SELECT coalesce(json_agg(json_build_object('daemon', daemon, 'step', step, "
	    "  'detail', detail, 'elapsed_us', elapsed_us, 'at', at) ORDER BY at, id), '[]')::text "
	    "FROM trace_steps WHERE trace_id = $1",
	    1, p);
	if (s == NULL || st == NULL) {
		PQclear(s);
		PQclear(st);
		gw_db_error(x, x->w->db);
		return;
	}
	steps = cJSON_Parse(db_val(st, 0, 0));
	if (PQntuples(s) == 0 && cJSON_GetArraySize(steps) == 0) {
		cJSON_Delete(steps);
		PQclear(s);
		PQclear(st);
		gw_error(x, 404, "unknown_trace", "no trace has that id");
		return;
	}
	o = PQntuples(s) == 1 ? cJSON_Parse(db_val(s, 0, 0)) : NULL;
	if (o == NULL) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "trace_id", x->params[0]);
	}
	cJSON_AddItemToObject(o, "steps", steps ? steps : cJSON_CreateArray());
	PQclear(s);
	PQclear(st);
	gw_json(x, 200, o);
}
