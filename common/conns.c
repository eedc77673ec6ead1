/*
 * conns.c - a worker thread's own PostgreSQL and Redis connections
 */
#include "common/conns.h"

#include <stdlib.h>

/* conns_open - both connections (each connects now or on first use) */
struct conns *
conns_open(const struct cfg *c, int kv_timeout_ms)
{
	struct conns *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->db = db_open(c->pg_dsn);
	w->kv = kv_open(c->redis_host, c->redis_port, kv_timeout_ms);
	return w;
}

/* conns_close - NULL ok */
void
conns_close(struct conns *w)
{
	if (w == NULL)
		return;
	db_close(w->db);
	kv_close(w->kv);
	free(w);
}
