"""
test_users.py - the users API (admin): list, change role or disabled, delete

A change takes effect on the user's existing tokens at once: a disabled or
deleted user's token gets 401, a re-roled user acts with the new role on the
very next request.  The system is never left without an active admin (409).
"""

import uuid

import pytest

import harness


def _new_user(stack, admin, role):
    email = "u-%s@e2e.clubos.test" % uuid.uuid4().hex[:10]
    password = "pw-" + uuid.uuid4().hex
    r = stack.http("POST", "/api/users", token=admin.token,
                   body={"email": email, "password": password, "role": role, "name": "Users Test"})
    assert r.status == 201, r
    return r.json["id"], email, password, stack.login(email, password)


def _patch(stack, admin, uid, body):
    return stack.http("PATCH", "/api/users/%s" % uid, token=admin.token, body=body)


def test_list_is_admin_only_and_shows_no_secrets(stack, accounts):
    harness.assert_error(stack.http("GET", "/api/users"), 401)
    harness.assert_error(stack.http("GET", "/api/users", token=accounts["operator"].token), 403)
    r = stack.http("GET", "/api/users", token=accounts["admin"].token)
    assert r.status == 200 and isinstance(r.json, list), r
    me = [u for u in r.json if u["email"] == harness.ADMIN_EMAIL]
    assert me and me[0]["role"] == "admin" and me[0]["disabled"] is False, r.json
    for u in r.json:
        assert set(u) >= {"id", "email", "role", "name", "disabled", "created_at"}, u
        assert not any("password" in k for k in u), "the list leaks a password field: %r" % u


def test_promotion_and_demotion_apply_to_the_old_token_at_once(stack, accounts):
    admin = accounts["admin"]
    uid, _, _, token = _new_user(stack, admin, "operator")
    harness.assert_error(stack.http("GET", "/api/users", token=token), 403)
    r = _patch(stack, admin, uid, {"role": "admin"})
    assert r.status == 200 and r.json["role"] == "admin", r
    # The token still says "operator"; the user is an admin now.
    assert harness.jwt_claims(token)["role"] == "operator"
    assert stack.http("GET", "/api/users", token=token).status == 200
    r = _patch(stack, admin, uid, {"role": "customer"})
    assert r.status == 200 and r.json["role"] == "customer", r
    harness.assert_error(stack.http("GET", "/api/users", token=token), 403)
    harness.assert_error(stack.http("GET", "/api/sops", token=token), 403)


def test_a_change_made_outside_the_gateway_applies_without_waiting_out_its_memory(
        stack, accounts):
    # The gateway keeps each user's role for up to 10 s (AUTH_CACHE_MS), and
    # forgets one when PostgreSQL announces a change (clubos_users): made
    # here in psql, as an administrator might, not through the API.
    admin = accounts["admin"]
    uid, _, _, token = _new_user(stack, admin, "support")
    for _ in range(3):                       # looked up, then kept
        assert stack.http("GET", "/api/sops", token=token).status == 200
    stack.pg.sql("UPDATE users SET disabled = true WHERE id = :'v1'", uid)
    harness.wait_for(lambda: stack.http("GET", "/api/sops", token=token).status == 401, 3,
                     interval=0.05, what="the disabled user to be refused (well before 10 s)")
    stack.pg.sql("UPDATE users SET disabled = false, role = 'customer' WHERE id = :'v1'", uid)
    harness.wait_for(lambda: stack.http("GET", "/api/sops", token=token).status == 403, 3,
                     interval=0.05, what="the demoted user to be refused")
    stack.pg.sql("DELETE FROM users WHERE id = :'v1'", uid)
    harness.wait_for(lambda: stack.query(token, "where do I park").status == 401, 3,
                     interval=0.05, what="the deleted user's token to be refused")


def test_disabled_user_is_refused_at_once_and_can_come_back(stack, accounts):
    admin = accounts["admin"]
    uid, email, password, token = _new_user(stack, admin, "support")
    assert stack.http("GET", "/api/sops", token=token).status == 200
    r = _patch(stack, admin, uid, {"disabled": True})
    assert r.status == 200 and r.json["disabled"] is True, r
    harness.assert_error(stack.http("GET", "/api/sops", token=token), 401, "account_disabled")
    harness.assert_error(stack.query(token, "where do I park"), 401, "account_disabled")
    r = stack.http("POST", "/api/auth/login", body={"email": email, "password": password})
    harness.assert_error(r, 401, "account_disabled")
    # A wrong password still says only "wrong email or password".
    r = stack.http("POST", "/api/auth/login", body={"email": email, "password": "nope-nope-nope"})
    harness.assert_error(r, 401, "invalid_credentials")
    r = _patch(stack, admin, uid, {"disabled": False})
    assert r.status == 200 and r.json["disabled"] is False, r
    assert stack.http("GET", "/api/sops", token=token).status == 200


def test_deleted_user_is_refused_at_once(stack, accounts):
    admin = accounts["admin"]
    uid, email, password, token = _new_user(stack, admin, "operator")
    r = stack.http("DELETE", "/api/users/%s" % uid, token=admin.token)
    assert r.status == 200 and r.json == {"id": uid, "deleted": True}, r
    harness.assert_error(stack.http("GET", "/api/sops", token=token), 401, "invalid_token")
    harness.assert_error(stack.query(token, "where do I park"), 401)
    r = stack.http("POST", "/api/auth/login", body={"email": email, "password": password})
    harness.assert_error(r, 401, "invalid_credentials")
    ids = [u["id"] for u in stack.http("GET", "/api/users", token=admin.token).json]
    assert uid not in ids
    harness.assert_error(stack.http("DELETE", "/api/users/%s" % uid, token=admin.token), 404)
    harness.assert_error(_patch(stack, admin, uid, {"role": "admin"}), 404)


def test_never_without_an_active_admin(stack, accounts):
    admin = accounts["admin"]
    uid, _, _, token = _new_user(stack, admin, "admin")
    me = type("A", (), {"token": token})
    others = [u["id"] for u in stack.http("GET", "/api/users", token=token).json
              if u["role"] == "admin" and not u["disabled"] and u["id"] != uid]
    assert others, "the seeded admin should be active"
    try:
        for o in others:
            r = _patch(stack, me, o, {"disabled": True})
            assert r.status == 200, r
        # uid is the last active admin now: none of these may happen.
        harness.assert_error(_patch(stack, me, uid, {"disabled": True}), 409, "last_admin")
        harness.assert_error(_patch(stack, me, uid, {"role": "operator"}), 409, "last_admin")
        harness.assert_error(stack.http("DELETE", "/api/users/%s" % uid, token=token), 409,
                             "last_admin")
        # ... and nothing changed.
        mine = [u for u in stack.http("GET", "/api/users", token=token).json if u["id"] == uid]
        assert mine[0]["role"] == "admin" and mine[0]["disabled"] is False, mine
        # A disabled admin does not count; changing a non-admin is fine.
        r = _patch(stack, me, others[0], {"role": "operator"})
        assert r.status == 200, r
        r = _patch(stack, me, others[0], {"role": "admin"})
        assert r.status == 200, r
    finally:
        for o in others:
            _patch(stack, me, o, {"disabled": False})
    assert stack.http("GET", "/api/users", token=admin.token).status == 200
    # With the others back, the extra admin may go.
    assert stack.http("DELETE", "/api/users/%s" % uid, token=admin.token).status == 200


@pytest.mark.parametrize("body,code", [
    ({}, "missing_field"),
    ({"role": "king"}, "invalid_value"),
    ({"role": 1}, "invalid_value"),
    ({"role": None}, "invalid_value"),
    ({"disabled": "yes"}, "wrong_type"),
    ({"disabled": 1}, "wrong_type"),
    ({"name": "x"}, "unknown_field"),
    ({"role": "admin", "password": "x"}, "unknown_field"),
], ids=["empty", "unknown_role", "role_number", "role_null", "disabled_string",
        "disabled_number", "unknown_field", "password_not_here"])
def test_patch_validation(stack, accounts, body, code):
    r = _patch(stack, accounts["admin"], accounts["operator"].id, body)
    harness.assert_error(r, 400, code)


def test_patch_repeated_key_is_refused(stack, accounts):
    raw = b'{"role": "support", "role": "admin"}'
    r = stack.http("PATCH", "/api/users/%s" % accounts["operator"].id, raw=raw,
                   token=accounts["admin"].token)
    harness.assert_error(r, 400, "unknown_field")


@pytest.mark.parametrize("uid", ["abc", "0", "-1", "01", "1e3", "99999999999999999999",
                                 "999999999"])
def test_bad_or_unknown_ids(stack, accounts, uid):
    tok = accounts["admin"].token
    harness.assert_error(stack.http("PATCH", "/api/users/%s" % uid, token=tok,
                                    body={"disabled": False}), 404)
    harness.assert_error(stack.http("DELETE", "/api/users/%s" % uid, token=tok), 404)


def test_only_admins_change_users(stack, accounts):
    for who in ("operator", "support", "customer"):
        tok = accounts[who].token
        harness.assert_error(stack.http("PATCH", "/api/users/%s" % accounts["kiosk"].id,
                                        token=tok, body={"role": "admin"}), 403)
        harness.assert_error(stack.http("DELETE", "/api/users/%s" % accounts["kiosk"].id,
                                        token=tok), 403)


def test_patch_needs_json(stack, accounts):
    r = stack.http("PATCH", "/api/users/%s" % accounts["operator"].id, token=accounts["admin"].token,
                   raw=b"role=admin", headers={"Content-Type": "text/plain"})
    harness.assert_error(r, 415)
