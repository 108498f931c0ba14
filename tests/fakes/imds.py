#!/usr/bin/env python3
"""A stand-in for EC2's instance metadata service (IMDSv2) of one instance
in moto, for tests: hosts (a loopback sshd) reach it through
AWS_EC2_METADATA_SERVICE_ENDPOINT and boto3 gets the instance role's
credentials from it, as on a VM.

PUT /latest/api/token gives a token (X-aws-ec2-metadata-token-ttl-seconds
required); every GET needs it (401 without). The instance is the newest
running one in moto tagged Name=NAME (--name, default fanout-bastion).
/latest/meta-data/instance-id is that instance's id (a detached run's
head tears itself down last by it).
/latest/meta-data/iam/security-credentials/ lists the role of the
instance profile it was launched with (404 when it has none, or the
profile holds no role: then a fetch fails); .../ROLE gives credentials
from moto's STS AssumeRole of that role. --log F gets one line per
credentials request: "ROLE ACCESS_KEY_ID".
usage: imds.py PORT MOTO_URL [--name NAME] [--log F]"""
import argparse
import datetime
import http.server
import json
import secrets
import threading

import boto3

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("moto")
ap.add_argument("--name", default="fanout-bastion")
ap.add_argument("--log")
args = ap.parse_args()
kw = dict(endpoint_url=args.moto, region_name="us-east-1",
          aws_access_key_id="AKIAIMDSSTANDIN00001",
          aws_secret_access_key="imds-stand-in-not-the-users")
ec2 = boto3.client("ec2", **kw)
iam = boto3.client("iam", **kw)
sts = boto3.client("sts", **kw)
tokens = set()
lock = threading.Lock()


def the_instance():
    """The newest running instance named args.name, or None."""
    res = ec2.describe_instances(Filters=[
        {"Name": "tag:Name", "Values": [args.name]},
        {"Name": "instance-state-name", "Values": ["running", "pending"]}])
    insts = [i for r in res["Reservations"] for i in r["Instances"]]
    if not insts:
        return None
    return sorted(insts, key=lambda i: i["LaunchTime"])[-1]


def role_of_instance():
    """The role name of the newest running instance's profile, or None."""
    inst = the_instance()
    if inst is None:
        return None
    arn = inst.get("IamInstanceProfile", {}).get("Arn")
    if not arn:
        return None
    name = arn.split("/")[-1]
    try:
        prof = iam.get_instance_profile(InstanceProfileName=name)
    except iam.exceptions.NoSuchEntityException:
        return None
    roles = prof["InstanceProfile"]["Roles"]
    return roles[0] if roles else None


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, body, ctype="text/plain"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        if self.path != "/latest/api/token" or \
                not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(400, "bad token request")
        t = secrets.token_hex(16)
        with lock:
            tokens.add(t)
        self.reply(200, t)

    def do_GET(self):
        with lock:
            ok = self.headers.get("X-aws-ec2-metadata-token") in tokens
        if not ok:
            return self.reply(401, "no token")
        if self.path == "/latest/meta-data/instance-id":
            inst = the_instance()
            if inst is None:
                return self.reply(404, "no instance")
            return self.reply(200, inst["InstanceId"])
        base = "/latest/meta-data/iam/security-credentials/"
        if not self.path.startswith(base):
            return self.reply(404, "not here")
        role = role_of_instance()
        if role is None:
            return self.reply(404, "no instance profile or no role")
        rest = self.path[len(base):]
        if rest == "":
            return self.reply(200, role["RoleName"])
        if rest != role["RoleName"]:
            return self.reply(404, "no such role here")
        c = sts.assume_role(RoleArn=role["Arn"],
                            RoleSessionName="imds")["Credentials"]
        if args.log:
            with lock, open(args.log, "a") as f:
                f.write("%s %s\n" % (role["RoleName"], c["AccessKeyId"]))
        exp = c["Expiration"]
        if isinstance(exp, datetime.datetime):
            exp = exp.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.reply(200, json.dumps({
            "Code": "Success", "Type": "AWS-HMAC",
            "LastUpdated": datetime.datetime.utcnow().strftime(
                "%Y-%m-%dT%H:%M:%SZ"),
            "AccessKeyId": c["AccessKeyId"],
            "SecretAccessKey": c["SecretAccessKey"],
            "Token": c["SessionToken"], "Expiration": exp}),
            "application/json")


http.server.ThreadingHTTPServer(("127.0.0.1", args.port), H).serve_forever()
