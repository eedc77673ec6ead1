"""
test_routes.py - every route answers; emergencies; out of scope; audiences
"""

import re

import pytest

import harness

# (asker, message, route, sop slug)
REPRESENTATIVE = [
    ("customer", "the trackman in bay 2 is frozen", "tech", "tech.sim-frozen"),
    ("customer", "how do I book a bay", "booking", "booking.make"),
    ("customer", "do you sell gift cards", "brand", "brand.gift-cards"),
    ("customer", "are you open on christmas", "general", "general.hours"),
    ("customer", "there's smoke and a burning smell coming from the projector in bay 1",
     "emergency", "emergency.fire-smoke"),
    ("admin", "what was our revenue last quarter", "strategy", "strategy.financials"),
    ("customer", "when is my booking", "customerinfo", "customer.booking-lookup"),
]


@pytest.mark.parametrize("who,message,route,slug", REPRESENTATIVE,
                         ids=[r[2] for r in REPRESENTATIVE])
def test_every_route_answers(stack, accounts, who, message, route, slug):
    r = stack.query(accounts[who].token, message)
    harness.assert_answer(r, route=route, slug=slug)


def test_clubosctl_ask_names_the_sop(stack):
    r = stack.ctl("ask", "the trackman in bay 2 is frozen", timeout=20)
    out = r.stdout + r.stderr
    assert r.returncode == 0, "clubosctl ask exited %d:\n%s" % (r.returncode, out)
    assert "tech.sim-frozen" in r.stdout, "clubosctl ask does not name tech.sim-frozen:\n%s" % out
    assert re.search(r"\btech\b", r.stdout), "clubosctl ask does not name the route:\n%s" % out
    assert re.search(r"[0-9a-f]{32}", r.stdout), "clubosctl ask prints no trace id:\n%s" % out
    m = re.search(r"confidence\W+([0-9.]+)", r.stdout, re.I)
    assert m and 0.0 <= float(m.group(1)) <= 1.0, "clubosctl ask prints no confidence:\n%s" % out


# ------------------------------------------------------------- emergencies

EMERGENCIES = [
    "water is pouring through the ceiling onto the bay 3 screen",
    "my friend collapsed and isn't responding",
]


def _assert_emergency(a):
    assert a["route"] == "emergency", "not routed to emergency: %r" % (a,)
    assert a["escalation"]["tier"] == 3, "emergency without tier 3: %r" % (a,)
    types = [x.get("type") for x in a["actions"] if isinstance(x, dict)]
    assert "alert_oncall" in types, "no alert_oncall action: %r" % (a["actions"],)
    assert any(isinstance(t, str) and t.startswith("ticket") for t in types), \
        "no ticket action: %r" % (a["actions"],)


@pytest.mark.parametrize("message", EMERGENCIES, ids=["water", "medical"])
def test_emergency_is_tier3_with_oncall_and_ticket(stack, accounts, message):
    a = harness.assert_answer(stack.query(accounts["customer"].token, message))
    _assert_emergency(a)
    assert a["sop"] is not None and a["sop"]["slug"].startswith("emergency."), a


def test_emergency_never_served_from_cache(stack, accounts):
    message = "the fire alarm is going off in bay 4 and there is smoke"
    for i in range(2):
        a = harness.assert_answer(stack.query(accounts["kiosk"].token, message, channel="kiosk"))
        _assert_emergency(a)
        assert a["cache"] == "miss", "emergency answer #%d came from cache %r" % (i + 1, a["cache"])
    # Also for a message an earlier test already asked (now surely in any cache).
    a = harness.assert_answer(stack.query(accounts["customer"].token, EMERGENCIES[0]))
    _assert_emergency(a)
    assert a["cache"] == "miss", "repeated emergency came from cache %r" % (a["cache"],)


def test_figure_of_speech_is_not_emergency(stack, accounts):
    a = harness.assert_answer(stack.query(accounts["customer"].token, "this trackman is killing me"))
    assert a["route"] != "emergency", "figure of speech routed to emergency: %r" % (a,)
    assert a["escalation"]["tier"] != 3 or a["route"] != "emergency", a


# ------------------------------------------------------------ out of scope

def test_out_of_scope_gets_no_sop_and_offers_a_person(stack, accounts):
    a = harness.assert_answer(stack.query(accounts["customer"].token, "what's the weather tomorrow"))
    assert a["sop"] is None, "out-of-scope message answered from an SOP: %r" % (a,)
    assert re.search(r"\b(team|person|staff|human)\b", a["response"], re.I), \
        "out-of-scope answer offers no person: %r" % (a["response"],)


ELSEWHERE = [
    ("can you move my physio appointment to monday", "owner"),
    ("netflix billed me two months in a row", "actor"),
    ("the projector in my basement at home shows no signal", "home"),
]


@pytest.mark.parametrize("message,kind", ELSEWHERE, ids=[k for _, k in ELSEWHERE])
def test_another_business_or_home_gets_no_sop(stack, accounts, message, kind):
    """Words a topic shares (appointment, billed, projector) do not make a
    question about another business or one's home ours: no SOP answers it,
    a person is offered, and the trace says why."""
    r = stack.query(accounts["customer"].token, message)
    a = harness.assert_answer(r)
    assert a["sop"] is None, "answered from an SOP: %r" % (a,)
    assert a["route"] == "general", a
    assert re.search(r"\b(team|person|staff|human)\b", a["response"], re.I), a["response"]

    def step():
        t = stack.http("GET", "/api/traces/" + r.trace_id, token=accounts["operator"].token)
        found = [s for s in (t.json or {}).get("steps", []) if s.get("step") == "elsewhere"]
        return found or None
    steps = harness.wait_for(step, 5.0, interval=0.1, what="trace step elsewhere")
    assert steps[0]["detail"]["kind"] == kind, steps


def test_a_question_about_here_that_names_another_place_is_answered(stack, accounts):
    """Another appointment, named in passing, does not hide the booking:
    the message reaches the booking topics (an answer, or a question back
    between two of them), and the trace has no elsewhere step."""
    r = stack.query(accounts["customer"].token,
                    "running late from a dentist appointment, can we push our booking to 7:30")
    a = harness.assert_answer(r)
    assert a["route"] == "booking", a
    offered = [c["slug"] for c in a.get("clarify") or []]
    assert (a["sop"] or {}).get("slug", "").startswith("booking.") or \
        any(s.startswith("booking.") for s in offered), a

    def steps():
        t = stack.http("GET", "/api/traces/" + r.trace_id, token=accounts["operator"].token)
        names = [s.get("step") for s in (t.json or {}).get("steps", [])]
        return names if "classified" in names else None
    names = harness.wait_for(steps, 5.0, interval=0.1, what="the router's trace steps")
    assert "elsewhere" not in names, names


# ---------------------------------------------------------------- audience

def _sentences(text):
    """_sentences - the sentences of an SOP's text worth looking for (front matter dropped)."""
    if text.startswith("---"):
        parts = text.split("\n---", 2)
        if len(parts) >= 2:
            text = parts[-1]
    out = []
    for s in re.split(r"(?<=[.!?])\s+|\n+", text):
        s = " ".join(s.split()).strip(" -*#")
        if len(s) >= 20:
            out.append(s.lower())
    return out


def _norm(text):
    return " ".join(text.split()).lower()


@pytest.fixture(scope="module")
def financials_sentences(stack, accounts):
    r = stack.http("GET", "/api/sops/strategy.financials", token=accounts["admin"].token)
    assert r.status == 200, r
    assert r.json.get("audience") == "admin", r
    sentences = _sentences(r.json["content"])
    assert sentences, "strategy.financials has no sentences: %r" % (r.json,)
    return sentences


@pytest.mark.parametrize("who,channel", [("customer", "sms"), ("kiosk", "kiosk")])
def test_strategy_never_reaches_customer_or_kiosk(stack, accounts, financials_sentences, who, channel):
    # Warm every cache tier with the admin answer first, then ask as the outsider.
    message = "show me our revenue and margins for last quarter"
    harness.assert_answer(stack.query(accounts["admin"].token, message), slug="strategy.financials")
    a = harness.assert_answer(stack.query(accounts[who].token, message, channel=channel))
    assert a["sop"] is None, "%s got an SOP for a strategy question: %r" % (who, a)
    resp = _norm(a["response"])
    for s in financials_sentences:
        assert s not in resp, "%s received strategy.financials text %r in %r" % (who, s, a["response"])


def test_a_text_quoted_to_be_reworded_does_not_choose_the_topic(stack, accounts):
    """Staff paste a customer-facing sentence to be reworded; its words
    (a refund, a cancelled booking) are not the question. The router reads
    the request without the quote (trace step "unquoted") and answers from
    the voice guidelines, not from the refund or cancellation topics."""
    message = ("Can you rewrite this so it sounds less robotic: 'Your request has been "
               "processed. Refund pending review, cancellation fee applies.'")
    r = stack.query(accounts["operator"].token, message, channel="operator")
    harness.assert_answer(r, slug="brand.voice-guidelines")

    def step():
        t = stack.http("GET", "/api/traces/" + r.trace_id, token=accounts["operator"].token)
        found = [s for s in (t.json or {}).get("steps", []) if s.get("step") == "unquoted"]
        return found or None
    steps = harness.wait_for(step, 5.0, interval=0.1, what="trace step unquoted")
    assert "Refund" not in steps[0]["detail"]["read_as"], steps


def test_voice_guidelines_for_staff_only(stack, accounts):
    message = "how should I word a reply to an angry customer"
    a = harness.assert_answer(stack.query(accounts["operator"].token, message, channel="operator"),
                              slug="brand.voice-guidelines")
    r = stack.http("GET", "/api/sops/brand.voice-guidelines", token=accounts["admin"].token)
    assert r.status == 200 and r.json.get("audience") == "staff", r
    staff_text = _sentences(r.json["content"])
    listing = stack.http("GET", "/api/sops", token=accounts["admin"].token)
    assert listing.status == 200 and isinstance(listing.json, list), listing
    audiences = {x["slug"]: x["audience"] for x in listing.json}
    for who in ("customer", "kiosk"):
        b = harness.assert_answer(stack.query(accounts[who].token, message))
        slug = b["sop"]["slug"] if b["sop"] else None
        assert slug != "brand.voice-guidelines", "%s received the staff SOP: %r" % (who, b)
        if slug is not None:
            assert audiences.get(slug) == "all", \
                "%s received %s (audience %r)" % (who, slug, audiences.get(slug))
        resp = _norm(b["response"])
        for s in staff_text:
            assert s not in resp, "%s received staff text %r" % (who, s)
    assert a["route"] == "brand"
