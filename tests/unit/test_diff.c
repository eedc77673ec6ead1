/*
 * test_diff.c - unit tests for common/diff.c
 *
 * The expected outputs were produced by GNU diffutils 3.8 on the same
 * texts (`diff -U<n> --label a/sop --label b/sop a b`), so a change here
 * means we no longer print what `diff -u` prints.  A randomised part
 * applies each diff back to its first text and checks that it gives the
 * second, and that the number of changed lines is the smallest possible
 * (against an LCS computed the slow way).  Run by `make test`.
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

#include "common/diff.h"

static const char base[] = "# Wifi at Riverside\n"
                           "\n"
                           "The guest network is ClubGuest.\n"
                           "The password is on the card at the bar.\n"
                           "Staff use ClubStaff.\n"
                           "\n"
                           "## Resetting the router\n"
                           "\n"
                           "Unplug the router for ten seconds.\n"
                           "Wait two minutes for the lights.\n"
                           "If it stays red, call the ISP.\n";

/* append */
static const char exp_append[] = "--- a/sop\n"
                                 "+++ b/sop\n"
                                 "@@ -9,3 +9,7 @@\n"
                                 " Unplug the router for ten seconds.\n"
                                 " Wait two minutes for the lights.\n"
                                 " If it stays red, call the ISP.\n"
                                 "+\n"
                                 "+## Printer\n"
                                 "+\n"
                                 "+The printer is in the office.\n";

/* insert */
static const char exp_insert[] = "--- a/sop\n"
                                 "+++ b/sop\n"
                                 "@@ -2,6 +2,7 @@\n"
                                 " \n"
                                 " The guest network is ClubGuest.\n"
                                 " The password is on the card at the bar.\n"
                                 "+The card moved to the front desk in May.\n"
                                 " Staff use ClubStaff.\n"
                                 " \n"
                                 " ## Resetting the router\n";

/* delete */
static const char exp_delete[] = "--- a/sop\n"
                                 "+++ b/sop\n"
                                 "@@ -2,7 +2,6 @@\n"
                                 " \n"
                                 " The guest network is ClubGuest.\n"
                                 " The password is on the card at the bar.\n"
                                 "-Staff use ClubStaff.\n"
                                 " \n"
                                 " ## Resetting the router\n"
                                 " \n";

/* change */
static const char exp_change[] = "--- a/sop\n"
                                 "+++ b/sop\n"
                                 "@@ -6,6 +6,6 @@\n"
                                 " \n"
                                 " ## Resetting the router\n"
                                 " \n"
                                 "-Unplug the router for ten seconds.\n"
                                 "+Unplug the router for thirty seconds.\n"
                                 " Wait two minutes for the lights.\n"
                                 " If it stays red, call the ISP.\n";

/* nonl_added */
static const char exp_nonl_added[] = "--- a/sop\n"
                                     "+++ b/sop\n"
                                     "@@ -8,4 +8,4 @@\n"
                                     " \n"
                                     " Unplug the router for ten seconds.\n"
                                     " Wait two minutes for the lights.\n"
                                     "-If it stays red, call the ISP.\n"
                                     "\\ No newline at end of file\n"
                                     "+If it stays red, call the ISP.\n";

/* nonl_both */
static const char exp_nonl_both[] = "--- a/sop\n"
                                    "+++ b/sop\n"
                                    "@@ -7,5 +7,5 @@\n"
                                    " ## Resetting the router\n"
                                    " \n"
                                    " Unplug the router for ten seconds.\n"
                                    "-Wait two minutes for the lights.\n"
                                    "+Wait five minutes for the lights.\n"
                                    " If it stays red, call the ISP.\n"
                                    "\\ No newline at end of file\n";

/* empty_a */
static const char exp_empty_a[] = "--- a/sop\n"
                                  "+++ b/sop\n"
                                  "@@ -0,0 +1,2 @@\n"
                                  "+one\n"
                                  "+two\n";

/* empty_b */
static const char exp_empty_b[] = "--- a/sop\n"
                                  "+++ b/sop\n"
                                  "@@ -1 +0,0 @@\n"
                                  "-one\n";

/* far */
static const char exp_far[] = "--- a/sop\n"
                              "+++ b/sop\n"
                              "@@ -1,5 +1,5 @@\n"
                              " Step 1: do thing 1.\n"
                              "-Step 2: do thing 2.\n"
                              "+Step 2: do thing two.\n"
                              " Step 3: do thing 3.\n"
                              " Step 4: do thing 4.\n"
                              " Step 5: do thing 5.\n"
                              "@@ -15,6 +15,6 @@\n"
                              " Step 15: do thing 15.\n"
                              " Step 16: do thing 16.\n"
                              " Step 17: do thing 17.\n"
                              "-Step 18: do thing 18.\n"
                              "+Step 18: do thing eighteen.\n"
                              " Step 19: do thing 19.\n"
                              " Step 20: do thing 20.\n";

/* close */
static const char exp_close[] = "--- a/sop\n"
                                "+++ b/sop\n"
                                "@@ -2,14 +2,14 @@\n"
                                " Step 2: do thing 2.\n"
                                " Step 3: do thing 3.\n"
                                " Step 4: do thing 4.\n"
                                "-Step 5: do thing 5.\n"
                                "+Step 5: do thing five.\n"
                                " Step 6: do thing 6.\n"
                                " Step 7: do thing 7.\n"
                                " Step 8: do thing 8.\n"
                                " Step 9: do thing 9.\n"
                                " Step 10: do thing 10.\n"
                                " Step 11: do thing 11.\n"
                                "-Step 12: do thing 12.\n"
                                "+Step 12: do thing twelve.\n"
                                " Step 13: do thing 13.\n"
                                " Step 14: do thing 14.\n"
                                " Step 15: do thing 15.\n";

/* apart7 */
static const char exp_apart7[] = "--- a/sop\n"
                                 "+++ b/sop\n"
                                 "@@ -2,7 +2,7 @@\n"
                                 " Step 2: do thing 2.\n"
                                 " Step 3: do thing 3.\n"
                                 " Step 4: do thing 4.\n"
                                 "-Step 5: do thing 5.\n"
                                 "+Step 5: do thing five.\n"
                                 " Step 6: do thing 6.\n"
                                 " Step 7: do thing 7.\n"
                                 " Step 8: do thing 8.\n"
                                 "@@ -10,7 +10,7 @@\n"
                                 " Step 10: do thing 10.\n"
                                 " Step 11: do thing 11.\n"
                                 " Step 12: do thing 12.\n"
                                 "-Step 13: do thing 13.\n"
                                 "+Step 13: do thing thirteen.\n"
                                 " Step 14: do thing 14.\n"
                                 " Step 15: do thing 15.\n"
                                 " Step 16: do thing 16.\n";

/* crlf */
static const char exp_crlf[] = "--- a/sop\n"
                               "+++ b/sop\n"
                               "@@ -2,7 +2,7 @@\n"
                               " \r\n"
                               " The guest network is ClubGuest.\r\n"
                               " The password is on the card at the bar.\r\n"
                               "-Staff use ClubStaff.\r\n"
                               "+Staff use ClubStaff.\n"
                               " \r\n"
                               " ## Resetting the router\r\n"
                               " \r\n";

/* ctx0_ins */
static const char exp_ctx0_ins[] = "--- a/sop\n"
                                   "+++ b/sop\n"
                                   "@@ -3,0 +4 @@\n"
                                   "+New step.\n";

/* ctx0_del */
static const char exp_ctx0_del[] = "--- a/sop\n"
                                   "+++ b/sop\n"
                                   "@@ -3 +2,0 @@\n"
                                   "-Step 3: do thing 3.\n";

/* ctx1 */
static const char exp_ctx1[] = "--- a/sop\n"
                               "+++ b/sop\n"
                               "@@ -1,2 +1 @@\n"
                               "-Step 1: do thing 1.\n"
                               " Step 2: do thing 2.\n"
                               "@@ -20 +19,2 @@\n"
                               " Step 20: do thing 20.\n"
                               "+Step 21: do thing 21.\n";

/* slide */
static const char exp_slide[] = "--- a/sop\n"
                                "+++ b/sop\n"
                                "@@ -2,6 +2,10 @@\n"
                                " \n"
                                " Unlock the door.\n"
                                " \n"
                                "+# Lunch\n"
                                "+\n"
                                "+Lock the door.\n"
                                "+\n"
                                " # Closing\n"
                                " \n"
                                " Lock the door.\n";

/* steps - twenty numbered lines */
static const char *
steps(void)
{
	static char buf[1024];
	size_t      n = 0;

	if (buf[0] == '\0')
		for (int i = 1; i <= 20; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "Step %d: do thing %d.\n",
			                      i, i);
	return buf;
}

/* subst - s with its first old replaced by new, malloc'd */
static char *
subst(const char *s, const char *old, const char *new)
{
	const char *p = strstr(s, old);
	size_t      lo = strlen(old), ln = strlen(new), ls = strlen(s);
	char       *r;

	assert_non_null(p);
	r = malloc(ls - lo + ln + 1);
	assert_non_null(r);
	memcpy(r, s, (size_t)(p - s));
	memcpy(r + (p - s), new, ln);
	strcpy(r + (p - s) + ln, p + lo);
	return r;
}

/* crlf - s with every "\n" made "\r\n", malloc'd */
static char *
crlf(const char *s)
{
	char  *r = malloc(2 * strlen(s) + 1);
	size_t n = 0;

	assert_non_null(r);
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			r[n++] = '\r';
		r[n++] = *s;
	}
	r[n] = '\0';
	return r;
}

/* check - diff_unified(a, b) with ctx lines of context is exactly exp */
static void
check(const char *a, const char *b, int ctx, const char *exp)
{
	char *d = diff_unified(a, b, "sop", ctx);

	assert_non_null(d);
	assert_string_equal(d, exp);
	free(d);
}

/* check_free - check, then free the two texts */
static void
check_free(char *a, char *b, int ctx, const char *exp)
{
	check(a, b, ctx, exp);
	free(a);
	free(b);
}

/* append: a new section at the end */
static void
test_append(void **state)
{
	(void)state;
	check_free(strdup(base),
	           subst(base, "call the ISP.\n",
	                 "call the ISP.\n\n## Printer\n\nThe printer is in the office.\n"),
	           3, exp_append);
}

/* insert: a line in the middle */
static void
test_insert(void **state)
{
	(void)state;
	check_free(
	    strdup(base),
	    subst(base, "at the bar.\n", "at the bar.\nThe card moved to the front desk in May.\n"),
	    3, exp_insert);
}

/* delete: a line goes */
static void
test_delete(void **state)
{
	(void)state;
	check_free(strdup(base), subst(base, "Staff use ClubStaff.\n", ""), 3, exp_delete);
}

/* change: a line is reworded */
static void
test_change(void **state)
{
	(void)state;
	check_free(strdup(base), subst(base, "ten seconds", "thirty seconds"), 3, exp_change);
}

/* no_newline: the marker after a last line without '\n', removed or kept as context */
static void
test_no_newline(void **state)
{
	char *a = strdup(base);

	(void)state;
	a[strlen(a) - 1] = '\0';
	check(a, base, 3, exp_nonl_added);
	check_free(a, subst(a, "two minutes", "five minutes"), 3, exp_nonl_both);
}

/* empty: from nothing and to nothing */
static void
test_empty(void **state)
{
	(void)state;
	check("", "one\ntwo\n", 3, exp_empty_a);
	check("one\n", "", 3, exp_empty_b);
}

/* identical: no difference, no output at all */
static void
test_identical(void **state)
{
	char *d;

	(void)state;
	check(base, base, 3, "");
	check("", "", 3, "");
	d = diff_unified("x", "x", NULL, 0);
	assert_non_null(d);
	assert_string_equal(d, "");
	free(d);
}

/* two_hunks: changes more than 2 * context lines apart get a hunk each */
static void
test_two_hunks(void **state)
{
	char *b;

	(void)state;
	b = subst(steps(), "thing 2.", "thing two.");
	check_free(strdup(steps()), subst(b, "thing 18.", "thing eighteen."), 3, exp_far);
	free(b);
	/* 7 unchanged lines between them: still two */
	b = subst(steps(), "thing 5.", "thing five.");
	check_free(strdup(steps()), subst(b, "thing 13.", "thing thirteen."), 3, exp_apart7);
	free(b);
}

/* one_hunk: 6 unchanged lines between two changes, with context 3: one hunk */
static void
test_one_hunk(void **state)
{
	char *b = subst(steps(), "thing 5.", "thing five.");

	(void)state;
	check_free(strdup(steps()), subst(b, "thing 12.", "thing twelve."), 3, exp_close);
	free(b);
}

/* crlf: '\r' is an ordinary character, so "x\r\n" and "x\n" differ */
static void
test_crlf(void **state)
{
	char *a = crlf(base);

	(void)state;
	check_free(a, subst(a, "Staff use ClubStaff.\r\n", "Staff use ClubStaff.\n"), 3, exp_crlf);
}

/* ranges: "l" for one line, "l,0" (the line before) for none, with little context */
static void
test_ranges(void **state)
{
	char *b;

	(void)state;
	check_free(strdup(steps()), subst(steps(), "Step 4:", "New step.\nStep 4:"), 0,
	           exp_ctx0_ins);
	check_free(strdup(steps()), subst(steps(), "Step 3: do thing 3.\n", ""), 0, exp_ctx0_del);
	b = subst(steps(), "Step 1: do thing 1.\n", "");
	check_free(
	    strdup(steps()),
	    subst(b, "Step 20: do thing 20.\n", "Step 20: do thing 20.\nStep 21: do thing 21.\n"),
	    1, exp_ctx1);
	free(b);
}

/* slide: an added section with blank lines lands where GNU diff puts it */
static void
test_slide(void **state)
{
	(void)state;
	check("# Opening\n\nUnlock the door.\n\n# Closing\n\nLock the door.\n",
	      "# Opening\n\nUnlock the door.\n\n# Lunch\n\nLock the door.\n\n"
	      "# Closing\n\nLock the door.\n",
	      3, exp_slide);
}

/* ---- applying a diff, for the randomised and the large tests ---- */

/* next_line - the line at *p (without '\n') and whether the diff marks it as having none */
static const char *
next_line(const char **p, size_t *len, int *has_nl)
{
	const char *s = *p, *nl = strchr(s, '\n');

	assert_non_null(nl);
	*len = (size_t)(nl - s);
	*p = nl + 1;
	*has_nl = strncmp(*p, "\\ No newline at end of file\n", 28) != 0;
	if (!*has_nl)
		*p += 28;
	return s;
}

/*
 * apply - the text the unified diff d makes of a, malloc'd, checking the
 * hunk headers on the way; *changed counts the '-' and '+' lines
 */
static char *
apply(const char *a, const char *d, size_t *changed)
{
	char       *out = malloc(strlen(a) + strlen(d) + 1);
	const char *ap = a, *p = d;
	size_t      n = 0;
	long        aline = 0, bline = 0;

	assert_non_null(out);
	*changed = 0;
	if (*d != '\0') {
		assert_true(strncmp(p, "--- a/x\n+++ b/x\n", 16) == 0);
		p += 16;
	}
	while (*p != '\0') {
		long  s1, c1 = 1, s2, c2 = 1, seen1 = 0, seen2 = 0;
		char *e;

		assert_true(strncmp(p, "@@ -", 4) == 0);
		s1 = strtol(p + 4, &e, 10);
		if (*e == ',')
			c1 = strtol(e + 1, &e, 10);
		assert_true(strncmp(e, " +", 2) == 0);
		s2 = strtol(e + 2, &e, 10);
		if (*e == ',')
			c2 = strtol(e + 1, &e, 10);
		assert_true(strncmp(e, " @@\n", 4) == 0);
		p = e + 4;
		/* copy the unchanged lines before the hunk */
		while (aline < (c1 == 0 ? s1 : s1 - 1)) {
			const char *nl = strchr(ap, '\n');
			size_t      k = nl != NULL ? (size_t)(nl - ap + 1) : strlen(ap);

			assert_true(k > 0);
			memcpy(out + n, ap, k);
			n += k;
			ap += k;
			aline++;
			bline++;
		}
		assert_int_equal(bline, c2 == 0 ? s2 : s2 - 1);
		while (*p == ' ' || *p == '-' || *p == '+') {
			char        mark = *p++;
			size_t      len;
			int         has_nl;
			const char *s = next_line(&p, &len, &has_nl);

			if (mark != '+') {
				/* the line must be the next one of a, newline and all */
				assert_memory_equal(ap, s, len);
				assert_int_equal(ap[len], has_nl ? '\n' : '\0');
				ap += len + (has_nl ? 1 : 0);
				aline++;
				seen1++;
			}
			if (mark != '-') {
				memcpy(out + n, s, len);
				n += len;
				if (has_nl)
					out[n++] = '\n';
				bline++;
				seen2++;
			}
			if (mark != ' ')
				(*changed)++;
		}
		assert_int_equal(seen1, c1);
		assert_int_equal(seen2, c2);
	}
	strcpy(out + n, ap);
	return out;
}

/* count_lines - lines of s, with their starts and lengths (newline included) */
static int
count_lines(const char *s, const char **line, size_t *len, int max)
{
	int n = 0;

	while (*s != '\0') {
		const char *nl = strchr(s, '\n');
		size_t      k = nl != NULL ? (size_t)(nl - s + 1) : strlen(s);

		assert_true(n < max);
		line[n] = s;
		len[n++] = k;
		s += k;
	}
	return n;
}

/* lcs - the length of a longest common subsequence of lines, the slow way */
static int
lcs(const char *a, const char *b)
{
	static int  t[65][65];
	const char *la[64], *lb[64];
	size_t      na[64], nb[64];
	int         n = count_lines(a, la, na, 64), m = count_lines(b, lb, nb, 64);

	for (int i = 0; i <= n; i++)
		for (int j = 0; j <= m; j++) {
			if (i == 0 || j == 0)
				t[i][j] = 0;
			else if (na[i - 1] == nb[j - 1] &&
			         memcmp(la[i - 1], lb[j - 1], na[i - 1]) == 0)
				t[i][j] = t[i - 1][j - 1] + 1;
			else
				t[i][j] = t[i - 1][j] > t[i][j - 1] ? t[i - 1][j] : t[i][j - 1];
		}
	return t[n][m];
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* rnd - a number below n, from a fixed-seed xorshift */
static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* random_text - up to max lines of one letter from the first k, some with '\r', maybe no last '\n'
 */
static void
random_text(char *s, int max, unsigned k)
{
	int lines = (int)rnd((unsigned)max + 1), n = 0;

	for (int i = 0; i < lines; i++) {
		s[n++] = (char)('a' + rnd(k));
		if (rnd(8) == 0)
			s[n++] = '\r';
		s[n++] = '\n';
	}
	if (n > 0 && rnd(4) == 0)
		n--;
	s[n] = '\0';
}

/* mutate - b from a: some lines dropped, replaced or added */
static void
mutate(const char *a, char *b, unsigned k)
{
	const char *line[64];
	size_t      len[64];
	int         n = count_lines(a, line, len, 64), m = 0, out = 0;

	for (int i = 0; i < n && out < 60; i++) {
		unsigned r = rnd(10);

		if (r == 0)
			continue; /* dropped */
		if (r <= 2) {     /* a new line before it, or instead of it */
			b[m++] = (char)('a' + rnd(k + 2));
			b[m++] = '\n';
			out++;
			if (r == 2)
				continue;
		}
		memcpy(b + m, line[i], len[i]);
		m += (int)len[i];
		out++;
	}
	b[m] = '\0';
}

/* random: every diff applies back exactly and changes as few lines as possible */
static void
test_random(void **state)
{
	static char a[256], b[256];

	(void)state;
	for (int t = 0; t < 5000; t++) {
		unsigned k = 1 + rnd(10);
		int      ctx = (int)rnd(5);
		size_t   changed;
		char    *d, *r;
		int      l;

		random_text(a, 40, k);
		if (rnd(5) == 0)
			random_text(b, 40, k);
		else
			mutate(a, b, k);
		d = diff_unified(a, b, "x", ctx);
		assert_non_null(d);
		r = apply(a, d, &changed);
		assert_string_equal(r, b);
		{
			const char *la[64], *lb[64];
			size_t      na[64], nb[64];

			l = lcs(a, b);
			assert_int_equal(changed, (size_t)(count_lines(a, la, na, 64) +
			                                   count_lines(b, lb, nb, 64) - 2 * l));
		}
		free(r);
		free(d);
	}
}

/* big_text - n numbered lines, malloc'd; reversed when rev */
static char *
big_text(int n, bool rev)
{
	char  *s = malloc((size_t)n * 40 + 1);
	size_t len = 0;

	assert_non_null(s);
	s[0] = '\0';
	for (int i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "line %d of the procedure\n", rev ? n - 1 - i : i);
	return s;
}

/* large: two changes in 60,000 lines make two hunks; a reversed text still applies */
static void
test_large(void **state)
{
	char  *a = big_text(60000, false), *b, *c, *d, *r;
	size_t changed;
	int    hunks = 0;

	(void)state;
	b = subst(a, "line 100 of", "line one hundred of");
	c = subst(b, "line 59000 of", "line 59,000 of");
	d = diff_unified(a, c, "x", 3);
	assert_non_null(d);
	for (const char *p = d; (p = strstr(p, "\n@@ ")) != NULL; p++)
		hunks++;
	assert_int_equal(hunks, 2);
	assert_non_null(strstr(d, "@@ -98,7 +98,7 @@\n"));
	r = apply(a, d, &changed);
	assert_string_equal(r, c);
	assert_int_equal(changed, 4);
	free(r);
	free(d);
	free(c);
	free(b);
	/* everything moved: the search gives up within its budget, the diff is still right */
	b = big_text(60000, true);
	d = diff_unified(a, b, "x", 3);
	assert_non_null(d);
	r = apply(a, d, &changed);
	assert_string_equal(r, b);
	free(r);
	free(d);
	free(b);
	free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append),     cmocka_unit_test(test_insert),
	    cmocka_unit_test(test_delete),     cmocka_unit_test(test_change),
	    cmocka_unit_test(test_no_newline), cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_identical),  cmocka_unit_test(test_two_hunks),
	    cmocka_unit_test(test_one_hunk),   cmocka_unit_test(test_crlf),
	    cmocka_unit_test(test_ranges),     cmocka_unit_test(test_slide),
	    cmocka_unit_test(test_random),     cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests_name("diff", tests, NULL, NULL);
}
