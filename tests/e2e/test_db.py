"""
test_db.py - the PostgreSQL wrapper and the trace writer against the
session's real server, and an emergency answered while PostgreSQL is down

The wrapper's and the writer's checks are C (tests/unit/test_db.c: COMMIT
answered with ROLLBACK, SQLSTATE to status, statement and connect
timeouts; tests/unit/test_trace.c: bad bytes, a refused row, overload);
they need a server, so this runs those binaries with the session's DSN.
"""

import os
import subprocess

import harness
from test_faults import MiniStack


def _run_unit(stack, name, n):
    exe = os.path.join(harness.build_dir(), "tests", name)
    assert os.access(exe, os.X_OK), "build tests/unit/%s.c first (make unit)" % name
    env = dict(os.environ, CLUBOS_TEST_PG_DSN=stack.pg.dsn)
    r = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "[  PASSED  ] %d test(s)." % n in out, out      # none skipped


def test_db_wrapper_against_a_real_server(stack):
    _run_unit(stack, "test_db", 8)


def test_trace_writer_against_a_real_server(stack):
    """Bad bytes in one request, a row the server refuses, the writer held
    back under overload, summaries going first when they back up
    (tests/unit/test_trace.c)."""
    _run_unit(stack, "test_trace", 5)


def test_kiosk_emergency_with_location_while_postgres_is_down(stack, accounts):
    token = accounts["kiosk"].token
    loc = stack.pg.sql("SELECT slug FROM locations ORDER BY slug LIMIT 1")[0][0]
    # A fresh gateway: nothing about the location remembered from earlier tests.
    m = MiniStack(stack, ("emergency",), CLUBOS_CACHE="off")
    try:
        m.wait_ready(("emergency",))
        stack.pg.stop()
        try:
            r = harness.request(m.port, "POST", "/api/query", token=token, body={
                "message": "there is a fire in bay 2, smoke everywhere", "channel": "kiosk",
                "location": loc, "bay": 2})
            a = harness.assert_answer(r, route="emergency")
            assert a["escalation"]["tier"] == 3, a
            assert "911" in a["response"], a
            # The alert and ticket are kept in the durable local spool (common/ops.c)
            # until PostgreSQL is back, so "queued" is true; anything else must say
            # it failed rather than claim it was done.
            for act in a.get("actions", []):
                assert act["status"] in ("queued", "failed", "pending_approval",
                                         "pending_confirmation"), a
            # An ordinary question with a location: the lookup needs the database.
            r = harness.request(m.port, "POST", "/api/query", token=token, body={
                "message": "how do I book a bay", "location": loc + "-other-unseen"})
            harness.assert_error(r, 503)
        finally:
            stack.pg._run("pg_ctl", "-D", stack.pg.data, "-l", stack.pg.log, "-o",
                          "-p %d -k %s -c listen_addresses='' -c fsync=off" % (
                              stack.pg.port, stack.pg.dir), "-w", "-t", "60", "start")
    finally:
        m.stop()
    harness.wait_for(lambda: stack.health().json.get("components", {}).get("postgres") == "ok",
                     20, interval=0.2, what="postgres back in health")
    # Every daemon's idle connections broke with the server: each would fail
    # its next statement once (common/db.c reconnects after a failure, and
    # does not replay a statement that may have been a write).  Later tests
    # start from fresh connections.
    stack.restart_daemons()
