"""
test_migrate.py - `clubosctl migrate`: one at a time per database

A release step may start twice (two deploys, a retried job): each migrate
takes a session advisory lock first, so the second waits for the first and
finds everything applied, and no migration runs twice.
"""

import glob
import os
import subprocess

import harness

LOCK_KEY = 74133104906067      # "ClubOS" in ASCII (deploy/clubosctl/migrate.c)


def test_two_migrates_at_once_take_turns(stack):
    stack.pg.sql("CREATE DATABASE mig_race")
    dsn = stack.pg.dsn.replace("dbname=clubos", "dbname=mig_race")
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(harness.REPO,
                                                                       "migrations", "*.sql")))
    # Someone holds the lock: both migrates must wait for it, then take turns.
    holder = subprocess.Popen([os.path.join(stack.pg.bindir, "psql"), "-X", "-At", "-d", dsn],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        holder.stdin.write("SELECT pg_advisory_lock(%d);\n" % LOCK_KEY)
        holder.stdin.flush()
        harness.wait_for(lambda: stack.pg.sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted") != [["0"]],
            10, interval=0.05, what="the lock held")
        env = stack.env(CLUBOS_PG_DSN=dsn)
        ps = [subprocess.Popen([harness.binary("clubosctl"), "migrate", "up"], env=env,
                               cwd=harness.REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True) for _ in range(2)]
        # Both are waiting for it before it is let go.
        harness.wait_for(lambda: stack.pg.sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") ==
            [["2"]], 60, interval=0.05, what="both migrates waiting for the lock")
    finally:
        holder.stdin.write("SELECT pg_advisory_unlock_all();\n\\q\n")
        holder.stdin.flush()
        holder.wait(30)
    outs = [p.communicate(timeout=120) for p in ps]
    for p, (out, err) in zip(ps, outs):
        assert p.returncode == 0, (out, err)
        assert "another migrate is running on this database; waiting for it" in err, err
    applied = [line.split(" ", 1)[1] for out, _ in outs for line in out.splitlines()
               if line.startswith("applied ")]
    assert sorted(applied) == files, applied     # each once, by one of the two
    rows = stack.pg.sql("SELECT name FROM schema_migrations ORDER BY name")
    assert [r[0] for r in rows] == files
    # Once done, the lock is free and a third finds nothing to do, without waiting.
    r = subprocess.run([harness.binary("clubosctl"), "migrate", "up"], env=env, cwd=harness.REPO,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "" and "waiting" not in r.stderr, r
