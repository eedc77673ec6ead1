/*
 * journal.h - the one way an SOP changes: journal, apply, announce, done
 *
 * Every change to an SOP (an edit through PUT /api/sops/{slug}, a rollback,
 * an approved proposal) goes through journal_apply(), in four steps:
 *
 *   1. journaled  a sop_journal entry (state pending) is committed, holding
 *                 everything the change needs; the caller's session takes
 *                 an advisory lock on the entry for as long as it works on it;
 *   2. applied    one transaction checks the base hash (or, creating an SOP,
 *                 that the slug is free), adds the immutable
 *                 version, the examples, bumps the knowledge generation,
 *                 marks the proposal applied and the entry applied;
 *   3. published  sop.changed (and examples.changed) go out on the bus and
 *                 the caller's notify hook runs (the gateway asks the router
 *                 to retrain);
 *   4. done       the entry is marked done and the lock released.
 *
 * The commit of step 2 is the decision point.  journal_recover() finds
 * entries whose owner died (their advisory lock is free): a pending entry
 * is undone (aborted; its proposal goes back to pending), an applied one is
 * completed (announced again, then done).  The gateway recovers at start,
 * clubos-intelligence at start and every few seconds after.
 *
 * Called by the gateway (api_sops.c, api_intel.c) and clubos-intelligence.
 */
#ifndef CLUBOS_JOURNAL_H
#define CLUBOS_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/db.h"

struct journal_change {
	const char *slug;
	const char *op;          /* "edit", "rollback", "proposal" or "create" */
	const char *new_sop;     /* create: {"route", "audience", "title", "keywords"} */
	const char *content;     /* the whole new text */
	const char *base_sha256; /* the hash it was made against; NULL: the current one */
	const char *examples;    /* JSON array of {"text", "label"}, or NULL */
	int64_t     proposal_id; /* 0: none */
	const char *author;
	const char *note;
};

struct journal_result {
	int         status; /* 200, or 404 no such SOP, 409 moved on, 503 database */
	const char *code;   /* the contract's error code when status != 200 */
	const char *message;
	int64_t     journal_id;
	int         version; /* the new version */
	long long   kgen;    /* the knowledge generation it was published with */
	bool        examples;
	char        slug[96];
	char        sha256[65];
	char        previous_sha256[65];
};

/* Runs after the announcement, before done (also on recovery). */
typedef void (*journal_notify_fn)(void *arg, const struct journal_result *r);

int journal_apply(db_conn *db, const struct journal_change *c, const char *crash_at,
                  journal_notify_fn notify, void *arg, struct journal_result *r);
int journal_recover(db_conn *db, journal_notify_fn notify, void *arg);

#endif
