/*
 * test_sms_split.c - unit tests for conversations/split.c
 *
 * A text that fits goes as it is; a longer one is cut at word boundaries
 * into parts that, numbered " (k/n)", each fit; a word longer than a part
 * is cut; a cut never falls inside a UTF-8 character; what the parts say
 * put together is the text.  Run by `make test`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "conversations/cv.h"

/* chars - code points of a C string (asserting it is valid UTF-8) */
static size_t
chars(const char *s)
{
	bool   valid;
	size_t n = util_utf8_chars(s, strlen(s), &valid);

	assert_true(valid);
	return n;
}

/* check_parts - every part fits and is numbered; joined (no suffixes) they
 * give back the words of text */
static void
check_parts(const char *text, size_t max, char **parts, int n)
{
	char  *joined = calloc(1, strlen(text) + 1), *want = calloc(1, strlen(text) + 1);
	size_t j = 0, w = 0;
	bool   space = false;

	for (int i = 0; i < n; i++) {
		char   suffix[32];
		size_t len = strlen(parts[i]);

		assert_true(chars(parts[i]) <= max);
		if (n > 1) {
			snprintf(suffix, sizeof(suffix), " (%d/%d)", i + 1, n);
			assert_true(len > strlen(suffix));
			assert_string_equal(parts[i] + len - strlen(suffix), suffix);
			len -= strlen(suffix);
		}
		assert_true(len > 0);
		assert_true(parts[i][0] != ' ' && parts[i][len - 1] != ' ');
		if (i > 0)
			joined[j++] = ' ';
		memcpy(joined + j, parts[i], len);
		j += len;
	}
	/* The text with runs of white space made one space. */
	for (const char *s = text; *s; s++) {
		if (*s == ' ' || *s == '\n') {
			space = w > 0;
			continue;
		}
		if (space)
			want[w++] = ' ';
		space = false;
		want[w++] = *s;
	}
	(void)w;
	assert_string_equal(joined, want);
	free(joined);
	free(want);
}

static void
test_fits(void **state)
{
	char **p;
	int    n = sms_split("Your bay is ready.", 320, 20, &p);

	(void)state;
	assert_int_equal(n, 1);
	assert_string_equal(p[0], "Your bay is ready.");
	sms_split_free(p, n);
}

static void
test_long_at_words(void **state)
{
	char   text[2100] = "";
	char **p;
	int    n;

	(void)state;
	while (strlen(text) < 1000)
		strcat(text, "The TrackMan in bay two restarts in about a minute. ");
	n = sms_split(text, 320, 20, &p);
	assert_true(n >= 4);
	check_parts(text, 320, p, n);
	/* No word is cut: each part ends at a whole word. */
	for (int i = 0; i < n; i++) {
		const char *end = strstr(p[i], " (");

		assert_non_null(end);
		assert_true(end[-1] == '.' || end[-1] == 'e' || end[-1] == 'n' || end[-1] == 'y' ||
		            end[-1] == 'o' || end[-1] == 's' || end[-1] == 'a' || end[-1] == 'k' ||
		            end[-1] == 'T' || end[-1] == 't' || end[-1] == 'i' || end[-1] == 'b' ||
		            end[-1] == 'u' || end[-1] == 'r' || end[-1] == 'M' || end[-1] == 'h' ||
		            end[-1] == 'w' || end[-1] == 'm');
	}
	sms_split_free(p, n);
	/* 321 characters: two parts, numbered. */
	memset(text, 'a', 320);
	strcpy(text + 320, " x");
	n = sms_split(text, 320, 20, &p);
	assert_int_equal(n, 2);
	/* One word longer than a part is cut inside it, as a last resort. */
	assert_int_equal(chars(p[0]), 320);
	assert_string_equal(p[1], "aaaaaa x (2/2)");
	sms_split_free(p, n);
}

static void
test_long_word_and_utf8(void **state)
{
	char   text[1400] = "";
	char **p;
	int    n;

	(void)state;
	/* 400 two-byte characters and no space at all. */
	for (int i = 0; i < 400; i++)
		strcat(text, "\xc3\xa9");
	n = sms_split(text, 100, 20, &p);
	assert_int_equal(n, 5);
	for (int i = 0; i < n; i++) {
		assert_true(chars(p[i]) <= 100);
		assert_true(util_utf8_valid(p[i], strlen(p[i])));
	}
	sms_split_free(p, n);
}

static void
test_limits(void **state)
{
	char   text[5000];
	char **p = NULL;

	(void)state;
	memset(text, 'w', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	/* Too many parts: refused, not cut off silently. */
	assert_int_equal(sms_split(text, 320, 3, &p), -1);
	assert_null(p);
	/* More than nine parts: numbers of two digits still fit. */
	{
		int n = sms_split(text, 320, 20, &p);

		assert_int_equal(n, 17);
		for (int i = 0; i < n; i++)
			assert_true(chars(p[i]) <= 320);
		assert_string_equal(p[16] + strlen(p[16]) - 8, " (17/17)");
		sms_split_free(p, n);
	}
	assert_int_equal(sms_split("x", 10, 20, &p), -1); /* max too small */
	sms_split_free(NULL, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fits),
	    cmocka_unit_test(test_long_at_words),
	    cmocka_unit_test(test_long_word_and_utf8),
	    cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
