#!/bin/bash
# Local pool overhead, measured in the same run on the same inputs, with
# the project and its results on the disk this script lives on (not a
# tmpfs: creating files there is what costs):
#   1. N no-op tasks with 2 workers: fanout vs xargs -P 2 vs GNU parallel -j 2
#      targets (issue 9): <= 1.0x xargs, <= 0.2x GNU parallel
#   2. peak RSS of fanout run --local over BIG no-op tasks (/usr/bin/time -v)
#      target <= 30 MB
#   3. CPU of fanout's own process (not its children) per task at 1,000,
#      10,000 and BIG tasks: target flat within 20 %
# Usage: bench/local-pool.sh [N] [BIG]   (defaults 2000, 100000;
# FANOUT=path/to/fanout; BENCH_RUNS=3 runs of 1 whose median is kept)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
FANOUT=${FANOUT:-$here/fanout}
n=${1:-2000}
big=${2:-100000}
runs=${BENCH_RUNS:-3}
command -v parallel >/dev/null || { echo "GNU parallel is needed: apt-get install parallel" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed: apt-get install time" >&2; exit 2; }
command -v perf >/dev/null || { echo "perf is needed: apt-get install linux-perf" >&2; exit 2; }
[ -x "$FANOUT" ] || { echo "build fanout first (make), or set FANOUT" >&2; exit 2; }

tmp=$(mktemp -d "$here/bench-local.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "on $(df -T "$tmp" | awk 'NR == 2 { print $2 " (" $1 ")" }'); load: $(uptime)"
noop() { # noop DIR COUNT: a project of COUNT no-op tasks, one file each
	mkdir -p "$1/data"
	(cd "$1/data" && seq -f 'in-%06g' 1 "$2" | xargs touch)
	cat >"$1/fanout.yaml" <<YAML
name: noop-bench
entrypoint: ./entrypoint
inputs: {glob: "data/*"}
workers: 2
timeout: 60
retries: 0
YAML
	printf '#!/bin/sh\necho "{}"\n' >"$1/entrypoint"
	chmod +x "$1/entrypoint"
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

p="$tmp/noop"
noop "$p" "$n"
cd "$p"
for i in $(seq "$runs"); do
	t0=$(now); printf '%s\n' data/* | xargs -P 2 -n 1 ./entrypoint >/dev/null; t1=$(now)
	echo "$(secs "$t0" "$t1")" >>"$tmp/x"
	t0=$(now); parallel --will-cite -j 2 ./entrypoint ::: data/* >/dev/null; t1=$(now)
	echo "$(secs "$t0" "$t1")" >>"$tmp/g"
	t0=$(now); "$FANOUT" run --local "$p" --results "$tmp/r-$i" --json >"$tmp/summary.json" 2>/dev/null || true; t1=$(now)
	echo "$(secs "$t0" "$t1")" >>"$tmp/f"
	ok=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ok"])' "$tmp/summary.json")
	[ "$ok" = "$n" ] || { echo "fanout ran only $ok of $n tasks" >&2; exit 1; }
done
x=$(median <"$tmp/x"); g=$(median <"$tmp/g"); f=$(median <"$tmp/f")
printf '%-26s %8s\n' "tool ($n no-op tasks)" "wall s"
printf '%-26s %8s\n' "xargs -P 2" "$x" "GNU parallel -j 2" "$g" "fanout run --local" "$f"
awk -v f="$f" -v x="$x" -v g="$g" 'BEGIN {
	printf "fanout / xargs    = %.2f (target <= 1.00) %s\n", f / x, f / x <= 1.0 ? "met" : "NOT met"
	printf "fanout / parallel = %.2f (target <= 0.20) %s\n", f / g, f / g <= 0.2 ? "met" : "NOT met"
}'

# fanout's own CPU (its process only, not the tasks it starts): perf
# stat's task-clock with --no-inherit.
selfcpu() { # selfcpu PROJECT RESULTS: prints "cpu_seconds wall_seconds"
	t0=$(now)
	perf stat --no-inherit -e task-clock -x, -o "$tmp/perf.txt" -- \
	    "$FANOUT" run --local "$1" --results "$2" >/dev/null 2>&1 || true
	t1=$(now)
	awk -F, -v w="$(secs "$t0" "$t1")" '$3 == "task-clock" { printf "%.3f %s", $1 / 1000, w }' "$tmp/perf.txt"
}
echo
printf '%-10s %12s %14s %10s\n' "tasks" "own CPU s" "per task (us)" "wall s"
for c in 1000 10000 "$big"; do
	q="$tmp/cpu-$c"
	noop "$q" "$c"
	read -r cpu wall <<<"$(selfcpu "$q" "$tmp/cpu-r-$c")"
	per=$(awk -v a="$cpu" -v c="$c" 'BEGIN { printf "%.1f", a / c * 1e6 }')
	printf '%-10s %12s %14s %10s\n' "$c" "$cpu" "$per" "$wall"
	echo "$per" >>"$tmp/per"
	echo "$c $cpu" >>"$tmp/cpus"
	rm -rf "$q/data"
done
awk '{ v[NR] = $1 } END { lo = v[1]; hi = v[1]; for (i in v) { if (v[i] < lo) lo = v[i]; if (v[i] > hi) hi = v[i] }
	printf "per-task CPU spread: %.0f %% (target flat within 20 %%) %s\n", (hi / lo - 1) * 100, hi <= lo * 1.2 ? "met" : "NOT met" }' "$tmp/per"
# What a task adds, the fixed start-up and report cost left out.
awk '{ c[NR] = $1; s[NR] = $2 } END { printf "marginal CPU per task: %.1f us (1,000 to 10,000), %.1f us (10,000 to %d)\n",
	(s[2] - s[1]) / (c[2] - c[1]) * 1e6, (s[3] - s[2]) / (c[3] - c[2]) * 1e6, c[3] }' "$tmp/cpus"

q="$tmp/rss"
noop "$q" "$big"
/usr/bin/time -v "$FANOUT" run --local "$q" --results "$tmp/rss-r" >/dev/null 2>"$tmp/time.txt" || true
rss=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$tmp/time.txt")
awk -v r="$rss" -v b="$big" 'BEGIN { printf "peak RSS of run --local over %d tasks: %.1f MB (target <= 30 MB) %s\n", b, r / 1024, r <= 30 * 1024 ? "met" : "NOT met" }'
echo "load after: $(uptime)"
