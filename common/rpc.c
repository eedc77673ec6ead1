/*
 * rpc.c - request/reply over nng with the envelope
 *
 * The server follows nng's own async demo, with blocking work moved to
 * threads: each worker thread owns one REP context and one aio and runs
 * recv -> handle -> send with nng_aio_wait, so blocking libpq or hiredis
 * calls never stall nng's callback threads.  Stopping cancels the receives
 * of idle workers; busy ones finish and send their reply first.
 */
#include "common/rpc.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "common/link.h"
#include "common/log.h"
#include "common/trace.h"
#include "common/util.h"

struct rpc_worker {
	rpc_server *srv;
	int         idx;
	pthread_t   thr;
	nng_ctx     ctx;
	nng_aio    *aio;
	void       *state;
	bool        started;
	atomic_bool receiving; /* waiting for a request: safe to cancel */
	atomic_bool done;
};

struct rpc_server {
	nng_socket            sock;
	char                  url[200]; /* what it listens on or dials */
	bool                  listens;
	struct rpc_server_ops ops;
	int                   n;
	struct rpc_worker    *w;
	atomic_bool           stopping;
	struct link          *link; /* a dialing server's peers and dialer (link_redial) */
};

struct rpc_client {
	struct link l;    /* its pipes and, when it dials, its dialer */
	rpc_client *next; /* every client of the process, for the health op */
};

/* Every client this process has open, so that the health op can say what
 * the process is connected to (a short list: one per peer daemon). */
static pthread_mutex_t rpc_clients_mu = PTHREAD_MUTEX_INITIALIZER;
static rpc_client     *rpc_clients;
static int64_t         rpc_started_us;

/* One call in flight: the aio's callback wakes the caller, who waits in
 * slices so that it can give up as soon as the last peer goes away. */
struct rpc_wait {
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	bool            done;
};

/* rpc_reply_clear - free a reply's body */
void
rpc_reply_clear(struct rpc_reply *rep)
{
	free(rep->body);
	rep->body = NULL;
	rep->len = 0;
	rep->status = 0;
}

/* rpc_reply_error - fill rep with an error in the contract's shape */
int
rpc_reply_error(struct rpc_reply *rep, uint16_t status, const char *code, const char *message)
{
	char buf[1024];

	free(rep->body);
	rep->body = NULL;
	rep->len = 0;
	rep->status = status;
	if (env_error_body(buf, sizeof(buf), code, message) < 0)
		return -1;
	rep->body = strdup(buf);
	rep->len = rep->body != NULL ? strlen(rep->body) : 0;
	return 0;
}

/* worker_reply - encode and send a reply on the worker's context */
static void
worker_reply(struct rpc_worker *w, const struct env_hdr *req, struct rpc_reply *rep)
{
	struct env_hdr h = *req;
	nng_msg       *m;

	h.status = rep->status;
	h.deadline_ms = 0;
	if (env_encode(&m, &h, rep->body, rep->len) < 0) {
		struct rpc_reply e = {0};

		rpc_reply_error(&e, 500, "internal", "reply too large to send");
		if (env_encode(&m, &h, e.body, e.len) < 0) {
			rpc_reply_clear(&e);
			return;
		}
		rpc_reply_clear(&e);
	}
	nng_aio_set_msg(w->aio, m);
	nng_ctx_send(w->ctx, w->aio);
	nng_aio_wait(w->aio);
	if (nng_aio_result(w->aio) != 0) {
		nng_msg_free(m);
		log_msg(LOG_WARN, req->trace_id, "rpc: reply not sent: %s",
		        nng_strerror(nng_aio_result(w->aio)));
	}
}

/*
 * rpc_health - the answer to ENV_OP_HEALTH, given by every server for its
 * daemon: its name and pid, what it serves, and every socket it dials or
 * listens on with the peers connected right now.  "ready" is false while a
 * socket it dials has no peer (the daemon it needs is unreachable); a
 * listening socket with no peer (a route with no worker) is reported, not
 * counted against readiness.
 */
static void
rpc_health(const rpc_server *s, struct rpc_reply *rep)
{
	cJSON *o = cJSON_CreateObject(), *socks;
	bool   ready = true;

	cJSON_AddStringToObject(o, "daemon", log_daemon_name());
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	cJSON_AddNumberToObject(o, "uptime_s",
	                        (double)((env_mono_us() - rpc_started_us) / 1000000));
	cJSON_AddStringToObject(o, s->listens ? "listens" : "dials", s->url);
	socks = cJSON_AddArrayToObject(o, "sockets");
	pthread_mutex_lock(&rpc_clients_mu);
	for (const rpc_client *c = rpc_clients; c != NULL; c = c->next) {
		cJSON *e = cJSON_CreateObject();
		int    peers = link_peers(&c->l);

		cJSON_AddStringToObject(e, "url", c->l.url);
		cJSON_AddStringToObject(e, "role", c->l.dials ? "dials" : "listens");
		cJSON_AddNumberToObject(e, "peers", peers);
		cJSON_AddItemToArray(socks, e);
		if (c->l.dials && peers == 0)
			ready = false;
	}
	pthread_mutex_unlock(&rpc_clients_mu);
	cJSON_AddBoolToObject(o, "ready", ready);
	rep->body = cJSON_PrintUnformatted(o);
	rep->len = rep->body != NULL ? strlen(rep->body) : 0;
	cJSON_Delete(o);
}

/*
 * clients_redial - every dialing client of the process that has had no
 * peer for a while dials afresh.  A client redials when a call waits for
 * a peer; one nobody calls (clubos-conversations' router link, between
 * messages) would otherwise stay down after its server restarted with a
 * stalled dialer, and its daemon not ready, until the next call.
 */
static void
clients_redial(void)
{
	pthread_mutex_lock(&rpc_clients_mu);
	for (rpc_client *c = rpc_clients; c != NULL; c = c->next)
		if (c->l.dials && link_peers(&c->l) == 0)
			link_redial(&c->l);
	pthread_mutex_unlock(&rpc_clients_mu);
}

/* worker_main - recv, handle, send, until stopped */
static void *
worker_main(void *arg)
{
	struct rpc_worker *w = arg;
	rpc_server        *s = w->srv;

	if (s->ops.worker_init != NULL)
		w->state = s->ops.worker_init(s->ops.arg, w->idx);
	while (!atomic_load(&s->stopping)) {
		struct env_hdr   h;
		struct rpc_reply rep = {0};
		const char      *body, *why;
		size_t           len;
		nng_msg         *m;
		int              rv;

		atomic_store(&w->receiving, true);
		/* An idle worker looks up from its wait now and then: a dialing
		 * server, or a client of this process that dials, with no peer
		 * for a while dials afresh (redial), calls or none. */
		nng_aio_set_timeout(w->aio, RPC_SERVER_CHECK_MS);
		nng_ctx_recv(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		atomic_store(&w->receiving, false);
		if ((rv = nng_aio_result(w->aio)) != 0) {
			if (rv == NNG_ECANCELED || rv == NNG_ECLOSED)
				break;
			/* Any idle worker may: one busy with a slow request (or
			 * stuck) must not leave the others without a peer. */
			if (rv == NNG_ETIMEDOUT) {
				if (s->link != NULL)
					link_redial(s->link);
				clients_redial();
			}
			continue;
		}
		nng_aio_set_timeout(w->aio, NNG_DURATION_DEFAULT);
		m = nng_aio_get_msg(w->aio);
		if (env_decode(m, &h, &body, &len, &why) < 0) {
			log_warn("rpc: undecodable request: %s", why);
			if (h.op == 0 || h.op >= ENV_OP_MAX)
				h.op = ENV_OP_PING;
			h.version = ENV_VERSION;
			rpc_reply_error(&rep, 400, "bad_envelope", why);
		} else if (h.deadline_ms != 0 && env_now_ms() > h.deadline_ms) {
			rpc_reply_error(&rep, 504, "deadline_exceeded",
			                "the request's deadline passed before work began");
		} else if (h.op == ENV_OP_HEALTH) {
			rpc_health(s, &rep);
		} else {
			s->ops.handle(s->ops.arg, w->state, &h, body, len, &rep);
		}
		nng_msg_free(m);
		worker_reply(w, &h, &rep);
		rpc_reply_clear(&rep);
		trace_end();
	}
	if (s->ops.worker_fini != NULL)
		s->ops.worker_fini(s->ops.arg, w->state);
	atomic_store(&w->done, true);
	return NULL;
}

/* rpc_server_start - open a REP socket and start nworkers threads */
rpc_server *
rpc_server_start(const char *url, bool listen, int nworkers, const struct rpc_server_ops *ops)
{
	rpc_server *s;
	int         rv;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->ops = *ops;
	s->n = nworkers;
	snprintf(s->url, sizeof(s->url), "%s", url);
	s->listens = listen;
	if (rpc_started_us == 0)
		rpc_started_us = env_mono_us();
	if ((s->w = calloc((size_t)nworkers, sizeof(*s->w))) == NULL)
		goto fail;
	if ((rv = nng_rep0_open(&s->sock)) != 0) {
		log_error("rpc: rep socket: %s", nng_strerror(rv));
		goto fail;
	}
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, ENV_MAX_MSG);
	/* A dialing server (a worker) keeps its peers and its dialer, so that
	 * an idle worker can dial afresh when nng's dialer stops (redial). */
	if (!listen) {
		if ((s->link = calloc(1, sizeof(*s->link))) == NULL) {
			nng_close(s->sock);
			goto fail;
		}
		link_init(s->link, s->sock, url, true, RPC_RECONN_MIN_MS, RPC_RECONN_MAX_MS);
	}
	rv = listen ? link_listen(s->sock, url) : link_start(s->link);
	if (rv != 0) {
		log_error("rpc: %s %s: %s", listen ? "listen" : "dial", url, nng_strerror(rv));
		if (s->link != NULL)
			link_close(s->link);
		else
			nng_close(s->sock);
		free(s->link);
		goto fail;
	}
	for (int i = 0; i < nworkers; i++) {
		struct rpc_worker *w = &s->w[i];

		w->srv = s;
		w->idx = i;
		if (nng_ctx_open(&w->ctx, s->sock) != 0 ||
		    nng_aio_alloc(&w->aio, NULL, NULL) != 0 ||
		    pthread_create(&w->thr, NULL, worker_main, w) != 0) {
			log_error("rpc: cannot start worker %d", i);
			rpc_server_stop(s, 0);
			return NULL;
		}
		w->started = true;
	}
	return s;
fail:
	free(s->w);
	free(s);
	return NULL;
}

/* probe_only - ping; health never reaches here (the server answers it) */
static void
probe_only(void *arg, void *worker, const struct env_hdr *h, const char *body, size_t len,
           struct rpc_reply *rep)
{
	(void)arg;
	(void)worker;
	(void)body;
	(void)len;
	if (h->op == ENV_OP_PING) {
		rep->body = strdup("{\"ok\":true}");
		rep->len = rep->body != NULL ? strlen(rep->body) : 0;
	} else {
		rpc_reply_error(rep, 400, "unknown_op", "this socket answers only health probes");
	}
}

/* rpc_probe_start - see rpc.h */
rpc_server *
rpc_probe_start(const char *url)
{
	static const struct rpc_server_ops ops = {.handle = probe_only};

	return rpc_server_start(url, true, 1, &ops);
}

/* rpc_server_stop - finish in-flight requests within deadline_ms, then close */
void
rpc_server_stop(rpc_server *s, int deadline_ms)
{
	int64_t until;

	if (s == NULL)
		return;
	atomic_store(&s->stopping, true);
	until = env_mono_us() + (int64_t)deadline_ms * 1000;
	for (;;) {
		bool busy = false;

		/* Idle workers wait in recv: cancel those.  A busy worker
		 * finishes and sends its reply, then sees `stopping`. */
		for (int i = 0; i < s->n; i++)
			if (s->w[i].started && !atomic_load(&s->w[i].done)) {
				if (atomic_load(&s->w[i].receiving))
					nng_aio_cancel(s->w[i].aio);
				busy = true;
			}
		if (!busy || env_mono_us() >= until)
			break;
		nng_msleep(5);
	}
	/* Closing the socket ends anything still waiting on it: a worker in
	 * recv or send gets NNG_ECLOSED and leaves its loop.  Its aio is stopped
	 * only after it has left: an operation begun on a stopped aio can wait
	 * for ever, which a worker finishing a slow handler would do. */
	if (s->link != NULL) /* no link events once it is freed below */
		link_unwatch(s->link);
	link_sock_close(s->sock);
	for (int i = 0; i < s->n; i++) {
		if (!s->w[i].started)
			continue;
		pthread_join(s->w[i].thr, NULL);
		nng_aio_stop(s->w[i].aio);
		nng_aio_free(s->w[i].aio);
	}
	if (s->link != NULL) /* the workers, which may redial, are gone */
		link_fini(s->link);
	free(s->link);
	free(s->w);
	free(s);
}

/*
 * in_grace - may a call still wait for a peer?  A new client waits
 * RPC_CONNECT_GRACE_MS for its first; a dialing client whose server went
 * away waits RPC_REDIAL_GRACE_MS for it to come back (a restart), since
 * nobody else can answer.  A listening client (workers dial in) never
 * waits once its grace from opening is over: the route is down.
 */
static bool
in_grace(const rpc_client *c)
{
	int64_t now = env_mono_us();

	if (now - c->l.opened_us < (int64_t)RPC_CONNECT_GRACE_MS * 1000)
		return true;
	return c->l.dials && atomic_load(&c->l.lost_us) != 0 &&
	       now - atomic_load(&c->l.lost_us) < (int64_t)RPC_REDIAL_GRACE_MS * 1000;
}

/* rpc_client_socket_id - the client's nng socket id (for tests that watch its pipes) */
uint32_t
rpc_client_socket_id(const rpc_client *c)
{
	return (uint32_t)nng_socket_id(c->l.sock);
}

/* rpc_client_open - a REQ socket that listens (for workers) or dials */
rpc_client *
rpc_client_open(const char *url, bool listen)
{
	rpc_client *c;
	nng_socket  sock;
	int         rv;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((rv = nng_req0_open(&sock)) != 0) {
		log_error("rpc: req socket: %s", nng_strerror(rv));
		free(c);
		return NULL;
	}
	nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, ENV_MAX_MSG);
	nng_socket_set_ms(sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	link_init(&c->l, sock, url, !listen, RPC_RECONN_MIN_MS, RPC_RECONN_MAX_MS);
	if ((rv = link_start(&c->l)) != 0) {
		log_error("rpc: %s %s: %s", listen ? "listen" : "dial", url, nng_strerror(rv));
		link_close(&c->l);
		free(c);
		return NULL;
	}
	pthread_mutex_lock(&rpc_clients_mu);
	c->next = rpc_clients;
	rpc_clients = c;
	pthread_mutex_unlock(&rpc_clients_mu);
	return c;
}

/* rpc_client_close - close the socket; calls in flight fail */
void
rpc_client_close(rpc_client *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&rpc_clients_mu);
	for (rpc_client **pp = &rpc_clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	pthread_mutex_unlock(&rpc_clients_mu);
	link_close(&c->l); /* no more link events on c from here: it is freed below */
	free(c);
}

/* rpc_client_peers - connected peers right now */
int
rpc_client_peers(const rpc_client *c)
{
	return link_peers(&c->l);
}

/* call_done - aio callback: wake the caller */
static void
call_done(void *arg)
{
	struct rpc_wait *w = arg;

	pthread_mutex_lock(&w->mu);
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/*
 * peer_lost - asked after a slice in which a call made no progress: true
 * when the client has no peer and is past its grace (the call fails fast);
 * a client without a peer but still in its grace redials and waits on.
 */
static bool
peer_lost(rpc_client *c)
{
	if (rpc_client_peers(c) > 0)
		return false;
	if (!in_grace(c))
		return true;
	link_redial(&c->l);
	return false;
}

/*
 * call_wait - wait for the aio to finish.  Returns 0 when it finished,
 * RPC_ENOPEER when the client had no peer for a whole slice (the aio is
 * then cancelled and finished).  While the client is in its grace
 * (in_grace) a missing peer is waited for, within the deadline.
 */
static int
call_wait(rpc_client *c, nng_aio *aio, struct rpc_wait *w)
{
	int ret = 0;

	pthread_mutex_lock(&w->mu);
	while (!w->done) {
		struct timespec ts = util_deadline_ts(CLOCK_MONOTONIC, RPC_PEER_CHECK_MS);

		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		if (w->done)
			break;
		if (peer_lost(c)) {
			ret = RPC_ENOPEER;
			break;
		}
	}
	pthread_mutex_unlock(&w->mu);
	if (ret != 0) {
		nng_aio_cancel(aio);
		nng_aio_wait(aio);
	}
	return ret;
}

/* rpc_client_wait_peer - wait until c has a peer or deadline_ms (epoch ms); true if it has */
bool
rpc_client_wait_peer(rpc_client *c, uint64_t deadline_ms)
{
	while (rpc_client_peers(c) == 0) {
		if (env_now_ms() >= deadline_ms)
			return false;
		link_redial(&c->l);
		nng_msleep(RPC_PEER_CHECK_MS);
	}
	return true;
}

/* rpc_client_dialer_id - the id of the client's current dialer (tests), 0 if it listens */
uint32_t
rpc_client_dialer_id(rpc_client *c)
{
	return link_dialer_id(&c->l);
}

/* rpc_server_dialer_id - the id of a dialing server's current dialer (tests), 0 if it listens */
uint32_t
rpc_server_dialer_id(rpc_server *s)
{
	return s->link != NULL ? link_dialer_id(s->link) : 0;
}

/* wait_for_peer - a client still within its grace waits for a first peer */
static bool
wait_for_peer(rpc_client *c, uint64_t deadline_ms)
{
	while (rpc_client_peers(c) == 0) {
		if (!in_grace(c) || env_now_ms() >= deadline_ms)
			return false;
		link_redial(&c->l);
		nng_msleep(5);
	}
	return true;
}

/* call_init - the lock and condition a call waits on */
static void
call_init(struct rpc_wait *w)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	w->done = false;
}

/* call_fini - undo call_init */
static void
call_fini(struct rpc_wait *w)
{
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

/* call_error - what a failed nng operation means to the caller */
static int
call_error(rpc_client *c, int rv)
{
	if (rpc_client_peers(c) == 0 && (rv == NNG_ETIMEDOUT || rv == NNG_ECONNRESET))
		return RPC_ENOPEER;
	return rv == NNG_ETIMEDOUT ? RPC_ETIMEDOUT : -1;
}

/*
 * send_once - hand m (taken) to a peer.  The send aio has no callback, so
 * when a pipe is ready (nearly always) nng finishes it in this thread and
 * no task thread is woken.  It waits in RPC_PEER_CHECK_MS slices: a slice
 * that ends unsent gives the message back, and the client without a peer
 * past its grace fails fast, as call_wait does for the reply.  The receive
 * is posted only after the send is done: req0 cannot cancel a pending send
 * while a receive waits on the same context.
 */
static int
send_once(rpc_client *c, nng_ctx ctx, nng_aio *saio, nng_msg *m, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now = env_now_ms();
		int      rv;

		if (now >= deadline_ms) {
			nng_msg_free(m);
			return call_error(c, NNG_ETIMEDOUT);
		}
		nng_aio_set_timeout(saio, (nng_duration)(deadline_ms - now < RPC_PEER_CHECK_MS
		                                             ? deadline_ms - now
		                                             : RPC_PEER_CHECK_MS));
		nng_aio_set_msg(saio, m);
		nng_ctx_send(ctx, saio);
		nng_aio_wait(saio);
		if ((rv = nng_aio_result(saio)) == 0)
			return 0;
		m = nng_aio_get_msg(saio); /* a failed send gives the message back */
		if (rv != NNG_ETIMEDOUT) {
			nng_msg_free(m);
			return call_error(c, rv);
		}
		if (peer_lost(c)) {
			nng_msg_free(m);
			return RPC_ENOPEER;
		}
	}
}

/*
 * call_once - send m (taken) and wait for the reply on ctx.  Returns 0
 * with *out set, RPC_ENOPEER, RPC_ETIMEDOUT, RPC_ERETRY when the peer that
 * had the request went away (nng answers ECONNRESET) while others remain,
 * or -1.
 */
#define RPC_ERETRY (-100)
static int
call_once(rpc_client *c, nng_ctx ctx, nng_aio *saio, nng_aio *aio, struct rpc_wait *w, nng_msg *m,
          uint64_t deadline_ms, nng_msg **out)
{
	uint64_t now;
	int      rv, ret;

	if ((ret = send_once(c, ctx, saio, m, deadline_ms)) != 0)
		return ret;
	w->done = false;
	now = env_now_ms();
	nng_aio_set_timeout(aio, now < deadline_ms ? (nng_duration)(deadline_ms - now) : 1);
	nng_ctx_recv(ctx, aio);
	if ((ret = call_wait(c, aio, w)) != 0)
		return ret;
	if ((rv = nng_aio_result(aio)) != 0) {
		if (rv == NNG_ECONNRESET && rpc_client_peers(c) > 0)
			return RPC_ERETRY;
		return call_error(c, rv);
	}
	*out = nng_aio_get_msg(aio);
	return 0;
}

/*
 * rpc_call - one request and its reply before deadline_ms (epoch ms).
 * Returns 0 with *rep filled (rep->status may be an error code),
 * RPC_ETIMEDOUT when the deadline passed, RPC_ENOPEER at once when nobody
 * is connected (or the last peer went away while we waited), -1 on other
 * failures.  A request whose peer went away while others remain is sent
 * again, once, within the same deadline; never on a timer.
 */
int
rpc_call(rpc_client *c, int op, const char *trace_id, uint64_t deadline_ms, const char *body,
         size_t len, struct rpc_reply *rep)
{
	struct env_hdr  h = {.version = ENV_VERSION, .op = (uint8_t)op};
	struct rpc_wait w;
	nng_ctx         ctx;
	nng_aio        *aio = NULL, *saio = NULL;
	nng_msg        *m = NULL;
	const char     *rbody, *why;
	size_t          rlen;
	int             ret = -1;

	memset(rep, 0, sizeof(*rep));
	if (env_now_ms() >= deadline_ms)
		return RPC_ETIMEDOUT;
	if (!wait_for_peer(c, deadline_ms)) {
		link_redial(&c->l); /* failing fast for long: perhaps nng stopped dialing */
		return rpc_client_peers(c) == 0 ? RPC_ENOPEER : RPC_ETIMEDOUT;
	}
	h.deadline_ms = deadline_ms;
	snprintf(h.trace_id, sizeof(h.trace_id), "%s", trace_id ? trace_id : "");
	if (nng_ctx_open(&ctx, c->l.sock) != 0)
		return -1;
	call_init(&w);
	if (nng_aio_alloc(&aio, call_done, &w) != 0 || nng_aio_alloc(&saio, NULL, NULL) != 0)
		goto out;
	for (int attempt = 0; attempt < 2; attempt++) {
		nng_msg *req;

		if (env_encode(&req, &h, body, len) < 0) {
			ret = -1;
			goto out;
		}
		if ((ret = call_once(c, ctx, saio, aio, &w, req, deadline_ms, &m)) != RPC_ERETRY)
			break;
		log_msg(LOG_WARN, trace_id, "rpc: peer went away with the request; sending again");
	}
	if (ret == RPC_ERETRY)
		ret = -1;
	if (ret != 0)
		goto out;
	ret = -1;
	if (env_decode(m, &h, &rbody, &rlen, &why) < 0) {
		log_msg(LOG_WARN, trace_id, "rpc: undecodable reply: %s", why);
		nng_msg_free(m);
		goto out;
	}
	rep->status = h.status;
	rep->body = malloc(rlen + 1);
	if (rep->body != NULL) {
		memcpy(rep->body, rbody, rlen);
		rep->body[rlen] = '\0';
		rep->len = rlen;
		ret = 0;
	}
	nng_msg_free(m);
out:
	nng_aio_free(saio);
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	call_fini(&w);
	return ret;
}
