/*
 * sentry.c - errors and crashes to Sentry's envelope endpoint
 *
 * An envelope is three lines: the envelope header {"event_id","sent_at"},
 * the item header {"type":"event","length":N} and the event itself (N
 * bytes of JSON).  It is posted with Content-Type
 * application/x-sentry-envelope and
 *   X-Sentry-Auth: Sentry sentry_version=7, sentry_client=clubos/1, sentry_key=KEY
 * The caller of sentry_capture (the log hook, any thread) never waits on
 * the network: events go to a bounded queue that one thread drains.  At
 * most SENTRY_PER_MINUTE events are posted a minute; a 429 answer pauses
 * posting for its Retry-After (at most a minute); what does not fit is
 * dropped and counted, never allowed to grow memory.
 */
#include "common/sentry.h"

#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "common/env.h"
#include "common/log.h"
#include "common/util.h"

#define SENTRY_QUEUE 32
#define SENTRY_PER_MINUTE 30
#define SENTRY_TIMEOUT_MS 3000
#define SENTRY_EXIT_FLUSH_MS 2000
#define SENTRY_CRASH_MAX 16384

static struct {
	pthread_mutex_t   mu;
	pthread_cond_t    cv;
	pthread_t         thr;
	bool              running, stop, busy;
	char             *q[SENTRY_QUEUE];
	int               head, n;
	struct sentry_dsn dsn;
	char              daemon[64], env[32], host[128];
	int64_t           window_us, paused_until_us;
	int               in_window;
} sn = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static atomic_ullong sn_dropped;

/* What a crash handler writes, made ready at start (the handler may not
 * allocate or format with stdio). */
static char sn_crash_path[600];
static char sn_crash_head[1024];

/* sentry_parse_dsn - {scheme}://{key}[:{secret}]@{host}[/{path}]/{project}; 0 or -1 */
int
sentry_parse_dsn(const char *dsn, struct sentry_dsn *out)
{
	const char *p, *at, *hostp, *slash, *proj;
	size_t      klen, slen;
	int         n;

	memset(out, 0, sizeof(*out));
	if (strncmp(dsn, "https://", 8) == 0)
		slen = 5;
	else if (strncmp(dsn, "http://", 7) == 0)
		slen = 4;
	else
		return -1;
	p = dsn + slen + 3;
	if ((at = strchr(p, '@')) == NULL || at == p)
		return -1;
	klen = strcspn(p, ":@");
	if (klen == 0 || klen >= sizeof(out->key))
		return -1;
	memcpy(out->key, p, klen);
	hostp = at + 1;
	if ((slash = strchr(hostp, '/')) == NULL || slash == hostp)
		return -1;
	proj = strrchr(hostp, '/') + 1;
	if (*proj == '\0' || strlen(proj) >= sizeof(out->project) ||
	    strspn(proj, "0123456789") != strlen(proj))
		return -1;
	for (const char *c = out->key; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= 'A' && *c <= 'Z')))
			return -1;
	snprintf(out->project, sizeof(out->project), "%s", proj);
	/* scheme://host[:port][/path]/api/project/envelope/ */
	n = snprintf(out->url, sizeof(out->url), "%.*s://%.*s/api/%s/envelope/", (int)slen, dsn,
	             (int)(proj - 1 - hostp), hostp, out->project);
	return n > 0 && (size_t)n < sizeof(out->url) ? 0 : -1;
}

/* new_id - 32 hex digits */
static void
new_id(char out[33])
{
	unsigned char b[16];

	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(out, 33, b, sizeof(b));
}

/* enqueue - take ownership of an event's JSON; false (and freed) when it does not fit */
static bool
enqueue(char *ev)
{
	bool ok = false;

	pthread_mutex_lock(&sn.mu);
	if (sn.running && !sn.stop && sn.n < SENTRY_QUEUE) {
		sn.q[(sn.head + sn.n) % SENTRY_QUEUE] = ev;
		sn.n++;
		ok = true;
		pthread_cond_broadcast(&sn.cv); /* the sender, and not only a flush waiting */
	}
	pthread_mutex_unlock(&sn.mu);
	if (!ok) {
		free(ev);
		atomic_fetch_add(&sn_dropped, 1);
	}
	return ok;
}

/* sentry_capture - queue one event (any thread; never waits on the network) */
void
sentry_capture(const char *level, const char *trace_id, const char *msg)
{
	cJSON          *o, *m, *t;
	char            id[33], *ev;
	struct timespec ts;

	if (!sn.running)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	new_id(id);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event_id", id);
	cJSON_AddNumberToObject(o, "timestamp", (double)ts.tv_sec + ts.tv_nsec / 1e9);
	cJSON_AddStringToObject(o, "platform", "c");
	cJSON_AddStringToObject(o, "level", level);
	cJSON_AddStringToObject(o, "logger", sn.daemon);
	cJSON_AddStringToObject(o, "server_name", sn.host);
	cJSON_AddStringToObject(o, "environment", sn.env);
	m = cJSON_AddObjectToObject(o, "message");
	cJSON_AddStringToObject(m, "formatted", msg);
	t = cJSON_AddObjectToObject(o, "tags");
	cJSON_AddStringToObject(t, "daemon", sn.daemon);
	if (trace_id != NULL && *trace_id != '\0')
		cJSON_AddStringToObject(t, "trace_id", trace_id);
	ev = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (ev != NULL)
		enqueue(ev);
}

/* on_log - the log hook: every error line is an event */
static void
on_log(enum log_level lvl, const char *trace_id, const char *msg)
{
	if (lvl == LOG_ERROR)
		sentry_capture("error", trace_id, msg);
}

/* retry_after - a libcurl header callback: remember Retry-After's seconds */
static size_t
retry_after(char *buf, size_t size, size_t nitems, void *arg)
{
	size_t len = size * nitems;

	if (len > 12 && strncasecmp(buf, "Retry-After:", 12) == 0)
		*(int *)arg = atoi(buf + 12);
	return len;
}

/* discard - a libcurl write callback: the answer's body is not needed */
static size_t
discard(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	(void)arg;
	return size * nmemb;
}

/* post - one envelope; the HTTP status, 0 when none came */
static long
post(CURL *h, const char *ev)
{
	cJSON             *ev_o = cJSON_Parse(ev), *hd = cJSON_CreateObject();
	char              *head, auth[256], sent_at[40], *body;
	size_t             elen = strlen(ev), blen;
	struct curl_slist *hdrs = NULL;
	long               code = 0;
	int                ra = 0;
	time_t             now = time(NULL);
	struct tm          tm;

	gmtime_r(&now, &tm);
	strftime(sent_at, sizeof(sent_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(hd, "event_id",
	                        cJSON_GetStringValue(cJSON_GetObjectItem(ev_o, "event_id"))
	                            ? cJSON_GetStringValue(cJSON_GetObjectItem(ev_o, "event_id"))
	                            : "");
	cJSON_AddStringToObject(hd, "sent_at", sent_at);
	head = cJSON_PrintUnformatted(hd);
	cJSON_Delete(hd);
	cJSON_Delete(ev_o);
	if (head == NULL)
		return 0;
	blen = strlen(head) + elen + 128;
	if ((body = malloc(blen)) == NULL) {
		free(head);
		return 0;
	}
	blen = (size_t)snprintf(body, blen, "%s\n{\"type\":\"event\",\"length\":%zu}\n%s\n", head,
	                        elen, ev);
	free(head);
	snprintf(auth, sizeof(auth),
	         "X-Sentry-Auth: Sentry sentry_version=7, sentry_client=clubos/1, sentry_key=%s",
	         sn.dsn.key);
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/x-sentry-envelope");
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, sn.dsn.url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)blen);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)SENTRY_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)SENTRY_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, retry_after);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &ra);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code == 429)
		sn.paused_until_us =
		    env_mono_us() + (int64_t)(ra > 0 && ra < 60 ? ra : 60) * 1000000;
	curl_slist_free_all(hdrs);
	free(body);
	return code;
}

/* allowed - may one more event go now?  (rate and a 429's pause) */
static bool
allowed(void)
{
	int64_t now = env_mono_us();

	if (now < sn.paused_until_us)
		return false;
	if (now - sn.window_us >= 60 * 1000000LL) {
		sn.window_us = now;
		sn.in_window = 0;
	}
	return sn.in_window++ < SENTRY_PER_MINUTE;
}

/* sender - drain the queue until stopped (what is queued at stop is still sent) */
static void *
sender(void *arg)
{
	CURL *h = curl_easy_init();

	(void)arg;
	pthread_mutex_lock(&sn.mu);
	for (;;) {
		char *ev;
		long  code;

		while (sn.n == 0 && !sn.stop)
			pthread_cond_wait(&sn.cv, &sn.mu);
		if (sn.n == 0)
			break;
		ev = sn.q[sn.head];
		sn.head = (sn.head + 1) % SENTRY_QUEUE;
		sn.n--;
		sn.busy = true;
		pthread_mutex_unlock(&sn.mu);
		if (h != NULL && allowed()) {
			code = post(h, ev);
			/* Not an error line: an error here would report itself. */
			if (code < 200 || code >= 300)
				log_warn("sentry: event not accepted (HTTP %ld)", code);
		} else {
			atomic_fetch_add(&sn_dropped, 1);
		}
		free(ev);
		pthread_mutex_lock(&sn.mu);
		sn.busy = false;
		pthread_cond_broadcast(&sn.cv);
	}
	pthread_mutex_unlock(&sn.mu);
	curl_easy_cleanup(h);
	return NULL;
}

/* put - async-signal-safe append of s to buf at *n */
static void
put(char *buf, size_t cap, size_t *n, const char *s)
{
	while (*s && *n + 1 < cap)
		buf[(*n)++] = *s++;
}

/* put_num - async-signal-safe append of a non-negative number */
static void
put_num(char *buf, size_t cap, size_t *n, long long v)
{
	char tmp[24];
	int  i = 0;

	do
		tmp[i++] = (char)('0' + v % 10);
	while ((v /= 10) > 0 && i < (int)sizeof(tmp));
	while (i > 0 && *n + 1 < cap)
		buf[(*n)++] = tmp[--i];
}

/* on_crash - a crash signal: write the event to a file, then die of the signal */
static void
on_crash(int sig)
{
	char        buf[2048];
	size_t      n = 0;
	const char *name = sig == SIGSEGV  ? "SIGSEGV"
	                   : sig == SIGBUS ? "SIGBUS"
	                   : sig == SIGFPE ? "SIGFPE"
	                   : sig == SIGILL ? "SIGILL"
	                                   : "SIGABRT";
	int         fd;

	put(buf, sizeof(buf), &n, sn_crash_head);
	put(buf, sizeof(buf), &n, ",\"timestamp\":");
	put_num(buf, sizeof(buf), &n, (long long)time(NULL));
	put(buf, sizeof(buf), &n, ",\"message\":{\"formatted\":\"crash: ");
	put(buf, sizeof(buf), &n, name);
	put(buf, sizeof(buf), &n, " (signal ");
	put_num(buf, sizeof(buf), &n, sig);
	put(buf, sizeof(buf), &n, ")\"},\"extra\":{\"signal\":\"");
	put(buf, sizeof(buf), &n, name);
	put(buf, sizeof(buf), &n, "\"}}");
	if ((fd = open(sn_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0) {
		if (write(fd, buf, n) < 0)
			n = 0;
		close(fd);
	}
	raise(sig); /* SA_RESETHAND: the default action now */
}

/* crash_prepare - the file and the fixed part of a crash event, made now */
static void
crash_prepare(const char *run_dir)
{
	cJSON *o = cJSON_CreateObject(), *t;
	char   id[33], pid[24], *s;
	size_t len;

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(sn_crash_path, sizeof(sn_crash_path), "%s/crash-%s-%s.json", run_dir, sn.daemon,
	         pid);
	new_id(id);
	cJSON_AddStringToObject(o, "event_id", id);
	cJSON_AddStringToObject(o, "platform", "c");
	cJSON_AddStringToObject(o, "level", "fatal");
	cJSON_AddStringToObject(o, "logger", sn.daemon);
	cJSON_AddStringToObject(o, "server_name", sn.host);
	cJSON_AddStringToObject(o, "environment", sn.env);
	t = cJSON_AddObjectToObject(o, "tags");
	cJSON_AddStringToObject(t, "daemon", sn.daemon);
	cJSON_AddStringToObject(t, "pid", pid);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	/* Without its closing brace: the handler appends the rest. */
	if (s != NULL && (len = strlen(s)) < sizeof(sn_crash_head) && len > 1) {
		memcpy(sn_crash_head, s, len - 1);
		sn_crash_head[len - 1] = '\0';
	}
	free(s);
}

/* crash_collect - queue the crash files an earlier process of this name left */
static void
crash_collect(const char *run_dir)
{
	DIR           *d = opendir(run_dir);
	struct dirent *e;
	char           prefix[96];

	if (d == NULL)
		return;
	snprintf(prefix, sizeof(prefix), "crash-%s-", sn.daemon);
	while ((e = readdir(d)) != NULL) {
		char   path[700], *buf;
		FILE  *f;
		size_t n;
		cJSON *o;

		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", run_dir, e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		buf = malloc(SENTRY_CRASH_MAX + 1);
		n = buf != NULL ? fread(buf, 1, SENTRY_CRASH_MAX, f) : 0;
		fclose(f);
		unlink(path);
		if (buf == NULL)
			continue;
		buf[n] = '\0';
		/* Only a whole object is sent: a handler cut short wrote nothing useful. */
		if ((o = cJSON_Parse(buf)) != NULL && cJSON_IsObject(o)) {
			log_warn("sentry: reporting an earlier crash (%s)", e->d_name);
			enqueue(buf);
			buf = NULL;
		}
		cJSON_Delete(o);
		free(buf);
	}
	closedir(d);
}

/* sentry_atexit - give the queue a bounded moment on exit (fatal() exits) */
static void
sentry_atexit(void)
{
	sentry_flush(SENTRY_EXIT_FLUSH_MS);
}

/* sentry_init - start reporting when SENTRY_DSN is set; 0 (also when off) or -1 */
int
sentry_init(const struct cfg *c, const char *daemon)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
	struct sigaction sa;

	if (c->sentry_dsn == NULL || *c->sentry_dsn == '\0' || sn.running)
		return 0;
	if (sentry_parse_dsn(c->sentry_dsn, &sn.dsn) < 0) {
		log_warn(
		    "sentry: SENTRY_DSN is not a DSN (scheme://key@host/project); not reporting");
		return -1;
	}
	snprintf(sn.daemon, sizeof(sn.daemon), "%s", daemon);
	snprintf(sn.env, sizeof(sn.env), "%s", c->env);
	if (gethostname(sn.host, sizeof(sn.host)) != 0)
		snprintf(sn.host, sizeof(sn.host), "unknown");
	sn.host[sizeof(sn.host) - 1] = '\0';
	curl_global_init(CURL_GLOBAL_DEFAULT);
	sn.running = true;
	if (pthread_create(&sn.thr, NULL, sender, NULL) != 0) {
		sn.running = false;
		log_warn("sentry: cannot start the sender; not reporting");
		return -1;
	}
	crash_prepare(c->run_dir);
	crash_collect(c->run_dir);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	log_set_hook(on_log);
	atexit(sentry_atexit);
	log_info("sentry: errors and crashes go to %s", sn.dsn.url);
	return 0;
}

/* sentry_flush - wait up to timeout_ms for the queue to be sent */
void
sentry_flush(int timeout_ms)
{
	struct timespec until;

	if (!sn.running)
		return;
	until = util_deadline_ts(CLOCK_REALTIME, timeout_ms);
	pthread_mutex_lock(&sn.mu);
	while ((sn.n > 0 || sn.busy) && !sn.stop)
		if (pthread_cond_timedwait(&sn.cv, &sn.mu, &until) != 0)
			break;
	pthread_mutex_unlock(&sn.mu);
}

/* sentry_shutdown - stop the hook and the sender (after a bounded flush) */
void
sentry_shutdown(void)
{
	if (!sn.running)
		return;
	log_set_hook(NULL);
	sentry_flush(SENTRY_EXIT_FLUSH_MS);
	pthread_mutex_lock(&sn.mu);
	sn.stop = true;
	/* What is left is dropped: the flush had its time. */
	while (sn.n > 0) {
		free(sn.q[sn.head]);
		sn.head = (sn.head + 1) % SENTRY_QUEUE;
		sn.n--;
		atomic_fetch_add(&sn_dropped, 1);
	}
	pthread_cond_broadcast(&sn.cv);
	pthread_mutex_unlock(&sn.mu);
	pthread_join(sn.thr, NULL);
	sn.running = false;
}

/* sentry_dropped - events not sent (queue full, rate, a 429's pause, shutdown) */
uint64_t
sentry_dropped(void)
{
	return atomic_load(&sn_dropped);
}
