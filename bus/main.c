/*
 * clubos-bus - the event and trace bus, a daemon of its own
 *
 * Publishers dial "bus-in"; trace steps go out on "bus" (tail it with
 * clubosctl trace) and events on "events" (common/bus.c).  The hub used to
 * live in the router, so a router restart silenced every event; on its own
 * it has one job and restarts on its own.  The bus is lossy by design:
 * nothing that must not be lost travels only on it (the knowledge
 * generation, say, is also polled from PostgreSQL by those who serve
 * answers).
 */
#include "common/bus.h"
#include "common/daemon.h"
#include "common/log.h"

static bus_hub *bus_hub_running;

/* bus_start - listen on the three addresses */
static int
bus_start(const struct cfg *c)
{
	char in[256], trace[256], events[256];

	if (cfg_listen_url(c, "bus-in", in, sizeof(in)) < 0 ||
	    cfg_listen_url(c, "bus", trace, sizeof(trace)) < 0 ||
	    cfg_listen_url(c, "events", events, sizeof(events)) < 0)
		return -1;
	if ((bus_hub_running = bus_hub_start(in, trace, events)) == NULL)
		return -1;
	log_info("bus: in %s, trace steps %s, events %s", in, trace, events);
	return 0;
}

/* bus_stop - close the hub */
static void
bus_stop(int deadline_ms)
{
	(void)deadline_ms;
	bus_hub_stop(bus_hub_running);
	bus_hub_running = NULL;
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .name = "clubos-bus",
	    .start = bus_start,
	    .stop = bus_stop,
	};

	return daemon_main(argc, argv, &ops);
}
