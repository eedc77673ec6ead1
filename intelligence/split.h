/*
 * split.h - cutting staff-submitted text into pieces for knowledge intake
 *
 * ingest.c classifies each piece to the SOP it belongs to, so a piece is
 * about one thing: a paragraph (or a list with its lead-in), under the
 * nearest markdown heading, cut at sentence ends when long.
 */
#ifndef CLUBOS_SPLIT_H
#define CLUBOS_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

struct split_piece {
	char *heading; /* the nearest heading above it, without the '#'s ("" if none) */
	char *text;    /* the piece, trimmed */
};

int  split_text(const char *text, size_t len, size_t min_chars, size_t max_chars, size_t max_pieces,
                struct split_piece **out, bool *truncated);
void split_free(struct split_piece *p, int n);
char *split_normalise(const char *text);

#endif
