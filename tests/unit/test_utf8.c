/*
 * test_utf8.c - unit tests for common/util.c's UTF-8 functions: the
 * classic decoder test vectors (Markus Kuhn's UTF-8-test.txt: boundaries,
 * lone continuation bytes, truncated sequences, impossible bytes,
 * overlong forms, surrogates, code points past U+10FFFF), an exhaustive
 * cross-check against a reference decoder over every 1..3-byte sequence
 * and a sample of 4-byte ones, and cutting text at character boundaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/util.h"

struct vec {
	const char *name;
	const char *bytes;
	size_t      len;
	bool        valid;
	size_t      chars; /* when valid */
};

#define V(n, b, ok, ch)                                                                            \
	{                                                                                          \
		n, b, sizeof(b) - 1, ok, ch                                                        \
	}

static const struct vec vectors[] = {
    /* 1: correct text */
    V("greek kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", true, 5),
    V("empty", "", true, 0),
    V("accented", "Caf\xc3\xa9 \xc3\xa0 l'\xc3\xa9tage", true, 14),
    V("emoji", "\xf0\x9f\x94\xa5 fire", true, 6),
    /* 2.1: first possible sequence of each length */
    V("U+0000 as a raw byte is one char", "\x00", true, 1),
    V("U+0080", "\xc2\x80", true, 1),
    V("U+0800", "\xe0\xa0\x80", true, 1),
    V("U+10000", "\xf0\x90\x80\x80", true, 1),
    /* 2.2: last possible sequence of each length */
    V("U+007F", "\x7f", true, 1),
    V("U+07FF", "\xdf\xbf", true, 1),
    V("U+FFFF", "\xef\xbf\xbf", true, 1),
    V("U+10FFFF", "\xf4\x8f\xbf\xbf", true, 1),
    /* 2.3: other boundaries */
    V("U+D7FF", "\xed\x9f\xbf", true, 1),
    V("U+E000", "\xee\x80\x80", true, 1),
    V("U+FFFD", "\xef\xbf\xbd", true, 1),
    V("U+110000", "\xf4\x90\x80\x80", false, 0),
    /* 3.1: unexpected continuation bytes */
    V("lone 0x80", "\x80", false, 0),
    V("lone 0xbf", "\xbf", false, 0),
    V("two continuations", "\x80\xbf", false, 0),
    V("continuation after ASCII", "a\x80", false, 0),
    /* 3.2: lonely start characters */
    V("lonely C0 then space", "\xc0 ", false, 0),
    V("lonely E0 then space", "\xe0 ", false, 0),
    V("lonely F0 then space", "\xf0 ", false, 0),
    V("lonely F8 then space", "\xf8 ", false, 0),
    V("lonely FC then space", "\xfc ", false, 0),
    /* 3.3: sequences with the last continuation byte missing */
    V("2-byte cut", "\xc3", false, 0),
    V("3-byte cut", "\xe2\x82", false, 0),
    V("4-byte cut", "\xf0\x9f\x94", false, 0),
    V("3-byte cut mid-text", "ab\xe2\x82 cd", false, 0),
    V("5-byte form", "\xf8\x88\x80\x80\x80", false, 0),
    V("6-byte form", "\xfc\x84\x80\x80\x80\x80", false, 0),
    /* 3.5: impossible bytes */
    V("FE", "\xfe", false, 0),
    V("FF", "\xff", false, 0),
    V("FE FE FF FF", "\xfe\xfe\xff\xff", false, 0),
    /* 4.1: overlong ASCII '/' */
    V("overlong / in 2", "\xc0\xaf", false, 0),
    V("overlong / in 3", "\xe0\x80\xaf", false, 0),
    V("overlong / in 4", "\xf0\x80\x80\xaf", false, 0),
    V("overlong / in 5", "\xf8\x80\x80\x80\xaf", false, 0),
    /* 4.2: maximum overlong sequences */
    V("overlong U+007F", "\xc1\xbf", false, 0),
    V("overlong U+07FF", "\xe0\x9f\xbf", false, 0),
    V("overlong U+FFFF", "\xf0\x8f\xbf\xbf", false, 0),
    /* 4.3: overlong NUL */
    V("overlong NUL in 2", "\xc0\x80", false, 0),
    V("overlong NUL in 3", "\xe0\x80\x80", false, 0),
    V("overlong NUL in 4", "\xf0\x80\x80\x80", false, 0),
    /* 5.1: single UTF-16 surrogates */
    V("U+D800", "\xed\xa0\x80", false, 0),
    V("U+DB7F", "\xed\xad\xbf", false, 0),
    V("U+DC00", "\xed\xb0\x80", false, 0),
    V("U+DFFF", "\xed\xbf\xbf", false, 0),
    /* 5.2: paired surrogates (CESU-8) */
    V("U+D800 U+DC00", "\xed\xa0\x80\xed\xb0\x80", false, 0),
    V("U+DBFF U+DFFF", "\xed\xaf\xbf\xed\xbf\xbf", false, 0),
    /* 5.3: noncharacters are valid scalar values */
    V("U+FFFE", "\xef\xbf\xbe", true, 1),
    V("U+FDD0", "\xef\xb7\x90", true, 1),
    /* beyond U+10FFFF */
    V("F4 90 (U+110000)", "\xf4\x90\x80\x80", false, 0),
    V("F5 lead", "\xf5\x80\x80\x80", false, 0),
    V("F7 BF BF BF (U+1FFFFF)", "\xf7\xbf\xbf\xbf", false, 0),
    /* a bad continuation in the middle of a sequence */
    V("E2 28 A1", "\xe2\x28\xa1", false, 0),
    V("F0 28 8C BC", "\xf0\x28\x8c\xbc", false, 0),
    V("F0 90 28 BC", "\xf0\x90\x28\xbc", false, 0),
};

/* test_vectors - every vector, through both the validator and the counter */
static void
test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vec *v = &vectors[i];
		bool              ok;
		size_t            n = util_utf8_chars(v->bytes, v->len, &ok);

		if (util_utf8_valid(v->bytes, v->len) != v->valid || ok != v->valid)
			fail_msg("vector \"%s\": expected %s", v->name,
			         v->valid ? "valid" : "invalid");
		if (v->valid && n != v->chars)
			fail_msg("vector \"%s\": %zu chars, expected %zu", v->name, n, v->chars);
	}
}

/* ref_decode - a reference decoder written from the definition: decode
 * with shifts and masks, then reject by value.  0 = invalid, else length. */
static size_t
ref_decode(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t   k;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		k = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		k = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		k = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t j = 1; j < k; j++) {
		if ((p[j] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[j] & 0x3f);
	}
	if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000))
		return 0; /* overlong */
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return k;
}

/* test_exhaustive - every 1-, 2- and 3-byte string, and 4-byte strings
 * with every lead byte from F0 and a spread of second and last bytes,
 * agree with the reference decoder. */
static void
test_exhaustive(void **state)
{
	unsigned char b[4];
	long          checked = 0;

	(void)state;
	for (unsigned len = 1; len <= 3; len++) {
		unsigned long total = 1UL << (8 * len);

		for (unsigned long x = 0; x < total; x++) {
			size_t i = 0, k;
			bool   want;

			for (unsigned j = 0; j < len; j++)
				b[j] = (unsigned char)(x >> (8 * j));
			/* valid when the reference decodes it as a run of sequences */
			while (i < len && (k = ref_decode(b + i, len - i)) != 0)
				i += k;
			want = i == len;

			if (util_utf8_valid((const char *)b, len) != want)
				fail_msg("mismatch at %u bytes %02x %02x %02x", len, b[0],
				         len > 1 ? b[1] : 0, len > 2 ? b[2] : 0);
			checked++;
		}
	}
	for (unsigned lead = 0xf0; lead <= 0xff; lead++)
		for (unsigned c1 = 0x70; c1 <= 0xcf; c1++)
			for (unsigned c2 = 0x7f; c2 <= 0xc0; c2 += 0x41)
				for (unsigned c3 = 0x7f; c3 <= 0xc0; c3 += 0x01) {
					b[0] = (unsigned char)lead, b[1] = (unsigned char)c1;
					b[2] = (unsigned char)c2, b[3] = (unsigned char)c3;
					assert_int_equal(util_utf8_valid((const char *)b, 4),
					                 ref_decode(b, 4) == 4);
					checked++;
				}
	assert_true(checked > 16000000);
}

/* test_prefix - cuts land on character boundaries, within both limits */
static void
test_prefix(void **state)
{
	/* "é" is 2 bytes, "€" 3, "🔥" 4 */
	const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\xa5z";
	size_t      len = strlen(s);

	(void)state;
	assert_int_equal(util_utf8_prefix(s, len, 0, 100), 0);
	assert_int_equal(util_utf8_prefix(s, len, 1, 100), 1);
	assert_int_equal(util_utf8_prefix(s, len, 2, 100), 3);
	assert_int_equal(util_utf8_prefix(s, len, 3, 100), 6);
	assert_int_equal(util_utf8_prefix(s, len, 4, 100), 10);
	assert_int_equal(util_utf8_prefix(s, len, 5, 100), 11);
	assert_int_equal(util_utf8_prefix(s, len, 99, 100), 11);
	/* the byte limit: never half a character */
	assert_int_equal(util_utf8_prefix(s, len, 99, 2), 1);
	assert_int_equal(util_utf8_prefix(s, len, 99, 5), 3);
	assert_int_equal(util_utf8_prefix(s, len, 99, 9), 6);
	assert_int_equal(util_utf8_prefix(s, len, 99, 10), 10);
	/* invalid input: the cut stops before the first bad byte */
	assert_int_equal(util_utf8_prefix("ab\xc0\xafz", 5, 99, 99), 2);
	assert_int_equal(util_utf8_prefix("ab\xe2\x82", 4, 99, 99), 2);
}

/* test_copy - the 300-character ticket summary case, and tiny buffers */
static void
test_copy(void **state)
{
	char   big[2000], out[1300], tiny[4];
	size_t n, pos = 0;
	bool   ok;

	(void)state;
	/* 400 two-byte characters: a byte cut at 300 would split one. */
	for (int i = 0; i < 400; i++) {
		big[pos++] = '\xc3';
		big[pos++] = '\xa9';
	}
	big[pos] = '\0';
	n = util_utf8_copy(out, sizeof(out), big, 300);
	assert_int_equal(n, 600);
	assert_int_equal(util_utf8_chars(out, n, &ok), 300);
	assert_true(ok);
	/* the buffer is the limit: 3 bytes hold one 2-byte character */
	n = util_utf8_copy(tiny, sizeof(tiny), big, 300);
	assert_int_equal(n, 2);
	assert_string_equal(tiny, "\xc3\xa9");
	n = util_utf8_copy(tiny, sizeof(tiny), "\xf0\x9f\x94\xa5", 10);
	assert_int_equal(n, 0);
	assert_string_equal(tiny, "");
	n = util_utf8_copy(tiny, sizeof(tiny), NULL, 10);
	assert_int_equal(n, 0);
	assert_int_equal(util_utf8_copy(tiny, 0, "abc", 10), 0);
	n = util_utf8_copy(tiny, sizeof(tiny), "abcdef", 10);
	assert_string_equal(tiny, "abc");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_exhaustive),
	    cmocka_unit_test(test_prefix),
	    cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
