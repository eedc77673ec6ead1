"""
test_lifecycle.py - a gateway stops gracefully on SIGTERM

Stops the session's gateway and starts it again on the same port (so its
real pid file is the one checked), leaving the stack as it found it.  Requests are put in flight on raw sockets; the test
waits until the gateway has accepted every connection and read every byte
(/proc/net/tcp: empty accept queue, no unread bytes on its sockets), then
sends SIGTERM.  Every such request must get a whole HTTP response; the
process must exit 0 within 6 s and remove its pid file.
"""

import glob
import json
import os
import signal
import socket
import time

import harness

# Booking questions no other test asks (so no cache tier can answer them).
MESSAGES = [
    "can I extend my session by half an hour",
    "my card was declined when I tried to book",
    "how far in advance can I reserve a bay",
    "I'd like to book three bays for a company party",
    "I never got my confirmation email for tonight",
    "what's the minimum length of a booking",
]


def _pidfiles_of(run_dir, pid):
    out = []
    for path in glob.glob(os.path.join(run_dir, "*.pid")):
        try:
            with open(path) as f:
                if f.read().strip() == str(pid):
                    out.append(path)
        except OSError:
            pass
    return out


def test_sigterm_finishes_in_flight_requests(stack, accounts):
    port = stack.port
    gw = stack.procs["gateway"]
    paused = False
    booking = None
    try:
        assert gw.alive(), gw
        stack.wait_healthy(port, 10, [gw])
        pidfiles = _pidfiles_of(stack.run_dir, gw.pid)
        assert pidfiles, "no pid file holding pid %d in %s: %r" % (
            gw.pid, stack.run_dir, os.listdir(stack.run_dir))

        booking = stack.procs["assistant-booking"]
        harness.freeze(booking.pid)
        paused = True
        socks = []
        for m in MESSAGES:
            body = json.dumps({"message": m}).encode()
            req = harness.raw_head(port, "POST", "/api/query", accounts["customer"].token,
                                   len(body)) + body
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(req)
            socks.append(s)
        harness.wait_read_by_server(port)

        t0 = time.monotonic()
        gw.p.send_signal(signal.SIGTERM)
        try:
            harness.wait_for(lambda: not harness.tcp_state(port)[0], 2, interval=0.005, what="listener closed")
        except AssertionError:
            pass    # a gateway may keep listening while it drains; go on either way
        os.kill(booking.pid, signal.SIGCONT)
        paused = False
        problems = []
        for m, s in zip(MESSAGES, socks):
            try:
                r = harness.read_response(s, 10)
                if r.status == 200:
                    harness.assert_answer(r)
                else:
                    harness.assert_error(r, 503)
            except (OSError, AssertionError) as e:
                problems.append("%r: %r" % (m, e))
            finally:
                s.close()
        assert not problems, "in-flight requests not answered across SIGTERM:\n" + "\n".join(problems)

        try:
            rc = gw.p.wait(max(0.1, 6.0 - (time.monotonic() - t0)))
        except Exception:
            raise AssertionError("gateway still running 6 s after SIGTERM:\n%s\nits threads:\n%s"
                                 % (harness.tail(gw.log), harness.stacks(gw.pid)))
        assert rc == 0, "gateway exited %r after SIGTERM:\n%s" % (rc, harness.tail(gw.log))
        left = [p for p in pidfiles if os.path.exists(p)]
        assert not left, "pid file left behind: %r" % (left,)
    finally:
        if paused:
            os.kill(booking.pid, signal.SIGCONT)
        gw.stop()
        # put the session's gateway back, on the same port
        stack.procs["gateway"] = stack.spawn("gateway", ["clubos-gateway", "-d"])
        stack.wait_healthy(port, 20, [stack.procs["gateway"]])
