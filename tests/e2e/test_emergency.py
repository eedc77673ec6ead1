"""
test_emergency.py - the emergency decision through the API: sure, possible, not

A sure emergency is tier 3 on the emergency route (test_routes.py checks the
alert and the ticket); a possible one keeps its route, leads with the safety
line and the question, is escalated at tier 2 with an urgent notify_team
action that is really in the journal, and is never served from a cache; a
near miss (a story, a device, a figure of speech) gets neither.
"""

import json

import pytest

import harness

SAFETY = "If anyone is hurt or in danger, call 911 now."
QUESTION = "Is anyone in danger right now?"


def _types(a):
    return [x.get("type") for x in a.get("actions", []) if isinstance(x, dict)]


def _notify_rows(stack, trace_id):
    return stack.pg.sql("SELECT status, detail FROM actions WHERE type = 'notify_team' "
                        "AND trace_id = :'v1'", trace_id)


def _steps(stack, token, trace_id, step):
    """_steps - the trace's steps of one name, once the router's are stored."""
    def got():
        r = stack.http("GET", "/api/traces/" + trace_id, token=token)
        if r.status != 200:
            return None
        found = [s for s in r.json.get("steps", []) if s.get("step") == step]
        return found or None
    return harness.wait_for(got, 5.0, interval=0.1, what="trace step %s" % step)


@pytest.mark.parametrize("message", [
    "il y a le feu dans la cuisine, vite",
    "SMOKE IN THE HALLWAY",
    "there's a loud siren and flashing strobe lights in the hall",
    "it smells like rotten eggs by the furnace",
], ids=["french", "shouted", "alarm-heard", "gas-smelled"])
def test_sure_emergencies_page_at_tier3(stack, accounts, message):
    a = harness.assert_answer(stack.query(accounts["customer"].token, message))
    assert a["route"] == "emergency", "not an emergency: %r" % (a,)
    assert a["escalation"]["tier"] == 3, a
    assert "alert_oncall" in _types(a), a
    assert a["cache"] == "miss", a


def test_possible_emergency_asks_and_notifies_the_team(stack, accounts):
    tok = accounts["customer"].token
    message = "my friend feels dizzy"
    seen = []
    for _ in range(2):
        a = harness.assert_answer(stack.query(tok, message, location="harbourview", bay=2))
        seen.append(a)
        assert a["route"] != "emergency", "a possible emergency paged as sure: %r" % (a,)
        assert a["escalation"] == {"tier": 2, "reason": "possible_emergency"}, a
        assert a["response"].startswith(SAFETY), a["response"]
        assert QUESTION in a["response"], a["response"]
        assert "flagged this to our team as urgent" in a["response"], a["response"]
        notify = [x for x in a["actions"] if x.get("type") == "notify_team"]
        assert len(notify) == 1 and notify[0]["status"] == "queued", a["actions"]
        assert "alert_oncall" not in _types(a), a
        # Never from a cache, however often it is asked.
        assert a["cache"] == "miss", a
        assert "cacheable" not in a, a
    for a in seen:
        rows = _notify_rows(stack, a["trace_id"])
        assert len(rows) == 1 and rows[0][0] == "queued", rows
        detail = json.loads(rows[0][1])
        assert detail["reason"] == "possible_emergency", detail
        assert detail["category"] == "emergency.medical", detail
        assert detail["priority"] == "urgent", detail
    steps = _steps(stack, accounts["operator"].token, seen[0]["trace_id"], "emergency_check")
    assert steps[0]["detail"]["level"] == "possible", steps
    assert steps[0]["detail"]["emergency"] is False, steps


def test_possible_emergency_in_french_is_answered_in_french(stack, accounts):
    a = harness.assert_answer(stack.query(accounts["customer"].token, "mon ami est \u00e9tourdi"))
    assert a["route"] != "emergency", a
    assert a["escalation"] == {"tier": 2, "reason": "possible_emergency"}, a
    assert a["response"].startswith("Si quelqu'un est bless\u00e9 ou en danger"), a["response"]
    assert "Quelqu'un est-il en danger en ce moment?" in a["response"], a["response"]
    assert "notify_team" in _types(a), a


@pytest.mark.parametrize("message", [
    "the power went out last week during my session, can I get a credit?",
    "the pc died in bay 3",
    "this slice is killing me lol",
    "what happens if the fire alarm goes off while we play?",
    "j'ai renversé ma bière, avez-vous une serviette?",
], ids=["past", "device", "hyperbole", "policy", "spill-fr"])
def test_near_misses_page_and_notify_nobody(stack, accounts, message):
    a = harness.assert_answer(stack.query(accounts["customer"].token, message))
    assert a["route"] != "emergency", "near miss routed to emergency: %r" % (a,)
    # An SOP may escalate on its own (a refund goes to a person); the
    # emergency decision adds nothing.
    assert a["escalation"]["reason"] not in ("emergency", "possible_emergency"), a
    assert "notify_team" not in _types(a) and "alert_oncall" not in _types(a), a
    assert QUESTION not in a["response"], a
    assert not _notify_rows(stack, a["trace_id"]), a
