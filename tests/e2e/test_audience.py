"""
test_audience.py - restricted topics: customers and kiosks (and staff, for
admin-only topics) get a plain refusal with a person, never the text and
never another SOP's answer in its place
"""

import pytest

# Wordings of restricted topics (staff-only brand voice, admin-only
# financials and expansion), none taken from the training examples.
RESTRICTED = [
    ("how much money did the business make last quarter", "strategy.financials", "admin"),
    ("what's the plan for opening new locations next year", "strategy.expansion", "admin"),
    ("what tone are staff supposed to use when texting customers", "brand.voice-guidelines", "staff"),
]


def _answer(stack, token, msg):
    r = stack.query(token, msg)
    assert r.status == 200, r
    return r.json


@pytest.mark.parametrize("msg,slug,audience", RESTRICTED)
def test_customers_and_kiosks_are_refused(stack, accounts, msg, slug, audience):
    for who in ("customer", "kiosk"):
        a = _answer(stack, accounts[who].token, msg)
        assert a.get("sop") is None, (who, a)
        assert "can't share" in a["response"], (who, a)
        assert a["escalation"] == {"tier": 1, "reason": "restricted"}, (who, a)
    # The one who may read it gets it: the refusal was that topic's.
    reader = accounts["admin"] if audience == "admin" else accounts["operator"]
    got = _answer(stack, reader.token, msg)
    assert (got.get("sop") or {}).get("slug") == slug, got


def test_staff_are_refused_admin_topics(stack, accounts):
    msg, slug, _ = RESTRICTED[0]
    a = _answer(stack, accounts["operator"].token, msg)
    assert a.get("sop") is None and a["escalation"]["reason"] == "restricted", a
    assert "can't share" in a["response"], a
