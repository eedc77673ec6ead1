#!/bin/sh
# make bench - start a throwaway stack (rate limits off) and drive
# POST /api/query for the SOP path (cache hits, then the cache off: the full
# path) and the emergency path.  Never part of make test: these are figures,
# not assertions.  Two kinds of load, on the same 2 cores as the stack:
#
#   closed loop  wrk: each connection sends its next request when the last
#                is answered.  Gives the saturation throughput (req/s counts
#                2xx answers only: a shed 503 is an error); its latency
#                is queueing (Little's law: at 32 connections p50 is about
#                32 / throughput), not what one request costs.
#   open loop    clubos-loadgen (tests/bench/loadgen.c): a fixed offered
#                rate over 32 connections, latency from each request's
#                scheduled time (no coordinated omission).  Gives latency at
#                a stated load.
#
# CLUBOS_BENCH_SECONDS (10) per run; CLUBOS_BENCH_RATES ("1000 2000 4000"),
# the offered rates for cache hits; the design load is 2,000 req/s.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DURATION="${CLUBOS_BENCH_SECONDS:-10}"
RATES="${CLUBOS_BENCH_RATES:-1000 2000 4000}"
DESIGN_RATE=2000
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

export CLUBOS_VAR=$(mktemp -d /tmp/cbench.XXXXXX)
export CLUBOS_PG_PORT=$(free_port) CLUBOS_REDIS_PORT=$(free_port) CLUBOS_HTTP_PORT=$(free_port)
export CLUBOS_RATE_LIMIT=off CLUBOS_ADMIN_PASSWORD=bench-password-1 CLUBOS_HTTP_WORKERS=16
trap 'sh deploy/down.sh >/dev/null 2>&1; rm -rf "$CLUBOS_VAR"' EXIT INT TERM
sh deploy/up.sh >/dev/null
# The gateway restarted below needs the secret up.sh made (there is no default).
CLUBOS_JWT_SECRET=$(cat "$CLUBOS_VAR/jwt-secret")
export CLUBOS_JWT_SECRET
export CLUBOS_ROOT="$ROOT"
. deploy/env.sh

URL="http://127.0.0.1:$CLUBOS_HTTP_PORT"
CLUBOS_TOKEN=$(curl -fsS "$URL/api/auth/login" -H 'Content-Type: application/json' \
	-d '{"email":"admin@clubos.local","password":"bench-password-1"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
export CLUBOS_TOKEN
OUT="$CLUBOS_VAR/results"
: >"$OUT"

# field NAME LINE - one name=value of a RESULT line
field() { echo "$2" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

# closed PATH CONNS LABEL [unique] - one wrk run; prints a table row
closed() {
	sleep 2
	t=2
	[ "$2" -lt 2 ] && t=1
	r=$(CLUBOS_BENCH_UNIQUE=$([ "${4:-}" = unique ] && echo 1 || echo 0) \
		CLUBOS_BENCH_MESSAGES=tests/bench/$1.txt wrk -t"$t" -c"$2" -d"${DURATION}s" \
		-s tests/bench/query.lua "$URL" 2>&1 | grep RESULT ||
		echo "RESULT p50_ms=- p99_ms=- rps=- ok_rps=- shed=- errors=-")
	# req/s counts answers (2xx) only; a shed 503 is an error, not throughput
	printf '%-16s %5s %8s %8s %8s %8s %7s\n' "$3" "$2" closed "$(field p50_ms "$r")" \
		"$(field p99_ms "$r")" "$(field ok_rps "$r")" "$(field errors "$r")"
	echo "closed $(echo "$3" | tr ' ' _) $2 $r" >>"$OUT"
}

# open PATH RATE LABEL [unique] - one clubos-loadgen run at 32 connections; a table row
open_loop() {
	sleep 2
	if [ "${4:-}" = unique ]; then
		# every body a question nobody asked before: rate x (seconds + warm-up) of them
		awk -v n="$(($2 * (DURATION + 3)))" 'NF { m[++k] = $0 }
			END { for (i = 1; i <= n; i++)
				printf "{\"message\":\"%s (ref %d)\",\"channel\":\"web\"}\n", m[(i - 1) % k + 1], i }' \
			"tests/bench/$1.txt" >"$CLUBOS_VAR/bodies"
	else
		sed 's/.*/{"message":"&","channel":"web"}/' "tests/bench/$1.txt" >"$CLUBOS_VAR/bodies"
	fi
	r=$(build/bin/clubos-loadgen --url "$URL/api/query" --conns 32 --rate "$2" \
		--seconds "$DURATION" --warmup 2 --method POST \
		--header "Authorization: Bearer $CLUBOS_TOKEN" \
		--header 'Content-Type: application/json' --bodies "$CLUBOS_VAR/bodies" 2>/dev/null |
		grep RESULT || echo "RESULT p50_ms=- p99_ms=- p999_ms=- rps=- errors=-")
	printf '%-16s %5s %8s %8s %8s %8s %7s   p99.9 %s ms\n' "$3" 32 "$2/s" "$(field p50_ms "$r")" \
		"$(field p99_ms "$r")" "$(field rps "$r")" "$(field errors "$r")" "$(field p999_ms "$r")"
	echo "open $(echo "$3" | tr ' ' _) $2 $r" >>"$OUT"
}

# restart on|off - the router and the gateway (both halves of L1) with the cache on or off
restart() {
	for name in clubos-router "clubos-gateway-$CLUBOS_HTTP_PORT"; do
		kill "$(cat "$CLUBOS_VAR/run/$name.pid")"
		while [ -f "$CLUBOS_VAR/run/$name.pid" ]; do sleep 0.1; done
	done
	CLUBOS_CACHE=$1 build/bin/clubos-router
	CLUBOS_CACHE=$1 build/bin/clubos-gateway
	i=0
	until curl -fsS "$URL/api/health" 2>/dev/null | grep -q '"status":"ok"'; do
		i=$((i + 1))
		[ "$i" -gt 200 ] && { echo "bench: the stack did not come back" >&2; exit 1; }
		sleep 0.1
	done
}

echo "ClubOS bench: POST /api/query, ${DURATION}s per run; the load generator shares the 2 cores"
printf '%-16s %5s %8s %8s %8s %8s %7s\n' path conns load p50_ms p99_ms req/s errors
# Open-loop runs first, lightest first, each after a pause: a saturating
# run leaves the database a backlog of trace rows that would weigh on the
# next run's tail.
for rate in $RATES; do open_loop sop "$rate" "sop cache hit"; done
for c in 1 8 32 64; do closed sop "$c" "sop cache hit"; done
curl -fsS "$URL/metrics" | grep -E '^clubos_(cache_hits_total|trace_(steps|summaries)_dropped)' || true
# Questions nobody asked before, with the cache on: every one a miss.
for rate in 500 1000 2000; do open_loop sop "$rate" "sop unique" unique; done
closed sop 32 "sop unique" unique
# One tech worker takes 8 requests at a time (CLUBOS_ROUTE_MAX_INFLIGHT):
# 8 connections show what it answers, 32 what it does when asked for more.
closed action 8 "action unique" unique
closed action 32 "action unique" unique
restart off
open_loop sop 1000 "sop cache off"
for c in 1 8 32 64; do closed sop "$c" "sop cache off"; done
for c in 1 8 32; do closed emergency "$c" "emergency"; done
restart on

# The issue's targets side by side, from the runs above.
hit=$(awk '$1 == "closed" && $2 == "sop_cache_hit" && $3 == 32' "$OUT")
uniq=$(awk '$1 == "closed" && $2 == "sop_unique" && $3 == 32' "$OUT")
act=$(awk '$1 == "closed" && $2 == "action_unique" && $3 == 32' "$OUT")
miss=$(awk '$1 == "closed" && $2 == "sop_cache_off" && $3 == 32' "$OUT")
ol=$(awk -v r="$DESIGN_RATE" '$1 == "open" && $2 == "sop_cache_hit" && $3 == r' "$OUT")
echo
echo "At 32 connections, side by side:"
printf '  answered throughput, closed loop: cache hits %s req/s, full path %s req/s, ratio %s (target >= 2)\n' \
	"$(field ok_rps "$hit")" "$(field ok_rps "$miss")" \
	"$(awk -v a="$(field ok_rps "$hit")" -v b="$(field ok_rps "$miss")" \
		'BEGIN { if (b + 0 > 0) printf "%.1f", a / b; else print "-" }')"
printf '  cache hit latency at %s req/s offered: p50 %s ms (target <= 1), p99 %s ms (target <= 5)\n' \
	"$DESIGN_RATE" "$(field p50_ms "$ol")" "$(field p99_ms "$ol")"
printf '  cache hit latency at saturation (closed loop): p50 %s ms, p99 %s ms\n' \
	"$(field p50_ms "$hit")" "$(field p99_ms "$hit")"
printf '  unique questions, cache on, closed loop: %s req/s answered (%s shed), p99 %s ms; with an action: %s req/s answered (%s shed), p99 %s ms (target >= 2000 req/s answered, p99 <= 20 ms)\n' \
	"$(field ok_rps "$uniq")" "$(field shed "$uniq")" "$(field p99_ms "$uniq")" \
	"$(field ok_rps "$act")" "$(field shed "$act")" "$(field p99_ms "$act")"

# L1 alone, in process, at 10,000 entries: exact hits (every text probed
# as stored) and semantic lookups (an unseen paraphrase of each held-out
# text); --verbose breaks the time down.
B77=../shared/datasets/banking77/train.jsonl
if [ -x build/bin/clubos-cache-eval ] && [ -f "$B77" ]; then
	echo
	echo "L1 lookups, BANKING77 train (10,003 entries):"
	echo "  exact hits, every text probed as stored:"
	build/bin/clubos-cache-eval --fill "$B77" --probe "$B77" --verbose 2>&1 | grep '^latency' | sed 's/^/    /'
	echo "  semantic lookups, 1,000 paraphrases (\"please \" + every 10th text):"
	awk 'NR % 10 == 0' "$B77" | sed 's/"text": "/"text": "please /' >"$CLUBOS_VAR/please.jsonl"
	build/bin/clubos-cache-eval --fill "$B77" --probe "$CLUBOS_VAR/please.jsonl" --verbose \
		--min-prob 0 2>&1 | grep '^latency' | sed 's/^/    /'
fi
