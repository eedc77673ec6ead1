/*
 * cfg.h - one configuration table for every daemon
 *
 * A configuration file holds "name = value" lines; the environment
 * overrides the file (CLUBOS_HTTP_PORT, OPENAI_API_KEY, ...: the names in the
 * table in cfg.c).  Every daemon and clubosctl read the same table, so one
 * file describes a whole stack.  Secrets are marked in the table and never
 * printed.
 */
#ifndef CLUBOS_CFG_H
#define CLUBOS_CFG_H

#include <stdbool.h>
#include <stddef.h>

struct cfg {
	char *actions_host;
	int   actions_backoff_ms;
	int   actions_circuit_failures;
	int   actions_circuit_open_s;
	int   actions_cooldown_s;
	int   actions_max_attempts;
	int   actions_timeout_ms;
	int   actions_workers;
	char *admin_email;
	char *admin_password;
	char *admin_password_file;
	char *anthropic_api_key;
	char *anthropic_base_url;
	char *anthropic_model;
	char *bind_addr;
	char *bus_host;
	char *cache;
	char *cache_host;
	char *conversations_host;
	int   conversation_idle_s;
	char *crash_at;     /* tests only: a step of an SOP change to die at */
	int   drain_ms;     /* after TERM: not ready, still serving, this long (daemon_ops.drain) */
	int   start_wait_s; /* how long start() waits for PostgreSQL (daemon_start_wait) */
	char *env;
	int   escalation_ack_s;
	char *escalation_contacts; /* phones paged after the on-call, in order */
	char *http_addr;
	int   http_body_timeout_ms;
	int   http_header_timeout_ms;
	int   http_idle_timeout_ms;
	int   http_max_conns;
	int   http_max_conns_per_addr;
	int   http_port;
	int   http_queue_max;
	int   http_queue_wait_ms;
	int   http_max_streams; /* open GET /api/events streams */
	int   http_workers;
	char *intelligence_host;
	char *jwt_secret;
	int   intel_auto_s;
	int   intel_calls_per_hour;
	int   intel_min_evidence;
	int   intel_timeout_ms;
	int   jwt_ttl;
	int   llm_circuit_failures; /* failures in a row that open the LLM circuit */
	int   llm_circuit_open_s;
	char *llm_daily_budget_usd; /* decimal dollars; the tier turns off past it */
	char *llm_price_in;         /* dollars per million prompt tokens */
	char *llm_price_out;        /* dollars per million completion tokens */
	char *llm_prices;     /* "model=in/out,..." (llm_price); the pair above when none matches */
	int   llm_timeout_ms; /* one attempt at most, within the query's deadline */
	int   login_concurrency;
	char *log_dir;
	char *log_format;    /* text or json: one JSON object per line */
	char *metrics_allow; /* addresses/CIDRs that may read /metrics without a token */
	char *migrations_dir;
	char *ninjaone_base_url;
	char *ninjaone_client_id;
	char *ninjaone_client_secret;
	char *ninjaone_reboot_mode;
	char *ninjaone_trackman_script_id;
	char *oncall_phone;
	char *openai_api_key;
	char *openai_base_url;
	char *openai_model;
	char *openphone_api_key;
	char *openphone_base_url;
	char *openphone_number;
	char *openphone_webhook_secret;
	char *pg_dsn;
	int   pg_connect_timeout_s;
	int   pg_statement_timeout_ms;
	int   query_timeout_ms;
	char *rate_limit;
	char *redis_host;
	int   redis_port;
	int   route_max_inflight; /* router: requests in flight per connected worker of a route */
	char *router_host;
	char *run_dir;
	char *seed_dir;
	char *sentry_dsn;      /* errors and crashes to Sentry when set (sentry.c) */
	char *trace_hold_file; /* tests only: the trace writer waits while it exists */
	int   trace_queue_max; /* trace step rows queued at most */
	char *slack_base_url;
	char *slack_bot_token;
	char *slack_channel;
	char *slack_signing_secret;
	int   sms_backoff_ms;
	int   sms_max_attempts;
	int   sms_per_minute;
	char *team_hours;
	char *tls_ca;          /* the CA that signs every host's certificate (PEM file) */
	char *tls_cert;        /* this host's certificate and its key (one PEM file) */
	char *tls_server_name; /* the name every host's certificate carries */
	char *trusted_proxies;
	char *unifi_access_base_url;
	char *unifi_access_token;
	char *web_dir;
	int   workers;
};

int  cfg_load(struct cfg *c, const char *path, char *err, size_t errlen);
int  cfg_check(const struct cfg *c, char *err, size_t errlen);
void cfg_free(struct cfg *c);
void cfg_dump(const struct cfg *c, int fd);
bool cfg_production(const struct cfg *c);
int  cfg_url(const struct cfg *c, const char *name, char *out, size_t cap);
bool cfg_addr_allowed(const char *list, const char *addr);

/*
 * The live configuration is an immutable snapshot: cfg_publish swaps in a
 * new one (SIGHUP), cfg_acquire takes a reference to the current one and
 * cfg_release gives it back; a snapshot is freed when its last reference
 * goes, never under a reader.  Read settings that may change through one
 * reference per request.
 */
int               cfg_publish(struct cfg *c);
const struct cfg *cfg_acquire(void);
void              cfg_release(const struct cfg *c);
int               cfg_listen_url(const struct cfg *c, const char *name, char *out, size_t cap);

/* The local stack `make up` runs (deploy/env.sh), so clubosctl works from
 * the repository root with no settings at all. */
#define CFG_DEV_PG_DSN "host=127.0.0.1 port=55432 dbname=clubos user=clubos"

#endif
