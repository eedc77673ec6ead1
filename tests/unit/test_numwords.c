/*
 * test_numwords.c - unit tests for common/numwords.c
 *
 * Numbers written in words, English and French: what they add up to, where
 * the run of words ends, whether a unit follows, and the words that are
 * numbers only beside another number or a unit.  Run by `make test`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "common/numwords.h"

/* span - numwords_span on s; the value, or -1 when nothing was read; *len, *unit */
static long long
span(const char *s, size_t *len, bool *unit)
{
	long long v;
	bool      u;
	size_t    n = numwords_span(s, &v, &u);

	if (len != NULL)
		*len = n;
	if (unit != NULL)
		*unit = u;
	return n == 0 ? -1 : v;
}

static void
test_english(void **st)
{
	size_t n;

	(void)st;
	assert_int_equal(span("forty dollars", &n, NULL), 40);
	assert_int_equal(n, strlen("forty"));
	assert_int_equal(span("Twenty-five minutes", &n, NULL), 25);
	assert_int_equal(n, strlen("Twenty-five"));
	assert_int_equal(span("twenty five", NULL, NULL), 25);
	assert_int_equal(span("a", NULL, NULL), -1);
	assert_int_equal(span("hundred and ten bucks", &n, NULL), 110);
	assert_int_equal(n, strlen("hundred and ten"));
	assert_int_equal(span("five hundred", NULL, NULL), 500);
	assert_int_equal(span("two thousand five hundred and fifty", NULL, NULL), 2550);
	assert_int_equal(span("one million", NULL, NULL), 1000000);
	assert_int_equal(span("eleven", NULL, NULL), 11);
	assert_int_equal(span("zero", NULL, NULL), 0);
}

static void
test_french(void **st)
{
	(void)st;
	assert_int_equal(span("quarante dollars", NULL, NULL), 40);
	assert_int_equal(span("vingt-cinq", NULL, NULL), 25);
	assert_int_equal(span("vingt et un", NULL, NULL), 21);
	assert_int_equal(span("soixante-dix", NULL, NULL), 70);
	assert_int_equal(span("soixante-dix-sept", NULL, NULL), 77);
	assert_int_equal(span("quatre-vingt", NULL, NULL), 80);
	assert_int_equal(span("quatre-vingts", NULL, NULL), 80);
	assert_int_equal(span("quatre-vingt-dix", NULL, NULL), 90);
	assert_int_equal(span("quatre-vingt-dix-neuf", NULL, NULL), 99);
	assert_int_equal(span("dix-huit heures", NULL, NULL), 18);
	assert_int_equal(span("deux cent cinquante", NULL, NULL), 250);
	assert_int_equal(span("cent cinquante", NULL, NULL), 150);
	assert_int_equal(span("mille", NULL, NULL), 1000);
	assert_int_equal(span("six", NULL, NULL), 6); /* both languages */
	assert_int_equal(span("vingt-six", NULL, NULL), 26);
}

static void
test_runs_end_where_the_number_does(void **st)
{
	size_t n;

	(void)st;
	/* Two units in a row are two numbers, not their sum. */
	assert_int_equal(span("one two three", &n, NULL), 1);
	assert_int_equal(n, 3);
	/* "and" joins only number words. */
	assert_int_equal(span("two and a half hours", &n, NULL), 2);
	assert_int_equal(n, 3);
	assert_int_equal(span("one and two", &n, NULL), 1);
	assert_int_equal(n, 3);
	/* One language per number: "one cent" is one, then a word. */
	assert_int_equal(span("one cent", &n, NULL), 1);
	assert_int_equal(n, 3);
	/* English teens do not follow tens ("twenty ten" is two numbers). */
	assert_int_equal(span("twenty ten", &n, NULL), 20);
	assert_int_equal(n, 6);
	assert_int_equal(span("hundred hundred", &n, NULL), 100);
	assert_int_equal(n, 7);
	/* Words that only start like numbers are not. */
	assert_int_equal(span("fortyish", NULL, NULL), -1);
	assert_int_equal(span("tenant", NULL, NULL), -1);
	assert_int_equal(span("often", NULL, NULL), -1);
	assert_int_equal(span("", NULL, NULL), -1);
	assert_int_equal(span("5 dollars", NULL, NULL), -1);
}

static void
test_units(void **st)
{
	bool unit;

	(void)st;
	assert_int_equal(span("two hours", NULL, &unit), 2);
	assert_true(unit);
	assert_int_equal(span("seven pm", NULL, &unit), 7);
	assert_true(unit);
	assert_int_equal(span("nine a.m. sharp", NULL, &unit), 9);
	assert_true(unit);
	assert_int_equal(span("ten o'clock", NULL, &unit), 10);
	assert_true(unit);
	assert_int_equal(span("five-minute walk", NULL, &unit), 5);
	assert_true(unit);
	assert_int_equal(span("ten per cent", NULL, &unit), 10);
	assert_true(unit);
	assert_int_equal(span("dix pour cent", NULL, &unit), 10);
	assert_true(unit);
	assert_int_equal(span("fifteen%", NULL, &unit), 15);
	assert_true(unit);
	assert_int_equal(span("trois personnes", NULL, &unit), 3);
	assert_true(unit);
	assert_int_equal(span("two friends", NULL, &unit), 2);
	assert_false(unit);
	assert_int_equal(span("three of us", NULL, &unit), 3);
	assert_false(unit);
	assert_int_equal(span("two hoursx", NULL, &unit), 2);
	assert_false(unit);
}

static void
test_weak_words(void **st)
{
	bool unit;

	(void)st;
	/* Also common words: numbers only beside a number or before a unit. */
	assert_int_equal(span("seize the day", NULL, NULL), -1);
	assert_int_equal(span("un vélo neuf", NULL, NULL), -1);
	assert_int_equal(span("neuf", NULL, NULL), -1);
	assert_int_equal(span("Sept 15", NULL, NULL), -1);
	assert_int_equal(span("cent", NULL, NULL), -1);
	assert_int_equal(span("sept jours", NULL, &unit), 7);
	assert_true(unit);
	assert_int_equal(span("seize minutes", NULL, NULL), 16);
	assert_int_equal(span("dix-sept", NULL, NULL), 17);
	assert_int_equal(span("cent dollars", NULL, NULL), 100);
}

static void
test_bounded(void **st)
{
	char big[4096] = "";

	(void)st;
	for (int i = 0; i < 200; i++)
		strcat(big, "million ");
	/* A million million ... : the words stop at the first repeat. */
	assert_int_equal(span(big, NULL, NULL), 1000000);
	big[0] = '\0';
	for (int i = 0; i < 100; i++)
		strcat(big, "nine hundred ninety nine thousand ");
	assert_true(span(big, NULL, NULL) <= 1000000000000LL);
}

static void
test_digits(void **st)
{
	char dig[8];

	(void)st;
	assert_int_equal(numwords_digits("four eight two one.", dig, sizeof(dig)),
	                 strlen("four eight two one"));
	assert_string_equal(dig, "4821");
	assert_int_equal(numwords_digits("One oh five, please", dig, sizeof(dig)),
	                 strlen("One oh five"));
	assert_string_equal(dig, "105");
	assert_int_equal(numwords_digits("quatre-huit-deux-un", dig, sizeof(dig)), 19);
	assert_string_equal(dig, "4821");
	assert_int_equal(numwords_digits("nine, one, one", dig, sizeof(dig)), 14);
	assert_string_equal(dig, "911");
	/* Fewer than three is not a code; "oh" does not start one. */
	assert_int_equal(numwords_digits("two three", dig, sizeof(dig)), 0);
	assert_int_equal(numwords_digits("oh one two", dig, sizeof(dig)), 0);
	assert_int_equal(numwords_digits("twenty one two", dig, sizeof(dig)), 0);
	/* Longer than the buffer: read whole, kept bounded. */
	assert_int_equal(
	    numwords_digits("one two three four five six seven eight nine", dig, sizeof(dig)),
	    strlen("one two three four five six seven eight nine"));
	assert_int_equal(strlen(dig), sizeof(dig) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_english),
	    cmocka_unit_test(test_french),
	    cmocka_unit_test(test_runs_end_where_the_number_does),
	    cmocka_unit_test(test_units),
	    cmocka_unit_test(test_weak_words),
	    cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_digits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
