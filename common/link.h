/*
 * link.h - what one nng socket knows of its connection: the pipes
 * connected right now, and, when it dials, its dialer
 *
 * Shared by the request/reply sockets (rpc.c) and the bus (bus.c).  The
 * peer count is a set of pipe ids: nng reports REM_POST for every pipe that
 * reached ADD_PRE, also one closed before ADD_POST, so counting events up
 * and down would drift below the truth.  A dialing link with no peer for a
 * while can replace its dialer (link_redial): nng 1.5.2's dialer was caught
 * never dialing again after its server was killed, though the restarted
 * server was accepting connections.
 */
#ifndef CLUBOS_LINK_H
#define CLUBOS_LINK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>

/* A dialing link with no peer this long may replace its dialer. */
#define LINK_REDIAL_AFTER_MS 2000

struct link {
	nng_socket      sock;
	atomic_int      peers;   /* npipes, readable without the lock */
	pthread_mutex_t mu;      /* pipes (link_event) */
	pthread_mutex_t dial_mu; /* dialer (never held with mu: closing a dialer may wait for its
	                            pipes' events) */
	uint32_t    *pipes;
	int          npipes, cap;
	int64_t      opened_us;
	bool         dials;
	atomic_llong lost_us; /* when the last peer went (0: never had one) */
	atomic_llong redialed_us;
	nng_dialer   dialer;
	int          reconn_min_ms, reconn_max_ms;
	char         url[200];
};

/* Watch sock's pipes (before it listens or dials: link_start). */
void link_init(struct link *l, nng_socket sock, const char *url, bool dials, int reconn_min_ms,
               int reconn_max_ms);
/* Listen on, or dial, the url (dialing does not block; it retries). */
int link_start(struct link *l);
/* Closing: link_unwatch before the socket is closed (no more events),
 * link_fini after it (frees what the link holds). */
void link_unwatch(struct link *l);
void link_fini(struct link *l);
/* All three: unwatch, close the socket, fini. */
void link_close(struct link *l);
int  link_peers(const struct link *l);
/* A dialing link with no peer for LINK_REDIAL_AFTER_MS (since the last
 * one went, it opened, or it last redialed) replaces its dialer; true if
 * it did.  Cheap when there is a peer: call it whenever one is missed. */
bool     link_redial(struct link *l);
uint32_t link_dialer_id(struct link *l);

#endif
