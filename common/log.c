/*
 * log.c - one line per event on stderr
 *
 * Format: 2026-11-22T10:00:00.123Z INFO clubos-router[1234] trace=<id> text
 * A line is built in a local buffer and written with one write(2), so lines
 * from several threads never interleave.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char log_daemon[48] = "clubos";
static int  log_verbose;

static const char *const log_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

/* log_init - name the daemon and pick the threshold */
void
log_init(const char *daemon, int verbose)
{
	snprintf(log_daemon, sizeof(log_daemon), "%s", daemon);
	log_verbose = verbose;
}

/* log_set_verbose - change the threshold (on reload) */
void
log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

/* log_vmsg - format and write one line */
static void
log_vmsg(enum log_level lvl, const char *trace_id, const char *fmt, va_list ap)
{
	char            line[2048];
	struct timespec ts;
	struct tm       tm;
	size_t          n;
	int             r;

	if (lvl == LOG_DEBUG && !log_verbose)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s %s[%ld] ", ts.tv_nsec / 1000000,
	             log_names[lvl], log_daemon, (long)getpid());
	if (r > 0)
		n += (size_t)r;
	if (trace_id != NULL && *trace_id != '\0' && n < sizeof(line)) {
		r = snprintf(line + n, sizeof(line) - n, "trace=%s ", trace_id);
		if (r > 0)
			n += (size_t)r;
	}
	if (n < sizeof(line)) {
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		if (r > 0)
			n += (size_t)r;
	}
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	/* One event, one line: fold any newline the caller let through. */
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

/* log_msg - log one event */
void
log_msg(enum log_level lvl, const char *trace_id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, trace_id, fmt, ap);
	va_end(ap);
}

/* fatal - log and exit; start-up only */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

/* log_mask_phone - keep only the last four digits of a phone number */
const char *
log_mask_phone(const char *phone, char *buf, size_t cap)
{
	size_t n;

	if (phone == NULL || cap < 8) {
		if (cap > 0)
			buf[0] = '\0';
		return buf;
	}
	n = strlen(phone);
	snprintf(buf, cap, "***%s", n > 4 ? phone + n - 4 : "");
	return buf;
}
