/*
 * daemon.h - the skeleton every ClubOS daemon runs on
 *
 * A daemon's main() fills a struct daemon_ops and calls daemon_main(),
 * which parses the common flags (-f config, -d foreground, -n check config
 * and exit, -v verbose, --health: ask the running daemon whether it is up
 * and ready, print what it says as JSON and exit 0 or 1), loads the configuration, detaches (unless
 * -d), writes the pid file, starts the daemon, and then waits for signals on the main thread with
 * sigwait(): no work happens inside a signal handler. USR1 logs every nng link the daemon holds
 * with its peers (link_log_all). TERM/INT stop gracefully (in-flight requests
 * finish within a deadline), HUP loads and checks the configuration and publishes it as a new
 * immutable snapshot (cfg_publish); start() gets the first snapshot, which
 * stays valid for the daemon's life, and requests read the live one
 * through cfg_acquire/cfg_release.
 */
#ifndef CLUBOS_DAEMON_H
#define CLUBOS_DAEMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/cfg.h"

#define DAEMON_STOP_DEADLINE_MS 5000
#define DAEMON_OPT_HEALTH 0x4801 /* --health: probe the running daemon, print JSON, exit */

struct daemon_ops {
	const char          *name;               /* clubos-router */
	const char          *usage;              /* extra usage text, or NULL */
	const struct option *longopts;           /* extra long options, or NULL */
	int (*option)(int opt, const char *arg); /* an extra option */
	int (*check)(const struct cfg *c, char *err, size_t errlen);
	int (*start)(const struct cfg *c); /* 0 = running */
	/* After TERM/INT and before stop, when drain_ms > 0: say "not ready"
	 * and go on serving for drain_ms, so that a load balancer that checks
	 * readiness stops sending new work first.  NULL = stop at once. */
	void (*drain)(void);
	void (*stop)(int deadline_ms);
	void (*reload)(const struct cfg *c);
	const char *(*instance)(const struct cfg *c); /* pid file name; NULL = name */
};

int daemon_main(int argc, char **argv, const struct daemon_ops *ops);

/*
 * daemon_start_wait - for start(): a dependency is not there yet (say
 * PostgreSQL still starting).  The first call says so (what, and for how
 * long at most: CLUBOS_START_WAIT_S); each waits one second and returns
 * true while start may try again, false when the time is up or a TERM or
 * INT came meanwhile (start then fails and the daemon exits).  *since_us
 * is when the wait began (monotonic); start it at 0.
 */
bool daemon_start_wait(const char *what, int64_t *since_us);

#endif
