#!/usr/bin/env python3
"""One task: a CSV file (the last argument, also $FANOUT_INPUT) in, one
JSON object out (the last line of stdout is the task's result)."""
import csv
import json
import os
import sys


def main(argv):
    path = argv[-1]
    stats = "--stats" in argv[1:-1]
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    result = {"file": os.path.basename(path), "rows": len(rows)}
    if stats and rows:
        for col in rows[0]:
            try:
                vals = [float(r[col]) for r in rows]
            except (TypeError, ValueError):
                continue
            result[col + "_sum"] = round(sum(vals), 6)
            result[col + "_mean"] = round(sum(vals) / len(vals), 6)
    print(f"read {len(rows)} rows from {path}", file=sys.stderr)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
