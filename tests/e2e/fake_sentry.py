"""
fake_sentry.py - a stand-in for Sentry's envelope endpoint, on loopback

The daemons' error reporter (common/sentry.c) is pointed at this server
with SENTRY_DSN=http://KEY@127.0.0.1:PORT/PROJECT.  It checks each request
the way Sentry's ingestion does: POST /api/PROJECT/envelope/, an
X-Sentry-Auth header "Sentry sentry_version=7, ..., sentry_key=KEY", and
an envelope body: a JSON header line, then items, each a JSON item header
(with "type" and, when given, "length" in bytes) and its payload.  A bad
request gets 400/401/403 with Sentry's {"detail": ...} shape and is kept in
.rejected; a good one gets {"id": event_id} and its events are kept in
.events.  A script can make it answer 429 with Retry-After, 500, or stall.

    fake = FakeSentry(key="abc", project="42").start()
    fake.dsn                              # "http://abc@127.0.0.1:PORT/42"
    fake.script([{"status": 429, "headers": {"Retry-After": "1"}}, {"delay": 10}])
    fake.events[0]["message"]["formatted"]
    fake.stop()

Standard library only.
"""

import http.server
import json
import re
import threading
import time

AUTH_RE = re.compile(r"^Sentry (.+)$")


def parse_envelope(body):
    """parse_envelope - (header, [(item_header, payload bytes)]); raises ValueError when malformed."""
    nl = body.find(b"\n")
    if nl < 0:
        raise ValueError("no envelope header line")
    header = json.loads(body[:nl])
    if not isinstance(header, dict):
        raise ValueError("envelope header is not an object")
    pos, items = nl + 1, []
    while pos < len(body):
        if body[pos:pos + 1] == b"\n":      # a trailing newline
            pos += 1
            continue
        nl = body.find(b"\n", pos)
        if nl < 0:
            raise ValueError("item header without a newline")
        ih = json.loads(body[pos:nl])
        if not isinstance(ih, dict) or not isinstance(ih.get("type"), str):
            raise ValueError("item header without a type: %r" % (ih,))
        pos = nl + 1
        if "length" in ih:
            n = ih["length"]
            if not isinstance(n, int) or n < 0 or pos + n > len(body):
                raise ValueError("item length %r past the body" % (n,))
            payload = body[pos:pos + n]
            pos += n
            if pos < len(body) and body[pos:pos + 1] != b"\n":
                raise ValueError("payload longer than its length")
        else:
            nl = body.find(b"\n", pos)
            nl = len(body) if nl < 0 else nl
            payload = body[pos:nl]
            pos = nl
        items.append((ih, payload))
    return header, items


class FakeSentry:
    def __init__(self, key="fakekey0123456789", project="42"):
        self.key = key
        self.project = project
        self.events = []          # accepted event payloads (dicts)
        self.envelopes = []       # accepted (header, items)
        self.rejected = []        # (status, reason)
        self.requests = 0
        self._script = []
        self._lock = threading.Lock()
        self._srv = None

    @property
    def dsn(self):
        return "http://%s@127.0.0.1:%d/%s" % (self.key, self.port, self.project)

    def script(self, steps):
        with self._lock:
            self._script.extend(steps)

    def _next(self):
        with self._lock:
            return self._script.pop(0) if self._script else None

    def _check(self, h, body):
        """_check - None when the request is what Sentry accepts, else (status, detail)."""
        if h.path != "/api/%s/envelope/" % self.project:
            return 404, "no such endpoint %s" % h.path
        auth = h.headers.get("X-Sentry-Auth", "")
        m = AUTH_RE.match(auth)
        if not m:
            return 401, "missing authorization information"
        fields = dict(p.strip().split("=", 1) for p in m.group(1).split(",") if "=" in p)
        if fields.get("sentry_version") != "7":
            return 401, "unsupported sentry_version %r" % fields.get("sentry_version")
        if fields.get("sentry_key") != self.key:
            return 403, "invalid api key"
        if h.headers.get("Content-Type") != "application/x-sentry-envelope":
            return 400, "content type %r" % h.headers.get("Content-Type")
        try:
            header, items = parse_envelope(body)
            for ih, payload in items:
                if ih["type"] == "event":
                    ev = json.loads(payload)
                    if not isinstance(ev, dict) or not re.fullmatch(r"[0-9a-f]{32}",
                                                                    str(ev.get("event_id"))):
                        raise ValueError("event without a 32-hex event_id")
                    if header.get("event_id") not in (None, ev["event_id"]):
                        raise ValueError("envelope event_id differs from the event's")
        except ValueError as e:
            return 400, "invalid envelope: %s" % e
        if not any(ih["type"] == "event" for ih, _ in items):
            return 400, "no event item"
        return None, (header, items)

    def start(self):
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, status, obj, headers=None):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with fake._lock:
                    fake.requests += 1
                step = fake._next()
                if step and step.get("delay"):
                    time.sleep(step["delay"])
                if step and step.get("status"):
                    self._send(step["status"], {"detail": "scripted"}, step.get("headers"))
                    return
                status, got = fake._check(self, body)
                if status is not None:
                    with fake._lock:
                        fake.rejected.append((status, got))
                    self._send(status, {"detail": got})
                    return
                header, items = got
                with fake._lock:
                    fake.envelopes.append(got)
                    for ih, payload in items:
                        if ih["type"] == "event":
                            fake.events.append(json.loads(payload))
                self._send(200, {"id": header.get("event_id")})

        self._srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self._srv.daemon_threads = True
        self.port = self._srv.server_address[1]
        threading.Thread(target=self._srv.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._srv:
            self._srv.shutdown()
            self._srv.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()
