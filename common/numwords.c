/*
 * numwords.c - numbers written in words, English and French (numwords.h)
 */
#include "common/numwords.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define EN 1
#define FR 2

enum kind { K_UNIT, K_TEEN, K_TENS, K_HUNDRED, K_THOUSAND, K_MILLION };

static const struct nw {
	const char *w;
	int         v;
	enum kind   k;
	int         lang;
	bool        weak; /* also a common word: a number only beside another, or a unit */
} nw_table[] = {
    {"zero", 0, K_UNIT, EN, false},
    {"one", 1, K_UNIT, EN, false},
    {"two", 2, K_UNIT, EN, false},
    {"three", 3, K_UNIT, EN, false},
    {"four", 4, K_UNIT, EN, false},
    {"five", 5, K_UNIT, EN, false},
    {"six", 6, K_UNIT, EN | FR, false},
    {"seven", 7, K_UNIT, EN, false},
    {"eight", 8, K_UNIT, EN, false},
    {"nine", 9, K_UNIT, EN, false},
    {"ten", 10, K_TEEN, EN, false},
    {"eleven", 11, K_TEEN, EN, false},
    {"twelve", 12, K_TEEN, EN, false},
    {"thirteen", 13, K_TEEN, EN, false},
    {"fourteen", 14, K_TEEN, EN, false},
    {"fifteen", 15, K_TEEN, EN, false},
    {"sixteen", 16, K_TEEN, EN, false},
    {"seventeen", 17, K_TEEN, EN, false},
    {"eighteen", 18, K_TEEN, EN, false},
    {"nineteen", 19, K_TEEN, EN, false},
    {"twenty", 20, K_TENS, EN, false},
    {"thirty", 30, K_TENS, EN, false},
    {"forty", 40, K_TENS, EN, false},
    {"fourty", 40, K_TENS, EN, false},
    {"fifty", 50, K_TENS, EN, false},
    {"sixty", 60, K_TENS, EN, false},
    {"seventy", 70, K_TENS, EN, false},
    {"eighty", 80, K_TENS, EN, false},
    {"ninety", 90, K_TENS, EN, false},
    {"hundred", 100, K_HUNDRED, EN, false},
    {"thousand", 1000, K_THOUSAND, EN, false},
    {"million", 1000000, K_MILLION, EN | FR, false},
    {"millions", 1000000, K_MILLION, FR, false},
    {"un", 1, K_UNIT, FR, true},
    {"une", 1, K_UNIT, FR, true},
    {"deux", 2, K_UNIT, FR, false},
    {"trois", 3, K_UNIT, FR, false},
    {"quatre", 4, K_UNIT, FR, false},
    {"cinq", 5, K_UNIT, FR, false},
    {"sept", 7, K_UNIT, FR, true},
    {"huit", 8, K_UNIT, FR, false},
    {"neuf", 9, K_UNIT, FR, true},
    {"dix", 10, K_TEEN, FR, false},
    {"onze", 11, K_TEEN, FR, false},
    {"douze", 12, K_TEEN, FR, false},
    {"treize", 13, K_TEEN, FR, false},
    {"quatorze", 14, K_TEEN, FR, false},
    {"quinze", 15, K_TEEN, FR, false},
    {"seize", 16, K_TEEN, FR, true},
    {"vingt", 20, K_TENS, FR, false},
    {"vingts", 20, K_TENS, FR, false},
    {"trente", 30, K_TENS, FR, false},
    {"quarante", 40, K_TENS, FR, false},
    {"cinquante", 50, K_TENS, FR, false},
    {"soixante", 60, K_TENS, FR, false},
    {"cent", 100, K_HUNDRED, FR, true},
    {"cents", 100, K_HUNDRED, FR, true},
    {"mille", 1000, K_THOUSAND, FR, false},
};

/* Words after a number that make even a small one a fact. */
static const char *const nw_units[] = {
    "dollar",  "dollars",  "buck",      "bucks",  "cent",    "cents",    "percent", "am",
    "pm",      "a.m",      "p.m",       "a.m.",   "p.m.",    "o'clock",  "minute",  "minutes",
    "min",     "mins",     "hour",      "hours",  "hr",      "hrs",      "day",     "days",
    "week",    "weeks",    "month",     "months", "year",    "years",    "people",  "person",
    "persons", "player",   "players",   "guest",  "guests",  "bay",      "bays",    "heure",
    "heures",  "h",        "jour",      "jours",  "semaine", "semaines", "mois",    "an",
    "ans",     "personne", "personnes", "joueur", "joueurs", "invite",   "invites", "pourcent",
    NULL,
};

#define NW_MAX_WORDS 24
#define NW_CAP 1000000000000LL

/* word_at - the letters of the word at s: its length (0 if s is not a letter) */
static size_t
word_at(const char *s)
{
	size_t n = 0;

	while (isalpha((unsigned char)s[n]))
		n++;
	return n;
}

/* lookup - the table's entry for the word s[0..n), or NULL */
static const struct nw *
lookup(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(nw_table) / sizeof(nw_table[0]); i++)
		if (strlen(nw_table[i].w) == n && strncasecmp(nw_table[i].w, s, n) == 0)
			return &nw_table[i];
	return NULL;
}

/* is_joiner - "and" / "et" for the languages in lang */
static bool
is_joiner(const char *s, size_t n, int lang)
{
	return ((lang & EN) && n == 3 && strncasecmp(s, "and", 3) == 0) ||
	       ((lang & FR) && n == 2 && strncasecmp(s, "et", 2) == 0);
}

/* unit_after - is the word after s (past spaces, a hyphen) a unit? */
static bool
unit_after(const char *s)
{
	size_t i = 0, n = 0;
	char   w[16];

	while (s[i] == ' ' || s[i] == '\t' || s[i] == '-')
		i++;
	if (s[i] == '%' || strncmp(s + i, "\xe2\x80\xaf%", 4) == 0)
		return true;
	while (n + 1 < sizeof(w) &&
	       (isalpha((unsigned char)s[i + n]) || s[i + n] == '.' || s[i + n] == '\'')) {
		w[n] = (char)tolower((unsigned char)s[i + n]);
		n++;
	}
	w[n] = '\0';
	while (n > 0 && w[n - 1] == '.' && strcmp(w, "a.m.") != 0 && strcmp(w, "p.m.") != 0)
		w[--n] = '\0';
	if (n == 0 || isalpha((unsigned char)s[i + n]))
		return false;
	if (strcmp(w, "per") == 0 || strcmp(w, "pour") == 0) /* per cent, pour cent */
		return strncasecmp(s + i + n, " cent", 5) == 0 &&
		       !isalpha((unsigned char)s[i + n + 5]);
	for (size_t k = 0; nw_units[k] != NULL; k++)
		if (strcmp(w, nw_units[k]) == 0)
			return true;
	return false;
}

/* numwords_span - see numwords.h */
size_t
numwords_span(const char *s, long long *value, bool *unit)
{
	long long total = 0, current = 0, last_add = 0;
	int       lang = EN | FR, nwords = 0, last = -1; /* last: kind of the last word taken */
	size_t    i = 0, end = 0;
	bool      all_weak = true;

	*value = 0;
	*unit = false;
	while (nwords < NW_MAX_WORDS) {
		size_t           n = word_at(s + i), j;
		const struct nw *e;
		bool             ok;

		if (n == 0)
			break;
		/* A joiner counts only between two number words. */
		if (nwords > 0 && is_joiner(s + i, n, lang)) {
			j = i + n;
			while (s[j] == ' ')
				j++;
			if (word_at(s + j) == 0 || lookup(s + j, word_at(s + j)) == NULL)
				break;
			i = j;
			continue;
		}
		if ((e = lookup(s + i, n)) == NULL || (e->lang & lang) == 0)
			break;
		switch (e->k) {
		case K_UNIT:
			/* quatre-vingt comes below; dix-sept: a unit after a lone dix */
			ok = last == -1 || last == K_TENS || last == K_HUNDRED ||
			     last == K_THOUSAND || last == K_MILLION ||
			     (last == K_TEEN && last_add == 10 && (e->lang & FR));
			break;
		case K_TEEN:
			ok = last == -1 || last == K_HUNDRED || last == K_THOUSAND ||
			     last == K_MILLION || (last == K_TENS && (e->lang & FR) && e->v >= 10);
			break;
		case K_TENS:
			ok = last == -1 || last == K_HUNDRED || last == K_THOUSAND ||
			     last == K_MILLION ||
			     (last == K_UNIT && last_add == 4 && e->v == 20 && (e->lang & FR));
			break;
		case K_HUNDRED:
			ok = current % 100 == 0 ? current < 100 : current < 10;
			ok = ok && last != K_HUNDRED;
			break;
		default: /* thousand, million */
			ok = last != (int)e->k;
			break;
		}
		if (!ok)
			break;
		switch (e->k) {
		case K_UNIT:
		case K_TEEN:
			current += e->v;
			last_add = e->v;
			break;
		case K_TENS:
			if (last == K_UNIT && last_add == 4 && e->v == 20) {
				current += 80 - 4; /* quatre-vingt(s) */
				last_add = 80;
			} else {
				current += e->v;
				last_add = e->v;
			}
			break;
		case K_HUNDRED:
			current = (current == 0 ? 1 : current) * 100;
			last_add = 0;
			break;
		case K_THOUSAND:
		case K_MILLION:
			total += (current == 0 ? 1 : current) * e->v;
			if (total > NW_CAP)
				total = NW_CAP;
			current = 0;
			last_add = 0;
			break;
		}
		lang &= e->lang;
		all_weak = all_weak && e->weak;
		last = (int)e->k;
		nwords++;
		end = i + n;
		/* The next word: after spaces or one hyphen. */
		j = end;
		if (s[j] == '-')
			j++;
		else
			while (s[j] == ' ')
				j++;
		i = j;
	}
	if (nwords == 0)
		return 0;
	*value = total + current > NW_CAP ? NW_CAP : total + current;
	*unit = unit_after(s + end);
	/* "seize", "neuf", "sept", "cent", "un" alone are words more often than numbers. */
	if (all_weak && nwords == 1 && !*unit)
		return 0;
	return end;
}

/* digit_word - the digit of the word s[0..n) ('\0' if none); "oh" only after another */
static char
digit_word(const char *s, size_t n, bool first)
{
	static const char *const words[] = {
	    "zero", "0", "one",  "1", "two",   "2", "three",  "3", "four", "4",
	    "five", "5", "six",  "6", "seven", "7", "eight",  "8", "nine", "9",
	    "un",   "1", "deux", "2", "trois", "3", "quatre", "4", "cinq", "5",
	    "sept", "7", "huit", "8", "neuf",  "9", NULL,
	};

	if (!first && n == 2 && strncasecmp(s, "oh", 2) == 0)
		return '0';
	for (size_t k = 0; words[k] != NULL; k += 2)
		if (strlen(words[k]) == n && strncasecmp(words[k], s, n) == 0)
			return words[k + 1][0];
	return '\0';
}

/* numwords_digits - see numwords.h */
size_t
numwords_digits(const char *s, char *dig, size_t cap)
{
	size_t i = 0, end = 0, nd = 0;

	if (cap == 0)
		return 0;
	for (;;) {
		size_t n = word_at(s + i);
		char   d = n > 0 ? digit_word(s + i, n, nd == 0) : '\0';

		if (d == '\0')
			break;
		if (nd + 1 < cap)
			dig[nd] = d;
		nd++;
		end = i + n;
		i = end;
		if (s[i] == ',' || s[i] == '-')
			i++;
		while (s[i] == ' ')
			i++;
	}
	dig[nd + 1 < cap ? nd : cap - 1] = '\0';
	return nd >= 3 ? end : 0;
}
