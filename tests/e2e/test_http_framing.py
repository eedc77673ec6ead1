"""
test_http_framing.py - the front door over real sockets: framing, deadlines, caps, shedding

A gateway of its own with tight limits (one HTTP worker, a queue of two,
1.5 s to send a head or a body, at most 6 connections per address and 16
in all), so every limit can be reached with a handful of sockets.  Load
comes from several loopback addresses (127.0.0.2, 127.0.0.3, ...: Linux
routes all of 127/8 to lo) so the per-address cap and the global one can
be told apart.

What is checked: smuggling attempts on a pipelined connection get 400 and
the connection closes before the smuggled request is read; well-formed
pipelining and keep-alive still work; slow-loris clients get 408 within the
head deadline even when they keep trickling bytes, and the gateway keeps
answering others meanwhile; connections over a cap get 503 with
Retry-After at once; a full queue answers 503 at once, a request that
waited too long gets 503 without a handler run, and a request whose client
hung up while it waited is dropped without a handler run (/metrics).
"""

import json
import os
import re
import select
import signal
import socket
import time

import pytest

import harness

HEAD_MS = 1500
PER_ADDR = 6
GLOBAL = 16
QUEUE = 2
QUEUE_WAIT_MS = 500


@pytest.fixture(scope="module")
def gw(stack):
    """gw - the port of a gateway with tight HTTP limits; stopped after the module."""
    port = harness.free_port()
    p = stack.spawn_extra("gateway-tight", ["clubos-gateway", "-d"],
                          CLUBOS_HTTP_PORT=port,
                          CLUBOS_HTTP_WORKERS=1,
                          CLUBOS_HTTP_QUEUE_MAX=QUEUE,
                          CLUBOS_HTTP_QUEUE_WAIT_MS=QUEUE_WAIT_MS,
                          CLUBOS_HTTP_HEADER_TIMEOUT_MS=HEAD_MS,
                          CLUBOS_HTTP_BODY_TIMEOUT_MS=HEAD_MS,
                          CLUBOS_HTTP_IDLE_TIMEOUT_MS=20000,
                          CLUBOS_HTTP_MAX_CONNS=GLOBAL,
                          CLUBOS_HTTP_MAX_CONNS_PER_ADDR=PER_ADDR)
    try:
        stack.wait_healthy(port, 30, [p])
        yield port
    finally:
        p.stop()
        if p in stack.extra:
            stack.extra.remove(p)


# ------------------------------------------------------------------ helpers

def connect(port, src="127.0.0.1", timeout=10):
    """connect - a TCP connection to the gateway from a chosen loopback address."""
    return socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(src, 0))


def head(method="GET", path="/api/health", extra=(), version="HTTP/1.1", host=True):
    """head - the bytes of a request head (keep-alive unless extra says otherwise)."""
    lines = ["%s %s %s" % (method, path, version)]
    if host:
        lines.append("Host: desk.example")
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_one(s, timeout=10.0):
    """read_one - exactly one response (head and Content-Length body) from s; leaves the rest."""
    s.settimeout(timeout)
    buf = getattr(s, "_pending", b"")
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        assert chunk, "connection closed before a whole response head: %r" % (buf[:200],)
        buf += chunk
    h, _, rest = buf.partition(b"\r\n\r\n")
    lines = h.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = s.recv(65536)
        assert chunk, "connection closed inside a response body"
        rest += chunk
    s._pending = rest[n:]
    return harness.Resp(status, headers, rest[:n])


class Sock(socket.socket):
    """Sock - a socket that can keep bytes read past one response (read_one)."""


def sock(port, src="127.0.0.1", timeout=10):
    s = connect(port, src, timeout)
    return Sock(fileno=s.detach())


def closed_by_peer(s, timeout=5.0):
    """closed_by_peer - True when the server closes s (EOF or reset) within timeout, sending nothing more."""
    s.settimeout(timeout)
    rest = getattr(s, "_pending", b"")
    assert rest == b"", "bytes after the response: %r" % (rest[:200],)
    try:
        data = s.recv(65536)
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    assert data == b"", "more bytes after the last response: %r" % (data[:200],)
    return True


METRIC = re.compile(r'^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$')


def metrics(port):
    """metrics - {name or name{labels}: value} from GET /metrics."""
    r = harness.request(port, "GET", "/metrics")
    assert r.status == 200, r
    out = {}
    for line in r.body.decode().splitlines():
        m = METRIC.match(line)
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def quiet(port):
    """quiet - wait until only the /metrics connection asking is open and nothing is queued."""
    def ok():
        m = metrics(port)
        return m["clubos_http_connections"] <= 1 and m["clubos_http_queued"] == 0 and m
    return harness.wait_for(ok, 10, interval=0.05, what="the gateway's connections to drain")


def assert_shed(r):
    harness.assert_error(r, 503, "overloaded")
    ra = r.headers.get("retry-after")
    assert ra is not None and ra.isdigit() and int(ra) >= 1, "503 without Retry-After: %r" % (r.headers,)


# ------------------------------------------------------------------ framing

SMUGGLES = {
    "CL.CL": b"POST /api/health HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 45\r\n\r\n",
    "CL.CL equal": b"POST /api/health HTTP/1.1\r\nHost: a\r\nContent-Length: 45\r\nContent-Length: 45\r\n\r\n",
    "CL.TE": b"POST /api/health HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "TE.CL": b"POST /api/health HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n",
    "TE space": b"POST /api/health HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n",
    "NUL in a field": b"GET /api/health HTTP/1.1\r\nHost: a\r\nX-A: b\x00\r\nContent-Length: 45\r\n\r\n",
    "obs-fold": b"GET /api/health HTTP/1.1\r\nHost: a\r\nX-A: b\r\n Content-Length: 45\r\n\r\n",
    "bare LF": b"GET /api/health HTTP/1.1\nHost: a\nContent-Length: 45\n\n",
}
SMUGGLED = b"GET /api/nothing-here HTTP/1.1\r\nHost: a\r\n\r\n"


@pytest.mark.parametrize("name", sorted(SMUGGLES))
def test_smuggling_gets_400_and_the_connection_closes(gw, name):
    s = sock(gw)
    try:
        s.sendall(SMUGGLES[name] + SMUGGLED)
        r = read_one(s)
        harness.assert_error(r, 400, "bad_http")
        assert r.headers.get("connection", "").lower() == "close", r.headers
        assert closed_by_peer(s), "connection left open after a framing error"
    finally:
        s.close()


@pytest.mark.parametrize("raw,status,code", [
    (head("POST", extra=["Transfer-Encoding: chunked"]), 411, "length_required"),
    (head("POST", extra=["Transfer-Encoding: gzip, chunked"]), 501, "not_implemented"),
    (head(version="HTTP/2.0"), 505, "http_version_not_supported"),
    (head(host=False), 400, "bad_http"),
    (head("GET", "/api/health\x01"), 400, "bad_http"),
    (head(extra=["X-F%d: v" % i for i in range(70)]), 431, "headers_too_large"),
])
def test_framing_errors_have_the_contract_shape(gw, raw, status, code):
    s = sock(gw)
    try:
        s.sendall(raw)
        r = read_one(s)
        harness.assert_error(r, status, code)
        assert closed_by_peer(s)
    finally:
        s.close()


def test_bytes_after_an_error_are_read_not_reset(gw):
    """After an error the server reads what the client still sends, then closes with a FIN.

    A socket closed with unread bytes is reset, and a client reset while it
    is still sending (a chunked body we refused, say) may never read the
    answer.  So the client here goes on sending after the 411 and must then
    see an orderly end, not a reset.
    """
    s = sock(gw)
    try:
        s.sendall(head("POST", "/api/query", ["Transfer-Encoding: chunked"]))
        harness.assert_error(read_one(s), 411, "length_required")
        for _ in range(16):
            s.sendall(b"3ff\r\n" + b"x" * 1023 + b"\r\n")
        s.settimeout(10)
        assert s.recv(100) == b"", "bytes after the 411"
    finally:
        s.close()


def test_pipelined_requests_and_keep_alive(gw):
    body = b'{"a": 1}'
    s = sock(gw)
    try:
        # Three requests in one write, the middle one with a body that looks like a request.
        s.sendall(head() + head("POST", "/api/nowhere", ["Content-Length: %d" % len(SMUGGLED)]) +
                  SMUGGLED + head("GET", "/api/health"))
        assert read_one(s).status == 200
        harness.assert_error(read_one(s), 404, "not_found")
        assert read_one(s).status == 200
        # The connection is still good for another.
        s.sendall(head("POST", "/api/nowhere", ["Content-Length: %d" % len(body)]) + body)
        harness.assert_error(read_one(s), 404)
    finally:
        s.close()


def test_http10_closes_unless_asked(gw):
    s = sock(gw)
    try:
        s.sendall(head(version="HTTP/1.0", host=False))
        r = read_one(s)
        assert r.status == 200 and r.headers.get("connection", "").lower() == "close", r
        assert closed_by_peer(s)
    finally:
        s.close()
    s = sock(gw)
    try:
        s.sendall(head(version="HTTP/1.0", host=False, extra=["Connection: keep-alive"]))
        assert read_one(s).status == 200
        s.sendall(head(extra=["Connection: close"]))
        r = read_one(s)
        assert r.status == 200 and r.headers.get("connection", "").lower() == "close", r
        assert closed_by_peer(s)
    finally:
        s.close()


# ---------------------------------------------------------------- deadlines

def test_slow_loris_gets_408_while_others_are_served(gw):
    quiet(gw)
    before = metrics(gw)
    lorises = []
    try:
        # Up to the per-address cap, from one address, each with half a head.
        for _ in range(PER_ADDR):
            s = sock(gw, "127.0.0.2")
            s.sendall(b"GET /api/health HTTP/1.1\r\nHost: a\r\nX-Slow: ")
            lorises.append(s)
        t0 = time.monotonic()
        # One more keeps trickling a byte every 0.2 s: a per-read timeout would never fire.
        trickler = sock(gw, "127.0.0.3")
        trickler.sendall(b"GET /api/health HTTP/1.1\r\n")
        # The desk answers others meanwhile, at once.
        for _ in range(3):
            t = time.monotonic()
            assert harness.request(gw, "GET", "/api/health", timeout=5).status == 200
            assert time.monotonic() - t < 2.0, "the desk was slow to answer beside the lorises"
        got = None
        while got is None and time.monotonic() - t0 < 10:
            ready, _, _ = select.select([trickler], [], [], 0.2)
            if ready:
                got = read_one(trickler)
            else:
                try:
                    trickler.sendall(b"X")
                except OSError:
                    break   # cut off: the 408 is waiting to be read
        if got is None:
            got = read_one(trickler, timeout=1)
        harness.assert_error(got, 408, "request_timeout")
        took = time.monotonic() - t0
        assert HEAD_MS / 1000.0 * 0.8 <= took <= HEAD_MS / 1000.0 + 5, "408 after %.2fs" % took
        for s in lorises:
            harness.assert_error(read_one(s, timeout=HEAD_MS / 1000.0 + 5), 408, "request_timeout")
            assert closed_by_peer(s)
        after = metrics(gw)
        assert after['clubos_http_timeouts_total{phase="header"}'] - \
            before['clubos_http_timeouts_total{phase="header"}'] == PER_ADDR + 1
    finally:
        for s in lorises:
            s.close()


def test_slow_body_gets_408(gw):
    s = sock(gw)
    try:
        s.sendall(head("POST", "/api/auth/login", ["Content-Type: application/json",
                                                   "Content-Length: 100"]) + b'{"email"')
        r = read_one(s, timeout=HEAD_MS / 1000.0 + 5)
        harness.assert_error(r, 408, "request_timeout")
        assert closed_by_peer(s)
    finally:
        s.close()


def test_a_silent_connection_is_closed_without_an_answer(gw):
    s = sock(gw)
    try:
        s.settimeout(HEAD_MS / 1000.0 + 5)
        assert s.recv(100) == b"", "a connection that asked nothing got an answer"
    except ConnectionResetError:
        pass
    finally:
        s.close()


# --------------------------------------------------------------------- caps

def test_per_address_and_global_caps(gw):
    quiet(gw)
    before = metrics(gw)
    held = []
    try:
        # Keep-alive connections that each finished a request: idle, not slow.
        def open_idle(src):
            s = sock(gw, src)
            s.sendall(head())
            assert read_one(s).status == 200
            held.append(s)

        for _ in range(PER_ADDR):
            open_idle("127.0.0.4")
        t = time.monotonic()
        s = sock(gw, "127.0.0.4")
        held.append(s)
        assert_shed(read_one(s))
        assert time.monotonic() - t < 2.0, "refusing took too long"
        assert closed_by_peer(s)
        # Other addresses still get in, up to the global cap.  Connections
        # that just closed may hold a place for a moment (they are freed by
        # a worker), so fill until refused and check where that happened.
        admitted = 0
        while True:
            s = sock(gw, "127.0.0.%d" % (5 + admitted // PER_ADDR))
            held.append(s)
            s.sendall(head())
            r = read_one(s)
            if r.status != 200:
                assert_shed(r)
                break
            admitted += 1
            assert admitted <= GLOBAL - PER_ADDR, "more connections admitted than the global cap"
        assert admitted >= GLOBAL - PER_ADDR - 2, "refused at %d of %d" % (PER_ADDR + admitted, GLOBAL)
        # Room again once one leaves.
        held[0].close()
        harness.wait_for(lambda: harness.request(gw, "GET", "/api/health", timeout=5).status == 200,
                         10, what="a connection to be admitted again")
        for s in held:
            s.close()
        after = harness.wait_for(lambda: metrics(gw), 10, what="/metrics once the caps have room")
        assert after['clubos_http_refused_total{cap="address"}'] - \
            before['clubos_http_refused_total{cap="address"}'] == 1
        assert after['clubos_http_refused_total{cap="global"}'] - \
            before['clubos_http_refused_total{cap="global"}'] >= 1
    finally:
        for s in held:
            s.close()


# ----------------------------------------------------------------- shedding

def test_queue_full_late_and_gone(stack, accounts, gw):
    """One worker held by a query whose assistant is stopped; then three more requests."""
    quiet(gw)
    booking = stack.procs["assistant-booking"]
    token = accounts["customer"].token
    socks = []
    harness.freeze(booking.pid)
    try:
        before = metrics(gw)
        body = json.dumps({"message": "can we get a bay for a bachelor party of twelve on a friday"}).encode()
        q = sock(gw, "127.0.0.10")
        socks.append(q)
        q.sendall(head("POST", "/api/query", ["Authorization: Bearer " + token,
                                              "Content-Type: application/json",
                                              "Content-Length: %d" % len(body)]) + body)
        harness.wait_read_by_server(gw)
        # The worker is now in the query's handler.  This one leaves while queued.
        gone = sock(gw, "127.0.0.10")
        gone.sendall(head("GET", "/api/health"))
        harness.wait_read_by_server(gw)
        gone.close()
        # This one waits longer than the bound.
        late = sock(gw, "127.0.0.10")
        socks.append(late)
        late.sendall(head("GET", "/api/health"))
        harness.wait_read_by_server(gw)
        # The queue (two) is full: answered at once, while the worker is still busy.
        full = sock(gw, "127.0.0.10")
        socks.append(full)
        t = time.monotonic()
        full.sendall(head("GET", "/api/health"))
        assert_shed(read_one(full, timeout=2.5))
        assert time.monotonic() - t < 2.5, "a full queue was not answered at once"

        # The query ends at its deadline (its assistant is stopped): only then
        # is the worker free, so the request queued behind it waited too long.
        r = read_one(q, timeout=harness.QUERY_TIMEOUT_MS / 1000.0 + 5)
        assert r.status in (200, 503, 504), r
        os.kill(booking.pid, signal.SIGCONT)
        assert_shed(read_one(late, timeout=10))

        calls = [0]

        def counted():
            calls[0] += 1
            m = metrics(gw)
            return m['clubos_http_shed_total{reason="client_gone"}'] > \
                before['clubos_http_shed_total{reason="client_gone"}'] and m
        after = harness.wait_for(counted, 10, what="the dropped request to be counted")
        d = {k: after[k] - before[k] for k in before if k.startswith("clubos_http_")}
        assert d['clubos_http_shed_total{reason="client_gone"}'] == 1, d
        assert d['clubos_http_shed_total{reason="waited_too_long"}'] == 1, d
        assert d['clubos_http_shed_total{reason="queue_full"}'] == 1, d
        # Handlers ran for the query and for each /metrics asked since `before`
        # (counted as it starts): not for the dropped request, not for the late one.
        assert d["clubos_http_handled_total"] == 1 + calls[0], (d, calls)
    finally:
        os.kill(booking.pid, signal.SIGCONT)
        for s in socks:
            s.close()
