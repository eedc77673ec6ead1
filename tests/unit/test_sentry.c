/*
 * test_sentry.c - DSNs into envelope endpoints and keys
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/sentry.h"

/* dsn_good: scheme, host, port, path prefix and project make the endpoint */
static void
test_dsn_good(void **state)
{
	struct sentry_dsn d;

	(void)state;
	assert_int_equal(sentry_parse_dsn("https://abc123@o1.ingest.sentry.io/4505", &d), 0);
	assert_string_equal(d.url, "https://o1.ingest.sentry.io/api/4505/envelope/");
	assert_string_equal(d.key, "abc123");
	assert_string_equal(d.project, "4505");
	assert_int_equal(sentry_parse_dsn("http://k:secret@127.0.0.1:9000/sub/path/7", &d), 0);
	assert_string_equal(d.url, "http://127.0.0.1:9000/sub/path/api/7/envelope/");
	assert_string_equal(d.key, "k");
}

/* dsn_bad: anything else is refused, never half-parsed */
static void
test_dsn_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "not a dsn",
	    "ftp://k@h/1",
	    "http://h/1",
	    "http://@h/1",
	    "http://k@/1",
	    "http://k@h/",
	    "http://k@h",
	    "http://k@h/abc",
	    "http://k\"x@h/1",
	    "http://kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk@h/1",
	};
	struct sentry_dsn d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sentry_parse_dsn(bad[i], &d), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dsn_good),
	    cmocka_unit_test(test_dsn_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
