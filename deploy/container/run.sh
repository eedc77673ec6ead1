#!/bin/sh
# clubos-run SERVICE - the container's entry point: one service per container.
#
#   gateway router cache bus intelligence conversations actions
#                 the daemon, in the foreground, logging to stderr
#   assistants    one worker per route in CLUBOS_ROUTES (default: all seven);
#                 scale a route by running more containers with CLUBOS_ROUTES set
#   migrate       clubosctl migrate up (the release step), then exit
#   seed          clubosctl seed (facility, customers, admin; SOPs and examples
#                 through clubos-intelligence, which must be up), then exit
set -eu
svc=${1:-gateway}
case $svc in
gateway)
	# Railway tells the service its port in PORT; CLUBOS_HTTP_PORT wins.
	CLUBOS_HTTP_PORT=${CLUBOS_HTTP_PORT:-${PORT:-8080}}
	export CLUBOS_HTTP_PORT
	exec clubos-gateway -d
	;;
router | cache | bus | intelligence | conversations | actions)
	exec "clubos-$svc" -d
	;;
assistants)
	routes=${CLUBOS_ROUTES:-emergency booking tech brand strategy customerinfo general}
	pids=""
	for r in $routes; do
		clubos-assistant -d --route "$r" &
		pids="$pids $!"
	done
	# One worker gone means the container is not what it says: stop them all,
	# and let the platform restart the container.
	trap 'kill $pids 2>/dev/null; exit 143' TERM INT
	while :; do
		for p in $pids; do
			if ! kill -0 "$p" 2>/dev/null; then
				echo "clubos-run: an assistant worker ($p) exited; stopping the others" >&2
				kill $pids 2>/dev/null || true
				wait
				exit 1
			fi
		done
		sleep 1
	done
	;;
migrate) exec clubosctl migrate up ;;
seed) exec clubosctl seed ;;
*)
	echo "clubos-run: unknown service '$svc'" >&2
	exit 2
	;;
esac
