/*
 * api_events.c - GET /api/events: the console's live feed (Server-Sent Events)
 *
 * One feed thread per gateway reads the bus (every event on the events
 * address, and the "trace" topic on the trace address) and, every
 * EV_POLL_MS, what changed in PostgreSQL's tickets, actions, conversations,
 * messages (a new delivery state too) and escalations (nothing else
 * announces those on the bus; each is one index probe, see
 * migrations/0014_feed_indexes.sql), and writes each as an SSE frame to every open stream through
 * httpd_stream_send().  A stream holds no worker thread: the handler only
 * answers the head, and the HTTP layer keeps the connection (httpd.c,
 * "event streams"), at most CLUBOS_HTTP_MAX_STREAMS of them, with a heartbeat
 * comment every EV_HEARTBEAT_MS so proxies and clients see it is alive.
 * Each poll also ends the streams of users whose access was withdrawn
 * (deleted, disabled, no longer staff), as every other request would be
 * refused at once.
 *
 * Frames: "event: <topic>\ndata: <one line of JSON>\n\n"; "resync" when
 * the tables are first looked at after nobody watched (reload everything).
 * The bus is lossy, and so is this feed: a client that reconnects reloads
 * its lists.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/env.h"
#include "common/json.h"
#include "common/log.h"
#include "gateway/gw.h"

#define EV_POLL_MS 1000
#define EV_HEARTBEAT_MS 15000
#define EV_RECV_MS 50
#define EV_MAX_FRAME (64 * 1024) /* a bigger message is announced, not carried */
#define EV_MAX_TAGS 1024         /* streams checked per poll: CLUBOS_HTTP_MAX_STREAMS' top */

static struct {
	httpd      *h;
	bus_sub    *events, *trace;
	pthread_t   thr;
	atomic_bool running, stop;
	char        last[5][96]; /* what each poll item was last time */
	bool        polled;
} ev;

/* What the poll watches: the SSE event name and the SQL column that changes. */
static const char *const ev_poll_names[5] = {"ticket", "action", "conversation", "message",
                                             "escalation"};

#define EV_POLL_SQL                                                                                \
	"SELECT (SELECT coalesce(max(id), 0) || '/' || coalesce(max(updated_at)::text, '') FROM "  \
	"tickets), (SELECT coalesce(max(id), 0) || '/' || coalesce(max(updated_at)::text, '') "    \
	"FROM actions), (SELECT coalesce(max(id), 0) || '/' || "                                   \
	"coalesce(max(last_message_at)::text, "                                                    \
	"'') FROM conversations), (SELECT coalesce(max(id), 0) || '/' || "                         \
	"coalesce(max(updated_at)::text, '') FROM messages), (SELECT "                             \
	"count(*)::text FROM traces WHERE escalation_tier > 0 AND created_at > now() - interval "  \
	"'1 hour')"

/* ev_send - one SSE frame to every stream (json: one line, or re-printed) */
static void
ev_send(const char *topic, const char *json)
{
	char       *frame, *line = NULL;
	const char *why;
	size_t      n;
	cJSON      *o;

	/* The data must be one line: parse and print it again, compact. */
	if ((o = json_parse(json, strlen(json), &why)) != NULL) {
		line = json_print(o);
		cJSON_Delete(o);
	}
	if (line == NULL || strlen(line) > EV_MAX_FRAME) {
		free(line);
		line = strdup("{}");
		if (line == NULL)
			return;
	}
	n = strlen(topic) + strlen(line) + 32;
	if ((frame = malloc(n)) != NULL) {
		snprintf(frame, n, "event: %s\ndata: %s\n\n", topic, line);
		httpd_stream_send(ev.h, frame, strlen(frame));
		free(frame);
	}
	free(line);
}

/* ev_topic_ok - a topic fit for an SSE event line (letters, digits, . _ -) */
static bool
ev_topic_ok(const char *t)
{
	size_t n = strlen(t);

	return n > 0 && n < 64 &&
	       strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/*
 * ev_drain - pass on what a subscription has (wait at most ms for the first).
 * Whether anyone watches is asked as each message comes, not before the
 * wait: a stream that opens while the thread waits gets the messages that
 * come after its hello (a query asked at once answers within the wait).
 */
static void
ev_drain(bus_sub *s, int ms)
{
	char *topic, *json;

	for (int i = 0; i < 256 && s != NULL; i++) {
		if (bus_sub_recv(s, i == 0 ? ms : 0, &topic, &json) != 0)
			return;
		if (httpd_streams_open(ev.h) > 0 && ev_topic_ok(topic))
			ev_send(topic, json);
		free(topic);
		free(json);
	}
}

/* ev_poll - announce what changed in the tables since the last poll */
static void
ev_poll(db_conn *db)
{
	PGresult *r = db_exec(db, EV_POLL_SQL, 0, NULL);

	if (r == NULL || PQntuples(r) != 1) {
		PQclear(r);
		return;
	}
	for (int i = 0; i < 5; i++) {
		const char *v = db_val(r, 0, i);

		if (ev.polled && strcmp(ev.last[i], v) != 0) {
			cJSON *o = cJSON_CreateObject();
			char  *t;

			cJSON_AddStringToObject(o, "mark", v);
			t = json_print(o);
			cJSON_Delete(o);
			ev_send(ev_poll_names[i], t != NULL ? t : "{}");
			free(t);
		}
		snprintf(ev.last[i], sizeof(ev.last[i]), "%s", v);
	}
	/* The first look after nobody watched is a baseline: a change made
	 * after a stream opened and before this poll is inside it and would
	 * never be announced, so the baseline is announced as a whole and the
	 * consoles reload what they show. */
	if (!ev.polled)
		ev_send("resync", "{}");
	ev.polled = true;
	PQclear(r);
}

/*
 * ev_revoke - close the streams of users who may no longer watch: deleted,
 * disabled, or no longer staff.  A token is checked against the users table
 * on every request; a stream is one long request, so it is checked again
 * every poll and ends as soon as its user's access does.
 */
static void
ev_revoke(db_conn *db)
{
	long long  *tags = malloc(EV_MAX_TAGS * sizeof(*tags));
	char       *list = malloc(EV_MAX_TAGS * 22 + 4); /* "{" id "," ... "}" */
	int         n = tags != NULL ? httpd_stream_tags(ev.h, tags, EV_MAX_TAGS) : 0;
	size_t      off = 0;
	const char *p[1];
	PGresult   *r = NULL;

	if (n == 0 || list == NULL)
		goto done;
	list[off++] = '{';
	for (int i = 0; i < n; i++) /* at most 21 bytes each: it fits */
		off += (size_t)sprintf(list + off, "%s%lld", i ? "," : "", tags[i]);
	strcpy(list + off, "}");
	p[0] = list;
	r = db_exec(db,
	            "SELECT DISTINCT u FROM unnest($1::bigint[]) u WHERE NOT EXISTS (SELECT 1 FROM "
	            "users WHERE id = u AND NOT disabled AND role IN ('admin', 'operator', "
	            "'support'))",
	            1, p);
	for (int i = 0; r != NULL && i < PQntuples(r); i++) {
		long long id = strtoll(db_val(r, i, 0), NULL, 10);

		if (httpd_stream_close_tag(ev.h, id) > 0)
			log_info("events: closed the live feed of user %lld (access withdrawn)",
			         id);
	}
done:
	PQclear(r);
	free(list);
	free(tags);
}

/* ev_main - the feed thread */
static void *
ev_main(void *arg)
{
	db_conn *db = NULL;
	int64_t  next_poll = 0, next_beat = env_mono_us() + EV_HEARTBEAT_MS * 1000LL;

	(void)arg;
	while (!atomic_load(&ev.stop)) {
		int64_t now;

		ev_drain(ev.trace, EV_RECV_MS);
		ev_drain(ev.events, 0);
		now = env_mono_us();
		if (httpd_streams_open(ev.h) == 0) {
			ev.polled = false; /* nobody watching: start afresh */
			continue;
		}
		if (now >= next_poll) {
			if (db == NULL)
				db = db_open(gw.cfg->pg_dsn);
			if (db != NULL) {
				ev_poll(db);
				ev_revoke(db);
			}
			next_poll = now + EV_POLL_MS * 1000LL;
		}
		if (now >= next_beat) {
			static const char beat[] = ": heartbeat\n\n";

			httpd_stream_send(ev.h, beat, sizeof(beat) - 1);
			next_beat = now + EV_HEARTBEAT_MS * 1000LL;
		}
	}
	db_close(db);
	return NULL;
}

/* events_start - subscribe to the bus and start the feed for h's streams */
int
events_start(httpd *h, const struct cfg *c)
{
	static const char *const trace_topics[] = {"trace", NULL};
	char                     url[256];

	ev.h = h;
	cfg_url(c, "events", url, sizeof(url));
	ev.events = bus_sub_open(url, NULL);
	cfg_url(c, "bus", url, sizeof(url));
	ev.trace = bus_sub_open(url, trace_topics);
	if (ev.events == NULL || ev.trace == NULL ||
	    pthread_create(&ev.thr, NULL, ev_main, NULL) != 0) {
		log_warn("events: the live feed is off (the bus could not be subscribed)");
		bus_sub_close(ev.events);
		bus_sub_close(ev.trace);
		ev.events = ev.trace = NULL;
		return -1;
	}
	atomic_store(&ev.running, true);
	return 0;
}

/* events_stop - stop the feed (before the HTTP server stops) */
void
events_stop(void)
{
	if (!atomic_load(&ev.running))
		return;
	atomic_store(&ev.stop, true);
	pthread_join(ev.thr, NULL);
	bus_sub_close(ev.events);
	bus_sub_close(ev.trace);
	atomic_store(&ev.running, false);
}

/* api_events - GET /api/events (staff): the head of an event stream */
void
api_events(struct gw_ctx *x)
{
	static const char hello[] = "retry: 3000\n: connected\n\nevent: hello\ndata: {}\n\n";

	if (!atomic_load(&ev.running)) {
		gw_error(x, 503, "events_unavailable", "the live feed is not running");
		return;
	}
	if ((x->res->body = strdup(hello)) == NULL) {
		gw_error(x, 500, "internal", "out of memory");
		return;
	}
	x->res->len = sizeof(hello) - 1;
	x->res->status = 200;
	x->res->content_type = "text/event-stream; charset=utf-8";
	x->res->stream = true;
	x->res->stream_tag = (long long)x->user_id;
}
