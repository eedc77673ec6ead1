#!/bin/sh
# tests/run.sh - run ClubOS's test suites and sum up
#
# Run from the repository root (make test does).  Runs every executable
# $CLUBOS_BUILD/tests/test_* (cmocka unit tests), then the end-to-end suite
# (pytest, tests/e2e) against throwaway PostgreSQL and Redis on free ports.
#
#   CLUBOS_BUILD    build tree [build]
#   CLUBOS_SUITES   unit | e2e | unset for both
#   CLUBOS_PYTHON   the Python that has pytest [/usr/bin/python3]
#   PYTEST_ARGS     extra pytest arguments, shell-quoted (e.g. "-k 'health or login'")
#
# The last line is "N passed, N failed"; the exit status is non-zero when
# anything failed.

if [ ! -f tests/run.sh ] || [ ! -d tests/e2e ]; then
	echo "tests/run.sh: run me from the repository root" >&2
	exit 2
fi

CLUBOS_BUILD=${CLUBOS_BUILD:-build}
SUITES=${CLUBOS_SUITES:-unit e2e}
PY=${CLUBOS_PYTHON:-/usr/bin/python3}
export CLUBOS_BUILD
PYTHONDONTWRITEBYTECODE=1     # no __pycache__ in the tree
export PYTHONDONTWRITEBYTECODE

if [ -z "${CLUBOS_DEV_SET:-}" ] && [ -f ../shared/eval/clubos-dev.jsonl ]; then
	CLUBOS_DEV_SET=$(cd ../shared/eval && pwd)/clubos-dev.jsonl
fi
[ -n "${CLUBOS_DEV_SET:-}" ] && export CLUBOS_DEV_SET

passed=0
failed=0
failures=""
tmp=$(mktemp -d "${TMPDIR:-/tmp}/clubos-run.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# sum_lines FILE PATTERN - the sum of the first number on lines matching PATTERN
sum_lines() {
	sed -n "s/$2/\\1/p" "$1" | awk '{ s += $1 } END { print s + 0 }'
}

# run_unit - every cmocka binary; counts test cases when cmocka says how many
run_unit() {
	found=0
	for t in "$CLUBOS_BUILD"/tests/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		found=1
		echo "== $t"
		# a hung binary fails, it does not stall the run
		timeout 300 "$t" >"$tmp/unit.out" 2>&1
		rc=$?
		cat "$tmp/unit.out"
		p=$(sum_lines "$tmp/unit.out" '^\[  PASSED  \] \([0-9][0-9]*\) test.*')
		f=$(sum_lines "$tmp/unit.out" '^\[  FAILED  \] \([0-9][0-9]*\) test.*')
		if ! grep -q '^\[  PASSED  \] [0-9]' "$tmp/unit.out" &&
		    ! grep -q '^\[  FAILED  \] [0-9]' "$tmp/unit.out"; then
			# no summary (crashed, or not cmocka): count the binary
			if [ "$rc" -eq 0 ]; then p=1; f=0; else p=0; f=1; fi
		elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1     # a summary, yet it failed (crash after, sanitizer, ...)
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		[ "$f" -gt 0 ] && failures="$failures $t"
	done
	if [ "$found" -eq 0 ]; then
		echo "tests/run.sh: no unit test binaries in $CLUBOS_BUILD/tests (make unit builds them)" >&2
		failed=$((failed + 1))
		failures="$failures unit(none built)"
	fi
}

# run_e2e - pytest; its summary line gives the counts
run_e2e() {
	echo "== pytest tests/e2e"
	eval "set -- ${PYTEST_ARGS:-}"     # shell quoting in PYTEST_ARGS is honoured
	{ "$PY" -m pytest -q -x -p no:cacheprovider "$@" tests/e2e; echo $? >"$tmp/e2e.rc"; } 2>&1 |
	    tee "$tmp/e2e.out"
	rc=$(cat "$tmp/e2e.rc")
	summary=$(grep -E '^=*[ ]*[0-9]+ (passed|failed|error|errors|skipped|deselected|xfailed|xpassed)' \
	    "$tmp/e2e.out" | tail -n 1)
	p=$(echo "$summary" | sed -n 's/.*[^0-9]\([0-9][0-9]*\) passed.*/\1/p;s/^\([0-9][0-9]*\) passed.*/\1/p' | head -n 1)
	f=$(echo "$summary" | sed -n 's/.*[^0-9]\([0-9][0-9]*\) failed.*/\1/p;s/^\([0-9][0-9]*\) failed.*/\1/p' | head -n 1)
	e=$(echo "$summary" | sed -n 's/.*[^0-9]\([0-9][0-9]*\) errors*.*/\1/p;s/^\([0-9][0-9]*\) errors*.*/\1/p' | head -n 1)
	p=${p:-0}; f=${f:-0}; e=${e:-0}
	f=$((f + e))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1     # interrupted, nothing collected, internal error
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -gt 0 ] && failures="$failures e2e"
}

for s in $SUITES; do
	case $s in
	unit) run_unit ;;
	e2e) run_e2e ;;
	*) echo "tests/run.sh: unknown suite \"$s\" (unit, e2e)" >&2; exit 2 ;;
	esac
done

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
