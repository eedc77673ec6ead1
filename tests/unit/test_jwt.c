/*
 * test_jwt.c - unit tests for common/jwt.c: HS256 tokens (known answers,
 * round trips, every refusal reason, fuzzing), argon2id password hashes
 * and random hex ids.  Run by `make test`; its own main.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/jwt.h"

static const unsigned char test_key[] = "clubos-test-key-0123456789abcdef";
#define TEST_KEYLEN (sizeof(test_key) - 1)

/* Computed independently (Python hmac/base64) from the claims below. */
static const char golden_token[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiI0MiIsInJvbGUiOiJhZG1pbiIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjox"
    "NzAwMDAzNjAwLCJqdGkiOiIwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZiJ9."
    "XL_ianDh5GFS_Pn5w0XRvWj5YauLrFg3K_kKeQqCdZ0";

/* golden_claims - the claims behind golden_token. */
static jwt_claims
golden_claims(void)
{
	jwt_claims c;

	memset(&c, 0, sizeof(c));
	strcpy(c.sub, "42");
	strcpy(c.role, "admin");
	c.iat = 1700000000;
	c.exp = 1700003600;
	strcpy(c.jti, "0123456789abcdef0123456789abcdef");
	return c;
}

/* b64 - append base64url(no padding) of s[0..n) to out at *pos. */
static void
b64(char *out, size_t cap, size_t *pos, const void *s, size_t n)
{
	size_t need = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);

	assert_true(*pos + need <= cap);
	sodium_bin2base64(out + *pos, cap - *pos, s, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	*pos += need - 1;
}

/*
 * mk_token - a token with arbitrary header and payload bytes, correctly
 * signed with key (so the checks after the signature get exercised).
 */
static void
mk_token(const unsigned char *key, size_t keylen, const char *hdr, size_t hlen, const char *pay,
         size_t plen, char *out, size_t cap)
{
	crypto_auth_hmacsha256_state st;
	unsigned char                mac[32];
	size_t                       pos = 0;

	b64(out, cap, &pos, hdr, hlen);
	out[pos++] = '.';
	b64(out, cap, &pos, pay, plen);
	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)out, pos);
	crypto_auth_hmacsha256_final(&st, mac);
	out[pos++] = '.';
	b64(out, cap, &pos, mac, sizeof(mac));
}

/* mk_json - mk_token with NUL-terminated header and payload. */
static void
mk_json(const char *hdr, const char *pay, char *out, size_t cap)
{
	mk_token(test_key, TEST_KEYLEN, hdr, strlen(hdr), pay, strlen(pay), out, cap);
}

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* expect - verify tok at now and check the reason (NULL = valid). */
static void
expect(const char *tok, int64_t now, const char *reason)
{
	jwt_claims  c;
	const char *why = "unset";
	int         rc = jwt_verify(test_key, TEST_KEYLEN, tok, now, &c, &why);

	if (reason == NULL) {
		if (rc != 0)
			fail_msg("expected valid, got %s for %.80s", why, tok);
		assert_null(why);
	} else {
		if (rc != -1 || why == NULL || strcmp(why, reason) != 0)
			fail_msg("expected %s, got rc=%d why=%s for %.80s", reason, rc,
			         why ? why : "(null)", tok);
		assert_string_equal(c.sub, "");
		assert_string_equal(c.role, "");
	}
}

/* test_golden - signing known claims gives the known token. */
static void
test_golden(void **state)
{
	jwt_claims  c = golden_claims(), got;
	char        tok[JWT_BUF_LEN];
	const char *why;

	(void)state;
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &c, tok, sizeof(tok)), 0);
	assert_string_equal(tok, golden_token);
	assert_int_equal(jwt_verify(test_key, TEST_KEYLEN, golden_token, 1700000001, &got, &why),
	                 0);
	assert_memory_equal(&got, &c, sizeof(c));
}

/*
 * test_rfc7515 - RFC 7515 appendix A.1 (HS256, 64-byte key): the
 * signature must pass, so the refusal is about its claims, not the HMAC.
 */
static void
test_rfc7515(void **state)
{
	static const char k64[] = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T"
	                          "-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
	static const char tok[] = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
	                          "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
	                          "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
	                          "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	unsigned char     key[64];
	size_t            keylen;
	const char       *why;

	(void)state;
	assert_int_equal(sodium_base642bin(key, sizeof(key), k64, strlen(k64), NULL, &keylen, NULL,
	                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	                 0);
	assert_int_equal(keylen, 64);
	assert_int_equal(jwt_verify(key, keylen, tok, 1300819379, NULL, &why), -1);
	assert_string_equal(why, "bad_claims");
	key[0] ^= 1;
	assert_int_equal(jwt_verify(key, keylen, tok, 1300819379, NULL, &why), -1);
	assert_string_equal(why, "bad_signature");
}

/* test_roundtrip - every role, random jti, odd key lengths. */
static void
test_roundtrip(void **state)
{
	static const char *roles[] = {"admin", "operator", "support", "kiosk", "customer"};
	unsigned char      longkey[200];
	char               tok[JWT_BUF_LEN];
	jwt_claims         c, got;
	size_t             i;

	(void)state;
	randombytes_buf(longkey, sizeof(longkey));
	for (i = 0; i < 5; i++) {
		size_t kl = i == 0 ? 1 : i * 40;

		memset(&c, 0, sizeof(c));
		snprintf(c.sub, sizeof(c.sub), "%zu", 1000 + i);
		strcpy(c.role, roles[i]);
		c.iat = 1700000000;
		c.exp = c.iat + 3600;
		if (i != 3)
			assert_int_equal(jwt_random_hex(c.jti, 16), 0);
		assert_int_equal(jwt_sign(longkey, kl, &c, tok, sizeof(tok)), 0);
		assert_true(strlen(tok) < JWT_BUF_LEN);
		assert_int_equal(jwt_verify(longkey, kl, tok, c.iat, &got, NULL), 0);
		assert_memory_equal(&got, &c, sizeof(c));
	}

	/* Largest claims: 63-byte sub, 32-char jti, 2^53 exp (checked just
	 * before it, since iat and nbf may not lie in the future). */
	memset(&c, 0, sizeof(c));
	memset(c.sub, '7', 63);
	strcpy(c.role, "customer");
	c.iat = 9007199254740992LL;
	c.nbf = 9007199254740992LL;
	c.exp = 9007199254740992LL;
	assert_int_equal(jwt_random_hex(c.jti, 16), 0);
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &c, tok, sizeof(tok)), 0);
	assert_int_equal(jwt_verify(test_key, TEST_KEYLEN, tok, c.exp - 1, &got, NULL), 0);
	assert_memory_equal(&got, &c, sizeof(c));
}

/* test_expired - now >= exp is refused, now < exp passes. */
static void
test_expired(void **state)
{
	jwt_claims c = golden_claims();
	char       tok[JWT_BUF_LEN];

	(void)state;
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &c, tok, sizeof(tok)), 0);
	expect(tok, c.exp - 1, NULL);
	expect(tok, c.exp, "expired");
	expect(tok, c.exp + 86400, "expired");
}

/* test_not_yet_valid - nbf and iat in the future, beyond the skew, are refused. */
static void
test_not_yet_valid(void **state)
{
	jwt_claims  c = golden_claims();
	jwt_claims  out;
	char        tok[JWT_BUF_LEN];
	const char *why;

	(void)state;
	/* nbf: valid from nbf - skew on, not a second before. */
	c.nbf = c.iat + 600;
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &c, tok, sizeof(tok)), 0);
	expect(tok, c.iat, "not_yet_valid");
	expect(tok, c.nbf - JWT_CLOCK_SKEW - 1, "not_yet_valid");
	expect(tok, c.nbf - JWT_CLOCK_SKEW, NULL);
	expect(tok, c.nbf, NULL);
	assert_int_equal(jwt_verify(test_key, TEST_KEYLEN, tok, c.nbf, &out, &why), 0);
	assert_int_equal(out.nbf, c.nbf);

	/* iat: a token issued in the future (a forged or skewed clock). */
	c = golden_claims();
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &c, tok, sizeof(tok)), 0);
	expect(tok, c.iat - JWT_CLOCK_SKEW - 1, "not_yet_valid");
	expect(tok, c.iat - JWT_CLOCK_SKEW, NULL);
	expect(tok, c.iat - 3600, "not_yet_valid");

	/* Expiry is checked first: an expired token says so. */
	c.nbf = c.exp + 100;
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &c, tok, sizeof(tok)), 0);
	expect(tok, c.exp, "expired");

	/* nbf must be an integer, once. */
	{
		char t2[JWT_BUF_LEN];

		mk_json(HS256,
		        "{\"sub\":\"1\",\"role\":\"admin\",\"exp\":1700003600,\"nbf\":\"soon\"}",
		        t2, sizeof(t2));
		expect(t2, 1700000000, "bad_claims");
		mk_json(HS256,
		        "{\"sub\":\"1\",\"role\":\"admin\",\"exp\":1700003600,\"nbf\":1,"
		        "\"nbf\":2}",
		        t2, sizeof(t2));
		expect(t2, 1700000000, "bad_claims");
		mk_json(HS256, "{\"sub\":\"1\",\"role\":\"admin\",\"exp\":1700003600,\"nbf\":1.5}",
		        t2, sizeof(t2));
		expect(t2, 1700000000, "bad_claims");
	}
}

/* test_tampered - changed payload or signature, wrong key. */
static void
test_tampered(void **state)
{
	jwt_claims  c = golden_claims();
	char        tok[JWT_BUF_LEN], forged[JWT_BUF_LEN + 8], other[JWT_BUF_LEN];
	char       *d1, *d2, *o1, *o2;
	const char *why;
	size_t      i, n;

	(void)state;
	strcpy(c.role, "customer");
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &c, tok, sizeof(tok)), 0);

	/* Promote to admin: take the payload of an admin token, keep sig. */
	strcpy(c.role, "admin");
	assert_int_equal(jwt_sign((const unsigned char *)"other", 5, &c, other, sizeof(other)), 0);
	d1 = strchr(tok, '.');
	d2 = strchr(d1 + 1, '.');
	o1 = strchr(other, '.');
	o2 = strchr(o1 + 1, '.');
	n = 0;
	memcpy(forged, tok, (size_t)(d1 - tok));
	n += (size_t)(d1 - tok);
	memcpy(forged + n, o1, (size_t)(o2 - o1));
	n += (size_t)(o2 - o1);
	strcpy(forged + n, d2);
	expect(forged, c.iat, "bad_signature");

	/* Every single-character change of the signature. */
	n = strlen(tok);
	for (i = (size_t)(d2 - tok) + 1; i < n; i++) {
		strcpy(forged, tok);
		forged[i] = forged[i] == 'A' ? 'B' : 'A';
		expect(forged, c.iat, "bad_signature");
	}
	/* High bytes: libsodium 1.0.18 alone would read them as '_'. */
	strcpy(forged, golden_token);
	n = strlen(forged);
	for (i = 0; i < n; i++) {
		if (forged[i] == '_') {
			forged[i] = (char)0xdf;
			expect(forged, 1700000001, "bad_signature");
			forged[i] = '_';
		}
	}
	n = strlen(tok);
	/* Signature cut short, extended, or missing. */
	strcpy(forged, tok);
	forged[n - 1] = '\0';
	expect(forged, c.iat, "bad_signature");
	snprintf(forged, sizeof(forged), "%sAAAA", tok);
	expect(forged, c.iat, "bad_signature");
	strcpy(forged, tok);
	forged[d2 - tok + 1] = '\0';
	expect(forged, c.iat, "bad_signature");

	/* Wrong key, a key that is a prefix of the right one, no key. */
	assert_int_equal(jwt_verify((const unsigned char *)"wrong", 5, tok, c.iat, NULL, &why), -1);
	assert_string_equal(why, "bad_signature");
	assert_int_equal(jwt_verify(test_key, TEST_KEYLEN - 1, tok, c.iat, NULL, &why), -1);
	assert_string_equal(why, "bad_signature");
	assert_int_equal(jwt_verify(NULL, 0, tok, c.iat, NULL, &why), -1);
	assert_string_equal(why, "bad_key");
	assert_int_equal(jwt_verify(test_key, 0, tok, c.iat, NULL, &why), -1);
	assert_string_equal(why, "bad_key");
}

/* test_alg - only exactly HS256 is accepted; "none" never. */
static void
test_alg(void **state)
{
	static const char *bad[] = {
	    "{\"alg\":\"none\",\"typ\":\"JWT\"}",
	    "{\"alg\":\"None\"}",
	    "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
	    "{\"alg\":\"RS256\"}",
	    "{\"alg\":\"hs256\"}",
	    "{\"alg\":\"HS256 \"}",
	    "{\"alg\":null}",
	    "{\"alg\":256}",
	    "{\"alg\":[\"HS256\"]}",
	    "{\"typ\":\"JWT\"}",
	    "{}",
	    "{\"alg\":\"HS256\",\"alg\":\"none\"}",
	    "{\"alg\":\"none\",\"alg\":\"HS256\"}",
	};
	static const char pay[] = "{\"sub\":\"1\",\"role\":\"admin\",\"exp\":2000000000}";
	char              tok[JWT_BUF_LEN];
	size_t            i, pos;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Correctly signed with our key, and with no signature. */
		mk_json(bad[i], pay, tok, sizeof(tok));
		expect(tok, 1, "bad_alg");
		*strrchr(tok, '.') = '\0';
		strcat(tok, ".");
		expect(tok, 1, "bad_alg");
	}
	/* The classic unsigned token, built by hand. */
	pos = 0;
	b64(tok, sizeof(tok), &pos, "{\"alg\":\"none\"}", 14);
	tok[pos++] = '.';
	b64(tok, sizeof(tok), &pos, pay, strlen(pay));
	tok[pos++] = '.';
	tok[pos] = '\0';
	expect(tok, 1, "bad_alg");

	/* The header alone may be odd in other ways. */
	mk_json("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", pay, tok, sizeof(tok));
	expect(tok, 1, "malformed");
	mk_json("{\"alg\":\"HS256\",\"typ\":\"JWS\"}", pay, tok, sizeof(tok));
	expect(tok, 1, "malformed");
	mk_json("{\"alg\":\"HS256\",\"typ\":7}", pay, tok, sizeof(tok));
	expect(tok, 1, "malformed");
	mk_json("{\"alg\":\"HS256\"}", pay, tok, sizeof(tok));
	expect(tok, 1, NULL);
	mk_json("{\"typ\":\"jwt\",\"alg\":\"HS256\",\"kid\":\"x\"}", pay, tok, sizeof(tok));
	expect(tok, 1, NULL);
	mk_json("[\"HS256\"]", pay, tok, sizeof(tok));
	expect(tok, 1, "malformed");
	mk_json("not json", pay, tok, sizeof(tok));
	expect(tok, 1, "malformed");
}

/* test_claims - correctly signed tokens with unacceptable claims. */
static void
test_claims(void **state)
{
	static const struct {
		const char *pay;
		const char *why;
	} cases[] = {
	    {"{\"sub\":\"1\",\"role\":\"admin\",\"exp\":2000000000}", NULL},
	    {"{\"sub\":\"1\",\"role\":\"admin\",\"exp\":2000000000,"
	     "\"iat\":1,\"jti\":\"ab\",\"extra\":{\"x\":[1,2]}}",
	     NULL},
	    {"{\"sub\":\"1\",\"role\":\"admin\"}", "bad_claims"},
	    {"{\"sub\":\"1\",\"role\":\"admin\",\"exp\":\"2000000000\"}", "bad_claims"},
	    {"{\"sub\":\"1\",\"role\":\"admin\",\"exp\":2000000000.5}", "bad_claims"},
	    {"{\"sub\":\"1\",\"role\":\"admin\",\"exp\":1e300}", "bad_claims"},
	    {"{\"sub\":\"1\",\"role\":\"admin\",\"exp\":-5}", "bad_claims"},
	    {"{\"sub\":\"1\",\"role\":\"admin\",\"exp\":0}", "bad_claims"},
	    {"{\"sub\":\"1\",\"role\":\"root\",\"exp\":2000000000}", "bad_claims"},
	    {"{\"sub\":\"1\",\"role\":\"Admin\",\"exp\":2000000000}", "bad_claims"},
	    {"{\"sub\":\"1\",\"exp\":2000000000}", "bad_claims"},
	    {"{\"sub\":\"\",\"role\":\"admin\",\"exp\":2000000000}", "bad_claims"},
	    {"{\"sub\":1,\"role\":\"admin\",\"exp\":2000000000}", "bad_claims"},
	    {"{\"sub\":\"a b\",\"role\":\"admin\",\"exp\":2000000000}", "bad_claims"},
	    {"{\"role\":\"admin\",\"exp\":2000000000}", "bad_claims"},
	    {"{\"sub\":\"1\",\"role\":\"customer\",\"role\":\"admin\","
	     "\"exp\":2000000000}",
	     "bad_claims"},
	    {"{\"sub\":\"1\",\"role\":\"admin\",\"exp\":2000000000,"
	     "\"exp\":2100000000}",
	     "bad_claims"},
	    {"{\"sub\":\"1\",\"role\":\"admin\",\"exp\":2000000000,"
	     "\"iat\":\"x\"}",
	     "bad_claims"},
	    {"{\"sub\":\"1\",\"role\":\"admin\",\"exp\":2000000000,"
	     "\"jti\":\"not hex\"}",
	     "bad_claims"},
	    {"{\"sub\":\"1\",\"role\":\"admin\",\"exp\":2000000000,"
	     "\"jti\":\"0123456789abcdef0123456789abcdef0\"}",
	     "bad_claims"},
	    {"{\"sub\":\"1\",\"role\":\"admin\",\"exp\":1000}", "expired"},
	    {"[]", "malformed"},
	    {"\"x\"", "malformed"},
	    {"{\"sub\":\"1\",\"role\":\"admin\",\"exp\":2000000000} x", "malformed"},
	    {"{\"sub\":", "malformed"},
	    {"", "malformed"},
	};
	char   tok[JWT_BUF_LEN], pay[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mk_json(HS256, cases[i].pay, tok, sizeof(tok));
		expect(tok, 1700000000, cases[i].why);
	}

	/* 64-byte sub does not fit; 63 does. */
	snprintf(pay, sizeof(pay),
	         "{\"sub\":\"%064d\",\"role\":\"kiosk\","
	         "\"exp\":2000000000}",
	         1);
	mk_json(HS256, pay, tok, sizeof(tok));
	expect(tok, 1, "bad_claims");
	snprintf(pay, sizeof(pay),
	         "{\"sub\":\"%063d\",\"role\":\"kiosk\","
	         "\"exp\":2000000000}",
	         1);
	mk_json(HS256, pay, tok, sizeof(tok));
	expect(tok, 1, NULL);

	/* A NUL inside the signed payload must not hide what follows. */
	{
		static const char p[] = "{\"sub\":\"1\",\"role\":\"admin\","
		                        "\"exp\":2000000000}\0garbage";

		mk_token(test_key, TEST_KEYLEN, HS256, strlen(HS256), p, sizeof(p) - 1, tok,
		         sizeof(tok));
		expect(tok, 1, "malformed");
	}
}

/* test_sign_refuses - jwt_sign checks its claims and its buffer. */
static void
test_sign_refuses(void **state)
{
	jwt_claims c = golden_claims(), bad;
	char       tok[JWT_BUF_LEN];
	size_t     need;

	(void)state;
	bad = c;
	strcpy(bad.role, "root");
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &bad, tok, sizeof(tok)), -1);
	assert_string_equal(tok, "");
	bad = c;
	bad.sub[0] = '\0';
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &bad, tok, sizeof(tok)), -1);
	bad = c;
	memset(bad.sub, '1', sizeof(bad.sub)); /* no NUL */
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &bad, tok, sizeof(tok)), -1);
	bad = c;
	bad.exp = 0;
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &bad, tok, sizeof(tok)), -1);
	bad = c;
	strcpy(bad.jti, "\"},\"role\":\"admin");
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &bad, tok, sizeof(tok)), -1);
	assert_int_equal(jwt_sign(NULL, 0, &c, tok, sizeof(tok)), -1);
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, NULL, tok, sizeof(tok)), -1);
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &c, NULL, 100), -1);

	/* Exactly enough room works; one byte less fails cleanly. */
	need = strlen(golden_token) + 1;
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &c, tok, need), 0);
	assert_string_equal(tok, golden_token);
	memset(tok, 'x', sizeof(tok));
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &c, tok, need - 1), -1);
	assert_string_equal(tok, "");
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &c, tok, 1), -1);
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &c, tok, 0), -1);
}

/* test_garbage - shapes that are not tokens at all. */
static void
test_garbage(void **state)
{
	static const char *bad[] = {
	    "",
	    ".",
	    "..",
	    "...",
	    "a",
	    "a.b",
	    "a.b.c.d",
	    ".b.c",
	    "a..c",
	    "abc.def.ghi",
	    "eyJhbGciOiJIUzI1NiJ9",
	    "eyJhbGciOiJIUzI1NiJ9..",
	    "a b.c.d",
	    "====.====.====",
	    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9=.e30.AAAA",
	    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\n.e30.AAAA",
	    "Bearer eyJhbGciOiJIUzI1NiJ9.e30.AAAA",
	};
	char       *huge;
	size_t      i;
	const char *why = NULL;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect(bad[i], 1, "malformed");
	/* A good header and no signature: the signature is what is wrong. */
	expect("eyJhbGciOiJIUzI1NiJ9.eyJ9.", 1, "bad_signature");
	assert_int_equal(jwt_verify(test_key, TEST_KEYLEN, NULL, 1, NULL, &why), -1);
	assert_string_equal(why, "malformed");
	assert_int_equal(jwt_verify(test_key, TEST_KEYLEN, "", 1, NULL, NULL), -1);

	/* Over JWT_MAX_LEN: refused before any parsing, even if signed. */
	huge = malloc(1 << 20);
	assert_non_null(huge);
	{
		char pay[4000];

		snprintf(pay, sizeof(pay),
		         "{\"sub\":\"1\",\"role\":\"admin\","
		         "\"exp\":2000000000,\"pad\":\"%03000d\"}",
		         0);
		mk_json(HS256, pay, huge, 1 << 20);
		assert_true(strlen(huge) > JWT_MAX_LEN);
		expect(huge, 1, "malformed");
	}
	memset(huge, 'A', (1 << 20) - 1);
	huge[(1 << 20) - 1] = '\0';
	huge[1000] = '.';
	huge[2000] = '.';
	expect(huge, 1, "malformed");
	huge[JWT_MAX_LEN] = '\0';
	expect(huge, 1, "malformed");
	free(huge);
}

/* fuzz_one - jwt_verify on s must answer sanely, whatever s is. */
static void
fuzz_one(const char *s, int64_t now)
{
	jwt_claims  c;
	const char *why = NULL;
	int         rc = jwt_verify(test_key, TEST_KEYLEN, s, now, &c, &why);

	assert_true(rc == 0 || rc == -1);
	if (rc == 0) {
		assert_null(why);
		assert_true(jwt_role_known(c.role));
		assert_true(c.sub[0] != '\0');
		assert_true(now < c.exp);
	} else {
		assert_non_null(why);
	}
}

/* test_fuzz - random bytes, truncations, mutations and signed junk. */
static void
test_fuzz(void **state)
{
	static const char json_alpha[] = "{}[]\":,0123456789.-+eE \\utrfalsn"
	                                 "subroleexpiatjti";
	static const char b64_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
	                                "klmnopqrstuvwxyz0123456789-_.";
	jwt_claims        c = golden_claims();
	char              tok[JWT_BUF_LEN], buf[JWT_BUF_LEN * 2], pay[512];
	size_t            i, n, len, k;
	int               valid = 0;

	(void)state;
	assert_int_equal(jwt_sign(test_key, TEST_KEYLEN, &c, tok, sizeof(tok)), 0);
	len = strlen(tok);

	/* Every truncation of a valid token. */
	for (n = 0; n < len; n++) {
		memcpy(buf, tok, n);
		buf[n] = '\0';
		fuzz_one(buf, c.iat);
		assert_int_equal(jwt_verify(test_key, TEST_KEYLEN, buf, c.iat, NULL, NULL), -1);
	}

	for (i = 0; i < 4000; i++) {
		/* Raw random bytes (any value but NUL). */
		n = randombytes_uniform(sizeof(buf) - 1);
		randombytes_buf(buf, n);
		for (k = 0; k < n; k++)
			if (buf[k] == '\0')
				buf[k] = '.';
		buf[n] = '\0';
		fuzz_one(buf, c.iat);

		/* Random base64url-ish text with dots. */
		n = randombytes_uniform(600);
		for (k = 0; k < n; k++)
			buf[k] = b64_alpha[randombytes_uniform(sizeof(b64_alpha) - 1)];
		buf[n] = '\0';
		fuzz_one(buf, c.iat);

		/* A valid token with 1..4 random byte changes. */
		strcpy(buf, tok);
		for (k = 1 + randombytes_uniform(4); k > 0; k--)
			buf[randombytes_uniform((uint32_t)len)] =
			    (char)(1 + randombytes_uniform(255));
		fuzz_one(buf, c.iat);
		if (strcmp(buf, tok) != 0 &&
		    jwt_verify(test_key, TEST_KEYLEN, buf, c.iat, NULL, NULL) == 0)
			fail_msg("mutated token accepted: %s", buf);

		/* JSON-ish junk, correctly signed: exercises claim parsing. */
		n = randombytes_uniform(sizeof(pay) - 1);
		for (k = 0; k < n; k++)
			pay[k] = json_alpha[randombytes_uniform(sizeof(json_alpha) - 1)];
		pay[n] = '\0';
		mk_json(HS256, pay, buf, sizeof(buf));
		fuzz_one(buf, c.iat);
		mk_json(pay, "{\"sub\":\"1\",\"role\":\"admin\",\"exp\":2000000000}", buf,
		        sizeof(buf));
		fuzz_one(buf, c.iat);

		/* Near-valid payloads with a random claim value swapped in. */
		snprintf(pay, sizeof(pay),
		         "{\"sub\":\"%u\",\"role\":\"%s\","
		         "\"exp\":%s}",
		         randombytes_uniform(100), randombytes_uniform(2) ? "admin" : "x",
		         randombytes_uniform(2) ? "2000000000" : "1e9");
		mk_json(HS256, pay, buf, sizeof(buf));
		fuzz_one(buf, c.iat);
		if (jwt_verify(test_key, TEST_KEYLEN, buf, c.iat, NULL, NULL) == 0)
			valid++;
	}
	assert_true(valid > 0);
}

/* test_random_hex - length, charset, uniqueness, odd sizes. */
static void
test_random_hex(void **state)
{
	char   a[JWT_HEX16_LEN], b[JWT_HEX16_LEN], big[2 * 200 + 1];
	size_t i;

	(void)state;
	assert_int_equal(jwt_random_hex(a, 16), 0);
	assert_int_equal(jwt_random_hex(b, 16), 0);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, "0123456789abcdef"), 32);
	assert_string_not_equal(a, b);

	memset(big, 'x', sizeof(big));
	assert_int_equal(jwt_random_hex(big, 200), 0);
	assert_int_equal(strlen(big), 400);
	assert_int_equal(strspn(big, "0123456789abcdef"), 400);
	for (i = 0; i < 400 && big[i] == big[0]; i++)
		;
	assert_true(i < 400);

	assert_int_equal(jwt_random_hex(a, 0), 0);
	assert_string_equal(a, "");
	assert_int_equal(jwt_random_hex(NULL, 16), -1);
}

/* test_password - argon2id at the minimum cost. */
static void
test_password(void **state)
{
	char h1[crypto_pwhash_STRBYTES], h2[crypto_pwhash_STRBYTES];
	char bad[crypto_pwhash_STRBYTES + 10];

	(void)state;
	assert_int_equal(pw_set_cost(0, 1), -1);
	assert_int_equal(
	    pw_set_cost(crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN),
	    0);

	assert_int_equal(pw_hash("correct horse", h1), 0);
	assert_int_equal(pw_hash("correct horse", h2), 0);
	assert_true(strncmp(h1, "$argon2id$", 10) == 0);
	assert_string_not_equal(h1, h2); /* salted */
	assert_int_equal(pw_verify(h1, "correct horse"), 0);
	assert_int_equal(pw_verify(h2, "correct horse"), 0);
	assert_int_equal(pw_verify(h1, "correct horsE"), -1);
	assert_int_equal(pw_verify(h1, ""), -1);
	assert_int_equal(pw_verify(h1, NULL), -1);
	assert_int_equal(pw_verify(NULL, "x"), -1);
	assert_int_equal(pw_verify("", "x"), -1);
	assert_int_equal(pw_verify("$argon2id$v=19$garbage", "x"), -1);
	assert_int_equal(pw_verify("plaintext", "plaintext"), -1);

	/* Tampered hash. */
	strcpy(bad, h1);
	bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
	assert_int_equal(pw_verify(bad, "correct horse"), -1);
	/* A "hash" with no NUL inside STRBYTES is refused, not overread. */
	memset(bad, 'a', sizeof(bad) - 1);
	bad[sizeof(bad) - 1] = '\0';
	assert_int_equal(pw_verify(bad, "x"), -1);

	/* Empty password hashes and checks like any other. */
	assert_int_equal(pw_hash("", h2), 0);
	assert_int_equal(pw_verify(h2, ""), 0);
	assert_int_equal(pw_verify(h2, "x"), -1);
	assert_int_equal(pw_hash(NULL, h2), -1);

	/* Back to the default, and a hash of either cost still verifies. */
	assert_int_equal(pw_set_cost(0, 0), 0);
	assert_int_equal(pw_verify(h1, "correct horse"), 0);
}

/* main - run the JWT suite. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),        cmocka_unit_test(test_rfc7515),
	    cmocka_unit_test(test_roundtrip),     cmocka_unit_test(test_expired),
	    cmocka_unit_test(test_not_yet_valid), cmocka_unit_test(test_tampered),
	    cmocka_unit_test(test_alg),           cmocka_unit_test(test_claims),
	    cmocka_unit_test(test_sign_refuses),  cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_fuzz),          cmocka_unit_test(test_random_hex),
	    cmocka_unit_test(test_password),
	};

	if (sodium_init() < 0) {
		fprintf(stderr, "test_jwt: sodium_init failed\n");
		return 1;
	}
	return cmocka_run_group_tests_name("jwt", tests, NULL, NULL);
}
