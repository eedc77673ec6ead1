/*
 * http.c - one HTTP request through libcurl, with a deadline and a bounded
 * answer
 *
 * Every provider call goes through act_http: a fresh easy handle (calls
 * are few, and a fresh handle carries no state from one provider to the
 * next), a total timeout, no redirects, no signals, and an answer body
 * cut off at ACT_BODY_MAX.  Retry-After (seconds) is read from the head.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "actions/act.h"

/* on_body - append to the answer, refusing more than ACT_BODY_MAX */
static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct act_http *res = arg;
	size_t           len = size * n;
	char            *nb;

	if (res->len + len > ACT_BODY_MAX)
		return 0; /* libcurl stops with CURLE_WRITE_ERROR */
	if ((nb = realloc(res->body, res->len + len + 1)) == NULL)
		return 0;
	res->body = nb;
	memcpy(res->body + res->len, p, len);
	res->len += len;
	res->body[res->len] = '\0';
	return len;
}

/* on_header - pick Retry-After out of the head */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct act_http  *res = arg;
	size_t            len = size * n;
	static const char name[] = "retry-after:";

	if (len > sizeof(name) && strncasecmp(p, name, sizeof(name) - 1) == 0) {
		char buf[32];
		long s;

		snprintf(buf, sizeof(buf), "%.*s", (int)(len - (sizeof(name) - 1)),
		         p + sizeof(name) - 1);
		s = strtol(buf, NULL, 10);
		if (s > 0 && s < 3600)
			res->retry_after_ms = (int)s * 1000;
	}
	return len;
}

/*
 * act_http - method url with headers (NULL-terminated "Name: value"
 * lines) and body (NULL for none).  0 when an HTTP answer came (any
 * status), -1 when none did (res->error says why).  Free with
 * act_http_free.
 */
int
act_http(const char *method, const char *url, const char *const *headers, const char *body,
         int timeout_ms, struct act_http *res)
{
	CURL              *h = curl_easy_init();
	struct curl_slist *hl = NULL;
	CURLcode           rc;

	memset(res, 0, sizeof(*res));
	if (h == NULL) {
		snprintf(res->error, sizeof(res->error), "libcurl could not start");
		return -1;
	}
	for (const char *const *hp = headers; hp != NULL && *hp != NULL; hp++)
		hl = curl_slist_append(hl, *hp);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	if (body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, res);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, res);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "clubos-actions/1");
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
	else
		snprintf(res->error, sizeof(res->error), "%s", curl_easy_strerror(rc));
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	if (res->body == NULL && (res->body = calloc(1, 1)) == NULL)
		return -1;
	return rc == CURLE_OK ? 0 : -1;
}

/* act_http_free - NULL-safe */
void
act_http_free(struct act_http *res)
{
	if (res == NULL)
		return;
	free(res->body);
	res->body = NULL;
	res->len = 0;
}
