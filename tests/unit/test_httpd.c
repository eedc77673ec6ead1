/*
 * test_httpd.c - unit tests for the HTTP/1.1 request parser (gateway/httpd.c)
 *
 * http_parse() is a pure function over bytes, so the tests are a table of
 * raw requests and what the parser must make of them: well-formed ones in
 * every form the server accepts, and the ways a request can be malformed
 * or built to make two parsers disagree (smuggling: two lengths, length
 * and chunked, controls, folds, bare CR or LF).  Every case is also fed one
 * byte at a time, as a slow client would send it, and must come out the
 * same; pipelined pairs are cut at every byte.  Run by `make test`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/httpd.h"

#define RAW(s) s, sizeof(s) - 1
#define H "Host: desk.example\r\n"

/* One raw request and what must come of it. */
struct pcase {
	const char *name;
	const char *raw;
	size_t      len;
	int         want;   /* 0, HTTP_PARSE_MORE or a status */
	const char *method; /* for want == 0 */
	const char *path;
	const char *query;
	size_t      body;
	int         keep; /* 1 keep-alive, 0 close, -1 not checked */
};

static const struct pcase cases[] = {
    /* Well-formed. */
    {"simple GET", RAW("GET / HTTP/1.1\r\n" H "\r\n"), 0, "GET", "/", "", 0, 1},
    {"query", RAW("GET /api/sops?x=1&y=%2F HTTP/1.1\r\n" H "\r\n"), 0, "GET", "/api/sops",
     "x=1&y=%2F", 0, 1},
    {"empty query", RAW("GET /a? HTTP/1.1\r\n" H "\r\n"), 0, "GET", "/a", "", 0, 1},
    {"POST with a length", RAW("POST /api/query HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\nhello"),
     0, "POST", "/api/query", "", 5, 1},
    {"zero length", RAW("POST /x HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n"), 0, "POST", "/x", "",
     0, 1},
    {"leading zeros", RAW("POST /x HTTP/1.1\r\n" H "Content-Length: 007\r\n\r\n"), 0, "POST", "/x",
     "", 7, 1},
    {"length with white space", RAW("POST /x HTTP/1.1\r\n" H "Content-Length: \t12 \r\n\r\n"), 0,
     "POST", "/x", "", 12, 1},
    {"HTTP/1.0 closes", RAW("GET / HTTP/1.0\r\n\r\n"), 0, "GET", "/", "", 0, 0},
    {"HTTP/1.0 keep-alive", RAW("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 0, "GET", "/",
     "", 0, 1},
    {"HTTP/1.1 close", RAW("GET / HTTP/1.1\r\n" H "Connection: close\r\n\r\n"), 0, "GET", "/", "",
     0, 0},
    {"close in a list", RAW("GET / HTTP/1.1\r\n" H "Connection: Upgrade, ,CLOSE\r\n\r\n"), 0, "GET",
     "/", "", 0, 0},
    {"close in a second field",
     RAW("GET / HTTP/1.1\r\n" H "Connection: keep-alive\r\nConnection: close\r\n\r\n"), 0, "GET",
     "/", "", 0, 0},
    {"HTTP/1.9 is 1.1", RAW("GET / HTTP/1.9\r\n" H "\r\n"), 0, "GET", "/", "", 0, 1},
    {"empty lines first", RAW("\r\n\r\nGET / HTTP/1.1\r\n" H "\r\n"), 0, "GET", "/", "", 0, 1},
    {"absolute-form", RAW("GET http://desk.example:8080/api/health?v HTTP/1.1\r\n" H "\r\n"), 0,
     "GET", "/api/health", "v", 0, 1},
    {"absolute-form, no path", RAW("GET HTTPS://desk.example HTTP/1.1\r\n" H "\r\n"), 0, "GET", "/",
     "", 0, 1},
    {"absolute-form, query only", RAW("GET http://desk.example?q=1 HTTP/1.1\r\n" H "\r\n"), 0,
     "GET", "/", "q=1", 0, 1},
    {"asterisk-form", RAW("OPTIONS * HTTP/1.1\r\n" H "\r\n"), 0, "OPTIONS", "*", "", 0, 1},
    {"a token method", RAW("PURGE-it! /x HTTP/1.1\r\n" H "\r\n"), 0, "PURGE-it!", "/x", "", 0, 1},
    {"percent and sub-delims", RAW("GET /a%20b/c;d=e,f/@:~ HTTP/1.1\r\n" H "\r\n"), 0, "GET",
     "/a%20b/c;d=e,f/@:~", "", 0, 1},
    {"empty value", RAW("GET / HTTP/1.1\r\n" H "X-Empty:\r\n\r\n"), 0, "GET", "/", "", 0, 1},
    {"obs-text in a value", RAW("GET / HTTP/1.1\r\n" H "X-Name: Jos\xc3\xa9\r\n\r\n"), 0, "GET",
     "/", "", 0, 1},
    {"IPv6 host", RAW("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 0, "GET", "/", "", 0, 1},
    {"empty host", RAW("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0, "GET", "/", "", 0, 1},

    /* Not complete yet. */
    {"half a request line", RAW("GET / HT"), HTTP_PARSE_MORE, NULL, NULL, NULL, 0, -1},
    {"no blank line yet", RAW("GET / HTTP/1.1\r\n" H), HTTP_PARSE_MORE, NULL, NULL, NULL, 0, -1},
    {"a CR waiting for its LF", RAW("GET / HTTP/1.1\r\n" H "\r"), HTTP_PARSE_MORE, NULL, NULL, NULL,
     0, -1},
    {"only empty lines", RAW("\r\n\r\n\r\n"), HTTP_PARSE_MORE, NULL, NULL, NULL, 0, -1},

    /* Smuggling: two ways to tell where the body ends. */
    {"two equal lengths",
     RAW("POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"), 400, NULL,
     NULL, NULL, 0, -1},
    {"two different lengths",
     RAW("POST / HTTP/1.1\r\n" H "Content-Length: 0\r\ncontent-length: 44\r\n\r\n"), 400, NULL,
     NULL, NULL, 0, -1},
    {"a length list", RAW("POST / HTTP/1.1\r\n" H "Content-Length: 5, 5\r\n\r\nhello"), 400, NULL,
     NULL, NULL, 0, -1},
    {"length and chunked",
     RAW("POST / HTTP/1.1\r\n" H "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), 400,
     NULL, NULL, NULL, 0, -1},
    {"chunked and length",
     RAW("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"), 400,
     NULL, NULL, NULL, 0, -1},
    {"chunked is refused", RAW("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n"), 411,
     NULL, NULL, NULL, 0, -1},
    {"chunked with a tab", RAW("POST / HTTP/1.1\r\n" H "Transfer-Encoding:\tCHUNKED\r\n\r\n"), 411,
     NULL, NULL, NULL, 0, -1},
    {"gzip then chunked", RAW("POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n"),
     501, NULL, NULL, NULL, 0, -1},
    {"codings over two fields",
     RAW("POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"),
     501, NULL, NULL, NULL, 0, -1},
    {"chunked not last", RAW("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, gzip\r\n\r\n"),
     400, NULL, NULL, NULL, 0, -1},
    {"identity", RAW("POST / HTTP/1.1\r\n" H "Transfer-Encoding: identity\r\n\r\n"), 400, NULL,
     NULL, NULL, 0, -1},
    {"xchunked", RAW("POST / HTTP/1.1\r\n" H "Transfer-Encoding: xchunked\r\n\r\n"), 400, NULL,
     NULL, NULL, 0, -1},
    {"empty coding", RAW("POST / HTTP/1.1\r\n" H "Transfer-Encoding: ,\r\n\r\n"), 400, NULL, NULL,
     NULL, 0, -1},
    {"chunked on HTTP/1.0", RAW("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400, NULL,
     NULL, NULL, 0, -1},
    {"space before the colon", RAW("POST / HTTP/1.1\r\n" H "Transfer-Encoding : chunked\r\n\r\n"),
     400, NULL, NULL, NULL, 0, -1},
    {"folded coding", RAW("POST / HTTP/1.1\r\n" H "Transfer-Encoding:\r\n chunked\r\n\r\n"), 400,
     NULL, NULL, NULL, 0, -1},
    {"NUL before a field",
     RAW("POST / HTTP/1.1\r\n" H "Content-Length: 0\r\n\0Transfer-Encoding: chunked\r\n\r\n"), 400,
     NULL, NULL, NULL, 0, -1},
    {"NUL in a length", RAW("POST / HTTP/1.1\r\n" H "Content-Length: 1\0 9\r\n\r\n"), 400, NULL,
     NULL, NULL, 0, -1},

    /* Lengths. */
    {"negative length", RAW("POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n"), 400, NULL, NULL,
     NULL, 0, -1},
    {"plus sign", RAW("POST / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n"), 400, NULL, NULL, NULL,
     0, -1},
    {"space inside a length", RAW("POST / HTTP/1.1\r\n" H "Content-Length: 1 0\r\n\r\n"), 400, NULL,
     NULL, NULL, 0, -1},
    {"hex length", RAW("POST / HTTP/1.1\r\n" H "Content-Length: 0x10\r\n\r\n"), 400, NULL, NULL,
     NULL, 0, -1},
    {"empty length", RAW("POST / HTTP/1.1\r\n" H "Content-Length:\r\n\r\n"), 400, NULL, NULL, NULL,
     0, -1},
    {"huge length",
     RAW("POST / HTTP/1.1\r\n" H "Content-Length: 99999999999999999999999999999\r\n\r\n"), 413,
     NULL, NULL, NULL, 0, -1},

    /* Controls and line endings. */
    {"bare LF lines", RAW("GET / HTTP/1.1\nHost: a\n\n"), 400, NULL, NULL, NULL, 0, -1},
    {"bare LF after the request line", RAW("GET / HTTP/1.1\r\nHost: a\n\r\n"), 400, NULL, NULL,
     NULL, 0, -1},
    {"bare CR in a value", RAW("GET / HTTP/1.1\r\n" H "X-A: a\rb\r\n\r\n"), 400, NULL, NULL, NULL,
     0, -1},
    {"bare CR in the request line", RAW("GET /\r HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0,
     -1},
    {"NUL in the request line", RAW("GET /a\0b HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0,
     -1},
    {"NUL in a name", RAW("GET / HTTP/1.1\r\n" H "X-\0A: b\r\n\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"NUL in a value", RAW("GET / HTTP/1.1\r\n" H "X-A: b\0c\r\n\r\n"), 400, NULL, NULL, NULL, 0,
     -1},
    {"SOH in a value", RAW("GET / HTTP/1.1\r\n" H "X-A: b\x01\r\n\r\n"), 400, NULL, NULL, NULL, 0,
     -1},
    {"DEL in a value", RAW("GET / HTTP/1.1\r\n" H "X-A: b\x7f\r\n\r\n"), 400, NULL, NULL, NULL, 0,
     -1},
    {"ESC in the target", RAW("GET /\x1b[2J HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"tab in the request line", RAW("GET\t/ HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"obs-fold", RAW("GET / HTTP/1.1\r\n" H "X-A: a\r\n\tb\r\n\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"space before the first field", RAW("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400, NULL, NULL,
     NULL, 0, -1},

    /* Field names. */
    {"no colon", RAW("GET / HTTP/1.1\r\n" H "X-A b\r\n\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"empty name", RAW("GET / HTTP/1.1\r\n" H ": b\r\n\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"name not a token", RAW("GET / HTTP/1.1\r\n" H "X(A): b\r\n\r\n"), 400, NULL, NULL, NULL, 0,
     -1},
    {"non-ASCII name", RAW("GET / HTTP/1.1\r\n" H "X-\xc3\xa9: b\r\n\r\n"), 400, NULL, NULL, NULL,
     0, -1},

    /* Request line and target. */
    {"method not a token", RAW("GE/T / HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"two spaces", RAW("GET  / HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"trailing space", RAW("GET / HTTP/1.1 \r\n" H "\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"no version", RAW("GET /\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"HTTP/0.9 line", RAW("GET\r\n\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"lower-case version", RAW("GET / http/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"short version", RAW("GET / HTTP/1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"HTTP/2.0", RAW("GET / HTTP/2.0\r\n" H "\r\n"), 505, NULL, NULL, NULL, 0, -1},
    {"relative target", RAW("GET api/health HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"authority-form", RAW("CONNECT desk.example:443 HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL,
     0, -1},
    {"asterisk for GET", RAW("GET * HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"fragment", RAW("GET /a#b HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"quote in the target", RAW("GET /a\"b HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"backslash in the target", RAW("GET /a\\b HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0,
     -1},
    {"non-ASCII target", RAW("GET /caf\xc3\xa9 HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0,
     -1},
    {"bad percent", RAW("GET /a%zz HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"short percent", RAW("GET /a%4 HTTP/1.1\r\n" H "\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"userinfo in absolute-form", RAW("GET http://u@desk.example/ HTTP/1.1\r\n" H "\r\n"), 400,
     NULL, NULL, NULL, 0, -1},

    /* Host. */
    {"no Host on 1.1", RAW("GET / HTTP/1.1\r\n\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"two Hosts", RAW("GET / HTTP/1.1\r\n" H "Host: other.example\r\n\r\n"), 400, NULL, NULL, NULL,
     0, -1},
    {"space in Host", RAW("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400, NULL, NULL, NULL, 0, -1},
    {"slash in Host", RAW("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400, NULL, NULL, NULL, 0, -1},
};

/* dup_raw - a private, writable copy (the parser writes NULs into it) */
static char *
dup_raw(const char *raw, size_t len)
{
	char *b = malloc(len + 1);

	assert_non_null(b);
	memcpy(b, raw, len);
	b[len] = '\0';
	return b;
}

/* check_result - a finished parse against the case */
static void
check_result(const struct pcase *c, int rc, const struct http_req *r, const struct http_frame *f)
{
	if (rc != c->want)
		fail_msg("%s: got %d, want %d", c->name, rc, c->want);
	if (rc != 0)
		return;
	assert_string_equal(r->method, c->method);
	assert_string_equal(r->path, c->path);
	assert_string_equal(r->query, c->query);
	if (f->body_len != c->body)
		fail_msg("%s: body %zu, want %zu", c->name, f->body_len, c->body);
	if (c->keep >= 0 && f->keep_alive != (c->keep == 1))
		fail_msg("%s: keep-alive %d, want %d", c->name, f->keep_alive, c->keep);
}

/* every case, all its bytes at once */
static void
test_table_whole(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		char               *b = dup_raw(c->raw, c->len);
		struct http_req     r;
		struct http_frame   f = {0};

		check_result(c, http_parse(b, c->len, &r, &f), &r, &f);
		free(b);
	}
}

/*
 * every case, one more byte per call on the same frame: nothing but "more"
 * until the answer, which must be the same as all at once; a complete head
 * is seen exactly when its last byte arrives, and an error no later.
 */
static void
test_table_byte_by_byte(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		char               *b = dup_raw(c->raw, c->len);
		struct http_req     r;
		struct http_frame   f = {0};
		int                 rc = HTTP_PARSE_MORE;
		size_t              k;

		for (k = 1; k <= c->len && rc == HTTP_PARSE_MORE; k++)
			rc = http_parse(b, k, &r, &f);
		check_result(c, rc, &r, &f);
		if (rc == 0 && f.head_len != k - 1)
			fail_msg("%s: head of %zu bytes seen at %zu", c->name, f.head_len, k - 1);
		free(b);
	}
}

/* the fields are there, trimmed, in order, and found by any case */
static void
test_fields(void **state)
{
	char            raw[] = "GET / HTTP/1.1\r\nHost: desk.example\r\nX-A: \t spaced out \t\r\n"
	                        "x-b:tight\r\nExpect: 100-continue\r\n\r\n";
	struct http_req r;
	struct http_frame f = {0};

	(void)state;
	strcpy(r.remote, "192.0.2.7");
	assert_int_equal(http_parse(raw, sizeof(raw) - 1, &r, &f), 0);
	assert_int_equal(r.nheaders, 4);
	assert_string_equal(http_header(&r, "x-a"), "spaced out");
	assert_string_equal(http_header(&r, "X-B"), "tight");
	assert_null(http_header(&r, "X-C"));
	assert_true(f.expect_continue);
	assert_string_equal(r.remote, "192.0.2.7"); /* the parser leaves it */
	assert_int_equal(f.head_len, sizeof(raw) - 1);
}

/* Expect is ignored on HTTP/1.0 (RFC 9110 10.1.1) */
static void
test_expect_http10(void **state)
{
	char raw[] = "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
	struct http_req   r;
	struct http_frame f = {0};

	(void)state;
	assert_int_equal(http_parse(raw, sizeof(raw) - 1, &r, &f), 0);
	assert_false(f.expect_continue);
	assert_int_equal(f.body_len, 3);
}

/* build_head - a request with n fields, or one field of vlen bytes */
static size_t
build_head(char *out, size_t cap, int n, size_t vlen)
{
	size_t len = (size_t)snprintf(out, cap, "GET / HTTP/1.1\r\nHost: a\r\n");

	for (int i = 1; i < n; i++)
		len += (size_t)snprintf(out + len, cap - len, "X-F%d: v\r\n", i);
	if (vlen > 0) {
		len += (size_t)snprintf(out + len, cap - len, "X-Big: ");
		memset(out + len, 'v', vlen);
		len += vlen;
		len += (size_t)snprintf(out + len, cap - len, "\r\n");
	}
	len += (size_t)snprintf(out + len, cap - len, "\r\n");
	return len;
}

/* 64 fields are fine, 65 are 431; a head over 16 KiB is 431, even unfinished */
static void
test_limits(void **state)
{
	static char       b[64 * 1024];
	struct http_req   r;
	struct http_frame f;
	size_t            n;

	(void)state;
	n = build_head(b, sizeof(b), HTTP_MAX_HEADERS, 0);
	f = (struct http_frame){0};
	assert_int_equal(http_parse(b, n, &r, &f), 0);
	assert_int_equal(r.nheaders, HTTP_MAX_HEADERS);
	n = build_head(b, sizeof(b), HTTP_MAX_HEADERS + 1, 0);
	f = (struct http_frame){0};
	assert_int_equal(http_parse(b, n, &r, &f), 431);
	n = build_head(b, sizeof(b), 1, HTTP_MAX_HEADER_BYTES - 100);
	f = (struct http_frame){0};
	assert_int_equal(http_parse(b, n, &r, &f), 0);
	n = build_head(b, sizeof(b), 1, HTTP_MAX_HEADER_BYTES);
	f = (struct http_frame){0};
	assert_int_equal(http_parse(b, n, &r, &f), 431);
	/* No end in sight: refused once the limit is passed, not later. */
	memset(b, 'a', sizeof(b));
	memcpy(b, "GET / HTTP/1.1\r\nX-A: ", 21);
	f = (struct http_frame){0};
	assert_int_equal(http_parse(b, HTTP_MAX_HEADER_BYTES, &r, &f), HTTP_PARSE_MORE);
	assert_int_equal(http_parse(b, HTTP_MAX_HEADER_BYTES + 1, &r, &f), 431);
	/* Empty lines before the request count too. */
	for (size_t i = 0; i + 1 < sizeof(b); i += 2)
		memcpy(b + i, "\r\n", 2);
	f = (struct http_frame){0};
	assert_int_equal(http_parse(b, sizeof(b), &r, &f), 431);
}

/* Pipelined pairs: what the first says of its length decides where the second starts. */
static const struct {
	const char *name;
	const char *raw;
	size_t      len;
	const char *second_path; /* NULL: the first is refused */
} pairs[] = {
    {"GET then GET", RAW("GET /one HTTP/1.1\r\n" H "\r\nGET /two HTTP/1.1\r\n" H "\r\n"), "/two"},
    {"POST then GET",
     RAW("POST /one HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\nhelloGET /two HTTP/1.1\r\n" H "\r\n"),
     "/two"},
    {"body looks like a request",
     RAW("POST /one HTTP/1.1\r\n" H
         "Content-Length: 33\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n"
         "GET /two HTTP/1.1\r\n" H "\r\n"),
     "/two"},
    {"CL.CL smuggle",
     RAW("POST /one HTTP/1.1\r\n" H "Content-Length: 0\r\nContent-Length: 31\r\n\r\n"
         "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n"),
     NULL},
    {"CL.TE smuggle",
     RAW("POST /one HTTP/1.1\r\n" H "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
         "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n"),
     NULL},
    {"TE.CL smuggle",
     RAW("POST /one HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
         "1e\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n0\r\n\r\n"),
     NULL},
    {"TE.TE smuggle (obfuscated)",
     RAW("POST /one HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n"
         "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n"),
     NULL},
    {"LF-only second request",
     RAW("GET /one HTTP/1.1\r\n" H "\r\nGET /admin HTTP/1.1\nHost: a\n\n"), "-"},
};

/*
 * Each pair cut at every byte: the first part arrives, then the rest, as
 * a connection would read them.  The first request must come out the same
 * wherever the cut is, and the second must start exactly where the first's
 * length says; a refused first request never lets the second be read.
 */
static void
test_pipelined_every_cut(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		for (size_t cut = 1; cut < pairs[i].len; cut++) {
			char             *b = dup_raw(pairs[i].raw, pairs[i].len);
			struct http_req   r;
			struct http_frame f = {0};
			int               rc = http_parse(b, cut, &r, &f);
			size_t            used;

			if (rc == HTTP_PARSE_MORE)
				rc = http_parse(b, pairs[i].len, &r, &f);
			if (pairs[i].second_path == NULL) {
				if (rc != 400)
					fail_msg("%s cut at %zu: first got %d, want 400",
					         pairs[i].name, cut, rc);
				free(b);
				continue;
			}
			if (rc != 0)
				fail_msg("%s cut at %zu: first got %d", pairs[i].name, cut, rc);
			assert_string_equal(r.path, "/one");
			used = f.head_len + f.body_len;
			assert_true(used < pairs[i].len);
			f = (struct http_frame){0};
			rc = http_parse(b + used, pairs[i].len - used, &r, &f);
			if (strcmp(pairs[i].second_path, "-") == 0)
				assert_int_equal(rc, 400);
			else {
				assert_int_equal(rc, 0);
				assert_string_equal(r.path, pairs[i].second_path);
				assert_int_equal(f.head_len, pairs[i].len - used);
			}
			free(b);
		}
	}
}

/* Random bytes never crash the parser, and only ever give the documented answers. */
static void
test_fuzz(void **state)
{
	static const char alphabet[] =
	    "GET /?%:\r\n \tHost:Content-Length:0123456789chunked\x00\x7f\xc3";
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		char              b[256];
		size_t            n;
		struct http_req   r;
		struct http_frame f = {0};
		int               rc;

		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 16) % sizeof(b);
		memcpy(b, "GET / HTTP/1.1\r\n", 16);
		for (size_t i = (round & 1) ? 16 : 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			b[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		rc = http_parse(b, n, &r, &f);
		assert_true(rc == 0 || rc == HTTP_PARSE_MORE || rc == 400 || rc == 411 ||
		            rc == 413 || rc == 431 || rc == 501 || rc == 505);
		if (rc == 0)
			assert_true(f.head_len <= n);
	}
}

/* http_res_header refuses CR and LF: no response splitting */
static void
test_res_header(void **state)
{
	struct http_res res = {0};

	(void)state;
	http_res_header(&res, "Retry-After", "1");
	http_res_header(&res, "X-Evil", "a\r\nSet-Cookie: x=1");
	http_res_header(&res, "X-Evil\r\nA", "b");
	assert_string_equal(res.headers, "Retry-After: 1\r\n");
	assert_string_equal(http_reason(408), "Request Timeout");
	assert_string_equal(http_reason(503), "Service Unavailable");
	assert_string_equal(http_reason(505), "HTTP Version Not Supported");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_whole), cmocka_unit_test(test_table_byte_by_byte),
	    cmocka_unit_test(test_fields),      cmocka_unit_test(test_expect_http10),
	    cmocka_unit_test(test_limits),      cmocka_unit_test(test_pipelined_every_cut),
	    cmocka_unit_test(test_fuzz),        cmocka_unit_test(test_res_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
