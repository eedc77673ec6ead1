/*
 * log.c - one line per event on stderr
 *
 * Text:  2026-11-22T10:00:00.123Z INFO clubos-router[1234] trace=<id> text
 * JSON:  {"ts":"2026-11-22T10:00:00.123Z","level":"info","daemon":"clubos-router",
 *         "pid":1234,"trace_id":"<id>","msg":"text"}   (CLUBOS_LOG_FORMAT=json)
 *
 * A line is built in a local buffer and written with one write(2), so lines
 * from several threads never interleave.  A JSON line is always one valid
 * object: the message is escaped, bytes that are not UTF-8 become U+FFFD,
 * and a message too long for the line is cut at a character boundary.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

#define LOG_LINE_MAX 2048

static char                 log_daemon[48] = "clubos";
static int                  log_verbose;
static enum log_format      log_fmt;
static _Atomic(log_hook_fn) log_hook;

static const char *const log_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
static const char *const log_json_names[] = {"debug", "info", "warn", "error"};

/* log_init - name the daemon, pick the threshold, and the format from the environment */
void
log_init(const char *daemon, int verbose)
{
	const char *f = getenv("CLUBOS_LOG_FORMAT");

	snprintf(log_daemon, sizeof(log_daemon), "%s", daemon);
	log_verbose = verbose;
	if (f != NULL) /* unset: keep what the configuration chose */
		log_fmt = strcasecmp(f, "json") == 0 ? LOG_JSON : LOG_TEXT;
}

/* log_set_verbose - change the threshold (on reload) */
void
log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

/* log_set_format - text or JSON lines (tests; log_init reads the environment) */
void
log_set_format(enum log_format f)
{
	log_fmt = f;
}

/* log_set_hook - the function told of every error (NULL: none) */
void
log_set_hook(log_hook_fn fn)
{
	atomic_store(&log_hook, fn);
}

/* log_daemon_name - the name lines carry (the instance, once known) */
const char *
log_daemon_name(void)
{
	return log_daemon;
}

/* json_str - append s as a JSON string to out[*n..cap); false when it did not fit */
static bool
json_str(char *out, size_t cap, size_t *n, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t            len = strlen(s), i = 0, k = *n;

	if (k + 2 > cap)
		return false;
	out[k++] = '"';
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t        cl;

		if (c < 0x80) {
			char esc = c == '"'    ? '"'
			           : c == '\\' ? '\\'
			           : c == '\n' ? 'n'
			           : c == '\r' ? 'r'
			           : c == '\t' ? 't'
			                       : 0;
			if (esc != 0 || c < 0x20 || c == 0x7f) {
				if (esc != 0) {
					if (k + 2 + 1 > cap)
						break;
					out[k++] = '\\';
					out[k++] = esc;
				} else {
					if (k + 6 + 1 > cap)
						break;
					memcpy(out + k, "\\u00", 4);
					out[k + 4] = hex[c >> 4];
					out[k + 5] = hex[c & 15];
					k += 6;
				}
			} else {
				if (k + 1 + 1 > cap)
					break;
				out[k++] = (char)c;
			}
			i++;
			continue;
		}
		/* One whole UTF-8 character, or U+FFFD for a byte that starts none. */
		cl = util_utf8_prefix(s + i, len - i, 1, 4);
		if (cl == 0) {
			if (k + 3 + 1 > cap)
				break;
			memcpy(out + k, "\xef\xbf\xbd", 3);
			k += 3;
			i++;
			continue;
		}
		if (k + cl + 1 > cap)
			break;
		memcpy(out + k, s + i, cl);
		k += cl;
		i += cl;
	}
	out[k++] = '"'; /* room was kept for it */
	*n = k;
	return i == len;
}

/* log_json_line - one JSON object for an event, no newline; its length (cut to fit cap) */
size_t
log_json_line(char *out, size_t cap, long long ts_ms, enum log_level lvl, const char *daemon,
              long pid, const char *trace_id, const char *msg)
{
	char      ts[40];
	time_t    t = (time_t)(ts_ms / 1000);
	struct tm tm;
	size_t    n = 0;
	int       r;

	if (cap < 256)
		return 0;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(out, cap, "{\"ts\":\"%s.%03dZ\",\"level\":\"%s\",\"daemon\":", ts,
	             (int)(ts_ms % 1000), log_json_names[lvl]);
	n = (size_t)r;
	json_str(out, cap - 64, &n, daemon);
	n += (size_t)snprintf(out + n, cap - n, ",\"pid\":%ld", pid);
	if (trace_id != NULL && *trace_id != '\0') {
		memcpy(out + n, ",\"trace_id\":", 12);
		n += 12;
		json_str(out, cap - 32, &n, trace_id);
	}
	memcpy(out + n, ",\"msg\":", 7);
	n += 7;
	json_str(out, cap - 2, &n, msg); /* cut at a character when too long */
	out[n++] = '}';
	out[n] = '\0';
	return n;
}

/* log_vmsg - format and write one line */
static void
log_vmsg(enum log_level lvl, const char *trace_id, const char *fmt, va_list ap)
{
	char            line[LOG_LINE_MAX], msg[LOG_LINE_MAX];
	struct timespec ts;
	struct tm       tm;
	size_t          n;
	int             r;
	log_hook_fn     hook;

	if (lvl == LOG_DEBUG && !log_verbose)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (r < 0)
		msg[0] = '\0';
	if (log_fmt == LOG_JSON) {
		n = log_json_line(line, sizeof(line) - 1,
		                  (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, lvl,
		                  log_daemon, (long)getpid(), trace_id, msg);
	} else {
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s %s[%ld] ",
		             ts.tv_nsec / 1000000, log_names[lvl], log_daemon, (long)getpid());
		if (r > 0)
			n += (size_t)r;
		if (trace_id != NULL && *trace_id != '\0' && n < sizeof(line)) {
			r = snprintf(line + n, sizeof(line) - n, "trace=%s ", trace_id);
			if (r > 0)
				n += (size_t)r;
		}
		if (n < sizeof(line)) {
			r = snprintf(line + n, sizeof(line) - n, "%s", msg);
			if (r > 0)
				n += (size_t)r;
		}
		if (n > sizeof(line) - 2)
			n = sizeof(line) - 2;
		/* One event, one line: fold any newline the caller let through. */
		for (size_t i = 0; i < n; i++)
			if (line[i] == '\n' || line[i] == '\r')
				line[i] = ' ';
	}
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		n = 0;
	if (lvl == LOG_ERROR && (hook = atomic_load(&log_hook)) != NULL)
		hook(lvl, trace_id, msg);
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
