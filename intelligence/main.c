/*
 * clubos-intelligence - the learning loop
 *
 * The one writer of the venue's knowledge: SOPs and their versions, training
 * examples, proposals and the knowledge generation.  It serves the ops the
 * gateway and clubosctl send: edits, rollbacks, example changes, decisions
 * on proposals and the seed (knowledge.c, each through the journal), and
 * ANALYZE (cluster the unhelpful verdicts and propose SOP changes,
 * analyse.c) and INGEST (staff knowledge into proposals, ingest.c).  One
 * analysis runs at a time.  It also:
 *   - listens for "feedback" events and, when unhelpful verdicts arrived,
 *     analyses by itself at most once every CLUBOS_INTEL_AUTO_SECONDS
 *     (0: only when asked): no analysis storm however much feedback comes;
 *   - sweeps the SOP change journal at start and every few seconds,
 *     finishing or undoing changes whose process died half-way (journal.c):
 *     the journal's one recoverer.
 * It never applies a proposal by itself: approval is an admin's, asked
 * through the gateway.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/bus.h"
#include "common/daemon.h"
#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "common/trace.h"
#include "intelligence/intel.h"
#include "intelligence/journal.h"

#define IN_SWEEP_MS 2000
#define IN_NWORKERS 4

static struct intel    in_state;
static rpc_server     *in_server;
static bus_sub        *in_events;
static pthread_t       in_events_thr, in_sweep_thr;
static atomic_bool     in_stopping;
static atomic_int      in_unhelpful; /* verdicts since the last analysis */
static pthread_mutex_t in_analysis = PTHREAD_MUTEX_INITIALIZER;

/* analyse - one analysis, serialised; the proposals as a JSON array or an error */
static void
analyse(db_conn *db, const char *tid, struct rpc_reply *rep)
{
	cJSON *made = cJSON_CreateArray();
	char   why[160];
	int    rc;

	pthread_mutex_lock(&in_analysis);
	atomic_store(&in_unhelpful, 0);
	rc = intel_analyse(&in_state, db, tid, made, why, sizeof(why));
	pthread_mutex_unlock(&in_analysis);
	if (rc < 0 && rep != NULL) {
		rpc_reply_error(rep, 503, "analysis_failed", why);
	} else if (rc < 0) {
		log_msg(LOG_WARN, tid, "analysis failed: %s", why);
	} else if (rep != NULL) {
		rep->body = json_print(made);
		rep->len = rep->body != NULL ? strlen(rep->body) : 0;
	}
	cJSON_Delete(made);
}

/* ingest - {"text", "by"} to proposals */
static void
ingest(db_conn *db, const char *tid, const char *body, size_t len, struct rpc_reply *rep)
{
	const char  *why;
	cJSON       *q = json_parse(body, len, &why), *made;
	const char  *text = json_str(q, "text");
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(q, "by");
	char         err[160];

	if (text == NULL) {
		cJSON_Delete(q);
		rpc_reply_error(rep, 400, "missing_field", "\"text\" is required");
		return;
	}
	made = cJSON_CreateArray();
	pthread_mutex_lock(&in_analysis);
	if (intel_ingest(&in_state, db, tid, text,
	                 cJSON_IsNumber(by) ? (int64_t)by->valuedouble : 0, made, err,
	                 sizeof(err)) < 0) {
		pthread_mutex_unlock(&in_analysis);
		rpc_reply_error(rep, strstr(err, "database") ? 503 : 400, "ingest_failed", err);
	} else {
		pthread_mutex_unlock(&in_analysis);
		rep->body = json_print(made);
		rep->len = rep->body != NULL ? strlen(rep->body) : 0;
	}
	cJSON_Delete(made);
	cJSON_Delete(q);
}

/* in_dispatch - the op table */
static void
in_dispatch(void *arg, void *worker, const struct env_hdr *h, const char *body, size_t len,
            struct rpc_reply *rep)
{
	(void)arg;
	switch (h->op) {
	case ENV_OP_PING:
		rep->body = strdup("{\"ok\":true}");
		rep->len = rep->body != NULL ? strlen(rep->body) : 0;
		break;
	case ENV_OP_INTEL_ANALYZE:
		analyse(worker, h->trace_id, rep);
		break;
	case ENV_OP_INTEL_INGEST:
		ingest(worker, h->trace_id, body, len, rep);
		break;
	case ENV_OP_KNOW_SOP:
		know_sop_change(&in_state, worker, h->trace_id, body, len, rep);
		break;
	case ENV_OP_KNOW_EXAMPLES:
		know_examples(&in_state, worker, h->trace_id, body, len, rep);
		break;
	case ENV_OP_KNOW_DECIDE:
		know_decide(&in_state, worker, h->trace_id, body, len, rep);
		break;
	case ENV_OP_KNOW_SEED:
		know_seed(&in_state, worker, h->trace_id, body, len, rep);
		break;
	default:
		rpc_reply_error(rep, 400, "unknown_op",
		                "clubos-intelligence does not serve this op");
	}
}

/* worker_init - each worker's own PostgreSQL connection */
static void *
worker_init(void *arg, int idx)
{
	(void)arg;
	(void)idx;
	return db_open(in_state.cfg->pg_dsn);
}

/* worker_fini - close it */
static void
worker_fini(void *arg, void *worker)
{
	(void)arg;
	db_close(worker);
}

/* events_main - count unhelpful verdicts as they arrive */
static void *
events_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&in_stopping)) {
		char *topic, *json;
		int   rc = bus_sub_recv(in_events, 200, &topic, &json);

		if (rc < 0)
			break;
		if (rc > 0)
			continue;
		if (strstr(json, "\"helpful\":false") != NULL)
			atomic_fetch_add(&in_unhelpful, 1);
		free(topic);
		free(json);
	}
	return NULL;
}

/* sweep_main - recover the journal; analyse by itself when due */
static void *
sweep_main(void *arg)
{
	db_conn        *db = db_open(in_state.cfg->pg_dsn);
	struct timespec last, now;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &last);
	while (db != NULL && !atomic_load(&in_stopping)) {
		struct timespec nap = {IN_SWEEP_MS / 1000, (IN_SWEEP_MS % 1000) * 1000000L};
		int             n = journal_recover(db, NULL, NULL);

		if (n > 0)
			log_info("journal: recovered %d SOP change(s) left half-way", n);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (in_state.cfg->intel_auto_s > 0 && atomic_load(&in_unhelpful) > 0 &&
		    now.tv_sec - last.tv_sec >= in_state.cfg->intel_auto_s) {
			char tid[33];

			trace_new_id(tid);
			log_msg(LOG_INFO, tid, "analysis: %d new unhelpful verdict(s), analysing",
			        atomic_load(&in_unhelpful));
			analyse(db, tid, NULL);
			last = now;
		}
		nanosleep(&nap, NULL);
	}
	db_close(db);
	return NULL;
}

/* in_start - router client, Claude, bus, workers, sweeper */
static int
in_start(const struct cfg *c)
{
	static const char *const topics[] = {"feedback", NULL};
	struct rpc_server_ops    ops = {
	       .handle = in_dispatch, .worker_init = worker_init, .worker_fini = worker_fini};
	char url[256];

	in_state.cfg = c;
	cfg_url(c, "router", url, sizeof(url));
	if ((in_state.router = rpc_client_open(url, false)) == NULL)
		return -1;
	if (*c->anthropic_api_key != '\0') {
		struct claude_cfg cc = {.base_url = c->anthropic_base_url,
		                        .api_key = c->anthropic_api_key,
		                        .model = c->anthropic_model,
		                        .timeout_ms = c->intel_timeout_ms,
		                        .max_retries = 2,
		                        .backoff_ms = 500,
		                        .calls_per_hour = c->intel_calls_per_hour,
		                        .max_reply = 256 * 1024,
		                        .max_content = 60 * 1024};

		if ((in_state.claude = claude_new(&cc)) == NULL)
			return -1;
		log_info("analyser: Claude (%s at %s), at most %d calls an hour; local otherwise",
		         c->anthropic_model, c->anthropic_base_url, c->intel_calls_per_hour);
	} else {
		log_info("analyser: local (set ANTHROPIC_API_KEY to ask Claude first)");
	}
	cfg_url(c, "bus-in", url, sizeof(url));
	bus_pub_open(url);
	trace_init("intelligence", c->pg_dsn);
	cfg_url(c, "events", url, sizeof(url));
	if ((in_events = bus_sub_open(url, topics)) == NULL ||
	    pthread_create(&in_events_thr, NULL, events_main, NULL) != 0)
		return -1;
	/* Settle what a previous process left half-way before taking requests: a
	 * request re-sent to us then finds its entry done or aborted, never pending. */
	{
		db_conn *db = db_open(c->pg_dsn);
		int      n = db != NULL ? journal_recover(db, NULL, NULL) : 0;

		if (n > 0)
			log_info("journal: recovered %d change(s) left half-way", n);
		db_close(db);
	}
	if (pthread_create(&in_sweep_thr, NULL, sweep_main, NULL) != 0)
		return -1;
	cfg_listen_url(c, "intelligence", url, sizeof(url));
	if ((in_server = rpc_server_start(url, true, IN_NWORKERS, &ops)) == NULL)
		return -1;
	return 0;
}

/* in_stop - finish what is in flight, then close */
static void
in_stop(int deadline_ms)
{
	if (in_state.claude != NULL)
		claude_cancel(in_state.claude); /* a worker waiting on Claude returns now */
	rpc_server_stop(in_server, deadline_ms);
	atomic_store(&in_stopping, true);
	pthread_join(in_events_thr, NULL);
	pthread_join(in_sweep_thr, NULL);
	bus_sub_close(in_events);
	rpc_client_close(in_state.router);
	claude_free(in_state.claude);
	trace_shutdown();
	bus_pub_close();
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .name = "clubos-intelligence",
	    .start = in_start,
	    .stop = in_stop,
	};

	return daemon_main(argc, argv, &ops);
}
