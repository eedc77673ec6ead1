"""
test_ratelimit.py - a second gateway with CLUBOS_RATE_LIMIT="5,1000" limits per address
"""

import harness


def test_rate_limit_per_address(stack, accounts):
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
