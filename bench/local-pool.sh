#!/bin/bash
# Local pool overhead: N no-op tasks with 2 workers, fanout vs xargs -P 2 vs
# GNU parallel -j 2, measured in the same run on the same inputs.
# Usage: bench/local-pool.sh [N]   (default 2000; FANOUT=path/to/fanout)
# Targets (issue 2): fanout <= 1.2x xargs and <= 0.3x GNU parallel.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
FANOUT=${FANOUT:-$here/fanout}
n=${1:-2000}
command -v parallel >/dev/null || { echo "GNU parallel is needed: apt-get install parallel" >&2; exit 2; }
[ -x "$FANOUT" ] || { echo "build fanout first (make), or set FANOUT" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
p="$tmp/noop"
mkdir -p "$p/data"
(cd "$p/data" && seq -f 'in-%05g' 1 "$n" | xargs touch)
cat >"$p/fanout.yaml" <<YAML
name: noop-bench
entrypoint: ./entrypoint
inputs: {glob: "data/*"}
workers: 2
timeout: 60
retries: 0
YAML
printf '#!/bin/sh\necho "{}"\n' >"$p/entrypoint"
chmod +x "$p/entrypoint"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

cd "$p"
t0=$(now)
printf '%s\n' data/* | xargs -P 2 -n 1 ./entrypoint >/dev/null
t1=$(now)
parallel --will-cite -j 2 ./entrypoint ::: data/* >/dev/null
t2=$(now)
"$FANOUT" run --local "$p" --results "$tmp/results" --json >"$tmp/summary.json" 2>/dev/null
t3=$(now)
ok=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ok"])' "$tmp/summary.json")
[ "$ok" = "$n" ] || { echo "fanout ran only $ok of $n tasks" >&2; exit 1; }

x=$(secs "$t0" "$t1")
g=$(secs "$t1" "$t2")
f=$(secs "$t2" "$t3")
printf '%-22s %8s\n' "tool ($n no-op tasks)" "wall s"
printf '%-22s %8s\n' "xargs -P 2" "$x" "GNU parallel -j 2" "$g" "fanout run --local" "$f"
awk -v f="$f" -v x="$x" -v g="$g" 'BEGIN {
	printf "fanout / xargs    = %.2f (target <= 1.20) %s\n", f / x, f / x <= 1.2 ? "met" : "MISSED"
	printf "fanout / parallel = %.2f (target <= 0.30) %s\n", f / g, f / g <= 0.3 ? "met" : "MISSED"
}'
