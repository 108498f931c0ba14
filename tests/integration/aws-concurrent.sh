#!/bin/bash
# One command at a time on a run set: while a create is still making it
# (its RunInstances held at the proxy), cleanup ID, cleanup --all and
# resume refuse, naming the create's pid and command, and write nothing;
# once the create ends, a cleanup leaves nothing tagged with the run set
# (checked with the aws CLI). The same while a resume holds it.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-aws.sh"
plan_lazy

proj=$(example sleep)

# Instances and security groups tagged with run set $1, as the aws CLI
# sees them (instances that are not terminated).
left_of() {
	i=$(awsq ec2 describe-instances --filters "Name=tag:fanout:run-set,Values=$1" \
		"Name=instance-state-name,Values=pending,running,stopping,stopped,shutting-down" \
		--query 'Reservations[].Instances[].InstanceId' | wc -w)
	s=$(awsq ec2 describe-security-groups --filters "Name=tag:fanout:run-set,Values=$1" \
		--query 'SecurityGroups[].GroupId' | wc -w)
	k=$(awsq ec2 describe-key-pairs --filters "Name=tag:fanout:run-set,Values=$1" \
		--query 'KeyPairs[].KeyPairId' | wc -w)
	echo "$i $s $k"
}

# 1. A create held at RunInstances.
proxy_start --every 0 --hold "RunInstances=$TEST_TMP/release"
AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" create --no-run "$proj" --yes \
	>"$TEST_TMP/create.out" 2>"$TEST_TMP/create.err" &
cpid=$!
at_exit "kill $cpid 2>/dev/null"
wait_for 120 test -e "$TEST_TMP/release.held"
ok $? "the create reached RunInstances, and is held there"
id=$(newest_id)
like "$id" '^fo-' "the create has a record"
is "creating" "$(rec_get "$id" 'r["state"]')" "its state is creating"
sum=$(md5sum <"$FANOUT_HISTORY_DIR/$id.json")

"$FANOUT" cleanup "$id" --yes >/dev/null 2>"$TEST_TMP/cleanup1.err"
is 1 $? "cleanup ID while the create runs exits 1"
like "$(cat "$TEST_TMP/cleanup1.err")" "run set $id is in use by pid $cpid \\(create: .*fanout create --no-run .*\\); wait for that command to end" \
	"cleanup ID names the create's pid and command"
is 1 "$(wc -l <"$TEST_TMP/cleanup1.err")" "in one line"

"$FANOUT" cleanup --all --yes >/dev/null 2>"$TEST_TMP/cleanup2.err"
is 1 $? "cleanup --all while the create runs exits 1"
like "$(cat "$TEST_TMP/cleanup2.err")" "run set $id is in use by pid $cpid \\(create: " \
	"cleanup --all names the create's pid and command"

"$FANOUT" resume "$id" --yes </dev/null >/dev/null 2>"$TEST_TMP/resume1.err"
is 1 $? "resume while the create runs exits 1"
like "$(cat "$TEST_TMP/resume1.err")" "run set $id is in use by pid $cpid" \
	"resume names the holder"

is "$sum" "$(md5sum <"$FANOUT_HISTORY_DIR/$id.json")" "the refused commands wrote nothing"
is "creating" "$(rec_get "$id" 'r["state"]')" "the record still says creating"
is "0 1 1" "$(left_of "$id")" "key pair and group are there, no instance yet (aws CLI)"

touch "$TEST_TMP/release"
wait "$cpid"
ok $? "the create, released, exits 0"
is "$id" "$(cat "$TEST_TMP/create.out")" "and prints its id"
is "active" "$(rec_get "$id" 'r["state"]')" "its record is active"
is "1 1 1" "$(left_of "$id")" "one instance, one group, one key pair (aws CLI)"

# 2. A resume held at its first look-up.
proxy_stop
proxy_start --every 0 --hold "DescribeKeyPairs=$TEST_TMP/release2"
AWS_ENDPOINT_URL="$PROXY_URL" "$FANOUT" resume "$id" --no-run --yes </dev/null \
	>/dev/null 2>"$TEST_TMP/resume2.err" &
rpid=$!
at_exit "kill $rpid 2>/dev/null"
wait_for 120 test -e "$TEST_TMP/release2.held"
ok $? "a resume is held at its first look-up"
"$FANOUT" cleanup "$id" --yes >/dev/null 2>"$TEST_TMP/cleanup3.err"
is 1 $? "cleanup ID while the resume runs exits 1"
like "$(cat "$TEST_TMP/cleanup3.err")" "run set $id is in use by pid $rpid \\(resume: " \
	"and names the resume"
touch "$TEST_TMP/release2"
wait "$rpid"
ok $? "the resume, released, exits 0"

# 3. Free again: the cleanup goes through and nothing is left.
"$FANOUT" cleanup --all --yes >/dev/null 2>"$TEST_TMP/cleanup4.err"
ok $? "cleanup --all after the create exits 0"
is "deleted" "$(rec_get "$id" 'r["state"]')" "the record says deleted"
is "0 0 0" "$(left_of "$id")" "no instance, group or key pair of the run set is left (aws CLI)"
is "0 0 0" "$(tagged_counts)" "nothing fanout-tagged is left"
"$FANOUT" resume "$id" --yes </dev/null >/dev/null 2>"$TEST_TMP/resume3.err"
is 1 $? "resume of the cleaned-up run set exits 1"
like "$(cat "$TEST_TMP/resume3.err")" "was cleaned up" "and says so"
is "deleted" "$(rec_get "$id" 'r["state"]')" "the record still says deleted"
done_testing
