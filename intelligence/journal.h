/*
 * journal.h - the one way an SOP changes: journal, apply, announce, done
 *
 * Every change to an SOP (an edit through PUT /api/sops/{slug}, a rollback,
 * an approved proposal, the seed) goes through journal_apply(), and every
 * change of training examples through journal_examples(), in four steps:
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
 * A change made for a request that was asked before (the asker's socket
 * re-sends a request whose answer was lost with a process) is not made
 * again: the earlier entry's result is the answer, or 409 while it is
 * still being worked on.
 *
 * The commit of step 2 is the decision point.  journal_recover() finds
 * entries whose owner died (their advisory lock is free): a pending entry
 * is undone (aborted; its proposal goes back to pending), an applied one is
 * completed (announced again, then done).  clubos-intelligence, the only
 * writer of SOPs and examples, recovers at start and every few seconds after.
 *
 * Called by clubos-intelligence only (knowledge.c): the gateway and
 * clubosctl ask it over nng.
 */
#ifndef CLUBOS_JOURNAL_H
#define CLUBOS_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/db.h"

struct journal_change {
	const char *slug;
	const char *op;          /* "edit", "rollback", "proposal" or "create" */
	const char *new_sop;     /* create: {"route", "audience", "escalation", "actions",
	                          *          "title", "keywords"} */
	const char *content;     /* the whole new text */
	const char *base_sha256; /* the hash it was made against; NULL: the current one */
	const char *examples;    /* JSON array of {"text", "label"}, or NULL */
	int64_t     proposal_id; /* 0: none */
	const char *author;
	const char *note;
	const char *request_id; /* the asking request's id: asked twice, changed once; or NULL */
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

/* Training examples to add (a JSON array of {"text", "label"}) or one to remove. */
struct journal_examples {
	const char *add;       /* NULL: none */
	int64_t     delete_id; /* 0: none */
	const char *source;    /* route_examples.source of what is added: api, seed */
	const char *author;
	const char *note;
	const char *request_id; /* as in journal_change */
};

/* Runs after the announcement, before done (also on recovery). */
typedef void (*journal_notify_fn)(void *arg, const struct journal_result *r);

int journal_apply(db_conn *db, const struct journal_change *c, const char *crash_at,
                  journal_notify_fn notify, void *arg, struct journal_result *r);
int journal_examples(db_conn *db, const struct journal_examples *c, const char *crash_at,
                     journal_notify_fn notify, void *arg, struct journal_result *r);
int journal_replayed(db_conn *db, const char *request_id, struct journal_result *r);
int journal_recover(db_conn *db, journal_notify_fn notify, void *arg);

#endif
