/*
 * analyse.c - from unhelpful verdicts to proposed SOP changes
 *
 * 1. Evidence: unhelpful feedback on the current version of its SOP (or on
 *    an answer no SOP gave), not yet used by a proposal that was approved,
 *    applied or rejected.  A correct_answer counts only from staff.
 * 2. Clusters: grouped by the SOP that answered (or the route, when none
 *    did), then by similar wording (word-set Jaccard, single link).
 * 3. A cluster is acted on with min_evidence verdicts, or one staff
 *    correction.  The local analyser then proposes:
 *    - add_examples: the staff correction is what another SOP already says,
 *      so the phrasings should have reached that SOP;
 *    - add_answer: the correction becomes a question-and-answer section of
 *      the SOP that answered;
 *    - new_topic: nothing fits; with a correction it is a new SOP ready to
 *      approve, without one a gap flagged for a person to write.
 *    With ANTHROPIC_API_KEY, Claude is asked first for a revision of the
 *    target SOP; a reply that does not validate is logged and the local
 *    analyser's proposal stands instead.
 *
 * Called by main.c, one analysis at a time.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assistants/retrieval.h"
#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "intelligence/intel.h"

#define AN_MAX_FEEDBACK 2000
#define AN_MAX_WORDS 48
#define AN_JACCARD 0.30
#define AN_STRONG 0.60 /* correction terms an SOP must hold to "already say it" */
#define AN_MAX_PROPOSALS 20
#define AN_QA_HEADING "## Questions staff answered"
#define AN_CLAUDE_BUDGET_US (60LL * 1000000) /* then the local analyser does the rest */

struct fb {
	int64_t     id;
	const char *message, *slug, *route, *answer, *comment, *correct;
	uint32_t    words[AN_MAX_WORDS];
	int         nwords;
	int         cluster;
};

static const char *const stopwords[] = {
    "a",   "an",     "and",  "are",  "at",   "be",   "can", "do",   "does",  "for",   "i",
    "in",  "is",     "it",   "me",   "my",   "of",   "on",  "or",   "the",   "there", "to",
    "we",  "what",   "you",  "your", "with", "how",  "if",  "this", "that",  "our",   "hi",
    "hey", "please", "just", "am",   "was",  "have", "has", "will", "would", "could", NULL};

/* stop - a word too common to tell questions apart? */
static bool
stop(const char *w, size_t n)
{
	for (const char *const *s = stopwords; *s != NULL; s++)
		if (strlen(*s) == n && strncmp(*s, w, n) == 0)
			return true;
	return false;
}

/* words_of - the message's distinct content words, hashed and sorted */
static int
words_of(const char *text, uint32_t *out, int cap)
{
	char w[64];
	int  n = 0;

	for (const char *p = text; *p;) {
		size_t len = 0;

		while (*p && !isalnum((unsigned char)*p))
			p++;
		while (isalnum((unsigned char)*p) || *p == '\'') {
			if (len < sizeof(w) - 1 && *p != '\'')
				w[len++] = (char)tolower((unsigned char)*p);
			p++;
		}
		if (len < 2 || stop(w, len))
			continue;
		{
			uint32_t h = 2166136261u;
			int      i;

			for (size_t k = 0; k < len; k++)
				h = (h ^ (unsigned char)w[k]) * 16777619u;
			for (i = 0; i < n && out[i] < h; i++)
				;
			if ((i < n && out[i] == h) || n == cap)
				continue;
			memmove(out + i + 1, out + i, (size_t)(n - i) * sizeof(*out));
			out[i] = h;
			n++;
		}
	}
	return n;
}

/* jaccard - overlap of two sorted word sets */
static double
jaccard(const struct fb *a, const struct fb *b)
{
	int i = 0, j = 0, both = 0;

	if (a->nwords == 0 || b->nwords == 0)
		return 0;
	while (i < a->nwords && j < b->nwords) {
		if (a->words[i] == b->words[j]) {
			both++;
			i++;
			j++;
		} else if (a->words[i] < b->words[j]) {
			i++;
		} else {
			j++;
		}
	}
	return (double)both / (double)(a->nwords + b->nwords - both);
}

/* sops_load - every SOP's current text, and a BM25 index over them */
int
intel_sops_load(db_conn *db, struct intel_sops *s)
{
	memset(s, 0, sizeof(*s));
	s->r =
	    db_exec(db,
	            "SELECT s.slug, s.route, s.title, s.keywords, v.content, s.version, "
	            "  v.sha256, s.audience "
	            "FROM sops s JOIN sop_versions v ON v.slug = s.slug AND v.version = s.version "
	            "WHERE s.route NOT IN ('emergency') ORDER BY s.slug",
	            0, NULL);
	if (s->r == NULL)
		return -1;
	s->n = PQntuples(s->r);
	if ((s->docs = calloc((size_t)s->n + 1, sizeof(*s->docs))) == NULL)
		return -1;
	for (int i = 0; i < s->n; i++)
		s->docs[i] =
		    (struct ret_doc){db_val(s->r, i, 2), db_val(s->r, i, 3), db_val(s->r, i, 4)};
	s->ix = ret_build(s->docs, (size_t)s->n);
	return s->ix != NULL ? 0 : -1;
}

/* sops_free - release what sops_load made */
void
intel_sops_free(struct intel_sops *s)
{
	ret_free(s->ix);
	free(s->docs);
	PQclear(s->r);
}

/* sop_index - the row of a slug, or -1 */
int
intel_sop_index(const struct intel_sops *s, const char *slug)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(db_val(s->r, i, 0), slug) == 0)
			return i;
	return -1;
}

/* slugify - "general.some-words-of-text", at most five words, into out */
static void
slugify(const char *text, char *out, size_t cap)
{
	size_t len = (size_t)snprintf(out, cap, "general.");
	int    words = 0;

	for (const char *p = text; *p && words < 5 && len < 48;) {
		size_t n = 0;
		char   w[32];

		while (*p && !isalnum((unsigned char)*p))
			p++;
		while (isalnum((unsigned char)*p)) {
			if (n < sizeof(w) - 1)
				w[n++] = (char)tolower((unsigned char)*p);
			p++;
		}
		if (n < 2 || stop(w, n))
			continue;
		w[n] = '\0';
		len += (size_t)snprintf(out + len, cap - len, "%s%s", words ? "-" : "", w);
		words++;
	}
	if (words == 0)
		snprintf(out + len, cap - len, "new-topic");
}

/*
 * intel_new_topic - a new SOP for text: a general.* slug no SOP has (the
 * words of text, then -2 .. -9), malloc'd into *slug, and its description
 * (route, audience, a title of at most 100 characters).  NULL when no slug
 * is free or out of memory.
 */
cJSON *
intel_new_topic(const struct intel_sops *s, const char *text, const char *audience, char **slug)
{
	char   base[64], try[72], title[128];
	cJSON *o;

	slugify(text, base, sizeof(base));
	snprintf(try, sizeof(try), "%s", base);
	for (int k = 2; intel_sop_index(s, try) >= 0; k++) {
		if (k == 10)
			return NULL;
		snprintf(try, sizeof(try), "%s-%d", base, k);
	}
	/* The title: whole characters only. */
	util_utf8_copy(title, sizeof(title), text, 100);
	if ((*slug = strdup(try)) == NULL || (o = cJSON_CreateObject()) == NULL) {
		free(*slug);
		*slug = NULL;
		return NULL;
	}
	cJSON_AddStringToObject(o, "route", "general");
	cJSON_AddStringToObject(o, "audience", audience);
	cJSON_AddStringToObject(o, "title", title);
	cJSON_AddStringToObject(o, "keywords", "");
	return o;
}

/* add_answer_text - content plus one question and answer; malloc'd, NULL if already there */
static char *
add_answer_text(const char *content, const char *question, const char *answer)
{
	bool   has = strstr(content, AN_QA_HEADING) != NULL;
	size_t n = strlen(content) + strlen(question) + strlen(answer) + sizeof(AN_QA_HEADING) + 16;
	char  *out;
	size_t len;

	if (strstr(content, answer) != NULL)
		return NULL;
	if ((out = malloc(n)) == NULL)
		return NULL;
	len = strlen(content);
	while (len > 0 && content[len - 1] == '\n')
		len--;
	snprintf(out, n, "%.*s\n\n%s%s**%s**\n%s\n", (int)len, content, has ? "" : AN_QA_HEADING,
	         has ? "" : "\n\n", question, answer);
	return out;
}

/* load_evidence - the unhelpful verdicts not used yet */
static PGresult *
load_evidence(db_conn *db)
{
	return db_exec(
	    db,
	    "SELECT f.id, t.message, coalesce(f.sop_slug, ''), coalesce(f.route, ''), "
	    "  coalesce(t.response, ''), coalesce(f.comment, ''), "
	    "  CASE WHEN u.role IN ('admin', 'operator', 'support') "
	    "       THEN coalesce(f.correct_answer, '') ELSE '' END "
	    "FROM feedback f JOIN traces t ON t.trace_id = f.trace_id "
	    "LEFT JOIN users u ON u.id = f.user_id "
	    "LEFT JOIN sops s ON s.slug = f.sop_slug "
	    "WHERE NOT f.helpful AND coalesce(f.route, '') NOT IN ('emergency', 'customerinfo') "
	    "  AND (f.sop_slug IS NULL OR f.sop_version = s.version) "
	    "  AND NOT EXISTS (SELECT 1 FROM proposals p WHERE f.id = ANY (p.evidence_ids) "
	    "                  AND p.status IN ('approved', 'applied', 'rejected')) "
	    "ORDER BY f.id LIMIT 2000",
	    0, NULL);
}

/* A cluster being turned into a proposal. */
struct cluster {
	struct fb **m;
	int         n;
	const char *group; /* the SOP that answered, or "" */
	const char *correct;
	int64_t    *ids;
};

/* examples_for - the members' messages as examples of label */
static cJSON *
examples_for(const struct cluster *c, const char *label)
{
	cJSON *a = cJSON_CreateArray();

	for (int i = 0; i < c->n; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "text", c->m[i]->message);
		cJSON_AddStringToObject(e, "label", label);
		cJSON_AddItemToArray(a, e);
	}
	return a;
}

/* ask_claude - a revision of SOP row i from Claude; 0 and a stored proposal, or -1 */
static int
ask_claude(struct intel *in, db_conn *db, const struct cluster *c, const struct intel_sops *s,
           int i, const char *key, cJSON *made)
{
	struct claude_case    *cases = calloc((size_t)c->n, sizeof(*cases));
	struct claude_proposal out = {0};
	struct claude_request  req = {.slug = db_val(s->r, i, 0),
	                              .title = db_val(s->r, i, 2),
	                              .content = db_val(s->r, i, 4),
	                              .cases = cases,
	                              .ncases = (size_t)c->n};
	char                   why[160];
	int                    rc = -1;

	if (cases == NULL)
		return -1;
	for (int k = 0; k < c->n; k++)
		cases[k] = (struct claude_case){c->m[k]->message, c->m[k]->answer,
		                                *c->m[k]->comment ? c->m[k]->comment : NULL,
		                                *c->m[k]->correct ? c->m[k]->correct : NULL};
	if (claude_propose(in->claude, &req, &out, why, sizeof(why)) < 0) {
		log_warn("claude: no proposal for %s (%d cases): %s; the local analyser decides",
		         req.slug, c->n, why);
	} else {
		struct intel_prop p = {.kind = "revise",
		                       .analyser = "claude",
		                       .slug = req.slug,
		                       .cluster_key = key,
		                       .base_version = atoi(db_val(s->r, i, 5)),
		                       .base_sha256 = db_val(s->r, i, 6),
		                       .base_content = req.content,
		                       .content = out.content,
		                       .rationale = out.rationale,
		                       .evidence = c->ids,
		                       .nevidence = c->n};

		rc = intel_store(db, &p, made);
	}
	claude_proposal_clear(&out);
	free(cases);
	return rc;
}

/* propose_local - the local analyser's proposal for one cluster */
static int
propose_local(db_conn *db, const struct cluster *c, const struct intel_sops *s, const char *key,
              cJSON *made)
{
	struct ret_hit    hit = {.doc = -1};
	int               x = *c->group ? intel_sop_index(s, c->group) : -1, y = -1;
	struct intel_prop p = {
	    .analyser = "local", .cluster_key = key, .evidence = c->ids, .nevidence = c->n};
	cJSON      *examples = NULL, *new_sop = NULL;
	char       *content = NULL, *slug = NULL, why[256];
	const char *q = c->m[0]->message;
	int         rc;

	if (c->correct != NULL && ret_search(s->ix, c->correct, &hit, 1) == 1)
		y = hit.doc;
	if (c->correct != NULL && y >= 0 && y != x && hit.coverage >= AN_STRONG) {
		/* The right answer exists: the phrasings should reach it. */
		p.kind = "add_examples";
		p.slug = db_val(s->r, y, 0);
		p.content = p.base_content = db_val(s->r, y, 4);
		examples = examples_for(c, p.slug);
		snprintf(why, sizeof(why),
		         "%d unhelpful answer(s) from %s; staff's correction is what %s already "
		         "says, so these phrasings should reach it",
		         c->n, x >= 0 ? c->group : "no SOP", p.slug);
	} else if (c->correct != NULL && x >= 0) {
		int t = x;

		p.kind = "add_answer";
		p.slug = db_val(s->r, t, 0);
		p.base_content = db_val(s->r, t, 4);
		if ((content = add_answer_text(p.base_content, q, c->correct)) == NULL)
			return 0; /* it says so already */
		p.content = content;
		snprintf(
		    why, sizeof(why),
		    "%d unhelpful answer(s) from %s; staff gave the answer, added as a question "
		    "and answer",
		    c->n, c->group);
	} else if (x < 0) {
		/* A gap.  With staff's answer it is a new SOP ready to approve. */
		p.kind = "new_topic";
		if ((new_sop = intel_new_topic(s, q, "all", &slug)) == NULL)
			return -1;
		p.slug = slug;
		if (c->correct != NULL) {
			p.content = c->correct;
			examples = examples_for(c, slug);
		}
		snprintf(why, sizeof(why), "%d question(s) no SOP answered%s", c->n,
		         c->correct ? "; staff's answer becomes a new SOP"
		                    : "; a person should write "
		                      "the topic");
	} else {
		log_info("cluster %s: %d unhelpful answer(s) from %s, no correction: nothing the "
		         "local analyser can write",
		         key, c->n, c->group);
		return 0;
	}
	if (strcmp(p.kind, "new_topic") != 0) {
		int t = intel_sop_index(s, p.slug);

		p.base_version = atoi(db_val(s->r, t, 5));
		p.base_sha256 = db_val(s->r, t, 6);
	}
	p.examples = examples;
	p.new_sop = new_sop;
	p.rationale = why;
	rc = intel_store(db, &p, made);
	cJSON_Delete(examples);
	cJSON_Delete(new_sop);
	free(content);
	free(slug);
	return rc;
}

/* unchanged - is there a pending proposal for this cluster with exactly this evidence? */
static bool
unchanged(db_conn *db, const char *key, const struct cluster *c)
{
	char       *ev = intel_evidence_array(c->ids, c->n);
	const char *p[] = {key, ev};
	PGresult   *r = ev == NULL ? NULL
	                           : db_exec(db,
	                                     "SELECT 1 FROM proposals WHERE cluster_key = $1 "
	                                       "AND status = 'pending' AND evidence_ids = $2::bigint[]",
	                                     2, p);
	bool        same = r != NULL && PQntuples(r) > 0;

	PQclear(r);
	free(ev);
	return same;
}

/* intel_analyse - one whole analysis; proposals made or refreshed go into made */
int
intel_analyse(struct intel *in, db_conn *db, const char *tid, cJSON *made, char *why, size_t whylen)
{
	PGresult         *r = load_evidence(db);
	struct intel_sops s;
	struct fb        *fb = NULL;
	struct cluster   *cl = NULL;
	int               n, ncl = 0, made_n = 0, rc = -1;
	int64_t           t0 = env_mono_us();

	(void)tid;
	memset(&s, 0, sizeof(s));
	if (r == NULL || intel_sops_load(db, &s) < 0) {
		snprintf(why, whylen, "the database is not answering");
		PQclear(r);
		intel_sops_free(&s);
		return -1;
	}
	n = PQntuples(r);
	fb = calloc((size_t)n + 1, sizeof(*fb));
	cl = calloc((size_t)n + 1, sizeof(*cl));
	if (fb == NULL || cl == NULL)
		goto out;
	for (int i = 0; i < n; i++) {
		struct fb *f = &fb[i];

		f->id = strtoll(db_val(r, i, 0), NULL, 10);
		f->message = db_val(r, i, 1);
		f->slug = db_val(r, i, 2);
		f->route = db_val(r, i, 3);
		f->answer = db_val(r, i, 4);
		f->comment = db_val(r, i, 5);
		f->correct = db_val(r, i, 6);
		f->nwords = words_of(f->message, f->words, AN_MAX_WORDS);
		f->cluster = -1;
		/* Single link: join the first cluster of the same group with a close member. */
		for (int j = 0; j < i && f->cluster < 0; j++)
			if (strcmp(fb[j].slug, f->slug) == 0 &&
			    (*f->slug || strcmp(fb[j].route, f->route) == 0) &&
			    jaccard(&fb[j], f) >= AN_JACCARD)
				f->cluster = fb[j].cluster;
		if (f->cluster < 0) {
			f->cluster = ncl++;
			cl[f->cluster].group = f->slug;
			if ((cl[f->cluster].m = calloc((size_t)n, sizeof(struct fb *))) == NULL ||
			    (cl[f->cluster].ids = calloc((size_t)n, sizeof(int64_t))) == NULL)
				goto out;
		}
		{
			struct cluster *c = &cl[f->cluster];

			c->ids[c->n] = f->id;
			c->m[c->n++] = f;
			if (*f->correct)
				c->correct = f->correct; /* the latest correction wins */
		}
	}
	for (int k = 0; k < ncl && made_n < AN_MAX_PROPOSALS; k++) {
		struct cluster *c = &cl[k];
		char            key[160];
		int             target;

		if (c->n < in->cfg->intel_min_evidence && c->correct == NULL)
			continue;
		snprintf(key, sizeof(key), "feedback:%s:%lld",
		         *c->group ? c->group : c->m[0]->route, (long long)c->ids[0]);
		if (unchanged(db, key, c)) /* its pending proposal has this evidence already */
			continue;
		target = *c->group ? intel_sop_index(&s, c->group) : -1;
		if (in->claude != NULL && target >= 0 && env_mono_us() - t0 < AN_CLAUDE_BUDGET_US &&
		    ask_claude(in, db, c, &s, target, key, made) == 0) {
			made_n++;
			continue;
		}
		if (propose_local(db, c, &s, key, made) < 0)
			log_warn("cluster %s: the proposal could not be stored", key);
		made_n++;
	}
	log_info("analysis: %d unhelpful verdict(s), %d cluster(s), %d proposal(s) made or "
	         "refreshed",
	         n, ncl, cJSON_GetArraySize(made));
	rc = 0;
out:
	if (rc < 0)
		snprintf(why, whylen, "out of memory");
	for (int k = 0; cl != NULL && k < ncl; k++) {
		free(cl[k].m);
		free(cl[k].ids);
	}
	free(cl);
	free(fb);
	intel_sops_free(&s);
	PQclear(r);
	return rc;
}
