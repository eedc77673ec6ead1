/*
 * as.h - the assistant worker's internal interface
 *
 * main.c      start/stop, the worker socket, reload on sop.changed
 * kb.c        the route's SOPs, locations and facility facts, swapped live
 * reply.c     one request: pick the SOP, enforce the audience, fill in
 *             facts, record actions
 * customer.c  the customerinfo route: answers from one customer's record
 * retrieval.c BM25 over SOP text
 * llm.c       the generative tier: rewords or picks an answer, guarded
 */
#ifndef CLUBOS_AS_H
#define CLUBOS_AS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "assistants/retrieval.h"
#include "common/cfg.h"
#include "common/db.h"
#include "common/rpc.h"

#define AS_MAX_ACTIONS 8

struct as_sop {
	char *slug, *audience, *title, *keywords, *content, *sha256;
	int   escalation, version;
	char *actions[AS_MAX_ACTIONS];
	int   nactions;
};

struct as_location {
	char *slug, *name, *address, *parking;
	int   bays;
};

struct as_kb {
	struct as_sop      *sops;
	size_t              nsops;
	struct as_location *locs;
	size_t              nlocs;
	char               *booking_site, *support_email, *facility_name, *team_hours;
	ret_index          *index;
	int64_t             kgen;
	int                 refs;
};

extern const char       *as_route;
extern const struct cfg *as_cfg;

int                       as_kb_reload(db_conn *db);
struct as_kb             *as_kb_get(void);
void                      as_kb_put(struct as_kb *kb);
struct as_kb             *as_kb_hold(const struct as_kb *kb);
void                      as_kb_shutdown(void);
const struct as_sop      *as_kb_sop(const struct as_kb *kb, const char *slug);
const struct as_location *as_kb_location(const struct as_kb *kb, const char *slug);
char                     *as_render(const struct as_kb *kb, const char *tmpl, const char *location);

/* The asker, as the gateway vouched for it. */
struct as_asker {
	const char *role;     /* admin operator support kiosk customer */
	const char *audience; /* customer staff admin */
	const char *channel;
	const char *location; /* a known slug or NULL */
	int         bay;      /* 0 = unknown */
	int64_t     user_id;
	int64_t     customer_id; /* linked customer of a customer login, 0 = none */
	const char *customer_phone;
};

bool  as_audience_allows(const char *asker_audience, const char *sop_audience);
void  as_asker_read(const cJSON *q, struct as_asker *a);
void  as_assist(void *arg, void *worker, const struct env_hdr *h, const char *body, size_t len,
                struct rpc_reply *rep);
char *as_customer_answer(db_conn *db, const struct as_asker *a, const char *slug,
                         const char *message, const char *trace_id);

/* The generative tier (llm.c): off without OPENAI_API_KEY. */
bool as_llm_init(const struct cfg *c, db_conn *db);
void as_llm_shutdown(db_conn *db);
void as_llm_after(db_conn *db, const struct env_hdr *h, const cJSON *q, const struct as_kb *kb,
                  const struct as_asker *a, const struct as_sop *sop, double conf, cJSON *r,
                  const cJSON *acts);

#endif
