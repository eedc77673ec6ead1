#!/bin/sh
# up.sh - start the whole stack under var/ (make up).  Idempotent: what is
# already running is left running.
set -eu
. "$(dirname "$0")/env.sh"

mkdir -p "$VAR" "$CLUBOS_RUN_DIR" "$CLUBOS_LOG_DIR"
jwt_secret

# PostgreSQL: a project-local cluster, unix socket under var/ plus loopback.
if [ ! -f "$VAR/pg/PG_VERSION" ]; then
	echo "up: creating the PostgreSQL cluster in var/pg"
	mkdir -p "$VAR/pg" "$VAR/pg-socket"
	[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$VAR/pg" "$VAR/pg-socket" && chmod 700 "$VAR/pg"
	# root's $VAR may sit in a directory postgres cannot enter
	[ "$(id -u)" -eq 0 ] && chmod o+x "$ROOT" "$VAR" 2>/dev/null || true
	as_pg "$PGBIN/initdb" -D "$VAR/pg" -U postgres -A trust -E UTF8 >"$CLUBOS_LOG_DIR/initdb.log"
fi
if ! as_pg "$PGBIN/pg_ctl" -D "$VAR/pg" status >/dev/null 2>&1; then
	echo "up: starting PostgreSQL on port $CLUBOS_PG_PORT"
	as_pg "$PGBIN/pg_ctl" -D "$VAR/pg" -l "$VAR/pg/server.log" -w \
		-o "-p $CLUBOS_PG_PORT -k $VAR/pg-socket -c listen_addresses=127.0.0.1" start >/dev/null
fi
PSQL="$PGBIN/psql -h $VAR/pg-socket -p $CLUBOS_PG_PORT -U postgres -X -q"
as_pg $PSQL -tc "SELECT 1 FROM pg_roles WHERE rolname = 'clubos'" | grep -q 1 ||
	as_pg $PSQL -c "CREATE ROLE clubos LOGIN"
as_pg $PSQL -tc "SELECT 1 FROM pg_database WHERE datname = 'clubos'" | grep -q 1 ||
	as_pg $PSQL -c "CREATE DATABASE clubos OWNER clubos"

# Redis: a cache only, so no persistence.
if ! running "$CLUBOS_RUN_DIR/redis.pid"; then
	echo "up: starting Redis on port $CLUBOS_REDIS_PORT"
	redis-server --port "$CLUBOS_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize yes --pidfile "$CLUBOS_RUN_DIR/redis.pid" \
		--logfile "$CLUBOS_LOG_DIR/redis.log" --dir "$VAR"
fi

"$BIN/clubosctl" migrate up >/dev/null
"$BIN/clubosctl" seed --people

# The daemons: the bus first, then clubos-intelligence, the one writer of
# SOPs and examples (the knowledge seed goes through it), then the router
# (it hosts the worker sockets) and the rest.
start() { # start NAME PIDFILE ARGS...
	name=$1 pidfile=$2
	shift 2
	if running "$pidfile"; then return 0; fi
	"$BIN/$name" "$@"
}
start clubos-bus "$CLUBOS_RUN_DIR/clubos-bus.pid"
start clubos-intelligence "$CLUBOS_RUN_DIR/clubos-intelligence.pid"
"$BIN/clubosctl" seed --knowledge
start clubos-router "$CLUBOS_RUN_DIR/clubos-router.pid"
start clubos-cache "$CLUBOS_RUN_DIR/clubos-cache.pid"
start clubos-actions "$CLUBOS_RUN_DIR/clubos-actions.pid"
start clubos-conversations "$CLUBOS_RUN_DIR/clubos-conversations.pid"
for r in $ROUTES; do
	alive=0
	for f in "$CLUBOS_RUN_DIR"/clubos-assistant-"$r"-*.pid; do
		[ -e "$f" ] || continue
		if running "$f"; then alive=1; else rm -f "$f"; fi
	done
	[ "$alive" -eq 1 ] || "$BIN/clubos-assistant" --route "$r"
done
start clubos-gateway "$CLUBOS_RUN_DIR/clubos-gateway-$CLUBOS_HTTP_PORT.pid"

# Wait for the health check to say ok (every worker connected).
url="http://127.0.0.1:$CLUBOS_HTTP_PORT"
i=0
until curl -fsS "$url/api/health" 2>/dev/null | grep -q '"status":"ok"'; do
	i=$((i + 1))
	if [ "$i" -gt 100 ]; then
		echo "up: the stack did not become healthy; see $CLUBOS_LOG_DIR/" >&2
		curl -sS "$url/api/health" >&2 || true
		exit 1
	fi
	sleep 0.2
done

if [ -n "${CLUBOS_ADMIN_PASSWORD:-}" ]; then
	pw="(the CLUBOS_ADMIN_PASSWORD you set)"
elif [ -r "$CLUBOS_ADMIN_PASSWORD_FILE" ]; then
	pw=$(cat "$CLUBOS_ADMIN_PASSWORD_FILE")
else
	pw="(set when this database was first seeded; $CLUBOS_ADMIN_PASSWORD_FILE is gone)"
fi
cat <<MSG

ClubOS is up: $url/
  admin login: ${CLUBOS_ADMIN_EMAIL:-admin@clubos.local} / $pw
  ask:         build/bin/clubosctl ask "the trackman in bay 2 is frozen"
  trace bus:   build/bin/clubosctl trace
  stop:        make down
MSG
