/*
 * trace.h - the steps of every request, live on the bus and kept in PostgreSQL
 *
 * trace_step() publishes one step at once on the bus (topic "trace") for
 * anyone tailing it (clubosctl trace), and queues it for a writer thread
 * that stores steps in batches (one INSERT per batch), so the request path
 * never waits for PostgreSQL.  The queue is bounded; steps beyond it are
 * counted as dropped, never allowed to grow memory without limit.
 */
#ifndef CLUBOS_TRACE_H
#define CLUBOS_TRACE_H

#include <cjson/cJSON.h>
#include <stdint.h>

int      trace_init(const char *daemon, const char *pg_dsn);
void     trace_shutdown(void);
void     trace_new_id(char out[33]);
void     trace_step(const char *trace_id, const char *step, cJSON *detail,
             int64_t elapsed_us);
void     trace_summary(const char *trace_id, cJSON *summary);
void     trace_flush(void);
uint64_t trace_dropped(void);

#endif
