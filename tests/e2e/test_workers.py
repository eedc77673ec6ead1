"""
test_workers.py - assistants come and go; the router keeps answering

Kills the stack's tech assistant and puts a new one in its place, so the
stack is whole again at the end (also when the test fails).

Every query here uses a tech topic no other test asks about, each once
where a success must prove that a worker answered (cache == "miss"),
so no answer can come from a cache instead of a live worker.
"""

import time

import harness

# Distinct tech topics, one per step, asked nowhere else in the suite.
AFTER_KILL = [
    "the side screens in bay 1 are not working",
    "there is no sound at all in bay 3",
    "bay 4 is showing a windows desktop instead of the game",
]
WHILE_DOWN = "the projector in bay 2 has no signal, the screen is blank"
RECOVERED = "the qr code login on the trackman doesn't work"


def _tech_workers(stack):
    w = harness.find_route_workers(stack.health().json)
    assert w is not None, "health has no per-route worker counts"
    return w["tech"]


def _tech_answer(stack, token, message):
    r = stack.query(token, message)
    a = harness.assert_answer(r, route="tech")
    assert a["cache"] == "miss", "answer came from cache %r, not from a worker: %r" % (a["cache"], a)
    return a


def test_tech_workers_fail_over_and_recover(stack, accounts):
    token = accounts["operator"].token
    first = stack.procs["assistant-tech"]
    second = None
    third = None
    try:
        assert first.alive(), first
        second = stack.spawn_extra("assistant-tech-2", ["clubos-assistant", "-d", "--route", "tech"])
        harness.wait_for(lambda: second.alive() and _tech_workers(stack) >= 2 or
                         (not second.alive() and _died(second)),
                         10, what="second tech worker in health")

        first.kill9()
        for m in AFTER_KILL:
            _tech_answer(stack, token, m)

        second.kill9()
        t0 = time.monotonic()
        r = stack.query(token, WHILE_DOWN)
        took = time.monotonic() - t0
        harness.assert_error(r, 503)
        limit = harness.QUERY_TIMEOUT_MS / 1000.0 + 2.0
        assert took <= limit, "503 took %.2fs, more than the %.1fs deadline" % (took, limit)
        harness.wait_for(lambda: _tech_workers(stack) == 0, 5, what="health to show no tech worker")

        third = stack.spawn("assistant-tech", ["clubos-assistant", "-d", "--route", "tech"])
        stack.procs["assistant-tech"] = third

        def recovered():
            if not third.alive():
                _died(third)
            r = stack.query(token, RECOVERED)
            return r.status == 200 and r
        r = harness.wait_for(recovered, 10, interval=0.2, what="tech answers after a worker restarts")
        a = harness.assert_answer(r, route="tech")
        assert a["cache"] == "miss", a
    finally:
        for p in (first, second):
            if p is not None and p.alive():
                p.kill9()
        if second is not None and second in stack.extra:
            stack.extra.remove(second)
        if third is None or not third.alive():
            stack.procs["assistant-tech"] = stack.spawn(
                "assistant-tech", ["clubos-assistant", "-d", "--route", "tech"])
        harness.wait_for(lambda: _tech_workers(stack) >= 1 and stack.health().json["status"] == "ok",
                         15, what="stack healthy again with a tech worker")


def _died(p):
    raise harness.Abort("%r died:\n%s" % (p, harness.tail(p.log)))
