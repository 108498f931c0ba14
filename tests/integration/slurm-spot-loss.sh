#!/bin/bash
# A cluster node lost through the cloud: mid-run, node2's instance is
# terminated in moto (a spot reclaim) and its host dies (every process of
# its namespace killed at once). Slurm requeues its share; the create
# completes on the other nodes with every task exactly once, says which
# node was lost and why, and stops the rest (the terminated instance
# counts as done); cleanup leaves nothing. Then a second cluster: tasks
# without a result in its last run (their records taken out of its
# results folder) are all that `fanout resume ID --unfinished` runs on the
# cluster, and the merged results.csv is a clean run's. moto_server makes
# the machines (lib-aws.sh), lib-cluster.sh's namespace hosts stand in for
# them.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
. "$top_srcdir/tests/integration/lib-cluster.sh"
plan_lazy
cluster_setup 3
export FANOUT_SLURMD_TIMEOUT=5

# 180 tasks of 0.3 s, 2 workers per node: about 9 s on 3 nodes.
proj="$TEST_TMP/spot"
mkdir -p "$proj/in"
for i in $(seq -w 1 180); do echo "$i" >"$proj/in/$i.txt"; done
cat >"$proj/fanout.yaml" <<'Y'
name: spot
entrypoint: ./task.sh
inputs:
  glob: in/*.txt
workers: 2
timeout: 60
retries: 0
Y
# Tasks wait while the test holds them, so that the loss comes before the
# run can end however slow this machine is (/dev/shm: seen by every
# namespace host, whose /tmp is its own).
hold="/dev/shm/fanout-hold-$$"
at_exit "rm -f '$hold'"
cat >"$proj/task.sh" <<S
#!/bin/sh
while [ -e "$hold" ]; do sleep 0.05; done
sleep 0.3
printf '{"n": %d}\\n' "\$(sed 's/^0*//' "\$1")"
S
chmod +x "$proj/task.sh"
"$FANOUT" run --local "$proj" --results "$TEST_TMP/clean" >/dev/null 2>&1 ||
    bail "run --local failed"
rm -rf "$proj/results"

"$FANOUT" create "$proj" --engine slurm --nodes 3 --keep --yes \
    >"$TEST_TMP/id" 2>"$TEST_TMP/create.err" &
cpid=$!
at_exit "kill $cpid 2>/dev/null"
node2_busy() {
	[ "$(cluster_exec node2 "cat $CLUSTER_WORK/runs/*/e*/records.jsonl" \
	    2>/dev/null | wc -l)" -ge 4 ]
}
wait_for 300 node2_busy
ok $? "node2 ran tasks" || diag "$(tail -n 20 "$TEST_TMP/create.err")"
touch "$hold"
id=$(newest_id)
iid=$(rec_get "$id" '[x["id"] for x in r["resources"] if x["kind"] == "instance" and x["name"] == "node2"][0]')
like "$iid" '^i-' "node2's instance is recorded ($iid)"
# The spot reclaim: EC2 terminates the instance, the machine is gone.
awsq ec2 terminate-instances --instance-ids "$iid" >/dev/null
cluster_kill_node 2
rm -f "$hold"
wait "$cpid"
rc=$?
err=$(cat "$TEST_TMP/create.err")
is 0 "$rc" "the create completes on the other nodes (exit 0)" ||
    diag "$(tail -n 30 "$TEST_TMP/create.err")"
like "$err" "node2 lost \(instance $iid terminated\); its share was requeued" \
    "it says which node was lost, why, and that its share was requeued"
r1=$(rec_get "$id" 'r["runs"][-1]["results"]')
tasks=$( (tail -n +2 "$r1/results.csv"; tail -n +2 "$r1/errors.csv") |
    cut -d, -f1 | sort -n)
is 180 "$(wc -l <<<"$tasks")" "180 rows in results.csv and errors.csv"
is "$(seq 0 179)" "$(sort -nu <<<"$tasks")" "every task exactly once"
is "$(sort "$TEST_TMP/clean/results.csv")" "$(sort "$r1/results.csv")" \
    "results.csv is a clean run's"
like "$(cat "$r1/performance.txt")" "Unfinished +0" "none unfinished"
like "$err" "$iid was terminated: nothing to stop" \
    "stopping the cluster takes the terminated instance as done"
check "the run set is kept, stopped" state_is "$id" stopped
states=$(awsq ec2 describe-instances --filters "Name=tag:fanout:run-set,Values=$id" \
    --query 'Reservations[].Instances[].State.Name' | tr -s '\t\n' '\n' | sort | uniq -c |
    awk '{print $2 ":" $1}' | tr '\n' ' ')
is "stopped:3 terminated:1 " "$states" "head and two nodes stopped, node2 terminated"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>"$TEST_TMP/cleanup.err"
is 0 $? "cleanup exits 0" || diag "$(tail -n 20 "$TEST_TMP/cleanup.err")"
is "deleted" "$(rec_get "$id" 'r["state"]')" "the run set is deleted"
is "0 0 0" "$(tagged_counts)" "nothing tagged is left (instances, groups, key pairs)"

# A second cluster on the same hosts (node2 boots again): its last run
# lacks the records of 26 tasks; resume --unfinished runs just those.
cluster_start node2
"$FANOUT" create "$proj" --engine slurm --nodes 3 --keep --yes \
    >"$TEST_TMP/id2" 2>"$TEST_TMP/create2.err"
is 0 $? "a second cluster runs the project" ||
    diag "$(tail -n 30 "$TEST_TMP/create2.err")"
id2=$(cat "$TEST_TMP/id2")
r2=$(rec_get "$id2" 'r["runs"][-1]["results"]')
jq -c 'select(.task % 7 != 3)' "$r2/records.jsonl" >"$r2/records.new" &&
    mv "$r2/records.new" "$r2/records.jsonl"
want=$(seq 0 179 | awk '$1 % 7 == 3')
"$FANOUT" resume "$id2" --unfinished --yes >/dev/null 2>"$TEST_TMP/resume.err"
is 0 $? "resume --unfinished on the cluster exits 0" ||
    diag "$(tail -n 30 "$TEST_TMP/resume.err")"
r3=$(rec_get "$id2" 'r["runs"][-1]["results"]')
ok "$([ -n "$r3" ] && [ "$r3" != "$r2" ]; echo $?)" "into a new results folder"
new=$(python3 - "$r2" "$r3" <<'PY'
import json, sys
def recs(d):
    return [json.loads(l) for l in open(d + "/records.jsonl") if l.strip()]
old = {(r["task"], r["start"]) for r in recs(sys.argv[1])}
print("\n".join(str(r["task"]) for r in recs(sys.argv[2])
                if (r["task"], r["start"]) not in old))
PY
)
is "$(wc -l <<<"$want")" "$(grep -c . <<<"$new")" "the second run made 26 task records"
is "$want" "$(sort -n <<<"$new")" "exactly the tasks without a result ran"
is "$(sort "$TEST_TMP/clean/results.csv")" "$(sort "$r3/results.csv")" \
    "the merged results.csv is a clean run's: every task once"
"$FANOUT" cleanup "$id2" --yes >/dev/null 2>"$TEST_TMP/cleanup2.err"
is 0 $? "cleanup of the second cluster exits 0"
is "0 0 0" "$(tagged_counts)" "nothing tagged is left"
done_testing
