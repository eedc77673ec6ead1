/*
 * httpd.c - a small HTTP/1.1 server on nng streams
 *
 * Each connection has at most one I/O operation outstanding, so its state
 * is simple: reading, handling (on a worker), or writing.  A connection is
 * freed by a worker thread, never inside one of its own aio callbacks
 * (freeing an aio waits for its callback to finish).
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "common/log.h"

#define HTTP_DRAIN_MAX (8 * 1024 * 1024) /* read and drop at most this much */
#define HTTP_IDLE_MS 30000
#define HTTP_READ_MS 10000
#define HTTP_MAX_CONNS 2048

enum conn_state { CS_READ, CS_WORK, CS_WRITE, CS_DEAD };

struct conn {
	httpd          *srv;
	nng_stream     *s;
	nng_aio        *rx, *tx;
	char           *buf;
	size_t          len, cap;
	size_t          hdr_end; /* bytes of request line + headers, 0 = not yet */
	size_t          body_len;
	size_t          drain_left; /* oversized body still to discard */
	int             drain_status;
	bool            continue_sent, expect_continue;
	char           *out;
	size_t          out_len, out_off;
	bool            close_after;
	struct http_req req;
	char            remote[64];
	enum conn_state state;
	struct conn    *next, *prev; /* all connections */
	struct conn    *qnext;       /* work queue */
	bool            free_job;
};

struct httpd {
	struct httpd_ops     ops;
	nng_stream_listener *l;
	nng_aio             *accept_aio;
	int                  port;
	pthread_mutex_t      mu;
	pthread_cond_t       cv;
	struct conn         *conns;
	int                  nconns, busy;
	struct conn         *qhead, *qtail;
	pthread_t           *thr;
	atomic_bool          stopping, closing;
	bool                 workers_exit;
};

static void conn_read(struct conn *c);
static void conn_process(struct conn *c);

/* http_reason - the reason phrase of a status */
const char *
http_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Status";
	}
}

/* http_header - a request header by name (case-insensitive), or NULL */
const char *
http_header(const struct http_req *req, const char *name)
{
	for (int i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

/* http_res_header - add a response header line */
void
http_res_header(struct http_res *res, const char *name, const char *value)
{
	size_t n = strlen(res->headers);

	/* Refuse CR/LF in values: no header injection. */
	if (strpbrk(value, "\r\n") != NULL || strpbrk(name, "\r\n:") != NULL)
		return;
	snprintf(res->headers + n, sizeof(res->headers) - n, "%s: %s\r\n", name, value);
}

/* enqueue - hand a connection to the workers (a request, or to be freed) */
static void
enqueue(struct conn *c, bool free_job)
{
	httpd *h = c->srv;

	pthread_mutex_lock(&h->mu);
	c->free_job = free_job;
	c->qnext = NULL;
	if (h->qtail != NULL)
		h->qtail->qnext = c;
	else
		h->qhead = c;
	h->qtail = c;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

/* conn_close - close the stream; a worker frees the rest */
static void
conn_close(struct conn *c)
{
	c->state = CS_DEAD;
	nng_stream_close(c->s);
	enqueue(c, true);
}

/* conn_free - release everything (worker thread only) */
static void
conn_free(struct conn *c)
{
	httpd *h = c->srv;

	pthread_mutex_lock(&h->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&h->mu);
	nng_aio_free(c->rx);
	nng_aio_free(c->tx);
	nng_stream_free(c->s);
	pthread_mutex_lock(&h->mu);
	h->nconns--;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	free(c->buf);
	free(c->out);
	free(c);
}

/* conn_send - start writing c->out */
static void
conn_send(struct conn *c)
{
	nng_iov iov = {.iov_buf = c->out + c->out_off, .iov_len = c->out_len - c->out_off};

	c->state = CS_WRITE;
	nng_aio_set_iov(c->tx, 1, &iov);
	nng_aio_set_timeout(c->tx, HTTP_READ_MS);
	nng_stream_send(c->s, c->tx);
}

/* serialize - status line, headers and body into c->out */
static void
serialize(struct conn *c, struct http_res *res)
{
	char   head[1024];
	int    n;
	size_t blen = res->body != NULL ? res->len : 0;

	n = snprintf(head, sizeof(head),
	             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	             "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s%s\r\n",
	             res->status, http_reason(res->status),
	             res->content_type ? res->content_type : "application/json; charset=utf-8",
	             blen, res->headers, res->close ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		n = 0;
	free(c->out);
	c->out_len = (size_t)n + blen;
	c->out_off = 0;
	c->out = malloc(c->out_len ? c->out_len : 1);
	if (c->out == NULL) {
		c->out_len = 0;
		return;
	}
	memcpy(c->out, head, (size_t)n);
	if (blen > 0)
		memcpy(c->out + n, res->body, blen);
	c->close_after = res->close;
}

/* respond_error - a framing error, answered through the handler for its shape */
static void
respond_error(struct conn *c, int status)
{
	c->drain_status = status;
	c->state = CS_WORK;
	enqueue(c, false);
}

/* parse_head - request line and headers; returns 0 or an HTTP status */
static int
parse_head(struct conn *c)
{
	struct http_req *r = &c->req;
	char            *p = c->buf, *eol, *sp1, *sp2, *q;
	const char      *cl, *te;

	memset(r, 0, sizeof(*r));
	snprintf(r->remote, sizeof(r->remote), "%s", c->remote);
	c->buf[c->hdr_end - 2] = '\0'; /* the blank line's CRLF ends the block */
	if ((eol = strstr(p, "\r\n")) == NULL)
		return 400;
	*eol = '\0';
	if ((sp1 = strchr(p, ' ')) == NULL || (sp2 = strchr(sp1 + 1, ' ')) == NULL)
		return 400;
	*sp1 = '\0';
	*sp2 = '\0';
	if (strcmp(sp2 + 1, "HTTP/1.1") != 0 && strcmp(sp2 + 1, "HTTP/1.0") != 0)
		return 400;
	for (char *m = p; *m; m++)
		if (!isupper((unsigned char)*m))
			return 400;
	r->method = p;
	r->path = sp1 + 1;
	if (r->path[0] != '/')
		return 400;
	if ((q = strchr(sp1 + 1, '?')) != NULL) {
		*q = '\0';
		r->query = q + 1;
	} else
		r->query = "";
	if (strcmp(sp2 + 1, "HTTP/1.0") == 0)
		c->close_after = true;
	p = eol + 2;
	while (*p != '\0') {
		char *colon, *v, *e, *next;

		if ((eol = strstr(p, "\r\n")) != NULL) {
			*eol = '\0';
			next = eol + 2;
		} else
			next = p + strlen(p);
		if ((colon = strchr(p, ':')) == NULL || colon == p)
			return 400;
		if (r->nheaders == HTTP_MAX_HEADERS)
			return 431;
		*colon = '\0';
		for (char *k = p; *k; k++)
			if (isspace((unsigned char)*k))
				return 400;
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		e = v + strlen(v);
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		r->headers[r->nheaders].name = p;
		r->headers[r->nheaders].value = v;
		r->nheaders++;
		p = next;
	}
	if ((te = http_header(r, "Transfer-Encoding")) != NULL && strcasecmp(te, "identity") != 0)
		return 411;
	c->body_len = 0;
	if ((cl = http_header(r, "Content-Length")) != NULL) {
		char              *end;
		unsigned long long v;

		if (!isdigit((unsigned char)cl[0]))
			return 400;
		v = strtoull(cl, &end, 10);
		if (*end != '\0' || v > (unsigned long long)HTTP_DRAIN_MAX * 16)
			return v > HTTP_DRAIN_MAX ? 413 : 400;
		c->body_len = (size_t)v;
	}
	{
		const char *conn = http_header(r, "Connection");

		if (conn != NULL && strcasecmp(conn, "close") == 0)
			c->close_after = true;
	}
	{
		const char *ex = http_header(r, "Expect");

		c->expect_continue = ex != NULL && strcasecmp(ex, "100-continue") == 0;
	}
	if (c->body_len > c->srv->ops.max_body) {
		if (c->expect_continue || c->body_len > HTTP_DRAIN_MAX)
			return 413;
		/* Read and drop the body first, so the client reads our 413
		 * instead of a reset while it is still sending. */
		c->drain_left = c->body_len;
		c->drain_status = 413;
	}
	return 0;
}

/* conn_process - act on what has been read so far */
static void
conn_process(struct conn *c)
{
	if (atomic_load(&c->srv->closing)) {
		conn_close(c);
		return;
	}
	if (c->drain_left > 0) {
		size_t have = c->len - c->hdr_end;

		if (have >= c->drain_left) {
			c->len = c->hdr_end; /* drop the body bytes; keep nothing after */
			c->drain_left = 0;
			c->close_after = true;
			respond_error(c, c->drain_status);
			return;
		}
		c->drain_left -= have;
		c->len = c->hdr_end;
		conn_read(c);
		return;
	}
	if (c->hdr_end == 0) {
		char *end = NULL;

		if (c->len >= 4)
			end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (end == NULL) {
			if (c->len > HTTP_MAX_HEADER_BYTES) {
				c->close_after = true;
				respond_error(c, 431);
				return;
			}
			conn_read(c);
			return;
		}
		c->hdr_end = (size_t)(end - c->buf) + 4;
		if (c->hdr_end > HTTP_MAX_HEADER_BYTES) {
			c->close_after = true;
			respond_error(c, 431);
			return;
		}
		{
			int st = parse_head(c);

			if (st != 0) {
				c->close_after = true;
				respond_error(c, st);
				return;
			}
		}
		if (c->drain_left > 0) {
			conn_process(c);
			return;
		}
	}
	if (c->len - c->hdr_end < c->body_len) {
		if (c->expect_continue && !c->continue_sent && c->len == c->hdr_end) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

			c->continue_sent = true;
			free(c->out);
			c->out = strdup(cont);
			c->out_len = c->out ? sizeof(cont) - 1 : 0;
			c->out_off = 0;
			c->drain_status = 100; /* marks the interim write */
			conn_send(c);
			return;
		}
		conn_read(c);
		return;
	}
	c->req.body = c->buf + c->hdr_end;
	c->req.body_len = c->body_len;
	c->drain_status = 0;
	c->state = CS_WORK;
	enqueue(c, false);
}

/* rx_cb - bytes arrived (or the read failed) */
static void
rx_cb(void *arg)
{
	struct conn *c = arg;

	if (nng_aio_result(c->rx) != 0) {
		conn_close(c);
		return;
	}
	c->len += nng_aio_count(c->rx);
	conn_process(c);
}

/*
 * req_offsets - save (save=true) the parsed request's pointers as offsets
 * into the buffer, or restore them after the buffer moved.  A pointer
 * outside the buffer (the static "" of an absent query) is left alone.
 */
static void
req_offsets(struct conn *c, ptrdiff_t *off, bool save)
{
	const char **p[2 + 2 * HTTP_MAX_HEADERS + 1];
	int          n = 0;

	p[n++] = &c->req.method;
	p[n++] = &c->req.path;
	p[n++] = &c->req.query;
	for (int i = 0; i < c->req.nheaders; i++) {
		p[n++] = &c->req.headers[i].name;
		p[n++] = &c->req.headers[i].value;
	}
	for (int i = 0; i < n; i++) {
		if (save) {
			const char *q = *p[i];

			off[i] =
			    (q != NULL && q >= c->buf && q < c->buf + c->cap) ? q - c->buf : -1;
		} else if (off[i] >= 0)
			*p[i] = c->buf + off[i];
	}
}

/* conn_read - read more, growing the buffer up to what the request needs */
static void
conn_read(struct conn *c)
{
	size_t  want = c->hdr_end ? c->hdr_end + (c->drain_left ? 0 : c->body_len) : 0;
	size_t  room;
	nng_iov iov;

	if (c->drain_left > 0)
		want = c->hdr_end + (c->drain_left < 65536 ? c->drain_left : 65536);
	if (want < c->len + 4096)
		want = c->len + 4096;
	if (want > c->cap) {
		ptrdiff_t off[2 + 2 * HTTP_MAX_HEADERS + 1];
		char     *nb;

		/* The parsed request points into the buffer: carry it across. */
		if (c->hdr_end != 0)
			req_offsets(c, off, true);
		if ((nb = realloc(c->buf, want + 1)) == NULL) {
			conn_close(c);
			return;
		}
		c->buf = nb;
		c->cap = want;
		if (c->hdr_end != 0)
			req_offsets(c, off, false);
	}
	room = c->cap - c->len;
	if (c->drain_left > 0 && room > c->drain_left)
		room = c->drain_left;
	iov.iov_buf = c->buf + c->len;
	iov.iov_len = room;
	c->state = CS_READ;
	nng_aio_set_iov(c->rx, 1, &iov);
	nng_aio_set_timeout(c->rx, c->len == 0 ? HTTP_IDLE_MS : HTTP_READ_MS);
	nng_stream_recv(c->s, c->rx);
}

/* next_request - drop the answered request from the buffer, go on */
static void
next_request(struct conn *c)
{
	size_t used = c->hdr_end + c->body_len;

	if (used > c->len)
		used = c->len;
	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
	c->hdr_end = 0;
	c->body_len = 0;
	c->continue_sent = false;
	c->expect_continue = false;
	conn_process(c);
}

/* tx_cb - bytes written (or the write failed) */
static void
tx_cb(void *arg)
{
	struct conn *c = arg;

	if (nng_aio_result(c->tx) != 0) {
		conn_close(c);
		return;
	}
	c->out_off += nng_aio_count(c->tx);
	if (c->out_off < c->out_len) {
		conn_send(c);
		return;
	}
	if (c->drain_status == 100) { /* the interim 100 Continue went out */
		c->drain_status = 0;
		conn_read(c);
		return;
	}
	if (c->close_after || atomic_load(&c->srv->stopping)) {
		conn_close(c);
		return;
	}
	next_request(c);
}

/* remote_addr - the peer's address as text */
static void
remote_addr(nng_stream *s, char *out, size_t cap)
{
	nng_sockaddr sa;

	snprintf(out, cap, "unknown");
	if (nng_stream_get_addr(s, NNG_OPT_REMADDR, &sa) != 0)
		return;
	if (sa.s_family == NNG_AF_INET)
		inet_ntop(AF_INET, &sa.s_in.sa_addr, out, (socklen_t)cap);
	else if (sa.s_family == NNG_AF_INET6)
		inet_ntop(AF_INET6, sa.s_in6.sa_addr, out, (socklen_t)cap);
}

/* accept_cb - a new connection */
static void
accept_cb(void *arg)
{
	httpd       *h = arg;
	nng_stream  *s;
	struct conn *c;

	if (nng_aio_result(h->accept_aio) != 0) {
		if (!atomic_load(&h->stopping))
			nng_stream_listener_accept(h->l, h->accept_aio);
		return;
	}
	s = nng_aio_get_output(h->accept_aio, 0);
	if (atomic_load(&h->stopping)) {
		nng_stream_free(s);
		return;
	}
	nng_stream_listener_accept(h->l, h->accept_aio);
	nng_stream_set_bool(s, NNG_OPT_TCP_NODELAY, true);
	if ((c = calloc(1, sizeof(*c))) == NULL || nng_aio_alloc(&c->rx, rx_cb, c) != 0 ||
	    nng_aio_alloc(&c->tx, tx_cb, c) != 0) {
		if (c != NULL) {
			nng_aio_free(c->rx);
			free(c);
		}
		nng_stream_free(s);
		return;
	}
	c->srv = h;
	c->s = s;
	remote_addr(s, c->remote, sizeof(c->remote));
	pthread_mutex_lock(&h->mu);
	if (h->nconns >= HTTP_MAX_CONNS) {
		pthread_mutex_unlock(&h->mu);
		nng_aio_free(c->rx);
		nng_aio_free(c->tx);
		nng_stream_free(s);
		free(c);
		return;
	}
	c->next = h->conns;
	if (h->conns != NULL)
		h->conns->prev = c;
	h->conns = c;
	h->nconns++;
	pthread_mutex_unlock(&h->mu);
	conn_read(c);
}

/* handle - run the handler for one request (or framing error) */
static void
handle(httpd *h, void *state, struct conn *c)
{
	struct http_res res = {.status = 200};

	if (c->drain_status != 0) {
		struct http_req err = {0};

		snprintf(err.remote, sizeof(err.remote), "%s", c->remote);
		res.status = c->drain_status;
		h->ops.handle(h->ops.arg, state, &err, &res);
		res.close = true;
	} else {
		h->ops.handle(h->ops.arg, state, &c->req, &res);
		if (c->close_after || atomic_load(&h->stopping))
			res.close = true;
	}
	serialize(c, &res);
	free(res.body);
	if (c->out == NULL) {
		conn_close(c);
		return;
	}
	conn_send(c);
}

/* worker_main - take jobs off the queue */
static void *
worker_main(void *arg)
{
	httpd *h = arg;
	void  *state;
	int    idx;

	pthread_mutex_lock(&h->mu);
	idx = h->busy++;
	pthread_mutex_unlock(&h->mu);
	state = h->ops.worker_init != NULL ? h->ops.worker_init(h->ops.arg, idx) : NULL;
	pthread_mutex_lock(&h->mu);
	h->busy--;
	for (;;) {
		struct conn *c;

		while (h->qhead == NULL && !h->workers_exit)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->qhead == NULL)
			break;
		c = h->qhead;
		h->qhead = c->qnext;
		if (h->qhead == NULL)
			h->qtail = NULL;
		if (c->free_job) {
			pthread_mutex_unlock(&h->mu);
			conn_free(c);
			pthread_mutex_lock(&h->mu);
			continue;
		}
		h->busy++;
		pthread_mutex_unlock(&h->mu);
		handle(h, state, c);
		pthread_mutex_lock(&h->mu);
		h->busy--;
		pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	if (h->ops.worker_fini != NULL)
		h->ops.worker_fini(h->ops.arg, state);
	return NULL;
}

/* httpd_start - listen on addr:port (0 = any free port) and serve */
httpd *
httpd_start(const char *addr, int port, const struct httpd_ops *ops)
{
	httpd *h = calloc(1, sizeof(*h));
	char   url[128];
	int    rv;

	if (h == NULL)
		return NULL;
	h->ops = *ops;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	snprintf(url, sizeof(url), "tcp://%s:%d", addr, port);
	if ((rv = nng_stream_listener_alloc(&h->l, url)) != 0 ||
	    (rv = nng_stream_listener_listen(h->l)) != 0) {
		log_error("http: listen %s: %s", url, nng_strerror(rv));
		nng_stream_listener_free(h->l);
		free(h);
		return NULL;
	}
	nng_stream_listener_get_int(h->l, NNG_OPT_TCP_BOUND_PORT, &h->port);
	if ((h->thr = calloc((size_t)ops->nworkers, sizeof(pthread_t))) == NULL ||
	    nng_aio_alloc(&h->accept_aio, accept_cb, h) != 0) {
		nng_stream_listener_free(h->l);
		free(h->thr);
		free(h);
		return NULL;
	}
	for (int i = 0; i < ops->nworkers; i++)
		pthread_create(&h->thr[i], NULL, worker_main, h);
	nng_stream_listener_accept(h->l, h->accept_aio);
	return h;
}

/* httpd_port - the port actually bound */
int
httpd_port(const httpd *h)
{
	return h->port;
}

/*
 * httpd_stop - stop accepting, let requests being handled finish and be
 * answered (within deadline_ms), then close every connection.
 */
void
httpd_stop(httpd *h, int deadline_ms)
{
	struct timespec ts;

	if (h == NULL)
		return;
	atomic_store(&h->stopping, true);
	nng_stream_listener_close(h->l);
	nng_aio_stop(h->accept_aio);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += deadline_ms / 1000;
	ts.tv_nsec += (long)(deadline_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->mu);
	/* Wait for handlers to finish and their responses to be written. */
	for (;;) {
		bool writing = false;

		for (struct conn *c = h->conns; c != NULL; c = c->next)
			if (c->state == CS_WORK || c->state == CS_WRITE)
				writing = true;
		if ((!writing && h->busy == 0) || pthread_cond_timedwait(&h->cv, &h->mu, &ts) != 0)
			break;
	}
	atomic_store(&h->closing, true);
	for (struct conn *c = h->conns; c != NULL; c = c->next)
		nng_stream_close(c->s);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	while (h->nconns > 0)
		if (pthread_cond_timedwait(&h->cv, &h->mu, &ts) != 0)
			break;
	h->workers_exit = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	for (int i = 0; i < h->ops.nworkers; i++)
		pthread_join(h->thr[i], NULL);
	nng_aio_free(h->accept_aio);
	nng_stream_listener_free(h->l);
	free(h->thr);
	free(h);
}
