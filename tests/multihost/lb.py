"""
lb.py - the platform's load balancer in front of the edge host's gateways

What Railway's edge (or any health-checking balancer) does for the
multi-host test, inside the edge host: one address, 127.0.0.1:PORT, whose
new connections the kernel spreads over the gateways that are ready
(nftables DNAT, round robin).  Every POLL_S it asks each gateway's
GET /api/health/ready; a gateway that answers 200 is in the rotation,
anything else (503 draining or no router, refused, timed out) is out.
A change of rotation replaces the rule in one nft transaction, so a
connection is never without a rule; connections already made keep their
gateway (conntrack).  Each change is one line on stdout:

    <unix time> rotation 8080,8081

With no gateway ready, the rule keeps every gateway (their refusals are
then what a client sees).  Runs until the file STOP exists.  Standard
library and nft only.

    lb.py PORT BACKEND_PORT,... STOP
"""

import http.client
import os
import subprocess
import sys
import time

POLL_S = 0.1
TABLE = "clubos_lb"


def ready(port):
    """ready - does the gateway on port say it takes traffic?"""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=0.5)
    try:
        c.request("GET", "/api/health/ready")
        r = c.getresponse()
        r.read()
        return r.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        c.close()


def ruleset(port, backends):
    """ruleset - the nft script that sends 127.0.0.1:port to backends."""
    if len(backends) == 1:
        to = "127.0.0.1:%d" % backends[0]
    else:
        to = "127.0.0.1 : numgen inc mod %d map { %s }" % (
            len(backends), ", ".join("%d : %d" % (i, b) for i, b in enumerate(backends)))
    return ("add table ip %s\nflush table ip %s\n"
            "table ip %s {\n chain out {\n  type nat hook output priority -100; policy accept;\n"
            "  ip daddr 127.0.0.1 tcp dport %d dnat to %s\n }\n}\n" % (TABLE, TABLE, TABLE, port, to))


def apply(port, backends):
    subprocess.run(["nft", "-f", "-"], input=ruleset(port, backends), text=True, check=True,
                   timeout=10)


def main():
    port, backends, stop = int(sys.argv[1]), [int(b) for b in sys.argv[2].split(",")], sys.argv[3]
    current = None
    try:
        while not os.path.exists(stop):
            rotation = [b for b in backends if ready(b)] or backends
            if rotation != current:
                apply(port, rotation)
                current = rotation
                print("%.3f rotation %s" % (time.time(), ",".join(map(str, rotation))), flush=True)
            time.sleep(POLL_S)
    finally:
        subprocess.run(["nft", "delete", "table", "ip", TABLE], capture_output=True, timeout=10)


if __name__ == "__main__":
    main()
