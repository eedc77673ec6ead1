/*
 * test_claude.c - unit tests for intelligence/claude.c.
 *
 * A loopback HTTP server runs in a thread of this process, on a free port
 * of 127.0.0.1: it speaks just enough HTTP/1.1 to read one request per
 * connection, record it, and answer with the next scripted response
 * (status, extra headers, body, an optional delay).  The tests check what
 * the client sent and what it made of each answer: retries, the hourly
 * cap, timeouts, and every way a reply can be unusable.  Run by `make
 * test`; takes about two seconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../../common/log.h"
#include "loopback.h"
#include "../../intelligence/claude.h"

#define SLUG "booking-policy"
#define TITLE "Booking policy"
#define CONTENT "# Booking\n\nBays are booked online at least one hour ahead.\n"
#define REVISED                                                                                    \
	"# Booking\n\nBays are booked online at least one hour ahead.\n\nGroups of up to 6 "       \
	"people fit one bay.\n"
#define CASE_MSG "Can I book bay 3 for six people tonight?"
#define API_KEY "sk-test-key-0123456789"

/* ================================================================ */
/* Helpers                                                          */
/* ================================================================ */

/* mono - monotonic seconds. */
static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* msleep - sleep ms milliseconds. */
static void
msleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* reply_text - a Messages API response carrying text (malloc). */
static char *
reply_text(const char *text, const char *stop_reason)
{
	cJSON *o = cJSON_CreateObject(), *content, *blk, *usage;
	char  *s;

	cJSON_AddStringToObject(o, "id", "msg_test0001");
	cJSON_AddStringToObject(o, "type", "message");
	cJSON_AddStringToObject(o, "role", "assistant");
	cJSON_AddStringToObject(o, "model", "claude-test");
	content = cJSON_AddArrayToObject(o, "content");
	blk = cJSON_CreateObject();
	cJSON_AddStringToObject(blk, "type", "text");
	cJSON_AddStringToObject(blk, "text", text);
	cJSON_AddItemToArray(content, blk);
	cJSON_AddStringToObject(o, "stop_reason", stop_reason);
	cJSON_AddNullToObject(o, "stop_sequence");
	usage = cJSON_AddObjectToObject(o, "usage");
	cJSON_AddNumberToObject(usage, "input_tokens", 812);
	cJSON_AddNumberToObject(usage, "output_tokens", 97);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* proposal_text - what the model is asked to reply with (malloc). */
static char *
proposal_text(const char *slug, const char *content, const char *rationale)
{
	cJSON *o = cJSON_CreateObject();
	char  *s;

	cJSON_AddStringToObject(o, "sop_slug", slug);
	cJSON_AddStringToObject(o, "content", content);
	if (rationale != NULL)
		cJSON_AddStringToObject(o, "rationale", rationale);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* reply_proposal - a Messages API response carrying a proposal (malloc). */
static char *
reply_proposal(const char *slug, const char *content, const char *rationale)
{
	char *p = proposal_text(slug, content, rationale), *r = reply_text(p, "end_turn");

	free(p);
	return r;
}

/* api_error - the API's error body (malloc). */
static char *
api_error(const char *type, const char *message)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
	         "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":\"%s\"}}", type,
	         message);
	return strdup(buf);
}

/* new_client - a client of the test server */
static claude *
new_client(int max_retries, int timeout_ms, int cap, size_t max_content, size_t max_reply)
{
	struct claude_cfg cfg = {
	    .base_url = base_url,
	    .api_key = API_KEY,
	    .model = "claude-test",
	    .timeout_ms = timeout_ms,
	    .max_retries = max_retries,
	    .backoff_ms = 10,
	    .calls_per_hour = cap,
	    .max_reply = max_reply,
	    .max_content = max_content,
	    .max_tokens = 4096,
	};
	claude *c = claude_new(&cfg);

	assert_non_null(c);
	return c;
}

static const struct claude_case test_cases[] = {
    {CASE_MSG, "Sorry, I can't help with bookings.", "wrong: groups are fine",
     "Yes, up to six people can share one bay."},
    {"Is there a minimum group size?", NULL, NULL, NULL},
};

static const struct claude_request test_req = {SLUG, TITLE, CONTENT, test_cases, 2};

/* propose - one call with the standard request */
static int
propose(claude *c, struct claude_proposal *p, char *why, size_t whylen)
{
	return claude_propose(c, &test_req, p, why, whylen);
}

/* srv_start - the loopback server (loopback.c), for this test group */
static int
srv_start(void **state)
{
	(void)state;
	return lb_start("test_claude");
}

/* srv_stop - stop it */
static int
srv_stop(void **state)
{
	(void)state;
	lb_stop();
	return 0;
}

/* ================================================================ */
/* Tests                                                            */
/* ================================================================ */

/* test_request_shape - path, headers, body fields, what the user message quotes */
static void
test_request_shape(void **state)
{
	claude                *c = new_client(0, 2000, 10, 0, 0);
	struct claude_proposal p;
	char                   why[256];
	cJSON                 *o, *msgs, *m;
	const char            *user, *sys;
	struct srv_req        *rq;

	(void)state;
	script(200, NULL, reply_proposal(SLUG, REVISED, "Groups."), 0);
	assert_int_equal(propose(c, &p, why, sizeof(why)), 0);
	claude_proposal_clear(&p);
	assert_int_equal(nreqs(), 1);
	rq = &srv.reqs[0];

	assert_true(strncmp(rq->head, "POST /v1/messages HTTP/1.1\r\n", 28) == 0);
	assert_non_null(header(rq->head, "x-api-key"));
	assert_string_equal(header(rq->head, "x-api-key"), API_KEY);
	assert_non_null(header(rq->head, "anthropic-version"));
	assert_string_equal(header(rq->head, "anthropic-version"), "2023-06-01");
	assert_non_null(header(rq->head, "content-type"));
	assert_string_equal(header(rq->head, "content-type"), "application/json");
	assert_null(header(rq->head, "expect"));
	assert_null(strstr(rq->body, API_KEY));

	assert_non_null(o = cJSON_Parse(rq->body));
	assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "model")));
	assert_string_equal(cJSON_GetObjectItem(o, "model")->valuestring, "claude-test");
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "max_tokens")));
	assert_int_equal(cJSON_GetObjectItem(o, "max_tokens")->valueint, 4096);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "system")));
	sys = cJSON_GetObjectItem(o, "system")->valuestring;
	assert_non_null(strstr(sys, "golf-simulator"));
	assert_non_null(strstr(sys, "\"sop_slug\""));
	msgs = cJSON_GetObjectItem(o, "messages");
	assert_true(cJSON_IsArray(msgs));
	assert_int_equal(cJSON_GetArraySize(msgs), 1);
	m = cJSON_GetArrayItem(msgs, 0);
	assert_string_equal(cJSON_GetObjectItem(m, "role")->valuestring, "user");
	assert_true(cJSON_IsString(cJSON_GetObjectItem(m, "content")));
	user = cJSON_GetObjectItem(m, "content")->valuestring;
	assert_non_null(strstr(user, CONTENT));
	assert_non_null(strstr(user, CASE_MSG));
	assert_non_null(strstr(user, "slug: " SLUG));
	assert_non_null(strstr(user, "title: " TITLE));
	assert_non_null(strstr(user, "Yes, up to six people can share one bay."));
	assert_non_null(strstr(user, "(not given)"));
	/* The delimiters carry a random suffix: <content_0123456789abcdef> */
	assert_non_null(strstr(user, "<content_"));
	assert_int_equal(strspn(strstr(user, "<content_") + 9, "0123456789abcdef"), 16);
	cJSON_Delete(o);
	claude_free(c);
}

/* test_valid_reply - a good reply gives the proposal */
static void
test_valid_reply(void **state)
{
	claude                *c = new_client(2, 2000, 10, 0, 0);
	struct claude_proposal p;
	char                   why[256] = "";

	(void)state;
	script(200, NULL, reply_proposal(SLUG, REVISED, "Says groups of six fit one bay."), 0);
	assert_int_equal(propose(c, &p, why, sizeof(why)), 0);
	assert_string_equal(p.content, REVISED);
	assert_string_equal(p.rationale, "Says groups of six fit one bay.");
	assert_int_equal(claude_calls_last_hour(c), 1);
	claude_proposal_clear(&p);
	assert_null(p.content);
	claude_proposal_clear(NULL);
	claude_free(c);
	claude_free(NULL);
}

/* test_fenced_reply - a ```json fence and prose around the object are fine */
static void
test_fenced_reply(void **state)
{
	claude                *c = new_client(0, 2000, 10, 0, 0);
	struct claude_proposal p;
	char                   why[256] = "", text[4096];
	char                  *obj = proposal_text(SLUG, REVISED, NULL);

	(void)state;
	snprintf(text, sizeof(text),
	         "Here is the {revised} SOP:\n\n```json\n%s\n```\n\nLet me know.", obj);
	free(obj);
	script(200, NULL, reply_text(text, "end_turn"), 0);
	assert_int_equal(propose(c, &p, why, sizeof(why)), 0);
	assert_string_equal(p.content, REVISED);
	assert_string_equal(p.rationale, "");
	claude_proposal_clear(&p);
	claude_free(c);
}

/* test_retry_after_429 - 429 with retry-after: 1, then success: two attempts */
static void
test_retry_after_429(void **state)
{
	claude                *c = new_client(2, 2000, 10, 0, 0);
	struct claude_proposal p;
	char                   why[256] = "";
	double                 t0 = mono(), dt;

	(void)state;
	script(429, "retry-after: 1\r\n", api_error("rate_limit_error", "slow down"), 0);
	script(200, NULL, reply_proposal(SLUG, REVISED, "r"), 0);
	assert_int_equal(propose(c, &p, why, sizeof(why)), 0);
	dt = mono() - t0;
	assert_true(dt >= 0.95);
	assert_true(dt < 2.5);
	assert_int_equal(nreqs(), 2);
	assert_int_equal(claude_calls_last_hour(c), 2);
	claude_proposal_clear(&p);
	claude_free(c);
}

/* test_overloaded_529 - 529 overloaded_error is retried after the backoff */
static void
test_overloaded_529(void **state)
{
	claude                *c = new_client(1, 2000, 10, 0, 0);
	struct claude_proposal p;
	char                   why[256] = "";

	(void)state;
	script(529, NULL, api_error("overloaded_error", "Overloaded"), 0);
	script(200, NULL, reply_proposal(SLUG, REVISED, "r"), 0);
	assert_int_equal(propose(c, &p, why, sizeof(why)), 0);
	assert_int_equal(nreqs(), 2);
	claude_proposal_clear(&p);
	claude_free(c);
}

/* test_500_exhausted - three 500s with max_retries 2: failure after 3 attempts */
static void
test_500_exhausted(void **state)
{
	claude                *c = new_client(2, 2000, 10, 0, 0);
	struct claude_proposal p;
	char                   why[256] = "";

	(void)state;
	for (int i = 0; i < 3; i++)
		script(500, NULL, api_error("api_error", "Internal server error"), 0);
	script(200, NULL, reply_proposal(SLUG, REVISED, "never reached"), 0);
	assert_int_equal(propose(c, &p, why, sizeof(why)), -1);
	assert_string_equal(why, "HTTP 500 after 3 attempts");
	assert_null(p.content);
	assert_int_equal(nreqs(), 3);
	assert_int_equal(claude_calls_last_hour(c), 3);
	claude_free(c);
}

/* test_400_no_retry - a 4xx other than 429 is final */
static void
test_400_no_retry(void **state)
{
	claude                *c = new_client(2, 2000, 10, 0, 0);
	struct claude_proposal p;
	char                   why[256] = "";

	(void)state;
	script(400, NULL, api_error("invalid_request_error", "max_tokens: too large"), 0);
	script(200, NULL, reply_proposal(SLUG, REVISED, "never reached"), 0);
	assert_int_equal(propose(c, &p, why, sizeof(why)), -1);
	assert_true(strncmp(why, "HTTP 400 invalid_request_error", 30) == 0);
	assert_int_equal(nreqs(), 1);
	claude_free(c);
}

/* test_spend_limit_no_retry - the monthly spend cap's 429 is not retried */
static void
test_spend_limit_no_retry(void **state)
{
	claude                *c = new_client(2, 2000, 10, 0, 0);
	struct claude_proposal p;
	char                   why[256] = "";

	(void)state;
	script(
	    429, NULL,
	    strdup(
	        "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":"
	        "\"spend limit\",\"details\":{\"error_code\":\"enforced_spend_limit_reached\"}}}"),
	    0);
	assert_int_equal(propose(c, &p, why, sizeof(why)), -1);
	assert_string_equal(why, "HTTP 429 spend limit reached");
	assert_int_equal(nreqs(), 1);
	claude_free(c);
}

/* test_timeout - the server sleeps past timeout_ms */
static void
test_timeout(void **state)
{
	claude                *c = new_client(0, 200, 10, 0, 0);
	struct claude_proposal p;
	char                   why[256] = "";
	double                 t0 = mono(), dt;

	(void)state;
	script(200, NULL, reply_proposal(SLUG, REVISED, "late"), 1500);
	assert_int_equal(propose(c, &p, why, sizeof(why)), -1);
	dt = mono() - t0;
	assert_string_equal(why, "timeout");
	assert_true(dt >= 0.15 && dt < 1.0);
	assert_int_equal(nreqs(), 1);
	claude_free(c);
}

/* test_transport_error - nobody listens: retried, then given up */
static void
test_transport_error(void **state)
{
	struct sockaddr_in     sa = {0};
	socklen_t              len = sizeof(sa);
	char                   url[64], why[256] = "";
	int                    fd = socket(AF_INET, SOCK_STREAM, 0);
	struct claude_cfg      cfg = {.api_key = API_KEY,
	                              .model = "m",
	                              .max_retries = 1,
	                              .backoff_ms = 10,
	                              .timeout_ms = 1000};
	claude                *c;
	struct claude_proposal p;

	(void)state;
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
	cfg.base_url = url;
	assert_non_null(c = claude_new(&cfg));
	assert_int_equal(claude_propose(c, &test_req, &p, why, sizeof(why)), -1);
	close(fd);
	assert_true(strncmp(why, "transport error", 15) == 0);
	assert_non_null(strstr(why, "after 2 attempts"));
	assert_int_equal(claude_calls_last_hour(c), 2);
	claude_free(c);
}

/* expect_failure - one scripted 200 body; the call fails with want, once */
static void
expect_failure(claude *c, char *body, const char *want)
{
	struct claude_proposal p;
	char                   why[256] = "";

	script(200, NULL, body, 0);
	assert_int_equal(propose(c, &p, why, sizeof(why)), -1);
	assert_string_equal(why, want);
	assert_null(p.content);
	assert_null(p.rationale);
	assert_int_equal(nreqs(), 1);
}

/* test_malformed_body - a 200 whose body is not JSON */
static void
test_malformed_body(void **state)
{
	claude *c = new_client(2, 2000, 10, 0, 0);

	(void)state;
	expect_failure(c, strdup("not json"), "response body is not JSON");
	claude_free(c);
}

/* test_text_not_json - the model answered in prose */
static void
test_text_not_json(void **state)
{
	claude *c = new_client(2, 2000, 10, 0, 0);

	(void)state;
	expect_failure(c, reply_text("I think the SOP is fine as it is {really}.", "end_turn"),
	               "reply is not JSON");
	claude_free(c);
}

/* test_wrong_slug - a proposal for another SOP */
static void
test_wrong_slug(void **state)
{
	claude *c = new_client(2, 2000, 10, 0, 0);

	(void)state;
	expect_failure(c, reply_proposal("door-codes", REVISED, "r"), "reply names another SOP");
	claude_free(c);
}

/* test_oversize_content - content over max_content */
static void
test_oversize_content(void **state)
{
	claude *c = new_client(2, 2000, 10, 1024, 0);
	char    big[2048];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_failure(c, reply_proposal(SLUG, big, "r"), "content exceeds 1024 bytes");
	claude_free(c);
}

/* test_unchanged_content - the same text back (white space aside) */
static void
test_unchanged_content(void **state)
{
	claude *c = new_client(2, 2000, 10, 0, 0);

	(void)state;
	expect_failure(c, reply_proposal(SLUG, "\n" CONTENT "\n\n", "no change"),
	               "content is unchanged");
	claude_free(c);
}

/* test_empty_content - blank content */
static void
test_empty_content(void **state)
{
	claude *c = new_client(2, 2000, 10, 0, 0);

	(void)state;
	expect_failure(c, reply_proposal(SLUG, " \n ", "r"), "content is empty");
	claude_free(c);
}

/* test_bad_utf8_content - raw bytes that are not UTF-8: the whole body is
 * refused at the edge (json_parse checks UTF-8 before parsing) */
static void
test_bad_utf8_content(void **state)
{
	claude *c = new_client(2, 2000, 10, 0, 0);

	(void)state;
	expect_failure(c, reply_proposal(SLUG, "# Booking\n\xff\xfe broken\n", "r"),
	               "response body is not JSON");
	claude_free(c);
}

/* test_stop_max_tokens - a cut-off reply */
static void
test_stop_max_tokens(void **state)
{
	claude *c = new_client(2, 2000, 10, 0, 0);
	char   *obj = proposal_text(SLUG, REVISED, "r");

	(void)state;
	expect_failure(c, reply_text(obj, "max_tokens"), "stop_reason max_tokens");
	free(obj);
	claude_free(c);
}

/* test_oversize_reply - a body over max_reply is discarded, not retried */
static void
test_oversize_reply(void **state)
{
	claude *c = new_client(2, 2000, 10, 0, 4096);
	char    big[10000];

	(void)state;
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_failure(c, reply_proposal(SLUG, big, "r"), "reply exceeds 4096 bytes");
	claude_free(c);
}

/* test_hourly_cap - over the cap, no request reaches the server */
static void
test_hourly_cap(void **state)
{
	claude                *c = new_client(0, 2000, 2, 0, 0);
	struct claude_proposal p;
	char                   why[256] = "";

	(void)state;
	for (int i = 0; i < 3; i++)
		script(200, NULL, reply_proposal(SLUG, REVISED, "r"), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(propose(c, &p, why, sizeof(why)), 0);
		claude_proposal_clear(&p);
	}
	assert_int_equal(propose(c, &p, why, sizeof(why)), -1);
	assert_string_equal(why, "rate cap reached (2 calls in the last hour)");
	assert_int_equal(nreqs(), 2);
	assert_int_equal(claude_calls_last_hour(c), 2);
	claude_free(c);
}

/* test_cap_stops_retries - the cap also bounds retries */
static void
test_cap_stops_retries(void **state)
{
	claude                *c = new_client(5, 2000, 2, 0, 0);
	struct claude_proposal p;
	char                   why[256] = "";

	(void)state;
	for (int i = 0; i < 3; i++)
		script(503, NULL, api_error("api_error", "unavailable"), 0);
	assert_int_equal(propose(c, &p, why, sizeof(why)), -1);
	assert_string_equal(why, "HTTP 503, then rate cap reached (2 calls in the last hour)");
	assert_int_equal(nreqs(), 2);
	claude_free(c);
}

/* canceller - cancel the client after 200 ms */
static void *
canceller(void *arg)
{
	msleep(200);
	claude_cancel(arg);
	return NULL;
}

/* test_cancel - a cancel ends a long retry-after wait at once */
static void
test_cancel(void **state)
{
	claude                *c = new_client(2, 2000, 10, 0, 0);
	struct claude_proposal p;
	char                   why[256] = "";
	pthread_t              th;
	double                 t0 = mono(), dt;

	(void)state;
	script(429, "Retry-After: 20\r\n", api_error("rate_limit_error", "slow down"), 0);
	assert_int_equal(pthread_create(&th, NULL, canceller, c), 0);
	assert_int_equal(propose(c, &p, why, sizeof(why)), -1);
	dt = mono() - t0;
	pthread_join(th, NULL);
	assert_string_equal(why, "cancelled");
	assert_true(dt < 1.0);
	assert_int_equal(propose(c, &p, why, sizeof(why)), -1);
	assert_string_equal(why, "cancelled");
	assert_int_equal(nreqs(), 1);
	claude_free(c);
}

/* test_cases_capped - at most CLAUDE_MAX_CASES cases, long fields cut, UTF-8 kept */
static void
test_cases_capped(void **state)
{
	claude                *c = new_client(0, 2000, 10, 0, 0);
	struct claude_case     cases[25];
	struct claude_request  req = {SLUG, NULL, CONTENT, cases, 25};
	struct claude_proposal p;
	char                   why[256] = "", msgs[25][32], *longtext;
	const char            *user;
	cJSON                 *o;

	(void)state;
	/* 5001 bytes of two-byte characters, with a stray byte that is not UTF-8 */
	longtext = malloc(5002);
	for (int i = 0; i < 5000; i += 2)
		memcpy(longtext + i, "\xc3\xa9", 2);
	longtext[10] = '\xff';
	longtext[5000] = '\0';
	for (int i = 0; i < 25; i++) {
		snprintf(msgs[i], sizeof(msgs[i]), "case-%02d question", i + 1);
		cases[i] = (struct claude_case){msgs[i], longtext, NULL, NULL};
	}
	script(200, NULL, reply_proposal(SLUG, REVISED, "r"), 0);
	assert_int_equal(claude_propose(c, &req, &p, why, sizeof(why)), 0);
	claude_proposal_clear(&p);
	assert_int_equal(nreqs(), 1);
	assert_non_null(o = cJSON_Parse(srv.reqs[0].body));
	user = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "messages"), 0),
	                           "content")
	           ->valuestring;
	assert_non_null(strstr(user, "case-20 question"));
	assert_null(strstr(user, "case-21 question"));
	assert_non_null(strstr(user, "count=\"20\" of=\"25\""));
	assert_non_null(strstr(user, "[... cut]"));
	assert_non_null(strstr(user, "\xef\xbf\xbd")); /* U+FFFD for the stray byte */
	assert_non_null(strstr(user, "title: " SLUG)); /* no title: the slug stands in */
	assert_true(strlen(user) < 25 * 4 * 2100);
	cJSON_Delete(o);
	free(longtext);
	claude_free(c);
}

/* test_bad_input - refused before any request */
static void
test_bad_input(void **state)
{
	claude                *c = new_client(0, 2000, 10, 0, 0);
	struct claude_request  req = test_req;
	struct claude_proposal p;
	char                   why[256] = "";
	struct claude_cfg      cfg = {.base_url = base_url, .model = "m"};

	(void)state;
	assert_null(claude_new(&cfg)); /* no key */
	assert_null(claude_new(NULL));
	req.ncases = 0;
	assert_int_equal(claude_propose(c, &req, &p, why, sizeof(why)), -1);
	assert_string_equal(why, "no failing interactions to learn from");
	req = test_req;
	req.content = "bad \xc0\xaf utf-8";
	assert_int_equal(claude_propose(c, &req, &p, why, sizeof(why)), -1);
	assert_string_equal(why, "current content is not valid UTF-8");
	assert_int_equal(nreqs(), 0);
	assert_int_equal(claude_calls_last_hour(c), 0);
	claude_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_request_shape, srv_reset),
	    cmocka_unit_test_setup(test_valid_reply, srv_reset),
	    cmocka_unit_test_setup(test_fenced_reply, srv_reset),
	    cmocka_unit_test_setup(test_retry_after_429, srv_reset),
	    cmocka_unit_test_setup(test_overloaded_529, srv_reset),
	    cmocka_unit_test_setup(test_500_exhausted, srv_reset),
	    cmocka_unit_test_setup(test_400_no_retry, srv_reset),
	    cmocka_unit_test_setup(test_spend_limit_no_retry, srv_reset),
	    cmocka_unit_test_setup(test_timeout, srv_reset),
	    cmocka_unit_test_setup(test_transport_error, srv_reset),
	    cmocka_unit_test_setup(test_malformed_body, srv_reset),
	    cmocka_unit_test_setup(test_text_not_json, srv_reset),
	    cmocka_unit_test_setup(test_wrong_slug, srv_reset),
	    cmocka_unit_test_setup(test_oversize_content, srv_reset),
	    cmocka_unit_test_setup(test_unchanged_content, srv_reset),
	    cmocka_unit_test_setup(test_empty_content, srv_reset),
	    cmocka_unit_test_setup(test_bad_utf8_content, srv_reset),
	    cmocka_unit_test_setup(test_stop_max_tokens, srv_reset),
	    cmocka_unit_test_setup(test_oversize_reply, srv_reset),
	    cmocka_unit_test_setup(test_hourly_cap, srv_reset),
	    cmocka_unit_test_setup(test_cap_stops_retries, srv_reset),
	    cmocka_unit_test_setup(test_cancel, srv_reset),
	    cmocka_unit_test_setup(test_cases_capped, srv_reset),
	    cmocka_unit_test_setup(test_bad_input, srv_reset),
	};

	return cmocka_run_group_tests(tests, srv_start, srv_stop);
}
