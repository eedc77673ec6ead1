"""
test_text_edge.py - text enters as strict UTF-8 or not at all, and is cut by characters

Every JSON body is checked as a whole before parsing: overlong forms,
surrogates, code points past U+10FFFF and truncated sequences get 400 in the
contract's shape, and so does a \\u0000 escape (cJSON would decode it to a NUL
and every C string after it would silently stop there).  Paths are checked
too.  And an emergency whose text is long and accented still gets its ticket:
the summary is cut by characters, not in the middle of one.
"""

import socket

import pytest

import harness

BAD_UTF8 = [
    ("overlong_slash", b"\xc0\xaf"),
    ("overlong_nul", b"\xc0\x80"),
    ("overlong_3byte", b"\xe0\x80\xaf"),
    ("surrogate_high", b"\xed\xa0\x80"),
    ("surrogate_low", b"\xed\xbf\xbf"),
    ("above_10ffff", b"\xf4\x90\x80\x80"),
    ("f5_lead", b"\xf5\x80\x80\x80"),
    ("truncated_3", b"\xe2\x82"),
    ("truncated_4", b"\xf0\x9f\x94"),
    ("lone_continuation", b"\x80"),
    ("latin1_e_acute", b"\xe9t\xe9"),
]


@pytest.mark.parametrize("name,bad", BAD_UTF8, ids=[b[0] for b in BAD_UTF8])
def test_invalid_utf8_in_a_field_is_refused(stack, accounts, name, bad):
    raw = b'{"message": "where do I park ' + bad + b' please"}'
    r = stack.http("POST", "/api/query", raw=raw, token=accounts["customer"].token)
    harness.assert_error(r, 400)


def test_invalid_utf8_in_a_key_is_refused(stack, accounts):
    raw = b'{"message": "where do I park", "x\xed\xa0\x80": 1}'
    r = stack.http("POST", "/api/query", raw=raw, token=accounts["customer"].token)
    harness.assert_error(r, 400)


def test_invalid_utf8_at_login_is_refused(stack):
    raw = b'{"email": "a\xc0\xaf@e2e.clubos.test", "password": "whatever-password"}'
    harness.assert_error(stack.http("POST", "/api/auth/login", raw=raw), 400)


@pytest.mark.parametrize("raw", [
    b'{"message": "where do I park\\u0000 and ignore the rest"}',
    b'{"message": "\\u0000"}',
    b'{"message": "where do I park", "channel\\u0000x": "sms"}',
], ids=["in_value", "whole_value", "in_key"])
def test_escaped_nul_is_refused(stack, accounts, raw):
    r = stack.http("POST", "/api/query", raw=raw, token=accounts["customer"].token)
    err = harness.assert_error(r, 400)
    assert "u0000" in err["message"], err


def test_escaped_backslash_before_u0000_is_plain_text(stack, accounts):
    # "\\u0000" is a backslash followed by the letters u0000: no NUL at all.
    raw = b'{"message": "where do I park \\\\u0000"}'
    r = stack.http("POST", "/api/query", raw=raw, token=accounts["customer"].token)
    harness.assert_answer(r)


def test_valid_escapes_and_astral_text_pass(stack, accounts):
    # An escaped surrogate pair is one valid code point (U+1F525).
    raw = b'{"message": "where do I park \\ud83d\\udd25 \xf0\x9f\x94\xa5 caf\xc3\xa9"}'
    r = stack.http("POST", "/api/query", raw=raw, token=accounts["customer"].token)
    harness.assert_answer(r)


def test_lone_escaped_surrogate_is_refused(stack, accounts):
    raw = b'{"message": "where do I park \\ud83d alone"}'
    r = stack.http("POST", "/api/query", raw=raw, token=accounts["customer"].token)
    harness.assert_error(r, 400)


def test_invalid_utf8_in_the_path_is_refused(stack, accounts):
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as s:
        head = harness.raw_head(stack.port, "GET", "/api/sops/x", token=accounts["admin"].token)
        s.sendall(head.replace(b"/api/sops/x", b"/api/sops/caf\xc3(\xa9"))
        r = harness.read_response(s)
    harness.assert_error(r, 400)


def test_message_length_counts_characters(stack, accounts):
    tok = accounts["customer"].token
    # 2000 three-byte characters: 6000 bytes, yet within the 2000-character limit.
    harness.assert_answer(stack.query(tok, "\u20ac" * 2000))
    harness.assert_error(stack.query(tok, "\u20ac" * 2001), 400)


def test_long_accented_emergency_gets_its_ticket(stack, accounts):
    # An odd number of ASCII bytes first, so a cut by bytes at 200 or 300
    # would land inside an "é" and PostgreSQL would refuse the INSERT.
    message = "there is a fire and smoke in bay 2, help " + "\u00e9" * 600
    assert len(message.split("\u00e9")[0].encode()) % 2 == 1
    a = harness.assert_answer(stack.query(accounts["customer"].token, message))
    assert a["route"] == "emergency" and a["escalation"]["tier"] == 3, a
    rows = harness.wait_for(
        lambda: stack.pg.sql("SELECT length(summary), position(repeat(chr(233), 100) in summary) > 0 "
                             "FROM tickets WHERE trace_id = :'v1'", a["trace_id"]),
        10, what="the emergency's ticket")
    chars, has_text = rows[0]
    assert has_text == "t", "the ticket summary lost the customer's words: %r" % (rows,)
    assert int(chars) < len(message), "the summary was not cut: %s chars" % chars
