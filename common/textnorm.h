/*
 * textnorm.h - text normalisation and word tokenisation
 *
 * One place decides what "the same words" means: the intent classifier
 * (clf.c) and the semantic cache both normalise a message with
 * tn_normalise() and split it with tn_tokens(), so a feature seen at
 * training time is the feature seen at lookup time.  Both functions are
 * pure: no allocation, no global state, safe from any thread.
 */
#ifndef CLUBOS_TEXTNORM_H
#define CLUBOS_TEXTNORM_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Lowercase ASCII, fold common unicode punctuation (’ “ ” – …) and Latin-1
 * letters (é, ñ, ß) to ASCII, turn control bytes and invalid UTF-8 into
 * spaces, collapse whitespace, strip leading/trailing space.  Other valid
 * UTF-8 is kept as it is and never cut in the middle of a character.
 * Writes at most cap-1 bytes + NUL (nothing when cap is 0; in == NULL reads
 * as ""). Returns the length written.
 */
size_t tn_normalise(const char *in, char *out, size_t cap);

/*
 * Split normalised text into word tokens: runs of letters, digits, non-ASCII
 * characters and apostrophes, with apostrophes trimmed from both ends of a
 * token ("'don't'" gives "don't").  Calls cb once per token, in order; tok
 * points into norm and is not NUL-terminated.  NULL norm or cb: no calls.
 */
typedef void (*tn_token_cb)(const char *tok, size_t len, void *arg);
void tn_tokens(const char *norm, tn_token_cb cb, void *arg);

/*
 * Is word (n bytes, not NUL-terminated) one of the terms of list, a
 * '|'-separated list of normalised words and phrases ("fire|on fire")?
 * Whole terms only: "fire" is not in "fire alarm".  NULL list: no.
 */
bool tn_in_terms(const char *list, const char *word, size_t n);

#endif
