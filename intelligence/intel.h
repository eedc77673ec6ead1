/*
 * intel.h - clubos-intelligence's internal interface
 *
 * main.c     the daemon: ops, the feedback subscription, the recovery sweep
 * analyse.c  unhelpful feedback -> clusters -> proposals (local or Claude)
 * ingest.c   staff knowledge -> pieces -> classified -> merge proposals
 * propose.c  one proposal record: diff, upsert, the API's JSON
 * knowledge.c  the one writer of SOPs, examples and decisions (ops from the
 *            gateway and clubosctl)
 * claude.c   the Anthropic Messages API client
 * journal.c  applying a change, and recovering one left half-way
 */
#ifndef CLUBOS_INTEL_H
#define CLUBOS_INTEL_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/cfg.h"
#include "common/db.h"
#include "common/rpc.h"
#include "assistants/retrieval.h"
#include "intelligence/claude.h"

/* What every analysis shares: settings, the router, Claude when configured. */
struct intel {
	const struct cfg *cfg;
	rpc_client       *router;
	claude           *claude; /* NULL: local analyser only */
};

/* A proposal before it is stored. */
struct intel_prop {
	const char    *kind;     /* add_examples, add_answer, revise, merge, new_topic */
	const char    *analyser; /* local, claude, ingest */
	const char    *slug;     /* target SOP (new_topic: the slug it would get, or NULL) */
	const char    *cluster_key;
	int            base_version;
	const char    *base_sha256; /* NULL for new_topic */
	const char    *base_content;
	const char    *content; /* NULL: a flag with nothing to apply */
	const cJSON   *examples;
	const cJSON   *new_sop;
	const char    *rationale;
	const int64_t *evidence;
	int            nevidence;
	const char    *source_sha256; /* ingest: the normalised text's hash */
};

int intel_store(db_conn *db, const struct intel_prop *p, cJSON *made);

int intel_analyse(struct intel *in, db_conn *db, const char *tid, cJSON *made, char *why,
                  size_t whylen);
int intel_ingest(struct intel *in, db_conn *db, const char *tid, const char *text, int64_t by,
                 cJSON *made, char *why, size_t whylen);

/* The knowledge ops (knowledge.c); each answers through rep. */
void know_sop_change(struct intel *in, db_conn *db, const char *tid, const char *body, size_t len,
                     struct rpc_reply *rep);
void know_examples(struct intel *in, db_conn *db, const char *tid, const char *body, size_t len,
                   struct rpc_reply *rep);
void know_decide(struct intel *in, db_conn *db, const char *tid, const char *body, size_t len,
                 struct rpc_reply *rep);
void know_seed(struct intel *in, db_conn *db, const char *tid, const char *body, size_t len,
               struct rpc_reply *rep);

/* Every SOP's current text and a BM25 index over them (analyse.c). */
struct intel_sops {
	PGresult         *r; /* slug route title keywords content version sha256 audience */
	int               n;
	struct ret_index *ix;
	struct ret_doc   *docs;
};
int  intel_sops_load(db_conn *db, struct intel_sops *s);
void intel_sops_free(struct intel_sops *s);
int  intel_sop_index(const struct intel_sops *s, const char *slug);

/* Helpers shared by analyse.c and ingest.c. */
char  *intel_evidence_array(const int64_t *ids, int n);
int    intel_classify(struct intel *in, const char *tid, const char *const *texts, int n,
                      char (*label)[96], double *prob);
cJSON *intel_new_topic(const struct intel_sops *s, const char *text, const char *audience,
                       char **slug);

#endif
