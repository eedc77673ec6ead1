"""
test_faults.py - fail fast, isolate, shed: dead and slow routes, a router
restart under load

Each test here runs its own small stack (a router, a gateway and the
assistants it needs, in a run directory of their own, on the session's
PostgreSQL and Redis), so killing, freezing and restarting daemons never
disturbs the session's stack.  The cache is off in these stacks, so every
200 proves that a live worker answered.
"""

import os
import shutil
import signal
import socket
import tempfile
import threading
import time

import pytest

import harness

TECH = "the trackman in bay 2 is frozen"
BOOKING = "how do I book a bay"


class MiniStack:
    """MiniStack - router, gateway and some assistants, sharing the session's databases."""

    def __init__(self, stack, routes, **env):
        self.stack = stack
        self.run_dir = tempfile.mkdtemp(prefix="cosf", dir="/tmp")
        self.port = harness.free_port()
        self.env = dict(env)
        self.env.update(CLUBOS_RUN_DIR=self.run_dir, CLUBOS_HTTP_PORT=self.port, CLUBOS_CACHE="off")
        self.procs = {}
        self.procs["router"] = self.spawn("router", ["clubos-router", "-d"])
        for r in routes:
            self.procs["assistant-" + r] = self.spawn(
                "assistant-" + r, ["clubos-assistant", "-d", "--route", r])
        self.procs["gateway"] = self.spawn("gateway", ["clubos-gateway", "-d"])

    def spawn(self, name, argv):
        return self.stack.spawn("f-" + name, argv, **self.env)

    def workers(self, route):
        r = harness.request(self.port, "GET", "/api/health", timeout=5)
        w = harness.find_route_workers(r.json) if isinstance(r.json, dict) else None
        return w.get(route, 0) if w else 0

    def wait_ready(self, routes, timeout=30):
        harness.wait_listening(self.procs["gateway"], self.port, timeout)

        def ok():
            for p in self.procs.values():
                if not p.alive():
                    raise harness.Abort("%r died:\n%s" % (p, harness.tail(p.log)))
            return all(self.workers(r) >= 1 for r in routes)
        harness.wait_for(ok, timeout, interval=0.1, what="mini stack workers %s" % (routes,))

    def query(self, token, message, timeout=harness.HTTP_TIMEOUT):
        return harness.request(self.port, "POST", "/api/query", body={"message": message},
                               token=token, timeout=timeout)

    def stop(self):
        for p in self.procs.values():
            try:
                os.kill(p.pid, signal.SIGCONT)
            except OSError:
                pass
            p.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)


@pytest.fixture
def mini(stack):
    made = []

    def make(routes, **env):
        m = MiniStack(stack, routes, **env)
        made.append(m)
        m.wait_ready(routes)
        return m
    yield make
    for m in made:
        m.stop()


def timed(fn, *a, **kw):
    t0 = time.monotonic()
    r = fn(*a, **kw)
    return r, time.monotonic() - t0


def test_dead_route_fails_fast_and_others_stay_fast(mini, accounts):
    token = accounts["operator"].token
    m = mini(("tech", "booking"))
    r, _ = timed(m.query, token, TECH)
    harness.assert_answer(r, route="tech")

    m.procs["assistant-tech"].kill9()
    harness.wait_for(lambda: m.workers("tech") == 0, 5, what="no tech worker in health")
    for i in range(5):
        r, took = timed(m.query, token, TECH)
        harness.assert_error(r, 503, "no_worker")
        assert took < 0.5, "no tech worker, yet the 503 took %.2fs" % took
        r, took = timed(m.query, token, BOOKING)
        harness.assert_answer(r, route="booking")
        assert took < 1.0, "booking took %.2fs while tech was down" % took


def test_a_peer_leaving_mid_handshake_does_not_lock_workers_out(mini, accounts):
    """nng 1.5.2 stops taking connections on a listener for good once a peer
    closes before the listener's handshake header went out (common/link.h):
    a worker dialing in then believes it is connected while the router never
    sees it.  A raw connect closed while the router is stopped (SIGSTOP)
    does it every time: the router's header goes out only after it resumes,
    to a peer already gone.  The router's listener watch must report the
    stopped listener and open it again, and the tech worker started after
    that must be served."""
    token = accounts["operator"].token
    m = mini(("tech",))
    m.procs["assistant-tech"].stop()
    harness.wait_for(lambda: m.workers("tech") == 0, 5, what="no tech worker in health")
    path = os.path.join(m.run_dir, "workers-tech.ipc")
    said = "workers-tech.ipc had stopped taking connections"

    def reopened():
        with open(m.procs["router"].log) as f:
            return said in f.read()
    router = m.procs["router"].pid
    harness.freeze(router)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(path)
    finally:
        os.kill(router, signal.SIGCONT)
    harness.wait_for(reopened, 10, what="the router's watch reopening its stopped tech listener")
    m.procs["assistant-tech"] = m.spawn("assistant-tech",
                                        ["clubos-assistant", "-d", "--route", "tech"])
    harness.wait_for(lambda: m.workers("tech") >= 1, 20, what="the new tech worker in health")
    harness.assert_answer(m.query(token, TECH), route="tech")


def test_slow_route_is_shed_and_others_stay_fast(mini, accounts):
    token = accounts["operator"].token
    m = mini(("tech", "booking"), CLUBOS_ROUTE_MAX_INFLIGHT=2)
    harness.assert_answer(m.query(token, TECH), route="tech")

    tech = m.procs["assistant-tech"]
    harness.freeze(tech.pid)      # connected, but answers nothing
    try:
        results = []

        def ask():
            results.append(timed(m.query, token, TECH))
        hung = [threading.Thread(target=ask) for _ in range(2)]
        for t in hung:
            t.start()
        # The two hung requests hold both of the route's slots.
        harness.wait_for(lambda: _inflight(m, "tech") >= 2, 5, what="two tech requests in flight")
        for i in range(3):
            r, took = timed(m.query, token, TECH)
            harness.assert_error(r, 503, "overloaded")
            assert took < 0.5, "a full route took %.2fs to refuse" % took
            r, took = timed(m.query, token, BOOKING)
            harness.assert_answer(r, route="booking")
            assert took < 1.0, "booking took %.2fs while tech was stuck" % took
        # The cap is per connected worker: a second tech worker makes room
        # for two more at once, so the next one is not refused as full
        # (it is answered, or waits on the stopped worker and times out).
        m.procs["assistant-tech-2"] = m.spawn("assistant-tech-2",
                                              ["clubos-assistant", "-d", "--route", "tech"])
        harness.wait_for(lambda: m.workers("tech") == 2, 10, what="a second tech worker")
        assert _inflight(m, "tech") >= 2, "the hung requests ended too early for this check"
        r, _ = timed(m.query, token, TECH)
        refused = r.status == 503 and isinstance(r.json, dict) and \
            (r.json.get("error") or {}).get("code") == "overloaded"
        assert not refused, "two workers, two in flight, cap 2 per worker, yet refused as full: %r" % (r,)
        for t in hung:
            t.join(30)
        assert len(results) == 2
        for r, took in results:
            harness.assert_error(r, 503)
            assert took < harness.QUERY_TIMEOUT_MS / 1000.0 + 1.5, "a stuck call took %.2fs" % took
    finally:
        os.kill(tech.pid, signal.SIGCONT)
    # The slots come back: tech answers again.
    r = harness.wait_for(lambda: (lambda x: x.status == 200 and x)(m.query(token, TECH)), 10,
                         interval=0.2, what="tech answers after it thaws")
    harness.assert_answer(r, route="tech")


def _inflight(m, route):
    r = harness.request(m.port, "GET", "/api/health", timeout=5)
    found = []

    def walk(o):
        if isinstance(o, dict):
            if isinstance(o.get("inflight"), dict):
                found.append(o["inflight"])
            for v in o.values():
                walk(v)
    walk(r.json)
    return found[0].get(route, 0) if found else 0


def test_router_restart_under_a_trickle_recovers(mini, accounts):
    token = accounts["operator"].token
    m = mini(("tech", "booking"))
    stop = threading.Event()
    log = []            # (time, status)

    def trickle():
        while not stop.is_set():
            r = m.query(token, BOOKING, timeout=10)
            log.append((time.monotonic(), r.status))
            stop.wait(0.05)
    threads = [threading.Thread(target=trickle) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        harness.wait_for(lambda: any(s == 200 for _, s in log), 10, what="the trickle answered")
        m.procs["router"].kill9()
        t_kill = time.monotonic()
        harness.wait_for(lambda: any(t > t_kill and s == 503 for t, s in log), 10,
                         what="a 503 while the router is down")
        m.procs["router"] = m.spawn("router", ["clubos-router", "-d"])
        harness.wait_for(lambda: m.procs["router"].alive() and
                         any(t > t_kill and s == 200 for t, s in log), 20,
                         interval=0.1, what="the trickle answered again after the restart")
        t_back = time.monotonic()
        harness.wait_for(lambda: len([1 for t, _ in log if t > t_back]) >= 20, 20,
                         what="twenty more answers")
    finally:
        stop.set()
        for t in threads:
            t.join(20)
    after = [s for t, s in log if t > t_back]
    assert after and all(s == 200 for s in after), "after recovery: %r" % after
    # Every worker dialled back in: both routes answer from a worker.
    m.wait_ready(("tech", "booking"), timeout=10)
    harness.assert_answer(m.query(token, TECH), route="tech")
    harness.assert_answer(m.query(token, BOOKING), route="booking")


def test_sighup_storm_while_queries_run(mini, accounts):
    """Every daemon reloads its configuration many times under queries: no
    crash, no failed query (the CI runs this under ASan/UBSan too)."""
    token = accounts["operator"].token
    m = mini(("tech", "booking"))
    stop = threading.Event()
    statuses = []

    def ask():
        i = 0
        while not stop.is_set():
            r = m.query(token, (TECH, BOOKING)[i % 2], timeout=10)
            statuses.append((r.status, r.json if r.status != 200 else None))
            i += 1
    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        n = 0
        deadline = time.monotonic() + 30
        while (n < 200 or len(statuses) < 30) and time.monotonic() < deadline:
            for p in m.procs.values():
                os.kill(p.pid, signal.SIGHUP)
            n += 1
            if n % 20 == 0:
                harness.wait_for(lambda k=len(statuses): len(statuses) > k, 10,
                                 what="queries answered between reloads")
    finally:
        stop.set()
        for t in threads:
            t.join(20)
    for name, p in m.procs.items():
        assert p.alive(), "%s died under SIGHUP:\n%s" % (name, harness.tail(p.log))
    bad = [s for s in statuses if s[0] != 200]
    assert len(statuses) >= 30 and not bad, "%d queries, failures: %r" % (len(statuses), bad[:5])
    harness.assert_answer(m.query(token, TECH), route="tech")


def test_feedback_finds_its_answer_while_the_trace_writer_is_overloaded(mini, stack, accounts):
    """The trace writer held back with a tiny queue: steps are dropped, yet
    feedback on every answer is stored with the answer's route and SOP."""
    token = accounts["customer"].token
    hold = os.path.join(tempfile.mkdtemp(prefix="cosh", dir="/tmp"), "hold")
    open(hold, "w").close()
    m = mini(("tech", "booking"), CLUBOS_TRACE_QUEUE_MAX=10, CLUBOS_TRACE_HOLD_FILE=hold)
    try:
        answers = []
        for i in range(12):
            r = m.query(token, (TECH, BOOKING)[i % 2])
            answers.append(harness.assert_answer(r))
        for i, a in enumerate(answers):
            r = harness.request(m.port, "POST", "/api/feedback", token=token, body={
                "trace_id": a["trace_id"], "helpful": i % 3 != 0, "comment": "n%d" % i})
            assert r.status == 200, (i, r)
            assert r.json["trace_id"] == a["trace_id"] and r.json["helpful"] == (i % 3 != 0), r
        for i, a in enumerate(answers):
            rows = stack.pg.sql(
                "SELECT f.helpful, f.comment, f.route, f.sop_slug, t.route FROM feedback f "
                "JOIN traces t USING (trace_id) WHERE f.trace_id = :'v1'", a["trace_id"])
            assert len(rows) == 1, (i, rows)
            helpful, comment, froute, fslug, troute = rows[0]
            assert helpful == ("t" if i % 3 != 0 else "f") and comment == "n%d" % i, rows
            assert froute == troute == a["route"] and fslug == a["sop"]["slug"], (rows, a)
    finally:
        shutil.rmtree(os.path.dirname(hold), ignore_errors=True)
    # Released, the writer stores the rest: every answer has its one summary.
    ids = [a["trace_id"] for a in answers]
    harness.wait_for(lambda: int(stack.pg.sql(
        "SELECT count(*) FROM traces WHERE trace_id = ANY(string_to_array(:'v1', ','))",
        ",".join(ids))[0][0]) == len(ids), 15, interval=0.2, what="every summary stored")
