/*
 * split.h - cutting staff-submitted text into pieces for knowledge intake
 *
 * ingest.c classifies each piece to the SOP it belongs to, so a piece is
 * about one thing: a paragraph (or a list with its lead-in, or a code
 * block), under the nearest markdown heading, cut at sentence ends when
 * long.  split_normalise() gives the form in which the same text submitted
 * twice, or already in an SOP, is recognised.
 */
#ifndef CLUBOS_SPLIT_H
#define CLUBOS_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

struct split_piece {
	char *heading; /* the nearest heading above it, without '#'s ("" if none); malloc */
	char *text;    /* the piece, trimmed; malloc */
};

/*
 * split_text - pieces of text[0..len): split at markdown headings
 * (# to ######) and blank lines.  A list stays together with its lead-in
 * paragraph (the paragraph right above it, or one ending in ':') while the
 * whole fits in max_chars, and is otherwise cut between items.  A paragraph
 * longer than max_chars (UTF-8 characters) is cut at sentence ends (". ",
 * "! ", "? "), else at line ends, else at spaces.  A code fence (``` or
 * ~~~) is kept whole up to max_chars, then cut between lines.  A piece
 * shorter than min_chars joins the previous piece of the same heading when
 * the two fit in max_chars, else the next one; whitespace alone is
 * dropped.  Line ends come out as "\n" (CRLF input is fine).  At most
 * max_pieces pieces: *truncated tells whether text was left over.
 * Returns the number of pieces (>= 0) with *out a malloc'd array for
 * split_free(), or -1 (out of memory, invalid UTF-8 or a NUL byte) with
 * *out NULL.
 */
int  split_text(const char *text, size_t len, size_t min_chars, size_t max_chars, size_t max_pieces,
                struct split_piece **out, bool *truncated);
void split_free(struct split_piece *p, int n);

/*
 * split_normalise - the canonical form used to recognise the same text
 * submitted twice: ASCII lower case, runs of whitespace made one space,
 * trimmed, markdown emphasis (*, _, `, ~~), heading, quote and bullet
 * markers removed.  malloc'd; NULL when out of memory (or text is NULL).
 */
char *split_normalise(const char *text);

#endif
