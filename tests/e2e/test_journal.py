"""
test_journal.py - a crash at any step of a knowledge change loses nothing, does nothing twice

clubos-intelligence is the one writer of SOPs and examples.  Started with
CLUBOS_CRASH_AT=<step> it kills itself (SIGKILL) right after that step of a
change: journaled (entry committed), applied (the change committed) or
published (announced, not marked done).  The gateway's request is still
waiting; the next clubos-intelligence settles the journal at start (undoes
a pending entry, completes an applied one) and then receives the request
again (nng's REQ socket re-sends it to the new peer).  The journal keys
every entry by the request's id, so the re-sent request makes the change
once in all: a new entry after an undo, the earlier result after a
completion.
"""

import threading

import pytest

import harness

SLUG = "general.hours"
QUESTION = "what are your opening hours"


def _sop(stack, token, slug=SLUG):
    r = stack.http("GET", "/api/sops/" + slug, token=token)
    assert r.status == 200, r
    return r.json


def _entries(stack, since):
    return stack.pg.sql("SELECT id, state, op FROM sop_journal WHERE id > :'v1' ORDER BY id",
                        since)


def _last_journal_id(stack):
    return int(stack.pg.sql("SELECT coalesce(max(id), 0) FROM sop_journal")[0][0])


class Asked(threading.Thread):
    """Asked - one HTTP request in the background (it waits while its owner dies)."""

    def __init__(self, stack, method, path, body, token):
        super().__init__(daemon=True)
        self.args = (method, path)
        self.kw = {"body": body, "token": token, "timeout": 60}
        self.stack, self.answer, self.error = stack, None, None

    def run(self):
        try:
            self.answer = self.stack.http(*self.args, **self.kw)
        except Exception as e:  # reported by the test
            self.error = e


def _crash_during(stack, step, method, path, body, token):
    """_crash_during - ask while a crashing clubos-intelligence serves; start a normal one after
    it died; return the answer the request finally got."""
    stack.procs.pop("intelligence").stop()
    crashing = stack.spawn_extra("intelligence-crash-" + step, ["clubos-intelligence", "-d"],
                                 CLUBOS_CRASH_AT=step)
    harness.wait_for(lambda: stack.health().json["components"].get("intelligence") == "ok", 30,
                     interval=0.1, what="the crashing clubos-intelligence to be reachable")
    asked = Asked(stack, method, path, body, token)
    asked.start()
    harness.wait_for(lambda: not crashing.alive(), 30, what="clubos-intelligence to die at " + step)
    assert asked.is_alive(), "the request was answered before the owner came back: %r" % (
        asked.answer,)
    stack.procs["intelligence"] = stack.spawn("intelligence", ["clubos-intelligence", "-d"])
    asked.join(70)
    assert not asked.is_alive(), "the request was never answered; the gateway's threads:\n" + \
        harness.stacks(stack.procs["gateway"].pid)
    assert asked.error is None, asked.error
    return asked.answer


@pytest.mark.parametrize("step", ["journaled", "applied", "published"])
def test_a_crash_at_any_step_changes_the_sop_once(stack, accounts, step):
    admin = accounts["admin"].token
    before = _sop(stack, admin)
    since = _last_journal_id(stack)
    marker = "Crash test marker for step %s." % step
    r = _crash_during(stack, step, "PUT", "/api/sops/" + SLUG,
                      {"content": before["content"] + "\n\n" + marker,
                       "base_sha256": before["sha256"]}, admin)
    assert r.status == 200, r
    assert r.json["version"] == before["version"] + 1, r.json

    entries = _entries(stack, since)
    states = [e[1] for e in entries]
    if step == "journaled":
        # The first entry never committed: undone; the re-sent request made it anew.
        assert states == ["aborted", "done"], entries
    else:
        # The change committed: completed by recovery; the re-sent request found it.
        assert states == ["done"], entries
    after = _sop(stack, admin)
    assert after["version"] == before["version"] + 1 and after["content"].count(marker) == 1
    versions = stack.pg.sql("SELECT count(*) FROM sop_versions WHERE slug = :'v1' AND version > "
                            ":'v2'", SLUG, before["version"])
    assert int(versions[0][0]) == 1
    answer = stack.query(accounts["customer"].token, QUESTION)
    harness.assert_answer(answer, slug=SLUG)
    assert answer.json["sop"]["version"] == after["version"], answer.json
    assert marker in answer.json["response"], answer.json


def test_a_rollback_asked_again_after_a_crash_is_made_once(stack, accounts):
    """A rollback has no base hash to stop a second application: the request id does."""
    admin = accounts["admin"].token
    before = _sop(stack, admin)
    r = _crash_during(stack, "published", "POST", "/api/sops/%s/rollback" % SLUG,
                      {"version": 1}, admin)
    assert r.status == 200, r
    after = _sop(stack, admin)
    assert after["version"] == before["version"] + 1, (before["version"], after["version"])


def test_an_example_added_during_a_crash_is_added_once(stack, accounts):
    admin = accounts["admin"].token
    text = "is the bar serving cocktails tonight by the simulators"
    since = _last_journal_id(stack)
    r = _crash_during(stack, "journaled", "POST", "/api/examples",
                      {"text": text, "label": "oos"}, admin)
    assert r.status == 201, r
    assert r.json["created"] is True, r.json
    rows = stack.pg.sql("SELECT count(*) FROM route_examples WHERE text = :'v1'", text)
    assert rows[0][0] == "1"
    assert [e[1] for e in _entries(stack, since)] == ["aborted", "done"]


def test_example_changes_go_through_the_journal(stack, accounts):
    admin = accounts["admin"].token
    since = _last_journal_id(stack)
    added = stack.http("POST", "/api/examples", token=admin,
                       body={"text": "do you sell gift cards for the sim", "label": "oos"})
    assert added.status == 201, added
    gone = stack.http("DELETE", "/api/examples/%d" % added.json["id"], token=admin)
    assert gone.status == 200, gone
    rows = stack.pg.sql("SELECT op, state, cardinality(example_ids), "
                        "jsonb_array_length(examples), kgen IS NOT NULL FROM sop_journal "
                        "WHERE id > :'v1' ORDER BY id", since)
    assert rows == [["examples", "done", "0", "1", "t"], ["examples", "done", "1", "0", "t"]], rows
    again = stack.http("DELETE", "/api/examples/%d" % added.json["id"], token=admin)
    harness.assert_error(again, 404)


def test_the_gateway_writes_no_knowledge(stack, accounts):
    """Every entry of the journal was written by clubos-intelligence's sessions."""
    admin = accounts["admin"].token
    before = _sop(stack, admin)
    r = stack.http("PUT", "/api/sops/" + SLUG, token=admin,
                   body={"content": before["content"] + "\n\nOwner check.",
                         "base_sha256": before["sha256"]})
    assert r.status == 200, r
    # With clubos-intelligence stopped, a change cannot be made at all: 503, nothing written.
    since = _last_journal_id(stack)
    stack.procs.pop("intelligence").stop()
    try:
        now = _sop(stack, admin)
        r = stack.http("PUT", "/api/sops/" + SLUG, token=admin,
                       body={"content": now["content"] + "\n\nNo owner.",
                             "base_sha256": now["sha256"]})
        harness.assert_error(r, 503, "intelligence_unavailable")
        assert _entries(stack, since) == []
        assert _sop(stack, admin)["version"] == now["version"]
    finally:
        stack.procs["intelligence"] = stack.spawn("intelligence", ["clubos-intelligence", "-d"])
        stack.wait_healthy(stack.port, 30, stack.procs.values())


def test_a_crash_while_approving_puts_the_proposal_back_then_applies_it_once(stack, accounts):
    admin = accounts["admin"].token
    question = "can i rent left handed clubs for a kid"
    correction = "Junior left-handed sets are behind the counter; ask staff by text."
    r = stack.query(accounts["customer"].token, question)
    assert r.status == 200, r
    for i in range(3):
        r = stack.query(accounts["customer"].token, question + "!" * (i + 1))
        stack.http("POST", "/api/feedback", token=accounts["customer"].token,
                   body={"trace_id": r.json["trace_id"], "helpful": False})
    stack.http("POST", "/api/feedback", token=accounts["operator"].token,
               body={"trace_id": r.json["trace_id"], "helpful": False,
                     "correct_answer": correction})
    made = stack.http("POST", "/api/intelligence/analyze", token=admin)
    assert made.status == 200, made
    mine = [p for p in made.json if p["sop_slug"] == r.json["sop"]["slug"]] if r.json["sop"] else []
    assert mine, made.json
    p = mine[0]
    before = _sop(stack, admin, p["sop_slug"])
    since = _last_journal_id(stack)

    r = _crash_during(stack, "journaled", "POST",
                      "/api/intelligence/proposals/%d/approve" % p["id"], None, admin)
    assert r.status == 200 and r.json["status"] == "applied", r
    rows = stack.pg.sql("SELECT state FROM sop_journal WHERE proposal_id = :'v1' AND id > :'v2' "
                        "ORDER BY id", p["id"], since)
    assert [x[0] for x in rows] == ["aborted", "done"], rows
    assert _sop(stack, admin, p["sop_slug"])["version"] == before["version"] + 1
