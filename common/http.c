/*
 * http.c - the one outgoing HTTP request (libcurl), bounded
 *
 * See http.h.  A fresh easy handle per request: calls are few, and a
 * fresh handle carries nothing from one call (or one provider) to the
 * next.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <sodium.h>

#include "common/http.h"

/* The state the callbacks share. */
struct hc_xfer {
	const struct hc_req *req;
	struct hc_res       *res;
	size_t               cap, max;
};

/* hc_on_body - keep the body, abort the transfer past max bytes */
static size_t
hc_on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct hc_xfer *x = arg;
	struct hc_res  *r = x->res;
	size_t          n = size * nmemb, cap;
	char           *p;

	if (n > x->max - r->len) {
		r->too_big = true;
		return 0; /* libcurl stops with CURLE_WRITE_ERROR */
	}
	if (r->len + n + 1 > x->cap) {
		cap = x->cap ? x->cap : 8192;
		while (cap < r->len + n + 1)
			cap *= 2;
		if (cap > x->max + 1)
			cap = x->max + 1;
		if ((p = realloc(r->body, cap)) == NULL)
			return 0;
		r->body = p;
		x->cap = cap;
	}
	memcpy(r->body + r->len, ptr, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* hc_on_header - note Retry-After (delta seconds) of the last response */
static size_t
hc_on_header(char *buf, size_t size, size_t nitems, void *arg)
{
	struct hc_xfer *x = arg;
	size_t          n = size * nitems, i;
	long            v = 0;

	if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		x->res->retry_after = -1; /* a new response (after a 1xx, say) */
		return n;
	}
	if (n < 12 || strncasecmp(buf, "retry-after:", 12) != 0)
		return n;
	for (i = 12; i < n && (buf[i] == ' ' || buf[i] == '\t'); i++)
		;
	if (i == n || buf[i] < '0' || buf[i] > '9')
		return n; /* an HTTP-date (or junk): no hint */
	for (; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		if (v < 100000)
			v = v * 10 + (buf[i] - '0');
	if (i < n && buf[i] != '\r' && buf[i] != '\n' && buf[i] != ' ' && buf[i] != '\t')
		return n; /* "5x", "1.5": not delta-seconds */
	x->res->retry_after = v;
	return n;
}

/* hc_on_progress - abort the transfer when the caller says stop */
static int
hc_on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
               curl_off_t ulnow)
{
	struct hc_xfer *x = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (x->req->cancelled(x->req->cancel_arg)) {
		x->res->cancelled = true;
		return 1;
	}
	return 0;
}

/* hc_headers_free - wipe the header lines (one may hold a key), free the list */
static void
hc_headers_free(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p != NULL; p = p->next)
		sodium_memzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

/*
 * hc_request - send req, fill res.  0 when a whole HTTP answer came (any
 * status), -1 when none did (res->error says why, res->status is 0, and
 * res->body holds what came before the failure).  res->body is never
 * NULL unless memory ran out.  Free with hc_res_free.
 */
int
hc_request(const struct hc_req *req, struct hc_res *res)
{
	struct hc_xfer     x = {.req = req, .res = res};
	struct curl_slist *hl = NULL, *t;
	CURL              *h = NULL;
	CURLcode           rc = CURLE_OUT_OF_MEMORY;
	char               errbuf[CURL_ERROR_SIZE] = "";

	memset(res, 0, sizeof(*res));
	res->retry_after = -1;
	x.max = req->max_body > 0 ? req->max_body : HC_BODY_MAX;
	for (const char *const *hp = req->headers; hp != NULL && *hp != NULL; hp++) {
		if ((t = curl_slist_append(hl, *hp)) == NULL)
			goto done;
		hl = t;
	}
	if ((h = curl_easy_init()) == NULL)
		goto done;
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	if (req->body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(req->body));
	}
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	if (req->connect_timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (req->user_agent != NULL)
		curl_easy_setopt(h, CURLOPT_USERAGENT, req->user_agent);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, hc_on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, hc_on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	if (req->cancelled != NULL) {
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, hc_on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
	}
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	if ((rc = curl_easy_perform(h)) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
done:
	if (rc == CURLE_OPERATION_TIMEDOUT)
		res->timed_out = true;
	if (res->too_big)
		snprintf(res->error, sizeof(res->error), "answer exceeds %zu bytes", x.max);
	else if (res->cancelled)
		snprintf(res->error, sizeof(res->error), "cancelled");
	else if (rc != CURLE_OK)
		snprintf(res->error, sizeof(res->error), "%s",
		         errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	if (h != NULL)
		curl_easy_cleanup(h);
	hc_headers_free(hl);
	if (res->body == NULL && (res->body = calloc(1, 1)) == NULL)
		return -1;
	return rc == CURLE_OK ? 0 : -1;
}

/* hc_res_free - NULL-safe; the result reads as empty afterwards */
void
hc_res_free(struct hc_res *res)
{
	if (res == NULL)
		return;
	free(res->body);
	res->body = NULL;
	res->len = 0;
}

/*
 * hc_header - "name: scheme value" ("name: value" when scheme is NULL),
 * malloc'd, for req->headers, for a line that holds a secret; NULL on
 * OOM.  Free with hc_header_free, which wipes it.
 */
char *
hc_header(const char *name, const char *scheme, const char *value)
{
	size_t n = strlen(name) + 2 + (scheme != NULL ? strlen(scheme) + 1 : 0) + strlen(value) + 1;
	char  *line = malloc(n);

	if (line != NULL)
		snprintf(line, n, "%s: %s%s%s", name, scheme != NULL ? scheme : "",
		         scheme != NULL ? " " : "", value);
	return line;
}

/* hc_header_free - wipe a line from hc_header, then free it; NULL-safe */
void
hc_header_free(char *line)
{
	if (line == NULL)
		return;
	sodium_memzero(line, strlen(line));
	free(line);
}
