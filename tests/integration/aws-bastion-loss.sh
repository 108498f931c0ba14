#!/bin/bash
# A bastion lost mid-run (its instance stopped in moto, as a spot bastion
# with interruption behaviour "stop" is, and its host dead: sshd and the
# worker killed at once) leaves a run that `fanout resume ID --unfinished`
# finishes: the create exits 1 saying how many tasks are unfinished and
# how to finish them, the run set stays (stopped, resumable), and the
# resume starts the bastion again and runs exactly the tasks without a
# result; the merged results.csv is a clean run's. Then: nothing left to
# run is one line and exit 0; changed inputs are refused (exit 2); cleanup
# leaves nothing; with --cleanup-after the lost run's set is kept all the
# same. moto_server + a loopback sshd standing in for the
# bastion.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy

sshd_setup 127.0.0.1
sshd_start
sshd_as_bastion
export FANOUT_SSH_WAIT=5

# 40 tasks of 0.3 s on 2 workers: about 6 s.
proj="$TEST_TMP/lossy"
mkdir -p "$proj/in"
for i in $(seq -w 1 40); do echo "$i" >"$proj/in/$i.txt"; done
cat >"$proj/fanout.yaml" <<'Y'
name: lossy
entrypoint: ./task.sh
inputs:
  glob: in/*.txt
workers: 2
timeout: 60
retries: 0
Y
# Tasks wait while the test holds them (the loss comes before the run can
# end, however slow this machine is); the bastion is this machine.
hold="$TEST_TMP/hold"
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

"$FANOUT" create "$proj" --provider aws --region us-east-1 --keep --yes \
    >"$TEST_TMP/id" 2>"$TEST_TMP/create.err" &
cpid=$!
at_exit "kill $cpid 2>/dev/null"
some_done() {
	[ "$(cat "$FANOUT_BASTION_DIR"/runs/*/records.jsonl 2>/dev/null |
	    wc -l)" -ge 6 ]
}
wait_for 120 some_done
ok $? "the run on the bastion has made records" ||
    diag "$(tail -n 20 "$TEST_TMP/create.err")"
touch "$hold"
id=$(newest_id)
iid=$(rec_get "$id" '[x["id"] for x in r["resources"] if x["kind"] == "instance"][0]')
# The bastion is lost: EC2 stops the spot instance, its host dies.
awsq ec2 stop-instances --instance-ids "$iid" >/dev/null
# sshd and the watch it runs first: a watch that saw the worker die
# would report a run that ended, not a lost host.
sshd_stop
kill -9 "$(cat "$FANOUT_BASTION_DIR"/runs/*/pid)" 2>/dev/null
rm -f "$hold"
wait "$cpid"
rc=$?
err=$(cat "$TEST_TMP/create.err")
is 1 "$rc" "a create whose bastion is lost mid-run exits 1" || diag "$(tail -n 20 "$TEST_TMP/create.err")"
like "$err" "bastion was lost mid-run .*: [0-9]+ of 40 tasks are unfinished; finish them with 'fanout resume $id --unfinished'" \
    "it says how many tasks are unfinished and how to finish them"
unf=$(grep -oE '[0-9]+ of 40 tasks are unfinished' <<<"$err" | head -1 | cut -d' ' -f1)
r1=$(rec_get "$id" 'r["runs"][-1]["results"]')
is "lost" "$(rec_get "$id" 'r["runs"][-1]["state"]')" "the run is recorded as lost"
got1=$(jq -r 'select(.status == "ok") | .task' "$r1/records.jsonl" | sort -n)
n1=$(grep -c . <<<"$got1")
is "$unf" "$((40 - n1))" "the unfinished count is the tasks without a result ($unf)"
ok "$([ "$unf" -gt 0 ] && [ "$unf" -lt 40 ]; echo $?)" "some tasks ended before the loss, some did not"
check "the run set stays, stopped (resumable)" state_is "$id" stopped

# The bastion comes back; resume --unfinished runs exactly the rest.
sshd_start
"$FANOUT" resume "$id" --unfinished --yes >"$TEST_TMP/resume.out" \
    2>"$TEST_TMP/resume.err"
rc=$?
is 0 "$rc" "resume --unfinished exits 0" || diag "$(tail -n 20 "$TEST_TMP/resume.err")"
r2=$(rec_get "$id" 'r["runs"][-1]["results"]')
ok "$([ -n "$r2" ] && [ "$r1" != "$r2" ]; echo $?)" "into a new results folder"
is "$r1" "$(rec_get "$id" 'r["runs"][-1]["merged_from"]')" "merged with the lost run's"
# The records of the second run: those not in the first.
new=$(python3 - "$r1" "$r2" <<'PY'
import json, sys
def recs(d):
    return [json.loads(l) for l in open(d + "/records.jsonl") if l.strip()]
old = {(r["task"], r["start"]) for r in recs(sys.argv[1])}
print("\n".join(str(r["task"]) for r in recs(sys.argv[2])
                if (r["task"], r["start"]) not in old))
PY
)
is "$unf" "$(grep -c . <<<"$new")" "the second run made $unf task records"
want=$(comm -23 <(seq 0 39 | sort) <(sort <<<"$got1") | sort -n)
is "$want" "$(sort -n <<<"$new")" "exactly the tasks without a result ran again"
is "$(sort "$TEST_TMP/clean/results.csv")" "$(sort "$r2/results.csv")" \
    "the merged results.csv is a clean run's: every task once"
is 41 "$(wc -l <"$r2/logs.csv")" "logs.csv: one attempt a task"
like "$(cat "$r2/performance.txt")" "Total tasks +40" "performance.txt counts the whole run"
like "$(cat "$r2/performance.txt")" "Unfinished +0" "none unfinished"
is 40 "$(rec_get "$id" 'r["runs"][-1]["ok"]')" "the history's run has 40 ok"
like "$(cat "$TEST_TMP/resume.err")" "$iid" "the resume started the bastion again"

# Nothing left: one line, exit 0, nothing started.
n=$(rec_get "$id" 'len(r["runs"])')
out=$("$FANOUT" resume "$id" --unfinished --yes 2>"$TEST_TMP/none.err")
rc=$?
is 0 "$rc" "resume --unfinished with nothing unfinished exits 0"
like "$out" "^run set $id: every task of its last run .* has a result; nothing to run$" \
    "and says so in one line"
is "" "$(cat "$TEST_TMP/none.err")" "nothing else"
is "$n" "$(rec_get "$id" 'len(r["runs"])')" "no run was added"
check "the run set is still stopped" state_is "$id" stopped

# Bad input: one line, exit 2.
echo 41 >"$proj/in/41.txt"
"$FANOUT" resume "$id" --unfinished --yes >/dev/null 2>"$TEST_TMP/changed.err"
is 2 $? "resume --unfinished after the inputs changed exits 2"
like "$(cat "$TEST_TMP/changed.err")" "inputs changed since that run; run it anew without --unfinished" \
    "saying the inputs changed"
rm "$proj/in/41.txt"
"$FANOUT" resume "$id" --unfinished --no-run >/dev/null 2>"$TEST_TMP/norun.err"
is 2 $? "--unfinished with --no-run exits 2"

"$FANOUT" cleanup "$id" --yes >/dev/null 2>"$TEST_TMP/cleanup.err"
is 0 $? "cleanup exits 0" || diag "$(tail -n 20 "$TEST_TMP/cleanup.err")"
is "0 0 0" "$(tagged_counts)" "nothing tagged is left (instances, groups, key pairs)"

# --cleanup-after: a lost run is kept all the same (its tasks unfinished).
rm -rf "$FANOUT_BASTION_DIR/runs"
"$FANOUT" create "$proj" --provider aws --region us-east-1 --cleanup-after \
    --yes >"$TEST_TMP/id2" 2>"$TEST_TMP/create2.err" &
cpid=$!
at_exit "kill $cpid 2>/dev/null"
wait_for 120 some_done
ok $? "a second run has made records"
touch "$hold"
id2=$(newest_id)
sshd_stop
kill -9 "$(cat "$FANOUT_BASTION_DIR"/runs/*/pid)" 2>/dev/null
rm -f "$hold"
wait "$cpid"
is 1 $? "create --cleanup-after whose bastion is lost exits 1"
like "$(cat "$TEST_TMP/create2.err")" "run set $id2 is kept, not torn down: its run is unfinished" \
    "it keeps the run set instead of tearing it down"
check "stopped, to finish with resume --unfinished" state_is "$id2" stopped
"$FANOUT" cleanup "$id2" --yes >/dev/null 2>&1
is "0 0 0" "$(tagged_counts)" "cleanup leaves nothing"
done_testing
