/*
 * api_settings.c - GET/PATCH /api/settings, GET /api/settings/history
 *
 * The settings themselves (keys, validation, storage, the cache every
 * daemon reads through) are common/settings.c; this is their HTTP face.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/settings.h"
#include "gateway/gw.h"

/* api_settings_get - GET /api/settings: the settings now */
void
api_settings_get(struct gw_ctx *x)
{
	struct settings s;

	/* Straight from the table, so an admin sees their change at once. */
	if (settings_read(x->w->db, &s) < 0) {
		gw_db_error(x, x->w->db);
		return;
	}
	gw_json(x, 200, settings_json(&s));
}

/* api_settings_patch - PATCH /api/settings: change any of the settings */
void
api_settings_patch(struct gw_ctx *x)
{
	struct settings s;
	const char     *code = "invalid_value";
	char            msg[200];
	int rc = settings_patch(x->w->db, x->body, x->user_id, &s, &code, msg, sizeof(msg));

	if (rc == 0)
		gw_json(x, 200, settings_json(&s));
	else
		gw_error(x, rc == -1 ? 400 : 503, code, msg);
}

/* api_settings_history - GET /api/settings/history: the last 200 changes */
void
api_settings_history(struct gw_ctx *x)
{
	PGresult *r = db_exec(
	    x->w->db,
	    "SELECT coalesce(json_agg(json_build_object('id', c.id, 'key', c.key, "
	    "'old_value', c.old_value, 'new_value', c.new_value, 'changed_by', c.changed_by, "
	    "'changed_by_email', u.email, 'changed_at', c.changed_at) ORDER BY c.id DESC), "
	    "'[]')::text FROM (SELECT * FROM settings_changes ORDER BY id DESC LIMIT 200) c "
	    "LEFT JOIN users u ON u.id = c.changed_by",
	    0, NULL);
	cJSON *o;

	if (r == NULL) {
		gw_db_error(x, x->w->db);
		return;
	}
	o = cJSON_Parse(db_val(r, 0, 0));
	PQclear(r);
	gw_json(x, o != NULL ? 200 : 500, o != NULL ? o : json_error_obj("internal", "bad JSON"));
}
