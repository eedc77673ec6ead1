/*
 * test_split.c - unit tests for intelligence/split.c
 *
 * Knowledge intake's text splitting: headings, paragraphs, lists with
 * their lead-in, code fences, cutting long paragraphs at sentence ends,
 * merging fragments, the piece limit, CRLF and bad UTF-8; and the
 * normalised form that recognises the same text twice.  Run by `make test`.
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
#include "intelligence/split.h"

/* split - split_text on a C string; the count must be want */
static struct split_piece *
split(const char *t, size_t min, size_t max, size_t maxn, int want, bool *trunc)
{
	struct split_piece *p = NULL;
	bool                tr;
	int                 n = split_text(t, strlen(t), min, max, maxn, &p, &tr);

	if (n != want)
		for (int i = 0; i < n; i++)
			fprintf(stderr, "piece %d [%s]: %s\n", i, p[i].heading, p[i].text);
	assert_int_equal(n, want);
	if (trunc != NULL)
		*trunc = tr;
	return p;
}

/* chars - UTF-8 characters of s */
static size_t
chars(const char *s)
{
	bool valid;

	return util_utf8_chars(s, strlen(s), &valid);
}

/* one_liner: a single sentence is one piece with no heading */
static void
test_one_liner(void **state)
{
	const char         *t = "The Riverside wifi card moved to the front desk.";
	bool                trunc;
	struct split_piece *p = split(t, 40, 1500, 200, 1, &trunc);

	(void)state;
	assert_string_equal(p[0].heading, "");
	assert_string_equal(p[0].text, t);
	assert_false(trunc);
	split_free(p, 1);
	/* shorter than min_chars, but alone: still one piece; trailing newline trimmed */
	p = split("Bays open at nine.\n", 40, 1500, 200, 1, NULL);
	assert_string_equal(p[0].text, "Bays open at nine.");
	split_free(p, 1);
}

static const char handbook[] =
    "# Wifi\n"
    "\n"
    "The guest network is ClubGuest and its password is on the card at the bar.\n"
    "\n"
    "The Riverside wifi card moved to the front desk in May, next to the till.\n"
    "\n"
    "## Lockers ##\n"
    "Lockers by the entrance take a four-digit code and reset at closing time.\n"
    "\n"
    "### Opening *hours*\n"
    "\n"
    "Bays open at nine on weekdays and at eight on Saturdays and Sundays.\n";

/* headings: each piece carries the nearest heading above it, without the '#'s */
static void
test_headings(void **state)
{
	struct split_piece *p = split(handbook, 40, 1500, 200, 4, NULL);

	(void)state;
	assert_string_equal(p[0].heading, "Wifi");
	assert_string_equal(p[0].text, "The guest network is ClubGuest and its password is on "
	                               "the card at the bar.");
	assert_string_equal(p[1].heading, "Wifi");
	assert_string_equal(p[1].text, "The Riverside wifi card moved to the front desk in May, "
	                               "next to the till.");
	assert_string_equal(p[2].heading, "Lockers"); /* closing #'s dropped */
	assert_string_equal(p[2].text, "Lockers by the entrance take a four-digit code and reset "
	                               "at closing time.");
	assert_string_equal(p[3].heading, "Opening *hours*");
	assert_string_equal(p[3].text, "Bays open at nine on weekdays and at eight on Saturdays "
	                               "and Sundays.");
	split_free(p, 4);
}

/* not_headings: "#hashtag", seven '#'s and a heading inside a code fence are text */
static void
test_not_headings(void **state)
{
	struct split_piece *p;

	(void)state;
	p = split("# Real\n\n#staff notes go here\n\n####### seven is too many\n", 1, 1500, 200, 2,
	          NULL);
	assert_string_equal(p[0].heading, "Real");
	assert_string_equal(p[0].text, "#staff notes go here");
	assert_string_equal(p[1].heading, "Real");
	assert_string_equal(p[1].text, "####### seven is too many");
	split_free(p, 2);
}

/* long_paragraph: cut under max_chars at sentence ends, into even parts, nothing lost */
static void
test_long_paragraph(void **state)
{
	char                t[4096] = "", joined[4096] = "";
	struct split_piece *p;
	int                 n;

	(void)state;
	for (int i = 0; i < 40; i++)
		strcat(t, i % 3 ? "Members may book bays up to fourteen days ahead. "
		                : "Is the bar open late on Fridays? ");
	n = split_text(t, strlen(t), 40, 300, 100, &p, &(bool){false});
	/* 1,735 characters: 6 parts at least, even ones (no small tail) */
	assert_true(n >= 6 && n <= 7);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(p[i].text);

		assert_true(len <= 300);
		assert_true(len >= 200);
		assert_true(p[i].text[len - 1] == '.' || p[i].text[len - 1] == '?');
		strcat(joined, p[i].text);
		strcat(joined, " ");
	}
	assert_string_equal(joined, t);
	split_free(p, n);
}

/* cut_fallbacks: no sentence end: at a line end; no line end: at a space; none: anywhere */
static void
test_cut_fallbacks(void **state)
{
	struct split_piece *p;

	(void)state;
	p = split("one two three four\nfive six seven eight", 1, 25, 10, 2, NULL);
	assert_string_equal(p[0].text, "one two three four");
	assert_string_equal(p[1].text, "five six seven eight");
	split_free(p, 2);
	p = split("one two three four five six seven eight", 1, 25, 10, 2, NULL);
	assert_string_equal(p[0].text, "one two three four");
	assert_string_equal(p[1].text, "five six seven eight");
	split_free(p, 2);
	p = split("abcdefghijklmnopqrstuvwxyz", 1, 10, 10, 3, NULL);
	assert_string_equal(p[0].text, "abcdefghij");
	assert_string_equal(p[2].text, "uvwxyz");
	split_free(p, 3);
}

/* utf8_limit: max_chars counts characters, and a cut never splits one */
static void
test_utf8_limit(void **state)
{
	struct split_piece *p;
	char                t[256] = "";

	(void)state;
	for (int i = 0; i < 30; i++)
		strcat(t, "\xc3\xa9"); /* 30 x 'é', 60 bytes */
	p = split(t, 1, 30, 10, 1, NULL);
	assert_int_equal(strlen(p[0].text), 60);
	split_free(p, 1);
	p = split(t, 1, 20, 10, 2, NULL);
	assert_int_equal(chars(p[0].text), 20);
	assert_int_equal(chars(p[1].text), 10);
	assert_int_equal(strlen(p[0].text), 40);
	split_free(p, 2);
}

/* merge_small: fragments join the previous piece of their heading, else the next one */
static void
test_merge_small(void **state)
{
	const char         *t = "# Parking\n\nSee below.\n\n"
	                        "Parking is behind the building; the gate code is on the staff board.\n\n"
	                        "Thanks!\n\n   \n\n"
	                        "# Gift cards\n\nOk.\n";
	struct split_piece *p = split(t, 20, 1500, 200, 2, NULL);

	(void)state;
	assert_string_equal(p[0].heading, "Parking");
	assert_string_equal(p[0].text,
	                    "See below.\n\nParking is behind the building; the gate code "
	                    "is on the staff board.\n\nThanks!");
	/* alone under its heading: kept, not merged across headings */
	assert_string_equal(p[1].heading, "Gift cards");
	assert_string_equal(p[1].text, "Ok.");
	split_free(p, 2);
	/* a fragment that would overflow max_chars stays apart */
	p = split("Twenty characters ok\n\nTiny.\n", 10, 22, 10, 2, NULL);
	assert_string_equal(p[1].text, "Tiny.");
	split_free(p, 2);
	/* whitespace alone makes no piece */
	p = split(" \n\n \t\r\n\n", 1, 100, 10, 0, NULL);
	split_free(p, 0);
}

/* lists: items stay with their lead-in while short; a long list is cut between items */
static void
test_lists(void **state)
{
	const char         *t = "## Router\n\nTo reset the router:\n\n"
	                        "1. Unplug it for ten seconds.\n"
	                        "2. Wait two minutes for the lights.\n"
	                        "   If they stay red, call the ISP.\n\n"
	                        "3. Tell the manager.\n\n"
	                        "The router is in the office cupboard, top shelf.\n";
	struct split_piece *p = split(t, 20, 1500, 200, 2, NULL);

	(void)state;
	assert_string_equal(p[0].heading, "Router");
	assert_string_equal(p[0].text, "To reset the router:\n1. Unplug it for ten seconds.\n"
	                               "2. Wait two minutes for the lights.\n"
	                               "   If they stay red, call the ISP.\n3. Tell the manager.");
	assert_string_equal(p[1].text, "The router is in the office cupboard, top shelf.");
	split_free(p, 2);
	/* over max_chars: whole items, the lead-in with the first */
	p = split("Locker rules follow here:\n"
	          "- Codes have four digits and reset at closing.\n"
	          "- Bring a padlock for overnight storage.\n"
	          "- Lost keys go to the front desk for a month.\n",
	          10, 80, 10, 3, NULL);
	assert_string_equal(p[0].text, "Locker rules follow here:\n"
	                               "- Codes have four digits and reset at closing.");
	assert_string_equal(p[1].text, "- Bring a padlock for overnight storage.");
	assert_string_equal(p[2].text, "- Lost keys go to the front desk for a month.");
	split_free(p, 3);
}

/* code_fence: kept whole with its blank lines and '#' lines; a long one is cut between lines */
static void
test_code_fence(void **state)
{
	const char         *t = "# Printer\n\n"
	                        "Print a test page from the office computer like this:\n\n"
	                        "```sh\n"
	                        "# not a heading\n"
	                        "lpr -P office test.txt\n"
	                        "\n"
	                        "lpstat -p office\n"
	                        "```\n";
	struct split_piece *p = split(t, 10, 1500, 200, 2, NULL);

	(void)state;
	assert_string_equal(p[1].heading, "Printer");
	assert_string_equal(p[1].text, "```sh\n# not a heading\nlpr -P office test.txt\n\n"
	                               "lpstat -p office\n```");
	split_free(p, 2);
	p = split("```\nline one is here\nline two is here\nline three is here\n```\n", 1, 40, 10,
	          2, NULL);
	assert_string_equal(p[0].text, "```\nline one is here\nline two is here");
	assert_string_equal(p[1].text, "line three is here\n```");
	split_free(p, 2);
}

/* invalid: bad UTF-8 or a NUL byte is refused, with *out NULL */
static void
test_invalid(void **state)
{
	static const char *const bad[] = {"caf\xc3(", "\xff ok", "trunc\xe2\x82", "\xc0\xaf",
	                                  "\xf5\x80\x80\x80"};
	struct split_piece      *p = (struct split_piece *)&p;
	bool                     trunc;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(split_text(bad[i], strlen(bad[i]), 1, 100, 10, &p, &trunc), -1);
		assert_null(p);
	}
	assert_int_equal(split_text("a\0b", 3, 1, 100, 10, &p, &trunc), -1);
	assert_int_equal(split_text("", 0, 1, 100, 10, &p, &trunc), 0);
	split_free(p, 0);
}

/* truncate: at most max_pieces, and *truncated only when text was left over */
static void
test_truncate(void **state)
{
	const char         *t = "First paragraph about parking behind the building.\n\n"
	                        "Second paragraph about the lost and found box at the desk.\n\n"
	                        "Third paragraph about gift cards and where to buy them.\n";
	struct split_piece *p;
	bool                trunc;

	(void)state;
	p = split(t, 20, 1500, 2, 2, &trunc);
	assert_true(trunc);
	assert_non_null(strstr(p[1].text, "Second"));
	split_free(p, 2);
	p = split(t, 20, 1500, 3, 3, &trunc);
	assert_false(trunc);
	split_free(p, 3);
	p = split(t, 20, 1500, 0, 0, &trunc);
	assert_true(trunc);
	split_free(p, 0);
}

/* crlf: CRLF input gives the same pieces as LF, without '\r' */
static void
test_crlf(void **state)
{
	char                t[1024];
	size_t              n = 0;
	struct split_piece *a, *b;

	(void)state;
	for (const char *s = handbook; *s != '\0'; s++) {
		if (*s == '\n')
			t[n++] = '\r';
		t[n++] = *s;
	}
	t[n] = '\0';
	a = split(handbook, 40, 1500, 200, 4, NULL);
	b = split(t, 40, 1500, 200, 4, NULL);
	for (int i = 0; i < 4; i++) {
		assert_string_equal(a[i].heading, b[i].heading);
		assert_string_equal(a[i].text, b[i].text);
		assert_null(strchr(b[i].text, '\r'));
	}
	split_free(a, 4);
	split_free(b, 4);
}

/* normalise: the same note written differently is the same */
static void
test_normalise(void **state)
{
	static const char *const same[] = {"  The *Wifi*  card\n", "- the **wifi** card",
	                                   "## The Wifi card", "> the _wifi_ `card`",
	                                   "the\r\n\twifi ~~card~~"};
	char                    *want = split_normalise("the wifi card"), *s;

	(void)state;
	assert_string_equal(want, "the wifi card");
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		s = split_normalise(same[i]);
		assert_string_equal(s, want);
		free(s);
	}
	free(want);
	/* inside words and numbers, markers stay; non-ASCII is kept as it is */
	s = split_normalise("Use CLUB_GUEST, bay #3, -5 C, Ÿes");
	assert_string_equal(s, "use club_guest, bay #3, -5 c, Ÿes");
	free(s);
	s = split_normalise("");
	assert_string_equal(s, "");
	free(s);
	assert_null(split_normalise(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_liner),     cmocka_unit_test(test_headings),
	    cmocka_unit_test(test_not_headings),  cmocka_unit_test(test_long_paragraph),
	    cmocka_unit_test(test_cut_fallbacks), cmocka_unit_test(test_utf8_limit),
	    cmocka_unit_test(test_merge_small),   cmocka_unit_test(test_lists),
	    cmocka_unit_test(test_code_fence),    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_truncate),      cmocka_unit_test(test_crlf),
	    cmocka_unit_test(test_normalise),
	};

	return cmocka_run_group_tests_name("split", tests, NULL, NULL);
}
