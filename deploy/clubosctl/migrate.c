/*
 * migrate.c - numbered migrations, each with an up and a down part
 *
 * A file NNNN_name.sql holds "-- migrate:up" and "-- migrate:down"
 * sections.  Applied migrations are recorded in schema_migrations with the
 * SHA-256 of the file; if an applied file has been edited since, nothing
 * runs until that is resolved.  Each migration runs in one transaction
 * together with its record.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "deploy/clubosctl/ctl.h"

#define MIG_MAX 256

struct mig {
	char  name[128];
	char *text;
	char  sha[65];
};

/* The advisory lock's key: "ClubOS" in ASCII, not used for anything else. */
#define MIGRATE_LOCK_KEY "74133104906067"

/* cmp_name - sort by file name (the number first) */
static int
cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct mig *)a)->name, ((const struct mig *)b)->name);
}

/* load - read every migration file, sorted */
static int
load(struct mig *m, int *n)
{
	DIR           *d = opendir(ctl_cfg.migrations_dir);
	struct dirent *e;

	*n = 0;
	if (d == NULL) {
		fprintf(stderr, "clubosctl: no migrations directory %s\n", ctl_cfg.migrations_dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL && *n < MIG_MAX) {
		size_t l = strlen(e->d_name);
		char   path[512];

		if (l < 5 || strcmp(e->d_name + l - 4, ".sql") != 0 || l >= sizeof(m->name))
			continue;
		memcpy(m[*n].name, e->d_name, l + 1);
		snprintf(path, sizeof(path), "%s/%s", ctl_cfg.migrations_dir, e->d_name);
		if ((m[*n].text = util_read_file(path, 1 << 20, NULL)) == NULL) {
			fprintf(stderr, "clubosctl: cannot read %s\n", path);
			closedir(d);
			return -1;
		}
		util_sha256_hex(m[*n].text, strlen(m[*n].text), m[*n].sha);
		(*n)++;
	}
	closedir(d);
	qsort(m, (size_t)*n, sizeof(*m), cmp_name);
	return 0;
}

/* section - the text of "-- migrate:up" or "-- migrate:down"; malloc'd */
static char *
section(const char *text, const char *which)
{
	char        tag[32];
	const char *s, *e;

	snprintf(tag, sizeof(tag), "-- migrate:%s", which);
	if ((s = strstr(text, tag)) == NULL)
		return NULL;
	s += strlen(tag);
	e = strstr(s, strcmp(which, "up") == 0 ? "-- migrate:down" : "-- migrate:up");
	if (e == NULL || e < s)
		e = s + strlen(s);
	return strndup(s, (size_t)(e - s));
}

/* exec_script - several statements in one simple query (our own files) */
static int
exec_script(db_conn *db, const char *sql)
{
	PGresult *r = PQexec(db_pg(db), sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "clubosctl: %s", PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

/* applied_sha - the recorded checksum of a migration, or NULL */
static char *
applied_sha(PGresult *r, const char *name)
{
	for (int i = 0; i < PQntuples(r); i++)
		if (strcmp(db_val(r, i, 0), name) == 0)
			return db_val(r, i, 1);
	return NULL;
}

/*
 * migrate_lock - one migrate at a time per database (a session advisory
 * lock, let go when the connection closes): two release steps started
 * together (two deploys, two replicas) take turns, and the second finds
 * everything applied.  DDL may take long, so no statement timeout here.
 */
static int
migrate_lock(db_conn *db)
{
	static const char *const key[] = {MIGRATE_LOCK_KEY};
	PGresult                *r;
	bool                     got;

	PQclear(PQexec(db_pg(db), "SET statement_timeout = 0"));
	if ((r = db_exec(db, "SELECT pg_try_advisory_lock($1::bigint)", 1, key)) == NULL)
		return -1;
	got = strcmp(db_val(r, 0, 0), "t") == 0;
	PQclear(r);
	if (got)
		return 0;
	fprintf(stderr, "clubosctl: another migrate is running on this database; waiting for it\n");
	if ((r = db_exec(db, "SELECT pg_advisory_lock($1::bigint)", 1, key)) == NULL)
		return -1;
	PQclear(r);
	return 0;
}

int
cmd_migrate(int argc, char **argv)
{
	static struct mig m[MIG_MAX];
	db_conn          *db;
	PGresult         *r;
	int               n, rc = 0;

	if (argc != 2 ||
	    (strcmp(argv[1], "up") && strcmp(argv[1], "down") && strcmp(argv[1], "status"))) {
		fprintf(stderr, "usage: clubosctl migrate up|down|status\n");
		return 2;
	}
	if (load(m, &n) < 0)
		return 1;
	db = ctl_db();
	PQclear(PQexec(db_pg(db), "SET client_min_messages = warning"));
	if (migrate_lock(db) < 0) {
		db_close(db);
		return 1;
	}
	if (db_cmd(db,
	           "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "
	           "sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
	           0, NULL) < 0 ||
	    (r = db_exec(db, "SELECT name, sha256 FROM schema_migrations ORDER BY name", 0,
	                 NULL)) == NULL) {
		db_close(db);
		return 1;
	}
	/* Refuse to go anywhere while an applied file differs from its record. */
	for (int i = 0; i < n; i++) {
		const char *sha = applied_sha(r, m[i].name);

		if (sha != NULL && strcmp(sha, m[i].sha) != 0) {
			fprintf(stderr,
			        "clubosctl: migration %s was edited after it was applied "
			        "(checksum differs); add a new migration instead\n",
			        m[i].name);
			rc = 1;
		}
	}
	if (rc != 0 && strcmp(argv[1], "status") != 0)
		goto out;
	if (strcmp(argv[1], "status") == 0) {
		for (int i = 0; i < n; i++) {
			const char *sha = applied_sha(r, m[i].name);

			printf("%-40s %s\n", m[i].name,
			       sha == NULL             ? "pending"
			       : strcmp(sha, m[i].sha) ? "EDITED"
			                               : "applied");
		}
	} else if (strcmp(argv[1], "up") == 0) {
		for (int i = 0; i < n && rc == 0; i++) {
			char       *up;
			const char *p[] = {m[i].name, m[i].sha};

			if (applied_sha(r, m[i].name) != NULL)
				continue;
			if ((up = section(m[i].text, "up")) == NULL) {
				fprintf(stderr, "clubosctl: %s has no \"-- migrate:up\" part\n",
				        m[i].name);
				rc = 1;
				break;
			}
			if (db_begin(db) < 0 || exec_script(db, up) < 0 ||
			    db_cmd(db,
			           "INSERT INTO schema_migrations (name, sha256) VALUES ($1, $2)",
			           2, p) < 0 ||
			    db_commit(db) < 0) {
				db_rollback(db);
				fprintf(stderr,
				        "clubosctl: migration %s failed; nothing of it applied\n",
				        m[i].name);
				rc = 1;
			} else
				printf("applied %s\n", m[i].name);
			free(up);
		}
	} else {
		for (int i = n - 1; i >= 0; i--) {
			char       *down;
			const char *p[] = {m[i].name};

			if (applied_sha(r, m[i].name) == NULL)
				continue;
			if ((down = section(m[i].text, "down")) == NULL) {
				fprintf(stderr, "clubosctl: %s has no \"-- migrate:down\" part\n",
				        m[i].name);
				rc = 1;
				break;
			}
			if (db_begin(db) < 0 || exec_script(db, down) < 0 ||
			    db_cmd(db, "DELETE FROM schema_migrations WHERE name = $1", 1, p) < 0 ||
			    db_commit(db) < 0) {
				db_rollback(db);
				rc = 1;
			} else
				printf("reverted %s\n", m[i].name);
			free(down);
			break;
		}
	}
out:
	PQclear(r);
	for (int i = 0; i < n; i++)
		free(m[i].text);
	db_close(db);
	return rc;
}
