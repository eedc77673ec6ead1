/*
 * ops.h - the one module that writes actions and tickets
 *
 * Every row of actions, action_attempts and tickets is written here, and
 * nowhere else: the router and the assistants record what an answer calls
 * for (ops_record), the executor (clubos-actions) claims, runs and closes
 * actions, and the gateway decides, cancels and works tickets.  Follow-up
 * messages that tell a customer what really happened are queued here too,
 * in the same transaction as the state they describe.
 *
 * With PostgreSQL down, ops_record keeps the batch in a durable local
 * spool (one file per batch, fsync'd, renamed into place) before it
 * returns, so that an emergency's alert and ticket are never lost;
 * ops_spool_flush writes each spooled batch exactly once when PostgreSQL
 * is back (an idempotency key per record, unique in its table).
 *
 * A transaction counts as committed only when the server answers COMMIT:
 * COMMIT of a transaction that failed part-way answers ROLLBACK.  A batch
 * of one action with no ticket and nothing to notify is a single
 * statement, committed on its own, and counts once its row comes back.
 */
#ifndef CLUBOS_OPS_H
#define CLUBOS_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/db.h"

#define OPS_CONFIRM_TTL_S 600   /* a customer has this long to say yes */
#define OPS_APPROVAL_TTL_S 1800 /* staff have this long to approve */
#define OPS_SPOOL_MAX (256 * 1024)
#define OPS_TEXT_MAX 2000

/* A ticket to open with an action (priority "urgent" or "normal"). */
struct ops_ticket {
	const char *priority;
	const char *title;
	const char *summary;
	const char *sop_slug;
};

/* One action to record; a ticket, if any, is opened with it. */
struct ops_item {
	const char              *type;
	const char              *status; /* where it starts */
	const char              *location;
	int                      bay;             /* 0 = none */
	int64_t                  conversation_id; /* 0 = none */
	const char              *trace_id;
	const char              *detail; /* a JSON object's text, or NULL */
	const struct ops_ticket *ticket; /* NULL = none */
};

struct ops_result {
	int64_t     action_id; /* 0 when spooled or failed */
	int64_t     ticket_id;
	const char *status; /* as recorded; "failed" when it could not be */
};

enum { OPS_RECORDED = 0, OPS_SPOOLED = 1, OPS_FAILED = -1 };

int ops_record(db_conn *db, const char *spool_dir, const struct ops_item *items, size_t n,
               struct ops_result *out);
int ops_spool_flush(db_conn *db, const char *spool_dir);

/* A thread that writes the batches its process spooled once PostgreSQL
 * takes them (looked at every OPS_KEEPER_MS): every daemon that spools
 * keeps its own, since containers share no disk with an executor.  Two
 * flushers of one spool are safe (a batch is written once, by its key).
 * start: 0 or -1; stop: joins it (no-op when not started). */
#define OPS_KEEPER_MS 1000
int  ops_spool_keeper_start(const char *pg_dsn, const char *spool_dir);
void ops_spool_keeper_stop(void);

int ops_commit(db_conn *db);
int ops_followup(db_conn *db, int64_t conversation_id, const char *author, const char *text,
                 const char *trace_id);
/* Is an answer (the router's reply object) from a customer's own record,
 * in whole or in one of its parts?  Such a message is kept "personal". */
bool ops_answer_personal(const cJSON *answer);
/* The conversation's last n turns (before message before_id, or all when
 * it is NULL) that were really said, oldest first, as [{author, text}], with
 * "offer" on a bot turn that asked which of some SOPs was meant and
 * "personal": true on one that answered from the customer's record: an
 * incoming one's author is "customer" (the asker), drafts, shadow answers,
 * discarded and failed replies are left out.  Never NULL unless memory ran
 * out; empty when the database fails (context helps, it is not needed). */
cJSON *ops_turns(db_conn *db, const char *conversation_id, const char *before_id, int n);

/* ---- The executor's side. */

struct ops_claimed {
	int64_t id;
	char    type[40];
	char    location[64];
	int     bay;
	int64_t conversation_id;
	int64_t ticket_id;
	int     attempts;
	char    trace_id[40];
	char   *detail; /* malloc'd JSON text */
	char    provider_ref[128];
	int     page_step;
	char    lang[4]; /* the conversation's language ("en", "fr"): its follow-ups' */
};

struct ops_finish {
	int64_t     id;
	const char *status;       /* done, failed, or queued (to retry) */
	const char *error;        /* last_error, or NULL */
	int         retry_in_ms;  /* queued: not before then */
	const char *provider_ref; /* NULL = unchanged */
	const char *followup;     /* a message to the customer, or NULL */
	const char *ticket_title; /* failed: open a ticket with this title */
	int         ladder_s;     /* alert_oncall done: next page after this long; 0 = none */
	const char *notify;       /* a NOTIFY channel after commit, or NULL */
};

void ops_claimed_free(struct ops_claimed *a);
int  ops_claim(db_conn *db, int lease_s, struct ops_claimed *a);
int  ops_attempt_begin(db_conn *db, int64_t action_id, const char *provider);
int  ops_attempt_end(db_conn *db, int64_t action_id, int n, const char *outcome, int http_status,
                     const char *error);
int  ops_finish(db_conn *db, const struct ops_finish *f);
int  ops_defer(db_conn *db, int64_t id, int in_ms, const char *why);
int  ops_recover(db_conn *db, bool (*rerun)(const char *type), int *requeued, int *failed);
int  ops_expire(db_conn *db);
int  ops_ladder_due(db_conn *db, int max_steps, int ladder_s);
int  ops_circuit_save(db_conn *db, const char *provider, const char *state, int failures,
                      const char *error);
int  ops_provider_report(db_conn *db, const char *provider, bool configured);
int  ops_approval_next(db_conn *db, int again_s, struct ops_claimed *a);
int  ops_mark_posted(db_conn *db, int64_t id, const char *ref);

/* ---- Staff's side (gateway, Slack). */

enum { OPS_OK = 0, OPS_NOT_FOUND = -2, OPS_CONFLICT = -3, OPS_ERROR = -1 };

int     ops_decide(db_conn *db, int64_t id, int64_t user_id, const char *who, bool approve);
int64_t ops_confirm(db_conn *db, int64_t conversation_id, bool yes);
int64_t ops_confirm_in(db_conn *db, int64_t conversation_id, bool yes);
int     ops_record_in(db_conn *db, const struct ops_item *item, struct ops_result *out);
int     ops_ticket_patch(db_conn *db, int64_t id, const char *status, const char *assignee,
                         const char *note, int64_t user_id);
int64_t ops_ack(db_conn *db, const char *ref, int64_t action_id, const char *who, bool takeover);
int64_t ops_staff_reply(db_conn *db, const char *ref, const char *event_id, const char *text);

#endif
