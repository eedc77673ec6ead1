/*
 * util.c - small things every module needs
 */
#include "util.h"

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

/* util_utf8_chars - count code points; *valid false on malformed UTF-8 */
size_t
util_utf8_chars(const char *s, size_t len, bool *valid)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t               i = 0, n = 0;

	*valid = true;
	while (i < len) {
		unsigned char c = p[i];
		size_t        k;

		if (c < 0x80)
			k = 1;
		else if ((c & 0xe0) == 0xc0 && c >= 0xc2)
			k = 2;
		else if ((c & 0xf0) == 0xe0)
			k = 3;
		else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
			k = 4;
		else {
			*valid = false;
			return n;
		}
		if (i + k > len) {
			*valid = false;
			return n;
		}
		for (size_t j = 1; j < k; j++)
			if ((p[i + j] & 0xc0) != 0x80) {
				*valid = false;
				return n;
			}
		i += k;
		n++;
	}
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
