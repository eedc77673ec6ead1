/*
 * api_examples.c - the router's training examples, editable live
 *
 *   GET    /api/examples?label=SLUG   (staff)  the examples, optionally of one label
 *   POST   /api/examples              (admin)  {"text", "label"}: add one
 *   DELETE /api/examples/{id}         (admin)  remove one
 *
 * Changes go to clubos-intelligence, the one writer of knowledge: through
 * the journal, a new knowledge generation, and the router retrained before
 * the answer comes back, so the very next query is routed by the new model;
 * the examples.changed event tells any other router to retrain too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/env.h"
#include "common/json.h"
#include "common/util.h"
#include "gateway/gw.h"

/* examples_change - ask the knowledge owner (body taken); answer with status on success */
static void
examples_change(struct gw_ctx *x, cJSON *body, int status)
{
	cJSON *o;

	cJSON_AddNumberToObject(body, "by", (double)x->user_id);
	if ((o = gw_intel_call(x, ENV_OP_KNOW_EXAMPLES, body, GW_KNOW_DEADLINE_MS)) == NULL)
		return;
	gw_kgen_seen((long long)json_num(o, "kgen", 0));
	gw_json(x, status, o);
}

/* api_examples_list - GET /api/examples */
void
api_examples_list(struct gw_ctx *x)
{
	char        label[96] = "";
	const char *p[] = {label};
	PGresult   *r;
	cJSON      *o;

	gw_query_param(x->req->query, "label", label, sizeof(label));
	r = db_exec(
	    x->w->db,
	    "SELECT coalesce(json_agg(json_build_object('id', id, 'text', text, 'label', label, "
	    "  'source', source) ORDER BY id), '[]')::text FROM route_examples "
	    "WHERE $1 = '' OR label = $1",
	    1, p);
	if (r == NULL) {
		gw_error(x, 503, "database_unavailable", "the database is not answering");
		return;
	}
	o = cJSON_Parse(db_val(r, 0, 0));
	PQclear(r);
	gw_json(x, 200, o);
}

/* api_examples_add - POST /api/examples */
void
api_examples_add(struct gw_ctx *x)
{
	const char *text = json_str(x->body, "text"), *label = json_str(x->body, "label");
	cJSON      *q;
	bool        utf8;
	size_t      chars;

	if (text == NULL || label == NULL) {
		gw_error(x, 400, "missing_field", "\"text\" and \"label\" are required strings");
		return;
	}
	chars = util_utf8_chars(text, strlen(text), &utf8);
	if (!utf8 || chars < 1 || chars > GW_MAX_MESSAGE) {
		gw_error(x, 400, "invalid_length",
		         "\"text\" must be 1 to 2000 characters of UTF-8");
		return;
	}
	q = cJSON_CreateObject();
	cJSON_AddStringToObject(q, "op", "add");
	cJSON_AddStringToObject(q, "text", text);
	cJSON_AddStringToObject(q, "label", label);
	examples_change(x, q, 201);
}

/* api_examples_delete - DELETE /api/examples/{id} */
void
api_examples_delete(struct gw_ctx *x)
{
	cJSON *q;

	if (strspn(x->params[0], "0123456789") != strlen(x->params[0]) ||
	    strlen(x->params[0]) > 15) {
		gw_error(x, 404, "not_found", "no such example");
		return;
	}
	q = cJSON_CreateObject();
	cJSON_AddStringToObject(q, "op", "delete");
	cJSON_AddNumberToObject(q, "id", strtod(x->params[0], NULL));
	examples_change(x, q, 200);
}
