/*
 * kb.c - the route's knowledge, loaded from PostgreSQL and swapped live
 *
 * A reload reads the current version of every SOP of the route, the
 * locations and the facility facts, builds the retrieval index, and swaps
 * the result in; requests in flight keep the copy they started with
 * (reference counted).  Templates use {{name}} placeholders, filled per
 * request by as_render().
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assistants/as.h"
#include "common/log.h"

static pthread_mutex_t kb_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t kb_load_mu = PTHREAD_MUTEX_INITIALIZER;
static struct as_kb   *kb_cur;

/* kb_free - release a knowledge base nobody uses */
static void
kb_free(struct as_kb *kb)
{
	if (kb == NULL)
		return;
	for (size_t i = 0; i < kb->nsops; i++) {
		struct as_sop *s = &kb->sops[i];

		free(s->slug);
		free(s->audience);
		free(s->title);
		free(s->keywords);
		free(s->content);
		free(s->sha256);
		for (int a = 0; a < s->nactions; a++)
			free(s->actions[a]);
	}
	for (size_t i = 0; i < kb->nlocs; i++) {
		free(kb->locs[i].slug);
		free(kb->locs[i].name);
		free(kb->locs[i].address);
		free(kb->locs[i].parking);
	}
	free(kb->sops);
	free(kb->locs);
	free(kb->booking_site);
	free(kb->support_email);
	free(kb->facility_name);
	free(kb->team_hours);
	ret_free(kb->index);
	free(kb);
}

/* parse_actions - a text[] literal {a,b} into the SOP's action list */
static void
parse_actions(struct as_sop *s, const char *lit)
{
	char buf[512], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", lit);
	for (tok = strtok_r(buf, "{},\"", &save); tok != NULL && s->nactions < AS_MAX_ACTIONS;
	     tok = strtok_r(NULL, "{},\"", &save))
		s->actions[s->nactions++] = strdup(tok);
}

/* facility_value - one facility fact, or a fallback */
static char *
facility_value(PGresult *r, const char *key, const char *def)
{
	for (int i = 0; i < PQntuples(r); i++)
		if (strcmp(db_val(r, i, 0), key) == 0)
			return strdup(db_val(r, i, 1));
	return strdup(def);
}

/* kb_load - read everything for the route */
static struct as_kb *
kb_load(db_conn *db)
{
	const char     *p[] = {as_route};
	PGresult       *sops, *locs, *fac, *gen;
	struct as_kb   *kb = calloc(1, sizeof(*kb));
	struct ret_doc *docs = NULL;

	gen = db_exec(db, "SELECT gen FROM knowledge_generation WHERE id = 1", 0, NULL);
	sops =
	    db_exec(db,
	            "SELECT s.slug, s.audience, s.escalation, s.actions, s.title, s.keywords, "
	            "       v.version, v.content, v.sha256 "
	            "FROM sops s JOIN sop_versions v ON v.slug = s.slug AND v.version = s.version "
	            "WHERE s.route = $1 ORDER BY s.slug",
	            1, p);
	locs = db_exec(db, "SELECT slug, name, bays, address, parking FROM locations ORDER BY slug",
	               0, NULL);
	fac = db_exec(db, "SELECT key, value FROM facility", 0, NULL);
	if (kb == NULL || gen == NULL || sops == NULL || locs == NULL || fac == NULL ||
	    PQntuples(gen) != 1)
		goto fail;
	kb->kgen = strtoll(db_val(gen, 0, 0), NULL, 10);
	kb->nsops = (size_t)PQntuples(sops);
	kb->sops = calloc(kb->nsops + 1, sizeof(*kb->sops));
	docs = calloc(kb->nsops + 1, sizeof(*docs));
	if (kb->sops == NULL || docs == NULL)
		goto fail;
	for (size_t i = 0; i < kb->nsops; i++) {
		struct as_sop *s = &kb->sops[i];
		int            r = (int)i;

		s->slug = strdup(db_val(sops, r, 0));
		s->audience = strdup(db_val(sops, r, 1));
		s->escalation = atoi(db_val(sops, r, 2));
		parse_actions(s, db_val(sops, r, 3));
		s->title = strdup(db_val(sops, r, 4));
		s->keywords = strdup(db_val(sops, r, 5));
		s->version = atoi(db_val(sops, r, 6));
		s->content = strdup(db_val(sops, r, 7));
		s->sha256 = strdup(db_val(sops, r, 8));
		if (!s->slug || !s->audience || !s->title || !s->keywords || !s->content ||
		    !s->sha256)
			goto fail;
		docs[i] = (struct ret_doc){s->title, s->keywords, s->content};
	}
	kb->nlocs = (size_t)PQntuples(locs);
	kb->locs = calloc(kb->nlocs + 1, sizeof(*kb->locs));
	if (kb->locs == NULL)
		goto fail;
	for (size_t i = 0; i < kb->nlocs; i++) {
		struct as_location *l = &kb->locs[i];
		int                 r = (int)i;

		l->slug = strdup(db_val(locs, r, 0));
		l->name = strdup(db_val(locs, r, 1));
		l->bays = atoi(db_val(locs, r, 2));
		l->address = strdup(db_val(locs, r, 3));
		l->parking = strdup(db_val(locs, r, 4));
	}
	kb->booking_site = facility_value(fac, "booking_site", "our booking site");
	kb->support_email = facility_value(fac, "support_email", "our support email");
	kb->facility_name = facility_value(fac, "name", "the venue");
	kb->team_hours = facility_value(fac, "team_hours", "8 am to 11 pm");
	if ((kb->index = ret_build(docs, kb->nsops)) == NULL)
		goto fail;
	kb->refs = 1;
	free(docs);
	PQclear(gen);
	PQclear(sops);
	PQclear(locs);
	PQclear(fac);
	return kb;
fail:
	free(docs);
	kb_free(kb);
	PQclear(gen);
	PQclear(sops);
	PQclear(locs);
	PQclear(fac);
	return NULL;
}

/* as_kb_reload - load and swap in the current knowledge */
int
as_kb_reload(db_conn *db)
{
	struct as_kb *kb, *old;

	pthread_mutex_lock(&kb_load_mu);
	if ((kb = kb_load(db)) == NULL) {
		pthread_mutex_unlock(&kb_load_mu);
		log_warn("knowledge: reload failed; keeping what is loaded");
		return -1;
	}
	pthread_mutex_lock(&kb_mu);
	old = kb_cur;
	kb_cur = kb;
	pthread_mutex_unlock(&kb_mu);
	as_kb_put(old);
	pthread_mutex_unlock(&kb_load_mu);
	log_info("knowledge: %zu SOPs for route %s at generation %lld", kb->nsops, as_route,
	         (long long)kb->kgen);
	return 0;
}

/* as_kb_get - the current knowledge, referenced */
struct as_kb *
as_kb_get(void)
{
	struct as_kb *kb;

	pthread_mutex_lock(&kb_mu);
	if ((kb = kb_cur) != NULL)
		kb->refs++;
	pthread_mutex_unlock(&kb_mu);
	return kb;
}

/* as_kb_hold - another reference to kb, which the caller holds already */
struct as_kb *
as_kb_hold(const struct as_kb *kb)
{
	struct as_kb *k = (struct as_kb *)(uintptr_t)kb;

	pthread_mutex_lock(&kb_mu);
	k->refs++;
	pthread_mutex_unlock(&kb_mu);
	return k;
}

/* as_kb_put - drop a reference */
void
as_kb_put(struct as_kb *kb)
{
	bool last;

	if (kb == NULL)
		return;
	pthread_mutex_lock(&kb_mu);
	last = --kb->refs == 0;
	pthread_mutex_unlock(&kb_mu);
	if (last)
		kb_free(kb);
}

/* as_kb_shutdown - release the current knowledge */
void
as_kb_shutdown(void)
{
	struct as_kb *kb;

	pthread_mutex_lock(&kb_mu);
	kb = kb_cur;
	kb_cur = NULL;
	pthread_mutex_unlock(&kb_mu);
	as_kb_put(kb);
}

/* as_kb_sop - an SOP of the route by slug, or NULL */
const struct as_sop *
as_kb_sop(const struct as_kb *kb, const char *slug)
{
	for (size_t i = 0; i < kb->nsops; i++)
		if (strcmp(kb->sops[i].slug, slug) == 0)
			return &kb->sops[i];
	return NULL;
}

/* as_kb_location - a location by slug, or NULL */
const struct as_location *
as_kb_location(const struct as_kb *kb, const char *slug)
{
	if (slug == NULL)
		return NULL;
	for (size_t i = 0; i < kb->nlocs; i++)
		if (strcmp(kb->locs[i].slug, slug) == 0)
			return &kb->locs[i];
	return NULL;
}

struct sbuf {
	char  *p;
	size_t n, cap;
};

/* sb_add - append bytes, growing the buffer */
static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->p == NULL && b->cap == (size_t)-1)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t nc = (b->n + n + 1) * 2;
		char  *np = realloc(b->p, nc);

		if (np == NULL) {
			free(b->p);
			b->p = NULL;
			b->cap = (size_t)-1;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* loc_field - one location field, or every location's when unknown */
static void
loc_field(struct sbuf *b, const struct as_kb *kb, const struct as_location *l, const char *field)
{
	char tmp[64];

	if (l != NULL) {
		if (strcmp(field, "name") == 0)
			sb_str(b, l->name);
		else if (strcmp(field, "address") == 0)
			sb_str(b, l->address);
		else if (strcmp(field, "parking") == 0)
			sb_str(b, l->parking);
		else {
			snprintf(tmp, sizeof(tmp), "%d", l->bays);
			sb_str(b, tmp);
		}
		return;
	}
	for (size_t i = 0; i < kb->nlocs; i++) {
		if (i > 0)
			sb_str(b, i + 1 == kb->nlocs ? " and " : ", ");
		if (strcmp(field, "name") == 0) {
			sb_str(b, kb->locs[i].name);
			continue;
		}
		sb_str(b, kb->locs[i].name);
		sb_str(b, ": ");
		loc_field(b, kb, &kb->locs[i], field);
	}
}

/* as_render - fill {{placeholders}}; the caller frees the result */
char *
as_render(const struct as_kb *kb, const char *tmpl, const char *location)
{
	const struct as_location *l = as_kb_location(kb, location);
	struct sbuf               b = {0};
	const char               *p = tmpl;

	sb_add(&b, "", 0);
	while (*p) {
		const char *open = strstr(p, "{{"), *close;
		char        name[48];
		size_t      n;

		if (open == NULL || (close = strstr(open + 2, "}}")) == NULL ||
		    (n = (size_t)(close - open - 2)) >= sizeof(name)) {
			sb_str(&b, p);
			break;
		}
		sb_add(&b, p, (size_t)(open - p));
		memcpy(name, open + 2, n);
		name[n] = '\0';
		if (strcmp(name, "booking_site") == 0)
			sb_str(&b, kb->booking_site);
		else if (strcmp(name, "support_email") == 0)
			sb_str(&b, kb->support_email);
		else if (strcmp(name, "facility_name") == 0)
			sb_str(&b, kb->facility_name);
		else if (strcmp(name, "team_hours") == 0)
			sb_str(&b, kb->team_hours);
		else if (strncmp(name, "location_", 9) == 0)
			loc_field(&b, kb, l, name + 9);
		else
			sb_add(&b, open, n + 4); /* unknown: leave as written */
		p = close + 2;
	}
	return b.p;
}
