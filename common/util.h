/*
 * util.h - small things every module needs
 */
#ifndef CLUBOS_UTIL_H
#define CLUBOS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

void util_random_hex(char *out, size_t nbytes);
/* util_deadline_ts - clk's time ms milliseconds from now, for pthread_cond_timedwait */
struct timespec util_deadline_ts(clockid_t clk, int64_t ms);
bool            util_is_hex(const char *s, size_t n);
char           *util_read_file(const char *path, size_t max, size_t *len);

/*
 * Text from outside (HTTP bodies, paths, provider answers) is strict UTF-8
 * (RFC 3629, Unicode table 3-7): no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.
 *
 * util_utf8_valid - true when s[0..len) is strict UTF-8 throughout.
 * util_utf8_chars - the number of code points in s[0..len); *valid tells
 *                   whether all of it was strict UTF-8 (the count then
 *                   stops at the first bad byte).
 * util_utf8_prefix - the byte length of the longest prefix of s[0..len)
 *                   with at most max_chars code points and at most
 *                   max_bytes bytes that ends on a character boundary
 *                   (and before any invalid byte).
 * util_utf8_copy  - copy that prefix of src (at most max_chars characters,
 *                   at most cap-1 bytes) into dst and NUL-terminate it;
 *                   returns the bytes copied.  Never cuts a character.
 */
bool   util_utf8_valid(const char *s, size_t len);
size_t util_utf8_chars(const char *s, size_t len, bool *valid);
size_t util_utf8_prefix(const char *s, size_t len, size_t max_chars, size_t max_bytes);
size_t util_utf8_copy(char *dst, size_t cap, const char *src, size_t max_chars);
void   util_sha256_hex(const void *data, size_t len, char out[65]);

#endif
