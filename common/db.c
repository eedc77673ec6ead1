/*
 * db.c - PostgreSQL through libpq, parameters only
 */
#include "common/db.h"

#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

struct db_conn {
	char         *dsn;
	PGconn       *pg;
	char          sqlstate[6]; /* of the last failed statement; "" when none */
	unsigned long gen;         /* connections made so far (db_generation) */
	/* The statements prepared on the connection of generation prep_gen. */
	const struct db_stmt *prepared[DB_MAX_PREPARED];
	int                   nprepared;
	unsigned long         prep_gen;
};

/* Applied to every connection opened from now on (db_settings). */
/* Reads of an idle connection's socket before a statement (db_ok). */
#define DB_IDLE_READS 4

static atomic_int db_connect_timeout_s = DB_CONNECT_TIMEOUT_S;
static atomic_int db_statement_timeout_ms = DB_STATEMENT_TIMEOUT_MS;

/* db_settings - the timeouts of connections opened from now on */
void
db_settings(int connect_timeout_s, int statement_timeout_ms)
{
	atomic_store(&db_connect_timeout_s, connect_timeout_s);
	atomic_store(&db_statement_timeout_ms, statement_timeout_ms);
}

/* set_state - remember why the last statement failed */
static void
set_state(db_conn *db, const PGresult *r)
{
	const char *st = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", st != NULL ? st : "");
}

/*
 * db_connect - (re)open the connection; 0 on success.  The DSN comes
 * first and our connect_timeout after it, so ours wins; the session's
 * statement timeout and time zone are set once, with parameters.
 */
static int
db_connect(db_conn *db)
{
	static const char *const keys[] = {"dbname", "connect_timeout", NULL};
	const char              *vals[3];
	char                     cto[16], sto[16];
	PGresult                *r;

	if (db->pg != NULL)
		PQfinish(db->pg);
	snprintf(cto, sizeof(cto), "%d", atomic_load(&db_connect_timeout_s));
	snprintf(sto, sizeof(sto), "%d", atomic_load(&db_statement_timeout_ms));
	vals[0] = db->dsn;
	vals[1] = cto;
	vals[2] = NULL;
	db->pg = PQconnectdbParams(keys, vals, 1);
	db->gen++;
	if (PQstatus(db->pg) != CONNECTION_OK) {
		log_warn("db: connect failed: %s", PQerrorMessage(db->pg));
		return -1;
	}
	/* Every timestamp the daemons read or write is UTC, and no statement
	 * holds a connection (and the request behind it) for ever. */
	{
		const char *p[] = {sto};

		r = PQexecParams(db->pg,
		                 "SELECT set_config('TimeZone', 'UTC', false), "
		                 "set_config('statement_timeout', $1, false)",
		                 1, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			log_warn("db: session settings: %s", PQresultErrorMessage(r));
		PQclear(r);
	}
	return 0;
}

/* db_open - a connection object; it connects now or on first use */
db_conn *
db_open(const char *dsn)
{
	db_conn *db = calloc(1, sizeof(*db));

	if (db == NULL || (db->dsn = strdup(dsn)) == NULL) {
		free(db);
		return NULL;
	}
	db_connect(db);
	return db;
}

/* db_close - NULL ok */
void
db_close(db_conn *db)
{
	if (db == NULL)
		return;
	if (db->pg != NULL)
		PQfinish(db->pg);
	free(db->dsn);
	free(db);
}

/*
 * db_ok - is the connection usable (reconnecting if it is not)?  An idle
 * connection whose socket is readable has heard from the server between
 * statements: usually that it is shutting down ("terminating connection")
 * and then the close.  Reading that now, before a statement is sent, finds
 * the connection dead while nothing is in flight, so reconnecting and
 * going on is safe: after a database restart no statement fails merely
 * because it was the first on its old connection.  One read takes the
 * message and the close shows only on the next, so it reads while the
 * socket stays readable (a few times: a LISTEN connection's notifications
 * keep coming, and wait in libpq for PQnotifies).
 */
bool
db_ok(db_conn *db)
{
	if (db->pg != NULL && PQstatus(db->pg) == CONNECTION_OK) {
		struct pollfd pfd = {.fd = PQsocket(db->pg), .events = POLLIN};
		bool          alive = true;

		if (PQtransactionStatus(db->pg) != PQTRANS_IDLE || pfd.fd < 0)
			return true;
		for (int i = 0; alive && i < DB_IDLE_READS && poll(&pfd, 1, 0) > 0; i++)
			alive = PQconsumeInput(db->pg) == 1 && PQstatus(db->pg) == CONNECTION_OK;
		if (alive)
			return true;
		log_warn("db: the server closed the connection; connecting again");
	}
	return db_connect(db) == 0;
}

/* db_generation - a number that changes with every new connection (to LISTEN again) */
unsigned long
db_generation(const db_conn *db)
{
	return db->gen;
}

/* db_listen - LISTEN on channel, again on a new connection (*seen remembers) */
bool
db_listen(db_conn *db, const char *channel, unsigned long *seen)
{
	char sql[96];

	if (*seen != 0 && *seen == db_generation(db))
		return true;
	if ((size_t)snprintf(sql, sizeof(sql), "LISTEN %s", channel) >= sizeof(sql) ||
	    db_cmd(db, sql, 0, NULL) < 0)
		return false;
	*seen = db_generation(db);
	return true;
}

/* db_wait_notify - sleep until a NOTIFY on db's connection or timeout_ms */
void
db_wait_notify(db_conn *db, int timeout_ms)
{
	PGconn       *pg = db != NULL ? db_pg(db) : NULL;
	PGnotify     *nt;
	struct pollfd pfd;

	if (pg == NULL || PQstatus(pg) != CONNECTION_OK || PQsocket(pg) < 0) {
		struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);
		return;
	}
	pfd.fd = PQsocket(pg);
	pfd.events = POLLIN;
	if (poll(&pfd, 1, timeout_ms) > 0)
		PQconsumeInput(pg);
	while ((nt = PQnotifies(pg)) != NULL)
		PQfreemem(nt);
}

/* db_pg - the raw libpq connection, for callers that need more */
PGconn *
db_pg(db_conn *db)
{
	return db->pg;
}

/* result - r when it succeeded; otherwise NULL, with its SQLSTATE kept */
static PGresult *
result(db_conn *db, PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	set_state(db, r);
	log_warn("db: %s", PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
}

/*
 * db_exec - run one statement with text parameters (NULL = SQL null).
 * Returns a result the caller PQclear()s, or NULL on failure (logged).
 */
PGresult *
db_exec(db_conn *db, const char *sql, int n, const char *const *params)
{
	db->sqlstate[0] = '\0';
	if (!db_ok(db))
		return NULL;
	return result(db, PQexecParams(db->pg, sql, n, NULL, params, NULL, NULL, 0));
}

/*
 * db_exec_stmt - db_exec for a statement prepared once per connection.
 * The names prepared are kept per connection generation: a new
 * connection has none, and they are prepared again as they are used.
 */
PGresult *
db_exec_stmt(db_conn *db, const struct db_stmt *st, const char *const *params)
{
	int i;

	db->sqlstate[0] = '\0';
	if (!db_ok(db))
		return NULL;
	if (db->prep_gen != db->gen) {
		db->nprepared = 0;
		db->prep_gen = db->gen;
	}
	for (i = 0; i < db->nprepared && db->prepared[i] != st; i++)
		;
	if (i == db->nprepared) {
		PGresult *r;

		if (db->nprepared == DB_MAX_PREPARED)
			return result(db, PQexecParams(db->pg, st->sql, st->nparams, NULL, params,
			                               NULL, NULL, 0));
		if ((r = result(db, PQprepare(db->pg, st->name, st->sql, st->nparams, NULL))) ==
		    NULL)
			return NULL;
		PQclear(r);
		db->prepared[db->nprepared++] = st;
	}
	return result(db, PQexecPrepared(db->pg, st->name, st->nparams, params, NULL, NULL, 0));
}

/* db_cmd - a statement whose rows are not wanted; 0 or -1 */
int
db_cmd(db_conn *db, const char *sql, int n, const char *const *params)
{
	PGresult *r = db_exec(db, sql, n, params);

	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

/* db_begin - start a transaction; 0 or -1 */
int
db_begin(db_conn *db)
{
	return db_cmd(db, "BEGIN", 0, NULL);
}

/*
 * db_commit - commit; 0 only when the server really committed.  COMMIT
 * of a transaction that failed part-way "succeeds" with the command tag
 * ROLLBACK: that is a failure here (SQLSTATE 40000, transaction rollback).
 */
int
db_commit(db_conn *db)
{
	PGresult *r = db_exec(db, "COMMIT", 0, NULL);
	int       rc = 0;

	if (r == NULL)
		return -1;
	if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		log_warn("db: COMMIT answered %s: nothing was stored", PQcmdStatus(r));
		snprintf(db->sqlstate, sizeof(db->sqlstate), "40000");
		rc = -1;
	}
	PQclear(r);
	return rc;
}

/* db_sqlstate - the SQLSTATE of the last failure; "" when the connection failed */
const char *
db_sqlstate(const db_conn *db)
{
	return db != NULL ? db->sqlstate : "";
}

/*
 * db_error_status - what the last failure means to an HTTP caller: 400
 * when the input was at fault (class 22, data exception), 409 when it
 * conflicts with what is stored (class 23, integrity constraint), 503 when
 * the database is down, slow or failing.  *code and *message are in the
 * contract's shape.
 */
int
db_error_status(const db_conn *db, const char **code, const char **message)
{
	const char *st = db_sqlstate(db);

	if (strncmp(st, "22", 2) == 0) {
		*code = "invalid_value";
		*message = "a value was not accepted: check the text and numbers sent";
		return 400;
	}
	if (strncmp(st, "23", 2) == 0) {
		*code = "conflict";
		*message = "the change conflicts with what is already stored";
		return 409;
	}
	if (strcmp(st, "57014") == 0) {
		*code = "database_timeout";
		*message = "the database took too long to answer";
		return 503;
	}
	*code = "database_unavailable";
	*message = "the database is not answering";
	return 503;
}

/* db_rollback - abandon the transaction; quiet if there is none */
void
db_rollback(db_conn *db)
{
	if (db->pg != NULL && PQstatus(db->pg) == CONNECTION_OK)
		PQclear(PQexec(db->pg, "ROLLBACK"));
}
