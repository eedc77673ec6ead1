"""
test_auth_live.py - tokens are checked against the signature, the clock and the live user

- nbf and iat: a token not valid yet, or issued in the future beyond the
  60 s skew, is refused;
- a forged token for a user that does not exist is refused even with the
  right signature;
- with PostgreSQL down, POST /api/query still answers (an emergency never
  waits on the database) on the token's signed claims; other authenticated
  routes answer 503 at once;
- there is no built-in secret: a gateway without CLUBOS_JWT_SECRET (or with
  a short one) refuses to start and says why; make up's deploy/env.sh makes
  one on the first run, keeps it in var/jwt-secret (0600) and reuses it.
"""

import os
import re
import stat
import subprocess
import tempfile
import time
import uuid

import pytest

import harness


def _claims(account, **over):
    now = int(time.time())
    c = {"sub": str(account.id), "role": account.role, "iat": now, "exp": now + 600}
    c.update(over)
    return c


def test_valid_forged_token_for_a_real_user_passes(stack, accounts):
    # The control for the refusals below: same secret, same user, valid times.
    tok = harness.jwt_encode(_claims(accounts["support"]))
    assert stack.http("GET", "/api/sops", token=tok).status == 200


def test_nbf_in_the_future_is_refused(stack, accounts):
    now = int(time.time())
    tok = harness.jwt_encode(_claims(accounts["support"], nbf=now + 600))
    harness.assert_error(stack.http("GET", "/api/sops", token=tok), 401, "token_not_yet_valid")
    # Within the skew: fine.
    tok = harness.jwt_encode(_claims(accounts["support"], nbf=now + 5))
    assert stack.http("GET", "/api/sops", token=tok).status == 200


def test_iat_in_the_future_is_refused(stack, accounts):
    now = int(time.time())
    tok = harness.jwt_encode(_claims(accounts["support"], iat=now + 3600, exp=now + 7200))
    harness.assert_error(stack.http("GET", "/api/sops", token=tok), 401, "token_not_yet_valid")


def test_nbf_of_the_wrong_type_is_refused(stack, accounts):
    tok = harness.jwt_encode(_claims(accounts["support"], nbf="soon"))
    harness.assert_error(stack.http("GET", "/api/sops", token=tok), 401, "invalid_token")


def test_token_for_a_user_that_never_existed_is_refused(stack):
    now = int(time.time())
    tok = harness.jwt_encode({"sub": "987654321", "role": "admin", "iat": now, "exp": now + 600})
    harness.assert_error(stack.http("GET", "/api/users", token=tok), 401, "invalid_token")
    harness.assert_error(stack.query(tok, "where do I park"), 401, "invalid_token")


def test_role_comes_from_the_user_not_the_token(stack, accounts):
    # A token signed with "admin" for a support user acts as support.
    tok = harness.jwt_encode(_claims(accounts["support"], role="admin"))
    harness.assert_error(stack.http("GET", "/api/users", token=tok), 403)


# ------------------------------------------------------------ database down

@pytest.fixture(scope="module")
def own_stack():
    """own_stack - a stack of its own: stopping its PostgreSQL disturbs no other test."""
    s = harness.Stack()
    try:
        s.start()
        yield s
    finally:
        s.stop()
        s.cleanup()


def _pg_ctl(stack, *args):
    pg = stack.pg
    argv = pg.as_pg + [os.path.join(pg.bindir, "pg_ctl"), "-D", pg.data] + list(args)
    subprocess.run(argv, capture_output=True, timeout=120, check=True)


def _pg_start(stack):
    pg = stack.pg
    opts = ("-p %d -k %s -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off" % (pg.port, pg.dir))
    _pg_ctl(stack, "-l", pg.log, "-o", opts, "-w", "-t", "60", "start")


def test_database_down_queries_still_answer_other_routes_503(own_stack):
    stack = own_stack
    admin = stack.login(harness.ADMIN_EMAIL, harness.ADMIN_PASSWORD)
    email, pw = "cust-%s@e2e.clubos.test" % uuid.uuid4().hex[:8], "pw-" + uuid.uuid4().hex
    r = stack.http("POST", "/api/users", token=admin,
                   body={"email": email, "password": pw, "role": "customer"})
    assert r.status == 201, r
    cust = stack.login(email, pw)
    _pg_ctl(stack, "-m", "immediate", "-w", "stop")
    try:
        t0 = time.monotonic()
        r = stack.http("GET", "/api/sops", token=admin)
        harness.assert_error(r, 503, "database_unavailable")
        assert time.monotonic() - t0 < 5, "the 503 was not at once"
        harness.assert_error(stack.http("GET", "/api/users", token=admin), 503)
        # An emergency is answered on the token's claims alone.
        a = harness.assert_answer(stack.query(cust, "there is smoke and fire in bay 2"))
        assert a["route"] == "emergency" and a["escalation"]["tier"] == 3, a
        # A bad token is still refused: the signature needs no database.
        harness.assert_error(stack.query(cust[:-4] + "AAAA", "fire in bay 2"), 401)
    finally:
        _pg_start(stack)
    harness.wait_for(lambda: stack.http("GET", "/api/sops", token=admin).status == 200,
                     30, what="staff routes back after PostgreSQL restarted")


# ------------------------------------------------------------------ secrets

def _gateway_exit(stack, **env):
    port = harness.free_port()
    gw = stack.spawn_extra("gateway-nosecret", ["clubos-gateway", "-d"], CLUBOS_HTTP_PORT=port, **env)
    try:
        harness.wait_for(lambda: not gw.alive(), 15, what="the gateway to refuse to start")
        return gw.p.returncode, harness.tail(gw.log)
    finally:
        gw.stop()
        stack.extra.remove(gw)


def test_gateway_refuses_to_start_without_a_secret(stack):
    for env in ("development", "test", "production"):
        rc, log = _gateway_exit(stack, CLUBOS_JWT_SECRET=None, CLUBOS_ENV=env)
        assert rc != 0, log
        assert "CLUBOS_JWT_SECRET" in log, log


def test_gateway_refuses_a_short_secret(stack):
    rc, log = _gateway_exit(stack, CLUBOS_JWT_SECRET="short-secret")
    assert rc != 0 and "CLUBOS_JWT_SECRET" in log, log


def test_make_up_generates_and_keeps_a_private_secret():
    with tempfile.TemporaryDirectory() as var:
        env = {k: v for k, v in os.environ.items() if k != "CLUBOS_JWT_SECRET"}
        env["CLUBOS_VAR"] = var
        script = '. "%s/deploy/env.sh"; jwt_secret; printf %%s "$CLUBOS_JWT_SECRET"' % harness.REPO
        first = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True,
                               cwd=harness.REPO, check=True).stdout
        assert re.fullmatch(r"[0-9a-f]{64}", first), first
        path = os.path.join(var, "jwt-secret")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with open(path) as f:
            assert f.read() == first
        again = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True,
                               cwd=harness.REPO, check=True).stdout
        assert again == first, "a second make up must keep the secret"
        # The environment wins over the file.
        env["CLUBOS_JWT_SECRET"] = "x" * 40
        mine = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True,
                              cwd=harness.REPO, check=True).stdout
        assert mine == "x" * 40
    with tempfile.TemporaryDirectory() as var2:
        env = {k: v for k, v in os.environ.items() if k != "CLUBOS_JWT_SECRET"}
        env["CLUBOS_VAR"] = var2
        other = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True,
                               cwd=harness.REPO, check=True).stdout
        assert other != first, "two installations must not share a secret"
