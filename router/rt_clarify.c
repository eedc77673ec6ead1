/*
 * rt_clarify.c - the customer's answer to "which of these do you mean?"
 *
 * When no SOP was sure but two were close, the assistant asked which one
 * the customer meant and the conversation kept what it offered (the bot
 * turn's "offer": [{slug, title}] in the order shown).  The next message
 * picks one when it names its place ("2", "the first one", "option 1",
 * "le deuxième") or shares more of one title's words than of the other's
 * ("cancel it" after "Cancel a booking" / "Change or reschedule a
 * booking").  Anything else is a new message and is read as one.
 */
#include <stdbool.h>
#include <string.h>

#include "common/json.h"
#include "common/textnorm.h"
#include "router/rt.h"

#define PICK_MAX_WORDS 6 /* longer than this is a message of its own */
#define PICK_MAX_OPTS 4
#define STEM 5 /* words agree on their first five letters ("cancelling") */

/* Words that name a place in the list, English and French (accents folded). */
static const char *const ordinals[][8] = {
    {"1", "1st", "first", "premier", "premiere", "1er", "1re", NULL},
    {"2", "2nd", "second", "seconde", "deuxieme", "2e", "2eme", NULL},
    {"3", "3rd", "third", "troisieme", "3e", "3eme", NULL, NULL},
    {"4", "4th", "fourth", "quatrieme", "4e", "4eme", NULL, NULL},
};

/* Words that may stand around a choice without changing it. */
static const char *const filler[] = {
    "the",  "one",   "option", "number", "no",  "choice", "i",     "mean",  "meant", "it",
    "is",   "its",   "it's",   "that",   "pls", "please", "plz",   "ok",    "okay",  "yes",
    "yeah", "yep",   "thanks", "thx",    "le",  "la",     "l",     "choix", "c'est", "numero",
    "oui",  "merci", "svp",    "un",     "une", "a",      "about", "for",   "my",    NULL};

/* Words too common in titles to tell two options apart. */
static const char *const weak[] = {"with", "your", "from", "about", "what", "when", "where",
                                   "this", "that", "have", "and",   "the",  NULL};

struct words {
	char   text[512];
	size_t off[PICK_MAX_WORDS + 1], len[PICK_MAX_WORDS + 1];
	int    n;
	bool   too_many;
};

static void
collect(const char *tok, size_t len, void *arg)
{
	struct words *w = arg;

	if (w->n >= PICK_MAX_WORDS) {
		w->too_many = true;
		return;
	}
	w->off[w->n] = (size_t)(tok - w->text);
	w->len[w->n] = len;
	w->n++;
}

static bool
in_list(const char *const *list, const char *tok, size_t len)
{
	for (const char *const *l = list; *l != NULL; l++)
		if (strlen(*l) == len && memcmp(*l, tok, len) == 0)
			return true;
	return false;
}

/* ordinal - the place a word names (0-based), or -1 */
static int
ordinal(const char *tok, size_t len, int nopts)
{
	for (int i = 0; i < nopts && i < PICK_MAX_OPTS; i++)
		if (in_list(ordinals[i], tok, len))
			return i;
	return -1;
}

/* by_place - "2", "the first one": the place named, or -1 */
static int
by_place(const struct words *w, int nopts)
{
	int pick = -1;

	for (int i = 0; i < w->n; i++) {
		const char *t = w->text + w->off[i];
		int         o = ordinal(t, w->len[i], nopts);

		if (o >= 0) {
			if (pick >= 0 && pick != o)
				return -1; /* "1 or 2?" names no one */
			pick = o;
		} else if (!in_list(filler, t, w->len[i])) {
			return -1; /* "the first time I came..." is a message */
		}
	}
	return pick;
}

/* stem_eq - do two words agree on their first STEM letters (or all of a short one)? */
static bool
stem_eq(const char *a, size_t al, const char *b, size_t bl)
{
	size_t n = al < STEM ? al : STEM;

	if ((al < STEM || bl < STEM) && al != bl)
		return false;
	return memcmp(a, b, n) == 0;
}

struct title_match {
	const struct words *w;
	int                 hits;
};

static void
title_word(const char *tok, size_t len, void *arg)
{
	struct title_match *m = arg;

	if (len < 4 || in_list(weak, tok, len))
		return;
	for (int i = 0; i < m->w->n; i++)
		if (stem_eq(m->w->text + m->w->off[i], m->w->len[i], tok, len)) {
			m->hits++;
			return;
		}
}

/* by_title - the one option whose title shares the most words, or -1 */
static int
by_title(const struct words *w, const cJSON *offer, int nopts)
{
	int best = -1, best_hits = 0, tie = 0;

	for (int i = 0; i < nopts; i++) {
		char               norm[512];
		struct title_match m = {w, 0};

		tn_normalise(json_str(cJSON_GetArrayItem(offer, i), "title"), norm, sizeof(norm));
		tn_tokens(norm, title_word, &m);
		if (m.hits > best_hits) {
			best = i;
			best_hits = m.hits;
			tie = 0;
		} else if (m.hits == best_hits && m.hits > 0) {
			tie = 1;
		}
	}
	return tie ? -1 : best;
}

/* rt_clarify_pick - which option of offer msg chooses (0-based), or -1 (rt.h) */
int
rt_clarify_pick(const cJSON *offer, const char *msg)
{
	struct words w = {.n = 0};
	int          nopts = cJSON_GetArraySize(offer), pick;

	if (!cJSON_IsArray(offer) || nopts < 2 || msg == NULL)
		return -1;
	if (nopts > PICK_MAX_OPTS)
		nopts = PICK_MAX_OPTS;
	tn_normalise(msg, w.text, sizeof(w.text));
	tn_tokens(w.text, collect, &w);
	if (w.too_many || w.n == 0)
		return -1;
	if ((pick = by_place(&w, nopts)) >= 0)
		return pick;
	return by_title(&w, offer, nopts);
}
