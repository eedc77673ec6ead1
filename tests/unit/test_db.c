/*
 * test_db.c - the PostgreSQL wrapper against a real server
 *
 * Needs CLUBOS_TEST_PG_DSN (the end-to-end suite runs this binary with its
 * throwaway server's DSN: tests/e2e/test_db.py); without it every test is
 * skipped.  Checks that a COMMIT the server answers with ROLLBACK is a
 * failure, that an error raised when a lone statement commits is that
 * statement's failure, that a prepared statement is prepared once per
 * connection, that SQLSTATEs map to the contract's statuses, that every
 * connection has a statement timeout, and that connecting to a server that
 * never answers gives up after the connect timeout, and that an idle
 * connection the server ended is replaced before the next statement, and
 * that a LISTEN wait wakes on a NOTIFY and is set again on a new connection.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/db.h"
#include "common/env.h"

/* dsn - the server to test against, or skip */
static const char *
dsn(void)
{
	const char *d = getenv("CLUBOS_TEST_PG_DSN");

	if (d == NULL || *d == '\0')
		skip();
	return d;
}

/* terminate - the server ends victim's connection (as a restart would);
 * its backend pid goes to pid */
static void
terminate(db_conn *victim, db_conn *killer, char *pid, size_t cap)
{
	PGresult   *r;
	const char *p[] = {pid};

	assert_non_null(r = db_exec(victim, "SELECT pg_backend_pid()::text", 0, NULL));
	snprintf(pid, cap, "%s", db_val(r, 0, 0));
	PQclear(r);
	assert_non_null(r = db_exec(killer, "SELECT pg_terminate_backend($1::int)", 1, p));
	assert_string_equal(db_val(r, 0, 0), "t");
	PQclear(r);
	usleep(200 * 1000); /* the message and the close are both waiting now */
}

/* waited_ms - how long db_wait_notify(db, timeout_ms) took */
static int64_t
waited_ms(db_conn *db, int timeout_ms)
{
	int64_t t0 = env_mono_us();

	db_wait_notify(db, timeout_ms);
	return (env_mono_us() - t0) / 1000;
}

/* terminated: a server that ended an idle connection (a restart, an
 * administrator) costs no statement: the next one reconnects first */
static void
test_terminated_idle_connection(void **state)
{
	db_conn  *a, *b;
	PGresult *r;
	char      pid[16];

	(void)state;
	assert_non_null(a = db_open(dsn()));
	assert_non_null(b = db_open(dsn()));
	terminate(a, b, pid, sizeof(pid));
	assert_non_null(r = db_exec(a, "SELECT pg_backend_pid()::text", 0, NULL));
	assert_string_not_equal(db_val(r, 0, 0), pid);
	PQclear(r);
	db_close(a);
	db_close(b);
}

/* prepared_count - how many statements a's connection has prepared */
static int
prepared_count(db_conn *a)
{
	PGresult *r = db_exec(a, "SELECT count(*) FROM pg_prepared_statements", 0, NULL);
	int       n;

	assert_non_null(r);
	n = atoi(db_val(r, 0, 0));
	PQclear(r);
	return n;
}

/* prepared: db_exec_stmt prepares a statement once per connection, runs it
 * with its parameters, prepares it again on a new connection, and still
 * runs what it has no room to prepare */
static void
test_prepared_statements(void **state)
{
	static const struct db_stmt add = {"unit_add", "SELECT ($1::int + $2::int)::text", 2};
	static struct db_stmt       many[DB_MAX_PREPARED + 1];
	static char                 names[DB_MAX_PREPARED + 1][24];
	const char                 *p[] = {"40", "2"}, *bad[] = {"x", "2"};
	db_conn                    *a, *b;
	PGresult                   *r;
	char                        pid[16];

	(void)state;
	assert_non_null(a = db_open(dsn()));
	assert_non_null(b = db_open(dsn()));
	for (int i = 0; i < 3; i++) {
		assert_non_null(r = db_exec_stmt(a, &add, p));
		assert_string_equal(db_val(r, 0, 0), "42");
		PQclear(r);
	}
	assert_int_equal(prepared_count(a), 1);
	/* Bad input fails as it would unprepared, with its SQLSTATE. */
	assert_null(db_exec_stmt(a, &add, bad));
	assert_string_equal(db_sqlstate(a), "22P02");

	/* A new connection has nothing prepared: it is prepared again. */
	terminate(a, b, pid, sizeof(pid));
	assert_non_null(r = db_exec_stmt(a, &add, p));
	assert_string_equal(db_val(r, 0, 0), "42");
	PQclear(r);
	assert_int_equal(prepared_count(a), 1);

	/* Past DB_MAX_PREPARED, a statement runs unprepared. */
	for (int i = 0; i <= DB_MAX_PREPARED; i++) {
		snprintf(names[i], sizeof(names[i]), "unit_%d", i);
		many[i] = (struct db_stmt){names[i], "SELECT $1::int * 2", 1};
		assert_non_null(r = db_exec_stmt(a, &many[i], p));
		assert_string_equal(db_val(r, 0, 0), "80");
		PQclear(r);
	}
	assert_int_equal(prepared_count(a), DB_MAX_PREPARED);
	db_close(a);
	db_close(b);
}

/* notify: db_wait_notify wakes on a NOTIFY long before its timeout, and
 * db_listen listens again once the connection it was set on is replaced */
static void
test_listen_and_notify(void **state)
{
	db_conn      *a, *b;
	char          pid[16];
	unsigned long seen = 0, before;

	(void)state;
	assert_non_null(a = db_open(dsn()));
	assert_non_null(b = db_open(dsn()));
	assert_true(db_listen(a, "clubos_unit", &seen));
	assert_true(seen != 0);
	assert_true(db_listen(a, "clubos_unit", &seen)); /* same connection: nothing sent */

	/* Nothing pending: the whole timeout is slept. */
	assert_true(waited_ms(a, 150) >= 140);

	/* Pending: back at once, and it is consumed (the next wait sleeps). */
	assert_int_equal(db_cmd(b, "NOTIFY clubos_unit", 0, NULL), 0);
	assert_true(waited_ms(a, 5000) < 4000);
	assert_true(waited_ms(a, 150) >= 140);

	/* The server ends the connection: the next statement reconnects, and
	 * db_listen sees a new generation and listens there. */
	terminate(a, b, pid, sizeof(pid));
	before = seen;
	assert_true(db_ok(a));
	assert_true(db_listen(a, "clubos_unit", &seen));
	assert_true(seen != before);
	assert_int_equal(db_cmd(b, "NOTIFY clubos_unit", 0, NULL), 0);
	assert_true(waited_ms(a, 5000) < 4000);

	/* No connection at all: a plain sleep, no crash. */
	assert_true(waited_ms(NULL, 50) >= 40);
	db_close(a);
	db_close(b);
}

/* commit_of_failed_transaction: COMMIT answers ROLLBACK: db_commit fails */
static void
test_commit_rollback(void **state)
{
	db_conn *db;

	(void)state;
	assert_non_null(db = db_open(dsn()));
	assert_int_equal(db_cmd(db, "CREATE TEMP TABLE t (n int PRIMARY KEY)", 0, NULL), 0);
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_cmd(db, "INSERT INTO t VALUES (1)", 0, NULL), 0);
	assert_int_equal(db_cmd(db, "INSERT INTO t VALUES (1)", 0, NULL), -1);
	assert_int_equal(db_commit(db), -1);
	{
		PGresult *r = db_exec(db, "SELECT count(*) FROM t", 0, NULL);

		assert_non_null(r);
		assert_string_equal(db_val(r, 0, 0), "0");
		PQclear(r);
	}
	/* And a good one still commits. */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_cmd(db, "INSERT INTO t VALUES (2)", 0, NULL), 0);
	assert_int_equal(db_commit(db), 0);
	db_close(db);
}

/*
 * autocommit_failure_at_commit: a statement outside a transaction commits
 * on its own, and an error raised only at that commit (a deferred foreign
 * key here) is the statement's result, rows or not.  ops_record writes a
 * lone action this way and counts on it.
 */
static void
test_autocommit_failure_at_commit(void **state)
{
	db_conn  *db;
	PGresult *r;

	(void)state;
	assert_non_null(db = db_open(dsn()));
	assert_int_equal(db_cmd(db, "CREATE TEMP TABLE parent (id int PRIMARY KEY)", 0, NULL), 0);
	assert_int_equal(db_cmd(db,
	                        "CREATE TEMP TABLE child (n int REFERENCES parent "
	                        "DEFERRABLE INITIALLY DEFERRED)",
	                        0, NULL),
	                 0);
	assert_null(db_exec(db, "INSERT INTO child VALUES (1) RETURNING n", 0, NULL));
	assert_string_equal(db_sqlstate(db), "23503");
	assert_non_null(r = db_exec(db, "SELECT count(*) FROM child", 0, NULL));
	assert_string_equal(db_val(r, 0, 0), "0");
	PQclear(r);
	/* With its parent there, the same statement returns its row, stored. */
	assert_int_equal(db_cmd(db, "INSERT INTO parent VALUES (1)", 0, NULL), 0);
	assert_non_null(r = db_exec(db, "INSERT INTO child VALUES (1) RETURNING n", 0, NULL));
	assert_string_equal(db_val(r, 0, 0), "1");
	PQclear(r);
	db_close(db);
}

/* sqlstate: input at fault is 400 or 409, never 503 */
static void
test_sqlstate(void **state)
{
	const char *p[] = {"not a number"}, *code, *msg;
	db_conn    *db;

	(void)state;
	assert_non_null(db = db_open(dsn()));
	assert_null(db_exec(db, "SELECT $1::int", 1, p));
	assert_string_equal(db_sqlstate(db), "22P02");
	assert_int_equal(db_error_status(db, &code, &msg), 400);
	assert_string_equal(code, "invalid_value");

	assert_int_equal(db_cmd(db, "CREATE TEMP TABLE u (n int UNIQUE)", 0, NULL), 0);
	assert_int_equal(db_cmd(db, "INSERT INTO u VALUES (1)", 0, NULL), 0);
	assert_int_equal(db_cmd(db, "INSERT INTO u VALUES (1)", 0, NULL), -1);
	assert_string_equal(db_sqlstate(db), "23505");
	assert_int_equal(db_error_status(db, &code, &msg), 409);

	/* A success clears it. */
	assert_int_equal(db_cmd(db, "SELECT 1", 0, NULL), 0);
	assert_string_equal(db_sqlstate(db), "");
	assert_int_equal(db_error_status(db, &code, &msg), 503);
	db_close(db);
}

/* statement_timeout: every connection has one; a statement beyond it fails
 * with 57014, a 503 */
static void
test_statement_timeout(void **state)
{
	const char *code, *msg;
	db_conn    *db;
	int64_t     t0;

	(void)state;
	db_settings(DB_CONNECT_TIMEOUT_S, 300);
	assert_non_null(db = db_open(dsn()));
	t0 = env_mono_us();
	assert_null(db_exec(db, "SELECT pg_sleep(5)", 0, NULL));
	assert_true(env_mono_us() - t0 < 3000000);
	assert_string_equal(db_sqlstate(db), "57014");
	assert_int_equal(db_error_status(db, &code, &msg), 503);
	assert_string_equal(code, "database_timeout");
	db_close(db);
	db_settings(DB_CONNECT_TIMEOUT_S, DB_STATEMENT_TIMEOUT_MS);
}

/* connect_timeout: a server that accepts and never answers costs the
 * connect timeout, not for ever */
static void
test_connect_timeout(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t          sl = sizeof(sa);
	char               d[128];
	db_conn           *db;
	int                fd;
	int64_t            t0;

	(void)state;
	(void)dsn();
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0); /* the kernel accepts; nobody answers */
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(d, sizeof(d), "host=127.0.0.1 port=%d dbname=x user=x", ntohs(sa.sin_port));
	db_settings(1, DB_STATEMENT_TIMEOUT_MS);
	t0 = env_mono_us();
	assert_non_null(db = db_open(d));
	assert_true(env_mono_us() - t0 < 5000000);
	assert_int_not_equal(PQstatus(db_pg(db)), CONNECTION_OK);
	db_close(db);
	close(fd);
	db_settings(DB_CONNECT_TIMEOUT_S, DB_STATEMENT_TIMEOUT_MS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commit_rollback),
	    cmocka_unit_test(test_autocommit_failure_at_commit),
	    cmocka_unit_test(test_prepared_statements),
	    cmocka_unit_test(test_sqlstate),
	    cmocka_unit_test(test_statement_timeout),
	    cmocka_unit_test(test_connect_timeout),
	    cmocka_unit_test(test_terminated_idle_connection),
	    cmocka_unit_test(test_listen_and_notify),
	};

	return cmocka_run_group_tests_name("db", tests, NULL, NULL);
}
