/*
 * env.c - encode and decode the message envelope
 *
 * Called by rpc.c for every request and reply.  Decoding checks every field
 * against the message length before it is read.
 */
#include "common/env.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/json.h"

static const char *const env_op_names[ENV_OP_MAX] = {
    [ENV_OP_PING] = "ping",
    [ENV_OP_QUERY] = "query",
    [ENV_OP_ASSIST] = "assist",
    [ENV_OP_STATUS] = "status",
    [ENV_OP_RELOAD] = "reload",
    [ENV_OP_CACHE_GET] = "cache.get",
    [ENV_OP_CACHE_PUT] = "cache.put",
    [ENV_OP_CACHE_INVALIDATE] = "cache.invalidate",
    [ENV_OP_CACHE_STATS] = "cache.stats",
    [ENV_OP_INTEL_ANALYZE] = "intel.analyze",
    [ENV_OP_INTEL_INGEST] = "intel.ingest",
    [ENV_OP_CLASSIFY] = "classify",
    [ENV_OP_KNOW_SOP] = "know.sop",
    [ENV_OP_KNOW_EXAMPLES] = "know.examples",
    [ENV_OP_KNOW_DECIDE] = "know.decide",
    [ENV_OP_KNOW_SEED] = "know.seed",
    [ENV_OP_HEALTH] = "health",
    [ENV_OP_CACHE_KEYS] = "cache.keys",
};

/* env_op_name - printable name of an op */
const char *
env_op_name(int op)
{
	if (op <= 0 || op >= ENV_OP_MAX || env_op_names[op] == NULL)
		return "unknown";
	return env_op_names[op];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* hexval - value of one hex digit, or -1 */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* env_encode - build a message; on success *out is the caller's */
int
env_encode(nng_msg **out, const struct env_hdr *h, const char *body, size_t len)
{
	uint8_t  hdr[ENV_HDR_LEN];
	nng_msg *m;

	if (len + ENV_HDR_LEN > ENV_MAX_MSG)
		return -1;
	memset(hdr, 0, sizeof(hdr));
	hdr[0] = 'C';
	hdr[1] = 'B';
	hdr[2] = ENV_VERSION;
	hdr[3] = h->op;
	put16(hdr + 4, h->status);
	put16(hdr + 6, h->flags);
	put64(hdr + 8, h->deadline_ms);
	for (int i = 0; i < 16 && h->trace_id[2 * i] != '\0'; i++) {
		int a = hexval(h->trace_id[2 * i]), b = hexval(h->trace_id[2 * i + 1]);

		if (a < 0 || b < 0)
			break;
		hdr[16 + i] = (uint8_t)(a << 4 | b);
	}
	if (nng_msg_alloc(&m, 0) != 0)
		return -1;
	if (nng_msg_append(m, hdr, sizeof(hdr)) != 0 ||
	    (len > 0 && nng_msg_append(m, body, len) != 0)) {
		nng_msg_free(m);
		return -1;
	}
	*out = m;
	return 0;
}

/* env_decode - read the header; body points into m (valid while m lives) */
int
env_decode(nng_msg *m, struct env_hdr *h, const char **body, size_t *len, const char **why)
{
	const uint8_t    *p = nng_msg_body(m);
	size_t            n = nng_msg_len(m);
	static const char hex[] = "0123456789abcdef";

	memset(h, 0, sizeof(*h));
	if (n < ENV_HDR_LEN) {
		*why = "short message";
		return -1;
	}
	if (p[0] != 'C' || p[1] != 'B') {
		*why = "bad magic";
		return -1;
	}
	h->version = p[2];
	h->op = p[3];
	h->status = get16(p + 4);
	h->flags = get16(p + 6);
	h->deadline_ms = get64(p + 8);
	for (int i = 0; i < 16; i++) {
		h->trace_id[2 * i] = hex[p[16 + i] >> 4];
		h->trace_id[2 * i + 1] = hex[p[16 + i] & 15];
	}
	h->trace_id[32] = '\0';
	if (h->version != ENV_VERSION) {
		*why = "unsupported envelope version";
		return -1;
	}
	if (h->op == 0 || h->op >= ENV_OP_MAX) {
		*why = "unknown op";
		return -1;
	}
	*body = (const char *)p + ENV_HDR_LEN;
	*len = n - ENV_HDR_LEN;
	return 0;
}

/* env_error_body - the JSON body of an error reply */
int
env_error_body(char *out, size_t cap, const char *code, const char *message)
{
	cJSON *o = json_error_obj(code, message);
	int    rc = -1;

	if (o != NULL && cJSON_PrintPreallocated(o, out, (int)cap, 0))
		rc = 0;
	cJSON_Delete(o);
	return rc;
}

/* env_now_ms - wall clock in ms, for deadlines that cross processes */
uint64_t
env_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* env_mono_us - monotonic clock in µs, for timings */
int64_t
env_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
