#!/bin/bash
# The exit status of a cloud run is that of `fanout run`: 0 when every task
# ended ok, 1 when any failed or did not finish, with the same "N of M
# task(s) failed; see .../errors.csv" line. examples/flaky (3 of 8 tasks
# fail) through create and resume, against moto_server and a loopback
# sshd standing in for the bastion.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy

sshd_setup 127.0.0.1
sshd_start
sshd_as_bastion
# Long enough that a key refused before the stand-in for EC2 authorized it
# is tried again (auth grace), as on a fresh VM.
export FANOUT_SSH_WAIT=120

proj=$(example flaky)
"$FANOUT" create "$proj" --provider aws --region us-east-1 --yes --keep \
    >"$TEST_TMP/id" 2>"$TEST_TMP/create.err"
rc=$?
is 1 "$rc" "create of a project whose tasks fail exits 1"
id=$(cat "$TEST_TMP/id")
like "$id" '^fo-[0-9]{8}-[a-z0-9]{4}$' "it still prints the run-set id"
r1=$(rec_get "$id" 'r["runs"][-1]["results"]')
like "$(cat "$TEST_TMP/create.err")" "^fanout: 3 of 8 task\\(s\\) failed; see $r1/errors.csv$" \
    "and says how many tasks failed and where to look"
[ -n "$r1" ] || diag "$(tail -20 "$TEST_TMP/create.err")"
is 3 "$(rec_get "$id" 'r["runs"][-1]["errors"]')" "the run is recorded with its errors"
is "done" "$(rec_get "$id" 'r["runs"][-1]["state"]')" "and as done (not interrupted)"
is "stopped" "$(rec_get "$id" 'r["state"]')" "the run set is kept, its bastion stopped"

"$FANOUT" resume "$id" >/dev/null 2>"$TEST_TMP/resume.err"
is 1 $? "resume of it exits 1"
r2=$(rec_get "$id" 'r["runs"][-1]["results"]')
ok "$([ -n "$r2" ] && [ "$r1" != "$r2" ]; echo $?)" "in a new results folder"
like "$(cat "$TEST_TMP/resume.err")" "^fanout: 3 of 8 task\\(s\\) failed; see $r2/errors.csv$" \
    "and prints the same line"

# All tasks ok: 0.
sed -i 's/^  list: .*/  list: [ok-1, ok-2]/' "$proj/fanout.yaml"
"$FANOUT" resume "$id" >/dev/null 2>"$TEST_TMP/resume2.err"
is 0 $? "a resume whose tasks all end ok exits 0"
ok "$(grep -q 'task(s) failed' "$TEST_TMP/resume2.err"; [ $? -ne 0 ]; echo $?)" "without the failure line"

# --json says ok: false when tasks failed, and --cleanup-after still
# tears the run set down.
sed -i 's/^  list: .*/  list: [ok-1, fail-always]/' "$proj/fanout.yaml"
out=$("$FANOUT" create "$proj" --provider aws --region us-east-1 --yes --json --cleanup-after 2>"$TEST_TMP/create2.err")
is 1 $? "create --json --cleanup-after with a failed task exits 1"
is "False" "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ok"])')" "--json says ok: false"
id2=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
like "$(cat "$TEST_TMP/create2.err")" "1 of 2 task\\(s\\) failed; see " "the line is printed with --json too (on stderr)"
is "deleted" "$(rec_get "$id2" 'r["state"]')" "the run set was torn down all the same"

"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
is 0 $? "cleanup exits 0"
is "0 0 0" "$(tagged_counts)" "nothing is left"
done_testing
