"""
load.py - the steady load of the multi-host test, run inside the edge host

Logs in once, then loops POST /api/query.  Given one port (the load
balancer's single address, lb.py) a request is asked once, with no retry;
given two (gateways asked directly) it alternates between them, and a
request whose gateway refuses or drops the connection is asked once more
on the other.  Every request's outcome is one JSON line in OUT: start and end
(wall clock, seconds), the gateway that answered, the HTTP status (0 when
no gateway answered), the route and whether it was retried.  Runs until
the file STOP exists.  Standard library only.

    load.py PORT[,PORT] EMAIL PASSWORD OUT STOP
"""

import http.client
import json
import os
import sys
import threading
import time

MESSAGES = (
    "the trackman in bay 2 is frozen",
    "my simulator screen is black",
    "how do I book a bay for saturday",
    "what time do you open",
    "can I bring my own clubs",
    "the projector in bay 3 will not turn on",
)


def post(port, path, body, token=None, timeout=10.0):
    """post - one request on a fresh connection; (status, json or None)."""
    hdrs = {"Content-Type": "application/json"}
    if token:
        hdrs["Authorization"] = "Bearer " + token
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", path, body=json.dumps(body).encode(), headers=hdrs)
        r = c.getresponse()
        data = r.read()
        try:
            return r.status, json.loads(data)
        except ValueError:
            return r.status, None
    finally:
        c.close()


def login(ports, email, password):
    """login - a token from whichever gateway answers first (within 30 s)."""
    deadline = time.time() + 30
    while True:
        for p in ports:
            try:
                st, js = post(p, "/api/auth/login", {"email": email, "password": password})
                if st == 200 and js and js.get("token"):
                    return js["token"]
            except OSError:
                pass
        if time.time() > deadline:
            raise SystemExit("load.py: no login")
        time.sleep(0.2)


def worker(idx, ports, token, out, lock, stop):
    """worker - one client loop: alternate gateways, retry once on the other (two ports)."""
    n = idx
    while not os.path.exists(stop):
        n += 1
        first = n % len(ports)
        msg = MESSAGES[n % len(MESSAGES)]
        t0 = time.time()
        rec = {"t0": t0, "status": 0, "gw": None, "retried": False, "route": None, "err": None}
        for attempt in (first, 1 - first)[:len(ports)]:
            try:
                st, js = post(ports[attempt], "/api/query", {"message": msg}, token)
                rec.update(status=st, gw=attempt, retried=attempt != first,
                           route=(js or {}).get("route"),
                           err=((js or {}).get("error") or {}).get("code"))
                break
            except (OSError, http.client.HTTPException) as e:
                rec.update(err="%s: %s" % (type(e).__name__, e), retried=len(ports) > 1)
        rec["t1"] = time.time()
        with lock:
            out.write(json.dumps(rec) + "\n")
            out.flush()
        time.sleep(0.02)


def main():
    ps, email, password, path, stop = sys.argv[1:6]
    ports = tuple(int(p) for p in ps.split(","))
    token = login(ports, email, password)
    lock = threading.Lock()
    with open(path, "a") as out:
        ts = [threading.Thread(target=worker, args=(i, ports, token, out, lock, stop),
                               daemon=True) for i in range(3)]
        for t in ts:
            t.start()
        while any(t.is_alive() for t in ts):   # a signal ends the process, threads too
            time.sleep(0.1)


if __name__ == "__main__":
    main()
