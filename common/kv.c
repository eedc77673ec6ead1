/*
 * kv.c - Redis through hiredis, with timeouts and reconnects
 */
#include "common/kv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "common/env.h"
#include "common/log.h"

#define KV_RETRY_US 1000000

struct kv_conn {
	char         *host;
	int           port;
	int           timeout_ms;
	redisContext *c;
	int64_t       retry_at;
};

/* kv_connect - (re)connect unless inside the back-off window */
static bool
kv_connect(kv_conn *kv)
{
	struct timeval tv = {kv->timeout_ms / 1000, (kv->timeout_ms % 1000) * 1000};
	int64_t        now = env_mono_us();

	if (kv->c != NULL && kv->c->err == 0)
		return true;
	if (now < kv->retry_at)
		return false;
	if (kv->c != NULL)
		redisFree(kv->c);
	kv->c = redisConnectWithTimeout(kv->host, kv->port, tv);
	if (kv->c == NULL || kv->c->err) {
		if (kv->c != NULL) {
			redisFree(kv->c);
			kv->c = NULL;
		}
		kv->retry_at = now + KV_RETRY_US;
		return false;
	}
	redisSetTimeout(kv->c, tv);
	return true;
}

/* kv_open - a connection object; connects on first use */
kv_conn *
kv_open(const char *host, int port, int timeout_ms)
{
	kv_conn *kv = calloc(1, sizeof(*kv));

	if (kv == NULL || (kv->host = strdup(host)) == NULL) {
		free(kv);
		return NULL;
	}
	kv->port = port;
	kv->timeout_ms = timeout_ms;
	return kv;
}

/* kv_close - NULL ok */
void
kv_close(kv_conn *kv)
{
	if (kv == NULL)
		return;
	if (kv->c != NULL)
		redisFree(kv->c);
	free(kv->host);
	free(kv);
}

/* kv_cmdargv - one command; the reply is the caller's (freeReplyObject), NULL when down */
redisReply *
kv_cmdargv(kv_conn *kv, int argc, const char **argv, const size_t *lens)
{
	redisReply *r;

	if (!kv_connect(kv))
		return NULL;
	r = redisCommandArgv(kv->c, argc, argv, lens);
	if (r == NULL) {
		log_warn("kv: %s", kv->c->errstr);
		redisFree(kv->c);
		kv->c = NULL;
		kv->retry_at = env_mono_us() + KV_RETRY_US;
	}
	return r;
}

/* kv_ping - is Redis answering? */
bool
kv_ping(kv_conn *kv)
{
	const char *argv[] = {"PING"};
	redisReply *r = kv_cmdargv(kv, 1, argv, NULL);
	bool        ok = r != NULL && r->type == REDIS_REPLY_STATUS;

	if (r != NULL)
		freeReplyObject(r);
	return ok;
}
