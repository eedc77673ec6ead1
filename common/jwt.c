/*
 * jwt.c - HS256 JSON Web Tokens, argon2id password hashes, random hex.
 *
 * Called by the gateway: jwt_sign at login, jwt_verify on every request
 * that carries "Authorization: Bearer", pw_hash/pw_verify for users,
 * jwt_random_hex for trace ids and token ids.  See jwt.h for the API.
 *
 * Tokens are base64url (no padding) of a fixed header, a JSON payload
 * and an HMAC-SHA-256 over "header.payload".  Verification is strict and
 * ordered: bounded length, exactly three parts, canonical base64url, a
 * header whose alg is exactly HS256, a constant-time signature check, and
 * only then the payload claims.  Every input, however broken, gets an
 * answer; nothing here aborts.  Keys and HMAC states are wiped after use.
 */
#include "common/jwt.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

/* Largest integer a JSON number (a double) carries exactly: 2^53. */
#define JWT_INT_MAX 9007199254740992.0

/* Longest decoded header or payload we look at. */
#define JWT_PART_MAX JWT_MAX_LEN

static const char jwt_header_json[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static const char *const jwt_roles[] = {
    "admin", "operator", "support", "kiosk", "customer",
};

static pthread_once_t jwt_once = PTHREAD_ONCE_INIT;
static int            jwt_sodium_ok;

static _Atomic unsigned long long pw_ops = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
static _Atomic size_t             pw_mem = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;

/* ================================================================ */
/* Helpers                                                          */
/* ================================================================ */

/* jwt_sodium_init - pthread_once body: start libsodium. */
static void
jwt_sodium_init(void)
{
	jwt_sodium_ok = sodium_init() >= 0;
}

/* jwt_ready - 1 once libsodium is usable, else 0. */
static int
jwt_ready(void)
{
	if (pthread_once(&jwt_once, jwt_sodium_init) != 0)
		return 0;
	return jwt_sodium_ok;
}

/* jwt_role_known - 1 when role is one of the five roles. */
int
jwt_role_known(const char *role)
{
	size_t i;

	if (role == NULL)
		return 0;
	for (i = 0; i < sizeof(jwt_roles) / sizeof(jwt_roles[0]); i++)
		if (strcmp(role, jwt_roles[i]) == 0)
			return 1;
	return 0;
}

/* jwt_printable - 1 when s[0..n) is non-empty printable ASCII. */
static int
jwt_printable(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* jwt_hex_ok - 1 when s[0..n) is only hex digits. */
static int
jwt_hex_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		      (ch >= 'A' && ch <= 'F')))
			return 0;
	}
	return 1;
}

/* jwt_claims_ok - 1 when c is a set of claims we are willing to sign. */
static int
jwt_claims_ok(const jwt_claims *c)
{
	size_t sublen = strnlen(c->sub, sizeof(c->sub));
	size_t rolelen = strnlen(c->role, sizeof(c->role));
	size_t jtilen = strnlen(c->jti, sizeof(c->jti));

	if (sublen == sizeof(c->sub) || !jwt_printable(c->sub, sublen))
		return 0;
	if (rolelen == sizeof(c->role) || !jwt_role_known(c->role))
		return 0;
	if (jtilen == sizeof(c->jti) || !jwt_hex_ok(c->jti, jtilen))
		return 0;
	if (c->exp <= 0 || (double)c->exp > JWT_INT_MAX)
		return 0;
	if (c->iat < 0 || (double)c->iat > JWT_INT_MAX)
		return 0;
	if (c->nbf < 0 || (double)c->nbf > JWT_INT_MAX)
		return 0;
	return 1;
}

/* jwt_hmac - HMAC-SHA-256 of msg under a key of any length. */
static void
jwt_hmac(const unsigned char *key, size_t keylen, const char *msg, size_t len,
         unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

/* jwt_b64_put - append base64url(bin) at out+*pos; 0, or -1 if no room. */
static int
jwt_b64_put(char *out, size_t cap, size_t *pos, const void *bin, size_t len)
{
	size_t need = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);

	if (need > cap - *pos)
		return -1;
	sodium_bin2base64(out + *pos, cap - *pos, bin, len,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	*pos += need - 1;
	return 0;
}

/* jwt_b64url_ok - 1 when s[0..n) is only base64url characters. */
static int
jwt_b64url_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return 0;
	}
	return 1;
}

/*
 * jwt_b64_get - decode canonical base64url b64[0..len) into a fresh
 * NUL-terminated buffer of at most max bytes; NULL when invalid.
 */
static unsigned char *
jwt_b64_get(const char *b64, size_t len, size_t max, size_t *outlen)
{
	size_t         cap = len / 4 * 3 + 3;
	unsigned char *buf;

	if (len == 0 || cap > max + 3)
		return NULL;
	/* libsodium 1.0.18 decodes any byte >= 0x80 as '_': check first. */
	if (!jwt_b64url_ok(b64, len))
		return NULL;
	buf = malloc(cap + 1);
	if (buf == NULL)
		return NULL;
	if (sodium_base642bin(buf, cap, b64, len, NULL, outlen, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    *outlen > max) {
		free(buf);
		return NULL;
	}
	buf[*outlen] = '\0';
	return buf;
}

/* jwt_json_get - decode and parse one part as a JSON object, or NULL. */
static cJSON *
jwt_json_get(const char *b64, size_t len)
{
	unsigned char *buf;
	size_t         n;
	cJSON         *obj;

	buf = jwt_b64_get(b64, len, JWT_PART_MAX, &n);
	if (buf == NULL)
		return NULL;
	/* A NUL inside would let the parser see less than was signed. */
	if (memchr(buf, '\0', n) != NULL) {
		free(buf);
		return NULL;
	}
	obj = cJSON_ParseWithOpts((const char *)buf, NULL, 1);
	free(buf);
	if (obj != NULL && !cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

/* jwt_member - the only member called name, or NULL (absent or repeated). */
static const cJSON *
jwt_member(const cJSON *obj, const char *name)
{
	const cJSON *it, *found = NULL;

	cJSON_ArrayForEach(it, obj)
	{
		if (it->string != NULL && strcmp(it->string, name) == 0) {
			/* cppcheck-suppress knownConditionTrueFalse */
			if (found != NULL)
				return NULL;
			found = it;
		}
	}
	return found;
}

/* jwt_repeated - 1 when obj has member name more than once. */
static int
jwt_repeated(const cJSON *obj, const char *name)
{
	const cJSON *it;
	int          n = 0;

	cJSON_ArrayForEach(it, obj) if (it->string != NULL && strcmp(it->string, name) == 0) n++;
	return n > 1;
}

/* jwt_get_int - read an integral number within +-2^53; 0, or -1. */
static int
jwt_get_int(const cJSON *v, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || fabs(d) > JWT_INT_MAX)
		return -1;
	*out = (int64_t)d;
	return 0;
}

/* jwt_get_str - copy a string member of length 1..cap-1; 0, or -1. */
static int
jwt_get_str(const cJSON *v, char *dst, size_t cap)
{
	size_t n;

	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return -1;
	n = strlen(v->valuestring);
	if (n == 0 || n >= cap)
		return -1;
	memcpy(dst, v->valuestring, n + 1);
	return 0;
}

/* jwt_check_header - 0 when the header says HS256 and nothing odd. */
static int
jwt_check_header(const cJSON *h, const char **why)
{
	const cJSON *alg, *typ;

	alg = jwt_member(h, "alg"); /* NULL when absent or repeated */
	if (!cJSON_IsString(alg) || alg->valuestring == NULL ||
	    strcmp(alg->valuestring, "HS256") != 0) {
		*why = "bad_alg";
		return -1;
	}
	/* We understand no extension, so a "crit" list is a refusal. */
	if (cJSON_GetObjectItemCaseSensitive(h, "crit") != NULL) {
		*why = "malformed";
		return -1;
	}
	typ = cJSON_GetObjectItemCaseSensitive(h, "typ");
	if (typ != NULL && (jwt_repeated(h, "typ") || !cJSON_IsString(typ) ||
	                    typ->valuestring == NULL || strcasecmp(typ->valuestring, "JWT") != 0)) {
		*why = "malformed";
		return -1;
	}
	return 0;
}

/* jwt_read_claims - fill *c from the payload object; 0, or -1. */
static int
jwt_read_claims(const cJSON *p, jwt_claims *c)
{
	const cJSON *v;

	memset(c, 0, sizeof(*c));
	if (jwt_get_str(jwt_member(p, "sub"), c->sub, sizeof(c->sub)) < 0 ||
	    !jwt_printable(c->sub, strlen(c->sub)))
		return -1;
	if (jwt_get_str(jwt_member(p, "role"), c->role, sizeof(c->role)) < 0 ||
	    !jwt_role_known(c->role))
		return -1;
	if (jwt_get_int(jwt_member(p, "exp"), &c->exp) < 0 || c->exp <= 0)
		return -1;
	if (jwt_repeated(p, "iat") || jwt_repeated(p, "nbf") || jwt_repeated(p, "jti"))
		return -1;
	v = jwt_member(p, "iat");
	if (v != NULL && jwt_get_int(v, &c->iat) < 0)
		return -1;
	v = jwt_member(p, "nbf");
	if (v != NULL && jwt_get_int(v, &c->nbf) < 0)
		return -1;
	v = jwt_member(p, "jti");
	if (v != NULL &&
	    (jwt_get_str(v, c->jti, sizeof(c->jti)) < 0 || !jwt_hex_ok(c->jti, strlen(c->jti))))
		return -1;
	return 0;
}

/* ================================================================ */
/* Tokens                                                           */
/* ================================================================ */

/* jwt_sign - make header.payload.signature for the claims c. */
int
jwt_sign(const unsigned char *key, size_t keylen, const jwt_claims *c, char *out, size_t cap)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char          num[32];
	cJSON        *p = NULL;
	char         *json = NULL;
	size_t        pos = 0;

	if (out == NULL || cap == 0)
		return -1;
	out[0] = '\0';
	if (key == NULL || keylen == 0 || c == NULL || !jwt_ready() || !jwt_claims_ok(c))
		return -1;

	p = cJSON_CreateObject();
	if (p == NULL || cJSON_AddStringToObject(p, "sub", c->sub) == NULL ||
	    cJSON_AddStringToObject(p, "role", c->role) == NULL)
		goto fail;
	/* Raw integers: exact digits, never a double's rounding. */
	snprintf(num, sizeof(num), "%lld", (long long)c->iat);
	if (cJSON_AddRawToObject(p, "iat", num) == NULL)
		goto fail;
	if (c->nbf != 0) {
		snprintf(num, sizeof(num), "%lld", (long long)c->nbf);
		if (cJSON_AddRawToObject(p, "nbf", num) == NULL)
			goto fail;
	}
	snprintf(num, sizeof(num), "%lld", (long long)c->exp);
	if (cJSON_AddRawToObject(p, "exp", num) == NULL)
		goto fail;
	if (c->jti[0] != '\0' && cJSON_AddStringToObject(p, "jti", c->jti) == NULL)
		goto fail;
	json = cJSON_PrintUnformatted(p);
	if (json == NULL)
		goto fail;

	if (jwt_b64_put(out, cap, &pos, jwt_header_json, sizeof(jwt_header_json) - 1) < 0 ||
	    pos + 1 >= cap)
		goto fail;
	out[pos++] = '.';
	if (jwt_b64_put(out, cap, &pos, json, strlen(json)) < 0 || pos + 1 >= cap)
		goto fail;
	jwt_hmac(key, keylen, out, pos, mac);
	out[pos++] = '.';
	if (jwt_b64_put(out, cap, &pos, mac, sizeof(mac)) < 0)
		goto fail;

	sodium_memzero(mac, sizeof(mac));
	cJSON_free(json);
	cJSON_Delete(p);
	return 0;

fail:
	sodium_memzero(mac, sizeof(mac));
	cJSON_free(json);
	cJSON_Delete(p);
	out[0] = '\0';
	return -1;
}

/* jwt_verify - check a token; 0 and *out, or -1 and a reason. */
int
jwt_verify(const unsigned char *key, size_t keylen, const char *token, int64_t now, jwt_claims *out,
           const char **why)
{
	unsigned char  mac[crypto_auth_hmacsha256_BYTES];
	unsigned char *sig = NULL;
	const char    *dot1, *dot2, *reason = "malformed";
	cJSON         *h = NULL, *p = NULL;
	jwt_claims     c;
	size_t         len, siglen = 0;

	memset(&c, 0, sizeof(c));
	memset(mac, 0, sizeof(mac));
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (key == NULL || keylen == 0) {
		reason = "bad_key";
		goto fail;
	}
	if (token == NULL || !jwt_ready())
		goto fail;
	len = strnlen(token, JWT_MAX_LEN + 1);
	if (len == 0 || len > JWT_MAX_LEN)
		goto fail;

	/* Exactly three parts; header and payload non-empty. */
	dot1 = memchr(token, '.', len);
	if (dot1 == NULL)
		goto fail;
	dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
	if (dot2 == NULL || dot1 == token || dot2 == dot1 + 1 ||
	    memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
		goto fail;

	h = jwt_json_get(token, (size_t)(dot1 - token));
	if (h == NULL)
		goto fail;
	if (jwt_check_header(h, &reason) < 0)
		goto fail;

	/* The signature, in constant time, before reading any claim. */
	reason = "bad_signature";
	sig = jwt_b64_get(dot2 + 1, len - (size_t)(dot2 + 1 - token), sizeof(mac), &siglen);
	if (sig == NULL || siglen != sizeof(mac))
		goto fail;
	jwt_hmac(key, keylen, token, (size_t)(dot2 - token), mac);
	if (crypto_verify_32(sig, mac) != 0)
		goto fail;

	reason = "malformed";
	p = jwt_json_get(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (p == NULL)
		goto fail;
	reason = "bad_claims";
	if (jwt_read_claims(p, &c) < 0)
		goto fail;
	if (now >= c.exp) {
		reason = "expired";
		goto fail;
	}
	/* Not valid yet, or made in the future (another host's clock, or a
	 * forged token): both beyond a small skew are refused. */
	if (c.nbf > now + JWT_CLOCK_SKEW || c.iat > now + JWT_CLOCK_SKEW) {
		reason = "not_yet_valid";
		goto fail;
	}

	if (out != NULL)
		*out = c;
	if (why != NULL)
		*why = NULL;
	sodium_memzero(mac, sizeof(mac));
	free(sig);
	cJSON_Delete(p);
	cJSON_Delete(h);
	return 0;

fail:
	if (why != NULL)
		*why = reason;
	sodium_memzero(mac, sizeof(mac));
	free(sig);
	cJSON_Delete(p);
	cJSON_Delete(h);
	return -1;
}

/* ================================================================ */
/* Random ids                                                       */
/* ================================================================ */

/* jwt_random_hex - 2*nbytes random hex characters and a NUL. */
int
jwt_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char     buf[64];
	size_t            done = 0, i, n;

	if (out == NULL || nbytes > (SIZE_MAX - 1) / 2 || !jwt_ready())
		return -1;
	while (done < nbytes) {
		n = nbytes - done < sizeof(buf) ? nbytes - done : sizeof(buf);
		randombytes_buf(buf, n);
		for (i = 0; i < n; i++) {
			out[2 * (done + i)] = hex[buf[i] >> 4];
			out[2 * (done + i) + 1] = hex[buf[i] & 0x0f];
		}
		done += n;
	}
	out[2 * nbytes] = '\0';
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

/* ================================================================ */
/* Passwords                                                        */
/* ================================================================ */

/* pw_set_cost - argon2id cost for later pw_hash calls; (0, 0) = default. */
int
pw_set_cost(unsigned long long ops, size_t mem)
{
	if (ops == 0 && mem == 0) {
		ops = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
		mem = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
	}
	if (ops < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
	    ops > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
	    mem < crypto_pwhash_argon2id_MEMLIMIT_MIN || mem > crypto_pwhash_argon2id_MEMLIMIT_MAX)
		return -1;
	atomic_store(&pw_ops, ops);
	atomic_store(&pw_mem, mem);
	return 0;
}

/* pw_hash - argon2id string for password pw. */
int
pw_hash(const char *pw, char out[crypto_pwhash_STRBYTES])
{
	if (out == NULL)
		return -1;
	out[0] = '\0';
	if (pw == NULL || !jwt_ready())
		return -1;
	if (crypto_pwhash_argon2id_str(out, pw, strlen(pw), atomic_load(&pw_ops),
	                               atomic_load(&pw_mem)) != 0) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/* pw_verify - 0 when pw matches the stored hash. */
int
pw_verify(const char *hash, const char *pw)
{
	char   buf[crypto_pwhash_STRBYTES];
	size_t n;
	int    rc;

	if (hash == NULL || pw == NULL || !jwt_ready())
		return -1;
	n = strnlen(hash, sizeof(buf));
	if (n == 0 || n == sizeof(buf))
		return -1;
	/* libsodium reads a full STRBYTES buffer: hand it one. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, hash, n);
	rc = crypto_pwhash_str_verify(buf, pw, strlen(pw));
	sodium_memzero(buf, sizeof(buf));
	return rc == 0 ? 0 : -1;
}
