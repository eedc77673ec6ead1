"""
test_traces.py - traces over HTTP and on the bus, feedback, metrics
"""

import datetime
import queue
import re
import subprocess
import threading
import time
import uuid

import pytest

import harness


@pytest.fixture(scope="module")
def traced(stack, accounts):
    """traced - one answered query (as operator) whose trace the tests read."""
    return harness.assert_answer(stack.query(accounts["operator"].token,
                                             "the ball isn't registering on the radar in bay 2",
                                             channel="operator"))


def test_trace_has_steps_from_every_daemon(stack, accounts, traced):
    tid = traced["trace_id"]
    seen = {}

    def complete():
        r = stack.http("GET", "/api/traces/" + tid, token=accounts["operator"].token)
        seen["last"] = r
        if r.status != 200:
            return False
        daemons = {s.get("daemon", "") for s in r.json.get("steps", [])}
        return all(any(d in x for x in daemons) for d in ("gateway", "router", "assistant")) and r
    try:
        r = harness.wait_for(complete, 3.0, interval=0.1, what="trace steps from gateway, router, assistant")
    except AssertionError as e:
        raise AssertionError("%s; last answer %r" % (e, seen.get("last")))
    assert r.json["trace_id"] == tid, r
    assert r.trace_id, r
    for s in r.json["steps"]:
        for k in ("daemon", "step", "elapsed_us", "at"):
            assert k in s, "trace step without %r: %r" % (k, s)
        assert isinstance(s["step"], str) and s["step"], s
        assert isinstance(s["elapsed_us"], (int, float)) and s["elapsed_us"] >= 0, s


def test_stored_trace_keeps_every_character(stack, accounts):
    # The writer sends rows in COPY's text format: tabs, newlines,
    # backslashes and non-ASCII text must come back exactly.
    msg = "wifi\tdown?\nline two \\ back\\slash \\N caf\u00e9 \u26f3 \"quoted\""
    a = harness.assert_answer(stack.query(accounts["operator"].token, msg, channel="operator"))

    def stored():
        r = stack.http("GET", "/api/traces/" + a["trace_id"], token=accounts["operator"].token)
        ok = r.status == 200 and r.json.get("message") is not None and \
            any(s["step"] == "received" for s in r.json.get("steps", []))
        return r if ok else None
    r = harness.wait_for(stored, 5, interval=0.1, what="the stored summary and steps")
    assert r.json["message"] == msg, r.json["message"]
    assert r.json["response"] == a["response"]
    assert r.json["route"] == a["route"] and r.json["cache"] == a["cache"]
    assert r.json["channel"] == "operator" and r.json["role"] == "operator"
    # Times are stored as the instant they were taken (UTC, milliseconds).
    created = datetime.datetime.fromisoformat(r.json["created_at"])
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - created).total_seconds()) < 120, (created, now)
    steps = r.json["steps"]
    assert all(isinstance(s["detail"], dict) for s in steps), steps
    for s in steps:
        at = datetime.datetime.fromisoformat(s["at"])
        assert abs((now - at).total_seconds()) < 120, s
    received = [s for s in steps if s["step"] == "received"]
    assert received[0]["detail"].get("chars") == len(msg.encode()), received


@pytest.mark.parametrize("role", ["support", "admin"])
def test_other_staff_can_read_traces(stack, accounts, traced, role):
    tid = traced["trace_id"]
    r = harness.wait_for(lambda: (lambda r: r.status == 200 and r)(
        stack.http("GET", "/api/traces/" + tid, token=accounts[role].token)), 3.0, interval=0.1,
        what="trace readable by %s" % role)
    assert r.json["trace_id"] == tid


@pytest.mark.parametrize("role", ["customer", "kiosk"])
def test_trace_forbidden_to_non_staff(stack, accounts, role):
    a = harness.assert_answer(stack.query(accounts[role].token, "how do I book a bay"))
    harness.assert_error(stack.http("GET", "/api/traces/" + a["trace_id"], token=accounts[role].token), 403)


def test_unknown_trace_is_404(stack, accounts):
    harness.assert_error(stack.http("GET", "/api/traces/" + uuid.uuid4().hex,
                                    token=accounts["operator"].token), 404)


def test_trace_without_token_is_401(stack, traced):
    harness.assert_error(stack.http("GET", "/api/traces/" + traced["trace_id"]), 401)


def test_clubosctl_trace_shows_a_query(stack, accounts):
    p = subprocess.Popen([harness.binary("clubosctl"), "trace"], env=stack.env(), cwd=harness.REPO,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = queue.Queue()

    def reader(stream, tag):
        for raw in iter(stream.readline, b""):
            lines.put((tag, raw.decode("utf-8", "replace")))
    for stream, tag in ((p.stdout, "out"), (p.stderr, "err")):
        threading.Thread(target=reader, args=(stream, tag), daemon=True).start()
    got = []
    try:
        # The subscription may need a moment to connect (pub/sub drops what
        # came before): ask again until a trace id we caused shows up.
        deadline = time.monotonic() + 10
        found = None
        while found is None and time.monotonic() < deadline:
            assert p.poll() is None, "clubosctl trace exited %r: %r" % (p.returncode, got)
            a = harness.assert_answer(stack.query(accounts["operator"].token, "are you open on christmas"))
            until = time.monotonic() + 2
            while time.monotonic() < until:
                try:
                    tag, line = lines.get(timeout=max(0.01, until - time.monotonic()))
                except queue.Empty:
                    break
                got.append((tag, line))
                if tag == "out" and a["trace_id"] in line:
                    found = line
                    break
        assert found, "clubosctl trace printed no line with a query's trace id in 10 s; got %r" % (got[-20:],)
    finally:
        p.kill()
        p.wait(5)


# ----------------------------------------------------------------- feedback

def test_feedback(stack, accounts, traced):
    tok = accounts["operator"].token
    r = stack.http("POST", "/api/feedback", token=tok,
                   body={"trace_id": traced["trace_id"], "helpful": False,
                         "comment": "it should have offered a remote restart"})
    assert r.status in (200, 201), r
    assert r.trace_id, r
    assert r.json["trace_id"] == traced["trace_id"] and r.json["helpful"] is False, r
    # What was stored: the verdict, the comment, who gave it, and the
    # answer's route and SOP taken from the stored trace.
    uid = harness.jwt_claims(tok)["sub"]
    rows = stack.pg.sql("SELECT id, helpful, comment, user_id, route, sop_slug, sop_version "
                        "FROM feedback WHERE trace_id = :'v1'", traced["trace_id"])
    assert len(rows) == 1, rows
    fid, helpful, comment, user_id, route, slug, version = rows[0]
    assert int(fid) == r.json["id"], (rows, r.json)
    assert helpful == "f" and comment == "it should have offered a remote restart", rows
    assert user_id == str(uid), rows
    assert route == traced["route"], (rows, traced)
    if traced.get("sop"):
        assert slug == traced["sop"]["slug"] and int(version) == traced["sop"]["version"], rows
    # Giving it again replaces the verdict, never adds a second one.
    r = stack.http("POST", "/api/feedback", token=tok,
                   body={"trace_id": traced["trace_id"], "helpful": True})
    assert r.status in (200, 201), r
    rows = stack.pg.sql("SELECT helpful, comment FROM feedback WHERE trace_id = :'v1'",
                        traced["trace_id"])
    assert rows == [["t", ""]], rows


def test_feedback_unknown_trace_is_404(stack, accounts):
    r = stack.http("POST", "/api/feedback", token=accounts["operator"].token,
                   body={"trace_id": uuid.uuid4().hex, "helpful": True})
    harness.assert_error(r, 404)


@pytest.mark.parametrize("helpful", ["no", 0, None])
def test_feedback_helpful_must_be_bool(stack, accounts, traced, helpful):
    r = stack.http("POST", "/api/feedback", token=accounts["operator"].token,
                   body={"trace_id": traced["trace_id"], "helpful": helpful})
    harness.assert_error(r, 400)


# ------------------------------------------------------------------ metrics

def _series(text):
    """_series - {'name{labels}': value} of a Prometheus text page."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, val = line.rpartition(" ")
            out[key] = float(val)
    return out


def test_metrics(stack, accounts):
    r = stack.http("GET", "/metrics", token=accounts["admin"].token)
    assert r.status == 200, r
    assert r.headers.get("content-type", "").startswith("text/plain"), r.headers
    text = r.body.decode("utf-8")
    for line in text.splitlines():
        assert line.startswith("#") or re.match(
            r"^clubos_[a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eE]+$", line), "bad line %r" % line
    before = _series(text)
    for name in ('clubos_http_responses_total{code="2xx"}', 'clubos_query_duration_seconds_count',
                 'clubos_workers{route="tech"}', 'clubos_route_inflight{route="tech"}',
                 'clubos_trace_rows_refused_total', 'clubos_rate_limited_total'):
        assert name in before, "no %s in:\n%s" % (name, text[:3000])
    assert before['clubos_workers{route="tech"}'] >= 1, before

    # Values move: one answered query, one refused request.
    tok = accounts["operator"].token
    a = harness.assert_answer(stack.query(tok, "do you have lockers for clubs " + uuid.uuid4().hex[:6]))
    harness.assert_error(stack.http("POST", "/api/query", token=tok, body={"message": ""}), 400)
    after = _series(stack.http("GET", "/metrics", token=accounts["admin"].token).body.decode())
    assert after["clubos_query_duration_seconds_count"] >= before["clubos_query_duration_seconds_count"] + 1
    key = 'clubos_queries_total{route="%s",cache="%s"}' % (a["route"], a["cache"])
    assert after[key] >= before.get(key, 0) + 1, (key, before.get(key), after[key])
    assert after['clubos_http_responses_total{code="4xx"}'] >= \
        before['clubos_http_responses_total{code="4xx"}'] + 1
    assert after['clubos_http_responses_total{code="2xx"}'] >= \
        before['clubos_http_responses_total{code="2xx"}'] + 2
