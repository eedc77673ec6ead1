"""
test_learning.py - the learning loop through the HTTP API, with the local analyser

Unhelpful verdicts with a staff correction become one proposal with a diff;
approving it makes the very next identical question answer from the new
version; a rollback brings the old answer back; a proposal whose SOP moved
on is refused with 409 and marked stale; a gap no SOP covers becomes a new
SOP; staff knowledge ingested becomes a merge proposal, once.
"""

import hashlib

import harness

SLUG = "tech.wifi"
QUESTION = "the wifi keeps dropping out in my bay"
CORRECTION = ("Bay 3 sits furthest from the router: switch to the ClubOS-5G network, "
              "which reaches every bay without drops.")


def _ask_and_rate(stack, accounts, question, n, correct_answer=None):
    """Ask n times as customers, mark every answer unhelpful; staff add the correction once."""
    traces = []
    for i in range(n):
        who = accounts["customer" if i % 2 == 0 else "customer2"]
        r = stack.query(who.token, question if i == 0 else question + "?" * i)
        assert r.status == 200, r
        traces.append(r.json)
        fb = stack.http("POST", "/api/feedback", token=who.token,
                        body={"trace_id": r.json["trace_id"], "helpful": False,
                              "comment": "that did not help"})
        assert fb.status == 200, fb
    if correct_answer is not None:
        fb = stack.http("POST", "/api/feedback", token=accounts["operator"].token,
                        body={"trace_id": traces[0]["trace_id"], "helpful": False,
                              "correct_answer": correct_answer})
        assert fb.status == 200, fb
    return traces


def _analyze(stack, admin):
    r = stack.http("POST", "/api/intelligence/analyze", token=admin)
    assert r.status == 200, r
    assert isinstance(r.json, list), r
    return r.json


def _sop(stack, admin, slug):
    r = stack.http("GET", "/api/sops/" + slug, token=admin)
    assert r.status == 200, r
    return r.json


def test_unhelpful_to_approved_to_rolled_back(stack, accounts):
    admin = accounts["admin"].token
    first = stack.query(accounts["customer"].token, QUESTION)
    harness.assert_answer(first, slug=SLUG)
    before = _sop(stack, admin, SLUG)
    assert CORRECTION not in first.json["response"]

    _ask_and_rate(stack, accounts, QUESTION, 3, CORRECTION)
    made = _analyze(stack, admin)
    mine = [p for p in made if p["sop_slug"] == SLUG]
    assert len(mine) == 1, made
    p = mine[0]
    assert p["status"] == "pending" and p["analyser"] == "local", p
    assert p["kind"] == "add_answer", p
    assert p["base_version"] == before["version"] and p["base_sha256"] == before["sha256"], p
    assert p["evidence_count"] >= 3, p
    assert "+" + CORRECTION in p["diff"] and p["diff"].startswith("--- a/sops/%s.md" % SLUG), p
    assert p["effect"]["before"]["unhelpful"] >= 3, p

    # Listed as pending; analysing again makes no second proposal.
    r = stack.http("GET", "/api/intelligence/proposals?status=pending", token=accounts["support"].token)
    assert r.status == 200 and [q["id"] for q in r.json].count(p["id"]) == 1, r
    again = _analyze(stack, admin)
    assert [q for q in again if q["sop_slug"] == SLUG] == [], again
    r = stack.http("GET", "/api/intelligence/proposals?status=pending", token=admin)
    assert len([q for q in r.json if q["sop_slug"] == SLUG]) == 1, r

    # Nothing changed until an admin approves.
    assert _sop(stack, admin, SLUG)["version"] == before["version"]
    r = stack.http("POST", "/api/intelligence/proposals/%d/approve" % p["id"],
                   token=accounts["operator"].token)
    harness.assert_error(r, 403)
    r = stack.http("POST", "/api/intelligence/proposals/%d/approve" % p["id"], token=admin)
    assert r.status == 200, r
    assert r.json["status"] == "applied" and r.json["version"] == before["version"] + 1, r
    assert r.json["applied_version"] == before["version"] + 1, r

    after = stack.query(accounts["customer"].token, QUESTION)
    harness.assert_answer(after, slug=SLUG)
    assert after.json["sop"]["version"] == before["version"] + 1, after
    assert CORRECTION in after.json["response"], after

    # Deciding twice is a conflict.
    r = stack.http("POST", "/api/intelligence/proposals/%d/approve" % p["id"], token=admin)
    harness.assert_error(r, 409, "not_pending")
    r = stack.http("POST", "/api/intelligence/proposals/%d/reject" % p["id"], token=admin)
    harness.assert_error(r, 409, "not_pending")

    # The evidence is used up: no new proposal from it.
    assert [q for q in _analyze(stack, admin) if q["sop_slug"] == SLUG] == []

    r = stack.http("POST", "/api/sops/%s/rollback" % SLUG, body={"version": before["version"]},
                   token=admin)
    assert r.status == 200, r
    rolled = stack.query(accounts["customer"].token, QUESTION)
    harness.assert_answer(rolled, slug=SLUG)
    assert rolled.json["sop"]["version"] == before["version"] + 2, rolled
    assert CORRECTION not in rolled.json["response"], rolled

    # The effect of the change is measured per version.
    r = stack.http("GET", "/api/intelligence/proposals/%d" % p["id"], token=admin)
    assert r.status == 200 and r.json["effect"]["after"]["version"] == before["version"] + 1, r
    m = stack.http("GET", "/metrics")
    assert 'clubos_sop_feedback_total{sop="%s",version="%d",verdict="unhelpful"}' % (
        SLUG, before["version"]) in m.body.decode(), m.body[:2000]


def test_stale_proposal_is_409_and_marked(stack, accounts):
    admin = accounts["admin"].token
    slug, question = "general.lost-found", "i left my rangefinder in the bay last night, who has it"
    correction = "Rangefinders go in the locked drawer under the front counter; staff can open it."
    r = stack.query(accounts["customer"].token, question)
    harness.assert_answer(r, slug=slug)
    _ask_and_rate(stack, accounts, question, 3, correction)
    p = [q for q in _analyze(stack, admin) if q["sop_slug"] == slug]
    assert len(p) == 1, p
    p = p[0]

    cur = _sop(stack, admin, slug)
    r = stack.http("PUT", "/api/sops/" + slug, token=admin,
                   body={"content": cur["content"] + "\n\nEdited meanwhile.",
                         "base_sha256": cur["sha256"]})
    assert r.status == 200, r
    r = stack.http("POST", "/api/intelligence/proposals/%d/approve" % p["id"], token=admin)
    harness.assert_error(r, 409, "stale")
    r = stack.http("GET", "/api/intelligence/proposals/%d" % p["id"], token=admin)
    assert r.json["status"] == "stale", r
    assert _sop(stack, admin, slug)["version"] == cur["version"] + 1


def test_gap_with_correction_becomes_a_new_sop(stack, accounts):
    admin = accounts["admin"].token
    question = "do you have a place to charge an electric car while i play"
    correction = "Yes: two EV chargers are at the back of the lot, free for players."
    first = stack.query(accounts["customer"].token, question)
    assert first.status == 200 and first.json["sop"] is None, first
    _ask_and_rate(stack, accounts, question, 3, correction)
    p = [q for q in _analyze(stack, admin) if q["kind"] == "new_topic"]
    assert len(p) == 1, p
    p = p[0]
    assert p["sop_slug"].startswith("general.") and p["new_sop"]["route"] == "general", p
    r = stack.http("POST", "/api/intelligence/proposals/%d/approve" % p["id"], token=admin)
    assert r.status == 200 and r.json["version"] == 1, r
    after = stack.query(accounts["customer"].token, question)
    harness.assert_answer(after, slug=p["sop_slug"])
    assert correction in after.json["response"], after


def test_reject_and_errors(stack, accounts):
    admin = accounts["admin"].token
    question = "the projector image in bay 2 is blurry and out of focus"
    correction = "Blurry image: the projector lens cap is often half on; staff can refocus remotely."
    r = stack.query(accounts["customer"].token, question)
    assert r.status == 200, r
    _ask_and_rate(stack, accounts, question, 3, correction)
    made = _analyze(stack, admin)
    assert made, made
    p = made[0]
    r = stack.http("POST", "/api/intelligence/proposals/%d/reject" % p["id"], token=admin)
    assert r.status == 200 and r.json["status"] == "rejected", r
    r = stack.http("POST", "/api/intelligence/proposals/%d/approve" % p["id"], token=admin)
    harness.assert_error(r, 409, "not_pending")
    assert [q for q in _analyze(stack, admin) if q["id"] == p["id"]] == []

    harness.assert_error(stack.http("POST", "/api/intelligence/proposals/999999/approve",
                                    token=admin), 404)
    harness.assert_error(stack.http("POST", "/api/intelligence/proposals/abc/reject",
                                    token=admin), 404)
    harness.assert_error(stack.http("GET", "/api/intelligence/proposals?status=bogus",
                                    token=admin), 400, "invalid_value")
    harness.assert_error(stack.http("POST", "/api/intelligence/analyze",
                                    token=accounts["customer"].token), 403)
    harness.assert_error(stack.http("GET", "/api/intelligence/proposals",
                                    token=accounts["kiosk"].token), 403)
    harness.assert_error(stack.http("GET", "/api/intelligence/proposals"), 401)


def test_ingest_merges_once(stack, accounts):
    admin = accounts["admin"].token
    note = "The Riverside wifi password card has moved from the bays to the front desk."
    r = stack.http("POST", "/api/knowledge/ingest", body={"text": note}, token=admin)
    assert r.status == 200 and isinstance(r.json, list) and len(r.json) == 1, r
    p = r.json[0]
    assert p["kind"] == "merge" and p["sop_slug"] == SLUG and p["status"] == "pending", p
    assert ("+" + note) in p["diff"], p["diff"]
    r = stack.http("POST", "/api/knowledge/ingest", body={"text": note}, token=admin)
    assert r.status == 200 and r.json == [], r
    r = stack.http("POST", "/api/knowledge/ingest", body={"text": "  " + note.upper() + "\n"},
                   token=admin)
    assert r.status == 200 and r.json == [], r

    doc = ("# Staff handbook\n\n## Wifi\n\n" + note + "\n\n## Lockers\n\n"
           "Lockers by the entrance take a four-digit code of your choice and reset at closing.\n")
    r = stack.http("POST", "/api/knowledge/ingest", body={"text": doc}, token=admin)
    assert r.status == 200, r
    assert all(q["status"] == "pending" for q in r.json), r


def test_ingest_bad_input(stack, accounts):
    admin = accounts["admin"].token
    harness.assert_error(stack.http("POST", "/api/knowledge/ingest", body={"text": 5},
                                    token=admin), 400, "wrong_type")
    harness.assert_error(stack.http("POST", "/api/knowledge/ingest", body={},
                                    token=admin), 400, "missing_field")
    harness.assert_error(stack.http("POST", "/api/knowledge/ingest", body={"text": ""},
                                    token=admin), 400)
    harness.assert_error(stack.http("POST", "/api/knowledge/ingest",
                                    body={"text": "x" * (256 * 1024 + 1)}, token=admin), 413)
    harness.assert_error(stack.http("POST", "/api/knowledge/ingest", body={"text": "a note"},
                                    token=accounts["operator"].token), 403)
    big = ("Members may book bays up to 14 days ahead. " * 40 + "\n\n") * 100
    r = stack.http("POST", "/api/knowledge/ingest", body={"text": big}, token=admin)
    assert r.status == 200, r
