"""
test_health_probes.py - `clubos-<daemon> --health` and `clubosctl status`

The probes a platform runs: each daemon, asked through its own socket (or
the gateway through GET /api/health), says whether it is up and ready and
what it is connected to; clubosctl status lists every daemon.  A probe of
a daemon that is not there fails fast with status "down", never hangs.
"""

import json
import re
import signal
import os
import subprocess
import tempfile
import time

import harness


def probe(stack, daemon, *extra, **env):
    r = subprocess.run([harness.binary(daemon), "--health"] + list(extra),
                       env=stack.env(**env), cwd=harness.REPO, capture_output=True, text=True,
                       timeout=20)
    return r.returncode, json.loads(r.stdout.strip().splitlines()[-1]), r


def test_every_rpc_daemon_says_what_it_is_connected_to(stack):
    for daemon, name in (("clubos-router", "router"), ("clubos-cache", "cache"),
                         ("clubos-intelligence", "intelligence"), ("clubos-actions", "actions"),
                         ("clubos-conversations", "conversations")):
        rc, o, r = probe(stack, daemon)
        assert rc == 0, (daemon, r.stdout, r.stderr)
        assert o["status"] == "ok" and o["daemon"] == daemon, o
        d = o["detail"]
        assert d["ready"] is True and d["daemon"] == daemon and d["pid"] > 0, d
        assert d["pid"] == stack.procs[name].pid, (d, stack.procs[name])
        assert d["listens"].endswith("/%s.ipc" % name), d
    # clubos-conversations is ready while it reaches the router.
    _, o, _ = probe(stack, "clubos-conversations")
    socks = {s["url"].rsplit("/", 1)[-1]: s for s in o["detail"]["sockets"]}
    assert socks["router.ipc"]["role"] == "dials" and socks["router.ipc"]["peers"] >= 1, socks
    # The router dials the cache and listens for every route's workers.
    _, o, _ = probe(stack, "clubos-router")
    socks = {s["url"].rsplit("/", 1)[-1]: s for s in o["detail"]["sockets"]}
    assert socks["cache.ipc"]["role"] == "dials" and socks["cache.ipc"]["peers"] >= 1, socks
    for route in harness.ROUTES:
        s = socks["workers-%s.ipc" % route]
        assert s["role"] == "listens" and s["peers"] >= 1, (route, s)


def test_gateway_bus_and_worker_probes(stack):
    rc, o, r = probe(stack, "clubos-gateway")
    assert rc == 0 and o["status"] == "ok" and o["detail"]["status"] == "ok", r.stdout
    assert o["address"] == "http://127.0.0.1:%d/api/health" % stack.port, o
    rc, o, r = probe(stack, "clubos-bus")
    assert rc == 0 and o["status"] == "ok", r.stdout
    rc, o, r = probe(stack, "clubos-assistant", "--route", "tech")
    assert rc == 0 and o["status"] == "ok" and o["route"] == "tech", r.stdout
    assert o["workers"]["tech"] >= 1, o


def test_probe_of_a_missing_daemon_fails_fast(stack):
    empty = tempfile.mkdtemp(prefix="cosh", dir="/tmp")
    try:
        for daemon in ("clubos-router", "clubos-cache", "clubos-bus", "clubos-actions",
                       "clubos-conversations", "clubos-gateway"):
            t0 = time.monotonic()
            rc, o, r = probe(stack, daemon, CLUBOS_RUN_DIR=empty,
                             CLUBOS_HTTP_PORT=harness.free_port())
            assert rc == 1 and o["status"] == "down", (daemon, r.stdout, r.stderr)
            assert time.monotonic() - t0 < 5, (daemon, time.monotonic() - t0)
        # A worker's readiness is the router's count for its route.
        rc, o, r = probe(stack, "clubos-assistant", "--route", "tech", CLUBOS_RUN_DIR=empty)
        assert rc == 1 and o["status"] == "down", r.stdout
        # Over TCP to a host with nobody listening: down within the deadline.
        t0 = time.monotonic()
        rc, o, r = probe(stack, "clubos-cache", CLUBOS_CACHE_HOST="127.0.0.1")
        assert rc == 1 and o["status"] == "down" and o["address"] == "tcp://127.0.0.1:7320", o
        assert time.monotonic() - t0 < 5
    finally:
        os.rmdir(empty)


def test_clubosctl_status_lists_every_daemon(stack):
    r = stack.ctl("status")
    assert r.returncode == 0, r.stdout + r.stderr
    for d in ("clubos-bus", "clubos-router", "clubos-cache", "clubos-intelligence",
              "clubos-actions", "clubos-conversations", "clubos-gateway"):
        line = [x for x in r.stdout.splitlines() if x.startswith(d + " ")]
        assert line and line[0].split()[1] == "ok", (d, r.stdout)
    workers = [x for x in r.stdout.splitlines() if x.startswith("workers:")][0]
    for route in harness.ROUTES:
        assert " %s=" % route in workers, workers
    r = stack.ctl("status", "--json")
    arr = json.loads(r.stdout)
    assert {o["daemon"] for o in arr} >= {"clubos-router", "clubos-gateway", "clubos-bus"}
    assert all(o["status"] == "ok" for o in arr if o["daemon"] != "clubos-assistant"), arr


def test_clubosctl_status_says_down_and_fails(stack):
    empty = tempfile.mkdtemp(prefix="cosh", dir="/tmp")
    try:
        r = stack.ctl("status", CLUBOS_RUN_DIR=empty, CLUBOS_HTTP_PORT=harness.free_port(),
                      timeout=30)
        assert r.returncode == 1, r.stdout
        line = [x for x in r.stdout.splitlines() if x.startswith("clubos-router ")][0]
        assert line.split()[1] == "down", r.stdout
        assert "the router does not answer" in r.stdout, r.stdout
    finally:
        os.rmdir(empty)


# ------------------------------------------------------------------ draining

def _gateway(stack, name, **env):
    port = harness.free_port()
    p = stack.spawn_extra(name, ["clubos-gateway", "-d"], CLUBOS_HTTP_PORT=port, **env)
    harness.wait_listening(p, port, 20)
    harness.wait_for(lambda: harness.request(port, "GET", "/api/health").status == 200, 30,
                     what="%s ready" % name)
    return p, port


def test_a_stopping_gateway_leaves_rotation_first_and_still_answers(stack, accounts):
    """CLUBOS_DRAIN_MS: on SIGTERM the gateway's readiness (/api/health/ready,
    and /api/health) says draining at once while it goes on answering, each answer closing its
    connection, so a load balancer that checks readiness takes it out
    before it stops; liveness stays up throughout; then it stops cleanly."""
    p, port = _gateway(stack, "gateway-drain", CLUBOS_DRAIN_MS=4000)
    live = harness.request(port, "GET", "/api/health/live")
    assert live.status == 200 and live.json == {"status": "alive"}, live
    r = harness.request(port, "GET", "/api/health")
    assert r.status == 200 and "draining" not in r.json, r
    r = harness.request(port, "GET", "/api/health/ready")
    assert r.status == 200 and r.json == {"status": "ready"}, r
    p.p.send_signal(15)
    h = harness.wait_for(lambda: (lambda r: r.status == 503 and r)(
        harness.request(port, "GET", "/api/health")), 3, interval=0.05,
        what="readiness to say draining")
    assert h.json["status"] == "down" and h.json["draining"] is True, h
    assert h.json["components"] == {"gateway": "draining"}, h
    assert "error" not in h.json, h
    r = harness.request(port, "GET", "/api/health/ready")
    assert r.status == 503 and r.json == {"status": "draining"}, r
    a = stack.query(accounts["kiosk"].token, "what time do you open", port=port)
    assert a.status == 200 and a.json["response"], a
    assert a.headers.get("connection", "").lower() == "close", a.headers
    live = harness.request(port, "GET", "/api/health/live")
    assert live.status == 200, live
    assert p.p.wait(30) == 0
    log = open(p.log).read()
    assert "draining: not ready, still serving for 4000 ms" in log, log
    assert "stopped" in log, log


def test_a_second_signal_cuts_the_drain_short(stack):
    p, port = _gateway(stack, "gateway-drain2", CLUBOS_DRAIN_MS=600000)
    p.p.send_signal(15)
    harness.wait_for(lambda: harness.request(port, "GET", "/api/health").status == 503, 5,
                     interval=0.05, what="draining")
    p.p.send_signal(15)
    # Ten minutes of drain, cut short: it exits on its own, cleanly.
    assert p.p.wait(30) == 0
    assert "draining cut short" in open(p.log).read()


def test_without_a_drain_a_gateway_stops_at_once(stack):
    p, port = _gateway(stack, "gateway-nodrain")
    p.p.send_signal(15)
    assert p.p.wait(30) == 0
    assert "draining" not in open(p.log).read()


def test_sigusr1_logs_what_each_end_believes(stack):
    """SIGUSR1: a daemon logs each nng link it holds with its peers, so a
    person can compare both ends of one (the router listening for a route's
    workers, the worker dialing it) without stopping anything."""
    router, worker = stack.procs["router"], stack.procs["assistant-emergency"]
    for p in (router, worker):
        p.p.send_signal(signal.SIGUSR1)
    url = "workers-emergency.ipc"

    def said(p, role):
        for line in open(p.log, errors="replace"):
            m = re.search(r"link: %s \S*%s: (\d+) peer\(s\) \[([0-9,]*)\]" % (role, url), line)
            if m and "[%d]" % p.pid in line:
                return int(m.group(1)), m.group(2)
        return None
    r = harness.wait_for(lambda: said(router, "listens on"), 10, interval=0.1,
                         what="the router's links in its log")
    w = harness.wait_for(lambda: said(worker, "dials"), 10, interval=0.1,
                         what="the worker's links in its log")
    assert r[0] >= 1 and r[1], r
    assert w[0] == 1 and w[1], w
    assert router.alive() and worker.alive()
    assert stack.health().status == 200
