/*
 * ingest.c - knowledge intake: what staff know that the SOPs don't say yet
 *
 * The text is split into pieces (split.c), each piece is classified by the
 * router's own classifier (the same model that routes questions), with the
 * SOP retrieval index as a second opinion, and pieces are gathered per SOP:
 * one merge proposal per SOP adding them under a "Notes from staff"
 * heading, or a new_topic proposal per piece nothing fits.  A piece already
 * in its SOP is skipped, and a proposal remembers the hash of its
 * normalised pieces, so the same text ingested twice makes no second one.
 *
 * Called by main.c for ENV_OP_INTEL_INGEST.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "intelligence/intel.h"
#include "intelligence/split.h"

#define IN_MIN_CHARS 40
#define IN_MAX_CHARS 1500
#define IN_MAX_PIECES 200
#define IN_MIN_PROB 0.30
#define IN_MIN_COVERAGE 0.50
#define IN_NOTES_HEADING "## Notes from staff"

/* intel_classify - the router's top label and probability for each text; 0 or -1 */
int
intel_classify(struct intel *in, const char *tid, const char *const *texts, int n,
               char (*label)[96], double *prob)
{
	cJSON           *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "texts"), *res;
	struct rpc_reply rep;
	char            *body;
	const char      *why;
	int              rc = -1;

	for (int i = 0; i < n; i++) {
		cJSON_AddItemToArray(a, cJSON_CreateString(texts[i]));
		label[i][0] = '\0';
		prob[i] = 0;
	}
	body = json_print(o);
	cJSON_Delete(o);
	if (body == NULL)
		return -1;
	if (rpc_call(in->router, ENV_OP_CLASSIFY, tid, env_now_ms() + 10000, body, strlen(body),
	             &rep) == 0 &&
	    rep.status == 0 && (o = json_parse(rep.body, rep.len, &why)) != NULL) {
		res = cJSON_GetObjectItemCaseSensitive(o, "results");
		for (int i = 0; i < n && i < cJSON_GetArraySize(res); i++) {
			const cJSON *top = cJSON_GetArrayItem(cJSON_GetArrayItem(res, i), 0);
			const cJSON *p = cJSON_GetObjectItemCaseSensitive(top, "prob");

			if (json_str(top, "label") != NULL && cJSON_IsNumber(p)) {
				snprintf(label[i], 96, "%s", json_str(top, "label"));
				prob[i] = p->valuedouble;
			}
		}
		cJSON_Delete(o);
		rc = 0;
	}
	rpc_reply_clear(&rep);
	free(body);
	return rc;
}

/* piece_text - a piece as one paragraph, its heading in front when it has one; malloc'd */
static char *
piece_text(const struct split_piece *p)
{
	size_t n = strlen(p->heading) + strlen(p->text) + 8;
	char  *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s%s%s", *p->heading ? p->heading : "", *p->heading ? ": " : "",
		         p->text);
	return s;
}

/* already_there - is the piece's normalised text inside the SOP's normalised text? */
static bool
already_there(const char *content, const char *piece)
{
	char *a = split_normalise(content), *b = split_normalise(piece);
	bool  yes = a != NULL && b != NULL && strstr(a, b) != NULL;

	free(a);
	free(b);
	return yes;
}

/* source_known - has a proposal come from this text before? */
static int
source_known(db_conn *db, const char *sha)
{
	const char *p[] = {sha};
	PGresult   *r = db_exec(db, "SELECT 1 FROM proposals WHERE source_sha256 = $1", 1, p);
	int         yes;

	if (r == NULL)
		return -1;
	yes = PQntuples(r) > 0;
	PQclear(r);
	return yes;
}

/* merge_into - one merge proposal for SOP row t from the pieces marked for it */
static int
merge_into(db_conn *db, const struct intel_sops *s, int t, struct split_piece *pc,
           const int *target, int n, int64_t by, cJSON *made)
{
	const char *base = db_val(s->r, t, 4);
	size_t      cap = strlen(base) + sizeof(IN_NOTES_HEADING) + 8, len;
	char       *content, *norm, sha[65], key[96], why[200];
	int         count = 0, rc;

	for (int i = 0; i < n; i++)
		if (target[i] == t)
			cap += strlen(pc[i].heading) + strlen(pc[i].text) + 8;
	if ((content = malloc(cap)) == NULL || (norm = malloc(cap)) == NULL) {
		free(content);
		return -1;
	}
	len = strlen(base);
	while (len > 0 && base[len - 1] == '\n')
		len--;
	len = (size_t)snprintf(content, cap, "%.*s", (int)len, base);
	norm[0] = '\0';
	if (strstr(base, IN_NOTES_HEADING) == NULL)
		len += (size_t)snprintf(content + len, cap - len, "\n\n%s", IN_NOTES_HEADING);
	for (int i = 0; i < n; i++) {
		char *one, *nt;

		if (target[i] != t)
			continue;
		if ((one = piece_text(&pc[i])) == NULL)
			continue;
		len += (size_t)snprintf(content + len, cap - len, "\n\n%s", one);
		if ((nt = split_normalise(one)) != NULL) {
			strncat(norm, nt, cap - strlen(norm) - 2);
			strcat(norm, "\n");
		}
		free(nt);
		free(one);
		count++;
	}
	snprintf(content + len, cap - len, "\n");
	util_sha256_hex(norm, strlen(norm), sha);
	free(norm);
	if (source_known(db, sha) != 0) {
		free(content);
		return 0;
	}
	snprintf(key, sizeof(key), "ingest:%.16s", sha);
	snprintf(why, sizeof(why),
	         "%d piece(s) of staff knowledge (ingested by user %lld) belong to %s", count,
	         (long long)by, db_val(s->r, t, 0));
	{
		struct intel_prop p = {.kind = "merge",
		                       .analyser = "ingest",
		                       .slug = db_val(s->r, t, 0),
		                       .cluster_key = key,
		                       .base_version = atoi(db_val(s->r, t, 5)),
		                       .base_sha256 = db_val(s->r, t, 6),
		                       .base_content = base,
		                       .content = content,
		                       .rationale = why,
		                       .source_sha256 = sha};

		rc = intel_store(db, &p, made);
	}
	free(content);
	return rc;
}

/* new_topic - a piece no SOP fits becomes a proposed new SOP */
static int
new_topic(db_conn *db, const struct intel_sops *s, const struct split_piece *pc, int64_t by,
          cJSON *made)
{
	char  *one = piece_text(pc), *norm = split_normalise(pc->text), *slug = NULL;
	char   sha[65], key[96], why[160];
	cJSON *new_sop = NULL;
	int    rc = -1;

	if (one == NULL || norm == NULL)
		goto out;
	util_sha256_hex(norm, strlen(norm), sha);
	if ((rc = source_known(db, sha)) != 0)
		goto out;
	rc = -1;
	if ((new_sop = intel_new_topic(s, *pc->heading ? pc->heading : pc->text, "staff", &slug)) ==
	    NULL)
		goto out;
	snprintf(key, sizeof(key), "ingest:%.16s", sha);
	snprintf(why, sizeof(why),
	         "staff knowledge (ingested by user %lld) that no SOP covers: a new topic, "
	         "staff-only until widened",
	         (long long)by);
	{
		struct intel_prop p = {.kind = "new_topic",
		                       .analyser = "ingest",
		                       .slug = slug,
		                       .cluster_key = key,
		                       .content = pc->text,
		                       .new_sop = new_sop,
		                       .rationale = why,
		                       .source_sha256 = sha};

		rc = intel_store(db, &p, made);
	}
out:
	cJSON_Delete(new_sop);
	free(slug);
	free(norm);
	free(one);
	return rc;
}

/* intel_ingest - text to proposals; 0, or -1 with why */
int
intel_ingest(struct intel *in, db_conn *db, const char *tid, const char *text, int64_t by,
             cJSON *made, char *why, size_t whylen)
{
	struct split_piece *pc = NULL;
	struct intel_sops   s;
	bool                truncated = false;
	int                 n, rc = -1, *target = NULL;
	const char        **texts = NULL;
	char(*label)[96] = NULL;
	double *prob = NULL;

	memset(&s, 0, sizeof(s));
	n = split_text(text, strlen(text), IN_MIN_CHARS, IN_MAX_CHARS, IN_MAX_PIECES, &pc,
	               &truncated);
	if (n < 0) {
		snprintf(why, whylen, "the text is not valid UTF-8");
		return -1;
	}
	if (n == 0) {
		snprintf(why, whylen, "the text has nothing to learn from");
		split_free(pc, n);
		return -1;
	}
	if (intel_sops_load(db, &s) < 0) {
		snprintf(why, whylen, "the database is not answering");
		goto out;
	}
	texts = calloc((size_t)n, sizeof(*texts));
	label = calloc((size_t)n, sizeof(*label));
	prob = calloc((size_t)n, sizeof(*prob));
	target = calloc((size_t)n, sizeof(*target));
	if (texts == NULL || label == NULL || prob == NULL || target == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++)
		texts[i] = pc[i].text;
	if (intel_classify(in, tid, texts, n, label, prob) < 0)
		log_warn(
		    "ingest: the router's classifier is not answering; retrieval alone decides");
	for (int i = 0; i < n; i++) {
		struct ret_hit hit;
		int            t = prob[i] >= IN_MIN_PROB ? intel_sop_index(&s, label[i]) : -1;

		if (t < 0 && ret_search(s.ix, pc[i].text, &hit, 1) == 1 &&
		    hit.coverage >= IN_MIN_COVERAGE)
			t = hit.doc;
		if (t >= 0 && already_there(db_val(s.r, t, 4), pc[i].text))
			t = -2; /* nothing new */
		target[i] = t;
		log_info("ingest: piece %d -> %s (classifier %s %.2f)", i,
		         t >= 0    ? db_val(s.r, t, 0)
		         : t == -2 ? "already known"
		                   : "a new topic",
		         *label[i] ? label[i] : "-", prob[i]);
	}
	for (int i = 0; i < n; i++) {
		bool first = true;

		for (int j = 0; j < i; j++)
			if (target[j] == target[i])
				first = false;
		if (target[i] >= 0 && first &&
		    merge_into(db, &s, target[i], pc, target, n, by, made) < 0)
			goto store_failed;
		if (target[i] == -1 && new_topic(db, &s, &pc[i], by, made) < 0)
			goto store_failed;
	}
	if (truncated)
		log_warn("ingest: more than %d pieces; the rest was not read", IN_MAX_PIECES);
	rc = 0;
	goto out;
store_failed:
	snprintf(why, whylen, "a proposal could not be stored");
out:
	free(texts);
	free(label);
	free(prob);
	free(target);
	intel_sops_free(&s);
	split_free(pc, n);
	return rc;
}
