/*
 * test_log.c - log lines as text and as JSON (CLUBOS_LOG_FORMAT=json)
 *
 * stderr is pointed at a temporary file, a line is logged, read back and
 * (for JSON) parsed with cJSON: one object per line, every field there,
 * hostile messages escaped, never a broken object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "common/log.h"
#include "common/util.h"

static char captured[8192];

/* capture - run fn with stderr going to a file; the text it wrote in captured */
static void
capture(void (*fn)(void))
{
	FILE  *f = tmpfile();
	int    saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(f);
	dup2(fileno(f), STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(captured, 1, sizeof(captured) - 1, f);
	captured[n] = '\0';
	fclose(f);
}

/* one_line - exactly one line was written; parse it as JSON */
static cJSON *
one_line(void)
{
	size_t len = strlen(captured);
	cJSON *o;

	assert_true(len > 2);
	assert_int_equal(captured[len - 1], '\n');
	assert_null(memchr(captured, '\n', len - 1));
	assert_true(util_utf8_valid(captured, len));
	o = cJSON_ParseWithLength(captured, len);
	assert_non_null(o);
	assert_true(cJSON_IsObject(o));
	return o;
}

static void
log_plain(void)
{
	log_msg(LOG_WARN, "0123456789abcdef0123456789abcdef", "bay %d is %s", 3, "frozen");
}

/* json_fields: ts, level, daemon, pid, trace id and the message */
static void
test_json_fields(void **state)
{
	cJSON *o;

	(void)state;
	log_init("clubos-test", 0);
	log_set_format(LOG_JSON);
	capture(log_plain);
	o = one_line();
	assert_string_equal(cJSON_GetObjectItem(o, "level")->valuestring, "warn");
	assert_string_equal(cJSON_GetObjectItem(o, "daemon")->valuestring, "clubos-test");
	assert_int_equal(cJSON_GetObjectItem(o, "pid")->valueint, (int)getpid());
	assert_string_equal(cJSON_GetObjectItem(o, "trace_id")->valuestring,
	                    "0123456789abcdef0123456789abcdef");
	assert_string_equal(cJSON_GetObjectItem(o, "msg")->valuestring, "bay 3 is frozen");
	/* 2026-11-22T10:00:00.123Z */
	assert_int_equal(strlen(cJSON_GetObjectItem(o, "ts")->valuestring), 24);
	assert_int_equal(cJSON_GetObjectItem(o, "ts")->valuestring[23], 'Z');
	cJSON_Delete(o);
}

static void
log_no_trace(void)
{
	log_info("started");
}

/* json_no_trace: no trace id, no trace_id field */
static void
test_json_no_trace(void **state)
{
	cJSON *o;

	(void)state;
	log_init("clubos-test", 0);
	log_set_format(LOG_JSON);
	capture(log_no_trace);
	o = one_line();
	assert_null(cJSON_GetObjectItem(o, "trace_id"));
	assert_string_equal(cJSON_GetObjectItem(o, "level")->valuestring, "info");
	cJSON_Delete(o);
}

static void
log_hostile(void)
{
	log_error(
	    "quote \" backslash \\ newline\nCR\r tab\t bell\a del\x7f bad \xff\xc0 cut \xe2\x82 "
	    "euro \xe2\x82\xac end");
}

/* json_escapes: quotes, controls and bytes that are not UTF-8 give one valid object */
static void
test_json_escapes(void **state)
{
	cJSON *o;

	(void)state;
	log_init("clubos-test", 0);
	log_set_format(LOG_JSON);
	capture(log_hostile);
	o = one_line();
	assert_string_equal(cJSON_GetObjectItem(o, "level")->valuestring, "error");
	assert_string_equal(
	    cJSON_GetObjectItem(o, "msg")->valuestring,
	    "quote \" backslash \\ newline\nCR\r tab\t bell\a del\x7f bad "
	    "\xef\xbf\xbd\xef\xbf\xbd cut \xef\xbf\xbd\xef\xbf\xbd euro \xe2\x82\xac end");
	cJSON_Delete(o);
}

static void
log_long(void)
{
	char big[6000];

	/* 2-byte characters, so a cut in the middle of one would show */
	for (size_t i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[sizeof(big) - 2] = '\0';
	log_info("%s\"\"\"", big);
}

/* json_long: a message longer than a line is cut at a character, the object stays whole */
static void
test_json_long(void **state)
{
	cJSON      *o;
	const char *m;

	(void)state;
	log_init("clubos-test", 0);
	log_set_format(LOG_JSON);
	capture(log_long);
	assert_true(strlen(captured) <= 2048);
	o = one_line();
	m = cJSON_GetObjectItem(o, "msg")->valuestring;
	assert_true(strlen(m) > 1000);
	assert_true(util_utf8_valid(m, strlen(m)));
	cJSON_Delete(o);
}

/* text_unchanged: without JSON, the text line as before (newlines folded) */
static void
test_text_format(void **state)
{
	(void)state;
	log_init("clubos-test", 0);
	log_set_format(LOG_TEXT);
	capture(log_hostile);
	assert_non_null(strstr(captured, " ERROR clubos-test["));
	assert_non_null(strstr(captured, "newline CR  tab"));
	assert_null(memchr(captured, '\n', strlen(captured) - 1));
	capture(log_plain);
	assert_non_null(strstr(captured, "trace=0123456789abcdef0123456789abcdef bay 3 is frozen"));
}

/* env_selects: CLUBOS_LOG_FORMAT=json at log_init picks JSON, anything else text */
static void
test_env_selects(void **state)
{
	(void)state;
	setenv("CLUBOS_LOG_FORMAT", "json", 1);
	log_init("clubos-test", 0);
	capture(log_no_trace);
	assert_int_equal(captured[0], '{');
	setenv("CLUBOS_LOG_FORMAT", "text", 1);
	log_init("clubos-test", 0);
	capture(log_no_trace);
	assert_int_not_equal(captured[0], '{');
	unsetenv("CLUBOS_LOG_FORMAT");
}

static int  hook_calls;
static char hook_msg[256];

static void
hook(enum log_level lvl, const char *trace_id, const char *msg)
{
	(void)trace_id;
	assert_int_equal(lvl, LOG_ERROR);
	hook_calls++;
	snprintf(hook_msg, sizeof(hook_msg), "%s", msg);
}

static void
log_levels(void)
{
	log_info("not an error");
	log_warn("not an error either");
	log_error("disk %s", "full");
}

/* hook: told of errors only, with the formatted message */
static void
test_hook(void **state)
{
	(void)state;
	log_init("clubos-test", 0);
	log_set_format(LOG_TEXT);
	log_set_hook(hook);
	capture(log_levels);
	log_set_hook(NULL);
	assert_int_equal(hook_calls, 1);
	assert_string_equal(hook_msg, "disk full");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_fields),  cmocka_unit_test(test_json_no_trace),
	    cmocka_unit_test(test_json_escapes), cmocka_unit_test(test_json_long),
	    cmocka_unit_test(test_text_format),  cmocka_unit_test(test_env_selects),
	    cmocka_unit_test(test_hook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
