/*
 * ctl.h - clubosctl's commands
 *
 * main.c     the command table and the shared helpers
 * migrate.c  numbered migrations with checksums
 * seed.c     the sample facility, SOPs, examples, customers, the admin
 * live.c     ask, trace, status: talking to the running daemons
 */
#ifndef CLUBOS_CTL_H
#define CLUBOS_CTL_H

#include "common/cfg.h"
#include "common/db.h"

extern struct cfg ctl_cfg;

db_conn *ctl_db(void);
int      cmd_migrate(int argc, char **argv);
int      cmd_seed(int argc, char **argv);
int      cmd_user(int argc, char **argv);
int      cmd_ask(int argc, char **argv);
int      cmd_trace(int argc, char **argv);
int      cmd_status(int argc, char **argv);

#endif
