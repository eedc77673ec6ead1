/*
 * trace.c - publish steps on the bus and store them in batches
 *
 * A request's steps are gathered per thread (each daemon handles one
 * request on one thread) and leave together when trace_end() is called: one
 * bus message and one queue entry per daemon per request, not one per step.
 * The writer thread wakes every TRACE_FLUSH_MS (or when a batch is full, or
 * on trace_flush), turns what is queued into one JSON array per table and
 * inserts each with json_to_recordset: one statement, one parameter.  Its
 * session commits asynchronously: a crash may lose the last moments of
 * traces, never an answer or an action.
 */
#include "trace.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "db.h"
#include "env.h"
#include "log.h"
#include "util.h"

#define TRACE_QUEUE_MAX 20000
#define TRACE_BATCH 500
#define TRACE_FLUSH_MS 50

struct trace_rec {
	struct trace_rec *next;
	bool              summary;
	cJSON            *obj; /* a summary object, or an array of steps */
	size_t            n;   /* rows it holds */
};

/* The steps of the request this thread is handling. */
static __thread cJSON *tls_steps;
static __thread char   tls_tid[33];

static struct {
	pthread_mutex_t       mu;
	pthread_cond_t        cv, done_cv;
	struct trace_rec     *head, *tail;
	size_t                len;
	uint64_t              enq, written; /* sequence numbers, for trace_flush */
	bool                  running, stop, flush_now;
	pthread_t             thr;
	char                  daemon[48];
	char                 *dsn;
	atomic_uint_least64_t dropped;
} tq = {.mu = PTHREAD_MUTEX_INITIALIZER,
        .cv = PTHREAD_COND_INITIALIZER,
        .done_cv = PTHREAD_COND_INITIALIZER};

static const char trace_steps_sql[] =
    "INSERT INTO trace_steps (trace_id, daemon, step, detail, elapsed_us, at) "
    "SELECT x.trace_id, x.daemon, x.step, x.detail, x.us, "
    "       to_timestamp(x.at_ms / 1000.0) "
    "FROM json_to_recordset($1::json) AS x(trace_id text, daemon text, "
    "     step text, detail jsonb, us bigint, at_ms bigint)";

static const char trace_sum_sql[] =
    "INSERT INTO traces (trace_id, user_id, role, channel, location, message, "
    "  route, confidence, sop_slug, sop_version, response, escalation_tier, "
    "  cache, total_us, created_at) "
    "SELECT x.trace_id, x.user_id, x.role, x.channel, x.location, x.message, "
    "  x.route, x.confidence, x.sop_slug, x.sop_version, x.response, "
    "  x.escalation_tier, x.cache, x.total_us, to_timestamp(x.at_ms / 1000.0) "
    "FROM json_to_recordset($1::json) AS x(trace_id text, user_id bigint, "
    "  role text, channel text, location text, message text, route text, "
    "  confidence double precision, sop_slug text, sop_version int, "
    "  response text, escalation_tier int, cache text, total_us bigint, "
    "  at_ms bigint) "
    "ON CONFLICT (trace_id) DO NOTHING";

/* write_batch - insert one kind of record; returns 0 or -1 */
static int
write_batch(db_conn *db, const char *sql, cJSON *arr)
{
	char       *text;
	const char *p[1];
	int         rc;

	if (cJSON_GetArraySize(arr) == 0)
		return 0;
	if ((text = cJSON_PrintUnformatted(arr)) == NULL)
		return -1;
	p[0] = text;
	rc = db_cmd(db, sql, 1, p);
	free(text);
	return rc;
}

/* writer_main - drain the queue into PostgreSQL */
static void *
writer_main(void *arg)
{
	db_conn *db = db_open(tq.dsn);

	(void)arg;
	pthread_mutex_lock(&tq.mu);
	for (;;) {
		struct trace_rec *batch;
		size_t            n = 0;
		cJSON            *steps, *sums;

		/* Sleep a tick unless a batch is full or someone waits. */
		if (tq.len < TRACE_BATCH && !tq.flush_now && !tq.stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += TRACE_FLUSH_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&tq.cv, &tq.mu, &ts);
		}
		tq.flush_now = false;
		if (tq.head == NULL && !tq.stop)
			continue;
		if (tq.head == NULL && tq.stop)
			break;
		/* Take everything queued so far. */
		batch = tq.head;
		n = tq.len;
		tq.head = tq.tail = NULL;
		tq.len = 0;
		pthread_mutex_unlock(&tq.mu);

		steps = cJSON_CreateArray();
		sums = cJSON_CreateArray();
		for (struct trace_rec *r = batch, *nx; r != NULL; r = nx) {
			nx = r->next;
			if (r->summary)
				cJSON_AddItemToArray(sums, r->obj);
			else {
				cJSON *it;

				while ((it = cJSON_DetachItemFromArray(r->obj, 0)) != NULL)
					cJSON_AddItemToArray(steps, it);
				cJSON_Delete(r->obj);
			}
			free(r);
		}
		if (db == NULL || db_begin(db) < 0 ||
		    db_cmd(db, "SET LOCAL synchronous_commit TO off", 0, NULL) < 0 ||
		    write_batch(db, trace_sum_sql, sums) < 0 ||
		    write_batch(db, trace_steps_sql, steps) < 0 || db_commit(db) < 0) {
			if (db != NULL)
				db_rollback(db);
			log_warn("trace: batch of %zu records not stored", n);
		}
		cJSON_Delete(steps);
		cJSON_Delete(sums);

		pthread_mutex_lock(&tq.mu);
		tq.written += n;
		pthread_cond_broadcast(&tq.done_cv);
	}
	pthread_mutex_unlock(&tq.mu);
	db_close(db);
	return NULL;
}

/* trace_init - start the writer (pg_dsn NULL: publish only) */
int
trace_init(const char *daemon, const char *pg_dsn)
{
	snprintf(tq.daemon, sizeof(tq.daemon), "%s", daemon);
	if (pg_dsn == NULL)
		return 0;
	if ((tq.dsn = strdup(pg_dsn)) == NULL)
		return -1;
	tq.stop = false;
	if (pthread_create(&tq.thr, NULL, writer_main, NULL) != 0)
		return -1;
	tq.running = true;
	return 0;
}

/* trace_shutdown - store what is queued, then stop the writer */
void
trace_shutdown(void)
{
	if (!tq.running)
		return;
	pthread_mutex_lock(&tq.mu);
	tq.stop = true;
	pthread_cond_signal(&tq.cv);
	pthread_mutex_unlock(&tq.mu);
	pthread_join(tq.thr, NULL);
	tq.running = false;
	free(tq.dsn);
	tq.dsn = NULL;
}

/* trace_new_id - 32 hex characters from libsodium's random source */
void
trace_new_id(char out[33])
{
	util_random_hex(out, 16);
}

/* enqueue - hand a record to the writer; takes ownership of obj */
static void
enqueue(cJSON *obj, bool summary, size_t rows)
{
	struct trace_rec *r;

	if (!tq.running) {
		cJSON_Delete(obj);
		return;
	}
	if ((r = malloc(sizeof(*r))) == NULL) {
		cJSON_Delete(obj);
		atomic_fetch_add(&tq.dropped, 1);
		return;
	}
	r->next = NULL;
	r->summary = summary;
	r->obj = obj;
	r->n = rows;
	pthread_mutex_lock(&tq.mu);
	if (tq.len + rows > TRACE_QUEUE_MAX) {
		pthread_mutex_unlock(&tq.mu);
		cJSON_Delete(obj);
		free(r);
		atomic_fetch_add(&tq.dropped, rows);
		return;
	}
	if (tq.tail != NULL)
		tq.tail->next = r;
	else
		tq.head = r;
	tq.tail = r;
	tq.len += rows;
	tq.enq += rows;
	if (tq.len >= TRACE_BATCH)
		pthread_cond_signal(&tq.cv);
	pthread_mutex_unlock(&tq.mu);
}

/* trace_step - record one step of the current request; takes ownership of detail */
void
trace_step(const char *trace_id, const char *step, cJSON *detail, int64_t elapsed_us)
{
	cJSON *o;

	if (tls_steps != NULL && strcmp(tls_tid, trace_id) != 0)
		trace_end();
	if (tls_steps == NULL) {
		if ((tls_steps = cJSON_CreateArray()) == NULL) {
			cJSON_Delete(detail);
			return;
		}
		snprintf(tls_tid, sizeof(tls_tid), "%s", trace_id);
	}
	if ((o = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(detail);
		return;
	}
	cJSON_AddStringToObject(o, "trace_id", trace_id);
	cJSON_AddStringToObject(o, "daemon", tq.daemon);
	cJSON_AddStringToObject(o, "step", step);
	cJSON_AddItemToObject(o, "detail", detail != NULL ? detail : cJSON_CreateObject());
	cJSON_AddNumberToObject(o, "us", (double)elapsed_us);
	cJSON_AddNumberToObject(o, "at_ms", (double)env_now_ms());
	cJSON_AddItemToArray(tls_steps, o);
}

/* trace_end - the request is done here: publish its steps once, queue them */
void
trace_end(void)
{
	cJSON *steps = tls_steps;
	char  *text;
	int    n;

	if (steps == NULL)
		return;
	tls_steps = NULL;
	n = cJSON_GetArraySize(steps);
	if (n > 0 && (text = cJSON_PrintUnformatted(steps)) != NULL) {
		bus_publish("trace", text);
		free(text);
	}
	enqueue(steps, false, (size_t)n);
}

/* trace_summary - store the request's summary row; takes ownership */
void
trace_summary(const char *trace_id, cJSON *summary)
{
	cJSON_AddStringToObject(summary, "trace_id", trace_id);
	cJSON_AddNumberToObject(summary, "at_ms", (double)env_now_ms());
	enqueue(summary, true, 1);
}

/* trace_flush - wait until everything queued so far is stored (≤ 2 s) */
void
trace_flush(void)
{
	struct timespec ts;
	uint64_t        target;

	if (!tq.running)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	pthread_mutex_lock(&tq.mu);
	target = tq.enq;
	tq.flush_now = true;
	pthread_cond_signal(&tq.cv);
	while (tq.written < target)
		if (pthread_cond_timedwait(&tq.done_cv, &tq.mu, &ts) != 0)
			break;
	pthread_mutex_unlock(&tq.mu);
}

/* trace_dropped - records lost to a full queue */
uint64_t
trace_dropped(void)
{
	return atomic_load(&tq.dropped);
}
