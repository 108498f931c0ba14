#!/bin/bash
# setup: with the bastion engine through `fanout create` and `fanout
# resume` (moto_server for EC2, a loopback sshd standing in for the
# bastion): the setup runs once on the bastion across two runs and again
# after requirements.txt changes (a marker it appends to there); its lines
# are in the progress log; a failing one stops the resume with its last
# line, no task, no run recorded; the command-line entrypoint runs there.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
. "$top_srcdir/tests/integration/lib-setup.sh"
plan_lazy

sshd_setup 127.0.0.1
sshd_start
sshd_as_bastion
runs() { cat "$FANOUT_BASTION_DIR/setup-runs" 2>/dev/null | wc -l | tr -d ' '; }

setup_project setup-cloud 3
setup_yaml "$SETUP_COUNTING" 'sh ./task.sh --flag'

"$FANOUT" create "$p" --provider aws --region us-east-1 --keep --yes \
    >"$TEST_TMP/id" 2>"$TEST_TMP/create.err"
rc=$?
is 0 "$rc" "create with a setup: exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -20 "$TEST_TMP/create.err")"
id=$(cat "$TEST_TMP/id")
is 1 "$(runs)" "the setup ran once on the bastion"
like "$(cat "$TEST_TMP/create.err")" "\[project setup\] [^ ]+: installing from requirements.txt" \
    "its output is in the progress log"
r1=$(rec_get "$id" 'r["runs"][-1]["results"]')
is "$(setup_results 3)" "$(cat "$r1/results.csv")" \
    "the command-line entrypoint ran on the bastion, the input last"

"$FANOUT" resume "$id" >/dev/null 2>"$TEST_TMP/resume1.err"
rc=$?
is 0 "$rc" "resume exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -20 "$TEST_TMP/resume1.err")"
is 1 "$(runs)" "the second run did not run the setup again"
like "$(cat "$TEST_TMP/resume1.err")" "setup done already" "the log says it was current"

printf 'requests==2.31.0\n' >"$p/requirements.txt"
"$FANOUT" resume "$id" >/dev/null 2>"$TEST_TMP/resume2.err"
is 0 $? "resume after requirements.txt changed exits 0"
is 2 "$(runs)" "the setup ran again after requirements.txt changed"

# A failing setup stops the run: its last line, exit 1, no run recorded.
nrec=$(rec_get "$id" 'len(r["runs"])')
setup_yaml "$SETUP_FAILING" 'sh ./task.sh --flag'
"$FANOUT" resume "$id" >/dev/null 2>"$TEST_TMP/resume3.err"
is 1 $? "a failing setup: resume exits 1"
like "$(cat "$TEST_TMP/resume3.err")" "setup failed on [^ ]+ \(exit 4\): no such package: zzz" \
    "the cause names the host and the setup's last line"
is "$nrec" "$(rec_get "$id" 'len(r["runs"])')" "no run was recorded"
is 3 "$(ls "$FANOUT_BASTION_DIR/runs" | wc -l | tr -d ' ')" "no run was started on the bastion"

"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
is 0 $? "cleanup exits 0"
is "0 0 0" "$(tagged_counts)" "nothing tagged is left"
done_testing
