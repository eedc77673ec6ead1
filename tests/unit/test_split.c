/*
 * test_split.c - knowledge intake's text splitting and normalising
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intelligence/split.h"

/* test_one_liner - a single sentence is one piece with no heading */
static void
test_one_liner(void **state)
{
	const char         *t = "The Riverside wifi card moved to the front desk.";
	struct split_piece *p;
	bool                trunc;
	int                 n = split_text(t, strlen(t), 40, 1500, 10, &p, &trunc);

	(void)state;
	assert_int_equal(n, 1);
	assert_string_equal(p[0].heading, "");
	assert_string_equal(p[0].text, t);
	assert_false(trunc);
	split_free(p, n);
}

/* test_headings - pieces carry the nearest heading; CRLF is fine */
static void
test_headings(void **state)
{
	const char *t =
	    "# Handbook\r\n\r\n## Wifi\r\n\r\nThe wifi card for Riverside now sits at the "
	    "front desk, not in the bays.\r\n\r\n## Lockers\r\n\r\nLockers by the entrance "
	    "take a four-digit code and reset at closing time.\r\n- bring a padlock for "
	    "overnight storage\r\n";
	struct split_piece *p;
	bool                trunc;
	int                 n = split_text(t, strlen(t), 40, 1500, 10, &p, &trunc);

	(void)state;
	assert_int_equal(n, 2);
	assert_string_equal(p[0].heading, "Wifi");
	assert_non_null(strstr(p[0].text, "front desk"));
	assert_string_equal(p[1].heading, "Lockers");
	assert_non_null(strstr(p[1].text, "padlock")); /* the list stays with its lead-in */
	split_free(p, n);
}

/* test_long_paragraph - cut at sentence ends, under the limit */
static void
test_long_paragraph(void **state)
{
	char                t[4096] = "";
	struct split_piece *p;
	bool                trunc;
	int                 n;

	(void)state;
	for (int i = 0; i < 40; i++)
		strcat(t, "Members may book bays up to fourteen days ahead. ");
	n = split_text(t, strlen(t), 10, 300, 100, &p, &trunc);
	assert_true(n > 5);
	for (int i = 0; i < n; i++) {
		assert_true(strlen(p[i].text) <= 300);
		assert_int_equal(p[i].text[strlen(p[i].text) - 1], '.');
	}
	split_free(p, n);
}

/* test_merge_small_and_truncate - fragments join; max_pieces is reported */
static void
test_merge_small_and_truncate(void **state)
{
	const char *t = "A long enough first paragraph about parking behind the building.\n\nok\n\n"
	                "Another long paragraph about the lost and found box at the desk.\n\n"
	                "A third long paragraph about gift cards and where to buy them.\n";
	struct split_piece *p;
	bool                trunc;
	int                 n = split_text(t, strlen(t), 20, 1500, 2, &p, &trunc);

	(void)state;
	assert_int_equal(n, 2);
	assert_non_null(strstr(p[0].text, "\nok")); /* merged into the previous piece */
	assert_true(trunc);
	split_free(p, n);
}

/* test_invalid - bad UTF-8 and empty input */
static void
test_invalid(void **state)
{
	struct split_piece *p;
	bool                trunc;

	(void)state;
	assert_int_equal(split_text("caf\xc3(", 5, 1, 100, 10, &p, &trunc), -1);
	assert_int_equal(split_text(" \n\n \n", 5, 1, 100, 10, &p, &trunc), 0);
	split_free(p, 0);
}

/* test_normalise - the same note written differently is the same */
static void
test_normalise(void **state)
{
	char *a = split_normalise("  The *Wifi*  card\n"), *b = split_normalise("the wifi card");
	char *c = split_normalise("- the **wifi** card");

	(void)state;
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	free(a);
	free(b);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_liner),      cmocka_unit_test(test_headings),
	    cmocka_unit_test(test_long_paragraph), cmocka_unit_test(test_merge_small_and_truncate),
	    cmocka_unit_test(test_invalid),        cmocka_unit_test(test_normalise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
