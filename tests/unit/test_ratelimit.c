/*
 * test_ratelimit.c - unit tests for common/ratelimit.c.
 *
 * The memory-only part checks the buckets with a controlled clock, the
 * table bound and thread safety.  The Redis part starts its own
 * redis-server on a free port (never the system one), shares buckets
 * between two limiters, kills Redis and checks the limiter carries on
 * from memory, then restarts Redis and checks it comes back by itself.
 * redis-server missing is a failure, not a skip.  Run by `make test`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "../../common/ratelimit.h"

/* The test's own Redis. */
static char  redis_bin[PATH_MAX];
static char  redis_dir[] = "/tmp/clubos-rl-test-XXXXXX";
static int   redis_port;
static pid_t redis_pid = -1;

/* ================================================================ */
/* Helpers                                                          */
/* ================================================================ */

/* mono - monotonic seconds. */
static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* sleep_s - sleep for s seconds. */
static void
sleep_s(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* near - |a - b| is within eps. */
static int
near(double a, double b, double eps)
{
	return fabs(a - b) <= eps;
}

/* unique_key - a key no other test run has used: prefix + random. */
static void
unique_key(char *out, size_t cap, const char *prefix)
{
	snprintf(out, cap, "%s:%ld:%d", prefix, (long)getpid(), rand());
}

/* find_redis - locate redis-server ($REDIS_SERVER, $PATH, sbin); 0/-1. */
static int
find_redis(void)
{
	const char *env = getenv("REDIS_SERVER");
	const char *path = getenv("PATH");
	char        dirs[4096];
	char       *save = NULL, *d;

	if (env != NULL && env[0] != '\0') {
		snprintf(redis_bin, sizeof(redis_bin), "%s", env);
		return access(redis_bin, X_OK) == 0 ? 0 : -1;
	}
	snprintf(dirs, sizeof(dirs), "%s:/usr/bin:/usr/sbin:/usr/local/bin",
	         path != NULL ? path : "");
	for (d = strtok_r(dirs, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
		snprintf(redis_bin, sizeof(redis_bin), "%s/redis-server", d);
		if (access(redis_bin, X_OK) == 0)
			return 0;
	}
	redis_bin[0] = '\0';
	return -1;
}

/* free_port - a TCP port on 127.0.0.1 nobody listens on right now. */
static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t          len = sizeof(sa);
	int                fd, port = -1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* redis_connect - a direct connection to the test Redis, or NULL. */
static redisContext *
redis_connect(void)
{
	struct timeval tv = {0, 200000};
	redisContext  *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);

	if (c != NULL && c->err != 0) {
		redisFree(c);
		return NULL;
	}
	if (c != NULL)
		redisSetTimeout(c, tv);
	return c;
}

/* redis_ping - 1 when the test Redis answers PONG. */
static int
redis_ping(void)
{
	redisContext *c = redis_connect();
	redisReply   *r;
	int           ok = 0;

	if (c == NULL)
		return 0;
	r = redisCommand(c, "PING");
	if (r != NULL) {
		ok = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
		freeReplyObject(r);
	}
	redisFree(c);
	return ok;
}

/* dump_log - copy the test Redis's log to stderr (after a failure). */
static void
dump_log(const char *log)
{
	char   buf[4096];
	size_t n;
	FILE  *f = fopen(log, "r");

	if (f == NULL)
		return;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(f);
}

/* redis_start - run redis-server on redis_port and wait for PING; 0/-1. */
static int
redis_start(void)
{
	char   port[16], log[PATH_MAX];
	double deadline;
	int    status, fd;

	snprintf(port, sizeof(port), "%d", redis_port);
	snprintf(log, sizeof(log), "%s/redis.log", redis_dir);
	redis_pid = fork();
	if (redis_pid < 0)
		return -1;
	if (redis_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execl(redis_bin, "redis-server", "--port", port, "--bind", "127.0.0.1", "--save",
		      "", "--appendonly", "no", "--daemonize", "no", "--dir", redis_dir,
		      (char *)NULL);
		_exit(127);
	}
	deadline = mono() + 10.0;
	while (mono() < deadline) {
		if (waitpid(redis_pid, &status, WNOHANG) == redis_pid) {
			fprintf(stderr,
			        "test_ratelimit: %s exited (status "
			        "%d); its log:\n",
			        redis_bin, status);
			dump_log(log);
			redis_pid = -1;
			return -1;
		}
		if (redis_ping())
			return 0;
		sleep_s(0.02);
	}
	fprintf(stderr,
	        "test_ratelimit: redis-server on port %d did not "
	        "answer PING within 10 s; its log:\n",
	        redis_port);
	dump_log(log);
	kill(redis_pid, SIGKILL);
	waitpid(redis_pid, &status, 0);
	redis_pid = -1;
	return -1;
}

/* redis_stop - end the test Redis with sig and reap it. */
static void
redis_stop(int sig)
{
	int status;

	if (redis_pid <= 0)
		return;
	kill(redis_pid, sig);
	while (waitpid(redis_pid, &status, 0) == -1 && errno == EINTR)
		;
	redis_pid = -1;
}

/* redis_int - run a command with an integer reply; LLONG_MIN on error. */
static long long
redis_int(const char *fmt, const char *arg)
{
	redisContext *c = redis_connect();
	redisReply   *r;
	long long     v = LLONG_MIN;

	if (c == NULL)
		return v;
	r = redisCommand(c, fmt, arg);
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	if (r != NULL)
		freeReplyObject(r);
	redisFree(c);
	return v;
}

/* redis_ok - run a command and expect no error reply; 0/-1. */
static int
redis_ok(const char *fmt, const char *arg)
{
	redisContext *c = redis_connect();
	redisReply   *r;
	int           rc = -1;

	if (c == NULL)
		return -1;
	r = redisCommand(c, fmt, arg);
	if (r != NULL && r->type != REDIS_REPLY_ERROR)
		rc = 0;
	if (r != NULL)
		freeReplyObject(r);
	redisFree(c);
	return rc;
}

/* redis_connections - total connections the test Redis has accepted. */
static long long
redis_connections(void)
{
	redisContext *c = redis_connect();
	redisReply   *r;
	long long     v = -1;
	const char   *p;

	if (c == NULL)
		return -1;
	r = redisCommand(c, "INFO stats");
	if (r != NULL && r->type == REDIS_REPLY_STRING) {
		p = strstr(r->str, "total_connections_received:");
		if (p != NULL)
			v = atoll(p + strlen("total_connections_received:"));
	}
	if (r != NULL)
		freeReplyObject(r);
	redisFree(c);
	return v;
}

/* ================================================================ */
/* Memory only                                                      */
/* ================================================================ */

/* test_mem_burst - burst, then limited, then refilled by the clock. */
static void
test_mem_burst(void **state)
{
	rl_limiter *l = rl_new(NULL, 0, 0);
	rl_rule     r = {1.0, 3.0};
	double      ra = -1, t = 1000000.0;
	int         i;

	(void)state;
	assert_non_null(l);
	assert_int_equal(rl_degraded(l), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(rl_take(l, "ip:127.0.0.1", &r, t, &ra), 1);
		assert_true(ra == 0.0);
	}
	assert_int_equal(rl_take(l, "ip:127.0.0.1", &r, t, &ra), 0);
	assert_true(near(ra, 1.0, 1e-9));
	assert_int_equal(rl_take(l, "ip:127.0.0.1", &r, t + 0.5, &ra), 0);
	assert_true(near(ra, 0.5, 1e-9));
	assert_int_equal(rl_take(l, "ip:127.0.0.1", &r, t + 1.0, &ra), 1);
	assert_int_equal(rl_take(l, "ip:127.0.0.1", &r, t + 1.0, &ra), 0);
	assert_true(near(ra, 1.0, 1e-9));

	/* A clock going backwards neither refills nor breaks anything. */
	assert_int_equal(rl_take(l, "ip:127.0.0.1", &r, t - 100, &ra), 0);
	assert_true(ra > 0 && ra <= 1.0);

	/* A long pause refills to burst, not beyond. */
	t += 1000;
	for (i = 0; i < 3; i++)
		assert_int_equal(rl_take(l, "ip:127.0.0.1", &r, t, NULL), 1);
	assert_int_equal(rl_take(l, "ip:127.0.0.1", &r, t, &ra), 0);

	/* Other keys are not touched. */
	assert_int_equal(rl_take(l, "ip:127.0.0.2", &r, t, &ra), 1);
	assert_int_equal(rl_take(l, "user:42", &r, t, &ra), 1);
	assert_int_equal(rl_take(l, "user:42", &r, t, &ra), 1);
	assert_int_equal(rl_take(l, "user:42", &r, t, &ra), 1);
	assert_int_equal(rl_take(l, "user:42", &r, t, &ra), 0);
	assert_int_equal(rl_take(l, "ip:127.0.0.2", &r, t, &ra), 1);
	assert_int_equal(rl_mem_count(l), 3);

	/* A slow rule: retry_after is long and exact. */
	{
		rl_rule slow = {5.0 / 3600.0, 5.0};

		for (i = 0; i < 5; i++)
			assert_int_equal(rl_take(l, "login:a@b.c", &slow, t, &ra), 1);
		assert_int_equal(rl_take(l, "login:a@b.c", &slow, t, &ra), 0);
		assert_true(near(ra, 720.0, 1e-6));
	}
	rl_free(l);
	rl_free(NULL);
}

/* test_mem_args - bad arguments are -1, never a crash. */
static void
test_mem_args(void **state)
{
	rl_limiter *l = rl_new(NULL, 0, 0);
	rl_rule     r = {1.0, 3.0}, bad;
	char        key[RL_KEY_MAX + 2];
	double      ra = 7;

	(void)state;
	assert_non_null(l);
	assert_int_equal(rl_take(NULL, "k", &r, 1, &ra), -1);
	assert_true(ra == 0.0);
	assert_int_equal(rl_take(l, NULL, &r, 1, &ra), -1);
	assert_int_equal(rl_take(l, "", &r, 1, &ra), -1);
	assert_int_equal(rl_take(l, "k", NULL, 1, &ra), -1);
	assert_int_equal(rl_take(l, "k", &r, NAN, &ra), -1);
	assert_int_equal(rl_take(l, "k", &r, INFINITY, &ra), -1);
	bad = r;
	bad.rate = 0;
	assert_int_equal(rl_take(l, "k", &bad, 1, &ra), -1);
	bad.rate = -1;
	assert_int_equal(rl_take(l, "k", &bad, 1, &ra), -1);
	bad.rate = NAN;
	assert_int_equal(rl_take(l, "k", &bad, 1, &ra), -1);
	bad = r;
	bad.burst = 0.5;
	assert_int_equal(rl_take(l, "k", &bad, 1, &ra), -1);
	bad.burst = INFINITY;
	assert_int_equal(rl_take(l, "k", &bad, 1, &ra), -1);

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0'; /* RL_KEY_MAX + 1 bytes */
	assert_int_equal(rl_take(l, key, &r, 1, &ra), -1);
	key[RL_KEY_MAX] = '\0';
	assert_int_equal(rl_take(l, key, &r, 1, &ra), 1);
	assert_int_equal(rl_mem_count(l), 1);

	/* Keys are opaque bytes: a prefix is another key. */
	key[RL_KEY_MAX - 1] = '\0';
	assert_int_equal(rl_take(l, key, &r, 1, &ra), 1);
	assert_int_equal(rl_mem_count(l), 2);

	assert_null(rl_new("127.0.0.1", 0, 100));
	assert_null(rl_new("127.0.0.1", 70000, 100));
	assert_int_equal(rl_degraded(NULL), 0);
	assert_int_equal(rl_mem_count(NULL), 0);
	rl_free(l);
}

/* test_mem_bound - 100k keys never grow the table past RL_MEM_MAX. */
static void
test_mem_bound(void **state)
{
	rl_limiter *l = rl_new(NULL, 0, 0);
	rl_rule     r = {0.001, 1.0};
	char        key[64];
	double      t = 5000.0;
	int         i;

	(void)state;
	assert_non_null(l);
	/* A bucket in use all along stays (it is never the oldest). */
	assert_int_equal(rl_take(l, "user:hot", &r, t, NULL), 1);
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "ip:10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		assert_int_equal(rl_take(l, key, &r, t, NULL), 1);
		assert_true(rl_mem_count(l) <= RL_MEM_MAX);
		if (i % 1000 == 0)
			assert_int_equal(rl_take(l, "user:hot", &r, t, NULL), 0);
	}
	assert_int_equal(rl_mem_count(l), RL_MEM_MAX);
	assert_int_equal(rl_take(l, "user:hot", &r, t, NULL), 0);

	/* The newest keys are still limited; the oldest were forgotten. */
	snprintf(key, sizeof(key), "ip:10.%d.%d.%d", 99999 >> 16, (99999 >> 8) & 255, 99999 & 255);
	assert_int_equal(rl_take(l, key, &r, t, NULL), 0);
	assert_int_equal(rl_take(l, "ip:10.0.0.0", &r, t, NULL), 1);
	assert_int_equal(rl_mem_count(l), RL_MEM_MAX);
	rl_free(l);
}

typedef struct {
	rl_limiter *l;
	const char *key;
	int         n;
	int         allowed;
	int         errors;
} take_job;

/* take_thread - n takes at a fixed time; counts answers. */
static void *
take_thread(void *arg)
{
	take_job *j = arg;
	rl_rule   r = {1e-6, 100.0};
	char      own[64];
	int       i, rc;

	for (i = 0; i < j->n; i++) {
		rc = rl_take(j->l, j->key, &r, 1e9, NULL);
		if (rc == 1)
			j->allowed++;
		else if (rc != 0)
			j->errors++;
		/* Churn other buckets too, to race with the shared one. */
		snprintf(own, sizeof(own), "churn:%p:%d", (void *)j, i % 50);
		if (rl_take(j->l, own, &r, 1e9, NULL) < 0)
			j->errors++;
	}
	return NULL;
}

/* run_jobs - nthreads take_threads over limiters ls; total allowed. */
static int
run_jobs(rl_limiter **ls, int nl, const char *key, int nthreads, int n)
{
	pthread_t th[16];
	take_job  jobs[16];
	int       i, total = 0;

	assert_true(nthreads <= 16);
	for (i = 0; i < nthreads; i++) {
		jobs[i].l = ls[i % nl];
		jobs[i].key = key;
		jobs[i].n = n;
		jobs[i].allowed = 0;
		jobs[i].errors = 0;
		assert_int_equal(pthread_create(&th[i], NULL, take_thread, &jobs[i]), 0);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(jobs[i].errors, 0);
		total += jobs[i].allowed;
	}
	return total;
}

/* test_mem_threads - one bucket, many threads: exactly burst allowed. */
static void
test_mem_threads(void **state)
{
	rl_limiter *l = rl_new(NULL, 0, 0);

	(void)state;
	assert_non_null(l);
	assert_int_equal(run_jobs(&l, 1, "user:shared", 8, 2000), 100);
	rl_free(l);
}

/* ================================================================ */
/* Redis                                                            */
/* ================================================================ */

/* redis_teardown - group teardown: stop Redis, remove its directory. */
static int
redis_teardown(void **state)
{
	char log[PATH_MAX];

	(void)state;
	redis_stop(SIGTERM);
	snprintf(log, sizeof(log), "%s/redis.log", redis_dir);
	unlink(log);
	rmdir(redis_dir);
	return 0;
}

/* redis_setup - group setup: a fresh redis-server on a free port. */
static int
redis_setup(void **state)
{
	(void)state;
	if (mkdtemp(redis_dir) == NULL) {
		fprintf(stderr, "test_ratelimit: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	redis_port = free_port();
	if (redis_port > 0 && redis_start() == 0)
		return 0;
	redis_teardown(state);
	return -1;
}

/* test_redis_shared - two limiters, one bucket, kept in Redis. */
static void
test_redis_shared(void **state)
{
	rl_limiter *a = rl_new("127.0.0.1", redis_port, 500);
	rl_limiter *b = rl_new("127.0.0.1", redis_port, 500);
	rl_rule     r = {1.0, 5.0};
	char        key[64], rkey[80];
	double      ra, t = 1700000000.123;
	long long   pttl;
	int         i;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(rl_degraded(a), 0);
	assert_int_equal(rl_degraded(b), 0);
	unique_key(key, sizeof(key), "user");
	snprintf(rkey, sizeof(rkey), "rl:%s", key);

	for (i = 0; i < 3; i++)
		assert_int_equal(rl_take(a, key, &r, t, &ra), 1);
	for (i = 0; i < 2; i++)
		assert_int_equal(rl_take(b, key, &r, t, &ra), 1);
	assert_int_equal(rl_take(a, key, &r, t, &ra), 0);
	assert_true(near(ra, 1.0, 0.0011));
	assert_int_equal(rl_take(b, key, &r, t + 0.25, &ra), 0);
	assert_true(near(ra, 0.75, 0.0011));

	/* One second later, one token, for whoever comes first. */
	assert_int_equal(rl_take(b, key, &r, t + 1.0, &ra), 1);
	assert_int_equal(rl_take(a, key, &r, t + 1.0, &ra), 0);

	/* It lives in Redis, with an expiry of about burst/rate*2 s. */
	assert_int_equal(redis_int("EXISTS %s", rkey), 1);
	pttl = redis_int("PTTL %s", rkey);
	assert_true(pttl > 9000 && pttl <= 10000);
	assert_int_equal(rl_mem_count(a), 0);
	assert_int_equal(rl_mem_count(b), 0);
	assert_int_equal(rl_degraded(a), 0);

	/* Fast buckets still live at least a second. */
	{
		rl_rule fast = {1000.0, 1.0};

		assert_int_equal(rl_take(a, "fast", &fast, t, &ra), 1);
		pttl = redis_int("PTTL %s", "rl:fast");
		assert_true(pttl > 500 && pttl <= 1000);
	}
	rl_free(a);
	rl_free(b);
}

/* test_redis_threads - two limiters, eight threads: exactly burst. */
static void
test_redis_threads(void **state)
{
	rl_limiter *ls[2];
	char        key[64];

	(void)state;
	ls[0] = rl_new("127.0.0.1", redis_port, 1000);
	ls[1] = rl_new("127.0.0.1", redis_port, 1000);
	assert_non_null(ls[0]);
	assert_non_null(ls[1]);
	unique_key(key, sizeof(key), "ip");
	assert_int_equal(run_jobs(ls, 2, key, 8, 300), 100);
	assert_int_equal(rl_degraded(ls[0]), 0);
	assert_int_equal(rl_degraded(ls[1]), 0);
	rl_free(ls[0]);
	rl_free(ls[1]);
}

/* test_redis_noscript - a flushed script cache is reloaded silently. */
static void
test_redis_noscript(void **state)
{
	rl_limiter *l = rl_new("127.0.0.1", redis_port, 500);
	rl_rule     r = {1.0, 2.0};
	char        key[64];

	(void)state;
	assert_non_null(l);
	unique_key(key, sizeof(key), "user");
	assert_int_equal(rl_take(l, key, &r, 100.0, NULL), 1);
	assert_int_equal(redis_ok("SCRIPT FLUSH", NULL), 0);
	assert_int_equal(rl_take(l, key, &r, 100.0, NULL), 1);
	assert_int_equal(rl_take(l, key, &r, 100.0, NULL), 0);
	assert_int_equal(rl_degraded(l), 0);
	assert_int_equal(rl_mem_count(l), 0);
	rl_free(l);
}

/* test_redis_error - an error reply falls back to memory, then recovers. */
static void
test_redis_error(void **state)
{
	rl_limiter *l = rl_new("127.0.0.1", redis_port, 500);
	rl_rule     r = {1.0, 1.0};
	char        key[64];
	double      ra;

	(void)state;
	assert_non_null(l);
	assert_int_equal(redis_ok("SET rl:%s not-a-hash", "poisoned"), 0);
	assert_int_equal(rl_take(l, "poisoned", &r, 100.0, &ra), 1);
	assert_int_equal(rl_degraded(l), 1);
	assert_int_equal(rl_mem_count(l), 1);
	assert_int_equal(rl_take(l, "poisoned", &r, 100.0, &ra), 0);
	assert_true(near(ra, 1.0, 1e-9));

	sleep_s(1.1);
	unique_key(key, sizeof(key), "user");
	assert_int_equal(rl_take(l, key, &r, 100.0, &ra), 1);
	assert_int_equal(rl_degraded(l), 0);
	assert_int_equal(redis_int("EXISTS %s", "rl:poisoned"), 1);
	rl_free(l);
}

/*
 * test_redis_outage - Redis dies: answers come from memory at once and
 * cost no reconnect storm; Redis returns: the limiter follows, alone.
 */
static void
test_redis_outage(void **state)
{
	rl_limiter *l = rl_new("127.0.0.1", redis_port, 200);
	rl_limiter *late;
	rl_rule     r = {1.0, 2.0};
	char        key[64], rkey[80];
	double      ra, t0, t, failed_at;
	long long   conns;
	int         i;

	(void)state;
	assert_non_null(l);
	unique_key(key, sizeof(key), "user");
	snprintf(rkey, sizeof(rkey), "rl:%s", key);
	assert_int_equal(rl_take(l, key, &r, 500.0, &ra), 1);
	assert_int_equal(rl_degraded(l), 0);

	redis_stop(SIGKILL);

	/* First call notices; the bucket restarts full in memory. */
	failed_at = mono();
	assert_int_equal(rl_take(l, key, &r, 500.0, &ra), 1);
	assert_int_equal(rl_degraded(l), 1);
	assert_int_equal(rl_take(l, key, &r, 500.0, &ra), 1);
	assert_int_equal(rl_take(l, key, &r, 500.0, &ra), 0);
	assert_true(near(ra, 1.0, 1e-9));
	assert_int_equal(rl_take(l, key, &r, 501.0, &ra), 1);

	/* While degraded, answers are fast: no connect per call. */
	t0 = mono();
	for (i = 0; i < 10000; i++)
		assert_true(rl_take(l, key, &r, 501.0, NULL) >= 0);
	t = mono() - t0;
	if (mono() - failed_at < 0.9)
		assert_true(t < 0.5);
	else
		fprintf(stderr,
		        "test_ratelimit: note: 10000 degraded takes "
		        "took %.2f s; speed check not run\n",
		        t);

	/* A limiter made while Redis is down starts degraded and works. */
	late = rl_new("127.0.0.1", redis_port, 200);
	assert_non_null(late);
	assert_int_equal(rl_degraded(late), 1);
	assert_int_equal(rl_take(late, key, &r, 500.0, &ra), 1);

	/* Redis back on the same port: within the second, still memory. */
	assert_int_equal(redis_start(), 0);
	conns = redis_connections();
	assert_true(conns > 0);
	if (mono() - failed_at < 0.8) {
		for (i = 0; i < 100; i++)
			rl_take(l, key, &r, 501.0, NULL);
		assert_int_equal(rl_degraded(l), 1);
		assert_int_equal(redis_connections(), conns + 1);
	} else {
		fprintf(stderr,
		        "test_ratelimit: note: Redis took %.2f s to "
		        "restart; the no-reconnect-within-1-s check was not "
		        "run\n",
		        mono() - failed_at);
	}

	/* After a second it goes back to Redis by itself. */
	sleep_s(1.1);
	assert_int_equal(redis_int("EXISTS %s", rkey), 0);
	assert_int_equal(rl_take(l, key, &r, 600.0, &ra), 1);
	assert_int_equal(rl_degraded(l), 0);
	assert_int_equal(redis_int("EXISTS %s", rkey), 1);
	assert_int_equal(rl_take(late, key, &r, 600.0, &ra), 1);
	assert_int_equal(rl_degraded(late), 0);
	assert_int_equal(rl_take(l, key, &r, 600.0, &ra), 0);
	assert_int_equal(rl_take(late, key, &r, 600.0, &ra), 0);
	rl_free(late);
	rl_free(l);
}

/*
 * test_redis_backoff - failures counted by two limiters together: free
 * ones, then waits that double up to the longest; read from either; kept
 * no longer than forget_s; cleared; bad arguments refused.
 */
static void
test_redis_backoff(void **state)
{
	rl_limiter      *a = rl_new("127.0.0.1", redis_port, 500);
	rl_limiter      *b = rl_new("127.0.0.1", redis_port, 500);
	const rl_backoff bo = {2, 4.0, 60.0};
	char             key[64], other[64], rkey[80];
	const char      *keys[2] = {key, other};
	double           w, t = 1700000000.0;
	long long        pttl;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	unique_key(key, sizeof(key), "login");
	unique_key(other, sizeof(other), "login");
	snprintf(rkey, sizeof(rkey), "lf:%s", key);

	assert_int_equal(rl_backoff_wait(a, keys, 2, t, &w), 0);
	assert_true(w == 0);
	assert_int_equal(rl_backoff_fail(a, key, &bo, t, &w), 0); /* free */
	assert_true(w == 0);
	assert_int_equal(rl_backoff_fail(b, key, &bo, t, &w), 0); /* free: a's counted too */
	assert_true(w == 0);
	assert_int_equal(rl_backoff_fail(a, key, &bo, t, &w), 0);
	assert_true(near(w, 1.0, 1e-9));
	assert_int_equal(rl_backoff_fail(b, key, &bo, t, &w), 0);
	assert_true(near(w, 2.0, 1e-9));
	assert_int_equal(rl_backoff_fail(a, key, &bo, t, &w), 0);
	assert_true(near(w, 4.0, 1e-9));
	assert_int_equal(rl_backoff_fail(a, key, &bo, t, &w), 0); /* the longest */
	assert_true(near(w, 4.0, 1e-9));

	/* Either limiter reads the wait; the longest of several keys. */
	assert_int_equal(rl_backoff_wait(b, keys, 2, t + 1.5, &w), 0);
	assert_true(near(w, 2.5, 0.0011));
	assert_int_equal(rl_backoff_wait(a, keys + 1, 1, t + 1.5, &w), 0);
	assert_true(w == 0);
	assert_int_equal(rl_backoff_wait(a, keys, 2, t + 4.0, &w), 0);
	assert_true(w == 0);

	/* Kept for forget_s from the last failure, not longer. */
	pttl = redis_int("PTTL %s", rkey);
	assert_true(pttl > 59000 && pttl <= 60000);

	/* Cleared: free failures again. */
	assert_int_equal(rl_backoff_clear(b, key), 0);
	assert_int_equal(redis_int("EXISTS %s", rkey), 0);
	assert_int_equal(rl_backoff_fail(a, key, &bo, t, &w), 0);
	assert_true(w == 0);

	/* Bad arguments: refused, never sent. */
	{
		const rl_backoff bad = {2, 0.0, 60.0};
		const char      *none[1] = {""};

		assert_int_equal(rl_backoff_fail(a, key, &bad, t, &w), -1);
		assert_int_equal(rl_backoff_fail(a, "", &bo, t, &w), -1);
		assert_int_equal(rl_backoff_wait(a, none, 1, t, &w), -1);
		assert_int_equal(rl_backoff_wait(a, keys, 5, t, &w), -1);
		assert_int_equal(rl_backoff_clear(NULL, key), -1);
	}
	assert_int_equal(rl_degraded(a), 0);

	/* A key that is not a back-off hash: an error reply, -1, degraded. */
	assert_int_equal(redis_ok("SET lf:%s not-a-hash", "poisoned-bo"), 0);
	assert_int_equal(rl_backoff_fail(a, "poisoned-bo", &bo, t, &w), -1);
	assert_int_equal(rl_degraded(a), 1);
	rl_free(a);
	rl_free(b);
}

/* test_backoff_without_redis - a memory-only limiter has no shared back-off: -1 */
static void
test_backoff_without_redis(void **state)
{
	rl_limiter      *l = rl_new(NULL, 0, 0);
	const rl_backoff bo = {2, 4.0, 60.0};
	const char      *keys[1] = {"k"};
	double           w = 7;

	(void)state;
	assert_non_null(l);
	assert_int_equal(rl_backoff_fail(l, "k", &bo, 1.0, &w), -1);
	assert_true(w == 0);
	assert_int_equal(rl_backoff_wait(l, keys, 1, 1.0, &w), -1);
	assert_int_equal(rl_backoff_clear(l, "k"), -1);
	rl_free(l);
}

/* main - memory tests, then Redis tests against a private redis-server. */
int
main(void)
{
	const struct CMUnitTest mem_tests[] = {
	    cmocka_unit_test(test_mem_burst),
	    cmocka_unit_test(test_mem_args),
	    cmocka_unit_test(test_mem_bound),
	    cmocka_unit_test(test_mem_threads),
	    cmocka_unit_test(test_backoff_without_redis),
	};
	const struct CMUnitTest redis_tests[] = {
	    cmocka_unit_test(test_redis_shared),   cmocka_unit_test(test_redis_threads),
	    cmocka_unit_test(test_redis_noscript), cmocka_unit_test(test_redis_error),
	    cmocka_unit_test(test_redis_outage),   cmocka_unit_test(test_redis_backoff),
	};
	int failed;

	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	failed = cmocka_run_group_tests_name("ratelimit_memory", mem_tests, NULL, NULL);
	if (find_redis() < 0) {
		fprintf(stderr, "test_ratelimit: FAIL: redis-server not found "
		                "(install redis-server or set REDIS_SERVER); the Redis "
		                "tests cannot run\n");
		return 1;
	}
	failed += cmocka_run_group_tests_name("ratelimit_redis", redis_tests, redis_setup,
	                                      redis_teardown);
	return failed != 0;
}
