/*
 * answer.c - what a cache entry keeps of an answer
 *
 * One shape for both halves of L1 and for L2/L3: the route, confidence,
 * SOP (slug and version), response and escalation, with no actions; never
 * the trace id, the timings or the tier, which belong to the request that
 * is served from it.
 */
#include "cache/cache.h"

#include <string.h>

#include "common/json.h"

/* cache_answer_value - the kept part of an answer, printed (malloc'd), or NULL */
char *
cache_answer_value(const cJSON *answer)
{
	cJSON *keep = cJSON_CreateObject();
	char  *value;

	if (keep == NULL)
		return NULL;
	cJSON_AddStringToObject(keep, "route", json_str(answer, "route"));
	cJSON_AddNumberToObject(keep, "confidence", json_num(answer, "confidence", 0));
	cJSON_AddItemToObject(keep, "sop", cJSON_Duplicate(cJSON_GetObjectItem(answer, "sop"), 1));
	cJSON_AddStringToObject(keep, "response", json_str(answer, "response"));
	cJSON_AddItemToObject(keep, "escalation",
	                      cJSON_Duplicate(cJSON_GetObjectItem(answer, "escalation"), 1));
	cJSON_AddArrayToObject(keep, "actions");
	/* Who wrote it: a model's answer is served only while the tier is on
	 * for everyone (settings_serves_stored). */
	if (json_str(answer, "composed_by") != NULL)
		cJSON_AddStringToObject(keep, "composed_by", json_str(answer, "composed_by"));
	value = json_print(keep);
	cJSON_Delete(keep);
	return value;
}

/* put_entry_ok - a storable entry: key, scope, label, version and value, in bounds */
static bool
put_entry_ok(const cJSON *e)
{
	const char *key = json_str(e, "key"), *scope = json_str(e, "scope");
	const char *label = json_str(e, "label"), *value = json_str(e, "value");

	return cJSON_IsObject(e) && key != NULL && scope != NULL && label != NULL &&
	       value != NULL && json_int(e, "version", 0) >= 1 && strlen(key) <= CACHE_KEY_MAX &&
	       strlen(value) <= CACHE_VALUE_MAX && strlen(label) <= CACHE_LABEL_MAX;
}

/* cache_put_rows - see cache.h */
cJSON *
cache_put_rows(const cJSON *q, int *refused, const char **why)
{
	const cJSON *list = cJSON_GetObjectItem(q, "entries"), *e;
	cJSON       *rows;

	*refused = 0;
	if (list != NULL && (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > CACHE_PUT_MAX)) {
		*why = "cache.put: entries must be an array of at most 256";
		return NULL;
	}
	if (list == NULL && !put_entry_ok(q)) {
		*why = "cache.put needs key, scope, label, version and value";
		return NULL;
	}
	if ((rows = cJSON_CreateArray()) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	for (e = list != NULL ? list->child : q; e != NULL; e = list != NULL ? e->next : NULL) {
		const cJSON *later;
		cJSON       *o;
		bool         again = false;

		if (!put_entry_ok(e)) {
			++*refused;
			continue;
		}
		for (later = list != NULL ? e->next : NULL; later != NULL && !again;
		     later = later->next)
			again = put_entry_ok(later) &&
			        strcmp(json_str(later, "key"), json_str(e, "key")) == 0;
		if (again)
			continue; /* a later one of the same key wins */
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "key", json_str(e, "key"));
		cJSON_AddStringToObject(o, "scope", json_str(e, "scope"));
		cJSON_AddStringToObject(o, "label", json_str(e, "label"));
		cJSON_AddNumberToObject(o, "version", json_int(e, "version", 0));
		cJSON_AddStringToObject(o, "value", json_str(e, "value"));
		cJSON_AddItemToArray(rows, o);
	}
	return rows;
}
