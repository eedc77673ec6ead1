/*
 * loopback.c - the unit tests' loopback HTTP server (loopback.h)
 */
#include "tests/unit/loopback.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/log.h"

struct lb_server srv;
char             base_url[64];

/* script - queue an answer; takes ownership of body. */
void
script(int status, const char *headers, char *body, int delay_ms)
{
	pthread_mutex_lock(&srv.mu);
	assert_true(srv.nscript < SRV_MAX_SCRIPT);
	srv.script[srv.nscript++] = (struct srv_resp){status, headers, body, delay_ms};
	pthread_mutex_unlock(&srv.mu);
}

/* nreqs - requests the server has received so far. */
int
nreqs(void)
{
	int n;

	pthread_mutex_lock(&srv.mu);
	n = srv.nreqs;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

/* header - the value of header name in a request head, or NULL (static buffer). */
const char *
header(const char *head, const char *name)
{
	static char val[512];
	size_t      n = strlen(name);
	const char *p = strstr(head, "\r\n");

	while (p != NULL && p[2] != '\0') {
		const char *line = p + 2, *end = strstr(line, "\r\n");

		if (end == NULL)
			break;
		if ((size_t)(end - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
			const char *v = line + n + 1;

			while (*v == ' ')
				v++;
			snprintf(val, sizeof(val), "%.*s", (int)(end - v), v);
			return val;
		}
		p = end;
	}
	return NULL;
}

/* ================================================================ */
/* The server                                                       */
/* ================================================================ */

/* srv_read_request - one request from fd into *rq; 0/-1 */
static int
srv_read_request(int fd, struct srv_req *rq)
{
	char       *buf = malloc(SRV_MAX_HEAD + 1), *end, *cl;
	size_t      len = 0, hlen, want = 0;
	ssize_t     r;
	const char *v;

	if (buf == NULL)
		return -1;
	for (;;) {
		if (len == SRV_MAX_HEAD)
			goto fail;
		if ((r = recv(fd, buf + len, SRV_MAX_HEAD - len, 0)) <= 0)
			goto fail;
		len += (size_t)r;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	hlen = (size_t)(end - buf) + 4;
	if ((rq->head = strndup(buf, hlen)) == NULL)
		goto fail;
	if ((v = header(rq->head, "content-length")) != NULL)
		want = strtoul(v, NULL, 10);
	if (want > SRV_MAX_BODY || (cl = malloc(want + 1)) == NULL)
		goto fail;
	rq->body = cl;
	rq->body_len = len - hlen < want ? len - hlen : want;
	memcpy(cl, buf + hlen, rq->body_len);
	while (rq->body_len < want) {
		if ((r = recv(fd, cl + rq->body_len, want - rq->body_len, 0)) <= 0)
			goto fail;
		rq->body_len += (size_t)r;
	}
	cl[rq->body_len] = '\0';
	free(buf);
	return 0;
fail:
	free(buf);
	free(rq->head);
	free(rq->body);
	rq->head = rq->body = NULL;
	return -1;
}

/* srv_answer - wait the delay (unless the client goes away), then answer */
static void
srv_answer(int fd, const struct srv_resp *a)
{
	char          head[1024];
	struct pollfd pfd = {fd, POLLIN, 0};
	size_t        blen = a->body != NULL ? strlen(a->body) : 0;
	int           n;

	if (a->delay_ms > 0 && poll(&pfd, 1, a->delay_ms) != 0)
		return; /* the client hung up (timed out) first */
	n = snprintf(head, sizeof(head),
	             "HTTP/1.1 %d Scripted\r\nContent-Type: application/json\r\n"
	             "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
	             a->status, blen, a->headers != NULL ? a->headers : "");
	if (send(fd, head, (size_t)n, MSG_NOSIGNAL) < 0)
		return;
	for (size_t off = 0; off < blen;) {
		ssize_t w = send(fd, a->body + off, blen - off, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

/* srv_main - accept, read, record, answer, close; until srv.stop */
static void *
srv_main(void *arg)
{
	static const struct srv_resp none = {500, NULL, NULL, 0};

	(void)arg;
	while (!atomic_load(&srv.stop)) {
		struct pollfd   pfd = {srv.lfd, POLLIN, 0};
		struct srv_req  rq = {0};
		struct srv_resp a = none;
		struct timeval  tv = {2, 0};
		int             fd;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if ((fd = accept(srv.lfd, NULL, NULL)) < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (srv_read_request(fd, &rq) == 0) {
			pthread_mutex_lock(&srv.mu);
			if (srv.nreqs < SRV_MAX_REQS)
				srv.reqs[srv.nreqs++] = rq;
			else {
				free(rq.head);
				free(rq.body);
			}
			if (srv.next < srv.nscript)
				a = srv.script[srv.next++];
			/* Our own copy: the test may reset the script while we send. */
			a.body = a.body != NULL ? strdup(a.body) : NULL;
			pthread_mutex_unlock(&srv.mu);
			srv_answer(fd, &a);
			free(a.body);
		}
		close(fd);
	}
	return NULL;
}

/* srv_reset - forget requests and script (setup of every test) */
int
srv_reset(void **state)
{
	(void)state;
	pthread_mutex_lock(&srv.mu);
	for (int i = 0; i < srv.nreqs; i++) {
		free(srv.reqs[i].head);
		free(srv.reqs[i].body);
	}
	for (int i = 0; i < srv.nscript; i++)
		free(srv.script[i].body);
	srv.nreqs = srv.nscript = srv.next = 0;
	pthread_mutex_unlock(&srv.mu);
	return 0;
}

/* lb_start - listen on a free port of 127.0.0.1 and start the thread; the
 * test's log is named name */
int
lb_start(const char *name)
{
	struct sockaddr_in sa = {0};
	socklen_t          len = sizeof(sa);
	int                one = 1;

	/* A proxy from the environment must not see loopback traffic. */
	setenv("no_proxy", "127.0.0.1,localhost", 1);
	setenv("NO_PROXY", "127.0.0.1,localhost", 1);
	log_init(name, 0);
	pthread_mutex_init(&srv.mu, NULL);
	if ((srv.lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(srv.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(srv.lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(srv.lfd, (struct sockaddr *)&sa, &len) < 0 || listen(srv.lfd, 16) < 0)
		return -1;
	srv.port = ntohs(sa.sin_port);
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d/", srv.port);
	atomic_init(&srv.stop, false);
	return pthread_create(&srv.th, NULL, srv_main, NULL) == 0 ? 0 : -1;
}

/* lb_stop - stop and join the thread, free everything */
int
lb_stop(void)
{
	atomic_store(&srv.stop, true);
	pthread_join(srv.th, NULL);
	close(srv.lfd);
	srv_reset(NULL);
	pthread_mutex_destroy(&srv.mu);
	return 0;
}
