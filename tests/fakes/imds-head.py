#!/usr/bin/env python3
"""A stand-in for EC2's instance metadata service (IMDSv2) as the head of a
detached run sees it, for the aws CLI run by the head's scripts in tests:

    imds-head.py PORT MOTO_URL [--role NAME] [--log FILE]

PUT /latest/api/token gives a token; every GET needs it (IMDSv2 only).
/latest/meta-data/instance-id is the head: the newest running instance in
moto tagged managedBy=fanout whose Name ends in "bastion" or "head" (asked
of moto at each request, so it follows the test's run sets).
/latest/meta-data/iam/security-credentials/ names the role, and
.../ROLE gives temporary credentials of the role's own (never the test's
keys). /latest/dynamic/instance-identity/document gives the region.
Each request is logged as "METHOD PATH STATUS" to --log."""
import datetime
import http.server
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

port, moto = int(sys.argv[1]), sys.argv[2].rstrip("/")
args = sys.argv[3:]
role = args[args.index("--role") + 1] if "--role" in args else "fanout-head"
log = args[args.index("--log") + 1] if "--log" in args else None
TOKEN = "fanout-test-imds-token"


def head_instance():
    q = urllib.parse.urlencode({
        "Action": "DescribeInstances", "Version": "2016-11-15",
        "Filter.1.Name": "tag:managedBy", "Filter.1.Value.1": "fanout",
        "Filter.2.Name": "instance-state-name",
        "Filter.2.Value.1": "running"}).encode()
    req = urllib.request.Request(moto + "/", data=q, headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIMDSFAKE0000/"
        "20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, "
        "Signature=0"})
    root = ET.fromstring(urllib.request.urlopen(req, timeout=10).read())
    best = None
    for inst in root.iter():
        if not inst.tag.endswith("}item") or inst.find("{*}instanceId") is None:
            continue
        name = ""
        for t in inst.iterfind("{*}tagSet/{*}item"):
            if t.findtext("{*}key") == "Name":
                name = t.findtext("{*}value") or ""
        if not (name.endswith("bastion") or name.endswith("head")):
            continue
        key = (inst.findtext("{*}launchTime") or "", inst.findtext("{*}instanceId"))
        if best is None or key > best:
            best = key
    return best[1] if best else None


class H(http.server.BaseHTTPRequestHandler):
    def reply(self, code, body=b"", ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if log:
            with open(log, "a") as f:
                f.write("%s %s %d\n" % (self.command, self.path, code))

    def do_PUT(self):
        if self.path == "/latest/api/token":
            self.reply(200, TOKEN.encode())
        else:
            self.reply(404)

    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            return self.reply(401)
        p = self.path
        if p == "/latest/meta-data/instance-id":
            i = head_instance()
            return self.reply(200, i.encode()) if i else self.reply(404)
        if p == "/latest/meta-data/iam/security-credentials/":
            return self.reply(200, role.encode())
        if p == "/latest/meta-data/iam/security-credentials/" + role:
            exp = (datetime.datetime.utcnow() + datetime.timedelta(hours=6)
                   ).strftime("%Y-%m-%dT%H:%M:%SZ")
            body = ('{"Code": "Success", "Type": "AWS-HMAC", '
                    '"AccessKeyId": "ASIAFANOUTHEADROLE01", '
                    '"SecretAccessKey": "headRoleSecret/NotTheUsers+0123", '
                    '"Token": "headRoleSessionToken", '
                    '"LastUpdated": "2026-01-01T00:00:00Z", '
                    '"Expiration": "%s"}' % exp)
            return self.reply(200, body.encode(), "application/json")
        if p == "/latest/dynamic/instance-identity/document":
            return self.reply(200, b'{"region": "us-east-1"}',
                              "application/json")
        if p == "/latest/meta-data/placement/region":
            return self.reply(200, b"us-east-1")
        self.reply(404)

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
