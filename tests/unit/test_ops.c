/*
 * test_ops.c - unit tests for the local spool of common/ops.c
 *
 * With no database at all, ops_record must put the batch on disk before
 * it returns (and say each record is as good as queued), must say
 * "failed" when it has nowhere to put it, and ops_spool_flush must keep
 * every file it could not write, and set aside (never delete, never
 * retry) a file it cannot read.  Writing the spool into PostgreSQL
 * exactly once is tested end to end (tests/e2e/test_actions.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/ops.h"
#include "common/util.h"

/* count - files in dir whose name ends with suffix */
static int
count(const char *dir, const char *suffix, char *last, size_t cap)
{
	DIR           *d = opendir(dir);
	struct dirent *de;
	int            n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name), s = strlen(suffix);

		if (de->d_name[0] != '.' && l > s && strcmp(de->d_name + l - s, suffix) == 0) {
			n++;
			if (last != NULL)
				snprintf(last, cap, "%s/%s", dir, de->d_name);
		}
	}
	closedir(d);
	return n;
}

/* rm_rf - the test directory, flat */
static void
rm_rf(const char *dir)
{
	DIR           *d = opendir(dir);
	struct dirent *de;
	char           p[600];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static void
spooled_when_no_database(void **state)
{
	char              tmpl[] = "/tmp/opsXXXXXX", dir[64], file[700], *text;
	struct ops_ticket t = {"urgent", "Fire", "EMERGENCY: smoke in \"bay\" 2\n",
	                       "emergency.fire"};
	struct ops_item   it[2] = {
	      {.type = "alert_oncall",
	       .status = "queued",
	       .location = "harbourview",
	       .bay = 2,
	       .conversation_id = 42,
	       .trace_id = "0123456789abcdef0123456789abcdef"},
	      {.type = "ticket_urgent", .status = "done", .ticket = &t, .location = "harbourview"},
        };
	struct ops_result res[2];
	cJSON            *o, *items;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(dir, sizeof(dir), "%s/spool", tmpl); /* created on first use */
	assert_int_equal(ops_record(NULL, dir, it, 2, res), OPS_SPOOLED);
	assert_string_equal(res[0].status, "queued");
	assert_string_equal(res[1].status, "queued"); /* a ticket counts as queued until written */
	assert_int_equal(res[0].action_id, 0);
	assert_int_equal(count(dir, ".json", file, sizeof(file)), 1);
	assert_int_equal(count(dir, ".tmp", NULL, 0), 0);
	text = util_read_file(file, 1 << 20, NULL);
	assert_non_null(text);
	o = cJSON_Parse(text);
	free(text);
	assert_non_null(o);
	assert_true(util_is_hex(cJSON_GetObjectItem(o, "key")->valuestring, 32));
	items = cJSON_GetObjectItem(o, "items");
	assert_int_equal(cJSON_GetArraySize(items), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "type")->valuestring,
	                    "alert_oncall");
	assert_int_equal(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "conversation_id")->valueint, 42);
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 1), "ticket"),
	                        "summary")
	        ->valuestring,
	    t.summary);
	cJSON_Delete(o);

	/* Still no database: the flush writes nothing and keeps the file. */
	assert_int_equal(ops_spool_flush(NULL, dir), -1);
	assert_int_equal(count(dir, ".json", NULL, 0), 1);
	rm_rf(dir);
	rmdir(tmpl);
}

static void
failed_when_nowhere_to_keep_it(void **state)
{
	struct ops_item   it = {.type = "alert_oncall", .status = "queued"};
	struct ops_result res;

	(void)state;
	assert_int_equal(ops_record(NULL, NULL, &it, 1, &res), OPS_FAILED);
	assert_string_equal(res.status, "failed");
	/* A spool that cannot be created is no spool. */
	assert_int_equal(ops_record(NULL, "/proc/no/such/dir", &it, 1, &res), OPS_FAILED);
	assert_string_equal(res.status, "failed");
}

static void
unreadable_spool_file_is_set_aside(void **state)
{
	char  tmpl[] = "/tmp/opsXXXXXX", path[600];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(path, sizeof(path), "%s/0123.json", tmpl);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"key\": \"not hex\", \"items\": 7}", f);
	fclose(f);
	assert_int_equal(ops_spool_flush(NULL, tmpl), 0);
	assert_int_equal(count(tmpl, ".json", NULL, 0), 0);
	assert_int_equal(count(tmpl, ".bad", NULL, 0), 1);
	rm_rf(tmpl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(spooled_when_no_database),
	    cmocka_unit_test(failed_when_nowhere_to_keep_it),
	    cmocka_unit_test(unreadable_spool_file_is_set_aside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
