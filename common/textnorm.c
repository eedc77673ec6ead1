/*
 * textnorm.c - text normalisation and word tokenisation
 *
 * Called by the intent classifier (clf.c) for every training example and
 * every message it scores, and by the semantic cache to build its keys.
 * tn_normalise() makes one pass over the input, decoding UTF-8 by hand (no
 * locale, no allocation); each character is either copied, folded to a short
 * ASCII string, or turned into a space, and runs of space are collapsed on
 * the way out.  The output is bounded by the caller's buffer and is always
 * valid UTF-8 when the input was, and NUL-terminated.
 */
#include "common/textnorm.h"

#include <stdint.h>
#include <string.h>

/* The writer: a bounded buffer with one pending space. */
struct tn_out {
	char  *buf;
	size_t cap; /* bytes available, NUL included */
	size_t len;
	int    space; /* a space is due before the next word byte */
	int    full;  /* a piece did not fit: stop */
};

/* Latin-1 letters U+00C0..U+00FF folded to ASCII ("" = none). */
static const char *const tn_latin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c",  /* C0 */
    "e", "e", "e", "e", "i", "i", "i",  "i",  /* C8 */
    "d", "n", "o", "o", "o", "o", "o",  "x",  /* D0 */
    "o", "u", "u", "u", "u", "y", "th", "ss", /* D8 */
    "a", "a", "a", "a", "a", "a", "ae", "c",  /* E0 */
    "e", "e", "e", "e", "i", "i", "i",  "i",  /* E8 */
    "d", "n", "o", "o", "o", "o", "o",  "/",  /* F0 */
    "o", "u", "u", "u", "u", "y", "th", "y",  /* F8 */
};

/* Other code points with an ASCII stand-in; " " = whitespace, "" = drop. */
static const struct tn_fold {
	uint32_t    cp;
	const char *to;
} tn_folds[] = {
    {0x00A0, " "},  {0x00A1, "!"},  {0x00AB, "\""},  {0x00AD, ""},   {0x00B4, "'"},  {0x00BB, "\""},
    {0x00BF, "?"},  {0x02BC, "'"},  {0x1680, " "},   {0x2000, " "},  {0x2001, " "},  {0x2002, " "},
    {0x2003, " "},  {0x2004, " "},  {0x2005, " "},   {0x2006, " "},  {0x2007, " "},  {0x2008, " "},
    {0x2009, " "},  {0x200A, " "},  {0x200B, ""},    {0x200C, ""},   {0x200D, ""},   {0x2010, "-"},
    {0x2011, "-"},  {0x2012, "-"},  {0x2013, "-"},   {0x2014, "-"},  {0x2015, "-"},  {0x2018, "'"},
    {0x2019, "'"},  {0x201A, "'"},  {0x201B, "'"},   {0x201C, "\""}, {0x201D, "\""}, {0x201E, "\""},
    {0x201F, "\""}, {0x2022, " "},  {0x2026, "..."}, {0x2028, " "},  {0x2029, " "},  {0x202F, " "},
    {0x2032, "'"},  {0x2033, "\""}, {0x205F, " "},   {0x2060, ""},   {0x2212, "-"},  {0x3000, " "},
    {0xFEFF, ""},
};

/* tn_put - append one piece, all or nothing; ws != 0 marks whitespace */
static void
tn_put(struct tn_out *o, const char *p, size_t n, int ws)
{
	size_t need, i;

	if (o->full)
		return;
	if (ws) {
		if (o->len > 0)
			o->space = 1;
		return;
	}
	if (n == 0)
		return;
	need = n + (o->space ? 1 : 0);
	if (o->len + need + 1 > o->cap) {
		o->full = 1;
		return;
	}
	if (o->space) {
		o->buf[o->len++] = ' ';
		o->space = 0;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		o->buf[o->len++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
}

/* tn_put_str - append an ASCII stand-in from the fold tables */
static void
tn_put_str(struct tn_out *o, const char *s)
{
	if (strcmp(s, " ") == 0)
		tn_put(o, NULL, 0, 1);
	else
		tn_put(o, s, strlen(s), 0);
}

/* tn_decode - length of the valid UTF-8 sequence at s (0 if invalid) and its code point */
static size_t
tn_decode(const unsigned char *s, uint32_t *cp)
{
	uint32_t c;
	size_t   n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		c = s[0] & 0x1F;
		n = 2;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		c = s[0] & 0x0F;
		n = 3;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		c = s[0] & 0x07;
		n = 4;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) /* also stops at the NUL */
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

/* tn_fold_lookup - ASCII stand-in for a non-ASCII code point, or NULL to keep it */
static const char *
tn_fold_lookup(uint32_t cp)
{
	size_t lo = 0, hi = sizeof(tn_folds) / sizeof(tn_folds[0]);

	if (cp >= 0xC0 && cp <= 0xFF)
		return tn_latin1[cp - 0xC0];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (tn_folds[mid].cp == cp)
			return tn_folds[mid].to;
		if (tn_folds[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* tn_normalise - fold, lowercase and squeeze a message into out */
size_t
tn_normalise(const char *in, char *out, size_t cap)
{
	const unsigned char *s = (const unsigned char *)(in ? in : "");
	struct tn_out        o = {out, cap, 0, 0, 0};

	if (out == NULL || cap == 0)
		return 0;
	while (*s && !o.full) {
		uint32_t    cp;
		size_t      n = tn_decode(s, &cp);
		const char *to;

		if (n == 0) { /* invalid byte: a separator */
			tn_put(&o, NULL, 0, 1);
			s++;
			continue;
		}
		if (n == 1) {
			if (cp <= 0x20 || cp == 0x7F)
				tn_put(&o, NULL, 0, 1);
			else if (cp == '`')
				tn_put(&o, "'", 1, 0);
			else
				tn_put(&o, (const char *)s, 1, 0);
		} else if (cp >= 0xFF01 && cp <= 0xFF5E) { /* fullwidth ASCII */
			char c = (char)(cp - 0xFEE0);

			tn_put(&o, &c, 1, 0);
		} else if ((to = tn_fold_lookup(cp)) != NULL)
			tn_put_str(&o, to);
		else if (cp >= 0x80 && cp < 0xA0) /* C1 controls */
			tn_put(&o, NULL, 0, 1);
		else
			tn_put(&o, (const char *)s, n, 0);
		s += n;
	}
	out[o.len] = '\0';
	return o.len;
}

/* tn_is_word - does byte c belong inside a word token */
static int
tn_is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       c == '\'' || c >= 0x80;
}

/* tn_tokens - call cb for every word token of norm */
void
tn_tokens(const char *norm, tn_token_cb cb, void *arg)
{
	const char *p = norm;

	if (norm == NULL || cb == NULL)
		return;
	while (*p) {
		const char *s, *e;

		while (*p && !tn_is_word((unsigned char)*p))
			p++;
		s = p;
		while (*p && tn_is_word((unsigned char)*p))
			p++;
		e = p;
		while (s < e && *s == '\'')
			s++;
		while (e > s && e[-1] == '\'')
			e--;
		if (e > s)
			cb(s, (size_t)(e - s), arg);
	}
}

/* tn_in_terms - see textnorm.h */
bool
tn_in_terms(const char *list, const char *word, size_t n)
{
	for (const char *s = list; s != NULL && *s;) {
		const char *e = strchr(s, '|');
		size_t      tl = e ? (size_t)(e - s) : strlen(s);

		if (tl == n && strncmp(s, word, n) == 0)
			return true;
		if (e == NULL)
			break;
		s = e + 1;
	}
	return false;
}
