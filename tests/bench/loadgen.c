/*
 * loadgen.c - an open-loop HTTP/1.1 load generator for make bench
 *
 * wrk runs a closed loop: a connection sends its next request only when the
 * previous answer has arrived, so while the server stalls the generator
 * stops sending, and the requests that would have waited are never
 * measured ("coordinated omission").  At 32 connections its latency is just
 * 32 / throughput.  This tool offers a fixed rate instead, the idea of
 * wrk2: request i is due at t0 + i / rate and belongs to connection
 * i % conns, which sends it once it is due and the previous response on
 * that connection is complete (one request in flight per connection; later
 * ones wait in order).  Latency runs from the due time, not the send time,
 * so time spent queued behind a slow response is counted.
 *
 * One thread, one epoll loop, non-blocking sockets.  Between due times the
 * loop sleeps in epoll_pwait2 (nanosecond timeout; epoll_wait rounded up to
 * the next millisecond where the kernel lacks it), never spins: the
 * generator shares the machine's cores with the server it measures.
 *
 * Accounting, for the requests due after the warmup: each ends as a
 * response (its latency recorded, its status class counted) or as an error
 * (a failed connect it was waiting for, a reset or read error, a timeout
 * 10 s after it was sent, or never answered by the end of the run).
 * Responses with status >= 400 are errors too.  Output: one RESULT line on
 * stdout (see report()), details and warnings on stderr.  Exit 0 after a
 * run, 1 if the first connections fail, 2 on usage errors.
 *
 * make bench builds it as build/bin/clubos-loadgen; it uses only libc,
 * POSIX and Linux epoll.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, epoll_pwait2 */
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#define LG_HAVE_PWAIT2 1
#endif

#define LG_NS 1000000000ULL
#define LG_TIMEOUT_NS (10 * LG_NS) /* a response or a connect taking longer fails */
#define LG_RETRY_NS (LG_NS / 10)   /* pause between failed connects */
#define LG_BUF 16384               /* read buffer per connection; bounds a response head */
#define LG_LINE_MAX 1024           /* longest chunk-size or trailer line */
#define LG_MAX_HEADERS 64
#define LG_MAX_SAMPLES 20000000 /* rate * seconds at most (8 bytes each) */
#define LG_EVENTS 256

enum lg_state { LS_DOWN, LS_CONNECTING, LS_IDLE, LS_BUSY };
enum lg_parse { LP_HEAD, LP_BODY, LP_CHUNK_SIZE, LP_CHUNK_DATA, LP_CHUNK_END, LP_TRAILER, LP_EOF };

struct lg_req {
	char  *buf; /* the whole request: line, headers, body */
	size_t len;
};

struct lg_conn {
	int           fd;
	uint32_t      gen; /* bumped per socket: events for an old one are dropped */
	enum lg_state state;
	uint64_t      seq;      /* the next request number this connection sends */
	uint64_t      cur;      /* LS_BUSY: the request in flight */
	uint64_t      due;      /* its due time (ns) */
	uint64_t      since;    /* when it was sent, or the connect started */
	uint64_t      retry_at; /* LS_DOWN: when to connect again */
	const char   *out;      /* bytes of the request still to write */
	size_t        out_len;
	enum lg_parse ps;
	uint64_t      left; /* body or chunk bytes still to come */
	int           status;
	bool          chunked, has_len, close_after;
	bool          want_out; /* EPOLLOUT is watched: a request is half written */
	size_t        in_len;
	char          in[LG_BUF];
};

/* The run, from the command line; times in ns on CLOCK_MONOTONIC. */
static struct {
	const char        *url, *method, *bodies;
	const char        *headers[LG_MAX_HEADERS];
	int                nheaders;
	int                conns, rate, seconds, warmup;
	struct sockaddr_in addr;
	char               host[128]; /* the Host header: the URL's authority */
	const char        *path;
	bool               has_host;
	struct lg_req     *reqs; /* one per body (or one without), used in turn */
	size_t             nreqs;
	uint64_t           t0, tw, tend; /* start, end of warmup, end of schedule */
	uint64_t           first, total; /* measured requests: numbers [first, total) */
} cfg = {.method = "GET", .conns = -1, .rate = -1, .seconds = -1};

/* What happened to the measured requests. */
static struct {
	uint64_t *lat; /* latencies (ns), one per response */
	size_t    nlat, cap;
	long      status[6]; /* responses by class: [1] 1xx .. [5] 5xx */
	long      connect_err, io_err, timeouts;
	long      closes;      /* responses that closed the connection */
	long      reconnects;  /* connects after the first ones, in any phase */
	long      window_done; /* responses of any request completed in [tw, tend) */
} st;

static struct lg_conn *lg_conns;
static int             lg_ep = -1;

/* The options, alphabetical; --header may repeat. */
enum { O_INT, O_STR, O_HDR };
static const struct lg_opt {
	const char *name;
	int         kind;
	void       *dst;
	int         min, max;
} lg_opts[] = {
    {"--bodies", O_STR, &cfg.bodies, 0, 0},   {"--conns", O_INT, &cfg.conns, 1, 4096},
    {"--header", O_HDR, NULL, 0, 0},          {"--method", O_STR, &cfg.method, 0, 0},
    {"--rate", O_INT, &cfg.rate, 1, 1000000}, {"--seconds", O_INT, &cfg.seconds, 1, 86400},
    {"--url", O_STR, &cfg.url, 0, 0},         {"--warmup", O_INT, &cfg.warmup, 0, 3600},
};

/* now_ns - the monotonic clock in nanoseconds */
static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * LG_NS + (uint64_t)ts.tv_nsec;
}

/* usage - the synopsis */
static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: clubos-loadgen --url http://HOST:PORT/PATH --conns N --rate R --seconds S\n"
	        "       [--warmup S] [--method M] [--header 'Name: value']... [--bodies FILE]\n");
}

/* usage_error - say what is wrong with the command line and exit 2 */
static _Noreturn void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "clubos-loadgen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

/* parse_url - http://IPv4-or-localhost[:port][/path] into cfg */
static void
parse_url(const char *url)
{
	const char *h = url + 7, *end;
	char        name[64];
	size_t      hl;
	long        port = 80;

	if (strncmp(url, "http://", 7) != 0)
		usage_error("--url %s: only http:// URLs are supported", url);
	end = h + strcspn(h, "/");
	if ((size_t)(end - h) >= sizeof(cfg.host) || end == h)
		usage_error("--url %s: bad host", url);
	memcpy(cfg.host, h, (size_t)(end - h));
	cfg.host[end - h] = '\0';
	hl = strcspn(cfg.host, ":");
	if (hl >= sizeof(name))
		usage_error("--url %s: bad host", url);
	memcpy(name, cfg.host, hl);
	name[hl] = '\0';
	if (cfg.host[hl] == ':') {
		char *e;

		port = strtol(cfg.host + hl + 1, &e, 10);
		if (*e != '\0' || port < 1 || port > 65535)
			usage_error("--url %s: bad port", url);
	}
	cfg.addr.sin_family = AF_INET;
	cfg.addr.sin_port = htons((uint16_t)port);
	if (strcmp(name, "localhost") == 0)
		strcpy(name, "127.0.0.1");
	if (inet_pton(AF_INET, name, &cfg.addr.sin_addr) != 1)
		usage_error("--url %s: the host must be an IPv4 address or localhost", url);
	cfg.path = *end != '\0' ? end : "/";
	if (strpbrk(cfg.path, " \r\n") != NULL)
		usage_error("--url %s: the path must not contain spaces", url);
}

/* check_header - a --header must be "Name: value" on one line */
static void
check_header(const char *h)
{
	size_t n = strcspn(h, ":");

	if (h[n] != ':' || n == 0 || strcspn(h, " \t") < n || strpbrk(h, "\r\n") != NULL)
		usage_error("--header '%s': expected 'Name: value'", h);
	if ((n == 14 && strncasecmp(h, "content-length", n) == 0) ||
	    (n == 17 && strncasecmp(h, "transfer-encoding", n) == 0))
		usage_error("--header '%s': the body length is set by clubos-loadgen", h);
	if (n == 4 && strncasecmp(h, "host", n) == 0)
		cfg.has_host = true;
	if (cfg.nheaders == LG_MAX_HEADERS)
		usage_error("too many --header options (at most %d)", LG_MAX_HEADERS);
	cfg.headers[cfg.nheaders++] = h;
}

/* parse_args - fill cfg from argv by the option table, or exit 2 */
static void
parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '='), *val;
		size_t      nl = eq != NULL ? (size_t)(eq - a) : strlen(a);
		size_t      k;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		for (k = 0; k < sizeof(lg_opts) / sizeof(lg_opts[0]); k++)
			if (strlen(lg_opts[k].name) == nl && strncmp(lg_opts[k].name, a, nl) == 0)
				break;
		if (k == sizeof(lg_opts) / sizeof(lg_opts[0]))
			usage_error("unknown option '%s'", a);
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			usage_error("%s needs a value", a);
		if (lg_opts[k].kind == O_INT) {
			char *e;
			long  v = strtol(val, &e, 10);

			if (*val == '\0' || *e != '\0' || v < lg_opts[k].min || v > lg_opts[k].max)
				usage_error("%s %s: expected a whole number from %d to %d",
				            lg_opts[k].name, val, lg_opts[k].min, lg_opts[k].max);
			*(int *)lg_opts[k].dst = (int)v;
		} else if (lg_opts[k].kind == O_STR) {
			*(const char **)lg_opts[k].dst = val;
		} else {
			check_header(val);
		}
	}
	if (cfg.url == NULL || cfg.conns < 0 || cfg.rate < 0 || cfg.seconds < 0)
		usage_error("--url, --conns, --rate and --seconds are required");
	if ((uint64_t)cfg.rate * (uint64_t)cfg.seconds > LG_MAX_SAMPLES)
		usage_error("--rate times --seconds is at most %d", LG_MAX_SAMPLES);
	if (strlen(cfg.method) == 0 || strlen(cfg.method) > 16 ||
	    strspn(cfg.method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(cfg.method))
		usage_error("--method %s: expected an upper-case HTTP method", cfg.method);
	parse_url(cfg.url);
}

/* add_request - format one request with body b (NULL: none) into cfg.reqs */
static void
add_request(const char *b, size_t blen)
{
	struct lg_req *r;
	FILE          *f;

	if ((cfg.nreqs & (cfg.nreqs - 1)) == 0) {
		r = realloc(cfg.reqs, (cfg.nreqs ? cfg.nreqs * 2 : 1) * sizeof(*r));
		if (r == NULL)
			goto fail;
		cfg.reqs = r;
	}
	r = &cfg.reqs[cfg.nreqs];
	if ((f = open_memstream(&r->buf, &r->len)) == NULL)
		goto fail;
	fprintf(f, "%s %s HTTP/1.1\r\n", cfg.method, cfg.path);
	if (!cfg.has_host)
		fprintf(f, "Host: %s\r\n", cfg.host);
	for (int i = 0; i < cfg.nheaders; i++)
		fprintf(f, "%s\r\n", cfg.headers[i]);
	if (b != NULL || strcmp(cfg.method, "POST") == 0 || strcmp(cfg.method, "PUT") == 0 ||
	    strcmp(cfg.method, "PATCH") == 0)
		fprintf(f, "Content-Length: %zu\r\n", blen);
	fputs("\r\n", f);
	if (b != NULL)
		fwrite(b, 1, blen, f);
	if (fclose(f) != 0)
		goto fail;
	cfg.nreqs++;
	return;
fail:
	fprintf(stderr, "clubos-loadgen: out of memory\n");
	exit(1);
}

/* load_requests - one request per line of --bodies (blank lines skipped), or one without */
static void
load_requests(void)
{
	FILE   *f;
	char   *line = NULL;
	size_t  cap = 0;
	ssize_t n;

	if (cfg.bodies == NULL) {
		add_request(NULL, 0);
		return;
	}
	if ((f = fopen(cfg.bodies, "r")) == NULL)
		usage_error("--bodies %s: %s", cfg.bodies, strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n > 0)
			add_request(line, (size_t)n);
	}
	free(line);
	fclose(f);
	if (cfg.nreqs == 0)
		usage_error("--bodies %s: no bodies in the file", cfg.bodies);
}

/* due_of - when request number i is due: t0 + i / rate, exactly */
static uint64_t
due_of(uint64_t i)
{
	uint64_t r = (uint64_t)cfg.rate;

	return cfg.t0 + i / r * LG_NS + i % r * LG_NS / r;
}

/* conn_watch - set the epoll events of c's socket */
static void
conn_watch(struct lg_conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events};

	ev.data.u64 = (uint64_t)(c - lg_conns) | (uint64_t)c->gen << 32;
	epoll_ctl(lg_ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* conn_close - drop c's socket and plan to reconnect at retry_at */
static void
conn_close(struct lg_conn *c, uint64_t retry_at)
{
	if (c->fd >= 0)
		close(c->fd); /* which also takes it out of the epoll set */
	c->fd = -1;
	c->state = LS_DOWN;
	c->retry_at = retry_at;
	c->in_len = 0;
	c->out_len = 0;
	c->want_out = false;
}

/* conn_fail - the request in flight on c failed (counted in *counter); reconnect now */
static void
conn_fail(struct lg_conn *c, long *counter, uint64_t now)
{
	if (c->state == LS_BUSY && c->cur >= cfg.first)
		(*counter)++;
	conn_close(c, now);
}

/* connect_failed - a connect failed: the request waiting for it fails; retry later */
static void
connect_failed(struct lg_conn *c, int err, uint64_t now)
{
	static bool said;

	if (!said) {
		fprintf(stderr, "clubos-loadgen: a reconnect failed (said once): %s\n",
		        strerror(err));
		said = true;
	}
	if (c->seq < cfg.total && due_of(c->seq) <= now) {
		if (c->seq >= cfg.first)
			st.connect_err++;
		c->seq += (uint64_t)cfg.conns;
	}
	conn_close(c, now + LG_RETRY_NS);
}

/* conn_open - a new TCP socket for c, registered with epoll; blocking connects if block */
static int
conn_open(struct lg_conn *c, bool block, uint64_t now)
{
	struct epoll_event ev;
	int                one = 1, rv;

	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!block)
		fcntl(c->fd, F_SETFL, O_NONBLOCK);
	rv = connect(c->fd, (struct sockaddr *)&cfg.addr, sizeof(cfg.addr));
	if (rv != 0 && (block || errno != EINPROGRESS)) {
		int err = errno;

		close(c->fd);
		c->fd = -1;
		errno = err;
		return -1;
	}
	if (block)
		fcntl(c->fd, F_SETFL, O_NONBLOCK);
	c->gen++;
	c->state = rv == 0 ? LS_IDLE : LS_CONNECTING;
	c->since = now;
	ev.events = rv == 0 ? EPOLLIN | EPOLLRDHUP : EPOLLOUT;
	ev.data.u64 = (uint64_t)(c - lg_conns) | (uint64_t)c->gen << 32;
	if (epoll_ctl(lg_ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		int err = errno;

		conn_close(c, now);
		errno = err;
		return -1;
	}
	return 0;
}

/* conn_flush - write what is left of the request; wait for EPOLLOUT if the socket is full */
static void
conn_flush(struct lg_conn *c, uint64_t now)
{
	while (c->out_len > 0) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->want_out)
				conn_watch(c, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
			c->want_out = true;
			return;
		}
		if (n < 0) {
			conn_fail(c, &st.io_err, now);
			return;
		}
		c->out += n;
		c->out_len -= (size_t)n;
	}
	if (c->want_out)
		conn_watch(c, EPOLLIN | EPOLLRDHUP);
	c->want_out = false;
}

/* conn_send - send c's next request, which is due */
static void
conn_send(struct lg_conn *c, uint64_t now)
{
	const struct lg_req *r = &cfg.reqs[c->seq % cfg.nreqs];

	c->cur = c->seq;
	c->seq += (uint64_t)cfg.conns;
	c->due = due_of(c->cur);
	c->since = now;
	c->state = LS_BUSY;
	c->ps = LP_HEAD;
	c->out = r->buf;
	c->out_len = r->len;
	conn_flush(c, now);
}

/* conn_pump - act on what is due or overdue for c; returns when it next needs a look */
static uint64_t
conn_pump(struct lg_conn *c, uint64_t now)
{
	switch (c->state) {
	case LS_DOWN:
		if (c->seq >= cfg.total)
			return UINT64_MAX;
		if (now < c->retry_at)
			return c->retry_at;
		st.reconnects++;
		if (conn_open(c, false, now) != 0)
			connect_failed(c, errno, now);
		return conn_pump(c, now);
	case LS_CONNECTING:
		if (now - c->since < LG_TIMEOUT_NS)
			return c->since + LG_TIMEOUT_NS;
		connect_failed(c, ETIMEDOUT, now);
		return conn_pump(c, now);
	case LS_BUSY:
		if (now - c->since < LG_TIMEOUT_NS)
			return c->since + LG_TIMEOUT_NS;
		conn_fail(c, &st.timeouts, now);
		return conn_pump(c, now);
	case LS_IDLE:
		if (c->seq >= cfg.total)
			return UINT64_MAX;
		if (due_of(c->seq) > now)
			return due_of(c->seq);
		conn_send(c, now);
		return conn_pump(c, now);
	}
	return UINT64_MAX;
}

/* has_word - does the header value v contain w, ignoring case? */
static bool
has_word(const char *v, size_t vl, const char *w)
{
	size_t wl = strlen(w);

	for (size_t i = 0; i + wl <= vl; i++)
		if (strncasecmp(v + i, w, wl) == 0)
			return true;
	return false;
}

/* resp_head - read the status line and the headers that frame the body */
static int
resp_head(struct lg_conn *c, const char *p, size_t len)
{
	const char *end = p + len, *line;
	bool        http10, close = false, keep_alive = false;

	if (len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
	    p[8] != ' ' || strspn(p + 9, "0123456789") < 3)
		return -1;
	http10 = p[7] == '0';
	c->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (c->status < 100 || c->status > 599)
		return -1;
	c->chunked = c->has_len = false;
	c->left = 0;
	for (line = (const char *)memchr(p, '\n', len) + 1; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line)), *colon, *v;
		size_t      ll = (size_t)(eol - line), nl, vl;

		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break;
		if ((colon = memchr(line, ':', ll)) == NULL)
			return -1;
		nl = (size_t)(colon - line);
		for (v = colon + 1; v < line + ll && (*v == ' ' || *v == '\t'); v++)
			;
		vl = (size_t)(line + ll - v);
		if (nl == 14 && strncasecmp(line, "content-length", nl) == 0) {
			if (vl == 0 || vl > 18 || strspn(v, "0123456789") < vl)
				return -1;
			c->has_len = true;
			c->left = strtoull(v, NULL, 10);
		} else if (nl == 17 && strncasecmp(line, "transfer-encoding", nl) == 0) {
			c->chunked = has_word(v, vl, "chunked");
		} else if (nl == 10 && strncasecmp(line, "connection", nl) == 0) {
			close = close || has_word(v, vl, "close");
			keep_alive = keep_alive || has_word(v, vl, "keep-alive");
		}
		line = eol + 1;
	}
	c->close_after = close || (http10 && !keep_alive);
	return 0;
}

/* resp_parse - consume buffered bytes of the response: 1 complete, 0 need more, -1 bad */
static int
resp_parse(struct lg_conn *c)
{
	size_t pos = 0;
	int    rv = 0;

	while (rv == 0) {
		const char *p = c->in + pos, *eol;
		size_t      avail = c->in_len - pos, take;

		if (c->ps == LP_HEAD) {
			if ((eol = memmem(p, avail, "\r\n\r\n", 4)) == NULL) {
				rv = c->in_len == sizeof(c->in) ? -1 : 0; /* a head must fit */
				break;
			}
			take = (size_t)(eol - p) + 4;
			if (resp_head(c, p, take) != 0)
				return -1;
			pos += take;
			if (c->status < 200 && c->status != 101)
				continue; /* 100 Continue and the like: the answer follows */
			if (strcmp(cfg.method, "HEAD") == 0 || c->status == 204 ||
			    c->status == 304 || c->status == 101)
				rv = 1;
			else if (c->chunked)
				c->ps = LP_CHUNK_SIZE;
			else if (c->has_len && c->left == 0)
				rv = 1;
			else if (c->has_len)
				c->ps = LP_BODY;
			else {
				c->ps = LP_EOF; /* the body ends when the server closes */
				c->close_after = true;
			}
		} else if (c->ps == LP_BODY || c->ps == LP_CHUNK_DATA) {
			if (avail == 0)
				break;
			take = avail < c->left ? avail : (size_t)c->left;
			pos += take;
			if ((c->left -= take) == 0 && c->ps == LP_BODY)
				rv = 1;
			else if (c->left == 0)
				c->ps = LP_CHUNK_END;
		} else if (c->ps == LP_CHUNK_END) {
			if (avail < 2)
				break;
			if (p[0] != '\r' || p[1] != '\n')
				return -1;
			pos += 2;
			c->ps = LP_CHUNK_SIZE;
		} else if (c->ps == LP_CHUNK_SIZE || c->ps == LP_TRAILER) {
			if ((eol = memmem(p, avail, "\r\n", 2)) == NULL) {
				rv = avail > LG_LINE_MAX ? -1 : 0;
				break;
			}
			take = (size_t)(eol - p);
			pos += take + 2;
			if (c->ps == LP_TRAILER) {
				rv = take == 0; /* an empty line ends the trailers */
			} else {
				size_t hex = strspn(p, "0123456789abcdefABCDEF");

				if (hex == 0 || hex > 15 ||
				    (hex < take && p[hex] != ';' && p[hex] != ' '))
					return -1;
				c->left = strtoull(p, NULL, 16);
				c->ps = c->left == 0 ? LP_TRAILER : LP_CHUNK_DATA;
			}
		} else { /* LP_EOF: drop everything until the server closes */
			pos = c->in_len;
			break;
		}
	}
	memmove(c->in, c->in + pos, c->in_len - pos);
	c->in_len -= pos;
	return rv;
}

/* record - keep one latency, growing the array if the estimate was short */
static void
record(uint64_t lat)
{
	if (st.nlat == st.cap) {
		uint64_t *n = realloc(st.lat, st.cap * 2 * sizeof(*n));

		if (n == NULL)
			return; /* keep going: this one sample is lost */
		st.lat = n;
		st.cap *= 2;
	}
	st.lat[st.nlat++] = lat;
}

/* resp_done - the response to c's request is complete: count it, free the connection */
static void
resp_done(struct lg_conn *c, uint64_t now)
{
	if (now >= cfg.tw && now < cfg.tend)
		st.window_done++;
	if (c->cur >= cfg.first) {
		st.status[c->status / 100]++;
		st.closes += c->close_after;
		record(now - c->due);
	}
	c->state = LS_IDLE;
	if (c->close_after || c->in_len > 0) /* closed, or sent bytes nobody asked for */
		conn_close(c, now);
}

/* conn_read - read what the socket has and move the response along */
static void
conn_read(struct lg_conn *c)
{
	ssize_t  n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
	uint64_t now = now_ns();
	int      rv;

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n == 0 && c->state == LS_BUSY && c->ps == LP_EOF) {
		resp_done(c, now);
	} else if (n <= 0 || c->state != LS_BUSY) {
		conn_fail(c, &st.io_err, now); /* idle: the server closed a keep-alive connection */
	} else {
		c->in_len += (size_t)n;
		if ((rv = resp_parse(c)) < 0)
			conn_fail(c, &st.io_err, now);
		else if (rv > 0)
			resp_done(c, now);
	}
}

/* conn_event - handle epoll's news for c */
static void
conn_event(struct lg_conn *c, uint32_t events)
{
	if (c->state == LS_CONNECTING) {
		int       err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err != 0) {
			connect_failed(c, err, now_ns());
		} else {
			c->state = LS_IDLE;
			conn_watch(c, EPOLLIN | EPOLLRDHUP);
		}
		return;
	}
	if ((events & EPOLLOUT) && c->state == LS_BUSY && c->out_len > 0)
		conn_flush(c, now_ns());
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->fd >= 0)
		conn_read(c);
	if ((events & (EPOLLRDHUP | EPOLLHUP)) && c->state == LS_IDLE)
		conn_close(c, now_ns()); /* the server closed after answering: reconnect first */
}

/* wait_events - epoll until events arrive or the clock reaches until */
static int
wait_events(struct epoll_event *ev, int max, uint64_t until)
{
	uint64_t now = now_ns(), d = until > now ? until - now : 0;

#ifdef LG_HAVE_PWAIT2
	static bool no_pwait2;

	if (!no_pwait2) {
		struct timespec ts = {.tv_sec = (time_t)(d / LG_NS), .tv_nsec = (long)(d % LG_NS)};
		int             n = epoll_pwait2(lg_ep, ev, max, &ts, NULL);

		if (n >= 0 || errno != ENOSYS)
			return n;
		no_pwait2 = true;
	}
#endif
	if (d > LG_NS)
		d = LG_NS;
	return epoll_wait(lg_ep, ev, max, (int)((d + 999999) / 1000000)); /* late, never early */
}

/* cmp_u64 - qsort order for latencies */
static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* pct_ms - the latency at permille pm of the sorted samples (nearest rank), in ms */
static double
pct_ms(unsigned pm)
{
	size_t rank = (st.nlat * pm + 999) / 1000;

	if (st.nlat == 0)
		return 0;
	return (double)st.lat[rank > 0 ? rank - 1 : 0] / 1e6;
}

/* report - the RESULT line on stdout; the breakdown and any warning on stderr */
static void
report(void)
{
	long   responses = 0, requests = (long)(cfg.total - cfg.first), unanswered, errors;
	double rps = (double)st.window_done / cfg.seconds;

	qsort(st.lat, st.nlat, sizeof(st.lat[0]), cmp_u64);
	for (int i = 1; i <= 5; i++)
		responses += st.status[i];
	unanswered = requests - responses - st.connect_err - st.io_err - st.timeouts;
	errors =
	    st.status[4] + st.status[5] + st.connect_err + st.io_err + st.timeouts + unanswered;
	printf("RESULT p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f rps=%.0f "
	       "target_rps=%d errors=%d requests=%d\n",
	       pct_ms(500), pct_ms(900), pct_ms(990), pct_ms(999), pct_ms(1000), rps, cfg.rate,
	       (int)errors, (int)requests);
	fflush(stdout);
	fprintf(stderr,
	        "clubos-loadgen: responses 1xx=%ld 2xx=%ld 3xx=%ld 4xx=%ld 5xx=%ld; failed "
	        "connect=%ld io=%ld timeout=%ld unanswered=%ld; connection closes=%ld, "
	        "reconnects=%ld\n",
	        st.status[1], st.status[2], st.status[3], st.status[4], st.status[5],
	        st.connect_err, st.io_err, st.timeouts, unanswered, st.closes, st.reconnects);
	if (rps < 0.95 * cfg.rate)
		fprintf(
		    stderr,
		    "clubos-loadgen: warning: %.0f responses/s is below 95%% of the target %d/s: "
		    "the server could not keep up; latencies include queueing\n",
		    rps, cfg.rate);
}

/* main - connect, run the schedule (warmup, then measured), report */
int
main(int argc, char **argv)
{
	struct epoll_event evs[LG_EVENTS];
	uint64_t           deadline;

	parse_args(argc, argv);
	load_requests();
	signal(SIGPIPE, SIG_IGN);
	st.cap = (size_t)((double)cfg.rate * cfg.seconds * 1.1) + 16;
	st.lat = malloc(st.cap * sizeof(*st.lat));
	lg_conns = calloc((size_t)cfg.conns, sizeof(*lg_conns));
	if (st.lat == NULL || lg_conns == NULL || (lg_ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		fprintf(stderr, "clubos-loadgen: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < cfg.conns; i++) {
		lg_conns[i].seq = (uint64_t)i;
		if (conn_open(&lg_conns[i], true, now_ns()) != 0) {
			fprintf(stderr,
			        "clubos-loadgen: cannot connect to %s (connection %d of %d): %s\n",
			        cfg.host, i + 1, cfg.conns, strerror(errno));
			return 1;
		}
	}
	fprintf(stderr,
	        "clubos-loadgen: %s %s, %d connections, %d req/s for %d s after %d s warmup\n",
	        cfg.method, cfg.url, cfg.conns, cfg.rate, cfg.seconds, cfg.warmup);
	cfg.t0 = now_ns();
	cfg.tw = cfg.t0 + (uint64_t)cfg.warmup * LG_NS;
	cfg.tend = cfg.tw + (uint64_t)cfg.seconds * LG_NS;
	cfg.first = (uint64_t)cfg.rate * (uint64_t)cfg.warmup;
	cfg.total = cfg.first + (uint64_t)cfg.rate * (uint64_t)cfg.seconds;
	deadline = cfg.tend + LG_TIMEOUT_NS; /* after that, what is left is unanswered */
	for (;;) {
		uint64_t now = now_ns(), next = deadline;
		bool     work = false;
		int      n;

		if (now >= deadline)
			break;
		for (int i = 0; i < cfg.conns; i++) {
			uint64_t t = conn_pump(&lg_conns[i], now);

			next = t < next ? t : next;
			work = work || lg_conns[i].seq < cfg.total || lg_conns[i].state == LS_BUSY;
		}
		if (!work)
			break;
		if ((n = wait_events(evs, LG_EVENTS, next)) < 0 && errno != EINTR) {
			fprintf(stderr, "clubos-loadgen: epoll: %s\n", strerror(errno));
			return 1;
		}
		for (int k = 0; k < n; k++) {
			struct lg_conn *c = &lg_conns[evs[k].data.u64 & 0xffffffffu];

			if (c->fd >= 0 && c->gen == (uint32_t)(evs[k].data.u64 >> 32))
				conn_event(c, evs[k].events);
		}
	}
	report();
	return 0;
}
