#!/usr/bin/env python3
"""Measure routing and SOP matching on a labelled set, through the HTTP API.

Each message is asked as the kind of user its label names (customer, kiosk,
staff, admin), exactly as a client would ask it.  Prints route accuracy, SOP
top-1 match, emergency recall and false emergencies, out-of-scope handling,
audience leaks, a per-route confusion table and a risk-coverage table.

usage: dev_eval.py --url http://127.0.0.1:8080 --admin-email E --admin-password P [--set FILE]
                   [--threshold T] [--json]

--threshold sets the stack's sop_confidence_threshold (PATCH /api/settings)
before measuring; the risk-coverage rows below it are then empty by
construction, so measure with a low one to see the whole curve.
"""
import argparse
import collections
import json
import sys
import urllib.error
import urllib.request
import uuid

ROUTES = ["emergency", "booking", "tech", "brand", "strategy", "customerinfo", "general"]


def call(url, path, body=None, token=None):
    req = urllib.request.Request(url + path, method="POST" if body is not None else "GET")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(req, data, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def login(url, email, password):
    st, r = call(url, "/api/auth/login", {"email": email, "password": password})
    if st != 200:
        sys.exit(f"login {email}: {st} {r}")
    return r["token"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--admin-email", default="admin@clubos.local")
    ap.add_argument("--admin-password", required=True)
    ap.add_argument("--set", default="../shared/eval/clubos-dev.jsonl")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    ap.add_argument("--threshold", type=float, help="sop_confidence_threshold to measure at")
    a = ap.parse_args()

    admin = login(a.url, a.admin_email, a.admin_password)
    if a.threshold is not None:
        req = urllib.request.Request(a.url + "/api/settings", method="PATCH",
                                     data=json.dumps({"sop_confidence_threshold": a.threshold}).encode())
        req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", "Bearer " + admin)
        urllib.request.urlopen(req, timeout=30).read()
    st, cur = call(a.url, "/api/settings", token=admin)
    threshold = cur.get("sop_confidence_threshold") if st == 200 else None
    tokens = {"admin": admin}
    run = uuid.uuid4().hex[:8]
    for role in ("operator", "kiosk", "customer"):
        email = f"eval-{role}-{run}@clubos.local"
        st, r = call(a.url, "/api/users", {"email": email, "password": "eval-password-1",
                                           "role": role, "name": f"Eval {role}"}, admin)
        if st != 201:
            sys.exit(f"create {role}: {st} {r}")
        tokens[role] = login(a.url, email, "eval-password-1")

    # Who may read what, to count leaks.
    st, sops = call(a.url, "/api/sops", token=admin)
    audience_of = {s["slug"]: s["audience"] for s in sops}

    rows = [json.loads(l) for l in open(a.set) if l.strip()]
    n = len(rows)
    route_ok = sop_ok = 0
    em_total = em_hit = false_em = 0
    oos_total = oos_answered = 0
    leaks = 0
    confusion = collections.defaultdict(collections.Counter)
    answered = []  # (confidence, correct)
    misses = []
    clarified = clarified_right = 0  # asked which of two SOPs; the labelled one offered
    in_parts = in_parts_right = 0  # answered as several questions; the labelled SOP among them
    for row in rows:
        aud = row.get("audience", "customer")
        role = {"staff": "operator", "admin": "admin"}.get(aud, "kiosk" if row.get("channel") == "kiosk" else "customer")
        body = {"message": row["message"]}
        if row.get("channel"):
            body["channel"] = row["channel"]
        st, r = call(a.url, "/api/query", body, tokens[role])
        if st != 200:
            misses.append((row["message"], f"HTTP {st} {r}"))
            confusion[row["route"]]["(error)"] += 1
            continue
        got_route = r["route"]
        got_sop = r["sop"]["slug"] if r.get("sop") else None
        confusion[row["route"]][got_route] += 1
        route_ok += got_route == row["route"]
        sop_ok += got_sop == row.get("sop")
        if row["route"] == "emergency":
            em_total += 1
            em_hit += got_route == "emergency"
        elif got_route == "emergency":
            false_em += 1
        if row.get("sop") is None and row["route"] == "general":
            oos_total += 1
            oos_answered += got_sop is not None
        if got_sop is not None:
            allowed = {"customer": ["all"], "staff": ["all", "staff"], "admin": ["all", "staff", "admin"]}
            cls = {"customer": "customer", "kiosk": "customer", "operator": "staff", "admin": "admin"}[role]
            if audience_of.get(got_sop) not in allowed[cls]:
                leaks += 1
            answered.append((r.get("confidence", 0.0), got_sop == row.get("sop")))
        parts = [(p.get("sop") or {}).get("slug") for p in r.get("parts") or []]
        if parts:
            in_parts += 1
            in_parts_right += row.get("sop") in parts
        offered = [o.get("slug") for o in r.get("clarify") or []]
        if offered:
            clarified += 1
            clarified_right += row.get("sop") in offered
        if got_route != row["route"] or got_sop != row.get("sop"):
            asked = f" asked {offered}" if offered else f" parts {parts}" if parts else ""
            misses.append((row["message"], f"want {row['route']}/{row.get('sop')} got {got_route}/{got_sop} conf {r.get('confidence', 0):.2f}{asked}"))

    figures = {
        "n": n,
        "route_accuracy": route_ok / n,
        "sop_top1_match": sop_ok / n,
        "emergency_recall": em_hit / em_total if em_total else None,
        "false_emergencies": false_em,
        "oos_answered_share": oos_answered / oos_total if oos_total else None,
        "audience_leaks": leaks,
        "sop_confidence_threshold": threshold,
        "answered_above_075": sum(1 for conf, _ in answered if conf >= 0.75) / n,
        "clarified": clarified,
        "clarified_right_offered": clarified_right,
        "answered_in_parts": in_parts,
        "answered_in_parts_right": in_parts_right,
    }
    if a.json:
        print(json.dumps(figures))
        return
    print(f"messages                 {n}")
    print(f"route accuracy           {figures['route_accuracy']:.1%}")
    print(f"SOP top-1 match          {figures['sop_top1_match']:.1%}")
    print(f"emergency recall         {em_hit}/{em_total}")
    print(f"false emergencies        {false_em}")
    print(f"out of scope answered    {oos_answered}/{oos_total} from an SOP")
    print(f"audience leaks           {leaks}")
    print(f"sop_confidence_threshold {threshold}")
    print(f"answered at >= 0.75      {figures['answered_above_075']:.1%} of all messages")
    print(f"asked which of two SOPs  {clarified} (the labelled one offered: {clarified_right})")
    print(f"answered in parts        {in_parts} (the labelled SOP among them: {in_parts_right})")
    print("\nconfusion (rows: labelled route, columns: answered route)")
    cols = ROUTES + ["(error)"]
    print(" " * 14 + "".join(f"{c[:8]:>9}" for c in cols))
    for rt in ROUTES:
        print(f"{rt:<14}" + "".join(f"{confusion[rt][c]:>9}" for c in cols))
    print("\nrisk-coverage (answers from an SOP with confidence >= t)")
    print(f"{'t':>6} {'coverage':>9} {'error':>7}")
    for t in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9):
        kept = [c for conf, c in answered if conf >= t]
        cov = len(kept) / n
        err = (1 - sum(kept) / len(kept)) if kept else 0.0
        print(f"{t:>6.2f} {cov:>9.1%} {err:>7.1%}")
    if misses:
        print("\nmisses:")
        for m, why in misses:
            print(f"  {why}: {m}")


if __name__ == "__main__":
    main()
