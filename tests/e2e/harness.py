"""
harness.py - a real ClubOS stack for the end-to-end tests

Starts a throwaway PostgreSQL (initdb/pg_ctl, as the postgres user when the
tests run as root) and Redis on free ports, applies the migrations and the
seed with clubosctl, starts the router, one assistant per route and the
gateway, and waits until GET /api/health says ok.  Everything talks over
real sockets; nothing of ours is mocked.

Also here: a small HTTP client (http.client, one connection per request),
an HS256 JWT encoder for forging tokens, polling with deadlines, and
assertions for the contract's error shape.  conftest.py owns the fixtures.
Standard library only.
"""

import base64
import glob
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROUTES = ("emergency", "booking", "tech", "brand", "strategy", "customerinfo", "general")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")

ADMIN_EMAIL = "admin@e2e.clubos.test"
ADMIN_PASSWORD = "e2e-admin-" + uuid.uuid4().hex[:12]
JWT_SECRET = "e2e-jwt-secret-" + uuid.uuid4().hex
QUERY_TIMEOUT_MS = 3000
HTTP_TIMEOUT = 20.0


# ---------------------------------------------------------------- utilities

def build_dir():
    """build_dir - $CLUBOS_BUILD (default build), absolute."""
    b = os.environ.get("CLUBOS_BUILD", "build")
    return b if os.path.isabs(b) else os.path.join(REPO, b)


def binary(name):
    """binary - path of one of our programs in the build tree."""
    return os.path.join(build_dir(), "bin", name)


def free_port():
    """free_port - a TCP port nobody listens on right now (bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Abort(AssertionError):
    """Abort - raised by a polled condition to stop waiting at once (something died)."""


def wait_for(cond, timeout, interval=0.05, what="condition"):
    """wait_for - poll cond() until it returns a truthy value or time runs out.

    Returns that value; raises AssertionError naming what timed out.  The
    last exception cond() raised, if any, is part of the message.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except Abort:
            raise
        except Exception as e:  # the thing polled may not be up yet
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s%s" %
                                 (timeout, what, "" if last is None else " (last error: %r)" % (last,)))
        time.sleep(interval)


def freeze(pid, timeout=5):
    """freeze - SIGSTOP pid and wait until every one of its threads is stopped.

    kill() only marks the signal pending: on a busy machine a thread of the
    process can still run (accept a connection, answer a request) for a
    while after it returns, which a test that means "frozen now" must not
    race with.
    """
    os.kill(pid, signal.SIGSTOP)

    def all_stopped():
        for t in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/stat" % (pid, t)) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:  # a thread that ended meanwhile
                continue
            if state not in ("T", "t"):
                return False
        return True
    wait_for(all_stopped, timeout, interval=0.01, what="every thread of pid %d stopped" % pid)


def forget_buckets(stack, *addrs):
    """forget_buckets - drop the rate-limit buckets of client addresses, under
    any rule (rl:ip:<burst>/<rate>:<addr>): gateways of other tests share Redis."""
    cli = ["redis-cli", "-p", str(stack.redis_port)]
    for a in addrs:
        keys = subprocess.run(cli + ["--scan", "--pattern", "rl:ip:*:" + a],
                              capture_output=True, text=True, timeout=10, check=True).stdout.split()
        if keys:
            subprocess.run(cli + ["DEL"] + keys, capture_output=True, timeout=10, check=True)


def wait_listening(proc, port, timeout):
    """wait_listening - poll until port accepts connections; fail at once if proc died."""
    def up():
        if not proc.alive():
            raise Abort("%r died:\n%s" % (proc, tail(proc.log)))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False
    deadline = time.monotonic() + timeout
    while not up():
        if time.monotonic() >= deadline:
            raise AssertionError("%r not listening on %d after %.0fs:\n%s" % (
                proc, port, timeout, tail(proc.log)))
        time.sleep(0.05)


def stacks(pid):
    """stacks - every thread's backtrace of a live process (gdb), for a failure
    message where a daemon hangs; a note when it cannot be had."""
    try:
        out = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt"],
                             capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as e:
        return "(no backtraces of %d: %s)" % (pid, e)
    return "\n".join(l for l in out.splitlines() if l.startswith(("Thread ", "#")))


def tail(path, lines=40):
    """tail - the last lines of a file, or a note that it is missing."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError as e:
        return "(%s: %s)" % (path, e)
    return "\n".join(data.splitlines()[-lines:])


def is_root():
    return os.geteuid() == 0


# --------------------------------------------------------------------- JWT

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_encode(claims, secret=JWT_SECRET, header=None, sign=True):
    """jwt_encode - an HS256 token over claims (compact JSON), like the gateway's."""
    header = header or {"alg": "HS256", "typ": "JWT"}
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(json.dumps(claims, separators=(",", ":")).encode())
    if not sign:
        return h + "." + p + "."
    sig = hmac.new(secret.encode(), (h + "." + p).encode(), hashlib.sha256).digest()
    return h + "." + p + "." + b64url(sig)


def jwt_claims(token):
    """jwt_claims - the payload of a token, unverified."""
    return json.loads(b64url_decode(token.split(".")[1]))


# -------------------------------------------------------------------- HTTP

class Resp:
    """Resp - status, lower-cased headers, raw body and parsed JSON (or None)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            self.json = None

    @property
    def trace_id(self):
        return self.headers.get("x-trace-id")

    def __repr__(self):
        text = self.body[:600].decode("utf-8", "replace")
        return "<HTTP %d x-trace-id=%s body=%s>" % (self.status, self.trace_id, text)


def request(port, method, path, body=None, token=None, headers=None, raw=None,
         timeout=HTTP_TIMEOUT):
    """request - one request on a fresh connection.

    body is sent as JSON; raw (bytes) is sent as is, with the headers given
    (Content-Type defaults to application/json for both).
    """
    hdrs = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        hdrs["Content-Type"] = "application/json"
    if raw is not None:
        data = raw
        hdrs["Content-Type"] = "application/json"
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    hdrs.update(headers or {})
    hdrs = {k: v for k, v in hdrs.items() if v is not None}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        payload = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, payload)
    finally:
        conn.close()


def assert_error(resp, status, code=None):
    """assert_error - the contract's error: status, {"error":{code,message}}, X-Trace-Id."""
    assert resp.status == status, "expected HTTP %d, got %r" % (status, resp)
    assert resp.trace_id, "no X-Trace-Id on %r" % (resp,)
    assert isinstance(resp.json, dict), "error body is not a JSON object: %r" % (resp,)
    err = resp.json.get("error")
    assert isinstance(err, dict), "no error object: %r" % (resp,)
    assert isinstance(err.get("code"), str) and SNAKE.match(err["code"]), \
        "error.code is not snake_case: %r" % (resp,)
    assert isinstance(err.get("message"), str) and err["message"].strip(), \
        "error.message is empty: %r" % (resp,)
    if code is not None:
        assert err["code"] == code, "expected error.code %r, got %r" % (code, resp)
    return err


def set_settings(stack, token, **kw):
    """set_settings - PATCH /api/settings, then let every daemon's
    one-second settings cache (common/settings.c) expire: nothing a test
    can observe says a daemon has reread them, so this waits out the TTL."""
    r = stack.http("PATCH", "/api/settings", body=kw, token=token)
    assert r.status == 200, r
    time.sleep(1.1)


def teach_examples(stack, token, labels, texts):
    """teach_examples - every text as an example of every label, interleaved
    (label by label for each text, so that no label is trained last); the ids."""
    ids = []
    for text in texts:
        for label in labels:
            r = stack.http("POST", "/api/examples", body={"text": text, "label": label},
                           token=token)
            assert r.status == 201, r
            ids.append(r.json["id"])
    return ids


def teach_split(stack, token, labels, channel="web", words="zzqx vvkj"):
    """teach_split - a made-up phrase taught to both labels until the router
    answers it with a question back offering both; (phrase, example ids).
    The same examples for both do not make an even vote (the classifier's
    other words and biases lean one way, differently for every set of
    examples), so the label the router picks gets no more examples and the
    other one more, until the vote is close; while the router answers the
    phrase from neither (out of scope), both get one more.  The caller forgets the ids;
    the confidence threshold must already be set."""
    texts = [words, words + " please", "the " + words, words + "?", "about " + words,
             words + " info"]
    more = ["%s %s" % (words, x) for x in ("now", "thing", "stuff", "deal", "item", "bit",
                                            "part", "again", "too", "here", "there", "today",
                                            "pass", "card", "code", "offer")]
    ids = teach_examples(stack, token, labels, texts)
    for extra in more:
        r = stack.query(token, words, channel=channel)
        a = r.json if r.status == 200 else {}
        if sorted(o["slug"] for o in a.get("clarify") or []) == sorted(labels):
            return words, ids
        got = (a.get("sop") or {}).get("slug")
        if got in labels:
            ids += teach_examples(stack, token, [l for l in labels if l != got], [extra])
        elif got is None:
            # Not tied to either label yet (out of scope, or not sure):
            # one more example for each.
            ids += teach_examples(stack, token, labels, [extra])
        else:
            break
    forget_examples(stack, token, ids)
    raise AssertionError("%r never split %s closely enough to ask" % (words, labels))


def forget_examples(stack, token, ids):
    for i in ids:
        r = stack.http("DELETE", "/api/examples/%d" % i, token=token)
        assert r.status in (200, 404), r


def assert_answer(resp, route=None, slug=None):
    """assert_answer - a well-formed /api/query answer (contract), optionally its route and SOP."""
    assert resp.status == 200, "query failed: %r" % (resp,)
    a = resp.json
    assert isinstance(a, dict), "answer is not a JSON object: %r" % (resp,)
    assert isinstance(a.get("trace_id"), str) and HEX32.match(a["trace_id"]), \
        "trace_id is not 32 hex: %r" % (a.get("trace_id"),)
    assert resp.trace_id == a["trace_id"], \
        "X-Trace-Id %r != body trace_id %r" % (resp.trace_id, a["trace_id"])
    assert a.get("route") in ROUTES, "unknown route %r" % (a.get("route"),)
    c = a.get("confidence")
    assert isinstance(c, (int, float)) and not isinstance(c, bool) and 0.0 <= c <= 1.0, \
        "confidence outside [0,1]: %r" % (c,)
    assert isinstance(a.get("response"), str) and a["response"].strip(), "empty response: %r" % (a,)
    assert a.get("cache") in ("miss", "l1", "l2", "l3"), "bad cache %r" % (a.get("cache"),)
    t = a.get("timings_us")
    assert isinstance(t, dict) and isinstance(t.get("total"), (int, float)) and t["total"] > 0, \
        "timings_us.total not > 0: %r" % (t,)
    esc = a.get("escalation")
    assert isinstance(esc, dict) and isinstance(esc.get("tier"), int) and 0 <= esc["tier"] <= 3, \
        "bad escalation: %r" % (esc,)
    assert isinstance(a.get("actions"), list), "actions is not a list: %r" % (a,)
    sop = a.get("sop")
    if sop is not None:
        assert isinstance(sop, dict) and isinstance(sop.get("slug"), str), "bad sop %r" % (sop,)
        v = sop.get("version")
        assert isinstance(v, int) and not isinstance(v, bool) and v >= 1, "bad sop.version %r" % (sop,)
    if route is not None:
        assert a["route"] == route, "expected route %r, got %r (sop %r, response %r)" % (
            route, a["route"], sop, a["response"][:200])
    if slug is not None:
        got = sop.get("slug") if sop else None
        assert got == slug, "expected sop %r, got %r (route %r, response %r)" % (
            slug, got, a["route"], a["response"][:200])
    return a


def find_route_workers(health):
    """find_route_workers - the {route: count} map somewhere in a health body.

    The contract does not fix where per-route worker counts sit, so look
    for the first object that has every route as a key with a number (or
    an object holding a number under "workers"/"count"/"peers").
    """
    def count(v):
        if isinstance(v, bool):
            return None
        if isinstance(v, int):
            return v
        if isinstance(v, dict):
            for k in ("workers", "count", "peers", "alive"):
                if isinstance(v.get(k), int) and not isinstance(v.get(k), bool):
                    return v[k]
        return None

    def walk(o):
        if isinstance(o, dict):
            if all(r in o and count(o[r]) is not None for r in ROUTES):
                return {r: count(o[r]) for r in ROUTES}
            for v in o.values():
                got = walk(v)
                if got is not None:
                    return got
        elif isinstance(o, list):
            for v in o:
                got = walk(v)
                if got is not None:
                    return got
        return None

    return walk(health)


# ---------------------------------------------------------- raw sockets

def raw_head(port, method, path, token=None, content_length=None, extra=()):
    """raw_head - the bytes of a request head (Connection: close)."""
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:%d" % port,
             "Content-Type: application/json", "Connection: close"]
    if token:
        lines.append("Authorization: Bearer " + token)
    if content_length is not None:
        lines.append("Content-Length: %d" % content_length)
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(s, timeout=HTTP_TIMEOUT, final=True):
    """read_response - one HTTP/1.x response from socket s, as a Resp.

    final=True reads to EOF (the requests here say Connection: close);
    final=False reads just one head (e.g. "100 Continue") and returns it.
    """
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data or final:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            if not data:
                raise
            break
        if not chunk:
            break
        data += chunk
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep, "no complete HTTP response head, got %r" % (data[:200],)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if final and "content-length" in headers:
        n = int(headers["content-length"])
        assert len(body) >= n, "response body cut short: %d of %d bytes" % (len(body), n)
        body = body[:n]
    return Resp(status, headers, body)


def tcp_state(port):
    """tcp_state - (listening, accept backlog, unread bytes on server-side sockets) of a local port.

    From /proc/net/tcp{,6}: for a LISTEN socket rx_queue is the number of
    connections not yet accepted; for an ESTABLISHED one it is the bytes
    received and not yet read by the process.
    """
    listening, backlog, unread = False, 0, 0
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if int(cols[1].split(":")[1], 16) != port:
                continue
            rx = int(cols[4].split(":")[1], 16)
            if cols[3] == "0A":
                listening = True
                backlog += rx
            elif cols[3] == "01":
                unread += rx
    return listening, backlog, unread


def wait_read_by_server(port, timeout=5.0):
    """wait_read_by_server - until the server on port accepted every connection and read every byte."""
    wait_for(lambda: tcp_state(port)[1:] == (0, 0), timeout, interval=0.002,
             what="the server on %d to accept and read everything sent" % port)


# -------------------------------------------------------------- processes

def _die_with_parent():
    """_die_with_parent - in the child: SIGKILL when the test runner dies (Linux prctl)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except Exception:
        pass


class Proc:
    """Proc - one of our processes (or a server), stdout+stderr to a log file."""

    def __init__(self, name, argv, env, log_dir, cwd=REPO):
        self.name = name
        self.argv = argv
        self.log = os.path.join(log_dir, name + ".log")
        self._f = open(self.log, "ab")
        self.p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                  stdout=self._f, stderr=subprocess.STDOUT,
                                  preexec_fn=_die_with_parent)

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def kill9(self):
        if self.alive():
            self.p.kill()
        self.p.wait(10)

    def stop(self, deadline=8.0):
        """stop - SIGTERM, wait up to deadline, then SIGKILL; returns the exit status."""
        if self.alive():
            try:
                self.p.send_signal(signal.SIGTERM)
                self.p.wait(deadline)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(10)
        self._f.close()
        return self.p.returncode

    def __repr__(self):
        return "<%s pid %d %s>" % (self.name, self.pid, "alive" if self.alive() else
                                   "exited %r" % self.p.returncode)


def _pg_bindir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(re.sub(r"\D", "", d.split("/")[-2]) or 0))
    if dirs:
        return dirs[-1]
    out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
    return out.stdout.strip()


class Postgres:
    """Postgres - a throwaway cluster on a unix socket in its own directory."""

    def __init__(self, log_dir):
        self.bindir = _pg_bindir()
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="cospg", dir="/tmp")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        os.symlink(self.log, os.path.join(log_dir, "postgres.log"))   # for the log tails
        self.as_pg = []
        if is_root():
            os.chmod(self.dir, 0o755)
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_pg = ["runuser", "-u", "postgres", "--"]

    def _run(self, *argv):
        r = subprocess.run(self.as_pg + [os.path.join(self.bindir, argv[0])] + list(argv[1:]),
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d):\n%s\n%s" % (argv[0], r.returncode, r.stdout, r.stderr))
        return r

    def start(self):
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-N", "-E", "UTF8")
        opts = ("-p %d -k %s -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off" % (self.port, self.dir))
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", opts, "-w", "-t", "60", "start")
        self._run("createdb", "-h", self.dir, "-p", str(self.port), "-U", "postgres", "clubos")

    @property
    def dsn(self):
        return "host=%s port=%d dbname=clubos user=postgres" % (self.dir, self.port)

    def sql(self, query, *args):
        """sql - rows of a query (psql -At, fields split on |); args bind :'v1', :'v2', ..."""
        argv = [os.path.join(self.bindir, "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1",
                "-d", self.dsn]
        for i, a in enumerate(args):
            argv += ["-v", "v%d=%s" % (i + 1, a)]
        r = subprocess.run(argv, input=query, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("psql failed: %s" % r.stderr)
        return [line.split("|") for line in r.stdout.splitlines() if line]

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            subprocess.run(self.as_pg + [os.path.join(self.bindir, "pg_ctl"), "-D", self.data,
                                         "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def redis_ping(port, timeout=1.0):
    """redis_ping - True when a Redis answers PING on 127.0.0.1:port."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")


# ------------------------------------------------------------------ stack

class Stack:
    """Stack - PostgreSQL, Redis and every ClubOS daemon, for one test session."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="cose2e", dir="/tmp")
        self.logs = os.path.join(self.tmp, "log")
        os.makedirs(self.logs)
        self.run_dir = tempfile.mkdtemp(prefix="cos", dir="/tmp")   # short: ipc paths
        self.procs = {}       # the stack's own daemons, by name
        self.extra = []       # processes tests started; stopped at teardown
        self.pg = None
        self.redis = None
        self.redis_port = None
        self.port = None
        self._seq = 0

    # ---- configuration

    def env(self, **over):
        """env - the daemons' environment; keyword overrides (None removes)."""
        e = dict(os.environ)
        for k in list(e):
            if k.startswith(("OPENAI_", "ANTHROPIC_")) or (k.startswith("CLUBOS_") and k not in (
                    "CLUBOS_BUILD", "CLUBOS_DEV_SET")):
                del e[k]
        e.update({
            "CLUBOS_PG_DSN": self.pg.dsn,
            "CLUBOS_REDIS_HOST": "127.0.0.1",
            "CLUBOS_REDIS_PORT": str(self.redis_port),
            "CLUBOS_RUN_DIR": self.run_dir,
            "CLUBOS_LOG_DIR": self.logs,
            "CLUBOS_HTTP_PORT": str(self.port),
            "CLUBOS_HTTP_ADDR": "127.0.0.1",
            "CLUBOS_ENV": "test",
            "CLUBOS_RATE_LIMIT": "off",
            "CLUBOS_JWT_SECRET": JWT_SECRET,
            "CLUBOS_ADMIN_EMAIL": ADMIN_EMAIL,
            "CLUBOS_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "CLUBOS_SEED_DIR": os.path.join(REPO, "deploy", "seed"),
            "CLUBOS_QUERY_TIMEOUT_MS": str(QUERY_TIMEOUT_MS),
        })
        for k, v in over.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = str(v)
        return e

    # ---- processes

    def spawn(self, name, argv, **env_over):
        """spawn - start one of our binaries in the foreground (-d), logging to a file."""
        self._seq += 1
        p = Proc("%s.%d" % (name, self._seq), [binary(argv[0])] + list(argv[1:]),
                 self.env(**env_over), self.logs)
        return p

    def spawn_extra(self, name, argv, **env_over):
        """spawn_extra - like spawn, and make sure teardown stops it."""
        p = self.spawn(name, argv, **env_over)
        self.extra.append(p)
        return p

    def ctl(self, *args, timeout=120, **env_over):
        """ctl - run clubosctl to completion; returns the CompletedProcess."""
        return subprocess.run([binary("clubosctl")] + list(args), env=self.env(**env_over),
                              cwd=REPO, capture_output=True, text=True, timeout=timeout)

    def start(self):
        for b in ("clubos-gateway", "clubos-router", "clubos-assistant", "clubos-cache",
                  "clubos-intelligence", "clubos-bus", "clubos-actions", "clubos-conversations",
                  "clubosctl"):
            if not os.access(binary(b), os.X_OK):
                raise RuntimeError("missing %s: build first (make all)" % binary(b))
        self.pg = Postgres(self.logs)
        self.pg.start()
        self.redis_port = free_port()
        self.redis = Proc("redis", ["redis-server", "--port", str(self.redis_port), "--bind",
                                    "127.0.0.1", "--save", "", "--appendonly", "no",
                                    "--dir", self.tmp], dict(os.environ), self.logs)
        wait_for(lambda: redis_ping(self.redis_port), 15, what="redis")
        self.port = free_port()
        for args in (("migrate", "up"), ("seed", "--people")):
            self.ctl_checked(*args)
        self.spawn_daemons(seed=True)

    def ctl_checked(self, *args):
        """ctl_checked - clubosctl ARGS, its output kept in the logs; raises when it fails."""
        r = self.ctl(*args)
        name = "-".join(a.lstrip("-") for a in args)
        with open(os.path.join(self.logs, "clubosctl-%s.log" % name), "w") as f:
            f.write(r.stdout + r.stderr)
        if r.returncode != 0:
            raise RuntimeError("clubosctl %s exited %d:\n%s\n%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def spawn_daemons(self, seed=False):
        """spawn_daemons - the bus, intelligence (then the knowledge seed, which goes through
        it), router, cache, one assistant per route, gateway; wait for health."""
        self.procs["bus"] = self.spawn("bus", ["clubos-bus", "-d"])
        self.procs["intelligence"] = self.spawn("intelligence", ["clubos-intelligence", "-d"])
        if seed:
            self.ctl_checked("seed", "--knowledge")
        self.procs["router"] = self.spawn("router", ["clubos-router", "-d"])
        self.procs["cache"] = self.spawn("cache", ["clubos-cache", "-d"])
        self.procs["actions"] = self.spawn("actions", ["clubos-actions", "-d"])
        self.procs["conversations"] = self.spawn("conversations", ["clubos-conversations", "-d"])
        for route in ROUTES:
            self.procs["assistant-" + route] = self.spawn(
                "assistant-" + route, ["clubos-assistant", "-d", "--route", route])
        self.procs["gateway"] = self.spawn("gateway", ["clubos-gateway", "-d"])
        self.wait_healthy(self.port, 30, self.procs.values())

    def restart_redis(self):
        """restart_redis - a new, empty Redis on the same port (the old one was killed)."""
        self.redis = Proc("redis", ["redis-server", "--port", str(self.redis_port), "--bind",
                                    "127.0.0.1", "--save", "", "--appendonly", "no",
                                    "--dir", self.tmp], dict(os.environ), self.logs)
        wait_for(lambda: redis_ping(self.redis_port), 15, what="redis")

    def restart_daemons(self):
        """restart_daemons - SIGTERM every ClubOS daemon and start them all again."""
        for name in list(self.procs):
            self.procs[name].stop()
        self.spawn_daemons()

    def wait_healthy(self, port, timeout, procs=()):
        """wait_healthy - poll GET /api/health until 200 and status ok; fail fast if a process died."""
        last = []

        def ok():
            for p in procs:
                if not p.alive():
                    raise Abort("%r died during start-up:\n%s" % (p, tail(p.log)))
            r = request(port, "GET", "/api/health", timeout=5)
            last[:] = [r]
            return r.status == 200 and isinstance(r.json, dict) and r.json.get("status") == "ok" and r
        try:
            return wait_for(ok, timeout, interval=0.1, what="GET /api/health ok on port %d" % port)
        except Abort:
            raise
        except AssertionError as e:
            raise AssertionError("%s; last health answer: %r\n%s" % (
                e, last[0] if last else None, self.probes()))

    def probes(self):
        """probes - what every daemon says of itself (clubosctl status --json,
        each route's worker probe, and each daemon's links in its log, asked
        by SIGUSR1): for a failure report, where the
        gateway's view is not enough (a worker that thinks it is connected
        while the router counts none, say)."""
        out = []
        for p in self.procs.values():   # each logs its links (SIGUSR1), in the log tails
            if p.alive():
                p.p.send_signal(signal.SIGUSR1)   # logged while the probes below run
        try:
            r = self.ctl("status", "--json", timeout=30)
            out.append("clubosctl status --json (exit %d):\n%s%s" % (r.returncode, r.stdout,
                                                                     r.stderr))
            for route in ROUTES:
                r = subprocess.run([binary("clubos-assistant"), "--route", route, "--health"],
                                   env=self.env(), cwd=REPO, capture_output=True, text=True,
                                   timeout=20)
                out.append("clubos-assistant --route %s --health (exit %d): %s%s" % (
                    route, r.returncode, r.stdout.strip(), r.stderr.strip()))
        except Exception as e:  # a report, never a second failure
            out.append("probes failed: %r" % e)
        return "\n".join(out)

    def stop(self):
        for p in reversed(self.extra):
            p.stop()
        order = ["gateway"] + ["assistant-" + r for r in ROUTES] + ["router", "bus"]
        for name in order + [n for n in self.procs if n not in order]:
            if name in self.procs:
                self.procs[name].stop()
        if self.redis is not None:
            self.redis.stop()
        if self.pg is not None:
            self.pg.stop()

    def cleanup(self):
        if self.pg is not None:
            self.pg.cleanup()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tails(self, lines=25):
        """log_tails - the end of every log file, for a failure report."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.logs, "*.log"))):
            out.append("----- %s\n%s" % (os.path.basename(path), tail(path, lines)))
        return "\n".join(out)

    # ---- HTTP on the stack's gateway

    def http(self, method, path, **kw):
        port = kw.pop("port", None) or self.port
        return request(port, method, path, **kw)

    def query(self, token, message, port=None, **fields):
        body = {"message": message}
        body.update(fields)
        return self.http("POST", "/api/query", body=body, token=token, port=port)

    def login(self, email, password, port=None):
        r = self.http("POST", "/api/auth/login", body={"email": email, "password": password}, port=port)
        assert r.status == 200, "login %s failed: %r" % (email, r)
        return r.json["token"]

    def health(self, port=None):
        return self.http("GET", "/api/health", port=port)


def load_seed_customers():
    """load_seed_customers - deploy/seed/customers.json as a list of dicts."""
    with open(os.path.join(REPO, "deploy", "seed", "customers.json"), encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, dict):
        data = data.get("customers", data.get("items", []))
    out = []
    for c in data:
        name = c.get("name") or " ".join(x for x in (c.get("first_name"), c.get("last_name")) if x)
        out.append(dict(c, name=name))
    return out
