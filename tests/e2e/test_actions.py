"""
test_actions.py - actions that really happen: the executor against loopback providers

The stack's own clubos-actions runs with no integration configured; this
module stops it and runs one pointed at fake_providers.py instead (and
puts the plain one back at the end).  Setup rows that another daemon
writes in production (a conversation, a confirmed action: the SMS
helper's side) are written here with psql.
"""

import hashlib
import hmac
import json
import os
import signal
import time
import urllib.parse
import uuid

import pytest

import harness
from fake_providers import Fakes

EXEC_ENV = {
    "CLUBOS_ACTIONS_BACKOFF_MS": "200",
    "CLUBOS_ACTIONS_TIMEOUT_MS": "2000",
    "CLUBOS_ACTIONS_CIRCUIT_FAILURES": "3",
    "CLUBOS_ACTIONS_CIRCUIT_OPEN_SECONDS": "2",
    "CLUBOS_ACTIONS_COOLDOWN_SECONDS": "60",
    "CLUBOS_ACTIONS_MAX_ATTEMPTS": "4",
    "CLUBOS_ESCALATION_ACK_SECONDS": "3600",
}
SLACK_SECRET = "slack-signing-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def fakes():
    f = Fakes()
    yield f
    f.stop()


class Executor:
    """Executor - the clubos-actions under test, restartable with other settings."""

    def __init__(self, stack, fakes):
        self.stack, self.fakes, self.proc = stack, fakes, None

    def start(self, **over):
        env = dict(EXEC_ENV)
        env.update(self.fakes.env())
        env.update(over)
        t0 = self.stack.pg.sql("SELECT now()")[0][0]
        self.proc = self.stack.spawn_extra("actions-fake", ["clubos-actions", "-d"], **env)
        harness.wait_for(lambda: self.stack.pg.sql(
            "SELECT count(*) FROM provider_circuits WHERE updated_at > :'v1'", t0)
            [0][0] == "4", 15, what="the executor to report its providers")
        return self.proc

    def stop(self):
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def kill9(self):
        self.proc.kill9()
        self.proc = None


@pytest.fixture(scope="module")
def executor(stack, fakes):
    stack.procs["actions"].stop()
    ex = Executor(stack, fakes)
    ex.start()
    yield ex
    ex.stop()
    stack.procs["actions"] = stack.spawn("actions", ["clubos-actions", "-d"])


@pytest.fixture(autouse=True)
def _clean_faults(fakes):
    fakes.reset()
    yield
    fakes.reset()


# ----------------------------------------------------------------- helpers

def sql(stack, q, *args):
    return stack.pg.sql(q, *args)


def conversation(stack, phone="+14165552281", location="harbourview", channel="sms"):
    return int(sql(stack, "INSERT INTO conversations (phone, location, channel) VALUES "
                          "(:'v1', :'v2', :'v3') RETURNING id", phone, location, channel)[0][0])


def add_action(stack, type_, status, location="harbourview", bay=None, conv=None, detail="{}"):
    """add_action - an action as the front desk journals it (then confirmed, for queued)."""
    rows = sql(stack, "INSERT INTO actions (trace_id, type, status, location, bay, conversation_id, "
                      "detail, expires_at) VALUES (:'v1', :'v2', :'v3', :'v4', NULLIF(:'v5', '')::int, "
                      "NULLIF(:'v6', '')::bigint, :'v7'::jsonb, now() + interval '10 min') "
                      "RETURNING id; NOTIFY clubos_actions;",
               uuid.uuid4().hex, type_, status, location, "" if bay is None else str(bay),
               "" if conv is None else str(conv), detail)
    return int(rows[0][0])


def action(stack, aid):
    r = stack.pg.sql("SELECT status, attempts, COALESCE(last_error, ''), COALESCE(ticket_id, 0) "
                     "FROM actions WHERE id = :'v1'", str(aid))
    st, att, err, tid = r[0]
    return {"status": st, "attempts": int(att), "last_error": err, "ticket_id": int(tid)}


def wait_status(stack, aid, statuses, timeout=20):
    statuses = (statuses,) if isinstance(statuses, str) else statuses
    return harness.wait_for(lambda: action(stack, aid)["status"] in statuses and action(stack, aid),
                            timeout, interval=0.1,
                            what="action %d to be %s (now %r)" % (aid, statuses, action(stack, aid)))


def outbox(stack, conv):
    return [r[0] for r in sql(stack, "SELECT author || ': ' || text FROM messages WHERE "
                                     "conversation_id = :'v1' AND direction = 'out' ORDER BY id",
                              str(conv))]


def health_component(stack, name):
    return stack.health().json["components"].get(name)


# ------------------------------------------------------------ the executor

def test_emergency_pages_slack_and_the_oncall_phone(stack, accounts, executor, fakes):
    a = harness.assert_answer(stack.query(accounts["customer"].token,
                                          "there is smoke and a fire in bay 2",
                                          location="harbourview", bay=2))
    assert a["escalation"]["tier"] == 3, a
    aid = int(sql(stack, "SELECT id FROM actions WHERE trace_id = :'v1' AND type = 'alert_oncall'",
                  a["trace_id"])[0][0])
    wait_status(stack, aid, "done")
    slack = [c for c in fakes.calls("slack") if "EMERGENCY" in c["json"]["text"]]
    assert slack, fakes.calls()
    body = slack[-1]["json"]
    assert body["channel"] == "C0CLUBOPS"
    assert "harbourview" in body["text"] and "smoke" in body["text"], body
    ids = [e["action_id"] for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ids == ["ack", "take_over"], body
    sms = fakes.calls("openphone")[-1]
    assert sms["json"]["to"] == ["+19025550911"] and sms["json"]["from"] == "+19025550100", sms
    assert sms["headers"]["authorization"] == fakes.env()["OPENPHONE_API_KEY"]
    log = sql(stack, "SELECT provider, outcome FROM action_attempts WHERE action_id = :'v1' "
                     "ORDER BY n", str(aid))
    assert log == [["slack", "ok"], ["openphone", "ok"]], log
    r = stack.http("GET", "/api/actions?status=done", token=accounts["operator"].token)
    assert r.status == 200
    mine = [x for x in r.json if x["id"] == aid]
    assert mine and mine[0]["attempts"] == 2 and len(mine[0]["attempt_log"]) == 2, mine


def test_confirmed_restart_runs_once_and_says_so_after(stack, executor, fakes):
    conv = conversation(stack)
    aid = add_action(stack, "restart_trackman_request", "pending_confirmation", bay=1, conv=conv)
    assert action(stack, aid)["status"] == "pending_confirmation"
    assert not fakes.calls("ninja_run")
    # The customer's "yes" (the SMS side): pending_confirmation -> queued, NOTIFY.
    sql(stack, "UPDATE actions SET status = 'queued' WHERE id = :'v1'; NOTIFY clubos_actions;",
        str(aid))
    wait_status(stack, aid, "done")
    runs = fakes.calls("ninja_run")
    assert len(runs) == 1 and runs[0]["args"] == ("1101",), runs
    assert runs[0]["json"] == {"type": "SCRIPT", "id": 77, "runAs": "system"}
    assert fakes.calls("ninja_token"), "no OAuth token was fetched"
    out = outbox(stack, conv)
    assert any("restart on bay 1 has started" in m for m in out), out


def test_web_chat_follow_up_is_there_to_read_not_queued_for_sms(stack, executor, fakes):
    conv = conversation(stack, phone="", channel="web")
    # Riverside has no bay 3: the restart fails at once (no device to run it
    # on, and no cooldown taken from the other tests' bays), and says so.
    aid = add_action(stack, "restart_trackman_request", "queued", location="riverside", bay=3,
                     conv=conv)
    wait_status(stack, aid, "failed")
    rows = harness.wait_for(lambda: sql(stack, "SELECT delivery, text FROM messages WHERE "
                                               "conversation_id = :'v1' AND direction = 'out'",
                                        str(conv)), 10, what="the follow-up")
    assert all(d == "sent" for d, _ in rows), rows


def test_follow_ups_are_said_in_the_conversations_language(stack, executor, fakes):
    """A customer who writes in French is told in French what was done and
    what could not be; the team's ticket stays in English."""
    conv = conversation(stack, phone="+14165552299")
    sql(stack, "UPDATE conversations SET lang = 'fr' WHERE id = :'v1'", str(conv))
    wait_status(stack, add_action(stack, "unlock_door", "queued", conv=conv), "done")
    aid = add_action(stack, "restart_trackman_request", "queued", location="riverside", bay=3,
                     conv=conv)
    st = wait_status(stack, aid, "failed")
    out = harness.wait_for(lambda: len(outbox(stack, conv)) >= 2 and outbox(stack, conv), 10,
                           what="both follow-ups")
    assert out == ["bot: La porte d'entrée est déverrouillée.",
                   "bot: Nous n'avons pas pu redémarrer le TrackMan de la baie 3 "
                   "automatiquement. Une personne de l'équipe fera le suivi avec vous ici."], out
    assert sql(stack, "SELECT title FROM tickets WHERE id = :'v1'", str(st["ticket_id"])) == \
        [["Could not restart the TrackMan on bay 3"]]


def test_ninjaone_token_is_cached_and_renewed_on_401(stack, executor, fakes):
    a1 = add_action(stack, "reboot_pc_request", "queued", bay=3)
    wait_status(stack, a1, "done")
    fakes._calls.clear()
    a2 = add_action(stack, "reboot_pc_request", "queued", location="riverside", bay=1)
    wait_status(stack, a2, "done")
    assert not fakes.calls("ninja_token"), "a valid token was fetched again"
    fakes.expire_ninja_tokens()
    fakes.reset()
    a3 = add_action(stack, "reboot_pc_request", "queued", location="riverside", bay=2)
    wait_status(stack, a3, "done")
    keys = [c["key"] for c in fakes.calls()]
    assert keys == ["ninja_reboot", "ninja_token", "ninja_reboot"], keys
    assert fakes.calls("ninja_reboot")[-1]["args"] == ("2102", "NORMAL")


def test_cooldown_refuses_a_second_restart_of_the_same_pc(stack, executor, fakes):
    conv = conversation(stack)
    a1 = add_action(stack, "restart_trackman_request", "queued", bay=4, conv=conv)
    wait_status(stack, a1, "done")
    a2 = add_action(stack, "restart_trackman_request", "queued", bay=4, conv=conv)
    st = wait_status(stack, a2, ("cancelled", "failed"))
    assert "cooldown" in st["last_error"], st
    assert len(fakes.calls("ninja_run")) == 1
    assert any("restarted moments ago" in m for m in outbox(stack, conv))


def test_door_unlock_needs_staff_approval(stack, accounts, executor, fakes):
    conv = conversation(stack)
    aid = add_action(stack, "unlock_door_request", "pending_approval", conv=conv)
    for who in ("customer", "kiosk", "support"):
        r = stack.http("POST", "/api/actions/%d/approve" % aid, token=accounts[who].token)
        harness.assert_error(r, 403)
    assert action(stack, aid)["status"] == "pending_approval"
    assert not fakes.calls("unifi")
    r = stack.http("POST", "/api/actions/%d/approve" % aid, token=accounts["operator"].token)
    assert r.status == 200 and r.json["id"] == aid, r
    wait_status(stack, aid, "done")
    calls = fakes.calls("unifi")
    assert len(calls) == 1 and calls[0]["args"] == ("7b0c2a4e-5d1f-4c39-9a61-2f8e0d3b9a11", "unlock")
    assert any("front door is unlocked" in m for m in outbox(stack, conv))
    harness.assert_error(stack.http("POST", "/api/actions/%d/approve" % aid,
                                    token=accounts["admin"].token), 409)
    harness.assert_error(stack.http("POST", "/api/actions/%d/cancel" % aid,
                                    token=accounts["admin"].token), 409)
    harness.assert_error(stack.http("POST", "/api/actions/999999999/approve",
                                    token=accounts["admin"].token), 404)
    harness.assert_error(stack.http("POST", "/api/actions/abc/approve",
                                    token=accounts["admin"].token), 404)


def test_cancel_before_it_runs(stack, accounts, executor, fakes):
    aid = add_action(stack, "unlock_door_request", "pending_approval")
    r = stack.http("POST", "/api/actions/%d/cancel" % aid, token=accounts["admin"].token)
    assert r.status == 200 and r.json["status"] == "cancelled", r
    harness.assert_error(stack.http("POST", "/api/actions/%d/approve" % aid,
                                    token=accounts["admin"].token), 409)


def test_429_with_retry_after_is_retried_after_that_long(stack, executor, fakes):
    fakes.fail("unifi", 429, n=1, retry_after=1)
    aid = add_action(stack, "unlock_door", "queued", location="riverside")
    wait_status(stack, aid, "done")
    log = sql(stack, "SELECT outcome, http_status, extract(epoch FROM started_at) FROM "
                     "action_attempts WHERE action_id = :'v1' ORDER BY n", str(aid))
    assert [r[:2] for r in log] == [["retry", "429"], ["ok", "200"]], log
    assert float(log[1][2]) - float(log[0][2]) >= 0.95, log


def test_provider_refusal_fails_with_its_reason_and_a_ticket(stack, accounts, executor, fakes):
    conv = conversation(stack)
    sql(stack, "UPDATE locations SET front_door_id = 'no-such-door' WHERE slug = 'riverside'")
    try:
        aid = add_action(stack, "unlock_door", "queued", location="riverside", conv=conv)
        st = wait_status(stack, aid, "failed")
    finally:
        sql(stack, "UPDATE locations SET front_door_id = 'c41e9d02-8a7b-4f55-b3c6-61d2e7f0a822' "
                   "WHERE slug = 'riverside'")
    assert "CODE_DEVICE_DEVICE_NOT_FOUND" in st["last_error"], st
    assert st["attempts"] == 1, st            # a refusal is not retried
    assert st["ticket_id"] > 0
    t = stack.http("GET", "/api/tickets/%d" % st["ticket_id"], token=accounts["support"].token)
    assert t.status == 200 and t.json["status"] == "open", t
    assert [x["id"] for x in t.json["actions"]] == [aid], t.json
    assert t.json["conversation"]["id"] == conv
    assert any("person from the team will follow up" in m for m in outbox(stack, conv))


def test_timeouts_are_retried_then_fail_with_a_ticket(stack, executor, fakes):
    fakes.delay("unifi", 3, n=4)       # longer than CLUBOS_ACTIONS_TIMEOUT_MS
    aid = add_action(stack, "unlock_door", "queued")
    st = wait_status(stack, aid, "failed", timeout=40)
    assert st["attempts"] == 4 and "no answer" in st["last_error"], st
    assert st["ticket_id"] > 0


def test_integration_not_configured_fails_at_once(stack, accounts, executor, fakes):
    executor.stop()
    executor.start(UNIFI_ACCESS_TOKEN=None, UNIFI_ACCESS_BASE_URL=None)
    try:
        assert health_component(stack, "unifi_access") == "off"
        aid = add_action(stack, "unlock_door", "queued")
        st = wait_status(stack, aid, "failed")
        assert "not configured" in st["last_error"] and "UNIFI_ACCESS" in st["last_error"], st
        assert st["attempts"] == 0 and st["ticket_id"] > 0, st
        assert not fakes.calls("unifi")
        r = stack.http("GET", "/api/actions?status=failed", token=accounts["support"].token)
        assert any(x["id"] == aid and "not configured" in x["last_error"] for x in r.json)
    finally:
        executor.stop()
        executor.start()
    assert health_component(stack, "unifi_access") == "ok"


def test_circuit_opens_while_a_provider_is_down_and_closes_after(stack, executor, fakes):
    fakes.down("unifi")
    ids = [add_action(stack, "unlock_door", "queued", location=loc)
           for loc in ("harbourview", "riverside")]
    harness.wait_for(lambda: health_component(stack, "unifi_access") == "failing", 20,
                     what="unifi_access failing in /api/health")
    assert len(fakes.calls("unifi")) >= 3
    # While open, actions wait for it without spending attempts.
    harness.wait_for(lambda: any("circuit open" in action(stack, a)["last_error"] for a in ids), 10,
                     what="an action waiting for the circuit")
    assert all(action(stack, a)["attempts"] < 4 for a in ids)
    fakes.up("unifi")
    for aid in ids:
        wait_status(stack, aid, ("done", "failed"), timeout=30)
    harness.wait_for(lambda: health_component(stack, "unifi_access") == "ok", 20,
                     what="unifi_access ok again")
    assert any(action(stack, a)["status"] == "done" for a in ids)


def test_expired_confirmation_is_expired(stack, executor):
    aid = add_action(stack, "restart_trackman_request", "pending_confirmation", bay=2)
    sql(stack, "UPDATE actions SET expires_at = now() - interval '1 s' WHERE id = :'v1'", str(aid))
    st = wait_status(stack, aid, "expired")
    assert "confirmation" in st["last_error"]


# ------------------------------------------------------------- crash safety

def test_killed_mid_restart_is_not_run_twice(stack, executor, fakes):
    conv = conversation(stack)
    fakes.delay("ninja_run", 6)
    # Harbourview bay 2: no other test restarts it, so no cooldown is in the way.
    aid = add_action(stack, "restart_trackman_request", "queued", location="harbourview", bay=2,
                     conv=conv)
    harness.wait_for(lambda: fakes.calls("ninja_run"), 15, what="the restart call")
    executor.kill9()
    executor.start()
    st = wait_status(stack, aid, "failed", timeout=30)
    assert "outcome unknown" in st["last_error"], st
    assert len(fakes.calls("ninja_run")) == 1
    assert st["ticket_id"] > 0
    log = sql(stack, "SELECT outcome FROM action_attempts WHERE action_id = :'v1'", str(aid))
    assert log == [["unknown"]], log
    assert any("could not confirm" in m for m in outbox(stack, conv))


def test_killed_mid_unlock_finishes_exactly_once(stack, executor, fakes):
    fakes.delay("unifi", 6)
    aid = add_action(stack, "unlock_door", "queued")
    harness.wait_for(lambda: fakes.calls("unifi"), 15, what="the unlock call")
    executor.kill9()
    executor.start()
    wait_status(stack, aid, "done", timeout=30)
    log = sql(stack, "SELECT outcome FROM action_attempts WHERE action_id = :'v1' ORDER BY n",
              str(aid))
    assert log == [["unknown"], ["ok"]], log
    assert sql(stack, "SELECT count(*) FROM actions WHERE id = :'v1' AND status = 'done'",
               str(aid)) == [["1"]]


# ------------------------------------------------------------ tickets API

def test_tickets_list_get_and_patch(stack, accounts, executor):
    a = harness.assert_answer(stack.query(accounts["customer"].token,
                                          "someone collapsed and is not breathing",
                                          location="riverside"))
    tid = int(sql(stack, "SELECT id FROM tickets WHERE trace_id = :'v1'", a["trace_id"])[0][0])
    r = stack.http("GET", "/api/tickets?status=open", token=accounts["support"].token)
    assert r.status == 200 and any(t["id"] == tid and t["priority"] == "urgent" for t in r.json)
    r = stack.http("GET", "/api/tickets/%d" % tid, token=accounts["support"].token)
    assert r.status == 200 and r.json["trace_id"] == a["trace_id"], r
    assert any(x["type"] == "alert_oncall" for x in r.json["actions"]), r.json
    assert isinstance(r.json["trace"], list) and r.json["trace"], r.json
    tok = accounts["operator"].token
    r = stack.http("PATCH", "/api/tickets/%d" % tid, token=tok,
                   body={"status": "in_progress", "assignee": int(accounts["operator"].id),
                         "note": "on my way"})
    assert r.status == 200 and r.json["status"] == "in_progress", r
    assert r.json["assignee"] == int(accounts["operator"].id)
    assert r.json["notes"][0]["text"] == "on my way"
    r = stack.http("PATCH", "/api/tickets/%d" % tid, token=tok, body={"status": "resolved"})
    assert r.status == 200 and r.json["status"] == "resolved" and len(r.json["notes"]) == 1
    for bad in ({"status": "closed"}, {"note": ""}, {"note": 5}, {"assignee": "bob"}, {},
                {"note": "x" * 2001}):
        harness.assert_error(stack.http("PATCH", "/api/tickets/%d" % tid, token=tok, body=bad), 400)
    harness.assert_error(stack.http("PATCH", "/api/tickets/%d" % tid, token=tok, raw=b"{nope"), 400)
    harness.assert_error(stack.http("PATCH", "/api/tickets/99999999", token=tok,
                                    body={"status": "open"}), 404)
    harness.assert_error(stack.http("GET", "/api/tickets/0", token=tok), 404)
    harness.assert_error(stack.http("GET", "/api/tickets?status=bogus", token=tok), 400)
    harness.assert_error(stack.http("GET", "/api/actions?status=bogus", token=tok), 400)
    harness.assert_error(stack.http("GET", "/api/tickets", token=accounts["customer"].token), 403)
    harness.assert_error(stack.http("GET", "/api/actions", token=accounts["kiosk"].token), 403)


# --------------------------------------------------- PostgreSQL down: spool

def _pg_stop(stack):
    """_pg_stop - a fast shutdown: connections are cut, committed data kept.

    (The throwaway cluster runs with synchronous_commit=off, so an
    immediate stop could lose transactions the tests saw committed.)"""
    pg = stack.pg
    pg._run("pg_ctl", "-D", pg.data, "-m", "fast", "-w", "stop")


def _fresh_daemons(stack):
    """_fresh_daemons - restart the stack's daemons (not the executor under test).

    Each holds PostgreSQL connections that a restart of PostgreSQL broke;
    a broken connection fails its next statement once, which later tests
    in this session should not have to meet."""
    for name, p in list(stack.procs.items()):
        if name == "actions":
            continue
        argv = [os.path.basename(p.argv[0])] + list(p.argv[1:])
        p.stop()
        stack.procs[name] = stack.spawn(name, argv)
    stack.wait_healthy(stack.port, 60, [p for n, p in stack.procs.items() if n != "actions"])


def _pg_start(stack):
    pg = stack.pg
    opts = ("-p %d -k %s -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off" % (pg.port, pg.dir))
    pg._run("pg_ctl", "-D", pg.data, "-l", pg.log, "-o", opts, "-w", "-t", "60", "start")


def _spooled_emergency(stack, accounts, text):
    """_spooled_emergency - ask an emergency with PostgreSQL down: answered,
    its alert queued and kept in the spool; PostgreSQL started again; its
    trace id."""
    _pg_stop(stack)
    try:
        # The desk is down as a whole, and still ready for work: a balancer
        # keeps sending the emergencies it answers without PostgreSQL.
        harness.wait_for(lambda: stack.health().status == 503, 10, interval=0.2,
                         what="/api/health down without PostgreSQL")
        r = stack.http("GET", "/api/health/ready")
        assert r.status == 200 and r.json == {"status": "ready"}, r
        a = stack.query(accounts["kiosk"].token, text)
        assert a.status == 200, a
        acts = {x["type"]: x["status"] for x in a.json["actions"]}
        assert acts.get("alert_oncall") == "queued", a.json
        assert all(s != "failed" for s in acts.values()), a.json
        assert _spooled(stack), "nothing in the spool"
    finally:
        _pg_start(stack)
    return a.json["trace_id"]


def _spooled(stack):
    spool = os.path.join(stack.run_dir, "spool")
    return [f for f in os.listdir(spool) if f.endswith(".json")]


def _written_once(stack, tid, what):
    """_written_once - the spooled alert and urgent ticket are in PostgreSQL,
    once each, and the spool is empty; the alert's id."""
    harness.wait_for(lambda: sql(stack, "SELECT count(*) FROM actions WHERE trace_id = :'v1' "
                                        "AND type = 'alert_oncall'", tid) == [["1"]], 30,
                     what=what)
    harness.wait_for(lambda: not _spooled(stack), 10, what="the spool to empty")
    assert sql(stack, "SELECT count(*) FROM tickets WHERE trace_id = :'v1' AND priority = 'urgent'",
               tid) == [["1"]]
    return int(sql(stack, "SELECT id FROM actions WHERE trace_id = :'v1' AND type = "
                          "'alert_oncall'", tid)[0][0])


def test_emergency_with_postgres_down_is_spooled_and_written_once(stack, accounts, executor):
    tid = _spooled_emergency(stack, accounts, "there is a fire in the lobby")
    aid = _written_once(stack, tid, "the spooled alert to be written")
    # Written once, and then run: the alert pages like any other.
    wait_status(stack, aid, "done", timeout=30)
    _fresh_daemons(stack)


def test_a_worker_started_while_postgres_is_down_waits_for_it(stack):
    """A worker started before PostgreSQL answers (a fresh deployment, both
    restarted) waits for it (CLUBOS_START_WAIT_S) instead of exiting, then
    starts and is counted; a TERM during the wait stops it at once; with no
    wait configured it fails at once, as before."""
    def tech_workers():
        w = harness.find_route_workers(stack.health().json) or {}
        return w.get("tech", 0)
    before = tech_workers()
    waiting = "knowledge: PostgreSQL: not there yet; waiting for it (up to"
    _pg_stop(stack)
    try:
        late = stack.spawn_extra("assistant-tech-late", ["clubos-assistant", "-d", "--route",
                                                         "tech"])
        termed = stack.spawn_extra("assistant-tech-termed", ["clubos-assistant", "-d",
                                                             "--route", "tech"])
        hasty = stack.spawn_extra("assistant-tech-hasty", ["clubos-assistant", "-d", "--route",
                                                           "tech"], CLUBOS_START_WAIT_S=0)
        for p in (late, termed):
            harness.wait_for(lambda: waiting in open(p.log).read(), 30, interval=0.2,
                             what="%s waiting for PostgreSQL" % p.name)
        assert hasty.p.wait(30) == 1
        assert waiting not in open(hasty.log).read()
        termed.p.send_signal(signal.SIGTERM)
        assert termed.p.wait(10) == 1          # start failed: told to stop while waiting
        assert "while waiting: stopping" in open(termed.log).read()
        assert late.alive()
    finally:
        _pg_start(stack)
    harness.wait_for(lambda: "started (env test)" in open(late.log).read(), 60, interval=0.2,
                     what="the late worker started")
    harness.wait_for(lambda: tech_workers() == before + 1, 30, interval=0.2,
                     what="the late worker counted")
    assert late.stop() == 0
    _fresh_daemons(stack)


def test_a_spool_is_written_by_the_daemon_that_kept_it(stack, accounts, executor):
    """Containers share no disk: with no executor beside it, the daemon that
    spooled an emergency's alert and ticket writes them itself once
    PostgreSQL is back (ops_spool_keeper_start); the executor, started
    later, runs the alert."""
    executor.stop()
    try:
        tid = _spooled_emergency(stack, accounts, "someone collapsed in bay 2 and isn't breathing")
        aid = _written_once(stack, tid, "the spooled alert written with no executor running")
    finally:
        executor.start()
    wait_status(stack, aid, "done", timeout=30)
    _fresh_daemons(stack)


# ------------------------------------------------------------------ Slack

@pytest.fixture(scope="module")
def slack_gw(stack):
    """slack_gw - a second gateway that has SLACK_SIGNING_SECRET."""
    port = harness.free_port()
    p = stack.spawn_extra("gateway-slack", ["clubos-gateway", "-d"], CLUBOS_HTTP_PORT=port,
                          SLACK_SIGNING_SECRET=SLACK_SECRET)
    harness.wait_listening(p, port, 20)
    yield port
    p.stop()


def slack_post(port, body, content_type, ts=None, secret=SLACK_SECRET, sig=None):
    ts = str(int(time.time())) if ts is None else str(ts)
    raw = body if isinstance(body, bytes) else body.encode()
    mac = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return harness.request(port, "POST", "/api/webhooks/slack", raw=raw, headers={
        "Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sig or ("v0=" + mac)})


def button(port, action_id, aid, ts, user="sam"):
    payload = {"type": "block_actions", "user": {"id": "U1", "name": user},
               "message": {"ts": ts}, "actions": [{"action_id": action_id, "value": str(aid)}]}
    return slack_post(port, "payload=" + urllib.parse.quote(json.dumps(payload)),
                      "application/x-www-form-urlencoded")


def test_slack_url_verification_and_forgeries(stack, slack_gw):
    r = slack_post(slack_gw, json.dumps({"type": "url_verification", "challenge": "abc123"}),
                   "application/json")
    assert r.status == 200 and r.json == {"challenge": "abc123"}, r
    body = json.dumps({"type": "url_verification", "challenge": "x"})
    harness.assert_error(slack_post(slack_gw, body, "application/json", secret="wrong"), 401,
                         "bad_signature")
    harness.assert_error(slack_post(slack_gw, body, "application/json",
                                    ts=int(time.time()) - 400), 401, "bad_signature")
    harness.assert_error(slack_post(slack_gw, body, "application/json", sig="v0=" + "0" * 64), 401)
    harness.assert_error(slack_post(slack_gw, body, "application/json", sig="garbage"), 401)
    harness.assert_error(harness.request(slack_gw, "POST", "/api/webhooks/slack", raw=body.encode()),
                         401)
    harness.assert_error(slack_post(slack_gw, "{not json", "application/json"), 400)
    harness.assert_error(slack_post(slack_gw, "payload=%7Bnope", "application/x-www-form-urlencoded"),
                         400)
    # The stack's own gateway has no secret: never fails open.
    harness.assert_error(harness.request(stack.port, "POST", "/api/webhooks/slack", raw=body.encode()),
                         503)


def test_acknowledge_take_over_and_thread_reply_reach_the_customer(stack, slack_gw, executor,
                                                                   fakes):
    conv = conversation(stack)
    aid = add_action(stack, "alert_oncall", "queued", conv=conv)
    wait_status(stack, aid, "done")
    ts = sql(stack, "SELECT provider_ref FROM actions WHERE id = :'v1'", str(aid))[0][0]
    assert ts, "no Slack ts recorded"
    assert any("paging the on-call manager now" in m for m in outbox(stack, conv))
    for _ in range(2):   # a second click says nothing new
        r = button(slack_gw, "ack", aid, ts)
        assert r.status == 200, r
    seen = [m for m in outbox(stack, conv) if "has seen this" in m]
    assert seen == ["bot: Sam from the team has seen this."], outbox(stack, conv)
    assert sql(stack, "SELECT acked_by, next_page_at IS NULL FROM actions WHERE id = :'v1'",
               str(aid)) == [["Sam", "t"]]
    r = button(slack_gw, "take_over", aid, ts, user="alex")
    assert r.status == 200
    assert sql(stack, "SELECT status FROM conversations WHERE id = :'v1'", str(conv)) == [["human"]]
    ev = {"type": "event_callback", "event_id": "Ev" + uuid.uuid4().hex,
          "event": {"type": "message", "user": "U1", "text": "On my way, 5 min",
                    "ts": "999.1", "thread_ts": ts}}
    for _ in range(2):   # Slack delivers an event again when it thinks we missed it
        r = slack_post(slack_gw, json.dumps(ev), "application/json")
        assert r.status == 200, r
    assert outbox(stack, conv).count("staff: On my way, 5 min") == 1, outbox(stack, conv)
    # The bot's own messages and unrelated threads change nothing.
    n = len(outbox(stack, conv))
    for e in ({"type": "message", "bot_id": "B1", "text": "x", "ts": "1.2", "thread_ts": ts},
              {"type": "message", "user": "U1", "text": "x", "ts": "1.3", "thread_ts": "123.456"}):
        r = slack_post(slack_gw, json.dumps({"type": "event_callback", "event": e}),
                       "application/json")
        assert r.status == 200, r
    assert len(outbox(stack, conv)) == n


def test_unacknowledged_alert_climbs_the_ladder(stack, executor, fakes):
    executor.stop()
    executor.start(CLUBOS_ESCALATION_ACK_SECONDS="1", CLUBOS_ESCALATION_CONTACTS="+15550001111")
    try:
        aid = add_action(stack, "alert_oncall", "queued")
        wait_status(stack, aid, "done")
        harness.wait_for(lambda: len(fakes.calls("openphone")) >= 3, 20,
                         what="the on-call paged again, then the next contact")
        to = [c["json"]["to"][0] for c in fakes.calls("openphone")]
        assert to[:3] == ["+19025550911", "+19025550911", "+15550001111"], to
        # The ladder ends with the last contact.
        harness.wait_for(lambda: sql(stack, "SELECT page_step, next_page_at IS NULL FROM actions "
                                            "WHERE id = :'v1'", str(aid)) == [["2", "t"]], 10,
                         what="the ladder to end")
        assert len(fakes.calls("openphone")) == 3
    finally:
        executor.stop()
        executor.start()


def test_door_unlock_approved_from_slack(stack, slack_gw, executor, fakes):
    aid = add_action(stack, "unlock_door_request", "pending_approval", location="riverside")
    post = harness.wait_for(lambda: [c for c in fakes.calls("slack")
                                     if "Approval needed" in c["json"]["text"]], 15,
                            what="the approval request in Slack")[0]["json"]
    ids = [e["action_id"] for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ids == ["approve", "cancel"], post
    assert action(stack, aid)["status"] == "pending_approval"
    assert not fakes.calls("unifi")
    r = button(slack_gw, "approve", aid, "1.1", user="jo")
    assert r.status == 200, r
    wait_status(stack, aid, "done")
    assert fakes.calls("unifi")[0]["args"] == ("c41e9d02-8a7b-4f55-b3c6-61d2e7f0a822", "unlock")
    assert sql(stack, "SELECT detail->>'approved_by' FROM actions WHERE id = :'v1'",
               str(aid)) == [["slack:Jo"]]
    # A second press (or a replay) changes nothing.
    assert button(slack_gw, "approve", aid, "1.1").status == 200
    assert len(fakes.calls("unifi")) == 1


def test_postgres_restarted_under_load_loses_and_doubles_nothing(stack, executor, fakes):
    fakes.delay("slack", 0.2, n=1000)     # calls in flight while PostgreSQL goes away
    ids = [add_action(stack, "notify_team", "queued", bay=None) for _ in range(12)]
    harness.wait_for(lambda: len(fakes.calls("slack")) >= 3, 20, what="some calls made")
    _pg_stop(stack)
    _pg_start(stack)
    more = [add_action(stack, "notify_team", "queued") for _ in range(4)]
    for aid in ids + more:
        wait_status(stack, aid, "done", timeout=60)
    traces = dict(sql(stack, "SELECT trace_id, id FROM actions WHERE id = ANY(:'v1'::bigint[])",
                      "{%s}" % ",".join(str(i) for i in ids + more)))
    posts = {}
    for c in fakes.calls("slack"):
        for t in traces:
            if t in c["json"]["text"]:
                posts[t] = posts.get(t, 0) + 1
    assert posts == {t: 1 for t in traces}, posts
    _fresh_daemons(stack)


def test_emergency_with_no_paging_configured_fails_visibly_on_its_ticket(stack, accounts,
                                                                         executor, fakes):
    executor.stop()
    executor.start(SLACK_BOT_TOKEN=None, OPENPHONE_API_KEY=None)
    try:
        # /api/health shares what it learns for a second: wait for the new state.
        for name in ("slack", "openphone"):
            harness.wait_for(lambda: health_component(stack, name) == "off", 5,
                             what="%s off in /api/health" % name)
        a = harness.assert_answer(stack.query(accounts["customer"].token,
                                              "there is water pouring through the ceiling"))
        aid = int(sql(stack, "SELECT id FROM actions WHERE trace_id = :'v1' AND "
                             "type = 'alert_oncall'", a["trace_id"])[0][0])
        st = wait_status(stack, aid, "failed")
        assert "SLACK_BOT_TOKEN" in st["last_error"] and "OPENPHONE_API_KEY" in st["last_error"], st
        assert st["attempts"] == 0 and not fakes.calls()
        # No second ticket: the failure is a note on the emergency's own ticket.
        rows = sql(stack, "SELECT id, notes::text FROM tickets WHERE trace_id = :'v1'", a["trace_id"])
        assert len(rows) == 1 and int(rows[0][0]) == st["ticket_id"], rows
        assert "not configured" in rows[0][1], rows
    finally:
        executor.stop()
        executor.start()
