/*
 * seed.c - the sample facility, its SOPs and examples, customers, the admin
 *
 * The facility, customers and the admin are written here, in one
 * transaction.  SOPs and examples are knowledge, whose one writer is
 * clubos-intelligence: they are read from the seed files and sent to it
 * (know.seed), so `seed` needs it running (`seed --people` does not).
 *
 * Idempotent: a second run changes nothing that a person has changed.  An
 * SOP gets a new version from the seed files only while its current
 * version was itself written by the seed (a person's edit is never
 * overwritten).  Customers and bookings are added only when their phone
 * number is not known yet.  The admin's password comes from
 * CLUBOS_ADMIN_PASSWORD, else from the admin password file, else it is
 * generated, written to that file (mode 0600) and printed once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/env.h"
#include "common/json.h"
#include "common/jwt.h"
#include "common/rpc.h"
#include "common/util.h"
#include "deploy/clubosctl/ctl.h"

struct sop_file {
	char  slug[80], route[20], audience[10], title[200], actions[300];
	char  keywords[800];
	int   escalation;
	char *content;
};

/* trim_nl - strip trailing white space in place */
static void
trim_end(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* parse_sop - front matter and body of one SOP file */
static int
parse_sop(const char *path, struct sop_file *s)
{
	char *text = util_read_file(path, 256 * 1024, NULL), *p, *end, *line, *save = NULL;

	memset(s, 0, sizeof(*s));
	s->escalation = -1;
	if (text == NULL || strncmp(text, "---\n", 4) != 0 ||
	    (end = strstr(text + 4, "\n---\n")) == NULL) {
		fprintf(stderr, "clubosctl: %s: no front matter\n", path);
		free(text);
		return -1;
	}
	*end = '\0';
	for (line = strtok_r(text + 4, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':'), *v;

		if (colon == NULL)
			continue;
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ')
			v++;
		if (strcmp(line, "slug") == 0)
			snprintf(s->slug, sizeof(s->slug), "%s", v);
		else if (strcmp(line, "route") == 0)
			snprintf(s->route, sizeof(s->route), "%s", v);
		else if (strcmp(line, "audience") == 0)
			snprintf(s->audience, sizeof(s->audience), "%s", v);
		else if (strcmp(line, "title") == 0)
			snprintf(s->title, sizeof(s->title), "%s", v);
		else if (strcmp(line, "keywords") == 0)
			snprintf(s->keywords, sizeof(s->keywords), "%s", v);
		else if (strcmp(line, "escalation") == 0)
			s->escalation = atoi(v);
		else if (strcmp(line, "actions") == 0) {
			/* "a, b" -> "a,b" */
			size_t n = 0;

			for (; *v && n < sizeof(s->actions) - 1; v++)
				if (*v != ' ')
					s->actions[n++] = *v;
			s->actions[n] = '\0';
		}
	}
	p = end + 5;
	while (*p == '\n')
		p++;
	s->content = strdup(p);
	trim_end(s->content);
	free(text);
	if (!*s->slug || !*s->route || !*s->audience || !*s->title || s->escalation < 0 ||
	    !*s->content) {
		fprintf(stderr, "clubosctl: %s: incomplete front matter\n", path);
		free(s->content);
		return -1;
	}
	return 0;
}

/* sop_json - one SOP file as the know.seed op takes it */
static cJSON *
sop_json(const struct sop_file *f)
{
	cJSON *o = cJSON_CreateObject(), *acts = cJSON_CreateArray();
	char   list[sizeof(f->actions)], *save = NULL;

	cJSON_AddStringToObject(o, "slug", f->slug);
	cJSON_AddStringToObject(o, "route", f->route);
	cJSON_AddStringToObject(o, "audience", f->audience);
	cJSON_AddNumberToObject(o, "escalation", f->escalation);
	snprintf(list, sizeof(list), "%s", f->actions);
	for (char *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save))
		cJSON_AddItemToArray(acts, cJSON_CreateString(a));
	cJSON_AddItemToObject(o, "actions", acts);
	cJSON_AddStringToObject(o, "title", f->title);
	cJSON_AddStringToObject(o, "keywords", f->keywords);
	cJSON_AddStringToObject(o, "content", f->content);
	return o;
}

/* seed_sops - every SOP file into out (a JSON array); how many, or -1 */
static int
seed_sops(cJSON *out)
{
	char           dir[512];
	DIR           *d;
	struct dirent *e;
	int            n = 0;

	snprintf(dir, sizeof(dir), "%s/sops", ctl_cfg.seed_dir);
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "clubosctl: no SOP directory %s\n", dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		struct sop_file f;
		char            path[1024];
		size_t          l = strlen(e->d_name);

		if (l < 4 || strcmp(e->d_name + l - 3, ".md") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (parse_sop(path, &f) < 0) {
			closedir(d);
			return -1;
		}
		cJSON_AddItemToArray(out, sop_json(&f));
		free(f.content);
		n++;
	}
	closedir(d);
	return n;
}

/* seed_examples - training examples, one JSON object a line, into out; how many, or -1 */
static int
seed_examples(cJSON *out)
{
	char path[512], *text, *line, *save = NULL;
	int  lineno = 0;

	snprintf(path, sizeof(path), "%s/examples.jsonl", ctl_cfg.seed_dir);
	if ((text = util_read_file(path, 16 << 20, NULL)) == NULL) {
		fprintf(stderr, "clubosctl: cannot read %s\n", path);
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON      *o = cJSON_Parse(line), *x;
		const char *t = json_str(o, "text"), *l = json_str(o, "label");

		lineno++;
		if (t == NULL || l == NULL) {
			fprintf(stderr, "clubosctl: %s:%d: not {\"text\", \"label\"}\n", path,
			        lineno);
			cJSON_Delete(o);
			free(text);
			return -1;
		}
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "text", t);
		cJSON_AddStringToObject(x, "label", l);
		cJSON_AddItemToArray(out, x);
		cJSON_Delete(o);
	}
	free(text);
	return lineno;
}

/*
 * seed_knowledge - SOPs and examples go to clubos-intelligence, their one
 * writer, which takes each through the journal.  It may still be starting:
 * ask again until the deadline.
 */
static int
seed_knowledge(void)
{
	cJSON *q = cJSON_CreateObject(), *sops = cJSON_CreateArray(), *ex = cJSON_CreateArray(), *a;
	struct rpc_reply rep = {0};
	rpc_client      *c = NULL;
	char             url[256], *body = NULL;
	const char      *why;
	uint64_t         deadline = env_now_ms() + 60000;
	int              rc = -1;

	cJSON_AddItemToObject(q, "sops", sops);
	cJSON_AddItemToObject(q, "examples", ex);
	if (seed_sops(sops) < 0 || seed_examples(ex) < 0)
		goto out;
	if ((body = json_print(q)) == NULL)
		goto out;
	cfg_url(&ctl_cfg, "intelligence", url, sizeof(url));
	if ((c = rpc_client_open(url, false)) == NULL)
		goto out;
	for (;;) {
		rpc_reply_clear(&rep);
		if (rpc_call(c, ENV_OP_KNOW_SEED, NULL, deadline, body, strlen(body), &rep) == 0)
			break;
		if (env_now_ms() >= deadline) {
			fprintf(stderr,
			        "clubosctl: clubos-intelligence (%s) did not answer: start it "
			        "first, the SOPs and examples are seeded through it\n",
			        url);
			goto out;
		}
		{
			struct timespec nap = {0, 100 * 1000000L};

			nanosleep(&nap, NULL);
		}
	}
	if ((a = json_parse(rep.body, rep.len, &why)) == NULL || rep.status != 0) {
		fprintf(stderr, "clubosctl: seeding the knowledge failed: %.*s\n", (int)rep.len,
		        rep.body ? rep.body : "");
		cJSON_Delete(a);
		goto out;
	}
	printf("seeded: %d SOP versions, %d examples\n", json_int(a, "sop_versions", 0),
	       json_int(a, "examples", 0));
	cJSON_Delete(a);
	rc = 0;
out:
	rpc_reply_clear(&rep);
	rpc_client_close(c);
	free(body);
	cJSON_Delete(q);
	return rc;
}

/* seed_facility - facility facts and locations */
static int
seed_facility(db_conn *db)
{
	char                     path[512], *text;
	cJSON                   *f, *locs, *l;
	static const char *const keys[] = {
	    "name", "booking_site", "support_email", "team_hours", "open", "simulator", NULL};
	int rc = 0;

	snprintf(path, sizeof(path), "%s/facility.json", ctl_cfg.seed_dir);
	if ((text = util_read_file(path, 1 << 20, NULL)) == NULL ||
	    (f = cJSON_Parse(text)) == NULL) {
		fprintf(stderr, "clubosctl: cannot read %s\n", path);
		free(text);
		return -1;
	}
	free(text);
	for (const char *const *k = keys; *k && rc == 0; k++) {
		const char *v = json_str(f, *k);
		const char *p[] = {*k, v};

		if (v != NULL)
			rc = db_cmd(db,
			            "INSERT INTO facility (key, value) VALUES ($1, $2) "
			            "ON CONFLICT (key) DO NOTHING",
			            2, p);
	}
	locs = cJSON_GetObjectItem(f, "locations");
	cJSON_ArrayForEach(l, locs)
	{
		char        bays[16];
		const char *p[] = {json_str(l, "slug"), json_str(l, "name"), bays,
		                   json_str(l, "address"), json_str(l, "parking")};

		snprintf(bays, sizeof(bays), "%d", json_int(l, "bays", 1));
		if (rc == 0)
			rc = db_cmd(db,
			            "INSERT INTO locations (slug, name, bays, address, parking) "
			            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (slug) DO NOTHING",
			            5, p);
	}
	cJSON_Delete(f);
	return rc;
}

/*
 * seed_devices - the facility's ids in outside systems: each location's
 * UniFi Access front door and the NinjaOne device of each bay's PC, and
 * the phone and channel escalations go to.  Updated on every seed, so a
 * corrected id in facility.json takes effect.
 */
static int
seed_devices(db_conn *db)
{
	char                     path[512], *text;
	cJSON                   *f, *l, *d;
	static const char *const keys[] = {"venue_line", "oncall_phone", "slack_channel", NULL};
	int                      rc = 0;

	snprintf(path, sizeof(path), "%s/facility.json", ctl_cfg.seed_dir);
	if ((text = util_read_file(path, 1 << 20, NULL)) == NULL ||
	    (f = cJSON_Parse(text)) == NULL) {
		fprintf(stderr, "clubosctl: cannot read %s\n", path);
		free(text);
		return -1;
	}
	free(text);
	for (const char *const *k = keys; *k && rc == 0; k++) {
		const char *p[] = {*k, json_str(f, *k)};

		if (p[1] != NULL)
			rc = db_cmd(db,
			            "INSERT INTO facility (key, value) VALUES ($1, $2) "
			            "ON CONFLICT (key) DO UPDATE SET value = $2",
			            2, p);
	}
	cJSON_ArrayForEach(l, cJSON_GetObjectItem(f, "locations"))
	{
		const char *slug = json_str(l, "slug");

		if (rc == 0 && slug != NULL && json_str(l, "front_door_id") != NULL) {
			const char *p[] = {slug, json_str(l, "front_door_id")};

			rc = db_cmd(db, "UPDATE locations SET front_door_id = $2 WHERE slug = $1",
			            2, p);
		}
		cJSON_ArrayForEach(d, cJSON_GetObjectItem(l, "bay_pc_device_ids"))
		{
			char        id[32];
			const char *p[] = {slug, d->string, id};

			if (rc != 0 || slug == NULL || !cJSON_IsNumber(d) || atoi(d->string) < 1)
				continue;
			snprintf(id, sizeof(id), "%lld", (long long)d->valuedouble);
			rc = db_cmd(db,
			            "INSERT INTO bay_devices (location, bay, device_id) "
			            "VALUES ($1, $2::int, $3) "
			            "ON CONFLICT (location, bay) DO UPDATE SET device_id = $3",
			            3, p);
		}
	}
	cJSON_Delete(f);
	return rc;
}

/* seed_customers - sample customers and their bookings, once */
static int
seed_customers(db_conn *db)
{
	char   path[512], *text;
	cJSON *arr, *c, *b;
	int    added = 0;

	snprintf(path, sizeof(path), "%s/customers.json", ctl_cfg.seed_dir);
	if ((text = util_read_file(path, 1 << 20, NULL)) == NULL ||
	    (arr = cJSON_Parse(text)) == NULL) {
		fprintf(stderr, "clubosctl: cannot read %s\n", path);
		free(text);
		return -1;
	}
	free(text);
	cJSON_ArrayForEach(c, arr)
	{
		char        credit[24], hours[24], member[24];
		const char *renews = json_str(c, "membership_renews");
		PGresult   *r;

		snprintf(credit, sizeof(credit), "%d", json_int(c, "credit_cents", 0));
		snprintf(hours, sizeof(hours), "%.2f", json_num(c, "hours_left", 0));
		snprintf(member, sizeof(member), "%d", json_int(c, "member_number", 0));
		{
			const char *p[] = {json_str(c, "name"),
			                   json_str(c, "phone"),
			                   json_str(c, "email"),
			                   json_int(c, "member_number", 0) > 0 ? member : NULL,
			                   json_str(c, "membership") ? json_str(c, "membership")
			                                             : "none",
			                   renews,
			                   credit,
			                   hours};

			r = db_exec(
			    db,
			    "INSERT INTO customers (name, phone, email, member_number, membership, "
			    "  membership_renews, credit_cents, hours_left) "
			    "VALUES ($1, $2, $3, $4, $5, $6::date, $7, $8) ON CONFLICT (phone) DO "
			    "NOTHING "
			    "RETURNING id",
			    8, p);
		}
		if (r == NULL) {
			cJSON_Delete(arr);
			return -1;
		}
		if (PQntuples(r) == 1) {
			added++;
			cJSON_ArrayForEach(b, cJSON_GetObjectItem(c, "bookings"))
			{
				char        bay[16], off[24], dur[24];
				const char *p[] = {db_val(r, 0, 0),
				                   json_str(b, "location"),
				                   bay,
				                   off,
				                   dur,
				                   json_str(b, "status") ? json_str(b, "status")
				                                         : "confirmed"};

				snprintf(bay, sizeof(bay), "%d", json_int(b, "bay", 1));
				snprintf(off, sizeof(off), "%d",
				         json_int(b, "start_offset_hours", 0));
				snprintf(dur, sizeof(dur), "%d",
				         json_int(b, "duration_minutes", 60));
				db_cmd(db,
				       "INSERT INTO bookings (customer_id, location, bay, "
				       "starts_at, ends_at, status) "
				       "VALUES ($1, $2, $3, date_trunc('hour', now()) + "
				       "make_interval(hours => $4::int), "
				       "  date_trunc('hour', now()) + make_interval(hours => "
				       "$4::int, mins => $5::int), $6)",
				       6, p);
			}
		}
		PQclear(r);
	}
	cJSON_Delete(arr);
	return added;
}

/* admin_password - from the environment, the file, or newly generated */
static int
admin_password(char *out, size_t cap, int *generated)
{
	char *text;

	*generated = 0;
	if (*ctl_cfg.admin_password) {
		snprintf(out, cap, "%s", ctl_cfg.admin_password);
		return 0;
	}
	if ((text = util_read_file(ctl_cfg.admin_password_file, 4096, NULL)) != NULL) {
		trim_end(text);
		snprintf(out, cap, "%s", text);
		sodium_memzero(text, strlen(text));
		free(text);
		return *out ? 0 : -1;
	}
	{
		char hex[25];
		int  fd;

		util_random_hex(hex, 12);
		snprintf(out, cap, "%s", hex);
		fd = open(ctl_cfg.admin_password_file, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0 || write(fd, out, strlen(out)) < 0 || write(fd, "\n", 1) < 0) {
			fprintf(stderr, "clubosctl: cannot write %s: %s\n",
			        ctl_cfg.admin_password_file, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		*generated = 1;
	}
	return 0;
}

/* seed_admin - the first admin, if there is none with that email */
static int
seed_admin(db_conn *db)
{
	char        pw[256], hash[crypto_pwhash_STRBYTES];
	int         generated;
	PGresult   *r;
	const char *p1[] = {ctl_cfg.admin_email};

	if ((r = db_exec(db, "SELECT 1 FROM users WHERE lower(email) = lower($1)", 1, p1)) == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		PQclear(r);
		return 0;
	}
	PQclear(r);
	if (admin_password(pw, sizeof(pw), &generated) < 0 || pw_hash(pw, hash) != 0)
		return -1;
	{
		const char *p[] = {ctl_cfg.admin_email, hash};

		if (db_cmd(db,
		           "INSERT INTO users (email, password_hash, role, name) "
		           "VALUES ($1, $2, 'admin', 'Administrator')",
		           2, p) < 0)
			return -1;
	}
	printf("admin user %s created%s\n", ctl_cfg.admin_email,
	       generated ? " (password generated and stored in the admin password file)" : "");
	sodium_memzero(pw, sizeof(pw));
	return 0;
}

int
cmd_seed(int argc, char **argv)
{
	db_conn *db;
	int      cust;
	bool     knowledge = true, people = true;

	if (argc == 2 && strcmp(argv[1], "--knowledge") == 0)
		people = false;
	else if (argc == 2 && strcmp(argv[1], "--people") == 0)
		knowledge = false;
	else if (argc != 1) {
		fprintf(stderr, "usage: clubosctl seed [--people | --knowledge]\n");
		return 2;
	}
	if (people) {
		db = ctl_db();
		if (db_begin(db) < 0 || seed_facility(db) < 0 || seed_devices(db) < 0 ||
		    (cust = seed_customers(db)) < 0 || seed_admin(db) < 0 || db_commit(db) < 0) {
			db_rollback(db);
			fprintf(stderr, "clubosctl: seed failed; nothing was changed\n");
			db_close(db);
			return 1;
		}
		printf("seeded: the facility, %d customers\n", cust);
		db_close(db);
	}
	if (knowledge && seed_knowledge() < 0) {
		fprintf(stderr, "clubosctl: the SOPs and examples were not seeded\n");
		return 1;
	}
	return 0;
}

/* cmd_user - user add EMAIL ROLE [--name N] [--phone P]; password on stdin */
int
cmd_user(int argc, char **argv)
{
	const char *name = NULL, *phone = NULL;
	char        pw[512], hash[crypto_pwhash_STRBYTES];
	db_conn    *db;
	PGresult   *r;

	if (argc < 4 || strcmp(argv[1], "add") != 0 || !jwt_role_known(argv[3])) {
		fprintf(stderr,
		        "usage: clubosctl user add EMAIL admin|operator|support|kiosk|customer "
		        "[--name NAME] [--phone PHONE]  (password read from standard input)\n");
		return 2;
	}
	for (int i = 4; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--name") == 0)
			name = argv[i + 1];
		else if (strcmp(argv[i], "--phone") == 0)
			phone = argv[i + 1];
	}
	if (isatty(0))
		fprintf(stderr, "password for %s: ", argv[2]);
	if (fgets(pw, sizeof(pw), stdin) == NULL) {
		fprintf(stderr, "clubosctl: no password given\n");
		return 1;
	}
	trim_end(pw);
	if (strlen(pw) < 8) {
		fprintf(stderr, "clubosctl: the password needs at least 8 characters\n");
		return 1;
	}
	if (pw_hash(pw, hash) != 0)
		return 1;
	sodium_memzero(pw, sizeof(pw));
	db = ctl_db();
	{
		const char *p[] = {argv[2], hash, argv[3], name, phone};

		r = db_exec(
		    db,
		    "INSERT INTO users (email, password_hash, role, name, phone, customer_id) "
		    "VALUES ($1, $2, $3, $4, $5, (SELECT id FROM customers WHERE phone = $5 AND $3 "
		    "= 'customer')) "
		    "ON CONFLICT (email) DO NOTHING RETURNING id",
		    5, p);
	}
	if (r == NULL || PQntuples(r) == 0) {
		fprintf(stderr, "clubosctl: %s\n",
		        r == NULL ? "the user could not be stored"
		                  : "a user with that email already exists");
		PQclear(r);
		db_close(db);
		return 1;
	}
	printf("user %s (%s) created with id %s\n", argv[2], argv[3], db_val(r, 0, 0));
	PQclear(r);
	db_close(db);
	return 0;
}
