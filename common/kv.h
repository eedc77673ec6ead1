/*
 * kv.h - Redis through hiredis, with timeouts and reconnects
 *
 * Redis is a cache only: every caller has an answer for "Redis is down".
 * A kv_conn belongs to one thread.  After a failure it waits before trying
 * to reconnect, so a dead Redis costs one failed call a second, not one per
 * request.
 */
#ifndef CLUBOS_KV_H
#define CLUBOS_KV_H

#include <hiredis/hiredis.h>
#include <stdbool.h>

typedef struct kv_conn kv_conn;

kv_conn    *kv_open(const char *host, int port, int timeout_ms);
void        kv_close(kv_conn *kv);
redisReply *kv_cmdargv(kv_conn *kv, int argc, const char **argv, const size_t *lens);
bool        kv_ping(kv_conn *kv);

#endif
