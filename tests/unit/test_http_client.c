/*
 * test_http_client.c - unit tests for common/http.c (hc_request).
 *
 * A loopback HTTP server (loopback.c, shared with test_claude.c) runs in a thread
 * of this process on a free port of 127.0.0.1: one request per
 * connection, recorded, answered with the next scripted response.  The
 * tests check what went out and what hc_request made of each answer:
 * statuses, Retry-After forms, the body cap, the timeout, a refused
 * connection, cancelling, no redirects.
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

#include <curl/curl.h>

#include "../../common/http.h"
#include "../../common/log.h"
#include "loopback.h"

/* ================================================================ */
/* Helpers                                                          */
/* ================================================================ */

/* srv_start - the loopback server (loopback.c), for this test group */
static int
srv_start(void **state)
{
	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return lb_start("test_http_client");
}

/* srv_stop - stop it */
static int
srv_stop(void **state)
{
	(void)state;
	lb_stop();
	curl_global_cleanup();
	return 0;
}

/* ================================================================ */

/* ================================================================ */
/* Tests                                                            */
/* ================================================================ */

/* get - a GET of base_url with total timeout ms and body cap max */
static int
get(long ms, size_t max, struct hc_res *res)
{
	struct hc_req req = {.method = "GET", .url = base_url, .timeout_ms = ms, .max_body = max};

	return hc_request(&req, res);
}

/* req_head - the head of the i-th request received (the test owns nothing) */
static const char *
req_head(int i)
{
	const char *h;

	pthread_mutex_lock(&srv.mu);
	h = i < srv.nreqs ? srv.reqs[i].head : NULL;
	pthread_mutex_unlock(&srv.mu);
	return h;
}

/* test_request_shape - method, path, headers, body, user agent go out as asked */
static void
test_request_shape(void **state)
{
	const char *const hdr[] = {"Authorization: Bearer k-123", "Content-Type: application/json",
	                           NULL};
	struct hc_req     req = {.method = "PUT",
	                         .url = base_url,
	                         .headers = hdr,
	                         .body = "{\"a\":1}",
	                         .timeout_ms = 2000,
	                         .connect_timeout_ms = 1000,
	                         .user_agent = "clubos-test/1"};
	struct hc_res     res;

	(void)state;
	script(201, NULL, strdup("{\"ok\":true}"), 0);
	assert_int_equal(hc_request(&req, &res), 0);
	assert_int_equal(res.status, 201);
	assert_string_equal(res.body, "{\"ok\":true}");
	assert_int_equal(res.len, strlen("{\"ok\":true}"));
	assert_int_equal(res.retry_after, -1);
	assert_false(res.too_big);
	assert_false(res.timed_out);
	assert_string_equal(res.error, "");
	hc_res_free(&res);
	assert_null(res.body);
	assert_int_equal(nreqs(), 1);
	assert_true(strncmp(req_head(0), "PUT / HTTP/1.1\r\n", 16) == 0);
	assert_string_equal(header(req_head(0), "authorization"), "Bearer k-123");
	assert_string_equal(header(req_head(0), "content-type"), "application/json");
	assert_string_equal(header(req_head(0), "user-agent"), "clubos-test/1");
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.reqs[0].body, "{\"a\":1}");
	pthread_mutex_unlock(&srv.mu);
}

/* test_statuses - any HTTP status is an answer (0), body kept; an empty body is "" */
static void
test_statuses(void **state)
{
	static const int codes[] = {200, 204, 400, 404, 429, 500, 503};
	struct hc_res    res;

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		script(codes[i], NULL, codes[i] == 204 ? NULL : strdup("{\"e\":\"x\"}"), 0);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		assert_int_equal(get(2000, 0, &res), 0);
		assert_int_equal(res.status, codes[i]);
		assert_non_null(res.body);
		if (codes[i] == 204) {
			assert_string_equal(res.body, "");
			assert_int_equal(res.len, 0);
		} else {
			assert_string_equal(res.body, "{\"e\":\"x\"}");
		}
		hc_res_free(&res);
	}
}

/* test_no_redirect - a 302 is the answer; the Location is not followed */
static void
test_no_redirect(void **state)
{
	struct hc_res res;

	(void)state;
	script(302, "Location: /elsewhere\r\n", NULL, 0);
	script(200, NULL, strdup("followed"), 0);
	assert_int_equal(get(2000, 0, &res), 0);
	assert_int_equal(res.status, 302);
	hc_res_free(&res);
	assert_int_equal(nreqs(), 1);
}

/* test_retry_after - delta seconds read; dates, junk and absence are no hint */
static void
test_retry_after(void **state)
{
	static const struct {
		const char *hdr;
		long        want;
	} cases[] = {
	    {"Retry-After: 7\r\n", 7},
	    {"retry-after:12\r\n", 12},
	    {"RETRY-AFTER: \t 0\r\n", 0},
	    {"Retry-After: 120   \r\n", 120},
	    {"Retry-After: Wed, 21 Oct 2026 07:28:00 GMT\r\n", -1},
	    {"Retry-After: 5x\r\n", -1},
	    {"Retry-After: -3\r\n", -1},
	    {"Retry-After:\r\n", -1},
	    {"Retry-Afterwards: 9\r\n", -1},
	    {NULL, -1},
	};
	struct hc_res res;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		script(429, cases[i].hdr, strdup("{}"), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(get(2000, 0, &res), 0);
		assert_int_equal(res.status, 429);
		if (res.retry_after != cases[i].want)
			fail_msg("%s: retry_after %ld, want %ld",
			         cases[i].hdr ? cases[i].hdr : "(none)", res.retry_after,
			         cases[i].want);
		hc_res_free(&res);
	}
}

/* test_body_cap - up to the cap is kept; one byte more is refused and flagged */
static void
test_body_cap(void **state)
{
	char         *big = malloc(101);
	struct hc_res res;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', 100);
	big[100] = '\0';
	script(200, NULL, strdup(big), 0);
	script(200, NULL, big, 0);
	assert_int_equal(get(2000, 100, &res), 0);
	assert_int_equal(res.len, 100);
	assert_false(res.too_big);
	hc_res_free(&res);
	assert_int_equal(get(2000, 99, &res), -1);
	assert_true(res.too_big);
	assert_int_equal(res.status, 0);
	assert_true(res.len <= 99);
	assert_non_null(res.body);
	assert_non_null(strstr(res.error, "exceeds 99 bytes"));
	hc_res_free(&res);
}

/* test_default_cap - no cap named: HC_BODY_MAX applies */
static void
test_default_cap(void **state)
{
	char         *big = malloc(HC_BODY_MAX + 2);
	struct hc_res res;

	(void)state;
	assert_non_null(big);
	memset(big, 'b', HC_BODY_MAX + 1);
	big[HC_BODY_MAX + 1] = '\0';
	script(200, NULL, big, 0);
	assert_int_equal(get(2000, 0, &res), -1);
	assert_true(res.too_big);
	hc_res_free(&res);
}

/* test_timeout - a server that does not answer in time: -1, timed_out, no status */
static void
test_timeout(void **state)
{
	struct hc_res res;

	(void)state;
	script(200, NULL, strdup("late"), 3000);
	assert_int_equal(get(200, 0, &res), -1);
	assert_true(res.timed_out);
	assert_int_equal(res.status, 0);
	assert_string_not_equal(res.error, "");
	assert_string_equal(res.body, "");
	hc_res_free(&res);
}

/* test_refused - nothing listens: -1 at once, not a timeout, with libcurl's reason */
static void
test_refused(void **state)
{
	struct sockaddr_in sa = {0};
	socklen_t          len = sizeof(sa);
	char               url[64];
	int                fd = socket(AF_INET, SOCK_STREAM, 0);
	struct hc_req      req = {.method = "POST", .url = url, .body = "x", .timeout_ms = 5000};
	struct hc_res      res;

	(void)state;
	/* A port that was free a moment ago and has no listener now. */
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(sa.sin_port));
	assert_int_equal(hc_request(&req, &res), -1);
	assert_int_equal(res.status, 0);
	assert_false(res.timed_out);
	assert_false(res.too_big);
	assert_string_not_equal(res.error, "");
	hc_res_free(&res);
}

/* test_bad_url - a scheme other than http(s) is refused, not fetched */
static void
test_bad_url(void **state)
{
	struct hc_req req = {.method = "GET", .url = "file:///etc/passwd", .timeout_ms = 1000};
	struct hc_res res;

	(void)state;
	assert_int_equal(hc_request(&req, &res), -1);
	assert_int_equal(res.status, 0);
	assert_int_equal(res.len, 0);
	assert_string_not_equal(res.error, "");
	hc_res_free(&res);
}

/* test_header_line - a secret header line built and wiped */
static void
test_header_line(void **state)
{
	char *a = hc_header("Authorization", "Bearer", "k-1"),
	     *b = hc_header("x-api-key", NULL, "k-2");

	(void)state;
	assert_string_equal(a, "Authorization: Bearer k-1");
	assert_string_equal(b, "x-api-key: k-2");
	hc_header_free(a);
	hc_header_free(b);
	hc_header_free(NULL);
}

/* stop_now - a cancel hook that counts its calls and says stop */
static bool
stop_now(void *arg)
{
	atomic_int *calls = arg;

	atomic_fetch_add(calls, 1);
	return true;
}

/* test_cancel - the hook saying stop ends a slow exchange before its timeout */
static void
test_cancel(void **state)
{
	atomic_int    calls = 0;
	struct hc_req req = {.method = "GET",
	                     .url = base_url,
	                     .timeout_ms = 10000,
	                     .cancelled = stop_now,
	                     .cancel_arg = &calls};
	struct hc_res res;

	(void)state;
	script(200, NULL, strdup("late"), 5000);
	assert_int_equal(hc_request(&req, &res), -1);
	assert_true(res.cancelled);
	assert_false(res.timed_out);
	assert_string_equal(res.error, "cancelled");
	assert_true(atomic_load(&calls) > 0);
	hc_res_free(&res);
	hc_res_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_request_shape, srv_reset),
	    cmocka_unit_test_setup(test_statuses, srv_reset),
	    cmocka_unit_test_setup(test_no_redirect, srv_reset),
	    cmocka_unit_test_setup(test_retry_after, srv_reset),
	    cmocka_unit_test_setup(test_body_cap, srv_reset),
	    cmocka_unit_test_setup(test_default_cap, srv_reset),
	    cmocka_unit_test_setup(test_timeout, srv_reset),
	    cmocka_unit_test_setup(test_refused, srv_reset),
	    cmocka_unit_test_setup(test_bad_url, srv_reset),
	    cmocka_unit_test_setup(test_cancel, srv_reset),
	    cmocka_unit_test_setup(test_header_line, srv_reset),
	};

	return cmocka_run_group_tests(tests, srv_start, srv_stop);
}
