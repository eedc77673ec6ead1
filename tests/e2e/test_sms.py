"""
test_sms.py - the SMS front door: OpenPhone's webhook, clubos-conversations, the outbox

Against fake_providers.py's OpenPhone (POST /v1/messages, real error shapes).
This module runs a second gateway that has OPENPHONE_WEBHOOK_SECRET, stops
the stack's clubos-conversations and runs one pointed at the fakes instead
(the plain one is put back at the end), and restores the reply settings it
changes.  Every texter gets a number of its own, so conversations never mix.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import time
import uuid

import pytest

import harness
from fake_providers import Fakes, OPENPHONE_KEY

SECRET_KEY = os.urandom(32)
SECRET = "whsec_" + base64.b64encode(SECRET_KEY).decode()
VENUE = "+19025550100"
CONV_ENV = {
    "CLUBOS_SMS_BACKOFF_MS": "100",
    "CLUBOS_SMS_MAX_ATTEMPTS": "4",
    "CLUBOS_ACTIONS_TIMEOUT_MS": "2000",
    "CLUBOS_SMS_PER_MINUTE": "100",
    "CLUBOS_TEAM_HOURS": "0-24",
    "OPENPHONE_NUMBER": VENUE,
}
_seq = [int(time.time()) % 10000]


@pytest.fixture(scope="module")
def fakes():
    f = Fakes()
    yield f
    f.stop()


class Conversations:
    """Conversations - the clubos-conversations under test, restartable."""

    def __init__(self, stack, fakes):
        self.stack, self.fakes, self.proc = stack, fakes, None

    def start(self, **over):
        env = dict(CONV_ENV)
        env.update({"OPENPHONE_BASE_URL": self.fakes.url("openphone"),
                    "OPENPHONE_API_KEY": OPENPHONE_KEY})
        env.update(over)
        self.proc = self.stack.spawn_extra("conversations-fake", ["clubos-conversations", "-d"],
                                           **env)
        harness.wait_for(lambda: "conversations: outbox" in open(self.proc.log).read(), 15,
                         what="clubos-conversations to start")
        return self.proc

    def stop(self):
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def kill9(self):
        self.proc.kill9()
        self.proc = None


@pytest.fixture(scope="module")
def conv(stack, fakes, accounts):
    stack.procs["conversations"].stop()
    c = Conversations(stack, fakes)
    c.start()
    yield c
    c.stop()
    set_settings(stack, accounts, sms_reply_mode="auto", sms_rollout_percent=100,
                 sop_confidence_threshold=0.4)
    stack.procs["conversations"] = stack.spawn("conversations", ["clubos-conversations", "-d"])


@pytest.fixture(scope="module")
def gw(stack):
    """gw - a second gateway that has OPENPHONE_WEBHOOK_SECRET."""
    port = harness.free_port()
    p = stack.spawn_extra("gateway-sms", ["clubos-gateway", "-d"], CLUBOS_HTTP_PORT=port,
                          OPENPHONE_WEBHOOK_SECRET=SECRET)
    harness.wait_listening(p, port, 20)
    yield port
    p.stop()


@pytest.fixture(autouse=True)
def _clean(fakes, stack, accounts):
    fakes.reset()
    yield
    fakes.reset()


# ----------------------------------------------------------------- helpers

def sql(stack, q, *args):
    return stack.pg.sql(q, *args)


def new_phone():
    _seq[0] += 1
    return "+1782555%04d" % (_seq[0] % 10000)


def set_settings(stack, accounts, **kw):
    harness.set_settings(stack, accounts["admin"].token, **kw)


def sign_standard(raw, ts=None, msg_id=None, key=SECRET_KEY):
    ts = str(int(time.time())) if ts is None else str(ts)
    msg_id = msg_id or "msg_" + uuid.uuid4().hex
    mac = hmac.new(key, msg_id.encode() + b"." + ts.encode() + b"." + raw, hashlib.sha256).digest()
    return {"webhook-id": msg_id, "webhook-timestamp": ts,
            "webhook-signature": "v1," + base64.b64encode(mac).decode()}


def sign_legacy(raw, ts_ms=None, key=SECRET_KEY):
    ts = str(int(time.time() * 1000)) if ts_ms is None else str(ts_ms)
    mac = hmac.new(key, ts.encode() + b"." + raw, hashlib.sha256).digest()
    return {"openphone-signature": "hmac;1;%s;%s" % (ts, base64.b64encode(mac).decode())}


def text_event(phone, text, msg_id=None, event_id=None, direction="incoming", to=VENUE):
    return {"id": event_id or "EV" + uuid.uuid4().hex, "object": "event", "apiVersion": "v3",
            "createdAt": "2026-12-03T07:00:00.000Z", "type": "message.received",
            "data": {"object": {"id": msg_id or "AC" + uuid.uuid4().hex, "object": "message",
                                "from": phone if direction == "incoming" else to,
                                "to": [to if direction == "incoming" else phone],
                                "direction": direction, "text": text, "status": "received",
                                "createdAt": "2026-12-03T07:00:00.000Z"}}}


def post(port, ev, scheme="standard", headers=None, raw=None):
    raw = raw if raw is not None else json.dumps(ev).encode()
    h = sign_standard(raw) if scheme == "standard" else sign_legacy(raw) if scheme == "legacy" \
        else {}
    h.update(headers or {})
    return harness.request(port, "POST", "/api/webhooks/openphone", raw=raw, headers=h)


def send_text(port, phone, text, **kw):
    ev = text_event(phone, text, **kw)
    r = post(port, ev)
    assert r.status == 200, r
    return ev


def conversation_of(stack, phone):
    rows = sql(stack, "SELECT id FROM conversations WHERE phone = :'v1' ORDER BY id DESC LIMIT 1",
               phone)
    return int(rows[0][0]) if rows else None


def sql_json(stack, q, *args):
    """sql_json - a query whose one value is JSON text (safe for any text inside)."""
    rows = sql(stack, q, *args)
    return json.loads("|".join(rows[0])) if rows else None


def messages(stack, phone):
    """messages - every message of the number's conversations: (direction, author, text, delivery)."""
    rows = sql_json(stack, "SELECT COALESCE(json_agg(json_build_array(m.direction, m.author, "
                           "m.text, m.delivery) ORDER BY m.id), '[]') FROM messages m JOIN "
                           "conversations c ON c.id = m.conversation_id WHERE c.phone = :'v1'",
                    phone)
    return [tuple(r) for r in rows]


def unsplit(calls):
    """unsplit - the text a run of numbered parts carried."""
    if len(calls) == 1:
        return calls[0]["json"]["content"]
    return " ".join(c["json"]["content"].rsplit(" (", 1)[0] for c in calls)


def outgoing(stack, phone):
    return [m for m in messages(stack, phone) if m[0] == "out"]


def wait_out(stack, phone, n=1, delivery=None, timeout=20):
    def ok():
        out = outgoing(stack, phone)
        if len(out) >= n and (delivery is None or all(m[3] == delivery for m in out[:n])):
            return out
        return False
    return harness.wait_for(ok, timeout, interval=0.1,
                            what="%d outgoing message(s) %s for %s (now %r)" % (
                                n, delivery or "", phone, outgoing(stack, phone)))


def sms_to(fakes, phone):
    return [c for c in fakes.calls("openphone") if (c["json"] or {}).get("to") == [phone]]


def texts_sent(fakes, phone):
    """texts_sent - the texts that reached the number (a numbered run counts once)."""
    return [c for c in sms_to(fakes, phone)
            if not re.search(r" \((\d+)/\d+\)$", c["json"]["content"])
            or re.search(r" \(1/\d+\)$", c["json"]["content"])]


def staff_text(stack, accounts, phone, text):
    """staff_text - a staff reply (a text we know) to the number, its conversation made if need be."""
    cid = conversation_of(stack, phone)
    if cid is None:
        cid = int(sql(stack, "INSERT INTO conversations (channel, phone) VALUES ('sms', :'v1') "
                             "RETURNING id", phone)[0][0])
    r = stack.http("POST", "/api/conversations/%d/messages" % cid, body={"text": text},
                   token=staff(accounts))
    assert r.status == 201, r
    return r.json


def event_processed(stack, event_id):
    r = sql(stack, "SELECT processed_at IS NOT NULL FROM webhook_events WHERE event_id = :'v1'",
            event_id)
    return r == [["t"]]


def wait_processed(stack, ev, timeout=20):
    harness.wait_for(lambda: event_processed(stack, ev["id"]), timeout, interval=0.05,
                     what="event %s processed" % ev["id"])


def staff(accounts):
    return accounts["operator"].token


# ------------------------------------------------------------ signatures

def test_signatures_both_schemes_and_forgeries(stack, gw, conv):
    phone = new_phone()
    for scheme in ("standard", "legacy"):
        ev = text_event(phone, "hello from " + scheme)
        r = post(gw, ev, scheme)
        assert r.status == 200 and r.json["stored"] is True, r
        assert sql(stack, "SELECT count(*) FROM webhook_events WHERE event_id = :'v1'",
                   ev["id"]) == [["1"]]
    now = int(time.time())
    bad = {
        "wrong key": lambda raw: sign_standard(raw, key=os.urandom(32)),
        "stale": lambda raw: sign_standard(raw, ts=now - 400),
        "future": lambda raw: sign_standard(raw, ts=now + 400),
        "stale legacy": lambda raw: sign_legacy(raw, ts_ms=(now - 400) * 1000),
        "future legacy": lambda raw: sign_legacy(raw, ts_ms=(now + 400) * 1000),
        "legacy wrong key": lambda raw: sign_legacy(raw, key=b"another key"),
        "unsigned": lambda raw: {},
        "malformed standard": lambda raw: {"webhook-id": "x", "webhook-timestamp": "soon",
                                           "webhook-signature": "v1,???"},
        "malformed legacy": lambda raw: {"openphone-signature": "hmac;1;abc"},
        "truncated signature": lambda raw: dict(sign_standard(raw), **{
            "webhook-signature": sign_standard(raw)["webhook-signature"][:20]}),
    }
    for name, signer in bad.items():
        ev = text_event(phone, "forged " + name)
        raw = json.dumps(ev).encode()
        r = harness.request(gw, "POST", "/api/webhooks/openphone", raw=raw, headers=signer(raw))
        harness.assert_error(r, 401, "bad_signature")
        assert sql(stack, "SELECT count(*) FROM webhook_events WHERE event_id = :'v1'",
                   ev["id"]) == [["0"]], name
    # A signature over another body (the body changed in transit).
    ev = text_event(phone, "original")
    raw = json.dumps(ev).encode()
    h = sign_standard(raw)
    r = harness.request(gw, "POST", "/api/webhooks/openphone", raw=raw.replace(b"original",
                                                                              b"tampered"),
                        headers=h)
    harness.assert_error(r, 401, "bad_signature")
    # No secret configured: 503, never open.
    r = post(stack.port, text_event(phone, "x"))
    harness.assert_error(r, 503, "not_configured")


def test_malformed_and_oversized_bodies(stack, gw, conv):
    for raw in (b"{not json", b"[]", b'{"type": "message.received"}', b'{"id": "EV1"}',
                b'{"id": 5, "type": "message.received"}',
                json.dumps({"id": "E" * 200, "type": "x"}).encode()):
        r = post(gw, None, raw=raw)
        assert r.status == 400, (raw, r)
        assert r.json["error"]["code"], r
    r = post(gw, None, raw=b'{"id": "EV\xff", "type": "x"}')
    harness.assert_error(r, 400)
    big = json.dumps({"id": "EVbig", "type": "message.received", "pad": "x" * 70000}).encode()
    harness.assert_error(post(gw, None, raw=big), 413)
    # Signed, well-formed, but nonsense inside: stored, set aside, no crash, no reply.
    ev = {"id": "EV" + uuid.uuid4().hex, "type": "message.received",
          "data": {"object": {"id": 12, "from": ["x"], "text": {"a": 1}}}}
    assert post(gw, ev).status == 200
    wait_processed(stack, ev)
    ev = {"id": "EV" + uuid.uuid4().hex, "type": "call.transcript.completed", "data": "x"}
    assert post(gw, ev).status == 200
    wait_processed(stack, ev)
    assert conv.proc.alive()


def test_a_truncated_body_is_never_stored(stack, gw, conv):
    import socket
    ev = text_event(new_phone(), "cut off")
    raw = json.dumps(ev).encode()
    extra = ["%s: %s" % kv for kv in sign_standard(raw).items()]
    s = socket.create_connection(("127.0.0.1", gw), timeout=5)
    s.sendall(harness.raw_head(gw, "POST", "/api/webhooks/openphone",
                               content_length=len(raw), extra=extra) + raw[:len(raw) // 2])
    s.close()                                       # the client went away mid-body
    time.sleep(0.3)
    assert sql(stack, "SELECT count(*) FROM webhook_events WHERE event_id = :'v1'",
               ev["id"]) == [["0"]]
    assert post(gw, ev).status == 200               # the whole event, later: stored


# ------------------------------------------------------------- the flow

def test_two_texts_at_once_are_answered_in_order(stack, gw, conv, fakes):
    phone = new_phone()
    first = text_event(phone, "where do I park at riverside?")
    second = text_event(phone, "what are your hours?")
    import threading
    t = threading.Thread(target=lambda: post(gw, first))
    t.start()
    assert post(gw, second).status == 200
    t.join()
    wait_out(stack, phone, 2, "sent", timeout=30)
    rows = sql_json(stack, "SELECT json_agg(json_build_array(t.message, m.text) ORDER BY m.id) "
                           "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                           "JOIN traces t ON t.trace_id = m.trace_id WHERE c.phone = :'v1' AND "
                           "m.direction = 'out'", phone)
    stored = sql(stack, "SELECT event_id FROM webhook_events WHERE event_id IN (:'v1', :'v2') "
                        "ORDER BY id", first["id"], second["id"])
    asked = [{first["id"]: first, second["id"]: second}[e[0]]["data"]["object"]["text"]
             for e in stored]
    assert [r[0] for r in rows] == asked, (rows, asked)   # each answered, in arrival order
    # And sent in that order: the texts OpenPhone got follow the replies.
    got = " ".join(" ".join(c["json"]["content"].split()) for c in sms_to(fakes, phone))
    a, b = (" ".join(r[1].split())[:40] for r in rows)
    assert got.index(a) < got.index(b), got


def test_a_question_back_by_text_and_the_answer_picks(stack, gw, conv, fakes, accounts):
    """Two SOPs too close to tell apart: the text asks which one, keeps the
    offer, and "2" answers the first question with the second SOP."""
    admin = accounts["admin"].token
    set_settings(stack, accounts, sop_confidence_threshold=0.7)  # neither reaches it alone
    ids = []
    try:
        phrase, ids = harness.teach_split(stack, admin, ["brand.gift-cards", "brand.promotions"])
        phone = new_phone()
        send_text(gw, phone, phrase)
        out = wait_out(stack, phone, 1, "sent")
        assert "Reply 1 or 2" in out[0][2], out
        offer = sql_json(stack, "SELECT m.offer FROM messages m JOIN conversations c ON "
                                "c.id = m.conversation_id WHERE c.phone = :'v1' AND "
                                "m.direction = 'out'", phone)
        assert sorted(o["slug"] for o in offer) == ["brand.gift-cards", "brand.promotions"]
        assert "1. %s" % offer[0]["title"] in unsplit(sms_to(fakes, phone)), sms_to(fakes, phone)
        send_text(gw, phone, "2")
        wait_out(stack, phone, 2, "sent")
        rows = sql(stack, "SELECT t.sop_slug, t.message FROM messages m JOIN conversations c ON "
                          "c.id = m.conversation_id JOIN traces t ON t.trace_id = m.trace_id "
                          "WHERE c.phone = :'v1' AND m.direction = 'out' ORDER BY m.id", phone)
        assert rows[-1] == [offer[1]["slug"], "2"], rows
    finally:
        set_settings(stack, accounts, sop_confidence_threshold=0.4)
        harness.forget_examples(stack, admin, ids)


def test_auto_reply_reaches_openphone_with_the_right_request(stack, gw, conv, fakes, customers):
    phone = customers[1]["phone"]      # a seeded customer: matched by phone
    # Earlier suites may have left a conversation on this number: a fresh one.
    sql(stack, "UPDATE conversations SET status = 'closed' WHERE phone = :'v1'", phone)
    old = len(outgoing(stack, phone))
    ev = send_text(gw, phone, "where do I park at riverside?")
    out = wait_out(stack, phone, old + 1)[old:]
    harness.wait_for(lambda: outgoing(stack, phone)[old][3] == "sent", 20, what="the reply sent")
    out = outgoing(stack, phone)[old:]
    assert out[-1][1] == "bot" and out[-1][2], out
    calls = sms_to(fakes, phone)
    parts = int(sql(stack, "SELECT parts_sent FROM messages m JOIN conversations c ON c.id = "
                           "m.conversation_id WHERE c.phone = :'v1' AND m.direction = 'out' "
                           "ORDER BY m.id DESC LIMIT 1", phone)[0][0])
    assert len(calls) == parts >= 1, calls
    for c in calls:
        assert c["method"] == "POST" and c["path"] == "/openphone/v1/messages"
        assert c["headers"]["authorization"] == OPENPHONE_KEY
        assert c["headers"]["content-type"].startswith("application/json")
        assert set(c["json"]) == {"content", "from", "to"}, c["json"]
        assert c["json"]["from"] == VENUE and c["json"]["to"] == [phone]
    assert " ".join(unsplit(calls).split()) == " ".join(out[-1][2].split())
    cid = conversation_of(stack, phone)
    row = sql(stack, "SELECT c.customer_id = u.id, c.status FROM conversations c, customers u "
                     "WHERE c.id = :'v1' AND u.phone = :'v2'", str(cid), phone)
    assert row == [["t", "bot"]], row
    # The provider's id is kept for the delivery event.
    assert sql(stack, "SELECT count(*) FROM sms_parts p JOIN messages m ON m.id = p.message_id "
                      "WHERE m.conversation_id = :'v1' AND p.provider_id LIKE 'AC%'",
               str(cid)) == [[str(parts)]]
    assert ev["id"]


def test_replay_is_answered_once_and_a_second_yes_is_new(stack, gw, conv, fakes):
    phone = new_phone()
    ev = text_event(phone, "what are your hours?")
    assert post(gw, ev).status == 200
    r = post(gw, ev)                                  # the provider's redelivery
    assert r.status == 200 and r.json["duplicate"] is True, r
    # The same message under a new event id: filed once.
    ev2 = text_event(phone, "what are your hours?", msg_id=ev["data"]["object"]["id"])
    assert post(gw, ev2).status == 200
    wait_processed(stack, ev2)
    wait_out(stack, phone, 1, "sent")
    time.sleep(0.5)
    assert len(texts_sent(fakes, phone)) == 1
    assert [m for m in messages(stack, phone) if m[0] == "in"] == [
        ("in", "customer", "what are your hours?", "received")]
    # Two identical "yes" texts with their own ids are two messages, two answers.
    for _ in range(2):
        wait_processed(stack, send_text(gw, phone, "yes"))
    wait_out(stack, phone, 3, "sent")
    ins = [m for m in messages(stack, phone) if m[0] == "in"]
    assert [m[2] for m in ins] == ["what are your hours?", "yes", "yes"], ins
    assert "nothing waiting" in outgoing(stack, phone)[1][2], outgoing(stack, phone)


def test_echoes_and_our_own_number_are_never_answered(stack, gw, conv, fakes):
    phone = new_phone()
    ev = text_event(phone, "we sent this", direction="outgoing")
    assert post(gw, ev).status == 200
    ev2 = text_event(VENUE, "loop?")
    assert post(gw, ev2).status == 200
    wait_processed(stack, ev)
    wait_processed(stack, ev2)
    time.sleep(0.3)
    assert messages(stack, phone) == [] and messages(stack, VENUE) == []
    assert sms_to(fakes, phone) == [] and sms_to(fakes, VENUE) == []


def test_provider_429_and_500_are_retried_and_the_text_sent_once(stack, gw, conv, fakes,
                                                                   accounts):
    phone = new_phone()
    fakes.fail("openphone", 429, 1, retry_after=1)
    fakes.fail("openphone", 500, 1)
    staff_text(stack, accounts, phone, "Your bay is ready.")
    wait_out(stack, phone, 1, "sent", timeout=30)
    calls = sms_to(fakes, phone)
    assert len(calls) == 3, calls                # 429, 500, then 202: one text reached
    assert all(c["json"]["content"] == "Your bay is ready." for c in calls)
    assert calls[1]["at"] - calls[0]["at"] >= 0.9, "Retry-After was not honoured"
    att = sql(stack, "SELECT m.attempts, m.last_error FROM messages m JOIN conversations c ON "
                     "c.id = m.conversation_id WHERE c.phone = :'v1' AND m.direction = 'out'",
              phone)
    assert att[0][0] == "3" and "500" in att[0][1], att


def test_provider_timeout_is_retried(stack, gw, conv, fakes, accounts):
    phone = new_phone()
    fakes.delay("openphone", 2.5, 1)             # beyond the 2 s timeout
    staff_text(stack, accounts, phone, "Your bay is ready.")
    wait_out(stack, phone, 1, "sent", timeout=30)
    assert sql(stack, "SELECT m.attempts FROM messages m JOIN conversations c ON c.id = "
                      "m.conversation_id WHERE c.phone = :'v1' AND m.direction = 'out'",
               phone) == [["2"]]


def test_provider_400_fails_without_retry(stack, gw, conv, fakes, accounts):
    phone = new_phone()
    fakes.fail("openphone", 400, 1)
    staff_text(stack, accounts, phone, "Your bay is ready.")
    wait_out(stack, phone, 1, "failed")
    time.sleep(0.5)
    assert len(sms_to(fakes, phone)) == 1
    err = sql(stack, "SELECT m.last_error FROM messages m JOIN conversations c ON c.id = "
                     "m.conversation_id WHERE c.phone = :'v1' AND m.direction = 'out'", phone)
    assert "400" in err[0][0], err


def test_a_number_at_its_rate_cap_waits(stack, gw, conv, fakes, accounts):
    conv.stop()
    conv.start(CLUBOS_SMS_PER_MINUTE="2")
    try:
        phone = new_phone()
        for i in range(3):
            staff_text(stack, accounts, phone, "Update %d." % i)
        wait_out(stack, phone, 2, "sent")
        time.sleep(1.0)
        out = outgoing(stack, phone)
        assert [m[3] for m in out] == ["sent", "sent", "queued"], out
        assert len(sms_to(fakes, phone)) == 2
        # Waiting costs no attempt: it is not a failure.
        assert sql(stack, "SELECT m.attempts, m.next_attempt_at > now() FROM messages m JOIN "
                          "conversations c ON c.id = m.conversation_id WHERE c.phone = :'v1' "
                          "ORDER BY m.id DESC LIMIT 1", phone) == [["0", "t"]]
    finally:
        conv.stop()
        conv.start()


def test_staff_reply_long_text_is_split_and_delivery_events_update_it(stack, gw, conv, fakes,
                                                                       accounts):
    phone = new_phone()
    send_text(gw, phone, "where do I park at riverside?")
    wait_out(stack, phone, 1, "sent")
    cid = conversation_of(stack, phone)
    long_text = " ".join("Your booking for bay %d is moved to the later slot." % (i % 4 + 1)
                         for i in range(14))
    assert len(long_text) > 640
    before = len(sms_to(fakes, phone))
    r = stack.http("POST", "/api/conversations/%d/messages" % cid, body={"text": long_text},
                   token=staff(accounts))
    assert r.status == 201 and r.json["author"] == "staff", r
    harness.wait_for(lambda: outgoing(stack, phone)[-1][3] == "sent", 20,
                     what="the staff reply sent")
    calls = sms_to(fakes, phone)[before:]
    n = len(calls)
    assert n == 3, [c["json"]["content"] for c in calls]
    for i, c in enumerate(calls):
        assert len(c["json"]["content"]) <= 320
        assert c["json"]["content"].endswith("(%d/%d)" % (i + 1, n))
    joined = " ".join(c["json"]["content"].rsplit(" (", 1)[0] for c in calls)
    assert joined == long_text
    # Delivery events, matched by the provider's ids: delivered once all are.
    mid = r.json["id"]
    pids = [x[0] for x in sql(stack, "SELECT provider_id FROM sms_parts WHERE message_id = :'v1' "
                                     "ORDER BY n", str(mid))]
    assert len(pids) == 3
    for i, pid in enumerate(pids):
        ev = {"id": "EV" + uuid.uuid4().hex, "type": "message.delivered",
              "data": {"object": {"id": pid, "object": "message", "status": "delivered",
                                  "direction": "outgoing"}}}
        assert post(gw, ev, "legacy").status == 200
        wait_processed(stack, ev)
        want = "delivered" if i == 2 else "sent"
        assert outgoing(stack, phone)[-1][3] == want
    d = stack.http("GET", "/api/conversations/%d" % cid, token=staff(accounts))
    assert d.status == 200 and d.json["messages"][-1]["delivery"] == "delivered", d


# --------------------------------------------------------- reply modes

def test_reply_modes_shadow_approval_off_and_rollout(stack, gw, conv, fakes, accounts):
    try:
        set_settings(stack, accounts, sms_reply_mode="shadow")
        p1 = new_phone()
        wait_processed(stack, send_text(gw, p1, "where do I park at riverside?"))
        out = wait_out(stack, p1, 1, "shadow")
        assert out[0][2]

        set_settings(stack, accounts, sms_reply_mode="off")
        p2 = new_phone()
        wait_processed(stack, send_text(gw, p2, "where do I park at riverside?"))
        assert outgoing(stack, p2) == [] and len(messages(stack, p2)) == 1

        set_settings(stack, accounts, sms_reply_mode="auto", sms_rollout_percent=0)
        p3 = new_phone()
        wait_processed(stack, send_text(gw, p3, "where do I park at riverside?"))
        assert outgoing(stack, p3) == []

        set_settings(stack, accounts, sms_reply_mode="approval", sms_rollout_percent=100)
        p4 = new_phone()
        wait_processed(stack, send_text(gw, p4, "where do I park at riverside?"))
        wait_out(stack, p4, 1, "draft")
        time.sleep(0.5)
        assert sms_to(fakes, p4) == []
        cid = conversation_of(stack, p4)
        msgs = stack.http("GET", "/api/conversations/%d" % cid, token=staff(accounts)).json
        draft = [m for m in msgs["messages"] if m["delivery"] == "draft"][0]
        base = "/api/conversations/%d/messages/%d" % (cid, draft["id"])
        r = stack.http("POST", base + "/send", body={"text": "Park in the street; free after 6."},
                       token=staff(accounts))
        assert r.status == 200 and r.json["delivery"] in ("queued", "sending", "sent"), r
        wait_out(stack, p4, 1, "sent")
        assert sms_to(fakes, p4)[0]["json"]["content"] == "Park in the street; free after 6."
        harness.assert_error(stack.http("POST", base + "/send", token=staff(accounts)), 409)
        harness.assert_error(stack.http("POST", base + "/discard", token=staff(accounts)), 409)
        # The edit is a correction: feedback on the bot's answer.
        fb = sql(stack, "SELECT f.helpful, f.correct_answer FROM feedback f JOIN messages m ON "
                        "m.trace_id = f.trace_id WHERE m.id = :'v1'", str(draft["id"]))
        assert fb == [["f", "Park in the street; free after 6."]], fb
        # Another draft, discarded: never sent.
        wait_processed(stack, send_text(gw, p4, "what are your hours?"))
        wait_out(stack, p4, 2)
        d2 = [m for m in stack.http("GET", "/api/conversations/%d" % cid,
                                    token=staff(accounts)).json["messages"]
              if m["delivery"] == "draft"][0]
        r = stack.http("POST", "/api/conversations/%d/messages/%d/discard" % (cid, d2["id"]),
                       token=staff(accounts))
        assert r.status == 200 and r.json["delivery"] == "discarded", r
        harness.assert_error(stack.http("POST", "/api/conversations/%d/messages/999999999/send"
                                        % cid, token=staff(accounts)), 404)
        harness.assert_error(stack.http("POST", "/api/conversations/%d/messages/%d/send"
                                        % (cid, d2["id"]), token=accounts["customer"].token), 403)
        time.sleep(0.3)
        assert len(sms_to(fakes, p4)) == 1
    finally:
        set_settings(stack, accounts, sms_reply_mode="auto", sms_rollout_percent=100)


# ----------------------------------------------------------- stepping back

def test_staff_reply_makes_it_human_until_released(stack, gw, conv, fakes, accounts):
    phone = new_phone()
    send_text(gw, phone, "where do I park at riverside?")
    wait_out(stack, phone, 1, "sent")
    cid = conversation_of(stack, phone)
    r = stack.http("POST", "/api/conversations/%d/messages" % cid,
                   body={"text": "Hi, Sam here: use the lot behind the building."},
                   token=staff(accounts))
    assert r.status == 201, r
    lst = stack.http("GET", "/api/conversations?status=human", token=staff(accounts))
    assert lst.status == 200 and cid in [c["id"] for c in lst.json], lst
    wait_out(stack, phone, 2, "sent")
    # The staff answer is evidence for the learning loop.
    fb = sql(stack, "SELECT f.helpful, f.correct_answer FROM feedback f JOIN messages m ON "
                    "m.trace_id = f.trace_id WHERE m.conversation_id = :'v1' AND m.author = 'bot'",
             str(cid))
    assert fb == [["f", "Hi, Sam here: use the lot behind the building."]], fb
    ev = send_text(gw, phone, "thanks, and what are your hours?")
    wait_processed(stack, ev)
    time.sleep(0.3)
    assert len(outgoing(stack, phone)) == 2        # stored, not answered
    c = stack.http("GET", "/api/conversations/%d" % cid, token=staff(accounts)).json
    assert c["status"] == "human" and c["messages"][-1]["text"].startswith("thanks"), c
    r = stack.http("POST", "/api/conversations/%d/release" % cid, token=staff(accounts))
    assert r.status == 200 and r.json["status"] == "bot", r
    send_text(gw, phone, "what are your hours?")
    wait_out(stack, phone, 3, "sent")
    # Errors in the contract's shape.
    harness.assert_error(stack.http("GET", "/api/conversations/999999999", token=staff(accounts)),
                         404)
    harness.assert_error(stack.http("GET", "/api/conversations/abc", token=staff(accounts)), 404)
    harness.assert_error(stack.http("POST", "/api/conversations/%d/messages" % cid,
                                    body={"text": "  "}, token=staff(accounts)), 400)
    harness.assert_error(stack.http("POST", "/api/conversations/%d/messages" % cid,
                                    body={}, token=staff(accounts)), 400)
    harness.assert_error(stack.http("GET", "/api/conversations?status=nope",
                                    token=staff(accounts)), 400)
    harness.assert_error(stack.http("GET", "/api/conversations", token=accounts["kiosk"].token),
                         403)
    harness.assert_error(stack.http("GET", "/api/conversations"), 401)


def test_asking_for_a_person_hands_off_and_notifies(stack, gw, conv, fakes):
    phone = new_phone()
    send_text(gw, phone, "this isn't helping, I want a real person")
    out = wait_out(stack, phone, 1, "sent")
    assert "asked the team" in out[0][2], out
    cid = conversation_of(stack, phone)
    assert sql(stack, "SELECT status FROM conversations WHERE id = :'v1'", str(cid)) == [["human"]]
    # Recorded for the executor (which, with no Slack here, fails it visibly).
    assert sql(stack, "SELECT type FROM actions WHERE conversation_id = :'v1'",
               str(cid)) == [["handoff"]]


def test_asking_for_a_person_in_french_hands_off(stack, gw, conv):
    for text in ("ça m'aide pas, je veux parler à quelqu'un", "une vraie personne svp"):
        phone = new_phone()
        wait_processed(stack, send_text(gw, phone, text))
        cid = conversation_of(stack, phone)
        assert sql(stack, "SELECT status, status_reason FROM conversations WHERE id = :'v1'",
                   str(cid)) == [["human", "the customer asked for a person"]], text
        said = outgoing(stack, phone)
        assert said and said[0][2].startswith("J'ai demandé à l'équipe"), said
        # The executor's follow-up too (Slack is not configured here).
        harness.wait_for(lambda: any(m[2].startswith("Nous n'avons pas pu joindre l'équipe")
                                     for m in outgoing(stack, phone)), 20,
                         what="the hand-off's follow-up in French")


def test_a_text_in_no_language_is_answered_in_the_conversations(stack, gw, conv):
    """"HUMAIN svp" reads in neither language: after a French question the
    hand-off is said in French; as a first text, in English."""
    phone = new_phone()
    wait_processed(stack, send_text(gw, phone, "est-ce que je peux stationner devant la porte?"))
    wait_processed(stack, send_text(gw, phone, "HUMAIN svp"))
    said = [m[2] for m in outgoing(stack, phone)]
    assert any(m.startswith("J'ai demandé à l'équipe") for m in said), said
    phone = new_phone()
    wait_processed(stack, send_text(gw, phone, "HUMAIN svp"))
    said = [m[2] for m in outgoing(stack, phone)]
    assert said[0].startswith("I've asked the team"), said
    assert sql(stack, "SELECT lang FROM conversations WHERE id = :'v1'",
               str(conversation_of(stack, phone))) == [["en"]]


def test_many_bot_replies_in_a_row_hand_off(stack, gw, conv):
    phone = new_phone()
    wait_processed(stack, send_text(gw, phone, "where do I park at riverside?"))
    cid = conversation_of(stack, phone)
    sql(stack, "UPDATE conversations SET bot_streak = 6 WHERE id = :'v1'", str(cid))
    wait_processed(stack, send_text(gw, phone, "where do I park at harbourview?"))
    assert sql(stack, "SELECT status, status_reason FROM conversations WHERE id = :'v1'",
               str(cid)) == [["human", "many bot replies in a row"]]


def test_outside_the_teams_hours_the_hand_off_says_when(stack, gw, conv):
    h = time.localtime().tm_hour
    conv.stop()
    conv.start(CLUBOS_TEAM_HOURS="%d-%d" % ((h + 2) % 24, (h + 3) % 24))
    try:
        phone = new_phone()
        send_text(gw, phone, "I need to talk to a real person")
        out = wait_out(stack, phone, 1)
        assert "Our team answers texts from" in out[0][2] and "911" in out[0][2], out
        phone = new_phone()
        send_text(gw, phone, "je veux parler à une vraie personne")
        out = wait_out(stack, phone, 1)
        assert ("Notre équipe répond aux textos de %d h" % ((h + 2) % 24)) in out[0][2] and \
            "faites le 911" in out[0][2], out
    finally:
        conv.stop()
        conv.start()


def test_the_same_text_three_times_hands_off(stack, gw, conv):
    phone = new_phone()
    for _ in range(3):
        wait_processed(stack, send_text(gw, phone, "hello??"))
    cid = conversation_of(stack, phone)
    assert sql(stack, "SELECT status FROM conversations WHERE id = :'v1'", str(cid)) == [["human"]]
    assert any("asked the team" in m[2] for m in outgoing(stack, phone)), outgoing(stack, phone)


def test_yes_confirms_the_pending_action_of_this_conversation_only(stack, gw, conv, fakes):
    phone, other = new_phone(), new_phone()
    send_text(gw, phone, "hi")
    send_text(gw, other, "hi")
    wait_out(stack, phone, 1)
    wait_out(stack, other, 1)
    cid, oid = conversation_of(stack, phone), conversation_of(stack, other)
    aid = int(sql(stack, "INSERT INTO actions (trace_id, type, status, location, bay, "
                         "conversation_id, expires_at) VALUES (:'v1', 'restart_trackman_request', "
                         "'pending_confirmation', 'harbourview', 2, :'v2', now() + interval "
                         "'10 min') RETURNING id", uuid.uuid4().hex, str(cid))[0][0])
    wait_processed(stack, send_text(gw, other, "yes"))   # another conversation's yes
    assert sql(stack, "SELECT status FROM actions WHERE id = :'v1'", str(aid)) == \
        [["pending_confirmation"]]
    wait_processed(stack, send_text(gw, phone, "Yes!"))
    st = sql(stack, "SELECT status FROM actions WHERE id = :'v1'", str(aid))[0][0]
    assert st in ("queued", "running", "done", "failed"), st    # moved on, once
    said = lambda words: any(words in m[2] for m in outgoing(stack, phone))  # noqa: E731
    harness.wait_for(lambda: said("asked for that now"), 20, what="the yes answered")
    wait_processed(stack, send_text(gw, phone, "yes"))      # nothing left to confirm
    harness.wait_for(lambda: said("nothing waiting"), 20, what="the second yes answered")
    assert sql(stack, "SELECT count(*) FROM actions WHERE conversation_id = :'v1'",
               str(cid)) == [["1"]]
    assert oid != cid


def test_oui_and_non_answer_the_pending_action_in_french(stack, gw, conv):
    phone = new_phone()
    send_text(gw, phone, "bonjour")
    wait_out(stack, phone, 1)
    cid = conversation_of(stack, phone)
    pending = lambda: int(sql(  # noqa: E731
        stack, "INSERT INTO actions (trace_id, type, status, location, bay, conversation_id, "
               "expires_at) VALUES (:'v1', 'restart_trackman_request', 'pending_confirmation', "
               "'harbourview', 2, :'v2', now() + interval '10 min') RETURNING id",
        uuid.uuid4().hex, str(cid))[0][0])
    said = lambda words: any(words in m[2] for m in outgoing(stack, phone))  # noqa: E731
    aid = pending()
    wait_processed(stack, send_text(gw, phone, "Oui svp"))
    st = sql(stack, "SELECT status FROM actions WHERE id = :'v1'", str(aid))[0][0]
    assert st in ("queued", "running", "done", "failed"), st
    harness.wait_for(lambda: said("Merci, c'est demandé."), 20, what="the oui answered")
    aid = pending()
    wait_processed(stack, send_text(gw, phone, "non merci"))
    assert sql(stack, "SELECT status FROM actions WHERE id = :'v1'", str(aid)) == [["cancelled"]]
    harness.wait_for(lambda: said("j'ai annulé cette demande"), 20, what="the non answered")
    wait_processed(stack, send_text(gw, phone, "oui"))      # nothing left to confirm
    harness.wait_for(lambda: said("Rien n'attend de réponse"), 20, what="the last oui answered")


def test_follow_up_is_read_with_the_previous_message(stack, gw, conv):
    phone = new_phone()
    send_text(gw, phone, "the trackman screen is frozen")
    wait_out(stack, phone, 1)
    send_text(gw, phone, "bay 2")
    wait_out(stack, phone, 2)
    routes = sql(stack, "SELECT t.route, t.message FROM traces t JOIN messages m ON m.trace_id = "
                        "t.trace_id JOIN conversations c ON c.id = m.conversation_id WHERE "
                        "c.phone = :'v1' AND m.direction = 'out' ORDER BY m.id", phone)
    assert len(routes) == 2, routes
    assert routes[0][0] == "tech" and routes[1][0] == "tech", routes
    steps = sql(stack, "SELECT s.detail->>'read_as' FROM trace_steps s JOIN messages m ON "
                       "m.trace_id = s.trace_id JOIN conversations c ON c.id = m.conversation_id "
                       "WHERE c.phone = :'v1' AND s.step = 'context'", phone)
    assert steps and steps[0][0] == "the trackman screen is frozen bay 2", steps


def test_emergency_steps_back_and_says_what_was_done(stack, gw, conv):
    phone = new_phone()
    send_text(gw, phone, "there is smoke and a fire in bay 3")
    harness.wait_for(lambda: any("911" in m[2] for m in outgoing(stack, phone)), 20,
                     what="the emergency answer")
    cid = conversation_of(stack, phone)
    assert sql(stack, "SELECT status FROM conversations WHERE id = :'v1'", str(cid)) == [["human"]]
    assert sql(stack, "SELECT count(*) > 0 FROM actions WHERE conversation_id = :'v1' AND type = "
                      "'alert_oncall'", str(cid)) == [["t"]]


def test_emergency_pages_even_with_replies_off_or_a_person_in_charge(stack, gw, conv, fakes,
                                                                      accounts):
    try:
        set_settings(stack, accounts, sms_reply_mode="off")
        phone = new_phone()
        wait_processed(stack, send_text(gw, phone, "there is a fire in the building"))
        cid = conversation_of(stack, phone)
        assert sql(stack, "SELECT count(*) FROM actions WHERE conversation_id = :'v1' AND type = "
                          "'alert_oncall'", str(cid)) == [["1"]]
        # The router's answer is kept, not sent.  (The executor's own
        # follow-up about the page, if any, is a separate message.)
        shadow = [m for m in outgoing(stack, phone) if m[3] == "shadow"]
        assert len(shadow) == 1 and "911" in shadow[0][2], outgoing(stack, phone)
        assert not [c for c in sms_to(fakes, phone) if c["json"]["content"] == shadow[0][2]]
    finally:
        set_settings(stack, accounts, sms_reply_mode="auto")
    phone = new_phone()
    staff_text(stack, accounts, phone, "Hi, this is Sam from the team.")
    wait_processed(stack, send_text(gw, phone, "someone collapsed and is not breathing"))
    cid = conversation_of(stack, phone)
    assert sql(stack, "SELECT count(*) FROM actions WHERE conversation_id = :'v1' AND type = "
                      "'alert_oncall'", str(cid)) == [["1"]]
    assert sql(stack, "SELECT status FROM conversations WHERE id = :'v1'", str(cid)) == [["human"]]


def test_missed_call_is_texted_back_once(stack, gw, conv, fakes):
    phone = new_phone()
    for _ in range(2):
        ev = {"id": "EV" + uuid.uuid4().hex, "type": "call.completed",
              "data": {"object": {"id": "CA" + uuid.uuid4().hex, "object": "call",
                                  "from": phone, "to": VENUE, "direction": "incoming",
                                  "status": "no-answer", "answeredAt": None}}}
        assert post(gw, ev).status == 200
        wait_processed(stack, ev)
    out = wait_out(stack, phone, 1, "sent")
    time.sleep(0.3)
    assert len(outgoing(stack, phone)) == 1 and "missed your call" in out[0][2]
    # An answered call is not a missed one.
    other = new_phone()
    ev = {"id": "EV" + uuid.uuid4().hex, "type": "call.completed",
          "data": {"object": {"id": "CA1", "from": other, "to": VENUE, "direction": "incoming",
                              "status": "completed", "answeredAt": "2026-12-03T07:00:00Z"}}}
    assert post(gw, ev).status == 200
    wait_processed(stack, ev)
    assert messages(stack, other) == []


def test_a_missed_call_from_a_french_texter_is_texted_back_in_french(stack, gw, conv):
    phone = new_phone()
    wait_processed(stack, send_text(gw, phone, "est-ce que je peux stationner devant la porte?"))
    before = len(outgoing(stack, phone))
    ev = {"id": "EV" + uuid.uuid4().hex, "type": "call.missed",
          "data": {"object": {"id": "CA" + uuid.uuid4().hex, "object": "call", "from": phone,
                              "to": VENUE, "direction": "incoming"}}}
    assert post(gw, ev).status == 200
    wait_processed(stack, ev)
    out = wait_out(stack, phone, before + 1, "sent")
    assert out[-1][2].startswith("Désolés d'avoir manqué votre appel"), out


# ------------------------------------------------------- crashes and outages

def test_daemon_killed_mid_send_loses_nothing_and_sends_nothing_twice(stack, gw, conv, fakes,
                                                                       accounts):
    phone, later = new_phone(), new_phone()
    fakes.delay("openphone", 3, 1)
    staff_text(stack, accounts, phone, "Your bay is ready.")
    harness.wait_for(lambda: len(sms_to(fakes, phone)) == 1, 20, what="the send to start")
    conv.kill9()
    # While it is down, a text arrives: stored by the gateway, answered later.
    send_text(gw, later, "what are your hours?")
    conv.start()
    wait_out(stack, later, 1, "sent", timeout=30)
    # The interrupted send is not repeated: failed, outcome unknown, for staff to see.
    harness.wait_for(lambda: outgoing(stack, phone) and outgoing(stack, phone)[0][3] == "failed",
                     30, interval=0.2, what="the interrupted send marked failed")
    err = sql(stack, "SELECT m.last_error FROM messages m JOIN conversations c ON c.id = "
                     "m.conversation_id WHERE c.phone = :'v1' AND m.direction = 'out'", phone)
    assert "outcome unknown" in err[0][0], err
    time.sleep(0.5)
    assert len(sms_to(fakes, phone)) == 1


def test_postgres_down_gets_503_then_the_redelivery_is_answered(stack, gw, conv, fakes):
    phone = new_phone()
    ev = text_event(phone, "where do I park at riverside?")
    pg = stack.pg
    pg._run("pg_ctl", "-D", pg.data, "-m", "fast", "-w", "stop")
    try:
        r = post(gw, ev)
        harness.assert_error(r, 503)
    finally:
        opts = ("-p %d -k %s -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off" % (pg.port, pg.dir))
        pg._run("pg_ctl", "-D", pg.data, "-l", pg.log, "-o", opts, "-w", "-t", "60", "start")
    assert sql(stack, "SELECT count(*) FROM webhook_events WHERE event_id = :'v1'",
               ev["id"]) == [["0"]]
    # OpenPhone delivers it again: now stored and answered, once.
    harness.wait_for(lambda: post(gw, ev).status == 200, 20, interval=0.2,
                     what="the gateway to store the redelivery")
    wait_out(stack, phone, 1, "sent", timeout=30)
    assert len(texts_sent(fakes, phone)) == 1
    # The other daemons' connections broke with the restart: give later tests fresh ones.
    for name, p in list(stack.procs.items()):
        if name == "conversations":
            continue
        argv = [os.path.basename(p.argv[0])] + list(p.argv[1:])
        p.stop()
        stack.procs[name] = stack.spawn(name, argv)
    stack.wait_healthy(stack.port, 60, [p for n, p in stack.procs.items()
                                        if n != "conversations"])


# ----------------------------------------------------------------- web chat

def test_web_chat_conversation_gives_follow_ups_their_context(stack, accounts):
    tok = accounts["customer"].token
    a = stack.query(tok, "the trackman screen is frozen", conversation_id=None)
    assert a.status == 200 and isinstance(a.json.get("conversation_id"), int), a
    cid = a.json["conversation_id"]
    b = stack.query(tok, "bay 2", conversation_id=cid)
    assert b.status == 200 and b.json["conversation_id"] == cid, b
    assert b.json["route"] == "tech", b.json
    harness.wait_for(lambda: sql(stack, "SELECT detail->>'read_as' FROM trace_steps WHERE "
                                        "trace_id = :'v1' AND step = 'context'",
                                 b.json["trace_id"]), 10, what="the context step stored")
    steps = sql(stack, "SELECT detail->>'read_as' FROM trace_steps WHERE trace_id = :'v1' AND "
                       "step = 'context'", b.json["trace_id"])
    assert steps == [["the trackman screen is frozen bay 2"]], steps
    c = stack.http("GET", "/api/conversations/%d" % cid, token=staff(accounts)).json
    assert [m["direction"] for m in c["messages"]] == ["in", "out", "in", "out"], c
    assert c["channel"] == "web"
    lang = lambda: sql(stack, "SELECT lang FROM conversations WHERE id = :'v1'", str(cid))  # noqa
    assert lang() == [["en"]]
    # A French question makes it French (the executor's follow-ups are said
    # in it); a text in neither language leaves it so.
    assert stack.query(tok, "le trackman est encore gelé", conversation_id=cid).status == 200
    assert lang() == [["fr"]]
    assert stack.query(tok, "baie 2", conversation_id=cid).status == 200
    assert lang() == [["fr"]]
    # Another user's conversation, or not an id at all.
    harness.assert_error(stack.query(accounts["customer2"].token, "hi", conversation_id=cid), 404)
    harness.assert_error(stack.query(tok, "hi", conversation_id="7"), 400)
    harness.assert_error(stack.query(tok, "hi", conversation_id=1.5), 400)
    # Without the field, nothing changes: no conversation.
    d = stack.query(tok, "where do I park at riverside?")
    assert d.status == 200 and "conversation_id" not in d.json, d
    # Staff cannot "text" a web chat.
    harness.assert_error(stack.http("POST", "/api/conversations/%d/messages" % cid,
                                    body={"text": "hi"}, token=staff(accounts)), 409, "not_sms")


def test_health_says_when_the_front_door_stalls(stack, gw, conv):
    def component():
        return harness.request(gw, "GET", "/api/health").json["components"].get("conversations")
    assert stack.health().json["components"].get("conversations") == "off"   # not configured
    harness.wait_for(lambda: component() == "ok", 10, what="conversations ok")
    conv.stop()
    try:
        sql(stack, "INSERT INTO webhook_events (event_id, type, payload, received_at) VALUES "
                   "('health-stall', 'message.received', '{}', now() - interval '2 min')")
        harness.wait_for(lambda: component() == "stalled", 10, what="conversations stalled")
        assert stack.http("GET", "/api/health", port=gw).json["status"] != "down"
        sql(stack, "UPDATE webhook_events SET processed_at = now() WHERE event_id = 'health-stall'")
        harness.wait_for(lambda: component() == "ok", 10, what="conversations ok again")
    finally:
        conv.start()


def test_an_event_processed_again_journals_its_actions_once(stack, gw, conv):
    """A crash after the assistants journaled an action but before this
    daemon committed: the event is processed again, and the action (keyed
    by the event's trace id) is not written twice."""
    phone = new_phone()
    ev = send_text(gw, phone, "the trackman in bay 2 is frozen, can you restart it")
    wait_processed(stack, ev)
    cid = conversation_of(stack, phone)
    count = lambda: sql(stack, "SELECT count(*) FROM actions WHERE conversation_id = :'v1'",  # noqa: E731
                        str(cid))[0][0]
    assert count() == "1", sql(stack, "SELECT type, status FROM actions WHERE "
                                      "conversation_id = :'v1'", str(cid))
    # What the rolled-back transaction would have left: the event not
    # processed, neither the text nor the reply filed.
    sql(stack, "DELETE FROM sms_parts WHERE message_id IN (SELECT id FROM messages WHERE "
               "conversation_id = :'v1'); DELETE FROM messages WHERE conversation_id = :'v1'; "
               "UPDATE webhook_events SET processed_at = NULL WHERE event_id = :'v2'; "
               "NOTIFY clubos_webhooks", str(cid), ev["id"])
    wait_processed(stack, ev)
    wait_out(stack, phone, 1)
    assert count() == "1"
