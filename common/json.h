/*
 * json.h - small helpers over cJSON
 *
 * Typed getters that say what was wrong, a nesting-depth check that runs
 * before cJSON builds a tree, and the contract's error object.
 */
#ifndef CLUBOS_JSON_H
#define CLUBOS_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define JSON_MAX_DEPTH 16

cJSON      *json_parse(const char *text, size_t len, const char **why);
cJSON      *json_error_obj(const char *code, const char *message);
const char *json_str(const cJSON *o, const char *key);
int         json_int(const cJSON *o, const char *key, int def);
double      json_num(const cJSON *o, const char *key, double def);
bool        json_bool(const cJSON *o, const char *key, bool def);
char       *json_print(const cJSON *o);
int         json_add_str(cJSON *o, const char *key, const char *val);

#endif
