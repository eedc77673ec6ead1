/*
 * json.c - small helpers over cJSON
 */
#include "common/json.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/*
 * json_scan - one pass over the raw text before cJSON sees it: nesting no
 * deeper than JSON_MAX_DEPTH, and no \u0000 escape in any string (cJSON
 * decodes it to a NUL byte and every C string after it is silently cut
 * short, so "ok\u0000DROP" would read as "ok").  0, or -1 with *why.
 */
static int
json_scan(const char *s, size_t len, const char **why)
{
	int  depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\') {
				if (i + 5 < len && s[i + 1] == 'u' &&
				    memcmp(s + i + 2, "0000", 4) == 0) {
					*why = "a string contains \\u0000";
					return -1;
				}
				i++;
			} else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[') {
			if (++depth > JSON_MAX_DEPTH) {
				*why = "JSON nested too deeply";
				return -1;
			}
		} else if (c == '}' || c == ']')
			depth--;
	}
	return 0;
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
	/* JSON text is UTF-8 (RFC 8259): refuse anything else at the edge,
	 * before a stray byte reaches PostgreSQL or a customer's phone. */
	if (!util_utf8_valid(text, len)) {
		*why = "the body is not valid UTF-8";
		return NULL;
	}
	if (json_scan(text, len, why) < 0)
		return NULL;
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
