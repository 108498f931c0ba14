#!/bin/bash
# The slurm engine on this machine: moto_server for AWS (lib-aws.sh) and
# lib-cluster.sh's hosts in network namespaces (a head and 3 nodes with
# real munged, slurmctld and slurmd), one moto and one set of hosts for
# the whole bench; ratios measured in the same run:
#   a. 600 tasks of `sleep 0.5`: 3 nodes x 2 workers against 1 node x 2
#      workers, the ratio of the creates' times from "yes" to results
#      (the create's wall time, --keep: the teardown is not in it) and of
#      the parallel spans (performance.txt)        target >= 2.8x
#      and the efficiency over all slots of the 3-node run (performance.txt)
#                                                  target >= 90 %
#   b. 2,000 no-op tasks: the cluster (3 nodes x 2 workers) against
#      `fanout run --local --workers 6` on this machine: the run span per
#      task (performance.txt's parallel span / tasks: first task's start
#      to last task's end, set-up excluded on both)  target <= 1.5x
#      also shown: the cluster's run step per task against run --local's
#      wall time per task (the run step has fixed costs: Slurm starting
#      the array, the engine's squeue poll and its fetch; broken down),
#      and both again at 10,000 no-op tasks. The 2,000-task runs are
#      made BENCH_RUNS times (default 3); the run of median span is kept.
#   c. the step timeline of one create (each step's start and end after
#      "yes", from the text sink's step lines, stamped as they arrive):
#      the fleet ("nodes", "nodes running") made while the head is set up
#      ("head setup"); and the time from "yes" to the first task running
#      (the records' smallest start).
# Not a test: timings vary with the machine and its load (printed).
# Needs root (network namespaces).
#   bench/cluster.sh [BUILD_DIR]   (default .)
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-.}" && pwd)
FANOUT="$build/fanout"
FANOUT_WORKER_BIN="$build/fanout-worker"
FANOUT_DATA_DIR="$top_srcdir"
export top_srcdir FANOUT FANOUT_WORKER_BIN FANOUT_DATA_DIR
[ -x "$FANOUT" ] && [ -x "$FANOUT_WORKER_BIN" ] || { echo "bench: build fanout first (make)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 2; }
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
. "$top_srcdir/tests/integration/lib-cluster.sh"
cluster_setup 3
export FANOUT_SLURMD_TIMEOUT=10

proj() { # proj DIR N WORKERS CMD: N tasks of CMD (a list of inputs)
	mkdir -p "$1"
	{
		echo "name: cluster-bench"
		echo "entrypoint: ./task.sh"
		printf 'inputs: {list: ['
		seq -s ', ' 1 "$2"
		echo ']}'
		echo "workers: $3"
		echo "timeout: 60"
		echo "retries: 0"
	} >"$1/fanout.yaml"
	printf '#!/bin/sh\n%s\necho "{}"\n' "$4" >"$1/task.sh"
	chmod +x "$1/task.sh"
}
# The text sink's lines (stderr) stamped with seconds since $1 as they
# arrive; a progress line's \r ends a line too.
stamp() {
	python3 -u -c '
import sys, time
t0 = float(sys.argv[1]); buf = b""
while True:
    b = sys.stdin.buffer.read1(65536)
    if not b: break
    buf += b
    while True:
        i = min([j for j in (buf.find(b"\n"), buf.find(b"\r")) if j >= 0], default=-1)
        if i < 0: break
        line = buf[:i].decode("utf-8", "replace").replace("\033[K", "")
        buf = buf[i + 1:]
        if line.strip():
            print("%8.3f %s" % (time.time() - t0, line), flush=True)
if buf.strip():
    print("%8.3f %s" % (time.time() - t0, buf.decode("utf-8", "replace")))
' "$1"
}
# create NAME PROJECT NODES: one create --keep --yes; its wall seconds
# in $TEST_TMP/NAME.wall, its stamped stderr in NAME.err, its results
# folder in NAME.res, its t0 in NAME.t0; then a cleanup (not timed).
create() {
	_t0=$(date +%s.%N)
	echo "$_t0" >"$TEST_TMP/$1.t0"
	{ "$FANOUT" create "$2" --engine slurm --nodes "$3" --keep --yes \
	    2>&1 >"$TEST_TMP/$1.id"; } | stamp "$_t0" >"$TEST_TMP/$1.err"
	_rc=${PIPESTATUS[0]}
	_t1=$(date +%s.%N)
	awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.3f", b - a }' >"$TEST_TMP/$1.wall"
	_id=$(cat "$TEST_TMP/$1.id")
	[ "$_rc" = 0 ] && [ -n "$_id" ] || { echo "bench: create $1 failed ($_rc):"; tail -n 20 "$TEST_TMP/$1.err"; exit 1; } >&2
	rec_get "$_id" 'r["runs"][-1]["results"]' >"$TEST_TMP/$1.res"
	"$FANOUT" cleanup "$_id" --yes >/dev/null 2>"$TEST_TMP/$1.cleanup" ||
	    { echo "bench: cleanup $1 failed: $(tail -3 "$TEST_TMP/$1.cleanup")" >&2; exit 1; }
}
perf() { # perf NAME KEY: a performance.txt value (its first word)
	awk -v k="$2" 'index($0, k) == 1 { sub("^" k " +", ""); print $1; exit }' \
	    "$(cat "$TEST_TMP/$1.res")/performance.txt"
}
# The run step's seconds (its "done (Ns)" line).
stepsecs() {
	sed -n 's/^ *[0-9.]* run done (\([0-9.]*\)s)$/\1/p' "$TEST_TMP/$1.err" | tail -1
}
count_ok() { grep -c '"status":"ok"' "$(cat "$TEST_TMP/$1.res")/records.jsonl"; }

echo "machine: $(nproc) cores; load before: $(uptime)"

# a. Speed-up.
proj "$TEST_TMP/sleep" 600 2 "sleep 0.5"
create s1 "$TEST_TMP/sleep" 1
create s3 "$TEST_TMP/sleep" 3
# b. Overhead on no-op tasks.
proj "$TEST_TMP/noop" 2000 2 ":"
runs=${BENCH_RUNS:-3}
for i in $(seq "$runs"); do
	create "n3_$i" "$TEST_TMP/noop" 3
	_t0=$(date +%s.%N)
	"$FANOUT" run --local "$TEST_TMP/noop" --workers 6 --results "$TEST_TMP/local_$i" >/dev/null 2>"$TEST_TMP/local.err" ||
	    { echo "bench: run --local failed: $(tail -3 "$TEST_TMP/local.err")" >&2; exit 1; }
	_t1=$(date +%s.%N)
	awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.3f", b - a }' >"$TEST_TMP/local_$i.wall"
	echo "$TEST_TMP/local_$i" >"$TEST_TMP/local_$i.res"
done
# The run of median parallel span of each kind stands for it (n3, local).
for k in n3 local; do
	m=$(for i in $(seq "$runs"); do echo "$(perf "${k}_$i" "Parallel span") $i"; done |
	    sort -n | awk '{ a[NR] = $2 } END { print a[int((NR + 1) / 2)] }')
	for x in wall res err t0; do
		[ ! -f "$TEST_TMP/${k}_$m.$x" ] || cp "$TEST_TMP/${k}_$m.$x" "$TEST_TMP/$k.$x"
	done
	echo "b. $k: parallel spans of $runs runs: $(for i in $(seq "$runs"); do printf '%s ' "$(perf "${k}_$i" "Parallel span")"; done)(median: run $m)" >>"$TEST_TMP/b-runs"
done
lt0=0
lt1=$(cat "$TEST_TMP/local.wall")
# The same at 10,000 tasks: the run step's fixed costs (Slurm's start of
# the array, the engine's squeue poll and fetch) spread over more tasks.
proj "$TEST_TMP/noop10k" 10000 2 ":"
create m3 "$TEST_TMP/noop10k" 3
mt0=$(date +%s.%N)
"$FANOUT" run --local "$TEST_TMP/noop10k" --workers 6 --results "$TEST_TMP/local10k" >/dev/null 2>"$TEST_TMP/local10k.err" ||
    { echo "bench: run --local failed: $(tail -3 "$TEST_TMP/local10k.err")" >&2; exit 1; }
mt1=$(date +%s.%N)
echo "$TEST_TMP/local10k" >"$TEST_TMP/local10k.res"
echo "machine load after: $(uptime)"

echo
echo "c. the step timeline of the 3-node sleep create (seconds after \"yes\")"
timeline() { # timeline NAME: each step's start and end after "yes"
	awk '
	{ t = $1 + 0; line = $0; sub(/^ *[0-9.]+ /, "", line) }
	line ~ /^[a-z][a-z ]* \.\.\.$/ { n = line; sub(/ \.\.\.$/, "", n); start[n] = t; order[++k] = n; next }
	line ~ /^[a-z][a-z ]* done \([0-9.]+s\)$/ { n = line; sub(/ done \([0-9.]+s\)$/, "", n); end[n] = t }
	END {
		printf "  %-22s %8s %8s\n", "step", "start", "end"
		for (i = 1; i <= k; i++)
			printf "  %-22s %8.2f %8s\n", order[i], start[order[i]],
			    (order[i] in end) ? sprintf("%.2f", end[order[i]]) : "-"
	}' "$TEST_TMP/$1.err"
}
# The run step's parts (seconds): submission (its "Slurm job" line) to
# the first task's start, the records' span, the last task's end to the
# step's end (the engine sees the array ended, fetches the records).
runparts() {
	_r=$(cat "$TEST_TMP/$1.res")/records.jsonl
	_sub=$(sed -n 's/^ *\([0-9.]*\) \[run\] Slurm job .*/\1/p' "$TEST_TMP/$1.err" | head -1)
	_rs=$(sed -n 's/^ *\([0-9.]*\) run \.\.\.$/\1/p' "$TEST_TMP/$1.err" | tail -1)
	_rd=$(sed -n 's/^ *\([0-9.]*\) run done .*/\1/p' "$TEST_TMP/$1.err" | tail -1)
	awk -v t0="$(cat "$TEST_TMP/$1.t0")" -v f="$(jq -s 'map(.start) | min' "$_r")" \
	    -v l="$(jq -s 'map(.end) | max' "$_r")" -v sub_="$_sub" -v rs="$_rs" -v rd="$_rd" 'BEGIN {
		printf "  run step %.2f-%.2f: start to submission %.2f, submission to first task %.2f, first task to last end %.2f, last end to step end %.2f\n",
		    rs, rd, sub_ - rs, f - t0 - sub_, l - f, rd - (l - t0)
	}'
}
timeline s3
first=$(jq -s 'map(.start) | min' "$(cat "$TEST_TMP/s3.res")/records.jsonl")
awk -v f="$first" -v t="$(cat "$TEST_TMP/s3.t0")" 'BEGIN { printf "  yes to the first task running: %.2f s\n", f - t }'
runparts s3
cat "$TEST_TMP/b-runs"
echo "the run step of the 2,000 no-op create (3 nodes x 2 workers), seconds after \"yes\""
runparts n3
echo "the run step of the 10,000 no-op create (3 nodes x 2 workers), seconds after \"yes\""
runparts m3

echo
printf '%-44s %9s %9s %9s %6s %8s\n' "run" "yes->res s" "run step s" "span s" "eff %" "ok"
for r in s1 s3 n3 m3; do
	case $r in
	s1) d="600 x sleep 0.5, 1 node x 2 workers" ;;
	s3) d="600 x sleep 0.5, 3 nodes x 2 workers" ;;
	n3) d="2,000 no-op, 3 nodes x 2 workers" ;;
	m3) d="10,000 no-op, 3 nodes x 2 workers" ;;
	esac
	printf '%-44s %9s %9s %9s %6s %8s\n' "$d" "$(cat "$TEST_TMP/$r.wall")" \
	    "$(stepsecs "$r")" "$(perf "$r" "Parallel span")" "$(perf "$r" Efficiency)" "$(count_ok "$r")"
done
printf '%-44s %9s %9s %9s %6s %8s\n' "2,000 no-op, run --local --workers 6" \
    "$(awk -v a="$lt0" -v b="$lt1" 'BEGIN { printf "%.3f", b - a }')" "-" \
    "$(perf local "Parallel span")" "$(perf local Efficiency)" "$(count_ok local)"
printf '%-44s %9s %9s %9s %6s %8s\n' "10,000 no-op, run --local --workers 6" \
    "$(awk -v a="$mt0" -v b="$mt1" 'BEGIN { printf "%.3f", b - a }')" "-" \
    "$(perf local10k "Parallel span")" "$(perf local10k Efficiency)" "$(count_ok local10k)"
echo
awk -v w1="$(cat "$TEST_TMP/s1.wall")" -v w3="$(cat "$TEST_TMP/s3.wall")" \
    -v r1="$(stepsecs s1)" -v r3="$(stepsecs s3)" \
    -v p1="$(perf s1 "Parallel span")" -v p3="$(perf s3 "Parallel span")" \
    -v e3="$(perf s3 Efficiency)" \
    -v pn="$(perf n3 "Parallel span")" -v pl="$(perf local "Parallel span")" \
    -v pm="$(perf m3 "Parallel span")" -v pml="$(perf local10k "Parallel span")" \
    -v rm="$(stepsecs m3)" -v wml="$(awk -v a="$mt0" -v b="$mt1" 'BEGIN { print b - a }')" \
    -v rn="$(stepsecs n3)" -v wl="$(awk -v a="$lt0" -v b="$lt1" 'BEGIN { print b - a }')" 'BEGIN {
	printf "a. speed-up 3x2 over 1x2, yes to results: %.2fx (target >= 2.8x) %s\n", w1 / w3, (w1 / w3 >= 2.8) ? "met" : "NOT met"
	if (r1 > 0 && r3 > 0) printf "   speed-up, run step:                    %.2fx\n", r1 / r3
	printf "   speed-up, parallel span:               %.2fx (target >= 2.8x) %s\n", p1 / p3, (p1 / p3 >= 2.8) ? "met" : "NOT met"
	printf "   efficiency over all slots (3x2):       %.1f %% (target >= 90 %%) %s\n", e3, (e3 >= 90) ? "met" : "NOT met"
	printf "b. per-task run span, cluster 3x2 / run --local -w 6: %.3f / %.3f ms = %.2fx (target <= 1.5x) %s\n",
	    pn / 2, pl / 2, pn / pl, (pn / pl <= 1.5) ? "met" : "NOT met"
	if (rn > 0) printf "   run step per task / run --local wall per task: %.3f / %.3f ms = %.2fx\n", rn / 2, wl / 2, rn / wl
	printf "   at 10,000 tasks: run span per task %.3f / %.3f ms = %.2fx; run step / run --local wall %.3f / %.3f ms = %.2fx\n",
	    pm / 10, pml / 10, pm / pml, rm / 10, wml / 10, rm / wml
}'
