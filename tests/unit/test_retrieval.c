/*
 * test_retrieval.c - SOP retrieval (BM25) and the JSON helpers it sits beside
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assistants/retrieval.h"
#include "common/json.h"

static const struct ret_doc docs[] = {
    {"TrackMan frozen or not responding", "frozen, stuck, not responding, won't load",
     "The team can restart TrackMan remotely; it takes 30 to 60 seconds."},
    {"Wifi network and password", "wifi, internet, password, network",
     "The network name and password are on the card in each bay."},
    {"Parking and directions", "parking, address, directions, where",
     "Parking is in the lot behind the building."},
    {"Cancel a booking", "cancel, cancellation, refund policy",
     "Cancel more than 24 hours ahead for a full refund."},
};
#define NDOCS (sizeof(docs) / sizeof(docs[0]))

static int
setup(void **state)
{
	*state = ret_build(docs, NDOCS);
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	ret_free(*state);
	return 0;
}

/* ranks: the document about the question comes first */
static void
test_ranks(void **state)
{
	struct ret_hit hits[4];
	size_t         n;

	n = ret_search(*state, "the sim is frozen and won't respond", hits, 4);
	assert_true(n >= 1);
	assert_int_equal(hits[0].doc, 0);
	n = ret_search(*state, "What's the WIFI password?", hits, 4);
	assert_true(n >= 1);
	assert_int_equal(hits[0].doc, 1);
	assert_true(hits[0].coverage > 0.5);
	n = ret_search(*state, "where can I park", hits, 4);
	assert_true(n >= 1);
	assert_int_equal(hits[0].doc, 2);
}

/* stems: plurals and -ing forms find their word */
static void
test_stems(void **state)
{
	struct ret_hit hits[4];

	assert_true(ret_search(*state, "cancellations", hits, 4) >= 1);
	assert_int_equal(hits[0].doc, 3);
	assert_true(ret_search(*state, "cancelling my bookings", hits, 4) >= 1);
	assert_int_equal(hits[0].doc, 3);
}

/* nothing: stop words and unknown words match nothing */
static void
test_nothing(void **state)
{
	struct ret_hit hits[4];

	assert_int_equal(ret_search(*state, "", hits, 4), 0);
	assert_int_equal(ret_search(*state, "the and of is", hits, 4), 0);
	assert_int_equal(ret_search(*state, "zyzzyva quux", hits, 4), 0);
	assert_int_equal(ret_search(NULL, "wifi", hits, 4), 0);
	assert_int_equal(ret_search(*state, "wifi", hits, 0), 0);
}

/* sorted_and_bounded: scores descend and k is respected */
static void
test_sorted(void **state)
{
	struct ret_hit hits[2];
	size_t         n = ret_search(*state, "password parking frozen cancel", hits, 2);

	assert_int_equal(n, 2);
	assert_true(hits[0].score >= hits[1].score);
}

/* huge_and_odd: long and odd input (200,000 bytes of one word, curly
 * quotes, invalid UTF-8, control bytes) is searched like a short one: the
 * wifi document, and only documents that share a word, ranked */
static void
test_huge(void **state)
{
	struct ret_hit hits[4], small[4];
	size_t         n = 200000, got, want;
	char          *q = malloc(n + 1);

	assert_non_null(q);
	for (size_t i = 0; i < n; i++)
		q[i] = (char)("wifi \xe2\x80\x99 \xff\x01"[i % 12]);
	q[n] = '\0';
	got = ret_search(*state, q, hits, 4);
	free(q);
	want = ret_search(*state, "wifi", small, 4);
	assert_true(got >= 1);
	assert_int_equal(hits[0].doc, 1);
	assert_true(hits[0].coverage > 0.99);
	assert_int_equal(got, want);
	for (size_t i = 0; i < got; i++) {
		assert_int_equal(hits[i].doc, small[i].doc);
		assert_true(i == 0 || hits[i - 1].score >= hits[i].score);
	}
}

/* empty_index: an index of no documents answers nothing */
static void
test_empty_index(void **state)
{
	ret_index     *ix = ret_build(NULL, 0);
	struct ret_hit hits[1];

	(void)state;
	assert_non_null(ix);
	assert_int_equal(ret_search(ix, "wifi", hits, 1), 0);
	ret_free(ix);
}

/* json_limits: depth, trailing data, NULs and wrong types are refused */
static void
test_json_limits(void **state)
{
	const char *why = NULL;
	char        deep[64];
	cJSON      *o;

	(void)state;
	memset(deep, '[', 40);
	memset(deep + 40, ']', 20);
	deep[60] = '\0';
	assert_null(json_parse(deep, strlen(deep), &why));
	assert_string_equal(why, "JSON nested too deeply");
	assert_null(json_parse("{} x", 4, &why));
	assert_string_equal(why, "trailing data after JSON");
	assert_null(json_parse("{\"a\":\0}", 7, &why));
	assert_null(json_parse("", 0, &why));
	assert_null(json_parse("{", 1, &why));
	assert_string_equal(why, "malformed JSON");
	/* Brackets inside strings do not count as depth. */
	o = json_parse("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[\"}  \n", 34, &why);
	assert_non_null(o);
	assert_non_null(json_str(o, "a"));
	assert_int_equal(json_int(o, "a", 7), 7);
	assert_null(json_str(o, "missing"));
	cJSON_Delete(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ranks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stems, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sorted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_huge, setup, teardown),
	    cmocka_unit_test(test_empty_index),
	    cmocka_unit_test(test_json_limits),
	};

	return cmocka_run_group_tests_name("retrieval", tests, NULL, NULL);
}
