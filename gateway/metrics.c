/*
 * metrics.c - counters and latency histograms, rendered for Prometheus
 *
 * Lock-free: every counter is an atomic.  Histograms use fixed buckets in
 * microseconds; /metrics renders them in seconds, as Prometheus expects.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/trace.h"
#include "gateway/gw.h"

static const double bucket_us[] = {250,   500,   1000,   2000,   5000,    10000,
                                   25000, 50000, 100000, 250000, 1000000, 5000000};
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

struct hist {
	atomic_ullong b[NBUCKETS + 1];
	atomic_ullong count;
	atomic_ullong sum_us;
};

static const char *const routes[] = {"emergency", "booking",      "tech",   "brand",
                                     "strategy",  "customerinfo", "general"};
#define NROUTES 7
static const char *const caches[] = {"miss", "l1", "l2", "l3"};

static atomic_ullong    m_status[6]; /* 1xx..5xx by hundreds */
static struct hist      m_http;
static struct hist      m_query;
static atomic_ullong    m_route_cache[NROUTES][4];
static atomic_ullong    m_rate_limited;
static _Atomic(httpd *) m_httpd; /* the front door's own counters */

/* hist_add - one observation */
static void
hist_add(struct hist *h, int64_t us)
{
	size_t i = 0;

	while (i < NBUCKETS && (double)us > bucket_us[i])
		i++;
	atomic_fetch_add(&h->b[i], 1);
	atomic_fetch_add(&h->count, 1);
	atomic_fetch_add(&h->sum_us, (unsigned long long)(us > 0 ? us : 0));
}

void
metrics_request(const char *route_pattern, int status, int64_t us)
{
	(void)route_pattern;
	if (status >= 100 && status < 600)
		atomic_fetch_add(&m_status[status / 100], 1);
	hist_add(&m_http, us);
}

void
metrics_query(const char *route, const char *cache, int64_t us)
{
	for (int r = 0; r < NROUTES; r++)
		if (route != NULL && strcmp(routes[r], route) == 0)
			for (int c = 0; c < 4; c++)
				if (cache != NULL && strcmp(caches[c], cache) == 0)
					atomic_fetch_add(&m_route_cache[r][c], 1);
	hist_add(&m_query, us);
}

void
metrics_rate_limited(void)
{
	atomic_fetch_add(&m_rate_limited, 1);
}

/* metrics_httpd - the HTTP server whose counters /metrics shows (NULL: none) */
void
metrics_httpd(httpd *h)
{
	atomic_store(&m_httpd, h);
}

/* httpd_render - connections, shed load and timeouts of the HTTP server */
static size_t
httpd_render(char *out, size_t cap)
{
	struct httpd_stats st;
	int                n;

	httpd_stats(atomic_load(&m_httpd), &st);
	n = snprintf(
	    out, cap,
	    "# HELP clubos_http_connections Open HTTP connections.\n"
	    "# TYPE clubos_http_connections gauge\n"
	    "clubos_http_connections %llu\n"
	    "# HELP clubos_http_queued Requests waiting for an HTTP worker.\n"
	    "# TYPE clubos_http_queued gauge\n"
	    "clubos_http_queued %llu\n"
	    "# HELP clubos_http_handled_total Requests a handler ran for.\n"
	    "# TYPE clubos_http_handled_total counter\n"
	    "clubos_http_handled_total %llu\n"
	    "# HELP clubos_http_refused_total Connections refused over a cap.\n"
	    "# TYPE clubos_http_refused_total counter\n"
	    "clubos_http_refused_total{cap=\"global\"} %llu\n"
	    "clubos_http_refused_total{cap=\"address\"} %llu\n"
	    "# HELP clubos_http_shed_total Requests not handled: queue full or waited too long "
	    "(503), or the client left while queued (dropped).\n"
	    "# TYPE clubos_http_shed_total counter\n"
	    "clubos_http_shed_total{reason=\"queue_full\"} %llu\n"
	    "clubos_http_shed_total{reason=\"waited_too_long\"} %llu\n"
	    "clubos_http_shed_total{reason=\"client_gone\"} %llu\n"
	    "# HELP clubos_http_timeouts_total Requests that did not arrive in time (408).\n"
	    "# TYPE clubos_http_timeouts_total counter\n"
	    "clubos_http_timeouts_total{phase=\"header\"} %llu\n"
	    "clubos_http_timeouts_total{phase=\"body\"} %llu\n"
	    "# HELP clubos_http_bad_framing_total Requests refused as malformed HTTP.\n"
	    "# TYPE clubos_http_bad_framing_total counter\n"
	    "clubos_http_bad_framing_total %llu\n",
	    st.conns_open, st.queued, st.handled, st.refused_global, st.refused_addr, st.shed_full,
	    st.shed_late, st.shed_gone, st.timeout_header, st.timeout_body, st.bad_framing);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap;
}

/* hist_render - one histogram in the exposition format */
static size_t
hist_render(char *out, size_t cap, const char *name, const char *help, struct hist *h)
{
	size_t             n = 0;
	unsigned long long cum = 0;

	n += (size_t)snprintf(out + n, cap - n, "# HELP %s %s\n# TYPE %s histogram\n", name, help,
	                      name);
	for (size_t i = 0; i <= NBUCKETS && n < cap; i++) {
		cum += atomic_load(&h->b[i]);
		if (i < NBUCKETS)
			n += (size_t)snprintf(out + n, cap - n, "%s_bucket{le=\"%g\"} %llu\n", name,
			                      bucket_us[i] / 1e6, cum);
		else
			n += (size_t)snprintf(out + n, cap - n, "%s_bucket{le=\"+Inf\"} %llu\n",
			                      name, cum);
	}
	if (n < cap)
		n += (size_t)snprintf(out + n, cap - n, "%s_sum %g\n%s_count %llu\n", name,
		                      (double)atomic_load(&h->sum_us) / 1e6, name,
		                      atomic_load(&h->count));
	return n < cap ? n : cap;
}

/* metrics_render - the whole /metrics page; *out is malloc'd */
void
metrics_render(char **out, size_t *len)
{
	size_t cap = 16384, n = 0;
	char  *p = malloc(cap);

	if (p == NULL) {
		*out = NULL;
		*len = 0;
		return;
	}
	n += (size_t)snprintf(p + n, cap - n,
	                      "# HELP clubos_http_responses_total HTTP responses by status class.\n"
	                      "# TYPE clubos_http_responses_total counter\n");
	for (int i = 1; i < 6; i++)
		n += (size_t)snprintf(p + n, cap - n,
		                      "clubos_http_responses_total{code=\"%dxx\"} %llu\n", i,
		                      atomic_load(&m_status[i]));
	n += hist_render(p + n, cap - n, "clubos_http_request_duration_seconds",
	                 "Time from request read to response ready.", &m_http);
	n += hist_render(p + n, cap - n, "clubos_query_duration_seconds",
	                 "POST /api/query, end to end inside the gateway.", &m_query);
	n += (size_t)snprintf(
	    p + n, cap - n,
	    "# HELP clubos_queries_total Answered queries by route and cache tier.\n"
	    "# TYPE clubos_queries_total counter\n");
	for (int r = 0; r < NROUTES; r++)
		for (int c = 0; c < 4; c++)
			n += (size_t)snprintf(
			    p + n, cap - n,
			    "clubos_queries_total{route=\"%s\",cache=\"%s\"} %llu\n", routes[r],
			    caches[c], atomic_load(&m_route_cache[r][c]));
	n += (size_t)snprintf(
	    p + n, cap - n,
	    "# HELP clubos_rate_limited_total Requests refused with 429.\n"
	    "# TYPE clubos_rate_limited_total counter\n"
	    "clubos_rate_limited_total %llu\n"
	    "# HELP clubos_trace_steps_dropped_total Trace steps this gateway lost to a full "
	    "queue.\n"
	    "# TYPE clubos_trace_steps_dropped_total counter\n"
	    "clubos_trace_steps_dropped_total %llu\n"
	    "# HELP clubos_trace_summaries_dropped_total Answer summaries (what feedback refers "
	    "to) lost to a full queue.\n"
	    "# TYPE clubos_trace_summaries_dropped_total counter\n"
	    "clubos_trace_summaries_dropped_total %llu\n",
	    atomic_load(&m_rate_limited), (unsigned long long)trace_dropped(),
	    (unsigned long long)trace_summaries_dropped());
	if (n < cap)
		n += httpd_render(p + n, cap - n);
	*out = p;
	*len = n < cap ? n : cap - 1;
}
