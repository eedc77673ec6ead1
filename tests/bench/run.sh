#!/bin/sh
# make bench - start a throwaway stack (rate limits off) and drive
# POST /api/query with wrk at several concurrencies, for the SOP path and
# the emergency path.  Prints p50/p99 latency and requests/s.  Never part of
# make test: these are figures, not assertions.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DURATION="${CLUBOS_BENCH_SECONDS:-10}"
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

export CLUBOS_VAR=$(mktemp -d /tmp/cbench.XXXXXX)
export CLUBOS_PG_PORT=$(free_port) CLUBOS_REDIS_PORT=$(free_port) CLUBOS_HTTP_PORT=$(free_port)
export CLUBOS_RATE_LIMIT=off CLUBOS_ADMIN_PASSWORD=bench-password-1 CLUBOS_HTTP_WORKERS=16
trap 'sh deploy/down.sh >/dev/null 2>&1; rm -rf "$CLUBOS_VAR"' EXIT INT TERM
sh deploy/up.sh >/dev/null

URL="http://127.0.0.1:$CLUBOS_HTTP_PORT"
CLUBOS_TOKEN=$(curl -fsS "$URL/api/auth/login" -H 'Content-Type: application/json' \
	-d '{"email":"admin@clubos.local","password":"bench-password-1"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
export CLUBOS_TOKEN

echo "ClubOS bench: POST /api/query, ${DURATION}s per run, 2 wrk threads"
printf '%-10s %5s %10s %10s %10s %8s\n' path conns p50_ms p99_ms req/s errors
for path in sop emergency; do
	for c in 1 8 32 64; do
		t=2
		[ "$c" -lt 2 ] && t=1
		out=$(CLUBOS_BENCH_PATH=$path wrk -t"$t" -c"$c" -d"${DURATION}s" --latency \
			-s tests/bench/query.lua "$URL" 2>&1 | grep RESULT)
		p50=$(echo "$out" | sed 's/.*p50_ms=\([^ ]*\).*/\1/')
		p99=$(echo "$out" | sed 's/.*p99_ms=\([^ ]*\).*/\1/')
		rps=$(echo "$out" | sed 's/.*rps=\([^ ]*\).*/\1/')
		err=$(echo "$out" | sed 's/.*errors=\([^ ]*\).*/\1/')
		printf '%-10s %5s %10s %10s %10s %8s\n' "$path" "$c" "$p50" "$p99" "$rps" "$err"
	done
done
curl -fsS "$URL/metrics" | grep -E '^clubos_(query_duration_seconds_count|trace_steps_dropped)' || true
