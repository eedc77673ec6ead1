/*
 * trace.c - publish steps on the bus and store them in batches
 *
 * A request's steps are gathered per thread (each daemon handles one
 * request on one thread) and leave together when trace_end() is called:
 * one queue entry per daemon per request, not one per step.  The writer
 * thread sleeps while nothing is queued; from the first record on it wakes
 * every TRACE_FLUSH_MS (or when a batch is full, or on trace_flush), turns
 * what is queued into rows (one per daemon per request: the steps as one
 * JSON array, migrations/0020) and sends each table's with
 * one COPY, each in its own transaction, summaries first.  Its session
 * commits asynchronously: a crash may lose the last moments of traces,
 * never an answer or an action.
 *
 * The bus gets the steps in batches too: trace_end appends them to one
 * outgoing array, which the writer publishes on each wake (and the request
 * thread itself when it reaches TRACE_PUB_MAX bytes).  One message per
 * daemon per tick instead of one per request: under load, a message per
 * request cost each of the publisher, the hub and every tailer several
 * thread wake-ups, about a fifth of all context switches.  Tailers read
 * a message as an array of steps of any number of traces.  The bus batch
 * is independent of the database: a writer held back or a full queue
 * still publishes.
 *
 * One bad row never costs a batch: text is made valid UTF-8 on the way in
 * (an invalid byte becomes U+FFFD), and a COPY that fails anyway is done
 * again row by row, so only the row at fault is lost (and counted).
 * Summaries, which feedback refers to, have their own queue: steps never
 * crowd them out, and a summary that finds even that queue full is kept
 * in a small ring from which the feedback handler can store it itself
 * (trace_summary_claim, trace_summary_store).
 */
#include "common/trace.h"

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/bus.h"
#include "common/db.h"
#include "common/env.h"
#include "common/log.h"
#include "common/util.h"

/* Step rows queued at most (trace_limits may lower it in tests), and
 * summaries queued at most; summaries beyond that wait in a ring of the
 * last TRACE_RING, for feedback to claim. */
#define TRACE_QUEUE_MAX 20000
#define TRACE_SUMMARY_MAX 10000
#define TRACE_RING 1024
#define TRACE_BATCH 500
/* Small, frequent batches: the database's work comes in short bursts
 * that delay the requests beside them less (p99 of cache hits at 2,000
 * req/s: ~3 ms at 10 ms, ~4.5 ms at 50 ms). */
#define TRACE_FLUSH_MS 10
/* A bus batch at most (bytes of JSON): well under what the console's live
 * feed carries in one frame (gateway/api_events.c, EV_MAX_FRAME). */
#define TRACE_PUB_MAX (32 * 1024)

struct trace_rec {
	struct trace_rec *next;
	bool              summary;
	cJSON            *obj;   /* a summary object (NULL for steps) */
	char             *steps; /* a daemon's steps of one request, a printed array */
	char              tid[33];
	double            at_ms; /* when the first of those steps was taken */
	size_t            n;     /* summaries or steps it holds */
};

/* The steps of the request this thread is handling. */
static __thread cJSON *tls_steps;
static __thread char   tls_tid[33];

/* A queue of records and the rows they hold. */
struct trace_list {
	struct trace_rec *head, *tail;
	size_t            len;
};

static struct {
	pthread_mutex_t       mu;
	pthread_cond_t        cv, done_cv;
	struct trace_list     steps, sums;
	size_t                steps_max, sums_max;
	cJSON                *ring[TRACE_RING]; /* summaries no queue could take */
	unsigned              ring_next;
	uint64_t              enq, written; /* sequence numbers, for trace_flush */
	bool                  running, stop, flush_now;
	bool                  idle; /* the writer sleeps until something is queued */
	pthread_t             thr;
	char                  daemon[48];
	char                 *dsn;
	unsigned long         session_gen;    /* the connection set up for the writer (its own) */
	char                  hold_file[256]; /* tests: the writer waits while it exists */
	atomic_uint_least64_t dropped, dropped_sums; /* rows: steps; summaries */
	atomic_uint_least64_t bad_rows;              /* rows the database refused */
	atomic_uint_least64_t sums_only;             /* rounds that left the steps queued */
	atomic_uint_least64_t wakes;                 /* the writer's wake-ups (tests) */
} tq = {.mu = PTHREAD_MUTEX_INITIALIZER,
        .cv = PTHREAD_COND_INITIALIZER,
        .done_cv = PTHREAD_COND_INITIALIZER,
        .steps_max = TRACE_QUEUE_MAX,
        .sums_max = TRACE_SUMMARY_MAX};

/* The steps waiting for the bus: "[" then arrays' members, comma-separated
 * (publish closes the bracket).  Its own lock: publishing never waits for
 * the writer's. */
static struct {
	pthread_mutex_t mu;
	char           *p;
	size_t          len, cap;
} pq = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* The columns the writer fills, and how a JSON member becomes one. */
enum col_kind { COL_TEXT, COL_INT, COL_FLOAT, COL_TIME };

struct col {
	const char   *member; /* in the queued object */
	enum col_kind kind;
};

/* One row per daemon per request: the steps as the bus carries them
 * (migrations/0020; trace_steps is a view of one row per step). */
static const char step_copy[] = "COPY trace_step_sets (trace_id, daemon, steps, at) FROM STDIN";

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

/*
 * utf8_len - the length of the valid UTF-8 sequence at s (at most n
 * bytes), or 0 when it is not one (overlong, surrogate, beyond U+10FFFF,
 * cut short).
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t   len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * cb_text - append a value: escape what COPY's text format reserves, and
 * replace every byte that is not valid UTF-8 with U+FFFD, so no value can
 * make the server refuse the batch.
 */
static void
cb_text(struct copybuf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str, *run = s;
	size_t               n = strlen(str);

	while (n > 0) {
		const char *esc = NULL;
		size_t      len = utf8_len(s, n);

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
			if (len == 0)
				esc = "\xef\xbf\xbd";
			break;
		}
		if (esc == NULL) {
			s += len;
			n -= len;
			continue;
		}
		cb_put(b, (const char *)run, (size_t)(s - run));
		cb_put(b, esc, strlen(esc));
		s++;
		n--;
		run = s;
	}
	cb_put(b, (const char *)run, (size_t)(s - run));
}

/* cb_time - epoch milliseconds as a timestamptz */
static void
cb_time(struct copybuf *b, double ms)
{
	time_t    sec = (time_t)(ms / 1000);
	struct tm tm;
	char      num[64];

	gmtime_r(&sec, &tm);
	cb_put(b, num,
	       (size_t)snprintf(num, sizeof(num), "%04d-%02d-%02d %02d:%02d:%02d.%03d+00",
	                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                        tm.tm_sec, (int)((long long)ms % 1000)));
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
		if (cJSON_IsString(v) && cols[i].kind == COL_TEXT) {
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
			cb_time(b, v->valuedouble);
		}
	}
	cb_put(b, "\n", 1);
}

/* cb_set - a daemon's steps of one request as a trace_step_sets row */
static void
cb_set(struct copybuf *b, const struct trace_rec *r)
{
	cb_text(b, r->tid);
	cb_put(b, "\t", 1);
	cb_text(b, tq.daemon);
	cb_put(b, "\t", 1);
	cb_text(b, r->steps);
	cb_put(b, "\t", 1);
	cb_time(b, r->at_ms);
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

/*
 * copy_one_by_one - the batch failed: COPY each row alone (rows end in a
 * newline; newlines inside values are escaped), so only rows the server
 * refuses are lost.  Returns the number refused.
 */
static size_t
copy_one_by_one(db_conn *db, const char *sql, const struct copybuf *b)
{
	size_t bad = 0;

	for (size_t at = 0; at < b->len;) {
		const char    *nl = memchr(b->p + at, '\n', b->len - at);
		size_t         end = nl != NULL ? (size_t)(nl - b->p) + 1 : b->len;
		struct copybuf row = {.p = b->p + at, .len = end - at, .cap = end - at};

		if (copy_rows(db, sql, &row) < 0)
			bad++;
		at = end;
	}
	return bad;
}

/*
 * session_ready - the writer's connection is up and commits
 * asynchronously.  Set once per connection (db_generation changes with
 * each), not per batch: a COPY is then its own transaction, one round
 * trip where BEGIN, SET LOCAL, COPY and COMMIT took four, at every tick of
 * every writer.
 */
static bool
session_ready(db_conn *db)
{
	if (db == NULL || !db_ok(db))
		return false;
	if (tq.session_gen == db_generation(db))
		return true;
	if (db_cmd(db, "SET synchronous_commit TO off", 0, NULL) < 0)
		return false;
	tq.session_gen = db_generation(db);
	return true;
}

/* store - one table's rows with one COPY (one transaction); row by row if that fails */
static void
store(db_conn *db, const char *sql, const struct copybuf *b, size_t recs)
{
	size_t bad;

	if (b->len == 0)
		return;
	if (session_ready(db) && copy_rows(db, sql, b) == 0)
		return;
	if (db == NULL || b->oom || !db_ok(db)) {
		log_warn("trace: %zu records not stored (database unavailable)", recs);
		return;
	}
	bad = copy_one_by_one(db, sql, b);
	atomic_fetch_add(&tq.bad_rows, bad);
	log_warn("trace: a batch failed; stored row by row, %zu row(s) refused", bad);
}

/* held - tests only: the writer waits while the hold file exists */
static bool
held(void)
{
	return tq.hold_file[0] != '\0' && access(tq.hold_file, F_OK) == 0;
}

/* list_take - the whole list, leaving it empty */
static struct trace_rec *
list_take(struct trace_list *l)
{
	struct trace_rec *r = l->head;

	l->head = l->tail = NULL;
	l->len = 0;
	return r;
}

/* rec_free - a record and what it holds */
static void
rec_free(struct trace_rec *r)
{
	cJSON_Delete(r->obj);
	free(r->steps);
	free(r);
}

/* to_rows - a list of records as COPY rows; frees the records */
static void
to_rows(struct trace_rec *r, struct copybuf *sums, struct copybuf *steps)
{
	for (struct trace_rec *nx; r != NULL; r = nx) {
		nx = r->next;
		if (r->summary)
			cb_row(sums, r->obj, sum_cols, sizeof(sum_cols) / sizeof(sum_cols[0]));
		else
			cb_set(steps, r);
		rec_free(r);
	}
}

/* ring_empty - no summary waits in the ring (the lock held) */
static bool
ring_empty(void)
{
	for (unsigned i = 0; i < TRACE_RING; i++)
		if (tq.ring[i] != NULL)
			return false;
	return true;
}

/* ring_drain - move summaries kept in the ring back to their queue, as
 * far as it has room (the lock held) */
static void
ring_drain(void)
{
	for (unsigned i = 0; i < TRACE_RING && tq.sums.len < tq.sums_max; i++) {
		struct trace_rec *r;

		if (tq.ring[i] == NULL || (r = calloc(1, sizeof(*r))) == NULL)
			continue;
		r->next = NULL;
		r->summary = true;
		r->obj = tq.ring[i];
		r->n = 1;
		tq.ring[i] = NULL;
		if (tq.sums.tail != NULL)
			tq.sums.tail->next = r;
		else
			tq.sums.head = r;
		tq.sums.tail = r;
		tq.sums.len++;
		tq.enq++;
	}
}

/* pub_take - the pending bus batch as one JSON array (NULL if none); the lock held */
static char *
pub_take(void)
{
	char *out = pq.p;

	if (pq.len == 0)
		return NULL;
	out[pq.len++] = ']';
	out[pq.len] = '\0';
	pq.p = NULL;
	pq.len = pq.cap = 0;
	return out;
}

/* pub_send - publish a taken batch and free it (NULL: nothing) */
static void
pub_send(char *text)
{
	if (text != NULL)
		bus_publish("trace", text);
	free(text);
}

/* pub_flush - publish the pending bus batch, if any */
static void
pub_flush(void)
{
	char *text;

	pthread_mutex_lock(&pq.mu);
	text = pub_take();
	pthread_mutex_unlock(&pq.mu);
	pub_send(text);
}

/* pub_add - add a printed array of steps to the bus batch; a batch that
 * would grow past TRACE_PUB_MAX goes out first, from this thread */
static void
pub_add(const char *arr)
{
	size_t n = strlen(arr), need;
	char  *full = NULL;

	if (n < 3 || arr[0] != '[' || arr[n - 1] != ']')
		return; /* an empty array: nothing to say */
	arr++, n -= 2;  /* the members only */
	need = n + 3;   /* "[" or ",", the members, "]" and NUL */
	pthread_mutex_lock(&pq.mu);
	if (pq.len > 0 && pq.len + need > TRACE_PUB_MAX)
		full = pub_take();
	if (pq.len + need > pq.cap) {
		size_t cap = pq.cap ? pq.cap : 4096;
		char  *p;

		while (cap < pq.len + need)
			cap *= 2;
		if ((p = realloc(pq.p, cap)) == NULL) {
			pthread_mutex_unlock(&pq.mu);
			pub_send(full);
			return; /* the bus is lossy: these steps are not published */
		}
		pq.p = p;
		pq.cap = cap;
	}
	pq.p[pq.len] = pq.len == 0 ? '[' : ',';
	pq.len++;
	memcpy(pq.p + pq.len, arr, n);
	pq.len += n;
	pthread_mutex_unlock(&pq.mu);
	pub_send(full);
}

/* writer_main - drain the queues into PostgreSQL */
static void *
writer_main(void *arg)
{
	db_conn       *db = db_open(tq.dsn);
	struct copybuf sums = {0}, steps = {0}; /* kept for the next batch */

	(void)arg;
	pthread_mutex_lock(&tq.mu);
	for (;;) {
		struct trace_rec *sb, *stb;
		size_t            n, ns;

		/* Nothing queued: sleep until something is (enqueue wakes an idle
		 * writer).  A writer that ticked while idle woke every process
		 * 100 times a second for nothing: a tenth of a core, stack-wide,
		 * with no traffic at all. */
		while (tq.steps.head == NULL && tq.sums.head == NULL && !tq.flush_now && !tq.stop &&
		       ring_empty()) {
			tq.idle = true;
			pthread_cond_wait(&tq.cv, &tq.mu);
			tq.idle = false;
			atomic_fetch_add(&tq.wakes, 1);
		}
		/* Sleep a tick unless a batch is full or someone waits. */
		if ((tq.steps.len + tq.sums.len < TRACE_BATCH && !tq.flush_now && !tq.stop) ||
		    (held() && !tq.stop)) {
			struct timespec ts = util_deadline_ts(CLOCK_REALTIME, TRACE_FLUSH_MS);

			pthread_cond_timedwait(&tq.cv, &tq.mu, &ts);
			atomic_fetch_add(&tq.wakes, 1);
		}
		/* The bus batch goes every tick, the writer held back or not. */
		pthread_mutex_unlock(&tq.mu);
		pub_flush();
		pthread_mutex_lock(&tq.mu);
		if (held() && !tq.stop)
			continue;
		tq.flush_now = false;
		/* Summaries kept aside under load go now, while there is room. */
		ring_drain();
		if (tq.steps.head == NULL && tq.sums.head == NULL) {
			if (tq.stop)
				break;
			continue;
		}
		/* Take everything queued so far; but while summaries back up (a
		 * quarter of their queue), they go alone and the steps wait (past
		 * their own queue they are dropped, as under load they would be
		 * anyway): a summary is what a feedback refers to, a step detail. */
		ns = tq.sums.len;
		sb = list_take(&tq.sums);
		if (ns >= tq.sums_max / 4 && ns > 0 && !tq.stop) {
			n = ns;
			stb = NULL;
			atomic_fetch_add(&tq.sums_only, 1);
		} else {
			n = ns + tq.steps.len;
			stb = list_take(&tq.steps);
		}
		pthread_mutex_unlock(&tq.mu);

		to_rows(sb, &sums, &steps);
		to_rows(stb, &sums, &steps);
		/* Summaries first and on their own: a bad step never costs one. */
		store(db, sum_copy, &sums, ns);
		store(db, step_copy, &steps, n - ns);
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

/* trace_limits - step rows queued at most (0: the default) and, outside
 * production only, a file whose existence holds the writer back (tests) */
void
trace_limits(size_t queue_max, const char *hold_file)
{
	pthread_mutex_lock(&tq.mu);
	tq.steps_max = queue_max > 0 ? queue_max : TRACE_QUEUE_MAX;
	tq.sums_max =
	    queue_max > 0 && queue_max < TRACE_SUMMARY_MAX ? queue_max : TRACE_SUMMARY_MAX;
	snprintf(tq.hold_file, sizeof(tq.hold_file), "%s", hold_file != NULL ? hold_file : "");
	pthread_mutex_unlock(&tq.mu);
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
	tq.session_gen = 0;
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
	pub_flush();
	for (unsigned i = 0; i < TRACE_RING; i++) {
		cJSON_Delete(tq.ring[i]);
		tq.ring[i] = NULL;
	}
	free(tq.dsn);
	tq.dsn = NULL;
}

/* trace_new_id - 32 hex characters from libsodium's random source */
void
trace_new_id(char out[33])
{
	util_random_hex(out, 16);
}

/* ring_keep - a summary no queue could take waits here for feedback;
 * the oldest one makes room (and is counted as dropped) */
static void
ring_keep(cJSON *obj)
{
	unsigned i = tq.ring_next++ % TRACE_RING;

	if (tq.ring[i] != NULL) {
		cJSON_Delete(tq.ring[i]);
		atomic_fetch_add(&tq.dropped_sums, 1);
	}
	tq.ring[i] = obj;
}

/* enqueue - hand a record to the writer; takes ownership of r */
static void
enqueue(struct trace_rec *r)
{
	struct trace_list *l = r->summary ? &tq.sums : &tq.steps;

	pthread_mutex_lock(&tq.mu);
	if (l->len + r->n > (r->summary ? tq.sums_max : tq.steps_max)) {
		if (r->summary) {
			ring_keep(r->obj);
			r->obj = NULL;
		} else {
			atomic_fetch_add(&tq.dropped, r->n);
		}
		pthread_mutex_unlock(&tq.mu);
		rec_free(r);
		return;
	}
	r->next = NULL;
	if (l->tail != NULL)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->len += r->n;
	tq.enq += r->n;
	if (tq.idle || tq.steps.len + tq.sums.len >= TRACE_BATCH)
		pthread_cond_signal(&tq.cv);
	pthread_mutex_unlock(&tq.mu);
}

/* same_trace - is obj the summary of trace_id? */
static bool
same_trace(const cJSON *obj, const char *trace_id)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "trace_id");

	return cJSON_IsString(t) && strcmp(t->valuestring, trace_id) == 0;
}

/*
 * trace_summary_claim - take trace_id's summary back from the writer when
 * it is still queued or was kept in the ring: the caller stores it
 * (trace_summary_store) and owns it.  NULL when the writer has it or
 * never had it.
 */
cJSON *
trace_summary_claim(const char *trace_id)
{
	cJSON *found = NULL;

	pthread_mutex_lock(&tq.mu);
	for (struct trace_rec **pp = &tq.sums.head, *r; (r = *pp) != NULL; pp = &r->next)
		if (same_trace(r->obj, trace_id)) {
			*pp = r->next;
			if (tq.sums.tail == r) {
				struct trace_rec *t = tq.sums.head;

				while (t != NULL && t->next != NULL)
					t = t->next;
				tq.sums.tail = t;
			}
			tq.sums.len -= r->n;
			tq.written += r->n; /* no longer the writer's to wait for */
			found = r->obj;
			free(r);
			break;
		}
	for (unsigned i = 0; found == NULL && i < TRACE_RING; i++)
		if (tq.ring[i] != NULL && same_trace(tq.ring[i], trace_id)) {
			found = tq.ring[i];
			tq.ring[i] = NULL;
		}
	pthread_mutex_unlock(&tq.mu);
	return found;
}

/*
 * trace_summary_store - store a claimed summary on the caller's
 * connection, with parameters; ON CONFLICT keeps a row the writer stored
 * meanwhile.  0 or -1.
 */
int
trace_summary_store(db_conn *db, const cJSON *sum)
{
	enum { NCOL = sizeof(sum_cols) / sizeof(sum_cols[0]) };
	char        nums[NCOL][32];
	const char *p[NCOL];

	for (size_t i = 0; i < NCOL; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(sum, sum_cols[i].member);

		p[i] = NULL;
		if (sum_cols[i].kind == COL_TEXT)
			p[i] = cJSON_IsString(v) ? v->valuestring : NULL;
		else if (cJSON_IsNumber(v) && sum_cols[i].kind == COL_FLOAT)
			p[i] =
			    (snprintf(nums[i], sizeof(nums[i]), "%.17g", v->valuedouble), nums[i]);
		else if (cJSON_IsNumber(v))
			p[i] =
			    (snprintf(nums[i], sizeof(nums[i]), "%lld", (long long)v->valuedouble),
			     nums[i]);
	}
	return db_cmd(db,
	              "INSERT INTO traces (trace_id, user_id, role, channel, location, message, "
	              "  route, confidence, sop_slug, sop_version, response, escalation_tier, "
	              "  cache, total_us, created_at) "
	              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
	              "  to_timestamp($15::bigint / 1000.0)) "
	              "ON CONFLICT (trace_id) DO NOTHING",
	              NCOL, p);
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

/* trace_end - the request is done here: its steps to the bus batch and the
 * writer's queue (without a writer, straight to the bus) */
void
trace_end(void)
{
	cJSON            *steps = tls_steps;
	const cJSON      *first, *at;
	struct trace_rec *r;
	char             *text;
	int               n;

	if (steps == NULL)
		return;
	tls_steps = NULL;
	n = cJSON_GetArraySize(steps);
	first = cJSON_GetArrayItem(steps, 0);
	at = cJSON_GetObjectItemCaseSensitive(first, "at_ms");
	text = n > 0 ? cJSON_PrintUnformatted(steps) : NULL;
	if (text != NULL && !tq.running)
		bus_publish("trace", text);
	if (text != NULL && tq.running) {
		pub_add(text);
		/* The writer stores the text the bus got: one row, no second print. */
		if ((r = calloc(1, sizeof(*r))) != NULL) {
			r->steps = text;
			r->n = (size_t)n;
			r->at_ms = cJSON_IsNumber(at) ? at->valuedouble : (double)env_now_ms();
			snprintf(r->tid, sizeof(r->tid), "%s", tls_tid);
			text = NULL;
			enqueue(r);
		} else {
			atomic_fetch_add(&tq.dropped, (size_t)n);
		}
	}
	free(text);
	cJSON_Delete(steps);
}

/* trace_summary - store the request's summary row; takes ownership */
void
trace_summary(const char *trace_id, cJSON *summary)
{
	struct trace_rec *r;

	cJSON_AddStringToObject(summary, "trace_id", trace_id);
	cJSON_AddNumberToObject(summary, "at_ms", (double)env_now_ms());
	if (!tq.running) {
		cJSON_Delete(summary);
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		cJSON_Delete(summary);
		atomic_fetch_add(&tq.dropped_sums, 1);
		return;
	}
	r->summary = true;
	r->obj = summary;
	r->n = 1;
	enqueue(r);
}

/* trace_flush - wait until everything queued so far is stored (≤ 2 s) */
void
trace_flush(void)
{
	struct timespec ts;
	uint64_t        target;

	if (!tq.running || held())
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

/* trace_summaries_dropped - summaries lost: beyond their queue and the ring */
uint64_t
trace_summaries_dropped(void)
{
	return atomic_load(&tq.dropped_sums);
}

/* trace_sums_only_rounds - writer rounds that stored summaries alone */
uint64_t
trace_sums_only_rounds(void)
{
	return atomic_load(&tq.sums_only);
}

/* trace_writer_wakes - times the writer woke from a wait (trace.h) */
uint64_t
trace_writer_wakes(void)
{
	return atomic_load(&tq.wakes);
}

/* trace_bad_rows - rows the database refused even one by one */
uint64_t
trace_bad_rows(void)
{
	return atomic_load(&tq.bad_rows);
}
