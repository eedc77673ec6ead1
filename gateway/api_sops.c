/*
 * api_sops.c - changing SOPs: PUT /api/sops/{slug}, POST .../rollback
 *
 * A change never rewrites history: it adds an immutable version.  The
 * gateway checks the request and asks clubos-intelligence, the one writer of
 * knowledge, which takes the journal's path (intelligence/journal.c): journal
 * entry, one transaction that checks the base hash (409 when the SOP moved
 * on) and adds the version, sop.changed on the bus, done.  The gateway then
 * carries the new generation on every query, so a worker that is behind
 * reloads before answering.  A rollback is a new version whose content
 * equals the old one's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/gw.h"

/* sop_change - ask the knowledge owner to make the change (body taken) and answer */
static void
sop_change(struct gw_ctx *x, cJSON *body)
{
	cJSON *o;

	cJSON_AddStringToObject(body, "slug", x->params[0]);
	cJSON_AddNumberToObject(body, "by", (double)x->user_id);
	if ((o = gw_intel_call(x, ENV_OP_KNOW_SOP, body, GW_KNOW_DEADLINE_MS)) == NULL)
		return;
	/* This gateway's half of L1 empties now, not when the bus says so. */
	gw_kgen_seen((long long)json_num(o, "kgen", 0));
	gw_json(x, 200, o);
}

/* api_sop_put - PUT /api/sops/{slug} {"content", "base_sha256"} */
void
api_sop_put(struct gw_ctx *x)
{
	const char *content = json_str(x->body, "content"),
	           *base = json_str(x->body, "base_sha256");
	cJSON *q;
	bool   utf8;

	if (content == NULL || base == NULL) {
		gw_error(x, 400, "missing_field",
		         "\"content\" and \"base_sha256\" are required strings");
		return;
	}
	if (!util_is_hex(base, 64)) {
		gw_error(x, 400, "invalid_value",
		         "\"base_sha256\" must be 64 lowercase hex characters");
		return;
	}
	if (util_utf8_chars(content, strlen(content), &utf8) < 1 || !utf8 ||
	    strlen(content) > GW_SOP_MAX_CONTENT) {
		gw_error(x, 400, "invalid_length",
		         "\"content\" must be 1 character to 60 KiB of UTF-8");
		return;
	}
	q = cJSON_CreateObject();
	cJSON_AddStringToObject(q, "op", "edit");
	cJSON_AddStringToObject(q, "content", content);
	cJSON_AddStringToObject(q, "base_sha256", base);
	sop_change(x, q);
}

/* api_sop_rollback - POST /api/sops/{slug}/rollback {"version"} */
void
api_sop_rollback(struct gw_ctx *x)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->body, "version");
	cJSON       *q;

	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble ||
	    v->valueint < 1) {
		gw_error(x, 400, "wrong_type", "\"version\" must be a whole number of 1 or more");
		return;
	}
	q = cJSON_CreateObject();
	cJSON_AddStringToObject(q, "op", "rollback");
	cJSON_AddNumberToObject(q, "version", v->valueint);
	sop_change(x, q);
}
