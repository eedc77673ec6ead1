"""
test_health_metrics.py - /api/health and /metrics are cheap, gated and
rate limited; metrics series move with what happens

Gateways with their own settings run in small stacks of their own
(test_faults.MiniStack), on the session's databases.
"""

import subprocess
import time

import harness
from test_faults import BOOKING, TECH, mini  # noqa: F401  (mini is a fixture)
from test_traces import _series


def _metrics(port, token=None):
    r = harness.request(port, "GET", "/metrics", token=token)
    assert r.status == 200, r
    return _series(r.body.decode("utf-8"))


def test_health_is_shared_for_a_second(stack):
    seen = set()
    t0 = time.monotonic()
    for _ in range(30):
        r = stack.health()
        assert r.status == 200, r
        seen.add(r.json["checked_at_ms"])
    took = time.monotonic() - t0
    # At most one fresh check a second, however many ask.
    assert len(seen) <= int(took) + 2, (len(seen), took)


def test_metrics_series_move(mini, accounts):  # noqa: F811
    token = accounts["operator"].token
    m = mini(("tech", "booking"))
    before = _metrics(m.port)
    for _ in range(3):
        harness.assert_answer(m.query(token, BOOKING), route="booking")
    harness.assert_error(harness.request(m.port, "POST", "/api/query", token=token,
                                         body={"message": 5}), 400)
    after = _metrics(m.port)
    # This gateway is new and its cache is off: exact figures.
    key = 'clubos_queries_total{route="booking",cache="miss"}'
    assert after[key] == before[key] + 3, (before[key], after[key])
    assert after["clubos_query_duration_seconds_count"] == \
        before["clubos_query_duration_seconds_count"] + 3
    assert after['clubos_http_responses_total{code="4xx"}'] == \
        before['clubos_http_responses_total{code="4xx"}'] + 1
    assert after['clubos_workers{route="tech"}'] == 1, after
    assert after['clubos_workers{route="strategy"}'] == 0, after
    # A worker goes away: its gauge follows within the shared second.
    m.procs["assistant-tech"].kill9()
    harness.wait_for(lambda: _metrics(m.port)['clubos_workers{route="tech"}'] == 0, 5,
                     interval=0.2, what="clubos_workers{tech} to fall to 0")


def test_metrics_needs_a_staff_token_from_elsewhere(mini, accounts, stack):  # noqa: F811
    # From loopback (the default allow list), no token is needed.
    assert harness.request(stack.port, "GET", "/metrics").status == 200
    m = mini((), CLUBOS_METRICS_ALLOW="10.0.0.0/8, 192.168.0.0/16")
    harness.assert_error(harness.request(m.port, "GET", "/metrics"), 401)
    harness.assert_error(harness.request(m.port, "GET", "/metrics", token="not.a.token"), 401)
    for role in ("customer", "kiosk"):
        harness.assert_error(harness.request(m.port, "GET", "/metrics",
                                             token=accounts[role].token), 403)
    for role in ("support", "operator", "admin"):
        r = harness.request(m.port, "GET", "/metrics", token=accounts[role].token)
        assert r.status == 200 and b"clubos_http_responses_total" in r.body, (role, r)
    # A relayed request is never trusted by address.
    harness.assert_error(harness.request(stack.port, "GET", "/metrics",
                                         headers={"X-Forwarded-For": "127.0.0.1"}), 401)


def test_metrics_allow_list_is_checked_at_start(stack):
    for bad in ("everyone", "10.0.0.0/33", "1.2.3"):
        r = subprocess.run([harness.binary("clubos-gateway"), "-n"],
                           env=stack.env(CLUBOS_METRICS_ALLOW=bad), capture_output=True,
                           text=True, timeout=30)
        assert r.returncode != 0 and "CLUBOS_METRICS_ALLOW" in r.stderr, (bad, r.stderr)
