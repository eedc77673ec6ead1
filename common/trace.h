/*
 * trace.h - the steps of every request, live on the bus and kept in PostgreSQL
 *
 * trace_step() records a step of the request the calling thread is
 * handling; trace_end() (called by the RPC and HTTP layers when a request
 * is done) publishes that request's steps on the bus (topic "trace", a JSON
 * array) for anyone tailing it (clubosctl trace), and queues them for a
 * writer thread that stores them in batches, so the request path never
 * waits for PostgreSQL.  The queues are bounded; steps beyond theirs are
 * counted as dropped, never allowed to grow memory without limit, and
 * summaries have a queue of their own.
 */
#ifndef CLUBOS_TRACE_H
#define CLUBOS_TRACE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "common/db.h"

int      trace_init(const char *daemon, const char *pg_dsn);
void     trace_shutdown(void);
void     trace_new_id(char out[33]);
void     trace_step(const char *trace_id, const char *step, cJSON *detail, int64_t elapsed_us);
void     trace_end(void);
void     trace_summary(const char *trace_id, cJSON *summary);
void     trace_flush(void);
uint64_t trace_dropped(void);
uint64_t trace_summaries_dropped(void);
uint64_t trace_bad_rows(void);
/* Writer rounds that stored summaries alone, the steps left queued,
 * because summaries were backing up. */
uint64_t trace_sums_only_rounds(void);
/* Times the writer woke from a wait: it sleeps while nothing is queued. */
uint64_t trace_writer_wakes(void);
void     trace_limits(size_t queue_max, const char *hold_file);

/* Feedback on a summary the writer has not stored (yet): take it back and
 * store it on the caller's own connection. */
cJSON *trace_summary_claim(const char *trace_id);
int    trace_summary_store(db_conn *db, const cJSON *sum);

#endif
