/*
 * test_bus.c - the bus: the hub forwards by topic, and a publisher or a
 * subscriber whose dialer stopped dialing finds the hub again
 *
 * nng 1.5.2's dialer was caught never dialing again after its peer was
 * killed; closing the dialer here has the same effect (a dialer that will
 * not dial), and the bus must get past it by itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "common/bus.h"
#include "common/env.h"

static char in_url[128], trace_url[128], events_url[128];

/* urls - fresh ipc addresses for one test */
static void
urls(const char *name)
{
	snprintf(in_url, sizeof(in_url), "ipc:///tmp/clubos-test-bus-%ld-%s-in.ipc", (long)getpid(),
	         name);
	snprintf(trace_url, sizeof(trace_url), "ipc:///tmp/clubos-test-bus-%ld-%s-tr.ipc",
	         (long)getpid(), name);
	snprintf(events_url, sizeof(events_url), "ipc:///tmp/clubos-test-bus-%ld-%s-ev.ipc",
	         (long)getpid(), name);
}

/* heard - publish topic until s receives it, for at most ms; true if it did */
static bool
heard(bus_sub *s, const char *topic, int ms)
{
	int64_t until = env_mono_us() + (int64_t)ms * 1000;

	while (env_mono_us() < until) {
		char *t, *j;

		bus_publish(topic, "{\"n\":1}");
		while (bus_sub_recv(s, 50, &t, &j) == 0) {
			bool match = strcmp(t, topic) == 0 && strcmp(j, "{\"n\":1}") == 0;

			free(t);
			free(j);
			if (match)
				return true;
		}
	}
	return false;
}

/* forward: events and trace steps go out on their own addresses */
static void
test_forward(void **state)
{
	static const char *const trace_only[] = {"trace", NULL};
	bus_hub                 *h;
	bus_sub                 *ev, *tr;
	char                    *t, *j;

	(void)state;
	urls("forward");
	assert_non_null(h = bus_hub_start(in_url, trace_url, events_url));
	assert_int_equal(bus_pub_open(in_url), 0);
	assert_non_null(ev = bus_sub_open(events_url, NULL));
	assert_non_null(tr = bus_sub_open(trace_url, trace_only));
	assert_true(heard(ev, "sop.changed", 5000));
	assert_true(heard(tr, "trace", 5000));
	/* An event never goes out on the trace address. */
	while (bus_sub_recv(tr, 0, &t, &j) == 0) {
		free(t);
		free(j);
	}
	bus_publish("feedback", "{}");
	assert_int_equal(bus_sub_recv(tr, 200, &t, &j), 1);
	bus_sub_close(tr);
	bus_sub_close(ev);
	bus_pub_close();
	bus_hub_stop(h);
}

/* dead_dialer - kill the subscriber's or the publisher's dialer once the
 * bus works; it must work again with a new one */
static void
dead_dialer(const char *name, bool publisher)
{
	bus_hub   *h;
	bus_sub   *s;
	unsigned   first;
	nng_dialer d;

	urls(name);
	assert_non_null(h = bus_hub_start(in_url, trace_url, events_url));
	assert_int_equal(bus_pub_open(in_url), 0);
	assert_non_null(s = bus_sub_open(events_url, NULL));
	assert_true(heard(s, "sop.changed", 5000));
	d.id = first = publisher ? bus_pub_dialer_id() : bus_sub_dialer_id(s);
	assert_int_equal(nng_dialer_close(d), 0); /* its pipe goes with it */
	assert_true(heard(s, "sop.changed", 10000));
	assert_true((publisher ? bus_pub_dialer_id() : bus_sub_dialer_id(s)) != first);
	bus_sub_close(s);
	bus_pub_close();
	bus_hub_stop(h);
}

/* dead_sub_dialer: a subscriber whose dialer will not dial hears again */
static void
test_dead_sub_dialer(void **state)
{
	(void)state;
	dead_dialer("dead-sub", false);
}

/* dead_pub_dialer: a publisher whose dialer will not dial is heard again */
static void
test_dead_pub_dialer(void **state)
{
	(void)state;
	dead_dialer("dead-pub", true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forward),
	    cmocka_unit_test(test_dead_sub_dialer),
	    cmocka_unit_test(test_dead_pub_dialer),
	};

	return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
