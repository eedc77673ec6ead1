/*
 * health.h - is a daemon alive and ready, asked from outside it
 *
 * One table of the daemons a deployment runs and how each is asked:
 * the RPC servers (router, cache, intelligence, actions) answer
 * ENV_OP_HEALTH on their own socket with what they are connected to
 * (rpc.c); the bus is alive when its trace socket takes a connection; the
 * gateway answers GET /api/health; a worker is ready when the router
 * counts a worker for its route.  Addresses come from the same
 * configuration the daemons read (CLUBOS_<NAME>_HOST), so the probes work
 * across hosts.  Used by `clubos-<daemon> --health` (a container's health
 * check) and `clubosctl status`.
 */
#ifndef CLUBOS_HEALTH_H
#define CLUBOS_HEALTH_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/cfg.h"

size_t      health_ndaemons(void);
const char *health_daemon(size_t i);
int         health_probe(const struct cfg *c, const char *daemon, const char *route, int timeout_ms,
                         cJSON **out);
int         health_main(const struct cfg *c, const char *daemon, const char *instance);

#endif
