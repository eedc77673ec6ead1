/*
 * diff.h - unified diffs of two texts, line by line
 *
 * The intelligence service writes a proposed SOP change as the unified
 * diff of the current text and the proposed one, so that an admin can read
 * it before approving; the gateway shows it as it is.  The output is what
 * GNU `diff -u` prints (hunk headers, context, the "\ No newline at end of
 * file" marker), with "--- a/<name>" and "+++ b/<name>" headers and no
 * timestamps.
 */
#ifndef CLUBOS_DIFF_H
#define CLUBOS_DIFF_H

/*
 * Work (diagonal steps and line comparisons) spent looking for a minimal
 * diff before the part still unsolved is shown as deleted and added again.
 * It bounds the time to some tens of milliseconds whatever the input.
 */
#define DIFF_MAX_WORK 20000000LL

/*
 * diff_unified - the unified diff turning a into b, with context lines of
 * context (3 is usual; a negative value counts as 0), headers
 * "--- a/<name>" and "+++ b/<name>".  Lines end at '\n'; '\r' is an
 * ordinary character.  Returns a malloc'd NUL-terminated string ("" when
 * a and b are equal), or NULL when out of memory.
 */
char *diff_unified(const char *a, const char *b, const char *name, int context);

#endif
