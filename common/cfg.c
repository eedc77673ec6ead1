/*
 * cfg.c - the configuration table, its file format and its checks
 *
 * Order of precedence: built-in default < file < environment.  The table
 * is kept alphabetical; each entry names its environment variable, its
 * type, its default, and whether it is a secret (masked by cfg_dump).
 */
#include "common/cfg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/llm.h"

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
    S(actions_host, "CLUBOS_ACTIONS_HOST", "", false),
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
    S(bind_addr, "CLUBOS_BIND_ADDR", "0.0.0.0", false),
    S(bus_host, "CLUBOS_BUS_HOST", "", false),
    S(cache, "CLUBOS_CACHE", "on", false),
    S(cache_host, "CLUBOS_CACHE_HOST", "", false),
    S(conversations_host, "CLUBOS_CONVERSATIONS_HOST", "", false),
    I(conversation_idle_s, "CLUBOS_CONVERSATION_IDLE_S", "14400", 1, 2592000),
    S(crash_at, "CLUBOS_CRASH_AT", "", false),
    I(drain_ms, "CLUBOS_DRAIN_MS", "0", 0, 600000),
    S(env, "CLUBOS_ENV", "development", false),
    I(start_wait_s, "CLUBOS_START_WAIT_S", "60", 0, 3600),
    I(escalation_ack_s, "CLUBOS_ESCALATION_ACK_SECONDS", "180", 1, 86400),
    S(escalation_contacts, "CLUBOS_ESCALATION_CONTACTS", "", false),
    S(http_addr, "CLUBOS_HTTP_ADDR", "127.0.0.1", false),
    I(http_body_timeout_ms, "CLUBOS_HTTP_BODY_TIMEOUT_MS", "30000", 100, 600000),
    I(http_header_timeout_ms, "CLUBOS_HTTP_HEADER_TIMEOUT_MS", "10000", 100, 600000),
    I(http_idle_timeout_ms, "CLUBOS_HTTP_IDLE_TIMEOUT_MS", "30000", 100, 3600000),
    I(http_max_conns, "CLUBOS_HTTP_MAX_CONNS", "2048", 1, 65536),
    I(http_max_conns_per_addr, "CLUBOS_HTTP_MAX_CONNS_PER_ADDR", "128", 1, 65536),
    I(http_max_streams, "CLUBOS_HTTP_MAX_STREAMS", "64", 1, 1024),
    I(http_port, "CLUBOS_HTTP_PORT", "8080", 0, 65535),
    I(http_queue_max, "CLUBOS_HTTP_QUEUE_MAX", "256", 1, 65536),
    I(http_queue_wait_ms, "CLUBOS_HTTP_QUEUE_WAIT_MS", "5000", 10, 600000),
    I(http_workers, "CLUBOS_HTTP_WORKERS", "8", 1, 256),
    I(intel_auto_s, "CLUBOS_INTEL_AUTO_SECONDS", "600", 0, 86400),
    I(intel_calls_per_hour, "CLUBOS_INTEL_CALLS_PER_HOUR", "20", 1, 10000),
    I(intel_min_evidence, "CLUBOS_INTEL_MIN_EVIDENCE", "3", 1, 1000),
    I(intel_timeout_ms, "CLUBOS_INTEL_TIMEOUT_MS", "60000", 100, 600000),
    S(intelligence_host, "CLUBOS_INTELLIGENCE_HOST", "", false),
    S(jwt_secret, "CLUBOS_JWT_SECRET", "", true),
    I(jwt_ttl, "CLUBOS_JWT_TTL", "43200", 60, 2592000),
    I(llm_circuit_failures, "CLUBOS_LLM_CIRCUIT_FAILURES", "5", 1, 1000),
    I(llm_circuit_open_s, "CLUBOS_LLM_CIRCUIT_OPEN_SECONDS", "30", 1, 3600),
    S(llm_daily_budget_usd, "CLUBOS_LLM_DAILY_BUDGET_USD", "5", false),
    S(llm_price_in, "CLUBOS_LLM_PRICE_IN_PER_MTOK", "0.15", false),
    S(llm_price_out, "CLUBOS_LLM_PRICE_OUT_PER_MTOK", "0.60", false),
    S(llm_prices, "CLUBOS_LLM_PRICES", "", false),
    I(llm_timeout_ms, "CLUBOS_LLM_TIMEOUT_MS", "2500", 100, 120000),
    I(login_concurrency, "CLUBOS_LOGIN_CONCURRENCY", "1", 1, 64),
    S(log_dir, "CLUBOS_LOG_DIR", "var/log", false),
    S(log_format, "CLUBOS_LOG_FORMAT", "text", false),
    S(metrics_allow, "CLUBOS_METRICS_ALLOW", "127.0.0.0/8,::1", false),
    S(migrations_dir, "CLUBOS_MIGRATIONS_DIR", "migrations", false),
    S(ninjaone_base_url, "NINJAONE_BASE_URL", "", false),
    S(ninjaone_client_id, "NINJAONE_CLIENT_ID", "", false),
    S(ninjaone_client_secret, "NINJAONE_CLIENT_SECRET", "", true),
    S(ninjaone_reboot_mode, "NINJAONE_REBOOT_MODE", "NORMAL", false),
    S(ninjaone_trackman_script_id, "NINJAONE_TRACKMAN_SCRIPT_ID", "", false),
    S(oncall_phone, "CLUBOS_ONCALL_PHONE", "", false),
    S(openai_api_key, "OPENAI_API_KEY", "", true),
    S(openai_base_url, "OPENAI_BASE_URL", "https://api.openai.com/v1", false),
    S(openai_model, "OPENAI_MODEL", "gpt-4o-mini", false),
    I(pg_connect_timeout_s, "CLUBOS_PG_CONNECT_TIMEOUT", "3", 1, 60),
    S(openphone_api_key, "OPENPHONE_API_KEY", "", true),
    S(openphone_base_url, "OPENPHONE_BASE_URL", "https://api.openphone.com", false),
    S(openphone_number, "OPENPHONE_NUMBER", "", false),
    S(openphone_webhook_secret, "OPENPHONE_WEBHOOK_SECRET", "", true),
    S(pg_dsn, "CLUBOS_PG_DSN", CFG_DEV_PG_DSN, true),
    I(pg_statement_timeout_ms, "CLUBOS_PG_STATEMENT_TIMEOUT_MS", "10000", 0, 3600000),
    I(query_timeout_ms, "CLUBOS_QUERY_TIMEOUT_MS", "3000", 100, 120000),
    S(rate_limit, "CLUBOS_RATE_LIMIT", "default", false),
    S(redis_host, "CLUBOS_REDIS_HOST", "127.0.0.1", false),
    I(redis_port, "CLUBOS_REDIS_PORT", "56379", 0, 65535),
    I(route_max_inflight, "CLUBOS_ROUTE_MAX_INFLIGHT", "8", 1, 1024),
    S(router_host, "CLUBOS_ROUTER_HOST", "", false),
    S(run_dir, "CLUBOS_RUN_DIR", "var/run", false),
    S(seed_dir, "CLUBOS_SEED_DIR", "deploy/seed", false),
    S(sentry_dsn, "SENTRY_DSN", "", true),
    S(trace_hold_file, "CLUBOS_TRACE_HOLD_FILE", "", false),
    I(trace_queue_max, "CLUBOS_TRACE_QUEUE_MAX", "20000", 10, 10000000),
    I(sms_backoff_ms, "CLUBOS_SMS_BACKOFF_MS", "1000", 10, 600000),
    I(sms_max_attempts, "CLUBOS_SMS_MAX_ATTEMPTS", "5", 1, 100),
    I(sms_per_minute, "CLUBOS_SMS_PER_MINUTE", "10", 1, 1000),
    S(slack_base_url, "SLACK_BASE_URL", "https://slack.com/api", false),
    S(slack_bot_token, "SLACK_BOT_TOKEN", "", true),
    S(slack_channel, "SLACK_CHANNEL", "", false),
    S(slack_signing_secret, "SLACK_SIGNING_SECRET", "", true),
    S(team_hours, "CLUBOS_TEAM_HOURS", "", false),
    S(tls_ca, "CLUBOS_TLS_CA", "", false),
    S(tls_cert, "CLUBOS_TLS_CERT", "", false),
    S(tls_server_name, "CLUBOS_TLS_SERVER_NAME", "clubos", false),
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

static int check_allow_list(const char *name, const char *list, char *err, size_t errlen);

/* cfg_check - refuse settings that are unsafe or make no sense */
/* check_money - a decimal amount, 0 or more (prices and budgets in USD) */
static int
check_money(const char *name, const char *v, char *err, size_t errlen)
{
	char  *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || errno != 0 || !(d >= 0) || d > 1e9) {
		snprintf(err, errlen, "%s must be a number of dollars, 0 or more", name);
		return -1;
	}
	return 0;
}

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
	if (strcmp(c->log_format, "text") != 0 && strcmp(c->log_format, "json") != 0) {
		snprintf(err, errlen, "CLUBOS_LOG_FORMAT must be text or json");
		return -1;
	}
	if (check_allow_list("CLUBOS_METRICS_ALLOW", c->metrics_allow, err, errlen) < 0)
		return -1;
	if (check_money("CLUBOS_LLM_DAILY_BUDGET_USD", c->llm_daily_budget_usd, err, errlen) < 0 ||
	    check_money("CLUBOS_LLM_PRICE_IN_PER_MTOK", c->llm_price_in, err, errlen) < 0 ||
	    check_money("CLUBOS_LLM_PRICE_OUT_PER_MTOK", c->llm_price_out, err, errlen) < 0)
		return -1;
	{
		double pin, pout;

		if (llm_price(c->llm_prices, "", 0, 0, &pin, &pout) < 0) {
			snprintf(err, errlen,
			         "CLUBOS_LLM_PRICES must be model=in/out, ... (dollars per million "
			         "tokens, e.g. gpt-4o-mini=0.15/0.60,gpt-4o=2.50/10)");
			return -1;
		}
	}
	if ((*c->tls_ca != '\0') != (*c->tls_cert != '\0')) {
		snprintf(err, errlen,
		         "CLUBOS_TLS_CA and CLUBOS_TLS_CERT go together (TLS between "
		         "hosts needs both)");
		return -1;
	}
	if (*c->tls_ca != '\0' && *c->tls_server_name == '\0') {
		snprintf(err, errlen, "CLUBOS_TLS_SERVER_NAME may not be empty with TLS on");
		return -1;
	}
	if (strlen(c->run_dir) > 80) {
		snprintf(err, errlen, "run_dir is too long for a unix socket path");
		return -1;
	}
	if (!cfg_production(c))
		return 0;
	if (strlen(c->jwt_secret) < 32) {
		snprintf(err, errlen,
		         "production needs CLUBOS_JWT_SECRET of 32 or more characters");
		return -1;
	}
	if (*c->crash_at != '\0') {
		snprintf(err, errlen, "production refuses CLUBOS_CRASH_AT (a test hook)");
		return -1;
	}
	if (*c->trace_hold_file != '\0') {
		snprintf(err, errlen, "production refuses CLUBOS_TRACE_HOLD_FILE (a test hook)");
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

/*
 * Every internal socket, the daemon that listens on it (by the setting that
 * names its host) and its TCP port.  With the owner's host unset, the
 * socket is ipc://<run_dir>/<name>.ipc (one machine); with it set, the
 * owner listens on tcp://<bind_addr>:<port> and everyone else dials
 * tcp://<host>:<port>, or tls+tcp:// both ways when CLUBOS_TLS_CA is set
 * (mutual TLS: link.c).  The ports are the deployment's documented ones.
 */
static const struct cfg_socket {
	const char *name;
	size_t      host; /* offset of the owner's host setting in struct cfg */
	int         port;
} cfg_sockets[] = {
    {"router", offsetof(struct cfg, router_host), 7301},
    {"workers-emergency", offsetof(struct cfg, router_host), 7310},
    {"workers-booking", offsetof(struct cfg, router_host), 7311},
    {"workers-tech", offsetof(struct cfg, router_host), 7312},
    {"workers-brand", offsetof(struct cfg, router_host), 7313},
    {"workers-strategy", offsetof(struct cfg, router_host), 7314},
    {"workers-customerinfo", offsetof(struct cfg, router_host), 7315},
    {"workers-general", offsetof(struct cfg, router_host), 7316},
    {"cache", offsetof(struct cfg, cache_host), 7320},
    {"intelligence", offsetof(struct cfg, intelligence_host), 7330},
    {"bus-in", offsetof(struct cfg, bus_host), 7340},
    {"bus", offsetof(struct cfg, bus_host), 7341},
    {"events", offsetof(struct cfg, bus_host), 7342},
    {"conversations", offsetof(struct cfg, conversations_host), 7350},
    {"actions", offsetof(struct cfg, actions_host), 7360},
};

/* socket_host - the configured host of a socket's owner, or NULL (one machine) */
static const char *
socket_host(const struct cfg *c, const char *name, int *port)
{
	for (size_t i = 0; i < sizeof(cfg_sockets) / sizeof(cfg_sockets[0]); i++) {
		const char *h;

		if (strcmp(cfg_sockets[i].name, name) != 0)
			continue;
		h = *(char *const *)(const void *)((const char *)c + cfg_sockets[i].host);
		*port = cfg_sockets[i].port;
		return h != NULL && *h != '\0' ? h : NULL;
	}
	return NULL;
}

/* url_of - ipc under run_dir, or tcp to host:port (tls+tcp with CLUBOS_TLS_CA) */
static int
url_of(const struct cfg *c, const char *name, const char *host, int port, char *out, size_t cap)
{
	const char *tcp = *c->tls_ca != '\0' ? "tls+tcp" : "tcp";
	int         n;

	if (host == NULL)
		n = snprintf(out, cap, "ipc://%s/%s.ipc", c->run_dir, name);
	else if (strchr(host, ':') != NULL && host[0] != '[')
		n = snprintf(out, cap, "%s://[%s]:%d", tcp, host, port); /* a bare IPv6 address */
	else
		n = snprintf(out, cap, "%s://%s:%d", tcp, host, port);
	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

/* cfg_url - the nng address a daemon dials to reach an internal socket */
int
cfg_url(const struct cfg *c, const char *name, char *out, size_t cap)
{
	int         port = 0;
	const char *host = socket_host(c, name, &port);

	return url_of(c, name, host, port, out, cap);
}

/* cfg_listen_url - the nng address the socket's owner listens on */
int
cfg_listen_url(const struct cfg *c, const char *name, char *out, size_t cap)
{
	int port = 0;

	if (socket_host(c, name, &port) == NULL)
		return url_of(c, name, NULL, 0, out, cap);
	return url_of(c, name, c->bind_addr, port, out, cap);
}

/*
 * Live snapshots.  A published configuration is immutable; readers take
 * a reference (cfg_acquire) for as long as they use it, typically one
 * request, and a reload publishes a whole new one.  The old one is freed
 * by whoever drops its last reference, so nothing is ever freed under a
 * reader.  Taking a reference is one uncontended lock and an increment.
 */
struct cfg_snap {
	struct cfg c; /* first: a const struct cfg * from cfg_acquire is a snapshot */
	atomic_int refs;
};

static pthread_mutex_t  cfg_live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cfg_snap *cfg_live;

/* cfg_publish - make *c the live configuration; takes its strings (c is
 * emptied).  c NULL retires the live one.  0, or -1 out of memory. */
int
cfg_publish(struct cfg *c)
{
	struct cfg_snap *s = NULL, *old;

	if (c != NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return -1;
		s->c = *c;
		memset(c, 0, sizeof(*c));
		atomic_init(&s->refs, 1); /* the live pointer's own reference */
	}
	pthread_mutex_lock(&cfg_live_mu);
	old = cfg_live;
	cfg_live = s;
	pthread_mutex_unlock(&cfg_live_mu);
	if (old != NULL)
		cfg_release(&old->c);
	return 0;
}

/* cfg_acquire - a reference to the live configuration (NULL if none);
 * give it back with cfg_release */
const struct cfg *
cfg_acquire(void)
{
	struct cfg_snap *s;

	pthread_mutex_lock(&cfg_live_mu);
	if ((s = cfg_live) != NULL)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&cfg_live_mu);
	return s != NULL ? &s->c : NULL;
}

/* cfg_release - drop a reference from cfg_acquire; the last one frees */
void
cfg_release(const struct cfg *c)
{
	struct cfg_snap *s;

	if (c == NULL)
		return;
	s = (struct cfg_snap *)(uintptr_t)c;
	if (atomic_fetch_sub(&s->refs, 1) == 1) {
		cfg_free(&s->c);
		free(s);
	}
}

/*
 * addr_in - is addr (an IPv4 or IPv6 address, as text) inside one entry
 * of an allow list ("127.0.0.0/8", "::1", "10.1.2.3")?  -1 when the entry
 * is not an address or CIDR at all.  An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is matched as the IPv4 address it carries.
 */
static int
addr_in(const char *entry, const char *addr)
{
	unsigned char net[16], a[16];
	char          buf[64], *slash;
	int           fam, bits, len;
	long          b;

	snprintf(buf, sizeof(buf), "%s", entry);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	fam = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	len = fam == AF_INET ? 4 : 16;
	if (inet_pton(fam, buf, net) != 1)
		return -1;
	bits = len * 8;
	if (slash != NULL) {
		char *end;

		errno = 0;
		b = strtol(slash, &end, 10);
		if (errno != 0 || end == slash || *end != '\0' || b < 0 || b > bits)
			return -1;
		bits = (int)b;
	}
	if (addr == NULL)
		return 0;
	if (strncmp(addr, "::ffff:", 7) == 0 && fam == AF_INET)
		addr += 7;
	if (inet_pton(fam, addr, a) != 1)
		return 0;
	for (int i = 0; i < bits; i++) {
		int m = 0x80 >> (i % 8);

		if ((net[i / 8] & m) != (a[i / 8] & m))
			return 0;
	}
	return 1;
}

/* cfg_addr_allowed - is addr in the comma-separated allow list? */
bool
cfg_addr_allowed(const char *list, const char *addr)
{
	char        entry[64];
	const char *p = list;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, ", ");

		if (n > 0 && n < sizeof(entry)) {
			memcpy(entry, p, n);
			entry[n] = '\0';
			if (addr_in(entry, addr) == 1)
				return true;
		}
		p += n;
		p += strspn(p, ", ");
	}
	return false;
}

/* check_allow_list - every entry an address or a CIDR */
static int
check_allow_list(const char *name, const char *list, char *err, size_t errlen)
{
	char        entry[64];
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, ", ");

		if (n >= sizeof(entry)) {
			snprintf(err, errlen, "%s: an entry is too long", name);
			return -1;
		}
		if (n > 0) {
			memcpy(entry, p, n);
			entry[n] = '\0';
			if (addr_in(entry, NULL) < 0) {
				snprintf(err, errlen, "%s: \"%s\" is not an address or CIDR", name,
				         entry);
				return -1;
			}
		}
		p += n;
		p += strspn(p, ", ");
	}
	return 0;
}
