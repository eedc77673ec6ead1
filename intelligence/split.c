/*
 * split.c - staff text into pieces for knowledge intake (see split.h)
 *
 * Called by ingest.c, once per submitted text, and (split_normalise) when
 * it checks whether a piece is already known.
 *
 * One pass over the lines sorts them into blocks: headings, paragraphs,
 * lists (items with their continuation lines, and the lead-in paragraph
 * above them), code fences.  A finished block is cut to max_chars and each
 * part goes to piece_add(), which keeps short parts from standing alone
 * and stops at max_pieces.  Every buffer is bounded by the input's length.
 */
#include "intelligence/split.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* a growable string; never longer than the text being split */
struct sbuf {
	char  *p;
	size_t len, cap;
};

/* a list item: where it is in the list's items buffer */
struct span {
	size_t off, len;
};

struct splitter {
	size_t              min, max, maxn;
	struct split_piece *p; /* the pieces so far */
	int                 n, cap;
	bool                full; /* max_pieces reached with text left over */
	char               *heading;
	char               *pend, *pend_head; /* a short piece waiting for the next one */
	struct sbuf         para;             /* the open paragraph */
	bool                para_closed;      /* a blank line came after it */
	bool                in_list, list_blank;
	struct sbuf         lead, items; /* the list's lead-in and its items */
	struct span        *item;
	size_t              nitem, itemcap;
	bool                in_code;
	char                fence_ch;
	size_t              fence_n;
	struct sbuf         code;
};

/* is_ws - ASCII whitespace */
static bool
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* sb_add - append n bytes, keeping the buffer NUL-terminated; 0 or -1 */
static int
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (n + 1 > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		char  *p;

		while (n + 1 > cap - b->len) {
			if (cap > SIZE_MAX / 2)
				return -1;
			cap *= 2;
		}
		if ((p = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* sb_add_line - a line, after a '\n' when the buffer is not empty */
static int
sb_add_line(struct sbuf *b, const char *s, size_t n)
{
	if (b->len > 0 && sb_add(b, "\n", 1) < 0)
		return -1;
	return sb_add(b, s, n);
}

/* chars - UTF-8 characters in s[0..n) (the text was checked before) */
static size_t
chars(const char *s, size_t n)
{
	bool valid;

	return util_utf8_chars(s, n, &valid);
}

/* trim - move *s and *n past whitespace at both ends */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_ws((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_ws((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* dup_n - a NUL-terminated copy of s[0..n) */
static char *
dup_n(const char *s, size_t n)
{
	char *r = malloc(n + 1);

	if (r != NULL) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

/* join - a, "\n\n", b in a new string */
static char *
join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char  *r = malloc(la + lb + 3);

	if (r != NULL) {
		memcpy(r, a, la);
		memcpy(r + la, "\n\n", 2);
		memcpy(r + la + 2, b, lb + 1);
	}
	return r;
}

/* fits - would a and b joined by a blank line be at most max characters? */
static bool
fits(const struct splitter *sp, const char *a, const char *b)
{
	size_t ca = chars(a, strlen(a)), cb = chars(b, strlen(b));

	return ca + 2 + cb <= sp->max;
}

/* push - a new piece under heading; takes text.  0, or -1 when out of memory */
static int
push(struct splitter *sp, const char *heading, char *text)
{
	if ((size_t)sp->n >= sp->maxn) {
		sp->full = true;
		free(text);
		return 0;
	}
	if (sp->n == sp->cap) {
		int                 cap = sp->cap ? sp->cap * 2 : 16;
		struct split_piece *np = realloc(sp->p, (size_t)cap * sizeof(*np));

		if (np == NULL) {
			free(text);
			return -1;
		}
		sp->p = np;
		sp->cap = cap;
	}
	if ((sp->p[sp->n].heading = strdup(heading)) == NULL) {
		free(text);
		return -1;
	}
	sp->p[sp->n++].text = text;
	return 0;
}

/* push_pending - the waiting short piece as a piece of its own */
static int
push_pending(struct splitter *sp)
{
	int rc;

	if (sp->pend == NULL)
		return 0;
	rc = push(sp, sp->pend_head, sp->pend);
	free(sp->pend_head);
	sp->pend = sp->pend_head = NULL;
	return rc;
}

/*
 * piece_add - s[0..n), trimmed, as a piece under the current heading.  A
 * short one joins the previous piece of the same heading if both fit in
 * max_chars, else waits to be put in front of the next one; whitespace
 * alone is dropped.  0, or -1 when out of memory.
 */
static int
piece_add(struct splitter *sp, const char *s, size_t n)
{
	struct split_piece *last;
	char               *text, *both;

	trim(&s, &n);
	if (n == 0 || sp->full)
		return 0;
	if ((text = dup_n(s, n)) == NULL)
		return -1;
	if (sp->pend != NULL) {
		if (strcmp(sp->pend_head, sp->heading) == 0 && fits(sp, sp->pend, text)) {
			if ((both = join(sp->pend, text)) == NULL) {
				free(text);
				return -1;
			}
			free(text);
			text = both;
			free(sp->pend);
			free(sp->pend_head);
			sp->pend = sp->pend_head = NULL;
		} else if (push_pending(sp) < 0) {
			free(text);
			return -1;
		}
	}
	if (chars(text, strlen(text)) >= sp->min)
		return push(sp, sp->heading, text);
	last = sp->n > 0 ? &sp->p[sp->n - 1] : NULL;
	if (last != NULL && strcmp(last->heading, sp->heading) == 0 && fits(sp, last->text, text)) {
		if ((both = join(last->text, text)) == NULL) {
			free(text);
			return -1;
		}
		free(text);
		free(last->text);
		last->text = both;
		return 0;
	}
	if ((sp->pend_head = strdup(sp->heading)) == NULL) {
		free(text);
		return -1;
	}
	sp->pend = text;
	return 0;
}

/* sentence_end - does s[i] end a sentence (". ", "! ", "? ")? */
static bool
sentence_end(const char *s, size_t n, size_t i)
{
	return (s[i] == '.' || s[i] == '!' || s[i] == '?') && i + 1 < n &&
	       is_ws((unsigned char)s[i + 1]);
}

/*
 * cut_text - s[0..n) in parts of at most max_chars characters, cut at a
 * sentence end, else a line end, else a space, else anywhere (between
 * characters).  Parts aim at equal sizes, so no tiny tail is left: of the
 * places of the best kind between max/4 and max characters in, the one
 * nearest the target size is taken.
 */
static int
cut_text(struct splitter *sp, const char *s, size_t n)
{
	size_t total;

	trim(&s, &n);
	total = chars(s, n);
	while (total > sp->max) {
		size_t parts = (total + sp->max - 1) / sp->max,
		       target = (total + parts - 1) / parts;
		size_t lo = sp->max / 4, best[3] = {0, 0, 0},
		       dist[3] = {SIZE_MAX, SIZE_MAX, SIZE_MAX};
		size_t b = 0, ci = 0, cut = 0;

		while (b < n && ci < sp->max) {
			size_t at = b, kind, d;

			b++;
			while (b < n && ((unsigned char)s[b] & 0xc0) == 0x80)
				b++;
			ci++;
			if (ci < lo || b >= n)
				continue;
			if (sentence_end(s, n, at))
				kind = 0;
			else if (s[at] == '\n')
				kind = 1;
			else if (s[at] == ' ' || s[at] == '\t')
				kind = 2;
			else
				continue;
			d = ci > target ? ci - target : target - ci;
			if (d <= dist[kind]) {
				dist[kind] = d;
				best[kind] = b;
			}
		}
		cut = best[0] ? best[0] : best[1] ? best[1] : best[2] ? best[2] : b;
		if (piece_add(sp, s, cut) < 0)
			return -1;
		s += cut;
		n -= cut;
		trim(&s, &n);
		total = chars(s, n);
	}
	return piece_add(sp, s, n);
}

/* flush_para - the open paragraph, as pieces */
static int
flush_para(struct splitter *sp)
{
	int rc = 0;

	if (sp->para.len > 0)
		rc = cut_text(sp, sp->para.p, sp->para.len);
	sp->para.len = 0;
	sp->para_closed = false;
	return rc;
}

/*
 * flush_list - the list with its lead-in: one piece when it all fits,
 * else parts of whole items (an item too long alone is cut like a
 * paragraph), the lead-in with the first
 */
static int
flush_list(struct splitter *sp)
{
	struct sbuf chunk = {NULL, 0, 0};
	size_t      cc = 0, total = chars(sp->lead.p, sp->lead.len);
	int         rc = -1;

	if (!sp->in_list)
		return 0;
	for (size_t i = 0; i < sp->nitem; i++)
		total += 1 + chars(sp->items.p + sp->item[i].off, sp->item[i].len);
	if (total <= sp->max) {
		if (sb_add(&chunk, sp->lead.p, sp->lead.len) < 0)
			goto out;
		for (size_t i = 0; i < sp->nitem; i++)
			if (sb_add_line(&chunk, sp->items.p + sp->item[i].off, sp->item[i].len) < 0)
				goto out;
		rc = piece_add(sp, chunk.p, chunk.len);
		goto out;
	}
	if (sp->lead.len > 0) {
		cc = chars(sp->lead.p, sp->lead.len);
		if (cc > sp->max) {
			if (cut_text(sp, sp->lead.p, sp->lead.len) < 0)
				goto out;
			cc = 0;
		} else if (sb_add(&chunk, sp->lead.p, sp->lead.len) < 0)
			goto out;
	}
	for (size_t i = 0; i < sp->nitem; i++) {
		const char *s = sp->items.p + sp->item[i].off;
		size_t      len = sp->item[i].len, c = chars(s, len);

		if (chunk.len > 0 && (c > sp->max || cc + 1 + c > sp->max)) {
			if (piece_add(sp, chunk.p, chunk.len) < 0)
				goto out;
			chunk.len = 0;
			cc = 0;
		}
		if (c > sp->max) {
			if (cut_text(sp, s, len) < 0)
				goto out;
			continue;
		}
		if (sb_add_line(&chunk, s, len) < 0)
			goto out;
		cc += (cc > 0 ? 1 : 0) + c;
	}
	rc = chunk.len > 0 ? piece_add(sp, chunk.p, chunk.len) : 0;
out:
	free(chunk.p);
	sp->in_list = sp->list_blank = false;
	sp->lead.len = sp->items.len = 0;
	sp->nitem = 0;
	return rc;
}

/* flush_code - the code block: whole when it fits, else parts of whole lines */
static int
flush_code(struct splitter *sp)
{
	const char *s = sp->code.p, *end = s + sp->code.len, *start = s;
	size_t      cc = 0;
	int         rc = 0;

	if (sp->code.len == 0)
		return 0;
	if (chars(s, sp->code.len) <= sp->max) {
		rc = piece_add(sp, s, sp->code.len);
		sp->code.len = 0;
		return rc;
	}
	while (s < end && rc == 0) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl != NULL ? nl : end;
		size_t      c = chars(s, (size_t)(le - s));

		if (s > start && cc + 1 + c > sp->max) {
			rc = piece_add(sp, start, (size_t)(s - start));
			start = s;
			cc = 0;
		}
		if (rc == 0 && c > sp->max) {
			rc = cut_text(sp, s, (size_t)(le - s));
			start = nl != NULL ? nl + 1 : end;
		} else
			cc += (s > start ? 1 : 0) + c;
		s = nl != NULL ? nl + 1 : end;
	}
	if (rc == 0 && start < end)
		rc = piece_add(sp, start, (size_t)(end - start));
	sp->code.len = 0;
	return rc;
}

/* flush_all - whatever block is open */
static int
flush_all(struct splitter *sp)
{
	if (flush_para(sp) < 0 || flush_list(sp) < 0)
		return -1;
	return 0;
}

/* heading_level - 1 to 6 when p[0..n) is an ATX heading ("## Title"), else 0 */
static int
heading_level(const char *p, size_t n)
{
	size_t h = 0;

	while (h < n && p[h] == '#')
		h++;
	if (h == 0 || h > 6 || (h < n && p[h] != ' ' && p[h] != '\t'))
		return 0;
	return (int)h;
}

/* set_heading - the text of heading line p[0..n) of level h becomes the current heading */
static int
set_heading(struct splitter *sp, const char *p, size_t n, int h)
{
	const char *s = p + h;
	size_t      len = n - (size_t)h;
	char       *t;

	trim(&s, &len);
	/* a closing run of '#'s goes, when it stands apart (or is all there is) */
	{
		size_t k = len;

		while (k > 0 && s[k - 1] == '#')
			k--;
		if (k == 0 || s[k - 1] == ' ' || s[k - 1] == '\t') {
			len = k;
			trim(&s, &len);
		}
	}
	if ((t = dup_n(s, len)) == NULL)
		return -1;
	free(sp->heading);
	sp->heading = t;
	return 0;
}

/* thematic_break - "---", "***", "___", spaces allowed between */
static bool
thematic_break(const char *p, size_t n)
{
	size_t marks = 0;
	char   c = p[0];

	if (c != '-' && c != '*' && c != '_')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == c)
			marks++;
		else if (p[i] != ' ' && p[i] != '\t')
			return false;
	}
	return marks >= 3;
}

/* fence - the length of the run of ``` or ~~~ (3 or more) that p starts with, else 0 */
static size_t
fence(const char *p, size_t n)
{
	size_t k = 0;

	if (n == 0 || (p[0] != '`' && p[0] != '~'))
		return 0;
	while (k < n && p[k] == p[0])
		k++;
	if (k < 3 || (p[0] == '`' && memchr(p + k, '`', n - k) != NULL))
		return 0; /* ```code``` on one line is inline code, not a fence */
	return k;
}

/* closes_fence - does p[0..n) (indent skipped) close the open fence? */
static bool
closes_fence(const struct splitter *sp, const char *p, size_t n)
{
	size_t k = fence(p, n);

	if (k < sp->fence_n || p[0] != sp->fence_ch)
		return false;
	for (size_t i = k; i < n; i++)
		if (!is_ws((unsigned char)p[i]))
			return false;
	return true;
}

/* list_item - does p[0..n) start with a bullet ("- ", "* ", "+ ") or a number ("1. ", "2) ")? */
static bool
list_item(const char *p, size_t n)
{
	size_t d = 0;

	if (n >= 2 && (p[0] == '-' || p[0] == '*' || p[0] == '+'))
		return p[1] == ' ' || p[1] == '\t';
	while (d < n && d < 9 && p[d] >= '0' && p[d] <= '9')
		d++;
	return d > 0 && d + 1 < n && (p[d] == '.' || p[d] == ')') &&
	       (p[d + 1] == ' ' || p[d + 1] == '\t');
}

/* ends_with_colon - does the paragraph end in ':' (a lead-in)? */
static bool
ends_with_colon(const struct sbuf *b)
{
	size_t n = b->len;

	while (n > 0 && is_ws((unsigned char)b->p[n - 1]))
		n--;
	return n > 0 && b->p[n - 1] == ':';
}

/* start_item - a new list item, starting the list (with its lead-in) if need be */
static int
start_item(struct splitter *sp, const char *line, size_t n)
{
	if (!sp->in_list) {
		if (sp->para.len > 0 && (!sp->para_closed || ends_with_colon(&sp->para))) {
			if (sb_add(&sp->lead, sp->para.p, sp->para.len) < 0)
				return -1;
			sp->para.len = 0;
			sp->para_closed = false;
		} else if (flush_para(sp) < 0)
			return -1;
		sp->in_list = true;
	}
	if (sp->nitem == sp->itemcap) {
		size_t       cap = sp->itemcap ? sp->itemcap * 2 : 16;
		struct span *ni = realloc(sp->item, cap * sizeof(*ni));

		if (ni == NULL)
			return -1;
		sp->item = ni;
		sp->itemcap = cap;
	}
	if (sb_add_line(&sp->items, line, n) < 0)
		return -1;
	sp->item[sp->nitem].off = sp->items.len - n;
	sp->item[sp->nitem++].len = n;
	sp->list_blank = false;
	return 0;
}

/* more_item - a continuation line of the last list item */
static int
more_item(struct splitter *sp, const char *line, size_t n)
{
	struct span *it = &sp->item[sp->nitem - 1];

	if (sb_add(&sp->items, "\n", 1) < 0 || sb_add(&sp->items, line, n) < 0)
		return -1;
	it->len = sp->items.len - it->off;
	sp->list_blank = false;
	return 0;
}

/* one_line - read line[0..n) (no '\n', no final '\r') */
static int
one_line(struct splitter *sp, const char *line, size_t n)
{
	const char *p = line, *end = line + n;
	size_t      ind = 0, rest;
	int         h;

	if (sp->in_code) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (sb_add_line(&sp->code, line, n) < 0)
			return -1;
		if (closes_fence(sp, p, (size_t)(end - p))) {
			sp->in_code = false;
			return flush_code(sp);
		}
		return 0;
	}
	for (; p < end && (*p == ' ' || *p == '\t'); p++)
		ind += *p == '\t' ? 4 : 1;
	rest = (size_t)(end - p);
	if (rest == 0) {
		if (sp->para.len > 0)
			sp->para_closed = true;
		if (sp->in_list)
			sp->list_blank = true;
		return 0;
	}
	if (ind <= 3 && fence(p, rest) > 0) {
		if (flush_all(sp) < 0)
			return -1;
		sp->in_code = true;
		sp->fence_ch = p[0];
		sp->fence_n = fence(p, rest);
		return sb_add_line(&sp->code, line, n);
	}
	if (ind <= 3 && (h = heading_level(p, rest)) > 0)
		return flush_all(sp) < 0 ? -1 : set_heading(sp, p, rest, h);
	if (ind <= 3 && thematic_break(p, rest))
		return flush_all(sp);
	if (list_item(p, rest))
		return start_item(sp, line, n);
	if (sp->in_list) {
		if (!sp->list_blank || ind >= 2)
			return more_item(sp, line, n);
		if (flush_list(sp) < 0)
			return -1;
	}
	if (sp->para_closed && flush_para(sp) < 0)
		return -1;
	return sb_add_line(&sp->para, line, n);
}

/* split_text - see split.h */
int
split_text(const char *text, size_t len, size_t min_chars, size_t max_chars, size_t max_pieces,
           struct split_piece **out, bool *truncated)
{
	struct splitter sp;
	const char     *end = text + len;
	bool            valid;
	int             rc = -1;

	*out = NULL;
	*truncated = false;
	if (len == 0)
		return 0;
	util_utf8_chars(text, len, &valid);
	if (!valid || memchr(text, '\0', len) != NULL)
		return -1;
	memset(&sp, 0, sizeof(sp));
	sp.min = min_chars;
	sp.max = max_chars > 0 ? max_chars : SIZE_MAX;
	sp.maxn = max_pieces;
	if ((sp.heading = strdup("")) == NULL)
		goto out;
	for (const char *line = text; line < end && !sp.full;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl != NULL ? nl : end;

		if (le > line && le[-1] == '\r')
			le--;
		if (one_line(&sp, line, (size_t)(le - line)) < 0)
			goto out;
		line = nl != NULL ? nl + 1 : end;
	}
	if (sp.in_code && flush_code(&sp) < 0)
		goto out;
	if (flush_all(&sp) < 0 || push_pending(&sp) < 0)
		goto out;
	rc = sp.n;
out:
	if (rc < 0) {
		split_free(sp.p, sp.n);
		sp.p = NULL;
	}
	*out = sp.p;
	*truncated = rc >= 0 && sp.full;
	free(sp.heading);
	free(sp.pend);
	free(sp.pend_head);
	free(sp.para.p);
	free(sp.lead.p);
	free(sp.items.p);
	free(sp.item);
	free(sp.code.p);
	return rc;
}

/* split_free - the pieces and the array; NULL is fine */
void
split_free(struct split_piece *p, int n)
{
	for (int i = 0; p != NULL && i < n; i++) {
		free(p[i].heading);
		free(p[i].text);
	}
	free(p);
}

/* word_byte - a letter, digit or any byte of a multi-byte character */
static bool
word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80;
}

/* line_markers - how many bytes of heading, quote and bullet markers start s */
static size_t
line_markers(const char *s)
{
	size_t i = 0, k;

	for (;;) {
		while (s[i] == ' ' || s[i] == '\t')
			i++;
		if (s[i] == '>') {
			i++;
			continue;
		}
		for (k = 0; s[i + k] == '#' && k < 7; k++)
			;
		if (k > 0 && k <= 6 && (is_ws((unsigned char)s[i + k]) || s[i + k] == '\0')) {
			i += k;
			continue;
		}
		if ((s[i] == '-' || s[i] == '*' || s[i] == '+') &&
		    (s[i + 1] == ' ' || s[i + 1] == '\t')) {
			i++;
			continue;
		}
		return i;
	}
}

/* split_normalise - see split.h */
char *
split_normalise(const char *text)
{
	size_t n, o = 0;
	char  *out;
	bool   space = false;

	if (text == NULL)
		return NULL;
	n = strlen(text);
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (size_t i = line_markers(text); i < n;) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\n') {
			space = true;
			i++;
			i += line_markers(text + i);
			continue;
		}
		if (is_ws(c)) {
			space = true;
			i++;
			continue;
		}
		if (c == '*' || c == '`' || (c == '~' && text[i + 1] == '~')) {
			i += c == '~' ? 2 : 1;
			continue;
		}
		/* '_' is emphasis at a word's edge, part of the word inside ("snake_case") */
		if (c == '_' && !(i > 0 && word_byte((unsigned char)text[i - 1]) &&
		                  word_byte((unsigned char)text[i + 1]))) {
			i++;
			continue;
		}
		if (space && o > 0)
			out[o++] = ' ';
		space = false;
		out[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		i++;
	}
	out[o] = '\0';
	return out;
}
