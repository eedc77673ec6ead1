/*
 * sentry.h - errors and crashes to Sentry, when SENTRY_DSN is set
 *
 * sentry_init() reads the DSN, starts one sender thread and hooks the log:
 * every error line (log_error, fatal) becomes an event, queued without
 * waiting (a full queue drops it and counts) and posted by the thread
 * through Sentry's envelope endpoint, POST {scheme}://{host}/api/{project}/
 * envelope/ with an X-Sentry-Auth header, each post bounded by a timeout.
 * A crash signal (SEGV, BUS, FPE, ILL, ABRT) cannot post from its handler:
 * the handler writes the event to a file under the run directory with
 * async-signal-safe calls and re-raises; the next start of a daemon of the
 * same name sends it.  On exit the queue gets a bounded moment to drain.
 * Without a DSN nothing of this runs.
 */
#ifndef CLUBOS_SENTRY_H
#define CLUBOS_SENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/cfg.h"

int      sentry_init(const struct cfg *c, const char *daemon);
void     sentry_capture(const char *level, const char *trace_id, const char *msg);
void     sentry_flush(int timeout_ms);
void     sentry_shutdown(void);
uint64_t sentry_dropped(void);

/* Parsed DSN: {scheme}://{key}[:{secret}]@{host}[/{path}]/{project} */
struct sentry_dsn {
	char url[512]; /* the envelope endpoint */
	char key[128];
	char project[64];
};
int sentry_parse_dsn(const char *dsn, struct sentry_dsn *out);

#endif
