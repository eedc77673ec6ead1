/*
 * log.h - one line per event on stderr
 *
 * Every daemon logs through this module: a line carries the time, level,
 * daemon name, pid and (when known) the trace id of the request it belongs
 * to.  The supervisor (make up, systemd, a container runtime) collects
 * stderr.  With CLUBOS_LOG_FORMAT=json in the environment each line is one
 * JSON object instead ({"ts","level","daemon","pid","trace_id","msg"}), for
 * a platform that indexes logs.  Secrets never reach a log line: callers
 * pass phone numbers through log_mask_phone() and never pass tokens or
 * passwords at all.
 */
#ifndef CLUBOS_LOG_H
#define CLUBOS_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

/* A function told of every error line (after it is written): the error
 * reporter (sentry.c) registers one.  It must not block and must not log. */
typedef void (*log_hook_fn)(enum log_level lvl, const char *trace_id, const char *msg);

void        log_init(const char *daemon, int verbose);
void        log_set_verbose(int verbose);
void        log_set_format(enum log_format f);
void        log_set_hook(log_hook_fn fn);
const char *log_daemon_name(void);
void        log_msg(enum log_level lvl, const char *trace_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *log_mask_phone(const char *phone, char *buf, size_t cap);
size_t log_json_line(char *out, size_t cap, long long ts_ms, enum log_level lvl, const char *daemon,
                     long pid, const char *trace_id, const char *msg);

#define log_debug(...) log_msg(LOG_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, NULL, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, NULL, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, NULL, __VA_ARGS__)

/* fatal - log and exit(1); only for start-up, where going on makes no sense */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
