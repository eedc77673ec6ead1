/*
 * diff.c - unified diffs of two texts, line by line
 *
 * Called by the intelligence service when it writes a proposed SOP change
 * (see diff.h).  The steps:
 *
 *   1. Both texts are cut into lines (a line keeps its '\n', so a last line
 *      without one differs from the same words with one, as in GNU diff),
 *      and a hash table gives equal lines the same number.  A line found
 *      in one text only is changed for sure and left out of the search.
 *   2. The common head and tail are skipped; the middle goes through
 *      Myers' O(ND) algorithm in linear space: find the middle snake of
 *      the shortest edit path, split there, recurse.  Every step counts
 *      against DIFF_MAX_WORK; a part still unsolved when the budget is
 *      spent is marked as all deleted and all added, which is a correct
 *      diff, only not a minimal one.
 *   3. Runs of changed lines are slid over equal neighbours to where GNU
 *      diff puts them: merged with nearby runs where possible, as low as
 *      possible otherwise, and against a change in the other text when
 *      one is in reach.
 *   4. Changes closer than 2 * context + 1 unchanged lines share a hunk;
 *      hunks are printed with GNU's range rules ("l" when a range has one
 *      line, "l,0" with l the line before when it has none).
 *
 * Nothing here is global; the functions are reentrant.
 */
#include "common/diff.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIFF_NO_NL "\\ No newline at end of file\n"

struct diff_line {
	const char *p;
	size_t      len; /* with the '\n', when the line has one */
};

struct diff_side {
	struct diff_line *line;
	ptrdiff_t        *id;  /* equal lines have equal ids */
	char             *chg; /* n + 1 bytes: 1 for a deleted (a) or added (b) line */
	ptrdiff_t         n;
};

/* the lines of one side that have an equal line on the other side */
struct diff_seq {
	ptrdiff_t *id;
	ptrdiff_t *real; /* their index in the side */
	ptrdiff_t  n;
};

struct diff_ctx {
	struct diff_side a, b;
	struct diff_seq  sa, sb;
	ptrdiff_t        nid;     /* distinct lines */
	ptrdiff_t       *v1, *v2; /* Myers' forward and backward fronts */
	long long        work;
};

struct diff_buf {
	char  *p;
	size_t len, cap;
	bool   failed;
};

/* diff_split - cut s into lines; 0, or -1 when out of memory */
static int
diff_split(const char *s, struct diff_side *sd)
{
	size_t      len = strlen(s), n = 0;
	const char *p, *end = s + len;

	for (p = s; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		n++;
	if (len > 0 && s[len - 1] != '\n')
		n++;
	if (n > (size_t)PTRDIFF_MAX / (2 * sizeof(struct diff_line)))
		return -1;
	sd->n = (ptrdiff_t)n;
	sd->line = malloc((n + 1) * sizeof(*sd->line));
	sd->id = malloc((n + 1) * sizeof(*sd->id));
	sd->chg = calloc(n + 1, 1);
	if (sd->line == NULL || sd->id == NULL || sd->chg == NULL)
		return -1;
	n = 0;
	for (p = s; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *q = nl != NULL ? nl + 1 : end;

		sd->line[n].p = p;
		sd->line[n].len = (size_t)(q - p);
		n++;
		p = q;
	}
	return 0;
}

/* diff_hash - FNV-1a over a line */
static uint64_t
diff_hash(const struct diff_line *l)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < l->len; i++) {
		h ^= (unsigned char)l->p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* diff_number - give every distinct line of a and b its own id; 0 or -1 */
static int
diff_number(struct diff_ctx *c)
{
	struct diff_side *sides[2] = {&c->a, &c->b};
	size_t            total = (size_t)c->a.n + (size_t)c->b.n, size = 16, mask;
	ptrdiff_t        *slot, next = 0;
	struct diff_line *rep;
	uint64_t         *rephash;

	while (size < 2 * total)
		size *= 2;
	mask = size - 1;
	slot = malloc(size * sizeof(*slot));
	rep = malloc((total + 1) * sizeof(*rep));
	rephash = malloc((total + 1) * sizeof(*rephash));
	if (slot == NULL || rep == NULL || rephash == NULL) {
		free(slot);
		free(rep);
		free(rephash);
		return -1;
	}
	memset(slot, 0xff, size * sizeof(*slot)); /* every slot -1: empty */
	for (int s = 0; s < 2; s++) {
		struct diff_side *sd = sides[s];

		for (ptrdiff_t i = 0; i < sd->n; i++) {
			const struct diff_line *l = &sd->line[i];
			uint64_t                h = diff_hash(l);
			size_t                  k = (size_t)h & mask;

			while (slot[k] >= 0) {
				const struct diff_line *r = &rep[slot[k]];

				if (rephash[slot[k]] == h && r->len == l->len &&
				    memcmp(r->p, l->p, l->len) == 0)
					break;
				k = (k + 1) & mask;
			}
			if (slot[k] < 0) {
				rep[next] = *l;
				rephash[next] = h;
				slot[k] = next++;
			}
			sd->id[i] = slot[k];
		}
	}
	c->nid = next;
	free(slot);
	free(rep);
	free(rephash);
	return 0;
}

/*
 * diff_keep - the lines of each side found on the other side, in sa and
 * sb; the others are marked changed at once.  This saves work and breaks
 * ties between equally short diffs the way GNU diff does, which drops
 * such lines before its search too.  0, or -1 when out of memory.
 */
static int
diff_keep(struct diff_ctx *c)
{
	unsigned char *in_a, *in_b;
	int            rc = -1;

	in_a = calloc((size_t)c->nid + 1, 1);
	in_b = calloc((size_t)c->nid + 1, 1);
	c->sa.id = malloc(((size_t)c->a.n + 1) * sizeof(ptrdiff_t));
	c->sa.real = malloc(((size_t)c->a.n + 1) * sizeof(ptrdiff_t));
	c->sb.id = malloc(((size_t)c->b.n + 1) * sizeof(ptrdiff_t));
	c->sb.real = malloc(((size_t)c->b.n + 1) * sizeof(ptrdiff_t));
	if (in_a == NULL || in_b == NULL || c->sa.id == NULL || c->sa.real == NULL ||
	    c->sb.id == NULL || c->sb.real == NULL)
		goto out;
	for (ptrdiff_t i = 0; i < c->a.n; i++)
		in_a[c->a.id[i]] = 1;
	for (ptrdiff_t j = 0; j < c->b.n; j++)
		in_b[c->b.id[j]] = 1;
	for (ptrdiff_t i = 0; i < c->a.n; i++)
		if (in_b[c->a.id[i]]) {
			c->sa.id[c->sa.n] = c->a.id[i];
			c->sa.real[c->sa.n++] = i;
		} else
			c->a.chg[i] = 1;
	for (ptrdiff_t j = 0; j < c->b.n; j++)
		if (in_a[c->b.id[j]]) {
			c->sb.id[c->sb.n] = c->b.id[j];
			c->sb.real[c->sb.n++] = j;
		} else
			c->b.chg[j] = 1;
	rc = 0;
out:
	free(in_a);
	free(in_b);
	return rc;
}

/* diff_mark - lines sa[xl..xh) deleted and sb[yl..yh) added */
static void
diff_mark(struct diff_ctx *c, ptrdiff_t xl, ptrdiff_t xh, ptrdiff_t yl, ptrdiff_t yh)
{
	for (ptrdiff_t i = xl; i < xh; i++)
		c->a.chg[c->sa.real[i]] = 1;
	for (ptrdiff_t j = yl; j < yh; j++)
		c->b.chg[c->sb.real[j]] = 1;
}

/*
 * diff_bisect - the middle of a shortest edit path from (xl, yl) to
 * (xh, yh) in sa and sb: 0 with the split point in *sx, *sy, or -1 when
 * the work budget ran out first.  Both ranges are non-empty.  Forward
 * paths run from the top left; backward paths from the bottom right, in
 * mirrored coordinates (x and y counted from the end).  v1[off + k] is the
 * furthest x reached on forward diagonal k = x - y, v2 the same backward.
 * When the fronts meet on a diagonal, the end of the snake that got there
 * (the forward one's bottom, the backward one's top) is on a shortest
 * path, and the problem is split there.  Diagonals are tried from the most deletions to the most
 * additions, as GNU diff does, so that ties between equally short diffs
 * go the same way.  Diagonals whose front left the grid are dropped from
 * the next round.
 */
static int
diff_bisect(struct diff_ctx *c, ptrdiff_t xl, ptrdiff_t xh, ptrdiff_t yl, ptrdiff_t yh,
            ptrdiff_t *sx, ptrdiff_t *sy)
{
	const ptrdiff_t *A = c->sa.id + xl, *B = c->sb.id + yl;
	ptrdiff_t        N = xh - xl, M = yh - yl;
	ptrdiff_t        maxd = (N + M + 1) / 2, off = maxd, vlen = 2 * maxd + 2;
	ptrdiff_t        delta = N - M, k1lo = 0, k1hi = 0, k2lo = 0, k2hi = 0;
	ptrdiff_t       *v1 = c->v1, *v2 = c->v2;
	bool             odd = (delta % 2) != 0;

	for (ptrdiff_t i = 0; i < vlen; i++)
		v1[i] = v2[i] = -1;
	v1[off + 1] = 0;
	v2[off + 1] = 0;
	c->work += vlen;
	for (ptrdiff_t d = 0; d < maxd; d++) {
		ptrdiff_t lo = 0, hi = 0;

		if (c->work > DIFF_MAX_WORK)
			return -1;
		for (ptrdiff_t k = d - k1hi; k >= -d + k1lo; k -= 2) {
			ptrdiff_t i = off + k, j = off + delta - k, x, y, x0;

			if (k == -d || (k != d && v1[i - 1] < v1[i + 1]))
				x = v1[i + 1];
			else
				x = v1[i - 1] + 1;
			y = x - k;
			x0 = x;
			while (x < N && y < M && A[x] == B[y]) {
				x++;
				y++;
			}
			c->work += 1 + (x - x0);
			v1[i] = x;
			if (x > N)
				hi += 2; /* off the right edge */
			else if (y > M)
				lo += 2; /* off the bottom edge */
			else if (odd && j >= 0 && j < vlen && v2[j] >= 0 && v2[j] <= N &&
			         v2[j] - (delta - k) <= M && x >= N - v2[j]) {
				*sx = xl + x;
				*sy = yl + y;
				return 0;
			}
		}
		k1lo += lo;
		k1hi += hi;
		lo = hi = 0;
		for (ptrdiff_t k = -d + k2lo; k <= d - k2hi; k += 2) {
			ptrdiff_t i = off + k, j = off + delta - k, x, y, x0;

			if (k == -d || (k != d && v2[i - 1] < v2[i + 1]))
				x = v2[i + 1];
			else
				x = v2[i - 1] + 1;
			y = x - k;
			x0 = x;
			while (x < N && y < M && A[N - x - 1] == B[M - y - 1]) {
				x++;
				y++;
			}
			c->work += 1 + (x - x0);
			v2[i] = x;
			if (x > N)
				hi += 2;
			else if (y > M)
				lo += 2;
			else if (!odd && j >= 0 && j < vlen && v1[j] >= 0 && v1[j] <= N &&
			         v1[j] - (delta - k) <= M && v1[j] >= N - x) {
				*sx = xh - x;
				*sy = yh - y;
				return 0;
			}
		}
		k2lo += lo;
		k2hi += hi;
	}
	return -1;
}

/* diff_compare - mark the changed lines between sa[xl..xh) and sb[yl..yh) */
static void
diff_compare(struct diff_ctx *c, ptrdiff_t xl, ptrdiff_t xh, ptrdiff_t yl, ptrdiff_t yh)
{
	const ptrdiff_t *A = c->sa.id, *B = c->sb.id;
	ptrdiff_t        sx, sy;

	while (xl < xh && yl < yh && A[xl] == B[yl]) {
		xl++;
		yl++;
	}
	while (xl < xh && yl < yh && A[xh - 1] == B[yh - 1]) {
		xh--;
		yh--;
	}
	if (xl == xh || yl == yh || c->work > DIFF_MAX_WORK ||
	    diff_bisect(c, xl, xh, yl, yh, &sx, &sy) != 0 || (sx == xl && sy == yl) ||
	    (sx == xh && sy == yh)) {
		diff_mark(c, xl, xh, yl, yh);
		return;
	}
	diff_compare(c, xl, sx, yl, sy);
	diff_compare(c, sx, xh, sy, yh);
}

/* diff_aligned - is there a change in g just before its u-th unchanged line? */
static bool
diff_aligned(const struct diff_side *g, const ptrdiff_t *gpos, ptrdiff_t u)
{
	ptrdiff_t j = gpos[u];

	return j > 0 && g->chg[j - 1];
}

/*
 * diff_shift - slide the runs of changed lines of f over equal neighbours:
 * up while the line above equals the run's last line, merging with runs
 * met on the way, then down likewise, until the run stops growing; then
 * back up to the lowest place where it meets a change in g, if any.
 * u counts the unchanged lines of f above the run, which pair in order
 * with the unchanged lines of g.  0, or -1 when out of memory.
 */
static int
diff_shift(struct diff_side *f, const struct diff_side *g)
{
	ptrdiff_t *gpos, U = 0, i = 0, u = 0, n = f->n;
	char      *chg = f->chg;

	if ((gpos = malloc(((size_t)g->n + 1) * sizeof(*gpos))) == NULL)
		return -1;
	for (ptrdiff_t j = 0; j < g->n; j++)
		if (!g->chg[j])
			gpos[U++] = j;
	gpos[U] = g->n;
	for (;;) {
		ptrdiff_t start, runlen, corr;

		while (i < n && !chg[i]) {
			i++;
			u++;
		}
		if (i == n)
			break;
		start = i;
		while (i < n && chg[i])
			i++;
		do {
			runlen = i - start;
			while (start > 0 && f->id[start - 1] == f->id[i - 1]) {
				chg[--start] = 1;
				chg[--i] = 0;
				u--;
				while (start > 0 && chg[start - 1])
					start--;
			}
			corr = diff_aligned(g, gpos, u) ? i : -1;
			while (i < n && f->id[start] == f->id[i]) {
				chg[start++] = 0;
				chg[i++] = 1;
				u++;
				while (i < n && chg[i])
					i++;
				if (diff_aligned(g, gpos, u))
					corr = i;
			}
		} while (runlen != i - start);
		while (corr >= 0 && corr < i) {
			chg[--start] = 1;
			chg[--i] = 0;
			u--;
		}
	}
	free(gpos);
	return 0;
}

/* diff_put - append n bytes to the output */
static void
diff_put(struct diff_buf *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (n >= o->cap - o->len) {
		size_t cap = o->cap;
		char  *p;

		while (n >= cap - o->len) {
			if (cap > SIZE_MAX / 2) {
				o->failed = true;
				return;
			}
			cap *= 2;
		}
		if ((p = realloc(o->p, cap)) == NULL) {
			o->failed = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

/* diff_puts - append a string to the output */
static void
diff_puts(struct diff_buf *o, const char *s)
{
	diff_put(o, s, strlen(s));
}

/* diff_put_line - one line with its mark, and the marker when it has no '\n' */
static void
diff_put_line(struct diff_buf *o, char mark, const struct diff_line *l)
{
	diff_put(o, &mark, 1);
	diff_put(o, l->p, l->len);
	if (l->len == 0 || l->p[l->len - 1] != '\n')
		diff_puts(o, "\n" DIFF_NO_NL);
}

/* diff_range - one side of a hunk header, GNU style */
static void
diff_range(char *buf, size_t cap, ptrdiff_t start, ptrdiff_t count)
{
	if (count == 0)
		snprintf(buf, cap, "%td,0", start);
	else if (count == 1)
		snprintf(buf, cap, "%td", start + 1);
	else
		snprintf(buf, cap, "%td,%td", start + 1, count);
}

struct diff_change {
	ptrdiff_t i, j;     /* where it starts in a and in b */
	ptrdiff_t del, add; /* lines deleted from a, added from b */
};

/* diff_changes - the changes in order, in a malloc'd array; -1 when out of memory */
static ptrdiff_t
diff_changes(const struct diff_ctx *c, struct diff_change **out)
{
	struct diff_change *v = NULL;
	ptrdiff_t           n = 0, i, j;

	for (int pass = 0; pass < 2; pass++) {
		n = 0;
		i = j = 0;
		for (;;) {
			ptrdiff_t ci, cj;

			while (i < c->a.n && j < c->b.n && !c->a.chg[i] && !c->b.chg[j]) {
				i++;
				j++;
			}
			if (i == c->a.n && j == c->b.n)
				break;
			ci = i;
			cj = j;
			while (i < c->a.n && c->a.chg[i])
				i++;
			while (j < c->b.n && c->b.chg[j])
				j++;
			if (i == ci && j == cj)
				break; /* unchanged lines left over on one side only: cannot happen
				        */
			if (v != NULL)
				v[n] = (struct diff_change){ci, cj, i - ci, j - cj};
			n++;
		}
		if (pass == 0 && (v = malloc(((size_t)n + 1) * sizeof(*v))) == NULL)
			return -1;
	}
	*out = v;
	return n;
}

/* diff_hunk - print the hunk of changes ch[0..n), with ctx lines of context */
static void
diff_hunk(const struct diff_ctx *c, struct diff_buf *o, const struct diff_change *ch, ptrdiff_t n,
          ptrdiff_t ctx, ptrdiff_t next_i)
{
	const struct diff_change *last = &ch[n - 1];
	ptrdiff_t                 lead = ch[0].i < ctx ? ch[0].i : ctx;
	ptrdiff_t                 gap = next_i - (last->i + last->del);
	ptrdiff_t                 trail = gap < ctx ? gap : ctx;
	ptrdiff_t                 i = ch[0].i - lead, j = ch[0].j - lead;
	ptrdiff_t ea = last->i + last->del + trail, eb = last->j + last->add + trail;
	char      ra[48], rb[48], hdr[128];

	diff_range(ra, sizeof(ra), i, ea - i);
	diff_range(rb, sizeof(rb), j, eb - j);
	snprintf(hdr, sizeof(hdr), "@@ -%s +%s @@\n", ra, rb);
	diff_puts(o, hdr);
	for (ptrdiff_t k = 0; k < n; k++) {
		for (; i < ch[k].i; i++, j++)
			diff_put_line(o, ' ', &c->a.line[i]);
		for (; i < ch[k].i + ch[k].del; i++)
			diff_put_line(o, '-', &c->a.line[i]);
		for (; j < ch[k].j + ch[k].add; j++)
			diff_put_line(o, '+', &c->b.line[j]);
	}
	for (; i < ea; i++)
		diff_put_line(o, ' ', &c->a.line[i]);
}

/* diff_print - headers and hunks; changes apart by more than 2 * ctx lines split hunks */
static int
diff_print(const struct diff_ctx *c, struct diff_buf *o, const char *name, ptrdiff_t ctx)
{
	struct diff_change *ch;
	ptrdiff_t           n = diff_changes(c, &ch), first = 0;

	if (n < 0)
		return -1;
	if (n > 0) {
		diff_puts(o, "--- a/");
		diff_puts(o, name);
		diff_puts(o, "\n+++ b/");
		diff_puts(o, name);
		diff_puts(o, "\n");
	}
	for (ptrdiff_t k = 1; k <= n; k++) {
		ptrdiff_t end = ch[k - 1].i + ch[k - 1].del;

		if (k < n && ch[k].i - end <= 2 * ctx)
			continue;
		diff_hunk(c, o, ch + first, k - first, ctx, k < n ? ch[k].i : c->a.n);
		first = k;
	}
	free(ch);
	return o->failed ? -1 : 0;
}

/* diff_side_free - a side's arrays */
static void
diff_side_free(struct diff_side *sd)
{
	free(sd->line);
	free(sd->id);
	free(sd->chg);
}

/* diff_unified - see diff.h */
char *
diff_unified(const char *a, const char *b, const char *name, int context)
{
	struct diff_ctx c;
	struct diff_buf o = {NULL, 0, 256, false};
	ptrdiff_t       ctx = context < 0 ? 0 : context;
	size_t          vn;

	if (strcmp(a, b) == 0)
		return strdup("");
	if (name == NULL)
		name = "";
	memset(&c, 0, sizeof(c));
	if ((o.p = malloc(o.cap)) == NULL)
		return NULL;
	o.p[0] = '\0';
	if (diff_split(a, &c.a) != 0 || diff_split(b, &c.b) != 0 || diff_number(&c) != 0 ||
	    diff_keep(&c) != 0)
		goto fail;
	vn = (size_t)c.sa.n + (size_t)c.sb.n + 4;
	c.v1 = malloc(vn * sizeof(*c.v1));
	c.v2 = malloc(vn * sizeof(*c.v2));
	if (c.v1 == NULL || c.v2 == NULL)
		goto fail;
	diff_compare(&c, 0, c.sa.n, 0, c.sb.n);
	if (diff_shift(&c.a, &c.b) != 0 || diff_shift(&c.b, &c.a) != 0 ||
	    diff_print(&c, &o, name, ctx) != 0)
		goto fail;
	free(c.v1);
	free(c.v2);
	free(c.sa.id);
	free(c.sa.real);
	free(c.sb.id);
	free(c.sb.real);
	diff_side_free(&c.b);
	diff_side_free(&c.a);
	return o.p;
fail:
	free(c.v1);
	free(c.v2);
	free(c.sa.id);
	free(c.sa.real);
	free(c.sb.id);
	free(c.sb.real);
	diff_side_free(&c.b);
	diff_side_free(&c.a);
	free(o.p);
	return NULL;
}
