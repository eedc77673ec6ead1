/*
 * http.h - the one outgoing HTTP request (libcurl), bounded
 *
 * Every client of an outside API (the providers, the OpenPhone outbox,
 * the LLM, Claude) sends its requests through hc_request: a fresh easy
 * handle, a total timeout, no redirects, no signals, http/https only, an
 * answer body capped (more is refused and flagged), and Retry-After read
 * as delta-seconds (an HTTP-date counts as no hint).  Header lines are
 * wiped from libcurl's copy before it is freed, since one usually holds a
 * key.  The caller owns curl_global_init.
 *
 * (http_ is the gateway's server, gateway/httpd.h; this is hc_.)
 */
#ifndef CLUBOS_HTTP_H
#define CLUBOS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HC_BODY_MAX (64 * 1024) /* the cap when the request names none */
#define HC_ERROR_MAX 256        /* libcurl's CURL_ERROR_SIZE */

struct hc_req {
	const char        *method; /* "GET", "POST", "PUT", ... */
	const char        *url;
	const char *const *headers;            /* NULL-terminated "Name: value" lines, or NULL */
	const char        *body;               /* NULL for none */
	long               timeout_ms;         /* the whole exchange */
	long               connect_timeout_ms; /* 0: only the total applies */
	size_t             max_body;           /* 0: HC_BODY_MAX */
	const char        *user_agent;         /* NULL: libcurl sends none */
	bool (*cancelled)(void *arg);          /* polled during the transfer, or NULL */
	void *cancel_arg;
};

struct hc_res {
	long   status; /* the HTTP status; 0 when no whole answer came */
	char  *body;   /* malloc'd, NUL-terminated, never NULL after hc_request */
	size_t len;
	long   retry_after;         /* Retry-After in seconds, -1 when absent or a date */
	bool   too_big;             /* the answer passed max_body and was refused */
	bool   timed_out;           /* the timeout ran out */
	bool   cancelled;           /* req->cancelled said stop */
	char   error[HC_ERROR_MAX]; /* why no (whole) answer came; "" when one did */
};

int   hc_request(const struct hc_req *req, struct hc_res *res);
void  hc_res_free(struct hc_res *res);
char *hc_header(const char *name, const char *scheme, const char *value);
void  hc_header_free(char *line);

#endif
