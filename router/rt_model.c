/*
 * rt_model.c - the router's classifier, trained from PostgreSQL and swapped live
 *
 * Training examples (route_examples) and the topic of each label (sops)
 * come from PostgreSQL.  A reload trains a new model off to the side and
 * swaps it in under a short lock; queries in flight keep the model they
 * started with (reference counted), so a reload never blocks or breaks
 * them.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/db.h"
#include "common/env.h"
#include "common/log.h"
#include "router/rt.h"

const char *const rt_routes[RT_NROUTES] = {"emergency", "booking",      "tech",   "brand",
                                           "strategy",  "customerinfo", "general"};

static pthread_mutex_t  model_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t  train_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rt_model *model_cur;
static char            *model_dsn;
static _Atomic uint64_t model_examples_id; /* the current model's examples_id */

/* rt_route_index - index of a route name, or -1 */
int
rt_route_index(const char *route)
{
	for (int i = 0; i < RT_NROUTES; i++)
		if (strcmp(rt_routes[i], route) == 0)
			return i;
	return -1;
}

/* model_free - release a model nobody uses */
static void
model_free(struct rt_model *m)
{
	if (m == NULL)
		return;
	clf_free(m->clf);
	free(m->label_route);
	free(m);
}

/* model_train - read examples and topics, fit a model */
static struct rt_model *
model_train(db_conn *db)
{
	PGresult        *ex = NULL, *topics = NULL, *gen = NULL;
	clf_example     *exs = NULL;
	struct rt_model *m = NULL;
	clf_params       p;
	char             err[256];
	int64_t          t0 = env_mono_us();
	int              n;

	gen = db_exec(db, "SELECT gen FROM knowledge_generation WHERE id = 1", 0, NULL);
	ex = db_exec(db, "SELECT text, label FROM route_examples ORDER BY id", 0, NULL);
	topics = db_exec(db, "SELECT slug, route FROM sops", 0, NULL);
	if (gen == NULL || ex == NULL || topics == NULL || PQntuples(gen) != 1)
		goto out;
	n = PQntuples(ex);
	if (n == 0) {
		log_error("model: no training examples in route_examples (run clubosctl seed)");
		goto out;
	}
	if ((exs = calloc((size_t)n, sizeof(*exs))) == NULL)
		goto out;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		goto out;
	/* FNV-1a over the examples in id order: the same examples give the
	 * same id on every router, and any edit gives another. */
	m->examples_id = 0xcbf29ce484222325ULL;
	for (int i = 0; i < n; i++) {
		exs[i].text = db_val(ex, i, 0);
		exs[i].label = db_val(ex, i, 1);
		for (int f = 0; f < 2; f++)
			for (const unsigned char *c = (const unsigned char *)db_val(ex, i, f);;
			     c++) {
				m->examples_id = (m->examples_id ^ *c) * 0x100000001b3ULL;
				if (*c == '\0')
					break;
			}
	}
	clf_params_default(&p);
	if ((m->clf = clf_train(exs, (size_t)n, &p, err, sizeof(err))) == NULL) {
		log_error("model: training failed: %s", err);
		model_free(m);
		m = NULL;
		goto out;
	}
	m->label_route = calloc(clf_nlabels(m->clf), sizeof(int));
	if (m->label_route == NULL) {
		model_free(m);
		m = NULL;
		goto out;
	}
	for (size_t l = 0; l < clf_nlabels(m->clf); l++) {
		const char *name = clf_label_name(m->clf, (int)l);

		m->label_route[l] = -1;
		for (int t = 0; t < PQntuples(topics); t++)
			if (strcmp(db_val(topics, t, 0), name) == 0)
				m->label_route[l] = rt_route_index(db_val(topics, t, 1));
		if (m->label_route[l] < 0 && strcmp(name, "oos") != 0)
			log_warn("model: label %s has no SOP; treated as out of scope", name);
	}
	m->kgen = strtoll(db_val(gen, 0, 0), NULL, 10);
	m->nexamples = (size_t)n;
	m->train_ms = (env_mono_us() - t0) / 1000;
	m->refs = 1;
	log_info("model: trained on %d examples, %zu labels, %lld ms, %zu KiB", n,
	         clf_nlabels(m->clf), (long long)m->train_ms, clf_memory(m->clf) / 1024);
out:
	free(exs);
	PQclear(gen);
	PQclear(ex);
	PQclear(topics);
	return m;
}

/* rt_model_examples_id - what the current model was trained on (rt.h) */
uint64_t
rt_model_examples_id(void)
{
	return atomic_load(&model_examples_id);
}

/* rt_model_reload - train from the database and swap the new model in */
int
rt_model_reload(void)
{
	struct rt_model *m, *old;
	db_conn         *db;

	pthread_mutex_lock(&train_mu);
	if ((db = db_open(model_dsn)) == NULL) {
		pthread_mutex_unlock(&train_mu);
		return -1;
	}
	m = model_train(db);
	db_close(db);
	if (m == NULL) {
		pthread_mutex_unlock(&train_mu);
		return -1;
	}
	pthread_mutex_lock(&model_mu);
	old = model_cur;
	model_cur = m;
	atomic_store(&model_examples_id, m->examples_id);
	pthread_mutex_unlock(&model_mu);
	rt_model_put(old);
	pthread_mutex_unlock(&train_mu);
	return 0;
}

/* rt_model_init - first training; the router does not start without a model */
int
rt_model_init(const char *pg_dsn)
{
	if (model_dsn == NULL && (model_dsn = strdup(pg_dsn)) == NULL)
		return -1;
	return rt_model_reload();
}

/* rt_model_get - the current model, referenced; NULL if none */
struct rt_model *
rt_model_get(void)
{
	struct rt_model *m;

	pthread_mutex_lock(&model_mu);
	if ((m = model_cur) != NULL)
		m->refs++;
	pthread_mutex_unlock(&model_mu);
	return m;
}

/* rt_model_put - drop a reference */
void
rt_model_put(struct rt_model *m)
{
	bool last;

	if (m == NULL)
		return;
	pthread_mutex_lock(&model_mu);
	last = --m->refs == 0;
	pthread_mutex_unlock(&model_mu);
	if (last)
		model_free(m);
}

/* rt_model_shutdown - release the current model */
void
rt_model_shutdown(void)
{
	struct rt_model *m;

	pthread_mutex_lock(&model_mu);
	m = model_cur;
	model_cur = NULL;
	pthread_mutex_unlock(&model_mu);
	rt_model_put(m);
	free(model_dsn);
	model_dsn = NULL;
}
