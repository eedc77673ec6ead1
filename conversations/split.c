/*
 * split.c - a text longer than one SMS, cut into numbered parts
 *
 * A text of at most max characters goes out as it is.  A longer one is
 * cut into parts of at most max characters each, counting the " (k/n)"
 * that ends every part; a cut falls at the last space or newline that
 * fits, and only inside a word when one word is longer than a part.
 * Characters are UTF-8 code points, and a cut never falls inside one.
 * Used by the outbox (outbox.c); a pure function, unit tested alone.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "conversations/cv.h"

/* is_space - where a cut may fall */
static int
is_space(char c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

/* cut - bytes of s (len) that make the next part of at most chars characters */
static size_t
cut(const char *s, size_t len, size_t chars)
{
	size_t fit = util_utf8_prefix(s, len, chars, len), at;

	if (fit >= len)
		return len;
	/* The last space inside what fits, or at its very end. */
	for (at = fit; at > 0; at--)
		if (is_space(s[at]))
			return at;
	return fit > 0 ? fit : util_utf8_prefix(s, len, 1, len);
}

/* pieces - split into parts of at most chars characters; the count or -1 */
static int
pieces(const char *s, size_t len, size_t chars, const char **at, size_t *n, int max)
{
	int k = 0;

	while (len > 0) {
		size_t c, skip = 0;

		while (skip < len && is_space(s[skip]))
			skip++;
		s += skip;
		len -= skip;
		if (len == 0)
			break;
		if (k == max)
			return -1;
		c = cut(s, len, chars);
		n[k] = c;
		while (n[k] > 0 && is_space(s[n[k] - 1]))
			n[k]--;
		at[k++] = s;
		s += c;
		len -= c;
	}
	return k;
}

/*
 * sms_split - text cut into at most max_parts parts of at most max
 * characters; the parts (malloc'd, free each and the array) in *out and
 * their number, or -1 when it does not fit or memory ran out.
 */
int
sms_split(const char *text, size_t max, int max_parts, char ***out)
{
	const char *at[CV_MAX_PARTS];
	size_t      n[CV_MAX_PARTS], len = strlen(text);
	bool        valid;
	int         k = -1;
	char      **parts;

	*out = NULL;
	if (max_parts > CV_MAX_PARTS)
		max_parts = CV_MAX_PARTS;
	if (max < 16 || max_parts < 1)
		return -1;
	if (util_utf8_chars(text, len, &valid) <= max) {
		k = pieces(text, len, max, at, n, 1);
		if (k == 0) /* only spaces: sent as it is */
			at[0] = text, n[0] = len, k = 1;
	} else {
		/* Each part keeps room for its " (k/n)": 6 characters while
		 * there are fewer than 10 parts, 8 up to 99. */
		k = pieces(text, len, max - 6, at, n, max_parts);
		if (k < 0 || k > 9)
			k = pieces(text, len, max - 8, at, n, max_parts);
	}
	if (k <= 0 || (parts = calloc((size_t)k, sizeof(*parts))) == NULL)
		return -1;
	for (int i = 0; i < k; i++) {
		size_t cap = n[i] + 16;

		if ((parts[i] = malloc(cap)) == NULL) {
			sms_split_free(parts, i);
			return -1;
		}
		if (k == 1)
			snprintf(parts[i], cap, "%.*s", (int)n[i], at[i]);
		else
			snprintf(parts[i], cap, "%.*s (%d/%d)", (int)n[i], at[i], i + 1, k);
	}
	*out = parts;
	return k;
}

/* sms_split_free - the parts of sms_split; NULL-safe */
void
sms_split_free(char **parts, int n)
{
	if (parts == NULL)
		return;
	for (int i = 0; i < n; i++)
		free(parts[i]);
	free(parts);
}
