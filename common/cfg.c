/*
 * cfg.c - the configuration table, its file format and its checks
 *
 * Order of precedence: built-in default < file < environment.  The table
 * is kept alphabetical; each entry names its environment variable, its
 * type, its default, and whether it is a secret (masked by cfg_dump).
 */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cfg_type { CFG_STR, CFG_INT };

struct cfg_entry {
	const char   *name;
	const char   *envvar;
	enum cfg_type type;
	size_t        off;
	const char   *def;
	bool          secret;
	int           min, max;
};

#define S(n, e, d, sec)                                                                            \
	{                                                                                          \
#n, e, CFG_STR, offsetof(struct cfg, n), d, sec, 0, 0                              \
	}
#define I(n, e, d, lo, hi)                                                                         \
	{                                                                                          \
#n, e, CFG_INT, offsetof(struct cfg, n), d, false, lo, hi                          \
	}

static const struct cfg_entry cfg_table[] = {
    I(actions_backoff_ms, "CLUBOS_ACTIONS_BACKOFF_MS", "1000", 10, 600000),
    I(actions_circuit_failures, "CLUBOS_ACTIONS_CIRCUIT_FAILURES", "5", 1, 1000),
    I(actions_circuit_open_s, "CLUBOS_ACTIONS_CIRCUIT_OPEN_SECONDS", "30", 1, 3600),
    I(actions_cooldown_s, "CLUBOS_ACTIONS_COOLDOWN_SECONDS", "120", 0, 86400),
    I(actions_max_attempts, "CLUBOS_ACTIONS_MAX_ATTEMPTS", "4", 1, 100),
    I(actions_timeout_ms, "CLUBOS_ACTIONS_TIMEOUT_MS", "10000", 100, 120000),
    I(actions_workers, "CLUBOS_ACTIONS_WORKERS", "2", 1, 32),
    S(admin_email, "CLUBOS_ADMIN_EMAIL", "admin@clubos.local", false),
    S(admin_password, "CLUBOS_ADMIN_PASSWORD", "", true),
    S(admin_password_file, "CLUBOS_ADMIN_PASSWORD_FILE", "var/admin-password", false),
    S(anthropic_api_key, "ANTHROPIC_API_KEY", "", true),
    S(anthropic_base_url, "ANTHROPIC_BASE_URL", "https://api.anthropic.com", false),
    S(anthropic_model, "ANTHROPIC_MODEL", "claude-sonnet-4-5", false),
    S(cache, "CLUBOS_CACHE", "on", false),
    S(crash_at, "CLUBOS_CRASH_AT", "", false),
    S(env, "CLUBOS_ENV", "development", false),
    I(escalation_ack_s, "CLUBOS_ESCALATION_ACK_SECONDS", "180", 1, 86400),
    S(escalation_contacts, "CLUBOS_ESCALATION_CONTACTS", "", false),
    S(http_addr, "CLUBOS_HTTP_ADDR", "127.0.0.1", false),
    I(http_port, "CLUBOS_HTTP_PORT", "8080", 0, 65535),
    I(http_workers, "CLUBOS_HTTP_WORKERS", "8", 1, 256),
    S(jwt_secret, "CLUBOS_JWT_SECRET", CFG_DEV_JWT_SECRET, true),
    I(intel_auto_s, "CLUBOS_INTEL_AUTO_SECONDS", "600", 0, 86400),
    I(intel_calls_per_hour, "CLUBOS_INTEL_CALLS_PER_HOUR", "20", 1, 10000),
    I(intel_min_evidence, "CLUBOS_INTEL_MIN_EVIDENCE", "3", 1, 1000),
    I(intel_timeout_ms, "CLUBOS_INTEL_TIMEOUT_MS", "60000", 100, 600000),
    I(jwt_ttl, "CLUBOS_JWT_TTL", "43200", 60, 2592000),
    S(log_dir, "CLUBOS_LOG_DIR", "var/log", false),
    S(migrations_dir, "CLUBOS_MIGRATIONS_DIR", "migrations", false),
    S(ninjaone_base_url, "NINJAONE_BASE_URL", "", false),
    S(ninjaone_client_id, "NINJAONE_CLIENT_ID", "", false),
    S(ninjaone_client_secret, "NINJAONE_CLIENT_SECRET", "", true),
    S(ninjaone_reboot_mode, "NINJAONE_REBOOT_MODE", "NORMAL", false),
    S(ninjaone_trackman_script_id, "NINJAONE_TRACKMAN_SCRIPT_ID", "", false),
    S(oncall_phone, "CLUBOS_ONCALL_PHONE", "", false),
    S(openai_api_key, "OPENAI_API_KEY", "", true),
    S(openai_base_url, "OPENAI_BASE_URL", "https://api.openai.com/v1", false),
    S(openphone_api_key, "OPENPHONE_API_KEY", "", true),
    S(openphone_base_url, "OPENPHONE_BASE_URL", "https://api.openphone.com", false),
    S(openphone_number, "OPENPHONE_NUMBER", "", false),
    S(pg_dsn, "CLUBOS_PG_DSN", CFG_DEV_PG_DSN, true),
    I(query_timeout_ms, "CLUBOS_QUERY_TIMEOUT_MS", "3000", 100, 120000),
    S(rate_limit, "CLUBOS_RATE_LIMIT", "default", false),
    S(redis_host, "CLUBOS_REDIS_HOST", "127.0.0.1", false),
    I(redis_port, "CLUBOS_REDIS_PORT", "56379", 0, 65535),
    S(run_dir, "CLUBOS_RUN_DIR", "var/run", false),
    S(seed_dir, "CLUBOS_SEED_DIR", "deploy/seed", false),
    S(slack_base_url, "SLACK_BASE_URL", "https://slack.com/api", false),
    S(slack_bot_token, "SLACK_BOT_TOKEN", "", true),
    S(slack_channel, "SLACK_CHANNEL", "", false),
    S(slack_signing_secret, "SLACK_SIGNING_SECRET", "", true),
    S(trusted_proxies, "CLUBOS_TRUSTED_PROXIES", "", false),
    S(unifi_access_base_url, "UNIFI_ACCESS_BASE_URL", "", false),
    S(unifi_access_token, "UNIFI_ACCESS_TOKEN", "", true),
    S(web_dir, "CLUBOS_WEB_DIR", "gateway/web", false),
    I(workers, "CLUBOS_WORKERS", "4", 1, 64),
};

#define CFG_N (sizeof(cfg_table) / sizeof(cfg_table[0]))

/* cfg_find - the entry for a name, or NULL */
static const struct cfg_entry *
cfg_find(const char *name)
{
	for (size_t i = 0; i < CFG_N; i++)
		if (strcmp(cfg_table[i].name, name) == 0)
			return &cfg_table[i];
	return NULL;
}

/* cfg_set - parse and store one value */
static int
cfg_set(struct cfg *c, const struct cfg_entry *e, const char *val, char *err, size_t errlen)
{
	char *p = (char *)c + e->off;

	if (e->type == CFG_STR) {
		char **sp = (char **)(void *)p;
		char  *dup = strdup(val);

		if (dup == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		free(*sp);
		*sp = dup;
		return 0;
	}
	char *end;
	long  v;

	errno = 0;
	v = strtol(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || v < e->min || v > e->max) {
		snprintf(err, errlen, "%s: \"%s\" is not a whole number from %d to %d", e->name,
		         val, e->min, e->max);
		return -1;
	}
	*(int *)(void *)p = (int)v;
	return 0;
}

/* trim - strip white space at both ends, in place */
static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* cfg_read_file - apply "name = value" lines from a file */
static int
cfg_read_file(struct cfg *c, const char *path, char *err, size_t errlen)
{
	FILE *f;
	char  line[1024];
	int   lineno = 0, rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char                   *eq, *k, *v;
		const struct cfg_entry *e;

		lineno++;
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected name = value", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		if ((e = cfg_find(k)) == NULL) {
			snprintf(err, errlen, "%s:%d: unknown setting \"%s\"", path, lineno, k);
			rc = -1;
			break;
		}
		rc = cfg_set(c, e, v, err, errlen);
	}
	fclose(f);
	return rc;
}

/* cfg_load - defaults, then the file (if any), then the environment */
int
cfg_load(struct cfg *c, const char *path, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < CFG_N; i++)
		if (cfg_set(c, &cfg_table[i], cfg_table[i].def, err, errlen) < 0)
			return -1;
	if (path != NULL && cfg_read_file(c, path, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < CFG_N; i++) {
		const char *v = getenv(cfg_table[i].envvar);

		if (v != NULL && cfg_set(c, &cfg_table[i], v, err, errlen) < 0)
			return -1;
	}
	return cfg_check(c, err, errlen);
}

/* cfg_production - does this configuration run a real venue? */
bool
cfg_production(const struct cfg *c)
{
	return strcmp(c->env, "production") == 0;
}

/* cfg_check - refuse settings that are unsafe or make no sense */
int
cfg_check(const struct cfg *c, char *err, size_t errlen)
{
	if (strcmp(c->env, "development") != 0 && strcmp(c->env, "production") != 0 &&
	    strcmp(c->env, "test") != 0) {
		snprintf(err, errlen, "env must be development, test or production");
		return -1;
	}
	if (strcmp(c->cache, "on") != 0 && strcmp(c->cache, "off") != 0) {
		snprintf(err, errlen, "CLUBOS_CACHE must be on or off");
		return -1;
	}
	if (*c->crash_at != '\0' && strcmp(c->crash_at, "journaled") != 0 &&
	    strcmp(c->crash_at, "applied") != 0 && strcmp(c->crash_at, "published") != 0) {
		snprintf(err, errlen, "CLUBOS_CRASH_AT must be journaled, applied or published");
		return -1;
	}
	if (strlen(c->run_dir) > 80) {
		snprintf(err, errlen, "run_dir is too long for a unix socket path");
		return -1;
	}
	if (!cfg_production(c))
		return 0;
	if (strcmp(c->jwt_secret, CFG_DEV_JWT_SECRET) == 0 || strlen(c->jwt_secret) < 32) {
		snprintf(err, errlen,
		         "production needs CLUBOS_JWT_SECRET of 32 or more characters");
		return -1;
	}
	if (*c->crash_at != '\0') {
		snprintf(err, errlen, "production refuses CLUBOS_CRASH_AT (a test hook)");
		return -1;
	}
	if (strcmp(c->rate_limit, "off") == 0) {
		snprintf(err, errlen, "production refuses CLUBOS_RATE_LIMIT=off");
		return -1;
	}
	if (strcmp(c->pg_dsn, CFG_DEV_PG_DSN) == 0) {
		snprintf(err, errlen, "production needs an explicit CLUBOS_PG_DSN");
		return -1;
	}
	return 0;
}

/* cfg_free - release the strings */
void
cfg_free(struct cfg *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < CFG_N; i++)
		if (cfg_table[i].type == CFG_STR) {
			char **sp = (char **)(void *)((char *)c + cfg_table[i].off);

			free(*sp);
			*sp = NULL;
		}
}

/* cfg_dump - print the effective configuration, secrets masked */
void
cfg_dump(const struct cfg *c, int fd)
{
	for (size_t i = 0; i < CFG_N; i++) {
		const struct cfg_entry *e = &cfg_table[i];
		const char             *p = (const char *)c + e->off;

		if (e->type == CFG_INT)
			dprintf(fd, "%s = %d\n", e->name, *(const int *)(const void *)p);
		else if (e->secret)
			dprintf(fd, "%s = %s\n", e->name,
			        **(char *const *)(const void *)p ? "(set)" : "(empty)");
		else
			dprintf(fd, "%s = %s\n", e->name, *(char *const *)(const void *)p);
	}
}

/* cfg_url - the nng address of an internal socket, under run_dir */
int
cfg_url(const struct cfg *c, const char *name, char *out, size_t cap)
{
	int n = snprintf(out, cap, "ipc://%s/%s.ipc", c->run_dir, name);

	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}
