/*
 * rpc.h - request/reply over nng with the envelope
 *
 * Server: a REP socket (listening or dialing) served by N worker threads,
 * each owning one nng context and whatever per-worker state the daemon
 * gives it (a PostgreSQL connection, say).  A worker loops
 * recv -> handle -> send; N is the number of requests in flight.  A request
 * that does not decode, or whose deadline has passed, gets an error reply.
 *
 * Client: a REQ socket; every call has a deadline and a bounded reply size.
 * Requests are re-sent only when the peer that had one goes away while
 * others remain (a worker died), once, never on a timer, so a slow worker is
 * not asked twice.  With no peer at all a call fails at once (RPC_ENOPEER)
 * instead of waiting out its deadline; so does a call whose last peer went
 * away holding it, and the caller decides whether asking again is safe (the
 * knowledge owner makes a change once per request id, however often asked).
 */
#ifndef CLUBOS_RPC_H
#define CLUBOS_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/env.h"

struct rpc_reply {
	uint16_t status; /* 0 ok, else HTTP-like code */
	char    *body;   /* NUL-terminated JSON, malloc'd; caller frees */
	size_t   len;
};

/*
 * A handler reads the request and fills *rep (body malloc'd or NULL,
 * status 0 or an error code).  It runs on a worker thread and may block.
 */
typedef void (*rpc_handler_fn)(void *arg, void *worker, const struct env_hdr *h, const char *body,
                               size_t len, struct rpc_reply *rep);
typedef void *(*rpc_worker_init_fn)(void *arg, int idx);
typedef void (*rpc_worker_fini_fn)(void *arg, void *worker);

struct rpc_server_ops {
	rpc_handler_fn     handle;
	rpc_worker_init_fn worker_init; /* may be NULL */
	rpc_worker_fini_fn worker_fini; /* may be NULL */
	void              *arg;
};

typedef struct rpc_server rpc_server;
typedef struct rpc_client rpc_client;

rpc_server *rpc_server_start(const char *url, bool listen, int nworkers,
                             const struct rpc_server_ops *ops);
/* A socket that serves only the health probe (a daemon with no requests of
 * its own): ping answered, health answered by the server, the rest 400.
 * NULL when url is taken (another instance has it): the caller runs on. */
rpc_server *rpc_probe_start(const char *url);
void        rpc_server_stop(rpc_server *s, int deadline_ms);

rpc_client *rpc_client_open(const char *url, bool listen);
void        rpc_client_close(rpc_client *c);
int         rpc_client_peers(const rpc_client *c);
/* Wait until the client has a peer or deadline_ms (epoch ms) passes; a
 * dialing client that stays without one dials afresh (link.h, LINK_REDIAL_AFTER_MS). */
bool     rpc_client_wait_peer(rpc_client *c, uint64_t deadline_ms);
uint32_t rpc_client_dialer_id(rpc_client *c);
uint32_t rpc_server_dialer_id(rpc_server *s);
uint32_t rpc_client_socket_id(const rpc_client *c);
int  rpc_call(rpc_client *c, int op, const char *trace_id, uint64_t deadline_ms, const char *body,
              size_t len, struct rpc_reply *rep);
void rpc_reply_clear(struct rpc_reply *rep);
int  rpc_reply_error(struct rpc_reply *rep, uint16_t status, const char *code, const char *message);

#define RPC_ETIMEDOUT (-2)
#define RPC_ENOPEER (-3)

/*
 * Fail fast: a call with no connected peer fails at once with RPC_ENOPEER,
 * and a call whose last peer goes away while it waits fails within
 * RPC_PEER_CHECK_MS.  A dialing client whose one server went away waits
 * up to RPC_REDIAL_GRACE_MS for it to come back (a restart), within the
 * call's deadline.  A client gets RPC_CONNECT_GRACE_MS after it is opened
 * to find its first peer (so a call right after opening does not fail).
 * Dialers retry from RPC_RECONN_MIN_MS up to RPC_RECONN_MAX_MS apart, for
 * as long as the socket lives.
 */
#define RPC_PEER_CHECK_MS 20
#define RPC_CONNECT_GRACE_MS 500
#define RPC_REDIAL_GRACE_MS 1000
#define RPC_RECONN_MIN_MS 50
#define RPC_RECONN_MAX_MS 500
/* How often an idle dialing server (a worker) checks that it has a peer. */
#define RPC_SERVER_CHECK_MS 1000

#endif
