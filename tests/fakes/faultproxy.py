#!/usr/bin/env python3
"""A fault-injecting HTTP proxy between fanout and moto_server, on
loopback. Every Nth request (N from --every, default 3) is answered by the
proxy itself, without reaching moto, alternately with HTTP 503 and with
an EC2 "RequestLimitExceeded" throttling error; the others are passed on.
A request body is failed at most once, so botocore-style retries (3
attempts) always get through. --every 0 injects no faults; --delay S
holds every request S seconds; --always fails every request; --lose
A,B passes the first request of each of those actions on to moto but
answers it with 503, as when an answer is lost after the work was done (to make a create slow enough to be killed
at a chosen step). Counts go to --log: "requests N faults F busy B", B
the requests not yet answered (a test waits for 0 before it looks at
what a killed client's last calls made).

--rate P --seed S fails each request with probability P, a request body
as often as the dice say (so a call's retries can all fail); the dice are
a hash of (S, action, how many requests of that action came before), so
a run is the same every time whatever order the threads send in. --fail
RULE (repeatable) fails chosen requests: "ACTION [has=TEXT] [after=ACTION2]
count=N [kind=throttle|500|503|DependencyViolation]" fails the next N
requests of ACTION (whose body contains TEXT) from the start, or after
each request of ACTION2. --events F gets one line per injected fault:
"ACTION N KIND" (N: that action's request number, from 1).
--hold ACTION=FILE holds the first request of ACTION (before it reaches
moto) until FILE exists, and makes FILE.held while it waits (to run a
second command while the first is mid-call). In --hold and --lose,
ACTION~TEXT takes only a request of ACTION whose body holds TEXT.
--bodies F gets each request's body (a line each: the parameters as
sent, to check what moto does not keep).
--group-deps refuses DeleteSecurityGroup with DependencyViolation, as
AWS does and moto does not, while another group's rule names the group
or an instance that is not terminated is in it (asked of moto first).
usage: faultproxy.py PORT UPSTREAM_URL [--every N] [--delay S] [--log F]
       [--rate P --seed S] [--fail RULE]... [--events F]
       [--hold ACTION=FILE ...] [--group-deps] [--bodies F]"""
import argparse
import hashlib
import http.client
import os
import http.server
import xml.etree.ElementTree as ET
import threading
import time
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("upstream")
ap.add_argument("--every", type=int, default=3)
ap.add_argument("--lose", default="",
                help="comma-separated actions: the first request of each "
                "reaches moto, but its answer is replaced by a 503")
ap.add_argument("--always", action="store_true",
                help="fail every request, retries too")
ap.add_argument("--delay", type=float, default=0)
ap.add_argument("--hold", action="append", default=[],
                help="ACTION=FILE: the first request of ACTION waits "
                "until FILE exists (at most 300 s)")
ap.add_argument("--log")
ap.add_argument("--rate", type=float, default=0,
                help="fail each request with this probability")
ap.add_argument("--seed", default="0", help="seed of --rate's dice")
ap.add_argument("--fail", action="append", default=[],
                help="ACTION [has=TEXT] [after=ACTION2] count=N [kind=K]")
ap.add_argument("--events", help="one line per injected fault")
ap.add_argument("--bodies", help="one line per request: its body, as sent")
ap.add_argument("--group-deps", action="store_true",
                help="DeleteSecurityGroup fails with DependencyViolation "
                "while another group names it or an instance uses it")
args = ap.parse_args()
up = urllib.parse.urlparse(args.upstream)
lock = threading.Lock()
state = {"n": 0, "faults": 0, "kind": 0, "busy": 0}
failed = set()
to_lose = set(a for a in args.lose.split(",") if a)
to_hold = dict(h.split("=", 1) for h in args.hold)


def take(table, action, body):
    """The first entry of table (a set or dict of ACTION or ACTION~TEXT)
    that this request matches, removed; None when none does."""
    for key in list(table):
        a, _, text = key.partition("~")
        if a == action and text in body:
            if isinstance(table, dict):
                return table.pop(key)
            table.discard(key)
            return key
    return None

KINDS = ("throttle", "500", "503")
per_action = {}


def parse_rule(text):
    words = text.split()
    rule = {"action": words[0], "has": "", "after": None, "count": 1,
            "kind": None, "left": 0}
    for w in words[1:]:
        k, _, v = w.partition("=")
        if k not in ("has", "after", "count", "kind"):
            raise SystemExit("faultproxy: bad --fail word %r" % w)
        rule[k] = int(v) if k == "count" else v
    if rule["after"] is None:
        rule["left"] = rule["count"]
    return rule


rules = [parse_rule(r) for r in args.fail]


def dice(action, n):
    """A number in [0, 1) from the seed, the action and its count."""
    h = hashlib.sha256(("%s:%s:%d" % (args.seed, action, n)).encode())
    return int.from_bytes(h.digest()[:8], "big") / 2.0 ** 64


def chosen_fault(action, body):
    """The fault kind --rate or --fail picks for this request, or None.
    Called under lock."""
    n = per_action[action] = per_action.get(action, 0) + 1
    kind = None
    for r in rules:
        if r["after"] == action:
            r["left"] = r["count"]
        elif (r["action"] == action and r["left"] > 0 and
              r["has"] in body and kind is None):
            r["left"] -= 1
            kind = r["kind"] or KINDS[n % len(KINDS)]
    if kind is None and args.rate > 0 and dice(action, n) < args.rate:
        kind = KINDS[int(dice(action + "#kind", n) * len(KINDS))]
    if kind is not None and args.events:
        with open(args.events, "a") as f:
            f.write("%s %d %s\n" % (action, n, kind))
    return kind


DEPENDENCY = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors>'
              b'<Error><Code>DependencyViolation</Code><Message>resource '
              b'has a dependent object</Message></Error></Errors>'
              b'<RequestID>fault</RequestID></Response>')

THROTTLE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors>'
            b'<Error><Code>RequestLimitExceeded</Code><Message>Request '
            b'limit exceeded.</Message></Error></Errors><RequestID>fault'
            b'</RequestID></Response>')


def upstream(body, headers):
    """Sends a request to moto; returns (status, data)."""
    conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
    conn.request("POST", "/", body, headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def child(el, name):
    """The first direct child named name (any namespace), or an empty
    element."""
    for c in el:
        if c.tag.rpartition("}")[2] == name:
            return c
    return ET.Element(name)


def group_in_use(body, headers):
    """For DeleteSecurityGroup: what AWS would refuse it for, or None."""
    q = urllib.parse.parse_qs(body.decode(errors="replace"))
    gid = q.get("GroupId", [""])[0]
    if not gid:
        return None
    hdr = {"Authorization": headers.get("Authorization", ""),
           "Content-Type": "application/x-www-form-urlencoded"}
    ask = urllib.parse.urlencode({
        "Action": "DescribeSecurityGroups", "Version": "2016-11-15",
        "Filter.1.Name": "ip-permission.group-id",
        "Filter.1.Value.1": gid})
    _, data = upstream(ask.encode(), hdr)
    for g in child(ET.fromstring(data), "securityGroupInfo"):
        # A group whose own rules let itself in (the compute group) is
        # no obstacle; another group that names it is.
        other = child(g, "groupId").text
        if other == gid:
            continue
        for perm in child(g, "ipPermissions"):
            for pair in child(perm, "groups"):
                if child(pair, "groupId").text == gid:
                    return "group %s names it" % other
    ask = urllib.parse.urlencode({
        "Action": "DescribeInstances", "Version": "2016-11-15",
        "Filter.1.Name": "instance.group-id", "Filter.1.Value.1": gid,
        "Filter.2.Name": "instance-state-name",
        "Filter.2.Value.1": "pending", "Filter.2.Value.2": "running",
        "Filter.2.Value.3": "stopping", "Filter.2.Value.4": "stopped",
        "Filter.2.Value.5": "shutting-down"})
    _, data = upstream(ask.encode(), hdr)
    if b"<instanceId>" in data:  # (ids only: no need to parse)
        return "an instance is in it"
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def write_log(self):
        """Called under lock."""
        if args.log:
            with open(args.log, "w") as f:
                f.write("requests %d faults %d busy %d\n" %
                        (state["n"], state["faults"], state["busy"]))

    def handle_any(self):
        with lock:
            state["busy"] += 1
        try:
            self.handle_one()
        finally:
            with lock:
                state["busy"] -= 1
                self.write_log()

    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        key = (self.command, self.path, body)
        with lock:
            state["n"] += 1
            fail = args.always or (args.every > 0 and
                                   state["n"] % args.every == 0 and
                                   key not in failed)
            if fail:
                state["faults"] += 1
                state["kind"] ^= 1
                kind = state["kind"]
                failed.add(key)
            action = urllib.parse.parse_qs(body.decode(
                errors="replace")).get("Action", [""])[0]
            target = self.headers.get("X-Amz-Target") or ""
            if not action and target:
                action = target.rpartition(".")[2]
            chosen = None
            if not fail:
                chosen = chosen_fault(action or self.path,
                                      body.decode(errors="replace"))
            if chosen is not None:
                state["faults"] += 1
            text = body.decode(errors="replace")
            if args.bodies:
                with open(args.bodies, "a") as f:
                    f.write(text.replace("\n", " ") + "\n")
            lose = not fail and chosen is None and \
                take(to_lose, action, text) is not None
            if lose:
                state["faults"] += 1
            release = take(to_hold, action, text)
            self.write_log()
        if release is not None:
            open(release + ".held", "w").close()
            deadline = time.monotonic() + 300
            while not os.path.exists(release) and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
        if args.delay > 0:
            time.sleep(args.delay)
        if chosen is None and not fail and args.group_deps and \
                action == "DeleteSecurityGroup" and \
                group_in_use(body, self.headers) is not None:
            chosen = "DependencyViolation"
            with lock:
                state["faults"] += 1
            if args.events:
                with open(args.events, "a") as f:
                    f.write("DeleteSecurityGroup - DependencyViolation\n")
        if chosen is not None:
            if chosen == "throttle":
                self.reply(400, THROTTLE, "text/xml")
            elif chosen == "DependencyViolation":
                self.reply(400, DEPENDENCY, "text/xml")
            else:
                self.reply(int(chosen), b"Internal Error", "text/plain")
            return
        if fail:
            if kind:
                self.reply(503, b"Service Unavailable", "text/plain")
            else:
                self.reply(400, THROTTLE, "text/xml")
            return
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "proxy-connection")}
        conn.request(self.command, self.path, body, headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        if lose:
            self.reply(503, b"Service Unavailable", "text/plain")
            return
        self.reply(r.status, data, r.getheader("Content-Type") or
                   "text/xml")

    def reply(self, status, data, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = handle_any
    do_POST = handle_any


http.server.ThreadingHTTPServer(("127.0.0.1", args.port),
                                Handler).serve_forever()
