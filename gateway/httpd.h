/*
 * httpd.h - a small HTTP/1.1 server on nng streams
 *
 * Why not nng's own HTTP server: in nng 1.5.2 a handler cannot learn the
 * client's address (nng issue #1868), which per-address rate limiting
 * needs, and some errors (oversized body, unknown path) are answered with
 * nng's HTML pages rather than the contract's JSON.  So nng does the
 * sockets and the asynchronous I/O (nng_stream_listener, nng_stream), and
 * this module does the framing: request line, headers, Content-Length
 * bodies, keep-alive, "Expect: 100-continue", and bounded everything.
 *
 * The framing is a pure function over bytes, http_parse(), strict in the
 * ways RFC 9112 asks of a server that may sit behind a proxy: one
 * Content-Length at most, never with Transfer-Encoding, no control
 * characters, no obs-fold, no bare CR or LF.  Anything it refuses closes
 * the connection after the error, so a confused peer never gets to send a
 * second, smuggled request on it.
 *
 * Reads and writes run as nng aio callbacks that never block; a complete
 * request is queued to a pool of worker threads, which run the handler
 * (it may block on PostgreSQL or an RPC) and start the write.  Everything
 * that protects the workers happens before them, on the I/O side: deadlines
 * for the head, the body and an idle keep-alive, a cap on connections in
 * all and per address, and a bounded queue whose overflow, late requests
 * and requests whose client went away are answered 503 or dropped without
 * a handler run.
 *
 * A handler may answer with an event stream (res->stream): the connection
 * then leaves the workers at once and is fed by httpd_stream_send() from
 * any thread, bounded per connection, until the client goes away; a read
 * kept outstanding on it notices that.
 */
#ifndef CLUBOS_HTTPD_H
#define CLUBOS_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_HEADER_BYTES (16 * 1024)
#define HTTP_MAX_CONTENT_LENGTH ((size_t)1 << 40) /* larger is 413 outright */
#define HTTP_PARSE_MORE 1                         /* http_parse: need more bytes */

struct http_header {
	const char *name;
	const char *value;
};

struct http_req {
	const char        *method;
	const char        *path;  /* without the query string */
	const char        *query; /* after '?', or "" */
	struct http_header headers[HTTP_MAX_HEADERS];
	int                nheaders;
	const char        *body;
	size_t             body_len;
	char               remote[64]; /* peer address, no port */
};

/* What http_parse() learned about a request's framing.  Zero it before
 * the first call for a request; between calls it remembers how far the
 * search for the end of the head got. */
struct http_frame {
	size_t head_len;        /* leading empty lines, request line, headers, blank line */
	size_t body_len;        /* from Content-Length; 0 without one */
	size_t scanned;         /* bytes already searched for the end of the head */
	size_t line_start;      /* where the line being scanned begins */
	size_t start;           /* where the request line begins */
	bool   http10;          /* an HTTP/1.0 request */
	bool   keep_alive;      /* the connection may carry another request */
	bool   expect_continue; /* "Expect: 100-continue" on HTTP/1.1 */
};

struct http_res {
	int         status;
	const char *content_type; /* default application/json */
	char       *body;         /* malloc'd; the server frees it */
	size_t      len;
	char        headers[1024]; /* extra header lines, each ending \r\n */
	bool        close;         /* close the connection after this response */
	/* An event stream: the head (no Content-Length) and body go out, then
	 * the connection stays open, off the workers, for httpd_stream_send()
	 * until the client leaves or the server stops. */
	bool      stream;
	long long stream_tag; /* the handler's name for the stream (a user id) */
};

/*
 * Called on a worker thread for each request.  Also called, with
 * req->method NULL and res->status preset, for what the server answers
 * itself (framing errors 400/408/411/413/431/501/505, and 503 when it sheds
 * load), so those get the same shape: then it may run on an I/O thread
 * with worker NULL, and must answer without blocking.
 */
typedef void (*http_handler_fn)(void *arg, void *worker, const struct http_req *req,
                                struct http_res *res);

struct httpd_ops {
	http_handler_fn handle;
	void *(*worker_init)(void *arg, int idx);
	void (*worker_fini)(void *arg, void *worker);
	void  *arg;
	size_t max_body; /* larger bodies get 413 */
	int    nworkers;
	/* Limits; 0 takes the default in httpd.c. */
	int header_timeout_ms; /* first byte of a head to its end: 408 after */
	int body_timeout_ms;   /* end of the head to the end of the body: 408 after */
	int idle_timeout_ms;   /* a kept-alive connection waiting for a request */
	int max_conns;         /* open connections in all */
	int max_conns_per_addr;
	int queue_max;     /* requests waiting for a worker; more get 503 */
	int queue_wait_ms; /* a request that waited longer gets 503 */
	int max_streams;   /* open event streams; more get 503 */
};

/* Counters since start (and two gauges), for /metrics. */
struct httpd_stats {
	unsigned long long conns_open;      /* gauge */
	unsigned long long queued;          /* gauge */
	unsigned long long handled;         /* requests a handler ran for */
	unsigned long long refused_global;  /* connections over max_conns */
	unsigned long long refused_addr;    /* connections over max_conns_per_addr */
	unsigned long long shed_full;       /* 503: the queue was full */
	unsigned long long shed_late;       /* 503: waited longer than queue_wait_ms */
	unsigned long long shed_gone;       /* dropped: the client left while it waited */
	unsigned long long timeout_header;  /* 408 */
	unsigned long long timeout_body;    /* 408 */
	unsigned long long bad_framing;     /* 4xx/5xx framing errors */
	unsigned long long streams_open;    /* gauge: event streams */
	unsigned long long streams_refused; /* 503: over max_streams */
	unsigned long long streams_dropped; /* closed: the client read too slowly */
};

typedef struct httpd httpd;

int         http_parse(char *buf, size_t len, struct http_req *req, struct http_frame *f);
httpd      *httpd_start(const char *addr, int port, const struct httpd_ops *ops);
int         httpd_port(const httpd *h);
void        httpd_stats(httpd *h, struct httpd_stats *st);
int         httpd_streams_open(httpd *h);
void        httpd_stop(httpd *h, int deadline_ms);
int         httpd_stream_send(httpd *h, const char *data, size_t len);
int         httpd_stream_tags(httpd *h, long long *out, int max);
int         httpd_stream_close_tag(httpd *h, long long tag);
const char *http_header(const struct http_req *req, const char *name);
void        http_res_header(struct http_res *res, const char *name, const char *value);
const char *http_reason(int status);

#endif
