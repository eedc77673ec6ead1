/*
 * bus.c - the event and trace bus (nng pub/sub)
 *
 * The hub is a raw SUB (listening for publishers) wired to a raw PUB
 * (listening for subscribers) by nng_device on its own thread.  Each
 * process has one publisher socket, shared by its threads (nng sockets are
 * thread-safe).
 */
#include "bus.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>

#include "env.h"
#include "log.h"

struct bus_hub {
	nng_socket in, out;
	pthread_t  thr;
};

struct bus_sub {
	nng_socket sock;
};

static nng_socket bus_pub_sock;
static int        bus_pub_ok;

/* hub_main - forward until the sockets close */
static void *
hub_main(void *arg)
{
	bus_hub *h = arg;

	nng_device(h->in, h->out);
	return NULL;
}

/* bus_hub_start - listen for publishers and subscribers */
bus_hub *
bus_hub_start(const char *in_url, const char *out_url)
{
	bus_hub *h = calloc(1, sizeof(*h));
	int      rv;

	if (h == NULL)
		return NULL;
	if ((rv = nng_sub0_open_raw(&h->in)) != 0)
		goto fail;
	if ((rv = nng_pub0_open_raw(&h->out)) != 0) {
		nng_close(h->in);
		goto fail;
	}
	nng_socket_set_size(h->in, NNG_OPT_RECVMAXSZ, ENV_MAX_MSG);
	nng_socket_set_int(h->in, NNG_OPT_RECVBUF, 8192);
	nng_socket_set_int(h->out, NNG_OPT_SENDBUF, 8192);
	if ((rv = nng_listen(h->in, in_url, NULL, 0)) != 0 ||
	    (rv = nng_listen(h->out, out_url, NULL, 0)) != 0 ||
	    pthread_create(&h->thr, NULL, hub_main, h) != 0) {
		nng_close(h->in);
		nng_close(h->out);
		goto fail;
	}
	return h;
fail:
	log_error("bus: hub on %s / %s: %s", in_url, out_url, nng_strerror(rv));
	free(h);
	return NULL;
}

/* bus_hub_stop - close both sides; the device thread returns */
void
bus_hub_stop(bus_hub *h)
{
	if (h == NULL)
		return;
	nng_close(h->in);
	nng_close(h->out);
	pthread_join(h->thr, NULL);
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
	nng_socket_set_ms(bus_pub_sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(bus_pub_sock, NNG_OPT_RECONNMAXT, 1000);
	if ((rv = nng_dial(bus_pub_sock, in_url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		log_error("bus: dial %s: %s", in_url, nng_strerror(rv));
		nng_close(bus_pub_sock);
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
		nng_close(bus_pub_sock);
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
	nng_socket_set_ms(s->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(s->sock, NNG_OPT_RECONNMAXT, 1000);
	if (topics == NULL)
		nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	else
		for (; *topics != NULL; topics++)
			nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, *topics,
			    strlen(*topics));
	if ((rv = nng_dial(s->sock, out_url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		log_error("bus: dial %s: %s", out_url, nng_strerror(rv));
		nng_close(s->sock);
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
	nng_close(s->sock);
	free(s);
}
