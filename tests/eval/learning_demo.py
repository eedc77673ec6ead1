#!/usr/bin/env python3
"""
learning_demo.py - the learning loop end to end, on a running `make up`

    python3 tests/eval/learning_demo.py [--url http://127.0.0.1:8080]

Asks a question three times as a customer and marks each answer unhelpful,
adds a staff correction, runs an analysis, shows the proposal's diff,
approves it, asks again (answered from the new version), rolls back and
asks once more (the old answer).  Every step prints what the API said.
Standard library only; reads the admin password from var/admin-password
(or CLUBOS_ADMIN_PASSWORD).  It changes the SOP it uses (a new version and a
rollback: history is kept) and leaves a few users behind.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
import uuid

SLUG = "tech.wifi"
QUESTION = "the wifi keeps dropping out in my bay"
CORRECTION = ("Bay 3 sits furthest from the router: switch to the ClubOS-5G network, "
              "which reaches every bay without drops. (demo %s)")


def call(url, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def must(status_body, what):
    status, body = status_body
    if status >= 300:
        sys.exit("%s failed: HTTP %d %s" % (what, status, json.dumps(body)))
    return body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:%s" % os.environ.get("CLUBOS_HTTP_PORT", "8080"))
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    pw = os.environ.get("CLUBOS_ADMIN_PASSWORD")
    if not pw:
        with open(os.path.join(root, "var", "admin-password")) as f:
            pw = f.read().strip()
    email = os.environ.get("CLUBOS_ADMIN_EMAIL", "admin@clubos.local")
    admin = must(call(a.url, "POST", "/api/auth/login", {"email": email, "password": pw}),
                 "admin login")["token"]
    tokens = {}
    for role in ("customer", "operator"):
        e, p = "demo-%s-%s@clubos.test" % (role, uuid.uuid4().hex[:6]), uuid.uuid4().hex
        must(call(a.url, "POST", "/api/users", {"email": e, "password": p, "role": role}, admin),
             "create " + role)
        tokens[role] = must(call(a.url, "POST", "/api/auth/login", {"email": e, "password": p}),
                            "login " + role)["token"]
    correction = CORRECTION % uuid.uuid4().hex[:6]
    base = must(call(a.url, "GET", "/api/sops/" + SLUG, token=admin), "get SOP")
    print("1. %s is at version %d" % (SLUG, base["version"]))

    traces = []
    for i in range(3):
        r = must(call(a.url, "POST", "/api/query", {"message": QUESTION}, tokens["customer"]), "query")
        traces.append(r["trace_id"])
        must(call(a.url, "POST", "/api/feedback", {"trace_id": r["trace_id"], "helpful": False},
                  tokens["customer"]), "feedback")
        print("2. asked %r -> %s v%s; marked unhelpful" % (QUESTION, r["sop"] and r["sop"]["slug"],
                                                          r["sop"] and r["sop"]["version"]))
    must(call(a.url, "POST", "/api/feedback", {"trace_id": traces[0], "helpful": False,
                                                "correct_answer": correction}, tokens["operator"]),
         "staff correction")
    print("3. staff gave the correct answer: %r" % correction)

    made = must(call(a.url, "POST", "/api/intelligence/analyze", token=admin), "analyze")
    mine = [p for p in made if p["sop_slug"] == SLUG]
    if len(mine) != 1:
        sys.exit("expected one proposal for %s, got %s" % (SLUG, json.dumps(made)))
    p = mine[0]
    print("4. analysis made proposal %d: %s by the %s analyser, %d pieces of evidence, status %s"
          % (p["id"], p["kind"], p["analyser"], p["evidence_count"], p["status"]))
    print("   diff:\n" + "\n".join("     " + ln for ln in p["diff"].splitlines()))

    r = must(call(a.url, "POST", "/api/intelligence/proposals/%d/approve" % p["id"], token=admin),
             "approve")
    print("5. approved: %s is at version %d (journal entry %d)" % (SLUG, r["version"], r["journal_id"]))
    q = must(call(a.url, "POST", "/api/query", {"message": QUESTION}, tokens["customer"]), "query")
    ok = correction in q["response"]
    print("6. asked again -> %s v%d, the correction %s in the answer"
          % (q["sop"]["slug"], q["sop"]["version"], "IS" if ok else "is NOT"))

    r = must(call(a.url, "POST", "/api/sops/%s/rollback" % SLUG, {"version": base["version"]}, admin),
             "rollback")
    q2 = must(call(a.url, "POST", "/api/query", {"message": QUESTION}, tokens["customer"]), "query")
    back = correction not in q2["response"]
    print("7. rolled back to version %d's text as version %d; asked again -> v%d, the correction %s"
          % (base["version"], r["version"], q2["sop"]["version"], "is gone" if back else "is STILL THERE"))
    eff = must(call(a.url, "GET", "/api/intelligence/proposals/%d" % p["id"], token=admin), "proposal")
    print("8. effect: before %s, after %s" % (json.dumps(eff["effect"]["before"]),
                                             json.dumps(eff["effect"]["after"])))
    sys.exit(0 if ok and back else 1)


if __name__ == "__main__":
    main()
