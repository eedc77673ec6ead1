/*
 * bus.c - the event and trace bus (nng pub/sub)
 *
 * The hub is a SUB socket subscribed to everything (listening for
 * publishers) and two PUB sockets (listening for subscribers); a thread
 * moves each message to the trace or the events side by its topic.  Each
 * process has one publisher socket, shared by its threads (nng sockets are
 * thread-safe).
 */
#include "common/bus.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>

#include "common/env.h"
#include "common/link.h"
#include "common/log.h"

struct bus_hub {
	nng_socket  in, trace, events;
	pthread_t   thr;
	atomic_bool stop;
};

/* The hub's forwarding thread looks up this often to see if it must stop
 * (it is joined before its sockets close: link.h). */
#define BUS_HUB_CHECK_MS 200

struct bus_sub {
	nng_socket  sock;
	struct link l; /* its one peer, the hub (redialed: link.h) */
};

/* Publishers and subscribers dial the hub again 50 ms after losing it,
 * backing off to 1 s. */
#define BUS_RECONN_MIN_MS 50
#define BUS_RECONN_MAX_MS 1000

static nng_socket  bus_pub_sock;
static int         bus_pub_ok;
static struct link bus_pub_link;

/* hub_main - forward by topic until told to stop */
static void *
hub_main(void *arg)
{
	bus_hub *h = arg;
	nng_msg *m;
	int      rv;

	while (!atomic_load(&h->stop)) {
		bool trace;

		if ((rv = nng_recvmsg(h->in, &m, 0)) != 0) {
			if (rv == NNG_ETIMEDOUT)
				continue;
			break;
		}
		trace = nng_msg_len(m) >= 6 && memcmp(nng_msg_body(m), "trace ", 6) == 0;
		if (nng_sendmsg(trace ? h->trace : h->events, m, NNG_FLAG_NONBLOCK) != 0)
			nng_msg_free(m);
	}
	return NULL;
}

/* bus_hub_start - listen for publishers, trace tailers and event subscribers */
bus_hub *
bus_hub_start(const char *in_url, const char *trace_url, const char *events_url)
{
	bus_hub *h = calloc(1, sizeof(*h));
	int      rv;

	if (h == NULL)
		return NULL;
	if ((rv = nng_sub0_open(&h->in)) != 0)
		goto fail;
	if ((rv = nng_pub0_open(&h->trace)) != 0 || (rv = nng_pub0_open(&h->events)) != 0) {
		nng_close(h->in);
		nng_close(h->trace);
		goto fail;
	}
	nng_socket_set(h->in, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	nng_socket_set_size(h->in, NNG_OPT_RECVMAXSZ, ENV_MAX_MSG);
	nng_socket_set_int(h->in, NNG_OPT_RECVBUF, 8192);
	nng_socket_set_ms(h->in, NNG_OPT_RECVTIMEO, BUS_HUB_CHECK_MS);
	nng_socket_set_int(h->trace, NNG_OPT_SENDBUF, 8192);
	nng_socket_set_int(h->events, NNG_OPT_SENDBUF, 1024);
	if ((rv = link_listen(h->in, in_url)) != 0 ||
	    (rv = link_listen(h->trace, trace_url)) != 0 ||
	    (rv = link_listen(h->events, events_url)) != 0 ||
	    pthread_create(&h->thr, NULL, hub_main, h) != 0) {
		link_sock_close(h->in); /* and the watch of what listens (link.h) */
		link_sock_close(h->trace);
		link_sock_close(h->events);
		goto fail;
	}
	return h;
fail:
	log_error("bus: hub on %s: %s", in_url, nng_strerror(rv));
	free(h);
	return NULL;
}

/* bus_hub_stop - the forwarding thread returns, then every side closes */
void
bus_hub_stop(bus_hub *h)
{
	if (h == NULL)
		return;
	atomic_store(&h->stop, true);
	pthread_join(h->thr, NULL);
	link_sock_close(h->in);
	link_sock_close(h->trace);
	link_sock_close(h->events);
	free(h);
}

/* bus_pub_open - this process's publisher, dialing the hub */
int
bus_pub_open(const char *in_url)
{
	int rv;

	if (bus_pub_ok)
		return 0;
	if ((rv = nng_pub0_open(&bus_pub_sock)) != 0) {
		log_error("bus: pub socket: %s", nng_strerror(rv));
		return -1;
	}
	nng_socket_set_int(bus_pub_sock, NNG_OPT_SENDBUF, 4096);
	link_init(&bus_pub_link, bus_pub_sock, in_url, true, BUS_RECONN_MIN_MS, BUS_RECONN_MAX_MS);
	if ((rv = link_start(&bus_pub_link)) != 0) {
		log_error("bus: dial %s: %s", in_url, nng_strerror(rv));
		link_close(&bus_pub_link);
		return -1;
	}
	bus_pub_ok = 1;
	return 0;
}

/* bus_pub_close - close the publisher */
void
bus_pub_close(void)
{
	if (bus_pub_ok)
		link_close(&bus_pub_link);
	bus_pub_ok = 0;
}

/* bus_publish - send "<topic> <json>"; never blocks, may drop */
int
bus_publish(const char *topic, const char *json)
{
	nng_msg *m;
	size_t   tl = strlen(topic), jl = strlen(json);

	if (!bus_pub_ok)
		return -1;
	if (link_peers(&bus_pub_link) == 0)
		link_redial(&bus_pub_link);
	if (nng_msg_alloc(&m, 0) != 0)
		return -1;
	if (nng_msg_append(m, topic, tl) != 0 || nng_msg_append(m, " ", 1) != 0 ||
	    nng_msg_append(m, json, jl) != 0) {
		nng_msg_free(m);
		return -1;
	}
	if (nng_sendmsg(bus_pub_sock, m, NNG_FLAG_NONBLOCK) != 0) {
		nng_msg_free(m);
		return -1;
	}
	return 0;
}

/* bus_sub_open - subscribe to topic prefixes (NULL-terminated; NULL = all) */
bus_sub *
bus_sub_open(const char *out_url, const char *const *topics)
{
	bus_sub *s = calloc(1, sizeof(*s));
	int      rv;

	if (s == NULL)
		return NULL;
	if ((rv = nng_sub0_open(&s->sock)) != 0) {
		free(s);
		return NULL;
	}
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, ENV_MAX_MSG);
	nng_socket_set_int(s->sock, NNG_OPT_RECVBUF, 8192);
	if (topics == NULL)
		nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	else
		for (; *topics != NULL; topics++)
			nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, *topics, strlen(*topics));
	link_init(&s->l, s->sock, out_url, true, BUS_RECONN_MIN_MS, BUS_RECONN_MAX_MS);
	if ((rv = link_start(&s->l)) != 0) {
		log_error("bus: dial %s: %s", out_url, nng_strerror(rv));
		link_close(&s->l);
		free(s);
		return NULL;
	}
	return s;
}

/* bus_sub_recv - next message; 0 with malloc'd topic/json, 1 on timeout, -1 closed */
int
bus_sub_recv(bus_sub *s, int timeout_ms, char **topic, char **json)
{
	nng_msg *m;
	size_t   n;
	char    *p, *sp;
	int      rv;

	if (link_peers(&s->l) == 0)
		link_redial(&s->l);
	nng_socket_set_ms(s->sock, NNG_OPT_RECVTIMEO, timeout_ms);
	if ((rv = nng_recvmsg(s->sock, &m, 0)) != 0)
		return rv == NNG_ETIMEDOUT ? 1 : -1;
	n = nng_msg_len(m);
	if ((p = malloc(n + 1)) == NULL) {
		nng_msg_free(m);
		return -1;
	}
	memcpy(p, nng_msg_body(m), n);
	p[n] = '\0';
	nng_msg_free(m);
	if ((sp = strchr(p, ' ')) == NULL) {
		*topic = p;
		*json = strdup("{}");
		return 0;
	}
	*sp = '\0';
	*topic = p;
	*json = strdup(sp + 1);
	return 0;
}

/* bus_sub_close - close a subscriber */
void
bus_sub_close(bus_sub *s)
{
	if (s == NULL)
		return;
	link_close(&s->l);
	free(s);
}

/* bus_pub_dialer_id - the publisher's current dialer (tests) */
unsigned
bus_pub_dialer_id(void)
{
	return bus_pub_ok ? link_dialer_id(&bus_pub_link) : 0;
}

/* bus_sub_dialer_id - a subscriber's current dialer (tests) */
unsigned
bus_sub_dialer_id(bus_sub *s)
{
	return link_dialer_id(&s->l);
}
