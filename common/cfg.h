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
	char *cache;
	char *crash_at; /* tests only: a step of an SOP change to die at */
	char *env;
	int   escalation_ack_s;
	char *escalation_contacts; /* phones paged after the on-call, in order */
	char *http_addr;
	int   http_port;
	int   http_workers;
	char *jwt_secret;
	int   intel_auto_s;
	int   intel_calls_per_hour;
	int   intel_min_evidence;
	int   intel_timeout_ms;
	int   jwt_ttl;
	char *log_dir;
	char *migrations_dir;
	char *ninjaone_base_url;
	char *ninjaone_client_id;
	char *ninjaone_client_secret;
	char *ninjaone_reboot_mode;
	char *ninjaone_trackman_script_id;
	char *oncall_phone;
	char *openai_api_key;
	char *openai_base_url;
	char *openphone_api_key;
	char *openphone_base_url;
	char *openphone_number;
	char *pg_dsn;
	int   query_timeout_ms;
	char *rate_limit;
	char *redis_host;
	int   redis_port;
	char *run_dir;
	char *seed_dir;
	char *slack_base_url;
	char *slack_bot_token;
	char *slack_channel;
	char *slack_signing_secret;
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

/* The local stack `make up` runs (deploy/env.sh), so clubosctl works from
 * the repository root with no settings at all. */
#define CFG_DEV_PG_DSN "host=127.0.0.1 port=55432 dbname=clubos user=clubos"
#define CFG_DEV_JWT_SECRET "clubos-development-secret-do-not-use-in-production"

#endif
