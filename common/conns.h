/*
 * conns.h - a worker thread's own PostgreSQL and Redis connections
 *
 * Daemons whose worker threads need both (the gateway, clubos-cache) open
 * one pair per thread with conns_open() in their worker_init hook.
 */
#ifndef CLUBOS_CONNS_H
#define CLUBOS_CONNS_H

#include "common/cfg.h"
#include "common/db.h"
#include "common/kv.h"

struct conns {
	db_conn *db;
	kv_conn *kv;
};

struct conns *conns_open(const struct cfg *c, int kv_timeout_ms);
void          conns_close(struct conns *w);

#endif
