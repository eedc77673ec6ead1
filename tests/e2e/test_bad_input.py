"""
test_bad_input.py - what the gateway does with bad requests and bad tokens

Each case checks the status, the error shape and X-Trace-Id; the last test
checks that the gateway still answers a normal query afterwards.
"""

import json
import socket
import time
import uuid

import pytest

import harness

OK_MESSAGE = "are you open on christmas"


def _raw(stack, token, data, content_type="application/json"):
    return stack.http("POST", "/api/query", raw=data, token=token,
                      headers={"Content-Type": content_type})


# ------------------------------------------------------------------- bodies

BAD_BODIES = [
    ("malformed_json", b'{"message": "hi"'),
    ("not_json_at_all", b"hello there"),
    ("array_not_object", b'[{"message": "hi"}]'),
    ("string_not_object", b'"hi"'),
    ("message_is_number", json.dumps({"message": 5}).encode()),
    ("message_is_null", json.dumps({"message": None}).encode()),
    ("bay_is_string", json.dumps({"message": OK_MESSAGE, "bay": "two"}).encode()),
    ("channel_is_number", json.dumps({"message": OK_MESSAGE, "channel": 3}).encode()),
    ("unknown_channel", json.dumps({"message": OK_MESSAGE, "channel": "fax"}).encode()),
    ("missing_message", json.dumps({"channel": "sms"}).encode()),
    ("empty_message", json.dumps({"message": ""}).encode()),
    ("message_2001_chars", json.dumps({"message": "a" * 2001}).encode()),
    ("message_2001_multibyte_chars", json.dumps({"message": "\u00e9" * 2001}, ensure_ascii=False).encode()),
    ("deep_nesting", b'{"message": "hi", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}"),
    ("deep_nesting_objects", b'{"message": "hi", "x": ' + b'{"a":' * 1000 + b"1" + b"}" * 1000 + b"}"),
    ("invalid_utf8", b'{"message": "caf\xc3 \xff\xfe bay"}'),
    ("unknown_location", json.dumps({"message": OK_MESSAGE, "location": "atlantis"}).encode()),
    ("bay_beyond_location", json.dumps({"message": OK_MESSAGE, "location": "riverside",
                                        "bay": 65}).encode()),
    ("empty_body", b""),
]


@pytest.mark.parametrize("data", [b for _, b in BAD_BODIES], ids=[n for n, _ in BAD_BODIES])
def test_bad_body_is_400(stack, accounts, data):
    harness.assert_error(_raw(stack, accounts["customer"].token, data), 400)


@pytest.mark.parametrize("message", ["a" * 2000, "\u00e9" * 2000, "\u26f3" * 2000],
                         ids=["ascii", "two_byte", "three_byte"])
def test_2000_chars_accepted(stack, accounts, message):
    harness.assert_answer(stack.query(accounts["customer"].token, message))


def test_a_known_location_is_remembered_but_an_unknown_one_never(stack, accounts):
    # The gateway remembers known locations; an unknown slug asked twice is
    # refused twice, and the known one keeps working in between.
    t = accounts["kiosk"].token
    for _ in range(2):
        harness.assert_error(_raw(stack, t, json.dumps({"message": OK_MESSAGE,
                                                        "location": "atlantis"}).encode()), 400,
                             "unknown_location")
        harness.assert_answer(stack.query(t, OK_MESSAGE, location="riverside", bay=2))


def test_unknown_fields_are_ignored(stack, accounts):
    r = stack.query(accounts["customer"].token, OK_MESSAGE, flavour="mint", extra={"a": [1, 2]})
    harness.assert_answer(r, route="general", slug="general.hours")


def test_non_json_content_type_is_415(stack, accounts):
    data = json.dumps({"message": OK_MESSAGE}).encode()
    harness.assert_error(_raw(stack, accounts["customer"].token, data, "text/plain"), 415)
    harness.assert_error(_raw(stack, accounts["customer"].token, data,
                              "application/x-www-form-urlencoded"), 415)


def test_one_mib_body_is_413(stack, accounts):
    """A body over the limit is refused with 413 and a readable answer, not a reset."""
    body = json.dumps({"message": "x" * (1024 * 1024)}).encode()
    s = socket.create_connection(("127.0.0.1", stack.port), timeout=15)
    try:
        s.sendall(harness.raw_head(stack.port, "POST", "/api/query", accounts["customer"].token,
                                   len(body)))
        try:
            s.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass    # the server may answer before reading it all
        r = harness.read_response(s, 15)
    finally:
        s.close()
    harness.assert_error(r, 413)


# ------------------------------------------------------------------- tokens

def _body():
    return {"message": OK_MESSAGE}


def test_no_token_is_401(stack):
    harness.assert_error(stack.http("POST", "/api/query", body=_body()), 401)


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer a.b.c", "Basic YWRtaW46YWRtaW4=",
                                    "Bearer ", "bearer"],
                         ids=["garbage", "three_parts", "basic", "empty_bearer", "no_token"])
def test_garbage_token_is_401(stack, header):
    r = stack.http("POST", "/api/query", body=_body(), headers={"Authorization": header})
    harness.assert_error(r, 401)


def _claims(accounts, **over):
    now = int(time.time())
    c = {"sub": str(accounts["admin"].id), "role": "admin", "iat": now, "exp": now + 3600,
         "jti": uuid.uuid4().hex}
    c.update(over)
    return c


def test_forged_token_with_right_secret_works(stack, accounts):
    """Sanity check of the encoder the next tests rely on."""
    tok = harness.jwt_encode(_claims(accounts))
    harness.assert_answer(stack.query(tok, OK_MESSAGE))


def test_expired_token_is_401(stack, accounts):
    now = int(time.time())
    tok = harness.jwt_encode(_claims(accounts, iat=now - 7200, exp=now - 3600))
    harness.assert_error(stack.query(tok, OK_MESSAGE), 401)


def test_token_signed_with_another_secret_is_401(stack, accounts):
    tok = harness.jwt_encode(_claims(accounts), secret="not-the-secret")
    harness.assert_error(stack.query(tok, OK_MESSAGE), 401)


def test_tampered_token_is_401(stack, accounts):
    h, p, sig = accounts["customer"].token.split(".")
    claims = json.loads(harness.b64url_decode(p))
    assert claims["role"] == "customer"
    claims["role"] = "admin"
    forged = h + "." + harness.b64url(json.dumps(claims, separators=(",", ":")).encode()) + "." + sig
    harness.assert_error(stack.query(forged, OK_MESSAGE), 401)
    harness.assert_error(stack.http("GET", "/api/sops/strategy.financials", token=forged), 401)


@pytest.mark.parametrize("alg", ["none", "None", "HS512"])
def test_alg_none_is_401(stack, accounts, alg):
    tok = harness.jwt_encode(_claims(accounts), header={"alg": alg, "typ": "JWT"}, sign=False)
    harness.assert_error(stack.query(tok, OK_MESSAGE), 401)
    # and with a valid HS256 signature glued on: still not HS256
    tok = harness.jwt_encode(_claims(accounts), header={"alg": alg, "typ": "JWT"})
    harness.assert_error(stack.query(tok, OK_MESSAGE), 401)


# -------------------------------------------------------------- paths, verbs

def test_unknown_path_is_404(stack, accounts):
    harness.assert_error(stack.http("GET", "/api/no-such-thing", token=accounts["admin"].token), 404)
    harness.assert_error(stack.http("GET", "/api/no-such-thing"), 404)


@pytest.mark.parametrize("method,path", [("GET", "/api/query"), ("DELETE", "/api/query"),
                                         ("PUT", "/api/auth/login"), ("POST", "/api/health")])
def test_wrong_method_is_405(stack, accounts, method, path):
    harness.assert_error(stack.http(method, path, token=accounts["admin"].token), 405)


# --------------------------------------------------------------- aftermath

def test_still_answers_after_the_matrix(stack, accounts):
    for p in stack.procs.values():
        assert p.alive(), "%r died" % (p,)
    harness.assert_answer(stack.query(accounts["customer"].token, "how do I book a bay"),
                          route="booking", slug="booking.make")
    assert stack.health().json["status"] == "ok"
