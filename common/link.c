/*
 * link.c - a socket's connected pipes and its dialer (see link.h)
 */
#include "common/link.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>

#include "common/env.h"
#include "common/log.h"
#include "common/util.h"

/*
 * TLS between hosts.  One client and one server configuration per process,
 * made once (link_tls_setup) before any socket dials or listens, and
 * never changed after: every tls+tcp dialer and listener shares them.
 * Both sides present a certificate signed by the deployment's CA and
 * require one from the peer; the client checks the server's against
 * CLUBOS_TLS_SERVER_NAME, since hosts are reached by address.
 */
static nng_tls_config *link_tls_client, *link_tls_server;

/* tls_url - does url need TLS? */
static bool
tls_url(const char *url)
{
	return strncmp(url, "tls+", 4) == 0;
}

/* tls_config - one side's configuration; 0 or an nng error (what, in why) */
static int
tls_config(nng_tls_config **out, nng_tls_mode mode, const char *ca, const char *cert,
           const char *server_name, const char **why)
{
	nng_tls_config *t;
	int             rv;

	if ((rv = nng_tls_config_alloc(&t, mode)) != 0) {
		*why = "TLS";
		return rv;
	}
	if ((rv = nng_tls_config_ca_file(t, ca)) != 0)
		*why = ca;
	else if ((rv = nng_tls_config_cert_key_file(t, cert, NULL)) != 0)
		*why = cert;
	else if ((rv = nng_tls_config_auth_mode(t, NNG_TLS_AUTH_MODE_REQUIRED)) != 0)
		*why = "TLS auth mode";
	else if (mode == NNG_TLS_MODE_CLIENT &&
	         (rv = nng_tls_config_server_name(t, server_name)) != 0)
		*why = "TLS server name";
	if (rv != 0) {
		nng_tls_config_free(t);
		return rv;
	}
	*out = t;
	return 0;
}

/* link_tls_setup - see link.h */
int
link_tls_setup(const char *ca, const char *cert, const char *server_name, char *err, size_t errcap)
{
	const char *why = "";
	int         rv;

	if (ca == NULL || *ca == '\0')
		return 0;
	if (link_tls_client != NULL)
		return 0; /* made once: sockets may share it already */
	if ((rv = tls_config(&link_tls_server, NNG_TLS_MODE_SERVER, ca, cert, server_name, &why)) !=
	        0 ||
	    (rv = tls_config(&link_tls_client, NNG_TLS_MODE_CLIENT, ca, cert, server_name, &why)) !=
	        0) {
		if (link_tls_server != NULL)
			nng_tls_config_free(link_tls_server);
		link_tls_server = NULL;
		snprintf(err, errcap, "TLS: %s: %s", why, nng_strerror(rv));
		return -1;
	}
	return 0;
}

/*
 * nng 1.5.2 adds a new dialer's or listener's transport statistics (TLS's,
 * say) to the tree that nng_stats_get walks, without the lock that walk
 * holds (ThreadSanitizer, with an instrumented libnng: nni_stat_add from
 * tlstran_ep_init against stat_make_tree).  Making one and walking the
 * statistics (the listener watch) are serialized here.
 */
static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;

/* listen_start - a started listener on url (TLS applied), in *out */
static int
listen_start(nng_socket s, const char *url, nng_listener *out)
{
	nng_listener l;
	int          rv;

	pthread_mutex_lock(&stats_mu);
	rv = nng_listener_create(&l, s, url);
	pthread_mutex_unlock(&stats_mu);
	if (rv != 0)
		return rv;
	if (tls_url(url) &&
	    (rv = link_tls_server == NULL
	              ? NNG_ENOTSUP
	              : nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, link_tls_server)) != 0) {
		nng_listener_close(l);
		return rv;
	}
	if ((rv = nng_listener_start(l, 0)) != 0)
		nng_listener_close(l);
	else
		*out = l;
	return rv;
}

static void watch_add(nng_socket s, nng_listener l, const char *url);

/* link_listen - see link.h */
int
link_listen(nng_socket s, const char *url)
{
	nng_listener l;
	int          rv;

	if ((rv = listen_start(s, url, &l)) == 0)
		watch_add(s, l, url);
	return rv;
}

/* link_dialer - see link.h */
int
link_dialer(nng_dialer *out, nng_socket s, const char *url)
{
	nng_dialer d;
	int        rv;

	pthread_mutex_lock(&stats_mu);
	rv = nng_dialer_create(&d, s, url);
	pthread_mutex_unlock(&stats_mu);
	if (rv != 0)
		return rv;
	if (tls_url(url) &&
	    (rv = link_tls_client == NULL
	              ? NNG_ENOTSUP
	              : nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, link_tls_client)) != 0) {
		nng_dialer_close(d);
		return rv;
	}
	*out = d;
	return 0;
}

/* link_event - keep the set of connected pipes: a pipe leaves only if it entered */
static void
link_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct link *l = arg;
	uint32_t     id = (uint32_t)nng_pipe_id(p);

	pthread_mutex_lock(&l->mu);
	if (ev == NNG_PIPE_EV_ADD_POST) {
		if (l->npipes == l->cap) {
			int       cap = l->cap ? l->cap * 2 : 8;
			uint32_t *grown = realloc(l->pipes, (size_t)cap * sizeof(*grown));

			if (grown == NULL) { /* not counted: a call may fail fast, none hangs */
				pthread_mutex_unlock(&l->mu);
				log_warn("link: out of memory counting the peers of %s", l->url);
				return;
			}
			l->pipes = grown;
			l->cap = cap;
		}
		l->pipes[l->npipes++] = id;
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		for (int i = 0; i < l->npipes; i++)
			if (l->pipes[i] == id) {
				l->pipes[i] = l->pipes[--l->npipes];
				if (l->npipes == 0)
					atomic_store(&l->lost_us, env_mono_us());
				break;
			}
	}
	atomic_store(&l->peers, l->npipes);
	pthread_mutex_unlock(&l->mu);
}

/* Every link between link_init and link_fini (link_log_all). */
static pthread_mutex_t link_all_mu = PTHREAD_MUTEX_INITIALIZER;
static struct link    *link_all;

/* link_init - watch sock's pipes */
void
link_init(struct link *l, nng_socket sock, const char *url, bool dials, int reconn_min_ms,
          int reconn_max_ms)
{
	memset(l, 0, sizeof(*l));
	l->sock = sock;
	pthread_mutex_init(&l->mu, NULL);
	pthread_mutex_init(&l->dial_mu, NULL);
	l->opened_us = env_mono_us();
	l->dials = dials;
	l->reconn_min_ms = reconn_min_ms;
	l->reconn_max_ms = reconn_max_ms;
	snprintf(l->url, sizeof(l->url), "%s", url);
	pthread_mutex_lock(&link_all_mu);
	l->next = link_all;
	link_all = l;
	pthread_mutex_unlock(&link_all_mu);
	nng_pipe_notify(sock, NNG_PIPE_EV_ADD_POST, link_event, l);
	nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, link_event, l);
}

/* dial - a dialer that keeps dialing for as long as it lives; the first attempt does not block */
static int
dial(struct link *l, nng_dialer *out)
{
	nng_dialer d;
	int        rv;

	if ((rv = link_dialer(&d, l->sock, l->url)) != 0)
		return rv;
	nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, l->reconn_min_ms);
	nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, l->reconn_max_ms);
	if ((rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0)
		nng_dialer_close(d);
	else
		*out = d;
	return rv;
}

/* link_start - listen or dial */
int
link_start(struct link *l)
{
	int rv;

	if (!l->dials)
		return link_listen(l->sock, l->url);
	pthread_mutex_lock(&l->dial_mu);
	rv = dial(l, &l->dialer);
	pthread_mutex_unlock(&l->dial_mu);
	return rv;
}

/* link_unwatch - no more events on l (before its socket is closed) */
void
link_unwatch(struct link *l)
{
	nng_pipe_notify(l->sock, NNG_PIPE_EV_ADD_POST, NULL, NULL);
	nng_pipe_notify(l->sock, NNG_PIPE_EV_REM_POST, NULL, NULL);
}

/* link_fini - free what l holds (after its socket is closed) */
void
link_fini(struct link *l)
{
	pthread_mutex_lock(&link_all_mu);
	for (struct link **pp = &link_all; *pp != NULL; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	pthread_mutex_unlock(&link_all_mu);
	pthread_mutex_destroy(&l->mu);
	pthread_mutex_destroy(&l->dial_mu);
	free(l->pipes);
	l->pipes = NULL;
}

/* Set when a close did not finish: nng's reaper is stuck (link.h). */
static atomic_bool link_wedged;

/*
 * Listeners that stop taking connections (link.h).  One entry per
 * listening socket, made by link_listen.  The socket's ADD_PRE callback
 * counts the pipes it takes; an entry is freed by the watch thread once
 * its socket is closed (no callback can run after nng_close returns).
 */
struct watch {
	nng_socket    sock;
	nng_listener  lst;     /* under watch_mu; id 0 when making it again failed */
	atomic_uint   accepts; /* pipes the socket has taken (ADD_PRE) */
	unsigned      seen;    /* accepts at the last look; watch thread */
	uint64_t      errors;  /* the listener's failed accepts at the last look (nng stats) */
	bool          due;     /* to be probed this round; under watch_mu */
	bool          gone;    /* its socket is being closed: never touched again */
	bool          closed;  /* ... and it is: free it */
	bool          busy;    /* the watch thread is probing it */
	char          url[200];
	struct watch *next;
};

static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER;
static struct watch   *watch_all;
static bool            watch_running; /* under watch_mu */
static atomic_int      watch_ms = LINK_WATCH_MS;
static pthread_mutex_t round_mu = PTHREAD_MUTEX_INITIALIZER; /* held for a round */
static atomic_uint     watch_probes, watch_alive, watch_relistens;

/* watch_event - ADD_PRE on a listening socket: it takes pipes */
static void
watch_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct watch *w = arg;

	(void)p;
	(void)ev;
	atomic_fetch_add(&w->accepts, 1);
}

enum { PROBE_UNKNOWN, PROBE_ALIVE, PROBE_DEAD };

/* probe_addr - where url listens, for a plain socket: ipc:// (unix://)
 * and tcp:// (tcp4://, tcp6://); -1 for anything else */
static int
probe_addr(const char *url, struct sockaddr_storage *ss, socklen_t *len)
{
	static const char *const ipc[] = {"ipc://", "unix://"}, *const tcp[] = {"tcp://", "tcp4://",
	                                                                        "tcp6://"};
	char                host[200], *colon;
	const char         *rest = NULL;
	struct addrinfo     hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;

	memset(ss, 0, sizeof(*ss));
	for (size_t i = 0; i < sizeof(ipc) / sizeof(ipc[0]); i++)
		if (strncmp(url, ipc[i], strlen(ipc[i])) == 0) {
			rest = url + strlen(ipc[i]);
			if (strlen(rest) >= sizeof(sun->sun_path))
				return -1;
			sun->sun_family = AF_UNIX;
			strcpy(sun->sun_path, rest);
			*len = (socklen_t)sizeof(*sun);
			return 0;
		}
	for (size_t i = 0; i < sizeof(tcp) / sizeof(tcp[0]) && rest == NULL; i++)
		if (strncmp(url, tcp[i], strlen(tcp[i])) == 0)
			rest = url + strlen(tcp[i]);
	if (rest == NULL || snprintf(host, sizeof(host), "%s", rest) >= (int)sizeof(host) ||
	    (colon = strrchr(host, ':')) == NULL)
		return -1;
	*colon = '\0';
	if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') { /* [v6]:port */
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	if (host[0] == '\0' || strcmp(host, "*") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* probe_io - wait up to ms for fd to be ready for events; true if it is */
static bool
probe_io(int fd, short events, int ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int           rv;

	while ((rv = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	return rv == 1 && (p.revents & events) != 0;
}

/* The SP handshake a probe speaks: pair0, a protocol no listening socket
 * here takes (each refuses it after ADD_PRE, so no request is ever
 * routed to a probe).  nng's own handshake waits 10 s; so does a probe
 * for the listener's header, so that it is never the peer that leaves
 * mid-way. */
static const uint8_t probe_hello[8] = {0, 'S', 'P', 0, 0x00, 0x10, 0, 0};
#define PROBE_HEADER_WAIT_US (10 * 1000000LL)

/* is_header - is head (8 bytes) an SP handshake header? */
static bool
is_header(const uint8_t *head)
{
	return head[0] == 0 && head[1] == 'S' && head[2] == 'P' && head[3] == 0;
}

/* plain_hello - connect to url (ipc://, tcp://) with a plain socket, send
 * the probe's handshake and read the listener's; the connection, or -1
 * (no connection, or no header within PROBE_HEADER_WAIT_US) */
static int
plain_hello(const char *url)
{
	struct sockaddr_storage ss;
	socklen_t               len;
	uint8_t                 head[8];
	size_t                  got = 0;
	int                     fd;
	int64_t                 until;

	if (probe_addr(url, &ss, &len) != 0)
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	atomic_fetch_add(&watch_probes, 1);
	if (connect(fd, (struct sockaddr *)&ss, len) != 0 &&
	    (errno != EINPROGRESS || !probe_io(fd, POLLOUT, LINK_PROBE_WAIT_MS)))
		goto fail; /* no connection: nothing to leave mid-way */
	if (send(fd, probe_hello, sizeof(probe_hello), MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(probe_hello))
		goto fail;
	until = env_mono_us() + PROBE_HEADER_WAIT_US;
	while (got < sizeof(head)) {
		int64_t left = (until - env_mono_us()) / 1000;
		ssize_t n;

		if (left <= 0 || !probe_io(fd, POLLIN, (int)left))
			goto fail;
		if ((n = recv(fd, head + got, sizeof(head) - got, 0)) <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			goto fail;
		}
		got += (size_t)n;
	}
	if (is_header(head))
		return fd;
fail:
	close(fd);
	return -1;
}

/* tls_io - send all of buf on st, or receive len bytes into it, before
 * until (monotonic us); true if it all went through */
static bool
tls_io(nng_stream *st, nng_aio *aio, bool sending, uint8_t *buf, size_t len, int64_t until)
{
	size_t done = 0;

	while (done < len) {
		nng_iov iov = {.iov_buf = buf + done, .iov_len = len - done};
		int64_t left = (until - env_mono_us()) / 1000;

		if (left <= 0)
			return false;
		nng_aio_set_timeout(aio, (nng_duration)left);
		if (nng_aio_set_iov(aio, 1, &iov) != 0)
			return false;
		if (sending)
			nng_stream_send(st, aio);
		else
			nng_stream_recv(st, aio);
		nng_aio_wait(aio);
		if (nng_aio_result(aio) != 0)
			return false;
		done += nng_aio_count(aio);
	}
	return true;
}

/* tls_hello - plain_hello over TLS (tls+tcp://), with this process's
 * client configuration: the stream, or NULL */
static nng_stream *
tls_hello(const char *url)
{
	uint8_t            hello[sizeof(probe_hello)], head[8];
	nng_stream_dialer *d = NULL;
	nng_aio           *aio = NULL;
	nng_stream        *st = NULL;
	bool               ok = false;
	int64_t            until;

	if (link_tls_client == NULL || nng_stream_dialer_alloc(&d, url) != 0)
		return NULL;
	if (nng_stream_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, link_tls_client) != 0 ||
	    nng_aio_alloc(&aio, NULL, NULL) != 0)
		goto out;
	atomic_fetch_add(&watch_probes, 1);
	nng_aio_set_timeout(aio, LINK_PROBE_WAIT_MS);
	nng_stream_dialer_dial(d, aio);
	nng_aio_wait(aio);
	if (nng_aio_result(aio) != 0)
		goto out; /* no connection: nothing to leave mid-way */
	st = nng_aio_get_output(aio, 0);
	memcpy(hello, probe_hello, sizeof(hello)); /* an iov's buffer is not const */
	/* The TLS handshake runs under the first send; both it and the SP
	 * handshake get nng's 10 s. */
	until = env_mono_us() + PROBE_HEADER_WAIT_US;
	ok = tls_io(st, aio, true, hello, sizeof(hello), until) &&
	     tls_io(st, aio, false, head, sizeof(head), until) && is_header(head);
out:
	if (!ok && st != NULL) {
		nng_stream_close(st);
		nng_stream_free(st);
		st = NULL;
	}
	if (aio != NULL)
		nng_aio_free(aio);
	nng_stream_dialer_free(d);
	return st;
}

/*
 * probe - connect to w's address and speak the SP handshake as pair0
 * (plain_hello, tls_hello).  ALIVE: the socket took the pipe; DEAD: the
 * listener's header came but the socket took nothing within
 * LINK_PROBE_WAIT_MS; UNKNOWN: no handshake.  The connection is closed
 * only once the listener has sent its header.  (An nng dialer would not
 * do: refused, it dials again, often at once, since nng 1.5.2's back-off
 * is (int)random % backoff, negative half the time, and closing it then
 * stops the listener it came to check.  A stream dialer dials once.)
 */
static int
probe(struct watch *w, const char *url, unsigned before)
{
	nng_stream *st = NULL;
	int         fd = -1, verdict = PROBE_DEAD;
	int64_t     until;

	if (tls_url(url) ? (st = tls_hello(url)) == NULL : (fd = plain_hello(url)) < 0)
		return PROBE_UNKNOWN;
	until = env_mono_us() + (int64_t)LINK_PROBE_WAIT_MS * 1000;
	while (env_mono_us() < until)
		if (atomic_load(&w->accepts) != before) {
			verdict = PROBE_ALIVE;
			atomic_fetch_add(&watch_alive, 1);
			break;
		} else {
			nng_msleep(2);
		}
	if (st != NULL) {
		nng_stream_close(st);
		nng_stream_free(st);
	} else {
		close(fd);
	}
	return verdict;
}

/* relisten - close w's listener and listen again (watch_mu held) */
static void
relisten(struct watch *w)
{
	int rv;

	if (nng_listener_id(w->lst) > 0)
		nng_listener_close(w->lst); /* and the pipes it took: their peers dial again */
	w->lst = (nng_listener)NNG_LISTENER_INITIALIZER;
	if ((rv = listen_start(w->sock, w->url, &w->lst)) != 0) {
		log_warn("link: listening afresh on %s failed: %s; trying again", w->url,
		         nng_strerror(rv));
		return;
	}
	atomic_fetch_add(&watch_relistens, 1);
	w->seen = atomic_load(&w->accepts);
	w->errors = 0; /* a new listener's own count */
	log_warn("link: %s had stopped taking connections (nng 1.5.2 does after a peer leaves "
	         "mid-handshake): listening afresh",
	         w->url);
}

/* listener_errors - the accepts listener id failed, as nng counts them
 * ("other" and "canceled": the two kinds a stopped listener's last
 * error is counted in); false if all has no such listener */
static bool
listener_errors(nng_stat *all, int id, uint64_t *out)
{
	for (nng_stat *s = nng_stat_child(all); s != NULL; s = nng_stat_next(s)) {
		nng_stat *v;

		if (strcmp(nng_stat_name(s), "listener") != 0 ||
		    (v = nng_stat_find(s, "id")) == NULL || (int)nng_stat_value(v) != id)
			continue;
		*out = 0;
		if ((v = nng_stat_find(s, "other")) != NULL)
			*out += nng_stat_value(v);
		if ((v = nng_stat_find(s, "canceled")) != NULL)
			*out += nng_stat_value(v);
		return true;
	}
	return false;
}

/* watch_round - free the entries of closed sockets, then probe each
 * listener that may have stopped: one whose failed accepts nng counted
 * since the last round (a stopped listener's last error is one), or,
 * without nng's statistics, one that took no pipe */
static void
watch_round(void)
{
	nng_stat *all = NULL;

	pthread_mutex_lock(&stats_mu);
	if (nng_stats_get(&all) != 0)
		all = NULL;
	pthread_mutex_unlock(&stats_mu);
	pthread_mutex_lock(&watch_mu);
	for (struct watch **pp = &watch_all; *pp != NULL;) {
		struct watch *w = *pp;

		if (w->closed && !w->busy) {
			*pp = w->next;
			free(w);
			continue;
		}
		if (!w->gone) {
			unsigned a = atomic_load(&w->accepts);
			uint64_t e;

			if (all == NULL) { /* no statistics: every listener that took nothing */
				w->due = a == w->seen;
			} else if (!listener_errors(all, nng_listener_id(w->lst), &e)) {
				w->due = true; /* gone from nng's view: look */
			} else {
				w->due = e != w->errors;
				w->errors = e;
			}
			w->seen = a;
		}
		pp = &w->next;
	}
	pthread_mutex_unlock(&watch_mu);
	if (all != NULL)
		nng_stats_free(all);
	for (;;) {
		struct watch *w;
		char          url[sizeof(w->url)];
		unsigned      before;
		int           verdict = PROBE_DEAD;

		pthread_mutex_lock(&watch_mu);
		for (w = watch_all; w != NULL && (w->gone || !w->due); w = w->next)
			;
		if (w == NULL || atomic_load(&link_wedged)) {
			pthread_mutex_unlock(&watch_mu);
			return;
		}
		w->due = false;
		before = w->seen;
		if (nng_listener_id(w->lst) > 0) { /* else: making it again failed; try now */
			w->busy = true;
			snprintf(url, sizeof(url), "%s", w->url);
			pthread_mutex_unlock(&watch_mu);
			verdict = probe(w, url, before);
			pthread_mutex_lock(&watch_mu);
			w->busy = false;
		}
		if (verdict == PROBE_DEAD && !w->gone)
			relisten(w);
		else if (verdict == PROBE_ALIVE)
			w->seen = atomic_load(&w->accepts); /* the probe's own pipe */
		else if (verdict == PROBE_UNKNOWN)
			w->errors = UINT64_MAX; /* no answer: look again next round */
		pthread_mutex_unlock(&watch_mu);
	}
}

/* watch_main - a round every watch_ms (0: paused), looked at every 100
 * ms at most so that a new period takes effect at once */
static void *
watch_main(void *arg)
{
	int64_t last = env_mono_us();

	(void)arg;
	for (;;) {
		int ms = atomic_load(&watch_ms);

		nng_msleep(ms > 0 && ms < 100 ? ms : 100);
		pthread_mutex_lock(&round_mu);
		ms = atomic_load(&watch_ms);
		if (ms > 0 && env_mono_us() - last >= (int64_t)ms * 1000) {
			watch_round();
			last = env_mono_us();
		}
		pthread_mutex_unlock(&round_mu);
	}
	return NULL;
}

/* watch_find - the live entry of socket s (watch_mu held), or NULL */
static struct watch *
watch_find(nng_socket s)
{
	struct watch *w;

	for (w = watch_all; w != NULL && (w->gone || w->sock.id != s.id); w = w->next)
		;
	return w;
}

/* watch_add - watch the listener l of s (link_listen) */
static void
watch_add(nng_socket s, nng_listener l, const char *url)
{
	struct watch *w;
	pthread_t     thr;

	pthread_mutex_lock(&watch_mu);
	if ((w = watch_find(s)) != NULL) { /* one per socket: ADD_PRE has one callback */
		pthread_mutex_unlock(&watch_mu);
		log_warn("link: %s is not watched: its socket already listens on %s", url, w->url);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		pthread_mutex_unlock(&watch_mu);
		log_warn("link: out of memory watching %s", url);
		return;
	}
	w->sock = s;
	w->lst = l;
	snprintf(w->url, sizeof(w->url), "%s", url);
	w->next = watch_all;
	watch_all = w;
	nng_pipe_notify(s, NNG_PIPE_EV_ADD_PRE, watch_event, w);
	if (!watch_running) {
		if (pthread_create(&thr, NULL, watch_main, NULL) == 0) {
			pthread_detach(thr);
			watch_running = true;
		} else {
			log_warn("link: cannot start the listener watch");
		}
	}
	pthread_mutex_unlock(&watch_mu);
}

/* watch_forget - s is being closed: its entry is never touched again */
static struct watch *
watch_forget(nng_socket s)
{
	struct watch *w;

	pthread_mutex_lock(&watch_mu);
	if ((w = watch_find(s)) != NULL) {
		nng_pipe_notify(s, NNG_PIPE_EV_ADD_PRE, NULL, NULL);
		w->gone = true;
	}
	pthread_mutex_unlock(&watch_mu);
	return w;
}

/* watch_closed - w's socket is closed: the watch thread may free it */
static void
watch_closed(struct watch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&watch_mu);
	w->closed = true;
	pthread_mutex_unlock(&watch_mu);
}

/* link_watch_set_ms - see link.h */
void
link_watch_set_ms(int ms)
{
	atomic_store(&watch_ms, ms);
	if (ms <= 0) { /* paused: no round runs once this returns */
		pthread_mutex_lock(&round_mu);
		pthread_mutex_unlock(&round_mu);
	}
}

/* link_watch_counts - see link.h */
void
link_watch_counts(unsigned *probes, unsigned *alive, unsigned *relistens)
{
	*probes = atomic_load(&watch_probes);
	*alive = atomic_load(&watch_alive);
	*relistens = atomic_load(&watch_relistens);
}

/* closer_main - close the socket whose id is arg */
static void *
closer_main(void *arg)
{
	nng_socket s = {.id = (uint32_t)(uintptr_t)arg};

	nng_close(s);
	return NULL;
}

/* link_sock_close - nng_close, waited for LINK_CLOSE_WAIT_MS at most (link.h) */
bool
link_sock_close(nng_socket s)
{
	pthread_t       thr;
	struct timespec until;

	struct watch *w;

	if (atomic_load(&link_wedged))
		return false;
	w = watch_forget(s);
	if (pthread_create(&thr, NULL, closer_main, (void *)(uintptr_t)s.id) != 0) {
		nng_close(s);
		watch_closed(w);
		return true;
	}
	until = util_deadline_ts(CLOCK_REALTIME, LINK_CLOSE_WAIT_MS);
	if (pthread_timedjoin_np(thr, NULL, &until) == 0) {
		watch_closed(w);
		return true;
	}
	pthread_detach(thr); /* left to finish, or not, on its own */
	if (!atomic_exchange(&link_wedged, true))
		log_warn(
		    "link: closing socket %d did not finish in %d ms: nng's reaper is stuck "
		    "(a pipe closed while a message arrived; nanomsg/nng#1813); this socket and "
		    "any closed after it are left to the process's exit",
		    nng_socket_id(s), LINK_CLOSE_WAIT_MS);
	return false;
}

/* link_close - close l's socket: no more events, the socket, then what l holds */
void
link_close(struct link *l)
{
	link_unwatch(l);
	link_sock_close(l->sock);
	link_fini(l);
}

/* link_peers - connected peers right now */
int
link_peers(const struct link *l)
{
	return atomic_load(&((struct link *)(uintptr_t)l)->peers);
}

/* link_redial - replace a dialer that has found no peer for LINK_REDIAL_AFTER_MS */
bool
link_redial(struct link *l)
{
	int64_t   now, lost, since;
	long long last;
	int       rv;

	if (!l->dials || link_peers(l) > 0)
		return false;
	now = env_mono_us();
	lost = atomic_load(&l->lost_us) != 0 ? atomic_load(&l->lost_us) : l->opened_us;
	last = atomic_load(&l->redialed_us);
	since = last > lost ? last : lost;
	if (now - since < (int64_t)LINK_REDIAL_AFTER_MS * 1000 ||
	    !atomic_compare_exchange_strong(&l->redialed_us, &last, now))
		return false;
	/* The old one is closed first, so two never race to connect. */
	pthread_mutex_lock(&l->dial_mu);
	nng_dialer_close(l->dialer);
	rv = dial(l, &l->dialer);
	pthread_mutex_unlock(&l->dial_mu);
	/* Said once per outage: a peer that stays away is retried quietly. */
	if (last <= lost || rv != 0)
		log_warn("link: no peer on %s for %lld ms: dialing afresh%s%s", l->url,
		         (long long)((now - lost) / 1000), rv != 0 ? ": " : "",
		         rv != 0 ? nng_strerror(rv) : "");
	return rv == 0;
}

/* link_dialer_id - the current dialer's id (tests); 0 when the link listens */
uint32_t
link_dialer_id(struct link *l)
{
	uint32_t id = 0;

	pthread_mutex_lock(&l->dial_mu);
	if (l->dials)
		id = (uint32_t)nng_dialer_id(l->dialer);
	pthread_mutex_unlock(&l->dial_mu);
	return id;
}

/* link_log_all - see link.h */
void
link_log_all(void)
{
	int64_t now = env_mono_us();

	pthread_mutex_lock(&link_all_mu);
	for (struct link *l = link_all; l != NULL; l = l->next) {
		char    ids[160] = "", since[48];
		size_t  n = 0;
		int     npipes;
		int64_t lost = atomic_load(&l->lost_us);

		pthread_mutex_lock(&l->mu);
		npipes = l->npipes;
		for (int i = 0; i < l->npipes && n + 12 < sizeof(ids); i++)
			n += (size_t)snprintf(ids + n, sizeof(ids) - n, "%s%u", i ? "," : "",
			                      (unsigned)l->pipes[i]);
		pthread_mutex_unlock(&l->mu);
		if (lost == 0)
			snprintf(since, sizeof(since), "no peer lost yet");
		else
			snprintf(since, sizeof(since), "last peer lost %lld ms ago",
			         (long long)((now - lost) / 1000));
		log_info("link: %s %s: %d peer(s) [%s]; %s; dialer %u",
		         l->dials ? "dials" : "listens on", l->url, npipes, ids, since,
		         (unsigned)link_dialer_id(l));
	}
	pthread_mutex_unlock(&link_all_mu);
}
