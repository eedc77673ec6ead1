/*
 * db.h - PostgreSQL through libpq, parameters only
 *
 * One db_conn belongs to one thread.  Statements take their values as
 * parameters (PQexecParams), never spliced into SQL text.  A connection
 * found broken before a statement is sent is re-opened once; a statement
 * whose connection broke mid-way is reported as failed, not retried, so a
 * write is never applied twice by accident.
 */
#ifndef CLUBOS_DB_H
#define CLUBOS_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

typedef struct db_conn db_conn;

db_conn  *db_open(const char *dsn);
void      db_close(db_conn *db);
bool      db_ok(db_conn *db);
PGresult *db_exec(db_conn *db, const char *sql, int n, const char *const *params);
int       db_cmd(db_conn *db, const char *sql, int n, const char *const *params);
int       db_begin(db_conn *db);
int       db_commit(db_conn *db);
void      db_rollback(db_conn *db);
PGconn   *db_pg(db_conn *db);

/* Shorthand for result access. */
#define db_val(r, row, col) PQgetvalue((r), (row), (col))
#define db_null(r, row, col) PQgetisnull((r), (row), (col))

#endif
