/*
 * clubosctl - the operator's command line
 *
 *   clubosctl up | down | status [--json]
 *   clubosctl migrate up | down | status
 *   clubosctl seed
 *   clubosctl user add EMAIL ROLE [--name NAME] [--phone PHONE]
 *   clubosctl ask [--role R] [--location L] [--bay N] "message"
 *   clubosctl trace
 *
 * It reads the same configuration as the daemons (-f FILE, then the
 * environment).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common/link.h"
#include "common/log.h"
#include "deploy/clubosctl/ctl.h"

struct cfg ctl_cfg;

static int cmd_up(int argc, char **argv);
static int cmd_down(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *usage;
} commands[] = {
    {"ask", cmd_ask, "ask [--role R] [--location L] [--bay N] \"message\""},
    {"down", cmd_down, "down"},
    {"migrate", cmd_migrate, "migrate up|down|status"},
    {"seed", cmd_seed, "seed"},
    {"status", cmd_status, "status [--json]"},
    {"trace", cmd_trace, "trace"},
    {"up", cmd_up, "up"},
    {"user", cmd_user, "user add EMAIL ROLE [--name NAME] [--phone PHONE]"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* usage - list the commands and exit 2 */
static void
usage(void)
{
	fprintf(stderr, "usage: clubosctl [-f config] COMMAND\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(stderr, "       clubosctl %s\n", commands[i].usage);
	exit(2);
}

/* ctl_db - a database connection, or exit with a clear message */
db_conn *
ctl_db(void)
{
	db_conn *db;

	/* Migrations and seeding may run long: no statement timeout here. */
	db_settings(ctl_cfg.pg_connect_timeout_s, 0);
	db = db_open(ctl_cfg.pg_dsn);
	if (db == NULL || !db_ok(db)) {
		fprintf(stderr, "clubosctl: cannot connect to PostgreSQL (CLUBOS_PG_DSN)\n");
		exit(1);
	}
	return db;
}

/* cmd_up / cmd_down - the same scripts as make up / make down */
static int
cmd_up(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	execlp("sh", "sh", "deploy/up.sh", (char *)NULL);
	perror("clubosctl: deploy/up.sh");
	return 1;
}

static int
cmd_down(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	execlp("sh", "sh", "deploy/down.sh", (char *)NULL);
	perror("clubosctl: deploy/down.sh");
	return 1;
}

int
main(int argc, char **argv)
{
	const char *cfgfile = NULL;
	char        err[512];
	int         i = 1;

	log_init("clubosctl", 0);
	if (argc > 2 && strcmp(argv[1], "-f") == 0) {
		cfgfile = argv[2];
		i = 3;
	}
	if (i >= argc)
		usage();
	if (sodium_init() < 0 || cfg_load(&ctl_cfg, cfgfile, err, sizeof(err)) < 0 ||
	    link_tls_setup(ctl_cfg.tls_ca, ctl_cfg.tls_cert, ctl_cfg.tls_server_name, err,
	                   sizeof(err)) < 0) {
		fprintf(stderr, "clubosctl: configuration: %s\n", err);
		return 1;
	}
	for (size_t c = 0; c < NCOMMANDS; c++)
		if (strcmp(commands[c].name, argv[i]) == 0)
			return commands[c].fn(argc - i, argv + i);
	usage();
	return 2;
}
