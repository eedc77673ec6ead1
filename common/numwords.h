/*
 * numwords.h - numbers written in words, English and French
 *
 * "forty dollars", "twenty-five minutes", "quatre-vingt-dix", "a hundred
 * and ten": the guardrails compare the numbers of a model's reply with
 * those it was given, and a number in words is as much a claim as one in
 * digits.  numwords_span reads the longest run of number words at a
 * point of a text (ASCII case-insensitive; the French accents are not
 * needed by any word it knows) and says what it adds up to.
 *
 * Words of one language only make one number ("one cent" is one and a
 * word, not a hundred); "six" belongs to both.  "and"/"et" join number
 * words only between two of them.  Ordinals ("first", "vingtième") are
 * not numbers here.  Values stop growing past 10^12 (the run still ends
 * where the words end).
 */
#ifndef CLUBOS_NUMWORDS_H
#define CLUBOS_NUMWORDS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * numwords_span - the number written in words at s: its length in bytes
 * (0 when s does not start with a number word), the value in *value, and
 * in *unit whether the next word is a unit that makes a small number a
 * fact (dollars, cents, percent, am/pm, o'clock, minutes, hours, days,
 * weeks, months, years, people, players, guests; their French forms).
 * A word must start at s: the caller checks what comes before.
 */
size_t numwords_span(const char *s, long long *value, bool *unit);

/*
 * numwords_digits - a code read out digit by digit at s ("four eight two
 * one", "quatre-huit-deux-un", "one oh five"): at least three digit words
 * in a row, separated by spaces, hyphens or commas.  The digits go to dig
 * (NUL-terminated, at most cap - 1); returns the length read, 0 if fewer
 * than three.
 */
size_t numwords_digits(const char *s, char *dig, size_t cap);

#endif
