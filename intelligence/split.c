/*
 * split.c - staff text into pieces (see split.h)
 *
 * Lines are read one by one: a heading starts a new section, a blank line
 * ends a paragraph, list items stay with the paragraph they follow.  A
 * paragraph over max_chars is cut at the last sentence end (or space)
 * before the limit; a piece under min_chars joins the previous piece of the
 * same heading.  Called by ingest.c.
 */
#include "intelligence/split.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct pieces {
	struct split_piece *p;
	int                 n, cap;
	size_t              max;
	bool                full;
};

/* dup_trim - a trimmed copy of s[0..n) */
static char *
dup_trim(const char *s, size_t n)
{
	char *out;

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if ((out = malloc(n + 1)) != NULL) {
		memcpy(out, s, n);
		out[n] = '\0';
	}
	return out;
}

/* utf8_prefix - bytes of s holding at most max characters */
static size_t
utf8_prefix(const char *s, size_t len, size_t max)
{
	size_t i = 0, chars = 0;

	while (i < len && chars < max) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	return i;
}

/* push - add a piece (takes text); merges a short one into the previous */
static int
push(struct pieces *ps, const char *heading, char *text, size_t min_chars)
{
	bool ok;

	if (text == NULL)
		return -1;
	if (*text == '\0') {
		free(text);
		return 0;
	}
	if (util_utf8_chars(text, strlen(text), &ok) < min_chars && ps->n > 0 &&
	    strcmp(ps->p[ps->n - 1].heading, heading) == 0) {
		struct split_piece *last = &ps->p[ps->n - 1];
		size_t              n = strlen(last->text) + strlen(text) + 2;
		char               *both = malloc(n);

		if (both == NULL) {
			free(text);
			return -1;
		}
		strcpy(both, last->text);
		strcat(both, "\n");
		strcat(both, text);
		free(last->text);
		free(text);
		last->text = both;
		return 0;
	}
	if ((size_t)ps->n == ps->max) {
		ps->full = true;
		free(text);
		return 0;
	}
	if (ps->n == ps->cap) {
		int                 cap = ps->cap ? ps->cap * 2 : 16;
		struct split_piece *np = realloc(ps->p, (size_t)cap * sizeof(*np));

		if (np == NULL) {
			free(text);
			return -1;
		}
		ps->p = np;
		ps->cap = cap;
	}
	if ((ps->p[ps->n].heading = strdup(heading)) == NULL) {
		free(text);
		return -1;
	}
	ps->p[ps->n++].text = text;
	return 0;
}

/* flush - a paragraph into pieces no longer than max_chars */
static int
flush(struct pieces *ps, const char *heading, const char *s, size_t len, size_t min_chars,
      size_t max_chars)
{
	while (len > 0) {
		size_t cut = utf8_prefix(s, len, max_chars);

		if (cut < len) {
			size_t best = 0;

			for (size_t i = 1; i + 1 < cut; i++)
				if ((s[i] == '.' || s[i] == '!' || s[i] == '?') &&
				    isspace((unsigned char)s[i + 1]))
					best = i + 1;
			if (best == 0)
				for (size_t i = cut; i > 0; i--)
					if (s[i - 1] == ' ') {
						best = i;
						break;
					}
			if (best > 0)
				cut = best;
		}
		if (push(ps, heading, dup_trim(s, cut), min_chars) < 0)
			return -1;
		s += cut;
		len -= cut;
	}
	return 0;
}

/* split_text - see split.h */
int
split_text(const char *text, size_t len, size_t min_chars, size_t max_chars, size_t max_pieces,
           struct split_piece **out, bool *truncated)
{
	struct pieces ps = {.max = max_pieces};
	char          heading[256] = "";
	const char   *para = NULL, *end = text + len;
	bool          valid, fence = false;

	*out = NULL;
	*truncated = false;
	util_utf8_chars(text, len, &valid);
	if (!valid || memchr(text, '\0', len) != NULL)
		return -1;
	for (const char *line = text; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl != NULL ? nl : end, *p = line;
		bool        blank;

		while (p < le && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		blank = p == le;
		if (le - p >= 3 && strncmp(p, "```", 3) == 0)
			fence = !fence;
		if (!fence && *p == '#') {
			size_t h = 0;

			while (p + h < le && p[h] == '#')
				h++;
			if (h <= 6 && (p + h == le || p[h] == ' ')) {
				if (para != NULL && flush(&ps, heading, para, (size_t)(line - para),
				                          min_chars, max_chars) < 0)
					goto fail;
				para = NULL;
				{
					char *t = dup_trim(p + h, (size_t)(le - p - h));

					if (t == NULL)
						goto fail;
					snprintf(heading, sizeof(heading), "%s", t);
					free(t);
				}
				line = nl != NULL ? nl + 1 : end;
				continue;
			}
		}
		if (!fence && blank) {
			/* A list right after its lead-in stays with it. */
			if (para != NULL && flush(&ps, heading, para, (size_t)(line - para),
			                          min_chars, max_chars) < 0)
				goto fail;
			para = NULL;
		} else if (para == NULL) {
			para = line;
		}
		line = nl != NULL ? nl + 1 : end;
	}
	if (para != NULL &&
	    flush(&ps, heading, para, (size_t)(end - para), min_chars, max_chars) < 0)
		goto fail;
	*out = ps.p;
	*truncated = ps.full;
	return ps.n;
fail:
	split_free(ps.p, ps.n);
	return -1;
}

/* split_free - NULL is fine */
void
split_free(struct split_piece *p, int n)
{
	for (int i = 0; p != NULL && i < n; i++) {
		free(p[i].heading);
		free(p[i].text);
	}
	free(p);
}

/* split_normalise - lower case, one space between words, no markdown markers */
char *
split_normalise(const char *text)
{
	size_t n = strlen(text);
	char  *out = malloc(n + 1), *o = out;
	bool   space = false;

	if (out == NULL)
		return NULL;
	for (const char *p = text; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '*' || c == '_' || c == '`' || c == '#' || c == '>')
			continue;
		if (isspace(c)) {
			space = o != out;
			continue;
		}
		if ((c == '-' || c == '+') && (o == out || space) && isspace((unsigned char)p[1]))
			continue; /* a bullet */
		if (space)
			*o++ = ' ';
		space = false;
		*o++ = (char)tolower(c);
	}
	*o = '\0';
	return out;
}
