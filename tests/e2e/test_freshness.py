"""
test_freshness.py - no answer built from a replaced SOP survives a restart or a lost event

The gateway's half of L1 serves an entry only while the knowledge
generation it was stored at is current.  It learns a new generation three
ways: from the answer of a change it made itself, from sop.changed on the
bus, and by reading PostgreSQL every half second, so neither a restarted
router nor a bus that lost the event can leave an old answer in service.
"""

import harness


def _ask(stack, token, message, port=None):
    return harness.assert_answer(stack.query(token, message, port=port))


def _edit(stack, admin, slug, marker):
    cur = stack.http("GET", "/api/sops/" + slug, token=admin).json
    r = stack.http("PUT", "/api/sops/" + slug, token=admin,
                   body={"content": cur["content"] + "\n\n" + marker, "base_sha256": cur["sha256"]})
    assert r.status == 200, r
    return r.json["version"]


def test_a_router_restart_between_a_change_and_a_repeat_serves_no_stale_answer(stack, accounts):
    t, admin = accounts["customer"].token, accounts["admin"].token
    q = "where can i park at riverside in the evening"
    first = _ask(stack, t, q)
    slug = first["sop"]["slug"]
    assert _ask(stack, t, q)["cache"] == "l1"
    marker = "Freshness marker: the router restarted after this change."
    version = _edit(stack, admin, slug, marker)
    router = stack.procs["router"]
    router.kill9()
    stack.procs["router"] = stack.spawn("router", ["clubos-router", "-d"])
    stack.wait_healthy(stack.port, 30, stack.procs.values())
    after = _ask(stack, t, q)
    assert after["sop"]["version"] == version, after
    assert marker in after["response"], "an answer of the replaced version was served: %r" % after


def test_a_second_gateway_catches_up_when_the_bus_lost_the_event(stack, accounts):
    t, admin = accounts["customer"].token, accounts["admin"].token
    q = "how long does a round of nine holes take"
    port = harness.free_port()
    other = stack.spawn_extra("gateway-b", ["clubos-gateway", "-d"], CLUBOS_HTTP_PORT=port)
    stack.wait_healthy(port, 30, [other])
    first = _ask(stack, t, q, port=port)
    slug = first["sop"]["slug"]
    again = _ask(stack, t, q, port=port)
    assert again["cache"] == "l1", again
    # The bus goes away: sop.changed for the edit below reaches nobody.
    stack.procs.pop("bus").stop()
    try:
        marker = "Freshness marker: this change was never announced on the bus."
        version = _edit(stack, admin, slug, marker)

        def fresh():
            a = _ask(stack, t, q, port=port)
            return a["sop"]["version"] == version and marker in a["response"] and a
        harness.wait_for(fresh, 5, interval=0.1,
                         what="the second gateway to serve the new version without the bus")
    finally:
        stack.procs["bus"] = stack.spawn("bus", ["clubos-bus", "-d"])
        other.stop()
    stack.wait_healthy(stack.port, 30, stack.procs.values())
