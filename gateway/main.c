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
    {"GET", "/style.css", ROLE_NONE, false, false, api_web},
    {"GET", "/api/health", ROLE_NONE, false, false, api_health},
    {"POST", "/api/auth/login", ROLE_NONE, true, true, api_login},
    {"POST", "/api/users", ROLE_ADMIN, true, true, api_users_create},
    {"POST", "/api/query", ROLE_ANY, true, true, api_query},
    {"POST", "/api/feedback", ROLE_ANY, true, true, api_feedback},
    {"GET", "/api/traces/:id", ROLE_STAFF, false, true, api_trace_get},
    {"GET", "/api/sops", ROLE_STAFF, false, true, api_sops_list},
    {"GET", "/api/sops/:slug", ROLE_STAFF, false, true, api_sop_get},
    {"GET", "/api/sops/:slug/versions", ROLE_STAFF, false, true, api_sop_versions},
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
    {"GET", "/metrics", ROLE_NONE, false, false, api_metrics},
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

/* gw_query_param - the value of name in a query string (no decoding: slugs and words) */
bool
gw_query_param(const char *q, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);

	while (q != NULL && *q) {
		if (strncmp(q, name, n) == 0 && q[n] == '=') {
			snprintf(out, cap, "%.*s", (int)strcspn(q + n + 1, "&"), q + n + 1);
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

/* authenticate - Bearer token to user id and role; false after answering 401 */
static bool
authenticate(struct gw_ctx *x)
{
	const char *h = http_header(x->req, "Authorization"), *why = NULL;
	jwt_claims  c;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		gw_error(x, 401, "unauthenticated", "a bearer token is required");
		return false;
	}
	if (jwt_verify(gw.jwt_key, gw.jwt_keylen, h + 7, (int64_t)time(NULL), &c, &why) != 0) {
		gw_error(x, 401, strcmp(why, "expired") == 0 ? "token_expired" : "invalid_token",
		         strcmp(why, "expired") == 0 ? "the token has expired; log in again"
		                                     : "the token is not valid");
		return false;
	}
	x->user_id = strtoll(c.sub, NULL, 10);
	snprintf(x->rolebuf, sizeof(x->rolebuf), "%s", c.role);
	x->role = x->rolebuf;
	return true;
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
	client_addr(req, key + 3, sizeof(key) - 3);
	memcpy(key, "ip:", 3);
	if (r->limited && limited(&x, key, &gw.rl_addr))
		goto done;
	if (r->roles != ROLE_NONE) {
		if (!authenticate(&x))
			goto done;
		if ((gw_role_bit(x.role) & r->roles) == 0) {
			gw_error(&x, 403, "forbidden", "your role may not do this");
			goto done;
		}
		snprintf(key, sizeof(key), "user:%lld", (long long)x.user_id);
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
	if (res->status >= 500)
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

/* events_main - track the newest knowledge generation seen on the bus */
static void *
events_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&gw_stopping)) {
		char *topic, *json, *p;
		int   rc = bus_sub_recv(gw_events, 200, &topic, &json);

		if (rc < 0)
			break;
		if (rc > 0)
			continue;
		if ((p = strstr(json, "\"kgen\":")) != NULL)
			gw_kgen_seen(strtoll(p + 7, NULL, 10));
		free(topic);
		free(json);
	}
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
	                                .nworkers = c->http_workers};
	char                     url[256], err[256];
	db_conn                 *db;

	gw.cfg = c;
	if (parse_rate_limit(c->rate_limit, err, sizeof(err)) < 0)
		return -1;
	gw.jwt_keylen = strlen(c->jwt_secret);
	if (gw.jwt_keylen > sizeof(gw.jwt_key))
		gw.jwt_keylen = sizeof(gw.jwt_key);
	memcpy(gw.jwt_key, c->jwt_secret, gw.jwt_keylen);
	if (!cfg_production(c) && strcmp(c->jwt_secret, CFG_DEV_JWT_SECRET) == 0)
		log_warn("using the development JWT secret: set CLUBOS_JWT_SECRET");
	if (pw_hash("not-a-real-password", gw.pw_dummy) < 0)
		return -1;
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
	/* Finish or undo SOP changes a previous gateway died in the middle of. */
	if ((db = db_open(c->pg_dsn)) != NULL) {
		int n = journal_recover(db, gw_sop_notify, NULL);

		if (n > 0)
			log_info("journal: recovered %d SOP change(s) left half-way", n);
		db_close(db);
	}
	cfg_url(c, "events", url, sizeof(url));
	if ((gw_events = bus_sub_open(url, topics)) == NULL ||
	    pthread_create(&gw_events_thr, NULL, events_main, NULL) != 0)
		return -1;
	if ((gw_httpd = httpd_start(c->http_addr, c->http_port, &ops)) == NULL)
		return -1;
	log_info("listening on http://%s:%d/", c->http_addr, httpd_port(gw_httpd));
	return 0;
}

/* gw_stop - answer what is in flight, then close */
static void
gw_stop(int deadline_ms)
{
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
	    .stop = gw_stop,
	    .reload = gw_reload,
	};

	return daemon_main(argc, argv, &ops);
}
