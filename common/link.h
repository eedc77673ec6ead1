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
 *
 * Closing a socket can wedge nng 1.5.2 for good: when a message arrives on
 * a pipe while the pipe closes, the transport's next read is begun on an
 * aio already closed and is dropped without its callback, so the
 * protocol's receive never finishes and nng's one reaper thread waits for
 * it for ever (caught with backtraces: reaper in pipe_destroy ->
 * sub0_pipe_stop -> nni_aio_wait, nng_close in nni_sock_shutdown; upstream
 * nanomsg/nng#1543, #1813).  Every close here (link_sock_close) is waited
 * for LINK_CLOSE_WAIT_MS at most; past that it is said once and left to
 * finish on its own thread, and later closes in the process, which would
 * wait on the same reaper, are skipped: a stopping daemon stops.
 *
 * A listener can stop taking connections for good in nng 1.5.2: when a
 * peer closes its end before the listener has sent its handshake header,
 * the send fails with EPIPE, which nng reports as NNG_ECLOSED, and the
 * socket's accept loop takes that for its own close and stops
 * (listener_accept_cb in src/core/listener.c).  The transport below goes
 * on accepting and finishing handshakes, so a worker that dials in
 * believes it is connected while the router never sees it.  One raw
 * connect and close does it, so does a dialer closed mid-handshake (a
 * redial, a process killed).  Every ipc:// and tcp:// listener made by
 * link_listen is watched: every LINK_WATCH_MS, one whose failed accepts
 * nng's statistics counted since the last look (the stopping error is
 * one; without statistics, one that took no pipe) is probed by a plain
 * socket that speaks the SP handshake as pair0, a protocol every socket
 * here refuses; if the listener's header comes back and the listening
 * socket still takes no pipe within LINK_PROBE_WAIT_MS, the listener is
 * closed, with the pipes it took, and opened again (said in the log).
 * Its peers then dial again.  The probe leaves only after the listener's
 * header has come, so it never causes what it looks for.  tls+tcp://
 * listeners stop too (one of ours leaving mid-handshake; a plain TCP knock
 * does not, its end of file being NNG_ECONNSHUT under TLS) and are probed
 * over TLS, with the process's client configuration, by a stream dialer.
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

/* The longest a close is waited for (see above). */
#define LINK_CLOSE_WAIT_MS 1000

/* How often listeners are looked at, and how long a probe's handshake
 * waits for the listening socket to take its pipe (see above). */
#define LINK_WATCH_MS 2000
#define LINK_PROBE_WAIT_MS 1000

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
	struct link *next; /* every link of the process (link_log_all) */
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
/* All three: unwatch, close the socket (link_sock_close), fini. */
void link_close(struct link *l);
/* nng_close(s), waited for LINK_CLOSE_WAIT_MS at most; true if it finished.
 * Once one has not, later ones return false at once without closing. */
bool link_sock_close(nng_socket s);
int  link_peers(const struct link *l);
/* A dialing link with no peer for LINK_REDIAL_AFTER_MS (since the last
 * one went, it opened, or it last redialed) replaces its dialer; true if
 * it did.  Cheap when there is a peer: call it whenever one is missed. */
bool     link_redial(struct link *l);
uint32_t link_dialer_id(struct link *l);
/* The listener watch (tests): a round every ms (0 pauses it, and returns
 * once no round runs, so a test may then make nng dialers and listeners of
 * its own: see stats_mu in link.c); the probes
 * made, those a listener took, and the listeners opened again since the
 * process started. */
void link_watch_set_ms(int ms);
void link_watch_counts(unsigned *probes, unsigned *alive, unsigned *relistens);
/* Log every link of the process: its url, role, peers and their pipe ids,
 * how long since the last peer went (SIGUSR1, daemon.c: what a daemon
 * believes it is connected to, for a person comparing both ends). */
void link_log_all(void);

/*
 * TLS between hosts (tls+tcp:// addresses, cfg.c).  link_tls_setup makes
 * the process's client and server configurations from the CA, this host's
 * certificate and key (one PEM file) and the name the certificates carry;
 * call it once, before any socket dials or listens.  ca NULL or "": TLS
 * off (a tls+tcp address then fails with NNG_ENOTSUP).  0, or -1 with err.
 * Every listener and dialer in the project is made by link_listen and
 * link_dialer (not started), which apply it to tls+tcp addresses; a
 * listener made by link_listen is watched (above) until link_sock_close
 * closes its socket.
 */
int link_tls_setup(const char *ca, const char *cert, const char *server_name, char *err,
                   size_t errcap);
int link_listen(nng_socket s, const char *url);
int link_dialer(nng_dialer *out, nng_socket s, const char *url);

#endif
