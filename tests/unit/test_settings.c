/*
 * test_settings.c - unit tests for the database-free parts of
 * common/settings.c: defaults, names, the JSON shape, and the rollout
 * bucket (stable per id, monotone in the percentage, close to uniform).
 * The stored side (PATCH, history, live change) is tested end to end in
 * tests/e2e/test_settings.py.  Run by `make test`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "common/settings.h"

static void
test_defaults(void **state)
{
	struct settings s;

	(void)state;
	settings_defaults(&s);
	assert_int_equal(s.sms_reply_mode, SMS_MODE_AUTO);
	assert_int_equal(s.sms_rollout_percent, 100);
	assert_true(s.sop_confidence_threshold > 0.39 && s.sop_confidence_threshold < 0.41);
	assert_int_equal(s.llm_mode, LLM_MODE_OFF);
	assert_int_equal(s.llm_rollout_percent, 100);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(settings_sms_mode_name(SMS_MODE_OFF), "off");
	assert_string_equal(settings_sms_mode_name(SMS_MODE_SHADOW), "shadow");
	assert_string_equal(settings_sms_mode_name(SMS_MODE_APPROVAL), "approval");
	assert_string_equal(settings_sms_mode_name(SMS_MODE_AUTO), "auto");
	assert_string_equal(settings_sms_mode_name((enum sms_reply_mode)99), "off");
	assert_string_equal(settings_llm_mode_name(LLM_MODE_SHADOW), "shadow");
	assert_string_equal(settings_llm_mode_name(LLM_MODE_ON), "on");
	assert_string_equal(settings_llm_mode_name((enum llm_mode) - 1), "off");
}

static void
test_json(void **state)
{
	struct settings s;
	cJSON          *o;

	(void)state;
	settings_defaults(&s);
	s.sms_reply_mode = SMS_MODE_SHADOW;
	s.sms_rollout_percent = 30;
	o = settings_json(&s);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "sms_reply_mode")->valuestring, "shadow");
	assert_int_equal(cJSON_GetObjectItem(o, "sms_rollout_percent")->valueint, 30);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "sop_confidence_threshold")));
	assert_string_equal(cJSON_GetObjectItem(o, "llm_mode")->valuestring, "off");
	assert_string_equal(cJSON_GetObjectItem(o, "llm_voice")->valuestring, "");
	assert_int_equal(cJSON_GetArraySize(o), 6);
	cJSON_Delete(o);
}

/* The cache with no database: defaults, never a crash. */
static void
test_current_without_db(void **state)
{
	struct settings s;

	(void)state;
	settings_invalidate();
	settings_current(NULL, &s);
	assert_int_equal(s.sms_reply_mode, SMS_MODE_AUTO);
}

static void
test_rollout_edges(void **state)
{
	(void)state;
	for (int64_t id = -5; id < 1000; id++) {
		assert_false(settings_in_rollout(0, id));
		assert_false(settings_in_rollout(-3, id));
		assert_true(settings_in_rollout(100, id));
		assert_true(settings_in_rollout(250, id));
	}
}

/* An id in at p stays in at every larger p, and the answer never changes. */
static void
test_rollout_monotone_and_stable(void **state)
{
	(void)state;
	for (int64_t id = 1; id < 3000; id++) {
		bool was = false;

		for (int p = 0; p <= 100; p++) {
			bool in = settings_in_rollout(p, id);

			assert_true(in == settings_in_rollout(p, id));
			if (was)
				assert_true(in);
			was = in;
		}
	}
}

/* Consecutive ids (conversation ids are a sequence) spread evenly. */
static void
test_rollout_uniform(void **state)
{
	static const int pcts[] = {1, 10, 25, 50, 90};

	(void)state;
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		int    n = 0, total = 100000;
		double p = pcts[i] / 100.0, mean = total * p, sd = sqrt(total * p * (1 - p));

		for (int64_t id = 1; id <= total; id++)
			n += settings_in_rollout(pcts[i], id);
		/* within four standard deviations of a fair coin's count */
		assert_in_range(n, (int)(mean - 4 * sd), (int)(mean + 4 * sd));
	}
}

/* test_serves_stored - a stored answer under the settings now */
static void
test_serves_stored(void **state)
{
	struct settings s;

	(void)state;
	settings_defaults(&s);
	s.sop_confidence_threshold = 0.5;
	assert_true(settings_serves_stored(&s, 0.5, false));
	assert_false(settings_serves_stored(&s, 0.49, false));
	/* a model's answer: only while the tier is on for everyone */
	s.llm_mode = LLM_MODE_OFF;
	assert_false(settings_serves_stored(&s, 0.9, true));
	s.llm_mode = LLM_MODE_SHADOW;
	assert_false(settings_serves_stored(&s, 0.9, true));
	s.llm_mode = LLM_MODE_ON;
	s.llm_rollout_percent = 99;
	assert_false(settings_serves_stored(&s, 0.9, true));
	s.llm_rollout_percent = 100;
	assert_true(settings_serves_stored(&s, 0.9, true));
	assert_false(settings_serves_stored(&s, 0.3, true));
	assert_true(settings_serves_stored(&s, 0.9, false));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_serves_stored),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_current_without_db),
	    cmocka_unit_test(test_rollout_edges),
	    cmocka_unit_test(test_rollout_monotone_and_stable),
	    cmocka_unit_test(test_rollout_uniform),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
