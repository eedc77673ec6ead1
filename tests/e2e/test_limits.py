"""
test_limits.py - per-address and per-user limits, and logins that cannot starve queries

Each test runs its own gateway on the shared stack with limits on:
- X-Forwarded-For is honoured only from CLUBOS_TRUSTED_PROXIES: a spoofed
  header from an untrusted peer does not escape the per-address limit; from
  a trusted proxy, the address it appended (the last) is the one limited;
- the per-user limit holds for each of several users on its own, with a
  Retry-After that matches the configured rate;
- logins: a burst of wrong passwords gets 429s while another client's
  queries keep answering; failures wait longer and longer per account
  (1 s, 2 s, ...) and per address; a success clears the account's count;
  two gateways count one account's failures together (Redis), and one
  whose Redis is gone still throttles from memory.
"""

import concurrent.futures
import statistics
import subprocess
import time
import uuid

import pytest

import harness


@pytest.fixture
def gateway(stack):
    """gateway - start a second gateway with the given settings; stopped at the end."""
    started = []

    def start(**env):
        port = harness.free_port()
        gw = stack.spawn_extra("gateway-limits", ["clubos-gateway", "-d"],
                               CLUBOS_HTTP_PORT=port, **env)
        started.append(gw)
        harness.wait_listening(gw, port, 15)
        return port
    harness.forget_buckets(stack, "127.0.0.1")
    yield start
    for gw in started:
        gw.stop()
        stack.extra.remove(gw)
    harness.forget_buckets(stack, "127.0.0.1")   # leave the loopback bucket full for other tests


def _unauth(stack, port, xff=None):
    # An unauthenticated staff route: limited per address, then 401: cheap.
    return stack.http("GET", "/api/sops", port=port, headers={"X-Forwarded-For": xff})


def _retry_after(r):
    ra = r.headers.get("retry-after")
    assert ra is not None and ra.strip().isdigit(), "429 without a numeric Retry-After: %r" % (r,)
    return int(ra)


# ------------------------------------------------------------ X-Forwarded-For

def test_spoofed_xff_from_an_untrusted_peer_does_not_escape(stack, gateway):
    # A proxy is configured, but it is not us.
    port = gateway(CLUBOS_RATE_LIMIT="5,100000", CLUBOS_TRUSTED_PROXIES="10.9.9.9")
    for i in range(5):
        r = _unauth(stack, port, xff="198.51.100.%d" % (i + 1))
        assert r.status == 401, "request %d under the limit: %r" % (i + 1, r)
    r = _unauth(stack, port, xff="198.51.100.99")
    harness.assert_error(r, 429)
    assert 1 <= _retry_after(r) <= 12, r.headers    # 5 a minute: one every 12 s


def test_xff_from_a_trusted_proxy_names_the_client(stack, gateway):
    harness.forget_buckets(stack, *["203.0.113.%d" % i for i in range(1, 12)])
    port = gateway(CLUBOS_RATE_LIMIT="5,100000", CLUBOS_TRUSTED_PROXIES="10.9.9.9, 127.0.0.1")
    # Eight different clients behind the proxy: none is limited.
    for i in range(8):
        assert _unauth(stack, port, xff="203.0.113.%d" % (i + 1)).status == 401
    # One client: limited after 5, whatever it puts in front of the
    # address the proxy appended.
    for i in range(4):
        r = _unauth(stack, port, xff="192.0.2.%d, 203.0.113.10" % i)
        assert r.status == 401, r
    r = _unauth(stack, port, xff="203.0.113.10")
    assert r.status == 401, r
    r = _unauth(stack, port, xff="192.0.2.200,203.0.113.10")
    harness.assert_error(r, 429)
    _retry_after(r)
    # The proxy's own address was never charged for its clients.
    assert _unauth(stack, port).status == 401


# ------------------------------------------------------------------ per user

def test_per_user_limit_for_several_users(stack, gateway, accounts):
    admin = accounts["admin"]
    users = []
    for role in ("operator", "support", "admin"):
        email = "lim-%s@e2e.clubos.test" % uuid.uuid4().hex[:10]
        pw = "pw-" + uuid.uuid4().hex
        r = stack.http("POST", "/api/users", token=admin.token,
                       body={"email": email, "password": pw, "role": role})
        assert r.status == 201, r
        users.append(stack.login(email, pw))
    port = gateway(CLUBOS_RATE_LIMIT="100000,3")
    # Each user has 3 a minute of their own: spending one user's does not
    # touch the others', in whatever order they come.
    for n, tok in enumerate(users):
        for i in range(3):
            r = stack.http("GET", "/api/sops", token=tok, port=port)
            assert r.status == 200, "user %d, request %d of 3: %r" % (n, i + 1, r)
        r = stack.http("GET", "/api/sops", token=tok, port=port)
        harness.assert_error(r, 429, "rate_limited")
        ra = _retry_after(r)
        assert 1 <= ra <= 20, "Retry-After %d for 3 a minute (one every 20 s)" % ra
    # Still limited on the next request, and the wait has not grown.
    for tok in users:
        r = stack.http("GET", "/api/sops", token=tok, port=port)
        harness.assert_error(r, 429)
        assert 1 <= _retry_after(r) <= 20
    # The limit is per user, not per address: a new user from the same
    # address still gets through.
    assert stack.http("GET", "/api/sops", token=accounts["support"].token, port=port).status == 200


# -------------------------------------------------------------------- logins

def _login(stack, port, email, password, xff):
    t0 = time.monotonic()
    r = stack.http("POST", "/api/auth/login", port=port, body={"email": email, "password": password},
                   headers={"X-Forwarded-For": xff})
    return r, time.monotonic() - t0


def _make_user(stack, accounts):
    email = "login-%s@e2e.clubos.test" % uuid.uuid4().hex[:10]
    pw = "pw-" + uuid.uuid4().hex
    r = stack.http("POST", "/api/users", token=accounts["admin"].token,
                   body={"email": email, "password": pw, "role": "support"})
    assert r.status == 201, r
    return email, pw


LOGIN_GW = dict(CLUBOS_RATE_LIMIT="100000,100000", CLUBOS_TRUSTED_PROXIES="127.0.0.1",
                CLUBOS_LOGIN_CONCURRENCY="1")


def test_burst_of_wrong_passwords_gets_429_and_queries_keep_answering(stack, gateway, accounts):
    port = gateway(**LOGIN_GW)
    email, _ = _make_user(stack, accounts)
    tok = accounts["customer"].token
    messages = ["where do I park", "do you sell gift cards", "how do I book a bay"]

    def query(i):
        t0 = time.monotonic()
        r = stack.query(tok, messages[i % len(messages)], port=port)
        return r.status, time.monotonic() - t0

    before = [query(i) for i in range(6)]
    assert all(s == 200 for s, _ in before), before
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        burst = [pool.submit(_login, stack, port, email, "wrong-%d" % i, "198.51.100.%d" % (i % 7))
                 for i in range(60)]
        during = []
        while not all(f.done() for f in burst) or len(during) < 10:
            during.append(query(len(during)))
        logins = [f.result()[0] for f in burst]
    statuses = sorted(set(r.status for r in logins))
    assert set(statuses) <= {401, 429}, "unexpected login answers: %r" % statuses
    limited = [r for r in logins if r.status == 429]
    assert len(limited) >= 10, "a burst of 60 wrong passwords got only %d 429s" % len(limited)
    for r in limited:
        harness.assert_error(r, 429)
        assert r.json["error"]["code"] in ("login_busy", "login_throttled"), r
        assert _retry_after(r) >= 1
    assert all(s == 200 for s, _ in during), "queries failed during the burst: %r" % during
    p50_before = statistics.median(t for _, t in before)
    p50_during = statistics.median(t for _, t in during)
    print("login burst: %d logins, %d answered 429; %d queries meanwhile, p50 %.1f ms "
          "(%.1f ms before)" % (len(logins), len(limited), len(during), p50_during * 1e3,
                                p50_before * 1e3))
    assert p50_during < max(0.5, 5 * p50_before), \
        "queries slowed from p50 %.3f s to %.3f s during the login burst" % (p50_before, p50_during)


def test_account_backoff_doubles_and_a_success_clears_it(stack, gateway, accounts):
    port = gateway(**LOGIN_GW)
    email, pw = _make_user(stack, accounts)
    addr = iter("192.0.2.%d" % i for i in range(1, 250))    # a new address each time

    def attempt(password, status=None):
        r, _ = _login(stack, port, email, password, next(addr))
        return r if status is None or r.status == status else None

    for i in range(3):                                        # the free failures
        harness.assert_error(attempt("wrong"), 401, "invalid_credentials")
    # Each further failure makes the account wait, twice as long each time;
    # while it waits, even the right password is turned away.
    harness.assert_error(attempt("wrong"), 401, "invalid_credentials")
    waits = []
    for _ in range(3):
        r = attempt(pw)
        harness.assert_error(r, 429, "login_throttled")
        waits.append(_retry_after(r))
        # Once the wait is over, the next wrong password is checked (401)
        # and starts a longer wait.
        harness.wait_for(lambda: attempt("wrong", 401), waits[-1] + 5, interval=0.2,
                         what="the account's wait of %d s to pass" % waits[-1])
    assert waits[0] >= 1 and waits[1] >= 2 * waits[0] - 1 and waits[2] >= 2 * waits[1] - 1, \
        "the waits did not double: %r" % waits
    # The right password once the wait is over: in, and the count is cleared.
    harness.wait_for(lambda: attempt(pw, 200), 20, interval=0.2, what="the right password")
    harness.assert_error(attempt("wrong"), 401, "invalid_credentials")


def test_success_clears_the_account_count(stack, gateway, accounts):
    port = gateway(**LOGIN_GW)
    email, pw = _make_user(stack, accounts)
    for i in range(3):
        r, _ = _login(stack, port, email, "wrong", "192.0.2.%d" % (i + 1))
        harness.assert_error(r, 401)
    r, _ = _login(stack, port, email, pw, "192.0.2.10")
    assert r.status == 200, r
    # Three more free failures, not a wait.
    for i in range(3):
        r, _ = _login(stack, port, email, "wrong", "192.0.2.%d" % (i + 20))
        harness.assert_error(r, 401, "invalid_credentials")


def test_two_gateways_count_one_accounts_failures_together(stack, gateway, accounts):
    a, b = gateway(**LOGIN_GW), gateway(**LOGIN_GW)
    email, pw = _make_user(stack, accounts)
    for i in range(3):                        # the free failures, all on gateway a
        r, _ = _login(stack, a, email, "wrong", "192.0.2.%d" % (100 + i))
        harness.assert_error(r, 401, "invalid_credentials")
    # The fourth, on gateway b, is past the free ones only because b saw a's
    # three: it starts the account's wait, which a then enforces.
    r, _ = _login(stack, b, email, "wrong", "192.0.2.110")
    harness.assert_error(r, 401, "invalid_credentials")
    r, _ = _login(stack, a, email, pw, "192.0.2.111")
    harness.assert_error(r, 429, "login_throttled")
    assert _retry_after(r) >= 1
    keys = subprocess.run(["redis-cli", "-p", str(stack.redis_port), "--scan", "--pattern",
                           "lf:login:*"], capture_output=True, text=True, timeout=10).stdout
    assert keys.split() and email not in keys, "the shared counts: %r" % keys
    # A success on b once the wait is over clears the count for both.
    harness.wait_for(lambda: _login(stack, b, email, pw, "192.0.2.112")[0].status == 200, 10,
                     interval=0.2, what="the right password after the wait")
    for i in range(3):
        r, _ = _login(stack, a, email, "wrong", "192.0.2.%d" % (120 + i))
        harness.assert_error(r, 401, "invalid_credentials")


def test_a_gateway_without_redis_throttles_from_memory(stack, gateway, accounts):
    # Nothing listens on this port: every count stays in the gateway's memory.
    port = gateway(CLUBOS_REDIS_PORT=harness.free_port(), **LOGIN_GW)
    email, pw = _make_user(stack, accounts)
    for i in range(4):
        r, _ = _login(stack, port, email, "wrong", "192.0.2.%d" % (130 + i))
        harness.assert_error(r, 401, "invalid_credentials")
    r, _ = _login(stack, port, email, pw, "192.0.2.140")
    harness.assert_error(r, 429, "login_throttled")


def test_one_address_trying_many_accounts_is_throttled(stack, gateway):
    port = gateway(**LOGIN_GW)
    addr = "198.51.100.200"
    for i in range(11):          # 10 free failures, the 11th starts the wait
        r, _ = _login(stack, port, "nobody-%s@e2e.clubos.test" % uuid.uuid4().hex[:8], "x" * 12, addr)
        harness.assert_error(r, 401, "invalid_credentials")
    r, _ = _login(stack, port, "nobody-%s@e2e.clubos.test" % uuid.uuid4().hex[:8], "x" * 12, addr)
    harness.assert_error(r, 429, "login_throttled")
    assert _retry_after(r) >= 1
    # Another address is not affected.
    r, _ = _login(stack, port, "nobody-%s@e2e.clubos.test" % uuid.uuid4().hex[:8], "x" * 12,
                  "198.51.100.201")
    harness.assert_error(r, 401, "invalid_credentials")


def test_unknown_email_costs_as_much_as_a_known_one(stack, gateway, accounts):
    port = gateway(**LOGIN_GW)
    email, _ = _make_user(stack, accounts)
    known, unknown = [], []
    for i in range(3):
        r, t = _login(stack, port, email, "wrong", "192.0.2.%d" % (100 + i))
        assert r.status == 401, r
        known.append(t)
        r, t = _login(stack, port, "nobody-%s@e2e.clubos.test" % uuid.uuid4().hex[:8], "wrong",
                      "192.0.2.%d" % (110 + i))
        assert r.status == 401, r
        unknown.append(t)
    k, u = statistics.median(known), statistics.median(unknown)
    assert u > k / 3 and u < k * 3, "unknown e-mail %.4f s vs known %.4f s" % (u, k)
