/*
 * settings.c - runtime settings: defaults, a cached read, validated changes
 *
 * One table of keys (name, type, range) drives reading, showing and
 * validating, so a new setting is one line here and one field in the
 * struct.  The cache is per process: one mutex, one copy, refreshed from
 * the settings table when older than SETTINGS_TTL_MS.
 */
#include "common/settings.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

static const char *const sms_names[] = {"off", "shadow", "approval", "auto"};
static const char *const llm_names[] = {"off", "shadow", "on"};

enum kind { K_ENUM, K_PERCENT, K_UNIT, K_TEXT };

/* The keys: name, kind, where the value lives, the names of an enum (for
 * K_TEXT, nnames is the most characters). */
static const struct key {
	const char        *name;
	enum kind          kind;
	size_t             off;
	const char *const *names;
	int                nnames;
} keys[] = {
    {"llm_mode", K_ENUM, offsetof(struct settings, llm_mode), llm_names, 3},
    {"llm_rollout_percent", K_PERCENT, offsetof(struct settings, llm_rollout_percent), NULL, 0},
    {"llm_voice", K_TEXT, offsetof(struct settings, llm_voice), NULL, SETTINGS_VOICE_MAX},
    {"sms_reply_mode", K_ENUM, offsetof(struct settings, sms_reply_mode), sms_names, 4},
    {"sms_rollout_percent", K_PERCENT, offsetof(struct settings, sms_rollout_percent), NULL, 0},
    {"sop_confidence_threshold", K_UNIT, offsetof(struct settings, sop_confidence_threshold), NULL,
     0},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct settings cache;
static bool            cache_init;
static int64_t         cache_at_ms;   /* monotonic; 0 = read at next use */
static bool            cache_loading; /* a caller is reading the table */

/* now_ms - monotonic milliseconds */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* settings_defaults - the values before any admin changed one */
void
settings_defaults(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	s->sms_reply_mode = SMS_MODE_AUTO;
	s->sms_rollout_percent = 100;
	s->sop_confidence_threshold = 0.4;
	s->llm_mode = LLM_MODE_OFF;
	s->llm_rollout_percent = 100;
}

/* find_key - the table entry of a name, or NULL */
static const struct key *
find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/*
 * check_value - whether v is a valid value of k; on success stores it in s.
 * Fills msg with what is wrong otherwise.
 */
static bool
check_value(const struct key *k, const cJSON *v, struct settings *s, char *msg, size_t cap)
{
	char *at = (char *)s + k->off;

	switch (k->kind) {
	case K_ENUM:
		if (cJSON_IsString(v))
			for (int i = 0; i < k->nnames; i++)
				if (strcmp(v->valuestring, k->names[i]) == 0) {
					*(int *)(void *)at = i;
					return true;
				}
		{
			size_t n = (size_t)snprintf(msg, cap, "\"%s\" must be one of", k->name);

			for (int i = 0; i < k->nnames && n < cap; i++)
				n += (size_t)snprintf(msg + n, cap - n, "%s %s", i ? "," : "",
				                      k->names[i]);
		}
		return false;
	case K_PERCENT:
		if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 100 &&
		    v->valuedouble == floor(v->valuedouble)) {
			*(int *)(void *)at = (int)v->valuedouble;
			return true;
		}
		snprintf(msg, cap, "\"%s\" must be a whole number from 0 to 100", k->name);
		return false;
	case K_UNIT:
		if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1) {
			*(double *)(void *)at = v->valuedouble;
			return true;
		}
		snprintf(msg, cap, "\"%s\" must be a number from 0 to 1", k->name);
		return false;
	case K_TEXT:
		if (cJSON_IsString(v)) {
			size_t len = strlen(v->valuestring);
			bool   valid, ctl = false;

			for (size_t i = 0; i < len && !ctl; i++)
				ctl = ((unsigned char)v->valuestring[i] < 0x20 &&
				       v->valuestring[i] != '\n') ||
				      v->valuestring[i] == 0x7f;
			if (util_utf8_chars(v->valuestring, len, &valid) <= (size_t)k->nnames &&
			    valid && !ctl) {
				memcpy(at, v->valuestring, len + 1);
				return true;
			}
		}
		snprintf(msg, cap,
		         "\"%s\" must be text of at most %d characters, UTF-8, with no control "
		         "characters but line breaks",
		         k->name, k->nnames);
		return false;
	}
	return false;
}

/* value_json - one key's value as JSON */
static cJSON *
value_json(const struct key *k, const struct settings *s)
{
	const char *at = (const char *)s + k->off;

	switch (k->kind) {
	case K_ENUM: {
		int i = *(const int *)(const void *)at;

		return cJSON_CreateString(i >= 0 && i < k->nnames ? k->names[i] : "off");
	}
	case K_PERCENT:
		return cJSON_CreateNumber(*(const int *)(const void *)at);
	case K_UNIT:
		return cJSON_CreateNumber(*(const double *)(const void *)at);
	case K_TEXT:
		return cJSON_CreateString(at);
	}
	return cJSON_CreateNull();
}

/* settings_json - the settings as the API shows them */
cJSON *
settings_json(const struct settings *s)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < NKEYS; i++)
		cJSON_AddItemToObject(o, keys[i].name, value_json(&keys[i], s));
	return o;
}

/* load - read every stored key over the defaults; -1 when the database failed */
static int
load(db_conn *db, struct settings *s)
{
	PGresult *r = db_exec(db, "SELECT key, value::text FROM settings", 0, NULL);
	char      msg[160];

	if (r == NULL)
		return -1;
	settings_defaults(s);
	for (int i = 0; i < PQntuples(r); i++) {
		const struct key *k = find_key(db_val(r, i, 0));
		cJSON            *v = cJSON_Parse(db_val(r, i, 1));

		/* A key this build does not know, or a value it cannot use, is
		 * left at its default rather than trusted. */
		if (k == NULL || v == NULL || !check_value(k, v, s, msg, sizeof(msg)))
			log_warn("settings: ignoring stored %s", db_val(r, i, 0));
		cJSON_Delete(v);
	}
	PQclear(r);
	return 0;
}

/* settings_current - the settings now (cached for SETTINGS_TTL_MS) */
void
settings_current(db_conn *db, struct settings *out)
{
	int64_t now = now_ms();
	bool    fresh;

	pthread_mutex_lock(&cache_mu);
	if (!cache_init) {
		settings_defaults(&cache);
		cache_init = true;
	}
	fresh = cache_at_ms != 0 && now - cache_at_ms < SETTINGS_TTL_MS;
	/* One refresh at a time: the caller that finds the copy stale claims
	 * the next interval and reads; the others use the copy meanwhile, so a
	 * slow database delays one request a second, not all of them. */
	if (!fresh && db != NULL && !cache_loading)
		cache_loading = true;
	else
		fresh = true;
	*out = cache;
	pthread_mutex_unlock(&cache_mu);
	if (fresh)
		return;
	{
		struct settings s;

		/* A failed read keeps the last good copy and is tried again
		 * after the same interval. */
		int rc = load(db, &s);

		pthread_mutex_lock(&cache_mu);
		if (rc == 0)
			cache = s;
		cache_at_ms = now;
		cache_loading = false;
		*out = cache;
		pthread_mutex_unlock(&cache_mu);
	}
}

/* settings_read - the table now, bypassing (and refreshing) the cache */
int
settings_read(db_conn *db, struct settings *out)
{
	struct settings s;

	if (load(db, &s) < 0)
		return -1;
	pthread_mutex_lock(&cache_mu);
	cache = s;
	cache_init = true;
	cache_at_ms = now_ms();
	pthread_mutex_unlock(&cache_mu);
	*out = s;
	return 0;
}

/* settings_invalidate - the next settings_current() reads the database */
void
settings_invalidate(void)
{
	pthread_mutex_lock(&cache_mu);
	cache_at_ms = 0;
	pthread_mutex_unlock(&cache_mu);
}

/* settings_serves_stored - see settings.h */
bool
settings_serves_stored(const struct settings *s, double confidence, bool by_model)
{
	if (confidence < s->sop_confidence_threshold)
		return false;
	return !by_model || (s->llm_mode == LLM_MODE_ON && s->llm_rollout_percent >= 100);
}

/* settings_in_rollout - a stable bucket of id (0..99) below percent */
bool
settings_in_rollout(int percent, int64_t id)
{
	uint64_t x = (uint64_t)id;

	if (percent >= 100)
		return true;
	if (percent <= 0)
		return false;
	/* splitmix64's finaliser: neighbouring ids land in unrelated buckets */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (int)(x % 100) < percent;
}

const char *
settings_sms_mode_name(enum sms_reply_mode m)
{
	return (unsigned)m < 4 ? sms_names[m] : "off";
}

const char *
settings_llm_mode_name(enum llm_mode m)
{
	return (unsigned)m < 3 ? llm_names[m] : "off";
}

/* settings_patch - validate a change and store it with its history */
int
settings_patch(db_conn *db, const cJSON *body, int64_t user_id, struct settings *out,
               const char **code, char *msg, size_t msgcap)
{
	struct settings s;
	const cJSON    *it;
	bool            seen[NKEYS] = {false};
	char            uid[24];
	int             n = 0;

	if (!cJSON_IsObject(body)) {
		*code = "invalid_body";
		snprintf(msg, msgcap, "send a JSON object of settings");
		return -1;
	}
	if (load(db, &s) < 0) {
		*code = "database_unavailable";
		snprintf(msg, msgcap, "the database is not answering");
		return -2;
	}
	cJSON_ArrayForEach(it, body)
	{
		const struct key *k = it->string ? find_key(it->string) : NULL;

		if (k == NULL || seen[k - keys]) {
			*code = "unknown_field";
			snprintf(msg, msgcap, "%s: not a setting, or named twice",
			         it->string ? it->string : "?");
			return -1;
		}
		seen[k - keys] = true;
		if (!check_value(k, it, &s, msg, msgcap)) {
			*code = "invalid_value";
			return -1;
		}
		n++;
	}
	if (n == 0) {
		*code = "missing_field";
		snprintf(msg, msgcap, "send at least one setting to change");
		return -1;
	}
	snprintf(uid, sizeof(uid), "%lld", (long long)user_id);
	if (db_begin(db) < 0)
		goto fail;
	for (size_t i = 0; i < NKEYS; i++) {
		cJSON *v;
		char  *vj;
		int    rc;

		if (!seen[i])
			continue;
		v = value_json(&keys[i], &s);
		vj = json_print(v);
		cJSON_Delete(v);
		{
			const char *p[] = {keys[i].name, vj, user_id > 0 ? uid : NULL};

			/* The history row keeps what the key held before (NULL: the
			 * default), read under the row lock of the upsert. */
			rc = db_cmd(
			    db,
			    "WITH old AS (SELECT value FROM settings WHERE key = $1 FOR UPDATE) "
			    "INSERT INTO settings_changes (key, old_value, new_value, changed_by) "
			    "SELECT $1, (SELECT value FROM old), $2::jsonb, $3::bigint",
			    3, p);
			if (rc >= 0)
				rc = db_cmd(
				    db,
				    "INSERT INTO settings (key, value, updated_by) "
				    "VALUES ($1, $2::jsonb, $3::bigint) ON CONFLICT (key) DO "
				    "UPDATE "
				    "SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, "
				    "updated_at = now()",
				    3, p);
		}
		free(vj);
		if (rc < 0) {
			db_rollback(db);
			goto fail;
		}
	}
	if (db_commit(db) < 0)
		goto fail;
	settings_invalidate();
	*out = s;
	return 0;
fail:
	*code = "database_unavailable";
	snprintf(msg, msgcap, "the settings could not be stored; nothing changed");
	return -2;
}
