/*
 * api_admin.c - health, login, users, SOP reads, metrics and the web UI
 *
 * Health and metrics are cheap to ask for: what they learn from other
 * daemons and from PostgreSQL is kept for HEALTH_KEEP_MS and shared by
 * every request in that time (one thread refreshes while the others serve
 * the last answer), and both routes are rate limited per address.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "common/env.h"
#include "common/json.h"
#include "common/jwt.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/gw.h"

#define HEALTH_KEEP_MS 1000

/* What the last check found, shared for HEALTH_KEEP_MS. */
static struct {
	pthread_mutex_t mu;
	int64_t         at_us;
	bool            refreshing;
	int             status;
	char           *body;
} health_cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

/*
 * conversations_health - the SMS front door as staff need to know it: off
 * (no OpenPhone configured), ok, or stalled (an event not taken, or a text
 * not sent, for over a minute: is clubos-conversations running?).  Like
 * the integrations it never changes the overall status: questions are
 * answered without it.  Both counts use the partial indexes of 0006/0012.
 */
static void
conversations_health(struct gw_ctx *x, cJSON *c, bool pg)
{
	PGresult   *r;
	const char *v = "unknown";

	if (*gw.cfg->openphone_api_key == '\0' && *gw.cfg->openphone_webhook_secret == '\0') {
		cJSON_AddStringToObject(c, "conversations", "off");
		return;
	}
	r = pg ? db_exec(x->w->db,
	                 "SELECT (SELECT count(*) FROM webhook_events WHERE processed_at IS NULL "
	                 "AND received_at < now() - interval '60 s') + (SELECT count(*) FROM "
	                 "messages WHERE delivery = 'queued' AND coalesce(next_attempt_at, "
	                 "created_at) < now() - "
	                 "interval '60 s')",
	                 0, NULL)
	       : NULL;
	if (r != NULL)
		v = strcmp(db_val(r, 0, 0), "0") == 0 ? "ok" : "stalled";
	PQclear(r);
	cJSON_AddStringToObject(c, "conversations", v);
}

/* health_check - ask every component now: the status and the body */
static int
health_check(struct gw_ctx *x, char **out)
{
	cJSON           *o = cJSON_CreateObject(), *c = cJSON_AddObjectToObject(o, "components");
	struct rpc_reply rep;
	PGresult        *r = x->w != NULL ? db_exec(x->w->db, "SELECT 1", 0, NULL) : NULL;
	bool             pg = r != NULL, redis, router = false, degraded = false;
	bool             router_cache = false;
	const char      *status;

	PQclear(r);
	redis = x->w != NULL && kv_ping(x->w->kv);
	cJSON_AddStringToObject(c, "postgres", pg ? "ok" : "down");
	cJSON_AddStringToObject(c, "redis", redis ? "ok" : "down");
	if (rpc_call(gw.router, ENV_OP_STATUS, x->trace_id, env_now_ms() + 1000, "{}", 2, &rep) ==
	        0 &&
	    rep.status == 0) {
		const char *why;
		cJSON      *st = json_parse(rep.body, rep.len, &why);
		cJSON      *w = cJSON_GetObjectItem(st, "workers"), *it;

		router = st != NULL;
		/* The router reaches the shared tiers on its own connection. */
		router_cache = json_int(cJSON_GetObjectItem(st, "cache"), "remote_peers", 0) > 0;
		if (cJSON_IsObject(w)) {
			cJSON_ArrayForEach(it, w)
			{
				if (!cJSON_IsNumber(it) || it->valueint < 1)
					degraded = true;
			}
			cJSON_AddItemToObject(c, "workers", cJSON_Duplicate(w, 1));
		}
		w = cJSON_GetObjectItem(st, "inflight");
		if (cJSON_IsObject(w))
			cJSON_AddItemToObject(c, "inflight", cJSON_Duplicate(w, 1));
		cJSON_Delete(st);
	}
	rpc_reply_clear(&rep);
	cJSON_AddStringToObject(c, "router", router ? "ok" : "down");
	gw_ops_health(x, c); /* the outside integrations: never make us down */
	gw_llm_health(x, c); /* the generative tier: optional, never makes us down */
	conversations_health(x, c, pg);
	/* The cache's shared tiers: without them every answer still comes,
	 * only slower, so their absence is "degraded", not "down". */
	{
		bool cache = rpc_call(gw.cache, ENV_OP_PING, x->trace_id, env_now_ms() + 500, "{}",
		                      2, &rep) == 0 &&
		             rep.status == 0 && (router_cache || !router);

		rpc_reply_clear(&rep);
		cJSON_AddStringToObject(c, "cache", cache ? "ok" : "down");
		degraded = degraded || !cache;
	}
	/* The learning loop: questions are answered without it. */
	{
		bool intel = rpc_call(gw.intel, ENV_OP_PING, x->trace_id, env_now_ms() + 500, "{}",
		                      2, &rep) == 0 &&
		             rep.status == 0;

		rpc_reply_clear(&rep);
		cJSON_AddStringToObject(c, "intelligence", intel ? "ok" : "down");
		degraded = degraded || !intel;
	}
	if (!pg || !router)
		status = "down";
	else if (!redis || degraded)
		status = "degraded";
	else
		status = "ok";
	cJSON_AddStringToObject(o, "status", status);
	cJSON_AddNumberToObject(o, "checked_at_ms", (double)env_now_ms());
	*out = json_print(o);
	cJSON_Delete(o);
	return strcmp(status, "down") == 0 ? 503 : 200;
}

/* api_health_live - GET /api/health/live: the process serves HTTP (liveness; asks nothing else) */
void
api_health_live(struct gw_ctx *x)
{
	static const char body[] = "{\"status\":\"alive\"}";

	x->res->status = 200;
	x->res->body = strdup(body);
	x->res->len = x->res->body != NULL ? strlen(x->res->body) : 0;
}

/*
 * api_health_ready - GET /api/health/ready: may a load balancer send this
 * gateway work?  Yes while it reaches a router and is not draining.  Not
 * PostgreSQL: without it the desk still answers, emergencies first (they
 * are spooled), so an outage of the database must not take every
 * gateway out of rotation; /api/health says "down" for that.
 */
void
api_health_ready(struct gw_ctx *x)
{
	const char *body;

	if (atomic_load(&gw.draining)) {
		x->res->status = 503;
		body = "{\"status\":\"draining\"}";
	} else if (rpc_client_peers(gw.router) == 0) {
		x->res->status = 503;
		body = "{\"status\":\"not_ready\",\"reason\":\"no router reached\"}";
	} else {
		x->res->status = 200;
		body = "{\"status\":\"ready\"}";
	}
	x->res->body = strdup(body);
	x->res->len = x->res->body != NULL ? strlen(x->res->body) : 0;
}

/* api_health - GET /api/health: ok, degraded (can still answer) or down */
void
api_health(struct gw_ctx *x)
{
	if (atomic_load(&gw.draining)) {
		/* Stopping: out of rotation first, while still serving. */
		char body[160];

		snprintf(body, sizeof(body),
		         "{\"status\":\"down\",\"draining\":true,\"components\":{\"gateway\":"
		         "\"draining\"},\"checked_at_ms\":%lld}",
		         (long long)env_now_ms());
		x->res->status = 503;
		x->res->body = strdup(body);
		x->res->len = x->res->body != NULL ? strlen(x->res->body) : 0;
		return;
	}
	int64_t now = env_mono_us();
	char   *body = NULL;
	int     status = 0;

	pthread_mutex_lock(&health_cache.mu);
	if (health_cache.body != NULL &&
	    (now - health_cache.at_us < HEALTH_KEEP_MS * 1000 || health_cache.refreshing)) {
		body = strdup(health_cache.body);
		status = health_cache.status;
		pthread_mutex_unlock(&health_cache.mu);
	} else {
		char *fresh = NULL;

		health_cache.refreshing = true;
		pthread_mutex_unlock(&health_cache.mu);
		status = health_check(x, &fresh);
		pthread_mutex_lock(&health_cache.mu);
		health_cache.refreshing = false;
		if (fresh != NULL) {
			free(health_cache.body);
			health_cache.body = fresh;
			health_cache.status = status;
			health_cache.at_us = env_mono_us();
			body = strdup(fresh);
		}
		pthread_mutex_unlock(&health_cache.mu);
	}
	if (body == NULL) {
		gw_error(x, 500, "internal", "out of memory");
		return;
	}
	x->res->status = status;
	x->res->body = body;
	x->res->len = strlen(body);
}

/* iso_time - seconds since the epoch as ISO 8601 UTC */
static void
iso_time(time_t t, char *out, size_t cap)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* too_soon - answer 429 with a Retry-After of wait seconds (at least 1) */
static void
too_soon(struct gw_ctx *x, double wait, const char *code, const char *message)
{
	char ra[24];

	snprintf(ra, sizeof(ra), "%.0f", wait < 1 ? 1 : ceil(wait));
	http_res_header(x->res, "Retry-After", ra);
	metrics_rate_limited();
	gw_error(x, 429, code, message);
}

/*
 * api_login - POST /api/auth/login
 *
 * In order: the throttle (an account or address that failed too often
 * waits, 429), the gate (at most a few argon2id checks at once, 429 at once
 * beyond), the lookup, the check (against a dummy hash for an unknown
 * e-mail, so the answer takes as long either way and says nothing of who
 * has an account), then a token.  See login.c.
 */
void
api_login(struct gw_ctx *x)
{
	const char     *email = json_str(x->body, "email"), *pw = json_str(x->body, "password");
	PGresult       *r;
	jwt_claims      c = {0};
	char            token[JWT_BUF_LEN], exp[32];
	struct timespec ts;
	double          now, wait;
	bool            found, ok, disabled;

	if (email == NULL || pw == NULL || strlen(email) > 254 || strlen(pw) > 1024) {
		gw_error(x, 400, "bad_request", "\"email\" and \"password\" must be strings");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if ((wait = login_blocked(email, x->addr, now)) > 0) {
		too_soon(x, wait, "login_throttled",
		         "too many failed logins; try again after the Retry-After delay");
		return;
	}
	if (!login_enter()) {
		too_soon(x, 1, "login_busy", "too many logins at once; try again in a second");
		return;
	}
	{
		const char *p[] = {email};

		r = db_exec(x->w->db,
		            "SELECT id, password_hash, role, disabled FROM users "
		            "WHERE lower(email) = lower($1)",
		            1, p);
	}
	if (r == NULL) {
		login_leave();
		gw_error(x, 503, "database_unavailable", "the database is not answering");
		return;
	}
	found = PQntuples(r) == 1;
	ok = pw_verify(found ? db_val(r, 0, 1) : gw.pw_dummy, pw) == 0 && found;
	login_leave();
	if (!ok) {
		/* The wait starts when the check ended, not when it began. */
		PQclear(r);
		clock_gettime(CLOCK_REALTIME, &ts);
		now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		login_failed(email, x->addr, now);
		gw_error(x, 401, "invalid_credentials", "wrong email or password");
		return;
	}
	login_succeeded(email, now);
	disabled = strcmp(db_val(r, 0, 3), "t") == 0;
	if (disabled) {
		PQclear(r);
		gw_error(x, 401, "account_disabled", "this account is disabled");
		return;
	}
	snprintf(c.sub, sizeof(c.sub), "%s", db_val(r, 0, 0));
	snprintf(c.role, sizeof(c.role), "%s", db_val(r, 0, 2));
	c.iat = (int64_t)ts.tv_sec;
	c.exp = (int64_t)ts.tv_sec + gw.cfg->jwt_ttl;
	util_random_hex(c.jti, 16);
	PQclear(r);
	if (jwt_sign(gw.jwt_key, gw.jwt_keylen, &c, token, sizeof(token)) != 0) {
		gw_error(x, 500, "internal", "the token could not be made");
		return;
	}
	iso_time((time_t)c.exp, exp, sizeof(exp));
	{
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "token", token);
		cJSON_AddStringToObject(o, "role", c.role);
		cJSON_AddStringToObject(o, "expires_at", exp);
		gw_json(x, 200, o);
	}
	sodium_memzero(token, sizeof(token));
}

/* field - an optional string field with a length limit; false after answering 400 */
static bool
field(struct gw_ctx *x, const char *name, bool required, size_t maxlen, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->body, name);
	char         msg[128];

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v)) {
		if (!required)
			return true;
		snprintf(msg, sizeof(msg), "\"%s\" is required", name);
		gw_error(x, 400, "missing_field", msg);
		return false;
	}
	if (!cJSON_IsString(v) || strlen(v->valuestring) > maxlen) {
		snprintf(msg, sizeof(msg), "\"%s\" must be a string of at most %zu bytes", name,
		         maxlen);
		gw_error(x, 400, "wrong_type", msg);
		return false;
	}
	*out = v->valuestring;
	return true;
}

/* api_users_create - POST /api/users (admin) */
void
api_users_create(struct gw_ctx *x)
{
	const char *email, *pw, *role, *name, *phone, *cid = NULL;
	char        hash[crypto_pwhash_STRBYTES];
	PGresult   *r = NULL, *c = NULL;
	bool        utf8;

	if (!field(x, "email", true, 254, &email) || !field(x, "password", true, 256, &pw) ||
	    !field(x, "role", true, 16, &role) || !field(x, "name", false, 200, &name) ||
	    !field(x, "phone", false, 32, &phone))
		return;
	if (strchr(email, '@') == NULL || strchr(email, ' ') != NULL) {
		gw_error(x, 400, "invalid_value", "\"email\" is not an email address");
		return;
	}
	if (util_utf8_chars(pw, strlen(pw), &utf8) < 8 || !utf8) {
		gw_error(x, 400, "weak_password", "\"password\" needs at least 8 characters");
		return;
	}
	if (gw_role_bit(role) == 0) {
		gw_error(x, 400, "invalid_value",
		         "\"role\" must be admin, operator, support, kiosk or customer");
		return;
	}
	if (pw_hash(pw, hash) != 0) {
		gw_error(x, 500, "internal", "the password could not be hashed");
		return;
	}
	if (db_begin(x->w->db) < 0) {
		gw_error(x, 503, "database_unavailable", "the database is not answering");
		return;
	}
	/* A customer's phone links the login to their customer record
	 * (created when there is none yet). */
	if (strcmp(role, "customer") == 0 && phone != NULL) {
		const char *p[] = {phone, name != NULL ? name : email};

		c = db_exec(x->w->db,
		            "WITH found AS (SELECT id FROM customers WHERE phone = $1), "
		            "made AS (INSERT INTO customers (name, phone) SELECT $2, $1 "
		            "         WHERE NOT EXISTS (SELECT 1 FROM found) RETURNING id) "
		            "SELECT id FROM found UNION ALL SELECT id FROM made",
		            2, p);
		if (c == NULL || PQntuples(c) != 1)
			goto fail;
		cid = db_val(c, 0, 0);
	}
	{
		const char *p[] = {email, hash, role, name, phone, cid};

		r = db_exec(
		    x->w->db,
		    "INSERT INTO users (email, password_hash, role, name, phone, customer_id) "
		    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING "
		    "RETURNING id",
		    6, p);
	}
	if (r == NULL)
		goto fail;
	if (PQntuples(r) == 0) {
		db_rollback(x->w->db);
		PQclear(r);
		PQclear(c);
		gw_error(x, 409, "email_taken", "a user with that email already exists");
		return;
	}
	if (db_commit(x->w->db) < 0)
		goto fail;
	{
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "id", strtod(db_val(r, 0, 0), NULL));
		cJSON_AddStringToObject(o, "email", email);
		cJSON_AddStringToObject(o, "role", role);
		json_add_str(o, "name", name);
		json_add_str(o, "phone", phone);
		if (cid != NULL)
			cJSON_AddNumberToObject(o, "customer_id", strtod(cid, NULL));
		else
			cJSON_AddNullToObject(o, "customer_id");
		gw_json(x, 201, o);
	}
	PQclear(r);
	PQclear(c);
	sodium_memzero(hash, sizeof(hash));
	return;
fail:
	db_rollback(x->w->db);
	PQclear(r);
	PQclear(c);
	sodium_memzero(hash, sizeof(hash));
	gw_error(x, 503, "database_unavailable", "the user could not be stored");
}

/* ================================================================ */
/* Users (admin): list, change role or disabled, delete             */
/* ================================================================ */

/* user_id_param - the {id} of the path as text; false after answering 404 */
static bool
user_id_param(struct gw_ctx *x, char *out, size_t cap)
{
	const char *s = x->params[0];
	size_t      n = strlen(s);

	/* A bigserial id: 1..18 digits, no sign, no leading zero. */
	if (n == 0 || n > 18 || s[0] == '0' || strspn(s, "0123456789") != n) {
		gw_error(x, 404, "not_found", "no such user");
		return false;
	}
	snprintf(out, cap, "%s", s);
	return true;
}

/* user_json - one user row (id, email, role, name, phone, customer_id,
 * disabled, created_at, updated_at) as the API shows it */
#define USER_JSON                                                                                  \
	"json_build_object('id', id, 'email', email, 'role', role, 'name', name, 'phone', phone, " \
	"'customer_id', customer_id, 'disabled', disabled, 'created_at', created_at, "             \
	"'updated_at', updated_at)"

/* api_users_list - GET /api/users */
void
api_users_list(struct gw_ctx *x)
{
	PGresult *r = db_exec(x->w->db,
	                      "SELECT coalesce(json_agg(" USER_JSON " ORDER BY id), '[]')::text "
	                      "FROM users",
	                      0, NULL);
	cJSON    *o;

	if (r == NULL) {
		gw_error(x, 503, "database_unavailable", "the database is not answering");
		return;
	}
	o = cJSON_Parse(db_val(r, 0, 0));
	PQclear(r);
	gw_json(x, o != NULL ? 200 : 500, o != NULL ? o : json_error_obj("internal", "bad JSON"));
}

/*
 * users_change - run one UPDATE or DELETE of user $1 (params p, n of them)
 * in a transaction that keeps at least one active admin: every active
 * admin row is locked first, so two admins demoting each other at once are
 * serialised and the second finds itself the last.  Answers the request.
 */
static void
users_change(struct gw_ctx *x, const char *sql, int n, const char *const *p, bool is_delete)
{
	db_conn  *db = x->w->db;
	PGresult *r = NULL, *left = NULL;
	cJSON    *o;

	if (db_begin(db) < 0) {
		gw_error(x, 503, "database_unavailable", "the database is not answering");
		return;
	}
	if (db_cmd(db, "SELECT id FROM users WHERE role = 'admin' AND NOT disabled FOR UPDATE", 0,
	           NULL) < 0 ||
	    (r = db_exec(db, sql, n, p)) == NULL)
		goto fail;
	if (PQntuples(r) == 0) {
		db_rollback(db);
		PQclear(r);
		gw_error(x, 404, "not_found", "no such user");
		return;
	}
	left = db_exec(db, "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled", 0,
	               NULL);
	if (left == NULL)
		goto fail;
	if (strcmp(db_val(left, 0, 0), "0") == 0) {
		db_rollback(db);
		PQclear(r);
		PQclear(left);
		gw_error(x, 409, "last_admin",
		         "this would leave no active admin; make another user admin first");
		return;
	}
	PQclear(left);
	if (db_commit(db) < 0)
		goto fail;
	/* This gateway acts on the change at once; the others hear of it from
	 * PostgreSQL (clubos_users). */
	gw_auth_changed();
	if (is_delete) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", strtod(db_val(r, 0, 0), NULL));
		cJSON_AddBoolToObject(o, "deleted", true);
	} else
		o = cJSON_Parse(db_val(r, 0, 0));
	PQclear(r);
	gw_json(x, o != NULL ? 200 : 500, o != NULL ? o : json_error_obj("internal", "bad JSON"));
	return;
fail:
	db_rollback(db);
	PQclear(r);
	gw_error(x, 503, "database_unavailable", "the user could not be changed");
}

/* api_users_patch - PATCH /api/users/{id} {"role", "disabled"} (admin) */
void
api_users_patch(struct gw_ctx *x)
{
	const cJSON *it, *role = NULL, *dis = NULL;
	char         id[24];

	if (!user_id_param(x, id, sizeof(id)))
		return;
	cJSON_ArrayForEach(it, x->body)
	{
		if (strcmp(it->string, "role") == 0 && role == NULL)
			role = it;
		else if (strcmp(it->string, "disabled") == 0 && dis == NULL)
			dis = it;
		else {
			gw_error(x, 400, "unknown_field",
			         "only \"role\" and \"disabled\" can be changed, each once");
			return;
		}
	}
	if (role == NULL && dis == NULL) {
		gw_error(x, 400, "missing_field", "send \"role\", \"disabled\" or both");
		return;
	}
	if (role != NULL && (!cJSON_IsString(role) || gw_role_bit(role->valuestring) == 0)) {
		gw_error(x, 400, "invalid_value",
		         "\"role\" must be admin, operator, support, kiosk or customer");
		return;
	}
	if (dis != NULL && !cJSON_IsBool(dis)) {
		gw_error(x, 400, "wrong_type", "\"disabled\" must be true or false");
		return;
	}
	{
		const char *p[] = {id, role != NULL ? role->valuestring : NULL,
		                   dis == NULL         ? NULL
		                   : cJSON_IsTrue(dis) ? "t"
		                                       : "f"};

		users_change(x,
		             "UPDATE users SET role = coalesce($2, role), "
		             "disabled = coalesce($3::boolean, disabled), updated_at = now() "
		             "WHERE id = $1 RETURNING " USER_JSON "::text",
		             3, p, false);
	}
}

/* api_users_delete - DELETE /api/users/{id} (admin) */
void
api_users_delete(struct gw_ctx *x)
{
	char id[24];

	if (!user_id_param(x, id, sizeof(id)))
		return;
	{
		const char *p[] = {id};

		users_change(x, "DELETE FROM users WHERE id = $1 RETURNING id", 1, p, true);
	}
}

/* sql_json - run a query returning one JSON text column; answer it */
static void
sql_json(struct gw_ctx *x, const char *sql, int n, const char *const *p, bool notfound_if_null)
{
	PGresult *r = db_exec(x->w->db, sql, n, p);
	cJSON    *o;

	if (r == NULL) {
		gw_error(x, 503, "database_unavailable", "the database is not answering");
		return;
	}
	if (PQntuples(r) == 0 || db_null(r, 0, 0)) {
		PQclear(r);
		if (notfound_if_null)
			gw_error(x, 404, "not_found", "no such SOP");
		else
			gw_json(x, 200, cJSON_CreateArray());
		return;
	}
	o = cJSON_Parse(db_val(r, 0, 0));
	PQclear(r);
	gw_json(x, o != NULL ? 200 : 500, o != NULL ? o : json_error_obj("internal", "bad JSON"));
}

/* api_sops_list - GET /api/sops */
void
api_sops_list(struct gw_ctx *x)
{
	sql_json(x,
	         "SELECT json_agg(json_build_object('slug', s.slug, 'route', s.route, 'audience', "
	         "  s.audience, 'version', s.version, 'sha256', v.sha256, 'title', s.title, "
	         "  'escalation', s.escalation) ORDER BY s.slug)::text "
	         "FROM sops s JOIN sop_versions v ON v.slug = s.slug AND v.version = s.version",
	         0, NULL, false);
}

/* api_sop_get - GET /api/sops/{slug} */
void
api_sop_get(struct gw_ctx *x)
{
	const char *p[] = {x->params[0]};

	sql_json(
	    x,
	    "SELECT json_build_object('slug', s.slug, 'route', s.route, 'audience', s.audience, "
	    "  'version', s.version, 'sha256', v.sha256, 'content', v.content, 'title', s.title, "
	    "  'escalation', s.escalation, 'actions', s.actions, 'keywords', s.keywords, "
	    "  'author', v.author, 'updated_at', v.created_at)::text "
	    "FROM sops s JOIN sop_versions v ON v.slug = s.slug AND v.version = s.version "
	    "WHERE s.slug = $1",
	    1, p, true);
}

/* api_sop_versions - GET /api/sops/{slug}/versions */
void
api_sop_versions(struct gw_ctx *x)
{
	const char *p[] = {x->params[0]};

	sql_json(x,
	         "SELECT CASE WHEN EXISTS (SELECT 1 FROM sops WHERE slug = $1) THEN "
	         "  coalesce(json_agg(json_build_object('version', version, 'sha256', sha256, "
	         "  'author', author, 'note', note, 'created_at', created_at) ORDER BY version), "
	         "  '[]') END::text FROM sop_versions WHERE slug = $1",
	         1, p, true);
}

/* status_of - a daemon's status object, or NULL when it does not answer */
static cJSON *
status_of(struct gw_ctx *x, rpc_client *c, int op)
{
	struct rpc_reply rep = {0};
	cJSON           *o = NULL;
	const char      *why;

	if (rpc_client_peers(c) > 0 &&
	    rpc_call(c, op, x->trace_id, env_now_ms() + 300, "{}", 2, &rep) == 0 && rep.status == 0)
		o = json_parse(rep.body, rep.len, &why);
	rpc_reply_clear(&rep);
	return o;
}

/* metric - append one sample line */
static void metric(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
metric(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int     n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (*len + (size_t)n < *cap)
			break;
		char *nb = realloc(*buf, *cap * 2 + (size_t)n);

		if (nb == NULL)
			return;
		*buf = nb;
		*cap = *cap * 2 + (size_t)n;
	}
	*len += (size_t)n;
}

/* sop_feedback_metrics - helpful and unhelpful verdicts per SOP version, and proposals */
static void
sop_feedback_metrics(struct gw_ctx *x, char **buf, size_t *len, size_t *cap)
{
	PGresult *r = db_exec(x->w->db,
	                      "SELECT sop_slug, sop_version, unhelpful, total FROM sop_feedback "
	                      "ORDER BY 1, 2",
	                      0, NULL);
	PGresult *p = db_exec(
	    x->w->db, "SELECT status, count(*) FROM proposals GROUP BY 1 ORDER BY 1", 0, NULL);

	metric(buf, len, cap,
	       "# HELP clubos_sop_feedback_total Verdicts on answers, by SOP version.\n"
	       "# TYPE clubos_sop_feedback_total counter\n"
	       "# HELP clubos_sop_unhelpful_ratio Share of verdicts that were unhelpful, by SOP "
	       "version: compare a version with the one before to see whether a change helped.\n"
	       "# TYPE clubos_sop_unhelpful_ratio gauge\n");
	for (int i = 0; r != NULL && i < PQntuples(r); i++) {
		long unhelpful = atol(db_val(r, i, 2)), total = atol(db_val(r, i, 3));

		metric(buf, len, cap,
		       "clubos_sop_feedback_total{sop=\"%s\",version=\"%s\",verdict=\"helpful\"} "
		       "%ld\n"
		       "clubos_sop_feedback_total{sop=\"%s\",version=\"%s\",verdict=\"unhelpful\"} "
		       "%ld\n"
		       "clubos_sop_unhelpful_ratio{sop=\"%s\",version=\"%s\"} %.4f\n",
		       db_val(r, i, 0), db_val(r, i, 1), total - unhelpful, db_val(r, i, 0),
		       db_val(r, i, 1), unhelpful, db_val(r, i, 0), db_val(r, i, 1),
		       total > 0 ? (double)unhelpful / (double)total : 0.0);
	}
	metric(buf, len, cap,
	       "# HELP clubos_proposals Learning-loop proposals, by status.\n"
	       "# TYPE clubos_proposals gauge\n");
	for (int i = 0; p != NULL && i < PQntuples(p); i++)
		metric(buf, len, cap, "clubos_proposals{status=\"%s\"} %s\n", db_val(p, i, 0),
		       db_val(p, i, 1));
	PQclear(r);
	PQclear(p);
}

/* What /metrics learns from the router, the cache and PostgreSQL, shared
 * for HEALTH_KEEP_MS. */
static struct {
	pthread_mutex_t mu;
	int64_t         at_us;
	bool            refreshing, have;
	cJSON          *rs, *cs;
	char           *fb; /* the SOP feedback and proposal series */
} metrics_cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* metrics_remote - copies of the shared parts, refreshed when stale */
static void
metrics_remote(struct gw_ctx *x, cJSON **rs, cJSON **cs, char **fb)
{
	int64_t now = env_mono_us();

	pthread_mutex_lock(&metrics_cache.mu);
	if (!metrics_cache.have ||
	    (now - metrics_cache.at_us >= HEALTH_KEEP_MS * 1000 && !metrics_cache.refreshing)) {
		cJSON *nrs, *ncs;
		char  *nfb;
		size_t len = 0, cap = 4096;

		metrics_cache.refreshing = true;
		pthread_mutex_unlock(&metrics_cache.mu);
		nrs = status_of(x, gw.router, ENV_OP_STATUS);
		ncs = status_of(x, gw.cache, ENV_OP_CACHE_STATS);
		if ((nfb = malloc(cap)) != NULL) {
			nfb[0] = '\0';
			sop_feedback_metrics(x, &nfb, &len, &cap);
			{
				char *llm = gw_llm_metrics(x);

				if (llm != NULL)
					metric(&nfb, &len, &cap, "%s", llm);
				free(llm);
			}
		}
		pthread_mutex_lock(&metrics_cache.mu);
		cJSON_Delete(metrics_cache.rs);
		cJSON_Delete(metrics_cache.cs);
		free(metrics_cache.fb);
		metrics_cache.rs = nrs;
		metrics_cache.cs = ncs;
		metrics_cache.fb = nfb;
		metrics_cache.at_us = env_mono_us();
		metrics_cache.have = true;
		metrics_cache.refreshing = false;
	}
	*rs = cJSON_Duplicate(metrics_cache.rs, 1);
	*cs = cJSON_Duplicate(metrics_cache.cs, 1);
	*fb = metrics_cache.fb != NULL ? strdup(metrics_cache.fb) : NULL;
	pthread_mutex_unlock(&metrics_cache.mu);
}

/*
 * metrics_allowed - no token is needed from CLUBOS_METRICS_ALLOW (a direct
 * connection, not one relayed by a proxy); anyone else shows a staff
 * token.  False after answering 401 or 403.
 */
static bool
metrics_allowed(struct gw_ctx *x)
{
	if (http_header(x->req, "Authorization") == NULL &&
	    http_header(x->req, "X-Forwarded-For") == NULL) {
		const struct cfg *c = cfg_acquire();
		bool              ok = cfg_addr_allowed(c->metrics_allow, x->req->remote);

		cfg_release(c);
		if (ok)
			return true;
	}
	if (!gw_authenticate(x))
		return false;
	if ((gw_role_bit(x->role) & ROLE_STAFF) == 0) {
		gw_error(x, 403, "forbidden", "your role may not read the metrics");
		return false;
	}
	return true;
}

/* api_metrics - GET /metrics: the gateway's own, the cache tiers', the workers' */
void
api_metrics(struct gw_ctx *x)
{
	char  *buf, *fb;
	size_t len, cap;
	cJSON *rs, *cs;

	if (!metrics_allowed(x))
		return;
	metrics_remote(x, &rs, &cs, &fb);
	metrics_render(&buf, &len);
	if (buf == NULL) {
		cJSON_Delete(rs);
		cJSON_Delete(cs);
		free(fb);
		gw_error(x, 500, "internal", "out of memory");
		return;
	}
	cap = len + 1;
	metric(&buf, &len, &cap,
	       "# HELP clubos_cache_hits_total Cache hits by tier (l1 counts exact and semantic).\n"
	       "# TYPE clubos_cache_hits_total counter\n"
	       "# HELP clubos_cache_misses_total Lookups a tier could not answer.\n"
	       "# TYPE clubos_cache_misses_total counter\n"
	       "# HELP clubos_cache_evictions_total L1 entries evicted for room.\n"
	       "# TYPE clubos_cache_evictions_total counter\n"
	       "# HELP clubos_cache_hit_seconds_total Time spent in lookups that hit, by tier.\n"
	       "# TYPE clubos_cache_hit_seconds_total counter\n"
	       "# HELP clubos_cache_entries Entries held, by tier.\n"
	       "# TYPE clubos_cache_entries gauge\n"
	       "# HELP clubos_cache_remote_skipped_total L1 misses not looked up in L2/L3: a key "
	       "the remote tiers do not hold.\n"
	       "# TYPE clubos_cache_remote_skipped_total counter\n"
	       "# HELP clubos_cache_known_keys Keys the router knows L2/L3 may hold (-1 while it "
	       "is still loading them).\n"
	       "# TYPE clubos_cache_known_keys gauge\n");
	{
		/* L1 is this gateway's half (exact repeats) plus the router's;
		 * a lookup that misses here goes on to the router's half, so
		 * misses are the router's alone. */
		cJSON             *c = cJSON_GetObjectItem(rs, "cache");
		struct cache_stats f;

		front_stats(&f);
		metric(&buf, &len, &cap,
		       "clubos_cache_hits_total{tier=\"l1\",match=\"exact\"} %.0f\n"
		       "clubos_cache_hits_total{tier=\"l1\",match=\"semantic\"} %.0f\n"
		       "clubos_cache_misses_total{tier=\"l1\"} %.0f\n"
		       "clubos_cache_evictions_total{tier=\"l1\"} %.0f\n"
		       "clubos_cache_hit_seconds_total{tier=\"l1\"} %g\n"
		       "clubos_cache_entries{tier=\"l1\"} %.0f\n",
		       json_num(c, "l1_hits", 0) + (double)f.hits,
		       json_num(c, "l1_semantic_hits", 0), json_num(c, "l1_misses", 0),
		       json_num(c, "l1_evictions", 0) + (double)f.evictions,
		       (json_num(c, "l1_hit_us_total", 0) + (double)f.hit_us_total) / 1e6,
		       json_num(c, "l1_entries", 0) + (double)f.entries);
		metric(&buf, &len, &cap,
		       "clubos_cache_remote_skipped_total %.0f\n"
		       "clubos_cache_known_keys %.0f\n",
		       json_num(c, "remote_skipped", 0),
		       json_bool(c, "known_complete", false) ? json_num(c, "known_keys", 0) : -1.0);
	}
	for (int t = 0; t < 2 && cJSON_IsObject(cs); t++) {
		const char *tier = t == 0 ? "l2" : "l3";
		cJSON      *c = cJSON_GetObjectItem(cs, tier);

		metric(&buf, &len, &cap,
		       "clubos_cache_hits_total{tier=\"%s\",match=\"exact\"} %.0f\n"
		       "clubos_cache_misses_total{tier=\"%s\"} %.0f\n"
		       "clubos_cache_hit_seconds_total{tier=\"%s\"} %g\n",
		       tier, json_num(c, "hits", 0), tier, json_num(c, "misses", 0), tier,
		       json_num(c, "hit_us_total", 0) / 1e6);
		if (t == 1)
			metric(&buf, &len, &cap, "clubos_cache_entries{tier=\"l3\"} %.0f\n",
			       json_num(c, "entries", 0));
	}
	{
		cJSON *w = cJSON_GetObjectItem(rs, "workers"), *it;

		metric(&buf, &len, &cap,
		       "# HELP clubos_workers Assistant workers connected, by route.\n"
		       "# TYPE clubos_workers gauge\n");
		cJSON_ArrayForEach(it, w)
		    metric(&buf, &len, &cap, "clubos_workers{route=\"%s\"} %d\n", it->string,
		           it->valueint);
		w = cJSON_GetObjectItem(rs, "inflight");
		metric(&buf, &len, &cap,
		       "# HELP clubos_route_inflight Requests the router has handed to a route's "
		       "workers and not yet had answered.\n"
		       "# TYPE clubos_route_inflight gauge\n");
		cJSON_ArrayForEach(it, w)
		    metric(&buf, &len, &cap, "clubos_route_inflight{route=\"%s\"} %d\n", it->string,
		           it->valueint);
	}
	if (fb != NULL)
		metric(&buf, &len, &cap, "%s", fb);
	free(fb);
	cJSON_Delete(rs);
	cJSON_Delete(cs);
	x->res->body = buf;
	x->res->len = len;
	x->res->status = 200;
	x->res->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/*
 * The console's files (gateway/web/): the shell is plain ES modules, served
 * as they are.  Every file carries the Content-Security-Policy (only our
 * own scripts, styles and connections; no inline code) and an ETag, and is
 * revalidated on each use (no-cache), so a changed file is seen at once and
 * an unchanged one costs a 304.
 */
#define WEB_CSP                                                                                    \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"connect-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; "          \
	"base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

static const struct {
	const char *path, *file, *type;
} web_files[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/api.js", "api.js", "text/javascript; charset=utf-8"},
    {"/dom.js", "dom.js", "text/javascript; charset=utf-8"},
    {"/diff.js", "diff.js", "text/javascript; charset=utf-8"},
    {"/chart.js", "chart.js", "text/javascript; charset=utf-8"},
    {"/live.js", "live.js", "text/javascript; charset=utf-8"},
    {"/views.js", "views.js", "text/javascript; charset=utf-8"},
    {"/views2.js", "views2.js", "text/javascript; charset=utf-8"},
    {"/style.css", "style.css", "text/css; charset=utf-8"},
    {"/sw.js", "sw.js", "text/javascript; charset=utf-8"},
    {"/manifest.webmanifest", "manifest.webmanifest", "application/manifest+json"},
    {"/icon.svg", "icon.svg", "image/svg+xml"},
};

/* web_etag_match - does If-None-Match name this ETag (or "*")? */
static bool
web_etag_match(const char *inm, const char *etag)
{
	size_t n = strlen(etag);

	for (const char *p = inm; p != NULL && *p != '\0';) {
		p += strspn(p, " ,");
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p == '*' ||
		    (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' ')))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

/* api_web - the console's static files, with CSP, ETag and revalidation */
void
api_web(struct gw_ctx *x)
{
	char path[512], hex[65], etag[24];

	for (size_t i = 0; i < sizeof(web_files) / sizeof(web_files[0]); i++) {
		if (strcmp(web_files[i].path, x->req->path) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", gw.cfg->web_dir, web_files[i].file);
		if ((x->res->body = util_read_file(path, 1 << 20, &x->res->len)) == NULL)
			break;
		util_sha256_hex(x->res->body, x->res->len, hex);
		snprintf(etag, sizeof(etag), "\"%.16s\"", hex);
		http_res_header(x->res, "Cache-Control", "no-cache");
		http_res_header(x->res, "ETag", etag);
		http_res_header(x->res, "Content-Security-Policy", WEB_CSP);
		http_res_header(x->res, "Referrer-Policy", "no-referrer");
		x->res->content_type = web_files[i].type;
		x->res->status = 200;
		if (web_etag_match(http_header(x->req, "If-None-Match"), etag)) {
			free(x->res->body);
			x->res->body = NULL;
			x->res->len = 0;
			x->res->status = 304;
		}
		return;
	}
	gw_error(x, 404, "not_found", "no such file");
}
