/*
 * test_cfg.c - the configuration table: defaults, file, environment, checks
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cfg.h"

static const char *const envs[] = {"CLUBOS_HTTP_PORT",       "CLUBOS_ENV",
                                   "CLUBOS_JWT_SECRET",      "CLUBOS_RATE_LIMIT",
                                   "CLUBOS_PG_DSN",          "CLUBOS_RUN_DIR",
                                   "OPENAI_API_KEY",         "CLUBOS_ROUTER_HOST",
                                   "CLUBOS_BUS_HOST",        "CLUBOS_BIND_ADDR",
                                   "CLUBOS_TLS_CA",          "CLUBOS_TLS_CERT",
                                   "CLUBOS_TLS_SERVER_NAME", NULL};

/* clean - start each test from a bare environment */
static int
clean(void **state)
{
	(void)state;
	for (const char *const *e = envs; *e; e++)
		unsetenv(*e);
	return 0;
}

/* write_file - a temporary configuration file */
static char *
write_file(const char *text)
{
	static char path[64];
	int         fd;

	snprintf(path, sizeof(path), "/tmp/clubos-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void
test_defaults(void **state)
{
	struct cfg c;
	char       err[256];

	(void)state;
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), 0);
	assert_int_equal(c.http_port, 8080);
	assert_string_equal(c.env, "development");
	assert_string_equal(c.rate_limit, "default");
	assert_string_equal(c.admin_email, "admin@clubos.local");
	assert_false(cfg_production(&c));
	cfg_free(&c);
}

/* precedence: environment over file over default */
static void
test_precedence(void **state)
{
	struct cfg c;
	char       err[256];
	char      *path = write_file("# comment\nhttp_port = 9000\n  workers=7  \n\nenv = test\n");

	(void)state;
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.http_port, 9000);
	assert_int_equal(c.workers, 7);
	assert_string_equal(c.env, "test");
	cfg_free(&c);
	setenv("CLUBOS_HTTP_PORT", "9100", 1);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.http_port, 9100);
	cfg_free(&c);
	unlink(path);
}

/* bad_input: unknown names, bad numbers, missing '=' are errors with a line number */
static void
test_bad_input(void **state)
{
	struct cfg c;
	char       err[256];
	char      *path;

	(void)state;
	path = write_file("http_port = 8080\nno_such_setting = 1\n");
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "no_such_setting"));
	cfg_free(&c);
	unlink(path);

	path = write_file("http_port = eighty\n");
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "http_port"));
	cfg_free(&c);
	unlink(path);

	path = write_file("just words\n");
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), -1);
	cfg_free(&c);
	unlink(path);

	setenv("CLUBOS_HTTP_PORT", "70000", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), -1);
	cfg_free(&c);
	unsetenv("CLUBOS_HTTP_PORT");

	assert_int_equal(cfg_load(&c, "/nonexistent/clubos.conf", err, sizeof(err)), -1);
	cfg_free(&c);

	setenv("CLUBOS_ENV", "staging", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), -1);
	cfg_free(&c);
}

/* production: refuses default secrets and disabled rate limits */
static void
test_production(void **state)
{
	struct cfg c;
	char       err[256];

	(void)state;
	setenv("CLUBOS_ENV", "production", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "JWT"));
	cfg_free(&c);

	setenv("CLUBOS_JWT_SECRET", "0123456789abcdef0123456789abcdef-long", 1);
	setenv("CLUBOS_PG_DSN", "host=db dbname=clubos", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), 0);
	assert_true(cfg_production(&c));
	cfg_free(&c);

	setenv("CLUBOS_RATE_LIMIT", "off", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "RATE_LIMIT"));
	cfg_free(&c);
}

/* dump: secrets are masked */
static void
test_dump_masks_secrets(void **state)
{
	struct cfg c;
	char       err[256], buf[4096];
	char      *path = write_file("");
	FILE      *f;
	size_t     n;
	int        fd;

	(void)state;
	setenv("OPENAI_API_KEY", "sk-very-secret-key", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), 0);
	fd = open(path, O_WRONLY | O_TRUNC);
	cfg_dump(&c, fd);
	close(fd);
	f = fopen(path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_null(strstr(buf, "sk-very-secret-key"));
	assert_non_null(strstr(buf, "openai_api_key = (set)"));
	assert_non_null(strstr(buf, "http_port = 8080"));
	cfg_free(&c);
	unlink(path);
}

static void
test_url(void **state)
{
	struct cfg c;
	char       err[256], url[128];

	(void)state;
	setenv("CLUBOS_RUN_DIR", "/tmp/x", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), 0);
	assert_int_equal(cfg_url(&c, "router", url, sizeof(url)), 0);
	assert_string_equal(url, "ipc:///tmp/x/router.ipc");
	assert_int_equal(cfg_url(&c, "router", url, 8), -1);
	cfg_free(&c);
}

/* A daemon's host moves its sockets to TCP: the owner listens, the others dial. */
static void
test_url_hosts(void **state)
{
	struct cfg c;
	char       err[256], url[128];

	(void)state;
	setenv("CLUBOS_RUN_DIR", "/tmp/x", 1);
	setenv("CLUBOS_ROUTER_HOST", "core.internal", 1);
	setenv("CLUBOS_BUS_HOST", "fd12::7", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), 0);
	assert_int_equal(cfg_url(&c, "router", url, sizeof(url)), 0);
	assert_string_equal(url, "tcp://core.internal:7301");
	assert_int_equal(cfg_listen_url(&c, "router", url, sizeof(url)), 0);
	assert_string_equal(url, "tcp://0.0.0.0:7301");
	/* The worker sockets belong to the router's host, one port per route. */
	assert_int_equal(cfg_url(&c, "workers-tech", url, sizeof(url)), 0);
	assert_string_equal(url, "tcp://core.internal:7312");
	/* A bare IPv6 address is bracketed. */
	assert_int_equal(cfg_url(&c, "events", url, sizeof(url)), 0);
	assert_string_equal(url, "tcp://[fd12::7]:7342");
	/* Others stay on this machine. */
	assert_int_equal(cfg_url(&c, "cache", url, sizeof(url)), 0);
	assert_string_equal(url, "ipc:///tmp/x/cache.ipc");
	assert_int_equal(cfg_listen_url(&c, "cache", url, sizeof(url)), 0);
	assert_string_equal(url, "ipc:///tmp/x/cache.ipc");
	cfg_free(&c);
	setenv("CLUBOS_BIND_ADDR", "::", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), 0);
	assert_int_equal(cfg_listen_url(&c, "bus-in", url, sizeof(url)), 0);
	assert_string_equal(url, "tcp://[::]:7340");
	cfg_free(&c);
}

/* url_tls: with TLS on, addresses between hosts are tls+tcp, ipc stays;
 * half a TLS configuration, or no name, is refused */
static void
test_url_tls(void **state)
{
	struct cfg c;
	char       err[256], url[128];

	(void)state;
	setenv("CLUBOS_RUN_DIR", "/tmp/x", 1);
	setenv("CLUBOS_ROUTER_HOST", "fd12::3", 1);
	setenv("CLUBOS_TLS_CA", "/etc/clubos/ca.pem", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CLUBOS_TLS_CERT"));
	setenv("CLUBOS_TLS_CERT", "/etc/clubos/host.pem", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.tls_server_name, "clubos");
	assert_int_equal(cfg_url(&c, "router", url, sizeof(url)), 0);
	assert_string_equal(url, "tls+tcp://[fd12::3]:7301");
	assert_int_equal(cfg_listen_url(&c, "workers-general", url, sizeof(url)), 0);
	assert_string_equal(url, "tls+tcp://0.0.0.0:7316");
	assert_int_equal(cfg_url(&c, "cache", url, sizeof(url)), 0);
	assert_string_equal(url, "ipc:///tmp/x/cache.ipc");
	cfg_free(&c);
	setenv("CLUBOS_TLS_SERVER_NAME", "", 1);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CLUBOS_TLS_SERVER_NAME"));
	unsetenv("CLUBOS_TLS_SERVER_NAME");
	unsetenv("CLUBOS_TLS_CA");
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CLUBOS_TLS_CA"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_defaults, clean),
	    cmocka_unit_test_setup(test_precedence, clean),
	    cmocka_unit_test_setup(test_bad_input, clean),
	    cmocka_unit_test_setup(test_production, clean),
	    cmocka_unit_test_setup(test_dump_masks_secrets, clean),
	    cmocka_unit_test_setup(test_url, clean),
	    cmocka_unit_test_setup(test_url_hosts, clean),
	    cmocka_unit_test_setup(test_url_tls, clean),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
