/*
 * clubos-assistant - one worker for one route
 *
 * Dials the router's workers-<route> socket and answers the requests the
 * router sends it, from that route's SOPs.  Run as many as you like per
 * route: the router hands each request to a free one.  Each worker thread
 * owns its PostgreSQL connection.  The knowledge is reloaded when an
 * sop.changed event arrives on the bus, and before answering a request that
 * carries a newer knowledge generation than the one loaded.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assistants/as.h"
#include "common/bus.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/ops.h"
#include "common/trace.h"

const char       *as_route;
const struct cfg *as_cfg;

static const char *const as_routes[] = {"emergency", "booking",      "tech",    "brand",
                                        "strategy",  "customerinfo", "general", NULL};

static rpc_server *as_server;
static bus_sub    *as_events;
static pthread_t   as_events_thr;
static atomic_bool as_stopping;
static char        as_instance[96];

/* worker_init - each worker thread's own database connection */
static void *
worker_init(void *arg, int idx)
{
	(void)arg;
	(void)idx;
	return db_open(as_cfg->pg_dsn);
}

/* worker_fini - close it */
static void
worker_fini(void *arg, void *worker)
{
	(void)arg;
	db_close(worker);
}

/* events_main - reload the knowledge when an SOP changes */
static void *
events_main(void *arg)
{
	db_conn *db = db_open(as_cfg->pg_dsn);

	(void)arg;
	while (!atomic_load(&as_stopping)) {
		char *topic, *json;
		int   rc = bus_sub_recv(as_events, 200, &topic, &json);

		if (rc < 0)
			break;
		if (rc > 0)
			continue;
		as_kb_reload(db);
		free(topic);
		free(json);
	}
	db_close(db);
	return NULL;
}

/* as_option - --route R */
static int
as_option(int opt, const char *arg)
{
	if (opt != 'r')
		return -1;
	for (const char *const *r = as_routes; *r != NULL; r++)
		if (strcmp(*r, arg) == 0) {
			as_route = *r;
			return 0;
		}
	log_error("unknown route \"%s\"", arg);
	return -1;
}

/* as_check - a route is required */
static int
as_check(const struct cfg *c, char *err, size_t errlen)
{
	(void)c;
	if (as_route == NULL) {
		snprintf(err, errlen,
		         "--route is required (emergency, booking, tech, brand, "
		         "strategy, customerinfo or general)");
		return -1;
	}
	return 0;
}

/* as_instance_name - pid and log files: one per process */
static const char *
as_instance_name(const struct cfg *c)
{
	(void)c;
	snprintf(as_instance, sizeof(as_instance), "clubos-assistant-%s-%ld", as_route,
	         (long)getpid());
	return as_instance;
}

/* as_start - knowledge, bus, worker socket */
static int
as_start(const struct cfg *c)
{
	static const char *const topics[] = {"sop.changed", NULL};
	struct rpc_server_ops    ops = {
	       .handle = as_assist, .worker_init = worker_init, .worker_fini = worker_fini};
	char     url[256], name[64], spool[512];
	db_conn *db;

	as_cfg = c;
	cfg_url(c, "bus-in", url, sizeof(url));
	bus_pub_open(url);
	trace_init(as_instance, c->pg_dsn);
	/* The knowledge first: PostgreSQL may still be starting (a fresh
	 * deployment, a restart of both). */
	for (int64_t waited = 0;;) {
		db = db_open(c->pg_dsn);
		if (db != NULL && as_kb_reload(db) == 0)
			break;
		db_close(db);
		if (!daemon_start_wait("knowledge: PostgreSQL", &waited))
			return -1;
	}
	as_llm_init(c, db);
	db_close(db);
	/* An SOP's actions spool here while PostgreSQL is down. */
	if (snprintf(spool, sizeof(spool), "%s/spool", c->run_dir) >= (int)sizeof(spool) ||
	    ops_spool_keeper_start(c->pg_dsn, spool) < 0)
		return -1;
	cfg_url(c, "events", url, sizeof(url));
	if ((as_events = bus_sub_open(url, topics)) == NULL ||
	    pthread_create(&as_events_thr, NULL, events_main, NULL) != 0)
		return -1;
	snprintf(name, sizeof(name), "workers-%s", as_route);
	cfg_url(c, name, url, sizeof(url));
	if ((as_server = rpc_server_start(url, false, c->workers, &ops)) == NULL)
		return -1;
	return 0;
}

/* as_stop - finish in-flight requests, then close */
static void
as_stop(int deadline_ms)
{
	rpc_server_stop(as_server, deadline_ms);
	atomic_store(&as_stopping, true);
	pthread_join(as_events_thr, NULL);
	bus_sub_close(as_events);
	{
		db_conn *db = db_open(as_cfg->pg_dsn);

		as_llm_shutdown(db);
		db_close(db);
	}
	ops_spool_keeper_stop();
	trace_shutdown();
	bus_pub_close();
	as_kb_shutdown();
}

int
main(int argc, char **argv)
{
	static const struct option     longopts[] = {{"route", required_argument, NULL, 'r'}, {0}};
	static const struct daemon_ops ops = {
	    .name = "clubos-assistant",
	    .usage = " --route ROUTE",
	    .longopts = longopts,
	    .option = as_option,
	    .check = as_check,
	    .start = as_start,
	    .stop = as_stop,
	    .instance = as_instance_name,
	};

	return daemon_main(argc, argv, &ops);
}
