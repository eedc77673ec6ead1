/*
 * gw.h - the gateway's internal interface
 *
 * main.c       start/stop, the route table, auth and limits around handlers
 * api_query.c  POST /api/query, /api/feedback, GET /api/traces/{id}
 * api_admin.c  health, login, users, SOPs, metrics, the web UI's files
 * login.c      the gate and the throttle around password checks
 * api_ops.c    actions, tickets, Slack's callbacks (writes via common/ops.c)
 * api_dashboard.c  the console's dashboard figures, one SOP version
 * api_events.c the console's live feed (SSE), fed from the bus and the tables
 * api_conversations.c  conversations: list, read, reply, release, drafts
 * webhook_openphone.c  OpenPhone's signed events, stored before the 200 (opsig.c)
 * metrics.c    counters and latency histograms for /metrics
 * front.c      the gateway's half of L1: exact repeats without a hop
 * httpd.c      HTTP/1.1 framing on nng streams
 */
#ifndef CLUBOS_GW_H
#define CLUBOS_GW_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/cfg.h"
#include "common/conns.h"
#include "common/db.h"
#include "common/kv.h"
#include "common/ratelimit.h"
#include "common/rpc.h"
#include "gateway/httpd.h"

#define GW_MAX_BODY (64 * 1024)
#define GW_MAX_MESSAGE 2000
#define GW_CHAT_TURNS 6 /* earlier web-chat messages the router sees as context */
#define GW_SOP_MAX_CONTENT (60 * 1024)
#define GW_MAX_INGEST (256 * 1024)
/* A change of knowledge may retrain the router before it is answered. */
#define GW_KNOW_DEADLINE_MS 90000
/* How often the knowledge generation is read from PostgreSQL besides the bus. */
#define GW_KGEN_POLL_MS 500
/* Times a knowledge change is asked when clubos-intelligence dies holding it. */
#define GW_INTEL_ATTEMPTS 3
#define GW_INTEL_FIRST_WAIT_MS 1500 /* for clubos-intelligence to be connected at all */

/* Roles as bits, so a route can name who may call it. */
enum {
	ROLE_ADMIN = 1 << 0,
	ROLE_OPERATOR = 1 << 1,
	ROLE_SUPPORT = 1 << 2,
	ROLE_KIOSK = 1 << 3,
	ROLE_CUSTOMER = 1 << 4,
};
#define ROLE_STAFF (ROLE_ADMIN | ROLE_OPERATOR | ROLE_SUPPORT)
#define ROLE_ANY (ROLE_STAFF | ROLE_KIOSK | ROLE_CUSTOMER)
#define ROLE_NONE 0

/* One request as the handlers see it. */
struct gw_ctx {
	const struct http_req *req;
	struct http_res       *res;
	struct conns          *w;
	char                   trace_id[33];
	const char            *params[2]; /* :name segments of the path */
	char                   pbuf[2][160];
	int64_t                user_id;
	const char            *role;     /* NULL when unauthenticated */
	char                   addr[64]; /* the client's address limits apply to */
	char                   rolebuf[16];
	cJSON                 *body; /* parsed JSON body, when the route takes one */
	int64_t                t0_us;
};

struct gw_state {
	const struct cfg *cfg;
	unsigned char     jwt_key[256];
	size_t            jwt_keylen;
	rpc_client       *router;
	rpc_client       *cache;
	rpc_client       *intel;
	rl_limiter       *rl;
	bool              rl_off;
	rl_rule           rl_addr, rl_user;
	atomic_llong      kgen;          /* newest knowledge generation seen */
	atomic_bool       draining;      /* stopping: not ready, still serving (gw_drain) */
	char              pw_dummy[128]; /* a hash to verify against for unknown emails */
};

extern struct gw_state gw;

/* Helpers for handlers. */
cJSON      *gw_intel_call(struct gw_ctx *x, int op, cJSON *body, int deadline_ms);
void        gw_json(struct gw_ctx *x, int status, cJSON *o);
void        gw_error(struct gw_ctx *x, int status, const char *code, const char *message);
void        gw_json_row(struct gw_ctx *x, PGresult *r, int status, const char *missing);
void        gw_db_error(struct gw_ctx *x, const db_conn *db);
bool        gw_authenticate(struct gw_ctx *x);
const char *gw_audience(const char *role);
int         gw_role_bit(const char *role);
bool        gw_query_param(const char *q, const char *name, char *out, size_t cap);

/* Handlers. */
void api_health(struct gw_ctx *x);
void api_health_live(struct gw_ctx *x);
void api_health_ready(struct gw_ctx *x);
void api_login(struct gw_ctx *x);
void api_users_create(struct gw_ctx *x);
void api_users_list(struct gw_ctx *x);
void api_users_patch(struct gw_ctx *x);
void api_users_delete(struct gw_ctx *x);
void api_query(struct gw_ctx *x);
void api_feedback(struct gw_ctx *x);
void api_trace_get(struct gw_ctx *x);
void api_metrics(struct gw_ctx *x);
void api_sops_list(struct gw_ctx *x);
void api_sop_get(struct gw_ctx *x);
void api_sop_versions(struct gw_ctx *x);
void api_sop_put(struct gw_ctx *x);
void api_sop_rollback(struct gw_ctx *x);
void api_web(struct gw_ctx *x);
void api_examples_list(struct gw_ctx *x);
void api_examples_add(struct gw_ctx *x);
void api_examples_delete(struct gw_ctx *x);
void api_intel_analyze(struct gw_ctx *x);
void api_intel_proposals(struct gw_ctx *x);
void api_intel_proposal(struct gw_ctx *x);
void api_intel_approve(struct gw_ctx *x);
void api_intel_reject(struct gw_ctx *x);
void api_knowledge_ingest(struct gw_ctx *x);
void api_actions_list(struct gw_ctx *x);
void api_action_approve(struct gw_ctx *x);
void api_action_cancel(struct gw_ctx *x);
void api_tickets_list(struct gw_ctx *x);
void api_ticket_get(struct gw_ctx *x);
void api_ticket_patch(struct gw_ctx *x);
void api_slack_webhook(struct gw_ctx *x);
void api_openphone_webhook(struct gw_ctx *x);
void api_conversations_list(struct gw_ctx *x);
void api_conversation_get(struct gw_ctx *x);
void api_conversation_reply(struct gw_ctx *x);
void api_conversation_release(struct gw_ctx *x);
void api_conversation_close(struct gw_ctx *x);
void api_draft_send(struct gw_ctx *x);
void api_draft_discard(struct gw_ctx *x);

/* Web chat (api_conversations.c), for POST /api/query's "conversation_id". */
int  gw_chat_open(struct gw_ctx *x, const cJSON *field, const char *channel, const char *location,
                  char *cid, size_t cap);
void gw_chat_record(struct gw_ctx *x, const char *cid, const char *msg, const cJSON *answer);

void api_settings_get(struct gw_ctx *x);
void api_settings_patch(struct gw_ctx *x);
void api_settings_history(struct gw_ctx *x);
void api_dashboard(struct gw_ctx *x);
void api_events(struct gw_ctx *x);
void api_sop_version_get(struct gw_ctx *x);
void gw_ops_health(struct gw_ctx *x, cJSON *components);

/* The generative tier as the gateway shows it (api_llm.c). */
void  api_llm_stats(struct gw_ctx *x);
void  gw_llm_health(struct gw_ctx *x, cJSON *components);
char *gw_llm_metrics(struct gw_ctx *x);

/* The live feed of GET /api/events (api_events.c). */
int  events_start(httpd *h, const struct cfg *c);
void events_stop(void);

/* The knowledge generation moved (from a change here or on the bus). */
void gw_kgen_seen(long long kgen);

/* Password checks (login.c): at most a few at once, failures throttled. */
void   gw_auth_changed(void);
void   login_init(int max_concurrent, const unsigned char *secret, size_t secretlen);
bool   login_enter(void);
void   login_leave(void);
double login_blocked(const char *email, const char *addr, double now);
void   login_failed(const char *email, const char *addr, double now);
void   login_succeeded(const char *email, double now);

/* The gateway's half of L1 (front.c). */
struct cache_stats;
int    front_init(const struct cfg *c);
void   front_fini(void);
cJSON *front_get(const char *scope, const char *msg, long long kgen, char *key, size_t keycap);
void   front_put(const char *key, const char *scope, long long kgen, cJSON *ans);
void   front_generation(void);
void   front_stats(struct cache_stats *st);

/* Metrics. */
void metrics_request(const char *route_pattern, int status, int64_t us);
void metrics_query(const char *route, const char *cache, int64_t us);
void metrics_rate_limited(void);
void metrics_httpd(httpd *h);
void metrics_render(char **out, size_t *len);

#endif
