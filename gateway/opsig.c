/*
 * opsig.c - OpenPhone's webhook signatures (see opsig.h)
 *
 * Called by the webhook handler (webhook_openphone.c) before anything is
 * read from the body.  Every comparison of a computed MAC with a received
 * one is constant-time (sodium_memcmp over the raw bytes); the key and
 * the MACs are wiped before returning.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gateway/opsig.h"

#define OPSIG_KEY_MAX 256
#define OPSIG_MAC crypto_auth_hmacsha256_BYTES

/* b64_decode - standard base64, padded or not, into out; its length or -1 */
static int
b64_decode(const char *s, size_t len, unsigned char *out, size_t cap)
{
	size_t n;

	if (sodium_base642bin(out, cap, s, len, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) ==
	        0 ||
	    sodium_base642bin(out, cap, s, len, NULL, &n, NULL,
	                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING) == 0)
		return (int)n;
	return -1;
}

/* digits - a decimal number of 1..15 digits, nothing else; -1 if not */
static long long
digits(const char *s, size_t len)
{
	long long v = 0;

	if (len == 0 || len > 15)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* mac - HMAC-SHA256 of the parts a, b (may be NULL) and body, under key */
static void
mac(const unsigned char *key, size_t klen, const char *a, size_t alen, const char *b, size_t blen,
    const char *body, size_t len, unsigned char out[OPSIG_MAC])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, klen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)a, alen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	if (b != NULL) {
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)b, blen);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	}
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

/* same_mac - a received base64 MAC equals want (constant-time) */
static bool
same_mac(const char *b64, size_t len, const unsigned char want[OPSIG_MAC])
{
	unsigned char got[OPSIG_MAC + 8];
	bool          ok;

	if (len == 0 || len > 64 || b64_decode(b64, len, got, sizeof(got)) != OPSIG_MAC)
		return false;
	ok = sodium_memcmp(got, want, OPSIG_MAC) == 0;
	sodium_memzero(got, sizeof(got));
	return ok;
}

/* recent - a timestamp in seconds within the window of now */
static bool
recent(long long t, time_t now)
{
	long long d = (long long)now - t;

	return t > 0 && d <= OPSIG_WINDOW_S && d >= -OPSIG_WINDOW_S;
}

/* legacy_ok - "hmac;1;<ts ms>;<b64>" */
static bool
legacy_ok(const unsigned char *key, size_t klen, const char *h, const char *body, size_t len,
          time_t now)
{
	const char   *ts, *sig, *end;
	long long     t;
	unsigned char want[OPSIG_MAC];
	bool          ok;

	if (strncmp(h, "hmac;1;", 7) != 0)
		return false;
	ts = h + 7;
	if ((end = strchr(ts, ';')) == NULL || (t = digits(ts, (size_t)(end - ts))) < 0 ||
	    !recent(t / 1000, now))
		return false;
	sig = end + 1;
	mac(key, klen, ts, (size_t)(end - ts), NULL, 0, body, len, want);
	ok = same_mac(sig, strlen(sig), want);
	sodium_memzero(want, sizeof(want));
	return ok;
}

/* standard_ok - webhook-id, webhook-timestamp, webhook-signature "v1,<b64> ..." */
static bool
standard_ok(const unsigned char *key, size_t klen, const struct opsig_headers *h, const char *body,
            size_t len, time_t now)
{
	unsigned char want[OPSIG_MAC];
	long long     t;
	bool          ok = false;
	const char   *s;

	if (h->id == NULL || h->ts == NULL || h->sig == NULL || *h->id == '\0' ||
	    strlen(h->id) > 256 || strchr(h->id, '.') != NULL ||
	    (t = digits(h->ts, strlen(h->ts))) < 0 || !recent(t, now))
		return false;
	mac(key, klen, h->id, strlen(h->id), h->ts, strlen(h->ts), body, len, want);
	/* Any one of the listed signatures may match (a key being rotated). */
	for (s = h->sig; *s != '\0' && !ok;) {
		size_t n = strcspn(s, " ");

		if (n > 3 && strncmp(s, "v1,", 3) == 0)
			ok = same_mac(s + 3, n - 3, want);
		s += n;
		s += strspn(s, " ");
	}
	sodium_memzero(want, sizeof(want));
	return ok;
}

/* opsig_verify - either scheme; see opsig.h */
int
opsig_verify(const char *secret, const struct opsig_headers *h, const char *body, size_t len,
             time_t now)
{
	unsigned char key[OPSIG_KEY_MAX];
	int           klen;
	bool          ok = false;

	if (secret == NULL || *secret == '\0')
		return OPSIG_NO_SECRET;
	if (strncmp(secret, "whsec_", 6) == 0)
		secret += 6;
	if ((klen = b64_decode(secret, strlen(secret), key, sizeof(key))) <= 0)
		return OPSIG_NO_SECRET; /* a secret we cannot use is no secret */
	if (h->legacy != NULL)
		ok = legacy_ok(key, (size_t)klen, h->legacy, body, len, now);
	if (!ok && (h->id != NULL || h->sig != NULL))
		ok = standard_ok(key, (size_t)klen, h, body, len, now);
	sodium_memzero(key, sizeof(key));
	return ok ? OPSIG_OK : OPSIG_BAD;
}
