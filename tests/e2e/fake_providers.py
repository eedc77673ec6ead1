"""
fake_providers.py - loopback servers speaking Slack, OpenPhone, NinjaOne and UniFi Access

One threaded HTTP server on a free port; each provider lives under its
own prefix, so its base URL is http://127.0.0.1:PORT/<prefix>:

  /slack      POST /chat.postMessage       (Bearer) -> {"ok": true, "ts", "channel"}
                                           bad token -> 200 {"ok": false, "error": "invalid_auth"}
  /openphone  POST /v1/messages            (Authorization: <key>) -> 202 {"data": {"id", ...}}
  /ninja      POST /ws/oauth/token         (form, client credentials) -> {"access_token", "expires_in"}
              POST /v2/device/{id}/script/run, /v2/device/{id}/reboot/{mode}
                                           (Bearer) -> 204; an unknown or expired token -> 401
  /unifi      PUT  /api/v1/developer/doors/{id}/unlock (Bearer) -> {"code": "SUCCESS", "msg", "data"}
              an unknown door -> 200 {"code": "CODE_DEVICE_DEVICE_NOT_FOUND", "msg"}

Every request is recorded (calls()).  A test scripts faults per route key
("slack", "openphone", "ninja_token", "ninja_run", "ninja_reboot",
"unifi"): fail(key, status, n, retry_after), delay(key, seconds, n), or
down(key) / up(key) for a provider that answers 503 until told otherwise.
expire_ninja_tokens() makes every issued token answer 401 from now on.
Standard library only.
"""

import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

SLACK_TOKEN = "xoxb-fake-" + uuid.uuid4().hex[:8]
OPENPHONE_KEY = "op-fake-" + uuid.uuid4().hex[:8]
NINJA_ID = "ninja-client"
NINJA_SECRET = "ninja-secret-" + uuid.uuid4().hex[:8]
UNIFI_TOKEN = "unifi-fake-" + uuid.uuid4().hex[:8]
KNOWN_DOORS = {"7b0c2a4e-5d1f-4c39-9a61-2f8e0d3b9a11", "c41e9d02-8a7b-4f55-b3c6-61d2e7f0a822"}


class Fakes:
    """Fakes - the server, its call log and its scripted faults."""

    def __init__(self):
        self.lock = threading.Lock()
        self._calls = []
        self.faults = {}          # key -> list of ("status", code, retry_after) / ("delay", s)
        self.is_down = set()
        self.tokens = {}          # NinjaOne token -> expiry (monotonic)
        self.token_ttl = 3600
        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.thr = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thr.start()

    def url(self, prefix):
        return "http://127.0.0.1:%d/%s" % (self.port, prefix)

    def env(self):
        """env - the settings that point the executor here."""
        return {
            "SLACK_BASE_URL": self.url("slack"), "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "OPENPHONE_BASE_URL": self.url("openphone"), "OPENPHONE_API_KEY": OPENPHONE_KEY,
            "NINJAONE_BASE_URL": self.url("ninja"), "NINJAONE_CLIENT_ID": NINJA_ID,
            "NINJAONE_CLIENT_SECRET": NINJA_SECRET, "NINJAONE_TRACKMAN_SCRIPT_ID": "77",
            "UNIFI_ACCESS_BASE_URL": self.url("unifi"), "UNIFI_ACCESS_TOKEN": UNIFI_TOKEN,
        }

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()

    # ---- scripting

    def fail(self, key, status, n=1, retry_after=None):
        with self.lock:
            self.faults.setdefault(key, []).extend([("status", status, retry_after)] * n)

    def delay(self, key, seconds, n=1):
        with self.lock:
            self.faults.setdefault(key, []).extend([("delay", seconds, None)] * n)

    def down(self, key):
        with self.lock:
            self.is_down.add(key)

    def up(self, key):
        with self.lock:
            self.is_down.discard(key)

    def expire_ninja_tokens(self):
        with self.lock:
            for t in self.tokens:
                self.tokens[t] = 0

    def reset(self):
        with self.lock:
            self.faults.clear()
            self.is_down.clear()
            self._calls.clear()

    def calls(self, key=None):
        with self.lock:
            return [c for c in self._calls if key is None or c["key"] == key]

    def _next_fault(self, key):
        with self.lock:
            if key in self.is_down:
                return ("status", 503, None)
            q = self.faults.get(key)
            return q.pop(0) if q else None

    # ---- the handler

    def _handler(self):
        fakes = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, status, obj=None, headers=None):
                body = b"" if obj is None else json.dumps(obj).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if obj is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _route(self):
                p = self.path
                if self.command == "POST" and p == "/slack/chat.postMessage":
                    return "slack", ()
                if self.command == "POST" and p == "/openphone/v1/messages":
                    return "openphone", ()
                if self.command == "POST" and p == "/ninja/ws/oauth/token":
                    return "ninja_token", ()
                m = re.match(r"^/ninja/v2/device/([^/]+)/script/run$", p)
                if self.command == "POST" and m:
                    return "ninja_run", m.groups()
                m = re.match(r"^/ninja/v2/device/([^/]+)/reboot/([A-Z]+)$", p)
                if self.command == "POST" and m:
                    return "ninja_reboot", m.groups()
                m = re.match(r"^/unifi/api/v1/developer/doors/([^/]+)/(unlock|lock_rule)$", p)
                if self.command == "PUT" and m:
                    return "unifi", m.groups()
                return None, ()

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                key, args = self._route()
                call = {"key": key, "method": self.command, "path": self.path, "args": args,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "raw": raw, "at": time.time()}
                try:
                    call["json"] = json.loads(raw) if raw and raw[:1] in (b"{", b"[") else None
                except ValueError:
                    call["json"] = None
                with fakes.lock:
                    fakes._calls.append(call)
                if key is None:
                    return self._send(404, {"error": "no such endpoint"})
                f = fakes._next_fault(key)
                if f and f[0] == "delay":
                    time.sleep(f[1])
                elif f and f[0] == "status":
                    hdr = {"Retry-After": str(f[2])} if f[2] is not None else {}
                    return self._send(f[1], {"message": "scripted failure %d" % f[1],
                                             "error": "scripted"}, hdr)
                return getattr(self, "_" + key)(call, *args)

            do_GET = do_POST = do_PUT = _handle

            def _bearer(self, call):
                a = call["headers"].get("authorization", "")
                return a[7:] if a.startswith("Bearer ") else None

            def _slack(self, call):
                if self._bearer(call) != SLACK_TOKEN:
                    return self._send(200, {"ok": False, "error": "invalid_auth"})
                body = call["json"] or {}
                if not body.get("channel") or not body.get("text"):
                    return self._send(200, {"ok": False, "error": "no_text"})
                ts = "%d.%06d" % (time.time(), len(fakes.calls("slack")))
                return self._send(200, {"ok": True, "channel": body["channel"], "ts": ts})

            def _openphone(self, call):
                if call["headers"].get("authorization") != OPENPHONE_KEY:
                    return self._send(401, {"message": "Unauthorized", "code": "0100401",
                                            "status": 401})
                body = call["json"] or {}
                if not body.get("content") or not isinstance(body.get("to"), list) \
                        or not body.get("from"):
                    return self._send(400, {"message": "Invalid body", "code": "0101400",
                                            "status": 400})
                return self._send(202, {"data": {"id": "AC" + uuid.uuid4().hex[:20],
                                                 "to": body["to"], "from": body["from"],
                                                 "text": body["content"], "status": "queued"}})

            def _ninja_token(self, call):
                form = parse_qs(call["raw"].decode())
                if form.get("grant_type") != ["client_credentials"] or \
                        form.get("client_id") != [NINJA_ID] or \
                        form.get("client_secret") != [NINJA_SECRET]:
                    return self._send(401, {"error": "invalid_client"})
                tok = "nj-" + uuid.uuid4().hex
                with fakes.lock:
                    fakes.tokens[tok] = time.monotonic() + fakes.token_ttl
                return self._send(200, {"access_token": tok, "token_type": "Bearer",
                                        "expires_in": fakes.token_ttl})

            def _token_ok(self, call):
                t = self._bearer(call)
                with fakes.lock:
                    exp = fakes.tokens.get(t)
                return exp is not None and exp > time.monotonic()

            def _ninja_run(self, call, device):
                if not self._token_ok(call):
                    return self._send(401, {"resultCode": "UNAUTHORIZED"})
                body = call["json"] or {}
                if body.get("type") != "SCRIPT" or not isinstance(body.get("id"), int):
                    return self._send(400, {"resultCode": "BAD_REQUEST"})
                return self._send(204)

            def _ninja_reboot(self, call, device, mode):
                if not self._token_ok(call):
                    return self._send(401, {"resultCode": "UNAUTHORIZED"})
                return self._send(204)

            def _unifi(self, call, door, what):
                if self._bearer(call) != UNIFI_TOKEN:
                    return self._send(401, {"code": "CODE_AUTH_FAILED", "msg": "token invalid"})
                if door not in KNOWN_DOORS:
                    return self._send(200, {"code": "CODE_DEVICE_DEVICE_NOT_FOUND",
                                            "msg": "door not found", "data": None})
                return self._send(200, {"code": "SUCCESS", "msg": "success", "data": None})

        return H
