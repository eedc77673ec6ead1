/*
 * emergency.h - rule-based emergency detection
 *
 * The router runs em_check() first on every message, before the classifier
 * and before any cache: a message it flags goes straight to the emergency
 * SOP (tier 3), whatever else it says.  The rules are a table of word and
 * phrase sets with proximity and explicit guards against dramatic-but-
 * harmless phrasing ("my swing is on fire", "the screen went black");
 * see emergency.c and docs/classifier.md.  Pure and thread-safe.
 */
#ifndef CLUBOS_EMERGENCY_H
#define CLUBOS_EMERGENCY_H

typedef struct {
	const char *slug; /* e.g. "emergency.water-leak" (static storage) */
	const char *rule; /* short name of the rule that fired (static storage) */
} em_match;

/*
 * 1 = emergency (out filled in when not NULL), 0 = not (out gets NULLs).
 * Never fails: NULL, empty, huge or broken text is simply not an emergency
 * unless its first 8 KB say so.  When rules of several kinds fire the slug
 * is chosen by severity: fire > medical > security > water > power.
 */
int em_check(const char *text, em_match *out);

#endif
