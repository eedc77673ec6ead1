/*
 * test_env.c - the message envelope: round trips and hostile input
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

/* fuzz: random bytes never crash the decoder */
static void
test_fuzz(void **state)
{
	uint8_t     raw[96];
	uint32_t    x = 12345;
	const char *why;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(i % (int)sizeof(raw));

		for (size_t j = 0; j < n; j++) {
			x = x * 1103515245u + 12345u;
			raw[j] = (uint8_t)(x >> 16);
		}
		if (n > 2 && (i & 1)) {
			raw[0] = 'C';
			raw[1] = 'B';
			raw[2] = ENV_VERSION;
		}
		(void)decode_raw(raw, n, &why);
	}
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
