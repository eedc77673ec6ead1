/*
 * settings.h - what an admin changes at runtime, without a restart
 *
 * The contract's settings (reply mode and rollout for SMS, the SOP
 * confidence threshold, the LLM mode and rollout) and ClubOS's own
 * (llm_voice) live in PostgreSQL, one
 * row per key, and every change is recorded with who made it.  A process
 * reads them through settings_current(), which asks the database at most
 * once per SETTINGS_TTL_MS and keeps the last good copy when it cannot, so
 * a change reaches every daemon on every host within about a second.
 */
#ifndef CLUBOS_SETTINGS_H
#define CLUBOS_SETTINGS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/db.h"

#define SETTINGS_TTL_MS 1000
#define SETTINGS_VOICE_MAX 400 /* characters of llm_voice */

enum sms_reply_mode { SMS_MODE_OFF, SMS_MODE_SHADOW, SMS_MODE_APPROVAL, SMS_MODE_AUTO };
enum llm_mode { LLM_MODE_OFF, LLM_MODE_SHADOW, LLM_MODE_ON };

struct settings {
	enum sms_reply_mode sms_reply_mode;
	int                 sms_rollout_percent;      /* 0..100, by conversation */
	double              sop_confidence_threshold; /* 0..1 */
	enum llm_mode       llm_mode;
	int                 llm_rollout_percent; /* 0..100, by conversation */
	/* How the model writes to customers ("" = ClubOS's own line): the
	 * venue's voice, published for customers by an admin, since the brand
	 * voice SOP may be staff-only and a customer's request carries none. */
	char llm_voice[SETTINGS_VOICE_MAX * 4 + 1];
};

/* The values before any admin changed one. */
void settings_defaults(struct settings *s);

/* The settings now, through db (the calling thread's own connection).
 * Thread-safe; a database that does not answer leaves the last good copy
 * (the defaults before the first read). */
void settings_current(db_conn *db, struct settings *out);

/* settings_read - straight from the table (and into the cache); -1 when
 * the database did not answer. */
int settings_read(db_conn *db, struct settings *out);

/* The next settings_current() asks the database (after a change here). */
void settings_invalidate(void);

/* Whether a conversation (or any stable id) falls inside a rollout of
 * percent: the same id always gets the same answer, and raising the
 * percentage only adds ids. */
bool settings_in_rollout(int percent, int64_t id);

/* May a stored answer be served again under s?  Not when it is below the
 * confidence threshold now, nor, when a model wrote it (by_model), unless
 * the generative tier is on for everyone: turning the tier off or down
 * retires the model's answers in every cache at once. */
bool settings_serves_stored(const struct settings *s, double confidence, bool by_model);

/* Names as the API spells them. */
const char *settings_sms_mode_name(enum sms_reply_mode m);
const char *settings_llm_mode_name(enum llm_mode m);

/* The settings as the API shows them. */
cJSON *settings_json(const struct settings *s);

/*
 * settings_patch - validate a PATCH body (any of the keys, each once, with
 * its type and range) and store every changed key with a history row
 * naming user_id, in one transaction.  Returns 0 and fills *out with the
 * settings after the change; -1 with a contract error code and message
 * for the caller (HTTP 400), or -2 when the database failed (503).
 */
int settings_patch(db_conn *db, const cJSON *body, int64_t user_id, struct settings *out,
                   const char **code, char *msg, size_t msgcap);

#endif
