/*
 * clubos-gateway - the HTTP front door
 *
 * Every request goes through the same steps, in gw_handle(): a trace id,
 * the route table (404/405), the token and the role, the rate limits, the
 * body (415/400), then the handler.  Every response, error or not, carries
 * X-Trace-Id, and every error has the contract's shape.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/bus.h"
#include "common/daemon.h"
#include "common/env.h"
#include "common/json.h"
#include "common/jwt.h"
#include "common/log.h"
#include "common/trace.h"
#include "common/util.h"
#include "gateway/gw.h"

struct gw_state gw;

static httpd      *gw_httpd;
static bus_sub    *gw_events;
static pthread_t   gw_events_thr;
static atomic_bool gw_stopping;

/* The route table: method, path pattern (":x" matches one segment), who may
 * call it, whether it takes a JSON body, and the handler. */
static const struct gw_route {
	const char *method;
	const char *pattern;
	int         roles;
	bool        body;
	bool        limited;
	void (*fn)(struct gw_ctx *);
} gw_routes[] = {
    {"GET", "/", ROLE_NONE, false, false, api_web},
    {"GET", "/app.js", ROLE_NONE, false, false, api_web},
    {"GET", "/api.js", ROLE_NONE, false, false, api_web},
    {"GET", "/dom.js", ROLE_NONE, false, false, api_web},
    {"GET", "/diff.js", ROLE_NONE, false, false, api_web},
    {"GET", "/chart.js", ROLE_NONE, false, false, api_web},
    {"GET", "/live.js", ROLE_NONE, false, false, api_web},
    {"GET", "/views.js", ROLE_NONE, false, false, api_web},
    {"GET", "/views2.js", ROLE_NONE, false, false, api_web},
    {"GET", "/style.css", ROLE_NONE, false, false, api_web},
    {"GET", "/sw.js", ROLE_NONE, false, false, api_web},
    {"GET", "/manifest.webmanifest", ROLE_NONE, false, false, api_web},
    {"GET", "/icon.svg", ROLE_NONE, false, false, api_web},
    {"GET", "/api/health", ROLE_NONE, false, true, api_health},
    /* Probes a platform polls: nothing but a flag or a counter read. */
    {"GET", "/api/health/live", ROLE_NONE, false, false, api_health_live},
    {"GET", "/api/health/ready", ROLE_NONE, false, false, api_health_ready},
    {"POST", "/api/auth/login", ROLE_NONE, true, true, api_login},
    {"POST", "/api/users", ROLE_ADMIN, true, true, api_users_create},
    {"GET", "/api/users", ROLE_ADMIN, false, true, api_users_list},
    {"PATCH", "/api/users/:id", ROLE_ADMIN, true, true, api_users_patch},
    {"DELETE", "/api/users/:id", ROLE_ADMIN, false, true, api_users_delete},
    {"POST", "/api/query", ROLE_ANY, true, true, api_query},
    {"POST", "/api/feedback", ROLE_ANY, true, true, api_feedback},
    {"GET", "/api/traces/:id", ROLE_STAFF, false, true, api_trace_get},
    {"GET", "/api/sops", ROLE_STAFF, false, true, api_sops_list},
    {"GET", "/api/sops/:slug", ROLE_STAFF, false, true, api_sop_get},
    {"GET", "/api/sops/:slug/versions", ROLE_STAFF, false, true, api_sop_versions},
    {"GET", "/api/sops/:slug/versions/:version", ROLE_STAFF, false, true, api_sop_version_get},
    {"PUT", "/api/sops/:slug", ROLE_ADMIN, true, true, api_sop_put},
    {"POST", "/api/sops/:slug/rollback", ROLE_ADMIN, true, true, api_sop_rollback},
    {"GET", "/api/examples", ROLE_STAFF, false, true, api_examples_list},
    {"POST", "/api/examples", ROLE_ADMIN, true, true, api_examples_add},
    {"DELETE", "/api/examples/:id", ROLE_ADMIN, false, true, api_examples_delete},
    {"POST", "/api/intelligence/analyze", ROLE_ADMIN, false, true, api_intel_analyze},
    {"GET", "/api/intelligence/proposals", ROLE_STAFF, false, true, api_intel_proposals},
    {"GET", "/api/intelligence/proposals/:id", ROLE_STAFF, false, true, api_intel_proposal},
    {"POST", "/api/intelligence/proposals/:id/approve", ROLE_ADMIN, false, true, api_intel_approve},
    {"POST", "/api/intelligence/proposals/:id/reject", ROLE_ADMIN, false, true, api_intel_reject},
    {"POST", "/api/knowledge/ingest", ROLE_ADMIN, true, true, api_knowledge_ingest},
    {"GET", "/api/actions", ROLE_STAFF, false, true, api_actions_list},
    {"POST", "/api/actions/:id/approve", ROLE_ADMIN | ROLE_OPERATOR, false, true,
     api_action_approve},
    {"POST", "/api/actions/:id/cancel", ROLE_ADMIN | ROLE_OPERATOR, false, true, api_action_cancel},
    {"GET", "/api/tickets", ROLE_STAFF, false, true, api_tickets_list},
    {"GET", "/api/tickets/:id", ROLE_STAFF, false, true, api_ticket_get},
    {"PATCH", "/api/tickets/:id", ROLE_STAFF, true, true, api_ticket_patch},
    {"POST", "/api/webhooks/slack", ROLE_NONE, false, true, api_slack_webhook},
    {"POST", "/api/webhooks/openphone", ROLE_NONE, false, true, api_openphone_webhook},
    {"GET", "/api/conversations", ROLE_STAFF, false, true, api_conversations_list},
    {"GET", "/api/conversations/:id", ROLE_STAFF, false, true, api_conversation_get},
    {"POST", "/api/conversations/:id/messages", ROLE_STAFF, true, true, api_conversation_reply},
    {"POST", "/api/conversations/:id/release", ROLE_STAFF, false, true, api_conversation_release},
    {"POST", "/api/conversations/:id/close", ROLE_STAFF, false, true, api_conversation_close},
    {"POST", "/api/conversations/:id/messages/:mid/send", ROLE_STAFF, false, true, api_draft_send},
    {"POST", "/api/conversations/:id/messages/:mid/discard", ROLE_STAFF, false, true,
     api_draft_discard},
    {"GET", "/api/settings", ROLE_ADMIN, false, true, api_settings_get},
    {"PATCH", "/api/settings", ROLE_ADMIN, true, true, api_settings_patch},
    {"GET", "/api/settings/history", ROLE_ADMIN, false, true, api_settings_history},
    {"GET", "/api/llm/stats", ROLE_ADMIN, false, true, api_llm_stats},
    {"GET", "/api/dashboard", ROLE_STAFF, false, true, api_dashboard},
    {"GET", "/api/events", ROLE_STAFF, false, true, api_events},
    {"GET", "/metrics", ROLE_NONE, false, true, api_metrics},
};
#define GW_NROUTES (sizeof(gw_routes) / sizeof(gw_routes[0]))

/* gw_json - send a JSON object (takes ownership) */
void
gw_json(struct gw_ctx *x, int status, cJSON *o)
{
	x->res->status = status;
	x->res->body = o != NULL ? json_print(o) : NULL;
	x->res->len = x->res->body != NULL ? strlen(x->res->body) : 0;
	if (o != NULL && x->res->body == NULL) {
		x->res->status = 500;
		x->res->body =
		    strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
		x->res->len = x->res->body ? strlen(x->res->body) : 0;
	}
	cJSON_Delete(o);
}

/* gw_error - send the contract's error shape */
void
gw_error(struct gw_ctx *x, int status, const char *code, const char *message)
{
	gw_json(x, status, json_error_obj(code, message));
}

/*
 * gw_json_row - answer a statement whose one row, one column is JSON text:
 * status with it, 404 (missing) without a row, the database's error when
 * r is NULL.  Takes r.
 */
void
gw_json_row(struct gw_ctx *x, PGresult *r, int status, const char *missing)
{
	const char *why;
	cJSON      *o;

	if (r == NULL) {
		gw_db_error(x, x->w->db);
		return;
	}
	if (PQntuples(r) == 0 || db_null(r, 0, 0)) {
		PQclear(r);
		gw_error(x, 404, "not_found", missing);
		return;
	}
	o = json_parse(db_val(r, 0, 0), strlen(db_val(r, 0, 0)), &why);
	PQclear(r);
	if (o == NULL) {
		gw_error(x, 500, "internal", "the record could not be read");
		return;
	}
	gw_json(x, status, o);
}

/*
 * gw_intel_call - ask clubos-intelligence (body taken); its JSON answer, or
 * NULL after answering the request with the error.  Nobody connected: 503
 * after GW_INTEL_FIRST_WAIT_MS (a restart in progress is waited for, briefly).  The owner died
 * holding the request (the call fails for want of a peer although one had it): asked again, with
 * the same trace id, once it is back (within the deadline): it makes a change once per request id,
 * so the answer is the change made once, whatever step the crash
 * interrupted.
 */
cJSON *
gw_intel_call(struct gw_ctx *x, int op, cJSON *body, int deadline_ms)
{
	struct rpc_reply rep = {0};
	const char      *why;
	char            *text = body != NULL ? json_print(body) : NULL;
	uint64_t         deadline = env_now_ms() + (uint64_t)deadline_ms;
	cJSON           *o;
	int              rc = RPC_ENOPEER;

	cJSON_Delete(body);
	if (text == NULL) {
		gw_error(x, 500, "internal", "out of memory");
		return NULL;
	}
	for (int attempt = 0; attempt < GW_INTEL_ATTEMPTS; attempt++) {
		uint64_t wait = env_now_ms() + GW_INTEL_FIRST_WAIT_MS;

		if (!rpc_client_wait_peer(gw.intel,
		                          attempt == 0 && wait < deadline ? wait : deadline))
			break;
		rpc_reply_clear(&rep);
		rc = rpc_call(gw.intel, op, x->trace_id, deadline, text, strlen(text), &rep);
		if (rc != RPC_ENOPEER)
			break;
		log_msg(LOG_WARN, x->trace_id,
		        "clubos-intelligence went away mid-request; asking again");
	}
	free(text);
	if (rc != 0) {
		rpc_reply_clear(&rep);
		gw_error(x, 503, "intelligence_unavailable",
		         "the knowledge service (clubos-intelligence) is not answering");
		return NULL;
	}
	if ((o = json_parse(rep.body, rep.len, &why)) == NULL) {
		rpc_reply_clear(&rep);
		gw_error(x, 502, "bad_reply", "the knowledge service sent an unreadable answer");
		return NULL;
	}
	if (rep.status != 0) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
		const char  *code = json_str(e, "code"), *msg = json_str(e, "message");

		gw_error(x, rep.status, code ? code : "intelligence_error",
		         msg ? msg : "the knowledge service failed");
		cJSON_Delete(o);
		o = NULL;
	}
	rpc_reply_clear(&rep);
	return o;
}

/* gw_query_param - the value of name in a query string (no decoding: slugs and words) */
bool
gw_query_param(const char *q, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);

	while (q != NULL && *q) {
		if (strncmp(q, name, n) == 0 && q[n] == '=') {
			const char *v = q + n + 1;
			size_t      k;

			if (cap == 0)
				return true;
			/* Cut to what fits, at a character boundary. */
			k = util_utf8_prefix(v, strcspn(v, "&"), SIZE_MAX, cap - 1);
			memcpy(out, v, k);
			out[k] = '\0';
			return true;
		}
		q = strchr(q, '&');
		if (q != NULL)
			q++;
	}
	return false;
}

/* gw_role_bit - the bit of a role name, 0 if unknown */
int
gw_role_bit(const char *role)
{
	static const struct {
		const char *name;
		int         bit;
	} t[] = {{"admin", ROLE_ADMIN},
	         {"operator", ROLE_OPERATOR},
	         {"support", ROLE_SUPPORT},
	         {"kiosk", ROLE_KIOSK},
	         {"customer", ROLE_CUSTOMER}};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (role != NULL && strcmp(t[i].name, role) == 0)
			return t[i].bit;
	return 0;
}

/* gw_audience - customer, staff or admin: what an SOP's audience is checked against */
const char *
gw_audience(const char *role)
{
	int b = gw_role_bit(role);

	if (b == ROLE_ADMIN)
		return "admin";
	if (b & (ROLE_OPERATOR | ROLE_SUPPORT))
		return "staff";
	return "customer";
}

/* match - does path fit pattern?  Captures up to two :params. */
static bool
match(const char *pattern, const char *path, struct gw_ctx *x)
{
	int np = 0;

	while (*pattern && *path) {
		if (*pattern == ':') {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= sizeof(x->pbuf[0]) || np == 2)
				return false;
			memcpy(x->pbuf[np], path, n);
			x->pbuf[np][n] = '\0';
			x->params[np] = x->pbuf[np];
			np++;
			path += n;
			pattern += strcspn(pattern, "/");
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return *pattern == '\0' && *path == '\0';
}

/* client_addr - the address limits apply to (a trusted proxy's XFF, if any) */
static void
client_addr(const struct http_req *req, char *out, size_t cap)
{
	const char *xff = http_header(req, "X-Forwarded-For");

	snprintf(out, cap, "%s", req->remote);
	if (xff == NULL || *gw.cfg->trusted_proxies == '\0')
		return;
	/* Only a configured proxy may speak for the client: then the last
	 * address it appended is the one it saw. */
	{
		char list[512], *save = NULL, *tok;
		bool trusted = false;

		snprintf(list, sizeof(list), "%s", gw.cfg->trusted_proxies);
		for (tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
			if (strcmp(tok, req->remote) == 0)
				trusted = true;
		if (!trusted)
			return;
	}
	{
		const char *last = strrchr(xff, ',');

		last = last != NULL ? last + 1 : xff;
		while (*last == ' ')
			last++;
		snprintf(out, cap, "%.*s", (int)strcspn(last, " "), last);
	}
}

/* limited - take a token for key; on refusal answer 429 and return true */
static bool
limited(struct gw_ctx *x, const char *key, const rl_rule *rule)
{
	struct timespec ts;
	double          retry = 0;
	char            ra[32];

	if (gw.rl_off || gw.rl == NULL)
		return false;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (rl_take(gw.rl, key, rule, (double)ts.tv_sec + ts.tv_nsec / 1e9, &retry) != 0)
		return false;
	snprintf(ra, sizeof(ra), "%d", retry < 1 ? 1 : (int)ceil(retry));
	http_res_header(x->res, "Retry-After", ra);
	metrics_rate_limited();
	gw_error(x, 429, "rate_limited",
	         "too many requests; try again after the Retry-After delay");
	return true;
}

/*
 * The live user behind a token: one lookup by primary key per authenticated
 * request, as a statement prepared once per connection.  Each HTTP worker
 * thread owns one connection and remembers which one it prepared on; should
 * the server still not know the name (a reconnect that reused the address),
 * it says so with SQLSTATE 26000 and the statement is prepared again.
 */
#define AUTH_STMT "gw_auth_user"
#define AUTH_SQL "SELECT role, disabled FROM users WHERE id = $1"

/* After the database failed to answer, a worker does not try again for
 * AUTH_RETRY_US: a reconnect per request would make every question of an
 * outage wait on a connect. */
#define AUTH_RETRY_US 1000000

static _Thread_local PGconn *auth_prepared_on;
static _Thread_local int64_t auth_down_until_us;

/*
 * What the lookup said, kept so that a cache hit costs no round trip: an
 * entry is used while the gateway listens on clubos_users (migration 0016:
 * every update or delete of a user is announced there) and for
 * AUTH_CACHE_MS at most.  Any change to a user, an announcement or a new
 * listening connection (which may have missed some) starts a new epoch,
 * and an entry of an older epoch is never used; users change seldom, so
 * forgetting them all costs little.  While nobody listens, nothing is
 * kept.  Direct-mapped by id: a collision only costs a lookup.
 */
#define AUTH_CACHE_SLOTS 4096
#define AUTH_CACHE_MS 10000

static struct {
	pthread_mutex_t mu;
	atomic_bool     live;  /* LISTEN clubos_users holds on events_main's connection */
	atomic_long     epoch; /* bumped by any change to a user (see above) */
	struct auth_entry {
		int64_t id; /* 0 = empty */
		char    role[16];
		bool    disabled;
		long    epoch;
		int64_t at_us;
	} e[AUTH_CACHE_SLOTS];
} auth_cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* auth_cached - a kept answer for id: true with role and *disabled set */
static bool
auth_cached(int64_t id, char *role, size_t cap, bool *disabled)
{
	struct auth_entry *a = &auth_cache.e[(uint64_t)id % AUTH_CACHE_SLOTS];
	bool               hit;

	if (!atomic_load(&auth_cache.live))
		return false;
	pthread_mutex_lock(&auth_cache.mu);
	hit = a->id == id && a->epoch == atomic_load(&auth_cache.epoch) &&
	      env_mono_us() - a->at_us < (int64_t)AUTH_CACHE_MS * 1000;
	if (hit) {
		snprintf(role, cap, "%s", a->role);
		*disabled = a->disabled;
	}
	pthread_mutex_unlock(&auth_cache.mu);
	return hit;
}

/* auth_keep - remember what the database said of id (epoch: as read before the lookup) */
static void
auth_keep(int64_t id, const char *role, bool disabled, long epoch)
{
	struct auth_entry *a = &auth_cache.e[(uint64_t)id % AUTH_CACHE_SLOTS];

	if (!atomic_load(&auth_cache.live))
		return;
	pthread_mutex_lock(&auth_cache.mu);
	a->id = id;
	snprintf(a->role, sizeof(a->role), "%s", role);
	a->disabled = disabled;
	a->epoch = epoch;
	a->at_us = env_mono_us();
	pthread_mutex_unlock(&auth_cache.mu);
}

/*
 * gw_auth_changed - a user changed: nothing kept so far is used again.  A
 * lookup under way stores its answer under the epoch it read before it
 * asked, so an answer read before the change is never used either.
 */
void
gw_auth_changed(void)
{
	atomic_fetch_add(&auth_cache.epoch, 1);
}

/* auth_listen - keep LISTEN clubos_users on db and act on what it heard (events_main, each turn) */
static void
auth_listen(db_conn *db, unsigned long *seen)
{
	PGconn       *pg;
	PGnotify     *nt;
	unsigned long before = *seen;
	bool          heard = false;

	if (db == NULL || !db_listen(db, "clubos_users", seen)) {
		atomic_store(&auth_cache.live, false);
		return;
	}
	pg = db_pg(db);
	if (PQconsumeInput(pg) == 0 || PQstatus(pg) != CONNECTION_OK) {
		atomic_store(&auth_cache.live, false);
		return;
	}
	while ((nt = PQnotifies(pg)) != NULL) {
		heard = heard || strcmp(nt->relname, "clubos_users") == 0;
		PQfreemem(nt);
	}
	/* A new connection (here, or a reconnect inside another query) did not
	 * hear what was said while it was away: nothing kept before counts. */
	if (heard || *seen != before || !atomic_load(&auth_cache.live)) {
		gw_auth_changed();
		atomic_store(&auth_cache.live, true);
	}
}

/*
 * auth_lookup - the user's current role and whether they may act: 1 found
 * (role copied, *disabled set), 0 no such user, -1 the database did not
 * answer.
 */
static int
auth_lookup(struct gw_ctx *x, int64_t id, char *role, size_t cap, bool *disabled)
{
	char        idtxt[24];
	const char *p[] = {idtxt};
	PGconn     *pg;
	PGresult   *r = NULL;
	long        epoch = atomic_load(&auth_cache.epoch);
	int         rc;

	if (auth_cached(id, role, cap, disabled))
		return 1;
	if (x->w == NULL || x->w->db == NULL || env_mono_us() < auth_down_until_us)
		return -1;
	if (!db_ok(x->w->db))
		goto down;
	pg = db_pg(x->w->db);
	snprintf(idtxt, sizeof(idtxt), "%lld", (long long)id);
	if (pg != auth_prepared_on) {
		r = PQprepare(pg, AUTH_STMT, AUTH_SQL, 1, NULL);
		if (PQresultStatus(r) == PGRES_COMMAND_OK)
			auth_prepared_on = pg;
		PQclear(r);
		r = NULL;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		const char *state;

		r = PQexecPrepared(pg, AUTH_STMT, 1, p, NULL, NULL, 0);
		if (PQresultStatus(r) == PGRES_TUPLES_OK)
			break;
		state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		PQclear(r);
		r = NULL;
		if (attempt == 0 && PQstatus(pg) == CONNECTION_BAD) {
			/* The server restarted under an idle connection: a read is safe
			 * to ask again on a new one (prepared statements went with it). */
			PQreset(pg);
			if (PQstatus(pg) != CONNECTION_OK)
				goto down;
			state = "26000";
		}
		if (attempt > 0 || state == NULL || strcmp(state, "26000") != 0)
			goto down;
		r = PQprepare(pg, AUTH_STMT, AUTH_SQL, 1, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			log_warn("auth: prepare failed: %s", PQresultErrorMessage(r));
			PQclear(r);
			goto down;
		}
		PQclear(r);
		r = NULL;
	}
	if (r == NULL)
		goto down;
	rc = 0;
	if (PQntuples(r) == 1) {
		snprintf(role, cap, "%s", db_val(r, 0, 0));
		*disabled = strcmp(db_val(r, 0, 1), "t") == 0;
		auth_keep(id, role, *disabled, epoch);
		rc = 1;
	}
	PQclear(r);
	return rc;
down:
	auth_down_until_us = env_mono_us() + AUTH_RETRY_US;
	return -1;
}

/*
 * authenticate - Bearer token to user id and role; false after answering.
 *
 * The signature says who the token was given to; the users table says what
 * they may do now.  A deleted or disabled user's token is refused (401), and
 * a user whose role changed acts with the new role at once.  When the
 * database does not answer, POST /api/query still runs on the token's signed
 * claims (an emergency must never wait on PostgreSQL); every other route
 * answers 503.
 */
static bool
authenticate(struct gw_ctx *x, const struct gw_route *route)
{
	const char *h = http_header(x->req, "Authorization"), *why = NULL;
	jwt_claims  c;
	char        role[16];
	bool        disabled = false;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		gw_error(x, 401, "unauthenticated", "a bearer token is required");
		return false;
	}
	if (jwt_verify(gw.jwt_key, gw.jwt_keylen, h + 7, (int64_t)time(NULL), &c, &why) != 0) {
		if (strcmp(why, "expired") == 0)
			gw_error(x, 401, "token_expired", "the token has expired; log in again");
		else if (strcmp(why, "not_yet_valid") == 0)
			gw_error(x, 401, "token_not_yet_valid", "the token is not valid yet");
		else
			gw_error(x, 401, "invalid_token", "the token is not valid");
		return false;
	}
	x->user_id = strtoll(c.sub, NULL, 10);
	switch (auth_lookup(x, x->user_id, role, sizeof(role), &disabled)) {
	case 1:
		if (disabled) {
			gw_error(x, 401, "account_disabled", "this account is disabled");
			return false;
		}
		break;
	case 0:
		gw_error(x, 401, "invalid_token", "the token's user no longer exists");
		return false;
	default:
		if (route == NULL || route->fn != api_query) {
			gw_error(x, 503, "database_unavailable",
			         "the database is not answering; only questions are served");
			return false;
		}
		/* One line every 10 s, not one per request of an outage. */
		{
			static _Atomic int64_t logged_us;
			int64_t                t = env_mono_us(), last = atomic_load(&logged_us);

			if (t - last > 10000000 &&
			    atomic_compare_exchange_strong(&logged_us, &last, t))
				log_msg(LOG_WARN, x->trace_id,
				        "auth: the database is not answering; queries run on "
				        "their tokens' claims");
		}
		snprintf(role, sizeof(role), "%s", c.role);
	}
	snprintf(x->rolebuf, sizeof(x->rolebuf), "%s", role);
	x->role = x->rolebuf;
	return true;
}

/* gw_authenticate - authenticate for a handler that decides itself
 * whether it needs a token (GET /metrics); false after answering 401 */
bool
gw_authenticate(struct gw_ctx *x)
{
	return authenticate(x, NULL);
}

/* json_content_type - is the request's Content-Type JSON? */
static bool
json_content_type(const struct http_req *req)
{
	const char *ct = http_header(req, "Content-Type");

	return ct != NULL && strncasecmp(ct, "application/json", 16) == 0 &&
	       (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ');
}

/* framing_error - errors found before a request could be read */
static void
framing_error(struct gw_ctx *x)
{
	switch (x->res->status) {
	case 413:
		gw_error(x, 413, "body_too_large", "the request body is too large");
		break;
	case 431:
		gw_error(x, 431, "headers_too_large", "the request headers are too large");
		break;
	case 411:
		gw_error(x, 411, "length_required", "send the body with a Content-Length");
		break;
	case 408:
		gw_error(x, 408, "request_timeout", "the request did not arrive in time");
		break;
	case 501:
		gw_error(x, 501, "not_implemented", "that transfer coding is not supported");
		break;
	case 503:
		gw_error(x, 503, "overloaded", "the server is busy; try again after Retry-After");
		break;
	case 505:
		gw_error(x, 505, "http_version_not_supported", "send HTTP/1.1");
		break;
	default:
		gw_error(x, 400, "bad_http", "the request is not valid HTTP/1.1");
	}
}

/* gw_handle - every request passes here */
static void
gw_handle(void *arg, void *worker, const struct http_req *req, struct http_res *res)
{
	struct gw_ctx          x = {.req = req, .res = res, .w = worker};
	const struct gw_route *r = NULL;
	bool                   path_known = false;
	char                   key[160];

	(void)arg;
	x.t0_us = env_mono_us();
	trace_new_id(x.trace_id);
	http_res_header(res, "X-Trace-Id", x.trace_id);
	if (req->method == NULL) {
		framing_error(&x);
		goto done;
	}
	/* The path and query reach SQL as slugs and ids: strict UTF-8 only. */
	if (!util_utf8_valid(req->path, strlen(req->path)) ||
	    !util_utf8_valid(req->query, strlen(req->query))) {
		gw_error(&x, 400, "invalid_utf8", "the request path is not valid UTF-8");
		goto done;
	}
	for (size_t i = 0; i < GW_NROUTES; i++) {
		if (!match(gw_routes[i].pattern, req->path, &x))
			continue;
		path_known = true;
		if (strcmp(gw_routes[i].method, req->method) == 0) {
			r = &gw_routes[i];
			break;
		}
	}
	if (r == NULL) {
		if (path_known)
			gw_error(&x, 405, "method_not_allowed",
			         "this path does not take that method");
		else
			gw_error(&x, 404, "not_found", "no such endpoint");
		goto done;
	}
	client_addr(req, x.addr, sizeof(x.addr));
	/* The rule is part of a bucket's name: gateways sharing a Redis
	 * share buckets only when they enforce the same limit. */
	snprintf(key, sizeof(key), "ip:%g/%g:%s", gw.rl_addr.burst, gw.rl_addr.rate, x.addr);
	if (r->limited && limited(&x, key, &gw.rl_addr))
		goto done;
	if (r->roles != ROLE_NONE) {
		if (!authenticate(&x, r))
			goto done;
		if ((gw_role_bit(x.role) & r->roles) == 0) {
			gw_error(&x, 403, "forbidden", "your role may not do this");
			goto done;
		}
		snprintf(key, sizeof(key), "user:%g/%g:%lld", gw.rl_user.burst, gw.rl_user.rate,
		         (long long)x.user_id);
		if (r->limited && limited(&x, key, &gw.rl_user))
			goto done;
	}
	if (r->body) {
		const char *why;

		if (!json_content_type(req)) {
			gw_error(&x, 415, "unsupported_media_type",
			         "send the body as application/json");
			goto done;
		}
		if (req->body_len > GW_MAX_BODY && r->fn != api_knowledge_ingest) {
			gw_error(&x, 413, "body_too_large",
			         "the request body is larger than 64 KiB");
			goto done;
		}
		if ((x.body = json_parse(req->body, req->body_len, &why)) == NULL) {
			gw_error(&x, 400, "malformed_json", why);
			goto done;
		}
		if (!cJSON_IsObject(x.body)) {
			gw_error(&x, 400, "bad_request", "the body must be a JSON object");
			goto done;
		}
	}
	r->fn(&x);
done:
	/* Draining: a kept-alive client is sent to reconnect, through the
	 * load balancer, to a gateway that is staying. */
	if (atomic_load(&gw.draining))
		res->close = true;
	if (res->status >= 500 && req->method != NULL &&
	    (r == NULL || (r->fn != api_health && r->fn != api_health_ready)))
		/* shed load is counted, not logged; a readiness probe says it itself */
		log_msg(LOG_WARN, x.trace_id, "%s %s -> %d", req->method ? req->method : "-",
		        req->path ? req->path : "-", res->status);
	metrics_request(r != NULL ? r->pattern : "unmatched", res->status, env_mono_us() - x.t0_us);
	trace_end();
	cJSON_Delete(x.body);
}

/* worker_init - each HTTP worker thread's own connections */
static void *
worker_init(void *arg, int idx)
{
	(void)arg;
	(void)idx;
	return conns_open(gw.cfg, 200);
}

/* worker_fini - close them */
static void
worker_fini(void *arg, void *worker)
{
	(void)arg;
	conns_close(worker);
}

/* parse_rate_limit - "off", "default" or "ADDR_PER_MIN,USER_PER_MIN" */
static int
parse_rate_limit(const char *s, char *err, size_t errlen)
{
	double a = 600, u = 120;

	gw.rl_off = false;
	if (strcmp(s, "off") == 0) {
		gw.rl_off = true;
		return 0;
	}
	if (strcmp(s, "default") != 0 && (sscanf(s, "%lf,%lf", &a, &u) != 2 || a < 1 || u < 1)) {
		snprintf(err, errlen,
		         "CLUBOS_RATE_LIMIT must be off, default, or "
		         "ADDR_PER_MIN,USER_PER_MIN (e.g. 600,120)");
		return -1;
	}
	gw.rl_addr = (rl_rule){.rate = a / 60.0, .burst = a};
	gw.rl_user = (rl_rule){.rate = u / 60.0, .burst = u};
	return 0;
}

/* gw_check - settings that only the gateway reads */
static int
gw_check(const struct cfg *c, char *err, size_t errlen)
{
	size_t keylen = strlen(c->jwt_secret);

	/* There is no built-in secret: a published one lets anyone mint an
	 * admin token.  make up generates one and keeps it in var/jwt-secret. */
	if (keylen == 0) {
		snprintf(err, errlen,
		         "no JWT secret: set CLUBOS_JWT_SECRET to %d or more random characters "
		         "(make up generates one in var/jwt-secret)",
		         JWT_MIN_KEY);
		return -1;
	}
	if (keylen < JWT_MIN_KEY || keylen > sizeof(gw.jwt_key)) {
		snprintf(err, errlen, "CLUBOS_JWT_SECRET must be %d to %zu characters long",
		         JWT_MIN_KEY, sizeof(gw.jwt_key));
		return -1;
	}
	return parse_rate_limit(c->rate_limit, err, errlen);
}

/* gw_kgen_seen - move to a newer knowledge generation (never back) */
void
gw_kgen_seen(long long g)
{
	long long cur = atomic_load(&gw.kgen);

	while (g > cur) {
		if (atomic_compare_exchange_weak(&gw.kgen, &cur, g)) {
			front_generation();
			return;
		}
	}
}

/* kgen_poll - the knowledge generation as PostgreSQL has it (the bus can lose events) */
static void
kgen_poll(db_conn *db)
{
	PGresult *r = db_exec(db, "SELECT gen FROM knowledge_generation WHERE id = 1", 0, NULL);

	if (r != NULL && PQntuples(r) == 1)
		gw_kgen_seen(strtoll(db_val(r, 0, 0), NULL, 10));
	PQclear(r);
}

/*
 * events_main - keep the knowledge generation current: from sop.changed and
 * examples.changed as they come, and from PostgreSQL every GW_KGEN_POLL_MS,
 * so a lost event (the bus restarted, a slow subscriber) delays freshness
 * by that much at most, never for good.
 */
static void *
events_main(void *arg)
{
	db_conn      *db = db_open(gw.cfg->pg_dsn);
	int64_t       next_poll = 0;
	unsigned long listening = 0;

	(void)arg;
	while (!atomic_load(&gw_stopping)) {
		char       *topic, *json;
		const char *why;
		cJSON      *e;
		int         rc = bus_sub_recv(gw_events, 100, &topic, &json);

		if (rc < 0)
			break;
		if (rc == 0) {
			if ((e = json_parse(json, strlen(json), &why)) != NULL)
				gw_kgen_seen((long long)json_num(e, "kgen", 0));
			cJSON_Delete(e);
			free(topic);
			free(json);
		}
		if (db != NULL && env_mono_us() >= next_poll) {
			kgen_poll(db);
			next_poll = env_mono_us() + GW_KGEN_POLL_MS * 1000;
		}
		auth_listen(db, &listening);
	}
	atomic_store(&auth_cache.live, false);
	db_close(db);
	return NULL;
}

/* gw_start - limits, keys, router client, bus, HTTP */
static int
gw_start(const struct cfg *c)
{
	static const char *const topics[] = {"sop.changed", "examples.changed", NULL};
	struct httpd_ops         ops = {.handle = gw_handle,
	                                .worker_init = worker_init,
	                                .worker_fini = worker_fini,
	                                .max_body = GW_MAX_INGEST + 16 * 1024,
	                                .nworkers = c->http_workers,
	                                .header_timeout_ms = c->http_header_timeout_ms,
	                                .body_timeout_ms = c->http_body_timeout_ms,
	                                .idle_timeout_ms = c->http_idle_timeout_ms,
	                                .max_conns = c->http_max_conns,
	                                .max_conns_per_addr = c->http_max_conns_per_addr,
	                                .queue_max = c->http_queue_max,
	                                .queue_wait_ms = c->http_queue_wait_ms,
	                                .max_streams = c->http_max_streams};
	char                     url[256], err[256];
	db_conn                 *db;

	gw.cfg = c;
	if (parse_rate_limit(c->rate_limit, err, sizeof(err)) < 0)
		return -1;
	/* gw_check made sure the secret is there and fits. */
	gw.jwt_keylen = strlen(c->jwt_secret);
	memcpy(gw.jwt_key, c->jwt_secret, gw.jwt_keylen);
	if (pw_hash("not-a-real-password", gw.pw_dummy) < 0)
		return -1;
	login_init(c->login_concurrency, gw.jwt_key, gw.jwt_keylen);
	if (!gw.rl_off)
		gw.rl = rl_new(c->redis_host, c->redis_port, 200);
	if (front_init(c) < 0)
		return -1;
	/* The knowledge generation at start; the bus keeps it current. */
	if ((db = db_open(c->pg_dsn)) != NULL) {
		PGresult *r =
		    db_exec(db, "SELECT gen FROM knowledge_generation WHERE id = 1", 0, NULL);

		if (r != NULL && PQntuples(r) == 1)
			atomic_store(&gw.kgen, strtoll(db_val(r, 0, 0), NULL, 10));
		PQclear(r);
		db_close(db);
	}
	cfg_url(c, "router", url, sizeof(url));
	if ((gw.router = rpc_client_open(url, false)) == NULL)
		return -1;
	cfg_url(c, "cache", url, sizeof(url));
	if ((gw.cache = rpc_client_open(url, false)) == NULL)
		return -1;
	cfg_url(c, "intelligence", url, sizeof(url));
	if ((gw.intel = rpc_client_open(url, false)) == NULL)
		return -1;
	cfg_url(c, "bus-in", url, sizeof(url));
	bus_pub_open(url);
	trace_init("gateway", c->pg_dsn);
	cfg_url(c, "events", url, sizeof(url));
	if ((gw_events = bus_sub_open(url, topics)) == NULL ||
	    pthread_create(&gw_events_thr, NULL, events_main, NULL) != 0)
		return -1;
	if ((gw_httpd = httpd_start(c->http_addr, c->http_port, &ops)) == NULL)
		return -1;
	metrics_httpd(gw_httpd);
	events_start(gw_httpd, c); /* without it the console polls */
	log_info("listening on http://%s:%d/", c->http_addr, httpd_port(gw_httpd));
	return 0;
}

/* gw_drain - readiness says "down" (draining) from now; requests are still served */
static void
gw_drain(void)
{
	atomic_store(&gw.draining, true);
}

/* gw_stop - answer what is in flight, then close */
static void
gw_stop(int deadline_ms)
{
	events_stop();
	httpd_stop(gw_httpd, deadline_ms);
	atomic_store(&gw_stopping, true);
	pthread_join(gw_events_thr, NULL);
	bus_sub_close(gw_events);
	front_fini();
	rpc_client_close(gw.router);
	rpc_client_close(gw.cache);
	rpc_client_close(gw.intel);
	trace_shutdown();
	bus_pub_close();
	rl_free(gw.rl);
	sodium_memzero(gw.jwt_key, sizeof(gw.jwt_key));
}

/* gw_reload - HUP: new limits take effect */
static void
gw_reload(const struct cfg *c)
{
	char err[256];

	if (parse_rate_limit(c->rate_limit, err, sizeof(err)) < 0)
		log_warn("reload: %s", err);
}

/* gw_instance - one pid file per port, so several gateways can share a stack */
static const char *
gw_instance(const struct cfg *c)
{
	static char name[48];

	snprintf(name, sizeof(name), "clubos-gateway-%d", c->http_port);
	return name;
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .name = "clubos-gateway",
	    .instance = gw_instance,
	    .check = gw_check,
	    .start = gw_start,
	    .drain = gw_drain,
	    .stop = gw_stop,
	    .reload = gw_reload,
	};

	return daemon_main(argc, argv, &ops);
}
