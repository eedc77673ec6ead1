/*
 * opsig.h - OpenPhone's webhook signatures, both schemes
 *
 * Legacy:  openphone-signature: hmac;1;<timestamp ms>;<base64 HMAC-SHA256>
 *          over "<timestamp>.<raw body>".
 * Current: Standard Webhooks: webhook-id, webhook-timestamp (seconds),
 *          webhook-signature: "v1,<base64>" (a space-separated list) over
 *          "<id>.<timestamp>.<raw body>".
 * The key of both is the base64-decoded secret (after its "whsec_"
 * prefix, if any).  A timestamp more than OPSIG_WINDOW_S away from now,
 * either way, is refused.  A pure function, so it is unit tested alone.
 */
#ifndef CLUBOS_OPSIG_H
#define CLUBOS_OPSIG_H

#include <stddef.h>
#include <time.h>

#define OPSIG_WINDOW_S 300

/* The headers a request brought (NULL when absent). */
struct opsig_headers {
	const char *legacy; /* openphone-signature */
	const char *id;     /* webhook-id */
	const char *ts;     /* webhook-timestamp */
	const char *sig;    /* webhook-signature */
};

enum { OPSIG_OK = 0, OPSIG_BAD = -1, OPSIG_NO_SECRET = -2 };

/* opsig_verify - OPSIG_OK when either scheme's signature is good and recent */
int opsig_verify(const char *secret, const struct opsig_headers *h, const char *body, size_t len,
                 time_t now);

#endif
