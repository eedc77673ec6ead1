/*
 * test_rpc.c - request/reply: deadlines, no peer, a peer that goes away,
 * a dialling server that comes back after its peer restarts, and a client
 * whose dialer stopped dialing
 *
 * Each test uses its own ipc:// address under /tmp, so the tests do not
 * see each other's sockets.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include <cjson/cJSON.h>

#include "common/env.h"
#include "common/link.h"
#include "common/rpc.h"

/* How long a server's handler sleeps when asked to ("slow" in the body). */
#define SLOW_MS 1500

/* test_url - a fresh ipc address for one test */
static void
test_url(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "ipc:///tmp/clubos-test-rpc-%ld-%s.ipc", (long)getpid(), name);
}

/* Slow requests a handler has begun (stopper waits for one). */
static atomic_int slow_started;

/* echo - answers {"echo": true}; sleeps SLOW_MS first when the body says slow */
static void
echo(void *arg, void *worker, const struct env_hdr *h, const char *body, size_t len,
     struct rpc_reply *rep)
{
	(void)arg;
	(void)worker;
	(void)h;
	if (len >= 4 && memcmp(body, "slow", 4) == 0) {
		atomic_fetch_add(&slow_started, 1);
		nng_msleep(SLOW_MS);
	}
	rep->body = strdup("{\"echo\":true}");
	rep->len = strlen(rep->body);
}

static const struct rpc_server_ops echo_ops = {.handle = echo};

/* wait_peers - poll until the client has n peers, or give up after ms */
static bool
wait_peers(rpc_client *c, int n, int ms)
{
	int64_t until = env_mono_us() + (int64_t)ms * 1000;

	while (rpc_client_peers(c) != n) {
		if (env_mono_us() > until)
			return false;
		nng_msleep(5);
	}
	return true;
}

/* elapsed_ms - milliseconds since t0 (env_mono_us) */
static int64_t
elapsed_ms(int64_t t0)
{
	return (env_mono_us() - t0) / 1000;
}

/* call: a served request comes back with its body */
static void
test_call(void **state)
{
	char             url[128];
	rpc_client      *c;
	rpc_server      *s;
	struct rpc_reply rep;

	(void)state;
	test_url(url, sizeof(url), "call");
	assert_non_null(c = rpc_client_open(url, true));
	assert_non_null(s = rpc_server_start(url, false, 2, &echo_ops));
	assert_true(wait_peers(c, 1, 3000));
	assert_int_equal(rpc_call(c, ENV_OP_PING, NULL, env_now_ms() + 2000, "{}", 2, &rep), 0);
	assert_int_equal(rep.status, 0);
	assert_string_equal(rep.body, "{\"echo\":true}");
	rpc_reply_clear(&rep);
	rpc_server_stop(s, 1000);
	rpc_client_close(c);
}

/* health: the server answers ENV_OP_HEALTH itself (its handler never sees
 * it), naming what it serves and each client socket with its peers; ready
 * goes false while a socket it dials has no peer */
static void
test_health(void **state)
{
	char             url[128], url2[128];
	rpc_client      *c, *dangling;
	rpc_server      *s;
	struct rpc_reply rep;
	cJSON           *o, *sk;
	int              seen = 0;

	(void)state;
	test_url(url, sizeof(url), "health");
	test_url(url2, sizeof(url2), "health-nobody");
	assert_non_null(s = rpc_server_start(url, true, 1, &echo_ops));
	assert_non_null(c = rpc_client_open(url, false));
	assert_true(wait_peers(c, 1, 3000));
	assert_int_equal(rpc_call(c, ENV_OP_HEALTH, NULL, env_now_ms() + 2000, "{}", 2, &rep), 0);
	assert_int_equal(rep.status, 0);
	assert_non_null(o = cJSON_Parse(rep.body));
	assert_null(cJSON_GetObjectItem(o, "echo")); /* not the handler's answer */
	assert_string_equal(cJSON_GetObjectItem(o, "listens")->valuestring, url);
	assert_int_equal(cJSON_GetObjectItem(o, "pid")->valueint, (int)getpid());
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "ready")));
	cJSON_ArrayForEach(sk, cJSON_GetObjectItem(o, "sockets"))
	{
		if (strcmp(cJSON_GetObjectItem(sk, "url")->valuestring, url) == 0) {
			assert_string_equal(cJSON_GetObjectItem(sk, "role")->valuestring, "dials");
			assert_int_equal(cJSON_GetObjectItem(sk, "peers")->valueint, 1);
			seen++;
		}
	}
	assert_int_equal(seen, 1);
	cJSON_Delete(o);
	rpc_reply_clear(&rep);
	/* A client dialing nobody: the process is not ready. */
	assert_non_null(dangling = rpc_client_open(url2, false));
	assert_int_equal(rpc_call(c, ENV_OP_HEALTH, NULL, env_now_ms() + 2000, "{}", 2, &rep), 0);
	assert_non_null(o = cJSON_Parse(rep.body));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "ready")));
	cJSON_Delete(o);
	rpc_reply_clear(&rep);
	/* Closed, it is gone from the list. */
	rpc_client_close(dangling);
	assert_int_equal(rpc_call(c, ENV_OP_HEALTH, NULL, env_now_ms() + 2000, "{}", 2, &rep), 0);
	assert_null(strstr(rep.body, "health-nobody"));
	assert_non_null(o = cJSON_Parse(rep.body));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "ready")));
	cJSON_Delete(o);
	rpc_reply_clear(&rep);
	rpc_client_close(c);
	rpc_server_stop(s, 1000);
}

/* no_peer: nobody listening: RPC_ENOPEER, at once after the grace, never
 * after the whole deadline */
static void
test_no_peer(void **state)
{
	char             url[128];
	rpc_client      *c;
	struct rpc_reply rep;
	int64_t          t0;

	(void)state;
	test_url(url, sizeof(url), "nopeer");
	assert_non_null(c = rpc_client_open(url, false));
	/* Within its grace a new client waits for its first peer, no longer. */
	t0 = env_mono_us();
	assert_int_equal(rpc_call(c, ENV_OP_PING, NULL, env_now_ms() + 5000, "{}", 2, &rep),
	                 RPC_ENOPEER);
	assert_true(elapsed_ms(t0) < RPC_CONNECT_GRACE_MS + 300);
	/* After it, at once. */
	t0 = env_mono_us();
	assert_int_equal(rpc_call(c, ENV_OP_PING, NULL, env_now_ms() + 5000, "{}", 2, &rep),
	                 RPC_ENOPEER);
	assert_true(elapsed_ms(t0) < 100);
	assert_null(rep.body);
	rpc_client_close(c);
}

/* deadline: a slow peer costs the deadline, not more, and the deadline in
 * the past fails before anything is sent */
static void
test_deadline(void **state)
{
	char             url[128];
	rpc_client      *c;
	rpc_server      *s;
	struct rpc_reply rep;
	int64_t          t0, took;

	(void)state;
	test_url(url, sizeof(url), "deadline");
	assert_non_null(c = rpc_client_open(url, true));
	assert_non_null(s = rpc_server_start(url, false, 2, &echo_ops));
	assert_true(wait_peers(c, 1, 3000));
	t0 = env_mono_us();
	assert_int_equal(rpc_call(c, ENV_OP_PING, NULL, env_now_ms() + 300, "slow", 4, &rep),
	                 RPC_ETIMEDOUT);
	took = elapsed_ms(t0);
	assert_true(took >= 250);
	assert_true(took < 800);
	assert_int_equal(rpc_call(c, ENV_OP_PING, NULL, env_now_ms() - 1, "{}", 2, &rep),
	                 RPC_ETIMEDOUT);
	rpc_server_stop(s, 3000);
	rpc_client_close(c);
}

/* stopper - stop a server from another thread once its handler is busy
 * (stopping before the request arrived would test something else) */
static void *
stopper(void *arg)
{
	for (int i = 0; i < 1000 && atomic_load(&slow_started) == 0; i++)
		nng_msleep(5);
	rpc_server_stop(arg, 0);
	return NULL;
}

/* peer_goes_away: the only peer disappears while a call waits: the call
 * fails with RPC_ENOPEER at once, not at its deadline */
static void
test_peer_goes_away(void **state)
{
	char             url[128];
	rpc_client      *c;
	rpc_server      *s;
	struct rpc_reply rep;
	pthread_t        thr;
	int64_t          t0;

	(void)state;
	test_url(url, sizeof(url), "away");
	assert_non_null(c = rpc_client_open(url, true));
	assert_non_null(s = rpc_server_start(url, false, 1, &echo_ops));
	assert_true(wait_peers(c, 1, 3000));
	atomic_store(&slow_started, 0);
	assert_int_equal(pthread_create(&thr, NULL, stopper, s), 0);
	t0 = env_mono_us();
	/* The handler sleeps SLOW_MS; the server's socket closes meanwhile. */
	assert_int_equal(rpc_call(c, ENV_OP_PING, NULL, env_now_ms() + 10000, "slow", 4, &rep),
	                 RPC_ENOPEER);
	assert_true(elapsed_ms(t0) < SLOW_MS + 500);
	pthread_join(thr, NULL);
	rpc_client_close(c);
}

/* redial: a dialling server finds its peer again after the peer restarts
 * (the router restarting under its workers) */
static void
test_redial(void **state)
{
	char             url[128];
	rpc_client      *c;
	rpc_server      *s;
	struct rpc_reply rep;

	(void)state;
	test_url(url, sizeof(url), "redial");
	assert_non_null(c = rpc_client_open(url, true));
	assert_non_null(s = rpc_server_start(url, false, 2, &echo_ops));
	assert_true(wait_peers(c, 1, 3000));
	for (int round = 0; round < 3; round++) {
		rpc_client_close(c);
		assert_non_null(c = rpc_client_open(url, true));
		assert_true(wait_peers(c, 1, 3000));
		assert_int_equal(rpc_call(c, ENV_OP_PING, NULL, env_now_ms() + 2000, "{}", 2, &rep),
		                 0);
		assert_string_equal(rep.body, "{\"echo\":true}");
		rpc_reply_clear(&rep);
	}
	rpc_server_stop(s, 1000);
	rpc_client_close(c);
}

/* kill_dialer - close dialer id as nng's own was seen to stop: it never dials again */
static void
kill_dialer(uint32_t id)
{
	nng_dialer d;

	assert_true(id != 0);
	d.id = id;
	assert_int_equal(nng_dialer_close(d), 0);
}

/* assert_ping - a ping through c is answered */
static void
assert_ping(rpc_client *c)
{
	struct rpc_reply rep;

	assert_int_equal(rpc_call(c, ENV_OP_PING, NULL, env_now_ms() + 2000, "{}", 2, &rep), 0);
	assert_string_equal(rep.body, "{\"echo\":true}");
	rpc_reply_clear(&rep);
}

/* dead_dialer: a dialing client whose dialer stopped dialing (nng 1.5.2's
 * was seen to, after its server was killed) gets a new one while a caller
 * waits for a peer, and the call goes through */
static void
test_dead_dialer(void **state)
{
	char        url[128];
	rpc_client *c;
	rpc_server *s;
	uint32_t    first;

	(void)state;
	test_url(url, sizeof(url), "dead-dialer");
	assert_non_null(c = rpc_client_open(url, false));
	kill_dialer(first = rpc_client_dialer_id(c));
	assert_non_null(s = rpc_server_start(url, true, 1, &echo_ops));
	nng_msleep(300);
	assert_int_equal(rpc_client_peers(c), 0); /* nobody dials the server */
	assert_true(rpc_client_wait_peer(c, env_now_ms() + 10000));
	assert_true(rpc_client_dialer_id(c) != first);
	assert_ping(c);
	/* With a peer, waiting returns at once and nothing is replaced. */
	first = rpc_client_dialer_id(c);
	assert_true(rpc_client_wait_peer(c, env_now_ms() + 10));
	assert_int_equal(rpc_client_dialer_id(c), first);
	rpc_server_stop(s, 1000);
	rpc_client_close(c);
}

/* dead_server_dialer: the same for a dialing server (a worker): idle, it
 * notices it has no peer and dials afresh, and the listening client (the
 * router) sees it again */
static void
test_dead_server_dialer(void **state)
{
	char        url[128];
	rpc_client *c;
	rpc_server *s;
	uint32_t    first;

	(void)state;
	test_url(url, sizeof(url), "dead-server-dialer");
	assert_non_null(s = rpc_server_start(url, false, 2, &echo_ops));
	kill_dialer(first = rpc_server_dialer_id(s));
	assert_non_null(c = rpc_client_open(url, true));
	nng_msleep(300);
	assert_int_equal(rpc_client_peers(c), 0);
	assert_true(wait_peers(c, 1, 10000));
	assert_true(rpc_server_dialer_id(s) != first);
	assert_ping(c);
	rpc_server_stop(s, 1000);
	rpc_client_close(c);
}

/* idle_client_redials: a dialing client nobody calls, whose dialer stopped
 * (its server restarted), is dialled afresh by an idle server worker of the
 * same process, so the daemon is ready again without waiting for a call */
static void
test_idle_client_redials(void **state)
{
	char        url[128], own[128];
	rpc_client *c;
	rpc_server *s, *mine;
	uint32_t    first;

	(void)state;
	test_url(url, sizeof(url), "idle-client");
	test_url(own, sizeof(own), "idle-client-own");
	assert_non_null(mine = rpc_server_start(own, true, 1, &echo_ops)); /* this daemon's */
	assert_non_null(c = rpc_client_open(url, false));
	kill_dialer(first = rpc_client_dialer_id(c));
	assert_non_null(s = rpc_server_start(url, true, 1, &echo_ops));
	nng_msleep(300);
	assert_int_equal(rpc_client_peers(c), 0); /* nobody dials the server */
	/* No call is made: only the idle worker of mine can bring c back. */
	assert_true(wait_peers(c, 1, 10000));
	assert_true(rpc_client_dialer_id(c) != first);
	assert_ping(c);
	rpc_server_stop(s, 1000);
	rpc_server_stop(mine, 1000);
	rpc_client_close(c);
}

/* Pipes the client refuses at ADD_PRE, before they count (refuse_first). */
static atomic_int refused;

/* refuse_first - close the client's first three pipes before they are added */
static void
refuse_first(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)ev;
	(void)arg;
	if (atomic_fetch_add(&refused, 1) < 3)
		nng_pipe_close(p);
}

/* half_added: a pipe closed between ADD_PRE and ADD_POST is reported gone
 * (REM_POST) without ever being added; it must not be subtracted, or the
 * one peer that then connects is counted as none (calls fail with no
 * peer, or wait for one that is there) */
static void
test_half_added_pipes(void **state)
{
	char             url[128];
	rpc_client      *c;
	rpc_server      *s;
	nng_socket       sock;
	struct rpc_reply rep;

	(void)state;
	test_url(url, sizeof(url), "half");
	assert_non_null(c = rpc_client_open(url, false));
	sock.id = rpc_client_socket_id(c);
	assert_int_equal(nng_pipe_notify(sock, NNG_PIPE_EV_ADD_PRE, refuse_first, NULL), 0);
	assert_non_null(s = rpc_server_start(url, true, 2, &echo_ops));
	assert_true(wait_peers(c, 1, 5000));
	assert_true(atomic_load(&refused) >= 4); /* three refused, then the one kept */
	nng_msleep(100);                         /* nothing late pulls the count down */
	assert_int_equal(rpc_client_peers(c), 1);
	assert_int_equal(rpc_call(c, ENV_OP_PING, NULL, env_now_ms() + 2000, "{}", 2, &rep), 0);
	assert_string_equal(rep.body, "{\"echo\":true}");
	rpc_reply_clear(&rep);
	rpc_server_stop(s, 1000);
	assert_true(wait_peers(c, 0, 3000));
	rpc_client_close(c);
}

/* raw_connect - a plain socket connected to an ipc:// or tcp://127.0.0.1 url */
static int
raw_connect(const char *url)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int                fd;

	if (strncmp(url, "ipc://", 6) == 0) {
		assert_true(strlen(url + 6) < sizeof(sun.sun_path));
		strcpy(sun.sun_path, url + 6);
		assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
		assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	} else {
		const char *port = strrchr(url, ':');

		assert_non_null(port);
		sin.sin_port = htons((uint16_t)atoi(port + 1));
		assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
		assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	}
	return fd;
}

/* read_header - the listener's 8-byte handshake header from fd */
static void
read_header(int fd)
{
	char   head[8];
	size_t got = 0;

	while (got < sizeof(head)) {
		ssize_t n = read(fd, head + got, sizeof(head) - got);

		assert_true(n > 0);
		got += (size_t)n;
	}
}

/* knock - a peer gone at once, perhaps before the listener's handshake
 * header went out (whether it was is a race: see takes) */
static void
knock(const char *url)
{
	int fd = raw_connect(url);

	shutdown(fd, SHUT_RD);
	close(fd);
}

/* takes - does the listener of c (a REQ socket) still take pipes?  A
 * plain socket speaks the handshake as a REP peer, waits for the
 * listener's header (so it never leaves mid-way itself), and is counted
 * as c's peer, or not within 500 ms; it then leaves */
static bool
takes(const char *url, rpc_client *c)
{
	static const char rep[8] = {0, 'S', 'P', 0, 0x00, 0x31, 0, 0};
	int               fd = raw_connect(url);
	bool              taken;

	assert_int_equal(write(fd, rep, sizeof(rep)), (ssize_t)sizeof(rep));
	read_header(fd);
	taken = wait_peers(c, 1, 500);
	close(fd);
	assert_true(wait_peers(c, 0, 3000));
	return taken;
}

/* stopped_listener: after a peer that leaves mid-handshake, nng 1.5.2's
 * listener takes no more pipes, though a worker dialing in believes it is
 * connected (link.h).  With the watch paused that is what happens; with
 * it running, the listener is opened again and the worker is served. */
static void
test_stopped_listener(void **state)
{
	char        url[128];
	rpc_client *c;
	rpc_server *s;
	unsigned    probes, alive, relistens, relistens0;
	int         knocks = 0;

	(void)state;
	link_watch_set_ms(0);
	test_url(url, sizeof(url), "stopped-listener");
	assert_non_null(c = rpc_client_open(url, true)); /* the router's side */
	assert_true(takes(url, c));
	do
		knock(url);
	while (takes(url, c) && ++knocks < 50);
	/* The fault itself: should nng stop having it, this fails (and the
	 * watch can go).  A worker dialing in is not seen either. */
	assert_true(knocks < 50);
	assert_non_null(s = rpc_server_start(url, false, 1, &echo_ops)); /* a worker */
	assert_false(wait_peers(c, 1, 1500));
	link_watch_counts(&probes, &alive, &relistens0);
	link_watch_set_ms(100);
	assert_true(wait_peers(c, 1, 10000));
	assert_ping(c);
	link_watch_counts(&probes, &alive, &relistens);
	assert_true(relistens > relistens0);
	link_watch_set_ms(LINK_WATCH_MS);
	rpc_server_stop(s, 1000);
	rpc_client_close(c);
}

/* kept - a quiet listener on url is not probed; one that counted a
 * failed accept (a visitor that read the header and left) is, is found
 * taking pipes, and is left alone: its peer stays connected, nothing is
 * reopened */
static void
kept(const char *url)
{
	rpc_client *c;
	rpc_server *s;
	unsigned    probes0, alive0, relistens0, probes, alive, relistens;
	int         fd;

	assert_non_null(c = rpc_client_open(url, true));
	assert_non_null(s = rpc_server_start(url, false, 1, &echo_ops));
	assert_true(wait_peers(c, 1, 5000));
	link_watch_counts(&probes0, &alive0, &relistens0);
	link_watch_set_ms(50);
	nng_msleep(300); /* six rounds in which nothing may happen */
	link_watch_counts(&probes, &alive, &relistens);
	assert_int_equal(probes, probes0); /* quiet: nothing to look at */
	fd = raw_connect(url);
	read_header(fd);
	close(fd);
	for (int i = 0; i < 300 && alive == alive0; i++) {
		nng_msleep(10);
		link_watch_counts(&probes, &alive, &relistens);
	}
	link_watch_set_ms(LINK_WATCH_MS);
	assert_ping(c);
	link_watch_counts(&probes, &alive, &relistens);
	assert_true(probes > probes0);                      /* it was looked at, */
	assert_int_equal(alive - alive0, probes - probes0); /* found taking pipes, */
	assert_int_equal(relistens, relistens0);            /* and left alone */
	assert_int_equal(rpc_client_peers(c), 1);
	rpc_server_stop(s, 1000);
	rpc_client_close(c);
}

/* listener_kept: the above over ipc:// and over tcp:// */
static void
test_listener_kept(void **state)
{
	char               url[128];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t          len = sizeof(sa);
	int                fd;

	(void)state;
	test_url(url, sizeof(url), "kept-listener");
	kept(url);
	/* A free port: taken, read, let go. */
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", ntohs(sa.sin_port));
	kept(url);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_call),
	    cmocka_unit_test(test_no_peer),
	    cmocka_unit_test(test_deadline),
	    cmocka_unit_test(test_peer_goes_away),
	    cmocka_unit_test(test_redial),
	    cmocka_unit_test(test_idle_client_redials),
	    cmocka_unit_test(test_health),
	    cmocka_unit_test(test_half_added_pipes),
	    cmocka_unit_test(test_dead_dialer),
	    cmocka_unit_test(test_dead_server_dialer),
	    cmocka_unit_test(test_stopped_listener),
	    cmocka_unit_test(test_listener_kept),
	};

	return cmocka_run_group_tests_name("rpc", tests, NULL, NULL);
}
