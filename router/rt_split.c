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
