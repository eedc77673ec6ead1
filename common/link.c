/*
 * link.c - a socket's connected pipes and its dialer (see link.h)
 */
#include "common/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/supplemental/tls/tls.h>

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

/* link_listen - see link.h */
int
link_listen(nng_socket s, const char *url)
{
	nng_listener l;
	int          rv;

	if ((rv = nng_listener_create(&l, s, url)) != 0)
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
	return rv;
}

/* link_dialer - see link.h */
int
link_dialer(nng_dialer *out, nng_socket s, const char *url)
{
	nng_dialer d;
	int        rv;

	if ((rv = nng_dialer_create(&d, s, url)) != 0)
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

	if (atomic_load(&link_wedged))
		return false;
	if (pthread_create(&thr, NULL, closer_main, (void *)(uintptr_t)s.id) != 0) {
		nng_close(s);
		return true;
	}
	until = util_deadline_ts(CLOCK_REALTIME, LINK_CLOSE_WAIT_MS);
	if (pthread_timedjoin_np(thr, NULL, &until) == 0)
		return true;
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
