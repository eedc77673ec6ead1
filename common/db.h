/*
 * db.h - PostgreSQL through libpq, parameters only
 *
 * One db_conn belongs to one thread.  Statements take their values as
 * parameters (PQexecParams), never spliced into SQL text.  A connection
 * found broken before a statement is sent is re-opened once; a statement
 * whose connection broke mid-way is reported as failed, not retried, so a
 * write is never applied twice by accident.  db_commit fails when the
 * server rolled the transaction back instead.
 */
#ifndef CLUBOS_DB_H
#define CLUBOS_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

typedef struct db_conn db_conn;

/* Every connection gets a connect timeout (seconds) and a statement
 * timeout (milliseconds; 0 = none); db_settings changes them for the
 * connections opened after it. */
#define DB_CONNECT_TIMEOUT_S 3
#define DB_STATEMENT_TIMEOUT_MS 10000

void      db_settings(int connect_timeout_s, int statement_timeout_ms);
db_conn  *db_open(const char *dsn);
void      db_close(db_conn *db);
bool      db_ok(db_conn *db);
PGresult *db_exec(db_conn *db, const char *sql, int n, const char *const *params);
int       db_cmd(db_conn *db, const char *sql, int n, const char *const *params);
int       db_begin(db_conn *db);
int       db_commit(db_conn *db);
void      db_rollback(db_conn *db);
PGconn   *db_pg(db_conn *db);

/*
 * A statement run often enough to be worth preparing: db_exec_stmt
 * prepares it (by name, once per connection: again after a reconnect)
 * and then only binds and executes it, so the server parses and plans it
 * once instead of on every call.  A db_conn prepares at most
 * DB_MAX_PREPARED of them; past that they are run unprepared.
 */
struct db_stmt {
	const char *name; /* unique among the statements one connection runs */
	const char *sql;
	int         nparams;
};
#define DB_MAX_PREPARED 8
PGresult *db_exec_stmt(db_conn *db, const struct db_stmt *st, const char *const *params);
/* A number that changes with every new connection: session state such as
 * LISTEN must be set again when it does (a new PGconn may reuse the old
 * one's address, so comparing pointers is not enough). */
unsigned long db_generation(const db_conn *db);
/* LISTEN on channel, again whenever the connection is new (*seen keeps the
 * generation it was set on; start it at 0); false if the LISTEN failed. */
bool db_listen(db_conn *db, const char *channel, unsigned long *seen);
/* Sleep until a NOTIFY arrives on db's connection or timeout_ms pass (the
 * notifications are consumed); without a connection, just sleep. */
void db_wait_notify(db_conn *db, int timeout_ms);

/* The last failure: its SQLSTATE, and what it means to an HTTP caller
 * (400 input at fault, 409 conflict, 503 the database). */
const char *db_sqlstate(const db_conn *db);
int         db_error_status(const db_conn *db, const char **code, const char **message);

/* Shorthand for result access. */
#define db_val(r, row, col) PQgetvalue((r), (row), (col))
#define db_null(r, row, col) PQgetisnull((r), (row), (col))

#endif
