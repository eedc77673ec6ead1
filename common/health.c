/*
 * health.c - liveness and readiness probes, asked from outside a daemon
 *
 * health_probe() asks one daemon and returns 0 when it is up and ready,
 * -1 otherwise, with a JSON account in *out: {"daemon", "address",
 * "status": "ok" | "not_ready" | "down", "ms", "detail"}.  Every probe
 * has a deadline; nothing here waits longer than timeout_ms (plus a
 * connection attempt bounded by the same).
 */
#include "common/health.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/supplemental/util/platform.h>

#include "common/env.h"
#include "common/json.h"
#include "common/link.h"
#include "common/rpc.h"

enum health_kind { HEALTH_RPC, HEALTH_DIAL, HEALTH_HTTP, HEALTH_WORKER };

static const struct health_target {
	const char      *daemon;
	const char      *socket; /* the cfg_url name it is asked on */
	enum health_kind kind;
} health_targets[] = {
    {"clubos-bus", "bus-in", HEALTH_DIAL},
    {"clubos-router", "router", HEALTH_RPC},
    {"clubos-cache", "cache", HEALTH_RPC},
    {"clubos-intelligence", "intelligence", HEALTH_RPC},
    {"clubos-actions", "actions", HEALTH_RPC},
    {"clubos-conversations", "conversations", HEALTH_RPC},
    {"clubos-gateway", NULL, HEALTH_HTTP},
    {"clubos-assistant", "router", HEALTH_WORKER},
};
#define HEALTH_N (sizeof(health_targets) / sizeof(health_targets[0]))

/* health_ndaemons / health_daemon - the table, for clubosctl status */
size_t
health_ndaemons(void)
{
	return HEALTH_N;
}

const char *
health_daemon(size_t i)
{
	return i < HEALTH_N ? health_targets[i].daemon : NULL;
}

/* probe_rpc - ask op on url; the reply's JSON in *detail */
static const char *
probe_rpc(const char *url, int op, int timeout_ms, cJSON **detail)
{
	rpc_client      *c;
	struct rpc_reply rep = {0};
	const char      *why, *status = "down";
	int              rc;

	if ((c = rpc_client_open(url, false)) == NULL)
		return "down";
	/* A new client waits a moment for its first peer; a daemon that is
	 * down is then refused at once (RPC_ENOPEER). */
	rc = rpc_call(c, op, NULL, env_now_ms() + (uint64_t)timeout_ms, "{}", 2, &rep);
	if (rc == 0 && rep.status == 0) {
		*detail = json_parse(rep.body, rep.len, &why);
		status = "ok";
	} else if (rc == 0) {
		*detail = json_parse(rep.body, rep.len, &why);
		status = "not_ready";
	}
	rpc_reply_clear(&rep);
	rpc_client_close(c);
	return status;
}

/* dial_event - a pipe came up: the listener is there */
static void
dial_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p;
	(void)ev;
	atomic_store((atomic_int *)arg, 1);
}

/*
 * probe_dial - a PUB socket that connects to the hub's input within the
 * timeout: the listener is there.  A publisher is never sent anything, so
 * its close cannot meet a message arriving (link.h); a subscriber on the
 * hub's output would be sent every trace.
 */
static const char *
probe_dial(const char *url, int timeout_ms)
{
	nng_socket s;
	nng_dialer d;
	atomic_int up = 0;
	uint64_t   until = env_now_ms() + (uint64_t)timeout_ms;

	if (nng_pub0_open(&s) != 0)
		return "down";
	nng_pipe_notify(s, NNG_PIPE_EV_ADD_POST, dial_event, &up);
	nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 200);
	/* Not blocking: a host that does not answer must not hold us past
	 * the deadline (a TCP connect can wait minutes). */
	if (link_dialer(&d, s, url) == 0 && nng_dialer_start(d, NNG_FLAG_NONBLOCK) == 0)
		while (!atomic_load(&up) && env_now_ms() < until)
			nng_msleep(10);
	link_sock_close(s);
	return atomic_load(&up) ? "ok" : "down";
}

struct health_buf {
	char  *p;
	size_t n;
};

/* http_body - libcurl write callback, bounded at 64 KiB */
static size_t
http_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct health_buf *b = arg;
	size_t             len = size * nmemb;
	char              *np;

	if (b->n + len > 65536 || (np = realloc(b->p, b->n + len + 1)) == NULL)
		return 0;
	memcpy(np + b->n, data, len);
	b->n += len;
	np[b->n] = '\0';
	b->p = np;
	return len;
}

/* probe_http - GET url: ok on a 200 JSON answer (which may say degraded), not_ready otherwise */
static const char *
probe_http(const char *url, int timeout_ms, cJSON **detail)
{
	CURL             *h = curl_easy_init();
	struct health_buf b = {0};
	long              code = 0;
	const char       *why, *st = "down";

	if (h == NULL)
		return "down";
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(h) == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		*detail = b.p != NULL ? json_parse(b.p, b.n, &why) : NULL;
		/* 200 is up and answering ("ok" or "degraded" inside); 503 is down. */
		st = code == 200 && *detail != NULL ? "ok" : code != 0 ? "not_ready" : "down";
	}
	free(b.p);
	curl_easy_cleanup(h);
	return st;
}

/* health_probe - ask one daemon (route: a worker's route, else NULL) */
int
health_probe(const struct cfg *c, const char *daemon, const char *route, int timeout_ms,
             cJSON **out)
{
	const struct health_target *t = NULL;
	char                        url[300];
	const char                 *st = "down";
	cJSON                      *detail = NULL, *o;
	uint64_t                    t0 = env_now_ms();

	for (size_t i = 0; i < HEALTH_N; i++)
		if (strcmp(health_targets[i].daemon, daemon) == 0)
			t = &health_targets[i];
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "daemon", daemon);
	if (t == NULL) {
		cJSON_AddStringToObject(o, "status", "unknown");
		*out = o;
		return -1;
	}
	if (t->kind == HEALTH_HTTP)
		snprintf(url, sizeof(url), "http://%s:%d/api/health",
		         strcmp(c->http_addr, "0.0.0.0") == 0 || !*c->http_addr ? "127.0.0.1"
		         : strcmp(c->http_addr, "::") == 0                      ? "[::1]"
		                                                                : c->http_addr,
		         c->http_port);
	else
		cfg_url(c, t->socket, url, sizeof(url));
	cJSON_AddStringToObject(o, "address", url);
	switch (t->kind) {
	case HEALTH_RPC:
		st = probe_rpc(url, ENV_OP_HEALTH, timeout_ms, &detail);
		if (strcmp(st, "ok") == 0 && detail != NULL &&
		    cJSON_IsFalse(cJSON_GetObjectItem(detail, "ready")))
			st = "not_ready";
		break;
	case HEALTH_DIAL:
		st = probe_dial(url, timeout_ms);
		break;
	case HEALTH_HTTP:
		st = probe_http(url, timeout_ms, &detail);
		break;
	case HEALTH_WORKER:
		/* A worker dials the router: it is ready when the router counts
		 * a worker for its route. */
		st = probe_rpc(url, ENV_OP_STATUS, timeout_ms, &detail);
		if (strcmp(st, "ok") == 0) {
			cJSON *w = cJSON_GetObjectItem(detail, "workers");
			int    n = route != NULL ? json_int(w, route, 0) : 0;

			cJSON_AddItemToObject(o, "workers", cJSON_Duplicate(w, 1));
			cJSON_Delete(detail);
			detail = NULL;
			if (route != NULL) {
				cJSON_AddStringToObject(o, "route", route);
				st = n > 0 ? "ok" : "not_ready";
			}
		} else {
			st = "down"; /* nobody to ask: the router is the readiness */
		}
		break;
	}
	cJSON_AddStringToObject(o, "status", st);
	cJSON_AddNumberToObject(o, "ms", (double)(env_now_ms() - t0));
	if (detail != NULL)
		cJSON_AddItemToObject(o, "detail", detail);
	*out = o;
	return strcmp(st, "ok") == 0 ? 0 : -1;
}

/* health_main - `DAEMON --health`: probe this daemon (as configured), print JSON, 0 if ok */
int
health_main(const struct cfg *c, const char *daemon, const char *instance)
{
	char        route[32] = "";
	const char *prefix = "clubos-assistant-";
	cJSON      *o = NULL;
	char       *text;
	int         rc;

	/* A worker's instance is clubos-assistant-<route>-<pid>. */
	if (strcmp(daemon, "clubos-assistant") == 0 && instance != NULL &&
	    strncmp(instance, prefix, strlen(prefix)) == 0) {
		const char *r = instance + strlen(prefix), *dash = strchr(r, '-');
		size_t      n = dash != NULL ? (size_t)(dash - r) : strlen(r);

		if (n < sizeof(route))
			memcpy(route, r, n), route[n] = '\0';
	}
	rc = health_probe(c, daemon, *route ? route : NULL, 2000, &o);
	text = cJSON_PrintUnformatted(o);
	printf("%s\n", text != NULL ? text : "{}");
	free(text);
	cJSON_Delete(o);
	return rc == 0 ? 0 : 1;
}
