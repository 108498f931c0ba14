#!/bin/bash
# workers: when fanout.yaml gives none, one per CPU of the machine that
# runs the tasks: this machine's online CPUs for run --local, the host's
# (getconf _NPROCESSORS_ONLN there) for run --host (a real sshd on
# loopback). performance.txt and --json say the number used, and no task
# ran on a worker beyond it. (Before, the default was 4 whatever the
# machine; on a machine of 4 CPUs this test cannot tell the two apart,
# and says so.)
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy

cpus=$(getconf _NPROCESSORS_ONLN)
[ "$cpus" = 4 ] && diag "this machine has 4 CPUs, the old default: the numbers cannot differ"
proj="$TEST_TMP/nowork"
cp -R "$(example sleep)" "$proj"
grep -v '^workers:' "$(example sleep)/fanout.yaml" >"$proj/fanout.yaml"
check "the project gives no workers:" test "$(grep -c '^workers:' "$proj/fanout.yaml")" = 0

# most_worker RESULTS: the highest worker number of its records.
most_worker() {
	python3 -c 'import json,sys; print(max(json.loads(l)["worker"] for l in open(sys.argv[1]) if l.strip()))' \
		"$1/records.jsonl"
}

out=$("$FANOUT" run --local "$proj" --files 6 --results "$TEST_TMP/local" --json 2>/dev/null)
is 0 $? "run --local exits 0"
is "$cpus" "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["workers"])')" \
	"--json: $cpus workers, this machine's online CPUs"
like "$(cat "$TEST_TMP/local/performance.txt")" "Workers per node +$cpus\$" \
	"performance.txt: Workers per node $cpus"
check "no task ran on a worker beyond $cpus" test "$(most_worker "$TEST_TMP/local")" -le "$cpus"
out=$("$FANOUT" run --local "$proj" --files 2 --workers 1 --results "$TEST_TMP/one" --json 2>/dev/null)
is 1 "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["workers"])')" \
	"--workers 1 still says otherwise"

sshd_setup 127.0.0.1
sshd_start
export FANOUT_BASTION_DIR="$TEST_TMP/remote"
addr="$SSHD_USER@$SSHD_ADDR:$SSHD_PORT"
hostcpus=$(getconf _NPROCESSORS_ONLN)	# the same machine, seen over SSH
out=$("$FANOUT" run --host "$addr" --key "$SSHD_KEY" "$proj" --files 6 --json 2>"$TEST_TMP/host.err")
is 0 $? "run --host exits 0"
r=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"])')
like "$(cat "$r/performance.txt")" "Workers per node +$hostcpus\$" \
	"performance.txt: Workers per node $hostcpus, the host's"
check "no task ran on a worker beyond $hostcpus" test "$(most_worker "$r")" -le "$hostcpus"

done_testing
