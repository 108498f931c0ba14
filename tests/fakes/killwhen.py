#!/usr/bin/env python3
"""Kills a process (SIGKILL) as soon as a history record in DIR shows a
resource of KIND in STATE; prints the record's id. Polls every 10 ms in
one process, so the kill lands right after the record is written.
usage: killwhen.py PID DIR KIND STATE [TIMEOUT]"""
import glob
import json
import os
import signal
import sys
import time

pid, d, kind, want = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
deadline = time.time() + float(sys.argv[5] if len(sys.argv) > 5 else 60)
while time.time() < deadline:
    for path in glob.glob(os.path.join(d, "*.json")):
        try:
            with open(path) as f:
                r = json.load(f)
        except (OSError, ValueError):
            continue
        if any(x.get("kind") == kind and x.get("state") == want
               for x in r.get("resources", [])):
            os.kill(pid, signal.SIGKILL)
            print(r["id"])
            sys.exit(0)
    time.sleep(0.01)
sys.exit(1)
