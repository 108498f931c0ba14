#!/bin/bash
# A cluster's node dies mid-run (every process of its host killed at once,
# as when a VM dies): Slurm declares it down after the slurmd timeout
# (FANOUT_SLURMD_TIMEOUT, short here) and requeues the elements it held;
# fanout marks the node lost and goes on. Every task ends in results.csv
# or errors.csv exactly once; the requeue time is in the log. The engine
# runs through tests/slurm-driver on hosts written into a record by hand
# (lib-cluster.sh: a head and 3 nodes in network namespaces, real
# munged, slurmctld and slurmd).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
. "$top_srcdir/tests/integration/lib-cluster.sh"
plan_lazy
DRIVER="$(dirname "$FANOUT")/tests/slurm-driver"
[ -x "$DRIVER" ] || bail "no test driver at $DRIVER"
cluster_setup 3
export FANOUT_SLURMD_TIMEOUT=5

# 180 tasks of 0.3 s, 2 workers per node: about 9 s on 3 nodes.
proj="$TEST_TMP/sleepy"
mkdir -p "$proj/in"
for i in $(seq -w 1 180); do echo "$i" >"$proj/in/$i.txt"; done
cat >"$proj/fanout.yaml" <<'Y'
name: sleepy
entrypoint: ./task.sh
inputs:
  glob: in/*.txt
workers: 2
timeout: 60
retries: 0
Y
cat >"$proj/task.sh" <<'S'
#!/bin/sh
sleep 0.3
printf '{"n": %d}\n' "$(cat "$1" | sed 's/^0*//')"
S
chmod +x "$proj/task.sh"

log="$TEST_TMP/driver.log"
"$DRIVER" -k "$CLUSTER_KEY" "$proj" 3 >"$TEST_TMP/out.json" 2>"$log" &
driver=$!
at_exit "kill $driver 2>/dev/null"
# Once node2 has finished a few tasks, it dies.
node2_busy() { [ "$(grep -c ' on node2 ' "$log")" -ge 4 ]; }
wait_for 120 node2_busy
ok $? "node2 ran tasks" || diag "$(tail -n 20 "$log")"
cluster_kill_node 2
wait "$driver"
rc=$?
is 0 "$rc" "the run ends well (exit 0)" || diag "$(tail -n 30 "$log")"
out=$(cat "$TEST_TMP/out.json")
res=$(jq -r .results <<<"$out")
like "$(grep 'node node2 lost' "$log")" "lost" "the node is logged lost"
is 180 "$(jq .tasks <<<"$out")" "180 tasks"
is 0 "$(jq .unfinished <<<"$out")" "none unfinished"
# results.csv and errors.csv: every task once, no task twice.
tasks=$( (tail -n +2 "$res/results.csv"; tail -n +2 "$res/errors.csv") |
    cut -d, -f1 | sort -n)
is 180 "$(sort -u <<<"$tasks" | wc -l)" "every task is in results.csv or errors.csv"
is 180 "$(wc -l <<<"$tasks")" "and none twice"
is "$(seq 0 179)" "$(sort -nu <<<"$tasks")" "tasks 0 to 179"
hosts=$(jq -r .host "$res/records.jsonl" | sort -u | tr '\n' ' ')
like "$hosts" "node1 .*node3" "the others ran tasks ($hosts)"
like "$(grep -E 'requeued|running again' "$log")" "requeue" \
    "the requeue is logged"
diag "$(grep -E 'lost|requeue|running again|ignored' "$log")"
diag "efficiency $(jq .efficiency <<<"$out"), $(grep 'Total time' "$res/performance.txt")"
done_testing
