/*
 * api_examples.c - the router's training examples, editable live
 *
 *   GET    /api/examples?label=SLUG   (staff)  the examples, optionally of one label
 *   POST   /api/examples              (admin)  {"text", "label"}: add one
 *   DELETE /api/examples/{id}         (admin)  remove one
 *
 * A change bumps the knowledge generation and asks the router to retrain
 * before answering, so the very next query is routed by the new model; the
 * examples.changed event tells any other router to retrain too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/env.h"
#include "common/json.h"
#include "common/util.h"
#include "gateway/gw.h"

#define EXAMPLE_RETRAIN_MS 60000

/* retrain - bump the generation, ask the router to retrain, tell the bus */
static int
retrain(struct gw_ctx *x, cJSON *out)
{
	struct rpc_reply rep;
	PGresult        *r;
	char             ev[64];
	long long        gen = 0;

	r = db_exec(x->w->db,
	            "UPDATE knowledge_generation SET gen = gen + 1 WHERE id = 1 "
	            "RETURNING gen",
	            0, NULL);
	if (r != NULL && PQntuples(r) == 1)
		gen = strtoll(db_val(r, 0, 0), NULL, 10);
	PQclear(r);
	snprintf(ev, sizeof(ev), "{\"kgen\":%lld}", gen);
	bus_publish("examples.changed", ev);
	if (rpc_call(gw.router, ENV_OP_RELOAD, x->trace_id, env_now_ms() + EXAMPLE_RETRAIN_MS, "{}",
	             2, &rep) != 0 ||
	    rep.status != 0) {
		rpc_reply_clear(&rep);
		return -1;
	}
	{
		const char *why;
		cJSON      *st = json_parse(rep.body, rep.len, &why);

		if (st != NULL)
			cJSON_AddItemToObject(out, "model",
			                      cJSON_DetachItemFromObject(st, "model"));
		cJSON_Delete(st);
	}
	rpc_reply_clear(&rep);
	return 0;
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
	PGresult   *r;
	cJSON      *o;
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
	{
		const char *p[] = {text, label};

		r = db_exec(
		    x->w->db,
		    "INSERT INTO route_examples (text, label, source) "
		    "SELECT $1, $2, 'api' WHERE $2 = 'oos' OR EXISTS (SELECT 1 FROM sops WHERE "
		    "slug = $2) "
		    "ON CONFLICT (text, label) DO UPDATE SET source = route_examples.source "
		    "RETURNING id, (xmax = 0) AS inserted",
		    2, p);
	}
	if (r == NULL) {
		gw_error(x, 503, "database_unavailable", "the example could not be stored");
		return;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		gw_error(x, 400, "unknown_label", "\"label\" must be an SOP slug or \"oos\"");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", strtod(db_val(r, 0, 0), NULL));
	cJSON_AddStringToObject(o, "text", text);
	cJSON_AddStringToObject(o, "label", label);
	cJSON_AddBoolToObject(o, "created", strcmp(db_val(r, 0, 1), "t") == 0);
	PQclear(r);
	if (retrain(x, o) < 0) {
		cJSON_Delete(o);
		gw_error(x, 503, "retrain_failed",
		         "the example is stored, but the router did not retrain; it will on its "
		         "next start");
		return;
	}
	gw_json(x, 201, o);
}

/* api_examples_delete - DELETE /api/examples/{id} */
void
api_examples_delete(struct gw_ctx *x)
{
	const char *p[] = {x->params[0]};
	PGresult   *r;
	cJSON      *o;

	if (strspn(x->params[0], "0123456789") != strlen(x->params[0]) ||
	    strlen(x->params[0]) > 18) {
		gw_error(x, 404, "not_found", "no such example");
		return;
	}
	r = db_exec(x->w->db, "DELETE FROM route_examples WHERE id = $1 RETURNING id", 1, p);
	if (r == NULL) {
		gw_error(x, 503, "database_unavailable", "the database is not answering");
		return;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		gw_error(x, 404, "not_found", "no such example");
		return;
	}
	PQclear(r);
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "deleted", true);
	if (retrain(x, o) < 0) {
		cJSON_Delete(o);
		gw_error(x, 503, "retrain_failed",
		         "the example is deleted, but the router did not retrain");
		return;
	}
	gw_json(x, 200, o);
}
