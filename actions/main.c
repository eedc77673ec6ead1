/*
 * clubos-actions - the action executor
 *
 * Takes the actions the front desk journaled (PostgreSQL, written by
 * common/ops.c) and makes them happen through the outside systems: Slack
 * and the on-call phone for escalations, NinjaOne for TrackMan restarts
 * and PC reboots, UniFi Access for approved door unlocks.  The journal is
 * its only input, NOTIFY clubos_actions its doorbell; its one socket
 * ("actions") answers only the health probe (ping and health, rpc.c).  Any
 * number may run, on any host; the journal's row locks keep them from
 * taking the same action, and an instance that finds the health address
 * taken runs without it.  See exec.c for the life cycle.
 */
#include "actions/act.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/rpc.h"

static rpc_server *act_health;

/* act_start - the workers, then the health socket */
static int
act_start(const struct cfg *c)
{
	char url[256];

	if (exec_start(c) < 0)
		return -1;
	if (cfg_listen_url(c, "actions", url, sizeof(url)) == 0 &&
	    (act_health = rpc_probe_start(url)) == NULL)
		log_warn("actions: no health socket on %s (another executor has it)", url);
	return 0;
}

/* act_stop - finish what is in flight, then stop */
static void
act_stop(int deadline_ms)
{
	rpc_server_stop(act_health, deadline_ms);
	act_health = NULL;
	exec_stop();
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .name = "clubos-actions",
	    .start = act_start,
	    .stop = act_stop,
	};

	return daemon_main(argc, argv, &ops);
}
