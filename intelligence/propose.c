/*
 * propose.c - storing a proposal: its diff, the one-pending rule, its JSON
 *
 * Every analyser and the knowledge intake end here.  The diff shows the
 * SOP's text change (diff -u) followed by the training examples it adds,
 * so an admin reads the whole change in one place.  While a proposal for
 * the same SOP and cluster is pending it is refreshed in place (new
 * evidence, new base), never duplicated; if nothing changed it is left
 * alone and not reported again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diff.h"
#include "common/json.h"
#include "common/log.h"
#include "intelligence/intel.h"

/* examples_diff - the examples a proposal adds, as a diff section; malloc'd */
static char *
examples_diff(const char *slug, const cJSON *examples)
{
	const cJSON *e;
	size_t       cap = 256, len = 0;
	int          n = cJSON_GetArraySize(examples);
	char        *out;

	cJSON_ArrayForEach(e, examples) cap +=
	    strlen(json_str(e, "text") ? json_str(e, "text") : "") +
	    strlen(json_str(e, "label") ? json_str(e, "label") : "") + 8;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	len += (size_t)snprintf(
	    out, cap, "--- a/examples/%s\n+++ b/examples/%s\n@@ -0,0 +1,%d @@\n", slug, slug, n);
	cJSON_ArrayForEach(e, examples)
	{
		const char *t = json_str(e, "text"), *l = json_str(e, "label");

		len += (size_t)snprintf(out + len, cap - len, "+%s\t%s\n", l ? l : "", t ? t : "");
	}
	return out;
}

/* build_diff - the text diff then the examples; malloc'd */
static char *
build_diff(const struct intel_prop *p)
{
	char  *text, *ex = NULL, *out;
	char   name[128];
	size_t n;

	snprintf(name, sizeof(name), "sops/%s.md", p->slug ? p->slug : "new-topic");
	text = diff_unified(p->base_content ? p->base_content : "", p->content ? p->content : "",
	                    name, 3);
	if (text == NULL)
		return NULL;
	if (p->examples != NULL && cJSON_GetArraySize(p->examples) > 0 &&
	    (ex = examples_diff(p->slug ? p->slug : "new-topic", p->examples)) == NULL) {
		free(text);
		return NULL;
	}
	n = strlen(text) + (ex ? strlen(ex) : 0) + 1;
	if ((out = malloc(n)) != NULL)
		snprintf(out, n, "%s%s", text, ex ? ex : "");
	free(text);
	free(ex);
	return out;
}

/* intel_evidence_array - "{1,2,3}" for PostgreSQL; malloc'd */
char *
intel_evidence_array(const int64_t *ids, int n)
{
	size_t cap = 3 + (size_t)n * 21, len = 1;
	char  *s = malloc(cap);

	if (s == NULL)
		return NULL;
	s[0] = '{';
	for (int i = 0; i < n; i++)
		len +=
		    (size_t)snprintf(s + len, cap - len, "%s%lld", i ? "," : "", (long long)ids[i]);
	snprintf(s + len, cap - len, "}");
	return s;
}

/* intel_store - upsert one proposal; appends its JSON to made if new or changed; 0 or -1 */
int
intel_store(db_conn *db, const struct intel_prop *p, cJSON *made)
{
	char     *diff = build_diff(p), *ev = intel_evidence_array(p->evidence, p->nevidence);
	char     *examples = p->examples ? cJSON_PrintUnformatted(p->examples) : strdup("[]");
	char     *new_sop = p->new_sop ? cJSON_PrintUnformatted(p->new_sop) : NULL;
	char      ver[16], nev[16];
	PGresult *r = NULL;
	int       rc = -1;

	if (diff == NULL || ev == NULL || examples == NULL)
		goto out;
	snprintf(ver, sizeof(ver), "%d", p->base_version);
	snprintf(nev, sizeof(nev), "%d", p->nevidence);
	{
		const char *v[] = {p->kind,
		                   p->analyser,
		                   p->slug,
		                   p->cluster_key,
		                   p->base_sha256 ? ver : NULL,
		                   p->base_sha256,
		                   p->content,
		                   examples,
		                   diff,
		                   p->rationale ? p->rationale : "",
		                   ev,
		                   nev,
		                   p->source_sha256,
		                   new_sop};

		/* The pending row is refreshed only when something in it changed. */
		r = db_exec(
		    db,
		    "INSERT INTO proposals AS p (kind, analyser, sop_slug, cluster_key, "
		    "base_version, "
		    "  base_sha256, content, examples, diff, rationale, evidence_ids, "
		    "evidence_count, "
		    "  source_sha256, new_sop) "
		    "VALUES ($1, $2, $3, $4, $5::int, $6, $7, $8::jsonb, $9, $10, $11::bigint[], "
		    "  $12::int, $13, $14::jsonb) "
		    "ON CONFLICT ((coalesce(sop_slug, '')), cluster_key) WHERE status = 'pending' "
		    "DO UPDATE SET kind = EXCLUDED.kind, analyser = EXCLUDED.analyser, "
		    "  base_version = EXCLUDED.base_version, base_sha256 = EXCLUDED.base_sha256, "
		    "  content = EXCLUDED.content, examples = EXCLUDED.examples, diff = "
		    "EXCLUDED.diff, "
		    "  rationale = EXCLUDED.rationale, evidence_ids = EXCLUDED.evidence_ids, "
		    "  evidence_count = EXCLUDED.evidence_count, new_sop = EXCLUDED.new_sop, "
		    "  updated_at = now() "
		    "WHERE (p.evidence_ids, p.base_sha256, p.content, p.examples) IS DISTINCT FROM "
		    "  (EXCLUDED.evidence_ids, EXCLUDED.base_sha256, EXCLUDED.content, "
		    "   EXCLUDED.examples) "
		    "  AND NOT (p.analyser = 'claude' AND EXCLUDED.analyser = 'local' "
		    "           AND p.base_sha256 = EXCLUDED.base_sha256) "
		    "RETURNING proposal_json(p, false)::text, id, (xmax = 0)",
		    14, v);
	}
	if (r == NULL)
		goto out;
	if (PQntuples(r) == 1) {
		const char *why;
		cJSON      *o = json_parse(db_val(r, 0, 0), strlen(db_val(r, 0, 0)), &why);

		if (o != NULL)
			cJSON_AddItemToArray(made, o);
		log_info("proposal %s %s: %s %s on %s, %d piece(s) of evidence", db_val(r, 0, 1),
		         strcmp(db_val(r, 0, 2), "t") == 0 ? "made" : "refreshed", p->analyser,
		         p->kind, p->slug ? p->slug : "a new topic", p->nevidence);
	}
	rc = 0;
out:
	PQclear(r);
	free(diff);
	free(ev);
	free(examples);
	free(new_sop);
	return rc;
}
