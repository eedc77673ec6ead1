/*
 * clubos-router - emergency-first routing of every message
 *
 * Listens for queries from gateways (router.ipc), runs the emergency rules
 * and the classifier, and dispatches to the assistant workers of a route,
 * which dial in on workers-<route>.ipc (start more workers to scale; each
 * request goes to one that is free).  It retrains its classifier when the
 * examples change.  (The bus hub is clubos-bus, a daemon of its own.)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/daemon.h"
#include "common/json.h"
#include "common/log.h"
#include "common/ops.h"
#include "common/trace.h"
#include "router/rt.h"

rpc_client       *rt_workers[RT_NROUTES];
const struct cfg *rt_cfg;

static rpc_server *rt_server;
static bus_sub    *rt_events;
static pthread_t   rt_events_thr;
static atomic_bool rt_stopping;

/* status_json - workers per route and the model's vital signs */
static void
rt_status(struct rpc_reply *rep)
{
	cJSON           *o = cJSON_CreateObject(), *w = cJSON_AddObjectToObject(o, "workers");
	cJSON           *inf = cJSON_AddObjectToObject(o, "inflight");
	struct rt_model *m = rt_model_get();

	for (int i = 0; i < RT_NROUTES; i++) {
		cJSON_AddNumberToObject(w, rt_routes[i], rpc_client_peers(rt_workers[i]));
		cJSON_AddNumberToObject(inf, rt_routes[i], rt_inflight_now(i));
	}
	if (m != NULL) {
		cJSON *mo = cJSON_AddObjectToObject(o, "model");

		cJSON_AddNumberToObject(mo, "examples", (double)m->nexamples);
		cJSON_AddNumberToObject(mo, "labels", (double)clf_nlabels(m->clf));
		cJSON_AddNumberToObject(mo, "train_ms", (double)m->train_ms);
		cJSON_AddNumberToObject(mo, "memory_bytes", (double)clf_memory(m->clf));
		cJSON_AddNumberToObject(mo, "kgen", (double)m->kgen);
	}
	cJSON_AddNumberToObject(o, "trace_dropped", (double)trace_dropped());
	rt_cache_stats(o);
	rt_model_put(m);
	rep->body = json_print(o);
	rep->len = rep->body != NULL ? strlen(rep->body) : 0;
	cJSON_Delete(o);
}

/* rt_classify - {"texts": [...]} -> {"results": [[{"label", "prob"}, ...], ...]} */
static void
rt_classify(const char *body, size_t len, struct rpc_reply *rep)
{
	const char      *why;
	cJSON           *in = json_parse(body, len, &why), *out, *res;
	const cJSON     *texts = cJSON_GetObjectItemCaseSensitive(in, "texts"), *t;
	struct rt_model *m;

	if (!cJSON_IsArray(texts) || cJSON_GetArraySize(texts) > 1000) {
		cJSON_Delete(in);
		rpc_reply_error(rep, 400, "bad_request",
		                "\"texts\" must be an array of up to 1000");
		return;
	}
	if ((m = rt_model_get()) == NULL) {
		cJSON_Delete(in);
		rpc_reply_error(rep, 503, "no_model", "the classifier is not trained yet");
		return;
	}
	out = cJSON_CreateObject();
	res = cJSON_AddArrayToObject(out, "results");
	cJSON_ArrayForEach(t, texts)
	{
		clf_score top[3];
		size_t    n = cJSON_IsString(t) ? clf_predict(m->clf, t->valuestring, top, 3) : 0;
		cJSON    *row = cJSON_CreateArray();

		for (size_t i = 0; i < n; i++) {
			cJSON *s = cJSON_CreateObject();

			cJSON_AddStringToObject(s, "label", clf_label_name(m->clf, top[i].label));
			cJSON_AddNumberToObject(s, "prob", top[i].prob);
			cJSON_AddItemToArray(row, s);
		}
		cJSON_AddItemToArray(res, row);
	}
	rt_model_put(m);
	cJSON_Delete(in);
	rep->body = json_print(out);
	rep->len = rep->body != NULL ? strlen(rep->body) : 0;
	cJSON_Delete(out);
}

/* rt_dispatch - the op table of the router's REP socket */
static void
rt_dispatch(void *arg, void *worker, const struct env_hdr *h, const char *body, size_t len,
            struct rpc_reply *rep)
{
	switch (h->op) {
	case ENV_OP_QUERY:
		rt_query(arg, worker, h, body, len, rep);
		break;
	case ENV_OP_PING:
		rep->body = strdup("{\"ok\":true}");
		rep->len = rep->body != NULL ? strlen(rep->body) : 0;
		break;
	case ENV_OP_STATUS:
		rt_status(rep);
		break;
	case ENV_OP_CLASSIFY:
		rt_classify(body, len, rep);
		break;
	case ENV_OP_RELOAD:
		if (rt_model_reload() == 0)
			rt_status(rep);
		else
			rpc_reply_error(
			    rep, 500, "reload_failed",
			    "the classifier could not be retrained; the old model stays");
		break;
	default:
		rpc_reply_error(rep, 400, "unknown_op", "the router does not serve this op");
	}
}

/* events_main - retrain when the examples change */
static void *
events_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&rt_stopping)) {
		char *topic, *json;
		int   rc = bus_sub_recv(rt_events, 200, &topic, &json);

		if (rc < 0)
			break;
		if (rc > 0)
			continue;
		if (strcmp(topic, "sop.changed") == 0) {
			const char *why;
			cJSON      *e = json_parse(json, strlen(json), &why);

			rt_cache_sop_changed(e != NULL ? json_str(e, "slug") : NULL);
			cJSON_Delete(e);
		} else {
			/* Already trained at (or past) that generation, say by the
			 * reload op that came with the same change: nothing to do. */
			const char      *why;
			cJSON           *e = json_parse(json, strlen(json), &why);
			const cJSON     *g = cJSON_GetObjectItemCaseSensitive(e, "kgen");
			struct rt_model *m = rt_model_get();
			bool             stale =
			    !cJSON_IsNumber(g) || m == NULL || m->kgen < (int64_t)g->valuedouble;

			rt_model_put(m);
			cJSON_Delete(e);
			if (stale) {
				log_info("event %s: retraining", topic);
				rt_model_reload();
			}
		}
		free(topic);
		free(json);
	}
	return NULL;
}

/* rt_start - sockets, bus, model, workers */
static int
rt_start(const struct cfg *c)
{
	static const char *const topics[] = {"examples.changed", "sop.changed", NULL};
	struct rpc_server_ops    ops = {.handle = rt_dispatch};
	char                     url[256], url2[256], spool[512];

	rt_cfg = c;
	cfg_url(c, "bus-in", url, sizeof(url));
	cfg_url(c, "events", url2, sizeof(url2));
	bus_pub_open(url);
	trace_init("router", c->pg_dsn);
	/* The model is trained from PostgreSQL, which may still be starting. */
	for (int64_t waited = 0; rt_model_init(c->pg_dsn) < 0;)
		if (!daemon_start_wait("model: PostgreSQL", &waited))
			return -1;
	if (rt_cache_init() < 0)
		return -1;
	/* The emergency fallback spools here while PostgreSQL is down. */
	if (snprintf(spool, sizeof(spool), "%s/spool", c->run_dir) >= (int)sizeof(spool) ||
	    ops_spool_keeper_start(c->pg_dsn, spool) < 0)
		return -1;
	for (int i = 0; i < RT_NROUTES; i++) {
		char name[64];

		snprintf(name, sizeof(name), "workers-%s", rt_routes[i]);
		cfg_listen_url(c, name, url, sizeof(url));
		if ((rt_workers[i] = rpc_client_open(url, true)) == NULL)
			return -1;
	}
	if ((rt_events = bus_sub_open(url2, topics)) == NULL ||
	    pthread_create(&rt_events_thr, NULL, events_main, NULL) != 0)
		return -1;
	cfg_listen_url(c, "router", url, sizeof(url));
	/* Workers of the REP socket: requests in flight at once. */
	if ((rt_server = rpc_server_start(url, true, c->workers * 4, &ops)) == NULL)
		return -1;
	return 0;
}

/* rt_stop - finish in-flight queries, then close everything */
static void
rt_stop(int deadline_ms)
{
	rpc_server_stop(rt_server, deadline_ms);
	atomic_store(&rt_stopping, true);
	pthread_join(rt_events_thr, NULL);
	bus_sub_close(rt_events);
	for (int i = 0; i < RT_NROUTES; i++)
		rpc_client_close(rt_workers[i]);
	rt_cache_shutdown();
	ops_spool_keeper_stop();
	trace_shutdown();
	bus_pub_close();
	rt_model_shutdown();
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .name = "clubos-router",
	    .start = rt_start,
	    .stop = rt_stop,
	};

	return daemon_main(argc, argv, &ops);
}
