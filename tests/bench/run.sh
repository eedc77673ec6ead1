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
export CLUBOS_ROOT="$ROOT"
. deploy/env.sh

URL="http://127.0.0.1:$CLUBOS_HTTP_PORT"
CLUBOS_TOKEN=$(curl -fsS "$URL/api/auth/login" -H 'Content-Type: application/json' \
	-d '{"email":"admin@clubos.local","password":"bench-password-1"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
export CLUBOS_TOKEN

# run PATH CONNS - one wrk run; prints a table row
run() {
	t=2
	[ "$2" -lt 2 ] && t=1
	out=$(CLUBOS_BENCH_PATH=$1 wrk -t"$t" -c"$2" -d"${DURATION}s" -s tests/bench/query.lua "$URL" 2>&1 |
		grep RESULT || echo "RESULT p50_ms=- p99_ms=- rps=- errors=-")
	printf '%-16s %5s %10s %10s %10s %8s\n' "$3" "$2" \
		"$(echo "$out" | sed 's/.*p50_ms=\([^ ]*\).*/\1/')" \
		"$(echo "$out" | sed 's/.*p99_ms=\([^ ]*\).*/\1/')" \
		"$(echo "$out" | sed 's/.*rps=\([^ ]*\).*/\1/')" \
		"$(echo "$out" | sed 's/.*errors=\([^ ]*\).*/\1/')"
}

# restart_router on|off - the router with the cache on or off
restart_router() {
	kill "$(cat "$CLUBOS_VAR/run/clubos-router.pid")"
	while [ -f "$CLUBOS_VAR/run/clubos-router.pid" ]; do sleep 0.1; done
	CLUBOS_CACHE=$1 build/bin/clubos-router
	i=0
	until curl -fsS "$URL/api/health" 2>/dev/null | grep -q '"status":"ok"'; do
		i=$((i + 1))
		[ "$i" -gt 200 ] && { echo "bench: the router did not come back" >&2; exit 1; }
		sleep 0.1
	done
}

echo "ClubOS bench: POST /api/query, ${DURATION}s per run, wrk on the same 2 cores"
printf '%-16s %5s %10s %10s %10s %8s\n' path conns p50_ms p99_ms req/s errors
for c in 1 8 32 64; do run sop "$c" "sop cache hit"; done
restart_router off
for c in 1 8 32 64; do run sop "$c" "sop cache off"; done
for c in 1 8 32; do run emergency "$c" "emergency"; done
restart_router on
curl -fsS "$URL/metrics" | grep -E '^clubos_(cache_hits_total|trace_steps_dropped)' || true

# L1 alone, in process: the lookup cost at 10,000 entries.
if [ -x build/bin/clubos-cache-eval ] && [ -f ../shared/datasets/banking77/train.jsonl ]; then
	echo
	echo "L1 lookups, BANKING77 train (10,003 entries) probed with its own texts:"
	build/bin/clubos-cache-eval --fill ../shared/datasets/banking77/train.jsonl \
		--probe ../shared/datasets/banking77/train.jsonl
fi
