/*
 * httpd.c - a small HTTP/1.1 server on nng streams
 *
 * Four parts: the parser (http_parse, a pure function over bytes), the
 * connections (a state machine on nng aio callbacks that never block), the
 * event streams, and the workers with the bounded queue between them.
 *
 * A connection has one read or one write outstanding, with one exception:
 * while its request waits for a worker (and while the handler runs), a
 * "watch" read may be outstanding beside the write, so that a client that
 * leaves is noticed and its request dropped rather than handled.  The
 * connection's mutex covers that hand-off (watching, write_done, gone).
 * A connection is freed by a worker thread, never inside one of its own
 * aio callbacks (freeing an aio waits for its callback to finish).
 *
 * A response marked as an event stream leaves the workers once its head is
 * queued: the connection is then written by httpd_stream_send() from any
 * thread and read only to notice the client leaving ("event streams").
 */
#include "gateway/httpd.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>
#include <sodium.h>

#include "common/log.h"
#include "common/util.h"

#define HTTP_DRAIN_MAX (8 * 1024 * 1024) /* read and drop at most this much */
#define HTTP_WRITE_MS 10000              /* a client that does not read */
#define HTTP_RETRY_AFTER "1"             /* seconds, on every 503 we send */
#define HTTP_REFUSING_MAX 256            /* refused connections being answered */
#define HTTP_LINGER_MS 1000              /* reading what follows an error, at most */
#define HTTP_LINGER_MAX (64 * 1024)      /* and this much of it */
#define HTTP_STREAM_BUF_MAX (256 * 1024) /* an event stream's unsent bytes, at most */

/* Defaults of the limits in struct httpd_ops. */
#define DEF_HEADER_TIMEOUT_MS 10000
#define DEF_BODY_TIMEOUT_MS 30000
#define DEF_IDLE_TIMEOUT_MS 30000
#define DEF_MAX_CONNS 2048
#define DEF_MAX_CONNS_PER_ADDR 128
#define DEF_QUEUE_MAX 256
#define DEF_QUEUE_WAIT_MS 5000
#define DEF_MAX_STREAMS 64

enum conn_state { CS_READ, CS_QUEUED, CS_WORK, CS_WRITE, CS_STREAM, CS_DEAD };

/* What a read is waiting for, which says which deadline applies. */
enum read_phase { PH_IDLE, PH_HEAD, PH_BODY, PH_LINGER };

struct conn {
	httpd            *srv;
	nng_stream       *s;
	nng_aio          *rx, *tx;
	pthread_mutex_t   mu; /* watching, write_done, gone */
	char             *buf;
	size_t            len, cap;
	struct http_frame fr;
	bool              have_head;
	size_t            drain_left; /* oversized body still to discard */
	int               drain_status;
	bool              continue_sent, interim;
	char             *out;
	size_t            out_len, out_off;
	bool              close_after;
	bool              linger;      /* read and drop what follows before closing */
	size_t            linger_left; /* bytes still to drop */
	struct http_req   req;
	enum read_phase   phase;
	nng_time          deadline;   /* of the current read phase */
	nng_time          queued_at;  /* when the request joined the queue */
	bool              watching;   /* a watch read is outstanding */
	bool              write_done; /* the response went out during a watch */
	bool              gone;       /* the watch saw the client leave */
	bool              counted;    /* holds a place under the connection caps */
	enum conn_state   state;
	struct conn      *next, *prev; /* all connections */
	struct conn      *qnext;       /* work queue */
	bool              free_job;
	/* An event stream (under mu): the bytes waiting for the write in
	 * flight, whether a read or a write is outstanding, and whether it is
	 * closing (then the last of the two to finish closes it). */
	bool         streaming, s_rx_busy, s_tx_busy, s_closing;
	char        *sbuf;
	size_t       sbuf_len;
	long long    stag;          /* res->stream_tag */
	struct conn *snext, *sprev; /* the server's streams (h->mu) */
};

/* One address's open connections; n == 0 is an empty slot. */
struct addr_slot {
	char     addr[64];
	unsigned n;
};

struct httpd {
	struct httpd_ops     ops; /* limits filled in with the defaults */
	nng_stream_listener *l;
	nng_aio             *accept_aio;
	int                  port;
	pthread_mutex_t      mu;
	pthread_cond_t       cv;
	struct conn         *conns;
	int                  nconns, nrefusing, busy, idle;
	struct conn         *qhead, *qtail;
	int                  qlen; /* requests queued (free jobs not counted) */
	struct conn         *streams;
	atomic_int           nstreams; /* changed under mu; read without it (httpd_streams_open) */
	struct addr_slot    *addrs;
	size_t               naddrs; /* a power of two, over twice max_conns */
	unsigned char        addr_key[crypto_shorthash_KEYBYTES];
	pthread_t           *thr;
	atomic_bool          stopping, closing;
	bool                 workers_exit;
	struct {
		atomic_ullong handled, refused_global, refused_addr, shed_full, shed_late,
		    shed_gone, timeout_header, timeout_body, bad_framing, streams_refused,
		    streams_dropped;
	} st;
};

static void conn_read(struct conn *c);
static void conn_process(struct conn *c);
static void stream_rx(struct conn *c, int rv);
static void stream_tx(struct conn *c, int rv);

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
	case 304:
		return "Not Modified";
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
	case 505:
		return "HTTP Version Not Supported";
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

/* ---------------------------------------------------------------- parser */

/*
 * Character classes of RFC 9110 and RFC 3986, one table: a byte's bits say
 * which productions it may appear in.
 */
enum {
	CH_TCHAR = 1 << 0,  /* token */
	CH_TARGET = 1 << 1, /* request-target: pchar, '/', '?' ('%' checked apart) */
	CH_HOST = 1 << 2,   /* Host: reg-name, IP literal, port */
};

static unsigned char  ch_class[256];
static pthread_once_t ch_once = PTHREAD_ONCE_INIT;

/* ch_init - fill the class table once */
static void
ch_init(void)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";
	static const char target[] = "-._~!$&'()*+,;=:@/?%";
	static const char host[] = "-._~!$&'()*+,;=:[]%";

	for (int c = 0; c < 256; c++) {
		unsigned char k = 0;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			k = CH_TCHAR | CH_TARGET | CH_HOST;
		if (c != 0 && strchr(tchar, c) != NULL)
			k |= CH_TCHAR;
		if (c != 0 && strchr(target, c) != NULL)
			k |= CH_TARGET;
		if (c != 0 && strchr(host, c) != NULL)
			k |= CH_HOST;
		ch_class[c] = k;
	}
}

/* is_token - a non-empty run of tchar */
static bool
is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((ch_class[(unsigned char)s[i]] & CH_TCHAR) == 0)
			return false;
	return true;
}

/* hexval - a hex digit's value, or -1 */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* valid_target - the bytes of an origin-form path and query */
static bool
valid_target(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((ch_class[(unsigned char)*s] & CH_TARGET) == 0)
			return false;
		if (*s == '%' && (hexval(s[1]) < 0 || hexval(s[2]) < 0))
			return false;
	}
	return true;
}

/*
 * list_each - call fn on each element of a comma-separated header value
 * (RFC 9110 5.6.1), trimmed of white space; empty elements are skipped.
 * Stops at the first non-zero return and hands it back.
 */
static int
list_each(const char *v, int (*fn)(const char *el, size_t n, void *arg), void *arg)
{
	while (*v != '\0') {
		const char *e = v + strcspn(v, ",");
		const char *a = v, *b = e;
		int         rc;

		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (b > a && (rc = fn(a, (size_t)(b - a), arg)) != 0)
			return rc;
		v = *e == ',' ? e + 1 : e;
	}
	return 0;
}

struct te_seen {
	int  n;
	bool last_chunked;
};

/* te_coding - one transfer coding: remember whether the last one is chunked */
static int
te_coding(const char *el, size_t n, void *arg)
{
	struct te_seen *t = arg;

	t->n++;
	t->last_chunked = n == 7 && strncasecmp(el, "chunked", 7) == 0;
	return 0;
}

/* conn_option - one Connection option: 1 for close, 2 for keep-alive */
static int
conn_option(const char *el, size_t n, void *arg)
{
	int *opt = arg;

	if (n == 5 && strncasecmp(el, "close", 5) == 0)
		*opt |= 1;
	else if (n == 10 && strncasecmp(el, "keep-alive", 10) == 0)
		*opt |= 2;
	return 0;
}

/*
 * scan_head - find the end of the head, checking line endings on the way:
 * every line ends in CRLF, a CR anywhere else or a bare LF is refused
 * (RFC 9112 2.2 allows either; refusing is what keeps a proxy and us from
 * disagreeing on where a line ends).  Empty lines before the request line
 * are skipped.  Returns 0 with f->head_len set, HTTP_PARSE_MORE, or a status.
 */
static int
scan_head(const char *buf, size_t len, struct http_frame *f)
{
	size_t i = f->scanned;

	while (i < len) {
		char c = buf[i];

		if (i >= HTTP_MAX_HEADER_BYTES)
			return 431;
		if (c == '\n')
			return 400;
		if (c != '\r') {
			i++;
			continue;
		}
		if (i + 1 == len)
			break; /* the LF has not come yet */
		if (buf[i + 1] != '\n')
			return 400;
		if (i == f->line_start) { /* an empty line */
			if (f->line_start == f->start) {
				f->start = f->line_start = i + 2;
				i += 2;
				continue;
			}
			f->head_len = i + 2;
			f->scanned = i + 2;
			return 0;
		}
		i += 2;
		f->line_start = i;
	}
	f->scanned = i;
	return len > HTTP_MAX_HEADER_BYTES ? 431 : HTTP_PARSE_MORE;
}

/*
 * parse_request_line - method SP request-target SP HTTP-version, in place.
 * Accepts origin-form, absolute-form (http and https) and the asterisk-form
 * of OPTIONS; the authority-form is only for CONNECT, which we do not do.
 */
static int
parse_request_line(char *line, struct http_req *r, struct http_frame *f)
{
	char  *sp1, *sp2, *target, *ver, *q;
	size_t n;

	if ((sp1 = strchr(line, ' ')) == NULL || (sp2 = strchr(sp1 + 1, ' ')) == NULL)
		return 400;
	*sp1 = '\0';
	*sp2 = '\0';
	target = sp1 + 1;
	ver = sp2 + 1;
	if (!is_token(line, (size_t)(sp1 - line)) || *target == '\0')
		return 400;
	if (strncmp(ver, "HTTP/", 5) != 0 || !isdigit((unsigned char)ver[5]) || ver[6] != '.' ||
	    !isdigit((unsigned char)ver[7]) || ver[8] != '\0')
		return 400;
	if (ver[5] != '1')
		return 505;
	f->http10 = ver[7] == '0';
	r->method = line;
	if (strcmp(target, "*") == 0) {
		if (strcmp(line, "OPTIONS") != 0)
			return 400;
		r->path = target;
		r->query = "";
		return 0;
	}
	n = strncasecmp(target, "http://", 7) == 0    ? 7
	    : strncasecmp(target, "https://", 8) == 0 ? 8
	                                              : 0;
	if (n > 0) {
		char *p = target + n + strcspn(target + n, "/?");

		for (char *a = target + n; a < p; a++)
			if ((ch_class[(unsigned char)*a] & CH_HOST) == 0)
				return 400;
		target = p;
	} else if (*target != '/')
		return 400;
	if (!valid_target(target))
		return 400;
	if ((q = strchr(target, '?')) != NULL) {
		r->query = q + 1;
		if (q == target) {
			r->path = "/";
			return 0;
		}
		*q = '\0';
	} else
		r->query = "";
	r->path = *target != '\0' ? target : "/";
	return 0;
}

/* parse_field - one "name: value" line, in place */
static int
parse_field(char *line, struct http_req *r)
{
	char *colon, *v, *e;

	if (*line == ' ' || *line == '\t')
		return 400; /* obs-fold, or white space before the first field */
	if ((colon = strchr(line, ':')) == NULL || !is_token(line, (size_t)(colon - line)))
		return 400; /* no name, or white space or a control before the colon */
	if (r->nheaders == HTTP_MAX_HEADERS)
		return 431;
	*colon = '\0';
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	for (e = v; *e != '\0'; e++) {
		unsigned char c = (unsigned char)*e;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 400;
	}
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	r->headers[r->nheaders].name = line;
	r->headers[r->nheaders].value = v;
	r->nheaders++;
	return 0;
}

/*
 * frame_body - what the headers say about the body and the connection
 * (RFC 9112 6 and 9.3): the one length, the codings we refuse, Host.
 */
static int
frame_body(const struct http_req *r, struct http_frame *f)
{
	const char    *cl = NULL;
	int            ncl = 0, nhost = 0, opt = 0;
	struct te_seen te = {0};

	f->expect_continue = false;
	for (int i = 0; i < r->nheaders; i++) {
		const char *name = r->headers[i].name, *v = r->headers[i].value;

		if (strcasecmp(name, "Content-Length") == 0) {
			cl = v;
			ncl++;
		} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
			int before = te.n;

			list_each(v, te_coding, &te);
			if (te.n == before)
				return 400; /* an empty coding list */
		} else if (strcasecmp(name, "Host") == 0) {
			nhost++;
			for (const char *p = v; *p != '\0'; p++)
				if ((ch_class[(unsigned char)*p] & CH_HOST) == 0)
					return 400;
		} else if (strcasecmp(name, "Connection") == 0)
			list_each(v, conn_option, &opt);
		else if (strcasecmp(name, "Expect") == 0 && !f->http10 &&
		         strcasecmp(v, "100-continue") == 0)
			f->expect_continue = true;
	}
	if (nhost > 1 || (nhost == 0 && !f->http10))
		return 400;
	if (te.n > 0) {
		/* Either framing could be the one a proxy in front used. */
		if (ncl > 0 || f->http10)
			return 400;
		if (!te.last_chunked)
			return 400; /* no way to tell where the body ends */
		return te.n == 1 ? 411 : 501;
	}
	if (ncl > 1)
		return 400; /* even when they agree: a proxy may have kept the other */
	f->body_len = 0;
	if (cl != NULL) {
		size_t v = 0;

		if (*cl == '\0')
			return 400;
		for (const char *p = cl; *p != '\0'; p++) {
			if (!isdigit((unsigned char)*p))
				return 400;
			if (v > HTTP_MAX_CONTENT_LENGTH)
				continue; /* keep checking the digits; the answer is 413 */
			v = v * 10 + (size_t)(*p - '0');
		}
		if (v > HTTP_MAX_CONTENT_LENGTH)
			return 413;
		f->body_len = v;
	}
	f->keep_alive = (opt & 1) == 0 && (!f->http10 || (opt & 2) != 0);
	return 0;
}

/*
 * http_parse - the head of one request, from the bytes in buf[0..len).
 *
 * Returns 0 when the head is complete: req holds pointers into buf (which
 * is changed in place: NULs end the strings) and f the framing: the head
 * is f->head_len bytes and f->body_len bytes of body follow.  Returns
 * HTTP_PARSE_MORE when the head is not complete yet (call again with the
 * same f and more bytes), or an HTTP status for a request to refuse; then
 * the connection must be closed after the answer.  Pure: no I/O, no
 * allocation, no state outside its arguments.
 */
int
http_parse(char *buf, size_t len, struct http_req *req, struct http_frame *f)
{
	char *line, *end;
	int   st;

	pthread_once(&ch_once, ch_init);
	if ((st = scan_head(buf, len, f)) != 0)
		return st;
	memset(req, 0, offsetof(struct http_req, remote));
	/* The head is now known to be CRLF-terminated lines: make them strings. */
	line = buf + f->start;
	end = buf + f->head_len - 2;
	for (char *p = line; p < end; p++)
		if (*p == '\0')
			return 400; /* a NUL must not end a string early */
	for (bool first = true; line < end; first = false) {
		char *eol = memchr(line, '\r', (size_t)(end - line));

		*eol = '\0';
		for (const char *p = line; first && p < eol; p++)
			if ((unsigned char)*p < 0x21 && *p != ' ')
				return 400; /* a control in the request line */
		st = first ? parse_request_line(line, req, f) : parse_field(line, req);
		if (st != 0)
			return st;
		line = eol + 2;
	}
	return frame_body(req, f);
}

/* ------------------------------------------------------- address table */

/*
 * Open connections per client address, for the per-address cap: open
 * addressing with linear probing, keyed by SipHash with a random key (the
 * keys come from outside), removal by shifting back (no tombstones).  The
 * table has over twice as many slots as there may be connections, so it
 * never fills.  Under h->mu.
 */

/* addr_home - the slot an address hashes to */
static size_t
addr_home(const httpd *h, const char *a)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t      v;

	crypto_shorthash(out, (const unsigned char *)a, strlen(a), h->addr_key);
	memcpy(&v, out, sizeof(v));
	return (size_t)v & (h->naddrs - 1);
}

/* addr_find - the slot holding a, or the empty slot where it would go */
static struct addr_slot *
addr_find(const httpd *h, const char *a)
{
	size_t i = addr_home(h, a);

	while (h->addrs[i].n != 0 && strcmp(h->addrs[i].addr, a) != 0)
		i = (i + 1) & (h->naddrs - 1);
	return &h->addrs[i];
}

/* addr_release - one connection fewer from a */
static void
addr_release(httpd *h, const char *a)
{
	struct addr_slot *s = addr_find(h, a);
	size_t            mask = h->naddrs - 1, i, j;

	if (s->n == 0 || --s->n > 0)
		return;
	/* Close the gap: move back every later entry of the run that would
	 * no longer be found past the empty slot. */
	i = j = (size_t)(s - h->addrs);
	for (;;) {
		size_t k;

		j = (j + 1) & mask;
		if (h->addrs[j].n == 0)
			break;
		k = addr_home(h, h->addrs[j].addr);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue; /* its home lies after the gap: it stays */
		h->addrs[i] = h->addrs[j];
		h->addrs[j].n = 0;
		i = j;
	}
}

/* ---------------------------------------------------------- connections */

/* queue_push - append a job to the workers' queue (h->mu held) */
static void
queue_push(httpd *h, struct conn *c, bool free_job)
{
	c->free_job = free_job;
	c->qnext = NULL;
	if (h->qtail != NULL)
		h->qtail->qnext = c;
	else
		h->qhead = c;
	h->qtail = c;
	pthread_cond_signal(&h->cv);
}

/* conn_close - close the stream; a worker frees the rest.  Nothing of the
 * connection may be outstanding. */
static void
conn_close(struct conn *c)
{
	httpd *h = c->srv;

	c->state = CS_DEAD;
	nng_stream_close(c->s);
	pthread_mutex_lock(&h->mu);
	queue_push(h, c, true);
	pthread_mutex_unlock(&h->mu);
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
	if (c->counted) {
		h->nconns--;
		addr_release(h, c->req.remote);
	} else
		h->nrefusing--;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_mutex_destroy(&c->mu);
	free(c->buf);
	free(c->out);
	free(c->sbuf);
	free(c);
}

/* conn_send - start writing c->out */
static void
conn_send(struct conn *c)
{
	nng_iov iov = {.iov_buf = c->out + c->out_off, .iov_len = c->out_len - c->out_off};

	c->state = CS_WRITE;
	nng_aio_set_iov(c->tx, 1, &iov);
	nng_aio_set_timeout(c->tx, HTTP_WRITE_MS);
	nng_stream_send(c->s, c->tx);
}

/* serialize - status line, headers and body into c->out */
static void
serialize(struct conn *c, struct http_res *res)
{
	char   head[2048], len[48];
	int    n;
	size_t blen = res->body != NULL ? res->len : 0;

	/* A handler may set its own caching (static files revalidate); the
	 * default is no-store.  A 304 has no body, and no length of one. */
	if (res->status == 304)
		blen = 0;
	/* An event stream has no length: it ends when the connection does. */
	if (res->stream)
		snprintf(len, sizeof(len), "X-Accel-Buffering: no\r\n");
	else
		snprintf(len, sizeof(len), "Content-Length: %zu\r\n", blen);
	n = snprintf(head, sizeof(head),
	             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%s%s"
	             "X-Content-Type-Options: nosniff\r\n%s%s\r\n",
	             res->status, http_reason(res->status),
	             res->content_type ? res->content_type : "application/json; charset=utf-8",
	             res->status == 304 ? "" : len,
	             strstr(res->headers, "Cache-Control:") != NULL ? ""
	                                                            : "Cache-Control: no-store\r\n",
	             res->headers, res->close ? "Connection: close\r\n" : "");
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

/* respond - send a response; takes its body */
static void
respond(struct conn *c, struct http_res *res)
{
	serialize(c, res);
	free(res->body);
	if (c->out == NULL || c->out_len == 0) {
		conn_close(c);
		return;
	}
	conn_send(c);
}

/*
 * respond_status - answer what the server answers itself (a framing error,
 * a timeout, shed load) through the handler for its shape, without a
 * worker, and close the connection after it.
 */
static void
respond_status(struct conn *c, int status)
{
	httpd          *h = c->srv;
	struct http_req err;
	struct http_res res = {.status = status};

	memset(&err, 0, sizeof(err));
	memcpy(err.remote, c->req.remote, sizeof(err.remote));
	if (status == 503)
		http_res_header(&res, "Retry-After", HTTP_RETRY_AFTER);
	h->ops.handle(h->ops.arg, NULL, &err, &res);
	res.close = true;
	c->drain_left = 0;
	c->linger = true;
	respond(c, &res);
}

/* watch_start - read into the spare room while the request waits, to see
 * the client leave (c->mu held); false when there is no room */
static bool
watch_start(struct conn *c)
{
	nng_iov iov;

	if (c->cap <= c->len || atomic_load(&c->srv->closing))
		return false;
	iov.iov_buf = c->buf + c->len;
	iov.iov_len = c->cap - c->len;
	nng_aio_set_iov(c->rx, 1, &iov);
	nng_aio_set_timeout(c->rx, NNG_DURATION_INFINITE);
	nng_stream_recv(c->s, c->rx);
	return true;
}

/* enqueue_request - a complete request to the workers, or 503 when the
 * queue is full */
static void
enqueue_request(struct conn *c)
{
	httpd *h = c->srv;

	pthread_mutex_lock(&h->mu);
	if (h->qlen >= h->ops.queue_max) {
		pthread_mutex_unlock(&h->mu);
		atomic_fetch_add(&h->st.shed_full, 1);
		respond_status(c, 503);
		return;
	}
	c->state = CS_QUEUED;
	c->queued_at = nng_clock();
	/* Watch only when the request will wait: an idle worker takes it at
	 * once, and the read would cost a system call or two for nothing. */
	if (h->idle <= h->qlen) {
		pthread_mutex_lock(&c->mu);
		c->watching = watch_start(c);
		pthread_mutex_unlock(&c->mu);
	}
	h->qlen++;
	queue_push(h, c, false);
	pthread_mutex_unlock(&h->mu);
}

/* read_timeout - a read phase ran out of time */
static void
read_timeout(struct conn *c)
{
	if (c->phase == PH_IDLE || (c->phase == PH_HEAD && c->len == 0)) {
		conn_close(c); /* nothing was asked: nothing to answer */
		return;
	}
	atomic_fetch_add(
	    c->phase == PH_HEAD ? &c->srv->st.timeout_header : &c->srv->st.timeout_body, 1);
	respond_status(c, 408);
}

/* set_phase - what the next reads wait for, and until when */
static void
set_phase(struct conn *c, enum read_phase ph)
{
	const struct httpd_ops *o = &c->srv->ops;
	int                     ms = ph == PH_IDLE   ? o->idle_timeout_ms
	                             : ph == PH_HEAD ? o->header_timeout_ms
	                                             : o->body_timeout_ms;

	c->phase = ph;
	c->deadline = nng_clock() + (nng_time)ms;
}

/* head_parsed - decide what to do with a request whose head is in */
static void
head_parsed(struct conn *c)
{
	size_t body = c->fr.body_len;

	c->have_head = true;
	if (body > c->srv->ops.max_body) {
		if (c->fr.expect_continue || body > HTTP_DRAIN_MAX) {
			respond_status(c, 413);
			return;
		}
		/* Read and drop the body first, so the client reads our 413
		 * instead of a reset while it is still sending. */
		c->drain_left = body;
		c->drain_status = 413;
	}
	if (body > 0)
		set_phase(c, PH_BODY);
	conn_process(c);
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
		size_t have = c->len - c->fr.head_len;

		c->len = c->fr.head_len; /* drop the body bytes; keep nothing after */
		if (have >= c->drain_left) {
			respond_status(c, c->drain_status);
			return;
		}
		c->drain_left -= have;
		conn_read(c);
		return;
	}
	if (!c->have_head) {
		int st = http_parse(c->buf, c->len, &c->req, &c->fr);

		if (st == HTTP_PARSE_MORE) {
			conn_read(c);
			return;
		}
		if (st != 0) {
			atomic_fetch_add(&c->srv->st.bad_framing, 1);
			respond_status(c, st);
			return;
		}
		head_parsed(c);
		return;
	}
	if (c->len - c->fr.head_len < c->fr.body_len) {
		if (c->fr.expect_continue && !c->continue_sent && c->len == c->fr.head_len) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

			c->continue_sent = true;
			free(c->out);
			if ((c->out = strdup(cont)) == NULL) {
				conn_close(c);
				return;
			}
			c->out_len = sizeof(cont) - 1;
			c->out_off = 0;
			c->interim = true;
			conn_send(c);
			return;
		}
		conn_read(c);
		return;
	}
	c->req.body = c->buf + c->fr.head_len;
	c->req.body_len = c->fr.body_len;
	enqueue_request(c);
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

/* conn_read - read more, growing the buffer up to what the request needs,
 * until the current phase's deadline */
static void
conn_read(struct conn *c)
{
	size_t   want = c->have_head ? c->fr.head_len + c->fr.body_len : 0;
	size_t   room;
	nng_iov  iov;
	nng_time now = nng_clock();

	if (now >= c->deadline) {
		read_timeout(c);
		return;
	}
	if (c->drain_left > 0)
		want = c->fr.head_len + (c->drain_left < 65536 ? c->drain_left : 65536);
	if (want < c->len + 4096)
		want = c->len + 4096;
	if (want > c->cap) {
		ptrdiff_t off[2 + 2 * HTTP_MAX_HEADERS + 1];
		char     *nb;

		/* The parsed request points into the buffer: carry it across. */
		if (c->have_head)
			req_offsets(c, off, true);
		if ((nb = realloc(c->buf, want + 1)) == NULL) {
			conn_close(c);
			return;
		}
		c->buf = nb;
		c->cap = want;
		if (c->have_head)
			req_offsets(c, off, false);
	}
	room = c->cap - c->len;
	if (c->drain_left > 0 && room > c->drain_left)
		room = c->drain_left;
	iov.iov_buf = c->buf + c->len;
	iov.iov_len = room;
	c->state = CS_READ;
	nng_aio_set_iov(c->rx, 1, &iov);
	nng_aio_set_timeout(c->rx, (nng_duration)(c->deadline - now));
	nng_stream_recv(c->s, c->rx);
}

/* next_request - drop the answered request from the buffer, go on */
static void
next_request(struct conn *c)
{
	size_t used = c->fr.head_len + c->fr.body_len;

	if (used > c->len)
		used = c->len;
	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
	memset(&c->fr, 0, sizeof(c->fr));
	c->have_head = false;
	c->continue_sent = false;
	set_phase(c, c->len > 0 ? PH_HEAD : PH_IDLE);
	conn_process(c);
}

/*
 * linger_read - after an error, read and drop what the client still sends
 * (for a short while, up to a bound) before closing.  Closing a socket with
 * unread bytes makes the kernel send a reset, and a client reset while our
 * answer is still in flight may never read it.
 */
static void
linger_read(struct conn *c)
{
	nng_iov  iov;
	nng_time now = nng_clock();

	if (c->linger_left == 0 || now >= c->deadline || c->cap == 0) {
		conn_close(c);
		return;
	}
	iov.iov_buf = c->buf;
	iov.iov_len = c->cap < c->linger_left ? c->cap : c->linger_left;
	nng_aio_set_iov(c->rx, 1, &iov);
	nng_aio_set_timeout(c->rx, (nng_duration)(c->deadline - now));
	nng_stream_recv(c->s, c->rx);
}

/* after_write - the response is out and no watch is outstanding */
static void
after_write(struct conn *c)
{
	if (c->linger && !c->gone && !atomic_load(&c->srv->closing)) {
		c->phase = PH_LINGER;
		c->deadline = nng_clock() + HTTP_LINGER_MS;
		c->linger_left = HTTP_LINGER_MAX;
		c->len = 0;
		c->state = CS_READ;
		if (c->cap == 0 && (c->buf = malloc(4096)) != NULL)
			c->cap = 4096; /* refused at accept: nothing read yet */
		linger_read(c);
		return;
	}
	if (c->close_after || c->gone || atomic_load(&c->srv->stopping)) {
		conn_close(c);
		return;
	}
	next_request(c);
}

/* rx_cb - bytes arrived (or the read failed) */
static void
rx_cb(void *arg)
{
	struct conn *c = arg;
	int          rv = nng_aio_result(c->rx);

	pthread_mutex_lock(&c->mu);
	if (c->streaming) {
		pthread_mutex_unlock(&c->mu);
		stream_rx(c, rv);
		return;
	}
	if (c->watching) {
		c->watching = false;
		if (rv == 0)
			c->len += nng_aio_count(c->rx);
		else if (rv != NNG_ECANCELED)
			c->gone = true;
		if (c->write_done) {
			c->write_done = false;
			pthread_mutex_unlock(&c->mu);
			after_write(c);
			return;
		}
		if (rv == 0)
			c->watching = watch_start(c);
		pthread_mutex_unlock(&c->mu);
		return;
	}
	pthread_mutex_unlock(&c->mu);
	if (c->phase == PH_LINGER) {
		size_t n = rv == 0 ? nng_aio_count(c->rx) : 0;

		if (rv != 0 || n >= c->linger_left) {
			conn_close(c);
			return;
		}
		c->linger_left -= n;
		linger_read(c);
		return;
	}
	if (rv == NNG_ETIMEDOUT) {
		read_timeout(c);
		return;
	}
	if (rv != 0) {
		conn_close(c);
		return;
	}
	c->len += nng_aio_count(c->rx);
	if (c->phase == PH_IDLE)
		set_phase(c, PH_HEAD);
	conn_process(c);
}

/* tx_cb - bytes written (or the write failed) */
static void
tx_cb(void *arg)
{
	struct conn *c = arg;
	int          rv = nng_aio_result(c->tx);
	bool         streaming;

	pthread_mutex_lock(&c->mu);
	streaming = c->streaming;
	pthread_mutex_unlock(&c->mu);
	if (streaming) {
		stream_tx(c, rv);
		return;
	}
	if (rv == 0) {
		c->out_off += nng_aio_count(c->tx);
		if (c->out_off < c->out_len) {
			conn_send(c);
			return;
		}
	} else {
		c->close_after = true;
		c->linger = false; /* nobody is reading: just close */
	}
	if (c->interim) { /* the interim 100 Continue */
		c->interim = false;
		if (rv != 0)
			conn_close(c);
		else
			conn_read(c);
		return;
	}
	pthread_mutex_lock(&c->mu);
	if (c->watching) {
		/* rx_cb goes on once the cancelled watch is back.  The cancel
		 * completes the aio on nng's task threads, not here. */
		c->write_done = true;
		nng_aio_cancel(c->rx);
		pthread_mutex_unlock(&c->mu);
		return;
	}
	pthread_mutex_unlock(&c->mu);
	after_write(c);
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

/* conn_new - a connection for an accepted stream, or NULL */
static struct conn *
conn_new(httpd *h, nng_stream *s)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if (nng_aio_alloc(&c->rx, rx_cb, c) != 0 || nng_aio_alloc(&c->tx, tx_cb, c) != 0) {
		nng_aio_free(c->rx);
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	c->srv = h;
	c->s = s;
	remote_addr(s, c->req.remote, sizeof(c->req.remote));
	return c;
}

/* accept_cb - a new connection: admit it under the caps, or refuse it */
static void
accept_cb(void *arg)
{
	httpd            *h = arg;
	nng_stream       *s;
	struct conn      *c;
	struct addr_slot *slot = NULL;
	atomic_ullong    *refused = NULL;

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
	if ((c = conn_new(h, s)) == NULL) {
		nng_stream_free(s);
		return;
	}
	pthread_mutex_lock(&h->mu);
	if (h->nconns >= h->ops.max_conns)
		refused = &h->st.refused_global;
	else if ((slot = addr_find(h, c->req.remote))->n >= (unsigned)h->ops.max_conns_per_addr)
		refused = &h->st.refused_addr;
	if (refused != NULL && h->nrefusing >= HTTP_REFUSING_MAX) {
		/* Too many to even answer: close at once. */
		pthread_mutex_unlock(&h->mu);
		atomic_fetch_add(refused, 1);
		nng_aio_free(c->rx);
		nng_aio_free(c->tx);
		pthread_mutex_destroy(&c->mu);
		free(c);
		nng_stream_free(s);
		return;
	}
	if (refused != NULL)
		h->nrefusing++;
	else {
		if (slot->n++ == 0)
			snprintf(slot->addr, sizeof(slot->addr), "%s", c->req.remote);
		h->nconns++;
		c->counted = true;
	}
	c->next = h->conns;
	if (h->conns != NULL)
		h->conns->prev = c;
	h->conns = c;
	pthread_mutex_unlock(&h->mu);
	if (refused != NULL) {
		atomic_fetch_add(refused, 1);
		respond_status(c, 503);
		return;
	}
	set_phase(c, PH_HEAD);
	conn_read(c);
}

/* --------------------------------------------------------- event streams */

/*
 * An event stream is a connection that, once its head is written, belongs
 * to no worker.  Under c->mu: s_tx_busy while a write is in flight (later
 * bytes wait in sbuf, at most HTTP_STREAM_BUF_MAX, or the client is too
 * slow and the stream is closed), s_rx_busy while the read that notices
 * the client leaving is outstanding.  Either failing marks it closing and
 * closes the nng stream, which ends the other; the last of the two to end
 * takes it off the server's list and hands it to conn_close().
 */

/* stream_end - both halves are done: off the list, closed, freed by a worker */
static void
stream_end(struct conn *c)
{
	httpd *h = c->srv;

	pthread_mutex_lock(&h->mu);
	if (c->sprev != NULL)
		c->sprev->snext = c->snext;
	else
		h->streams = c->snext;
	if (c->snext != NULL)
		c->snext->sprev = c->sprev;
	h->nstreams--;
	pthread_mutex_unlock(&h->mu);
	conn_close(c);
}

/* stream_read - wait for the client to leave (what it sends is dropped) */
static void
stream_read(struct conn *c)
{
	nng_iov iov = {.iov_buf = c->buf, .iov_len = c->cap};

	nng_aio_set_iov(c->rx, 1, &iov);
	nng_aio_set_timeout(c->rx, NNG_DURATION_INFINITE);
	nng_stream_recv(c->s, c->rx);
}

/* stream_write - write c->out from c->out_off (s_tx_busy set) */
static void
stream_write(struct conn *c)
{
	nng_iov iov = {.iov_buf = c->out + c->out_off, .iov_len = c->out_len - c->out_off};

	nng_aio_set_iov(c->tx, 1, &iov);
	nng_aio_set_timeout(c->tx, HTTP_WRITE_MS);
	nng_stream_send(c->s, c->tx);
}

/* stream_rx - the read ended: the client left, or sent bytes we drop */
static void
stream_rx(struct conn *c, int rv)
{
	bool last;

	pthread_mutex_lock(&c->mu);
	if (rv == 0 && !c->s_closing && !atomic_load(&c->srv->closing)) {
		pthread_mutex_unlock(&c->mu);
		stream_read(c);
		return;
	}
	c->s_rx_busy = false;
	c->s_closing = true;
	last = !c->s_tx_busy;
	pthread_mutex_unlock(&c->mu);
	nng_stream_close(c->s); /* ends a write in flight */
	if (last)
		stream_end(c);
}

/* stream_tx - a write ended: go on with what waits, or close */
static void
stream_tx(struct conn *c, int rv)
{
	bool last;

	if (rv == 0) {
		c->out_off += nng_aio_count(c->tx);
		if (c->out_off < c->out_len) {
			stream_write(c);
			return;
		}
	}
	pthread_mutex_lock(&c->mu);
	if (rv == 0 && !c->s_closing && c->sbuf_len > 0) {
		free(c->out);
		c->out = c->sbuf;
		c->out_len = c->sbuf_len;
		c->out_off = 0;
		c->sbuf = NULL;
		c->sbuf_len = 0;
		pthread_mutex_unlock(&c->mu);
		stream_write(c);
		return;
	}
	c->s_tx_busy = false;
	if (rv == 0 && !c->s_closing) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	c->s_closing = true;
	last = !c->s_rx_busy;
	pthread_mutex_unlock(&c->mu);
	nng_stream_close(c->s); /* ends the read */
	if (last)
		stream_end(c);
}

/*
 * stream_begin - a handler answered with an event stream (worker thread):
 * under the cap, the head and first bytes go out and the connection joins
 * the streams; over it, 503.  A watch read still outstanding becomes the
 * stream's read.
 */
static void
stream_begin(struct conn *c, struct http_res *res)
{
	httpd *h = c->srv;
	bool   watching;

	pthread_mutex_lock(&h->mu);
	if (h->nstreams >= h->ops.max_streams || atomic_load(&h->stopping)) {
		pthread_mutex_unlock(&h->mu);
		free(res->body);
		atomic_fetch_add(&h->st.streams_refused, 1);
		respond_status(c, 503);
		return;
	}
	h->nstreams++;
	c->stag = res->stream_tag;
	c->sprev = NULL;
	c->snext = h->streams;
	if (h->streams != NULL)
		h->streams->sprev = c;
	h->streams = c;
	res->close = true;
	serialize(c, res);
	free(res->body);
	res->body = NULL;
	pthread_mutex_lock(&c->mu);
	c->streaming = true;
	c->state = CS_STREAM;
	watching = c->watching;
	c->watching = false;
	c->s_rx_busy = true;
	c->s_tx_busy = true;
	if (c->out == NULL)
		c->s_closing = true;
	pthread_mutex_unlock(&c->mu);
	pthread_mutex_unlock(&h->mu);
	if (c->out == NULL) {
		bool last;

		/* Out of memory: nothing to send.  The read (the watch, or the one
		 * started below) fails on the closed stream; whichever half is
		 * done last ends it. */
		nng_stream_close(c->s);
		pthread_mutex_lock(&c->mu);
		c->s_tx_busy = false;
		last = !c->s_rx_busy;
		pthread_mutex_unlock(&c->mu);
		if (last) {
			stream_end(c);
			return;
		}
	} else
		stream_write(c);
	if (!watching)
		stream_read(c);
}

/*
 * httpd_stream_send - queue bytes on every open event stream (any thread);
 * a stream whose client has more than HTTP_STREAM_BUF_MAX unread is closed.
 * Returns the number of streams the bytes were queued on.
 */
int
httpd_stream_send(httpd *h, const char *data, size_t len)
{
	int n = 0;

	if (h == NULL || len == 0)
		return 0;
	pthread_mutex_lock(&h->mu);
	for (struct conn *c = h->streams; c != NULL; c = c->snext) {
		pthread_mutex_lock(&c->mu);
		if (c->s_closing) {
			pthread_mutex_unlock(&c->mu);
			continue;
		}
		if (!c->s_tx_busy) {
			char *b = malloc(len);

			if (b != NULL) {
				memcpy(b, data, len);
				free(c->out);
				c->out = b;
				c->out_len = len;
				c->out_off = 0;
				c->s_tx_busy = true;
				/* Completions are dispatched to nng's task threads, so
				 * starting the write under the locks cannot re-enter. */
				stream_write(c);
				n++;
			}
		} else if (c->sbuf_len + len <= HTTP_STREAM_BUF_MAX) {
			char *b = realloc(c->sbuf, c->sbuf_len + len);

			if (b != NULL) {
				memcpy(b + c->sbuf_len, data, len);
				c->sbuf = b;
				c->sbuf_len += len;
				n++;
			}
		} else {
			/* Too far behind: drop the client rather than buffer without end. */
			c->s_closing = true;
			atomic_fetch_add(&h->st.streams_dropped, 1);
			nng_stream_close(c->s);
		}
		pthread_mutex_unlock(&c->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return n;
}

/* httpd_stream_tags - the tags of the open streams (at most max; repeats
 * possible); returns how many were written */
int
httpd_stream_tags(httpd *h, long long *out, int max)
{
	int n = 0;

	if (h == NULL)
		return 0;
	pthread_mutex_lock(&h->mu);
	for (struct conn *c = h->streams; c != NULL && n < max; c = c->snext)
		out[n++] = c->stag;
	pthread_mutex_unlock(&h->mu);
	return n;
}

/* httpd_stream_close_tag - close every open stream with this tag (any
 * thread); returns how many were closed */
int
httpd_stream_close_tag(httpd *h, long long tag)
{
	int n = 0;

	if (h == NULL)
		return 0;
	pthread_mutex_lock(&h->mu);
	for (struct conn *c = h->streams; c != NULL; c = c->snext) {
		pthread_mutex_lock(&c->mu);
		if (c->stag == tag && !c->s_closing) {
			/* The callbacks see the closed stream and end it (stream_end). */
			c->s_closing = true;
			nng_stream_close(c->s);
			n++;
		}
		pthread_mutex_unlock(&c->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return n;
}

/* ------------------------------------------------------------- workers */

/* serve - one queued request: dropped, refused as late, or handled */
static void
serve(httpd *h, void *state, struct conn *c)
{
	struct http_res res = {.status = 200};
	bool            gone;

	pthread_mutex_lock(&c->mu);
	gone = c->gone; /* then the watch is over: nothing is outstanding */
	pthread_mutex_unlock(&c->mu);
	if (gone) {
		atomic_fetch_add(&h->st.shed_gone, 1);
		conn_close(c);
		return;
	}
	c->state = CS_WORK;
	if (nng_clock() - c->queued_at > (nng_time)h->ops.queue_wait_ms) {
		atomic_fetch_add(&h->st.shed_late, 1);
		respond_status(c, 503);
		return;
	}
	atomic_fetch_add(&h->st.handled, 1);
	h->ops.handle(h->ops.arg, state, &c->req, &res);
	if (res.stream && res.status == 200) {
		stream_begin(c, &res);
		return;
	}
	res.stream = false;
	if (!c->fr.keep_alive || atomic_load(&h->stopping))
		res.close = true;
	respond(c, &res);
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

		while (h->qhead == NULL && !h->workers_exit) {
			h->idle++;
			pthread_cond_wait(&h->cv, &h->mu);
			h->idle--;
		}
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
		h->qlen--;
		h->busy++;
		pthread_mutex_unlock(&h->mu);
		serve(h, state, c);
		pthread_mutex_lock(&h->mu);
		h->busy--;
		/* Only httpd_stop waits for this; waking every idle worker
		 * after every request would cost a herd of context switches. */
		if (atomic_load(&h->stopping))
			pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	if (h->ops.worker_fini != NULL)
		h->ops.worker_fini(h->ops.arg, state);
	return NULL;
}

/* ---------------------------------------------------------- the server */

/* limit - a configured limit, or its default */
static int
limit(int v, int def)
{
	return v > 0 ? v : def;
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
	h->ops.header_timeout_ms = limit(ops->header_timeout_ms, DEF_HEADER_TIMEOUT_MS);
	h->ops.body_timeout_ms = limit(ops->body_timeout_ms, DEF_BODY_TIMEOUT_MS);
	h->ops.idle_timeout_ms = limit(ops->idle_timeout_ms, DEF_IDLE_TIMEOUT_MS);
	h->ops.max_conns = limit(ops->max_conns, DEF_MAX_CONNS);
	h->ops.max_conns_per_addr = limit(ops->max_conns_per_addr, DEF_MAX_CONNS_PER_ADDR);
	h->ops.queue_max = limit(ops->queue_max, DEF_QUEUE_MAX);
	h->ops.queue_wait_ms = limit(ops->queue_wait_ms, DEF_QUEUE_WAIT_MS);
	h->ops.max_streams = limit(ops->max_streams, DEF_MAX_STREAMS);
	for (h->naddrs = 16; h->naddrs < 2 * (size_t)h->ops.max_conns + 2; h->naddrs *= 2)
		;
	if ((h->addrs = calloc(h->naddrs, sizeof(*h->addrs))) == NULL) {
		free(h);
		return NULL;
	}
	crypto_shorthash_keygen(h->addr_key);
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	snprintf(url, sizeof(url), "tcp://%s:%d", addr, port);
	if ((rv = nng_stream_listener_alloc(&h->l, url)) != 0 ||
	    (rv = nng_stream_listener_listen(h->l)) != 0) {
		log_error("http: listen %s: %s", url, nng_strerror(rv));
		goto fail;
	}
	nng_stream_listener_get_int(h->l, NNG_OPT_TCP_BOUND_PORT, &h->port);
	if ((h->thr = calloc((size_t)ops->nworkers, sizeof(pthread_t))) == NULL ||
	    nng_aio_alloc(&h->accept_aio, accept_cb, h) != 0)
		goto fail;
	for (int i = 0; i < ops->nworkers; i++)
		pthread_create(&h->thr[i], NULL, worker_main, h);
	nng_stream_listener_accept(h->l, h->accept_aio);
	return h;
fail:
	nng_stream_listener_free(h->l);
	free(h->thr);
	free(h->addrs);
	free(h);
	return NULL;
}

/* httpd_port - the port actually bound */
int
httpd_port(const httpd *h)
{
	return h->port;
}

/* httpd_streams_open - how many event streams are open now (any thread, no lock) */
int
httpd_streams_open(httpd *h)
{
	return h != NULL ? atomic_load(&h->nstreams) : 0;
}

/* httpd_stats - the counters, and how many connections and queued requests there are */
void
httpd_stats(httpd *h, struct httpd_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	st->conns_open = (unsigned long long)h->nconns;
	st->queued = (unsigned long long)h->qlen;
	st->streams_open = (unsigned long long)h->nstreams;
	pthread_mutex_unlock(&h->mu);
	st->streams_refused = atomic_load(&h->st.streams_refused);
	st->streams_dropped = atomic_load(&h->st.streams_dropped);
	st->handled = atomic_load(&h->st.handled);
	st->refused_global = atomic_load(&h->st.refused_global);
	st->refused_addr = atomic_load(&h->st.refused_addr);
	st->shed_full = atomic_load(&h->st.shed_full);
	st->shed_late = atomic_load(&h->st.shed_late);
	st->shed_gone = atomic_load(&h->st.shed_gone);
	st->timeout_header = atomic_load(&h->st.timeout_header);
	st->timeout_body = atomic_load(&h->st.timeout_body);
	st->bad_framing = atomic_load(&h->st.bad_framing);
}

/*
 * httpd_stop - stop accepting, let requests queued or being handled finish
 * and be answered (within deadline_ms), then close every connection.
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
	ts = util_deadline_ts(CLOCK_REALTIME, deadline_ms);
	pthread_mutex_lock(&h->mu);
	/* Wait for handlers to finish and their responses to be written. */
	for (;;) {
		bool writing = false;

		for (struct conn *c = h->conns; c != NULL; c = c->next)
			if (c->state == CS_QUEUED || c->state == CS_WORK || c->state == CS_WRITE)
				writing = true;
		if ((!writing && h->busy == 0) || pthread_cond_timedwait(&h->cv, &h->mu, &ts) != 0)
			break;
	}
	atomic_store(&h->closing, true);
	for (struct conn *c = h->conns; c != NULL; c = c->next)
		nng_stream_close(c->s);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	while (h->nconns + h->nrefusing > 0)
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
	free(h->addrs);
	free(h);
}
