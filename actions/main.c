/*
 * clubos-actions - the action executor
 *
 * Takes the actions the front desk journaled (PostgreSQL, written by
 * common/ops.c) and makes them happen through the outside systems: Slack
 * and the on-call phone for escalations, NinjaOne for TrackMan restarts
 * and PC reboots, UniFi Access for approved door unlocks.  It serves no
 * socket: the journal is its only input, NOTIFY clubos_actions its
 * doorbell.  Any number may run, on any host; the journal's row locks
 * keep them from taking the same action.  See exec.c for the life cycle.
 */
#include "actions/act.h"
#include "common/daemon.h"

/* act_start - the workers */
static int
act_start(const struct cfg *c)
{
	return exec_start(c);
}

/* act_stop - finish what is in flight, then stop */
static void
act_stop(int deadline_ms)
{
	(void)deadline_ms;
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
