"""
test_ratelimit.py - gateways with their own CLUBOS_RATE_LIMIT: per address,
per user, health and metrics included
"""

import subprocess

import harness


def test_rate_limit_per_address(stack, accounts):
    harness.forget_buckets(stack, "127.0.0.1")
    port = harness.free_port()
    gw = stack.spawn_extra("gateway-ratelimited", ["clubos-gateway", "-d"],
                           CLUBOS_HTTP_PORT=port, CLUBOS_RATE_LIMIT="5,1000")
    try:
        # Readiness without spending tokens: the port accepts connections.
        harness.wait_listening(gw, port, 15)
        token = accounts["customer"].token
        messages = ["are you open on christmas", "how do I book a bay", "do you sell gift cards",
                    "how long does 18 holes take", "can I bring my own clubs"]
        for i, m in enumerate(messages):
            r = stack.query(token, m, port=port)
            assert r.status == 200, "query %d of 5 under the limit failed: %r" % (i + 1, r)
        r = stack.query(token, "where do I park", port=port)
        harness.assert_error(r, 429)
        ra = r.headers.get("retry-after")
        assert ra is not None and ra.strip().isdigit(), "429 without a numeric Retry-After: %r" % (r.headers,)
        assert 1 <= int(ra) <= 60, "Retry-After %s out of range for 5/min" % ra
        # the main gateway (rate limit off) is not affected
        assert stack.query(token, "where do I park").status == 200
    finally:
        gw.stop()
        stack.extra.remove(gw)


def _gateway(stack, limit):
    harness.forget_buckets(stack, "127.0.0.1")
    port = harness.free_port()
    gw = stack.spawn_extra("gateway-rl", ["clubos-gateway", "-d"], CLUBOS_HTTP_PORT=port,
                           CLUBOS_RATE_LIMIT=limit)
    harness.wait_listening(gw, port, 15)
    return gw, port


def _retry_after(r):
    harness.assert_error(r, 429, "rate_limited")
    ra = r.headers.get("retry-after")
    assert ra is not None and ra.strip().isdigit() and int(ra) >= 1, r.headers
    return int(ra)


def test_rate_limit_per_user(stack, accounts):
    gw, port = _gateway(stack, "1000,3")
    try:
        a, b = accounts["customer"].token, accounts["customer2"].token
        for i in range(3):
            assert stack.query(a, "how do I book a bay", port=port).status == 200, i
        assert 1 <= _retry_after(stack.query(a, "how do I book a bay", port=port)) <= 60
        # Another user from the same address is not affected.
        assert stack.query(b, "how do I book a bay", port=port).status == 200
    finally:
        gw.stop()
        stack.extra.remove(gw)


def test_rate_limit_covers_health_and_metrics(stack):
    gw, port = _gateway(stack, "4,1000")
    try:
        codes = [harness.request(port, "GET", p).status
                 for p in ("/api/health", "/metrics", "/api/health", "/metrics")]
        assert all(c in (200, 503) for c in codes), codes
        _retry_after(harness.request(port, "GET", "/api/health"))
        _retry_after(harness.request(port, "GET", "/metrics"))
    finally:
        gw.stop()
        stack.extra.remove(gw)


def test_rate_limit_setting_is_checked(stack):
    for bad in ("fast", "0,10", "10"):
        r = subprocess.run([harness.binary("clubos-gateway"), "-n"],
                           env=stack.env(CLUBOS_RATE_LIMIT=bad), capture_output=True,
                           text=True, timeout=30)
        assert r.returncode != 0 and "CLUBOS_RATE_LIMIT" in r.stderr, (bad, r.stderr)
