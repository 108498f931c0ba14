#!/bin/bash
# The remote pool (fanout-worker on the host) against a loopback OpenSSH
# sshd, with anchors measured in the same run:
#   1. 2,000 no-op tasks through `fanout run --host` vs
#      `ssh host 'cd TREE && seq 1 2000 | xargs -P 2 -n 1 ./entrypoint'`
#      (the same work: one login, the same tasks)    target <= 1.3x
#   2. examples/sleep (8 tasks of 1 s, 4 workers) over SSH: efficiency
#      from performance.txt                          target >= 97 %
#   3. 100,000 no-op tasks through `run --host`: time per task against the
#      2,000-task run's (no growth with the count)   target within 20 %
# Not a test: timings vary with the machine and its load (printed).
#   bench/remote-pool.sh [BUILD_DIR] [N_BIG]   (defaults: ., 100000)
# BENCH_RUNS (default 3): runs per measure of 1 (the median is kept).
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-.}" && pwd)
big=${2:-100000}
FANOUT="$build/fanout"
SSH_DRIVER="$build/tests/ssh-driver"
FANOUT_WORKER_BIN="$build/fanout-worker"
export top_srcdir FANOUT SSH_DRIVER FANOUT_WORKER_BIN
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
[ -x "$FANOUT" ] && [ -x "$FANOUT_WORKER_BIN" ] || { echo "bench: build fanout first (make)" >&2; exit 2; }
[ -x "$SSH_DRIVER" ] || { echo "bench: make tests/ssh-driver first" >&2; exit 2; }
sshd_setup
sshd_start

. "$top_srcdir/bench/lib-bench.sh"
bench_plain_user

addr="$SSHD_USER@$SSHD_ADDR:$SSHD_PORT"
export FANOUT_BASTION_DIR="$R/host"
sshopts="-o UserKnownHostsFile=$TEST_TMP/ssh_known -o StrictHostKeyChecking=no -o LogLevel=ERROR -o BatchMode=yes"
N=${BENCH_RUNS:-3}

noop() { # noop DIR N: a project of N no-op tasks (inputs: a list)
	mkdir -p "$1"
	{
		echo "name: noop-bench"
		echo "entrypoint: ./entrypoint"
		printf 'inputs: {list: ['
		seq -s ', ' 1 "$2"
		echo ']}'
		echo "workers: 2"
		echo "timeout: 60"
		echo "retries: 0"
	} >"$1/fanout.yaml"
	printf '#!/bin/sh\necho "{}"\n' >"$1/entrypoint"
	chmod +x "$1/entrypoint"
}
clock() { # clock COMMAND...: wall microseconds
	_t0=$(date +%s%N)
	"$@" >/dev/null 2>"$TEST_TMP/clock.err" || { echo "bench: $1 failed: $(tail -3 "$TEST_TMP/clock.err")" >&2; exit 1; }
	_t1=$(date +%s%N)
	echo $(( (_t1 - _t0) / 1000 ))
}
median() { # median N COMMAND...: median wall seconds
	_n=$1
	shift
	for _i in $(seq "$_n"); do clock "$@" || exit 1; done |
	    sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", a[int((NR + 1) / 2)] / 1e6 }'
}
fo_run() { # fo_run PROJECT: one run --host into a new results folder
	"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$1" --results "$(mktemp -d -u "$TEST_TMP/res-XXXXXX")"
}

echo "machine load before: $(uptime)"
p="$TEST_TMP/noop2k"
noop "$p" 2000
fo_run "$p" >/dev/null 2>&1 || { echo "bench: warm-up run failed" >&2; exit 1; }
fo=$(median "$N" fo_run "$p")
# shellcheck disable=SC2086
xa=$(median "$N" ssh $sshopts -i "$SSHD_KEY" -p "$SSHD_PORT" "$SSHD_USER@$SSHD_ADDR" \
    "cd $FANOUT_BASTION_DIR/tree && seq 1 2000 | xargs -P 2 -n 1 ./entrypoint >/dev/null")
# shellcheck disable=SC2086
login=$(median "$N" ssh $sshopts -i "$SSHD_KEY" -p "$SSHD_PORT" "$SSHD_USER@$SSHD_ADDR" true)

s="$TEST_TMP/sleep"
cp -R "$top_srcdir/examples/sleep" "$s"
rm -rf "$s/results"
"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$s" --workers 4 --results "$TEST_TMP/sleep-res" >/dev/null 2>&1
eff=$(awk '/^Efficiency/ { print $2 }' "$TEST_TMP/sleep-res/performance.txt")

b="$TEST_TMP/noopbig"
noop "$b" "$big"
"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$b" --files 10 --results "$TEST_TMP/big-warm" >/dev/null 2>&1
t0=$(date +%s%N)
"$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$b" --results "$TEST_TMP/res-big" >/dev/null 2>"$TEST_TMP/big.err" ||
    { echo "bench: the $big-task run failed: $(tail -3 "$TEST_TMP/big.err")" >&2; exit 1; }
t1=$(date +%s%N)
fb=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
okbig=$(grep -c '"status":"ok"' "$TEST_TMP/res-big/records.jsonl")
echo "machine load after: $(uptime)"

printf '\n%-46s %10s\n' "measure" "wall s"
printf '%-46s %10s\n' "fanout run --host, 2,000 no-op tasks" "$fo" \
    "ssh host 'xargs -P 2' , 2,000 no-op tasks" "$xa" \
    "one ssh login (ssh host true)" "$login" \
    "fanout run --host, $big no-op tasks" "$fb"
awk -v f="$fo" -v x="$xa" -v e="$eff" -v fb="$fb" -v big="$big" -v okb="$okbig" 'BEGIN {
	printf "run --host / ssh xargs (2,000 tasks) = %.2fx (target <= 1.30x) %s\n", f / x, (f / x <= 1.3) ? "met" : "NOT met"
	printf "examples/sleep over SSH: efficiency %.1f %% (target >= 97 %%) %s\n", e, (e >= 97) ? "met" : "NOT met"
	p2 = f / 2000 * 1000; pb = fb / big * 1000
	printf "time per task: %.3f ms at 2,000, %.3f ms at %d (%d ok): %+.0f %% (target within 20 %%) %s\n",
	    p2, pb, big, okb, (pb / p2 - 1) * 100, (pb <= p2 * 1.2 && pb >= p2 * 0.8) ? "met" : "NOT met"
}'
