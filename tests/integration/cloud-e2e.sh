#!/bin/bash
# The whole cloud flow through the CLI, against moto_server (EC2) and a real
# OpenSSH sshd on loopback standing in for the bastion: create -> upload ->
# run -> download -> report -> bastion stopped; resume after a change sends
# only that file; a changed host key is refused; cleanup leaves nothing.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy

sshd_setup 127.0.0.1
sshd_start
sshd_as_bastion

proj=$(example sleep)
"$FANOUT" create "$proj" --provider aws --region us-east-1 --files 4 --keep --yes \
    >"$TEST_TMP/id" 2>"$TEST_TMP/create.err"
rc=$?
is 0 "$rc" "create with the bastion engine runs the project and exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -20 "$TEST_TMP/create.err")"
id=$(cat "$TEST_TMP/id")
like "$id" '^fo-[0-9]{8}-[a-z0-9]{4}$' "it prints the run-set id"
like "$(cat "$TEST_TMP/create.err")" "Efficiency" "and the performance table"
r1=$(rec_get "$id" 'r["runs"][-1]["results"]')
for f in results.csv errors.csv logs.csv performance.txt records.jsonl runtime.png; do
	check "cloud results: $f" test -s "$r1/$f"
done
is "bastion" "$(rec_get "$id" 'r["runs"][-1]["engine"]')" "the run is recorded with its engine"
like "$(rec_get "$id" 'r["hosts"][0]["host_key"]')" '^SHA256:' "the host key seen first is recorded"

# The same records as a local run of the same project: same tasks, inputs,
# statuses and results.
"$FANOUT" run --local "$proj" --files 4 --results "$TEST_TMP/local" >/dev/null 2>&1
same_records() {
	python3 - "$1" "$2" <<'PY'
import json, sys
def final(d):
    out = {}
    for line in open(d + "/records.jsonl"):
        if line.strip():
            r = json.loads(line)
            if r["task"] not in out or r["attempt"] >= out[r["task"]]["attempt"]:
                out[r["task"]] = r
    return {t: (r["input"], r["status"], json.dumps(r["result"], sort_keys=True))
            for t, r in out.items()}
a, b = final(sys.argv[1]), final(sys.argv[2])
if a != b:
    print("# local:  %s\n# remote: %s" % (a, b))
sys.exit(0 if a == b and len(a) == 4 else 1)
PY
}
same_records "$TEST_TMP/local" "$r1"
ok $? "the bastion's records match a local run's (tasks, inputs, results)"
is "$(cat "$TEST_TMP/local/results.csv")" "$(cat "$r1/results.csv")" "results.csv is the same"

iid=$(rec_get "$id" '[x["id"] for x in r["resources"] if x["kind"] == "instance"][0]')
is "stopped" "$(awsq ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0].State.Name')" \
    "after the run the bastion is stopped (kept for resume)"
hist=$("$FANOUT" history --json | python3 -c 'import json,sys; print(" ".join(r["id"] + ":" + r["state"] for r in json.load(sys.stdin)))')
like "$hist" "$id:stopped" "history shows the run set, stopped"
like "$(cat "$TEST_TMP/create.err")" "fanout resume $id" "the output says how to resume"

# Resume after changing one file: only that file is sent, a second
# results folder appears.
printf '0.2\n' >"$proj/data/task-01.txt"
"$FANOUT" resume "$id" >/dev/null 2>"$TEST_TMP/resume.err"
rc=$?
is 0 "$rc" "resume exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -20 "$TEST_TMP/resume.err")"
is 1 "$(rec_get "$id" 'r["runs"][-1]["files_sent"]')" "resume uploads the changed file only"
is 4 "$(rec_get "$id" 'r["runs"][-1]["bytes_sent"]')" "and sends its 4 bytes"
r2=$(rec_get "$id" 'r["runs"][-1]["results"]')
ok "$([ "$r1" != "$r2" ] && [ -s "$r2/results.csv" ] && [ -s "$r1/results.csv" ]; echo $?)" "a second results folder, the first kept"
like "$(grep task-01 "$r2/results.csv")" ",0.2,0.2$" "the new run used the changed input"
is "stopped" "$(awsq ec2 describe-instances --instance-ids "$iid" --query 'Reservations[0].Instances[0].State.Name')" \
    "the bastion is stopped again"

# A changed host key is refused, showing both fingerprints.
sshd_stop
sshd_new_hostkey
sshd_start
"$FANOUT" resume "$id" >/dev/null 2>"$TEST_TMP/hostkey.err"
is 1 $? "resume with a changed host key fails"
like "$(cat "$TEST_TMP/hostkey.err")" "SHA256:[A-Za-z0-9+/]+.*SHA256:[A-Za-z0-9+/]+" "the message shows both fingerprints"
is 1 "$(rec_get "$id" 'len(r["runs"]) - 1')" "no run was made with the changed key"

# Cleanup: nothing left, the key file gone.
"$FANOUT" cleanup "$id" --yes >/dev/null 2>&1
is 0 $? "cleanup exits 0"
is "0 0 0" "$(tagged_counts)" "the aws CLI sees no fanout instance, group or key pair"
ok "$([ ! -e "$FANOUT_HISTORY_DIR/$id.key" ]; echo $?)" "the local key file is gone"
is "deleted" "$(rec_get "$id" 'r["state"]')" "the record is kept, marked deleted"
if grep -rqF "$AWS_SECRET_ACCESS_KEY" "$FANOUT_HISTORY_DIR"/*.json "$TEST_TMP"/*.err; then
	ok 1 "no secret key in records or output"
else
	ok 0 "no secret key in records or output"
fi
done_testing
