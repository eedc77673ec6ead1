"""
mh.py - ClubOS across several hosts: Linux network namespaces on a bridge

Hosts (each a network namespace with one veth to a bridge that lives in a
namespace of its own, 10.77.0.0/24):

    db     10.77.0.2  PostgreSQL and Redis
    core   10.77.0.3  clubos-bus, -intelligence, -router, -cache, -actions
    w1     10.77.0.4  one clubos-assistant per route
    w2     10.77.0.5  one per route but tech
    w3     10.77.0.6  (made during the run) two more tech workers
    edge   10.77.0.7  two gateways (ports 8080, 8081) behind one address
                      (127.0.0.1:8000, lb.py: nftables steered by readiness),
                      the load (on that address, never retried), the trace tail

Every daemon reaches the others over mutual TLS (CLUBOS_<NAME>_HOST, with
CLUBOS_TLS_CA and a certificate per host from deploy/tls-certs.sh).  Under a
steady load from the edge host it scales tech workers from one to three on
a new host, cuts and heals a worker host's link, kills a whole worker host,
restarts one gateway behind the single address (it drains: readiness down,
out of rotation, then stops) with no request failed, reads the trace bus from
the edge host, and checks that a host without a certificate of the
deployment's CA (another CA's, or none) reaches no daemon.  Prints "N passed, N failed".  Everything it made (the
namespaces, and with them their veths and the bridge; every process in
them; its files) is removed at the end, on failure and on a signal.

    mh.py                     run (as root; MH_KEEP_LOGS=DIR keeps the logs, MH_TAG names it)
    mh.py --cleanup TAG       remove what a run tagged TAG left (run.sh's trap)
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
import harness  # noqa: E402  (the e2e helpers: binaries, PostgreSQL tools, polling)

ROUTES = harness.ROUTES
NET = "10.77.0"
HOSTS = {"db": 2, "core": 3, "w1": 4, "w2": 5, "w3": 6, "edge": 7}
GW_PORTS = (8080, 8081)
LB_PORT = 8000           # the one address clients use (lb.py)
# A stopping gateway stays ready-down and serving this long: the balancer
# polls every 0.1 s, so it is out of rotation well before it stops.
DRAIN_MS = 1500
QUERY_TIMEOUT_MS = 3000
# A request is "lost" when it gets no answer within its deadline plus slack.
LOST_AFTER_S = 2 * QUERY_TIMEOUT_MS / 1000.0 + 2.0


def sh(*argv, check=True, timeout=60):
    """sh - run a command to completion; its CompletedProcess."""
    r = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr.strip()))
    return r


def run_bounded(argv, env, timeout):
    """run_bounded - run a command that must finish within timeout; on a hang
    the failure carries every thread's backtrace of it (gdb), then it is
    killed.  Its CompletedProcess."""
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        bt = harness.stacks(p.pid)
        p.kill()
        out, err = p.communicate()
        raise AssertionError("%s hung for %ds; its threads:\n%s\nstdout:\n%s" % (
            " ".join(os.path.basename(a) for a in argv[3:]), timeout, bt, out))
    return subprocess.CompletedProcess(argv, p.returncode, out, err)


def ns_name(tag, host):
    return "%s-%s" % (tag, host)


def ns_pids(ns):
    """ns_pids - every process in a namespace (ip netns pids)."""
    r = sh("ip", "netns", "pids", ns, check=False)
    return [int(p) for p in r.stdout.split() if p.isdigit()]


def kill_ns(ns):
    """kill_ns - SIGKILL every process in a namespace; wait until none is left."""
    deadline = time.monotonic() + 10
    while True:
        pids = ns_pids(ns)
        if not pids:
            return
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError("processes in %s survive SIGKILL: %r" % (ns, pids))
        time.sleep(0.05)


def cleanup(tag):
    """cleanup - kill every process in the tag's namespaces, delete them and the files."""
    r = sh("ip", "netns", "list", check=False)
    names = [line.split()[0] for line in r.stdout.splitlines() if line.startswith(tag + "-")]
    for ns in names:
        try:
            kill_ns(ns)
        except RuntimeError as e:
            print("cleanup: %s" % e, file=sys.stderr)
    for ns in names:
        sh("ip", "netns", "del", ns, check=False)
    for d in (os.path.join("/tmp", tag),):
        shutil.rmtree(d, ignore_errors=True)
    return names


class Run:
    """Run - one multi-host run: the hosts, the processes, the checks."""

    def __init__(self, tag):
        self.tag = tag
        self.dir = os.path.join("/tmp", tag)
        os.makedirs(self.dir)
        self.logs = os.path.join(self.dir, "log")
        os.makedirs(self.logs)
        self.procs = {}          # name -> (host, harness.Proc)
        self.results = []        # (name, ok, detail)
        self.load_out = os.path.join(self.dir, "load.jsonl")
        self.load_stop = os.path.join(self.dir, "load.stop")
        self.trace_out = os.path.join(self.logs, "edge.trace-tail.log")
        self.cut = None           # (cut, recovered): where failures are allowed
        self.pg_bindir = harness._pg_bindir()
        self.tls = os.path.join(self.dir, "tls")
        sh("sh", os.path.join(REPO, "deploy", "tls-certs.sh"), self.tls,
           *HOSTS)

    # ---- network

    def ns(self, host):
        return ns_name(self.tag, host)

    def ip(self, host):
        return "%s.%d" % (NET, HOSTS[host])

    def make_switch(self):
        sw = self.ns("sw")
        sh("ip", "netns", "add", sw)
        sh("ip", "-n", sw, "link", "set", "lo", "up")
        sh("ip", "-n", sw, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", sw, "link", "set", "br0", "up")

    def make_host(self, host):
        """make_host - a namespace with lo and eth0 (a veth whose peer is on the bridge)."""
        ns, sw = self.ns(host), self.ns("sw")
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", sw, "link", "add", "to-" + host, "type", "veth", "peer", "name", "eth0",
           "netns", ns)
        sh("ip", "-n", sw, "link", "set", "to-" + host, "master", "br0")
        sh("ip", "-n", sw, "link", "set", "to-" + host, "up")
        sh("ip", "-n", ns, "addr", "add", self.ip(host) + "/24", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")

    def link(self, host, state):
        """link - set a host's link on the bridge down or up (ip link set)."""
        sh("ip", "-n", self.ns("sw"), "link", "set", "to-" + host, state)

    # ---- processes

    def env(self, host, **over):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith(("CLUBOS_", "OPENAI_", "ANTHROPIC_", "SENTRY_"))}
        run_dir = os.path.join(self.dir, "run-" + host)
        os.makedirs(run_dir, exist_ok=True)
        core = self.ip("core")
        e.update({
            "CLUBOS_PG_DSN": "host=%s port=5432 dbname=clubos user=postgres" % self.ip("db"),
            "CLUBOS_REDIS_HOST": self.ip("db"),
            "CLUBOS_REDIS_PORT": "6379",
            "CLUBOS_ROUTER_HOST": core,
            "CLUBOS_CACHE_HOST": core,
            "CLUBOS_INTELLIGENCE_HOST": core,
            "CLUBOS_BUS_HOST": core,
            "CLUBOS_ACTIONS_HOST": core,
            "CLUBOS_CONVERSATIONS_HOST": core,
            "CLUBOS_BIND_ADDR": "0.0.0.0",
            "CLUBOS_RUN_DIR": run_dir,
            "CLUBOS_LOG_DIR": self.logs,
            "CLUBOS_HTTP_ADDR": "127.0.0.1",
            "CLUBOS_ENV": "test",
            "CLUBOS_RATE_LIMIT": "off",
            "CLUBOS_CACHE": "off",          # every query crosses router and worker
            "CLUBOS_JWT_SECRET": harness.JWT_SECRET,
            "CLUBOS_ADMIN_EMAIL": harness.ADMIN_EMAIL,
            "CLUBOS_ADMIN_PASSWORD": harness.ADMIN_PASSWORD,
            "CLUBOS_SEED_DIR": os.path.join(REPO, "deploy", "seed"),
            "CLUBOS_QUERY_TIMEOUT_MS": str(QUERY_TIMEOUT_MS),
            "CLUBOS_TLS_CA": os.path.join(self.tls, "ca.pem"),
            "CLUBOS_TLS_CERT": os.path.join(self.tls, host + ".pem"),
        })
        e.update({k: str(v) for k, v in over.items()})
        return e

    def spawn(self, host, name, argv, **over):
        """spawn - one of our binaries in a host's namespace, in the foreground."""
        full = ["ip", "netns", "exec", self.ns(host), harness.binary(argv[0])] + list(argv[1:])
        p = harness.Proc("%s.%s" % (host, name), full, self.env(host, **over), self.logs)
        self.procs["%s.%s" % (host, name)] = (host, p)
        return p

    def ctl(self, host, *args, timeout=120):
        argv = ["ip", "netns", "exec", self.ns(host), harness.binary("clubosctl")] + list(args)
        r = subprocess.run(argv, env=self.env(host), cwd=REPO, capture_output=True, text=True,
                           timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("clubosctl %s on %s: %d\n%s%s" % (" ".join(args), host,
                                                                 r.returncode, r.stdout, r.stderr))
        return r

    def in_ns(self, host, *argv, timeout=30, check=True):
        return sh("ip", "netns", "exec", self.ns(host), *argv, timeout=timeout, check=check)

    # ---- the db host

    def start_db(self):
        pgdir = os.path.join(self.dir, "pg")
        os.makedirs(pgdir)
        os.chmod(self.dir, 0o755)
        os.chmod(pgdir, 0o755)
        as_pg = []
        if os.geteuid() == 0:
            shutil.chown(pgdir, "postgres", "postgres")
            as_pg = ["runuser", "-u", "postgres", "--"]
        data = os.path.join(pgdir, "data")
        b = lambda n: os.path.join(self.pg_bindir, n)  # noqa: E731
        sh(*(as_pg + [b("initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-N", "-E",
                      "UTF8"]), timeout=120)
        with open(os.path.join(data, "pg_hba.conf"), "a") as f:
            f.write("host all all %s.0/24 trust\n" % NET)
        opts = ("-p 5432 -k %s -c listen_addresses='%s' -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off -c max_connections=500" % (pgdir, self.ip("db")))
        os.symlink(os.path.join(pgdir, "postgres.log"), os.path.join(self.logs, "postgres.log"))
        self.in_ns("db", *(as_pg + [b("pg_ctl"), "-D", data, "-l",
                                    os.path.join(pgdir, "postgres.log"), "-o", opts, "-w",
                                    "-t", "60", "start"]), timeout=90)
        self.in_ns("db", *(as_pg + [b("createdb"), "-h", pgdir, "-p", "5432", "-U", "postgres",
                                    "clubos"]))
        full = ["ip", "netns", "exec", self.ns("db"), "redis-server", "--bind", self.ip("db"),
                "--port", "6379", "--protected-mode", "no", "--save", "", "--appendonly", "no",
                "--dir", self.dir]
        self.procs["db.redis"] = ("db", harness.Proc("db.redis", full, dict(os.environ),
                                                     self.logs))

    # ---- checks

    def check(self, name, fn):
        """check - run one check; record passed or failed with the reason."""
        t0 = time.monotonic()
        try:
            detail = fn() or ""
            self.results.append((name, True, detail))
            print("PASS %-28s %5.1fs %s" % (name, time.monotonic() - t0, detail), flush=True)
        except Exception as e:  # a failed check does not stop the others
            self.results.append((name, False, str(e)))
            print("FAIL %-28s %5.1fs %s" % (name, time.monotonic() - t0, e), flush=True)

    def health(self, port):
        r = self.in_ns("edge", "curl", "-s", "-m", "5", "http://127.0.0.1:%d/api/health" % port,
                       check=False)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None

    def workers(self, port=GW_PORTS[0]):
        h = self.health(port) or {}
        return (h.get("components") or {}).get("workers") or {}

    def wait_workers(self, want, timeout=30):
        """wait_workers - until the router counts the wanted workers per route."""
        return harness.wait_for(lambda: all(self.workers().get(r) == n for r, n in want.items())
                                and self.workers(), timeout, interval=0.2,
                                what="router workers %r (now %r)" % (want, self.workers()))

    def rotation(self, since):
        """rotation - the balancer's changes after since: [(time, (port, ...))]."""
        out = []
        try:
            with open(os.path.join(self.logs, "edge.lb.log")) as f:
                for line in f:
                    m = re.match(r"^([0-9.]+) rotation ([0-9,]+)$", line.strip())
                    if m and float(m.group(1)) >= since:
                        out.append((float(m.group(1)),
                                    tuple(int(x) for x in m.group(2).split(","))))
        except OSError:
            pass
        return out

    def wait_rotation(self, ports, since, timeout=30):
        """wait_rotation - until the balancer's rotation is ports (a change after since); its time."""
        def now():
            changes = self.rotation(since)
            return changes and changes[-1][1] == tuple(ports) and changes[-1][0]
        return harness.wait_for(now, timeout, interval=0.05,
                                what="rotation %r (changes %r)" % (ports, self.rotation(since)))

    def queries_served(self, port):
        """queries_served - clubos_queries_total summed, from the gateway's /metrics."""
        r = self.in_ns("edge", "curl", "-s", "-m", "5", "http://127.0.0.1:%d/metrics" % port,
                       check=False)
        return sum(float(x) for x in re.findall(r"^clubos_queries_total\{[^}]*\} ([0-9.]+)$",
                                                 r.stdout, re.M))

    def records(self, since=0.0, until=None):
        out = []
        try:
            with open(self.load_out) as f:
                for line in f:
                    try:
                        r = json.loads(line)
                    except ValueError:
                        continue
                    if r["t0"] >= since and (until is None or r["t0"] < until):
                        out.append(r)
        except OSError:
            pass
        return out

    def wait_records(self, since, n, timeout=30):
        """wait_records - until n requests started after since have finished."""
        return harness.wait_for(lambda: len(self.records(since)) >= n and self.records(since),
                                timeout, interval=0.1, what="%d requests after %.1f" % (n, since))

    @staticmethod
    def failed(recs):
        return [r for r in recs if r["status"] != 200]

    def pids_of(self, host):
        return {p.pid for h, p in self.procs.values() if h == host and p.alive()}


def summary_of(recs):
    """summary_of - a short account of failed requests, for a failure message."""
    bad = [r for r in recs if r["status"] != 200]
    return "%d of %d failed, e.g. %s" % (len(bad), len(recs), bad[:3])


def run(tag):
    R = Run(tag)
    t_start = time.monotonic()
    try:
        R.make_switch()
        for h in ("db", "core", "w1", "w2", "edge"):
            R.make_host(h)
        R.start_db()
        harness.wait_for(lambda: R.in_ns("core", "redis-cli", "-h", R.ip("db"), "ping",
                                         check=False).stdout.strip() == "PONG",
                         15, what="redis on the db host")
        R.ctl("core", "migrate", "up")
        R.ctl("core", "seed", "--people")
        R.spawn("core", "bus", ["clubos-bus", "-d"])
        intel = R.spawn("core", "intelligence", ["clubos-intelligence", "-d"])
        harness.wait_for(lambda: R.ctl("core", "seed", "--knowledge") and True, 30, interval=0.5,
                         what="seed --knowledge through clubos-intelligence (%r)" % intel)
        R.spawn("core", "router", ["clubos-router", "-d"])
        R.spawn("core", "cache", ["clubos-cache", "-d"])
        R.spawn("core", "actions", ["clubos-actions", "-d"])
        R.spawn("core", "conversations", ["clubos-conversations", "-d"])
        for r in ROUTES:
            R.spawn("w1", "assistant-" + r, ["clubos-assistant", "-d", "--route", r])
            if r != "tech":
                R.spawn("w2", "assistant-" + r, ["clubos-assistant", "-d", "--route", r])
        for i, port in enumerate(GW_PORTS):
            R.spawn("edge", "gateway%d" % i, ["clubos-gateway", "-d"], CLUBOS_HTTP_PORT=port,
                    CLUBOS_DRAIN_MS=DRAIN_MS)
        for port in GW_PORTS:
            harness.wait_for(lambda: (R.health(port) or {}).get("status") == "ok", 60,
                             interval=0.2, what="gateway %d healthy: %r" % (port, R.health(port)))
        two = {r: 2 for r in ROUTES if r != "tech"}
        two["tech"] = 1
        R.wait_workers(two)
        print("stack up on 5 hosts in %.1fs" % (time.monotonic() - t_start), flush=True)

        # The balancer, then the trace tail and the load, all on the edge host.
        lb = harness.Proc("edge.lb", ["ip", "netns", "exec", R.ns("edge"), sys.executable,
                                      os.path.join(HERE, "lb.py"), str(LB_PORT),
                                      ",".join(map(str, GW_PORTS)), R.load_stop],
                          R.env("edge"), R.logs)
        R.procs["edge.lb"] = ("edge", lb)
        R.wait_rotation(GW_PORTS, 0)
        tail_p = harness.Proc("edge.trace-tail", ["ip", "netns", "exec", R.ns("edge"),
                                                  harness.binary("clubosctl"), "trace"],
                              R.env("edge"), R.logs)
        R.procs["edge.trace-tail"] = ("edge", tail_p)
        load = harness.Proc("edge.load", ["ip", "netns", "exec", R.ns("edge"), sys.executable,
                                          os.path.join(HERE, "load.py"), str(LB_PORT),
                                          harness.ADMIN_EMAIL,
                                          harness.ADMIN_PASSWORD, R.load_out, R.load_stop],
                            R.env("edge"), R.logs)
        R.procs["edge.load"] = ("edge", load)

        def steady():
            t = time.time()
            recs = R.wait_records(t, 30)
            assert not R.failed(recs), summary_of(recs)
            return "%d requests, all 200" % len(recs)
        R.check("steady load", steady)

        def scale():
            R.make_host("w3")
            R.spawn("w3", "assistant-tech-a", ["clubos-assistant", "-d", "--route", "tech"])
            R.spawn("w3", "assistant-tech-b", ["clubos-assistant", "-d", "--route", "tech"])
            R.wait_workers({"tech": 3})
            t = time.time()
            w3 = R.pids_of("w3")
            # The new host's workers answer tech questions (seen on the trace bus).
            harness.wait_for(lambda: any(" clubos-assistant-tech-%d " % p in line
                                         for p in w3 for line in open(R.trace_out)), 20,
                             what="a step from a tech worker on w3 in the trace tail")
            recs = R.wait_records(t, 20)
            assert not R.failed(recs), summary_of(recs)
            return "tech workers 1 -> 3, w3 answering"
        R.check("scale tech 1->3 on new host", scale)

        def link_cut():
            # The cut starts before the command that makes it: a request
            # sent while `ip link set down` runs is already cut off.
            t_cut = time.time()
            R.link("w2", "down")
            time.sleep(2.0)
            R.link("w2", "up")
            t_heal = time.time()
            during = R.wait_records(t_cut, 1)
            # Nothing hangs: every request asked while the link was down was
            # answered (maybe with an error) within its deadline.
            harness.wait_for(lambda: all("t1" in r for r in R.records(t_cut, t_heal)), 15,
                             what="requests asked during the cut to finish")
            slow = [r for r in R.records(t_cut, t_heal) if r["t1"] - r["t0"] > LOST_AFTER_S]
            assert not slow, "requests past their deadline during the cut: %r" % slow[:3]
            # Recovery: within 20 s of the heal, 30 requests in a row succeed.
            def clean_run():
                recs = R.records(t_heal)
                bad = [i for i, r in enumerate(recs) if r["status"] != 200]
                tail = recs[bad[-1] + 1:] if bad else recs
                return len(tail) >= 30
            harness.wait_for(clean_run, 20, interval=0.2,
                             what="30 good requests in a row after the heal (%s)" %
                                  summary_of(R.records(t_heal)))
            R.cut = (t_cut, time.time())
            two_back = {r: 2 for r in ROUTES if r != "tech"}
            R.wait_workers(two_back, timeout=20)
            cut = R.records(t_cut, t_heal)
            codes = sorted({"%d %s" % (r["status"], r["err"]) for r in R.failed(cut)})
            return "asked during the 2 s cut: %d, failed within the deadline: %d %s; recovered" % (
                len(cut), len(R.failed(cut)), codes if during else "")
        R.check("cut and heal w2's link", link_cut)

        def kill_host():
            t = time.time()
            kill_ns(R.ns("w1"))
            recs = R.wait_records(t, 40)
            time.sleep(0.5)
            recs = [r for r in R.records(t) if "t1" in r]
            assert not R.failed(recs), summary_of(recs)
            slow = [r for r in recs if r["t1"] - r["t0"] > LOST_AFTER_S]
            assert not slow, "past the deadline: %r" % slow[:3]
            want = {r: 1 for r in ROUTES if r != "tech"}
            want["tech"] = 2
            R.wait_workers(want)
            routes = {r["route"] for r in recs}
            assert "tech" in routes, "no tech answers after w1 died: %r" % routes
            return "%d requests after the kill, none failed; routes %s" % (
                len(recs), sorted(x for x in routes if x))
        R.check("kill worker host w1", kill_host)

        def gateway_restart():
            # Behind the one address: SIGTERM drains gateway 0 (readiness
            # down, still serving), the balancer takes it out, it stops;
            # started again, it is back in rotation and answering.  The
            # load never retries, so a request caught anywhere fails.
            name = "edge.gateway0"
            t = time.time()
            rc = R.procs[name][1].stop(deadline=DRAIN_MS / 1000.0 + 8)
            assert rc == 0, "gateway exited %r on SIGTERM" % rc
            t_out = R.wait_rotation(GW_PORTS[1:], t)
            R.wait_records(t, 20)
            R.spawn("edge", "gateway0", ["clubos-gateway", "-d"], CLUBOS_HTTP_PORT=GW_PORTS[0],
                    CLUBOS_DRAIN_MS=DRAIN_MS)
            t_back = R.wait_rotation(GW_PORTS, t)
            harness.wait_for(lambda: R.queries_served(GW_PORTS[0]) > 0, 20,
                             what="the restarted gateway 0 answering through the address")
            R.wait_records(t_back, 20)
            recs = [r for r in R.records(t) if "t1" in r]
            assert recs and not R.failed(recs), summary_of(recs)
            return ("%d requests through the one address, none failed or retried; gateway 0 "
                    "out of rotation %.1fs after SIGTERM" % (len(recs), t_out - t))
        R.check("restart one gateway behind one address", gateway_restart)

        def trace_hosts():
            # clubosctl trace: time, trace id, daemon, step, ... per line
            daemons = set()
            with open(R.trace_out, errors="replace") as f:
                for line in f:
                    cols = line.split()
                    if len(cols) >= 4 and harness.HEX32.match(cols[1]):
                        daemons.add(cols[2])
            seen = {"edge": "gateway" in daemons, "core": "router" in daemons}
            for h in ("w1", "w2", "w3"):
                pids = [p.pid for hh, p in R.procs.values()
                        if hh == h and p.name.split(".")[1].startswith("assistant")]
                seen[h] = any(re.fullmatch(r"clubos-assistant-[a-z]+-%d" % p, d)
                              for p in pids for d in daemons)
            missing = [h for h, ok in seen.items() if not ok]
            assert not missing, "no trace steps from %s; daemons seen: %s" % (
                missing, sorted(daemons)[:20])
            return "steps from %s (%d daemons)" % (", ".join(sorted(seen)), len(daemons))
        R.check("trace tail sees every host", trace_hosts)

        def status_all():
            r = run_bounded(["ip", "netns", "exec", R.ns("edge"), harness.binary("clubosctl"),
                             "status"], R.env("edge"), 30)
            out = r.stdout
            for d in ("clubos-bus", "clubos-router", "clubos-cache", "clubos-intelligence",
                      "clubos-actions", "clubos-conversations", "clubos-gateway"):
                line = [x for x in out.splitlines() if x.startswith(d + " ")]
                assert line and line[0].split()[1] == "ok", "%s not ok in:\n%s" % (d, out)
            assert r.returncode == 0, "clubosctl status exited %d:\n%s" % (r.returncode, out)
            assert "tls+tcp://%s:7301" % R.ip("core") in out, out
            # A worker host's own probe: ready when the router counts its route.
            env = R.env("w3")
            p = run_bounded(["ip", "netns", "exec", R.ns("w3"), harness.binary(
                "clubos-assistant"), "--route", "tech", "--health"], env, 20)
            o = json.loads(p.stdout)
            assert p.returncode == 0 and o["status"] == "ok" and o["workers"]["tech"] == 2, o
            return "every daemon ok from the edge host; w3's probe ok"
        R.check("clubosctl status across hosts", status_all)

        def outsiders():
            # Another CA's certificate, then none at all (plain tcp): the
            # edge host's clubosctl reaches no daemon on core.
            rogue = os.path.join(R.dir, "rogue")
            sh("sh", os.path.join(REPO, "deploy", "tls-certs.sh"), rogue, "edge")
            tries = {"another CA": {"CLUBOS_TLS_CA": os.path.join(rogue, "ca.pem"),
                                    "CLUBOS_TLS_CERT": os.path.join(rogue, "edge.pem")},
                     "no TLS": {"CLUBOS_TLS_CA": "", "CLUBOS_TLS_CERT": ""}}
            for what, over in tries.items():
                env = R.env("edge")
                env.update(over)
                r = run_bounded(["ip", "netns", "exec", R.ns("edge"), harness.binary("clubosctl"),
                                 "status"], env, 30)
                for d in ("clubos-bus", "clubos-router", "clubos-cache", "clubos-intelligence",
                          "clubos-actions"):
                    line = [x for x in r.stdout.splitlines() if x.startswith(d + " ")]
                    assert line and line[0].split()[1] != "ok", \
                        "%s reached %s:\n%s" % (what, d, r.stdout)
                assert r.returncode != 0, r.stdout
            return "another CA's certificate and plain tcp both reach no daemon on core"
        R.check("a host without the CA's certificate is kept out", outsiders)

        def drain_host():
            # A tech worker where the route keeps one, then every worker on
            # w3 stopped the gentle way (SIGTERM: each finishes what it
            # holds) and the host removed, under the load.
            R.spawn("w2", "assistant-tech", ["clubos-assistant", "-d", "--route", "tech"])
            R.wait_workers({"tech": 3})
            t = time.time()
            for name in sorted(n for n, (h, _) in R.procs.items() if h == "w3"):
                rc = R.procs[name][1].stop()
                assert rc == 0, "%s exited %r on SIGTERM" % (name, rc)
            R.wait_workers({"tech": 1})
            sh("ip", "netns", "del", R.ns("w3"))
            t_gone = time.time()
            harness.wait_for(lambda: any(r["route"] == "tech" and r["status"] == 200
                                         for r in R.records(t_gone) if "t1" in r), 20,
                             what="tech answered after w3 is gone")
            recs = [r for r in R.records(t) if "t1" in r]
            assert recs and not R.failed(recs), summary_of(recs)
            return "%d requests while w3 drained and went, none failed" % len(recs)
        R.check("drain and remove worker host w3", drain_host)

        with open(R.load_stop, "w"):
            pass
        harness.wait_for(lambda: not load.alive(), 20, what="the load to stop")

        def whole_run():
            recs = R.records()
            lo, hi = R.cut or (0, 0)
            # Lost to the cut: a request in flight at any moment of it.
            outside = [r for r in R.failed(recs)
                       if not (r["t0"] < hi and r.get("t1", r["t0"]) > lo)]
            unfinished = [r for r in recs if "t1" not in r]
            assert recs and not outside and not unfinished, \
                "failed outside the link cut: %r" % outside[:3]
            return "%d requests in all, %d not 200, all in flight during the link cut" % (
                len(recs), len(R.failed(recs)))
        R.check("no request lost outside the cut", whole_run)
    except Exception as e:
        R.results.append(("setup", False, str(e)))
        print("FAIL setup: %s" % e, flush=True)
        for path in sorted(os.listdir(R.logs)):
            print("----- %s\n%s" % (path, harness.tail(os.path.join(R.logs, path), 15)))
    finally:
        keep = os.environ.get("MH_KEEP_LOGS")
        if keep:
            shutil.copytree(R.logs, keep, dirs_exist_ok=True)
        cleanup(tag)
    passed = sum(1 for _, ok, _ in R.results if ok)
    failed = len(R.results) - passed
    print("multihost: %.0fs" % (time.monotonic() - t_start))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--cleanup":
        gone = cleanup(sys.argv[2])
        if gone:
            print("cleanup: removed %s" % " ".join(gone), file=sys.stderr)
        return 0
    tag = os.environ.get("MH_TAG") or "cmh%d" % os.getpid()

    def on_signal(sig, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_signal)
    try:
        return run(tag)
    except KeyboardInterrupt:
        cleanup(tag)
        print("interrupted; cleaned up")
        return 130


if __name__ == "__main__":
    sys.exit(main())
