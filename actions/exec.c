/*
 * exec.c - the executor's workers
 *
 * Each worker owns one PostgreSQL connection, LISTENs on clubos_actions
 * and loops: claim the oldest ready queued action (FOR UPDATE SKIP
 * LOCKED, so workers and executors on other hosts never take the same
 * one), record the attempt, call the provider, record the outcome.  A
 * NOTIFY wakes a worker at once; without one it polls every second.
 * Worker 0 also runs the housekeeping each second: the local spool, the
 * crash recovery, expiry of pending actions, and the escalation ladder.
 *
 * State is recorded before and after every call (common/ops.c):
 *   claim         queued -> running, with a lease
 *   attempt_begin attempts + 1 and an attempt row, committed before the call
 *   finish        done / failed (a ticket, a follow-up) / queued (a retry)
 * so an executor that dies mid-call leaves a running action with an
 * unfinished attempt, which recovery finds when the lease runs out.
 *
 * After a crash, what happens to such an action depends on its type
 * (type table below, rerun): pages and Slack messages are sent again (a
 * second page is better than none); a door unlock is sent again (an
 * unlock is idempotent: the door is unlocked either way); a TrackMan
 * restart or a PC reboot is NOT repeated, since NinjaOne has no
 * idempotency key and a second restart would cut a customer's session a
 * second time: it fails as "outcome unknown", a ticket is opened, and the
 * customer is told a person will check.
 *
 * Circuits: a provider that fails actions_circuit_failures times in a row
 * (no answer, 5xx, 408/429) is left alone for actions_circuit_open_s;
 * actions for it wait (no attempt is spent); then one trial call decides.
 * Cooldown: a bay's PC is not restarted or rebooted again within
 * actions_cooldown_s of the last restart that NinjaOne accepted.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "actions/act.h"
#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "common/ops.h"

#define EXEC_MAX_WORKERS 32
#define EXEC_RETRY_CAP_MS 60000

struct worker {
	int       idx;
	pthread_t thr;
	db_conn  *db;
};

static const struct cfg *ex_cfg;
static struct worker     ex_workers[EXEC_MAX_WORKERS];
static int               lease_s(void);
static int               ex_nworkers;
static atomic_bool       ex_stopping;
static char              ex_spool[512];

/* ============================================================ circuits */

enum { CB_CLOSED, CB_OPEN, CB_HALF_OPEN };
static const char *const cb_names[] = {"closed", "open", "half_open"};

struct circuit {
	const char     *name;
	pthread_mutex_t mu;
	int             state, failures;
	uint64_t        opened_ms;
	bool            trial; /* a half-open trial call is in flight */
};

static struct circuit ex_cb[] = {
    {"slack", PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, false},
    {"openphone", PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, false},
    {"ninjaone", PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, false},
    {"unifi_access", PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, false},
};
enum { CB_SLACK, CB_OPENPHONE, CB_NINJA, CB_UNIFI };

/* cb_allow - may a call go to this provider now?  *wait_ms if not */
static bool
cb_allow(struct circuit *cb, int *wait_ms)
{
	bool     ok = true;
	uint64_t now = env_now_ms(), until;

	pthread_mutex_lock(&cb->mu);
	until = cb->opened_ms + (uint64_t)ex_cfg->actions_circuit_open_s * 1000;
	if (cb->state == CB_OPEN && now < until) {
		ok = false;
		*wait_ms = (int)(until - now);
	} else if (cb->state != CB_CLOSED) {
		/* Open long enough, or half open: one trial call at a time. */
		ok = !cb->trial;
		if (ok) {
			cb->state = CB_HALF_OPEN;
			cb->trial = true;
		} else {
			*wait_ms = 1000;
		}
	}
	pthread_mutex_unlock(&cb->mu);
	return ok;
}

/* cb_report - a call's outcome moves the circuit; the change is saved for health */
static void
cb_report(struct worker *w, struct circuit *cb, const struct act_result *r)
{
	int  before, after, failures;
	bool transient = r->outcome == ACT_RETRY;

	if (r->outcome == ACT_OFF)
		return;
	pthread_mutex_lock(&cb->mu);
	before = cb->state;
	cb->trial = false;
	if (transient) {
		cb->failures++;
		if (cb->state == CB_HALF_OPEN || cb->failures >= ex_cfg->actions_circuit_failures) {
			cb->state = CB_OPEN;
			cb->opened_ms = env_now_ms();
		}
	} else {
		/* An answer, even a refusal, means the provider is up. */
		cb->failures = 0;
		cb->state = CB_CLOSED;
	}
	after = cb->state;
	failures = cb->failures;
	pthread_mutex_unlock(&cb->mu);
	if (before != after) {
		log_msg(after == CB_OPEN ? LOG_WARN : LOG_INFO, NULL, "circuit %s: %s -> %s (%s)",
		        cb->name, cb_names[before], cb_names[after], transient ? r->error : "ok");
		ops_circuit_save(w->db, cb->name, cb_names[after], failures,
		                 transient ? r->error : NULL);
	} else if (transient) {
		ops_circuit_save(w->db, cb->name, cb_names[after], failures, r->error);
	}
}

/* configured - are a provider's settings there?  (If not, no attempt is made.) */
static bool
configured(int which)
{
	const struct cfg *c = ex_cfg;

	switch (which) {
	case CB_SLACK:
		return *c->slack_bot_token != '\0';
	case CB_OPENPHONE:
		return *c->openphone_api_key != '\0';
	case CB_NINJA:
		return *c->ninjaone_base_url != '\0' && *c->ninjaone_client_id != '\0' &&
		       *c->ninjaone_client_secret != '\0';
	case CB_UNIFI:
		return *c->unifi_access_base_url != '\0' && *c->unifi_access_token != '\0';
	}
	return false;
}

/* ============================================================ lookups */

/* lookup - the first value of a query with one or two parameters, into out */
static bool
lookup(struct worker *w, const char *sql, const char *a, const char *b, char *out, size_t cap)
{
	const char *p[] = {a, b};
	PGresult   *r = db_exec(w->db, sql, b != NULL ? 2 : 1, p);
	bool        ok = r != NULL && PQntuples(r) > 0 && !db_null(r, 0, 0);

	out[0] = '\0';
	if (ok)
		snprintf(out, cap, "%s", db_val(r, 0, 0));
	PQclear(r);
	return ok && *out != '\0';
}

/* setting_or_facility - a setting, or the facility's value of key */
static void
setting_or_facility(struct worker *w, const char *setting, const char *key, char *out, size_t cap)
{
	if (*setting != '\0')
		snprintf(out, cap, "%s", setting);
	else
		lookup(w, "SELECT value FROM facility WHERE key = $1", key, NULL, out, cap);
}

/* device_of - the NinjaOne device of the action's bay */
static bool
device_of(struct worker *w, const struct ops_claimed *a, char *out, size_t cap)
{
	char bay[16];

	snprintf(bay, sizeof(bay), "%d", a->bay);
	return a->bay > 0 &&
	       lookup(w, "SELECT device_id FROM bay_devices WHERE location = $1 AND bay = $2::int",
	              a->location, bay, out, cap);
}

/* in_cooldown - was this bay's PC restarted (accepted) within the cooldown? */
static bool
in_cooldown(struct worker *w, const struct ops_claimed *a)
{
	char        id[24], bay[16], cd[16];
	const char *p[4];
	PGresult   *r;
	bool        hot;

	if (ex_cfg->actions_cooldown_s <= 0)
		return false;
	snprintf(id, sizeof(id), "%lld", (long long)a->id);
	snprintf(bay, sizeof(bay), "%d", a->bay);
	snprintf(cd, sizeof(cd), "%d", ex_cfg->actions_cooldown_s);
	p[0] = a->location;
	p[1] = bay;
	p[2] = id;
	p[3] = cd;
	r = db_exec(w->db,
	            "SELECT 1 FROM actions WHERE location = $1 AND bay = $2::int AND id <> $3 "
	            "AND status = 'done' AND type IN ('restart_trackman', "
	            "'restart_trackman_request', 'reboot_pc', 'reboot_pc_request') "
	            "AND updated_at > now() - make_interval(secs => $4::int) LIMIT 1",
	            4, p);
	hot = r != NULL && PQntuples(r) > 0;
	PQclear(r);
	return hot;
}

/* where - " at <location>, bay <n>", or "" */
static void
where(const struct ops_claimed *a, char *out, size_t cap)
{
	*out = '\0';
	if (*a->location && a->bay > 0)
		snprintf(out, cap, " at %.60s, bay %d", a->location, a->bay);
	else if (*a->location)
		snprintf(out, cap, " at %.60s", a->location);
}

/* summary_of - what staff read in Slack: where, and the customer's words */
static void
summary_of(struct worker *w, const struct ops_claimed *a, const char *head, char *out, size_t cap)
{
	char        conv[24], last[600] = "";
	const char *p[] = {conv};
	size_t      n;

	n = (size_t)snprintf(out, cap, "%s", head);
	if (*a->location && n < cap)
		n += (size_t)snprintf(out + n, cap - n, " at %s", a->location);
	if (a->bay > 0 && n < cap)
		n += (size_t)snprintf(out + n, cap - n, ", bay %d", a->bay);
	if (a->conversation_id > 0) {
		PGresult *r;

		snprintf(conv, sizeof(conv), "%lld", (long long)a->conversation_id);
		r = db_exec(w->db,
		            "SELECT text FROM messages WHERE conversation_id = $1 AND direction = "
		            "'in' ORDER BY id DESC LIMIT 1",
		            1, p);
		if (r != NULL && PQntuples(r) > 0)
			snprintf(last, sizeof(last), "%s", db_val(r, 0, 0));
		PQclear(r);
		if (n < cap)
			n += (size_t)snprintf(out + n, cap - n, " (conversation %lld)",
			                      (long long)a->conversation_id);
	} else if (*a->trace_id) {
		lookup(w,
		       "SELECT summary FROM tickets WHERE trace_id = $1 ORDER BY id DESC LIMIT 1",
		       a->trace_id, NULL, last, sizeof(last));
	}
	if (*last && n < cap)
		n += (size_t)snprintf(out + n, cap - n, "\n> %.500s", last);
	if (*a->trace_id && n < cap)
		snprintf(out + n, cap - n, "\ntrace %s", a->trace_id);
}

/* ============================================================ running */

/*
 * call_begin - circuit check and the attempt row.  -1 when no call may be
 * made: *deferred when the circuit is open (and, with defer, the action
 * has been put back to wait for it), otherwise the database failed.
 */
static int
call_begin(struct worker *w, const struct ops_claimed *a, struct circuit *cb, bool defer,
           bool *deferred)
{
	int wait_ms = 0, n;

	*deferred = false;
	if (!cb_allow(cb, &wait_ms)) {
		char why[120];

		snprintf(why, sizeof(why), "waiting: %s is failing (circuit open)", cb->name);
		if (defer)
			ops_defer(w->db, a->id, wait_ms, why);
		*deferred = true;
		return -1;
	}
	if ((n = ops_attempt_begin(w->db, a->id, cb->name)) < 0) {
		/* Nothing was called: let go of the trial slot. */
		pthread_mutex_lock(&cb->mu);
		cb->trial = false;
		pthread_mutex_unlock(&cb->mu);
	}
	return n;
}

/* call_end - the attempt's outcome, and the circuit */
static void
call_end(struct worker *w, const struct ops_claimed *a, struct circuit *cb, int n,
         const struct act_result *r)
{
	static const char *const outcome[] = {"ok", "retry", "error", "error"};

	ops_attempt_end(w->db, a->id, n, outcome[r->outcome], r->http_status,
	                r->outcome == ACT_OK ? NULL : r->error);
	cb_report(w, cb, r);
}

/*
 * finish - record an outcome, and keep trying while PostgreSQL is away:
 * the call has been made, and an outcome not recorded would make
 * recovery treat the action as interrupted (and, for some types, send it
 * again).  Gives up only when the lease is nearly over, or on a conflict
 * (the action is no longer ours: recovery took it).
 */
static int
finish(struct worker *w, const struct ops_finish *f)
{
	uint64_t deadline = env_now_ms() + (uint64_t)lease_s() * 1000 - 2000;
	int      rc;

	while ((rc = ops_finish(w->db, f)) == -1 && env_now_ms() < deadline &&
	       !atomic_load(&ex_stopping)) {
		struct timespec ts = {0, 200 * 1000000L};

		nanosleep(&ts, NULL);
	}
	return rc;
}

/* retry_delay - how long before try n+1 */
static int
retry_delay(int n, const struct act_result *r)
{
	long ms = (long)ex_cfg->actions_backoff_ms << (n > 10 ? 10 : (n > 0 ? n - 1 : 0));

	if (ms > EXEC_RETRY_CAP_MS)
		ms = EXEC_RETRY_CAP_MS;
	if (r->retry_after_ms > ms)
		ms = r->retry_after_ms;
	return (int)ms;
}

/* fr - the customer writes in French: the follow-ups are said in French */
static bool
fr(const struct ops_claimed *a)
{
	return strcmp(a->lang, "fr") == 0;
}

/*
 * conclude - an outcome into a finish: done (with the honest follow-up),
 * another try, or failed (a ticket, and a person promised).  what names
 * the action for the team's ticket, what_fr for a French customer.
 */
static void
conclude(struct worker *w, const struct ops_claimed *a, int n, const struct act_result *r,
         const char *done_text, const char *what, const char *what_fr)
{
	struct ops_finish f = {.id = a->id};
	char              fail_text[300], title[200];

	f.provider_ref = *r->ref ? r->ref : NULL;
	if (r->outcome == ACT_OK) {
		f.status = "done";
		f.followup = done_text;
	} else if (r->outcome == ACT_RETRY && n < ex_cfg->actions_max_attempts) {
		f.status = "queued";
		f.error = r->error;
		f.retry_in_ms = retry_delay(n, r);
		f.notify = "clubos_actions";
	} else {
		f.status = "failed";
		f.error = r->error;
		if (fr(a))
			snprintf(fail_text, sizeof(fail_text),
			         "Nous n'avons pas pu %s automatiquement. Une personne de l'équipe "
			         "fera le suivi avec vous ici.",
			         what_fr);
		else
			snprintf(
			    fail_text, sizeof(fail_text),
			    "We could not %s automatically. A person from the team will follow "
			    "up with you here.",
			    what);
		snprintf(title, sizeof(title), "Could not %s", what);
		f.followup = fail_text;
		f.ticket_title = title;
	}
	if (finish(w, &f) < 0)
		log_msg(LOG_ERROR, a->trace_id, "action %lld: outcome not recorded (%s)",
		        (long long)a->id, f.status);
	else
		log_msg(f.status[0] == 'f' ? LOG_WARN : LOG_INFO, a->trace_id,
		        "action %lld %s: %s%s%s", (long long)a->id, a->type, f.status,
		        f.error ? ": " : "", f.error ? f.error : "");
}

/* run_device - TrackMan restart or PC reboot through NinjaOne */
static void
run_device(struct worker *w, const struct ops_claimed *a, bool reboot)
{
	struct act_result r = {0};
	char              dev[80], done[300], what[120], what_fr[120];
	bool              deferred;
	int               n;

	snprintf(what, sizeof(what), "%s on bay %d",
	         reboot ? "restart the simulator PC" : "restart the TrackMan", a->bay);
	snprintf(what_fr, sizeof(what_fr), "%s de la baie %d",
	         reboot ? "redémarrer le PC du simulateur" : "redémarrer le TrackMan", a->bay);
	if (fr(a))
		snprintf(done, sizeof(done),
		         reboot
		             ? "Le redémarrage du PC de la baie %d est lancé. Cela prend environ "
		               "trois minutes; l'écran deviendra noir, puis reviendra."
		             : "Le redémarrage du TrackMan de la baie %d est lancé. Il revient "
		               "habituellement en 30 à 60 secondes.",
		         a->bay);
	else
		snprintf(done, sizeof(done),
		         reboot
		             ? "The restart of the PC on bay %d has started. It takes about three "
		               "minutes; the screen will go dark and come back."
		             : "The TrackMan restart on bay %d has started. It usually takes 30 "
		               "to 60 seconds to come back.",
		         a->bay);
	if (!device_of(w, a, dev, sizeof(dev))) {
		r.outcome = ACT_FAIL;
		snprintf(r.error, sizeof(r.error), "no NinjaOne device is known for %s bay %d",
		         *a->location ? a->location : "(no location)", a->bay);
		conclude(w, a, a->attempts, &r, NULL, what, what_fr);
		return;
	}
	if (in_cooldown(w, a)) {
		struct ops_finish f = {
		    .id = a->id,
		    .status = "cancelled",
		    .error = "cooldown: this bay's PC was restarted moments ago",
		    .followup = fr(a)
		                    ? "Le PC de cette baie vient d'être redémarré et n'est pas "
		                      "encore revenu. Donnez-lui quelques minutes; s'il est "
		                      "encore bloqué après, répondez ici et une personne vous "
		                      "aidera."
		                    : "This bay's PC was restarted moments ago and is still coming "
		                      "back. Please give it a couple of minutes; if it is still "
		                      "stuck after that, reply here and a person will help."};

		finish(w, &f);
		return;
	}
	if (!configured(CB_NINJA)) {
		if (reboot) /* ACT_OFF, with the missing setting */
			prov_ninja_reboot(ex_cfg, dev, &r);
		else
			prov_ninja_script(ex_cfg, dev, &r);
		conclude(w, a, a->attempts, &r, NULL, what, what_fr);
		return;
	}
	if ((n = call_begin(w, a, &ex_cb[CB_NINJA], true, &deferred)) < 0) {
		if (!deferred)
			ops_defer(w->db, a->id, 1000, "the database did not take the attempt");
		return;
	}
	if (reboot)
		prov_ninja_reboot(ex_cfg, dev, &r);
	else
		prov_ninja_script(ex_cfg, dev, &r);
	call_end(w, a, &ex_cb[CB_NINJA], n, &r);
	conclude(w, a, n, &r, done, what, what_fr);
}

/* run_unlock - the location's front door through UniFi Access (approved) */
static void
run_unlock(struct worker *w, const struct ops_claimed *a)
{
	struct act_result r = {0};
	char              door[80];
	const char       *why;
	cJSON            *d = json_parse(a->detail, strlen(a->detail), &why);
	int               minutes = json_int(d, "minutes", 0), n;
	bool              deferred;

	cJSON_Delete(d);
	if (minutes < 0 || minutes > 240)
		minutes = 0;
	if (!lookup(w, "SELECT front_door_id FROM locations WHERE slug = $1", a->location, NULL,
	            door, sizeof(door))) {
		r.outcome = ACT_FAIL;
		snprintf(r.error, sizeof(r.error), "no UniFi Access door is known for %s",
		         *a->location ? a->location : "(no location)");
		conclude(w, a, a->attempts, &r, NULL, "unlock the front door",
		         "déverrouiller la porte d'entrée");
		return;
	}
	if (!configured(CB_UNIFI)) {
		prov_unifi_unlock(ex_cfg, door, minutes,
		                  &r); /* ACT_OFF, with the missing setting */
		conclude(w, a, a->attempts, &r, NULL, "unlock the front door",
		         "déverrouiller la porte d'entrée");
		return;
	}
	if ((n = call_begin(w, a, &ex_cb[CB_UNIFI], true, &deferred)) < 0) {
		if (!deferred)
			ops_defer(w->db, a->id, 1000, "the database did not take the attempt");
		return;
	}
	prov_unifi_unlock(ex_cfg, door, minutes, &r);
	call_end(w, a, &ex_cb[CB_UNIFI], n, &r);
	conclude(w, a, n, &r,
	         fr(a) ? "La porte d'entrée est déverrouillée." : "The front door is unlocked now.",
	         "unlock the front door", "déverrouiller la porte d'entrée");
}

/* slack_channel - SLACK_CHANNEL, or the facility's */
static void
slack_channel(struct worker *w, char *out, size_t cap)
{
	setting_or_facility(w, ex_cfg->slack_channel, "slack_channel", out, cap);
}

/* run_notify - a message to the team in Slack (notify_team, handoff) */
static void
run_notify(struct worker *w, const struct ops_claimed *a, bool handoff)
{
	struct act_result r = {0};
	char              chan[64], text[1200];
	bool              deferred;
	int               n;

	slack_channel(w, chan, sizeof(chan));
	summary_of(w, a, handoff ? "A customer asks for a person" : "For the team", text,
	           sizeof(text));
	if (!configured(CB_SLACK)) {
		prov_slack_post(ex_cfg, chan, NULL, text, (long long)a->id,
		                handoff ? ACT_BUTTONS_HANDOFF : ACT_BUTTONS_NONE, &r);
		conclude(w, a, a->attempts, &r, NULL,
		         handoff ? "reach the team" : "notify the team",
		         handoff ? "joindre l'équipe" : "aviser l'équipe");
		return;
	}
	if ((n = call_begin(w, a, &ex_cb[CB_SLACK], true, &deferred)) < 0) {
		if (!deferred)
			ops_defer(w->db, a->id, 1000, "the database did not take the attempt");
		return;
	}
	prov_slack_post(ex_cfg, chan, NULL, text, (long long)a->id,
	                handoff ? ACT_BUTTONS_HANDOFF : ACT_BUTTONS_NONE, &r);
	call_end(w, a, &ex_cb[CB_SLACK], n, &r);
	conclude(w, a, n, &r,
	         !handoff ? NULL
	         : fr(a) ? "J'ai transmis votre demande à l'équipe; une personne vous répondra ici."
	                 : "I've passed this to the team; a person will reply here.",
	         handoff ? "reach the team" : "notify the team",
	         handoff ? "joindre l'équipe" : "aviser l'équipe");
}

/* page_sms - one on-call text; the attempt is recorded around it */
static int
page_sms(struct worker *w, const struct ops_claimed *a, const char *to, const char *text,
         struct act_result *r)
{
	char from[40];
	bool deferred;
	int  n;

	setting_or_facility(w, ex_cfg->openphone_number, "venue_line", from, sizeof(from));
	if (!configured(CB_OPENPHONE) || *to == '\0' || *from == '\0') {
		prov_sms_send(ex_cfg, from, to, text, r); /* ACT_OFF with the reason */
		return 0;
	}
	if ((n = call_begin(w, a, &ex_cb[CB_OPENPHONE], false, &deferred)) < 0) {
		r->outcome = ACT_RETRY;
		snprintf(r->error, sizeof(r->error), "OpenPhone: %s",
		         deferred ? "circuit open" : "attempt not recorded");
		return n;
	}
	prov_sms_send(ex_cfg, from, to, text, r);
	call_end(w, a, &ex_cb[CB_OPENPHONE], n, r);
	return n;
}

/*
 * run_alert - tier 3: Slack (with acknowledge / take over) and the
 * on-call phone, at once.  Done when either reached someone; the ladder
 * then pages again if nobody acknowledges.  A Slack post already made
 * (provider_ref) is not made again on a retry.
 */
static void
run_alert(struct worker *w, const struct ops_claimed *a)
{
	struct act_result s = {0}, p = {0}, r = {0};
	char              chan[64], text[1200], phone[40], sms[400], place[100];
	bool              deferred, slack_done = *a->provider_ref != '\0';
	int               n = a->attempts, ns = 0, np;

	summary_of(w, a, ":rotating_light: EMERGENCY", text, sizeof(text));
	if (!slack_done) {
		slack_channel(w, chan, sizeof(chan));
		if (!configured(CB_SLACK)) {
			prov_slack_post(ex_cfg, chan, NULL, text, (long long)a->id,
			                ACT_BUTTONS_ESCALATION, &s);
		} else if ((ns = call_begin(w, a, &ex_cb[CB_SLACK], false, &deferred)) >= 0) {
			prov_slack_post(ex_cfg, chan, NULL, text, (long long)a->id,
			                ACT_BUTTONS_ESCALATION, &s);
			call_end(w, a, &ex_cb[CB_SLACK], ns, &s);
			n = ns;
		} else {
			s.outcome = ACT_RETRY;
			snprintf(s.error, sizeof(s.error), "Slack: circuit open");
		}
	}
	setting_or_facility(w, ex_cfg->oncall_phone, "oncall_phone", phone, sizeof(phone));
	where(a, place, sizeof(place));
	snprintf(sms, sizeof(sms), "ClubOS EMERGENCY%s. Check Slack and answer the customer.",
	         place);
	np = page_sms(w, a, phone, sms, &p);
	n = np > n ? np : n;
	if (slack_done || s.outcome == ACT_OK || p.outcome == ACT_OK) {
		struct ops_finish f = {
		    .id = a->id,
		    .status = "done",
		    .provider_ref = s.outcome == ACT_OK && *s.ref ? s.ref : NULL,
		    .followup = fr(a)
		                    ? "Nous alertons le responsable de garde maintenant. Si "
		                      "quelqu'un est blessé ou en danger, faites le 911."
		                    : "We are paging the on-call manager now. If anyone is hurt or "
		                      "in danger, call 911.",
		    .ladder_s = ex_cfg->escalation_ack_s,
		};
		char err[400];

		if (p.outcome != ACT_OK || (!slack_done && s.outcome != ACT_OK)) {
			snprintf(err, sizeof(err), "partly: %s",
			         p.outcome != ACT_OK ? p.error : s.error);
			f.error = err;
		}
		finish(w, &f);
		log_msg(LOG_INFO, a->trace_id, "alert %lld: paged (slack %s, sms %s)",
		        (long long)a->id, slack_done || s.outcome == ACT_OK ? "ok" : "failed",
		        p.outcome == ACT_OK ? "ok" : "failed");
		return;
	}
	/* Nobody reached: try again, unless neither channel can ever work. */
	r.outcome = s.outcome == ACT_RETRY || p.outcome == ACT_RETRY ? ACT_RETRY : ACT_FAIL;
	r.retry_after_ms =
	    s.retry_after_ms > p.retry_after_ms ? s.retry_after_ms : p.retry_after_ms;
	snprintf(r.error, sizeof(r.error), "Slack: %.130s; on-call SMS: %.130s",
	         s.error[0] ? s.error : "-", p.error[0] ? p.error : "-");
	conclude(w, a, n > 0 ? n : 1, &r, NULL, "page the on-call manager",
	         "joindre le responsable de garde");
}

/* run_page - the ladder's next page: the on-call again, then the next contacts */
static void
run_page(struct worker *w, const struct ops_claimed *a)
{
	struct act_result r = {0};
	const char       *why;
	cJSON            *d = json_parse(a->detail, strlen(a->detail), &why);
	int               step = json_int(d, "step", 1), n;
	char              phone[40] = "", sms[300], place[100];

	cJSON_Delete(d);
	if (step <= 1) {
		setting_or_facility(w, ex_cfg->oncall_phone, "oncall_phone", phone, sizeof(phone));
	} else {
		/* The (step - 1)th entry of the contact list. */
		const char *s = ex_cfg->escalation_contacts;

		for (int i = 1; s != NULL && *s && i < step - 1; i++)
			s = (s = strchr(s, ',')) != NULL ? s + 1 : NULL;
		if (s != NULL)
			snprintf(phone, sizeof(phone), "%.*s", (int)strcspn(s, ", "), s);
	}
	where(a, place, sizeof(place));
	snprintf(sms, sizeof(sms),
	         "ClubOS EMERGENCY%s, not acknowledged yet (page %d). Check Slack and answer "
	         "the customer.",
	         place, step + 1);
	n = page_sms(w, a, phone, sms, &r);
	conclude(w, a, n > 0 ? n : 1, &r, NULL, "page the next contact",
	         "joindre la personne suivante");
}

/* run_unsupported - an action no integration can carry out */
static void
run_unsupported(struct worker *w, const struct ops_claimed *a, const char *what,
                const char *what_fr)
{
	struct act_result r = {.outcome = ACT_FAIL};

	snprintf(r.error, sizeof(r.error), "no integration can %s", what);
	conclude(w, a, a->attempts, &r, NULL, what, what_fr);
}

/* What each type is, and whether it may be sent again after a crash. */
static const struct act_type {
	const char *type;
	bool        rerun;
} act_types[] = {
    {"alert_oncall", true},
    {"handoff", true},
    {"notify_team", true},
    {"page_oncall", true},
    {"projector_reset_request", true},
    {"reboot_pc", false},
    {"reboot_pc_request", false},
    {"restart_trackman", false},
    {"restart_trackman_request", false},
    {"unlock_door", true},
    {"unlock_door_request", true},
};

/* may_rerun - ops_recover's question: send this type again after a crash? */
static bool
may_rerun(const char *type)
{
	for (size_t i = 0; i < sizeof(act_types) / sizeof(act_types[0]); i++)
		if (strcmp(act_types[i].type, type) == 0)
			return act_types[i].rerun;
	return false;
}

/* run - one claimed action through its provider */
static void
run(struct worker *w, const struct ops_claimed *a)
{
	const char *t = a->type;

	if (strcmp(t, "alert_oncall") == 0)
		run_alert(w, a);
	else if (strcmp(t, "page_oncall") == 0)
		run_page(w, a);
	else if (strcmp(t, "notify_team") == 0 || strcmp(t, "handoff") == 0)
		run_notify(w, a, t[0] == 'h');
	else if (strncmp(t, "restart_trackman", 16) == 0)
		run_device(w, a, false);
	else if (strncmp(t, "reboot_pc", 9) == 0)
		run_device(w, a, true);
	else if (strncmp(t, "unlock_door", 11) == 0)
		run_unlock(w, a);
	else if (strcmp(t, "projector_reset_request") == 0)
		run_unsupported(w, a, "reset the projector", "réinitialiser le projecteur");
	else
		run_unsupported(w, a, "carry out this request", "effectuer cette demande");
}

/* ======================================================== housekeeping */

/* ask_approvals - post waiting door unlocks to Slack with approve / cancel */
static void
ask_approvals(struct worker *w)
{
	struct ops_claimed a;
	char               chan[64], text[1200];
	int                wait_ms;

	if (!configured(CB_SLACK))
		return;
	for (int i = 0; i < 5 && ops_approval_next(w->db, 60, &a) == 1; i++) {
		struct act_result r;

		if (!cb_allow(&ex_cb[CB_SLACK], &wait_ms))
			return; /* asked again when Slack is back (next_attempt_at) */
		slack_channel(w, chan, sizeof(chan));
		summary_of(w, &a, ":key: Approval needed: unlock the front door", text,
		           sizeof(text));
		prov_slack_post(ex_cfg, chan, NULL, text, (long long)a.id, ACT_BUTTONS_APPROVAL,
		                &r);
		cb_report(w, &ex_cb[CB_SLACK], &r);
		if (r.outcome == ACT_OK)
			ops_mark_posted(w->db, a.id, r.ref);
		else
			log_msg(LOG_WARN, a.trace_id, "approval request %lld not posted: %s",
			        (long long)a.id, r.error);
	}
}

/* housekeeping - spool, recovery, expiry, ladder; worker 0, once a second */
static void
housekeeping(struct worker *w)
{
	int requeued, failed, n, steps = 1;

	if ((n = ops_spool_flush(w->db, ex_spool)) > 0)
		log_msg(LOG_INFO, NULL, "spool: %d batch(es) written", n);
	if (ops_recover(w->db, may_rerun, &requeued, &failed) == 0 && requeued + failed > 0)
		log_msg(LOG_WARN, NULL,
		        "recovery: %d action(s) of a stopped executor queued again, %d failed "
		        "(outcome unknown)",
		        requeued, failed);
	ask_approvals(w);
	if ((n = ops_expire(w->db)) > 0)
		log_msg(LOG_INFO, NULL, "expired %d pending action(s)", n);
	/* The ladder: the on-call once more, then each contact in turn. */
	if (*ex_cfg->escalation_contacts != '\0') {
		steps++;
		for (const char *s = ex_cfg->escalation_contacts; *s; s++)
			steps += *s == ',';
	}
	if ((n = ops_ladder_due(w->db, steps, ex_cfg->escalation_ack_s)) > 0)
		log_msg(LOG_WARN, NULL, "ladder: %d unacknowledged alert(s) paged again", n);
}

/* worker_main - claim, run, record; until told to stop */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t       next_house = 0;
	unsigned long  seen = 0;

	while (!atomic_load(&ex_stopping)) {
		struct ops_claimed a;
		int                rc;

		if (!db_ok(w->db)) {
			db_wait_notify(w->db, 500);
			continue;
		}
		/* A new connection (after PostgreSQL restarted) LISTENs again. */
		db_listen(w->db, "clubos_actions", &seen);
		if (w->idx == 0 && env_now_ms() >= next_house) {
			housekeeping(w);
			next_house = env_now_ms() + 1000;
		}
		rc = ops_claim(w->db, lease_s(), &a);
		if (rc == 1) {
			run(w, &a);
			ops_claimed_free(&a);
			continue;
		}
		db_wait_notify(w->db, rc < 0 ? 500 : 1000);
	}
	return NULL;
}

/* lease_s - how long a claimed action is ours: two calls' timeouts and a margin */
static int
lease_s(void)
{
	return ex_cfg->actions_timeout_ms / 1000 * 2 + 10;
}

/* exec_start - the workers */
int
exec_start(const struct cfg *c)
{
	ex_cfg = c;
	snprintf(ex_spool, sizeof(ex_spool), "%s/spool", c->run_dir);
	prov_init();
	/* What this executor can do, for /api/health (before any worker runs). */
	{
		db_conn   *db = db_open(c->pg_dsn);
		const bool on[] = {*c->slack_bot_token != '\0', *c->openphone_api_key != '\0',
		                   *c->ninjaone_base_url != '\0' && *c->ninjaone_client_id != '\0',
		                   *c->unifi_access_base_url != '\0' &&
		                       *c->unifi_access_token != '\0'};

		for (size_t i = 0; i < sizeof(ex_cb) / sizeof(ex_cb[0]); i++)
			ops_provider_report(db, ex_cb[i].name, on[i]);
		db_close(db);
	}
	ex_nworkers = c->actions_workers < EXEC_MAX_WORKERS ? c->actions_workers : EXEC_MAX_WORKERS;
	for (int i = 0; i < ex_nworkers; i++) {
		ex_workers[i].idx = i;
		if ((ex_workers[i].db = db_open(c->pg_dsn)) == NULL ||
		    pthread_create(&ex_workers[i].thr, NULL, worker_main, &ex_workers[i]) != 0) {
			log_error("cannot start executor worker %d", i);
			db_close(ex_workers[i].db);
			ex_nworkers = i;
			exec_stop();
			return -1;
		}
	}
	log_info("executor: %d worker(s); slack %s, openphone %s, ninjaone %s, unifi access %s",
	         ex_nworkers, *c->slack_bot_token ? "on" : "off",
	         *c->openphone_api_key ? "on" : "off", *c->ninjaone_base_url ? "on" : "off",
	         *c->unifi_access_base_url ? "on" : "off");
	return 0;
}

/* exec_stop - let each worker finish its action (bounded by the provider timeout) */
void
exec_stop(void)
{
	atomic_store(&ex_stopping, true);
	for (int i = 0; i < ex_nworkers; i++) {
		pthread_join(ex_workers[i].thr, NULL);
		db_close(ex_workers[i].db);
	}
	ex_nworkers = 0;
	prov_fini();
}
