"""
test_sops.py - SOP changes are versioned, hash-checked, live for the next query

A change adds an immutable version; a stale base hash is a 409; a rollback
adds a version equal to the old one; the very next query answers from the
current version, whichever worker answers it.
"""

import hashlib

import harness

SLUG = "general.food-drink"
QUESTION = "can we bring our own snacks and drinks"


def _sop(stack, token):
    r = stack.http("GET", "/api/sops/" + SLUG, token=token)
    assert r.status == 200, r
    return r.json


def test_update_is_live_hash_checked_and_rolls_back(stack, accounts):
    admin = accounts["admin"].token
    before = _sop(stack, admin)
    assert before["sha256"] == hashlib.sha256(before["content"].encode()).hexdigest()
    first = stack.query(accounts["customer"].token, QUESTION)
    harness.assert_answer(first, slug=SLUG)
    assert first.json["sop"]["version"] == before["version"]

    marker = "Pineapple marker sentence for the e2e test."
    new_content = before["content"] + "\n\n" + marker
    r = stack.http("PUT", "/api/sops/" + SLUG,
                   body={"content": new_content, "base_sha256": before["sha256"]}, token=admin)
    assert r.status == 200, r
    assert r.json["version"] == before["version"] + 1
    assert r.json["sha256"] == hashlib.sha256(new_content.encode()).hexdigest()

    after = stack.query(accounts["customer"].token, QUESTION)
    harness.assert_answer(after, slug=SLUG)
    assert after.json["sop"]["version"] == before["version"] + 1, after
    assert marker in after.json["response"], "the next query did not use the new version: %r" % after

    # The old base hash is stale now.
    r = stack.http("PUT", "/api/sops/" + SLUG,
                   body={"content": "anything", "base_sha256": before["sha256"]}, token=admin)
    harness.assert_error(r, 409, "sha_mismatch")

    r = stack.http("POST", "/api/sops/%s/rollback" % SLUG, body={"version": before["version"]},
                   token=admin)
    assert r.status == 200, r
    assert r.json["version"] == before["version"] + 2
    assert r.json["sha256"] == before["sha256"]

    rolled = stack.query(accounts["customer"].token, QUESTION)
    harness.assert_answer(rolled, slug=SLUG)
    assert rolled.json["sop"]["version"] == before["version"] + 2
    assert marker not in rolled.json["response"], "the rollback was not live: %r" % rolled

    versions = stack.http("GET", "/api/sops/%s/versions" % SLUG, token=admin)
    assert versions.status == 200
    nums = [v["version"] for v in versions.json]
    assert nums == sorted(nums) and nums[-1] == before["version"] + 2
    assert versions.json[-1]["sha256"] == versions.json[nums.index(before["version"])]["sha256"]


def test_sop_changes_refuse_bad_input_and_roles(stack, accounts):
    admin = accounts["admin"].token
    cur = _sop(stack, admin)
    r = stack.http("PUT", "/api/sops/" + SLUG, body={"content": "x", "base_sha256": cur["sha256"]},
                   token=accounts["operator"].token)
    harness.assert_error(r, 403)
    r = stack.http("PUT", "/api/sops/" + SLUG, body={"content": "x"}, token=admin)
    harness.assert_error(r, 400)
    r = stack.http("PUT", "/api/sops/" + SLUG, body={"content": 7, "base_sha256": cur["sha256"]},
                   token=admin)
    harness.assert_error(r, 400)
    r = stack.http("PUT", "/api/sops/" + SLUG, body={"content": "x", "base_sha256": "abc"},
                   token=admin)
    harness.assert_error(r, 400)
    r = stack.http("PUT", "/api/sops/no.such-sop", body={"content": "x", "base_sha256": "0" * 64},
                   token=admin)
    harness.assert_error(r, 404)
    r = stack.http("POST", "/api/sops/%s/rollback" % SLUG, body={"version": 999}, token=admin)
    harness.assert_error(r, 404)
    r = stack.http("POST", "/api/sops/%s/rollback" % SLUG, body={"version": "1"}, token=admin)
    harness.assert_error(r, 400)
    # Nothing above changed the SOP.
    assert _sop(stack, admin)["sha256"] == cur["sha256"]
