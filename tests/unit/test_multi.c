/*
 * test_multi.c - unit tests for rt_split (router/rt_multi.c)
 *
 * A message is cut into parts at sentence ends and at "and" / "also" /
 * "plus" between clauses of three words or more; "2.5 hours", "my bay and
 * projector" and a lone question stay whole; too many or too long parts
 * give -1 (the message is answered as one).  Run by `make test`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "router/rt.h"

static char parts[RT_MULTI_MAX_PARTS][RT_PART_MAX];

static void
want(const char *msg, int n, const char *a, const char *b, const char *c)
{
	const char *w[3] = {a, b, c};

	assert_int_equal(rt_split(msg, parts, RT_MULTI_MAX_PARTS), n);
	for (int i = 0; i < n && i < 3; i++)
		assert_string_equal(parts[i], w[i]);
}

static void
test_sentences(void **state)
{
	(void)state;
	want("What are your hours? Where do I park?", 2, "What are your hours", "Where do I park",
	     NULL);
	want("wifi password pls. also is there food", 2, "wifi password pls", "also is there food",
	     NULL);
	want("hi!! the projector is blank; can you reset it", 3, "hi", "the projector is blank",
	     "can you reset it");
	want("how long is a round? about 2.5 hours?", 2, "how long is a round", "about 2.5 hours",
	     NULL);
	want("line one\nline two", 2, "line one", "line two", NULL);
}

static void
test_clauses(void **state)
{
	(void)state;
	want("what are your hours and where do i park", 2, "what are your hours", "where do i park",
	     NULL);
	want("can I book a bay for Saturday, and also do you rent clubs", 2,
	     "can I book a bay for Saturday", "do you rent clubs", NULL);
	want("quels sont vos heures et ou est le stationnement", 2, "quels sont vos heures",
	     "ou est le stationnement", NULL);
	/* Too short on one side: one clause. */
	want("my bay and projector are dead", 1, "my bay and projector are dead", NULL, NULL);
	want("fish and chips", 1, "fish and chips", NULL, NULL);
	/* One thing described in two clauses: the second asks nothing. */
	want("the game crashed and now there's a windows login screen", 1,
	     "the game crashed and now there's a windows login screen", NULL, NULL);
	want("I want to book a bay and my friend wants to come too", 1,
	     "I want to book a bay and my friend wants to come too", NULL, NULL);
	want("the sim is frozen and can you reset it please", 2, "the sim is frozen",
	     "can you reset it please", NULL);
	/* "and" inside a word is no joiner. */
	want("the android app band is handy", 1, "the android app band is handy", NULL, NULL);
}

static void
test_edges(void **state)
{
	char long_msg[RT_PART_MAX + 20];

	(void)state;
	want("", 0, NULL, NULL, NULL);
	want("   ?!.  ", 0, NULL, NULL, NULL);
	assert_int_equal(rt_split(NULL, parts, RT_MULTI_MAX_PARTS), 0);
	assert_int_equal(rt_split("a b c? d e f? g h i? j k l?", parts, RT_MULTI_MAX_PARTS), -1);
	memset(long_msg, 'x', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	assert_int_equal(rt_split(long_msg, parts, RT_MULTI_MAX_PARTS), -1);
	assert_int_equal(rt_split("one? two?", parts, 1), -1);
}

/* test_unquote - a text quoted to be reworded does not choose the topic */
static void
test_unquote(void **state)
{
	char out[RT_PART_MAX];

	(void)state;
	assert_int_equal(rt_unquote("Can you rewrite this so it sounds less robotic: 'Your request "
	                            "has been processed. Refund pending review.'",
	                            out, sizeof(out)),
	                 1);
	assert_null(strstr(out, "Refund"));
	assert_non_null(strstr(out, "rewrite this"));
	assert_int_equal(rt_unquote("rephrase \"your booking is cancelled\" so it's friendlier",
	                            out, sizeof(out)),
	                 1);
	assert_null(strstr(out, "booking"));
	assert_non_null(strstr(out, "friendlier"));
	assert_int_equal(rt_unquote("Peux-tu reformuler \xc2\xab Votre r\xc3\xa9servation est "
	                            "annul\xc3\xa9"
	                            "e \xc2\xbb",
	                            out, sizeof(out)),
	                 1);
	assert_null(strstr(out, "servation"));
	/* an apostrophe inside a word opens no quote */
	assert_int_equal(rt_unquote("rewrite this, it's too stiff and it doesn't sound like us",
	                            out, sizeof(out)),
	                 0);
	/* no request to reword: a quoted error message stays, it is the question */
	assert_int_equal(
	    rt_unquote("the screen says 'no signal detected here', please fix", out, sizeof(out)),
	    0);
	/* a quote of fewer than three words is kept */
	assert_int_equal(rt_unquote("rewrite 'thanks!' so it sounds warmer", out, sizeof(out)), 0);
	/* no room, no message, an empty one */
	assert_int_equal(rt_unquote(NULL, out, sizeof(out)), 0);
	assert_int_equal(rt_unquote("", out, sizeof(out)), 0);
	assert_int_equal(rt_unquote("rewrite 'a b c d'", out, 0), 0);
	assert_int_equal(rt_unquote("rewrite 'a b c d'", out, 4), 1);
	assert_true(strlen(out) < 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sentences),
	    cmocka_unit_test(test_clauses),
	    cmocka_unit_test(test_edges),
	    cmocka_unit_test(test_unquote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
