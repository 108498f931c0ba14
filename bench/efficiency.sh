#!/bin/bash
# Pool efficiency on examples/sleep: 8 equal tasks of 1 s with 4 workers.
# Prints the Efficiency line of performance.txt (target: >= 95 %).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
FANOUT=${FANOUT:-$here/fanout}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -R "$here/examples/sleep" "$tmp/sleep"
rm -rf "$tmp/sleep/results"
"$FANOUT" run --local "$tmp/sleep" --workers 4 --results "$tmp/r" >/dev/null 2>&1
grep -E '^(Total tasks|Parallel span|Serial sum|Efficiency|Workers)' "$tmp/r/performance.txt"
awk '/^Efficiency/ { e = $2 } END {
	printf "efficiency %.1f %% (target >= 95 %%) %s\n", e, (e >= 95) ? "met" : "MISSED"
	exit (e >= 95) ? 0 : 1 }' "$tmp/r/performance.txt"
