/*
 * answer.c - what a cache entry keeps of an answer
 *
 * One shape for both halves of L1 and for L2/L3: the route, confidence,
 * SOP (slug and version), response and escalation, with no actions; never
 * the trace id, the timings or the tier, which belong to the request that
 * is served from it.
 */
#include "cache/cache.h"

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
	value = json_print(keep);
	cJSON_Delete(keep);
	return value;
}
