"""
test_cache.py - the tiered response cache through the HTTP API

Repeats are answered from the cache and say so; paraphrases hit; a change
or a rollback of an SOP is visible on the very next query through every
tier; scopes never mix; emergencies and personal answers are never cached;
Redis dying loses no request; L3 answers after every daemon restarts.

A repeat is answered by the gateway's half of L1 without a hop; any
knowledge change empties that half and the router's half answers.

Each test uses its own questions (tier-0 SOPs, so their answers may be
cached), so the tests do not depend on each other's cache state.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor

import harness


def _ask(stack, token, message, **kw):
    r = stack.query(token, message, **kw)
    return harness.assert_answer(r)


def test_repeat_hits_and_paraphrase_hits(stack, accounts):
    t = accounts["customer"].token
    first = _ask(stack, t, "how long does 18 holes take for two players")
    assert first["sop"]["slug"] == "general.round-duration"
    assert first["cache"] == "miss"
    again = _ask(stack, t, "how long does 18 holes take for two players")
    assert again["cache"] == "l1", again
    assert again["response"] == first["response"] and again["sop"] == first["sop"]
    # Case, punctuation and spacing do not make a new question.
    norm = _ask(stack, t, "How long does 18 holes take for two players?!")
    assert norm["cache"] == "l1", norm
    para = _ask(stack, t, "how long does 18 holes usually take for two players")
    assert para["sop"]["slug"] == "general.round-duration"
    assert para["cache"] == "l1", "a paraphrase did not hit: %r" % para
    m = stack.http("GET", "/metrics")
    assert m.status == 200
    text = m.body.decode() if isinstance(m.body, bytes) else m.body
    for match in ("exact", "semantic"):
        line = [l for l in text.splitlines()
                if l.startswith('clubos_cache_hits_total{tier="l1",match="%s"}' % match)]
        assert line and float(line[0].split()[-1]) >= 1, "no L1 %s hits on /metrics" % match


def _steps(stack, accounts, tid, want):
    """The stored steps of a trace once they include the step named want."""
    def ready():
        r = stack.http("GET", "/api/traces/" + tid, token=accounts["operator"].token)
        steps = r.json.get("steps", []) if r.status == 200 else []
        return steps if any(s["step"] == want for s in steps) else None
    return harness.wait_for(ready, 5, interval=0.1, what="step %s of trace %s" % (want, tid))


def test_a_repeat_is_answered_in_the_gateway_and_a_change_empties_that_half(stack, accounts):
    t, admin = accounts["customer"].token, accounts["admin"].token
    q = "do you have left handed clubs i could borrow"
    first = _ask(stack, t, q)
    assert first["cache"] == "miss", first
    # The repeat never leaves the gateway: no router step in its trace.
    again = _ask(stack, t, q)
    assert again["cache"] == "l1" and again["response"] == first["response"], again
    steps = _steps(stack, accounts, again["trace_id"], "cache_hit")
    assert {s["daemon"] for s in steps} == {"gateway"}, steps
    assert [s["step"] for s in steps][:2] == ["emergency_check", "cache_hit"], steps
    # Any knowledge change (here: an example added and removed) empties
    # the gateway's half; the router's half, checked per SOP version, answers.
    r = stack.http("POST", "/api/examples", body={"text": "front purge marker question",
                                                   "label": "brand.gift-cards"}, token=admin)
    assert r.status == 201, r
    assert stack.http("DELETE", "/api/examples/%d" % r.json["id"], token=admin).status == 200
    third = _ask(stack, t, q)
    assert third["cache"] == "l1" and third["response"] == first["response"], third
    steps = _steps(stack, accounts, third["trace_id"], "cache_hit")
    assert any(s["step"] == "cache_hit" and "router" in s["daemon"] for s in steps), steps
    # ... and refills the gateway's half on the way back.
    fourth = _ask(stack, t, q)
    steps = _steps(stack, accounts, fourth["trace_id"], "cache_hit")
    assert fourth["cache"] == "l1" and {s["daemon"] for s in steps} == {"gateway"}, steps
    assert "cacheable" not in fourth and "cacheable" not in first, fourth


def test_update_and_rollback_are_seen_through_every_tier(stack, accounts):
    admin, t = accounts["admin"].token, accounts["customer"].token
    q = "is there a minimum age for kids to play"
    first = _ask(stack, t, q)
    slug = first["sop"]["slug"]
    assert slug == "general.age-policy", first
    assert _ask(stack, t, q)["cache"] == "l1"
    cur = stack.http("GET", "/api/sops/" + slug, token=admin).json
    marker = "Cache marker sentence for the update test."
    r = stack.http("PUT", "/api/sops/" + slug,
                   body={"content": cur["content"] + "\n\n" + marker, "base_sha256": cur["sha256"]},
                   token=admin)
    assert r.status == 200, r
    after = _ask(stack, t, q)
    assert after["sop"]["version"] == cur["version"] + 1, after
    assert marker in after["response"], "a cached answer of the old version was served: %r" % after
    r = stack.http("POST", "/api/sops/%s/rollback" % slug, body={"version": cur["version"]},
                   token=admin)
    assert r.status == 200, r
    rolled = _ask(stack, t, q)
    assert marker not in rolled["response"], "the rollback was not seen: %r" % rolled
    assert rolled["sop"]["version"] == cur["version"] + 2


def test_scopes_never_mix(stack, accounts):
    q = "do i need to bring my own golf clubs or do you have some"
    cust = _ask(stack, accounts["customer"].token, q)
    assert cust["cache"] == "miss"
    op = _ask(stack, accounts["operator"].token, q)
    assert op["cache"] == "miss", "an operator was served the customer's entry: %r" % op
    assert _ask(stack, accounts["operator"].token, q)["cache"] == "l1"
    assert _ask(stack, accounts["customer"].token, q)["cache"] == "l1"
    # Location is part of the scope too.
    loc = _ask(stack, accounts["customer"].token, q, location="riverside")
    assert loc["cache"] == "miss", loc


def test_staff_entries_never_reach_customers(stack, accounts):
    q = "what tone should replies to customers have, any wording rules"
    staff = _ask(stack, accounts["operator"].token, q)
    assert staff["sop"] and staff["sop"]["slug"] == "brand.voice-guidelines", staff
    _ask(stack, accounts["operator"].token, q)
    for who in ("customer", "kiosk"):
        a = _ask(stack, accounts[who].token, q)
        assert not a["sop"] or a["sop"]["slug"] != "brand.voice-guidelines", a
        assert a["response"] != staff["response"]


def test_emergencies_and_personal_answers_are_never_cached(stack, accounts):
    t = accounts["customer"].token
    for _ in range(2):
        e = _ask(stack, t, "there is smoke pouring out of the projector in bay 2")
        assert e["route"] == "emergency" and e["cache"] == "miss", e
        assert e["escalation"]["tier"] == 3
    for _ in range(2):
        c = _ask(stack, t, "how much credit is left on my account")
        assert c["route"] == "customerinfo" and c["cache"] == "miss", c


def test_redis_down_loses_nothing_and_l2_comes_back(stack, accounts):
    t = accounts["customer"].token
    q = "can we bring our own food into the bay"
    _ask(stack, t, q)
    stack.redis.kill9()
    try:
        for i in range(5):
            a = _ask(stack, t, q if i % 2 else "are kids allowed if an adult comes along")
            assert a["cache"] in ("l1", "miss"), a
    finally:
        stack.restart_redis()
    # Nothing in the new Redis yet: a fresh router-side miss fills L2 again.
    harness.wait_for(lambda: stack.health().json.get("components", {}).get("redis") == "ok", 10,
                     what="redis back in health")
    assert _ask(stack, t, q)["cache"] in ("l1", "l2")


def test_l3_answers_after_every_daemon_restarts(stack, accounts):
    """L3 is durable: after every daemon and Redis restart, stored answers come from it.

    Several answers are stored first: the very first lookup after a restart may
    outrun the router's short budget for the remote tiers while the cache
    daemon opens its connections (a miss is then the right answer), so each
    question is asked once, in turn, until one is served from L3."""
    t = accounts["customer"].token
    qs = [("where do i park at harbourview", "harbourview"),
          ("where do i park at riverside", "riverside"),
          ("is there parking at harbourview", "harbourview"),
          ("is parking free at riverside", "riverside"),
          ("where should i leave my car at harbourview", "harbourview")]
    first = {}
    for q, loc in qs:
        a = _ask(stack, t, q, location=loc)
        assert a["sop"]["slug"] == "general.location-parking", a
        first[q] = a["response"]
    # Stores reach L3 off the request path.
    harness.wait_for(lambda: int(stack.pg.sql(
        "SELECT count(*) FROM cache_entries WHERE sop_slug = 'general.location-parking'")[0][0])
        >= len(qs), 10, what="the answers in L3")
    stack.restart_daemons()
    stack.redis.kill9()
    stack.restart_redis()
    seen = []
    for q, loc in qs:
        a = _ask(stack, t, q, location=loc)
        seen.append(a["cache"])
        if a["cache"] == "l3":
            assert a["response"] == first[q]
            return
    raise AssertionError("no L3 hit after restarts: answers came from %r" % seen)


def test_answers_asked_at_once_all_reach_l3(stack, accounts):
    """The router sends its stores to clubos-cache in batches of what queued
    meanwhile (one round trip and one L3 commit a batch): every answer asked
    at once is stored, once, and a repeat after L1 is gone comes from L2."""
    t = accounts["customer"].token
    tag = uuid.uuid4().hex[:8]
    qs = ["how long does 18 holes take for %d players (ref %s)" % (i % 4 + 1, tag + str(i))
          for i in range(24)]
    count = lambda: int(stack.pg.sql("SELECT count(*) FROM cache_entries WHERE value LIKE "  # noqa
                                     "'%%round-duration%%'")[0][0])
    before = count()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda q: _ask(stack, t, q), qs))
    stored = [a for a in answers if a["cache"] == "miss" and a["sop"] and
              a["sop"]["slug"] == "general.round-duration" and a["escalation"]["tier"] == 0]
    assert len(stored) >= 20, [(a["cache"], a["sop"]) for a in answers]
    harness.wait_for(lambda: count() - before >= len(stored), 10,
                     what="every stored answer in L3 (%d of %d)" % (count() - before, len(stored)))
    assert count() - before == len(stored)
    stack.restart_daemons()
    harness.wait_for(lambda: _metric(stack, "clubos_cache_known_keys") >= len(stored), 20,
                     what="the stored keys loaded again after the restart")
    # A remote lookup has a 50 ms budget and falls back to the engine past
    # it; on a loaded (sanitizer) run one may miss, so up to three of the
    # stored questions are asked: a broken L2/L3 path misses them all.
    tiers = []
    for q in [q for q, a in zip(qs, answers) if a in stored][:3]:
        tiers.append(_ask(stack, t, q)["cache"])
        if tiers[-1] in ("l2", "l3"):
            break
    assert tiers[-1] in ("l2", "l3") and set(tiers) <= {"miss", "l2", "l3"}, tiers


def _metric(stack, name):
    m = stack.http("GET", "/metrics")
    assert m.status == 200
    text = m.body.decode() if isinstance(m.body, bytes) else m.body
    line = [l for l in text.splitlines() if l.startswith(name + " ")]
    assert len(line) == 1, "%s not on /metrics" % name
    return float(line[0].split()[-1])


def test_new_questions_skip_the_remote_tiers_stored_ones_do_not(stack, accounts):
    """Once the router has loaded the keys L3 holds, a question nobody asked
    before costs no round trip to clubos-cache (remote_skipped counts it),
    while a stored answer, asked again after the router restarts, is still
    looked up there and served from L2 or L3."""
    t = accounts["customer"].token
    harness.wait_for(lambda: _metric(stack, "clubos_cache_known_keys") >= 0, 20,
                     what="the router's set of stored keys loaded")
    skipped = _metric(stack, "clubos_cache_remote_skipped_total")
    l3_misses = _metric(stack, 'clubos_cache_misses_total{tier="l3"}')
    tag = uuid.uuid4().hex[:8]
    for i in range(3):
        a = _ask(stack, t, "how long does a round of 18 take for %d players (ref %s%d)"
                 % (i + 1, tag, i))
        assert a["cache"] == "miss", a
    # /metrics keeps the router's figures for a moment: wait for them to move.
    harness.wait_for(lambda: _metric(stack, "clubos_cache_remote_skipped_total") - skipped >= 3,
                     10, what="three lookups skipped")
    assert _metric(stack, "clubos_cache_remote_skipped_total") - skipped == 3
    assert _metric(stack, 'clubos_cache_misses_total{tier="l3"}') == l3_misses
    q = "how long does a round of 18 take for 1 players (ref %s0)" % tag
    harness.wait_for(lambda: int(stack.pg.sql(
        "SELECT count(*) FROM cache_entries WHERE value LIKE '%%round-duration%%' AND key LIKE "
        "'%%" + tag + "%%'")[0][0]) >= 1, 10, what="the answer in L3")
    stack.restart_daemons()
    harness.wait_for(lambda: _metric(stack, "clubos_cache_known_keys") >= 1, 20,
                     what="the keys loaded again after the restart")
    a = _ask(stack, t, q)
    assert a["cache"] in ("l2", "l3"), a
