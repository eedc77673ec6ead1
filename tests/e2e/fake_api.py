"""
fake_api.py - what the loopback stand-ins for JSON HTTP APIs share
(fake_openai.py, fake_anthropic.py)

A ScriptedAPI listens on 127.0.0.1 (a free port), records every request
in .requests ({"method", "path", "headers" (lower-cased), "json", "raw",
"at", "answered"}), refuses what the real API would refuse (check()), and
answers a good request with the next scripted response, or default_reply()
when the script is empty.  A response is {"status", "headers", "json"} or
{"raw": text}, may sleep first ({"delay": s}), wait for a test's
threading.Event ({"hold": event}) or close without answering
({"drop": True}), or is a function of the request.

Standard library only.
"""

import http.server
import json
import threading
import time
import uuid


class ScriptedAPI:
    """ScriptedAPI - a scripted JSON API on 127.0.0.1; subclasses say what is
    valid (check) and what an unscripted answer is (default_reply)."""

    base_path = ""                    # appended to the URL tests give the client
    request_id_header = "x-request-id"
    request_id_prefix = "req_"

    def __init__(self, api_key=None, model=None):
        self.api_key = api_key
        self.model = model
        self.requests = []
        self.url = None
        self._queue = []
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    def check(self, request):
        """check - (status, error body) for a request the real API would refuse, or None."""
        return None

    def default_reply(self, request):
        raise NotImplementedError

    def script(self, responses):
        """script - queue responses, answered in order to valid requests."""
        with self._lock:
            self._queue.extend(responses)

    def pending(self):
        """pending - scripted responses not used yet."""
        with self._lock:
            return len(self._queue)

    def reset(self):
        """reset - forget the script and the recorded requests."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()

    def count(self):
        with self._lock:
            return len(self.requests)

    def since(self, n):
        """since - the requests recorded after the first n."""
        with self._lock:
            return list(self.requests[n:])

    def wait_requests(self, n, timeout=10.0):
        """wait_requests - wait until n requests were recorded; True when they were."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count() >= n:
                return True
            time.sleep(0.02)
        return False

    def start(self):
        """start - listen on 127.0.0.1, a free port; returns self."""
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = "http://127.0.0.1:%d%s" % (self._server.server_address[1], self.base_path)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """stop - stop listening (handlers still sleeping are abandoned)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _record(self, req):
        with self._lock:
            self.requests.append(req)

    def _next(self, req):
        with self._lock:
            resp = self._queue.pop(0) if self._queue else None
        if resp is None:
            return self.default_reply(req)
        return resp(req) if callable(resp) else resp


class _Handler(http.server.BaseHTTPRequestHandler):
    """_Handler - one request: read, record, check, answer."""

    protocol_version = "HTTP/1.1"
    owner = None

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        self._handle("POST")

    def do_GET(self):
        self._handle("GET")

    def _handle(self, method):
        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        req = {
            "method": method,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "json": body,
            "raw": raw.decode("utf-8", "replace"),
            "at": time.monotonic(),
        }
        self.owner._record(req)
        bad = self.owner.check(req)
        if bad is not None:
            req["answered"] = bad[0]
            self._send(bad[0], {}, json.dumps(bad[1]).encode())
            return
        resp = self.owner._next(req)
        if resp.get("delay"):
            time.sleep(float(resp["delay"]))
        if resp.get("hold") is not None:     # a threading.Event the test sets
            resp["hold"].wait(60)
        if resp.get("drop"):
            req["answered"] = None
            self.close_connection = True
            return
        status = int(resp.get("status", 200))
        req["answered"] = status
        if "raw" in resp:
            data = resp["raw"].encode() if isinstance(resp["raw"], str) else resp["raw"]
        else:
            data = json.dumps(resp.get("json", {})).encode()
        self._send(status, resp.get("headers") or {}, data)

    def _send(self, status, headers, data):
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header(self.owner.request_id_header,
                             self.owner.request_id_prefix + uuid.uuid4().hex[:20])
            for k, v in headers.items():
                self.send_header(k, str(v))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True   # the client gave up (a timeout)
