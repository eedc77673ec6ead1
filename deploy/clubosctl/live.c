/*
 * live.c - ask, trace and status: talking to the running daemons, on any host
 */
#include <dirent.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "common/bus.h"
#include "common/env.h"
#include "common/health.h"
#include "common/json.h"
#include "common/rpc.h"
#include "common/trace.h"
#include "deploy/clubosctl/ctl.h"

/* cmd_ask - put one message to the router and print the answer */
int
cmd_ask(int argc, char **argv)
{
	const char      *role = "operator", *loc = NULL, *msg = NULL, *why;
	int              bay = 0, rc;
	char             url[256], tid[33], *body;
	cJSON           *q, *a;
	rpc_client      *c;
	struct rpc_reply rep;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else if (strcmp(argv[i], "--location") == 0 && i + 1 < argc)
			loc = argv[++i];
		else if (strcmp(argv[i], "--bay") == 0 && i + 1 < argc)
			bay = atoi(argv[++i]);
		else if (msg == NULL)
			msg = argv[i];
		else
			msg = NULL, i = argc;
	}
	if (msg == NULL || !*msg) {
		fprintf(stderr,
		        "usage: clubosctl ask [--role R] [--location L] [--bay N] \"message\"\n");
		return 2;
	}
	q = cJSON_CreateObject();
	cJSON_AddStringToObject(q, "message", msg);
	cJSON_AddStringToObject(q, "channel", "operator");
	cJSON_AddStringToObject(q, "role", role);
	cJSON_AddStringToObject(q, "audience",
	                        strcmp(role, "admin") == 0 ? "admin"
	                        : (strcmp(role, "operator") == 0 || strcmp(role, "support") == 0)
	                            ? "staff"
	                            : "customer");
	json_add_str(q, "location", loc);
	if (bay > 0)
		cJSON_AddNumberToObject(q, "bay", bay);
	body = json_print(q);
	cJSON_Delete(q);
	cfg_url(&ctl_cfg, "router", url, sizeof(url));
	if ((c = rpc_client_open(url, false)) == NULL) {
		free(body);
		return 1;
	}
	trace_new_id(tid);
	rc = rpc_call(c, ENV_OP_QUERY, tid, env_now_ms() + (uint64_t)ctl_cfg.query_timeout_ms, body,
	              strlen(body), &rep);
	free(body);
	rpc_client_close(c);
	if (rc != 0) {
		fprintf(stderr, "clubosctl: no answer from the router (is the stack up? %s)\n",
		        rc == RPC_ETIMEDOUT || rc == RPC_ENOPEER ? "timed out" : "error");
		return 1;
	}
	if (rep.status != 0) {
		fprintf(stderr, "clubosctl: %u %s\n", rep.status, rep.body ? rep.body : "");
		rpc_reply_clear(&rep);
		return 1;
	}
	a = json_parse(rep.body, rep.len, &why);
	rpc_reply_clear(&rep);
	if (a == NULL)
		return 1;
	{
		const cJSON *sop = cJSON_GetObjectItem(a, "sop"), *act;
		const cJSON *esc = cJSON_GetObjectItem(a, "escalation");

		printf("route: %s   sop: ", json_str(a, "route"));
		if (cJSON_IsObject(sop))
			printf("%s (v%d)", json_str(sop, "slug"), json_int(sop, "version", 0));
		else
			printf("none");
		printf("   confidence: %.2f   escalation: tier %d (%s)\ntrace: %s\n\n%s\n",
		       json_num(a, "confidence", 0), json_int(esc, "tier", 0),
		       json_str(esc, "reason") ? json_str(esc, "reason") : "", tid,
		       json_str(a, "response") ? json_str(a, "response") : "");
		cJSON_ArrayForEach(act, cJSON_GetObjectItem(a, "actions"))
		    printf("\naction: %s (%s)", json_str(act, "type"), json_str(act, "status"));
		if (cJSON_GetArraySize(cJSON_GetObjectItem(a, "actions")) > 0)
			printf("\n");
	}
	cJSON_Delete(a);
	return 0;
}

static volatile sig_atomic_t trace_stop;

static void
on_sigint(int sig)
{
	(void)sig;
	trace_stop = 1;
}

/* cmd_trace - tail the trace bus: one readable line per step */
int
cmd_trace(int argc, char **argv)
{
	static const char *const topics[] = {"trace", NULL};
	char                     url[256];
	bus_sub                 *s;

	(void)argc;
	(void)argv;
	cfg_url(&ctl_cfg, "bus", url, sizeof(url));
	if ((s = bus_sub_open(url, topics)) == NULL)
		return 1;
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!trace_stop) {
		char     *topic, *json, *detail, tbuf[32];
		int       rc = bus_sub_recv(s, 250, &topic, &json);
		cJSON    *o, *arr;
		time_t    t;
		struct tm tm;
		double    at;

		if (rc < 0)
			break;
		if (rc > 0)
			continue;
		if ((arr = cJSON_Parse(json)) != NULL) {
			cJSON_ArrayForEach(o, arr)
			{
				at = json_num(o, "at_ms", 0);
				t = (time_t)(at / 1000);
				localtime_r(&t, &tm);
				strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
				detail = json_print(cJSON_GetObjectItem(o, "detail"));
				printf("%s.%03d %s %-26s %-16s %8.0fus %s\n", tbuf,
				       (int)((long long)at % 1000),
				       json_str(o, "trace_id") ? json_str(o, "trace_id") : "-",
				       json_str(o, "daemon") ? json_str(o, "daemon") : "-",
				       json_str(o, "step") ? json_str(o, "step") : "-",
				       json_num(o, "us", 0), detail ? detail : "{}");
				free(detail);
			}
			cJSON_Delete(arr);
		}
		free(topic);
		free(json);
	}
	bus_sub_close(s);
	return 0;
}

/* status_line - one daemon's probe, one line: name, status, address, what it said */
static void
status_line(const cJSON *o)
{
	const cJSON *d = cJSON_GetObjectItem(o, "detail"), *sk;
	char         what[512] = "";
	size_t       n = 0;

	if (cJSON_IsObject(d) && json_str(d, "daemon") != NULL)
		n += (size_t)snprintf(what + n, sizeof(what) - n, "%s pid %d",
		                      json_str(d, "daemon"), json_int(d, "pid", 0));
	cJSON_ArrayForEach(sk, cJSON_GetObjectItem(d, "sockets"))
	{
		if (n >= sizeof(what))
			break;
		n += (size_t)snprintf(what + n, sizeof(what) - n, "%s%s %s (%d)", n ? ", " : "",
		                      json_str(sk, "role"), json_str(sk, "url"),
		                      json_int(sk, "peers", 0));
	}
	if (n == 0 && cJSON_IsObject(d) && json_str(d, "status") != NULL)
		snprintf(what, sizeof(what), "health %s", json_str(d, "status"));
	printf("%-20s %-9s %-30s %4.0fms %s\n", json_str(o, "daemon"), json_str(o, "status"),
	       json_str(o, "address") ? json_str(o, "address") : "-", json_num(o, "ms", 0), what);
}

/*
 * cmd_status - every daemon of the deployment, asked where the
 * configuration says it runs (CLUBOS_<NAME>_HOST: any host), then the
 * workers per route, then the processes of this host from their pid files.
 * --json prints the probes as one JSON array instead.  Exit 0 when every
 * daemon is up and ready.
 */
int
cmd_status(int argc, char **argv)
{
	DIR   *d = opendir(ctl_cfg.run_dir);
	cJSON *all = cJSON_CreateArray(), *workers = NULL;
	bool   json = argc > 1 && strcmp(argv[1], "--json") == 0;
	int    down = 0;

	for (size_t i = 0; i < health_ndaemons(); i++) {
		cJSON *o = NULL;

		if (health_probe(&ctl_cfg, health_daemon(i), NULL, 1500, &o) < 0 &&
		    strcmp(health_daemon(i), "clubos-assistant") != 0)
			down++;
		if (workers == NULL && cJSON_GetObjectItem(o, "workers") != NULL)
			workers = cJSON_GetObjectItem(o, "workers");
		cJSON_AddItemToArray(all, o);
	}
	if (json) {
		char *t = cJSON_PrintUnformatted(all);

		printf("%s\n", t != NULL ? t : "[]");
		free(t);
	} else {
		cJSON *o, *w;

		cJSON_ArrayForEach(o, all)
		{
			if (strcmp(json_str(o, "daemon"), "clubos-assistant") != 0)
				status_line(o);
		}
		printf("workers:");
		cJSON_ArrayForEach(w, workers)
		{
			printf(" %s=%d", w->string, cJSON_IsNumber(w) ? w->valueint : 0);
			if (!cJSON_IsNumber(w) || w->valueint < 1)
				down++;
		}
		printf("%s\n", workers == NULL ? " (the router does not answer)" : "");
	}
	cJSON_Delete(all);
	while (d != NULL && !json) {
		struct dirent *e = readdir(d);
		char           path[512];
		long           pid = 0;
		FILE          *f;
		size_t         l;

		if (e == NULL)
			break;
		l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".pid") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", ctl_cfg.run_dir, e->d_name);
		if ((f = fopen(path, "r")) != NULL) {
			if (fscanf(f, "%ld", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		printf("here: %-38.*s pid %-8ld %s\n", (int)(l - 4), e->d_name, pid,
		       pid > 0 && kill((pid_t)pid, 0) == 0 ? "running" : (down++, "NOT RUNNING"));
	}
	if (d != NULL)
		closedir(d);
	return down ? 1 : 0;
}
