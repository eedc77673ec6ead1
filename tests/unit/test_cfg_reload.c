/*
 * test_cfg_reload.c - the live configuration as immutable snapshots
 *
 * Readers take a snapshot, read it at leisure and give it back while
 * another thread publishes new ones as fast as it can: every snapshot a
 * reader holds stays whole (its fields agree with each other) and alive
 * until released.  Run under AddressSanitizer (make asan) a snapshot freed
 * too early is a use-after-free report.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/cfg.h"

#define READERS 4
#define PUBLISHES 2000

static atomic_bool stop;
static atomic_int  torn;

/* make - a configuration whose string says the same as its number */
static void
make(struct cfg *c, int n)
{
	char err[256], buf[32];

	assert_int_equal(cfg_load(c, NULL, err, sizeof(err)), 0);
	c->http_port = n;
	snprintf(buf, sizeof(buf), "%d", n);
	free(c->admin_email);
	c->admin_email = strdup(buf);
}

/* reader - take, check, give back, until told to stop */
static void *
reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		const struct cfg *c = cfg_acquire();

		if (c == NULL)
			continue;
		for (int i = 0; i < 50; i++)
			if (atoi(c->admin_email) != c->http_port)
				atomic_fetch_add(&torn, 1);
		cfg_release(c);
	}
	return NULL;
}

/* publish_under_readers: snapshots stay whole and alive while held */
static void
test_publish_under_readers(void **state)
{
	pthread_t         thr[READERS];
	struct cfg        c;
	const struct cfg *held;

	(void)state;
	make(&c, 1);
	assert_int_equal(cfg_publish(&c), 0);
	held = cfg_acquire(); /* kept across every publish below */
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&thr[i], NULL, reader, NULL), 0);
	for (int n = 2; n <= PUBLISHES; n++) {
		make(&c, n);
		assert_int_equal(cfg_publish(&c), 0);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < READERS; i++)
		pthread_join(thr[i], NULL);
	assert_int_equal(atomic_load(&torn), 0);
	/* The first snapshot is still the first. */
	assert_int_equal(held->http_port, 1);
	assert_string_equal(held->admin_email, "1");
	cfg_release(held);
	{
		const struct cfg *now = cfg_acquire();

		assert_non_null(now);
		assert_int_equal(now->http_port, PUBLISHES);
		cfg_release(now);
	}
	cfg_publish(NULL);
	assert_null(cfg_acquire());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_publish_under_readers),
	};

	return cmocka_run_group_tests_name("cfg_reload", tests, NULL, NULL);
}
