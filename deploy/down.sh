#!/bin/sh
# down.sh - stop everything `make up` started, by pid file; data in var/ stays.
set -u
. "$(dirname "$0")/env.sh"

stop_pid() { # stop_pid PIDFILE: TERM, wait up to 10 s, then KILL
	[ -f "$1" ] || return 0
	pid=$(cat "$1")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		i=0
		while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$1"
}

# Front to back: no new requests first, the bus host last.
for f in "$CLUBOS_RUN_DIR"/clubos-gateway-*.pid; do
	[ -e "$f" ] && stop_pid "$f"
done
for f in "$CLUBOS_RUN_DIR"/clubos-assistant-*.pid; do
	[ -e "$f" ] && stop_pid "$f"
done
stop_pid "$CLUBOS_RUN_DIR/clubos-conversations.pid"
stop_pid "$CLUBOS_RUN_DIR/clubos-actions.pid"
stop_pid "$CLUBOS_RUN_DIR/clubos-intelligence.pid"
stop_pid "$CLUBOS_RUN_DIR/clubos-cache.pid"
stop_pid "$CLUBOS_RUN_DIR/clubos-router.pid"
stop_pid "$CLUBOS_RUN_DIR/clubos-bus.pid"
stop_pid "$CLUBOS_RUN_DIR/redis.pid"
if [ -f "$VAR/pg/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$VAR/pg" status >/dev/null 2>&1; then
	as_pg "$PGBIN/pg_ctl" -D "$VAR/pg" -m fast -w stop >/dev/null
fi
echo "down: stopped"
