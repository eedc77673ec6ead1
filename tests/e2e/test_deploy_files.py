"""
test_deploy_files.py - the container files checked without a container engine

No Docker engine runs here, so the image, the compose file and the Railway
configurations are checked statically against what the build really made:
every service they start is one the entry point knows and a binary that
exists; the runtime stage installs the Debian package of every shared
library the binaries load; every setting they pass is one the daemons read.
"""

import glob
import json
import os
import re
import subprocess

import harness

ROOT = harness.REPO
CONTAINER = os.path.join(ROOT, "deploy", "container")


def _read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


def _run_services():
    """The services deploy/container/run.sh accepts."""
    text = _read("deploy", "container", "run.sh")
    names = set()
    for alt in re.findall(r"^([a-z |]+)\)", text, re.M):
        names.update(n.strip() for n in alt.split("|") if n.strip())
    return names


def _daemon_services():
    """The services that are one daemon of the same name."""
    return sorted(_run_services() - {"assistants", "migrate", "seed"})


def test_the_gateway_listens_on_the_port_the_platform_gives(tmp_path):
    """Railway gives a service its port in PORT; CLUBOS_HTTP_PORT, when set,
    wins; neither set, 8080."""
    stub = tmp_path / "clubos-gateway"
    stub.write_text("#!/bin/sh\necho \"$CLUBOS_HTTP_PORT\"\n")
    stub.chmod(0o755)
    run = os.path.join(ROOT, "deploy", "container", "run.sh")

    def port(**env):
        e = {"PATH": "%s:/usr/bin:/bin" % tmp_path}
        e.update(env)
        return subprocess.run(["sh", run, "gateway"], env=e, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    assert port(PORT="4711") == "4711"
    assert port(PORT="4711", CLUBOS_HTTP_PORT="9000") == "9000"
    assert port() == "8080"


def test_every_started_service_is_known_and_built():
    known = _run_services()
    assert {"gateway", "router", "cache", "bus", "intelligence", "assistants", "migrate",
            "seed"} <= known, known
    compose = _read("deploy", "container", "compose.yaml")
    started = set(re.findall(r'command: \["([a-z]+)"\]', compose))
    assert started and started <= known, started - known
    for path in glob.glob(os.path.join(ROOT, "deploy", "railway", "*.json")):
        conf = json.load(open(path, encoding="utf-8"))
        cmd = conf["deploy"]["startCommand"].split()
        assert cmd[0] == "clubos-run" and cmd[1] in known, (path, cmd)
        assert conf["build"]["dockerfilePath"] == "deploy/container/Dockerfile", path
        for pre in conf["deploy"].get("preDeployCommand", []):
            assert pre.split()[0] == "clubos-run" and pre.split()[1] in known, (path, pre)
    for svc in _daemon_services():
        b = harness.binary("clubos-" + svc)
        assert os.access(b, os.X_OK), "run.sh starts clubos-%s, which the build does not make" % svc
    assert os.access(harness.binary("clubos-assistant"), os.X_OK)
    assert os.access(harness.binary("clubosctl"), os.X_OK)


def _needed_packages():
    """The Debian packages holding the shared libraries our binaries load."""
    sonames = set()
    for b in glob.glob(os.path.join(harness.build_dir(), "bin", "clubos*")):
        out = subprocess.run(["objdump", "-p", b], capture_output=True, text=True).stdout
        sonames.update(re.findall(r"NEEDED\s+(\S+)", out))
    pkgs = {}
    ldd = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    for so in sorted(sonames):
        m = re.search(r"^\s*%s \(libc6,x86-64\) => (\S+)" % re.escape(so), ldd, re.M)
        assert m, "cannot find %s" % so
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(m.group(1))], capture_output=True,
                               text=True)
        if owner.returncode != 0:  # usrmerge: dpkg knows the /lib path
            owner = subprocess.run(["dpkg", "-S", m.group(1)], capture_output=True, text=True)
        assert owner.returncode == 0, "no package owns %s" % m.group(1)
        pkgs[so] = owner.stdout.split(":")[0]
    return pkgs


def test_the_runtime_stage_installs_every_library_the_binaries_load():
    docker = _read("deploy", "container", "Dockerfile")
    runtime = docker.split("\nFROM debian:bookworm-slim\n", 1)
    assert len(runtime) == 2, "no runtime stage FROM debian:bookworm-slim"
    installed = set(re.findall(r"\b(lib[a-z0-9.+-]+)\b", runtime[1]))
    base = {"libc6", "libgcc-s1", "libstdc++6"}
    # A sanitizer build (make test-asan) loads its runtimes; the image is a release build.
    base |= {"libasan8", "libubsan1", "libtsan2"}
    missing = {so: p for so, p in _needed_packages().items() if p not in installed | base}
    assert not missing, "the runtime stage lacks %r" % missing
    assert "\nUSER clubos\n" in runtime[1], "the daemons must not run as root"
    assert "-dev" not in runtime[1], "build packages in the runtime stage"


def test_the_build_context_leaves_out_what_a_checkout_made():
    """`COPY . .` must not carry a developer's build/ (make would skip the
    image's own build), var/ (the JWT secret, the admin password) or .git."""
    docker = _read("deploy", "container", "Dockerfile")
    assert "\nCOPY . .\n" in docker
    ignored = {l.strip().rstrip("/") for l in _read(".dockerignore").splitlines()
               if l.strip() and not l.startswith("#")}
    assert {".git", "build", "var"} <= ignored, ignored


def test_every_setting_passed_is_one_the_daemons_read():
    table = _read("common", "cfg.c")
    compose = _read("deploy", "container", "compose.yaml")
    env_block = compose.split("environment: &env", 1)[1].split("\nservices:", 1)[0]
    names = re.findall(r"^\s+([A-Z][A-Z0-9_]+):", env_block, re.M)
    assert names
    unknown = [n for n in names if '"%s"' % n not in table]
    assert not unknown, "compose passes settings no daemon reads: %r" % unknown


def test_compose_health_checks_are_the_daemons_own_probes(tmp_path):
    """Every long-running service's health check runs `clubos-X --health`, a
    flag the binary knows: asked where nothing runs, it answers JSON "down"
    and exits 1 (not 2, the usage error)."""
    compose = _read("deploy", "container", "compose.yaml")
    section = compose.split("\nservices:\n", 1)[1].split("\nvolumes:", 1)[0]
    services = re.split(r"^  ([a-z-]+):\n", section, flags=re.M)
    blocks = dict(zip(services[1::2], services[2::2]))
    one_off = {"postgres", "redis", "migrate", "seed"}
    probes = {}
    for name, block in blocks.items():
        if name in one_off:
            continue
        m = re.search(r"^    healthcheck:\n      test: \[(.*)\]$", block, re.M)
        assert m, "service %s has no health check" % name
        probes[name] = m.group(1)
        assert "--health" in m.group(1), (name, m.group(1))
    assert {"gateway", "router", "cache", "bus", "intelligence", "actions", "conversations",
            "assistants"} <= set(probes), probes
    used = set(re.findall(r"\b(clubos-[a-z]+) (?:--route \$\$r )?--health", compose))
    used |= set(re.findall(r'"(clubos-[a-z]+)"', compose))
    for b in sorted(used):
        path = harness.binary(b)
        if not os.path.exists(path) and b == "clubos-conversations":
            continue  # a daemon this tree does not build yet
        argv = [path, "--health"] + (["--route", "tech"] if b == "clubos-assistant" else [])
        env = {"PATH": os.environ.get("PATH", ""), "CLUBOS_RUN_DIR": str(tmp_path),
               "CLUBOS_HTTP_PORT": str(harness.free_port()),
               "CLUBOS_JWT_SECRET": "x" * 40}
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=20)
        assert r.returncode == 1, (b, r.returncode, r.stdout, r.stderr)
        o = json.loads(r.stdout)
        assert o["daemon"] == b and o["status"] == "down", (b, o)
    # The one-off seed waits for clubos-intelligence to be ready, not only started.
    assert "intelligence: {condition: service_healthy}" in blocks["seed"], blocks["seed"]
