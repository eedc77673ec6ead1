"""
test_console.py - the operator console: its files and headers, the live feed
(GET /api/events), the dashboard API, and a real browser through every section

The browser part runs tests/browser/console.mjs (playwright-core driving
Debian's chromium) against this session's stack, with accounts and the
records it acts on prepared here through the API; it prints what it saw,
and this test checks that and the server's state afterwards.  Screenshots
go to the stack's log directory (console/) and are copied to
build/test-artifacts/console/ so they outlive the session.
"""

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid

import pytest

import harness
from fake_providers import Fakes, OPENPHONE_KEY

WEB = os.path.join(harness.REPO, "gateway", "web")
BROWSER = os.path.join(harness.REPO, "tests", "browser")


# ------------------------------------------------------------------ helpers

class Stream:
    """Stream - a raw GET /api/events connection, read as it comes."""

    def __init__(self, port, token=None):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        hdr = "GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
        if token:
            hdr += "Authorization: Bearer %s\r\n" % token
        self.s.sendall((hdr + "\r\n").encode())
        self.buf = b""
        self.head = self._until(lambda b: b"\r\n\r\n" in b, 5).split(b"\r\n\r\n", 1)[0].decode()
        self.status = int(self.head.split(" ", 2)[1])
        self.buf = self.buf.split(b"\r\n\r\n", 1)[1]

    def _until(self, pred, timeout):
        end = time.time() + timeout
        while not pred(self.buf):
            left = end - time.time()
            if left <= 0:
                raise AssertionError("stream: not seen in %ss; have %r" % (timeout, self.buf[-600:]))
            self.s.settimeout(left)
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                continue
            if not d:
                raise AssertionError("stream closed; have %r" % self.buf[-600:])
            self.buf += d
        return self.buf

    def wait_for(self, text, timeout=10):
        return self._until(lambda b: text.encode() in b, timeout).decode("utf-8", "replace")

    def close(self):
        self.s.close()


def metric(stack, port, name):
    body = stack.http("GET", "/metrics", port=port).body.decode()
    m = re.search(r"^%s (\d+)$" % re.escape(name), body, re.M)
    return int(m.group(1)) if m else None


# ------------------------------------------------------------ files, headers

def test_shell_files_headers(stack):
    r = stack.http("GET", "/")
    assert r.status == 200 and r.headers["content-type"].startswith("text/html"), r
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert r.headers["cache-control"] == "no-cache" and r.headers["etag"].startswith('"'), r.headers
    again = stack.http("GET", "/", headers={"If-None-Match": r.headers["etag"]})
    assert again.status == 304 and again.body == b"", again
    changed = stack.http("GET", "/", headers={"If-None-Match": '"0000"'})
    assert changed.status == 200 and changed.body == r.body
    # Every file the service worker caches is served, with its type.
    sw = open(os.path.join(WEB, "sw.js")).read()
    shell = json.loads("[" + re.search(r"const SHELL = \[(.*?)\];", sw, re.S).group(1) + "]")
    types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
             ".webmanifest": "application/manifest+json", "/": "text/html"}
    for p in shell:
        f = stack.http("GET", p)
        want = next(v for k, v in types.items() if p.endswith(k))
        assert f.status == 200 and f.headers["content-type"].startswith(want), (p, f)
    # API answers are never cached.
    assert stack.http("GET", "/api/health").headers["cache-control"] == "no-store"
    harness.assert_error(stack.http("GET", "/nope.js"), 404)


def test_shell_is_safe_by_construction():
    """No markup parsing of data and no inline code anywhere in the console."""
    for name in os.listdir(WEB):
        text = open(os.path.join(WEB, name), encoding="utf-8").read()
        if name.endswith(".js"):
            for bad in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
                assert bad not in text, (name, bad)
            assert "localStorage" not in text, name       # tokens: memory and sessionStorage
        if name.endswith(".html"):
            assert not re.search(r"<script(?![^>]*\bsrc=)", text), name
            assert "style=" not in text and "<style" not in text, name
            assert re.search(r"\son[a-z]+=", text) is None, name


# ------------------------------------------------------------------ events

def test_events_stream_carries_traces(stack, accounts):
    st = Stream(stack.port, accounts["support"].token)
    try:
        assert st.status == 200, st.head
        assert "text/event-stream" in st.head and "content-length" not in st.head.lower(), st.head
        assert "cache-control: no-store" in st.head.lower(), st.head
        st.wait_for("event: hello")
        a = harness.assert_answer(stack.query(
            accounts["operator"].token, "what are your hours on sunday " + uuid.uuid4().hex[:6]))
        got = st.wait_for(a["trace_id"], timeout=5)
        frame = got[got.rfind("event: trace", 0, got.find(a["trace_id"])):]
        data = frame.split("data: ", 1)[1].split("\n", 1)[0]
        steps = json.loads(data)
        # One daemon's steps of any number of requests: this one's among them.
        assert isinstance(steps, list) and steps, steps
        mine = [s for s in steps if s["trace_id"] == a["trace_id"]]
        assert mine and all(s["daemon"] == mine[0]["daemon"] for s in mine), steps
    finally:
        st.close()


def trace_daemons(st, trace_id):
    """trace_daemons - the daemons whose steps of trace_id the stream carried"""
    seen = set()
    for line in st.buf.decode("utf-8", "replace").split("\n"):
        if line.startswith("data: [") and trace_id in line:
            seen.update("assistant" if s["daemon"].startswith("clubos-assistant") else s["daemon"]
                        for s in json.loads(line[6:]))
    return seen


def test_a_trace_just_after_the_stream_opens_is_carried(stack, accounts):
    """Every daemon's steps of the first query after the stream's hello are
    carried, every time.  The feed decided whether anyone watched before it
    waited for a message: on an idle bus, the steps of a query asked within
    that 50 ms wait were dropped (seen in about half the tries)."""
    for i in range(10):
        st = Stream(stack.port, accounts["support"].token)
        try:
            st.wait_for("event: hello")
            a = harness.assert_answer(stack.query(
                accounts["operator"].token, "do you rent clubs %d %s" % (i, uuid.uuid4().hex[:6])))
            want = {"gateway", "router", "assistant"}
            try:
                st._until(lambda b: trace_daemons(st, a["trace_id"]) >= want, 5)
            except AssertionError:
                raise AssertionError("try %d: of %s, the stream carried the steps of %r only"
                                     % (i, a["trace_id"], sorted(trace_daemons(st, a["trace_id"]))))
        finally:
            st.close()
        # The next stream opens with none open, as this one did.
        harness.wait_for(lambda: metric(stack, stack.port, "clubos_http_streams") == 0, 5,
                         what="the stream just closed to end")


def test_events_first_look_at_the_tables_is_a_resync(stack, accounts):
    """The feed's first poll after nobody watched is only a baseline: what
    changed between the stream opening and that poll would never be
    announced.  So the baseline itself is announced, as "resync".  (With
    another stream open the polls go on, and nothing is a baseline: wait
    until the gateway counts none; a stream opened before its feed saw that
    is tried again.)"""
    def resync_seen():
        if metric(stack, stack.port, "clubos_http_streams") != 0:
            return False
        st = Stream(stack.port, accounts["support"].token)
        try:
            st.wait_for("event: hello")
            try:
                return st.wait_for("event: resync", timeout=3)
            except AssertionError:
                return False
        finally:
            st.close()
    harness.wait_for(resync_seen, 40, interval=0.2,
                     what="event: resync on a stream opened with no other open")


def test_events_carry_delivery_changes(stack, accounts):
    """The outbox moving a reply from queued to sent to delivered changes no
    id: the feed still announces each step (the console redraws the ticks)."""
    cid = stack.pg.sql("INSERT INTO conversations (channel, phone) VALUES ('sms', '+15065550177') "
                       "RETURNING id")[0][0]
    mid = stack.pg.sql("INSERT INTO messages (conversation_id, direction, author, text, delivery) "
                       "VALUES (:'v1', 'out', 'bot', 'We are open 24 hours.', 'queued') "
                       "RETURNING id", cid)[0][0]
    st = Stream(stack.port, accounts["support"].token)
    try:
        st.wait_for("event: hello")
        marks = []
        for delivery in ("sent", "delivered"):
            # The feed announces a change against its previous poll; a change made
            # before its first poll is its baseline, so make it again until seen.
            end = time.time() + 15
            while True:
                before = len(st.buf)
                stack.pg.sql("UPDATE messages SET delivery = :'v1', updated_at = now() "
                             "WHERE id = :'v2'", delivery, mid)
                try:
                    st._until(lambda b: b"event: message" in b[before:], 2)
                    break
                except AssertionError:
                    if time.time() > end:
                        raise
            frame = st.buf[before:].decode()
            frame = frame[frame.find("event: message"):]
            marks.append(json.loads(frame.split("data: ", 1)[1].split("\n", 1)[0])["mark"])
        assert marks[0] != marks[1] and all(m.startswith(mid + "/") for m in marks), marks
    finally:
        st.close()
    # Each poll is an index probe per list, not a scan of the table.
    for table, column, index in (("tickets", "updated_at", "tickets_updated"),
                                 ("actions", "updated_at", "actions_updated"),
                                 ("messages", "updated_at", "messages_updated"),
                                 ("conversations", "last_message_at",
                                  "conversations_last_message")):
        plan = "\n".join(r[0] for r in stack.pg.sql(
            "EXPLAIN SELECT max(%s) FROM %s" % (column, table)))
        assert index in plan, plan


def test_events_auth(stack, accounts):
    harness.assert_error(stack.http("GET", "/api/events"), 401)
    harness.assert_error(stack.http("GET", "/api/events", token=accounts["kiosk"].token), 403)
    harness.assert_error(stack.http("GET", "/api/events", token=accounts["customer"].token), 403)
    harness.assert_error(stack.http("POST", "/api/events", token=accounts["admin"].token), 405)


def test_events_stream_ends_when_access_is_withdrawn(stack, accounts):
    """A disabled user's open stream ends within a poll or two, as their
    next request would be refused; a re-roled user's too."""
    admin = accounts["admin"].token
    for change in ({"disabled": True}, {"role": "kiosk"}):
        email = "stream-%s@e2e.clubos.test" % uuid.uuid4().hex[:8]
        pw = "pw-" + uuid.uuid4().hex
        r = stack.http("POST", "/api/users", token=admin,
                       body={"email": email, "password": pw, "role": "support"})
        assert r.status in (200, 201), r
        st = Stream(stack.port, stack.login(email, pw))
        try:
            assert st.status == 200, st.head
            st.wait_for("event: hello")
            assert stack.http("PATCH", "/api/users/%d" % r.json["id"], token=admin,
                              body=change).status == 200
            st.s.settimeout(5)
            t0 = time.time()
            while st.s.recv(65536):
                assert time.time() - t0 < 5, "the stream of a withdrawn user is still open"
        finally:
            st.close()
    # Others' streams are left alone.
    other = Stream(stack.port, accounts["support"].token)
    try:
        other.wait_for("event: hello")
        a = harness.assert_answer(stack.query(accounts["operator"].token, "do you rent clubs " +
                                              uuid.uuid4().hex[:6]))
        other.wait_for(a["trace_id"])
    finally:
        other.close()


def test_events_hold_no_worker_capped_and_cleaned_up(stack, accounts):
    """With one HTTP worker and a cap of two streams: both streams open, the
    worker still answers, a third stream gets 503, and a client that leaves
    frees its place."""
    port = harness.free_port()
    gw = stack.spawn_extra("gateway-streams", ["clubos-gateway", "-d"], CLUBOS_HTTP_PORT=port,
                           CLUBOS_HTTP_WORKERS=1, CLUBOS_HTTP_MAX_STREAMS=2)
    harness.wait_listening(gw, port, 20)
    tok = accounts["admin"].token
    a = Stream(port, tok)
    b = Stream(port, tok)
    try:
        assert a.status == 200 and b.status == 200, (a.head, b.head)
        a.wait_for("event: hello")
        b.wait_for("event: hello")
        assert stack.http("GET", "/api/sops", token=tok, port=port).status == 200
        assert metric(stack, port, "clubos_http_streams") == 2
        c = Stream(port, tok)
        assert c.status == 503 and "retry-after" in c.head.lower(), c.head
        c.close()
        a.close()
        harness.wait_for(lambda: metric(stack, port, "clubos_http_streams") == 1, 5,
                         what="the stream of a client that left to be closed")
        d = Stream(port, tok)
        assert d.status == 200, d.head
        r = stack.http("GET", "/metrics", port=port).body.decode()
        assert 'clubos_http_streams_closed_total{reason="over_cap"} 1' in r, r[-800:]
        # Stopping with streams open: they end, and the gateway exits cleanly, in time.
        t0 = time.time()
        assert gw.stop() == 0, harness.tail(gw.log)
        assert time.time() - t0 < 5
        d.s.settimeout(5)
        left = b""
        while True:
            chunk = d.s.recv(65536)
            if not chunk:
                break
            left += chunk
        d.close()
    finally:
        a.close()
        b.close()
        gw.stop()


def test_kiosk_emergency_button_is_an_emergency(stack, accounts):
    """The text the kiosk's emergency button sends is taken as an emergency (tier 3)."""
    js = open(os.path.join(WEB, "views2.js"), encoding="utf-8").read()
    text = json.loads(re.search(r"export const KIOSK_EMERGENCY = (\"[^\"]*\");", js).group(1))
    a = harness.assert_answer(stack.query(accounts["kiosk"].token, text, channel="kiosk",
                                          location="harbourview"))
    assert a["route"] == "emergency" and a["escalation"]["tier"] == 3, a
    assert "alert_oncall" in [x["type"] for x in a["actions"]], a


def test_events_stream_that_waited_for_a_worker(stack, accounts):
    """A stream asked for while the one worker is busy (so its request waited
    in the queue, watched) still carries events, and so do the streams
    after it."""
    port = harness.free_port()
    gw = stack.spawn_extra("gateway-busy", ["clubos-gateway", "-d"], CLUBOS_HTTP_PORT=port,
                           CLUBOS_HTTP_WORKERS=1)
    harness.wait_listening(gw, port, 20)
    tok = accounts["operator"].token
    try:
        for round_ in range(3):
            busy = [threading.Thread(target=stack.query, args=(tok, "where do I park %d %d" % (
                round_, i)), kwargs={"port": port}) for i in range(6)]
            for t in busy:
                t.start()
            st = Stream(port, accounts["admin"].token)
            try:
                assert st.status == 200, st.head
                st.wait_for("event: hello")
                for t in busy:
                    t.join()
                a = harness.assert_answer(stack.query(tok, "what time do you close %s" % (
                    uuid.uuid4().hex[:6]), port=port))
                st.wait_for(a["trace_id"], timeout=10)
            finally:
                st.close()
    finally:
        gw.stop()


# --------------------------------------------------------------- dashboard

def test_dashboard(stack, accounts):
    tok = accounts["support"].token
    q = harness.assert_answer(stack.query(accounts["operator"].token, "where do I park at riverside"))
    # The trace's summary is stored off the request path: wait for it.
    harness.wait_for(lambda: stack.pg.sql("SELECT count(*) FROM traces WHERE trace_id = :'v1'",
                                          q["trace_id"]) == [["1"]], 10,
                     what="the query's trace summary stored")
    r = stack.http("GET", "/api/dashboard?window=24h", token=tok)
    assert r.status == 200, r
    d = r.json
    assert d["window"] == "24h" and d["queries"] >= 1, d
    assert 0 <= d["answered_from_sop_rate"] <= 1 and 0 <= d["escalation_rate"] <= 1, d
    assert d["response_ms"]["p50"] <= d["response_ms"]["p99"], d
    assert abs(sum(d["cache"].values()) - 1) < 1e-6, d["cache"]
    assert isinstance(d["unhelpful_by_sop"], list) and "llm" in d, d
    # Hour by hour: this hour is there, with the same kinds of figures.
    hs = d["hourly"]
    assert hs and sum(x["queries"] for x in hs) == d["queries"], hs
    last = hs[-1]
    assert re.fullmatch(r"\d\d-\d\d \d\d:00", last["hour"]) and last["queries"] >= 1, last
    assert 0 <= last["sop_rate"] <= 1 and 0 <= last["escalation_rate"] <= 1, last
    assert last["p50_ms"] <= last["p99_ms"], last
    # Feedback moves the unhelpful rate of that SOP.
    assert stack.http("POST", "/api/feedback", token=accounts["operator"].token,
                      body={"trace_id": q["trace_id"], "helpful": False}).status in (200, 201)
    d = stack.http("GET", "/api/dashboard?window=7d", token=tok).json
    row = [u for u in d["unhelpful_by_sop"] if u["sop"] == q["sop"]["slug"]]
    assert row and row[0]["rate"] > 0, d["unhelpful_by_sop"]
    harness.assert_error(stack.http("GET", "/api/dashboard?window=1y", token=tok), 400,
                         "invalid_value")
    harness.assert_error(stack.http("GET", "/api/dashboard", token=accounts["kiosk"].token), 403)
    harness.assert_error(stack.http("GET", "/api/dashboard"), 401)


def test_dashboard_llm_cost(stack, accounts):
    """With an llm_calls table (created_at, cost_usd per call), the dashboard
    sums the cost per hour (last 24 h) and per day (the window).  Uses the
    generative tier's own table when migrations made one (rows added and
    removed by a marker trace id, measured as a change), a throwaway one
    otherwise (then "llm" is null again once it is dropped)."""
    tok = accounts["support"].token
    own = stack.pg.sql("SELECT to_regclass('llm_calls') IS NOT NULL")[0][0] == "t"
    marker = uuid.uuid4().hex
    if not own:
        stack.pg.sql("CREATE TABLE llm_calls (id bigserial PRIMARY KEY, trace_id text NOT NULL, "
                     "created_at timestamptz NOT NULL DEFAULT now(), cost_usd double precision "
                     "NOT NULL DEFAULT 0)")
        cols, vals = "trace_id", ":'v1'"
    else:   # migrations/0013_llm.sql's columns
        cols = "trace_id, route, purpose, mode, model, outcome"
        vals = ":'v1', 'general', 'compose', 'shadow', 'test-console', 'shadow'"

    def sums():
        d24 = stack.http("GET", "/api/dashboard?window=24h", token=tok).json["llm"]
        d7 = stack.http("GET", "/api/dashboard?window=7d", token=tok).json["llm"]
        return (sum(h["usd"] for h in d24["per_hour"]), sum(x["usd"] for x in d24["per_day"]),
                sum(x["usd"] for x in d7["per_day"]))

    try:
        before = sums()
        stack.pg.sql("INSERT INTO llm_calls (%s, created_at, cost_usd) VALUES "
                     "(%s, now(), 0.01), (%s, now() - interval '2 hours', 0.02), "
                     "(%s, now() - interval '3 days', 0.5)" % (cols, vals, vals, vals), marker)
        after = sums()
        got = [round(a - b, 9) for a, b in zip(after, before)]
        assert got == [0.03, 0.03, 0.53], (before, after)
    finally:
        if own:
            stack.pg.sql("DELETE FROM llm_calls WHERE trace_id = :'v1'", marker)
        else:
            stack.pg.sql("DROP TABLE llm_calls")
    if not own:
        assert stack.http("GET", "/api/dashboard", token=tok).json["llm"] is None


def test_sop_version_content(stack, accounts):
    tok = accounts["support"].token
    s = stack.http("GET", "/api/sops", token=tok).json[0]
    r = stack.http("GET", "/api/sops/%s/versions/%d" % (s["slug"], s["version"]), token=tok)
    assert r.status == 200 and r.json["sha256"] == s["sha256"] and r.json["content"], r
    for bad in ("999999", "0", "x1", "99999999999"):
        harness.assert_error(stack.http("GET", "/api/sops/%s/versions/%s" % (s["slug"], bad),
                                        token=tok), 404)
    harness.assert_error(stack.http("GET", "/api/sops/nope/versions/1", token=tok), 404)


# ----------------------------------------------------------------- browser

def _browser_ready():
    if not os.access("/usr/bin/chromium", os.X_OK):
        return "chromium is not installed (deploy/deps.sh installs it)"
    if not os.path.isdir(os.path.join(BROWSER, "node_modules", "playwright-core")):
        return "tests/browser/node_modules is missing (make test runs npm ci)"
    return None


def test_console_in_a_browser(stack, accounts):
    why = _browser_ready()
    if why is not None:
        pytest.fail(why)
    admin = accounts["admin"].token
    sql = stack.pg.sql

    # A ticket to resolve.
    ticket = int(sql("INSERT INTO tickets (priority, summary, title, location) VALUES "
                     "('normal', 'The projector in bay 3 flickers.', 'Console test ticket', "
                     "'riverside') RETURNING id")[0][0])
    # Two door unlocks waiting for a person, asked for the real way.
    acts = []
    for n in range(2):
        a = harness.assert_answer(stack.query(accounts["kiosk"].token,
                                              "please unlock the front door for me %d" % n,
                                              channel="kiosk", location="riverside"))
        acts += [x["id"] for x in a.get("actions", []) if x["status"] == "pending_approval"]
    assert len(acts) == 2, acts
    # An SOP to edit and roll back, and one that moves on while it is edited.
    sop = stack.http("GET", "/api/sops/access.door-wont-open", token=admin).json
    sop2 = stack.http("GET", "/api/sops/general.club-rental", token=admin).json
    # A proposal to approve.
    note = "Console test %s: the Harbourview lost-and-found box is behind the front desk." % (
        uuid.uuid4().hex[:6])
    props = stack.http("POST", "/api/knowledge/ingest", body={"text": note}, token=admin).json
    assert props and props[0]["status"] == "pending", props
    # And one to reject.
    note2 = "Console test %s: the Riverside umbrella stand is by the side door." % (
        uuid.uuid4().hex[:6])
    props2 = stack.http("POST", "/api/knowledge/ingest", body={"text": note2}, token=admin).json
    assert props2 and props2[0]["status"] == "pending", props2
    props = props + [props2[0]]
    # Two conversations newer than any the run makes, with nothing unread:
    # one a person holds (it must come first), one the bot's (it must come
    # after the unread ones), whatever their times say.
    held = sql("INSERT INTO conversations (channel, phone, status, last_message_at) VALUES "
               "('sms', '+17825590001', 'human', now() + interval '1 hour'), "
               "('sms', '+17825590002', 'bot', now() + interval '2 hours') RETURNING id")
    # An LLM call on record, for the dashboard's cost charts.
    sql("INSERT INTO llm_calls (trace_id, route, purpose, mode, model, outcome, "
        "prompt_tokens, completion_tokens, cost_usd) VALUES ('console-test', 'brand', "
        "'compose', 'on', 'gpt-4o-mini', 'used', 100, 20, 0.0123)")
    # A trace to open.
    q = harness.assert_answer(stack.query(accounts["operator"].token, "the trackman in bay 2 is frozen",
                                          location="riverside", bay=2))
    settings_before = stack.http("GET", "/api/settings", token=admin).json
    # SMS: a gateway that has the webhook secret (the browser's does not need
    # it), and clubos-conversations pointed at the loopback OpenPhone in place
    # of the stack's (put back at the end).
    sms_key = os.urandom(32)
    fakes = Fakes()
    wport = harness.free_port()
    wgw = stack.spawn_extra("gateway-console-sms", ["clubos-gateway", "-d"], CLUBOS_HTTP_PORT=wport,
                            OPENPHONE_WEBHOOK_SECRET="whsec_" + base64.b64encode(sms_key).decode())
    stack.procs["conversations"].stop()
    conv = stack.spawn_extra("conversations-console", ["clubos-conversations", "-d"],
                             OPENPHONE_BASE_URL=fakes.url("openphone"), OPENPHONE_API_KEY=OPENPHONE_KEY,
                             OPENPHONE_NUMBER=SMS_VENUE)
    try:
        # Approval mode: the bot's answers are drafts, so what reaches OpenPhone
        # is only what staff send (restored below).
        assert stack.http("PATCH", "/api/settings", token=admin, body={
            "sms_reply_mode": "approval", "sms_rollout_percent": 100}).status == 200
        harness.wait_listening(wgw, wport, 20)
        harness.wait_for(lambda: "conversations: outbox" in open(conv.log).read(), 15,
                         what="clubos-conversations to start")
        n = int(time.time() * 1000) % 10000
        phone, phone2, phone3 = "+1782556%04d" % n, "+1782557%04d" % n, "+1782558%04d" % n
        sms = {"webhook_url": "http://127.0.0.1:%d/api/webhooks/openphone" % wport,
               "key_b64": base64.b64encode(sms_key).decode(), "venue": SMS_VENUE, "phone": phone,
               "phone2": phone2, "phone3": phone3, "edited": "Console edit %s: park on Mill Street." % uuid.uuid4().hex[:6],
               "inbound": "where do I park at riverside?",
               "inbound2": "Console test %s: thanks, see you at 7" % uuid.uuid4().hex[:6],
               "inbound3": "Console test %s: is the bar open late tonight?" % uuid.uuid4().hex[:6],
               "reply": "Console reply %s: yes, bay 4 is yours from 7 pm." % uuid.uuid4().hex[:6]}
        _browser_run(stack, accounts, admin, sop, sop2, props, q, ticket, acts, settings_before,
                     sms, fakes)
    finally:
        sql("DELETE FROM llm_calls WHERE trace_id = 'console-test'")
        sql("DELETE FROM conversations WHERE id IN (%s)" % ", ".join(
            r[0] for r in held if r and r[0].isdigit()))
        conv.stop()
        wgw.stop()
        fakes.stop()
        stack.procs["conversations"] = stack.spawn("conversations", ["clubos-conversations", "-d"])
        mode = {k: (v.get("value") if isinstance(v, dict) else v)
                for k, v in settings_before.get("settings", settings_before).items()
                if k in ("sms_reply_mode", "sms_rollout_percent")}
        assert stack.http("PATCH", "/api/settings", body=mode, token=admin).status == 200


SMS_VENUE = "+19025550100"
# The console's sections and their headings (gateway/web/app.js).
SECTION_TITLES = [("conversations", "Conversations"), ("tickets", "Tickets"),
                  ("actions", "Actions"), ("sops", "SOPs"), ("proposals", "Proposals"),
                  ("traces", "Traces"), ("dashboard", "Dashboard"), ("settings", "Settings"),
                  ("users", "Users")]


def _run_console(stack, env):
    """_run_console - node console.mjs; when it asks on stderr, the stack's
    gateway is restarted under it (the live feed must come back by itself).
    The restart happens on this thread: a daemon dies with the thread that
    started it (harness.Proc), so stdout is the helper thread's to read."""
    p = subprocess.Popen(["node", os.path.join(BROWSER, "console.mjs")], env=env,
                         cwd=harness.REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    out, err = [], []
    t = threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True)
    t.start()
    killer = threading.Timer(150, p.kill)
    killer.start()
    try:
        for line in p.stderr:
            err.append(line)
            if line.strip() == "restart-gateway":
                stack.procs["gateway"].stop()
                stack.procs["gateway"] = stack.spawn("gateway", ["clubos-gateway", "-d"])
                harness.wait_listening(stack.procs["gateway"], stack.port, 20)
        p.wait()
    finally:
        killer.cancel()
    t.join(30)
    return subprocess.CompletedProcess(p.args, p.returncode, "".join(out), "".join(err))


def _browser_run(stack, accounts, admin, sop, sop2, props, q, ticket, acts, settings_before, sms,
                 fakes):
    out = os.path.join(stack.logs, "console")
    env = dict(os.environ)
    env.update({
        "CONSOLE_URL": "http://127.0.0.1:%d" % stack.port,
        "CONSOLE_ARTIFACTS": out,
        "CONSOLE_ACCOUNTS": json.dumps({r: {"email": accounts[r].email, "password": accounts[r].password}
                                        for r in ("admin", "operator", "support", "kiosk",
                                                  "customer")}),
        "CONSOLE_FIXTURES": json.dumps({
            "ticket_id": ticket, "ticket_note": "Console note %s" % uuid.uuid4().hex[:6],
            "admin_id": accounts["admin"].id, "approve_action": acts[0], "cancel_action": acts[1],
            "sop_slug": sop["slug"], "sop_version": sop["version"],
            "sop_line": "Console test line %s." % uuid.uuid4().hex[:6],
            "sop2_slug": sop2["slug"], "new_user": "console-%s@e2e.clubos.test" % uuid.uuid4().hex[:6],
            "proposal_id": props[0]["id"], "reject_id": props[-1]["id"], "trace_id": q["trace_id"],
            "llm_rollout_percent": 37,
            "llm_voice": "Warm and short.\nSay \"golfer\" <not customer>.",
            "psql": [os.path.join(stack.pg.bindir, "psql"), "-X", "-q", "-d", stack.pg.dsn],
            "sms": sms}),
    })
    t0 = time.time()
    p = _run_console(stack, env)
    took = time.time() - t0
    keep = os.path.join(harness.REPO, os.environ.get("CLUBOS_BUILD", "build"), "test-artifacts",
                        "console")
    if os.path.isdir(out):
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(out, keep)
    assert p.stdout.strip(), "console.mjs printed nothing:\n%s" % p.stderr[-3000:]
    res = json.loads(p.stdout.strip().splitlines()[-1])
    st = res["steps"]
    failed = {k: v for k, v in st.items() if not v.get("ok")}
    assert not failed, json.dumps(failed, indent=1) + "\n" + p.stderr[-2000:]
    assert p.returncode == 0, p.stderr[-3000:]
    assert res["errors"] == [], res["errors"]
    print("browser run: %.1f s, %d screenshots in %s" % (took, len(res["screenshots"]), keep))

    # Tokens never in an address the page asked for, nor in any log line.
    in_urls = [u for u in res["urls"] if "token" in u.lower() or "eyJ" in u]
    assert res["urls"] and not in_urls, in_urls[:5]
    logged = []
    for name in os.listdir(stack.logs):
        path = os.path.join(stack.logs, name)
        if os.path.isfile(path) and name.endswith(".log"):
            with open(path, errors="replace") as f:
                logged += [name + ": " + line.strip()[:160] for line in f if "eyJ" in line]
    assert not logged, logged[:5]

    # The gateway restarted under the page: the feed went down, came back
    # by itself, and carried a ticket made after that.
    rc = st["reconnect"]
    assert rc["lost"] != "live" and "polling" in rc["lost"] and rc["appeared_ms"] < 15000, rc

    # Keyboard and screen-reader basics in every section.
    ax = st["a11y"]
    for sec, got in ax["sections"].items():
        title = dict(SECTION_TITLES)[sec]
        assert got["unlabelled"] == [], (sec, got)
        assert got["current"] == [title], (sec, got)
        assert got["focused"] == "view-title", (sec, got)
    assert ax["row_opened"] is True and ax["alerts"] >= 1, ax

    # The dashboard draws its charts: answers by cache tier (with bars: the
    # questions above were answered), unhelpful rate per SOP, and the LLM's
    # cost per day and per hour (a call was recorded before the run).
    charts = {c["caption"]: c for c in st["dashboard"]["charts"]}
    for cap in ("Answers by cache tier (share of questions)", "Unhelpful rate per SOP",
                "LLM cost per day (USD)", "LLM cost per hour, last 24 h (USD)",
                "Answered from an SOP, per hour (%)", "Escalated, per hour (%)",
                "Response time p50, per hour (ms)", "Response time p99, per hour (ms)"):
        assert cap in charts and charts[cap]["label"] == cap, (cap, list(charts))
    for cap in ("Answered from an SOP, per hour (%)", "Response time p99, per hour (ms)"):
        assert charts[cap]["lines"] == 1 and charts[cap]["dots"] >= 1, charts[cap]
    assert charts["Answers by cache tier (share of questions)"]["bars"] >= 1, charts
    assert charts["LLM cost per day (USD)"]["bars"] >= 1, charts
    assert charts["LLM cost per hour, last 24 h (USD)"]["bars"] >= 1, charts

    # The second proposal rejected (as the server has it), and an analysis
    # asked for from the page.
    pr = st["proposal_reject_analyse"]
    assert pr["status"] == "rejected" and "proposals made or refreshed" in pr["analysed"], pr
    got = stack.http("GET", "/api/intelligence/proposals/%d" % props[-1]["id"], token=admin).json
    assert got["status"] == "rejected", got
    # The user made in the page was disabled, then deleted.
    assert st["users"]["deleted"] is True
    users = stack.http("GET", "/api/users", token=admin).json
    assert not [u for u in users if u["email"] == json.loads(env["CONSOLE_FIXTURES"])["new_user"]]

    # The proposal's side-by-side diff showed the ingested note as added.
    assert any("lost-and-found" in t for t in st["proposal_approve"]["diff_added"]), \
        st["proposal_approve"]

    # Roles: admin sees Users and Settings, support does not.
    assert "Users" in st["admin_login"]["nav"] and "Settings" in st["admin_login"]["nav"], st
    assert "Tickets" in st["support_login"]["nav"], st
    assert "Users" not in st["support_login"]["nav"] and "Settings" not in st["support_login"]["nav"]
    assert st["kiosk"]["nav"] == ["Kiosk"] and st["kiosk"]["answer"], st["kiosk"]
    op = st["other_roles"]["operator"]
    assert "Conversations" in op and "Actions" in op and "Users" not in op, op
    assert st["other_roles"]["customer"] == ["Kiosk"], st["other_roles"]
    assert "alert oncall: queued" in st["kiosk"]["emergency"], st["kiosk"]
    assert all(n > 0 for n in st["sections"]["seen"].values()), st["sections"]
    assert st["live"]["state"] == "live", st["live"]
    assert st["sections"]["conversations_unavailable"] is False, st["sections"]

    # The conversation: it appeared live, unread, the bot's; taken over by the
    # reply; OpenPhone got exactly that text for that number, once; released.
    cl = st["conversation_live"]
    assert cl["status"] == "bot" and cl["unread"] == "1" and cl["appeared_ms"] < 8000, cl
    # Conversations a person holds first, then unread ones, then the rest.
    rank = [(s == "human", n > 0) for s, n in cl["order"]]
    assert len(rank) >= 5 and rank == sorted(rank, reverse=True), cl["order"]
    assert rank[0] == (True, False) and rank[-1] == (False, False), cl["order"]
    ct = st["conversation_takeover"]
    assert ct["before"] == "bot" and ct["releaseHidden"] is True and ct["rowUnread"] == "", ct
    assert "Staff" in ct["meta"] and ("sent" in ct["meta"] or "delivered" in ct["meta"]), ct

    def staff_sms():
        got = [c["json"] for c in fakes.calls("openphone")
               if (c["json"] or {}).get("content") == sms["reply"]]
        return got or None
    got = harness.wait_for(staff_sms, 10, interval=0.1, what="the staff reply at OpenPhone")
    assert got == [{"content": sms["reply"], "from": SMS_VENUE, "to": [sms["phone"]]}], got
    # The bot's answer stayed a draft: the number got the staff text and nothing else.
    assert [c["json"] for c in fakes.calls("openphone")
            if (c["json"] or {}).get("to") == [sms["phone"]]] == got, fakes.calls("openphone")
    cv = stack.http("GET", "/api/conversations/%d" % cl["id"], token=admin).json
    assert cv["phone"] == sms["phone"] and cv["status"] == "closed", cv
    texts = [(m["direction"], m["author"], m["text"]) for m in cv["messages"]]
    assert ("in", "customer", sms["inbound"]) in texts and ("in", "customer", sms["inbound2"]) in texts
    assert texts.count(("out", "staff", sms["reply"])) == 1, texts
    # Nothing answered the text that came while staff had it.
    after = texts[texts.index(("in", "customer", sms["inbound2"])) + 1:]
    assert not [t for t in after if t[1] == "bot"], texts

    # Approval mode: the draft was shown as not sent, and the edited text went
    # out in its place: OpenPhone got that and nothing else for the number.
    cd = st["conversation_draft"]
    assert "not sent" in cd["draftMeta"] and cd["draftText"] and cd["drafts_left"] == 0, cd
    got2 = harness.wait_for(lambda: [c["json"] for c in fakes.calls("openphone")
                                     if (c["json"] or {}).get("to") == [sms["phone2"]]] or None,
                            10, interval=0.1, what="the edited draft at OpenPhone")
    assert got2 == [{"content": sms["edited"], "from": SMS_VENUE, "to": [sms["phone2"]]}], got2
    assert st["ticket_live"]["appeared_ms"] < 8000, st["ticket_live"]

    # A discarded draft: shown as not sent, no buttons left, and nothing at
    # OpenPhone for that number (the draft was the only answer it had).
    dd = st["conversation_discard"]
    assert "not sent" in dd["meta"] and dd["drafts_left"] == 0 and dd["buttons_left"] == 0, dd
    c3 = [c for c in stack.http("GET", "/api/conversations", token=admin).json
          if c.get("phone") == sms["phone3"]]
    assert len(c3) == 1, c3
    m3 = stack.http("GET", "/api/conversations/%d" % c3[0]["id"], token=admin).json["messages"]
    assert [m["delivery"] for m in m3 if m["direction"] == "out"] == ["discarded"], m3
    assert not [c for c in fakes.calls("openphone")
                if (c["json"] or {}).get("to") == [sms["phone3"]]], fakes.calls("openphone")

    # Closed: the page hid the reply box, the number's next text made a new
    # conversation, and the closed one refuses replies and a release.
    cc = st["conversation_close"]
    assert cc["formHidden"] and cc["closeHidden"] and cc["closedRow"] == "closed", cc
    assert cc["closedId"] == cl["id"] and cc["newId"] != cl["id"], cc
    assert cv["status_reason"] == "closed by staff", cv
    # The bot's draft to the first text was never sent; closing discarded it.
    bot = [m["delivery"] for m in cv["messages"] if m["author"] == "bot"]
    assert bot and set(bot) == {"discarded"}, cv["messages"]
    assert sms["inbound3"] not in json.dumps(cv["messages"]), cv
    fresh = stack.http("GET", "/api/conversations/%d" % cc["newId"], token=admin).json
    assert fresh["phone"] == sms["phone"] and fresh["status"] == "bot", fresh
    assert ("in", "customer", sms["inbound3"]) in [(m["direction"], m["author"], m["text"])
                                                  for m in fresh["messages"]], fresh
    r = stack.http("POST", "/api/conversations/%d/messages" % cl["id"], token=admin,
                   body={"text": "too late"})
    harness.assert_error(r, 409, "conversation_closed")
    r = stack.http("POST", "/api/conversations/%d/release" % cl["id"], token=admin)
    harness.assert_error(r, 409, "conversation_closed")
    again = stack.http("POST", "/api/conversations/%d/close" % cl["id"], token=admin)
    assert again.status == 200 and again.json["status"] == "closed", again
    harness.assert_error(stack.http("POST", "/api/conversations/999999999/close", token=admin),
                         404, "not_found")
    harness.assert_error(stack.http("POST", "/api/conversations/%d/close" % cl["id"],
                                    token=accounts["customer"].token), 403)

    # What the browser did, as the server has it.
    t = stack.http("GET", "/api/tickets/%d" % ticket, token=admin).json
    assert t["status"] == "resolved", t
    assert str(t["assignee"]) == str(accounts["admin"].id), t
    assert json.loads(env["CONSOLE_FIXTURES"])["ticket_note"] in json.dumps(t["notes"]), t
    ap = stack.http("GET", "/api/actions?status=cancelled", token=admin).json
    assert acts[1] in [x["id"] for x in ap], ap
    allacts = {x["id"]: x for x in stack.http("GET", "/api/actions", token=admin).json}
    assert allacts[acts[0]]["status"] not in ("pending_approval", "cancelled"), allacts[acts[0]]
    assert allacts[acts[0]]["detail"].get("approved_by"), allacts[acts[0]]
    # The page showed the error the executor recorded for the approved unlock.
    assert allacts[acts[0]]["last_error"] and \
        st["actions"]["lastError"] == allacts[acts[0]]["last_error"], (st["actions"], allacts[acts[0]])
    s2 = stack.http("GET", "/api/sops/%s" % sop["slug"], token=admin).json
    assert s2["version"] == sop["version"] + 2 and s2["content"] == sop["content"], s2["version"]
    assert any("Console test line" in a for a in st["sop_edit_rollback"]["added"]), st
    assert st["sop_edit_rollback"]["rolled_back_has_line"] is False
    assert st["sop_edit_rollback"]["apart_changes"] == 0, st["sop_edit_rollback"]
    c = st["sop_conflict"]
    assert c["their_put"] == 200 and c["theirs_shown"] is True, c
    s3 = stack.http("GET", "/api/sops/%s" % sop2["slug"], token=admin).json
    assert s3["version"] == sop2["version"] + 2 and "Mine: Console test line" in s3["content"], s3
    assert "Theirs:" not in s3["content"], s3["content"]
    assert stack.http("POST", "/api/sops/%s/rollback" % sop2["slug"], token=admin,
                      body={"version": sop2["version"]}).status == 200
    # (The user the page made, re-roled and disabled, is deleted: see above.)
    pwa = st["pwa"]
    assert pwa["active"] and "/app.js" in pwa["cached"] and "/" in pwa["cached"], pwa
    assert not any(k.startswith("/api/") for k in pwa["cached"]), pwa
    pr = stack.http("GET", "/api/intelligence/proposals/%d" % props[0]["id"], token=admin).json
    assert pr["status"] in ("approved", "applied"), pr
    # The waterfall: a row per step of every daemon the request crossed,
    # each with its time.
    wf = st["trace_open"]
    for d in ("gateway ·", "router ·", "clubos-assistant-tech-"):
        assert any(r.startswith(d) for r in wf["rows"]), (d, wf)
    assert len(wf["ms"]) == len(wf["rows"]) and all(
        re.fullmatch(r"\d+\.\d\d ms", m) for m in wf["ms"]), wf
    assert st["trace_live"]["trace_id"], st
    cur = stack.http("GET", "/api/settings", token=admin).json
    flat = cur.get("settings", cur)
    val = flat["llm_rollout_percent"]
    assert (val.get("value") if isinstance(val, dict) else val) == 37, cur
    assert flat["llm_voice"] == "Warm and short.\nSay \"golfer\" <not customer>.", cur
    assert all(v <= 0 for v in st["phone"]["overflow"].values()), st["phone"]
    assert st["phone"]["menuOpen"] is True
    assert len(res["screenshots"]) >= 20 and all(os.path.getsize(f) > 1000 for f in res["screenshots"])

    # Leave the settings as they were for the tests after this one.
    restore = {k: (v.get("value") if isinstance(v, dict) else v)
               for k, v in settings_before.get("settings", settings_before).items()
               if k in ("llm_rollout_percent", "llm_voice")}
    assert stack.http("PATCH", "/api/settings", body=restore, token=admin).status == 200


# ------------------------------------------------------------ the diff, alone

DIFF_CHECK = r"""
import { lineDiff, parseUnified } from "%s/diff.js";
const cases = [["a\nb\nc\nd", "a\nc\nx\nd"], ["", "x"], ["same\ntext", "same\ntext"],
               ["1\n2\n3\n4\n5\n6", "0\n1\n3\n4\n6\n7"], ["x\ny", ""]];
const out = cases.map(([a, b]) => {
  const ops = lineDiff(a, b);
  return {
    before: ops.filter((o) => o.op !== "+").map((o) => o.text).join("\n"),
    after: ops.filter((o) => o.op !== "-").map((o) => o.text).join("\n"),
    kept: ops.filter((o) => o.op === " ").length,
  };
});
out.push(parseUnified("--- a\n+++ b\n@@ -1,2 +1,2 @@\n-old\n+new\n same"));
console.log(JSON.stringify(out));
"""


def test_console_line_diff():
    """The console's LCS diff gives back both texts and keeps the longest common part."""
    p = subprocess.run(["node", "--input-type=module", "-e", DIFF_CHECK % WEB],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    cases = [("a\nb\nc\nd", "a\nc\nx\nd", 3), ("", "x", 0), ("same\ntext", "same\ntext", 2),
             ("1\n2\n3\n4\n5\n6", "0\n1\n3\n4\n6\n7", 4), ("x\ny", "", 0)]
    for (a, b, kept), r in zip(cases, res):
        assert r["before"] == a and r["after"] == b and r["kept"] == kept, (a, b, r)
    assert res[-1] == [{"op": "@", "text": "@@ -1,2 +1,2 @@"}, {"op": "-", "text": "old"},
                       {"op": "+", "text": "new"}, {"op": " ", "text": "same"}], res[-1]
