/*
 * llm.c - the OpenAI-compatible chat completions client and the checks on
 * what a model says
 *
 * Called by the assistant workers (assistants/llm.c) from any of their
 * threads.  See llm.h for the API.
 *
 * The client builds the request with cJSON, POSTs it with hc_request
 * (common/http.c), and reads the reply down to the message content: a
 * refusal ("refusal" set, or finish_reason content_filter) and a cut-off answer
 * (finish_reason length) are not answers.  An attempt's timeout is the
 * least of the configured one and what the caller's deadline leaves; a
 * second attempt is made only after a failure that may pass (429, 5xx,
 * timeout, transport) and only when the wait and LLM_MIN_ATTEMPT_MS still
 * fit.  Failures in a row open a circuit for a while, during which nobody
 * asks; the next call after it closes is a trial.
 *
 * The checks work on bytes: ASCII decides what is a digit, a letter or a
 * space, and any other byte counts as part of a word, so UTF-8 text passes
 * through whole.
 */
#include "common/llm.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sodium.h>

#include "common/http.h"
#include "common/json.h"
#include "common/log.h"
#include "common/numwords.h"
#include "common/util.h"

#define LLM_DEF_TIMEOUT_MS 5000
#define LLM_DEF_FAILURES 5
#define LLM_DEF_OPEN_S 30
#define LLM_DEF_MAX_REPLY (256 * 1024)
#define LLM_FACTS_MAX 4096
#define LLM_TOKEN_MAX 96

struct llm {
	char  *url, *api_key, *model;
	int    timeout_ms, circuit_failures, circuit_open_s;
	size_t max_reply;
	bool (*cancelled)(void *arg);
	void *cancel_arg;

	pthread_mutex_t mu; /* guards the circuit */
	int             failures;
	int64_t         open_until_ms; /* monotonic; 0 = closed */
	bool            trial;         /* half open: the one call trying is out */
};

/* ================================================================ */
/* Small helpers                                                    */
/* ================================================================ */

/* mono_ms - monotonic milliseconds */
static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wall_ms - milliseconds since the epoch (deadlines are on this clock) */
static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* wipe_free - zero a NUL-terminated secret, then free it */
static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

/* ================================================================ */
/* The client                                                       */
/* ================================================================ */

/* llm_new - a client with copies of the strings */
llm *
llm_new(const struct llm_cfg *cfg)
{
	llm   *c;
	size_t n;

	if (cfg == NULL || cfg->base_url == NULL || cfg->api_key == NULL || cfg->model == NULL ||
	    *cfg->base_url == '\0' || *cfg->api_key == '\0' || *cfg->model == '\0')
		return NULL;
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : LLM_DEF_TIMEOUT_MS;
	c->circuit_failures = cfg->circuit_failures > 0 ? cfg->circuit_failures : LLM_DEF_FAILURES;
	c->circuit_open_s = cfg->circuit_open_s > 0 ? cfg->circuit_open_s : LLM_DEF_OPEN_S;
	c->max_reply = cfg->max_reply > 0 ? cfg->max_reply : LLM_DEF_MAX_REPLY;
	c->cancelled = cfg->cancelled;
	c->cancel_arg = cfg->cancel_arg;
	n = strlen(cfg->base_url);
	while (n > 0 && cfg->base_url[n - 1] == '/')
		n--;
	if ((c->url = malloc(n + sizeof(LLM_API_PATH))) == NULL)
		goto fail;
	memcpy(c->url, cfg->base_url, n);
	memcpy(c->url + n, LLM_API_PATH, sizeof(LLM_API_PATH));
	if ((c->api_key = strdup(cfg->api_key)) == NULL || (c->model = strdup(cfg->model)) == NULL)
		goto fail;
	pthread_mutex_init(&c->mu, NULL);
	return c;
fail:
	if (c != NULL) {
		free(c->model);
		wipe_free(c->api_key);
		free(c->url);
		free(c);
	}
	curl_global_cleanup();
	return NULL;
}

/* llm_free - free a client and wipe its key */
void
llm_free(llm *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c->model);
	wipe_free(c->api_key);
	free(c->url);
	free(c);
	curl_global_cleanup();
}

/* llm_circuit_state - closed, open, or half_open (the period is over: the
 * next call tries) */
const char *
llm_circuit_state(llm *c)
{
	const char *st;

	if (c == NULL)
		return "closed";
	pthread_mutex_lock(&c->mu);
	st = c->open_until_ms == 0 ? "closed" : c->open_until_ms > mono_ms() ? "open" : "half_open";
	pthread_mutex_unlock(&c->mu);
	return st;
}

/* circuit_allows - false while the circuit is open; once its period is
 * over, true for one call at a time (the trial) until one succeeds */
static bool
circuit_allows(llm *c)
{
	bool ok;

	pthread_mutex_lock(&c->mu);
	if (c->open_until_ms == 0) {
		ok = true;
	} else if (c->open_until_ms > mono_ms() || c->trial) {
		ok = false;
	} else {
		c->trial = true;
		ok = true;
	}
	pthread_mutex_unlock(&c->mu);
	return ok;
}

/* circuit_release - a call that asked nothing gives back its trial */
static void
circuit_release(llm *c)
{
	pthread_mutex_lock(&c->mu);
	c->trial = false;
	pthread_mutex_unlock(&c->mu);
}

/* circuit_note - count a call's end: a success closes, failures in a row open */
static void
circuit_note(llm *c, bool ok)
{
	pthread_mutex_lock(&c->mu);
	c->trial = false;
	if (ok) {
		c->failures = 0;
		c->open_until_ms = 0;
	} else if (++c->failures >= c->circuit_failures) {
		/* Open (again, after a failed trial) for the whole period. */
		c->open_until_ms = mono_ms() + (int64_t)c->circuit_open_s * 1000;
		c->failures = c->circuit_failures - 1;
		log_warn("llm: circuit open for %d s after %d failures in a row", c->circuit_open_s,
		         c->circuit_failures);
	}
	pthread_mutex_unlock(&c->mu);
}

/* request_body - the chat completions request; NULL on OOM */
static char *
request_body(const llm *c, const char *system, const char *user, int max_tokens)
{
	cJSON *o = cJSON_CreateObject(), *msgs, *m, *rf;
	char  *s;

	cJSON_AddStringToObject(o, "model", c->model);
	msgs = cJSON_AddArrayToObject(o, "messages");
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "role", "system");
	cJSON_AddStringToObject(m, "content", system);
	cJSON_AddItemToArray(msgs, m);
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "role", "user");
	cJSON_AddStringToObject(m, "content", user);
	cJSON_AddItemToArray(msgs, m);
	rf = cJSON_AddObjectToObject(o, "response_format");
	cJSON_AddStringToObject(rf, "type", "json_object");
	cJSON_AddNumberToObject(o, "max_tokens", max_tokens > 0 ? max_tokens : 400);
	cJSON_AddNumberToObject(o, "temperature", 0.2);
	cJSON_AddNumberToObject(o, "n", 1);
	s = json_print(o);
	cJSON_Delete(o);
	return s;
}

/* read_reply - the content of a 200 reply, or the outcome that it is not */
static enum llm_outcome
read_reply(const struct hc_res *h, struct llm_result *out)
{
	const char  *why;
	cJSON       *o = json_parse(h->body != NULL ? h->body : "", h->len, &why);
	const cJSON *ch, *msg, *u, *content, *refusal;
	const char  *finish;

	if (o == NULL || !cJSON_IsObject(o)) {
		snprintf(out->why, sizeof(out->why), "reply is not JSON");
		cJSON_Delete(o);
		return LLM_FAILED;
	}
	if (json_str(o, "model") != NULL)
		snprintf(out->model, sizeof(out->model), "%s", json_str(o, "model"));
	if (cJSON_IsObject(u = cJSON_GetObjectItemCaseSensitive(o, "usage"))) {
		out->prompt_tokens = json_int(u, "prompt_tokens", 0);
		out->completion_tokens = json_int(u, "completion_tokens", 0);
		if (out->prompt_tokens < 0)
			out->prompt_tokens = 0;
		if (out->completion_tokens < 0)
			out->completion_tokens = 0;
	}
	ch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "choices"), 0);
	msg = cJSON_GetObjectItemCaseSensitive(ch, "message");
	if (!cJSON_IsObject(msg)) {
		snprintf(out->why, sizeof(out->why), "reply has no choices[0].message");
		cJSON_Delete(o);
		return LLM_FAILED;
	}
	finish = json_str(ch, "finish_reason");
	refusal = cJSON_GetObjectItemCaseSensitive(msg, "refusal");
	if ((cJSON_IsString(refusal) && refusal->valuestring[0] != '\0') ||
	    (finish != NULL && strcmp(finish, "content_filter") == 0)) {
		snprintf(out->why, sizeof(out->why), "the model refused");
		cJSON_Delete(o);
		return LLM_REFUSED;
	}
	if (finish != NULL && strcmp(finish, "length") == 0) {
		snprintf(out->why, sizeof(out->why), "reply cut off (finish_reason length)");
		cJSON_Delete(o);
		return LLM_FAILED;
	}
	content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	if (!cJSON_IsString(content) || content->valuestring[0] == '\0') {
		snprintf(out->why, sizeof(out->why), "reply has no message content");
		cJSON_Delete(o);
		return LLM_FAILED;
	}
	out->content = strdup(content->valuestring);
	cJSON_Delete(o);
	if (out->content == NULL) {
		snprintf(out->why, sizeof(out->why), "out of memory");
		return LLM_FAILED;
	}
	return LLM_OK;
}

/* attempt - one POST of base within ms; true when a retry may help */
static bool
attempt(const llm *c, const struct hc_req *base, long ms, struct hc_res *resp,
        struct llm_result *out)
{
	struct hc_req req = *base;
	int           rc;

	hc_res_free(resp);
	req.timeout_ms = ms;
	req.connect_timeout_ms = ms;
	rc = hc_request(&req, resp);
	out->attempts++;
	out->outcome = LLM_FAILED;
	if (resp->cancelled) {
		snprintf(out->why, sizeof(out->why), "cancelled");
		return false;
	}
	if (resp->timed_out) {
		snprintf(out->why, sizeof(out->why), "timeout after %ld ms", ms);
		return true;
	}
	if (resp->too_big) {
		snprintf(out->why, sizeof(out->why), "reply exceeds %zu bytes", c->max_reply);
		return false;
	}
	if (rc < 0) {
		snprintf(out->why, sizeof(out->why), "transport error: %.100s", resp->error);
		return true;
	}
	out->http_status = (int)resp->status;
	if (resp->status == 200) {
		out->outcome = read_reply(resp, out);
		return false;
	}
	snprintf(out->why, sizeof(out->why), "HTTP %ld", resp->status);
	return resp->status == 429 || resp->status >= 500;
}

/* llm_chat - one completion within the deadline (see llm.h) */
void
llm_chat(llm *c, const char *system, const char *user, int max_tokens, uint64_t deadline_ms,
         struct llm_result *out)
{
	struct hc_res resp = {.retry_after = -1};
	char         *key = NULL;
	const char   *hdrs[] = {NULL, "Content-Type: application/json", "Accept: application/json",
	                        "Expect:", NULL};
	struct hc_req req = {.method = "POST",
	                     .url = c->url,
	                     .headers = hdrs,
	                     .max_body = c->max_reply,
	                     .user_agent = "clubos-assistant",
	                     .cancelled = c->cancelled,
	                     .cancel_arg = c->cancel_arg};
	char         *body = NULL;
	bool          retry;

	memset(out, 0, sizeof(*out));
	if (deadline_ms <= wall_ms() + LLM_MIN_ATTEMPT_MS) {
		out->outcome = LLM_NO_TIME;
		snprintf(out->why, sizeof(out->why), "no time left before the deadline");
		return;
	}
	if (!circuit_allows(c)) {
		out->outcome = LLM_CIRCUIT_OPEN;
		snprintf(out->why, sizeof(out->why), "circuit open");
		return;
	}
	if ((body = request_body(c, system, user, max_tokens)) == NULL ||
	    (key = hc_header("Authorization", "Bearer", c->api_key)) == NULL) {
		out->outcome = LLM_FAILED;
		snprintf(out->why, sizeof(out->why), "out of memory");
		goto done;
	}
	hdrs[0] = key;
	req.body = body;
	for (int n = 0; n < 2; n++) {
		long left = (long)(deadline_ms - wall_ms());

		if (n == 1) {
			/* The one retry: after the server's hint or a short pause,
			 * and only when an attempt still fits after it. */
			long wait = resp.retry_after >= 0 ? resp.retry_after * 1000 : 100;

			if (left - wait < LLM_MIN_ATTEMPT_MS) {
				log_info("llm: no retry: %s, %ld ms left, wait %ld ms", out->why,
				         left, wait);
				break;
			}
			{
				struct timespec ts = {wait / 1000, (wait % 1000) * 1000000L};

				nanosleep(&ts, NULL);
			}
			left = (long)(deadline_ms - wall_ms());
		}
		if (left < LLM_MIN_ATTEMPT_MS)
			break;
		retry = attempt(c, &req, left < c->timeout_ms ? left : c->timeout_ms, &resp, out);
		if (!retry)
			break;
	}
done:
	if (out->outcome == LLM_OK || out->outcome == LLM_REFUSED)
		circuit_note(c, true);
	else if (out->attempts > 0 && !resp.cancelled)
		circuit_note(c, false);
	else
		circuit_release(c);
	hc_header_free(key);
	free(body);
	hc_res_free(&resp);
}

/* llm_result_clear - free a result's content */
void
llm_result_clear(struct llm_result *r)
{
	if (r == NULL)
		return;
	free(r->content);
	r->content = NULL;
}

/* ================================================================ */
/* The model's answer                                               */
/* ================================================================ */

/* llm_answer_parse - the three fields, each with its type */
int
llm_answer_parse(const char *content, struct llm_answer *a, const char **why)
{
	const char  *jwhy;
	cJSON       *o;
	const cJSON *reply, *esc, *sop;

	memset(a, 0, sizeof(*a));
	if (content == NULL || (o = json_parse(content, strlen(content), &jwhy)) == NULL) {
		*why = "answer is not JSON";
		return -1;
	}
	reply = cJSON_GetObjectItemCaseSensitive(o, "reply");
	esc = cJSON_GetObjectItemCaseSensitive(o, "escalate");
	sop = cJSON_GetObjectItemCaseSensitive(o, "sop");
	if (!cJSON_IsObject(o) || !cJSON_IsString(reply) || !cJSON_IsBool(esc) ||
	    !cJSON_IsString(sop)) {
		*why = "answer lacks reply (string), escalate (bool) or sop (string)";
		cJSON_Delete(o);
		return -1;
	}
	if (!util_utf8_valid(reply->valuestring, strlen(reply->valuestring))) {
		*why = "reply is not valid UTF-8";
		cJSON_Delete(o);
		return -1;
	}
	a->reply = strdup(reply->valuestring);
	a->sop = strdup(sop->valuestring);
	a->escalate = cJSON_IsTrue(esc);
	cJSON_Delete(o);
	if (a->reply == NULL || a->sop == NULL) {
		llm_answer_clear(a);
		*why = "out of memory";
		return -1;
	}
	return 0;
}

/* llm_answer_clear - free an answer's strings */
void
llm_answer_clear(struct llm_answer *a)
{
	free(a->reply);
	free(a->sop);
	a->reply = a->sop = NULL;
}

/* ================================================================ */
/* Facts: what a text states                                        */
/* ================================================================ */

/* is_sp - ASCII white space */
static bool
is_sp(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* lower_copy - a lowercased, bounded copy of s[0..n) */
static void
lower_copy(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < cap; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[i] = '\0';
}

/* phone_span - length of a phone number at s (7 to 15 digits, with
 * spaces, dashes, dots and brackets between), or 0; digits copied to dig */
static size_t
phone_span(const char *s, char *dig, size_t digcap)
{
	size_t i = 0, nd = 0, last = 0;

	if (!(isdigit((unsigned char)s[0]) || s[0] == '+' || s[0] == '('))
		return 0;
	for (; s[i] != '\0' && strchr("0123456789+()-. ", s[i]) != NULL; i++) {
		if (isdigit((unsigned char)s[i])) {
			if (nd + 1 < digcap)
				dig[nd] = s[i];
			nd++;
			last = i + 1;
		} else if (s[i] == '+' && i > 0) {
			break;
		} else if (s[i] == ' ' && i > 0 && s[i - 1] == ' ') {
			break;
		}
	}
	if (nd < 7 || nd > 15 || nd + 1 > digcap)
		return 0;
	/* Followed by a letter or a digit run glued on: not a phone number. */
	if (isalpha((unsigned char)s[last]))
		return 0;
	dig[nd] = '\0';
	if (nd == 11 && dig[0] == '1')
		memmove(dig, dig + 1, nd);
	return last;
}

/* word_end - the end of the word at s (up to white space) */
static size_t
word_end(const char *s)
{
	size_t i = 0;

	while (s[i] != '\0' && !is_sp((unsigned char)s[i]))
		i++;
	return i;
}

/* trim_word - drop quotes and punctuation around a word: [*b, *e) */
static void
trim_word(const char *s, size_t *b, size_t *e)
{
	while (*b < *e && strchr("\"'`([{<*_", s[*b]) != NULL)
		(*b)++;
	while (*e > *b && strchr("\"'`)]}>.,;:!?*_", s[*e - 1]) != NULL)
		(*e)--;
}

/* ampm - "am"/"pm" when the word at s (after spaces) is one; its length in *len */
static const char *
ampm(const char *s, size_t *len)
{
	size_t i = 0;

	while (s[i] == ' ')
		i++;
	if ((s[i] == 'a' || s[i] == 'A' || s[i] == 'p' || s[i] == 'P')) {
		const char *r = (s[i] == 'a' || s[i] == 'A') ? "am" : "pm";
		size_t      j = i + 1;

		if (s[j] == '.')
			j++;
		if (s[j] != 'm' && s[j] != 'M')
			return NULL;
		j++;
		if (s[j] == '.')
			j++;
		if (isalnum((unsigned char)s[j]))
			return NULL;
		*len = j;
		return r;
	}
	return NULL;
}

/* norm_number - the normal form of a word with a digit: lowercase, no
 * currency sign, no thousands commas, no ordinal suffix, no ".00" */
static void
norm_number(char *t)
{
	char  *w = t;
	size_t n;

	for (char *r = t; *r != '\0'; r++) {
		unsigned char ch = (unsigned char)*r;

		if (ch == '$' || ch == '#')
			continue;
		if (ch == 0xe2 && (unsigned char)r[1] == 0x82 && (unsigned char)r[2] == 0xac) {
			r += 2; /* € */
			continue;
		}
		if (ch == 0xc2 && (unsigned char)r[1] == 0xa3) {
			r += 1; /* £ */
			continue;
		}
		if (ch == ',' && w > t && isdigit((unsigned char)w[-1]) &&
		    isdigit((unsigned char)r[1]))
			continue;
		*w++ = (char)tolower(ch);
	}
	*w = '\0';
	n = strlen(t);
	if (n > 2 && isdigit((unsigned char)t[n - 3]) &&
	    (strcmp(t + n - 2, "st") == 0 || strcmp(t + n - 2, "nd") == 0 ||
	     strcmp(t + n - 2, "rd") == 0 || strcmp(t + n - 2, "th") == 0))
		t[n -= 2] = '\0';
	if (n > 3 && strcmp(t + n - 3, ".00") == 0)
		t[n -= 3] = '\0';
	if (n > 5 && (strcmp(t + n - 2, "am") == 0 || strcmp(t + n - 2, "pm") == 0) &&
	    strncmp(t + n - 5, ":00", 3) == 0)
		memmove(t + n - 5, t + n - 2, 3); /* 9:00am -> 9am */
}

/* is_domain - a word like book.example.test: labels of [a-z0-9-], the last alphabetic */
static bool
is_domain(const char *t)
{
	const char *dot = strrchr(t, '.');
	size_t      labels = 1, k;

	if (dot == NULL || dot == t)
		return false;
	for (k = 1; dot[k] != '\0'; k++)
		if (!isalpha((unsigned char)dot[k]))
			return false;
	if (k - 1 < 2)
		return false;
	for (const char *p = t; *p != '\0'; p++) {
		if (*p == '.') {
			if (p[1] == '.' || p == t)
				return false;
			labels++;
		} else if (!isalnum((unsigned char)*p) && *p != '-') {
			return false;
		}
	}
	return labels >= 2;
}

typedef int (*fact_fn)(void *arg, const char *tok, bool lenient);

/*
 * scan_facts - call fn for each fact of text, normalised; the lenient flag
 * marks a second form a source also offers (a time without am/pm).
 * Stops and returns what fn returned when it is not 0.
 */
static int
scan_facts(const char *s, fact_fn fn, void *arg)
{
	char   tok[LLM_TOKEN_MAX + 4], dig[24];
	size_t i = 0, n, b, e, al_words = 0;
	int    rc;

	while (s[i] != '\0') {
		if (is_sp((unsigned char)s[i])) {
			i++;
			continue;
		}
		/* A phone number may span several words. */
		if ((i == 0 || !isalnum((unsigned char)s[i - 1])) &&
		    (n = phone_span(s + i, dig, sizeof(dig))) > 0) {
			snprintf(tok, sizeof(tok), "p:%s", dig);
			if ((rc = fn(arg, tok, false)) != 0)
				return rc;
			i += n;
			continue;
		}
		n = word_end(s + i);
		b = 0;
		e = n;
		trim_word(s + i, &b, &e);
		if (e > b && e - b <= LLM_TOKEN_MAX) {
			const char *w = s + i + b;
			size_t      wl = e - b;
			bool        digit = false, at = false;

			for (size_t k = 0; k < wl; k++) {
				digit = digit || isdigit((unsigned char)w[k]);
				at = at || w[k] == '@';
			}
			if (wl > 4 &&
			    (strncasecmp(w, "http", 4) == 0 || strncasecmp(w, "www.", 4) == 0)) {
				char   low[LLM_TOKEN_MAX + 1];
				char  *p = low;
				size_t pl;

				lower_copy(low, sizeof(low), w, wl);
				if (strncmp(p, "https://", 8) == 0)
					p += 8;
				else if (strncmp(p, "http://", 7) == 0)
					p += 7;
				if (strncmp(p, "www.", 4) == 0)
					p += 4;
				pl = strlen(p);
				while (pl > 0 && p[pl - 1] == '/')
					p[--pl] = '\0';
				if (pl > 0) {
					snprintf(tok, sizeof(tok), "u:%s", p);
					if ((rc = fn(arg, tok, false)) != 0)
						return rc;
				}
			} else if (at) {
				tok[0] = 'e';
				tok[1] = ':';
				lower_copy(tok + 2, sizeof(tok) - 2, w, wl);
				if ((rc = fn(arg, tok, false)) != 0)
					return rc;
			} else if (digit) {
				size_t      al = 0;
				const char *ap = NULL;

				tok[0] = 'n';
				tok[1] = ':';
				memcpy(tok + 2, w, wl);
				tok[2 + wl] = '\0';
				norm_number(tok + 2);
				/* "9 am": the next word belongs to the time */
				if (e == n && isdigit((unsigned char)w[wl - 1]) &&
				    (ap = ampm(s + i + n, &al)) != NULL) {
					if ((rc = fn(arg, tok, true)) != 0)
						return rc;
					strncat(tok, ap, sizeof(tok) - strlen(tok) - 1);
					norm_number(tok + 2);
					n += al;
				} else if (strlen(tok) > 4 &&
				           (strcmp(tok + strlen(tok) - 2, "am") == 0 ||
				            strcmp(tok + strlen(tok) - 2, "pm") == 0) &&
				           isdigit((unsigned char)tok[strlen(tok) - 3])) {
					char bare[sizeof(tok)];

					memcpy(bare, tok, sizeof(bare));
					bare[strlen(bare) - 2] = '\0';
					if ((rc = fn(arg, bare, true)) != 0)
						return rc;
				}
				if ((rc = fn(arg, tok, false)) != 0)
					return rc;
			} else {
				char      low[LLM_TOKEN_MAX + 1];
				long long v;
				bool      unit;
				size_t    nl = numwords_digits(w, dig, sizeof(dig));

				/* A code read out digit by digit ("four eight two one"). */
				if (nl > 0) {
					snprintf(tok, sizeof(tok), "n:%s", dig);
					if ((rc = fn(arg, tok, false)) != 0)
						return rc;
					i += b + nl;
					continue;
				}
				nl = numwords_span(w, &v, &unit);

				/* A number in words ("forty dollars", "vingt-cinq
				 * minutes"): a fact from ten up, or with a unit from two. */
				if (nl > 0 && (v >= 10 || (v >= 2 && unit))) {
					const char *ap = ampm(w + nl, &al_words);

					snprintf(tok, sizeof(tok), "n:%lld", v);
					if (ap != NULL) {
						if ((rc = fn(arg, tok, true)) != 0)
							return rc;
						strncat(tok, ap, sizeof(tok) - strlen(tok) - 1);
						nl += al_words;
					}
					if ((rc = fn(arg, tok, false)) != 0)
						return rc;
					i += b + nl;
					continue;
				}
				lower_copy(low, sizeof(low), w, wl);
				if (is_domain(low)) {
					snprintf(tok, sizeof(tok), "u:%s", low);
					if ((rc = fn(arg, tok, false)) != 0)
						return rc;
				}
			}
		}
		i += n;
	}
	return 0;
}

/* facts_put - add one token (both forms) to a set */
static int
facts_put(void *arg, const char *tok, bool lenient)
{
	struct llm_facts *f = arg;
	char            **v;

	(void)lenient;
	if (llm_facts_has(f, tok))
		return 0;
	if (f->n >= LLM_FACTS_MAX)
		return -1;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;

		if ((v = realloc(f->v, cap * sizeof(*v))) == NULL)
			return -1;
		f->v = v;
		f->cap = cap;
	}
	if ((f->v[f->n] = strdup(tok)) == NULL)
		return -1;
	f->n++;
	return 0;
}

/* llm_facts_add - every fact of text into the set */
int
llm_facts_add(struct llm_facts *f, const char *text)
{
	return text != NULL ? scan_facts(text, facts_put, f) : 0;
}

/* llm_facts_has - is tok in the set? */
bool
llm_facts_has(const struct llm_facts *f, const char *tok)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i], tok) == 0)
			return true;
	/* A URL may be given with a path the reply leaves off, or the reverse
	 * is not allowed: the reply's must be the given one or a prefix of it
	 * up to a '/'. */
	if (strncmp(tok, "u:", 2) == 0) {
		size_t n = strlen(tok);

		for (size_t i = 0; i < f->n; i++)
			if (strncmp(f->v[i], tok, n) == 0 && f->v[i][n] == '/')
				return true;
	}
	return false;
}

/* llm_facts_free - free the set */
void
llm_facts_free(struct llm_facts *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

struct check_ctx {
	const struct llm_facts *given;
	char                   *bad;
	size_t                  badcap;
};

/* check_one - 1 (stop) when a reply's fact is not given */
static int
check_one(void *arg, const char *tok, bool lenient)
{
	struct check_ctx *x = arg;

	if (lenient || llm_facts_has(x->given, tok))
		return 0;
	snprintf(x->bad, x->badcap, "%s", tok);
	return 1;
}

/* llm_check_facts - every fact of the reply was given */
int
llm_check_facts(const struct llm_facts *given, const char *reply, char *bad, size_t badcap)
{
	struct check_ctx x = {given, bad, badcap};

	if (badcap > 0)
		bad[0] = '\0';
	return scan_facts(reply, check_one, &x) != 0 ? -1 : 0;
}

/* ================================================================ */
/* Promises, tags, quotes                                           */
/* ================================================================ */

enum need { NEED_DONE, NEED_RECORDED, NEED_NEVER };

/* What a phrase claims, and which actions would make it true (prefixes of
 * action types; an empty list: nothing here can). */
static const struct promise {
	const char *phrase;
	enum need   need;
	const char *types[4];
} promises[] = {
    {"restarted", NEED_DONE, {"restart_trackman", "projector_reset"}},
    {"rebooted", NEED_DONE, {"reboot_pc"}},
    {"have reset", NEED_DONE, {"projector_reset", "restart_trackman"}},
    {"'ve reset", NEED_DONE, {"projector_reset", "restart_trackman"}},
    {"been reset", NEED_DONE, {"projector_reset", "restart_trackman"}},
    {"unlocked", NEED_DONE, {"unlock_door"}},
    {"door is open", NEED_DONE, {"unlock_door"}},
    {"opened the door", NEED_DONE, {"unlock_door"}},
    {"i'll restart", NEED_RECORDED, {"restart_trackman"}},
    {"i will restart", NEED_RECORDED, {"restart_trackman"}},
    {"restarting", NEED_RECORDED, {"restart_trackman"}},
    {"i'll reboot", NEED_RECORDED, {"reboot_pc"}},
    {"rebooting", NEED_RECORDED, {"reboot_pc"}},
    {"i'll unlock", NEED_RECORDED, {"unlock_door"}},
    {"i will unlock", NEED_RECORDED, {"unlock_door"}},
    {"unlocking", NEED_RECORDED, {"unlock_door"}},
    {"on the way", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"on their way", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"on his way", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"on her way", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"someone is coming", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"sent someone", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"dispatched", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"en route", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"i've notified", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"i have notified", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"i've alerted", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"i have alerted", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"i've contacted", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"i've passed", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"i have passed", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"i've flagged", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"i've escalated", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"i've let the team know", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"notified the team", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"alerted the team", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"paged", NEED_RECORDED, {"alert_oncall"}},
    {"opened a ticket", NEED_RECORDED, {"ticket"}},
    {"created a ticket", NEED_RECORDED, {"ticket"}},
    {"logged a ticket", NEED_RECORDED, {"ticket"}},
    /* French (the venues are in Canada): the same claims, in the words a
     * reply "in the customer's language" would use.  Lowercase UTF-8. */
    {"red\xc3\xa9marr\xc3\xa9", NEED_DONE, {"restart_trackman", "reboot_pc"}},
    {"r\xc3\xa9initialis\xc3\xa9", NEED_DONE, {"projector_reset", "restart_trackman"}},
    {"d\xc3\xa9verrouill\xc3\xa9", NEED_DONE, {"unlock_door"}},
    {"porte est ouverte", NEED_DONE, {"unlock_door"}},
    {"ouvert la porte", NEED_DONE, {"unlock_door"}},
    {"je red\xc3\xa9marre", NEED_RECORDED, {"restart_trackman", "reboot_pc"}},
    {"vais red\xc3\xa9marrer", NEED_RECORDED, {"restart_trackman", "reboot_pc"}},
    {"je d\xc3\xa9verrouille", NEED_RECORDED, {"unlock_door"}},
    {"vais d\xc3\xa9verrouiller", NEED_RECORDED, {"unlock_door"}},
    {"en chemin", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"quelqu'un arrive", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"quelqu'un s'en vient", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"j'ai pr\xc3\xa9venu", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"j'ai averti", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"j'ai alert\xc3\xa9", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"j'ai contact\xc3\xa9", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"j'ai inform\xc3\xa9", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"ouvert un ticket", NEED_RECORDED, {"ticket"}},
    {"cr\xc3\xa9\xc3\xa9 un ticket", NEED_RECORDED, {"ticket"}},
    {"rembours\xc3\xa9", NEED_NEVER, {NULL}},
    {"annul\xc3\xa9 votre r\xc3\xa9servation", NEED_NEVER, {NULL}},
    {"j'ai r\xc3\xa9serv\xc3\xa9", NEED_NEVER, {NULL}},
    {"j'ai prolong\xc3\xa9", NEED_NEVER, {NULL}},
    {"j'ai cr\xc3\xa9"
     "dit\xc3\xa9",
     NEED_NEVER,
     {NULL}},
    /* Spanish: the same claims again. */
    {"reinici\303\251", NEED_DONE, {"restart_trackman", "reboot_pc", "projector_reset"}},
    {"reiniciado", NEED_DONE, {"restart_trackman", "reboot_pc", "projector_reset"}},
    {"reiniciada", NEED_DONE, {"restart_trackman", "reboot_pc", "projector_reset"}},
    {"desbloque\303\251", NEED_DONE, {"unlock_door"}},
    {"desbloqueado", NEED_DONE, {"unlock_door"}},
    {"desbloqueada", NEED_DONE, {"unlock_door"}},
    {"puerta est\303\241 abierta", NEED_DONE, {"unlock_door"}},
    {"abr\303\255 la puerta", NEED_DONE, {"unlock_door"}},
    {"voy a reiniciar", NEED_RECORDED, {"restart_trackman", "reboot_pc"}},
    {"reiniciando", NEED_RECORDED, {"restart_trackman", "reboot_pc"}},
    {"voy a desbloquear", NEED_RECORDED, {"unlock_door"}},
    {"desbloqueando", NEED_RECORDED, {"unlock_door"}},
    {"en camino", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"alguien va", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"alguien viene", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"envi\303\251 a alguien", NEED_RECORDED, {"alert_oncall", "handoff"}},
    {"he avisado", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"avis\303\251", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"he notificado", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"notifiqu\303\251", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"he alertado", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"alert\303\251", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"he contactado", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"contact\303\251", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"he informado", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"inform\303\251", NEED_RECORDED, {"alert_oncall", "handoff", "notify_team"}},
    {"abr\303\255 un ticket", NEED_RECORDED, {"ticket"}},
    {"cre\303\251 un ticket", NEED_RECORDED, {"ticket"}},
    {"he creado un ticket", NEED_RECORDED, {"ticket"}},
    {"he abierto un ticket", NEED_RECORDED, {"ticket"}},
    {"reembolsado", NEED_NEVER, {NULL}},
    {"reembolsada", NEED_NEVER, {NULL}},
    {"reembols\303\251", NEED_NEVER, {NULL}},
    {"he reservado", NEED_NEVER, {NULL}},
    {"reserv\303\251", NEED_NEVER, {NULL}},
    {"cancel\303\251 su reserva", NEED_NEVER, {NULL}},
    {"he cancelado", NEED_NEVER, {NULL}},
    {"he extendido", NEED_NEVER, {NULL}},
    {"he acreditado", NEED_NEVER, {NULL}},
    {"he a\303\261adido", NEED_NEVER, {NULL}},
    {"refunded", NEED_NEVER, {NULL}},
    {"refund has been", NEED_NEVER, {NULL}},
    {"refund is on", NEED_NEVER, {NULL}},
    {"cancelled your booking", NEED_NEVER, {NULL}},
    {"canceled your booking", NEED_NEVER, {NULL}},
    {"i've booked", NEED_NEVER, {NULL}},
    {"booked you", NEED_NEVER, {NULL}},
    {"i've extended", NEED_NEVER, {NULL}},
    {"i've changed your booking", NEED_NEVER, {NULL}},
    {"i've added", NEED_NEVER, {NULL}},
    {"i've credited", NEED_NEVER, {NULL}},
};

/* action_meets - an action of one of the types, with the status needed */
static bool
action_meets(const struct promise *p, const struct llm_action *acts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < 4 && p->types[k] != NULL; k++) {
			if (strncmp(acts[i].type, p->types[k], strlen(p->types[k])) != 0)
				continue;
			if (p->need == NEED_DONE && strcmp(acts[i].status, "done") == 0)
				return true;
			if (p->need == NEED_RECORDED && strcmp(acts[i].status, "failed") != 0)
				return true;
		}
	return false;
}

/* fold - a lowercase copy with typographic apostrophes as ' (malloc'd) */
static char *
fold(const char *s)
{
	size_t n = strlen(s);
	char  *o = malloc(n + 1), *w = o;

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] == 0xe2 && (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0x99 || (unsigned char)s[i + 2] == 0x98)) {
			*w++ = '\'';
			i += 2;
			continue;
		}
		*w++ = (char)tolower((unsigned char)s[i]);
	}
	*w = '\0';
	return o;
}

/* llm_check_promises - the first claim no recorded action backs, or NULL */
const char *
llm_check_promises(const char *reply, const struct llm_action *acts, size_t n)
{
	char       *low = fold(reply);
	const char *bad = NULL;

	if (low == NULL)
		return "out of memory";
	for (size_t i = 0; i < sizeof(promises) / sizeof(promises[0]) && bad == NULL; i++) {
		const char *at = strstr(low, promises[i].phrase);
		size_t      pl = strlen(promises[i].phrase);

		/* Whole words: "unlocked" is not in "unlockedness", "paged" not in "webpaged". */
		while (at != NULL && ((at > low && isalpha((unsigned char)at[-1])) ||
		                      isalpha((unsigned char)at[pl])))
			at = strstr(at + 1, promises[i].phrase);
		if (at == NULL)
			continue;
		if (promises[i].need == NEED_NEVER || !action_meets(&promises[i], acts, n))
			bad = promises[i].phrase;
	}
	free(low);
	return bad;
}

/*
 * The languages a reply may be sent in: those the promise check reads.  A
 * reply's language is told by its function words, counted for these and
 * for a few languages it does not read (a German "in" or "so" must not make
 * a German reply English).
 */
static const struct reply_lang {
	const char *name; /* NULL: a language the check does not read */
	const char *words;
} reply_langs[] = {
    {"en", "the|a|an|is|are|was|were|be|been|am|my|your|our|his|her|their|in|and|or|it|its|"
           "he|she|we|you|they|there|of|to|on|at|this|that|these|those|with|for|i|not|can|"
           "will|please|if|by|from|as|do|does|have|has|any|no|yes|so|but|just|per|each|here|"
           "what|when|how|who|which|all|one|us|me|them|m|s|re|ll|ve|t|d"},
    {"fr", "le|la|les|un|une|des|du|de|d|l|est|sont|il|elle|ils|elles|nous|vous|je|j|mon|ma|"
           "mes|ton|ta|votre|vos|notre|nos|son|sa|ses|dans|avec|pour|sur|pas|ne|n|ca|c|qu|que|"
           "qui|au|aux|et|ou|y|on|se|s|tout|tous|plus|tres|tr\303\250s|moi|par|en|cette|ce|"
           "ces|si|oui|non|m|t|\303\240|\303\247a|est-ce"},
    {"es", "el|la|los|las|un|una|unos|unas|de|del|al|y|o|en|es|son|est\303\241|est\303\241n|"
           "esta|este|estos|por|para|con|sin|que|qu\303\251|se|su|sus|mi|mis|tu|tus|nuestro|"
           "nuestra|usted|ustedes|yo|nosotros|no|s\303\255|si|lo|le|les|me|te|nos|muy|"
           "m\303\241s|pero|como|cuando|donde|hay|cada|puede|hora|gracias"},
    {NULL, "der|die|das|und|ist|sind|nicht|ich|sie|wir|ihr|ein|eine|einen|dem|den|des|mit|"
           "f\303\274r|auf|zu|von|bitte|es|im|auch|oder|wenn|kann|k\303\266nnen|noch|ihre|"
           "hier|pro|stunde|danke"},
    {NULL, "il|lo|gli|della|delle|del|di|che|\303\250|sono|non|per|con|una|uno|ci|mi|ti|si|"
           "questo|questa|grazie|anche|ma|come|nel|nella|alla|al|ora"},
    {NULL, "o|os|as|um|uma|do|da|dos|das|\303\251|s\303\243o|n\303\243o|para|com|em|no|na|"
           "nos|nas|que|por|voc\303\252|seu|sua|eu|n\303\263s|obrigado|obrigada|mas|"
           "tamb\303\251m|hora"},
    {NULL, "de|het|een|en|is|zijn|niet|ik|je|jij|u|wij|we|van|voor|met|op|te|dat|die|dit|"
           "maar|ook|bij|naar|uur|bedankt"},
};
#define REPLY_LANGS (sizeof(reply_langs) / sizeof(reply_langs[0]))

/* bars_has - w[0..n) is one of the words of list, "a|b|c" */
static bool
bars_has(const char *list, const char *w, size_t n)
{
	for (const char *p = list; *p != '\0'; p += strcspn(p, "|"), p += *p == '|')
		if (strncmp(p, w, n) == 0 && (p[n] == '|' || p[n] == '\0'))
			return true;
	return false;
}

/* llm_reply_language - see llm.h */
const char *
llm_reply_language(const char *reply)
{
	char  *low = fold(reply);
	size_t hits[REPLY_LANGS] = {0}, words = 0, best = 0;

	if (low == NULL)
		return NULL;
	for (const char *p = low; *p != '\0';) {
		size_t n = 0;

		/* A word: letters (any non-ASCII byte is taken for one), cut at
		 * apostrophes, so "l'écran" is "l" and "écran". */
		while (p[n] != '\0' &&
		       (isalpha((unsigned char)p[n]) || (unsigned char)p[n] >= 0x80))
			n++;
		if (n == 0) {
			p++;
			continue;
		}
		words++;
		for (size_t i = 0; i < REPLY_LANGS; i++)
			hits[i] += bars_has(reply_langs[i].words, p, n);
		p += n;
	}
	free(low);
	for (size_t i = 1; i < REPLY_LANGS; i++)
		if (hits[i] > hits[best] || (hits[i] == hits[best] && reply_langs[i].name == NULL))
			best = i;
	/* Read only when a language the check reads leads every other, and
	 * its function words are as many as a sentence has (one word in six,
	 * two at least past three words). */
	if (reply_langs[best].name == NULL || hits[best] == 0 ||
	    (words > 3 && (hits[best] < 2 || hits[best] * 6 < words)))
		return NULL;
	for (size_t i = 0; i < REPLY_LANGS; i++)
		if (i != best && hits[i] == hits[best])
			return NULL;
	return reply_langs[best].name;
}

/* llm_has_escalation_tag - an escalation marker written into the prose */
bool
llm_has_escalation_tag(const char *reply)
{
	static const char *const tags[] = {
	    "[escalat",    "<escalat",     "{escalat", "escalate:", "#escalat",
	    "escalation:", "\"escalate\"", "[handoff", "[human",    NULL};
	char *low = fold(reply);
	bool  hit = false;

	if (low == NULL)
		return true;
	for (const char *const *t = tags; *t != NULL && !hit; t++)
		hit = strstr(low, *t) != NULL;
	free(low);
	return hit;
}

/* words - text as lowercase words of letters and digits, one space apart,
 * with a space before and after (malloc'd) */
static char *
words(const char *s)
{
	size_t n = strlen(s);
	char  *o = malloc(n + 3), *w = o;
	bool   sp = true;

	if (o == NULL)
		return NULL;
	*w++ = ' ';
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (isalnum(ch) || ch >= 0x80) {
			*w++ = (char)tolower(ch);
			sp = false;
		} else if (!sp) {
			*w++ = ' ';
			sp = true;
		}
	}
	if (!sp)
		*w++ = ' ';
	*w = '\0';
	return o;
}

/* llm_quotes - LLM_LEAK_WORDS words in a row of text appear in the reply */
bool
llm_quotes(const char *reply, const char *text)
{
	char *r = words(reply), *t = words(text);
	bool  hit = false;

	if (r == NULL || t == NULL) {
		free(r);
		free(t);
		return true;
	}
	/* Each window starts at a space of r: " w1 w2 ... wN " */
	for (char *p = r; *p != '\0' && p[1] != '\0' && !hit; p = strchr(p + 1, ' ')) {
		char *q = p;
		int   k = 0;
		char  save;

		while (k < LLM_LEAK_WORDS && (q = strchr(q + 1, ' ')) != NULL)
			k++;
		if (k < LLM_LEAK_WORDS || q == NULL)
			break;
		save = q[1];
		q[1] = '\0';
		hit = strstr(t, p) != NULL;
		q[1] = save;
	}
	free(r);
	free(t);
	return hit;
}

/* ================================================================ */
/* Redaction                                                        */
/* ================================================================ */

/* A growable output, for redaction. */
struct obuf {
	char  *p;
	size_t len, cap;
	bool   oom;
};

/* ob_add - append n bytes */
static void
ob_add(struct obuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char  *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Words that are also common first or last names: redacted only when
 * capitalised and not the first word of the text. */
static const char *const common_words[] = {
    "will",  "may",   "june",  "april", "mark",  "bill",   "grant", "rose", "hope", "joy",  "art",
    "ray",   "dawn",  "rich",  "young", "long",  "little", "hill",  "wood", "park", "king", "hall",
    "green", "brown", "white", "black", "stone", "bay",    "golf",  "club", NULL};

/* is_common - a common word (see above) */
static bool
is_common(const char *w, size_t n)
{
	for (const char *const *c = common_words; *c != NULL; c++)
		if (strlen(*c) == n && strncasecmp(*c, w, n) == 0)
			return true;
	return false;
}

/* name_part - the word w[0..n) is a part (3+ letters) of a known name */
static bool
name_part(const char *w, size_t n, const char *const *names, size_t nnames)
{
	for (size_t i = 0; i < nnames; i++) {
		const char *p = names[i];

		while (p != NULL && *p != '\0') {
			size_t l = strcspn(p, " -'");

			if (l >= 3 && l == n && strncasecmp(p, w, n) == 0)
				return true;
			p += l;
			p += strspn(p, " -'");
		}
	}
	return false;
}

/* name_word - a word of a message that names someone known: a part of a
 * known name, as it is, as a possessive ("Sarah's", "Sarah’s") or as one
 * part of a hyphenated word ("Sarah-Jane") */
static bool
name_word(const char *w, size_t n, const char *const *names, size_t nnames)
{
	size_t s = 0;

	if (n > 2 && w[n - 2] == '\'' && (w[n - 1] == 's' || w[n - 1] == 'S'))
		n -= 2;
	else if (n > 4 && memcmp(w + n - 4, "\xe2\x80\x99", 3) == 0 &&
	         (w[n - 1] == 's' || w[n - 1] == 'S'))
		n -= 4;
	for (size_t i = 0; i <= n; i++)
		if (i == n || w[i] == '-') {
			if (name_part(w + s, i - s, names, nnames))
				return true;
			s = i + 1;
		}
	return false;
}

/*
 * Names nobody recorded.  A customer who gives a name nobody has on file
 * ("I'm Priya", "booked under Tremblay", "thanks, Dana") gives it in a few
 * set ways: after an introduction, after a booking's "under", or signing
 * off.  Those words are found before the text is copied (intro_names) and
 * redacted like a known name.  A strong cue ("my name is") takes the next
 * one or two words as written; a weak one ("I'm", "this is") and a sign-off
 * take only capitalised words, minus the words people capitalise there
 * that are not names ("I'm In Bay 3").  Erring towards redaction costs the
 * model a word; erring the other way sends a name out.
 */
struct mword {
	size_t at, len; /* the word's core in the text */
	char   low[24]; /* lowercased, apostrophes as ', cut */
	bool   stop;    /* punctuation after it ends a name: , . ; : ! ? ) */
	bool   colon;   /* that punctuation is a colon ("Name: ...") */
	bool   dash;    /* the word is a dash, or its raw form starts with one */
	bool   alpha;   /* letters, hyphens and apostrophes only */
	bool   upper;   /* starts with a capital (ASCII or Latin-1) */
};

static const char *const name_cues_strong[] = {
    "my name is",   "my name's",     "name is",           "call me",        "je m'appelle",
    "mon nom est",  "me llamo",      "mi nombre es",      "under the name", "au nom de",
    "booked under", "booking under", "reservation under", "reserved under", NULL};
static const char *const name_cues_weak[] = {"i'm",     "im",        "i am", "this is",
                                             "je suis", "moi c'est", "soy",  NULL};
static const char *const name_signoffs[] = {"thanks",  "thank you",    "thx",       "ty",
                                            "cheers",  "regards",      "best",      "merci",
                                            "gracias", "cordialement", "sincerely", NULL};
/* Not names, though written after a cue or capitalised. */
static const char not_names[] =
    "a|an|the|and|but|or|from|at|in|on|with|for|of|to|my|your|our|i|here|there|not|"
    "so|very|just|still|also|really|locked|stuck|outside|inside|done|sorry|late|back|"
    "having|trying|calling|texting|writing|good|fine|new|ok|okay|member|customer|"
    "manager|owner|team|staff|bay|trackman|golf|club|door|front|again|all|everyone|"
    "guys|pc|tv|it|is|was|going|coming|leaving|waiting|booked|booking|le|la|les|un|"
    "une|de|du|des|pas|en|au|dans|devant|et|y|el|los|membre|client|cliente|"
    "bloqu\303\251|bloqu\303\251e|d\303\251sol\303\251|d\303\251sol\303\251e|nouveau|"
    "nouvelle|today|tonight|tomorrow|now|please|hi|hello|hey|bonjour|salut|hola";

/* is_dash - s starts with a hyphen, an en dash or an em dash */
static bool
is_dash(const char *s)
{
	return s[0] == '-' || ((unsigned char)s[0] == 0xe2 && (unsigned char)s[1] == 0x80 &&
	                       ((unsigned char)s[2] == 0x93 || (unsigned char)s[2] == 0x94));
}

/* letters - s[0..n) is letters, hyphens and apostrophes only (any
 * non-ASCII byte taken for part of a letter) */
static bool
letters(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!(isalpha(ch) || ch == '-' || ch == '\'' || ch >= 0x80))
			return false;
	}
	return true;
}

/* mword_read - the words of text, at most cap; their number */
static size_t
mword_read(const char *text, struct mword *ws, size_t cap)
{
	size_t i = 0, n = 0;

	while (text[i] != '\0' && n < cap) {
		size_t len, b = 0, e;

		if (is_sp((unsigned char)text[i])) {
			i++;
			continue;
		}
		e = len = word_end(text + i);
		trim_word(text + i, &b, &e);
		if (e > b) {
			struct mword *m = &ws[n++];
			const char   *c = text + i + b;
			size_t        k, o = 0;

			m->at = i + b;
			m->len = e - b;
			m->stop = e < len && strchr(",.;:!?)", text[i + e]) != NULL;
			m->colon = e < len && text[i + e] == ':';
			m->dash = is_dash(c);
			m->upper = isupper((unsigned char)c[0]) ||
			           ((unsigned char)c[0] == 0xc3 && (unsigned char)c[1] >= 0x80 &&
			            (unsigned char)c[1] <= 0x9e && (unsigned char)c[1] != 0x97);
			m->alpha = letters(c, m->len);
			for (k = 0; k < m->len; k++) {
				unsigned char ch = (unsigned char)c[k];

				if (ch == 0xe2 && k + 2 < m->len &&
				    (unsigned char)c[k + 1] == 0x80 &&
				    ((unsigned char)c[k + 2] == 0x99 ||
				     (unsigned char)c[k + 2] == 0x98)) {
					if (o + 1 < sizeof(m->low))
						m->low[o++] = '\'';
					k += 2;
					continue;
				}
				if (o + 1 < sizeof(m->low))
					m->low[o++] = (char)tolower(ch);
			}
			m->low[o] = '\0';
			m->alpha = m->alpha && !m->dash; /* a bare dash ("- Kim") is a word too */
		}
		i += len;
	}
	return n;
}

/* cue_at - the number of words of the first cue of list that ends at
 * ws[k] (inclusive), 0 if none does */
static size_t
cue_at(const struct mword *ws, size_t k, const char *const *list)
{
	for (; *list != NULL; list++) {
		char   cue[64];
		size_t nw = 1, j;
		char  *w, *save = NULL;
		bool   ok = true;

		snprintf(cue, sizeof(cue), "%s", *list);
		for (const char *p = cue; *p != '\0'; p++)
			nw += *p == ' ';
		if (nw > k + 1)
			continue;
		j = k + 1 - nw;
		for (w = strtok_r(cue, " ", &save); w != NULL && ok;
		     w = strtok_r(NULL, " ", &save), j++)
			ok = strcmp(ws[j].low, w) == 0 && (j == k || !ws[j].stop);
		if (ok)
			return nw;
	}
	return 0;
}

/* is_name - ws[k] may be a name: a word of letters, not a known non-name;
 * capitalised unless any_case */
static bool
is_name(const struct mword *w, bool any_case)
{
	return w->alpha && w->len >= 2 && (any_case || w->upper) &&
	       !bars_has(not_names, w->low, strlen(w->low));
}

/* intro_names - mark the words of ws that are names given in passing */
static void
intro_names(struct mword *ws, size_t n, bool *mark)
{
	for (size_t k = 0; k < n; k++) {
		bool strong = cue_at(ws, k, name_cues_strong) > 0;
		bool weak = !strong && cue_at(ws, k, name_cues_weak) > 0;

		/* "Name: Jordan Pike" */
		strong = strong || (strcmp(ws[k].low, "name") == 0 && ws[k].colon);
		if ((!strong && !weak) || (ws[k].stop && !ws[k].colon))
			continue;
		for (size_t j = k + 1; j < n && j <= k + 2 && is_name(&ws[j], strong); j++) {
			mark[j] = true;
			if (ws[j].stop)
				break;
		}
	}
	/* A sign-off: the last one or two words, after "thanks," or a dash,
	 * or a last word written "-Kim". */
	if (n > 0 && ws[n - 1].dash && ws[n - 1].len > 1) {
		struct mword w = ws[n - 1];
		size_t       d = w.low[0] == '-' ? 1 : 3;

		memmove(w.low, w.low + d, sizeof(w.low) - d);
		w.alpha = letters(w.low, strlen(w.low));
		w.upper = true; /* the dash is the cue; "-kim" is signed too */
		if (strlen(w.low) >= 2 && is_name(&w, false))
			mark[n - 1] = true;
	}
	for (size_t last = 1; last <= 2 && last < n; last++) {
		size_t first = n - last;
		bool   names = true;

		for (size_t j = first; j < n; j++)
			names = names && is_name(&ws[j], false) && (j == n - 1 || !ws[j].stop);
		if (names && (ws[first - 1].dash || cue_at(ws, first - 1, name_signoffs) > 0)) {
			for (size_t j = first; j < n; j++)
				mark[j] = true;
			break;
		}
	}
}

/* Capitalised in the middle of a sentence, yet no name. */
static const char calendar_words[] =
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|"
    "april|may|june|july|august|september|october|november|december|lundi|mardi|"
    "mercredi|jeudi|vendredi|samedi|dimanche|janvier|f\303\251vrier|mars|avril|mai|juin|"
    "juillet|ao\303\273t|septembre|octobre|novembre|d\303\251cembre|christmas|easter|"
    "thanksgiving|no\303\253l|ok|okay|yes|no|please|thanks|sorry";

/* sentence_start - nothing but white space, quotes or brackets between
 * the start of the text, or the end of a sentence, and text[at] */
static bool
sentence_start(const char *text, size_t at)
{
	const unsigned char *t = (const unsigned char *)text;

	while (at > 0) {
		unsigned char ch = t[at - 1];

		if (ch == '\n' || ch == '.' || ch == '!' || ch == '?' || ch == ':')
			return true;
		if (is_sp(ch) || strchr("\"'([{<*_", ch) != NULL)
			at--;
		else if (at >= 3 && t[at - 3] == 0xe2 && t[at - 2] == 0x80 &&
		         (ch == 0x9c || ch == 0x98))
			at -= 3; /* an opening curly quote */
		else if (at >= 2 && t[at - 2] == 0xc2 && ch == 0xab)
			at -= 2; /* an opening guillemet */
		else
			return false;
	}
	return true;
}

/* function_word - w is a function word of a language the reader knows */
static bool
function_word(const char *w, size_t n)
{
	for (size_t i = 0; i < REPLY_LANGS; i++)
		if (bars_has(reply_langs[i].words, w, n))
			return true;
	return false;
}

/*
 * proper_unknown - a word written like a name in the middle of a sentence
 * ("my friend Zanele is coming"), that is no word the venue's own texts
 * use (known), no function word, no day or month and no acronym ("PC"):
 * most likely a name, so out it goes.  A word at the start of a sentence
 * is capitalised for that reason alone and is left.
 */
static bool
proper_unknown(const char *text, const struct mword *w, llm_known_fn known, void *arg)
{
	const char *core = text + w->at;
	size_t      pre = strcspn(w->low, "'");
	bool        lower = false;
	char        word[sizeof(w->low)];

	if (!w->alpha || !w->upper || strlen(w->low) < 2 || w->low[0] == '-')
		return false;
	for (size_t i = 1; i < w->len && !lower; i++)
		lower = islower((unsigned char)core[i]) || (unsigned char)core[i] >= 0x80;
	if (!lower || sentence_start(text, w->at))
		return false;
	/* "I'm", "Let's": the part before the apostrophe decides. */
	if (function_word(w->low, pre) || function_word(w->low, strlen(w->low)) ||
	    bars_has(not_names, w->low, pre) || bars_has(calendar_words, w->low, pre))
		return false;
	snprintf(word, sizeof(word), "%.*s", (int)pre, w->low);
	return !known(word, arg);
}

/* given_name - the word whose core starts at off was marked by
 * intro_names (*wi walks ws in step with the text) */
static bool
given_name(const struct mword *ws, size_t nw, const bool *mark, size_t *wi, size_t off)
{
	while (*wi < nw && ws[*wi].at < off)
		(*wi)++;
	return *wi < nw && ws[*wi].at == off && mark[*wi];
}

/* llm_redact - personal data out of text */
char *
llm_redact(const char *text, const char *const *names, size_t nnames, const long long *members,
           size_t nmembers)
{
	return llm_redact_with(text, names, nnames, members, nmembers, NULL, NULL);
}

/* llm_redact_with - see llm.h */
char *
llm_redact_with(const char *text, const char *const *names, size_t nnames, const long long *members,
                size_t nmembers, llm_known_fn known, void *arg)
{
	struct obuf   b = {0};
	size_t        i = 0, n, nw = 0, wi = 0, runs = 1;
	char          dig[24];
	bool          after_member = false; /* the last word was "member", "#", "number" ... */
	struct mword *ws;
	bool         *mark;

	if (text == NULL)
		return NULL;
	for (const char *p = text; *p != '\0'; p++)
		runs += is_sp((unsigned char)*p);
	ws = calloc(runs, sizeof(*ws));
	mark = calloc(runs, sizeof(*mark));
	if (ws == NULL || mark == NULL) {
		free(ws);
		free(mark);
		return NULL;
	}
	nw = mword_read(text, ws, runs);
	intro_names(ws, nw, mark);
	if (known != NULL)
		for (size_t k = 0; k < nw; k++)
			mark[k] = mark[k] || proper_unknown(text, &ws[k], known, arg);
	ob_add(&b, "", 0);
	while (text[i] != '\0') {
		const char *w = text + i;
		size_t      wb = 0, we;

		if (is_sp((unsigned char)*w)) {
			ob_add(&b, w, 1);
			i++;
			continue;
		}
		if ((i == 0 || !isalnum((unsigned char)text[i - 1])) &&
		    (n = phone_span(w, dig, sizeof(dig))) > 0) {
			ob_add(&b, "[phone]", 7);
			i += n;
			after_member = false;
			continue;
		}
		n = word_end(w);
		we = n;
		trim_word(w, &wb, &we);
		{
			const char *core = w + wb;
			size_t      cl = we > wb ? we - wb : 0;
			bool        at = memchr(core, '@', cl) != NULL;
			bool        alldig = cl > 0, redacted = false;
			const char *cp = core;
			size_t      cpl = cl;

			if (cpl > 0 && *cp == '#') {
				cp++;
				cpl--;
			}
			for (size_t k = 0; k < cpl; k++)
				alldig = alldig && isdigit((unsigned char)cp[k]);
			alldig = alldig && cpl > 0;
			ob_add(&b, w, wb);
			if (at && cl >= 3 && memchr(core, '.', cl) != NULL) {
				ob_add(&b, "[email]", 7);
				redacted = true;
			} else if (alldig && cpl <= 12) {
				long long v = strtoll(cp, NULL, 10);
				bool      member = false;

				for (size_t k = 0; k < nmembers && !member; k++)
					member = members[k] == v;
				if (member || after_member) {
					ob_add(&b, core, (size_t)(cp - core));
					ob_add(&b, "[member]", 8);
					redacted = true;
				}
			} else if (given_name(ws, nw, mark, &wi, (size_t)(core - text)) ||
			           (cl >= 3 && !alldig && name_word(core, cl, names, nnames) &&
			            (!is_common(core, cl) ||
			             (isupper((unsigned char)core[0]) && i > 0)))) {
				ob_add(&b, "[name]", 6);
				redacted = true;
			}
			if (!redacted)
				ob_add(&b, core, cl);
			ob_add(&b, w + we, n - we);
			after_member = (cl >= 6 && (strncasecmp(core, "member", 6) == 0 ||
			                            strncasecmp(core, "membre", 6) == 0)) ||
			               (after_member &&
			                ((cl == 1 && core[0] == '#') ||
			                 (cl == 6 && strncasecmp(core, "number", 6) == 0) ||
			                 (cl == 2 && strncasecmp(core, "no", 2) == 0) ||
			                 (cl == 2 && strncasecmp(core, "id", 2) == 0) ||
			                 (cl == 2 && strncasecmp(core, "is", 2) == 0) ||
			                 (cl == 6 && strncasecmp(core, "num\xc3\xa9ro", 6) == 0) ||
			                 (cl == 7 && strncasecmp(core, "num\xc3\xa9ro", 7) == 0) ||
			                 (cl == 7 && strncasecmp(core, "numero", 6) == 0)));
		}
		i += n;
	}
	free(ws);
	free(mark);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* price_num - a price at s: dollars, 0 to 1e6; its end in *end, -1 if none */
static double
price_num(const char *s, const char **end)
{
	char  *e;
	double d;

	while (*s == ' ')
		s++;
	if (!isdigit((unsigned char)*s) && *s != '.')
		return -1;
	errno = 0;
	d = strtod(s, &e);
	if (e == s || errno != 0 || !(d >= 0) || d > 1e6)
		return -1;
	while (*e == ' ')
		e++;
	*end = e;
	return d;
}

/* llm_price - see llm.h */
int
llm_price(const char *table, const char *model, double def_in, double def_out, double *in,
          double *out)
{
	const char *p = table != NULL ? table : "";
	size_t      best = 0;
	double      bin = def_in, bout = def_out;

	while (*p == ' ')
		p++;
	while (*p != '\0') {
		const char *name = p, *eq = strchr(p, '='), *q;
		size_t      nl;
		double      pin, pout;

		if (eq == NULL)
			return -1;
		nl = (size_t)(eq - name);
		while (nl > 0 && name[nl - 1] == ' ')
			nl--;
		if (nl == 0 || memchr(name, ',', nl) != NULL || memchr(name, '/', nl) != NULL)
			return -1;
		if ((pin = price_num(eq + 1, &q)) < 0 || *q != '/' ||
		    (pout = price_num(q + 1, &q)) < 0 || (*q != ',' && *q != '\0'))
			return -1;
		if (model != NULL && nl > best && strncmp(model, name, nl) == 0) {
			best = nl;
			bin = pin;
			bout = pout;
		}
		p = *q == ',' ? q + 1 : q;
		while (*p == ' ')
			p++;
	}
	*in = bin;
	*out = bout;
	return 0;
}
