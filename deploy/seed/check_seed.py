#!/usr/bin/env python3
"""Validate the ClubOS seed data in deploy/seed/ against the SOP catalog.

Usage: python3 deploy/seed/check_seed.py [--shared DIR]

DIR is the shared/ folder holding spec/sop-catalog.json and (optionally)
eval/clubos-dev.jsonl. Default: $CLUBOS_SHARED, else ../shared beside the
repository root, else /work/shared. Exits 0 when every check passes.
"""
import argparse
import collections
import datetime
import json
import os
import re
import sys

SEED = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(SEED))

ALLOWED_PLACEHOLDERS = {
    "booking_site", "support_email", "facility_name", "team_hours",
    "location_name", "location_address", "location_parking", "location_bays",
}
TEAM_HOURS = "8 am to 11 pm"
CONFIRM_ACTIONS = {"restart_trackman_request", "reboot_pc_request"}
MIN_PER_TOPIC = 30
MIN_OOS = 400

errors = []


def err(msg):
    errors.append(msg)


def find_shared(arg):
    cands = [arg, os.environ.get("CLUBOS_SHARED"),
             os.path.join(os.path.dirname(ROOT), "shared"),
             os.path.join(ROOT, "shared"), "/work/shared"]
    for c in cands:
        if c and os.path.isfile(os.path.join(c, "spec", "sop-catalog.json")):
            return c
    sys.exit("check_seed: cannot find shared/spec/sop-catalog.json (use --shared)")


def norm_text(t):
    return re.sub(r"\s+", " ", t.strip().lower())


def parse_sop(path):
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    if not raw.startswith("---\n"):
        raise ValueError("does not start with '---' front matter")
    end = raw.find("\n---\n", 4)
    if end < 0:
        raise ValueError("front matter not closed by '---'")
    fm, body = raw[4:end], raw[end + 5:]
    meta = {}
    for line in fm.split("\n"):
        if not line.strip():
            continue
        if ":" not in line:
            raise ValueError("bad front matter line: %r" % line)
        k, v = line.split(":", 1)
        k = k.strip()
        if k in meta:
            raise ValueError("duplicate key %r" % k)
        meta[k] = v.strip()
    return meta, body


def check_sops(cat):
    sop_dir = os.path.join(SEED, "sops")
    topics = {t["slug"]: t for t in cat["topics"]}
    files = sorted(f for f in os.listdir(sop_dir) if f.endswith(".md")) if os.path.isdir(sop_dir) else []
    names = {f[:-3] for f in files}
    for s in sorted(set(topics) - names):
        err("sop missing: %s.md" % s)
    for s in sorted(names - set(topics)):
        err("sop file not in catalog: %s.md" % s)
    words_by_slug = {}
    for slug in sorted(names & set(topics)):
        t = topics[slug]
        path = os.path.join(sop_dir, slug + ".md")
        try:
            meta, body = parse_sop(path)
        except (ValueError, UnicodeDecodeError) as e:
            err("%s: %s" % (slug, e))
            continue
        need = ["slug", "route", "audience", "escalation", "actions", "title", "keywords"]
        for k in need:
            if k not in meta:
                err("%s: front matter lacks %r" % (slug, k))
        for k in meta:
            if k not in need:
                err("%s: unexpected front matter key %r" % (slug, k))
        if meta.get("slug") != slug:
            err("%s: slug %r differs" % (slug, meta.get("slug")))
        if meta.get("route") != t["route"]:
            err("%s: route %r, catalog %r" % (slug, meta.get("route"), t["route"]))
        if meta.get("audience") != t["audience"]:
            err("%s: audience %r, catalog %r" % (slug, meta.get("audience"), t["audience"]))
        if meta.get("escalation") != str(t["escalation"]):
            err("%s: escalation %r, catalog %r" % (slug, meta.get("escalation"), t["escalation"]))
        acts = [a.strip() for a in meta.get("actions", "").split(",") if a.strip()]
        if acts != list(t["actions"]):
            err("%s: actions %r, catalog %r" % (slug, acts, t["actions"]))
        if not meta.get("title"):
            err("%s: empty title" % slug)
        kws = [k.strip() for k in meta.get("keywords", "").split(",") if k.strip()]
        if not 8 <= len(kws) <= 20:
            err("%s: %d keywords (want 8-20)" % (slug, len(kws)))
        if len(set(k.lower() for k in kws)) != len(kws):
            err("%s: repeated keyword" % slug)
        nwords = len(body.split())
        words_by_slug[slug] = nwords
        if not 25 <= nwords <= 160:
            err("%s: body has %d words (want 25-160)" % (slug, nwords))
        for ph in re.findall(r"\{\{\s*([^}]*?)\s*\}\}", body):
            if ph not in ALLOWED_PLACEHOLDERS:
                err("%s: placeholder {{%s}} not allowed" % (slug, ph))
        stripped = re.sub(r"\{\{[a-z_]+\}\}", "", body)
        if "{" in stripped or "}" in stripped:
            err("%s: stray brace in body" % slug)
        # no invented contact details or prices
        if "$" in body or "@" in body or "http" in body.lower():
            err("%s: body has a price, e-mail address or URL; use placeholders" % slug)
        if re.search(r"\d{3}[-. ]?\d{4}", body):
            err("%s: body looks like it has a phone number" % slug)
        if set(t["actions"]) & CONFIRM_ACTIONS and "YES" not in body:
            err("%s: confirmation action but the body does not ask for YES" % slug)
        if t["route"] == "emergency":
            first = body.strip().split("\n")[0]
            if "on-call manager" not in body:
                err("%s: emergency body must say the on-call manager is alerted" % slug)
            if not re.search(r"911|leave|move away|stay calm|keep away", first, re.I):
                err("%s: emergency body must open with the safety instruction" % slug)
    return words_by_slug


def check_examples(cat, dev_msgs):
    path = os.path.join(SEED, "examples.jsonl")
    slugs = [t["slug"] for t in cat["topics"]]
    counts = collections.Counter()
    seen = {}
    dev = {norm_text(m) for m in dev_msgs}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                err("examples.jsonl:%d: blank line" % n)
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                err("examples.jsonl:%d: bad JSON: %s" % (n, e))
                continue
            if not isinstance(obj, dict) or set(obj) != {"text", "label"}:
                err("examples.jsonl:%d: want exactly keys text, label" % n)
                continue
            text, label = obj["text"], obj["label"]
            if not isinstance(text, str) or not text.strip() or len(text) > 2000:
                err("examples.jsonl:%d: bad text" % n)
                continue
            if label != "oos" and label not in slugs:
                err("examples.jsonl:%d: unknown label %r" % (n, label))
                continue
            k = norm_text(text)
            if k in seen:
                err("examples.jsonl:%d: duplicate of line %d: %r" % (n, seen[k], text))
            seen[k] = n
            if k in dev:
                err("examples.jsonl:%d: equals a dev-set message: %r" % (n, text))
            counts[label] += 1
    for s in slugs:
        if counts[s] < MIN_PER_TOPIC:
            err("examples: %s has %d examples (want >= %d)" % (s, counts[s], MIN_PER_TOPIC))
    if counts["oos"] < MIN_OOS:
        err("examples: oos has %d examples (want >= %d)" % (counts["oos"], MIN_OOS))
    return counts


def check_facility(cat):
    with open(os.path.join(SEED, "facility.json"), encoding="utf-8") as f:
        fac = json.load(f)
    want = cat["facility"]
    for k, v in want.items():
        if fac.get(k) != v:
            err("facility.json: %s is %r, catalog %r" % (k, fac.get(k), v))
    if fac.get("team_hours") != TEAM_HOURS:
        err("facility.json: team_hours must be %r" % TEAM_HOURS)
    if TEAM_HOURS not in want.get("open", ""):
        err("catalog 'open' no longer mentions %r: update TEAM_HOURS" % TEAM_HOURS)
    extra = set(fac) - set(want) - {"team_hours"}
    if extra:
        err("facility.json: keys not in the catalog: %s" % sorted(extra))
    return {l["slug"]: l["bays"] for l in want["locations"]}


def check_customers(bays):
    with open(os.path.join(SEED, "customers.json"), encoding="utf-8") as f:
        cs = json.load(f)
    if not isinstance(cs, list) or len(cs) < 5:
        err("customers.json: want a JSON array of at least 5 customers")
        return 0
    keys = {"name", "phone", "email", "membership", "membership_renews", "credit_cents",
            "hours_left", "member_number", "bookings"}
    numbers, phones, emails = set(), set(), set()
    soon = 0
    sarah = False
    for i, c in enumerate(cs):
        who = "customers.json[%d]" % i
        if not isinstance(c, dict) or set(c) != keys:
            err("%s: want exactly keys %s" % (who, sorted(keys)))
            continue
        if not isinstance(c["name"], str) or not c["name"].strip():
            err("%s: bad name" % who)
        if not isinstance(c["phone"], str) or not re.fullmatch(r"\+1\d{3}555\d{4}", c["phone"]):
            err("%s: phone must be a fictional +1 NNN 555 XXXX number" % who)
        if not isinstance(c["email"], str) or not re.fullmatch(r"[a-z0-9._+-]+@example\.test", c["email"]):
            err("%s: email must be @example.test" % who)
        if c["membership"] not in ("none", "Standard", "Club+"):
            err("%s: membership must be none, Standard or Club+" % who)
        r = c["membership_renews"]
        if c["membership"] == "none":
            if r is not None:
                err("%s: no membership but a renewal date" % who)
        else:
            try:
                datetime.date.fromisoformat(r)
            except (TypeError, ValueError):
                err("%s: membership_renews must be YYYY-MM-DD" % who)
        if not isinstance(c["credit_cents"], int) or isinstance(c["credit_cents"], bool) or c["credit_cents"] < 0:
            err("%s: credit_cents must be a non-negative int" % who)
        if not isinstance(c["hours_left"], (int, float)) or isinstance(c["hours_left"], bool) or c["hours_left"] < 0:
            err("%s: hours_left must be a non-negative number" % who)
        if not isinstance(c["member_number"], int) or isinstance(c["member_number"], bool):
            err("%s: member_number must be an int" % who)
        for val, seenset, what in ((c["member_number"], numbers, "member_number"),
                                   (c["phone"], phones, "phone"), (c["email"], emails, "email")):
            if val in seenset:
                err("%s: duplicate %s" % (who, what))
            seenset.add(val)
        if c["name"] == "Sarah Mendez" and c["member_number"] == 1042 and str(c["phone"]).endswith("2281"):
            sarah = True
        bk = c["bookings"]
        if not isinstance(bk, list) or not 1 <= len(bk) <= 3:
            err("%s: want 1-3 bookings" % who)
            continue
        has_soon = False
        for j, b in enumerate(bk):
            bw = "%s.bookings[%d]" % (who, j)
            if not isinstance(b, dict) or set(b) != {"location", "bay", "start_offset_hours", "duration_minutes", "status"}:
                err("%s: bad keys" % bw)
                continue
            if b["location"] not in bays:
                err("%s: unknown location %r" % (bw, b["location"]))
            elif not isinstance(b["bay"], int) or not 1 <= b["bay"] <= bays[b["location"]]:
                err("%s: bay %r outside 1..%d" % (bw, b["bay"], bays[b["location"]]))
            if not isinstance(b["start_offset_hours"], int) or isinstance(b["start_offset_hours"], bool):
                err("%s: start_offset_hours must be an int" % bw)
            if b["duration_minutes"] not in (60, 90, 120):
                err("%s: duration_minutes must be 60, 90 or 120" % bw)
            if b["status"] not in ("confirmed", "cancelled"):
                err("%s: status must be confirmed or cancelled" % bw)
            if (b["status"] == "confirmed" and isinstance(b["start_offset_hours"], int)
                    and 0 < b["start_offset_hours"] <= 24):
                has_soon = True
        soon += has_soon
    if not sarah:
        err("customers.json: need Sarah Mendez, member_number 1042, phone ending 2281")
    if soon < 3:
        err("customers.json: want at least 3 customers with a confirmed booking in the next 24 h (have %d)" % soon)
    return len(cs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    shared = find_shared(a.shared)
    with open(os.path.join(shared, "spec", "sop-catalog.json"), encoding="utf-8") as f:
        cat = json.load(f)
    dev_path = os.path.join(shared, "eval", "clubos-dev.jsonl")
    dev_msgs = []
    if os.path.isfile(dev_path):
        with open(dev_path, encoding="utf-8") as f:
            dev_msgs = [json.loads(l)["message"] for l in f if l.strip()]
    else:
        print("check_seed: note: %s not found, dev-set overlap not checked" % dev_path)

    words = check_sops(cat)
    counts = check_examples(cat, dev_msgs)
    bays = check_facility(cat)
    ncust = check_customers(bays)

    if not a.quiet:
        print("SOPs: %d files, body words min %d / max %d" % (
            len(words), min(words.values() or [0]), max(words.values() or [0])))
        print("examples: %d lines, %d labels, oos %d, smallest topic %s" % (
            sum(counts.values()), len(counts), counts["oos"],
            min(((counts[t["slug"]], t["slug"]) for t in cat["topics"]), default=None)))
        print("dev-set messages compared: %d" % len(dev_msgs))
        print("customers: %d" % ncust)
    if errors:
        for e in errors:
            print("FAIL:", e)
        print("check_seed: %d problem(s)" % len(errors))
        return 1
    print("check_seed: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
