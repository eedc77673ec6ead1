/*
 * util.c - small things every module needs
 */
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* util_random_hex - 2*nbytes hex digits from libsodium's random source */
void
util_random_hex(char *out, size_t nbytes)
{
	unsigned char buf[64];

	if (nbytes > sizeof(buf))
		nbytes = sizeof(buf);
	randombytes_buf(buf, nbytes);
	sodium_bin2hex(out, nbytes * 2 + 1, buf, nbytes);
}

/* util_is_hex - exactly n lowercase hex digits */
bool
util_is_hex(const char *s, size_t n)
{
	if (s == NULL || strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* util_read_file - a whole file, NUL-terminated, at most max bytes */
char *
util_read_file(const char *path, size_t max, size_t *len)
{
	FILE  *f = fopen(path, "rb");
	char  *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	if ((buf = malloc(max + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/*
 * utf8_seq - the length of the strict UTF-8 sequence at p[0..n), or 0 when
 * the bytes there are not one (overlong, surrogate, above U+10FFFF, a bad
 * continuation byte, or cut short by the end of the buffer).  The ranges
 * are those of the Unicode Standard, table 3-7.
 */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t        k;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		k = 3;
		if (c == 0xe0)
			lo = 0xa0; /* below is overlong */
		else if (c == 0xed)
			hi = 0x9f; /* above are the surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 4;
		if (c == 0xf0)
			lo = 0x90; /* below is overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above is past U+10FFFF */
	} else
		return 0; /* 80..C1 (continuation, overlong lead) and F5..FF */
	if (n < k || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t j = 2; j < k; j++)
		if ((p[j] & 0xc0) != 0x80)
			return 0;
	return k;
}

/* util_utf8_valid - is the whole buffer strict UTF-8? */
bool
util_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t               i = 0, k;

	while (i < len) {
		/* ASCII runs are the common case. */
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_seq(p + i, len - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

/* util_utf8_chars - count code points; *valid false on malformed UTF-8 */
size_t
util_utf8_chars(const char *s, size_t len, bool *valid)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t               i = 0, n = 0, k;

	*valid = true;
	while (i < len) {
		if ((k = utf8_seq(p + i, len - i)) == 0) {
			*valid = false;
			return n;
		}
		i += k;
		n++;
	}
	return n;
}

/* util_utf8_prefix - bytes of the longest whole-character prefix within both limits */
size_t
util_utf8_prefix(const char *s, size_t len, size_t max_chars, size_t max_bytes)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t               i = 0, n = 0, k;

	while (i < len && n < max_chars) {
		if ((k = utf8_seq(p + i, len - i)) == 0 || i + k > max_bytes)
			break;
		i += k;
		n++;
	}
	return i;
}

/* util_utf8_copy - copy at most max_chars whole characters that fit in cap */
size_t
util_utf8_copy(char *dst, size_t cap, const char *src, size_t max_chars)
{
	size_t n;

	if (cap == 0)
		return 0;
	n = src != NULL ? util_utf8_prefix(src, strlen(src), max_chars, cap - 1) : 0;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}

/* util_sha256_hex - hex SHA-256 of a buffer */
void
util_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

/* util_deadline_ts - clk's time ms milliseconds from now (util.h) */
struct timespec
util_deadline_ts(clockid_t clk, int64_t ms)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}
