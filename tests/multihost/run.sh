#!/bin/sh
# tests/multihost/run.sh - ClubOS on several hosts (network namespaces)
#
# Run from the repository root after `make all` (make test-multihost does
# both).  Needs root and `ip netns`; the hosts, their links and every process
# in them are removed at the end, also on failure or Ctrl-C.  The last line is
# "N passed, N failed"; the exit status is non-zero when anything failed.
# MH_KEEP_LOGS=DIR keeps the daemons' logs there.

cd "$(dirname "$0")/../.." || exit 2
PY=${CLUBOS_PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/multihost: needs root (ip netns)"
	echo "0 passed, 1 failed"
	exit 1
fi
MH_TAG="cmh$$"
export MH_TAG
if ! ip netns add "$MH_TAG-probe" 2>/tmp/"$MH_TAG".err; then
	echo "tests/multihost: 'ip netns add' is not permitted here: $(cat /tmp/"$MH_TAG".err)"
	rm -f /tmp/"$MH_TAG".err
	echo "0 passed, 1 failed"
	exit 1
fi
ip netns del "$MH_TAG-probe"
rm -f /tmp/"$MH_TAG".err

# Whatever happens to the run, remove what it made.
trap '"$PY" tests/multihost/mh.py --cleanup "$MH_TAG"' EXIT
trap 'exit 130' INT TERM
"$PY" tests/multihost/mh.py
