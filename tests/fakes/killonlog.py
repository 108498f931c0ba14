#!/usr/bin/env python3
"""Starts a command and kills it (SIGKILL) as soon as a line matching
REGEX (Python re.search) is added to the request log LOG (a stand-in's,
e.g. tests/fakes/gcp_fake.py's, which writes a request's line before its
answer leaves): the kill lands after the request reached the stand-in.
Polls every 10 ms. Exits with the command's status (137 when it was
killed); prints the matching line.
usage: killonlog.py LOG REGEX TIMEOUT -- COMMAND [ARGS...]"""
import os
import re
import signal
import subprocess
import sys
import time

log, regex, timeout = sys.argv[1:4]
cmd = sys.argv[5:] if sys.argv[4] == "--" else sys.argv[4:]
deadline = time.time() + float(timeout)
pat = re.compile(regex)

with open(log) as f:
    f.seek(0, os.SEEK_END)
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    buf = ""
    while time.time() < deadline and p.poll() is None:
        buf += f.read()
        lines = buf.split("\n")
        buf = lines.pop()
        hit = next((l for l in lines if pat.search(l)), None)
        if hit is not None:
            p.send_signal(signal.SIGKILL)
            print(hit)
            break
        time.sleep(0.01)
    else:
        if p.poll() is None:
            p.kill()
    p.wait()
rc = p.returncode
sys.exit(128 - rc if rc < 0 else rc)
