/*
 * test_env.c - the message envelope: round trips and hostile input
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/env.h"

/* roundtrip: every header field and the body come back as sent */
static void
test_roundtrip(void **state)
{
	struct env_hdr h = {.version = ENV_VERSION,
	                    .op = ENV_OP_QUERY,
	                    .status = 503,
	                    .flags = 7,
	                    .deadline_ms = 1234567890123ULL};
	struct env_hdr d;
	nng_msg       *m;
	const char    *body, *why;
	size_t         len;

	(void)state;
	strcpy(h.trace_id, "0123456789abcdef0123456789abcdef");
	assert_int_equal(env_encode(&m, &h, "{\"a\":1}", 7), 0);
	assert_int_equal(nng_msg_len(m), ENV_HDR_LEN + 7);
	assert_int_equal(env_decode(m, &d, &body, &len, &why), 0);
	assert_int_equal(d.op, ENV_OP_QUERY);
	assert_int_equal(d.status, 503);
	assert_int_equal(d.flags, 7);
	assert_true(d.deadline_ms == 1234567890123ULL);
	assert_string_equal(d.trace_id, h.trace_id);
	assert_int_equal(len, 7);
	assert_memory_equal(body, "{\"a\":1}", 7);
	nng_msg_free(m);
}

/* empty_body: a header alone is a valid message */
static void
test_empty_body(void **state)
{
	struct env_hdr h = {.version = ENV_VERSION, .op = ENV_OP_PING}, d;
	nng_msg       *m;
	const char    *body, *why;
	size_t         len;

	(void)state;
	assert_int_equal(env_encode(&m, &h, NULL, 0), 0);
	assert_int_equal(env_decode(m, &d, &body, &len, &why), 0);
	assert_int_equal(len, 0);
	assert_string_equal(d.trace_id, "00000000000000000000000000000000");
	nng_msg_free(m);
}

/* decode_raw - decode bytes as a message */
static int
decode_raw(const void *p, size_t n, const char **why)
{
	struct env_hdr d;
	nng_msg       *m;
	const char    *body;
	size_t         len;
	int            rc;

	assert_int_equal(nng_msg_alloc(&m, 0), 0);
	if (n > 0)
		assert_int_equal(nng_msg_append(m, p, n), 0);
	rc = env_decode(m, &d, &body, &len, why);
	nng_msg_free(m);
	return rc;
}

/* hostile: short, wrong magic, wrong version, unknown op are refused with a reason */
static void
test_hostile(void **state)
{
	uint8_t     raw[ENV_HDR_LEN + 4];
	const char *why = NULL;

	(void)state;
	assert_int_equal(decode_raw("", 0, &why), -1);
	assert_string_equal(why, "short message");
	assert_int_equal(decode_raw("CB\x01", 3, &why), -1);

	memset(raw, 0, sizeof(raw));
	raw[0] = 'X';
	raw[1] = 'B';
	raw[2] = ENV_VERSION;
	raw[3] = ENV_OP_PING;
	assert_int_equal(decode_raw(raw, sizeof(raw), &why), -1);
	assert_string_equal(why, "bad magic");

	raw[0] = 'C';
	raw[2] = 99;
	assert_int_equal(decode_raw(raw, sizeof(raw), &why), -1);
	assert_string_equal(why, "unsupported envelope version");

	raw[2] = ENV_VERSION;
	raw[3] = 0;
	assert_int_equal(decode_raw(raw, sizeof(raw), &why), -1);
	assert_string_equal(why, "unknown op");
	raw[3] = ENV_OP_MAX;
	assert_int_equal(decode_raw(raw, sizeof(raw), &why), -1);

	raw[3] = ENV_OP_PING;
	assert_int_equal(decode_raw(raw, sizeof(raw), &why), 0);
}

/* fuzz: random bytes never crash the decoder, and every verdict and field
 * agrees with an independent reading of the header: accepted exactly when
 * long enough, "CB", our version and a known op; then every field is the
 * big-endian value at its offset and the body is the rest, byte for byte */
static void
test_fuzz(void **state)
{
	uint8_t     raw[96];
	uint32_t    x = 12345;
	int         accepted = 0;
	const char *why;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t         n = (size_t)(i % (int)sizeof(raw));
		struct env_hdr d;
		nng_msg       *m;
		const char    *body = NULL;
		size_t         len = 0;
		bool           ok;
		int            rc;

		for (size_t j = 0; j < n; j++) {
			x = x * 1103515245u + 12345u;
			raw[j] = (uint8_t)(x >> 16);
		}
		if (n > 3 && (i & 1)) {
			raw[0] = 'C';
			raw[1] = 'B';
			raw[2] = ENV_VERSION;
			if (i & 2)
				raw[3] = (uint8_t)(1 + (x >> 8) % (ENV_OP_MAX - 1));
		}
		ok = n >= ENV_HDR_LEN && raw[0] == 'C' && raw[1] == 'B' && raw[2] == ENV_VERSION &&
		     raw[3] != 0 && raw[3] < ENV_OP_MAX;
		assert_int_equal(nng_msg_alloc(&m, 0), 0);
		if (n > 0)
			assert_int_equal(nng_msg_append(m, raw, n), 0);
		why = NULL;
		rc = env_decode(m, &d, &body, &len, &why);
		assert_int_equal(rc, ok ? 0 : -1);
		if (!ok) {
			assert_non_null(why);
			assert_true(why[0] != '\0');
			nng_msg_free(m);
			continue;
		}
		accepted++;
		assert_int_equal(d.op, raw[3]);
		assert_int_equal(d.status, (raw[4] << 8) | raw[5]);
		assert_int_equal(d.flags, (raw[6] << 8) | raw[7]);
		{
			uint64_t dl = 0;
			char     tid[33];

			for (int k = 0; k < 8; k++)
				dl = (dl << 8) | raw[8 + k];
			assert_true(d.deadline_ms == dl);
			for (int k = 0; k < 16; k++)
				snprintf(tid + 2 * k, 3, "%02x", raw[16 + k]);
			assert_string_equal(d.trace_id, tid);
		}
		assert_int_equal(len, n - ENV_HDR_LEN);
		if (len > 0)
			assert_memory_equal(body, raw + ENV_HDR_LEN, len);
		nng_msg_free(m);
	}
	assert_true(accepted > 1000); /* the accepting path was exercised too */
}

/* too_large: a body over the limit is refused at encode time */
static void
test_too_large(void **state)
{
	struct env_hdr h = {.version = ENV_VERSION, .op = ENV_OP_QUERY};
	nng_msg       *m = NULL;
	static char    big[ENV_MAX_MSG];

	(void)state;
	assert_int_equal(env_encode(&m, &h, big, sizeof(big)), -1);
	assert_null(m);
}

/* op_names: every op has a name; unknown ones say so */
static void
test_op_names(void **state)
{
	(void)state;
	for (int op = 1; op < ENV_OP_MAX; op++)
		assert_string_not_equal(env_op_name(op), "unknown");
	assert_string_equal(env_op_name(0), "unknown");
	assert_string_equal(env_op_name(200), "unknown");
	assert_string_equal(env_op_name(ENV_OP_QUERY), "query");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_empty_body),
	    cmocka_unit_test(test_hostile),   cmocka_unit_test(test_fuzz),
	    cmocka_unit_test(test_too_large), cmocka_unit_test(test_op_names),
	};

	return cmocka_run_group_tests_name("envelope", tests, NULL, NULL);
}
