/*
 * jwt.h - HS256 JSON Web Tokens, password hashes and random hex ids.
 *
 * The gateway signs a token at POST /api/auth/login (jwt_sign) and checks
 * the bearer token of every other request (jwt_verify).  The login and
 * user-creation handlers hash and check passwords with pw_hash and
 * pw_verify (argon2id).  jwt_random_hex makes trace ids and token ids.
 *
 * Everything here is backed by libsodium, initialised once on first use;
 * all functions are safe to call from several threads at once, except
 * pw_set_cost, which is meant for start-up (and tests).
 */
#ifndef CLUBOS_JWT_H
#define CLUBOS_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

/* Longest token jwt_verify accepts, in characters (without the NUL). */
#define JWT_MAX_LEN 4096

/* Room for jwt_sign's output: always enough for any valid jwt_claims. */
#define JWT_BUF_LEN 1024

/*
 * Clock skew tolerated between the host that signed a token and the one
 * checking it, in seconds: a token whose nbf or iat lies further in the
 * future than this is refused.
 */
#define JWT_CLOCK_SKEW 60

/* Shortest signing key the gateway accepts, in bytes. */
#define JWT_MIN_KEY 32

/* Length of jwt_random_hex(out, 16): a trace id or a jti, plus the NUL. */
#define JWT_HEX16_LEN 33

/*
 * The claims we sign and read back.  sub is the user id as decimal text
 * (printable ASCII, 1..63 bytes); role is one of admin, operator,
 * support, kiosk, customer; iat, nbf and exp are Unix seconds (nbf 0 =
 * absent: valid from iat); jti is an optional token id (empty = none), at
 * most 32 characters.
 */
typedef struct {
	char    sub[64];
	char    role[16];
	int64_t iat, nbf, exp;
	char    jti[33];
} jwt_claims;

/*
 * jwt_sign - write base64url(header).base64url(payload).base64url(sig),
 * NUL-terminated, into out (cap bytes; JWT_BUF_LEN is always enough).
 * The header is {"alg":"HS256","typ":"JWT"}; the payload holds sub, role,
 * iat, nbf (when non-zero), exp and jti (when non-empty).  Returns 0, or -1 on a missing key,
 * invalid claims (unknown role, empty sub, exp <= 0, ...) or a short
 * buffer; out is then an empty string when cap > 0.
 */
int jwt_sign(const unsigned char *key, size_t keylen, const jwt_claims *c, char *out, size_t cap);

/*
 * jwt_verify - check token against key at time now (Unix seconds).
 * Returns 0 and fills *out (when out is not NULL) when the token is valid.
 * Returns -1 otherwise, with *why (when why is not NULL) set to a static
 * reason safe to log:
 *   "malformed"      not three base64url parts of JSON, too long, ...
 *   "bad_alg"        header alg is not exactly HS256 ("none" included)
 *   "bad_signature"  HMAC mismatch (wrong key, tampered token)
 *   "bad_claims"     sub, role or exp missing or invalid (iat and nbf,
 *                    when present, must be integers too)
 *   "expired"        now >= exp
 *   "not_yet_valid"  nbf or iat later than now + JWT_CLOCK_SKEW
 *   "bad_key"        caller error: key NULL or empty
 * The header is checked first, then the signature (in constant time),
 * and only then the payload.  *out is zeroed on failure.
 */
int jwt_verify(const unsigned char *key, size_t keylen, const char *token, int64_t now,
               jwt_claims *out, const char **why);

/* jwt_role_known - 1 when role is one of the five roles, else 0. */
int jwt_role_known(const char *role);

/*
 * jwt_random_hex - write 2*nbytes lowercase hex characters and a NUL
 * into out (which must hold 2*nbytes+1 bytes), from randombytes_buf.
 * jwt_random_hex(buf, 16) makes a 32-character trace id or jti.
 * Returns 0, or -1 when out is NULL or libsodium could not start.
 */
int jwt_random_hex(char *out, size_t nbytes);

/*
 * pw_hash - hash password pw (NUL-terminated) with argon2id into out, as
 * the self-describing "$argon2id$v=19$m=...,t=...,p=1$salt$hash" string.
 * Uses OPSLIMIT/MEMLIMIT_INTERACTIVE unless pw_set_cost changed them.
 * Returns 0, or -1 (out of memory, pw NULL).
 */
int pw_hash(const char *pw, char out[crypto_pwhash_STRBYTES]);

/*
 * pw_verify - 0 when pw matches hash (a string from pw_hash, possibly made
 * with another cost), -1 on mismatch or a malformed hash.
 */
int pw_verify(const char *hash, const char *pw);

/*
 * pw_set_cost - cost used by later pw_hash calls (argon2id opslimit and
 * memlimit in bytes); pw_set_cost(0, 0) restores the INTERACTIVE default.
 * Tests use crypto_pwhash_argon2id_OPSLIMIT_MIN/MEMLIMIT_MIN.  Returns 0,
 * or -1 (nothing changed) when a value is outside argon2id's limits.
 * Call it at start-up, before threads hash passwords.
 */
int pw_set_cost(unsigned long long ops, size_t mem);

#endif /* CLUBOS_JWT_H */
