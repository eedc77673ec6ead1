/*
 * trace.c - publish steps on the bus and store them in batches
 *
 * A request's steps are gathered per thread (each daemon handles one
 * request on one thread) and leave together when trace_end() is called: one
 * bus message and one queue entry per daemon per request, not one per step.
 * The writer thread wakes every TRACE_FLUSH_MS (or when a batch is full, or
 * on trace_flush), turns what is queued into rows and sends each table's
 * with one COPY, in one transaction.  Its session commits asynchronously: a crash may lose the last
 * moments of traces, never an answer or an action.
 */
#include "trace.h"

#include <pthread.h>
#include <stdio.h>
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

/* Rows queued at most; summaries (what feedback refers to) may use a
 * reserve beyond it that steps may not, so under overload steps go first. */
#define TRACE_QUEUE_MAX 20000
#define TRACE_SUMMARY_RESERVE 10000
#define TRACE_BATCH 500
/* Small, frequent batches: the database's work comes in short bursts
 * that delay the requests beside them less (p99 of cache hits at 2,000
 * req/s: ~3 ms at 10 ms, ~4.5 ms at 50 ms). */
#define TRACE_FLUSH_MS 10

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
	atomic_uint_least64_t dropped, dropped_sums; /* rows: steps; summaries */
} tq = {.mu = PTHREAD_MUTEX_INITIALIZER,
        .cv = PTHREAD_COND_INITIALIZER,
        .done_cv = PTHREAD_COND_INITIALIZER};

/* The columns the writer fills, and how a JSON member becomes one. */
enum col_kind { COL_TEXT, COL_INT, COL_FLOAT, COL_JSON, COL_TIME };

struct col {
	const char   *member; /* in the queued object */
	enum col_kind kind;
};

static const struct col step_cols[] = {
    {"trace_id", COL_TEXT}, {"daemon", COL_TEXT}, {"step", COL_TEXT},
    {"detail", COL_JSON},   {"us", COL_INT},      {"at_ms", COL_TIME},
};
static const char step_copy[] =
    "COPY trace_steps (trace_id, daemon, step, detail, elapsed_us, at) FROM STDIN";

static const struct col sum_cols[] = {
    {"trace_id", COL_TEXT},   {"user_id", COL_INT},      {"role", COL_TEXT},
    {"channel", COL_TEXT},    {"location", COL_TEXT},    {"message", COL_TEXT},
    {"route", COL_TEXT},      {"confidence", COL_FLOAT}, {"sop_slug", COL_TEXT},
    {"sop_version", COL_INT}, {"response", COL_TEXT},    {"escalation_tier", COL_INT},
    {"cache", COL_TEXT},      {"total_us", COL_INT},     {"at_ms", COL_TIME},
};
static const char sum_copy[] =
    "COPY traces (trace_id, user_id, role, channel, location, message, route, confidence, "
    "sop_slug, sop_version, response, escalation_tier, cache, total_us, created_at) FROM STDIN";

/* A batch in COPY's text format: tab between columns, \N for NULL. */
struct copybuf {
	char  *p;
	size_t len, cap;
	bool   oom;
};

/* cb_put - append n bytes */
static void
cb_put(struct copybuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char  *q;

		while (cap < b->len + n)
			cap *= 2;
		if ((q = realloc(b->p, cap)) == NULL) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* cb_text - append a value, escaping what COPY's text format reserves */
static void
cb_text(struct copybuf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *esc = NULL;

		switch (*s) {
		case '\\':
			esc = "\\\\";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		default:
			continue;
		}
		cb_put(b, run, (size_t)(s - run));
		cb_put(b, esc, 2);
		run = s + 1;
	}
	cb_put(b, run, (size_t)(s - run));
}

/* cb_row - one object as a row of the columns */
static void
cb_row(struct copybuf *b, const cJSON *o, const struct col *cols, size_t ncols)
{
	for (size_t i = 0; i < ncols; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, cols[i].member);
		char         num[64];

		if (i > 0)
			cb_put(b, "\t", 1);
		if (cols[i].kind == COL_JSON) {
			char *text = v != NULL ? cJSON_PrintUnformatted(v) : NULL;

			if (text == NULL)
				cb_put(b, "{}", 2);
			else
				cb_text(b, text);
			free(text);
		} else if (cJSON_IsString(v) && cols[i].kind == COL_TEXT) {
			cb_text(b, v->valuestring);
		} else if (!cJSON_IsNumber(v) || cols[i].kind == COL_TEXT) {
			cb_put(b, "\\N", 2);
		} else if (cols[i].kind == COL_FLOAT) {
			cb_put(b, num, (size_t)snprintf(num, sizeof(num), "%.17g", v->valuedouble));
		} else if (cols[i].kind == COL_INT) {
			cb_put(
			    b, num,
			    (size_t)snprintf(num, sizeof(num), "%lld", (long long)v->valuedouble));
		} else {
			time_t    sec = (time_t)(v->valuedouble / 1000);
			struct tm tm;

			gmtime_r(&sec, &tm);
			cb_put(b, num,
			       (size_t)snprintf(
			           num, sizeof(num), "%04d-%02d-%02d %02d:%02d:%02d.%03d+00",
			           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			           tm.tm_min, tm.tm_sec, (int)((long long)v->valuedouble % 1000)));
		}
	}
	cb_put(b, "\n", 1);
}

/*
 * copy_rows - COPY the rows into a table; returns 0 or -1.  COPY rather
 * than INSERT: no JSON for the server to parse, no plan, one pass (the
 * trace ids are fresh random ones, so no conflict handling is needed).
 */
static int
copy_rows(db_conn *db, const char *sql, const struct copybuf *b)
{
	PGconn   *pg = db_pg(db);
	PGresult *r;
	int       rc = 0;

	if (b->len == 0)
		return 0;
	if (b->oom || pg == NULL)
		return -1;
	r = PQexec(pg, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		log_warn("trace: %s", PQerrorMessage(pg));
		PQclear(r);
		return -1;
	}
	PQclear(r);
	if (PQputCopyData(pg, b->p, (int)b->len) != 1 || PQputCopyEnd(pg, NULL) != 1)
		rc = -1;
	while ((r = PQgetResult(pg)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			log_warn("trace: %s", PQresultErrorMessage(r));
			rc = -1;
		}
		PQclear(r);
	}
	return rc;
}

/* writer_main - drain the queue into PostgreSQL */
static void *
writer_main(void *arg)
{
	db_conn       *db = db_open(tq.dsn);
	struct copybuf sums = {0}, steps = {0}; /* kept for the next batch */

	(void)arg;
	pthread_mutex_lock(&tq.mu);
	for (;;) {
		struct trace_rec *batch;
		size_t            n = 0;

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

		for (struct trace_rec *r = batch, *nx; r != NULL; r = nx) {
			const cJSON *it;

			nx = r->next;
			if (r->summary)
				cb_row(&sums, r->obj, sum_cols,
				       sizeof(sum_cols) / sizeof(sum_cols[0]));
			else
				cJSON_ArrayForEach(it, r->obj)
				    cb_row(&steps, it, step_cols,
				           sizeof(step_cols) / sizeof(step_cols[0]));
			cJSON_Delete(r->obj);
			free(r);
		}
		if (db == NULL || db_begin(db) < 0 ||
		    db_cmd(db, "SET LOCAL synchronous_commit TO off", 0, NULL) < 0 ||
		    copy_rows(db, sum_copy, &sums) < 0 || copy_rows(db, step_copy, &steps) < 0 ||
		    db_commit(db) < 0) {
			if (db != NULL)
				db_rollback(db);
			log_warn("trace: batch of %zu records not stored", n);
		}
		sums.len = steps.len = 0;
		sums.oom = steps.oom = false;

		pthread_mutex_lock(&tq.mu);
		tq.written += n;
		pthread_cond_broadcast(&tq.done_cv);
	}
	pthread_mutex_unlock(&tq.mu);
	free(sums.p);
	free(steps.p);
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
		atomic_fetch_add(summary ? &tq.dropped_sums : &tq.dropped, rows);
		return;
	}
	r->next = NULL;
	r->summary = summary;
	r->obj = obj;
	r->n = rows;
	pthread_mutex_lock(&tq.mu);
	if (tq.len + rows > TRACE_QUEUE_MAX + (summary ? TRACE_SUMMARY_RESERVE : 0)) {
		pthread_mutex_unlock(&tq.mu);
		cJSON_Delete(obj);
		free(r);
		atomic_fetch_add(summary ? &tq.dropped_sums : &tq.dropped, rows);
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

/* trace_dropped - step rows lost to a full queue */
uint64_t
trace_dropped(void)
{
	return atomic_load(&tq.dropped);
}

/* trace_summaries_dropped - summary rows lost to a full queue */
uint64_t
trace_summaries_dropped(void)
{
	return atomic_load(&tq.dropped_sums);
}
