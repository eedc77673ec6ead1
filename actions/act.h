/*
 * act.h - clubos-actions, the action executor
 *
 * main.c       the daemon skeleton's hooks: start the workers, stop them
 * exec.c       the workers: claim, run, record; retries, circuits,
 *              cooldowns, expiry, the escalation ladder, crash recovery
 * providers.c  one libcurl client per outside system (Slack, OpenPhone,
 *              NinjaOne, UniFi Access)
 */
#ifndef CLUBOS_ACT_H
#define CLUBOS_ACT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/cfg.h"
#include "common/db.h"
#include "common/http.h"

#define ACT_BODY_MAX (64 * 1024)

/* ---- HTTP: every provider call is common/http.c's hc_request, with these */

#define ACT_USER_AGENT "clubos-actions/1"
/* A Retry-After hint (seconds, -1 none) as ms to wait: 0 unless 0 < s < 3600. */
#define ACT_RETRY_MS(s) ((s) > 0 && (s) < 3600 ? 1000 * (int)(s) : 0)

/* ---- providers.c */

enum act_outcome {
	ACT_OK,    /* the provider accepted it */
	ACT_RETRY, /* transient: 429, 5xx, timeout; worth another try */
	ACT_FAIL,  /* permanent: the provider refused it */
	ACT_OFF,   /* the integration is not configured */
};

struct act_result {
	enum act_outcome outcome;
	int              http_status;
	int              retry_after_ms;
	char             error[300];
	char             ref[128]; /* the provider's id for what was made */
};

/* The buttons under a Slack message. */
enum act_buttons {
	ACT_BUTTONS_NONE,
	ACT_BUTTONS_ESCALATION, /* acknowledge, take over */
	ACT_BUTTONS_HANDOFF,    /* take over */
	ACT_BUTTONS_APPROVAL,   /* approve, cancel */
};

/* Each takes what it needs and fills *r; providers never touch the database. */
void prov_slack_post(const struct cfg *c, const char *channel, const char *thread_ts,
                     const char *text, long long action_id, enum act_buttons buttons,
                     struct act_result *r);
void prov_sms_send(const struct cfg *c, const char *from, const char *to, const char *text,
                   struct act_result *r);
void prov_ninja_script(const struct cfg *c, const char *device_id, struct act_result *r);
void prov_ninja_reboot(const struct cfg *c, const char *device_id, struct act_result *r);
void prov_unifi_unlock(const struct cfg *c, const char *door_id, int minutes, struct act_result *r);
void prov_init(void);
void prov_fini(void);

/* ---- exec.c */

int  exec_start(const struct cfg *c);
void exec_stop(void);

#endif
