"""
test_api.py - health, login, user management and HTTP framing
"""

import json
import socket
import uuid

import harness


def test_health_ok(stack):
    r = stack.health()
    assert r.status == 200, r
    assert r.trace_id, "no X-Trace-Id on %r" % (r,)
    assert r.json["status"] == "ok", r
    comps = r.json.get("components")
    assert isinstance(comps, dict), r
    for name in ("postgres", "redis", "router"):
        assert name in comps, "health lacks component %r: %r" % (name, r)
    workers = harness.find_route_workers(r.json)
    assert workers is not None, "health has no per-route worker counts: %r" % (r,)
    for route in harness.ROUTES:
        assert workers[route] >= 1, "no %s worker in health: %r" % (route, r)


def test_login_ok(stack):
    r = stack.http("POST", "/api/auth/login",
                   body={"email": harness.ADMIN_EMAIL, "password": harness.ADMIN_PASSWORD})
    assert r.status == 200, r
    assert r.trace_id, r
    assert isinstance(r.json.get("token"), str) and r.json["token"].count(".") == 2, r
    assert r.json.get("role") == "admin", r
    assert r.json.get("expires_at"), r
    claims = harness.jwt_claims(r.json["token"])
    assert claims.get("role") == "admin" and claims.get("sub"), claims


def test_login_wrong_password_and_unknown_email_look_the_same(stack):
    wrong = stack.http("POST", "/api/auth/login",
                       body={"email": harness.ADMIN_EMAIL, "password": "not-the-password"})
    unknown = stack.http("POST", "/api/auth/login",
                         body={"email": "nobody-%s@e2e.clubos.test" % uuid.uuid4().hex[:8],
                               "password": "not-the-password"})
    e1 = harness.assert_error(wrong, 401)
    e2 = harness.assert_error(unknown, 401)
    assert (e1["code"], e1["message"]) == (e2["code"], e2["message"]), \
        "login errors differ (user enumeration): %r vs %r" % (e1, e2)


def test_admin_creates_user_who_can_log_in(stack, accounts):
    email = "made-%s@e2e.clubos.test" % uuid.uuid4().hex[:8]
    r = stack.http("POST", "/api/users", token=accounts["admin"].token,
                   body={"email": email, "password": "pw-" + uuid.uuid4().hex,
                         "role": "support", "name": "Made By Test"})
    assert r.status in (200, 201), r
    assert r.json.get("id") is not None, r
    assert "password" not in r.json and "password_hash" not in r.json, "user echo leaks the password: %r" % r


def test_non_admin_cannot_create_users(stack, accounts):
    for role in ("operator", "support", "kiosk", "customer"):
        r = stack.http("POST", "/api/users", token=accounts[role].token,
                       body={"email": "x-%s@e2e.clubos.test" % uuid.uuid4().hex[:8],
                             "password": "pw-" + uuid.uuid4().hex, "role": "admin"})
        harness.assert_error(r, 403)


def test_create_user_without_token_is_401(stack):
    r = stack.http("POST", "/api/users",
                   body={"email": "x-%s@e2e.clubos.test" % uuid.uuid4().hex[:8],
                         "password": "pw-" + uuid.uuid4().hex, "role": "operator"})
    harness.assert_error(r, 401)


def test_duplicate_email_is_409(stack, accounts):
    r = stack.http("POST", "/api/users", token=accounts["admin"].token,
                   body={"email": accounts["operator"].email, "password": "pw-" + uuid.uuid4().hex,
                         "role": "operator"})
    harness.assert_error(r, 409)


def test_bad_role_is_400(stack, accounts):
    r = stack.http("POST", "/api/users", token=accounts["admin"].token,
                   body={"email": "x-%s@e2e.clubos.test" % uuid.uuid4().hex[:8],
                         "password": "pw-" + uuid.uuid4().hex, "role": "superuser"})
    harness.assert_error(r, 400)


# ------------------------------------------------------------ HTTP framing

def _split_request(stack, token, message, expect_continue=False):
    """_split_request - headers first; the body only once the gateway has read them."""
    body = json.dumps({"message": message}, ensure_ascii=False).encode()
    extra = ["Expect: 100-continue"] if expect_continue else []
    s = socket.create_connection(("127.0.0.1", stack.port), timeout=15)
    try:
        s.sendall(harness.raw_head(stack.port, "POST", "/api/query", token, len(body), extra))
        if expect_continue:
            interim = harness.read_response(s, 10, final=False)
            assert interim.status == 100, "expected 100 Continue, got %r" % (interim,)
        else:
            harness.wait_read_by_server(stack.port)
        s.sendall(body)
        return harness.read_response(s, 15)
    finally:
        s.close()


def test_body_arriving_after_the_headers(stack, accounts):
    """Clients (and proxies) often send the head and the body in separate segments."""
    for i in range(25):
        for message in ("are you open on christmas", "\u26f3" * 2000):
            r = _split_request(stack, accounts["customer"].token, message)
            harness.assert_answer(r)


def test_expect_100_continue(stack, accounts):
    for i in range(15):
        r = _split_request(stack, accounts["customer"].token, "how do I book a bay", expect_continue=True)
        harness.assert_answer(r, route="booking", slug="booking.make")
