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
 * Reads and writes run as nng aio callbacks that never block; a complete
 * request is queued to a pool of worker threads, which run the handler
 * (it may block on PostgreSQL or an RPC) and start the write.
 */
#ifndef CLUBOS_HTTPD_H
#define CLUBOS_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_HEADER_BYTES (16 * 1024)

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

struct http_res {
	int         status;
	const char *content_type; /* default application/json */
	char       *body;         /* malloc'd; the server frees it */
	size_t      len;
	char        headers[512]; /* extra header lines, each ending \r\n */
	bool        close;        /* close the connection after this response */
};

/* Called on a worker thread for each request, and for framing errors (with
 * req->method NULL and res->status preset) so they get the same shape. */
typedef void (*http_handler_fn)(void *arg, void *worker, const struct http_req *req,
                                struct http_res *res);

struct httpd_ops {
	http_handler_fn handle;
	void *(*worker_init)(void *arg, int idx);
	void (*worker_fini)(void *arg, void *worker);
	void  *arg;
	size_t max_body; /* larger bodies get 413 */
	int    nworkers;
};

typedef struct httpd httpd;

httpd      *httpd_start(const char *addr, int port, const struct httpd_ops *ops);
int         httpd_port(const httpd *h);
void        httpd_stop(httpd *h, int deadline_ms);
const char *http_header(const struct http_req *req, const char *name);
void        http_res_header(struct http_res *res, const char *name, const char *value);
const char *http_reason(int status);

#endif
