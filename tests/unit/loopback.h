/*
 * loopback.h - a loopback HTTP server for the unit tests of HTTP clients
 * (test_http_client.c, test_claude.c)
 *
 * It runs in a thread of the test on a free port of 127.0.0.1: one request
 * per connection, recorded, answered with the next scripted response (500
 * when the script is used up), after the response's delay unless the
 * client hangs up first.
 */
#ifndef CLUBOS_TEST_LOOPBACK_H
#define CLUBOS_TEST_LOOPBACK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define SRV_MAX_SCRIPT 16
#define SRV_MAX_REQS 32
#define SRV_MAX_HEAD 65536
#define SRV_MAX_BODY (4 * 1024 * 1024)

/* One scripted answer; body is owned by the script. */
struct srv_resp {
	int         status;
	const char *headers; /* extra header lines, each ending in \r\n */
	char       *body;
	int         delay_ms;
};

/* One request as received. */
struct srv_req {
	char  *head; /* request line and headers */
	char  *body;
	size_t body_len;
};

struct lb_server {
	int             lfd, port;
	pthread_t       th;
	atomic_bool     stop;
	pthread_mutex_t mu;
	struct srv_resp script[SRV_MAX_SCRIPT];
	int             nscript, next;
	struct srv_req  reqs[SRV_MAX_REQS];
	int             nreqs;
};

extern struct lb_server srv;
extern char             base_url[64]; /* "http://127.0.0.1:<port>/" */

int         lb_start(const char *name);
int         lb_stop(void);
int         srv_reset(void **state); /* a cmocka setup: forget requests and script */
void        script(int status, const char *headers, char *body, int delay_ms);
int         nreqs(void);
const char *header(const char *head, const char *name);

#endif
