/*
 * daemon.c - the skeleton every ClubOS daemon runs on
 */
#include "common/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "common/db.h"
#include "common/env.h"
#include "common/health.h"
#include "common/link.h"
#include "common/log.h"
#include "common/sentry.h"
#include "common/trace.h"

static char daemon_pidfile[512];

/* usage - print the flags and exit 2 */
static void
usage(const struct daemon_ops *ops)
{
	fprintf(stderr, "usage: %s [-dnv] [-f config] [--health]%s\n", ops->name,
	        ops->usage != NULL ? ops->usage : "");
	exit(2);
}

/* pidfile_write - claim the pid file; refuse when a live process holds it */
static int
pidfile_write(const char *path)
{
	char  buf[32];
	FILE *f;
	int   fd;

	if ((f = fopen(path, "r")) != NULL) {
		long pid = 0;

		if (fscanf(f, "%ld", &pid) == 1 && pid > 0 && pid != getpid() &&
		    kill((pid_t)pid, 0) == 0) {
			fclose(f);
			log_error("already running as pid %ld (%s)", pid, path);
			return -1;
		}
		fclose(f);
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		log_error("pid file %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, strlen(buf)) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* mkdirs - mkdir -p */
static void
mkdirs(const char *path)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	mkdir(tmp, 0755);
}

/* detach - run in the background, stderr appended to the daemon's log file */
static int
detach(const struct cfg *c, const char *inst)
{
	char  path[512];
	pid_t pid;
	int   fd;

	mkdirs(c->log_dir);
	snprintf(path, sizeof(path), "%s/%s.log", c->log_dir, inst);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644)) < 0) {
		log_error("log file %s: %s", path, strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	setsid();
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	return 0;
}

/* daemon_main - flags, config, pid file, start, then wait for signals */
/* The stop signals, blocked in every thread from before start() on. */
static sigset_t daemon_stop_sigs;

/* daemon_start_wait - see daemon.h */
bool
daemon_start_wait(const char *what, int64_t *since_us)
{
	const struct cfg *live = cfg_acquire();
	int               limit = live != NULL ? live->start_wait_s : 0;
	int64_t           now = env_mono_us();
	struct timespec   ts = {.tv_sec = 1};
	int               sig;

	cfg_release(live);
	if (*since_us == 0) {
		*since_us = now;
		if (limit > 0)
			log_warn("%s: not there yet; waiting for it (up to %d s)", what, limit);
	}
	if (now - *since_us >= (int64_t)limit * 1000000) {
		if (limit > 0)
			log_error("%s: still not there after %lld s; giving up", what,
			          (long long)((now - *since_us) / 1000000));
		return false;
	}
	sig = sigtimedwait(&daemon_stop_sigs, NULL, &ts);
	if (sig == SIGTERM || sig == SIGINT) {
		log_info("signal %d while waiting: stopping", sig);
		return false;
	}
	return true;
}

/*
 * drain - between the stop signal and stop(): the daemon says it is not
 * ready and goes on serving for drain_ms, so that whatever routes traffic
 * to it by its readiness takes it out of rotation before it stops taking
 * work.  A second TERM or INT ends the wait at once.
 */
static void
drain(const struct daemon_ops *ops, const sigset_t *sigs)
{
	const struct cfg *live = cfg_acquire();
	int               ms = live != NULL ? live->drain_ms : 0;
	int64_t           until;

	cfg_release(live);
	if (ops->drain == NULL || ms <= 0)
		return;
	ops->drain();
	log_info("draining: not ready, still serving for %d ms", ms);
	until = env_mono_us() + (int64_t)ms * 1000;
	for (;;) {
		int64_t         left = until - env_mono_us();
		struct timespec ts;
		int             sig;

		if (left <= 0)
			return;
		ts.tv_sec = (time_t)(left / 1000000);
		ts.tv_nsec = (long)(left % 1000000) * 1000;
		sig = sigtimedwait(sigs, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("signal %d: draining cut short", sig);
			return;
		}
	}
}

int
daemon_main(int argc, char **argv, const struct daemon_ops *ops)
{
	static const struct option base[] = {{"help", no_argument, NULL, 'h'},
	                                     {"health", no_argument, NULL, DAEMON_OPT_HEALTH},
	                                     {0}};
	struct option              longopts[32];
	const char                *cfgfile = NULL, *inst;
	int                        foreground = 0, check_only = 0, verbose = 0, opt, n = 0;
	int                        health = 0;
	struct cfg                 c;
	const struct cfg          *boot;
	char                       err[512];
	sigset_t                   sigs;

	for (const struct option *o = base; o->name != NULL; o++)
		longopts[n++] = *o;
	if (ops->longopts != NULL)
		for (const struct option *o = ops->longopts; o->name != NULL && n < 30; o++)
			longopts[n++] = *o;
	memset(&longopts[n], 0, sizeof(longopts[n]));

	log_init(ops->name, 0);
	while ((opt = getopt_long(argc, argv, "df:hnv", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			foreground = 1;
			break;
		case 'f':
			cfgfile = optarg;
			break;
		case 'n':
			check_only = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case DAEMON_OPT_HEALTH:
			health = 1;
			break;
		case 'h':
		case '?':
			usage(ops);
			break;
		default:
			if (ops->option == NULL || ops->option(opt, optarg) < 0)
				usage(ops);
		}
	}
	if (optind != argc)
		usage(ops);
	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	if (cfg_load(&c, cfgfile, err, sizeof(err)) < 0 ||
	    (ops->check != NULL && ops->check(&c, err, sizeof(err)) < 0) ||
	    link_tls_setup(c.tls_ca, c.tls_cert, c.tls_server_name, err, sizeof(err)) < 0) {
		log_error("configuration: %s", err);
		return 1;
	}
	log_set_format(strcmp(c.log_format, "json") == 0 ? LOG_JSON : LOG_TEXT);
	if (health) {
		/* A probe, not a daemon: ask the running one and say what it said. */
		int rc =
		    health_main(&c, ops->name, ops->instance != NULL ? ops->instance(&c) : NULL);

		cfg_free(&c);
		return rc;
	}
	if (check_only) {
		printf("%s: configuration ok\n", ops->name);
		cfg_free(&c);
		return 0;
	}
	log_init(ops->name, verbose);
	/* Detach first: an instance name may carry the pid. */
	if (!foreground && detach(&c, ops->name) < 0)
		fatal("cannot run in the background");
	inst = ops->instance != NULL ? ops->instance(&c) : ops->name;
	log_init(inst, verbose);

	/* Signals go to the main thread's sigwait(); every thread started
	 * from here on inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sigemptyset(&daemon_stop_sigs);
	sigaddset(&daemon_stop_sigs, SIGTERM);
	sigaddset(&daemon_stop_sigs, SIGINT);
	signal(SIGPIPE, SIG_IGN);

	mkdirs(c.run_dir);
	/* After detaching (a thread does not survive fork), before anything
	 * that may fail, so that failure is reported. */
	sentry_init(&c, ops->name);
	snprintf(daemon_pidfile, sizeof(daemon_pidfile), "%s/%s.pid", c.run_dir, inst);
	if (pidfile_write(daemon_pidfile) < 0)
		return 1;
	/* The daemon keeps the snapshot it started with for its whole life
	 * (sockets, ports, the DSN: what a reload cannot change), so pointers
	 * taken at start stay valid; requests take the live one each time. */
	if (cfg_publish(&c) < 0 || (boot = cfg_acquire()) == NULL)
		fatal("out of memory");
	db_settings(boot->pg_connect_timeout_s, boot->pg_statement_timeout_ms);
	trace_limits((size_t)boot->trace_queue_max,
	             cfg_production(boot) ? NULL : boot->trace_hold_file);
	if (ops->start(boot) < 0) {
		log_error("start failed");
		unlink(daemon_pidfile);
		return 1;
	}
	log_info("started (env %s)", boot->env);
	for (;;) {
		const struct cfg *live;
		struct cfg        nc;
		int               sig;

		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			link_log_all(); /* what this daemon believes it is connected to */
			continue;
		}
		if (sig != SIGHUP) {
			log_info("signal %d: stopping", sig);
			drain(ops, &sigs);
			break;
		}
		if (cfg_load(&nc, cfgfile, err, sizeof(err)) < 0 ||
		    (ops->check != NULL && ops->check(&nc, err, sizeof(err)) < 0)) {
			log_warn("reload refused: %s", err);
			cfg_free(&nc);
			continue;
		}
		if (cfg_publish(&nc) < 0) {
			log_warn("reload refused: out of memory");
			cfg_free(&nc);
			continue;
		}
		log_info("reloaded the configuration");
		live = cfg_acquire();
		db_settings(live->pg_connect_timeout_s, live->pg_statement_timeout_ms);
		if (ops->reload != NULL)
			ops->reload(live);
		cfg_release(live);
	}
	ops->stop(DAEMON_STOP_DEADLINE_MS);
	unlink(daemon_pidfile);
	log_info("stopped");
	sentry_shutdown();
	cfg_release(boot);
	cfg_publish(NULL);
	return 0;
}
