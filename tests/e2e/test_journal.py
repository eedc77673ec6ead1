"""
test_journal.py - a crash at any step of an SOP change loses nothing and leaves nothing half-done

A gateway started with CLUBOS_CRASH_AT=<step> kills itself (SIGKILL) right
after that step of a change: journaled (entry committed), applied (the
change committed) or published (announced, not marked done).  Recovery,
by clubos-intelligence's sweep or by the next gateway's start, then either
completes the change or undoes it, and the SOP, the journal and the next
query all agree.
"""

import http.client

import pytest

import harness

SLUG = "general.hours"
QUESTION = "what are your opening hours"


def _sop(stack, token):
    r = stack.http("GET", "/api/sops/" + SLUG, token=token)
    assert r.status == 200, r
    return r.json


def _crashing_gateway(stack, step):
    port = harness.free_port()
    gw = stack.spawn_extra("gateway-crash-" + step, ["clubos-gateway", "-d"],
                           CLUBOS_HTTP_PORT=port, CLUBOS_CRASH_AT=step)
    # Health is 200 whether ok or degraded (one test runs without clubos-intelligence).
    harness.wait_for(lambda: gw.alive() and stack.health(port=port).status == 200, 30,
                     interval=0.1, what="the crashing gateway to start")
    return gw, port


def _dies_without_answer(stack, gw, port, method, path, body, token):
    try:
        r = stack.http(method, path, body=body, token=token, port=port)
    except (ConnectionError, http.client.HTTPException, OSError):
        r = None
    assert r is None, "the crashing gateway answered: %r" % r
    harness.wait_for(lambda: not gw.alive(), 10, what="the crashing gateway to die")


def _last_entry(stack):
    rows = stack.pg.sql("SELECT id, state, op FROM sop_journal WHERE slug = :'v1' "
                        "ORDER BY id DESC LIMIT 1", SLUG)
    assert rows, "no journal entry was written"
    return rows[0]


def _settled(stack, entry_id):
    def final():
        st = stack.pg.sql("SELECT state FROM sop_journal WHERE id = :'v1'", entry_id)[0][0]
        return st in ("done", "aborted") and st
    return harness.wait_for(final, 20, interval=0.2, what="journal entry %s to settle" % entry_id)


@pytest.mark.parametrize("step", ["journaled", "applied", "published"])
def test_crash_then_recovery_by_the_sweep(stack, accounts, step):
    admin = accounts["admin"].token
    before = _sop(stack, admin)
    marker = "Crash test marker for step %s." % step
    gw, port = _crashing_gateway(stack, step)
    _dies_without_answer(stack, gw, port, "PUT", "/api/sops/" + SLUG,
                         {"content": before["content"] + "\n\n" + marker,
                          "base_sha256": before["sha256"]}, admin)

    entry_id, state, op = _last_entry(stack)
    assert op == "edit"
    final = _settled(stack, entry_id)
    after = _sop(stack, admin)
    answer = stack.query(accounts["customer"].token, QUESTION)
    harness.assert_answer(answer, slug=SLUG)
    if step == "journaled":
        # The change never committed: undone, the SOP as it was.
        assert final == "aborted", final
        assert after["version"] == before["version"] and after["sha256"] == before["sha256"]
        assert answer.json["sop"]["version"] == before["version"]
        assert marker not in answer.json["response"]
    else:
        # The change committed: completed (announced), the next query uses it.
        assert final == "done", final
        assert after["version"] == before["version"] + 1 and marker in after["content"]
        assert answer.json["sop"]["version"] == after["version"], answer
        assert marker in answer.json["response"], answer
    versions = stack.pg.sql("SELECT count(*) FROM sop_versions WHERE slug = :'v1' AND version > "
                            ":'v2'", SLUG, before["version"])
    assert int(versions[0][0]) == after["version"] - before["version"]


def test_crash_then_recovery_by_the_next_gateway(stack, accounts):
    """With clubos-intelligence stopped, the next gateway's start finishes the change."""
    admin = accounts["admin"].token
    before = _sop(stack, admin)
    marker = "Recovered by the next gateway."
    intel = stack.procs.pop("intelligence")
    intel.stop()
    try:
        gw, port = _crashing_gateway(stack, "applied")
        _dies_without_answer(stack, gw, port, "PUT", "/api/sops/" + SLUG,
                             {"content": before["content"] + "\n\n" + marker,
                              "base_sha256": before["sha256"]}, admin)
        entry_id, state, _ = _last_entry(stack)
        assert state == "applied", state
        nxt = stack.spawn_extra("gateway-next", ["clubos-gateway", "-d"], CLUBOS_HTTP_PORT=port)
        harness.wait_listening(nxt, port, 30)
        assert _settled(stack, entry_id) == "done"
        assert _sop(stack, admin)["version"] == before["version"] + 1
        nxt.stop()
    finally:
        stack.procs["intelligence"] = stack.spawn("intelligence", ["clubos-intelligence", "-d"])
        stack.wait_healthy(stack.port, 30, stack.procs.values())


def test_crash_while_approving_puts_the_proposal_back(stack, accounts):
    admin = accounts["admin"].token
    slug, question = "general.club-rental", "can i rent left handed clubs for a kid"
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
    before = stack.http("GET", "/api/sops/" + p["sop_slug"], token=admin).json

    gw, port = _crashing_gateway(stack, "journaled")
    _dies_without_answer(stack, gw, port, "POST",
                         "/api/intelligence/proposals/%d/approve" % p["id"], None, admin)
    rows = stack.pg.sql("SELECT id FROM sop_journal WHERE proposal_id = :'v1'", p["id"])
    assert rows, "no journal entry for the approval"
    assert _settled(stack, rows[-1][0]) == "aborted"
    again = stack.http("GET", "/api/intelligence/proposals/%d" % p["id"], token=admin)
    assert again.json["status"] == "pending", again
    assert stack.http("GET", "/api/sops/" + p["sop_slug"], token=admin).json["version"] == \
        before["version"]
    # And it can be approved for real now.
    r = stack.http("POST", "/api/intelligence/proposals/%d/approve" % p["id"], token=admin)
    assert r.status == 200 and r.json["status"] == "applied", r
    del slug
