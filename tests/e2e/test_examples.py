"""
test_examples.py - training examples edited through the API change routing live

The router retrains before POST /api/examples answers, so the very next
query is routed by the new model, with no restart of anything.
"""

import harness

NOVEL = "can the zorblax flumpet be sent to my cousin"
TEACH = [
    "can the zorblax flumpet be sent to someone",
    "send a zorblax flumpet to my cousin",
    "zorblax flumpet for my cousin please",
    "i want to send a zorblax flumpet",
]


def _sop(resp):
    return resp.json["sop"]["slug"] if resp.json.get("sop") else None


def test_example_added_changes_routing_without_restart(stack, accounts):
    admin = accounts["admin"].token
    before = stack.query(admin, NOVEL)
    harness.assert_answer(before)
    assert _sop(before) != "brand.gift-cards", "the novel phrase already routes to gift cards: %r" % before

    ids = []
    for text in TEACH:
        r = stack.http("POST", "/api/examples", body={"text": text, "label": "brand.gift-cards"},
                       token=admin)
        assert r.status == 201, "adding an example failed: %r" % r
        assert r.json["label"] == "brand.gift-cards" and r.json["id"] > 0
        assert r.json["model"]["examples"] > 0, "no model figures after retraining: %r" % r
        ids.append(r.json["id"])

    after = stack.query(admin, NOVEL)
    harness.assert_answer(after, route="brand", slug="brand.gift-cards")

    listed = stack.http("GET", "/api/examples?label=brand.gift-cards", token=admin)
    assert listed.status == 200
    assert {e["id"] for e in listed.json} >= set(ids)

    for i in ids:
        r = stack.http("DELETE", "/api/examples/%d" % i, token=admin)
        assert r.status == 200, "deleting example %d failed: %r" % (i, r)
    again = stack.query(admin, NOVEL)
    harness.assert_answer(again)
    assert _sop(again) != "brand.gift-cards", "deleting the examples did not undo them: %r" % again


def test_an_answer_kept_in_a_cache_follows_an_example_edit(stack, accounts):
    """A question answered (and kept) before an example edit is routed by
    the new model after it: no cache tier serves the old routing.  (Both
    topics' answers may be kept: no escalation, no action.)"""
    admin = accounts["admin"].token
    q = "kkrr tuvw plan for my cousin"
    teach = ["kkrr tuvw plan", "a kkrr tuvw plan please", "the kkrr tuvw plan",
             "kkrr tuvw plan for someone"]
    ids = []
    try:
        for label in ("brand.membership",) * len(teach):
            r = stack.http("POST", "/api/examples", body={"text": teach[len(ids)], "label": label},
                           token=admin)
            assert r.status == 201, r
            ids.append(r.json["id"])
        first = harness.assert_answer(stack.query(admin, q), slug="brand.membership")
        kept = harness.wait_for(lambda: (lambda a: a if a.json["cache"] != "miss" else None)(
            stack.query(admin, q)), 5, interval=0.1, what="the answer served from a cache")
        assert _sop(kept) == "brand.membership", kept
        # Now the same words are taught to another topic, and unlearned here.
        for i in ids:
            assert stack.http("DELETE", "/api/examples/%d" % i, token=admin).status == 200
        ids = []
        for text in teach:
            r = stack.http("POST", "/api/examples", body={"text": text, "label": "general.club-rental"},
                           token=admin)
            assert r.status == 201, r
            ids.append(r.json["id"])
        after = harness.assert_answer(stack.query(admin, q), slug="general.club-rental")
        assert after["cache"] == "miss", after
        assert first["trace_id"] != after["trace_id"]
    finally:
        for i in ids:
            stack.http("DELETE", "/api/examples/%d" % i, token=admin)


def test_examples_refuse_bad_input_and_roles(stack, accounts):
    admin, operator = accounts["admin"].token, accounts["operator"].token
    r = stack.http("POST", "/api/examples", body={"text": "hello there", "label": "no.such-topic"},
                   token=admin)
    harness.assert_error(r, 400, "unknown_label")
    r = stack.http("POST", "/api/examples", body={"text": 5, "label": "oos"}, token=admin)
    harness.assert_error(r, 400)
    r = stack.http("POST", "/api/examples", body={"text": "", "label": "oos"}, token=admin)
    harness.assert_error(r, 400)
    r = stack.http("POST", "/api/examples", body={"text": "x" * 2001, "label": "oos"}, token=admin)
    harness.assert_error(r, 400)
    r = stack.http("POST", "/api/examples", body={"text": "hello there", "label": "oos"},
                   token=operator)
    harness.assert_error(r, 403)
    r = stack.http("GET", "/api/examples", token=accounts["customer"].token)
    harness.assert_error(r, 403)
    r = stack.http("DELETE", "/api/examples/999999999", token=admin)
    harness.assert_error(r, 404)
    r = stack.http("DELETE", "/api/examples/abc", token=admin)
    harness.assert_error(r, 404)
