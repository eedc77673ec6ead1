/*
 * providers.c - the outside systems, one libcurl client each
 *
 * Slack        POST {base}/chat.postMessage (Bearer): an escalation with
 *              its buttons, or a line in its thread.  HTTP 200 with
 *              {"ok": false, "error"} is a refusal; "ratelimited" and 429
 *              are worth another try.
 * OpenPhone    POST {base}/v1/messages {"content", "from", "to": [phone]},
 *              header "Authorization: <key>"; the on-call page.
 * NinjaOne     OAuth client credentials (POST {base}/ws/oauth/token, form)
 *              give a token, cached until shortly before it expires and
 *              fetched again once on a 401; then POST
 *              {base}/v2/device/{id}/script/run {"type": "SCRIPT", "id"}
 *              (TrackMan restart) or POST {base}/v2/device/{id}/reboot/{mode}.
 * UniFi Access PUT {base}/api/v1/developer/doors/{id}/unlock (Bearer); an
 *              answer is {"code": "SUCCESS", "msg", "data"}, anything else
 *              in "code" is a refusal even with HTTP 200.
 *
 * A provider whose settings are missing answers ACT_OFF with the setting
 * that is missing, so the action fails at once with that reason.  Tokens
 * live in stack buffers wiped after use; none is ever logged.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sodium.h>

#include "actions/act.h"
#include "common/json.h"
#include "common/log.h"

/* NinjaOne's token, shared by the workers. */
static pthread_mutex_t ninja_mu = PTHREAD_MUTEX_INITIALIZER;
static char            ninja_token[2048];
static time_t          ninja_expires;

/* prov_init - libcurl's global state, once, before any thread */
void
prov_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* prov_fini - forget the token */
void
prov_fini(void)
{
	pthread_mutex_lock(&ninja_mu);
	sodium_memzero(ninja_token, sizeof(ninja_token));
	ninja_expires = 0;
	pthread_mutex_unlock(&ninja_mu);
	curl_global_cleanup();
}

/* off - the integration is not configured: say which setting is missing */
static void
off(struct act_result *r, const char *what, const char *setting)
{
	r->outcome = ACT_OFF;
	snprintf(r->error, sizeof(r->error), "%s is not configured (%s)", what, setting);
}

/* safe_id - an id we may put in a URL path: letters, digits, '-' */
static bool
safe_id(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || *s == '-'))
			return false;
	return true;
}

/*
 * call - one provider request through hc_request: a total (and connect)
 * timeout of ms, an answer of at most ACT_BODY_MAX.  0 when an HTTP answer
 * came, -1 when none did (h->error says why).  Free h with hc_res_free.
 */
static int
call(const char *method, const char *url, const char *const *headers, const char *body, int ms,
     struct hc_res *h)
{
	struct hc_req req = {.method = method,
	                     .url = url,
	                     .headers = headers,
	                     .body = body,
	                     .timeout_ms = ms,
	                     .connect_timeout_ms = ms,
	                     .max_body = ACT_BODY_MAX,
	                     .user_agent = ACT_USER_AGENT};

	return hc_request(&req, h);
}

/* classify - the outcome an HTTP exchange stands for, before the body is read */
static void
classify(const char *who, int rc, const struct hc_res *h, struct act_result *r)
{
	r->http_status = (int)h->status;
	r->retry_after_ms = ACT_RETRY_MS(h->retry_after);
	if (rc < 0) {
		r->outcome = ACT_RETRY;
		snprintf(r->error, sizeof(r->error), "%s: no answer (%s)", who, h->error);
	} else if (h->status == 429 || h->status == 408 || h->status >= 500) {
		r->outcome = ACT_RETRY;
		snprintf(r->error, sizeof(r->error), "%s: HTTP %ld", who, h->status);
	} else if (h->status < 200 || h->status >= 300) {
		r->outcome = ACT_FAIL;
		snprintf(r->error, sizeof(r->error), "%s: HTTP %ld", who, h->status);
	} else {
		r->outcome = ACT_OK;
	}
}

/* error_detail - add the provider's own words (a JSON field) to r->error */
static void
error_detail(struct act_result *r, const cJSON *o, const char *field)
{
	const char *m = json_str(o, field);
	size_t      n = strlen(r->error);

	if (m != NULL && n < sizeof(r->error) - 4)
		snprintf(r->error + n, sizeof(r->error) - n, ": %.200s", m);
}

/* ================================================================ Slack */

/* slack_body - the message: text, and the buttons staff answer with */
static char *
slack_body(const char *channel, const char *thread_ts, const char *text, long long id,
           enum act_buttons buttons)
{
	static const struct {
		enum act_buttons set;
		const char      *id, *label, *style;
	} btn[] = {
	    {ACT_BUTTONS_ESCALATION, "ack", "Acknowledge", "primary"},
	    {ACT_BUTTONS_ESCALATION, "take_over", "Take over", NULL},
	    {ACT_BUTTONS_HANDOFF, "take_over", "Take over", "primary"},
	    {ACT_BUTTONS_APPROVAL, "approve", "Approve", "primary"},
	    {ACT_BUTTONS_APPROVAL, "cancel", "Cancel", "danger"},
	};
	cJSON *o = cJSON_CreateObject(), *blocks, *b, *els, *t;
	char   val[32];
	char  *out;

	json_add_str(o, "channel", channel);
	json_add_str(o, "text", text);
	if (thread_ts != NULL && *thread_ts)
		json_add_str(o, "thread_ts", thread_ts);
	if (buttons != ACT_BUTTONS_NONE) {
		snprintf(val, sizeof(val), "%lld", id);
		blocks = cJSON_AddArrayToObject(o, "blocks");
		b = cJSON_CreateObject();
		json_add_str(b, "type", "section");
		t = cJSON_AddObjectToObject(b, "text");
		json_add_str(t, "type", "mrkdwn");
		json_add_str(t, "text", text);
		cJSON_AddItemToArray(blocks, b);
		b = cJSON_CreateObject();
		json_add_str(b, "type", "actions");
		json_add_str(b, "block_id", "clubos_action");
		els = cJSON_AddArrayToObject(b, "elements");
		for (size_t i = 0; i < sizeof(btn) / sizeof(btn[0]); i++) {
			cJSON *e;

			if (btn[i].set != buttons)
				continue;
			e = cJSON_CreateObject();
			json_add_str(e, "type", "button");
			t = cJSON_AddObjectToObject(e, "text");
			json_add_str(t, "type", "plain_text");
			json_add_str(t, "text", btn[i].label);
			json_add_str(e, "action_id", btn[i].id);
			json_add_str(e, "value", val);
			if (btn[i].style != NULL)
				json_add_str(e, "style", btn[i].style);
			cJSON_AddItemToArray(els, e);
		}
		cJSON_AddItemToArray(blocks, b);
	}
	out = json_print(o);
	cJSON_Delete(o);
	return out;
}

/* prov_slack_post - chat.postMessage; r->ref is the message's ts */
void
prov_slack_post(const struct cfg *c, const char *channel, const char *thread_ts, const char *text,
                long long action_id, enum act_buttons buttons, struct act_result *r)
{
	char          url[512], auth[1024];
	const char   *hdr[] = {auth, "Content-Type: application/json; charset=utf-8", NULL};
	char         *body;
	struct hc_res h;
	int           rc;
	cJSON        *o;
	const char   *why;

	memset(r, 0, sizeof(*r));
	if (*c->slack_bot_token == '\0') {
		off(r, "Slack", "SLACK_BOT_TOKEN");
		return;
	}
	if (channel == NULL || *channel == '\0') {
		off(r, "Slack's channel", "SLACK_CHANNEL");
		return;
	}
	snprintf(url, sizeof(url), "%s/chat.postMessage", c->slack_base_url);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->slack_bot_token);
	if ((body = slack_body(channel, thread_ts, text, action_id, buttons)) == NULL) {
		r->outcome = ACT_RETRY;
		snprintf(r->error, sizeof(r->error), "Slack: out of memory");
		return;
	}
	rc = call("POST", url, hdr, body, c->actions_timeout_ms, &h);
	sodium_memzero(auth, sizeof(auth));
	free(body);
	classify("Slack", rc, &h, r);
	if (r->outcome == ACT_OK) {
		o = json_parse(h.body, h.len, &why);
		if (json_bool(o, "ok", false) && json_str(o, "ts") != NULL) {
			snprintf(r->ref, sizeof(r->ref), "%s", json_str(o, "ts"));
		} else {
			const char *e = json_str(o, "error");

			r->outcome = e != NULL && (strcmp(e, "ratelimited") == 0 ||
			                           strcmp(e, "internal_error") == 0 ||
			                           strcmp(e, "fatal_error") == 0)
			                 ? ACT_RETRY
			                 : ACT_FAIL;
			snprintf(r->error, sizeof(r->error), "Slack refused the message: %.200s",
			         e != NULL ? e : "no ok in the answer");
		}
		cJSON_Delete(o);
	}
	hc_res_free(&h);
}

/* ============================================================ OpenPhone */

/* prov_sms_send - one text through OpenPhone */
void
prov_sms_send(const struct cfg *c, const char *from, const char *to, const char *text,
              struct act_result *r)
{
	char          url[512], auth[1024];
	const char   *hdr[] = {auth, "Content-Type: application/json", NULL};
	cJSON        *o = cJSON_CreateObject(), *a;
	char         *body;
	struct hc_res h;
	int           rc;

	memset(r, 0, sizeof(*r));
	if (*c->openphone_api_key == '\0') {
		cJSON_Delete(o);
		{
			off(r, "OpenPhone", "OPENPHONE_API_KEY");
			return;
		}
	}
	if (from == NULL || *from == '\0' || to == NULL || *to == '\0') {
		cJSON_Delete(o);
		{
			off(r, "the on-call phone or the sending number",
			    "CLUBOS_ONCALL_PHONE, OPENPHONE_NUMBER");
			return;
		}
	}
	json_add_str(o, "content", text);
	json_add_str(o, "from", from);
	a = cJSON_AddArrayToObject(o, "to");
	cJSON_AddItemToArray(a, cJSON_CreateString(to));
	body = json_print(o);
	cJSON_Delete(o);
	snprintf(url, sizeof(url), "%s/v1/messages", c->openphone_base_url);
	snprintf(auth, sizeof(auth), "Authorization: %s", c->openphone_api_key);
	rc = call("POST", url, hdr, body, c->actions_timeout_ms, &h);
	sodium_memzero(auth, sizeof(auth));
	free(body);
	classify("OpenPhone", rc, &h, r);
	{
		const char *why;
		cJSON      *ans = json_parse(h.body, h.len, &why);
		cJSON      *d = cJSON_GetObjectItem(ans, "data");

		if (r->outcome == ACT_OK && json_str(d, "id") != NULL)
			snprintf(r->ref, sizeof(r->ref), "%s", json_str(d, "id"));
		else if (r->outcome != ACT_OK)
			error_detail(r, ans, "message");
		cJSON_Delete(ans);
	}
	hc_res_free(&h);
}

/* ============================================================= NinjaOne */

/* ninja_token_get - a valid token in out (cached); false with r filled if none */
static bool
ninja_token_get(const struct cfg *c, bool renew, char *out, size_t cap, struct act_result *r)
{
	char          url[512], *id = NULL, *secret = NULL, *body = NULL;
	const char   *hdr[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	struct hc_res h = {0};
	int           rc, n;
	cJSON        *o = NULL;
	const char   *why, *tok;
	CURL         *e;
	bool          ok = false;

	pthread_mutex_lock(&ninja_mu);
	if (renew)
		ninja_expires = 0;
	if (ninja_expires > time(NULL) + 30) {
		snprintf(out, cap, "%s", ninja_token);
		pthread_mutex_unlock(&ninja_mu);
		return true;
	}
	if ((e = curl_easy_init()) == NULL)
		goto fail;
	id = curl_easy_escape(e, c->ninjaone_client_id, 0);
	secret = curl_easy_escape(e, c->ninjaone_client_secret, 0);
	curl_easy_cleanup(e);
	n = id && secret ? snprintf(NULL, 0,
	                            "grant_type=client_credentials&client_id=%s&"
	                            "client_secret=%s&scope=monitoring%%20management%%20"
	                            "control",
	                            id, secret)
	                 : -1;
	if (n < 0 || (body = malloc((size_t)n + 1)) == NULL)
		goto fail;
	snprintf(body, (size_t)n + 1,
	         "grant_type=client_credentials&client_id=%s&client_secret=%s&"
	         "scope=monitoring%%20management%%20control",
	         id, secret);
	snprintf(url, sizeof(url), "%s/ws/oauth/token", c->ninjaone_base_url);
	rc = call("POST", url, hdr, body, c->actions_timeout_ms, &h);
	classify("NinjaOne token", rc, &h, r);
	if (r->outcome != ACT_OK)
		goto fail;
	o = json_parse(h.body, h.len, &why);
	tok = json_str(o, "access_token");
	if (tok == NULL || strlen(tok) >= sizeof(ninja_token)) {
		r->outcome = ACT_FAIL;
		snprintf(r->error, sizeof(r->error),
		         "NinjaOne token: no access_token in the answer");
		goto fail;
	}
	snprintf(ninja_token, sizeof(ninja_token), "%s", tok);
	ninja_expires = time(NULL) + (time_t)json_num(o, "expires_in", 3600);
	snprintf(out, cap, "%s", ninja_token);
	ok = true;
fail:
	if (!ok && r->outcome == ACT_OK) {
		r->outcome = ACT_RETRY;
		snprintf(r->error, sizeof(r->error), "NinjaOne token: out of memory");
	}
	pthread_mutex_unlock(&ninja_mu);
	if (body != NULL)
		sodium_memzero(body, strlen(body));
	if (secret != NULL)
		sodium_memzero(secret, strlen(secret));
	free(body);
	curl_free(id);
	curl_free(secret);
	cJSON_Delete(o);
	hc_res_free(&h);
	return ok;
}

/* ninja_call - POST path with body under a token; a 401 renews it once */
static void
ninja_call(const struct cfg *c, const char *path, const char *body, struct act_result *r)
{
	char          url[512], tok[2048], auth[2100];
	const char   *hdr[] = {auth, "Content-Type: application/json", NULL};
	struct hc_res h;
	int           rc;

	memset(r, 0, sizeof(*r));
	if (*c->ninjaone_base_url == '\0') {
		off(r, "NinjaOne", "NINJAONE_BASE_URL");
		return;
	}
	if (*c->ninjaone_client_id == '\0' || *c->ninjaone_client_secret == '\0') {
		off(r, "NinjaOne", "NINJAONE_CLIENT_ID, NINJAONE_CLIENT_SECRET");
		return;
	}
	snprintf(url, sizeof(url), "%s%s", c->ninjaone_base_url, path);
	for (int pass = 0; pass < 2; pass++) {
		if (!ninja_token_get(c, pass > 0, tok, sizeof(tok), r))
			return;
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		sodium_memzero(tok, sizeof(tok));
		rc = call("POST", url, hdr, body, c->actions_timeout_ms, &h);
		sodium_memzero(auth, sizeof(auth));
		classify("NinjaOne", rc, &h, r);
		if (h.status == 401 && pass == 0) {
			hc_res_free(&h);
			continue; /* the token expired early or was revoked: once more */
		}
		if (r->outcome != ACT_OK) {
			const char *why;
			cJSON      *o = json_parse(h.body, h.len, &why);

			error_detail(r, o, "resultCode");
			cJSON_Delete(o);
		}
		hc_res_free(&h);
		return;
	}
}

/* prov_ninja_script - run the TrackMan restart script on a bay's PC */
void
prov_ninja_script(const struct cfg *c, const char *device_id, struct act_result *r)
{
	char   path[160];
	cJSON *o;
	char  *body;

	memset(r, 0, sizeof(*r));
	if (*c->ninjaone_trackman_script_id == '\0') {
		off(r, "The TrackMan restart script", "NINJAONE_TRACKMAN_SCRIPT_ID");
		return;
	}
	if (!safe_id(device_id)) {
		r->outcome = ACT_FAIL;
		snprintf(r->error, sizeof(r->error), "no NinjaOne device for this bay");
		return;
	}
	snprintf(path, sizeof(path), "/v2/device/%s/script/run", device_id);
	o = cJSON_CreateObject();
	json_add_str(o, "type", "SCRIPT");
	cJSON_AddNumberToObject(o, "id", strtod(c->ninjaone_trackman_script_id, NULL));
	json_add_str(o, "runAs", "system");
	body = json_print(o);
	cJSON_Delete(o);
	ninja_call(c, path, body, r);
	free(body);
}

/* prov_ninja_reboot - reboot a bay's PC */
void
prov_ninja_reboot(const struct cfg *c, const char *device_id, struct act_result *r)
{
	char path[160];

	memset(r, 0, sizeof(*r));
	if (!safe_id(device_id) || !safe_id(c->ninjaone_reboot_mode)) {
		r->outcome = ACT_FAIL;
		snprintf(r->error, sizeof(r->error), "no NinjaOne device for this bay");
		return;
	}
	snprintf(path, sizeof(path), "/v2/device/%s/reboot/%s", device_id, c->ninjaone_reboot_mode);
	ninja_call(c, path, "{\"reason\":\"ClubOS: a customer asked for a restart\"}", r);
}

/* ========================================================= UniFi Access */

/* unifi_call - one call; "code" must say SUCCESS */
static void
unifi_call(const struct cfg *c, const char *url, const char *body, struct act_result *r)
{
	char          auth[1024];
	const char   *hdr[] = {auth, "Content-Type: application/json", NULL};
	struct hc_res h;
	int           rc;
	cJSON        *o;
	const char   *why, *code;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->unifi_access_token);
	rc = call("PUT", url, hdr, body, c->actions_timeout_ms, &h);
	sodium_memzero(auth, sizeof(auth));
	classify("UniFi Access", rc, &h, r);
	o = json_parse(h.body, h.len, &why);
	code = json_str(o, "code");
	if (r->outcome == ACT_OK && (code == NULL || strcmp(code, "SUCCESS") != 0)) {
		r->outcome = ACT_FAIL;
		snprintf(r->error, sizeof(r->error), "UniFi Access refused: %.60s",
		         code != NULL ? code : "no code in the answer");
	}
	if (r->outcome != ACT_OK)
		error_detail(r, o, "msg");
	cJSON_Delete(o);
	hc_res_free(&h);
}

/*
 * prov_unifi_unlock - unlock a door now; with minutes > 0, keep it
 * unlocked that long (a custom lock rule) instead of the door's own
 * momentary unlock.
 */
void
prov_unifi_unlock(const struct cfg *c, const char *door_id, int minutes, struct act_result *r)
{
	char url[512];

	memset(r, 0, sizeof(*r));
	if (*c->unifi_access_base_url == '\0' || *c->unifi_access_token == '\0') {
		off(r, "UniFi Access", "UNIFI_ACCESS_BASE_URL, UNIFI_ACCESS_TOKEN");
		return;
	}
	if (!safe_id(door_id)) {
		r->outcome = ACT_FAIL;
		snprintf(r->error, sizeof(r->error), "no UniFi Access door for this location");
		return;
	}
	if (minutes > 0) {
		cJSON *o = cJSON_CreateObject();
		char  *body;

		json_add_str(o, "type", "custom");
		cJSON_AddNumberToObject(o, "interval", minutes);
		body = json_print(o);
		cJSON_Delete(o);
		snprintf(url, sizeof(url), "%s/api/v1/developer/doors/%s/lock_rule",
		         c->unifi_access_base_url, door_id);
		unifi_call(c, url, body, r);
		free(body);
		return;
	}
	snprintf(url, sizeof(url), "%s/api/v1/developer/doors/%s/unlock", c->unifi_access_base_url,
	         door_id);
	unifi_call(c, url, NULL, r);
}
