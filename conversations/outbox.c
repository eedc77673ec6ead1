/*
 * outbox.c - outgoing texts, each sent once
 *
 * An outgoing message with delivery 'queued' is the outbox (whoever
 * writes one NOTIFYs clubos_outbox).  The sender takes the oldest ready
 * one whose conversation has nothing older still waiting (so replies go
 * out in order; "older" by created_at, the writing transaction's start, so
 * a reply goes before the follow-up of an action its own answer recorded
 * when both are waiting), FOR UPDATE SKIP LOCKED, and:
 *
 *   queued  -> sending   attempts + 1, committed BEFORE the call
 *   sending -> sent      every part accepted (202) by OpenPhone
 *           -> queued    429 (Retry-After honoured), 5xx, no answer or a
 *                        timeout: exponential backoff with jitter, up to
 *                        sms_max_attempts
 *           -> failed    any other 4xx, or attempts used up (last_error)
 *
 * A text longer than CV_SMS_CHARS goes as numbered parts (split.c); each
 * accepted part is recorded at once (sms_parts, parts_sent), so a retry
 * resumes after the last part OpenPhone took and never repeats one.
 *
 * Exactly once, and a crash: OpenPhone's POST /v1/messages takes no
 * idempotency key, so a send that was 'sending' when its sender died
 * cannot be told apart from one OpenPhone took.  Such a message is NOT
 * sent again: once its lease (two timeouts and a margin) has run out it
 * becomes 'failed' with last_error "outcome unknown", for staff to see,
 * rather than reaching the customer twice.  A timeout is the one ambiguous
 * case the brief asks to retry; it is retried like a 5xx.
 *
 * The per-number rate cap counts the parts sent to that number in the last
 * minute (across every sender); a message for a number at its cap waits
 * CV_RATE_WAIT_MS without spending an attempt.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "actions/act.h"
#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "conversations/cv.h"

#define OB_RETRY_CAP_MS 60000

static const struct cfg *ob_cfg;
static pthread_t         ob_thr;
static bool              ob_running;
static db_conn          *ob_db;

/* One claimed message. */
struct ob_msg {
	char  id[24];
	char  trace_id[40];
	char  phone[40];
	char *text;
	int   attempts;
	int   parts_sent;
};

enum ob_outcome { OB_SENT, OB_RETRY, OB_FAIL };

/* send_part - one part through OpenPhone; ref gets its id */
static enum ob_outcome
send_part(const char *from, const char *to, const char *text, char *ref, size_t refcap,
          int *retry_after_ms, char *err, size_t errcap)
{
	char            url[512], auth[1024];
	const char     *hdr[] = {auth, "Content-Type: application/json", NULL};
	cJSON          *o = cJSON_CreateObject(), *a, *ans, *d;
	char           *body;
	struct hc_req   req = {.method = "POST",
	                       .url = url,
	                       .headers = hdr,
	                       .timeout_ms = ob_cfg->actions_timeout_ms,
	                       .connect_timeout_ms = ob_cfg->actions_timeout_ms,
	                       .max_body = ACT_BODY_MAX,
	                       .user_agent = ACT_USER_AGENT};
	struct hc_res   h;
	const char     *why;
	enum ob_outcome out;
	int             rc;

	json_add_str(o, "content", text);
	json_add_str(o, "from", from);
	a = cJSON_AddArrayToObject(o, "to");
	cJSON_AddItemToArray(a, cJSON_CreateString(to));
	body = json_print(o);
	cJSON_Delete(o);
	if (body == NULL) {
		snprintf(err, errcap, "out of memory");
		return OB_RETRY;
	}
	snprintf(url, sizeof(url), "%s/v1/messages", ob_cfg->openphone_base_url);
	snprintf(auth, sizeof(auth), "Authorization: %s", ob_cfg->openphone_api_key);
	req.body = body;
	rc = hc_request(&req, &h);
	sodium_memzero(auth, sizeof(auth));
	free(body);
	*retry_after_ms = ACT_RETRY_MS(h.retry_after);
	ans = json_parse(h.body, h.len, &why);
	if (rc < 0) {
		snprintf(err, errcap, "OpenPhone: no answer (%s)", h.error);
		out = OB_RETRY;
	} else if (h.status >= 200 && h.status < 300) {
		d = cJSON_GetObjectItem(ans, "data");
		snprintf(ref, refcap, "%s", json_str(d, "id") ? json_str(d, "id") : "");
		out = OB_SENT;
	} else {
		snprintf(err, errcap, "OpenPhone: HTTP %ld%s%.200s", h.status,
		         json_str(ans, "message") ? ": " : "",
		         json_str(ans, "message") ? json_str(ans, "message") : "");
		out = h.status == 429 || h.status == 408 || h.status >= 500 ? OB_RETRY : OB_FAIL;
	}
	cJSON_Delete(ans);
	hc_res_free(&h);
	return out;
}

/* backoff_ms - the wait before attempt n+1: doubling, capped, +-25% jitter */
static int
backoff_ms(int attempts, int retry_after_ms)
{
	long long ms = ob_cfg->sms_backoff_ms;

	for (int i = 1; i < attempts && ms < OB_RETRY_CAP_MS; i++)
		ms *= 2;
	if (ms > OB_RETRY_CAP_MS)
		ms = OB_RETRY_CAP_MS;
	ms = ms * 3 / 4 + (long long)randombytes_uniform((uint32_t)(ms / 2 + 1));
	if (ms < retry_after_ms)
		ms = retry_after_ms;
	return (int)ms;
}

/* set_state - a message's delivery after a send (and last_error, next attempt) */
static void
set_state(const struct ob_msg *m, const char *delivery, const char *error, int in_ms)
{
	char        ms[24];
	const char *p[] = {m->id, delivery, error, (snprintf(ms, sizeof(ms), "%d", in_ms), ms)};

	if (db_cmd(ob_db,
	           "UPDATE messages SET delivery = $2, last_error = COALESCE($3, last_error), "
	           "next_attempt_at = CASE WHEN $2 = 'queued' THEN now() + make_interval(secs => "
	           "$4::int / 1000.0) END, updated_at = now() WHERE id = $1",
	           4, p) < 0)
		log_msg(LOG_ERROR, m->trace_id, "outbox: message %s not marked %s", m->id,
		        delivery);
	/* A delivery event may have come in before 'sent' was recorded. */
	if (strcmp(delivery, "sent") == 0)
		db_cmd(ob_db,
		       "UPDATE messages SET delivery = 'delivered', updated_at = now() WHERE id = "
		       "$1 AND NOT EXISTS (SELECT 1 FROM sms_parts WHERE message_id = $1 AND "
		       "status <> 'delivered')",
		       1, p);
}

/*
 * claim - the next message to send, marked 'sending' and committed;
 * 1 claimed, 0 none ready, -1 database trouble
 */
static int
claim(struct ob_msg *m)
{
	PGresult *r;
	char      cap[16];

	memset(m, 0, sizeof(*m));
	if (db_begin(ob_db) < 0)
		return -1;
	r = db_exec(ob_db,
	            "SELECT m.id, COALESCE(m.trace_id, ''), COALESCE(c.phone, ''), m.text, "
	            "m.attempts, m.parts_sent FROM messages m "
	            "JOIN conversations c ON c.id = m.conversation_id "
	            "WHERE m.delivery = 'queued' AND m.direction = 'out' AND c.channel = 'sms' "
	            "AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= now()) "
	            "AND NOT EXISTS (SELECT 1 FROM messages e WHERE e.conversation_id = "
	            "m.conversation_id AND e.direction = 'out' AND (e.created_at, e.id) < "
	            "(m.created_at, m.id) AND e.delivery IN ('queued', 'sending')) "
	            "ORDER BY m.created_at, m.id LIMIT 1 FOR UPDATE OF m SKIP LOCKED",
	            0, NULL);
	if (r == NULL || PQntuples(r) == 0) {
		int rc = r == NULL ? -1 : 0;

		PQclear(r);
		db_rollback(ob_db);
		return rc;
	}
	snprintf(m->id, sizeof(m->id), "%s", db_val(r, 0, 0));
	snprintf(m->trace_id, sizeof(m->trace_id), "%s", db_val(r, 0, 1));
	snprintf(m->phone, sizeof(m->phone), "%s", db_val(r, 0, 2));
	m->text = strdup(db_val(r, 0, 3));
	m->attempts = atoi(db_val(r, 0, 4)) + 1;
	m->parts_sent = atoi(db_val(r, 0, 5));
	PQclear(r);
	/* The per-number cap: parts sent to this number in the last minute. */
	snprintf(cap, sizeof(cap), "%d", ob_cfg->sms_per_minute);
	{
		const char *p[] = {m->phone, cap};

		r = db_exec(ob_db,
		            "SELECT count(*) >= $2::int FROM sms_parts WHERE phone = $1 AND "
		            "sent_at > now() - interval '1 minute'",
		            2, p);
	}
	if (r == NULL || m->text == NULL) {
		PQclear(r);
		db_rollback(ob_db);
		free(m->text);
		return -1;
	}
	if (db_val(r, 0, 0)[0] == 't') {
		char        ms[16];
		const char *p[] = {m->id, (snprintf(ms, sizeof(ms), "%d", CV_RATE_WAIT_MS), ms)};

		PQclear(r);
		db_cmd(ob_db,
		       "UPDATE messages SET next_attempt_at = now() + make_interval(secs => "
		       "$2::int / 1000.0) WHERE id = $1",
		       2, p);
		if (db_commit(ob_db) < 0)
			db_rollback(ob_db);
		log_msg(LOG_INFO, m->trace_id, "outbox: message %s waits (rate cap for the number)",
		        m->id);
		free(m->text);
		return 0;
	}
	PQclear(r);
	if (db_cmd(ob_db,
	           "UPDATE messages SET delivery = 'sending', attempts = attempts + 1, "
	           "updated_at = now() WHERE id = $1",
	           1, (const char *const[]){m->id}) < 0 ||
	    db_commit(ob_db) < 0) {
		db_rollback(ob_db);
		free(m->text);
		return -1;
	}
	return 1;
}

/* part_sent - record one accepted part at once (a retry starts after it) */
static int
part_sent(const struct ob_msg *m, int n, const char *ref)
{
	char        ns[16], fake[48];
	const char *p[] = {m->id, (snprintf(ns, sizeof(ns), "%d", n), ns), m->phone, ref};

	/* A 2xx without an id still counts as sent; it just cannot be
	 * matched with a delivery event. */
	if (*ref == '\0') {
		snprintf(fake, sizeof(fake), "none:%s:%d", m->id, n);
		p[3] = fake;
	}
	if (db_begin(ob_db) < 0)
		return -1;
	if (db_cmd(ob_db,
	           "INSERT INTO sms_parts (message_id, n, phone, provider_id) VALUES ($1, $2, $3, "
	           "$4) ON CONFLICT DO NOTHING",
	           4, p) < 0 ||
	    db_cmd(ob_db,
	           "UPDATE messages SET parts_sent = $2::int, provider_id = COALESCE(provider_id, "
	           "$3), updated_at = now() WHERE id = $1",
	           3, (const char *const[]){m->id, ns, p[3]}) < 0 ||
	    db_commit(ob_db) < 0) {
		db_rollback(ob_db);
		return -1;
	}
	return 0;
}

/* deliver - send a claimed message's remaining parts and record the outcome */
static void
deliver(const struct ob_msg *m)
{
	char            from[40], ref[128], err[300] = "";
	char          **parts = NULL;
	int             n, retry_after = 0, k;
	enum ob_outcome out = OB_SENT;

	if (*ob_cfg->openphone_api_key == '\0') {
		set_state(m, "failed", "OpenPhone is not configured (OPENPHONE_API_KEY)", 0);
		log_msg(LOG_WARN, m->trace_id, "outbox: message %s not sent: no OPENPHONE_API_KEY",
		        m->id);
		return;
	}
	cv_own_number(ob_db, ob_cfg, from, sizeof(from));
	if (*from == '\0' || *m->phone == '\0') {
		set_state(m, "failed", "no sending number (OPENPHONE_NUMBER, facility venue_line)",
		          0);
		return;
	}
	if ((n = sms_split(m->text, CV_SMS_CHARS, CV_MAX_PARTS, &parts)) <= 0) {
		set_state(m, "failed", "the text could not be cut into SMS parts", 0);
		return;
	}
	for (k = m->parts_sent; k < n && out == OB_SENT; k++) {
		ref[0] = '\0';
		out = send_part(from, m->phone, parts[k], ref, sizeof(ref), &retry_after, err,
		                sizeof(err));
		if (out == OB_SENT && part_sent(m, k + 1, ref) < 0) {
			/* Sent, but not recorded: leave it 'sending' for recovery
			 * (outcome unknown) rather than risk sending it again. */
			log_msg(LOG_ERROR, m->trace_id,
			        "outbox: message %s part %d sent but not recorded", m->id, k + 1);
			sms_split_free(parts, n);
			return;
		}
	}
	sms_split_free(parts, n);
	if (out == OB_SENT) {
		set_state(m, "sent", NULL, 0);
		log_msg(LOG_INFO, m->trace_id, "outbox: message %s sent (%d part%s, attempt %d)",
		        m->id, n, n == 1 ? "" : "s", m->attempts);
	} else if (out == OB_RETRY && m->attempts < ob_cfg->sms_max_attempts) {
		int in_ms = backoff_ms(m->attempts, retry_after);

		set_state(m, "queued", err, in_ms);
		log_msg(LOG_WARN, m->trace_id, "outbox: message %s: %s; again in %d ms", m->id, err,
		        in_ms);
	} else {
		set_state(m, "failed", err, 0);
		log_msg(LOG_WARN, m->trace_id, "outbox: message %s failed: %s", m->id, err);
	}
}

/* recover - sends whose sender died mid-call: failed, never sent twice */
static void
recover(void)
{
	char      lease[16];
	PGresult *r;

	snprintf(lease, sizeof(lease), "%d", ob_cfg->actions_timeout_ms / 1000 * 2 + 5);
	r = db_exec(ob_db,
	            "UPDATE messages SET delivery = 'failed', last_error = 'outcome unknown: the "
	            "sender stopped during the call (' || parts_sent || ' part(s) recorded); not "
	            "sent again', updated_at = now() WHERE delivery = 'sending' AND updated_at < "
	            "now() - make_interval(secs => $1::int) RETURNING id",
	            1, (const char *const[]){lease});
	if (r != NULL && PQntuples(r) > 0)
		log_warn(
		    "outbox: %d message(s) of a stopped sender marked failed (outcome unknown)",
		    PQntuples(r));
	PQclear(r);
}

/* ob_main - claim, send, record; until told to stop */
static void *
ob_main(void *arg)
{
	uint64_t      next_recover = 0;
	unsigned long seen = 0;

	(void)arg;
	while (!cv_stopping()) {
		struct ob_msg m;
		int           rc;

		if (!db_ok(ob_db)) {
			db_wait_notify(ob_db, 500);
			continue;
		}
		db_listen(ob_db, "clubos_outbox", &seen);
		if (env_now_ms() >= next_recover) {
			recover();
			next_recover = env_now_ms() + 1000;
		}
		if ((rc = claim(&m)) == 1) {
			deliver(&m);
			free(m.text);
			continue;
		}
		db_wait_notify(ob_db, 500);
	}
	return NULL;
}

/* outbox_start - the sender thread */
int
outbox_start(const struct cfg *c)
{
	ob_cfg = c;
	if ((ob_db = db_open(c->pg_dsn)) == NULL ||
	    pthread_create(&ob_thr, NULL, ob_main, NULL) != 0) {
		db_close(ob_db);
		ob_db = NULL;
		return -1;
	}
	ob_running = true;
	return 0;
}

/* outbox_stop - the send in hand finishes (bounded by the provider timeout) */
void
outbox_stop(void)
{
	if (ob_running)
		pthread_join(ob_thr, NULL);
	ob_running = false;
	db_close(ob_db);
	ob_db = NULL;
}
