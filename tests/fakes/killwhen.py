#!/usr/bin/env python3
"""Starts a command and kills it (SIGKILL) as soon as a history record in
DIR shows a resource of KIND in STATE; prints the record's id. Starting
the command itself and polling every 10 ms in one process makes the kill
land right after the record is written, however slow the machine.
Exits with the command's status (137 when it was killed). KIND may be
KIND/NAME, NAME a glob on the resource's name ("instance/node1",
"security_group/*-compute").
usage: killwhen.py DIR KIND STATE TIMEOUT -- COMMAND [ARGS...]"""
import fnmatch
import glob
import json
import os
import signal
import subprocess
import sys
import time

d, kind, want, timeout = sys.argv[1:5]
cmd = sys.argv[6:] if sys.argv[5] == "--" else sys.argv[5:]
deadline = time.time() + float(timeout)
kind, _, name = kind.partition("/")


def matching():
    for path in glob.glob(os.path.join(d, "*.json")):
        try:
            with open(path) as f:
                r = json.load(f)
        except (OSError, ValueError):
            continue
        if any(x.get("kind") == kind and x.get("state") == want and
               fnmatch.fnmatchcase(x.get("name", ""), name or "*")
               for x in r.get("resources", [])):
            return r["id"]
    return None


p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
while time.time() < deadline and p.poll() is None:
    rid = matching()
    if rid is not None:
        p.send_signal(signal.SIGKILL)
        p.wait()
        print(rid)
        break
    time.sleep(0.01)
else:
    if p.poll() is None:
        p.kill()
    p.wait()
    rid = matching()
    if rid is not None:
        print(rid)
rc = p.returncode
sys.exit(128 - rc if rc < 0 else rc)
