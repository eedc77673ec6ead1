/*
 * emergency.h - the emergency decision: rules, then the classifier's vote
 *
 * The router runs em_check() first on every message, before the classifier
 * and before any cache (the gateway runs it too, to keep emergencies out of
 * its cache).  The rules are a table of word and phrase sets, in English
 * and French, with proximity and scopes that read meaning: a figure of
 * speech ("my swing is on fire"), a past incident ("last week someone broke
 * in"), a hypothetical or a policy question ("what if the alarm goes off"),
 * a device described like a person ("the pc died").  See emergency.c and
 * docs/emergency.md.
 *
 * The decision has three levels.  EM_SURE is an emergency (tier 3, the
 * on-call manager paged).  EM_POSSIBLE is plausible but not certain: the
 * asker gets a safety line and a question, and the team an urgent
 * notification (tier 2), so nothing plausible is dropped and nobody is
 * paged for hyperbole.  em_fuse() then weighs the classifier's vote with
 * thresholds measured on tests/eval/emergency.jsonl.  Pure and thread-safe.
 */
#ifndef CLUBOS_EMERGENCY_H
#define CLUBOS_EMERGENCY_H

enum em_level { EM_NONE = 0, EM_POSSIBLE = 1, EM_SURE = 2 };

typedef struct {
	const char *slug;  /* e.g. "emergency.water-leak" (static storage), NULL at EM_NONE */
	const char *rule;  /* short name of the rule that decided (static storage) */
	const char *guard; /* the scope that held the message back ("past", "hyperbole",
	                    * "hypothetical", "device", "joke"), or NULL */
	const char *lang;  /* "fr" when the message reads as French, else "en" */
	int         level; /* enum em_level */
} em_match;

/*
 * The rules alone: returns the level (EM_NONE, EM_POSSIBLE or EM_SURE, so
 * "if (em_check(...))" means "keep it away from any cache"), and fills in
 * out when not NULL.  Never fails: NULL, empty, huge or broken text is
 * simply not an emergency unless its first 8 KB say so.  When rules of
 * several kinds fire, the slug is chosen by severity: fire > medical >
 * security > water > power.
 */
int em_check(const char *text, em_match *out);

/*
 * The language a text reads in, by its function words: "fr", "en", or
 * NULL when it has none of either or as many of each ("ok", "911").  The
 * same reading em_check gives as lang, for a caller that needs to know
 * when the text says nothing.  Thread-safe.
 */
const char *em_language(const char *text);

/*
 * Classifier thresholds on the summed calibrated probability of the
 * emergency topics, measured with clubos-emergency-eval --sweep on
 * tests/eval/emergency.jsonl and the dev set (docs/emergency.md).  With no
 * guard, the classifier alone makes a message possible at EM_CLF_POSSIBLE
 * and sure at EM_CLF_SURE; a message the rules find possible becomes sure
 * at EM_CLF_CONFIRM (two signals agree).  A guarded message (a story, a
 * joke, a question, a device, a spill, a word a rule set aside) is left to
 * the rules: the classifier neither raises nor confirms it, since its
 * words are the very ones that fooled the classifier ("the water cooler is
 * empty" scores 0.90).
 */
#define EM_CLF_POSSIBLE 0.40
#define EM_CLF_CONFIRM 0.70
#define EM_CLF_SURE 0.80

/*
 * Combine the rules' decision in m (from em_check) with the classifier's
 * vote: prob is the calibrated probability that the message is about an
 * emergency, slug the most probable emergency topic (NULL: none).  Updates
 * m (level, and slug and rule when the classifier decided) and returns the
 * final level.  Rules never lose a level here.
 */
int em_fuse(em_match *m, double prob, const char *slug);

#endif
