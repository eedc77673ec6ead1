"""
test_redis_bounds.py - nothing in Redis grows without bound, and nothing
asks Redis to walk the whole keyspace at once

The cache's per-SOP index of L2 keys expires and is capped; the source
never sends KEYS (SCAN a page at a time instead).
"""

import glob
import os
import re
import subprocess
import uuid

import harness


def _redis(stack, *args):
    r = subprocess.run(["redis-cli", "-p", str(stack.redis_port), "--no-raw"] + list(args),
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def _scan(stack, pattern):
    keys, cursor = [], "0"
    while True:
        out = subprocess.run(["redis-cli", "-p", str(stack.redis_port), "SCAN", cursor,
                              "MATCH", pattern, "COUNT", "1000"],
                             capture_output=True, text=True, timeout=10).stdout.split()
        cursor, keys = out[0], keys + out[1:]
        if cursor == "0":
            return keys


def test_sop_index_expires_and_lists_its_entries(stack, accounts):
    a = harness.assert_answer(stack.query(accounts["customer"].token,
                                          "can I bring my own golf clubs " + uuid.uuid4().hex[:4]))
    slug = (a.get("sop") or {}).get("slug")
    assert slug, a

    def indexed():
        return "cache-by-sop:" + slug in _scan(stack, "cache-by-sop:*")
    harness.wait_for(indexed, 10, interval=0.1, what="the SOP's L2 index")
    idx = "cache-by-sop:" + slug
    ttl = int(_redis(stack, "TTL", idx).split()[-1])
    assert ttl > 0, "the index %s never expires (TTL %d)" % (idx, ttl)
    members = subprocess.run(["redis-cli", "-p", str(stack.redis_port), "SMEMBERS", idx],
                             capture_output=True, text=True, timeout=10).stdout.split()
    # Every L2 entry of the SOP is listed, so invalidation can find it.
    for k in _scan(stack, "cache:*"):
        v = subprocess.run(["redis-cli", "-p", str(stack.redis_port), "GET", k],
                           capture_output=True, text=True, timeout=10).stdout
        if '"label":"%s"' % slug in v:
            assert k in members, (k, idx)


def test_no_keys_command_in_the_source():
    root = harness.REPO
    bad = []
    for path in glob.glob(os.path.join(root, "*", "**", "*.[ch]"), recursive=True):
        if "/tests/" in path or "/build/" in path:
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        # KEYS[1] in a Lua script is an argument, not the command.
        for m in re.finditer(r"""["'(]\s*KEYS\b(?!\[)""", text):
            bad.append("%s: %s" % (os.path.relpath(path, root), text[m.start():m.start() + 40]))
    assert not bad, "KEYS walks the whole keyspace; use SCAN: %r" % bad
