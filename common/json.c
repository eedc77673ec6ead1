/*
 * json.c - small helpers over cJSON
 */
#include "json.h"

#include <stdlib.h>
#include <string.h>

/* json_depth_ok - nesting no deeper than JSON_MAX_DEPTH (strings skipped) */
static bool
json_depth_ok(const char *s, size_t len)
{
	int  depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[') {
			if (++depth > JSON_MAX_DEPTH)
				return false;
		} else if (c == '}' || c == ']')
			depth--;
	}
	return true;
}

/* json_parse - parse a complete JSON text of len bytes; NULL with *why */
cJSON *
json_parse(const char *text, size_t len, const char **why)
{
	const char *end = NULL;
	cJSON      *o;

	if (len == 0) {
		*why = "empty body";
		return NULL;
	}
	if (memchr(text, '\0', len) != NULL) {
		*why = "body contains a NUL byte";
		return NULL;
	}
	if (!json_depth_ok(text, len)) {
		*why = "JSON nested too deeply";
		return NULL;
	}
	o = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (o == NULL) {
		*why = "malformed JSON";
		return NULL;
	}
	while (end != NULL && end < text + len &&
	       (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
		end++;
	if (end != NULL && end < text + len && *end != '\0') {
		cJSON_Delete(o);
		*why = "trailing data after JSON";
		return NULL;
	}
	return o;
}

/* json_error_obj - {"error": {"code", "message"}} */
cJSON *
json_error_obj(const char *code, const char *message)
{
	cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");

	if (e == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	return o;
}

/* json_str - a string member, or NULL when absent or of another type */
const char *
json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* json_int - an integer member, or def */
int
json_int(const cJSON *o, const char *key, int def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valueint : def;
}

/* json_num - a number member, or def */
double
json_num(const cJSON *o, const char *key, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* json_bool - a boolean member, or def */
bool
json_bool(const cJSON *o, const char *key, bool def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

/* json_print - compact text; the caller frees it with free() */
char *
json_print(const cJSON *o)
{
	return cJSON_PrintUnformatted(o);
}

/* json_add_str - add a string member, or null when val is NULL */
int
json_add_str(cJSON *o, const char *key, const char *val)
{
	cJSON *v = val != NULL ? cJSON_CreateString(val) : cJSON_CreateNull();

	if (v == NULL)
		return -1;
	return cJSON_AddItemToObject(o, key, v) ? 0 : -1;
}
