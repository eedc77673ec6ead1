/*
 * rt_split.c - a message cut into the questions it asks
 *
 * Parts end at sentence ends (? ! ; a newline, a full stop before a space)
 * and at a joiner ("and", "also", "plus", "et") between two clauses of
 * three words or more when the second starts as a question does ("and
 * where do I park"), so "my bay and projector are dead" and "the game
 * crashed and now there's a login screen" stay whole.
 * Pure text work, no allocation: rt_multi.c decides what the parts mean.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common/textnorm.h"
#include "router/rt.h"

/* Joiners between two clauses, each with its spaces. */
static const char *const joiners[] = {", and also ", " and also ", ", and ",  " and ",
                                      ", also ",     " also ",     ", plus ", " plus ",
                                      " & ",         " et aussi ", " et ",    NULL};

/* rt_words - how many words a span holds (rt.h) */
int
rt_words(const char *s, size_t n)
{
	int  w = 0;
	bool in = false;

	for (size_t i = 0; i < n; i++) {
		bool sp = isspace((unsigned char)s[i]) || s[i] == ',';

		if (!sp && !in)
			w++;
		in = !sp;
	}
	return w;
}

/* Words a second question starts with, English and French (accents as
 * typed and folded): "and where do I park", "et où est le stationnement";
 * "and now there's a login screen" goes on describing one thing. */
static const char *const askers[] = {
    "what",   "whats",  "what's",   "where",   "wheres",   "where's", "when",   "how",    "hows",
    "why",    "who",    "which",    "can",     "could",    "do",      "does",   "is",     "are",
    "will",   "would",  "should",   "may",     "please",   "pls",     "any",    "est-ce", "est",
    "ou",     "où",     "quand",    "comment", "pourquoi", "quel",    "quelle", "quels",  "quelles",
    "pouvez", "peux",   "peut",     "puis",    "avez",     "as-tu",   "y'a",    "c'est",  "combien",
    "i need", "i want", "i'd like", "we need", "we want",  NULL};

/* asks - does the span start with a word a question starts with? */
static bool
asks(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	for (const char *const *a = askers; *a != NULL; a++) {
		size_t l = strlen(*a);

		if (n >= l && strncasecmp(s, *a, l) == 0 &&
		    (n == l || isspace((unsigned char)s[l]) || strchr(",?!.'", s[l]) != NULL))
			return true;
	}
	return false;
}

/* trimmed - the span without spaces and punctuation at its ends */
static void
trimmed(const char **s, size_t *n)
{
	while (*n > 0 && (isspace((unsigned char)**s) || strchr(",.;:!?-", **s) != NULL)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 &&
	       (isspace((unsigned char)(*s)[*n - 1]) || strchr(",.;:!?-", (*s)[*n - 1]) != NULL))
		(*n)--;
}

/* add_part - copy one trimmed span into parts; false when full */
static bool
add_part(const char *s, size_t n, char parts[][RT_PART_MAX], int max, int *np)
{
	trimmed(&s, &n);
	if (n == 0)
		return true;
	if (*np >= max || n >= RT_PART_MAX)
		return false;
	memcpy(parts[*np], s, n);
	parts[*np][n] = '\0';
	(*np)++;
	return true;
}

/* clauses - cut one sentence at joiners between clauses long enough */
static bool
clauses(const char *s, size_t n, char parts[][RT_PART_MAX], int max, int *np)
{
	for (size_t i = 0; i < n; i++) {
		for (const char *const *j = joiners; *j != NULL; j++) {
			size_t jl = strlen(*j);

			if (i + jl > n || strncasecmp(s + i, *j, jl) != 0)
				continue;
			if (rt_words(s, i) >= RT_PART_MIN_WORDS &&
			    rt_words(s + i + jl, n - i - jl) >= RT_PART_MIN_WORDS &&
			    asks(s + i + jl, n - i - jl)) {
				return add_part(s, i, parts, max, np) &&
				       clauses(s + i + jl, n - i - jl, parts, max, np);
			}
		}
	}
	return add_part(s, n, parts, max, np);
}

/* rt_split - the message's parts (rt.h) */
int
rt_split(const char *msg, char parts[][RT_PART_MAX], int max)
{
	const char *s = msg, *p;
	int         np = 0;

	if (msg == NULL || max <= 0)
		return 0;
	for (p = msg;; p++) {
		/* A sentence ends at ? ! ; or a newline, and at a full stop
		 * followed by a space or the end ("2.5 hours" is one). */
		bool end = *p == '\0' || *p == '?' || *p == '!' || *p == ';' || *p == '\n' ||
		           (*p == '.' && (p[1] == '\0' || isspace((unsigned char)p[1])));

		if (!end)
			continue;
		if (p > s && !clauses(s, (size_t)(p - s), parts, max, &np))
			return -1;
		if (*p == '\0')
			break;
		s = p + 1;
	}
	return np;
}

/* Words that ask for a text to be reworded, read in normalised text
 * (accents folded: "réécris" is "reecris"), anywhere in a word. */
static const char rw_asks[] =
    "rewrite|re-write|reword|rephrase|proofread|polish this|polish it|sound warmer|"
    "sound friendlier|sound nicer|sound less|sound more|sounds less|sounds more|"
    "less robotic|more human|reformul|reecri|plus chaleureu|moins robot";

/* uq_close - the end of the quote that opens at s[i] (the closing mark's
 * index), or 0 when it does not open one */
static size_t
uq_close(const char *s, size_t i, size_t n)
{
	static const char *const pairs[][2] = {{"\"", "\""},
	                                       {"\xe2\x80\x9c", "\xe2\x80\x9d"},
	                                       {"\xc2\xab", "\xc2\xbb"},
	                                       {"\xe2\x80\x98", "\xe2\x80\x99"},
	                                       {"'", "'"}};

	for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
		size_t ol = strlen(pairs[k][0]), cl = strlen(pairs[k][1]);

		if (i + ol > n || memcmp(s + i, pairs[k][0], ol) != 0)
			continue;
		/* An apostrophe opens a quote only after a space or a colon
		 * ("it's" opens nothing); it closes one before a non-letter. */
		if (pairs[k][0][0] == '\'' && i > 0 && s[i - 1] != ' ' && s[i - 1] != ':')
			return 0;
		for (size_t j = i + ol; j + cl <= n; j++)
			if (memcmp(s + j, pairs[k][1], cl) == 0 &&
			    (pairs[k][1][0] != '\'' || j + 1 >= n ||
			     !isalpha((unsigned char)s[j + 1])))
				return j;
		return 0;
	}
	return 0;
}

/* rt_asks_reword - see rt.h */
bool
rt_asks_reword(const char *msg)
{
	char low[RT_PART_MAX];

	if (msg == NULL)
		return false;
	/* The request is said outside the quote: look at the first words. */
	tn_normalise(msg, low, sizeof(low));
	for (const char *s = rw_asks; *s;) {
		const char *e = strchr(s, '|');
		size_t      tl = e ? (size_t)(e - s) : strlen(s);
		char        term[40];

		if (tl < sizeof(term)) {
			memcpy(term, s, tl);
			term[tl] = '\0';
			if (strstr(low, term) != NULL)
				return true;
		}
		s = e ? e + 1 : s + tl;
	}
	return false;
}

/* rt_unquote - see rt.h */
int
rt_unquote(const char *msg, char *out, size_t cap)
{
	size_t n, o = 0, i = 0;
	bool   cut = false;

	if (msg == NULL || out == NULL || cap == 0 || !rt_asks_reword(msg))
		return 0;
	n = strlen(msg);
	while (i < n) {
		size_t j = uq_close(msg, i, n);

		if (j > i && rt_words(msg + i, j - i) >= 3) {
			size_t cl = (unsigned char)msg[j] == 0xe2   ? 3
			            : (unsigned char)msg[j] == 0xc2 ? 2
			                                            : 1;

			i = j + cl;
			cut = true;
			if (o + 1 < cap)
				out[o++] = ' ';
			continue;
		}
		if (o + 1 < cap)
			out[o++] = msg[i];
		i++;
	}
	out[o < cap ? o : cap - 1] = '\0';
	return cut ? 1 : 0;
}
