"""
test_sentry.py - errors and crashes to Sentry (SENTRY_DSN), against fake_sentry.py

The reporter posts envelopes to a loopback server that checks the
envelope format and the X-Sentry-Auth header as Sentry does.  An error
line becomes an event; a crash becomes an event sent by the next start;
a Sentry that stalls or fails never holds a daemon up.  Also: JSON logs
(CLUBOS_LOG_FORMAT=json) from a real daemon.
"""

import json
import os
import signal
import subprocess
import time

import harness
from fake_sentry import FakeSentry


def second_bus(stack, **env):
    """second_bus - a clubos-bus that finds the stack's bus running: an error, exit 1."""
    t0 = time.monotonic()
    r = subprocess.run([harness.binary("clubos-bus"), "-d"], env=stack.env(**env),
                       cwd=harness.REPO, capture_output=True, text=True, timeout=30)
    return r, time.monotonic() - t0


def test_an_error_line_is_an_event(stack):
    with FakeSentry() as fake:
        r, _ = second_bus(stack, SENTRY_DSN=fake.dsn)
        assert r.returncode == 1, r.stderr
        assert "already running" in r.stderr, r.stderr
        harness.wait_for(lambda: fake.events, 5, what="an event at the fake Sentry")
        assert not fake.rejected, fake.rejected
        ev = fake.events[0]
        assert ev["level"] == "error" and ev["logger"] == "clubos-bus", ev
        assert "already running" in ev["message"]["formatted"], ev
        assert ev["platform"] == "c" and ev["environment"] == "test", ev
        assert ev["tags"]["daemon"] == "clubos-bus", ev
        header, items = fake.envelopes[0]
        assert header["event_id"] == ev["event_id"], header
        assert [ih["type"] for ih, _ in items] == ["event"], items


def test_a_wrong_key_is_refused_by_sentry_and_the_daemon_goes_on(stack):
    with FakeSentry(key="rightkey") as fake:
        dsn = fake.dsn.replace("rightkey", "wrongkey")
        r, took = second_bus(stack, SENTRY_DSN=dsn)
        assert r.returncode == 1
        harness.wait_for(lambda: fake.rejected, 5, what="the refused post")
        assert fake.rejected[0][0] == 403 and not fake.events, fake.rejected
        assert "sentry: event not accepted (HTTP 403)" in r.stderr, r.stderr


def test_a_stalled_or_failing_sentry_never_holds_a_daemon(stack):
    with FakeSentry() as fake:
        fake.script([{"delay": 20}])
        r, took = second_bus(stack, SENTRY_DSN=fake.dsn)
        assert r.returncode == 1
        # The exit waits a bounded moment for the queue, not for Sentry.
        assert took < 8, took
    with FakeSentry() as fake:
        fake.script([{"status": 500}])
        r, took = second_bus(stack, SENTRY_DSN=fake.dsn)
        assert r.returncode == 1 and took < 8
        assert "HTTP 500" in r.stderr, r.stderr
    with FakeSentry() as fake:
        fake.script([{"status": 429, "headers": {"Retry-After": "30"}}])
        r, took = second_bus(stack, SENTRY_DSN=fake.dsn)
        assert r.returncode == 1 and took < 8
        assert "HTTP 429" in r.stderr, r.stderr
    # Nobody listening at all.
    r, took = second_bus(stack, SENTRY_DSN="http://k@127.0.0.1:%d/1" % harness.free_port())
    assert r.returncode == 1 and took < 8, (took, r.stderr)


def test_a_bad_dsn_turns_reporting_off(stack):
    for dsn in ("not a dsn", "ftp://k@h/1", "http://h/1", "http://k@h/", "http://k@h/abc"):
        r, _ = second_bus(stack, SENTRY_DSN=dsn)
        assert r.returncode == 1
        assert "SENTRY_DSN is not a DSN" in r.stderr, (dsn, r.stderr)


def test_a_crash_is_sent_by_the_next_start(stack):
    with FakeSentry() as fake:
        p = stack.spawn_extra("assistant-crash", ["clubos-assistant", "-d", "--route", "general"],
                              SENTRY_DSN=fake.dsn)
        harness.wait_for(lambda: "started" in harness.tail(p.log), 20,
                         what="the worker to start")
        os.kill(p.pid, signal.SIGSEGV)
        p.p.wait(10)
        assert p.p.returncode == -signal.SIGSEGV, p.p.returncode
        crash = os.path.join(stack.run_dir, "crash-clubos-assistant-%d.json" % p.pid)
        assert os.path.exists(crash), os.listdir(stack.run_dir)
        assert json.load(open(crash))["level"] == "fatal"
        assert not fake.events          # a handler cannot post; the next start does
        q = stack.spawn_extra("assistant-after", ["clubos-assistant", "-d", "--route",
                                                  "general"], SENTRY_DSN=fake.dsn)
        harness.wait_for(lambda: fake.events, 20, what="the crash event")
        ev = fake.events[0]
        assert ev["level"] == "fatal" and ev["logger"] == "clubos-assistant", ev
        assert ev["message"]["formatted"] == "crash: SIGSEGV (signal 11)", ev
        assert ev["tags"]["pid"] == str(p.pid), ev
        assert not fake.rejected and not os.path.exists(crash)
        q.stop()


def test_json_logs_from_a_daemon(stack):
    r, _ = second_bus(stack, CLUBOS_LOG_FORMAT="json")
    lines = [json.loads(x) for x in r.stderr.splitlines() if x.strip()]
    assert lines, r.stderr
    err = [x for x in lines if x["level"] == "error"]
    assert err and err[0]["daemon"] == "clubos-bus" and "already running" in err[0]["msg"], lines
    assert all(set(x) >= {"ts", "level", "daemon", "pid", "msg"} for x in lines), lines
    r, _ = second_bus(stack, CLUBOS_LOG_FORMAT="yaml")
    assert r.returncode == 1 and "CLUBOS_LOG_FORMAT must be text or json" in r.stderr, r.stderr
