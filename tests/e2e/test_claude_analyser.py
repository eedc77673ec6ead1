"""
test_claude_analyser.py - the learning loop's Claude path, against a fake Messages API

For this module clubos-intelligence runs with ANTHROPIC_API_KEY set and
ANTHROPIC_BASE_URL pointing at fake_anthropic.py on loopback.  Unhelpful
verdicts on an SOP make an analysis ask the fake for a revision: a valid
reply becomes a pending "revise" proposal by "claude" that changes nothing
until an admin approves it; a 429 is retried after its retry-after; a 500
on every attempt, a timeout or a malformed reply is discarded and logged,
and the local analyser decides instead; past the hourly cap the fake is
not called at all.  The fake answers per SOP, so evidence left by another
test (or another file) never takes a reply scripted for this one: an SOP
with no script gets a 400, which the daemon treats like any failure.
"""

import os
import re
import time

import pytest

import harness
from fake_anthropic import API_VERSION, FakeAnthropic, api_error, sop_of, valid_proposal

API_KEY = "test-key"
MODEL = "claude-e2e-fake"
TIMEOUT_MS = 1000
COMMENT = "that did not help"


class SopFake(FakeAnthropic):
    """SopFake - the fake Messages API, scripted per SOP slug.

    A script entry is a response dict (as for FakeAnthropic.script) or a
    callable taking the recorded request and returning one.  A request for
    an SOP with nothing scripted gets a 400 invalid_request_error.
    """

    def __init__(self, **kw):
        super().__init__(**kw)
        self.scripts = {}

    def script_sop(self, slug, responses):
        with self._lock:
            self.scripts.setdefault(slug, []).extend(responses)

    def unused(self, slug):
        with self._lock:
            return len(self.scripts.get(slug, []))

    def forget(self, slug):
        with self._lock:
            self.scripts.pop(slug, None)

    def asked(self, slug):
        """asked - the recorded requests about one SOP, oldest first."""
        with self._lock:
            return [r for r in self.requests if (sop_of(r) or (None,))[0] == slug]

    def _next(self, req):
        sop = sop_of(req)
        with self._lock:
            queue = self.scripts.get(sop[0]) if sop else None
            resp = queue.pop(0) if queue else None
        if resp is None:
            return {"status": 400, "json": api_error("invalid_request_error",
                                                     "nothing scripted for this SOP")}
        return resp(req) if callable(resp) else resp


class ClaudeIntel:
    """ClaudeIntel - the fake API and the clubos-intelligence that asks it (stack.procs)."""

    def __init__(self, stack, fake):
        self.stack, self.fake, self.proc = stack, fake, None

    def start(self, **over):
        env = {"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": self.fake.url,
               "ANTHROPIC_MODEL": MODEL, "CLUBOS_INTEL_TIMEOUT_MS": TIMEOUT_MS,
               "CLUBOS_INTEL_CALLS_PER_HOUR": 1000, "CLUBOS_INTEL_AUTO_SECONDS": 0}
        env.update(over)
        self.proc = self.stack.spawn("intelligence", ["clubos-intelligence", "-d"], **env)
        self.stack.procs["intelligence"] = self.proc
        proc = self.proc

        def ok():
            if not proc.alive():
                raise harness.Abort("%r died:\n%s" % (proc, harness.tail(proc.log)))
            r = self.stack.health()
            return isinstance(r.json, dict) and \
                r.json.get("components", {}).get("intelligence") == "ok"
        harness.wait_for(ok, 30, interval=0.1, what="components.intelligence ok")
        harness.wait_for(lambda: "analyser: Claude" in self.log_since(0), 5,
                         what="clubos-intelligence to say it asks Claude")

    def stop(self):
        p = self.stack.procs.pop("intelligence", None)
        if p is not None:
            p.stop()

    def restart(self, **over):
        self.stop()
        self.start(**over)

    def log_mark(self):
        return os.path.getsize(self.proc.log)

    def log_since(self, mark):
        with open(self.proc.log, "rb") as f:
            f.seek(mark)
            return f.read().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def claude(stack):
    """claude - clubos-intelligence asking the fake; the plain one is back afterwards."""
    fake = SopFake(api_key=API_KEY).start()
    ci = ClaudeIntel(stack, fake)
    ci.stop()
    try:
        ci.start()
        yield ci
    finally:
        ci.stop()
        fake.stop()
        stack.procs["intelligence"] = stack.spawn("intelligence", ["clubos-intelligence", "-d"])
        stack.wait_healthy(stack.port, 30, stack.procs.values())


# ------------------------------------------------------------------ helpers

def _reply(text, stop_reason="end_turn"):
    return {"status": 200, "json": FakeAnthropic.reply_text(text, stop_reason=stop_reason,
                                                            model=MODEL)}


def _revision(added, rationale="Added what staff confirmed."):
    """_revision - a scripted reply: the SOP it was asked about, plus one line."""
    def build(req):
        slug, content = sop_of(req)
        return _reply(valid_proposal(slug, _plus(content, added), rationale))
    return build


def _plus(content, line):
    return content.rstrip("\n") + "\n\n" + line + "\n"


def _sop(stack, admin, slug):
    r = stack.http("GET", "/api/sops/" + slug, token=admin)
    assert r.status == 200, r
    return r.json


def _ask_and_rate(stack, accounts, slug, question, n, correct_answer=None):
    """Ask n times as customers (answered by slug), each unhelpful; staff correct the first."""
    traces = []
    for i in range(n):
        who = accounts["customer" if i % 2 == 0 else "customer2"]
        r = stack.query(who.token, question if i == 0 else question + "?" * i)
        harness.assert_answer(r, slug=slug)
        traces.append(r.json)
        fb = stack.http("POST", "/api/feedback", token=who.token,
                        body={"trace_id": r.json["trace_id"], "helpful": False,
                              "comment": COMMENT})
        assert fb.status == 200, fb
    if correct_answer is not None:
        _correct(stack, accounts, traces[0], correct_answer)
    return traces


def _one_more(stack, accounts, slug, question):
    """One more unhelpful verdict on the same question: new evidence, so the cluster is analysed
    again (a cluster whose pending proposal already has exactly its evidence is left alone)."""
    r = stack.query(accounts["customer"].token, question)
    harness.assert_answer(r, slug=slug)
    fb = stack.http("POST", "/api/feedback", token=accounts["customer"].token,
                    body={"trace_id": r.json["trace_id"], "helpful": False, "comment": COMMENT})
    assert fb.status == 200, fb


def _correct(stack, accounts, trace, correct_answer):
    fb = stack.http("POST", "/api/feedback", token=accounts["operator"].token,
                    body={"trace_id": trace["trace_id"], "helpful": False,
                          "correct_answer": correct_answer})
    assert fb.status == 200, fb


def _analyze(stack, admin):
    r = stack.http("POST", "/api/intelligence/analyze", token=admin)
    assert r.status == 200, r
    assert isinstance(r.json, list), r
    return r.json


def _pending(stack, admin, slug):
    r = stack.http("GET", "/api/intelligence/proposals?status=pending", token=admin)
    assert r.status == 200, r
    return [p for p in r.json if p["sop_slug"] == slug]


def _reject_pending(stack, admin, slug):
    """Reject what is pending for slug: its evidence is used up, later analyses leave it be."""
    for p in _pending(stack, admin, slug):
        stack.http("POST", "/api/intelligence/proposals/%d/reject" % p["id"], token=admin)


def _discarded(log, slug, reason):
    """The WARN line analyse.c writes when Claude's answer was not used."""
    return re.search(r"WARN .*claude: no proposal for %s \(\d+ cases\): %s; the local analyser "
                     r"decides" % (re.escape(slug), re.escape(reason)), log)


# -------------------------------------------------------------------- tests

def test_request_shape_and_a_revision_applied_only_on_approval(stack, accounts, claude):
    admin = accounts["admin"].token
    slug, question = "general.food-drink", "can we bring our own pizza and snacks into the bay"
    correction = "Pizza delivery is fine: meet the driver at the front door, nobody else will."
    added = "Ordering in? Meet the delivery driver at the front door yourself."
    rationale = "Said who meets a food delivery."
    fake = claude.fake
    first = stack.query(accounts["customer"].token, question)
    harness.assert_answer(first, slug=slug)
    before = _sop(stack, admin, slug)
    assert added not in first.json["response"], first
    fake.script_sop(slug, [_revision(added, rationale)])
    try:
        _ask_and_rate(stack, accounts, slug, question, 3, correction)
        made = [p for p in _analyze(stack, admin) if p["sop_slug"] == slug]

        # What the API saw: one well-formed Messages request about this SOP.
        asked = fake.asked(slug)
        assert len(asked) == 1, [(r["path"], r.get("answered")) for r in fake.requests]
        req = asked[0]
        assert req["method"] == "POST" and req["path"] == "/v1/messages", req["path"]
        assert req["headers"].get("x-api-key") == API_KEY, req["headers"]
        assert req["headers"].get("anthropic-version") == API_VERSION, req["headers"]
        assert req["headers"].get("content-type", "").startswith("application/json")
        body = req["json"]
        assert body["model"] == MODEL, body["model"]
        assert isinstance(body["max_tokens"], int) and body["max_tokens"] > 0, body["max_tokens"]
        assert isinstance(body.get("system"), str) and body["system"].strip()
        assert body["messages"][0]["role"] == "user", body["messages"]
        user = body["messages"][0]["content"]
        assert before["content"] in user, user[:2000]
        assert question in user and correction in user and COMMENT in user, user[:4000]
        assert sop_of(req) == (slug, before["content"])
        assert API_KEY not in req["raw"]
        assert req["answered"] == 200

        # A pending revision by Claude; nothing applied yet.
        assert len(made) == 1, made
        p = made[0]
        assert p["analyser"] == "claude" and p["kind"] == "revise", p
        assert p["status"] == "pending", p
        assert p["base_version"] == before["version"] and p["base_sha256"] == before["sha256"], p
        assert p["evidence_count"] == 4, p
        assert p["rationale"] == rationale, p
        assert p["diff"].startswith("--- a/sops/%s.md" % slug), p["diff"]
        assert "\n+" + added + "\n" in p["diff"], p["diff"]
        full = stack.http("GET", "/api/intelligence/proposals/%d" % p["id"], token=admin)
        assert full.status == 200 and full.json["content"] == _plus(before["content"], added), full
        assert [q["id"] for q in _pending(stack, admin, slug)] == [p["id"]]
        assert _sop(stack, admin, slug)["version"] == before["version"]
        still = stack.query(accounts["customer"].token, question)
        harness.assert_answer(still, slug=slug)
        assert still.json["sop"]["version"] == before["version"], still
        assert added not in still.json["response"], still

        # Approved: the next query answers from the new version.
        r = stack.http("POST", "/api/intelligence/proposals/%d/approve" % p["id"], token=admin)
        assert r.status == 200, r
        assert r.json["status"] == "applied" and r.json["version"] == before["version"] + 1, r
        after = stack.query(accounts["customer"].token, question)
        harness.assert_answer(after, slug=slug)
        assert after.json["sop"]["version"] == before["version"] + 1, after
        assert added in after.json["response"], after
        assert _sop(stack, admin, slug)["content"] == _plus(before["content"], added)

        # The key went in its header only, never into the log.
        log = claude.log_since(0)
        assert "claude: sop %s: proposal of" % slug in log
        assert API_KEY not in log
    finally:
        fake.forget(slug)
        _reject_pending(stack, admin, slug)


def test_429_is_retried_after_retry_after(stack, accounts, claude):
    admin = accounts["admin"].token
    slug, question = "tech.audio", "there is no sound coming out of the speakers in our bay"
    added = "The volume knob has a mute button in its centre: press it once to unmute."
    fake = claude.fake
    fake.script_sop(slug, [
        {"status": 429, "headers": {"retry-after": "1"},
         "json": api_error("rate_limit_error", "Number of requests has exceeded your rate limit")},
        _revision(added)])
    try:
        _ask_and_rate(stack, accounts, slug, question, 3)
        mark = claude.log_mark()
        t0 = time.monotonic()
        made = [p for p in _analyze(stack, admin) if p["sop_slug"] == slug]
        took = time.monotonic() - t0
        assert [r["answered"] for r in fake.asked(slug)] == [429, 200], fake.asked(slug)
        assert took >= 0.9, "retried after %.2fs, before the retry-after of 1 s" % took
        assert len(made) == 1, made
        p = made[0]
        assert p["analyser"] == "claude" and p["kind"] == "revise" and p["status"] == "pending", p
        assert "\n+" + added + "\n" in p["diff"], p["diff"]
        log = claude.log_since(mark)
        assert re.search(r"claude: sop %s: attempt 1/3 failed: HTTP 429 rate_limit_error"
                         % re.escape(slug), log), log
        assert "claude: no proposal for %s" % slug not in log, log
    finally:
        fake.forget(slug)
        _reject_pending(stack, admin, slug)


def test_500_on_every_attempt_falls_back_to_the_local_analyser(stack, accounts, claude):
    admin = accounts["admin"].token
    slug, question = "general.age-policy", "is there a minimum age for kids to play here"
    correction = "Kids of any age may play; under 16s need an adult with them the whole visit."
    fake = claude.fake
    fake.script_sop(slug, [{"status": 500, "json": api_error("api_error", "Internal server error")}
                           for _ in range(3)])
    try:
        _ask_and_rate(stack, accounts, slug, question, 3, correction)
        before = _sop(stack, admin, slug)
        mark = claude.log_mark()
        made = [p for p in _analyze(stack, admin) if p["sop_slug"] == slug]
        assert [r["answered"] for r in fake.asked(slug)] == [500, 500, 500]
        assert [p["analyser"] for p in made] == ["local"], made
        p = made[0]
        assert p["kind"] == "add_answer" and p["status"] == "pending", p
        assert "+" + correction in p["diff"], p["diff"]
        assert [q["analyser"] for q in _pending(stack, admin, slug)] == ["local"]
        assert _sop(stack, admin, slug)["version"] == before["version"]
        log = claude.log_since(mark)
        assert _discarded(log, slug, "HTTP 500 after 3 attempts"), log
        assert "attempt 3/3 failed: HTTP 500 api_error: Internal server error" in log, log
    finally:
        fake.forget(slug)
        _reject_pending(stack, admin, slug)


def test_timeout_is_discarded(stack, accounts, claude):
    """No reply within CLUBOS_INTEL_TIMEOUT_MS, three times; no correction: no proposal at all."""
    admin = accounts["admin"].token
    slug, question = "tech.side-screens", "the side tvs in our bay are not switched on"
    fake = claude.fake
    late = _reply(valid_proposal(slug, "# Side screens\n\nToo late to be used.\n"))
    fake.script_sop(slug, [dict(late, delay=TIMEOUT_MS / 1000.0 + 1.0) for _ in range(3)])
    traces = []
    try:
        traces = _ask_and_rate(stack, accounts, slug, question, 3)
        mark = claude.log_mark()
        t0 = time.monotonic()
        made = [p for p in _analyze(stack, admin) if p["sop_slug"] == slug]
        took = time.monotonic() - t0
        assert len(fake.asked(slug)) == 3, fake.asked(slug)
        assert took >= 3 * TIMEOUT_MS / 1000.0, took
        assert made == [] and _pending(stack, admin, slug) == [], made
        log = claude.log_since(mark)
        assert _discarded(log, slug, "timeout after 3 attempts"), log
        assert re.search(r"cluster feedback:%s:\d+: 3 unhelpful answer\(s\) from %s, no "
                         r"correction: nothing the local analyser can write"
                         % (re.escape(slug), re.escape(slug)), log), log
    finally:
        fake.forget(slug)
        if traces:
            # Use the evidence up: a correction makes a local proposal, rejected.
            _correct(stack, accounts, traces[0], "The team switches the side screens on remotely.")
            _analyze(stack, admin)
        _reject_pending(stack, admin, slug)


def test_malformed_replies_are_discarded_and_logged(stack, accounts, claude):
    admin = accounts["admin"].token
    slug, question = "general.round-duration", "how long does it take four of us to play 18 holes"
    correction = "Four players take about 4 hours for 18 holes; book 4 hours to be safe."
    fake = claude.fake

    def other_sop(req):
        return _reply(valid_proposal("general.hours", _plus(sop_of(req)[1], "Open late.")))

    def unchanged(req):
        return _reply(valid_proposal(slug, sop_of(req)[1] + "\n"))

    cases = [
        ("raw body", {"status": 200, "raw": "<html>upstream hiccup</html>"},
         "response body is not JSON"),
        ("prose", _reply("Happy to help! I would add a line about the pace of play."),
         "reply is not JSON"),
        ("another SOP", other_sop, "reply names another SOP"),
        ("unchanged", unchanged, "content is unchanged"),
        ("cut short", _reply(valid_proposal(slug, "# Round duration\n\nAbout 1 hour"),
                             stop_reason="max_tokens"), "stop_reason max_tokens"),
    ]
    try:
        _ask_and_rate(stack, accounts, slug, question, 3, correction)
        for i, (what, resp, reason) in enumerate(cases):
            if i > 0:
                _one_more(stack, accounts, slug, question)
            fake.script_sop(slug, [resp])
            mark = claude.log_mark()
            made = [p for p in _analyze(stack, admin) if p["sop_slug"] == slug]
            assert fake.unused(slug) == 0, what
            assert len(fake.asked(slug)) == i + 1, "%s: retried? %r" % (what, fake.asked(slug))
            assert [p for p in made if p["analyser"] == "claude"] == [], (what, made)
            # The local proposal, made then refreshed with the new evidence.
            assert [(p["analyser"], p["kind"]) for p in made] == [("local", "add_answer")], made
            pend = _pending(stack, admin, slug)
            assert [(p["analyser"], p["kind"]) for p in pend] == [("local", "add_answer")], \
                (what, pend)
            log = claude.log_since(mark)
            assert _discarded(log, slug, reason), "%s: no log line with %r:\n%s" % (
                what, reason, log)
    finally:
        fake.forget(slug)
        _reject_pending(stack, admin, slug)


def test_hourly_cap_stops_calls(stack, accounts, claude):
    """CLUBOS_INTEL_CALLS_PER_HOUR=3: one call, then two (the third retry refused), then none."""
    admin = accounts["admin"].token
    slug, question = "tech.login-qr", "the qr code on the screen will not scan with my phone"
    correction = "Hold the phone 30 cm back from the screen, or choose guest mode and play now."
    fake = claude.fake
    claude.restart(CLUBOS_INTEL_CALLS_PER_HOUR=3)
    try:
        _ask_and_rate(stack, accounts, slug, question, 3, correction)

        # One call: a reply that changes nothing; the local proposal is made.
        fake.script_sop(slug, [lambda req: _reply(valid_proposal(slug, sop_of(req)[1]))])
        made = [p for p in _analyze(stack, admin) if p["sop_slug"] == slug]
        assert len(fake.asked(slug)) == 1
        assert [p["analyser"] for p in made] == ["local"], made

        # Two calls answered 500; the third attempt is over the cap and never made.
        fake.script_sop(slug, [{"status": 500, "json": api_error("api_error", "Overloaded")},
                               {"status": 500, "json": api_error("api_error", "Overloaded")},
                               _revision("Never sent.")])
        _one_more(stack, accounts, slug, question)
        mark = claude.log_mark()
        _analyze(stack, admin)
        assert len(fake.asked(slug)) == 3 and fake.unused(slug) == 1, fake.asked(slug)
        log = claude.log_since(mark)
        assert _discarded(log, slug, "HTTP 500, then rate cap reached (3 calls in the last hour)"), \
            log
        assert "claude: sop %s: gave up" % slug in log, log

        # Further analyses do not reach the API at all.
        total = len(fake.requests)
        for _ in range(2):
            _one_more(stack, accounts, slug, question)
            mark = claude.log_mark()
            made = [p for p in _analyze(stack, admin) if p["sop_slug"] == slug]
            assert len(fake.requests) == total, fake.requests[total:]
            assert [p["analyser"] for p in made] == ["local"], made
            log = claude.log_since(mark)
            assert "claude: sop %s: not asked: rate cap reached (3 calls in the last hour)" % (
                slug) in log, log
            assert _discarded(log, slug, "rate cap reached (3 calls in the last hour)"), log
        assert [p["analyser"] for p in _pending(stack, admin, slug)] == ["local"]
    finally:
        fake.forget(slug)
        _reject_pending(stack, admin, slug)
        claude.restart()
