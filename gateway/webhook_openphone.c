/*
 * webhook_openphone.c - POST /api/webhooks/openphone
 *
 * OpenPhone (Quo) calls this for texts, calls and delivery updates.  No
 * bearer: the request is signed (opsig.c: the legacy openphone-signature
 * header or the Standard Webhooks headers), and nothing is read or stored
 * before the signature is checked.  A good event is stored in
 * webhook_events (its event id unique) and clubos_webhooks is NOTIFYd in
 * the same statement's transaction, BEFORE the 200: clubos-conversations
 * acts on it.  When PostgreSQL cannot take it the answer is 503, so
 * OpenPhone delivers it again; a replayed event id is answered 200 and
 * changes nothing.  Without OPENPHONE_WEBHOOK_SECRET the answer is 503:
 * never open.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/gw.h"
#include "gateway/opsig.h"

#define OP_EVENT_ID_MAX 128
#define OP_TYPE_MAX 64

/* api_openphone_webhook - check, store, answer */
void
api_openphone_webhook(struct gw_ctx *x)
{
	const struct http_req *req = x->req;
	struct opsig_headers   h = {
	      .legacy = http_header(req, "openphone-signature"),
	      .id = http_header(req, "webhook-id"),
	      .ts = http_header(req, "webhook-timestamp"),
	      .sig = http_header(req, "webhook-signature"),
        };
	const char *why, *id, *type;
	cJSON      *o, *r;
	PGresult   *res;
	char       *payload;
	int         rc;

	if (*gw.cfg->openphone_webhook_secret == '\0') {
		gw_error(x, 503, "not_configured",
		         "OpenPhone webhooks are off: OPENPHONE_WEBHOOK_SECRET is not set");
		return;
	}
	if (req->body_len > GW_MAX_BODY) {
		gw_error(x, 413, "body_too_large", "the request body is larger than 64 KiB");
		return;
	}
	rc = opsig_verify(gw.cfg->openphone_webhook_secret, &h, req->body, req->body_len,
	                  time(NULL));
	if (rc == OPSIG_NO_SECRET) {
		gw_error(x, 503, "not_configured",
		         "OpenPhone webhooks are off: OPENPHONE_WEBHOOK_SECRET is not base64");
		return;
	}
	if (rc != OPSIG_OK) {
		log_msg(LOG_WARN, x->trace_id, "openphone webhook: bad signature");
		gw_error(x, 401, "bad_signature",
		         "the OpenPhone signature is missing, malformed, too old or wrong");
		return;
	}
	if (!util_utf8_valid(req->body, req->body_len)) {
		gw_error(x, 400, "invalid_utf8", "the body is not valid UTF-8");
		return;
	}
	if ((o = json_parse(req->body, req->body_len, &why)) == NULL || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		gw_error(x, 400, "malformed_json", "the body is not a JSON object");
		return;
	}
	id = json_str(o, "id");
	type = json_str(o, "type");
	if (id == NULL || *id == '\0' || strlen(id) > OP_EVENT_ID_MAX || type == NULL ||
	    *type == '\0' || strlen(type) > OP_TYPE_MAX) {
		cJSON_Delete(o);
		gw_error(x, 400, "bad_request", "an event needs an \"id\" and a \"type\"");
		return;
	}
	/* Stored as it came (normalised by jsonb), then the doorbell. */
	payload = json_print(o);
	res = payload == NULL
	          ? NULL
	          : db_exec(x->w->db,
	                    "WITH ins AS (INSERT INTO webhook_events (provider, event_id, type, "
	                    "payload) VALUES ('openphone', $1, $2, $3::jsonb) ON CONFLICT "
	                    "(provider, event_id) DO NOTHING RETURNING id) "
	                    "SELECT id, pg_notify('clubos_webhooks', id::text) FROM ins",
	                    3, (const char *const[]){id, type, payload});
	free(payload);
	if (res == NULL) {
		cJSON_Delete(o);
		gw_db_error(x, x->w->db);
		return;
	}
	r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "stored", PQntuples(res) == 1);
	cJSON_AddBoolToObject(r, "duplicate", PQntuples(res) == 0);
	log_msg(LOG_INFO, x->trace_id, "openphone webhook: %s %s", type,
	        PQntuples(res) == 1 ? "stored" : "seen before");
	PQclear(res);
	cJSON_Delete(o);
	gw_json(x, 200, r);
}
