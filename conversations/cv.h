/*
 * cv.h - clubos-conversations, the SMS front door
 *
 * main.c    the daemon skeleton's hooks: the router client, the bus, the
 *           two workers
 * intake.c  the stored webhook events (gateway/webhook_openphone.c wrote
 *           them): a customer's text into its conversation and, when the
 *           conversation is the bot's, the answer; missed calls; delivery
 *           updates.  One event, one transaction.
 * outbox.c  outgoing messages with delivery 'queued', sent once through
 *           OpenPhone with retries, a per-number rate cap and numbered
 *           parts; crash recovery of a send whose outcome nobody knows
 * split.c   a long text cut into numbered parts at word boundaries
 */
#ifndef CLUBOS_CV_H
#define CLUBOS_CV_H

#include <stdbool.h>
#include <stddef.h>

#include "common/cfg.h"
#include "common/db.h"
#include "common/rpc.h"

#define CV_SMS_CHARS 320 /* one text: two SMS segments, as OpenPhone joins them */
#define CV_MAX_PARTS 20
#define CV_CONTEXT_TURNS 6   /* earlier messages the router sees */
#define CV_BOT_STREAK_MAX 6  /* bot replies in a row before a person is asked in */
#define CV_REPEAT_MAX 3      /* the same text this often in a minute: a person */
#define CV_EVENT_ATTEMPTS 5  /* an event that fails this often is set aside */
#define CV_RATE_WAIT_MS 5000 /* a number at its rate cap is tried again after this */

/* ---- split.c */
int  sms_split(const char *text, size_t max, int max_parts, char ***out);
void sms_split_free(char **parts, int n);

/* ---- intake.c */
int  intake_start(const struct cfg *c, rpc_client *router);
void intake_stop(void);

/* ---- outbox.c */
int  outbox_start(const struct cfg *c);
void outbox_stop(void);

/* ---- shared by both workers (intake.c) */
bool cv_stopping(void);
void cv_own_number(db_conn *db, const struct cfg *c, char *out, size_t cap);

#endif
