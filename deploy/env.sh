# env.sh - the settings `make up`, `make down` and the scripts share.
# Sourced, not run.  Everything lives under var/ in the repository.
ROOT=${CLUBOS_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
VAR="${CLUBOS_VAR:-$ROOT/var}"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
: "${CLUBOS_PG_PORT:=55432}"
: "${CLUBOS_REDIS_PORT:=56379}"
: "${CLUBOS_HTTP_PORT:=8080}"
export CLUBOS_PG_DSN="${CLUBOS_PG_DSN:-host=$VAR/pg-socket port=$CLUBOS_PG_PORT dbname=clubos user=clubos}"
export CLUBOS_REDIS_HOST="${CLUBOS_REDIS_HOST:-127.0.0.1}"
export CLUBOS_REDIS_PORT CLUBOS_HTTP_PORT
export CLUBOS_RUN_DIR="${CLUBOS_RUN_DIR:-$VAR/run}"
export CLUBOS_LOG_DIR="${CLUBOS_LOG_DIR:-$VAR/log}"
export CLUBOS_SEED_DIR="${CLUBOS_SEED_DIR:-$ROOT/deploy/seed}"
export CLUBOS_MIGRATIONS_DIR="${CLUBOS_MIGRATIONS_DIR:-$ROOT/migrations}"
export CLUBOS_WEB_DIR="${CLUBOS_WEB_DIR:-$ROOT/gateway/web}"
export CLUBOS_ADMIN_PASSWORD_FILE="${CLUBOS_ADMIN_PASSWORD_FILE:-$VAR/admin-password}"
BIN="${CLUBOS_BIN:-$ROOT/build/bin}"
ROUTES="emergency booking tech brand strategy customerinfo general"

# jwt_secret - export CLUBOS_JWT_SECRET: the environment's if set, else the
# one kept in var/jwt-secret, made from 32 random bytes on the first run and
# readable by its owner only.  There is no built-in secret: a published one
# would let anyone sign an admin token.
jwt_secret() {
	if [ -z "${CLUBOS_JWT_SECRET:-}" ]; then
		if [ ! -s "$VAR/jwt-secret" ]; then
			(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$VAR/jwt-secret.tmp" &&
				mv "$VAR/jwt-secret.tmp" "$VAR/jwt-secret")
		fi
		chmod 600 "$VAR/jwt-secret"
		CLUBOS_JWT_SECRET=$(cat "$VAR/jwt-secret")
	fi
	export CLUBOS_JWT_SECRET
}

# as_pg - run a PostgreSQL tool as the postgres user when we are root
# (initdb and postgres refuse to run as root).
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# running PIDFILE - is the process of that pid file alive?
running() {
	[ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}
