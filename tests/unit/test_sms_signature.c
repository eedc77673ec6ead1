/*
 * test_sms_signature.c - unit tests for gateway/opsig.c
 *
 * OpenPhone's two webhook signature schemes: the Standard Webhooks test
 * vector from that specification, and signatures made here for the
 * legacy header; then every way a signature can be wrong: another key, a
 * changed body, stale and future timestamps (both edges of the 5-minute
 * window), missing and malformed headers, a bad base64, a list with one
 * good entry among bad ones, no secret.  Run by `make test`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "gateway/opsig.h"

/* The Standard Webhooks specification's published example. */
#define SW_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TS "1614265330"
#define SW_BODY "{\"test\": 2432232314}"
#define SW_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define SW_NOW 1614265330

/* verify - opsig_verify on a C string body */
static int
verify(const char *secret, const struct opsig_headers *h, const char *body, time_t now)
{
	return opsig_verify(secret, h, body, strlen(body), now);
}

static void
test_standard_vector(void **state)
{
	struct opsig_headers h = {NULL, SW_ID, SW_TS, SW_SIG};

	(void)state;
	assert_int_equal(verify(SW_SECRET, &h, SW_BODY, SW_NOW), OPSIG_OK);
	/* The same key without its prefix is the same key. */
	assert_int_equal(verify(SW_SECRET + 6, &h, SW_BODY, SW_NOW), OPSIG_OK);
	/* One character of the body, the id or the timestamp changed. */
	assert_int_equal(verify(SW_SECRET, &h, "{\"test\": 2432232315}", SW_NOW), OPSIG_BAD);
	h.id = "msg_p5jXN8AQM9LWM0D4loKWxJeK";
	assert_int_equal(verify(SW_SECRET, &h, SW_BODY, SW_NOW), OPSIG_BAD);
	h.id = SW_ID;
	h.ts = "1614265331";
	assert_int_equal(verify(SW_SECRET, &h, SW_BODY, SW_NOW), OPSIG_BAD);
}

static void
test_standard_window(void **state)
{
	struct opsig_headers h = {NULL, SW_ID, SW_TS, SW_SIG};

	(void)state;
	assert_int_equal(verify(SW_SECRET, &h, SW_BODY, SW_NOW + 300), OPSIG_OK);
	assert_int_equal(verify(SW_SECRET, &h, SW_BODY, SW_NOW + 301), OPSIG_BAD); /* stale */
	assert_int_equal(verify(SW_SECRET, &h, SW_BODY, SW_NOW - 300), OPSIG_OK);
	assert_int_equal(verify(SW_SECRET, &h, SW_BODY, SW_NOW - 301), OPSIG_BAD); /* future */
}

static void
test_standard_lists_and_junk(void **state)
{
	struct opsig_headers     h = {NULL, SW_ID, SW_TS, NULL};
	static const char *const bad[] = {
	    "",
	    "v1,",
	    "v1",
	    "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O",   /* cut short */
	    "v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", /* one bit */
	    "v1,!!!!",
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=g0hM9SsE",
	    "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h.sig = bad[i];
		assert_int_equal(verify(SW_SECRET, &h, SW_BODY, SW_NOW), OPSIG_BAD);
	}
	/* A list: any good entry passes (a key being rotated). */
	h.sig = "v1,AAAA v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
	assert_int_equal(verify(SW_SECRET, &h, SW_BODY, SW_NOW), OPSIG_OK);
	/* Missing headers, a bad timestamp. */
	h.sig = SW_SIG;
	h.id = NULL;
	assert_int_equal(verify(SW_SECRET, &h, SW_BODY, SW_NOW), OPSIG_BAD);
	h.id = SW_ID;
	h.ts = "16142653x0";
	assert_int_equal(verify(SW_SECRET, &h, SW_BODY, SW_NOW), OPSIG_BAD);
	h.ts = "-1614265330";
	assert_int_equal(verify(SW_SECRET, &h, SW_BODY, SW_NOW), OPSIG_BAD);
	h.ts = NULL;
	assert_int_equal(verify(SW_SECRET, &h, SW_BODY, SW_NOW), OPSIG_BAD);
	/* Another key. */
	h.ts = SW_TS;
	assert_int_equal(verify("whsec_bm90IHRoZSBzYW1lIGtleSBhdCBhbGw=", &h, SW_BODY, SW_NOW),
	                 OPSIG_BAD);
}

/* legacy - the legacy header for body at ts_ms, signed with the base64 key */
static void
legacy(const char *b64key, long long ts_ms, const char *body, char *out, size_t cap)
{
	unsigned char                key[64], mac[crypto_auth_hmacsha256_BYTES];
	size_t                       klen;
	char                         ts[32], sig[64];
	crypto_auth_hmacsha256_state st;

	assert_int_equal(sodium_base642bin(key, sizeof(key), b64key, strlen(b64key), NULL, &klen,
	                                   NULL, sodium_base64_VARIANT_ORIGINAL),
	                 0);
	snprintf(ts, sizeof(ts), "%lld", ts_ms);
	crypto_auth_hmacsha256_init(&st, key, klen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(sig, sizeof(sig), mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, cap, "hmac;1;%s;%s", ts, sig);
}

#define L_KEY "c2VjcmV0LWtleS1mb3ItdGhlLWxlZ2FjeS1zY2hlbWU="
#define L_BODY "{\"id\":\"EV1\",\"type\":\"message.received\"}"
#define L_NOW 1764700000

static void
test_legacy(void **state)
{
	char                 hdr[200];
	struct opsig_headers h = {hdr, NULL, NULL, NULL};

	(void)state;
	legacy(L_KEY, (long long)L_NOW * 1000 + 123, L_BODY, hdr, sizeof(hdr));
	assert_int_equal(verify(L_KEY, &h, L_BODY, L_NOW), OPSIG_OK);
	assert_int_equal(verify(L_KEY, &h, L_BODY "x", L_NOW), OPSIG_BAD);
	assert_int_equal(verify("b3RoZXIta2V5", &h, L_BODY, L_NOW), OPSIG_BAD);
	/* The window, both ways. */
	assert_int_equal(verify(L_KEY, &h, L_BODY, L_NOW + 300), OPSIG_OK);
	assert_int_equal(verify(L_KEY, &h, L_BODY, L_NOW + 301), OPSIG_BAD);
	assert_int_equal(verify(L_KEY, &h, L_BODY, L_NOW - 301), OPSIG_BAD);
	/* Malformed headers. */
	h.legacy = "hmac;1;;";
	assert_int_equal(verify(L_KEY, &h, L_BODY, L_NOW), OPSIG_BAD);
	h.legacy = "hmac;2;1764700000123;AAAA";
	assert_int_equal(verify(L_KEY, &h, L_BODY, L_NOW), OPSIG_BAD);
	h.legacy = "";
	assert_int_equal(verify(L_KEY, &h, L_BODY, L_NOW), OPSIG_BAD);
	h.legacy = "hmac;1;1764700000123";
	assert_int_equal(verify(L_KEY, &h, L_BODY, L_NOW), OPSIG_BAD);
	/* A bad legacy header does not hide a good standard one. */
	{
		struct opsig_headers both = {"hmac;1;0;AAAA", SW_ID, SW_TS, SW_SIG};

		assert_int_equal(verify(SW_SECRET, &both, SW_BODY, SW_NOW), OPSIG_OK);
	}
}

static void
test_no_secret(void **state)
{
	struct opsig_headers h = {NULL, SW_ID, SW_TS, SW_SIG};

	(void)state;
	assert_int_equal(verify("", &h, SW_BODY, SW_NOW), OPSIG_NO_SECRET);
	assert_int_equal(verify(NULL, &h, SW_BODY, SW_NOW), OPSIG_NO_SECRET);
	assert_int_equal(verify("whsec_***", &h, SW_BODY, SW_NOW), OPSIG_NO_SECRET);
	/* No headers at all. */
	h = (struct opsig_headers){NULL, NULL, NULL, NULL};
	assert_int_equal(verify(SW_SECRET, &h, SW_BODY, SW_NOW), OPSIG_BAD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_standard_vector),
	    cmocka_unit_test(test_standard_window),
	    cmocka_unit_test(test_standard_lists_and_junk),
	    cmocka_unit_test(test_legacy),
	    cmocka_unit_test(test_no_secret),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
