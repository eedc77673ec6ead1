/*
 * test_trace.c - the trace writer against a real server
 *
 * Needs CLUBOS_TEST_PG_DSN with the schema migrated (the end-to-end suite
 * runs this binary with its server's DSN: tests/e2e/test_db.py); without
 * it every test is skipped.  Bad bytes in one request cost nobody else's
 * rows, a row the server refuses costs only itself, and summaries the
 * queue cannot take are kept, for feedback to claim and store or for the
 * writer once it has room.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/db.h"
#include "common/env.h"
#include "common/trace.h"

static db_conn *db;

/* setup - connect and start the writer, or skip everything */
static int
setup(void **state)
{
	const char *dsn = getenv("CLUBOS_TEST_PG_DSN");

	(void)state;
	if (dsn == NULL || *dsn == '\0')
		return 0;
	db = db_open(dsn);
	return trace_init("test-trace", dsn);
}

/* teardown - stop the writer */
static int
teardown(void **state)
{
	(void)state;
	trace_shutdown();
	db_close(db);
	return 0;
}

/* sleep_ms - sleep ms milliseconds */
static void
sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* count - a number from one query with one parameter */
static long
count(const char *sql, const char *arg)
{
	const char *p[] = {arg};
	PGresult   *r = db_exec(db, sql, 1, p);
	long        n;

	assert_non_null(r);
	n = strtol(db_val(r, 0, 0), NULL, 10);
	PQclear(r);
	return n;
}

/* request - one request's steps and summary, the message as given */
static void
request(char tid[33], const char *message)
{
	cJSON *d = cJSON_CreateObject(), *sum = cJSON_CreateObject();

	trace_new_id(tid);
	cJSON_AddStringToObject(d, "text", message);
	trace_step(tid, "received", d, 1);
	trace_step(tid, "answered", NULL, 2);
	trace_end();
	cJSON_AddStringToObject(sum, "message", message);
	cJSON_AddStringToObject(sum, "route", "tech");
	trace_summary(tid, sum);
}

/* bad_bytes: invalid UTF-8 in one request; every neighbour is stored, and
 * so is the bad one, its bytes replaced */
static void
test_bad_bytes(void **state)
{
	char tids[5][33];

	(void)state;
	if (db == NULL)
		skip();
	for (int i = 0; i < 5; i++)
		request(tids[i], i == 2 ? "frozen \xff\xfe screen \xc3" : "frozen screen");
	trace_flush();
	for (int i = 0; i < 5; i++) {
		assert_int_equal(count("SELECT count(*) FROM traces WHERE trace_id = $1", tids[i]),
		                 1);
		assert_int_equal(
		    count("SELECT count(*) FROM trace_steps WHERE trace_id = $1", tids[i]), 2);
	}
	assert_int_equal(count("SELECT count(*) FROM traces WHERE trace_id = $1 AND "
	                       "message = 'frozen \uFFFD\uFFFD screen \uFFFD'",
	                       tids[2]),
	                 1);
}

/* refused_row: a row the server refuses (a trace id its CHECK rejects)
 * costs only itself: the batch is stored row by row */
static void
test_refused_row(void **state)
{
	char     a[33], b[33];
	uint64_t bad0 = trace_bad_rows();

	(void)state;
	if (db == NULL)
		skip();
	request(a, "before");
	trace_summary("NOT-A-TRACE-ID", cJSON_CreateObject());
	request(b, "after");
	trace_flush();
	assert_int_equal(count("SELECT count(*) FROM traces WHERE trace_id = $1", a), 1);
	assert_int_equal(count("SELECT count(*) FROM traces WHERE trace_id = $1", b), 1);
	assert_true(trace_bad_rows() == bad0 + 1);
}

/* hold_writer - hold the writer back (a file named after name) with queues
 * of queue_max; unlinking the file releases it */
static void
hold_writer(char *hold, size_t cap, const char *name, size_t queue_max)
{
	FILE *f;

	snprintf(hold, cap, "/tmp/clubos-test-trace-%s-%ld", name, (long)getpid());
	assert_non_null(f = fopen(hold, "w"));
	fclose(f);
	trace_limits(queue_max, hold);
}

/* overload: the writer held back, a queue of 10: summaries beyond it are
 * kept, claimed and stored by the caller; nothing is dropped or doubled */
static void
test_overload_claim(void **state)
{
	char     hold[64], tids[15][33];
	uint64_t dropped0 = trace_summaries_dropped();

	(void)state;
	if (db == NULL)
		skip();
	hold_writer(hold, sizeof(hold), "hold", 10);
	for (int i = 0; i < 15; i++)
		request(tids[i], "overloaded");
	assert_true(trace_dropped() > 0); /* steps: 30 rows for a queue of 10 */
	/* One from the ring (beyond the queue), one still queued. */
	for (int k = 0; k < 2; k++) {
		cJSON *sum = trace_summary_claim(tids[k == 0 ? 13 : 3]);

		assert_non_null(sum);
		assert_int_equal(trace_summary_store(db, sum), 0);
		cJSON_Delete(sum);
	}
	assert_null(trace_summary_claim(tids[3])); /* claimed once only */
	unlink(hold);
	trace_flush();
	/* Released, the writer stores the rest, the ring's included: each
	 * summary once, none lost. */
	for (int i = 0; i < 15; i++) {
		/* The writer stores on its own thread: wait for it, with a deadline. */
		int64_t until = env_mono_us() + 10 * 1000000;
		int     n;

		while ((n = count("SELECT count(*) FROM traces WHERE trace_id = $1", tids[i])) ==
		           0 &&
		       env_mono_us() < until) {
			struct timespec nap = {0, 20 * 1000000L};

			nanosleep(&nap, NULL);
			trace_flush();
		}
		assert_int_equal(n, 1);
	}
	assert_true(trace_summaries_dropped() == dropped0);
	trace_limits(0, NULL);
}

/* summaries first: with summaries backed up (held writer, 15 of a queue
 * of 40), the writer's first round stores them alone and the steps wait
 * for the next; nothing is lost either way */
static void
test_summaries_go_first(void **state)
{
	char     hold[64], tids[15][33];
	uint64_t rounds0 = trace_sums_only_rounds(), dropped0 = trace_dropped();

	(void)state;
	if (db == NULL)
		skip();
	hold_writer(hold, sizeof(hold), "first", 40);
	for (int i = 0; i < 15; i++)
		request(tids[i], "backed up");
	assert_true(trace_sums_only_rounds() == rounds0); /* held: nothing taken */
	unlink(hold);
	trace_flush();
	assert_true(trace_sums_only_rounds() == rounds0 + 1);
	/* The steps followed in the next round: every request whole. */
	for (int i = 0; i < 15; i++) {
		assert_int_equal(count("SELECT count(*) FROM traces WHERE trace_id = $1", tids[i]),
		                 1);
		assert_int_equal(
		    count("SELECT count(*) FROM trace_steps WHERE trace_id = $1", tids[i]), 2);
	}
	assert_true(trace_dropped() == dropped0);
	trace_limits(0, NULL);
}

/* idle writer: with nothing queued it sleeps (a tick would wake it ~30
 * times in 300 ms); a request wakes it, unasked, and is stored whole, its
 * steps as one row of trace_step_sets */
static void
test_idle_writer_sleeps(void **state)
{
	char     tid[33];
	uint64_t wakes0;
	long     stored = 0;

	(void)state;
	if (db == NULL)
		skip();
	trace_flush();
	sleep_ms(50);
	wakes0 = trace_writer_wakes();
	sleep_ms(300);
	assert_true(trace_writer_wakes() - wakes0 <= 1);
	request(tid, "after a quiet spell");
	for (int i = 0; i < 100 && stored == 0; i++) {
		sleep_ms(20);
		stored = count("SELECT count(*) FROM traces WHERE trace_id = $1", tid);
	}
	assert_int_equal(stored, 1);
	for (int i = 0;
	     i < 100 && count("SELECT count(*) FROM trace_steps WHERE trace_id = $1", tid) < 2; i++)
		sleep_ms(20);
	assert_int_equal(count("SELECT count(*) FROM trace_steps WHERE trace_id = $1", tid), 2);
	assert_int_equal(count("SELECT count(*) FROM trace_step_sets WHERE trace_id = $1", tid), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_bytes),          cmocka_unit_test(test_refused_row),
	    cmocka_unit_test(test_overload_claim),     cmocka_unit_test(test_summaries_go_first),
	    cmocka_unit_test(test_idle_writer_sleeps),
	};

	return cmocka_run_group_tests_name("trace", tests, setup, teardown);
}
