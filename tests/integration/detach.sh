#!/bin/bash
# Detached runs (create --detach) against moto_server (EC2, S3) and a real
# OpenSSH sshd on loopback standing in for the head: the create returns
# once the run has started; the head's supervisor (templates/
# detach-supervise.sh, run by the sshd's shell as on a real head) writes
# its status object and the run's records to the bucket, then its
# teardown script tears the run set down by tag, the head last — its aws
# CLI calls reach moto through AWS_ENDPOINT_URL and take the role's
# credentials from a fake IMDS (tests/fakes/imds.py), never the
# user's; `fanout fetch` then brings the results home, equal to a local
# run's, and removes what the head could not (its own group). A head that
# dies before its teardown leaves a run set `fanout cleanup` removes
# whole. --detach without results: is refused before anything is made.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
. "$top_srcdir/tests/integration/lib-sshd.sh"
plan_lazy

proj=$(example sleep)
mkdir -p "$FANOUT_HISTORY_DIR"

# --detach without results: in fanout.yaml: one line, exit 2, nothing made.
"$FANOUT" create "$proj" --provider aws --region us-east-1 --files 4 \
    --detach --yes >"$TEST_TMP/out" 2>"$TEST_TMP/noresults.err"
is 2 $? "create --detach without results: exits 2"
like "$(cat "$TEST_TMP/noresults.err")" "--detach needs results: s3://BUCKET/PREFIX in .*fanout.yaml" \
    "the message names the missing results: setting and the file"
is 1 "$(wc -l <"$TEST_TMP/noresults.err")" "in one line"
is "0 0 0" "$(tagged_counts)" "nothing was made in EC2"
is 0 "$(ls "$FANOUT_HISTORY_DIR" | wc -l)" "and no run set was recorded"

bucket=fanout-detach-results
awsq s3 mb "s3://$bucket" >/dev/null || bail "cannot make the bucket in moto"
printf 'results: s3://%s/runs/\n' "$bucket" >>"$proj/fanout.yaml"

# The head's metadata service (the role's credentials, its instance id)
# and what a real head's sessions have: no AWS file of this machine's
# user, the aws CLI on the PATH. The endpoint (moto) comes from fanout.
IMDS_PORT=$(free_port)
IMDS_LOG="$TEST_TMP/imds.log"
python3 "$top_srcdir/tests/fakes/imds.py" "$IMDS_PORT" "$MOTO_URL" \
    --log "$IMDS_LOG" 2>"$TEST_TMP/imds.err" &
at_exit "kill $! 2>/dev/null"
wait_port "$IMDS_PORT" 20 || bail "the fake IMDS did not start"
sshd_setup 127.0.0.1
cat >>"$SSHD_DIR/sshd_config" <<EOF2
SetEnv AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$IMDS_PORT/ AWS_SHARED_CREDENTIALS_FILE=$TEST_TMP/head-no-credentials AWS_CONFIG_FILE=$TEST_TMP/head-no-config PATH=$(dirname "$(command -v aws)"):/usr/local/bin:/usr/bin:/bin FANOUT_DETACH_POLL=0.2
EOF2
sshd_start
sshd_as_bastion

head_status() { # head_status ID KEY: a field of the head's status.json
	aws --endpoint-url "$MOTO_URL" s3 cp "s3://$bucket/runs/$1/status.json" - 2>/dev/null |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2" 2>/dev/null
}
head_state_is() { [ "$(head_status "$1" state)" = "$2" ]; }

"$FANOUT" create "$proj" --provider aws --region us-east-1 --files 4 \
    --cleanup-after --detach --yes >"$TEST_TMP/id" 2>"$TEST_TMP/create.err"
rc=$?
is 0 "$rc" "create --detach exits 0 once the run has started"
[ "$rc" -eq 0 ] || diag "$(tail -20 "$TEST_TMP/create.err")"
id=$(cat "$TEST_TMP/id")
like "$id" '^fo-[0-9]{8}-[a-z0-9]{4}$' "it prints the run-set id"
is detached "$(rec_get "$id" 'r["state"]')" "the run set's state is detached"
ok "$([ ! -e "$proj/results" ]; echo $?)" "no results folder was made at home (the head has the run)"
like "$(cat "$TEST_TMP/create.err")" "fanout fetch $id" "the output says how to bring the results home"
is "s3://$bucket/runs/$id" "$(rec_get "$id" 'r["runs"][-1]["detached"]["url"]')" \
    "the run records where the head writes: the results prefix, then the run set"

# The head's instance role may delete only inside its own run set.
aws --endpoint-url "$MOTO_URL" --region us-east-1 --output json iam get-role-policy \
    --role-name "fanout-$id" --policy-name fanout-buckets >"$TEST_TMP/policy.json"
ok $? "the head's role has its inline policy (aws iam get-role-policy)"
python3 - "$TEST_TMP/policy.json" "$id" >"$TEST_TMP/policy.txt" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))["PolicyDocument"]
if isinstance(doc, str):
    doc = json.loads(doc)
for s in doc["Statement"]:
    acts = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
    for a in acts:
        if a.startswith("ec2:"):
            cond = s.get("Condition", {}).get("StringEquals", {})
            print(a, cond.get("aws:ResourceTag/fanout:run-set", "-"))
PY
like "$(cat "$TEST_TMP/policy.txt")" "ec2:TerminateInstances $id" \
    "it may terminate instances tagged fanout:run-set=$id (aws:ResourceTag)"
is "" "$(grep -E '^ec2:(Terminate|Stop|Delete)' "$TEST_TMP/policy.txt" | grep -v " $id\$")" \
    "and no ec2 Terminate/Stop/Delete action without that tag condition"
is 5 "$(grep -cE "^ec2:(TerminateInstances|StopInstances|DeleteLaunchTemplate|DeleteKeyPair|DeleteSecurityGroup) $id\$" "$TEST_TMP/policy.txt")" \
    "the teardown's five actions are all scoped to the run set"

# The head runs, writes its status, copies the records, tears down.
wait_for 120 head_state_is "$id" torn-down
ok $? "the head's status object reaches torn-down"
[ "$(head_status "$id" state)" = torn-down ] || diag "$(cat "$FANOUT_BASTION_DIR"/runs/*/supervise.log)"
is "4 4 0" "$(head_status "$id" done) $(head_status "$id" total) $(head_status "$id" failed)" \
    "it says 4 of 4 tasks done, none failed"
is "done 0" "$(head_status "$id" outcome)" "and the run's outcome"
like "$("$FANOUT" status "$id")" "detached: 4/4 done, torn-down" "fanout status shows the detached run's progress and outcome"
like "$("$FANOUT" history)" "detached: 4/4 done, torn-down" "fanout history shows it too"
like "$("$FANOUT" history --json)" '"detached": "detached: 4/4 done, torn-down"' "and history --json"
# The head writes its last status, then terminates itself: wait for EC2.
wait_for 60 set_is "$id" "terminated 1 0"
is "terminated 1 0" "$(set_of "$id")" \
    "the head terminated itself and deleted its key pair; only its own group is left"
like "$(cat "$IMDS_LOG")" "^fanout-$id ASIA" \
    "the head's aws CLI took its instance role's credentials from the metadata service"
if grep -rqF "$AWS_SECRET_ACCESS_KEY" "$FANOUT_BASTION_DIR" 2>/dev/null; then
	ok 1 "no user secret on the head"
else
	ok 0 "no user secret on the head"
fi

# fetch: the results folder from the bucket, equal to a local run's.
"$FANOUT" fetch "$id" >"$TEST_TMP/fetch.out" 2>"$TEST_TMP/fetch.err"
rc=$?
is 0 "$rc" "fetch exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -20 "$TEST_TMP/fetch.err")"
r1=$(cat "$TEST_TMP/fetch.out")
for f in results.csv errors.csv logs.csv performance.txt records.jsonl runtime.png; do
	check "fetched results: $f" test -s "$r1/$f"
done
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
    print("# local:  %s\n# fetched: %s" % (a, b))
sys.exit(0 if a == b and len(a) == 4 else 1)
PY
}
same_records "$TEST_TMP/local" "$r1"
ok $? "the fetched records match a local run's (tasks, inputs, results)"
is "$(cat "$TEST_TMP/local/results.csv")" "$(cat "$r1/results.csv")" "results.csv is the same"
is "$(ls "$TEST_TMP/local/logs" | grep -c '^w')" "$(ls "$r1/logs" | grep -c '^w')" \
    "the workers' logs came home"
is "done" "$(rec_get "$id" 'r["runs"][-1]["state"]')" "the run's entry is done"
is 4 "$(rec_get "$id" 'r["runs"][-1]["ok"]')" "with its 4 tasks ok"
is "terminated 0 0" "$(set_of "$id")" \
    "fetch removed the group the head could not delete: nothing of the run set is left"
like "$(aws --endpoint-url "$MOTO_URL" iam get-role --role-name "fanout-$id" 2>&1)" "NoSuchEntity" \
    "and its instance role (the head cannot delete its own) is gone too"
is deleted "$(rec_get "$id" 'r["state"]')" "the run set is recorded deleted"

# Inputs in a bucket, and --keep: the head fetches the objects itself,
# then stops the run set instead of tearing it down; the fetched records
# name the objects as a local run's do.
awsq s3 mb s3://fanout-detach-in >/dev/null
for i in 1 2 3; do
	printf '0.%s\n' "$i" | awsq s3 cp --quiet - "s3://fanout-detach-in/data/t$i.txt"
done
proj3="$TEST_TMP/sleep3"
cp -R "$top_srcdir/examples/sleep" "$proj3"
chmod -R u+w "$proj3"
rm -rf "$proj3/results" "$proj3/data"
sed -i 's#glob: data/\*.txt#glob: s3://fanout-detach-in/data/*.txt#' "$proj3/fanout.yaml"
printf 'results: s3://%s/kept\n' "$bucket" >>"$proj3/fanout.yaml"
"$FANOUT" create "$proj3" --provider aws --region us-east-1 --keep --detach --yes \
    >"$TEST_TMP/id3" 2>"$TEST_TMP/create3.err"
rc=$?
is 0 "$rc" "a detached create with inputs in a bucket and --keep exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -20 "$TEST_TMP/create3.err")"
id3=$(cat "$TEST_TMP/id3")
head3() { aws --endpoint-url "$MOTO_URL" s3 cp "s3://$bucket/kept/$id3/status.json" - 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' 2>/dev/null; }
head3_stopped() { [ "$(head3)" = stopped ]; }
wait_for 120 head3_stopped
ok $? "the head's status says stopped"
# Its last status comes before it stops itself: wait for EC2 to say so.
wait_for 60 set_is "$id3" "stopped 1 1"
is "stopped 1 1" "$(set_of "$id3")" "the head stopped itself; its key pair and group are kept"
"$FANOUT" fetch "$id3" >"$TEST_TMP/fetch3.out" 2>"$TEST_TMP/fetch3.err"
is 0 $? "fetch exits 0"
"$FANOUT" run --local "$proj3" --results "$TEST_TMP/local3" >/dev/null 2>&1
python3 - "$TEST_TMP/local3" "$(cat "$TEST_TMP/fetch3.out")" <<'PY'
import json, sys
def final(d):
    return sorted((r["input"], r["status"], json.dumps(r["result"], sort_keys=True))
                  for r in map(json.loads, open(d + "/records.jsonl")) if r)
a, b = final(sys.argv[1]), final(sys.argv[2])
print("# local:   %s\n# fetched: %s" % (a, b))
sys.exit(0 if a == b and len(a) == 3 and a[0][0].startswith("s3://") else 1)
PY
ok $? "the fetched records name the bucket's objects and match a local run's"
is stopped "$(rec_get "$id3" 'r["state"]')" "the run set is recorded stopped (resume or cleanup it)"
"$FANOUT" cleanup "$id3" --yes >/dev/null 2>&1
is "terminated 0 0" "$(set_of "$id3")" "cleanup removes the kept run set"

# A head that dies before its teardown: cleanup still removes everything.
proj2="$TEST_TMP/sleep2"
cp -R "$top_srcdir/examples/sleep" "$proj2"
chmod -R u+w "$proj2"
rm -rf "$proj2/results"
printf '600\n' >"$proj2/data/task-01.txt"
printf 'results: s3://%s/runs/\n' "$bucket" >>"$proj2/fanout.yaml"
"$FANOUT" create "$proj2" --provider aws --region us-east-1 --files 1 \
    --cleanup-after --detach --yes >"$TEST_TMP/id2" 2>"$TEST_TMP/create2.err"
is 0 $? "a second detached create exits 0"
id2=$(cat "$TEST_TMP/id2")
run2="$FANOUT_BASTION_DIR/runs/$(rec_get "$id2" 'r["runs"][-1]["remote_run"]')"
wait_for 60 head_state_is "$id2" running
ok $? "its head says running"
like "$("$FANOUT" status "$id2")" "detached: 0/1 done" "status shows the run going on"
"$FANOUT" resume "$id2" >/dev/null 2>"$TEST_TMP/resume2.err"
ok "$([ $? -ne 0 ]; echo $?)" "resume of a run set that runs detached is refused"
like "$(cat "$TEST_TMP/resume2.err")" "runs detached on its head.*fanout fetch $id2" \
    "saying where to follow it"
# The head dies: its supervisor at once; the run is stopped (its pool
# ends its task), with no one left to tell the bucket.
kill -9 "$(cat "$run2/supervise.pid")"
kill -TERM "$(cat "$run2/pid")"
wait_for 30 test -e "$run2/done"
"$FANOUT" fetch "$id2" >/dev/null 2>"$TEST_TMP/fetch2.err"
is 1 $? "fetch of a run that is not over exits 1"
like "$(cat "$TEST_TMP/fetch2.err")" "not done yet \(detached: 0/1 done \(the head's last word: 20[0-9-]+T[0-9:]+Z\)\)" \
    "saying how far it got, and when the head last wrote"
# What the bucket holds is checked before use: a damaged status object.
printf '{"state": "exploded", "done": -1}' |
    aws --endpoint-url "$MOTO_URL" s3 cp - "s3://$bucket/runs/$id2/status.json" >/dev/null
"$FANOUT" status "$id2" >"$TEST_TMP/status2.out" 2>&1
is 0 $? "status with a damaged status object still exits 0"
like "$(cat "$TEST_TMP/status2.out")" "cannot read the head's status \(s3://$bucket/runs/$id2/status.json is damaged: its state 'exploded' is not one fanout knows\)" \
    "and names the object and what is wrong with it"
"$FANOUT" fetch "$id2" >/dev/null 2>"$TEST_TMP/fetch2b.err"
is 1 $? "fetch refuses it (exit 1)"
is 1 "$(wc -l <"$TEST_TMP/fetch2b.err")" "with one line"
"$FANOUT" cleanup "$id2" --yes >/dev/null 2>"$TEST_TMP/cleanup2.err"
is 0 $? "cleanup of a run set whose head died exits 0"
is "terminated 0 0" "$(set_of "$id2")" "and leaves nothing of it"
like "$(aws --endpoint-url "$MOTO_URL" iam get-role --role-name "fanout-$id2" 2>&1)" "NoSuchEntity" \
    "not its instance role either"
is deleted "$(rec_get "$id2" 'r["state"]')" "the run set is recorded deleted"
done_testing
