/*
 * test_keyset.c - the set of keys the remote cache tiers may hold
 *
 * Its promises: "may hold" is true for every key until the set is
 * complete, then for every key among the most recent max/2 it was given.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cache/cache.h"

/* an incomplete set may hold anything; a complete one only what it saw */
static void
test_incomplete_then_complete(void **state)
{
	cache_keyset *s = cache_keyset_new(100);
	bool          complete;
	uint64_t      rot;

	(void)state;
	assert_non_null(s);
	assert_true(cache_keyset_may_hold(s, "customer|-|never seen"));
	cache_keyset_add(s, "customer|-|the trackman in bay 2 is frozen");
	cache_keyset_complete(s);
	assert_true(cache_keyset_may_hold(s, "customer|-|the trackman in bay 2 is frozen"));
	assert_false(cache_keyset_may_hold(s, "customer|-|the trackman in bay 3 is frozen"));
	assert_false(cache_keyset_may_hold(s, "staff|-|the trackman in bay 2 is frozen"));
	assert_false(cache_keyset_may_hold(s, ""));
	/* Keys added after completion count at once. */
	cache_keyset_add(s, "customer|-|the trackman in bay 3 is frozen");
	assert_true(cache_keyset_may_hold(s, "customer|-|the trackman in bay 3 is frozen"));
	assert_int_equal(cache_keyset_state(s, &complete, &rot), 2);
	assert_true(complete);
	assert_int_equal(rot, 0);
	cache_keyset_free(s);
}

/* the same key twice takes one place */
static void
test_duplicates(void **state)
{
	cache_keyset *s = cache_keyset_new(4);
	bool          complete;
	uint64_t      rot;

	(void)state;
	for (int i = 0; i < 10; i++)
		cache_keyset_add(s, "customer|-|hours");
	assert_int_equal(cache_keyset_state(s, &complete, &rot), 1);
	assert_int_equal(rot, 0);
	cache_keyset_free(s);
}

/* every key of many is found, and few unseen keys are reported held */
static void
test_many(void **state)
{
	cache_keyset *s = cache_keyset_new(100000);
	char          k[64];
	int           wrong = 0;

	(void)state;
	for (int i = 0; i < 50000; i++) {
		snprintf(k, sizeof(k), "customer|-|question %d", i);
		cache_keyset_add(s, k);
	}
	cache_keyset_complete(s);
	for (int i = 0; i < 50000; i++) {
		snprintf(k, sizeof(k), "customer|-|question %d", i);
		assert_true(cache_keyset_may_hold(s, k));
	}
	/* 64-bit fingerprints: a false "may hold" is a 1-in-2^64 event per pair. */
	for (int i = 50000; i < 150000; i++) {
		snprintf(k, sizeof(k), "customer|-|question %d", i);
		wrong += cache_keyset_may_hold(s, k);
	}
	assert_int_equal(wrong, 0);
	cache_keyset_free(s);
}

/* a set at its size forgets its oldest half, never its newest keys */
static void
test_forgets_the_oldest(void **state)
{
	cache_keyset *s = cache_keyset_new(4); /* two generations of two */
	bool          complete;
	uint64_t      rot;

	(void)state;
	cache_keyset_complete(s);
	cache_keyset_add(s, "a");
	cache_keyset_add(s, "b");
	cache_keyset_add(s, "c"); /* the first generation is full: a second starts */
	cache_keyset_add(s, "d");
	assert_int_equal(cache_keyset_state(s, &complete, &rot), 4);
	assert_int_equal(rot, 1);
	for (int i = 0; i < 4; i++)
		assert_true(cache_keyset_may_hold(s, (const char *[]){"a", "b", "c", "d"}[i]));
	cache_keyset_add(s, "b"); /* known already: no change */
	assert_int_equal(cache_keyset_state(s, &complete, &rot), 4);
	cache_keyset_add(s, "e"); /* a and b are forgotten, c, d and e kept */
	assert_int_equal(cache_keyset_state(s, &complete, &rot), 3);
	assert_int_equal(rot, 2);
	assert_false(cache_keyset_may_hold(s, "a"));
	assert_false(cache_keyset_may_hold(s, "b"));
	assert_true(cache_keyset_may_hold(s, "c"));
	assert_true(cache_keyset_may_hold(s, "d"));
	assert_true(cache_keyset_may_hold(s, "e"));
	/* A reset empties it and makes it incomplete: every key may be held
	 * again until the reload completes it. */
	cache_keyset_reset(s);
	assert_int_equal(cache_keyset_state(s, &complete, &rot), 0);
	assert_false(complete);
	assert_true(cache_keyset_may_hold(s, "zzz"));
	cache_keyset_complete(s);
	assert_false(cache_keyset_may_hold(s, "c"));
	cache_keyset_free(s);
}

/* a long run of keys: memory stays bounded and the newest half is always known */
static void
test_bounded_over_a_long_run(void **state)
{
	cache_keyset *s = cache_keyset_new(1000);
	char          k[64];
	bool          complete;
	uint64_t      rot;

	(void)state;
	cache_keyset_complete(s);
	for (int i = 0; i < 100000; i++) {
		snprintf(k, sizeof(k), "q%d", i);
		cache_keyset_add(s, k);
		assert_true(cache_keyset_state(s, &complete, &rot) <= 1000);
	}
	for (int i = 100000 - 500; i < 100000; i++) {
		snprintf(k, sizeof(k), "q%d", i);
		assert_true(cache_keyset_may_hold(s, k));
	}
	assert_int_equal(rot, 100000 / 500 - 1);
	cache_keyset_free(s);
}

/* bad arguments: no set, no key, absurd sizes */
static void
test_bad_arguments(void **state)
{
	bool     complete;
	uint64_t rot;

	(void)state;
	assert_null(cache_keyset_new(0));
	assert_null(cache_keyset_new(1));
	assert_null(cache_keyset_new((size_t)1 << 40));
	assert_true(cache_keyset_may_hold(NULL, "x"));
	cache_keyset_add(NULL, "x");
	cache_keyset_complete(NULL);
	cache_keyset_reset(NULL);
	assert_int_equal(cache_keyset_state(NULL, &complete, &rot), 0);
	cache_keyset_free(NULL);
	{
		cache_keyset *s = cache_keyset_new(2);

		cache_keyset_add(s, NULL);
		cache_keyset_complete(s);
		assert_true(cache_keyset_may_hold(s, NULL));
		assert_int_equal(cache_keyset_state(s, &complete, &rot), 0);
		cache_keyset_free(s);
	}
}

struct adder {
	cache_keyset *s;
	int           base;
};

/* add_main - one thread's 5,000 keys */
static void *
add_main(void *arg)
{
	struct adder *a = arg;
	char          k[64];

	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof(k), "k%d-%d", a->base, i);
		cache_keyset_add(a->s, k);
		(void)cache_keyset_may_hold(a->s, k);
	}
	return NULL;
}

/* four threads adding and asking at once lose no key (TSan checks the locking) */
static void
test_threads(void **state)
{
	cache_keyset *s = cache_keyset_new(40000);
	pthread_t     t[4];
	struct adder  a[4];
	bool          complete;
	uint64_t      rot;
	char          k[64];

	(void)state;
	for (int i = 0; i < 4; i++) {
		a[i] = (struct adder){s, i};
		assert_int_equal(pthread_create(&t[i], NULL, add_main, &a[i]), 0);
	}
	cache_keyset_complete(s);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(cache_keyset_state(s, &complete, &rot), 20000);
	assert_int_equal(rot, 0);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 5000; j += 97) {
			snprintf(k, sizeof(k), "k%d-%d", i, j);
			assert_true(cache_keyset_may_hold(s, k));
		}
	cache_keyset_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_incomplete_then_complete),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_many),
	    cmocka_unit_test(test_forgets_the_oldest),
	    cmocka_unit_test(test_bounded_over_a_long_run),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
