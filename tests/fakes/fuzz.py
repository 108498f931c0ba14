#!/usr/bin/env python3
"""Feeds the real fanout binary mutated files and reports crashes, hangs
and sanitizer reports. Radamsa is not in Debian 12, so the mutator is this
file's own: structure-aware (JSON values and keys of a history record,
lines and values of a YAML file) plus byte-level (flips, cuts, repeats,
inserted tokens), each case from a fixed seed, so a run is repeatable.

Three kinds of case, N of each:
  record   a mutated history record in a fresh FANOUT_HISTORY_DIR: history,
           history --json, status, status --json, cleanup --yes, resume
           --yes --no-run, cleanup --all --yes
  project  a mutated fanout.yaml beside a no-op entrypoint:
           fanout run --local DIR --files 1
  answers  a mutated answers file: fanout create --yes --answers FILE
Every cloud endpoint is a closed loopback port and AWS_MAX_ATTEMPTS=1, so
nothing leaves the machine and a valid case ends at its first call.

A crash is a command killed by a signal (or exiting with 128 or more); a
hang is a command still running after --timeout seconds; a sanitizer
report is "Sanitizer" or "runtime error:" in stderr. Failing inputs are
kept in --keep. Exit status 1 when any was found.

usage: fuzz.py FANOUT N [--seed S] [--kinds record,project,answers]
       [--keep DIR] [--timeout SEC] [--tap] [--verbose]"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# Tokens a mutation inserts or puts in place of a value.
JSON_TOKENS = [
    None, True, False, 0, -1, 1, 2, 1.5, -0.0, 1e300, -1e300,
    2**63 - 1, -2**63, "", " ", "x", "null", "deleted", "deleting",
    "created", "intent", "active", "creating", "stopped", "failed", "cloud",
    "local", "remote", "aws", "gcp", "instance", "key_pair",
    "security_group", "bastion", "us-east-1", "../../etc/passwd",
    "fo-20260101-fuzz", "2026-01-01T00:00:00Z", "2026-13-45T99:99:99Z",
    "9999-12-31T23:59:59Z", "%s%s%n", "\u00e9\u20ac", "\ud7ff", "a" * 5000,
    [], {}, [None], ["key_pair"], {"kind": "instance"},
]
BYTE_TOKENS = [
    b"\x00", b"\xff", b"\xc3", b"\xe2\x82", b"\n", b"\r\n", b"\t", b" ",
    b"{", b"}", b"[", b"]", b"\"", b"'", b",", b":", b"\\", b"\\u0000",
    b"\\ud800", b"null", b"-", b"#", b"&a", b"*a", b"<<: *a", b"!!binary ",
    b"!!str ", b"!!int ", b"? ", b"- ", b"|", b">", b"---\n", b"...\n",
    b"%YAML 1.1\n", b"%TAG ! tag:x,2026:\n", b"1e309", b"-1",
    b"99999999999999999999999", b"0x10", b".inf", b".nan", b"~", b"yes",
    b"no", b"on", b"2026-01-01", b"a" * 300, b"[" * 200, b"{a: " * 100,
]
# YAML lines a mutation adds (keys fanout reads, odd values; never a
# setup command: a mutated file must not run anything but the entrypoint).
YAML_LINES = [
    "name: x", "name: -abc", "name: " + "n" * 200, "name: [a, b]",
    "name: {a: b}", "name: !!binary aGVsbG8=", "name:", "name: ~",
    "entrypoint: ./entrypoint", "entrypoint: ./missing", "entrypoint:",
    "entrypoint: [./entrypoint]", "entrypoint: ./data",
    "inputs: {glob: data/*.txt}", "inputs: {list: [a, b, a]}",
    "inputs: {glob: '*'}", "inputs: {glob: data/**, limit: 1}",
    "inputs: {limit: -1}", "inputs: {list: []}", "inputs: []",
    "inputs:\n  glob: data/*.txt\n  glob: x", "workers: 0", "workers: -1",
    "workers: 4097", "workers: 1e9", "workers: 2.5", "workers: .inf",
    "workers: x", "timeout: 0", "timeout: -5", "timeout: 1e309",
    "timeout: .nan", "retries: 101", "retries: 1.5", "env: {A: 1}",
    "env: {A: [1]}", "env: {'': x}", "env: {'A=B': c}", "env: []",
    "resources: {cpus: 8}", "resources: {memory: -1}", "resources: {}",
    "resources: {instance_type: t3.micro}", "spot: true",
    "a: &a [x, x, x, x, x, x, x, x, x]", "b: &b [*a, *a, *a, *a, *a]",
    "c: [*b, *b, *b, *b, *b, *b, *b]", "d: *undefined", "<<: {x: 1}",
    "? [complex, key]\n: value", "project: /nonexistent", "project: .",
    "provider: aws", "provider: gcp", "region: zz-nowhere-1",
    "region: us-east-1", "region: ''", "engine: kubernetes",
    "engine: slurm", "nodes: 0", "nodes: 101", "nodes: 1", "nodes: -1",
    "nodes: 99999999999999999999", "files: -1", "files: 1",
    "files: 1e3", "cleanup_after: maybe", "cleanup_after: yes",
    "cleanup_after: no", "run: no", "ssh_anywhere: yes",
    "instance_type: t3.micro", "instance_type: ''", "unknown_key: 1",
    "- list item", "key: value: more", "  indented: 1", "\tname: tab",
]


class Mutator:
    def __init__(self, rnd):
        self.r = rnd

    def token(self):
        t = self.r.choice(JSON_TOKENS)
        return json.loads(json.dumps(t))

    # --- JSON structure ---
    def nodes(self, v, out):
        out.append(v)
        if isinstance(v, dict):
            for x in v.values():
                self.nodes(x, out)
        elif isinstance(v, list):
            for x in v:
                self.nodes(x, out)
        return out

    def json_once(self, doc):
        containers = [n for n in self.nodes(doc, [])
                      if isinstance(n, (dict, list)) and n]
        if not containers:
            return self.token()
        c = self.r.choice(containers)
        op = self.r.randrange(7)
        if isinstance(c, dict):
            k = self.r.choice(list(c))
            if op == 0:
                del c[k]
            elif op == 1:
                c[k] = self.token()
            elif op == 2:
                c[k + self.r.choice(["", "x", " ", "\u00e9"])] = c.pop(k)
            elif op == 3:
                c[self.r.choice(["kind", "state", "id", "name",
                                 "depends_on", "ssh", "answers", "runs",
                                 "version", "x"])] = self.token()
            elif op == 4:
                c[k] = [c[k]] if self.r.random() < 0.5 else {"v": c[k]}
            elif op == 5:
                if isinstance(c[k], str):
                    c[k] = c[k][: self.r.randrange(len(c[k]) + 1)]
                else:
                    c[k] = str(c[k])
            else:
                c[k] = self.token()
        else:
            i = self.r.randrange(len(c))
            if op == 0:
                del c[i]
            elif op == 1:
                c[i] = self.token()
            elif op == 2:
                c.insert(i, json.loads(json.dumps(c[i])))
            elif op == 3:
                self.r.shuffle(c)
            elif op == 4:
                c.append(self.token())
            else:
                c[i] = self.token()
        return doc

    def json_doc(self, text):
        doc = json.loads(text)
        for _ in range(self.r.randint(1, 3)):
            doc = self.json_once(doc)
        indent = self.r.choice([None, 1, 2])
        return json.dumps(doc, indent=indent,
                          ensure_ascii=self.r.random() < 0.5).encode(
                              "utf-8", "surrogatepass")

    # --- YAML lines ---
    def yaml_doc(self, text):
        lines = text.split("\n")
        for _ in range(self.r.randint(1, 3)):
            op = self.r.randrange(7)
            i = self.r.randrange(len(lines) or 1)
            if not lines:
                lines = [self.r.choice(YAML_LINES)]
            elif op == 0:
                del lines[i]
            elif op == 1:
                lines.insert(i, lines[i])
            elif op == 2:
                j = self.r.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
            elif op == 3:
                lines[i] = self.r.choice(["", "  ", "    ", "\t", " "]) + \
                    lines[i].lstrip()
            elif op == 4 and ":" in lines[i]:
                k = lines[i].split(":", 1)[0]
                v = self.r.choice(YAML_LINES).split(":", 1)[-1]
                lines[i] = k + ":" + v
            else:
                lines.insert(i, self.r.choice(YAML_LINES))
        return "\n".join(lines).encode("utf-8")

    # --- bytes ---
    def bytes_once(self, b):
        b = bytearray(b)
        n = len(b)
        op = self.r.randrange(7)
        i = self.r.randrange(n + 1)
        if op == 0 and n:
            b[min(i, n - 1)] ^= 1 << self.r.randrange(8)
        elif op == 1:
            j = min(n, i + self.r.randint(1, 32))
            del b[i:j]
        elif op == 2:
            j = min(n, i + self.r.randint(1, 64))
            b[i:i] = b[i:j] * self.r.randint(1, 20)
        elif op == 3:
            b[i:i] = self.r.choice(BYTE_TOKENS)
        elif op == 4:
            del b[i:]
        elif op == 5 and n:
            b[min(i, n - 1)] = self.r.randrange(256)
        else:
            j = min(n, i + self.r.randint(1, 16))
            b[i:j] = self.r.choice(BYTE_TOKENS)
        return bytes(b)

    def mutate(self, text, kind):
        """Mostly structure (to reach the code past the parser), some
        bytes on top, some bytes alone."""
        if kind == "record" and self.r.random() < 0.85:
            out, p = self.json_doc(text), 0.15
        elif kind != "record" and self.r.random() < 0.75:
            out, p = self.yaml_doc(text), 0.25
        else:
            out, p = text.encode("utf-8"), 1.0
        if self.r.random() < p:
            for _ in range(self.r.randint(1, 4)):
                out = self.bytes_once(out)
        return out


RECORD = {
    "version": 1, "id": "fo-20260101-fuzz", "kind": "cloud",
    "project": "demo", "created_at": "2026-01-01T10:00:00Z",
    "state": "active", "provider": "aws", "region": "us-east-1",
    "project_dir": "PROJECT",
    "answers": {"project": "PROJECT", "name": "demo", "provider": "aws",
                "region": "us-east-1", "engine": "bastion", "nodes": 1,
                "files": 0, "cleanup_after": False},
    "identity": {"account": "123456789012", "arn": "arn:aws:iam::1:user/x"},
    "ssh_cidr": "203.0.113.7/32",
    "network": {"vpc": "vpc-1", "subnet": "subnet-1",
                "subnets": ["subnet-1"]},
    "image": "ami-1",
    "resources": [
        {"kind": "key_pair", "name": "fanout-fo-20260101-fuzz",
         "id": "key-1", "region": "us-east-1", "state": "created",
         "token": None, "created_at": "2026-01-01T10:00:01Z",
         "depends_on": []},
        {"kind": "security_group", "name": "fanout-fo-20260101-fuzz",
         "id": "sg-1", "region": "us-east-1", "state": "created",
         "token": None, "created_at": "2026-01-01T10:00:01Z",
         "depends_on": [],
         "ingress": [{"protocol": "tcp", "port": 22,
                      "cidr": "203.0.113.7/32"}]},
        {"kind": "instance", "name": "bastion", "id": "i-1",
         "region": "us-east-1", "state": "intent", "token": "tok",
         "created_at": "2026-01-01T10:00:02Z", "hourly_usd": 0.0104,
         "instance_type": "t3.micro", "public_ip": None,
         "depends_on": ["key_pair", "security_group"]},
    ],
    "runs": [{"started": "2026-01-01T10:01:00Z",
              "ended": "2026-01-01T10:02:00Z", "engine": "bastion",
              "results": "PROJECT/results/x", "tasks": 3, "ok": 2,
              "errors": 1, "unfinished": 0, "files_sent": 2,
              "bytes_sent": 100, "efficiency": 0.5}],
    "ssh": {"key_file": "/nonexistent/k", "user": "ec2-user",
            "host": "203.0.113.9", "instance_id": "i-1", "host_key": None},
}
LOCAL_RECORD = {
    "version": 1, "id": "fo-20260101-fuzz", "kind": "local",
    "project": "demo", "created_at": "2026-01-01T10:00:00Z",
    "state": "done", "resources": [], "project_dir": "PROJECT",
    "provider": "local",
    "runs": [{"started": "2026-01-01T10:01:00Z", "ended":
              "2026-01-01T10:02:00Z", "engine": "local", "results":
              "PROJECT/results/x", "tasks": 1, "ok": 1, "errors": 0,
              "unfinished": 0, "workers": 1, "efficiency": 1.0}],
}
YAMLS = [
    "name: fuzz-demo\nentrypoint: ./entrypoint\ninputs:\n"
    "  glob: data/*.txt\n  limit: 0\nworkers: 2\ntimeout: 10\n"
    "retries: 1\nenv:\n  SCALE: \"1\"\n",
    "# a comment\nname: 'fuzz-demo'\nentrypoint: \"./entrypoint\"\n"
    "inputs: {list: [data/a.txt, data/b.txt]}\nworkers: 1\n"
    "resources:\n  cpus: 2\n  memory: 4\n  instance_type: t3.micro\n"
    "  spot: false\n",
    "name: fuzz-demo\nentrypoint: ./entrypoint\ninputs:\n  list:\n"
    "    - data/a.txt\n    - data/b.txt\ntimeout: 5\nretries: 0\n",
]
ANSWERS = [
    "project: PROJECT\nname: fuzz-demo\nprovider: aws\n"
    "region: us-east-1\nengine: bastion\nnodes: 1\nfiles: 1\n"
    "cleanup_after: no\n",
    "{\"project\": \"PROJECT\", \"name\": \"fuzz-demo\", \"region\": "
    "\"us-east-1\", \"nodes\": 1, \"files\": 0, \"cleanup_after\": true}\n",
    "project: PROJECT\nregion: us-west-2\ninstance_type: t3.micro\n"
    "files: 2\n",
]


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Fuzz:
    def __init__(self, a):
        self.a = a
        self.work = tempfile.mkdtemp(prefix="fanout-fuzz.")
        self.project = os.path.join(self.work, "project")
        os.makedirs(os.path.join(self.project, "data"))
        for n in ("a", "b", "c"):
            with open(os.path.join(self.project, "data", n + ".txt"),
                      "w") as f:
                f.write(n + "\n")
        ep = os.path.join(self.project, "entrypoint")
        with open(ep, "w") as f:
            f.write("#!/bin/sh\nprintf '{\"ok\": 1}\\n'\n")
        os.chmod(ep, 0o755)
        url = "http://127.0.0.1:%d" % closed_port()
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("AWS_") or k.startswith("FANOUT_"):
                del self.env[k]
        self.env.update({
            "HOME": os.path.join(self.work, "home"),
            "AWS_ENDPOINT_URL": url, "FANOUT_CHECKIP_URL": url + "/",
            "AWS_ACCESS_KEY_ID": "AKIAFANOUTFUZZ", "AWS_MAX_ATTEMPTS": "1",
            "AWS_SECRET_ACCESS_KEY": "fuzz", "AWS_REGION": "us-east-1",
            "FANOUT_BASTION_ADDRESS": "u@127.0.0.1:%d" % closed_port(),
            "FANOUT_SSH_WAIT": "1", "NO_COLOR": "1",
        })
        self.env.setdefault("ASAN_OPTIONS",
                            "detect_leaks=1:abort_on_error=1")
        self.env.setdefault("UBSAN_OPTIONS",
                            "print_stacktrace=1:halt_on_error=1")
        for k in ("FANOUT_DATA_DIR",):
            if k in os.environ:
                self.env[k] = os.environ[k]
        os.makedirs(self.env["HOME"])
        self.found = []
        self.runs = 0

    def run(self, kind, i, case_file, argv, extra_env):
        env = dict(self.env)
        env.update(extra_env)
        self.runs += 1
        # Its own process group, so that a hang is killed whole.
        p = subprocess.Popen([self.a.fanout] + argv, env=env,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True)
        try:
            _, err = p.communicate(timeout=self.a.timeout)
            err = err.decode("utf-8", "replace")
            rc = p.returncode
            what = None
            if self.a.verbose:
                print("# %s %d rc %d: fanout %s: %s" % (
                    kind, i, rc, " ".join(argv[:2]),
                    (err.strip().splitlines() or [""])[-1][:150]))
            if rc < 0 or rc >= 128:
                what = "crash (%s)" % (
                    "signal %d" % -rc if rc < 0 else "exit %d" % rc)
            elif "Sanitizer" in err or "runtime error:" in err:
                what = "sanitizer report"
        except subprocess.TimeoutExpired:
            what = "hang (> %ss)" % self.a.timeout
            os.killpg(p.pid, signal.SIGKILL)
            _, err = p.communicate()
            err = err.decode("utf-8", "replace")
        if what is None:
            return
        os.makedirs(self.a.keep, exist_ok=True)
        kept = os.path.join(self.a.keep, "%s-%d-%s" % (
            kind, i, os.path.basename(case_file)))
        shutil.copy(case_file, kept)
        line = "%s: %s case %d: fanout %s (input kept in %s)" % (
            what, kind, i, " ".join(argv), kept)
        self.found.append(line)
        print("# " + line)
        for ln in err.strip().splitlines()[:12]:
            print("#   " + ln)
        sys.stdout.flush()

    def case_record(self, m, i):
        hist = os.path.join(self.work, "h%d" % i)
        os.makedirs(hist)
        seed = m.r.choice([RECORD, RECORD, LOCAL_RECORD])
        text = json.dumps(seed).replace("PROJECT", self.project)
        if m.r.random() < 0.2:
            text = text.replace('"active"', '"deleted"')
        path = os.path.join(hist, "fo-20260101-fuzz.json")
        with open(path, "wb") as f:
            f.write(m.mutate(text, "record"))
        snapshot = path + ".case"
        shutil.copy(path, snapshot)
        env = {"FANOUT_HISTORY_DIR": hist}
        rid = "fo-20260101-fuzz"
        for argv in (["history"], ["history", "--json"], ["status", rid],
                     ["status", rid, "--json"],
                     ["cleanup", rid, "--yes"],
                     ["resume", rid, "--yes", "--no-run"],
                     ["cleanup", "--all", "--yes"]):
            if os.path.exists(snapshot):
                shutil.copy(snapshot, path)
            self.run("record", i, snapshot, argv, env)
        shutil.rmtree(hist, ignore_errors=True)

    def case_project(self, m, i):
        text = m.r.choice(YAMLS)
        path = os.path.join(self.project, "fanout.yaml")
        with open(path, "wb") as f:
            f.write(m.mutate(text, "project"))
        hist = os.path.join(self.work, "hp")
        self.run("project", i, path, ["run", "--local", self.project,
                                      "--files", "1"],
                 {"FANOUT_HISTORY_DIR": hist})
        shutil.rmtree(os.path.join(self.project, "results"),
                      ignore_errors=True)
        shutil.rmtree(hist, ignore_errors=True)

    def case_answers(self, m, i):
        with open(os.path.join(self.project, "fanout.yaml"), "w") as f:
            f.write(YAMLS[0])
        text = m.r.choice(ANSWERS).replace("PROJECT", self.project)
        path = os.path.join(self.work, "answers.yaml")
        with open(path, "wb") as f:
            f.write(m.mutate(text, "answers"))
        hist = os.path.join(self.work, "ha")
        self.run("answers", i, path, ["create", "--yes", "--answers", path],
                 {"FANOUT_HISTORY_DIR": hist})
        shutil.rmtree(hist, ignore_errors=True)

    def main(self):
        t0 = time.monotonic()
        counts = {}
        tap = 0
        for kind in self.a.kinds.split(","):
            before = len(self.found)
            step = getattr(self, "case_" + kind)
            for i in range(self.a.n):
                m = Mutator(random.Random("%d:%s:%d" % (self.a.seed, kind,
                                                        i)))
                step(m, i)
            counts[kind] = len(self.found) - before
            print("# %s: %d cases, %d found, %.0f s so far" % (
                kind, self.a.n, counts[kind], time.monotonic() - t0))
            if self.a.tap:
                tap += 1
                print("%sok %d - %d mutated %s files: no crash, no hang, "
                      "no sanitizer report" % (
                          "not " if counts[kind] else "", tap, self.a.n,
                          kind))
            sys.stdout.flush()
        shutil.rmtree(self.work, ignore_errors=True)
        print("# %s; %d fanout runs in %.0f s; found: %s" % (
            ", ".join("%d %s cases" % (self.a.n, k) for k in counts),
            self.runs, time.monotonic() - t0,
            ", ".join("%s %d" % (k, v) for k, v in counts.items())))
        if self.a.tap:
            print("1..%d" % tap)
        return 1 if self.found else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("fanout")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kinds", default="record,project,answers")
    ap.add_argument("--keep", default="fuzz-failures")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--tap", action="store_true")
    ap.add_argument("--verbose", action="store_true",
                    help="print each run's exit status and last line")
    a = ap.parse_args()
    a.keep = os.path.abspath(a.keep)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    f = Fuzz(a)
    try:
        return f.main()
    finally:
        shutil.rmtree(f.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
