/*
 * test_diff.c - unified diffs as GNU diff -u prints them
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/diff.h"

/* check - diff a b and compare with what diff -u printed (headers without dates) */
static void
check(const char *a, const char *b, const char *want)
{
	char *d = diff_unified(a, b, "f", 3);

	assert_non_null(d);
	assert_string_equal(d, want);
	free(d);
}

static void
test_equal(void **state)
{
	(void)state;
	check("a\nb\n", "a\nb\n", "");
	check("", "", "");
}

static void
test_append(void **state)
{
	(void)state;
	check("a\nb\nc\nd\n", "a\nb\nc\nd\ne\n",
	      "--- a/f\n+++ b/f\n@@ -2,3 +2,4 @@\n b\n c\n d\n+e\n");
}

static void
test_change_middle(void **state)
{
	(void)state;
	check("1\n2\n3\n4\n5\n6\n7\n", "1\n2\n3\nX\n5\n6\n7\n",
	      "--- a/f\n+++ b/f\n@@ -1,7 +1,7 @@\n 1\n 2\n 3\n-4\n+X\n 5\n 6\n 7\n");
}

static void
test_empty_sides(void **state)
{
	(void)state;
	check("", "a\n", "--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+a\n");
	check("a\n", "", "--- a/f\n+++ b/f\n@@ -1 +0,0 @@\n-a\n");
}

static void
test_no_newline(void **state)
{
	(void)state;
	check("a\nb", "a\nb\nc\n",
	      "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n");
}

static void
test_two_hunks(void **state)
{
	(void)state;
	check("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "X\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\nY\n",
	      "--- a/f\n+++ b/f\n@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n"
	      "@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+Y\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_equal),         cmocka_unit_test(test_append),
	    cmocka_unit_test(test_change_middle), cmocka_unit_test(test_empty_sides),
	    cmocka_unit_test(test_no_newline),    cmocka_unit_test(test_two_hunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
