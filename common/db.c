/*
 * db.c - PostgreSQL through libpq, parameters only
 */
#include "db.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

struct db_conn {
	char   *dsn;
	PGconn *pg;
};

/* db_connect - (re)open the connection; 0 on success */
static int
db_connect(db_conn *db)
{
	if (db->pg != NULL)
		PQfinish(db->pg);
	db->pg = PQconnectdb(db->dsn);
	if (PQstatus(db->pg) != CONNECTION_OK) {
		log_warn("db: connect failed: %s", PQerrorMessage(db->pg));
		return -1;
	}
	/* Every timestamp the daemons read or write is UTC. */
	PQclear(PQexec(db->pg, "SET TIME ZONE 'UTC'"));
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

/* db_ok - is the connection usable (reconnecting if it is not)? */
bool
db_ok(db_conn *db)
{
	if (db->pg != NULL && PQstatus(db->pg) == CONNECTION_OK)
		return true;
	return db_connect(db) == 0;
}

/* db_pg - the raw libpq connection, for callers that need more */
PGconn *
db_pg(db_conn *db)
{
	return db->pg;
}

/*
 * db_exec - run one statement with text parameters (NULL = SQL null).
 * Returns a result the caller PQclear()s, or NULL on failure (logged).
 */
PGresult *
db_exec(db_conn *db, const char *sql, int n, const char *const *params)
{
	PGresult      *r;
	ExecStatusType st;

	if (!db_ok(db))
		return NULL;
	r = PQexecParams(db->pg, sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	log_warn("db: %s", PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
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

int
db_begin(db_conn *db)
{
	return db_cmd(db, "BEGIN", 0, NULL);
}

int
db_commit(db_conn *db)
{
	return db_cmd(db, "COMMIT", 0, NULL);
}

/* db_rollback - abandon the transaction; quiet if there is none */
void
db_rollback(db_conn *db)
{
	if (db->pg != NULL && PQstatus(db->pg) == CONNECTION_OK)
		PQclear(PQexec(db->pg, "ROLLBACK"));
}
